//! Underlay routers: interfaces, connected and static routes, and, when a router peers
//! BGP with Calico nodes, the blocks (and borrowed pod addresses) it learns.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use crate::dataplane::{LinkKind, Nexthop, NodeState, Protocol, Route, Scope};
use crate::model::{Bgp, Cluster, Mode, canonical};

use super::PeerPart;
use super::builder::{Builder, connected};
use crate::cni::derived_mac;

/// The state of router number `idx` of the underlay: its interfaces `eth0`…, connected
/// routes, static routes, and, when it peers BGP with Calico nodes, every node's blocks.
pub fn router_state(cluster: &Cluster, idx: usize) -> NodeState {
    let mut b = Builder::new(&cluster.underlay.routers[idx].name);
    router_local_into(cluster, idx, &mut b);
    if router_peers(cluster, idx) {
        for part in PeerPart::all(cluster) {
            router_part_into(cluster, idx, part, &mut b);
        }
    }
    b.st
}

/// What a router has whatever the destination: interfaces, connected and static routes.
pub(super) fn router_local_into(cluster: &Cluster, idx: usize, b: &mut Builder) {
    let r = &cluster.underlay.routers[idx];
    b.loopback();
    let mtu = cluster.nodes.first().map(|n| n.mtu).unwrap_or(1500);
    for (i, a) in r.interfaces.iter().enumerate() {
        let dev = format!("eth{i}");
        b.link(
            &dev,
            LinkKind::Device,
            mtu,
            Some(derived_mac("router:", &format!("{}/{dev}", r.name))),
            None,
        );
        b.addr(&dev, *a, Scope::Universe);
        b.route(connected(canonical(*a), &dev, a.ip()));
    }
    for s in &r.routes {
        if let Some(dev) = router_dev_for(r, s.via) {
            b.route(Route::unicast(s.dst, Nexthop::via(s.via, dev)));
        }
    }
    b.st.sysctls.ip_forward = Some(true);
}

/// True when router `idx` peers BGP with the Calico nodes (and so learns their blocks).
pub(super) fn router_peers(cluster: &Cluster, idx: usize) -> bool {
    match &cluster.mode {
        Mode::Calico(c) => cluster.underlay.routers[idx].bgp && c.bgp != Bgp::Off,
        Mode::Flannel(_) => false,
    }
}

/// The router's device on the subnet of `gw` (`eth0`…).
pub(super) fn router_dev_for(r: &crate::model::Router, gw: IpAddr) -> Option<String> {
    r.interfaces
        .iter()
        .position(|a| a.contains(gw))
        .map(|i| format!("eth{i}"))
}

/// The router's next hop for a node's address: the node itself when on a connected
/// subnet, else the most specific static route's gateway.
pub(super) fn router_via(r: &crate::model::Router, ip: IpAddr) -> Option<(IpAddr, String)> {
    if let Some(dev) = router_dev_for(r, ip) {
        return Some((ip, dev));
    }
    r.routes
        .iter()
        .filter(|s| s.dst.contains(ip))
        .max_by_key(|s| s.dst.prefix())
        .and_then(|s| router_dev_for(r, s.via).map(|d| (s.via, d)))
}

/// The BGP routes a peering router learns from one part of the cluster: a node's blocks,
/// or one borrowed pod address.
pub(super) fn router_part_into(cluster: &Cluster, idx: usize, part: PeerPart, b: &mut Builder) {
    let r = &cluster.underlay.routers[idx];
    let k = match part {
        PeerPart::Node(j) => {
            let n = &cluster.nodes[j];
            let Some((gw, dev)) = router_via(r, n.ip()) else {
                return;
            };
            for blk in n.pod_cidrs.iter().filter(|c| c.is_ipv4()) {
                let mut rt = Route::unicast(*blk, Nexthop::via(gw, dev.clone()));
                rt.proto = Protocol::BIRD;
                b.route(rt);
            }
            return;
        }
        PeerPart::Borrowed(k) => k,
    };
    let Some(&p) = cluster.borrowed_pods().get(k) else {
        return;
    };
    let pod = &cluster.pods[p];
    let (Some(n), Some(ip)) = (cluster.node(&pod.node), pod.ipv4()) else {
        return;
    };
    if let Some((gw, dev)) = router_via(r, n.ip()) {
        let mut rt = Route::unicast(IpNetwork::from(IpAddr::V4(ip)), Nexthop::via(gw, dev));
        rt.proto = Protocol::BIRD;
        b.route(rt);
    }
}
