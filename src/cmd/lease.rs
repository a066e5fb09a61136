//! `netpath leases --etcd-endpoints URL`: Flannel's subnet leases in etcd, with their TTLs
//! and what is wrong with them; `--watch` follows them as they change. Also the etcd
//! options every command that reads a cluster accepts (`--etcd-endpoints …` instead of
//! `--cluster`).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use ipnetwork::{IpNetwork, Ipv4Network};

use super::Ctx;
use crate::error::Outcome;
use crate::etcd::{self, Client, Secret};
use crate::lease::check;
use crate::lease::manager::{Manager, Settings};
use crate::lease::{DEFAULT_PREFIX, Registry, cluster};
use crate::model::Cluster;
use crate::render::json;
use crate::render::leases::{self as render, LeaseRow, WatchLine};

/// Where Flannel's etcd is and how to talk to it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EtcdArgs {
    /// etcd client URLs (comma-separated), where Flannel keeps its subnet leases; the
    /// cluster is then read from the leases.
    #[arg(long, value_delimiter = ',', value_name = "URL,...")]
    pub etcd_endpoints: Vec<String>,
    /// Flannel's etcd prefix (flanneld's --etcd-prefix).
    #[arg(long, value_name = "PREFIX", default_value = DEFAULT_PREFIX)]
    pub etcd_prefix: String,
    /// CA bundle (PEM) to verify etcd's certificate.
    #[arg(long, value_name = "FILE")]
    pub etcd_cafile: Option<PathBuf>,
    /// Client certificate (PEM) for etcd.
    #[arg(long, value_name = "FILE", requires = "etcd_keyfile")]
    pub etcd_certfile: Option<PathBuf>,
    /// Client private key (PEM) for etcd.
    #[arg(long, value_name = "FILE", requires = "etcd_certfile")]
    pub etcd_keyfile: Option<PathBuf>,
    /// etcd user name (authentication).
    #[arg(long, value_name = "USER")]
    pub etcd_username: Option<String>,
    /// etcd password; prefer the NETPATH_ETCD_PASSWORD environment variable (a command
    /// line is visible to every user of the machine). Never printed.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "NETPATH_ETCD_PASSWORD",
        hide_env_values = true,
        requires = "etcd_username"
    )]
    pub etcd_password: Option<String>,
}

impl EtcdArgs {
    /// True when etcd endpoints were given.
    pub fn is_set(&self) -> bool {
        !self.etcd_endpoints.is_empty()
    }

    /// The client options.
    pub fn options(&self) -> etcd::Options {
        let mut o = etcd::Options::new(self.etcd_endpoints.clone());
        o.ca_file = self.etcd_cafile.clone();
        o.cert_file = self.etcd_certfile.clone();
        o.key_file = self.etcd_keyfile.clone();
        o.username = self.etcd_username.clone();
        o.password = self.etcd_password.clone().map(Secret::new);
        o
    }

    /// The registry under `--etcd-prefix`.
    pub fn registry(&self) -> anyhow::Result<Registry> {
        if !self.is_set() {
            bail!("no etcd endpoint: pass --etcd-endpoints http://HOST:2379[,…]");
        }
        let client = Client::new(&self.options())?;
        Ok(Registry::new(client, &self.etcd_prefix))
    }

    /// `etcd:URL,URL/prefix`, naming the source in output.
    pub fn source(&self) -> String {
        format!(
            "etcd:{}{}",
            self.etcd_endpoints.join(","),
            self.etcd_prefix.trim_end_matches('/')
        )
    }

    /// Read the cluster the leases describe (for `plan`, `trace`, `check`).
    pub fn load_cluster(&self, underlay: &[IpNetwork]) -> anyhow::Result<Cluster> {
        let registry = self.registry()?;
        let config = registry.config()?;
        let listing = registry
            .list(false)
            .with_context(|| format!("listing {}", registry.subnets_prefix()))?;
        cluster::to_cluster(
            &config,
            &listing.leases,
            &cluster::Options {
                source: self.source(),
                underlay: underlay.to_vec(),
                ..cluster::Options::default()
            },
        )
    }
}

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
        print!("{text}");
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

fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn watch(registry: Registry, source: &str, ctx: Ctx) -> anyhow::Result<Outcome> {
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
            writeln!(out, "= {}", render::watch_text(l))?;
        }
    }
    out.flush()?;
    loop {
        let changes = m.poll(Duration::from_secs(3600))?;
        for c in &changes {
            let (event, lease, detail) = render::change_event(c);
            if ctx.json {
                let line = WatchLine {
                    time: now(),
                    event,
                    lease: lease.map(LeaseRow::new),
                    detail,
                    revision: m.revision(),
                };
                json::write_line(&mut out, &line)?;
            } else {
                writeln!(out, "{}", render::change_text(event, lease, detail))?;
            }
        }
        out.flush()?;
    }
}

/// The etcd options of `netpath agent`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AgentEtcdArgs {
    /// etcd.
    #[command(flatten)]
    pub etcd: EtcdArgs,
    /// This node's public IP (flanneld's --public-ip): its lease is found again by it after
    /// a restart, and the device holding it is the uplink.
    #[arg(long, value_name = "IP", requires = "etcd_endpoints")]
    pub public_ip: Option<Ipv4Addr>,
}

impl AgentEtcdArgs {
    /// True when the agent follows etcd.
    pub fn is_set(&self) -> bool {
        self.etcd.is_set()
    }
}
