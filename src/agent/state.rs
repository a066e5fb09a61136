//! A node's actual state, read live from the kernel of a netns.

use anyhow::Context;

use crate::dataplane::NodeState;
use crate::netlink::Netns;
use crate::netlink::node::read_node;

/// Read everything the agent and `check` compare: devices, addresses, routes of every
/// table, neighbours, the FDB and the forwarding sysctls of `netns`, entering the netns
/// once and reading over one socket on this thread.
pub fn read_state(netns: &Netns) -> anyhow::Result<NodeState> {
    let read = read_node(netns, false)?;
    Ok(NodeState {
        node: String::new(),
        sysctls: read.sysctls.context("reading sysctls")?,
        links: read.links,
        addrs: read.addrs.context("reading addresses")?,
        routes: read.routes.context("reading routes")?,
        neighbours: read.neighbours.context("reading neighbours")?,
        fdb: read.fdb.context("reading the FDB")?,
        ..Default::default()
    })
}
