//! Network devices and their addresses.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use super::MacAddr;
use super::route::Scope;

/// A network device (`ip -d link`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Interface index (0 when unknown, e.g. in a plan before the device exists).
    pub ifindex: u32,
    /// Interface name (`eth0`, `flannel.1`, `cali…`).
    pub name: String,
    /// Kind and kind-specific data.
    pub kind: LinkKind,
    /// MTU.
    pub mtu: u32,
    /// Link-layer address, if the device has one.
    #[serde(default)]
    pub mac: Option<MacAddr>,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// Operational state as the kernel reports it (`up`, `down`, `unknown`, `lowerlayerdown` …).
    #[serde(default)]
    pub oper_state: Option<String>,
    /// The bridge (or other master) this device is enslaved to, by name.
    #[serde(default)]
    pub master: Option<String>,
    /// A bridge port's hairpin mode (`bridge_slave … hairpin on`, IFLA_BRPORT_MODE): whether
    /// the bridge sends a frame back out of the port it came in on, which a pod reaching
    /// itself through a Service needs. `None` when not a bridge port, or not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hairpin: Option<bool>,
}

impl Link {
    /// A device that is administratively up, as a plan describes it before it exists:
    /// no ifindex yet (0), no MAC, no operational state, no master.
    pub fn up(name: &str, kind: LinkKind, mtu: u32) -> Link {
        Link {
            ifindex: 0,
            name: name.to_string(),
            kind,
            mtu,
            mac: None,
            up: true,
            oper_state: None,
            master: None,
            hairpin: None,
        }
    }
}

/// Kind-specific data of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LinkKind {
    /// The loopback device.
    Loopback,
    /// A physical or otherwise plain Ethernet device (no `kind` in `ip -d link`).
    Device,
    /// One end of a veth pair.
    Veth(Veth),
    /// A VXLAN tunnel endpoint.
    Vxlan(Vxlan),
    /// A Linux bridge (`cni0`, `docker0`).
    Bridge,
    /// An IPIP tunnel (`tunl0`, `flannel.ipip`).
    Ipip {
        /// Local tunnel address, if set.
        local: Option<IpAddr>,
        /// Remote tunnel address, if set (unset for Calico's `tunl0`).
        remote: Option<IpAddr>,
    },
    /// Any other kind, by the name the kernel gives it.
    Other {
        /// `IFLA_INFO_KIND`.
        name: String,
    },
}

impl LinkKind {
    /// The kind as `ip -d link` names it (`veth`, `vxlan`, `bridge`, `ipip` …; `device` for none).
    pub fn name(&self) -> &str {
        match self {
            LinkKind::Loopback => "loopback",
            LinkKind::Device => "device",
            LinkKind::Veth(_) => "veth",
            LinkKind::Vxlan(_) => "vxlan",
            LinkKind::Bridge => "bridge",
            LinkKind::Ipip { .. } => "ipip",
            LinkKind::Other { name } => name,
        }
    }
}

/// The peer of a veth, as seen from this end.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Veth {
    /// `IFLA_LINK`: the peer's ifindex (in the peer's netns).
    pub peer_ifindex: Option<u32>,
    /// `IFLA_LINK_NETNSID`: the id, in this netns, of the netns the peer lives in.
    pub peer_netnsid: Option<i32>,
}

/// A VXLAN device's parameters (`ip -d link show flannel.1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vxlan {
    /// VNI (`id`): Flannel 1, Calico 4096.
    pub vni: u32,
    /// UDP destination port: Flannel leaves the kernel default 8472, Calico sets 4789.
    pub port: u16,
    /// Local (source) address of the encapsulation.
    pub local: Option<IpAddr>,
    /// Underlying device (`dev eth0`).
    pub dev: Option<String>,
    /// Whether the device learns remote MACs from received packets (both CNIs turn it off).
    pub learning: bool,
}

/// An address on a device (`ip addr`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Addr {
    /// The device name.
    pub dev: String,
    /// Address with prefix length (`10.244.1.0/32`).
    pub addr: IpNetwork,
    /// Scope.
    pub scope: Scope,
}
