//! `netpath demo [NAME]`: list the built-in demo clusters, or print one as a cluster file.

use super::Ctx;
use crate::error::Outcome;
use crate::model::demo;
use crate::render::{self, json};

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
    if ctx.json {
        json::print_document(&render::demo::document(demo::all()?))?;
    } else {
        render::out::print(&render::demo::text(demo::all()?, &ctx.style))?;
    }
    Ok(Outcome::Clean)
}
