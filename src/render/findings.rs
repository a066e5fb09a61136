//! Findings for people: `check`'s table (one node, or a cluster's nodes with their
//! summaries), `pods`' blocks, the leases' problem list, and the agent's one-line form.

use std::fmt::Write as _;

use colored::Colorize;
use comfy_table::{Attribute, Cell, Color};
use serde::Serialize;

use super::Style;
use super::json::schema;
use super::table;
use crate::diff::check::{NodeResult, Summary};
use crate::diff::cluster::ClusterFinding;
use crate::findings::{Finding, Kind, Severity};

/// The findings as a table (SEVERITY, KIND, OBJECT, EXPECTED, ACTUAL, FIX), each row
/// after its node's name when `with_node`, then the fixes. Empty when there are none.
///
/// The FIX column only numbers the fixes (`#1`); the commands follow the table, each whole
/// on its own line under a `# fix N` comment, so that they can be pasted into a shell
/// however narrow the terminal (a table cell would wrap them, inside a MAC address).
/// Colour goes through the table library, which measures the text and not the escape codes.
pub fn table<K: Kind>(rows: &[(&str, &Finding<K>)], style: &Style, with_node: bool) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut headers = vec!["SEVERITY", "KIND", "OBJECT", "EXPECTED", "ACTUAL", "FIX"];
    if with_node {
        headers.insert(0, "NODE");
    }
    let mut t = table::new_table(style, &headers);
    let mut fixes = String::new();
    let mut numbered = 0;
    for (node, f) in rows {
        let word = f.severity.word();
        let mut sev = Cell::new(word);
        if style.color {
            sev = match f.severity {
                Severity::Error => sev.fg(Color::Red).add_attribute(Attribute::Bold),
                Severity::Warning => sev.fg(Color::Yellow),
                Severity::Info => sev.add_attribute(Attribute::Dim),
            };
        }
        let kind = if f.attributes.len() > 1 {
            format!("{} ({})", f.kind.word(), f.attributes.join(", "))
        } else {
            f.kind.word().to_string()
        };
        let fix = if f.fix.is_empty() {
            "-".to_string()
        } else {
            numbered += 1;
            let on = if node.is_empty() {
                String::new()
            } else {
                format!(" on {node}")
            };
            let comment = format!("# fix {numbered}{on}: {} {}", f.kind.word(), f.object);
            let _ = writeln!(fixes, "{}", clip(&comment, COMMENT_WIDTH));
            for command in &f.fix {
                let _ = writeln!(fixes, "{command}");
            }
            format!("#{numbered}")
        };
        let mut row = vec![
            sev,
            Cell::new(kind),
            Cell::new(&f.object),
            Cell::new(f.expected.as_deref().unwrap_or("-")),
            Cell::new(f.actual.as_deref().unwrap_or("-")),
            Cell::new(fix),
        ];
        if with_node {
            row.insert(0, Cell::new(node));
        }
        t.add_row(row);
    }
    let mut out = table::to_string(&t);
    if !fixes.is_empty() {
        out.push('\n');
        out.push_str(&fixes);
    }
    out
}

/// The widest a fix's comment line gets (the commands themselves are never cut).
const COMMENT_WIDTH: usize = 80;

/// `s` cut to `width` characters, ending in `…` when cut.
fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn plural(n: usize, w: &str) -> String {
    format!("{n} {w}{}", if n == 1 { "" } else { "s" })
}

/// `check` of one node: the table, then `node: N errors, N warnings, N info (actual
/// against plan)`.
pub fn check_text<K: Kind>(
    findings: &[Finding<K>],
    node: &str,
    summary: &Summary,
    actual: &str,
    plan: &str,
    style: &Style,
) -> String {
    let rows: Vec<(&str, &Finding<K>)> = findings.iter().map(|f| ("", f)).collect();
    let mut out = table(&rows, style, false);
    let _ = writeln!(
        out,
        "{}: {}, {}, {} info ({actual} against {plan})",
        if node.is_empty() { "node" } else { node },
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
        summary.info,
    );
    out
}

/// `check` of a cluster: every node's findings and the cluster-wide ones in one table by
/// severity, then one line per node and the cluster's totals.
pub fn check_many_text(
    results: &[NodeResult],
    wide: &[ClusterFinding],
    total: &Summary,
    cluster: &str,
    snapshots: &str,
    style: &Style,
) -> String {
    let mut rows: Vec<(&str, &crate::diff::Finding)> = Vec::new();
    for r in results {
        rows.extend(r.findings.iter().map(|f| (r.node.as_str(), f)));
    }
    rows.extend(wide.iter().map(|f| (f.node.as_str(), &f.finding)));
    rows.sort_by(|a, b| (a.1.severity, a.0).cmp(&(b.1.severity, b.0)));
    let mut out = table(&rows, style, true);
    if !rows.is_empty() {
        out.push('\n');
    }
    for r in results {
        match &r.actual {
            Some(a) => {
                let _ = writeln!(
                    out,
                    "{}: {}, {}, {} info ({a})",
                    r.node,
                    plural(r.summary.errors, "error"),
                    plural(r.summary.warnings, "warning"),
                    r.summary.info
                );
            }
            None => {
                let _ = writeln!(out, "{}: not checked (no snapshot in {snapshots})", r.node);
            }
        }
    }
    let checked = results.iter().filter(|r| r.actual.is_some()).count();
    let _ = writeln!(
        out,
        "cluster {cluster}: {} of {} checked, {}, {}, {} info; {} across nodes",
        plural(checked, "node"),
        results.len(),
        plural(total.errors, "error"),
        plural(total.warnings, "warning"),
        total.info,
        plural(wide.len(), "finding")
    );
    out
}

/// `pods`' findings: `no findings`, or one block per finding (kind: object, then what is
/// expected, what is, and the fix), the kind coloured by severity. Starts with a blank
/// line.
pub fn blocks<K: Kind>(findings: &[Finding<K>], style: &Style) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        let _ = writeln!(out, "\nno findings");
        return out;
    }
    let _ = writeln!(out, "\nfindings ({}):", findings.len());
    for f in findings {
        let word = f.kind.word();
        let kind = match (style.color, f.severity) {
            (true, Severity::Error) => word.red().bold().to_string(),
            (true, Severity::Warning) => word.yellow().bold().to_string(),
            _ => word.to_string(),
        };
        let _ = writeln!(out, "  {kind}: {}", f.object);
        let _ = writeln!(
            out,
            "      expected: {}",
            f.expected.as_deref().unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "      actual:   {}",
            f.actual.as_deref().unwrap_or_default()
        );
        let _ = writeln!(out, "      fix:      {}", f.fix.join(" && "));
    }
    out
}

/// The leases' problems: `no conflicts`, or `N problem(s):` and each one (kind: what it
/// means) with the etcd keys concerned under it.
pub fn problems<K: Kind>(findings: &[Finding<K>]) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str("no conflicts\n");
        return out;
    }
    let _ = writeln!(out, "{} problem(s):", findings.len());
    for f in findings {
        let _ = writeln!(
            out,
            "  {}: {}",
            f.kind.word(),
            f.actual.as_deref().unwrap_or_default()
        );
        for k in std::iter::once(&f.object).chain(&f.also) {
            let _ = writeln!(out, "    {k}");
        }
    }
    out
}

/// One line: `error missing: route 10.244.2.0/24; expected …; actual …` (the agent's log).
pub fn line<K: Kind>(f: &Finding<K>) -> String {
    let mut s = format!("{} {}: {}", f.severity.word(), f.kind.word(), f.object);
    if let Some(e) = &f.expected {
        let _ = write!(s, "; expected {e}");
    }
    if let Some(a) = &f.actual {
        let _ = write!(s, "; actual {a}");
    }
    s
}

/// The JSON document of `netpath check` for one node (`netpath.check/v1`).
#[derive(Serialize)]
pub struct CheckDoc<'a> {
    schema: String,
    node: &'a str,
    plan: &'a str,
    actual: &'a str,
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    findings: &'a [crate::diff::Finding],
}

impl<'a> CheckDoc<'a> {
    /// With a note on the whole comparison (the CNI's version unknown), when there is one.
    pub fn with_note(mut self, note: Option<&'a str>) -> Self {
        self.note = note;
        self
    }
}

/// One node's check as its JSON document: the findings, the node, their summary, and
/// where the real state (`actual`) and the plan came from.
pub fn check_document<'a>(
    findings: &'a [crate::diff::Finding],
    node: &'a str,
    summary: Summary,
    actual: &'a str,
    plan: &'a str,
) -> CheckDoc<'a> {
    CheckDoc {
        schema: schema("check"),
        node,
        plan,
        actual,
        summary,
        note: None,
        findings,
    }
}

/// The JSON document of `netpath check` over a cluster's snapshots (`netpath.check/v1`).
#[derive(Serialize)]
pub struct ManyDoc<'a> {
    schema: String,
    cluster: &'a str,
    snapshots: &'a str,
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    nodes: &'a [NodeResult],
    cluster_findings: &'a [ClusterFinding],
}

impl<'a> ManyDoc<'a> {
    /// With a note on the whole comparison (the CNI's version unknown), when there is one.
    pub fn with_note(mut self, note: Option<&'a str>) -> Self {
        self.note = note;
        self
    }
}

/// The check of every node of `cluster` with a snapshot in `snapshots` as its JSON
/// document: each node's result, the findings across nodes, and their summary.
pub fn check_many_document<'a>(
    nodes: &'a [NodeResult],
    cluster_findings: &'a [ClusterFinding],
    summary: Summary,
    cluster: &'a str,
    snapshots: &'a str,
) -> ManyDoc<'a> {
    ManyDoc {
        schema: schema("check"),
        cluster,
        snapshots,
        summary,
        note: None,
        nodes,
        cluster_findings,
    }
}
