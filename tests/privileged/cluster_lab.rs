//! A reusable lab: any [`Cluster`] built out of network namespaces, so that real kernels
//! forward real packets along the paths netpath predicts.
//!
//! What [`ClusterLab::build`] makes, all inside namespaces of its own (nothing is configured
//! in the host namespace, and every address lives in these namespaces):
//! - one netns per underlay segment (`cluster.underlay.subnets`, or the nodes' own subnets
//!   when none is declared) holding a bridge `br0`;
//! - one netns per node, its uplink (named as the cluster says, e.g. `eth0`) a veth into its
//!   segment's bridge, with the node's address/prefix, MAC and MTU and its default route;
//! - one netns per router, forwarding on, leg `ethN` into the segment of its Nth interface,
//!   with the connected, static and BGP-learned routes of [`plan::router_state`];
//! - one netns per pod (with its own netns and an IPv4 address), set up as the CNI plugin
//!   does: a veth into its node (Flannel: on `cni0`; Calico: `/32` and `169.254.1.1`);
//! - the node's CNI state (devices, addresses, neighbours, FDB, routes, sysctls), programmed
//!   by `netpath agent --once` (see [`Programmer`]).
//!
//! Who does what, as on a real node: the node's underlay (uplink address, default route,
//! `ip_forward`) and the pods (the CNI plugin's job: veth pair, the pod side's address and
//! routes, the host end's MAC, bridge port, proxy-ARP sysctls) come from the plan's own
//! commands (`netpath plan`'s "underlay" and "pod" sections, aimed at the lab's namespaces);
//! everything flanneld or Felix/BIRD would program comes from the agent, which does all of
//! it in every mode this kernel supports. The agent does not make pods, by design.
//!
//! Every namespace is a [`TestNetns`]: removed on drop, also when a test fails or panics
//! (and when the build itself fails half-way). Names are `np-<tag>-<role>-<pid>-<n>`, unique
//! per test run, so parallel tests never collide; devices may share names across namespaces.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use ipnetwork::IpNetwork;
use netpath::dataplane::Protocol;
use netpath::model::{Cluster, canonical};
use netpath::netlink::Netns;
use netpath::plan::{self, NodePlan};
use serde_json::Value;

use crate::lab::{TestNetns, netpath};

/// Who programs each node's CNI state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Programmer {
    /// `netpath agent --cluster C --node N --netns NS --once`: the way the lab is built.
    Agent,
    /// Nothing beyond the underlay and the pods (the CNI plugin's part): for tests that run
    /// the agent themselves ([`ClusterLab::agent_once`]).
    PodsOnly,
}

/// Something the plan asked for that the kernel refused while the lab was built (a host-gw
/// route to a node on another subnet: "Nexthop has invalid gateway"). Only refusals the plan
/// itself warns about are accepted; any other failure fails the build.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The node.
    pub node: String,
    /// What was asked (a command).
    pub what: String,
    /// What the kernel said.
    pub error: String,
}

/// A cluster built out of network namespaces. See the module documentation.
pub struct ClusterLab {
    /// What `netpath --cluster` takes for this cluster (`demo:NAME` or a file path).
    pub spec: String,
    /// The cluster.
    pub cluster: Cluster,
    /// Who programmed the nodes.
    pub programmer: Programmer,
    /// Planned items the kernel refused (each explained by a plan warning).
    pub refused: Vec<Refusal>,
    /// Node name → its plan.
    pub plans: BTreeMap<String, NodePlan>,
    /// Host name as `trace` names it (node, router, `namespace/pod`) → namespace.
    hosts: HashMap<String, TestNetns>,
    /// The underlay segments' namespaces (bridge `br0`), by subnet.
    segments: Vec<(IpNetwork, TestNetns)>,
    /// The cluster file, when the lab was built from text.
    _dir: Option<tempfile::TempDir>,
}

impl ClusterLab {
    /// Build the cluster named by `spec` (`demo:NAME` or a cluster file), tagging its
    /// namespaces with `tag` (keep it short: it shows in `ip netns`).
    pub fn build(spec: &str, tag: &str) -> anyhow::Result<ClusterLab> {
        Self::build_with(spec, tag, Programmer::Agent)
    }

    /// [`ClusterLab::build`], choosing who programs the nodes.
    pub fn build_with(spec: &str, tag: &str, programmer: Programmer) -> anyhow::Result<ClusterLab> {
        let cluster = Cluster::load(spec, &Default::default())
            .with_context(|| format!("loading cluster {spec}"))?;
        Self::build_cluster(spec.to_string(), cluster, tag, None, programmer)
    }

    /// Build a cluster given as netpath cluster-file text (YAML), written to a temporary
    /// file so that the CLI (`trace`, `plan`) reads the very same cluster.
    pub fn from_text(text: &str, tag: &str) -> anyhow::Result<ClusterLab> {
        let dir = tempfile::tempdir().context("temporary directory for the cluster file")?;
        let path = dir.path().join("cluster.yaml");
        std::fs::write(&path, text).context("writing the cluster file")?;
        let spec = path.to_string_lossy().into_owned();
        let cluster = Cluster::load(&spec, &Default::default())?;
        Self::build_cluster(spec, cluster, tag, Some(dir), Programmer::Agent)
    }

    fn build_cluster(
        spec: String,
        cluster: Cluster,
        tag: &str,
        dir: Option<tempfile::TempDir>,
        programmer: Programmer,
    ) -> anyhow::Result<ClusterLab> {
        let mut plans = BTreeMap::new();
        for n in &cluster.nodes {
            plans.insert(n.name.clone(), plan::node(&cluster, &n.name)?);
        }
        let mut lab = ClusterLab {
            spec,
            cluster,
            programmer,
            refused: Vec::new(),
            plans,
            hosts: HashMap::new(),
            segments: Vec::new(),
            _dir: dir,
        };
        lab.make_namespaces(tag)?;
        lab.make_underlay()?;
        lab.make_routers()?;
        lab.program_nodes()?;
        Ok(lab)
    }

    /// Every namespace, made in parallel (each is an `ip netns add` and `lo up`).
    fn make_namespaces(&mut self, tag: &str) -> anyhow::Result<()> {
        let mut wanted: Vec<(String, String)> = Vec::new(); // (host, role)
        for (i, n) in self.cluster.nodes.iter().enumerate() {
            wanted.push((n.name.clone(), format!("{tag}-n{i}")));
        }
        for (i, r) in self.cluster.underlay.routers.iter().enumerate() {
            wanted.push((r.name.clone(), format!("{tag}-r{i}")));
        }
        for (i, p) in self.cluster.pods.iter().enumerate() {
            if p.has_netns() {
                wanted.push((p.key(), format!("{tag}-p{i}")));
            }
        }
        let segments = self.segment_cidrs();
        let made: Vec<(String, TestNetns)> = std::thread::scope(|s| {
            let handles: Vec<_> = wanted
                .iter()
                .map(|(host, role)| s.spawn(move || (host.clone(), TestNetns::new(role))))
                .collect();
            let seg_handles: Vec<_> = (0..segments.len())
                .map(|i| s.spawn(move || TestNetns::new(&format!("{tag}-u{i}"))))
                .collect();
            let mut out = Vec::new();
            let mut panicked = false;
            for h in handles {
                match h.join() {
                    Ok(x) => out.push(x),
                    Err(_) => panicked = true,
                }
            }
            for (cidr, h) in segments.iter().zip(seg_handles) {
                match h.join() {
                    Ok(ns) => self.segments.push((*cidr, ns)),
                    Err(_) => panicked = true,
                }
            }
            if panicked {
                // The namespaces made so far are dropped (deleted) with `out`.
                return Err(anyhow!("could not create the lab's network namespaces"));
            }
            Ok(out)
        })?;
        self.hosts.extend(made);
        Ok(())
    }

    /// The underlay segments: the declared subnets, plus each node's own subnet when no
    /// declared one holds it.
    fn segment_cidrs(&self) -> Vec<IpNetwork> {
        let mut out: Vec<IpNetwork> = self
            .cluster
            .underlay
            .subnets
            .iter()
            .map(|s| canonical(s.cidr))
            .collect();
        for n in &self.cluster.nodes {
            if self.cluster.subnet_of(n.ip()).is_none() {
                let c = canonical(n.address);
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }

    fn segment_for(&self, ip: IpAddr) -> anyhow::Result<&TestNetns> {
        self.segments
            .iter()
            .filter(|(c, _)| c.contains(ip))
            .max_by_key(|(c, _)| c.prefix())
            .map(|(_, ns)| ns)
            .ok_or_else(|| anyhow!("no underlay segment holds {ip}"))
    }

    /// How many namespaces the lab holds (hosts and underlay segments).
    pub fn namespace_count(&self) -> usize {
        self.hosts.len() + self.segments.len()
    }

    /// The namespace of a host, by the name `trace` uses (node, router, `namespace/pod`).
    pub fn netns(&self, host: &str) -> anyhow::Result<&TestNetns> {
        self.hosts
            .get(host)
            .ok_or_else(|| anyhow!("the lab has no host {host:?}"))
    }

    /// The bridges, uplinks and router legs.
    fn make_underlay(&self) -> anyhow::Result<()> {
        let mut per_segment: Vec<Vec<String>> = vec![Vec::new(); self.segments.len()];
        for (i, n) in self.cluster.nodes.iter().enumerate() {
            let seg = self.segment_index(n.ip())?;
            let node_ns = &self.netns(&n.name)?.name;
            let port = format!("n{i}");
            per_segment[seg].push(format!(
                "link add {port} mtu {mtu} type veth peer name {iface} netns {node_ns}",
                mtu = n.mtu,
                iface = n.iface
            ));
            per_segment[seg].push(format!("link set {port} master br0 up"));
        }
        for (ri, r) in self.cluster.underlay.routers.iter().enumerate() {
            let router_ns = &self.netns(&r.name)?.name;
            let mtu = self.cluster.nodes.first().map(|n| n.mtu).unwrap_or(1500);
            for (j, a) in r.interfaces.iter().enumerate() {
                let seg = self.segment_index(a.ip())?;
                let port = format!("r{ri}e{j}");
                per_segment[seg].push(format!(
                    "link add {port} mtu {mtu} type veth peer name eth{j} netns {router_ns}"
                ));
                per_segment[seg].push(format!("link set {port} master br0 up"));
            }
        }
        for ((_, ns), cmds) in self.segments.iter().zip(per_segment) {
            let mut batch = vec![
                "link add br0 type bridge".to_string(),
                "link set br0 up".into(),
            ];
            batch.extend(cmds);
            ip_batch(&ns.name, &batch)?;
        }
        Ok(())
    }

    fn segment_index(&self, ip: IpAddr) -> anyhow::Result<usize> {
        self.segments
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| c.contains(ip))
            .max_by_key(|(_, (c, _))| c.prefix())
            .map(|(i, _)| i)
            .ok_or_else(|| anyhow!("no underlay segment holds {ip}"))
    }

    /// Routers: legs up with the planned MAC and address, forwarding on, the planned routes.
    fn make_routers(&self) -> anyhow::Result<()> {
        for (ri, r) in self.cluster.underlay.routers.iter().enumerate() {
            let st = plan::router_state(&self.cluster, ri);
            let ns = &self.netns(&r.name)?.name;
            let mut batch = Vec::new();
            for l in st.links.iter().filter(|l| l.name != "lo") {
                let mac = l.mac.map(|m| format!(" address {m}")).unwrap_or_default();
                batch.push(format!("link set {}{mac} mtu {} up", l.name, l.mtu));
            }
            for a in &st.addrs {
                if a.dev != "lo" {
                    batch.push(format!("addr add {} dev {}", a.addr, a.dev));
                }
            }
            for rt in st.routes.iter().filter(|rt| rt.proto != Protocol::KERNEL) {
                batch.push(format!("route add {rt}"));
            }
            ip_batch(ns, &batch).with_context(|| format!("router {}", r.name))?;
            sysctl(ns, "net.ipv4.ip_forward", "1")?;
        }
        Ok(())
    }

    /// Every node (and its pods), in parallel.
    fn program_nodes(&mut self) -> anyhow::Result<()> {
        let results: Vec<anyhow::Result<Vec<Refusal>>> = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .cluster
                .nodes
                .iter()
                .map(|n| s.spawn(|| self.program_node(&n.name)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow!("programming a node panicked")))
                })
                .collect()
        });
        for r in results {
            self.refused.extend(r?);
        }
        Ok(())
    }

    fn program_node(&self, name: &str) -> anyhow::Result<Vec<Refusal>> {
        let node = self
            .cluster
            .node(name)
            .ok_or_else(|| anyhow!("no node {name}"))?;
        let plan = &self.plans[name];
        let ns = &self.netns(name)?.name;
        // The uplink's MAC as planned (trace predicts ARP answers with it).
        if let Some(mac) = plan.state.link(&node.iface).and_then(|l| l.mac) {
            ip_batch(ns, &[format!("link set {} address {mac}", node.iface)])?;
        }
        let script = PlanScript::get(&self.spec, name)?;
        let mut lines: Vec<String> = script.section("underlay").to_vec();
        let mut refused = Vec::new();
        // The underlay and the pods (the CNI plugin's part), then the agent.
        lines.extend(self.pod_lines(&script)?);
        if let Some((what, error)) = run_lines(ns, &lines)?.into_iter().next() {
            bail!("node {name}: `{what}` failed: {error}");
        }
        // The bridge's MAC is the CNI plugin's choice; this lab's plugin takes the plan's
        // (the agent leaves it alone, as flanneld does).
        if let Some(mac) = plan.state.link("cni0").and_then(|l| l.mac) {
            ip_batch(ns, &[format!("link set cni0 address {mac}")])?;
        }
        if self.programmer == Programmer::PodsOnly {
            return Ok(Vec::new());
        }
        let run = self.agent_once(name)?;
        if run.code != Some(0) && run.failed.is_empty() {
            bail!(
                "netpath agent --node {name} --once: exit {:?} without a failed change: {}",
                run.code,
                if run.doc.is_null() {
                    run.stderr.clone()
                } else {
                    run.doc["remaining"].to_string()
                }
            );
        }
        for (what, error) in run.failed {
            let explained = refused_route(&what).is_some_and(|r| {
                plan.warnings
                    .iter()
                    .any(|w| w.starts_with(&format!("route {r}:")))
            });
            if !explained {
                bail!("node {name}: `{what}` failed: {error}");
            }
            refused.push(Refusal {
                node: name.to_string(),
                what,
                error,
            });
        }
        Ok(refused)
    }

    /// `netpath --json agent --cluster SPEC --node NODE --netns NS --once`.
    pub fn agent_once(&self, node: &str) -> anyhow::Result<AgentRun> {
        let ns = &self.netns(node)?.name;
        let out = netpath()
            .args(["--json", "agent", "--cluster", &self.spec, "--node", node])
            .args(["--netns", ns, "--once"])
            .output()
            .context("running netpath agent")?;
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let mut failed = Vec::new();
        for c in doc["changes"].as_array().into_iter().flatten() {
            if c["status"] == "failed" {
                let cmds: Vec<&str> = c["commands"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                failed.push((
                    cmds.join("; "),
                    str_of(c, "error").unwrap_or("?").to_string(),
                ));
            }
        }
        Ok(AgentRun {
            code: out.status.code(),
            doc,
            failed,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }

    /// `netpath --json check --cluster SPEC --node NODE --netns NS`: the exit code and the
    /// findings (netpath.check/v1 `findings`).
    pub fn check(&self, node: &str) -> anyhow::Result<(Option<i32>, Vec<Value>)> {
        let ns = &self.netns(node)?.name;
        let out = netpath()
            .args(["--json", "check", "--cluster", &self.spec, "--node", node])
            .args(["--netns", ns])
            .output()
            .context("running netpath check")?;
        let doc: Value = serde_json::from_slice(&out.stdout).map_err(|_| {
            anyhow!(
                "netpath check --node {node}: {} and no JSON: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
        let findings = doc["findings"].as_array().cloned().unwrap_or_default();
        Ok((out.status.code(), findings))
    }

    /// The plan's pod sections, aimed at the lab's pod namespaces (which the lab made). A
    /// bridge a pod's veth goes on is created first when missing, as the bridge CNI plugin
    /// does (the agent then sets its MAC, MTU and address).
    fn pod_lines(&self, script: &PlanScript) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for pod in &script.pods {
            let lab_ns = &self.netns(&pod.key)?.name;
            for l in &pod.lines {
                let words: Vec<&str> = l.split_whitespace().collect();
                if let Some(br) = words
                    .iter()
                    .position(|w| *w == "master")
                    .and_then(|i| words.get(i + 1))
                {
                    out.push(format!(
                        "ip link show {br} >/dev/null 2>&1 || ip link add {br} type bridge"
                    ));
                }
                if l == &format!("ip netns add {}", pod.netns) {
                    continue;
                }
                let l = if let Some(rest) = l.strip_prefix(&format!("ip -n {} ", pod.netns)) {
                    format!("ip -n {lab_ns} {rest}")
                } else if let Some(head) = l.strip_suffix(&format!(" netns {}", pod.netns)) {
                    format!("{head} netns {lab_ns}")
                } else {
                    l.clone()
                };
                if l.split_whitespace().any(|w| w == pod.netns) {
                    bail!(
                        "pod {}: cannot aim this plan command at the lab's netns: {l}",
                        pod.key
                    );
                }
                // The bridge plugin with kube-flannel's `hairpinMode: true` turns hairpin
                // on for the pod's port once it is on the bridge.
                let port = (words.get(..3) == Some(&["ip", "link", "set"][..])
                    && words.contains(&"master"))
                .then(|| words.get(3))
                .flatten()
                .map(|dev| format!("ip link set dev {dev} type bridge_slave hairpin on"));
                out.push(l);
                out.extend(port);
            }
        }
        Ok(out)
    }

    /// `netpath --json trace --cluster SPEC SRC DST --proto udp --dport DPORT` (the
    /// netpath.trace/v1 document; exit 0 or 1 both give one).
    pub fn trace(&self, src: &str, dst: &str, dport: u16) -> anyhow::Result<Value> {
        let out = netpath()
            .args(["--json", "trace", "--cluster", &self.spec, src, dst])
            .args(["--proto", "udp", "--dport", &dport.to_string()])
            .output()
            .context("running netpath trace")?;
        if !matches!(out.status.code(), Some(0 | 1)) {
            bail!(
                "netpath trace {src} {dst}: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        serde_json::from_slice(&out.stdout).context("netpath trace --json output")
    }

    /// A UDP socket bound to `addr` inside `host`'s namespace (the socket stays in that
    /// namespace; the calling thread never leaves its own).
    pub fn udp_socket(&self, host: &str, addr: SocketAddr) -> anyhow::Result<UdpSocket> {
        let ns = Netns::parse(&self.netns(host)?.name);
        ns.run(move || {
            // The previous direction's socket on this address is closed, but a child that
            // another test thread forked at that moment may still hold a copy of its fd
            // until it execs: retry briefly instead of failing on EADDRINUSE.
            let start = Instant::now();
            loop {
                match UdpSocket::bind(addr) {
                    Err(e)
                        if e.kind() == std::io::ErrorKind::AddrInUse
                            && start.elapsed() < Duration::from_secs(2) =>
                    {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    r => return r.with_context(|| format!("binding UDP {addr} in {host}")),
                }
            }
        })
    }

    /// Send one UDP datagram of `size` bytes of IP (at least 29) from `src` (a host and its
    /// socket address) to `dst` and report whether it arrived within `wait`. The datagram is
    /// sent three times, 100 ms apart, in case the first is lost to neighbour resolution; a
    /// unique token tells this run's datagrams from anything else.
    pub fn udp_arrives(
        &self,
        src: (&str, SocketAddr),
        dst: (&str, SocketAddr),
        size: usize,
        wait: Duration,
    ) -> anyhow::Result<bool> {
        let rx = self.udp_socket(dst.0, dst.1)?;
        let tx = self.udp_socket(src.0, src.1)?;
        let token = format!("netpath-lab {} {} {:?}", src.1, dst.1, Instant::now());
        let mut payload = token.clone().into_bytes();
        payload.resize(size.saturating_sub(28).max(payload.len()), b'.');
        rx.set_read_timeout(Some(Duration::from_millis(100)))?;
        let start = Instant::now();
        let mut sent = 0;
        let mut buf = [0u8; 2048];
        while start.elapsed() < wait {
            if sent < 3 && start.elapsed() >= Duration::from_millis(100 * sent) {
                // A send may fail (EHOSTUNREACH after an ICMP error): that is "not arrived".
                let _ = tx.send_to(&payload, dst.1);
                sent += 1;
            }
            match rx.recv_from(&mut buf) {
                Ok((n, from)) if from == src.1 && buf[..n].starts_with(token.as_bytes()) => {
                    return Ok(true);
                }
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

    /// Open a TCP connection from `client` (a host) to `server` (a host and its socket
    /// address), send `bytes` bytes and close; the number of bytes the server read before
    /// the close, or the error that stopped it, within `wait`. Real TCP across the path:
    /// the handshake and the ACKs need both directions, full-size segments need the MTUs.
    pub fn tcp_transfer(
        &self,
        client: &str,
        server: (&str, SocketAddr),
        bytes: usize,
        wait: Duration,
    ) -> anyhow::Result<usize> {
        let addr = server.1;
        let listener = Netns::parse(&self.netns(server.0)?.name).run(move || {
            let start = Instant::now();
            loop {
                match TcpListener::bind(addr) {
                    Err(e)
                        if e.kind() == std::io::ErrorKind::AddrInUse
                            && start.elapsed() < Duration::from_secs(2) =>
                    {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    r => return r.with_context(|| format!("binding TCP {addr}")),
                }
            }
        })?;
        listener.set_nonblocking(true)?;
        let deadline = Instant::now() + wait;
        let reader = std::thread::spawn(move || -> anyhow::Result<usize> {
            let mut conn = loop {
                match listener.accept() {
                    Ok((c, _)) => break c,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        if Instant::now() >= deadline {
                            bail!("no connection accepted on {addr}");
                        }
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(e) => return Err(e).context("accepting"),
                }
            };
            conn.set_nonblocking(false)?;
            conn.set_read_timeout(Some(deadline.saturating_duration_since(Instant::now())))?;
            let mut n = 0;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match conn.read(&mut buf) {
                    Ok(0) => return Ok(n),
                    Ok(k) => n += k,
                    Err(e) => return Err(e).with_context(|| format!("reading after {n} bytes")),
                }
            }
        });
        let sent = Netns::parse(&self.netns(client)?.name).run(move || {
            let mut s = TcpStream::connect_timeout(&addr, wait)
                .with_context(|| format!("connecting to {addr}"))?;
            s.set_write_timeout(Some(wait))?;
            let chunk = vec![b'n'; 16 * 1024];
            let mut left = bytes;
            while left > 0 {
                let k = left.min(chunk.len());
                s.write_all(&chunk[..k])
                    .with_context(|| format!("writing after {} bytes", bytes - left))?;
                left -= k;
            }
            s.shutdown(std::net::Shutdown::Write)?;
            Ok(())
        });
        let got = reader
            .join()
            .map_err(|_| anyhow!("the TCP reader panicked"))?;
        sent?;
        got
    }

    /// What the kernel of `host` decides for a packet `src → dst` (arriving on `iif`, or
    /// sent locally): `ip -j route get DST from SRC [iif DEV]`.
    pub fn route_get(
        &self,
        host: &str,
        dst: IpAddr,
        src: IpAddr,
        iif: Option<&str>,
    ) -> anyhow::Result<KernelRoute> {
        let ns = &self.netns(host)?.name;
        let mut cmd = Command::new("ip");
        cmd.args(["-n", ns, "-j", "route", "get"])
            .arg(dst.to_string())
            .args(["from", &src.to_string()]);
        if let Some(dev) = iif {
            cmd.args(["iif", dev]);
        }
        let out = cmd.output().context("running ip route get")?;
        if !out.status.success() {
            return Ok(KernelRoute::Error(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        let v: Value = serde_json::from_slice(&out.stdout).context("ip -j route get output")?;
        let r = v
            .get(0)
            .ok_or_else(|| anyhow!("ip route get printed no route"))?;
        let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(KernelRoute::Route {
            kind: s("type").unwrap_or_else(|| "unicast".into()),
            gateway: s("gateway").and_then(|g| g.parse().ok()),
            dev: s("dev"),
        })
    }

    /// Run a shell command in `host`'s namespace; its output, or an error with stderr.
    pub fn exec(&self, host: &str, cmd: &str) -> anyhow::Result<String> {
        let out = self.netns(host)?.exec_output(cmd);
        if !out.status.success() {
            bail!(
                "in {host}: `{cmd}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Start capturing on `iface` in `host`'s namespace (only UDP, which carries both the
    /// lab's datagrams and VXLAN); returns once the capture is running.
    pub fn capture(&self, host: &str, iface: &str) -> anyhow::Result<Capture> {
        Capture::start(&self.netns(host)?.name, host, iface, "udp")
    }
}

// ---- Verifying trace's prediction for a pod pair against the kernels ----

/// One direction of a trace, with what the lab needs from it.
struct Direction<'a> {
    name: &'static str,
    from_pod: String,
    to_pod: String,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    size: usize,
    delivered: bool,
    hops: &'a [Value],
    verdict: &'a Value,
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn ip_of(v: &Value, k: &str) -> Option<IpAddr> {
    str_of(v, k).and_then(|s| s.parse().ok())
}

fn direction<'a>(
    trace: &'a Value,
    name: &'static str,
    from_pod: &str,
    to_pod: &str,
) -> anyhow::Result<Direction<'a>> {
    let d = &trace[name];
    let p = &d["packet"];
    let bad = || anyhow!("trace {name}: missing fields in {d}");
    let port = |k: &str| {
        p.get(k)
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
    };
    let verdict = &d["verdict"];
    Ok(Direction {
        name,
        from_pod: from_pod.to_string(),
        to_pod: to_pod.to_string(),
        src: ip_of(p, "src").ok_or_else(bad)?,
        dst: ip_of(p, "dst").ok_or_else(bad)?,
        sport: port("sport").ok_or_else(bad)?,
        dport: port("dport").ok_or_else(bad)?,
        size: p.get("size").and_then(Value::as_u64).ok_or_else(bad)? as usize,
        delivered: str_of(verdict, "verdict") == Some("delivered"),
        hops: d["hops"].as_array().map(Vec::as_slice).ok_or_else(bad)?,
        verdict,
    })
}

/// The encapsulation of a packet on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encap {
    /// None: the pods' own addresses on the wire.
    None,
    /// VXLAN.
    Vxlan {
        /// VNI.
        vni: u64,
        /// UDP destination port.
        port: u64,
        /// Outer source (the sending node).
        outer_src: IpAddr,
        /// Outer destination (the receiving VTEP's node).
        outer_dst: IpAddr,
    },
    /// IP-in-IP.
    Ipip {
        /// Outer source.
        outer_src: IpAddr,
        /// Outer destination.
        outer_dst: IpAddr,
    },
}

impl std::fmt::Display for Encap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Encap::None => write!(f, "no encapsulation"),
            Encap::Vxlan {
                vni,
                port,
                outer_src,
                outer_dst,
            } => write!(f, "VXLAN VNI {vni} udp/{port} {outer_src} → {outer_dst}"),
            Encap::Ipip {
                outer_src,
                outer_dst,
            } => write!(f, "IPIP {outer_src} → {outer_dst}"),
        }
    }
}

/// The encapsulation trace predicts for a direction (its `encap` hop), if any.
fn predicted_encap(d: &Direction) -> anyhow::Result<Encap> {
    let Some(h) = d
        .hops
        .iter()
        .find(|h| h["action"]["kind"] == "encap" && h["depth"] == 0)
    else {
        return Ok(Encap::None);
    };
    let e = &h["encap"];
    let bad = || anyhow!("trace {}: unreadable encap {e}", d.name);
    match str_of(e, "type") {
        Some("vxlan") => Ok(Encap::Vxlan {
            vni: e["vni"].as_u64().ok_or_else(bad)?,
            port: e["port"].as_u64().ok_or_else(bad)?,
            outer_src: ip_of(e, "outer_src").ok_or_else(bad)?,
            outer_dst: ip_of(e, "outer_dst").ok_or_else(bad)?,
        }),
        Some("ipip") => Ok(Encap::Ipip {
            outer_src: ip_of(e, "outer_src").ok_or_else(bad)?,
            outer_dst: ip_of(e, "outer_dst").ok_or_else(bad)?,
        }),
        _ => Err(bad()),
    }
}

/// The encapsulation a decoded packet carries, if it is one of the direction's datagrams
/// (innermost IPv4 source/destination and UDP ports match).
fn seen_encap(packet: &Value, d: &Direction) -> Option<Encap> {
    let layers = packet["layers"].as_array()?;
    let ipv4: Vec<&Value> = layers.iter().filter(|l| l["proto"] == "ipv4").collect();
    let inner = ipv4.last()?;
    let udp = layers.iter().rev().find(|l| l["proto"] == "udp")?;
    if ip_of(inner, "src") != Some(d.src)
        || ip_of(inner, "dst") != Some(d.dst)
        || udp["src_port"].as_u64() != Some(u64::from(d.sport))
        || udp["dst_port"].as_u64() != Some(u64::from(d.dport))
    {
        return None;
    }
    if let Some(v) = layers.iter().find(|l| l["proto"] == "vxlan") {
        let outer = ipv4.first()?;
        return Some(Encap::Vxlan {
            vni: v["vni"].as_u64()?,
            port: v["port"].as_u64()?,
            outer_src: ip_of(outer, "src")?,
            outer_dst: ip_of(outer, "dst")?,
        });
    }
    if ipv4.len() >= 2 {
        let outer = ipv4[0];
        return Some(Encap::Ipip {
            outer_src: ip_of(outer, "src")?,
            outer_dst: ip_of(outer, "dst")?,
        });
    }
    Some(Encap::None)
}

fn node_of(lab: &ClusterLab, pod: &str) -> anyhow::Result<(String, String)> {
    let p = lab
        .cluster
        .pods
        .iter()
        .find(|p| p.key() == pod)
        .ok_or_else(|| anyhow!("no pod {pod} in {}", lab.spec))?;
    let n = lab
        .cluster
        .node(&p.node)
        .ok_or_else(|| anyhow!("no node {}", p.node))?;
    Ok((n.name.clone(), n.iface.clone()))
}

/// What [`ClusterLab::verify_pair`] found for one pod pair.
#[derive(Debug)]
pub struct PairReport {
    /// trace's netpath.trace/v1 document.
    pub trace: Value,
    /// Request, then reply.
    pub directions: Vec<DirectionReport>,
    /// Every difference between trace's prediction and the kernels (empty: they agree).
    pub problems: Vec<String>,
    /// What is worth knowing but is not a difference (the kernel's own route where trace
    /// says the kernel refused the planned one).
    pub notes: Vec<String>,
}

/// One direction of a verified pair.
#[derive(Debug)]
pub struct DirectionReport {
    /// `request` or `reply`.
    pub name: &'static str,
    /// trace's verdict is `delivered`.
    pub predicted_delivered: bool,
    /// The lab's UDP datagram arrived.
    pub arrived: bool,
    /// The encapsulation trace predicts.
    pub predicted_encap: Encap,
}

impl ClusterLab {
    /// Trace the pod pair `src → dst` (UDP to `dport`), then, both ways: send real UDP
    /// between the pods, capture on both nodes' uplinks, and compare with trace: arrival
    /// exactly when delivered; the encapsulation seen leaving and arriving; every routing hop
    /// against `ip route get … iif …` on its host, every resolved neighbour and FDB entry
    /// against the kernel's tables, and the drop against what the kernel does there.
    /// Errors are failures of the lab itself; differences are in the report.
    pub fn verify_pair(&self, src: &str, dst: &str, dport: u16) -> anyhow::Result<PairReport> {
        let trace = self.trace(src, dst, dport)?;
        let (directions, problems, notes) = verify_traced(self, &trace, src, dst)?;
        Ok(PairReport {
            trace,
            directions,
            problems,
            notes,
        })
    }
}

#[allow(clippy::type_complexity)]
fn verify_traced(
    lab: &ClusterLab,
    trace: &Value,
    src: &str,
    dst: &str,
) -> anyhow::Result<(Vec<DirectionReport>, Vec<String>, Vec<String>)> {
    let dirs = [
        direction(trace, "request", src, dst)?,
        direction(trace, "reply", dst, src)?,
    ];
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let label = format!("{src} → {dst}");

    // Captures on both nodes' uplinks, running while both directions are sent.
    let (src_node, src_if) = node_of(lab, src)?;
    let (dst_node, dst_if) = node_of(lab, dst)?;
    let caps = [
        (src_node.clone(), src_if.clone()),
        (dst_node.clone(), dst_if.clone()),
    ];
    let mut running: Vec<Capture> = Vec::new();
    for (n, i) in &caps {
        running.push(lab.capture(n, i)?);
    }
    let mut arrived = Vec::new();
    for d in &dirs {
        let wait = if d.delivered {
            Duration::from_secs(3)
        } else {
            Duration::from_millis(700)
        };
        let got = lab
            .udp_arrives(
                (&d.from_pod, SocketAddr::new(d.src, d.sport)),
                (&d.to_pod, SocketAddr::new(d.dst, d.dport)),
                d.size,
                wait,
            )
            .with_context(|| format!("{label} {}", d.name))?;
        arrived.push(got);
    }
    std::thread::sleep(Duration::from_millis(50));
    let mut seen: HashMap<String, Vec<Value>> = HashMap::new();
    for c in running {
        let host = c.label.clone();
        seen.insert(host, c.finish()?);
    }
    // After the captures (they are about the UDP probes): real TCP where both directions
    // are delivered (the ACKs need the reply path): a
    // transfer of full-size segments through the tunnel, the MTUs and the checksums.
    if dirs.iter().all(|d| d.delivered) {
        let d = &dirs[0];
        const BYTES: usize = 256 * 1024;
        match lab.tcp_transfer(
            &d.from_pod,
            (&d.to_pod, SocketAddr::new(d.dst, d.dport)),
            BYTES,
            Duration::from_secs(5),
        ) {
            Ok(n) if n == BYTES => {}
            Ok(n) => problems.push(format!(
                "{label}: trace says delivered both ways, but a TCP transfer {} → {} carried {n} of {BYTES} bytes",
                d.src, d.dst
            )),
            Err(e) => problems.push(format!(
                "{label}: trace says delivered both ways, but a TCP transfer {} → {} failed: {e:#}",
                d.src, d.dst
            )),
        }
    }

    for (d, got) in dirs.iter().zip(&arrived) {
        // 1. Arrival.
        if *got != d.delivered {
            problems.push(format!(
                "{label} {}: trace says {}, but the UDP datagram {} ({} → {} udp/{})",
                d.name,
                if d.delivered { "delivered" } else { "dropped" },
                if *got { "arrived" } else { "did not arrive" },
                d.src,
                d.dst,
                d.dport
            ));
        }
        // 2. Hops against the kernels.
        let diverged = compare_hops(lab, d, &mut problems, &mut notes);
        // 3. Encapsulation on the wire.
        let (from_node, from_if, to_node, to_if) = if d.name == "request" {
            (&src_node, &src_if, &dst_node, &dst_if)
        } else {
            (&dst_node, &dst_if, &src_node, &src_if)
        };
        let predicted = predicted_encap(d)?;
        let leaves = d.hops.iter().any(|h| {
            h["host"] == from_node.as_str()
                && h["action"]["kind"] == "transmit"
                && h["device"] == from_if.as_str()
        });
        let reaches = d.hops.iter().any(|h| {
            h["host"] == to_node.as_str()
                && h["action"]["kind"] == "receive"
                && h["device"] == to_if.as_str()
        });
        for (node, iface, predicted_here, what) in [
            (from_node, from_if, leaves, "leaving"),
            (to_node, to_if, reaches, "arriving at"),
        ] {
            let key = format!("{node} {iface}");
            let encs: Vec<Encap> = seen
                .get(&key)
                .map(|ps| ps.iter().filter_map(|pk| seen_encap(pk, d)).collect())
                .unwrap_or_default();
            if predicted_here {
                if encs.is_empty() {
                    problems.push(format!(
                        "{label} {}: trace predicts the packet {what} {node} on {iface} ({predicted}), the capture there saw none",
                        d.name
                    ));
                }
                for e in encs.iter().filter(|e| **e != predicted) {
                    problems.push(format!(
                        "{label} {}: {what} {node} on {iface} trace predicts {predicted}, the capture saw {e}",
                        d.name
                    ));
                }
            } else if let Some(e) = encs.first() {
                if diverged {
                    notes.push(format!(
                        "{} {what} {node} on {iface}: the kernel sent it ({e}) along the route it has instead of the refused one",
                        d.name
                    ));
                } else {
                    problems.push(format!(
                        "{label} {}: trace predicts nothing {what} {node} on {iface}, the capture saw {} packet(s) ({e})",
                        d.name,
                        encs.len()
                    ));
                }
            }
        }
    }
    let reports = dirs
        .iter()
        .zip(arrived)
        .map(|(d, arrived)| {
            Ok(DirectionReport {
                name: d.name,
                predicted_delivered: d.delivered,
                arrived,
                predicted_encap: predicted_encap(d)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((reports, problems, notes))
}

/// Compare every routing, neighbour and FDB hop of a direction with the kernel of its host,
/// and its drop with what the kernel does there. Returns true when trace's path ends at a
/// route the kernel refused (the kernel then takes another route: noted, not compared).
fn compare_hops(
    lab: &ClusterLab,
    d: &Direction,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> bool {
    let label = format!("{} → {} {}", d.from_pod, d.to_pod, d.name);
    // Where the packet entered the current host (None: sent by the host itself).
    let mut iif: Option<(String, usize, String)> = None;
    let reason = str_of(&d.verdict["reason"], "code").unwrap_or("");
    let mut diverged = false;
    for (i, h) in d.hops.iter().enumerate() {
        let host = str_of(h, "host").unwrap_or("?");
        let depth = h["depth"].as_u64().unwrap_or(0) as usize;
        let device = str_of(h, "device");
        let kind = str_of(&h["action"], "kind").unwrap_or("?");
        let (Some(src), Some(dst)) = (ip_of(h, "src"), ip_of(h, "dst")) else {
            problems.push(format!("{label}: hop without addresses: {h}"));
            continue;
        };
        let here_iif = iif
            .as_ref()
            .filter(|(hh, dd, _)| hh == host && *dd == depth)
            .map(|(_, _, dev)| dev.as_str());
        match kind {
            "send" | "encap" => iif = None,
            "receive" => {
                let dev = str_of(&h["action"], "bridge").or(device).unwrap_or("?");
                iif = Some((host.to_string(), depth, dev.to_string()));
            }
            "route" => {
                let r = &h["route"];
                let nh = &r["nexthops"][0];
                let want_type = str_of(r, "type").unwrap_or("unicast");
                let want_gw = ip_of(nh, "gateway");
                let want_dev = str_of(nh, "dev");
                let next_is_refused = d.hops.get(i + 1).is_some_and(|n| {
                    n["action"]["kind"] == "drop" && reason == "next-hop-not-on-link"
                });
                let got = match lab.route_get(host, dst, src, here_iif) {
                    Ok(k) => k,
                    Err(e) => {
                        problems.push(format!("{label}: at {host}: {e:#}"));
                        continue;
                    }
                };
                let shown = format!(
                    "ip route get {dst} from {src}{} in {host}",
                    here_iif.map(|d| format!(" iif {d}")).unwrap_or_default()
                );
                if next_is_refused {
                    // Trace: the kernel refuses this route. Then it must not be there.
                    let rdst = str_of(r, "dst").unwrap_or("?");
                    match lab.exec(host, &format!("ip -j route show exact {rdst}")) {
                        Ok(out) if out.trim() == "[]" || out.trim().is_empty() => {
                            diverged = true;
                            notes.push(format!(
                                "{}: as trace says, {host}'s kernel refused the route to {rdst} (next hop not on-link); {shown} picks {got} instead",
                                d.name
                            ));
                        }
                        Ok(out) => problems.push(format!(
                            "{label}: trace says {host}'s kernel refuses the route to {rdst}, but it holds {}",
                            out.trim()
                        )),
                        Err(e) => problems.push(format!("{label}: {e:#}")),
                    }
                    continue;
                }
                let same = match &got {
                    KernelRoute::Route { kind, gateway, dev } => {
                        kind == want_type
                            && (want_type != "unicast"
                                || (*gateway == want_gw && dev.as_deref() == want_dev))
                    }
                    KernelRoute::Error(_) => false,
                };
                if !same {
                    problems.push(format!(
                        "{label}: at {host} trace matches route {} ({want_type} via {} dev {}), but {shown} says {got}",
                        str_of(r, "dst").unwrap_or("?"),
                        want_gw.map(|g| g.to_string()).unwrap_or_else(|| "-".into()),
                        want_dev.unwrap_or("-"),
                    ));
                }
            }
            "resolve" if !diverged => {
                let a = &h["action"];
                let (Some(addr), Some(mac), Some(dev)) =
                    (ip_of(a, "addr"), str_of(a, "mac"), device)
                else {
                    continue;
                };
                match lab.exec(host, &format!("ip -j neigh show {addr} dev {dev}")) {
                    Ok(out) => {
                        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
                        let have = v.get(0).and_then(|n| str_of(n, "lladdr"));
                        if have != Some(mac) {
                            problems.push(format!(
                                "{label}: at {host} trace resolves {addr} on {dev} to {mac} ({}), the kernel's neighbour table has {}",
                                a["how"],
                                have.unwrap_or("no entry")
                            ));
                        }
                    }
                    Err(e) => problems.push(format!("{label}: {e:#}")),
                }
            }
            "fdb" if !diverged => {
                let a = &h["action"];
                let (Some(mac), Some(vtep), Some(dev)) =
                    (str_of(a, "mac"), ip_of(a, "dst"), device)
                else {
                    continue;
                };
                match lab.exec(host, &format!("bridge -j fdb show dev {dev}")) {
                    Ok(out) => {
                        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
                        let found = v.as_array().is_some_and(|es| {
                            es.iter().any(|e| {
                                str_of(e, "mac") == Some(mac) && ip_of(e, "dst") == Some(vtep)
                            })
                        });
                        if !found {
                            problems.push(format!(
                                "{label}: at {host} trace finds FDB {mac} dst {vtep} on {dev}, the kernel has none: {}",
                                out.trim()
                            ));
                        }
                    }
                    Err(e) => problems.push(format!("{label}: {e:#}")),
                }
            }
            "drop" if reason == "no-route" => match lab.route_get(host, dst, src, here_iif) {
                Ok(KernelRoute::Error(e)) if e.contains("unreachable") => {}
                Ok(other) => problems.push(format!(
                    "{label}: trace says {host} has no route to {dst}, the kernel says {other}"
                )),
                Err(e) => problems.push(format!("{label}: {e:#}")),
            },
            _ => {}
        }
    }
    diverged
}

/// One `netpath agent --once` run.
#[derive(Debug)]
pub struct AgentRun {
    /// Its exit code (0: the node matches the plan; 3: the kernel refused, nothing changed).
    pub code: Option<i32>,
    /// Its JSON document (null when it printed none, e.g. on exit 3).
    pub doc: Value,
    /// The changes the kernel refused: (commands, error).
    pub failed: Vec<(String, String)>,
    /// What it said on stderr.
    pub stderr: String,
}

/// The route of a failed `ip route add|replace ROUTE [proto N]` command, as `ip route`
/// prints it without the agent's protocol.
fn refused_route(cmd: &str) -> Option<&str> {
    let r = cmd
        .strip_prefix("ip route add ")
        .or_else(|| cmd.strip_prefix("ip route replace "))?;
    Some(match r.rsplit_once(" proto ") {
        Some((head, p)) if p.chars().all(|c| c.is_ascii_digit()) => head,
        _ => r,
    })
}

/// The kernel's decision for one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelRoute {
    /// A route: its type (`unicast`, `local`, `blackhole`…), gateway and device.
    Route {
        /// `unicast`, `local`, `blackhole`, `unreachable`, `prohibit`…
        kind: String,
        /// The next hop, when the route has one.
        gateway: Option<IpAddr>,
        /// The output device.
        dev: Option<String>,
    },
    /// No route: what `ip` said (`RTNETLINK answers: Network is unreachable`).
    Error(String),
}

impl std::fmt::Display for KernelRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KernelRoute::Route { kind, gateway, dev } => {
                write!(f, "{kind}")?;
                if let Some(g) = gateway {
                    write!(f, " via {g}")?;
                }
                if let Some(d) = dev {
                    write!(f, " dev {d}")?;
                }
                Ok(())
            }
            KernelRoute::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// A live capture: `netpath --json capture` running in a namespace (netpath.decode/v1
/// objects, one per packet).
pub struct Capture {
    child: Child,
    /// Which host and interface, for messages.
    pub label: String,
}

impl Capture {
    fn start(ns: &str, host: &str, iface: &str, filter: &str) -> anyhow::Result<Capture> {
        let mut child = netpath()
            .args([
                "--json", "capture", "-i", iface, "--netns", ns, "--filter", filter,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting netpath capture")?;
        let label = format!("{host} {iface}");
        let mut err = BufReader::new(child.stderr.take().context("netpath capture stderr")?);
        let mut line = String::new();
        err.read_line(&mut line)
            .context("reading netpath capture")?;
        if !line.contains("capturing on") {
            let _ = child.kill();
            let _ = child.wait();
            bail!("netpath capture on {label} did not start: {line}");
        }
        // Keep draining stderr so the capture never blocks on it.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while err.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        Ok(Capture { child, label })
    }

    /// Stop the capture (SIGINT, as Ctrl-C) and return the packets it decoded.
    pub fn finish(mut self) -> anyhow::Result<Vec<Value>> {
        // SAFETY: kill(2) on the pid of our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGINT);
        }
        let mut stdout = self.child.stdout.take().context("netpath capture stdout")?;
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(st) = self.child.try_wait()? {
                break st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!("netpath capture on {} did not stop on SIGINT", self.label);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let text = reader
            .join()
            .map_err(|_| anyhow!("reading netpath capture panicked"))?
            .context("reading netpath capture output")?;
        if !status.success() {
            bail!("netpath capture on {}: {status}", self.label);
        }
        let mut packets = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: Value = serde_json::from_str(line)
                .with_context(|| format!("netpath capture --json line: {line}"))?;
            if v.get("layers").is_some() {
                packets.push(v);
            }
        }
        Ok(packets)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `netpath plan --color never` for one node, cut into its sections.
pub struct PlanScript {
    sections: BTreeMap<&'static str, Vec<String>>,
    /// The pod sections.
    pub pods: Vec<PodScript>,
}

/// The plan's commands for one pod.
pub struct PodScript {
    /// `namespace/name`.
    pub key: String,
    /// The netns name the plan uses.
    pub netns: String,
    /// Its commands.
    pub lines: Vec<String>,
}

impl PlanScript {
    /// Run `netpath plan` for `node` of cluster `spec` and parse its output.
    pub fn get(spec: &str, node: &str) -> anyhow::Result<PlanScript> {
        let out = netpath()
            .args([
                "--color",
                "never",
                "plan",
                "--cluster",
                spec,
                "--node",
                node,
            ])
            .output()
            .context("running netpath plan")?;
        if !out.status.success() {
            bail!(
                "netpath plan --node {node}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        PlanScript::parse(&String::from_utf8_lossy(&out.stdout))
    }

    /// Parse the output of `netpath plan`: `# heading` lines open sections, indented
    /// `#   ` lines are comments.
    pub fn parse(text: &str) -> anyhow::Result<PlanScript> {
        let mut sections: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut pods: Vec<PodScript> = Vec::new();
        enum At {
            Title,
            Section(&'static str),
            Pod,
        }
        let mut at = At::Title;
        for line in text.lines() {
            if let Some(h) = line.strip_prefix("# ") {
                if h.starts_with(' ') {
                    continue; // an indented comment inside a section
                }
                at = if h.starts_with("underlay") {
                    At::Section("underlay")
                } else if h == "devices" {
                    At::Section("devices")
                } else if h.starts_with("neighbours") {
                    At::Section("neighbours")
                } else if h == "routes" {
                    At::Section("routes")
                } else if let Some(rest) = h.strip_prefix("pod ") {
                    let (key, rest) = rest
                        .split_once(" (netns ")
                        .ok_or_else(|| anyhow!("unexpected pod heading: {line}"))?;
                    let netns = rest
                        .split_once(',')
                        .map(|(n, _)| n)
                        .ok_or_else(|| anyhow!("unexpected pod heading: {line}"))?;
                    pods.push(PodScript {
                        key: key.to_string(),
                        netns: netns.to_string(),
                        lines: Vec::new(),
                    });
                    At::Pod
                } else if matches!(at, At::Title) && !h.starts_with("node ") {
                    bail!("unexpected heading in netpath plan output: {line}");
                } else {
                    At::Section("other")
                };
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            match at {
                At::Title => bail!("command before any heading in netpath plan output: {line}"),
                At::Section(s) => sections.entry(s).or_default().push(line.to_string()),
                At::Pod => {
                    if let Some(p) = pods.last_mut() {
                        p.lines.push(line.to_string());
                    }
                }
            }
        }
        if let Some(other) = sections.get("other") {
            bail!("commands under an unknown heading in netpath plan output: {other:?}");
        }
        Ok(PlanScript { sections, pods })
    }

    /// The commands of one section (`underlay`, `devices`, `neighbours`, `routes`).
    pub fn section(&self, name: &str) -> &[String] {
        self.sections.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// `ip -n NS -batch -` with `cmds` (without the leading `ip`); fails with ip's message.
pub fn ip_batch(ns: &str, cmds: &[String]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["-n", ns, "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running ip -batch")?;
    {
        let mut stdin = child.stdin.take().context("ip -batch stdin")?;
        for c in cmds {
            writeln!(stdin, "{c}")?;
        }
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "ip -n {ns} -batch failed: {}\ncommands:\n{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            cmds.join("\n")
        );
    }
    Ok(())
}

/// `sysctl -w KEY=VALUE` inside a namespace.
pub fn sysctl(ns: &str, key: &str, value: &str) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "sysctl",
            "-qw",
            &format!("{key}={value}"),
        ])
        .output()
        .context("running sysctl")?;
    if !out.status.success() {
        bail!(
            "sysctl {key}={value} in {ns}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Run shell command lines inside a namespace, all in one `sh`, each whatever the others
/// did; returns the lines that failed with their messages.
pub fn run_lines(ns: &str, lines: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut script = String::new();
    for (i, l) in lines.iter().enumerate() {
        if l.contains('\n') {
            bail!("a command line holds a newline: {l:?}");
        }
        script.push_str(&format!(
            "out=$({l} 2>&1) || printf '@@failed %d %s\\n' {i} \"$(echo $out)\"\n"
        ));
    }
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "sh", "-c", &script])
        .output()
        .context("running commands in the lab")?;
    if !out.status.success() {
        bail!(
            "sh in {ns} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut failed = Vec::new();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(rest) = l.strip_prefix("@@failed ") {
            let (i, msg) = rest.split_once(' ').unwrap_or((rest, ""));
            let line = i
                .parse::<usize>()
                .ok()
                .and_then(|i| lines.get(i))
                .ok_or_else(|| anyhow!("unexpected failure report from sh: {l}"))?;
            failed.push((line.clone(), msg.to_string()));
        }
    }
    Ok(failed)
}
