//! The difference between what a node should have (the plan) and what it has, scoped by
//! ownership: findings for `check`, and the ordered change list the agent applies.
//!
//! Pure: two [`NodeState`]s in, a [`Diff`] out. Ownership decides what is "ours":
//! - for `check` ([`Ownership::cni`]): routes with the CNI's protocol numbers (from the plan,
//!   plus the agent's), on the CNI's devices (`flannel.*`, `vxlan.calico`, `tunl0`, `cali*`,
//!   `cni0` …), or with proto boot inside the pod networks; everything else is *foreign*:
//!   listed, never wrong (unless it overlaps a planned prefix);
//! - for the agent ([`Ownership::agent`]): only routes with its own protocol number, and the
//!   neighbours, FDB entries and addresses of the devices it manages (those the plan creates).

pub mod check;
pub mod cluster;
mod entries;
pub mod facts;
pub mod finding;
mod links;
mod routes;
mod sysctls;

use std::collections::{BTreeSet, HashSet};

use ipnetwork::IpNetwork;

use crate::dataplane::change;
pub use change::{Change, Phase, effective_metric, route_args, vxlan_port};
pub use finding::{Finding, FindingKind, Severity};

use entries::{diff_fdb, diff_neighbours};
use links::{diff_addrs, diff_links};
use routes::diff_routes;
use sysctls::diff_sysctls;

use crate::cni::{self, name_matches};
use crate::dataplane::{LinkKind, NodeState, Protocol, Route, Table};

/// A set of routes by (table, destination), hashed with a fast hasher: the diff keeps one
/// entry per route, up to 100,000 of them (the keys come from the node and the plan, not
/// from the network).
pub type RouteKeys = HashSet<(Table, IpNetwork), foldhash::fast::RandomState>;

/// The agent's default route protocol number: 158 (0x9e), unused by iproute2's
/// `rt_protos`, the kernel, BIRD (12), Felix (80) and the routing daemons (186-192).
pub const AGENT_PROTO: Protocol = Protocol(158);

/// The pod networks of a cluster (Flannel's `Network`, Calico's pools): routes with proto
/// boot inside them are the CNI's (Flannel host-gw programs exactly those).
pub fn pod_networks(cluster: &crate::model::Cluster) -> Vec<ipnetwork::IpNetwork> {
    match &cluster.mode {
        crate::model::Mode::Flannel(f) => vec![f.network],
        crate::model::Mode::Calico(c) => c.pools.iter().map(|p| p.cidr).collect(),
    }
}

/// Who the diff works for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `check`: report, change nothing.
    Check,
    /// The agent: produce changes, touching only what it owns.
    Agent {
        /// Take over foreign entries that conflict with the plan.
        adopt: bool,
    },
}

/// What is ours on a node: which routes, neighbours, FDB entries and devices.
#[derive(Debug, Clone)]
pub struct Ownership {
    /// Who the diff works for.
    pub role: Role,
    /// The agent's route protocol number (its routes are always ours).
    pub agent_proto: Protocol,
    /// Route protocols whose routes are ours (besides `agent_proto`).
    pub route_protocols: BTreeSet<Protocol>,
    /// Routes out of these devices are ours (patterns, see [`name_matches`]).
    pub route_devices: Vec<String>,
    /// Routes with proto boot inside these networks are ours (Flannel host-gw).
    pub route_networks: Vec<IpNetwork>,
    /// Devices whose neighbours, FDB entries and addresses are ours.
    pub devices: Vec<String>,
    /// Devices the writer may create, recreate and fix (the plan's vxlan, bridge, ipip).
    pub managed_links: BTreeSet<String>,
    /// The CNI's version is not known, so neither is the shape its daemons give a route:
    /// a route that differs from the plan only in what versions disagree on (metric, `src`,
    /// proto bird or Felix's 80, a tunnel route's MTU) is a note, never a fix.
    pub shape_unknown: bool,
}

/// True for kinds of device the agent creates itself (veths and physical devices come
/// from the CNI plugin and the machine).
pub fn creatable(kind: &LinkKind) -> bool {
    matches!(
        kind,
        LinkKind::Vxlan(_) | LinkKind::Bridge | LinkKind::Ipip { .. } | LinkKind::Other { .. }
    )
}

impl Ownership {
    /// Ownership as `check` sees it: the CNI's protocols and devices (and the agent's
    /// protocol), from the plan and the well-known names.
    pub fn cni(plan: &NodeState, agent_proto: Protocol, networks: Vec<IpNetwork>) -> Ownership {
        let route_protocols = plan
            .routes
            .iter()
            .map(|r| r.proto)
            .filter(|p| ![Protocol::KERNEL, Protocol::BOOT, Protocol::UNSPEC].contains(p))
            .collect();
        let mut devices: Vec<String> = cni::DEVICES.iter().map(|s| s.to_string()).collect();
        for l in &plan.links {
            if creatable(&l.kind) && !devices.iter().any(|p| name_matches(p, &l.name)) {
                devices.push(l.name.clone());
            }
        }
        Ownership {
            role: Role::Check,
            agent_proto,
            route_protocols,
            route_devices: devices.clone(),
            route_networks: networks,
            devices,
            managed_links: BTreeSet::new(),
            shape_unknown: false,
        }
    }

    /// Ownership as the agent sees it: routes with its protocol; the neighbours, FDB
    /// entries and addresses of the devices the plan creates.
    pub fn agent(plan: &NodeState, agent_proto: Protocol, adopt: bool) -> Ownership {
        let managed: BTreeSet<String> = plan
            .links
            .iter()
            .filter(|l| creatable(&l.kind))
            .map(|l| l.name.clone())
            .collect();
        Ownership {
            role: Role::Agent { adopt },
            agent_proto,
            route_protocols: BTreeSet::new(),
            route_devices: Vec::new(),
            route_networks: Vec::new(),
            devices: managed.iter().cloned().collect(),
            managed_links: managed,
            shape_unknown: false,
        }
    }

    /// True when the route is ours.
    pub fn owns_route(&self, r: &Route) -> bool {
        if r.proto == self.agent_proto || self.route_protocols.contains(&r.proto) {
            return true;
        }
        if self.acting().is_some() {
            // The agent's routes carry its protocol; nothing else is its own.
            return false;
        }
        if r.proto == Protocol::KERNEL {
            return false;
        }
        let on_owned_dev = r.nexthops.iter().any(|h| {
            h.dev
                .as_deref()
                .is_some_and(|d| self.route_devices.iter().any(|p| name_matches(p, d)))
        });
        on_owned_dev
            || (r.proto == Protocol::BOOT
                && self
                    .route_networks
                    .iter()
                    .any(|n| n.prefix() <= r.dst.prefix() && n.contains(r.dst.network())))
    }

    /// True when a planned route is one the CNI programs (and so the agent does): on a CNI
    /// or managed device, inside the pod networks, of a dropping type, or with a CNI
    /// protocol. Not the machine's own routes: its default gateway, its subnets.
    pub fn cni_route(&self, r: &Route) -> bool {
        let on_cni_dev = r.nexthops.iter().any(|h| {
            h.dev
                .as_deref()
                .is_some_and(|d| self.managed_links.contains(d) || cni::is_device(d))
        });
        if r.proto == Protocol::KERNEL {
            return on_cni_dev;
        }
        if on_cni_dev || r.kind.drops() || [Protocol::BIRD, Protocol::FELIX].contains(&r.proto) {
            return true;
        }
        if self.route_networks.is_empty() {
            // Without the pod networks: everything but a default route.
            return r.dst.prefix() > 0;
        }
        self.route_networks
            .iter()
            .any(|n| n.prefix() <= r.dst.prefix() && n.contains(r.dst.network()))
    }

    /// The same ownership, knowing the cluster's pod networks.
    pub fn with_networks(mut self, networks: Vec<IpNetwork>) -> Ownership {
        self.route_networks = networks;
        self
    }

    /// True when the neighbours, FDB entries and addresses of this device are ours.
    pub fn owns_device(&self, name: &str) -> bool {
        self.devices.iter().any(|p| name_matches(p, name))
    }

    fn acting(&self) -> Option<bool> {
        match self.role {
            Role::Agent { adopt } => Some(adopt),
            Role::Check => None,
        }
    }
}

/// The result of a diff.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// Every difference, in plan order: devices, addresses, neighbours, FDB, routes,
    /// sysctls, then what the node has beyond the plan.
    pub findings: Vec<Finding>,
    /// The agent's changes, in apply order (see [`Phase`]). Empty for `check`.
    pub changes: Vec<Change>,
    /// Indexes into `findings` of the problems no change addresses (foreign conflicts,
    /// devices the CNI plugin must create …).
    pub untouched: Vec<usize>,
    /// The routes (table, destination) the findings are about: after applying, only these
    /// need checking again (see [`diff_scoped`]).
    pub route_keys: RouteKeys,
}

impl Diff {
    /// True when a finding is an error or a warning.
    pub fn has_problems(&self) -> bool {
        self.findings.iter().any(|f| f.severity.is_problem())
    }

    /// [`Diff::push`] with at most one change (no vector to allocate: the agent pushes one
    /// per missing route).
    fn push_one(&mut self, finding: Finding, change: Option<Change>) {
        if change.is_none() && finding.severity.is_problem() {
            self.untouched.push(self.findings.len());
        }
        self.findings.push(finding);
        self.changes.extend(change);
    }

    fn push(&mut self, finding: Finding, changes: Vec<Change>) {
        if changes.is_empty() && finding.severity.is_problem() {
            self.untouched.push(self.findings.len());
        }
        self.findings.push(finding);
        self.changes.extend(changes);
    }
}

/// Compare a node's plan (`expected`) with its state (`actual`).
///
/// For the agent, planned routes are marked with its protocol (except proto kernel ones,
/// which follow from addresses), and changes come out ordered so live traffic always
/// has a route.
pub fn diff(expected: &NodeState, actual: &NodeState, own: &Ownership) -> Diff {
    diff_scoped(expected, actual, own, None)
}

/// [`diff`], looking only at the routes whose (table, destination) is in `routes` when
/// given (everything else in full). The agent verifies a pass this way: the routes that
/// matched before it applied anything are not compared again.
pub fn diff_scoped(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    routes: Option<&RouteKeys>,
) -> Diff {
    let mut d = Diff::default();
    let recreated = diff_links(expected, actual, own, &mut d);
    diff_addrs(expected, actual, own, &recreated, &mut d);
    diff_neighbours(expected, actual, own, &recreated, &mut d);
    diff_fdb(expected, actual, own, &recreated, &mut d);
    diff_routes(expected, actual, own, &recreated, routes, &mut d);
    diff_sysctls(expected, actual, own, &mut d);
    d.changes.sort_by_key(Change::phase);
    d
}

#[cfg(test)]
mod tests;
