//! `netpath demo [NAME]`: list the built-in demo clusters, or print one as a cluster file.

use serde::Serialize;

use super::Ctx;
use crate::error::Outcome;
use crate::model::demo;
use crate::render::{json, table};

/// Arguments of `netpath demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Print this demo's cluster file (a starting point for your own) instead of the list.
    pub name: Option<String>,
    /// Write a synthetic kubectl List of NODES nodes and PODS pods (Calico VXLAN CrossSubnet)
    /// to standard output, for benchmarks.
    #[arg(long, hide = true, num_args = 2, value_names = ["NODES", "PODS"], conflicts_with = "name")]
    pub generate_kubectl: Option<Vec<usize>>,
}

#[derive(Serialize)]
struct DemoList {
    schema: String,
    demos: Vec<DemoEntry>,
}

#[derive(Serialize)]
struct DemoEntry {
    name: String,
    cluster: String,
    mode: String,
    nodes: usize,
    pods: usize,
    description: String,
}

/// Run `netpath demo`.
pub fn run(args: &DemoArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    if let Some(&[nodes, pods]) = args.generate_kubectl.as_deref() {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, crate::render::out::Stdout::raw());
        crate::model::kubectl::write_synthetic(&mut out, nodes, pods)?;
        std::io::Write::flush(&mut out)?;
        return Ok(Outcome::Clean);
    }
    if let Some(name) = &args.name {
        let cluster = demo::load(name)?;
        if ctx.json {
            json::print_document(&serde_json::json!({
                "schema": json::schema("demo"),
                "cluster": cluster,
            }))?;
        } else {
            crate::render::out::print(demo::text(name).unwrap_or_default())?;
        }
        return Ok(Outcome::Clean);
    }
    let mut demos = Vec::new();
    for c in demo::all()? {
        demos.push(DemoEntry {
            cluster: format!("demo:{}", c.name),
            mode: c.mode.to_string(),
            nodes: c.nodes.len(),
            pods: c.pods.len(),
            description: c.description.clone().unwrap_or_default(),
            name: c.name,
        });
    }
    if ctx.json {
        json::print_document(&DemoList {
            schema: json::schema("demo"),
            demos,
        })?;
        return Ok(Outcome::Clean);
    }
    let mut t = table::new_table(&ctx.style, &["CLUSTER", "NODES", "PODS", "WHAT IT SHOWS"]);
    for d in &demos {
        t.add_row(vec![
            d.cluster.clone(),
            d.nodes.to_string(),
            d.pods.to_string(),
            d.description.clone(),
        ]);
    }
    crate::render::out::print(&format!(
        "{}\nUse one with --cluster, e.g. `netpath trace --cluster demo:flannel-vxlan default/web-0 default/db-0`;\n`netpath demo NAME` prints its cluster file.\n",
        table::to_string(&t)
    ))?;
    Ok(Outcome::Clean)
}
