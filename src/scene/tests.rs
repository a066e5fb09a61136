//! The worlds a scene is made of walk alike: the cluster's world planned per destination
//! (what `netpath trace` walks) and the same world planned whole (what `netpath plan`
//! prints), over random clusters.

use proptest::prelude::*;

use crate::model::{file, nth};
use crate::plan::testutil::{MODES, cluster_text, damage};
use crate::plan::{whole_world, world};
use crate::trace::{self, Probe, Proto};
use crate::world::HostKind;

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
                dsts.push(nth(b, 9).to_string());
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
