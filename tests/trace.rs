//! `netpath trace` on every demo cluster, checked hop by hop against what the reference
//! (cni-semantics.md §3–13) says each mode programs; the broken setups must be found broken
//! for the right reason.

use std::process::Command;

use serde_json::Value;

fn netpath() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netpath"))
}

/// Run `netpath --json trace --cluster demo:CLUSTER ARGS…`, returning exit code and document.
fn trace(cluster: &str, args: &[&str]) -> (i32, Value) {
    let out = netpath()
        .args(["--json", "trace", "--cluster", &format!("demo:{cluster}")])
        .args(args)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

/// `host action detail` lines of a path, for compact assertions.
fn steps(path: &Value) -> Vec<String> {
    path["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let a = &h["action"];
            let detail = match a["kind"].as_str().unwrap() {
                "route" => route_text(&h["route"]),
                "resolve" => format!(
                    "{} {}",
                    a["addr"].as_str().unwrap(),
                    a["how"]["by"].as_str().unwrap()
                ),
                "fdb" => format!(
                    "{} dst {}",
                    a["mac"].as_str().unwrap(),
                    a["dst"].as_str().unwrap()
                ),
                "encap" | "decap" => {
                    let e = &h["encap"];
                    format!(
                        "{} {}→{} size {}{}",
                        e["type"].as_str().unwrap(),
                        e["outer_src"].as_str().unwrap(),
                        e["outer_dst"].as_str().unwrap(),
                        e["size"],
                        e.get("vni")
                            .map(|v| format!(" vni {v} port {}", e["port"]))
                            .unwrap_or_default()
                    )
                }
                "transmit" => format!(
                    "→ {} {}",
                    a["to_host"].as_str().unwrap(),
                    a["to_device"].as_str().unwrap()
                ),
                "bridge" => format!("port {}", a["port"].as_str().unwrap().get(..4).unwrap()),
                _ => h["device"].as_str().unwrap_or("-").to_string(),
            };
            format!(
                "{} {} {}",
                h["host"].as_str().unwrap(),
                a["kind"].as_str().unwrap(),
                detail
            )
        })
        .collect()
}

/// Routes as `ip route` prints them (the JSON carries the structured route).
fn route_text(r: &Value) -> String {
    let mut s = String::new();
    if r["type"] != "unicast" {
        s.push_str(r["type"].as_str().unwrap());
        s.push(' ');
    }
    s.push_str(r["dst"].as_str().unwrap());
    if let Some(h) = r["nexthops"].as_array().and_then(|n| n.first()) {
        if let Some(g) = h["gateway"].as_str() {
            s.push_str(&format!(" via {g}"));
        }
        if let Some(d) = h["dev"].as_str() {
            s.push_str(&format!(" dev {d}"));
        }
        if h["flags"]["onlink"] == true {
            s.push_str(" onlink");
        }
    }
    s.push_str(&format!(" proto {}", r["proto"]));
    s
}

fn assert_steps(path: &Value, want: &[&str]) {
    let got = steps(path);
    let mut at = 0;
    for w in want {
        match got[at..].iter().position(|g| g == w) {
            Some(i) => at += i + 1,
            None => panic!("step {w:?} not found in order in:\n{}", got.join("\n")),
        }
    }
}

fn verdict(path: &Value) -> (&str, &str, &str) {
    let v = &path["verdict"];
    (
        v["verdict"].as_str().unwrap(),
        v["host"].as_str().unwrap(),
        v["reason"]["code"].as_str().unwrap_or(""),
    )
}

#[test]
fn flannel_vxlan_hop_by_hop() {
    let (code, doc) = trace("flannel-vxlan", &["default/web-0", "default/db-0"]);
    assert_eq!(code, 0);
    assert_eq!(doc["schema"], "netpath.trace/v1");
    let req = &doc["request"];
    assert_steps(
        req,
        &[
            "default/web-0 route 10.244.0.0/16 via 10.244.0.1 dev eth0 proto 3",
            "default/web-0 resolve 10.244.0.1 arp",
            "default/web-0 transmit → node-1 veth24d07f86",
            "node-1 route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink proto 3",
            "node-1 resolve 10.244.2.0 neighbour",
            "node-1 fdb 4e:5a:1c:0b:7f:13 dst 10.234.2.13",
            "node-1 encap vxlan 10.234.2.11→10.234.2.13 size 114 vni 1 port 8472",
            "node-1 route 10.234.2.0/24 dev eth0 proto 2",
            "node-1 transmit → node-3 eth0",
            "node-3 decap vxlan 10.234.2.11→10.234.2.13 size 114 vni 1 port 8472",
            "node-3 route 10.244.2.0/24 dev cni0 proto 2",
            "node-3 bridge port veth",
            "default/db-0 deliver eth0",
        ],
    );
    assert_eq!(verdict(req), ("delivered", "default/db-0", ""));
    let last = req["hops"].as_array().unwrap().last().unwrap();
    assert_eq!(last["ttl"], 62, "decremented once by each node");
    assert_eq!(doc["symmetric"], true);
    assert_eq!(verdict(&doc["reply"]), ("delivered", "default/web-0", ""));
}

#[test]
fn flannel_host_gw_needs_l2() {
    let (code, doc) = trace("flannel-host-gw", &["web-0", "db-0"]);
    assert_eq!(code, 0);
    assert_steps(
        &doc["request"],
        &[
            "node-1 route 10.244.1.0/24 via 10.168.0.3 dev eth0 proto 3",
            "node-1 resolve 10.168.0.3 arp",
            "node-1 transmit → node-2 eth0",
            "node-2 route 10.244.1.0/24 dev cni0 proto 2",
            "default/db-0 deliver eth0",
        ],
    );
    assert!(!steps(&doc["request"]).iter().any(|s| s.contains("encap")));

    // The kernel refuses `10.244.2.0/24 via 192.168.2.11 dev eth0` (not on-link), so
    // node-1's lookup falls through to its default route: the router, which has no route
    // to the pod network. The refusal is the root cause.
    let (code, doc) = trace("flannel-host-gw-routed", &["web-0", "db-0"]);
    assert_eq!(code, 1, "a dropped direction exits 1");
    assert_steps(
        &doc["request"],
        &[
            "node-1 refused eth0",
            "node-1 route 0.0.0.0/0 via 192.168.1.1 dev eth0 proto 3",
            "node-1 transmit → router eth0",
            "router drop -",
        ],
    );
    let refused = doc["request"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"]["kind"] == "refused")
        .unwrap();
    assert_eq!(refused["action"]["gateway"], "192.168.2.11");
    assert_eq!(refused["route"]["dst"], "10.244.2.0/24");
    assert_eq!(verdict(&doc["request"]), ("dropped", "router", "no-route"));
    let after = &doc["request"]["verdict"]["after"];
    assert_eq!(
        (after["host"].as_str(), after["gateway"].as_str()),
        (Some("node-1"), Some("192.168.2.11"))
    );
    assert_eq!(verdict(&doc["reply"]), ("dropped", "router", "no-route"));
    assert_eq!(doc["reply"]["verdict"]["after"]["host"], "node-3");
    let (code, _) = trace("flannel-host-gw-routed", &["web-0", "cache-0"]);
    assert_eq!(code, 0, "same-subnet nodes still work");
}

#[test]
fn flannel_directrouting_mixes_plain_and_vxlan() {
    let (code, doc) = trace("flannel-directrouting", &["web-0", "cache-0"]);
    assert_eq!(code, 0);
    assert_steps(
        &doc["request"],
        &[
            "node-1 route 10.244.1.0/24 via 192.168.1.12 dev eth0 proto 3",
            "node-1 transmit → node-2 eth0",
        ],
    );
    assert!(!steps(&doc["request"]).iter().any(|s| s.contains("encap")));
    let (code, doc) = trace("flannel-directrouting", &["web-0", "db-0"]);
    assert_eq!(code, 0);
    assert_steps(
        &doc["request"],
        &[
            "node-1 route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink proto 3",
            "node-1 encap vxlan 192.168.1.11→192.168.2.11 size 114 vni 1 port 8472",
            "node-1 route 0.0.0.0/0 via 192.168.1.1 dev eth0 proto 3",
            "router transmit → node-3 eth0",
            "node-3 decap vxlan 192.168.1.11→192.168.2.11 size 114 vni 1 port 8472",
        ],
    );
}

#[test]
fn calico_bgp_and_proxy_arp() {
    let (code, doc) = trace("calico-bgp", &["web-0", "db-0"]);
    assert_eq!(code, 0);
    assert_steps(
        &doc["request"],
        &[
            "default/web-0 route 0.0.0.0/0 via 169.254.1.1 dev eth0 proto 3",
            "default/web-0 resolve 169.254.1.1 proxy-arp",
            "node-1 route 10.65.1.0/26 via 192.168.1.12 dev eth0 proto 12",
            "node-1 transmit → node-2 eth0",
            "node-2 route 10.65.1.3/32 dev cali",
        ]
        .map(|s| {
            if s.ends_with("cali") {
                "node-2 resolve 10.65.1.3 neighbour"
            } else {
                s
            }
        }),
    );
    assert_eq!(verdict(&doc["request"]), ("delivered", "default/db-0", ""));
}

#[test]
fn calico_ipip_across_a_router() {
    let (code, doc) = trace("calico-ipip", &["web-0", "db-0"]);
    assert_eq!(code, 0);
    assert_steps(
        &doc["request"],
        &[
            "node-1 route 10.65.2.0/26 via 192.168.2.11 dev tunl0 onlink proto 12",
            "node-1 encap ipip 192.168.1.11→192.168.2.11 size 84",
            "node-1 route 0.0.0.0/0 via 192.168.1.1 dev eth0 proto 3",
            "node-1 transmit → router eth0",
            "router route 192.168.2.0/24 dev eth1 proto 2",
            "router transmit → node-3 eth0",
            "node-3 decap ipip 192.168.1.11→192.168.2.11 size 84",
            "node-3 resolve 10.65.2.7 neighbour",
            "default/db-0 deliver eth0",
        ],
    );
    assert_eq!(doc["symmetric"], true);
}

#[test]
fn calico_bgp_across_routers() {
    let (code, doc) = trace("calico-bgp-routers", &["web-0", "db-0"]);
    assert_eq!(code, 0);
    assert_steps(
        &doc["request"],
        &[
            "node-1 route 10.65.2.0/26 via 192.168.1.1 dev eth0 proto 12",
            "tor route 10.65.2.0/26 via 192.168.2.11 dev eth1 proto 12",
            "tor transmit → node-3 eth0",
            "default/db-0 deliver eth0",
        ],
    );
    let (code, doc) = trace("calico-bgp-routed", &["web-0", "db-0"]);
    assert_eq!(code, 1);
    assert_eq!(verdict(&doc["request"]), ("dropped", "router", "no-route"));
    assert_eq!(verdict(&doc["reply"]), ("dropped", "router", "no-route"));
}

#[test]
fn calico_vxlan_crosssubnet() {
    let (code, doc) = trace("calico-vxlan-crosssubnet", &["web-0", "cache-0"]);
    assert_eq!(code, 0);
    assert_steps(
        &doc["request"],
        &[
            "node-1 route 10.65.1.0/26 via 192.168.1.12 dev eth0 onlink proto 80",
            "node-1 transmit → node-2 eth0",
        ],
    );
    let (code, doc) = trace("calico-vxlan-crosssubnet", &["web-0", "db-0"]);
    assert_eq!(code, 0);
    assert_steps(
        &doc["request"],
        &[
            "node-1 route 10.65.2.0/26 via 10.65.2.0 dev vxlan.calico onlink proto 3",
            "node-1 resolve 10.65.2.0 neighbour",
            "node-1 fdb 66:87:de:de:c9:2e dst 192.168.2.11",
            "node-1 encap vxlan 192.168.1.11→192.168.2.11 size 114 vni 4096 port 4789",
            "node-3 decap vxlan 192.168.1.11→192.168.2.11 size 114 vni 4096 port 4789",
        ],
    );
}

#[test]
fn size_ttl_outside_and_endpoints() {
    let (code, doc) = trace("flannel-vxlan", &["web-0", "web-1", "--size", "1460"]);
    assert_eq!(code, 1);
    assert_eq!(
        verdict(&doc["request"]),
        ("dropped", "default/web-0", "too-big")
    );
    assert_eq!(doc["request"]["verdict"]["reason"]["mtu"], 1450);
    let (code, _) = trace("flannel-vxlan", &["web-0", "web-1", "--size", "1450"]);
    assert_eq!(code, 0);

    // An outside destination: node-1 masquerades the request, the reply comes back through
    // the same gateway to node-1's address and conntrack restores the pod's.
    let (code, doc) = trace("flannel-vxlan", &["default/web-0", "8.8.8.8"]);
    assert_eq!(code, 0);
    assert_eq!(doc["request"]["verdict"]["verdict"], "exited");
    assert_steps(
        &doc["request"],
        &[
            "node-1 route 0.0.0.0/0 via 10.234.2.1 dev eth0 proto 3",
            "node-1 masquerade eth0",
            "node-1 exit eth0",
        ],
    );
    let m = &doc["request"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"]["kind"] == "masquerade")
        .unwrap()["action"];
    assert_eq!(
        (m["from"].as_str(), m["to"].as_str()),
        (Some("10.244.0.2"), Some("10.234.2.11"))
    );
    assert_eq!(doc["reply"]["packet"]["dst"], "10.234.2.11");
    assert_steps(
        &doc["reply"],
        &[
            "node-1 enter eth0",
            "node-1 receive eth0",
            "node-1 unmasquerade eth0",
            "node-1 route 10.244.0.0/24 dev cni0 proto 2",
            "default/web-0 deliver eth0",
        ],
    );
    assert_eq!(verdict(&doc["reply"]), ("delivered", "default/web-0", ""));
    assert_eq!(doc["symmetric"], true);

    // A node as source: the kernel picks flannel.1's address, and the reply comes back to it.
    let (code, doc) = trace("flannel-vxlan", &["node-1", "10.244.2.2"]);
    assert_eq!(code, 0);
    assert_eq!(doc["request"]["packet"]["src"], "10.244.0.0");
    assert_eq!(verdict(&doc["reply"]), ("delivered", "node-1", ""));

    // hostNetwork pods are their node.
    let (code, doc) = trace("flannel-host-gw", &["kube-system/kube-proxy-n1", "db-0"]);
    assert_eq!(code, 0);
    assert!(doc["notes"][0].as_str().unwrap().contains("hostNetwork"));

    let out = netpath()
        .args(["trace", "-c", "demo:flannel-vxlan", "nope", "db-0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pod, node or router named \"nope\""));
    let out = netpath()
        .args(["trace", "-c", "demo:flannel-vxlan", "9.9.9.9", "db-0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // IPv6 is not planned: said plainly, not traced as an unroutable IPv4 packet.
    let out = netpath()
        .args(["trace", "-c", "demo:flannel-vxlan", "db-0", "fd00::5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("fd00::5 is IPv6: netpath plans and traces the IPv4 pod network only"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Calico BGP across a router that takes the way out; the pool's natOutgoing decides
/// whether the reply from an outside address finds the pod.
fn outside_cluster(nat_outgoing: bool) -> String {
    let text = format!(
        "mode: {{cni: calico, encapsulation: none, pools: [{{name: p, cidr: 10.65.0.0/16, natOutgoing: {nat_outgoing}}}]}}
underlay:
  subnets:
    - {{cidr: 192.168.1.0/24, gateway: 192.168.1.1}}
    - {{cidr: 192.168.2.0/24, gateway: 192.168.2.1}}
    - {{cidr: 10.0.0.0/24, gateway: 10.0.0.1}}
  routers:
    - {{name: r, interfaces: [192.168.1.1, 192.168.2.1, 10.0.0.2], routes: [\"0.0.0.0/0 via 10.0.0.1\"]}}
nodes:
  - {{name: n1, ip: 192.168.1.11}}
  - {{name: n2, ip: 192.168.2.11}}
pods:
  - default/a n2
"
    );
    let path = std::env::temp_dir().join(format!(
        "netpath-outside-{}-{nat_outgoing}.yaml",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn reply_from_outside_follows_masquerade() {
    let run = |file: &str| {
        let out = netpath()
            .args(["--json", "trace", "-c", file, "default/a", "1.1.1.1"])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap_or(-1), doc)
    };
    let file = outside_cluster(true);
    let (code, doc) = run(&file);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(verdict(&doc["request"]), ("exited", "r", ""));
    assert_eq!(doc["reply"]["packet"]["dst"], "192.168.2.11");
    assert_steps(
        &doc["reply"],
        &[
            "r enter eth2",
            "r route 192.168.2.0/24 dev eth1 proto 2",
            "n2 unmasquerade eth0",
            "default/a deliver eth0",
        ],
    );
    assert_eq!(doc["symmetric"], true);
    let _ = std::fs::remove_file(&file);

    // Without SNAT the reply is addressed to the pod, which the router only knows through
    // its default route: it leaves again, and the trace says so (exit 1).
    let file = outside_cluster(false);
    let (code, doc) = run(&file);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(verdict(&doc["request"]), ("exited", "r", ""));
    assert_eq!(
        doc["reply"]["packet"]["dst"],
        doc["request"]["packet"]["src"]
    );
    assert_eq!(verdict(&doc["reply"]), ("dropped", "r", "misrouted"));
    assert!(
        doc["notes"].to_string().contains("no masquerade"),
        "{}",
        doc["notes"]
    );
    let _ = std::fs::remove_file(&file);
}

/// Flannel host-gw with nodes in two subnets whose gateways are outside the model: the
/// refused route sends pod traffic out of the default gateway, which is not delivery.
#[test]
fn refused_route_out_of_the_default_gateway_is_misrouted() {
    let path = std::env::temp_dir().join(format!("netpath-refused-{}.yaml", std::process::id()));
    std::fs::write(
        &path,
        "mode: {cni: flannel, backend: host-gw, network: 10.244.0.0/16}
underlay:
  subnets: [{cidr: 192.168.1.0/24, gateway: 192.168.1.1}, {cidr: 192.168.2.0/24, gateway: 192.168.2.1}]
nodes:
  - {name: n1, ip: 192.168.1.11}
  - {name: n2, ip: 192.168.2.11}
pods:
  - default/a n1
  - default/b n2
",
    )
    .unwrap();
    let out = netpath()
        .args([
            "--json",
            "trace",
            "-c",
            &path.display().to_string(),
            "a",
            "b",
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict(&doc["request"]), ("dropped", "n1", "misrouted"));
    assert_eq!(doc["request"]["verdict"]["after"]["host"], "n1");
    assert_eq!(
        doc["request"]["verdict"]["after"]["instead"],
        "default via 192.168.1.1 dev eth0"
    );
}

#[test]
fn readable_output_groups_hops_by_host() {
    let out = netpath()
        .args([
            "trace",
            "--cluster",
            "demo:flannel-vxlan",
            "default/web-0",
            "default/db-0",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "  node node-1\n",
        "    route    10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink  [ttl 63, mtu 1450]",
        "    encap    vxlan VNI 1: outer 10.234.2.11 → 10.234.2.13 udp/8472, 64 → 114 bytes",
        "✔ delivered to default/db-0",
        "reply (mirrors the request)",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    let out = netpath()
        .args([
            "trace",
            "-c",
            "demo:flannel-host-gw-routed",
            "web-0",
            "db-0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("✘ dropped at router: no route to 10.244.2.2")
            && text.contains("because node-1's kernel refused the planned route `10.244.2.0/24 via 192.168.2.11 dev eth0` (next hop 192.168.2.11 is not on-link on eth0"),
        "{text}"
    );
}

#[test]
fn all_pairs_matrix() {
    let out = netpath()
        .args([
            "--json",
            "trace",
            "--all",
            "-c",
            "demo:flannel-host-gw-routed",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "netpath.trace-all/v1");
    assert_eq!(v["pairs"], 6);
    assert_eq!(v["ok"], 2);
    assert_eq!(v["by_reason"][0]["code"], "next-hop-not-on-link");
    assert_eq!(v["by_reason"][0]["count"], 8);
    let broken: Vec<String> = v["broken"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            format!(
                "{}>{}",
                b["from"].as_str().unwrap(),
                b["to"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        broken.iter().all(|b| b.contains("node-3")),
        "only pairs across the router: {broken:?}"
    );

    let out = netpath()
        .args(["trace", "--all", "-c", "demo:calico-bgp-routed"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no-route"));
    for ok in [
        "flannel-vxlan",
        "calico-vxlan-crosssubnet",
        "calico-bgp-routers",
        "flannel-directrouting",
    ] {
        let out = netpath()
            .args(["trace", "--all", "-c", &format!("demo:{ok}")])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{ok}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

mod property {
    use netpath::model::file;
    use netpath::plan;
    use netpath::trace::{self, Probe};
    use netpath::world::HostKind;
    use proptest::prelude::*;

    /// Working modes, and whether they allow nodes on several subnets joined by a router.
    const MODES: &[(&str, bool)] = &[
        (
            "{cni: flannel, backend: host-gw, network: 10.244.0.0/16}",
            false,
        ),
        (
            "{cni: flannel, backend: vxlan, network: 10.244.0.0/16}",
            true,
        ),
        (
            "{cni: flannel, backend: vxlan, network: 10.244.0.0/16, directRouting: true}",
            true,
        ),
        (
            "{cni: calico, encapsulation: none, pool: 10.65.0.0/16}",
            false,
        ),
        (
            "{cni: calico, encapsulation: none, pool: 10.65.0.0/16, bgp: routers}",
            true,
        ),
        (
            "{cni: calico, encapsulation: ipip, pool: 10.65.0.0/16}",
            true,
        ),
        (
            "{cni: calico, encapsulation: ipip, crossSubnet: true, pool: 10.65.0.0/16}",
            true,
        ),
        (
            "{cni: calico, encapsulation: ipip, pool: 10.65.0.0/16, ipipRoutes: felix}",
            true,
        ),
        (
            "{cni: calico, encapsulation: vxlan, pool: 10.65.0.0/16}",
            true,
        ),
        (
            "{cni: calico, encapsulation: vxlan, crossSubnet: true, pool: 10.65.0.0/16}",
            true,
        ),
    ];

    fn cluster_file(mode: usize, subnet_of: &[usize], pods: &[usize]) -> String {
        let (m, routed) = MODES[mode];
        let subnets = if routed { 3 } else { 1 };
        let mut s = format!("mode: {m}\nunderlay:\n  subnets:\n");
        for i in 0..subnets {
            s += &format!("    - {{cidr: 192.168.{i}.0/24, gateway: 192.168.{i}.1}}\n");
        }
        let ifs: Vec<String> = (0..subnets).map(|i| format!("192.168.{i}.1")).collect();
        s += &format!(
            "  routers:\n    - {{name: r, interfaces: [{}], bgp: true}}\nnodes:\n",
            ifs.join(", ")
        );
        for (n, sub) in subnet_of.iter().enumerate() {
            s += &format!(
                "  - {{name: n{n}, ip: 192.168.{}.{}}}\n",
                sub % subnets,
                10 + n
            );
        }
        s += "pods:\n";
        for (n, k) in pods.iter().enumerate() {
            for p in 0..*k {
                s += &format!("  - default/p{n}-{p} n{n}\n");
            }
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]
        /// Every pod pair is delivered both ways in a working mode, and the reply crosses the
        /// request's hosts in reverse (all these modes are symmetric).
        #[test]
        fn working_modes_deliver_every_pair(
            mode in 0..MODES.len(),
            subnet_of in proptest::collection::vec(0usize..3, 2..6),
            pods in proptest::collection::vec(0usize..3, 6),
        ) {
            let text = cluster_file(mode, &subnet_of, &pods[..subnet_of.len()]);
            let cluster = file::parse(&text, "prop.yaml").unwrap();
            let world = plan::world(&cluster);
            let mut ends: Vec<String> = world.ids(HostKind::Pod).map(|i| world.name(i).to_string()).collect();
            ends.push("n0".into());
            for a in &ends {
                for b in &ends {
                    if a == b {
                        continue;
                    }
                    let src = trace::resolve(&world, a, true).unwrap();
                    let dst = trace::resolve(&world, b, false).unwrap();
                    let t = trace::trace(&world, &src, &dst, Probe::default());
                    prop_assert!(t.ok(), "{a} -> {b} in\n{text}\n{:?}\n{:?}", t.request.verdict, t.reply.as_ref().map(|r| &r.verdict));
                    prop_assert_eq!(t.symmetric, Some(true), "{} -> {} asymmetric in\n{}", a, b, text);
                }
            }
        }
    }
}

/// The walk over a planned world, through the library.
mod planned_world {
    use netpath::model::demo;
    use netpath::plan;
    use netpath::trace::{Probe, Reason, Verdict, resolve, trace};

    /// A Calico pod IP in the local block that no pod has hits the block's blackhole.
    #[test]
    fn calico_local_block_blackhole() {
        let c = demo::load("calico-bgp").unwrap();
        let w = plan::world(&c);
        let src = resolve(&w, "default/db-0", true).unwrap();
        let dst = resolve(&w, "10.65.0.9", false).unwrap();
        assert_eq!(dst.host, None, "no pod has it");
        let t = trace(&w, &src, &dst, Probe::default());
        let Verdict::Dropped {
            host,
            reason: Reason::Blackhole { route },
            ..
        } = &t.request.verdict
        else {
            panic!("{:?}", t.request.verdict)
        };
        assert_eq!(
            (host.as_str(), route.as_str()),
            ("node-1", "blackhole 10.65.0.0/26 proto bird")
        );
    }
}

/// Run `netpath [--json] trace -c FILE ARGS…` on a cluster file written from `text`;
/// exit code, stdout and stderr.
fn trace_file(tag: &str, text: &str, json: bool, args: &[&str]) -> (i32, String, String) {
    let path =
        std::env::temp_dir().join(format!("netpath-edges-{}-{tag}.yaml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let mut cmd = netpath();
    if json {
        cmd.arg("--json");
    }
    let out = cmd
        .args(["trace", "-c", &path.display().to_string()])
        .args(args)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An address inside the pod network that no pod has is not "outside the cluster": in no
/// lease or block it leaves by the default route and is lost; in another node's lease it
/// dies on that node's bridge; in a Calico block it meets the block's blackhole.
#[test]
fn unowned_pod_addresses_are_never_delivered() {
    let (code, doc) = trace("flannel-vxlan", &["default/web-0", "10.244.9.9"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        verdict(&doc["request"]),
        ("dropped", "node-1", "unallocated")
    );
    assert!(doc["reply"].is_null(), "{doc}");
    let label = doc["dst"]["label"].as_str().unwrap();
    assert!(!label.contains("outside"), "{label}");
    assert!(label.contains("no node's lease"), "{label}");

    let (code, doc) = trace("flannel-vxlan", &["default/web-0", "10.244.2.99"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        verdict(&doc["request"]),
        ("dropped", "node-3", "no-neighbour")
    );
    assert!(
        doc["dst"]["label"]
            .as_str()
            .unwrap()
            .contains("node-3's lease"),
        "{doc}"
    );

    let (code, doc) = trace("flannel-host-gw", &["default/web-0", "10.244.9.9"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(verdict(&doc["request"]).2, "unallocated");

    // Calico: a remote block's blackhole, a local block's blackhole, a pool address in no block.
    let (code, doc) = trace("calico-bgp", &["default/web-0", "10.65.1.9"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(verdict(&doc["request"]), ("dropped", "node-2", "blackhole"));
    let (code, doc) = trace("calico-bgp", &["default/web-0", "10.65.0.9"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(verdict(&doc["request"]), ("dropped", "node-1", "blackhole"));
    let (code, doc) = trace("calico-bgp", &["default/web-0", "10.65.200.1"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        verdict(&doc["request"]),
        ("dropped", "node-1", "unallocated")
    );
    assert!(
        doc["request"]["verdict"]["explanation"]
            .as_str()
            .unwrap()
            .contains("in no node's block"),
        "{doc}"
    );
    // A real outside address still leaves.
    let (code, doc) = trace("flannel-vxlan", &["default/web-0", "1.1.1.1"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(verdict(&doc["request"]).0, "exited");
}

/// The JSON verdict carries the root cause's stable code (the refused route's, as
/// `trace --all` groups it) and the sentence the text output gives.
#[test]
fn json_verdict_says_why() {
    let (code, doc) = trace("flannel-host-gw-routed", &["web-0", "db-0"]);
    assert_eq!(code, 1);
    let v = &doc["request"]["verdict"];
    assert_eq!(v["reason"]["code"], "no-route");
    assert_eq!(v["code"], "next-hop-not-on-link", "{v}");
    let why = v["explanation"].as_str().unwrap();
    assert!(
        why.starts_with("dropped at router: no route to 10.244.2.2"),
        "{why}"
    );
    assert!(
        why.contains("because node-1's kernel refused the planned route `10.244.2.0/24 via 192.168.2.11 dev eth0`"),
        "{why}"
    );
    // Without a refused route the code is the drop's own.
    let (_, doc) = trace("calico-bgp", &["default/web-0", "10.65.1.9"]);
    assert_eq!(doc["request"]["verdict"]["code"], "blackhole");
    // Every code the walk can give is listed in docs/trace.md.
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/trace.md")).unwrap();
    for code in [
        "no-route",
        "blackhole",
        "unreachable",
        "next-hop-not-on-link",
        "no-neighbour",
        "no-fdb",
        "too-big",
        "ttl-expired",
        "misrouted",
        "routing-loop",
        "forwarding-disabled",
        "rp-filter",
        "no-device",
        "device-down",
        "no-tunnel-endpoint",
        "vtep-mac-mismatch",
        "no-peer",
        "unallocated",
        "no-endpoints",
        "no-service",
        "services-not-in-input",
        "endpoints-failing",
    ] {
        assert!(
            docs.contains(&format!("`{code}`")),
            "{code} missing from docs/trace.md"
        );
    }
}

/// Destinations no packet is routed to are refused (exit 2), never "delivered" from 0.0.0.0.
#[test]
fn special_destinations_are_refused() {
    for dst in [
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.5",
        "239.1.2.3",
        "127.0.0.1",
        "169.254.169.254",
        "169.254.1.1",
        "240.0.0.1",
        "10.244.2.255",
    ] {
        let out = netpath()
            .args(["trace", "-c", "demo:flannel-vxlan", "default/web-0", dst])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{dst}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(dst), "{dst}: {err}");
    }
}

const CONTRA_BASE: &str = "mode: {cni: flannel, backend: vxlan, network: 10.244.0.0/16}
underlay:
  subnets:
    - {cidr: 192.168.1.0/24, gateway: 192.168.1.1}
nodes:
";

/// Clusters that contradict themselves are named: refused (exit 2) where no working cluster
/// can be meant, warned about in the text and the JSON otherwise; a trace to a duplicated
/// IP says it is ambiguous.
#[test]
fn contradictory_clusters_are_named() {
    // Refused.
    for (tag, nodes_pods, want) in [
        (
            "dup-ip",
            "  - {name: a, ip: 192.168.1.11, podCIDR: 10.244.1.0/24}\n  - {name: b, ip: 192.168.1.11, podCIDR: 10.244.2.0/24}\npods:\n  - default/x a\n",
            "both have address 192.168.1.11",
        ),
        (
            "dup-pod",
            "  - {name: a, ip: 192.168.1.11, podCIDR: 10.244.1.0/24}\n  - {name: b, ip: 192.168.1.12, podCIDR: 10.244.2.0/24}\npods:\n  - default/x a\n  - default/x b\n",
            "listed twice",
        ),
    ] {
        let text = format!("{CONTRA_BASE}{nodes_pods}");
        let (code, out, err) = trace_file(tag, &text, false, &["default/x", "1.1.1.1"]);
        assert_eq!(code, 2, "{tag}: {out}{err}");
        assert!(err.contains(want), "{tag}: {err}");
    }
    let everything = CONTRA_BASE.replace("10.244.0.0/16", "0.0.0.0/0")
        + "  - {name: a, ip: 192.168.1.11}\npods:\n  - default/x a\n";
    let (code, _, err) = trace_file("all", &everything, false, &["default/x", "1.1.1.1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("every address"), "{err}");
    let long_vni = CONTRA_BASE.replace("backend: vxlan", "backend: vxlan, vni: 12345678")
        + "  - {name: a, ip: 192.168.1.11}\npods:\n  - default/x a\n";
    let (code, _, err) = trace_file("vni", &long_vni, false, &["default/x", "1.1.1.1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("flannel.12345678"), "{err}");
    let big_vni = CONTRA_BASE.replace("backend: vxlan", "backend: vxlan, vni: 16777216")
        + "  - {name: a, ip: 192.168.1.11}\npods:\n  - default/x a\n";
    let (code, _, err) = trace_file("vni2", &big_vni, false, &["default/x", "1.1.1.1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("out of range"), "{err}");

    // Warned about: one pod CIDR on two nodes, a node address in the pod network, a pod
    // outside its node's pod CIDR, two pods with one address, a /30's broadcast address.
    let text = format!(
        "{CONTRA_BASE}  - {{name: a, ip: 192.168.1.11, podCIDR: 10.244.1.0/24}}
  - {{name: b, ip: 192.168.1.12, podCIDR: 10.244.1.0/24}}
  - {{name: c, ip: 192.168.1.13, podCIDR: 10.244.3.0/30}}
  - {{name: d, ip: 10.244.200.5/24, podCIDR: 10.244.4.0/24}}
pods:
  - default/x a 10.244.1.5
  - default/y b 10.244.1.5
  - default/z c 10.244.3.3
  - default/w d 10.244.9.9
"
    );
    let (code, out, err) = trace_file("warn", &text, false, &["default/x", "default/z"]);
    assert_ne!(code, 2, "{out}{err}");
    for want in [
        "warning: nodes a and b both have pod CIDR 10.244.1.0/24",
        "warning: node d's address 10.244.200.5 is inside the pod network",
        "warning: pod default/w's address 10.244.9.9 is outside its node d's pod CIDR",
        "warning: pods default/x and default/y both have address 10.244.1.5",
        "the broadcast address of c's pod CIDR 10.244.3.0/30",
    ] {
        assert!(out.contains(want), "{want:?} not in:\n{out}");
    }
    let (_, out, _) = trace_file("warn-json", &text, true, &["default/x", "default/z"]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["warnings"].as_array().map(Vec::len), Some(5), "{doc}");
    // A trace to the shared address is ambiguous.
    let (code, _, err) = trace_file("ambiguous", &text, false, &["default/z", "10.244.1.5"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ambiguous") && err.contains("default/x") && err.contains("default/y"),
        "{err}"
    );
    // Demos contradict nothing.
    let (_, doc) = trace("flannel-vxlan", &["web-0", "db-0"]);
    assert!(doc.get("warnings").is_none(), "{doc}");
}

/// Masquerade covers what the real rules cover: a pod's connection to another node's
/// address (a hostNetwork pod, a NodePort) across a router that knows no pod routes leaves
/// with the node's address, and the reply finds its way back through conntrack.
#[test]
fn masquerade_covers_node_addresses() {
    let (code, doc) = trace("calico-bgp-routed", &["default/web-0", "node-3"]);
    assert_eq!(code, 0, "{doc}");
    assert_steps(
        &doc["request"],
        &["node-1 masquerade eth0", "node-3 deliver eth0"],
    );
    assert_eq!(doc["reply"]["packet"]["dst"], "192.168.1.11");
    assert_steps(
        &doc["reply"],
        &[
            "router route 192.168.1.0/24 dev eth0 proto 2",
            "node-1 unmasquerade eth0",
            "default/web-0 deliver eth0",
        ],
    );
    assert_eq!(verdict(&doc["reply"]).0, "delivered");
    // Flannel's rules masquerade to anything outside the Network, node IPs included.
    let (code, doc) = trace("flannel-vxlan", &["default/web-0", "node-3"]);
    assert_eq!(code, 0, "{doc}");
    assert_steps(
        &doc["request"],
        &["node-1 masquerade eth0", "node-3 deliver eth0"],
    );
    assert_eq!(doc["reply"]["packet"]["dst"], "10.234.2.11");
    // The pod network itself is never masqueraded, and a node's own traffic neither.
    let (_, doc) = trace("flannel-vxlan", &["default/web-0", "default/db-0"]);
    assert!(!doc.to_string().contains("masquerade"), "{doc}");
    let (code, doc) = trace("flannel-vxlan", &["node-3", "default/web-0"]);
    assert_eq!(code, 0, "{doc}");
    assert!(!doc.to_string().contains("\"masquerade\""), "{doc}");
}

/// Calico without BGP: an IPIP or unencapsulated pool has no BIRD to program routes to
/// other nodes' blocks, so pod-to-pod across nodes is dropped, not delivered.
#[test]
fn calico_without_bgp_has_no_block_routes() {
    for encap in ["ipip", "none"] {
        let text = format!(
            "mode: {{cni: calico, encapsulation: {encap}, pool: 10.65.0.0/16, bgp: off}}
underlay:
  subnets:
    - {{cidr: 192.168.1.0/24, gateway: 192.168.1.1}}
nodes:
  - {{name: node-1, ip: 192.168.1.11, blocks: [10.65.0.0/26]}}
  - {{name: node-2, ip: 192.168.1.12, blocks: [10.65.1.0/26]}}
pods:
  - default/web-0 node-1 10.65.0.2
  - default/db-0 node-2 10.65.1.3
"
        );
        let (code, out, err) =
            trace_file(&format!("bgp-off-{encap}"), &text, true, &["web-0", "db-0"]);
        assert_eq!(code, 1, "{encap}: {out}{err}");
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            verdict(&doc["request"]),
            ("dropped", "node-1", "misrouted"),
            "{encap}"
        );
        // With BGP the same cluster works.
        let (code, out, _) = trace_file(
            &format!("bgp-on-{encap}"),
            &text.replace(", bgp: off", ""),
            true,
            &["web-0", "db-0"],
        );
        assert_eq!(code, 0, "{encap}: {out}");
    }
}

/// An IPIP pool and a VXLAN pool: pods in either reach each other.
#[test]
fn ipip_and_vxlan_pools_route_between_pods() {
    use netpath::model::file;
    use netpath::plan;
    use netpath::trace::{Probe, resolve, trace};
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
    let c = file::parse(text, "mixed.yaml").unwrap();
    let w = plan::world(&c);
    for dst in ["default/b", "default/c"] {
        let s = resolve(&w, "default/a", true).unwrap();
        let d = resolve(&w, dst, false).unwrap();
        let t = trace(&w, &s, &d, Probe::default());
        assert!(t.ok(), "a -> {dst}: {:?}", t.request.verdict);
    }
}

/// ARP follows the L2 segment, not identical prefixes: nodes with a /16 and a /24 on one
/// segment are neighbours wherever each one's connected route covers the other; host-gw
/// works between them both ways.
#[test]
fn asymmetric_masks_on_one_segment_are_neighbours() {
    let text = "mode: {cni: flannel, backend: host-gw, network: 10.244.0.0/16}
underlay:
  subnets:
    - {cidr: 10.10.0.0/16, gateway: 10.10.0.1}
nodes:
  - {name: node-1, ip: 10.10.1.11/16, podCIDR: 10.244.1.0/24}
  - {name: node-2, ip: 10.10.1.12/24, podCIDR: 10.244.2.0/24}
pods:
  - default/a node-1
  - default/b node-2
";
    for (src, dst) in [
        ("node-1", "node-2"),
        ("node-2", "node-1"),
        ("default/a", "default/b"),
    ] {
        let (code, out, err) = trace_file("masks", text, true, &[src, dst]);
        assert_eq!(code, 0, "{src} -> {dst}: {out}{err}");
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["request"]["verdict"]["verdict"], "delivered", "{doc}");
        assert_eq!(doc["reply"]["verdict"]["verdict"], "delivered", "{doc}");
    }
}
