//! Pictures of traces: `trace --format dot` is accepted by Graphviz, `--format mermaid` is
//! a well-formed flowchart, and `trace --all --html` loads in a real headless Chromium and
//! reads back as the same matrix as `trace --all --json`.
//!
//! Graphviz (`dot`) and Chromium are Debian packages that `.ci/run` installs; without them
//! the checks that need them say so and fail when `NETPATH_REQUIRE_ROOT=1` (CI) is set.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

use serde_json::Value;

fn netpath() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netpath"))
}

/// The traces drawn: delivered ones, one through VXLAN and IPIP tunnels, and dropped ones.
const TRACES: &[(&str, &str, &str)] = &[
    ("demo:flannel-vxlan", "default/web-0", "default/db-0"),
    ("demo:calico-ipip", "default/web-0", "default/db-0"),
    (
        "demo:flannel-host-gw-routed",
        "default/web-0",
        "default/db-0",
    ),
    ("demo:calico-bgp-routed", "default/web-0", "default/db-0"),
];

fn picture(cluster: &str, src: &str, dst: &str, format: &str) -> (i32, String) {
    let out = netpath()
        .args(["trace", "--cluster", cluster, src, dst, "--format", format])
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// A tool the test needs: present, or a loud failure in CI and a loud skip elsewhere.
fn have(tool: &str, arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let ci = std::env::var("NETPATH_REQUIRE_ROOT").is_ok_and(|v| v == "1");
        assert!(!ci, "{tool} is not installed (.ci/run installs it)");
        eprintln!("NOT RUN: {tool} is not installed (apt-get install graphviz chromium)");
    }
    ok
}

#[test]
fn dot_is_accepted_by_graphviz_and_shows_the_drop() {
    let graphviz = have("dot", "-V");
    for (cluster, src, dst) in TRACES {
        let (code, dot) = picture(cluster, src, dst, "dot");
        assert!(dot.starts_with("digraph trace {"), "{dot}");
        assert!(dot.contains("subgraph cluster_0"), "no request lane");
        // The exit code is the trace's, whatever the format.
        let dropped = code == 1;
        assert_eq!(dot.contains("fillcolor=\"#f4b4b4\""), dropped, "{cluster}");
        assert!(dot.contains(if dropped {
            "✘ dropped at"
        } else {
            "✔ delivered to"
        }));
        if cluster.contains("vxlan") {
            assert!(dot.contains("vxlan VNI 1") && dot.contains("style=dashed"));
        }
        if cluster.contains("ipip") {
            assert!(dot.contains("label=\"ipip\"") && dot.contains("style=dashed"));
        }
        if !graphviz {
            continue;
        }
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), dot.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.trim().is_empty(),
            "dot -Tsvg rejects the trace of {cluster}: {err}"
        );
        let svg = String::from_utf8_lossy(&out.stdout);
        assert!(
            svg.contains("<svg") && svg.contains(if dropped { "dropped" } else { "delivered" })
        );
    }
}

/// Mermaid has no checker in Debian: the flowchart is checked for its structure (balanced
/// subgraphs, every edge and class between declared nodes, labels quoted, nothing that would
/// end a label early).
#[test]
fn mermaid_is_a_well_formed_flowchart() {
    for (cluster, src, dst) in TRACES {
        let (code, m) = picture(cluster, src, dst, "mermaid");
        let mut lines = m.lines();
        assert_eq!(lines.next(), Some("---"));
        assert!(lines.next().is_some_and(|l| l.starts_with("title: \"")));
        assert_eq!(lines.next(), Some("---"));
        assert_eq!(lines.next(), Some("flowchart TB"));
        let mut depth = 0usize;
        let mut nodes = BTreeSet::new();
        let mut edges = Vec::new();
        let mut classes = Vec::new();
        for line in lines {
            let l = line.trim();
            if l.starts_with("subgraph ") {
                depth += 1;
            } else if l == "end" {
                assert!(depth > 0, "unbalanced end in {cluster}");
                depth -= 1;
            } else if l.starts_with("classDef ") || l.starts_with("direction ") {
            } else if let Some(rest) = l.strip_prefix("class ") {
                let mut parts = rest.split(' ');
                classes.push((
                    parts.next().unwrap().to_string(),
                    parts.next().unwrap().to_string(),
                ));
            } else if let Some((id, label)) = l.split_once("[\"") {
                assert!(label.ends_with("\"]"), "unterminated label: {l}");
                let inner = &label[..label.len() - 2];
                assert!(!inner.contains('"'), "a quote inside a label: {l}");
                nodes.insert(id.to_string());
            } else {
                // An edge: `FROM --> TO` or `FROM -.->|"label"| TO`.
                let (from, rest) = l.split_once(' ').expect(l);
                assert!(rest.starts_with("-->") || rest.starts_with("-.->"), "{l}");
                let to = rest.rsplit(' ').next().unwrap_or(rest);
                if let Some(label) = rest.split_once('|').map(|(_, r)| r) {
                    let (label, _) = label.rsplit_once('|').expect(l);
                    assert!(label.starts_with('"') && label.ends_with('"'), "{l}");
                    assert!(!label[1..label.len() - 1].contains('"'), "{l}");
                }
                edges.push((from.to_string(), to.to_string()));
            }
        }
        assert_eq!(depth, 0, "unbalanced subgraphs in {cluster}");
        for (from, to) in &edges {
            assert!(nodes.contains(from) && nodes.contains(to), "{from} → {to}");
        }
        for (node, class) in &classes {
            assert!(nodes.contains(node), "class on an unknown node {node}");
            assert!(["drop", "ok", "bad"].contains(&class.as_str()));
        }
        let dropped = classes.iter().any(|(_, c)| c == "drop");
        assert_eq!(dropped, code == 1, "{cluster}");
    }
}

/// The matrix as `trace --all --json` has it: (from, to) → the failing directions' codes.
/// Cells of the matrix: (from, to) → `direction: code` of each failing direction.
type Cells = BTreeMap<(String, String), BTreeSet<String>>;

fn json_matrix(cluster: &str) -> (Vec<String>, Cells) {
    let out = netpath()
        .args(["trace", "--all", "--cluster", cluster, "--json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let nodes = doc["representatives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    let mut cells = Cells::new();
    for b in doc["broken"].as_array().unwrap() {
        let code = b["after"]["host"]
            .as_str()
            .map(|_| "next-hop-not-on-link".to_string())
            .unwrap_or_else(|| b["reason"]["code"].as_str().unwrap().to_string());
        cells
            .entry((
                b["from"].as_str().unwrap().to_string(),
                b["to"].as_str().unwrap().to_string(),
            ))
            .or_default()
            .insert(format!("{}: {code}", b["direction"].as_str().unwrap()));
    }
    (nodes, cells)
}

/// Undo the entities a browser writes when it serialises the DOM.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in a serialised start tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

#[test]
fn html_matrix_reads_back_in_chromium_as_the_json() {
    let chromium = have("chromium", "--version");
    let dir = tempfile::tempdir().unwrap();
    for cluster in [
        "demo:flannel-host-gw-routed",
        "demo:calico-bgp-routed",
        "demo:flannel-vxlan",
    ] {
        let page = dir.path().join("matrix.html");
        let out = netpath()
            .args(["trace", "--all", "--cluster", cluster, "--html"])
            .arg(&page)
            .output()
            .unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{cluster}");
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(
            !html.contains("src=") && !html.contains("href=") && !html.contains("@import"),
            "the page must be self-contained"
        );
        let (nodes, want) = json_matrix(cluster);
        if !chromium {
            continue;
        }
        let profile = tempfile::tempdir().unwrap();
        let out = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--dump-dom")
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dom = String::from_utf8(out.stdout).unwrap();
        let mut seen = BTreeMap::new();
        for piece in dom.split("<td ").skip(1) {
            let (tag, rest) = piece.split_once('>').unwrap();
            let tag = &format!(" {tag}");
            let text = rest.split("</td>").next().unwrap();
            // The table of reasons has cells too; only the matrix's carry data-from.
            let Some(from) = attr(tag, "data-from").map(unescape) else {
                continue;
            };
            let to = unescape(attr(tag, "data-to").unwrap());
            let verdict = attr(tag, "data-verdict").unwrap().to_string();
            let class = attr(tag, "class").unwrap().to_string();
            assert_eq!(class, verdict, "the cell's colour is its verdict");
            let codes: BTreeSet<String> = if text == "ok" || verdict == "self" {
                BTreeSet::new()
            } else {
                text.split("<br>").map(unescape).collect()
            };
            if verdict != "self" {
                let title = unescape(attr(tag, "title").unwrap());
                assert!(title.starts_with(&format!("{from} → {to}")), "{title}");
                if !codes.is_empty() {
                    assert!(title.contains("dropped at"), "{title}");
                }
            }
            seen.insert((from, to), (verdict, codes));
        }
        assert_eq!(
            seen.len(),
            nodes.len() * nodes.len(),
            "{cluster}: one cell per pair"
        );
        for from in &nodes {
            for to in &nodes {
                let (verdict, codes) = &seen[&(from.clone(), to.clone())];
                if from == to {
                    assert_eq!(verdict, "self");
                    continue;
                }
                let empty = BTreeSet::new();
                let expected = want.get(&(from.clone(), to.clone())).unwrap_or(&empty);
                assert_eq!(codes, expected, "{cluster}: {from} → {to}");
                assert_eq!(verdict == "delivered", expected.is_empty());
            }
        }
    }
}
