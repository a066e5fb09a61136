//! The cluster model from the command line: `netpath demo`, and cluster files.

use std::process::Command;

fn netpath() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netpath"))
}

#[test]
fn demo_lists_every_demo_and_prints_one() {
    let out = netpath().arg("demo").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "flannel-host-gw",
        "flannel-vxlan",
        "calico-bgp",
        "calico-ipip",
        "flannel-host-gw-routed",
        "calico-bgp-routers",
    ] {
        assert!(
            text.contains(&format!("demo:{name} ")),
            "{name} listed:\n{text}"
        );
    }
    let out = netpath().args(["demo", "calico-ipip"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("encapsulation: ipip"));
    let out = netpath().args(["--json", "demo"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "netpath.demo/v1");
    assert!(v["demos"].as_array().unwrap().len() >= 9);
    let out = netpath().args(["demo", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn plan_prints_commands_and_json() {
    let out = netpath()
        .args([
            "plan",
            "--cluster",
            "demo:calico-vxlan-crosssubnet",
            "--node",
            "node-1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "ip link add vxlan.calico type vxlan id 4096 local 192.168.1.11 dev eth0 dstport 4789 nolearning",
        "ip route add 10.65.1.0/26 via 192.168.1.12 dev eth0 proto 80 onlink",
        "ip route add 10.65.2.0/26 via 10.65.2.0 dev vxlan.calico onlink",
        "ip route add blackhole 10.65.0.0/26 proto 80",
        "dev vxlan.calico dst 192.168.2.11 self permanent",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    let out = netpath()
        .args([
            "--json",
            "plan",
            "-c",
            "demo:flannel-host-gw",
            "--node",
            "node-2",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "netpath.plan/v1");
    let routes = v["plan"]["state"]["routes"].as_array().unwrap();
    assert!(
        routes
            .iter()
            .any(|r| r["dst"] == "10.244.0.0/24" && r["nexthops"][0]["gateway"] == "10.168.0.2")
    );
    let out = netpath()
        .args(["plan", "-c", "demo:flannel-host-gw", "--node", "node-9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("node-1, node-2"));
}

fn data(f: &str) -> String {
    format!("{}/testdata/clusters/{f}", env!("CARGO_MANIFEST_DIR"))
}

fn json_trace(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = netpath()
        .arg("--json")
        .arg("trace")
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn kubectl_flannel_dump_with_annotations_and_net_conf() {
    let dump = data("flannel-kubectl.json");
    // DirectRouting from the ConfigMap; same-subnet pair is plain, cross-subnet is VXLAN.
    let (code, v, err) = json_trace(&[
        "-c",
        &dump,
        "--underlay",
        "10.10.1.0/24,10.10.2.0/24",
        "web-0",
        "api-0",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(v["mode"].as_str().unwrap().contains("DirectRouting"));
    let hops = v["request"]["hops"].as_array().unwrap();
    assert!(!hops.iter().any(|h| h["action"]["kind"] == "encap"));
    let (code, v, _) = json_trace(&[
        "-c",
        &dump,
        "--underlay",
        "10.10.1.0/24,10.10.2.0/24",
        "web-0",
        "db-0",
    ]);
    assert_eq!(code, 0);
    let fdb = v["request"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"]["kind"] == "fdb")
        .unwrap()
        .clone();
    assert_eq!(fdb["action"]["dst"], "10.10.2.11");
    let assumptions = v["assumptions"].to_string();
    assert!(
        assumptions.contains("node-v6"),
        "IPv6-only node left out and said so: {assumptions}"
    );
    assert!(assumptions.contains("pending"), "{assumptions}");
    assert!(
        assumptions.contains("joined by one router"),
        "{assumptions}"
    );
    // Without --underlay the /24 is an assumption, said out loud.
    let (_, v, _) = json_trace(&["-c", &dump, "web-0", "db-0"]);
    assert!(v["assumptions"].to_string().contains("assumed /24"));
    // The VtepMAC from backend-data is used; node-c's (null backend-data) is derived.
    let out = netpath()
        .args(["plan", "-c", &dump, "--node", "node-c"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("lladdr 5e:0a:11:22:33:01"), "{text}");
    assert!(text.contains("MAC") && text.contains("derived"), "{text}");
    // Dual-stack pod: traced over IPv4; hostNetwork pod is its node; a pod without IP is refused.
    let (code, v, _) = json_trace(&["-c", &dump, "kube-system/kube-proxy-x7k2p", "default/api-0"]);
    assert_eq!(code, 0);
    assert_eq!(v["src"]["kind"], "node");
    assert_eq!(v["dst"]["ip"], "10.244.1.7");
    let (code, _, err) = json_trace(&["-c", &dump, "batch-0", "web-0"]);
    assert_eq!(code, 2);
    assert!(err.contains("default/batch-0 has no IPv4 address"), "{err}");
}

#[test]
fn kubectl_calico_dump_with_and_without_ippools() {
    let dump = data("calico-kubectl.json");
    // No IPPool in the dump: IPIP Always assumed from the tunnel annotations.
    let (code, v, err) = json_trace(&["-c", &dump, "frontend-6d4f9-abcde", "default/backend-0"]);
    assert_eq!(code, 0, "{err}");
    assert!(v["assumptions"].to_string().contains("no IPPool"));
    let route = |v: &serde_json::Value| {
        v["request"]["hops"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["host"] == "worker-1" && h["action"]["kind"] == "route")
            .unwrap()["route"]
            .clone()
    };
    assert_eq!(route(&v)["nexthops"][0]["dev"], "tunl0");
    // With the CrossSubnet pool, same-subnet workers route on eth0 (BIRD, no onlink).
    let (code, v, _) = json_trace(&[
        "-c",
        &dump,
        "--ippool",
        &data("ippool.yaml"),
        "frontend-6d4f9-abcde",
        "default/backend-0",
    ]);
    assert_eq!(code, 0);
    let r = route(&v);
    assert_eq!(r["nexthops"][0]["dev"], "eth0");
    assert_eq!(r["nexthops"][0]["gateway"], "172.20.1.12");
    assert_eq!(r["dst"], "10.65.40.0/26");
    // pendingDeletion affinities are not blocks; names: ambiguous short name refused.
    let (code, _, err) = json_trace(&["-c", &dump, "backend-0", "db-0"]);
    assert_eq!(code, 2);
    assert!(err.contains("ambiguous"), "{err}");
    let (code, _, _) = json_trace(&[
        "-c",
        &dump,
        "--ippool",
        &data("ippool.yaml"),
        "prod/backend-0",
        "default/frontend-6d4f9-abcde",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn kubectl_dump_without_annotations_needs_net_conf() {
    let dump = data("plain-kubectl.json");
    let (code, _, err) = json_trace(&["-c", &dump, "a", "b"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot tell the CNI") && err.contains("--net-conf"),
        "{err}"
    );
    let (code, v, err) = json_trace(&["-c", &dump, "--net-conf", &data("net-conf.json"), "a", "b"]);
    assert_eq!(code, 0, "{err}");
    assert!(v["mode"].as_str().unwrap().contains("host-gw"));
}
