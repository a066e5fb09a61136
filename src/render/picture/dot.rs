//! A trace as a Graphviz digraph.

use std::fmt::Write as _;

use super::{Lane, Picture};
use crate::trace::Trace;

/// The trace as Graphviz DOT: a cluster per direction, a cluster per host visit, a node per
/// device; tunnelled moves dashed, the drop filled red, the verdict last.
pub fn dot(t: &Trace) -> String {
    let p = Picture::of(t);
    let mut out = String::new();
    let _ = writeln!(out, "digraph trace {{");
    let _ = writeln!(out, "  label={};", quote(&p.title));
    let _ = writeln!(out, "  labelloc=t;");
    let _ = writeln!(out, "  fontname=\"monospace\";");
    let _ = writeln!(
        out,
        "  node [shape=box, fontname=\"monospace\", fontsize=10];"
    );
    let _ = writeln!(out, "  edge [fontname=\"monospace\", fontsize=9];");
    for (i, lane) in p.lanes.iter().enumerate() {
        write_lane(&mut out, i, lane);
    }
    out.push_str("}\n");
    out
}

fn write_lane(out: &mut String, i: usize, lane: &Lane) {
    let _ = writeln!(out, "  subgraph cluster_{i} {{");
    let _ = writeln!(out, "    label={};", quote(&lane.title));
    for (v, visit) in lane.visits.iter().enumerate() {
        let _ = writeln!(out, "    subgraph cluster_{i}_{v} {{");
        let _ = writeln!(
            out,
            "      label={};",
            quote(&format!("{} {}", visit.kind, visit.host))
        );
        let _ = writeln!(out, "      style=rounded;");
        for &s in &visit.stops {
            let stop = &lane.stops[s];
            let mut label = format!("{}\n", stop.device);
            for line in &stop.lines {
                label.push_str(line);
                label.push('\n');
            }
            let style = if stop.drop {
                ", style=filled, fillcolor=\"#f4b4b4\", color=red, penwidth=2"
            } else {
                ""
            };
            let _ = writeln!(out, "      s{i}_{s} [label={}{style}];", left(&label));
        }
        let _ = writeln!(out, "    }}");
    }
    for m in &lane.moves {
        let style = if m.tunnel {
            ", style=dashed, color=blue"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    s{i}_{} -> s{i}_{} [label={}{style}];",
            m.from,
            m.to,
            quote(&m.label)
        );
    }
    let colour = if lane.ok { "darkgreen" } else { "red" };
    let _ = writeln!(
        out,
        "    v{i} [label={}, shape=note, color={colour}, fontcolor={colour}];",
        quote(&lane.verdict)
    );
    if let Some(last) = lane.stops.len().checked_sub(1) {
        let _ = writeln!(out, "    s{i}_{last} -> v{i} [color={colour}];");
    }
    let _ = writeln!(out, "  }}");
}

/// A DOT string: quotes and backslashes escaped, line breaks centred.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A DOT string whose lines are left-justified (`\l` ends each line).
fn left(s: &str) -> String {
    let q = quote(s);
    q.replace("\\n", "\\l")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_quotes_backslashes_and_controls() {
        assert_eq!(quote("a\"b\\c\nd\x1b"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(left("x\ny\n"), "\"x\\ly\\l\"");
    }
}
