//! `netpath plan --cluster C --node N`: a node's expected dataplane, as the commands that
//! would create it, or as JSON (`netpath.plan/v1`).

use serde::Serialize;

use super::Ctx;
use crate::error::Outcome;
use crate::model::Cluster;
use crate::plan::{self, NodePlan};
use crate::render::{json, plan as render};

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
}

impl ClusterArgs {
    /// Load the cluster.
    pub fn load(&self) -> anyhow::Result<Cluster> {
        if self.etcd.is_set() {
            return self.etcd.load_cluster(&self.underlay);
        }
        let reader = crate::model::kubectl::Options {
            underlay: self.underlay.clone(),
            net_conf: self.net_conf.clone(),
            ippools: self.ippool.clone(),
        };
        if self.cluster.is_empty() {
            return crate::kube::load(&crate::kube::options(), &reader);
        }
        Cluster::load(&self.cluster, &reader)
    }
}

/// Arguments of `netpath plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The node to plan.
    #[arg(long, value_name = "NODE")]
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
    let (uplink, address) = match cluster.node(&args.node) {
        Some(n) => (n.iface.clone(), n.address.to_string()),
        None => ("eth0".to_string(), String::from("?")),
    };
    let title = format!(
        "node {} ({address}) of {}: {}",
        args.node, cluster.source, cluster.mode
    );
    print!("{}", render::commands(&plan, &uplink, &title));
    for a in &cluster.assumptions {
        println!("# assumed: {a}");
    }
    Ok(Outcome::Clean)
}
