//! `netpath check`: every difference between a node's plan and what it really has.

use std::path::{Path, PathBuf};

use super::Ctx;
use super::source::{self, mut_arg_in_place, parse_proto};
use crate::agent::PlanInput;
use crate::agent::input::ClusterPlan;
use crate::dataplane::{NodeState, Protocol};
use crate::diff::check::{Summary, check, check_many, shape_unknown};
use crate::diff::{AGENT_PROTO, pod_networks};
use crate::error::Outcome;
use crate::model::Cluster;
use crate::netlink::Netns;
use crate::render::{findings as render, json};
use crate::snapshot::text_dump::is_text_dump;
use crate::snapshot::{self, Accept, Loaded, PlanFile};
use ipnetwork::IpNetwork;

/// Arguments of `netpath check`.
#[derive(Debug, clap::Args)]
#[command(mut_args(mut_arg_in_place("cluster", |a| a.help(
    "The cluster to plan the node from (`demo:NAME`, a cluster file, a kubectl dump). \
     With `--snapshot DIR` holding one snapshot per node, every node of the cluster that \
     has one is checked, with the findings that only show across nodes"
))))]
#[command(mut_args(mut_arg_in_place("node", |a| a.help(
    "The node (required with --cluster; picks one from a plan or snapshot file that \
     holds several)"
))))]
pub struct CheckArgs {
    /// Where the plan comes from.
    #[command(flatten)]
    pub source: super::args::PlanSourceArgs,
    /// Read the live state of this network namespace: a name under /run/netns or a path
    /// such as /proc/PID/ns/net (default: the current one).
    #[arg(long, value_name = "NETNS", conflicts_with = "snapshot")]
    pub netns: Option<String>,
    /// Compare with a snapshot instead of the live kernel: a JSON file (netpath.snapshot/v1
    /// or NodeState), a directory of text dumps (ip route, ip -d link, ip addr …), or a
    /// directory holding one of those per node (with --cluster: all nodes at once).
    #[arg(long, value_name = "FILE|DIR")]
    pub snapshot: Option<PathBuf>,
    /// The agent's route protocol: its routes count as the CNI's.
    #[arg(long, value_name = "PROTO", default_value_t = AGENT_PROTO.0.to_string())]
    pub proto: String,
}

/// Run `netpath check`.
pub fn run(args: &CheckArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let proto = parse_proto(&args.proto).map_err(anyhow::Error::msg)?;
    if let (Some(dir), Some(cluster)) = (&args.snapshot, &args.source.cluster_spec()) {
        if dir.is_dir() && !is_text_dump(dir) {
            return run_many(dir, cluster, args, proto, &ctx);
        }
    }
    let Planned {
        state: plan,
        networks,
        label: plan_label,
        cluster,
    } = plan(args)?;
    let note = cluster.as_ref().and_then(note_version);
    let (actual, pod_map, actual_label) = match &args.snapshot {
        Some(path) => {
            let node = args
                .source
                .node
                .as_deref()
                .or(Some(plan.node.as_str()).filter(|n| !n.is_empty()));
            let mut snaps = load(path, node)?;
            if snaps.len() != 1 {
                anyhow::bail!(
                    "{} holds {} snapshots: checking several nodes at once needs --cluster C (to plan each one)",
                    path.display(),
                    snaps.len()
                );
            }
            let s = snaps.remove(0);
            (s.snapshot.state, s.snapshot.pods, s.label)
        }
        None => {
            let netns = Netns::from_arg(args.netns.as_deref());
            let label = format!("netns {}", netns.label());
            if args.source.cluster.is_some() {
                // With a cluster, the pods are found on the node (the pod map).
                let snap = snapshot::read_live(&snapshot::LiveOptions {
                    netns: netns.clone(),
                    node: None,
                    pods: Some(crate::pods::Options {
                        node: netns.clone(),
                        ..Default::default()
                    }),
                })?;
                (snap.state, snap.pods, label)
            } else {
                (snapshot::read_state(&netns)?, None, label)
            }
        }
    };
    // The node's facts where the plan could only guess (pods' host veths, cni0's MAC, the
    // pods' MACs), and a note for each planned pod the node does not have.
    let mut plan = plan;
    let mut absent = Vec::new();
    if let (Some(_), Some(cluster), Some(n)) = (&args.source.cluster, &cluster, &args.source.node) {
        if let Ok(np) = crate::plan::node(cluster, n) {
            let mut pods = np.pods;
            absent = crate::diff::facts::resolve_state(
                &mut plan,
                &mut pods,
                &actual,
                pod_map.as_deref(),
            )
            .findings();
        }
    }
    let unknown = cluster.as_ref().is_some_and(shape_unknown);
    let mut findings = check(&plan, &actual, proto, networks, unknown);
    findings.extend(absent);
    let node = if plan.node.is_empty() {
        args.source.node.clone().unwrap_or_default()
    } else {
        plan.node.clone()
    };
    let summary = Summary::of(&findings);
    if ctx.json {
        json::print_document(
            &render::check_document(&findings, &node, summary, &actual_label, &plan_label)
                .with_note(note.as_deref()),
        )?;
    } else {
        let text = render::check_text(
            &findings,
            &node,
            &summary,
            &actual_label,
            &plan_label,
            &ctx.style,
        );
        crate::render::out::print(&text)?;
    }
    Ok(Outcome::from_findings(summary.has_problems()))
}

/// A node's plan and what came with it.
struct Planned {
    /// The plan.
    state: NodeState,
    /// The cluster's pod networks (when known).
    networks: Vec<IpNetwork>,
    /// Where the plan came from.
    label: String,
    /// The cluster it was planned from (not with `--plan FILE` or etcd).
    cluster: Option<Cluster>,
}

/// The node's plan. The cluster is loaded once (it may come from the Kubernetes API).
fn plan(args: &CheckArgs) -> anyhow::Result<Planned> {
    let src = &args.source;
    Ok(match (&src.plan, &src.cluster_spec(), &src.node) {
        (Some(p), _, node) => Planned {
            state: PlanFile::new(p, node.as_deref()).load()?,
            networks: Vec::new(),
            label: p.display().to_string(),
            cluster: None,
        },
        (None, Some(c), Some(n)) => {
            let cluster = source::cluster_args(c, &src.versions).load()?;
            let loaded = cluster.clone();
            let spec = if c.is_empty() {
                "from the Kubernetes API"
            } else {
                c
            };
            let mut input = ClusterPlan::new(spec, n, Box::new(move || Ok(loaded.clone())));
            let label = input.describe();
            // The cluster's pod networks make Flannel host-gw routes (proto boot) the CNI's.
            let networks = pod_networks(&cluster);
            Planned {
                state: input.load()?,
                networks,
                label,
                cluster: Some(cluster),
            }
        }
        (None, None, node) if src.etcd.is_set() => {
            let netns = Netns::from_arg(args.netns.as_deref());
            let (mut input, networks) =
                source::lease_input(&src.etcd, node.as_deref(), &netns, true)?;
            let label = input.describe();
            Planned {
                state: input.load()?,
                networks,
                label,
                cluster: None,
            }
        }
        (None, Some(_), None) => anyhow::bail!(
            "--cluster needs --node N (or --snapshot DIR holding one snapshot per node, to check them all)"
        ),
        _ => anyhow::bail!("say where the plan comes from: --plan FILE, or --cluster C --node N"),
    })
}

/// Say once, on standard error, that the CNI's version is unknown (and what that means);
/// the note, for the JSON document.
fn note_version(cluster: &Cluster) -> Option<String> {
    let n = super::args::unknown_version_note(cluster)?;
    crate::diag!("netpath check: note: {n}");
    Some(n)
}

/// The node states at `path`, with the text dumps' warnings on standard error.
fn load(path: &Path, node: Option<&str>) -> anyhow::Result<Vec<Loaded>> {
    let snaps = snapshot::load_states(path, Accept::NodeStates, node)?;
    for s in &snaps {
        for w in &s.snapshot.warnings {
            crate::diag!("netpath check: {}: {w}", s.path.display());
        }
    }
    Ok(snaps)
}

fn run_many(
    dir: &Path,
    spec: &str,
    args: &CheckArgs,
    proto: Protocol,
    ctx: &Ctx,
) -> anyhow::Result<Outcome> {
    let only = args.source.node.as_deref();
    let cluster = source::cluster_args(spec, &args.source.versions).load()?;
    let note = note_version(&cluster);
    if let Some(n) = only
        && cluster.node_index(n).is_none()
        && !cluster.underlay.routers.iter().any(|r| r.name == n)
    {
        anyhow::bail!("node {n:?} is not in cluster {}", cluster.source);
    }
    // Every snapshot, even with --node: the cluster findings need the other nodes.
    let snaps = load(dir, None)?;
    if let Some(n) = only
        && !snaps.iter().any(|s| s.node() == n)
    {
        anyhow::bail!("{} holds no snapshot of node {n:?}", dir.display());
    }
    let (results, wide) = check_many(&cluster, &snaps, proto, only)?;
    let total = Summary::of(
        results
            .iter()
            .flat_map(|r| r.findings.iter())
            .chain(wide.iter().map(|f| &f.finding)),
    );
    let snapshots = dir.display().to_string();
    if ctx.json {
        json::print_document(
            &render::check_many_document(&results, &wide, total, spec, &snapshots)
                .with_note(note.as_deref()),
        )?;
    } else {
        let text = render::check_many_text(&results, &wide, &total, spec, &snapshots, &ctx.style);
        crate::render::out::print(&text)?;
    }
    Ok(Outcome::from_findings(total.has_problems()))
}
