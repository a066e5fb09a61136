//! Where commands' inputs come from, shared between them: a node's plan for `agent` and
//! `check` (a plan file, a cluster and a node, or Flannel's leases in etcd) and the route
//! protocol that marks the agent's routes; where a node and its pods are for `pods` and
//! `snapshot`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use ipnetwork::IpNetwork;

use crate::agent::PlanInput;
use crate::agent::input::ClusterPlan;
use crate::cni::calico;
use crate::dataplane::Protocol;
use crate::lease::manager::{Manager, Settings};
use crate::lease::source::{LeasePlan, uplink};
use crate::netlink::Netns;
use crate::pods::{Options, cni};
use crate::snapshot::PlanFile;

/// Change the argument `id` where it stands: for a command's own wording of a
/// `PlanSourceArgs` argument (`Command::mut_arg` would move it last in completions).
pub(super) fn mut_arg_in_place(
    id: &'static str,
    f: impl Fn(clap::Arg) -> clap::Arg,
) -> impl FnMut(clap::Arg) -> clap::Arg {
    move |a| if a.get_id() == id { f(a) } else { a }
}

/// [`parse_proto`] for clap: the protocol's number as text.
pub(super) fn parse_proto_arg(s: &str) -> Result<String, String> {
    parse_proto(s).map(|p| p.0.to_string())
}

/// A route protocol given by name (`boot`, `bird`) or number (`158`, `0x9e`).
pub fn parse_proto(s: &str) -> Result<Protocol, String> {
    if let Some(hex) = s.strip_prefix("0x") {
        return u8::from_str_radix(hex, 16)
            .map(Protocol)
            .map_err(|_| format!("not a route protocol: {s:?}"));
    }
    Protocol::parse(s).ok_or_else(|| {
        format!("not a route protocol: {s:?} (a number 0-255 or a name like boot, bird)")
    })
}

/// A cluster given by `--cluster` (and the versions, when given).
pub fn cluster_args(spec: &str, versions: &super::args::VersionArgs) -> super::args::ClusterArgs {
    super::args::ClusterArgs {
        cluster: spec.to_string(),
        etcd: Default::default(),
        underlay: Vec::new(),
        net_conf: None,
        ippool: Vec::new(),
        versions: versions.clone(),
    }
}

/// The plan input of `agent` and `check`: a plan file, or a cluster and a node.
pub fn plan_input(
    plan: Option<&std::path::Path>,
    cluster: Option<&str>,
    node: Option<&str>,
    versions: &super::args::VersionArgs,
) -> anyhow::Result<Box<dyn PlanInput>> {
    match (plan, cluster, node) {
        (Some(p), _, node) => Ok(Box::new(PlanFile::new(p, node))),
        (None, Some(c), Some(n)) => {
            let args = cluster_args(c, versions);
            Ok(Box::new(ClusterPlan::new(
                if c.is_empty() {
                    "from the Kubernetes API"
                } else {
                    c
                },
                n,
                Box::new(move || args.load()),
            )))
        }
        _ => bail!(
            "say where the plan comes from: --plan FILE, or --node N (with --cluster C, or the Kubernetes API)"
        ),
    }
}

/// The plan input from etcd: acquire (or, for a dry run, find) this node's lease and plan
/// it from everybody's. Also returns the pod networks.
pub fn lease_input(
    args: &super::args::AgentEtcdArgs,
    node: Option<&str>,
    netns: &Netns,
    dry_run: bool,
) -> anyhow::Result<(Box<dyn PlanInput>, Vec<IpNetwork>)> {
    let Some(public_ip) = args.public_ip else {
        bail!(
            "--etcd-endpoints needs --public-ip: the node's underlay address, by which flannel finds its lease"
        );
    };
    let state = crate::snapshot::read_state(netns)?;
    let uplink = uplink(&state, public_ip).with_context(|| format!("netns {}", netns.label()))?;
    let registry = args.etcd.registry()?;
    let manager = Manager::new(registry, Settings::default())?;
    let node = node
        .map(str::to_string)
        .unwrap_or_else(|| public_ip.to_string());
    let plan = LeasePlan::new(
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
