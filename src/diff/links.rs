//! Devices and addresses: planned against present, by name and by address.

use std::collections::HashSet;
use std::net::IpAddr;

use super::{
    Change, Diff, Finding, FindingKind, Ownership, Severity, change, creatable, vxlan_port,
};
use crate::dataplane::{Addr, Link, LinkKind, NodeState};

pub(super) fn device_object(name: &str) -> String {
    format!("device {name}")
}

pub(super) fn link_text(l: &Link) -> String {
    change::link_add_command(l)
        .trim_start_matches("ip link add ")
        .to_string()
}

pub(super) fn diff_links(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    d: &mut Diff,
) -> HashSet<String> {
    let mut recreated = HashSet::new();
    let acting = own.acting().is_some();
    for e in &expected.links {
        let managed = acting && own.managed_links.contains(&e.name);
        let Some(a) = actual.link(&e.name) else {
            let fix = if creatable(&e.kind) {
                vec![change::link_add_command(e)]
            } else {
                Vec::new()
            };
            let mut f = Finding::new(
                Severity::Error,
                FindingKind::Missing,
                device_object(&e.name),
            )
            .expected(link_text(e))
            .fix(fix);
            if !creatable(&e.kind) {
                f.actual = Some(match e.kind.name() {
                    // A plain device has no kind word of its own ("device devices …").
                    "device" => {
                        "no such device (it is made by the CNI plugin or the machine)".to_string()
                    }
                    kind => format!(
                        "no such device ({kind} devices are made by the CNI plugin or the machine)"
                    ),
                });
            }
            let changes = if managed {
                vec![Change::CreateLink(e.clone())]
            } else {
                Vec::new()
            };
            d.push(f, changes);
            continue;
        };
        // Parameters that only recreating the device changes.
        let mut attrs: Vec<(&'static str, FindingKind)> = Vec::new();
        match (&e.kind, &a.kind) {
            (LinkKind::Vxlan(ev), LinkKind::Vxlan(av)) => {
                if ev.vni != av.vni {
                    attrs.push(("VNI", FindingKind::WrongVni));
                }
                if vxlan_port(ev.port) != vxlan_port(av.port) {
                    attrs.push(("port", FindingKind::WrongPort));
                }
                if ev.local.is_some() && ev.local != av.local {
                    attrs.push(("local", FindingKind::WrongLocal));
                }
                if ev.dev.is_some() && ev.dev != av.dev {
                    attrs.push(("underlying device", FindingKind::WrongUnderlay));
                }
                if !ev.learning && av.learning {
                    attrs.push(("learning", FindingKind::Learning));
                }
            }
            (
                LinkKind::Ipip {
                    local: el,
                    remote: er,
                },
                LinkKind::Ipip {
                    local: al,
                    remote: ar,
                },
            ) => {
                if el != al {
                    attrs.push(("local", FindingKind::WrongLocal));
                }
                if er != ar {
                    attrs.push(("remote", FindingKind::WrongLocal));
                }
            }
            // A plan's "device" is whatever the machine's uplink is (a NIC, a bond, a
            // veth in a lab): only kinds the CNI makes are checked.
            (LinkKind::Device | LinkKind::Loopback, _) => {}
            (ek, ak) if ek.name() != ak.name() => attrs.push(("kind", FindingKind::WrongKind)),
            _ => {}
        }
        if let Some(&(_, kind)) = attrs.first() {
            let fix = if creatable(&e.kind) {
                vec![
                    format!("ip link del {}", e.name),
                    change::link_add_command(e),
                ]
            } else {
                Vec::new()
            };
            let mut f = Finding::new(Severity::Error, kind, device_object(&e.name))
                .expected(link_text(e))
                .actual(link_text(a))
                .fix(fix);
            f.attributes = attrs.iter().map(|(w, _)| *w).collect();
            let changes = if managed {
                recreated.insert(e.name.clone());
                vec![
                    Change::DeleteLink {
                        name: e.name.clone(),
                    },
                    Change::CreateLink(e.clone()),
                ]
            } else {
                Vec::new()
            };
            d.push(f, changes);
            continue;
        }
        // Parameters fixed in place. The agent leaves the machine's devices alone.
        if acting && !managed {
            continue;
        }
        let mut attrs: Vec<(&'static str, FindingKind, Severity)> = Vec::new();
        let mtu = (e.mtu != 0 && e.mtu != a.mtu).then_some(e.mtu);
        if mtu.is_some() {
            attrs.push(("MTU", FindingKind::WrongMtu, Severity::Warning));
        }
        // The CNI sets the MAC of its tunnels and bridges; other MACs are the machine's.
        let mac = e.mac.filter(|m| creatable(&e.kind) && Some(*m) != a.mac);
        if mac.is_some() {
            attrs.push(("MAC", FindingKind::WrongMac, Severity::Error));
        }
        let master = e.master.clone().filter(|m| Some(m) != a.master.as_ref());
        if master.is_some() {
            attrs.push(("master", FindingKind::WrongMaster, Severity::Error));
        }
        let up = e.up && !a.up;
        if up {
            attrs.push(("up", FindingKind::Down, Severity::Error));
        }
        if attrs.is_empty() {
            continue;
        }
        let severity = attrs.iter().map(|a| a.2).min().unwrap_or(Severity::Warning);
        let change = Change::SetLink {
            name: e.name.clone(),
            mtu,
            mac,
            master,
            up,
        };
        let mut f = Finding::new(severity, attrs[0].1, device_object(&e.name))
            .expected(link_text(e))
            .actual(link_text(a))
            .fix(change.commands());
        f.attributes = attrs.iter().map(|a| a.0).collect();
        d.push(f, if managed { vec![change] } else { Vec::new() });
    }
    // CNI devices the plan does not have (a leftover flannel.1 on a Calico node …).
    // Only tunnels and bridges: veths come and go with pods; tunl0 appears by itself
    // whenever the ipip module is loaded.
    if own.acting().is_none() {
        for a in &actual.links {
            if expected.link(&a.name).is_none()
                && matches!(
                    a.kind,
                    LinkKind::Vxlan(_) | LinkKind::Bridge | LinkKind::Ipip { .. }
                )
                && a.name != crate::cni::calico::IPIP_DEV
                && own.owns_device(&a.name)
            {
                let f = Finding::new(
                    Severity::Warning,
                    FindingKind::Unexpected,
                    device_object(&a.name),
                )
                .actual(link_text(a))
                .fix(vec![format!("ip link del {}", a.name)]);
                d.push(f, Vec::new());
            }
        }
    }
    recreated
}

pub(super) fn addr_object(a: &Addr) -> String {
    format!("address {} dev {}", a.addr, a.dev)
}

fn addr_key(a: &Addr) -> (String, IpAddr, u8) {
    (a.dev.clone(), a.addr.ip(), a.addr.prefix())
}

pub(super) fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

pub(super) fn diff_addrs(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    recreated: &HashSet<String>,
    d: &mut Diff,
) {
    let acting = own.acting().is_some();
    let have: HashSet<(String, IpAddr, u8)> = actual
        .addrs
        .iter()
        .filter(|a| !recreated.contains(&a.dev))
        .map(addr_key)
        .collect();
    let want: HashSet<(String, IpAddr, u8)> = expected.addrs.iter().map(addr_key).collect();
    for e in &expected.addrs {
        if have.contains(&addr_key(e)) {
            continue;
        }
        if acting && !own.managed_links.contains(&e.dev) {
            // The machine's own addresses (eth0) are not the agent's business.
            continue;
        }
        let change = Change::AddAddr(e.clone());
        let f = Finding::new(Severity::Error, FindingKind::Missing, addr_object(e))
            .expected(e.addr)
            .fix(change.commands());
        d.push(f, if acting { vec![change] } else { Vec::new() });
    }
    // Extra addresses on owned devices whose addresses the plan lists (Flannel and
    // Felix remove any other address from their tunnel device).
    let planned_devs: HashSet<&str> = expected.addrs.iter().map(|a| a.dev.as_str()).collect();
    for a in &actual.addrs {
        if recreated.contains(&a.dev)
            || want.contains(&addr_key(a))
            || is_link_local(&a.addr.ip())
            || !planned_devs.contains(a.dev.as_str())
            || !own.owns_device(&a.dev)
        {
            continue;
        }
        let change = Change::DeleteAddr(a.clone());
        let f = Finding::new(Severity::Warning, FindingKind::Unexpected, addr_object(a))
            .actual(a.addr)
            .fix(change.commands());
        d.push(f, if acting { vec![change] } else { Vec::new() });
    }
}
