//! Random clusters for the plan's property tests and the walks over planned worlds.

use crate::model::Cluster;

/// Every mode, working or not, and whether the router between the subnets peers BGP.
pub(crate) const MODES: &[&str] = &[
    "{cni: flannel, backend: host-gw, network: 10.244.0.0/16}",
    "{cni: flannel, backend: vxlan, network: 10.244.0.0/16}",
    "{cni: flannel, backend: vxlan, network: 10.244.0.0/16, directRouting: true}",
    "{cni: flannel, backend: ipip, network: 10.244.0.0/16}",
    "{cni: flannel, backend: ipip, network: 10.244.0.0/16, directRouting: true}",
    "{cni: calico, encapsulation: none, pool: 10.65.0.0/16}",
    "{cni: calico, encapsulation: none, pool: 10.65.0.0/16, bgp: routers}",
    "{cni: calico, encapsulation: none, pool: 10.65.0.0/16, bgp: off}",
    "{cni: calico, encapsulation: ipip, pool: 10.65.0.0/16}",
    "{cni: calico, encapsulation: ipip, crossSubnet: true, pool: 10.65.0.0/16}",
    "{cni: calico, encapsulation: ipip, crossSubnet: true, pool: 10.65.0.0/16, ipipRoutes: felix}",
    "{cni: calico, encapsulation: vxlan, pool: 10.65.0.0/16, vxlanRouteMtu: true}",
    "{cni: calico, encapsulation: vxlan, crossSubnet: true, pool: 10.65.0.0/16}",
    "{cni: calico, pools: [{name: i, cidr: 10.65.0.0/17, ipipMode: CrossSubnet}, {name: v, cidr: 10.65.128.0/17, vxlanMode: Always, natOutgoing: true}]}",
];

/// A random cluster: nodes on three subnets (the router joins two of them, or all
/// three; an unowned gateway leads outside), Calico nodes with one or two blocks, pods
/// with assigned, borrowed (another node's block) and host-network addresses.
pub(crate) fn cluster_text(
    mode: usize,
    nodes: &[(usize, bool)],
    pods: &[(usize, u8)],
    bgp: bool,
    joined: usize,
) -> String {
    let calico = MODES[mode].contains("calico");
    let mut s = format!("mode: {}\nunderlay:\n  subnets:\n", MODES[mode]);
    for i in 0..3 {
        s += &format!("    - {{cidr: 192.168.{i}.0/24, gateway: 192.168.{i}.1}}\n");
    }
    let ifs: Vec<String> = (0..joined).map(|i| format!("192.168.{i}.1")).collect();
    s += &format!(
        "  routers:\n    - {{name: r, interfaces: [{}], bgp: {bgp}}}\nnodes:\n",
        ifs.join(", ")
    );
    for (n, (sub, two)) in nodes.iter().enumerate() {
        let cidrs = if calico {
            let extra = match (*two, MODES[mode].contains("pools")) {
                (_, true) => format!(", 10.65.{}.0/26", 128 + n),
                (true, false) => format!(", 10.65.{n}.64/26"),
                (false, false) => String::new(),
            };
            format!("blocks: [10.65.{n}.0/26{extra}]")
        } else {
            format!("podCIDR: 10.244.{n}.0/24")
        };
        s += &format!(
            "  - {{name: n{n}, ip: 192.168.{sub}.{}, {cidrs}}}\n",
            10 + n
        );
    }
    s += "pods:\n";
    for (i, (node, kind)) in pods.iter().enumerate() {
        let node = node % nodes.len();
        match kind {
            0 => s += &format!("  - default/p{i} n{node} hostNetwork\n"),
            // Borrowed: an address in the next node's block (Calico), else assigned.
            1 if calico => {
                let other = (node + 1) % nodes.len();
                s += &format!("  - default/p{i} n{node} 10.65.{other}.{}\n", 40 + i)
            }
            _ => s += &format!("  - default/p{i} n{node}\n"),
        }
    }
    s
}

/// Break the cluster in ways real inputs are broken: a node without its tunnel address,
/// a node without a pod CIDR, two nodes claiming one pod CIDR.
pub(crate) fn damage(c: &mut Cluster, how: u8) {
    let n = c.nodes.len();
    match how {
        1 => {
            c.nodes[n - 1].vxlan_tunnel_ip = None;
            c.nodes[n - 1].ipip_tunnel_ip = None;
        }
        2 => c.nodes[n - 1].pod_cidrs.clear(),
        3 => c.nodes[n - 1].pod_cidrs = c.nodes[0].pod_cidrs.clone(),
        _ => {}
    }
    c.reindex();
}
