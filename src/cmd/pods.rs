//! `netpath pods`: which pod is behind each host veth, and what dead pods left behind.

use super::Ctx;
pub use super::source::PodsArgs;
use crate::error::Outcome;
use crate::pods;
use crate::render::{self, json};

/// Run `netpath pods`.
pub fn run(args: &PodsArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let opts = args.options()?;
    let snapshot = pods::gather(&opts)?;
    let report = pods::analyze(&snapshot);
    if ctx.json {
        json::print_document(&render::pods::document(&report))?;
    } else {
        crate::render::out::print(&render::pods::text(&report, &ctx.style))?;
    }
    Ok(Outcome::from_findings(report.has_findings()))
}
