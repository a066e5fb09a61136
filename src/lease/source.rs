//! The agent's plan from etcd: this node's lease plus everybody else's, planned as a
//! cluster; the plan changes when a lease comes, goes or changes.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use anyhow::{Context, bail};
use ipnetwork::IpNetwork;

use super::cluster::{self, to_cluster};
use super::manager::{Change, Manager, Request};
use crate::dataplane::NodeState;

/// This node's uplink as found in its network namespace: the device holding the public IP.
#[derive(Debug, Clone, PartialEq)]
pub struct Uplink {
    /// Device name (`eth0`).
    pub iface: String,
    /// Its MTU.
    pub mtu: u32,
    /// The public IP with its prefix (`192.168.1.11/24`).
    pub address: IpNetwork,
    /// The node's IPv4 default gateway, if it has one.
    pub gateway: Option<IpAddr>,
}

/// Find the device that holds `ip` in a node state.
pub fn uplink(state: &NodeState, ip: Ipv4Addr) -> anyhow::Result<Uplink> {
    let Some(addr) = state.addrs.iter().find(|a| a.addr.ip() == IpAddr::V4(ip)) else {
        bail!(
            "no device holds the public IP {ip} here (addresses: {})",
            state
                .addrs
                .iter()
                .filter(|a| a.addr.is_ipv4() && !a.addr.ip().is_loopback())
                .map(|a| format!("{} on {}", a.addr, a.dev))
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let mtu = state
        .links
        .iter()
        .find(|l| l.name == addr.dev)
        .map(|l| l.mtu)
        .unwrap_or(1500);
    let gateway = state
        .routes
        .iter()
        .filter(|r| {
            r.table == crate::dataplane::Table::MAIN && r.dst.is_ipv4() && r.dst.prefix() == 0
        })
        .find_map(|r| r.nexthops.first().and_then(|n| n.gateway));
    Ok(Uplink {
        iface: addr.dev.clone(),
        mtu,
        address: addr.addr,
        gateway,
    })
}

/// The plan of one node, from the leases in etcd, kept current by the lease [`Manager`].
pub struct LeasePlan {
    manager: RefCell<Manager>,
    node: String,
    uplink: Uplink,
    underlay: Vec<IpNetwork>,
    source: String,
    recent: RefCell<Vec<String>>,
}

impl LeasePlan {
    /// Plan `node` (public IP and uplink in `uplink`) from `manager`'s leases. With
    /// `acquire`, take (or reuse) this node's lease first; without, the node must already
    /// hold one (a dry run writes nothing).
    pub fn new(
        mut manager: Manager,
        node: &str,
        uplink: Uplink,
        underlay: Vec<IpNetwork>,
        source: String,
        acquire: bool,
    ) -> anyhow::Result<LeasePlan> {
        let IpAddr::V4(public_ip) = uplink.address.ip() else {
            bail!("public IP {} is not IPv4", uplink.address);
        };
        let lease = if acquire {
            manager
                .acquire(Request {
                    public_ip,
                    vtep_mac: None,
                    previous_subnet: None,
                })
                .with_context(|| format!("acquiring a subnet lease for {public_ip} in {source}"))?
        } else {
            match manager
                .leases()
                .find(|l| l.attrs.public_ip == public_ip)
                .cloned()
            {
                Some(l) => l,
                None => bail!(
                    "{public_ip} holds no lease in {source} yet, and a dry run writes nothing: run the agent with --once or --watch to acquire one"
                ),
            }
        };
        let recent = vec![format!(
            "lease {} for {public_ip}{}",
            lease.subnet,
            lease
                .attrs
                .vtep_mac()
                .map(|m| format!(" (VTEP MAC {m})"))
                .unwrap_or_default()
        )];
        Ok(LeasePlan {
            manager: RefCell::new(manager),
            node: node.to_string(),
            uplink,
            underlay,
            source,
            recent: RefCell::new(recent),
        })
    }

    /// The pod networks (Flannel's Network).
    pub fn networks(&self) -> Vec<IpNetwork> {
        vec![self.manager.borrow().config().flannel.network]
    }

    /// What the input is, with the lease changes that made it change last.
    pub fn describe(&self) -> String {
        let recent = self.recent.borrow();
        let m = self.manager.borrow();
        format!(
            "etcd leases {} node {} ({} leases, revision {}): {}",
            self.source,
            self.node,
            m.leases().count(),
            m.revision(),
            recent.join("; ")
        )
    }

    /// Follow etcd without blocking: true when the leases changed since the last look.
    /// Outages and returns are noted in [`LeasePlan::describe`] but change nothing: the
    /// last known leases (and so every programmed route) stay.
    pub fn changed(&self) -> bool {
        let changes = match self.manager.borrow_mut().poll(Duration::ZERO) {
            Ok(c) => c,
            Err(e) => {
                *self.recent.borrow_mut() = vec![format!("{e:#}")];
                return true;
            }
        };
        let mut lines = Vec::new();
        let mut replan = false;
        for c in changes {
            let (line, counts) = match c {
                Change::Added(l) => (format!("+{} ({})", l.subnet, l.attrs.public_ip), true),
                Change::Updated(l) => (format!("~{} ({})", l.subnet, l.attrs.public_ip), true),
                Change::Removed(l) => (format!("-{} ({})", l.subnet, l.attrs.public_ip), true),
                Change::Acquired(l) => (format!("acquired {}", l.subnet), true),
                Change::Lost(l) => (format!("lost {}, re-acquiring", l.subnet), true),
                Change::Relisted { compact_revision } => (
                    format!("watch behind compaction ({compact_revision}): re-listed"),
                    false,
                ),
                Change::Unreachable(e) => (
                    format!("etcd unreachable, keeping the known leases: {e}"),
                    false,
                ),
                Change::Reconnected => ("etcd reachable again: resynced".into(), false),
            };
            replan |= counts;
            lines.push(line);
        }
        if !lines.is_empty() {
            *self.recent.borrow_mut() = lines;
        }
        replan
    }

    /// Plan the node from the current leases.
    pub fn load(&self) -> anyhow::Result<NodeState> {
        let m = self.manager.borrow();
        let mut names = BTreeMap::new();
        if let IpAddr::V4(ip) = self.uplink.address.ip() {
            names.insert(ip, self.node.clone());
        }
        let mut underlay = self.underlay.clone();
        underlay.push(crate::model::canonical(self.uplink.address));
        let c = to_cluster(
            m.config(),
            m.leases(),
            &cluster::Options {
                source: self.source.clone(),
                underlay,
                names,
                iface: Some(self.uplink.iface.clone()),
                mtu: Some(self.uplink.mtu),
            },
        )?;
        let mut c = c;
        // This node's default gateway is what its kernel has, not an assumption.
        let own = self.node.clone();
        if let Some(n) = c.nodes.iter_mut().find(|n| n.name == own) {
            n.gateway = self.uplink.gateway;
        }
        Ok(crate::plan::node(&c, &self.node)?.state)
    }
}
