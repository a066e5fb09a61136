//! The forwarding sysctls pod traffic needs.

use super::{Change, Diff, Finding, FindingKind, Ownership, Severity};
use crate::dataplane::{NodeState, Protocol, Table};

fn sysctl_finding(key: &str, want: &str, have: Option<&str>, why: &str) -> Finding {
    Finding::new(
        Severity::Error,
        FindingKind::Sysctl,
        format!("sysctl {key}"),
    )
    .expected(format!("{want} ({why})"))
    .actual(have.unwrap_or("unknown"))
    .fix(vec![format!("sysctl -w {key}={want}")])
}

pub(super) fn diff_sysctls(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    d: &mut Diff,
) {
    let acting = own.acting().is_some();
    let b = |v: bool| if v { "1" } else { "0" };
    let mut check = |key: String, want: &str, have: Option<String>, why: &str| {
        if have.as_deref() == Some(want) || have.is_none() {
            return;
        }
        let f = sysctl_finding(&key, want, have.as_deref(), why);
        let change = Change::SetSysctl {
            key,
            value: want.to_string(),
        };
        d.push(f, if acting { vec![change] } else { Vec::new() });
    };
    // Forwarding: as planned, and on whenever the node routes pod traffic.
    let routes_pods = expected
        .routes
        .iter()
        .any(|r| r.proto != Protocol::KERNEL && r.table == Table::MAIN);
    let ip_forward = expected.sysctls.ip_forward.or(routes_pods.then_some(true));
    if let Some(want) = ip_forward {
        check(
            "net.ipv4.ip_forward".into(),
            b(want),
            actual.sysctls.ip_forward.map(|v| b(v).to_string()),
            "packets between pods and nodes are forwarded",
        );
    }
    if let Some(want) = expected.sysctls.ipv6_forwarding {
        check(
            "net.ipv6.conf.all.forwarding".into(),
            b(want),
            actual.sysctls.ipv6_forwarding.map(|v| b(v).to_string()),
            "IPv6 pod traffic is forwarded",
        );
    }
    // Per device: as planned; and on for every planned device when forwarding is on.
    let mut per_dev: Vec<(String, bool)> = expected
        .sysctls
        .forwarding
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    // Turning ip_forward on turns every device's forwarding on: no need to list them.
    if ip_forward == Some(true) && actual.sysctls.ip_forward == Some(true) {
        for l in &expected.links {
            if !expected.sysctls.forwarding.contains_key(&l.name) {
                per_dev.push((l.name.clone(), true));
            }
        }
    }
    for (dev, want) in per_dev {
        if actual.link(&dev).is_none() && dev != "all" && dev != "default" {
            continue;
        }
        let have = actual
            .sysctls
            .forwarding
            .get(&dev)
            .map(|v| b(*v).to_string());
        check(
            format!("net.ipv4.conf.{dev}.forwarding"),
            b(want),
            have,
            "packets arriving on this device are forwarded",
        );
    }
    for (dev, want) in &expected.sysctls.rp_filter {
        let have = actual.sysctls.rp_filter.get(dev).map(|v| v.to_string());
        check(
            format!("net.ipv4.conf.{dev}.rp_filter"),
            &want.to_string(),
            have,
            "reverse-path filtering as the CNI sets it",
        );
    }
    for (dev, want) in &expected.sysctls.proxy_arp {
        let have = actual.sysctls.proxy_arp.get(dev).map(|v| b(*v).to_string());
        check(
            format!("net.ipv4.conf.{dev}.proxy_arp"),
            b(*want),
            have,
            "the host answers the pod's ARP for its gateway",
        );
    }
}
