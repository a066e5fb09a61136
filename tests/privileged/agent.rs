//! The agent against real kernels: plans applied in test namespaces, checked with `ip`,
//! `bridge`, and the agent's own re-read.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use libtest_mimic::{Failed, Trial};
use netpath::dataplane::{
    Addr, FdbEntry, Link, LinkKind, MacAddr, Neighbour, Nexthop, NodeState, NudState, Protocol,
    Route, RouteType, Scope, Vxlan,
};
use netpath::diff::{self, AGENT_PROTO, Ownership};
use netpath::netlink::{Netns, write};

use crate::lab::TestNetns;

pub fn tests() -> Vec<Trial> {
    vec![
        Trial::test(
            "agent::write_flannel_vxlan_from_scratch",
            write_flannel_vxlan_from_scratch,
        ),
        Trial::test(
            "agent::ipip_is_refused_before_anything",
            ipip_is_refused_before_anything,
        ),
    ]
}

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
    Link {
        ifindex: 0,
        name: name.into(),
        kind,
        mtu,
        mac: None,
        up: true,
        oper_state: None,
        master: None,
    }
}

/// An underlay: `eth0` (a veth whose peer stays in the namespace) with 192.168.77.1/24.
fn underlay(ns: &TestNetns) {
    ns.exec(
        "ip link add eth0 type veth peer name eth0p && ip addr add 192.168.77.1/24 dev eth0 && \
         ip link set eth0 up && ip link set eth0p up",
    );
}

/// Node 1 of a Flannel VXLAN cluster (VNI 1, port 8472) with remote nodes 2 and 3.
fn flannel_plan() -> NodeState {
    let mut s = NodeState {
        node: "node1".into(),
        ..Default::default()
    };
    s.links
        .push(link("eth0", LinkKind::Veth(Default::default()), 1500));
    let mut f1 = link(
        "flannel.1",
        LinkKind::Vxlan(Vxlan {
            vni: 1,
            port: 8472,
            local: Some(ip("192.168.77.1")),
            dev: Some("eth0".into()),
            learning: false,
        }),
        1450,
    );
    f1.mac = Some(mac("0a:00:00:00:01:01"));
    s.links.push(f1);
    s.addrs.push(Addr {
        dev: "flannel.1".into(),
        addr: net("10.244.1.0/32"),
        scope: Scope::Universe,
    });
    for n in [2u8, 3] {
        let vtep = mac(&format!("0a:00:00:00:0{n}:0{n}"));
        let lease_ip = ip(&format!("10.244.{n}.0"));
        s.neighbours.push(Neighbour {
            dst: lease_ip,
            lladdr: Some(vtep),
            dev: "flannel.1".into(),
            state: NudState::Permanent,
        });
        s.fdb.push(FdbEntry {
            mac: vtep,
            dst: Some(ip(&format!("192.168.77.{}", 10 + n))),
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
    s.sysctls.ip_forward = Some(true);
    s
}

fn write_flannel_vxlan_from_scratch() -> Result<(), Failed> {
    let ns = TestNetns::new("agw");
    underlay(&ns);
    let plan = flannel_plan();
    let mut actual = NodeState::default();
    actual
        .links
        .push(link("eth0", LinkKind::Veth(Default::default()), 1500));
    actual.sysctls.ip_forward = Some(false);
    let d = diff::diff(&plan, &actual, &Ownership::agent(&plan, AGENT_PROTO, false));
    let report = write::apply(&Netns::parse(&ns.name), &d.changes).map_err(|e| format!("{e:#}"))?;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let link = ns.exec("ip -d link show flannel.1");
    for want in [
        "vxlan id 1 local 192.168.77.1 dev eth0",
        "dstport 8472",
        "nolearning",
        "mtu 1450",
        "0a:00:00:00:01:01",
        "UP",
    ] {
        assert!(link.contains(want), "{want:?} not in {link}");
    }
    let routes = ns.exec("ip route show proto 158");
    assert_eq!(
        routes,
        "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink \n10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink \n"
    );
    let neigh = ns.exec("ip neigh show dev flannel.1");
    assert!(
        neigh.contains("10.244.2.0 lladdr 0a:00:00:00:02:02 PERMANENT"),
        "{neigh}"
    );
    let fdb = ns.exec("bridge fdb show dev flannel.1");
    assert!(
        fdb.contains("0a:00:00:00:03:03 dst 192.168.77.13 self permanent"),
        "{fdb}"
    );
    assert_eq!(ns.exec("sysctl -n net.ipv4.ip_forward").trim(), "1");
    assert!(
        ns.exec("ip addr show dev flannel.1")
            .contains("inet 10.244.1.0/32")
    );
    let _ = (Protocol::BOOT, RouteType::Blackhole);
    Ok(())
}

fn ipip_is_refused_before_anything() -> Result<(), Failed> {
    let ns = TestNetns::new("agi");
    underlay(&ns);
    let mut plan = flannel_plan();
    plan.links.push(link(
        "tunl0",
        LinkKind::Ipip {
            local: None,
            remote: None,
        },
        1480,
    ));
    let mut actual = NodeState::default();
    actual
        .links
        .push(link("eth0", LinkKind::Veth(Default::default()), 1500));
    actual.sysctls.ip_forward = Some(false);
    let d = diff::diff(&plan, &actual, &Ownership::agent(&plan, AGENT_PROTO, false));
    let before = ns.exec("ip -d link; ip route; ip neigh; bridge fdb; sysctl net.ipv4.ip_forward");
    let err = write::apply(&Netns::parse(&ns.name), &d.changes).unwrap_err();
    assert_eq!(netpath::error::exit_code(&err), 3, "{err:#}");
    assert!(format!("{err:#}").contains("ipip"), "{err:#}");
    let after = ns.exec("ip -d link; ip route; ip neigh; bridge fdb; sysctl net.ipv4.ip_forward");
    assert_eq!(before, after);
    Ok(())
}
