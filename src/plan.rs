//! Cluster + node → the node's expected dataplane ([`NodeState`]): the one place where
//! Flannel's and Calico's semantics live (see `cni-semantics.md` §2–14 in the reference).
//!
//! What each mode programs, exactly as the projects do it:
//! - Flannel host-gw: `LEASE via NODE_IP dev eth0` per remote lease (no onlink, proto boot).
//! - Flannel VXLAN: `flannel.<VNI>` (local node IP, dev eth0, nolearning, MTU eth−50,
//!   address lease/32), per remote lease a PERMANENT neighbour `LEASE_IP → VtepMAC`, a
//!   self/permanent FDB entry `VtepMAC → NODE_IP` and `LEASE via LEASE_IP dev flannel.1 onlink`.
//!   With DirectRouting, `LEASE via NODE_IP dev eth0` when the remote IP is reached by one
//!   route without a gateway (flannel's RouteGet test), else the VXLAN entries.
//! - Flannel IPIP: `flannel.ipip` and `LEASE via NODE_IP dev flannel.ipip onlink` (or dev eth0
//!   onlink with DirectRouting).
//! - Flannel pods: `cni0` bridge with the lease's .1, pods `default via .1` and `NETWORK via .1`.
//! - Calico: `blackhole BLOCK` per local block, `POD dev caliXXXX scope link` + PERMANENT
//!   neighbour per local pod, pods `default via 169.254.1.1` answered by proxy ARP; remote
//!   blocks by BGP (`via NODE_IP dev eth0 proto bird`, recursive through the gateway when
//!   the next hop is not on a connected subnet), IPIP (`via NODE_IP dev tunl0 proto bird
//!   onlink`, or Felix's `proto 80 onlink mtu`), VXLAN (`via TUNNEL_IP dev vxlan.calico
//!   onlink` with neighbour and FDB), CrossSubnet same-subnet routes on eth0 decided with
//!   the local node's mask.
//!
//! The output is a [`NodePlan`]: the host's [`NodeState`] plus one [`NodeState`] per pod
//! network namespace. `crate::trace` walks these; an agent can apply them; a drift check
//! can diff them against a node read through netlink.

use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;

use anyhow::bail;
use ipnetwork::IpNetwork;
use serde::Serialize;

use crate::dataplane::{
    Addr, FdbEntry, Link, LinkKind, MacAddr, Neighbour, Nexthop, NodeState, NudState, Protocol,
    Route, RouteType, Scope, Veth, Vxlan,
};
use crate::model::{
    Bgp, Calico, Cluster, EncapMode, Flannel, FlannelBackend, Mode, Node, Pod, RouteOwner,
    canonical, nth,
};
use crate::trace::world::{Host, HostKind, World};

pub mod peers;

/// The address every Calico pod uses as its default gateway; never assigned anywhere, the
/// host answers ARP for it by proxy ARP.
pub const CALICO_GATEWAY: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 1);

/// A node's expected dataplane: the host network namespace and each pod's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodePlan {
    /// The host network namespace.
    pub state: NodeState,
    /// One entry per pod with its own network namespace and an IPv4 address.
    pub pods: Vec<PodPlan>,
    /// Facts worth knowing about this plan (BGP sessions, devices the CNI creates lazily).
    pub notes: Vec<String>,
    /// What will not work as planned (a host-gw route the kernel refuses, a node without a
    /// pod CIDR).
    pub warnings: Vec<String>,
}

/// A pod's network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodPlan {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// The host end of the pod's veth (`cali…`, `veth…`).
    pub host_veth: String,
    /// The pod's network namespace (`node` is `namespace/name`).
    pub state: NodeState,
}

/// The plan for node `name`.
pub fn node(cluster: &Cluster, name: &str) -> anyhow::Result<NodePlan> {
    let Some(idx) = cluster.node_index(name) else {
        bail!(
            "node {name:?} is not in cluster {} (nodes: {})",
            cluster.source,
            cluster
                .nodes
                .iter()
                .take(20)
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let mut b = Builder::new(&cluster.nodes[idx].name);
    host_into(cluster, idx, &mut b);
    let pods = cluster
        .pods_on(idx)
        .iter()
        .filter_map(|&p| {
            let pod = &cluster.pods[p];
            pod_state(cluster, p).map(|state| PodPlan {
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
                host_veth: host_veth_name(cluster, pod),
                state,
            })
        })
        .collect();
    Ok(NodePlan {
        state: b.st,
        pods,
        notes: b.notes,
        warnings: b.warnings,
    })
}

/// Node number `idx`'s own part of its host network namespace: what it has whatever the
/// destination (underlay, tunnel devices, bridge, local pods' veths, routes and
/// neighbours), without the entries it programs for other nodes.
pub fn host_local_state(cluster: &Cluster, idx: usize) -> NodeState {
    let mut b = Builder::new(&cluster.nodes[idx].name);
    host_local_into(cluster, idx, &mut b);
    b.st
}

/// The host network namespace of node number `idx` (no notes; what the walk needs).
pub fn host_state(cluster: &Cluster, idx: usize) -> NodeState {
    let mut b = Builder::new(&cluster.nodes[idx].name);
    host_into(cluster, idx, &mut b);
    b.st
}

/// The name of the host end of a pod's veth: Calico's `cali` + the first 11 hex digits of
/// sha1("namespace.name") (exact); Flannel's bridge plugin picks `veth` + 8 random hex
/// digits, for which netpath uses sha1("namespace/name") as a stable stand-in.
pub fn host_veth_name(cluster: &Cluster, pod: &Pod) -> String {
    match cluster.mode {
        Mode::Calico(_) => crate::pods::calico::veth_name(
            crate::pods::calico::DEFAULT_PREFIX,
            &pod.namespace,
            &pod.name,
        ),
        Mode::Flannel(_) => {
            let h = sha1_hex(&format!("{}/{}", pod.namespace, pod.name));
            format!("veth{}", &h[..8])
        }
    }
}

/// Calico's VXLAN VTEP MAC: `VXLANTunnelMACAddr` if set, else 0x66 followed by the first
/// five bytes of sha1(node name) (Felix `vxlan_resolver.go`).
pub fn calico_vtep_mac(node: &Node) -> MacAddr {
    node.vtep_mac.unwrap_or_else(|| {
        let d = sha1_smol::Sha1::from(node.name.as_bytes()).digest().bytes();
        MacAddr([0x66, d[0], d[1], d[2], d[3], d[4]])
    })
}

/// Flannel's VTEP MAC: the `backend-data` VtepMAC if known; flannel otherwise picks a
/// random locally administered unicast MAC, for which netpath derives a stable one from
/// sha1("flannel:" + node name) with the same bits set.
pub fn flannel_vtep_mac(node: &Node) -> MacAddr {
    node.vtep_mac
        .unwrap_or_else(|| derived_mac("flannel:", &node.name))
}

fn derived_mac(salt: &str, name: &str) -> MacAddr {
    let d = sha1_smol::Sha1::from(format!("{salt}{name}").as_bytes())
        .digest()
        .bytes();
    MacAddr([(d[0] & 0xfe) | 0x02, d[1], d[2], d[3], d[4], d[5]])
}

fn sha1_hex(s: &str) -> String {
    sha1_smol::Sha1::from(s.as_bytes()).digest().to_string()
}

/// A pod's MAC: the known one, else `0a:58:` + its IPv4 address (stable, unicast, local).
pub fn pod_mac(pod: &Pod) -> MacAddr {
    if let Some(m) = pod.mac {
        return m;
    }
    let o = pod.ipv4().map(|a| a.octets()).unwrap_or([0; 4]);
    MacAddr([0x0a, 0x58, o[0], o[1], o[2], o[3]])
}

/// Flannel's MTU for pods and cni0 (`FLANNEL_MTU`): the underlay MTU minus the backend's
/// overhead (VXLAN 50, IPIP 20, host-gw 0).
pub fn flannel_mtu(fl: &Flannel, node: &Node) -> u32 {
    let ext = fl.mtu.unwrap_or(node.mtu);
    match fl.backend {
        FlannelBackend::HostGw => ext,
        FlannelBackend::Vxlan { .. } => ext.saturating_sub(50),
        FlannelBackend::Ipip { .. } => ext.saturating_sub(20),
    }
}

/// Calico's pod MTU: the smallest over the enabled encapsulations (IPIP −20, VXLAN −50).
pub fn calico_pod_mtu(c: &Calico, node: &Node) -> u32 {
    let mut mtu = node.mtu;
    if c.uses_ipip() {
        mtu = mtu.min(node.mtu.saturating_sub(20));
    }
    if c.uses_vxlan() {
        mtu = mtu.min(node.mtu.saturating_sub(50));
    }
    mtu
}

/// The VXLAN device name of a Flannel VNI.
pub fn flannel_vxlan_dev(vni: u32) -> String {
    format!("flannel.{vni}")
}

/// The network namespace of pod number `idx`, or `None` for host-network pods and pods
/// without an IPv4 address.
pub fn pod_state(cluster: &Cluster, idx: usize) -> Option<NodeState> {
    let pod = cluster.pods.get(idx)?;
    if !pod.has_netns() {
        return None;
    }
    let ip = IpAddr::V4(pod.ipv4()?);
    let node = cluster.node(&pod.node)?;
    let mut b = Builder::new(&pod.key());
    b.loopback();
    let (mtu, prefix) = match &cluster.mode {
        Mode::Flannel(fl) => (
            flannel_mtu(fl, node),
            node.pod_cidr_v4().map(|c| c.prefix()).unwrap_or(24),
        ),
        Mode::Calico(c) => (calico_pod_mtu(c, node), 32),
    };
    b.link(
        "eth0",
        LinkKind::Veth(Veth::default()),
        mtu,
        Some(pod_mac(pod)),
        None,
    );
    b.addr("eth0", IpNetwork::new(ip, prefix).ok()?, Scope::Universe);
    match &cluster.mode {
        Mode::Flannel(fl) => {
            let lease = node.pod_cidr_v4()?;
            let gw = nth(&lease, 1);
            b.route(Route::unicast(default_v4(), Nexthop::via(gw, "eth0")));
            b.route(Route::unicast(fl.network, Nexthop::via(gw, "eth0")));
            b.route(connected(lease, "eth0", ip));
        }
        Mode::Calico(_) => {
            // The link route first: the default route's gateway must be reachable when added.
            let gw = IpAddr::V4(CALICO_GATEWAY);
            b.route(Route::unicast(IpNetwork::from(gw), Nexthop::dev("eth0")));
            b.route(Route::unicast(default_v4(), Nexthop::via(gw, "eth0")));
        }
    }
    b.st.sysctls.ip_forward = Some(false);
    Some(b.st)
}

/// The state of router number `idx` of the underlay: its interfaces `eth0`…, connected
/// routes, static routes, and, when it peers BGP with Calico nodes, every node's blocks.
pub fn router_state(cluster: &Cluster, idx: usize) -> NodeState {
    let mut b = Builder::new(&cluster.underlay.routers[idx].name);
    router_local_into(cluster, idx, &mut b);
    if router_peers(cluster, idx) {
        for part in 0..peer_parts(cluster) {
            router_part_into(cluster, idx, part, &mut b);
        }
    }
    b.st
}

/// What a router has whatever the destination: interfaces, connected and static routes.
fn router_local_into(cluster: &Cluster, idx: usize, b: &mut Builder) {
    let r = &cluster.underlay.routers[idx];
    b.loopback();
    let mtu = cluster.nodes.first().map(|n| n.mtu).unwrap_or(1500);
    for (i, a) in r.interfaces.iter().enumerate() {
        let dev = format!("eth{i}");
        b.link(
            &dev,
            LinkKind::Device,
            mtu,
            Some(derived_mac("router:", &format!("{}/{dev}", r.name))),
            None,
        );
        b.addr(&dev, *a, Scope::Universe);
        b.route(connected(canonical(*a), &dev, a.ip()));
    }
    for s in &r.routes {
        if let Some(dev) = router_dev_for(r, s.via) {
            b.route(Route::unicast(s.dst, Nexthop::via(s.via, dev)));
        }
    }
    b.st.sysctls.ip_forward = Some(true);
}

/// True when router `idx` peers BGP with the Calico nodes (and so learns their blocks).
fn router_peers(cluster: &Cluster, idx: usize) -> bool {
    match &cluster.mode {
        Mode::Calico(c) => cluster.underlay.routers[idx].bgp && c.bgp != Bgp::Off,
        Mode::Flannel(_) => false,
    }
}

/// The router's device on the subnet of `gw` (`eth0`…).
fn router_dev_for(r: &crate::model::Router, gw: IpAddr) -> Option<String> {
    r.interfaces
        .iter()
        .position(|a| a.contains(gw))
        .map(|i| format!("eth{i}"))
}

/// The router's next hop for a node's address: the node itself when on a connected
/// subnet, else the most specific static route's gateway.
fn router_via(r: &crate::model::Router, ip: IpAddr) -> Option<(IpAddr, String)> {
    if let Some(dev) = router_dev_for(r, ip) {
        return Some((ip, dev));
    }
    r.routes
        .iter()
        .filter(|s| s.dst.contains(ip))
        .max_by_key(|s| s.dst.prefix())
        .and_then(|s| router_dev_for(r, s.via).map(|d| (s.via, d)))
}

/// The BGP routes a peering router learns from one part of the cluster (see
/// [`peer_parts`]): a node's blocks, or one borrowed pod address.
fn router_part_into(cluster: &Cluster, idx: usize, part: usize, b: &mut Builder) {
    let r = &cluster.underlay.routers[idx];
    let n_nodes = cluster.nodes.len();
    if part < n_nodes {
        let n = &cluster.nodes[part];
        let Some((gw, dev)) = router_via(r, n.ip()) else {
            return;
        };
        for blk in n.pod_cidrs.iter().filter(|c| c.is_ipv4()) {
            let mut rt = Route::unicast(*blk, Nexthop::via(gw, dev.clone()));
            rt.proto = Protocol::BIRD;
            b.route(rt);
        }
        return;
    }
    let Some(&p) = cluster.borrowed_pods().get(part - n_nodes) else {
        return;
    };
    let pod = &cluster.pods[p];
    let (Some(n), Some(ip)) = (cluster.node(&pod.node), pod.ipv4()) else {
        return;
    };
    if let Some((gw, dev)) = router_via(r, n.ip()) {
        let mut rt = Route::unicast(IpNetwork::from(IpAddr::V4(ip)), Nexthop::via(gw, dev));
        rt.proto = Protocol::BIRD;
        b.route(rt);
    }
}

/// Build the walkable world of a cluster: every node, router and pod netns as a host
/// (planned lazily, on first use), veth pairs wired, underlay addresses indexed so ARP
/// can be answered, and each subnet's outside gateway marked as the way out.
///
/// Nodes and routers are planned per destination: on first use a host gets its own part
/// (devices, addresses, local pods, blackholes), and the entries it has for another node's
/// lease or blocks are planned when a lookup needs them, found through cluster-wide
/// indexes built here ([`peers::ClusterPeers`]). The walk sees exactly what the whole plan
/// ([`host_state`], [`router_state`]) holds; [`whole_world`] walks that instead.
pub fn world(cluster: &Cluster) -> World<'_> {
    let mut w = skeleton(cluster);
    let n_nodes = cluster.nodes.len();
    let n_routers = cluster.underlay.routers.len();
    let peers: Rc<dyn crate::trace::world::Peers + '_> = Rc::new(peers::ClusterPeers::new(cluster));
    let pods = pod_indexes(cluster);
    w.set_builder(Box::new(move |id| {
        if id < n_nodes {
            let mut b = Builder::new(&cluster.nodes[id].name);
            if host_local_into(cluster, id, &mut b) {
                Host::with_peers(b.st, peers.clone(), id)
            } else {
                Host::new(b.st)
            }
        } else if id < n_nodes + n_routers {
            let r = id - n_nodes;
            let mut b = Builder::new(&cluster.underlay.routers[r].name);
            router_local_into(cluster, r, &mut b);
            if router_peers(cluster, r) {
                Host::with_peers(b.st, peers.clone(), id)
            } else {
                Host::new(b.st)
            }
        } else {
            Host::new(pod_host_state(cluster, &pods, id - n_nodes - n_routers))
        }
    }));
    w
}

/// The same world as [`world`], with every node and router planned whole on first use
/// (every peer's entries at once): what `netpath plan` prints. For checking [`world`]
/// against, and for comparisons that want the plain plan.
pub fn whole_world(cluster: &Cluster) -> World<'_> {
    let mut w = skeleton(cluster);
    let n_nodes = cluster.nodes.len();
    let n_routers = cluster.underlay.routers.len();
    let pods = pod_indexes(cluster);
    w.set_builder(Box::new(move |id| {
        Host::new(if id < n_nodes {
            host_state(cluster, id)
        } else if id < n_nodes + n_routers {
            router_state(cluster, id - n_nodes)
        } else {
            pod_host_state(cluster, &pods, id - n_nodes - n_routers)
        })
    }));
    w
}

/// Indexes (into `cluster.pods`) of the pods that are hosts of the world, in host order.
fn pod_indexes(cluster: &Cluster) -> Vec<usize> {
    cluster
        .pods
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.host_network && p.ipv4().is_some())
        .map(|(i, _)| i)
        .collect()
}

fn pod_host_state(cluster: &Cluster, pods: &[usize], k: usize) -> NodeState {
    pods.get(k)
        .and_then(|&p| pod_state(cluster, p))
        .unwrap_or_default()
}

/// The nodes' source NAT for traffic leaving the cluster network: flannel's `--ip-masq`
/// rules (`-s NETWORK ! -d NETWORK ! -d 224.0.0.0/4 -j MASQUERADE`; the kube-flannel
/// manifest passes `--ip-masq`), Calico's `natOutgoing` (sources in a natOutgoing pool,
/// destinations in no pool).
fn masquerade_rule(cluster: &Cluster) -> Option<crate::trace::Masquerade> {
    let multicast = IpNetwork::new(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 0)), 4).ok();
    match &cluster.mode {
        Mode::Flannel(fl) => Some(crate::trace::Masquerade {
            src: vec![fl.network],
            except_dst: std::iter::once(fl.network).chain(multicast).collect(),
            by: "flannel --ip-masq, as the kube-flannel manifest runs it".into(),
        }),
        Mode::Calico(c) => {
            let pools: Vec<&crate::model::IpPool> =
                c.pools.iter().filter(|p| p.nat_outgoing).collect();
            if pools.is_empty() {
                return None;
            }
            Some(crate::trace::Masquerade {
                src: pools.iter().map(|p| p.cidr).collect(),
                except_dst: c.pools.iter().map(|p| p.cidr).collect(),
                by: format!(
                    "Calico natOutgoing on pool {}",
                    pools
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
        }
    }
}

/// Hosts, wiring, address index and exits of a cluster's world, without a builder.
fn skeleton(cluster: &Cluster) -> World<'_> {
    let mut w = World::new();
    for n in &cluster.nodes {
        let id = w.add_lazy_host(&n.name, HostKind::Node, None);
        w.attach(n.address, id, &n.iface);
    }
    for r in &cluster.underlay.routers {
        let id = w.add_lazy_host(&r.name, HostKind::Router, None);
        for (i, a) in r.interfaces.iter().enumerate() {
            w.attach(*a, id, &format!("eth{i}"));
        }
    }
    for p in &cluster.pods {
        let node_id = cluster.node_index(&p.node).unwrap_or(0);
        if p.host_network {
            w.alias(
                &p.key(),
                node_id,
                format!(
                    "{} is a hostNetwork pod: it shares node {}'s network namespace and address",
                    p.key(),
                    p.node
                ),
            );
            continue;
        }
        let Some(ip) = p.ipv4() else {
            w.missing(
                &p.key(),
                format!(
                    "pod {} has no IPv4 address (pending, or IPv6 only)",
                    p.key()
                ),
            );
            continue;
        };
        let id = w.add_lazy_host(&p.key(), HostKind::Pod, Some(node_id));
        let prefix = match &cluster.mode {
            Mode::Flannel(_) => cluster.nodes[node_id]
                .pod_cidr_v4()
                .map(|c| c.prefix())
                .unwrap_or(24),
            Mode::Calico(_) => 32,
        };
        if let Ok(net) = IpNetwork::new(IpAddr::V4(ip), prefix) {
            w.attach(net, id, "eth0");
        }
        w.connect_veth(id, "eth0", node_id, &host_veth_name(cluster, p));
    }
    for s in &cluster.underlay.subnets {
        if let Some(gw) = s.gateway {
            let owned = cluster
                .underlay
                .routers
                .iter()
                .any(|r| r.interfaces.iter().any(|a| a.ip() == gw))
                || cluster.nodes.iter().any(|n| n.ip() == gw);
            if !owned {
                w.add_exit(gw);
            }
        }
    }
    for n in &cluster.nodes {
        if let Some(gw) = n.gateway {
            if cluster.subnet_of(gw).is_none()
                && !cluster
                    .underlay
                    .routers
                    .iter()
                    .any(|r| r.interfaces.iter().any(|a| a.ip() == gw))
            {
                w.add_exit(gw);
            }
        }
    }
    if let Some(rule) = masquerade_rule(cluster) {
        for id in 0..cluster.nodes.len() {
            w.set_masquerade(id, rule.clone());
        }
    }
    w
}

struct Builder {
    st: NodeState,
    notes: Vec<String>,
    warnings: Vec<String>,
    /// A route the CNI cannot program has been warned about (once per plan is enough).
    warned_route: bool,
}

impl Builder {
    fn new(name: &str) -> Builder {
        Builder {
            st: NodeState {
                node: name.to_string(),
                ..Default::default()
            },
            notes: Vec::new(),
            warnings: Vec::new(),
            warned_route: false,
        }
    }

    fn loopback(&mut self) {
        self.link("lo", LinkKind::Loopback, 65536, None, None);
        self.addr(
            "lo",
            IpNetwork::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8).unwrap_or_else(|_| default_v4()),
            Scope::Host,
        );
    }

    fn link(
        &mut self,
        name: &str,
        kind: LinkKind,
        mtu: u32,
        mac: Option<MacAddr>,
        master: Option<&str>,
    ) {
        self.st.links.push(Link {
            mac,
            master: master.map(str::to_string),
            ..Link::up(name, kind, mtu)
        });
    }

    fn addr(&mut self, dev: &str, addr: IpNetwork, scope: Scope) {
        self.st.addrs.push(Addr {
            dev: dev.to_string(),
            addr,
            scope,
        });
    }

    fn route(&mut self, r: Route) {
        self.st.routes.push(r);
    }

    fn neigh(&mut self, dst: IpAddr, mac: MacAddr, dev: &str) {
        self.st.neighbours.push(Neighbour {
            dst,
            lladdr: Some(mac),
            dev: dev.to_string(),
            state: NudState::Permanent,
        });
    }

    fn fdb(&mut self, mac: MacAddr, dst: IpAddr, dev: &str) {
        self.st.fdb.push(FdbEntry {
            mac,
            dst: Some(dst),
            dev: dev.to_string(),
            master: None,
            self_: true,
            state: NudState::Permanent,
        });
    }
}

fn default_v4() -> IpNetwork {
    IpNetwork::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
        .unwrap_or_else(|_| IpNetwork::from(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
}

/// The kernel's connected route for an address: `NET dev DEV proto kernel scope link src IP`.
fn connected(net: IpNetwork, dev: &str, src: IpAddr) -> Route {
    let mut r = Route::unicast(canonical(net), Nexthop::dev(dev));
    r.proto = Protocol::KERNEL;
    r.prefsrc = Some(src);
    r
}

fn via(dst: IpNetwork, gw: IpAddr, dev: &str, proto: Protocol, onlink: bool) -> Route {
    let mut hop = Nexthop::via(gw, dev);
    hop.flags.onlink = onlink;
    let mut r = Route::unicast(dst, hop);
    r.proto = proto;
    r
}

/// The node's underlay as it is before the CNI: loopback, the uplink with its address and
/// connected route, the default route.
fn underlay_into(node: &Node, b: &mut Builder) {
    b.loopback();
    b.link(
        &node.iface,
        LinkKind::Device,
        node.mtu,
        Some(derived_mac("node:", &node.name)),
        None,
    );
    b.addr(&node.iface, node.address, Scope::Universe);
    b.route(connected(node.address, &node.iface, node.ip()));
    if let Some(gw) = node.gateway {
        b.route(Route::unicast(default_v4(), Nexthop::via(gw, &node.iface)));
    }
    b.st.sysctls.ip_forward = Some(true);
}

/// What `ip route get REMOTE` answers on the node's underlay: `Some(None)` for a connected
/// subnet (one route, no gateway: flannel's DirectRouting test), `Some(Some(gw))` through the
/// default gateway, `None` when unreachable.
fn underlay_next_hop(node: &Node, remote: IpAddr) -> Option<Option<IpAddr>> {
    if node.address.contains(remote) {
        Some(None)
    } else {
        node.gateway.map(Some)
    }
}

/// How many per-peer parts a planned host has (see [`host_part_into`]): one per node of
/// the cluster, then one per borrowed pod address, in the order the plan programs them.
pub(crate) fn peer_parts(cluster: &Cluster) -> usize {
    cluster.nodes.len() + cluster.borrowed_pods().len()
}

/// The whole plan of node `idx`: its own part, every peer part in order, then the notes.
fn host_into(cluster: &Cluster, idx: usize, b: &mut Builder) {
    if host_local_into(cluster, idx, b) {
        for part in 0..peer_parts(cluster) {
            host_part_into(cluster, idx, part, b);
        }
        host_notes_into(cluster, idx, b);
    }
}

/// What node `idx` has whatever the destination: the underlay, tunnel devices, the
/// bridge, local pods' routes, neighbours and blackholes. False when the CNI programs
/// nothing more on it (a Flannel node without a lease).
fn host_local_into(cluster: &Cluster, idx: usize, b: &mut Builder) -> bool {
    underlay_into(&cluster.nodes[idx], b);
    match &cluster.mode {
        Mode::Flannel(fl) => flannel_local_into(cluster, fl, idx, b),
        Mode::Calico(c) => {
            calico_local_into(cluster, c, idx, b);
            true
        }
    }
}

/// What node `idx` programs for one part of the cluster: for a part below the node count,
/// that node's lease or blocks (route, and for VXLAN the VTEP's neighbour and FDB entry);
/// above, one borrowed pod address. A function of (this node, that part) only, which is
/// what lets a trace plan a node per destination (`crate::plan::peers`).
fn host_part_into(cluster: &Cluster, idx: usize, part: usize, b: &mut Builder) {
    let n_nodes = cluster.nodes.len();
    match &cluster.mode {
        Mode::Flannel(fl) => {
            if part < n_nodes && part != idx {
                flannel_peer_into(cluster, fl, idx, part, b);
            }
        }
        Mode::Calico(c) => {
            if part >= n_nodes {
                calico_borrowed_into(cluster, c, idx, part - n_nodes, b);
            } else if part != idx {
                calico_peer_into(cluster, c, idx, part, b);
            }
        }
    }
}

/// Notes that follow the per-peer entries in `netpath plan`.
fn host_notes_into(cluster: &Cluster, idx: usize, b: &mut Builder) {
    match &cluster.mode {
        Mode::Flannel(fl) => flannel_notes_into(cluster, fl, idx, b),
        Mode::Calico(c) => calico_notes_into(cluster, c, idx, b),
    }
}

fn flannel_local_into(cluster: &Cluster, fl: &Flannel, idx: usize, b: &mut Builder) -> bool {
    let node = &cluster.nodes[idx];
    let Some(lease) = node.pod_cidr_v4() else {
        b.warnings.push(format!(
            "node {} has no IPv4 pod CIDR: flannel cannot acquire a lease (\"pod cidr not assigned\") and programs nothing",
            node.name
        ));
        return false;
    };
    let mtu = flannel_mtu(fl, node);
    let lease_ip = lease.network();
    match &fl.backend {
        FlannelBackend::HostGw => {}
        FlannelBackend::Vxlan {
            vni,
            port,
            learning,
            ..
        } => {
            let dev = flannel_vxlan_dev(*vni);
            b.link(
                &dev,
                LinkKind::Vxlan(Vxlan {
                    vni: *vni,
                    port: *port,
                    local: Some(node.ip()),
                    dev: Some(node.iface.clone()),
                    learning: *learning,
                }),
                mtu,
                Some(flannel_vtep_mac(node)),
                None,
            );
            b.addr(&dev, IpNetwork::from(lease_ip), Scope::Universe);
            if node.vtep_mac.is_none() {
                b.notes.push(format!(
                    "{dev} MAC {} is derived by netpath: flannel picks a random one and stores it in the node's backend-data annotation",
                    flannel_vtep_mac(node)
                ));
            }
        }
        FlannelBackend::Ipip { .. } => {
            let dev = "flannel.ipip".to_string();
            b.link(
                &dev,
                LinkKind::Ipip {
                    local: Some(node.ip()),
                    remote: None,
                },
                node.mtu.saturating_sub(20),
                None,
                None,
            );
            b.addr(&dev, IpNetwork::from(lease_ip), Scope::Universe);
            b.notes.push("loading the ipip module also creates tunl0 (the fallback device); flannel does not use it".into());
        }
    }
    let local_pods: Vec<&Pod> = cluster
        .pods_on(idx)
        .iter()
        .map(|&p| &cluster.pods[p])
        .filter(|p| p.has_netns())
        .collect();
    if local_pods.is_empty() {
        b.notes.push(
            "no pods on this node yet: the bridge plugin creates cni0 with the first pod".into(),
        );
    } else {
        let gw = nth(&lease, 1);
        b.link(
            "cni0",
            LinkKind::Bridge,
            mtu,
            Some(derived_mac("cni0:", &node.name)),
            None,
        );
        b.addr(
            "cni0",
            IpNetwork::new(gw, lease.prefix()).unwrap_or(lease),
            Scope::Universe,
        );
        b.route(connected(lease, "cni0", gw));
        for p in local_pods {
            b.link(
                &host_veth_name(cluster, p),
                LinkKind::Veth(Veth::default()),
                mtu,
                Some(derived_mac("veth:", &p.key())),
                Some("cni0"),
            );
        }
        b.st.sysctls.forwarding.insert("cni0".into(), true);
    }
    true
}

/// Node `idx`'s entries for node `j`'s lease (flannel's route, and for VXLAN the permanent
/// neighbour and FDB entry of its VTEP).
fn flannel_peer_into(cluster: &Cluster, fl: &Flannel, idx: usize, j: usize, b: &mut Builder) {
    let node = &cluster.nodes[idx];
    let remote = &cluster.nodes[j];
    let eth = node.iface.as_str();
    let Some(rl) = remote.pod_cidr_v4() else {
        return;
    };
    let rip = remote.ip();
    let direct = underlay_next_hop(node, rip) == Some(None);
    match &fl.backend {
        FlannelBackend::HostGw => {
            b.route(via(rl, rip, eth, Protocol::BOOT, false));
            if !direct {
                b.warnings.push(format!(
                    "route {rl} via {rip} dev {eth}: {} ({rip}) is not on {eth}'s subnet {}; the kernel refuses this route (Network is unreachable) and flannel logs \"Error adding route\": host-gw needs every node on one L2 segment",
                    remote.name,
                    canonical(node.address)
                ));
            }
        }
        FlannelBackend::Vxlan {
            direct_routing,
            vni,
            ..
        } => {
            if *direct_routing && direct {
                b.route(via(rl, rip, eth, Protocol::BOOT, false));
            } else {
                let dev = flannel_vxlan_dev(*vni);
                let mac = flannel_vtep_mac(remote);
                b.neigh(rl.network(), mac, &dev);
                b.fdb(mac, rip, &dev);
                b.route(via(rl, rl.network(), &dev, Protocol::BOOT, true));
            }
        }
        FlannelBackend::Ipip { direct_routing } => {
            let dev = if *direct_routing && direct {
                eth
            } else {
                "flannel.ipip"
            };
            b.route(via(rl, rip, dev, Protocol::BOOT, true));
        }
    }
}

fn flannel_notes_into(cluster: &Cluster, fl: &Flannel, idx: usize, b: &mut Builder) {
    let node = &cluster.nodes[idx];
    if let FlannelBackend::Vxlan {
        direct_routing: true,
        ..
    }
    | FlannelBackend::Ipip {
        direct_routing: true,
    } = fl.backend
    {
        b.notes.push(format!(
            "DirectRouting: plain routes to nodes on {} (one route, no gateway), tunnel to the others",
            canonical(node.address)
        ));
    }
}

fn calico_local_into(cluster: &Cluster, c: &Calico, idx: usize, b: &mut Builder) {
    let node = &cluster.nodes[idx];
    let ipip_mtu = node.mtu.saturating_sub(20);
    let vxlan_mtu = node.mtu.saturating_sub(50);
    let pod_mtu = calico_pod_mtu(c, node);
    if c.uses_ipip() {
        b.link(
            "tunl0",
            LinkKind::Ipip {
                local: None,
                remote: None,
            },
            ipip_mtu,
            None,
            None,
        );
        if let Some(t) = node.ipip_tunnel_ip {
            b.addr("tunl0", IpNetwork::from(t), Scope::Universe);
        }
    }
    if c.uses_vxlan() {
        b.link(
            "vxlan.calico",
            LinkKind::Vxlan(Vxlan {
                vni: c.vxlan_vni,
                port: c.vxlan_port,
                local: Some(node.ip()),
                dev: Some(node.iface.clone()),
                learning: false,
            }),
            vxlan_mtu,
            Some(calico_vtep_mac(node)),
            None,
        );
        match node.vxlan_tunnel_ip {
            Some(t) => b.addr("vxlan.calico", IpNetwork::from(t), Scope::Universe),
            None => b.warnings.push(format!(
                "node {} has no VXLAN tunnel address (projectcalico.org/IPv4VXLANTunnelAddr): host-to-pod traffic has no source address on vxlan.calico and peers get no route to it",
                node.name
            )),
        }
    }
    // Local blocks: blackholes (BIRD for BGP/IPIP-by-BIRD, Felix otherwise).
    for blk in node.pod_cidrs.iter().filter(|c| c.is_ipv4()) {
        let proto = match c.pool_for(blk) {
            Some(p) if p.vxlan != EncapMode::Never => Protocol::FELIX,
            Some(p) if p.ipip != EncapMode::Never && c.ipip_routes == RouteOwner::Felix => {
                Protocol::FELIX
            }
            _ => Protocol::BIRD,
        };
        if blk.prefix() < 32 {
            b.route(Route::drop(RouteType::Blackhole, *blk, proto));
        }
    }
    // Local pods: /32 to the cali veth, static ARP, proxy ARP on the host side.
    for &p in cluster.pods_on(idx) {
        let pod = &cluster.pods[p];
        let (true, Some(ip)) = (pod.has_netns(), pod.ipv4()) else {
            continue;
        };
        let dev = host_veth_name(cluster, pod);
        b.link(
            &dev,
            LinkKind::Veth(Veth::default()),
            pod_mtu,
            Some(MacAddr::CALICO_HOST),
            None,
        );
        b.route(Route::unicast(
            IpNetwork::from(IpAddr::V4(ip)),
            Nexthop::dev(dev.clone()),
        ));
        b.neigh(IpAddr::V4(ip), pod_mac(pod), &dev);
        b.st.sysctls.proxy_arp.insert(dev.clone(), true);
        b.st.sysctls.forwarding.insert(dev, true);
    }
}

/// Node `idx`'s entries for node `j`: a route per block (BGP, IPIP, VXLAN or the
/// CrossSubnet plain route), and for VXLAN the VTEP's neighbour, FDB entry and the route to
/// its tunnel address when no block holds it. The first route Felix/BIRD cannot program is
/// warned about once per plan.
fn calico_peer_into(cluster: &Cluster, c: &Calico, idx: usize, j: usize, b: &mut Builder) {
    let node = &cluster.nodes[idx];
    let remote = &cluster.nodes[j];
    let ipip_mtu = node.mtu.saturating_sub(20);
    let vxlan_mtu = node.mtu.saturating_sub(50);
    for blk in remote.pod_cidrs.iter().filter(|c| c.is_ipv4()) {
        match calico_route(c, node, remote, *blk, ipip_mtu, vxlan_mtu) {
            Ok(r) => b.route(r),
            Err(w) => {
                if !b.warned_route {
                    b.warnings.push(w);
                    b.warned_route = true;
                }
            }
        }
    }
    if c.uses_vxlan() {
        if let Some(t) = remote.vxlan_tunnel_ip {
            let mac = calico_vtep_mac(remote);
            b.neigh(t, mac, "vxlan.calico");
            b.fdb(mac, remote.ip(), "vxlan.calico");
            if !remote.pod_cidrs.iter().any(|blk| blk.contains(t)) {
                b.route(Route::unicast(
                    IpNetwork::from(t),
                    Nexthop::dev("vxlan.calico"),
                ));
            }
        }
    }
}

/// Node `idx`'s route to borrowed pod address number `k` (outside its node's blocks): a
/// /32 like the block route.
fn calico_borrowed_into(cluster: &Cluster, c: &Calico, idx: usize, k: usize, b: &mut Builder) {
    let node = &cluster.nodes[idx];
    let Some(&p) = cluster.borrowed_pods().get(k) else {
        return;
    };
    let pod = &cluster.pods[p];
    let (Some(remote), Some(ip)) = (cluster.node(&pod.node), pod.ipv4()) else {
        return;
    };
    if remote.name == node.name {
        return;
    }
    if let Ok(r) = calico_route(
        c,
        node,
        remote,
        IpNetwork::from(IpAddr::V4(ip)),
        node.mtu.saturating_sub(20),
        node.mtu.saturating_sub(50),
    ) {
        b.route(r);
    }
}

fn calico_notes_into(cluster: &Cluster, c: &Calico, idx: usize, b: &mut Builder) {
    let node = &cluster.nodes[idx];
    let pod_mtu = calico_pod_mtu(c, node);
    let n = cluster.nodes.len();
    match &c.bgp {
        Bgp::Mesh => b.notes.push(format!(
            "BGP node-to-node mesh: this node holds {} sessions ({} in the cluster), TCP 179",
            n.saturating_sub(1),
            n * n.saturating_sub(1) / 2
        )),
        Bgp::RouteReflectors(rr) => {
            let is_rr = rr.contains(&node.name);
            b.notes.push(format!(
                "BGP route reflectors ({}): this node holds {} sessions; routes are the same as with a mesh (reflection keeps the next hop)",
                rr.join(", "),
                if is_rr { n.saturating_sub(1) } else { rr.len() }
            ));
        }
        Bgp::Routers => {
            let peers = cluster
                .underlay
                .routers
                .iter()
                .filter(|r| r.bgp && r.interfaces.iter().any(|a| node.address.contains(a.ip())))
                .count();
            b.notes.push(format!(
                "BGP peering with the underlay routers: this node holds {peers} session(s); the mesh is off"
            ));
        }
        Bgp::Off => {}
    }
    b.notes.push(format!(
        "pod MTU {pod_mtu}; pods reach the host through proxy ARP for {CALICO_GATEWAY} on their cali veth (needs a host route to it, normally the default route)"
    ));
}

/// The route a Calico node programs to `dst` (a block or borrowed /32) owned by `remote`.
fn calico_route(
    c: &Calico,
    local: &Node,
    remote: &Node,
    dst: IpNetwork,
    ipip_mtu: u32,
    vxlan_mtu: u32,
) -> Result<Route, String> {
    let eth = local.iface.as_str();
    let rip = remote.ip();
    let pool = c.pool_for(&dst);
    let same = local.same_subnet(rip);
    if let Some(p) = pool.filter(|p| p.vxlan != EncapMode::Never) {
        if p.vxlan == EncapMode::CrossSubnet && same {
            return Ok(via(dst, rip, eth, Protocol::FELIX, true));
        }
        let Some(t) = remote.vxlan_tunnel_ip else {
            return Err(format!(
                "node {} has no VXLAN tunnel address: Felix programs no route to its blocks",
                remote.name
            ));
        };
        let mut r = via(dst, t, "vxlan.calico", Protocol::BOOT, true);
        if c.vxlan_route_mtu {
            r.mtu = Some(vxlan_mtu);
        }
        return Ok(r);
    }
    if let Some(p) = pool.filter(|p| p.ipip != EncapMode::Never) {
        let plain = p.ipip == EncapMode::CrossSubnet && same;
        return Ok(match (c.ipip_routes, plain) {
            (RouteOwner::Bird, true) => via(dst, rip, eth, Protocol::BIRD, false),
            (RouteOwner::Bird, false) => via(dst, rip, "tunl0", Protocol::BIRD, true),
            (RouteOwner::Felix, true) => via(dst, rip, eth, Protocol::FELIX, true),
            (RouteOwner::Felix, false) => {
                let mut r = via(dst, rip, "tunl0", Protocol::FELIX, true);
                r.mtu = Some(ipip_mtu);
                r
            }
        });
    }
    // No encapsulation: BGP.
    if c.bgp == Bgp::Off {
        return Err(
            "no encapsulation and BGP off: nothing programs routes to other nodes' blocks".into(),
        );
    }
    match underlay_next_hop(local, rip) {
        Some(None) => Ok(via(dst, rip, eth, Protocol::BIRD, false)),
        Some(Some(gw)) => Ok(via(dst, gw, eth, Protocol::BIRD, false)),
        None => Err(format!(
            "BGP next hop {rip} ({}) is not on a connected subnet and node {} has no default gateway: BIRD cannot resolve it (gateway recursive), no route",
            remote.name, local.name
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::demo;

    fn routes(c: &Cluster, n: &str) -> Vec<String> {
        node(c, n)
            .unwrap()
            .state
            .routes
            .iter()
            .map(|r| r.to_string())
            .collect()
    }

    #[test]
    fn calico_names_follow_calico() {
        let pod = Pod {
            namespace: "default".into(),
            name: "nginx".into(),
            node: "n".into(),
            ips: vec![],
            host_network: false,
            mac: None,
        };
        let c = demo::load("calico-bgp").unwrap();
        assert_eq!(host_veth_name(&c, &pod), "calic440f455693");
        let n = Node {
            name: "node1".into(),
            ..c.nodes[0].clone()
        };
        assert_eq!(calico_vtep_mac(&n).to_string(), "66:f9:37:c3:7e:94");
    }

    #[test]
    fn flannel_vxlan_programs_neigh_fdb_route() {
        let c = demo::load("flannel-vxlan").unwrap();
        let p = node(&c, "node-1").unwrap();
        let r = routes(&c, "node-1");
        assert!(
            r.contains(&"10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink".to_string()),
            "{r:?}"
        );
        assert!(
            r.contains(
                &"10.244.0.0/24 dev cni0 proto kernel scope link src 10.244.0.1".to_string()
            ),
            "{r:?}"
        );
        let n = &p.state.neighbours[0];
        assert_eq!(
            (n.dst.to_string(), n.dev.as_str()),
            ("10.244.1.0".into(), "flannel.1")
        );
        assert_eq!(n.lladdr.unwrap().to_string(), "4e:5a:1c:0b:7f:12");
        let f = &p.state.fdb[0];
        assert_eq!(f.dst, Some("10.234.2.12".parse().unwrap()));
        let dev = p.state.link("flannel.1").unwrap();
        assert_eq!(dev.mtu, 1450);
        let LinkKind::Vxlan(v) = &dev.kind else {
            panic!()
        };
        assert_eq!((v.vni, v.port, v.learning), (1, 8472, false));
        let pod = &p.pods[0];
        let pr: Vec<String> = pod.state.routes.iter().map(|r| r.to_string()).collect();
        assert_eq!(pr[0], "default via 10.244.0.1 dev eth0");
        assert_eq!(pr[1], "10.244.0.0/16 via 10.244.0.1 dev eth0");
    }

    #[test]
    fn directrouting_and_crosssubnet_use_the_local_subnet() {
        let c = demo::load("flannel-directrouting").unwrap();
        let r = routes(&c, "node-1");
        assert!(
            r.contains(&"10.244.1.0/24 via 192.168.1.12 dev eth0".to_string()),
            "{r:?}"
        );
        assert!(
            r.contains(&"10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink".to_string()),
            "{r:?}"
        );
        let c = demo::load("calico-vxlan-crosssubnet").unwrap();
        let r = routes(&c, "node-1");
        assert!(
            r.contains(&"10.65.1.0/26 via 192.168.1.12 dev eth0 proto 80 onlink".to_string()),
            "{r:?}"
        );
        assert!(
            r.contains(&"10.65.2.0/26 via 10.65.2.0 dev vxlan.calico onlink".to_string()),
            "{r:?}"
        );
        assert!(
            r.contains(&"blackhole 10.65.0.0/26 proto 80".to_string()),
            "{r:?}"
        );
    }

    #[test]
    fn calico_ipip_and_bgp_routes() {
        let c = demo::load("calico-ipip").unwrap();
        let r = routes(&c, "node-1");
        assert!(
            r.contains(&"10.65.2.0/26 via 192.168.2.11 dev tunl0 proto bird onlink".to_string()),
            "{r:?}"
        );
        assert!(
            r.contains(&"blackhole 10.65.0.0/26 proto bird".to_string()),
            "{r:?}"
        );
        assert!(
            r.iter()
                .any(|x| x.starts_with("10.65.0.2 dev cali") && x.ends_with("scope link")),
            "{r:?}"
        );
        let c = demo::load("calico-bgp-routed").unwrap();
        let r = routes(&c, "node-1");
        assert!(
            r.contains(&"10.65.1.0/26 via 192.168.1.12 dev eth0 proto bird".to_string()),
            "{r:?}"
        );
        assert!(
            r.contains(&"10.65.2.0/26 via 192.168.1.1 dev eth0 proto bird".to_string()),
            "recursive via the gateway: {r:?}"
        );
        let c = demo::load("calico-bgp-routers").unwrap();
        let rs = router_state(&c, 0);
        let r: Vec<String> = rs.routes.iter().map(|r| r.to_string()).collect();
        assert!(
            r.contains(&"10.65.2.0/26 via 192.168.2.11 dev eth1 proto bird".to_string()),
            "{r:?}"
        );
    }

    /// An IPIP pool and a VXLAN pool: each node has two tunnel addresses, tunl0 takes the
    /// IPIP one, vxlan.calico the VXLAN one, and VXLAN routes and neighbours use the
    /// remote's VXLAN address while IPIP routes go via the remote node.
    #[test]
    fn ipip_and_vxlan_pools_use_their_own_tunnel_addresses() {
        let text = r#"
mode: {cni: calico, pools: [{name: ipip, cidr: 10.65.0.0/17, ipipMode: Always}, {name: vx, cidr: 10.65.128.0/17, vxlanMode: Always}]}
underlay:
  subnets: [{cidr: 192.168.1.0/24, gateway: 192.168.1.1}, {cidr: 192.168.2.0/24, gateway: 192.168.2.1}]
  routers: [{name: r, interfaces: [192.168.1.1, 192.168.2.1]}]
nodes:
  - {name: n1, ip: 192.168.1.11, blocks: [10.65.0.0/26, 10.65.128.0/26]}
  - {name: n2, ip: 192.168.2.11, blocks: [10.65.1.0/26, 10.65.129.0/26], ipipTunnelIP: 10.65.1.1, vxlanTunnelIP: 10.65.129.7}
pods:
  - default/a n1 10.65.0.5
  - default/b n2 10.65.1.5
  - default/c n2 10.65.129.5
"#;
        let c = crate::model::file::parse(text, "mixed.yaml").unwrap();
        assert_eq!(
            c.nodes[0].ipip_tunnel_ip,
            Some("10.65.0.0".parse().unwrap())
        );
        assert_eq!(
            c.nodes[0].vxlan_tunnel_ip,
            Some("10.65.128.0".parse().unwrap())
        );
        let p = node(&c, "n1").unwrap();
        let addr = |dev: &str| {
            p.state
                .addrs
                .iter()
                .find(|a| a.dev == dev)
                .map(|a| a.addr.to_string())
        };
        assert_eq!(addr("tunl0").as_deref(), Some("10.65.0.0/32"));
        assert_eq!(addr("vxlan.calico").as_deref(), Some("10.65.128.0/32"));
        let r = routes(&c, "n1");
        assert!(
            r.contains(&"10.65.1.0/26 via 192.168.2.11 dev tunl0 proto bird onlink".to_string()),
            "{r:?}"
        );
        assert!(
            r.contains(&"10.65.129.0/26 via 10.65.129.7 dev vxlan.calico onlink".to_string()),
            "{r:?}"
        );
        let n = &p.state.neighbours;
        assert!(
            n.iter()
                .any(|n| n.dst.to_string() == "10.65.129.7" && n.dev == "vxlan.calico"),
            "{n:?}"
        );
        assert!(!n.iter().any(|n| n.dst.to_string() == "10.65.1.1"), "{n:?}");
        let w = world(&c);
        for dst in ["default/b", "default/c"] {
            let s = crate::trace::resolve(&w, "default/a", true).unwrap();
            let d = crate::trace::resolve(&w, dst, false).unwrap();
            let t = crate::trace::trace(&w, &s, &d, crate::trace::Probe::default());
            assert!(t.ok(), "a -> {dst}: {:?}", t.request.verdict);
        }
    }

    #[test]
    fn host_gw_across_a_router_is_warned() {
        let c = demo::load("flannel-host-gw-routed").unwrap();
        let p = node(&c, "node-1").unwrap();
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("Network is unreachable")),
            "{:?}",
            p.warnings
        );
        assert!(node(&c, "nope").is_err());
    }
}
