//! The scene a trace runs in: the cluster's planned [`World`] with real state placed into
//! it (snapshots, the live kernel), and what that real state adds to a trace: what the plan
//! has where the real state differs ([`compare`]), the plan's own trace for comparison, and
//! the live kernel's answer to each route lookup ([`ask_kernel`]).
//!
//! It sits above the plan, snapshots and the walk: it builds worlds with `crate::plan`,
//! reads `crate::snapshot`, and annotates the `crate::trace` results.

mod compare;
mod kernel;
mod place;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use anyhow::bail;

use crate::model::Cluster;
use crate::netlink::Netns;
use crate::netlink::route::{self, KernelAnswer, RouteQuery};
use crate::snapshot;
use crate::trace::{self, Probe, Trace};
use crate::world::{HostId, Source, World};
pub use compare::compare;
pub use kernel::{KernelQuery, attach_kernel, kernel_queries};
pub use place::{Input, Placed, place};

/// Where the real state of a trace comes from.
#[derive(Debug, Clone, Default)]
pub struct RealSources {
    /// Snapshot files, text-dump directories, or directories of either (one per node).
    pub snapshots: Vec<PathBuf>,
    /// Snapshot the local kernel now, when set.
    pub live: Option<LiveSource>,
}

/// The local node, read live.
#[derive(Debug, Clone, Default)]
pub struct LiveSource {
    /// Its name in the cluster (default: the host name).
    pub node: Option<String>,
    /// Its network namespace (default: the current one).
    pub netns: Option<String>,
}

/// Real state placed into a world: what was placed, notes for the reader, and the live
/// node with its network namespace.
#[derive(Debug)]
pub struct Real {
    /// The hosts walked through real state.
    pub placed: Vec<Placed>,
    /// Things to know about the placement.
    pub notes: Vec<String>,
    /// The host read from the live kernel, and its netns.
    live: Option<(HostId, Netns)>,
}

/// Load the snapshots (and the live one) and place them into `world`, a planned world of
/// `cluster`. `None` when there is no real state to place.
pub fn place_real(
    world: &mut World,
    cluster: &Cluster,
    sources: &RealSources,
) -> anyhow::Result<Option<Real>> {
    if sources.snapshots.is_empty() && sources.live.is_none() {
        return Ok(None);
    }
    let mut inputs = Vec::new();
    for p in &sources.snapshots {
        for l in snapshot::load(p)? {
            inputs.push(Input {
                snapshot: l.snapshot,
                path: Some(l.path),
                source: Source::Snapshot,
            });
        }
    }
    let mut live = None;
    if let Some(args) = &sources.live {
        let netns = Netns::from_arg(args.netns.as_deref());
        let node = args.node.clone().unwrap_or_else(snapshot::live::hostname);
        if cluster.node_index(&node).is_none() {
            bail!(
                "--live: this machine is {node:?}, which is not a node of cluster {}; pass --node NAME",
                cluster.source
            );
        }
        let snap = snapshot::read_live(&snapshot::LiveOptions {
            netns: netns.clone(),
            node: Some(node.clone()),
            pods: Some(crate::pods::Options {
                node: netns.clone(),
                ..Default::default()
            }),
        })?;
        inputs.push(Input {
            snapshot: snap,
            path: None,
            source: Source::Live,
        });
        live = world.by_name(&node).map(|id| (id, netns));
    }
    let (placed, notes) = place(world, cluster, inputs)?;
    Ok(Some(Real {
        placed,
        notes,
        live,
    }))
}

/// Complete a trace walked over real state (`world`): what the plan has where the real
/// state differs, the live kernel's answers, the placement's notes. Returns the same trace
/// over the plan alone (for its verdicts), when both endpoints resolve there.
pub fn finish(
    result: &mut Trace,
    world: &World,
    cluster: &Cluster,
    real: &Real,
    (src, dst): (&str, &str),
    probe: Probe,
) -> Option<Trace> {
    let plan_world = crate::plan::world(cluster);
    compare(result, world, &plan_world);
    let plan_trace = match (
        trace::resolve(&plan_world, src, true),
        trace::resolve(&plan_world, dst, false),
    ) {
        (Ok(s), Ok(d)) => Some(trace::trace(&plan_world, &s, &d, probe)),
        _ => None,
    };
    if let Some((host, netns)) = &real.live {
        ask_kernel(result, world, *host, netns);
    }
    result.notes.extend(real.notes.iter().cloned());
    plan_trace
}

/// Ask the kernel of `host` (in `netns`) each route lookup the walk made there, and record
/// its answers on the hops; a lookup that cannot be asked becomes a note.
pub fn ask_kernel(result: &mut Trace, world: &World, host: HostId, netns: &Netns) {
    for q in kernel_queries(result, world, host) {
        let query = RouteQuery {
            dst: q.dst,
            src: q.src,
            iif: q.iif.clone(),
        };
        match route::lookup(netns, &query) {
            Ok(l) => {
                let answer = match (&l.resolved, l.route_error) {
                    (_, Some(e)) => Err(e),
                    (KernelAnswer::Route(rt), None) => Ok(rt),
                    (KernelAnswer::Error(e), None) => Err(*e),
                };
                attach_kernel(result, &q, answer);
            }
            Err(e) => result
                .notes
                .push(format!("could not ask the kernel `{}`: {e:#}", q.command())),
        }
    }
}
