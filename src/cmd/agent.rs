//! `netpath agent`: reconcile this node's kernel to its plan (or print what it would do).

use std::io::Write;
use std::ops::ControlFlow;
use std::time::Duration;

use super::Ctx;
use super::args::PlanSourceArgs;
use super::source::{
    cluster_args, lease_input, mut_arg_in_place, parse_proto, parse_proto_arg, plan_input,
};
use crate::agent::lock::NetnsLock;
use crate::agent::{self, Event, PlanInput, Settings};
use crate::diff::{AGENT_PROTO, pod_networks};
use crate::error::Outcome;
use crate::netlink::Netns;
use crate::render::{agent as render, json};
use crate::snapshot::read_state;

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

/// Run `netpath agent`.
pub fn run(args: &AgentArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let netns = Netns::from_arg(args.netns.as_deref());
    let proto = parse_proto(&args.proto).map_err(anyhow::Error::msg)?;
    crate::agent::guard::check_proto(proto, args.adopt)?;
    let settings = Settings {
        announce: Some(|w| crate::diag!("netpath: warning: --adopt: {w}")),
        netns: netns.clone(),
        proto,
        adopt: args.adopt,
        networks: match &args.source.cluster_spec() {
            Some(c) => {
                let cluster = cluster_args(c, &args.source.versions).load()?;
                if let Some(n) = super::args::unknown_version_note(&cluster) {
                    crate::diag!("netpath agent: note: {n}");
                }
                pod_networks(&cluster)
            }
            None => Vec::new(),
        },
    };
    let (mut input, settings) = if args.source.etcd.is_set() {
        let (input, networks) = lease_input(
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
            args.source.cluster_spec().as_deref(),
            args.source.node.as_deref(),
            &args.source.versions,
        )?;
        (input, settings)
    };
    let input = input.as_mut();
    if args.watch {
        let _lock = NetnsLock::acquire(&netns)?;
        return watch(input, &settings, args, ctx);
    }
    let mut plan = input.load()?;
    // Pods are the CNI plugin's: their host veths are found by the node's facts (not the
    // plan's invented names), pods the node does not have are left out, and cni0's MAC is
    // the bridge plugin's. Only what flanneld or Felix/BIRD own is the agent's to program.
    if let (Some(c), Some(n)) = (&args.source.cluster, &args.source.node) {
        let cluster = cluster_args(c, &args.source.versions).load()?;
        if let Ok(np) = crate::plan::node(&cluster, n) {
            let mut pods = np.pods;
            if !pods.is_empty() {
                // The pod map says which veth is whose pod and the pods' MACs (Felix's
                // permanent neighbours hold them).
                let snap = crate::snapshot::read_live(&crate::snapshot::LiveOptions {
                    netns: netns.clone(),
                    node: None,
                    pods: Some(crate::pods::Options {
                        node: netns.clone(),
                        ..Default::default()
                    }),
                })?;
                crate::diff::facts::resolve_state(
                    &mut plan,
                    &mut pods,
                    &snap.state,
                    snap.pods.as_deref(),
                );
            }
        }
    }
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
    let pass = agent::reconcile(&plan, &settings, read_state, args.dry_run)?;
    if args.dry_run {
        for w in &pass.warnings {
            crate::diag!("netpath: warning: --adopt: {w}");
        }
    }
    if ctx.json {
        let doc = render::pass_doc(&pass, &node, netns.label(), proto, args.dry_run);
        json::print_document(&doc)?;
    } else {
        // One buffered writer: a log line per change would otherwise be a write(2) each
        // (stdout is line-buffered), 10,000 system calls for 10,000 routes.
        let mut out =
            std::io::BufWriter::with_capacity(64 * 1024, crate::render::out::Stdout::text());
        if args.dry_run {
            render::dry_run(&mut out, &pass, &node, netns.label(), proto)?;
        } else {
            render::once(&mut out, &pass, &node, netns.label())?;
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

fn watch(
    input: &mut dyn PlanInput,
    settings: &Settings,
    args: &AgentArgs,
    ctx: Ctx,
) -> anyhow::Result<Outcome> {
    let netns = settings.netns.clone();
    let node = args.source.node.clone().unwrap_or_default();
    let mut log = |event: Event<'_>| -> ControlFlow<()> {
        let mut out = crate::render::out::Stdout::for_json(ctx.json);
        let written = if ctx.json {
            json::write_line(&mut out, &render::event_doc(&event)).is_ok()
        } else {
            let text = render::event_text(&event, &node, netns.label());
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
    agent::watch(input, settings, args.interval, read_state, &mut log)?;
    Ok(Outcome::Clean)
}
