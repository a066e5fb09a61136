//! A routing table with longest-prefix-match lookup through a binary prefix trie.

use std::net::IpAddr;

use super::{Route, Table};

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct TrieNode {
    children: [u32; 2],
    /// Indexes into `RouteTable::routes` of the routes whose prefix ends here.
    routes: Vec<u32>,
}

impl TrieNode {
    fn new() -> TrieNode {
        TrieNode {
            children: [NONE, NONE],
            routes: Vec::new(),
        }
    }
}

/// The routes of one table (or of several, when built with [`RouteTable::all`]),
/// indexed for longest-prefix-match lookup. Lookup costs O(address bits), whatever the
/// number of routes.
#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: Vec<Route>,
    nodes: Vec<TrieNode>,
    /// Root node of the IPv4 and IPv6 tries.
    roots: [u32; 2],
}

fn bits_of(addr: &IpAddr) -> (usize, u128, u32) {
    match addr {
        IpAddr::V4(a) => (0, (u32::from(*a) as u128) << 96, 32),
        IpAddr::V6(a) => (1, u128::from(*a), 128),
    }
}

impl RouteTable {
    /// An index over the routes of `table` among `routes`.
    pub fn new<'a>(table: Table, routes: impl IntoIterator<Item = &'a Route>) -> RouteTable {
        Self::build(routes.into_iter().filter(|r| r.table == table).cloned())
    }

    /// An index over all the given routes, whatever their table.
    pub fn all(routes: impl IntoIterator<Item = Route>) -> RouteTable {
        Self::build(routes)
    }

    fn build(routes: impl IntoIterator<Item = Route>) -> RouteTable {
        let mut t = RouteTable {
            routes: Vec::new(),
            nodes: vec![TrieNode::new(), TrieNode::new()],
            roots: [0, 1],
        };
        for r in routes {
            t.insert(r);
        }
        t
    }

    /// Add a route.
    pub fn insert(&mut self, route: Route) {
        let (fam, bits, _) = bits_of(&route.dst.network());
        let mut node = self.roots[fam];
        for i in 0..route.dst.prefix() as u32 {
            let bit = ((bits >> (127 - i)) & 1) as usize;
            let next = self.nodes[node as usize].children[bit];
            node = if next == NONE {
                let id = self.nodes.len() as u32;
                self.nodes.push(TrieNode::new());
                self.nodes[node as usize].children[bit] = id;
                id
            } else {
                next
            };
        }
        let idx = self.routes.len() as u32;
        self.routes.push(route);
        self.nodes[node as usize].routes.push(idx);
    }

    /// Every route whose prefix covers `addr`, longest prefix first, and within one
    /// prefix lowest metric first. The first one is what the kernel would pick within
    /// this table (ignoring TOS and policy rules).
    pub fn covering(&self, addr: IpAddr) -> Vec<&Route> {
        let (fam, bits, width) = bits_of(&addr);
        let mut found: Vec<&[u32]> = Vec::new();
        let mut node = self.roots[fam];
        found.push(&self.nodes[node as usize].routes);
        for i in 0..width {
            let bit = ((bits >> (127 - i)) & 1) as usize;
            node = self.nodes[node as usize].children[bit];
            if node == NONE {
                break;
            }
            found.push(&self.nodes[node as usize].routes);
        }
        let mut out = Vec::new();
        for level in found.into_iter().rev() {
            let mut here: Vec<&Route> = level.iter().map(|&i| &self.routes[i as usize]).collect();
            here.sort_by_key(|r| r.metric.unwrap_or(0));
            out.extend(here);
        }
        out
    }

    /// The route the kernel would pick for `addr` in this table: longest prefix, then
    /// lowest metric.
    pub fn lookup(&self, addr: IpAddr) -> Option<&Route> {
        self.covering(addr).into_iter().next()
    }

    /// All routes in insertion order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// True when there are no routes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::{Nexthop, Protocol, RouteType};

    fn r(dst: &str, dev: &str) -> Route {
        Route::unicast(dst.parse().unwrap(), Nexthop::dev(dev))
    }

    #[test]
    fn longest_prefix_then_metric() {
        let mut lo = r("10.244.0.0/16", "flannel.1");
        lo.metric = Some(5);
        let routes = vec![
            r("0.0.0.0/0", "eth0"),
            lo,
            r("10.244.0.0/16", "other"),
            r("10.244.1.0/24", "cni0"),
            Route::drop(
                RouteType::Blackhole,
                "10.244.2.0/26".parse().unwrap(),
                Protocol::BIRD,
            ),
            r("10.244.1.7/32", "cali1"),
            r("::/0", "eth0"),
            r("fd00::/64", "eth1"),
        ];
        let t = RouteTable::new(Table::MAIN, &routes);
        let dev = |a: &str| {
            t.lookup(a.parse().unwrap())
                .and_then(|r| r.dev())
                .map(str::to_string)
        };
        assert_eq!(dev("10.244.1.7").as_deref(), Some("cali1"));
        assert_eq!(dev("10.244.1.8").as_deref(), Some("cni0"));
        assert_eq!(
            dev("10.244.3.1").as_deref(),
            Some("other"),
            "metric 0 beats metric 5"
        );
        assert_eq!(dev("8.8.8.8").as_deref(), Some("eth0"));
        assert_eq!(
            t.lookup("10.244.2.9".parse().unwrap()).unwrap().kind,
            RouteType::Blackhole
        );
        assert_eq!(dev("fd00::1").as_deref(), Some("eth1"));
        assert_eq!(dev("2001:db8::1").as_deref(), Some("eth0"));
        assert_eq!(t.covering("10.244.1.7".parse().unwrap()).len(), 5);
        let empty = RouteTable::new(Table::LOCAL, &routes);
        assert!(empty.lookup("10.0.0.1".parse().unwrap()).is_none());
    }
}
