//! The `netpath` binary: parse arguments, run one command, map the result to an exit code.

use std::io::Write;
use std::process::ExitCode;

use netpath::cli::Command;
use netpath::cmd::{self, Ctx};
use netpath::error::{Outcome, exit_code};
use netpath::render::Style;

fn main() -> ExitCode {
    // `netpath … | head`: die quietly on a closed pipe like other Unix tools, instead of
    // panicking inside print!.
    // SAFETY: resetting a signal disposition at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = netpath::cli::parse();
    netpath::kube::configure(cli.kube.options());
    let ctx = Ctx {
        style: Style::decide(cli.color),
        json: cli.json,
    };
    match run(cli.command, ctx) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(err) => {
            let _ = std::io::stdout().flush();
            eprintln!("netpath: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run(command: Command, ctx: Ctx) -> anyhow::Result<Outcome> {
    let _ = ctx;
    match command {
        Command::Agent(args) => cmd::agent::run(&args, ctx),
        Command::Check(args) => cmd::check::run(&args, ctx),
        Command::Pods(args) => cmd::pods::run(&args, ctx),
        Command::Completions(args) => cmd::completions::run(&args, ctx),
        Command::Capture(args) => cmd::capture::run(args, ctx),
        Command::Decode(args) => cmd::decode::run(args, ctx),
        Command::Demo(args) => cmd::demo::run(&args, ctx),
        Command::Dump(args) => cmd::dump::run(&args, ctx),
        Command::Plan(args) => cmd::plan::run(&args, ctx),
        Command::Trace(args) => cmd::trace::run(&args, ctx),
        Command::Routes(args) => cmd::routes::run(args, ctx),
        Command::Leases(args) => cmd::lease::run(&args, ctx),
        Command::Snapshot(args) => cmd::snapshot::run(&args, ctx),
        Command::Man(args) => cmd::man::run(&args, ctx),
    }
}
