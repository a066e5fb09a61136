//! `netpath snapshot` for people: a summary of what was read (the document itself is JSON),
//! what could not be read, and the input's warnings.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use colored::Colorize;

use crate::snapshot::Snapshot;

/// The summary: node, source, counts, then what could not be read and the warnings.
/// `written` is where the document went (`None`: standard output).
pub fn summary(s: &Snapshot, written: Option<(&str, u64)>) -> String {
    let mut out = String::new();
    let st = &s.state;
    let kernel = s
        .kernel
        .as_deref()
        .map(|k| format!(", kernel {k}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} of node {} ({}{kernel}) at {}",
        "snapshot".bold(),
        st.node.cyan().bold(),
        s.source.describe(),
        s.taken_at
    );
    let tables: BTreeSet<u32> = st.routes.iter().map(|r| r.table.0).collect();
    let forward = match st.sysctls.ip_forward {
        Some(true) => "ip_forward 1".to_string(),
        Some(false) => "ip_forward 0".red().bold().to_string(),
        None => "ip_forward unknown".to_string(),
    };
    let _ = writeln!(
        out,
        "  {} devices, {} addresses, {} routes in {} table(s), {} rules, {} neighbours, {} FDB entries, {forward}",
        st.links.len(),
        st.addrs.len(),
        st.routes.len(),
        tables.len(),
        st.rules.len(),
        st.neighbours.len(),
        st.fdb.len(),
    );
    match &s.pods {
        Some(p) => {
            let named = p.iter().filter(|e| e.key().is_some()).count();
            let _ = writeln!(
                out,
                "  {} pod veth(s) mapped to their network namespaces ({named} named by the CNI cache or --pods)",
                p.len()
            );
        }
        None => {
            let _ = writeln!(out, "  {}", "no pod map".dimmed());
        }
    }
    if let Some((path, bytes)) = written {
        let _ = writeln!(out, "  written to {path} ({bytes} bytes)");
    }
    if !s.unread.is_empty() {
        let _ = writeln!(out, "{}", "could not read:".yellow().bold());
        for u in &s.unread {
            let _ = writeln!(out, "  {}: {}", u.what, u.reason);
        }
    }
    if !s.warnings.is_empty() {
        let _ = writeln!(out, "{}", "warnings:".yellow());
        for w in &s.warnings {
            let _ = writeln!(out, "  {w}");
        }
    }
    out
}
