//! `netpath trace` at the edges of one host: a pod to itself, an oversize local send.

use std::process::Command;

use serde_json::Value;

fn trace(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_netpath"))
        .args(["--json", "trace", "--cluster", "demo:flannel-vxlan"])
        .args(args)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code().unwrap_or(-1), doc)
}

/// A pod to its own address goes over lo: delivered, no hop across cni0.
#[test]
fn pod_to_itself_goes_via_lo() {
    let (code, doc) = trace(&["default/web-0", "default/web-0"]);
    assert_eq!(code, 0);
    let hops = doc["request"]["hops"].as_array().unwrap();
    assert!(
        hops.iter().all(|h| h["host"] == "default/web-0"),
        "{hops:?}"
    );
    let last = hops.last().unwrap();
    assert_eq!(last["action"]["kind"], "deliver");
    assert_eq!(last["device"], "lo");
}

/// A locally sent packet over its first device's MTU with DF fails in sendmsg (EMSGSIZE);
/// a forwarded one gets ICMP fragmentation-needed.
#[test]
fn oversize_local_send_is_emsgsize() {
    let (code, doc) = trace(&["default/web-0", "default/db-0", "--size", "1460"]);
    assert_eq!(code, 1);
    let v = &doc["request"]["verdict"];
    assert_eq!(v["code"], "too-big");
    assert_eq!(v["reason"]["local"], true);
    assert!(v["explanation"].as_str().unwrap().contains("EMSGSIZE"));
    assert_eq!(v["host"], "default/web-0");
}
