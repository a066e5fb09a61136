//! A trace as a Mermaid flowchart.

use std::fmt::Write as _;

use super::{Lane, Picture};
use crate::trace::Trace;

/// The trace as a Mermaid flowchart: a subgraph per direction and per host visit, a node
/// per device; tunnelled moves dotted, the drop in red, the verdict last.
pub fn mermaid(t: &Trace) -> String {
    let p = Picture::of(t);
    let mut out = String::new();
    let _ = writeln!(out, "---\ntitle: {}\n---", yaml_string(&p.title));
    let _ = writeln!(out, "flowchart TB");
    let _ = writeln!(
        out,
        "  classDef drop fill:#f4b4b4,stroke:#c00,stroke-width:2px"
    );
    let _ = writeln!(out, "  classDef ok fill:#d4f4d4,stroke:#060");
    let _ = writeln!(out, "  classDef bad fill:#fff,stroke:#c00,color:#c00");
    for (i, lane) in p.lanes.iter().enumerate() {
        write_lane(&mut out, i, lane);
    }
    out
}

fn write_lane(out: &mut String, i: usize, lane: &Lane) {
    let _ = writeln!(out, "  subgraph lane{i}[\"{}\"]", text(&lane.title));
    let _ = writeln!(out, "    direction TB");
    for (v, visit) in lane.visits.iter().enumerate() {
        let _ = writeln!(
            out,
            "    subgraph h{i}_{v}[\"{}\"]",
            text(&format!("{} {}", visit.kind, visit.host))
        );
        for &s in &visit.stops {
            let stop = &lane.stops[s];
            let mut label = format!("<b>{}</b>", text(&stop.device));
            for line in &stop.lines {
                label.push_str("<br/>");
                label.push_str(&text(line));
            }
            let _ = writeln!(out, "      s{i}_{s}[\"{label}\"]");
            if stop.drop {
                let _ = writeln!(out, "      class s{i}_{s} drop");
            }
        }
        let _ = writeln!(out, "    end");
    }
    for m in &lane.moves {
        let arrow = if m.tunnel { "-.->" } else { "-->" };
        if m.label.is_empty() {
            let _ = writeln!(out, "    s{i}_{} {arrow} s{i}_{}", m.from, m.to);
        } else {
            let _ = writeln!(
                out,
                "    s{i}_{} {arrow}|\"{}\"| s{i}_{}",
                m.from,
                text(&m.label),
                m.to
            );
        }
    }
    let _ = writeln!(out, "    v{i}[\"{}\"]", text(&lane.verdict));
    let _ = writeln!(out, "    class v{i} {}", if lane.ok { "ok" } else { "bad" });
    if let Some(last) = lane.stops.len().checked_sub(1) {
        let _ = writeln!(out, "    s{i}_{last} --> v{i}");
    }
    let _ = writeln!(out, "  end");
}

/// Text inside a quoted Mermaid label: quotes and the characters Mermaid or its HTML labels
/// read as markup become entity codes, control characters go.
fn text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '`' => out.push_str("#96;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A YAML double-quoted string (the front matter's title).
fn yaml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup() {
        assert_eq!(
            text("a \"<b>\" & #1\n"),
            "a #quot;#lt;b#gt;#quot; #amp; #35;1"
        );
    }
}
