//! A node's state assembled from command outputs (what users paste, or a sosreport):
//! `ip-route.txt`, `ip-link.txt`, `ip-addr.txt`, `ip-neigh.txt`, `bridge-fdb.txt`,
//! `sysctl.txt`, under lenient names (see [`SnapshotFile::classify`]). Pure: the files are
//! read by `crate::snapshot::text_dump`.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::collections::HashSet;
use std::hash::Hash;

use super::{Warnings, decode_text, parse_routes_bytes};
use super::{bridge_fdb, ip_addr, ip_link, ip_neigh, sysctl};
use crate::dataplane::NodeState;

/// What a file of a snapshot directory holds, known from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotFile {
    /// `ip route` / `ip -j route` / `route -n` / `/proc/net/route` (any [`super::RouteFormat`]).
    Routes,
    /// `ip -d link` / `ip -j -d link`.
    Links,
    /// `ip addr` / `ip -j addr`.
    Addrs,
    /// `ip neigh` / `ip -j neigh`.
    Neighbours,
    /// `bridge fdb` / `bridge -j fdb`.
    Fdb,
    /// `sysctl -a`.
    Sysctl,
}

impl SnapshotFile {
    /// Every kind, in the order they are read.
    pub const ALL: [SnapshotFile; 6] = [
        SnapshotFile::Links,
        SnapshotFile::Addrs,
        SnapshotFile::Routes,
        SnapshotFile::Neighbours,
        SnapshotFile::Fdb,
        SnapshotFile::Sysctl,
    ];

    /// The command whose output the file holds.
    pub fn command(&self) -> &'static str {
        match self {
            SnapshotFile::Routes => "ip route",
            SnapshotFile::Links => "ip -d link",
            SnapshotFile::Addrs => "ip addr",
            SnapshotFile::Neighbours => "ip neigh",
            SnapshotFile::Fdb => "bridge fdb",
            SnapshotFile::Sysctl => "sysctl -a",
        }
    }

    /// The file name netpath suggests (`ip-route.txt` …).
    pub fn file_name(&self) -> &'static str {
        match self {
            SnapshotFile::Routes => "ip-route.txt",
            SnapshotFile::Links => "ip-link.txt",
            SnapshotFile::Addrs => "ip-addr.txt",
            SnapshotFile::Neighbours => "ip-neigh.txt",
            SnapshotFile::Fdb => "bridge-fdb.txt",
            SnapshotFile::Sysctl => "sysctl.txt",
        }
    }

    /// What a file holds, from its name: case, extension (`.txt`, `.json`, `.out`, `.log`),
    /// and `-`/`_`/`.`/space separators do not matter; options and `show` are skipped; the
    /// object may be abbreviated as `ip` accepts it. So `ip-route.txt`, `ip_route`, `ip-r`,
    /// `ip-j-route.json`, `ip_route_show_table_all`, `ip_-6_route`, `route-n.txt`,
    /// `netstat-rn`, `proc-net-route`, `ip-d-link`, `ip_-s_-d_link`, `ip-a`,
    /// `ip_-d_address`, `ip-neigh`, `ip-n`, `arp`, `bridge-fdb-show`, `fdb`, `sysctl-a`,
    /// `sysctl_-a` all work. `None` for anything else.
    pub fn classify(file_name: &str) -> Option<SnapshotFile> {
        let mut name = file_name.to_ascii_lowercase();
        loop {
            let before = name.len();
            for ext in [".txt", ".json", ".out", ".log", ".dump"] {
                if let Some(s) = name.strip_suffix(ext) {
                    name = s.to_string();
                }
            }
            if name.len() == before {
                break;
            }
        }
        let words: Vec<&str> = name
            .split(['-', '_', '.', ' '])
            .filter(|w| !w.is_empty() && *w != "sudo" && *w != "cat")
            .collect();
        let first = *words.first()?;
        let leaders = [
            "ip",
            "bridge",
            "route",
            "routes",
            "netstat",
            "sysctl",
            "proc",
            "link",
            "links",
            "addr",
            "addrs",
            "address",
            "addresses",
            "neigh",
            "neighbours",
            "neighbors",
            "neighbour",
            "neighbor",
            "fdb",
            "arp",
            "sysctls",
        ];
        if !leaders.contains(&first) {
            return None;
        }
        let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
        if has(&["sysctl", "sysctls"]) {
            return Some(SnapshotFile::Sysctl);
        }
        if has(&["fdb"]) {
            return Some(SnapshotFile::Fdb);
        }
        if has(&["route", "routes", "r", "ro", "rou", "rout"])
            || (first == "netstat" && has(&["rn", "nr", "r", "rne", "rnee"]))
        {
            return Some(SnapshotFile::Routes);
        }
        if has(&["link", "links", "l", "li", "lin"]) {
            return Some(SnapshotFile::Links);
        }
        if has(&["addr", "addrs", "address", "addresses", "a", "ad", "add"]) {
            return Some(SnapshotFile::Addrs);
        }
        if has(&[
            "neigh",
            "neighbour",
            "neighbor",
            "neighbours",
            "neighbors",
            "n",
            "ne",
            "nei",
            "arp",
        ]) {
            return Some(SnapshotFile::Neighbours);
        }
        None
    }
}

fn push_unique<T: Clone + Eq + Hash>(into: &mut Vec<T>, seen: &mut HashSet<T>, items: Vec<T>) {
    for i in items {
        if seen.insert(i.clone()) {
            into.push(i);
        }
    }
}

/// One command output of a text dump, read by the caller: what it holds, its file name,
/// the path to name in messages, and its bytes.
#[derive(Debug, Clone)]
pub struct DumpFile {
    /// What it holds ([`SnapshotFile::classify`] of its name).
    pub kind: SnapshotFile,
    /// Its file name (`ip-route.txt`), prefixed to its warnings.
    pub name: String,
    /// Its path, as errors name it.
    pub path: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// Assemble a node's state from command outputs: `ip route` (or `ip -j route`, `route -n`,
/// /proc/net/route; several, e.g. `ip-route.txt` and `ip-6-route.txt`, are merged),
/// `ip -d link`, `ip addr`, `ip neigh`, `bridge fdb` and `sysctl -a`. Every kind is
/// optional; the warnings (after `warnings`, the caller's own) say which were missing and
/// each parser's own warnings (prefixed by the file name). Without an `ip -d link` output
/// the devices are read from `ip addr` (kinds unknown). Pure: the caller reads the files
/// (`crate::snapshot::text_dump` reads a directory).
///
/// Errors: no output at all (`what` names where they were looked for), or one cannot be
/// parsed (the message names the file and the line).
pub fn node_from_dumps(
    node: String,
    mut files: Vec<DumpFile>,
    mut warnings: Vec<String>,
    what: &str,
) -> Result<(NodeState, Vec<String>)> {
    let mut state = NodeState {
        node,
        ..NodeState::default()
    };
    let mut found: HashSet<SnapshotFile> = HashSet::new();
    let mut link_names: HashSet<String> = HashSet::new();
    let mut seen_routes = HashSet::new();
    let mut seen_addrs = HashSet::new();
    let mut seen_neigh = HashSet::new();
    let mut seen_fdb = HashSet::new();
    let mut addr_texts: Vec<(String, String)> = Vec::new();
    // Links first, so that addresses can fill in for a missing ip link file.
    files.sort_by_key(|f| SnapshotFile::ALL.iter().position(|x| *x == f.kind));
    for DumpFile {
        kind,
        name: fname,
        path,
        bytes,
    } in files
    {
        let ctx = || format!("reading {path} as `{}` output", kind.command());
        let mut w = Warnings::default();
        match kind {
            SnapshotFile::Routes => {
                let p = parse_routes_bytes(&bytes).with_context(ctx)?;
                for m in p.warnings {
                    w.add(m);
                }
                push_unique(&mut state.routes, &mut seen_routes, p.routes);
            }
            SnapshotFile::Links => {
                let text = decode_text(&bytes).with_context(ctx)?;
                for l in ip_link::links_in(&text, &mut w).with_context(ctx)? {
                    if link_names.insert(l.name.clone()) {
                        state.links.push(l);
                    }
                }
            }
            SnapshotFile::Addrs => {
                let text = decode_text(&bytes).with_context(ctx)?;
                let a = ip_addr::addrs_in(&text, &mut w).with_context(ctx)?;
                push_unique(&mut state.addrs, &mut seen_addrs, a);
                addr_texts.push((fname.clone(), text.into_owned()));
            }
            SnapshotFile::Neighbours => {
                let text = decode_text(&bytes).with_context(ctx)?;
                let n = ip_neigh::neighbours_in(&text, &mut w).with_context(ctx)?;
                push_unique(&mut state.neighbours, &mut seen_neigh, n);
            }
            SnapshotFile::Fdb => {
                let text = decode_text(&bytes).with_context(ctx)?;
                let f = bridge_fdb::fdb_in(&text, &mut w).with_context(ctx)?;
                push_unique(&mut state.fdb, &mut seen_fdb, f);
            }
            SnapshotFile::Sysctl => {
                let text = decode_text(&bytes).with_context(ctx)?;
                let s = sysctl::sysctls_in(&text, &mut w).with_context(ctx)?;
                merge_sysctls(&mut state.sysctls, s);
            }
        }
        found.insert(kind);
        warnings.extend(w.finish().into_iter().map(|m| format!("{fname}: {m}")));
    }
    if found.is_empty() {
        bail!(
            "no command outputs in {what}: expected files named ip-route.txt (or ip-route.json, route-n.txt), ip-link.txt, ip-addr.txt, ip-neigh.txt, bridge-fdb.txt, sysctl.txt"
        );
    }
    if !found.contains(&SnapshotFile::Links) && !addr_texts.is_empty() {
        // `ip addr` blocks carry each device's header: index, name, mtu, state, MAC.
        for (fname, text) in &addr_texts {
            let mut w = Warnings::default();
            if let Ok(links) = ip_link::links_in(text, &mut w) {
                for l in links {
                    if link_names.insert(l.name.clone()) {
                        state.links.push(l);
                    }
                }
                warnings.push(format!(
                    "devices read from {fname} (no ip -d link file): their kinds (veth, vxlan, bridge) are unknown"
                ));
            }
        }
    }
    for kind in SnapshotFile::ALL {
        if !found.contains(&kind) {
            warnings.push(format!(
                "missing: no `{}` output ({}); the snapshot has no {}",
                kind.command(),
                kind.file_name(),
                match kind {
                    SnapshotFile::Routes => "routes",
                    SnapshotFile::Links => "device details",
                    SnapshotFile::Addrs => "addresses",
                    SnapshotFile::Neighbours => "neighbour entries",
                    SnapshotFile::Fdb => "FDB entries",
                    SnapshotFile::Sysctl => "sysctls",
                }
            ));
        }
    }
    Ok((state, warnings))
}

fn merge_sysctls(into: &mut crate::dataplane::Sysctls, s: crate::dataplane::Sysctls) {
    if s.ip_forward.is_some() {
        into.ip_forward = s.ip_forward;
    }
    if s.ipv6_forwarding.is_some() {
        into.ipv6_forwarding = s.ipv6_forwarding;
    }
    into.forwarding.extend(s.forwarding);
    into.rp_filter.extend(s.rp_filter);
    into.proxy_arp.extend(s.proxy_arp);
}
