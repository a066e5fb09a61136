//! Tracing over what nodes really have: snapshots placed into a planned [`World`], every
//! hop marked with where its host's state came from, and, on hosts walked through their
//! real state, what the plan has at the same point when it differs ([`compare`]). With the
//! live kernel at hand, its own answer to each route lookup ([`kernel_queries`],
//! [`attach_kernel`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::bail;
use serde::Serialize;

use super::world::{Host, HostId, HostKind, World};
use super::{Action, Hop, Path, Reason, Resolution, Trace};
use crate::dataplane::{LinkKind, Route, RouteType};
use crate::model::{Cluster, Mode};
use crate::snapshot::Snapshot;

/// Where a host's state comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Computed from the cluster description (`crate::plan`).
    Plan,
    /// A snapshot of the host (`netpath snapshot`, or a text dump).
    Snapshot,
    /// Read from the local kernel for this trace (`--live`).
    Live,
}

impl Source {
    /// The word shown (`plan`, `snapshot`, `live`).
    pub fn word(&self) -> &'static str {
        match self {
            Source::Plan => "plan",
            Source::Snapshot => "snapshot",
            Source::Live => "live",
        }
    }

    /// True for real state (snapshot or live).
    pub fn is_real(&self) -> bool {
        !matches!(self, Source::Plan)
    }
}

/// What the plan has at a hop where the real state differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// The planned object, as `ip`/`bridge`/`sysctl` print it (a route, a neighbour or FDB
    /// entry, a device, a sysctl), or `no route to …` when the plan has none.
    pub plan: String,
    /// Why the CNI programs it, when netpath can tell (the route's explanation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// What the plan does with the packet here when that is a drop (`the plan drops here:
    /// next hop … not on-link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// The kernel's answer to the same lookup (`ip route get DST [from SRC] [iif DEV]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelView {
    /// The question, as the `ip` command that asks it.
    pub query: String,
    /// The answer: the route, as `ip route get` prints it, or the kernel's error.
    pub answer: String,
    /// Whether netpath's walk made the same decision (same device and gateway, or both drop).
    pub agrees: bool,
}

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
        if snapshot
            .state
            .rules
            .iter()
            .any(|r| !matches!(r.priority, 0 | 32766 | 32767) || r.src.is_some() || r.dst.is_some())
        {
            notes.push(format!(
                "{host} has policy routing rules besides the kernel's defaults: the walk looks up the local, main and default tables only"
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
                    let name = crate::plan::host_veth_name(cluster, pod);
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
                None if snapshot.pods.is_some() => unmapped.push(pod.key()),
                None => {}
            }
        }
        if !unmapped.is_empty() {
            notes.push(format!(
                "not in {host}'s pod map (no veth of the node leads to them): {}",
                unmapped.join(", ")
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

/// On every hop of a host walked through real state, record what the plan (`plan`, the
/// same cluster's planned world) has at that point when it differs: the route, neighbour
/// or FDB entry, the device, the forwarding sysctl.
pub fn compare(trace: &mut Trace, world: &World, plan: &World) {
    compare_path(&mut trace.request, world, plan);
    if let Some(r) = &mut trace.reply {
        compare_path(r, world, plan);
    }
}

fn compare_path(path: &mut Path, world: &World, plan: &World) {
    let reason = match &path.verdict {
        super::Verdict::Dropped { reason, .. } => Some(reason.clone()),
        _ => None,
    };
    let last = path.hops.len().saturating_sub(1);
    for (i, hop) in path.hops.iter_mut().enumerate() {
        if !hop.source.is_real() {
            continue;
        }
        let Some(id) = world.by_name(&hop.host) else {
            continue;
        };
        if id >= plan.len() || plan.kind(id) != world.kind(id) {
            continue;
        }
        let planned = plan.host(id);
        let drop_reason = if i == last { reason.as_ref() } else { None };
        hop.expected = expected_at(hop, planned, drop_reason);
    }
}

fn expected_at(hop: &Hop, plan: &Host, drop: Option<&Reason>) -> Option<Expected> {
    let dev = hop.device.as_deref().unwrap_or("");
    match &hop.action {
        Action::Route => {
            let actual = hop.route.as_ref()?;
            match plan.lookup(hop.dst) {
                Some(p) if same_decision(actual, p) => None,
                Some(p) => Some(planned_route(plan, p, hop.dst)),
                None => Some(Expected {
                    plan: format!("no route to {}", hop.dst),
                    why: None,
                    outcome: Some("the plan drops here: no route".into()),
                }),
            }
        }
        Action::Resolve {
            addr,
            mac,
            how: Resolution::Neighbour { .. },
        } => {
            let n = plan.neighbour(dev, *addr)?;
            (n.lladdr != *mac).then(|| Expected {
                plan: neighbour_text(*addr, dev, n.lladdr),
                why: Some("the CNI programs the remote VTEP's MAC as a permanent entry".into()),
                outcome: None,
            })
        }
        Action::Fdb { mac, dst } => {
            let f = plan.fdb(dev, *mac)?;
            (f.dst != Some(*dst) && f.mac == *mac).then(|| Expected {
                plan: fdb_text(f.mac, dev, f.dst),
                why: Some(
                    "the CNI maps each remote VTEP MAC to its node's underlay address".into(),
                ),
                outcome: None,
            })
        }
        Action::Drop => expected_for_drop(hop, plan, drop?),
        _ => None,
    }
}

fn expected_for_drop(hop: &Hop, plan: &Host, reason: &Reason) -> Option<Expected> {
    match reason {
        Reason::NoRoute { dst } => plan.lookup(*dst).map(|p| planned_route(plan, p, *dst)),
        Reason::ForwardingDisabled { dev } => plan.forwards(dev).then(|| Expected {
            plan: "net.ipv4.ip_forward = 1".into(),
            why: Some(
                "pod traffic is forwarded by the node: the CNI needs IP forwarding on".into(),
            ),
            outcome: None,
        }),
        Reason::NoNeighbour { addr, dev, .. } => {
            let n = plan.neighbour(dev, *addr)?;
            Some(Expected {
                plan: neighbour_text(*addr, dev, n.lladdr),
                why: Some("the CNI programs the remote VTEP's MAC as a permanent entry".into()),
                outcome: None,
            })
        }
        Reason::NoFdb { mac, dev } => {
            let f = plan.fdb(dev, *mac).filter(|f| f.mac == *mac)?;
            Some(Expected {
                plan: fdb_text(f.mac, dev, f.dst),
                why: Some(
                    "the CNI maps each remote VTEP MAC to its node's underlay address".into(),
                ),
                outcome: None,
            })
        }
        Reason::NoDevice { dev } | Reason::DeviceDown { dev } => {
            let l = plan.link(dev)?;
            l.up.then(|| Expected {
                plan: format!("{} ({}, mtu {}) up", l.name, l.kind.name(), l.mtu),
                why: None,
                outcome: None,
            })
        }
        Reason::VtepMacMismatch { dev, sent, .. } => {
            let mac = plan.link(dev)?.mac?;
            Some(Expected {
                plan: format!("{dev} with MAC {mac}"),
                why: Some(if mac == *sent {
                    format!(
                        "{dev}'s MAC changed (device re-created?) and the senders still use the old one: their CNI must re-program it"
                    )
                } else {
                    "the VTEP MAC the cluster advertises for this node".into()
                }),
                outcome: None,
            })
        }
        Reason::TooBig { dev, mtu, .. } => {
            let l = plan.link(dev)?;
            (l.mtu != *mtu && hop.size <= l.mtu).then(|| Expected {
                plan: format!("{dev} mtu {}", l.mtu),
                why: None,
                outcome: None,
            })
        }
        Reason::NoTunnelEndpoint { .. } => {
            let l = plan
                .state
                .links
                .iter()
                .find(|l| matches!(l.kind, LinkKind::Vxlan(_) | LinkKind::Ipip { .. }))?;
            Some(Expected {
                plan: format!("{} ({})", l.name, l.kind.name()),
                why: Some("the tunnel device the CNI creates to decapsulate".into()),
                outcome: None,
            })
        }
        _ => None,
    }
}

/// Two routes make the same forwarding decision: type, prefix, and every next hop's
/// gateway, device and onlink flag (protocol, metric and MTU aside).
fn same_decision(a: &Route, b: &Route) -> bool {
    a.kind == b.kind
        && a.dst == b.dst
        && a.nexthops.len() == b.nexthops.len()
        && a.nexthops.iter().zip(&b.nexthops).all(|(x, y)| {
            x.gateway == y.gateway && x.dev == y.dev && x.flags.onlink == y.flags.onlink
        })
}

fn planned_route(plan: &Host, p: &Route, dst: IpAddr) -> Expected {
    Expected {
        plan: p.to_string(),
        why: crate::explain::explain(p, Some(&plan.state.links)).map(|e| e.to_string()),
        outcome: plan_outcome(plan, p, dst),
    }
}

/// When the plan's own route drops the packet at this host: why.
fn plan_outcome(plan: &Host, r: &Route, dst: IpAddr) -> Option<String> {
    if r.kind.drops() {
        return Some(format!("the plan drops here ({} route)", r.kind.name()));
    }
    if r.kind != RouteType::Unicast {
        return None;
    }
    let nh = r.first_hop()?;
    let dev = nh.dev.as_deref()?;
    let Some(link) = plan.link(dev) else {
        return Some(format!("the plan drops here: it has no device {dev}"));
    };
    let tunnel = matches!(link.kind, LinkKind::Ipip { .. });
    let gw = nh.gateway.unwrap_or(dst);
    if nh.gateway.is_some() && !nh.flags.onlink && !tunnel {
        let connected = plan.lookup(gw).is_some_and(|c| {
            c.gateway().is_none() && c.dev() == Some(dev) && c.kind == RouteType::Unicast
        });
        if !connected {
            return Some(format!(
                "the kernel refuses this planned route: next hop {gw} is not on-link on {dev} (the plan's walk falls through to the next route)"
            ));
        }
    }
    None
}

fn neighbour_text(addr: IpAddr, dev: &str, mac: Option<crate::dataplane::MacAddr>) -> String {
    match mac {
        Some(m) => format!("{addr} dev {dev} lladdr {m} PERMANENT"),
        None => format!("{addr} dev {dev}"),
    }
}

fn fdb_text(mac: crate::dataplane::MacAddr, dev: &str, dst: Option<IpAddr>) -> String {
    match dst {
        Some(d) => format!("{mac} dev {dev} dst {d} self permanent"),
        None => format!("{mac} dev {dev} self permanent"),
    }
}

/// A route lookup to ask the live kernel, for one hop of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelQuery {
    /// 0 for the request, 1 for the reply.
    pub path: usize,
    /// The hop the answer belongs to.
    pub hop: usize,
    /// The destination.
    pub dst: IpAddr,
    /// The source, for forwarded packets (with `iif`).
    pub src: Option<IpAddr>,
    /// The device the packet arrived on; `None` for packets the host sends itself.
    pub iif: Option<String>,
}

impl KernelQuery {
    /// The `ip` command that asks the same.
    pub fn command(&self) -> String {
        let mut s = format!("ip route get {}", self.dst);
        if let Some(src) = self.src {
            s.push_str(&format!(" from {src}"));
        }
        if let Some(dev) = &self.iif {
            s.push_str(&format!(" iif {dev}"));
        }
        s
    }
}

/// The lookups to ask the kernel of `host`: one per route decision the walk made there
/// (a `route` hop, or a drop before any route was looked up), with the input device of a
/// forwarded packet as the kernel needs it (`iif`, the bridge for a bridge port).
pub fn kernel_queries(trace: &Trace, world: &World, host: HostId) -> Vec<KernelQuery> {
    let name = world.name(host);
    let mut out = Vec::new();
    let paths = std::iter::once(&trace.request).chain(trace.reply.as_ref());
    for (pi, path) in paths.enumerate() {
        let mut iif: Option<String> = None;
        let mut routed = false;
        let mut prev_host: Option<&str> = None;
        for (i, h) in path.hops.iter().enumerate() {
            if prev_host != Some(h.host.as_str()) {
                iif = None;
                routed = false;
                prev_host = Some(&h.host);
            }
            match &h.action {
                Action::Receive { bridge } => {
                    iif = bridge.clone().or_else(|| h.device.clone());
                    routed = false;
                }
                Action::Encap => {
                    iif = None;
                    routed = false;
                }
                Action::Route | Action::Drop if h.host == name && !routed => {
                    routed = matches!(h.action, Action::Route);
                    // A drop before any route lookup: ask only when the kernel's lookup
                    // decides it too (forwarding off, no route), not for tunnel endpoints.
                    let decided_by_lookup = matches!(
                        &path.verdict,
                        super::Verdict::Dropped {
                            reason: Reason::ForwardingDisabled { .. }
                                | Reason::NoRoute { .. }
                                | Reason::RpFilter { .. }
                                | Reason::TtlExpired,
                            ..
                        }
                    );
                    if matches!(h.action, Action::Drop) && !decided_by_lookup {
                        continue;
                    }
                    out.push(KernelQuery {
                        path: pi,
                        hop: i,
                        dst: h.dst,
                        src: iif.as_ref().map(|_| h.src).filter(|s| !s.is_unspecified()),
                        iif: iif.clone(),
                    });
                }
                _ => {}
            }
        }
    }
    out
}

/// Record the kernel's answer (a route, or the errno it returned) on the hop it belongs to.
pub fn attach_kernel(trace: &mut Trace, q: &KernelQuery, answer: Result<&Route, i32>) {
    let path = if q.path == 0 {
        &mut trace.request
    } else {
        match &mut trace.reply {
            Some(r) => r,
            None => return,
        }
    };
    let Some(hop) = path.hops.get_mut(q.hop) else {
        return;
    };
    let walk_drops = match (&hop.action, &hop.route) {
        (Action::Drop, _) => true,
        (_, Some(r)) => r.kind.drops(),
        _ => false,
    };
    let (text, agrees) = match answer {
        Ok(r) => {
            let agrees = if r.kind.drops() {
                walk_drops
            } else {
                hop.route
                    .as_ref()
                    .is_some_and(|w| w.dev() == r.dev() && w.gateway() == r.gateway())
            };
            // `ip route get` prints no protocol (the answer carries none: 0, "unspec").
            let mut shown = r.clone();
            shown.proto = crate::dataplane::Protocol::BOOT;
            (shown.to_string(), agrees)
        }
        Err(errno) => (
            format!("error: {}", std::io::Error::from_raw_os_error(errno)),
            walk_drops,
        ),
    };
    hop.kernel = Some(KernelView {
        query: q.command(),
        answer: text,
        agrees,
    });
}
