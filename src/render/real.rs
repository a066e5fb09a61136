//! The parts of `netpath trace` that come from real state: which hosts were walked through
//! a snapshot or the live kernel, what the plan has where they differ, the kernel's own
//! answers, and the plan's verdict next to the real one.

use std::fmt::Write as _;

use colored::Colorize;

use crate::scene::Placed;
use crate::trace::{Hop, Trace, Verdict};
use crate::world::Source;

/// The tag after a host's name: nothing for the plan, `[snapshot]` or `[live]`.
pub fn host_tag(source: Source) -> String {
    match source {
        Source::Plan => String::new(),
        s => format!("  {}", format!("[{}]", s.word()).yellow()),
    }
}

/// The lines under a hop: what the plan has there when the real state differs, and the
/// kernel's answer to the same lookup.
pub fn hop_lines(out: &mut String, h: &Hop) {
    let pad = " ".repeat(13);
    if let Some(e) = &h.expected {
        let why = e
            .why
            .as_deref()
            .map(|w| format!(": {w}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{pad}{} {}{}",
            "expected (plan)".yellow().bold(),
            e.plan,
            why.dimmed()
        );
        if let Some(o) = &e.outcome {
            let _ = writeln!(out, "{pad}{}", o.dimmed());
        }
    }
    if let Some(k) = &h.kernel {
        let verdict = if k.agrees {
            "agrees".green().to_string()
        } else {
            "DIFFERS from netpath's walk".red().bold().to_string()
        };
        let _ = writeln!(
            out,
            "{pad}{} {} → {} ({verdict})",
            "kernel".blue().bold(),
            k.query,
            k.answer
        );
    }
}

/// Where each host's state came from, and the plan's verdicts next to the real ones.
pub fn summary(placed: &[Placed], real: &Trace, plan: Option<&Trace>) -> String {
    let mut out = String::new();
    out.push('\n');
    for p in placed {
        let from = match &p.path {
            Some(path) => format!("{} {}", p.source.word(), path.display()),
            None => "the live kernel".to_string(),
        };
        let _ = writeln!(
            out,
            "{} {} from {from} (taken {}, matched by {}, {} pod(s) mapped)",
            "state:".dimmed(),
            p.host.cyan(),
            p.taken_at,
            p.matched_by,
            p.pods_mapped
        );
    }
    let _ = writeln!(out, "{} every other host from the plan", "state:".dimmed());
    if let Some(plan) = plan {
        let dirs = [
            (
                "request",
                Some(&real.request.verdict),
                Some(&plan.request.verdict),
            ),
            (
                "reply",
                real.reply.as_ref().map(|r| &r.verdict),
                plan.reply.as_ref().map(|r| &r.verdict),
            ),
        ];
        for (name, r, p) in dirs {
            let (Some(r), Some(p)) = (r, p) else { continue };
            let same = r.ok() == p.ok();
            let line = format!(
                "{name}: the plan {}; the real state {}",
                verdict_text(p),
                verdict_text(r)
            );
            let line = if same {
                line.normal().to_string()
            } else {
                line.yellow().bold().to_string()
            };
            let _ = writeln!(out, "{} {line}", "plan vs real:".dimmed());
        }
    }
    out
}

fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Delivered { host } => format!("delivers it to {host}"),
        Verdict::Exited { host, gateway } => format!("sends it out of {host} through {gateway}"),
        Verdict::Dropped {
            host,
            device,
            reason,
            ..
        } => match device {
            Some(d) => format!("drops it at {host} ({d}): {}", reason.code()),
            None => format!("drops it at {host}: {}", reason.code()),
        },
    }
}
