//! `netpath agent`: reconcile this node's kernel to its plan (or print what it would do).

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::Ctx;
use crate::agent::input::PlanFile;
use crate::agent::lock::NetnsLock;
use crate::agent::{self, Event, Pass, PlanInput, Settings};
use crate::dataplane::Protocol;
use crate::diff::{AGENT_PROTO, Finding, Phase};
use crate::error::Outcome;
use crate::netlink::Netns;
use crate::render::json;

/// Arguments of `netpath agent`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("mode").args(["dry_run", "once", "watch"])))]
#[command(mut_args(mut_arg_in_place("cluster", |a| a.requires("node").help(
    "The cluster to plan the node from (`demo:NAME`, a cluster file, a kubectl dump); \
     with --watch, re-read when the file changes"
))))]
pub struct AgentArgs {
    /// Where the plan comes from.
    #[command(flatten)]
    pub source: PlanSourceArgs,
    /// The network namespace to program: a name under /run/netns or a path such as
    /// /proc/PID/ns/net (default: the current one).
    #[arg(long, value_name = "NETNS")]
    pub netns: Option<String>,
    /// Print the changes as ip/bridge commands (or JSON) and change nothing. Exit 1 when
    /// there is something to do.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply once, read back, exit 0 only when the node matches the plan (the default).
    #[arg(long)]
    pub once: bool,
    /// Keep going: re-read the plan when it changes, re-check the kernel every
    /// --interval, repair drift. One log line per change, one summary per pass.
    #[arg(long)]
    pub watch: bool,
    /// How often --watch re-checks the kernel (500ms, 10s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = agent::parse_interval)]
    pub interval: Duration,
    /// The route protocol number (or name) that marks the agent's routes; it only ever
    /// changes or deletes routes with this protocol.
    #[arg(long, value_name = "PROTO", default_value_t = AGENT_PROTO.0.to_string(), value_parser = parse_proto_arg)]
    pub proto: String,
    /// Take over foreign routes, neighbours and FDB entries that conflict with the plan
    /// (without it they are reported and left alone).
    #[arg(long)]
    pub adopt: bool,
}

/// Where a node's plan comes from, shared by `agent` and `check`: a plan file, a cluster
/// (with the node), or Flannel's leases in etcd.
#[derive(Debug, clap::Args)]
pub struct PlanSourceArgs {
    /// The node's plan: `netpath plan --json` output (netpath.plan/v1) or a NodeState JSON.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present_any = ["cluster", "etcd_endpoints"],
        conflicts_with_all = ["cluster", "etcd_endpoints"]
    )]
    pub plan: Option<PathBuf>,
    /// The cluster to plan the node from (`demo:NAME`, a cluster file, a kubectl dump).
    #[arg(
        long,
        short = 'c',
        value_name = "CLUSTER",
        conflicts_with = "etcd_endpoints"
    )]
    pub cluster: Option<String>,
    /// Or Flannel's etcd.
    #[command(flatten)]
    pub etcd: super::lease::AgentEtcdArgs,
    /// The node (required with --cluster; picks one from a plan file that holds several).
    #[arg(long, short = 'n', value_name = "NODE")]
    pub node: Option<String>,
}

/// Change the argument `id` where it stands: for a command's own wording of a
/// [`PlanSourceArgs`] argument (`Command::mut_arg` would move it last in completions).
pub(super) fn mut_arg_in_place(
    id: &'static str,
    f: impl Fn(clap::Arg) -> clap::Arg,
) -> impl FnMut(clap::Arg) -> clap::Arg {
    move |a| if a.get_id() == id { f(a) } else { a }
}

fn parse_proto_arg(s: &str) -> Result<String, String> {
    parse_proto(s).map(|p| p.0.to_string())
}

/// A route protocol given by name (`boot`, `bird`) or number (`158`, `0x9e`).
pub fn parse_proto(s: &str) -> Result<Protocol, String> {
    if let Some(hex) = s.strip_prefix("0x") {
        return u8::from_str_radix(hex, 16)
            .map(Protocol)
            .map_err(|_| format!("not a route protocol: {s:?}"));
    }
    Protocol::parse(s).ok_or_else(|| {
        format!("not a route protocol: {s:?} (a number 0-255 or a name like boot, bird)")
    })
}

#[derive(Serialize)]
struct ChangeDoc {
    phase: Phase,
    change: String,
    commands: Vec<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct AgentDoc<'a> {
    schema: String,
    node: &'a str,
    netns: &'a str,
    proto: u8,
    mode: &'static str,
    converged: bool,
    elapsed_ms: f64,
    timings: agent::Timings,
    changes: Vec<ChangeDoc>,
    /// Problems the agent leaves alone (foreign conflicts, devices it cannot make).
    untouched: Vec<&'a Finding>,
    /// What still differs after applying.
    remaining: Vec<&'a Finding>,
}

fn change_docs(pass: &Pass) -> Vec<ChangeDoc> {
    let changes = &pass.before.changes;
    let failed: std::collections::HashMap<usize, &String> = pass
        .applied
        .iter()
        .flat_map(|r| r.failed.iter().map(|(i, e)| (*i, e)))
        .collect();
    changes
        .iter()
        .enumerate()
        .map(|(i, c)| ChangeDoc {
            phase: c.phase(),
            change: c.describe(),
            commands: c.commands(),
            status: match (&pass.applied, failed.get(&i)) {
                (None, _) => "planned",
                (Some(_), None) => "applied",
                (Some(_), Some(_)) => "failed",
            },
            error: failed.get(&i).map(|e| e.to_string()),
        })
        .collect()
}

fn problems(d: &crate::diff::Diff) -> Vec<&Finding> {
    d.findings
        .iter()
        .filter(|f| f.severity.is_problem())
        .collect()
}

fn untouched(d: &crate::diff::Diff) -> Vec<&Finding> {
    d.untouched.iter().map(|&i| &d.findings[i]).collect()
}

fn finding_line(f: &Finding) -> String {
    let mut s = format!("{} {}: {}", f.severity.word(), f.kind, f.object);
    if let Some(e) = &f.expected {
        s.push_str(&format!("; expected {e}"));
    }
    if let Some(a) = &f.actual {
        s.push_str(&format!("; actual {a}"));
    }
    s
}

/// A cluster given by `--cluster` alone.
pub fn cluster_args(spec: &str) -> super::plan::ClusterArgs {
    super::plan::ClusterArgs {
        cluster: spec.to_string(),
        etcd: Default::default(),
        underlay: Vec::new(),
        net_conf: None,
        ippool: Vec::new(),
        versions: Default::default(),
    }
}

/// The plan input of `agent` and `check`: a plan file, or a cluster and a node.
pub fn plan_input(
    plan: Option<&std::path::Path>,
    cluster: Option<&str>,
    node: Option<&str>,
) -> anyhow::Result<Box<dyn PlanInput>> {
    match (plan, cluster, node) {
        (Some(p), _, node) => Ok(Box::new(PlanFile::new(p, node))),
        (None, Some(c), Some(n)) => {
            let args = cluster_args(c);
            Ok(Box::new(crate::agent::input::ClusterPlan::new(
                c,
                n,
                Box::new(move || args.load()),
            )))
        }
        _ => anyhow::bail!("say where the plan comes from: --plan FILE, or --cluster C --node N"),
    }
}

/// Run `netpath agent`.
pub fn run(args: &AgentArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let netns = Netns::from_arg(args.netns.as_deref());
    let proto = parse_proto(&args.proto).map_err(anyhow::Error::msg)?;
    let settings = Settings {
        netns: netns.clone(),
        proto,
        adopt: args.adopt,
        networks: match &args.source.cluster {
            Some(c) => crate::agent::input::pod_networks(&cluster_args(c).load()?),
            None => Vec::new(),
        },
    };
    let (mut input, settings) = if args.source.etcd.is_set() {
        let (input, networks) = super::lease::agent_input(
            &args.source.etcd,
            args.source.node.as_deref(),
            &netns,
            args.dry_run,
        )?;
        (
            input,
            Settings {
                networks,
                ..settings
            },
        )
    } else {
        let input = plan_input(
            args.source.plan.as_deref(),
            args.source.cluster.as_deref(),
            args.source.node.as_deref(),
        )?;
        (input, settings)
    };
    let input = input.as_mut();
    if args.watch {
        let _lock = NetnsLock::acquire(&netns)?;
        return watch(input, &settings, args, ctx);
    }
    let plan = input.load()?;
    let node = if plan.node.is_empty() {
        args.source.node.clone().unwrap_or_default()
    } else {
        plan.node.clone()
    };
    let _lock = if args.dry_run {
        None
    } else {
        Some(NetnsLock::acquire(&netns)?)
    };
    let pass = agent::reconcile(&plan, &settings, agent::read_state, args.dry_run)?;
    let mode = if args.dry_run { "dry-run" } else { "once" };
    if ctx.json {
        json::print_document(&AgentDoc {
            schema: json::schema("agent"),
            node: &node,
            netns: netns.label(),
            proto: proto.0,
            mode,
            converged: pass.converged(),
            elapsed_ms: pass.elapsed.as_secs_f64() * 1000.0,
            timings: pass.timings,
            changes: change_docs(&pass),
            untouched: untouched(&pass.before),
            remaining: if args.dry_run {
                Vec::new()
            } else {
                problems(pass.remaining())
            },
        })?;
    } else {
        // One buffered writer: a log line per change would otherwise be a write(2) each
        // (stdout is line-buffered), 10,000 system calls for 10,000 routes.
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
        if args.dry_run {
            render_dry_run(&mut out, &pass, &node, &netns, proto)?;
        } else {
            render_once(&mut out, &pass, &node, &netns)?;
        }
        out.flush()?;
    }
    let clean = if args.dry_run {
        pass.before.changes.is_empty() && !pass.before.has_problems()
    } else {
        pass.converged()
    };
    // The process ends here: freeing the plan and the pass (100,000 routes, findings and
    // changes, one allocation at a time) would only delay the exit; the kernel takes the
    // memory back at once.
    std::mem::forget(pass);
    std::mem::forget(plan);
    Ok(Outcome::from_findings(!clean))
}

fn render_dry_run(
    out: &mut impl Write,
    pass: &Pass,
    node: &str,
    netns: &Netns,
    proto: Protocol,
) -> anyhow::Result<()> {
    let d = &pass.before;
    writeln!(
        out,
        "# netpath agent --dry-run: node {node}, netns {}, proto {}: {} change{}",
        netns.label(),
        proto.0,
        d.changes.len(),
        if d.changes.len() == 1 { "" } else { "s" }
    )?;
    for c in &d.changes {
        for cmd in c.commands() {
            writeln!(out, "{cmd}")?;
        }
    }
    for f in untouched(d) {
        writeln!(out, "# not touched: {}", finding_line(f))?;
    }
    Ok(())
}

fn render_once(out: &mut impl Write, pass: &Pass, node: &str, netns: &Netns) -> anyhow::Result<()> {
    let failed: std::collections::HashMap<usize, &String> = pass
        .applied
        .iter()
        .flat_map(|r| r.failed.iter().map(|(i, e)| (*i, e)))
        .collect();
    let mut line = String::with_capacity(160);
    for (i, c) in pass.before.changes.iter().enumerate() {
        line.clear();
        match failed.get(&i) {
            None => {
                line.push_str("applied  ");
                c.describe_into(&mut line);
            }
            Some(e) => {
                line.push_str("FAILED   ");
                c.describe_into(&mut line);
                line.push_str(": ");
                line.push_str(e);
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    for f in untouched(&pass.before) {
        writeln!(out, "skipped  {}", finding_line(f))?;
    }
    writeln!(out, "{}", summary(pass, node, netns))?;
    if !pass.converged() {
        for f in problems(pass.remaining()) {
            writeln!(out, "  {}", finding_line(f))?;
        }
    }
    Ok(())
}

fn summary(pass: &Pass, node: &str, netns: &Netns) -> String {
    let n = pass.before.changes.len();
    let failed = pass.applied.as_ref().map_or(0, |r| r.failed.len());
    let state = if pass.converged() {
        "the node matches the plan".to_string()
    } else {
        let left = problems(pass.remaining()).len();
        format!(
            "{left} difference{} remain",
            if left == 1 { "" } else { "s" }
        )
    };
    let name = if node.is_empty() { "node" } else { node };
    format!(
        "{name} (netns {}): {n} change{}, {} applied, {failed} failed in {:.1} ms; {state}",
        netns.label(),
        if n == 1 { "" } else { "s" },
        n - failed,
        pass.elapsed.as_secs_f64() * 1000.0
    )
}

#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum EventDoc<'a> {
    PlanLoaded {
        input: &'a str,
    },
    PlanRejected {
        error: &'a str,
    },
    Pass {
        number: u64,
        converged: bool,
        elapsed_ms: f64,
        changes: Vec<ChangeDoc>,
        remaining: Vec<&'a Finding>,
    },
    PassFailed {
        number: u64,
        error: &'a str,
    },
}

fn watch(
    input: &mut dyn PlanInput,
    settings: &Settings,
    args: &AgentArgs,
    ctx: Ctx,
) -> anyhow::Result<Outcome> {
    let netns = settings.netns.clone();
    let node = args.source.node.clone().unwrap_or_default();
    let mut log = |event: Event<'_>| -> ControlFlow<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let written = if ctx.json {
            let doc = match &event {
                Event::PlanLoaded { input } => EventDoc::PlanLoaded { input },
                Event::PlanRejected { error } => EventDoc::PlanRejected { error },
                Event::Pass { number, pass } => EventDoc::Pass {
                    number: *number,
                    converged: pass.converged(),
                    elapsed_ms: pass.elapsed.as_secs_f64() * 1000.0,
                    changes: change_docs(pass),
                    remaining: problems(pass.remaining()),
                },
                Event::PassFailed { number, error } => EventDoc::PassFailed {
                    number: *number,
                    error,
                },
            };
            json::write_line(&mut out, &doc).is_ok()
        } else {
            let text = match &event {
                Event::PlanLoaded { input } => format!("loaded {input}\n"),
                Event::PlanRejected { error } => {
                    format!("plan rejected, keeping the last good one: {error}\n")
                }
                Event::Pass { number, pass } => {
                    let mut s = String::new();
                    for c in change_docs(pass) {
                        match c.error {
                            None => s.push_str(&format!("[pass {number}] applied {}\n", c.change)),
                            Some(e) => {
                                s.push_str(&format!("[pass {number}] FAILED {}: {e}\n", c.change))
                            }
                        }
                    }
                    s.push_str(&format!(
                        "[pass {number}] {}\n",
                        summary(pass, &node, &netns)
                    ));
                    s
                }
                Event::PassFailed { number, error } => {
                    format!("[pass {number}] failed: {error}\n")
                }
            };
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .is_ok()
        };
        // Nobody reads the log any more (a closed pipe): stop.
        if written {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    };
    agent::watch(input, settings, args.interval, agent::read_state, &mut log)?;
    Ok(Outcome::Clean)
}
