//! The world a packet walks through: hosts (nodes, routers, pod network namespaces), each
//! a [`NodeState`], wired by veth pairs and joined by L2 segments.
//!
//! Hosts may be given up front (real snapshots) or built on first use by a builder
//! (`crate::plan::world`), so that a 5,000-node cluster only plans the nodes a trace touches.
//! A planned node is built in two layers: what it has whatever the destination (its own
//! part), and, made on demand per destination, the entries it programs for each other part
//! of the cluster ([`Peers`]): a lookup in a 5,000-node cluster plans one remote node's
//! route, neighbour and FDB entry, not 5,000 of each.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::rc::Rc;

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

/// The entries a planned host has for each part of the cluster (another node's lease or
/// blocks with its VTEP, a borrowed pod address), made on demand: which parts can hold an
/// entry for a destination, neighbour address or MAC comes from indexes built once for the
/// cluster, the entries themselves from the plan of (this host, that part).
///
/// Contract: the host's whole state is its own part followed by every part in order
/// `0..len()`, and every route, neighbour or FDB entry of part `p` is found through the
/// index for its prefix, address or MAC.
pub trait Peers {
    /// Number of parts.
    fn len(&self) -> usize;
    /// True when there are no parts.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The parts that may hold a route covering `dst`, in any order.
    fn parts_for_route(&self, dst: IpAddr, out: &mut Vec<usize>);
    /// The parts that may hold a neighbour entry for `ip`, in ascending order.
    fn parts_for_neighbour(&self, ip: IpAddr) -> &[usize];
    /// The parts that may hold an FDB entry for `mac`, in ascending order.
    fn parts_for_mac(&self, mac: MacAddr) -> &[usize];
    /// The routes, neighbours and FDB entries host `host` has for part `part`.
    fn part(&self, host: HostId, part: usize) -> NodeState;
}

/// One part of a host's per-peer entries.
#[derive(Debug)]
struct Part {
    routes: Vec<Route>,
    neighbours: Vec<Neighbour>,
    fdb: Vec<FdbEntry>,
}

/// A host's per-peer entries, made on first use.
struct PeerParts<'a> {
    source: Rc<dyn Peers + 'a>,
    host: HostId,
    parts: Vec<OnceCell<Box<Part>>>,
}

impl PeerParts<'_> {
    fn get(&self, p: usize) -> Option<&Part> {
        let cell = self.parts.get(p)?;
        Some(cell.get_or_init(|| {
            let st = self.source.part(self.host, p);
            Box::new(Part {
                routes: st.routes,
                neighbours: st.neighbours,
                fdb: st.fdb,
            })
        }))
    }
}

impl std::fmt::Debug for PeerParts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerParts")
            .field("host", &self.host)
            .field("parts", &self.parts.len())
            .field(
                "made",
                &self.parts.iter().filter(|c| c.get().is_some()).count(),
            )
            .finish()
    }
}

/// A host's [`NodeState`], indexed for the walk: routes in prefix tries (local table first,
/// then main, then default, as the kernel's default rules look them up), addresses,
/// neighbours and FDB by key; for a planned node, its per-peer entries made on demand.
#[derive(Debug)]
pub struct Host<'a> {
    /// The state; its `routes` are moved into the tries. For a planned node with per-peer
    /// entries this is its own part only (devices, addresses, sysctls and local entries
    /// are all here); [`Host::lookup`], [`Host::neighbour`] and [`Host::fdb`] see both.
    pub state: NodeState,
    tables: Vec<RouteTable>,
    addrs: HashMap<IpAddr, usize>,
    links: HashMap<String, usize>,
    neigh: HashMap<IpAddr, Vec<usize>>,
    fdb: HashMap<MacAddr, Vec<usize>>,
    peers: Option<PeerParts<'a>>,
}

/// How the kernel ranks routes covering an address within one table: longest prefix, then
/// lowest metric, then the first added (part, then position in the part).
type RouteRank = (std::cmp::Reverse<u8>, u32, usize, usize);

/// The slot of a routing table in [`Host`]'s lookup order.
fn table_slot(t: Table) -> Option<usize> {
    match t {
        Table::LOCAL => Some(0),
        Table::MAIN => Some(1),
        Table::DEFAULT => Some(2),
        _ => None,
    }
}

impl<'a> Host<'a> {
    /// Index a state.
    pub fn new(mut state: NodeState) -> Host<'a> {
        let routes = std::mem::take(&mut state.routes);
        let mut by_table: [Vec<Route>; 3] = Default::default();
        for r in routes {
            let Some(slot) = table_slot(r.table) else {
                continue;
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
            peers: None,
        }
    }

    /// Index a host's own part (`state`) and take its per-peer entries from `peers` on
    /// demand; `host` is its id in the world, as `peers` knows it.
    pub fn with_peers(state: NodeState, peers: Rc<dyn Peers + 'a>, host: HostId) -> Host<'a> {
        let mut h = Host::new(state);
        let parts = (0..peers.len()).map(|_| OnceCell::new()).collect();
        h.peers = Some(PeerParts {
            source: peers,
            host,
            parts,
        });
        h
    }

    /// The best per-peer route for `dst` in table slot `slot` that `keep` accepts: longest
    /// prefix, then lowest metric, then plan order.
    fn peer_lookup(
        &self,
        dst: IpAddr,
        slot: usize,
        keep: &dyn Fn(&Route) -> bool,
    ) -> Option<&Route> {
        let peers = self.peers.as_ref()?;
        let mut parts = Vec::new();
        peers.source.parts_for_route(dst, &mut parts);
        let mut best: Option<(RouteRank, &Route)> = None;
        for p in parts {
            let Some(part) = peers.get(p) else {
                continue;
            };
            for (i, r) in part.routes.iter().enumerate() {
                if table_slot(r.table) != Some(slot) || !r.dst.contains(dst) || !keep(r) {
                    continue;
                }
                let key = (
                    std::cmp::Reverse(r.dst.prefix()),
                    r.metric.unwrap_or(0),
                    p,
                    i,
                );
                if best.as_ref().is_none_or(|(k, _)| key < *k) {
                    best = Some((key, r));
                }
            }
        }
        best.map(|(_, r)| r)
    }

    /// The route the kernel picks for `dst`: local table, then main, then default; longest
    /// prefix, then lowest metric.
    pub fn lookup(&self, dst: IpAddr) -> Option<&Route> {
        self.lookup_where(dst, &|_| true)
    }

    /// The route the kernel would pick for `dst` among the routes `keep` accepts (the
    /// others treated as absent: routes the kernel refused to install).
    pub fn lookup_where(&self, dst: IpAddr, keep: &dyn Fn(&Route) -> bool) -> Option<&Route> {
        self.tables.iter().enumerate().find_map(|(slot, t)| {
            let own = t.covering(dst).into_iter().find(|r| keep(r));
            let peer = self.peer_lookup(dst, slot, keep);
            match (own, peer) {
                // The own part comes first in plan order: a peer route wins only with a
                // longer prefix, or the same prefix and a lower metric.
                (Some(o), Some(p)) => {
                    let better = p.dst.prefix() > o.dst.prefix()
                        || (p.dst.prefix() == o.dst.prefix()
                            && p.metric.unwrap_or(0) < o.metric.unwrap_or(0));
                    Some(if better { p } else { o })
                }
                (o, p) => o.or(p),
            }
        })
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
    pub fn addrs_on<'s>(&'s self, dev: &'s str) -> impl Iterator<Item = &'s Addr> + 's {
        self.state.addrs.iter().filter(move |a| a.dev == dev)
    }

    /// The neighbour entry for `ip` on `dev`.
    pub fn neighbour(&self, dev: &str, ip: IpAddr) -> Option<&Neighbour> {
        let own = self.neigh.get(&ip).and_then(|v| {
            v.iter()
                .map(|&i| &self.state.neighbours[i])
                .find(|n| n.dev == dev)
        });
        own.or_else(|| {
            let peers = self.peers.as_ref()?;
            peers
                .source
                .parts_for_neighbour(ip)
                .iter()
                .filter_map(|&p| peers.get(p))
                .find_map(|part| part.neighbours.iter().find(|n| n.dst == ip && n.dev == dev))
        })
    }

    /// The FDB entry for `mac` on `dev`, else the device's all-zero default entry.
    pub fn fdb(&self, dev: &str, mac: MacAddr) -> Option<&FdbEntry> {
        let find = |m: MacAddr| {
            let own = self.fdb.get(&m).and_then(|v| {
                v.iter()
                    .map(|&i| &self.state.fdb[i])
                    .find(|f| f.dev == dev && f.dst.is_some())
            });
            own.or_else(|| {
                let peers = self.peers.as_ref()?;
                peers
                    .source
                    .parts_for_mac(m)
                    .iter()
                    .filter_map(|&p| peers.get(p))
                    .find_map(|part| {
                        part.fdb
                            .iter()
                            .find(|f| f.mac == m && f.dev == dev && f.dst.is_some())
                    })
            })
        };
        find(mac).or_else(|| find(MacAddr::default()))
    }

    /// Whether the host forwards packets that arrive on `dev` (`ip_forward` and the device's
    /// `forwarding`; unknown counts as on).
    pub fn forwards(&self, dev: &str) -> bool {
        self.state.sysctls.ip_forward != Some(false)
            && self.state.sysctls.forwarding.get(dev) != Some(&false)
    }

    /// The reverse-path filter on `dev` as the kernel applies it: the larger of
    /// `conf.all.rp_filter` and `conf.<dev>.rp_filter` (0 off, 1 strict, 2 loose); 0 when
    /// neither is known (the plan does not set it).
    pub fn rp_filter(&self, dev: &str) -> u8 {
        let r = &self.state.sysctls.rp_filter;
        let all = r.get("all").copied().unwrap_or(0);
        let this = r.get(dev).copied().unwrap_or(0);
        all.max(this).min(2)
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

type Builder<'a> = Box<dyn Fn(HostId) -> Host<'a> + 'a>;

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

/// Every host a packet may cross, and how they are wired.
pub struct World<'a> {
    names: Vec<String>,
    kinds: Vec<HostKind>,
    parents: Vec<Option<HostId>>,
    by_name: HashMap<String, HostId>,
    aliases: HashMap<String, (HostId, String)>,
    missing: HashMap<String, String>,
    hosts: Vec<OnceCell<Host<'a>>>,
    sources: Vec<Source>,
    builder: Option<Builder<'a>>,
    veths: HashMap<(HostId, String), (HostId, String)>,
    addrs: HashMap<IpAddr, Vec<Attachment>>,
    exits: HashSet<IpAddr>,
    masquerade: HashMap<HostId, Masquerade>,
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
            masquerade: HashMap::new(),
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

    /// The source NAT `host` applies to packets leaving the cluster network.
    pub fn set_masquerade(&mut self, host: HostId, rule: Masquerade) {
        self.masquerade.insert(host, rule);
    }

    /// The source NAT of `host`, if it has one.
    pub fn masquerade(&self, host: HostId) -> Option<&Masquerade> {
        self.masquerade.get(&host)
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
        self.hosts[id].get_or_init(|| match &self.builder {
            Some(b) => b(id),
            None => Host::new(NodeState::default()),
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
