//! The `netpath` binary: parse arguments, run one command, map the result to an exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use netpath::cli::Command;
use netpath::cmd::{self, Ctx};
use netpath::error::{Outcome, exit_code};
use netpath::render::Style;
use netpath::render::out;

/// Runs before the standard library starts (which reopens a closed stdout on /dev/null):
/// notes whether netpath was started with standard output closed, so writes to it fail
/// with a message instead of vanishing.
extern "C" fn note_closed_stdout() {
    // SAFETY: F_GETFD only queries the descriptor's flags.
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        out::mark_started_closed();
    }
}

#[used]
#[unsafe(link_section = ".init_array")]
static NOTE_CLOSED_STDOUT: extern "C" fn() = note_closed_stdout;

fn main() -> ExitCode {
    // SIGPIPE stays ignored (Rust's default): a reader that went away (`netpath … | head`)
    // shows up as EPIPE on the next write, which ends the command quietly below.
    let cli = match netpath::cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    netpath::kube::configure(cli.kube.options());
    let ctx = Ctx {
        style: Style::decide(cli.color),
        json: cli.json,
    };
    match run(cli.command, ctx).and_then(|outcome| {
        // Whatever is still buffered must reach its reader, or the command failed.
        out::Stdout::raw().flush()?;
        Ok(outcome)
    }) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(err) if out::is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = std::io::stdout().flush();
            report(&err);
            ExitCode::from(exit_code(&err))
        }
    }
}

/// Print an error as one line on stderr: credentials in URLs redacted, control characters
/// escaped (an error may quote a name read from input).
fn report(err: &anyhow::Error) {
    netpath::diag!("netpath: {err:#}");
}

/// `--help`, `--version` (standard output, checked) and usage errors (stderr, exit 2).
fn usage(e: &clap::Error) -> ExitCode {
    if e.use_stderr() {
        let _ = e.print();
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    let rendered = e.render();
    let text = if std::io::stdout().is_terminal() {
        rendered.ansi().to_string()
    } else {
        rendered.to_string()
    };
    match out::print_raw(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if out::is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run(command: Command, ctx: Ctx) -> anyhow::Result<Outcome> {
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
