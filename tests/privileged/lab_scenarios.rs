//! The lab's scenarios: each demo cluster built out of namespaces ([`ClusterLab`]), then for
//! a few pod pairs on different nodes, both directions:
//! - real UDP between the pods arrives exactly when `netpath trace` says delivered;
//! - a capture on the sending node's uplink (and the receiving node's) shows the
//!   encapsulation trace predicted (VXLAN VNI, port and outer addresses, or none);
//! - every routing hop trace predicts is what the kernel of that host decides
//!   (`ip route get DST from SRC iif DEV` in its netns: same gateway, same device, same
//!   type); every neighbour trace resolves holds the MAC trace says; every FDB entry exists;
//!   a drop is what the kernel does there (no route, a refused route).

use crate::cluster_lab::{ClusterLab, Encap, PairReport};
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
    let lab = ClusterLab::build(s.spec, s.tag).map_err(|e| format!("{}: {e:#}", s.spec))?;
    let mut problems = Vec::new();
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

/// Calico IPIP: run like the others where the kernel can make an ipip device; here (no ipip
/// module) say so, and check that building the lab stops at the tunnel device with the
/// kernel's reason instead of half-working.
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
    let err = match ClusterLab::build("demo:calico-ipip", "cip") {
        Ok(_) => return Err("the calico-ipip lab built on a kernel without ipip".into()),
        Err(e) => format!("{e:#}"),
    };
    if !err.contains("tunl0") || !err.contains("type ipip") {
        return Err(format!("the build failed, but not at the ipip device: {err}").into());
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
