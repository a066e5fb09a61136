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
    /// Print shell completions (bash, zsh, fish) to standard output.
    Completions(cmd::completions::CompletionsArgs),
    /// Capture live packets (libpcap) in any netns and show outer and inner layers.
    Capture(cmd::capture::CaptureArgs),
    /// Decode a capture (pcap/pcapng, or - for stdin) into layers: tunnels understood, outer node to node and inner pod to pod.
    Decode(cmd::decode::DecodeArgs),
    /// Print the man page (roff) to standard output.
    #[command(hide = true)]
    Man,
}
