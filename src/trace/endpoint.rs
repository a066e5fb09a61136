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
                    label: format!("{ip} (outside the cluster)"),
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
