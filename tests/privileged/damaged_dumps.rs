//! Route dumps pasted from tickets, damaged as pastes are (a line cut off, a redacted
//! gateway, mangled whitespace, a stray prompt, a `route -n` line mixed in), made from what
//! a real kernel printed in a namespace: `routes --from` reads the rest, names each skipped
//! line, and `routes --from F get ADDR` says when one could change the answer.

use std::collections::BTreeSet;

use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::lab::{TestNetns, netpath};

pub fn tests() -> Vec<Trial> {
    vec![Trial::test(
        "damaged_dumps::routes_from_reads_the_rest_and_names_each_skipped_line",
        routes_from_reads_the_rest,
    )]
}

/// A Calico/Flannel-like node: BIRD routes, a VXLAN onlink route, a connected subnet.
fn node(tag: &str) -> TestNetns {
    let ns = TestNetns::new(tag);
    ns.exec(
        "set -e
        ip link add eth0 type veth peer name eth1
        ip link set eth0 up; ip link set eth1 up
        ip addr add 10.0.0.2/24 dev eth0
        ip route add default via 10.0.0.1 proto dhcp metric 100
        ip link add flannel.1 type vxlan id 1 dev eth0 local 10.0.0.2 dstport 8472 nolearning
        ip link set flannel.1 up
        ip route add 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink
        ip route add 10.244.2.0/24 via 10.0.0.193 dev eth0 proto bird
        ip route add 10.244.3.0/24 via 10.0.0.3 dev eth0 proto bird
        ip route add 10.244.4.0/24 via 10.0.0.4 dev eth0 proto bird",
    );
    ns.settle();
    ns
}

/// What `--json` gives for a dump written to a file, with the exit code and stderr.
fn run(args: &[&str]) -> Result<(i32, Value, String), Failed> {
    let out = netpath().args(args).output()?;
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout).map_err(|e| format!("{e}: {err}"))?;
    Ok((out.status.code().unwrap_or(-1), doc, err))
}

fn dsts(doc: &Value) -> BTreeSet<String> {
    doc["routes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["dst"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn routes_from_reads_the_rest() -> Result<(), Failed> {
    let ns = node("dmgdump");
    let clean = ns.exec("ip route");
    let mut damaged = vec!["[root@node-a ~]# ip route".to_string()];
    for line in clean.lines() {
        let l = if line.starts_with("10.244.2.0/24") {
            // A redacted gateway.
            line.replace("10.0.0.193", "x.y.0.193")
        } else if line.starts_with("10.244.3.0/24") {
            // Cut off in the middle of `proto bird`.
            line[..line.find("proto bird").ok_or("no proto bird")? + 8].to_string()
        } else if line.starts_with("10.244.1.0/24") {
            // Whitespace mangled by a chat client: tabs, runs of spaces, a no-break space.
            line.replace(" via ", "\t via  ")
                .replace(" dev ", "\u{a0}dev ")
        } else {
            line.to_string()
        };
        damaged.push(l);
    }
    // A stray prompt line and a line of `route -n` pasted in between.
    damaged.insert(3, "[root@node-a ~]# ".to_string());
    damaged.push(
        "10.244.9.0      10.0.0.9        255.255.255.0   UG    0      0        0 eth0".into(),
    );
    let path = std::env::temp_dir().join(format!("np-dmgdump-{}.txt", std::process::id()));
    std::fs::write(&path, damaged.join("\n") + "\n")?;
    let p = path.display().to_string();

    // The list: exit 0, every intact route read, each damaged line named in the warnings.
    let (code, doc, err) = run(&["--json", "routes", "--from", &p])?;
    assert_eq!(code, 0, "{err}");
    let want: BTreeSet<String> = ["0.0.0.0/0", "10.0.0.0/24", "10.244.1.0/24", "10.244.4.0/24"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(dsts(&doc), want, "{doc:#}");
    let warned: Vec<(u64, String)> = doc["warnings"]
        .as_array()
        .ok_or("no warnings array")?
        .iter()
        .map(|w| {
            (
                w["line"].as_u64().unwrap_or(0),
                w["text"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let lines: Vec<&str> = damaged.iter().map(String::as_str).collect();
    for bad in ["x.y.0.193", "proto bi", "255.255.255.0"] {
        let no = lines
            .iter()
            .position(|l| l.contains(bad) && !l.contains("bird"))
            .or_else(|| lines.iter().position(|l| l.contains(bad)))
            .ok_or(bad)?
            + 1;
        assert!(
            warned
                .iter()
                .any(|(n, t)| *n == no as u64 && t.contains(bad)),
            "line {no} ({bad}) not named: {warned:?}"
        );
        assert!(err.contains(&format!("line {no}: skipped")), "{err}");
    }
    assert!(err.contains("the rest of the dump was read"), "{err}");
    // The intact route with mangled whitespace reads as the kernel's own.
    let (_, kernel, _) = run(&["--json", "routes", "--netns", &ns.name])?;
    let onlink = |d: &Value| {
        d["routes"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["dst"] == "10.244.1.0/24").cloned())
    };
    assert_eq!(onlink(&doc), onlink(&kernel));

    // get: a skipped line whose prefix covers the address could change the answer.
    let (code, doc, _) = run(&["--json", "routes", "--from", &p, "get", "10.244.2.7"])?;
    assert_eq!(code, 0, "{doc:#}");
    let skipped = doc["source"]["skipped_lines"]
        .as_array()
        .ok_or("no skipped_lines")?;
    assert_eq!(skipped.len(), 1, "{doc:#}");
    assert_eq!(skipped[0]["prefix"], "10.244.2.0/24");
    let text = netpath()
        .args(["routes", "--from", &p, "get", "10.244.3.1"])
        .output()?;
    let text = String::from_utf8(text.stdout)?;
    assert!(
        text.contains("10.244.3.0/24 covers the address") && text.contains("could differ"),
        "{text}"
    );
    // …and one that does not cover it (or is less specific than the winner) cannot.
    let (code, doc, _) = run(&["--json", "routes", "--from", &p, "get", "10.244.4.7"])?;
    assert_eq!(code, 0);
    assert_eq!(
        doc["source"]["skipped_lines"],
        serde_json::json!([]),
        "{doc:#}"
    );
    let _ = std::fs::remove_file(&path);
    Ok(())
}
