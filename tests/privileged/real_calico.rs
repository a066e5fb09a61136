//! Calico BGP nodes as the real components build them: one Debian `bird2` per node
//! namespace (and one on a top-of-rack router), configured as calico/node's confd templates
//! configure BIRD (node-to-node mesh, a route reflector, or peering with the router), with
//! the long-standing kernel export filter, the current one (`krt_metric = 1024`,
//! `krt_prefsrc`), or BIRD 2's own default (`metric 32`); pods as the Calico CNI plugin and
//! Felix make them (veth `cali` + sha1(namespace.pod)[:11], `/32` route, permanent neighbour,
//! proxy ARP for 169.254.1.1).

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use libtest_mimic::Trial;
use serde_json::json;

use crate::real_lab::{Daemon, RealLab};

/// The trials of this module.
pub fn tests() -> Vec<Trial> {
    let t = crate::real_lab::trial;
    vec![
        t(
            "real_calico_bgp_mesh_legacy_filter_healthy",
            mesh_legacy_healthy,
        ),
        t(
            "real_calico_bgp_mesh_current_filter_healthy",
            mesh_current_healthy,
        ),
        t(
            "real_calico_bgp_mesh_bird2_default_metric_healthy",
            mesh_bird2_healthy,
        ),
        t("real_calico_bgp_route_reflector_healthy", rr_healthy),
        t("real_calico_bgp_tor_router_healthy", tor_healthy),
        t("real_calico_bgp_one_bird_stopped", one_bird_stopped),
        t("real_calico_bgp_route_reflector_down", reflector_down),
    ]
}

/// The kernel export filter of BIRD's kernel protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    /// calico/node's long-standing template (no metric, no source), installed as calico's
    /// BIRD 1.6 fork installs it (metric 0).
    Legacy,
    /// The current template: `krt_metric = 1024; krt_prefsrc = <node IP>` (Calico ≥ 3.32,
    /// whose Felix also gives workload routes metric 1024).
    Current,
    /// The long-standing template on upstream BIRD 2, which gives kernel routes `metric 32`.
    Bird2Default,
}

/// How the nodes peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peering {
    /// Node-to-node mesh.
    Mesh,
    /// node-1 is the route reflector; the others are its clients.
    Reflector,
    /// Every node peers with the top-of-rack router `tor` (a reflector of its clients).
    Tor,
}

const POOL: &str = "10.65.0.0/16";
const AS: u32 = 64512;
const TOR_IP: [u8; 4] = [10, 237, 0, 1];

const NODES: [(&str, [u8; 4], &str); 3] = [
    ("node-1", [10, 237, 0, 11], "10.65.0.0/26"),
    ("node-2", [10, 237, 0, 12], "10.65.1.0/26"),
    ("node-3", [10, 237, 0, 13], "10.65.2.0/26"),
];

const PODS: [(&str, &str, &str, [u8; 4]); 4] = [
    ("default", "web-0", "node-1", [10, 65, 0, 2]),
    ("default", "web-1", "node-1", [10, 65, 0, 3]),
    ("default", "api-0", "node-2", [10, 65, 1, 2]),
    ("default", "db-0", "node-3", [10, 65, 2, 2]),
];

/// A BGP speaker: its host, its address, and its peers (address, whether the peer is a
/// route-reflector client of this speaker).
type Speaker = (String, Ipv4Addr, Vec<(Ipv4Addr, bool)>);

struct CalicoLab {
    lab: RealLab,
    filter: Filter,
    peering: Peering,
    /// `cluster.yaml`, the netpath cluster file.
    cluster: String,
    /// Version options for check and trace (none today: the shapes are compared tolerantly).
    version: Vec<String>,
}

impl CalicoLab {
    fn build(tag: &str, filter: Filter, peering: Peering) -> anyhow::Result<CalicoLab> {
        let nodes: Vec<(&str, Ipv4Addr)> = NODES
            .iter()
            .map(|(n, ip, _)| (*n, Ipv4Addr::from(*ip)))
            .collect();
        let extra: &[&str] = if peering == Peering::Tor {
            &["tor"]
        } else {
            &[]
        };
        let pods: Vec<(&str, &str, &str)> = PODS.iter().map(|(a, b, c, _)| (*a, *b, *c)).collect();
        let lab = RealLab::new(tag, &nodes, extra, &pods)?;
        let cluster = lab.cluster_path("cluster.yaml");
        let mut cl = CalicoLab {
            lab,
            filter,
            peering,
            cluster,
            version: Vec::new(),
        };
        if peering == Peering::Tor {
            let ip = Ipv4Addr::from(TOR_IP);
            cl.lab.exec(
                "tor",
                &format!("ip addr add {ip}/24 dev eth0 && ip link set eth0 up && sysctl -qw net.ipv4.ip_forward=1"),
            )?;
        }
        for (n, _, _) in NODES {
            cl.lab.exec(n, "sysctl -qw net.ipv4.ip_forward=1")?;
        }
        for (ns, name, node, ip) in PODS {
            cl.felix_pod(ns, name, node, Ipv4Addr::from(ip))?;
        }
        cl.write_cluster()?;
        cl.start_birds()?;
        cl.wait_converged(Duration::from_secs(30))?;
        cl.lab.snapshot_all()?;
        if peering == Peering::Tor {
            cl.lab.snapshot("tor")?;
        }
        Ok(cl)
    }

    /// A pod as Calico's CNI plugin makes it and Felix then programs it.
    fn felix_pod(&mut self, ns: &str, name: &str, node: &str, ip: Ipv4Addr) -> anyhow::Result<()> {
        let key = format!("{ns}/{name}");
        // Calico's name (cni-plugin `dataplane_linux.go`), computed here, not by netpath.
        let digest = sha1_smol::Sha1::from(format!("{ns}.{name}"))
            .digest()
            .to_string();
        let veth = format!("cali{}", &digest[..11]);
        let pod_ns = self.lab.ns(&key)?.name.clone();
        let metric = if self.filter == Filter::Current {
            " metric 1024"
        } else {
            ""
        };
        self.lab.exec(
            node,
            &format!(
                "ip link add {veth} type veth peer name eth0 netns {pod_ns} && \
                 ip link set {veth} address ee:ee:ee:ee:ee:ee up && \
                 sysctl -qw net.ipv4.conf.{veth}.proxy_arp=1 net.ipv4.neigh.{veth}.proxy_delay=0 \
                    net.ipv4.conf.{veth}.forwarding=1 net.ipv4.conf.{veth}.route_localnet=1"
            ),
        )?;
        self.lab.exec(
            &key,
            &format!(
                "ip link set eth0 up && ip addr add {ip}/32 dev eth0 && \
                 ip route add 169.254.1.1 dev eth0 scope link && \
                 ip route add default via 169.254.1.1 dev eth0"
            ),
        )?;
        let mac = self.lab.exec(&key, "cat /sys/class/net/eth0/address")?;
        let mac = mac.trim();
        self.lab.exec(
            node,
            &format!(
                "ip route add {ip}/32 dev {veth} scope link{metric} && \
                 ip neigh replace {ip} dev {veth} lladdr {mac} nud permanent"
            ),
        )?;
        let netns = self.lab.ns(&key)?.path();
        let id = crate::real_lab::container_id(&key);
        let args = format!(
            "IgnoreUnknown=1;K8S_POD_NAMESPACE={ns};K8S_POD_NAME={name};K8S_POD_INFRA_CONTAINER_ID={id};K8S_POD_UID=uid-{name}"
        );
        let conf = json!({"cniVersion": "0.3.1", "name": "k8s-pod-network", "type": "calico"});
        let result = json!({
            "cniVersion": "0.3.1",
            "interfaces": [{"name": veth}, {"name": "eth0", "mac": mac, "sandbox": netns}],
            "ips": [{"version": "4", "address": format!("{ip}/32"), "interface": 1}],
        });
        self.lab.write_cache(
            node,
            "k8s-pod-network",
            &id,
            "eth0",
            &netns,
            &args,
            &conf,
            &result,
        )?;
        self.lab.pods.push(crate::real_lab::RealPod {
            namespace: ns.into(),
            name: name.into(),
            node: node.into(),
            ip,
            container_id: id,
            host_veth: veth,
            gone: false,
        });
        Ok(())
    }

    fn write_cluster(&self) -> anyhow::Result<()> {
        let bgp = match self.peering {
            Peering::Mesh => "mesh".to_string(),
            Peering::Reflector => "route-reflectors, reflectors: [node-1]".into(),
            Peering::Tor => "routers".into(),
        };
        // The version says the shapes (current templates from v3.32); upstream BIRD 2 runs
        // with no calico/node version, so check compares its shapes tolerantly.
        let version = match self.filter {
            Filter::Legacy => ", version: v3.30.0",
            Filter::Current => ", version: v3.32.0",
            Filter::Bird2Default => "",
        };
        let mut y = format!(
            "name: real-calico\nmode: {{cni: calico, encapsulation: none, pool: {POOL}, bgp: {bgp}{version}}}\n\
             underlay:\n  subnets: [{{cidr: 10.237.0.0/24, gateway: 10.237.0.1}}]\n"
        );
        if self.peering == Peering::Tor {
            y.push_str("  routers:\n    - {name: tor, interfaces: [10.237.0.1], bgp: true}\n");
        }
        y.push_str("nodes:\n");
        for (n, ip, block) in NODES {
            let _ = writeln!(
                y,
                "  - {{name: {n}, ip: {}, blocks: [{block}]}}",
                Ipv4Addr::from(ip)
            );
        }
        y.push_str("pods:\n");
        for (ns, name, node, ip) in PODS {
            let _ = writeln!(y, "  - {ns}/{name} {node} {}", Ipv4Addr::from(ip));
        }
        std::fs::write(&self.cluster, y).context("writing the cluster file")
    }

    /// Which hosts run BIRD, with their address and peers (address, whether the peer is a
    /// reflector client of this host).
    fn sessions(&self) -> Vec<Speaker> {
        let nodes: Vec<(String, Ipv4Addr)> = NODES
            .iter()
            .map(|(n, ip, _)| (n.to_string(), Ipv4Addr::from(*ip)))
            .collect();
        let mut out = Vec::new();
        match self.peering {
            Peering::Mesh => {
                for (n, ip) in &nodes {
                    let peers = nodes
                        .iter()
                        .filter(|(m, _)| m != n)
                        .map(|(_, p)| (*p, false));
                    out.push((n.clone(), *ip, peers.collect()));
                }
            }
            Peering::Reflector => {
                let (rr, rr_ip) = nodes[0].clone();
                let clients: Vec<(Ipv4Addr, bool)> =
                    nodes[1..].iter().map(|(_, p)| (*p, true)).collect();
                out.push((rr, rr_ip, clients));
                for (n, ip) in &nodes[1..] {
                    out.push((n.clone(), *ip, vec![(rr_ip, false)]));
                }
            }
            Peering::Tor => {
                let tor = Ipv4Addr::from(TOR_IP);
                out.push((
                    "tor".into(),
                    tor,
                    nodes.iter().map(|(_, p)| (*p, true)).collect(),
                ));
                for (n, ip) in &nodes {
                    out.push((n.clone(), *ip, vec![(tor, false)]));
                }
            }
        }
        out
    }

    /// One BIRD per host, each with its own config and control socket in the lab's dir.
    fn start_birds(&mut self) -> anyhow::Result<()> {
        for (host, ip, peers) in self.sessions() {
            let block = NODES.iter().find(|n| n.0 == host).map(|n| n.2);
            let conf = bird_conf(self.filter, ip, block, &peers, host == "tor");
            let dir = self.lab.dir.path().join("bird");
            std::fs::create_dir_all(&dir)?;
            let conf_path = dir.join(format!("{host}.conf"));
            std::fs::write(&conf_path, conf)?;
            let log = std::fs::File::create(dir.join(format!("{host}.log")))?;
            let child = std::process::Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &self.lab.ns(&host)?.name,
                    "bird",
                    "-f",
                    "-c",
                ])
                .arg(&conf_path)
                .arg("-s")
                .arg(dir.join(format!("{host}.ctl")))
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .context("starting bird")?;
            self.lab.daemons.push(Daemon {
                host: host.clone(),
                child,
            });
        }
        Ok(())
    }

    /// Stop the BIRD of `host` (by the pid the lab started it with).
    fn stop_bird(&mut self, host: &str) -> anyhow::Result<()> {
        let d = self
            .lab
            .daemons
            .iter_mut()
            .find(|d| d.host == host)
            .ok_or_else(|| anyhow!("no BIRD on {host}"))?;
        d.stop();
        Ok(())
    }

    /// Until every node has a `proto bird` route to every other node's block.
    fn wait_converged(&self, limit: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            let mut missing = Vec::new();
            for (n, _, _) in NODES {
                let routes = self.lab.exec(n, "ip route show proto bird")?;
                for (m, _, block) in NODES {
                    if m != n && !routes.contains(block) {
                        missing.push(format!("{n} lacks {block}"));
                    }
                }
            }
            if missing.is_empty() {
                return Ok(());
            }
            if start.elapsed() > limit {
                let logs: String = std::fs::read_dir(self.lab.dir.path().join("bird"))?
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
                    .map(|e| {
                        format!(
                            "{:?}: {}",
                            e.file_name(),
                            std::fs::read_to_string(e.path()).unwrap_or_default()
                        )
                    })
                    .collect();
                bail!("BGP did not converge in {limit:?}: {missing:?}\n{logs}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Until `host` has no `proto bird` route to `block` (a peer's stale routes expire).
    fn wait_route_gone(&self, host: &str, block: &str, limit: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        while self
            .lab
            .exec(host, "ip route show proto bird")?
            .contains(block)
        {
            if start.elapsed() > limit {
                bail!("{host} kept its route to {block} for {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    fn extra(&self) -> Vec<&str> {
        self.version.iter().map(String::as_str).collect()
    }
}

/// BIRD 2 configuration in the shape of calico/node's confd templates (`bird.cfg.template`,
/// `bird_aggr.cfg.template`, `bird_ipam.cfg.template`), translated from BIRD 1.6 syntax.
/// Test-speed concessions: short connect/retry timers and a 2 s graceful-restart time.
fn bird_conf(
    filter: Filter,
    me: Ipv4Addr,
    block: Option<&str>,
    peers: &[(Ipv4Addr, bool)],
    router: bool,
) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "router id {me};");
    // The current template sets `krt_metric = 1024; krt_prefsrc = <node IP>` on pool
    // routes; BIRD 2 takes the kernel metric from the protocol's `metric` instead, so the
    // metric is set there (all exported routes are pool routes). BIRD 1.6 never exports
    // device routes to the kernel and BIRD 2 does: those are rejected here, so the kernel
    // holds what calico/node's BIRD installs.
    let krt = match filter {
        Filter::Current => format!("krt_prefsrc = {me}; "),
        _ => String::new(),
    };
    let _ = writeln!(
        c,
        "filter calico_kernel_programming {{\n  if ( source = RTS_DEVICE ) then reject;\n  if ( net ~ {POOL} ) then {{ {krt}accept; }}\n  accept;\n}}"
    );
    let metric = match filter {
        Filter::Legacy => "  metric 0;\n",
        Filter::Current => "  metric 1024;\n",
        Filter::Bird2Default => "",
    };
    let _ = writeln!(
        c,
        "protocol kernel {{\n  ipv4 {{ import all; export filter calico_kernel_programming; }};\n  learn;\n  persist;\n  scan time 2;\n  graceful restart;\n{metric}}}"
    );
    c.push_str("protocol device { scan time 2; }\n");
    c.push_str("protocol direct {\n  ipv4;\n  interface -\"cali*\", -\"kube-ipvs*\", \"*\";\n}\n");
    if let Some(block) = block {
        let _ = writeln!(
            c,
            "protocol static {{\n  ipv4;\n  route {block} blackhole;\n}}"
        );
        let _ = writeln!(
            c,
            "function calico_aggr() {{\n  if ( net = {block} ) then {{ accept; }}\n  if ( net ~ {block} ) then {{ reject; }}\n}}"
        );
    } else {
        c.push_str("function calico_aggr() { }\n");
    }
    let _ = writeln!(
        c,
        "filter calico_export_to_bgp_peers {{\n  calico_aggr();\n  if ( net ~ {POOL} ) then {{ accept; }}\n  reject;\n}}"
    );
    let export = if router {
        "all"
    } else {
        "filter calico_export_to_bgp_peers"
    };
    let _ = writeln!(
        c,
        "template bgp bgp_template {{\n  local {me} as {AS};\n  ipv4 {{ import all; export {export}; gateway recursive; add paths on; }};\n  graceful restart;\n  graceful restart time 2;\n  connect delay time 1;\n  connect retry time 1;\n  error wait time 1, 5;\n}}"
    );
    for (peer, client) in peers {
        let name = peer.to_string().replace('.', "_");
        let mut extra = String::new();
        if *client {
            extra.push_str("  rr client;\n  rr cluster id 1.0.0.1;\n");
        }
        // "Mesh is unidirectional, peer will connect to us" (one side passive).
        if !*client && !router && me > *peer && peers.len() > 1 {
            extra.push_str("  passive on;\n");
        }
        let _ = writeln!(
            c,
            "protocol bgp Mesh_{name} from bgp_template {{\n  neighbor {peer} as {AS};\n{extra}}}"
        );
    }
    c
}

/// The healthy-node assertions: check clean (nodes and the router), `pods` names every
/// pod, trace --snapshot agrees with real traffic for every pair.
fn healthy(cl: &CalicoLab) -> anyhow::Result<()> {
    let lab = &cl.lab;
    let mut errs: Vec<String> = Vec::new();
    let check = lab.check(&cl.cluster, &cl.extra())?;
    if check.code != Some(0) || !check.problems().is_empty() {
        errs.push(format!(
            "check on healthy Calico nodes ({:?}, {:?}): exit {:?}\n{}",
            cl.filter,
            cl.peering,
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
                    "pods on {n} does not name {} on {}",
                    p.key(),
                    p.host_veth
                ));
            }
        }
        if code != Some(0) {
            errs.push(format!(
                "pods on healthy {n}: exit {code:?}: {}",
                doc["findings"]
            ));
        }
    }
    match lab.compare_all(&cl.cluster, &cl.extra()) {
        Err(e) => errs.push(format!("{e:#}")),
        Ok(r) if !r.disagree.is_empty() => errs.push(format!(
            "trace --snapshot disagrees with real traffic:\n{}",
            r.explain()
        )),
        Ok(r) if !r.broken.is_empty() => errs.push(format!(
            "healthy nodes, yet real traffic fails: {:?}",
            r.broken
        )),
        Ok(_) => {}
    }
    if !errs.is_empty() {
        bail!("{}", errs.join("\n"));
    }
    Ok(())
}

fn mesh_legacy_healthy() -> anyhow::Result<()> {
    healthy(&CalicoLab::build("rcml", Filter::Legacy, Peering::Mesh)?)
}

fn mesh_current_healthy() -> anyhow::Result<()> {
    healthy(&CalicoLab::build("rcmc", Filter::Current, Peering::Mesh)?)
}

fn mesh_bird2_healthy() -> anyhow::Result<()> {
    healthy(&CalicoLab::build(
        "rcmb",
        Filter::Bird2Default,
        Peering::Mesh,
    )?)
}

fn rr_healthy() -> anyhow::Result<()> {
    healthy(&CalicoLab::build(
        "rcrr",
        Filter::Current,
        Peering::Reflector,
    )?)
}

/// The top-of-rack router is part of the cluster: it can be planned, and its snapshot is
/// checked with the nodes'.
fn tor_healthy() -> anyhow::Result<()> {
    let cl = CalicoLab::build("rctr", Filter::Legacy, Peering::Tor)?;
    let out = crate::lab::netpath()
        .args(["plan", "--cluster", &cl.cluster, "--node", "tor"])
        .output()?;
    let plan_err = (!out.status.success()).then(|| {
        format!(
            "plan --node tor: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
    });
    let r = healthy(&cl);
    match (plan_err, r) {
        (None, r) => r,
        (Some(p), Ok(())) => bail!("{p}"),
        (Some(p), Err(e)) => bail!("{p}\n{e:#}"),
    }
}

/// After an incident: `check` names it and trace predicts exactly the broken pairs.
fn incident(cl: &CalicoLab, words: &[&str], expect: &[(String, String)]) -> anyhow::Result<()> {
    cl.lab.snapshot_all()?;
    let check = cl.lab.check(&cl.cluster, &cl.extra())?;
    let mut errs = Vec::new();
    if !check.names(words) {
        errs.push(format!(
            "check does not name the cause ({words:?}); exit {:?}, findings:\n{}",
            check.code,
            check.listing()
        ));
    }
    let mut want = expect.to_vec();
    want.sort();
    match cl.lab.compare_all(&cl.cluster, &cl.extra()) {
        Err(e) => errs.push(format!("{e:#}")),
        Ok(r) if !r.disagree.is_empty() => errs.push(format!(
            "trace --snapshot disagrees with real traffic:\n{}",
            r.explain()
        )),
        Ok(r) if r.broken != want => errs.push(format!(
            "real traffic broke {:?}, the incident should break exactly {want:?}",
            r.broken
        )),
        Ok(_) => {}
    }
    if !errs.is_empty() {
        bail!("{}", errs.join("\n"));
    }
    Ok(())
}

/// Every ordered pair with one pod on `node` and the other elsewhere.
fn pairs_touching(cl: &CalicoLab, nodes: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in &cl.lab.pods {
        for b in &cl.lab.pods {
            if a.node != b.node
                && (nodes.contains(&a.node.as_str()) || nodes.contains(&b.node.as_str()))
            {
                out.push((a.key(), b.key()));
            }
        }
    }
    out
}

/// BIRD on node-2 stops: its own routes persist in its kernel, but once the graceful-restart
/// time is over its peers withdraw its block, and nothing reaches node-2's pods.
fn one_bird_stopped() -> anyhow::Result<()> {
    let mut cl = CalicoLab::build("rcbs", Filter::Legacy, Peering::Mesh)?;
    cl.stop_bird("node-2")?;
    for n in ["node-1", "node-3"] {
        cl.wait_route_gone(n, "10.65.1.0/26", Duration::from_secs(20))?;
    }
    let broken = pairs_touching(&cl, &["node-2"]);
    incident(&cl, &["10.65.1.0/26"], &broken)
}

/// The route reflector (node-1) goes down: its clients lose every route it reflected.
fn reflector_down() -> anyhow::Result<()> {
    let mut cl = CalicoLab::build("rcrd", Filter::Legacy, Peering::Reflector)?;
    cl.stop_bird("node-1")?;
    cl.wait_route_gone("node-2", "10.65.2.0/26", Duration::from_secs(20))?;
    cl.wait_route_gone("node-3", "10.65.1.0/26", Duration::from_secs(20))?;
    let broken = pairs_touching(&cl, &["node-1", "node-2", "node-3"]);
    incident(&cl, &["10.65.2.0/26"], &broken)
}
