//! A node's whole dataplane, read in one visit to its netns.
//!
//! One [`RtSocket`] is opened inside the netns, together with the forwarding sysctls (read
//! from /proc/sys/net on that same visit: the kernel resolves it against the reading
//! thread's netns); devices, addresses, routes, rules, neighbours and the FDB are then
//! dumped one after the other over that socket on the caller's thread. No thread per
//! reader, no second entry into the netns: on a loaded machine each hand-off between
//! threads waits for the scheduler, which cost more wall time than the reads themselves.

use std::path::Path;

use anyhow::Context;

use super::Netns;
use super::socket::RtSocket;
use super::sysctl;
use crate::dataplane::{Addr, FdbEntry, Link, Neighbour, Route, Rule, Sysctls};

/// What [`read_node`] read: the devices (without which nothing else can be named), and
/// every other part or the reason it could not be read.
#[derive(Debug)]
pub struct NodeRead {
    /// Every device (`ip -d link`).
    pub links: Vec<Link>,
    /// Every address (`ip addr`).
    pub addrs: anyhow::Result<Vec<Addr>>,
    /// The routes of every table, IPv4 then IPv6, cached clones left out.
    pub routes: anyhow::Result<Vec<Route>>,
    /// The policy rules, when they were asked for.
    pub rules: Option<anyhow::Result<Vec<Rule>>>,
    /// The IPv4 and IPv6 neighbours, proxy entries left out.
    pub neighbours: anyhow::Result<Vec<Neighbour>>,
    /// The bridge forwarding database.
    pub fdb: anyhow::Result<Vec<FdbEntry>>,
    /// The forwarding sysctls.
    pub sysctls: anyhow::Result<Sysctls>,
    /// Kernel messages that could not be decoded (each described), skipped.
    pub undecodable: Vec<String>,
}

/// Read the node's dataplane in `netns` (rules too when `rules`), entering the netns once.
///
/// Fails only when the netns cannot be entered, the socket cannot be opened or the devices
/// cannot be listed (exit 3 for permission problems); each other part carries its own
/// result.
pub fn read_node(netns: &Netns, rules: bool) -> anyhow::Result<NodeRead> {
    let (mut sock, sysctls) =
        RtSocket::open_in_with(netns, || sysctl::read_from(Path::new("/proc/sys/net")))?;
    let links = sock
        .links()
        .with_context(|| format!("reading the devices of netns {}", netns.label()))?;
    let addrs = sock.addrs_of(&links);
    let routes = sock.routes(&links, None, None);
    let rules = rules.then(|| sock.rules());
    let neighbours = sock.neighbours(&links);
    let fdb = sock.fdb(&links);
    let undecodable = sock.take_undecodable();
    Ok(NodeRead {
        links,
        addrs,
        routes,
        rules,
        neighbours,
        fdb,
        sysctls,
        undecodable,
    })
}
