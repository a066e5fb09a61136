//! `netpath plan --cluster C --node N`: a node's expected dataplane, as the commands that
//! would create it, or as JSON (`netpath.plan/v1`).

use serde::Serialize;

use super::Ctx;
use super::args::ClusterArgs;
use crate::error::Outcome;
use crate::plan::{self, NodePlan};
use crate::render::{json, plan as render};

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
    let mut text = render::commands(&plan, &uplink, &title);
    for a in &cluster.assumptions {
        text.push_str(&format!("# assumed: {a}\n"));
    }
    crate::render::out::print(&text)?;
    Ok(Outcome::Clean)
}
