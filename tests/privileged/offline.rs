//! Offline parsers against the real thing: build a node's state in a test netns (veth,
//! bridge, vxlan with FDB and neighbour entries, routes of every shape, sysctls), dump it with
//! the real `ip`, `bridge`, `route`, `netstat` and `sysctl`, and check that the parsers read
//! back what was built, and that every format of the same table reads the same.

use std::collections::HashSet;
use std::path::Path;

use libtest_mimic::{Failed, Trial};
use netpath::dataplane::parse::{RouteFormat, parse_routes};
use netpath::dataplane::{
    FdbEntry, LinkKind, MacAddr, Neighbour, Nexthop, NudState, Protocol, Route, RouteType, Scope,
    Table, Veth, Vxlan,
};
use netpath::snapshot::node_from_dir;

use crate::lab::TestNetns;

pub fn tests() -> Vec<Trial> {
    vec![
        Trial::test(
            "offline::node_text_reads_back_what_was_built",
            node_text_reads_back_what_was_built,
        ),
        Trial::test(
            "offline::route_formats_of_one_table_agree",
            route_formats_of_one_table_agree,
        ),
        Trial::test(
            "offline::display_prints_what_ip_route_prints",
            display_prints_what_ip_route_prints,
        ),
    ]
}

fn check(ok: bool, msg: impl FnOnce() -> String) -> Result<(), Failed> {
    if ok { Ok(()) } else { Err(msg().into()) }
}

fn net(s: &str) -> ipnetwork::IpNetwork {
    s.parse().expect("test prefix")
}

fn ip(s: &str) -> std::net::IpAddr {
    s.parse().expect("test address")
}

/// A node with Flannel VXLAN, a Calico-style VXLAN device, a cni0 bridge with one pod veth
/// (its peer in a second netns), and the route shapes both CNIs program.
fn build_node(ns: &TestNetns, pod: &TestNetns) {
    ns.exec(&format!(
        "set -e
         ip link add eth0 type veth peer name eth0p
         ip addr add 192.168.50.10/24 dev eth0
         ip link set eth0 up; ip link set eth0p up
         ip link add flannel.1 type vxlan id 1 local 192.168.50.10 dev eth0 dstport 8472 nolearning
         ip link set flannel.1 mtu 1450 up
         ip link add vxlan.calico type vxlan id 4096 local 192.168.50.10 dev eth0 dstport 4789 learning
         ip link set vxlan.calico up
         ip link add cni0 type bridge
         ip link set cni0 up
         ip addr add 10.244.1.1/24 dev cni0
         ip link add vethabc type veth peer name eth0 netns {pod}
         ip link set vethabc master cni0 up
         ip neigh add 10.244.2.0 lladdr 66:74:9e:11:22:33 dev flannel.1 nud permanent
         bridge fdb append 66:74:9e:11:22:33 dev flannel.1 dst 192.168.50.12 self permanent
         ip neigh add 192.168.50.12 lladdr 02:42:ac:11:00:02 dev eth0 nud reachable
         ip route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
         ip route add 10.244.3.0/24 via 192.168.50.13 dev eth0 proto bird metric 10
         ip route add 10.244.4.0/24 via 192.168.50.14 dev eth0 proto 80 onlink mtu 1400
         ip route add blackhole 10.244.0.0/26 proto 80
         ip route add unreachable 10.99.0.0/16
         ip route add prohibit 10.98.0.0/16
         ip route add 10.244.0.5 dev vethabc scope link
         ip route add 10.244.5.0/24 nexthop via 192.168.50.15 dev eth0 weight 1 nexthop via 192.168.50.16 dev eth0 weight 2
         ip route add 10.50.0.0/16 via 192.168.50.1 dev eth0 table 100
         ip route add default via 192.168.50.1 dev eth0
         ip -6 addr add 2001:db8::10/64 dev eth0 nodad
         ip -6 route add blackhole 2000::3b00/122 proto 80
         ip -6 route add 2001:db8:5::/64 via 2001:db8::1 dev eth0 metric 1024
         sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=2
         sysctl -qw net.ipv4.conf.flannel/1.rp_filter=0 net.ipv4.conf.vethabc.proxy_arp=1",
        pod = pod.name
    ));
    // The pod end up, so that the host end has carrier (no `linkdown`).
    pod.exec("ip link set eth0 up");
    ns.settle();
}

fn dump(ns: &TestNetns, dir: &Path, files: &[(&str, &str)]) {
    for (name, cmd) in files {
        let out = ns.exec(cmd);
        std::fs::write(dir.join(name), out).expect("write dump");
    }
}

fn node_text_reads_back_what_was_built() -> Result<(), Failed> {
    let ns = TestNetns::new("offl");
    let pod = TestNetns::new("offp");
    build_node(&ns, &pod);
    let text = tempfile::tempdir()?;
    dump(
        &ns,
        text.path(),
        &[
            ("ip-route.txt", "ip route show table all"),
            ("ip-link.txt", "ip -d link"),
            ("ip-addr.txt", "ip addr"),
            ("ip-neigh.txt", "ip neigh"),
            ("bridge-fdb.txt", "bridge fdb"),
            ("sysctl.txt", "sysctl -a 2>/dev/null"),
        ],
    );
    let json = tempfile::tempdir()?;
    dump(
        &ns,
        json.path(),
        &[
            ("ip-j-route.json", "ip -j route show table all"),
            ("ip-j-d-link.json", "ip -j -d link"),
            ("ip-j-addr.json", "ip -j addr"),
            ("ip-j-neigh.json", "ip -j neigh"),
            ("bridge-j-fdb.json", "bridge -j fdb"),
            ("sysctl_-a", "sysctl -a 2>/dev/null"),
        ],
    );
    let (s, w) = node_from_dir(text.path()).map_err(|e| format!("{e:#}"))?;
    check(w.is_empty(), || format!("warnings: {w:?}"))?;

    // Devices.
    let link = |name: &str| s.link(name).ok_or_else(|| format!("no link {name}"));
    let fl = link("flannel.1")?;
    check(
        fl.kind
            == LinkKind::Vxlan(Vxlan {
                vni: 1,
                port: 8472,
                local: Some(ip("192.168.50.10")),
                dev: Some("eth0".into()),
                learning: false,
            }),
        || format!("{:?}", fl.kind),
    )?;
    check(fl.mtu == 1450 && fl.up, || format!("{fl:?}"))?;
    let mac: MacAddr = ns
        .exec("cat /sys/class/net/flannel.1/address")
        .trim()
        .parse()?;
    check(fl.mac == Some(mac), || format!("{:?} != {mac}", fl.mac))?;
    let cal = link("vxlan.calico")?;
    check(
        matches!(&cal.kind, LinkKind::Vxlan(v) if v.vni == 4096 && v.port == 4789 && v.learning),
        || format!("{:?}", cal.kind),
    )?;
    check(link("cni0")?.kind == LinkKind::Bridge, || "cni0".into())?;
    let pod_eth0: u32 = pod.exec("cat /sys/class/net/eth0/ifindex").trim().parse()?;
    let veth = link("vethabc")?;
    check(
        veth.master.as_deref() == Some("cni0")
            && matches!(veth.kind, LinkKind::Veth(Veth { peer_ifindex: Some(p), .. }) if p == pod_eth0),
        || format!("{veth:?}, pod eth0 is {pod_eth0}"),
    )?;
    let eth0p_index: u32 = ns.exec("cat /sys/class/net/eth0p/ifindex").trim().parse()?;
    check(
        matches!(link("eth0")?.kind, LinkKind::Veth(Veth { peer_ifindex: Some(p), .. }) if p == eth0p_index),
        || format!("{:?}", link("eth0").map(|l| &l.kind)),
    )?;
    check(link("lo")?.kind == LinkKind::Loopback, || "lo".into())?;

    // Addresses.
    check(
        s.addrs.iter().any(|a| {
            a.dev == "eth0" && a.addr == net("192.168.50.10/24") && a.scope == Scope::Universe
        }) && s
            .addrs
            .iter()
            .any(|a| a.dev == "cni0" && a.addr == net("10.244.1.1/24")),
        || format!("{:?}", s.addrs),
    )?;

    // Routes: each one built is read back exactly.
    let mut want = vec![
        Route::unicast(
            net("10.244.2.0/24"),
            Nexthop::via(ip("10.244.2.0"), "flannel.1").onlink(),
        ),
        Route::drop(RouteType::Blackhole, net("10.244.0.0/26"), Protocol::FELIX),
        Route::drop(RouteType::Unreachable, net("10.99.0.0/16"), Protocol::BOOT),
        Route::drop(RouteType::Prohibit, net("10.98.0.0/16"), Protocol::BOOT),
        Route::unicast(net("10.244.0.5/32"), Nexthop::dev("vethabc")),
        Route::unicast(net("0.0.0.0/0"), Nexthop::via(ip("192.168.50.1"), "eth0")),
    ];
    let mut r = Route::unicast(
        net("10.244.3.0/24"),
        Nexthop::via(ip("192.168.50.13"), "eth0"),
    );
    r.proto = Protocol::BIRD;
    r.metric = Some(10);
    want.push(r);
    let mut r = Route::unicast(
        net("10.244.4.0/24"),
        Nexthop::via(ip("192.168.50.14"), "eth0").onlink(),
    );
    r.proto = Protocol::FELIX;
    r.mtu = Some(1400);
    want.push(r);
    let mut r = Route::unicast(
        net("10.244.5.0/24"),
        Nexthop::via(ip("192.168.50.15"), "eth0"),
    );
    let mut h = Nexthop::via(ip("192.168.50.16"), "eth0");
    h.weight = 2;
    r.nexthops.push(h);
    want.push(r);
    let mut r = Route::unicast(
        net("10.50.0.0/16"),
        Nexthop::via(ip("192.168.50.1"), "eth0"),
    );
    r.table = Table(100);
    want.push(r);
    let mut r = Route::drop(RouteType::Blackhole, net("2000::3b00/122"), Protocol::FELIX);
    r.nexthops.push(Nexthop::dev("lo"));
    r.metric = Some(1024);
    want.push(r);
    let mut r = Route::unicast(
        net("2001:db8:5::/64"),
        Nexthop::via(ip("2001:db8::1"), "eth0"),
    );
    r.metric = Some(1024);
    want.push(r);
    for r in &want {
        check(s.routes.contains(r), || {
            format!(
                "built route not read back: {r}\n{r:?}\nread:\n{}",
                s.routes
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })?;
    }
    let connected = s
        .routes
        .iter()
        .find(|r| r.dst == net("192.168.50.0/24") && r.table == Table::MAIN)
        .ok_or("no connected route")?;
    check(
        connected.proto == Protocol::KERNEL
            && connected.scope == Scope::Link
            && connected.prefsrc == Some(ip("192.168.50.10")),
        || format!("{connected:?}"),
    )?;

    // Neighbours and FDB.
    let vtep_mac: MacAddr = "66:74:9e:11:22:33".parse()?;
    check(
        s.neighbours.contains(&Neighbour {
            dst: ip("10.244.2.0"),
            lladdr: Some(vtep_mac),
            dev: "flannel.1".into(),
            state: NudState::Permanent,
        }),
        || format!("{:?}", s.neighbours),
    )?;
    check(
        s.neighbours
            .iter()
            .any(|n| n.dst == ip("192.168.50.12") && n.dev == "eth0"),
        || format!("{:?}", s.neighbours),
    )?;
    check(
        s.fdb.contains(&FdbEntry {
            mac: vtep_mac,
            dst: Some(ip("192.168.50.12")),
            dev: "flannel.1".into(),
            master: None,
            self_: true,
            state: NudState::Permanent,
        }),
        || format!("{:?}", s.fdb),
    )?;
    let veth_mac: MacAddr = ns
        .exec("cat /sys/class/net/vethabc/address")
        .trim()
        .parse()?;
    check(
        s.fdb.iter().any(|e| {
            e.mac == veth_mac
                && e.dev == "vethabc"
                && e.master.as_deref() == Some("cni0")
                && !e.self_
                && e.state == NudState::Permanent
        }),
        || format!("no bridge port entry for {veth_mac}: {:?}", s.fdb),
    )?;

    // Sysctls.
    check(s.sysctls.ip_forward == Some(true), || {
        format!("{:?}", s.sysctls)
    })?;
    check(
        s.sysctls.rp_filter.get("all") == Some(&2)
            && s.sysctls.rp_filter.get("flannel.1") == Some(&0)
            && s.sysctls.proxy_arp.get("vethabc") == Some(&true),
        || format!("{:?}", s.sysctls),
    )?;

    // The same node from the -j outputs reads the same (the text names the pod netns where
    // JSON gives its id, so the veth's peer netns id is only in the JSON).
    let (j, w) = node_from_dir(json.path()).map_err(|e| format!("{e:#}"))?;
    check(w.is_empty(), || format!("json warnings: {w:?}"))?;
    let set = |v: &Vec<Route>| v.iter().cloned().collect::<HashSet<_>>();
    check(set(&j.routes) == set(&s.routes), || {
        let a = set(&j.routes);
        let b = set(&s.routes);
        format!(
            "only in JSON: {:?}\nonly in text: {:?}",
            a.difference(&b).map(|r| r.to_string()).collect::<Vec<_>>(),
            b.difference(&a).map(|r| r.to_string()).collect::<Vec<_>>()
        )
    })?;
    check(j.addrs == s.addrs, || {
        format!("{:?}\n{:?}", j.addrs, s.addrs)
    })?;
    check(j.neighbours == s.neighbours, || {
        format!("{:?}\n{:?}", j.neighbours, s.neighbours)
    })?;
    check(j.fdb == s.fdb, || format!("{:?}\n{:?}", j.fdb, s.fdb))?;
    check(j.sysctls == s.sysctls, || "sysctls differ".into())?;
    for l in &s.links {
        let jl = j
            .link(&l.name)
            .ok_or_else(|| format!("{} not in JSON", l.name))?;
        let same_kind = match (&l.kind, &jl.kind) {
            (LinkKind::Veth(a), LinkKind::Veth(b)) => a.peer_ifindex == b.peer_ifindex,
            (a, b) => a == b,
        };
        check(
            same_kind
                && (l.ifindex, l.mtu, l.mac, l.up, &l.master, &l.oper_state)
                    == (
                        jl.ifindex,
                        jl.mtu,
                        jl.mac,
                        jl.up,
                        &jl.master,
                        &jl.oper_state,
                    ),
            || format!("text {l:?}\njson {jl:?}"),
        )?;
    }
    let jv = j.link("vethabc").ok_or("vethabc")?;
    check(
        matches!(
            jv.kind,
            LinkKind::Veth(Veth {
                peer_netnsid: Some(_),
                ..
            })
        ),
        || format!("{jv:?}"),
    )?;
    Ok(())
}

fn route_formats_of_one_table_agree() -> Result<(), Failed> {
    let ns = TestNetns::new("offr");
    let pod = TestNetns::new("offq");
    build_node(&ns, &pod);
    let read =
        |cmd: &str| parse_routes(&ns.exec(cmd)).map_err(|e| Failed::from(format!("{cmd}: {e:#}")));
    let text = read("ip route")?;
    let json = read("ip -j route")?;
    let details = read("ip -d route")?;
    let oneline = read("ip -o route")?;
    let pretty = read("ip -j -p -d route")?;
    check(text.format == RouteFormat::IpRoute, || "format".into())?;
    check(json.format == RouteFormat::IpRouteJson, || "format".into())?;
    for (name, p) in [
        ("json", &json),
        ("-d", &details),
        ("-o", &oneline),
        ("-j -p -d", &pretty),
    ] {
        check(p.routes == text.routes, || {
            format!(
                "ip route and {name} differ:\n{:?}\n{:?}",
                text.routes, p.routes
            )
        })?;
    }
    let route_n = read("route -n")?;
    let proc = read("cat /proc/net/route")?;
    let netstat = read("netstat -rn")?;
    check(route_n.format == RouteFormat::RouteN, || "format".into())?;
    check(proc.format == RouteFormat::ProcNetRoute, || "format".into())?;
    check(proc.routes == route_n.routes, || {
        format!("{:?}\n{:?}", proc.routes, route_n.routes)
    })?;
    check(netstat.routes.len() == route_n.routes.len(), || {
        "netstat".into()
    })?;
    // route -n keeps what it can show of each main-table IPv4 route, first nexthop only.
    let v4: Vec<&Route> = text
        .routes
        .iter()
        .filter(|r| r.dst.is_ipv4() && r.table == Table::MAIN)
        .collect();
    check(v4.len() == route_n.routes.len(), || {
        format!("{} vs {}", v4.len(), route_n.routes.len())
    })?;
    for (full, seen) in v4.iter().zip(&route_n.routes) {
        let kind = match full.kind {
            RouteType::Prohibit => RouteType::Unreachable,
            k => k,
        };
        let hop = |r: &Route| r.first_hop().map(|h| (h.gateway, h.dev.clone()));
        check(
            full.dst == seen.dst
                && kind == seen.kind
                && full.metric == seen.metric
                && (kind.drops() || hop(full) == hop(seen)),
            || format!("ip route: {full}\nroute -n: {seen}"),
        )?;
        // The Flags column route -n printed is what netpath computes from ip route's route.
        let letters = if full.flags().reject {
            "!".to_string()
        } else {
            full.flags().letters()
        };
        let shown = ns
            .exec("route -n")
            .lines()
            .find(|l| {
                let t: Vec<&str> = l.split_whitespace().collect();
                t.first() == Some(&full.dst.network().to_string().as_str())
                    && t.get(2).map(|m| m.parse::<std::net::Ipv4Addr>().ok())
                        == Some(Some(match full.dst.mask() {
                            std::net::IpAddr::V4(m) => m,
                            _ => std::net::Ipv4Addr::UNSPECIFIED,
                        }))
            })
            .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
            .unwrap_or_default();
        check(letters == shown, || format!("{full}: {letters} vs {shown}"))?;
    }
    Ok(())
}

/// `Route`'s Display prints each route of a real table as `ip route` does, except the fields
/// Route does not keep (IPv6 `pref`).
fn display_prints_what_ip_route_prints() -> Result<(), Failed> {
    let ns = TestNetns::new("offd");
    let pod = TestNetns::new("offe");
    build_node(&ns, &pod);
    for cmd in ["ip route show table all", "ip -6 route show table all"] {
        let out = ns.exec(cmd);
        let kernel: Vec<String> = out
            .lines()
            .map(|l| {
                l.trim_end()
                    .replace(" pref medium", "")
                    .trim_end()
                    .to_string()
            })
            .filter(|l| !l.is_empty())
            .collect();
        let parsed = parse_routes(&out).map_err(|e| format!("{e:#}"))?;
        let ours: Vec<String> = parsed
            .routes
            .iter()
            .flat_map(|r| {
                r.to_string()
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        check(ours == kernel, || {
            format!(
                "{cmd}\nkernel:\n{}\nnetpath:\n{}",
                kernel.join("\n"),
                ours.join("\n")
            )
        })?;
    }
    Ok(())
}
