//! comfy-table with the project's conventions.

use comfy_table::{ContentArrangement, Table, presets};

use super::Style;

/// A table for people: no borders (like `route -n` or `ip`), header row, wraps to the
/// terminal width on a TTY (never narrower than it can print: a 0-width terminal is
/// treated as unknown), no width limit into a pipe.
pub fn new_table(style: &Style, header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING);
    if style.tty {
        t.set_content_arrangement(ContentArrangement::Dynamic);
        // COLUMNS, when set, says the width as it does for other tools (and for tests).
        if let Some(w) = columns() {
            t.set_width(w);
        }
        if t.width().is_none_or(|w| w < 20) {
            // Unknown or absurd terminal width: do not squeeze columns to nothing.
            t.set_content_arrangement(ContentArrangement::Disabled);
            t.force_no_tty();
        }
    } else {
        t.force_no_tty();
    }
    if style.color {
        t.enforce_styling();
    }
    t.set_header(header.iter().copied());
    // Padding: one space between columns, none at the left edge.
    for col in t.column_iter_mut() {
        col.set_padding((0, 2));
    }
    t
}

/// The terminal width `COLUMNS` says, if it is a number.
fn columns() -> Option<u16> {
    std::env::var("COLUMNS").ok()?.trim().parse().ok()
}

/// Render a table to a string with trailing spaces trimmed on every line.
pub fn to_string(t: &Table) -> String {
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
