//! What the agent does to a node: one kernel change each, printable as the `ip`/`bridge`
//! command that does the same.

use std::fmt::Write as _;

use serde::Serialize;

use super::{
    Addr, Family, FdbEntry, Link, LinkKind, MacAddr, Neighbour, Protocol, Route, RouteType, Scope,
    Table,
};

/// The order phases run in. Creating comes before using, adding before deleting, so
/// live traffic always has a route: devices, then addresses, then neighbours and FDB
/// entries, then routes (new ones replace old ones in place, or are added before the old
/// ones go), deletions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Forwarding sysctls (turning forwarding on never drops traffic).
    Sysctl,
    /// A device that must be recreated (VNI, port, local, underlay cannot change in place).
    RecreateLink,
    /// New devices.
    CreateLink,
    /// MTU, MAC, master, up.
    SetLink,
    /// Addresses.
    AddAddr,
    /// Permanent neighbours.
    Neighbour,
    /// FDB entries.
    Fdb,
    /// Routes without a gateway (device, blackhole): other routes may resolve through them.
    DirectRoute,
    /// Routes through a gateway.
    GatewayRoute,
    /// Owned routes that the plan no longer has.
    DeleteRoute,
    /// Owned FDB entries the plan no longer has (after the routes that used them).
    DeleteFdb,
    /// Owned neighbours the plan no longer has.
    DeleteNeighbour,
    /// Addresses the plan no longer has on a device the agent manages.
    DeleteAddr,
}

/// One change to the kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// Write a sysctl under /proc/sys (`net.ipv4.ip_forward` = `1`).
    SetSysctl {
        /// Dotted key.
        key: String,
        /// Value to write.
        value: String,
    },
    /// Delete a device the agent manages, to recreate it (a [`Change::CreateLink`] follows).
    DeleteLink {
        /// Device name.
        name: String,
    },
    /// Create a device (vxlan, bridge, ipip), up, with its MTU, MAC and master.
    CreateLink(Link),
    /// Fix a device in place.
    SetLink {
        /// Device name.
        name: String,
        /// New MTU.
        mtu: Option<u32>,
        /// New MAC address.
        mac: Option<MacAddr>,
        /// New master (bridge).
        master: Option<String>,
        /// Set it up.
        up: bool,
    },
    /// Add an address.
    AddAddr(Addr),
    /// Delete an address.
    DeleteAddr(Addr),
    /// Add or replace a permanent neighbour.
    ReplaceNeighbour(Neighbour),
    /// Delete a neighbour.
    DeleteNeighbour(Neighbour),
    /// Add or replace an FDB entry (NTF_SELF on a VXLAN device, permanent).
    ReplaceFdb(FdbEntry),
    /// Delete an FDB entry.
    DeleteFdb(FdbEntry),
    /// Add or replace a route (NLM_F_CREATE | NLM_F_REPLACE on its table, dst, tos, metric).
    ReplaceRoute(Route),
    /// Delete a route (matched on its protocol too, so only owned routes go).
    DeleteRoute(Route),
}

impl Change {
    /// The phase this change runs in.
    pub fn phase(&self) -> Phase {
        match self {
            Change::SetSysctl { .. } => Phase::Sysctl,
            Change::DeleteLink { .. } => Phase::RecreateLink,
            Change::CreateLink(_) => Phase::CreateLink,
            Change::SetLink { .. } => Phase::SetLink,
            Change::AddAddr(_) => Phase::AddAddr,
            Change::ReplaceNeighbour(_) => Phase::Neighbour,
            Change::ReplaceFdb(_) => Phase::Fdb,
            Change::ReplaceRoute(r) => {
                if r.nexthops.iter().any(|h| h.gateway.is_some()) {
                    Phase::GatewayRoute
                } else {
                    Phase::DirectRoute
                }
            }
            Change::DeleteRoute(_) => Phase::DeleteRoute,
            Change::DeleteFdb(_) => Phase::DeleteFdb,
            Change::DeleteNeighbour(_) => Phase::DeleteNeighbour,
            Change::DeleteAddr(_) => Phase::DeleteAddr,
        }
    }

    /// A short description for logs: `replace route 10.244.2.0/24 via … onlink`.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        self.describe_into(&mut s);
        s
    }

    /// [`Change::describe`], appended to `s` (one buffer for 100,000 log lines).
    pub fn describe_into(&self, s: &mut String) {
        match self {
            Change::ReplaceRoute(r) => {
                s.push_str("replace route ");
                push_route_args(s, r);
            }
            Change::DeleteRoute(r) => {
                s.push_str("delete route ");
                push_route_args(s, r);
            }
            other => s.push_str(&other.describe_other()),
        }
    }

    fn describe_other(&self) -> String {
        match self {
            Change::SetSysctl { key, value } => format!("set sysctl {key}={value}"),
            Change::DeleteLink { name } => format!("delete device {name} (to recreate it)"),
            Change::CreateLink(l) => format!("create {} device {}", l.kind.name(), l.name),
            Change::SetLink { name, .. } => format!("fix device {name}"),
            Change::AddAddr(a) => format!("add address {} dev {}", a.addr, a.dev),
            Change::DeleteAddr(a) => format!("delete address {} dev {}", a.addr, a.dev),
            Change::ReplaceNeighbour(n) => format!("replace neighbour {}", neigh_args(n)),
            Change::DeleteNeighbour(n) => format!("delete neighbour {} dev {}", n.dst, n.dev),
            Change::ReplaceFdb(e) => format!("replace fdb {}", fdb_args(e)),
            Change::DeleteFdb(e) => format!("delete fdb {}", fdb_args(e)),
            Change::ReplaceRoute(r) => format!("replace route {}", route_args(r)),
            Change::DeleteRoute(r) => format!("delete route {}", route_args(r)),
        }
    }

    /// The shell commands that make the same change (`ip route replace …`).
    pub fn commands(&self) -> Vec<String> {
        match self {
            Change::SetSysctl { key, value } => vec![format!("sysctl -w {key}={value}")],
            Change::DeleteLink { name } => vec![format!("ip link del {name}")],
            Change::CreateLink(l) => vec![link_add_command(l)],
            Change::SetLink {
                name,
                mtu,
                mac,
                master,
                up,
            } => {
                let mut s = format!("ip link set dev {name}");
                if let Some(m) = mtu {
                    let _ = write!(s, " mtu {m}");
                }
                if let Some(m) = mac {
                    let _ = write!(s, " address {m}");
                }
                if let Some(m) = master {
                    let _ = write!(s, " master {m}");
                }
                if *up {
                    s.push_str(" up");
                }
                vec![s]
            }
            Change::AddAddr(a) => vec![format!("ip addr add {}", addr_args(a))],
            Change::DeleteAddr(a) => vec![format!("ip addr del {}", addr_args(a))],
            Change::ReplaceNeighbour(n) => vec![format!("ip neigh replace {}", neigh_args(n))],
            Change::DeleteNeighbour(n) => {
                vec![format!("ip neigh del {} dev {}", n.dst, n.dev)]
            }
            Change::ReplaceFdb(e) => vec![format!("bridge fdb replace {}", fdb_args(e))],
            Change::DeleteFdb(e) => {
                let mut s = format!("bridge fdb del {} dev {}", e.mac, e.dev);
                if let Some(d) = e.dst {
                    let _ = write!(s, " dst {d}");
                }
                if e.self_ {
                    s.push_str(" self");
                }
                vec![s]
            }
            Change::ReplaceRoute(r) => vec![format!("ip route replace {}", route_args(r))],
            Change::DeleteRoute(r) => vec![format!("ip route del {}", route_delete_args(r))],
        }
    }
}

/// `ip link add` for a device, with everything the agent sets at creation.
pub fn link_add_command(l: &Link) -> String {
    let mut s = format!("ip link add {}", l.name);
    if let Some(m) = l.mac {
        let _ = write!(s, " address {m}");
    }
    if l.mtu != 0 {
        let _ = write!(s, " mtu {}", l.mtu);
    }
    if let Some(m) = &l.master {
        let _ = write!(s, " master {m}");
    }
    if l.up {
        s.push_str(" up");
    }
    match &l.kind {
        LinkKind::Vxlan(v) => {
            let _ = write!(s, " type vxlan id {}", v.vni);
            if let Some(local) = v.local {
                let _ = write!(s, " local {local}");
            }
            if let Some(dev) = &v.dev {
                let _ = write!(s, " dev {dev}");
            }
            let _ = write!(s, " dstport {}", vxlan_port(v.port));
            if !v.learning {
                s.push_str(" nolearning");
            }
        }
        LinkKind::Ipip { local, remote } => {
            s.push_str(" type ipip");
            if let Some(r) = remote {
                let _ = write!(s, " remote {r}");
            }
            if let Some(l) = local {
                let _ = write!(s, " local {l}");
            }
        }
        other => {
            let _ = write!(s, " type {}", other.name());
        }
    }
    s
}

/// The kernel's default VXLAN port (`udp_port=8472`) when a plan leaves it at 0.
pub fn vxlan_port(port: u16) -> u16 {
    if port == 0 { 8472 } else { port }
}

fn addr_args(a: &Addr) -> String {
    let mut s = format!("{} dev {}", a.addr, a.dev);
    if a.scope != Scope::Universe {
        let _ = write!(s, " scope {}", a.scope.name());
    }
    s
}

fn neigh_args(n: &Neighbour) -> String {
    let mut s = n.dst.to_string();
    if let Some(m) = n.lladdr {
        let _ = write!(s, " lladdr {m}");
    }
    let _ = write!(s, " dev {} nud permanent", n.dev);
    s
}

fn fdb_args(e: &FdbEntry) -> String {
    let mut s = format!("{} dev {}", e.mac, e.dev);
    if let Some(d) = e.dst {
        let _ = write!(s, " dst {d}");
    }
    if e.self_ {
        s.push_str(" self");
    }
    s.push_str(" permanent");
    s
}

/// The scope `ip route add` would pick by itself for this route.
fn default_scope(r: &Route) -> Scope {
    match r.kind {
        RouteType::Local => Scope::Host,
        RouteType::Unicast if r.nexthops.iter().all(|h| h.gateway.is_none()) => Scope::Link,
        _ => Scope::Universe,
    }
}

/// The metric the kernel gives a route without one (IPv6: 1024).
pub fn effective_metric(r: &Route) -> u32 {
    r.metric.unwrap_or(match r.family() {
        Family::Inet => 0,
        Family::Inet6 => 1024,
    })
}

/// The arguments of `ip route replace` that rebuild this route exactly: every attribute
/// the agent sets (type, table, protocol, scope when not the default, metric, MTU, onlink,
/// multipath), none of the kernel's state flags.
pub fn route_args(r: &Route) -> String {
    let mut s = String::new();
    push_route_args(&mut s, r);
    s
}

/// [`route_args`], appended to `s`.
pub fn push_route_args(s: &mut String, r: &Route) {
    push_route_selector(s, r);
    match r.proto.name() {
        Some(name) => {
            s.push_str(" proto ");
            s.push_str(name);
        }
        None => {
            let _ = write!(s, " proto {}", r.proto.0);
        }
    }
    if r.scope != default_scope(r) {
        let _ = write!(s, " scope {}", r.scope.name());
    }
    if let Some(src) = r.prefsrc {
        let _ = write!(s, " src {src}");
    }
    if let Some(m) = r.metric {
        let _ = write!(s, " metric {m}");
    }
    if let [hop] = r.nexthops.as_slice() {
        if hop.flags.onlink {
            s.push_str(" onlink");
        }
    }
    if let Some(mtu) = r.mtu {
        let _ = write!(s, " mtu {mtu}");
    }
    if r.nexthops.len() > 1 {
        for hop in &r.nexthops {
            s.push_str(" nexthop");
            if let Some(gw) = hop.gateway {
                let _ = write!(s, " via {gw}");
            }
            if let Some(dev) = &hop.dev {
                let _ = write!(s, " dev {dev}");
            }
            let _ = write!(s, " weight {}", hop.weight.max(1));
            if hop.flags.onlink {
                s.push_str(" onlink");
            }
        }
    }
}

/// The start of both `ip route` argument lists: type, destination, TOS, a single hop's
/// gateway and device, table.
fn route_selector(r: &Route) -> String {
    let mut s = String::new();
    push_route_selector(&mut s, r);
    s
}

/// [`route_selector`], appended to `s`.
fn push_route_selector(s: &mut String, r: &Route) {
    if r.kind != RouteType::Unicast {
        let _ = write!(s, "{} ", r.kind.name());
    }
    push_ip(s, r.dst.network());
    s.push('/');
    push_u8(s, r.dst.prefix());
    if r.tos != 0 {
        let _ = write!(s, " tos 0x{:02x}", r.tos);
    }
    if let [hop] = r.nexthops.as_slice() {
        if let Some(gw) = hop.gateway {
            s.push_str(" via ");
            push_ip(s, gw);
        }
        if let Some(dev) = &hop.dev {
            s.push_str(" dev ");
            s.push_str(dev);
        }
    }
    if r.table != Table::MAIN {
        let _ = write!(s, " table {}", r.table.name());
    }
}

/// Append a number below 256 in decimal.
fn push_u8(s: &mut String, n: u8) {
    if n >= 100 {
        s.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        s.push(char::from(b'0' + n / 10 % 10));
    }
    s.push(char::from(b'0' + n % 10));
}

/// Append an address as `Display` writes it; IPv4 without the formatting machinery (the
/// agent logs one line per route, 100,000 of them).
pub fn push_ip(s: &mut String, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(a) => {
            let [a, b, c, d] = a.octets();
            push_u8(s, a);
            s.push('.');
            push_u8(s, b);
            s.push('.');
            push_u8(s, c);
            s.push('.');
            push_u8(s, d);
        }
        std::net::IpAddr::V6(a) => {
            let _ = write!(s, "{a}");
        }
    }
}

/// The arguments of `ip route del` that match exactly this route and no other: type,
/// destination, table, protocol (so another program's route is never hit), metric.
pub fn route_delete_args(r: &Route) -> String {
    let mut s = route_selector(r);
    if r.proto != Protocol::UNSPEC {
        let _ = write!(s, " proto {}", r.proto.label());
    }
    if let Some(m) = r.metric {
        let _ = write!(s, " metric {m}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::{Nexthop, Vxlan};

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        let mut addrs: Vec<std::net::IpAddr> = ["fe80::1", "2001:db8::", "::ffff:10.0.0.1"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        for n in [0u8, 1, 9, 10, 99, 100, 199, 200, 255] {
            addrs.push(std::net::Ipv4Addr::new(n, 255 - n, n / 2, 7).into());
        }
        for ip in addrs {
            let mut s = String::from("x");
            push_ip(&mut s, ip);
            assert_eq!(s, format!("x{ip}"));
        }
        let mut s = String::new();
        for n in 0..=255u8 {
            s.clear();
            push_u8(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn commands_rebuild_the_objects() {
        let mut r = Route::unicast(
            "10.244.2.0/24".parse().unwrap(),
            Nexthop::via("10.244.2.0".parse().unwrap(), "flannel.1").onlink(),
        );
        r.proto = Protocol(158);
        assert_eq!(
            Change::ReplaceRoute(r.clone()).commands(),
            vec!["ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 proto 158 onlink"]
        );
        assert_eq!(
            Change::DeleteRoute(r).commands(),
            vec!["ip route del 10.244.2.0/24 via 10.244.2.0 dev flannel.1 proto 158"]
        );
        let host = Route::unicast("10.65.0.2/32".parse().unwrap(), Nexthop::dev("cali1"));
        assert_eq!(route_args(&host), "10.65.0.2/32 dev cali1 proto boot");
        let bh = Route::drop(
            RouteType::Blackhole,
            "10.65.0.0/26".parse().unwrap(),
            Protocol::FELIX,
        );
        assert_eq!(route_args(&bh), "blackhole 10.65.0.0/26 proto 80");
        let link = Link {
            ifindex: 0,
            name: "vxlan.calico".into(),
            kind: LinkKind::Vxlan(Vxlan {
                vni: 4096,
                port: 4789,
                local: Some("192.168.1.11".parse().unwrap()),
                dev: Some("eth0".into()),
                learning: false,
            }),
            mtu: 1450,
            mac: Some("66:f9:37:c3:7e:94".parse().unwrap()),
            up: true,
            oper_state: None,
            master: None,
            hairpin: None,
        };
        assert_eq!(
            link_add_command(&link),
            "ip link add vxlan.calico address 66:f9:37:c3:7e:94 mtu 1450 up type vxlan id 4096 \
             local 192.168.1.11 dev eth0 dstport 4789 nolearning"
        );
    }
}
