//! The agent against real kernels: plans applied in test namespaces, checked with `ip`,
//! `bridge`, and the agent's own re-read.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use libtest_mimic::{Failed, Trial};
use netpath::dataplane::{
    Addr, FdbEntry, Link, LinkKind, MacAddr, Neighbour, Nexthop, NodeState, NudState, Protocol,
    Route, RouteType, Scope, Vxlan,
};
use netpath::diff::{self, AGENT_PROTO, Ownership};
use netpath::netlink::{Netns, write};

use crate::lab::{TestNetns, netpath};

pub fn tests() -> Vec<Trial> {
    vec![
        Trial::test(
            "agent::write_flannel_vxlan_from_scratch",
            write_flannel_vxlan_from_scratch,
        ),
        Trial::test(
            "agent::ipip_is_refused_before_anything",
            ipip_is_refused_before_anything,
        ),
        Trial::test(
            "agent::flannel_once_repair_and_check",
            flannel_once_repair_and_check,
        ),
        Trial::test(
            "agent::foreign_routes_are_left_alone",
            foreign_routes_are_left_alone,
        ),
        Trial::test("agent::calico_vxlan_shapes", calico_vxlan_shapes),
        Trial::test("agent::ipip_in_the_plan_exits_3", ipip_in_the_plan_exits_3),
        Trial::test(
            "agent::crash_mid_apply_converges",
            crash_mid_apply_converges,
        ),
        Trial::test(
            "agent::watch_repairs_and_keeps_last_good_plan",
            watch_repairs_and_keeps_last_good_plan,
        ),
        Trial::test("agent::dry_run_changes_nothing", dry_run_changes_nothing),
        Trial::test(
            "agent::thousands_of_routes_one_failure",
            thousands_of_routes_one_failure,
        ),
    ]
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

fn link(name: &str, kind: LinkKind, mtu: u32) -> Link {
    Link::up(name, kind, mtu)
}

/// An underlay: `eth0` (a veth whose peer stays in the namespace) with 192.168.77.1/24.
fn underlay(ns: &TestNetns) {
    ns.exec(
        "ip link add eth0 type veth peer name eth0p && ip addr add 192.168.77.1/24 dev eth0 && \
         ip link set eth0 up && ip link set eth0p up",
    );
}

/// Node 1 of a Flannel VXLAN cluster (VNI 1, port 8472) with remote nodes 2 and 3.
fn flannel_plan() -> NodeState {
    let mut s = NodeState {
        node: "node1".into(),
        ..Default::default()
    };
    s.links
        .push(link("eth0", LinkKind::Veth(Default::default()), 1500));
    let mut f1 = link(
        "flannel.1",
        LinkKind::Vxlan(Vxlan {
            vni: 1,
            port: 8472,
            local: Some(ip("192.168.77.1")),
            dev: Some("eth0".into()),
            learning: false,
        }),
        1450,
    );
    f1.mac = Some(mac("0a:00:00:00:01:01"));
    s.links.push(f1);
    s.addrs.push(Addr {
        dev: "flannel.1".into(),
        addr: net("10.244.1.0/32"),
        scope: Scope::Universe,
    });
    for n in [2u8, 3] {
        let vtep = mac(&format!("0a:00:00:00:0{n}:0{n}"));
        let lease_ip = ip(&format!("10.244.{n}.0"));
        s.neighbours.push(Neighbour {
            dst: lease_ip,
            lladdr: Some(vtep),
            dev: "flannel.1".into(),
            state: NudState::Permanent,
        });
        s.fdb.push(FdbEntry {
            mac: vtep,
            dst: Some(ip(&format!("192.168.77.{}", 10 + n))),
            dev: "flannel.1".into(),
            master: None,
            self_: true,
            state: NudState::Permanent,
        });
        s.routes.push(Route::unicast(
            net(&format!("10.244.{n}.0/24")),
            Nexthop::via(lease_ip, "flannel.1").onlink(),
        ));
    }
    s.sysctls.ip_forward = Some(true);
    s
}

fn write_flannel_vxlan_from_scratch() -> Result<(), Failed> {
    let ns = TestNetns::new("agw");
    underlay(&ns);
    let plan = flannel_plan();
    let mut actual = NodeState::default();
    actual
        .links
        .push(link("eth0", LinkKind::Veth(Default::default()), 1500));
    actual.sysctls.ip_forward = Some(false);
    let d = diff::diff(&plan, &actual, &Ownership::agent(&plan, AGENT_PROTO, false));
    let report = write::apply(&Netns::parse(&ns.name), &d.changes).map_err(|e| format!("{e:#}"))?;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let link = ns.exec("ip -d link show flannel.1");
    for want in [
        "vxlan id 1 local 192.168.77.1 dev eth0",
        "dstport 8472",
        "nolearning",
        "mtu 1450",
        "0a:00:00:00:01:01",
        "UP",
    ] {
        assert!(link.contains(want), "{want:?} not in {link}");
    }
    let routes = ns.exec("ip route show proto 158");
    assert_eq!(
        routes,
        "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink \n10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink \n"
    );
    let neigh = ns.exec("ip neigh show dev flannel.1");
    assert!(
        neigh.contains("10.244.2.0 lladdr 0a:00:00:00:02:02 PERMANENT"),
        "{neigh}"
    );
    let fdb = ns.exec("bridge fdb show dev flannel.1");
    assert!(
        fdb.contains("0a:00:00:00:03:03 dst 192.168.77.13 self permanent"),
        "{fdb}"
    );
    assert_eq!(ns.exec("sysctl -n net.ipv4.ip_forward").trim(), "1");
    assert!(
        ns.exec("ip addr show dev flannel.1")
            .contains("inet 10.244.1.0/32")
    );
    let _ = (Protocol::BOOT, RouteType::Blackhole);
    Ok(())
}

fn ipip_is_refused_before_anything() -> Result<(), Failed> {
    let ns = TestNetns::new("agi");
    underlay(&ns);
    let mut plan = flannel_plan();
    plan.links.push(link(
        "tunl0",
        LinkKind::Ipip {
            local: None,
            remote: None,
        },
        1480,
    ));
    let mut actual = NodeState::default();
    actual
        .links
        .push(link("eth0", LinkKind::Veth(Default::default()), 1500));
    actual.sysctls.ip_forward = Some(false);
    let d = diff::diff(&plan, &actual, &Ownership::agent(&plan, AGENT_PROTO, false));
    // Only what could have been changed: link flags, IPv6 neighbours and IPv6 local routes
    // change by themselves while a fresh veth's carrier and DAD settle.
    let show = "ip -o link show | cut -d: -f2; ip -4 route show table all; \
                ip -4 neigh show nud permanent; bridge fdb show; sysctl net.ipv4.ip_forward";
    let before = ns.exec(show);
    let err = write::apply(&Netns::parse(&ns.name), &d.changes).unwrap_err();
    assert_eq!(netpath::error::exit_code(&err), 3, "{err:#}");
    assert!(format!("{err:#}").contains("ipip"), "{err:#}");
    let after = ns.exec(show);
    assert_eq!(before, after);
    Ok(())
}

/// Write a plan to a temporary file.
fn plan_file(plan: &NodeState) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), serde_json::to_string_pretty(plan).unwrap()).unwrap();
    f
}

/// Run `netpath ARGS` and return (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = netpath().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn once(plan: &std::path::Path, ns: &TestNetns, extra: &[&str]) -> (i32, String, String) {
    let p = plan.to_str().unwrap();
    let mut args = vec!["agent", "--plan", p, "--netns", &ns.name, "--once"];
    args.extend_from_slice(extra);
    run(&args)
}

fn flannel_once_repair_and_check() -> Result<(), Failed> {
    let ns = TestNetns::new("ago");
    underlay(&ns);
    let f = plan_file(&flannel_plan());
    let (code, out, err) = once(f.path(), &ns, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("the node matches the plan"), "{out}");
    assert!(
        ns.exec("ip -d link show flannel.1")
            .contains("vxlan id 1 local 192.168.77.1 dev eth0")
    );
    assert!(
        ns.exec("ip neigh show dev flannel.1")
            .contains("10.244.3.0 lladdr 0a:00:00:00:03:03 PERMANENT")
    );
    assert!(
        ns.exec("bridge fdb show dev flannel.1")
            .contains("0a:00:00:00:02:02 dst 192.168.77.12 self permanent")
    );
    // Again: nothing to do.
    let (code, out, _) = once(f.path(), &ns, &[]);
    assert_eq!(code, 0);
    assert!(out.contains(": 0 changes,"), "{out}");
    // check agrees.
    let p = f.path().to_str().unwrap();
    let (code, out, err) = run(&["check", "--plan", p, "--netns", &ns.name]);
    assert_eq!(code, 0, "{out}{err}");
    // A route deleted by hand: check reports it, the next pass repairs it.
    ns.exec("ip route del 10.244.2.0/24");
    let (code, out, _) = run(&["--json", "check", "--plan", p, "--netns", &ns.name]);
    assert_eq!(code, 1, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(doc["schema"], "netpath.check/v1");
    let missing: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert_eq!(missing.len(), 1, "{out}");
    assert_eq!(missing[0]["kind"], "missing");
    assert_eq!(missing[0]["object"], "route 10.244.2.0/24");
    let (code, out, _) = once(f.path(), &ns, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "applied  replace route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 proto 158 onlink"
        ),
        "{out}"
    );
    assert!(
        ns.exec("ip route show 10.244.2.0/24")
            .contains("via 10.244.2.0 dev flannel.1 proto 158 onlink")
    );
    // A stale FDB entry (the VTEP moved) and a wrong MTU are fixed in place.
    ns.exec("bridge fdb replace 0a:00:00:00:03:03 dev flannel.1 dst 192.168.77.99 self permanent && ip link set flannel.1 mtu 1400");
    let (code, out, _) = once(f.path(), &ns, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        ns.exec("bridge fdb show dev flannel.1")
            .contains("0a:00:00:00:03:03 dst 192.168.77.13 self permanent")
    );
    assert!(ns.exec("ip link show flannel.1").contains("mtu 1450"));
    Ok(())
}

fn foreign_routes_are_left_alone() -> Result<(), Failed> {
    let ns = TestNetns::new("agf");
    underlay(&ns);
    let f = plan_file(&flannel_plan());
    assert_eq!(once(f.path(), &ns, &[]).0, 0);
    // A foreign route elsewhere, and one inside a planned prefix: the agent leaves both.
    ns.exec("ip route add 172.16.0.0/12 via 192.168.77.254 proto static && ip route add 10.244.2.128/25 via 192.168.77.99 proto static");
    let (code, out, _) = once(f.path(), &ns, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        ns.exec("ip route show proto static")
            .contains("10.244.2.128/25 via 192.168.77.99")
    );
    // check lists the first as foreign, reports the second as an overlap.
    let p = f.path().to_str().unwrap();
    let (code, out, _) = run(&["check", "--plan", p, "--netns", &ns.name]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("overlap") && l.contains("route 10.244.2.128/25")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("foreign") && l.contains("route 172.16.0.0/12")),
        "{out}"
    );
    // A foreign route on a planned key is a conflict: reported, untouched, unless --adopt.
    ns.exec("ip route replace 10.244.3.0/24 via 192.168.77.99 dev eth0 proto static");
    let (code, out, _) = once(f.path(), &ns, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("skipped  error conflict: route 10.244.3.0/24"),
        "{out}"
    );
    assert!(
        ns.exec("ip route show 10.244.3.0/24")
            .contains("via 192.168.77.99 dev eth0 proto static")
    );
    let (code, out, _) = once(f.path(), &ns, &["--adopt"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        ns.exec("ip route show 10.244.3.0/24")
            .contains("via 10.244.3.0 dev flannel.1 proto 158 onlink")
    );
    Ok(())
}

/// Calico VXLAN on node 1: vxlan.calico (VNI 4096, port 4789), a remote block through
/// the VTEP (onlink, MTU), a CrossSubnet-style route on the uplink (proto 80, onlink), the
/// local block's blackhole, and a pod /32 on its cali veth.
fn calico_plan() -> NodeState {
    let mut s = NodeState {
        node: "node1".into(),
        ..Default::default()
    };
    s.links.push(link("eth0", LinkKind::Device, 1500));
    let mut vx = link(
        "vxlan.calico",
        LinkKind::Vxlan(Vxlan {
            vni: 4096,
            port: 4789,
            local: Some(ip("192.168.77.1")),
            dev: Some("eth0".into()),
            learning: false,
        }),
        1450,
    );
    vx.mac = Some(mac("66:f9:37:c3:7e:94"));
    s.links.push(vx);
    s.links.push(link(
        "cali1234567890a",
        LinkKind::Veth(Default::default()),
        1450,
    ));
    s.addrs.push(Addr {
        dev: "vxlan.calico".into(),
        addr: net("10.65.0.1/32"),
        scope: Scope::Universe,
    });
    s.neighbours.push(Neighbour {
        dst: ip("10.65.1.0"),
        lladdr: Some(mac("66:ec:79:89:73:b3")),
        dev: "vxlan.calico".into(),
        state: NudState::Permanent,
    });
    s.fdb.push(FdbEntry {
        mac: mac("66:ec:79:89:73:b3"),
        dst: Some(ip("192.168.77.12")),
        dev: "vxlan.calico".into(),
        master: None,
        self_: true,
        state: NudState::Permanent,
    });
    let mut remote = Route::unicast(
        net("10.65.1.0/26"),
        Nexthop::via(ip("10.65.1.0"), "vxlan.calico").onlink(),
    );
    remote.mtu = Some(1450);
    s.routes.push(remote);
    let mut same_subnet = Route::unicast(
        net("10.65.2.0/26"),
        Nexthop::via(ip("192.168.77.13"), "eth0").onlink(),
    );
    same_subnet.proto = Protocol::FELIX;
    s.routes.push(same_subnet);
    s.routes.push(Route::drop(
        RouteType::Blackhole,
        net("10.65.0.0/26"),
        Protocol::FELIX,
    ));
    s.routes.push(Route::unicast(
        net("10.65.0.2/32"),
        Nexthop::dev("cali1234567890a"),
    ));
    s.sysctls.ip_forward = Some(true);
    s
}

fn calico_vxlan_shapes() -> Result<(), Failed> {
    let ns = TestNetns::new("agc");
    underlay(&ns);
    // The pod's veth is the CNI plugin's: it exists before the agent runs.
    ns.exec("ip link add cali1234567890a mtu 1450 type veth peer name pod0 && ip link set cali1234567890a up");
    let f = plan_file(&calico_plan());
    let (code, out, err) = once(f.path(), &ns, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let link = ns.exec("ip -d link show vxlan.calico");
    for want in [
        "vxlan id 4096 local 192.168.77.1 dev eth0",
        "dstport 4789",
        "nolearning",
        "66:f9:37:c3:7e:94",
        "mtu 1450",
    ] {
        assert!(link.contains(want), "{want:?} not in {link}");
    }
    let routes = ns.exec("ip route show proto 158");
    for want in [
        "10.65.1.0/26 via 10.65.1.0 dev vxlan.calico onlink mtu 1450",
        "10.65.2.0/26 via 192.168.77.13 dev eth0 onlink",
        "blackhole 10.65.0.0/26",
        "10.65.0.2 dev cali1234567890a scope link",
    ] {
        assert!(routes.contains(want), "{want:?} not in {routes}");
    }
    assert!(
        ns.exec("bridge fdb show dev vxlan.calico")
            .contains("66:ec:79:89:73:b3 dst 192.168.77.12 self permanent")
    );
    let (code, out, _) = once(f.path(), &ns, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(": 0 changes,"), "{out}");
    // Felix's protocol (80) is not the agent's to own: refused, nothing changed...
    let (code, _, err) = once(f.path(), &ns, &["--proto", "80"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Nothing was changed"), "{err}");
    assert_eq!(ns.exec("ip route show proto 80"), "");
    // ...unless adopted: then the routes of proto 158 are re-marked in place.
    let (code, out, _) = once(f.path(), &ns, &["--proto", "80", "--adopt"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        ns.exec("ip route show proto 80")
            .contains("blackhole 10.65.0.0/26")
    );
    assert_eq!(ns.exec("ip route show proto 158"), "");
    Ok(())
}

fn ipip_in_the_plan_exits_3() -> Result<(), Failed> {
    let ns = TestNetns::new("agp");
    underlay(&ns);
    let mut plan = calico_plan();
    plan.links.retain(|l| l.name != "cali1234567890a");
    plan.routes.retain(|r| r.dev() != Some("cali1234567890a"));
    plan.links.push(link(
        "tunl0",
        LinkKind::Ipip {
            local: None,
            remote: None,
        },
        1480,
    ));
    plan.routes.push(Route::unicast(
        net("10.65.3.0/26"),
        Nexthop::via(ip("192.168.77.14"), "tunl0").onlink(),
    ));
    let f = plan_file(&plan);
    // What the agent could have changed. Link flags, IPv6 neighbours and IPv6 local routes
    // change by themselves while a fresh veth's carrier and DAD settle, so they are left out.
    let show = "ip -o link show | cut -d: -f2; ip -4 route show table all; \
                ip -4 neigh show nud permanent; bridge fdb show; sysctl net.ipv4.ip_forward";
    let before = ns.exec(show);
    let (code, out, err) = once(f.path(), &ns, &[]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("tunl0") && err.contains("ipip"), "{err}");
    assert_eq!(before, ns.exec(show));
    Ok(())
}

fn crash_mid_apply_converges() -> Result<(), Failed> {
    let ns = TestNetns::new("agk");
    underlay(&ns);
    let plan = flannel_plan();
    let netns = Netns::parse(&ns.name);
    let actual = netpath::snapshot::read_state(&netns).map_err(|e| format!("{e:#}"))?;
    let d = diff::diff(&plan, &actual, &Ownership::agent(&plan, AGENT_PROTO, false));
    assert!(d.changes.len() > 5, "{:?}", d.changes);
    // Crash after each possible prefix: a restart always converges.
    for cut in [1, 3, d.changes.len() - 1] {
        let ns2 = TestNetns::new("agk");
        underlay(&ns2);
        write::apply(&Netns::parse(&ns2.name), &d.changes[..cut]).map_err(|e| format!("{e:#}"))?;
        let f = plan_file(&plan);
        let (code, out, err) = once(f.path(), &ns2, &[]);
        assert_eq!(code, 0, "cut {cut}: {out}{err}");
        let (code, out, _) = once(f.path(), &ns2, &[]);
        assert!(
            code == 0 && out.contains(": 0 changes,"),
            "cut {cut}: {out}"
        );
    }
    Ok(())
}

fn watch_repairs_and_keeps_last_good_plan() -> Result<(), Failed> {
    use std::io::{BufRead, BufReader};
    let ns = TestNetns::new("agwt");
    underlay(&ns);
    let f = plan_file(&flannel_plan());
    let mut child = netpath()
        .args([
            "agent",
            "--plan",
            f.path().to_str().unwrap(),
            "--netns",
            &ns.name,
            "--watch",
            "--interval",
            "200ms",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |what: &str| -> Result<Vec<String>, String> {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(100)) {
                let hit = line.contains(what);
                seen.push(line);
                if hit {
                    return Ok(seen);
                }
            }
        }
        Err(format!("no {what:?} in {seen:#?}"))
    };
    let result = (|| -> Result<(), Failed> {
        wait_for("the node matches the plan")?;
        // One agent per netns.
        let (code, _, err) = once(f.path(), &ns, &[]);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("already runs"), "{err}");
        // Drift is repaired on the next pass, with a log line.
        ns.exec("ip route del 10.244.3.0/24");
        let lines = wait_for("applied replace route 10.244.3.0/24")?;
        assert!(lines.last().unwrap().starts_with("[pass "), "{lines:?}");
        wait_for("the node matches the plan")?;
        assert!(ns.exec("ip route show 10.244.3.0/24").contains("flannel.1"));
        // A half-written plan changes nothing: the last good one stays.
        std::fs::write(f.path(), "{\"node\": \"node1\", \"links\": [")?;
        wait_for("plan rejected, keeping the last good one")?;
        ns.exec("ip route del 10.244.2.0/24");
        wait_for("applied replace route 10.244.2.0/24")?;
        // A new plan without node 3: its route, neighbour and FDB entry go.
        let mut plan = flannel_plan();
        plan.routes.retain(|r| r.dst != net("10.244.3.0/24"));
        plan.neighbours.retain(|n| n.dst != ip("10.244.3.0"));
        plan.fdb.retain(|e| e.dst != Some(ip("192.168.77.13")));
        std::fs::write(f.path(), serde_json::to_string(&plan)?)?;
        wait_for("loaded plan file")?;
        wait_for("the node matches the plan")?;
        assert_eq!(ns.exec("ip route show 10.244.3.0/24"), "");
        assert!(
            !ns.exec("bridge fdb show dev flannel.1")
                .contains("0a:00:00:00:03:03")
        );
        assert!(
            !ns.exec("ip neigh show dev flannel.1")
                .contains("10.244.3.0")
        );
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn dry_run_changes_nothing() -> Result<(), Failed> {
    let ns = TestNetns::new("agd");
    underlay(&ns);
    let f = plan_file(&flannel_plan());
    let show = "ip -d link; ip route; ip neigh; bridge fdb; sysctl net.ipv4.ip_forward";
    let before = ns.exec(show);
    let p = f.path().to_str().unwrap();
    let (code, out, _) = run(&["agent", "--plan", p, "--netns", &ns.name, "--dry-run"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(before, ns.exec(show));
    // The printed commands, run by hand, build the same node.
    let script: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(script.len(), 9, "{out}");
    ns.exec(&script.join(" && "));
    let (code, out, _) = run(&[
        "--json",
        "agent",
        "--plan",
        p,
        "--netns",
        &ns.name,
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(doc["schema"], "netpath.agent/v1");
    assert_eq!(doc["changes"].as_array().map(Vec::len), Some(0), "{out}");
    Ok(())
}

/// 3,000 routes (several 64 KiB batches of hand-serialized requests), IPv4 and IPv6, with
/// metric, MTU, source and another table, and one the kernel refuses in the middle of the
/// second batch: exactly that one is reported failed, every other route is there as planned.
fn thousands_of_routes_one_failure() -> Result<(), Failed> {
    let ns = TestNetns::new("agm");
    underlay(&ns);
    ns.exec("ip -6 addr add fd00:77::1/64 dev eth0 nodad");
    let mut plan = NodeState {
        node: "many".into(),
        ..Default::default()
    };
    plan.links
        .push(link("eth0", LinkKind::Veth(Default::default()), 1500));
    for i in 0..3000u32 {
        let mut r = if i % 10 == 9 {
            Route::unicast(
                net(&format!("fd10:{:x}::/64", i)),
                Nexthop::via(ip("fd00:77::2"), "eth0"),
            )
        } else {
            Route::unicast(
                net(&format!("10.{}.{}.0/24", i / 256, i % 256)),
                Nexthop::via(ip("192.168.77.2"), "eth0"),
            )
        };
        r.proto = AGENT_PROTO;
        if i % 7 == 0 && r.dst.is_ipv4() {
            r.metric = Some(100 + i);
            r.mtu = Some(1400);
            r.prefsrc = Some(ip("192.168.77.1"));
        }
        if i % 11 == 0 {
            r.table = netpath::dataplane::Table(1000);
        }
        if i == 1500 {
            // Not on a connected subnet and not onlink: the kernel refuses it.
            r.nexthops = vec![Nexthop::via(ip("172.31.9.9"), "eth0")];
        }
        plan.routes.push(r);
    }
    let f = plan_file(&plan);
    let (code, out, err) = once(f.path(), &ns, &[]);
    assert_eq!(code, 1, "{err}");
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with("FAILED")).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].starts_with("FAILED   replace route 10.5.220.0/24 via 172.31.9.9 dev eth0"),
        "{}",
        failed[0]
    );
    assert!(
        failed[0].contains("Network is unreachable"),
        "{}",
        failed[0]
    );
    assert!(
        out.contains("3001 changes, 3000 applied, 1 failed"),
        "{out}"
    );
    let have = ns
        .exec("ip -4 route show table all proto 158")
        .lines()
        .count()
        + ns.exec("ip -6 route show table all proto 158")
            .lines()
            .count();
    assert_eq!(have, 2999);
    assert!(
        ns.exec("ip route show table 1000 10.0.77.0/24")
            .contains("via 192.168.77.2 dev eth0 proto 158 src 192.168.77.1 metric 177 mtu 1400"),
        "{}",
        ns.exec("ip route show table all 10.0.77.0/24")
    );
    assert!(
        ns.exec("ip -6 route show fd10:bb7::/64")
            .contains("via fd00:77::2 dev eth0 proto 158")
    );
    // Again: only the refused route is left to do (forwarding is on now), and it fails
    // the same way.
    let (code, out, _) = once(f.path(), &ns, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("1 change, 0 applied, 1 failed"), "{out}");
    Ok(())
}
