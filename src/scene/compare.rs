//! On hosts walked through their real state, what the plan has at the same point when it
//! differs: the route, neighbour or FDB entry, the device, the forwarding sysctl.

use std::net::IpAddr;

use crate::dataplane::{LinkKind, MacAddr, Route, RouteType};
use crate::trace::{Action, Expected, Hop, Path, Reason, Resolution, Trace, Verdict};
use crate::world::{Host, World};

/// On every hop of a host walked through real state, record what the plan (`plan`, the
/// same cluster's planned world) has at that point when it differs: the route, neighbour
/// or FDB entry, the device, the forwarding sysctl.
pub fn compare(trace: &mut Trace, world: &World, plan: &World) {
    compare_path(&mut trace.request, world, plan);
    if let Some(r) = &mut trace.reply {
        compare_path(r, world, plan);
    }
}

fn compare_path(path: &mut Path, world: &World, plan: &World) {
    let reason = match &path.verdict {
        Verdict::Dropped { reason, .. } => Some(reason.clone()),
        _ => None,
    };
    let last = path.hops.len().saturating_sub(1);
    for (i, hop) in path.hops.iter_mut().enumerate() {
        if !hop.source.is_real() {
            continue;
        }
        // The plan's world is built like the walked one: the host has the same name there.
        let (Some(id), Some(planned_id)) = (world.by_name(&hop.host), plan.by_name(&hop.host))
        else {
            continue;
        };
        if plan.kind(planned_id) != world.kind(id) {
            continue;
        }
        let planned = plan.host(planned_id);
        let drop_reason = if i == last { reason.as_ref() } else { None };
        hop.expected = expected_at(hop, planned, drop_reason);
    }
}

fn expected_at(hop: &Hop, plan: &Host, drop: Option<&Reason>) -> Option<Expected> {
    let dev = hop.device.as_deref().unwrap_or("");
    match &hop.action {
        Action::Route => {
            let actual = hop.route.as_ref()?;
            match plan.lookup(hop.dst) {
                Some(p) if same_decision(actual, p) => None,
                Some(p) => Some(planned_route(plan, p, hop.dst)),
                None => Some(Expected {
                    plan: format!("no route to {}", hop.dst),
                    why: None,
                    outcome: Some("the plan drops here: no route".into()),
                }),
            }
        }
        Action::Resolve {
            addr,
            mac,
            how: Resolution::Neighbour { .. },
        } => {
            let n = plan.neighbour(dev, *addr)?;
            (n.lladdr != *mac).then(|| Expected {
                plan: neighbour_text(*addr, dev, n.lladdr),
                why: Some("the CNI programs the remote VTEP's MAC as a permanent entry".into()),
                outcome: None,
            })
        }
        Action::Fdb { mac, dst } => {
            let f = plan.fdb(dev, *mac)?;
            (f.dst != Some(*dst) && f.mac == *mac).then(|| Expected {
                plan: fdb_text(f.mac, dev, f.dst),
                why: Some(
                    "the CNI maps each remote VTEP MAC to its node's underlay address".into(),
                ),
                outcome: None,
            })
        }
        Action::Drop => expected_for_drop(hop, plan, drop?),
        _ => None,
    }
}

fn expected_for_drop(hop: &Hop, plan: &Host, reason: &Reason) -> Option<Expected> {
    match reason {
        Reason::NoRoute { dst } => plan.lookup(*dst).map(|p| planned_route(plan, p, *dst)),
        Reason::ForwardingDisabled { dev } => plan.forwards(dev).then(|| Expected {
            plan: "net.ipv4.ip_forward = 1".into(),
            why: Some(
                "pod traffic is forwarded by the node: the CNI needs IP forwarding on".into(),
            ),
            outcome: None,
        }),
        Reason::NoNeighbour { addr, dev, .. } => {
            let n = plan.neighbour(dev, *addr)?;
            Some(Expected {
                plan: neighbour_text(*addr, dev, n.lladdr),
                why: Some("the CNI programs the remote VTEP's MAC as a permanent entry".into()),
                outcome: None,
            })
        }
        Reason::NoFdb { mac, dev } => {
            let f = plan.fdb(dev, *mac).filter(|f| f.mac == *mac)?;
            Some(Expected {
                plan: fdb_text(f.mac, dev, f.dst),
                why: Some(
                    "the CNI maps each remote VTEP MAC to its node's underlay address".into(),
                ),
                outcome: None,
            })
        }
        Reason::NoDevice { dev } | Reason::DeviceDown { dev } => {
            let l = plan.link(dev)?;
            l.up.then(|| Expected {
                plan: format!("{} ({}, mtu {}) up", l.name, l.kind.name(), l.mtu),
                why: None,
                outcome: None,
            })
        }
        Reason::VtepMacMismatch { dev, sent, .. } => {
            let mac = plan.link(dev)?.mac?;
            Some(Expected {
                plan: format!("{dev} with MAC {mac}"),
                why: Some(if mac == *sent {
                    format!(
                        "{dev}'s MAC changed (device re-created?) and the senders still use the old one: their CNI must re-program it"
                    )
                } else {
                    "the VTEP MAC the cluster advertises for this node".into()
                }),
                outcome: None,
            })
        }
        Reason::TooBig { dev, mtu, .. } => {
            let l = plan.link(dev)?;
            (l.mtu != *mtu && hop.size <= l.mtu).then(|| Expected {
                plan: format!("{dev} mtu {}", l.mtu),
                why: None,
                outcome: None,
            })
        }
        Reason::NoTunnelEndpoint { .. } => {
            let l = plan
                .state
                .links
                .iter()
                .find(|l| matches!(l.kind, LinkKind::Vxlan(_) | LinkKind::Ipip { .. }))?;
            Some(Expected {
                plan: format!("{} ({})", l.name, l.kind.name()),
                why: Some("the tunnel device the CNI creates to decapsulate".into()),
                outcome: None,
            })
        }
        _ => None,
    }
}

/// Two routes make the same forwarding decision: type, prefix, and every next hop's
/// gateway, device and onlink flag (protocol, metric and MTU aside).
fn same_decision(a: &Route, b: &Route) -> bool {
    a.kind == b.kind
        && a.dst == b.dst
        && a.nexthops.len() == b.nexthops.len()
        && a.nexthops.iter().zip(&b.nexthops).all(|(x, y)| {
            x.gateway == y.gateway && x.dev == y.dev && x.flags.onlink == y.flags.onlink
        })
}

fn planned_route(plan: &Host, p: &Route, dst: IpAddr) -> Expected {
    Expected {
        plan: p.to_string(),
        why: crate::explain::explain(p, Some(&plan.state.links)).map(|e| e.to_string()),
        outcome: plan_outcome(plan, p, dst),
    }
}

/// When the plan's own route drops the packet at this host: why.
fn plan_outcome(plan: &Host, r: &Route, dst: IpAddr) -> Option<String> {
    if r.kind.drops() {
        return Some(format!("the plan drops here ({} route)", r.kind.name()));
    }
    if r.kind != RouteType::Unicast {
        return None;
    }
    let nh = r.first_hop()?;
    let dev = nh.dev.as_deref()?;
    let Some(link) = plan.link(dev) else {
        return Some(format!("the plan drops here: it has no device {dev}"));
    };
    let tunnel = matches!(link.kind, LinkKind::Ipip { .. });
    let gw = nh.gateway.unwrap_or(dst);
    if nh.gateway.is_some() && !nh.flags.onlink && !tunnel {
        let connected = plan.lookup(gw).is_some_and(|c| {
            c.gateway().is_none() && c.dev() == Some(dev) && c.kind == RouteType::Unicast
        });
        if !connected {
            return Some(format!(
                "the kernel refuses this planned route: next hop {gw} is not on-link on {dev} (the plan's walk falls through to the next route)"
            ));
        }
    }
    None
}

fn neighbour_text(addr: IpAddr, dev: &str, mac: Option<MacAddr>) -> String {
    match mac {
        Some(m) => format!("{addr} dev {dev} lladdr {m} PERMANENT"),
        None => format!("{addr} dev {dev}"),
    }
}

fn fdb_text(mac: MacAddr, dev: &str, dst: Option<IpAddr>) -> String {
    match dst {
        Some(d) => format!("{mac} dev {dev} dst {d} self permanent"),
        None => format!("{mac} dev {dev} self permanent"),
    }
}
