//! Command-line definitions (clap derive). Each subcommand's arguments live beside its
//! code in `crate::cmd::<name>`.

use clap::{Parser, Subcommand};

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

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
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
    /// Print shell completions (bash, zsh, fish) to standard output.
    Completions(cmd::completions::CompletionsArgs),
    /// Print the man page (roff) to standard output.
    #[command(hide = true)]
    Man,
}
