//! The Linux forwarding rules, once: a node's state indexed the way the kernel looks it up
//! (route tables, policy rules, addresses, neighbours, FDB, sysctls), and the lookups
//! themselves — policy rules in order (selectors, `goto`, `not`, `suppress_prefixlength`,
//! rule actions), longest prefix then lowest metric in each table, `throw`, forwarding,
//! the reverse-path filter and proxy ARP.
//!
//! `routes get` (live and offline) and trace's hosts ask the same [`Kernel`]. Pure: no I/O;
//! the live kernel's answers come in as [`RouteLookup`]s filled by `crate::netlink`.

mod policy;
mod query;
mod sysctls;
mod verdict;

use std::collections::HashMap;
use std::net::IpAddr;

use super::{
    Addr, Family, FdbEntry, Link, MacAddr, Neighbour, NodeState, Route, RouteTable, RouteType,
    Rule, Table,
};

pub use policy::{Decision, Resolution, Step, StepEnd, rule_matches};
pub use query::{KernelAnswer, RouteLookup, RouteQuery, errno_text};
pub use sysctls::RpFilter;
pub use verdict::{Verdict, verdict};

/// Entries a node has beyond its indexed state, made on demand (a planned node's entries
/// for each other part of the cluster): the kernel model asks them beside its own.
pub trait Extra {
    /// The best route covering `dst` in `table` that `keep` accepts (longest prefix, then
    /// lowest metric, then the first added).
    fn route(&self, table: Table, dst: IpAddr, keep: &dyn Fn(&Route) -> bool) -> Option<&Route>;
    /// The neighbour entry for `ip` on `dev`.
    fn neighbour(&self, dev: &str, ip: IpAddr) -> Option<&Neighbour>;
    /// The FDB entry with a destination for `mac` on `dev`.
    fn fdb(&self, dev: &str, mac: MacAddr) -> Option<&FdbEntry>;
}

/// A node's [`NodeState`], indexed for lookups: routes in one prefix trie per table,
/// policy rules per family (the kernel's three defaults when none were recorded),
/// addresses, devices, neighbours and FDB by key.
pub struct Kernel<'a> {
    /// The state; its `routes` are moved into the tables.
    pub state: NodeState,
    /// The tables, by id.
    tables: Vec<(Table, RouteTable)>,
    /// IPv4 and IPv6 rules in the kernel's order.
    rules: [Vec<Rule>; 2],
    addrs: HashMap<IpAddr, usize>,
    links: HashMap<String, usize>,
    neigh: HashMap<IpAddr, Vec<usize>>,
    fdb: HashMap<MacAddr, Vec<usize>>,
    extra: Option<Box<dyn Extra + 'a>>,
}

impl std::fmt::Debug for Kernel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("node", &self.state.node)
            .field("tables", &self.tables.len())
            .field("rules", &(self.rules[0].len() + self.rules[1].len()))
            .field("extra", &self.extra.is_some())
            .finish()
    }
}

fn family_slot(f: Family) -> usize {
    match f {
        Family::Inet => 0,
        Family::Inet6 => 1,
    }
}

impl<'a> Kernel<'a> {
    /// Index a state.
    pub fn new(mut state: NodeState) -> Kernel<'a> {
        let routes = std::mem::take(&mut state.routes);
        let mut by_table: Vec<(Table, Vec<Route>)> = Vec::new();
        for r in routes {
            match by_table.iter_mut().find(|(t, _)| *t == r.table) {
                Some((_, v)) => v.push(r),
                None => by_table.push((r.table, vec![r])),
            }
        }
        let tables = by_table
            .into_iter()
            .map(|(t, v)| (t, RouteTable::all(v)))
            .collect();
        let rules = [Family::Inet, Family::Inet6].map(|f| {
            let mut of: Vec<Rule> = state
                .rules
                .iter()
                .filter(|r| r.family == f)
                .cloned()
                .collect();
            if of.is_empty() {
                of = Rule::defaults(f);
            }
            // The kernel keeps rules by priority, in the order they were added within one.
            of.sort_by_key(|r| r.priority);
            of
        });
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
        Kernel {
            state,
            tables,
            rules,
            addrs,
            links,
            neigh,
            fdb,
            extra: None,
        }
    }

    /// Add the entries made on demand by `extra`.
    pub fn with_extra(mut self, extra: Box<dyn Extra + 'a>) -> Kernel<'a> {
        self.extra = Some(extra);
        self
    }

    /// The policy rules of `family`, in the kernel's order.
    pub fn rules(&self, family: Family) -> &[Rule] {
        &self.rules[family_slot(family)]
    }

    /// True when `family` has rules beside the kernel's three defaults.
    pub fn has_policy_rules(&self, family: Family) -> bool {
        self.rules(family) != Rule::defaults(family).as_slice()
    }

    /// The indexed routes of `table`, if it has any.
    pub fn table(&self, table: Table) -> Option<&RouteTable> {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, rt)| rt)
    }

    /// The route the kernel picks for `dst` in an output lookup from the node (no source,
    /// no mark): the policy rules in order, longest prefix then lowest metric in each table.
    /// `None` when nothing routes it (no route, or a rule drops it).
    pub fn lookup(&self, dst: IpAddr) -> Option<&Route> {
        self.lookup_where(dst, &|_| true)
    }

    /// Like [`Kernel::lookup`] among the routes `keep` accepts (the others treated as
    /// absent: routes the kernel refused to install).
    pub fn lookup_where(&self, dst: IpAddr, keep: &dyn Fn(&Route) -> bool) -> Option<&Route> {
        self.decide(&RouteQuery::to(dst), keep).route()
    }

    /// The route the kernel picks for `q`, and why not when none: the walk of
    /// [`Kernel::resolve`] without recording it.
    pub fn route_for(&self, q: &RouteQuery) -> Option<&Route> {
        self.decide(q, &|_| true).route()
    }

    /// The device named `name`.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.get(name).map(|&i| &self.state.links[i])
    }

    /// The address entry for `ip`, when the node has that address.
    pub fn owns(&self, ip: IpAddr) -> Option<&Addr> {
        self.addrs.get(&ip).map(|&i| &self.state.addrs[i])
    }

    /// The node's addresses on `dev`.
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
        own.or_else(|| self.extra.as_ref()?.neighbour(dev, ip))
    }

    /// The FDB entry for `mac` on `dev`, else the device's all-zero default entry.
    pub fn fdb(&self, dev: &str, mac: MacAddr) -> Option<&FdbEntry> {
        let find = |m: MacAddr| {
            let own = self.fdb.get(&m).and_then(|v| {
                v.iter()
                    .map(|&i| &self.state.fdb[i])
                    .find(|f| f.dev == dev && f.dst.is_some())
            });
            own.or_else(|| self.extra.as_ref()?.fdb(dev, m))
        };
        find(mac).or_else(|| find(MacAddr::default()))
    }

    /// Whether the node forwards IPv4 packets that arrive on `dev` (`ip_forward` and the
    /// device's `forwarding`; unknown counts as on).
    pub fn forwards(&self, dev: &str) -> bool {
        self.state.sysctls.forwards(dev)
    }

    /// The reverse-path filter on `dev` as the kernel applies it: the larger of
    /// `conf.all.rp_filter` and `conf.<dev>.rp_filter`; off when neither is known.
    pub fn rp_filter(&self, dev: &str) -> RpFilter {
        self.state.sysctls.rp_filter_mode(dev)
    }

    /// The reverse-path filter's verdict on a packet from `src` arriving on `dev`: `None`
    /// when it passes (filter off; the route back to `src` is a unicast route through
    /// `dev`; in loose mode, any unicast route back). Otherwise the mode that refused it.
    pub fn rp_refuses(&self, dev: &str, src: IpAddr) -> Option<RpFilter> {
        let mode = self.rp_filter(dev);
        if mode == RpFilter::Off {
            return None;
        }
        let back = self.lookup(src).filter(|r| r.kind == RouteType::Unicast);
        let passes = match back {
            None => false,
            Some(r) if mode == RpFilter::Strict => {
                r.nexthops.iter().any(|h| h.dev.as_deref() == Some(dev))
            }
            Some(_) => true,
        };
        (!passes).then_some(mode)
    }

    /// Whether proxy ARP is on for `dev`.
    pub fn proxy_arp(&self, dev: &str) -> bool {
        self.state.sysctls.proxy_arp_on(dev)
    }

    /// The route through which the node answers ARP for `target` on `dev` by proxy: proxy
    /// ARP is on for `dev` and the node routes `target` (unicast) out of another device.
    pub fn proxy_arp_route(&self, dev: &str, target: IpAddr) -> Option<&Route> {
        if !self.proxy_arp(dev) {
            return None;
        }
        self.lookup(target)
            .filter(|r| r.kind == RouteType::Unicast && r.dev() != Some(dev))
    }
}

#[cfg(test)]
mod tests;
