//! `netpath agent` for people and scripts: a pass's changes (planned, applied, failed),
//! what it left alone and what remains; and the `--watch` log, one line per event.

use std::collections::HashMap;
use std::io::Write;

use serde::Serialize;

use super::findings::line;
use crate::agent::{Event, Pass, Timings};
use crate::dataplane::Protocol;
use crate::diff::{Diff, Finding, Phase};

/// One change of a pass, as JSON.
#[derive(Serialize)]
pub struct ChangeDoc {
    phase: Phase,
    change: String,
    commands: Vec<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// A pass of `agent --once` or `--dry-run`, as JSON.
#[derive(Serialize)]
pub struct PassDoc<'a> {
    schema: String,
    node: &'a str,
    netns: &'a str,
    proto: u8,
    mode: &'static str,
    converged: bool,
    elapsed_ms: f64,
    timings: Timings,
    changes: Vec<ChangeDoc>,
    /// Problems the agent leaves alone (foreign conflicts, devices it cannot make).
    untouched: Vec<&'a Finding>,
    /// What still differs after applying.
    remaining: Vec<&'a Finding>,
}

/// The failed changes of a pass, by index.
fn failures(pass: &Pass) -> HashMap<usize, &String> {
    pass.applied
        .iter()
        .flat_map(|r| r.failed.iter().map(|(i, e)| (*i, e)))
        .collect()
}

fn change_docs(pass: &Pass) -> Vec<ChangeDoc> {
    let failed = failures(pass);
    pass.before
        .changes
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

/// The errors and warnings of a diff.
pub fn problems(d: &Diff) -> Vec<&Finding> {
    d.findings
        .iter()
        .filter(|f| f.severity.is_problem())
        .collect()
}

fn untouched(d: &Diff) -> Vec<&Finding> {
    d.untouched.iter().map(|&i| &d.findings[i]).collect()
}

/// The JSON document of one pass (`dry_run`: nothing was applied, nothing remains).
pub fn pass_doc<'a>(
    pass: &'a Pass,
    node: &'a str,
    netns: &'a str,
    proto: Protocol,
    dry_run: bool,
) -> PassDoc<'a> {
    PassDoc {
        schema: super::json::schema("agent"),
        node,
        netns,
        proto: proto.0,
        mode: if dry_run { "dry-run" } else { "once" },
        converged: pass.converged(),
        elapsed_ms: pass.elapsed.as_secs_f64() * 1000.0,
        timings: pass.timings,
        changes: change_docs(pass),
        untouched: untouched(&pass.before),
        remaining: if dry_run {
            Vec::new()
        } else {
            problems(pass.remaining())
        },
    }
}

/// A dry run: a comment line, the changes as `ip`/`bridge` commands, what would be left
/// alone.
pub fn dry_run(
    out: &mut impl Write,
    pass: &Pass,
    node: &str,
    netns: &str,
    proto: Protocol,
) -> std::io::Result<()> {
    let d = &pass.before;
    writeln!(
        out,
        "# netpath agent --dry-run: node {node}, netns {netns}, proto {}: {} change{}",
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
        writeln!(out, "# not touched: {}", line(f))?;
    }
    Ok(())
}

/// One pass applied: a line per change, what was skipped, the summary, what remains.
pub fn once(out: &mut impl Write, pass: &Pass, node: &str, netns: &str) -> std::io::Result<()> {
    let failed = failures(pass);
    let mut text = String::with_capacity(160);
    for (i, c) in pass.before.changes.iter().enumerate() {
        text.clear();
        match failed.get(&i) {
            None => {
                text.push_str("applied  ");
                c.describe_into(&mut text);
            }
            Some(e) => {
                text.push_str("FAILED   ");
                c.describe_into(&mut text);
                text.push_str(": ");
                text.push_str(e);
            }
        }
        text.push('\n');
        out.write_all(text.as_bytes())?;
    }
    for f in untouched(&pass.before) {
        writeln!(out, "skipped  {}", line(f))?;
    }
    writeln!(out, "{}", summary(pass, node, netns))?;
    if !pass.converged() {
        for f in problems(pass.remaining()) {
            writeln!(out, "  {}", line(f))?;
        }
    }
    Ok(())
}

/// `node (netns N): N changes, N applied, N failed in T ms; the node matches the plan`.
fn summary(pass: &Pass, node: &str, netns: &str) -> String {
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
        "{name} (netns {netns}): {n} change{}, {} applied, {failed} failed in {:.1} ms; {state}",
        if n == 1 { "" } else { "s" },
        n - failed,
        pass.elapsed.as_secs_f64() * 1000.0
    )
}

/// A `--watch` event, as one JSON line.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventDoc<'a> {
    /// A plan was loaded.
    PlanLoaded {
        /// The input.
        input: &'a str,
    },
    /// A plan was rejected.
    PlanRejected {
        /// Why.
        error: &'a str,
    },
    /// A pass ran.
    Pass {
        /// Its number.
        number: u64,
        /// Whether the node matches the plan after it.
        converged: bool,
        /// How long it took.
        elapsed_ms: f64,
        /// Its changes.
        changes: Vec<ChangeDoc>,
        /// What still differs.
        remaining: Vec<&'a Finding>,
    },
    /// A pass could not run.
    PassFailed {
        /// Its number.
        number: u64,
        /// Why.
        error: &'a str,
    },
}

/// The JSON line of a `--watch` event.
pub fn event_doc<'a>(event: &'a Event<'a>) -> EventDoc<'a> {
    match event {
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
    }
}

/// The text lines of a `--watch` event.
pub fn event_text(event: &Event<'_>, node: &str, netns: &str) -> String {
    match event {
        Event::PlanLoaded { input } => format!("loaded {input}\n"),
        Event::PlanRejected { error } => {
            format!("plan rejected, keeping the last good one: {error}\n")
        }
        Event::Pass { number, pass } => {
            let mut s = String::new();
            for c in change_docs(pass) {
                match c.error {
                    None => s.push_str(&format!("[pass {number}] applied {}\n", c.change)),
                    Some(e) => s.push_str(&format!("[pass {number}] FAILED {}: {e}\n", c.change)),
                }
            }
            s.push_str(&format!("[pass {number}] {}\n", summary(pass, node, netns)));
            s
        }
        Event::PassFailed { number, error } => format!("[pass {number}] failed: {error}\n"),
    }
}
