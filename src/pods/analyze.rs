//! Pairing veths with pods, and the findings. Pure: a [`Snapshot`] in, a [`Report`] out.
//! The pairing is in `pair`, one check per finding kind in `checks`, the CNI cache rows in
//! `cache_rows`.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::cache_rows::cache_rows;
use super::checks::{self, mtu_limit};
use super::pair::{Index, note_unread};
use super::report::{Report, VethStatus};
use super::{Snapshot, Unread};
use crate::dataplane::{Link, LinkKind, RouteTable, Table};

/// Pair, identify, check, and list findings.
pub fn analyze(snap: &Snapshot) -> Report {
    let node = &snap.node_view;
    let index = Index::new(snap);
    let node_names: HashSet<&str> = node.links.iter().map(|l| l.name.as_str()).collect();
    let table = RouteTable::new(Table::MAIN, &node.routes);
    let limit = mtu_limit(node);
    let prefix = snap.calico_prefix.as_str();

    let mut findings = Vec::new();
    let mut rows = Vec::new();
    let mut cache_veth: HashMap<usize, String> = HashMap::new();
    let mut pod_side_failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut veths: Vec<&Link> = node
        .links
        .iter()
        .filter(|l| matches!(l.kind, LinkKind::Veth(_)))
        .collect();
    veths.sort_by_key(|l| l.ifindex);
    for link in veths {
        let LinkKind::Veth(v) = &link.kind else {
            continue;
        };
        let (mut row, paired) = index.pair(link, v);
        note_unread(&mut pod_side_failures, paired.unread_netns);
        if let Some(i) = paired.cache_index {
            cache_veth.insert(i, link.name.clone());
        }
        findings.extend(checks::calico_name(&mut row, link, prefix));
        // A veth with an IPv4 address on the node's side is the node's own uplink (a kind
        // node's eth0), never a pod's: no CNI gives a pod's host end an IPv4 address.
        let uplink = node
            .addrs
            .iter()
            .any(|a| a.dev == link.name && a.addr.is_ipv4() && !a.addr.ip().is_loopback());
        if row.status == VethStatus::Pod && !uplink {
            findings.extend(checks::host_routes(&mut row, link, &paired.pod_ips, &table));
            findings.extend(checks::host_veth_down(&row, link));
            let entry = paired
                .cache_index
                .and_then(|i| snap.cache.get(i))
                .and_then(|(f, _)| f.entry.as_ref().ok());
            findings.extend(checks::hairpin_off(&row, link, entry));
            findings.extend(checks::mtu(&mut row, link, &limit));
        }
        if row.status == VethStatus::Leaked {
            findings.push(checks::leaked_veth(link, v));
        }
        rows.push(row);
    }
    findings.extend(checks::missing_cali_devices(node, prefix));
    let (cache, cache_findings) = cache_rows(&index, &node_names, &cache_veth);
    findings.extend(cache_findings);
    findings.extend(checks::duplicate_pod_ips(snap, &rows, &cache));

    let mut unread = snap.unread.clone();
    for (why, names) in pod_side_failures {
        let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
        let more = if names.len() > 3 {
            format!(" and {} more", names.len() - 3)
        } else {
            String::new()
        };
        unread.push(Unread::new(
            format!("inside netns {}{more}", shown.join(", ")),
            why,
        ));
    }
    if rows.iter().any(|r| r.status == VethStatus::Unknown) {
        unread.push(Unread::new(
            "veth peers",
            "some peer namespaces were not found, and the scan could not read every \
             namespace: those veths are shown as unknown, not leaked",
        ));
    }

    // Most severe kinds first; within a kind, in the order found.
    findings.sort_by_key(|f| f.kind);
    Report {
        netns: snap.node.clone(),
        veths: rows,
        cni_cache_dir: snap.cache_dir.as_ref().map(|d| d.display().to_string()),
        cni_cache: cache,
        findings,
        unread,
    }
}

#[cfg(test)]
mod tests;
