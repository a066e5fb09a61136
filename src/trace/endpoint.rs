//! SRC and DST of a trace: `namespace/pod`, a unique pod name, a pod IP, a node (or
//! router) name or IP, or an address outside the modelled network.

use std::net::IpAddr;

use anyhow::bail;
use serde::Serialize;

use crate::world::{HostId, HostKind, World};

/// A resolved endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// What the user asked for, made explicit (`default/web-0`, `node node-1`, `8.8.8.8`).
    pub label: String,
    /// The kind of host, or `None` for an outside address.
    pub kind: Option<HostKind>,
    /// The host, when modelled.
    #[serde(skip)]
    pub host: Option<HostId>,
    /// The address; `None` for a host-originated source (the route lookup picks it).
    pub ip: Option<IpAddr>,
    /// A remark on the resolution (a hostNetwork pod is its node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Resolve `spec` in `world`. A host as source gets no fixed address (the kernel picks it
/// from the route, as for any locally generated packet).
pub fn resolve(world: &World, spec: &str, as_source: bool) -> anyhow::Result<Endpoint> {
    let spec = spec.trim();
    if let Ok(ip) = spec.parse::<IpAddr>() {
        let owners = world.owners(ip);
        let mut pods: Vec<&str> = owners
            .iter()
            .filter(|o| world.kind(o.host) == HostKind::Pod)
            .map(|o| world.name(o.host))
            .collect();
        pods.dedup();
        if pods.len() > 1 {
            bail!(
                "{ip} is ambiguous: pods {} all have it (the cluster contradicts itself; name the pod instead)",
                pods.join(", ")
            );
        }
        if owners.is_empty() && !as_source {
            if let Some(why) = special(ip) {
                bail!("{ip} is {why}: there is no path to trace to it");
            }
            if let Some(why) = lease_edge(world, ip) {
                bail!("{ip} is {why}: there is no path to trace to it");
            }
        }
        let pick = owners.iter().min_by_key(|o| match world.kind(o.host) {
            HostKind::Pod => 0,
            HostKind::Node => 1,
            HostKind::Router => 2,
        });
        return Ok(match pick {
            Some(o) => Endpoint {
                label: describe(world, o.host, Some(ip)),
                kind: Some(world.kind(o.host)),
                host: Some(o.host),
                ip: Some(ip),
                note: None,
            },
            None => {
                if as_source {
                    bail!(
                        "{ip} is not the address of any pod, node or router in the cluster: a trace must start inside the modelled network"
                    );
                }
                Endpoint {
                    label: unowned_label(world, ip),
                    kind: None,
                    host: None,
                    ip: Some(ip),
                    note: None,
                }
            }
        });
    }
    let found = world.by_name(spec).map(|h| (h, None)).or_else(|| {
        world
            .by_alias(spec)
            .map(|(h, note)| (h, Some(note.to_string())))
    });
    let (host, note) = match found {
        Some(f) => f,
        None => {
            if spec.contains('/') {
                if let Some(why) = world.why_missing(spec) {
                    bail!("{why}");
                }
                bail!("no pod {spec} in the cluster{}", suggest(world, spec));
            }
            let suffix = format!("/{spec}");
            let matches: Vec<HostId> = world
                .ids(HostKind::Pod)
                .filter(|&i| world.name(i).ends_with(&suffix))
                .collect();
            match matches.as_slice() {
                [one] => (*one, None),
                [] if world.why_missing(spec).is_some() => {
                    bail!("{}", world.why_missing(spec).unwrap_or_default())
                }
                [] => bail!(
                    "no pod, node or router named {spec:?}{}",
                    suggest(world, spec)
                ),
                many => bail!(
                    "pod name {spec:?} is ambiguous: {} (write namespace/name)",
                    many.iter()
                        .take(8)
                        .map(|&i| world.name(i))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let kind = world.kind(host);
    let ip = if kind == HostKind::Pod || !as_source {
        world.primary_ip(host)
    } else {
        None
    };
    Ok(Endpoint {
        label: describe(world, host, ip),
        kind: Some(kind),
        host: Some(host),
        ip,
        note,
    })
}

/// An address no host has: in the pod network (a stale or unallocated pod IP, in a node's
/// pod CIDR or in none), or outside the cluster.
fn unowned_label(world: &World, ip: IpAddr) -> String {
    let Some(net) = world.pod_network(ip) else {
        return format!("{ip} (outside the cluster)");
    };
    match world.lease_of(ip) {
        Some((cidr, node)) => format!(
            "{ip} (in {}'s {} {cidr}, but no pod has it)",
            world.name(node),
            net.unit
        ),
        None => format!("{ip} (in {}, but in no node's {})", net.name, net.unit),
    }
}

/// Why `ip` is no destination a trace can follow: addresses the kernel never routes to
/// another host (unspecified, limited broadcast, loopback, link-local), multicast (group
/// membership and multicast routing are not modelled) and the reserved class E.
pub fn special(ip: IpAddr) -> Option<&'static str> {
    let IpAddr::V4(a) = ip else {
        return None;
    };
    if a.is_unspecified() {
        Some(
            "the unspecified address 0.0.0.0 (a socket bound to it listens on every address; a packet sent to it goes to the sender itself)",
        )
    } else if a.is_broadcast() {
        Some(
            "the limited broadcast address: the kernel sends it to every host of the sender's own segment and never routes it",
        )
    } else if a.is_loopback() {
        Some(
            "a loopback address (127.0.0.0/8): every host answers it itself, on lo, never over the network",
        )
    } else if a.is_link_local() {
        Some(
            "a link-local address (169.254.0.0/16): never routed off its link (Calico's 169.254.1.1 is the pods' gateway, answered by proxy ARP and assigned nowhere)",
        )
    } else if a.is_multicast() {
        Some(
            "a multicast address (224.0.0.0/4): where it goes depends on group membership and multicast routing, which netpath does not model (and flannel does not masquerade it)",
        )
    } else if a.octets()[0] >= 240 {
        Some("in the reserved range 240.0.0.0/4, which Linux does not route")
    } else {
        None
    }
}

/// The broadcast address of a node's pod CIDR: a bridge (cni0) broadcast, not a pod.
fn lease_edge(world: &World, ip: IpAddr) -> Option<String> {
    let (cidr, node) = world.lease_of(ip)?;
    let IpAddr::V4(_) = ip else {
        return None;
    };
    (cidr.prefix() < 31 && cidr.broadcast() == ip).then(|| {
        format!(
            "the broadcast address of {}'s pod CIDR {cidr} (no pod has it; the node's bridge broadcasts it on its own segment)",
            world.name(node)
        )
    })
}

fn describe(world: &World, host: HostId, ip: Option<IpAddr>) -> String {
    let name = world.name(host);
    let ip = ip.map(|i| format!(" ({i})")).unwrap_or_default();
    match world.kind(host) {
        HostKind::Pod => match world.parent(host) {
            Some(n) => format!("pod {name}{ip} on {}", world.name(n)),
            None => format!("pod {name}{ip}"),
        },
        HostKind::Node => format!("node {name}{ip}"),
        HostKind::Router => format!("router {name}{ip}"),
    }
}

fn suggest(world: &World, spec: &str) -> String {
    let needle = spec.rsplit('/').next().unwrap_or(spec);
    let near: Vec<&str> = world
        .names()
        .iter()
        .filter(|n| {
            let short = n.rsplit('/').next().unwrap_or(n);
            short.contains(needle) || needle.contains(short)
        })
        .take(5)
        .map(String::as_str)
        .collect();
    if near.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", near.join(", "))
    }
}
