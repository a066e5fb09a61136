//! Planning per destination: the entries a node (or a BGP-peering router) programs for
//! another part of the cluster are a function of (this host, that part), so a trace plans
//! only the parts its lookups touch. Which parts can matter for a destination address, a
//! neighbour address or a VTEP MAC is found through indexes built once per cluster: a
//! prefix trie of every node's pod CIDRs / blocks, tunnel addresses and borrowed pod
//! addresses, and hash maps of neighbour addresses and VTEP MACs.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::builder::Builder;
use super::router::router_part_into;
use super::{PeerPart, host_part_into, peer_parts};
use crate::cni::{calico, flannel};
use crate::dataplane::{MacAddr, NodeState};
use crate::model::{Cluster, Mode};
use crate::world::{Member, Peers};

const NONE: u32 = u32::MAX;

/// A binary prefix trie over IPv4 prefixes, each holding the parts that own it.
#[derive(Debug, Default)]
struct PrefixTrie {
    /// Children (bit 0, bit 1) of each trie node; node 0 is the root.
    children: Vec<[u32; 2]>,
    /// Parts whose prefix ends at each trie node.
    parts: Vec<Vec<usize>>,
}

impl PrefixTrie {
    fn new() -> PrefixTrie {
        PrefixTrie {
            children: vec![[NONE, NONE]],
            parts: vec![Vec::new()],
        }
    }

    fn insert(&mut self, net: IpNetwork, part: usize) {
        let IpAddr::V4(a) = net.network() else {
            return;
        };
        let bits = u32::from(a);
        let mut node = 0usize;
        for i in 0..u32::from(net.prefix()) {
            let bit = ((bits >> (31 - i)) & 1) as usize;
            let next = self.children[node][bit];
            node = if next == NONE {
                let id = self.children.len();
                self.children.push([NONE, NONE]);
                self.parts.push(Vec::new());
                self.children[node][bit] = id as u32;
                id
            } else {
                next as usize
            };
        }
        if self.parts[node].last() != Some(&part) {
            self.parts[node].push(part);
        }
    }

    /// Every part owning a prefix that covers `ip`.
    fn covering(&self, ip: IpAddr, out: &mut Vec<usize>) {
        let IpAddr::V4(a) = ip else {
            return;
        };
        let bits = u32::from(a);
        let mut node = 0usize;
        out.extend_from_slice(&self.parts[node]);
        for i in 0..32 {
            let bit = ((bits >> (31 - i)) & 1) as usize;
            let next = self.children[node][bit];
            if next == NONE {
                return;
            }
            node = next as usize;
            out.extend_from_slice(&self.parts[node]);
        }
    }
}

/// The per-peer parts of a cluster's planned nodes and routers: part `j` below the node
/// count is node `j` (its lease or blocks, its VTEP), part `nodes + k` is borrowed pod
/// address `k` (`Cluster::borrowed_pods`), the order in which the plan programs them.
pub struct ClusterPeers<'a> {
    cluster: &'a Cluster,
    routes: PrefixTrie,
    neighbours: HashMap<IpAddr, Vec<usize>>,
    macs: HashMap<MacAddr, Vec<usize>>,
}

impl std::fmt::Debug for ClusterPeers<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterPeers")
            .field("cluster", &self.cluster.source)
            .field("prefixes", &self.routes.parts.len())
            .finish()
    }
}

impl<'a> ClusterPeers<'a> {
    /// Index a cluster: for every part, the prefixes its routes can have, the addresses its
    /// neighbour entries can have, and the MAC its FDB entries can have.
    pub fn new(cluster: &'a Cluster) -> ClusterPeers<'a> {
        let mut routes = PrefixTrie::new();
        let mut neighbours: HashMap<IpAddr, Vec<usize>> = HashMap::new();
        let mut macs: HashMap<MacAddr, Vec<usize>> = HashMap::new();
        for (j, n) in cluster.nodes.iter().enumerate() {
            let part = PeerPart::Node(j).number(cluster);
            for c in n.pod_cidrs.iter().filter(|c| c.is_ipv4()) {
                routes.insert(*c, part);
                neighbours.entry(c.network()).or_default().push(part);
            }
            for t in [n.ipip_tunnel_ip, n.vxlan_tunnel_ip]
                .into_iter()
                .flatten()
                .filter(IpAddr::is_ipv4)
            {
                routes.insert(IpNetwork::from(t), part);
                neighbours.entry(t).or_default().push(part);
            }
            let mac = match &cluster.mode {
                Mode::Flannel(_) => flannel::vtep_mac(n),
                Mode::Calico(_) => calico::vtep_mac(n),
            };
            macs.entry(mac).or_default().push(part);
        }
        for (k, &p) in cluster.borrowed_pods().iter().enumerate() {
            if let Some(ip) = cluster.pods[p].ipv4() {
                let part = PeerPart::Borrowed(k).number(cluster);
                routes.insert(IpNetwork::from(IpAddr::V4(ip)), part);
            }
        }
        for v in neighbours.values_mut().chain(macs.values_mut()) {
            v.dedup();
        }
        ClusterPeers {
            cluster,
            routes,
            neighbours,
            macs,
        }
    }
}

impl Peers for ClusterPeers<'_> {
    fn len(&self) -> usize {
        peer_parts(self.cluster)
    }

    fn parts_for_route(&self, dst: IpAddr, out: &mut Vec<usize>) {
        self.routes.covering(dst, out);
    }

    fn parts_for_neighbour(&self, ip: IpAddr) -> &[usize] {
        self.neighbours.get(&ip).map(Vec::as_slice).unwrap_or(&[])
    }

    fn parts_for_mac(&self, mac: MacAddr) -> &[usize] {
        self.macs.get(&mac).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Nodes and BGP-peering routers have per-peer entries; pods have none.
    fn part(&self, host: Member, part: usize) -> NodeState {
        let c = self.cluster;
        let mut b = Builder::new("");
        let Some(part) = PeerPart::from_number(c, part) else {
            return b.st;
        };
        match host {
            Member::Node(i) => host_part_into(c, i, part, &mut b),
            Member::Router(r) => router_part_into(c, r, part, &mut b),
            Member::Pod(_) => {}
        }
        b.st
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::file;
    use crate::plan::testutil::{MODES, cluster_text, damage};
    use crate::plan::{host_local_state, host_state, router_state};
    use proptest::prelude::*;

    /// The whole plan is the own part followed by every part in order, and every part's
    /// entries are found through the indexes.
    fn check_parts(c: &Cluster) -> Result<(), TestCaseError> {
        let peers = ClusterPeers::new(c);
        for i in 0..c.nodes.len() {
            let mut st = host_local_state(c, i);
            let whole = host_state(c, i);
            if !crate::plan::host_local_into(c, i, &mut Builder::new("")) {
                prop_assert_eq!(&st, &whole);
                continue;
            }
            for p in 0..peers.len() {
                let part = peers.part(Member::Node(i), p);
                for r in &part.routes {
                    for ip in [r.dst.network(), r.dst.broadcast()] {
                        let mut out = Vec::new();
                        peers.parts_for_route(ip, &mut out);
                        prop_assert!(out.contains(&p), "route {} of part {} not indexed", r, p);
                    }
                }
                for n in &part.neighbours {
                    prop_assert!(peers.parts_for_neighbour(n.dst).contains(&p));
                }
                for f in &part.fdb {
                    prop_assert!(peers.parts_for_mac(f.mac).contains(&p));
                }
                st.routes.extend(part.routes);
                st.neighbours.extend(part.neighbours);
                st.fdb.extend(part.fdb);
            }
            prop_assert_eq!(&st, &whole, "node {}", c.nodes[i].name);
        }
        for r in 0..c.underlay.routers.len() {
            let mut b = Builder::new(&c.underlay.routers[r].name);
            crate::plan::router::router_local_into(c, r, &mut b);
            if crate::plan::router::router_peers(c, r) {
                for p in 0..peers.len() {
                    let part = PeerPart::from_number(c, p).expect("numbered below len()");
                    router_part_into(c, r, part, &mut b);
                }
            }
            prop_assert_eq!(&b.st, &router_state(c, r));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        /// For random clusters in every mode (broken ones too), every node's and router's
        /// whole plan is its own part followed by every peer part, each found through the
        /// indexes. (That the walk over either plan is the same: `crate::scene`'s tests.)
        #[test]
        fn whole_plan_is_own_part_and_every_peer_part(
            mode in 0..MODES.len(),
            nodes in proptest::collection::vec((0usize..3, any::<bool>()), 2..6),
            pods in proptest::collection::vec((0usize..6, 0u8..4), 0..9),
            bgp in any::<bool>(),
            joined in 2usize..4,
            how in 0u8..4,
        ) {
            let text = cluster_text(mode, &nodes, &pods, bgp, joined);
            let mut c = file::parse(&text, "prop.yaml").map_err(|e| TestCaseError::fail(format!("{e:#}\n{text}")))?;
            damage(&mut c, how);
            check_parts(&c)?;
        }
    }
}
