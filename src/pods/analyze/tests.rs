//! `analyze` over gathered snapshots built by hand.

use std::path::PathBuf;

use super::*;
use crate::cni::calico;
use crate::dataplane::{Addr, Nexthop, Route, Scope, Veth};
use crate::pods::cni::{self, CacheFile};
use crate::pods::kube::KubePod;
use crate::pods::report::{CacheState, FindingKind, IdentitySource, RouteVia, short_id};
use crate::pods::{NetnsRef, NetnsView, PodNetns};

fn link(ifindex: u32, name: &str, kind: LinkKind, master: Option<&str>) -> Link {
    Link {
        ifindex,
        name: name.into(),
        kind,
        mtu: 1500,
        mac: None,
        up: true,
        oper_state: Some("up".into()),
        master: master.map(str::to_string),
        hairpin: None,
    }
}

fn veth(ifindex: u32, name: &str, peer: u32, nsid: Option<i32>, master: Option<&str>) -> Link {
    let kind = LinkKind::Veth(Veth {
        peer_ifindex: Some(peer),
        peer_netnsid: nsid,
    });
    link(ifindex, name, kind, master)
}

fn addr(dev: &str, a: &str) -> Addr {
    Addr {
        dev: dev.into(),
        addr: a.parse().unwrap(),
        scope: Scope::Universe,
    }
}

fn dev_route(dst: &str, dev: &str) -> Route {
    Route::unicast(dst.parse().unwrap(), Nexthop::dev(dev))
}

/// A pod netns holding `eth0` (ifindex 2, peer `host_if`) with `ip`.
fn pod(inode: u64, nsid: i32, name: &str, host_if: u32, ip: &str) -> PodNetns {
    let eth0 = veth(2, "eth0", host_if, Some(0), None);
    PodNetns {
        inode: Some(inode),
        names: vec![name.into()],
        paths: vec![PathBuf::from("/run/netns").join(name)],
        nsid: Some(nsid),
        nsid_error: None,
        view: Some(Ok(NetnsView {
            links: vec![eth0],
            addrs: vec![addr("eth0", ip)],
            routes: vec![Route::unicast(
                "0.0.0.0/0".parse().unwrap(),
                Nexthop::via("169.254.1.1".parse().unwrap(), "eth0"),
            )],
        })),
    }
}

fn cache(path: &str, json: &str, r: NetnsRef) -> (CacheFile, NetnsRef) {
    (
        CacheFile {
            path: path.into(),
            entry: cni::parse(json),
        },
        r,
    )
}

fn entry(cid: &str, ns: &str, pod: &str, netns: &str, host: &str, ip: &str) -> String {
    format!(
        r#"{{"kind":"cniCacheV1","containerId":"{cid}","ifName":"eth0","networkName":"k8s-pod-network","netns":"{netns}","cniArgs":[["K8S_POD_NAMESPACE","{ns}"],["K8S_POD_NAME","{pod}"]],"result":{{"interfaces":[{{"name":"{host}"}}],"ips":[{{"address":"{ip}"}}]}}}}"#
    )
}

fn node_snapshot() -> Snapshot {
    let cali = calico::veth_name("cali", "default", "nginx");
    let links = vec![
        link(1, "lo", LinkKind::Loopback, None),
        link(3, "cni0", LinkKind::Bridge, None),
        veth(10, &cali, 2, Some(0), None),
        veth(11, "veth1a2b3c4d", 2, Some(1), Some("cni0")),
        veth(12, "veth0leaked0", 5, Some(7), None),
        veth(13, "cali00000000000", 2, Some(2), None),
        veth(14, "vethdup1", 2, Some(3), Some("cni0")),
        veth(15, "vethdup2", 2, Some(4), Some("cni0")),
        veth(16, "vethpairA", 17, None, None),
    ];
    Snapshot {
        node: "node".into(),
        node_view: NetnsView {
            links,
            addrs: vec![addr("cni0", "10.244.1.1/24")],
            routes: vec![
                dev_route("10.65.0.2/32", &cali),
                dev_route("10.244.1.0/24", "cni0"),
                dev_route("10.65.0.77/32", "cali1234567890a"),
            ],
        },
        namespaces: vec![
            pod(100, 0, "cni-calico", 10, "10.65.0.2/32"),
            pod(101, 1, "cni-flannel", 11, "10.244.1.5/24"),
            pod(102, 2, "cni-noroute", 13, "10.65.0.3/32"),
            pod(103, 3, "cni-dup1", 14, "10.244.1.9/24"),
            pod(104, 4, "cni-dup2", 15, "10.244.1.9/24"),
        ],
        discovery_complete: true,
        cache_dir: Some("/var/lib/cni/results".into()),
        cache: vec![
            cache(
                "/c/k8s-pod-network-aaa-eth0",
                &entry(
                    "aaa",
                    "default",
                    "nginx",
                    "/var/run/netns/cni-calico",
                    &cali,
                    "10.65.0.2/32",
                ),
                NetnsRef::Found(100),
            ),
            cache(
                "/c/k8s-pod-network-bbb-eth0",
                &entry(
                    "bbb",
                    "default",
                    "gone",
                    "/var/run/netns/cni-gone",
                    "calideadbeef000",
                    "10.65.0.50/32",
                ),
                NetnsRef::Gone("netns /var/run/netns/cni-gone is gone".into()),
            ),
            cache(
                "/c/truncated",
                r#"{"kind":"cniCacheV1","contai"#,
                NetnsRef::Unset,
            ),
            cache(
                "/c/k8s-pod-network-ccc-eth0",
                &entry(
                    "ccc",
                    "shop",
                    "api",
                    "/var/run/netns/cni-noroute",
                    "cali00000000000",
                    "10.65.0.3/32",
                ),
                NetnsRef::Found(102),
            ),
        ],
        kube: vec![KubePod {
            namespace: "shop".into(),
            name: "web-0".into(),
            uid: None,
            node: None,
            host_network: false,
            ips: vec!["10.244.1.5".parse().unwrap()],
        }],
        calico_prefix: "cali".into(),
        unread: Vec::new(),
    }
}

fn kinds(r: &Report) -> Vec<(FindingKind, String)> {
    r.findings
        .iter()
        .map(|f| (f.kind, f.object.clone()))
        .collect()
}

#[test]
fn pairs_identifies_and_checks() {
    let r = analyze(&node_snapshot());
    let row = |name: &str| r.veths.iter().find(|v| v.name == name).unwrap();

    let c = row(&calico::veth_name("cali", "default", "nginx"));
    assert_eq!(c.status, VethStatus::Pod);
    assert_eq!(c.netns.as_ref().unwrap().names, vec!["cni-calico"]);
    assert_eq!(c.pod_side.as_ref().unwrap().name, "eth0");
    assert_eq!(
        c.pod_side.as_ref().unwrap().default_route.as_deref(),
        Some("default via 169.254.1.1 dev eth0")
    );
    let who = c.pod.as_ref().unwrap();
    assert_eq!(
        (who.label(), who.source),
        ("default/nginx".into(), IdentitySource::CniCache)
    );
    assert!(c.calico_name.as_ref().unwrap().agrees);
    assert_eq!(c.host_routes[0].via, RouteVia::Veth);

    let f = row("veth1a2b3c4d");
    assert_eq!(f.host_routes[0].via, RouteVia::Bridge);
    let who = f.pod.as_ref().unwrap();
    assert_eq!(
        (who.label(), who.source),
        ("shop/web-0".into(), IdentitySource::PodsFile)
    );
    assert_eq!(f.calico_name, None, "not a cali veth");

    assert_eq!(row("veth0leaked0").status, VethStatus::Leaked);
    assert_eq!(row("vethpairA").status, VethStatus::Local);

    let bad = row("cali00000000000");
    assert_eq!(bad.host_routes[0].via, RouteVia::None);
    assert!(!bad.calico_name.as_ref().unwrap().agrees);

    let k = kinds(&r);
    let has = |kind: FindingKind, obj: &str| k.iter().any(|(x, o)| *x == kind && o.contains(obj));
    assert!(has(FindingKind::LeakedVeth, "veth0leaked0"), "{k:?}");
    assert!(
        has(FindingKind::StaleCniCache, "k8s-pod-network-bbb-eth0"),
        "{k:?}"
    );
    assert!(has(FindingKind::CorruptCniCache, "/c/truncated"), "{k:?}");
    assert!(
        has(FindingKind::NoHostRoute, "10.65.0.3 (shop/api)"),
        "{k:?}"
    );
    assert!(
        has(FindingKind::MissingCaliDevice, "cali1234567890a"),
        "{k:?}"
    );
    assert!(has(FindingKind::DuplicatePodIp, "10.244.1.9"), "{k:?}");
    assert!(
        has(FindingKind::CalicoNameMismatch, "cali00000000000"),
        "{k:?}"
    );
    assert_eq!(k.len(), 7, "{k:?}");
    assert!(r.has_findings());

    let states: Vec<CacheState> = r.cni_cache.iter().map(|c| c.state).collect();
    assert_eq!(
        states,
        vec![
            CacheState::Live,
            CacheState::Stale,
            CacheState::Corrupt,
            CacheState::Live
        ]
    );
    assert_eq!(r.cni_cache[0].veth.as_deref(), Some(c.name.as_str()));
}

#[test]
fn incomplete_scan_says_unknown_not_leaked() {
    let mut s = node_snapshot();
    s.discovery_complete = false;
    let r = analyze(&s);
    let leaked = r.veths.iter().find(|v| v.name == "veth0leaked0").unwrap();
    assert_eq!(leaked.status, VethStatus::Unknown);
    assert!(!r.findings.iter().any(|f| f.kind == FindingKind::LeakedVeth));
    assert!(r.unread.iter().any(|u| u.what == "veth peers"));
}

#[test]
fn unreadable_pods_still_show_and_use_cache_addresses() {
    let mut s = node_snapshot();
    for n in &mut s.namespaces {
        n.view = Some(Err(
            "cannot enter the netns: permission denied; run as root".into(),
        ));
    }
    let r = analyze(&s);
    let c = &r.veths[0];
    assert_eq!(c.status, VethStatus::Pod);
    assert!(c.pod_side.is_none());
    assert_eq!(c.pod.as_ref().unwrap().label(), "default/nginx");
    assert_eq!(c.host_routes[0].ip.to_string(), "10.65.0.2");
    let note = r
        .unread
        .iter()
        .find(|u| u.reason.contains("permission denied"))
        .unwrap();
    assert!(note.what.contains("and 2 more"), "{note:?}");
}

#[test]
fn down_host_end_and_mtu() {
    let mut s = node_snapshot();
    s.node_view.links.push(Link {
        mtu: 1450,
        ..link(
            4,
            "flannel.1",
            LinkKind::Other {
                name: "vxlan".into(),
            },
            None,
        )
    });
    s.node_view.links[2].up = false;
    let r = analyze(&s);
    let k = kinds(&r);
    assert!(
        k.iter().any(|(x, _)| *x == FindingKind::HostVethDown),
        "{k:?}"
    );
    let mtu = r.veths[0].mtu_check.as_ref().unwrap();
    assert_eq!((mtu.mtu, mtu.limit, mtu.fits), (1500, 1450, false));
    assert_eq!(mtu.limit_from, "flannel.1");
    assert!(k.iter().any(|(x, _)| *x == FindingKind::MtuTooLarge));
}

#[test]
fn odd_container_ids_do_not_panic() {
    assert_eq!(short_id("ééééééééééééééé"), "éééééééééééé");
    assert_eq!(short_id("abc"), "abc");
}

#[test]
fn clean_node_has_no_findings() {
    let mut s = node_snapshot();
    s.node_view
        .links
        .retain(|l| !["veth0leaked0", "cali00000000000", "vethdup2"].contains(&l.name.as_str()));
    s.node_view
        .routes
        .retain(|r| r.dev() != Some("cali1234567890a"));
    s.cache.truncate(1);
    let r = analyze(&s);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert!(!r.has_findings());
}
