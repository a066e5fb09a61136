//! One module per subcommand: gather inputs, call the core, render.

pub mod agent;
pub mod args;
pub mod capture;
pub mod check;
pub mod completions;
pub mod decode;
pub mod demo;
pub mod dump;
pub mod lease;
pub mod man;
pub mod plan;
pub mod pods;
pub mod routes;
pub mod snapshot;
pub mod source;
pub mod trace;

use crate::render::Style;

/// What every command gets from the global options.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Colour and terminal decision.
    pub style: Style,
    /// `--json`.
    pub json: bool,
}
