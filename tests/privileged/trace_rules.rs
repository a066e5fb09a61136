//! `netpath trace` honours a node's policy rules as the kernel does: a node built from its
//! plan gets a rule sending its pods' forwarded packets to another table, and the walk over
//! its snapshot (and over the live netns) must pick the next hop and device the kernel's
//! own `ip route get DST from SRC iif cni0` picks.

use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::lab::TestNetns;
use crate::snapshot::{PlannedNode, trace_json};

pub fn tests() -> Vec<Trial> {
    vec![Trial::test(
        "trace_rules::trace_follows_policy_rules_like_the_kernel",
        trace_follows_policy_rules_like_the_kernel,
    )]
}

/// The kernel's answer to `ip route get DST from SRC iif cni0` in `ns`: `Ok((gateway,
/// device))`, or `Err` with its message when it refuses.
fn kernel_route(ns: &TestNetns, dst: &str, src: &str) -> Result<(String, String), String> {
    let out = ns.exec_output(&format!("ip route get {dst} from {src} iif cni0"));
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let words: Vec<&str> = text.split_whitespace().collect();
    let after = |key: &str| {
        words
            .windows(2)
            .find(|w| w[0] == key)
            .map(|w| w[1].to_string())
            .unwrap_or_default()
    };
    Ok((after("via"), after("dev")))
}

/// The request's route lookup on `host`: `Ok((gateway, device))`, or `Err` with the drop's
/// code when the walk dropped the packet there before routing it.
fn walked_route(doc: &Value, host: &str) -> Result<(String, String), String> {
    let hops = doc["request"]["hops"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let route = hops
        .iter()
        .find(|h| h["host"] == host && h["action"]["kind"] == "route");
    match route {
        Some(h) => {
            let nh = &h["route"]["nexthops"][0];
            Ok((
                nh["gateway"].as_str().unwrap_or_default().to_string(),
                nh["dev"].as_str().unwrap_or_default().to_string(),
            ))
        }
        None => Err(doc["request"]["verdict"]["code"]
            .as_str()
            .unwrap_or("no route hop and no drop")
            .to_string()),
    }
}

fn trace_follows_policy_rules_like_the_kernel() -> Result<(), Failed> {
    let built = PlannedNode::build("flannel-vxlan", "node-2");
    let ns = &built.node;
    // A second way out, and a rule sending the pods' forwarded packets through it for one
    // destination only: node-1's pods (web-0) take table 100, node-3's (db-0) fall through
    // to main.
    ns.exec(
        "ip link add alt0 type veth peer name alt1 && ip addr add 10.99.0.1/24 dev alt0 && ip link set alt1 up && ip link set alt0 up",
    );
    ns.exec("ip route add 10.244.0.0/24 via 10.99.0.2 dev alt0 table 100");
    ns.exec("ip rule add from 10.244.1.0/24 iif cni0 lookup 100");
    let (web1, web0, db0) = ("10.244.1.2", "10.244.0.2", "10.244.2.2");
    let dir = tempfile::tempdir()?;
    let (_, file) = built.snapshot(dir.path());
    let traced = |file: &str, dst: &str| {
        trace_json(&[
            "--cluster",
            "demo:flannel-vxlan",
            "default/web-1",
            dst,
            "--snapshot",
            file,
        ])
        .1
    };
    for (pod, ip, want_dev) in [
        ("default/web-0", web0, "alt0"),
        ("default/db-0", db0, "flannel.1"),
    ] {
        let kernel = kernel_route(ns, ip, web1);
        assert_eq!(
            kernel.as_ref().map(|k| k.1.as_str()),
            Ok(want_dev),
            "the kernel's own answer for {ip}"
        );
        let doc = traced(&file, pod);
        assert_eq!(walked_route(&doc, "node-2"), kernel, "{pod}: {doc:#}");
        let notes = doc["notes"].to_string();
        assert!(
            !notes.contains("policy"),
            "no note on modelled rules: {notes}"
        );
    }
    // Live: the walk's lookup on node-2 is the kernel's, which says it agrees.
    let (_, doc) = trace_json(&[
        "--cluster",
        "demo:flannel-vxlan",
        "default/web-1",
        "default/web-0",
        "--live",
        "--node",
        "node-2",
        "--netns",
        &ns.name,
    ]);
    assert_eq!(
        walked_route(&doc, "node-2"),
        kernel_route(ns, web0, web1),
        "{doc:#}"
    );
    let first = doc["request"]["hops"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h.get("kernel").is_some()))
        .ok_or(format!("no hop asked the kernel: {doc:#}"))?;
    assert_eq!(first["kernel"]["agrees"], true, "{first}");
    // A rule that drops (prohibit): the kernel refuses the lookup, the walk drops there.
    ns.exec("ip rule add from 10.244.1.0/24 to 10.244.2.0/24 iif cni0 prohibit pref 100");
    let dir = tempfile::tempdir()?;
    let (_, file) = built.snapshot(dir.path());
    let kernel = kernel_route(ns, db0, web1);
    assert!(kernel.is_err(), "the kernel routes it: {kernel:?}");
    let doc = traced(&file, "default/db-0");
    assert_eq!(
        walked_route(&doc, "node-2"),
        Err("policy-rule".to_string()),
        "{doc:#}"
    );
    assert_eq!(doc["request"]["verdict"]["host"], "node-2", "{doc:#}");
    Ok(())
}
