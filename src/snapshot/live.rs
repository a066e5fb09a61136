//! Reading a snapshot live: the node's dataplane in one visit to its netns
//! ([`read_node`]: one socket, one thread), beside `netpath pods`'s gathering.
//!
//! Only the device list is required: every other part that cannot be read (rules without
//! permission, /proc of other users' processes …) is recorded in [`Snapshot::unread`] with
//! the reason, and the rest of the snapshot is still taken.

use std::net::IpAddr;

use anyhow::Context;

use super::{PodEntry, Snapshot, Source, Unread, now_rfc3339};
use crate::dataplane::{LinkKind, NodeState, Scope};
use crate::netlink::Netns;
use crate::netlink::node::read_node;
use crate::pods::{self, VethStatus};

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

/// What to read, and where.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// The node's network namespace.
    pub netns: Netns,
    /// The node's name; default: the host name.
    pub node: Option<String>,
    /// How to find pods (`netpath pods`'s options, whose `node` is overwritten by
    /// `netns`); `None` skips the pod map.
    pub pods: Option<pods::Options>,
}

/// Read the node's whole dataplane in `opts.netns`.
///
/// Fails only when the netns cannot be entered or its devices cannot be listed (exit 3
/// for permission problems); everything else that fails is listed in `unread`.
pub fn read_live(opts: &LiveOptions) -> anyhow::Result<Snapshot> {
    let netns = &opts.netns;
    let taken_at = now_rfc3339();
    // The pod map enters many namespaces of its own: on a thread beside the node's read,
    // which enters the node's netns once and reads every part over one socket.
    let (read, pod_map) = std::thread::scope(|s| {
        let pod_map = opts.pods.as_ref().map(|p| {
            let mut p = p.clone();
            p.node = netns.clone();
            s.spawn(move || pod_map(&p))
        });
        (read_node(netns, true), pod_map.map(join))
    });
    let read = read?;
    let links = read.links;
    let mut unread = Vec::new();
    let addrs = take(&mut unread, "addresses", read.addrs);
    let mut warnings: Vec<String> = read
        .undecodable
        .into_iter()
        .map(|m| format!("skipped a kernel message that could not be decoded: {m}"))
        .collect();
    let routes = take(&mut unread, "routes", read.routes);
    let rules = take(
        &mut unread,
        "rules",
        read.rules.unwrap_or_else(|| Ok(Vec::new())),
    );
    let neighbours = take(&mut unread, "neighbours", read.neighbours);
    let fdb = take(&mut unread, "fdb", read.fdb);
    let sysctls = take(&mut unread, "sysctls", read.sysctls);
    let pods = match pod_map {
        None => None,
        Some(Ok((entries, pod_unread))) => {
            unread.extend(pod_unread);
            Some(entries)
        }
        Some(Err(e)) => {
            unread.push(unread_of("pods", &e));
            None
        }
    };
    if matches!(netns, Netns::Path { .. }) && opts.node.is_none() {
        warnings.push(format!(
            "the node is named after this machine's host name; pass --node NAME when netns {} is another node",
            netns.label()
        ));
    }
    let node = opts.node.clone().unwrap_or_else(hostname);
    Ok(Snapshot {
        taken_at,
        source: Source::Live {
            netns: netns.label().to_string(),
        },
        kernel: kernel_release(),
        state: NodeState {
            node,
            links,
            addrs,
            routes,
            rules,
            neighbours,
            fdb,
            sysctls,
        },
        pods,
        unread,
        warnings,
    })
}

fn join<T>(h: std::thread::ScopedJoinHandle<'_, anyhow::Result<T>>) -> anyhow::Result<T> {
    h.join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("a reader thread panicked")))
}

/// The value, or its default with the error recorded as unread.
fn take<T: Default>(unread: &mut Vec<Unread>, what: &str, r: anyhow::Result<T>) -> T {
    r.unwrap_or_else(|e| {
        unread.push(unread_of(what, &e));
        T::default()
    })
}

fn unread_of(what: &str, e: &anyhow::Error) -> Unread {
    Unread {
        what: what.to_string(),
        reason: format!("{e:#}"),
    }
}

/// The veth-to-pod map through `netpath pods`'s gathering and pairing: one entry per host
/// veth whose peer is in a pod's netns, with the pod's identity and netns when known.
fn pod_map(opts: &pods::Options) -> anyhow::Result<(Vec<PodEntry>, Vec<Unread>)> {
    let snap = pods::gather(opts)?;
    let report = pods::analyze(&snap);
    let mut out = Vec::new();
    let node_global: std::collections::HashSet<&str> = snap
        .node_view
        .addrs
        .iter()
        .filter(|a| a.scope == Scope::Universe)
        .map(|a| a.dev.as_str())
        .collect();
    for row in report.veths.iter().filter(|r| r.status == VethStatus::Pod) {
        let pod_ips = row.pod_side.as_ref().is_some_and(|s| !s.addrs.is_empty());
        // A veth with an address on the node's side, into a netns holding no address and
        // no pod identity, links the node to another host (a lab uplink), not to a pod.
        if row.pod.is_none() && (node_global.contains(row.name.as_str()) || !pod_ips) {
            continue;
        }
        let ns = row.netns.as_ref().and_then(|peer| {
            snap.namespaces.iter().find(|n| {
                (peer.inode.is_some() && n.inode == peer.inode)
                    || (peer.nsid.is_some() && n.nsid == peer.nsid)
            })
        });
        let view = ns
            .and_then(|n| n.view.as_ref())
            .and_then(|v| v.as_ref().ok());
        let (namespace, name) = match &row.pod {
            Some(id) => (id.namespace.clone(), id.name.clone()),
            None => (None, None),
        };
        let label = match (&namespace, &name) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            _ => ns.map(|n| n.label()).unwrap_or_else(|| row.name.clone()),
        };
        let ips = match &row.pod_side {
            Some(side) => side.addrs.clone(),
            None => Vec::new(),
        };
        out.push(PodEntry {
            host_veth: row.name.clone(),
            host_ifindex: row.ifindex,
            namespace,
            name,
            netns: ns.map(|n| n.label()),
            ifname: row.pod_side.as_ref().map(|s| s.name.clone()),
            ips,
            state: view.map(|v| NodeState {
                node: label,
                links: v.links.clone(),
                addrs: v.addrs.clone(),
                routes: v.routes.clone(),
                ..Default::default()
            }),
        });
    }
    let unread = report
        .unread
        .iter()
        .map(|u| Unread {
            what: format!("pods: {}", u.what),
            reason: u.reason.clone(),
        })
        .collect();
    Ok((out, unread))
}

/// This machine's host name (`/proc/sys/kernel/hostname`), or `localhost`.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The running kernel's release (`uname -r`).
pub fn kernel_release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The pod addresses a snapshot's node routes to through its veths or bridges: what a
/// summary counts as "pods".
pub fn pod_count(s: &Snapshot) -> usize {
    s.pods.as_ref().map(Vec::len).unwrap_or_else(|| {
        s.state
            .links
            .iter()
            .filter(|l| matches!(l.kind, LinkKind::Veth(ref v) if v.peer_netnsid.is_some()))
            .count()
    })
}

/// The node's global addresses, for a summary.
pub fn global_addrs(s: &Snapshot) -> Vec<IpAddr> {
    s.state
        .addrs
        .iter()
        .filter(|a| a.scope == Scope::Universe && !a.addr.ip().is_loopback())
        .map(|a| a.addr.ip())
        .collect()
}
