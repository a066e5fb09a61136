//! Flannel nodes as the real components build them: pods made by the standard `bridge` CNI
//! plugin with Flannel's delegate config, the libcni cache as containerd writes it, and
//! flanneld's part (`flannel.1`, neighbours, FDB, routes) programmed by `netpath agent`.
//! On healthy nodes `check` is clean, `pods` names every pod, `agent --once` converges and
//! leaves what the CNI plugin owns alone, and `trace --snapshot` agrees with real traffic;
//! each incident is named by `check` and predicted pair by pair by `trace --snapshot`.

use std::net::Ipv4Addr;

use anyhow::{Context, anyhow, bail, ensure};
use libtest_mimic::Trial;
use serde_json::{Value, json};

use crate::real_lab::{RealLab, random_mac};

/// The flannel image a kube-flannel DaemonSet of today runs.
const FLANNEL_IMAGE: &str = "ghcr.io/flannel-io/flannel:v0.28.9";

/// The Flannel network.
const NETWORK: &str = "10.244.0.0/16";

/// The trials of this module.
pub fn tests() -> Vec<Trial> {
    let t = crate::real_lab::trial;
    vec![
        t("real_flannel_vxlan_healthy_nodes", vxlan_healthy),
        t("real_flannel_host_gw_healthy_nodes", host_gw_healthy),
        t("real_flannel_vxlan_fdb_entry_deleted", fdb_entry_deleted),
        t("real_flannel_vxlan_pod_veth_down", pod_veth_down),
        t("real_flannel_vxlan_veth_detached_from_cni0", veth_detached),
        t(
            "real_flannel_vxlan_vtep_mac_changed_peers_keep_old",
            vtep_mac_changed,
        ),
        t("real_flannel_vxlan_pod_sandbox_gone", sandbox_gone),
        t(
            "real_flannel_vxlan_leaked_pod_still_answers",
            leaked_pod_answers,
        ),
        t("real_flannel_vxlan_pod_port_hairpin_off", hairpin_off),
    ]
}

/// A Flannel cluster of three nodes on one L2 segment and four pods made by the CNI plugins.
struct FlannelLab {
    lab: RealLab,
    backend: &'static str,
    /// Each node's VTEP MAC, as its flanneld published it (vxlan).
    macs: Vec<String>,
    /// `dump.json`: a `kubectl get nodes,pods,cm -A -o json` of the cluster.
    dump: String,
    /// Pods Kubernetes no longer lists (left out of the dump; still on their node).
    forgotten: Vec<String>,
}

const NODES: [(&str, [u8; 4], &str); 3] = [
    ("node-1", [10, 236, 0, 11], "10.244.0.0/24"),
    ("node-2", [10, 236, 0, 12], "10.244.1.0/24"),
    ("node-3", [10, 236, 0, 13], "10.244.2.0/24"),
];

const PODS: [(&str, &str, &str); 4] = [
    ("default", "web-0", "node-1"),
    ("default", "web-1", "node-1"),
    ("default", "api-0", "node-2"),
    ("default", "db-0", "node-3"),
];

impl FlannelLab {
    /// flanneld first (the agent programs its part from a dump without pods yet), then the
    /// kubelet's runtime adds each pod with the `bridge` plugin, then the dump as kubectl
    /// would show it now, then a snapshot of every node.
    fn build(tag: &str, backend: &'static str) -> anyhow::Result<FlannelLab> {
        let nodes: Vec<(&str, Ipv4Addr)> = NODES
            .iter()
            .map(|(n, ip, _)| (*n, Ipv4Addr::from(*ip)))
            .collect();
        let lab = RealLab::new(tag, &nodes, &[], &PODS)?;
        let macs: Vec<String> = NODES.iter().map(|_| random_mac()).collect();
        let dump = lab.cluster_path("dump.json");
        let mut fl = FlannelLab {
            lab,
            backend,
            macs,
            dump,
            forgotten: Vec::new(),
        };
        fl.write_dump()?;
        fl.agent_all()?;
        let mtu = if backend == "vxlan" { 1450 } else { 1500 };
        for (ns, name, node) in PODS {
            let cidr = NODES
                .iter()
                .find(|n| n.0 == node)
                .map(|n| n.2)
                .ok_or_else(|| anyhow!("no node {node}"))?;
            let conf = delegate_conf(&fl.lab, node, cidr, mtu);
            fl.lab.cni_add(ns, name, node, &conf)?;
        }
        fl.write_dump()?;
        fl.lab.snapshot_all()?;
        Ok(fl)
    }

    /// `netpath agent --once` on every node, as flanneld would start on each; it must
    /// succeed (the pods are not yet there).
    fn agent_all(&self) -> anyhow::Result<()> {
        for (n, _, _) in NODES {
            let run = self.lab.agent_once(&self.dump, n, &[])?;
            ensure!(
                run.code == Some(0),
                "flanneld's part on {n}: netpath agent --once exited {:?}: {}\n{}",
                run.code,
                run.stderr,
                run.doc
            );
        }
        Ok(())
    }

    /// The kubectl dump: nodes with flanneld's annotations, the kube-flannel ConfigMap, one
    /// kube-flannel pod per node (host network, the image tag), and the lab's pods.
    fn write_dump(&self) -> anyhow::Result<()> {
        let mut items = Vec::new();
        for (i, (name, ip, cidr)) in NODES.iter().enumerate() {
            let ip = Ipv4Addr::from(*ip);
            let mut ann = json!({
                "flannel.alpha.coreos.com/backend-type": self.backend,
                "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                "flannel.alpha.coreos.com/public-ip": ip.to_string(),
            });
            ann["flannel.alpha.coreos.com/backend-data"] = if self.backend == "vxlan" {
                json!(format!(r#"{{"VNI":1,"VtepMAC":"{}"}}"#, self.macs[i]))
            } else {
                json!("null")
            };
            items.push(json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "annotations": ann,
                             "labels": {"kubernetes.io/hostname": name}},
                "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
                "status": {"addresses": [{"type": "InternalIP", "address": ip.to_string()},
                                         {"type": "Hostname", "address": name}]}
            }));
            items.push(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("kube-flannel-ds-{i}x7k2"), "namespace": "kube-flannel"},
                "spec": {"hostNetwork": true, "nodeName": name,
                         "containers": [{"name": "kube-flannel", "image": FLANNEL_IMAGE}]},
                "status": {"phase": "Running", "hostIP": ip.to_string(), "podIP": ip.to_string(),
                           "podIPs": [{"ip": ip.to_string()}]}
            }));
        }
        let net_conf = json!({"Network": NETWORK, "EnableNFTables": false,
                              "Backend": {"Type": self.backend}});
        items.push(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-flannel-cfg", "namespace": "kube-flannel"},
            "data": {
                "cni-conf.json": r#"{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}"#,
                "net-conf.json": serde_json::to_string_pretty(&net_conf)?,
            }
        }));
        for p in self
            .lab
            .pods
            .iter()
            .filter(|p| !self.forgotten.contains(&p.key()))
        {
            let host_ip = NODES
                .iter()
                .find(|n| n.0 == p.node)
                .map(|n| Ipv4Addr::from(n.1).to_string())
                .unwrap_or_default();
            items.push(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": p.name, "namespace": p.namespace, "uid": format!("uid-{}", p.name)},
                "spec": {"nodeName": p.node, "containers": [{"name": "app", "image": "registry.example.com/app:1"}]},
                "status": {"phase": "Running", "hostIP": host_ip, "podIP": p.ip.to_string(),
                           "podIPs": [{"ip": p.ip.to_string()}]}
            }));
        }
        let doc = json!({"apiVersion": "v1", "kind": "List", "items": items});
        std::fs::write(&self.dump, serde_json::to_string_pretty(&doc)?).context("writing the dump")
    }

    fn pod(&self, key: &str) -> anyhow::Result<crate::real_lab::RealPod> {
        self.lab.pod(key).cloned()
    }

    /// `check` over every node's snapshot.
    fn check(&self) -> anyhow::Result<crate::real_lab::CheckRun> {
        self.lab.check(&self.dump, &[])
    }

    /// Every ordered pod pair, traced through the snapshots and tried for real: they must
    /// agree everywhere; the pairs real traffic cannot cross.
    fn traffic_agrees(&self) -> anyhow::Result<Vec<(String, String)>> {
        let report = self.lab.compare_all(&self.dump, &[])?;
        ensure!(
            report.disagree.is_empty(),
            "trace --snapshot disagrees with real traffic:\n{}",
            report.explain()
        );
        Ok(report.broken)
    }
}

/// The delegate config the `flannel` CNI plugin hands to `bridge` (flannel-io/cni-plugin
/// `flannel_linux.go`): kube-flannel's `hairpinMode` and `isDefaultGateway`, `isGateway`,
/// the MTU from subnet.env, `ipMasq` off (flanneld masquerades), host-local with the node's
/// lease and the Network route; host-local's state in the lab's directory.
fn delegate_conf(lab: &RealLab, node: &str, cidr: &str, mtu: u32) -> Value {
    let data_dir = lab.dir.path().join("ipam").join(node);
    json!({
        "cniVersion": "0.3.1",
        "name": "cbr0",
        "type": "bridge",
        "bridge": "cni0",
        "isGateway": true,
        "isDefaultGateway": true,
        "hairpinMode": true,
        "ipMasq": false,
        "mtu": mtu,
        "ipam": {
            "type": "host-local",
            "dataDir": data_dir.to_string_lossy(),
            "ranges": [[{"subnet": cidr}]],
            "routes": [{"dst": NETWORK}],
        }
    })
}

/// The healthy-node assertions, shared by the backends; every failing one is reported.
fn healthy(fl: &FlannelLab) -> anyhow::Result<()> {
    let lab = &fl.lab;
    let mut errs: Vec<String> = Vec::new();
    let check = fl.check()?;
    if check.code != Some(0) || !check.problems().is_empty() {
        errs.push(format!(
            "check on healthy {} nodes: exit {:?}\n{}",
            fl.backend,
            check.code,
            check.listing()
        ));
    }
    for (n, _, _) in NODES {
        let (code, doc) = lab.pods_of(n)?;
        let text = doc.to_string();
        for p in lab.pods.iter().filter(|p| p.node == n) {
            if !(text.contains(&p.name) && text.contains(&p.host_veth)) {
                errs.push(format!(
                    "pods on {n} does not name {} on {}: {doc}",
                    p.key(),
                    p.host_veth
                ));
            }
        }
        if code != Some(0) {
            errs.push(format!("pods on healthy {n}: exit {code:?}: {doc}"));
        }
    }
    let cni0_before: Vec<String> = NODES
        .iter()
        .map(|(n, _, _)| lab.exec(n, "cat /sys/class/net/cni0/address"))
        .collect::<anyhow::Result<_>>()?;
    for (n, _, _) in NODES {
        let first = lab.agent_once(&fl.dump, n, &[])?;
        if first.code != Some(0) {
            errs.push(format!(
                "agent --once on healthy {n}: exit {:?}: {}\n{}",
                first.code, first.stderr, first.doc
            ));
        }
        let second = lab.agent_once(&fl.dump, n, &[])?;
        if second.code != Some(0) || !second.applied().is_empty() {
            errs.push(format!(
                "agent --once a second time on {n}: exit {:?}, changes {:?}",
                second.code,
                second.applied()
            ));
        }
    }
    for ((n, _, _), before) in NODES.iter().zip(&cni0_before) {
        let after = lab.exec(n, "cat /sys/class/net/cni0/address")?;
        if &after != before {
            errs.push(format!(
                "agent changed {n}'s cni0 MAC (the bridge plugin's) from {} to {}",
                before.trim(),
                after.trim()
            ));
        }
    }
    lab.snapshot_all()?;
    match fl.traffic_agrees() {
        Err(e) => errs.push(format!("{e:#}")),
        Ok(broken) if !broken.is_empty() => {
            errs.push(format!("healthy nodes, yet real traffic fails: {broken:?}"))
        }
        Ok(_) => {}
    }
    if !errs.is_empty() {
        bail!("{}", errs.join("\n"));
    }
    Ok(())
}

fn vxlan_healthy() -> anyhow::Result<()> {
    healthy(&FlannelLab::build("rfvh", "vxlan")?)
}

fn host_gw_healthy() -> anyhow::Result<()> {
    healthy(&FlannelLab::build("rfgh", "host-gw")?)
}

/// After an incident: `check` must name it (`words`, in one error or warning), and
/// `trace --snapshot` must predict exactly the broken pairs, which must be `expect`.
fn incident(fl: &FlannelLab, words: &[&str], expect: &[(&str, &str)]) -> anyhow::Result<()> {
    fl.lab.snapshot_all()?;
    let check = fl.check()?;
    let named = check.names(words);
    let broken = fl.traffic_agrees();
    let mut want: Vec<(String, String)> = expect
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    want.sort();
    let mut errs = Vec::new();
    if !named {
        errs.push(format!(
            "check does not name the cause ({words:?}); exit {:?}, findings:\n{}",
            check.code,
            check.listing()
        ));
    }
    match broken {
        Err(e) => errs.push(format!("{e:#}")),
        Ok(b) if b != want => errs.push(format!(
            "real traffic broke {b:?}, the incident should break exactly {want:?}"
        )),
        Ok(_) => {}
    }
    if !errs.is_empty() {
        bail!("{}", errs.join("\n"));
    }
    Ok(())
}

/// Every ordered pair between the pods of `a` (node) and those of `b`, both orders.
fn pairs_between(a: &[&str], b: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            out.push((x.to_string(), y.to_string()));
            out.push((y.to_string(), x.to_string()));
        }
    }
    out
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// node-1 loses its FDB entry for node-2's VTEP: node-1's pods cannot reach node-2's (the
/// replies of node-2's requests do not come back either).
fn fdb_entry_deleted() -> anyhow::Result<()> {
    let fl = FlannelLab::build("rffd", "vxlan")?;
    let mac = &fl.macs[1];
    fl.lab.exec(
        "node-1",
        &format!("bridge fdb del {mac} dev flannel.1 dst 10.236.0.12 self"),
    )?;
    let broken = pairs_between(&["default/web-0", "default/web-1"], &["default/api-0"]);
    incident(&fl, &["node-1", mac], &as_refs(&broken))
}

/// A pod's host veth is down: the pod is cut off from everyone.
fn pod_veth_down() -> anyhow::Result<()> {
    let fl = FlannelLab::build("rfvd", "vxlan")?;
    let web0 = fl.pod("default/web-0")?;
    fl.lab
        .exec("node-1", &format!("ip link set {} down", web0.host_veth))?;
    let broken = pairs_between(
        &["default/web-0"],
        &["default/web-1", "default/api-0", "default/db-0"],
    );
    incident(&fl, &[&web0.host_veth], &as_refs(&broken))
}

/// A pod's host veth detached from cni0 (a leaked or half-deleted attachment).
fn veth_detached() -> anyhow::Result<()> {
    let fl = FlannelLab::build("rfvx", "vxlan")?;
    let web0 = fl.pod("default/web-0")?;
    fl.lab.exec(
        "node-1",
        &format!("ip link set {} nomaster", web0.host_veth),
    )?;
    let broken = pairs_between(
        &["default/web-0"],
        &["default/web-1", "default/api-0", "default/db-0"],
    );
    incident(&fl, &[&web0.host_veth], &as_refs(&broken))
}

/// flanneld on node-2 restarted with a new VTEP MAC (etcd mode keeps none) and published
/// it; the peers still hold the old one in their neighbour and FDB entries, so whatever is
/// sent to node-2 is dropped there (wrong destination MAC).
fn vtep_mac_changed() -> anyhow::Result<()> {
    let mut fl = FlannelLab::build("rfvm", "vxlan")?;
    let new = random_mac();
    fl.lab
        .exec("node-2", &format!("ip link set flannel.1 address {new}"))?;
    fl.macs[1] = new.clone();
    fl.write_dump()?;
    // node-2's own requests arrive (its peers' MACs did not change); the replies do not.
    let broken = pairs_between(
        &["default/api-0"],
        &["default/web-0", "default/web-1", "default/db-0"],
    );
    incident(&fl, &[&new], &as_refs(&broken))
}

/// A pod's sandbox is removed without a CNI DEL (its veth pair goes with it; the libcni
/// cache entry and the Kubernetes pod stay): nothing reaches it, and `check` says which pod
/// lost its interface (at most information: pods are the CNI plugin's and the kubelet's).
fn sandbox_gone() -> anyhow::Result<()> {
    let mut fl = FlannelLab::build("rfsg", "vxlan")?;
    fl.lab.remove_sandbox("default/web-0")?;
    fl.lab.snapshot_all()?;
    let check = fl.check()?;
    let mut errs = Vec::new();
    if !check.mentions(&["web-0"]) {
        errs.push(format!(
            "check does not name pod web-0 whose sandbox is gone; exit {:?}:\n{}",
            check.code,
            check.listing()
        ));
    }
    let want = pairs_between(
        &["default/web-0"],
        &["default/web-1", "default/api-0", "default/db-0"],
    );
    let mut want = want;
    want.sort();
    match fl.lab.compare_all(&fl.dump, &[]) {
        Err(e) => errs.push(format!("{e:#}")),
        Ok(r) if !r.disagree.is_empty() => errs.push(format!(
            "trace --snapshot disagrees with what can reach a pod without a sandbox:\n{}",
            r.explain()
        )),
        Ok(r) if r.broken != want => errs.push(format!("broken {:?}, want {want:?}", r.broken)),
        Ok(_) => {}
    }
    if !errs.is_empty() {
        bail!("{}", errs.join("\n"));
    }
    Ok(())
}

/// Kubernetes forgot a pod (deleted, its CNI DEL never ran) but its sandbox and veth are
/// still on cni0: traffic to its address still arrives, and `trace --snapshot` to that
/// address must say so (the snapshot's veth leads somewhere).
fn leaked_pod_answers() -> anyhow::Result<()> {
    let mut fl = FlannelLab::build("rflk", "vxlan")?;
    fl.forgotten.push("default/web-0".into());
    fl.write_dump()?;
    let web0 = fl.pod("default/web-0")?;
    let mut errs = Vec::new();
    for (i, src) in ["default/web-1", "default/api-0"].iter().enumerate() {
        let from = fl.pod(src)?;
        let dport = 7100 + i as u16;
        let (req, _, doc) =
            fl.lab
                .trace_snapshot(&fl.dump, src, &web0.ip.to_string(), dport, &[])?;
        let (udp, _) = fl.lab.real_traffic(&from, &web0, dport)?;
        if req != udp {
            errs.push(format!(
                "{src} → {} (leaked pod): trace says delivered={req} ({}), real UDP arrived={udp}",
                web0.ip, doc["request"]["verdict"]
            ));
        }
    }
    if !errs.is_empty() {
        bail!("{}", errs.join("\n"));
    }
    Ok(())
}

/// kube-flannel's CNI config sets `hairpinMode: true`, so the bridge plugin turns hairpin on
/// for each pod's port of cni0: clean. With hairpin turned off on one port (the pod cannot
/// reach itself through a Service), `check` names that pod, and its fix turns it back on.
fn hairpin_off() -> anyhow::Result<()> {
    let fl = FlannelLab::build("rfhp", "vxlan")?;
    let web0 = fl.pod("default/web-0")?;
    let veth = &web0.host_veth;
    let mode = |v: &str| -> anyhow::Result<String> {
        Ok(fl
            .lab
            .exec(
                "node-1",
                &format!("cat /sys/class/net/{v}/brport/hairpin_mode"),
            )?
            .trim()
            .to_string())
    };
    ensure!(
        mode(veth)? == "1",
        "the bridge plugin left hairpin off on {veth}"
    );
    fl.lab.snapshot_all()?;
    let clean = fl.check()?;
    ensure!(
        clean.code == Some(0) && clean.problems().is_empty(),
        "check with hairpin on everywhere: exit {:?}\n{}",
        clean.code,
        clean.listing()
    );
    fl.lab.exec(
        "node-1",
        &format!("ip link set dev {veth} type bridge_slave hairpin off"),
    )?;
    fl.lab.snapshot_all()?;
    let check = fl.check()?;
    let fix = format!("ip link set dev {veth} type bridge_slave hairpin on");
    ensure!(
        check.code == Some(1) && check.names(&["default/web-0", "hairpin", &fix]),
        "check does not name web-0's hairpin: exit {:?}\n{}",
        check.code,
        check.listing()
    );
    ensure!(
        check.problems().len() == 1,
        "hairpin off on one port is one finding:\n{}",
        check.listing()
    );
    // `pods` reads the pod's CNI config from the libcni cache (hairpinMode) and says it too.
    let (code, doc) = fl.lab.pods_of("node-1")?;
    let hairpin: Vec<&Value> = doc["findings"]
        .as_array()
        .map(|a| a.iter().filter(|f| f["kind"] == "hairpin-off").collect())
        .unwrap_or_default();
    ensure!(
        code == Some(1)
            && hairpin.len() == 1
            && hairpin[0].to_string().contains("web-0")
            && hairpin[0].to_string().contains(&fix),
        "pods on node-1 does not name web-0's hairpin: exit {code:?}: {doc}"
    );
    fl.lab.exec("node-1", &fix)?;
    ensure!(mode(veth)? == "1", "the fix did not turn hairpin on");
    let (code, doc) = fl.lab.pods_of("node-1")?;
    ensure!(code == Some(0), "pods after the fix: exit {code:?}: {doc}");
    fl.lab.snapshot_all()?;
    let after = fl.check()?;
    ensure!(
        after.code == Some(0),
        "check after the fix: exit {:?}\n{}",
        after.code,
        after.listing()
    );
    Ok(())
}
