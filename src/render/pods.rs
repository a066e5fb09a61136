//! `netpath pods` for people: one row per host veth, then the findings, then what could not
//! be read.

use std::fmt::Write;

use colored::Colorize;
use serde::Serialize;

use super::Style;
use super::json::schema;
use super::table::{new_table, to_string};
use crate::pods::report::{CacheState, RouteVia, VethRow};
use crate::pods::{Report, VethStatus};

const HEADER: &[&str] = &[
    "VETH",
    "IDX",
    "MAC",
    "STATE",
    "MTU",
    "PEER",
    "NETNS",
    "POD",
    "POD IP",
    "HOST ROUTE",
    "CALICO",
];

fn state(r: &VethRow) -> String {
    match (r.up, r.oper_state.as_deref()) {
        (false, _) => "down".into(),
        (true, None | Some("up") | Some("unknown")) => "up".into(),
        (true, Some(s)) => format!("up/{s}"),
    }
}

fn peer(r: &VethRow) -> String {
    match (&r.pod_side, r.peer_ifindex) {
        (Some(s), _) => format!("{}@if{}", s.name, s.ifindex),
        (None, Some(i)) => format!("if{i}"),
        (None, None) => "-".into(),
    }
}

fn netns(r: &VethRow) -> String {
    match r.status {
        VethStatus::Local => "(this netns)".into(),
        VethStatus::Leaked => format!("LEAKED (nsid {})", r.peer_netnsid.unwrap_or(-1)),
        VethStatus::Unknown => format!("unknown (nsid {})", r.peer_netnsid.unwrap_or(-1)),
        VethStatus::Pod => r
            .netns
            .as_ref()
            .and_then(|n| n.names.first().cloned())
            .unwrap_or_else(|| "?".into()),
    }
}

fn pod_ips(r: &VethRow) -> String {
    match &r.pod_side {
        Some(s) if !s.addrs.is_empty() => s
            .addrs
            .iter()
            .map(|a| a.ip().to_string())
            .collect::<Vec<_>>()
            .join(","),
        Some(_) => "-".into(),
        None if !r.host_routes.is_empty() => r
            .host_routes
            .iter()
            .map(|h| format!("{}?", h.ip))
            .collect::<Vec<_>>()
            .join(","),
        None => "-".into(),
    }
}

fn host_route(r: &VethRow) -> String {
    if r.host_routes.is_empty() {
        return "-".into();
    }
    let mut words: Vec<String> = r
        .host_routes
        .iter()
        .map(|h| match h.via {
            RouteVia::Veth => "veth".into(),
            RouteVia::Bridge => format!("bridge {}", r.master.as_deref().unwrap_or("?")),
            RouteVia::Elsewhere => "WRONG DEV".into(),
            RouteVia::Drop => "DROPPED".into(),
            RouteVia::None => "NONE".into(),
        })
        .collect();
    words.dedup();
    words.join(",")
}

fn calico(r: &VethRow) -> String {
    match &r.calico_name {
        Some(c) if c.agrees => "name ok".into(),
        Some(c) => format!("expected {}", c.expected),
        None => "-".into(),
    }
}

/// The JSON document of `netpath pods`: `schema` first, then the report's fields.
#[derive(Serialize)]
pub struct Document<'a> {
    schema: String,
    #[serde(flatten)]
    report: &'a Report,
}

/// The report as the JSON document of `netpath pods` (`netpath.pods/v1`).
pub fn document(report: &Report) -> Document<'_> {
    Document {
        schema: schema("pods"),
        report,
    }
}

/// The report as text: the table, a CNI cache summary, the findings, what was not read.
pub fn text(report: &Report, style: &Style) -> String {
    let mut out = String::new();
    if report.veths.is_empty() {
        let _ = writeln!(out, "no veth interfaces in netns {}", report.netns);
    } else {
        let mut t = new_table(style, HEADER);
        for r in &report.veths {
            let mut ns = netns(r);
            if style.color {
                ns = match r.status {
                    VethStatus::Leaked => ns.red().bold().to_string(),
                    VethStatus::Unknown => ns.yellow().to_string(),
                    _ => ns,
                };
            }
            t.add_row(vec![
                r.name.clone(),
                r.ifindex.to_string(),
                r.mac.map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
                state(r),
                r.mtu.to_string(),
                peer(r),
                ns,
                r.pod
                    .as_ref()
                    .map(|p| p.label())
                    .unwrap_or_else(|| "-".into()),
                pod_ips(r),
                host_route(r),
                calico(r),
            ]);
        }
        out.push_str(&to_string(&t));
    }

    if let Some(dir) = &report.cni_cache_dir {
        let count = |s: CacheState| report.cni_cache.iter().filter(|c| c.state == s).count();
        let _ = writeln!(
            out,
            "\nCNI cache {dir}: {} entries ({} live, {} stale, {} corrupt, {} unchecked, {} skipped)",
            report.cni_cache.len(),
            count(CacheState::Live),
            count(CacheState::Stale),
            count(CacheState::Corrupt),
            count(CacheState::Unchecked),
            count(CacheState::Skipped),
        );
    }

    out.push_str(&super::findings::blocks(&report.findings, style));

    if !report.unread.is_empty() {
        let _ = writeln!(out, "\nnot read ({}):", report.unread.len());
        for u in &report.unread {
            let _ = writeln!(out, "  {}: {}", u.what, u.reason);
        }
    }
    out
}
