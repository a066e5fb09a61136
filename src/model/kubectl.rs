//! A `kubectl get nodes,pods[,ippools.crd.projectcalico.org,blockaffinities.crd.projectcalico.org,cm] -A -o json`
//! List, read without building a document tree: each item is deserialized into the few
//! fields netpath needs (the rest — managedFields, containers, conditions — is skipped by
//! the parser), and kind-specific parts are parsed from borrowed raw JSON.
//!
//! What the dump does not say is taken from options (`--underlay`, `--net-conf`,
//! `--ippool`) or assumed, and every assumption is recorded in the cluster.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use ipnetwork::IpNetwork;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::calico::{PoolSpec, parse_ippools, pool};
use super::flannel::parse_net_conf;
use super::{
    Bgp, Calico, Cluster, EncapMode, Flannel, FlannelBackend, IpPool, Mode, Node, Pod, RouteOwner,
    canonical, parse_ip, parse_net, underlay_of,
};
use crate::dataplane::MacAddr;

/// What a kubectl dump may lack.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The underlay's L2 subnets (`--underlay 10.10.1.0/24,10.10.2.0/24`): node IPs in one of
    /// them get its mask (Flannel's annotations carry no mask).
    pub underlay: Vec<IpNetwork>,
    /// Flannel's net-conf.json, when the dump has no kube-flannel-cfg ConfigMap.
    pub net_conf: Option<PathBuf>,
    /// Calico IPPool YAML files, when the dump has no IPPools.
    pub ippools: Vec<PathBuf>,
}

/// True when the file looks like a kubectl JSON List (rather than a netpath cluster file).
pub fn looks_like_list(path: &Path) -> anyhow::Result<bool> {
    use std::io::Read;
    let mut f = crate::input::open(path, "cluster file")?;
    let mut head = vec![0u8; 4096];
    let n = f
        .read(&mut head)
        .with_context(|| format!("reading {}", path.display()))?;
    let head = String::from_utf8_lossy(&head[..n]);
    let t = head.trim_start();
    Ok(t.starts_with('{') && (t.contains("\"items\"") || t.contains("\"apiVersion\"")))
}

/// Load a dump from a file (memory-mapped, parsed in place).
pub fn load(path: &Path, options: &Options) -> anyhow::Result<Cluster> {
    // Only a regular file, up to the document limit; truncation while mapped is caught
    // (see crate::input::map).
    let file = crate::input::open(path, "cluster file")?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > crate::input::MAX_DOCUMENT {
        anyhow::bail!(
            "cluster file {} is {}, over the limit of {} for one input",
            path.display(),
            crate::input::size(len),
            crate::input::size(crate::input::MAX_DOCUMENT)
        );
    }
    if len == 0 {
        return parse(&[], &path.display().to_string(), options);
    }
    let map = crate::input::map_file(&file, &format!("cluster file {}", path.display()))?;
    parse(&map, &path.display().to_string(), options)
}

#[derive(Deserialize)]
struct List<'a> {
    #[serde(borrow)]
    items: Vec<Item<'a>>,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow, default)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    metadata: Meta<'a>,
    #[serde(borrow, default)]
    spec: Option<&'a RawValue>,
    #[serde(borrow, default)]
    status: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    /// An EndpointSlice's endpoints and ports (top-level fields, not under `spec`).
    #[serde(borrow, default)]
    endpoints: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ports: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct Meta<'a> {
    #[serde(borrow, default)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    namespace: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    annotations: Annotations<'a>,
    #[serde(borrow, default)]
    labels: Labels<'a>,
}

/// Only the labels netpath reads.
#[derive(Deserialize, Default)]
struct Labels<'a> {
    #[serde(borrow, rename = "kubernetes.io/service-name")]
    service_name: Option<Cow<'a, str>>,
}

/// Only the annotations netpath reads; all others are skipped.
#[derive(Deserialize, Default)]
struct Annotations<'a> {
    #[serde(borrow, rename = "flannel.alpha.coreos.com/public-ip")]
    fl_public_ip: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "flannel.alpha.coreos.com/public-ip-overwrite")]
    fl_public_ip_overwrite: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "flannel.alpha.coreos.com/backend-type")]
    fl_backend_type: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "flannel.alpha.coreos.com/backend-data")]
    fl_backend_data: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "projectcalico.org/IPv4Address")]
    cal_ipv4: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "projectcalico.org/IPv4IPIPTunnelAddr")]
    cal_ipip: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "projectcalico.org/IPv4VXLANTunnelAddr")]
    cal_vxlan: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "projectcalico.org/VXLANTunnelMACAddr")]
    cal_vxlan_mac: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct NodeSpec<'a> {
    #[serde(borrow, rename = "podCIDR")]
    pod_cidr: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "podCIDRs", default)]
    pod_cidrs: Vec<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct NodeStatus<'a> {
    #[serde(borrow, default)]
    addresses: Vec<NodeAddress<'a>>,
}

#[derive(Deserialize)]
struct NodeAddress<'a> {
    #[serde(borrow, rename = "type")]
    ty: Cow<'a, str>,
    #[serde(borrow)]
    address: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PodSpec<'a> {
    #[serde(borrow)]
    node_name: Option<Cow<'a, str>>,
    #[serde(default)]
    host_network: bool,
    #[serde(borrow, default)]
    containers: Vec<Container<'a>>,
    #[serde(borrow, default)]
    init_containers: Vec<Container<'a>>,
}

#[derive(Deserialize)]
struct Container<'a> {
    #[serde(borrow)]
    image: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    command: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    args: Vec<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PodStatus<'a> {
    #[serde(borrow, rename = "podIP")]
    pod_ip: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "podIPs", default)]
    pod_ips: Vec<PodIp<'a>>,
}

#[derive(Deserialize)]
struct PodIp<'a> {
    #[serde(borrow)]
    ip: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
struct AffinitySpec<'a> {
    #[serde(borrow, default)]
    node: Cow<'a, str>,
    #[serde(borrow, default)]
    cidr: Cow<'a, str>,
    #[serde(borrow, default)]
    state: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct BackendData {
    #[serde(rename = "VtepMAC", alias = "vtepMAC")]
    vtep_mac: Option<String>,
    #[serde(rename = "VNI", alias = "vni")]
    vni: Option<u32>,
}

fn sub<'a, T: Deserialize<'a> + Default>(
    raw: Option<&'a RawValue>,
    what: impl Fn() -> String,
) -> anyhow::Result<T> {
    match raw {
        None => Ok(T::default()),
        Some(r) => serde_json::from_str(r.get()).map_err(|e| anyhow!("{}: {e}", what())),
    }
}

struct RawNode {
    name: String,
    internal_v4: Option<IpAddr>,
    internal_v6: Option<IpAddr>,
    pod_cidrs: Vec<IpNetwork>,
    fl_ip: Option<IpAddr>,
    fl_backend: Option<String>,
    fl_data: Option<BackendData>,
    cal_addr: Option<IpNetwork>,
    cal_tunnel: Option<IpAddr>,
    cal_ipip_ip: Option<IpAddr>,
    cal_vxlan_ip: Option<IpAddr>,
    cal_vxlan: bool,
    cal_mac: Option<MacAddr>,
}

/// Parse a dump's bytes; `source` names it in errors and in the cluster.
pub fn parse(bytes: &[u8], source: &str, options: &Options) -> anyhow::Result<Cluster> {
    let list: List = serde_json::from_slice(bytes)
        .map_err(|e| anyhow!("{source}: {e}"))
        .context("expected `kubectl get nodes,pods -A -o json` output (a List with items)")?;
    let mut nodes_raw = Vec::new();
    let mut pods = Vec::new();
    let mut pools = Vec::new();
    let mut affinities: Vec<(String, IpNetwork)> = Vec::new();
    let mut net_conf: Option<(String, String)> = None;
    let mut calico_backend: Option<String> = None;
    let mut pending = 0usize;
    // The calico-node and kube-flannel pods' image tags say the versions.
    let mut versions = crate::model::Versions::default();
    let mut services = crate::model::service::parse::Collector::default();
    for (i, item) in list.items.iter().enumerate() {
        let name = item.metadata.name.as_ref();
        let what = |part: &str| format!("{source}: items[{i}] ({} {name}){part}", item.kind);
        match item.kind.as_ref() {
            "Node" => nodes_raw.push(node(item, &what)?),
            "Pod" => {
                let spec: PodSpec = sub(item.spec, || what(".spec"))?;
                for c in spec.containers.iter().chain(&spec.init_containers) {
                    if let Some(image) = &c.image {
                        versions.note_image(image);
                    }
                    services
                        .command_line(c.command.iter().chain(&c.args).map(|a| a.as_ref()), name);
                }
                let status: PodStatus = sub(item.status, || what(".status"))?;
                let Some(node) = spec.node_name else {
                    pending += 1;
                    continue;
                };
                let mut ips = Vec::new();
                for s in status
                    .pod_ips
                    .iter()
                    .map(|p| p.ip.as_ref())
                    .chain(status.pod_ip.as_deref())
                {
                    let ip = parse_ip(s, &what(".status.podIPs"))?;
                    if !ips.contains(&ip) {
                        ips.push(ip);
                    }
                }
                pods.push(Pod {
                    namespace: item
                        .metadata
                        .namespace
                        .as_deref()
                        .unwrap_or("default")
                        .to_string(),
                    name: name.to_string(),
                    node: node.into_owned(),
                    ips,
                    host_network: spec.host_network,
                    mac: None,
                });
            }
            "IPPool" => {
                let spec: PoolSpec = sub(item.spec, || what(".spec"))?;
                if let Some(p) = pool(name, &spec, &what(""))? {
                    pools.push(p);
                }
            }
            "BlockAffinity" => {
                let spec: AffinitySpec = sub(item.spec, || what(".spec"))?;
                if spec.state.as_deref().is_none_or(|s| s == "confirmed") {
                    let cidr = canonical(parse_net(&spec.cidr, &what(".spec.cidr"))?);
                    affinities.push((spec.node.into_owned(), cidr));
                }
            }
            "Service" => services.service(
                item.metadata.namespace.as_deref().unwrap_or("default"),
                name,
                item.spec.map(RawValue::get),
                &what(""),
            )?,
            "EndpointSlice" => services.slice(
                item.metadata.namespace.as_deref().unwrap_or("default"),
                item.metadata.labels.service_name.as_deref(),
                item.endpoints.map(RawValue::get),
                item.ports.map(RawValue::get),
                &what(""),
            )?,
            // calico.yaml's ConfigMap: `calico_backend: bird` runs BIRD; `none` (canal) and
            // `vxlan` (calico-vxlan.yaml) run no BGP at all.
            "ConfigMap" if name == "calico-config" => {
                let data: HashMap<String, String> = sub(item.data, || what(".data"))?;
                if let Some(b) = data.get("calico_backend") {
                    calico_backend = Some(b.trim().to_ascii_lowercase());
                }
            }
            "ConfigMap" if name == "kube-flannel-cfg" => {
                let data: HashMap<String, String> = sub(item.data, || what(".data"))?;
                if let Some(t) = data.get("net-conf.json") {
                    net_conf = Some((t.clone(), what(".data[net-conf.json]")));
                }
            }
            _ => {}
        }
    }
    let mut assumptions = Vec::new();
    if pending > 0 {
        assumptions.push(format!(
            "{pending} pod(s) without a node (pending) left out"
        ));
    }
    let flannel = nodes_raw
        .iter()
        .any(|n| n.fl_backend.is_some() || n.fl_ip.is_some());
    let calico = nodes_raw.iter().any(|n| n.cal_addr.is_some());
    let mode = if calico && !flannel {
        let pools = if !pools.is_empty() {
            pools
        } else if !options.ippools.is_empty() {
            let mut all = Vec::new();
            for p in &options.ippools {
                let text = crate::input::read_to_string(p, "IPPool file", crate::input::MAX_SMALL)?;
                all.extend(parse_ippools(&text, &p.display().to_string())?);
            }
            all
        } else {
            assume_pools(&nodes_raw, &pods, &mut assumptions)
        };
        Mode::Calico(Calico {
            pools,
            bgp: match calico_backend.as_deref() {
                Some("none" | "vxlan") => Bgp::Off,
                Some(_) => Bgp::Mesh,
                // Without the ConfigMap: VXLAN tunnel addresses and no IPIP one suggest
                // calico-vxlan.yaml, which runs no BGP.
                None if nodes_raw.iter().any(|n| n.cal_vxlan)
                    && !nodes_raw
                        .iter()
                        .any(|n| n.cal_tunnel.is_some() && !n.cal_vxlan) =>
                {
                    Bgp::Off
                }
                None => Bgp::Mesh,
            },
            ipip_routes: RouteOwner::Bird,
            vxlan_vni: 4096,
            vxlan_port: 4789,
            vxlan_route_mtu: false,
            bird_metric: None,
            bird_src: false,
            workload_metric: None,
        })
    } else if flannel {
        let fl = match (&net_conf, &options.net_conf) {
            (_, Some(p)) => {
                let text = crate::input::read_to_string(p, "net-conf", crate::input::MAX_SMALL)?;
                parse_net_conf(&text, &p.display().to_string())?
            }
            (Some((text, what)), None) => parse_net_conf(text, what)?,
            (None, None) => assume_flannel(&nodes_raw, &mut assumptions)?,
        };
        let types: BTreeSet<&str> = nodes_raw
            .iter()
            .filter_map(|n| n.fl_backend.as_deref())
            .collect();
        if types.len() > 1 {
            assumptions.push(format!(
                "nodes disagree on flannel.alpha.coreos.com/backend-type ({}): mixed backends; flannel ignores leases of another type, netpath plans the net-conf backend everywhere",
                types.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        Mode::Flannel(fl)
    } else if let Some(p) = &options.net_conf {
        let text = crate::input::read_to_string(p, "net-conf", crate::input::MAX_SMALL)?;
        Mode::Flannel(parse_net_conf(&text, &p.display().to_string())?)
    } else {
        bail!(
            "{source}: cannot tell the CNI: no node has flannel.alpha.coreos.com/* or projectcalico.org/IPv4Address annotations ({} nodes). Pass --net-conf for Flannel, or dump the nodes with their annotations",
            nodes_raw.len()
        );
    };
    let mut cluster = build(
        nodes_raw,
        pods,
        mode,
        affinities,
        source,
        options,
        assumptions,
    )?;
    cluster.set_versions(versions);
    cluster.services = services.finish();
    Ok(cluster)
}

fn node(item: &Item, what: &dyn Fn(&str) -> String) -> anyhow::Result<RawNode> {
    let spec: NodeSpec = sub(item.spec, || what(".spec"))?;
    let status: NodeStatus = sub(item.status, || what(".status"))?;
    let a = &item.metadata.annotations;
    let mut internal_v4 = None;
    let mut internal_v6 = None;
    for ad in status.addresses.iter().filter(|a| a.ty == "InternalIP") {
        let ip = parse_ip(&ad.address, &what(".status.addresses[InternalIP]"))?;
        match ip {
            IpAddr::V4(_) if internal_v4.is_none() => internal_v4 = Some(ip),
            IpAddr::V6(_) if internal_v6.is_none() => internal_v6 = Some(ip),
            _ => {}
        }
    }
    let mut pod_cidrs = Vec::new();
    for c in spec
        .pod_cidrs
        .iter()
        .map(|c| c.as_ref())
        .chain(spec.pod_cidr.as_deref())
    {
        let net = canonical(parse_net(c, &what(".spec.podCIDRs"))?);
        if !pod_cidrs.contains(&net) {
            pod_cidrs.push(net);
        }
    }
    let ann = |k: &str| what(&format!(" annotation {k}"));
    let fl_ip = a
        .fl_public_ip_overwrite
        .as_deref()
        .or(a.fl_public_ip.as_deref())
        .map(|s| parse_ip(s, &ann("flannel.alpha.coreos.com/public-ip")))
        .transpose()?;
    let fl_data = match a.fl_backend_data.as_deref() {
        None | Some("null") | Some("") => None,
        Some(s) => Some(serde_json::from_str::<BackendData>(s).map_err(|e| {
            anyhow!(
                "{}: {e} (expected {{\"VNI\":1,\"VtepMAC\":\"…\"}})",
                ann("flannel.alpha.coreos.com/backend-data")
            )
        })?),
    };
    let cal_addr = a
        .cal_ipv4
        .as_deref()
        .map(|s| parse_net(s, &ann("projectcalico.org/IPv4Address")))
        .transpose()?;
    let cal_vxlan_ip = a
        .cal_vxlan
        .as_deref()
        .map(|s| parse_ip(s, &ann("projectcalico.org/IPv4VXLANTunnelAddr")))
        .transpose()?;
    let cal_ipip_ip = a
        .cal_ipip
        .as_deref()
        .map(|s| parse_ip(s, &ann("projectcalico.org/IPv4IPIPTunnelAddr")))
        .transpose()?;
    let cal_mac = a
        .cal_vxlan_mac
        .as_deref()
        .map(|s| {
            s.parse::<MacAddr>()
                .with_context(|| ann("projectcalico.org/VXLANTunnelMACAddr"))
        })
        .transpose()?;
    Ok(RawNode {
        name: item.metadata.name.to_string(),
        internal_v4,
        internal_v6,
        pod_cidrs,
        fl_ip,
        fl_backend: a.fl_backend_type.as_deref().map(str::to_string),
        fl_data,
        cal_addr,
        cal_vxlan: cal_vxlan_ip.is_some(),
        cal_tunnel: cal_vxlan_ip.or(cal_ipip_ip),
        cal_ipip_ip,
        cal_vxlan_ip,
        cal_mac,
    })
}

fn assume_flannel(nodes: &[RawNode], assumptions: &mut Vec<String>) -> anyhow::Result<Flannel> {
    let ty = nodes
        .iter()
        .find_map(|n| n.fl_backend.clone())
        .unwrap_or_else(|| "vxlan".into());
    let vni = nodes
        .iter()
        .find_map(|n| n.fl_data.as_ref().and_then(|d| d.vni))
        .unwrap_or(1);
    let first = nodes
        .iter()
        .flat_map(|n| n.pod_cidrs.iter())
        .find(|c| c.is_ipv4())
        .ok_or_else(|| anyhow!("no net-conf (kube-flannel-cfg ConfigMap or --net-conf) and no node has a pod CIDR: cannot tell flannel's Network"))?;
    let network = canonical(IpNetwork::new(first.network(), 16.min(first.prefix()))?);
    let backend = match ty.as_str() {
        "host-gw" => FlannelBackend::HostGw,
        "ipip" => FlannelBackend::Ipip {
            direct_routing: false,
        },
        "vxlan" => FlannelBackend::Vxlan {
            vni,
            port: 8472,
            direct_routing: false,
            learning: false,
        },
        other => bail!(
            "flannel backend-type {other:?} is not modelled (expected host-gw, vxlan or ipip)"
        ),
    };
    assumptions.push(format!(
        "no net-conf.json (kube-flannel-cfg ConfigMap or --net-conf): assumed Network {network}, backend {ty} from the node annotations{}",
        if ty == "vxlan" { format!(", VNI {vni}, port 8472, no DirectRouting") } else { String::new() }
    ));
    Ok(Flannel {
        network,
        backend,
        mtu: None,
    })
}

fn assume_pools(nodes: &[RawNode], pods: &[Pod], assumptions: &mut Vec<String>) -> Vec<IpPool> {
    let vxlan = nodes.iter().any(|n| n.cal_vxlan);
    let ipip = nodes.iter().any(|n| n.cal_tunnel.is_some() && !n.cal_vxlan);
    let seed = nodes
        .iter()
        .find_map(|n| n.cal_tunnel)
        .or_else(|| {
            pods.iter()
                .filter(|p| !p.host_network)
                .find_map(|p| p.ipv4().map(IpAddr::V4))
        })
        .unwrap_or_else(|| IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 0, 0)));
    let cidr = canonical(IpNetwork::new(seed, 16).unwrap_or_else(|_| IpNetwork::from(seed)));
    let (ipip_mode, vxlan_mode) = if vxlan {
        (EncapMode::Never, EncapMode::Always)
    } else if ipip {
        (EncapMode::Always, EncapMode::Never)
    } else {
        (EncapMode::Never, EncapMode::Never)
    };
    assumptions.push(format!(
        "no IPPool in the dump or --ippool: assumed pool {cidr} /26, ipipMode {ipip_mode}, vxlanMode {vxlan_mode} (from the nodes' tunnel-address annotations; CrossSubnet cannot be told from them)"
    ));
    vec![IpPool {
        name: "assumed".into(),
        cidr,
        block_size: 26,
        ipip: ipip_mode,
        vxlan: vxlan_mode,
        nat_outgoing: true,
    }]
}

fn build(
    raw: Vec<RawNode>,
    pods: Vec<Pod>,
    mode: Mode,
    affinities: Vec<(String, IpNetwork)>,
    source: &str,
    options: &Options,
    mut assumptions: Vec<String>,
) -> anyhow::Result<Cluster> {
    let calico = matches!(mode, Mode::Calico(_));
    let mut by_node: HashMap<String, Vec<IpNetwork>> = HashMap::new();
    for (n, c) in affinities {
        by_node.entry(n).or_default().push(c);
    }
    let have_affinities = !by_node.is_empty();
    if calico && !have_affinities {
        // Blocks from where the pods' and tunnel addresses are.
        let Mode::Calico(c) = &mode else {
            unreachable!()
        };
        let size_of = |ip: IpAddr| {
            c.pools
                .iter()
                .find(|p| p.cidr.contains(ip))
                .map(|p| p.block_size)
                .unwrap_or(26)
        };
        for p in pods.iter().filter(|p| !p.host_network) {
            if let Some(ip) = p.ipv4().map(IpAddr::V4) {
                if let Ok(b) = IpNetwork::new(ip, size_of(ip)) {
                    let e = by_node.entry(p.node.clone()).or_default();
                    let b = canonical(b);
                    if !e.contains(&b) {
                        e.push(b);
                    }
                }
            }
        }
        for n in &raw {
            if let Some(t) = n.cal_tunnel {
                if let Ok(b) = IpNetwork::new(t, size_of(t)) {
                    let e = by_node.entry(n.name.clone()).or_default();
                    let b = canonical(b);
                    if !e.contains(&b) {
                        e.push(b);
                    }
                }
            }
        }
        assumptions.push("no BlockAffinities in the dump: each node's IPAM blocks taken from its pods' and tunnel addresses (borrowed IPs look like blocks)".into());
    }
    let mut nodes = Vec::new();
    let mut guessed_mask = 0usize;
    let mut skipped = Vec::new();
    for n in raw {
        let address = match (calico, n.cal_addr, n.fl_ip.or(n.internal_v4)) {
            (true, Some(a), _) if a.is_ipv4() => a,
            (_, _, Some(ip)) if ip.is_ipv4() => {
                match options.underlay.iter().find(|u| u.contains(ip)) {
                    Some(u) => IpNetwork::new(ip, u.prefix())?,
                    None => {
                        guessed_mask += 1;
                        IpNetwork::new(ip, 24)?
                    }
                }
            }
            _ => {
                skipped.push(n.name.clone());
                continue;
            }
        };
        let pod_cidrs = if calico {
            by_node.remove(&n.name).unwrap_or_default()
        } else {
            n.pod_cidrs.clone()
        };
        nodes.push(Node {
            name: n.name,
            address,
            address_v6: n.internal_v6.and_then(|ip| IpNetwork::new(ip, 64).ok()),
            iface: "eth0".into(),
            mtu: 1500,
            gateway: None,
            pod_cidrs,
            ipip_tunnel_ip: n.cal_ipip_ip,
            vxlan_tunnel_ip: n.cal_vxlan_ip,
            vtep_mac: n.cal_mac.or_else(|| {
                n.fl_data
                    .as_ref()
                    .and_then(|d| d.vtep_mac.as_deref())
                    .and_then(|m| m.parse().ok())
            }),
        });
    }
    if !skipped.is_empty() {
        assumptions.push(format!(
            "{} node(s) without an IPv4 address left out (IPv6-only is not planned): {}",
            skipped.len(),
            skipped
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if guessed_mask > 0 {
        assumptions.push(format!(
            "{guessed_mask} node address(es) carry no subnet mask and are outside --underlay: assumed /24 (L2 adjacency decides host-gw, DirectRouting and CrossSubnet; pass --underlay CIDR,… to say)"
        ));
    }
    if nodes.is_empty() {
        bail!("{source}: no node with an IPv4 address");
    }
    assumptions.push("each node's uplink assumed to be eth0 with MTU 1500".into());
    let underlay = underlay_of(&mut nodes, ", which does not peer BGP", &mut assumptions)?;
    let known: BTreeSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    let before = pods.len();
    let pods: Vec<Pod> = pods
        .into_iter()
        .filter(|p| known.contains(p.node.as_str()))
        .collect();
    if pods.len() < before {
        assumptions.push(format!(
            "{} pod(s) on nodes not in the dump left out",
            before - pods.len()
        ));
    }
    let name = Path::new(source)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| source.to_string());
    Cluster::new(name, source, None, mode, nodes, pods, underlay, assumptions)
}

/// Write a synthetic but realistic kubectl List (nodes with Calico VXLAN annotations and
/// BlockAffinities, pods with the usual metadata, spec and status) for benchmarks.
pub fn write_synthetic(out: &mut dyn Write, nodes: usize, pods: usize) -> std::io::Result<()> {
    writeln!(out, "{{\n  \"apiVersion\": \"v1\",\n  \"items\": [")?;
    let mut first = true;
    let mut sep = |out: &mut dyn Write| -> std::io::Result<()> {
        if !first {
            out.write_all(b",\n")?;
        }
        first = false;
        Ok(())
    };
    writeln!(
        out,
        r#"    {{"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {{"name": "default-ipv4-ippool"}}, "spec": {{"blockSize": 24, "cidr": "10.0.0.0/8", "ipipMode": "Never", "natOutgoing": true, "nodeSelector": "all()", "vxlanMode": "CrossSubnet"}}}},"#
    )?;
    for n in 0..nodes {
        sep(out)?;
        let (s, h) = (n / 250, n % 250 + 2);
        let blk = format!("10.{}.{}", n / 256, n % 256);
        write!(
            out,
            r#"    {{"apiVersion": "v1", "kind": "Node", "metadata": {{"annotations": {{"node.alpha.kubernetes.io/ttl": "0", "projectcalico.org/IPv4Address": "172.16.{s}.{h}/24", "projectcalico.org/IPv4VXLANTunnelAddr": "{blk}.0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}}, "creationTimestamp": "2024-05-01T10:00:00Z", "labels": {{"beta.kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "node-{n}", "kubernetes.io/os": "linux", "topology.kubernetes.io/zone": "zone-{s}"}}, "name": "node-{n}", "resourceVersion": "{rv}", "uid": "6a0c{n:08x}-1f2e-4d5c-9b8a-{n:012x}"}}, "spec": {{"podCIDR": "10.250.{}.0/24"}}, "status": {{"addresses": [{{"address": "172.16.{s}.{h}", "type": "InternalIP"}}, {{"address": "node-{n}", "type": "Hostname"}}], "allocatable": {{"cpu": "7910m", "ephemeral-storage": "95551679124", "memory": "31615836Ki", "pods": "110"}}, "conditions": [{{"lastHeartbeatTime": "2024-05-02T10:00:00Z", "message": "kubelet is posting ready status", "reason": "KubeletReady", "status": "True", "type": "Ready"}}], "images": [{{"names": ["docker.io/calico/node@sha256:{n:064x}", "docker.io/calico/node:v3.27.0"], "sizeBytes": 117000000}}], "nodeInfo": {{"architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.13", "kernelVersion": "6.1.0-18-amd64", "kubeletVersion": "v1.29.2", "osImage": "Debian GNU/Linux 12 (bookworm)"}}}}}}"#,
            n % 256,
            rv = 1000 + n
        )?;
        sep(out)?;
        write!(
            out,
            r#"    {{"apiVersion": "crd.projectcalico.org/v1", "kind": "BlockAffinity", "metadata": {{"name": "node-{n}-{}-0-24"}}, "spec": {{"cidr": "{blk}.0/24", "deleted": "false", "node": "node-{n}", "state": "confirmed"}}}}"#,
            blk.replace('.', "-")
        )?;
    }
    for p in 0..pods {
        sep(out)?;
        let n = p % nodes.max(1);
        let k = p / nodes.max(1) + 1;
        write!(
            out,
            r#"    {{"apiVersion": "v1", "kind": "Pod", "metadata": {{"annotations": {{"cni.projectcalico.org/containerID": "{p:064x}", "cni.projectcalico.org/podIP": "10.{}.{}.{k}/32", "cni.projectcalico.org/podIPs": "10.{}.{}.{k}/32"}}, "creationTimestamp": "2024-05-01T11:00:00Z", "generateName": "app-{}-", "labels": {{"app": "app-{}", "pod-template-hash": "7d9f8c6b5"}}, "managedFields": [{{"apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {{"f:metadata": {{"f:generateName": {{}}, "f:labels": {{".": {{}}, "f:app": {{}}}}}}, "f:spec": {{"f:containers": {{"k:{{\"name\":\"app\"}}": {{".": {{}}, "f:image": {{}}}}}}}}}}, "manager": "kube-controller-manager", "operation": "Update", "time": "2024-05-01T11:00:00Z"}}], "name": "app-{}-{p:x}", "namespace": "ns-{}", "ownerReferences": [{{"apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true, "kind": "ReplicaSet", "name": "app-{}-7d9f8c6b5", "uid": "0b1c{p:08x}-aaaa-bbbb-cccc-{p:012x}"}}], "resourceVersion": "{}", "uid": "9f8e{p:08x}-1111-2222-3333-{p:012x}"}}, "spec": {{"containers": [{{"image": "registry.example.com/app:1.2.3", "imagePullPolicy": "IfNotPresent", "name": "app", "ports": [{{"containerPort": 8080, "protocol": "TCP"}}], "resources": {{"limits": {{"memory": "256Mi"}}, "requests": {{"cpu": "100m", "memory": "128Mi"}}}}, "volumeMounts": [{{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access", "readOnly": true}}]}}], "dnsPolicy": "ClusterFirst", "nodeName": "node-{n}", "restartPolicy": "Always", "schedulerName": "default-scheduler", "serviceAccountName": "default", "volumes": [{{"name": "kube-api-access", "projected": {{"defaultMode": 420}}}}]}}, "status": {{"conditions": [{{"lastTransitionTime": "2024-05-01T11:00:05Z", "status": "True", "type": "Ready"}}], "containerStatuses": [{{"containerID": "containerd://{p:064x}", "image": "registry.example.com/app:1.2.3", "name": "app", "ready": true, "restartCount": 0, "started": true, "state": {{"running": {{"startedAt": "2024-05-01T11:00:04Z"}}}}}}], "hostIP": "172.16.{}.{}", "phase": "Running", "podIP": "10.{}.{}.{k}", "podIPs": [{{"ip": "10.{}.{}.{k}"}}], "qosClass": "Burstable", "startTime": "2024-05-01T11:00:00Z"}}}}"#,
            n / 256,
            n % 256,
            n / 256,
            n % 256,
            p % 97,
            p % 97,
            p % 97,
            p % 13,
            p % 97,
            5000 + p,
            n / 250,
            n % 250 + 2,
            n / 256,
            n % 256,
            n / 256,
            n % 256
        )?;
    }
    writeln!(
        out,
        "\n  ],\n  \"kind\": \"List\",\n  \"metadata\": {{\"resourceVersion\": \"\"}}\n}}"
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_dump_round_trips() {
        let mut buf = Vec::new();
        write_synthetic(&mut buf, 300, 900).unwrap();
        let c = parse(&buf, "gen.json", &Options::default()).unwrap();
        assert_eq!((c.nodes.len(), c.pods.len()), (300, 900));
        let Mode::Calico(cal) = &c.mode else {
            panic!("calico")
        };
        assert_eq!(cal.pools[0].vxlan, EncapMode::CrossSubnet);
        assert_eq!(c.nodes[299].pod_cidrs[0].to_string(), "10.1.43.0/24");
        assert_eq!(c.nodes[299].address.to_string(), "172.16.1.51/24");
        assert_eq!(
            c.underlay.routers.len(),
            1,
            "two subnets, one assumed router"
        );
    }

    /// Nodes of a cluster with an IPIP pool and a VXLAN pool carry both tunnel addresses;
    /// each is kept for its own device.
    #[test]
    fn both_tunnel_annotations_are_kept() {
        let dump = br#"{"kind": "List", "items": [
          {"kind": "IPPool", "metadata": {"name": "ipip"}, "spec": {"cidr": "10.65.0.0/17", "ipipMode": "Always", "vxlanMode": "Never", "blockSize": 26}},
          {"kind": "IPPool", "metadata": {"name": "vx"}, "spec": {"cidr": "10.65.128.0/17", "ipipMode": "Never", "vxlanMode": "Always", "blockSize": 26}},
          {"kind": "Node", "metadata": {"name": "n1", "annotations": {"projectcalico.org/IPv4Address": "192.168.1.11/24", "projectcalico.org/IPv4IPIPTunnelAddr": "10.65.0.1", "projectcalico.org/IPv4VXLANTunnelAddr": "10.65.128.3"}}},
          {"kind": "BlockAffinity", "metadata": {"name": "n1-10-65-0-0-26"}, "spec": {"cidr": "10.65.0.0/26", "node": "n1", "state": "confirmed"}},
          {"kind": "BlockAffinity", "metadata": {"name": "n1-10-65-128-0-26"}, "spec": {"cidr": "10.65.128.0/26", "node": "n1", "state": "confirmed"}}
        ]}"#;
        let c = parse(dump, "dump.json", &Options::default()).unwrap();
        let n = &c.nodes[0];
        assert_eq!(n.ipip_tunnel_ip, Some("10.65.0.1".parse().unwrap()));
        assert_eq!(n.vxlan_tunnel_ip, Some("10.65.128.3".parse().unwrap()));
    }

    #[test]
    fn errors_name_item_and_field() {
        let bad = br#"{"items": [{"kind": "Node", "metadata": {"name": "n1", "annotations": {"projectcalico.org/IPv4Address": "10.0.0.300/24"}}}]}"#;
        let e = format!(
            "{:#}",
            parse(bad, "dump.json", &Options::default()).unwrap_err()
        );
        assert!(
            e.contains("dump.json: items[0] (Node n1) annotation projectcalico.org/IPv4Address"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            parse(b"{\"items\": [", "dump.json", &Options::default()).unwrap_err()
        );
        assert!(e.contains("dump.json") && e.contains("line 1"), "{e}");
    }
}
