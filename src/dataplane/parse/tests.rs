//! Route parser tests: realistic dumps from testdata/routes (captured in a test netns with
//! iproute2 6.1 and net-tools 2.10, or typed the way users paste them), round trips through
//! `Route`'s Display, bad input, and a property test that no input panics.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use proptest::prelude::*;

use super::*;
use crate::dataplane::{Family, Nexthop, Protocol, Route, RouteType, Scope, Table};

fn fixture(name: &str) -> String {
    let path = format!("{}/testdata/routes/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn net(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn lines(routes: &[Route]) -> Vec<String> {
    routes.iter().map(|r| r.to_string()).collect()
}

fn find<'a>(routes: &'a [Route], dst: &str) -> &'a Route {
    let d = net(dst);
    routes
        .iter()
        .find(|r| r.dst == d)
        .unwrap_or_else(|| panic!("no route to {dst} in {:#?}", lines(routes)))
}

#[test]
fn ip_route_text_from_the_kernel() {
    let p = parse_routes(&fixture("ip-route-mixed.txt")).unwrap();
    assert_eq!(p.format, RouteFormat::IpRoute);
    // Every line of `ip route` reads back to a route that prints the same, except the
    // fields Route does not keep (pref, expires, metrics other than mtu).
    assert_eq!(
        lines(&p.routes[..4]),
        [
            "default via 192.168.1.1 dev eth0",
            "10.51.0.0/16 dev eth0 scope link src 192.168.1.10 mtu 1450",
            "10.60.0.0/16 via inet6 fe80::1 dev eth0",
            "10.61.0.0/16 dev cali1a2b3c4d5e6 proto static scope link metric 50 linkdown",
        ]
    );
    let mp = find(&p.routes, "10.63.0.0/16");
    assert_eq!(mp.nexthops.len(), 2);
    assert_eq!(mp.nexthops[0].gateway, Some(ip("10.244.1.0")));
    assert!(mp.nexthops[0].flags.onlink);
    assert_eq!(mp.nexthops[1].gateway, None);
    assert_eq!(mp.nexthops[1].dev.as_deref(), Some("cali1a2b3c4d5e6"));
    assert!(mp.nexthops[1].flags.linkdown);
    let w = find(&p.routes, "10.244.3.0/24");
    assert_eq!(
        w.nexthops.iter().map(|h| h.weight).collect::<Vec<_>>(),
        [1, 3]
    );
    let felix = find(&p.routes, "10.244.2.0/24");
    assert_eq!(felix.proto, Protocol::FELIX);
    assert_eq!(felix.metric, Some(5));
    assert_eq!(felix.mtu, Some(1400), "mtu lock 1400");
    let bh = find(&p.routes, "10.244.0.0/26");
    assert_eq!((bh.kind, bh.proto), (RouteType::Blackhole, Protocol::BIRD));
    assert!(bh.nexthops.is_empty());
    assert_eq!(find(&p.routes, "10.98.0.0/16").kind, RouteType::Prohibit);
    let host = find(&p.routes, "10.244.0.5/32");
    assert_eq!(host.scope, Scope::Link);
    assert_eq!(host.flags().letters(), "UH");
    let kernel = find(&p.routes, "192.168.1.0/24");
    assert_eq!(
        (kernel.proto, kernel.scope, kernel.prefsrc),
        (Protocol::KERNEL, Scope::Link, Some(ip("192.168.1.10")))
    );
    // IPv6: blackhole with dev lo, default after the prompt `ip -6 route`.
    let bh6 = find(&p.routes, "2000::/122");
    assert_eq!(bh6.kind, RouteType::Blackhole);
    assert_eq!(bh6.dev(), Some("lo"));
    assert_eq!(bh6.metric, Some(1024));
    let d6 = find(&p.routes, "::/0");
    assert_eq!(d6.gateway(), Some(ip("2001:db8::1")));
    // Under `ip route show table 100` iproute2 prints no table: the prompt says it.
    let t100 = find(&p.routes, "10.50.0.0/16");
    assert_eq!((t100.table, t100.tos), (Table(100), 0x10));
    let throw = find(&p.routes, "10.62.0.0/16");
    assert_eq!((throw.kind, throw.table), (RouteType::Throw, Table(100)));
    assert_eq!(p.routes.len(), 13 + 9 + 2);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn ip_d_route_table_all() {
    let p = parse_routes(&fixture("ip-d-route-table-all.txt")).unwrap();
    assert_eq!(p.format, RouteFormat::IpRoute);
    let local = p
        .routes
        .iter()
        .find(|r| r.kind == RouteType::Local && r.dst == net("192.168.1.10/32"))
        .unwrap();
    assert_eq!(
        (local.table, local.proto, local.scope),
        (Table::LOCAL, Protocol::KERNEL, Scope::Host)
    );
    let bc = p
        .routes
        .iter()
        .find(|r| r.kind == RouteType::Broadcast)
        .unwrap();
    assert_eq!(bc.scope, Scope::Link);
    let mc = p
        .routes
        .iter()
        .filter(|r| r.kind == RouteType::Multicast)
        .count();
    assert_eq!(mc, 3);
    // -d prints "unicast", "table main", "proto boot", "scope global": same routes as without.
    let plain = parse_routes(&fixture("ip-route-mixed.txt")).unwrap();
    let flannel = find(&p.routes, "10.244.1.0/24");
    assert_eq!(flannel, find(&plain.routes, "10.244.1.0/24"));
    assert_eq!(
        find(&p.routes, "2001:db8:5::/64"),
        find(&plain.routes, "2001:db8:5::/64")
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn json_matches_text() {
    let text = parse_routes(&fixture("ip-d-route-table-all.txt")).unwrap();
    for name in ["ip-j-route-table-all.json"] {
        let j = parse_routes(&fixture(name)).unwrap();
        assert_eq!(j.format, RouteFormat::IpRouteJson);
        // The JSON of the same table reads to the same routes as the text (the text was
        // captured a moment later; the IPv6 `expires` route is in both).
        for r in &j.routes {
            assert!(
                text.routes.contains(r),
                "{name}: {r} ({r:?}) not in the text dump"
            );
        }
        assert_eq!(j.routes.len(), text.routes.len());
        assert!(j.warnings.is_empty(), "{:?}", j.warnings);
    }
    // Pretty -d JSON and two documents in a row.
    let pretty = parse_routes(&fixture("ip-j-p-d-route.json")).unwrap();
    let two = parse_routes(&fixture("ip-j-4-then-6.json")).unwrap();
    for r in pretty.routes.iter().chain(&two.routes) {
        assert!(text.routes.contains(r), "{r} ({r:?}) not in the text dump");
    }
    assert!(two.routes.iter().any(|r| r.family() == Family::Inet6));
    let via6 = find(&two.routes, "10.60.0.0/16");
    assert_eq!(via6.gateway(), Some(ip("fe80::1")));
}

#[test]
fn ip_o_route_oneline() {
    let p = parse_routes(&fixture("ip-o-route.txt")).unwrap();
    let mp = find(&p.routes, "10.244.3.0/24");
    assert_eq!(mp.nexthops.len(), 2);
    assert_eq!(mp.nexthops[1].weight, 3);
    let full = parse_routes(&fixture("ip-route-mixed.txt")).unwrap();
    for r in &p.routes {
        assert!(full.routes.contains(r), "{r}");
    }
}

#[test]
fn old_iproute2_with_crlf_and_two_spaces() {
    let p = parse_routes(&fixture("old-iproute2-crlf.txt")).unwrap();
    assert_eq!(p.format, RouteFormat::IpRoute);
    assert_eq!(p.routes.len(), 5);
    let d = &p.routes[0];
    assert_eq!(
        (d.dst, d.gateway(), d.proto, d.metric),
        (
            net("0.0.0.0/0"),
            Some(ip("10.0.2.2")),
            Protocol::STATIC,
            Some(100)
        )
    );
    // Legacy flannel (≤ 0.7): one /16 device route on flannel.1.
    let legacy = find(&p.routes, "10.244.0.0/16");
    assert_eq!(legacy.dev(), Some("flannel.1"));
    assert_eq!(legacy.prefsrc, Some(ip("10.244.1.0")));
    assert!(find(&p.routes, "172.17.0.0/16").nexthops[0].flags.linkdown);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn calico_ipip_pasted_in_markdown() {
    let p = parse_routes(&fixture("calico-ipip-bird.md")).unwrap();
    assert_eq!(p.format, RouteFormat::IpRoute);
    assert_eq!(p.routes.len(), 8);
    let borrowed = find(&p.routes, "172.27.198.225/32");
    assert_eq!(
        borrowed.to_string(),
        "172.27.198.225 via 10.77.20.145 dev tunl0 proto bird onlink"
    );
    assert_eq!(borrowed.flags().letters(), "UGH");
    let dhcp = find(&p.routes, "0.0.0.0/0");
    assert_eq!(dhcp.proto, Protocol(16));
    // The prose line above the fence is reported with its number.
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(
        p.warnings[0].to_string().starts_with("line 1: skipped"),
        "{:?}",
        p.warnings
    );
}

#[test]
fn ipv6_dump_with_expires_error_and_multipath_default() {
    let p = parse_routes(&fixture("calico-vxlan-v6.txt")).unwrap();
    assert!(p.routes.iter().all(|r| r.family() == Family::Inet6));
    let un = find(&p.routes, "2001:db8:dead::/48");
    assert_eq!(
        (un.kind, un.proto),
        (RouteType::Unreachable, Protocol::STATIC)
    );
    let bh = find(&p.routes, "2000::3b00/122");
    assert_eq!(
        bh.to_string(),
        "blackhole 2000::3b00/122 dev lo proto 80 metric 1024"
    );
    let onlink = find(&p.routes, "2000::3b40/122");
    assert!(onlink.nexthops[0].flags.onlink);
    let defaults: Vec<_> = p.routes.iter().filter(|r| r.dst.prefix() == 0).collect();
    assert_eq!(defaults.len(), 2);
    assert_eq!(defaults[0].proto, Protocol(9), "proto ra");
    assert_eq!(defaults[0].mtu, Some(1500));
    assert_eq!(defaults[1].nexthops.len(), 2);
    assert_eq!(defaults[1].dst, net("::/0"));
    assert_eq!(
        find(&p.routes, "2000::3b01/128").dev(),
        Some("cali4f1b5e8a7c2")
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn ip_route_get_output_is_not_a_route() {
    let p = parse_routes(&fixture("flannel-vxlan-with-get.txt")).unwrap();
    assert_eq!(p.routes.len(), 6);
    assert!(!p.routes.iter().any(|r| r.dst == net("10.244.2.7/32")));
    assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
    assert!(
        p.warnings[0].to_string().contains("line 9")
            && p.warnings[0].to_string().contains("ip route get")
    );
}

#[test]
fn route_n_reads_what_it_shows() {
    let p = parse_routes(&fixture("route-n.txt")).unwrap();
    assert_eq!(p.format, RouteFormat::RouteN);
    assert_eq!(p.routes.len(), 13);
    let bh = find(&p.routes, "10.244.0.0/26");
    assert_eq!(bh.kind, RouteType::Blackhole);
    assert_eq!(find(&p.routes, "10.98.0.0/16").kind, RouteType::Unreachable);
    let host = find(&p.routes, "10.244.0.5/32");
    assert_eq!(
        host.to_string(),
        "10.244.0.5 dev cali1a2b3c4d5e6 scope link"
    );
    let flannel = find(&p.routes, "10.244.1.0/24");
    assert_eq!(
        flannel.to_string(),
        "10.244.1.0/24 via 10.244.1.0 dev flannel.1"
    );
    assert_eq!(find(&p.routes, "10.244.2.0/24").metric, Some(5));
    // Multipath: only the first nexthop.
    assert_eq!(find(&p.routes, "10.244.3.0/24").nexthops.len(), 1);
    // The flags route -n printed are the flags netpath computes for what it read.
    let text = fixture("route-n.txt");
    for (r, row) in p.routes.iter().zip(text.lines().skip(2)) {
        let shown = row.split_whitespace().nth(3).unwrap();
        let ours = r.flags().letters();
        let ours = if r.flags().reject {
            "!".to_string()
        } else {
            ours
        };
        // The IPv4-via-IPv6 route has G in /proc but no IPv4 gateway to read.
        if r.dst != net("10.60.0.0/16") {
            assert_eq!(ours, shown, "{row}");
        }
    }
    assert!(
        p.warnings
            .iter()
            .any(|w| w.to_string().contains("main table")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn netstat_and_route_layouts_agree() {
    let n = parse_routes(&fixture("route-n.txt")).unwrap();
    let ns = parse_routes(&fixture("netstat-rn.txt")).unwrap();
    let nee = parse_routes(&fixture("route-nee.txt")).unwrap();
    assert_eq!(ns.format, RouteFormat::RouteN);
    assert_eq!(ns.routes.len(), n.routes.len());
    for (a, b) in n.routes.iter().zip(&ns.routes) {
        // netstat -rn has no Metric column.
        assert_eq!(a.dst, b.dst);
        assert_eq!(a.nexthops, b.nexthops);
        assert_eq!(b.metric, None);
    }
    assert!(
        ns.warnings
            .iter()
            .any(|w| w.to_string().contains("no Metric"))
    );
    for (a, b) in n.routes.iter().zip(&nee.routes) {
        assert_eq!((a.dst, a.metric, a.kind), (b.dst, b.metric, b.kind));
        // route -nee cuts interface names to 6 characters.
        let dev = a.dev().unwrap_or("");
        assert_eq!(b.dev(), a.dev().map(|_| &dev[..dev.len().min(6)]));
    }
}

#[test]
fn route_n_annotated_without_title() {
    let p = parse_routes(&fixture("route-n-annotated.txt")).unwrap();
    assert_eq!(p.format, RouteFormat::RouteN);
    assert_eq!(p.routes.len(), 6);
    assert_eq!(find(&p.routes, "0.0.0.0/0").metric, Some(100));
    assert_eq!(find(&p.routes, "10.244.0.0/26").kind, RouteType::Blackhole);
    let ann: Vec<_> = p
        .warnings
        .iter()
        .filter(|w| w.to_string().contains("ignored"))
        .collect();
    assert_eq!(ann.len(), 2, "{:?}", p.warnings);
    assert!(ann[0].to_string().starts_with("line 3:"), "{ann:?}");
}

#[test]
fn route_6_merges_ecmp_rows() {
    let p = parse_routes(&fixture("route-6-n.txt")).unwrap();
    assert_eq!(p.format, RouteFormat::RouteN);
    let mp = find(&p.routes, "2001:db8:5::/64");
    assert_eq!(mp.nexthops.len(), 2);
    let bh = find(&p.routes, "2000::/122");
    assert_eq!((bh.kind, bh.dev()), (RouteType::Unreachable, Some("lo")));
    let d = p
        .routes
        .iter()
        .find(|r| r.dst == net("::/0") && r.gateway().is_some())
        .unwrap();
    assert_eq!(d.metric, Some(1024));
}

#[test]
fn proc_net_route() {
    let p = parse_routes(&fixture("proc-net-route.txt")).unwrap();
    assert_eq!(p.format, RouteFormat::ProcNetRoute);
    let n = parse_routes(&fixture("route-n.txt")).unwrap();
    // route -n reads /proc/net/route: the same routes.
    assert_eq!(p.routes, n.routes);
    let flannel = find(&p.routes, "10.244.1.0/24");
    assert_eq!(flannel.gateway(), Some(ip("10.244.1.0")));
    assert_eq!(flannel.dev(), Some("flannel.1"));
}

#[test]
fn bad_input_is_a_clear_error() {
    let msg = |r: anyhow::Result<ParsedRoutes>| format!("{:#}", r.unwrap_err());
    let e = msg(parse_routes(""));
    assert!(e.contains("empty input"), "{e}");
    let e = msg(parse_routes("\n# nothing\n$ ip route\n"));
    assert!(e.contains("only comments"), "{e}");
    let e = msg(parse_routes(&fixture("garbage.txt")));
    assert!(e.contains("line 1") && e.contains("ip route"), "{e}");
    let e = msg(parse_routes(&fixture("truncated.json")));
    assert!(e.contains("truncated JSON"), "{e}");
    let e = msg(parse_routes("[{\"dst\": 5}]"));
    assert!(e.contains("JSON route 1"), "{e}");
    // A route with a redacted gateway is skipped; when it is the only route, nothing is left.
    let e = msg(parse_routes(
        "10.244.1.0/24 via 10.244.1.x dev flannel.1 onlink\n",
    ));
    assert!(e.contains("line 1") && e.contains("10.244.1.x"), "{e}");
    let e = msg(parse_routes(&fixture("route-plain.txt")));
    assert!(
        e.contains("line 4") && e.contains("_gateway") && e.contains("route -n"),
        "{e}"
    );
    let e = msg(parse_routes(
        "10.0.0.0/8 via 10.0.0.1 dev eth0 table calico\n",
    ));
    assert!(
        e.contains("line 1") && e.contains("calico") && e.contains("rt_tables"),
        "{e}"
    );
    let e = msg(parse_routes("10.0.0.0/8 via 10.0.0.1 dev eth0 metric\n"));
    assert!(e.contains("line 1") && e.contains("metric"), "{e}");
    let e = msg(parse_routes_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00"));
    assert!(e.contains("binary"), "{e}");
    let e = msg(parse_routes("\u{1}\u{2}\u{3}garbage"));
    assert!(e.contains("binary"), "{e}");
    // A valid but empty JSON table is not an error.
    assert!(parse_routes("[]").unwrap().routes.is_empty());
}

#[test]
fn lenient_where_the_meaning_is_clear() {
    let p = parse_routes(
        "  10.1.0.0/16 via 10.0.0.1 dev eth0 frobnicate 7\n\
         RTNETLINK answers: Operation not permitted\n\
         10.2.0.5/24 dev eth1 scope link\n\
         default dev wg0 scope link\n",
    )
    .unwrap();
    assert_eq!(p.routes.len(), 3);
    assert_eq!(p.routes[1].dst, net("10.2.0.0/24"));
    assert_eq!(p.routes[2].dst, net("0.0.0.0/0"));
    assert_eq!(p.warnings.len(), 3, "{:?}", p.warnings);
    assert!(
        p.warnings[0].to_string().contains("line 1"),
        "{:?}",
        p.warnings
    );
    assert!(
        p.warnings[0].to_string().contains("line 1")
            && p.warnings[0].to_string().contains("frobnicate")
    );
    assert!(p.warnings[1].to_string().contains("line 2"));
    assert!(
        p.warnings[2].to_string().contains("line 3")
            && p.warnings[2].to_string().contains("host bits")
    );
    // A nexthop line that lost its indentation, and one-line `ip route add` syntax.
    let p = parse_routes(
        "10.3.0.0/16 proto static\nnexthop via 10.0.0.1 dev eth0 weight 2\nnexthop via 10.0.0.2 dev eth0\n\
         10.4.0.0/16 nexthop via 10.0.0.1 dev eth0 nexthop via 10.0.0.2 dev eth0 onlink\n",
    )
    .unwrap();
    assert_eq!(p.routes[0].nexthops.len(), 2);
    assert_eq!(p.routes[0].nexthops[0].weight, 2);
    assert_eq!(p.routes[1].nexthops.len(), 2);
    assert!(p.routes[1].nexthops[1].flags.onlink);
    // The family of a `default` without addresses comes from the prompt.
    let p = parse_routes("$ ip -6 route\ndefault dev wg0 metric 1024\n").unwrap();
    assert_eq!(p.routes[0].dst, net("::/0"));
    // Filters of the prompt fill what iproute2 left out.
    let p = parse_routes(
        "# ip route show dev cni0 proto kernel\n10.244.1.0/24 scope link src 10.244.1.1\n",
    )
    .unwrap();
    assert_eq!(p.routes[0].dev(), Some("cni0"));
    assert_eq!(p.routes[0].proto, Protocol::KERNEL);
}

#[test]
fn localized_and_coloured() {
    let fr = "Table de routage IP du noyau\n\
              Destination     Passerelle      Genmask         Indic Metric Ref    Use Iface\n\
              0.0.0.0         192.168.1.1     0.0.0.0         UG    100    0        0 eth0\n\
              10.244.0.0      0.0.0.0         255.255.255.0   U     0      0        0 cni0\n";
    let p = parse_routes(fr).unwrap();
    assert_eq!(p.format, RouteFormat::RouteN);
    assert_eq!(p.routes.len(), 2);
    assert_eq!(p.routes[0].metric, Some(100));
    assert!(
        !p.warnings.iter().any(|w| w.to_string().contains("skipped")),
        "{:?}",
        p.warnings
    );
    // `ip -c route` pasted with its colour escapes.
    let c = "\u{1b}[32mdefault \u{1b}[0mvia \u{1b}[35m10.0.2.2 \u{1b}[0mdev \u{1b}[36meth0 \u{1b}[0mproto dhcp\n";
    let p = parse_routes(c).unwrap();
    assert_eq!(p.routes[0].gateway(), Some(ip("10.0.2.2")));
    // A paste mixing formats: the majority wins, the rest is reported line by line.
    let mixed = "default via 10.0.2.2 dev eth0\n10.0.2.0/24 dev eth0 proto kernel scope link src 10.0.2.15\n\
                 0.0.0.0         10.0.2.2        0.0.0.0         UG    0      0        0 eth0\n";
    let p = parse_routes(mixed).unwrap();
    assert_eq!(p.format, RouteFormat::IpRoute);
    assert_eq!(p.routes.len(), 2);
    assert!(
        p.warnings[0].to_string().starts_with("line 3: skipped"),
        "{:?}",
        p.warnings
    );
}

fn round_trip_routes() -> Vec<Route> {
    let mut v = Vec::new();
    v.push(Route::unicast(
        net("0.0.0.0/0"),
        Nexthop::via(ip("192.168.1.1"), "eth0"),
    ));
    v.push(Route::unicast(
        net("10.244.1.0/24"),
        Nexthop::via(ip("10.244.1.0"), "flannel.1").onlink(),
    ));
    let mut r = Route::unicast(net("10.244.0.5/32"), Nexthop::dev("cali1a2b3c4d5e6"));
    r.nexthops[0].flags.linkdown = true;
    v.push(r);
    let mut r = Route::unicast(
        net("10.65.1.0/26"),
        Nexthop::via(ip("172.17.0.6"), "tunl0").onlink(),
    );
    r.proto = Protocol::FELIX;
    r.mtu = Some(1480);
    r.metric = Some(1024);
    v.push(r);
    v.push(Route::drop(
        RouteType::Blackhole,
        net("10.65.0.0/26"),
        Protocol::BIRD,
    ));
    v.push(Route::drop(
        RouteType::Unreachable,
        net("10.99.0.0/16"),
        Protocol::BOOT,
    ));
    v.push(Route::drop(
        RouteType::Prohibit,
        net("10.98.0.0/16"),
        Protocol::STATIC,
    ));
    let mut r = Route::unicast(net("192.168.1.0/24"), Nexthop::dev("eth0"));
    r.proto = Protocol::KERNEL;
    r.prefsrc = Some(ip("192.168.1.10"));
    v.push(r);
    let mut r = Route::unicast(
        net("10.244.3.0/24"),
        Nexthop::via(ip("192.168.1.13"), "eth0"),
    );
    let mut h = Nexthop::via(ip("192.168.1.14"), "eth1");
    h.weight = 5;
    h.flags.onlink = true;
    h.flags.dead = true;
    r.nexthops.push(h);
    r.metric = Some(20);
    v.push(r);
    let mut r = Route::unicast(net("10.50.0.0/16"), Nexthop::via(ip("192.168.1.1"), "eth0"));
    r.table = Table(100);
    r.tos = 0x10;
    v.push(r);
    let mut r = Route::unicast(net("10.60.0.0/16"), Nexthop::via(ip("fe80::1"), "eth0"));
    r.proto = Protocol(77);
    v.push(r);
    let mut r = Route::unicast(net("127.0.0.1/32"), Nexthop::dev("lo"));
    r.kind = RouteType::Local;
    r.table = Table::LOCAL;
    r.proto = Protocol::KERNEL;
    r.scope = Scope::Host;
    r.prefsrc = Some(ip("127.0.0.1"));
    v.push(r);
    let mut r = Route::drop(RouteType::Throw, net("10.62.0.0/16"), Protocol::BOOT);
    r.table = Table(200);
    v.push(r);
    // IPv6.
    let mut r = Route::drop(RouteType::Blackhole, net("2000::3b00/122"), Protocol::FELIX);
    r.nexthops.push(Nexthop::dev("lo"));
    r.metric = Some(1024);
    v.push(r);
    let mut r = Route::unicast(net("::/0"), Nexthop::via(ip("fe80::1"), "eth0"));
    r.metric = Some(1024);
    r.proto = Protocol(9);
    v.push(r);
    let mut r = Route::unicast(net("2001:db8::1/128"), Nexthop::dev("cali1"));
    r.scope = Scope::Universe;
    r.metric = Some(1024);
    v.push(r);
    let mut r = Route::unicast(
        net("2001:db8:5::/64"),
        Nexthop::via(ip("2001:db8::2"), "eth0"),
    );
    r.nexthops.push(Nexthop::via(ip("2001:db8::3"), "eth0"));
    r.metric = Some(1024);
    v.push(r);
    v
}

#[test]
fn display_round_trips() {
    let routes = round_trip_routes();
    for r in &routes {
        let text = r.to_string();
        let p = parse_routes(&text).unwrap_or_else(|e| panic!("{text}: {e:#}"));
        assert_eq!(p.routes, vec![r.clone()], "{text}");
        assert!(p.warnings.is_empty(), "{text}: {:?}", p.warnings);
    }
    // All at once, and with CRLF and old two-space spacing.
    let all: String = routes.iter().map(|r| format!("{r}\n")).collect();
    assert_eq!(parse_routes(&all).unwrap().routes, routes);
    let crlf = all.replace('\n', "  \r\n").replace(" dev ", "  dev ");
    assert_eq!(parse_routes(&crlf).unwrap().routes, routes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn random_input_never_panics(s in "\\PC{0,200}") {
        let _ = parse_routes(&s);
    }

    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_routes_bytes(&b);
    }

    #[test]
    fn route_like_tokens_never_panic(toks in proptest::collection::vec(
        prop_oneof![
            Just("default"), Just("via"), Just("dev"), Just("eth0"), Just("nexthop"),
            Just("10.0.0.1"), Just("10.0.0.0/8"), Just("fe80::1"), Just("::/0"),
            Just("blackhole"), Just("table"), Just("proto"), Just("metric"), Just("1024"),
            Just("\n"), Just("\n\t"), Just("onlink"), Just("mtu"), Just("lock"), Just("inet6"),
            Just("0.0.0.0"), Just("255.255.0.0"), Just("UG"), Just("*"), Just("-"), Just("!"),
            Just("0001F40A"), Just("00FFFFFF"), Just("Iface"), Just("Genmask"), Just("["),
            Just("{"), Just("\"dst\":"), Just("}"), Just("]"), Just(","), Just("weight"),
            Just("0/8"), Just("encap"), Just("$ ip -6 route\n"),
        ],
        0..40,
    )) {
        let s = toks.join(" ");
        let _ = parse_routes(&s);
    }

    #[test]
    fn mutated_dumps_never_panic(
        which in 0usize..6,
        cut in 0usize..4000,
        pos in 0usize..4000,
        byte in any::<u8>(),
    ) {
        let names = [
            "ip-route-mixed.txt", "ip-j-p-d-route.json", "route-n.txt",
            "proc-net-route.txt", "route-6-n.txt", "calico-vxlan-v6.txt",
        ];
        let text = fixture(names[which]);
        let mut bytes = text.into_bytes();
        if !bytes.is_empty() {
            let p = pos % bytes.len();
            bytes[p] = byte;
            bytes.truncate(cut.min(bytes.len()).max(p));
        }
        let _ = parse_routes_bytes(&bytes);
    }
}

#[test]
fn damaged_route_lines_are_skipped_and_named() {
    let input = "[root@node-a ~]# ip route\n\
        default via 10.0.0.1 dev eth0\n\
        10.244.2.0/24 via x.y.72.193 dev eth0 proto bird\n\
        10.244.3.0/24 via 10.0.0.3 dev eth0 proto bi\n\
        10.244.4.0/24\tvia  10.0.0.4\u{a0}dev eth0 proto bird\n\
        10.244.5.0/24 via 10.0.0.5 dev eth0\u{7} proto bird\n\
        10.244.9.0      10.0.0.9        255.255.255.0   UG    0      0        0 eth0\n";
    let p = parse_routes(input).unwrap();
    let dsts: Vec<String> = p.routes.iter().map(|r| r.dst.to_string()).collect();
    assert_eq!(dsts, ["0.0.0.0/0", "10.244.4.0/24"]);
    let lines: Vec<Option<usize>> = p.warnings.iter().map(|w| w.line).collect();
    assert_eq!(
        lines,
        [Some(3), Some(4), Some(6), Some(7)],
        "{:?}",
        p.warnings
    );
    let shown: Vec<String> = p.warnings.iter().map(ToString::to_string).collect();
    assert!(shown[0].contains("x.y.72.193"), "{shown:?}");
    assert!(shown[1].contains("cut off"), "{shown:?}");
    // Control characters are escaped where the line is shown.
    assert!(
        shown[2].contains("\\u{7}") && !shown[2].contains('\u{7}'),
        "{shown:?}"
    );
    assert!(shown[3].contains("route -n"), "{shown:?}");
    let prefixes: Vec<Option<SkippedRoute>> = p.warnings.iter().map(|w| w.skipped).collect();
    assert_eq!(
        prefixes,
        [
            Some(SkippedRoute::Prefix(net("10.244.2.0/24"))),
            Some(SkippedRoute::Prefix(net("10.244.3.0/24"))),
            Some(SkippedRoute::Prefix(net("10.244.5.0/24"))),
            Some(SkippedRoute::Prefix(net("10.244.9.0/24"))),
        ]
    );
    let json = serde_json::to_value(&p.warnings[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"line": 3, "text": "10.244.2.0/24 via x.y.72.193 dev eth0 proto bird",
            "reason": "via \"x.y.72.193\" is not an IP address"})
    );
}

#[test]
fn damaged_json_route_is_skipped_with_its_destination() {
    let p = parse_routes(
        r#"[{"dst":"default","gateway":"10.0.0.1","dev":"eth0"},
            {"dst":"10.244.2.0/24","gateway":"x.y.72.193","dev":"eth0"}]"#,
    )
    .unwrap();
    assert_eq!(p.routes.len(), 1);
    assert_eq!(
        p.warnings[0].skipped,
        Some(SkippedRoute::Prefix(net("10.244.2.0/24")))
    );
}

#[test]
fn damaged_route_file_in_a_text_dump_is_a_warning() {
    let files = vec![DumpFile {
        kind: SnapshotFile::Routes,
        name: "ip-route.txt".into(),
        path: "dump/ip-route.txt".into(),
        bytes: b"default via 10.0.0.1 dev eth0\n10.244.3.0/24 via 10.0.0.3 dev eth0 proto bi\n"
            .to_vec(),
    }];
    let (state, warnings) = node_from_dumps("n".into(), files, vec![], "dump").unwrap();
    assert_eq!(state.routes.len(), 1);
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("ip-route.txt: line 2: skipped")),
        "{warnings:?}"
    );
}
