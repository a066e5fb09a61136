//! `netpath completions SHELL`.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Outcome;

use super::Ctx;

/// Arguments of `netpath completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// Shells netpath writes completions for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompletionShell {
    /// bash (`source <(netpath completions bash)`).
    Bash,
    /// zsh (put the output in a file named `_netpath` on your `$fpath`).
    Zsh,
    /// fish (`netpath completions fish > ~/.config/fish/completions/netpath.fish`).
    Fish,
}

/// Run `netpath completions`.
pub fn run(args: &CompletionsArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    if ctx.json {
        anyhow::bail!("a completion script is shell code, not JSON: drop --json");
    }
    crate::render::out::print_raw(&script(args.shell))?;
    Ok(Outcome::Clean)
}

/// The completion script for `shell`.
pub fn script(shell: CompletionShell) -> Vec<u8> {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "netpath", &mut out);
    out
}
