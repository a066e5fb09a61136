//! A host of the world: the kernel model of its [`NodeState`] ([`Kernel`]: policy rules,
//! route tables, addresses, neighbours, FDB, sysctls), and for a planned host its per-peer
//! entries made on demand ([`Peers`]), which the kernel model asks beside its own state.
//! The walk asks the kernel model every forwarding decision (route lookup, forwarding,
//! reverse-path filter, proxy ARP): the Linux rules live in `crate::dataplane::kernel` only.

use std::cell::OnceCell;
use std::net::IpAddr;
use std::rc::Rc;

use crate::dataplane::kernel::{Extra, Kernel};
use crate::dataplane::{FdbEntry, MacAddr, Neighbour, NodeState, Route, Table};

use super::Member;

/// A host of the world: its state indexed the way the kernel looks it up.
pub type Host<'a> = Kernel<'a>;

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

/// Index a host's own part (`state`) and take its per-peer entries from `peers` on
/// demand; `host` is what it stands for in the cluster, as `peers` knows it.
pub fn with_peers<'a>(state: NodeState, peers: Rc<dyn Peers + 'a>, host: Member) -> Host<'a> {
    let parts = (0..peers.len()).map(|_| OnceCell::new()).collect();
    Kernel::new(state).with_extra(Box::new(PeerParts {
        source: peers,
        host,
        parts,
    }))
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

/// How the kernel ranks routes covering an address within one table: longest prefix, then
/// lowest metric, then the first added (part, then position in the part).
type RouteRank = (std::cmp::Reverse<u8>, u32, usize, usize);

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

impl Extra for PeerParts<'_> {
    fn route(&self, table: Table, dst: IpAddr, keep: &dyn Fn(&Route) -> bool) -> Option<&Route> {
        let mut parts = Vec::new();
        self.source.parts_for_route(dst, &mut parts);
        let mut best: Option<(RouteRank, &Route)> = None;
        for p in parts {
            let Some(part) = self.get(p) else {
                continue;
            };
            for (i, r) in part.routes.iter().enumerate() {
                if r.table != table || !r.dst.contains(dst) || !keep(r) {
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

    fn neighbour(&self, dev: &str, ip: IpAddr) -> Option<&Neighbour> {
        self.source
            .parts_for_neighbour(ip)
            .iter()
            .filter_map(|&p| self.get(p))
            .find_map(|part| part.neighbours.iter().find(|n| n.dst == ip && n.dev == dev))
    }

    fn fdb(&self, dev: &str, mac: MacAddr) -> Option<&FdbEntry> {
        self.source
            .parts_for_mac(mac)
            .iter()
            .filter_map(|&p| self.get(p))
            .find_map(|part| {
                part.fdb
                    .iter()
                    .find(|f| f.mac == mac && f.dev == dev && f.dst.is_some())
            })
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
