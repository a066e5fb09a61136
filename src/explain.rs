//! What a route is for: the CNI (or kernel) behaviour that makes a route of this shape.
//!
//! The knowledge comes from what Flannel and Calico program on a node
//! (`shared/reference/cni-semantics.md` §1, §3–§11): Flannel host-gw/vxlan/ipip, Calico
//! BGP/IPIP/VXLAN (BIRD `proto bird`, Felix `proto 80`, CNI/Felix workload routes
//! `proto boot`), and the kernel's own connected and local routes. An explanation needs
//! only the route, and uses the node's devices when it has them (a device's kind tells a
//! tunnel from a plain uplink even when it is not named like one). No cluster description
//! is needed, so an explanation says what a route *looks like*, not whether it is right.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::cni::{self, Cni, Role};
use crate::dataplane::{Family, Link, LinkKind, Protocol, Route, RouteType, Scope};

/// Who makes routes of this shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    /// Flannel (flanneld, or its bridge CNI for `cni0`).
    Flannel,
    /// Calico (BIRD, Felix or the Calico CNI plugin).
    Calico,
    /// The kernel itself (connected, local and broadcast routes).
    Kernel,
    /// Nobody in particular: what the route type does, not who made it.
    Other,
}

impl Owner {
    /// The lowercase word used in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Owner::Flannel => "flannel",
            Owner::Calico => "calico",
            Owner::Kernel => "kernel",
            Owner::Other => "other",
        }
    }
}

/// Which daemon programs a Calico route, from its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Programmer {
    Bird,
    Felix,
    Boot,
}

impl Programmer {
    fn of(p: Protocol) -> Option<Programmer> {
        match p {
            Protocol::BIRD => Some(Programmer::Bird),
            Protocol::FELIX => Some(Programmer::Felix),
            Protocol::BOOT => Some(Programmer::Boot),
            _ => None,
        }
    }

    fn suffix(&self) -> &'static str {
        match self {
            Programmer::Bird => ", BIRD",
            Programmer::Felix => ", Felix",
            Programmer::Boot => "",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1`.
    CniBridgeSubnet,
    /// `10.244.0.0/16 dev flannel.1 proto kernel` (flannel ≤0.7 gave flannel.1 the network).
    FlannelLegacyConnected,
    /// Any other connected route.
    Connected,
    /// `fe80::/64 dev X proto kernel`.
    LinkLocal,
    /// Local-table `local` route.
    Local,
    /// Local-table `broadcast` route.
    Broadcast,
    /// `multicast` route (IPv6 `ff00::/8` on every device).
    Multicast,
    /// Anycast route (IPv6 subnet-router anycast).
    Anycast,
    /// `blackhole <block> proto bird|80`.
    CalicoBlackhole(Programmer),
    /// `blackhole <subnet>` proto boot: flannel `--ip-blackhole-route`.
    FlannelBlackhole,
    /// Any other blackhole.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
    /// `throw`.
    Throw,
    /// `10.65.0.2 dev caliXXXX scope link`.
    CalicoPod,
    /// `X via GW dev tunl0 onlink` (block or borrowed /32).
    CalicoIpip { host: bool, by: Programmer },
    /// `X via VTEP dev vxlan.calico onlink`.
    CalicoVxlan { host: bool },
    /// `10.x.y.z dev vxlan.calico scope link`.
    CalicoVxlanTunnelAddr,
    /// `X via GW dev eth0 proto bird`.
    CalicoBgp { host: bool },
    /// `X via GW dev eth0 proto 80 onlink`.
    CalicoCrossSubnet { host: bool },
    /// `default via 169.254.1.1 dev eth0` inside a Calico pod.
    CalicoPodDefault,
    /// `169.254.1.1 dev eth0 scope link` inside a Calico pod.
    CalicoPodGateway,
    /// `X via X.0 dev flannel.1 onlink`.
    FlannelVxlan,
    /// `10.244.0.0/16 dev flannel.1` without a gateway (flannel ≤0.7 L3-miss mode).
    FlannelVxlanLegacy,
    /// `X via NODE dev flannel.ipip onlink`.
    FlannelIpip,
    /// `X via NODE dev eth0 onlink` proto boot: flannel ipip with DirectRouting.
    FlannelIpipDirect,
    /// `X via NODE dev eth0` proto boot: flannel host-gw (or vxlan DirectRouting).
    HostGw,
    /// A multipath route that is nothing of the above.
    Multipath,
}

/// The explanation of one route. Displays as one line of text; borrowing the route keeps
/// the table view free of per-route allocations.
#[derive(Debug, Clone, Copy)]
pub struct Explanation<'a> {
    owner: Owner,
    shape: Shape,
    route: &'a Route,
}

impl Explanation<'_> {
    /// Who makes routes of this shape.
    pub fn owner(&self) -> Owner {
        self.owner
    }
}

/// What kind of device a route points at: from the node's links when known, else from the
/// names both CNIs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DevClass {
    FlannelVxlan,
    FlannelIpip,
    CalicoVxlan,
    Tunl0,
    Cali,
    Cni0,
    Loopback,
    /// Some other tunnel (vxlan/ipip/gre/wireguard…) that is not a CNI's.
    OtherTunnel,
    Plain,
}

fn classify(dev: &str, links: Option<&[Link]>) -> DevClass {
    let link = links.and_then(|ls| ls.iter().find(|l| l.name == dev));
    let by_name = match cni::device(dev).map(|d| (d.cni, d.role)) {
        Some((_, Role::Bridge)) => DevClass::Cni0,
        Some((Cni::Flannel, Role::Ipip)) => DevClass::FlannelIpip,
        Some((Cni::Flannel, _)) => DevClass::FlannelVxlan,
        Some((Cni::Calico, Role::Vxlan)) => DevClass::CalicoVxlan,
        Some((Cni::Calico, Role::Ipip)) => DevClass::Tunl0,
        Some((Cni::Calico, _)) => DevClass::Cali,
        None if dev == "lo" => DevClass::Loopback,
        None => DevClass::Plain,
    };
    let Some(link) = link else {
        return by_name;
    };
    match (&link.kind, by_name) {
        // Named like a CNI's device and of the right kind: trust the name.
        (LinkKind::Vxlan(_), DevClass::FlannelVxlan | DevClass::CalicoVxlan) => by_name,
        (LinkKind::Ipip { .. }, DevClass::Tunl0 | DevClass::FlannelIpip) => by_name,
        (LinkKind::Veth(_), DevClass::Cali) => by_name,
        (LinkKind::Bridge, DevClass::Cni0) => by_name,
        (LinkKind::Loopback, _) => DevClass::Loopback,
        // A VXLAN device under another name: Flannel keeps the kernel port 8472 and VNI 1,
        // Calico uses 4789 and VNI 4096.
        (LinkKind::Vxlan(v), _)
            if v.vni == cni::calico::VXLAN_VNI && v.port == cni::calico::VXLAN_PORT =>
        {
            DevClass::CalicoVxlan
        }
        (LinkKind::Vxlan(v), _) if v.port == cni::flannel::VXLAN_PORT => DevClass::FlannelVxlan,
        (LinkKind::Vxlan(_), _) | (LinkKind::Ipip { .. }, _) => DevClass::OtherTunnel,
        (LinkKind::Other { name }, _)
            if matches!(
                name.as_str(),
                "gre" | "gretap" | "ip6tnl" | "sit" | "wireguard"
            ) =>
        {
            DevClass::OtherTunnel
        }
        // Named like a CNI device but of another kind: a plain device with an odd name.
        (_, DevClass::Cali) => DevClass::Plain,
        _ => by_name,
    }
}

fn is_host_prefix(r: &Route) -> bool {
    r.dst.prefix()
        == match r.family() {
            Family::Inet => 32,
            Family::Inet6 => 128,
        }
}

/// Explain `route`, given the node's devices when they are known. `None` when the route
/// has no shape netpath recognises (a default route, a static route of the admin …).
pub fn explain<'a>(route: &'a Route, links: Option<&[Link]>) -> Option<Explanation<'a>> {
    let (owner, shape) = shape_of(route, links)?;
    Some(Explanation {
        owner,
        shape,
        route,
    })
}

fn shape_of(r: &Route, links: Option<&[Link]>) -> Option<(Owner, Shape)> {
    let host = is_host_prefix(r);
    match r.kind {
        RouteType::Blackhole => {
            return Some(match Programmer::of(r.proto) {
                Some(p @ (Programmer::Bird | Programmer::Felix)) => {
                    (Owner::Calico, Shape::CalicoBlackhole(p))
                }
                Some(Programmer::Boot) if r.family() == Family::Inet && !host => {
                    (Owner::Flannel, Shape::FlannelBlackhole)
                }
                _ => (Owner::Other, Shape::Blackhole),
            });
        }
        RouteType::Unreachable => return Some((Owner::Other, Shape::Unreachable)),
        RouteType::Prohibit => return Some((Owner::Other, Shape::Prohibit)),
        RouteType::Throw => return Some((Owner::Other, Shape::Throw)),
        RouteType::Local => return Some((Owner::Kernel, Shape::Local)),
        RouteType::Broadcast => return Some((Owner::Kernel, Shape::Broadcast)),
        RouteType::Multicast => return Some((Owner::Kernel, Shape::Multicast)),
        RouteType::Anycast => return Some((Owner::Kernel, Shape::Anycast)),
        RouteType::Unicast => {}
        RouteType::Nat | RouteType::Other(_) => return None,
    }
    if r.is_multipath() {
        return Some((Owner::Other, Shape::Multipath));
    }
    let hop = r.first_hop()?;
    let dev = hop.dev.as_deref()?;
    let class = classify(dev, links);
    let gw = hop.gateway;
    let onlink = hop.flags.onlink;
    let by = Programmer::of(r.proto);

    if r.proto == Protocol::KERNEL && gw.is_none() {
        if r.family() == Family::Inet6 && r.dst.network().to_string() == "fe80::" {
            return Some((Owner::Kernel, Shape::LinkLocal));
        }
        if r.family() == Family::Inet6 && r.dst.to_string() == "ff00::/8" {
            return Some((Owner::Kernel, Shape::Multicast));
        }
        return Some(match class {
            DevClass::Cni0 => (Owner::Flannel, Shape::CniBridgeSubnet),
            DevClass::FlannelVxlan => (Owner::Flannel, Shape::FlannelLegacyConnected),
            _ => (Owner::Kernel, Shape::Connected),
        });
    }

    match (class, gw) {
        (DevClass::Cali, None) if host => return Some((Owner::Calico, Shape::CalicoPod)),
        (DevClass::Tunl0, Some(_)) => {
            return Some((
                Owner::Calico,
                Shape::CalicoIpip {
                    host,
                    by: by.unwrap_or(Programmer::Boot),
                },
            ));
        }
        (DevClass::CalicoVxlan, Some(_)) => {
            return Some((Owner::Calico, Shape::CalicoVxlan { host }));
        }
        (DevClass::CalicoVxlan, None) if host => {
            return Some((Owner::Calico, Shape::CalicoVxlanTunnelAddr));
        }
        (DevClass::FlannelVxlan, Some(_)) if onlink => {
            return Some((Owner::Flannel, Shape::FlannelVxlan));
        }
        (DevClass::FlannelVxlan, None) if !host => {
            return Some((Owner::Flannel, Shape::FlannelVxlanLegacy));
        }
        (DevClass::FlannelIpip, Some(_)) => return Some((Owner::Flannel, Shape::FlannelIpip)),
        _ => {}
    }

    // Inside a Calico pod: the gateway nobody owns, answered by proxy ARP.
    let link_local_gw: IpAddr = IpAddr::V4(cni::calico::POD_GATEWAY);
    if r.dst.prefix() == 0 && gw == Some(link_local_gw) {
        return Some((Owner::Calico, Shape::CalicoPodDefault));
    }
    if host && gw.is_none() && r.dst.ip() == link_local_gw && r.scope == Scope::Link {
        return Some((Owner::Calico, Shape::CalicoPodGateway));
    }

    // Gateway routes on a plain uplink: the no-encapsulation modes.
    // (A node IP is never inside the pod subnet it routes; a gateway inside the destination
    // is some other design.)
    let gw_outside = gw.is_some_and(|g| !r.dst.contains(g));
    if class == DevClass::Plain && gw_outside && r.dst.prefix() != 0 {
        return match (by, onlink) {
            (Some(Programmer::Bird), _) => Some((Owner::Calico, Shape::CalicoBgp { host })),
            (Some(Programmer::Felix), _) => {
                Some((Owner::Calico, Shape::CalicoCrossSubnet { host }))
            }
            (Some(Programmer::Boot), true) if !host => {
                Some((Owner::Flannel, Shape::FlannelIpipDirect))
            }
            (Some(Programmer::Boot), false) if !host => Some((Owner::Flannel, Shape::HostGw)),
            _ => None,
        };
    }
    None
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.route;
        let dev = r.dev().unwrap_or("?");
        let gw = r.gateway();
        let gw_text = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            match gw {
                Some(g) => write!(f, "{g}"),
                None => f.write_str("?"),
            }
        };
        match self.shape {
            Shape::CniBridgeSubnet => {
                f.write_str("pod subnet of this node on bridge cni0 (flannel's bridge CNI)")?;
                if r.first_hop().is_some_and(|h| h.flags.linkdown) {
                    f.write_str("; linkdown: no pod attached to cni0")?;
                }
                Ok(())
            }
            Shape::FlannelLegacyConnected => write!(
                f,
                "flannel network on {dev} (legacy flannel ≤0.7: {dev} holds the whole network)"
            ),
            Shape::Connected => write!(f, "connected subnet of {dev} (kernel, from its address)"),
            Shape::LinkLocal => write!(f, "link-local prefix of {dev} (kernel)"),
            Shape::Local => f.write_str("local address of this node (kernel, local table)"),
            Shape::Broadcast => write!(f, "broadcast address on {dev} (kernel)"),
            Shape::Multicast => write!(f, "multicast on {dev} (kernel)"),
            Shape::Anycast => write!(f, "anycast address on {dev} (kernel)"),
            Shape::CalicoBlackhole(p) => write!(
                f,
                "calico local block (blackhole{}): drops what no pod route covers",
                p.suffix()
            ),
            Shape::FlannelBlackhole => write!(
                f,
                "blackhole for this node's own subnet (flannel --ip-blackhole-route), \
                 drops what {} does not cover",
                cni::bridge::BRIDGE
            ),
            Shape::Blackhole => f.write_str("drops silently (blackhole)"),
            Shape::Unreachable => f.write_str("rejects with ICMP host unreachable"),
            Shape::Prohibit => f.write_str("rejects with ICMP administratively prohibited"),
            Shape::Throw => f.write_str("ends this table: the lookup goes on with the next rule"),
            Shape::CalicoPod => write!(f, "calico pod route → {dev}"),
            Shape::CalicoIpip { host, by } => {
                if host {
                    write!(
                        f,
                        "calico IPIP borrowed pod IP via {} to node ",
                        cni::calico::IPIP_DEV
                    )?;
                } else {
                    write!(
                        f,
                        "calico IPIP block via {} to node ",
                        cni::calico::IPIP_DEV
                    )?;
                }
                gw_text(f)?;
                match by {
                    Programmer::Bird => f.write_str(" (BIRD)"),
                    Programmer::Felix => f.write_str(" (Felix)"),
                    Programmer::Boot => Ok(()),
                }
            }
            Shape::CalicoVxlan { host } => {
                if host {
                    write!(f, "calico VXLAN borrowed pod IP via {dev} to VTEP ")?;
                } else {
                    write!(f, "calico VXLAN block via {dev} to VTEP ")?;
                }
                gw_text(f)
            }
            Shape::CalicoVxlanTunnelAddr => write!(
                f,
                "calico VXLAN tunnel address of a remote node on {dev} (no block route covers it)"
            ),
            Shape::CalicoBgp { host } => {
                if host {
                    f.write_str("calico BGP borrowed pod IP via node ")?;
                } else {
                    f.write_str("calico BGP block via node ")?;
                }
                gw_text(f)?;
                f.write_str(" (BIRD, no encapsulation)")
            }
            Shape::CalicoCrossSubnet { host } => {
                if host {
                    f.write_str("calico same-subnet borrowed pod IP via node ")?;
                } else {
                    f.write_str("calico same-subnet block via node ")?;
                }
                gw_text(f)?;
                f.write_str(" (Felix, CrossSubnet: no encapsulation)")
            }
            Shape::CalicoPodDefault => write!(
                f,
                "calico pod default route: {} is answered by proxy ARP on the host's cali veth",
                cni::calico::POD_GATEWAY
            ),
            Shape::CalicoPodGateway => write!(
                f,
                "calico pod gateway {} (no one has it: the host's cali veth answers by proxy ARP)",
                cni::calico::POD_GATEWAY
            ),
            Shape::FlannelVxlan => {
                write!(f, "flannel vxlan subnet of a remote node via {dev}")?;
                if gw != Some(r.dst.network()) {
                    f.write_str(" (gateway is not the subnet's address, as flannel sets it)")?;
                }
                Ok(())
            }
            Shape::FlannelVxlanLegacy => write!(
                f,
                "flannel vxlan network on {dev} (legacy flannel ≤0.7 L3-miss mode)"
            ),
            Shape::FlannelIpip => {
                write!(f, "flannel ipip subnet of a remote node via {dev} to node ")?;
                gw_text(f)
            }
            Shape::FlannelIpipDirect => {
                f.write_str("flannel ipip DirectRouting subnet via node IP ")?;
                gw_text(f)?;
                f.write_str(" (same subnet, no encapsulation)")
            }
            Shape::HostGw => {
                f.write_str("host-gw subnet via node IP ")?;
                gw_text(f)?;
                f.write_str(" (flannel host-gw or vxlan DirectRouting)")
            }
            Shape::Multipath => write!(
                f,
                "multipath: flows are hashed over {} nexthops",
                r.nexthops.len()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::{Nexthop, Vxlan};

    fn route(s: &str, hop: Nexthop) -> Route {
        Route::unicast(s.parse().unwrap(), hop)
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }
    fn text(r: &Route, links: Option<&[Link]>) -> Option<String> {
        explain(r, links).map(|e| e.to_string())
    }

    #[test]
    fn flannel_shapes() {
        let vx = route(
            "10.244.2.0/24",
            Nexthop::via(ip("10.244.2.0"), "flannel.1").onlink(),
        );
        assert_eq!(
            text(&vx, None).as_deref(),
            Some("flannel vxlan subnet of a remote node via flannel.1")
        );
        assert_eq!(explain(&vx, None).unwrap().owner(), Owner::Flannel);
        let hostgw = route("10.244.2.0/24", Nexthop::via(ip("192.168.1.12"), "eth0"));
        assert_eq!(
            text(&hostgw, None).as_deref(),
            Some(
                "host-gw subnet via node IP 192.168.1.12 (flannel host-gw or vxlan DirectRouting)"
            )
        );
        let mut cni0 = route("10.244.1.0/24", Nexthop::dev("cni0"));
        cni0.proto = Protocol::KERNEL;
        cni0.nexthops[0].flags.linkdown = true;
        assert_eq!(
            text(&cni0, None).as_deref(),
            Some(
                "pod subnet of this node on bridge cni0 (flannel's bridge CNI); linkdown: no pod attached to cni0"
            )
        );
        let ipip = route(
            "10.244.2.0/24",
            Nexthop::via(ip("192.168.1.12"), "flannel.ipip").onlink(),
        );
        assert!(
            text(&ipip, None)
                .unwrap()
                .starts_with("flannel ipip subnet")
        );
        let legacy = route("10.244.0.0/16", Nexthop::dev("flannel.1"));
        assert!(text(&legacy, None).unwrap().contains("legacy"));
    }

    #[test]
    fn calico_shapes() {
        let bh = Route::drop(
            RouteType::Blackhole,
            "10.65.0.0/26".parse().unwrap(),
            Protocol::BIRD,
        );
        assert!(
            text(&bh, None)
                .unwrap()
                .starts_with("calico local block (blackhole, BIRD)")
        );
        let pod = route("10.65.0.2/32", Nexthop::dev("cali29f56ea1abf"));
        assert_eq!(
            text(&pod, None).as_deref(),
            Some("calico pod route → cali29f56ea1abf")
        );
        let mut ipip = route(
            "10.65.1.0/26",
            Nexthop::via(ip("192.168.1.12"), "tunl0").onlink(),
        );
        ipip.proto = Protocol::BIRD;
        assert_eq!(
            text(&ipip, None).as_deref(),
            Some("calico IPIP block via tunl0 to node 192.168.1.12 (BIRD)")
        );
        let vx = route(
            "10.65.1.0/26",
            Nexthop::via(ip("10.65.1.0"), "vxlan.calico").onlink(),
        );
        assert_eq!(
            text(&vx, None).as_deref(),
            Some("calico VXLAN block via vxlan.calico to VTEP 10.65.1.0")
        );
        let mut bgp = route("10.65.1.0/26", Nexthop::via(ip("192.168.1.12"), "eth0"));
        bgp.proto = Protocol::BIRD;
        assert!(text(&bgp, None).unwrap().starts_with("calico BGP block"));
        let mut cross = route(
            "10.65.2.0/26",
            Nexthop::via(ip("172.17.0.5"), "eth0").onlink(),
        );
        cross.proto = Protocol::FELIX;
        assert!(text(&cross, None).unwrap().contains("CrossSubnet"));
        let default = route("0.0.0.0/0", Nexthop::via(ip("169.254.1.1"), "eth0"));
        assert!(text(&default, None).unwrap().contains("proxy ARP"));
    }

    #[test]
    fn links_tell_a_renamed_vxlan_and_a_fake_cali() {
        let r = route(
            "10.244.2.0/24",
            Nexthop::via(ip("10.244.2.0"), "vx0").onlink(),
        );
        assert_eq!(text(&r, None), None);
        let vxlan = LinkKind::Vxlan(Vxlan {
            vni: 1,
            port: 8472,
            local: None,
            dev: None,
            learning: false,
        });
        let links = vec![Link {
            ifindex: 5,
            ..Link::up("vx0", vxlan, 1450)
        }];
        assert!(
            text(&r, Some(&links))
                .unwrap()
                .starts_with("flannel vxlan subnet")
        );
        let pod = route("10.65.0.2/32", Nexthop::dev("calibr"));
        let bridge = vec![Link {
            name: "calibr".into(),
            kind: LinkKind::Bridge,
            ..links[0].clone()
        }];
        assert_eq!(text(&pod, Some(&bridge)), None);
    }

    #[test]
    fn plain_routes_have_no_cni_story() {
        let default = route("0.0.0.0/0", Nexthop::via(ip("192.168.1.1"), "eth0"));
        assert_eq!(text(&default, None), None);
        let mut static_host = route("10.9.9.9/32", Nexthop::via(ip("192.168.1.1"), "eth0"));
        static_host.proto = Protocol::STATIC;
        assert_eq!(text(&static_host, None), None);
        let un = Route::drop(
            RouteType::Unreachable,
            "10.99.0.0/16".parse().unwrap(),
            Protocol::BOOT,
        );
        assert_eq!(
            text(&un, None).as_deref(),
            Some("rejects with ICMP host unreachable")
        );
    }
}
