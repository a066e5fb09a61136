//! `netpath trace` to a Service: kube-proxy's ClusterIP DNAT (iptables mode,
//! cni-semantics §18) over a kubectl dump holding Services and EndpointSlices.

use std::process::Command;

use serde_json::Value;

const DUMP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/clusters/services-kubectl.json"
);

/// Run `netpath --json trace -c CLUSTER ARGS…`: exit code and document.
fn trace(cluster: &str, args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_netpath"))
        .args(["--json", "trace", "--cluster", cluster])
        .args(args)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

fn hops_of<'a>(path: &'a Value, kind: &str) -> Vec<&'a Value> {
    path["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"]["kind"] == kind)
        .collect()
}

#[test]
fn cluster_ip_is_dnatted_to_every_ready_endpoint_and_back() {
    for dst in ["svc/default/web", "10.100.0.10", "svc/web"] {
        let (code, doc) = trace(DUMP, &["default/web-0", dst, "--dport", "80"]);
        assert_eq!(code, 0, "{dst}: {doc}");
        let svc = &doc["service"];
        assert_eq!(svc["service"], "default/web");
        assert_eq!(svc["cluster_ip"], "10.100.0.10");
        assert_eq!(svc["delivered"], true);
        let eps = svc["endpoints"].as_array().unwrap();
        // db-0 is not ready: kube-proxy leaves it out.
        let ips: Vec<&str> = eps
            .iter()
            .map(|t| t["dst"]["ip"].as_str().unwrap())
            .collect();
        assert_eq!(ips, ["10.244.0.5", "10.244.1.7"]);
        for t in eps {
            assert_eq!(t["request"]["packet"]["dst"], "10.100.0.10");
            let dnat = hops_of(&t["request"], "dnat");
            assert_eq!(dnat.len(), 1);
            assert_eq!(dnat[0]["host"], "node-a");
            assert_eq!(dnat[0]["action"]["from_port"], 80);
            assert_eq!(dnat[0]["action"]["to_port"], 8080);
            assert_eq!(dnat[0]["action"]["to"], t["dst"]["ip"]);
            assert_eq!(t["request"]["verdict"]["verdict"], "delivered");
            let reply = &t["reply"];
            assert_eq!(reply["verdict"]["verdict"], "delivered");
            let undnat = hops_of(reply, "undnat");
            assert_eq!(undnat.len(), 1, "{reply}");
            assert_eq!(undnat[0]["host"], "node-a");
            assert_eq!(undnat[0]["action"]["to"], "10.100.0.10");
        }
        // web-0 reaching itself through the Service is masqueraded (hairpin).
        let masq = hops_of(&eps[0]["request"], "masquerade");
        assert_eq!(masq[0]["action"]["to"], "10.244.0.1");
    }
}

#[test]
fn service_with_a_failing_endpoint_is_not_delivered() {
    let (code, doc) = trace(DUMP, &["web-0", "10.100.0.30", "--dport", "5432"]);
    assert_eq!(code, 1);
    let svc = &doc["service"];
    assert_eq!(svc["delivered"], false);
    assert_eq!(svc["code"], "endpoints-failing");
    assert!(
        svc["explanation"]
            .as_str()
            .unwrap()
            .contains("1 of 2 ready endpoint(s)")
    );
    let eps = svc["endpoints"].as_array().unwrap();
    assert_eq!(eps[0]["request"]["verdict"]["verdict"], "delivered");
    assert_eq!(eps[1]["request"]["verdict"]["code"], "no-neighbour");
}

#[test]
fn service_without_ready_endpoints_is_rejected() {
    let (code, doc) = trace(DUMP, &["web-0", "svc/default/empty"]);
    assert_eq!(code, 1);
    let svc = &doc["service"];
    assert_eq!(svc["code"], "no-endpoints");
    let v = &svc["endpoints"][0]["request"]["verdict"];
    assert_eq!(v["code"], "no-endpoints");
    assert_eq!(v["host"], "node-a");
    assert!(
        v["explanation"]
            .as_str()
            .unwrap()
            .contains("has no endpoints")
    );
}

#[test]
fn service_range_without_services_is_never_delivered() {
    // No Services in the input: the default range, stated as an assumption.
    let (code, doc) = trace("demo:flannel-vxlan", &["web-0", "10.96.0.10"]);
    assert_eq!(code, 1);
    let svc = &doc["service"];
    assert_eq!(svc["code"], "services-not-in-input");
    assert!(svc["service"].as_str().unwrap().contains("10.96.0.0/12"));
    assert!(svc["service"].as_str().unwrap().contains("assumed"));
    // Services listed, but none has the address: the range read from kube-apiserver.
    let (code, doc) = trace(DUMP, &["web-0", "10.100.9.9"]);
    assert_eq!(code, 1);
    let svc = &doc["service"];
    assert_eq!(svc["code"], "no-service");
    assert!(
        svc["service"]
            .as_str()
            .unwrap()
            .contains("kube-apiserver-node-a")
    );
    // Outside the range the trace is as before.
    let (_, doc) = trace(DUMP, &["web-0", "10.99.0.1"]);
    assert!(doc.get("service").is_none());
}

#[test]
fn service_errors_are_refused() {
    for (dst, why) in [
        ("svc/default/db-headless", "headless"),
        ("svc/default/nope", "no service default/nope"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_netpath"))
            .args(["trace", "--cluster", DUMP, "web-0", dst])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{dst}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(why), "{dst}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_netpath"))
        .args([
            "trace",
            "--cluster",
            DUMP,
            "web-0",
            "10.100.0.10",
            "--dport",
            "81",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn service_trace_text_and_pictures() {
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_netpath"))
            .args(["trace", "--cluster", DUMP, "web-0", "svc/default/web"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dnat     destination 10.100.0.10:80 → 10.244.1.7:8080"));
    assert!(text.contains("undnat   source 10.244.1.7 → 10.100.0.10"));
    assert!(text.contains("endpoint 2/2 of service default/web"));
    // The cluster's assumptions once, not once per endpoint.
    assert_eq!(text.matches("assumed: each node's uplink").count(), 1);
    for format in ["dot", "mermaid"] {
        let out = run(&["--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert!(!out.stdout.is_empty());
    }
}
