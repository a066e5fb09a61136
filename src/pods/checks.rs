//! One check per finding kind about a veth and its pod (Calico's name, the host route, the
//! host end's state, the MTU, a leaked peer), about the node's routes (Calico devices that
//! do not exist), and about the pods' addresses (claimed twice). Each returns its findings.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use super::report::{
    CacheRow, CacheState, CalicoName, Finding, FindingKind, HostRoute, IdentitySource, MtuCheck,
    PeerNetns, PodIdentity, RouteVia, VethRow, VethStatus,
};
use super::{NetnsRef, NetnsView, Snapshot};
use crate::cni::calico;
use crate::dataplane::{Family, Link, RouteTable, Table, Veth};
use crate::findings::Severity;

/// The device that limits pod MTU: the smallest up overlay device of Flannel or Calico
/// (`flannel.1`, `flannel.ipip`, `vxlan.calico`, `tunl0` …), else the default route's device.
pub fn mtu_limit(node: &NetnsView) -> Option<(u32, String)> {
    let overlay = node
        .links
        .iter()
        .filter(|l| l.up && crate::cni::is_tunnel(&l.name))
        .min_by_key(|l| l.mtu);
    if let Some(l) = overlay {
        return Some((l.mtu, l.name.clone()));
    }
    let default = node
        .routes
        .iter()
        .filter(|r| r.table == Table::MAIN && r.dst.prefix() == 0 && r.family() == Family::Inet)
        .filter(|r| !r.kind.drops())
        .min_by_key(|r| r.metric.unwrap_or(0))?;
    let dev = default.dev()?;
    let link = node.links.iter().find(|l| l.name == dev)?;
    Some((link.mtu, format!("{dev} (default route)")))
}

/// Calico's name for the pod behind a `prefix`ed veth: recorded in the row, and a finding
/// when the veth does not have it.
pub(super) fn calico_name(row: &mut VethRow, link: &Link, prefix: &str) -> Option<Finding> {
    let pod = row.pod.as_ref()?;
    let (Some(ns), Some(name)) = (&pod.namespace, &pod.name) else {
        return None;
    };
    if prefix.is_empty() || !link.name.starts_with(prefix) {
        return None;
    }
    let expected = calico::veth_name(prefix, ns, name);
    let agrees = expected == link.name;
    let finding = (!agrees).then(|| {
        let source = source_word(pod.source);
        Finding::new(
            Severity::Warning,
            FindingKind::CalicoNameMismatch,
            link.name.clone(),
        )
        .expected(format!("{expected} (Calico's name for {ns}/{name})"))
        .actual(&link.name)
        .fix_one(format!(
            "the pod identity (from {source}) does not match this veth: the veth \
             belongs to another pod, or the {source} is out of date"
        ))
    });
    row.calico_name = Some(CalicoName { expected, agrees });
    finding
}

/// Who the row's pod is, for findings: its name, else its netns's.
pub(super) fn who(row: &VethRow) -> String {
    row.pod
        .as_ref()
        .map(PodIdentity::label)
        .or_else(|| row.netns.as_ref().and_then(|n| n.names.first().cloned()))
        .unwrap_or_default()
}

/// The node's route to each pod address: recorded in the row, and a finding for each that
/// does not lead through the veth (or its bridge).
pub(super) fn host_routes(
    row: &mut VethRow,
    link: &Link,
    pod_ips: &[IpAddr],
    table: &RouteTable,
) -> Vec<Finding> {
    let who = who(row);
    let mut out = Vec::new();
    for ip in pod_ips {
        let r = route_to(table, *ip, &link.name, link.master.as_deref());
        if !r.ok() {
            let through = match &link.master {
                Some(m) => format!("{} or its bridge {m}", link.name),
                None => link.name.clone(),
            };
            let actual = match r.via {
                RouteVia::None => "no route".to_string(),
                RouteVia::Drop => format!("dropped by `{}`", r.route.clone().unwrap_or_default()),
                _ => format!("goes `{}`", r.route.clone().unwrap_or_default()),
            };
            out.push(
                Finding::new(
                    Severity::Error,
                    FindingKind::NoHostRoute,
                    format!("{ip} ({who})"),
                )
                .expected(format!("a route through {through}"))
                .actual(actual)
                .fix_one(route_fix(*ip, link)),
            );
        }
        row.host_routes.push(r);
    }
    out
}

/// The host end of a pod's veth, down or without carrier.
pub(super) fn host_veth_down(row: &VethRow, link: &Link) -> Option<Finding> {
    let carrier = row
        .oper_state
        .as_deref()
        .is_none_or(|s| s == "up" || s == "unknown");
    if link.up && carrier {
        return None;
    }
    let f = Finding::new(
        Severity::Error,
        FindingKind::HostVethDown,
        format!("{} ({})", link.name, who(row)),
    )
    .expected("up");
    Some(if !link.up {
        f.actual("administratively down")
            .fix_one(format!("ip link set {} up", link.name))
    } else {
        f.actual(format!(
            "up but {} (the pod's end is down?)",
            row.oper_state.as_deref().unwrap_or("no carrier")
        ))
        .fix_one("bring the pod's interface up, or recreate the pod")
    })
}

/// The pod's port of its bridge with hairpin off, though the pod's CNI config (its libcni
/// cache entry) asks for `hairpinMode` (kube-flannel's does).
pub(super) fn hairpin_off(
    row: &VethRow,
    link: &Link,
    entry: Option<&crate::pods::cni::CacheEntry>,
) -> Option<Finding> {
    let bridge = link.master.as_deref()?;
    if link.hairpin != Some(false) || entry?.hairpin_mode != Some(true) {
        return None;
    }
    Some(
        Finding::new(
            Severity::Warning,
            FindingKind::HairpinOff,
            format!("{} ({})", link.name, who(row)),
        )
        .expected(format!(
            "hairpin on for the port of {bridge} (the CNI config's hairpinMode)"
        ))
        .actual("hairpin off: the pod cannot reach itself through a Service")
        .fix_one(format!(
            "ip link set dev {} type bridge_slave hairpin on",
            link.name
        )),
    )
}

/// The pod's MTU against the node's `limit`: recorded in the row, and a finding when it
/// does not fit.
pub(super) fn mtu(
    row: &mut VethRow,
    link: &Link,
    limit: &Option<(u32, String)>,
) -> Option<Finding> {
    let (lim, from) = limit.as_ref()?;
    let mtu = row.pod_side.as_ref().map(|s| s.mtu).unwrap_or(link.mtu);
    let fits = mtu <= *lim;
    let finding = (!fits).then(|| {
        Finding::new(
            Severity::Warning,
            FindingKind::MtuTooLarge,
            format!("{} ({})", link.name, who(row)),
        )
        .expected(format!("pod MTU at most {lim} ({from})"))
        .actual(format!("pod MTU {mtu}"))
        .fix_one(
            "set the CNI's MTU to fit the overlay (Flannel: FLANNEL_MTU from \
             subnet.env; Calico: veth_mtu / FelixConfiguration mtu) and \
             recreate the pod",
        )
    });
    row.mtu_check = Some(MtuCheck {
        mtu,
        limit: *lim,
        limit_from: from.clone(),
        fits,
    });
    finding
}

/// A veth whose peer lives in a namespace nobody names or holds.
pub(super) fn leaked_veth(link: &Link, v: &Veth) -> Finding {
    Finding::new(
        Severity::Error,
        FindingKind::LeakedVeth,
        format!("{} (ifindex {})", link.name, link.ifindex),
    )
    .expected("its peer in a pod's netns (named, or held by a process)")
    .actual(format!(
        "peer if{} lives in netns id {}, which is neither named nor held by any process",
        v.peer_ifindex.unwrap_or(0),
        v.peer_netnsid.unwrap_or(-1)
    ))
    .fix_one(format!(
        "if no pod uses it: ip link del {} (something still holds the netns: \
         look for nsfs mounts with `findmnt -t nsfs`)",
        link.name
    ))
}

/// Routes through Calico devices that do not exist.
pub(super) fn missing_cali_devices(node: &NetnsView, prefix: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if prefix.is_empty() {
        return out;
    }
    let names: HashSet<&str> = node.links.iter().map(|l| l.name.as_str()).collect();
    for r in &node.routes {
        for dev in r.nexthops.iter().filter_map(|h| h.dev.as_ref()) {
            if dev.starts_with(prefix) && !names.contains(dev.as_str()) {
                out.push(
                    Finding::new(
                        Severity::Error,
                        FindingKind::MissingCaliDevice,
                        r.to_string(),
                    )
                    .expected(format!("device {dev} to exist"))
                    .actual(format!("no device {dev}"))
                    .fix_one(format!("ip route del {}", r.dst)),
                );
            }
        }
    }
    out
}

/// Two pods claiming one address: live pods by netns, plus live cache entries whose pod
/// was not paired with a veth.
pub(super) fn duplicate_pod_ips(
    snap: &Snapshot,
    rows: &[VethRow],
    cache_rows: &[CacheRow],
) -> Vec<Finding> {
    let mut claims: BTreeMap<IpAddr, Vec<(String, String)>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.status == VethStatus::Pod) {
        let (Some(side), Some(ns)) = (&row.pod_side, &row.netns) else {
            continue;
        };
        let label = row
            .pod
            .as_ref()
            .map(PodIdentity::label)
            .unwrap_or_else(|| ns.names.first().cloned().unwrap_or_default());
        for a in &side.addrs {
            claims
                .entry(a.ip())
                .or_default()
                .push((netns_key(ns), format!("{label} via {}", row.name)));
        }
    }
    for (i, (file, nref)) in snap.cache.iter().enumerate() {
        let (Ok(e), Some(row)) = (&file.entry, cache_rows.get(i)) else {
            continue;
        };
        if row.state != CacheState::Live || row.veth.is_some() {
            continue;
        }
        let key = match nref {
            NetnsRef::Found(ino) => format!("ino:{ino}"),
            _ => format!("cid:{}", e.container_id),
        };
        let label = format!(
            "{} (CNI cache {})",
            row.pod.clone().unwrap_or_else(|| e.container_id.clone()),
            row.file
        );
        for ip in e.pod_ips() {
            claims
                .entry(ip)
                .or_default()
                .push((key.clone(), label.clone()));
        }
    }
    let mut out = Vec::new();
    for (ip, who) in claims {
        let mut keys: Vec<&String> = who.iter().map(|(k, _)| k).collect();
        keys.sort();
        keys.dedup();
        if keys.len() > 1 {
            let mut labels: Vec<&str> = who.iter().map(|(_, l)| l.as_str()).collect();
            labels.dedup();
            out.push(
                Finding::new(Severity::Error, FindingKind::DuplicatePodIp, ip.to_string())
                    .expected("one pod per address")
                    .actual(format!("claimed by {}", labels.join(" and ")))
                    .fix_one(
                        "check the IPAM state (host-local: /var/lib/cni/networks/<net>/; Calico: \
                         calicoctl ipam check) and recreate one of the pods",
                    ),
            );
        }
    }
    out
}

fn netns_key(ns: &PeerNetns) -> String {
    match (ns.inode, ns.nsid) {
        (Some(i), _) => format!("ino:{i}"),
        (None, Some(id)) => format!("nsid:{id}"),
        (None, None) => format!("names:{}", ns.names.join(",")),
    }
}

fn source_word(s: IdentitySource) -> &'static str {
    match s {
        IdentitySource::CniCache => "CNI cache",
        IdentitySource::PodsFile => "pod list",
    }
}

fn route_to(table: &RouteTable, ip: IpAddr, veth: &str, master: Option<&str>) -> HostRoute {
    let Some(r) = table.lookup(ip) else {
        return HostRoute {
            ip,
            via: RouteVia::None,
            route: None,
        };
    };
    let via = if r.kind.drops() {
        RouteVia::Drop
    } else if r.nexthops.iter().any(|h| h.dev.as_deref() == Some(veth)) {
        RouteVia::Veth
    } else if master.is_some() && r.nexthops.iter().any(|h| h.dev.as_deref() == master) {
        RouteVia::Bridge
    } else {
        RouteVia::Elsewhere
    };
    HostRoute {
        ip,
        via,
        route: Some(r.to_string()),
    }
}

fn route_fix(ip: IpAddr, link: &Link) -> String {
    let host = if ip.is_ipv4() { 32 } else { 128 };
    match &link.master {
        Some(m) => format!(
            "give the bridge {m} the pod subnet (its gateway address) so the kernel adds the \
             connected route, or: ip route add {ip}/{host} dev {m}"
        ),
        None => format!("ip route add {ip}/{host} dev {} scope link", link.name),
    }
}
