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
//!   by the [`Programmer`].
//!
//! Every namespace is a [`TestNetns`]: removed on drop, also when a test fails or panics
//! (and when the build itself fails half-way). Names are `np-<tag>-<role>-<pid>-<n>`, unique
//! per test run, so parallel tests never collide; devices may share names across namespaces.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr, UdpSocket};
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
    /// The commands `netpath plan --cluster C --node N` prints (its devices, neighbours/FDB
    /// and routes sections), run with `sh` in the node's netns.
    PlanCommands,
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
        let cluster = Cluster::load(spec, &Default::default())
            .with_context(|| format!("loading cluster {spec}"))?;
        Self::build_cluster(spec.to_string(), cluster, tag, None)
    }

    /// Build a cluster given as netpath cluster-file text (YAML), written to a temporary
    /// file so that the CLI (`trace`, `plan`) reads the very same cluster.
    pub fn from_text(text: &str, tag: &str) -> anyhow::Result<ClusterLab> {
        let dir = tempfile::tempdir().context("temporary directory for the cluster file")?;
        let path = dir.path().join("cluster.yaml");
        std::fs::write(&path, text).context("writing the cluster file")?;
        let spec = path.to_string_lossy().into_owned();
        let cluster = Cluster::load(&spec, &Default::default())?;
        Self::build_cluster(spec, cluster, tag, Some(dir))
    }

    fn build_cluster(
        spec: String,
        cluster: Cluster,
        tag: &str,
        dir: Option<tempfile::TempDir>,
    ) -> anyhow::Result<ClusterLab> {
        let mut plans = BTreeMap::new();
        for n in &cluster.nodes {
            plans.insert(n.name.clone(), plan::node(&cluster, &n.name)?);
        }
        let mut lab = ClusterLab {
            spec,
            cluster,
            programmer: Programmer::PlanCommands,
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
        match self.programmer {
            Programmer::PlanCommands => {
                lines.extend(script.section("devices").iter().cloned());
                lines.extend(self.pod_lines(&script)?);
                lines.extend(script.section("neighbours").iter().cloned());
                lines.extend(script.section("routes").iter().cloned());
            }
        }
        let failures = run_lines(ns, &lines)?;
        let mut refused = Vec::new();
        for (what, error) in failures {
            let explained = what.strip_prefix("ip route add ").is_some_and(|r| {
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

    /// The plan's pod sections, aimed at the lab's pod namespaces (which the lab made).
    fn pod_lines(&self, script: &PlanScript) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for pod in &script.pods {
            let lab_ns = &self.netns(&pod.key)?.name;
            for l in &pod.lines {
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
                out.push(l);
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
            UdpSocket::bind(addr).with_context(|| format!("binding UDP {addr} in {host}"))
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

/// A live capture (tcpdump into a pcap file, decoded afterwards by `netpath decode`).
pub struct Capture {
    child: Child,
    file: tempfile::NamedTempFile,
    /// Which host and interface, for messages.
    pub label: String,
}

impl Capture {
    fn start(ns: &str, host: &str, iface: &str, filter: &str) -> anyhow::Result<Capture> {
        let file = tempfile::Builder::new()
            .prefix("netpath-lab-")
            .suffix(".pcap")
            .tempfile()
            .context("temporary pcap file")?;
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "tcpdump",
                "--immediate-mode",
                "-i",
                iface,
                "-nn",
                "-U",
                "-w",
            ])
            .arg(file.path())
            .arg(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting tcpdump")?;
        let label = format!("{host} {iface}");
        let mut err = BufReader::new(child.stderr.take().context("tcpdump stderr")?);
        let mut line = String::new();
        err.read_line(&mut line).context("reading tcpdump")?;
        if !line.contains("listening on") {
            let _ = child.kill();
            let _ = child.wait();
            bail!("capture on {label} did not start: {line}");
        }
        // Keep draining stderr so tcpdump never blocks on it.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while err.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        Ok(Capture { child, file, label })
    }

    /// Stop the capture and decode what it saw (`netpath --json decode`, one object per
    /// packet: netpath.decode/v1).
    pub fn finish(mut self) -> anyhow::Result<Vec<Value>> {
        // SAFETY: kill(2) on the pid of our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGINT);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            if self.child.try_wait()?.is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = netpath()
            .args(["--json", "decode"])
            .arg(self.file.path())
            .output()
            .context("running netpath decode")?;
        if !out.status.success() {
            bail!(
                "decoding the capture on {}: {}",
                self.label,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut packets = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let v: Value = serde_json::from_str(line).context("netpath decode --json line")?;
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
            let i: usize = i.parse().context("failure index")?;
            failed.push((lines[i].clone(), msg.to_string()));
        }
    }
    Ok(failed)
}
