//! What flanneld creates on a node (`pkg/backend/{vxlan,ipip,hostgw}`): the VXLAN devices
//! `flannel.<VNI>` and `flannel-v6.<VNI>`, the IPIP device `flannel.ipip`, their VTEP MAC
//! and the MTU it hands pods (`FLANNEL_MTU` in `/run/flannel/subnet.env`).

use crate::dataplane::MacAddr;
use crate::model::{Flannel, FlannelBackend, Node};
use crate::wire;

/// The name pattern of flanneld's devices (`flannel.1`, `flannel.ipip`).
pub const DEV_PATTERN: &str = "flannel.*";

/// The name pattern of flanneld's IPv6 VXLAN devices (`flannel-v6.1`).
pub const DEV_V6_PATTERN: &str = "flannel-v6.*";

/// The IPIP backend's device (`ipip.go`: `flannel.ipip`, an iptun with local = the
/// interface address).
pub const IPIP_DEV: &str = "flannel.ipip";

/// The VXLAN port flanneld leaves unset, so the kernel's 8472 applies (`vxlan.go`, `Port`
/// 0).
pub const VXLAN_PORT: u16 = wire::vxlan::PORT_LINUX;

/// The default VNI (`vxlan.go`: `defaultVNI = 1`).
pub const VXLAN_VNI: u32 = 1;

/// The VXLAN device name of a VNI (`vxlan.go`: `fmt.Sprintf("flannel.%v", cfg.VNI)`).
pub fn vxlan_dev(vni: u32) -> String {
    format!("flannel.{vni}")
}

/// The IPv6 VXLAN device name of a VNI (`vxlan.go`: `flannel-v6.%v`, with `EnableIPv6`).
pub fn vxlan_v6_dev(vni: u32) -> String {
    format!("flannel-v6.{vni}")
}

/// True for a name flanneld gives its devices (`flannel.*`, `flannel-v6.*`).
pub fn is_device(name: &str) -> bool {
    super::name_matches(DEV_PATTERN, name) || super::name_matches(DEV_V6_PATTERN, name)
}

/// Flannel's VTEP MAC: the `backend-data` VtepMAC if known (kube mode re-uses the stored
/// one, `vxlan.go:190-200`); flannel otherwise picks a random locally administered unicast
/// MAC, for which netpath derives a stable one from sha1("flannel:" + node name) with the
/// same bits set.
pub fn vtep_mac(node: &Node) -> MacAddr {
    node.vtep_mac
        .unwrap_or_else(|| super::derived_mac("flannel:", &node.name))
}

/// Flannel's MTU for pods and cni0 (`FLANNEL_MTU`): the backend's MTU (or the underlay
/// MTU) minus the backend's overhead: VXLAN [`super::VXLAN_OVERHEAD`], IPIP
/// [`super::IPIP_OVERHEAD`], host-gw nothing.
pub fn mtu(fl: &Flannel, node: &Node) -> u32 {
    let ext = fl.mtu.unwrap_or(node.mtu);
    match fl.backend {
        FlannelBackend::HostGw => ext,
        FlannelBackend::Vxlan { .. } => super::under_vxlan(ext),
        FlannelBackend::Ipip { .. } => super::under_ipip(ext),
    }
}

/// The MTU of the `flannel.ipip` device: the uplink's minus [`super::IPIP_OVERHEAD`]
/// (`ipip.go`).
pub fn ipip_dev_mtu(node: &Node) -> u32 {
    super::under_ipip(node.mtu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names() {
        assert_eq!(vxlan_dev(1), "flannel.1");
        assert_eq!(vxlan_v6_dev(4), "flannel-v6.4");
        assert!(is_device("flannel.ipip"));
        assert!(is_device("flannel-v6.1"));
        assert!(!is_device("flannel"));
    }
}
