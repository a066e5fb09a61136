//! Bad input, faults and misuse, as an adversarial user would try them: write errors,
//! closed pipes and stdouts, terminal escapes in input, secrets in URLs, files that are not
//! files, streams, and inputs without end. Each must end with a message and the documented
//! exit code — never a panic, a hang, a signal or memory without bound.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn netpath() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_netpath"));
    c.env_remove("NETPATH_ETCD_PASSWORD")
        .env("KUBECONFIG", "/nonexistent")
        .env("NO_COLOR", "1");
    c
}

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// Run with a time limit: a hang is a failure, not a stuck test run.
fn run_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{cmd:?} still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code, or a failure naming the signal that killed the process.
fn code(out: &Output) -> i32 {
    match out.status.code() {
        Some(c) => c,
        None => panic!(
            "killed by signal {:?}; stderr: {}",
            out.status.signal(),
            stderr(out)
        ),
    }
}

const FLANNEL: &str = "demo:flannel-vxlan";

/// Every text-printing command, to a full disk: an error with a message, exit 2, no panic.
#[test]
fn output_to_a_full_disk_is_an_error_not_a_panic() {
    let commands: &[&[&str]] = &[
        &["demo"],
        &["demo", "flannel-vxlan"],
        &["demo", "--json"],
        &["trace", "-c", FLANNEL, "default/web-0", "default/db-0"],
        &["trace", "-c", FLANNEL, "--all"],
        &["plan", "-c", FLANNEL, "--node", "node-1"],
        &["--help"],
        &["--version"],
        &["trace", "--help"],
        &["completions", "bash"],
        &["routes", "--from", "testdata/routes/route-n.txt"],
        &["decode", "testdata/plain-eth.pcap"],
        &["decode", "--tree", "testdata/plain-eth.pcap"],
        &[
            "check",
            "-c",
            FLANNEL,
            "--node",
            "node-1",
            "--snapshot",
            "testdata/snapshot-text/node-a",
        ],
    ];
    for args in commands {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = netpath()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(*args)
            .stdout(full)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{args:?}: {err}");
        assert!(
            err.contains("cannot write to standard output"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `>&-`: output would vanish; say so and fail instead of exiting 0.
#[test]
fn closed_stdout_is_an_error() {
    for args in [&["demo"][..], &["--version"], &["--help"]] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "exec \"$0\" {} >&-",
                args.join(" ") // no quoting needed: plain words
            ))
            .arg(env!("CARGO_BIN_EXE_netpath"))
            .output()
            .unwrap();
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("standard output"), "{}", stderr(&out));
    }
}

/// `| head -1`: the reader goes away; end quietly with 0, as rg does.
#[test]
fn closed_pipe_ends_quietly() {
    for args in [
        &["trace", "-c", FLANNEL, "--all"][..],
        &["demo"],
        &["decode", "testdata/flannel-vxlan-8472.pcap"],
        &["routes", "--from", "testdata/routes/ip-route-mixed.txt"],
    ] {
        let mut child = netpath()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end at once.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

/// A node name with a screen clear and an OSC 52 clipboard write, in a kubectl dump: it
/// reaches neither a text output nor an error message raw.
#[test]
fn terminal_escapes_from_input_are_escaped() {
    let dump = std::fs::read_to_string(testdata("clusters/flannel-kubectl.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&dump).unwrap();
    let first = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "Node")
        .unwrap()["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let evil = "evil\x1b[2J\x1b]52;c;aGk=\x07";
    let dump = dump.replace(
        &format!("\"{first}\""),
        &serde_json::to_string(evil).unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("evil.json");
    std::fs::write(&file, dump).unwrap();
    let file = file.to_str().unwrap();
    for args in [
        &["trace", "-c", file, "--all"][..],
        &["plan", "-c", file, "--node", "nope"],
        &["plan", "-c", file, "--node", evil],
    ] {
        let out = run_within(
            {
                let mut c = netpath();
                c.args(args);
                c
            },
            Duration::from_secs(60),
        );
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !stream.contains(&0x1b) && !stream.contains(&0x07),
                "{args:?} printed a raw control character: {}",
                String::from_utf8_lossy(stream)
            );
        }
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("\\x1b")
                || String::from_utf8_lossy(&out.stderr).contains("\\x1b"),
            "{args:?}: the name is shown, escaped"
        );
    }
}

/// Credentials in an etcd URL appear nowhere; an unreachable etcd is the environment (3);
/// an empty endpoint list is a sentence.
#[test]
fn etcd_urls_are_redacted_and_unreachable_exits_3() {
    let out = run_within(
        {
            let mut c = netpath();
            c.args([
                "leases",
                "--etcd-endpoints",
                "http://root:S3cr3t@127.0.0.1:1",
            ]);
            c
        },
        Duration::from_secs(30),
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 3, "{err}");
    assert!(!err.contains("S3cr3t"), "{err}");
    assert!(err.contains("unreachable"), "{err}");
    let out = run_within(
        {
            let mut c = netpath();
            c.args([
                "leases",
                "--json",
                "--etcd-endpoints",
                "http://root:S3cr3t@127.0.0.1:1",
            ]);
            c
        },
        Duration::from_secs(30),
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("S3cr3t"));
    assert!(!stderr(&out).contains("S3cr3t"));

    let out = netpath()
        .args(["leases", "--etcd-endpoints", ""])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(!err.contains("()"), "{err}");
    assert!(err.contains("etcd"), "{err}");
}

/// Keep `write` imported for helpers added below.
#[allow(dead_code)]
fn feed(child: &mut std::process::Child, bytes: &[u8]) {
    let _ = child.stdin.as_mut().unwrap().write_all(bytes);
}
