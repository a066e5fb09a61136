//! `netpath check` offline (plan file against a snapshot file) and the agent's input errors.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

fn netpath() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netpath"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = netpath().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn route(dst: &str, gw: &str, dev: &str, proto: u8) -> Value {
    json!({"dst": dst, "type": "unicast", "table": 254, "proto": proto, "scope": "universe",
           "nexthops": [{"gateway": gw, "dev": dev, "flags": {"onlink": true, "linkdown": false, "dead": false, "pervasive": false, "offload": false}}]})
}

/// Node 1 of a Flannel VXLAN cluster, as a raw NodeState.
fn plan() -> Value {
    json!({
        "node": "node1",
        "links": [
            {"ifindex": 0, "name": "eth0", "kind": {"kind": "device"}, "mtu": 1500, "up": true},
            {"ifindex": 0, "name": "flannel.1", "mtu": 1450, "up": true, "mac": "0a:00:00:00:01:01",
             "kind": {"kind": "vxlan", "vni": 1, "port": 8472, "local": "192.168.1.11", "dev": "eth0", "learning": false}}
        ],
        "neighbours": [{"dst": "10.244.2.0", "lladdr": "0a:00:00:00:02:02", "dev": "flannel.1", "state": "permanent"}],
        "fdb": [{"mac": "0a:00:00:00:02:02", "dst": "192.168.1.12", "dev": "flannel.1", "self_": true, "state": "permanent"}],
        "routes": [route("10.244.2.0/24", "10.244.2.0", "flannel.1", 3)]
    })
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn a_matching_snapshot_is_clean_whoever_installed_the_routes() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "plan.json",
        &json!({"schema": "netpath.plan/v1", "node": "node1", "plan": {"state": plan(), "pods": []}}),
    );
    let mut snap = plan();
    // Installed by the agent (proto 158) instead of flanneld (boot): the same forwarding.
    snap["routes"] = json!([route("10.244.2.0/24", "10.244.2.0", "flannel.1", 158)]);
    let s = write(dir.path(), "snap.json", &snap);
    let (code, out, err) = run(&["check", "--plan", &p, "--snapshot", &s]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("node1: 0 errors, 0 warnings, 0 info"), "{out}");
}

#[test]
fn drift_is_reported_with_its_fix_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "plan.json", &plan());
    let mut snap = plan();
    // The IPIP-style mistake: the route goes out of eth0, no onlink; and the VTEP moved.
    snap["routes"] = json!([{"dst": "10.244.2.0/24", "type": "unicast", "table": 254, "proto": 3,
        "scope": "universe", "nexthops": [{"gateway": "192.168.1.12", "dev": "eth0"}]}]);
    snap["fdb"][0]["dst"] = json!("192.168.1.99");
    let s = write(
        dir.path(),
        "snap.json",
        &json!({"schema": "netpath.snapshot/v1", "state": snap}),
    );
    let (code, out, _) = run(&["--json", "check", "--plan", &p, "--snapshot", &s]);
    assert_eq!(code, 1, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], "netpath.check/v1");
    assert_eq!(doc["summary"]["errors"], 2);
    let f = &doc["findings"];
    assert_eq!(f[0]["kind"], "stale");
    assert_eq!(f[0]["object"], "fdb 0a:00:00:00:02:02 dev flannel.1");
    assert_eq!(f[1]["kind"], "wrong_next_hop");
    assert_eq!(f[1]["attributes"], json!(["next hop", "device", "onlink"]));
    assert_eq!(f[1]["actual"], "10.244.2.0/24 via 192.168.1.12 dev eth0");
    assert_eq!(
        f[1]["fix"][0],
        "ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 proto boot onlink"
    );
    let (code, out, _) = run(&["check", "--plan", &p, "--snapshot", &s]);
    assert_eq!(code, 1);
    assert!(out.lines().next().unwrap().starts_with("SEVERITY"), "{out}");
    assert!(
        out.contains("wrong next hop (next hop, device, onlink)"),
        "{out}"
    );
}

#[test]
fn bad_inputs_exit_2_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("half.json");
    std::fs::write(&truncated, "{\"node\": \"node1\", \"links\": [").unwrap();
    let t = truncated.to_str().unwrap();
    let (code, _, err) = run(&["check", "--plan", t, "--snapshot", t]);
    assert_eq!(code, 2);
    assert!(err.contains("not valid JSON"), "{err}");
    let empty = write(
        dir.path(),
        "empty.json",
        &json!({"node": "node1", "links": []}),
    );
    let (code, _, err) = run(&["agent", "--plan", &empty, "--dry-run"]);
    assert_eq!(code, 2);
    assert!(err.contains("refusing an empty plan"), "{err}");
    let p = write(dir.path(), "plan.json", &plan());
    let (code, _, err) = run(&[
        "agent",
        "--plan",
        &p,
        "--netns",
        "no-such-netns-here",
        "--dry-run",
    ]);
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = run(&["agent", "--plan", &p, "--proto", "nope", "--dry-run"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(&["agent", "--plan", &p, "--once", "--watch"]);
    assert_eq!(code, 2);
}
