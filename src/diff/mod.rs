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

pub mod change;
pub mod check;
pub mod cluster;
pub mod finding;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use ipnetwork::IpNetwork;

pub use change::{Change, Phase, effective_metric, route_args, vxlan_port};
pub use finding::{Finding, FindingKind, Severity};

use crate::dataplane::{
    Addr, Family, FdbEntry, Link, LinkKind, Neighbour, NodeState, NudState, Protocol, Route,
    RouteTable, RouteType, Table,
};

/// A set of routes by (table, destination), hashed with a fast hasher: the diff keeps one
/// entry per route, up to 100,000 of them (the keys come from the node and the plan, not
/// from the network).
pub type RouteKeys = HashSet<(Table, IpNetwork), foldhash::fast::RandomState>;

/// The agent's default route protocol number: 158 (0x9e), unused by iproute2's
/// `rt_protos`, the kernel, BIRD (12), Felix (80) and the routing daemons (186-192).
pub const AGENT_PROTO: Protocol = Protocol(158);

/// The devices Flannel and Calico create or own, as name patterns (`*` ends a prefix).
pub const CNI_DEVICES: &[&str] = &[
    "flannel.*",
    "flannel-v6.*",
    "vxlan.calico",
    "vxlan-v6.calico",
    "tunl0",
    "cali*",
    "cni0",
];

/// True when `name` matches `pattern` (exact, or a prefix when the pattern ends in `*`).
pub fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

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
        let mut devices: Vec<String> = CNI_DEVICES.iter().map(|s| s.to_string()).collect();
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
            h.dev.as_deref().is_some_and(|d| {
                self.managed_links.contains(d) || CNI_DEVICES.iter().any(|p| name_matches(p, d))
            })
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

fn device_object(name: &str) -> String {
    format!("device {name}")
}

fn link_text(l: &Link) -> String {
    change::link_add_command(l)
        .trim_start_matches("ip link add ")
        .to_string()
}

fn diff_links(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    d: &mut Diff,
) -> HashSet<String> {
    let mut recreated = HashSet::new();
    let acting = own.acting().is_some();
    for e in &expected.links {
        let managed = acting && own.managed_links.contains(&e.name);
        let Some(a) = actual.link(&e.name) else {
            let fix = if creatable(&e.kind) {
                vec![change::link_add_command(e)]
            } else {
                Vec::new()
            };
            let mut f = Finding::new(
                Severity::Error,
                FindingKind::Missing,
                device_object(&e.name),
            )
            .expected(link_text(e))
            .fix(fix);
            if !creatable(&e.kind) {
                f.actual = Some(format!(
                    "no such device ({} devices are made by the CNI plugin or the machine)",
                    e.kind.name()
                ));
            }
            let changes = if managed {
                vec![Change::CreateLink(e.clone())]
            } else {
                Vec::new()
            };
            d.push(f, changes);
            continue;
        };
        // Parameters that only recreating the device changes.
        let mut attrs: Vec<(&'static str, FindingKind)> = Vec::new();
        match (&e.kind, &a.kind) {
            (LinkKind::Vxlan(ev), LinkKind::Vxlan(av)) => {
                if ev.vni != av.vni {
                    attrs.push(("VNI", FindingKind::WrongVni));
                }
                if vxlan_port(ev.port) != vxlan_port(av.port) {
                    attrs.push(("port", FindingKind::WrongPort));
                }
                if ev.local.is_some() && ev.local != av.local {
                    attrs.push(("local", FindingKind::WrongLocal));
                }
                if ev.dev.is_some() && ev.dev != av.dev {
                    attrs.push(("underlying device", FindingKind::WrongUnderlay));
                }
                if !ev.learning && av.learning {
                    attrs.push(("learning", FindingKind::Learning));
                }
            }
            (
                LinkKind::Ipip {
                    local: el,
                    remote: er,
                },
                LinkKind::Ipip {
                    local: al,
                    remote: ar,
                },
            ) => {
                if el != al {
                    attrs.push(("local", FindingKind::WrongLocal));
                }
                if er != ar {
                    attrs.push(("remote", FindingKind::WrongLocal));
                }
            }
            // A plan's "device" is whatever the machine's uplink is (a NIC, a bond, a
            // veth in a lab): only kinds the CNI makes are checked.
            (LinkKind::Device | LinkKind::Loopback, _) => {}
            (ek, ak) if ek.name() != ak.name() => attrs.push(("kind", FindingKind::WrongKind)),
            _ => {}
        }
        if let Some(&(_, kind)) = attrs.first() {
            let fix = if creatable(&e.kind) {
                vec![
                    format!("ip link del {}", e.name),
                    change::link_add_command(e),
                ]
            } else {
                Vec::new()
            };
            let mut f = Finding::new(Severity::Error, kind, device_object(&e.name))
                .expected(link_text(e))
                .actual(link_text(a))
                .fix(fix);
            f.attributes = attrs.iter().map(|(w, _)| *w).collect();
            let changes = if managed {
                recreated.insert(e.name.clone());
                vec![
                    Change::DeleteLink {
                        name: e.name.clone(),
                    },
                    Change::CreateLink(e.clone()),
                ]
            } else {
                Vec::new()
            };
            d.push(f, changes);
            continue;
        }
        // Parameters fixed in place. The agent leaves the machine's devices alone.
        if acting && !managed {
            continue;
        }
        let mut attrs: Vec<(&'static str, FindingKind, Severity)> = Vec::new();
        let mtu = (e.mtu != 0 && e.mtu != a.mtu).then_some(e.mtu);
        if mtu.is_some() {
            attrs.push(("MTU", FindingKind::WrongMtu, Severity::Warning));
        }
        // The CNI sets the MAC of its tunnels and bridges; other MACs are the machine's.
        let mac = e.mac.filter(|m| creatable(&e.kind) && Some(*m) != a.mac);
        if mac.is_some() {
            attrs.push(("MAC", FindingKind::WrongMac, Severity::Error));
        }
        let master = e.master.clone().filter(|m| Some(m) != a.master.as_ref());
        if master.is_some() {
            attrs.push(("master", FindingKind::WrongMaster, Severity::Error));
        }
        let up = e.up && !a.up;
        if up {
            attrs.push(("up", FindingKind::Down, Severity::Error));
        }
        if attrs.is_empty() {
            continue;
        }
        let severity = attrs.iter().map(|a| a.2).min().unwrap_or(Severity::Warning);
        let change = Change::SetLink {
            name: e.name.clone(),
            mtu,
            mac,
            master,
            up,
        };
        let mut f = Finding::new(severity, attrs[0].1, device_object(&e.name))
            .expected(link_text(e))
            .actual(link_text(a))
            .fix(change.commands());
        f.attributes = attrs.iter().map(|a| a.0).collect();
        d.push(f, if managed { vec![change] } else { Vec::new() });
    }
    // CNI devices the plan does not have (a leftover flannel.1 on a Calico node …).
    // Only tunnels and bridges: veths come and go with pods; tunl0 appears by itself
    // whenever the ipip module is loaded.
    if own.acting().is_none() {
        for a in &actual.links {
            if expected.link(&a.name).is_none()
                && matches!(
                    a.kind,
                    LinkKind::Vxlan(_) | LinkKind::Bridge | LinkKind::Ipip { .. }
                )
                && a.name != "tunl0"
                && own.owns_device(&a.name)
            {
                let f = Finding::new(
                    Severity::Warning,
                    FindingKind::Unexpected,
                    device_object(&a.name),
                )
                .actual(link_text(a))
                .fix(vec![format!("ip link del {}", a.name)]);
                d.push(f, Vec::new());
            }
        }
    }
    recreated
}

fn addr_object(a: &Addr) -> String {
    format!("address {} dev {}", a.addr, a.dev)
}

fn addr_key(a: &Addr) -> (String, IpAddr, u8) {
    (a.dev.clone(), a.addr.ip(), a.addr.prefix())
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn diff_addrs(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    recreated: &HashSet<String>,
    d: &mut Diff,
) {
    let acting = own.acting().is_some();
    let have: HashSet<(String, IpAddr, u8)> = actual
        .addrs
        .iter()
        .filter(|a| !recreated.contains(&a.dev))
        .map(addr_key)
        .collect();
    let want: HashSet<(String, IpAddr, u8)> = expected.addrs.iter().map(addr_key).collect();
    for e in &expected.addrs {
        if have.contains(&addr_key(e)) {
            continue;
        }
        if acting && !own.managed_links.contains(&e.dev) {
            // The machine's own addresses (eth0) are not the agent's business.
            continue;
        }
        let change = Change::AddAddr(e.clone());
        let f = Finding::new(Severity::Error, FindingKind::Missing, addr_object(e))
            .expected(e.addr)
            .fix(change.commands());
        d.push(f, if acting { vec![change] } else { Vec::new() });
    }
    // Extra addresses on owned devices whose addresses the plan lists (Flannel and
    // Felix remove any other address from their tunnel device).
    let planned_devs: HashSet<&str> = expected.addrs.iter().map(|a| a.dev.as_str()).collect();
    for a in &actual.addrs {
        if recreated.contains(&a.dev)
            || want.contains(&addr_key(a))
            || is_link_local(&a.addr.ip())
            || !planned_devs.contains(a.dev.as_str())
            || !own.owns_device(&a.dev)
        {
            continue;
        }
        let change = Change::DeleteAddr(a.clone());
        let f = Finding::new(Severity::Warning, FindingKind::Unexpected, addr_object(a))
            .actual(a.addr)
            .fix(change.commands());
        d.push(f, if acting { vec![change] } else { Vec::new() });
    }
}

fn neigh_object(dst: &IpAddr, dev: &str) -> String {
    format!("neighbour {dst} dev {dev}")
}

fn neigh_text(n: &Neighbour) -> String {
    let mac = n
        .lladdr
        .map(|m| m.to_string())
        .unwrap_or_else(|| "(none)".into());
    format!("{} lladdr {mac} {:?}", n.dst, n.state).to_lowercase()
}

/// A planned neighbour or FDB entry the node lacks: an error, applied whenever the agent acts.
fn push_missing(d: &mut Diff, object: String, expected: String, change: Change, acting: bool) {
    let f = Finding::new(Severity::Error, FindingKind::Missing, object)
        .expected(expected)
        .fix(change.commands());
    d.push(f, if acting { vec![change] } else { Vec::new() });
}

/// How a neighbour or FDB entry the node has differs from the plan's: stale (it points
/// elsewhere) or not permanent where the plan is; `None` when it matches.
fn entry_drift(
    stale: bool,
    actual: NudState,
    expected: NudState,
) -> Option<(FindingKind, Severity)> {
    if stale {
        Some((FindingKind::Stale, Severity::Error))
    } else if actual != NudState::Permanent && expected == NudState::Permanent {
        Some((FindingKind::NotPermanent, Severity::Warning))
    } else {
        None
    }
}

/// A neighbour or FDB entry that differs from the plan (its expected and actual text), its
/// change applied when `act`.
fn push_drift(
    d: &mut Diff,
    (kind, severity): (FindingKind, Severity),
    object: String,
    (expected, actual): (String, String),
    change: Change,
    act: bool,
) {
    let f = Finding::new(severity, kind, object)
        .expected(expected)
        .actual(actual)
        .fix(change.commands());
    d.push(f, if act { vec![change] } else { Vec::new() });
}

fn diff_neighbours(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    recreated: &HashSet<String>,
    d: &mut Diff,
) {
    let adopt = own.acting();
    let have: HashMap<(&str, IpAddr), &Neighbour> = actual
        .neighbours
        .iter()
        .filter(|n| !recreated.contains(&n.dev))
        .map(|n| ((n.dev.as_str(), n.dst), n))
        .collect();
    let mut want = HashSet::new();
    for e in &expected.neighbours {
        want.insert((e.dev.as_str(), e.dst));
        let change = Change::ReplaceNeighbour(e.clone());
        let object = neigh_object(&e.dst, &e.dev);
        match have.get(&(e.dev.as_str(), e.dst)) {
            None => push_missing(d, object, neigh_text(e), change, adopt.is_some()),
            Some(a) => {
                let Some(drift) = entry_drift(a.lladdr != e.lladdr, a.state, e.state) else {
                    continue;
                };
                let owned = own.owns_device(&e.dev) || adopt == Some(true);
                let act = adopt.is_some() && (owned || a.state != NudState::Permanent);
                let texts = (neigh_text(e), neigh_text(a));
                push_drift(d, drift, object, texts, change, act);
            }
        }
    }
    // Permanent entries on owned devices that the plan no longer has: left behind for a
    // node that is gone (or a VTEP that moved).
    for a in &actual.neighbours {
        if a.state != NudState::Permanent
            || recreated.contains(&a.dev)
            || want.contains(&(a.dev.as_str(), a.dst))
            || !own.owns_device(&a.dev)
        {
            continue;
        }
        let change = Change::DeleteNeighbour(a.clone());
        let f = Finding::new(
            Severity::Warning,
            FindingKind::Unexpected,
            neigh_object(&a.dst, &a.dev),
        )
        .actual(neigh_text(a))
        .fix(change.commands());
        d.push(
            f,
            if adopt.is_some() {
                vec![change]
            } else {
                Vec::new()
            },
        );
    }
}

fn fdb_object(e: &FdbEntry) -> String {
    format!("fdb {} dev {}", e.mac, e.dev)
}

fn fdb_text(e: &FdbEntry) -> String {
    let dst = e
        .dst
        .map(|d| d.to_string())
        .unwrap_or_else(|| "(none)".into());
    format!("{} dst {dst} {:?}", e.mac, e.state).to_lowercase()
}

/// FDB identity: the MAC on its device (several remotes only for the all-zero MAC).
fn fdb_key(e: &FdbEntry) -> (String, [u8; 6], Option<IpAddr>) {
    let dst = if e.mac.is_zero() { e.dst } else { None };
    (e.dev.clone(), e.mac.0, dst)
}

fn diff_fdb(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    recreated: &HashSet<String>,
    d: &mut Diff,
) {
    let adopt = own.acting();
    let vxlan_devs: HashSet<&str> = actual
        .links
        .iter()
        .filter(|l| matches!(l.kind, LinkKind::Vxlan(_)))
        .map(|l| l.name.as_str())
        .collect();
    let relevant = |e: &FdbEntry| e.self_ && e.master.is_none() && !recreated.contains(&e.dev);
    let have: HashMap<_, &FdbEntry> = actual
        .fdb
        .iter()
        .filter(|e| relevant(e))
        .map(|e| (fdb_key(e), e))
        .collect();
    let want: HashSet<_> = expected.fdb.iter().map(fdb_key).collect();
    for e in &expected.fdb {
        let change = Change::ReplaceFdb(e.clone());
        match have.get(&fdb_key(e)) {
            None => push_missing(d, fdb_object(e), fdb_text(e), change, adopt.is_some()),
            Some(a) => {
                let Some(drift) = entry_drift(a.dst != e.dst, a.state, e.state) else {
                    continue;
                };
                let owned = own.owns_device(&e.dev) || adopt == Some(true);
                let act = adopt.is_some() && owned;
                let texts = (fdb_text(e), fdb_text(a));
                push_drift(d, drift, fdb_object(e), texts, change, act);
            }
        }
    }
    for a in &actual.fdb {
        if !relevant(a)
            || want.contains(&fdb_key(a))
            || !vxlan_devs.contains(a.dev.as_str())
            || !own.owns_device(&a.dev)
        {
            continue;
        }
        let change = Change::DeleteFdb(a.clone());
        let f = Finding::new(Severity::Warning, FindingKind::Unexpected, fdb_object(a))
            .actual(fdb_text(a))
            .fix(change.commands());
        d.push(
            f,
            if adopt.is_some() {
                vec![change]
            } else {
                Vec::new()
            },
        );
    }
}

/// A route's identity in the kernel: table, destination, TOS and metric. A second route
/// with the same identity replaces the first (NLM_F_REPLACE) or is refused.
type RouteKey = (Table, IpNetwork, u8, u32);

fn route_key(r: &Route) -> RouteKey {
    let dst = IpNetwork::new(r.dst.network(), r.dst.prefix()).unwrap_or(r.dst);
    (r.table, dst, r.tos, effective_metric(r))
}

fn route_object(r: &Route) -> String {
    use std::fmt::Write as _;
    // One buffer, no intermediate strings: this runs once per missing route.
    let mut s = String::with_capacity(48);
    s.push_str("route ");
    let full = if r.family() == Family::Inet { 32 } else { 128 };
    let _ = match r.dst.prefix() {
        0 => write!(s, "default"),
        p if p == full => {
            change::push_ip(&mut s, r.dst.ip());
            Ok(())
        }
        p => {
            change::push_ip(&mut s, r.dst.network());
            write!(s, "/{p}")
        }
    };
    if r.table != Table::MAIN {
        let _ = write!(s, " table {}", r.table.name());
    }
    if let Some(m) = r.metric {
        let _ = write!(s, " metric {m}");
    }
    s
}

/// The routes the kernel derives by itself (from addresses, for local delivery), which
/// are never "unexpected".
fn kernel_derived(r: &Route) -> bool {
    r.table == Table::LOCAL
        || r.proto == Protocol::KERNEL
        || matches!(
            r.kind,
            RouteType::Local | RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast
        )
        || (r.family() == Family::Inet6
            && (is_link_local(&r.dst.network()) || r.dst.network().is_multicast()))
}

/// The attributes in which two routes with the same identity differ, most important first.
fn route_differences(e: &Route, a: &Route) -> Vec<(&'static str, FindingKind, Severity)> {
    let mut out = Vec::new();
    if e.kind != a.kind {
        out.push(("type", FindingKind::WrongType, Severity::Error));
    }
    if e.nexthops.len() > 1 || a.nexthops.len() > 1 {
        let key = |h: &crate::dataplane::Nexthop| {
            (h.gateway, h.dev.clone(), h.flags.onlink, h.weight.max(1))
        };
        let mut eh: Vec<_> = e.nexthops.iter().map(key).collect();
        let mut ah: Vec<_> = a.nexthops.iter().map(key).collect();
        eh.sort();
        ah.sort();
        if eh != ah {
            out.push(("next hops", FindingKind::WrongNextHop, Severity::Error));
        }
    } else if !e.kind.drops() {
        let (eh, ah) = (e.first_hop(), a.first_hop());
        let gw = |h: Option<&crate::dataplane::Nexthop>| h.and_then(|h| h.gateway);
        if gw(eh) != gw(ah) {
            out.push(("next hop", FindingKind::WrongNextHop, Severity::Error));
        }
        let edev = eh.and_then(|h| h.dev.as_deref());
        if edev.is_some() && edev != ah.and_then(|h| h.dev.as_deref()) {
            out.push(("device", FindingKind::WrongDevice, Severity::Error));
        }
        let onlink = |h: Option<&crate::dataplane::Nexthop>| h.is_some_and(|h| h.flags.onlink);
        if onlink(eh) != onlink(ah) {
            out.push(("onlink", FindingKind::WrongOnlink, Severity::Error));
        }
    }
    if e.mtu != a.mtu {
        out.push(("MTU", FindingKind::WrongMtu, Severity::Warning));
    }
    if e.scope != a.scope {
        out.push(("scope", FindingKind::WrongScope, Severity::Warning));
    }
    if e.prefsrc.is_some() && e.prefsrc != a.prefsrc {
        out.push(("source", FindingKind::WrongSource, Severity::Warning));
    }
    out
}

/// What a destination matches in the node's tables now, for a missing route's finding.
fn now_matches(table: &RouteTable, r: &Route) -> String {
    match table.lookup(r.dst.network()) {
        Some(m) => format!("missing; {} now matches {m}", r.dst.network()),
        None => format!("missing; {} matches no route", r.dst.network()),
    }
}

fn diff_routes(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    recreated: &HashSet<String>,
    scope: Option<&RouteKeys>,
    d: &mut Diff,
) {
    let adopt = own.acting();
    let in_scope = |r: &Route| {
        scope.is_none_or(|s| {
            let k = route_key(r);
            s.contains(&(k.0, k.1))
        })
    };
    let on_recreated = |r: &Route| {
        !in_scope(r)
            || r.nexthops
                .iter()
                .any(|h| h.dev.as_ref().is_some_and(|n| recreated.contains(n)))
    };
    // The address changes already planned: the kernel adds their connected routes.
    let addr_changes: HashSet<(String, IpNetwork)> = d
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::AddAddr(a) => IpNetwork::new(a.addr.network(), a.addr.prefix())
                .ok()
                .map(|n| (a.dev.clone(), n)),
            _ => None,
        })
        .collect();
    // The node's routes by identity: the first index per key, and a chain through `next`
    // for the rare routes sharing one (no allocation per route: this runs over 100,000).
    const END: u32 = u32::MAX;
    let considered: Vec<bool> = actual.routes.iter().map(|r| !on_recreated(r)).collect();
    let mut have: HashMap<RouteKey, u32, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(actual.routes.len(), Default::default());
    let mut next: Vec<u32> = vec![END; actual.routes.len()];
    for (i, r) in actual.routes.iter().enumerate().rev() {
        if !considered[i] {
            continue;
        }
        let idx = u32::try_from(i).unwrap_or(END);
        if let Some(prev) = have.insert(route_key(r), idx) {
            next[i] = prev;
        }
    }
    let next = &next;
    let chain = |first: Option<&u32>| {
        let mut at = first.copied().unwrap_or(END);
        std::iter::from_fn(move || {
            let i = at;
            let r = actual.routes.get(i as usize)?;
            at = next[i as usize];
            Some((i as usize, r))
        })
    };
    let mut lookup_table: Option<RouteTable> = None;
    // A fresh node misses every planned route: room for all of them up front, rather than
    // copying 100,000 findings and changes as the vectors grow (unused room is never
    // touched, so it costs nothing when the node already matches).
    if scope.is_none() {
        d.findings.reserve(expected.routes.len());
        d.changes.reserve(expected.routes.len());
        d.route_keys.reserve(expected.routes.len());
    }
    let mut matched: Vec<bool> = vec![false; actual.routes.len()];
    // The planned prefixes, for the overlap findings of `check` (the agent lists none).
    let mut planned = RouteKeys::default();
    if adopt.is_none() {
        planned.reserve(expected.routes.len());
    }
    for plan_route in &expected.routes {
        let key = route_key(plan_route);
        if scope.is_some_and(|s| !s.contains(&(key.0, key.1))) {
            continue;
        }
        if adopt.is_none() {
            planned.insert((key.0, key.1));
        }
        if adopt.is_some() && !own.cni_route(plan_route) {
            // The machine's own routes (default gateway, its subnets) are not the agent's.
            continue;
        }
        // The agent marks its routes with its own protocol; kernel routes stay kernel.
        let want_proto = if adopt.is_some() && plan_route.proto != Protocol::KERNEL {
            own.agent_proto
        } else {
            plan_route.proto
        };
        let first = have.get(&key);
        let exact = chain(first).find(|(_, a)| route_differences(plan_route, a).is_empty());
        // The common case, cheap: the node has the route as planned.
        if let Some((ai, a)) = exact {
            let proto_ok = a.proto == want_proto
                || a.proto == own.agent_proto
                || (adopt.is_none() && plan_route.proto == a.proto);
            if proto_ok {
                matched[ai] = true;
                continue;
            }
        }
        let mut e = plan_route.clone();
        e.proto = want_proto;
        let object = route_object(&e);
        d.route_keys.insert((key.0, key.1));
        let Some((ai, a)) = exact.or_else(|| chain(first).next()) else {
            let derived = e.proto == Protocol::KERNEL
                && e.nexthops.iter().any(|h| {
                    h.dev
                        .as_ref()
                        .is_some_and(|dv| addr_changes.contains(&(dv.clone(), key.1)))
                });
            let mut f = Finding::new(Severity::Error, FindingKind::Missing, object);
            if adopt.is_none() {
                // For people: what the traffic hits instead, and the fix. (The agent
                // just adds the route: no need to spend a lookup per route on it.)
                let table = lookup_table.get_or_insert_with(|| {
                    RouteTable::all(actual.routes.iter().filter(|r| !on_recreated(r)).cloned())
                });
                f = f.expected(&e).actual(now_matches(table, &e));
            }
            let change = Change::ReplaceRoute(e);
            if adopt.is_none() {
                f = f.fix(change.commands());
            }
            if derived {
                // The kernel adds it with the address the agent adds.
                d.findings.push(f);
                continue;
            }
            d.push_one(f, adopt.is_some().then_some(change));
            continue;
        };
        matched[ai] = true;
        let diffs = route_differences(&e, a);
        let proto_ok = a.proto == e.proto
            || a.proto == own.agent_proto
            || (adopt.is_none() && plan_route.proto == a.proto);
        let owned = match adopt {
            Some(_) => a.proto == own.agent_proto || a.proto == e.proto,
            // The planned protocol on the planned key: the CNI's route, gone wrong.
            None => own.owns_route(a) || a.proto == plan_route.proto,
        };
        let change = Change::ReplaceRoute(e.clone());
        if diffs.is_empty() {
            if proto_ok {
                continue;
            }
            // Same forwarding, another program's protocol.
            let f = Finding::new(Severity::Info, FindingKind::WrongProtocol, object)
                .expected(&e)
                .actual(a)
                .fix(change.commands());
            let act = adopt == Some(true);
            d.push(f, if act { vec![change] } else { Vec::new() });
            continue;
        }
        let (kind, severity) = if owned {
            (
                diffs[0].1,
                diffs.iter().map(|x| x.2).min().unwrap_or(Severity::Error),
            )
        } else {
            (FindingKind::Conflict, Severity::Error)
        };
        let mut f = Finding::new(severity, kind, object)
            .expected(&e)
            .actual(a)
            .fix(change.commands());
        f.attributes = diffs.iter().map(|x| x.0).collect();
        let act = adopt.is_some() && (owned || adopt == Some(true));
        d.push(f, if act { vec![change] } else { Vec::new() });
    }
    // What the node has beyond the plan.
    for (i, a) in actual.routes.iter().enumerate() {
        if !considered[i] || matched[i] || kernel_derived(a) {
            continue;
        }
        if adopt.is_some() && !own.owns_route(a) {
            // The agent does not list what is not its business.
            continue;
        }
        let k = route_key(a);
        d.route_keys.insert((k.0, k.1));
        let object = route_object(a);
        if own.owns_route(a) {
            let change = Change::DeleteRoute(a.clone());
            let f = Finding::new(Severity::Warning, FindingKind::Unexpected, object)
                .actual(a)
                .fix(change.commands());
            let act = adopt.is_some() && a.proto == own.agent_proto;
            d.push(f, if act { vec![change] } else { Vec::new() });
            continue;
        }
        if adopt.is_some() {
            // The agent does not list what is not its business.
            continue;
        }
        // The most specific planned prefix around it (a default route covers everything:
        // not an overlap).
        let covering = (1..a.dst.prefix()).rev().find_map(|len| {
            let net = IpNetwork::new(a.dst.network(), len).ok()?;
            let net = IpNetwork::new(net.network(), len).ok()?;
            planned.contains(&(a.table, net)).then_some(net)
        });
        let f = match covering {
            Some(net) => Finding::new(Severity::Warning, FindingKind::Overlap, object)
                .expected(format!("{net} as planned, nothing more specific"))
                .actual(a)
                .fix(change::Change::DeleteRoute(a.clone()).commands()),
            None => Finding::new(Severity::Info, FindingKind::Foreign, object).actual(a),
        };
        d.push(f, Vec::new());
    }
}

fn sysctl_finding(key: &str, want: &str, have: Option<&str>, why: &str) -> Finding {
    Finding::new(
        Severity::Error,
        FindingKind::Sysctl,
        format!("sysctl {key}"),
    )
    .expected(format!("{want} ({why})"))
    .actual(have.unwrap_or("unknown"))
    .fix(vec![format!("sysctl -w {key}={want}")])
}

fn diff_sysctls(expected: &NodeState, actual: &NodeState, own: &Ownership, d: &mut Diff) {
    let acting = own.acting().is_some();
    let b = |v: bool| if v { "1" } else { "0" };
    let mut check = |key: String, want: &str, have: Option<String>, why: &str| {
        if have.as_deref() == Some(want) || have.is_none() {
            return;
        }
        let f = sysctl_finding(&key, want, have.as_deref(), why);
        let change = Change::SetSysctl {
            key,
            value: want.to_string(),
        };
        d.push(f, if acting { vec![change] } else { Vec::new() });
    };
    // Forwarding: as planned, and on whenever the node routes pod traffic.
    let routes_pods = expected
        .routes
        .iter()
        .any(|r| r.proto != Protocol::KERNEL && r.table == Table::MAIN);
    let ip_forward = expected.sysctls.ip_forward.or(routes_pods.then_some(true));
    if let Some(want) = ip_forward {
        check(
            "net.ipv4.ip_forward".into(),
            b(want),
            actual.sysctls.ip_forward.map(|v| b(v).to_string()),
            "packets between pods and nodes are forwarded",
        );
    }
    if let Some(want) = expected.sysctls.ipv6_forwarding {
        check(
            "net.ipv6.conf.all.forwarding".into(),
            b(want),
            actual.sysctls.ipv6_forwarding.map(|v| b(v).to_string()),
            "IPv6 pod traffic is forwarded",
        );
    }
    // Per device: as planned; and on for every planned device when forwarding is on.
    let mut per_dev: Vec<(String, bool)> = expected
        .sysctls
        .forwarding
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    // Turning ip_forward on turns every device's forwarding on: no need to list them.
    if ip_forward == Some(true) && actual.sysctls.ip_forward == Some(true) {
        for l in &expected.links {
            if !expected.sysctls.forwarding.contains_key(&l.name) {
                per_dev.push((l.name.clone(), true));
            }
        }
    }
    for (dev, want) in per_dev {
        if actual.link(&dev).is_none() && dev != "all" && dev != "default" {
            continue;
        }
        let have = actual
            .sysctls
            .forwarding
            .get(&dev)
            .map(|v| b(*v).to_string());
        check(
            format!("net.ipv4.conf.{dev}.forwarding"),
            b(want),
            have,
            "packets arriving on this device are forwarded",
        );
    }
    for (dev, want) in &expected.sysctls.rp_filter {
        let have = actual.sysctls.rp_filter.get(dev).map(|v| v.to_string());
        check(
            format!("net.ipv4.conf.{dev}.rp_filter"),
            &want.to_string(),
            have,
            "reverse-path filtering as the CNI sets it",
        );
    }
    for (dev, want) in &expected.sysctls.proxy_arp {
        let have = actual.sysctls.proxy_arp.get(dev).map(|v| b(*v).to_string());
        check(
            format!("net.ipv4.conf.{dev}.proxy_arp"),
            b(*want),
            have,
            "the host answers the pod's ARP for its gateway",
        );
    }
}

#[cfg(test)]
mod tests;
