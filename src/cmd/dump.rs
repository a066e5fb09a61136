//! `netpath dump -o cluster.json`: the live cluster's objects as the kubectl-format List that
//! `--cluster` reads, for tracing later, elsewhere (a post-mortem of a cluster as it was).

use std::io::Write;
use std::path::PathBuf;

use super::Ctx;
use crate::error::Outcome;
use crate::render::{self, json};
use anyhow::Context;

/// Arguments of `netpath dump`.
#[derive(Debug, clap::Args)]
pub struct DumpArgs {
    /// Write the List to FILE (default: standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Run `netpath dump`.
pub fn run(args: &DumpArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let fetched = crate::kube::fetch(&crate::kube::options())?;
    let to_file = args.output.as_ref().filter(|p| p.as_os_str() != "-");
    match to_file {
        Some(path) => {
            // Write beside the target and rename: a cut-short dump never looks complete.
            let tmp = path.with_extension("json.partial");
            std::fs::write(&tmp, &fetched.document)
                .with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, path)
                .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        }
        None => {
            let mut out = crate::render::out::Stdout::raw();
            out.write_all(&fetched.document)?;
            out.flush()?;
            return Ok(Outcome::Clean);
        }
    }
    let origin = fetched.origin.source();
    let written = render::dump::Written {
        output: to_file.map(PathBuf::as_path),
        cluster: &origin,
        server: &fetched.origin.server,
        bytes: fetched.document.len(),
        counts: &fetched.counts,
    };
    if ctx.json {
        json::print_document(&render::dump::document(&written))?;
    } else {
        render::out::print(&format!("{}\n", render::dump::text(&written)))?;
    }
    Ok(Outcome::Clean)
}
