//! `netpath pods` against real pods: a "node" netns holding the host ends of veths whose
//! other ends live in containerd-style `cni-<uuid>` namespaces (Calico-style and
//! Flannel-style), in a process's unnamed netns, and in a leaked netns held only by a bind
//! mount; a CNI cache written the way libcni writes it; and deliberate leftovers.

use std::path::Path;
use std::process::{Child, Command, Output};

use libtest_mimic::{Failed, Trial};
use serde_json::{Value, json};

use crate::lab::{TestNetns, netpath, sh, sh_output};

pub fn tests() -> Vec<Trial> {
    vec![
        Trial::test("pods::maps_every_pod_and_finds_leftovers", maps_every_pod),
        Trial::test("pods::bad_input_is_reported_not_fatal", bad_input),
        Trial::test("pods::without_root_shows_what_it_can", without_root),
        Trial::test("pods::namespaces_vanishing_mid_scan", vanishing_namespaces),
    ]
}

fn uuid() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .unwrap()
        .trim()
        .to_string()
}

/// A containerd-style named netns `cni-<uuid>` (under /run/netns), deleted on drop.
struct PodNetns {
    name: String,
}

impl PodNetns {
    fn new() -> PodNetns {
        let name = format!("cni-{}", uuid());
        sh(&format!(
            "ip netns add {name} && ip -n {name} link set lo up"
        ));
        PodNetns { name }
    }
}

impl Drop for PodNetns {
    fn drop(&mut self) {
        let _ = sh_output(&format!("ip netns del {}", self.name));
    }
}

/// Runs a shell command on drop (unmounts, deletions), also when the test fails.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = sh_output(&self.0);
    }
}

/// A child process, killed on drop.
struct Sleeper(Child);

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn calico_name(ns: &str, pod: &str) -> String {
    netpath::cni::calico::veth_name("cali", ns, pod)
}

/// The pod side of a veth pair: `eth0` in `pod` (a netns name or a pid), with `ip`.
fn veth_pair(node: &TestNetns, host: &str, pod: &str, mtu: u32) {
    sh(&format!(
        "ip link add {host} netns {} mtu {mtu} type veth peer name eth0 netns {pod} mtu {mtu}",
        node.name
    ));
}

/// A Calico-style pod: /32 on eth0, 169.254.1.1 link route and default route, host /32 route.
fn calico_pod(node: &TestNetns, pod: &str, host: &str, ip: &str, host_route: bool) {
    veth_pair(node, host, pod, 1450);
    node.exec(&format!("ip link set {host} up"));
    let in_pod = |cmd: &str| {
        if pod.chars().all(|c| c.is_ascii_digit()) {
            sh(&format!("nsenter -t {pod} -n {cmd}"))
        } else {
            sh(&format!("ip -n {pod} {}", cmd.trim_start_matches("ip ")))
        }
    };
    in_pod(&format!("ip addr add {ip}/32 dev eth0"));
    in_pod("ip link set eth0 up");
    in_pod("ip route add 169.254.1.1 dev eth0 scope link");
    in_pod("ip route add default via 169.254.1.1 dev eth0");
    if host_route {
        node.exec(&format!("ip route add {ip}/32 dev {host} scope link"));
    }
}

/// A Flannel-style pod: random `veth…` name enslaved to cni0, /24 on eth0, default via .1.
fn flannel_pod(node: &TestNetns, pod: &str, ip: &str, mtu: u32) -> String {
    let host = format!("veth{}", &uuid().replace('-', "")[..8]);
    veth_pair(node, &host, pod, mtu);
    node.exec(&format!("ip link set {host} master cni0 up"));
    sh(&format!(
        "ip -n {pod} addr add {ip}/24 dev eth0 && ip -n {pod} link set eth0 up && ip -n {pod} route add default via 10.244.1.1"
    ));
    host
}

/// A cache entry the way libcni writes it (`cachedInfo` in libcni/api.go).
fn cache_entry(
    network: &str,
    cid: &str,
    netns: &str,
    pod: Option<(&str, &str)>,
    interfaces: Value,
    ip: &str,
) -> Value {
    let mut args = vec![json!(["IgnoreUnknown", "true"])];
    if let Some((ns, name)) = pod {
        args.push(json!(["K8S_POD_NAMESPACE", ns]));
        args.push(json!(["K8S_POD_NAME", name]));
        args.push(json!(["K8S_POD_INFRA_CONTAINER_ID", cid]));
        args.push(json!(["K8S_POD_UID", format!("uid-{name}")]));
    }
    json!({
        "kind": "cniCacheV1",
        "containerId": cid,
        "config": "eyJjbmlWZXJzaW9uIjoiMS4wLjAifQ==",
        "ifName": "eth0",
        "networkName": network,
        "netns": netns,
        "cniArgs": args,
        "capabilityArgs": {"io.kubernetes.cri.pod-annotations": {}},
        "result": {
            "cniVersion": "1.0.0",
            "interfaces": interfaces,
            "ips": [{"interface": interfaces.as_array().map(|a| a.len() - 1).unwrap_or(0), "address": ip}],
            "dns": {}
        }
    })
}

fn write_entry(dir: &Path, network: &str, cid: &str, v: &Value) {
    std::fs::write(
        dir.join(format!("{network}-{cid}-eth0")),
        serde_json::to_vec(v).unwrap(),
    )
    .unwrap();
}

fn run(args: &[&str]) -> Output {
    netpath().args(args).output().expect("cannot run netpath")
}

fn parse_json(out: &Output) -> Result<Value, Failed> {
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "not JSON ({e}): stdout {}\nstderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into()
    })
}

fn veth<'a>(report: &'a Value, name: &str) -> Result<&'a Value, Failed> {
    report["veths"]
        .as_array()
        .and_then(|a| a.iter().find(|v| v["name"] == name))
        .ok_or_else(|| format!("no row for {name} in {report:#}").into())
}

fn check(cond: bool, what: &str, report: &Value) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(format!("{what}\nreport: {report:#}").into())
    }
}

fn ifindex_in(pod: &str, dev: &str) -> u64 {
    let out = if pod.chars().all(|c| c.is_ascii_digit()) {
        sh(&format!(
            "nsenter -t {pod} -n cat /sys/class/net/{dev}/ifindex"
        ))
    } else {
        sh(&format!(
            "ip netns exec {pod} cat /sys/class/net/{dev}/ifindex"
        ))
    };
    out.trim().parse().unwrap()
}

fn maps_every_pod() -> Result<(), Failed> {
    let node = TestNetns::new("pods-node");
    node.exec(
        "ip link add cni0 type bridge && ip addr add 10.244.1.1/24 dev cni0 && ip link set cni0 up \
         && ip link add flannel.1 mtu 1450 type vxlan id 1 dstport 8472 nolearning && ip link set flannel.1 up",
    );
    let cache = tempfile::tempdir()?;
    // libcni's layout: <cache dir>/results/<network>-<container id>-<ifname>.
    let results = cache.path().join("results");
    std::fs::create_dir(&results)?;

    // Calico-style pods: one with its host route, one without.
    let (c1, c2) = (PodNetns::new(), PodNetns::new());
    let c1_host = calico_name("default", "nginx-7f456874f4-5xc59");
    let c2_host = calico_name("shop", "api-0");
    calico_pod(&node, &c1.name, &c1_host, "10.65.0.2", true);
    calico_pod(&node, &c2.name, &c2_host, "10.65.0.3", false);
    for (pod, host, ns, name, ip, cid) in [
        (
            &c1,
            &c1_host,
            "default",
            "nginx-7f456874f4-5xc59",
            "10.65.0.2/32",
            "c1c1c1c1",
        ),
        (&c2, &c2_host, "shop", "api-0", "10.65.0.3/32", "c2c2c2c2"),
    ] {
        let e = cache_entry(
            "k8s-pod-network",
            cid,
            &format!("/var/run/netns/{}", pod.name),
            Some((ns, name)),
            json!([{"name": host}]),
            ip,
        );
        write_entry(&results, "k8s-pod-network", cid, &e);
    }

    // Flannel-style pods on cni0: f1 in the cache; f2 only in the pod list; f3 claims f1's
    // address; f4 has an MTU larger than flannel.1 carries.
    let (f1, f2, f3, f4) = (
        PodNetns::new(),
        PodNetns::new(),
        PodNetns::new(),
        PodNetns::new(),
    );
    let f1_host = flannel_pod(&node, &f1.name, "10.244.1.5", 1450);
    let f2_host = flannel_pod(&node, &f2.name, "10.244.1.6", 1450);
    let f3_host = flannel_pod(&node, &f3.name, "10.244.1.5", 1450);
    let f4_host = flannel_pod(&node, &f4.name, "10.244.1.8", 1500);
    let sandbox = format!("/var/run/netns/{}", f1.name);
    let e = cache_entry(
        "cbr0",
        "f1f1f1f1",
        &sandbox,
        Some(("web", "frontend-1")),
        json!([{"name": "cni0", "mac": "aa:bb:cc:00:00:01"},
               {"name": f1_host, "mac": "aa:bb:cc:00:00:02"},
               {"name": "eth0", "mac": "aa:bb:cc:00:00:03", "sandbox": sandbox}]),
        "10.244.1.5/24",
    );
    write_entry(&results, "cbr0", "f1f1f1f1", &e);
    let pods_file = cache.path().join("pods.json");
    std::fs::write(
        &pods_file,
        serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "List", "items": [
            {"metadata": {"name": "backend-2", "namespace": "web", "uid": "u2"},
             "spec": {"nodeName": "node-1"},
             "status": {"podIP": "10.244.1.6", "podIPs": [{"ip": "10.244.1.6"}]}},
            {"metadata": {"name": "kube-proxy-abc", "namespace": "kube-system"},
             "spec": {"hostNetwork": true}, "status": {"podIP": "10.244.1.6"}}
        ]}))?,
    )?;
    // A pod whose netns is held only by a process (no name).
    let child = Command::new("unshare")
        .args(["-n", "sleep", "60"])
        .spawn()?;
    let sleeper = Sleeper(child);
    let pid = sleeper.0.id().to_string();
    // unshare execs sleep in the same process once the netns exists: wait for it.
    let own = std::fs::read_link("/proc/self/ns/net")?;
    for _ in 0..100 {
        if std::fs::read_link(format!("/proc/{pid}/ns/net")).is_ok_and(|l| l != own) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let p_host = calico_name("batch", "job-x");
    calico_pod(&node, &pid, &p_host, "10.65.0.4", true);
    let e = cache_entry(
        "k8s-pod-network",
        "p1p1p1p1",
        &format!("/proc/{pid}/ns/net"),
        Some(("batch", "job-x")),
        json!([{"name": p_host}]),
        "10.65.0.4/32",
    );
    write_entry(&results, "k8s-pod-network", "p1p1p1p1", &e);

    // A leaked veth: its peer netns is held only by a bind mount outside the netns dirs.
    let leak_dir = tempfile::tempdir()?;
    let leak_file = leak_dir.path().join("held-netns");
    std::fs::write(&leak_file, "")?;
    let leak = PodNetns::new();
    sh(&format!(
        "mount --bind /run/netns/{} {}",
        leak.name,
        leak_file.display()
    ));
    let _unmount = Cleanup(format!("umount {}", leak_file.display()));
    let leak_host = "veth0dead0beef";
    veth_pair(&node, leak_host, &leak.name, 1450);
    node.exec(&format!("ip link set {leak_host} up"));
    drop(leak); // `ip netns del`: the name goes, the bind mount keeps the netns alive.

    // A stale cache entry (netns and veth gone) and a truncated one.
    let gone = format!("/var/run/netns/cni-{}", uuid());
    let e = cache_entry(
        "k8s-pod-network",
        "deaddead",
        &gone,
        Some(("default", "old-pod")),
        json!([{"name": calico_name("default", "old-pod")}]),
        "10.65.0.99/32",
    );
    write_entry(&results, "k8s-pod-network", "deaddead", &e);
    let full = serde_json::to_string(&e)?;
    std::fs::write(
        results.join("k8s-pod-network-truncated-eth0"),
        &full[..full.len() / 3],
    )?;

    let out = run(&[
        "pods",
        "--json",
        "--netns",
        &node.name,
        "--netns-dir",
        "/run/netns",
        "--proc",
        "/proc",
        "--cni-cache",
        cache.path().to_str().unwrap(),
        "--pods",
        pods_file.to_str().unwrap(),
    ]);
    let r = parse_json(&out)?;
    check(
        out.status.code() == Some(1),
        "exit code 1 with findings",
        &r,
    )?;
    check(r["schema"] == "netpath.pods/v1", "schema", &r)?;
    check(
        r["cni_cache_dir"] == results.to_str().unwrap(),
        "a cache dir holding results/ is accepted",
        &r,
    )?;

    // Calico pods: paired by nsid, named from the cache, name cross-checked.
    for (pod, host, who, ip, route) in [
        (
            &c1.name,
            &c1_host,
            "default/nginx-7f456874f4-5xc59",
            "10.65.0.2/32",
            "veth",
        ),
        (&c2.name, &c2_host, "shop/api-0", "10.65.0.3/32", "none"),
    ] {
        let v = veth(&r, host)?;
        check(v["status"] == "pod", "calico pod status", v)?;
        check(
            v["netns"]["names"][0] == pod.as_str(),
            "calico pod netns",
            v,
        )?;
        check(v["netns"]["matched_by"] == "nsid", "matched by nsid", v)?;
        check(v["pod_side"]["name"] == "eth0", "pod side name", v)?;
        check(
            v["pod_side"]["ifindex"] == ifindex_in(pod, "eth0"),
            "pod side ifindex",
            v,
        )?;
        check(v["peer_ifindex"] == ifindex_in(pod, "eth0"), "IFLA_LINK", v)?;
        check(v["pod_side"]["addrs"][0] == ip, "pod address", v)?;
        check(
            v["pod_side"]["default_route"] == "default via 169.254.1.1 dev eth0",
            "pod default route",
            v,
        )?;
        let label = format!(
            "{}/{}",
            v["pod"]["namespace"].as_str().unwrap_or(""),
            v["pod"]["name"].as_str().unwrap_or("")
        );
        check(label == who, "pod identity", v)?;
        check(v["pod"]["source"] == "cni-cache", "identity source", v)?;
        check(v["calico_name"]["agrees"] == true, "calico name agrees", v)?;
        check(v["host_routes"][0]["via"] == route, "host route", v)?;
        check(v["mtu_check"]["fits"] == true, "mtu fits", v)?;
    }

    // Flannel pods: routes through the bridge, identities from the cache and the pod list.
    let f1v = veth(&r, &f1_host)?;
    check(
        f1v["netns"]["names"][0] == f1.name.as_str(),
        "f1 netns",
        f1v,
    )?;
    check(f1v["master"] == "cni0", "f1 master", f1v)?;
    check(
        f1v["host_routes"][0]["via"] == "bridge",
        "f1 route via cni0",
        f1v,
    )?;
    check(
        f1v["pod"]["name"] == "frontend-1",
        "f1 identity from cache",
        f1v,
    )?;
    check(f1v["pod"]["uid"] == "uid-frontend-1", "f1 uid", f1v)?;
    check(
        f1v["calico_name"].is_null(),
        "no calico check on veth…",
        f1v,
    )?;
    let f2v = veth(&r, &f2_host)?;
    check(
        f2v["pod"]["name"] == "backend-2",
        "f2 identity from --pods",
        f2v,
    )?;
    check(
        f2v["pod"]["source"] == "pods-file",
        "f2 identity source",
        f2v,
    )?;
    let f3v = veth(&r, &f3_host)?;
    check(
        f3v["netns"]["names"][0] == f3.name.as_str(),
        "f3 netns",
        f3v,
    )?;
    check(f3v["pod"].is_null(), "f3 has no identity", f3v)?;
    let f4v = veth(&r, &f4_host)?;
    check(f4v["mtu_check"]["fits"] == false, "f4 mtu too large", f4v)?;
    check(
        f4v["mtu_check"]["limit_from"] == "flannel.1",
        "limit from flannel.1",
        f4v,
    )?;

    // The process-held pod.
    let pv = veth(&r, &p_host)?;
    check(pv["status"] == "pod", "process pod status", pv)?;
    check(
        pv["netns"]["names"][0]
            .as_str()
            .is_some_and(|n| n.starts_with(&format!("pid {pid} "))),
        "process pod found through /proc",
        pv,
    )?;
    check(
        pv["pod"]["name"] == "job-x",
        "process pod identity (cache netns /proc/PID/ns/net)",
        pv,
    )?;
    check(
        pv["pod_side"]["addrs"][0] == "10.65.0.4/32",
        "process pod address",
        pv,
    )?;

    // The leak.
    let lv = veth(&r, leak_host)?;
    check(lv["status"] == "leaked", "leaked veth", lv)?;
    check(lv["netns"].is_null(), "leaked veth has no netns", lv)?;

    // Exactly the findings built here.
    let mut got: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["kind"].as_str().unwrap_or(""),
                f["object"].as_str().unwrap_or("")
            )
        })
        .collect();
    got.sort();
    let stale_file = results.join("k8s-pod-network-deaddead-eth0");
    let truncated = results.join("k8s-pod-network-truncated-eth0");
    let mut want = vec![
        format!("corrupt-cni-cache {}", truncated.display()),
        "duplicate-pod-ip 10.244.1.5".to_string(),
        format!("leaked-veth {leak_host} (ifindex {})", lv["ifindex"]),
        format!("mtu-too-large {f4_host} ({})", f4.name),
        "no-host-route 10.65.0.3 (shop/api-0)".to_string(),
        format!("stale-cni-cache {}", stale_file.display()),
    ];
    want.sort();
    check(got == want, &format!("findings {got:#?} != {want:#?}"), &r)?;
    let stale = r["cni_cache"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["file"] == stale_file.to_str().unwrap())
        .unwrap();
    check(
        stale["reason"]
            .as_str()
            .is_some_and(|s| s.contains("is gone")),
        "stale reason",
        stale,
    )?;

    // The same as text: the table, then the findings.
    let out = run(&[
        "pods",
        "--netns",
        &node.name,
        "--netns-dir",
        "/run/netns",
        "--cni-cache",
        results.to_str().unwrap(),
        "--pods",
        pods_file.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let table_at = text.find("VETH").ok_or("no table header")?;
    let findings_at = text
        .find("findings (6):")
        .ok_or(format!("no findings list: {text}"))?;
    assert!(table_at < findings_at, "{text}");
    for needle in [
        c1_host.as_str(),
        "default/nginx-7f456874f4-5xc59",
        "bridge cni0",
        "LEAKED",
        "web/backend-2",
        "name ok",
        "stale-cni-cache",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    drop(sleeper);
    Ok(())
}

fn bad_input() -> Result<(), Failed> {
    let node = TestNetns::new("pods-bad");
    let pod = PodNetns::new();
    let host = calico_name("default", "ok");
    calico_pod(&node, &pod.name, &host, "10.65.1.2", true);

    // A netns dir with odd members: a regular file, a dangling symlink, a directory.
    let dirs = tempfile::tempdir()?;
    let nsdir = dirs.path().join("netns");
    std::fs::create_dir(&nsdir)?;
    std::fs::write(nsdir.join("cni-not-a-netns"), "x")?;
    std::os::unix::fs::symlink("/run/netns/cni-gone-long-ago", nsdir.join("cni-dangling"))?;
    std::fs::create_dir(nsdir.join("cni-a-directory"))?;
    sh(&format!(
        "touch {0}/{1} && mount --bind /run/netns/{1} {0}/{1}",
        nsdir.display(),
        pod.name
    ));
    let _unmount = Cleanup(format!("umount {}/{}", nsdir.display(), pod.name));
    // A cache with a corrupt file, a binary one, an empty one, a legacy one and a directory.
    let cache = dirs.path().join("results");
    std::fs::create_dir(&cache)?;
    std::fs::write(
        cache.join("k8s-pod-network-a-eth0"),
        "{\"kind\":\"cniCacheV1\",",
    )?;
    std::fs::write(cache.join("k8s-pod-network-b-eth0"), [0u8, 159, 146, 150])?;
    std::fs::write(cache.join("k8s-pod-network-c-eth0"), "")?;
    std::fs::write(
        cache.join("k8s-pod-network-d-eth0"),
        r#"{"cniVersion":"0.3.1","ips":[]}"#,
    )?;
    std::fs::create_dir(cache.join("k8s-pod-network-e-eth0"))?;
    let bad_pods = dirs.path().join("pods.json");
    std::fs::write(&bad_pods, "{\"items\": [")?;

    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "pods",
            "--json",
            "--netns",
            &node.name,
            "--netns-dir",
            nsdir.to_str().unwrap(),
            "--cni-cache",
            cache.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let out = netpath().args(args(&[])).output()?;
    let r = parse_json(&out)?;
    check(
        out.status.code() == Some(1),
        "exit 1 (corrupt cache files)",
        &r,
    )?;
    let v = veth(&r, &host)?;
    check(v["status"] == "pod", "the good pod is still shown", v)?;
    check(
        v["netns"]["names"][0] == pod.name.as_str(),
        "found through the odd dir",
        v,
    )?;
    let unread = r["unread"].to_string();
    for needle in ["cni-not-a-netns", "cni-dangling", "k8s-pod-network-e-eth0"] {
        check(
            unread.contains(needle),
            &format!("{needle} reported as unread"),
            &r,
        )?;
    }
    let corrupt = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "corrupt-cni-cache")
        .count();
    check(corrupt == 3, "three corrupt cache files", &r)?;
    let skipped = r["cni_cache"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] == "skipped")
        .count();
    check(skipped == 1, "the legacy file is skipped", &r)?;

    // A pod list that does not parse, paths that do not exist, a netns that does not: exit 2/3.
    let out = netpath()
        .args(args(&["--pods", bad_pods.to_str().unwrap()]))
        .output()?;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--pods"),
        "{out:?}"
    );
    let out = run(&["pods", "--cni-cache", "/nonexistent/cni"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = run(&["pods", "--netns", "np-no-such-node"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    Ok(())
}

fn without_root() -> Result<(), Failed> {
    let node = TestNetns::new("pods-nonroot");
    let pod = PodNetns::new();
    let host = calico_name("default", "web");
    calico_pod(&node, &pod.name, &host, "10.65.2.2", true);
    let dir = tempfile::tempdir()?;
    let cache = dir.path().join("results");
    std::fs::create_dir(&cache)?;
    let e = cache_entry(
        "k8s-pod-network",
        "w1",
        &format!("/var/run/netns/{}", pod.name),
        Some(("default", "web")),
        json!([{"name": host}]),
        "10.65.2.2/32",
    );
    write_entry(&cache, "k8s-pod-network", "w1", &e);
    sh(&format!("chmod 700 {}", cache.display()));
    // A copy of the binary that nobody may run (target/ may sit under a private directory).
    let bin = dir.path().join("netpath");
    std::fs::copy(env!("CARGO_BIN_EXE_netpath"), &bin)?;
    sh(&format!(
        "chmod 755 {} {}",
        dir.path().display(),
        bin.display()
    ));
    let cmd = format!(
        "ip netns exec {} setpriv --reuid=65534 --regid=65534 --clear-groups {} pods --json --netns-dir /run/netns --cni-cache {}",
        node.name,
        bin.display(),
        cache.display()
    );
    // A child forked by another test thread while the copy was open for writing holds a
    // writable fd to it until it execs: exec then fails with ETXTBSY for a moment.
    let mut out = sh_output(&cmd);
    for _ in 0..50 {
        if !String::from_utf8_lossy(&out.stderr).contains("Text file busy") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        out = sh_output(&cmd);
    }
    let r = parse_json(&out)?;
    check(
        matches!(out.status.code(), Some(0 | 1)),
        "runs without root",
        &r,
    )?;
    let v = veth(&r, &host)?;
    check(v["status"] == "pod", "paired without root (RTM_GETNSID)", v)?;
    check(
        v["netns"]["names"][0] == pod.name.as_str(),
        "netns named",
        v,
    )?;
    check(
        v["pod_side_unread"]
            .as_str()
            .is_some_and(|s| s.contains("permission denied")),
        "says why the pod side is missing",
        v,
    )?;
    let unread = r["unread"].to_string();
    check(
        unread.contains(cache.to_str().unwrap()) && unread.contains("run as root"),
        "the unreadable cache is reported",
        &r,
    )?;
    Ok(())
}

fn vanishing_namespaces() -> Result<(), Failed> {
    let node = TestNetns::new("pods-churn");
    let pod = PodNetns::new();
    let host = calico_name("default", "stable");
    calico_pod(&node, &pod.name, &host, "10.65.3.2", true);
    // Pods come and go while netpath scans.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        let node = node.name.clone();
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let ns = format!("cni-churn-{}-{i}", std::process::id());
                let _ = sh_output(&format!(
                    "ip netns add {ns} && ip link add vchurn{i} netns {node} type veth peer name eth0 netns {ns} && ip netns del {ns}"
                ));
                let _ = sh_output(&format!("ip netns del {ns} 2>/dev/null"));
                i += 1;
            }
        })
    };
    let mut result = Ok(());
    for _ in 0..8 {
        let out = run(&[
            "pods",
            "--json",
            "--netns",
            &node.name,
            "--netns-dir",
            "/run/netns",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !matches!(out.status.code(), Some(0 | 1)) || stderr.contains("panicked") {
            result = Err(format!("bad run: {out:?}").into());
            break;
        }
        match parse_json(&out).and_then(|r| veth(&r, &host).map(|v| v["status"] == "pod")) {
            Ok(true) => {}
            Ok(false) => {
                result = Err("the stable pod lost its pairing".into());
                break;
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = churn.join();
    result
}
