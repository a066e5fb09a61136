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

/// One `netpath plan --json` per node of `cluster`, written as `<node>.json` in `dir`: a
/// snapshot directory of a cluster that matches its plan.
fn snapshots_from_plans(dir: &Path, cluster: &str, nodes: &[&str]) {
    for n in nodes {
        let (code, out, err) = run(&["--json", "plan", "--cluster", cluster, "--node", n]);
        assert_eq!(code, 0, "{err}");
        std::fs::write(dir.join(format!("{n}.json")), out).unwrap();
    }
}

/// Edit the node state inside a `netpath plan --json` document.
fn edit_state(dir: &Path, node: &str, f: impl FnOnce(&mut Value)) {
    let p = dir.join(format!("{node}.json"));
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    f(&mut doc["plan"]["state"]);
    std::fs::write(&p, serde_json::to_string(&doc).unwrap()).unwrap();
}

fn cluster_kinds(doc: &Value) -> Vec<(String, String)> {
    doc["cluster_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["node"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_directory_of_snapshots_checks_every_node_and_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let c = "demo:flannel-vxlan";
    snapshots_from_plans(d, c, &["node-1", "node-2", "node-3"]);
    let snaps = d.to_str().unwrap();
    let (code, out, err) = run(&["check", "--cluster", c, "--snapshot", snaps]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("node-2: 0 errors, 0 warnings, 0 info"),
        "{out}"
    );
    assert!(out.contains("3 nodes of 3 checked"), "{out}");

    // node-2's bridge takes node-1's pod CIDR; node-3 gets a static route into node-1's.
    edit_state(d, "node-2", |s| {
        for a in s["addrs"].as_array_mut().unwrap() {
            if a["dev"] == "cni0" {
                a["addr"] = json!("10.244.0.1/24");
            }
        }
    });
    edit_state(d, "node-3", |s| {
        s["routes"].as_array_mut().unwrap().push(json!({
            "dst": "10.244.0.128/25", "type": "unicast", "table": 254, "proto": 4,
            "scope": "universe", "nexthops": [{"gateway": "10.234.2.99", "dev": "eth0"}]}));
    });
    let (code, out, err) = run(&["--json", "check", "--cluster", c, "--snapshot", snaps]);
    assert_eq!(code, 1, "{out}{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], "netpath.check/v1");
    assert_eq!(
        cluster_kinds(&doc),
        vec![
            ("node-1".to_string(), "duplicate_pod_cidr".to_string()),
            ("node-2".to_string(), "duplicate_pod_cidr".to_string()),
            ("node-3".to_string(), "shadowed".to_string()),
        ]
    );
    let shadow = &doc["cluster_findings"][2];
    assert_eq!(shadow["nodes"], json!(["node-1", "node-2", "node-3"]));
    assert_eq!(
        shadow["fix"],
        json!(["ip route del 10.244.0.128/25 via 10.234.2.99 dev eth0 proto static"])
    );
    let nodes = doc["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    // node-1 itself is as planned; it only shares the duplicate.
    assert_eq!(nodes[0]["findings"], json!([]));
    assert_eq!(nodes[0]["summary"]["errors"], 1);
    // The table names the node of every finding and sums up per node.
    let (code, out, _) = run(&["check", "--cluster", c, "--snapshot", snaps]);
    assert_eq!(code, 1);
    assert!(out.starts_with("NODE"), "{out}");
    assert!(out.contains("duplicate pod CIDR"), "{out}");
    assert!(out.contains("node-3: 1 error, 1 warning, 0 info"), "{out}");
    // --node narrows to one node and the cluster findings that involve it.
    let (code, out, _) = run(&[
        "--json",
        "check",
        "-c",
        c,
        "--node",
        "node-3",
        "--snapshot",
        snaps,
    ]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(
        cluster_kinds(&doc),
        vec![("node-3".to_string(), "shadowed".to_string())]
    );
}

#[test]
fn a_blackhole_hiding_a_borrowed_pod_ip_is_found_across_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // calico-bgp with a pod on node-2 whose address comes from node-1's block.
    let (_, demo, _) = run(&["demo", "calico-bgp"]);
    let cluster = demo.replace(
        "  - default/db-0 node-2 10.65.1.3\n",
        "  - default/db-0 node-2 10.65.1.3\n  - default/borrow-0 node-2 10.65.0.40\n",
    );
    assert_ne!(cluster, demo);
    let cfile = d.join("cluster.yaml");
    std::fs::write(&cfile, cluster).unwrap();
    let c = cfile.to_str().unwrap();
    let snaps = d.join("snaps");
    std::fs::create_dir(&snaps).unwrap();
    snapshots_from_plans(&snaps, c, &["node-1", "node-2"]);
    let s = snaps.to_str().unwrap();
    let (code, out, err) = run(&["--json", "check", "--cluster", c, "--snapshot", s]);
    assert_eq!(code, 0, "{out}{err}");
    // node-1 loses the /32 that node-2's BIRD exported: its blackhole takes the pod.
    edit_state(&snaps, "node-1", |st| {
        st["routes"]
            .as_array_mut()
            .unwrap()
            .retain(|r| r["dst"] != "10.65.0.40/32");
    });
    let (code, out, err) = run(&["--json", "check", "--cluster", c, "--snapshot", s]);
    assert_eq!(code, 1, "{out}{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        cluster_kinds(&doc),
        vec![("node-1".to_string(), "hidden_by_blackhole".to_string())]
    );
    let f = &doc["cluster_findings"][0];
    assert_eq!(
        f["fix"],
        json!(["ip route replace 10.65.0.40/32 via 192.168.1.12 dev eth0 proto bird"])
    );
    // node-3 has no snapshot: listed, not checked.
    let (_, out, _) = run(&["check", "--cluster", c, "--snapshot", s]);
    assert!(out.contains("node-3: not checked"), "{out}");
    assert!(out.contains("2 nodes of 3 checked"), "{out}");
}

#[test]
fn a_directory_of_snapshots_needs_the_cluster_and_known_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    snapshots_from_plans(d, "demo:flannel-vxlan", &["node-1", "node-2"]);
    let elsewhere = tempfile::tempdir().unwrap();
    let p = write(elsewhere.path(), "plan.json", &plan());
    let snaps = d.to_str().unwrap();
    let (code, _, err) = run(&["check", "--plan", &p, "--snapshot", snaps]);
    assert_eq!(code, 2);
    assert!(err.contains("no snapshot of node \"node1\""), "{err}");
    let (code, _, err) = run(&["check", "--cluster", "demo:flannel-vxlan", "--snapshot", &p]);
    assert_eq!(code, 2);
    assert!(err.contains("--cluster needs --node"), "{err}");
    let mut stranger = plan();
    stranger["node"] = json!("stranger");
    write(d, "stranger.json", &stranger);
    let (code, _, err) = run(&["check", "-c", "demo:flannel-vxlan", "--snapshot", snaps]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("which cluster"), "{err}");
}

/// `--calico-version` on check (and agent) plans the shapes that version programs: a node
/// whose BIRD and Felix routes carry v3.32's `metric 1024 src <node IP>` is clean when the
/// version is given; without it the version is said to be unknown, once, and each such
/// route is one "shape differs" note, never a missing plus an unexpected route.
#[test]
fn check_plans_route_shapes_by_the_calico_version() {
    let dir = tempfile::tempdir().unwrap();
    let c = "demo:calico-bgp";
    let (code, snap, err) = run(&[
        "--json",
        "plan",
        "--cluster",
        c,
        "--node",
        "node-1",
        "--calico-version",
        "v3.32.0",
    ]);
    assert_eq!(code, 0, "{err}");
    let s = dir.path().join("node-1.json");
    std::fs::write(&s, snap).unwrap();
    let s = s.to_str().unwrap();
    let base = [
        "--json",
        "check",
        "--cluster",
        c,
        "--node",
        "node-1",
        "--snapshot",
        s,
    ];

    let mut with = base.to_vec();
    with.extend(["--calico-version", "v3.32.0"]);
    let (code, out, err) = run(&with);
    assert_eq!(code, 0, "{out}{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["findings"], json!([]), "{doc:#}");
    assert!(!err.contains("not known"), "{err}");

    let (code, out, err) = run(&base);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(err.matches("version is not known").count(), 1, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.is_empty(), "{doc:#}");
    assert!(kinds.iter().all(|k| *k == "shape_differs"), "{kinds:?}");

    // The agent reads the same options (a bad version is a usage error, exit 2).
    let (code, _, err) = run(&[
        "agent",
        "--dry-run",
        "--cluster",
        c,
        "--node",
        "node-1",
        "--calico-version",
        "3",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a version"), "{err}");
}

/// A text dump whose route file was damaged in a paste: `check` reads the rest and names
/// the skipped line on standard error, instead of failing the whole directory.
#[test]
fn check_over_a_damaged_text_dump_reads_the_rest_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "plan.json",
        &json!({"schema": "netpath.plan/v1", "node": "node1", "plan": {"state": plan(), "pods": []}}),
    );
    let dump = dir.path().join("node1");
    std::fs::create_dir(&dump).unwrap();
    std::fs::write(
        dump.join("ip-route.txt"),
        "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\n10.244.3.0/24 via 10.244.3.0 dev flannel.1 onl\u{7}\n10.244.9.0/24 via x.y.9.0 dev eth0 proto bi\n",
    )
    .unwrap();
    let (code, out, err) = run(&["check", "--plan", &p, "--snapshot", dump.to_str().unwrap()]);
    assert_ne!(code, 2, "{out}{err}");
    assert!(err.contains("line 2: skipped"), "{err}");
    assert!(
        err.contains("line 3: skipped") && err.contains("x.y.9.0"),
        "{err}"
    );
    assert!(
        err.contains("\\u{7}"),
        "control characters are escaped: {err}"
    );
    assert!(
        !out.contains("route 10.244.2.0/24"),
        "the intact route is read: {out}"
    );
}

/// A Calico IPIP node on v3.34 (Felix's routes: proto 80, mtu) checked with no version
/// known: every route that differs only where versions disagree is one note without a fix
/// (a fix would be undone by Felix); the note on the version is in the JSON too. With the
/// version given wrong, the comparison is strict.
#[test]
fn check_notes_felix_ipip_routes_without_a_fix_when_the_version_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let c = "demo:calico-ipip";
    let (code, snap, err) = run(&[
        "--json",
        "plan",
        "--cluster",
        c,
        "--node",
        "node-1",
        "--calico-version",
        "v3.34.0",
    ]);
    assert_eq!(code, 0, "{err}");
    let s = dir.path().join("node-1.json");
    std::fs::write(&s, snap).unwrap();
    let s = s.to_str().unwrap();
    let base = [
        "--json",
        "check",
        "--cluster",
        c,
        "--node",
        "node-1",
        "--snapshot",
        s,
    ];

    let (code, out, err) = run(&base);
    assert_eq!(code, 0, "{out}{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert!(
        doc["note"]
            .as_str()
            .unwrap()
            .contains("version is not known"),
        "{doc:#}"
    );
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{doc:#}");
    for f in findings {
        assert_eq!(f["kind"], "shape_differs", "{f:#}");
        assert_eq!(f["fix"], json!([]), "{f:#}");
    }
    let tunnel = findings
        .iter()
        .find(|f| f["actual"].as_str().unwrap().contains("dev tunl0 proto 80"))
        .expect("Felix's IPIP route");
    assert_eq!(
        tunnel["attributes"],
        json!(["protocol", "MTU"]),
        "{tunnel:#}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f["actual"].as_str().unwrap().starts_with("blackhole")),
        "{doc:#}"
    );

    // A known version keeps the strict comparison (and no note).
    let mut with = base.to_vec();
    with.extend(["--calico-version", "v3.33.0"]);
    let (code, out, _) = run(&with);
    assert_eq!(code, 1, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert!(doc.get("note").is_none(), "{doc:#}");
    let kinds: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"missing"), "{kinds:?}");
    assert!(!kinds.contains(&"shape_differs"), "{kinds:?}");

    let mut with = base.to_vec();
    with.extend(["--calico-version", "v3.34.0"]);
    let (code, out, _) = run(&with);
    assert_eq!(code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["findings"], json!([]), "{doc:#}");
}

/// The many-node JSON carries the version note too.
#[test]
fn check_many_json_carries_the_version_note() {
    let dir = tempfile::tempdir().unwrap();
    let c = "demo:calico-vxlan-crosssubnet";
    for n in ["node-1", "node-2"] {
        let (code, snap, err) = run(&["--json", "plan", "--cluster", c, "--node", n]);
        assert_eq!(code, 0, "{err}");
        std::fs::write(dir.path().join(format!("{n}.json")), snap).unwrap();
    }
    let d = dir.path().to_str().unwrap();
    let (_, out, err) = run(&["--json", "check", "--cluster", c, "--snapshot", d]);
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert!(
        doc["note"]
            .as_str()
            .unwrap()
            .contains("version is not known"),
        "{doc:#}"
    );
    let (_, out, _) = run(&[
        "--json",
        "check",
        "--cluster",
        c,
        "--snapshot",
        d,
        "--calico-version",
        "v3.32.0",
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert!(doc.get("note").is_none(), "{doc:#}");
}
