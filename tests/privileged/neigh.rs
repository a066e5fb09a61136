//! Neighbour, FDB and sysctl readers against what `ip`/`bridge` show in the same namespace.

use libtest_mimic::{Failed, Trial};
use netpath::dataplane::NudState;
use netpath::netlink::{Netns, neigh, sysctl};

use crate::lab::TestNetns;

pub fn tests() -> Vec<Trial> {
    vec![
        Trial::test(
            "neigh::flannel_style_neigh_and_fdb",
            flannel_style_neigh_and_fdb,
        ),
        Trial::test("neigh::sysctls_are_per_netns", sysctls_are_per_netns),
    ]
}

fn flannel_style_neigh_and_fdb() -> Result<(), Failed> {
    let ns = TestNetns::new("neigh");
    ns.exec(
        "ip link add eth0 type veth peer name eth0p && ip addr add 192.168.77.1/24 dev eth0 && ip link set eth0 up && \
         ip link add flannel.1 type vxlan id 1 local 192.168.77.1 dev eth0 dstport 8472 nolearning && \
         ip link set flannel.1 up && \
         ip neigh add 10.244.1.0 lladdr 0a:00:00:00:00:01 dev flannel.1 nud permanent && \
         bridge fdb add 0a:00:00:00:00:01 dev flannel.1 dst 192.168.77.2 self permanent && \
         ip link add cni0 type bridge && ip link set eth0p master cni0",
    );
    let netns = Netns::parse(&ns.name);
    let neighbours = neigh::neighbours(&netns).map_err(|e| format!("{e:#}"))?;
    let n = neighbours
        .iter()
        .find(|n| n.dst.to_string() == "10.244.1.0")
        .ok_or_else(|| format!("neighbour missing: {neighbours:?}"))?;
    assert_eq!(n.dev, "flannel.1");
    assert_eq!(n.state, NudState::Permanent);
    assert_eq!(
        n.lladdr.map(|m| m.to_string()).as_deref(),
        Some("0a:00:00:00:00:01")
    );

    let fdb = neigh::fdb(&netns).map_err(|e| format!("{e:#}"))?;
    let e = fdb
        .iter()
        .find(|e| e.dev == "flannel.1" && e.mac.to_string() == "0a:00:00:00:00:01")
        .ok_or_else(|| format!("fdb entry missing: {fdb:?}"))?;
    assert_eq!(
        e.dst.map(|d| d.to_string()).as_deref(),
        Some("192.168.77.2")
    );
    assert!(e.self_);
    assert_eq!(e.state, NudState::Permanent, "{e:?}");
    // A bridge port entry names its master.
    assert!(
        fdb.iter()
            .any(|e| e.dev == "eth0p" && e.master.as_deref() == Some("cni0")),
        "{fdb:?}"
    );
    // Same count as bridge fdb shows.
    let shown = ns.exec("bridge fdb show | wc -l").trim().parse::<usize>()?;
    assert_eq!(fdb.len(), shown, "{fdb:?}");
    Ok(())
}

fn sysctls_are_per_netns() -> Result<(), Failed> {
    let a = TestNetns::new("sysa");
    let b = TestNetns::new("sysb");
    a.exec("sysctl -qw net.ipv4.ip_forward=1 && sysctl -qw net.ipv4.conf.all.rp_filter=2");
    b.exec("sysctl -qw net.ipv4.ip_forward=0 && sysctl -qw net.ipv4.conf.all.rp_filter=1");
    let sa = sysctl::sysctls(&Netns::parse(&a.name)).map_err(|e| format!("{e:#}"))?;
    let sb = sysctl::sysctls(&Netns::parse(&b.name)).map_err(|e| format!("{e:#}"))?;
    assert_eq!(sa.ip_forward, Some(true));
    assert_eq!(sb.ip_forward, Some(false));
    assert_eq!(sa.rp_filter.get("all"), Some(&2));
    assert_eq!(sb.rp_filter.get("all"), Some(&1));
    assert!(sa.forwarding.contains_key("lo"));
    Ok(())
}

pub fn rule_tests() -> Vec<Trial> {
    vec![Trial::test(
        "rule::rules_match_ip_rule",
        rules_match_ip_rule,
    )]
}

fn rules_match_ip_rule() -> Result<(), Failed> {
    let ns = TestNetns::new("rule");
    ns.exec(
        "ip rule add priority 99 not fwmark 0x100000/0x100000 lookup 1 && \
         ip rule add priority 100 from 10.244.0.0/16 to 10.96.0.0/12 iif cni0 lookup 200 && \
         ip rule add priority 101 blackhole to 10.66.0.0/16",
    );
    let rules =
        netpath::netlink::rule::rules(&Netns::parse(&ns.name)).map_err(|e| format!("{e:#}"))?;
    let ours: Vec<String> = rules
        .iter()
        .filter(|r| r.family == netpath::dataplane::Family::Inet)
        .map(|r| r.to_string())
        .collect();
    let shown: Vec<String> = ns
        .exec("ip -4 rule show")
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect();
    assert_eq!(ours, shown);
    Ok(())
}
