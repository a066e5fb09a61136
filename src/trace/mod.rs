//! The expected path of a packet, hop by hop, through a [`World`] of node states: route
//! lookups (longest prefix through the prefix trie), neighbour and FDB resolution,
//! encapsulation and decapsulation, bridges, veths and the underlay, with TTL and MTU at
//! every device, until the packet is delivered or dropped (and why).
//!
//! [`walk`] is a pure function of the world and the packet; it works the same on planned
//! states (`crate::plan::world`) and on states read from real nodes.

pub mod all;
pub mod endpoint;
pub mod real;
pub mod world;

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::dataplane::{LinkKind, MacAddr, NudState, Route, RouteType};
pub use endpoint::{Endpoint, resolve};
pub use world::{Host, HostId, HostKind, Masquerade, World};

/// The initial TTL of a packet (Linux default).
pub const DEFAULT_TTL: u8 = 64;
/// VXLAN overhead over an IPv4 underlay: outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8.
pub const VXLAN_OVERHEAD: u32 = 50;
/// IPIP overhead: the outer IPv4 header.
pub const IPIP_OVERHEAD: u32 = 20;
const MAX_STEPS: usize = 256;

/// Transport protocol of a probe (and IPIP for outer packets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP echo.
    Icmp,
    /// IP-in-IP (protocol 4), only as an outer header.
    #[value(skip)]
    Ipip,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Ipip => "ipip",
        })
    }
}

/// An IPv4 packet as the walk sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Packet {
    /// Source address (unspecified until the first route lookup picks one, for host-originated packets).
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Protocol.
    pub proto: Proto,
    /// Source port (TCP/UDP), if known.
    pub sport: Option<u16>,
    /// Destination port (TCP/UDP).
    pub dport: Option<u16>,
    /// Total IP length in bytes.
    pub size: u32,
    /// Don't Fragment.
    pub df: bool,
    /// Time to live.
    pub ttl: u8,
}

/// Encapsulation added or removed at a hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Encap {
    /// VXLAN: outer IPv4/UDP to `port`, VNI, inner Ethernet between VTEP MACs.
    Vxlan {
        /// VNI.
        vni: u32,
        /// UDP destination port.
        port: u16,
        /// Outer source.
        outer_src: IpAddr,
        /// Outer destination (the FDB entry's `dst`).
        outer_dst: IpAddr,
        /// Inner source MAC (the local VTEP).
        inner_src_mac: Option<MacAddr>,
        /// Inner destination MAC (the remote VTEP, from the neighbour entry).
        inner_dst_mac: MacAddr,
        /// Packet size after encapsulation.
        size: u32,
    },
    /// IP-in-IP (protocol 4).
    Ipip {
        /// Outer source.
        outer_src: IpAddr,
        /// Outer destination (the route's gateway).
        outer_dst: IpAddr,
        /// Packet size after encapsulation.
        size: u32,
    },
}

/// How a next hop's link-layer address was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Resolution {
    /// A neighbour entry (`ip neigh`) in that state.
    Neighbour {
        /// Its state.
        state: NudState,
    },
    /// ARP answered by the owner of the address.
    Arp {
        /// Who answered.
        owner: String,
        /// On which of its devices.
        device: String,
    },
    /// Proxy ARP by the host end of a veth (Calico's 169.254.1.1).
    ProxyArp {
        /// Who answered.
        owner: String,
        /// On which of its devices.
        device: String,
    },
}

/// What happens at one hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    /// The packet leaves its sender's stack.
    Send,
    /// The packet arrives on a device.
    Receive {
        /// The bridge the device is a port of (the packet enters the stack on the bridge).
        #[serde(skip_serializing_if = "Option::is_none")]
        bridge: Option<String>,
    },
    /// A route lookup; the matched route is the hop's `route`.
    Route,
    /// The next hop's MAC address.
    Resolve {
        /// The address resolved.
        addr: IpAddr,
        /// Its MAC.
        mac: Option<MacAddr>,
        /// How.
        how: Resolution,
    },
    /// A VXLAN FDB lookup: inner MAC → remote VTEP.
    Fdb {
        /// The MAC looked up.
        mac: MacAddr,
        /// The remote VTEP's underlay address.
        dst: IpAddr,
    },
    /// Encapsulation (the hop's `encap`).
    Encap,
    /// Decapsulation (the hop's `encap`).
    Decap,
    /// A bridge forwards the frame out of a port.
    Bridge {
        /// The port.
        port: String,
    },
    /// The packet leaves on a device towards the next host.
    Transmit {
        /// The next host.
        to_host: String,
        /// Its receiving device.
        to_device: String,
        /// The next-hop address the frame is addressed to.
        next_hop: IpAddr,
    },
    /// Delivered to the destination's stack.
    Deliver,
    /// The packet leaves the modelled network through a gateway outside it.
    Exit {
        /// The gateway.
        gateway: IpAddr,
    },
    /// The packet enters the modelled network from a gateway outside it (the reply from an
    /// outside address).
    Enter {
        /// The gateway.
        gateway: IpAddr,
    },
    /// Source NAT on the way out of the cluster network (MASQUERADE to the outgoing
    /// device's address).
    Masquerade {
        /// The source before.
        from: IpAddr,
        /// The source after.
        to: IpAddr,
        /// Who programs the rule (`flannel --ip-masq`, `Calico natOutgoing on pool …`).
        by: String,
    },
    /// The route the lookup matched first does not exist in the kernel: the kernel refused
    /// it (its gateway is not on-link), so the lookup falls through to the next route (the
    /// hop's `route` is the refused one).
    Refused {
        /// The gateway that is not on-link.
        gateway: IpAddr,
    },
    /// Connection tracking restores a masqueraded request's source as the reply's
    /// destination.
    Unmasquerade {
        /// The destination before.
        from: IpAddr,
        /// The destination after.
        to: IpAddr,
    },
    /// Dropped (see the path's verdict).
    Drop,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The host where it happens.
    pub host: String,
    /// Its kind.
    pub host_kind: HostKind,
    /// The device involved, if any.
    pub device: Option<String>,
    /// What happens.
    pub action: Action,
    /// The route matched (for `route` hops).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    /// The encapsulation (for `encap`/`decap` hops).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encap: Option<Encap>,
    /// The MTU that applies (device MTU, or the route's `mtu` when lower).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// The packet's TTL at this hop.
    pub ttl: u8,
    /// The packet's size at this hop (outer size when encapsulated).
    pub size: u32,
    /// Source and destination of the (outermost) packet at this hop.
    pub src: IpAddr,
    /// Destination.
    pub dst: IpAddr,
    /// How many tunnel headers wrap the packet here (0 = none).
    pub depth: usize,
    /// Where the host's state comes from: the plan, a snapshot, or the live kernel.
    pub source: real::Source,
    /// On a host walked through its real state: what the plan has here, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<real::Expected>,
    /// With `--live`: the kernel's own answer for this lookup (`ip route get … iif …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<real::KernelView>,
}

/// Why a packet was dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Reason {
    /// No route matches the destination.
    NoRoute {
        /// The destination.
        dst: IpAddr,
    },
    /// A blackhole route matches.
    Blackhole {
        /// The route, as `ip route` prints it.
        route: String,
    },
    /// An unreachable or prohibit route matches.
    Unreachable {
        /// The route.
        route: String,
    },
    /// The route's gateway is not on a connected subnet of its device and the route has no onlink.
    NextHopNotOnLink {
        /// The gateway.
        gateway: IpAddr,
        /// The device.
        dev: String,
    },
    /// Nobody answers ARP for the next hop, or the neighbour entry is missing/failed.
    NoNeighbour {
        /// The next hop.
        addr: IpAddr,
        /// The device.
        dev: String,
        /// Why.
        detail: String,
    },
    /// No FDB entry maps the remote VTEP MAC to an underlay address.
    NoFdb {
        /// The MAC.
        mac: MacAddr,
        /// The VXLAN device.
        dev: String,
    },
    /// The packet is larger than the MTU and has DF set.
    TooBig {
        /// Packet size.
        size: u32,
        /// MTU.
        mtu: u32,
        /// Device.
        dev: String,
    },
    /// TTL reached zero.
    TtlExpired,
    /// The packet came back to a host it had already crossed in the same state.
    RoutingLoop {
        /// The hosts of the loop.
        hosts: Vec<String>,
    },
    /// The host does not forward (ip_forward or the device's forwarding off).
    ForwardingDisabled {
        /// The receiving device.
        dev: String,
    },
    /// The reverse-path filter of the receiving device drops the packet: strict
    /// (`rp_filter=1`) and the route back to the source leaves by another device, or loose
    /// (`2`) and no route leads back to the source at all.
    RpFilter {
        /// The receiving device.
        dev: String,
        /// The packet's source.
        src: IpAddr,
        /// Strict (1) or loose (2).
        strict: bool,
        /// The route back to the source, when there is one.
        back: Option<String>,
    },
    /// The route names a device the host does not have.
    NoDevice {
        /// The device.
        dev: String,
    },
    /// The device is down.
    DeviceDown {
        /// The device.
        dev: String,
    },
    /// An encapsulated packet reached a host with no matching tunnel device.
    NoTunnelEndpoint {
        /// What was missing.
        detail: String,
    },
    /// The inner destination MAC is not the receiving VTEP's MAC (stale neighbour entry).
    VtepMacMismatch {
        /// The MAC the sender used.
        sent: MacAddr,
        /// The receiving device's MAC.
        actual: MacAddr,
        /// The receiving device.
        dev: String,
    },
    /// A packet for a host of the cluster leaves through a gateway outside it (the host
    /// lacks the route the CNI should have programmed; the default route takes it).
    Misrouted {
        /// The destination, a host of the cluster.
        dst: IpAddr,
        /// The outside gateway.
        gateway: IpAddr,
    },
    /// A veth whose other end is unknown.
    NoPeer {
        /// The device.
        dev: String,
    },
}

impl Reason {
    /// A short stable code (`next-hop-not-on-link` …) for grouping.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NoRoute { .. } => "no-route",
            Reason::Blackhole { .. } => "blackhole",
            Reason::Unreachable { .. } => "unreachable",
            Reason::NextHopNotOnLink { .. } => "next-hop-not-on-link",
            Reason::NoNeighbour { .. } => "no-neighbour",
            Reason::NoFdb { .. } => "no-fdb",
            Reason::TooBig { .. } => "too-big",
            Reason::TtlExpired => "ttl-expired",
            Reason::RoutingLoop { .. } => "routing-loop",
            Reason::ForwardingDisabled { .. } => "forwarding-disabled",
            Reason::RpFilter { .. } => "rp-filter",
            Reason::NoDevice { .. } => "no-device",
            Reason::DeviceDown { .. } => "device-down",
            Reason::NoTunnelEndpoint { .. } => "no-tunnel-endpoint",
            Reason::VtepMacMismatch { .. } => "vtep-mac-mismatch",
            Reason::Misrouted { .. } => "misrouted",
            Reason::NoPeer { .. } => "no-peer",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoRoute { dst } => write!(f, "no route to {dst}"),
            Reason::Blackhole { route } => write!(f, "blackhole route: {route}"),
            Reason::Unreachable { route } => write!(f, "unreachable route: {route}"),
            Reason::NextHopNotOnLink { gateway, dev } => write!(
                f,
                "next hop {gateway} is not on-link on {dev}: no connected route covers it and the route has no onlink flag (the kernel refuses such a route: host-gw and plain BGP need the nodes on one L2 segment)"
            ),
            Reason::NoNeighbour { addr, dev, detail } => {
                write!(f, "no neighbour for {addr} on {dev}: {detail}")
            }
            Reason::NoFdb { mac, dev } => write!(
                f,
                "no FDB entry on {dev} for VTEP MAC {mac}: the kernel does not know where to send the VXLAN packet"
            ),
            Reason::TooBig { size, mtu, dev } => write!(
                f,
                "packet of {size} bytes with DF exceeds {dev}'s MTU {mtu} (ICMP fragmentation needed)"
            ),
            Reason::TtlExpired => write!(f, "TTL expired"),
            Reason::RoutingLoop { hosts } => write!(f, "routing loop: {}", hosts.join(" → ")),
            Reason::ForwardingDisabled { dev } => write!(
                f,
                "forwarding is disabled for packets arriving on {dev} (net.ipv4.ip_forward / conf.{dev}.forwarding)"
            ),
            Reason::RpFilter {
                dev,
                src,
                strict,
                back,
            } => {
                let mode = if *strict { "strict, 1" } else { "loose, 2" };
                match back {
                    Some(back) => write!(
                        f,
                        "rp_filter ({mode}) on {dev} drops packets from {src}: the route back to {src} is `{back}`, not through {dev} (asymmetric path; set net.ipv4.conf.{dev}.rp_filter=2 or fix the return route)"
                    ),
                    None => write!(
                        f,
                        "rp_filter ({mode}) on {dev} drops packets from {src}: there is no route back to {src}"
                    ),
                }
            }
            Reason::NoDevice { dev } => write!(f, "the route's device {dev} does not exist"),
            Reason::DeviceDown { dev } => write!(f, "device {dev} is down"),
            Reason::NoTunnelEndpoint { detail } => f.write_str(detail),
            Reason::VtepMacMismatch { sent, actual, dev } => write!(
                f,
                "inner destination MAC {sent} is not {dev}'s MAC {actual}: the sender's neighbour entry is stale (VTEP MAC changed)"
            ),
            Reason::Misrouted { dst, gateway } => write!(
                f,
                "{dst} is in the cluster but the packet leaves through {gateway}, a gateway outside it: the host has no route of its own for {dst} (a CNI route is missing) and the default route takes it"
            ),
            Reason::NoPeer { dev } => write!(f, "the other end of veth {dev} is unknown"),
        }
    }
}

/// The reverse-path filter's verdict on a packet from `src` arriving on `dev`: `None`
/// when it passes (filter off, or the route back to `src` is a unicast route through `dev`,
/// or any unicast route in loose mode).
fn rp_filter_drop(host: &Host, dev: &str, src: IpAddr) -> Option<Reason> {
    let mode = host.rp_filter(dev);
    if mode == 0 {
        return None;
    }
    let back = host.lookup(src).filter(|r| r.kind == RouteType::Unicast);
    let passes = match back {
        None => false,
        Some(r) if mode == 1 => r.nexthops.iter().any(|h| h.dev.as_deref() == Some(dev)),
        Some(_) => true,
    };
    (!passes).then(|| Reason::RpFilter {
        dev: dev.to_string(),
        src,
        strict: mode == 1,
        back: host.lookup(src).map(|r| r.to_string()),
    })
}

/// A planned route the kernel refuses to install (its gateway is not on a connected subnet
/// and it has no onlink flag: `Network is unreachable`), which a packet met on its way: the
/// kernel used the next matching route instead, and the packet went on from there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The host whose plan has the route.
    pub host: String,
    /// The refused route, as `ip route` prints it.
    pub route: String,
    /// Its gateway.
    pub gateway: IpAddr,
    /// Its device.
    pub dev: String,
    /// The route the kernel used instead, as `ip route` prints it.
    pub instead: String,
}

impl Refusal {
    /// The root cause's code, for grouping with [`Reason::code`].
    pub fn code(&self) -> &'static str {
        "next-hop-not-on-link"
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}'s kernel refused the planned route `{}` (next hop {} is not on-link on {}: host-gw and plain BGP need the nodes on one L2 segment) and used `{}` instead",
            self.host, self.route, self.gateway, self.dev, self.instead
        )
    }
}

/// How a path ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// Delivered to the destination.
    Delivered {
        /// Where.
        host: String,
    },
    /// Left the modelled network through a gateway outside it.
    Exited {
        /// The last modelled host.
        host: String,
        /// The gateway.
        gateway: IpAddr,
    },
    /// Dropped.
    Dropped {
        /// Where.
        host: String,
        /// On which device, if one.
        device: Option<String>,
        /// Why.
        reason: Reason,
        /// The root cause upstream, when the packet got here only because a host's kernel
        /// refused a planned route and used another.
        #[serde(skip_serializing_if = "Option::is_none")]
        after: Option<Box<Refusal>>,
    },
}

impl Verdict {
    /// True unless dropped.
    pub fn ok(&self) -> bool {
        !matches!(self, Verdict::Dropped { .. })
    }
}

/// One direction of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Path {
    /// Where the packet starts.
    pub from: String,
    /// The packet as sent (with its chosen source address).
    pub packet: Packet,
    /// The hops.
    pub hops: Vec<Hop>,
    /// The outcome.
    pub verdict: Verdict,
}

impl Path {
    /// The routers and nodes crossed (where the packet was received), in order.
    pub fn hosts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for h in &self.hops {
            if h.host_kind != HostKind::Pod && out.last() != Some(&h.host.as_str()) {
                out.push(&h.host);
            }
        }
        out
    }
}

/// Request and reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// Source endpoint, as resolved.
    pub src: Endpoint,
    /// Destination endpoint, as resolved.
    pub dst: Endpoint,
    /// SRC → DST.
    pub request: Path,
    /// DST → SRC, when the destination is modelled.
    pub reply: Option<Path>,
    /// Whether the reply crosses the same hosts as the request, in reverse.
    pub symmetric: Option<bool>,
    /// Things to know when reading the trace.
    pub notes: Vec<String>,
}

impl Trace {
    /// True when every traced direction got through.
    pub fn ok(&self) -> bool {
        self.request.verdict.ok() && self.reply.as_ref().is_none_or(|r| r.verdict.ok())
    }
}

/// The shape of the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Protocol.
    pub proto: Proto,
    /// Destination port (TCP/UDP).
    pub dport: Option<u16>,
    /// Total IP size in bytes.
    pub size: u32,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            proto: Proto::Tcp,
            dport: Some(80),
            size: 64,
        }
    }
}

/// Trace SRC → DST and, when DST is modelled, the reply.
pub fn trace(world: &World, src: &Endpoint, dst: &Endpoint, probe: Probe) -> Trace {
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
    let request = walk(
        world,
        start,
        packet(src.ip, Some(dst_ip), probe, sport, probe.dport),
    );
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
            probe.dport
        },
        dport: sport,
        size: probe.size,
        df: true,
        ttl: DEFAULT_TTL,
    };
    let reply = match (reply_start, dst.host) {
        (Some(h), Some(_)) => Some(walk(world, h, back)),
        _ => outside_reply(world, src, &request, back, &mut notes),
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

/// The reply from an outside destination: it comes back through the gateway the request
/// left by (the outside network is not modelled), addressed to the masqueraded source when
/// a node masqueraded the request, where conntrack restores the original source.
fn outside_reply(
    world: &World,
    src: &Endpoint,
    request: &Path,
    mut back: Packet,
    notes: &mut Vec<String>,
) -> Option<Path> {
    let (Verdict::Exited { host, gateway }, Some(exit)) = (&request.verdict, request.hops.last())
    else {
        notes.push(format!(
            "no reply is traced: the request does not leave the cluster network, so {} never answers",
            back.src
        ));
        return None;
    };
    let start = world.by_name(host)?;
    let dev = exit.device.clone()?;
    let masq = request.hops.iter().find_map(|h| match &h.action {
        Action::Masquerade { from, to, by } => Some((h.host.clone(), *from, *to, by.clone())),
        _ => None,
    });
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
        },
    );
    path.from = format!("{} (outside, via {gateway})", back.src);
    Some(path)
}

/// True when the kernel refuses to install `r` on `host`: a gateway that no connected route
/// of its device covers, without onlink (`Network is unreachable`); tunnels excepted.
fn refused_by_kernel(host: &Host, r: &Route) -> bool {
    if r.kind != RouteType::Unicast {
        return false;
    }
    let Some(nh) = r.first_hop() else {
        return false;
    };
    let (Some(gw), Some(dev)) = (nh.gateway, nh.dev.as_deref()) else {
        return false;
    };
    if nh.flags.onlink
        || host
            .link(dev)
            .is_none_or(|l| matches!(l.kind, LinkKind::Ipip { .. }))
    {
        return false;
    }
    !host.lookup(gw).is_some_and(|c| {
        c.gateway().is_none() && c.dev() == Some(dev) && c.kind == RouteType::Unicast
    })
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

/// A packet inside a tunnel, waiting for decapsulation.
struct Inner {
    pkt: Packet,
    encap: Encap,
}

struct Walker<'w, 'a> {
    world: &'w World<'a>,
    hops: Vec<Hop>,
    host: HostId,
    in_dev: Option<String>,
    pkt: Packet,
    stack: Vec<Inner>,
    nat: Nat,
    refused: Option<Refusal>,
}

/// Address translation along a walk.
#[derive(Debug, Clone, Copy, Default)]
struct Nat {
    /// Apply the nodes' masquerade rules (a request to an outside destination).
    masquerade: bool,
    /// Connection tracking on host `.0` turns destination `.1` back into `.2` (the reply to
    /// a masqueraded request).
    restore: Option<(HostId, IpAddr, IpAddr)>,
    /// The packet came in from outside the modelled network.
    entered: bool,
}

enum Step {
    Continue,
    Done(Verdict),
}

/// Walk one packet from host `start` until it is delivered, leaves, or is dropped.
pub fn walk(world: &World, start: HostId, packet: Packet) -> Path {
    // Packets for addresses outside the modelled network meet the nodes' masquerade rules.
    let nat = Nat {
        masquerade: world.owners(packet.dst).is_empty(),
        restore: None,
        entered: false,
    };
    walk_with(world, start, None, packet, nat)
}

/// Walk a packet that starts on host `start`: sent by it, or, with `entry`, received on
/// device `.0` from the outside gateway `.1`.
fn walk_with(
    world: &World,
    start: HostId,
    entry: Option<(String, IpAddr)>,
    packet: Packet,
    nat: Nat,
) -> Path {
    let mut w = Walker {
        world,
        hops: Vec::with_capacity(16),
        host: start,
        in_dev: None,
        pkt: packet,
        stack: Vec::new(),
        nat,
        refused: None,
    };
    let mut seen: HashMap<(HostId, usize, IpAddr, IpAddr), usize> = HashMap::new();
    let mut sent = false;
    let mut first_src_pending = packet.src.is_unspecified();
    let mut verdict = None;
    for _ in 0..MAX_STEPS {
        let key = (w.host, w.stack.len(), w.pkt.src, w.pkt.dst);
        if let Some(&at) = seen.get(&key) {
            let mut hosts: Vec<String> = w.hops[at..].iter().map(|h| h.host.clone()).collect();
            hosts.dedup();
            hosts.push(w.world.name(w.host).to_string());
            verdict = Some(w.drop(None, Reason::RoutingLoop { hosts }));
            break;
        }
        seen.insert(key, w.hops.len());
        if !sent {
            sent = true;
            match &entry {
                None => {
                    w.hop(None, Action::Send);
                }
                Some((dev, gateway)) => {
                    w.hop(Some(dev), Action::Enter { gateway: *gateway });
                    let bridge = world.host(start).link(dev).and_then(|l| l.master.clone());
                    w.in_dev = Some(bridge.clone().unwrap_or_else(|| dev.clone()));
                    w.hop(Some(dev), Action::Receive { bridge });
                }
            }
        }
        match w.step(&mut first_src_pending) {
            Step::Continue => {}
            Step::Done(v) => {
                verdict = Some(v);
                break;
            }
        }
    }
    let verdict = verdict.unwrap_or_else(|| w.drop(None, Reason::TtlExpired));
    let mut pkt = packet;
    if let Some(h) = w
        .hops
        .iter()
        .find(|h| h.depth == 0 && !h.src.is_unspecified())
    {
        pkt.src = h.src;
    }
    Path {
        from: world.name(start).to_string(),
        packet: pkt,
        hops: w.hops,
        verdict,
    }
}

impl Walker<'_, '_> {
    fn hop(&mut self, device: Option<&str>, action: Action) -> &mut Hop {
        self.hops.push(Hop {
            host: self.world.name(self.host).to_string(),
            host_kind: self.world.kind(self.host),
            device: device.map(str::to_string),
            action,
            route: None,
            encap: None,
            mtu: None,
            ttl: self.pkt.ttl,
            size: self.pkt.size,
            src: self.pkt.src,
            dst: self.pkt.dst,
            depth: self.stack.len(),
            source: self.world.source(self.host),
            expected: None,
            kernel: None,
        });
        let last = self.hops.len() - 1;
        &mut self.hops[last]
    }

    fn drop(&mut self, device: Option<&str>, reason: Reason) -> Verdict {
        self.hop(device, Action::Drop);
        Verdict::Dropped {
            host: self.world.name(self.host).to_string(),
            device: device.map(str::to_string),
            reason,
            after: self.refused.clone().map(Box::new),
        }
    }

    fn step(&mut self, first_src_pending: &mut bool) -> Step {
        let world = self.world;
        if let Some((at, to, from)) = self.nat.restore {
            if at == self.host && self.stack.is_empty() && self.pkt.dst == to {
                self.nat.restore = None;
                let dev = self.in_dev.clone();
                self.hop(dev.as_deref(), Action::Unmasquerade { from: to, to: from });
                self.pkt.dst = from;
            }
        }
        let host = world.host(self.host);
        // 0. The reverse-path filter of the receiving device (the kernel checks it in the
        // input route lookup, for local delivery and forwarding alike).
        if let Some(dev) = self.in_dev.clone() {
            if let Some(reason) = rp_filter_drop(host, &dev, self.pkt.src) {
                return Step::Done(self.drop(Some(&dev), reason));
            }
        }
        // 1. Is it for this host?
        if host.owns(self.pkt.dst).is_some() {
            return self.local_delivery();
        }
        // 2. Forwarding.
        if let Some(dev) = self.in_dev.clone() {
            if !host.forwards(&dev) {
                return Step::Done(
                    self.drop(Some(&dev), Reason::ForwardingDisabled { dev: dev.clone() }),
                );
            }
            if self.pkt.ttl <= 1 {
                return Step::Done(self.drop(Some(&dev), Reason::TtlExpired));
            }
            self.pkt.ttl -= 1;
        }
        // 3. Route lookup. A planned route the kernel would have refused does not exist:
        // the kernel's lookup falls through to the next route (often the default route).
        let Some(mut route) = host.lookup(self.pkt.dst) else {
            let dst = self.pkt.dst;
            return Step::Done(self.drop(None, Reason::NoRoute { dst }));
        };
        if !world.source(self.host).is_real() && refused_by_kernel(host, route) {
            let gateway = route.gateway().unwrap_or(self.pkt.dst);
            let dev = route.dev().unwrap_or_default().to_string();
            let h = self.hop(Some(&dev), Action::Refused { gateway });
            h.route = Some(route.clone());
            let next = host.lookup_where(self.pkt.dst, &|r| !refused_by_kernel(host, r));
            if self.refused.is_none() {
                self.refused = Some(Refusal {
                    host: world.name(self.host).to_string(),
                    route: route.to_string(),
                    gateway,
                    dev: dev.clone(),
                    instead: next.map_or_else(|| "no route".into(), |r| r.to_string()),
                });
            }
            let Some(next) = next else {
                let dst = self.pkt.dst;
                return Step::Done(self.drop(None, Reason::NoRoute { dst }));
            };
            route = next;
        }
        let dev = route.dev().map(str::to_string);
        if *first_src_pending {
            *first_src_pending = false;
            self.pkt.src = route
                .prefsrc
                .or_else(|| {
                    dev.as_deref()
                        .and_then(|d| host.addrs_on(d).next())
                        .map(|a| a.addr.ip())
                })
                .or_else(|| world.primary_ip(self.host))
                .unwrap_or(self.pkt.src);
        }
        let h = self.hop(dev.as_deref(), Action::Route);
        h.route = Some(route.clone());
        match route.kind {
            RouteType::Unicast => {}
            RouteType::Blackhole => {
                let route = route.to_string();
                return Step::Done(self.drop(None, Reason::Blackhole { route }));
            }
            RouteType::Local => return self.local_delivery(),
            _ => {
                let route = route.to_string();
                return Step::Done(self.drop(None, Reason::Unreachable { route }));
            }
        }
        let Some(dev) = dev else {
            let dst = self.pkt.dst;
            return Step::Done(self.drop(None, Reason::NoRoute { dst }));
        };
        let Some(link) = host.link(&dev) else {
            return Step::Done(self.drop(Some(&dev), Reason::NoDevice { dev: dev.clone() }));
        };
        if !link.up {
            return Step::Done(self.drop(Some(&dev), Reason::DeviceDown { dev: dev.clone() }));
        }
        let nh = route.first_hop().cloned().unwrap_or_default();
        let gw = nh.gateway.unwrap_or(self.pkt.dst);
        let is_tunnel = matches!(link.kind, LinkKind::Ipip { .. });
        if nh.gateway.is_some() && !nh.flags.onlink && !is_tunnel {
            let connected = host.lookup(gw).is_some_and(|r| {
                r.gateway().is_none()
                    && r.dev() == Some(dev.as_str())
                    && r.kind == RouteType::Unicast
            });
            if !connected {
                return Step::Done(self.drop(
                    Some(&dev),
                    Reason::NextHopNotOnLink {
                        gateway: gw,
                        dev: dev.clone(),
                    },
                ));
            }
        }
        let mtu = route.mtu.map_or(link.mtu, |m| m.min(link.mtu));
        if let Some(last) = self.hops.last_mut() {
            last.mtu = Some(mtu);
            last.ttl = self.pkt.ttl;
            last.src = self.pkt.src;
        }
        if self.pkt.size > mtu && self.pkt.df {
            let size = self.pkt.size;
            return Step::Done(self.drop(
                Some(&dev),
                Reason::TooBig {
                    size,
                    mtu,
                    dev: dev.clone(),
                },
            ));
        }
        match &link.kind {
            LinkKind::Vxlan(v) => self.vxlan_out(&dev, gw, v.vni, v.port, v.local, link.mac),
            LinkKind::Ipip { local, remote } => self.ipip_out(&dev, nh.gateway, *local, *remote),
            // A veth wired to no modelled host (a real node's uplink, as in kind clusters)
            // leads to its segment like any Ethernet device.
            LinkKind::Veth(_) if world.veth_peer(self.host, &dev).is_none() => {
                self.segment_out(&dev, gw, mtu)
            }
            LinkKind::Veth(_) => self.veth_out(&dev, gw, mtu),
            LinkKind::Bridge => self.bridge_out(&dev, gw, mtu),
            _ => self.segment_out(&dev, gw, mtu),
        }
    }

    fn local_delivery(&mut self) -> Step {
        if let Some(inner) = self.stack.pop() {
            let host = self.world.host(self.host);
            let tunnel = match &inner.encap {
                Encap::Vxlan {
                    vni,
                    port,
                    inner_dst_mac,
                    ..
                } => {
                    let dev = host.state.links.iter().find(|l| {
                        matches!(&l.kind, LinkKind::Vxlan(v) if v.port == *port && v.vni == *vni)
                    });
                    match dev {
                        None => {
                            let any_port =
                                host.state.links.iter().any(
                                    |l| matches!(&l.kind, LinkKind::Vxlan(v) if v.port == *port),
                                );
                            let detail = if any_port {
                                format!("no VXLAN device with VNI {vni} on UDP port {port}")
                            } else {
                                format!("no VXLAN device listens on UDP port {port}")
                            };
                            self.stack.push(inner);
                            return Step::Done(
                                self.drop(None, Reason::NoTunnelEndpoint { detail }),
                            );
                        }
                        Some(l) => {
                            if let Some(actual) = l.mac.filter(|m| m != inner_dst_mac) {
                                let (sent, dev) = (*inner_dst_mac, l.name.clone());
                                self.stack.push(inner);
                                return Step::Done(self.drop(
                                    Some(&dev),
                                    Reason::VtepMacMismatch {
                                        sent,
                                        actual,
                                        dev: dev.clone(),
                                    },
                                ));
                            }
                            l.name.clone()
                        }
                    }
                }
                Encap::Ipip {
                    outer_src,
                    outer_dst,
                    ..
                } => {
                    let dev = host
                        .state
                        .links
                        .iter()
                        .filter(|l| matches!(&l.kind, LinkKind::Ipip { local, remote } if local.is_none_or(|a| a == *outer_dst) && remote.is_none_or(|a| a == *outer_src)))
                        .max_by_key(|l| matches!(&l.kind, LinkKind::Ipip { local: Some(_), .. }));
                    match dev {
                        Some(l) => l.name.clone(),
                        None => {
                            self.stack.push(inner);
                            return Step::Done(self.drop(
                                None,
                                Reason::NoTunnelEndpoint {
                                    detail: "no IPIP device (tunl0, flannel.ipip) to decapsulate protocol 4".into(),
                                },
                            ));
                        }
                    }
                }
            };
            let h = self.hop(Some(&tunnel), Action::Decap);
            h.encap = Some(inner.encap.clone());
            self.pkt = inner.pkt;
            self.in_dev = Some(tunnel.clone());
            self.hop(Some(&tunnel), Action::Receive { bridge: None });
            return Step::Continue;
        }
        let dev = self
            .world
            .host(self.host)
            .owns(self.pkt.dst)
            .map(|a| a.dev.clone());
        self.hop(dev.as_deref(), Action::Deliver);
        Step::Done(Verdict::Delivered {
            host: self.world.name(self.host).to_string(),
        })
    }

    fn vxlan_out(
        &mut self,
        dev: &str,
        gw: IpAddr,
        vni: u32,
        port: u16,
        local: Option<IpAddr>,
        mac: Option<MacAddr>,
    ) -> Step {
        let host = self.world.host(self.host);
        let Some(n) = host
            .neighbour(dev, gw)
            .filter(|n| n.state.resolves() && n.lladdr.is_some())
        else {
            return Step::Done(self.drop(
                Some(dev),
                Reason::NoNeighbour {
                    addr: gw,
                    dev: dev.into(),
                    detail: "VXLAN devices with nolearning need a permanent neighbour entry for the remote VTEP (flannel/Felix program it)".into(),
                },
            ));
        };
        let (state, remote_mac) = (n.state, n.lladdr.unwrap_or_default());
        self.hop(
            Some(dev),
            Action::Resolve {
                addr: gw,
                mac: Some(remote_mac),
                how: Resolution::Neighbour { state },
            },
        );
        let Some(fdb_dst) = host.fdb(dev, remote_mac).and_then(|f| f.dst) else {
            return Step::Done(self.drop(
                Some(dev),
                Reason::NoFdb {
                    mac: remote_mac,
                    dev: dev.into(),
                },
            ));
        };
        self.hop(
            Some(dev),
            Action::Fdb {
                mac: remote_mac,
                dst: fdb_dst,
            },
        );
        let outer_src = local
            .or_else(|| host.lookup(fdb_dst).and_then(|r| r.prefsrc))
            .or_else(|| self.world.primary_ip(self.host))
            .unwrap_or(self.pkt.src);
        let size = self.pkt.size + VXLAN_OVERHEAD;
        let encap = Encap::Vxlan {
            vni,
            port,
            outer_src,
            outer_dst: fdb_dst,
            inner_src_mac: mac,
            inner_dst_mac: remote_mac,
            size,
        };
        let h = self.hop(Some(dev), Action::Encap);
        h.encap = Some(encap.clone());
        let inner = self.pkt;
        self.stack.push(Inner { pkt: inner, encap });
        self.pkt = Packet {
            src: outer_src,
            dst: fdb_dst,
            proto: Proto::Udp,
            sport: None,
            dport: Some(port),
            size,
            df: false,
            ttl: DEFAULT_TTL,
        };
        self.in_dev = None;
        Step::Continue
    }

    fn ipip_out(
        &mut self,
        dev: &str,
        gateway: Option<IpAddr>,
        local: Option<IpAddr>,
        remote: Option<IpAddr>,
    ) -> Step {
        let Some(outer_dst) = remote.or(gateway) else {
            return Step::Done(self.drop(
                Some(dev),
                Reason::NoTunnelEndpoint {
                    detail: format!("{dev} has no remote and the route no gateway: no outer destination for IPIP"),
                },
            ));
        };
        let host = self.world.host(self.host);
        let outer_src = local
            .or_else(|| host.lookup(outer_dst).and_then(|r| r.prefsrc))
            .or_else(|| self.world.primary_ip(self.host))
            .unwrap_or(self.pkt.src);
        let size = self.pkt.size + IPIP_OVERHEAD;
        let encap = Encap::Ipip {
            outer_src,
            outer_dst,
            size,
        };
        let h = self.hop(Some(dev), Action::Encap);
        h.encap = Some(encap.clone());
        let inner = self.pkt;
        self.stack.push(Inner { pkt: inner, encap });
        self.pkt = Packet {
            src: outer_src,
            dst: outer_dst,
            proto: Proto::Ipip,
            sport: None,
            dport: None,
            size,
            df: false,
            ttl: inner.ttl,
        };
        self.in_dev = None;
        Step::Continue
    }

    fn arrive(&mut self, to: HostId, to_dev: &str, next_hop: IpAddr, from_dev: &str, mtu: u32) {
        let to_name = self.world.name(to).to_string();
        let h = self.hop(
            Some(from_dev),
            Action::Transmit {
                to_host: to_name,
                to_device: to_dev.into(),
                next_hop,
            },
        );
        h.mtu = Some(mtu);
        self.host = to;
        let bridge = self
            .world
            .host(to)
            .link(to_dev)
            .and_then(|l| l.master.clone());
        self.in_dev = Some(bridge.clone().unwrap_or_else(|| to_dev.to_string()));
        self.hop(Some(to_dev), Action::Receive { bridge });
    }

    fn veth_out(&mut self, dev: &str, gw: IpAddr, mtu: u32) -> Step {
        let Some((peer, peer_dev)) = self.world.veth_peer(self.host, dev) else {
            return Step::Done(self.drop(Some(dev), Reason::NoPeer { dev: dev.into() }));
        };
        let peer_dev = peer_dev.to_string();
        let me = self.world.host(self.host);
        let ph = self.world.host(peer);
        let peer_name = self.world.name(peer).to_string();
        let master = ph.link(&peer_dev).and_then(|l| l.master.clone());
        let static_entry = me
            .neighbour(dev, gw)
            .filter(|n| n.state.resolves())
            .map(|n| (n.state, n.lladdr));
        let how = if let Some((state, mac)) = static_entry {
            Some((mac, Resolution::Neighbour { state }))
        } else if let Some(br) = &master {
            // The peer is a bridge port: whoever is on the bridge answers.
            if ph.owns(gw).is_some_and(|a| &a.dev == br) {
                Some((
                    ph.link(br).and_then(|l| l.mac),
                    Resolution::Arp {
                        owner: peer_name.clone(),
                        device: br.clone(),
                    },
                ))
            } else if let Some((port, pod)) = self.bridge_port_for(peer, br, gw) {
                // Another pod on the same bridge: switched, not routed.
                self.arrive(peer, &peer_dev, gw, dev, mtu);
                let br = br.clone();
                return self.switch(peer, &br, &port, pod, gw, mtu);
            } else {
                None
            }
        } else if ph.owns(gw).is_some() {
            Some((
                ph.link(&peer_dev).and_then(|l| l.mac),
                Resolution::Arp {
                    owner: peer_name.clone(),
                    device: peer_dev.clone(),
                },
            ))
        } else if ph.proxy_arp(&peer_dev) {
            match ph.lookup(gw) {
                Some(r) if r.kind == RouteType::Unicast && r.dev() != Some(peer_dev.as_str()) => {
                    Some((
                        ph.link(&peer_dev).and_then(|l| l.mac),
                        Resolution::ProxyArp {
                            owner: peer_name.clone(),
                            device: peer_dev.clone(),
                        },
                    ))
                }
                _ => {
                    return Step::Done(self.drop(
                        Some(dev),
                        Reason::NoNeighbour {
                            addr: gw,
                            dev: dev.into(),
                            detail: format!("proxy ARP on {peer_name} {peer_dev} only answers when the host has a route to {gw} (normally its default route; calico#3270)"),
                        },
                    ));
                }
            }
        } else {
            None
        };
        let Some((mac, how)) = how else {
            return Step::Done(self.drop(
                Some(dev),
                Reason::NoNeighbour {
                    addr: gw,
                    dev: dev.into(),
                    detail: format!("{peer_name} does not have {gw} on {peer_dev} and does not answer ARP for it"),
                },
            ));
        };
        self.hop(Some(dev), Action::Resolve { addr: gw, mac, how });
        self.arrive(peer, &peer_dev, gw, dev, mtu);
        Step::Continue
    }

    /// The port of bridge `br` on `host` behind which `ip` lives, and the host there.
    fn bridge_port_for(&self, host: HostId, br: &str, ip: IpAddr) -> Option<(String, HostId)> {
        let h = self.world.host(host);
        self.world.owners(ip).iter().find_map(|o| {
            let (peer, port) = self.world.veth_peer(o.host, &o.dev)?;
            (peer == host && h.link(port).and_then(|l| l.master.as_deref()) == Some(br))
                .then(|| (port.to_string(), o.host))
        })
    }

    fn switch(
        &mut self,
        bridge_host: HostId,
        bridge: &str,
        port: &str,
        to: HostId,
        ip: IpAddr,
        mtu: u32,
    ) -> Step {
        self.host = bridge_host;
        self.hop(Some(bridge), Action::Bridge { port: port.into() });
        let to_dev = self
            .world
            .owners(ip)
            .iter()
            .find(|o| o.host == to)
            .map(|o| o.dev.clone())
            .unwrap_or_else(|| "eth0".into());
        self.arrive(to, &to_dev, ip, port, mtu);
        Step::Continue
    }

    fn bridge_out(&mut self, dev: &str, gw: IpAddr, mtu: u32) -> Step {
        match self.bridge_port_for(self.host, dev, gw) {
            Some((port, to)) => {
                let name = self.world.name(to).to_string();
                let mac = self.world.host(to).link("eth0").and_then(|l| l.mac);
                self.hop(
                    Some(dev),
                    Action::Resolve {
                        addr: gw,
                        mac,
                        how: Resolution::Arp {
                            owner: name,
                            device: "eth0".into(),
                        },
                    },
                );
                let here = self.host;
                self.switch(here, dev, &port, to, gw, mtu)
            }
            None => Step::Done(self.drop(
                Some(dev),
                Reason::NoNeighbour {
                    addr: gw,
                    dev: dev.into(),
                    detail: format!("no port of bridge {dev} leads to {gw}"),
                },
            )),
        }
    }

    /// A host walked through its real state sends a packet for a pod of the cluster to a
    /// gateway outside it: its route for the pod network is missing. (The plan always has
    /// one; an outside gateway may still carry node-to-node traffic.)
    /// A reply that came in from outside and goes out again is misrouted whatever the
    /// host: it is addressed to a host of the cluster; so is a packet for a pod that a
    /// refused route sent the default way out.
    fn misrouted(&self) -> bool {
        let owners = self.world.owners(self.pkt.dst);
        (self.nat.entered && !owners.is_empty())
            || (self.refused.is_some()
                && self.stack.is_empty()
                && owners
                    .iter()
                    .any(|o| self.world.kind(o.host) == HostKind::Pod))
            || (self.world.source(self.host).is_real()
                && owners
                    .iter()
                    .any(|o| self.world.kind(o.host) == HostKind::Pod))
    }

    /// A node's masquerade rule on a packet leaving on `dev` towards `gw`: the source
    /// becomes the device's address (the one on `gw`'s subnet, else its first).
    fn masquerade(&mut self, dev: &str, gw: IpAddr) {
        if !self.nat.masquerade
            || !self.stack.is_empty()
            || self.world.kind(self.host) != HostKind::Node
        {
            return;
        }
        let Some(rule) = self
            .world
            .masquerade(self.host)
            .filter(|m| m.applies(self.pkt.src, self.pkt.dst))
        else {
            return;
        };
        let me = self.world.host(self.host);
        let Some(to) = me
            .addrs_on(dev)
            .find(|a| a.addr.contains(gw))
            .or_else(|| me.addrs_on(dev).next())
            .map(|a| a.addr.ip())
        else {
            return;
        };
        let (from, by) = (self.pkt.src, rule.by.clone());
        self.hop(Some(dev), Action::Masquerade { from, to, by });
        self.pkt.src = to;
    }

    fn segment_out(&mut self, dev: &str, gw: IpAddr, mtu: u32) -> Step {
        self.masquerade(dev, gw);
        let me = self.world.host(self.host);
        if let Some(n) = me.neighbour(dev, gw) {
            if !n.state.resolves() {
                let state = n.state;
                return Step::Done(self.drop(
                    Some(dev),
                    Reason::NoNeighbour {
                        addr: gw,
                        dev: dev.into(),
                        detail: format!("the neighbour entry is {state:?}"),
                    },
                ));
            }
        }
        match self.world.arp_on_segment(self.host, dev, gw) {
            Some(a) => {
                let (to, to_dev) = (a.host, a.dev.clone());
                let owner = self.world.name(to).to_string();
                let mac = self.world.host(to).link(&to_dev).and_then(|l| l.mac);
                let how = match me.neighbour(dev, gw) {
                    Some(n) => Resolution::Neighbour { state: n.state },
                    None => Resolution::Arp {
                        owner,
                        device: to_dev.clone(),
                    },
                };
                self.hop(Some(dev), Action::Resolve { addr: gw, mac, how });
                self.arrive(to, &to_dev, gw, dev, mtu);
                Step::Continue
            }
            None if self.world.is_exit(gw) && self.misrouted() => {
                let dst = self.pkt.dst;
                Step::Done(self.drop(Some(dev), Reason::Misrouted { dst, gateway: gw }))
            }
            None if self.world.is_exit(gw) => {
                self.hop(Some(dev), Action::Exit { gateway: gw });
                Step::Done(Verdict::Exited {
                    host: self.world.name(self.host).to_string(),
                    gateway: gw,
                })
            }
            None => Step::Done(self.drop(
                Some(dev),
                Reason::NoNeighbour {
                    addr: gw,
                    dev: dev.into(),
                    detail: format!("nobody on {dev}'s segment has {gw} (ARP fails)"),
                },
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::{Addr, Link, Nexthop, NodeState, Scope};
    use crate::model::demo;

    fn host(name: &str, addr: &str, routes: Vec<Route>) -> NodeState {
        NodeState {
            node: name.into(),
            links: vec![Link {
                ifindex: 2,
                ..Link::up("eth0", LinkKind::Device, 1500)
            }],
            addrs: vec![Addr {
                dev: "eth0".into(),
                addr: addr.parse().unwrap(),
                scope: Scope::Universe,
            }],
            routes,
            ..Default::default()
        }
    }

    fn r(dst: &str, via: Option<&str>) -> Route {
        match via {
            Some(g) => Route::unicast(
                dst.parse().unwrap(),
                Nexthop::via(g.parse().unwrap(), "eth0"),
            ),
            None => Route::unicast(dst.parse().unwrap(), Nexthop::dev("eth0")),
        }
    }

    /// The walk runs on plain snapshots too: two routers sending 10.9.0.0/16 to each other.
    #[test]
    fn snapshot_world_routing_loop() {
        let a = host(
            "a",
            "10.0.0.1/24",
            vec![r("10.0.0.0/24", None), r("10.9.0.0/16", Some("10.0.0.2"))],
        );
        let b = host(
            "b",
            "10.0.0.2/24",
            vec![r("10.0.0.0/24", None), r("0.0.0.0/0", Some("10.0.0.1"))],
        );
        let w = World::from_states(vec![
            (a, HostKind::Router, None),
            (b, HostKind::Router, None),
        ]);
        let pkt = Packet {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.9.1.1".parse().unwrap(),
            proto: Proto::Udp,
            sport: None,
            dport: Some(53),
            size: 64,
            df: true,
            ttl: DEFAULT_TTL,
        };
        let p = walk(&w, 0, pkt);
        let Verdict::Dropped {
            reason: Reason::RoutingLoop { hosts },
            ..
        } = &p.verdict
        else {
            panic!("{:?}", p.verdict)
        };
        assert_eq!(hosts.first().map(String::as_str), Some("a"));
        let p = walk(&w, 0, Packet { ttl: 1, ..pkt });
        assert!(
            matches!(
                p.verdict,
                Verdict::Dropped {
                    reason: Reason::TtlExpired,
                    ..
                }
            ),
            "{:?}",
            p.verdict
        );
    }

    /// The reverse-path filter: b receives on eth0 a packet whose source b routes back
    /// through eth1. Strict drops it, loose and off deliver it; loose drops a source with no
    /// route back at all.
    #[test]
    fn rp_filter_strict_and_loose() {
        let a = host(
            "a",
            "10.0.0.1/24",
            vec![r("10.0.0.0/24", None), r("0.0.0.0/0", Some("10.0.0.2"))],
        );
        let mut b = host("b", "10.0.0.2/24", vec![r("10.0.0.0/24", None)]);
        let mut eth1 = b.links[0].clone();
        eth1.name = "eth1".into();
        eth1.ifindex = 3;
        b.links.push(eth1);
        b.addrs.push(Addr {
            dev: "eth1".into(),
            addr: "10.1.0.2/24".parse().unwrap(),
            scope: Scope::Universe,
        });
        b.routes.push(Route::unicast(
            "10.1.0.0/24".parse().unwrap(),
            Nexthop::dev("eth1"),
        ));
        b.routes.push(Route::unicast(
            "10.5.0.0/16".parse().unwrap(),
            Nexthop::via("10.1.0.9".parse().unwrap(), "eth1"),
        ));
        let verdict = |b: &NodeState, src: &str| {
            let w = World::from_states(vec![
                (a.clone(), HostKind::Router, None),
                (b.clone(), HostKind::Router, None),
            ]);
            let pkt = Packet {
                src: src.parse().unwrap(),
                dst: "10.0.0.2".parse().unwrap(),
                proto: Proto::Udp,
                sport: None,
                dport: Some(53),
                size: 64,
                df: true,
                ttl: DEFAULT_TTL,
            };
            walk(&w, 0, pkt).verdict
        };
        let with = |all: u8, dev: u8| {
            let mut b = b.clone();
            b.sysctls.rp_filter.insert("all".into(), all);
            b.sysctls.rp_filter.insert("eth0".into(), dev);
            b
        };
        // Off (unknown, or 0): delivered.
        assert!(
            verdict(&b, "10.5.5.5").ok(),
            "{:?}",
            verdict(&b, "10.5.5.5")
        );
        assert!(verdict(&with(0, 0), "10.5.5.5").ok());
        // Strict, set on the device or on all (the larger wins): dropped on eth0.
        for strict in [with(0, 1), with(1, 0)] {
            let v = verdict(&strict, "10.5.5.5");
            let Verdict::Dropped {
                reason:
                    Reason::RpFilter {
                        dev,
                        strict: true,
                        back: Some(back),
                        ..
                    },
                ..
            } = &v
            else {
                panic!("{v:?}")
            };
            assert_eq!(dev, "eth0");
            assert!(back.contains("dev eth1"), "{back}");
        }
        // Loose: any route back will do; none at all drops.
        assert!(verdict(&with(2, 0), "10.5.5.5").ok());
        let v = verdict(&with(2, 0), "10.77.0.1");
        assert!(
            matches!(
                &v,
                Verdict::Dropped {
                    reason: Reason::RpFilter {
                        strict: false,
                        back: None,
                        ..
                    },
                    ..
                }
            ),
            "{v:?}"
        );
        // Strict with the route back through the receiving device: delivered.
        assert!(verdict(&with(1, 1), "10.0.0.1").ok());
    }

    /// A Calico pod IP in the local block that no pod has hits the block's blackhole.
    #[test]
    fn calico_local_block_blackhole() {
        let c = demo::load("calico-bgp").unwrap();
        let w = crate::plan::world(&c);
        let src = resolve(&w, "default/db-0", true).unwrap();
        let dst = resolve(&w, "10.65.0.9", false).unwrap();
        assert_eq!(dst.host, None, "no pod has it");
        let t = trace(&w, &src, &dst, Probe::default());
        let Verdict::Dropped {
            host,
            reason: Reason::Blackhole { route },
            ..
        } = &t.request.verdict
        else {
            panic!("{:?}", t.request.verdict)
        };
        assert_eq!(
            (host.as_str(), route.as_str()),
            ("node-1", "blackhole 10.65.0.0/26 proto bird")
        );
    }
}
