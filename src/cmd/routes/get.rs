//! `netpath routes get ADDR`: ask the kernel (or read a dump), walk the node's policy rules
//! and tables with the kernel model to explain the answer, and render the report.

use crate::dataplane::kernel::{Kernel, KernelAnswer, Verdict, verdict};
use crate::dataplane::{Family, NodeState, Rule, Table};
use crate::error::Outcome;
use crate::explain::explain;
use crate::netlink::Netns;
use crate::netlink::route as nlroute;
use crate::render::routes::{self as view, GetReport};

use super::Ctx;
use super::args::GetArgs;
use super::offline;

/// Run `netpath routes get`: ask the kernel, and walk its rules and tables to explain
/// the answer.
pub(super) fn run_get(args: GetArgs, netns: Option<&str>, ctx: Ctx) -> anyhow::Result<Outcome> {
    let netns = Netns::from_arg(netns);
    let family = Family::of(&args.addr);
    let query = args.query();
    let kernel = nlroute::lookup(&netns, &query)?;
    let dump = nlroute::dump_routes(&netns, Some(family), None)?;
    let rules: Vec<Rule> = crate::netlink::rule::rules(&netns)?
        .into_iter()
        .filter(|r| r.family == family)
        .collect();
    let node = Kernel::new(NodeState {
        routes: dump.routes,
        rules,
        ..NodeState::default()
    });
    let resolution = node.resolve(&query);
    let verdict = verdict(&query, &resolution, &kernel);
    let routable = matches!(verdict, Verdict::Routed);
    let links = Some(dump.links.as_slice());
    let report = GetReport {
        netns: netns.label(),
        query: &query,
        steps: &resolution.steps,
        kernel: &kernel,
        offline: None,
        verdict,
        explanation: match &kernel.fib_entry {
            KernelAnswer::Route(r) => explain(r, links),
            KernelAnswer::Error(_) => resolution.winner().and_then(|r| explain(r, links)),
        },
    };
    print_get(&report, &ctx)?;
    Ok(Outcome::from_findings(!routable))
}

/// `netpath routes --from FILE get ADDR`: the lookup predicted from a dump, with the
/// default policy rules when it carries none (a route dump); what the kernel would answer
/// is the prediction itself, said as such.
pub(super) fn run_get_offline(
    args: GetArgs,
    path: &std::path::Path,
    ctx: Ctx,
) -> anyhow::Result<Outcome> {
    let family = Family::of(&args.addr);
    let query = args.query();
    let dump = offline::read(path)?;
    for w in &dump.warnings {
        eprintln!("netpath: warning: {w}");
    }
    let format = dump.format;
    let snapshot = format == offline::SNAPSHOT;
    let mut state = dump.state;
    state.routes.retain(|r| r.family() == family);
    let has_local = state.routes.iter().any(|r| r.table == Table::LOCAL);
    let links = dump.has_links.then(|| state.links.clone());
    if !snapshot {
        // A route dump carries no rules: the kernel's defaults.
        state.rules.clear();
    }
    let node = Kernel::new(state);
    let resolution = node.resolve(&query);
    let kernel = node.predict(&query, &resolution);
    let verdict = verdict(&query, &resolution, &kernel);
    let routable = matches!(verdict, Verdict::Routed);
    let shown = if path.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    let mut notes = vec![if snapshot {
        format!(
            "predicted from {shown} ({format}): no kernel was asked; the node's policy rules and sysctls are the snapshot's"
        )
    } else {
        format!(
            "predicted from {shown} ({format}): no kernel was asked; the default policy rules are assumed (a route dump carries none)"
        )
    }];
    if !has_local {
        notes.push(
            "the dump has no local table (`ip route show table all` has it): the node's own addresses are not recognised as local"
                .to_string(),
        );
    }
    if query.iif.is_some() && !snapshot {
        notes.push(
            "--iif: ip_forward and rp_filter are not in a route dump, so their refusals cannot be predicted"
                .to_string(),
        );
    }
    let report = GetReport {
        netns: "current",
        query: &query,
        steps: &resolution.steps,
        kernel: &kernel,
        offline: Some(view::Offline {
            path,
            format,
            notes: &notes,
        }),
        verdict,
        explanation: resolution
            .winner()
            .and_then(|r| explain(r, links.as_deref())),
    };
    print_get(&report, &ctx)?;
    Ok(Outcome::from_findings(!routable))
}

/// Write the `routes get` report (table or JSON) to standard output.
fn print_get(report: &GetReport<'_>, ctx: &Ctx) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(crate::render::out::Stdout::for_json(ctx.json));
    if ctx.json {
        view::write_get_json(report, &mut out)?;
    } else {
        view::write_get(report, &ctx.style, &mut out)?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(())
}
