//! Pairing veths with pods, and the findings. Pure: a [`Snapshot`] in, a [`Report`] out.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::Serialize;

use super::cni::{CacheEntry, ParseError};
use super::{NetnsRef, NetnsView, PodNetns, Snapshot, Unread, calico};
use crate::dataplane::{Family, Link, LinkKind, MacAddr, Route, RouteTable, Scope, Table};
use crate::render::json::schema;

/// What the host end of a veth turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VethStatus {
    /// Its peer is in a namespace that was found: a pod (or a container).
    Pod,
    /// Both ends are in the node's netns: not a pod.
    Local,
    /// Its peer lives in a namespace that is neither named nor held by any process.
    Leaked,
    /// Its peer's namespace was not found, but the scan was incomplete (permissions).
    Unknown,
}

impl VethStatus {
    /// The word shown.
    pub fn word(&self) -> &'static str {
        match self {
            VethStatus::Pod => "pod",
            VethStatus::Local => "local",
            VethStatus::Leaked => "leaked",
            VethStatus::Unknown => "unknown",
        }
    }
}

/// The namespace a veth's peer lives in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerNetns {
    /// Its inode (none when known only through a process that could not be opened).
    pub inode: Option<u64>,
    /// How it was found (`cni-…`, `pid 42 (pause)`).
    pub names: Vec<String>,
    /// The id the node gives it.
    pub nsid: Option<i32>,
    /// `nsid` (IFLA_LINK_NETNSID = the namespace's id) or `ifindex` (the peer's IFLA_LINK
    /// points back, used when the id could not be asked).
    pub matched_by: &'static str,
}

/// The pod's end of the pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodSide {
    /// Its name in the pod (`eth0`).
    pub name: String,
    /// Its ifindex in the pod.
    pub ifindex: u32,
    /// Its MAC.
    pub mac: Option<MacAddr>,
    /// Its MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Addresses (global scope).
    pub addrs: Vec<IpNetwork>,
    /// The pod's default route, as `ip route` prints it.
    pub default_route: Option<String>,
}

/// Where the pod's identity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentitySource {
    /// The CNI result cache.
    CniCache,
    /// `--pods` (matched by pod IP).
    PodsFile,
}

/// Who the pod is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodIdentity {
    /// Kubernetes namespace.
    pub namespace: Option<String>,
    /// Pod name.
    pub name: Option<String>,
    /// Pod UID.
    pub uid: Option<String>,
    /// Sandbox container id (CNI cache).
    pub container_id: Option<String>,
    /// CNI network name (CNI cache).
    pub network: Option<String>,
    /// Where this came from.
    pub source: IdentitySource,
    /// The cache file, when from the cache.
    pub cache_file: Option<String>,
}

impl PodIdentity {
    /// `namespace/name`, or the container id, for people.
    pub fn label(&self) -> String {
        match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            (None, Some(n)) => n.clone(),
            _ => self
                .container_id
                .as_deref()
                .map(|c| format!("container {}", short_id(c)))
                .unwrap_or_else(|| "?".into()),
        }
    }
}

/// Calico's name for this pod's veth, and whether the veth has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalicoName {
    /// `cali` + sha1("<namespace>.<pod>")[:11].
    pub expected: String,
    /// Whether the host veth is named so.
    pub agrees: bool,
}

/// How the node reaches a pod address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteVia {
    /// Through the host veth itself (Calico: `/32 dev cali… scope link`).
    Veth,
    /// Through the bridge the veth is enslaved to (Flannel/bridge: `cni0`, `docker0`).
    Bridge,
    /// Through some other device: the pod is not reached.
    Elsewhere,
    /// A blackhole/unreachable/prohibit route.
    Drop,
    /// No route at all.
    None,
}

/// The node's route to one pod address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostRoute {
    /// The pod address.
    pub ip: IpAddr,
    /// How it is reached.
    pub via: RouteVia,
    /// The route used, as `ip route` prints it.
    pub route: Option<String>,
}

impl HostRoute {
    /// True when the route leads to the pod.
    pub fn ok(&self) -> bool {
        matches!(self.via, RouteVia::Veth | RouteVia::Bridge)
    }
}

/// The pod's MTU against what the node's mode allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MtuCheck {
    /// The pod's MTU (its eth0, or the host end when the pod could not be read).
    pub mtu: u32,
    /// The most the node carries for pods.
    pub limit: u32,
    /// Which device sets the limit (`flannel.1`, `vxlan.calico`, `tunl0`, or the device
    /// of the default route when there is no tunnel).
    pub limit_from: String,
    /// `mtu <= limit`.
    pub fits: bool,
}

/// One host veth and what is behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VethRow {
    /// Host ifindex.
    pub ifindex: u32,
    /// Host name.
    pub name: String,
    /// Host MAC.
    pub mac: Option<MacAddr>,
    /// Administratively up.
    pub up: bool,
    /// Operational state (`up`, `down`, `lowerlayerdown` …).
    pub oper_state: Option<String>,
    /// Host MTU.
    pub mtu: u32,
    /// The bridge it is enslaved to.
    pub master: Option<String>,
    /// IFLA_LINK: the peer's ifindex in its netns.
    pub peer_ifindex: Option<u32>,
    /// IFLA_LINK_NETNSID: the peer netns's id here (none when the peer is here too).
    pub peer_netnsid: Option<i32>,
    /// What it turned out to be.
    pub status: VethStatus,
    /// The peer's namespace, when found.
    pub netns: Option<PeerNetns>,
    /// The pod's end, when read.
    pub pod_side: Option<PodSide>,
    /// Why the pod's end could not be read.
    pub pod_side_unread: Option<String>,
    /// Who the pod is.
    pub pod: Option<PodIdentity>,
    /// Calico's name check (only for veths with the Calico prefix and a known pod).
    pub calico_name: Option<CalicoName>,
    /// The node's routes to the pod's addresses.
    pub host_routes: Vec<HostRoute>,
    /// The MTU check.
    pub mtu_check: Option<MtuCheck>,
}

/// What a CNI cache file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheState {
    /// Its netns and veth exist.
    Live,
    /// Its netns or veth is gone.
    Stale,
    /// Could not be checked (why in `reason`).
    Unchecked,
    /// Not JSON or not the shape libcni writes.
    Corrupt,
    /// Not a `cniCacheV1` file: skipped.
    Skipped,
}

/// One CNI cache file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheRow {
    /// The file.
    pub file: String,
    /// What it turned out to be.
    pub state: CacheState,
    /// Why (for stale, unchecked, corrupt, skipped).
    pub reason: Option<String>,
    /// Sandbox container id.
    pub container_id: Option<String>,
    /// CNI network.
    pub network: Option<String>,
    /// Pod-side interface name.
    pub if_name: Option<String>,
    /// The netns path.
    pub netns: Option<String>,
    /// `namespace/name` from cniArgs.
    pub pod: Option<String>,
    /// Addresses.
    pub ips: Vec<IpNetwork>,
    /// Host-side interfaces of the result.
    pub host_interfaces: Vec<String>,
    /// The host veth it was matched to.
    pub veth: Option<String>,
}

/// Kinds of findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// A veth whose peer netns is neither named nor held by any process.
    LeakedVeth,
    /// A CNI cache entry whose netns or veth is gone.
    StaleCniCache,
    /// A CNI cache file that cannot be parsed.
    CorruptCniCache,
    /// A pod address the node has no route to through the pod's veth or bridge.
    NoHostRoute,
    /// A route through a Calico-prefixed device that does not exist.
    MissingCaliDevice,
    /// Two pods claim one address.
    DuplicatePodIp,
    /// The host end of a pod's veth is down (or has no carrier).
    HostVethDown,
    /// The pod's MTU is larger than the node carries.
    MtuTooLarge,
    /// A Calico-prefixed veth whose name does not match its pod.
    CalicoNameMismatch,
}

impl FindingKind {
    /// The kebab-case word (as in JSON).
    pub fn word(&self) -> &'static str {
        match self {
            FindingKind::LeakedVeth => "leaked-veth",
            FindingKind::StaleCniCache => "stale-cni-cache",
            FindingKind::CorruptCniCache => "corrupt-cni-cache",
            FindingKind::NoHostRoute => "no-host-route",
            FindingKind::MissingCaliDevice => "missing-cali-device",
            FindingKind::DuplicatePodIp => "duplicate-pod-ip",
            FindingKind::HostVethDown => "host-veth-down",
            FindingKind::MtuTooLarge => "mtu-too-large",
            FindingKind::CalicoNameMismatch => "calico-name-mismatch",
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Traffic breaks or resources leak.
    Error,
    /// Suspicious; may break traffic.
    Warning,
}

/// A problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// How bad.
    pub severity: Severity,
    /// The object concerned (a veth, a file, an address).
    pub object: String,
    /// What should be.
    pub expected: String,
    /// What is.
    pub actual: String,
    /// What to do.
    pub fix: String,
}

/// The result of `netpath pods`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `netpath.pods/v1`.
    pub schema: String,
    /// The node's netns.
    pub netns: String,
    /// Every veth of the node, by ifindex.
    pub veths: Vec<VethRow>,
    /// Where the CNI cache was read from.
    pub cni_cache_dir: Option<String>,
    /// Every CNI cache file.
    pub cni_cache: Vec<CacheRow>,
    /// Problems, most severe kinds first.
    pub findings: Vec<Finding>,
    /// What could not be read, and why.
    pub unread: Vec<Unread>,
}

impl Report {
    /// True when anything was found (exit 1).
    pub fn has_findings(&self) -> bool {
        !self.findings.is_empty()
    }
}

/// The device that limits pod MTU: the smallest up overlay device of Flannel or Calico
/// (`flannel.1`, `flannel.ipip`, `vxlan.calico`, `tunl0` …), else the default route's device.
pub fn mtu_limit(node: &NetnsView) -> Option<(u32, String)> {
    let overlay = node
        .links
        .iter()
        .filter(|l| {
            l.up && (l.name.starts_with("flannel")
                || l.name == "vxlan.calico"
                || l.name == "vxlan-v6.calico"
                || l.name == "tunl0")
        })
        .min_by_key(|l| l.mtu);
    if let Some(l) = overlay {
        return Some((l.mtu, l.name.clone()));
    }
    let default = node
        .routes
        .iter()
        .filter(|r| r.table == Table::MAIN && r.dst.prefix() == 0 && r.family() == Family::Inet)
        .filter(|r| !r.kind.drops())
        .min_by_key(|r| r.metric.unwrap_or(0))?;
    let dev = default.dev()?;
    let link = node.links.iter().find(|l| l.name == dev)?;
    Some((link.mtu, format!("{dev} (default route)")))
}

fn pod_side(view: &NetnsView, link: &Link) -> PodSide {
    let addrs = view
        .addrs
        .iter()
        .filter(|a| a.dev == link.name && a.scope == Scope::Universe)
        .map(|a| a.addr)
        .collect();
    let default_route = view
        .routes
        .iter()
        .filter(|r| r.dst.prefix() == 0)
        .min_by_key(|r| (r.family() != Family::Inet, r.metric.unwrap_or(0)))
        .map(Route::to_string);
    PodSide {
        name: link.name.clone(),
        ifindex: link.ifindex,
        mac: link.mac,
        mtu: link.mtu,
        up: link.up,
        addrs,
        default_route,
    }
}

fn identity_from_cache(e: &CacheEntry, file: &str) -> PodIdentity {
    PodIdentity {
        namespace: e.pod_namespace().map(str::to_string),
        name: e.pod_name().map(str::to_string),
        uid: e.pod_uid().map(str::to_string),
        container_id: Some(e.container_id.clone()),
        network: Some(e.network.clone()).filter(|n| !n.is_empty()),
        source: IdentitySource::CniCache,
        cache_file: Some(file.to_string()),
    }
}

fn route_to(table: &RouteTable, ip: IpAddr, veth: &str, master: Option<&str>) -> HostRoute {
    let Some(r) = table.lookup(ip) else {
        return HostRoute {
            ip,
            via: RouteVia::None,
            route: None,
        };
    };
    let via = if r.kind.drops() {
        RouteVia::Drop
    } else if r.nexthops.iter().any(|h| h.dev.as_deref() == Some(veth)) {
        RouteVia::Veth
    } else if master.is_some() && r.nexthops.iter().any(|h| h.dev.as_deref() == master) {
        RouteVia::Bridge
    } else {
        RouteVia::Elsewhere
    };
    HostRoute {
        ip,
        via,
        route: Some(r.to_string()),
    }
}

/// Pair, identify, check, and list findings.
pub fn analyze(snap: &Snapshot) -> Report {
    let node = &snap.node_view;
    let by_nsid: HashMap<i32, &PodNetns> = snap
        .namespaces
        .iter()
        .filter_map(|n| n.nsid.map(|id| (id, n)))
        .collect();
    let by_inode: HashMap<u64, &PodNetns> = snap
        .namespaces
        .iter()
        .filter_map(|n| n.inode.map(|i| (i, n)))
        .collect();
    let node_names: HashSet<&str> = node.links.iter().map(|l| l.name.as_str()).collect();
    let table = RouteTable::new(Table::MAIN, &node.routes);
    let limit = mtu_limit(node);
    let prefix = snap.calico_prefix.as_str();
    let entries: Vec<(usize, &CacheEntry, &NetnsRef)> = snap
        .cache
        .iter()
        .enumerate()
        .filter_map(|(i, (f, r))| f.entry.as_ref().ok().map(|e| (i, e, r)))
        .collect();
    let file_name = |i: usize| snap.cache[i].0.path.display().to_string();

    let mut findings = Vec::new();
    let mut rows = Vec::new();
    let mut cache_veth: HashMap<usize, String> = HashMap::new();
    let mut pod_side_failures: BTreeMap<String, Vec<String>> = BTreeMap::new();

    let mut veths: Vec<&Link> = node
        .links
        .iter()
        .filter(|l| matches!(l.kind, LinkKind::Veth(_)))
        .collect();
    veths.sort_by_key(|l| l.ifindex);
    for link in veths {
        let LinkKind::Veth(v) = &link.kind else {
            continue;
        };
        let mut row = VethRow {
            ifindex: link.ifindex,
            name: link.name.clone(),
            mac: link.mac,
            up: link.up,
            oper_state: link.oper_state.clone(),
            mtu: link.mtu,
            master: link.master.clone(),
            peer_ifindex: v.peer_ifindex,
            peer_netnsid: v.peer_netnsid,
            status: VethStatus::Unknown,
            netns: None,
            pod_side: None,
            pod_side_unread: None,
            pod: None,
            calico_name: None,
            host_routes: Vec::new(),
            mtu_check: None,
        };

        // Pair with the peer's namespace.
        let mut found: Option<(&PodNetns, &'static str)> = None;
        match v.peer_netnsid {
            None => row.status = VethStatus::Local,
            Some(id) => {
                if let Some(ns) = by_nsid.get(&id) {
                    found = Some((ns, "nsid"));
                } else {
                    // Namespaces whose id could not be asked: the peer's IFLA_LINK points back.
                    found = snap
                        .namespaces
                        .iter()
                        .filter(|n| n.nsid_error.is_some())
                        .find(|n| {
                            let Some(Ok(view)) = &n.view else { return false };
                            view.links.iter().any(|l| {
                                Some(l.ifindex) == v.peer_ifindex
                                    && matches!(&l.kind, LinkKind::Veth(p) if p.peer_ifindex == Some(link.ifindex))
                            })
                        })
                        .map(|n| (n, "ifindex"));
                }
                row.status = match (found, snap.discovery_complete) {
                    (Some(_), _) => VethStatus::Pod,
                    (None, true) => VethStatus::Leaked,
                    (None, false) => VethStatus::Unknown,
                };
            }
        }

        let mut pod_ips: Vec<IpAddr> = Vec::new();
        if let Some((ns, how)) = found {
            row.netns = Some(PeerNetns {
                inode: ns.inode,
                names: ns.names.clone(),
                nsid: ns.nsid,
                matched_by: how,
            });
            match &ns.view {
                Some(Ok(view)) => {
                    match view
                        .links
                        .iter()
                        .find(|l| Some(l.ifindex) == v.peer_ifindex)
                    {
                        Some(peer) => {
                            let side = pod_side(view, peer);
                            pod_ips = side.addrs.iter().map(|a| a.ip()).collect();
                            row.pod_side = Some(side);
                        }
                        None => {
                            row.pod_side_unread = Some(format!(
                                "netns {} has no interface with ifindex {} (deleted during the scan?)",
                                ns.label(),
                                v.peer_ifindex.unwrap_or(0)
                            ))
                        }
                    }
                }
                Some(Err(e)) => {
                    row.pod_side_unread = Some(e.clone());
                    pod_side_failures
                        .entry(e.clone())
                        .or_default()
                        .push(ns.label());
                }
                None => row.pod_side_unread = Some("not read".into()),
            }
        }

        // Who the pod is: the CNI cache (by netns and ifname, by host veth name, by address),
        // then the pod list by address.
        if let Some((ns, _)) = found {
            let pod_if = row.pod_side.as_ref().map(|s| s.name.as_str());
            let by_netns = entries.iter().find(|(_, e, r)| {
                ns.inode.is_some_and(|i| **r == NetnsRef::Found(i))
                    && pod_if.is_none_or(|n| n == e.if_name)
            });
            let by_name = || {
                entries
                    .iter()
                    .find(|(_, e, _)| e.host_interfaces().any(|h| h == link.name))
            };
            // By address only for entries whose netns could not be followed: an entry that
            // points at another pod's netns is that pod's, whatever address this one has.
            let by_ip = || {
                entries.iter().find(|(_, e, r)| {
                    !matches!(r, NetnsRef::Found(_)) && e.pod_ips().any(|ip| pod_ips.contains(&ip))
                })
            };
            if let Some((i, e, _)) = by_netns.or_else(by_name).or_else(by_ip) {
                row.pod = Some(identity_from_cache(e, &file_name(*i)));
                cache_veth.insert(*i, link.name.clone());
                if pod_ips.is_empty() {
                    pod_ips = e.pod_ips().collect();
                }
            }
        }
        if row.status == VethStatus::Pod && row.pod.is_none() && !pod_ips.is_empty() {
            if let Some(p) = snap
                .kube
                .iter()
                .find(|p| !p.host_network && p.ips.iter().any(|ip| pod_ips.contains(ip)))
            {
                row.pod = Some(PodIdentity {
                    namespace: Some(p.namespace.clone()),
                    name: Some(p.name.clone()),
                    uid: p.uid.clone(),
                    container_id: None,
                    network: None,
                    source: IdentitySource::PodsFile,
                    cache_file: None,
                });
            }
        }
        if row.status == VethStatus::Pod && pod_ips.is_empty() {
            if let Some(pod) = &row.pod {
                // Pod side unreadable: take the addresses the pod list gives.
                if let Some(p) = snap.kube.iter().find(|p| {
                    Some(&p.namespace) == pod.namespace.as_ref()
                        && Some(&p.name) == pod.name.as_ref()
                }) {
                    pod_ips = p.ips.clone();
                }
            }
        }

        // Calico's name for this pod.
        if let Some(pod) = &row.pod {
            if let (Some(ns), Some(name)) = (&pod.namespace, &pod.name) {
                if !prefix.is_empty() && link.name.starts_with(prefix) {
                    let expected = calico::veth_name(prefix, ns, name);
                    let agrees = expected == link.name;
                    if !agrees {
                        findings.push(Finding {
                            kind: FindingKind::CalicoNameMismatch,
                            severity: Severity::Warning,
                            object: link.name.clone(),
                            expected: format!("{expected} (Calico's name for {ns}/{name})"),
                            actual: link.name.clone(),
                            fix: format!(
                                "the pod identity (from {}) does not match this veth: the veth \
                                 belongs to another pod, or the {} is out of date",
                                source_word(pod.source),
                                source_word(pod.source)
                            ),
                        });
                    }
                    row.calico_name = Some(CalicoName { expected, agrees });
                }
            }
        }

        if row.status == VethStatus::Pod {
            let who = row
                .pod
                .as_ref()
                .map(PodIdentity::label)
                .or_else(|| row.netns.as_ref().and_then(|n| n.names.first().cloned()))
                .unwrap_or_default();
            // Host routes.
            for ip in &pod_ips {
                let r = route_to(&table, *ip, &link.name, link.master.as_deref());
                if !r.ok() {
                    let through = match &link.master {
                        Some(m) => format!("{} or its bridge {m}", link.name),
                        None => link.name.clone(),
                    };
                    let (actual, fix) = match r.via {
                        RouteVia::None => ("no route".to_string(), route_fix(*ip, link)),
                        RouteVia::Drop => (
                            format!("dropped by `{}`", r.route.clone().unwrap_or_default()),
                            route_fix(*ip, link),
                        ),
                        _ => (
                            format!("goes `{}`", r.route.clone().unwrap_or_default()),
                            route_fix(*ip, link),
                        ),
                    };
                    findings.push(Finding {
                        kind: FindingKind::NoHostRoute,
                        severity: Severity::Error,
                        object: format!("{ip} ({who})"),
                        expected: format!("a route through {through}"),
                        actual,
                        fix,
                    });
                }
                row.host_routes.push(r);
            }
            // Host end state.
            let carrier = row
                .oper_state
                .as_deref()
                .is_none_or(|s| s == "up" || s == "unknown");
            if !link.up || !carrier {
                findings.push(Finding {
                    kind: FindingKind::HostVethDown,
                    severity: Severity::Error,
                    object: format!("{} ({who})", link.name),
                    expected: "up".into(),
                    actual: if !link.up {
                        "administratively down".into()
                    } else {
                        format!(
                            "up but {} (the pod's end is down?)",
                            row.oper_state.as_deref().unwrap_or("no carrier")
                        )
                    },
                    fix: if !link.up {
                        format!("ip link set {} up", link.name)
                    } else {
                        "bring the pod's interface up, or recreate the pod".into()
                    },
                });
            }
            // MTU.
            if let Some((lim, from)) = &limit {
                let mtu = row.pod_side.as_ref().map(|s| s.mtu).unwrap_or(link.mtu);
                let fits = mtu <= *lim;
                if !fits {
                    findings.push(Finding {
                        kind: FindingKind::MtuTooLarge,
                        severity: Severity::Warning,
                        object: format!("{} ({who})", link.name),
                        expected: format!("pod MTU at most {lim} ({from})"),
                        actual: format!("pod MTU {mtu}"),
                        fix: "set the CNI's MTU to fit the overlay (Flannel: FLANNEL_MTU from \
                              subnet.env; Calico: veth_mtu / FelixConfiguration mtu) and \
                              recreate the pod"
                            .into(),
                    });
                }
                row.mtu_check = Some(MtuCheck {
                    mtu,
                    limit: *lim,
                    limit_from: from.clone(),
                    fits,
                });
            }
        }

        if row.status == VethStatus::Leaked {
            findings.push(Finding {
                kind: FindingKind::LeakedVeth,
                severity: Severity::Error,
                object: format!("{} (ifindex {})", link.name, link.ifindex),
                expected: "its peer in a pod's netns (named, or held by a process)".into(),
                actual: format!(
                    "peer if{} lives in netns id {}, which is neither named nor held by any process",
                    v.peer_ifindex.unwrap_or(0),
                    v.peer_netnsid.unwrap_or(-1)
                ),
                fix: format!(
                    "if no pod uses it: ip link del {} (something still holds the netns: \
                     look for nsfs mounts with `findmnt -t nsfs`)",
                    link.name
                ),
            });
        }
        rows.push(row);
    }

    // Routes through Calico devices that do not exist.
    if !prefix.is_empty() {
        for r in &node.routes {
            for hop in &r.nexthops {
                if let Some(dev) = &hop.dev {
                    if dev.starts_with(prefix) && !node_names.contains(dev.as_str()) {
                        findings.push(Finding {
                            kind: FindingKind::MissingCaliDevice,
                            severity: Severity::Error,
                            object: r.to_string(),
                            expected: format!("device {dev} to exist"),
                            actual: format!("no device {dev}"),
                            fix: format!("ip route del {}", r.dst),
                        });
                    }
                }
            }
        }
    }

    // The CNI cache.
    let mut cache_rows = Vec::new();
    for (i, (file, nref)) in snap.cache.iter().enumerate() {
        let path = file.path.display().to_string();
        let mut row = CacheRow {
            file: path.clone(),
            state: CacheState::Live,
            reason: None,
            container_id: None,
            network: None,
            if_name: None,
            netns: None,
            pod: None,
            ips: Vec::new(),
            host_interfaces: Vec::new(),
            veth: cache_veth.get(&i).cloned(),
        };
        let e = match &file.entry {
            Ok(e) => e,
            Err(ParseError::Corrupt(why)) => {
                row.state = CacheState::Corrupt;
                row.reason = Some(why.clone());
                findings.push(Finding {
                    kind: FindingKind::CorruptCniCache,
                    severity: Severity::Warning,
                    object: path.clone(),
                    expected: "a cniCacheV1 JSON document".into(),
                    actual: why.clone(),
                    fix: format!(
                        "libcni cannot use it when the pod is deleted; once no pod uses it: rm {path}"
                    ),
                });
                cache_rows.push(row);
                continue;
            }
            Err(ParseError::OtherKind(why)) => {
                row.state = CacheState::Skipped;
                row.reason = Some(format!("not a cniCacheV1 file ({why})"));
                cache_rows.push(row);
                continue;
            }
        };
        row.container_id = Some(e.container_id.clone());
        row.network = Some(e.network.clone()).filter(|n| !n.is_empty());
        row.if_name = Some(e.if_name.clone());
        row.netns = e.netns.clone();
        row.pod = match (e.pod_namespace(), e.pod_name()) {
            (Some(ns), Some(n)) => Some(format!("{ns}/{n}")),
            (None, Some(n)) => Some(n.to_string()),
            _ => None,
        };
        row.ips = e.ips.iter().map(|i| i.address).collect();
        row.host_interfaces = e.host_interfaces().map(str::to_string).collect();
        let missing_host: Vec<&str> = e
            .host_interfaces()
            .filter(|h| !node_names.contains(h))
            .collect();
        let (state, reason) = match nref {
            NetnsRef::Gone(why) => (CacheState::Stale, Some(why.clone())),
            NetnsRef::Unknown(why) => (CacheState::Unchecked, Some(why.clone())),
            _ if !missing_host.is_empty() => (
                CacheState::Stale,
                Some(format!(
                    "host interface {} is gone",
                    missing_host.join(", ")
                )),
            ),
            NetnsRef::Found(inode) => match by_inode.get(inode).and_then(|n| n.view.as_ref()) {
                Some(Ok(view)) if !view.links.iter().any(|l| l.name == e.if_name) => (
                    CacheState::Stale,
                    Some(format!(
                        "netns {} has no {}",
                        by_inode.get(inode).map(|n| n.label()).unwrap_or_default(),
                        e.if_name
                    )),
                ),
                Some(Err(why)) => (
                    CacheState::Live,
                    Some(format!("netns exists; inside not read: {why}")),
                ),
                _ => (CacheState::Live, None),
            },
            NetnsRef::Unset if row.host_interfaces.is_empty() => (
                CacheState::Unchecked,
                Some("the entry names no netns and no host interface".into()),
            ),
            NetnsRef::Unset => (CacheState::Live, None),
        };
        row.state = state;
        row.reason = reason;
        if state == CacheState::Stale {
            findings.push(Finding {
                kind: FindingKind::StaleCniCache,
                severity: Severity::Error,
                object: path.clone(),
                expected: format!(
                    "{} of container {} to exist",
                    e.netns.as_deref().unwrap_or("the netns"),
                    short_id(&e.container_id)
                ),
                actual: row.reason.clone().unwrap_or_default(),
                fix: format!(
                    "the CNI DEL for this pod never ran; release its IP in the IPAM plugin, then rm {path}"
                ),
            });
        }
        cache_rows.push(row);
    }

    // Two pods claiming one address: live pods by netns, plus live cache entries whose pod
    // was not paired with a veth.
    let mut claims: BTreeMap<IpAddr, Vec<(String, String)>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.status == VethStatus::Pod) {
        let (Some(side), Some(ns)) = (&row.pod_side, &row.netns) else {
            continue;
        };
        let label = row
            .pod
            .as_ref()
            .map(PodIdentity::label)
            .unwrap_or_else(|| ns.names.first().cloned().unwrap_or_default());
        for a in &side.addrs {
            claims
                .entry(a.ip())
                .or_default()
                .push((netns_key(ns), format!("{label} via {}", row.name)));
        }
    }
    for (i, (file, nref)) in snap.cache.iter().enumerate() {
        let (Ok(e), Some(row)) = (&file.entry, cache_rows.get(i)) else {
            continue;
        };
        if row.state != CacheState::Live || row.veth.is_some() {
            continue;
        }
        let key = match nref {
            NetnsRef::Found(ino) => format!("ino:{ino}"),
            _ => format!("cid:{}", e.container_id),
        };
        let label = format!(
            "{} (CNI cache {})",
            row.pod.clone().unwrap_or_else(|| e.container_id.clone()),
            row.file
        );
        for ip in e.pod_ips() {
            claims
                .entry(ip)
                .or_default()
                .push((key.clone(), label.clone()));
        }
    }
    for (ip, who) in claims {
        let mut keys: Vec<&String> = who.iter().map(|(k, _)| k).collect();
        keys.sort();
        keys.dedup();
        if keys.len() > 1 {
            let mut labels: Vec<&str> = who.iter().map(|(_, l)| l.as_str()).collect();
            labels.dedup();
            findings.push(Finding {
                kind: FindingKind::DuplicatePodIp,
                severity: Severity::Error,
                object: ip.to_string(),
                expected: "one pod per address".into(),
                actual: format!("claimed by {}", labels.join(" and ")),
                fix: "check the IPAM state (host-local: /var/lib/cni/networks/<net>/; Calico: \
                      calicoctl ipam check) and recreate one of the pods"
                    .into(),
            });
        }
    }

    let mut unread = snap.unread.clone();
    for (why, names) in pod_side_failures {
        let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
        let more = if names.len() > 3 {
            format!(" and {} more", names.len() - 3)
        } else {
            String::new()
        };
        unread.push(Unread::new(
            format!("inside netns {}{more}", shown.join(", ")),
            why,
        ));
    }
    if rows.iter().any(|r| r.status == VethStatus::Unknown) {
        unread.push(Unread::new(
            "veth peers",
            "some peer namespaces were not found, and the scan could not read every \
             namespace: those veths are shown as unknown, not leaked",
        ));
    }

    findings.sort_by_key(|f| f.kind);
    Report {
        schema: schema("pods"),
        netns: snap.node.clone(),
        veths: rows,
        cni_cache_dir: snap.cache_dir.as_ref().map(|d| d.display().to_string()),
        cni_cache: cache_rows,
        findings,
        unread,
    }
}

/// The first 12 characters of a container id (as `crictl` shows them); never splits a
/// character, whatever the file held.
fn short_id(id: &str) -> String {
    id.chars().take(12).collect()
}

fn netns_key(ns: &PeerNetns) -> String {
    match (ns.inode, ns.nsid) {
        (Some(i), _) => format!("ino:{i}"),
        (None, Some(id)) => format!("nsid:{id}"),
        (None, None) => format!("names:{}", ns.names.join(",")),
    }
}

fn source_word(s: IdentitySource) -> &'static str {
    match s {
        IdentitySource::CniCache => "CNI cache",
        IdentitySource::PodsFile => "pod list",
    }
}

fn route_fix(ip: IpAddr, link: &Link) -> String {
    let host = if ip.is_ipv4() { 32 } else { 128 };
    match &link.master {
        Some(m) => format!(
            "give the bridge {m} the pod subnet (its gateway address) so the kernel adds the \
             connected route, or: ip route add {ip}/{host} dev {m}"
        ),
        None => format!("ip route add {ip}/{host} dev {} scope link", link.name),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::dataplane::{Addr, Nexthop, Veth};
    use crate::pods::cni::{self, CacheFile};
    use crate::pods::kube::KubePod;

    fn link(ifindex: u32, name: &str, kind: LinkKind, master: Option<&str>) -> Link {
        Link {
            ifindex,
            name: name.into(),
            kind,
            mtu: 1500,
            mac: None,
            up: true,
            oper_state: Some("up".into()),
            master: master.map(str::to_string),
        }
    }

    fn veth(ifindex: u32, name: &str, peer: u32, nsid: Option<i32>, master: Option<&str>) -> Link {
        let kind = LinkKind::Veth(Veth {
            peer_ifindex: Some(peer),
            peer_netnsid: nsid,
        });
        link(ifindex, name, kind, master)
    }

    fn addr(dev: &str, a: &str) -> Addr {
        Addr {
            dev: dev.into(),
            addr: a.parse().unwrap(),
            scope: Scope::Universe,
        }
    }

    fn dev_route(dst: &str, dev: &str) -> Route {
        Route::unicast(dst.parse().unwrap(), Nexthop::dev(dev))
    }

    /// A pod netns holding `eth0` (ifindex 2, peer `host_if`) with `ip`.
    fn pod(inode: u64, nsid: i32, name: &str, host_if: u32, ip: &str) -> PodNetns {
        let eth0 = veth(2, "eth0", host_if, Some(0), None);
        PodNetns {
            inode: Some(inode),
            names: vec![name.into()],
            paths: vec![PathBuf::from("/run/netns").join(name)],
            nsid: Some(nsid),
            nsid_error: None,
            view: Some(Ok(NetnsView {
                links: vec![eth0],
                addrs: vec![addr("eth0", ip)],
                routes: vec![Route::unicast(
                    "0.0.0.0/0".parse().unwrap(),
                    Nexthop::via("169.254.1.1".parse().unwrap(), "eth0"),
                )],
            })),
        }
    }

    fn cache(path: &str, json: &str, r: NetnsRef) -> (CacheFile, NetnsRef) {
        (
            CacheFile {
                path: path.into(),
                entry: cni::parse(json),
            },
            r,
        )
    }

    fn entry(cid: &str, ns: &str, pod: &str, netns: &str, host: &str, ip: &str) -> String {
        format!(
            r#"{{"kind":"cniCacheV1","containerId":"{cid}","ifName":"eth0","networkName":"k8s-pod-network","netns":"{netns}","cniArgs":[["K8S_POD_NAMESPACE","{ns}"],["K8S_POD_NAME","{pod}"]],"result":{{"interfaces":[{{"name":"{host}"}}],"ips":[{{"address":"{ip}"}}]}}}}"#
        )
    }

    fn node_snapshot() -> Snapshot {
        let cali = calico::veth_name("cali", "default", "nginx");
        let links = vec![
            link(1, "lo", LinkKind::Loopback, None),
            link(3, "cni0", LinkKind::Bridge, None),
            veth(10, &cali, 2, Some(0), None),
            veth(11, "veth1a2b3c4d", 2, Some(1), Some("cni0")),
            veth(12, "veth0leaked0", 5, Some(7), None),
            veth(13, "cali00000000000", 2, Some(2), None),
            veth(14, "vethdup1", 2, Some(3), Some("cni0")),
            veth(15, "vethdup2", 2, Some(4), Some("cni0")),
            veth(16, "vethpairA", 17, None, None),
        ];
        Snapshot {
            node: "node".into(),
            node_view: NetnsView {
                links,
                addrs: vec![addr("cni0", "10.244.1.1/24")],
                routes: vec![
                    dev_route("10.65.0.2/32", &cali),
                    dev_route("10.244.1.0/24", "cni0"),
                    dev_route("10.65.0.77/32", "cali1234567890a"),
                ],
            },
            namespaces: vec![
                pod(100, 0, "cni-calico", 10, "10.65.0.2/32"),
                pod(101, 1, "cni-flannel", 11, "10.244.1.5/24"),
                pod(102, 2, "cni-noroute", 13, "10.65.0.3/32"),
                pod(103, 3, "cni-dup1", 14, "10.244.1.9/24"),
                pod(104, 4, "cni-dup2", 15, "10.244.1.9/24"),
            ],
            discovery_complete: true,
            cache_dir: Some("/var/lib/cni/results".into()),
            cache: vec![
                cache(
                    "/c/k8s-pod-network-aaa-eth0",
                    &entry(
                        "aaa",
                        "default",
                        "nginx",
                        "/var/run/netns/cni-calico",
                        &cali,
                        "10.65.0.2/32",
                    ),
                    NetnsRef::Found(100),
                ),
                cache(
                    "/c/k8s-pod-network-bbb-eth0",
                    &entry(
                        "bbb",
                        "default",
                        "gone",
                        "/var/run/netns/cni-gone",
                        "calideadbeef000",
                        "10.65.0.50/32",
                    ),
                    NetnsRef::Gone("netns /var/run/netns/cni-gone is gone".into()),
                ),
                cache(
                    "/c/truncated",
                    r#"{"kind":"cniCacheV1","contai"#,
                    NetnsRef::Unset,
                ),
                cache(
                    "/c/k8s-pod-network-ccc-eth0",
                    &entry(
                        "ccc",
                        "shop",
                        "api",
                        "/var/run/netns/cni-noroute",
                        "cali00000000000",
                        "10.65.0.3/32",
                    ),
                    NetnsRef::Found(102),
                ),
            ],
            kube: vec![KubePod {
                namespace: "shop".into(),
                name: "web-0".into(),
                uid: None,
                node: None,
                host_network: false,
                ips: vec!["10.244.1.5".parse().unwrap()],
            }],
            calico_prefix: "cali".into(),
            unread: Vec::new(),
        }
    }

    fn kinds(r: &Report) -> Vec<(FindingKind, String)> {
        r.findings
            .iter()
            .map(|f| (f.kind, f.object.clone()))
            .collect()
    }

    #[test]
    fn pairs_identifies_and_checks() {
        let r = analyze(&node_snapshot());
        assert_eq!(r.schema, "netpath.pods/v1");
        let row = |name: &str| r.veths.iter().find(|v| v.name == name).unwrap();

        let c = row(&calico::veth_name("cali", "default", "nginx"));
        assert_eq!(c.status, VethStatus::Pod);
        assert_eq!(c.netns.as_ref().unwrap().names, vec!["cni-calico"]);
        assert_eq!(c.pod_side.as_ref().unwrap().name, "eth0");
        assert_eq!(
            c.pod_side.as_ref().unwrap().default_route.as_deref(),
            Some("default via 169.254.1.1 dev eth0")
        );
        let who = c.pod.as_ref().unwrap();
        assert_eq!(
            (who.label(), who.source),
            ("default/nginx".into(), IdentitySource::CniCache)
        );
        assert!(c.calico_name.as_ref().unwrap().agrees);
        assert_eq!(c.host_routes[0].via, RouteVia::Veth);

        let f = row("veth1a2b3c4d");
        assert_eq!(f.host_routes[0].via, RouteVia::Bridge);
        let who = f.pod.as_ref().unwrap();
        assert_eq!(
            (who.label(), who.source),
            ("shop/web-0".into(), IdentitySource::PodsFile)
        );
        assert_eq!(f.calico_name, None, "not a cali veth");

        assert_eq!(row("veth0leaked0").status, VethStatus::Leaked);
        assert_eq!(row("vethpairA").status, VethStatus::Local);

        let bad = row("cali00000000000");
        assert_eq!(bad.host_routes[0].via, RouteVia::None);
        assert!(!bad.calico_name.as_ref().unwrap().agrees);

        let k = kinds(&r);
        let has =
            |kind: FindingKind, obj: &str| k.iter().any(|(x, o)| *x == kind && o.contains(obj));
        assert!(has(FindingKind::LeakedVeth, "veth0leaked0"), "{k:?}");
        assert!(
            has(FindingKind::StaleCniCache, "k8s-pod-network-bbb-eth0"),
            "{k:?}"
        );
        assert!(has(FindingKind::CorruptCniCache, "/c/truncated"), "{k:?}");
        assert!(
            has(FindingKind::NoHostRoute, "10.65.0.3 (shop/api)"),
            "{k:?}"
        );
        assert!(
            has(FindingKind::MissingCaliDevice, "cali1234567890a"),
            "{k:?}"
        );
        assert!(has(FindingKind::DuplicatePodIp, "10.244.1.9"), "{k:?}");
        assert!(
            has(FindingKind::CalicoNameMismatch, "cali00000000000"),
            "{k:?}"
        );
        assert_eq!(k.len(), 7, "{k:?}");
        assert!(r.has_findings());

        let states: Vec<CacheState> = r.cni_cache.iter().map(|c| c.state).collect();
        assert_eq!(
            states,
            vec![
                CacheState::Live,
                CacheState::Stale,
                CacheState::Corrupt,
                CacheState::Live
            ]
        );
        assert_eq!(r.cni_cache[0].veth.as_deref(), Some(c.name.as_str()));
    }

    #[test]
    fn incomplete_scan_says_unknown_not_leaked() {
        let mut s = node_snapshot();
        s.discovery_complete = false;
        let r = analyze(&s);
        let leaked = r.veths.iter().find(|v| v.name == "veth0leaked0").unwrap();
        assert_eq!(leaked.status, VethStatus::Unknown);
        assert!(!r.findings.iter().any(|f| f.kind == FindingKind::LeakedVeth));
        assert!(r.unread.iter().any(|u| u.what == "veth peers"));
    }

    #[test]
    fn unreadable_pods_still_show_and_use_cache_addresses() {
        let mut s = node_snapshot();
        for n in &mut s.namespaces {
            n.view = Some(Err(
                "cannot enter the netns: permission denied; run as root".into(),
            ));
        }
        let r = analyze(&s);
        let c = &r.veths[0];
        assert_eq!(c.status, VethStatus::Pod);
        assert!(c.pod_side.is_none());
        assert_eq!(c.pod.as_ref().unwrap().label(), "default/nginx");
        assert_eq!(c.host_routes[0].ip.to_string(), "10.65.0.2");
        let note = r
            .unread
            .iter()
            .find(|u| u.reason.contains("permission denied"))
            .unwrap();
        assert!(note.what.contains("and 2 more"), "{note:?}");
    }

    #[test]
    fn down_host_end_and_mtu() {
        let mut s = node_snapshot();
        s.node_view.links.push(Link {
            mtu: 1450,
            ..link(
                4,
                "flannel.1",
                LinkKind::Other {
                    name: "vxlan".into(),
                },
                None,
            )
        });
        s.node_view.links[2].up = false;
        let r = analyze(&s);
        let k = kinds(&r);
        assert!(
            k.iter().any(|(x, _)| *x == FindingKind::HostVethDown),
            "{k:?}"
        );
        let mtu = r.veths[0].mtu_check.as_ref().unwrap();
        assert_eq!((mtu.mtu, mtu.limit, mtu.fits), (1500, 1450, false));
        assert_eq!(mtu.limit_from, "flannel.1");
        assert!(k.iter().any(|(x, _)| *x == FindingKind::MtuTooLarge));
    }

    #[test]
    fn odd_container_ids_do_not_panic() {
        assert_eq!(short_id("ééééééééééééééé"), "éééééééééééé");
        assert_eq!(short_id("abc"), "abc");
    }

    #[test]
    fn clean_node_has_no_findings() {
        let mut s = node_snapshot();
        s.node_view.links.retain(|l| {
            !["veth0leaked0", "cali00000000000", "vethdup2"].contains(&l.name.as_str())
        });
        s.node_view
            .routes
            .retain(|r| r.dev() != Some("cali1234567890a"));
        s.cache.truncate(1);
        let r = analyze(&s);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert!(!r.has_findings());
    }
}
