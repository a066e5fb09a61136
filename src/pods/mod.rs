//! `netpath pods`: map the host ends of veth pairs to pods, and find what dead pods left.
//!
//! Three steps, kept apart so the logic is testable without a kernel:
//! - [`gather`] reads the node: its links, addresses and routes; the network namespaces
//!   under the netns directories and behind `/proc/*/ns/net` (deduplicated by inode) with
//!   the id the node gives each one (RTM_GETNSID); inside the namespaces that hold a veth
//!   peer, their links, addresses and routes; the CNI result cache; an optional pod list.
//!   What cannot be read is recorded with the reason, never fatal unless the node itself
//!   cannot be read. The result is a [`Snapshot`].
//! - [`analyze`] pairs every host veth with its peer (`IFLA_LINK` + `IFLA_LINK_NETNSID`
//!   against the namespaces' ids), names the pod (CNI cache, then the pod list by IP),
//!   cross-checks Calico's veth name, checks the host route, state and MTU, and lists the
//!   findings. Pure: no I/O.
//! - `crate::render::pods` prints the [`Report`].

pub mod analyze;
mod cache_rows;
mod checks;
pub mod cni;
pub mod discover;
pub mod gather;
pub mod kube;
mod pair;
pub mod report;

use std::path::PathBuf;

use serde::Serialize;

use crate::dataplane::{Addr, Link, Route};

pub use crate::findings::Severity;
pub use analyze::analyze;
pub use checks::mtu_limit;
pub use gather::{Options, gather};
pub use report::{Finding, FindingKind, Report, VethRow, VethStatus};

/// What one network namespace holds (the parts `pods` reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetnsView {
    /// Devices.
    pub links: Vec<Link>,
    /// Addresses.
    pub addrs: Vec<Addr>,
    /// Main-table routes, IPv4 and IPv6.
    pub routes: Vec<Route>,
}

/// A network namespace found on the node (other than the node's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodNetns {
    /// The namespace's inode: the same whatever file it was reached through. `None` for a
    /// namespace known only by a process's pid (its file could not be opened).
    pub inode: Option<u64>,
    /// How it was found, for people: `cni-…` for a named netns, `pid 4242 (pause)` for a
    /// process, the path for a CNI cache reference.
    pub names: Vec<String>,
    /// The files it was reached through.
    pub paths: Vec<PathBuf>,
    /// The id the node's netns gives it (`ip netns list-id`), if any.
    pub nsid: Option<i32>,
    /// Why its id could not be asked, if it could not.
    pub nsid_error: Option<String>,
    /// What is inside, when it was read (or why it could not be).
    pub view: Option<Result<NetnsView, String>>,
}

impl PodNetns {
    /// The name to show: the first one found.
    pub fn label(&self) -> String {
        self.names
            .first()
            .cloned()
            .unwrap_or_else(|| match (self.inode, self.nsid) {
                (Some(i), _) => format!("netns inode {i}"),
                (None, Some(id)) => format!("netns id {id}"),
                (None, None) => "netns ?".into(),
            })
    }
}

/// Where a CNI cache entry's `netns` path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetnsRef {
    /// The entry names no netns.
    Unset,
    /// A namespace of [`Snapshot::namespaces`], by inode.
    Found(u64),
    /// The namespace is gone (why).
    Gone(String),
    /// Could not tell (why: e.g. permission denied).
    Unknown(String),
}

/// Something that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unread {
    /// What (a path, a netns, a part of the scan).
    pub what: String,
    /// Why, with the fix when there is one.
    pub reason: String,
}

impl Unread {
    /// Build one.
    pub fn new(what: impl Into<String>, reason: impl Into<String>) -> Unread {
        Unread {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

/// Everything [`gather`] read: the input of [`analyze`].
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The node's netns, as the user named it (`current` by default).
    pub node: String,
    /// What the node's netns holds.
    pub node_view: NetnsView,
    /// The other namespaces found.
    pub namespaces: Vec<PodNetns>,
    /// False when some namespaces may have been missed (e.g. processes whose netns could
    /// not be read): a veth whose peer is not found is then "unknown", not "leaked".
    pub discovery_complete: bool,
    /// Where the CNI cache was read from, if it was.
    pub cache_dir: Option<PathBuf>,
    /// CNI cache files with where their netns leads.
    pub cache: Vec<(cni::CacheFile, NetnsRef)>,
    /// Pods from `--pods`.
    pub kube: Vec<kube::KubePod>,
    /// Calico's interface prefix (`cali`).
    pub calico_prefix: String,
    /// What could not be read.
    pub unread: Vec<Unread>,
}
