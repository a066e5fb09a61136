//! `netpath snapshot`: a node's real dataplane as one `netpath.snapshot/v1` document, read
//! live (current netns or `--netns`) or converted from a directory of text dumps.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::Ctx;
use super::source::PodsArgs;
use crate::error::Outcome;
use crate::netlink::Netns;
use crate::render::snapshot as render;
use crate::snapshot::{self, LiveOptions, Snapshot};

/// Arguments of `netpath snapshot`.
#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The node's name in the document; default: the host name (or, with --from-dir, the
    /// dump's `hostname` file or the directory's name).
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Write the document to FILE (and a summary to standard output) instead of printing it.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Convert a directory of text dumps (`ip route`, `ip -d link`, `ip addr`, `ip neigh`,
    /// `bridge fdb`, `sysctl -a` outputs, or a sosreport) instead of reading the kernel.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["netns", "no_pods", "cni_cache", "pods", "netns_dir"])]
    pub from_dir: Option<PathBuf>,
    /// Do not map veths to pods (skips the scan of network namespaces and the CNI cache).
    #[arg(long)]
    pub no_pods: bool,
    /// Where the node and its pods are (as for `netpath pods`).
    #[command(flatten)]
    pub pods: PodsArgs,
}

/// Take the snapshot.
pub fn take(args: &SnapshotArgs) -> anyhow::Result<Snapshot> {
    if let Some(dir) = &args.from_dir {
        let mut s = snapshot::from_dir(dir)?;
        if let Some(n) = &args.node {
            s.state.node = n.clone();
        }
        return Ok(s);
    }
    let pods = if args.no_pods {
        None
    } else {
        Some(args.pods.options()?)
    };
    snapshot::read_live(&LiveOptions {
        netns: Netns::from_arg(args.pods.netns.as_deref()),
        node: args.node.clone(),
        pods,
    })
}

/// Run `netpath snapshot`.
pub fn run(args: &SnapshotArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let snap = take(args)?;
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
            serde_json::to_writer_pretty(&mut w, &snap)?;
            w.write_all(b"\n")?;
            w.flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if !ctx.json {
                crate::render::out::print(&render::summary(
                    &snap,
                    Some((&path.display().to_string(), size)),
                ))?;
            }
        }
        None => {
            crate::render::json::print_document(&snap)?;
            // The document is on standard output: what could not be read goes to stderr.
            for u in &snap.unread {
                crate::diag!("netpath: could not read {}: {}", u.what, u.reason);
            }
            for w in &snap.warnings {
                crate::diag!("netpath: warning: {w}");
            }
        }
    }
    Ok(Outcome::Clean)
}
