//! `netpath pods`: which pod is behind each host veth, and what dead pods left behind.

use std::path::PathBuf;

use clap::Args;

use super::Ctx;
use crate::error::Outcome;
use crate::netlink::Netns;
use crate::pods::{self, Options, calico, cni};
use crate::render::{self, json};

/// Arguments of `netpath pods`.
#[derive(Debug, Clone, Args)]
pub struct PodsArgs {
    /// The node's network namespace (a name under /run/netns or a path such as
    /// /proc/PID/ns/net); default: the current one.
    #[arg(long, value_name = "NETNS")]
    pub netns: Option<String>,

    /// A directory of named network namespaces to search for pods (repeatable); default:
    /// /run/netns and /var/run/netns, where containerd and CRI-O put `cni-<uuid>`.
    #[arg(long = "netns-dir", value_name = "DIR")]
    pub netns_dir: Vec<PathBuf>,

    /// The proc filesystem whose <pid>/ns/net are searched for pods (e.g. /host/proc in a
    /// container).
    #[arg(long = "proc", value_name = "DIR", default_value = "/proc")]
    pub proc_dir: PathBuf,

    /// libcni's result cache directory (a cache dir holding results/ is accepted too);
    /// default: /var/lib/cni/results.
    #[arg(long = "cni-cache", value_name = "DIR")]
    pub cni_cache: Option<PathBuf>,

    /// Pods from `kubectl get pods -A -o json`, matched to veths by pod IP when the CNI
    /// cache does not name them.
    #[arg(long, value_name = "FILE")]
    pub pods: Option<PathBuf>,

    /// Calico's host interface prefix (Felix's InterfacePrefix; the first of a
    /// comma-separated list is used).
    #[arg(
        long = "calico-prefix",
        value_name = "PREFIX",
        default_value = calico::DEFAULT_PREFIX,
        env = "FELIX_INTERFACEPREFIX"
    )]
    pub calico_prefix: String,
}

impl PodsArgs {
    /// The gathering options these arguments describe. Fails (exit 2) for an explicitly
    /// given path that does not exist.
    pub fn options(&self) -> anyhow::Result<Options> {
        for dir in &self.netns_dir {
            if !dir.exists() {
                anyhow::bail!("--netns-dir {}: no such directory", dir.display());
            }
        }
        if !self.proc_dir.exists() {
            anyhow::bail!("--proc {}: no such directory", self.proc_dir.display());
        }
        if let Some(dir) = &self.cni_cache {
            if !dir.exists() {
                anyhow::bail!("--cni-cache {}: no such directory", dir.display());
            }
        }
        let mut opts = Options {
            node: Netns::from_arg(self.netns.as_deref()),
            proc_dir: self.proc_dir.clone(),
            pods_file: self.pods.clone(),
            calico_prefix: calico::first_prefix(&self.calico_prefix).to_string(),
            ..Options::default()
        };
        if !self.netns_dir.is_empty() {
            opts.netns_dirs = self.netns_dir.clone();
            opts.netns_dirs_default = false;
        }
        if let Some(dir) = &self.cni_cache {
            opts.cni_cache = Some(dir.clone());
            opts.cni_cache_default = false;
        } else {
            opts.cni_cache = Some(cni::DEFAULT_DIR.into());
        }
        Ok(opts)
    }
}

/// Run `netpath pods`.
pub fn run(args: &PodsArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let opts = args.options()?;
    let snapshot = pods::gather(&opts)?;
    let report = pods::analyze(&snapshot);
    if ctx.json {
        json::print_document(&report)?;
    } else {
        print!("{}", render::pods::text(&report, &ctx.style));
    }
    Ok(Outcome::from_findings(report.has_findings()))
}
