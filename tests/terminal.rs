//! Tables on a real terminal: `check` on a 100-column colour pseudo-terminal (util-linux
//! `script`) lines its columns up, fits the width, and prints every fix command whole on
//! one line, ready to paste.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn netpath() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netpath"))
}

/// A snapshot directory of demo:flannel-vxlan where node-1 drifted: a VTEP moved (FDB),
/// a neighbour's MAC changed and a route is gone, so the fixes carry MAC addresses.
fn drifted_cluster(dir: &Path) {
    for n in ["node-1", "node-2", "node-3"] {
        let out = netpath()
            .args([
                "--json",
                "plan",
                "--cluster",
                "demo:flannel-vxlan",
                "--node",
                n,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let mut doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        if n == "node-1" {
            let state = &mut doc["plan"]["state"];
            state["fdb"][0]["dst"] = "192.168.99.99".into();
            state["neighbours"][0]["lladdr"] = "0a:bc:de:f0:12:34".into();
            state["routes"].as_array_mut().unwrap().remove(0);
        }
        std::fs::write(dir.join(format!("{n}.json")), doc.to_string()).unwrap();
    }
}

/// Every string under a `fix` key of the JSON document.
fn fixes(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "fix" {
                    for c in v.as_array().into_iter().flatten() {
                        out.extend(c.as_str().map(str::to_string));
                    }
                } else {
                    fixes(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| fixes(v, out)),
        _ => {}
    }
}

/// The text without ANSI escape sequences and carriage returns.
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        if c != '\r' {
            out.push(c);
        }
    }
    out
}

#[test]
fn check_fits_a_100_column_colour_terminal_and_fixes_paste_whole() {
    let dir = tempfile::tempdir().unwrap();
    drifted_cluster(dir.path());
    let snaps = dir.path().to_str().unwrap();
    let json = netpath()
        .args([
            "--json",
            "check",
            "--cluster",
            "demo:flannel-vxlan",
            "--snapshot",
            snaps,
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    let mut want = Vec::new();
    fixes(&doc, &mut want);
    assert!(!want.is_empty(), "the drift has fixes");
    let mac = |w: &str| w.len() == 17 && w.matches(':').count() == 5;
    assert!(
        want.iter().any(|f| f.split(' ').any(mac)),
        "a fix carries a MAC: {want:?}"
    );

    // A real pseudo-terminal, 100 columns wide, colour on.
    let line = format!(
        "stty cols 100 rows 50; COLUMNS=100 {} --color always check --cluster demo:flannel-vxlan --snapshot {snaps}",
        env!("CARGO_BIN_EXE_netpath")
    );
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .output()
        .expect("util-linux script runs");
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        raw.contains("\x1b["),
        "no colour on a colour terminal: {raw}"
    );
    let text = plain(&raw);
    let lines: Vec<&str> = text.lines().collect();
    // The table and the fixes' comments fit; the summary lines name files and are prose.
    let table_and_fixes = lines
        .iter()
        .skip_while(|l| !l.starts_with("NODE"))
        .take_while(|l| !l.starts_with("node-"));
    for l in table_and_fixes {
        let whole_fix = want.iter().any(|f| f == l.trim_end());
        assert!(
            l.chars().count() <= 100 || whole_fix,
            "a line wider than 100 columns:\n{l}\n{text}"
        );
    }
    for f in &want {
        assert!(
            lines.iter().any(|l| l.trim_end() == f),
            "fix not whole on one line: {f}\n{text}"
        );
    }
    // Columns line up: every row's KIND starts where the header's does.
    let header = lines
        .iter()
        .find(|l| l.starts_with("NODE"))
        .expect("a table");
    let kind = header.find("KIND").unwrap();
    for row in lines.iter().skip_while(|l| !l.starts_with("NODE")).skip(1) {
        if row.is_empty() {
            break;
        }
        if row.starts_with(' ') {
            continue; // a wrapped cell's next line
        }
        let chars: Vec<char> = row.chars().collect();
        let kind_chars = header[..kind].chars().count();
        assert!(
            chars.get(kind_chars - 1) == Some(&' ')
                && chars.get(kind_chars).is_some_and(|c| *c != ' '),
            "KIND does not line up:\n{header}\n{row}"
        );
    }
}
