//! The CNI result cache, file by file: live, stale (its netns or veth is gone: the CNI DEL
//! never ran), corrupt, or not checked; with the findings for stale and corrupt files.

use std::collections::{HashMap, HashSet};

use super::NetnsRef;
use super::cni::ParseError;
use super::pair::Index;
use super::report::{CacheRow, CacheState, Finding, FindingKind, short_id};
use crate::findings::Severity;

/// One row per cache file of the snapshot (`cache_veth`: the veth each file's pod was
/// paired with, by file index), and the findings about them.
pub(super) fn cache_rows(
    index: &Index<'_>,
    node_names: &HashSet<&str>,
    cache_veth: &HashMap<usize, String>,
) -> (Vec<CacheRow>, Vec<Finding>) {
    let snap = index.snap;
    let mut cache_rows = Vec::new();
    let mut findings = Vec::new();
    for (i, (file, nref)) in snap.cache.iter().enumerate() {
        let path = file.path.display().to_string();
        let mut row = CacheRow {
            file: path.clone(),
            state: CacheState::Live,
            reason: None,
            container_id: None,
            network: None,
            if_name: None,
            netns: None,
            pod: None,
            ips: Vec::new(),
            host_interfaces: Vec::new(),
            veth: cache_veth.get(&i).cloned(),
        };
        let e = match &file.entry {
            Ok(e) => e,
            Err(ParseError::Corrupt(why)) => {
                row.state = CacheState::Corrupt;
                row.reason = Some(why.clone());
                findings.push(
                    Finding::new(
                        Severity::Warning,
                        FindingKind::CorruptCniCache,
                        path.clone(),
                    )
                    .expected("a cniCacheV1 JSON document")
                    .actual(why)
                    .fix_one(format!(
                        "libcni cannot use it when the pod is deleted; once no pod uses it: rm {path}"
                    )),
                );
                cache_rows.push(row);
                continue;
            }
            Err(ParseError::OtherKind(why)) => {
                row.state = CacheState::Skipped;
                row.reason = Some(format!("not a cniCacheV1 file ({why})"));
                cache_rows.push(row);
                continue;
            }
        };
        row.container_id = Some(e.container_id.clone());
        row.network = Some(e.network.clone()).filter(|n| !n.is_empty());
        row.if_name = Some(e.if_name.clone());
        row.netns = e.netns.clone();
        row.pod = match (e.pod_namespace(), e.pod_name()) {
            (Some(ns), Some(n)) => Some(format!("{ns}/{n}")),
            (None, Some(n)) => Some(n.to_string()),
            _ => None,
        };
        row.ips = e.ips.iter().map(|i| i.address).collect();
        row.host_interfaces = e.host_interfaces().map(str::to_string).collect();
        let missing_host: Vec<&str> = e
            .host_interfaces()
            .filter(|h| !node_names.contains(h))
            .collect();
        let (state, reason) = match nref {
            NetnsRef::Gone(why) => (CacheState::Stale, Some(why.clone())),
            NetnsRef::Unknown(why) => (CacheState::Unchecked, Some(why.clone())),
            _ if !missing_host.is_empty() => (
                CacheState::Stale,
                Some(format!(
                    "host interface {} is gone",
                    missing_host.join(", ")
                )),
            ),
            NetnsRef::Found(inode) => match index.by_inode.get(inode).and_then(|n| n.view.as_ref())
            {
                Some(Ok(view)) if !view.links.iter().any(|l| l.name == e.if_name) => (
                    CacheState::Stale,
                    Some(format!(
                        "netns {} has no {}",
                        index
                            .by_inode
                            .get(inode)
                            .map(|n| n.label())
                            .unwrap_or_default(),
                        e.if_name
                    )),
                ),
                Some(Err(why)) => (
                    CacheState::Live,
                    Some(format!("netns exists; inside not read: {why}")),
                ),
                _ => (CacheState::Live, None),
            },
            NetnsRef::Unset if row.host_interfaces.is_empty() => (
                CacheState::Unchecked,
                Some("the entry names no netns and no host interface".into()),
            ),
            NetnsRef::Unset => (CacheState::Live, None),
        };
        row.state = state;
        row.reason = reason;
        if state == CacheState::Stale {
            findings.push(
                Finding::new(Severity::Error, FindingKind::StaleCniCache, path.clone())
                    .expected(format!(
                        "{} of container {} to exist",
                        e.netns.as_deref().unwrap_or("the netns"),
                        short_id(&e.container_id)
                    ))
                    .actual(row.reason.clone().unwrap_or_default())
                    .fix_one(format!(
                        "the CNI DEL for this pod never ran; release its IP in the IPAM plugin, then rm {path}"
                    )),
            );
        }
        cache_rows.push(row);
    }
    (cache_rows, findings)
}
