//! The `routes get` report: the question, the kernel's answer (or, offline, what was
//! assumed), the policy rules the lookup walked with the routes each table had, and the
//! verdict — for people and as JSON (`netpath.routes.get/v1`).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::bytes::type_word;
use super::json::{JsonRoute, JsonTable, json_route};
use super::{Paint, Row};
use crate::dataplane::kernel::{
    KernelAnswer, RouteLookup, RouteQuery, Step, StepEnd, Verdict, errno_text,
};
use crate::dataplane::predict::SkippedCaveat;
use crate::dataplane::{Route, Table};
use crate::explain::Explanation;
use crate::render::Style;
use crate::render::json::schema;

/// Where an offline `routes get` read its routes, and what it assumed.
#[derive(Debug, Clone, Copy)]
pub struct Offline<'a> {
    /// The dump (`-` for standard input).
    pub path: &'a Path,
    /// Its format's name.
    pub format: &'static str,
    /// What was assumed, in words.
    pub notes: &'a [String],
    /// The dump's skipped lines that could change the answer.
    pub caveats: &'a [SkippedCaveat],
}

/// Everything `routes get` shows.
#[derive(Debug)]
pub struct GetReport<'a> {
    /// The netns label.
    pub netns: &'a str,
    /// The question.
    pub query: &'a RouteQuery,
    /// The policy rules that matched, in order, with their lookups.
    pub steps: &'a [Step<'a>],
    /// The kernel's own answers (offline: the prediction, as the kernel would answer).
    pub kernel: &'a RouteLookup,
    /// Set when the routes come from a dump and no kernel was asked.
    pub offline: Option<Offline<'a>>,
    /// Routable or not, and why.
    pub verdict: Verdict,
    /// The CNI explanation of the matched route.
    pub explanation: Option<Explanation<'a>>,
}

fn why_not(winner: &Route, other: &Route) -> String {
    if other.dst.prefix() < winner.dst.prefix() {
        format!(
            "/{} is shorter than /{}",
            other.dst.prefix(),
            winner.dst.prefix()
        )
    } else if other.metric.unwrap_or(0) > winner.metric.unwrap_or(0) {
        format!(
            "metric {} is higher than {}",
            other.metric.unwrap_or(0),
            winner.metric.unwrap_or(0)
        )
    } else {
        "same prefix and metric: the kernel uses the first one".to_string()
    }
}

/// The `routes get` report for people.
pub fn write_get(r: &GetReport<'_>, style: &Style, out: &mut impl Write) -> io::Result<()> {
    let paint = |p: Paint, s: &str| -> String {
        if style.color {
            format!("{}{s}\x1b[0m", p.code())
        } else {
            s.to_string()
        }
    };
    let q = r.query;
    write!(out, "route to {}", q.dst)?;
    if let Some(s) = q.src {
        write!(out, " from {s}")?;
    }
    if let Some(i) = &q.iif {
        write!(out, " arriving on {i}")?;
    }
    if q.mark != 0 {
        write!(out, " mark {:#x}", q.mark)?;
    }
    if q.tos != 0 {
        write!(out, " tos {:#04x}", q.tos)?;
    }
    if r.netns != "current" {
        write!(out, " in netns {}", r.netns)?;
    }
    writeln!(out)?;
    if let Some(off) = &r.offline {
        for n in off.notes {
            writeln!(out, "{}", paint(Paint::Yellow, &format!("note: {n}")))?;
        }
        for c in off.caveats {
            writeln!(out, "{}", paint(Paint::Yellow, &format!("warning: {c}")))?;
        }
    } else {
        writeln!(out)?;
        write_kernel_answer(r, &paint, out)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint(
            Paint::Bold,
            "why (policy rules in order, then longest prefix, then lowest metric):"
        )
    )?;
    write_steps(r, &paint, out)?;
    if let Some(e) = &r.explanation {
        writeln!(out)?;
        writeln!(out, "{} {e}", paint(Paint::Bold, "explanation:"))?;
    }
    let predicted = r.steps.last().and_then(|s| match &s.end {
        StepEnd::Route { covering, .. } => covering.first().copied(),
        _ => None,
    });
    if let (KernelAnswer::Route(fib), Some(p), None) = (&r.kernel.fib_entry, predicted, &r.offline)
    {
        if !same_entry(fib, p) {
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                paint(
                    Paint::Yellow,
                    "note: the kernel matched another entry than netpath predicts (TOS, marks or \
                     rules netpath does not model)"
                )
            )?;
        }
    }
    writeln!(out)?;
    let said = if r.offline.is_some() {
        "the kernel would say"
    } else {
        "the kernel said"
    };
    match &r.verdict {
        Verdict::Routed => writeln!(out, "{} routable", paint(Paint::Bold, "verdict:"))?,
        Verdict::NotRoutable {
            reason,
            kernel_said,
            ..
        } => writeln!(
            out,
            "{} {} ({said}: {kernel_said})",
            paint(Paint::Bold, "verdict:"),
            paint(Paint::Red, &format!("not routable: {reason}"))
        )?,
    }
    Ok(())
}

/// The kernel's answers (`ip route get` and the matched FIB entry).
fn write_kernel_answer(
    r: &GetReport<'_>,
    paint: &impl Fn(Paint, &str) -> String,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out, "{}", paint(Paint::Bold, "kernel (ip route get):"))?;
    match &r.kernel.resolved {
        KernelAnswer::Route(route) => {
            write!(out, "  {}", resolved_text(route))?;
            if let Some(e) = r.kernel.route_error {
                write!(out, " error: {}", errno_text(e))?;
            }
            writeln!(out)?;
        }
        KernelAnswer::Error(e) => writeln!(
            out,
            "  {}",
            paint(Paint::Red, &format!("refused: {}", errno_text(*e)))
        )?,
    }
    match &r.kernel.fib_entry {
        KernelAnswer::Route(route) => {
            writeln!(out, "  matched FIB entry: {route}")?;
        }
        KernelAnswer::Error(_) => {}
    }
    Ok(())
}

/// The policy rules that matched, and the routes each lookup saw.
fn write_steps(
    r: &GetReport<'_>,
    paint: &impl Fn(Paint, &str) -> String,
    out: &mut impl Write,
) -> io::Result<()> {
    let q = r.query;
    if r.steps.is_empty() {
        writeln!(out, "  no policy rule matches")?;
    }
    for step in r.steps {
        let rule = step.rule.to_string();
        writeln!(out, "  rule {}", rule.replace(":\t", ": "))?;
        match &step.end {
            StepEnd::RuleDrops(a) => {
                writeln!(out, "    the rule itself drops the packet ({a:?})")?;
            }
            StepEnd::Goto(target) => {
                writeln!(out, "    goto: the lookup goes on at rule {target}")?
            }
            StepEnd::Skipped => writeln!(out, "    not followed (nop/goto)")?,
            end => {
                let Some((table, covering)) = end.table() else {
                    continue;
                };
                if covering.is_empty() {
                    writeln!(
                        out,
                        "    table {}: no route covers {}, next rule",
                        table.name(),
                        q.dst
                    )?;
                    continue;
                }
                writeln!(
                    out,
                    "    table {}: {} route{} cover{} {}",
                    table.name(),
                    covering.len(),
                    if covering.len() == 1 { "" } else { "s" },
                    if covering.len() == 1 { "s" } else { "" },
                    q.dst
                )?;
                let best = covering[0];
                for (i, c) in covering.iter().enumerate() {
                    if i == 0 {
                        let note = match end {
                            StepEnd::Throw { .. } => " (throw: next rule)",
                            StepEnd::Suppressed { .. } => {
                                " (suppressed by suppress_prefixlength: next rule)"
                            }
                            _ => " (wins)",
                        };
                        writeln!(
                            out,
                            "    {} {c}{}",
                            paint(Paint::Cyan, "->"),
                            paint(Paint::Cyan, note)
                        )?;
                    } else if i < 8 {
                        writeln!(out, "       {c}  ({})", why_not(best, c))?;
                    } else {
                        writeln!(
                            out,
                            "       … and {} more shorter prefixes",
                            covering.len() - 8
                        )?;
                        break;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The resolved route the way `ip route get` prints it: `DST [via GW] dev DEV [table T]
/// [src SRC]`.
fn resolved_text(r: &Route) -> String {
    let mut s = String::new();
    if let Some(t) = type_word(r.kind) {
        s.push_str(t);
        s.push(' ');
    }
    let _ = write!(s, "{}", r.dst.network());
    if let Some(gw) = r.gateway() {
        let _ = write!(s, " via {gw}");
    }
    if let Some(dev) = r.dev() {
        let _ = write!(s, " dev {dev}");
    }
    if r.table != Table::MAIN {
        let _ = write!(s, " table {}", r.table.name());
    }
    if let Some(src) = r.prefsrc {
        let _ = write!(s, " src {src}");
    }
    s
}

/// Whether the kernel's FIB match and netpath's prediction are the same route.
pub fn same_entry(a: &Route, b: &Route) -> bool {
    a.dst == b.dst
        && a.table == b.table
        && a.kind == b.kind
        && a.metric.unwrap_or(0) == b.metric.unwrap_or(0)
        && a.gateway() == b.gateway()
        && a.dev() == b.dev()
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    route: Option<JsonRoute<'a>>,
    error: Option<JsonErr>,
}

#[derive(Serialize)]
struct JsonErr {
    errno: i32,
    message: String,
}

fn json_answer<'a>(a: &'a KernelAnswer, extra: Option<i32>) -> JsonAnswer<'a> {
    match a {
        KernelAnswer::Route(r) => JsonAnswer {
            route: Some(json_route(&Row {
                route: r,
                flags: r.flags(),
                explanation: None,
            })),
            error: extra.map(|e| JsonErr {
                errno: e,
                message: errno_text(e),
            }),
        },
        KernelAnswer::Error(e) => JsonAnswer {
            route: None,
            error: Some(JsonErr {
                errno: *e,
                message: errno_text(*e),
            }),
        },
    }
}

#[derive(Serialize)]
struct JsonStep<'a> {
    rule: String,
    priority: u32,
    table: Option<JsonTable>,
    outcome: &'static str,
    covering: Vec<JsonRoute<'a>>,
}

/// The `routes get` report as one JSON document, schema `netpath.routes.get/v1`.
pub fn write_get_json(r: &GetReport<'_>, out: &mut impl Write) -> anyhow::Result<()> {
    let steps: Vec<JsonStep<'_>> = r
        .steps
        .iter()
        .map(|s| {
            let (table, covering) = match s.end.table() {
                Some((t, c)) => (
                    Some(JsonTable {
                        id: t.0,
                        name: t.name(),
                    }),
                    c.iter()
                        .map(|route| {
                            json_route(&Row {
                                route,
                                flags: route.flags(),
                                explanation: None,
                            })
                        })
                        .collect(),
                ),
                None => (None, Vec::new()),
            };
            JsonStep {
                rule: s.rule.to_string().replace(":\t", ": "),
                priority: s.rule.priority,
                table,
                outcome: match s.end {
                    StepEnd::Route { .. } => "route",
                    StepEnd::NoRoute { .. } => "no-route",
                    StepEnd::Suppressed { .. } => "suppressed",
                    StepEnd::Throw { .. } => "throw",
                    StepEnd::RuleDrops(_) => "rule-drops",
                    StepEnd::Goto(_) => "goto",
                    StepEnd::Skipped => "skipped",
                },
                covering,
            }
        })
        .collect();
    let (routable, errno, kernel_said, reason) = match &r.verdict {
        Verdict::Routed => (true, None, None, None),
        Verdict::NotRoutable {
            errno,
            kernel_said,
            reason,
        } => (
            false,
            Some(*errno),
            Some(kernel_said.as_str()),
            Some(reason.as_str()),
        ),
    };
    let mut doc = serde_json::json!({
        "schema": schema("routes.get"),
        "netns": r.netns,
        "dst": r.query.dst,
        "from": r.query.src,
        "iif": r.query.iif,
    });
    // The mark and TOS only when the question has them (the document's keys stay the same
    // for the questions without).
    if let Some(m) = doc.as_object_mut() {
        if r.query.mark != 0 {
            m.insert("mark".into(), r.query.mark.into());
        }
        if r.query.tos != 0 {
            m.insert("tos".into(), r.query.tos.into());
        }
    }
    let rest = serde_json::json!({
        // Offline there is no kernel answer: `source` names the dump instead.
        "kernel": r.offline.is_none().then(|| json_answer(&r.kernel.resolved, r.kernel.route_error)),
        "fib_entry": r.offline.is_none().then(|| json_answer(&r.kernel.fib_entry, None)),
        "source": match &r.offline {
            Some(o) => serde_json::json!({
                "file": o.path.display().to_string(),
                "format": o.format,
                "notes": o.notes,
                "skipped_lines": o.caveats,
            }),
            None => serde_json::json!("kernel"),
        },
        "steps": steps,
        "explanation": r.explanation.map(|e| e.to_string()),
        "routable": routable,
        "errno": errno,
        "kernel_said": kernel_said,
        "reason": reason,
    });
    if let (Some(m), serde_json::Value::Object(rest)) = (doc.as_object_mut(), rest) {
        m.extend(rest);
    }
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")?;
    Ok(())
}
