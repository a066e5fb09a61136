use super::*;
use crate::model::{Node, Pod, demo};

fn routes(c: &Cluster, n: &str) -> Vec<String> {
    node(c, n)
        .unwrap()
        .state
        .routes
        .iter()
        .map(|r| r.to_string())
        .collect()
}

#[test]
fn calico_names_follow_calico() {
    let pod = Pod {
        namespace: "default".into(),
        name: "nginx".into(),
        node: "n".into(),
        ips: vec![],
        host_network: false,
        mac: None,
    };
    let c = demo::load("calico-bgp").unwrap();
    assert_eq!(crate::cni::host_veth_name(&c, &pod), "calic440f455693");
    let n = Node {
        name: "node1".into(),
        ..c.nodes[0].clone()
    };
    assert_eq!(
        crate::cni::calico::vtep_mac(&n).to_string(),
        "66:f9:37:c3:7e:94"
    );
}

#[test]
fn flannel_vxlan_programs_neigh_fdb_route() {
    let c = demo::load("flannel-vxlan").unwrap();
    let p = node(&c, "node-1").unwrap();
    let r = routes(&c, "node-1");
    assert!(
        r.contains(&"10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink".to_string()),
        "{r:?}"
    );
    assert!(
        r.contains(&"10.244.0.0/24 dev cni0 proto kernel scope link src 10.244.0.1".to_string()),
        "{r:?}"
    );
    let n = &p.state.neighbours[0];
    assert_eq!(
        (n.dst.to_string(), n.dev.as_str()),
        ("10.244.1.0".into(), "flannel.1")
    );
    assert_eq!(n.lladdr.unwrap().to_string(), "4e:5a:1c:0b:7f:12");
    let f = &p.state.fdb[0];
    assert_eq!(f.dst, Some("10.234.2.12".parse().unwrap()));
    let dev = p.state.link("flannel.1").unwrap();
    assert_eq!(dev.mtu, 1450);
    let LinkKind::Vxlan(v) = &dev.kind else {
        panic!()
    };
    assert_eq!((v.vni, v.port, v.learning), (1, 8472, false));
    let pod = &p.pods[0];
    let pr: Vec<String> = pod.state.routes.iter().map(|r| r.to_string()).collect();
    assert_eq!(pr[0], "default via 10.244.0.1 dev eth0");
    assert_eq!(pr[1], "10.244.0.0/16 via 10.244.0.1 dev eth0");
}

#[test]
fn directrouting_and_crosssubnet_use_the_local_subnet() {
    let c = demo::load("flannel-directrouting").unwrap();
    let r = routes(&c, "node-1");
    assert!(
        r.contains(&"10.244.1.0/24 via 192.168.1.12 dev eth0".to_string()),
        "{r:?}"
    );
    assert!(
        r.contains(&"10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink".to_string()),
        "{r:?}"
    );
    let c = demo::load("calico-vxlan-crosssubnet").unwrap();
    let r = routes(&c, "node-1");
    assert!(
        r.contains(&"10.65.1.0/26 via 192.168.1.12 dev eth0 proto 80 onlink".to_string()),
        "{r:?}"
    );
    assert!(
        r.contains(&"10.65.2.0/26 via 10.65.2.0 dev vxlan.calico onlink".to_string()),
        "{r:?}"
    );
    assert!(
        r.contains(&"blackhole 10.65.0.0/26 proto 80".to_string()),
        "{r:?}"
    );
}

#[test]
fn calico_ipip_and_bgp_routes() {
    let c = demo::load("calico-ipip").unwrap();
    let r = routes(&c, "node-1");
    assert!(
        r.contains(&"10.65.2.0/26 via 192.168.2.11 dev tunl0 proto bird onlink".to_string()),
        "{r:?}"
    );
    assert!(
        r.contains(&"blackhole 10.65.0.0/26 proto bird".to_string()),
        "{r:?}"
    );
    assert!(
        r.iter()
            .any(|x| x.starts_with("10.65.0.2 dev cali") && x.ends_with("scope link")),
        "{r:?}"
    );
    let c = demo::load("calico-bgp-routed").unwrap();
    let r = routes(&c, "node-1");
    assert!(
        r.contains(&"10.65.1.0/26 via 192.168.1.12 dev eth0 proto bird".to_string()),
        "{r:?}"
    );
    assert!(
        r.contains(&"10.65.2.0/26 via 192.168.1.1 dev eth0 proto bird".to_string()),
        "recursive via the gateway: {r:?}"
    );
    let c = demo::load("calico-bgp-routers").unwrap();
    let rs = router_state(&c, 0);
    let r: Vec<String> = rs.routes.iter().map(|r| r.to_string()).collect();
    assert!(
        r.contains(&"10.65.2.0/26 via 192.168.2.11 dev eth1 proto bird".to_string()),
        "{r:?}"
    );
}

/// An IPIP pool and a VXLAN pool: each node has two tunnel addresses, tunl0 takes the
/// IPIP one, vxlan.calico the VXLAN one, and VXLAN routes and neighbours use the
/// remote's VXLAN address while IPIP routes go via the remote node (traced in
/// tests/trace.rs).
#[test]
fn ipip_and_vxlan_pools_use_their_own_tunnel_addresses() {
    let text = r#"
mode: {cni: calico, pools: [{name: ipip, cidr: 10.65.0.0/17, ipipMode: Always}, {name: vx, cidr: 10.65.128.0/17, vxlanMode: Always}]}
underlay:
  subnets: [{cidr: 192.168.1.0/24, gateway: 192.168.1.1}, {cidr: 192.168.2.0/24, gateway: 192.168.2.1}]
  routers: [{name: r, interfaces: [192.168.1.1, 192.168.2.1]}]
nodes:
  - {name: n1, ip: 192.168.1.11, blocks: [10.65.0.0/26, 10.65.128.0/26]}
  - {name: n2, ip: 192.168.2.11, blocks: [10.65.1.0/26, 10.65.129.0/26], ipipTunnelIP: 10.65.1.1, vxlanTunnelIP: 10.65.129.7}
pods:
  - default/a n1 10.65.0.5
  - default/b n2 10.65.1.5
  - default/c n2 10.65.129.5
"#;
    let c = crate::model::file::parse(text, "mixed.yaml").unwrap();
    assert_eq!(
        c.nodes[0].ipip_tunnel_ip,
        Some("10.65.0.0".parse().unwrap())
    );
    assert_eq!(
        c.nodes[0].vxlan_tunnel_ip,
        Some("10.65.128.0".parse().unwrap())
    );
    let p = node(&c, "n1").unwrap();
    let addr = |dev: &str| {
        p.state
            .addrs
            .iter()
            .find(|a| a.dev == dev)
            .map(|a| a.addr.to_string())
    };
    assert_eq!(addr("tunl0").as_deref(), Some("10.65.0.0/32"));
    assert_eq!(addr("vxlan.calico").as_deref(), Some("10.65.128.0/32"));
    let r = routes(&c, "n1");
    assert!(
        r.contains(&"10.65.1.0/26 via 192.168.2.11 dev tunl0 proto bird onlink".to_string()),
        "{r:?}"
    );
    assert!(
        r.contains(&"10.65.129.0/26 via 10.65.129.7 dev vxlan.calico onlink".to_string()),
        "{r:?}"
    );
    let n = &p.state.neighbours;
    assert!(
        n.iter()
            .any(|n| n.dst.to_string() == "10.65.129.7" && n.dev == "vxlan.calico"),
        "{n:?}"
    );
    assert!(!n.iter().any(|n| n.dst.to_string() == "10.65.1.1"), "{n:?}");
}

#[test]
fn host_gw_across_a_router_is_warned() {
    let c = demo::load("flannel-host-gw-routed").unwrap();
    let p = node(&c, "node-1").unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("Network is unreachable")),
        "{:?}",
        p.warnings
    );
    assert!(node(&c, "nope").is_err());
}
