//! The agent never changes what it does not own unless told (`--adopt`), in namespaces of
//! the tests' own: the system's route protocols, devices of another kind or VNI under a
//! planned name, plans naming a device twice, and nodes without what the plan builds on.
//! Each refusal changes nothing, which is checked by comparing the namespace before and
//! after.

use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::lab::{TestNetns, netpath};

pub fn tests() -> Vec<Trial> {
    vec![
        Trial::test(
            "hardening::agent_refuses_system_route_protocols",
            agent_refuses_system_route_protocols,
        ),
        Trial::test(
            "hardening::agent_refuses_to_recreate_a_device_it_does_not_own",
            agent_refuses_to_recreate_a_device_it_does_not_own,
        ),
        Trial::test(
            "hardening::agent_adopts_and_says_what_is_lost",
            agent_adopts_and_says_what_is_lost,
        ),
        Trial::test(
            "hardening::agent_refuses_a_plan_naming_a_device_twice",
            agent_refuses_a_plan_naming_a_device_twice,
        ),
        Trial::test(
            "hardening::agent_changes_nothing_without_the_underlay",
            agent_changes_nothing_without_the_underlay,
        ),
    ]
}

/// Node-1 of demo:flannel-vxlan: its uplink eth0 (10.234.2.11/24, a veth whose peer stays
/// in the namespace) and a default route of the machine's own (proto boot).
fn node(tag: &str) -> TestNetns {
    let ns = TestNetns::new(tag);
    ns.exec(
        "ip link add eth0 type veth peer name eth0p && ip addr add 10.234.2.11/24 dev eth0 && \
         ip link set eth0 up && ip link set eth0p up && \
         ip route add default via 10.234.2.254 dev eth0 proto boot",
    );
    ns
}

/// The plan `netpath plan --json` prints for node-1, as a JSON value to edit.
fn plan() -> Value {
    let out = netpath()
        .args([
            "--json",
            "plan",
            "-c",
            "demo:flannel-vxlan",
            "--node",
            "node-1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn links(plan: &mut Value) -> &mut Vec<Value> {
    plan["plan"]["state"]["links"].as_array_mut().unwrap()
}

fn write(plan: &Value) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), serde_json::to_string(plan).unwrap()).unwrap();
    f
}

/// What the agent could change, to compare before and after (IPv6 state the kernel
/// changes by itself is left out).
fn state(ns: &TestNetns) -> String {
    ns.exec(
        "ip -d -o link show | sed 's/^[0-9]*: //' | cut -d' ' -f1-3; ip -4 addr; \
         ip -4 route show table all; ip -4 neigh show nud permanent; bridge fdb show | grep -v 33:33; \
         sysctl net.ipv4.ip_forward",
    )
}

fn agent(plan: &tempfile::NamedTempFile, ns: &TestNetns, extra: &[&str]) -> (i32, String) {
    let out = netpath()
        .args(["agent", "--plan", plan.path().to_str().unwrap()])
        .args(["--netns", &ns.name, "--once"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn agent_refuses_system_route_protocols() -> Result<(), Failed> {
    let ns = node("hpr");
    let f = write(&plan());
    let before = state(&ns);
    for proto in [
        "boot", "static", "kernel", "dhcp", "bird", "80", "3", "zebra", "186",
    ] {
        let (code, out) = agent(&f, &ns, &["--proto", proto]);
        assert_eq!(code, 2, "--proto {proto}: {out}");
        assert!(
            out.contains("Nothing was changed"),
            "--proto {proto}: {out}"
        );
        assert!(out.contains("--adopt"), "{out}");
    }
    assert_eq!(before, state(&ns), "a refused run changed the node");
    assert!(
        ns.exec("ip route show default")
            .contains("via 10.234.2.254"),
        "the machine's default route is gone"
    );
    Ok(())
}

fn agent_refuses_to_recreate_a_device_it_does_not_own() -> Result<(), Failed> {
    let f = write(&plan());
    // A flannel.1 with another VNI, with a route through it.
    let ns = node("hvn");
    ns.exec(
        "ip link add flannel.1 type vxlan id 7 dev eth0 dstport 8472 && ip link set flannel.1 up && \
         ip route add 10.99.0.0/16 dev flannel.1",
    );
    let before = state(&ns);
    let (code, out) = agent(&f, &ns, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("flannel.1") && out.contains("--adopt"),
        "{out}"
    );
    assert!(
        out.contains("10.99.0.0/16"),
        "the message names the route lost: {out}"
    );
    assert_eq!(before, state(&ns));
    // A veth named cni0, where the plan has a bridge.
    let ns = node("hkd");
    ns.exec("ip link add cni0 type veth peer name cni0p && ip link set cni0 up");
    let before = state(&ns);
    let (code, out) = agent(&f, &ns, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cni0"), "{out}");
    assert_eq!(before, state(&ns));
    // The dry run says the same, and changes nothing either.
    let (code, out) = agent(&f, &ns, &["--dry-run"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(before, state(&ns));
    Ok(())
}

fn agent_adopts_and_says_what_is_lost() -> Result<(), Failed> {
    let f = write(&plan());
    let ns = node("had");
    ns.exec(
        "ip link add flannel.1 type vxlan id 7 dev eth0 dstport 8472 && ip link set flannel.1 up && \
         ip route add 10.99.0.0/16 dev flannel.1",
    );
    let (code, out) = agent(&f, &ns, &["--adopt"]);
    assert!(matches!(code, 0 | 1), "{out}");
    let warned = out
        .lines()
        .position(|l| l.contains("--adopt") && l.contains("10.99.0.0/16"));
    assert!(warned.is_some(), "what is lost is said: {out}");
    assert!(
        ns.exec("ip -d link show flannel.1").contains("vxlan id 1 "),
        "recreated with the plan's VNI"
    );
    Ok(())
}

fn agent_refuses_a_plan_naming_a_device_twice() -> Result<(), Failed> {
    let ns = node("hdu");
    let mut p = plan();
    // A vxlan device called eth0, beside the uplink eth0.
    let mut dup = links(&mut p)
        .iter()
        .find(|l| l["name"] == "flannel.1")
        .unwrap()
        .clone();
    dup["name"] = "eth0".into();
    links(&mut p).push(dup);
    let f = write(&p);
    let before = state(&ns);
    let (code, out) = agent(&f, &ns, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("two devices \"eth0\""), "{out}");
    assert_eq!(before, state(&ns), "the uplink was touched");
    // The same with --adopt: a plan that contradicts itself is never applied.
    let (code, _) = agent(&f, &ns, &["--adopt"]);
    assert_eq!(code, 2);
    assert_eq!(before, state(&ns));
    Ok(())
}

fn agent_changes_nothing_without_the_underlay() -> Result<(), Failed> {
    let ns = node("hun");
    let mut p = plan();
    for l in links(&mut p).iter_mut() {
        if l["name"] == "flannel.1" {
            l["kind"]["dev"] = "eth9".into();
        }
    }
    let f = write(&p);
    let before = state(&ns);
    let (code, out) = agent(&f, &ns, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("eth9") && out.contains("Nothing was changed"),
        "{out}"
    );
    assert_eq!(before, state(&ns), "a partial apply");
    Ok(())
}
