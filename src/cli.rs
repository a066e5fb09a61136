//! Command-line definitions (clap derive). Each subcommand's arguments live beside its
//! code in `crate::cmd::<name>`.

use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::cmd;
use crate::render::ColorChoice;

/// netpath: troubleshoot Kubernetes pod networks (Flannel, Calico) on the node itself.
///
/// Exit codes: 0 all good; 1 the diagnosis found a problem (dropped packet, drift,
/// leaked veth); 2 bad usage or bad input; 3 the environment refused (no permission,
/// no such netns, kernel lacks a feature).
#[derive(Debug, Parser)]
#[command(
    name = "netpath",
    version,
    about,
    long_about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// When to colour the output: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, value_enum, default_value_t, global = true, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Print JSON for scripts instead of a table (one document with a "schema" field;
    /// streams print one object per line).
    #[arg(long, global = true)]
    pub json: bool,

    /// How to reach the Kubernetes API when no --cluster is given (kubectl's flags).
    #[command(flatten)]
    pub kube: KubeArgs,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's connection flags, global: the cluster is read from the Kubernetes API when a
/// command that needs it gets no `--cluster` (see docs/kube.md).
#[derive(Debug, Clone, clap::Args)]
pub struct KubeArgs {
    /// The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster
    /// service account).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context to use (default: its current-context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace a bare pod name is looked up in first (default: the context's), as in
    /// kubectl; then the name must be unique across namespaces.
    #[arg(long, short = 'n', global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit).
    #[arg(long, global = true, value_name = "DURATION", default_value = "10s", value_parser = crate::kube::parse_timeout)]
    pub request_timeout: Duration,
}

impl KubeArgs {
    /// The API options these flags say.
    pub fn options(&self) -> crate::kube::Options {
        crate::kube::Options {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
            request_timeout: self.request_timeout,
        }
    }
}

/// The name netpath answers to when kubectl runs it as a plugin (`kubectl-netpath` on PATH).
pub const PLUGIN_NAME: &str = "kubectl-netpath";

/// Parse the command line; started as `kubectl-netpath`, help and usage say `kubectl netpath`.
/// `--help`, `--version` and usage errors come back as the clap error (for `main` to print,
/// checked).
pub fn try_parse() -> Result<Cli, clap::Error> {
    let plugin = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n == PLUGIN_NAME))
        .unwrap_or(false);
    if !plugin {
        return Cli::try_parse();
    }
    let matches = Cli::command()
        .bin_name("kubectl netpath")
        .try_get_matches()?;
    Cli::from_arg_matches(&matches)
}

/// netpath's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The kernel's routes with route -n's U/G/H flags and what route -n hides (blackhole,
    /// onlink, linkdown, proto, table, every nexthop), each explained; `routes get ADDR`
    /// shows which route wins and why.
    Routes(cmd::routes::RoutesArgs),
    /// Map host veths to pods (by ifindex and netns id) and find what dead pods left behind.
    Pods(cmd::pods::PodsArgs),
    /// Decode a capture (pcap/pcapng, or - for stdin) into layers: tunnels understood, outer node to node and inner pod to pod.
    Decode(cmd::decode::DecodeArgs),
    /// Capture live packets (libpcap) in any netns and show outer and inner layers.
    Capture(cmd::capture::CaptureArgs),
    /// The expected path of a packet from SRC to DST and back, hop by hop, and where and
    /// why it is dropped (exit 1 when either direction is not delivered).
    Trace(cmd::trace::TraceArgs),
    /// A node's expected dataplane (devices, addresses, routes, neighbours, FDB), as the
    /// ip/bridge commands that would create it.
    Plan(cmd::plan::PlanArgs),
    /// List the built-in demo clusters (`--cluster demo:NAME`), or print one's cluster file.
    Demo(cmd::demo::DemoArgs),
    /// A node's real dataplane (devices, addresses, routes of every table, rules, neighbours,
    /// FDB, forwarding sysctls, pod veths) as one JSON document, live or from text dumps.
    Snapshot(cmd::snapshot::SnapshotArgs),
    /// Compare a node's plan with what it really has: every difference, with its fix.
    Check(cmd::check::CheckArgs),
    /// Reconcile this node's kernel to its plan: devices, addresses, neighbours, FDB, routes.
    Agent(cmd::agent::AgentArgs),
    /// Flannel's subnet leases in etcd: who holds which subnet, TTLs, conflicts; --watch follows them.
    Leases(cmd::lease::LeasesArgs),
    /// Write the live cluster's nodes, pods, Calico pools and block affinities and CNI
    /// ConfigMaps as the kubectl List that --cluster reads (a post-mortem to trace elsewhere).
    Dump(cmd::dump::DumpArgs),
    /// Print shell completions (bash, zsh, fish) to standard output.
    Completions(cmd::completions::CompletionsArgs),
    /// Print a man page (roff) to standard output: netpath's, or one command's
    /// (`netpath man trace | man -l -`).
    Man(cmd::man::ManArgs),
}
