//! A host of the world: its [`NodeState`] indexed for the walk (route tries, addresses,
//! neighbours, FDB), and for a planned host its per-peer entries made on demand
//! ([`Peers`]). The kernel's decisions the walk asks about (route lookup, forwarding,
//! reverse-path filter, proxy ARP) are the methods of [`Host`], in this one place.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::rc::Rc;

use crate::dataplane::{
    Addr, FdbEntry, Link, MacAddr, Neighbour, NodeState, Route, RouteTable, Table,
};

use super::Member;

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
    fn part(&self, host: Member, part: usize) -> NodeState;
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
    host: Member,
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
    /// demand; `host` is what it stands for in the cluster, as `peers` knows it.
    pub fn with_peers(state: NodeState, peers: Rc<dyn Peers + 'a>, host: Member) -> Host<'a> {
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
