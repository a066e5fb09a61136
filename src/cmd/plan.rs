//! `netpath plan --cluster C --node N`: a node's expected dataplane, as the commands that
//! would create it, or as JSON (`netpath.plan/v1`).

use serde::Serialize;

use super::Ctx;
use crate::error::Outcome;
use crate::model::{Cluster, Version, Versions};
use crate::plan::{self, NodePlan};
use crate::render::{json, plan as render};

/// Where the cluster description comes from (shared by `plan` and `trace`).
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// The cluster: `demo:NAME` (see `netpath demo`), a netpath cluster file (YAML/JSON), or
    /// `kubectl get nodes,pods[,ippools.crd.projectcalico.org,blockaffinities.crd.projectcalico.org,cm] -A -o json` output.
    #[arg(
        long,
        short = 'c',
        value_name = "CLUSTER",
        required_unless_present = "etcd_endpoints",
        conflicts_with = "etcd_endpoints",
        default_value = "",
        hide_default_value = true
    )]
    pub cluster: String,
    /// Or read the cluster from Flannel's subnet leases in etcd.
    #[command(flatten)]
    pub etcd: super::lease::EtcdArgs,
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
            Cluster::load(
                &self.cluster,
                &crate::model::kubectl::Options {
                    underlay: self.underlay.clone(),
                    net_conf: self.net_conf.clone(),
                    ippools: self.ippool.clone(),
                },
            )?
        };
        cluster.set_versions(self.versions.versions());
        Ok(cluster)
    }
}

/// Arguments of `netpath plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The node to plan.
    #[arg(long, short = 'n', value_name = "NODE")]
    pub node: String,
}

#[derive(Serialize)]
struct PlanDoc<'a> {
    schema: String,
    cluster: &'a str,
    node: &'a str,
    mode: String,
    assumptions: &'a [String],
    plan: &'a NodePlan,
}

/// Run `netpath plan`.
pub fn run(args: &PlanArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let cluster = args.cluster.load()?;
    let plan = plan::node(&cluster, &args.node)?;
    if ctx.json {
        json::print_document(&PlanDoc {
            schema: json::schema("plan"),
            cluster: &cluster.source,
            node: &args.node,
            mode: cluster.mode.to_string(),
            assumptions: &cluster.assumptions,
            plan: &plan,
        })?;
        return Ok(Outcome::Clean);
    }
    let router = cluster
        .underlay
        .routers
        .iter()
        .find(|r| r.name == args.node);
    let (what, uplink, address) = match (cluster.node(&args.node), router) {
        (Some(n), _) => ("node", n.iface.clone(), n.address.to_string()),
        (None, Some(r)) => (
            "router",
            "eth0".to_string(),
            r.interfaces
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (None, None) => ("node", "eth0".to_string(), String::from("?")),
    };
    let title = format!(
        "{what} {} ({address}) of {}: {}",
        args.node, cluster.source, cluster.mode
    );
    print!("{}", render::commands(&plan, &uplink, &title));
    for a in &cluster.assumptions {
        println!("# assumed: {a}");
    }
    Ok(Outcome::Clean)
}
