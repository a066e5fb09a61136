//! `netpath leases` for people and scripts: the leases with their TTLs and problems, and
//! the `--watch` stream.

use std::io::Write;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::{Style, findings, json, table};
use crate::lease::check::{Finding, FindingDoc};
use crate::lease::manager::Change;
use crate::lease::{Lease, Listing, NetConfig};

/// One lease, as JSON.
#[derive(Serialize)]
pub struct LeaseRow<'a> {
    subnet: String,
    public_ip: Ipv4Addr,
    backend_type: &'a str,
    vtep_mac: Option<String>,
    ttl_seconds: Option<u64>,
    etcd_lease: String,
    key: &'a str,
    value: String,
    mod_revision: i64,
}

impl<'a> LeaseRow<'a> {
    /// The row of `l`.
    pub fn new(l: &'a Lease) -> LeaseRow<'a> {
        LeaseRow {
            subnet: l.subnet.to_string(),
            public_ip: l.attrs.public_ip,
            backend_type: &l.attrs.backend_type,
            vtep_mac: l.attrs.vtep_mac().map(|m| m.to_string()),
            ttl_seconds: l.ttl_left(),
            etcd_lease: format!("{:x}", l.etcd_lease),
            key: &l.key,
            value: l.attrs.to_json(),
            mod_revision: l.mod_revision,
        }
    }
}

/// The `netpath leases --json` document.
#[derive(Serialize)]
pub struct LeasesDoc<'a> {
    schema: String,
    source: String,
    revision: i64,
    config: &'a NetConfig,
    leases: Vec<LeaseRow<'a>>,
    findings: Vec<FindingDoc<'a>>,
}

/// The document of `listing` (read from `source`) and its problems.
pub fn doc<'a>(
    source: String,
    config: &'a NetConfig,
    listing: &'a Listing,
    problems: &'a [Finding],
) -> LeasesDoc<'a> {
    LeasesDoc {
        schema: super::json::schema("leases"),
        source,
        revision: listing.revision,
        config,
        leases: listing.leases.iter().map(LeaseRow::new).collect(),
        findings: problems.iter().map(FindingDoc::from).collect(),
    }
}

fn ttl_text(l: &Lease) -> String {
    match (l.etcd_lease, l.ttl_left()) {
        (0, _) => "never (no etcd lease)".into(),
        (_, Some(s)) => format!("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60),
        (_, None) => "expired".into(),
    }
}

/// The leases for people: the config line, the table, the problems.
pub fn text(
    source: &str,
    config: &NetConfig,
    listing: &Listing,
    problems: &[Finding],
    style: &Style,
) -> String {
    let mut out = format!(
        "{source} at revision {}: {}, SubnetLen {} ({}..{}), {} lease(s)\n",
        listing.revision,
        crate::model::Mode::Flannel(config.flannel.clone()),
        config.subnet_len,
        config.subnet_min,
        config.subnet_max,
        listing.leases.len()
    );
    if !listing.leases.is_empty() {
        let mut t = table::new_table(
            style,
            &[
                "SUBNET",
                "PUBLIC IP",
                "BACKEND",
                "VTEP MAC",
                "EXPIRES IN",
                "ETCD LEASE",
            ],
        );
        for l in &listing.leases {
            t.add_row(vec![
                l.subnet.to_string(),
                l.attrs.public_ip.to_string(),
                l.attrs.backend_type.clone(),
                l.attrs
                    .vtep_mac()
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "-".into()),
                ttl_text(l),
                if l.etcd_lease == 0 {
                    "-".into()
                } else {
                    format!("{:x}", l.etcd_lease)
                },
            ]);
        }
        out.push_str(&table::to_string(&t));
    }
    out.push_str(&findings::problems(problems));
    out
}

/// One `--watch` event, as a JSON line.
#[derive(Serialize)]
pub struct WatchLine<'a> {
    /// Wall-clock time of the event, seconds since the epoch.
    pub time: f64,
    /// What happened (`added`, `removed`, `relisted` …).
    pub event: &'a str,
    /// The lease concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<LeaseRow<'a>>,
    /// More about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The etcd revision after it.
    pub revision: i64,
}

/// A lease in one line: `subnet public-ip backend [vtep-mac]`.
pub fn watch_text(l: &Lease) -> String {
    format!(
        "{} {} {}{}",
        l.subnet,
        l.attrs.public_ip,
        l.attrs.backend_type,
        l.attrs
            .vtep_mac()
            .map(|m| format!(" {m}"))
            .unwrap_or_default()
    )
}

/// What a change is called, the lease it concerns, and more about it.
pub fn change_event(c: &Change) -> (&'static str, Option<&Lease>, Option<String>) {
    match c {
        Change::Added(l) => ("added", Some(l), None),
        Change::Updated(l) => ("updated", Some(l), None),
        Change::Removed(l) => ("removed", Some(l), None),
        Change::Acquired(l) => ("acquired", Some(l), None),
        Change::Lost(l) => ("lost", Some(l), None),
        Change::Relisted { compact_revision } => (
            "relisted",
            None,
            Some(format!(
                "the watch fell behind compaction (revision {compact_revision}): read everything again"
            )),
        ),
        Change::Unreachable(e) => ("unreachable", None, Some(e.clone())),
        Change::Reconnected => ("reconnected", None, None),
    }
}

/// A change for people: `+ added 10.244.1.0/24 10.0.0.1 vxlan …`.
pub fn change_text(event: &str, lease: Option<&Lease>, detail: Option<String>) -> String {
    let mark = match event {
        "added" | "acquired" => "+",
        "removed" | "lost" => "-",
        "updated" => "~",
        _ => "#",
    };
    let what = lease.map(watch_text).or(detail).unwrap_or_default();
    format!("{mark} {event} {what}")
}

/// The start of `leases --watch` on `out`: a `ready` line (JSON), or a header and each lease
/// known now (text). `time` is now, in seconds since the epoch.
pub fn watch_start<'a>(
    out: &mut impl Write,
    as_json: bool,
    source: &str,
    known: impl ExactSizeIterator<Item = &'a Lease>,
    revision: i64,
    time: f64,
) -> anyhow::Result<()> {
    let n = known.len();
    if as_json {
        let detail = Some(format!("{n} lease(s) under {source}"));
        let line = WatchLine {
            time,
            event: "ready",
            lease: None,
            detail,
            revision,
        };
        return json::write_line(out, &line);
    }
    writeln!(
        out,
        "# {source}: {n} lease(s) at revision {revision}; following changes"
    )?;
    for l in known {
        writeln!(out, "= {}", watch_text(l))?;
    }
    Ok(())
}

/// One change of `leases --watch` on `out`, as a JSON line or a line for people.
pub fn watch_change(
    out: &mut impl Write,
    as_json: bool,
    c: &Change,
    revision: i64,
    time: f64,
) -> anyhow::Result<()> {
    let (event, lease, detail) = change_event(c);
    if as_json {
        let line = WatchLine {
            time,
            event,
            lease: lease.map(LeaseRow::new),
            detail,
            revision,
        };
        return json::write_line(out, &line);
    }
    writeln!(out, "{}", change_text(event, lease, detail))?;
    Ok(())
}
