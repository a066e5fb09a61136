//! `netpath snapshot --from-dir` on text dumps, and `netpath trace --snapshot` over
//! snapshots made from a plan and then broken (or fixed) one way at a time: each case must
//! be explained at the right hop, with what the plan has there, and exit 1 or 0.

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use netpath::dataplane::{
    Addr, FdbEntry, Link, LinkKind, MacAddr, Neighbour, Nexthop, NodeState, NudState, Route, Scope,
    Vxlan,
};
use netpath::snapshot::{Snapshot, Source};
use serde_json::Value;

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

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// The plan of `node` in a demo cluster, as a snapshot (what a node that is exactly as
/// planned would give).
fn planned(cluster: &str, node: &str) -> Snapshot {
    let c = netpath::model::Cluster::load(&format!("demo:{cluster}"), &Default::default()).unwrap();
    let plan = netpath::plan::node(&c, node).unwrap();
    Snapshot {
        taken_at: "2025-01-01T00:00:00Z".into(),
        source: Source::Live {
            netns: "test".into(),
        },
        kernel: None,
        state: plan.state,
        pods: None,
        unread: Vec::new(),
        warnings: Vec::new(),
    }
}

fn write(dir: &Path, name: &str, s: &Snapshot) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(s).unwrap()).unwrap();
    p.display().to_string()
}

/// `netpath --json trace --cluster demo:C SRC DST ARGS…`.
fn trace(cluster: &str, src: &str, dst: &str, args: &[&str]) -> (i32, Value) {
    let demo = format!("demo:{cluster}");
    let mut all = vec!["--json", "trace", "--cluster", &demo, src, dst];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    (code, json(&out))
}

/// The hops of a direction at `host`.
fn hops_at<'a>(path: &'a Value, host: &str) -> Vec<&'a Value> {
    path["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["host"] == host)
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn from_dir_converts_a_text_dump() {
    let (code, out, err) = run(&["snapshot", "--from-dir", "testdata/snapshot-text/node-a"]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out);
    assert_eq!(doc["schema"], "netpath.snapshot/v1");
    assert_eq!(doc["node"], "node-a", "from the dump's hostname file");
    assert_eq!(doc["source"]["kind"], "text-dump");
    assert!(doc["taken_at"].as_str().unwrap().ends_with('Z'));
    assert!(!doc["routes"].as_array().unwrap().is_empty());
    assert!(!doc["links"].as_array().unwrap().is_empty());
    assert!(doc["pods"].is_null(), "a text dump has no pod map");
    // The dump's own warnings (its notes.txt is not a command output) are in the document
    // and on stderr.
    let warnings = doc["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("notes.txt")),
        "{warnings:?}"
    );
    assert!(err.contains("warning: ignored notes.txt"), "{err}");

    // --node renames; -o writes the file and prints a summary.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("n.json");
    let (code, out, _) = run(&[
        "snapshot",
        "--from-dir",
        "testdata/snapshot-text/node-a",
        "--node",
        "node-7",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("snapshot of node node-7"), "{out}");
    assert!(out.contains("written to"), "{out}");
    let back = netpath::snapshot::load_file(&file).unwrap();
    assert_eq!(back.node(), "node-7");
    assert_eq!(
        back.state.routes.len(),
        doc["routes"].as_array().unwrap().len()
    );
}

#[test]
fn bad_inputs_exit_2_with_a_reason() {
    let (code, _, err) = run(&["snapshot", "--from-dir", "testdata/routes"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("reading") || err.contains("no command outputs"),
        "{err}"
    );
    let (code, _, err) = run(&["snapshot", "--from-dir", "/nonexistent-dir"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a directory"), "{err}");
    let (code, _, err) = run(&[
        "trace",
        "--cluster",
        "demo:flannel-vxlan",
        "default/web-0",
        "default/db-0",
        "--snapshot",
        "testdata/clusters/net-conf.json",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not a snapshot") || err.contains("no \"schema\""),
        "{err}"
    );
    // A snapshot of a node the cluster does not have.
    let dir = tempfile::tempdir().unwrap();
    let mut s = planned("flannel-vxlan", "node-1");
    s.state.node = "elsewhere".into();
    let p = write(dir.path(), "somewhere.json", &s);
    let (code, _, err) = run(&[
        "trace",
        "--cluster",
        "demo:flannel-vxlan",
        "default/web-0",
        "default/db-0",
        "--snapshot",
        &p,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("\"elsewhere\", which is not a node"), "{err}");
}

#[test]
fn a_snapshot_equal_to_the_plan_changes_nothing_but_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "n3.json", &planned("flannel-vxlan", "node-3"));
    let (code, doc) = trace(
        "flannel-vxlan",
        "default/web-0",
        "default/db-0",
        &["--snapshot", &p],
    );
    assert_eq!(code, 0);
    let (_, plan) = trace("flannel-vxlan", "default/web-0", "default/db-0", &[]);
    let hops = doc["request"]["hops"].as_array().unwrap();
    let plan_hops = plan["request"]["hops"].as_array().unwrap();
    assert_eq!(hops.len(), plan_hops.len());
    for (h, p) in hops.iter().zip(plan_hops) {
        assert_eq!(h["action"], p["action"]);
        assert!(h.get("expected").is_none(), "no difference: {h}");
        let want = if h["host"] == "node-3" {
            "snapshot"
        } else {
            "plan"
        };
        assert_eq!(h["source"], want, "{h}");
    }
    assert_eq!(doc["snapshots"][0]["host"], "node-3");
    assert_eq!(doc["snapshots"][0]["matched_by"], "node name");
    assert_eq!(doc["plan"]["request"]["verdict"], "delivered");
}

#[test]
fn route_deleted_drops_at_the_node_that_lost_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = planned("flannel-vxlan", "node-1");
    s.state
        .routes
        .retain(|r| r.dst.to_string() != "10.244.2.0/24");
    let p = write(dir.path(), "node-1.json", &s);
    let (code, doc) = trace(
        "flannel-vxlan",
        "default/web-0",
        "default/db-0",
        &["--snapshot", &p],
    );
    assert_eq!(code, 1);
    let req = &doc["request"];
    assert_eq!(req["verdict"]["verdict"], "dropped");
    assert_eq!(req["verdict"]["host"], "node-1");
    assert_eq!(req["verdict"]["reason"]["code"], "misrouted");
    let route = hops_at(req, "node-1")
        .into_iter()
        .find(|h| h["action"]["kind"] == "route")
        .unwrap();
    assert_eq!(route["source"], "snapshot");
    assert_eq!(
        route["route"]["dst"], "0.0.0.0/0",
        "the default route took it"
    );
    assert_eq!(
        route["expected"]["plan"],
        "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink"
    );
    assert_eq!(doc["plan"]["request"]["verdict"], "delivered");
    // The text view shows both, at that hop.
    let (code, out, _) = run(&[
        "trace",
        "--cluster",
        "demo:flannel-vxlan",
        "default/web-0",
        "default/db-0",
        "--snapshot",
        &p,
    ]);
    assert_eq!(code, 1);
    let at = out
        .find("route    default via 10.234.2.1 dev eth0")
        .unwrap();
    let rest = &out[at..];
    assert!(
        rest.lines()
            .nth(1)
            .unwrap()
            .contains("expected (plan) 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink"),
        "{out}"
    );
    assert!(out.contains("node node-1  [snapshot]"), "{out}");
    assert!(
        out.contains("plan vs real: request: the plan delivers it to default/db-0; the real state drops it at node-1 (eth0): misrouted"),
        "{out}"
    );
}

#[test]
fn fdb_entry_with_the_wrong_vtep_drops_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = planned("flannel-vxlan", "node-3");
    let node1_vtep: MacAddr = "4e:5a:1c:0b:7f:11".parse().unwrap();
    for f in &mut s.state.fdb {
        if f.mac == node1_vtep {
            f.dst = Some(ip("10.234.2.99"));
        }
    }
    let p = write(dir.path(), "node-3.json", &s);
    let (code, doc) = trace(
        "flannel-vxlan",
        "default/web-0",
        "default/db-0",
        &["--snapshot", &p],
    );
    assert_eq!(code, 1);
    assert_eq!(doc["request"]["verdict"]["verdict"], "delivered");
    let reply = &doc["reply"];
    assert_eq!(reply["verdict"]["host"], "node-3");
    assert_eq!(reply["verdict"]["reason"]["code"], "no-neighbour");
    let fdb = hops_at(reply, "node-3")
        .into_iter()
        .find(|h| h["action"]["kind"] == "fdb")
        .unwrap();
    assert_eq!(fdb["action"]["dst"], "10.234.2.99");
    assert_eq!(
        fdb["expected"]["plan"],
        "4e:5a:1c:0b:7f:11 dev flannel.1 dst 10.234.2.11 self permanent"
    );
}

#[test]
fn ip_forward_off_drops_forwarded_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = planned("flannel-vxlan", "node-3");
    s.state.sysctls.ip_forward = Some(false);
    let p = write(dir.path(), "node-3.json", &s);
    let (code, doc) = trace(
        "flannel-vxlan",
        "default/web-0",
        "default/db-0",
        &["--snapshot", &p],
    );
    assert_eq!(code, 1);
    let req = &doc["request"];
    assert_eq!(req["verdict"]["host"], "node-3");
    assert_eq!(
        req["verdict"]["device"], "flannel.1",
        "dropped after decapsulation"
    );
    assert_eq!(req["verdict"]["reason"]["code"], "forwarding-disabled");
    let last = req["hops"].as_array().unwrap().last().unwrap();
    assert_eq!(last["action"]["kind"], "drop");
    assert_eq!(last["expected"]["plan"], "net.ipv4.ip_forward = 1");
    // Traffic to the node itself is not forwarded: still delivered.
    let (code, _) = trace(
        "flannel-vxlan",
        "default/web-0",
        "node-3",
        &["--snapshot", &p],
    );
    assert_eq!(code, 0);
}

/// Give a host-gw node of demo:flannel-host-gw-routed a Flannel VXLAN device toward `peer`,
/// replacing its host-gw route (which cannot work across the router).
#[allow(clippy::too_many_arguments)]
fn vxlan_fix(
    st: &mut NodeState,
    local: &str,
    my_mac: &str,
    my_vtep: &str,
    peer_lease: &str,
    peer_vtep: &str,
    peer_ip: &str,
    peer_mac: &str,
) {
    let peer_mac: MacAddr = peer_mac.parse().unwrap();
    st.routes.retain(|r| r.dst.to_string() != peer_lease);
    st.links.push(Link {
        ifindex: 0,
        name: "flannel.1".into(),
        kind: LinkKind::Vxlan(Vxlan {
            vni: 1,
            port: 8472,
            local: Some(ip(local)),
            dev: Some("eth0".into()),
            learning: false,
        }),
        mtu: 1450,
        mac: Some(my_mac.parse().unwrap()),
        up: true,
        oper_state: None,
        master: None,
        hairpin: None,
    });
    st.addrs.push(Addr {
        dev: "flannel.1".into(),
        addr: format!("{my_vtep}/32").parse().unwrap(),
        scope: Scope::Universe,
    });
    st.neighbours.push(Neighbour {
        dst: ip(peer_vtep),
        lladdr: Some(peer_mac),
        dev: "flannel.1".into(),
        state: NudState::Permanent,
    });
    st.fdb.push(FdbEntry {
        mac: peer_mac,
        dst: Some(ip(peer_ip)),
        dev: "flannel.1".into(),
        master: None,
        self_: true,
        state: NudState::Permanent,
    });
    st.routes.push(Route::unicast(
        peer_lease.parse().unwrap(),
        Nexthop::via(ip(peer_vtep), "flannel.1").onlink(),
    ));
}

#[test]
fn a_vxlan_fix_delivers_where_the_plan_drops() {
    let (code, _) = trace(
        "flannel-host-gw-routed",
        "default/web-0",
        "default/db-0",
        &[],
    );
    assert_eq!(code, 1, "the plan: host-gw across a router cannot work");
    let dir = tempfile::tempdir().unwrap();
    let mut n1 = planned("flannel-host-gw-routed", "node-1");
    let mut n3 = planned("flannel-host-gw-routed", "node-3");
    let (m1, m3) = ("02:00:00:00:01:01", "02:00:00:00:03:03");
    vxlan_fix(
        &mut n1.state,
        "192.168.1.11",
        m1,
        "10.244.0.0",
        "10.244.2.0/24",
        "10.244.2.0",
        "192.168.2.11",
        m3,
    );
    vxlan_fix(
        &mut n3.state,
        "192.168.2.11",
        m3,
        "10.244.2.0",
        "10.244.0.0/24",
        "10.244.0.0",
        "192.168.1.11",
        m1,
    );
    // One directory, one snapshot per node, matched by file name (the node names inside
    // are not the cluster's).
    n1.state.node = "ip-192-168-1-11".into();
    n3.state.node = "ip-192-168-2-11".into();
    write(dir.path(), "node-1.json", &n1);
    write(dir.path(), "node-3.json", &n3);
    let d = dir.path().to_str().unwrap();
    let (code, doc) = trace(
        "flannel-host-gw-routed",
        "default/web-0",
        "default/db-0",
        &["--snapshot", d],
    );
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["request"]["verdict"]["verdict"], "delivered");
    assert_eq!(doc["reply"]["verdict"]["verdict"], "delivered");
    assert_eq!(doc["plan"]["request"]["verdict"], "dropped");
    let snaps = doc["snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 2);
    assert!(snaps.iter().all(|s| s["matched_by"] == "file name"));
    // At node-1's route hop: the real VXLAN route, and the plan's host-gw route with why it
    // fails.
    let route = hops_at(&doc["request"], "node-1")
        .into_iter()
        .find(|h| h["action"]["kind"] == "route" && h["depth"] == 0)
        .unwrap();
    assert_eq!(route["route"]["nexthops"][0]["dev"], "flannel.1");
    assert_eq!(
        route["expected"]["plan"],
        "10.244.2.0/24 via 192.168.2.11 dev eth0"
    );
    assert!(
        route["expected"]["outcome"]
            .as_str()
            .unwrap()
            .contains("next hop 192.168.2.11 is not on-link on eth0"),
        "{route}"
    );
    // The encapsulated packet crosses the router.
    let hosts: Vec<&str> = doc["request"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert!(hosts.contains(&"router"), "{hosts:?}");
}
