//! Unit tests of the diff: every finding kind, ownership, and the order of changes.

use std::net::IpAddr;

use super::*;
use crate::dataplane::{
    Addr, FdbEntry, Link, MacAddr, Neighbour, Nexthop, NudState, RouteType, Scope, Sysctls, Vxlan,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

fn link(name: &str, kind: LinkKind, mtu: u32) -> Link {
    Link::up(name, kind, mtu)
}

fn flannel_vxlan(vni: u32) -> LinkKind {
    LinkKind::Vxlan(Vxlan {
        vni,
        port: 8472,
        local: Some(ip("192.168.1.11")),
        dev: Some("eth0".into()),
        learning: false,
    })
}

/// Node 1 of a Flannel VXLAN cluster with two remote nodes, as flanneld programs it.
fn flannel_plan() -> NodeState {
    let mut s = NodeState {
        node: "node1".into(),
        ..Default::default()
    };
    s.links.push(link("eth0", LinkKind::Device, 1500));
    let mut f1 = link("flannel.1", flannel_vxlan(1), 1450);
    f1.mac = Some(mac("0a:00:00:00:01:01"));
    s.links.push(f1);
    s.addrs.push(Addr {
        dev: "flannel.1".into(),
        addr: net("10.244.1.0/32"),
        scope: Scope::Universe,
    });
    for (n, vtep_mac) in [(2, "0a:00:00:00:02:02"), (3, "0a:00:00:00:03:03")] {
        let lease_ip = ip(&format!("10.244.{n}.0"));
        s.neighbours.push(Neighbour {
            dst: lease_ip,
            lladdr: Some(mac(vtep_mac)),
            dev: "flannel.1".into(),
            state: NudState::Permanent,
        });
        s.fdb.push(FdbEntry {
            mac: mac(vtep_mac),
            dst: Some(ip(&format!("192.168.1.1{n}"))),
            dev: "flannel.1".into(),
            master: None,
            self_: true,
            state: NudState::Permanent,
        });
        s.routes.push(Route::unicast(
            net(&format!("10.244.{n}.0/24")),
            Nexthop::via(lease_ip, "flannel.1").onlink(),
        ));
    }
    s.sysctls = Sysctls {
        ip_forward: Some(true),
        ..Default::default()
    };
    s
}

/// What the node has when the agent (proto 158) programmed the plan.
fn programmed(plan: &NodeState) -> NodeState {
    let mut s = plan.clone();
    for r in &mut s.routes {
        r.proto = AGENT_PROTO;
    }
    s.sysctls.forwarding.insert("flannel.1".into(), true);
    s.sysctls.forwarding.insert("eth0".into(), true);
    // What every node also has: its own routes, which are nobody's business here.
    let mut default = Route::unicast(net("0.0.0.0/0"), Nexthop::via(ip("192.168.1.1"), "eth0"));
    default.proto = Protocol(16);
    s.routes.push(default);
    let mut connected = Route::unicast(net("192.168.1.0/24"), Nexthop::dev("eth0"));
    connected.proto = Protocol::KERNEL;
    s.routes.push(connected);
    s
}

fn check(plan: &NodeState, actual: &NodeState) -> Diff {
    diff(
        plan,
        actual,
        &Ownership::cni(plan, AGENT_PROTO, vec![net("10.244.0.0/16")]),
    )
}

fn agent(plan: &NodeState, actual: &NodeState, adopt: bool) -> Diff {
    diff(plan, actual, &Ownership::agent(plan, AGENT_PROTO, adopt))
}

fn problems(d: &Diff) -> Vec<(FindingKind, String)> {
    d.findings
        .iter()
        .filter(|f| f.severity.is_problem())
        .map(|f| (f.kind, f.object.clone()))
        .collect()
}

#[test]
fn a_programmed_node_matches_its_plan() {
    let plan = flannel_plan();
    let actual = programmed(&plan);
    let c = check(&plan, &actual);
    assert_eq!(problems(&c), vec![], "{:#?}", c.findings);
    // The default route is listed as foreign, not wrong.
    let foreign: Vec<_> = c
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Foreign)
        .collect();
    assert_eq!(foreign.len(), 1, "{foreign:#?}");
    assert_eq!(foreign[0].severity, Severity::Info);
    assert_eq!(foreign[0].object, "route default");
    let a = agent(&plan, &actual, false);
    assert!(a.changes.is_empty(), "{:#?}", a.changes);
    assert!(!a.has_problems());
}

#[test]
fn an_empty_node_gets_everything_in_order() {
    let plan = flannel_plan();
    let mut actual = NodeState::default();
    actual.links.push(link("eth0", LinkKind::Device, 1500));
    actual.sysctls.ip_forward = Some(false);
    let a = agent(&plan, &actual, false);
    let phases: Vec<Phase> = a.changes.iter().map(Change::phase).collect();
    let mut sorted = phases.clone();
    sorted.sort();
    assert_eq!(phases, sorted);
    let words: Vec<String> = a.changes.iter().flat_map(Change::commands).collect();
    assert_eq!(
        words,
        vec![
            "sysctl -w net.ipv4.ip_forward=1",
            "ip link add flannel.1 address 0a:00:00:00:01:01 mtu 1450 up type vxlan id 1 \
             local 192.168.1.11 dev eth0 dstport 8472 nolearning",
            "ip addr add 10.244.1.0/32 dev flannel.1",
            "ip neigh replace 10.244.2.0 lladdr 0a:00:00:00:02:02 dev flannel.1 nud permanent",
            "ip neigh replace 10.244.3.0 lladdr 0a:00:00:00:03:03 dev flannel.1 nud permanent",
            "bridge fdb replace 0a:00:00:00:02:02 dev flannel.1 dst 192.168.1.12 self permanent",
            "bridge fdb replace 0a:00:00:00:03:03 dev flannel.1 dst 192.168.1.13 self permanent",
            "ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 proto 158 onlink",
            "ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 proto 158 onlink",
        ]
    );
    // check sees the same as missing, with the CNI's protocol in the fix.
    let c = check(&plan, &actual);
    let missing = c
        .findings
        .iter()
        .find(|f| f.object == "route 10.244.2.0/24")
        .unwrap();
    assert_eq!(missing.kind, FindingKind::Missing);
    assert_eq!(
        missing.fix,
        vec!["ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 proto boot onlink"]
    );
    assert_eq!(
        missing.actual.as_deref(),
        Some("missing; 10.244.2.0 matches no route")
    );
}

#[test]
fn missing_route_says_what_the_traffic_hits_now() {
    let mut plan = flannel_plan();
    plan.routes.push(Route::drop(
        RouteType::Blackhole,
        net("10.244.1.0/24"),
        Protocol::FELIX,
    ));
    let borrowed = Route::unicast(
        net("10.244.1.9/32"),
        Nexthop::via(ip("10.244.2.0"), "flannel.1").onlink(),
    );
    plan.routes.push(borrowed);
    let mut actual = programmed(&plan);
    actual.routes.retain(|r| r.dst != net("10.244.1.9/32"));
    let c = check(&plan, &actual);
    let f = c
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Missing)
        .unwrap();
    assert_eq!(f.object, "route 10.244.1.9");
    assert_eq!(
        f.actual.as_deref(),
        Some("missing; 10.244.1.9 now matches blackhole 10.244.1.0/24 proto 158")
    );
}

#[test]
fn wrong_next_hop_device_onlink_and_mtu() {
    let plan = flannel_plan();
    let mut actual = programmed(&plan);
    // An IPIP-style mistake: the route went out of eth0 without onlink.
    actual.routes[0].nexthops[0] = Nexthop::via(ip("192.168.1.12"), "eth0");
    actual.routes[1].mtu = Some(1400);
    let c = check(&plan, &actual);
    let f0 = &c.findings[0];
    assert_eq!(f0.kind, FindingKind::WrongNextHop);
    assert_eq!(f0.attributes, vec!["next hop", "device", "onlink"]);
    assert_eq!(f0.severity, Severity::Error);
    assert_eq!(
        f0.actual.as_deref(),
        Some("10.244.2.0/24 via 192.168.1.12 dev eth0 proto 158")
    );
    let f1 = &c.findings[1];
    assert_eq!(f1.kind, FindingKind::WrongMtu);
    assert_eq!(f1.severity, Severity::Warning);
    // The agent replaces both in place (owned: its protocol).
    let a = agent(&plan, &actual, false);
    assert_eq!(a.changes.len(), 2);
    assert!(
        a.changes
            .iter()
            .all(|c| matches!(c, Change::ReplaceRoute(r) if r.proto == AGENT_PROTO))
    );
    // Only the device or only onlink.
    let mut actual = programmed(&plan);
    actual.routes[0].nexthops[0].flags.onlink = false;
    let c = check(&plan, &actual);
    assert_eq!(c.findings[0].kind, FindingKind::WrongOnlink);
    let mut actual = programmed(&plan);
    actual.routes[0].nexthops[0].dev = Some("eth0".into());
    let c = check(&plan, &actual);
    assert_eq!(c.findings[0].kind, FindingKind::WrongDevice);
}

#[test]
fn foreign_entries_are_reported_never_touched_unless_adopted() {
    let plan = flannel_plan();
    let mut actual = programmed(&plan);
    // Somebody's static route sits on the planned key with another next hop.
    actual.routes[0].proto = Protocol::STATIC;
    actual.routes[0].nexthops[0] = Nexthop::via(ip("192.168.1.99"), "eth0");
    let a = agent(&plan, &actual, false);
    assert!(a.changes.is_empty(), "{:#?}", a.changes);
    assert_eq!(a.untouched.len(), 1);
    assert_eq!(a.findings[a.untouched[0]].kind, FindingKind::Conflict);
    let adopted = agent(&plan, &actual, true);
    assert_eq!(adopted.changes.len(), 1);
    // The same forwarding under another program's protocol: info only.
    let mut actual = programmed(&plan);
    actual.routes[0].proto = Protocol::BOOT;
    let a = agent(&plan, &actual, false);
    assert!(a.changes.is_empty());
    assert!(!a.has_problems());
    assert_eq!(a.findings[0].kind, FindingKind::WrongProtocol);
    assert_eq!(agent(&plan, &actual, true).changes.len(), 1);
    // check accepts the CNI's protocol and the agent's.
    assert!(!check(&plan, &actual).has_problems());
}

#[test]
fn unexpected_owned_foreign_and_overlapping_routes() {
    let plan = flannel_plan();
    let mut actual = programmed(&plan);
    // A route the agent programmed for a node that left.
    let mut gone = Route::unicast(
        net("10.244.9.0/24"),
        Nexthop::via(ip("10.244.9.0"), "flannel.1").onlink(),
    );
    gone.proto = AGENT_PROTO;
    actual.routes.push(gone.clone());
    // A flannel host-gw leftover: proto boot inside the pod network, out of eth0.
    actual.routes.push(Route::unicast(
        net("10.244.8.0/24"),
        Nexthop::via(ip("192.168.1.18"), "eth0"),
    ));
    // A foreign route inside a planned prefix.
    let mut inside = Route::unicast(
        net("10.244.2.128/25"),
        Nexthop::via(ip("192.168.1.99"), "eth0"),
    );
    inside.proto = Protocol::STATIC;
    actual.routes.push(inside);
    // A foreign route elsewhere.
    let mut other = Route::unicast(
        net("172.16.0.0/12"),
        Nexthop::via(ip("192.168.1.1"), "eth0"),
    );
    other.proto = Protocol::STATIC;
    actual.routes.push(other);
    let c = check(&plan, &actual);
    let kinds: Vec<(FindingKind, &str, Severity)> = c
        .findings
        .iter()
        .map(|f| (f.kind, f.object.as_str(), f.severity))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (FindingKind::Foreign, "route default", Severity::Info),
            (
                FindingKind::Unexpected,
                "route 10.244.9.0/24",
                Severity::Warning
            ),
            (
                FindingKind::Unexpected,
                "route 10.244.8.0/24",
                Severity::Warning
            ),
            (
                FindingKind::Overlap,
                "route 10.244.2.128/25",
                Severity::Warning
            ),
            (FindingKind::Foreign, "route 172.16.0.0/12", Severity::Info),
        ]
    );
    assert_eq!(
        c.findings[1].fix,
        vec!["ip route del 10.244.9.0/24 via 10.244.9.0 dev flannel.1 proto 158"]
    );
    // The agent deletes only its own.
    let a = agent(&plan, &actual, false);
    assert_eq!(a.changes, vec![Change::DeleteRoute(gone)]);
}

#[test]
fn stale_and_unexpected_neighbours_and_fdb() {
    let plan = flannel_plan();
    let mut actual = programmed(&plan);
    // The VTEP MAC of node 2 changed; the node kept the old one.
    actual.neighbours[0].lladdr = Some(mac("0a:00:00:00:09:09"));
    // Node 3's VTEP moved to another underlay IP.
    actual.fdb[1].dst = Some(ip("192.168.1.99"));
    // Left over for a node that is gone.
    actual.neighbours.push(Neighbour {
        dst: ip("10.244.9.0"),
        lladdr: Some(mac("0a:00:00:00:09:09")),
        dev: "flannel.1".into(),
        state: NudState::Permanent,
    });
    actual.fdb.push(FdbEntry {
        mac: mac("0a:00:00:00:09:09"),
        dst: Some(ip("192.168.1.19")),
        dev: "flannel.1".into(),
        master: None,
        self_: true,
        state: NudState::Permanent,
    });
    // Learned entries elsewhere are nobody's business.
    actual.neighbours.push(Neighbour {
        dst: ip("192.168.1.1"),
        lladdr: Some(mac("52:54:00:00:00:01")),
        dev: "eth0".into(),
        state: NudState::Reachable,
    });
    let c = check(&plan, &actual);
    assert_eq!(
        problems(&c),
        vec![
            (
                FindingKind::Stale,
                "neighbour 10.244.2.0 dev flannel.1".into()
            ),
            (
                FindingKind::Unexpected,
                "neighbour 10.244.9.0 dev flannel.1".into()
            ),
            (
                FindingKind::Stale,
                "fdb 0a:00:00:00:03:03 dev flannel.1".into()
            ),
            (
                FindingKind::Unexpected,
                "fdb 0a:00:00:00:09:09 dev flannel.1".into()
            ),
        ]
    );
    let a = agent(&plan, &actual, false);
    let cmds: Vec<String> = a.changes.iter().flat_map(Change::commands).collect();
    assert_eq!(
        cmds,
        vec![
            "ip neigh replace 10.244.2.0 lladdr 0a:00:00:00:02:02 dev flannel.1 nud permanent",
            "bridge fdb replace 0a:00:00:00:03:03 dev flannel.1 dst 192.168.1.13 self permanent",
            "bridge fdb del 0a:00:00:00:09:09 dev flannel.1 dst 192.168.1.19 self",
            "ip neigh del 10.244.9.0 dev flannel.1",
        ]
    );
    // A right entry that is not permanent.
    let mut actual = programmed(&plan);
    actual.neighbours[1].state = NudState::Reachable;
    let c = check(&plan, &actual);
    assert_eq!(c.findings[0].kind, FindingKind::NotPermanent);
    assert_eq!(c.findings[0].severity, Severity::Warning);
}

#[test]
fn vxlan_device_with_wrong_parameters_is_recreated_with_its_dependents() {
    let plan = flannel_plan();
    let mut actual = programmed(&plan);
    actual.links[1].kind = LinkKind::Vxlan(Vxlan {
        vni: 2,
        port: 4789,
        local: Some(ip("192.168.1.99")),
        dev: Some("eth1".into()),
        learning: true,
    });
    let c = check(&plan, &actual);
    assert_eq!(c.findings.len(), 2, "{:#?}", c.findings); // the device and the default route
    assert_eq!(c.findings[0].kind, FindingKind::WrongVni);
    assert_eq!(
        c.findings[0].attributes,
        vec!["VNI", "port", "local", "underlying device", "learning"]
    );
    let a = agent(&plan, &actual, false);
    let phases: Vec<Phase> = a.changes.iter().map(Change::phase).collect();
    assert_eq!(
        phases,
        vec![
            Phase::RecreateLink,
            Phase::CreateLink,
            Phase::AddAddr,
            Phase::Neighbour,
            Phase::Neighbour,
            Phase::Fdb,
            Phase::Fdb,
            Phase::GatewayRoute,
            Phase::GatewayRoute,
        ]
    );
    // Each parameter on its own.
    for (kind, vx) in [
        (FindingKind::WrongPort, (1, 4789, "192.168.1.11", false)),
        (FindingKind::WrongLocal, (1, 8472, "192.168.1.12", false)),
        (FindingKind::Learning, (1, 8472, "192.168.1.11", true)),
    ] {
        let mut actual = programmed(&plan);
        actual.links[1].kind = LinkKind::Vxlan(Vxlan {
            vni: vx.0,
            port: vx.1,
            local: Some(ip(vx.2)),
            dev: Some("eth0".into()),
            learning: vx.3,
        });
        assert_eq!(check(&plan, &actual).findings[0].kind, kind);
    }
    // A plan port of 0 is the kernel default 8472.
    let mut plan0 = plan.clone();
    if let LinkKind::Vxlan(v) = &mut plan0.links[1].kind {
        v.port = 0;
    }
    assert!(!check(&plan0, &programmed(&plan)).has_problems());
}

#[test]
fn device_mtu_mac_and_state_are_fixed_in_place() {
    let plan = flannel_plan();
    let mut actual = programmed(&plan);
    actual.links[1].mtu = 1500;
    actual.links[1].up = false;
    let c = check(&plan, &actual);
    assert_eq!(c.findings[0].kind, FindingKind::WrongMtu);
    assert_eq!(c.findings[0].attributes, vec!["MTU", "up"]);
    assert_eq!(c.findings[0].severity, Severity::Error);
    assert_eq!(
        c.findings[0].fix,
        vec!["ip link set dev flannel.1 mtu 1450 up"]
    );
    actual.links[1].mac = Some(mac("0a:00:00:00:0f:0f"));
    let a = agent(&plan, &actual, false);
    assert_eq!(
        a.changes,
        vec![Change::SetLink {
            name: "flannel.1".into(),
            mtu: Some(1450),
            mac: Some(mac("0a:00:00:00:01:01")),
            master: None,
            up: true,
        }]
    );
    // The plan's uplink may be any kind of device.
    let mut actual = programmed(&plan);
    actual.links[0].kind = LinkKind::Veth(Default::default());
    assert!(!check(&plan, &actual).has_problems());
    // A tunnel of the wrong kind is.
    actual.links[1].kind = LinkKind::Bridge;
    assert_eq!(
        check(&plan, &actual).findings[0].kind,
        FindingKind::WrongKind
    );
    // eth0 is the machine's: check reports it down, the agent leaves it alone.
    let mut actual = programmed(&plan);
    actual.links[0].up = false;
    actual.links[0].mac = Some(mac("52:54:00:00:00:01"));
    assert_eq!(problems(&check(&plan, &actual))[0].0, FindingKind::Down);
    let a = agent(&plan, &actual, false);
    assert!(a.changes.is_empty());
    assert!(a.findings.is_empty());
    // A planned veth that is missing: nothing on this node can create it.
    let mut plan2 = plan.clone();
    plan2.links.push(link(
        "cali1234567890a",
        LinkKind::Veth(Default::default()),
        1500,
    ));
    let a = agent(&plan2, &programmed(&plan), false);
    assert!(a.changes.is_empty());
    assert_eq!(a.findings[a.untouched[0]].kind, FindingKind::Missing);
}

#[test]
fn unexpected_devices_and_addresses() {
    let plan = flannel_plan();
    let mut actual = programmed(&plan);
    actual.links.push(link(
        "vxlan.calico",
        LinkKind::Vxlan(Vxlan {
            vni: 4096,
            port: 4789,
            local: None,
            dev: None,
            learning: false,
        }),
        1450,
    ));
    actual.addrs.push(Addr {
        dev: "flannel.1".into(),
        addr: net("10.244.7.0/32"),
        scope: Scope::Universe,
    });
    actual.addrs.push(Addr {
        dev: "flannel.1".into(),
        addr: net("fe80::1/64"),
        scope: Scope::Link,
    });
    let c = check(&plan, &actual);
    assert_eq!(
        problems(&c),
        vec![
            (FindingKind::Unexpected, "device vxlan.calico".into()),
            (
                FindingKind::Unexpected,
                "address 10.244.7.0/32 dev flannel.1".into()
            ),
        ]
    );
    let a = agent(&plan, &actual, false);
    assert_eq!(a.changes, vec![Change::DeleteAddr(actual.addrs[1].clone())]);
}

#[test]
fn forwarding_sysctls_that_drop_pod_traffic() {
    let plan = flannel_plan();
    let mut actual = programmed(&plan);
    actual.sysctls.ip_forward = Some(false);
    actual.sysctls.forwarding.insert("flannel.1".into(), false);
    let c = check(&plan, &actual);
    // Turning ip_forward on turns every device on: one finding.
    assert_eq!(
        problems(&c),
        vec![(FindingKind::Sysctl, "sysctl net.ipv4.ip_forward".into())]
    );
    let mut on = actual.clone();
    on.sysctls.ip_forward = Some(true);
    assert_eq!(
        problems(&check(&plan, &on)),
        vec![(
            FindingKind::Sysctl,
            "sysctl net.ipv4.conf.flannel.1.forwarding".into()
        )]
    );
    let first = c
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Sysctl)
        .unwrap();
    assert_eq!(first.fix, vec!["sysctl -w net.ipv4.ip_forward=1"]);
    // Implicit: a plan without sysctls that routes pods still needs forwarding.
    let mut plan2 = plan.clone();
    plan2.sysctls = Sysctls::default();
    assert_eq!(problems(&check(&plan2, &actual))[0].0, FindingKind::Sysctl);
    // Unknown (a snapshot without sysctls) is not a finding.
    actual.sysctls = Sysctls::default();
    assert!(!check(&plan, &actual).has_problems());
}

#[test]
fn the_agent_programs_cni_routes_not_the_machines() {
    let mut plan = flannel_plan();
    plan.links[0].mac = Some(mac("02:00:00:00:00:01"));
    plan.addrs.push(Addr {
        dev: "eth0".into(),
        addr: net("192.168.1.11/24"),
        scope: Scope::Universe,
    });
    let gw = Route::unicast(net("0.0.0.0/0"), Nexthop::via(ip("192.168.1.1"), "eth0"));
    plan.routes.push(gw);
    // A Flannel host-gw route: proto boot out of eth0, inside the pod network.
    let hostgw = Route::unicast(
        net("10.244.5.0/24"),
        Nexthop::via(ip("192.168.1.15"), "eth0"),
    );
    plan.routes.push(hostgw.clone());
    let actual = programmed(&flannel_plan());
    let own = Ownership::agent(&plan, AGENT_PROTO, false).with_networks(vec![net("10.244.0.0/16")]);
    let a = diff(&plan, &actual, &own);
    let mut want = hostgw;
    want.proto = AGENT_PROTO;
    assert_eq!(a.changes, vec![Change::ReplaceRoute(want)]);
    assert!(a.untouched.is_empty(), "{:#?}", a.findings);
    // The agent never takes flannel's own boot routes for its own.
    let mut actual = programmed(&flannel_plan());
    actual.routes.push(Route::unicast(
        net("10.244.6.0/24"),
        Nexthop::via(ip("192.168.1.16"), "eth0"),
    ));
    assert!(
        diff(&plan, &actual, &own)
            .changes
            .iter()
            .all(|c| !matches!(c, Change::DeleteRoute(_)))
    );
}

#[test]
fn a_new_metric_is_added_before_the_old_route_goes() {
    let plan = flannel_plan();
    let mut actual = programmed(&plan);
    actual.routes[0].metric = Some(100);
    let a = agent(&plan, &actual, false);
    assert_eq!(a.changes.len(), 2);
    assert!(matches!(&a.changes[0], Change::ReplaceRoute(r) if r.metric.is_none()));
    assert!(matches!(&a.changes[1], Change::DeleteRoute(r) if r.metric == Some(100)));
}

#[test]
fn calico_shapes_blackhole_device_routes_first() {
    let mut plan = NodeState {
        node: "node1".into(),
        ..Default::default()
    };
    plan.links.push(link("eth0", LinkKind::Device, 1500));
    plan.links.push(link(
        "vxlan.calico",
        LinkKind::Vxlan(Vxlan {
            vni: 4096,
            port: 4789,
            local: Some(ip("192.168.1.11")),
            dev: Some("eth0".into()),
            learning: false,
        }),
        1450,
    ));
    let mut remote = Route::unicast(
        net("10.65.1.0/26"),
        Nexthop::via(ip("10.65.1.0"), "vxlan.calico").onlink(),
    );
    remote.mtu = Some(1450);
    plan.routes.push(remote);
    plan.routes.push(Route::drop(
        RouteType::Blackhole,
        net("10.65.0.0/26"),
        Protocol::FELIX,
    ));
    plan.routes.push(Route::unicast(
        net("10.65.0.2/32"),
        Nexthop::dev("cali1234567890a"),
    ));
    let own = Ownership::cni(&plan, AGENT_PROTO, Vec::new());
    assert!(own.route_protocols.contains(&Protocol::FELIX));
    let mut actual = NodeState::default();
    actual.sysctls.ip_forward = Some(false);
    actual.links.push(link("eth0", LinkKind::Device, 1500));
    actual.links.push(link(
        "cali1234567890a",
        LinkKind::Veth(Default::default()),
        1500,
    ));
    let a = agent(&plan, &actual, false);
    let phases: Vec<Phase> = a.changes.iter().map(Change::phase).collect();
    assert_eq!(
        phases,
        vec![
            Phase::Sysctl,
            Phase::CreateLink,
            Phase::DirectRoute,
            Phase::DirectRoute,
            Phase::GatewayRoute,
        ]
    );
    // A proto 80 route that the plan does not have is the CNI's: unexpected for check.
    let mut extra = Route::drop(RouteType::Blackhole, net("10.65.0.64/26"), Protocol::FELIX);
    extra.metric = None;
    actual.routes.push(extra);
    let c = diff(&plan, &actual, &own);
    assert!(
        c.findings
            .iter()
            .any(|f| f.kind == FindingKind::Unexpected && f.object == "route 10.65.0.64/26")
    );
}

#[test]
fn a_scoped_diff_compares_only_the_routes_that_differed_before() {
    let plan = flannel_plan();
    let mut node = programmed(&plan);
    // 10.244.2.0/24 is missing, 10.244.3.0/24 goes to the wrong next hop, and a stray
    // agent route is left over.
    node.routes.retain(|r| r.dst != net("10.244.2.0/24"));
    for r in &mut node.routes {
        if r.dst == net("10.244.3.0/24") {
            r.nexthops[0].gateway = Some(ip("10.244.9.0"));
        }
    }
    let mut stray = Route::unicast(
        net("10.244.7.0/24"),
        Nexthop::via(ip("10.244.7.0"), "flannel.1"),
    );
    stray.proto = AGENT_PROTO;
    node.routes.push(stray);
    let own = Ownership::agent(&plan, AGENT_PROTO, false);
    let before = diff(&plan, &node, &own);
    let keys: Vec<IpNetwork> = {
        let mut k: Vec<_> = before.route_keys.iter().map(|(_, n)| *n).collect();
        k.sort();
        k
    };
    assert_eq!(
        keys,
        vec![
            net("10.244.2.0/24"),
            net("10.244.3.0/24"),
            net("10.244.7.0/24")
        ]
    );
    // Scoped to the keys, the same problems come out.
    let scoped = diff_scoped(&plan, &node, &own, Some(&before.route_keys));
    assert_eq!(scoped.changes, before.changes);
    // Scoped to one key, only that route is compared (nothing else is unexpected).
    let one: RouteKeys = [(Table::MAIN, net("10.244.3.0/24"))].into_iter().collect();
    let d = diff_scoped(&plan, &node, &own, Some(&one));
    assert_eq!(d.changes.len(), 1, "{:#?}", d.changes);
    assert!(matches!(&d.changes[0], Change::ReplaceRoute(r) if r.dst == net("10.244.3.0/24")));
    // A node that matches has no keys left to verify.
    assert!(diff(&plan, &programmed(&plan), &own).route_keys.is_empty());
}
