//! The one colour decision, applied to both `colored` and comfy-table.

use std::io::IsTerminal;

/// `--color auto|always|never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always colour, even into a pipe.
    Always,
    /// Never colour.
    Never,
}

/// How output looks: decided once in `main`, passed to every renderer.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Whether to emit ANSI colour.
    pub color: bool,
    /// Whether standard output is a terminal (tables then fit its width).
    pub tty: bool,
}

impl Style {
    /// Decide from the flag, `NO_COLOR` and whether stdout is a terminal, and apply the
    /// decision to the `colored` crate globally.
    pub fn decide(choice: ColorChoice) -> Style {
        let tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        colored::control::set_override(color);
        Style { color, tty }
    }

    /// A plain style (no colour, not a terminal), for tests and files.
    pub fn plain() -> Style {
        colored::control::set_override(false);
        Style {
            color: false,
            tty: false,
        }
    }
}
