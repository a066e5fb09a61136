//! Every Flannel and Calico fact netpath relies on, in one place: device names and what a
//! name says about a device, VTEP and pod MACs, veth names, MTU rules, the default VXLAN
//! ports and VNIs, and which devices the CNIs own.
//!
//! The facts are those of `shared/reference/cni-semantics.md` (upstream source cited per
//! item). The plan programs from them, `check` and the agent scope ownership with them,
//! `routes --explain` recognises devices by them, trace and decode size and name
//! encapsulations with them. `cni` sits low: it reads `wire` (header sizes), `dataplane`
//! and `model` types, and nothing above.
//!
//! - [`flannel`]: flanneld's devices (`flannel.<VNI>`, `flannel-v6.<VNI>`, `flannel.ipip`),
//!   its VTEP MAC and MTU;
//! - [`calico`]: Felix's and the Calico CNI plugin's devices (`tunl0`, `vxlan.calico`,
//!   `cali…`), its VTEP MAC, veth naming, pod gateway and MTU;
//! - [`bridge`]: what the `bridge` CNI plugin (used by Flannel) owns: `cni0` and the pods'
//!   host veths.

pub mod bridge;
pub mod calico;
pub mod flannel;

use crate::dataplane::MacAddr;
use crate::model::{Cluster, Mode, Pod};
use crate::wire;

/// What VXLAN over an IPv4 underlay costs a packet: outer Ethernet 14 + IPv4 20 + UDP 8 +
/// VXLAN 8 (Flannel `vxlan.go` and Felix both subtract 50 from the uplink MTU).
pub const VXLAN_OVERHEAD: u32 = wire::vxlan::OVERHEAD_V4 as u32;

/// What IPIP costs a packet: the outer IPv4 header (Flannel `ipip.go`, Felix `IPIPMTU`).
pub const IPIP_OVERHEAD: u32 = wire::ipip::OVERHEAD_V4 as u32;

/// The MTU left inside a VXLAN device over a device of MTU `mtu`.
pub fn under_vxlan(mtu: u32) -> u32 {
    mtu.saturating_sub(VXLAN_OVERHEAD)
}

/// The MTU left inside an IPIP device over a device of MTU `mtu`.
pub fn under_ipip(mtu: u32) -> u32 {
    mtu.saturating_sub(IPIP_OVERHEAD)
}

/// Which CNI a device belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cni {
    /// Flannel: flanneld's devices and the bridge plugin's `cni0`.
    Flannel,
    /// Calico: Felix's tunnels and the Calico CNI plugin's veths.
    Calico,
}

/// What a CNI device does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A VXLAN tunnel endpoint (`flannel.1`, `vxlan.calico`, their IPv6 twins).
    Vxlan,
    /// An IPIP tunnel (`flannel.ipip`, `tunl0`).
    Ipip,
    /// The host end of a pod's veth (`cali…`).
    Veth,
    /// The pods' bridge (`cni0`).
    Bridge,
}

/// A device a CNI creates, as its name tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// Whose device it is.
    pub cni: Cni,
    /// What it does.
    pub role: Role,
}

/// The CNI and role a device name has, if any: `flannel.<VNI>` / `flannel-v6.<VNI>`
/// (VXLAN) and `flannel.ipip`; `vxlan.calico` / `vxlan-v6.calico`, `tunl0` and `cali*`;
/// `cni0`. Names alone: a device renamed or of another kind is judged by its caller.
pub fn device(name: &str) -> Option<Device> {
    let (cni, role) = if flannel::is_device(name) {
        let role = if name == flannel::IPIP_DEV {
            Role::Ipip
        } else {
            Role::Vxlan
        };
        (Cni::Flannel, role)
    } else if name == calico::VXLAN_DEV || name == calico::VXLAN_V6_DEV {
        (Cni::Calico, Role::Vxlan)
    } else if name == calico::IPIP_DEV {
        (Cni::Calico, Role::Ipip)
    } else if name.starts_with(calico::DEFAULT_PREFIX) {
        (Cni::Calico, Role::Veth)
    } else if name == bridge::BRIDGE {
        (Cni::Flannel, Role::Bridge)
    } else {
        return None;
    };
    Some(Device { cni, role })
}

/// True for a CNI's tunnel device (`flannel.1`, `flannel-v6.1`, `flannel.ipip`,
/// `vxlan.calico`, `vxlan-v6.calico`, `tunl0`): the devices that lower a pod's MTU.
pub fn is_tunnel(name: &str) -> bool {
    device(name).is_some_and(|d| matches!(d.role, Role::Vxlan | Role::Ipip))
}

/// The devices Flannel and Calico create or own, as name patterns (`*` ends a prefix, see
/// [`name_matches`]); the same names [`device`] recognises.
pub const DEVICES: &[&str] = &[
    flannel::DEV_PATTERN,
    flannel::DEV_V6_PATTERN,
    calico::VXLAN_DEV,
    calico::VXLAN_V6_DEV,
    calico::IPIP_DEV,
    calico::VETH_PATTERN,
    bridge::BRIDGE,
];

/// True when `name` matches `pattern` (exact, or a prefix when the pattern ends in `*`).
pub fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// True when a CNI creates or owns a device of this name (one of [`DEVICES`]).
pub fn is_device(name: &str) -> bool {
    DEVICES.iter().any(|p| name_matches(p, name))
}

/// Which CNI a VXLAN port and VNI pair is the default of: Flannel (8472, VNI 1) or
/// Calico (4789, VNI 4096).
pub fn cni_hint(port: u16, vni: u32) -> Option<&'static str> {
    if port == flannel::VXLAN_PORT && vni == flannel::VXLAN_VNI {
        Some("flannel")
    } else if port == calico::VXLAN_PORT && vni == calico::VXLAN_VNI {
        Some("calico")
    } else {
        None
    }
}

/// The name of the host end of a pod's veth: Calico's [`calico::veth_name`] with the
/// default prefix, or the bridge plugin's [`bridge::host_veth_name`] under Flannel.
pub fn host_veth_name(cluster: &Cluster, pod: &Pod) -> String {
    match cluster.mode {
        Mode::Calico(_) => calico::veth_name(calico::DEFAULT_PREFIX, &pod.namespace, &pod.name),
        Mode::Flannel(_) => bridge::host_veth_name(pod),
    }
}

/// A pod's MAC: the known one, else `0a:58:` + its IPv4 address, as the CNI plugins' old
/// `hwaddr.GenerateHardwareAddr4` made it (stable, unicast, locally administered).
pub fn pod_mac(pod: &Pod) -> MacAddr {
    if let Some(m) = pod.mac {
        return m;
    }
    let o = pod.ipv4().map(|a| a.octets()).unwrap_or([0; 4]);
    MacAddr([0x0a, 0x58, o[0], o[1], o[2], o[3]])
}

/// Six bytes made a locally administered unicast MAC (the I/G bit cleared, the U/L bit
/// set), as flannel makes its random VTEP MAC (`vxlan_network.go` via `hwaddr`).
pub fn local_unicast(mut b: [u8; 6]) -> MacAddr {
    b[0] = (b[0] & 0xfe) | 0x02;
    MacAddr(b)
}

/// A stable stand-in for a MAC a CNI picks at random: [`local_unicast`] over the first six
/// bytes of sha1(salt + name).
pub fn derived_mac(salt: &str, name: &str) -> MacAddr {
    let d = sha1_smol::Sha1::from(format!("{salt}{name}").as_bytes())
        .digest()
        .bytes();
    local_unicast([d[0], d[1], d[2], d[3], d[4], d[5]])
}

fn sha1_hex(s: &str) -> String {
    sha1_smol::Sha1::from(s.as_bytes()).digest().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_tell_cni_and_role() {
        let d = |n| device(n).map(|d| (d.cni, d.role));
        assert_eq!(d("flannel.1"), Some((Cni::Flannel, Role::Vxlan)));
        assert_eq!(d("flannel-v6.1"), Some((Cni::Flannel, Role::Vxlan)));
        assert_eq!(d("flannel.ipip"), Some((Cni::Flannel, Role::Ipip)));
        assert_eq!(d("vxlan.calico"), Some((Cni::Calico, Role::Vxlan)));
        assert_eq!(d("vxlan-v6.calico"), Some((Cni::Calico, Role::Vxlan)));
        assert_eq!(d("tunl0"), Some((Cni::Calico, Role::Ipip)));
        assert_eq!(d("cali29f56ea1abf"), Some((Cni::Calico, Role::Veth)));
        assert_eq!(d("cni0"), Some((Cni::Flannel, Role::Bridge)));
        assert_eq!(d("eth0"), None);
        assert_eq!(d("lo"), None);
        assert!(is_tunnel("flannel.ipip") && is_tunnel("vxlan-v6.calico") && is_tunnel("tunl0"));
        assert!(!is_tunnel("cni0") && !is_tunnel("cali1") && !is_tunnel("eth0"));
    }

    #[test]
    fn device_patterns_agree_with_device() {
        for n in [
            "flannel.1",
            "flannel-v6.7",
            "flannel.ipip",
            "vxlan.calico",
            "vxlan-v6.calico",
            "tunl0",
            "cali1",
            "cni0",
            "eth0",
            "veth1234",
            "tunl1",
        ] {
            assert_eq!(is_device(n), device(n).is_some(), "{n}");
        }
    }

    #[test]
    fn name_matches_prefixes_and_exact_names() {
        assert!(name_matches("cali*", "cali123"));
        assert!(!name_matches("cni0", "cni01"));
        assert!(name_matches("cni0", "cni0"));
    }

    #[test]
    fn overheads_come_from_the_headers() {
        assert_eq!(VXLAN_OVERHEAD, 50);
        assert_eq!(IPIP_OVERHEAD, 20);
        assert_eq!(under_vxlan(1500), 1450);
        assert_eq!(under_ipip(1500), 1480);
        assert_eq!(under_vxlan(10), 0);
    }

    #[test]
    fn cni_hint_knows_the_defaults() {
        assert_eq!(cni_hint(8472, 1), Some("flannel"));
        assert_eq!(cni_hint(4789, 4096), Some("calico"));
        assert_eq!(cni_hint(4789, 1), None);
    }

    #[test]
    fn derived_macs_are_local_unicast() {
        let m = derived_mac("flannel:", "node-a");
        assert_eq!(m.0[0] & 0x03, 0x02);
    }
}
