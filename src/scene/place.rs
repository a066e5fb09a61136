//! Real state placed into a planned world: each snapshot (or the live kernel's state)
//! replaces its host's planned state, and the host's pods are wired to the veths its pod
//! map names.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::bail;
use serde::Serialize;

use crate::dataplane::NodeState;
use crate::model::{Cluster, Mode};
use crate::snapshot::Snapshot;
use crate::world::{HostId, HostKind, Source, World};

/// A snapshot placed into the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placed {
    /// The host (node or router) it stands for.
    pub host: String,
    /// `snapshot` or `live`.
    pub source: Source,
    /// The file or directory it came from (none for `--live`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// When it was taken.
    pub taken_at: String,
    /// How it was matched to the host: `node name` (the snapshot's) or `file name`.
    pub matched_by: &'static str,
    /// Pods of the cluster on this node wired through the snapshot's pod map.
    pub pods_mapped: usize,
}

/// A snapshot to place, with where it came from.
#[derive(Debug, Clone)]
pub struct Input {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// Its file or directory (none for a live one).
    pub path: Option<PathBuf>,
    /// `Snapshot` or `Live`.
    pub source: Source,
}

/// Place snapshots into a planned world of `cluster`: each replaces its host's state
/// (matched by the snapshot's node name, else the file's name), and the host's pods are
/// wired to the veths the snapshot's pod map names (their own netns state too, when the
/// snapshot read it). Returns what was placed and notes for the reader.
///
/// Errors: a snapshot that matches no node or router, or two snapshots of one host.
pub fn place(
    world: &mut World,
    cluster: &Cluster,
    inputs: Vec<Input>,
) -> anyhow::Result<(Vec<Placed>, Vec<String>)> {
    let mut placed: Vec<Placed> = Vec::new();
    let mut notes = Vec::new();
    let mut seen: HashMap<HostId, String> = HashMap::new();
    for input in inputs {
        let Input {
            snapshot,
            path,
            source,
        } = input;
        let shown = path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the live kernel".into());
        let is_host = |name: &str| {
            world
                .by_name(name)
                .filter(|&id| world.kind(id) != HostKind::Pod)
        };
        let stem = path
            .as_ref()
            .and_then(|p| p.file_stem())
            .map(|s| s.to_string_lossy().into_owned());
        let (id, matched_by) = match is_host(snapshot.node()) {
            Some(id) => (id, "node name"),
            None => match stem.as_deref().and_then(is_host) {
                Some(id) => (id, "file name"),
                None => bail!(
                    "snapshot {shown} is of node {:?}, which is not a node of cluster {} (nodes: {}); name the file after the node, or take the snapshot with --node NAME",
                    snapshot.node(),
                    cluster.source,
                    cluster
                        .nodes
                        .iter()
                        .take(12)
                        .map(|n| n.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        };
        let host = world.name(id).to_string();
        if let Some(prev) = seen.insert(id, shown.clone()) {
            bail!("two snapshots of {host}: {prev} and {shown}");
        }
        // The walk honours every policy rule through the kernel model, but its packets carry
        // no firewall mark and are bound to no device: say so where a rule selects on those.
        let unseen: Vec<String> = snapshot
            .state
            .rules
            .iter()
            .filter(|r| r.fwmark.is_some_and(|(mark, mask)| mark & mask != 0) || r.oif.is_some())
            .map(|r| format!("`{}`", r.to_string().replace('\t', " ")))
            .collect();
        if !unseen.is_empty() {
            notes.push(format!(
                "{host} has policy rules on firewall marks or output devices ({}): the walk follows unmarked packets not bound to a device, which they never match",
                unseen.join(", ")
            ));
        }
        let mut state = snapshot.state.clone();
        state.node = host.clone();
        let node_idx = cluster.node_index(&host);
        let pods: Vec<usize> = node_idx
            .map(|i| cluster.pods_on(i).to_vec())
            .unwrap_or_default();
        // Without a pod map (text dumps), pods are wired by their planned veth names. Flannel's
        // are random on real nodes: assume the planned port on the bridge, and say so.
        let mut assumed = Vec::new();
        if snapshot.pods.is_none() {
            if let (Some(idx), Mode::Flannel(_)) = (node_idx, &cluster.mode) {
                let planned = crate::plan::host_local_state(cluster, idx);
                for &p in &pods {
                    let pod = &cluster.pods[p];
                    if world.by_name(&pod.key()).is_none() {
                        continue;
                    }
                    let name = crate::cni::host_veth_name(cluster, pod);
                    if state.link(&name).is_none() {
                        if let Some(l) = planned.link(&name) {
                            state.links.push(l.clone());
                            assumed.push(pod.key());
                        }
                    }
                }
            }
        }
        let on_node = pods
            .iter()
            .filter(|&&p| world.by_name(&cluster.pods[p].key()).is_some())
            .count();
        if snapshot.pods.is_none() && on_node > 0 {
            let assumed = if assumed.is_empty() {
                String::new()
            } else {
                format!(
                    "; not in the snapshot, assumed to be ports of its bridge as planned: {}",
                    assumed.join(", ")
                )
            };
            notes.push(format!(
                "{host}'s snapshot has no pod map (a text dump): its pods are wired by their planned veth names{assumed} (take the snapshot with `netpath snapshot` for the real veths)"
            ));
        }
        world.replace_state(id, state, source);
        let mut mapped = 0;
        let mut unmapped = Vec::new();
        for &p in &pods {
            let pod = &cluster.pods[p];
            let Some(pod_id) = world.by_name(&pod.key()) else {
                continue;
            };
            let ip = pod.ipv4().map(IpAddr::V4);
            match snapshot.find_pod(&pod.key(), ip) {
                Some(e) => {
                    mapped += 1;
                    let dev = e.ifname.as_deref().unwrap_or("eth0");
                    world.connect_veth(pod_id, dev, id, &e.host_veth);
                    if let Some(st) = &e.state {
                        let mut st = st.clone();
                        st.node = pod.key();
                        world.replace_state(pod_id, st, source);
                    }
                }
                None if snapshot.pods.is_some() => {
                    // No veth of the node leads to it (its sandbox is gone, or not made
                    // yet): it keeps its address, but has no device to send from.
                    let addrs = world.host(pod_id).state.addrs.clone();
                    let gone = NodeState {
                        node: pod.key(),
                        addrs,
                        ..NodeState::default()
                    };
                    world.replace_state(pod_id, gone, source);
                    unmapped.push(pod.key());
                }
                None => {}
            }
        }
        if !unmapped.is_empty() {
            notes.push(format!(
                "not in {host}'s pod map (no veth of the node leads to them: their sandbox is gone or not made yet): {}",
                unmapped.join(", ")
            ));
        }
        // Pods the node has but the cluster does not list (deleted, their CNI DEL never
        // ran): their veth still leads to a netns that answers for their address.
        let leaked = place_leaked(world, cluster, &snapshot, id, source);
        if !leaked.is_empty() {
            notes.push(format!(
                "{host} has pods the cluster does not list (their sandbox still answers): {}",
                leaked.join(", ")
            ));
        }
        placed.push(Placed {
            host,
            source,
            path,
            taken_at: snapshot.taken_at.clone(),
            matched_by,
            pods_mapped: mapped,
        });
    }
    Ok((placed, notes))
}

/// Add to `world` the pods of `snapshot`'s pod map that are none of the cluster's pods but
/// whose netns was read (they have an address): each becomes a pod host wired to its veth on
/// `node`. Returns their names.
fn place_leaked(
    world: &mut World,
    cluster: &Cluster,
    snapshot: &Snapshot,
    node: HostId,
    source: Source,
) -> Vec<String> {
    let mut out = Vec::new();
    for e in snapshot.pods.iter().flatten() {
        let Some(state) = &e.state else { continue };
        let known = cluster.pods.iter().any(|p| {
            Some(p.key()) == e.key() || p.ipv4().is_some_and(|ip| e.has_ip(IpAddr::V4(ip)))
        });
        if known || e.ips.is_empty() {
            continue;
        }
        let name = e
            .key()
            .unwrap_or_else(|| format!("{}:{}", world.name(node), e.host_veth));
        if world.by_name(&name).is_some() {
            continue;
        }
        let mut st = state.clone();
        st.node = name.clone();
        let id = world.add_host(&name, HostKind::Pod, Some(node), NodeState::default());
        world.replace_state(id, st, source);
        let dev = e.ifname.as_deref().unwrap_or("eth0");
        world.connect_veth(id, dev, node, &e.host_veth);
        out.push(name);
    }
    out
}
