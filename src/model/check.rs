//! Clusters that contradict themselves: what no working cluster can hold is refused (two
//! nodes with one address, two pods with one name, a pod network of every address, a VNI or
//! device name Linux refuses); what breaks only part of it is named as a warning (shared or
//! overlapping pod CIDRs, node addresses inside the pod network, a pod address outside its
//! node's pod CIDR or shared by two pods, a pod CIDR's broadcast address handed to a pod,
//! a route reflector that is no node). Nothing is silently planned around.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use anyhow::bail;
use ipnetwork::IpNetwork;

use super::{Bgp, Cluster, FlannelBackend, Mode, canonical};

/// The largest VXLAN network identifier (24 bits).
pub const MAX_VNI: u32 = (1 << 24) - 1;

/// The longest device name Linux accepts (IFNAMSIZ − 1).
pub const MAX_IFNAME: usize = 15;

/// Refuse what no working cluster can hold.
pub(super) fn refuse(c: &Cluster) -> anyhow::Result<()> {
    let mut by_ip: HashMap<IpAddr, &str> = HashMap::with_capacity(c.nodes.len());
    for n in &c.nodes {
        if let Some(other) = by_ip.insert(n.ip(), &n.name) {
            bail!(
                "nodes {other} and {} both have address {}: one address cannot be two nodes (fix the node addresses)",
                n.name,
                n.ip()
            );
        }
        if n.iface.len() > MAX_IFNAME {
            bail!(
                "node {}: uplink {:?} is {} characters long; Linux allows {MAX_IFNAME} (IFNAMSIZ)",
                n.name,
                n.iface,
                n.iface.len()
            );
        }
    }
    let mut keys: HashMap<(&str, &str), ()> = HashMap::with_capacity(c.pods.len());
    for p in &c.pods {
        if keys
            .insert((p.namespace.as_str(), p.name.as_str()), ())
            .is_some()
        {
            bail!(
                "pod {} is listed twice: namespace/name is unique in a cluster",
                p.key()
            );
        }
    }
    match &c.mode {
        Mode::Flannel(fl) => {
            if fl.network.prefix() == 0 {
                bail!(
                    "the flannel Network is {}: a pod network of every address leaves nothing outside the cluster (flannel's Network is a private range such as 10.244.0.0/16)",
                    fl.network
                );
            }
            if let FlannelBackend::Vxlan { vni, .. } = fl.backend {
                vni_fits(vni, "flannel's VNI")?;
                let dev = format!("flannel.{vni}");
                if dev.len() > MAX_IFNAME {
                    bail!(
                        "flannel's VXLAN device would be {dev}, {} characters: Linux allows {MAX_IFNAME} (IFNAMSIZ), so flanneld cannot create it (use a VNI below 10000000)",
                        dev.len()
                    );
                }
            }
        }
        Mode::Calico(cal) => {
            if let Some(p) = cal.pools.iter().find(|p| p.cidr.prefix() == 0) {
                bail!(
                    "Calico pool {} is {}: a pod network of every address leaves nothing outside the cluster",
                    p.name,
                    p.cidr
                );
            }
            if cal.uses_vxlan() {
                vni_fits(cal.vxlan_vni, "Calico's VXLAN VNI")?;
            }
            if let Bgp::RouteReflectors(rr) = &cal.bgp {
                if !rr.iter().any(|r| c.node_index(r).is_some()) {
                    bail!(
                        "route reflectors {} name no node of the cluster: no node reflects routes, so no node learns another's blocks",
                        rr.join(", ")
                    );
                }
            }
        }
    }
    Ok(())
}

fn vni_fits(vni: u32, what: &str) -> anyhow::Result<()> {
    if vni > MAX_VNI {
        bail!("{what} {vni} is out of range: a VNI has 24 bits (0–{MAX_VNI})");
    }
    Ok(())
}

/// What breaks part of the cluster, one sentence each (the cluster is indexed).
pub(super) fn warnings(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    let pod_nets: Vec<IpNetwork> = match &c.mode {
        Mode::Flannel(fl) => vec![fl.network],
        Mode::Calico(cal) => cal.pools.iter().map(|p| p.cidr).collect(),
    };
    // Pod CIDRs: shared or overlapping (sorted by start, each against the widest before).
    let mut cidrs: Vec<(IpNetwork, &str)> = c
        .nodes
        .iter()
        .flat_map(|n| {
            n.pod_cidrs
                .iter()
                .filter(|p| p.is_ipv4())
                .map(move |p| (canonical(*p), n.name.as_str()))
        })
        .collect();
    cidrs.sort_by_key(|(n, _)| (v4(n.network()), n.prefix()));
    let mut widest: Option<(IpNetwork, &str)> = None;
    for &(net, node) in &cidrs {
        if let Some((w, wnode)) = widest {
            if w.contains(net.network()) {
                if w == net {
                    out.push(format!(
                        "nodes {wnode} and {node} both have pod CIDR {net}: each routes it to itself, so pods on one are unreachable from the other"
                    ));
                } else {
                    out.push(format!(
                        "pod CIDRs overlap: {wnode}'s {w} contains {node}'s {net}; the longer prefix wins on every node, so part of {wnode}'s pods are unreachable"
                    ));
                }
                continue;
            }
        }
        widest = Some((net, node));
    }
    for n in &c.nodes {
        if let Some(net) = pod_nets.iter().find(|p| p.contains(n.ip())) {
            out.push(format!(
                "node {}'s address {} is inside the pod network {net}: the pod routes capture traffic to the node",
                n.name,
                n.ip()
            ));
        }
    }
    // Pods: addresses shared, outside their node's pod CIDR (Flannel; Calico borrows), a
    // pod CIDR's broadcast address.
    let mut by_ip: HashMap<Ipv4Addr, usize> = HashMap::with_capacity(c.pods.len());
    let flannel = matches!(c.mode, Mode::Flannel(_));
    for (i, p) in c.pods.iter().enumerate() {
        let (false, Some(ip)) = (p.host_network, p.ipv4()) else {
            continue;
        };
        if let Some(&j) = by_ip.get(&ip) {
            out.push(format!(
                "pods {} and {} both have address {ip}: a trace to {ip} is ambiguous, and on the nodes one of them is unreachable",
                c.pods[j].key(),
                p.key()
            ));
            continue;
        }
        by_ip.insert(ip, i);
        let Some(node) = c.node(&p.node) else {
            continue;
        };
        let ip = IpAddr::V4(ip);
        let cidr = node.pod_cidrs.iter().find(|n| n.contains(ip));
        match cidr {
            None if flannel && node.pod_cidr_v4().is_some() => out.push(format!(
                "pod {}'s address {ip} is outside its node {}'s pod CIDR {}: the bridge cni0 does not reach it and other nodes route it elsewhere",
                p.key(),
                node.name,
                node.pod_cidr_v4().map(|n| n.to_string()).unwrap_or_default()
            )),
            None if !flannel && !pod_nets.iter().any(|n| n.contains(ip)) => out.push(format!(
                "pod {}'s address {ip} is in no Calico pool: no node has a route to it",
                p.key()
            )),
            Some(n) if flannel && n.prefix() < 31 && (n.broadcast() == ip || n.network() == ip) => {
                let which = if n.broadcast() == ip {
                    "broadcast"
                } else {
                    "network"
                };
                out.push(format!(
                    "pod {} has {ip}, the {which} address of {}'s pod CIDR {n}: host-local never hands it out, and the kernel treats it as {which}, not as a pod",
                    p.key(),
                    node.name
                ));
            }
            _ => {}
        }
    }
    if let Mode::Calico(cal) = &c.mode {
        if let Bgp::RouteReflectors(rr) = &cal.bgp {
            for r in rr.iter().filter(|r| c.node_index(r).is_none()) {
                out.push(format!("route reflector {r} is not a node of the cluster"));
            }
        }
    }
    out
}

fn v4(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(_) => 0,
    }
}
