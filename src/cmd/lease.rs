//! `netpath leases --etcd-endpoints URL`: Flannel's subnet leases in etcd, with their TTLs
//! and what is wrong with them; `--watch` follows them as they change. The etcd options
//! themselves are shared with every command that reads a cluster (`super::args`).

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use ipnetwork::Ipv4Network;

use super::Ctx;
use super::args::EtcdArgs;
use crate::error::Outcome;
use crate::lease::Registry;
use crate::lease::check;
use crate::lease::manager::{Manager, Settings};
use crate::render::json;
use crate::render::leases as render;

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
        json::print_document(&render::doc(
            args.etcd.source(),
            &config,
            &listing,
            &findings,
        ))?;
    } else {
        let text = render::text(
            &args.etcd.source(),
            &config,
            &listing,
            &findings,
            &ctx.style,
        );
        crate::render::out::print(&text)?;
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
    crate::render::out::print(&format!(
        "deleted {} ({}); every node removes its routes to {subnet} now\n",
        lease.key, lease.attrs.public_ip
    ))?;
    Ok(Outcome::Clean)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn watch(registry: Registry, source: &str, ctx: Ctx) -> anyhow::Result<Outcome> {
    let mut m = Manager::new(registry, Settings::default())?;
    let mut out = crate::render::out::Stdout::for_json(ctx.json);
    let known: BTreeMap<_, _> = m.leases().map(|l| (l.subnet, l.clone())).collect();
    render::watch_start(
        &mut out,
        ctx.json,
        source,
        known.values(),
        m.revision(),
        now(),
    )?;
    out.flush()?;
    loop {
        let changes = m.poll(Duration::from_secs(3600))?;
        for c in &changes {
            render::watch_change(&mut out, ctx.json, c, m.revision(), now())?;
        }
        out.flush()?;
    }
}
