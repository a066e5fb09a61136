//! The crate's layering: no import cycle between top-level modules of `src/`.
//!
//! Every `crate::X` path in a source file (outside comments and test code) is an edge from
//! the file's top-level module to `X`. The graph must have no cycle, except the one clap
//! needs: `cli` names the commands of `cmd`, and `cmd/completions.rs` and `cmd/man.rs` ask
//! `cli` for the whole command line to generate completions and man pages from.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Edges allowed to close a cycle: (from module, to module, the only files allowed to).
const ALLOWED: &[(&str, &str, &[&str])] = &[("cmd", "cli", &["cmd/completions.rs", "cmd/man.rs"])];

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Test code by the project's naming: `tests.rs`, `*_tests.rs`, `testutil.rs`.
fn is_test_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name == "tests.rs" || name == "testutil.rs" || name.ends_with("_tests.rs")
}

/// The source without comments, and without an inline `#[cfg(test)] mod tests` (which the
/// project keeps at the end of a file).
fn code_of(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|n| n.trim_start().starts_with("mod tests {"))
        {
            break;
        }
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The leading identifier of `s`.
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules `code` names through `crate::`: `crate::x::…` and each item of
/// `crate::{x::…, y, …}`.
fn referenced(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::`, `mycrate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group, at brace depth 0.
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(ident(group[start..i].trim()).to_string());
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(group[start..i].trim()).to_string());
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest).to_string());
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

/// module → module it names → the files that name it.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut g = Graph::new();
    for path in files.iter().filter(|p| !is_test_file(p)) {
        let rel = path.strip_prefix(src).unwrap_or(path);
        let rel_name = rel.to_string_lossy().replace('\\', "/");
        let first = rel_name.split('/').next().unwrap_or_default();
        let module = first.strip_suffix(".rs").unwrap_or(first).to_string();
        let text = fs::read_to_string(path).unwrap_or_default();
        let edges = g.entry(module.clone()).or_default();
        for to in referenced(&code_of(&text)) {
            if to != module {
                edges.entry(to).or_default().insert(rel_name.clone());
            }
        }
    }
    // Drop the allowed edges when only the allowed files make them.
    for (from, to, files) in ALLOWED {
        if let Some(edges) = g.get_mut(*from) {
            if edges
                .get(*to)
                .is_some_and(|f| f.iter().all(|x| files.contains(&x.as_str())))
            {
                edges.remove(*to);
            }
        }
    }
    g
}

/// A cycle through `start`, as the modules in order and the files making each edge.
fn cycle_from(g: &Graph, start: &str) -> Option<Vec<String>> {
    fn dfs(
        g: &Graph,
        at: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let Some(edges) = g.get(at) else {
            return false;
        };
        for (to, files) in edges {
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            let step = format!("{at} → {to} ({})", files.join(", "));
            if to == start {
                path.push(step);
                return true;
            }
            if seen.insert(to.clone()) {
                path.push(step);
                if dfs(g, to, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = Vec::new();
    let mut seen = BTreeSet::new();
    dfs(g, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = graph(&src);
    assert!(
        g.len() > 10,
        "too few modules found under {}",
        src.display()
    );
    let mut cycles = Vec::new();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for m in g.keys() {
        if reported.contains(m) {
            continue;
        }
        if let Some(c) = cycle_from(&g, m) {
            for step in &c {
                reported.insert(ident(step).to_string());
            }
            cycles.push(c.join("\n    "));
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between modules of src/ (move the shared types down, into the module both \
         sides may use):\n  {}",
        cycles.join("\n  ")
    );
}

#[test]
fn references_are_read_from_paths_and_groups() {
    let code = code_of(
        "use crate::dataplane::Route;\nuse crate::{model::Cluster, world};\n\
         // crate::render::x\nlet x = crate::plan::node(c);\nmacro_rules! m { () => { $crate::y } }\n\
         #[cfg(test)]\nmod tests {\n    use crate::trace::walk;\n}\n",
    );
    let got: Vec<String> = referenced(&code).into_iter().collect();
    assert_eq!(got, ["dataplane", "model", "plan", "world"]);
}

#[test]
fn a_cycle_is_found_and_named() {
    let mut g = Graph::new();
    let edge = |g: &mut Graph, a: &str, b: &str| {
        g.entry(a.into())
            .or_default()
            .entry(b.into())
            .or_default()
            .insert(format!("{a}/mod.rs"));
    };
    edge(&mut g, "netlink", "diff");
    edge(&mut g, "diff", "snapshot");
    edge(&mut g, "snapshot", "netlink");
    edge(&mut g, "snapshot", "dataplane");
    let c = cycle_from(&g, "netlink").expect("a cycle");
    assert_eq!(c.len(), 3, "{c:?}");
    assert!(c[0].starts_with("netlink → diff"), "{c:?}");
    assert!(cycle_from(&g, "dataplane").is_none());
}
