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
