//! `netpath routes` from the command line: usage errors, help, and the views of the
//! current netns (read only; nothing is configured).

use std::process::Command;

fn netpath() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netpath"))
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        vec!["routes", "--table", "bogus"],
        vec!["routes", "--compat", "-6"],
        vec!["routes", "--compat", "--table", "local"],
        vec!["routes", "-4", "-6"],
        vec!["routes", "get", "not-an-address"],
        vec!["routes", "get"],
        vec!["routes", "--table", "main", "get", "10.0.0.1"],
    ] {
        let out = netpath().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn help_documents_every_marker() {
    let out = netpath().args(["routes", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for marker in [
        "blackhole",
        "unreachable",
        "prohibit",
        "onlink",
        "linkdown",
        "multipath",
        "Proto",
        "Scope",
        "Table",
        "Src",
        "Explanation",
        "--compat",
    ] {
        assert!(help.contains(marker), "--help does not mention {marker}");
    }
    let get = netpath()
        .args(["routes", "get", "--help"])
        .output()
        .unwrap();
    let get = String::from_utf8_lossy(&get.stdout);
    assert!(
        get.contains("--from <SRC>") && get.contains("--iif <DEV>"),
        "{get}"
    );
}

#[test]
fn views_of_the_current_netns() {
    let out = netpath().args(["routes", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "netpath.routes/v1");
    assert_eq!(doc["netns"], "current");
    assert!(doc["routes"].is_array());

    let table = netpath().args(["routes"]).output().unwrap();
    assert!(table.status.success());
    assert!(String::from_utf8_lossy(&table.stdout).starts_with("Destination"));

    // --compat is route -n, byte for byte, when net-tools is installed.
    let compat = netpath().args(["routes", "--compat"]).output().unwrap();
    assert!(compat.status.success());
    if let Ok(route) = Command::new("route").arg("-n").output() {
        if route.status.success() {
            assert_eq!(
                String::from_utf8_lossy(&compat.stdout),
                String::from_utf8_lossy(&route.stdout)
            );
        }
    }
}

#[test]
fn closed_pipe_does_not_panic() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = netpath()
        .args(["routes", "--table", "all"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
}
