//! `trace --all --html FILE`: the node-pair matrix as one self-contained HTML page (no
//! script, no external asset), each cell coloured by verdict, showing its reason code, with
//! the explanation as its tooltip.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::Cluster;
use crate::trace::all::{Broken, Matrix};

/// The page. Rows are sources, columns destinations (node names); a cell is `ok`, or the
/// reason code of each direction that fails (`request: no-route`). Cells carry `data-from`,
/// `data-to`, `data-verdict` (`delivered`, `request-dropped`, `reply-dropped`,
/// `both-dropped`) and `data-codes` for scripts, and the full explanation in `title`.
pub fn matrix_page(m: &Matrix, cluster: &Cluster) -> String {
    let mut cells: BTreeMap<(&str, &str), Vec<&Broken>> = BTreeMap::new();
    for b in &m.broken {
        cells
            .entry((b.from.as_str(), b.to.as_str()))
            .or_default()
            .push(b);
    }
    let title = format!("netpath trace --all: {}", cluster.source);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(&title));
    out.push_str(STYLE);
    out.push_str("</head>\n<body>\n");
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        out,
        "<p class=\"mode\">{}</p>",
        escape(&cluster.mode.to_string())
    );
    let broken_pairs = m.pairs - m.ok;
    let _ = writeln!(
        out,
        "<p class=\"summary\">{} ordered pairs traced both ways: {} delivered both ways, {} broken.</p>",
        m.pairs, m.ok, broken_pairs
    );
    out.push_str("<table id=\"matrix\">\n<thead>\n<tr><th class=\"corner\">from \\ to</th>");
    for (node, _) in &m.representatives {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(node));
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for (from, label) in &m.representatives {
        let _ = write!(
            out,
            "<tr><th scope=\"row\" title=\"{}\">{}</th>",
            escape(label),
            escape(from)
        );
        for (to, _) in &m.representatives {
            cell(&mut out, from, to, cells.get(&(from.as_str(), to.as_str())));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    if !m.by_reason.is_empty() {
        out.push_str("<h2>Reasons</h2>\n<table id=\"reasons\">\n<tr><th>code</th><th>directions</th><th>example</th></tr>\n");
        for g in &m.by_reason {
            let _ = writeln!(
                out,
                "<tr><td class=\"code\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(&g.code),
                g.count,
                escape(&g.example)
            );
        }
        out.push_str("</table>\n");
    }
    if !cluster.assumptions.is_empty() || !cluster.warnings.is_empty() {
        out.push_str("<ul class=\"notes\">\n");
        for a in &cluster.assumptions {
            let _ = writeln!(out, "<li>assumed: {}</li>", escape(a));
        }
        for w in &cluster.warnings {
            let _ = writeln!(out, "<li class=\"warning\">warning: {}</li>", escape(w));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn cell(out: &mut String, from: &str, to: &str, broken: Option<&Vec<&Broken>>) {
    if from == to {
        let _ = write!(
            out,
            "<td class=\"self\" data-from=\"{0}\" data-to=\"{0}\" data-verdict=\"self\">–</td>",
            escape(from)
        );
        return;
    }
    let broken = broken.map(Vec::as_slice).unwrap_or_default();
    let request = broken.iter().find(|b| b.direction == "request");
    let reply = broken.iter().find(|b| b.direction == "reply");
    let verdict = match (request.is_some(), reply.is_some()) {
        (false, false) => "delivered",
        (true, false) => "request-dropped",
        (false, true) => "reply-dropped",
        (true, true) => "both-dropped",
    };
    let codes: Vec<String> = broken
        .iter()
        .map(|b| format!("{}: {}", b.direction, b.code()))
        .collect();
    let title = if broken.is_empty() {
        format!("{from} → {to}: delivered both ways")
    } else {
        broken
            .iter()
            .map(|b| {
                let after = b
                    .after
                    .as_ref()
                    .map(|a| format!(", because {a}"))
                    .unwrap_or_default();
                format!(
                    "{from} → {to} {}: dropped at {}: {}{after} [{}]",
                    b.direction,
                    b.at,
                    b.reason,
                    b.code()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let text = if broken.is_empty() {
        "ok".to_string()
    } else {
        codes
            .iter()
            .map(|c| escape(c))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let data_codes = broken
        .iter()
        .map(|b| b.code())
        .collect::<Vec<_>>()
        .join(" ");
    let _ = write!(
        out,
        "<td class=\"{verdict}\" data-from=\"{}\" data-to=\"{}\" data-verdict=\"{verdict}\" data-codes=\"{}\" title=\"{}\">{text}</td>",
        escape(from),
        escape(to),
        escape(&data_codes),
        escape(&title)
    );
}

/// Text for HTML content and attribute values: the five markup characters as entities,
/// control characters other than the line break dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "<style>
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #999; padding: 0.3em 0.5em; font-size: 0.85em; }
th { background: #eee; }
td { font-family: monospace; text-align: center; }
td.delivered { background: #c8ecc8; }
td.request-dropped, td.both-dropped { background: #f4b4b4; }
td.reply-dropped { background: #f8d8a0; }
td.self { background: #ddd; color: #777; }
td.code { text-align: left; }
.warning { color: #a00; }
</style>
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_controls() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>\n\x1b"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;&#10;"
        );
    }
}
