//! Cluster + node → the node's expected dataplane ([`NodeState`]): the one place where
//! Flannel's and Calico's semantics live (see `cni-semantics.md` §2–14 in the reference).
//!
//! What each mode programs, exactly as the projects do it:
//! - Flannel host-gw: `LEASE via NODE_IP dev eth0` per remote lease (no onlink, proto boot).
//! - Flannel VXLAN: `flannel.<VNI>` (local node IP, dev eth0, nolearning, MTU eth−50,
//!   address lease/32), per remote lease a PERMANENT neighbour `LEASE_IP → VtepMAC`, a
//!   self/permanent FDB entry `VtepMAC → NODE_IP` and `LEASE via LEASE_IP dev flannel.1 onlink`.
//!   With DirectRouting, `LEASE via NODE_IP dev eth0` when the remote IP is reached by one
//!   route without a gateway (flannel's RouteGet test), else the VXLAN entries.
//! - Flannel IPIP: `flannel.ipip` and `LEASE via NODE_IP dev flannel.ipip onlink` (or dev eth0
//!   onlink with DirectRouting).
//! - Flannel pods: `cni0` bridge with the lease's .1, pods `default via .1` and `NETWORK via .1`.
//! - Calico: `blackhole BLOCK` per local block, `POD dev caliXXXX scope link` + PERMANENT
//!   neighbour per local pod, pods `default via 169.254.1.1` answered by proxy ARP; remote
//!   blocks by BGP (`via NODE_IP dev eth0 proto bird`, recursive through the gateway when
//!   the next hop is not on a connected subnet), IPIP (`via NODE_IP dev tunl0 proto bird
//!   onlink`, or Felix's `proto 80 onlink mtu`), VXLAN (`via TUNNEL_IP dev vxlan.calico
//!   onlink` with neighbour and FDB), CrossSubnet same-subnet routes on eth0 decided with
//!   the local node's mask.
//!
//! The output is a [`NodePlan`]: the host's [`NodeState`] plus one [`NodeState`] per pod
//! network namespace. [`world`] places them in a walkable world for `crate::trace`; an agent can apply them; a drift check
//! can diff them against a node read through netlink.

mod builder;
mod calico;
mod flannel;
pub mod peers;
mod router;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
mod world;

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use crate::dataplane::{LinkKind, Nexthop, NodeState, Route, Scope, Veth};
use crate::model::{Cluster, Mode, nth};

use anyhow::bail;
use serde::Serialize;

use builder::{Builder, connected, default_v4, underlay_into};
use calico::{calico_borrowed_into, calico_local_into, calico_notes_into, calico_peer_into};
use flannel::{flannel_local_into, flannel_notes_into, flannel_peer_into};
pub use router::router_state;
pub use world::{whole_world, world};

/// A node's expected dataplane: the host network namespace and each pod's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodePlan {
    /// The host network namespace.
    pub state: NodeState,
    /// One entry per pod with its own network namespace and an IPv4 address.
    pub pods: Vec<PodPlan>,
    /// Facts worth knowing about this plan (BGP sessions, devices the CNI creates lazily).
    pub notes: Vec<String>,
    /// What will not work as planned (a host-gw route the kernel refuses, a node without a
    /// pod CIDR).
    pub warnings: Vec<String>,
}

/// A pod's network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodPlan {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// The host end of the pod's veth (`cali…`, `veth…`).
    pub host_veth: String,
    /// The pod's network namespace (`node` is `namespace/name`).
    pub state: NodeState,
}

/// The plan for node `name`.
pub fn node(cluster: &Cluster, name: &str) -> anyhow::Result<NodePlan> {
    let Some(idx) = cluster.node_index(name) else {
        bail!(
            "node {name:?} is not in cluster {} (nodes: {})",
            cluster.source,
            cluster
                .nodes
                .iter()
                .take(20)
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let mut b = Builder::new(&cluster.nodes[idx].name);
    host_into(cluster, idx, &mut b);
    let pods = cluster
        .pods_on(idx)
        .iter()
        .filter_map(|&p| {
            let pod = &cluster.pods[p];
            pod_state(cluster, p).map(|state| PodPlan {
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
                host_veth: crate::cni::host_veth_name(cluster, pod),
                state,
            })
        })
        .collect();
    // Where the cluster contradicts itself comes first: the plan is built around it.
    let mut warnings = cluster.warnings.clone();
    warnings.extend(b.warnings);
    Ok(NodePlan {
        state: b.st,
        pods,
        notes: b.notes,
        warnings,
    })
}

/// Node number `idx`'s own part of its host network namespace: what it has whatever the
/// destination (underlay, tunnel devices, bridge, local pods' veths, routes and
/// neighbours), without the entries it programs for other nodes.
pub fn host_local_state(cluster: &Cluster, idx: usize) -> NodeState {
    let mut b = Builder::new(&cluster.nodes[idx].name);
    host_local_into(cluster, idx, &mut b);
    b.st
}

/// The host network namespace of node number `idx` (no notes; what the walk needs).
pub fn host_state(cluster: &Cluster, idx: usize) -> NodeState {
    let mut b = Builder::new(&cluster.nodes[idx].name);
    host_into(cluster, idx, &mut b);
    b.st
}

/// The network namespace of pod number `idx`, or `None` for host-network pods and pods
/// without an IPv4 address.
pub fn pod_state(cluster: &Cluster, idx: usize) -> Option<NodeState> {
    let pod = cluster.pods.get(idx)?;
    if !pod.has_netns() {
        return None;
    }
    let ip = IpAddr::V4(pod.ipv4()?);
    let node = cluster.node(&pod.node)?;
    let mut b = Builder::new(&pod.key());
    b.loopback();
    let (mtu, prefix) = match &cluster.mode {
        Mode::Flannel(fl) => (
            crate::cni::flannel::mtu(fl, node),
            node.pod_cidr_v4().map(|c| c.prefix()).unwrap_or(24),
        ),
        Mode::Calico(c) => (crate::cni::calico::pod_mtu(c, node), 32),
    };
    b.link(
        "eth0",
        LinkKind::Veth(Veth::default()),
        mtu,
        Some(crate::cni::pod_mac(pod)),
        None,
    );
    b.addr("eth0", IpNetwork::new(ip, prefix).ok()?, Scope::Universe);
    match &cluster.mode {
        Mode::Flannel(fl) => {
            let lease = node.pod_cidr_v4()?;
            let gw = nth(&lease, 1);
            b.route(Route::unicast(default_v4(), Nexthop::via(gw, "eth0")));
            b.route(Route::unicast(fl.network, Nexthop::via(gw, "eth0")));
            b.route(connected(lease, "eth0", ip));
        }
        Mode::Calico(_) => {
            // The link route first: the default route's gateway must be reachable when added.
            let gw = IpAddr::V4(crate::cni::calico::POD_GATEWAY);
            b.route(Route::unicast(IpNetwork::from(gw), Nexthop::dev("eth0")));
            b.route(Route::unicast(default_v4(), Nexthop::via(gw, "eth0")));
        }
    }
    b.st.sysctls.ip_forward = Some(false);
    Some(b.st)
}

/// One part of the cluster a planned node or router programs entries for: another node's
/// lease or blocks (with its VTEP), or one borrowed pod address (outside its node's blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerPart {
    /// Node `j` (`cluster.nodes[j]`).
    Node(usize),
    /// Borrowed pod address `k` (`cluster.borrowed_pods()[k]`).
    Borrowed(usize),
}

impl PeerPart {
    /// Every part, in the order the plan programs them: the nodes, then the borrowed pod
    /// addresses.
    fn all(cluster: &Cluster) -> impl Iterator<Item = PeerPart> {
        (0..cluster.nodes.len())
            .map(PeerPart::Node)
            .chain((0..cluster.borrowed_pods().len()).map(PeerPart::Borrowed))
    }

    /// The part's number in that order (what [`crate::world::Peers`] counts in); with
    /// [`PeerPart::from_number`], the one place the numbering is spelled out.
    pub(crate) fn number(self, cluster: &Cluster) -> usize {
        match self {
            PeerPart::Node(j) => j,
            PeerPart::Borrowed(k) => cluster.nodes.len() + k,
        }
    }

    /// The part numbered `n`, if there is one.
    pub(crate) fn from_number(cluster: &Cluster, n: usize) -> Option<PeerPart> {
        let nodes = cluster.nodes.len();
        if n < nodes {
            Some(PeerPart::Node(n))
        } else if n - nodes < cluster.borrowed_pods().len() {
            Some(PeerPart::Borrowed(n - nodes))
        } else {
            None
        }
    }
}

/// How many per-peer parts a planned host has ([`PeerPart`]).
pub(crate) fn peer_parts(cluster: &Cluster) -> usize {
    cluster.nodes.len() + cluster.borrowed_pods().len()
}

/// The whole plan of node `idx`: its own part, every peer part in order, then the notes.
fn host_into(cluster: &Cluster, idx: usize, b: &mut Builder) {
    if host_local_into(cluster, idx, b) {
        for part in PeerPart::all(cluster) {
            host_part_into(cluster, idx, part, b);
        }
        host_notes_into(cluster, idx, b);
    }
}

/// What node `idx` has whatever the destination: the underlay, tunnel devices, the
/// bridge, local pods' routes, neighbours and blackholes. False when the CNI programs
/// nothing more on it (a Flannel node without a lease).
fn host_local_into(cluster: &Cluster, idx: usize, b: &mut Builder) -> bool {
    underlay_into(&cluster.nodes[idx], b);
    match &cluster.mode {
        Mode::Flannel(fl) => flannel_local_into(cluster, fl, idx, b),
        Mode::Calico(c) => {
            calico_local_into(cluster, c, idx, b);
            true
        }
    }
}

/// What node `idx` programs for one part of the cluster: another node's lease or blocks
/// (route, and for VXLAN the VTEP's neighbour and FDB entry), or one borrowed pod address.
/// A function of (this node, that part) only, which is what lets a trace plan a node per
/// destination ([`peers`]).
fn host_part_into(cluster: &Cluster, idx: usize, part: PeerPart, b: &mut Builder) {
    match (&cluster.mode, part) {
        (_, PeerPart::Node(j)) if j == idx => {}
        (Mode::Flannel(fl), PeerPart::Node(j)) => flannel_peer_into(cluster, fl, idx, j, b),
        (Mode::Flannel(_), PeerPart::Borrowed(_)) => {}
        (Mode::Calico(c), PeerPart::Node(j)) => calico_peer_into(cluster, c, idx, j, b),
        (Mode::Calico(c), PeerPart::Borrowed(k)) => calico_borrowed_into(cluster, c, idx, k, b),
    }
}

/// Notes that follow the per-peer entries in `netpath plan`.
fn host_notes_into(cluster: &Cluster, idx: usize, b: &mut Builder) {
    match &cluster.mode {
        Mode::Flannel(fl) => flannel_notes_into(cluster, fl, idx, b),
        Mode::Calico(c) => calico_notes_into(cluster, c, idx, b),
    }
}
