//! `netpath routes`: the kernel's routes with route -n's flags and what route -n hides, and
//! `netpath routes get ADDR`: which route wins for an address and why, beside the kernel's
//! own answer.

mod args;
mod get;
mod offline;

use crate::dataplane::parse::ParseWarning;
use crate::dataplane::{Family, Route, Table};
use crate::error::Outcome;
use crate::explain::explain;
use crate::netlink::Netns;
use crate::netlink::route as nlroute;
use crate::render::routes::{self as view, RoutesView, Row};

pub use args::{GetArgs, RoutesArgs, RoutesCommand, TableFilter};

use super::Ctx;

/// Run `netpath routes`.
pub fn run(args: RoutesArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    if args.compat && ctx.json {
        anyhow::bail!("--compat prints route -n's text and --json prints JSON: choose one");
    }
    if let Some(RoutesCommand::Get(get)) = args.command {
        if args.table.is_some() || args.ipv4 || args.ipv6 || args.compat {
            anyhow::bail!(
                "--table, -4, -6 and --compat apply to the route list, not to `routes get` \
                 (the address decides the family; the policy rules decide the table)"
            );
        }
        if let Some(path) = &args.input {
            if args.netns.is_some() {
                anyhow::bail!(
                    "--netns asks a live kernel; with `routes --from FILE get ADDR` the dump is read instead"
                );
            }
            return get::run_get_offline(get, path, ctx);
        }
        return get::run_get(get, args.netns.as_deref(), ctx);
    }
    let family = if args.ipv4 || args.compat {
        Some(Family::Inet)
    } else if args.ipv6 {
        Some(Family::Inet6)
    } else {
        None
    };
    let table = args.table.unwrap_or(TableFilter::One(Table::MAIN));
    let netns = Netns::from_arg(args.netns.as_deref());

    if args.input.is_none() && !ctx.json {
        return stream(&netns, family, table, args.compat, &ctx);
    }
    let (routes, links, source, warnings) = match &args.input {
        Some(path) => {
            let dump = offline::read(path)?;
            // A dump made without `table all` has no table column: its routes are main's.
            (
                dump.state.routes,
                dump.has_links.then_some(dump.state.links),
                view::Source::File {
                    path,
                    format: dump.format,
                },
                dump.warnings,
            )
        }
        None => {
            let only = match table {
                TableFilter::One(t) => Some(t),
                TableFilter::All => None,
            };
            let dump = nlroute::dump_routes(&netns, family, only)?;
            (
                dump.routes,
                Some(dump.links),
                view::Source::Kernel {
                    netns: netns.label(),
                },
                Vec::new(),
            )
        }
    };
    let links = links.as_deref();
    let rows: Vec<Row<'_>> = routes
        .iter()
        .filter(|r| table.admits(r) && family.is_none_or(|f| r.family() == f))
        .map(|r| Row {
            route: r,
            flags: r.flags(),
            explanation: explain(r, links),
        })
        .collect();
    let shown = RoutesView {
        source,
        table: table.name(),
        rows,
        warnings: &warnings,
    };
    let mut out = std::io::BufWriter::with_capacity(
        64 * 1024,
        crate::render::out::Stdout::for_json(ctx.json),
    );
    if ctx.json {
        view::write_json(&shown, &mut out)?;
    } else if args.compat {
        view::write_compat(&shown, &mut out)?;
    } else {
        view::write_table(&shown, &ctx.style, &mut out)?;
    }
    std::io::Write::flush(&mut out)?;
    warn(&warnings);
    Ok(Outcome::Clean)
}

/// The parser's warnings on standard error, then (when lines were skipped) that the rest
/// was read: a damaged dump is not a failed query.
fn warn(warnings: &[ParseWarning]) {
    for w in warnings {
        crate::diag!("netpath: warning: {w}");
    }
    let skipped = warnings.iter().filter(|w| w.skipped.is_some()).count();
    if skipped > 0 {
        crate::diag!(
            "netpath: warning: {skipped} damaged line{} skipped; the rest of the dump was read",
            if skipped == 1 { "" } else { "s" }
        );
    }
}

/// The table (or `--compat`) view of the kernel's routes, written as the dump is read:
/// each route is decoded into one reused value and formatted once, so 100,000 routes cost
/// no memory per route beyond their formatted text (none at all for `--compat`).
fn stream(
    netns: &Netns,
    family: Option<Family>,
    table: TableFilter,
    compat: bool,
    ctx: &Ctx,
) -> anyhow::Result<Outcome> {
    let only = match table {
        TableFilter::One(t) => Some(t),
        TableFilter::All => None,
    };
    let admits = |r: &Route| table.admits(r) && family.is_none_or(|f| r.family() == f);
    let mut out = crate::render::out::Stdout::text();
    if compat {
        let mut buf = Vec::with_capacity(72 * 1024);
        buf.extend_from_slice(view::COMPAT_HEADER);
        nlroute::for_each_route(netns, family, only, |r, _| {
            if admits(r) {
                view::compat_line(r, &mut buf);
                if buf.len() >= 64 * 1024 {
                    std::io::Write::write_all(&mut out, &buf)?;
                    buf.clear();
                }
            }
            Ok(())
        })?;
        std::io::Write::write_all(&mut out, &buf)?;
    } else {
        let mut shown = view::TableBuilder::new();
        nlroute::for_each_route(netns, family, only, |r, links| {
            if admits(r) {
                shown.push(&Row {
                    route: r,
                    flags: r.flags(),
                    explanation: explain(r, Some(links)),
                });
            }
            Ok(())
        })?;
        shown.write(ctx.style.color, &mut out)?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(Outcome::Clean)
}
