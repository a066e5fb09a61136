//! `netpath check`: every difference between a node's plan and what it really has.

use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use super::Ctx;
use super::agent::parse_proto;
use crate::agent::input::{PlanFile, node_state_from_json};
use crate::dataplane::NodeState;
use crate::diff::{self, AGENT_PROTO, Finding, Ownership, Severity};
use crate::error::Outcome;
use crate::netlink::Netns;
use crate::render::{json, table};

/// Arguments of `netpath check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The node's plan: `netpath plan --json` output (netpath.plan/v1) or a NodeState JSON.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "cluster",
        conflicts_with = "cluster"
    )]
    pub plan: Option<PathBuf>,
    /// The cluster to plan the node from (`demo:NAME`, a cluster file, a kubectl dump).
    #[arg(long, short = 'c', value_name = "CLUSTER", requires = "node")]
    pub cluster: Option<String>,
    /// The node (required with --cluster; picks one from a plan or snapshot file that
    /// holds several).
    #[arg(long, short = 'n', value_name = "NODE")]
    pub node: Option<String>,
    /// Read the live state of this network namespace: a name under /run/netns or a path
    /// such as /proc/PID/ns/net (default: the current one).
    #[arg(long, value_name = "NETNS", conflicts_with = "snapshot")]
    pub netns: Option<String>,
    /// Compare with a snapshot (netpath.snapshot/v1 or NodeState JSON) instead of the
    /// live kernel.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// The agent's route protocol: its routes count as the CNI's.
    #[arg(long, value_name = "PROTO", default_value_t = AGENT_PROTO.0.to_string())]
    pub proto: String,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    info: usize,
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
    let (plan, networks, plan_label) = match (&args.plan, &args.cluster, &args.node) {
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
        _ => anyhow::bail!("say where the plan comes from: --plan FILE, or --cluster C --node N"),
    };
    let (actual, actual_label) = match &args.snapshot {
        Some(path) => {
            let what = format!("snapshot {}", path.display());
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {what}"))?;
            let node = args
                .node
                .as_deref()
                .or(Some(plan.node.as_str()).filter(|n| !n.is_empty()));
            (node_state_from_json(&text, node, &what)?, what)
        }
        None => {
            let netns = Netns::from_arg(args.netns.as_deref());
            let label = format!("netns {}", netns.label());
            (crate::agent::read_state(&netns)?, label)
        }
    };
    let findings = check(&plan, &actual, proto, networks);
    let node = if plan.node.is_empty() {
        args.node.clone().unwrap_or_default()
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
    if findings.is_empty() {
        return String::new();
    }
    let mut t = table::new_table(
        &ctx.style,
        &["SEVERITY", "KIND", "OBJECT", "EXPECTED", "ACTUAL", "FIX"],
    );
    for f in findings {
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
        t.add_row(vec![
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
        ]);
    }
    table::to_string(&t)
}
