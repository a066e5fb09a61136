//! The names, addresses and sizes the CNIs give what they create: veth names, VTEP MACs,
//! pod MACs, MTUs, the Flannel VXLAN device. Kept together so the plan, the world and the
//! scene derive them the same way.

use crate::dataplane::MacAddr;
use crate::model::{Calico, Cluster, Flannel, FlannelBackend, Mode, Node, Pod};

/// The name of the host end of a pod's veth: Calico's `cali` + the first 11 hex digits of
/// sha1("namespace.name") (exact); Flannel's bridge plugin picks `veth` + 8 random hex
/// digits, for which netpath uses sha1("namespace/name") as a stable stand-in.
pub fn host_veth_name(cluster: &Cluster, pod: &Pod) -> String {
    match cluster.mode {
        Mode::Calico(_) => crate::pods::calico::veth_name(
            crate::pods::calico::DEFAULT_PREFIX,
            &pod.namespace,
            &pod.name,
        ),
        Mode::Flannel(_) => {
            let h = sha1_hex(&format!("{}/{}", pod.namespace, pod.name));
            format!("veth{}", &h[..8])
        }
    }
}

/// Calico's VXLAN VTEP MAC: `VXLANTunnelMACAddr` if set, else 0x66 followed by the first
/// five bytes of sha1(node name) (Felix `vxlan_resolver.go`).
pub fn calico_vtep_mac(node: &Node) -> MacAddr {
    node.vtep_mac.unwrap_or_else(|| {
        let d = sha1_smol::Sha1::from(node.name.as_bytes()).digest().bytes();
        MacAddr([0x66, d[0], d[1], d[2], d[3], d[4]])
    })
}

/// Flannel's VTEP MAC: the `backend-data` VtepMAC if known; flannel otherwise picks a
/// random locally administered unicast MAC, for which netpath derives a stable one from
/// sha1("flannel:" + node name) with the same bits set.
pub fn flannel_vtep_mac(node: &Node) -> MacAddr {
    node.vtep_mac
        .unwrap_or_else(|| derived_mac("flannel:", &node.name))
}

pub(super) fn derived_mac(salt: &str, name: &str) -> MacAddr {
    let d = sha1_smol::Sha1::from(format!("{salt}{name}").as_bytes())
        .digest()
        .bytes();
    MacAddr([(d[0] & 0xfe) | 0x02, d[1], d[2], d[3], d[4], d[5]])
}

pub(super) fn sha1_hex(s: &str) -> String {
    sha1_smol::Sha1::from(s.as_bytes()).digest().to_string()
}

/// A pod's MAC: the known one, else `0a:58:` + its IPv4 address (stable, unicast, local).
pub fn pod_mac(pod: &Pod) -> MacAddr {
    if let Some(m) = pod.mac {
        return m;
    }
    let o = pod.ipv4().map(|a| a.octets()).unwrap_or([0; 4]);
    MacAddr([0x0a, 0x58, o[0], o[1], o[2], o[3]])
}

/// Flannel's MTU for pods and cni0 (`FLANNEL_MTU`): the underlay MTU minus the backend's
/// overhead (VXLAN 50, IPIP 20, host-gw 0).
pub fn flannel_mtu(fl: &Flannel, node: &Node) -> u32 {
    let ext = fl.mtu.unwrap_or(node.mtu);
    match fl.backend {
        FlannelBackend::HostGw => ext,
        FlannelBackend::Vxlan { .. } => ext.saturating_sub(50),
        FlannelBackend::Ipip { .. } => ext.saturating_sub(20),
    }
}

/// Calico's pod MTU: the smallest over the enabled encapsulations (IPIP −20, VXLAN −50).
pub fn calico_pod_mtu(c: &Calico, node: &Node) -> u32 {
    let mut mtu = node.mtu;
    if c.uses_ipip() {
        mtu = mtu.min(node.mtu.saturating_sub(20));
    }
    if c.uses_vxlan() {
        mtu = mtu.min(node.mtu.saturating_sub(50));
    }
    mtu
}

/// The VXLAN device name of a Flannel VNI.
pub fn flannel_vxlan_dev(vni: u32) -> String {
    format!("flannel.{vni}")
}
