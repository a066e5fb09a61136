//! What a trace finds: the packet, each hop and what happens there, why a packet was
//! dropped, and the verdict of each direction.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::dataplane::{MacAddr, NudState, Route};
use crate::world::{HostKind, Source};

use super::endpoint::Endpoint;

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
    /// kube-proxy's DNAT of a Service address to one of its endpoints (`KUBE-SVC-…` picks
    /// a `KUBE-SEP-…`).
    Dnat {
        /// The Service address.
        from: IpAddr,
        /// The Service port.
        #[serde(skip_serializing_if = "Option::is_none")]
        from_port: Option<u16>,
        /// The endpoint.
        to: IpAddr,
        /// The endpoint's port.
        #[serde(skip_serializing_if = "Option::is_none")]
        to_port: Option<u16>,
        /// The Service (`namespace/name`).
        service: String,
    },
    /// Connection tracking reverses a request's DNAT on the reply: the endpoint's source
    /// becomes the Service address again.
    Undnat {
        /// The source before (the endpoint).
        from: IpAddr,
        /// The source after (the Service address).
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
    pub source: Source,
    /// On a host walked through its real state: what the plan has here, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
    /// With `--live`: the kernel's own answer for this lookup (`ip route get … iif …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelView>,
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
    /// A policy rule's own action drops the packet (`ip rule … blackhole`, `unreachable`,
    /// `prohibit`).
    PolicyRule {
        /// The rule, as `ip rule` prints it.
        rule: String,
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
    /// A destination in the cluster's pod network that no node's pod CIDR holds: the
    /// default route takes it out with a cluster-private destination, where it is lost.
    Unallocated {
        /// The destination.
        dst: IpAddr,
        /// The range of the pod network holding it (`the flannel Network 10.244.0.0/16`).
        network: String,
        /// What a node holds of it (`lease`, `block`).
        unit: String,
        /// The outside gateway it leaves by.
        gateway: IpAddr,
    },
    /// A veth whose other end is unknown.
    NoPeer {
        /// The device.
        dev: String,
    },
    /// A Service with no ready endpoint: kube-proxy's filter rule rejects the connection
    /// (`KUBE-SERVICES … has no endpoints -j REJECT`).
    NoEndpoints {
        /// The Service (`namespace/name`).
        service: String,
        /// Its address.
        dst: IpAddr,
        /// The port asked for.
        port: Option<u16>,
    },
    /// A destination in the service range that no Service of the input has: kube-proxy has
    /// no rule for it, so nothing answers it.
    NoService {
        /// The destination.
        dst: IpAddr,
        /// The service range and where it comes from.
        range: String,
    },
    /// A destination in the service range when the input lists no Services: what
    /// kube-proxy does with it is unknown, so it is never claimed delivered.
    ServicesNotInInput {
        /// The destination.
        dst: IpAddr,
        /// The service range and where it comes from.
        range: String,
    },
}

impl Reason {
    /// A short stable code (`next-hop-not-on-link` …) for grouping.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NoRoute { .. } => "no-route",
            Reason::Blackhole { .. } => "blackhole",
            Reason::Unreachable { .. } => "unreachable",
            Reason::PolicyRule { .. } => "policy-rule",
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
            Reason::Unallocated { .. } => "unallocated",
            Reason::NoEndpoints { .. } => "no-endpoints",
            Reason::ServicesNotInInput { .. } => "services-not-in-input",
            Reason::NoService { .. } => "no-service",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoRoute { dst } => write!(f, "no route to {dst}"),
            Reason::Blackhole { route } => write!(f, "blackhole route: {route}"),
            Reason::Unreachable { route } => write!(f, "unreachable route: {route}"),
            Reason::PolicyRule { rule } => write!(f, "policy rule `{rule}` drops it"),
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
            Reason::Unallocated {
                dst,
                network,
                unit,
                gateway,
            } => write!(
                f,
                "{dst} is in {network} but in no node's {unit}, so no pod can have it: the default route takes it out through {gateway} with a cluster-private destination, where it is lost"
            ),
            Reason::NoEndpoints { service, dst, port } => {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                write!(
                    f,
                    "service {service} ({dst}{port}) has no ready endpoints: kube-proxy rejects the connection (KUBE-SERVICES \"{service} has no endpoints\" -j REJECT)"
                )
            }
            Reason::NoService { dst, range } => write!(
                f,
                "{dst} is in the service range ({range}), but no Service in the input has it: kube-proxy has no rule for it and no host owns it, so nothing answers"
            ),
            Reason::ServicesNotInInput { dst, range } => write!(
                f,
                "{dst} is in the service range ({range}), but the input lists no Services: where kube-proxy sends it is unknown (dump them with `kubectl get nodes,pods,svc,endpointslices -A -o json`)"
            ),
        }
    }
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

/// How a path ends. In JSON a dropped verdict also carries its root cause's stable `code`
/// (the refused route's when there is one, as `trace --all` groups it) and the sentence the
/// text output gives (`explanation`).
#[derive(Debug, Clone, PartialEq, Eq)]
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
        after: Option<Box<Refusal>>,
    },
}

impl Verdict {
    /// True unless dropped.
    pub fn ok(&self) -> bool {
        !matches!(self, Verdict::Dropped { .. })
    }

    /// The root cause's stable code when dropped: the refused route's when the packet got
    /// to the drop because of it, else the drop's own.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Verdict::Dropped { reason, after, .. } => {
                Some(after.as_ref().map_or_else(|| reason.code(), |a| a.code()))
            }
            _ => None,
        }
    }

    /// The sentence saying what happened and why, as the text output words it.
    pub fn explanation(&self) -> String {
        match self {
            Verdict::Delivered { host } => format!("delivered to {host}"),
            Verdict::Exited { host, gateway } => {
                format!("leaves the modelled network at {host} through {gateway}")
            }
            Verdict::Dropped {
                host,
                device,
                reason,
                after,
            } => {
                let at = match device {
                    Some(d) => format!("{host} ({d})"),
                    None => host.clone(),
                };
                match after {
                    Some(a) => format!("dropped at {at}: {reason}, because {a}"),
                    None => format!("dropped at {at}: {reason}"),
                }
            }
        }
    }
}

/// The JSON shape of a [`Verdict`].
#[derive(Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
enum VerdictDoc<'a> {
    Delivered {
        host: &'a str,
    },
    Exited {
        host: &'a str,
        gateway: IpAddr,
    },
    Dropped {
        host: &'a str,
        device: &'a Option<String>,
        reason: &'a Reason,
        #[serde(skip_serializing_if = "Option::is_none")]
        after: &'a Option<Box<Refusal>>,
        code: &'static str,
        explanation: String,
    },
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Verdict::Delivered { host } => VerdictDoc::Delivered { host },
            Verdict::Exited { host, gateway } => VerdictDoc::Exited {
                host,
                gateway: *gateway,
            },
            Verdict::Dropped {
                host,
                device,
                reason,
                after,
            } => VerdictDoc::Dropped {
                host,
                device,
                reason,
                after,
                code: self.code().unwrap_or_else(|| reason.code()),
                explanation: self.explanation(),
            },
        }
        .serialize(s)
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

/// What the plan has at a hop where the real state differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// The planned object, as `ip`/`bridge`/`sysctl` print it (a route, a neighbour or FDB
    /// entry, a device, a sysctl), or `no route to …` when the plan has none.
    pub plan: String,
    /// Why the CNI programs it, when netpath can tell (the route's explanation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// What the plan does with the packet here when that is a drop (`the plan drops here:
    /// next hop … not on-link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// The kernel's answer to the same lookup (`ip route get DST [from SRC] [iif DEV]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelView {
    /// The question, as the `ip` command that asks it.
    pub query: String,
    /// The answer: the route, as `ip route get` prints it, or the kernel's error.
    pub answer: String,
    /// Whether netpath's walk made the same decision (same device and gateway, or both drop).
    pub agrees: bool,
}
