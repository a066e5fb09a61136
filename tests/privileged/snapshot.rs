//! `netpath snapshot` and `netpath trace --snapshot/--live` against real kernel state: a
//! node's dataplane built in a test netns from its plan (the `ip`/`bridge`/`sysctl` commands
//! `netpath plan` prints, with the pods' namespaces renamed to be the test's own), read back,
//! broken one way at a time, and traced.

use std::collections::BTreeSet;
use std::path::Path;

use libtest_mimic::{Failed, Trial};
use netpath::dataplane::{LinkKind, NodeState, NudState, Table};
use netpath::model::Cluster;
use netpath::snapshot::Snapshot;
use serde_json::Value;

use crate::lab::{TestNetns, netpath, sh, sh_output};

pub fn tests() -> Vec<Trial> {
    vec![
        Trial::test("snapshot::flannel_vxlan_node_reads_back_as_planned", || {
            reads_back_as_planned("flannel-vxlan", "node-2")
        }),
        Trial::test(
            "snapshot::calico_vxlan_crosssubnet_node_reads_back_as_planned",
            || reads_back_as_planned("calico-vxlan-crosssubnet", "node-1"),
        ),
        Trial::test(
            "snapshot::flannel_host_gw_node_reads_back_as_planned",
            || reads_back_as_planned("flannel-host-gw", "node-1"),
        ),
        Trial::test(
            "snapshot::trace_over_a_real_node_broken_five_ways",
            trace_over_a_broken_node,
        ),
        Trial::test(
            "snapshot::live_trace_shows_the_kernels_answer",
            live_trace_shows_the_kernels_answer,
        ),
        Trial::test(
            "snapshot::text_dumps_of_the_node_read_like_the_live_snapshot",
            text_dumps_read_like_live,
        ),
    ]
}

/// A node built from its plan: the node netns, the pods' namespaces, and the far end of the
/// node's uplink (its own netns), all removed on drop.
pub(crate) struct PlannedNode {
    pub(crate) node: TestNetns,
    _underlay: TestNetns,
    pods: Vec<PodNs>,
    cluster: Cluster,
    name: String,
}

struct PodNs(String);

impl Drop for PodNs {
    fn drop(&mut self) {
        let _ = sh_output(&format!("ip netns del {}", self.0));
    }
}

impl PlannedNode {
    /// Build `node` of demo cluster `cluster` by running the commands of `netpath plan`.
    pub(crate) fn build(cluster: &str, node: &str) -> PlannedNode {
        let c = Cluster::load(&format!("demo:{cluster}"), &Default::default()).unwrap();
        let ns = TestNetns::new("snap");
        let underlay = TestNetns::new("snapu");
        let uplink = c.node(node).unwrap().iface.clone();
        sh(&format!(
            "ip link add {uplink} netns {} type veth peer name up0 netns {} && ip -n {} link set up0 up",
            ns.name, underlay.name, underlay.name
        ));
        let out = netpath()
            .args([
                "plan",
                "--cluster",
                &format!("demo:{cluster}"),
                "--node",
                node,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let script = String::from_utf8(out.stdout).unwrap();
        let mut pods: Vec<(String, PodNs)> = Vec::new();
        for line in script.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let renamed = |n: &str| format!("{}-{n}", ns.name);
            let cmd = match words.as_slice() {
                ["ip", "netns", "add", pod] => {
                    let name = renamed(pod);
                    pods.push((pod.to_string(), PodNs(name.clone())));
                    format!("ip netns add {name}")
                }
                ["ip", "-n", pod, rest @ ..] => {
                    format!("ip -n {} {}", renamed(pod), rest.join(" "))
                }
                ["ip", rest @ ..] => {
                    let mut rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
                    for i in 1..rest.len() {
                        if rest[i - 1] == "netns" {
                            rest[i] = renamed(&rest[i]);
                        }
                    }
                    format!("ip -n {} {}", ns.name, rest.join(" "))
                }
                ["bridge", ..] | ["sysctl", ..] => {
                    format!("ip netns exec {} {line}", ns.name)
                }
                _ => panic!("unexpected line in the plan: {line}"),
            };
            sh(&cmd);
        }
        PlannedNode {
            node: ns,
            _underlay: underlay,
            pods: pods.into_iter().map(|(_, p)| p).collect(),
            cluster: c,
            name: node.to_string(),
        }
    }

    /// `netpath snapshot --netns … --node …`, written to `dir/<node>.json` and loaded back.
    pub(crate) fn snapshot(&self, dir: &Path) -> (Snapshot, String) {
        let file = dir.join(format!("{}.json", self.name));
        let out = netpath()
            .args([
                "snapshot",
                "--netns",
                &self.node.name,
                "--node",
                &self.name,
                "-o",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s = netpath::snapshot::load_file(&file).unwrap();
        (s, file.display().to_string())
    }
}

fn route_key(r: &netpath::dataplane::Route) -> String {
    // `ip route` text is the key: prefix, type, gateways, devices, onlink, proto, scope.
    r.to_string()
}

/// The planned state's CNI-owned objects must be in the real one, exactly.
fn check_equal_on_cni_objects(plan: &NodeState, real: &NodeState, uplink: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for l in plan
        .links
        .iter()
        .filter(|l| l.name != uplink && l.name != "lo")
    {
        let Some(r) = real.link(&l.name) else {
            bad.push(format!("missing device {}", l.name));
            continue;
        };
        if r.kind.name() != l.kind.name() || r.mtu != l.mtu || r.master != l.master || !r.up {
            bad.push(format!("device {} differs: plan {l:?}, real {r:?}", l.name));
        }
        if l.mac.is_some() && r.mac != l.mac {
            bad.push(format!("device {} MAC {:?} != {:?}", l.name, r.mac, l.mac));
        }
        if let (LinkKind::Vxlan(p), LinkKind::Vxlan(q)) = (&l.kind, &r.kind) {
            if p != q {
                bad.push(format!("vxlan {} differs: plan {p:?}, real {q:?}", l.name));
            }
        }
    }
    for a in plan.addrs.iter().filter(|a| a.dev != "lo") {
        if !real
            .addrs
            .iter()
            .any(|r| r.dev == a.dev && r.addr == a.addr)
        {
            bad.push(format!("missing address {} dev {}", a.addr, a.dev));
        }
    }
    let main_v4 = |st: &NodeState| -> BTreeSet<String> {
        st.routes
            .iter()
            .filter(|r| r.table == Table::MAIN && r.dst.is_ipv4())
            .map(route_key)
            .collect()
    };
    let (p, r) = (main_v4(plan), main_v4(real));
    for missing in p.difference(&r) {
        bad.push(format!("missing route {missing}"));
    }
    for extra in r.difference(&p) {
        bad.push(format!("unexpected route {extra}"));
    }
    for n in plan
        .neighbours
        .iter()
        .filter(|n| n.state == NudState::Permanent)
    {
        if !real
            .neighbours
            .iter()
            .any(|r| r.dst == n.dst && r.dev == n.dev && r.lladdr == n.lladdr && r.state == n.state)
        {
            bad.push(format!("missing neighbour {n:?}"));
        }
    }
    let vtep_fdb = |st: &NodeState| -> BTreeSet<String> {
        st.fdb
            .iter()
            .filter(|f| f.dst.is_some())
            .map(|f| format!("{} dev {} dst {:?} self {}", f.mac, f.dev, f.dst, f.self_))
            .collect()
    };
    if vtep_fdb(plan) != vtep_fdb(real) {
        bad.push(format!(
            "VXLAN FDB differs: plan {:?}, real {:?}",
            vtep_fdb(plan),
            vtep_fdb(real)
        ));
    }
    if plan.sysctls.ip_forward != real.sysctls.ip_forward {
        bad.push(format!(
            "ip_forward {:?} != {:?}",
            real.sysctls.ip_forward, plan.sysctls.ip_forward
        ));
    }
    for (dev, on) in &plan.sysctls.proxy_arp {
        if real.sysctls.proxy_arp.get(dev) != Some(on) {
            bad.push(format!("proxy_arp of {dev} is not {on}"));
        }
    }
    bad
}

fn reads_back_as_planned(cluster: &str, node: &str) -> Result<(), Failed> {
    let built = PlannedNode::build(cluster, node);
    let dir = tempfile::tempdir()?;
    let (snap, _) = built.snapshot(dir.path());
    let plan = netpath::plan::node(&built.cluster, node)?;
    let uplink = built.cluster.node(node).unwrap().iface.clone();
    let bad = check_equal_on_cni_objects(&plan.state, &snap.state, &uplink);
    if !bad.is_empty() {
        return Err(bad.join("\n").into());
    }
    assert_eq!(snap.node(), node);
    assert!(snap.unread.is_empty(), "{:?}", snap.unread);
    assert!(snap.kernel.is_some());
    // Rules: the kernel's three defaults, read.
    assert!(snap.state.rules.iter().any(|r| r.priority == 32766));
    // The pod map: every planned pod behind its planned host veth, in its own netns, with its
    // address, and its netns read.
    let pods = snap.pods.as_ref().ok_or("no pod map")?;
    let veths: Vec<&str> = pods.iter().map(|p| p.host_veth.as_str()).collect();
    assert_eq!(pods.len(), plan.pods.len(), "{veths:?}");
    for p in &plan.pods {
        let e = snap
            .pod_by_veth(&p.host_veth)
            .ok_or(format!("no pod behind {}", p.host_veth))?;
        let want = p.state.addrs.iter().find(|a| a.dev == "eth0").unwrap().addr;
        assert!(e.ips.contains(&want), "{e:?}");
        assert_eq!(e.ifname.as_deref(), Some("eth0"));
        let ns = e.netns.as_deref().unwrap_or_default();
        assert!(
            built.pods.iter().any(|n| n.0 == ns),
            "pod netns {ns} is not one of the test's"
        );
        let st = e.state.as_ref().ok_or("pod state not read")?;
        let default = st.routes.iter().find(|r| r.dst.prefix() == 0).unwrap();
        let planned_default = p.state.routes.iter().find(|r| r.dst.prefix() == 0).unwrap();
        assert_eq!(default.to_string(), planned_default.to_string());
    }
    Ok(())
}

pub(crate) fn trace_json(args: &[&str]) -> (i32, Value) {
    let out = netpath()
        .arg("--json")
        .arg("trace")
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (code, doc)
}

fn trace_file(file: &str, src: &str, dst: &str) -> (i32, Value) {
    trace_json(&[
        "--cluster",
        "demo:flannel-vxlan",
        src,
        dst,
        "--snapshot",
        file,
    ])
}

fn trace_over_a_broken_node() -> Result<(), Failed> {
    let built = PlannedNode::build("flannel-vxlan", "node-2");
    let dir = tempfile::tempdir()?;
    let ns = &built.node;
    // As built: web-0 (node-1) ↔ web-1 (node-2) delivered both ways, node-2 walked through
    // the snapshot, its pod wired through the real veth.
    let (_, file) = built.snapshot(dir.path());
    let (code, doc) = trace_file(&file, "default/web-0", "default/web-1");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["snapshots"][0]["pods_mapped"], 2);
    let hosts_sources: BTreeSet<(String, String)> = doc["request"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["host"].as_str().unwrap().to_string(),
                h["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(hosts_sources.contains(&("node-2".into(), "snapshot".into())));
    assert!(hosts_sources.contains(&("default/web-1".into(), "snapshot".into())));
    assert!(hosts_sources.contains(&("node-1".into(), "plan".into())));

    // 1. The route to node-1's lease deleted: the reply leaves by the default route.
    ns.exec("ip route del 10.244.0.0/24");
    let (_, file) = built.snapshot(dir.path());
    let (code, doc) = trace_file(&file, "default/web-0", "default/web-1");
    assert_eq!(code, 1);
    assert_eq!(doc["request"]["verdict"]["verdict"], "delivered");
    let v = &doc["reply"]["verdict"];
    assert_eq!(
        (v["host"].as_str(), v["reason"]["code"].as_str()),
        (Some("node-2"), Some("misrouted")),
        "{v}"
    );
    let route = doc["reply"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "node-2" && h["action"]["kind"] == "route")
        .unwrap();
    assert_eq!(
        route["expected"]["plan"],
        "10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink"
    );
    ns.exec("ip route add 10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink");

    // 2. node-1's VTEP MAC mapped to a wrong underlay address.
    ns.exec("bridge fdb replace 4e:5a:1c:0b:7f:11 dev flannel.1 dst 10.234.2.99 self permanent");
    let (_, file) = built.snapshot(dir.path());
    let (code, doc) = trace_file(&file, "default/web-0", "default/web-1");
    assert_eq!(code, 1);
    let fdb = doc["reply"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"]["kind"] == "fdb")
        .unwrap();
    assert_eq!(fdb["host"], "node-2");
    assert_eq!(fdb["action"]["dst"], "10.234.2.99");
    assert_eq!(
        fdb["expected"]["plan"],
        "4e:5a:1c:0b:7f:11 dev flannel.1 dst 10.234.2.11 self permanent"
    );
    assert_eq!(doc["reply"]["verdict"]["host"], "node-2");
    ns.exec("bridge fdb replace 4e:5a:1c:0b:7f:11 dev flannel.1 dst 10.234.2.11 self permanent");

    // 3. ip_forward off: traffic for the pod arrives over VXLAN and is not forwarded.
    ns.exec("sysctl -qw net.ipv4.ip_forward=0");
    let (snap, file) = built.snapshot(dir.path());
    assert_eq!(snap.state.sysctls.ip_forward, Some(false));
    let (code, doc) = trace_file(&file, "default/web-0", "default/web-1");
    assert_eq!(code, 1);
    let v = &doc["request"]["verdict"];
    assert_eq!(v["host"], "node-2");
    assert_eq!(v["device"], "flannel.1");
    assert_eq!(v["reason"]["code"], "forwarding-disabled");
    let last = doc["request"]["hops"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["expected"]["plan"], "net.ipv4.ip_forward = 1");
    ns.exec("sysctl -qw net.ipv4.ip_forward=1");

    // 4. Strict rp_filter on flannel.1 and a host route sending web-0 back out eth0: the
    // request, decapsulated on flannel.1, fails the reverse-path check.
    let web0 = doc["src"]["ip"].as_str().unwrap().to_string();
    ns.exec(&format!("ip route add {web0}/32 via 10.234.2.11 dev eth0"));
    ns.exec("echo 1 > /proc/sys/net/ipv4/conf/flannel.1/rp_filter");
    let (snap, file) = built.snapshot(dir.path());
    assert_eq!(snap.state.sysctls.rp_filter.get("flannel.1"), Some(&1));
    let (code, doc) = trace_file(&file, "default/web-0", "default/web-1");
    assert_eq!(code, 1);
    let v = &doc["request"]["verdict"];
    assert_eq!(
        (
            v["host"].as_str(),
            v["device"].as_str(),
            v["reason"]["code"].as_str()
        ),
        (Some("node-2"), Some("flannel.1"), Some("rp-filter")),
        "{v}"
    );
    // The kernel agrees: its input lookup from web-0 on flannel.1 is refused.
    let web1 = doc["dst"]["ip"].as_str().unwrap().to_string();
    let get = format!("ip route get {web1} from {web0} iif flannel.1");
    let out = ns.exec_output(&get);
    assert!(
        !out.status.success(),
        "the kernel routed it: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Loose mode accepts it (a route back exists), the kernel too.
    ns.exec("echo 2 > /proc/sys/net/ipv4/conf/flannel.1/rp_filter");
    let out = ns.exec_output(&get);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, file) = built.snapshot(dir.path());
    let (_, doc) = trace_file(&file, "default/web-0", "default/web-1");
    assert_eq!(
        doc["request"]["verdict"]["verdict"], "delivered",
        "{}",
        doc["request"]["verdict"]
    );
    Ok(())
}

fn live_trace_shows_the_kernels_answer() -> Result<(), Failed> {
    let built = PlannedNode::build("flannel-vxlan", "node-2");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "--cluster",
            "demo:flannel-vxlan",
            "default/web-1",
            "default/db-0",
            "--live",
            "--node",
            "node-2",
            "--netns",
            &built.node.name,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let a = args(&[]);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, doc) = trace_json(&refs);
    assert_eq!(code, 0, "{doc}");
    let asked: Vec<&Value> = doc["request"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h.get("kernel").is_some())
        .collect();
    assert!(
        asked.len() >= 2,
        "the forwarding lookup and the outer packet's: {asked:?}"
    );
    for h in &asked {
        assert_eq!(h["host"], "node-2");
        assert_eq!(h["source"], "live");
        assert_eq!(h["kernel"]["agrees"], true, "{h}");
    }
    let first = &asked[0]["kernel"];
    assert_eq!(
        first["query"],
        "ip route get 10.244.2.2 from 10.244.1.2 iif cni0"
    );
    assert!(
        first["answer"]
            .as_str()
            .unwrap()
            .contains("via 10.244.2.0 dev flannel.1"),
        "{first}"
    );
    // With forwarding off, netpath drops and the kernel refuses the same lookup.
    built.node.exec("sysctl -qw net.ipv4.ip_forward=0");
    let (code, doc) = trace_json(&refs);
    assert_eq!(code, 1);
    let last = doc["request"]["hops"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"]["kind"], "drop");
    assert!(
        last["kernel"]["answer"]
            .as_str()
            .unwrap()
            .starts_with("error:"),
        "{last}"
    );
    assert_eq!(last["kernel"]["agrees"], true);
    // The text view puts the kernel's answer under the hop.
    let out = netpath().arg("trace").args(&refs).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("kernel ip route get 10.244.2.2 from 10.244.1.2 iif cni0 → error:"),
        "{text}"
    );
    assert!(text.contains("node node-2  [live]"), "{text}");
    Ok(())
}

fn text_dumps_read_like_live() -> Result<(), Failed> {
    let built = PlannedNode::build("flannel-vxlan", "node-2");
    let dir = tempfile::tempdir()?;
    let (live, _) = built.snapshot(dir.path());
    let dump = dir.path().join("node-2");
    std::fs::create_dir(&dump)?;
    let d = dump.display();
    built.node.exec(&format!(
        "ip route show table all > {d}/ip-route.txt; ip -d link > {d}/ip-link.txt; ip addr > {d}/ip-addr.txt; ip neigh > {d}/ip-neigh.txt; bridge fdb > {d}/bridge-fdb.txt; sysctl -a > {d}/sysctl.txt 2>/dev/null; echo node-2 > {d}/hostname"
    ));
    let out = netpath()
        .args(["snapshot", "--from-dir"])
        .arg(&dump)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text: Snapshot = serde_json::from_slice(&out.stdout)?;
    assert_eq!(text.node(), "node-2");
    let bad = check_equal_on_cni_objects(&live.state, &text.state, "eth0");
    if !bad.is_empty() {
        return Err(bad.join("\n").into());
    }
    // The text dump traces like the live snapshot (pods wired by planned names, said so).
    let (code, doc) = trace_file(
        &dump.display().to_string(),
        "default/web-0",
        "default/web-1",
    );
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["snapshots"][0]["source"], "snapshot");
    let notes = doc["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("no pod map")),
        "{notes:?}"
    );
    Ok(())
}
