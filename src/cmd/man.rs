//! `netpath man [COMMAND]`: netpath's man pages, in roff, generated from the command line
//! definition (`crate::render::man`).

use anyhow::bail;
use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Outcome;

use super::Ctx;

/// Arguments of `netpath man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The command whose page to print (`netpath man trace | man -l -`); without it, the
    /// page of netpath itself.
    #[arg(value_name = "COMMAND", value_parser = clap::builder::PossibleValuesParser::new(PAGES))]
    pub command: Option<String>,
}

/// The commands that have a page of their own (every subcommand but `man` and `help`).
pub const PAGES: &[&str] = &[
    "routes",
    "pods",
    "decode",
    "capture",
    "trace",
    "plan",
    "demo",
    "snapshot",
    "check",
    "agent",
    "leases",
    "dump",
    "completions",
];

/// Run `netpath man`.
pub fn run(args: &ManArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    if ctx.json {
        bail!("a man page is roff, not JSON: drop --json");
    }
    crate::render::out::print_raw(&page(args.command.as_deref())?)?;
    Ok(Outcome::Clean)
}

/// The man page of `command` (a name from [`PAGES`]), or netpath's own without one.
pub fn page(command: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let (cmd, title) = match command {
        None => (root.clone(), "netpath".to_string()),
        Some(name) => {
            let Some(sub) = root.find_subcommand(name) else {
                bail!(
                    "netpath has no command {name:?}; pages: {}",
                    PAGES.join(", ")
                );
            };
            (sub.clone(), format!("netpath-{name}"))
        }
    };
    Ok(crate::render::man::page(&cmd, &title, command, PAGES)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_the_subcommands() {
        let mut names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .filter(|n| n != "man")
            .collect();
        names.sort();
        let mut pages: Vec<String> = PAGES.iter().map(|p| p.to_string()).collect();
        pages.sort();
        assert_eq!(names, pages);
    }
}
