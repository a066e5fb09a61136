//! A node's state assembled from a directory of command outputs (what users paste, or a
//! sosreport): `ip-route.txt`, `ip-link.txt`, `ip-addr.txt`, `ip-neigh.txt`,
//! `bridge-fdb.txt`, `sysctl.txt`, under lenient names (see [`SnapshotFile::classify`]).

use std::collections::HashSet;
use std::hash::Hash;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

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

/// The files to look at: the directory's own, and a sosreport's `sos_commands/networking`
/// and `sos_commands/kernel`. The flag says whether the file is at the top level.
fn candidates(dir: &Path) -> Result<Vec<(PathBuf, bool)>> {
    let mut out = Vec::new();
    let subdirs = [
        (dir.to_path_buf(), true),
        (dir.join("sos_commands").join("networking"), false),
        (dir.join("sos_commands").join("kernel"), false),
    ];
    for (d, top) in subdirs {
        if !top && !d.is_dir() {
            continue;
        }
        let rd = std::fs::read_dir(&d)
            .with_context(|| format!("cannot read snapshot directory {}", d.display()))?;
        let mut files = Vec::new();
        for e in rd {
            let e = e.with_context(|| format!("cannot read snapshot directory {}", d.display()))?;
            let p = e.path();
            if p.is_file() {
                files.push(p);
            }
        }
        files.sort();
        out.extend(files.into_iter().map(|p| (p, top)));
    }
    Ok(out)
}

/// Assemble a node's state from a directory of command outputs: `ip route` (or `ip -j
/// route`, `route -n`, /proc/net/route; several files, e.g. `ip-route.txt` and
/// `ip-6-route.txt`, are merged), `ip -d link`, `ip addr`, `ip neigh`, `bridge fdb` and
/// `sysctl -a`, each under a name [`SnapshotFile::classify`] knows. Every file is optional;
/// the warnings say which were missing, which files were ignored, and each parser's own
/// warnings (prefixed by the file name). Without an `ip -d link` file the devices are read
/// from `ip addr` (kinds unknown). The node is named after a `hostname` file, or the
/// directory.
///
/// Errors: the directory cannot be read, it holds none of these files, or a file cannot
/// be parsed (the message names the file and the line).
pub fn node_from_dir(dir: &Path) -> Result<(NodeState, Vec<String>)> {
    if !dir.is_dir() {
        bail!(
            "{} is not a directory: a text snapshot is a directory holding files like ip-route.txt, ip-link.txt, ip-addr.txt, ip-neigh.txt, bridge-fdb.txt, sysctl.txt",
            dir.display()
        );
    }
    let mut warnings = Vec::new();
    let mut state = NodeState {
        node: node_name(dir),
        ..NodeState::default()
    };
    let mut found: HashSet<SnapshotFile> = HashSet::new();
    let mut link_names: HashSet<String> = HashSet::new();
    let mut seen_routes = HashSet::new();
    let mut seen_addrs = HashSet::new();
    let mut seen_neigh = HashSet::new();
    let mut seen_fdb = HashSet::new();
    let mut addr_texts: Vec<(String, String)> = Vec::new();
    let mut files = Vec::new();
    for (path, top) in candidates(dir)? {
        let fname = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        match SnapshotFile::classify(&fname) {
            Some(kind) => files.push((kind, path, fname)),
            None => {
                if top && fname != "hostname" && !fname.starts_with('.') {
                    warnings.push(format!(
                        "ignored {fname}: not a name netpath knows (ip-route.txt, ip-link.txt, ip-addr.txt, ip-neigh.txt, bridge-fdb.txt, sysctl.txt …)"
                    ));
                }
            }
        }
    }
    // Links first, so that addresses can fill in for a missing ip link file.
    files.sort_by_key(|(k, _, _)| SnapshotFile::ALL.iter().position(|x| x == k));
    for (kind, path, fname) in files {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let ctx = || format!("reading {} as `{}` output", path.display(), kind.command());
        let mut w = Warnings::default();
        match kind {
            SnapshotFile::Routes => {
                let p = parse_routes_bytes(&bytes).with_context(ctx)?;
                for m in p.warnings {
                    w.push(m);
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
            "no command outputs in {}: expected files named ip-route.txt (or ip-route.json, route-n.txt), ip-link.txt, ip-addr.txt, ip-neigh.txt, bridge-fdb.txt, sysctl.txt",
            dir.display()
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

fn node_name(dir: &Path) -> String {
    if let Ok(h) = std::fs::read_to_string(dir.join("hostname"))
        && let Some(first) = h.lines().map(str::trim).find(|l| !l.is_empty())
    {
        return first.to_string();
    }
    let canon = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    canon
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}
