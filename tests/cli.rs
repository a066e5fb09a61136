//! The command line itself: completions are up to date, global options, exit codes.

use std::path::Path;
use std::process::Command;

fn netpath() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netpath"))
}

/// The committed completion scripts match what the CLI generates. Regenerate with
/// `NETPATH_UPDATE_COMPLETIONS=1 cargo test --test cli`.
#[test]
fn completions_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var("NETPATH_UPDATE_COMPLETIONS").is_ok_and(|v| v == "1");
    for (shell, file) in [
        ("bash", "netpath.bash"),
        ("zsh", "_netpath"),
        ("fish", "netpath.fish"),
    ] {
        let out = netpath().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let path = dir.join(file);
        if update {
            std::fs::write(&path, &out.stdout).unwrap();
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "completions/{file} is out of date with the CLI: run NETPATH_UPDATE_COMPLETIONS=1 cargo test --test cli"
        );
    }
}

/// Every command has a man page with the sections a runbook looks for, and man-db (when
/// installed) reads it without a warning.
#[test]
fn man_pages_render_with_their_sections() {
    let man_db = Command::new("man").arg("--version").output().is_ok();
    let dir = tempfile::tempdir().unwrap();
    let pages = std::iter::once(None).chain(netpath::cmd::man::PAGES.iter().map(|p| Some(*p)));
    for page in pages {
        let mut cmd = netpath();
        cmd.arg("man").args(page);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "netpath man {page:?} failed");
        let roff = String::from_utf8(out.stdout).unwrap();
        let title = match page {
            Some(p) => format!(".TH NETPATH-{}", p.to_uppercase()),
            None => ".TH NETPATH ".to_string(),
        };
        assert!(
            roff.contains(&title),
            "netpath man {page:?} is not titled {title}"
        );
        for section in [
            "SYNOPSIS",
            "OPTIONS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "EXAMPLES",
        ] {
            assert!(
                roff.contains(&format!(".SH \"{section}\""))
                    || roff.contains(&format!(".SH {section}")),
                "netpath man {page:?} has no {section} section"
            );
        }
        if man_db {
            let file = dir.path().join(format!("{}.1", page.unwrap_or("netpath")));
            std::fs::write(&file, &roff).unwrap();
            let out = Command::new("man")
                .args(["--warnings", "-E", "UTF-8", "-l"])
                .arg(&file)
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "100")
                .output()
                .unwrap();
            let warnings = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && warnings.trim().is_empty(),
                "man -l rejects netpath man {page:?}: {warnings}"
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("EXIT STATUS"));
        }
    }
}

/// The man pages are listed in --help.
#[test]
fn help_lists_man() {
    let out = netpath().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\n  man "));
}

/// Flag combinations that would silently do nothing are refused (exit 2).
#[test]
fn flags_that_do_nothing_are_refused() {
    let routes = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/routes/calico-ipip-bird.md");
    let cases: Vec<Vec<std::ffi::OsString>> = vec![
        vec![
            "routes".into(),
            "--compat".into(),
            "--json".into(),
            "--from".into(),
            routes.clone().into(),
        ],
        vec![
            "--json".into(),
            "routes".into(),
            "--compat".into(),
            "--from".into(),
            routes.into(),
        ],
        vec!["man".into(), "--json".into()],
        vec!["completions".into(), "bash".into(), "--json".into()],
    ];
    for args in cases {
        let out = netpath().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?} was accepted");
        assert!(out.stdout.is_empty(), "{args:?} printed something");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("json"),
            "{args:?}"
        );
    }
}

#[test]
fn bad_usage_exits_2() {
    let out = netpath().arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = netpath()
        .args(["--color", "sometimes", "completions", "bash"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// One row of the flag table: a long flag with one meaning, and the commands that take it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FlagUse {
    long: String,
    short: Option<char>,
    value: String,
    help: String,
}

/// Every long flag of every (sub)command, walked through the clap definition itself.
fn flag_uses() -> std::collections::BTreeMap<FlagUse, Vec<String>> {
    use clap::CommandFactory;
    fn walk(
        cmd: &clap::Command,
        path: &str,
        out: &mut std::collections::BTreeMap<FlagUse, Vec<String>>,
    ) {
        for arg in cmd.get_arguments() {
            // A flag is named by its long name, or by its short letter when it has none (-4).
            let Some(long) = arg
                .get_long()
                .map(|l| format!("--{l}"))
                .or_else(|| arg.get_short().map(|s| format!("-{s}")))
            else {
                continue;
            };
            if arg.is_hide_set() || long == "--help" || long == "--version" {
                continue;
            }
            let value = if !arg.get_action().takes_values() {
                String::new()
            } else if !arg.get_possible_values().is_empty() {
                arg.get_possible_values()
                    .iter()
                    .map(|v| v.get_name().to_string())
                    .collect::<Vec<_>>()
                    .join("|")
            } else {
                arg.get_value_names()
                    .map(|v| {
                        v.iter()
                            .map(|s| s.to_string())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_else(|| arg.get_id().to_string().to_uppercase())
            };
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let key = FlagUse {
                long,
                short: arg.get_short(),
                value,
                help,
            };
            let name = if path.is_empty() { "netpath" } else { path };
            let cmds = out.entry(key).or_default();
            if !cmds.iter().any(|c| c == name) {
                cmds.push(name.to_string());
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let p = if path.is_empty() {
                sub.get_name().to_string()
            } else {
                format!("{path} {}", sub.get_name())
            };
            walk(sub, &p, out);
        }
    }
    let mut out = std::collections::BTreeMap::new();
    let mut cli = netpath::cli::Cli::command();
    cli.build();
    walk(&cli, "", &mut out);
    out
}

/// Long flags that mean different things in different commands today. Each is a known
/// conflict with its resolution planned in docs/cli.md. The list only shrinks: a flag that
/// gains a second meaning fails [`one_long_flag_has_one_meaning`], and so does one that is
/// resolved and still listed here.
const KNOWN_CONFLICTS: &[(&str, &str)] = &[
    (
        "cluster",
        "a cluster source in plan/trace/check/agent, an optional kubectl dump (no demo:NAME) in decode/capture",
    ),
    (
        "count",
        "the same meaning, but its -c is --cluster in trace/plan/check/agent",
    ),
    (
        "filter",
        "one libpcap filter, called EXPR in decode and BPF in capture",
    ),
    (
        "from",
        "a routes dump FILE in `routes`, a source address in `routes get`",
    ),
    (
        "netns",
        "one namespace argument with three value names and helps",
    ),
    (
        "no-checksums",
        "capture explains offloaded checksums, decode does not",
    ),
    (
        "node",
        "the node to plan, to check, to snapshot, and the live node in trace",
    ),
    (
        "output",
        "one meaning (write to FILE), worded differently in dump and snapshot",
    ),
    (
        "proto",
        "tcp|udp|icmp in trace, a route protocol number in check/agent",
    ),
    (
        "snapshot",
        "trace takes several files or directories, check one",
    ),
    (
        "stats",
        "capture counts when the capture stops, decode at the end of the file",
    ),
    (
        "watch",
        "follow the leases in leases, reconcile in a loop in agent",
    ),
];

/// Short flags that stand for different long flags in different commands today (see
/// [`KNOWN_CONFLICTS`]; this list only shrinks too).
const KNOWN_SHORT_CONFLICTS: &[(char, &str)] = &[(
    'c',
    "--cluster in trace/plan/check/agent, --count in decode/capture (tcpdump's -c)",
)];

/// One long flag, one meaning: the same value name and help wherever it is accepted, and
/// one short letter stands for one long flag, except the known conflicts above (each to be
/// resolved as docs/cli.md says).
#[test]
fn one_long_flag_has_one_meaning() {
    let mut meanings: std::collections::BTreeMap<String, Vec<(FlagUse, Vec<String>)>> =
        Default::default();
    let mut shorts: std::collections::BTreeMap<char, std::collections::BTreeSet<String>> =
        Default::default();
    for (use_, cmds) in flag_uses() {
        if let Some(s) = use_.short {
            shorts.entry(s).or_default().insert(use_.long.clone());
        }
        meanings
            .entry(use_.long.clone())
            .or_default()
            .push((use_, cmds));
    }
    let mut report = Vec::new();
    for (long, uses) in &meanings {
        let allowed = KNOWN_CONFLICTS
            .iter()
            .any(|(l, _)| format!("--{l}") == *long);
        if uses.len() > 1 && !allowed {
            report.push(format!("{long} has {} meanings:", uses.len()));
            for (u, cmds) in uses {
                report.push(format!(
                    "  in {}: <{}> {}",
                    cmds.join(", "),
                    u.value,
                    u.help
                ));
            }
        }
        if uses.len() == 1 && allowed {
            report.push(format!(
                "{long} has one meaning now: take it off KNOWN_CONFLICTS in tests/cli.rs and docs/cli.md"
            ));
        }
    }
    for (long, _) in KNOWN_CONFLICTS {
        if !meanings.contains_key(&format!("--{long}")) {
            report.push(format!("--{long} is gone: take it off KNOWN_CONFLICTS"));
        }
    }
    for (short, longs) in &shorts {
        let allowed = KNOWN_SHORT_CONFLICTS.iter().any(|(s, _)| s == short);
        if longs.len() > 1 && !allowed {
            report.push(format!("-{short} stands for {longs:?}"));
        }
        if longs.len() == 1 && allowed {
            report.push(format!(
                "-{short} stands for one flag now: take it off KNOWN_SHORT_CONFLICTS"
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// The table of today's flags in docs/cli.md, generated from the clap definition so that
/// it cannot drift. Regenerate with `NETPATH_UPDATE_DOCS=1 cargo test --test cli`.
#[test]
fn flag_table_in_docs_is_current() {
    let mut table = String::from("| Flag | Meaning | Value | Commands |\n|---|---|---|---|\n");
    let uses = flag_uses();
    let all = uses.values().map(|c| c.len()).max().unwrap_or(0);
    for (u, cmds) in &uses {
        let flag = match u.short {
            Some(s) if u.long.starts_with("--") => format!("`-{s}`, `{}`", u.long),
            _ => format!("`{}`", u.long),
        };
        let meaning = u.help.replace('|', "\\|");
        let value = if u.value.is_empty() {
            String::new()
        } else {
            format!("`{}`", u.value.replace('|', "\\|"))
        };
        let commands = if cmds.len() == all && cmds.len() > 3 {
            "every command (global)".to_string()
        } else {
            cmds.join(", ")
        };
        table.push_str(&format!("| {flag} | {meaning} | {value} | {commands} |\n"));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let (begin, end) = ("<!-- flags:begin -->\n", "<!-- flags:end -->");
    let (Some(b), Some(e)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/cli.md has no {begin:?} … {end:?} block");
    };
    let current = &doc[b + begin.len()..e];
    if std::env::var("NETPATH_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        let updated = format!("{}{table}{}", &doc[..b + begin.len()], &doc[e..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        current == table,
        "docs/cli.md's flag table is out of date with the CLI: run NETPATH_UPDATE_DOCS=1 cargo test --test cli"
    );
}

/// Every known conflict is named in docs/cli.md with its resolution.
#[test]
fn docs_name_every_known_conflict() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md"))
        .unwrap_or_default();
    for (long, _) in KNOWN_CONFLICTS {
        assert!(
            doc.contains(&format!("### `--{long}`")),
            "docs/cli.md does not say how the conflict on --{long} is resolved"
        );
    }
    for (short, _) in KNOWN_SHORT_CONFLICTS {
        assert!(
            doc.contains(&format!("### `-{short}`")),
            "docs/cli.md does not say how the conflict on -{short} is resolved"
        );
    }
}

/// `decode -r FILE` reads as tcpdump's -r does, the same as the bare FILE.
#[test]
fn decode_reads_a_file_with_r_as_tcpdump() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/flannel-vxlan-8472.pcap");
    let bare = netpath().arg("decode").arg(&file).output().unwrap();
    let r = netpath()
        .args(["decode", "-r"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(bare.status.success() && !bare.stdout.is_empty());
    assert_eq!(bare.stdout, r.stdout);
    assert_eq!(r.status.code(), Some(0));
    let both = netpath()
        .args(["decode", "-r"])
        .arg(&file)
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
    let none = netpath().arg("decode").output().unwrap();
    assert_eq!(none.status.code(), Some(2));
}

/// A filter that matches nothing says which layer it saw: the outer one, on a tunnel.
#[test]
fn decode_says_the_filter_sees_the_outer_packet() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/flannel-vxlan-8472.pcap");
    let out = netpath()
        .args(["decode", "--filter", "icmp"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no packet matched") && err.contains("outer headers"),
        "{err}"
    );

    // The same from a stream (`tcpdump -w - | netpath decode -`).
    let out = netpath()
        .args(["decode", "--filter", "icmp", "-"])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no packet matched") && err.contains("outer headers"),
        "{err}"
    );
}

/// Every schema an offline command prints is in README's schema table, as printed.
#[test]
fn readme_names_the_schemas_the_commands_print() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let routes = root.join("testdata/routes/calico-ipip-bird.md");
    let routes = routes.to_str().unwrap();
    let pcap = root.join("testdata/flannel-vxlan-8472.pcap");
    let pcap = pcap.to_str().unwrap();
    let dumps = root.join("testdata/snapshot-text/node-a");
    let dumps = dumps.to_str().unwrap();
    let c = "demo:flannel-vxlan";
    let runs: Vec<Vec<&str>> = vec![
        vec!["demo"],
        vec!["demo", "flannel-vxlan"],
        vec!["plan", "-c", c, "--node", "node-1"],
        vec!["trace", "-c", c, "default/web-0", "default/db-0"],
        vec!["trace", "-c", c, "--all"],
        vec!["routes", "--from", routes],
        vec!["routes", "--from", routes, "get", "172.27.199.5"],
        vec!["decode", pcap, "-c", "1"],
        vec!["snapshot", "--from-dir", dumps],
    ];
    for args in runs {
        let out = netpath().arg("--json").args(&args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let first = text
            .lines()
            .find(|l| l.contains("\"schema\""))
            .unwrap_or("");
        let Some(schema) = first
            .split("\"schema\"")
            .nth(1)
            .and_then(|r| r.split('"').nth(1))
        else {
            panic!("netpath --json {args:?} printed no schema: {text}");
        };
        assert!(
            readme.contains(&format!("`{schema}`")),
            "README's schema table does not name {schema} (netpath --json {args:?})"
        );
    }
}
