//! Routes as the kernel keeps them (`struct rtmsg` + attributes), in the field's own words.

use std::fmt;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

/// Address family of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4 (AF_INET).
    Inet,
    /// IPv6 (AF_INET6).
    Inet6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        if addr.is_ipv4() {
            Family::Inet
        } else {
            Family::Inet6
        }
    }
}

/// A routing table id. 254 is `main`, 255 `local`, 253 `default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Table(pub u32);

impl Table {
    /// The main table (254): where Flannel and Calico put every route in the modes netpath covers.
    pub const MAIN: Table = Table(254);
    /// The local table (255): the kernel's local and broadcast routes.
    pub const LOCAL: Table = Table(255);
    /// The default table (253).
    pub const DEFAULT: Table = Table(253);

    /// The name `ip route` uses (`main`, `local`, `default`), or the number.
    pub fn name(&self) -> String {
        match self.0 {
            254 => "main".into(),
            255 => "local".into(),
            253 => "default".into(),
            n => n.to_string(),
        }
    }

    /// Parse `main`, `local`, `default` or a number.
    pub fn parse(s: &str) -> Option<Table> {
        match s {
            "main" => Some(Table::MAIN),
            "local" => Some(Table::LOCAL),
            "default" => Some(Table::DEFAULT),
            _ => s.parse().ok().map(Table),
        }
    }
}

/// `rtm_type`: what the kernel does with a packet that matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteType {
    /// Forward to a next hop or a device (RTN_UNICAST).
    Unicast,
    /// Deliver locally (RTN_LOCAL).
    Local,
    /// Broadcast (RTN_BROADCAST).
    Broadcast,
    /// Anycast (RTN_ANYCAST).
    Anycast,
    /// Multicast (RTN_MULTICAST).
    Multicast,
    /// Drop silently (RTN_BLACKHOLE): Calico's local-block routes.
    Blackhole,
    /// Drop with ICMP host unreachable (RTN_UNREACHABLE).
    Unreachable,
    /// Drop with ICMP administratively prohibited (RTN_PROHIBIT).
    Prohibit,
    /// Continue the lookup in the next table (RTN_THROW).
    Throw,
    /// NAT (RTN_NAT, obsolete).
    Nat,
    /// Any other value.
    Other(u8),
}

impl RouteType {
    /// The kernel's number for this type.
    pub fn number(&self) -> u8 {
        match self {
            RouteType::Unicast => 1,
            RouteType::Local => 2,
            RouteType::Broadcast => 3,
            RouteType::Anycast => 4,
            RouteType::Multicast => 5,
            RouteType::Blackhole => 6,
            RouteType::Unreachable => 7,
            RouteType::Prohibit => 8,
            RouteType::Throw => 9,
            RouteType::Nat => 10,
            RouteType::Other(n) => *n,
        }
    }

    /// From the kernel's number.
    pub fn from_number(n: u8) -> RouteType {
        match n {
            1 => RouteType::Unicast,
            2 => RouteType::Local,
            3 => RouteType::Broadcast,
            4 => RouteType::Anycast,
            5 => RouteType::Multicast,
            6 => RouteType::Blackhole,
            7 => RouteType::Unreachable,
            8 => RouteType::Prohibit,
            9 => RouteType::Throw,
            10 => RouteType::Nat,
            n => RouteType::Other(n),
        }
    }

    /// The word `ip route` prints (`unicast`, `blackhole` …).
    pub fn name(&self) -> String {
        match self {
            RouteType::Unicast => "unicast".into(),
            RouteType::Local => "local".into(),
            RouteType::Broadcast => "broadcast".into(),
            RouteType::Anycast => "anycast".into(),
            RouteType::Multicast => "multicast".into(),
            RouteType::Blackhole => "blackhole".into(),
            RouteType::Unreachable => "unreachable".into(),
            RouteType::Prohibit => "prohibit".into(),
            RouteType::Throw => "throw".into(),
            RouteType::Nat => "nat".into(),
            RouteType::Other(n) => n.to_string(),
        }
    }

    /// Parse the word `ip route` prints.
    pub fn parse(s: &str) -> Option<RouteType> {
        Some(match s {
            "unicast" => RouteType::Unicast,
            "local" => RouteType::Local,
            "broadcast" => RouteType::Broadcast,
            "anycast" => RouteType::Anycast,
            "multicast" => RouteType::Multicast,
            "blackhole" => RouteType::Blackhole,
            "unreachable" => RouteType::Unreachable,
            "prohibit" => RouteType::Prohibit,
            "throw" => RouteType::Throw,
            "nat" => RouteType::Nat,
            _ => return None,
        })
    }

    /// True for the types that drop the packet (blackhole, unreachable, prohibit).
    pub fn drops(&self) -> bool {
        matches!(
            self,
            RouteType::Blackhole | RouteType::Unreachable | RouteType::Prohibit
        )
    }
}

/// `rtm_protocol`: who installed the route. Flannel leaves 3 (`boot`), BIRD uses 12
/// (`bird`), Felix 80 (no name, printed as `80`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Protocol(pub u8);

impl Protocol {
    /// RTPROT_UNSPEC.
    pub const UNSPEC: Protocol = Protocol(0);
    /// RTPROT_REDIRECT.
    pub const REDIRECT: Protocol = Protocol(1);
    /// RTPROT_KERNEL: connected routes the kernel adds for an address.
    pub const KERNEL: Protocol = Protocol(2);
    /// RTPROT_BOOT: the default of `ip route add` and of vishvananda/netlink (Flannel, Calico CNI).
    pub const BOOT: Protocol = Protocol(3);
    /// RTPROT_STATIC.
    pub const STATIC: Protocol = Protocol(4);
    /// BIRD, Calico's BGP daemon.
    pub const BIRD: Protocol = Protocol(12);
    /// Felix's own protocol number (`DefaultRouteProto`).
    pub const FELIX: Protocol = Protocol(80);

    /// The name from iproute2's `rt_protos` table, or `None` when it has none.
    pub fn name(&self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "unspec",
            1 => "redirect",
            2 => "kernel",
            3 => "boot",
            4 => "static",
            8 => "gated",
            9 => "ra",
            10 => "mrt",
            11 => "zebra",
            12 => "bird",
            13 => "dnrouted",
            14 => "xorp",
            15 => "ntk",
            16 => "dhcp",
            17 => "mrouted",
            18 => "keepalived",
            42 => "babel",
            99 => "openr",
            186 => "bgp",
            187 => "isis",
            188 => "ospf",
            189 => "rip",
            192 => "eigrp",
            _ => return None,
        })
    }

    /// What `ip route` prints: the name, or the number.
    pub fn label(&self) -> String {
        self.name()
            .map(str::to_string)
            .unwrap_or_else(|| self.0.to_string())
    }

    /// Parse a name or a number.
    pub fn parse(s: &str) -> Option<Protocol> {
        if let Ok(n) = s.parse::<u8>() {
            return Some(Protocol(n));
        }
        (0..=255u8).map(Protocol).find(|p| p.name() == Some(s))
    }
}

/// `rtm_scope`: how far the destination is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// 0: reached through a gateway (or anywhere).
    Universe,
    /// 200: site.
    Site,
    /// 253: directly attached (`scope link`).
    Link,
    /// 254: on this host.
    Host,
    /// 255: nowhere.
    Nowhere,
    /// Any other value.
    Other(u8),
}

impl Scope {
    /// The kernel's number.
    pub fn number(&self) -> u8 {
        match self {
            Scope::Universe => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
            Scope::Other(n) => *n,
        }
    }

    /// From the kernel's number.
    pub fn from_number(n: u8) -> Scope {
        match n {
            0 => Scope::Universe,
            200 => Scope::Site,
            253 => Scope::Link,
            254 => Scope::Host,
            255 => Scope::Nowhere,
            n => Scope::Other(n),
        }
    }

    /// The word `ip route` prints (`global` for universe).
    pub fn name(&self) -> String {
        match self {
            Scope::Universe => "global".into(),
            Scope::Site => "site".into(),
            Scope::Link => "link".into(),
            Scope::Host => "host".into(),
            Scope::Nowhere => "nowhere".into(),
            Scope::Other(n) => n.to_string(),
        }
    }

    /// Parse a word (`global`/`universe`, `link`, `host` …) or a number.
    pub fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "global" | "universe" => Scope::Universe,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            "nowhere" => Scope::Nowhere,
            _ => Scope::from_number(s.parse().ok()?),
        })
    }
}

/// Per-nexthop flags (`RTNH_F_*`). Absent fields read as false, so hand-written JSON may
/// give only the flags that are set (`{"onlink": true}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NexthopFlags {
    /// RTNH_F_ONLINK: the gateway is on the link even without a covering connected route.
    /// Flannel VXLAN and Calico IPIP/VXLAN routes use it.
    pub onlink: bool,
    /// RTNH_F_LINKDOWN: the device's carrier is down.
    pub linkdown: bool,
    /// RTNH_F_DEAD: the nexthop is dead.
    pub dead: bool,
    /// RTNH_F_PERVASIVE.
    pub pervasive: bool,
    /// RTNH_F_OFFLOAD.
    pub offload: bool,
}

impl NexthopFlags {
    /// From the kernel's bit mask.
    pub fn from_bits(bits: u32) -> NexthopFlags {
        NexthopFlags {
            dead: bits & 1 != 0,
            pervasive: bits & 2 != 0,
            onlink: bits & 4 != 0,
            offload: bits & 8 != 0,
            linkdown: bits & 16 != 0,
        }
    }

    /// The kernel's bit mask.
    pub fn bits(&self) -> u32 {
        (self.dead as u32)
            | (self.pervasive as u32) << 1
            | (self.onlink as u32) << 2
            | (self.offload as u32) << 3
            | (self.linkdown as u32) << 4
    }

    /// The words `ip route` prints, in its order.
    pub fn words(&self) -> Vec<&'static str> {
        let mut w = Vec::new();
        if self.dead {
            w.push("dead");
        }
        if self.onlink {
            w.push("onlink");
        }
        if self.pervasive {
            w.push("pervasive");
        }
        if self.offload {
            w.push("offload");
        }
        if self.linkdown {
            w.push("linkdown");
        }
        w
    }
}

/// One next hop of a route: a gateway, a device, or both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Nexthop {
    /// The gateway (`via`), if any.
    pub gateway: Option<IpAddr>,
    /// The output device name (`dev`), if known.
    pub dev: Option<String>,
    /// The output device's ifindex, if known (live netlink); 0 is "none".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ifindex: Option<u32>,
    /// The weight of a multipath nexthop, as `ip route` prints it (rtnh_hops + 1).
    #[serde(default = "one")]
    pub weight: u16,
    /// Flags: onlink, linkdown, dead …
    #[serde(default)]
    pub flags: NexthopFlags,
}

fn one() -> u16 {
    1
}

impl Nexthop {
    /// A nexthop through a device only (a connected route).
    pub fn dev(dev: impl Into<String>) -> Nexthop {
        Nexthop {
            dev: Some(dev.into()),
            weight: 1,
            ..Default::default()
        }
    }

    /// A nexthop through a gateway on a device.
    pub fn via(gateway: IpAddr, dev: impl Into<String>) -> Nexthop {
        Nexthop {
            gateway: Some(gateway),
            dev: Some(dev.into()),
            weight: 1,
            ..Default::default()
        }
    }

    /// The same nexthop with the onlink flag set.
    pub fn onlink(mut self) -> Nexthop {
        self.flags.onlink = true;
        self
    }
}

/// A route: destination prefix, type, table, who installed it, and its next hops.
///
/// A plain route has one nexthop; a multipath route several; blackhole, unreachable and
/// prohibit routes none (IPv6 ones may carry `dev lo`, kept as one nexthop).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Route {
    /// Destination prefix (`default` is 0.0.0.0/0 or ::/0).
    pub dst: IpNetwork,
    /// Route type.
    #[serde(rename = "type")]
    pub kind: RouteType,
    /// Routing table.
    pub table: Table,
    /// Who installed it.
    pub proto: Protocol,
    /// Scope.
    pub scope: Scope,
    /// Metric (priority); `None` when the kernel sent none (IPv4 metric 0).
    #[serde(default)]
    pub metric: Option<u32>,
    /// Preferred source address (`src`).
    #[serde(default)]
    pub prefsrc: Option<IpAddr>,
    /// Type of service / DSCP.
    #[serde(default)]
    pub tos: u8,
    /// Route MTU metric (`mtu N`), as Calico sets on VXLAN/IPIP routes.
    #[serde(default)]
    pub mtu: Option<u32>,
    /// Next hops.
    pub nexthops: Vec<Nexthop>,
}

impl Route {
    /// A unicast route in the main table with proto boot and global scope
    /// (what `ip route add DST via GW` makes); scope link when there is no gateway.
    pub fn unicast(dst: IpNetwork, nexthop: Nexthop) -> Route {
        let scope = if nexthop.gateway.is_some() {
            Scope::Universe
        } else {
            Scope::Link
        };
        Route {
            dst,
            kind: RouteType::Unicast,
            table: Table::MAIN,
            proto: Protocol::BOOT,
            scope,
            metric: None,
            prefsrc: None,
            tos: 0,
            mtu: None,
            nexthops: vec![nexthop],
        }
    }

    /// A route of a dropping type (blackhole, unreachable, prohibit) in the main table.
    pub fn drop(kind: RouteType, dst: IpNetwork, proto: Protocol) -> Route {
        Route {
            dst,
            kind,
            table: Table::MAIN,
            proto,
            scope: Scope::Universe,
            metric: None,
            prefsrc: None,
            tos: 0,
            mtu: None,
            nexthops: Vec::new(),
        }
    }

    /// The address family.
    pub fn family(&self) -> Family {
        Family::of(&self.dst.network())
    }

    /// The first nexthop (what `/proc/net/route` shows for a multipath route).
    pub fn first_hop(&self) -> Option<&Nexthop> {
        self.nexthops.first()
    }

    /// The gateway of the first nexthop.
    pub fn gateway(&self) -> Option<IpAddr> {
        self.first_hop().and_then(|n| n.gateway)
    }

    /// The device of the first nexthop.
    pub fn dev(&self) -> Option<&str> {
        self.first_hop().and_then(|n| n.dev.as_deref())
    }

    /// True when more than one nexthop.
    pub fn is_multipath(&self) -> bool {
        self.nexthops.len() > 1
    }

    /// The `route -n` flags, computed the way the kernel computes them.
    ///
    /// IPv4 follows `/proc/net/route` (`fib_flag_trans` in `net/ipv4/fib_trie.c`): U always,
    /// G when the first nexthop has a gateway, H for a /32, reject (`!`) for unreachable and
    /// prohibit only (a blackhole is a plain `U`). An IPv6 gateway on an IPv4 route
    /// (`via inet6`) counts as G when its first 32 bits are not zero, because the kernel
    /// tests the IPv4 member of the gateway union.
    ///
    /// IPv6 follows `/proc/net/ipv6_route` (`route -6`): blackhole, unreachable, prohibit and
    /// throw are all reject routes and are not up, G when the nexthop has a gateway, and
    /// never H (the kernel does not set RTF_HOST on IPv6 routes, not even on a /128).
    pub fn flags(&self) -> RouteFlags {
        let v4 = self.family() == Family::Inet;
        let reject = if v4 {
            matches!(self.kind, RouteType::Unreachable | RouteType::Prohibit)
        } else {
            matches!(
                self.kind,
                RouteType::Blackhole
                    | RouteType::Unreachable
                    | RouteType::Prohibit
                    | RouteType::Throw
            )
        };
        let gateway = match self.gateway() {
            None => false,
            Some(IpAddr::V4(a)) => !a.is_unspecified(),
            Some(IpAddr::V6(a)) if v4 => a.octets()[..4] != [0, 0, 0, 0],
            Some(IpAddr::V6(a)) => !a.is_unspecified(),
        };
        RouteFlags {
            up: v4 || !reject,
            gateway,
            host: v4 && self.dst.prefix() == 32,
            reject,
        }
    }

    /// The destination as `ip route` prints it: `default`, a bare address for a host
    /// route, or a CIDR.
    pub fn dst_label(&self) -> String {
        let full = if self.family() == Family::Inet {
            32
        } else {
            128
        };
        if self.dst.prefix() == 0 {
            "default".into()
        } else if self.dst.prefix() == full {
            self.dst.ip().to_string()
        } else {
            format!("{}/{}", self.dst.network(), self.dst.prefix())
        }
    }
}

impl Route {
    /// ` via GW`, or ` via inet6 GW` when the gateway is of the other family (RTA_VIA, an
    /// IPv4 route through an IPv6 next hop), as iproute2 prints it.
    fn write_via(&self, f: &mut fmt::Formatter<'_>, gw: IpAddr) -> fmt::Result {
        match (self.family(), Family::of(&gw)) {
            (Family::Inet, Family::Inet6) => write!(f, " via inet6 {gw}"),
            (Family::Inet6, Family::Inet) => write!(f, " via inet {gw}"),
            _ => write!(f, " via {gw}"),
        }
    }
}

/// Prints the route the way `ip route show` prints it (without `-d`): type only when not
/// unicast, `table` unless main, `proto` unless boot, `scope` unless global. A multipath
/// route spans several lines, as in iproute2: the head line, then one
/// `\tnexthop via … dev … weight N` line per nexthop.
impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind != RouteType::Unicast {
            write!(f, "{} ", self.kind.name())?;
        }
        f.write_str(&self.dst_label())?;
        if self.tos != 0 {
            write!(f, " tos 0x{:02x}", self.tos)?;
        }
        if let [hop] = self.nexthops.as_slice() {
            if let Some(gw) = hop.gateway {
                self.write_via(f, gw)?;
            }
            if let Some(dev) = &hop.dev {
                write!(f, " dev {dev}")?;
            }
        }
        if self.table != Table::MAIN {
            write!(f, " table {}", self.table.name())?;
        }
        if self.proto != Protocol::BOOT {
            write!(f, " proto {}", self.proto.label())?;
        }
        if self.scope != Scope::Universe {
            write!(f, " scope {}", self.scope.name())?;
        }
        if let Some(src) = self.prefsrc {
            write!(f, " src {src}")?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        if let [hop] = self.nexthops.as_slice() {
            for w in hop.flags.words() {
                write!(f, " {w}")?;
            }
        }
        if let Some(mtu) = self.mtu {
            write!(f, " mtu {mtu}")?;
        }
        if self.nexthops.len() > 1 {
            // iproute2 (print_rta_multipath) puts each nexthop on its own line, after a tab.
            for hop in &self.nexthops {
                f.write_str("\n\tnexthop")?;
                if let Some(gw) = hop.gateway {
                    self.write_via(f, gw)?;
                }
                if let Some(dev) = &hop.dev {
                    write!(f, " dev {dev}")?;
                }
                write!(f, " weight {}", hop.weight)?;
                for w in hop.flags.words() {
                    write!(f, " {w}")?;
                }
            }
        }
        Ok(())
    }
}

/// The `route -n` flag letters a route gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RouteFlags {
    /// U: the route is up (always for IPv4; not for IPv6 reject routes).
    pub up: bool,
    /// G: the first nexthop has a gateway.
    pub gateway: bool,
    /// H: a host route (/32 or /128).
    pub host: bool,
    /// !: reject: unreachable or prohibit for IPv4 (a blackhole is not `!` in `route -n`);
    /// also blackhole and throw for IPv6.
    pub reject: bool,
}

impl RouteFlags {
    /// The letters as net-tools prints them: `U`, `G`, `H`; a reject route prints `!`
    /// instead of `U` and `G` (`!`, or `!H` for a /32), as `route -n` does. (`route -6`
    /// adds `n` for RTF_NONEXTHOP on reject and local routes; netpath does not.)
    pub fn letters(&self) -> String {
        let mut s = String::new();
        if self.reject {
            s.push('!');
        } else {
            if self.up {
                s.push('U');
            }
            if self.gateway {
                s.push('G');
            }
        }
        if self.host {
            s.push('H');
        }
        s
    }

    /// The words for each letter (`up`, `gateway`, `host`, `reject`).
    pub fn words(&self) -> Vec<&'static str> {
        let mut w = Vec::new();
        if self.up {
            w.push("up");
        }
        if self.gateway {
            w.push("gateway");
        }
        if self.host {
            w.push("host");
        }
        if self.reject {
            w.push("reject");
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNetwork {
        s.parse().unwrap()
    }

    #[test]
    fn flags_follow_the_kernel() {
        let gw = Route::unicast(
            net("10.244.1.0/24"),
            Nexthop::via("10.168.0.3".parse().unwrap(), "eth0"),
        );
        assert_eq!(gw.flags().letters(), "UG");
        let host = Route::unicast(net("10.244.0.5/32"), Nexthop::dev("cali1234567890a"));
        assert_eq!(host.flags().letters(), "UH");
        let borrowed = Route::unicast(
            net("10.244.0.9/32"),
            Nexthop::via("192.168.2.2".parse().unwrap(), "tunl0").onlink(),
        );
        assert_eq!(borrowed.flags().letters(), "UGH");
        let bh = Route::drop(RouteType::Blackhole, net("10.244.0.0/26"), Protocol::BIRD);
        assert_eq!(bh.flags().letters(), "U");
        let un = Route::drop(RouteType::Unreachable, net("10.9.0.0/16"), Protocol::BOOT);
        assert_eq!(un.flags().letters(), "!");
        let un_host = Route::drop(RouteType::Unreachable, net("10.9.1.1/32"), Protocol::BOOT);
        assert_eq!(un_host.flags().letters(), "!H");
        assert!(
            un_host.flags().up,
            "the kernel sets RTF_UP on IPv4 reject routes"
        );
        let via6 = Route::unicast(
            net("10.60.0.0/16"),
            Nexthop::via("fe80::1".parse().unwrap(), "eth0"),
        );
        assert_eq!(via6.flags().letters(), "UG");
    }

    #[test]
    fn ipv6_flags_follow_proc_net_ipv6_route() {
        let host = Route::unicast(net("2001:db8:4::5/128"), Nexthop::dev("eth0"));
        assert_eq!(host.flags().letters(), "U", "no H for IPv6");
        let gw = Route::unicast(
            net("2001:db8:3::/64"),
            Nexthop::via("fd00:1::1".parse().unwrap(), "eth0"),
        );
        assert_eq!(gw.flags().letters(), "UG");
        for kind in [
            RouteType::Blackhole,
            RouteType::Unreachable,
            RouteType::Prohibit,
            RouteType::Throw,
        ] {
            let r = Route::drop(kind, net("2001:db8::/64"), Protocol::BOOT);
            assert_eq!(r.flags().letters(), "!", "{kind:?}");
            assert!(!r.flags().up);
        }
    }

    #[test]
    fn display_like_ip_route() {
        let mut r = Route::unicast(
            net("10.244.1.0/24"),
            Nexthop::via("10.244.1.0".parse().unwrap(), "flannel.1").onlink(),
        );
        assert_eq!(
            r.to_string(),
            "10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink"
        );
        r.proto = Protocol::FELIX;
        r.mtu = Some(1450);
        assert_eq!(
            r.to_string(),
            "10.244.1.0/24 via 10.244.1.0 dev flannel.1 proto 80 onlink mtu 1450"
        );
        let bh = Route::drop(RouteType::Blackhole, net("10.244.0.0/26"), Protocol::BIRD);
        assert_eq!(bh.to_string(), "blackhole 10.244.0.0/26 proto bird");
        let host = Route::unicast(net("10.244.0.5/32"), Nexthop::dev("cali1"));
        assert_eq!(host.to_string(), "10.244.0.5 dev cali1 scope link");
        let mut multi = Route::unicast(
            net("10.244.3.0/24"),
            Nexthop::via("192.168.1.13".parse().unwrap(), "eth0"),
        );
        let mut second = Nexthop::via("192.168.1.14".parse().unwrap(), "eth0");
        second.weight = 3;
        multi.nexthops.push(second);
        assert_eq!(
            multi.to_string(),
            "10.244.3.0/24\n\tnexthop via 192.168.1.13 dev eth0 weight 1\n\tnexthop via 192.168.1.14 dev eth0 weight 3"
        );
        let v6gw = Route::unicast(
            net("10.60.0.0/16"),
            Nexthop::via("fe80::1".parse().unwrap(), "eth0"),
        );
        assert_eq!(v6gw.to_string(), "10.60.0.0/16 via inet6 fe80::1 dev eth0");
        assert_eq!(Protocol::parse("bird"), Some(Protocol::BIRD));
        assert_eq!(Protocol::parse("80"), Some(Protocol::FELIX));
        assert_eq!(Protocol::FELIX.label(), "80");
    }
}
