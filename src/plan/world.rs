//! The walkable world of a cluster: every node, router and pod netns as a host of a
//! [`World`], planned on first use.

use std::net::{IpAddr, Ipv4Addr};

use ipnetwork::IpNetwork;

use crate::model::{Cluster, Mode};

use std::rc::Rc;

use super::builder::Builder;
use super::peers::ClusterPeers;
use super::router::{router_local_into, router_peers, router_state};
use super::{host_local_into, host_state, pod_state};
use crate::cni::host_veth_name;
use crate::world::{Host, Masquerade, Member, Peers, PodNetwork, World, with_peers};

/// Build the walkable world of a cluster: every node, router and pod netns as a host
/// (planned lazily, on first use), veth pairs wired, underlay addresses indexed so ARP
/// can be answered, and each subnet's outside gateway marked as the way out.
///
/// Nodes and routers are planned per destination: on first use a host gets its own part
/// (devices, addresses, local pods, blackholes), and the entries it has for another node's
/// lease or blocks are planned when a lookup needs them, found through cluster-wide
/// indexes built here ([`ClusterPeers`]). The walk sees exactly what the whole plan
/// ([`host_state`], [`router_state`]) holds; [`whole_world`] walks that instead.
pub fn world(cluster: &Cluster) -> World<'_> {
    let mut w = skeleton(cluster);
    let peers: Rc<dyn Peers + '_> = Rc::new(ClusterPeers::new(cluster));
    w.set_builder(Box::new(move |member| match member {
        Member::Node(i) => {
            let mut b = Builder::new(&cluster.nodes[i].name);
            if host_local_into(cluster, i, &mut b) {
                with_peers(b.st, peers.clone(), member)
            } else {
                Host::new(b.st)
            }
        }
        Member::Router(r) => {
            let mut b = Builder::new(&cluster.underlay.routers[r].name);
            router_local_into(cluster, r, &mut b);
            if router_peers(cluster, r) {
                with_peers(b.st, peers.clone(), member)
            } else {
                Host::new(b.st)
            }
        }
        Member::Pod(p) => Host::new(pod_state(cluster, p).unwrap_or_default()),
    }));
    w
}

/// The same world as [`world`], with every node and router planned whole on first use
/// (every peer's entries at once): what `netpath plan` prints. For checking [`world`]
/// against, and for comparisons that want the plain plan.
pub fn whole_world(cluster: &Cluster) -> World<'_> {
    let mut w = skeleton(cluster);
    w.set_builder(Box::new(move |member| {
        Host::new(match member {
            Member::Node(i) => host_state(cluster, i),
            Member::Router(r) => router_state(cluster, r),
            Member::Pod(p) => pod_state(cluster, p).unwrap_or_default(),
        })
    }));
    w
}

/// The nodes' source NAT for traffic leaving the cluster network: flannel's `--ip-masq`
/// rules (`-s NETWORK ! -d NETWORK ! -d 224.0.0.0/4 -j MASQUERADE`; the kube-flannel
/// manifest passes `--ip-masq`), Calico's `natOutgoing` (sources in a natOutgoing pool,
/// destinations in no pool).
pub(super) fn masquerade_rule(cluster: &Cluster) -> Option<Masquerade> {
    let multicast = IpNetwork::new(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 0)), 4).ok();
    match &cluster.mode {
        Mode::Flannel(fl) => Some(Masquerade {
            src: vec![fl.network],
            except_dst: std::iter::once(fl.network).chain(multicast).collect(),
            by: "flannel --ip-masq, as the kube-flannel manifest runs it".into(),
        }),
        Mode::Calico(c) => {
            let pools: Vec<&crate::model::IpPool> =
                c.pools.iter().filter(|p| p.nat_outgoing).collect();
            if pools.is_empty() {
                return None;
            }
            Some(Masquerade {
                src: pools.iter().map(|p| p.cidr).collect(),
                except_dst: c.pools.iter().map(|p| p.cidr).collect(),
                by: format!(
                    "Calico natOutgoing on pool {}",
                    pools
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
        }
    }
}

/// The ranges of the cluster's pod network: Flannel's `Network`, each Calico IPPool.
fn pod_networks(cluster: &Cluster) -> Vec<PodNetwork> {
    match &cluster.mode {
        Mode::Flannel(fl) => vec![PodNetwork {
            net: fl.network,
            name: format!("the flannel Network {}", fl.network),
            unit: "lease",
        }],
        Mode::Calico(c) => c
            .pools
            .iter()
            .filter(|p| p.cidr.is_ipv4())
            .map(|p| PodNetwork {
                net: p.cidr,
                name: format!("Calico pool {} ({})", p.name, p.cidr),
                unit: "block",
            })
            .collect(),
    }
}

/// Hosts, wiring, address index and exits of a cluster's world, without a builder.
pub(super) fn skeleton(cluster: &Cluster) -> World<'_> {
    let mut w = World::new();
    let mut nodes = Vec::with_capacity(cluster.nodes.len());
    for (i, n) in cluster.nodes.iter().enumerate() {
        let id = w.add_lazy_host(&n.name, Member::Node(i), None);
        w.attach(n.address, id, &n.iface);
        for c in n.pod_cidrs.iter().filter(|c| c.is_ipv4()) {
            w.add_lease(*c, id);
        }
        nodes.push(id);
    }
    for net in pod_networks(cluster) {
        w.add_pod_network(net);
    }
    for (i, r) in cluster.underlay.routers.iter().enumerate() {
        let id = w.add_lazy_host(&r.name, Member::Router(i), None);
        for (i, a) in r.interfaces.iter().enumerate() {
            w.attach(*a, id, &format!("eth{i}"));
        }
    }
    for (k, p) in cluster.pods.iter().enumerate() {
        // A pod names its node; one that names no node of the cluster hangs off the first.
        let node = cluster.node_index(&p.node).unwrap_or(0);
        let Some(&node_id) = nodes.get(node) else {
            continue;
        };
        if p.host_network {
            w.alias(
                &p.key(),
                node_id,
                format!(
                    "{} is a hostNetwork pod: it shares node {}'s network namespace and address",
                    p.key(),
                    p.node
                ),
            );
            continue;
        }
        let Some(ip) = p.ipv4() else {
            w.missing(
                &p.key(),
                format!(
                    "pod {} has no IPv4 address (pending, or IPv6 only)",
                    p.key()
                ),
            );
            continue;
        };
        let id = w.add_lazy_host(&p.key(), Member::Pod(k), Some(node_id));
        let prefix = match &cluster.mode {
            Mode::Flannel(_) => cluster.nodes[node]
                .pod_cidr_v4()
                .map(|c| c.prefix())
                .unwrap_or(24),
            Mode::Calico(_) => 32,
        };
        if let Ok(net) = IpNetwork::new(IpAddr::V4(ip), prefix) {
            w.attach(net, id, "eth0");
        }
        w.connect_veth(id, "eth0", node_id, &host_veth_name(cluster, p));
    }
    for s in &cluster.underlay.subnets {
        if let Some(gw) = s.gateway {
            let owned = cluster
                .underlay
                .routers
                .iter()
                .any(|r| r.interfaces.iter().any(|a| a.ip() == gw))
                || cluster.nodes.iter().any(|n| n.ip() == gw);
            if !owned {
                w.add_exit(gw);
            }
        }
    }
    // A router's static route through an address no host of the model has leads out of
    // it (the assumed router's default route to the outside).
    for r in &cluster.underlay.routers {
        for s in &r.routes {
            let owned = cluster
                .underlay
                .routers
                .iter()
                .any(|r| r.interfaces.iter().any(|a| a.ip() == s.via))
                || cluster.nodes.iter().any(|n| n.ip() == s.via);
            if !owned {
                w.add_exit(s.via);
            }
        }
    }
    for n in &cluster.nodes {
        if let Some(gw) = n.gateway {
            if cluster.subnet_of(gw).is_none()
                && !cluster
                    .underlay
                    .routers
                    .iter()
                    .any(|r| r.interfaces.iter().any(|a| a.ip() == gw))
            {
                w.add_exit(gw);
            }
        }
    }
    if let Some(rule) = masquerade_rule(cluster) {
        for &id in &nodes {
            w.set_masquerade(id, rule.clone());
        }
    }
    w
}
