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

/// A pcap of `n` copies of the first packet of testdata/plain-eth.pcap.
fn big_pcap(n: usize) -> Vec<u8> {
    let src = std::fs::read(testdata("plain-eth.pcap")).unwrap();
    let caplen = u32::from_le_bytes(src[32..36].try_into().unwrap()) as usize;
    let record = &src[24..24 + 16 + caplen];
    let mut out = src[..24].to_vec();
    out.reserve(n * record.len());
    for _ in 0..n {
        out.extend_from_slice(record);
    }
    out
}

/// tcpdump -C/-W truncates ring files while they may be read: decode says so and exits 2,
/// instead of dying by SIGBUS without a word.
#[test]
fn decode_of_a_file_truncated_while_read_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ring.pcap");
    std::fs::write(&file, big_pcap(400_000)).unwrap();
    let mut child = netpath()
        .arg("decode")
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read a little: decode is now blocked on the pipe partway through the file.
    let mut stdout = child.stdout.take().unwrap();
    let mut head = vec![0u8; 64 << 10];
    std::io::Read::read_exact(&mut stdout, &mut head).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(4096)
        .unwrap();
    std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(err.contains("ring.pcap") && err.contains("shrank"), "{err}");
}

/// Streams decode as they arrive: `decode <(…)`, `… | decode /dev/stdin`, a FIFO and `-`
/// all show the packets (they used to say "0 bytes", or wait for the end).
#[test]
fn decode_reads_pipes_fifos_and_stdin_as_streams() {
    let pcap = testdata("flannel-vxlan-8472.pcap");
    let want = netpath().arg("decode").arg(&pcap).output().unwrap();
    assert!(want.status.success());
    let p = pcap.display().to_string();
    let bin = env!("CARGO_BIN_EXE_netpath");
    for script in [
        format!("\"{bin}\" decode <(cat \"{p}\")"),
        format!("cat \"{p}\" | \"{bin}\" decode /dev/stdin"),
        format!("cat \"{p}\" | \"{bin}\" decode -"),
        format!(
            "d=$(mktemp -d) && mkfifo $d/f && (cat \"{p}\" > $d/f &) && \"{bin}\" decode $d/f; rc=$?; rm -r $d; exit $rc"
        ),
    ] {
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{script}: {}", stderr(&out));
        assert_eq!(out.stdout, want.stdout, "{script}");
    }
    // Packets show as they arrive: the first one is printed while the writer still holds
    // the pipe open.
    let bytes = std::fs::read(&pcap).unwrap();
    let mut child = netpath()
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&bytes).unwrap();
    stdin.flush().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::io::Read::read_exact(&mut stdout, &mut first);
        let _ = tx.send(r.map(|()| first));
    });
    let got = rx.recv_timeout(Duration::from_secs(20));
    drop(stdin);
    let _ = child.wait();
    assert!(
        got.is_ok_and(|r| r.is_ok()),
        "nothing shown before the writer closed"
    );
}

/// Inputs without end, devices, FIFOs and symlinks to them where a file is meant: a
/// sentence and exit 2, at once.
#[test]
fn files_that_are_not_files_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in a fresh temporary directory.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let link = dir.path().join("zero.json");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let fifo = fifo.to_str().unwrap();
    let link = link.to_str().unwrap();
    for bad in ["/dev/zero", "/dev/urandom", fifo, link] {
        for args in [
            &["routes", "--from", bad][..],
            &["trace", "-c", bad, "--all"],
            &["plan", "-c", bad, "--node", "n"],
            &["check", "--plan", bad, "--snapshot", bad],
            &["agent", "--plan", bad, "--dry-run"],
            &["pods", "--pods", bad],
            &["decode", "--cluster", bad, "testdata/plain-eth.pcap"],
            &[
                "trace",
                "-c",
                FLANNEL,
                "--snapshot",
                bad,
                "default/web-0",
                "default/db-0",
            ],
            &[
                "leases",
                "--etcd-endpoints",
                "http://127.0.0.1:1",
                "--etcd-certfile",
                bad,
                "--etcd-keyfile",
                bad,
            ],
        ] {
            let out = run_within(
                {
                    let mut c = netpath();
                    c.current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
                    c
                },
                Duration::from_secs(30),
            );
            let err = stderr(&out);
            assert_eq!(code(&out), 2, "{args:?}: {err}");
            assert!(err.contains("not a regular file"), "{args:?}: {err}");
        }
    }
    // Standard input without end stops at the stated limit.
    let out = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" routes --from - </dev/zero")
        .arg(env!("CARGO_BIN_EXE_netpath"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("256 MiB"), "{}", stderr(&out));
    let out = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" decode - </dev/zero")
        .arg(env!("CARGO_BIN_EXE_netpath"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("not a pcap"), "{}", stderr(&out));
}

/// A CNI cache holding a FIFO and a symlink to /dev/zero: pods and snapshot name them as
/// unreadable and finish; a cache that is a file is an error.
#[test]
fn a_cni_cache_with_fifos_and_devices_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let fifo = results.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in a fresh temporary directory.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::os::unix::fs::symlink("/dev/zero", results.join("zero")).unwrap();
    let r = results.to_str().unwrap();
    let empty = dir.path().join("netns");
    std::fs::create_dir(&empty).unwrap();
    let e = empty.to_str().unwrap();
    let out = run_within(
        {
            let mut c = netpath();
            c.args(["pods", "--cni-cache", r, "--netns-dir", e]);
            c
        },
        Duration::from_secs(30),
    );
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        text.contains("FIFO") && text.contains("character device"),
        "{text}"
    );
    let snap = dir.path().join("s.json");
    let out = run_within(
        {
            let mut c = netpath();
            c.args(["snapshot", "--cni-cache", r, "--netns-dir", e, "-o"])
                .arg(&snap);
            c
        },
        Duration::from_secs(30),
    );
    assert!(matches!(code(&out), 0 | 1), "{}", stderr(&out));
    let out = netpath()
        .args(["pods", "--cni-cache", "/etc/passwd"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("not a directory"), "{}", stderr(&out));
}

/// A text dump whose ip-route.txt is a symlink to /dev/zero is named, not "missing".
#[test]
fn a_dump_file_that_is_a_device_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node-a");
    std::fs::create_dir(&node).unwrap();
    for f in std::fs::read_dir(testdata("snapshot-text/node-a")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, node.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::remove_file(node.join("ip-route.txt")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", node.join("ip-route.txt")).unwrap();
    let out = run_within(
        {
            let mut c = netpath();
            c.args(["snapshot", "--from-dir"]).arg(&node);
            c
        },
        Duration::from_secs(30),
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(
        err.contains("ip-route.txt") && err.contains("character device"),
        "{err}"
    );
}

/// 100,000 levels of nesting in a cluster file fail fast, JSON or YAML.
#[test]
fn deeply_nested_cluster_files_fail_fast() {
    let dir = tempfile::tempdir().unwrap();
    let n = 100_000;
    for (name, text) in [
        (
            "deep.json",
            format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n)),
        ),
        ("deep.yaml", format!("{}{}", "[".repeat(n), "]".repeat(n))),
        ("dash.yaml", "- ".repeat(n)),
        (
            "deepk.json",
            format!(
                "{{\"apiVersion\":\"v1\",\"items\":{}{}}}",
                "[".repeat(n),
                "]".repeat(n)
            ),
        ),
    ] {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        let start = Instant::now();
        let out = run_within(
            {
                let mut c = netpath();
                c.args(["trace", "--all", "-c"]).arg(&f);
                c
            },
            Duration::from_secs(60),
        );
        assert_eq!(code(&out), 2, "{name}: {}", stderr(&out));
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name} took {:?}",
            start.elapsed()
        );
    }
}

/// `--netns ''` is bad usage (2), and `--snapshot` before SRC DST takes one value.
#[test]
fn netns_and_snapshot_flags_misused() {
    let out = netpath().args(["routes", "--netns", ""]).output().unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--netns is empty"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let cluster = netpath::model::Cluster::load(FLANNEL, &Default::default()).unwrap();
    for n in ["node-1", "node-2"] {
        let snap = netpath::snapshot::Snapshot {
            taken_at: "2025-01-01T00:00:00Z".into(),
            source: netpath::snapshot::Source::Live {
                netns: "test".into(),
            },
            kernel: None,
            state: netpath::plan::node(&cluster, n).unwrap().state,
            pods: None,
            unread: Vec::new(),
            warnings: Vec::new(),
        };
        std::fs::write(
            dir.path().join(format!("{n}.json")),
            serde_json::to_string(&snap).unwrap(),
        )
        .unwrap();
    }
    let a = dir.path().join("node-1.json");
    let b = dir.path().join("node-2.json");
    let both = format!("{},{}", a.display(), b.display());
    for args in [
        vec![
            "trace",
            "-c",
            FLANNEL,
            "--snapshot",
            a.to_str().unwrap(),
            "default/web-0",
            "default/db-0",
        ],
        vec![
            "trace",
            "-c",
            FLANNEL,
            "--snapshot",
            &both,
            "default/web-0",
            "default/db-0",
        ],
        vec![
            "trace",
            "-c",
            FLANNEL,
            "--snapshot",
            a.to_str().unwrap(),
            "--snapshot",
            b.to_str().unwrap(),
            "default/web-0",
            "default/db-0",
        ],
    ] {
        let out = netpath().args(&args).output().unwrap();
        assert!(matches!(code(&out), 0 | 1), "{args:?}: {}", stderr(&out));
    }
}

/// A pod name with an OSC 52 clipboard write, given to `decode --cluster`: shown escaped.
#[test]
fn decode_names_from_input_are_escaped() {
    let mut d: serde_json::Value =
        serde_json::from_slice(&std::fs::read(testdata("clusters/flannel-kubectl.json")).unwrap())
            .unwrap();
    for it in d["items"].as_array_mut().unwrap() {
        if it["kind"] == "Pod" && it["metadata"]["name"] == "api-0" {
            it["metadata"]["name"] = "evil\x1b]52;c;aGk=\x07".into();
            it["status"]["podIP"] = "10.244.1.5".into();
            it["status"].as_object_mut().unwrap().remove("podIPs");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("evil.json");
    std::fs::write(&f, d.to_string()).unwrap();
    for extra in [&[][..], &["--stats"]] {
        let out = netpath()
            .args(["decode", "--cluster"])
            .arg(&f)
            .args(extra)
            .arg(testdata("flannel-vxlan-8472.pcap"))
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(!out.stdout.contains(&0x1b), "{extra:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("evil\\x1b]52"),
            "{extra:?}"
        );
    }
}

/// Warnings and notes on a full stderr (`2>/dev/full`): the command still ends by its own
/// verdict, never a panic (`eprintln!` would panic, exit 101); and a warning quoting a
/// damaged input line escapes the terminal sequences in it.
#[test]
fn diagnostics_to_a_full_stderr_do_not_panic_and_are_escaped() {
    let dir = std::env::temp_dir().join(format!("netpath-diag-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dump = dir.join("routes.txt");
    std::fs::write(
        &dump,
        "default via 10.0.0.1 dev eth0\n10.244.3.0/24 via 10.0.0.3 dev eth0 proto bi\x1b]52;c;QUJD\x07\n",
    )
    .unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = netpath()
        .args(["routes", "--from"])
        .arg(&dump)
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let out = netpath()
        .args(["routes", "--from"])
        .arg(&dump)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("warning"), "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
