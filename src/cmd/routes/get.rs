//! `netpath routes get ADDR`: ask the kernel (or read a dump), walk the node's policy rules
//! and tables with the kernel model to explain the answer, and render the report.

use crate::dataplane::kernel::{Kernel, KernelAnswer, Verdict, verdict};
use crate::dataplane::predict::Offline;
use crate::dataplane::{Family, NodeState, Rule};
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
    let query = args.query();
    let dump = offline::read(path)?;
    super::warn(&dump.warnings);
    let format = dump.format;
    let family = Family::of(&args.addr);
    let node = Offline::new(dump, family, &offline::shown(path), query.iif.is_some());
    let p = node.predict(&query);
    let routable = matches!(p.verdict, Verdict::Routed);
    let report = GetReport {
        netns: "current",
        query: &query,
        steps: &p.resolution.steps,
        kernel: &p.kernel,
        offline: Some(view::Offline {
            path,
            format,
            notes: &node.notes,
            caveats: &p.caveats,
        }),
        verdict: p.verdict,
        explanation: p
            .resolution
            .winner()
            .and_then(|r| explain(r, node.links.as_deref())),
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
