//! What the agent checks before it changes anything: that its route protocol is its own,
//! that the plan is whole and consistent, that the node has what the plan builds on, and
//! that no device it would delete to recreate belongs to someone else. A failed check
//! changes nothing; `--adopt` lets it take over deliberately, saying first what is lost.

use std::collections::HashSet;
use std::fmt::Write as _;

use anyhow::bail;

use crate::dataplane::{LinkKind, NodeState, Protocol};
use crate::diff::{Change, Diff};

/// The agent's own protocol when none is given (unused by the kernel, iproute2, BIRD,
/// Felix and the routing daemons).
const DEFAULT: u8 = 158;

/// Route protocols the system or a routing/CNI daemon uses: iproute2's `rt_protos`
/// (0-4 kernel and boot, 8-18 routing daemons and DHCP, 42 babel, 99 openr, 186-192 the
/// FRR daemons), Felix (80) and the rest of FRR's range (193-196). Owning one of them
/// would make the agent delete the machine's own routes (its default route is `proto boot`
/// or `dhcp`).
const SYSTEM: &[(u8, &str)] = &[
    (0, "unspec"),
    (1, "redirect: ICMP redirects"),
    (2, "kernel: the kernel's own connected routes"),
    (
        3,
        "boot: routes installed at boot, the default route, flanneld's routes",
    ),
    (4, "static: routes an administrator added"),
    (8, "gated"),
    (9, "ra: IPv6 router advertisements"),
    (10, "mrt"),
    (11, "zebra: FRR/Quagga"),
    (12, "bird: BIRD, Calico's BGP daemon"),
    (13, "dnrouted"),
    (14, "xorp"),
    (15, "ntk"),
    (16, "dhcp: the DHCP client's routes"),
    (17, "mrouted"),
    (18, "keepalived"),
    (42, "babel"),
    (80, "Calico Felix"),
    (99, "openr"),
    (186, "bgp: FRR bgpd"),
    (187, "isis: FRR isisd"),
    (188, "ospf: FRR ospfd"),
    (189, "rip: FRR ripd"),
    (190, "ripng: FRR"),
    (191, "nhrp: FRR"),
    (192, "eigrp: FRR"),
    (193, "ldp: FRR"),
    (194, "sharp: FRR"),
    (195, "pbr: FRR"),
    (196, "static: FRR staticd"),
];

/// What owns `proto`, when it is one the system or a daemon uses: built in, or named in
/// the machine's iproute2 tables (`/etc/iproute2/rt_protos`, `rt_protos.d/*.conf`).
pub fn system_owner(proto: Protocol) -> Option<String> {
    if let Some((_, who)) = SYSTEM.iter().find(|(n, _)| *n == proto.0) {
        return Some((*who).to_string());
    }
    if proto.0 == DEFAULT {
        return None;
    }
    named_on_this_machine(proto.0).map(|name| format!("{name}: named in iproute2's rt_protos"))
}

fn named_on_this_machine(proto: u8) -> Option<String> {
    let mut files = vec![
        std::path::PathBuf::from("/etc/iproute2/rt_protos"),
        std::path::PathBuf::from("/usr/share/iproute2/rt_protos"),
    ];
    for dir in [
        "/etc/iproute2/rt_protos.d",
        "/usr/share/iproute2/rt_protos.d",
    ] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            files.extend(rd.flatten().map(|e| e.path()));
        }
    }
    for f in files {
        let Ok(text) = crate::input::read_to_string(&f, "rt_protos", 1 << 20) else {
            continue;
        };
        for line in text.lines() {
            let mut words = line.split_whitespace();
            let (Some(num), Some(name)) = (words.next(), words.next()) else {
                continue;
            };
            if num.starts_with('#') {
                continue;
            }
            let n = match num.strip_prefix("0x") {
                Some(hex) => u8::from_str_radix(hex, 16).ok(),
                None => num.parse().ok(),
            };
            if n == Some(proto) {
                return Some(name.to_string());
            }
        }
    }
    None
}

/// Refuse a route protocol the system or a daemon uses, unless `--adopt`.
pub fn check_proto(proto: Protocol, adopt: bool) -> anyhow::Result<()> {
    let Some(owner) = system_owner(proto) else {
        return Ok(());
    };
    if adopt {
        return Ok(());
    }
    bail!(
        "--proto {} is not the agent's to own ({owner}): the agent deletes every route of its protocol that the plan does not have, so it would delete the machine's own routes. Nothing was changed. Use an unused number (the default is {DEFAULT}), or add --adopt to take over routes of protocol {} on purpose",
        proto.0,
        proto.0
    )
}

/// Check a plan as a whole before anything is changed: one device per name, no device
/// that is its own underlay, every device a route, address or master names is known.
pub fn check_plan(plan: &NodeState) -> anyhow::Result<()> {
    let mut seen = HashSet::new();
    for l in &plan.links {
        if l.name.is_empty() {
            bail!("the plan has a device without a name. Nothing was changed");
        }
        if l.name.len() > 15 || l.name.contains(['/', ':']) || l.name.contains(char::is_whitespace)
        {
            bail!(
                "the plan's device {:?} is not a valid Linux device name (at most 15 characters, no '/', ':' or spaces). Nothing was changed",
                l.name
            );
        }
        if !seen.insert(l.name.as_str()) {
            bail!(
                "the plan names two devices {:?}: one would replace the other (and a device of that name on the node). Nothing was changed",
                l.name
            );
        }
        if let LinkKind::Vxlan(v) = &l.kind
            && v.dev.as_deref() == Some(l.name.as_str())
        {
            bail!(
                "the plan's vxlan device {:?} is its own underlying device (dev {}): creating it would replace the uplink. Nothing was changed",
                l.name,
                l.name
            );
        }
    }
    Ok(())
}

/// Check the changes a pass would make against the node before making any: what they
/// build on must exist, and a device that would be deleted to be recreated is refused
/// unless `adopt`. With `adopt`, the lines returned say what recreating each one loses.
pub fn check_changes(
    plan: &NodeState,
    actual: &NodeState,
    diff: &Diff,
    adopt: bool,
) -> anyhow::Result<Vec<String>> {
    let created: HashSet<&str> = diff
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateLink(l) => Some(l.name.as_str()),
            _ => None,
        })
        .collect();
    let exists = |name: &str| actual.link(name).is_some() || created.contains(name);
    // What the new devices sit on must be there.
    let mut missing = Vec::new();
    for c in &diff.changes {
        let Change::CreateLink(l) = c else { continue };
        if let LinkKind::Vxlan(v) = &l.kind
            && let Some(dev) = &v.dev
            && actual.link(dev).is_none()
        {
            missing.push(format!(
                "{} needs its underlying device {dev}, which this node does not have",
                l.name
            ));
        }
        if let Some(master) = &l.master
            && !exists(master)
        {
            missing.push(format!("{} needs its master {master}", l.name));
        }
    }
    for c in &diff.changes {
        let (what, dev) = match c {
            Change::AddAddr(a) => (format!("address {}", a.addr), Some(a.dev.as_str())),
            Change::ReplaceNeighbour(n) => (format!("neighbour {}", n.dst), Some(n.dev.as_str())),
            Change::ReplaceFdb(f) => (format!("fdb {}", f.mac), Some(f.dev.as_str())),
            _ => (String::new(), None),
        };
        if let Some(dev) = dev
            && !exists(dev)
        {
            missing.push(format!(
                "{what} needs device {dev}, which is neither on this node nor in the plan"
            ));
        }
    }
    if !missing.is_empty() {
        missing.dedup();
        let shown = missing
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        let more = missing.len().saturating_sub(5);
        bail!(
            "this node lacks what the plan builds on: {shown}{}. Nothing was changed",
            if more > 0 {
                format!(" (and {more} more)")
            } else {
                String::new()
            }
        );
    }
    // Devices deleted to be recreated.
    let mut lost = Vec::new();
    let mut refused = Vec::new();
    for c in &diff.changes {
        let Change::DeleteLink { name } = c else {
            continue;
        };
        let Some(have) = actual.link(name) else {
            continue;
        };
        let want = plan.links.iter().find(|l| &l.name == name);
        let loses = what_is_lost(actual, name);
        let line = format!(
            "{name} is a {} device{} here, the plan wants {}: recreating it deletes it{}",
            have.kind.name(),
            describe(have),
            want.map_or_else(
                || "another".to_string(),
                |w| format!("a {} device{}", w.kind.name(), describe(w))
            ),
            loses
        );
        if adopt {
            lost.push(line);
        } else {
            refused.push(line);
        }
    }
    if !refused.is_empty() {
        bail!(
            "{}. Nothing was changed; add --adopt to recreate {} anyway",
            refused.join("; "),
            if refused.len() == 1 { "it" } else { "them" }
        );
    }
    Ok(lost)
}

/// ` (VNI 1, port 8472)`: the parameters that tell two devices of a kind apart.
fn describe(l: &crate::dataplane::Link) -> String {
    match &l.kind {
        LinkKind::Vxlan(v) => {
            let mut s = format!(" (VNI {}, port {}", v.vni, v.port);
            if let Some(local) = v.local {
                let _ = write!(s, ", local {local}");
            }
            if let Some(dev) = &v.dev {
                let _ = write!(s, ", dev {dev}");
            }
            s.push(')');
            s
        }
        _ => String::new(),
    }
}

/// `, and with it 3 routes (10.244.2.0/24, …), 1 address and 2 attached ports`.
fn what_is_lost(actual: &NodeState, name: &str) -> String {
    let routes: Vec<String> = actual
        .routes
        .iter()
        .filter(|r| r.nexthops.iter().any(|n| n.dev.as_deref() == Some(name)))
        .map(|r| r.dst.to_string())
        .collect();
    let addrs = actual.addrs.iter().filter(|a| a.dev == name).count();
    let ports: Vec<&str> = actual
        .links
        .iter()
        .filter(|l| l.master.as_deref() == Some(name))
        .map(|l| l.name.as_str())
        .collect();
    let mut parts = Vec::new();
    if !routes.is_empty() {
        let mut shown = routes
            .iter()
            .take(4)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if routes.len() > 4 {
            shown.push_str(", …");
        }
        parts.push(format!("{} route(s) through it ({shown})", routes.len()));
    }
    if addrs > 0 {
        parts.push(format!("{addrs} address(es)"));
    }
    if !ports.is_empty() {
        parts.push(format!(
            "{} attached port(s) ({})",
            ports.len(),
            ports.join(", ")
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(", and with it {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::{Link, Vxlan};

    fn vxlan(name: &str, vni: u32, dev: &str) -> Link {
        Link::up(
            name,
            LinkKind::Vxlan(Vxlan {
                vni,
                port: 8472,
                local: None,
                dev: Some(dev.into()),
                learning: false,
            }),
            1450,
        )
    }

    #[test]
    fn system_protocols_are_refused_without_adopt() {
        for p in [2, 3, 4, 12, 16, 80, 186] {
            let e = check_proto(Protocol(p), false).unwrap_err().to_string();
            assert!(e.contains("Nothing was changed"), "{e}");
            check_proto(Protocol(p), true).unwrap();
        }
        check_proto(Protocol(158), false).unwrap();
        check_proto(Protocol(200), false).unwrap();
    }

    #[test]
    fn a_plan_naming_a_device_twice_or_its_own_underlay_is_refused() {
        let mut plan = NodeState::default();
        plan.links.push(Link::up("eth0", LinkKind::Device, 1500));
        plan.links.push(vxlan("eth0", 1, "eth0"));
        let e = check_plan(&plan).unwrap_err().to_string();
        assert!(e.contains("two devices"), "{e}");
        plan.links.remove(0);
        let e = check_plan(&plan).unwrap_err().to_string();
        assert!(e.contains("its own underlying device"), "{e}");
        plan.links[0] = vxlan("flannel.1", 1, "eth0");
        check_plan(&plan).unwrap();
    }
}
