//! netpath's cluster file: YAML (or JSON, which is YAML) short enough to write by hand.
//!
//! ```yaml
//! name: calico-ipip
//! mode: {cni: calico, encapsulation: ipip, pool: 10.65.0.0/16}
//! underlay:
//!   subnets:
//!     - {cidr: 192.168.1.0/24, gateway: 192.168.1.1}
//!     - {cidr: 192.168.2.0/24, gateway: 192.168.2.1}
//!   routers:
//!     - {name: r1, interfaces: [192.168.1.1/24, 192.168.2.1/24]}
//! nodes:
//!   - {name: node-1, ip: 192.168.1.11}
//!   - {name: node-2, ip: 192.168.2.11}
//! pods:
//!   - default/web-0 node-1
//!   - default/db-0 node-2 10.65.0.66
//! ```
//!
//! Parsed with serde_yaml_ng (a maintained fork of the archived serde_yaml): its errors
//! carry the line and column, and unknown keys are refused so typos do not pass silently.

use std::collections::HashSet;
use std::net::IpAddr;

use anyhow::{Context, anyhow, bail};
use ipnetwork::IpNetwork;
use serde::Deserialize;

use super::{
    Bgp, Calico, Cluster, EncapMode, Flannel, FlannelBackend, IpPool, Mode, Node, Pod, RouteOwner,
    Router, StaticRoute, Subnet, Underlay, canonical, nth, parse_ip, parse_net,
};
use crate::dataplane::MacAddr;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    name: Option<String>,
    description: Option<String>,
    mode: ModeFile,
    #[serde(default)]
    underlay: UnderlayFile,
    nodes: Vec<NodeFile>,
    #[serde(default)]
    pods: Vec<PodFile>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "cni", rename_all = "lowercase")]
enum ModeFile {
    Flannel(FlannelFile),
    Calico(CalicoFile),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FlannelFile {
    backend: String,
    network: String,
    vni: Option<u32>,
    port: Option<u16>,
    #[serde(default)]
    direct_routing: bool,
    #[serde(default)]
    learning: bool,
    mtu: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CalicoFile {
    encapsulation: Option<String>,
    #[serde(default)]
    cross_subnet: bool,
    pool: Option<String>,
    block_size: Option<u8>,
    #[serde(default)]
    pools: Vec<PoolFile>,
    bgp: Option<String>,
    #[serde(default)]
    reflectors: Vec<String>,
    ipip_routes: Option<String>,
    vni: Option<u32>,
    port: Option<u16>,
    #[serde(default)]
    vxlan_route_mtu: bool,
    /// The calico/node version (`v3.32.0`): decides the route shapes it programs.
    #[serde(default)]
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PoolFile {
    name: Option<String>,
    cidr: String,
    block_size: Option<u8>,
    ipip_mode: Option<String>,
    vxlan_mode: Option<String>,
    #[serde(default)]
    nat_outgoing: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UnderlayFile {
    mtu: Option<u32>,
    #[serde(default)]
    subnets: Vec<SubnetFile>,
    #[serde(default)]
    routers: Vec<RouterFile>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SubnetFile {
    Cidr(String),
    Full {
        cidr: String,
        gateway: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RouterFile {
    name: String,
    interfaces: Vec<String>,
    #[serde(default)]
    bgp: bool,
    #[serde(default)]
    routes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NodeFile {
    name: String,
    ip: String,
    #[serde(rename = "podCIDR")]
    pod_cidr: Option<String>,
    #[serde(default)]
    blocks: Vec<String>,
    #[serde(rename = "tunnelIP")]
    tunnel_ip: Option<String>,
    #[serde(rename = "ipipTunnelIP")]
    ipip_tunnel_ip: Option<String>,
    #[serde(rename = "vxlanTunnelIP")]
    vxlan_tunnel_ip: Option<String>,
    #[serde(rename = "vtepMAC")]
    vtep_mac: Option<String>,
    iface: Option<String>,
    mtu: Option<u32>,
    gateway: Option<String>,
    ipv6: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PodFile {
    Short(String),
    Full(PodFull),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PodFull {
    namespace: Option<String>,
    name: String,
    node: String,
    ip: Option<String>,
    #[serde(default)]
    host_network: bool,
    mac: Option<String>,
}

/// Parse a cluster file's text; `source` names it in errors and in the cluster.
pub fn parse(text: &str, source: &str) -> anyhow::Result<Cluster> {
    // The YAML parser takes time quadratic in the nesting depth: refuse absurd nesting
    // (a cluster file is a few levels deep) before it starts.
    crate::input::check_depth(text.as_bytes(), crate::input::MAX_DEPTH)
        .map_err(|e| anyhow!("{source}: {e}"))?;
    let file: File = serde_yaml_ng::from_str(text)
        .map_err(|e| anyhow!("{source}: {e}"))
        .context(
            "expected a netpath cluster file (mode, underlay, nodes, pods; see docs/trace.md)",
        )?;
    build(file, source).with_context(|| format!("cluster file {source}"))
}

fn build(file: File, source: &str) -> anyhow::Result<Cluster> {
    let mut assumptions = Vec::new();
    let mut versions = crate::model::Versions::default();
    let mode = match file.mode {
        ModeFile::Flannel(f) => Mode::Flannel(flannel_mode(f)?),
        ModeFile::Calico(c) => {
            if let Some(v) = &c.version {
                versions.calico = Some(crate::model::Version::parse(v).ok_or_else(|| {
                    anyhow!("mode.version: {v:?} is not a version (expected e.g. v3.32.0)")
                })?);
            }
            Mode::Calico(calico_mode(c)?)
        }
    };
    let mtu = file.underlay.mtu.unwrap_or(1500);

    let mut subnets = Vec::new();
    for (i, s) in file.underlay.subnets.iter().enumerate() {
        let (cidr, gateway) = match s {
            SubnetFile::Cidr(c) => (c.as_str(), None),
            SubnetFile::Full { cidr, gateway } => (cidr.as_str(), gateway.as_deref()),
        };
        let cidr = canonical(parse_net(cidr, &format!("underlay.subnets[{i}].cidr"))?);
        let gateway = gateway
            .map(|g| parse_ip(g, &format!("underlay.subnets[{i}].gateway")))
            .transpose()?;
        subnets.push(Subnet { cidr, gateway });
    }
    let mut routers = Vec::new();
    for (i, r) in file.underlay.routers.iter().enumerate() {
        let interfaces = r
            .interfaces
            .iter()
            .enumerate()
            .map(|(j, a)| {
                let what = format!("underlay.routers[{i}] ({}).interfaces[{j}]", r.name);
                let net = parse_net(a, &what)?;
                with_mask(net, &subnets, &what)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let routes = r
            .routes
            .iter()
            .enumerate()
            .map(|(j, s)| {
                parse_static(s)
                    .with_context(|| format!("underlay.routers[{i}] ({}).routes[{j}]", r.name))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        routers.push(Router {
            name: r.name.clone(),
            interfaces,
            bgp: r.bgp,
            routes,
        });
    }

    let mut nodes = Vec::new();
    for (i, n) in file.nodes.iter().enumerate() {
        let what = |f: &str| format!("nodes[{i}] ({}).{f}", n.name);
        // `tunnelIP` is shorthand for both tunnel addresses.
        let tunnel_ip = n
            .tunnel_ip
            .as_deref()
            .map(|t| parse_ip(t, &what("tunnelIP")))
            .transpose()?;
        let address = with_mask(parse_net(&n.ip, &what("ip"))?, &subnets, &what("ip"))?;
        let mut pod_cidrs = Vec::new();
        if let Some(c) = &n.pod_cidr {
            pod_cidrs.push(canonical(parse_net(c, &what("podCIDR"))?));
        }
        for (j, b) in n.blocks.iter().enumerate() {
            pod_cidrs.push(canonical(parse_net(b, &what(&format!("blocks[{j}]")))?));
        }
        let gateway = match &n.gateway {
            Some(g) => Some(parse_ip(g, &what("gateway"))?),
            None => subnets
                .iter()
                .find(|s| s.cidr.contains(address.ip()))
                .and_then(|s| s.gateway),
        };
        nodes.push(Node {
            name: n.name.clone(),
            address,
            address_v6: n
                .ipv6
                .as_deref()
                .map(|v| parse_net(v, &what("ipv6")))
                .transpose()?,
            iface: n.iface.clone().unwrap_or_else(|| "eth0".into()),
            mtu: n.mtu.unwrap_or(mtu),
            gateway,
            pod_cidrs,
            ipip_tunnel_ip: n
                .ipip_tunnel_ip
                .as_deref()
                .map(|t| parse_ip(t, &what("ipipTunnelIP")))
                .transpose()?
                .or(tunnel_ip),
            vxlan_tunnel_ip: n
                .vxlan_tunnel_ip
                .as_deref()
                .map(|t| parse_ip(t, &what("vxlanTunnelIP")))
                .transpose()?
                .or(tunnel_ip),
            vtep_mac: n
                .vtep_mac
                .as_deref()
                .map(|m| m.parse::<MacAddr>().with_context(|| what("vtepMAC")))
                .transpose()?,
        });
    }
    assign_pod_cidrs(&mode, &mut nodes, &mut assumptions)?;

    let mut pods = Vec::new();
    for (i, p) in file.pods.iter().enumerate() {
        pods.push(pod(p).with_context(|| format!("pods[{i}]"))?);
    }
    assign_pod_ips(&mode, &nodes, &mut pods);

    let name = file.name.unwrap_or_else(|| {
        std::path::Path::new(source)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| source.to_string())
    });
    let mut cluster = Cluster::new(
        name,
        source,
        file.description,
        mode,
        nodes,
        pods,
        Underlay { subnets, routers },
        assumptions,
    )?;
    cluster.set_versions(versions);
    Ok(cluster)
}

fn flannel_mode(f: FlannelFile) -> anyhow::Result<Flannel> {
    let network = canonical(parse_net(&f.network, "mode.network")?);
    let backend = match f.backend.to_ascii_lowercase().as_str() {
        "host-gw" | "hostgw" => FlannelBackend::HostGw,
        "vxlan" => FlannelBackend::Vxlan {
            vni: f.vni.unwrap_or(1),
            port: f.port.unwrap_or(8472),
            direct_routing: f.direct_routing,
            learning: f.learning,
        },
        "ipip" => FlannelBackend::Ipip {
            direct_routing: f.direct_routing,
        },
        other => bail!(
            "mode.backend: {other:?} is not a flannel backend netpath models (expected host-gw, vxlan or ipip)"
        ),
    };
    Ok(Flannel {
        network,
        backend,
        mtu: f.mtu,
    })
}

fn calico_mode(c: CalicoFile) -> anyhow::Result<Calico> {
    let mut pools = Vec::new();
    if let Some(pool) = &c.pool {
        let cidr = canonical(parse_net(pool, "mode.pool")?);
        let when = if c.cross_subnet {
            EncapMode::CrossSubnet
        } else {
            EncapMode::Always
        };
        let (ipip, vxlan) = match c.encapsulation.as_deref().unwrap_or("ipip") {
            "ipip" => (when, EncapMode::Never),
            "vxlan" => (EncapMode::Never, when),
            "none" | "bgp" => (EncapMode::Never, EncapMode::Never),
            other => bail!("mode.encapsulation: {other:?} (expected ipip, vxlan or none)"),
        };
        pools.push(IpPool {
            name: "default-ipv4-ippool".into(),
            block_size: c.block_size.unwrap_or(26),
            cidr,
            ipip,
            vxlan,
            nat_outgoing: true,
        });
    }
    for (i, p) in c.pools.iter().enumerate() {
        let what = |f: &str| format!("mode.pools[{i}].{f}");
        let cidr = canonical(parse_net(&p.cidr, &what("cidr"))?);
        let mode = |m: &Option<String>, f: &str| -> anyhow::Result<EncapMode> {
            let s = m.as_deref().unwrap_or("Never");
            EncapMode::parse(s).ok_or_else(|| {
                anyhow!("{}: {s:?} (expected Never, Always or CrossSubnet)", what(f))
            })
        };
        pools.push(IpPool {
            name: p.name.clone().unwrap_or_else(|| format!("pool-{i}")),
            block_size: p.block_size.unwrap_or(26),
            cidr,
            ipip: mode(&p.ipip_mode, "ipipMode")?,
            vxlan: mode(&p.vxlan_mode, "vxlanMode")?,
            nat_outgoing: p.nat_outgoing,
        });
    }
    if pools.is_empty() {
        bail!("mode: a calico cluster needs `pool: CIDR` or `pools: [...]`");
    }
    for (i, p) in pools.iter().enumerate() {
        if p.block_size < p.cidr.prefix() || p.block_size > 32 {
            bail!(
                "mode.pools[{i}]: blockSize {} does not fit pool {} (expected {}..=32)",
                p.block_size,
                p.cidr,
                p.cidr.prefix()
            );
        }
    }
    let vxlan_only = pools.iter().all(|p| p.vxlan != EncapMode::Never);
    let bgp = match c.bgp.as_deref() {
        None if vxlan_only => Bgp::Off,
        None | Some("mesh") => Bgp::Mesh,
        Some("route-reflectors" | "reflectors" | "rr") => {
            if c.reflectors.is_empty() {
                bail!("mode.reflectors: route reflectors need at least one node name");
            }
            Bgp::RouteReflectors(c.reflectors.clone())
        }
        Some("routers") => Bgp::Routers,
        Some("off" | "none") => Bgp::Off,
        Some(other) => {
            bail!("mode.bgp: {other:?} (expected mesh, route-reflectors, routers or off)")
        }
    };
    let ipip_routes = match c.ipip_routes.as_deref().unwrap_or("bird") {
        "bird" => RouteOwner::Bird,
        "felix" => RouteOwner::Felix,
        other => bail!("mode.ipipRoutes: {other:?} (expected bird or felix)"),
    };
    Ok(Calico {
        pools,
        bgp,
        ipip_routes,
        vxlan_vni: c.vni.unwrap_or(4096),
        vxlan_port: c.port.unwrap_or(4789),
        vxlan_route_mtu: c.vxlan_route_mtu,
        bird_metric: None,
        bird_src: false,
        workload_metric: None,
    })
}

/// A bare address gets its mask from the declared subnet containing it.
fn with_mask(net: IpNetwork, subnets: &[Subnet], what: &str) -> anyhow::Result<IpNetwork> {
    let full = if net.is_ipv4() { 32 } else { 128 };
    if net.prefix() != full {
        return Ok(net);
    }
    match subnets.iter().find(|s| s.cidr.contains(net.ip())) {
        Some(s) => Ok(IpNetwork::new(net.ip(), s.cidr.prefix())?),
        None => bail!(
            "{what}: {} has no prefix length and no underlay subnet contains it (write it as {}/24, or list the subnet under underlay.subnets)",
            net.ip(),
            net.ip()
        ),
    }
}

/// `DST via GW`.
pub fn parse_static(s: &str) -> anyhow::Result<StaticRoute> {
    let words: Vec<&str> = s.split_whitespace().collect();
    match words.as_slice() {
        [dst, "via", gw] => {
            let dst = if *dst == "default" {
                "0.0.0.0/0".parse()?
            } else {
                canonical(parse_net(dst, "destination")?)
            };
            Ok(StaticRoute {
                dst,
                via: parse_ip(gw, "gateway")?,
            })
        }
        _ => bail!(
            "{s:?} is not a route (expected `DST via GATEWAY`, e.g. `10.0.0.0/8 via 192.168.1.254`)"
        ),
    }
}

fn pod(p: &PodFile) -> anyhow::Result<Pod> {
    match p {
        PodFile::Short(s) => {
            let words: Vec<&str> = s.split_whitespace().collect();
            let (key, node, rest) = match words.as_slice() {
                [key, node, rest @ ..] if rest.len() <= 1 => (*key, *node, rest.first().copied()),
                _ => bail!("{s:?} (expected `NAMESPACE/NAME NODE [IP|hostNetwork]`)"),
            };
            let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
            let mut pod = Pod {
                namespace: namespace.into(),
                name: name.into(),
                node: node.into(),
                ips: Vec::new(),
                host_network: false,
                mac: None,
            };
            match rest {
                Some("hostNetwork") => pod.host_network = true,
                Some(ip) => pod.ips.push(parse_ip(ip, "pod IP")?),
                None => {}
            }
            Ok(pod)
        }
        PodFile::Full(f) => Ok(Pod {
            namespace: f.namespace.clone().unwrap_or_else(|| "default".into()),
            name: f.name.clone(),
            node: f.node.clone(),
            ips: f
                .ip
                .as_deref()
                .map(|ip| parse_ip(ip, "ip"))
                .transpose()?
                .into_iter()
                .collect(),
            host_network: f.host_network,
            mac: f
                .mac
                .as_deref()
                .map(|m| m.parse::<MacAddr>().context("mac"))
                .transpose()?,
        }),
    }
}

/// Nodes without a pod CIDR get the next free one (Flannel: the Network's subnets in
/// order, like kube-controller-manager; Calico: the pool's blocks in order), and Calico
/// nodes without a tunnel address get their first block's first address. Both recorded
/// as assumptions.
fn assign_pod_cidrs(
    mode: &Mode,
    nodes: &mut [Node],
    assumptions: &mut Vec<String>,
) -> anyhow::Result<()> {
    let used: HashSet<IpNetwork> = nodes
        .iter()
        .flat_map(|n| n.pod_cidrs.iter().copied())
        .collect();
    let (space, len) = match mode {
        Mode::Flannel(f) => {
            let p = f.network.prefix();
            (f.network, if p <= 22 { 24 } else { p + 2 })
        }
        Mode::Calico(c) => (c.pools[0].cidr, c.pools[0].block_size),
    };
    let mut next = 0u32;
    for n in nodes.iter_mut() {
        if !n.pod_cidrs.is_empty() {
            continue;
        }
        loop {
            let step = 1u32.checked_shl(32 - len as u32).unwrap_or(0);
            let base = nth(&space, next.wrapping_mul(step));
            next += 1;
            let cand = IpNetwork::new(base, len)?;
            if !space.contains(base) {
                bail!("nodes: no free /{len} left in {space} for node {}", n.name);
            }
            if !used.contains(&cand) {
                assumptions.push(format!(
                    "node {}: no pod CIDR given, assigned {cand}",
                    n.name
                ));
                n.pod_cidrs.push(cand);
                break;
            }
        }
    }
    if let Mode::Calico(c) = mode {
        // Each tunnel address comes from a pool with that encapsulation (Calico's
        // allocateip): the first address of the node's first block in such a pool.
        let first_in = |n: &Node, pick: &dyn Fn(&crate::model::IpPool) -> bool| {
            n.pod_cidrs
                .iter()
                .find(|b| b.is_ipv4() && c.pool_for(b).is_some_and(pick))
                .map(|b| b.network())
        };
        for n in nodes.iter_mut() {
            if n.ipip_tunnel_ip.is_none() {
                n.ipip_tunnel_ip = first_in(n, &|p| p.ipip != EncapMode::Never);
            }
            if n.vxlan_tunnel_ip.is_none() {
                n.vxlan_tunnel_ip = first_in(n, &|p| p.vxlan != EncapMode::Never);
            }
        }
    }
    Ok(())
}

/// Pods without an IP get the next free address of their node's pod CIDR: Flannel's
/// host-local starts at .2 (.1 is cni0), Calico after the tunnel address.
fn assign_pod_ips(mode: &Mode, nodes: &[Node], pods: &mut [Pod]) {
    let taken: HashSet<IpAddr> = pods.iter().flat_map(|p| p.ips.iter().copied()).collect();
    let first = match mode {
        Mode::Flannel(_) => 2,
        Mode::Calico(_) => 1,
    };
    let mut cursor: Vec<u32> = vec![first; nodes.len()];
    for p in pods.iter_mut() {
        if !p.ips.is_empty() || p.host_network {
            continue;
        }
        let Some(i) = nodes.iter().position(|n| n.name == p.node) else {
            continue;
        };
        let Some(cidr) = nodes[i].pod_cidr_v4() else {
            continue;
        };
        loop {
            let ip = nth(&cidr, cursor[i]);
            cursor[i] += 1;
            if !cidr.contains(ip) {
                break;
            }
            if !taken.contains(&ip)
                && Some(ip) != nodes[i].ipip_tunnel_ip
                && Some(ip) != nodes[i].vxlan_tunnel_ip
            {
                p.ips.push(ip);
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
name: t
mode: {cni: flannel, backend: vxlan, network: 10.244.0.0/16}
underlay:
  subnets: [{cidr: 10.0.0.0/24, gateway: 10.0.0.1}]
nodes:
  - {name: a, ip: 10.0.0.11}
  - {name: b, ip: 10.0.0.12/24, podCIDR: 10.244.7.0/24}
pods:
  - default/web a
  - {name: db, node: b}
  - kube-system/proxy b hostNetwork
"#;

    #[test]
    fn short_file_fills_in_the_rest() {
        let c = parse(SMALL, "t.yaml").unwrap();
        assert_eq!(c.nodes[0].address.to_string(), "10.0.0.11/24");
        assert_eq!(c.nodes[0].gateway, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(c.nodes[0].pod_cidrs[0].to_string(), "10.244.0.0/24");
        assert_eq!(c.pods[0].ips, vec!["10.244.0.2".parse::<IpAddr>().unwrap()]);
        assert_eq!(c.pods[1].ips, vec!["10.244.7.2".parse::<IpAddr>().unwrap()]);
        assert!(c.pods[2].host_network && c.pods[2].ips.is_empty());
        assert!(c.assumptions.iter().any(|a| a.contains("node a")));
    }

    #[test]
    fn errors_name_the_place() {
        let bad = SMALL.replace("ip: 10.0.0.11}", "ip: 10.0.0.300}");
        let e = format!("{:#}", parse(&bad, "t.yaml").unwrap_err());
        assert!(e.contains("nodes[0] (a).ip"), "{e}");
        let typo = SMALL.replace("podCIDR", "podCIRD");
        let e = format!("{:#}", parse(&typo, "t.yaml").unwrap_err());
        assert!(e.contains("t.yaml") && e.contains("line"), "{e}");
        let unknown = SMALL.replace("default/web a", "default/web nowhere");
        let e = format!("{:#}", parse(&unknown, "t.yaml").unwrap_err());
        assert!(e.contains("nowhere"), "{e}");
        let nomask = SMALL.replace("ip: 10.0.0.11}", "ip: 172.16.0.1}");
        let e = format!("{:#}", parse(&nomask, "t.yaml").unwrap_err());
        assert!(e.contains("no prefix length"), "{e}");
    }

    #[test]
    fn json_is_accepted() {
        let j = r#"{"mode":{"cni":"calico","encapsulation":"vxlan","crossSubnet":true,"pool":"10.65.0.0/16"},
                   "nodes":[{"name":"a","ip":"192.168.1.2/24"}]}"#;
        let c = parse(j, "c.json").unwrap();
        assert_eq!(c.name, "c");
        let Mode::Calico(cal) = &c.mode else { panic!() };
        assert_eq!(cal.pools[0].vxlan, EncapMode::CrossSubnet);
        assert_eq!(cal.bgp, Bgp::Off);
        assert_eq!(
            c.nodes[0].vxlan_tunnel_ip,
            Some("10.65.0.0".parse().unwrap())
        );
    }
}
