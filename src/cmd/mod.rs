//! One module per subcommand: gather inputs, call the core, render.

pub mod capture;
pub mod completions;
pub mod decode;

use crate::render::Style;

/// What every command gets from the global options.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Colour and terminal decision.
    pub style: Style,
    /// `--json`.
    pub json: bool,
}
