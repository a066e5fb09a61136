//! Pairing each host veth with its peer's namespace, reading the pod's end, and naming the
//! pod (CNI cache, then the pod list by address).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::cni::CacheEntry;
use super::report::{IdentitySource, PeerNetns, PodIdentity, PodSide, VethRow, VethStatus};
use super::{NetnsRef, NetnsView, PodNetns, Snapshot};
use crate::dataplane::{Family, Link, LinkKind, Route, Scope, Veth};

/// What the pairing looks things up in.
pub(super) struct Index<'a> {
    /// The gathered node.
    pub snap: &'a Snapshot,
    by_nsid: HashMap<i32, &'a PodNetns>,
    /// Namespaces by inode.
    pub by_inode: HashMap<u64, &'a PodNetns>,
    /// The CNI cache entries that parsed: (index in `snap.cache`, entry, where its netns
    /// leads).
    entries: Vec<(usize, &'a CacheEntry, &'a NetnsRef)>,
}

/// What pairing a veth found beside its row.
pub(super) struct Paired {
    /// The pod's addresses (its end's, else the cache's or the pod list's).
    pub pod_ips: Vec<IpAddr>,
    /// The CNI cache file (index) that named the pod.
    pub cache_index: Option<usize>,
    /// Why the pod's netns could not be read, and its label, when it could not.
    pub unread_netns: Option<(String, String)>,
}

impl<'a> Index<'a> {
    /// Index the snapshot's namespaces and cache entries.
    pub fn new(snap: &'a Snapshot) -> Index<'a> {
        Index {
            snap,
            by_nsid: snap
                .namespaces
                .iter()
                .filter_map(|n| n.nsid.map(|id| (id, n)))
                .collect(),
            by_inode: snap
                .namespaces
                .iter()
                .filter_map(|n| n.inode.map(|i| (i, n)))
                .collect(),
            entries: snap
                .cache
                .iter()
                .enumerate()
                .filter_map(|(i, (f, r))| f.entry.as_ref().ok().map(|e| (i, e, r)))
                .collect(),
        }
    }

    /// The veth's row (status, peer netns, pod side, pod identity) and what was found
    /// beside it.
    pub fn pair(&self, link: &Link, v: &Veth) -> (VethRow, Paired) {
        let mut row = VethRow {
            ifindex: link.ifindex,
            name: link.name.clone(),
            mac: link.mac,
            up: link.up,
            oper_state: link.oper_state.clone(),
            mtu: link.mtu,
            master: link.master.clone(),
            peer_ifindex: v.peer_ifindex,
            peer_netnsid: v.peer_netnsid,
            status: VethStatus::Unknown,
            netns: None,
            pod_side: None,
            pod_side_unread: None,
            pod: None,
            calico_name: None,
            host_routes: Vec::new(),
            mtu_check: None,
        };
        let mut paired = Paired {
            pod_ips: Vec::new(),
            cache_index: None,
            unread_netns: None,
        };
        let found = self.peer_netns(link, v);
        row.status = match (v.peer_netnsid, found, self.snap.discovery_complete) {
            (None, _, _) => VethStatus::Local,
            (Some(_), Some(_), _) => VethStatus::Pod,
            (Some(_), None, true) => VethStatus::Leaked,
            (Some(_), None, false) => VethStatus::Unknown,
        };
        let Some((ns, how)) = found else {
            return (row, paired);
        };
        row.netns = Some(PeerNetns {
            inode: ns.inode,
            names: ns.names.clone(),
            nsid: ns.nsid,
            matched_by: how,
        });
        match &ns.view {
            Some(Ok(view)) => match view
                .links
                .iter()
                .find(|l| Some(l.ifindex) == v.peer_ifindex)
            {
                Some(peer) => {
                    let side = pod_side(view, peer);
                    paired.pod_ips = side.addrs.iter().map(|a| a.ip()).collect();
                    row.pod_side = Some(side);
                }
                None => {
                    row.pod_side_unread = Some(format!(
                        "netns {} has no interface with ifindex {} (deleted during the scan?)",
                        ns.label(),
                        v.peer_ifindex.unwrap_or(0)
                    ))
                }
            },
            Some(Err(e)) => {
                row.pod_side_unread = Some(e.clone());
                paired.unread_netns = Some((e.clone(), ns.label()));
            }
            None => row.pod_side_unread = Some("not read".into()),
        }
        self.identify(link, ns, &mut row, &mut paired);
        (row, paired)
    }

    /// The namespace the veth's peer lives in: by the id the node gives it, else (for
    /// namespaces whose id could not be asked) the one whose veth points back.
    fn peer_netns(&self, link: &Link, v: &Veth) -> Option<(&'a PodNetns, &'static str)> {
        let id = v.peer_netnsid?;
        if let Some(ns) = self.by_nsid.get(&id) {
            return Some((ns, "nsid"));
        }
        self.snap
            .namespaces
            .iter()
            .filter(|n| n.nsid_error.is_some())
            .find(|n| {
                let Some(Ok(view)) = &n.view else { return false };
                view.links.iter().any(|l| {
                    Some(l.ifindex) == v.peer_ifindex
                        && matches!(&l.kind, LinkKind::Veth(p) if p.peer_ifindex == Some(link.ifindex))
                })
            })
            .map(|n| (n, "ifindex"))
    }

    /// Who the pod is: the CNI cache (by netns and ifname, by host veth name, by address),
    /// then the pod list by address.
    fn identify(&self, link: &Link, ns: &PodNetns, row: &mut VethRow, paired: &mut Paired) {
        let pod_ips = &mut paired.pod_ips;
        let pod_if = row.pod_side.as_ref().map(|s| s.name.as_str());
        let by_netns = self.entries.iter().find(|(_, e, r)| {
            ns.inode.is_some_and(|i| **r == NetnsRef::Found(i))
                && pod_if.is_none_or(|n| n == e.if_name)
        });
        let by_name = || {
            self.entries
                .iter()
                .find(|(_, e, _)| e.host_interfaces().any(|h| h == link.name))
        };
        // By address only for entries whose netns could not be followed: an entry that
        // points at another pod's netns is that pod's, whatever address this one has.
        let by_ip = || {
            self.entries.iter().find(|(_, e, r)| {
                !matches!(r, NetnsRef::Found(_)) && e.pod_ips().any(|ip| pod_ips.contains(&ip))
            })
        };
        if let Some((i, e, _)) = by_netns.or_else(by_name).or_else(by_ip) {
            let file = self.snap.cache[*i].0.path.display().to_string();
            row.pod = Some(identity_from_cache(e, &file));
            paired.cache_index = Some(*i);
            if pod_ips.is_empty() {
                *pod_ips = e.pod_ips().collect();
            }
        }
        let kube = &self.snap.kube;
        if row.pod.is_none() && !pod_ips.is_empty() {
            if let Some(p) = kube
                .iter()
                .find(|p| !p.host_network && p.ips.iter().any(|ip| pod_ips.contains(ip)))
            {
                row.pod = Some(PodIdentity {
                    namespace: Some(p.namespace.clone()),
                    name: Some(p.name.clone()),
                    uid: p.uid.clone(),
                    container_id: None,
                    network: None,
                    source: IdentitySource::PodsFile,
                    cache_file: None,
                });
            }
        }
        if pod_ips.is_empty() {
            if let Some(pod) = &row.pod {
                // Pod side unreadable: take the addresses the pod list gives.
                if let Some(p) = kube.iter().find(|p| {
                    Some(&p.namespace) == pod.namespace.as_ref()
                        && Some(&p.name) == pod.name.as_ref()
                }) {
                    *pod_ips = p.ips.clone();
                }
            }
        }
    }
}

/// Record a pod netns that could not be read (`why`, `label`), for the summary of what
/// was not read.
pub(super) fn note_unread(
    failures: &mut BTreeMap<String, Vec<String>>,
    unread: Option<(String, String)>,
) {
    if let Some((why, label)) = unread {
        failures.entry(why).or_default().push(label);
    }
}

fn pod_side(view: &NetnsView, link: &Link) -> PodSide {
    let addrs = view
        .addrs
        .iter()
        .filter(|a| a.dev == link.name && a.scope == Scope::Universe)
        .map(|a| a.addr)
        .collect();
    let default_route = view
        .routes
        .iter()
        .filter(|r| r.dst.prefix() == 0)
        .min_by_key(|r| (r.family() != Family::Inet, r.metric.unwrap_or(0)))
        .map(Route::to_string);
    PodSide {
        name: link.name.clone(),
        ifindex: link.ifindex,
        mac: link.mac,
        mtu: link.mtu,
        up: link.up,
        addrs,
        default_route,
    }
}

fn identity_from_cache(e: &CacheEntry, file: &str) -> PodIdentity {
    PodIdentity {
        namespace: e.pod_namespace().map(str::to_string),
        name: e.pod_name().map(str::to_string),
        uid: e.pod_uid().map(str::to_string),
        container_id: Some(e.container_id.clone()),
        network: Some(e.network.clone()).filter(|n| !n.is_empty()),
        source: IdentitySource::CniCache,
        cache_file: Some(file.to_string()),
    }
}
