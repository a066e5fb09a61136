//! What Calico creates on a node: Felix's tunnels `tunl0` (IPIP) and `vxlan.calico` /
//! `vxlan-v6.calico` (VXLAN) with their VTEP MAC, the Calico CNI plugin's `cali…` veths
//! (name, host MAC, the pods' link-local gateway) and the pod MTU.
//!
//! Calico names a pod's host veth `<prefix>` + the first 11 hex digits of
//! sha1("<namespace>.<pod>"), 15 characters in all (IFNAMSIZ - 1) with the default prefix
//! `cali` (`FELIX_INTERFACEPREFIX`, its first comma-separated element).

use std::net::Ipv4Addr;

use crate::dataplane::MacAddr;
use crate::model::{Calico, Node};
use crate::wire;

/// Calico's default interface prefix (`FELIX_INTERFACEPREFIX=cali`).
pub const DEFAULT_PREFIX: &str = "cali";

/// The name pattern of the host ends of Calico's veths.
pub const VETH_PATTERN: &str = "cali*";

/// The IPIP device: the kernel's fallback tunnel, which Felix configures (`ipip_mgr.go`).
pub const IPIP_DEV: &str = "tunl0";

/// Felix's IPv4 VXLAN device (`dataplanedefs.VXLANIfaceNameV4`).
pub const VXLAN_DEV: &str = "vxlan.calico";

/// Felix's IPv6 VXLAN device (`dataplanedefs.VXLANIfaceNameV6`).
pub const VXLAN_V6_DEV: &str = "vxlan-v6.calico";

/// Felix's default VXLAN port, the IANA one (`VXLANPort` 4789).
pub const VXLAN_PORT: u16 = wire::vxlan::PORT_IANA;

/// Felix's default VNI (`VXLANVNI` 4096).
pub const VXLAN_VNI: u32 = 4096;

/// The MAC the Calico CNI plugin gives every host-side `cali` veth (`ee:ee:ee:ee:ee:ee`).
pub const HOST_VETH_MAC: MacAddr = MacAddr([0xee; 6]);

/// The address every Calico pod uses as its default gateway; never assigned anywhere, the
/// host answers ARP for it by proxy ARP on the pod's `cali` veth.
pub const POD_GATEWAY: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 1);

/// The host veth name Calico gives pod `namespace/pod` with `prefix`.
pub fn veth_name(prefix: &str, namespace: &str, pod: &str) -> String {
    let digest = super::sha1_hex(&format!("{namespace}.{pod}"));
    format!("{prefix}{}", &digest[..11])
}

/// True for the host end of a Calico pod's veth (`cali…`, the default prefix).
pub fn is_veth(name: &str) -> bool {
    super::name_matches(VETH_PATTERN, name)
}

/// The first element of a `FELIX_INTERFACEPREFIX`-style list (`cali,tap` → `cali`).
pub fn first_prefix(list: &str) -> &str {
    list.split(',').next().unwrap_or(list).trim()
}

/// Calico's VXLAN VTEP MAC: `VXLANTunnelMACAddr` if set, else 0x66 followed by the first
/// five bytes of sha1(node name) (Felix `vxlan_resolver.go`, `vtepMACForHost`).
pub fn vtep_mac(node: &Node) -> MacAddr {
    node.vtep_mac.unwrap_or_else(|| {
        let d = sha1_smol::Sha1::from(node.name.as_bytes()).digest().bytes();
        MacAddr([0x66, d[0], d[1], d[2], d[3], d[4]])
    })
}

/// The MTU of `tunl0` and of Felix's IPIP routes (`IPIPMTU`): the node's minus
/// [`super::IPIP_OVERHEAD`].
pub fn ipip_mtu(node: &Node) -> u32 {
    super::under_ipip(node.mtu)
}

/// The MTU of `vxlan.calico` and of its routes (`VXLANMTU`): the node's minus
/// [`super::VXLAN_OVERHEAD`].
pub fn vxlan_mtu(node: &Node) -> u32 {
    super::under_vxlan(node.mtu)
}

/// Calico's pod MTU: the smallest over the enabled encapsulations ([`ipip_mtu`],
/// [`vxlan_mtu`]).
pub fn pod_mtu(c: &Calico, node: &Node) -> u32 {
    let mut mtu = node.mtu;
    if c.uses_ipip() {
        mtu = mtu.min(ipip_mtu(node));
    }
    if c.uses_vxlan() {
        mtu = mtu.min(vxlan_mtu(node));
    }
    mtu
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_veth_names() {
        // Values from the reference (computed with sha1sum).
        assert_eq!(
            veth_name("cali", "default", "nginx-7f456874f4-5xc59"),
            "cali7a673551ccb"
        );
        assert_eq!(veth_name("cali", "default", "nginx"), "calic440f455693");
        assert_eq!(
            veth_name("cali", "kube-system", "coredns-5d78c9869d-abcde"),
            "cali4d5f75c480c"
        );
        assert_eq!(veth_name("tap", "default", "nginx").len(), 14);
        assert_eq!(first_prefix("cali,tap"), "cali");
        assert_eq!(first_prefix("cali"), "cali");
    }
}
