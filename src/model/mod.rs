//! The cluster model: nodes, pods, the CNI mode with its parameters, and the underlay
//! (subnets and routers) that joins the nodes.
//!
//! One module per input format: [`file`] (netpath's own cluster file), [`kubectl`]
//! (a `kubectl get … -o json` List), [`flannel`] (net-conf.json), [`calico`] (IPPool
//! YAML), and [`demo`] (the built-in clusters). Every source ends in a [`Cluster`];
//! The plan (`netpath plan`) turns a cluster into each node's expected dataplane.

pub mod calico;
mod check;
pub mod demo;
pub mod file;
pub mod flannel;
pub mod kubectl;
pub mod service;
pub mod version;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use anyhow::{Context, bail};
use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use crate::dataplane::MacAddr;
pub use version::{Version, Versions};

/// A Kubernetes cluster as far as pod networking goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// A short name (`flannel-vxlan`, or the file's stem).
    pub name: String,
    /// Where it was read from (`demo:flannel-vxlan`, a path).
    pub source: String,
    /// One line saying what the cluster shows (demo clusters), if any.
    #[serde(default)]
    pub description: Option<String>,
    /// The CNI and its mode.
    pub mode: Mode,
    /// The nodes.
    pub nodes: Vec<Node>,
    /// The pods.
    pub pods: Vec<Pod>,
    /// Subnets and routers between the nodes.
    pub underlay: Underlay,
    /// What the input did not say and netpath assumed; always shown to the user.
    #[serde(default)]
    pub assumptions: Vec<String>,
    /// Where the cluster contradicts itself in a way that breaks part of it (two nodes with
    /// one pod CIDR, two pods with one address …); always shown to the user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The CNI versions, where the input says them (image tags, `--calico-version`).
    #[serde(skip)]
    pub versions: Versions,
    /// The Services and their endpoints, when the input lists them (kubectl dumps).
    #[serde(skip)]
    pub services: service::Services,
    #[serde(skip)]
    index: Index,
}

/// Lookups built once by [`Cluster::reindex`].
#[derive(Debug, Clone, Default, PartialEq)]
struct Index {
    node: HashMap<String, usize>,
    pods_by_node: Vec<Vec<usize>>,
    /// Pods whose IPv4 address is outside their node's pod CIDRs (Calico borrowed IPs).
    borrowed: Vec<usize>,
}

/// A node: its underlay address, its pod CIDRs (Flannel lease or Calico blocks), and its
/// tunnel endpoint when the mode has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// `metadata.name`.
    pub name: String,
    /// The node's IPv4 address with its subnet (`192.168.1.11/24`): Flannel's public IP,
    /// Calico's `IPv4Address`.
    pub address: IpNetwork,
    /// The node's IPv6 address, when it has one (kept, not yet planned).
    #[serde(default)]
    pub address_v6: Option<IpNetwork>,
    /// The underlay device holding the address (`eth0`).
    pub iface: String,
    /// The underlay device's MTU.
    pub mtu: u32,
    /// The node's default gateway on the underlay, if any.
    #[serde(default)]
    pub gateway: Option<IpAddr>,
    /// Flannel: the lease (`spec.podCIDR`). Calico: the node's affine IPAM blocks.
    pub pod_cidrs: Vec<IpNetwork>,
    /// Calico: tunl0's address (`IPv4IPIPTunnelAddr`), allocated from an IPIP pool.
    #[serde(default)]
    pub ipip_tunnel_ip: Option<IpAddr>,
    /// Calico: vxlan.calico's address (`IPv4VXLANTunnelAddr`), allocated from a VXLAN pool;
    /// the next hop other nodes' VXLAN routes point at. A cluster with IPIP and VXLAN pools
    /// gives a node both, usually different.
    #[serde(default)]
    pub vxlan_tunnel_ip: Option<IpAddr>,
    /// The VXLAN VTEP MAC (Flannel `backend-data` VtepMAC, Calico `VXLANTunnelMACAddr`),
    /// when the input says; otherwise the plan derives one.
    #[serde(default)]
    pub vtep_mac: Option<MacAddr>,
}

impl Node {
    /// The node's IP (the address without its prefix).
    pub fn ip(&self) -> IpAddr {
        self.address.ip()
    }

    /// The node's first IPv4 pod CIDR, if any.
    pub fn pod_cidr_v4(&self) -> Option<IpNetwork> {
        self.pod_cidrs.iter().copied().find(|c| c.is_ipv4())
    }

    /// True when the node's own subnet (address and mask) contains `ip`: Calico's
    /// CrossSubnet test, evaluated with the local node's mask.
    pub fn same_subnet(&self, ip: IpAddr) -> bool {
        self.address.contains(ip)
    }
}

/// A pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.nodeName`.
    pub node: String,
    /// `status.podIPs` (may be empty: pending pods).
    #[serde(default)]
    pub ips: Vec<IpAddr>,
    /// `spec.hostNetwork`: the pod shares the node's network namespace and address.
    #[serde(default)]
    pub host_network: bool,
    /// The pod's eth0 MAC, if known.
    #[serde(default)]
    pub mac: Option<MacAddr>,
}

impl Pod {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The pod's IPv4 address, if it has one.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        self.ips.iter().find_map(|ip| match ip {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
    }

    /// True when the pod has its own network namespace and an IPv4 address: the pods
    /// the plan builds a netns for.
    pub fn has_netns(&self) -> bool {
        !self.host_network && self.ipv4().is_some()
    }
}

/// The network between the nodes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Underlay {
    /// L2 segments (one broadcast domain each), with the gateway that leads out of the
    /// modelled network, if any.
    #[serde(default)]
    pub subnets: Vec<Subnet>,
    /// Routers joining the subnets.
    #[serde(default)]
    pub routers: Vec<Router>,
}

/// One L2 segment of the underlay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    /// The subnet.
    pub cidr: IpNetwork,
    /// Its default gateway: a router's address, or an address outside the model (the
    /// packet then leaves the modelled network there).
    #[serde(default)]
    pub gateway: Option<IpAddr>,
}

/// A router of the underlay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Router {
    /// Its name.
    pub name: String,
    /// Its interfaces' addresses with their subnets (`192.168.1.1/24`), named eth0, eth1…
    pub interfaces: Vec<IpNetwork>,
    /// Whether it peers BGP with the Calico nodes and so learns every node's blocks.
    #[serde(default)]
    pub bgp: bool,
    /// Static routes: destination and gateway.
    #[serde(default)]
    pub routes: Vec<StaticRoute>,
}

/// A static route of a router: `DST via GW`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticRoute {
    /// Destination.
    pub dst: IpNetwork,
    /// Gateway.
    pub via: IpAddr,
}

/// The CNI and its mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cni", rename_all = "lowercase")]
pub enum Mode {
    /// Flannel.
    Flannel(Flannel),
    /// Calico.
    Calico(Calico),
}

/// Flannel's network configuration (net-conf.json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flannel {
    /// `Network`: the cluster's pod network (`10.244.0.0/16`).
    pub network: IpNetwork,
    /// `Backend`.
    pub backend: FlannelBackend,
    /// `Backend.MTU`: the underlay MTU to assume instead of the interface's.
    #[serde(default)]
    pub mtu: Option<u32>,
}

/// Flannel's backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FlannelBackend {
    /// `host-gw`: a route per remote lease via the remote node's IP. Needs L2 adjacency.
    HostGw,
    /// `vxlan`: the `flannel.<VNI>` device.
    Vxlan {
        /// VNI (default 1).
        vni: u32,
        /// UDP port (default: the kernel's 8472).
        port: u16,
        /// `DirectRouting`: host-gw routes to nodes on a connected subnet.
        direct_routing: bool,
        /// `Learning`.
        #[serde(default)]
        learning: bool,
    },
    /// `ipip`: the `flannel.ipip` device.
    Ipip {
        /// `DirectRouting`.
        direct_routing: bool,
    },
}

/// Calico's configuration: IP pools, BGP, and who programs IPIP routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calico {
    /// The IP pools.
    pub pools: Vec<IpPool>,
    /// BGP topology.
    pub bgp: Bgp,
    /// Who programs IPIP routes: BIRD (`proto bird`, ≤ v3.33 default) or Felix (`proto 80`).
    pub ipip_routes: RouteOwner,
    /// VXLAN VNI (4096).
    pub vxlan_vni: u32,
    /// VXLAN port (4789).
    pub vxlan_port: u16,
    /// Whether Felix puts `mtu N` on VXLAN routes (v3.31 and later).
    #[serde(default)]
    pub vxlan_route_mtu: bool,
    /// The kernel metric BIRD gives its routes: none (0) with calico/node's long-standing
    /// templates, 1024 with the current ones (`krt_metric`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bird_metric: Option<u32>,
    /// Whether BIRD's routes carry `src <node IP>` (`krt_prefsrc`, current templates).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bird_src: bool,
    /// The metric Felix gives local workload routes (1024 from v3.32), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_metric: Option<u32>,
}

impl Calico {
    /// The pool containing `cidr`, if any.
    pub fn pool_for(&self, cidr: &IpNetwork) -> Option<&IpPool> {
        self.pools
            .iter()
            .find(|p| p.cidr.contains(cidr.network()) && p.cidr.prefix() <= cidr.prefix())
    }

    /// True when some pool uses IPIP.
    pub fn uses_ipip(&self) -> bool {
        self.pools.iter().any(|p| p.ipip != EncapMode::Never)
    }

    /// True when some pool uses VXLAN.
    pub fn uses_vxlan(&self) -> bool {
        self.pools.iter().any(|p| p.vxlan != EncapMode::Never)
    }
}

/// A Calico IPPool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpPool {
    /// `metadata.name`.
    pub name: String,
    /// `spec.cidr`.
    pub cidr: IpNetwork,
    /// `spec.blockSize` (26).
    pub block_size: u8,
    /// `spec.ipipMode`.
    pub ipip: EncapMode,
    /// `spec.vxlanMode`.
    pub vxlan: EncapMode,
    /// `spec.natOutgoing`.
    #[serde(default)]
    pub nat_outgoing: bool,
}

/// `ipipMode` / `vxlanMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EncapMode {
    /// No encapsulation.
    Never,
    /// Always encapsulate.
    Always,
    /// Encapsulate only to nodes outside the local node's subnet.
    CrossSubnet,
}

impl EncapMode {
    /// Parse Calico's spellings (`Never`/`off`, `Always`, `CrossSubnet`/`cross-subnet`).
    pub fn parse(s: &str) -> Option<EncapMode> {
        match s.to_ascii_lowercase().as_str() {
            "" | "never" | "off" | "false" => Some(EncapMode::Never),
            "always" | "true" => Some(EncapMode::Always),
            "crosssubnet" | "cross-subnet" => Some(EncapMode::CrossSubnet),
            _ => None,
        }
    }
}

impl fmt::Display for EncapMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncapMode::Never => "Never",
            EncapMode::Always => "Always",
            EncapMode::CrossSubnet => "CrossSubnet",
        })
    }
}

/// Calico's BGP topology. Routing is the same for mesh and route reflectors; the number of
/// sessions differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "reflectors", rename_all = "kebab-case")]
pub enum Bgp {
    /// Node-to-node mesh (the default).
    Mesh,
    /// Route reflectors (the named nodes); the mesh is off.
    RouteReflectors(Vec<String>),
    /// Nodes peer with the underlay routers (`bgp: true` routers), which learn pod routes.
    Routers,
    /// No BGP (Calico VXLAN-only installs).
    Off,
}

/// Who programs Calico's IPIP routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteOwner {
    /// BIRD: `proto bird`; CrossSubnet same-subnet routes without onlink.
    Bird,
    /// Felix (`programClusterRoutes`): `proto 80`, onlink, route MTU.
    Felix,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Flannel(fl) => {
                write!(f, "flannel ")?;
                match &fl.backend {
                    FlannelBackend::HostGw => write!(f, "host-gw")?,
                    FlannelBackend::Vxlan {
                        vni,
                        port,
                        direct_routing,
                        ..
                    } => {
                        write!(f, "vxlan (VNI {vni}, port {port}")?;
                        if *direct_routing {
                            write!(f, ", DirectRouting")?;
                        }
                        write!(f, ")")?;
                    }
                    FlannelBackend::Ipip { direct_routing } => {
                        write!(f, "ipip")?;
                        if *direct_routing {
                            write!(f, " (DirectRouting)")?;
                        }
                    }
                }
                write!(f, ", network {}", fl.network)
            }
            Mode::Calico(c) => {
                write!(f, "calico")?;
                for (i, p) in c.pools.iter().enumerate() {
                    let sep = if i == 0 { " " } else { "; " };
                    let encap = match (p.ipip, p.vxlan) {
                        (EncapMode::Never, EncapMode::Never) => "BGP, no encapsulation".to_string(),
                        (m, EncapMode::Never) => format!("IPIP {m}"),
                        (EncapMode::Never, m) => {
                            format!("VXLAN {m} (VNI {}, port {})", c.vxlan_vni, c.vxlan_port)
                        }
                        (a, b) => format!("IPIP {a} + VXLAN {b}"),
                    };
                    write!(f, "{sep}{encap}, pool {} /{}", p.cidr, p.block_size)?;
                }
                match &c.bgp {
                    Bgp::Mesh => write!(f, ", BGP node-to-node mesh"),
                    Bgp::RouteReflectors(rr) => {
                        write!(f, ", BGP route reflectors {}", rr.join(","))
                    }
                    Bgp::Routers => write!(f, ", BGP peering with the underlay routers"),
                    Bgp::Off => write!(f, ", BGP off"),
                }
            }
        }
    }
}

impl Cluster {
    /// Build a cluster, check it, and index it. Errors name the object and field at fault.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: impl Into<String>,
        source: impl Into<String>,
        description: Option<String>,
        mode: Mode,
        nodes: Vec<Node>,
        pods: Vec<Pod>,
        underlay: Underlay,
        assumptions: Vec<String>,
    ) -> anyhow::Result<Cluster> {
        let mut c = Cluster {
            name: name.into(),
            source: source.into(),
            description,
            mode,
            nodes,
            pods,
            underlay,
            assumptions,
            warnings: Vec::new(),
            versions: Versions::default(),
            services: service::Services::default(),
            index: Index::default(),
        };
        c.validate()?;
        c.reindex();
        check::refuse(&c)?;
        c.warnings = check::warnings(&c);
        Ok(c)
    }

    /// Take the CNI versions (each one given overrides what is known) and plan the route
    /// shapes they program (cni-semantics §7.4, §10, §18): Calico v3.31 puts `mtu` on VXLAN
    /// routes; v3.32 gives BIRD's routes `metric 1024 src <node IP>` (`krt_metric`,
    /// `krt_prefsrc`) and Felix's workload routes metric 1024; v3.34 has Felix program the
    /// IPIP routes. Unknown versions change nothing (check compares those shapes tolerantly).
    pub fn set_versions(&mut self, v: Versions) {
        self.versions.calico = v.calico.or(self.versions.calico);
        self.versions.flannel = v.flannel.or(self.versions.flannel);
        let (Mode::Calico(c), Some(cv)) = (&mut self.mode, self.versions.calico) else {
            return;
        };
        c.vxlan_route_mtu = cv.at_least(3, 31);
        if cv.at_least(3, 32) {
            c.bird_metric = Some(1024);
            c.bird_src = true;
            c.workload_metric = Some(1024);
        } else {
            c.bird_metric = None;
            c.bird_src = false;
            c.workload_metric = None;
        }
        c.ipip_routes = if cv.at_least(3, 34) {
            RouteOwner::Felix
        } else {
            RouteOwner::Bird
        };
    }

    /// Load `demo:NAME`, a cluster file (YAML or JSON), or a kubectl List dump, deciding by
    /// the content. `options` carries what a kubectl dump may lack.
    pub fn load(spec: &str, options: &kubectl::Options) -> anyhow::Result<Cluster> {
        if let Some(name) = spec.strip_prefix("demo:") {
            return demo::load(name);
        }
        let path = Path::new(spec);
        if kubectl::looks_like_list(path)? {
            return kubectl::load(path, options);
        }
        let text = crate::input::read_to_string(path, "cluster file", crate::input::MAX_DOCUMENT)?;
        file::parse(&text, spec)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let mut names = HashMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if names.insert(n.name.as_str(), i).is_some() {
                bail!("node {:?} is listed twice", n.name);
            }
            if !n.address.is_ipv4() {
                bail!(
                    "node {}: address {} is not IPv4 (netpath plans IPv4 pod networks)",
                    n.name,
                    n.address
                );
            }
        }
        for r in &self.underlay.routers {
            if names.contains_key(r.name.as_str()) {
                bail!("router {:?} has the same name as a node", r.name);
            }
        }
        for p in &self.pods {
            if !names.contains_key(p.node.as_str()) {
                bail!(
                    "pod {}: node {:?} is not in the cluster (nodes: {})",
                    p.key(),
                    p.node,
                    self.nodes
                        .iter()
                        .map(|n| n.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        if let Mode::Flannel(fl) = &self.mode {
            for n in &self.nodes {
                for c in &n.pod_cidrs {
                    if c.is_ipv4()
                        && !(fl.network.contains(c.network()) && fl.network.prefix() <= c.prefix())
                    {
                        bail!(
                            "node {}: pod CIDR {c} is outside the flannel Network {}",
                            n.name,
                            fl.network
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Rebuild the lookup index (after changing nodes or pods).
    pub fn reindex(&mut self) {
        let node: HashMap<String, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        let mut pods_by_node = vec![Vec::new(); self.nodes.len()];
        let mut borrowed = Vec::new();
        for (i, p) in self.pods.iter().enumerate() {
            if let Some(&n) = node.get(&p.node) {
                pods_by_node[n].push(i);
                if let (false, Some(ip)) = (p.host_network, p.ipv4()) {
                    let ip = IpAddr::V4(ip);
                    if !self.nodes[n].pod_cidrs.iter().any(|c| c.contains(ip)) {
                        borrowed.push(i);
                    }
                }
            }
        }
        self.index = Index {
            node,
            pods_by_node,
            borrowed,
        };
    }

    /// The index of the node named `name`.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.index.node.get(name).copied()
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.node_index(name).map(|i| &self.nodes[i])
    }

    /// Indexes (into `pods`) of the pods on node number `node`.
    pub fn pods_on(&self, node: usize) -> &[usize] {
        self.index
            .pods_by_node
            .get(node)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Indexes of pods whose IP lies outside their node's pod CIDRs (Calico borrowed IPs).
    pub fn borrowed_pods(&self) -> &[usize] {
        &self.index.borrowed
    }

    /// The subnet (L2 segment) containing `ip`, if declared.
    pub fn subnet_of(&self, ip: IpAddr) -> Option<&Subnet> {
        self.underlay.subnets.iter().find(|s| s.cidr.contains(ip))
    }
}

/// Parse `a.b.c.d/len` or a bare address (then `/32`), naming `what` in the error.
pub fn parse_net(s: &str, what: &str) -> anyhow::Result<IpNetwork> {
    s.trim().parse::<IpNetwork>().with_context(|| {
        format!("{what}: {s:?} is not an address or CIDR (expected e.g. 10.244.0.0/16)")
    })
}

/// Parse an address, naming `what` in the error.
pub fn parse_ip(s: &str, what: &str) -> anyhow::Result<IpAddr> {
    s.trim()
        .parse::<IpAddr>()
        .with_context(|| format!("{what}: {s:?} is not an IP address"))
}

/// The `n`th address of `net` (0 is the network address).
pub fn nth(net: &IpNetwork, n: u32) -> IpAddr {
    match net.network() {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a).wrapping_add(n))),
        IpAddr::V6(a) => IpAddr::V6(std::net::Ipv6Addr::from(
            u128::from(a).wrapping_add(n as u128),
        )),
    }
}

/// Canonicalise a CIDR to its network address (`10.244.1.5/24` → `10.244.1.0/24`).
pub fn canonical(net: IpNetwork) -> IpNetwork {
    IpNetwork::new(net.network(), net.prefix()).unwrap_or(net)
}

/// One L2 segment per distinct node subnet, a gateway at each one's first free address,
/// and one router joining them when there are several; sets each node's gateway and notes
/// the assumption (`router_note` is added to the one about the router).
pub fn underlay_of(
    nodes: &mut [Node],
    router_note: &str,
    assumptions: &mut Vec<String>,
) -> anyhow::Result<Underlay> {
    let subnets: BTreeSet<IpNetwork> = nodes.iter().map(|n| canonical(n.address)).collect();
    let used: BTreeSet<IpAddr> = nodes.iter().map(|n| n.ip()).collect();
    let mut gateways = BTreeMap::new();
    for s in &subnets {
        let gw = (1..4096)
            .map(|k| nth(s, k))
            .find(|ip| s.contains(*ip) && !used.contains(ip))
            .unwrap_or_else(|| nth(s, 1));
        gateways.insert(*s, gw);
    }
    let mut routers = Vec::new();
    if subnets.len() > 1 {
        // The router leads out as a single subnet's gateway would: a default route to an
        // address no host of the model has (the next free one of the first subnet), which
        // the world marks as the way out.
        let first = subnets.iter().next().copied();
        let outside = first.and_then(|s| {
            (1..4096)
                .map(|k| nth(&s, k))
                .find(|ip| s.contains(*ip) && !used.contains(ip) && Some(ip) != gateways.get(&s))
        });
        let default = IpNetwork::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)?;
        routers.push(Router {
            name: "underlay-router".into(),
            interfaces: subnets
                .iter()
                .map(|s| IpNetwork::new(gateways[s], s.prefix()))
                .collect::<Result<_, _>>()?,
            bgp: false,
            routes: outside
                .map(|via| StaticRoute { dst: default, via })
                .into_iter()
                .collect(),
        });
        assumptions.push(format!(
            "the node subnets ({}) are assumed joined by one router at each subnet's first free address{router_note}",
            subnets.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
        ));
        if let Some(via) = outside {
            assumptions.push(format!(
                "underlay-router is assumed to forward everything else to the outside through {via}, as a gateway would (outside the model)"
            ));
        }
    } else if let Some(gw) = gateways.values().next() {
        assumptions.push(format!(
            "default gateway assumed at {gw} (outside the model)"
        ));
    }
    for n in nodes.iter_mut() {
        n.gateway = gateways.get(&canonical(n.address)).copied();
    }
    Ok(Underlay {
        subnets: subnets
            .iter()
            .map(|s| Subnet {
                cidr: *s,
                gateway: gateways.get(s).copied(),
            })
            .collect(),
        routers,
    })
}

/// Calico's block size default and check, for a pool.
pub fn default_block_size(cidr: &IpNetwork) -> u8 {
    if cidr.is_ipv4() { 26 } else { 122 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crosssubnet_uses_the_local_mask() {
        let n = Node {
            name: "a".into(),
            address: "10.6.183.20/16".parse().unwrap(),
            address_v6: None,
            iface: "eth0".into(),
            mtu: 1500,
            gateway: None,
            pod_cidrs: vec![],
            ipip_tunnel_ip: None,
            vxlan_tunnel_ip: None,
            vtep_mac: None,
        };
        assert!(n.same_subnet("10.6.1.1".parse().unwrap()));
        assert!(!n.same_subnet("10.7.1.1".parse().unwrap()));
        let host = Node {
            address: "10.6.183.20/32".parse().unwrap(),
            ..n
        };
        assert!(!host.same_subnet("10.6.183.21".parse().unwrap()));
    }

    #[test]
    fn encap_mode_spellings() {
        assert_eq!(
            EncapMode::parse("cross-subnet"),
            Some(EncapMode::CrossSubnet)
        );
        assert_eq!(EncapMode::parse("Off"), Some(EncapMode::Never));
        assert_eq!(EncapMode::parse("sometimes"), None);
        assert_eq!(
            nth(&"10.244.1.0/24".parse().unwrap(), 1).to_string(),
            "10.244.1.1"
        );
    }
}
