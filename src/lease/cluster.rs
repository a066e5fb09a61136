//! Leases → [`Cluster`]: one node per lease (its public IP, its subnet, its VTEP MAC), the
//! mode from the network config's backend. Leases carry no node name, so nodes are named
//! by their public IP unless a name is given for it; no pods (etcd does not know them).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use anyhow::bail;
use ipnetwork::IpNetwork;

use super::{Lease, NetConfig};
use crate::model::{Cluster, Mode, Node, underlay_of};

/// What the leases do not say.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where the leases were read (`etcd:http://…/coreos.com/network`).
    pub source: String,
    /// Underlay subnets: a public IP inside one gets its mask (else /24 is assumed).
    pub underlay: Vec<IpNetwork>,
    /// Node names by public IP (the agent's own `--node`).
    pub names: BTreeMap<Ipv4Addr, String>,
    /// Uplink name (`eth0` when not given).
    pub iface: Option<String>,
    /// Uplink MTU (1500 when not given).
    pub mtu: Option<u32>,
}

/// Build the cluster the leases describe.
pub fn to_cluster<'a>(
    config: &NetConfig,
    leases: impl IntoIterator<Item = &'a Lease>,
    options: &Options,
) -> anyhow::Result<Cluster> {
    let mut assumptions = Vec::new();
    let mut nodes: Vec<Node> = Vec::new();
    let mut other_backend: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut outside = Vec::new();
    let mut duplicate = Vec::new();
    let mut guessed_mask = 0usize;
    let mut seen_ip = BTreeSet::new();
    for l in leases {
        if l.attrs.backend_type != config.backend_type {
            other_backend
                .entry(if l.attrs.backend_type.is_empty() {
                    "(none)".to_string()
                } else {
                    l.attrs.backend_type.clone()
                })
                .or_default()
                .push(l.subnet.to_string());
            continue;
        }
        if !config.network.contains(l.subnet.network())
            || l.subnet.prefix() < config.network.prefix()
        {
            outside.push(l.subnet.to_string());
            continue;
        }
        let ip = l.attrs.public_ip;
        if !seen_ip.insert(ip) {
            duplicate.push(format!("{} ({ip})", l.subnet));
            continue;
        }
        let ipa = IpAddr::V4(ip);
        let address = match options.underlay.iter().find(|u| u.contains(ipa)) {
            Some(u) => IpNetwork::new(ipa, u.prefix())?,
            None => {
                guessed_mask += 1;
                IpNetwork::new(ipa, 24)?
            }
        };
        nodes.push(Node {
            name: options
                .names
                .get(&ip)
                .cloned()
                .unwrap_or_else(|| ip.to_string()),
            address,
            address_v6: None,
            iface: options.iface.clone().unwrap_or_else(|| "eth0".into()),
            mtu: options.mtu.unwrap_or(1500),
            gateway: None,
            pod_cidrs: vec![IpNetwork::V4(l.subnet)],
            ipip_tunnel_ip: None,
            vxlan_tunnel_ip: None,
            vtep_mac: l.attrs.vtep_mac(),
        });
    }
    if nodes.is_empty() {
        bail!(
            "{}: no lease of backend {:?} in Network {} (flannel's nodes have not registered yet?)",
            options.source,
            config.backend_type,
            config.network
        );
    }
    if options.names.len() < nodes.len() {
        assumptions.push(
            "nodes are named by their public IP (flannel's etcd leases carry no node name)".into(),
        );
    }
    for (ty, subnets) in &other_backend {
        assumptions.push(format!(
            "{} lease(s) of backend {ty} left out ({}): a {} node ignores them",
            subnets.len(),
            subnets.join(", "),
            config.backend_type
        ));
    }
    if !outside.is_empty() {
        assumptions.push(format!(
            "{} lease(s) outside Network {} left out: {}",
            outside.len(),
            config.network,
            outside.join(", ")
        ));
    }
    if !duplicate.is_empty() {
        assumptions.push(format!(
            "lease(s) with a public IP already leased left out (two leases for one node): {}",
            duplicate.join(", ")
        ));
    }
    if guessed_mask > 0 {
        assumptions.push(format!(
            "{guessed_mask} public IP(s) carry no subnet mask and are outside --underlay: assumed /24 (L2 adjacency decides host-gw and DirectRouting; pass --underlay CIDR,… to say)"
        ));
    }
    if options.iface.is_none() || options.mtu.is_none() {
        assumptions.push(format!(
            "each node's uplink assumed to be {} with MTU {}",
            options.iface.as_deref().unwrap_or("eth0"),
            options.mtu.unwrap_or(1500)
        ));
    }
    let underlay = underlay_of(&mut nodes, "", &mut assumptions)?;
    let name = "etcd".to_string();
    Cluster::new(
        name,
        options.source.clone(),
        None,
        Mode::Flannel(config.flannel.clone()),
        nodes,
        Vec::new(),
        underlay,
        assumptions,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::LeaseAttrs;
    use crate::model::FlannelBackend;

    fn lease(subnet: &str, ip: [u8; 4], ty: &str, mac: Option<&str>) -> Lease {
        let subnet = subnet.parse().unwrap();
        Lease {
            subnet,
            subnet_v6: None,
            attrs: LeaseAttrs::new(Ipv4Addr::from(ip), ty, mac.map(|m| (1, m.parse().unwrap()))),
            key: format!(
                "/coreos.com/network/subnets/{}",
                crate::lease::subnet_key_name(&subnet, None)
            ),
            etcd_lease: 7,
            expires: None,
            create_revision: 2,
            mod_revision: 2,
        }
    }

    #[test]
    fn leases_become_nodes() {
        let cfg = NetConfig::parse(
            r#"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":1}}"#,
            "c",
        )
        .unwrap();
        let leases = [
            lease(
                "10.244.1.0/24",
                [192, 168, 1, 11],
                "vxlan",
                Some("02:00:00:00:00:0b"),
            ),
            lease(
                "10.244.2.0/24",
                [192, 168, 1, 12],
                "vxlan",
                Some("02:00:00:00:00:0c"),
            ),
            lease("10.244.3.0/24", [192, 168, 1, 13], "host-gw", None),
        ];
        let mut o = Options {
            source: "etcd:test".into(),
            underlay: vec!["192.168.1.0/24".parse().unwrap()],
            ..Options::default()
        };
        o.names
            .insert(Ipv4Addr::new(192, 168, 1, 11), "node-a".into());
        let c = to_cluster(&cfg, &leases, &o).unwrap();
        assert_eq!(c.nodes.len(), 2);
        let a = c.node("node-a").unwrap();
        assert_eq!(a.address.to_string(), "192.168.1.11/24");
        assert_eq!(a.vtep_mac.unwrap().to_string(), "02:00:00:00:00:0b");
        let b = c.node("192.168.1.12").unwrap();
        assert_eq!(b.pod_cidrs[0].to_string(), "10.244.2.0/24");
        assert!(matches!(
            &c.mode,
            Mode::Flannel(f) if matches!(f.backend, FlannelBackend::Vxlan { vni: 1, .. })
        ));
        assert!(
            c.assumptions
                .iter()
                .any(|a| a.contains("backend host-gw left out")),
            "{:?}",
            c.assumptions
        );
        // The plan of a node has a route to the other's subnet via flannel.1.
        let plan = crate::plan::node(&c, "node-a").unwrap();
        let text = format!("{plan:?}");
        assert!(text.contains("10.244.2.0"), "{text}");
        let e = to_cluster(&cfg, &leases[2..], &o).unwrap_err().to_string();
        assert!(e.contains("no lease of backend"), "{e}");
    }
}
