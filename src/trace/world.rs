//! The world a packet walks through: hosts (nodes, routers, pod network namespaces), each
//! a [`NodeState`], wired by veth pairs and joined by L2 segments.
//!
//! Hosts may be given up front (real snapshots) or built on first use by a builder
//! (`crate::plan::world`), so that a 5,000-node cluster only plans the nodes a trace touches.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::Serialize;

use crate::dataplane::{
    Addr, FdbEntry, Link, MacAddr, Neighbour, NodeState, Route, RouteTable, Scope, Table,
};
use crate::trace::real::Source;

/// A host's index in its [`World`].
pub type HostId = usize;

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

/// A host's [`NodeState`], indexed for the walk: routes in prefix tries (local table first,
/// then main, then default, as the kernel's default rules look them up), addresses,
/// neighbours and FDB by key.
#[derive(Debug)]
pub struct Host {
    /// The state; its `routes` are moved into the tries (see [`Host::routes`]).
    pub state: NodeState,
    tables: Vec<RouteTable>,
    addrs: HashMap<IpAddr, usize>,
    links: HashMap<String, usize>,
    neigh: HashMap<IpAddr, Vec<usize>>,
    fdb: HashMap<MacAddr, Vec<usize>>,
}

impl Host {
    /// Index a state.
    pub fn new(mut state: NodeState) -> Host {
        let routes = std::mem::take(&mut state.routes);
        let mut by_table: [Vec<Route>; 3] = Default::default();
        for r in routes {
            let slot = match r.table {
                Table::LOCAL => 0,
                Table::MAIN => 1,
                Table::DEFAULT => 2,
                _ => continue,
            };
            by_table[slot].push(r);
        }
        let tables = by_table.into_iter().map(RouteTable::all).collect();
        let addrs = state
            .addrs
            .iter()
            .enumerate()
            .map(|(i, a)| (a.addr.ip(), i))
            .collect();
        let links = state
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| (l.name.clone(), i))
            .collect();
        let mut neigh: HashMap<IpAddr, Vec<usize>> = HashMap::new();
        for (i, n) in state.neighbours.iter().enumerate() {
            neigh.entry(n.dst).or_default().push(i);
        }
        let mut fdb: HashMap<MacAddr, Vec<usize>> = HashMap::new();
        for (i, f) in state.fdb.iter().enumerate() {
            fdb.entry(f.mac).or_default().push(i);
        }
        Host {
            state,
            tables,
            addrs,
            links,
            neigh,
            fdb,
        }
    }

    /// The route the kernel picks for `dst`: local table, then main, then default; longest
    /// prefix, then lowest metric.
    pub fn lookup(&self, dst: IpAddr) -> Option<&Route> {
        self.tables.iter().find_map(|t| t.lookup(dst))
    }

    /// Every route of the host.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.tables.iter().flat_map(|t| t.routes().iter())
    }

    /// The device named `name`.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.get(name).map(|&i| &self.state.links[i])
    }

    /// The address entry for `ip`, when the host has that address.
    pub fn owns(&self, ip: IpAddr) -> Option<&Addr> {
        self.addrs.get(&ip).map(|&i| &self.state.addrs[i])
    }

    /// The host's addresses on `dev`.
    pub fn addrs_on<'a>(&'a self, dev: &'a str) -> impl Iterator<Item = &'a Addr> + 'a {
        self.state.addrs.iter().filter(move |a| a.dev == dev)
    }

    /// The neighbour entry for `ip` on `dev`.
    pub fn neighbour(&self, dev: &str, ip: IpAddr) -> Option<&Neighbour> {
        self.neigh
            .get(&ip)?
            .iter()
            .map(|&i| &self.state.neighbours[i])
            .find(|n| n.dev == dev)
    }

    /// The FDB entry for `mac` on `dev`, else the device's all-zero default entry.
    pub fn fdb(&self, dev: &str, mac: MacAddr) -> Option<&FdbEntry> {
        let find = |m: &MacAddr| {
            self.fdb.get(m).and_then(|v| {
                v.iter()
                    .map(|&i| &self.state.fdb[i])
                    .find(|f| f.dev == dev && f.dst.is_some())
            })
        };
        find(&mac).or_else(|| find(&MacAddr::default()))
    }

    /// Whether the host forwards packets that arrive on `dev` (`ip_forward` and the device's
    /// `forwarding`; unknown counts as on).
    pub fn forwards(&self, dev: &str) -> bool {
        self.state.sysctls.ip_forward != Some(false)
            && self.state.sysctls.forwarding.get(dev) != Some(&false)
    }

    /// Whether proxy ARP is on for `dev`.
    pub fn proxy_arp(&self, dev: &str) -> bool {
        self.state.sysctls.proxy_arp.get(dev) == Some(&true)
            || self.state.sysctls.proxy_arp.get("all") == Some(&true)
    }
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

type Builder<'a> = Box<dyn Fn(HostId) -> NodeState + 'a>;

/// Every host a packet may cross, and how they are wired.
pub struct World<'a> {
    names: Vec<String>,
    kinds: Vec<HostKind>,
    parents: Vec<Option<HostId>>,
    by_name: HashMap<String, HostId>,
    aliases: HashMap<String, (HostId, String)>,
    missing: HashMap<String, String>,
    hosts: Vec<OnceCell<Host>>,
    sources: Vec<Source>,
    builder: Option<Builder<'a>>,
    veths: HashMap<(HostId, String), (HostId, String)>,
    addrs: HashMap<IpAddr, Vec<Attachment>>,
    exits: HashSet<IpAddr>,
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
            sources: Vec::new(),
            builder: None,
            veths: HashMap::new(),
            addrs: HashMap::new(),
            exits: HashSet::new(),
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
        let id = self.names.len();
        self.names.push(name.to_string());
        self.kinds.push(kind);
        self.parents.push(parent);
        self.by_name.insert(name.to_string(), id);
        self.hosts.push(OnceCell::new());
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
        let _ = self.hosts[id].set(Host::new(state));
        id
    }

    /// Add a host whose state the builder makes on first use.
    pub fn add_lazy_host(&mut self, name: &str, kind: HostKind, parent: Option<HostId>) -> HostId {
        self.push(name, kind, parent)
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
        self.hosts[id] = OnceCell::new();
        let _ = self.hosts[id].set(Host::new(state));
        self.sources[id] = source;
    }

    /// Where a host's state comes from.
    pub fn source(&self, id: HostId) -> Source {
        self.sources[id]
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
    pub fn host(&self, id: HostId) -> &Host {
        self.hosts[id].get_or_init(|| {
            let st = match &self.builder {
                Some(b) => b(id),
                None => NodeState::default(),
            };
            Host::new(st)
        })
    }

    /// The host's name.
    pub fn name(&self, id: HostId) -> &str {
        &self.names[id]
    }

    /// The host's kind.
    pub fn kind(&self, id: HostId) -> HostKind {
        self.kinds[id]
    }

    /// The node a pod runs on.
    pub fn parent(&self, id: HostId) -> Option<HostId> {
        self.parents[id]
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
        (0..self.names.len()).filter(move |&i| self.kinds[i] == kind)
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
    /// address on a device whose subnet is one of `dev`'s subnets.
    pub fn arp_on_segment(&self, host: HostId, dev: &str, ip: IpAddr) -> Option<&Attachment> {
        let h = self.host(host);
        let mine: Vec<IpNetwork> = h
            .addrs_on(dev)
            .map(|a| crate::model::canonical(a.addr))
            .collect();
        self.owners(ip)
            .iter()
            .find(|o| o.host != host && mine.contains(&crate::model::canonical(o.net)))
    }

    /// True when `gw` leads out of the modelled network.
    pub fn is_exit(&self, gw: IpAddr) -> bool {
        self.exits.contains(&gw)
    }
}
