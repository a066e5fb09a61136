use super::*;
use crate::dataplane::{Addr, Link, LinkKind, Nexthop, NodeState, Route, Scope};
use crate::world::HostKind;

fn host(name: &str, addr: &str, routes: Vec<Route>) -> NodeState {
    NodeState {
        node: name.into(),
        links: vec![Link {
            ifindex: 2,
            ..Link::up("eth0", LinkKind::Device, 1500)
        }],
        addrs: vec![Addr {
            dev: "eth0".into(),
            addr: addr.parse().unwrap(),
            scope: Scope::Universe,
        }],
        routes,
        ..Default::default()
    }
}

fn r(dst: &str, via: Option<&str>) -> Route {
    match via {
        Some(g) => Route::unicast(
            dst.parse().unwrap(),
            Nexthop::via(g.parse().unwrap(), "eth0"),
        ),
        None => Route::unicast(dst.parse().unwrap(), Nexthop::dev("eth0")),
    }
}

/// The walk runs on plain snapshots too: two routers sending 10.9.0.0/16 to each other.
#[test]
fn snapshot_world_routing_loop() {
    let a = host(
        "a",
        "10.0.0.1/24",
        vec![r("10.0.0.0/24", None), r("10.9.0.0/16", Some("10.0.0.2"))],
    );
    let b = host(
        "b",
        "10.0.0.2/24",
        vec![r("10.0.0.0/24", None), r("0.0.0.0/0", Some("10.0.0.1"))],
    );
    let w = World::from_states(vec![
        (a, HostKind::Router, None),
        (b, HostKind::Router, None),
    ]);
    let pkt = Packet {
        src: "10.0.0.1".parse().unwrap(),
        dst: "10.9.1.1".parse().unwrap(),
        proto: Proto::Udp,
        sport: None,
        dport: Some(53),
        size: 64,
        df: true,
        ttl: DEFAULT_TTL,
    };
    let p = walk(&w, w.by_name("a").unwrap(), pkt);
    let Verdict::Dropped {
        reason: Reason::RoutingLoop { hosts },
        ..
    } = &p.verdict
    else {
        panic!("{:?}", p.verdict)
    };
    assert_eq!(hosts.first().map(String::as_str), Some("a"));
    let p = walk(&w, w.by_name("a").unwrap(), Packet { ttl: 1, ..pkt });
    assert!(
        matches!(
            p.verdict,
            Verdict::Dropped {
                reason: Reason::TtlExpired,
                ..
            }
        ),
        "{:?}",
        p.verdict
    );
}

/// The reverse-path filter: b receives on eth0 a packet whose source b routes back
/// through eth1. Strict drops it, loose and off deliver it; loose drops a source with no
/// route back at all.
#[test]
fn rp_filter_strict_and_loose() {
    let a = host(
        "a",
        "10.0.0.1/24",
        vec![r("10.0.0.0/24", None), r("0.0.0.0/0", Some("10.0.0.2"))],
    );
    let mut b = host("b", "10.0.0.2/24", vec![r("10.0.0.0/24", None)]);
    let mut eth1 = b.links[0].clone();
    eth1.name = "eth1".into();
    eth1.ifindex = 3;
    b.links.push(eth1);
    b.addrs.push(Addr {
        dev: "eth1".into(),
        addr: "10.1.0.2/24".parse().unwrap(),
        scope: Scope::Universe,
    });
    b.routes.push(Route::unicast(
        "10.1.0.0/24".parse().unwrap(),
        Nexthop::dev("eth1"),
    ));
    b.routes.push(Route::unicast(
        "10.5.0.0/16".parse().unwrap(),
        Nexthop::via("10.1.0.9".parse().unwrap(), "eth1"),
    ));
    let verdict = |b: &NodeState, src: &str| {
        let w = World::from_states(vec![
            (a.clone(), HostKind::Router, None),
            (b.clone(), HostKind::Router, None),
        ]);
        let pkt = Packet {
            src: src.parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: Proto::Udp,
            sport: None,
            dport: Some(53),
            size: 64,
            df: true,
            ttl: DEFAULT_TTL,
        };
        walk(&w, w.by_name("a").unwrap(), pkt).verdict
    };
    let with = |all: u8, dev: u8| {
        let mut b = b.clone();
        b.sysctls.rp_filter.insert("all".into(), all);
        b.sysctls.rp_filter.insert("eth0".into(), dev);
        b
    };
    // Off (unknown, or 0): delivered.
    assert!(
        verdict(&b, "10.5.5.5").ok(),
        "{:?}",
        verdict(&b, "10.5.5.5")
    );
    assert!(verdict(&with(0, 0), "10.5.5.5").ok());
    // Strict, set on the device or on all (the larger wins): dropped on eth0.
    for strict in [with(0, 1), with(1, 0)] {
        let v = verdict(&strict, "10.5.5.5");
        let Verdict::Dropped {
            reason:
                Reason::RpFilter {
                    dev,
                    strict: true,
                    back: Some(back),
                    ..
                },
            ..
        } = &v
        else {
            panic!("{v:?}")
        };
        assert_eq!(dev, "eth0");
        assert!(back.contains("dev eth1"), "{back}");
    }
    // Loose: any route back will do; none at all drops.
    assert!(verdict(&with(2, 0), "10.5.5.5").ok());
    let v = verdict(&with(2, 0), "10.77.0.1");
    assert!(
        matches!(
            &v,
            Verdict::Dropped {
                reason: Reason::RpFilter {
                    strict: false,
                    back: None,
                    ..
                },
                ..
            }
        ),
        "{v:?}"
    );
    // Strict with the route back through the receiving device: delivered.
    assert!(verdict(&with(1, 1), "10.0.0.1").ok());
}
