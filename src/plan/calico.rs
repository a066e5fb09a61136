//! What Calico programs on a node: tunl0 / vxlan.calico, blackholes for its blocks, a /32
//! and a permanent neighbour per local pod, and per remote block the BGP, IPIP, VXLAN or
//! CrossSubnet route.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use crate::dataplane::{LinkKind, Nexthop, Protocol, Route, RouteType, Scope, Veth, Vxlan};
use crate::model::{Bgp, Calico, Cluster, EncapMode, Node, RouteOwner};

use super::builder::{Builder, underlay_next_hop, via};
use crate::cni::calico::{self as cni, POD_GATEWAY};
use crate::cni::{host_veth_name, pod_mac};

pub(super) fn calico_local_into(cluster: &Cluster, c: &Calico, idx: usize, b: &mut Builder) {
    let node = &cluster.nodes[idx];
    let ipip_mtu = cni::ipip_mtu(node);
    let vxlan_mtu = cni::vxlan_mtu(node);
    let pod_mtu = cni::pod_mtu(c, node);
    if c.uses_ipip() {
        b.link(
            cni::IPIP_DEV,
            LinkKind::Ipip {
                local: None,
                remote: None,
            },
            ipip_mtu,
            None,
            None,
        );
        if let Some(t) = node.ipip_tunnel_ip {
            b.addr(cni::IPIP_DEV, IpNetwork::from(t), Scope::Universe);
        }
    }
    if c.uses_vxlan() {
        b.link(
            cni::VXLAN_DEV,
            LinkKind::Vxlan(Vxlan {
                vni: c.vxlan_vni,
                port: c.vxlan_port,
                local: Some(node.ip()),
                dev: Some(node.iface.clone()),
                learning: false,
            }),
            vxlan_mtu,
            Some(cni::vtep_mac(node)),
            None,
        );
        match node.vxlan_tunnel_ip {
            Some(t) => b.addr(cni::VXLAN_DEV, IpNetwork::from(t), Scope::Universe),
            None => b.warnings.push(format!(
                "node {} has no VXLAN tunnel address (projectcalico.org/IPv4VXLANTunnelAddr): host-to-pod traffic has no source address on {} and peers get no route to it",
                node.name,
                cni::VXLAN_DEV
            )),
        }
    }
    // Local blocks: blackholes (BIRD for BGP/IPIP-by-BIRD, Felix otherwise).
    for blk in node.pod_cidrs.iter().filter(|c| c.is_ipv4()) {
        let proto = match c.pool_for(blk) {
            Some(p) if p.vxlan != EncapMode::Never => Protocol::FELIX,
            Some(p) if p.ipip != EncapMode::Never && c.ipip_routes == RouteOwner::Felix => {
                Protocol::FELIX
            }
            _ => Protocol::BIRD,
        };
        if blk.prefix() < 32 {
            b.route(Route::drop(RouteType::Blackhole, *blk, proto));
        }
    }
    // Local pods: /32 to the cali veth, static ARP, proxy ARP on the host side.
    for &p in cluster.pods_on(idx) {
        let pod = &cluster.pods[p];
        let (true, Some(ip)) = (pod.has_netns(), pod.ipv4()) else {
            continue;
        };
        let dev = host_veth_name(cluster, pod);
        b.link(
            &dev,
            LinkKind::Veth(Veth::default()),
            pod_mtu,
            Some(cni::HOST_VETH_MAC),
            None,
        );
        b.route(Route::unicast(
            IpNetwork::from(IpAddr::V4(ip)),
            Nexthop::dev(dev.clone()),
        ));
        b.neigh(IpAddr::V4(ip), pod_mac(pod), &dev);
        b.st.sysctls.proxy_arp.insert(dev.clone(), true);
        b.st.sysctls.forwarding.insert(dev, true);
    }
}

/// Node `idx`'s entries for node `j`: a route per block (BGP, IPIP, VXLAN or the
/// CrossSubnet plain route), and for VXLAN the VTEP's neighbour, FDB entry and the route to
/// its tunnel address when no block holds it. The first route Felix/BIRD cannot program is
/// warned about once per plan.
pub(super) fn calico_peer_into(
    cluster: &Cluster,
    c: &Calico,
    idx: usize,
    j: usize,
    b: &mut Builder,
) {
    let node = &cluster.nodes[idx];
    let remote = &cluster.nodes[j];
    let ipip_mtu = cni::ipip_mtu(node);
    let vxlan_mtu = cni::vxlan_mtu(node);
    for blk in remote.pod_cidrs.iter().filter(|c| c.is_ipv4()) {
        match calico_route(c, node, remote, *blk, ipip_mtu, vxlan_mtu) {
            Ok(r) => b.route(r),
            Err(w) => {
                if !b.warned_route {
                    b.warnings.push(w);
                    b.warned_route = true;
                }
            }
        }
    }
    if c.uses_vxlan() {
        if let Some(t) = remote.vxlan_tunnel_ip {
            let mac = cni::vtep_mac(remote);
            b.neigh(t, mac, cni::VXLAN_DEV);
            b.fdb(mac, remote.ip(), cni::VXLAN_DEV);
            if !remote.pod_cidrs.iter().any(|blk| blk.contains(t)) {
                b.route(Route::unicast(
                    IpNetwork::from(t),
                    Nexthop::dev(cni::VXLAN_DEV),
                ));
            }
        }
    }
}

/// Node `idx`'s route to borrowed pod address number `k` (outside its node's blocks): a
/// /32 like the block route.
pub(super) fn calico_borrowed_into(
    cluster: &Cluster,
    c: &Calico,
    idx: usize,
    k: usize,
    b: &mut Builder,
) {
    let node = &cluster.nodes[idx];
    let Some(&p) = cluster.borrowed_pods().get(k) else {
        return;
    };
    let pod = &cluster.pods[p];
    let (Some(remote), Some(ip)) = (cluster.node(&pod.node), pod.ipv4()) else {
        return;
    };
    if remote.name == node.name {
        return;
    }
    if let Ok(r) = calico_route(
        c,
        node,
        remote,
        IpNetwork::from(IpAddr::V4(ip)),
        cni::ipip_mtu(node),
        cni::vxlan_mtu(node),
    ) {
        b.route(r);
    }
}

pub(super) fn calico_notes_into(cluster: &Cluster, c: &Calico, idx: usize, b: &mut Builder) {
    let node = &cluster.nodes[idx];
    let pod_mtu = cni::pod_mtu(c, node);
    let n = cluster.nodes.len();
    match &c.bgp {
        Bgp::Mesh => b.notes.push(format!(
            "BGP node-to-node mesh: this node holds {} sessions ({} in the cluster), TCP 179",
            n.saturating_sub(1),
            n * n.saturating_sub(1) / 2
        )),
        Bgp::RouteReflectors(rr) => {
            let is_rr = rr.contains(&node.name);
            b.notes.push(format!(
                "BGP route reflectors ({}): this node holds {} sessions; routes are the same as with a mesh (reflection keeps the next hop)",
                rr.join(", "),
                if is_rr { n.saturating_sub(1) } else { rr.len() }
            ));
        }
        Bgp::Routers => {
            let peers = cluster
                .underlay
                .routers
                .iter()
                .filter(|r| r.bgp && r.interfaces.iter().any(|a| node.address.contains(a.ip())))
                .count();
            b.notes.push(format!(
                "BGP peering with the underlay routers: this node holds {peers} session(s); the mesh is off"
            ));
        }
        Bgp::Off => {}
    }
    b.notes.push(format!(
        "pod MTU {pod_mtu}; pods reach the host through proxy ARP for {POD_GATEWAY} on their cali veth (needs a host route to it, normally the default route)"
    ));
}

/// The route a Calico node programs to `dst` (a block or borrowed /32) owned by `remote`.
pub(super) fn calico_route(
    c: &Calico,
    local: &Node,
    remote: &Node,
    dst: IpNetwork,
    ipip_mtu: u32,
    vxlan_mtu: u32,
) -> Result<Route, String> {
    let eth = local.iface.as_str();
    let rip = remote.ip();
    let pool = c.pool_for(&dst);
    let same = local.same_subnet(rip);
    if let Some(p) = pool.filter(|p| p.vxlan != EncapMode::Never) {
        if p.vxlan == EncapMode::CrossSubnet && same {
            return Ok(via(dst, rip, eth, Protocol::FELIX, true));
        }
        let Some(t) = remote.vxlan_tunnel_ip else {
            return Err(format!(
                "node {} has no VXLAN tunnel address: Felix programs no route to its blocks",
                remote.name
            ));
        };
        let mut r = via(dst, t, cni::VXLAN_DEV, Protocol::BOOT, true);
        if c.vxlan_route_mtu {
            r.mtu = Some(vxlan_mtu);
        }
        return Ok(r);
    }
    if let Some(p) = pool.filter(|p| p.ipip != EncapMode::Never) {
        // BIRD learns other nodes' blocks over BGP and programs the IPIP routes; with BGP
        // off (calico_backend none or vxlan) it does not run. Felix-programmed IPIP routes
        // (programClusterRoutes) come from the datastore and need no BGP.
        if c.bgp == Bgp::Off && c.ipip_routes == RouteOwner::Bird {
            return Err(format!(
                "IPIP pool {} with BGP off: BIRD does not run (calico_backend none or vxlan), so nothing programs routes to other nodes' blocks",
                p.name
            ));
        }
        let plain = p.ipip == EncapMode::CrossSubnet && same;
        return Ok(match (c.ipip_routes, plain) {
            (RouteOwner::Bird, true) => via(dst, rip, eth, Protocol::BIRD, false),
            (RouteOwner::Bird, false) => via(dst, rip, cni::IPIP_DEV, Protocol::BIRD, true),
            (RouteOwner::Felix, true) => via(dst, rip, eth, Protocol::FELIX, true),
            (RouteOwner::Felix, false) => {
                let mut r = via(dst, rip, cni::IPIP_DEV, Protocol::FELIX, true);
                r.mtu = Some(ipip_mtu);
                r
            }
        });
    }
    // No encapsulation: BGP.
    if c.bgp == Bgp::Off {
        return Err(
            "no encapsulation and BGP off: nothing programs routes to other nodes' blocks".into(),
        );
    }
    match underlay_next_hop(local, rip) {
        Some(None) => Ok(via(dst, rip, eth, Protocol::BIRD, false)),
        Some(Some(gw)) => Ok(via(dst, gw, eth, Protocol::BIRD, false)),
        None => Err(format!(
            "BGP next hop {rip} ({}) is not on a connected subnet and node {} has no default gateway: BIRD cannot resolve it (gateway recursive), no route",
            remote.name, local.name
        )),
    }
}
