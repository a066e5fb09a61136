//! The lab's scenarios: each demo cluster built out of namespaces ([`ClusterLab`]), then for
//! a few pod pairs on different nodes, both directions:
//! - real UDP between the pods arrives exactly when `netpath trace` says delivered;
//! - a capture on the sending node's uplink (and the receiving node's) shows the
//!   encapsulation trace predicted (VXLAN VNI, port and outer addresses, or none);
//! - every routing hop trace predicts is what the kernel of that host decides
//!   (`ip route get DST from SRC iif DEV` in its netns: same gateway, same device, same
//!   type); every neighbour trace resolves holds the MAC trace says; every FDB entry exists;
//!   a drop is what the kernel does there (no route, a refused route).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::cluster_lab::{Capture, ClusterLab, KernelRoute};
use crate::lab::TestNetns;

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

/// One direction of a trace, with what the lab needs from it.
struct Direction<'a> {
    name: &'static str,
    from_pod: String,
    to_pod: String,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    size: usize,
    delivered: bool,
    hops: &'a [Value],
    verdict: &'a Value,
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn ip_of(v: &Value, k: &str) -> Option<IpAddr> {
    str_of(v, k).and_then(|s| s.parse().ok())
}

fn direction<'a>(
    trace: &'a Value,
    name: &'static str,
    from_pod: &str,
    to_pod: &str,
) -> Result<Direction<'a>, String> {
    let d = &trace[name];
    let p = &d["packet"];
    let bad = || format!("trace {name}: missing fields in {d}");
    let port = |k: &str| {
        p.get(k)
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
    };
    let verdict = &d["verdict"];
    Ok(Direction {
        name,
        from_pod: from_pod.to_string(),
        to_pod: to_pod.to_string(),
        src: ip_of(p, "src").ok_or_else(bad)?,
        dst: ip_of(p, "dst").ok_or_else(bad)?,
        sport: port("sport").ok_or_else(bad)?,
        dport: port("dport").ok_or_else(bad)?,
        size: p.get("size").and_then(Value::as_u64).ok_or_else(bad)? as usize,
        delivered: str_of(verdict, "verdict") == Some("delivered"),
        hops: d["hops"].as_array().map(Vec::as_slice).ok_or_else(bad)?,
        verdict,
    })
}

/// The encapsulation of a packet: `None` for plain, or (kind, VNI, port, outer src, outer dst).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Encap {
    None,
    Vxlan {
        vni: u64,
        port: u64,
        outer_src: IpAddr,
        outer_dst: IpAddr,
    },
    Ipip {
        outer_src: IpAddr,
        outer_dst: IpAddr,
    },
}

impl std::fmt::Display for Encap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Encap::None => write!(f, "no encapsulation"),
            Encap::Vxlan {
                vni,
                port,
                outer_src,
                outer_dst,
            } => write!(f, "VXLAN VNI {vni} udp/{port} {outer_src} → {outer_dst}"),
            Encap::Ipip {
                outer_src,
                outer_dst,
            } => write!(f, "IPIP {outer_src} → {outer_dst}"),
        }
    }
}

/// The encapsulation trace predicts for a direction (its `encap` hop), if any.
fn predicted_encap(d: &Direction) -> Result<Encap, String> {
    let Some(h) = d
        .hops
        .iter()
        .find(|h| h["action"]["kind"] == "encap" && h["depth"] == 0)
    else {
        return Ok(Encap::None);
    };
    let e = &h["encap"];
    let bad = || format!("trace {}: unreadable encap {e}", d.name);
    match str_of(e, "type") {
        Some("vxlan") => Ok(Encap::Vxlan {
            vni: e["vni"].as_u64().ok_or_else(bad)?,
            port: e["port"].as_u64().ok_or_else(bad)?,
            outer_src: ip_of(e, "outer_src").ok_or_else(bad)?,
            outer_dst: ip_of(e, "outer_dst").ok_or_else(bad)?,
        }),
        Some("ipip") => Ok(Encap::Ipip {
            outer_src: ip_of(e, "outer_src").ok_or_else(bad)?,
            outer_dst: ip_of(e, "outer_dst").ok_or_else(bad)?,
        }),
        _ => Err(bad()),
    }
}

/// The encapsulation a decoded packet carries, if it is one of the direction's datagrams
/// (innermost IPv4 source/destination and UDP ports match).
fn seen_encap(packet: &Value, d: &Direction) -> Option<Encap> {
    let layers = packet["layers"].as_array()?;
    let ipv4: Vec<&Value> = layers.iter().filter(|l| l["proto"] == "ipv4").collect();
    let inner = ipv4.last()?;
    let udp = layers.iter().rev().find(|l| l["proto"] == "udp")?;
    if ip_of(inner, "src") != Some(d.src)
        || ip_of(inner, "dst") != Some(d.dst)
        || udp["src_port"].as_u64() != Some(u64::from(d.sport))
        || udp["dst_port"].as_u64() != Some(u64::from(d.dport))
    {
        return None;
    }
    if let Some(v) = layers.iter().find(|l| l["proto"] == "vxlan") {
        let outer = ipv4.first()?;
        return Some(Encap::Vxlan {
            vni: v["vni"].as_u64()?,
            port: v["port"].as_u64()?,
            outer_src: ip_of(outer, "src")?,
            outer_dst: ip_of(outer, "dst")?,
        });
    }
    if ipv4.len() >= 2 {
        let outer = ipv4[0];
        return Some(Encap::Ipip {
            outer_src: ip_of(outer, "src")?,
            outer_dst: ip_of(outer, "dst")?,
        });
    }
    Some(Encap::None)
}

fn node_of(lab: &ClusterLab, pod: &str) -> Result<(String, String), String> {
    let p = lab
        .cluster
        .pods
        .iter()
        .find(|p| p.key() == pod)
        .ok_or_else(|| format!("no pod {pod} in {}", lab.spec))?;
    let n = lab
        .cluster
        .node(&p.node)
        .ok_or_else(|| format!("no node {}", p.node))?;
    Ok((n.name.clone(), n.iface.clone()))
}

/// Trace, send, capture and compare one pair; the differences found, or notes.
fn check_pair(lab: &ClusterLab, p: &Pair) -> Result<Vec<String>, Vec<String>> {
    let one = |e: String| vec![e];
    let trace = lab
        .trace(p.src, p.dst, DPORT)
        .map_err(|e| one(format!("{e:#}")))?;
    let dirs = [
        direction(&trace, "request", p.src, p.dst).map_err(one)?,
        direction(&trace, "reply", p.dst, p.src).map_err(one)?,
    ];
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let label = format!("{} → {}", p.src, p.dst);

    // The scenario's own claim.
    for d in &dirs {
        let want_delivered = !matches!(p.want, Want::Dropped);
        if d.delivered != want_delivered {
            problems.push(format!(
                "{label} {}: the scenario expects {}, trace says {}",
                d.name,
                if want_delivered {
                    "delivered"
                } else {
                    "dropped"
                },
                d.verdict
            ));
        }
        let enc = predicted_encap(d).map_err(one)?;
        let ok = match (p.want, &enc) {
            (Want::Plain | Want::Dropped, Encap::None) => true,
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
                "{label} {}: trace predicts {enc}, not what the scenario is about",
                d.name
            ));
        }
    }

    // Captures on both nodes' uplinks, running while both directions are sent.
    let (src_node, src_if) = node_of(lab, p.src).map_err(one)?;
    let (dst_node, dst_if) = node_of(lab, p.dst).map_err(one)?;
    let caps = [
        (src_node.clone(), src_if.clone()),
        (dst_node.clone(), dst_if.clone()),
    ];
    let mut running: Vec<Capture> = Vec::new();
    for (n, i) in &caps {
        running.push(lab.capture(n, i).map_err(|e| one(format!("{e:#}")))?);
    }
    let mut arrived = Vec::new();
    for d in &dirs {
        let wait = if d.delivered {
            Duration::from_secs(3)
        } else {
            Duration::from_millis(700)
        };
        let got = lab
            .udp_arrives(
                (&d.from_pod, SocketAddr::new(d.src, d.sport)),
                (&d.to_pod, SocketAddr::new(d.dst, d.dport)),
                d.size,
                wait,
            )
            .map_err(|e| one(format!("{label} {}: {e:#}", d.name)))?;
        arrived.push(got);
    }
    std::thread::sleep(Duration::from_millis(50));
    let mut seen: HashMap<String, Vec<Value>> = HashMap::new();
    for c in running {
        let host = c.label.clone();
        seen.insert(host, c.finish().map_err(|e| one(format!("{e:#}")))?);
    }

    for (d, got) in dirs.iter().zip(&arrived) {
        // 1. Arrival.
        if *got != d.delivered {
            problems.push(format!(
                "{label} {}: trace says {}, but the UDP datagram {} ({} → {} udp/{})",
                d.name,
                if d.delivered { "delivered" } else { "dropped" },
                if *got { "arrived" } else { "did not arrive" },
                d.src,
                d.dst,
                d.dport
            ));
        }
        // 2. Hops against the kernels.
        let diverged = compare_hops(lab, d, &mut problems, &mut notes);
        // 3. Encapsulation on the wire.
        let (from_node, from_if, to_node, to_if) = if d.name == "request" {
            (&src_node, &src_if, &dst_node, &dst_if)
        } else {
            (&dst_node, &dst_if, &src_node, &src_if)
        };
        let predicted = predicted_encap(d).map_err(one)?;
        let leaves = d.hops.iter().any(|h| {
            h["host"] == from_node.as_str()
                && h["action"]["kind"] == "transmit"
                && h["device"] == from_if.as_str()
        });
        let reaches = d.hops.iter().any(|h| {
            h["host"] == to_node.as_str()
                && h["action"]["kind"] == "receive"
                && h["device"] == to_if.as_str()
        });
        for (node, iface, predicted_here, what) in [
            (from_node, from_if, leaves, "leaving"),
            (to_node, to_if, reaches, "arriving at"),
        ] {
            let key = format!("{node} {iface}");
            let encs: Vec<Encap> = seen
                .get(&key)
                .map(|ps| ps.iter().filter_map(|pk| seen_encap(pk, d)).collect())
                .unwrap_or_default();
            if predicted_here {
                if encs.is_empty() {
                    problems.push(format!(
                        "{label} {}: trace predicts the packet {what} {node} on {iface} ({predicted}), the capture there saw none",
                        d.name
                    ));
                }
                for e in encs.iter().filter(|e| **e != predicted) {
                    problems.push(format!(
                        "{label} {}: {what} {node} on {iface} trace predicts {predicted}, the capture saw {e}",
                        d.name
                    ));
                }
            } else if let Some(e) = encs.first() {
                if diverged {
                    notes.push(format!(
                        "{} {what} {node} on {iface}: the kernel sent it ({e}) along the route it has instead of the refused one",
                        d.name
                    ));
                } else {
                    problems.push(format!(
                        "{label} {}: trace predicts nothing {what} {node} on {iface}, the capture saw {} packet(s) ({e})",
                        d.name,
                        encs.len()
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(notes)
    } else {
        Err(problems)
    }
}

/// Compare every routing, neighbour and FDB hop of a direction with the kernel of its host,
/// and its drop with what the kernel does there. Returns true when trace's path ends at a
/// route the kernel refused (the kernel then takes another route: noted, not compared).
fn compare_hops(
    lab: &ClusterLab,
    d: &Direction,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> bool {
    let label = format!("{} → {} {}", d.from_pod, d.to_pod, d.name);
    // Where the packet entered the current host (None: sent by the host itself).
    let mut iif: Option<(String, usize, String)> = None;
    let reason = str_of(&d.verdict["reason"], "code").unwrap_or("");
    let mut diverged = false;
    for (i, h) in d.hops.iter().enumerate() {
        let host = str_of(h, "host").unwrap_or("?");
        let depth = h["depth"].as_u64().unwrap_or(0) as usize;
        let device = str_of(h, "device");
        let kind = str_of(&h["action"], "kind").unwrap_or("?");
        let (Some(src), Some(dst)) = (ip_of(h, "src"), ip_of(h, "dst")) else {
            problems.push(format!("{label}: hop without addresses: {h}"));
            continue;
        };
        let here_iif = iif
            .as_ref()
            .filter(|(hh, dd, _)| hh == host && *dd == depth)
            .map(|(_, _, dev)| dev.as_str());
        match kind {
            "send" | "encap" => iif = None,
            "receive" => {
                let dev = str_of(&h["action"], "bridge").or(device).unwrap_or("?");
                iif = Some((host.to_string(), depth, dev.to_string()));
            }
            "route" => {
                let r = &h["route"];
                let nh = &r["nexthops"][0];
                let want_type = str_of(r, "type").unwrap_or("unicast");
                let want_gw = ip_of(nh, "gateway");
                let want_dev = str_of(nh, "dev");
                let next_is_refused = d.hops.get(i + 1).is_some_and(|n| {
                    n["action"]["kind"] == "drop" && reason == "next-hop-not-on-link"
                });
                let got = match lab.route_get(host, dst, src, here_iif) {
                    Ok(k) => k,
                    Err(e) => {
                        problems.push(format!("{label}: at {host}: {e:#}"));
                        continue;
                    }
                };
                let shown = format!(
                    "ip route get {dst} from {src}{} in {host}",
                    here_iif.map(|d| format!(" iif {d}")).unwrap_or_default()
                );
                if next_is_refused {
                    // Trace: the kernel refuses this route. Then it must not be there.
                    let rdst = str_of(r, "dst").unwrap_or("?");
                    match lab.exec(host, &format!("ip -j route show exact {rdst}")) {
                        Ok(out) if out.trim() == "[]" || out.trim().is_empty() => {
                            diverged = true;
                            notes.push(format!(
                                "{}: as trace says, {host}'s kernel refused the route to {rdst} (next hop not on-link); {shown} picks {got} instead",
                                d.name
                            ));
                        }
                        Ok(out) => problems.push(format!(
                            "{label}: trace says {host}'s kernel refuses the route to {rdst}, but it holds {}",
                            out.trim()
                        )),
                        Err(e) => problems.push(format!("{label}: {e:#}")),
                    }
                    continue;
                }
                let same = match &got {
                    KernelRoute::Route { kind, gateway, dev } => {
                        kind == want_type
                            && (want_type != "unicast"
                                || (*gateway == want_gw && dev.as_deref() == want_dev))
                    }
                    KernelRoute::Error(_) => false,
                };
                if !same {
                    problems.push(format!(
                        "{label}: at {host} trace matches route {} ({want_type} via {} dev {}), but {shown} says {got}",
                        str_of(r, "dst").unwrap_or("?"),
                        want_gw.map(|g| g.to_string()).unwrap_or_else(|| "-".into()),
                        want_dev.unwrap_or("-"),
                    ));
                }
            }
            "resolve" if !diverged => {
                let a = &h["action"];
                let (Some(addr), Some(mac), Some(dev)) =
                    (ip_of(a, "addr"), str_of(a, "mac"), device)
                else {
                    continue;
                };
                match lab.exec(host, &format!("ip -j neigh show {addr} dev {dev}")) {
                    Ok(out) => {
                        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
                        let have = v.get(0).and_then(|n| str_of(n, "lladdr"));
                        if have != Some(mac) {
                            problems.push(format!(
                                "{label}: at {host} trace resolves {addr} on {dev} to {mac} ({}), the kernel's neighbour table has {}",
                                a["how"],
                                have.unwrap_or("no entry")
                            ));
                        }
                    }
                    Err(e) => problems.push(format!("{label}: {e:#}")),
                }
            }
            "fdb" if !diverged => {
                let a = &h["action"];
                let (Some(mac), Some(vtep), Some(dev)) =
                    (str_of(a, "mac"), ip_of(a, "dst"), device)
                else {
                    continue;
                };
                match lab.exec(host, &format!("bridge -j fdb show dev {dev}")) {
                    Ok(out) => {
                        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
                        let found = v.as_array().is_some_and(|es| {
                            es.iter().any(|e| {
                                str_of(e, "mac") == Some(mac) && ip_of(e, "dst") == Some(vtep)
                            })
                        });
                        if !found {
                            problems.push(format!(
                                "{label}: at {host} trace finds FDB {mac} dst {vtep} on {dev}, the kernel has none: {}",
                                out.trim()
                            ));
                        }
                    }
                    Err(e) => problems.push(format!("{label}: {e:#}")),
                }
            }
            "drop" if reason == "no-route" => match lab.route_get(host, dst, src, here_iif) {
                Ok(KernelRoute::Error(e)) if e.contains("unreachable") => {}
                Ok(other) => problems.push(format!(
                    "{label}: trace says {host} has no route to {dst}, the kernel says {other}"
                )),
                Err(e) => problems.push(format!("{label}: {e:#}")),
            },
            _ => {}
        }
    }
    diverged
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
