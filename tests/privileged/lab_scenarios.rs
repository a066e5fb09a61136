//! The lab's scenarios: each demo cluster built out of namespaces ([`ClusterLab`]), then for
//! a few pod pairs on different nodes, both directions:
//! - real UDP between the pods arrives exactly when `netpath trace` says delivered, and
//!   where both directions are delivered a 256 KiB TCP transfer completes;
//! - a capture on the sending node's uplink (and the receiving node's) shows the
//!   encapsulation trace predicted (VXLAN VNI, port and outer addresses, or none);
//! - every routing hop trace predicts is what the kernel of that host decides
//!   (`ip route get DST from SRC iif DEV` in its netns: same gateway, same device, same
//!   type); every neighbour trace resolves holds the MAC trace says; every FDB entry exists;
//!   a drop is what the kernel does there (no route, a refused route).

use std::time::Instant;

use serde_json::Value;

use crate::cluster_lab::{ClusterLab, Encap, PairReport, Programmer};
use crate::lab::TestNetns;
use libtest_mimic::{Failed, Trial};

/// What a scenario claims for a pair (a guard: the scenario must test what it says, even
/// if trace and the kernel both changed their minds).
#[derive(Clone, Copy)]
enum Want {
    /// Delivered both ways, without encapsulation.
    Plain,
    /// Delivered both ways in VXLAN with this VNI and port.
    Vxlan(u32, u16),
    /// Delivered both ways in IP-in-IP.
    Ipip,
    /// Not delivered, either way.
    Dropped,
}

struct Pair {
    src: &'static str,
    dst: &'static str,
    want: Want,
}

struct Scenario {
    name: &'static str,
    spec: &'static str,
    tag: &'static str,
    pairs: &'static [Pair],
}

const fn pair(src: &'static str, dst: &'static str, want: Want) -> Pair {
    Pair { src, dst, want }
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "flannel_host_gw",
        spec: "demo:flannel-host-gw",
        tag: "fhg",
        pairs: &[pair("default/web-0", "default/db-0", Want::Plain)],
    },
    Scenario {
        name: "flannel_vxlan",
        spec: "demo:flannel-vxlan",
        tag: "fvx",
        pairs: &[
            pair("default/web-0", "default/db-0", Want::Vxlan(1, 8472)),
            pair("default/web-1", "default/web-0", Want::Vxlan(1, 8472)),
        ],
    },
    Scenario {
        name: "flannel_vxlan_directrouting_across_a_router",
        spec: "demo:flannel-directrouting",
        tag: "fdr",
        pairs: &[
            pair("default/web-0", "default/cache-0", Want::Plain),
            pair("default/web-0", "default/db-0", Want::Vxlan(1, 8472)),
        ],
    },
    Scenario {
        name: "calico_bgp_one_subnet",
        spec: "demo:calico-bgp",
        tag: "cbg",
        pairs: &[
            pair("default/web-0", "default/db-0", Want::Plain),
            pair("default/cache-0", "default/web-0", Want::Plain),
        ],
    },
    Scenario {
        name: "calico_vxlan_crosssubnet",
        spec: "demo:calico-vxlan-crosssubnet",
        tag: "cvx",
        pairs: &[
            pair("default/web-0", "default/cache-0", Want::Plain),
            pair("default/web-0", "default/db-0", Want::Vxlan(4096, 4789)),
        ],
    },
    Scenario {
        name: "calico_bgp_router_learns_routes",
        spec: "demo:calico-bgp-routers",
        tag: "cbr",
        pairs: &[
            pair("default/web-0", "default/cache-0", Want::Plain),
            pair("default/web-0", "default/db-0", Want::Plain),
        ],
    },
    Scenario {
        name: "flannel_host_gw_across_a_router_does_not_arrive",
        spec: "demo:flannel-host-gw-routed",
        tag: "fhr",
        pairs: &[
            pair("default/web-0", "default/cache-0", Want::Plain),
            pair("default/web-0", "default/db-0", Want::Dropped),
        ],
    },
    Scenario {
        name: "calico_bgp_across_a_router_without_bgp_does_not_arrive",
        spec: "demo:calico-bgp-routed",
        tag: "cbd",
        pairs: &[
            pair("default/web-0", "default/cache-0", Want::Plain),
            pair("default/web-0", "default/db-0", Want::Dropped),
        ],
    },
];

pub fn tests() -> Vec<Trial> {
    let mut out: Vec<Trial> = SCENARIOS
        .iter()
        .map(|s| Trial::test(format!("lab::{}", s.name), move || run(s)))
        .collect();
    out.push(Trial::test(
        "lab::calico_ipip_needs_the_ipip_module",
        calico_ipip_needs_the_ipip_module,
    ));
    out.push(Trial::test(
        "lab::check_reports_a_deleted_route_and_the_agent_repairs_it",
        check_reports_a_deleted_route_and_the_agent_repairs_it,
    ));
    out.push(Trial::test(
        "lab::check_finds_each_break_exactly",
        check_finds_each_break_exactly,
    ));
    out.push(Trial::test(
        "lab::a_sabotaged_node_is_caught",
        a_sabotaged_node_is_caught,
    ));
    out.push(Trial::test(
        "lab::namespaces_are_removed_when_a_test_fails",
        namespaces_are_removed_when_a_test_fails,
    ));
    out
}

/// The UDP destination port of the probes.
const DPORT: u16 = 9000;

fn run(s: &Scenario) -> Result<(), Failed> {
    let start = Instant::now();
    let lab = ClusterLab::build(s.spec, s.tag).map_err(|e| format!("{}: {e:#}", s.spec))?;
    let built = start.elapsed();
    let mut problems = check_every_node(&lab);
    for p in s.pairs {
        match check_pair(&lab, p) {
            Ok(notes) => {
                for n in notes {
                    eprintln!("lab::{} {} → {}: note: {n}", s.name, p.src, p.dst);
                }
            }
            Err(mut e) => problems.append(&mut e),
        }
    }
    eprintln!(
        "lab::{}: {} namespaces built in {:.2} s, checked and {} pair(s) verified in {:.2} s",
        s.name,
        lab.namespace_count(),
        built.as_secs_f64(),
        s.pairs.len(),
        (start.elapsed() - built).as_secs_f64()
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} ({}): {} difference(s) between netpath's prediction and the kernels:\n  - {}",
            s.name,
            s.spec,
            problems.len(),
            problems.join("\n  - ")
        )
        .into())
    }
}

/// `netpath check` on every node after the agent: nothing to report, except the routes the
/// kernel refused (each announced by a plan warning), which check must report as missing.
fn check_every_node(lab: &ClusterLab) -> Vec<String> {
    let mut problems = Vec::new();
    for n in &lab.cluster.nodes {
        let (code, findings) = match lab.check(&n.name) {
            Ok(x) => x,
            Err(e) => {
                problems.push(format!("{e:#}"));
                continue;
            }
        };
        let refused: Vec<&str> = lab
            .refused
            .iter()
            .filter(|r| r.node == n.name)
            .filter_map(|r| r.what.split_whitespace().find(|w| w.contains('/')))
            .collect();
        let unexplained: Vec<&Value> = findings
            .iter()
            .filter(|f| {
                let object = f["object"].as_str().unwrap_or("");
                !refused.iter().any(|dst| object.contains(dst))
            })
            .collect();
        if !unexplained.is_empty() {
            problems.push(format!(
                "netpath check on {} after the agent reports: {}",
                n.name,
                unexplained
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        let want_code = if refused.is_empty() { 0 } else { 1 };
        if code != Some(want_code) {
            problems.push(format!(
                "netpath check on {} exits {code:?}, expected {want_code} (refused by the kernel: {refused:?})",
                n.name
            ));
        }
        for dst in &refused {
            if !findings
                .iter()
                .any(|f| f["object"].as_str().is_some_and(|o| o.contains(dst)))
            {
                problems.push(format!(
                    "the kernel refused the route to {dst} on {}, but netpath check does not report it",
                    n.name
                ));
            }
        }
    }
    problems
}

/// Verify a pair in the lab and hold trace to the scenario's claim; the differences, or notes.
fn check_pair(lab: &ClusterLab, p: &Pair) -> Result<Vec<String>, Vec<String>> {
    let report: PairReport = lab
        .verify_pair(p.src, p.dst, DPORT)
        .map_err(|e| vec![format!("{} → {}: {e:#}", p.src, p.dst)])?;
    let mut problems = report.problems;
    for d in &report.directions {
        let want_delivered = !matches!(p.want, Want::Dropped);
        if d.predicted_delivered != want_delivered {
            problems.push(format!(
                "{} → {} {}: the scenario is about a pair that is {}, trace says otherwise",
                p.src,
                p.dst,
                d.name,
                if want_delivered {
                    "delivered"
                } else {
                    "dropped"
                },
            ));
        }
        let ok = match (p.want, &d.predicted_encap) {
            (Want::Plain, Encap::None) => true,
            (
                Want::Vxlan(vni, port),
                Encap::Vxlan {
                    vni: v, port: o, ..
                },
            ) => u64::from(vni) == *v && u64::from(port) == *o,
            (Want::Ipip, Encap::Ipip { .. }) => true,
            (Want::Dropped, _) => true,
            _ => false,
        };
        if !ok {
            problems.push(format!(
                "{} → {} {}: trace predicts {}, not what the scenario is about",
                p.src, p.dst, d.name, d.predicted_encap
            ));
        }
    }
    if problems.is_empty() {
        Ok(report.notes)
    } else {
        Err(problems)
    }
}

const CALICO_IPIP: Scenario = Scenario {
    name: "calico_ipip",
    spec: "demo:calico-ipip",
    tag: "cip",
    pairs: &[
        pair("default/web-0", "default/db-0", Want::Ipip),
        pair("default/web-0", "default/cache-0", Want::Ipip),
    ],
};

/// Calico IPIP: run like the others where the kernel can make an ipip device. Here (no ipip
/// module) say so and skip the traffic, and check that the agent refuses with exit 3 and
/// changes nothing on the node.
fn calico_ipip_needs_the_ipip_module() -> Result<(), Failed> {
    let scratch = TestNetns::new("ipq");
    let probe = scratch.exec_output("ip link add name np-ipip type ipip local any remote any");
    drop(scratch);
    if probe.status.success() {
        return run(&CALICO_IPIP);
    }
    eprintln!(
        "lab::calico_ipip_needs_the_ipip_module: SKIPPING the IPIP traffic scenario: this kernel cannot create an ipip device ({})",
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    let lab = ClusterLab::build_with("demo:calico-ipip", "cip", Programmer::PodsOnly)
        .map_err(|e| format!("{e:#}"))?;
    // Everything the agent could change (IPv4 only: IPv6 link-local DAD moves on by itself).
    let state = "ip -d link show; ip -4 addr; ip -4 route show table all; ip -4 neigh; \
                 bridge fdb show | grep -v -e ^33:33 -e ^01:00:5e; \
                 sysctl -a 2>/dev/null | grep -E \"^net\\.ipv4\\.(ip_forward|conf)\"";
    let before = lab.exec("node-1", state).map_err(|e| format!("{e:#}"))?;
    let run = lab.agent_once("node-1").map_err(|e| format!("{e:#}"))?;
    if run.code != Some(3) {
        return Err(format!(
            "the agent should refuse the IPIP plan with exit 3, it exited {:?}: {} {}",
            run.code, run.stderr, run.doc
        )
        .into());
    }
    if !run.stderr.contains("ipip") {
        return Err(format!("the refusal does not name ipip: {}", run.stderr).into());
    }
    let after = lab.exec("node-1", state).map_err(|e| format!("{e:#}"))?;
    if before != after {
        let gone: Vec<&str> = before.lines().filter(|l| !after.contains(l)).collect();
        let new: Vec<&str> = after.lines().filter(|l| !before.contains(l)).collect();
        return Err(
            format!("the refusing agent changed the node: gone {gone:#?}, new {new:#?}").into(),
        );
    }
    Ok(())
}

/// After the agent: deleting a route by hand makes `netpath check` report it, the pods stop
/// reaching each other as trace (on the unchanged plan) no longer matches the kernel, and
/// `netpath agent --once` puts it back, after which check is clean and traffic matches trace.
/// A node programmed by the agent checks clean; broken one way at a time, `netpath check`
/// reports exactly that one problem (kind and object), and `agent --once` repairs it.
fn check_finds_each_break_exactly() -> Result<(), Failed> {
    let e = |e: anyhow::Error| format!("{e:#}");
    let lab = ClusterLab::build("demo:flannel-vxlan", "brk").map_err(e)?;
    let (code, findings) = lab.check("node-1").map_err(e)?;
    if code != Some(0) || !findings.is_empty() {
        return Err(format!("a fresh node should check clean: {code:?} {findings:?}").into());
    }
    // node-3's VTEP MAC, as node-1's FDB has it.
    let fdb = lab
        .exec(
            "node-1",
            "bridge fdb show dev flannel.1 | grep 'dst 10.234.2.13'",
        )
        .map_err(e)?;
    let vtep3 = fdb
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let breaks: [(&str, String, &str, &str); 6] = [
        (
            "delete a route",
            "ip route del 10.244.2.0/24".into(),
            "missing",
            "10.244.2.0/24",
        ),
        (
            "change a next hop",
            "ip route replace 10.244.2.0/24 via 10.244.1.0 dev flannel.1 proto 158 onlink".into(),
            "wrong_next_hop",
            "10.244.2.0/24",
        ),
        (
            "flip a VTEP in the FDB",
            format!("bridge fdb replace {vtep3} dev flannel.1 dst 10.234.2.99 self permanent"),
            "stale",
            &vtep3,
        ),
        (
            "turn ip_forward off",
            "sysctl -qw net.ipv4.ip_forward=0".into(),
            "sysctl",
            "ip_forward",
        ),
        (
            "add an overlapping route",
            "ip route add 10.244.2.128/25 via 10.234.2.1 dev eth0".into(),
            // Inside the pod network with Flannel's proto boot: the CNI's territory, so
            // unexpected (with the command that removes it), not merely foreign.
            "unexpected",
            "10.244.2.128/25",
        ),
        (
            "set a wrong MTU",
            "ip link set flannel.1 mtu 1400".into(),
            "wrong_mtu",
            "flannel.1",
        ),
    ];
    let mut problems = Vec::new();
    for (what, cmd, kind, object) in &breaks {
        lab.exec("node-1", cmd).map_err(e)?;
        let (code, findings) = lab.check("node-1").map_err(e)?;
        let serious: Vec<&Value> = findings
            .iter()
            .filter(|f| f["severity"] != "info")
            .collect();
        // ip_forward=0 also turns every device's forwarding off (the kernel does that), so
        // that break may show several sysctl findings; every other break exactly one.
        let count_ok = serious.len() == 1 || (*kind == "sysctl" && !serious.is_empty());
        let exact = count_ok
            && serious.iter().all(|f| f["kind"] == *kind)
            && serious
                .iter()
                .any(|f| f["object"].as_str().is_some_and(|o| o.contains(object)));
        if code != Some(1) || !exact {
            problems.push(format!(
                "{what}: expected exit 1 and exactly the {kind} finding on {object}, got exit {code:?}: {serious:?}"
            ));
        }
        if *kind == "unexpected" {
            // Not the agent's to remove: a foreign route is reported, never touched.
            lab.exec("node-1", "ip route del 10.244.2.128/25")
                .map_err(e)?;
        }
        let run = lab.agent_once("node-1").map_err(e)?;
        let (code, findings) = lab.check("node-1").map_err(e)?;
        if run.code != Some(0) || code != Some(0) || !findings.is_empty() {
            problems.push(format!(
                "{what}: after agent --once (exit {:?}) check says {code:?} {findings:?}",
                run.code
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

fn check_reports_a_deleted_route_and_the_agent_repairs_it() -> Result<(), Failed> {
    let e = |e: anyhow::Error| format!("{e:#}");
    let lab = ClusterLab::build("demo:flannel-vxlan", "rep").map_err(e)?;
    lab.exec("node-1", "ip route del 10.244.2.0/24")
        .map_err(e)?;
    let (code, findings) = lab.check("node-1").map_err(e)?;
    let reported = findings.iter().any(|f| {
        f["object"]
            .as_str()
            .is_some_and(|o| o.contains("10.244.2.0/24"))
    });
    if code != Some(1) || !reported {
        return Err(format!(
            "netpath check should report the deleted route (exit 1), it exits {code:?} with {findings:?}"
        )
        .into());
    }
    let broken = lab
        .verify_pair("default/web-0", "default/db-0", DPORT)
        .map_err(e)?;
    if broken.problems.is_empty() {
        return Err("with the route deleted, the kernels should differ from trace".into());
    }
    let run = lab.agent_once("node-1").map_err(e)?;
    if run.code != Some(0) {
        return Err(format!("agent --once did not converge: {:?} {}", run.code, run.doc).into());
    }
    let route = lab
        .exec("node-1", "ip route show 10.244.2.0/24")
        .map_err(e)?;
    if !route.contains("via 10.244.2.0 dev flannel.1") || !route.contains("onlink") {
        return Err(format!("the agent put back {route:?}").into());
    }
    let (code, findings) = lab.check("node-1").map_err(e)?;
    if code != Some(0) || !findings.is_empty() {
        return Err(format!("after the repair check reports {code:?} {findings:?}").into());
    }
    let fixed = lab
        .verify_pair("default/web-0", "default/db-0", DPORT)
        .map_err(e)?;
    if !fixed.problems.is_empty() {
        return Err(format!("after the repair: {:#?}", fixed.problems).into());
    }
    Ok(())
}

/// The comparisons are not vacuous: a node whose route differs from the plan (the route to
/// node-3's lease sent to node-2 instead of through flannel.1) is reported both at the
/// routing hop and on the wire, although the packet still arrives (node-2 forwards it).
fn a_sabotaged_node_is_caught() -> Result<(), Failed> {
    let lab = ClusterLab::build("demo:flannel-vxlan", "sab").map_err(|e| format!("{e:#}"))?;
    lab.exec(
        "node-1",
        "ip route replace 10.244.2.0/24 via 10.234.2.12 dev eth0",
    )
    .map_err(|e| format!("{e:#}"))?;
    let problems = match check_pair(
        &lab,
        &pair("default/web-0", "default/db-0", Want::Vxlan(1, 8472)),
    ) {
        Ok(_) => return Err("a node routing around the plan went unnoticed".into()),
        Err(p) => p,
    };
    for p in &problems {
        eprintln!("lab::a_sabotaged_node_is_caught: caught: {p}");
    }
    let at_route = problems.iter().any(|p| {
        p.contains("at node-1 trace matches route 10.244.2.0/24")
            && p.contains("via 10.234.2.12 dev eth0")
    });
    let on_wire = problems.iter().any(|p| {
        p.contains("leaving node-1 on eth0 trace predicts VXLAN VNI 1")
            && p.contains("the capture saw no encapsulation")
    });
    let arrived_anyway = !problems.iter().any(|p| p.contains("did not arrive"));
    if !(at_route && on_wire && arrived_anyway) {
        return Err(format!(
            "expected a routing-hop and an on-the-wire difference (and arrival): {problems:#?}"
        )
        .into());
    }
    Ok(())
}

/// A lab whose test panics half-way leaves no namespace behind.
fn namespaces_are_removed_when_a_test_fails() -> Result<(), Failed> {
    let tag = "lcl";
    let prefix = format!("np-{tag}-");
    let pid = format!("-{}-", std::process::id());
    let ours = || -> Vec<String> {
        std::fs::read_dir("/run/netns")
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(&prefix) && n.contains(&pid))
                    .collect()
            })
            .unwrap_or_default()
    };
    let result = std::panic::catch_unwind(|| {
        let lab = ClusterLab::build("demo:flannel-vxlan", tag).expect("lab builds");
        let made = ours();
        assert!(
            made.len() >= 8,
            "expected 3 nodes, 3 pods and a segment: {made:?}"
        );
        let _ = &lab;
        eprintln!("lab::namespaces_are_removed_when_a_test_fails: the panic below is deliberate");
        panic!("deliberate panic: the lab must clean up after a failing test");
    });
    assert!(result.is_err(), "the closure was meant to panic");
    let left = ours();
    if !left.is_empty() {
        return Err(format!("namespaces left behind: {left:?}").into());
    }
    Ok(())
}
