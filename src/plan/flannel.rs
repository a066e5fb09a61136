//! What Flannel programs on a node: its backend's device (VXLAN, IPIP, none for host-gw),
//! the cni0 bridge and pod veths, and per remote lease its route (with, for VXLAN, the
//! VTEP's permanent neighbour and FDB entry).

use ipnetwork::IpNetwork;

use crate::dataplane::{LinkKind, Protocol, Scope, Veth, Vxlan};
use crate::model::{Cluster, Flannel, FlannelBackend, Pod, canonical, nth};

use super::builder::{Builder, connected, underlay_next_hop, via};
use crate::cni::bridge::BRIDGE;
use crate::cni::flannel as cni;
use crate::cni::{derived_mac, host_veth_name};

pub(super) fn flannel_local_into(
    cluster: &Cluster,
    fl: &Flannel,
    idx: usize,
    b: &mut Builder,
) -> bool {
    let node = &cluster.nodes[idx];
    let Some(lease) = node.pod_cidr_v4() else {
        b.warnings.push(format!(
            "node {} has no IPv4 pod CIDR: flannel cannot acquire a lease (\"pod cidr not assigned\") and programs nothing",
            node.name
        ));
        return false;
    };
    let mtu = cni::mtu(fl, node);
    let lease_ip = lease.network();
    match &fl.backend {
        FlannelBackend::HostGw => {}
        FlannelBackend::Vxlan {
            vni,
            port,
            learning,
            ..
        } => {
            let dev = cni::vxlan_dev(*vni);
            b.link(
                &dev,
                LinkKind::Vxlan(Vxlan {
                    vni: *vni,
                    port: *port,
                    local: Some(node.ip()),
                    dev: Some(node.iface.clone()),
                    learning: *learning,
                }),
                mtu,
                Some(cni::vtep_mac(node)),
                None,
            );
            b.addr(&dev, IpNetwork::from(lease_ip), Scope::Universe);
            if node.vtep_mac.is_none() {
                b.notes.push(format!(
                    "{dev} MAC {} is derived by netpath: flannel picks a random one and stores it in the node's backend-data annotation",
                    cni::vtep_mac(node)
                ));
            }
        }
        FlannelBackend::Ipip { .. } => {
            let dev = cni::IPIP_DEV.to_string();
            b.link(
                &dev,
                LinkKind::Ipip {
                    local: Some(node.ip()),
                    remote: None,
                },
                cni::ipip_dev_mtu(node),
                None,
                None,
            );
            b.addr(&dev, IpNetwork::from(lease_ip), Scope::Universe);
            b.notes.push("loading the ipip module also creates tunl0 (the fallback device); flannel does not use it".into());
        }
    }
    let local_pods: Vec<&Pod> = cluster
        .pods_on(idx)
        .iter()
        .map(|&p| &cluster.pods[p])
        .filter(|p| p.has_netns())
        .collect();
    if local_pods.is_empty() {
        b.notes.push(
            "no pods on this node yet: the bridge plugin creates cni0 with the first pod".into(),
        );
    } else {
        let gw = nth(&lease, 1);
        b.link(
            BRIDGE,
            LinkKind::Bridge,
            mtu,
            Some(derived_mac(&format!("{BRIDGE}:"), &node.name)),
            None,
        );
        b.addr(
            BRIDGE,
            IpNetwork::new(gw, lease.prefix()).unwrap_or(lease),
            Scope::Universe,
        );
        b.route(connected(lease, BRIDGE, gw));
        for p in local_pods {
            b.link(
                &host_veth_name(cluster, p),
                LinkKind::Veth(Veth::default()),
                mtu,
                Some(derived_mac("veth:", &p.key())),
                Some(BRIDGE),
            );
        }
        b.st.sysctls.forwarding.insert(BRIDGE.into(), true);
    }
    true
}

/// Node `idx`'s entries for node `j`'s lease (flannel's route, and for VXLAN the permanent
/// neighbour and FDB entry of its VTEP).
pub(super) fn flannel_peer_into(
    cluster: &Cluster,
    fl: &Flannel,
    idx: usize,
    j: usize,
    b: &mut Builder,
) {
    let node = &cluster.nodes[idx];
    let remote = &cluster.nodes[j];
    let eth = node.iface.as_str();
    let Some(rl) = remote.pod_cidr_v4() else {
        return;
    };
    let rip = remote.ip();
    let direct = underlay_next_hop(node, rip) == Some(None);
    match &fl.backend {
        FlannelBackend::HostGw => {
            b.route(via(rl, rip, eth, Protocol::BOOT, false));
            if !direct {
                b.warnings.push(format!(
                    "route {rl} via {rip} dev {eth}: {} ({rip}) is not on {eth}'s subnet {}; the kernel refuses this route (Network is unreachable) and flannel logs \"Error adding route\": host-gw needs every node on one L2 segment",
                    remote.name,
                    canonical(node.address)
                ));
            }
        }
        FlannelBackend::Vxlan {
            direct_routing,
            vni,
            ..
        } => {
            if *direct_routing && direct {
                b.route(via(rl, rip, eth, Protocol::BOOT, false));
            } else {
                let dev = cni::vxlan_dev(*vni);
                let mac = cni::vtep_mac(remote);
                b.neigh(rl.network(), mac, &dev);
                b.fdb(mac, rip, &dev);
                b.route(via(rl, rl.network(), &dev, Protocol::BOOT, true));
            }
        }
        FlannelBackend::Ipip { direct_routing } => {
            let dev = if *direct_routing && direct {
                eth
            } else {
                cni::IPIP_DEV
            };
            b.route(via(rl, rip, dev, Protocol::BOOT, true));
        }
    }
}

pub(super) fn flannel_notes_into(cluster: &Cluster, fl: &Flannel, idx: usize, b: &mut Builder) {
    let node = &cluster.nodes[idx];
    if let FlannelBackend::Vxlan {
        direct_routing: true,
        ..
    }
    | FlannelBackend::Ipip {
        direct_routing: true,
    } = fl.backend
    {
        b.notes.push(format!(
            "DirectRouting: plain routes to nodes on {} (one route, no gateway), tunnel to the others",
            canonical(node.address)
        ));
    }
}
