//! `netpath dump -o cluster.json`: the live cluster's objects as the kubectl-format List that
//! `--cluster` reads, for tracing later, elsewhere (a post-mortem of a cluster as it was).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use super::Ctx;
use crate::error::Outcome;
use crate::render::json;

/// Arguments of `netpath dump`.
#[derive(Debug, clap::Args)]
pub struct DumpArgs {
    /// Write the List to FILE (default: standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Serialize)]
struct DumpDoc<'a> {
    schema: String,
    cluster: String,
    server: &'a str,
    output: Option<String>,
    bytes: usize,
    objects: Vec<Count<'a>>,
}

#[derive(Serialize)]
struct Count<'a> {
    kind: &'a str,
    count: usize,
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
    let counts = fetched
        .counts
        .iter()
        .map(|(kind, count)| Count {
            kind,
            count: *count,
        })
        .collect::<Vec<_>>();
    if ctx.json {
        json::print_document(&DumpDoc {
            schema: json::schema("dump"),
            cluster: fetched.origin.source(),
            server: &fetched.origin.server,
            output: to_file.map(|p| p.display().to_string()),
            bytes: fetched.document.len(),
            objects: counts,
        })?;
    } else {
        crate::render::out::print(&format!(
            "{}: {} from {} ({}), {:.1} MB\n",
            to_file.map(|p| p.display().to_string()).unwrap_or_default(),
            counts
                .iter()
                .map(|c| format!("{} {}", c.count, plural(c.kind, c.count)))
                .collect::<Vec<_>>()
                .join(", "),
            fetched.origin.source(),
            fetched.origin.server,
            fetched.document.len() as f64 / 1e6
        ))?;
    }
    Ok(Outcome::Clean)
}

fn plural(kind: &str, n: usize) -> String {
    let word = match kind {
        "Node" => "node",
        "Pod" => "pod",
        "IPPool" => "IPPool",
        "BlockAffinity" => "BlockAffinity",
        "ConfigMap" => "ConfigMap",
        other => other,
    };
    match (n, word) {
        (1, w) => w.to_string(),
        (_, "BlockAffinity") => "BlockAffinities".to_string(),
        (_, w) => format!("{w}s"),
    }
}
