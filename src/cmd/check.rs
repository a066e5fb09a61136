//! `netpath check`: every difference between a node's plan and what it really has.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use super::Ctx;
use super::agent::parse_proto;
use crate::agent::input::{PlanFile, node_state_from_json};
use crate::dataplane::NodeState;
use crate::dataplane::parse::{SnapshotFile, node_from_dir};
use crate::diff::cluster::{ClusterFacts, ClusterFinding, NodeView, cluster_findings};
use crate::diff::{self, AGENT_PROTO, Finding, Ownership, Severity};
use crate::error::Outcome;
use crate::netlink::Netns;
use crate::render::{json, table};

/// Arguments of `netpath check`.
#[derive(Debug, clap::Args)]
#[command(mut_args(super::agent::mut_arg_in_place("cluster", |a| a.help(
    "The cluster to plan the node from (`demo:NAME`, a cluster file, a kubectl dump). \
     With `--snapshot DIR` holding one snapshot per node, every node of the cluster that \
     has one is checked, with the findings that only show across nodes"
))))]
#[command(mut_args(super::agent::mut_arg_in_place("node", |a| a.help(
    "The node (required with --cluster; picks one from a plan or snapshot file that \
     holds several)"
))))]
pub struct CheckArgs {
    /// Where the plan comes from.
    #[command(flatten)]
    pub source: super::agent::PlanSourceArgs,
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

/// Counts of findings by severity.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Listed for information.
    pub info: usize,
}

#[derive(Serialize)]
struct CheckDoc<'a> {
    schema: String,
    node: &'a str,
    plan: String,
    actual: String,
    summary: Summary,
    findings: &'a [Finding],
}

/// Run `netpath check`.
pub fn run(args: &CheckArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let proto = parse_proto(&args.proto).map_err(anyhow::Error::msg)?;
    // No plan file, cluster or etcd: the cluster is read from the Kubernetes API ("").
    let live = args.source.plan.is_none() && !args.source.etcd.is_set();
    let cluster_spec = (args.source.cluster.clone()).or_else(|| live.then(String::new));
    if let (Some(dir), Some(cluster)) = (&args.snapshot, &cluster_spec) {
        if many_snapshots(dir) {
            return run_many(dir, cluster, args.source.node.as_deref(), proto, &ctx);
        }
    }
    let (plan, networks, plan_label) = match (&args.source.plan, &cluster_spec, &args.source.node) {
        (Some(p), _, node) => (
            PlanFile::new(p, node.as_deref()).load()?,
            Vec::new(),
            p.display().to_string(),
        ),
        (None, Some(c), Some(n)) => {
            let mut input = super::agent::plan_input(None, Some(c), Some(n))?;
            let label = input.describe();
            // The cluster's pod networks make Flannel host-gw routes (proto boot) the CNI's.
            let cargs = super::agent::cluster_args(c);
            let networks = crate::agent::input::pod_networks(&cargs.load()?);
            (input.load()?, networks, label)
        }
        (None, None, node) if args.source.etcd.is_set() => {
            let netns = Netns::from_arg(args.netns.as_deref());
            let (mut input, networks) =
                super::lease::agent_input(&args.source.etcd, node.as_deref(), &netns, true)?;
            let label = input.describe();
            (input.load()?, networks, label)
        }
        (None, Some(_), None) => anyhow::bail!(
            "--cluster needs --node N (or --snapshot DIR holding one snapshot per node, to check them all)"
        ),
        _ => anyhow::bail!("say where the plan comes from: --plan FILE, or --cluster C --node N"),
    };
    let (actual, actual_label) = match &args.snapshot {
        Some(path) => {
            let node = args
                .source
                .node
                .as_deref()
                .or(Some(plan.node.as_str()).filter(|n| !n.is_empty()));
            let mut snaps = load_snapshots(path, node)?;
            if snaps.len() != 1 {
                anyhow::bail!(
                    "{} holds {} snapshots: checking several nodes at once needs --cluster C (to plan each one)",
                    path.display(),
                    snaps.len()
                );
            }
            let s = snaps.remove(0);
            (s.state, s.label)
        }
        None => {
            let netns = Netns::from_arg(args.netns.as_deref());
            let label = format!("netns {}", netns.label());
            (crate::agent::read_state(&netns)?, label)
        }
    };
    let findings = check(&plan, &actual, proto, networks);
    let node = if plan.node.is_empty() {
        args.source.node.clone().unwrap_or_default()
    } else {
        plan.node.clone()
    };
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let summary = Summary {
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        info: count(Severity::Info),
    };
    let problem = summary.errors + summary.warnings > 0;
    if ctx.json {
        json::print_document(&CheckDoc {
            schema: json::schema("check"),
            node: &node,
            plan: plan_label.clone(),
            actual: actual_label,
            summary,
            findings: &findings,
        })?;
    } else {
        print!("{}", render(&findings, &ctx));
        println!(
            "{}: {} error{}, {} warning{}, {} info ({} against {})",
            if node.is_empty() { "node" } else { &node },
            summary.errors,
            if summary.errors == 1 { "" } else { "s" },
            summary.warnings,
            if summary.warnings == 1 { "" } else { "s" },
            summary.info,
            actual_label,
            plan_label
        );
    }
    Ok(Outcome::from_findings(problem))
}

/// The findings of a node against its plan, as `check` reports them: problems first
/// (errors, then warnings), then what is listed for information.
pub fn check(
    plan: &NodeState,
    actual: &NodeState,
    proto: crate::dataplane::Protocol,
    networks: Vec<ipnetwork::IpNetwork>,
) -> Vec<Finding> {
    let own = Ownership::cni(plan, proto, networks);
    let mut findings = diff::diff(plan, actual, &own).findings;
    findings.sort_by_key(|f| f.severity);
    findings
}

fn render(findings: &[Finding], ctx: &Ctx) -> String {
    let rows: Vec<(&str, &Finding)> = findings.iter().map(|f| ("", f)).collect();
    render_rows(&rows, ctx, false)
}

fn render_rows(rows: &[(&str, &Finding)], ctx: &Ctx, with_node: bool) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut headers = vec!["SEVERITY", "KIND", "OBJECT", "EXPECTED", "ACTUAL", "FIX"];
    if with_node {
        headers.insert(0, "NODE");
    }
    let mut t = table::new_table(&ctx.style, &headers);
    for (node, f) in rows {
        let sev = if ctx.style.color {
            use colored::Colorize;
            match f.severity {
                Severity::Error => f.severity.word().red().bold().to_string(),
                Severity::Warning => f.severity.word().yellow().to_string(),
                Severity::Info => f.severity.word().dimmed().to_string(),
            }
        } else {
            f.severity.word().to_string()
        };
        let kind = if f.attributes.len() > 1 {
            format!("{} ({})", f.kind, f.attributes.join(", "))
        } else {
            f.kind.to_string()
        };
        let mut row = vec![
            sev,
            kind,
            f.object.clone(),
            f.expected.clone().unwrap_or_else(|| "-".into()),
            f.actual.clone().unwrap_or_else(|| "-".into()),
            if f.fix.is_empty() {
                "-".into()
            } else {
                f.fix.join(" && ")
            },
        ];
        if with_node {
            row.insert(0, node.to_string());
        }
        t.add_row(row);
    }
    table::to_string(&t)
}

/// One node's snapshot, loaded.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The node's state.
    pub state: NodeState,
    /// Where it comes from (`snapshot snaps/node-1.json`).
    pub label: String,
}

/// True when a directory is one node's text dumps (`ip-route.txt`, `ip-link.txt` …, or a
/// sosreport), not a directory of snapshots.
fn is_text_dump(dir: &Path) -> bool {
    if dir.join("sos_commands").is_dir() {
        return true;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        e.path().is_file() && SnapshotFile::classify(&e.file_name().to_string_lossy()).is_some()
    })
}

/// True when `path` is a directory holding one snapshot per node.
pub fn many_snapshots(path: &Path) -> bool {
    path.is_dir() && !is_text_dump(path)
}

fn json_snapshot(path: &Path, node: Option<&str>) -> anyhow::Result<Snapshot> {
    let label = format!("snapshot {}", path.display());
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {label}"))?;
    let mut state = node_state_from_json(&text, node, &label)?;
    if state.node.is_empty() {
        state.node = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    Ok(Snapshot { state, label })
}

fn text_snapshot(dir: &Path) -> anyhow::Result<Snapshot> {
    let (state, warnings) = node_from_dir(dir)?;
    for w in warnings {
        eprintln!("netpath check: {}: {w}", dir.display());
    }
    Ok(Snapshot {
        state,
        label: format!("text snapshot {}", dir.display()),
    })
}

/// Load the snapshots at `path`: a JSON file, one node's text dumps, or a directory with
/// one of those per node (`*.json` files and text-dump subdirectories). With `node`, only
/// that node's.
pub fn load_snapshots(path: &Path, node: Option<&str>) -> anyhow::Result<Vec<Snapshot>> {
    if path.is_file() {
        return Ok(vec![json_snapshot(path, node)?]);
    }
    if !path.is_dir() {
        anyhow::bail!("snapshot {} does not exist", path.display());
    }
    if is_text_dump(path) {
        return Ok(vec![text_snapshot(path)?]);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("cannot read snapshot directory {}", path.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read snapshot directory {}", path.display()))?;
    entries.sort();
    let mut out: Vec<Snapshot> = Vec::new();
    for p in entries {
        let hidden = p
            .file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with('.'));
        let snap = if hidden {
            continue;
        } else if p.is_file() && p.extension().is_some_and(|e| e == "json") {
            json_snapshot(&p, None)?
        } else if p.is_dir() && is_text_dump(&p) {
            text_snapshot(&p)?
        } else {
            continue;
        };
        if let Some(prev) = out.iter().find(|s| s.state.node == snap.state.node) {
            anyhow::bail!(
                "{} and {} are both snapshots of node {:?}: keep one",
                prev.label,
                snap.label,
                snap.state.node
            );
        }
        out.push(snap);
    }
    if let Some(want) = node {
        out.retain(|s| s.state.node == want);
        if out.is_empty() {
            anyhow::bail!("{} holds no snapshot of node {want:?}", path.display());
        }
    }
    if out.is_empty() {
        anyhow::bail!(
            "{} holds no snapshots (*.json from `netpath snapshot`, or one directory of text dumps per node)",
            path.display()
        );
    }
    Ok(out)
}

/// One node's result in a many-node check.
#[derive(Debug, Serialize)]
pub struct NodeResult {
    /// The node.
    pub node: String,
    /// Where its state came from (null: no snapshot, not checked).
    pub actual: Option<String>,
    /// Its findings' counts, cluster-wide ones on this node included.
    pub summary: Summary,
    /// Its findings against its plan.
    pub findings: Vec<Finding>,
}

#[derive(Serialize)]
struct ManyDoc<'a> {
    schema: String,
    cluster: &'a str,
    snapshots: String,
    summary: Summary,
    nodes: &'a [NodeResult],
    cluster_findings: &'a [ClusterFinding],
}

fn summarize<'a>(findings: impl Iterator<Item = &'a Finding>) -> Summary {
    let mut s = Summary {
        errors: 0,
        warnings: 0,
        info: 0,
    };
    for f in findings {
        match f.severity {
            Severity::Error => s.errors += 1,
            Severity::Warning => s.warnings += 1,
            Severity::Info => s.info += 1,
        }
    }
    s
}

/// Check every node of a cluster against its snapshot, then the cluster as a whole.
/// Nodes of the cluster without a snapshot are listed and not checked; a snapshot of a
/// node the cluster does not have is an error.
pub fn check_many(
    cluster: &crate::model::Cluster,
    snaps: &[Snapshot],
    proto: crate::dataplane::Protocol,
    only: Option<&str>,
) -> anyhow::Result<(Vec<NodeResult>, Vec<ClusterFinding>)> {
    for s in snaps {
        if cluster.node_index(&s.state.node).is_none() {
            anyhow::bail!(
                "{} is of node {:?}, which cluster {} does not have (nodes: {})",
                s.label,
                s.state.node,
                cluster.source,
                cluster
                    .nodes
                    .iter()
                    .take(20)
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let networks = crate::agent::input::pod_networks(cluster);
    let mut plans: Vec<(usize, NodeState)> = Vec::new();
    for (i, s) in snaps.iter().enumerate() {
        plans.push((i, crate::plan::node(cluster, &s.state.node)?.state));
    }
    let views: Vec<NodeView<'_>> = plans
        .iter()
        .map(|(i, plan)| {
            let s = &snaps[*i];
            let pod_cidrs = cluster
                .node_index(&s.state.node)
                .map(|k| cluster.nodes[k].pod_cidrs.as_slice())
                .unwrap_or(&[]);
            NodeView {
                name: &s.state.node,
                actual: &s.state,
                plan: Some(plan),
                pod_cidrs,
            }
        })
        .collect();
    let facts = ClusterFacts {
        networks: networks.clone(),
        pods: cluster
            .pods
            .iter()
            .filter(|p| !p.host_network)
            .flat_map(|p| p.ips.iter().map(|ip| (p.node.clone(), *ip)))
            .collect(),
        agent_proto: proto,
    };
    let mut wide = cluster_findings(&views, &facts);
    if let Some(n) = only {
        wide.retain(|f| f.nodes.iter().any(|x| x == n));
    }
    let mut results = Vec::new();
    for node in &cluster.nodes {
        if only.is_some_and(|n| n != node.name) {
            continue;
        }
        let found = plans
            .iter()
            .find(|(i, _)| snaps[*i].state.node == node.name);
        let (actual, findings) = match found {
            Some((i, plan)) => (
                Some(snaps[*i].label.clone()),
                check(plan, &snaps[*i].state, proto, networks.clone()),
            ),
            None => (None, Vec::new()),
        };
        let summary = summarize(
            findings.iter().chain(
                wide.iter()
                    .filter(|f| f.node == node.name)
                    .map(|f| &f.finding),
            ),
        );
        results.push(NodeResult {
            node: node.name.clone(),
            actual,
            summary,
            findings,
        });
    }
    Ok((results, wide))
}

fn run_many(
    dir: &Path,
    spec: &str,
    only: Option<&str>,
    proto: crate::dataplane::Protocol,
    ctx: &Ctx,
) -> anyhow::Result<Outcome> {
    let cluster = super::agent::cluster_args(spec).load()?;
    if let Some(n) = only
        && cluster.node_index(n).is_none()
    {
        anyhow::bail!("node {n:?} is not in cluster {}", cluster.source);
    }
    // Every snapshot, even with --node: the cluster findings need the other nodes.
    let snaps = load_snapshots(dir, None)?;
    if let Some(n) = only
        && !snaps.iter().any(|s| s.state.node == n)
    {
        anyhow::bail!("{} holds no snapshot of node {n:?}", dir.display());
    }
    let (results, wide) = check_many(&cluster, &snaps, proto, only)?;
    let total = summarize(
        results
            .iter()
            .flat_map(|r| r.findings.iter())
            .chain(wide.iter().map(|f| &f.finding)),
    );
    let problem = total.errors + total.warnings > 0;
    if ctx.json {
        json::print_document(&ManyDoc {
            schema: json::schema("check"),
            cluster: spec,
            snapshots: dir.display().to_string(),
            summary: total,
            nodes: &results,
            cluster_findings: &wide,
        })?;
        return Ok(Outcome::from_findings(problem));
    }
    let mut rows: Vec<(&str, &Finding)> = Vec::new();
    for r in &results {
        rows.extend(r.findings.iter().map(|f| (r.node.as_str(), f)));
    }
    rows.extend(wide.iter().map(|f| (f.node.as_str(), &f.finding)));
    rows.sort_by(|a, b| (a.1.severity, a.0).cmp(&(b.1.severity, b.0)));
    print!("{}", render_rows(&rows, ctx, true));
    if !rows.is_empty() {
        println!();
    }
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    for r in &results {
        match &r.actual {
            Some(a) => println!(
                "{}: {}, {}, {} info ({a})",
                r.node,
                plural(r.summary.errors, "error"),
                plural(r.summary.warnings, "warning"),
                r.summary.info
            ),
            None => println!("{}: not checked (no snapshot in {})", r.node, dir.display()),
        }
    }
    let checked = results.iter().filter(|r| r.actual.is_some()).count();
    println!(
        "cluster {spec}: {} of {} checked, {}, {}, {} info; {} across nodes",
        plural(checked, "node"),
        results.len(),
        plural(total.errors, "error"),
        plural(total.warnings, "warning"),
        total.info,
        plural(wide.len(), "finding")
    );
    Ok(Outcome::from_findings(problem))
}
