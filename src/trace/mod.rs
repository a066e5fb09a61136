//! The expected path of a packet, hop by hop, through a [`World`] of node states: route
//! lookups (longest prefix through the prefix trie), neighbour and FDB resolution,
//! encapsulation and decapsulation, bridges, veths and the underlay, with TTL and MTU at
//! every device, until the packet is delivered or dropped (and why).
//!
//! [`walk`] is a pure function of the world and the packet; it works the same on planned
//! states (the plan's world) and on states read from real nodes (snapshots, the live
//! kernel). The walk knows only the [`World`]: it imports neither the plan nor the scene.

pub mod all;
pub mod endpoint;
mod path;
pub mod service;
#[cfg(test)]
mod tests;
pub mod timing;
mod walk;

use std::net::IpAddr;

use crate::world::{HostId, HostKind, World};
pub use endpoint::{Endpoint, resolve};
pub use path::{
    Action, Encap, Expected, Hop, KernelView, Packet, Path, Probe, Proto, Reason, Refusal,
    Resolution, Trace, Verdict,
};
pub use walk::walk;
use walk::{Dnat, Nat, walk_with};

/// The initial TTL of a packet (Linux default).
pub const DEFAULT_TTL: u8 = 64;

/// Trace SRC → DST and, when DST is modelled, the reply.
pub fn trace(world: &World, src: &Endpoint, dst: &Endpoint, probe: Probe) -> Trace {
    trace_nat(world, src, dst, probe, None)
}

/// [`trace`], the request addressed to a Service address that kube-proxy translates
/// (`dnat`) to DST on the first node it enters, when there is one.
fn trace_nat(
    world: &World,
    src: &Endpoint,
    dst: &Endpoint,
    probe: Probe,
    dnat: Option<Dnat>,
) -> Trace {
    let mut notes = Vec::new();
    notes.extend(src.note.iter().cloned());
    notes.extend(dst.note.iter().cloned());
    let sport = match probe.proto {
        Proto::Tcp | Proto::Udp => Some(40000),
        _ => None,
    };
    let Some(start) = src.host else {
        // Validated by the caller; a path that never starts.
        let pkt = packet(src.ip, dst.ip, probe, sport, probe.dport);
        return Trace {
            src: src.clone(),
            dst: dst.clone(),
            request: Path {
                from: src.label.clone(),
                packet: pkt,
                hops: Vec::new(),
                verdict: Verdict::Dropped {
                    host: src.label.clone(),
                    device: None,
                    reason: Reason::NoRoute {
                        dst: dst.ip.unwrap_or(pkt.dst),
                    },
                    after: None,
                },
            },
            reply: None,
            symmetric: None,
            notes,
        };
    };
    let dst_ip = dst
        .ip
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let request = match dnat {
        None => walk(
            world,
            start,
            packet(src.ip, Some(dst_ip), probe, sport, probe.dport),
        ),
        Some(d) => {
            let pkt = packet(src.ip, Some(d.vip), probe, sport, probe.dport);
            let nat = Nat {
                masquerade: true,
                dnat: Some(d),
                ..Nat::default()
            };
            walk_with(world, start, None, pkt, nat)
        }
    };
    let undnat = dnatted(world, &request);
    let reply_start = match (&request.verdict, dst.host) {
        (Verdict::Delivered { host }, _) => world.by_name(host),
        (_, Some(h)) => Some(h),
        _ => None,
    };
    let back = Packet {
        src: dst_ip,
        dst: request.packet.src,
        proto: probe.proto,
        sport: if matches!(probe.proto, Proto::Icmp) {
            None
        } else {
            undnat.map_or(probe.dport, |(_, _, _, _, to_port)| to_port)
        },
        dport: sport,
        size: probe.size,
        df: true,
        ttl: DEFAULT_TTL,
    };
    let reply = match (reply_start, dst.host) {
        (Some(h), Some(_)) => Some(inside_reply(world, h, &request, back, undnat, &mut notes)),
        _ => outside_reply(world, src, &request, back, undnat, &mut notes),
    };
    let symmetric = reply
        .as_ref()
        .filter(|r| r.verdict.ok() && request.verdict.ok())
        .map(|r| {
            let mut back = r.hosts();
            back.reverse();
            back == request.hosts()
        });
    if symmetric == Some(false) {
        notes.push("asymmetric: the reply crosses different hosts than the request".into());
    }
    Trace {
        src: src.clone(),
        dst: dst.clone(),
        request,
        reply,
        symmetric,
        notes,
    }
}

/// Where the request was masqueraded: the node, the source before and after, and the rule.
fn masqueraded(request: &Path) -> Option<(String, IpAddr, IpAddr, String)> {
    request.hops.iter().find_map(|h| match &h.action {
        Action::Masquerade { from, to, by } => Some((h.host.clone(), *from, *to, by.clone())),
        _ => None,
    })
}

/// Where the request was DNATed to a Service's endpoint: the node, the endpoint, the
/// Service address and port, and the endpoint's port.
type Dnatted = (HostId, IpAddr, IpAddr, Option<u16>, Option<u16>);

fn dnatted(world: &World, request: &Path) -> Option<Dnatted> {
    request.hops.iter().find_map(|h| match &h.action {
        Action::Dnat {
            from,
            from_port,
            to,
            to_port,
            ..
        } => Some((world.by_name(&h.host)?, *to, *from, *from_port, *to_port)),
        _ => None,
    })
}

/// The reply from a modelled destination, starting at `start`: part of the request's
/// connection, so no masquerade rule applies to it, and when a node masqueraded the request
/// (a pod to another node's address) it is addressed to the masqueraded source, which that
/// node's connection tracking turns back into the pod's.
fn inside_reply(
    world: &World,
    start: HostId,
    request: &Path,
    mut back: Packet,
    undnat: Option<Dnatted>,
    notes: &mut Vec<String>,
) -> Path {
    let mut nat = Nat {
        undnat: undnat.map(|(at, to, from, port, _)| (at, to, from, port)),
        ..Nat::default()
    };
    if let Some((node, from, to, by)) = masqueraded(request) {
        back.dst = to;
        nat.restore = world.by_name(&node).map(|n| (n, to, from));
        notes.push(format!(
            "{node} masquerades the request ({by}): the reply is addressed to {to}, and {node}'s connection tracking restores {from}"
        ));
    }
    walk_with(world, start, None, back, nat)
}

/// The reply from an outside destination: it comes back through the gateway the request
/// left by (the outside network is not modelled), addressed to the masqueraded source when
/// a node masqueraded the request, where conntrack restores the original source.
fn outside_reply(
    world: &World,
    src: &Endpoint,
    request: &Path,
    mut back: Packet,
    undnat: Option<Dnatted>,
    notes: &mut Vec<String>,
) -> Option<Path> {
    let (Verdict::Exited { host, gateway }, Some(exit)) = (&request.verdict, request.hops.last())
    else {
        let why = match world.pod_network(back.src) {
            Some(_) => format!("no pod has {}, so nothing answers", back.src),
            None => format!(
                "the request does not leave the cluster network, so {} never answers",
                back.src
            ),
        };
        notes.push(format!("no reply is traced: {why}"));
        return None;
    };
    let start = world.by_name(host)?;
    let dev = exit.device.clone()?;
    let masq = masqueraded(request);
    let mut restore = None;
    match &masq {
        Some((node, from, to, by)) => {
            back.dst = *to;
            restore = world.by_name(node).map(|n| (n, *to, *from));
            notes.push(format!(
                "{node} masquerades the request ({by}): the reply is addressed to {to}, and {node}'s connection tracking restores {from}"
            ));
        }
        None if src.kind == Some(HostKind::Pod) => notes.push(format!(
            "the request leaves with the pod's own address {} (no masquerade): the outside network must route it back to {gateway}; assumed",
            back.dst
        )),
        None => {}
    }
    notes.push(format!(
        "the reply from {} is assumed to come back through {gateway}, the gateway the request left by (the outside network is not modelled)",
        back.src
    ));
    let mut path = walk_with(
        world,
        start,
        Some((dev, *gateway)),
        back,
        Nat {
            masquerade: false,
            restore,
            entered: true,
            undnat: undnat.map(|(at, to, from, port, _)| (at, to, from, port)),
            dnat: None,
        },
    );
    path.from = format!("{} (outside, via {gateway})", back.src);
    Some(path)
}

fn packet(
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    probe: Probe,
    sport: Option<u16>,
    dport: Option<u16>,
) -> Packet {
    let any = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
    Packet {
        src: src.unwrap_or(any),
        dst: dst.unwrap_or(any),
        proto: probe.proto,
        sport,
        dport: if matches!(probe.proto, Proto::Icmp) {
            None
        } else {
            dport
        },
        size: probe.size,
        df: true,
        ttl: DEFAULT_TTL,
    }
}
