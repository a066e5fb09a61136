//! The plan's writer: a [`NodeState`] with its notes and warnings, grown one device,
//! address, route or entry at a time, and the underlay every node starts from.

use std::net::{IpAddr, Ipv4Addr};

use ipnetwork::IpNetwork;

use crate::dataplane::{
    Addr, FdbEntry, Link, LinkKind, MacAddr, Neighbour, Nexthop, NodeState, NudState, Protocol,
    Route, Scope,
};
use crate::model::{Node, canonical};

use crate::cni::derived_mac;

pub(super) struct Builder {
    pub(super) st: NodeState,
    pub(super) notes: Vec<String>,
    pub(super) warnings: Vec<String>,
    /// A route the CNI cannot program has been warned about (once per plan is enough).
    pub(super) warned_route: bool,
}

impl Builder {
    pub(super) fn new(name: &str) -> Builder {
        Builder {
            st: NodeState {
                node: name.to_string(),
                ..Default::default()
            },
            notes: Vec::new(),
            warnings: Vec::new(),
            warned_route: false,
        }
    }

    pub(super) fn loopback(&mut self) {
        self.link("lo", LinkKind::Loopback, 65536, None, None);
        self.addr(
            "lo",
            IpNetwork::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8).unwrap_or_else(|_| default_v4()),
            Scope::Host,
        );
    }

    pub(super) fn link(
        &mut self,
        name: &str,
        kind: LinkKind,
        mtu: u32,
        mac: Option<MacAddr>,
        master: Option<&str>,
    ) {
        self.st.links.push(Link {
            mac,
            master: master.map(str::to_string),
            ..Link::up(name, kind, mtu)
        });
    }

    pub(super) fn addr(&mut self, dev: &str, addr: IpNetwork, scope: Scope) {
        self.st.addrs.push(Addr {
            dev: dev.to_string(),
            addr,
            scope,
        });
    }

    pub(super) fn route(&mut self, r: Route) {
        self.st.routes.push(r);
    }

    pub(super) fn neigh(&mut self, dst: IpAddr, mac: MacAddr, dev: &str) {
        self.st.neighbours.push(Neighbour {
            dst,
            lladdr: Some(mac),
            dev: dev.to_string(),
            state: NudState::Permanent,
        });
    }

    pub(super) fn fdb(&mut self, mac: MacAddr, dst: IpAddr, dev: &str) {
        self.st.fdb.push(FdbEntry {
            mac,
            dst: Some(dst),
            dev: dev.to_string(),
            master: None,
            self_: true,
            state: NudState::Permanent,
        });
    }
}

pub(super) fn default_v4() -> IpNetwork {
    IpNetwork::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
        .unwrap_or_else(|_| IpNetwork::from(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
}

/// The kernel's connected route for an address: `NET dev DEV proto kernel scope link src IP`.
pub(super) fn connected(net: IpNetwork, dev: &str, src: IpAddr) -> Route {
    let mut r = Route::unicast(canonical(net), Nexthop::dev(dev));
    r.proto = Protocol::KERNEL;
    r.prefsrc = Some(src);
    r
}

pub(super) fn via(dst: IpNetwork, gw: IpAddr, dev: &str, proto: Protocol, onlink: bool) -> Route {
    let mut hop = Nexthop::via(gw, dev);
    hop.flags.onlink = onlink;
    let mut r = Route::unicast(dst, hop);
    r.proto = proto;
    r
}

/// The node's underlay as it is before the CNI: loopback, the uplink with its address and
/// connected route, the default route.
pub(super) fn underlay_into(node: &Node, b: &mut Builder) {
    b.loopback();
    b.link(
        &node.iface,
        LinkKind::Device,
        node.mtu,
        Some(derived_mac("node:", &node.name)),
        None,
    );
    b.addr(&node.iface, node.address, Scope::Universe);
    b.route(connected(node.address, &node.iface, node.ip()));
    if let Some(gw) = node.gateway {
        b.route(Route::unicast(default_v4(), Nexthop::via(gw, &node.iface)));
    }
    b.st.sysctls.ip_forward = Some(true);
}

/// What `ip route get REMOTE` answers on the node's underlay: `Some(None)` for a connected
/// subnet (one route, no gateway: flannel's DirectRouting test), `Some(Some(gw))` through the
/// default gateway, `None` when unreachable.
pub(super) fn underlay_next_hop(node: &Node, remote: IpAddr) -> Option<Option<IpAddr>> {
    if node.address.contains(remote) {
        Some(None)
    } else {
        node.gateway.map(Some)
    }
}
