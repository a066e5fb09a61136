//! Views of `netpath routes`, one job per file: the table (route -n's columns plus what
//! route -n hides, [`table`]), the exact `route -n` text ([`compat`]), JSON ([`json`]),
//! and the `routes get` report ([`get`]). What they show is computed elsewhere (the
//! routes by their sources, the lookup by [`crate::dataplane::kernel`]); these only write it.

mod bytes;
pub mod compat;
pub mod get;
pub mod json;
pub mod table;

pub use compat::{COMPAT_HEADER, compat_line, write_compat};
pub use get::{GetReport, Offline, same_entry, write_get, write_get_json};
pub use json::write_json;
pub use table::{TableBuilder, write_table};

use std::path::Path;

use crate::dataplane::parse::ParseWarning;
use crate::dataplane::{Route, RouteFlags};
use crate::explain::Explanation;

/// Where the routes came from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// Read from the kernel over netlink in this netns (`current` or what the user typed).
    Kernel {
        /// The netns label.
        netns: &'a str,
    },
    /// Parsed from a file (`-` is standard input).
    File {
        /// The path given.
        path: &'a Path,
        /// The format detected (`ip route`, `route -n` …).
        format: &'static str,
    },
}

/// One route to show, with what was computed about it.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The route.
    pub route: &'a Route,
    /// Its route -n flags.
    pub flags: RouteFlags,
    /// The CNI explanation, when one applies.
    pub explanation: Option<Explanation<'a>>,
}

/// Everything `netpath routes` shows.
#[derive(Debug)]
pub struct RoutesView<'a> {
    /// Where the routes came from.
    pub source: Source<'a>,
    /// The `--table` filter, by name (`main`, `all`, `100` …).
    pub table: String,
    /// The routes, in the kernel's (or the file's) order.
    pub rows: Vec<Row<'a>>,
    /// Parser warnings (offline input).
    pub warnings: &'a [ParseWarning],
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paint {
    Plain,
    Bold,
    Red,
    Yellow,
    Cyan,
}

impl Paint {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Paint::Plain => "",
            Paint::Bold => "\x1b[1m",
            Paint::Red => "\x1b[31m",
            Paint::Yellow => "\x1b[33m",
            Paint::Cyan => "\x1b[36m",
        }
    }

    pub(crate) fn bits(self) -> u16 {
        match self {
            Paint::Plain => 0,
            Paint::Bold => 1,
            Paint::Red => 2,
            Paint::Yellow => 3,
            Paint::Cyan => 4,
        }
    }

    pub(crate) fn from_bits(b: u16) -> Paint {
        match b {
            1 => Paint::Bold,
            2 => Paint::Red,
            3 => Paint::Yellow,
            4 => Paint::Cyan,
            _ => Paint::Plain,
        }
    }
}

#[cfg(test)]
mod tests;
