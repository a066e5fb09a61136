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

fn from_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = netpath()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command refused on its arguments exits without reading standard input; the
    // write then meets a closed pipe, which is that command's answer, not a test failure.
    if let Err(e) = child.stdin.take().unwrap().write_all(input) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

/// A ticket's `ip route` paste, old iproute2 double spaces included.
const PASTED: &str = "\
default via 192.168.1.1 dev eth0
blackhole 10.65.0.0/26  proto bird
10.65.0.5 dev cali1a2b3c4d5e6  scope link
10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink
unreachable 10.99.1.1
192.168.1.0/24 dev eth0  proto kernel  scope link  src 192.168.1.10
";

#[test]
fn offline_views() {
    let out = from_stdin(&["routes", "--from", "-", "--compat"], PASTED.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "\
Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
0.0.0.0         192.168.1.1     0.0.0.0         UG    0      0        0 eth0
10.65.0.0       0.0.0.0         255.255.255.192 U     0      0        0 *
10.65.0.5       0.0.0.0         255.255.255.255 UH    0      0        0 cali1a2b3c4d5e6
10.244.1.0      10.244.1.0      255.255.255.0   UG    0      0        0 flannel.1
10.99.1.1       -               255.255.255.255 !H    0      -        0 -
192.168.1.0     0.0.0.0         255.255.255.0   U     0      0        0 eth0
"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("routes.txt");
    std::fs::write(&file, PASTED).unwrap();
    let out = netpath()
        .args(["routes", "--json", "--from"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "ip route");
    assert_eq!(doc["netns"], serde_json::Value::Null);
    assert_eq!(doc["routes"][1]["type"], "blackhole");
    assert_eq!(doc["routes"][1]["proto"]["name"], "bird");
    assert_eq!(
        doc["routes"][2]["explanation"],
        "calico pod route → cali1a2b3c4d5e6"
    );
    assert_eq!(doc["routes"][3]["onlink"], true);
}

#[test]
fn offline_bad_input_exits_2_with_a_message() {
    for (what, input) in [
        ("garbage", &b"hello world\nthis is not a route\n"[..]),
        ("binary", &b"\x7fELF\x00\x01\x02"[..]),
        ("empty", &b""[..]),
        ("truncated JSON", &b"[{\"dst\":\"10.0.0.0/8\",\"dev\":"[..]),
    ] {
        let out = from_stdin(&["routes", "--from", "-"], input);
        assert_eq!(out.status.code(), Some(2), "{what}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("netpath: "), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
    let out = netpath()
        .args(["routes", "--from", "/nonexistent/routes.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/routes.txt"));
    let out = netpath()
        .args(["routes", "--from", "x", "--netns", "y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `routes --from FILE get ADDR`: the lookup predicted from a dump, said to be a
/// prediction; exit 1 when the address is not routable; JSON names the dump.
#[test]
fn offline_get_predicts_from_a_dump() {
    let o = from_stdin(
        &["routes", "--from", "-", "get", "10.244.1.7"],
        PASTED.as_bytes(),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("-> 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink (wins)"),
        "{out}"
    );
    assert!(out.contains("predicted from standard input"), "{out}");
    assert!(out.contains("no local table"), "{out}");
    assert!(!out.contains("kernel (ip route get)"), "{out}");
    assert!(out.contains("verdict: routable"), "{out}");

    // The Calico block's blackhole covers an address no pod route does.
    let o = from_stdin(
        &["routes", "--from", "-", "get", "10.65.0.9"],
        PASTED.as_bytes(),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("not routable: blackhole route"), "{out}");
    assert!(
        out.contains("the kernel would say: Invalid argument"),
        "{out}"
    );
    // The pod's /32 wins over the block.
    let o = from_stdin(
        &["--json", "routes", "--from", "-", "get", "10.65.0.5"],
        PASTED.as_bytes(),
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["routable"], true);
    assert_eq!(v["kernel"], serde_json::Value::Null);
    assert_eq!(v["source"]["file"], "-");
    assert_eq!(v["source"]["format"], "ip route");
    let steps = v["steps"].as_array().unwrap();
    let last = steps.last().unwrap();
    assert_eq!(last["outcome"], "route");
    assert_eq!(last["covering"][0]["dst"], "10.65.0.5/32", "{last}");
    assert_eq!(last["covering"][0]["dev"], "cali1a2b3c4d5e6", "{last}");
    // unreachable: EHOSTUNREACH, exit 1; an address nothing covers in a dump without a
    // default route is not routable either.
    let o = from_stdin(
        &["routes", "--from", "-", "get", "10.99.1.1"],
        PASTED.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    // A dump with the local table: the node's own address is local.
    let dump = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/routes/ip-d-route-table-all.txt"
    ))
    .unwrap();
    let o = from_stdin(&["routes", "--from", "-", "get", "127.0.0.1"], &dump);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("table local: "), "{out}");
    assert!(!out.contains("no local table"), "{out}");
    // --netns asks a kernel: not with a dump.
    let o = from_stdin(
        &["routes", "--netns", "x", "--from", "-", "get", "10.65.0.5"],
        PASTED.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(2));
}
