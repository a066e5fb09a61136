//! A node's whole dataplane: what it has, or what it should have.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Addr, FdbEntry, Link, Neighbour, Route, Rule};

/// The forwarding-relevant sysctls.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sysctls {
    /// `net.ipv4.ip_forward`.
    pub ip_forward: Option<bool>,
    /// `net.ipv6.conf.all.forwarding`.
    #[serde(default)]
    pub ipv6_forwarding: Option<bool>,
    /// `net.ipv4.conf.<dev>.forwarding`, per device (and `all`, `default`).
    #[serde(default)]
    pub forwarding: BTreeMap<String, bool>,
    /// `net.ipv4.conf.<dev>.rp_filter`: 0 off, 1 strict, 2 loose.
    #[serde(default)]
    pub rp_filter: BTreeMap<String, u8>,
    /// `net.ipv4.conf.<dev>.proxy_arp`.
    #[serde(default)]
    pub proxy_arp: BTreeMap<String, bool>,
}

/// A node's dataplane: devices, addresses, routes, neighbours, FDB and sysctls.
///
/// The same type whatever the source: live netlink, a snapshot file, offline text,
/// or the plan computed from a cluster description.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NodeState {
    /// The node's name.
    pub node: String,
    /// Devices.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Addresses.
    #[serde(default)]
    pub addrs: Vec<Addr>,
    /// Routes of every table.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Policy routing rules (empty means the kernel's three defaults were not recorded).
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Neighbour entries.
    #[serde(default)]
    pub neighbours: Vec<Neighbour>,
    /// Bridge/VXLAN FDB entries.
    #[serde(default)]
    pub fdb: Vec<FdbEntry>,
    /// Forwarding sysctls.
    #[serde(default)]
    pub sysctls: Sysctls,
}

impl NodeState {
    /// The device with this name.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }
}
