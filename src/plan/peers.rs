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
use super::names::{calico_vtep_mac, flannel_vtep_mac};
use super::router::router_part_into;
use super::{host_part_into, peer_parts};
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
            for c in n.pod_cidrs.iter().filter(|c| c.is_ipv4()) {
                routes.insert(*c, j);
                neighbours.entry(c.network()).or_default().push(j);
            }
            for t in [n.ipip_tunnel_ip, n.vxlan_tunnel_ip]
                .into_iter()
                .flatten()
                .filter(IpAddr::is_ipv4)
            {
                routes.insert(IpNetwork::from(t), j);
                neighbours.entry(t).or_default().push(j);
            }
            let mac = match &cluster.mode {
                Mode::Flannel(_) => flannel_vtep_mac(n),
                Mode::Calico(_) => calico_vtep_mac(n),
            };
            macs.entry(mac).or_default().push(j);
        }
        let n_nodes = cluster.nodes.len();
        for (k, &p) in cluster.borrowed_pods().iter().enumerate() {
            if let Some(ip) = cluster.pods[p].ipv4() {
                routes.insert(IpNetwork::from(IpAddr::V4(ip)), n_nodes + k);
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
    use crate::plan::{host_local_state, host_state, router_state, whole_world, world};
    use crate::trace::{self, Probe, Proto};
    use crate::world::HostKind;
    use proptest::prelude::*;

    /// Every mode, working or not, and whether the router between the subnets peers BGP.
    const MODES: &[&str] = &[
        "{cni: flannel, backend: host-gw, network: 10.244.0.0/16}",
        "{cni: flannel, backend: vxlan, network: 10.244.0.0/16}",
        "{cni: flannel, backend: vxlan, network: 10.244.0.0/16, directRouting: true}",
        "{cni: flannel, backend: ipip, network: 10.244.0.0/16}",
        "{cni: flannel, backend: ipip, network: 10.244.0.0/16, directRouting: true}",
        "{cni: calico, encapsulation: none, pool: 10.65.0.0/16}",
        "{cni: calico, encapsulation: none, pool: 10.65.0.0/16, bgp: routers}",
        "{cni: calico, encapsulation: none, pool: 10.65.0.0/16, bgp: off}",
        "{cni: calico, encapsulation: ipip, pool: 10.65.0.0/16}",
        "{cni: calico, encapsulation: ipip, crossSubnet: true, pool: 10.65.0.0/16}",
        "{cni: calico, encapsulation: ipip, crossSubnet: true, pool: 10.65.0.0/16, ipipRoutes: felix}",
        "{cni: calico, encapsulation: vxlan, pool: 10.65.0.0/16, vxlanRouteMtu: true}",
        "{cni: calico, encapsulation: vxlan, crossSubnet: true, pool: 10.65.0.0/16}",
        "{cni: calico, pools: [{name: i, cidr: 10.65.0.0/17, ipipMode: CrossSubnet}, {name: v, cidr: 10.65.128.0/17, vxlanMode: Always, natOutgoing: true}]}",
    ];

    /// A random cluster: nodes on three subnets (the router joins two of them, or all
    /// three; an unowned gateway leads outside), Calico nodes with one or two blocks, pods
    /// with assigned, borrowed (another node's block) and host-network addresses.
    fn cluster_text(
        mode: usize,
        nodes: &[(usize, bool)],
        pods: &[(usize, u8)],
        bgp: bool,
        joined: usize,
    ) -> String {
        let calico = MODES[mode].contains("calico");
        let mut s = format!("mode: {}\nunderlay:\n  subnets:\n", MODES[mode]);
        for i in 0..3 {
            s += &format!("    - {{cidr: 192.168.{i}.0/24, gateway: 192.168.{i}.1}}\n");
        }
        let ifs: Vec<String> = (0..joined).map(|i| format!("192.168.{i}.1")).collect();
        s += &format!(
            "  routers:\n    - {{name: r, interfaces: [{}], bgp: {bgp}}}\nnodes:\n",
            ifs.join(", ")
        );
        for (n, (sub, two)) in nodes.iter().enumerate() {
            let cidrs = if calico {
                let extra = match (*two, MODES[mode].contains("pools")) {
                    (_, true) => format!(", 10.65.{}.0/26", 128 + n),
                    (true, false) => format!(", 10.65.{n}.64/26"),
                    (false, false) => String::new(),
                };
                format!("blocks: [10.65.{n}.0/26{extra}]")
            } else {
                format!("podCIDR: 10.244.{n}.0/24")
            };
            s += &format!(
                "  - {{name: n{n}, ip: 192.168.{sub}.{}, {cidrs}}}\n",
                10 + n
            );
        }
        s += "pods:\n";
        for (i, (node, kind)) in pods.iter().enumerate() {
            let node = node % nodes.len();
            match kind {
                0 => s += &format!("  - default/p{i} n{node} hostNetwork\n"),
                // Borrowed: an address in the next node's block (Calico), else assigned.
                1 if calico => {
                    let other = (node + 1) % nodes.len();
                    s += &format!("  - default/p{i} n{node} 10.65.{other}.{}\n", 40 + i)
                }
                _ => s += &format!("  - default/p{i} n{node}\n"),
            }
        }
        s
    }

    /// Break the cluster in ways real inputs are broken: a node without its tunnel address,
    /// a node without a pod CIDR, two nodes claiming one pod CIDR.
    fn damage(c: &mut Cluster, how: u8) {
        let n = c.nodes.len();
        match how {
            1 => {
                c.nodes[n - 1].vxlan_tunnel_ip = None;
                c.nodes[n - 1].ipip_tunnel_ip = None;
            }
            2 => c.nodes[n - 1].pod_cidrs.clear(),
            3 => c.nodes[n - 1].pod_cidrs = c.nodes[0].pod_cidrs.clone(),
            _ => {}
        }
        c.reindex();
    }

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
                    router_part_into(c, r, p, &mut b);
                }
            }
            prop_assert_eq!(&b.st, &router_state(c, r));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        /// Planning per destination walks exactly like the whole plan: for random clusters
        /// in every mode (broken ones too), every source host and every destination (hosts,
        /// node, tunnel and block addresses, unassigned pod addresses, outside addresses),
        /// both traces are equal hop by hop, verdicts and notes included.
        #[test]
        fn per_destination_plan_walks_like_the_whole_plan(
            mode in 0..MODES.len(),
            nodes in proptest::collection::vec((0usize..3, any::<bool>()), 2..6),
            pods in proptest::collection::vec((0usize..6, 0u8..4), 0..9),
            bgp in any::<bool>(),
            joined in 2usize..4,
            how in 0u8..4,
            big in any::<bool>(),
        ) {
            let text = cluster_text(mode, &nodes, &pods, bgp, joined);
            let mut c = file::parse(&text, "prop.yaml").map_err(|e| TestCaseError::fail(format!("{e:#}\n{text}")))?;
            damage(&mut c, how);
            check_parts(&c)?;
            let fast = world(&c);
            let whole = whole_world(&c);
            let srcs: Vec<String> = fast.names().to_vec();
            let mut dsts = srcs.clone();
            for n in &c.nodes {
                dsts.push(n.ip().to_string());
                dsts.extend(n.ipip_tunnel_ip.map(|t| t.to_string()));
                dsts.extend(n.vxlan_tunnel_ip.map(|t| t.to_string()));
                for b in &n.pod_cidrs {
                    dsts.push(b.network().to_string());
                    dsts.push(crate::model::nth(b, 9).to_string());
                }
            }
            dsts.extend(["8.8.8.8", "192.168.2.1", "192.168.1.1", "10.65.200.1", "10.244.200.1"].map(String::from));
            let probe = Probe { proto: Proto::Udp, dport: Some(53), size: if big { 1440 } else { 64 } };
            for a in &srcs {
                for b in &dsts {
                    let (Ok(s1), Ok(s2)) = (trace::resolve(&fast, a, true), trace::resolve(&whole, a, true)) else {
                        continue;
                    };
                    let d1 = trace::resolve(&fast, b, false).map_err(|e| e.to_string());
                    let d2 = trace::resolve(&whole, b, false).map_err(|e| e.to_string());
                    prop_assert_eq!(&d1, &d2);
                    let (Ok(d1), Ok(d2)) = (d1, d2) else { continue };
                    prop_assert_eq!(&s1, &s2);
                    let t1 = trace::trace(&fast, &s1, &d1, probe);
                    let t2 = trace::trace(&whole, &s2, &d2, probe);
                    prop_assert_eq!(t1, t2, "{} -> {} in\n{}", a, b, text);
                }
            }
            // The kind of every host agrees too (nothing above depends on build order).
            for id in fast.ids(HostKind::Node) {
                prop_assert_eq!(fast.primary_ip(id), whole.primary_ip(id));
            }
        }
    }
}
