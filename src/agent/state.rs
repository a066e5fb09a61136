//! A node's actual state, read live from the kernel of a netns.

use anyhow::Context;

use crate::dataplane::NodeState;
use crate::netlink::{Netns, link, neigh, route, sysctl};

/// Read everything the agent and `check` compare: devices, addresses, routes of every
/// table, neighbours, the FDB and the forwarding sysctls of `netns`.
pub fn read_state(netns: &Netns) -> anyhow::Result<NodeState> {
    let links = link::links(netns).context("reading devices")?;
    let addrs = link::addrs(netns).context("reading addresses")?;
    let routes = route::dump_routes(netns, None)
        .context("reading routes")?
        .routes;
    let neighbours = neigh::neighbours(netns).context("reading neighbours")?;
    let fdb = neigh::fdb(netns).context("reading the FDB")?;
    let sysctls = sysctl::sysctls(netns).context("reading sysctls")?;
    Ok(NodeState {
        node: String::new(),
        links,
        addrs,
        routes,
        neighbours,
        fdb,
        sysctls,
        ..Default::default()
    })
}
