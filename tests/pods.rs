//! `netpath pods` from the command line, in the test's own netns (no namespaces built here:
//! those tests are in tests/privileged/pods.rs).

use std::process::Command;

fn netpath() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netpath"))
}

#[test]
fn help_names_the_inputs() {
    let out = netpath().args(["pods", "--help"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--netns",
        "--netns-dir",
        "--proc",
        "--cni-cache",
        "--pods",
        "--calico-prefix",
    ] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
}

#[test]
fn bad_inputs_exit_2_or_3() {
    let dir = tempfile::tempdir().unwrap();
    let pods = dir.path().join("pods.json");
    std::fs::write(&pods, "{\"kind\":\"List\",\"items\":[{\"metadata\":").unwrap();
    let out = netpath()
        .args(["pods", "--pods", pods.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--pods") && err.contains("pods.json"), "{err}");

    for (flag, value) in [
        ("--cni-cache", "/nonexistent/cni"),
        ("--netns-dir", "/nonexistent/netns"),
        ("--proc", "/nonexistent/proc"),
    ] {
        let out = netpath().args(["pods", flag, value]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(value));
    }

    let out = netpath()
        .args(["pods", "--netns", "np-pods-no-such-netns"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

#[test]
fn corrupt_cache_is_a_finding_and_the_rest_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("results");
    let netns = dir.path().join("netns");
    std::fs::create_dir(&cache).unwrap();
    std::fs::create_dir(&netns).unwrap();
    std::fs::write(
        cache.join("cbr0-abc-eth0"),
        "{\"kind\":\"cniCacheV1\",\"contain",
    )
    .unwrap();
    std::fs::write(
        cache.join("cbr0-def-eth0"),
        r#"{"kind":"cniCacheV1","containerId":"def","ifName":"eth0","networkName":"cbr0","netns":"/var/run/netns/cni-np-pods-test-gone","cniArgs":[["K8S_POD_NAMESPACE","default"],["K8S_POD_NAME","gone"]],"result":{"interfaces":[{"name":"vethnppodsgone"}],"ips":[{"address":"10.244.9.9/24"}]}}"#,
    )
    .unwrap();
    let out = netpath()
        .args([
            "pods",
            "--json",
            "--netns-dir",
            netns.to_str().unwrap(),
            "--cni-cache",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["schema"], "netpath.pods/v1");
    assert!(r["veths"].is_array());
    let kinds: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"corrupt-cni-cache"), "{kinds:?}");
    assert!(kinds.contains(&"stale-cni-cache"), "{kinds:?}");
    let cache_rows = r["cni_cache"].as_array().unwrap();
    assert_eq!(cache_rows.len(), 2);
    assert_eq!(cache_rows[1]["pod"], "default/gone");

    // The text form lists the findings after the table/summary.
    let out = netpath()
        .args([
            "pods",
            "--netns-dir",
            netns.to_str().unwrap(),
            "--cni-cache",
            cache.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 entries (0 live, 1 stale, 1 corrupt"),
        "{text}"
    );
    assert!(text.contains("corrupt-cni-cache:"), "{text}");
    assert!(text.contains("fix:"), "{text}");
}
