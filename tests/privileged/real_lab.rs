//! Nodes built the way the real components build them, not from netpath's own plan.
//!
//! A [`RealLab`] is a set of network namespaces (one per node, one per pod, one underlay
//! segment holding a bridge `br0`); what goes into them comes from the components a real
//! node runs:
//! - Flannel pods are made by Debian's `containernetworking-plugins` (`bridge`, `host-local`,
//!   `loopback`), invoked inside the node's namespace as the kubelet's runtime does
//!   (`CNI_COMMAND=ADD`, `CNI_CONTAINERID`, `CNI_NETNS`, `CNI_IFNAME`, `CNI_PATH`, the
//!   network config on stdin) with the delegate config the `flannel` CNI plugin writes; the
//!   libcni result cache is written as containerd writes it, into a directory of the lab's;
//!   host-local keeps its leases in the lab's directory too (`dataDir`).
//! - Calico pods are made with `ip` as the Calico CNI plugin and Felix make them (veth
//!   `cali` + sha1(namespace.pod)[:11], MAC ee:ee:ee:ee:ee:ee, `/32` route, proxy ARP for the
//!   169.254.1.1 gateway); BGP routes come from Debian's `bird2`, one per node namespace.
//! - What flanneld owns (`flannel.1`, its neighbours, FDB and routes) is programmed by
//!   `netpath agent --once`, since flanneld itself is not packaged.
//!
//! Nothing is configured in the host namespace; every daemon the lab starts is killed by its
//! own guard (never by name).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use netpath::netlink::Netns;
use serde_json::{Value, json};

use crate::lab::{TestNetns, netpath};

/// Where Debian installs the CNI plugins.
pub const CNI_PATH: &str = "/usr/lib/cni";

/// True when the real components these tests need are installed (`bridge`, `host-local`,
/// `loopback` and `bird`); the suites fail loudly when they are not.
pub fn components_missing() -> Vec<&'static str> {
    let mut out = Vec::new();
    for p in ["bridge", "host-local", "loopback"] {
        if !Path::new(CNI_PATH).join(p).exists() {
            out.push(p);
        }
    }
    if Command::new("bird")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        out.push("bird");
    }
    out
}

/// Trials that fail today for a reason of netpath's, not of the lab: they stay in the suite
/// as ignored (run them with `--include-ignored`); a name leaves this list when its fix lands.
pub const KNOWN_FAILING: &[&str] = &[];

/// A trial of the real-component suites: skipped (passing) without root, failing loudly
/// when the components are missing, ignored while in [`KNOWN_FAILING`].
pub fn trial(name: &str, f: fn() -> anyhow::Result<()>) -> libtest_mimic::Trial {
    libtest_mimic::Trial::test(name, move || {
        if !crate::lab::is_root() {
            return Ok(());
        }
        let missing = components_missing();
        if !missing.is_empty() {
            return Err(libtest_mimic::Failed::from(format!(
                "real components not installed: {} (Debian: containernetworking-plugins, bird2)",
                missing.join(", ")
            )));
        }
        f().map_err(|e| libtest_mimic::Failed::from(format!("{e:#}")))
    })
    .with_ignored_flag(KNOWN_FAILING.contains(&name))
}

/// A pod of the lab.
#[derive(Debug, Clone)]
pub struct RealPod {
    /// Kubernetes namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// The node it runs on.
    pub node: String,
    /// Its IPv4 address.
    pub ip: Ipv4Addr,
    /// The sandbox container id (what the runtime passed as `CNI_CONTAINERID`).
    pub container_id: String,
    /// The host side of its veth (as the plugin named it).
    pub host_veth: String,
    /// Its sandbox is gone (an incident): no traffic can start or end there.
    pub gone: bool,
}

impl RealPod {
    /// `namespace/name`, as `trace` names a pod.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A node of the lab.
#[derive(Debug, Clone)]
pub struct RealNode {
    /// Node name.
    pub name: String,
    /// Its underlay address (`eth0`, /24).
    pub ip: Ipv4Addr,
}

/// Namespaces, files and daemons of one lab; everything is removed on drop.
pub struct RealLab {
    /// The lab's directory: the cluster file or dump, the CNI cache, host-local's leases,
    /// snapshots, BIRD's configs and sockets.
    pub dir: tempfile::TempDir,
    /// Host (node, router, `namespace/pod`) → namespace.
    pub hosts: BTreeMap<String, TestNetns>,
    /// The nodes, in order.
    pub nodes: Vec<RealNode>,
    /// The pods, in order.
    pub pods: Vec<RealPod>,
    /// The underlay segment (bridge `br0`).
    pub underlay: TestNetns,
    /// Daemons started for the lab (killed on drop, by their own pid).
    pub daemons: Vec<Daemon>,
}

/// A daemon the lab started in a namespace; killed (by pid) when dropped.
pub struct Daemon {
    /// Which host it runs for.
    pub host: String,
    /// The process.
    pub child: std::process::Child,
}

impl Daemon {
    /// Kill it now (an incident: "BIRD stopped").
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

impl RealLab {
    /// Make namespaces for `nodes` (and `extra` hosts such as routers) and for every pod
    /// (`(namespace, name, node)`), all in parallel, plus the underlay segment.
    pub fn new(
        tag: &str,
        nodes: &[(&str, Ipv4Addr)],
        extra: &[&str],
        pods: &[(&str, &str, &str)],
    ) -> anyhow::Result<RealLab> {
        let mut wanted: Vec<(String, String)> = Vec::new();
        for (i, (n, _)) in nodes.iter().enumerate() {
            wanted.push((n.to_string(), format!("{tag}-n{i}")));
        }
        for (i, h) in extra.iter().enumerate() {
            wanted.push((h.to_string(), format!("{tag}-r{i}")));
        }
        for (i, (ns, name, _)) in pods.iter().enumerate() {
            wanted.push((format!("{ns}/{name}"), format!("{tag}-p{i}")));
        }
        let made: Vec<(String, TestNetns)> = std::thread::scope(|s| {
            let hs: Vec<_> = wanted
                .iter()
                .map(|(h, role)| s.spawn(move || (h.clone(), TestNetns::new(role))))
                .collect();
            hs.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        if made.len() != wanted.len() {
            bail!("could not create the lab's network namespaces");
        }
        let underlay = TestNetns::new(&format!("{tag}-u"));
        let lab = RealLab {
            dir: tempfile::tempdir().context("the lab's directory")?,
            hosts: made.into_iter().collect(),
            nodes: nodes
                .iter()
                .map(|(n, ip)| RealNode {
                    name: n.to_string(),
                    ip: *ip,
                })
                .collect(),
            pods: Vec::new(),
            underlay,
            daemons: Vec::new(),
        };
        for (n, _) in nodes {
            std::fs::create_dir_all(lab.cni_cache(n).join("results"))?;
        }
        std::fs::create_dir_all(lab.snapshots())?;
        let mut batch = vec![
            "link add br0 type bridge".to_string(),
            "link set br0 up".into(),
        ];
        for (i, (name, _)) in nodes.iter().enumerate() {
            let ns = &lab.ns(name)?.name;
            batch.push(format!("link add u{i} type veth peer name eth0 netns {ns}"));
            batch.push(format!("link set u{i} master br0 up"));
        }
        let base = nodes.len();
        for (j, h) in extra.iter().enumerate() {
            let ns = &lab.ns(h)?.name;
            batch.push(format!(
                "link add u{} type veth peer name eth0 netns {ns}",
                base + j
            ));
            batch.push(format!("link set u{} master br0 up", base + j));
        }
        crate::cluster_lab::ip_batch(&lab.underlay.name, &batch)?;
        for (name, ip) in nodes {
            // A real node has a default route (to the segment's .1, which the lab has not).
            let o = ip.octets();
            let gw = Ipv4Addr::new(o[0], o[1], o[2], 1);
            lab.exec(
                name,
                &format!(
                    "ip addr add {ip}/24 dev eth0 && ip link set eth0 up && ip route add default via {gw} dev eth0"
                ),
            )?;
        }
        Ok(lab)
    }

    /// The namespace of a host.
    pub fn ns(&self, host: &str) -> anyhow::Result<&TestNetns> {
        self.hosts
            .get(host)
            .ok_or_else(|| anyhow!("the lab has no host {host:?}"))
    }

    /// Run a shell command in a host's namespace.
    pub fn exec(&self, host: &str, cmd: &str) -> anyhow::Result<String> {
        let out = self.ns(host)?.exec_output(cmd);
        if !out.status.success() {
            bail!(
                "{host}: `{cmd}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A node's libcni cache directory (holding `results/`): each node has its own, as
    /// each real node has its own /var/lib/cni.
    pub fn cni_cache(&self, node: &str) -> PathBuf {
        self.dir.path().join("cni").join(node)
    }

    /// The directory of node snapshots (one `<node>.json` each).
    pub fn snapshots(&self) -> PathBuf {
        self.dir.path().join("snapshots")
    }

    /// The cluster input (`dump.json` or `cluster.yaml`) the tests pass as `--cluster`.
    pub fn cluster_path(&self, file: &str) -> String {
        self.dir.path().join(file).to_string_lossy().into_owned()
    }

    /// Delete a pod's sandbox (its network namespace, and with it both ends of its veth),
    /// as if the runtime removed it without a CNI DEL: the pod stays in the lab's list.
    pub fn remove_sandbox(&mut self, key: &str) -> anyhow::Result<()> {
        let ns = self
            .hosts
            .remove(key)
            .ok_or_else(|| anyhow!("the lab has no host {key:?}"))?;
        drop(ns);
        for p in self.pods.iter_mut().filter(|p| p.key() == key) {
            p.gone = true;
        }
        Ok(())
    }

    /// The pod by key.
    pub fn pod(&self, key: &str) -> anyhow::Result<&RealPod> {
        self.pods
            .iter()
            .find(|p| p.key() == key)
            .ok_or_else(|| anyhow!("the lab has no pod {key}"))
    }

    /// Add a pod with the real CNI plugins, run inside its node's namespace as a runtime
    /// runs them: `loopback` for `lo`, then the network's plugin (`conf`, one plugin's
    /// config) for `eth0`. Both results are written to the lab's libcni cache as containerd
    /// writes them (`<network>-<container id>-<ifname>`, `cniCacheV1`).
    pub fn cni_add(
        &mut self,
        namespace: &str,
        name: &str,
        node: &str,
        conf: &Value,
    ) -> anyhow::Result<RealPod> {
        let key = format!("{namespace}/{name}");
        let netns = self.ns(&key)?.path();
        let node_ns = self.ns(node)?.name.clone();
        let id = container_id(&key);
        let args = format!(
            "IgnoreUnknown=1;K8S_POD_NAMESPACE={namespace};K8S_POD_NAME={name};K8S_POD_INFRA_CONTAINER_ID={id};K8S_POD_UID=uid-{name}"
        );
        let lo_conf = json!({"cniVersion": "0.3.1", "name": "cni-loopback", "type": "loopback"});
        let lo = run_plugin(&node_ns, "loopback", &id, &netns, "lo", &args, &lo_conf)?;
        self.write_cache(
            node,
            "cni-loopback",
            &id,
            "lo",
            &netns,
            &args,
            &lo_conf,
            &lo,
        )?;
        let ty = conf["type"].as_str().unwrap_or("bridge").to_string();
        let network = conf["name"].as_str().unwrap_or("cbr0").to_string();
        let res = run_plugin(&node_ns, &ty, &id, &netns, "eth0", &args, conf)?;
        self.write_cache(node, &network, &id, "eth0", &netns, &args, conf, &res)?;
        let ip = res["ips"][0]["address"]
            .as_str()
            .and_then(|a| a.split('/').next())
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| anyhow!("{ty} gave pod {key} no IPv4 address: {res}"))?;
        let host_veth = res["interfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["sandbox"].as_str().is_none_or(str::is_empty))
            .filter_map(|i| i["name"].as_str())
            .find(|n| n.starts_with("veth"))
            .unwrap_or_default()
            .to_string();
        let pod = RealPod {
            namespace: namespace.into(),
            name: name.into(),
            node: node.into(),
            ip,
            container_id: id,
            host_veth,
            gone: false,
        };
        self.pods.push(pod.clone());
        Ok(pod)
    }

    /// Write one libcni cache entry as containerd writes it (`cniCacheV1`).
    #[allow(clippy::too_many_arguments)]
    pub fn write_cache(
        &self,
        node: &str,
        network: &str,
        id: &str,
        ifname: &str,
        netns: &str,
        args: &str,
        conf: &Value,
        result: &Value,
    ) -> anyhow::Result<()> {
        use base64::Engine;
        let pairs: Vec<Value> = args
            .split(';')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| json!([k, v]))
            .collect();
        let entry = json!({
            "kind": "cniCacheV1",
            "containerId": id,
            "config": base64::engine::general_purpose::STANDARD.encode(conf.to_string()),
            "ifName": ifname,
            "networkName": network,
            "netns": netns,
            "cniArgs": pairs,
            "result": result,
        });
        let path = self
            .cni_cache(node)
            .join("results")
            .join(format!("{network}-{id}-{ifname}"));
        std::fs::write(&path, entry.to_string()).with_context(|| format!("writing {path:?}"))
    }

    /// `netpath snapshot` of every node into [`RealLab::snapshots`], in parallel.
    pub fn snapshot_all(&self) -> anyhow::Result<()> {
        let results: Vec<anyhow::Result<()>> = std::thread::scope(|s| {
            let hs: Vec<_> = self
                .nodes
                .iter()
                .map(|n| s.spawn(move || self.snapshot(&n.name)))
                .collect();
            hs.into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow!("snapshot panicked")))
                })
                .collect()
        });
        results.into_iter().collect()
    }

    /// `netpath snapshot --netns NS --node N --cni-cache LAB -o snapshots/N.json`.
    pub fn snapshot(&self, node: &str) -> anyhow::Result<()> {
        let out_file = self.snapshots().join(format!("{node}.json"));
        let cache = self.cni_cache(node);
        let mut cmd = netpath();
        cmd.args(["snapshot", "--node", node, "--netns", &self.ns(node)?.name]);
        if cache.exists() {
            cmd.arg("--cni-cache").arg(cache);
        } else {
            // A router: no pods.
            cmd.arg("--no-pods");
        }
        let out = cmd
            .arg("-o")
            .arg(&out_file)
            .output()
            .context("running netpath snapshot")?;
        if !out.status.success() {
            bail!(
                "netpath snapshot --node {node}: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// `netpath --json check --cluster C --snapshot DIR` over every node's snapshot: the
    /// exit code, the whole document and its findings (each with its node).
    pub fn check(&self, cluster: &str, extra: &[&str]) -> anyhow::Result<CheckRun> {
        let out = netpath()
            .args(["--json", "check", "--cluster", cluster, "--snapshot"])
            .arg(self.snapshots())
            .args(extra)
            .output()
            .context("running netpath check")?;
        let doc: Value = serde_json::from_slice(&out.stdout).map_err(|_| {
            anyhow!(
                "netpath check: {} and no JSON: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
        let mut findings = Vec::new();
        collect_findings(&doc, None, &mut findings);
        Ok(CheckRun {
            code: out.status.code(),
            doc,
            findings,
        })
    }

    /// `netpath --json pods --netns NODE --cni-cache LAB`: exit code and document.
    pub fn pods_of(&self, node: &str) -> anyhow::Result<(Option<i32>, Value)> {
        let out = netpath()
            .args(["--json", "pods", "--netns", &self.ns(node)?.name])
            .arg("--cni-cache")
            .arg(self.cni_cache(node))
            .output()
            .context("running netpath pods")?;
        let doc = serde_json::from_slice(&out.stdout).map_err(|_| {
            anyhow!(
                "netpath pods --netns {node}: {} and no JSON: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
        Ok((out.status.code(), doc))
    }

    /// `netpath --json agent --cluster C --node N --netns NS --once`.
    pub fn agent_once(
        &self,
        cluster: &str,
        node: &str,
        extra: &[&str],
    ) -> anyhow::Result<AgentRun> {
        let out = netpath()
            .args(["--json", "agent", "--cluster", cluster, "--node", node])
            .args(["--netns", &self.ns(node)?.name, "--once"])
            .args(extra)
            .output()
            .context("running netpath agent")?;
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        Ok(AgentRun {
            code: out.status.code(),
            doc,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }

    /// Whether `trace --snapshot` says each direction of `src` → `dst` (UDP) is delivered.
    pub fn trace_snapshot(
        &self,
        cluster: &str,
        src: &str,
        dst: &str,
        dport: u16,
        extra: &[&str],
    ) -> anyhow::Result<(bool, bool, Value)> {
        let out = netpath()
            .args(["--json", "trace", "--cluster", cluster, src, dst])
            .args(["--proto", "udp", "--dport", &dport.to_string()])
            .args(extra)
            .arg("--snapshot")
            .arg(self.snapshots())
            .output()
            .context("running netpath trace")?;
        if !matches!(out.status.code(), Some(0 | 1)) {
            bail!(
                "netpath trace --snapshot {src} {dst}: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let doc: Value = serde_json::from_slice(&out.stdout).context("trace --json output")?;
        let ok = |d: &str| doc[d]["verdict"]["verdict"] == "delivered";
        Ok((ok("request"), ok("reply"), doc))
    }

    /// Real traffic from pod `src` to pod `dst`: whether a UDP datagram arrives, and
    /// whether `ping` gets its answer (both directions).
    pub fn real_traffic(
        &self,
        src: &RealPod,
        dst: &RealPod,
        dport: u16,
    ) -> anyhow::Result<(bool, bool)> {
        if src.gone || dst.gone {
            return Ok((false, false));
        }
        let udp = self.udp_arrives(src, dst, dport)?;
        let ping = self
            .ns(&src.key())?
            .exec_output(&format!("ping -c 2 -i 0.2 -W 1 -q {}", dst.ip))
            .status
            .success();
        Ok((udp, ping))
    }

    fn udp_arrives(&self, src: &RealPod, dst: &RealPod, dport: u16) -> anyhow::Result<bool> {
        let to = SocketAddr::new(IpAddr::V4(dst.ip), dport);
        let from = SocketAddr::new(IpAddr::V4(src.ip), 0);
        let rx = Netns::parse(&self.ns(&dst.key())?.name)
            .run(move || UdpSocket::bind(to).with_context(|| format!("binding {to}")))?;
        let tx = Netns::parse(&self.ns(&src.key())?.name)
            .run(move || UdpSocket::bind(from).with_context(|| format!("binding {from}")))?;
        let token = format!(
            "netpath-real {} {} {:?}",
            src.key(),
            dst.key(),
            Instant::now()
        );
        rx.set_read_timeout(Some(Duration::from_millis(100)))?;
        let start = Instant::now();
        let mut sent = 0;
        let mut buf = [0u8; 2048];
        while start.elapsed() < Duration::from_millis(1200) {
            if sent < 3 && start.elapsed() >= Duration::from_millis(150 * sent) {
                let _ = tx.send_to(token.as_bytes(), to);
                sent += 1;
            }
            match rx.recv_from(&mut buf) {
                Ok((n, _)) if buf[..n] == *token.as_bytes() => return Ok(true),
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e).context("receiving UDP"),
            }
        }
        Ok(false)
    }

    /// For every ordered pod pair: what `trace --snapshot` predicts and what real traffic
    /// does; the pairs where they disagree, and the pairs real UDP cannot cross. Pairs are
    /// tried in parallel (a lost datagram costs a second).
    pub fn compare_all(&self, cluster: &str, extra: &[&str]) -> anyhow::Result<PairsReport> {
        let pairs: Vec<(&RealPod, &RealPod)> = self
            .pods
            .iter()
            .flat_map(|a| self.pods.iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.key() != b.key())
            .collect();
        let results: Vec<anyhow::Result<PairResult>> = std::thread::scope(|s| {
            let hs: Vec<_> = pairs
                .iter()
                .enumerate()
                .map(|(i, (a, b))| {
                    let dport = 7000 + i as u16;
                    s.spawn(move || -> anyhow::Result<PairResult> {
                        let (req, rep, doc) =
                            self.trace_snapshot(cluster, &a.key(), &b.key(), dport, extra)?;
                        let (udp, ping) = self.real_traffic(a, b, dport)?;
                        Ok(PairResult {
                            src: a.key(),
                            dst: b.key(),
                            predicted: (req, req && rep),
                            real: (udp, ping),
                            trace: doc,
                        })
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("a pair panicked"))))
                .collect()
        });
        let mut report = PairsReport::default();
        for r in results {
            let r = r?;
            if !r.real.0 || !r.real.1 {
                report.broken.push((r.src.clone(), r.dst.clone()));
            }
            if r.predicted != r.real {
                report.disagree.push(r);
            }
        }
        report.broken.sort();
        Ok(report)
    }
}

/// One `check` run.
pub struct CheckRun {
    /// Exit code.
    pub code: Option<i32>,
    /// The JSON document.
    pub doc: Value,
    /// Every finding (with a `node` field when the document has per-node results).
    pub findings: Vec<Value>,
}

impl CheckRun {
    /// Findings of severity error or warning.
    pub fn problems(&self) -> Vec<&Value> {
        self.findings
            .iter()
            .filter(|f| matches!(f["severity"].as_str(), Some("error" | "warning")))
            .collect()
    }

    /// True when some error or warning mentions every one of `words` (in any field).
    pub fn names(&self, words: &[&str]) -> bool {
        self.problems().iter().any(|f| {
            let text = f.to_string();
            words.iter().all(|w| text.contains(w))
        })
    }

    /// True when some finding of any severity mentions every one of `words`.
    pub fn mentions(&self, words: &[&str]) -> bool {
        self.findings.iter().any(|f| {
            let text = f.to_string();
            words.iter().all(|w| text.contains(w))
        })
    }

    /// The findings (problems first, then information), one per line, for failure messages.
    pub fn listing(&self) -> String {
        let info = self.findings.iter().filter(|f| f["severity"] == "info");
        self.problems()
            .into_iter()
            .chain(info)
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn collect_findings(doc: &Value, node: Option<&str>, out: &mut Vec<Value>) {
    if let Some(fs) = doc["findings"].as_array() {
        for f in fs {
            let mut f = f.clone();
            if let (Some(n), Some(o)) = (node, f.as_object_mut()) {
                o.entry("node").or_insert_with(|| json!(n));
            }
            out.push(f);
        }
    }
    for f in doc["cluster_findings"].as_array().into_iter().flatten() {
        out.push(f.clone());
    }
    for key in ["nodes", "results"] {
        for n in doc[key].as_array().into_iter().flatten() {
            collect_findings(n, n["node"].as_str(), out);
        }
    }
}

/// One `agent --once` run.
pub struct AgentRun {
    /// Exit code.
    pub code: Option<i32>,
    /// The JSON document (null when none was printed).
    pub doc: Value,
    /// Standard error.
    pub stderr: String,
}

impl AgentRun {
    /// The changes it applied or tried (not the ones it left alone).
    pub fn applied(&self) -> Vec<&Value> {
        self.doc["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| matches!(c["status"].as_str(), Some("applied" | "failed")))
            .collect()
    }
}

/// Prediction and reality for one ordered pod pair.
#[derive(Debug)]
pub struct PairResult {
    /// Source pod.
    pub src: String,
    /// Destination pod.
    pub dst: String,
    /// (request delivered, request and reply delivered) as traced.
    pub predicted: (bool, bool),
    /// (UDP arrived, ping answered) for real.
    pub real: (bool, bool),
    /// The trace document.
    pub trace: Value,
}

/// [`RealLab::compare_all`]'s answer.
#[derive(Debug, Default)]
pub struct PairsReport {
    /// Ordered pairs real traffic cannot cross (either UDP or ping fails).
    pub broken: Vec<(String, String)>,
    /// Pairs where trace and reality disagree.
    pub disagree: Vec<PairResult>,
}

impl PairsReport {
    /// A readable account of the disagreements.
    pub fn explain(&self) -> String {
        self.disagree
            .iter()
            .map(|r| {
                let why = |d: &str| {
                    let v = &r.trace[d]["verdict"];
                    format!("{} {}", v["verdict"], v["reason"])
                };
                format!(
                    "{} → {}: trace says (request, round trip) {:?} [{} / {}], real (udp, ping) {:?}",
                    r.src,
                    r.dst,
                    r.predicted,
                    why("request"),
                    why("reply"),
                    r.real
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A container id as a runtime makes one (64 hex digits), stable per pod key.
pub fn container_id(key: &str) -> String {
    let hex = sha1_smol::Sha1::from(key.as_bytes()).digest().to_string();
    format!("{hex}{}", &hex[..24])
}

/// Run one CNI plugin inside `node_ns` the way libcni does, returning its result.
fn run_plugin(
    node_ns: &str,
    plugin: &str,
    id: &str,
    netns: &str,
    ifname: &str,
    args: &str,
    conf: &Value,
) -> anyhow::Result<Value> {
    let mut child = Command::new("ip")
        .args(["netns", "exec", node_ns])
        .arg(Path::new(CNI_PATH).join(plugin))
        .env("CNI_COMMAND", "ADD")
        .env("CNI_CONTAINERID", id)
        .env("CNI_NETNS", netns)
        .env("CNI_IFNAME", ifname)
        .env("CNI_PATH", CNI_PATH)
        .env("CNI_ARGS", args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running the {plugin} CNI plugin"))?;
    child
        .stdin
        .take()
        .ok_or_else(|| anyhow!("no stdin"))?
        .write_all(conf.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "CNI plugin {plugin} ADD {ifname} in {netns}: {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("{plugin}'s result"))
}

/// A random locally administered unicast MAC (what flanneld picks for its VTEP).
pub fn random_mac() -> String {
    let mut b = [0u8; 6];
    // SAFETY: getrandom writes at most `len` bytes into the buffer.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n != 6 {
        let t = Instant::now().elapsed().as_nanos() as u64 ^ std::process::id() as u64;
        b.copy_from_slice(&t.to_le_bytes()[..6]);
    }
    b[0] = (b[0] & 0xfe) | 0x02;
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
