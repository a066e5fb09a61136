//! `netpath leases --etcd-endpoints URL`: Flannel's subnet leases in etcd, with their TTLs
//! and what is wrong with them; `--watch` follows them as they change. The etcd options
//! themselves are shared with every command that reads a cluster (`super::args`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use ipnetwork::{IpNetwork, Ipv4Network};
use serde::Serialize;

use super::Ctx;
use super::args::{AgentEtcdArgs, EtcdArgs};
use crate::error::Outcome;
use crate::lease::check::{self, Finding};
use crate::lease::manager::{Change, Manager, Settings};
use crate::lease::{Lease, Listing, NetConfig, Registry};
use crate::render::{Style, json, table};

/// Arguments of `netpath leases`.
#[derive(Debug, clap::Args)]
pub struct LeasesArgs {
    /// etcd.
    #[command(flatten)]
    pub etcd: EtcdArgs,
    /// Follow the leases: print each change as it happens (JSON: one object per line).
    #[arg(long, conflicts_with = "delete")]
    pub watch: bool,
    /// Delete the lease of this subnet (a node that is gone for good; flannel would keep
    /// its routes on every node until the lease expires, up to 24 h).
    #[arg(long, value_name = "SUBNET")]
    pub delete: Option<Ipv4Network>,
}

#[derive(Serialize)]
struct LeaseRow<'a> {
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
    fn new(l: &'a Lease) -> LeaseRow<'a> {
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

#[derive(Serialize)]
struct LeasesDoc<'a> {
    schema: String,
    source: String,
    revision: i64,
    config: &'a NetConfig,
    leases: Vec<LeaseRow<'a>>,
    findings: &'a [Finding],
}

/// Run `netpath leases`.
pub fn run(args: &LeasesArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let registry = args.etcd.registry()?;
    if let Some(subnet) = args.delete {
        return delete(&registry, &subnet);
    }
    if args.watch {
        return watch(registry, &args.etcd.source(), ctx);
    }
    let config = registry.config()?;
    let listing = registry
        .list(true)
        .with_context(|| format!("listing {}", registry.subnets_prefix()))?;
    let findings = check::check(&config, &listing);
    if ctx.json {
        json::print_document(&LeasesDoc {
            schema: json::schema("leases"),
            source: args.etcd.source(),
            revision: listing.revision,
            config: &config,
            leases: listing.leases.iter().map(LeaseRow::new).collect(),
            findings: &findings,
        })?;
    } else {
        print!(
            "{}",
            render(
                &args.etcd.source(),
                &config,
                &listing,
                &findings,
                &ctx.style
            )
        );
    }
    Ok(Outcome::from_findings(!findings.is_empty()))
}

fn delete(registry: &Registry, subnet: &Ipv4Network) -> anyhow::Result<Outcome> {
    let listing = registry.list(false)?;
    let Some(lease) = listing.leases.iter().find(|l| l.subnet == *subnet) else {
        bail!(
            "no lease for {subnet} under {} (leases: {})",
            registry.subnets_prefix(),
            listing
                .leases
                .iter()
                .map(|l| l.subnet.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    registry.delete(lease)?;
    println!(
        "deleted {} ({}); every node removes its routes to {subnet} now",
        lease.key, lease.attrs.public_ip
    );
    Ok(Outcome::Clean)
}

fn ttl_text(l: &Lease) -> String {
    match (l.etcd_lease, l.ttl_left()) {
        (0, _) => "never (no etcd lease)".into(),
        (_, Some(s)) => format!("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60),
        (_, None) => "expired".into(),
    }
}

fn render(
    source: &str,
    config: &NetConfig,
    listing: &Listing,
    findings: &[Finding],
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
    if findings.is_empty() {
        out.push_str("no conflicts\n");
    } else {
        out.push_str(&format!("{} problem(s):\n", findings.len()));
        for f in findings {
            out.push_str(&format!("  {}: {}\n", f.kind, f.message));
            for k in &f.keys {
                out.push_str(&format!("    {k}\n"));
            }
        }
    }
    out
}

#[derive(Serialize)]
struct WatchLine<'a> {
    /// Wall-clock time of the event, seconds since the epoch.
    time: f64,
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    lease: Option<LeaseRow<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    revision: i64,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn watch(registry: Registry, source: &str, ctx: Ctx) -> anyhow::Result<Outcome> {
    use std::io::Write;
    let mut m = Manager::new(registry, Settings::default())?;
    let mut out = std::io::stdout().lock();
    let known: BTreeMap<_, _> = m.leases().map(|l| (l.subnet, l.clone())).collect();
    if ctx.json {
        json::write_line(
            &mut out,
            &WatchLine {
                time: now(),
                event: "ready",
                lease: None,
                detail: Some(format!("{} lease(s) under {source}", known.len())),
                revision: m.revision(),
            },
        )?;
    } else {
        writeln!(
            out,
            "# {source}: {} lease(s) at revision {}; following changes",
            known.len(),
            m.revision()
        )?;
        for l in known.values() {
            writeln!(out, "= {}", watch_text(l))?;
        }
    }
    out.flush()?;
    loop {
        let changes = m.poll(Duration::from_secs(3600))?;
        for c in &changes {
            let (event, lease, detail) = match c {
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
            };
            if ctx.json {
                json::write_line(
                    &mut out,
                    &WatchLine {
                        time: now(),
                        event,
                        lease: lease.map(LeaseRow::new),
                        detail,
                        revision: m.revision(),
                    },
                )?;
            } else {
                let mark = match event {
                    "added" | "acquired" => "+",
                    "removed" | "lost" => "-",
                    "updated" => "~",
                    _ => "#",
                };
                let what = lease.map(watch_text).or(detail).unwrap_or_default();
                writeln!(out, "{mark} {event} {what}")?;
            }
        }
        out.flush()?;
    }
}

fn watch_text(l: &Lease) -> String {
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

/// The agent's plan input from etcd: acquire (or, for a dry run, find) this node's lease
/// and plan it from everybody's. Also returns the pod networks.
pub fn agent_input(
    args: &AgentEtcdArgs,
    node: Option<&str>,
    netns: &crate::netlink::Netns,
    dry_run: bool,
) -> anyhow::Result<(Box<dyn crate::agent::PlanInput>, Vec<IpNetwork>)> {
    let Some(public_ip) = args.public_ip else {
        bail!(
            "--etcd-endpoints needs --public-ip: the node's underlay address, by which flannel finds its lease"
        );
    };
    let state = crate::agent::read_state(netns)?;
    let uplink = crate::lease::source::uplink(&state, public_ip)
        .with_context(|| format!("netns {}", netns.label()))?;
    let registry = args.etcd.registry()?;
    let manager = Manager::new(registry, Settings::default())?;
    let node = node
        .map(str::to_string)
        .unwrap_or_else(|| public_ip.to_string());
    let plan = crate::lease::source::LeasePlan::new(
        manager,
        &node,
        uplink,
        Vec::new(),
        args.etcd.source(),
        !dry_run,
    )?;
    let networks = plan.networks();
    Ok((Box::new(plan), networks))
}
