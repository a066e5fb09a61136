//! A node's actual state, read live from the kernel of a netns.

use anyhow::Context;

use crate::dataplane::NodeState;
use crate::netlink::{Netns, link, neigh, route, sysctl};

/// Read everything the agent and `check` compare: devices, addresses, routes of every
/// table, neighbours, the FDB and the forwarding sysctls of `netns`. The readers run
/// side by side (each on its own socket and thread in the netns).
pub fn read_state(netns: &Netns) -> anyhow::Result<NodeState> {
    std::thread::scope(|s| {
        let links = s.spawn(|| link::links(netns).context("reading devices"));
        let addrs = s.spawn(|| link::addrs(netns).context("reading addresses"));
        let routes = s.spawn(|| route::dump_routes(netns, None, None).context("reading routes"));
        let neighbours = s.spawn(|| neigh::neighbours(netns).context("reading neighbours"));
        let fdb = s.spawn(|| neigh::fdb(netns).context("reading the FDB"));
        let sysctls = sysctl::sysctls(netns).context("reading sysctls")?;
        let join = |what: &str| anyhow::anyhow!("the thread {what} panicked");
        Ok(NodeState {
            node: String::new(),
            links: links.join().map_err(|_| join("reading devices"))??,
            addrs: addrs.join().map_err(|_| join("reading addresses"))??,
            routes: routes.join().map_err(|_| join("reading routes"))??.routes,
            neighbours: neighbours
                .join()
                .map_err(|_| join("reading neighbours"))??,
            fdb: fdb.join().map_err(|_| join("reading the FDB"))??,
            sysctls,
            ..Default::default()
        })
    })
}
