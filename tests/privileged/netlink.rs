//! The one netlink socket: a whole node read in one visit agrees with the single readers,
//! and a dump abandoned by its caller leaves the socket usable.

use libtest_mimic::{Failed, Trial};
use netpath::netlink::link::RtSocket;
use netpath::netlink::node::read_node;
use netpath::netlink::{Netns, link, neigh, route, rule, sysctl};

use crate::lab::TestNetns;

pub fn tests() -> Vec<Trial> {
    vec![
        Trial::test(
            "netlink::read_node_matches_the_single_readers",
            read_node_matches_the_single_readers,
        ),
        Trial::test(
            "netlink::an_abandoned_dump_leaves_the_socket_usable",
            an_abandoned_dump_leaves_the_socket_usable,
        ),
    ]
}

/// A node with devices, addresses, a vxlan neighbour and FDB entry, a rule and `n` routes
/// via eth0 (10.{i/256}.{i%256}.0/24).
fn node(tag: &str, n: usize) -> TestNetns {
    let ns = TestNetns::new(tag);
    ns.exec(
        "ip link add eth0 type veth peer name eth0p && ip addr add 192.168.77.1/24 dev eth0 && \
         ip link set eth0 up && ip link set eth0p up && \
         ip link add flannel.1 type vxlan id 1 local 192.168.77.1 dev eth0 dstport 8472 nolearning && \
         ip link set flannel.1 up && \
         ip neigh add 10.244.1.0 lladdr 0a:00:00:00:00:01 dev flannel.1 nud permanent && \
         bridge fdb add 0a:00:00:00:00:01 dev flannel.1 dst 192.168.77.2 self permanent && \
         ip rule add from 10.244.0.0/16 lookup 100 priority 100",
    );
    let batch: String = (0..n)
        .map(|i| {
            format!(
                "route add 10.{}.{}.0/24 via 192.168.77.2 dev eth0\n",
                i / 256,
                i % 256
            )
        })
        .collect();
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), batch).expect("writing the batch");
    ns.exec(&format!("ip -batch {}", file.path().display()));
    ns.settle();
    ns
}

fn read_node_matches_the_single_readers() -> Result<(), Failed> {
    let ns = node("nlnode", 300);
    let netns = Netns::parse(&ns.name);
    let e = |e: anyhow::Error| format!("{e:#}");
    let read = read_node(&netns, true).map_err(e)?;
    assert_eq!(read.links, link::links(&netns).map_err(e)?);
    assert_eq!(read.addrs.map_err(e)?, link::addrs(&netns).map_err(e)?);
    let routes = read.routes.map_err(e)?;
    assert_eq!(
        routes,
        route::dump_routes(&netns, None, None).map_err(e)?.routes
    );
    let main = routes
        .iter()
        .filter(|r| r.table.0 == 254 && r.dst.to_string().starts_with("10."))
        .count();
    assert_eq!(main, 300, "{routes:?}");
    let rules = read.rules.expect("rules were asked for").map_err(e)?;
    assert_eq!(rules, rule::rules(&netns).map_err(e)?);
    assert!(rules.iter().any(|r| r.priority == 100), "{rules:?}");
    let neighbours = read.neighbours.map_err(e)?;
    assert_eq!(neighbours, neigh::neighbours(&netns).map_err(e)?);
    assert!(
        neighbours.iter().any(|n| n.dev == "flannel.1"),
        "{neighbours:?}"
    );
    let fdb = read.fdb.map_err(e)?;
    assert_eq!(fdb, neigh::fdb(&netns).map_err(e)?);
    assert!(fdb.iter().any(|f| f.dst.is_some()), "{fdb:?}");
    // Read inside the node's netns, not this one: its devices are there.
    let sysctls = read.sysctls.map_err(e)?;
    assert_eq!(sysctls, sysctl::sysctls(&netns).map_err(e)?);
    assert!(sysctls.rp_filter.contains_key("flannel.1"), "{sysctls:?}");
    assert!(read.undecodable.is_empty(), "{:?}", read.undecodable);
    Ok(())
}

/// 5,000 routes take many datagrams: the kernel would refuse the next dump (EBUSY) while
/// the abandoned one is unfinished, unless the socket read the rest of it.
fn an_abandoned_dump_leaves_the_socket_usable() -> Result<(), Failed> {
    let ns = node("nlabandon", 5000);
    let netns = Netns::parse(&ns.name);
    let mut sock = RtSocket::open_in(&netns).map_err(|e| format!("{e:#}"))?;
    let links = sock.links().map_err(|e| format!("{e:#}"))?;
    let mut seen = 0;
    let err = sock
        .for_each_route(&links, None, None, |_| {
            seen += 1;
            if seen == 10 {
                anyhow::bail!("the caller stops here");
            }
            Ok(())
        })
        .expect_err("the callback's error comes back");
    assert_eq!(err.to_string(), "the caller stops here");
    assert_eq!(seen, 10, "the callback is not called after it failed");
    let routes = sock
        .routes(&links, None, None)
        .map_err(|e| format!("the next dump on the same socket: {e:#}"))?;
    let ours = routes
        .iter()
        .filter(|r| r.dst.to_string().starts_with("10."))
        .count();
    assert_eq!(ours, 5000);
    Ok(())
}
