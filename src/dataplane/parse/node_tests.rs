//! Node-state parser tests: `ip -d link`, `ip addr`, `ip neigh`, `bridge fdb`, `sysctl`,
//! and directories assembled the way users paste them (testdata/snapshot-text: node-a and
//! node-a-json captured from a test netns with iproute2 6.1, node-b and node-c typed).

use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use crate::dataplane::{Link, LinkKind, NodeState, NudState, Scope, Veth};
use crate::snapshot::node_from_dir;

fn dir(name: &str) -> PathBuf {
    PathBuf::from(format!(
        "{}/testdata/snapshot-text/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(dir(path)).unwrap()
}

fn link<'a>(s: &'a NodeState, name: &str) -> &'a Link {
    s.link(name)
        .unwrap_or_else(|| panic!("no link {name} in {:?}", s.links))
}

#[test]
fn ip_d_link_text() {
    let (links, w) = parse_links(&read("node-a/ip_-d_link")).unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(links.len(), 8);
    let lo = &links[0];
    assert_eq!(
        (lo.kind.clone(), lo.mtu, lo.up),
        (LinkKind::Loopback, 65536, true)
    );
    let vx = links.iter().find(|l| l.name == "flannel.1").unwrap();
    let LinkKind::Vxlan(v) = &vx.kind else {
        panic!("{vx:?}")
    };
    assert_eq!((v.vni, v.port, v.learning), (1, 8472, false));
    assert_eq!(v.local, Some("192.168.1.10".parse().unwrap()));
    assert_eq!(v.dev.as_deref(), Some("eth0"));
    assert_eq!(vx.mtu, 1450);
    assert_eq!(vx.oper_state.as_deref(), Some("unknown"));
    let br = links.iter().find(|l| l.name == "cni0").unwrap();
    assert_eq!(br.kind, LinkKind::Bridge);
    // A veth whose peer is in another netns: @if2, and its master.
    let port = links.iter().find(|l| l.name == "veth1a2b3c4d").unwrap();
    assert_eq!(port.master.as_deref(), Some("cni0"));
    assert_eq!(
        port.kind,
        LinkKind::Veth(Veth {
            peer_ifindex: Some(2),
            peer_netnsid: None
        })
    );
    assert_eq!(port.oper_state.as_deref(), Some("down"));
    // A veth pair in the same netns: the peer by name (eth0p@eth0 → eth0's ifindex 3).
    let p = links.iter().find(|l| l.name == "eth0p").unwrap();
    assert_eq!(
        p.kind,
        LinkKind::Veth(Veth {
            peer_ifindex: Some(3),
            peer_netnsid: None
        })
    );
    let cali = links.iter().find(|l| l.name == "cali1a2b3c4d5e6").unwrap();
    assert!(cali.up);
    assert_eq!(cali.oper_state.as_deref(), Some("lowerlayerdown"));
    assert!(cali.mac.is_some());
}

#[test]
fn ip_link_json_matches_text() {
    let (text, _) = parse_links(&read("node-a/ip_-d_link")).unwrap();
    let (json, w) = parse_links(&read("node-a-json/ip-j-d-link.json")).unwrap();
    assert!(w.is_empty(), "{w:?}");
    for l in &json {
        let t = text.iter().find(|x| x.name == l.name).unwrap();
        match (&l.kind, &t.kind) {
            // The text names the peer netns (link-netns NAME) where JSON gives its id.
            (LinkKind::Veth(j), LinkKind::Veth(x)) => {
                assert_eq!(j.peer_ifindex, x.peer_ifindex, "{}", l.name);
            }
            _ => assert_eq!(l.kind, t.kind, "{}", l.name),
        }
        assert_eq!(
            (l.ifindex, l.mtu, l.mac, l.up, &l.master),
            (t.ifindex, t.mtu, t.mac, t.up, &t.master),
            "{}",
            l.name
        );
    }
    let port = json.iter().find(|l| l.name == "veth1a2b3c4d").unwrap();
    assert_eq!(
        port.kind,
        LinkKind::Veth(Veth {
            peer_ifindex: Some(2),
            peer_netnsid: Some(0)
        })
    );
}

#[test]
fn older_and_typed_link_dumps() {
    let (links, w) = parse_links(&read("node-c/ip_-d_link.txt")).unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        links[0].kind,
        LinkKind::Ipip {
            local: None,
            remote: None
        }
    );
    assert_eq!(links[0].mac, None, "link/ipip has no MAC");
    assert_eq!(
        links[2].kind,
        LinkKind::Ipip {
            local: Some("10.0.0.1".parse().unwrap()),
            remote: None
        }
    );
    let LinkKind::Vxlan(v) = &links[3].kind else {
        panic!()
    };
    assert_eq!(
        (v.vni, v.port, v.dev.as_deref()),
        (4096, 4789, Some("ppp0"))
    );
    // Plain `ip link` (no -d): kinds unknown, said once.
    let (links, w) = parse_links(
        "5: calia231fca418b@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1480 qdisc noqueue state UP mode DEFAULT group default\n    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netnsid 0\n",
    )
    .unwrap();
    assert_eq!(links[0].kind, LinkKind::Device);
    assert_eq!(links[0].mac, Some(crate::cni::calico::HOST_VETH_MAC));
    assert_eq!(w.len(), 1, "{w:?}");
    // `ip -o link`.
    let (links, _) = parse_links(
        "6: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default \\    link/ether 2e:1a:4b:7c:9d:01 brd ff:ff:ff:ff:ff:ff promiscuity 0 \\    vxlan id 1 local 10.0.0.1 dev ens3 dstport 8472 nolearning\n",
    )
    .unwrap();
    assert!(matches!(links[0].kind, LinkKind::Vxlan(_)));
    // Veth with link-netnsid.
    let (links, _) = parse_links(
        "5: calia231fca418b@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1480 qdisc noqueue state UP mode DEFAULT group default\n    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netnsid 3 promiscuity 0\n    veth addrgenmode eui64\n",
    )
    .unwrap();
    assert_eq!(
        links[0].kind,
        LinkKind::Veth(Veth {
            peer_ifindex: Some(4),
            peer_netnsid: Some(3)
        })
    );
    let e = parse_links("1: lo: <LOOPBACK> mtu big qdisc noop\n").unwrap_err();
    assert!(format!("{e:#}").contains("line 1"), "{e:#}");
    assert!(parse_links("hello\n").is_err());
}

#[test]
fn addresses() {
    let (text, w) = parse_addrs(&read("node-a/ip-addr.txt")).unwrap();
    assert!(w.is_empty(), "{w:?}");
    let (json, _) = parse_addrs(&read("node-a-json/ip-j-addr.json")).unwrap();
    assert_eq!(text, json);
    let cni = text
        .iter()
        .find(|a| a.dev == "cni0" && a.addr.is_ipv4())
        .unwrap();
    assert_eq!(
        (cni.addr.to_string().as_str(), cni.scope),
        ("10.244.1.1/24", Scope::Universe)
    );
    assert!(
        text.iter()
            .any(|a| a.dev == "lo" && a.addr.to_string() == "::1/128" && a.scope == Scope::Host)
    );
    // Brief and one-line forms, and a point-to-point address.
    let (brief, _) = parse_addrs(
        "lo UNKNOWN 127.0.0.1/8 ::1/128\neth0@if5 UP 10.0.0.2/24 fe80::1/64\nveth1 DOWN\n",
    )
    .unwrap();
    assert_eq!(brief.len(), 4);
    assert_eq!(brief[3].scope, Scope::Link);
    let (one, _) = parse_addrs("2: eth0    inet 10.0.0.2/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever preferred_lft forever\n2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever\n").unwrap();
    assert_eq!(one.len(), 2);
    let (p2p, _) = parse_addrs("9: tun0: <POINTOPOINT,UP> mtu 1400 qdisc noqueue state UNKNOWN\n    link/none\n    inet 10.8.0.1 peer 10.8.0.2/32 scope global tun0\n").unwrap();
    assert_eq!(p2p[0].addr.to_string(), "10.8.0.1/32");
}

#[test]
fn neighbours_and_fdb() {
    let (n, w) = parse_neighbours(&read("node-a/ip-neigh.json")).unwrap();
    assert!(w.is_empty());
    let vtep = n.iter().find(|x| x.dev == "flannel.1").unwrap();
    assert_eq!(vtep.state, NudState::Permanent);
    assert_eq!(vtep.lladdr, Some("66:74:9e:11:22:33".parse().unwrap()));
    assert!(
        n.iter()
            .any(|x| x.state == NudState::Incomplete && x.lladdr.is_none())
    );
    let (text, w) = parse_neighbours(&read("node-c/ip-n.txt")).unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(text.len(), 3);
    assert_eq!(text[0].dev, "flannel.1", "dev from the prompt's filter");
    assert_eq!(text[2].dev, "ens3");
    assert_eq!(text[2].state, NudState::Stale);

    let (f, w) = parse_fdb(&read("node-a/bridge-fdb.txt")).unwrap();
    assert!(w.is_empty(), "{w:?}");
    let (fj, _) = parse_fdb(&read("node-a-json/bridge-j-fdb.json")).unwrap();
    assert_eq!(f, fj);
    let remote = f
        .iter()
        .find(|e| e.mac == "66:74:9e:11:22:33".parse().unwrap())
        .unwrap();
    assert_eq!(remote.dst, Some("192.168.1.12".parse().unwrap()));
    assert!(remote.self_);
    assert_eq!(
        (remote.dev.as_str(), remote.state),
        ("flannel.1", NudState::Permanent)
    );
    assert!(f.iter().any(|e| e.mac.is_zero() && e.dev == "flannel.1"));
    let port = f.iter().find(|e| e.master.is_some()).unwrap();
    assert_eq!(
        (port.dev.as_str(), port.master.as_deref(), port.self_),
        ("veth1a2b3c4d", Some("cni0"), false)
    );
    let (c, _) = parse_fdb(&read("node-c/fdb.txt")).unwrap();
    assert_eq!(c[2].dev, "vxlan.calico");
    let (learned, _) = parse_fdb("0a:58:0a:f4:01:05 dev veth1 master cni0 \n").unwrap();
    assert_eq!(learned[0].state, NudState::Reachable);
}

#[test]
fn sysctls() {
    let (s, w) = parse_sysctls(&read("node-a/sysctl.txt")).unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(s.ip_forward, Some(true));
    assert_eq!(s.rp_filter.get("all"), Some(&2));
    // sysctl prints flannel.1 as flannel/1.
    assert_eq!(s.rp_filter.get("flannel.1"), Some(&1));
    assert_eq!(s.proxy_arp.get("cali1a2b3c4d5e6"), Some(&true));
    assert_eq!(s.ipv6_forwarding, Some(false));
    let (p, _) = parse_sysctls(
        "/proc/sys/net/ipv4/conf/all/rp_filter:1\n/proc/sys/net/ipv4/conf/flannel.1/rp_filter:2\n",
    )
    .unwrap();
    assert_eq!(p.rp_filter.get("flannel.1"), Some(&2));
    let e = parse_sysctls("net.ipv4.ip_forward = yes\n").unwrap_err();
    assert!(format!("{e:#}").contains("line 1"));
}

#[test]
fn node_from_text_directory() {
    let (s, w) = node_from_dir(&dir("node-a")).unwrap();
    assert_eq!(s.node, "node-a");
    assert_eq!(s.links.len(), 8);
    // ip route show table all and ip -6 route overlap: no route twice.
    let mut seen = std::collections::HashSet::new();
    assert!(s.routes.iter().all(|r| seen.insert(r.clone())));
    assert!(
        s.routes
            .iter()
            .any(|r| r.table == crate::dataplane::Table::LOCAL)
    );
    assert_eq!(s.neighbours.len(), 5);
    assert_eq!(s.fdb.len(), 20);
    assert_eq!(s.sysctls.ip_forward, Some(true));
    assert!(s.addrs.iter().any(|a| a.dev == "eth0"));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("notes.txt"), "{w:?}");

    // The same node from JSON files reads the same.
    let (j, w) = node_from_dir(&dir("node-a-json")).unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(j.neighbours, s.neighbours);
    assert_eq!(j.fdb, s.fdb);
    assert_eq!(j.addrs, s.addrs);
    assert_eq!(j.sysctls, s.sysctls);
    for r in &j.routes {
        assert!(s.routes.contains(r), "{r}");
    }
}

#[test]
fn node_with_missing_files() {
    let (s, w) = node_from_dir(&dir("node-b")).unwrap();
    assert_eq!(s.node, "node-b");
    assert_eq!(s.routes.len(), 7);
    // No ip -d link: the devices come from ip addr, kinds unknown.
    assert_eq!(link(&s, "tunl0").mtu, 1480);
    assert_eq!(
        link(&s, "calia231fca418b").mac,
        Some(crate::cni::calico::HOST_VETH_MAC)
    );
    assert_eq!(s.sysctls.rp_filter.get("vxlan.calico"), Some(&0));
    assert_eq!(s.sysctls.ip_forward, Some(true));
    let text = w.join("\n");
    for missing in ["ip -d link", "ip neigh", "bridge fdb"] {
        assert!(text.contains(&format!("missing: no `{missing}`")), "{text}");
    }
    assert!(text.contains("devices read from ip-a"), "{text}");
    assert!(text.contains("sysctl_-a.txt: line 5: skipped"), "{text}");

    let (c, w) = node_from_dir(&dir("node-c")).unwrap();
    assert!(c.routes.is_empty());
    assert_eq!(c.fdb.len(), 3);
    assert!(w.iter().any(|m| m.contains("missing: no `ip route`")));

    let e = node_from_dir(&dir("no-such-node")).unwrap_err();
    assert!(format!("{e:#}").contains("not a directory"));
    let empty = tempfile::tempdir().unwrap();
    let e = node_from_dir(empty.path()).unwrap_err();
    assert!(format!("{e:#}").contains("ip-route.txt"), "{e:#}");
    // A broken file is an error naming the file and the line.
    std::fs::write(
        empty.path().join("ip-route.txt"),
        "10.0.0.0/8 via nowhere dev eth0\n",
    )
    .unwrap();
    let e = format!("{:#}", node_from_dir(empty.path()).unwrap_err());
    assert!(e.contains("ip-route.txt") && e.contains("line 1"), "{e}");
}

#[test]
fn file_names() {
    use SnapshotFile::*;
    let cases = [
        ("ip-route.txt", Some(Routes)),
        ("ip_route", Some(Routes)),
        ("ip-r", Some(Routes)),
        ("IP-ROUTE.JSON", Some(Routes)),
        ("ip-j-route.json", Some(Routes)),
        ("ip_route_show_table_all", Some(Routes)),
        ("ip_-6_route_show_table_all", Some(Routes)),
        ("route-n.txt", Some(Routes)),
        ("netstat-rn", Some(Routes)),
        ("proc-net-route", Some(Routes)),
        ("cat_proc_net_route.out", Some(Routes)),
        ("ip-link.txt", Some(Links)),
        ("ip-d-link", Some(Links)),
        ("ip_-s_-d_link", Some(Links)),
        ("ip-j-d-link.json", Some(Links)),
        ("ip-addr.txt", Some(Addrs)),
        ("ip-a", Some(Addrs)),
        ("ip_-d_address", Some(Addrs)),
        ("ip_-o_addr", Some(Addrs)),
        ("ip-neigh.txt", Some(Neighbours)),
        ("ip-n", Some(Neighbours)),
        ("ip_neigh_show_nud_noarp", Some(Neighbours)),
        ("arp.txt", Some(Neighbours)),
        ("bridge-fdb.txt", Some(Fdb)),
        ("bridge_fdb_show", Some(Fdb)),
        ("fdb.json", Some(Fdb)),
        ("sysctl.txt", Some(Sysctl)),
        ("sysctl_-a", Some(Sysctl)),
        ("routes.txt", Some(Routes)),
        ("ip-6-route.txt", Some(Routes)),
        ("ip-ro", Some(Routes)),
        ("ip-l", Some(Links)),
        ("links.json", Some(Links)),
        ("ip_address", Some(Addrs)),
        ("ip-neighbour", Some(Neighbours)),
        ("sysctls.txt", Some(Sysctl)),
        ("sysctl-a", Some(Sysctl)),
        ("ip_-4_rule", None),
        ("notes.txt", None),
        ("hostname", None),
        ("README.md", None),
    ];
    for (name, want) in cases {
        assert_eq!(SnapshotFile::classify(name), want, "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn node_parsers_never_panic(s in "\\PC{0,200}") {
        let _ = parse_links(&s);
        let _ = parse_addrs(&s);
        let _ = parse_neighbours(&s);
        let _ = parse_fdb(&s);
        let _ = parse_sysctls(&s);
    }

    #[test]
    fn mutated_node_dumps_never_panic(
        which in 0usize..8,
        cut in 0usize..6000,
        pos in 0usize..6000,
        byte in any::<u8>(),
    ) {
        let names = [
            "node-a/ip_-d_link", "node-a-json/ip-j-d-link.json", "node-a/ip-addr.txt",
            "node-a-json/ip-j-addr.json", "node-a/ip-neigh.json", "node-c/ip-n.txt",
            "node-a/bridge-fdb.txt", "node-b/sysctl_-a.txt",
        ];
        let mut bytes = std::fs::read(dir(names[which])).unwrap();
        if !bytes.is_empty() {
            let p = pos % bytes.len();
            bytes[p] = byte;
            bytes.truncate(cut.min(bytes.len()).max(p));
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_links(&text);
        let _ = parse_addrs(&text);
        let _ = parse_neighbours(&text);
        let _ = parse_fdb(&text);
        let _ = parse_sysctls(&text);
    }
}

#[test]
fn sosreport_layout() {
    let sos = tempfile::tempdir().unwrap();
    let net = sos.path().join("sos_commands").join("networking");
    let kernel = sos.path().join("sos_commands").join("kernel");
    std::fs::create_dir_all(&net).unwrap();
    std::fs::create_dir_all(&kernel).unwrap();
    std::fs::write(sos.path().join("hostname"), "worker-7\n").unwrap();
    let copy = |from: &str, to: &std::path::Path| std::fs::copy(dir(from), to).unwrap();
    copy("node-a/ip-route.txt", &net.join("ip_route_show_table_all"));
    copy("node-a/ip_-d_link", &net.join("ip_-s_-d_link"));
    copy("node-a/ip-addr.txt", &net.join("ip_-d_address"));
    copy("node-a/bridge-fdb.txt", &net.join("bridge_fdb_show"));
    copy("node-a/sysctl.txt", &kernel.join("sysctl_-a"));
    // A sosreport holds many other outputs: not warned about below the top level.
    std::fs::write(net.join("ip_-4_rule"), "0: from all lookup local\n").unwrap();
    let (s, w) = node_from_dir(sos.path()).unwrap();
    let (a, _) = node_from_dir(&dir("node-a")).unwrap();
    assert_eq!(s.node, "worker-7");
    assert_eq!(
        (s.links, s.addrs, s.fdb, s.sysctls),
        (a.links, a.addrs, a.fdb, a.sysctls)
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("missing: no `ip neigh`"), "{w:?}");
}

#[test]
fn bridge_port_hairpin_is_read_from_text_and_json() {
    let text = "5: veth1a2b3c4d@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master cni0 state UP mode DEFAULT group default\n    link/ether 3a:1f:00:00:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0 promiscuity 1\n    veth\n    bridge_slave state forwarding priority 32 cost 2 hairpin on guard off root_block off fastleave off learning on flood on\n6: veth5e6f7a8b@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master cni0 state UP mode DEFAULT group default\n    link/ether 3a:1f:00:00:00:04 brd ff:ff:ff:ff:ff:ff link-netnsid 1 promiscuity 1\n    veth\n    bridge_slave state forwarding priority 32 cost 2 hairpin off guard off\n";
    let (links, _) = parse_links(text).unwrap();
    let hp: Vec<Option<bool>> = links.iter().map(|l| l.hairpin).collect();
    assert_eq!(hp, [Some(true), Some(false)]);
    let json = r#"[{"ifindex":5,"ifname":"veth1a2b3c4d","flags":["UP"],"mtu":1450,"master":"cni0","operstate":"UP","address":"3a:1f:00:00:00:02","linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"state":"forwarding","hairpin":false}}},
        {"ifindex":1,"ifname":"lo","flags":["UP"],"mtu":65536,"link_type":"loopback"}]"#;
    let (links, _) = parse_links(json).unwrap();
    assert_eq!(links[0].hairpin, Some(false));
    assert_eq!(links[1].hairpin, None);
}
