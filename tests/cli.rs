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

#[test]
fn man_page_renders() {
    let out = netpath().arg("man").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(".TH netpath"));
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
