//! The argument groups commands share: where the cluster comes from ([`ClusterArgs`],
//! read by `plan`, `trace`, `check`, `agent`), Flannel's etcd ([`EtcdArgs`], also
//! `leases`), and where a node's plan comes from ([`PlanSourceArgs`], `agent` and `check`),
//! with what turns them into a cluster ([`ClusterArgs::load`], [`EtcdArgs::load_cluster`]).
//! Turning a plan source into a plan input is `super::source`'s.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use ipnetwork::IpNetwork;

use crate::etcd::{self, Client, Secret};
use crate::lease::{DEFAULT_PREFIX, Registry, cluster};
use crate::model::{Cluster, Version, Versions};

/// The note said once when the cluster's CNI decides route shapes by its version and the
/// input does not say the version: what is planned instead, and that the comparison is
/// tolerant.
pub fn unknown_version_note(cluster: &Cluster) -> Option<String> {
    (matches!(cluster.mode, crate::model::Mode::Calico(_)) && cluster.versions.calico.is_none())
        .then(|| {
            "calico/node's version is not known (no calico-node image tag in the input, no \
             --calico-version): the long-standing route shapes are planned (BGP routes without \
             metric or src, BIRD's IPIP routes, VXLAN routes without mtu), and a route that \
             differs only where versions disagree (metric, src, proto bird or 80, a tunnel \
             route's mtu) is one \"shape differs\" note, without a fix"
                .to_string()
        })
}

/// Where the cluster description comes from (shared by `plan` and `trace`).
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// The cluster: `demo:NAME` (see `netpath demo`), a netpath cluster file (YAML/JSON), or
    /// `kubectl get nodes,pods[,ippools.crd.projectcalico.org,blockaffinities.crd.projectcalico.org,cm] -A -o json` output
    /// (`netpath dump`). Default: read it from the Kubernetes API (kubeconfig, as kubectl).
    #[arg(
        long,
        short = 'c',
        value_name = "CLUSTER",
        conflicts_with = "etcd_endpoints",
        default_value = "",
        hide_default_value = true
    )]
    pub cluster: String,
    /// Or read the cluster from Flannel's subnet leases in etcd.
    #[command(flatten)]
    pub etcd: EtcdArgs,
    /// The underlay's L2 subnets, for kubectl dumps whose node addresses carry no mask
    /// (Flannel): nodes in one subnet are adjacent.
    #[arg(long, value_delimiter = ',', value_name = "CIDR,...")]
    pub underlay: Vec<ipnetwork::IpNetwork>,
    /// Flannel's net-conf.json, when the dump has no kube-flannel-cfg ConfigMap.
    #[arg(long, value_name = "FILE")]
    pub net_conf: Option<std::path::PathBuf>,
    /// Calico IPPool YAML (repeatable), when the dump has no IPPools.
    #[arg(long, value_name = "FILE")]
    pub ippool: Vec<std::path::PathBuf>,
    /// The CNI's versions, which decide some route shapes (overriding the image tags of a
    /// kubectl dump).
    #[command(flatten)]
    pub versions: VersionArgs,
}

/// The CNI's versions, when the input does not say them (or says them wrong).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct VersionArgs {
    /// calico/node's version (`v3.32.0`): BIRD's route metric and source, Felix's workload
    /// route metric, the VXLAN route MTU and who programs IPIP routes depend on it
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub calico_version: Option<Version>,
    /// flanneld's version (`v0.28.9`)
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub flannel_version: Option<Version>,
}

impl VersionArgs {
    /// The versions given.
    pub fn versions(&self) -> Versions {
        Versions {
            calico: self.calico_version,
            flannel: self.flannel_version,
        }
    }
}

fn parse_version(s: &str) -> Result<Version, String> {
    Version::parse(s).ok_or_else(|| format!("{s:?} is not a version (expected e.g. v3.32.0)"))
}

impl ClusterArgs {
    /// Load the cluster.
    pub fn load(&self) -> anyhow::Result<Cluster> {
        let mut cluster = if self.etcd.is_set() {
            self.etcd.load_cluster(&self.underlay)?
        } else {
            let reader = crate::model::kubectl::Options {
                underlay: self.underlay.clone(),
                net_conf: self.net_conf.clone(),
                ippools: self.ippool.clone(),
            };
            if self.cluster.is_empty() {
                crate::kube::load(&crate::kube::options(), &reader)?
            } else {
                Cluster::load(&self.cluster, &reader)?
            }
        };
        cluster.set_versions(self.versions.versions());
        Ok(cluster)
    }
}

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
        let source = format!(
            "etcd:{}{}",
            self.etcd_endpoints.join(","),
            self.etcd_prefix.trim_end_matches('/')
        );
        etcd::redact(&source).into_owned()
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

/// Where a node's plan comes from, shared by `agent` and `check`: a plan file, a cluster
/// (with the node), or Flannel's leases in etcd.
#[derive(Debug, clap::Args)]
pub struct PlanSourceArgs {
    /// The node's plan: `netpath plan --json` output (netpath.plan/v1) or a NodeState JSON.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["cluster", "etcd_endpoints"]
    )]
    pub plan: Option<PathBuf>,
    /// The cluster to plan the node from (`demo:NAME`, a cluster file, a kubectl dump; default:
    /// the Kubernetes API).
    #[arg(
        long,
        short = 'c',
        value_name = "CLUSTER",
        conflicts_with = "etcd_endpoints"
    )]
    pub cluster: Option<String>,
    /// Or Flannel's etcd.
    #[command(flatten)]
    pub etcd: AgentEtcdArgs,
    /// The node (required with --cluster; picks one from a plan file that holds several).
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// The CNI's versions, which decide some route shapes (overriding the image tags of a
    /// kubectl dump).
    #[command(flatten)]
    pub versions: VersionArgs,
}

impl PlanSourceArgs {
    /// The cluster to plan from: `--cluster`, else `""` (read from the Kubernetes API) when
    /// neither a plan file nor etcd is given.
    pub fn cluster_spec(&self) -> Option<String> {
        self.cluster
            .clone()
            .or_else(|| (self.plan.is_none() && !self.etcd.is_set()).then(String::new))
    }
}
