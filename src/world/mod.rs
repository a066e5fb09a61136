//! The world a packet walks through: hosts (nodes, routers, pod network namespaces), each
//! a [`NodeState`], wired by veth pairs and joined by L2 segments. It sits below the plan
//! and the walk: the plan builds worlds, real state (snapshots, the live kernel) is placed
//! into them, and the walk runs over them; none of those is imported here.
//!
//! Hosts may be given up front (real snapshots) or built on first use by a builder
//! (the plan's), so that a 5,000-node cluster only plans the nodes a trace touches.
//! A planned node is built in two layers: what it has whatever the destination (its own
//! part), and, made on demand per destination, the entries it programs for each other part
//! of the cluster ([`Peers`]): a lookup in a 5,000-node cluster plans one remote node's
//! route, neighbour and FDB entry, not 5,000 of each.

mod host;

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::Serialize;

use crate::dataplane::{Addr, NodeState, Scope};
pub use host::{Host, Peers, with_peers};

/// A host of a [`World`], as the world numbered it when the host was added. Only the world
/// hands them out; they mean nothing in another world unless it was built the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct HostId(u32);

impl HostId {
    /// Where the host sits in its world's tables.
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a host built on first use stands for in the cluster it is built from: node, router
/// or pod number `i` of the description (its `nodes`, `underlay.routers`, `pods`). The
/// builder gets it instead of a [`HostId`], so nobody numbers hosts by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Member {
    /// A node (`cluster.nodes[i]`).
    Node(usize),
    /// An underlay router (`cluster.underlay.routers[i]`).
    Router(usize),
    /// A pod with its own network namespace (`cluster.pods[i]`).
    Pod(usize),
}

impl Member {
    /// The kind of host it is.
    pub fn kind(self) -> HostKind {
        match self {
            Member::Node(_) => HostKind::Node,
            Member::Router(_) => HostKind::Router,
            Member::Pod(_) => HostKind::Pod,
        }
    }
}

/// Where a host's state comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Computed from the cluster description (the plan).
    Plan,
    /// A snapshot of the host (`netpath snapshot`, or a text dump).
    Snapshot,
    /// Read from the local kernel for this trace (`--live`).
    Live,
}

impl Source {
    /// The word shown (`plan`, `snapshot`, `live`).
    pub fn word(&self) -> &'static str {
        match self {
            Source::Plan => "plan",
            Source::Snapshot => "snapshot",
            Source::Live => "live",
        }
    }

    /// True for real state (snapshot or live).
    pub fn is_real(&self) -> bool {
        !matches!(self, Source::Plan)
    }
}

/// What a host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostKind {
    /// A Kubernetes node's host network namespace.
    Node,
    /// An underlay router.
    Router,
    /// A pod's network namespace.
    Pod,
}

/// One address of one host's device, indexed so that ARP and endpoint names can be resolved
/// without building every host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The host.
    pub host: HostId,
    /// The device.
    pub dev: String,
    /// The address with its prefix: hosts whose addresses share a network are on one segment.
    pub net: IpNetwork,
}

/// Makes a lazily added host's state on first use.
type Builder<'a> = Box<dyn Fn(Member) -> Host<'a> + 'a>;

/// Source NAT a node applies to packets leaving for outside the cluster network
/// (flannel's `--ip-masq` rules, Calico's `natOutgoing`): MASQUERADE to the outgoing
/// device's address when the source is in `src` and the destination in none of `except_dst`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masquerade {
    /// Sources it applies to (the pod network, or the natOutgoing pools).
    pub src: Vec<IpNetwork>,
    /// Destinations it leaves alone (the pod network, all pools, multicast).
    pub except_dst: Vec<IpNetwork>,
    /// Who programs it, as shown to the reader.
    pub by: String,
}

impl Masquerade {
    /// True when a packet from `src` to `dst` is masqueraded.
    pub fn applies(&self, src: IpAddr, dst: IpAddr) -> bool {
        self.src.iter().any(|n| n.contains(src)) && !self.except_dst.iter().any(|n| n.contains(dst))
    }
}

/// A range of the cluster's pod network (Flannel's `Network`, a Calico IPPool): an address
/// in it that no pod has is a stale or unallocated pod IP, not an outside destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodNetwork {
    /// The range.
    pub net: IpNetwork,
    /// What it is, as shown to the reader (`the flannel Network 10.244.0.0/16`).
    pub name: String,
    /// What a node holds of it (`lease`, `block`).
    pub unit: &'static str,
}

/// Every host a packet may cross, and how they are wired.
pub struct World<'a> {
    names: Vec<String>,
    kinds: Vec<HostKind>,
    parents: Vec<Option<HostId>>,
    by_name: HashMap<String, HostId>,
    aliases: HashMap<String, (HostId, String)>,
    missing: HashMap<String, String>,
    hosts: Vec<OnceCell<Host<'a>>>,
    /// What each lazily added host stands for (`None` for hosts given with their state).
    members: Vec<Option<Member>>,
    sources: Vec<Source>,
    builder: Option<Builder<'a>>,
    veths: HashMap<(HostId, String), (HostId, String)>,
    addrs: HashMap<IpAddr, Vec<Attachment>>,
    exits: HashSet<IpAddr>,
    masquerade: HashMap<HostId, Masquerade>,
    pod_networks: Vec<PodNetwork>,
    leases: Vec<(IpNetwork, HostId)>,
}

impl std::fmt::Debug for World<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("hosts", &self.names.len())
            .field("veths", &self.veths.len())
            .finish()
    }
}

impl Default for World<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> World<'a> {
    /// An empty world.
    pub fn new() -> World<'a> {
        World {
            names: Vec::new(),
            kinds: Vec::new(),
            parents: Vec::new(),
            by_name: HashMap::new(),
            aliases: HashMap::new(),
            missing: HashMap::new(),
            hosts: Vec::new(),
            members: Vec::new(),
            sources: Vec::new(),
            builder: None,
            veths: HashMap::new(),
            addrs: HashMap::new(),
            exits: HashSet::new(),
            masquerade: HashMap::new(),
            pod_networks: Vec::new(),
            leases: Vec::new(),
        }
    }

    /// A world of known states (snapshots): every address indexed. Wire veths with
    /// [`World::connect_veth`] afterwards.
    pub fn from_states(states: Vec<(NodeState, HostKind, Option<HostId>)>) -> World<'a> {
        let mut w = World::new();
        for (st, kind, parent) in states {
            let name = st.node.clone();
            let attach: Vec<Addr> = st.addrs.clone();
            let id = w.add_host(&name, kind, parent, st);
            for a in attach {
                if !a.addr.ip().is_loopback() {
                    w.attach(a.addr, id, &a.dev);
                }
            }
        }
        w
    }

    fn push(&mut self, name: &str, kind: HostKind, parent: Option<HostId>) -> HostId {
        let id = HostId(self.names.len() as u32);
        self.names.push(name.to_string());
        self.kinds.push(kind);
        self.parents.push(parent);
        self.by_name.insert(name.to_string(), id);
        self.hosts.push(OnceCell::new());
        self.members.push(None);
        self.sources.push(Source::Plan);
        id
    }

    /// Add a host with a known state.
    pub fn add_host(
        &mut self,
        name: &str,
        kind: HostKind,
        parent: Option<HostId>,
        state: NodeState,
    ) -> HostId {
        let id = self.push(name, kind, parent);
        let _ = self.hosts[id.index()].set(Host::new(state));
        id
    }

    /// Add a host whose state the builder makes on first use, from what it stands for.
    pub fn add_lazy_host(&mut self, name: &str, member: Member, parent: Option<HostId>) -> HostId {
        let id = self.push(name, member.kind(), parent);
        self.members[id.index()] = Some(member);
        id
    }

    /// Replace a host's state by one read from the real host (a snapshot, or the live
    /// kernel): its addresses are indexed anew (global and site scope, not loopback), in
    /// place of the ones the world was built with.
    pub fn replace_state(&mut self, id: HostId, state: NodeState, source: Source) {
        for list in self.addrs.values_mut() {
            list.retain(|a| a.host != id);
        }
        self.addrs.retain(|_, list| !list.is_empty());
        for a in &state.addrs {
            if !a.addr.ip().is_loopback() && matches!(a.scope, Scope::Universe | Scope::Site) {
                self.attach(a.addr, id, &a.dev);
            }
        }
        self.hosts[id.index()] = OnceCell::new();
        let _ = self.hosts[id.index()].set(Host::new(state));
        self.sources[id.index()] = source;
    }

    /// Where a host's state comes from.
    pub fn source(&self, id: HostId) -> Source {
        self.sources[id.index()]
    }

    /// Set the builder for lazy hosts.
    pub fn set_builder(&mut self, builder: Builder<'a>) {
        self.builder = Some(builder);
    }

    /// Index `net` as an address of `host`'s `dev`.
    pub fn attach(&mut self, net: IpNetwork, host: HostId, dev: &str) {
        self.addrs.entry(net.ip()).or_default().push(Attachment {
            host,
            dev: dev.to_string(),
            net,
        });
    }

    /// Wire a veth pair.
    pub fn connect_veth(&mut self, a: HostId, dev_a: &str, b: HostId, dev_b: &str) {
        self.veths
            .insert((a, dev_a.to_string()), (b, dev_b.to_string()));
        self.veths
            .insert((b, dev_b.to_string()), (a, dev_a.to_string()));
    }

    /// Mark `gw` as a gateway out of the modelled network.
    pub fn add_exit(&mut self, gw: IpAddr) {
        self.exits.insert(gw);
    }

    /// The source NAT `host` applies to packets leaving the cluster network.
    pub fn set_masquerade(&mut self, host: HostId, rule: Masquerade) {
        self.masquerade.insert(host, rule);
    }

    /// The source NAT of `host`, if it has one.
    pub fn masquerade(&self, host: HostId) -> Option<&Masquerade> {
        self.masquerade.get(&host)
    }

    /// Declare a range of the cluster's pod network.
    pub fn add_pod_network(&mut self, net: PodNetwork) {
        self.pod_networks.push(net);
    }

    /// The range of the pod network holding `ip`, if any.
    pub fn pod_network(&self, ip: IpAddr) -> Option<&PodNetwork> {
        self.pod_networks.iter().find(|n| n.net.contains(ip))
    }

    /// Declare `net` a pod CIDR (Flannel lease, Calico block) of node `host`.
    pub fn add_lease(&mut self, net: IpNetwork, host: HostId) {
        self.leases.push((net, host));
    }

    /// The most specific pod CIDR holding `ip`, and its node (a scan: for naming endpoints,
    /// not for the walk).
    pub fn lease_of(&self, ip: IpAddr) -> Option<(IpNetwork, HostId)> {
        self.leases
            .iter()
            .filter(|(n, _)| n.contains(ip))
            .max_by_key(|(n, _)| n.prefix())
            .copied()
    }

    /// Another name for a host (a hostNetwork pod names its node), with a note.
    pub fn alias(&mut self, name: &str, host: HostId, note: String) {
        self.aliases.insert(name.to_string(), (host, note));
    }

    /// A name that is known but has no host (a pod without an IP), and why.
    pub fn missing(&mut self, name: &str, why: String) {
        self.missing.insert(name.to_string(), why);
    }

    /// Number of hosts.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the world has no hosts.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The host, built on first use.
    pub fn host(&self, id: HostId) -> &Host<'a> {
        self.hosts[id.index()].get_or_init(|| match (&self.builder, self.members[id.index()]) {
            (Some(b), Some(member)) => b(member),
            _ => Host::new(NodeState::default()),
        })
    }

    /// The host's name.
    pub fn name(&self, id: HostId) -> &str {
        &self.names[id.index()]
    }

    /// The host's kind.
    pub fn kind(&self, id: HostId) -> HostKind {
        self.kinds[id.index()]
    }

    /// The node a pod runs on.
    pub fn parent(&self, id: HostId) -> Option<HostId> {
        self.parents[id.index()]
    }

    /// The host named `name`.
    pub fn by_name(&self, name: &str) -> Option<HostId> {
        self.by_name.get(name).copied()
    }

    /// An alias and its note.
    pub fn by_alias(&self, name: &str) -> Option<(HostId, &str)> {
        self.aliases.get(name).map(|(h, n)| (*h, n.as_str()))
    }

    /// Why a known name (`namespace/name`, or a bare pod name) has no host.
    pub fn why_missing(&self, name: &str) -> Option<&str> {
        if let Some(why) = self.missing.get(name) {
            return Some(why);
        }
        let suffix = format!("/{name}");
        self.missing
            .iter()
            .find(|(k, _)| k.ends_with(&suffix))
            .map(|(_, v)| v.as_str())
    }

    /// Ids of every host of `kind`.
    pub fn ids(&self, kind: HostKind) -> impl Iterator<Item = HostId> + '_ {
        (0..self.names.len() as u32)
            .map(HostId)
            .filter(move |&i| self.kinds[i.index()] == kind)
    }

    /// Names of every host (for suggestions).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Who has address `ip`.
    pub fn owners(&self, ip: IpAddr) -> &[Attachment] {
        self.addrs.get(&ip).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The host's first indexed (underlay or pod) address.
    pub fn primary_ip(&self, id: HostId) -> Option<IpAddr> {
        let h = self.host(id);
        let dev = self.primary_dev(id)?;
        h.addrs_on(&dev).next().map(|a| a.addr.ip())
    }

    fn primary_dev(&self, id: HostId) -> Option<String> {
        let h = self.host(id);
        h.state
            .addrs
            .iter()
            .find(|a| {
                !a.addr.ip().is_loopback() && self.owners(a.addr.ip()).iter().any(|o| o.host == id)
            })
            .or_else(|| h.state.addrs.iter().find(|a| !a.addr.ip().is_loopback()))
            .map(|a| a.dev.clone())
    }

    /// The other end of a veth.
    pub fn veth_peer(&self, host: HostId, dev: &str) -> Option<(HostId, &str)> {
        self.veths
            .get(&(host, dev.to_string()))
            .map(|(h, d)| (*h, d.as_str()))
    }

    /// Who answers ARP for `ip` on the L2 segment of `host`'s `dev`: a host with that
    /// address on a device whose subnet overlaps one of `dev`'s subnets. The masks need not
    /// agree: Linux answers ARP for any address it owns on the receiving device whatever
    /// the asker's mask (`arp_ignore=0`); whether the asker goes on-link at all is its own
    /// routes' decision, taken before (a /16 and a /24 on one segment are neighbours
    /// wherever each one's connected route covers the other).
    pub fn arp_on_segment(&self, host: HostId, dev: &str, ip: IpAddr) -> Option<&Attachment> {
        let h = self.host(host);
        self.owners(ip).iter().find(|o| {
            o.host != host
                && h.addrs_on(dev).any(|a| {
                    let (m, t) = (a.addr, o.net);
                    m.contains(t.network()) || t.contains(m.network())
                })
        })
    }

    /// True when `gw` leads out of the modelled network.
    pub fn is_exit(&self, gw: IpAddr) -> bool {
        self.exits.contains(&gw)
    }
}
