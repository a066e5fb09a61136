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
            "-n",
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
        .args(["plan", "-c", "demo:flannel-host-gw", "-n", "node-9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("node-1, node-2"));
}
