//! Findings that only show across nodes: the same pod CIDR claimed by two nodes, a pod
//! CIDR shadowed by a node's own subnet or by a more specific route, a node subnet that
//! covers pod CIDRs (cni-semantics F11/F12), and a Calico blackhole that hides a pod IP
//! another node borrowed from the block.
//!
//! Pure: the nodes' actual states (and, when known, their plans and the cluster's pods)
//! in, findings out, each naming the node it is on.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::Serialize;

use super::{Change, Finding, FindingKind, Severity};
use crate::dataplane::{LinkKind, NodeState, Protocol, Route, RouteTable, Table};

/// One node as the cluster checks see it.
#[derive(Debug, Clone, Copy)]
pub struct NodeView<'a> {
    /// The node's name.
    pub name: &'a str,
    /// What the node has (a snapshot or the live kernel).
    pub actual: &'a NodeState,
    /// What it should have, when a cluster plans it (used for fixes).
    pub plan: Option<&'a NodeState>,
    /// The pod CIDRs the cluster gives the node (used when the node shows none itself).
    pub pod_cidrs: &'a [IpNetwork],
}

/// What the cluster description knows beyond each node.
#[derive(Debug, Clone)]
pub struct ClusterFacts {
    /// The pod networks (Flannel's Network, Calico's pools); empty when unknown.
    pub networks: Vec<IpNetwork>,
    /// Pod IPs and the node that hosts each pod.
    pub pods: Vec<(String, IpAddr)>,
    /// The agent's route protocol: its routes are the CNI's.
    pub agent_proto: Protocol,
}

/// A finding on one node (or several), from looking at the whole cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterFinding {
    /// The node the finding is on (where the fix would run).
    pub node: String,
    /// Every node involved (the other claimant, the pod's host …), sorted.
    pub nodes: Vec<String>,
    /// The finding itself.
    #[serde(flatten)]
    pub finding: Finding,
}

/// A pod CIDR a node claims, and what shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The node.
    pub node: String,
    /// The CIDR.
    pub cidr: IpNetwork,
    /// Where it comes from, in `ip`'s words (`address 10.244.1.1/24 dev cni0`).
    pub shown_by: String,
}

impl Default for ClusterFacts {
    fn default() -> ClusterFacts {
        ClusterFacts {
            networks: Vec::new(),
            pods: Vec::new(),
            agent_proto: super::AGENT_PROTO,
        }
    }
}

fn canonical(n: IpNetwork) -> IpNetwork {
    IpNetwork::new(n.network(), n.prefix()).unwrap_or(n)
}

fn is_cni_device(name: &str) -> bool {
    crate::cni::is_device(name)
}

fn inside(outer: &IpNetwork, inner: &IpNetwork) -> bool {
    outer.prefix() <= inner.prefix() && outer.contains(inner.network())
}

fn overlaps(a: &IpNetwork, b: &IpNetwork) -> bool {
    inside(a, b) || inside(b, a)
}

fn host_prefix(n: &IpNetwork) -> u8 {
    match n {
        IpNetwork::V4(_) => 32,
        IpNetwork::V6(_) => 128,
    }
}

/// True for the protocols the CNIs (and the agent) program routes with.
fn cni_proto(p: Protocol, agent: Protocol) -> bool {
    p == Protocol::BIRD || p == Protocol::FELIX || p == agent
}

/// The pod CIDRs a node's own state claims: the address of its pod bridge (Flannel's
/// `cni0`), and its local-block blackholes (Calico's `blackhole <block> proto bird|80`,
/// Flannel's `--ip-blackhole-route`). Inside the pod networks when they are known.
pub fn claims(name: &str, state: &NodeState, facts: &ClusterFacts) -> Vec<Claim> {
    let in_pods =
        |n: &IpNetwork| facts.networks.is_empty() || facts.networks.iter().any(|p| inside(p, n));
    let mut out: Vec<Claim> = Vec::new();
    let mut push = |cidr: IpNetwork, shown_by: String| {
        let cidr = canonical(cidr);
        if in_pods(&cidr) && !out.iter().any(|c| c.cidr == cidr) {
            out.push(Claim {
                node: name.to_string(),
                cidr,
                shown_by,
            });
        }
    };
    for a in &state.addrs {
        let bridge = state
            .link(&a.dev)
            .is_some_and(|l| matches!(l.kind, LinkKind::Bridge));
        if a.addr.prefix() < host_prefix(&a.addr) && bridge && is_cni_device(&a.dev) {
            push(a.addr, format!("address {} dev {}", a.addr, a.dev));
        }
    }
    for r in &state.routes {
        if r.table == Table::MAIN
            && r.kind.drops()
            && r.dst.prefix() < host_prefix(&r.dst)
            && (cni_proto(r.proto, facts.agent_proto) || r.proto == Protocol::BOOT)
        {
            push(r.dst, r.to_string());
        }
    }
    out
}

fn claims_of(view: &NodeView<'_>, facts: &ClusterFacts) -> Vec<Claim> {
    let mut c = claims(view.name, view.actual, facts);
    if c.is_empty() {
        c = view
            .pod_cidrs
            .iter()
            .map(|n| Claim {
                node: view.name.to_string(),
                cidr: canonical(*n),
                shown_by: "the cluster's pod CIDR for the node".to_string(),
            })
            .collect();
    }
    c
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// Every cluster-wide finding over these nodes, problems first.
pub fn cluster_findings(nodes: &[NodeView<'_>], facts: &ClusterFacts) -> Vec<ClusterFinding> {
    let all_claims: Vec<Claim> = nodes.iter().flat_map(|v| claims_of(v, facts)).collect();
    let mut out = duplicates(&all_claims);
    for view in nodes {
        out.extend(shadows(view, &all_claims, facts));
    }
    out.extend(hidden_by_blackholes(nodes, facts));
    out.sort_by(|a, b| {
        (a.finding.severity, &a.node, &a.finding.object).cmp(&(
            b.finding.severity,
            &b.node,
            &b.finding.object,
        ))
    });
    out
}

/// Two nodes claiming the same (or overlapping) pod CIDRs: pods on both get addresses
/// from the same range, and every other node routes that range to only one of them.
fn duplicates(claims: &[Claim]) -> Vec<ClusterFinding> {
    // Sweep over the claims sorted by first address: only neighbours in that order can
    // overlap, so this stays close to linear over large clusters.
    let range = |n: &IpNetwork| -> (u128, u128) {
        match n {
            IpNetwork::V4(v) => (
                u32::from(v.network()) as u128,
                u32::from(v.broadcast()) as u128,
            ),
            IpNetwork::V6(v) => {
                let start = u128::from(v.network());
                let bits = 128 - u32::from(v.prefix());
                let end = if bits == 128 {
                    u128::MAX
                } else {
                    start | ((1u128 << bits) - 1)
                };
                (start, end)
            }
        }
    };
    let mut idx: Vec<(bool, u128, u128, usize)> = claims
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (s, e) = range(&c.cidr);
            (c.cidr.is_ipv4(), s, e, i)
        })
        .collect();
    idx.sort();
    let mut out = Vec::new();
    let mut seen: HashSet<(String, String, IpNetwork, IpNetwork)> = HashSet::new();
    for (k, &(v4, _, end, i)) in idx.iter().enumerate() {
        for &(v4b, start_b, _, j) in &idx[k + 1..] {
            if v4b != v4 || start_b > end {
                break;
            }
            let (a, b) = (&claims[i], &claims[j]);
            if a.node == b.node || !overlaps(&a.cidr, &b.cidr) {
                continue;
            }
            let (first, second) = if a.node <= b.node { (a, b) } else { (b, a) };
            if !seen.insert((
                first.node.clone(),
                second.node.clone(),
                first.cidr,
                second.cidr,
            )) {
                continue;
            }
            let object = if first.cidr == second.cidr {
                format!("pod CIDR {}", first.cidr)
            } else {
                format!("pod CIDRs {} and {}", first.cidr, second.cidr)
            };
            let f = Finding::new(Severity::Error, FindingKind::DuplicatePodCidr, object)
                .expected("each pod CIDR on one node only")
                .actual(format!(
                    "{} claims {} ({}); {} claims {} ({})",
                    first.node,
                    first.cidr,
                    first.shown_by,
                    second.node,
                    second.cidr,
                    second.shown_by
                ));
            for node in [&first.node, &second.node] {
                out.push(ClusterFinding {
                    node: node.clone(),
                    nodes: sorted(vec![first.node.clone(), second.node.clone()]),
                    finding: f.clone(),
                });
            }
        }
    }
    out
}

/// On one node: its own subnets that cover or cut into pod CIDRs, and routes more
/// specific than a pod CIDR that take part of its traffic elsewhere.
fn shadows(view: &NodeView<'_>, claims: &[Claim], facts: &ClusterFacts) -> Vec<ClusterFinding> {
    let mut out = Vec::new();
    let state = view.actual;
    // The node's own subnets: addresses on its own devices (not the CNI's, not host
    // addresses, not link-local, not loopback).
    let mut subnets: Vec<(IpNetwork, String)> = Vec::new();
    for a in &state.addrs {
        let net = canonical(a.addr);
        let lo = state
            .link(&a.dev)
            .is_some_and(|l| matches!(l.kind, LinkKind::Loopback))
            || a.dev == "lo";
        let link_local = match net.network() {
            IpAddr::V4(v) => v.is_link_local(),
            IpAddr::V6(v) => (v.segments()[0] & 0xffc0) == 0xfe80,
        };
        if lo || link_local || is_cni_device(&a.dev) || net.prefix() == host_prefix(&net) {
            continue;
        }
        if !subnets.iter().any(|(n, d)| *n == net && *d == a.dev) {
            subnets.push((net, a.dev.clone()));
        }
    }
    for (net, dev) in &subnets {
        let hit: Vec<&Claim> = claims.iter().filter(|c| overlaps(net, &c.cidr)).collect();
        if hit.is_empty() {
            continue;
        }
        let covers = hit.iter().any(|c| inside(net, &c.cidr));
        let names = sorted(hit.iter().map(|c| c.node.clone()).collect());
        let mut listed: Vec<String> = hit
            .iter()
            .take(4)
            .map(|c| format!("{} of {}", c.cidr, c.node))
            .collect();
        if hit.len() > 4 {
            listed.push(format!("{} more", hit.len() - 4));
        }
        let (kind, expected, actual) = if covers {
            (
                FindingKind::Overlap,
                "the node's subnets and the pod CIDRs apart".to_string(),
                format!(
                    "subnet {net} dev {dev} covers pod CIDR {}: the hosts of the subnet in it are unreachable from pods, and routes to the pods fight the subnet's (cni-semantics F11/F12)",
                    listed.join(", ")
                ),
            )
        } else {
            (
                FindingKind::Shadowed,
                format!("pod CIDR {} reached as planned", listed.join(", ")),
                format!(
                    "subnet {net} dev {dev} is more specific: its part of the pod CIDR goes out of {dev} (cni-semantics F11)"
                ),
            )
        };
        let f = Finding::new(
            Severity::Error,
            kind,
            format!("subnet {net} dev {dev} on {}", view.name),
        )
        .expected(expected)
        .actual(actual);
        let mut nodes = names;
        nodes.push(view.name.to_string());
        out.push(ClusterFinding {
            node: view.name.to_string(),
            nodes: sorted(nodes),
            finding: f,
        });
    }
    // Routes more specific than a pod CIDR, not the CNI's: they take part of its traffic.
    let by_cidr: HashMap<IpNetwork, Vec<&Claim>> =
        claims.iter().fold(HashMap::new(), |mut m, c| {
            m.entry(c.cidr).or_insert_with(Vec::new).push(c);
            m
        });
    let own_subnet = |r: &Route| subnets.iter().any(|(n, _)| *n == canonical(r.dst));
    for r in state.routes.iter().filter(|r| r.table == Table::MAIN) {
        let dst = canonical(r.dst);
        let on_cni = r
            .nexthops
            .iter()
            .any(|h| h.dev.as_deref().is_some_and(is_cni_device));
        if on_cni
            || cni_proto(r.proto, facts.agent_proto)
            || (r.proto == Protocol::KERNEL && own_subnet(r))
        {
            continue;
        }
        // The pod CIDRs strictly containing the route.
        let mut containing: Vec<&Claim> = Vec::new();
        for len in 0..dst.prefix() {
            let Ok(n) = IpNetwork::new(dst.network(), len) else {
                continue;
            };
            if let Some(cs) = by_cidr.get(&canonical(n)) {
                containing.extend(cs.iter().copied());
            }
        }
        let Some(claim) = containing.iter().max_by_key(|c| c.cidr.prefix()) else {
            continue;
        };
        let owners: Vec<String> = containing
            .iter()
            .filter(|c| c.cidr == claim.cidr)
            .map(|c| c.node.clone())
            .collect();
        let fix = Change::DeleteRoute(r.clone()).commands();
        let f = Finding::new(
            Severity::Error,
            FindingKind::Shadowed,
            format!("route {dst} on {}", view.name),
        )
        .expected(format!(
            "pod CIDR {} of {} reached as planned, nothing more specific",
            claim.cidr,
            sorted(owners.clone()).join(" and ")
        ))
        .actual(format!(
            "{r}: takes the traffic for {dst} away from the pods"
        ))
        .fix(fix);
        let mut nodes = owners;
        nodes.push(view.name.to_string());
        out.push(ClusterFinding {
            node: view.name.to_string(),
            nodes: sorted(nodes),
            finding: f,
        });
    }
    out
}

/// The pods each node hosts, from its own state (a /32 route straight onto a pod's
/// device, as Calico programs a workload) and from the cluster's pod list.
fn hosted_pods(nodes: &[NodeView<'_>], facts: &ClusterFacts) -> BTreeMap<IpAddr, String> {
    let mut out = BTreeMap::new();
    for (node, ip) in &facts.pods {
        out.insert(*ip, node.clone());
    }
    for v in nodes {
        for r in &v.actual.routes {
            let workload = r.table == Table::MAIN
                && !r.kind.drops()
                && r.dst.prefix() == host_prefix(&r.dst)
                && r.nexthops.len() == 1
                && r.nexthops[0].gateway.is_none()
                && r.nexthops[0]
                    .dev
                    .as_deref()
                    .is_some_and(crate::cni::calico::is_veth);
            if workload {
                out.insert(r.dst.network(), v.name.to_string());
            }
        }
    }
    out
}

/// A node's blackhole for its block drops what is not more specific: a pod IP of the
/// block that another node borrowed needs its own /32 route (Calico exports it from the
/// borrowing node); without it the owner of the block drops that pod's traffic.
fn hidden_by_blackholes(nodes: &[NodeView<'_>], facts: &ClusterFacts) -> Vec<ClusterFinding> {
    let pods = hosted_pods(nodes, facts);
    let mut out = Vec::new();
    for v in nodes {
        let holes: Vec<&Route> = v
            .actual
            .routes
            .iter()
            .filter(|r| {
                r.table == Table::MAIN && r.kind.drops() && r.dst.prefix() < host_prefix(&r.dst)
            })
            .collect();
        if holes.is_empty() {
            continue;
        }
        let mut table: Option<RouteTable> = None;
        for (ip, host) in &pods {
            if host == v.name || !holes.iter().any(|h| h.dst.contains(*ip)) {
                continue;
            }
            let table = table.get_or_insert_with(|| RouteTable::new(Table::MAIN, &v.actual.routes));
            let Some(hit) = table.lookup(*ip) else {
                continue;
            };
            if !hit.kind.drops() {
                continue;
            }
            let host_len = if ip.is_ipv4() { 32 } else { 128 };
            let fix = v
                .plan
                .and_then(|p| {
                    p.routes
                        .iter()
                        .filter(|r| {
                            r.table == Table::MAIN
                                && !r.kind.drops()
                                && r.dst.contains(*ip)
                                && r.dst.prefix() > hit.dst.prefix()
                        })
                        .max_by_key(|r| r.dst.prefix())
                })
                .map(|r| Change::ReplaceRoute(r.clone()).commands())
                .unwrap_or_default();
            let f = Finding::new(
                Severity::Error,
                FindingKind::HiddenByBlackhole,
                format!("pod IP {ip}/{host_len} on {}", v.name),
            )
            .expected(format!(
                "{ip}/{host_len} routed to {host}, which hosts the pod (an address borrowed from this node's block {})",
                hit.dst
            ))
            .actual(format!("{ip} matches {hit}: dropped"))
            .fix(fix);
            out.push(ClusterFinding {
                node: v.name.to_string(),
                nodes: sorted(vec![v.name.to_string(), host.clone()]),
                finding: f,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::parse::{parse_addrs, parse_links, parse_routes};

    /// A node from `ip -d link`, `ip addr` and `ip route` text, as a user would paste it.
    fn node(name: &str, links: &str, addrs: &str, routes: &str) -> NodeState {
        NodeState {
            node: name.into(),
            links: parse_links(links).unwrap().0,
            addrs: if addrs.is_empty() {
                Vec::new()
            } else {
                parse_addrs(addrs).unwrap().0
            },
            routes: if routes.is_empty() {
                Vec::new()
            } else {
                parse_routes(routes).unwrap().routes
            },
            ..NodeState::default()
        }
    }

    const FLANNEL_LINKS: &str = "\
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq state UP mode DEFAULT group default qlen 1000
    link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff
4: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether e2:12:d5:c7:bc:23 brd ff:ff:ff:ff:ff:ff
    bridge forward_delay 1500 hello_time 200 max_age 2000
";

    fn flannel(name: &str, eth0: &str, cni0: &str, routes: &str) -> NodeState {
        let addrs = format!(
            "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq state UP group default qlen 1000\n    link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n    inet {eth0} brd 192.168.1.255 scope global eth0\n       valid_lft forever preferred_lft forever\n4: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP group default qlen 1000\n    link/ether e2:12:d5:c7:bc:23 brd ff:ff:ff:ff:ff:ff\n    inet {cni0} brd 10.244.1.255 scope global cni0\n       valid_lft forever preferred_lft forever\n"
        );
        node(name, FLANNEL_LINKS, &addrs, routes)
    }

    fn facts() -> ClusterFacts {
        ClusterFacts {
            networks: vec!["10.244.0.0/16".parse().unwrap()],
            ..ClusterFacts::default()
        }
    }

    fn view<'a>(s: &'a NodeState) -> NodeView<'a> {
        NodeView {
            name: &s.node,
            actual: s,
            plan: None,
            pod_cidrs: &[],
        }
    }

    fn kinds(f: &[ClusterFinding]) -> Vec<(String, FindingKind)> {
        f.iter().map(|f| (f.node.clone(), f.finding.kind)).collect()
    }

    const ROUTES_1: &str = "\
default via 192.168.1.1 dev eth0
10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1
10.244.2.0/24 via 192.168.1.12 dev eth0
192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11
";
    const ROUTES_2: &str = "\
default via 192.168.1.1 dev eth0
10.244.1.0/24 via 192.168.1.11 dev eth0
10.244.2.0/24 dev cni0 proto kernel scope link src 10.244.2.1
192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.12
";

    #[test]
    fn a_healthy_pair_of_nodes_has_no_cluster_findings() {
        let a = flannel("n1", "192.168.1.11/24", "10.244.1.1/24", ROUTES_1);
        let b = flannel("n2", "192.168.1.12/24", "10.244.2.1/24", ROUTES_2);
        let c = claims("n1", &a, &facts());
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].cidr, "10.244.1.0/24".parse::<IpNetwork>().unwrap());
        assert!(cluster_findings(&[view(&a), view(&b)], &facts()).is_empty());
    }

    #[test]
    fn the_same_pod_cidr_on_two_nodes_is_reported_on_both() {
        let a = flannel("n1", "192.168.1.11/24", "10.244.1.1/24", ROUTES_1);
        let b = flannel("n2", "192.168.1.12/24", "10.244.1.1/24", ROUTES_1);
        let f = cluster_findings(&[view(&a), view(&b)], &facts());
        assert_eq!(
            kinds(&f),
            vec![
                ("n1".into(), FindingKind::DuplicatePodCidr),
                ("n2".into(), FindingKind::DuplicatePodCidr)
            ]
        );
        assert_eq!(f[0].finding.object, "pod CIDR 10.244.1.0/24");
        assert_eq!(f[0].nodes, vec!["n1".to_string(), "n2".to_string()]);
        // Overlapping but not equal is a duplicate too; far apart is not.
        let c = flannel("n3", "192.168.1.13/24", "10.244.0.1/23", ROUTES_1);
        let f = cluster_findings(&[view(&a), view(&c)], &facts());
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].finding.object,
            "pod CIDRs 10.244.1.0/24 and 10.244.0.0/23"
        );
    }

    #[test]
    fn the_clusters_pod_cidr_stands_in_when_the_node_shows_none() {
        let a = flannel("n1", "192.168.1.11/24", "10.244.1.1/24", ROUTES_1);
        let mut b = node("n2", FLANNEL_LINKS, "", ROUTES_2);
        b.addrs.clear();
        let given = ["10.244.1.0/24".parse().unwrap()];
        let vb = NodeView {
            pod_cidrs: &given,
            ..view(&b)
        };
        let f = cluster_findings(&[view(&a), vb], &facts());
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f[0].finding
                .actual
                .as_deref()
                .unwrap()
                .contains("the cluster's pod CIDR")
        );
    }

    #[test]
    fn a_more_specific_static_route_shadows_a_pod_cidr() {
        let a = flannel(
            "n1",
            "192.168.1.11/24",
            "10.244.1.1/24",
            &format!("{ROUTES_1}10.244.2.128/25 via 192.168.1.99 dev eth0 proto static\n"),
        );
        let b = flannel("n2", "192.168.1.12/24", "10.244.2.1/24", ROUTES_2);
        let f = cluster_findings(&[view(&a), view(&b)], &facts());
        assert_eq!(kinds(&f), vec![("n1".into(), FindingKind::Shadowed)]);
        assert_eq!(f[0].finding.object, "route 10.244.2.128/25 on n1");
        assert!(
            f[0].finding
                .expected
                .as_deref()
                .unwrap()
                .contains("10.244.2.0/24 of n2")
        );
        assert_eq!(
            f[0].finding.fix,
            vec!["ip route del 10.244.2.128/25 via 192.168.1.99 dev eth0 proto static".to_string()]
        );
        assert_eq!(f[0].nodes, vec!["n1".to_string(), "n2".to_string()]);
    }

    #[test]
    fn a_node_subnet_inside_or_over_a_pod_cidr_is_found() {
        // F11: the node's own subnet cuts into another node's pod CIDR.
        let a = flannel(
            "n1",
            "10.244.2.10/25",
            "10.244.1.1/24",
            "10.244.2.0/25 dev eth0 proto kernel scope link src 10.244.2.10\n10.244.2.0/24 via 10.244.2.12 dev eth0\n",
        );
        let b = flannel("n2", "192.168.1.12/24", "10.244.2.1/24", ROUTES_2);
        let f = cluster_findings(&[view(&a), view(&b)], &facts());
        assert_eq!(
            kinds(&f),
            vec![("n1".into(), FindingKind::Shadowed)],
            "{f:#?}"
        );
        assert_eq!(f[0].finding.object, "subnet 10.244.2.0/25 dev eth0 on n1");
        // F12: a LAN that covers pod CIDRs.
        let c = flannel("n3", "10.244.0.5/16", "10.244.3.1/24", "");
        let f = cluster_findings(&[view(&c), view(&b)], &facts());
        assert_eq!(
            kinds(&f),
            vec![("n3".into(), FindingKind::Overlap)],
            "{f:#?}"
        );
        let actual = f[0].finding.actual.as_deref().unwrap();
        assert!(actual.contains("10.244.2.0/24 of n2"), "{actual}");
        assert!(actual.contains("10.244.3.0/24 of n3"), "{actual}");
    }

    const CALI_LINKS: &str = "\
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq state UP mode DEFAULT group default qlen 1000
    link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff
";

    #[test]
    fn a_blackhole_hiding_a_borrowed_pod_ip_is_found_and_fixed_from_the_plan() {
        // n1 owns block 10.65.0.0/26; n2 hosts pod 10.65.0.7, borrowed from it.
        let n1_routes = "\
blackhole 10.65.0.0/26 proto bird
10.65.1.0/26 via 192.168.1.12 dev eth0 proto bird
";
        let n2_routes = "\
blackhole 10.65.1.0/26 proto bird
10.65.0.0/26 via 192.168.1.11 dev eth0 proto bird
10.65.0.7 dev cali1234567890a scope link
";
        let a = node("n1", CALI_LINKS, "", n1_routes);
        let b = node("n2", CALI_LINKS, "", n2_routes);
        let facts = ClusterFacts {
            networks: vec!["10.65.0.0/16".parse().unwrap()],
            ..ClusterFacts::default()
        };
        let plan = node(
            "n1",
            CALI_LINKS,
            "",
            &format!("{n1_routes}10.65.0.7 via 192.168.1.12 dev eth0 proto bird\n"),
        );
        let va = NodeView {
            plan: Some(&plan),
            ..view(&a)
        };
        let f = cluster_findings(&[va, view(&b)], &facts);
        assert_eq!(
            kinds(&f),
            vec![("n1".into(), FindingKind::HiddenByBlackhole)],
            "{f:#?}"
        );
        assert_eq!(f[0].finding.object, "pod IP 10.65.0.7/32 on n1");
        assert!(
            f[0].finding
                .actual
                .as_deref()
                .unwrap()
                .contains("blackhole 10.65.0.0/26")
        );
        assert_eq!(
            f[0].finding.fix,
            vec!["ip route replace 10.65.0.7/32 via 192.168.1.12 dev eth0 proto bird".to_string()]
        );
        // With the /32 exported by n2 in place, nothing is hidden.
        let fixed = node(
            "n1",
            CALI_LINKS,
            "",
            &format!("{n1_routes}10.65.0.7 via 192.168.1.12 dev eth0 proto bird\n"),
        );
        assert!(cluster_findings(&[view(&fixed), view(&b)], &facts).is_empty());
        // A pod the cluster places on n2 counts as well, even without n2's snapshot.
        let facts = ClusterFacts {
            pods: vec![("n2".into(), "10.65.0.9".parse().unwrap())],
            ..facts
        };
        let f = cluster_findings(&[view(&fixed)], &facts);
        assert_eq!(
            kinds(&f),
            vec![("n1".into(), FindingKind::HiddenByBlackhole)]
        );
    }
}
