//! What `netpath pods` reports: each host veth and what is behind it, each CNI cache file,
//! and the findings.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::Serialize;

use super::Unread;
use crate::dataplane::MacAddr;
use crate::findings::{Kind, Severity};

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
    /// A pod's bridge port has hairpin off though its CNI config asks for it: the pod
    /// cannot reach itself through a Service.
    HairpinOff,
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
            FindingKind::HairpinOff => "hairpin-off",
        }
    }
}

impl Kind for FindingKind {
    fn word(&self) -> &'static str {
        FindingKind::word(self)
    }
}

/// A problem found: a veth, a cache file or an address, what should be, what is, and
/// what to do.
pub type Finding = crate::findings::Finding<FindingKind>;

/// A finding as `netpath pods --json` writes it: kind first, and the expected state, the
/// actual one and the fix as one text each.
#[derive(Serialize)]
struct FindingDoc<'a> {
    kind: FindingKind,
    severity: Severity,
    object: &'a str,
    expected: &'a str,
    actual: &'a str,
    fix: String,
}

fn findings_doc<S: serde::Serializer>(findings: &[Finding], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(findings.iter().map(|f| FindingDoc {
        kind: f.kind,
        severity: f.severity,
        object: &f.object,
        expected: f.expected.as_deref().unwrap_or_default(),
        actual: f.actual.as_deref().unwrap_or_default(),
        fix: f.fix.join(" && "),
    }))
}

/// The result of `netpath pods` (its JSON document is this behind a `schema` field, which
/// `crate::render::pods::document` adds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The node's netns.
    pub netns: String,
    /// Every veth of the node, by ifindex.
    pub veths: Vec<VethRow>,
    /// Where the CNI cache was read from.
    pub cni_cache_dir: Option<String>,
    /// Every CNI cache file.
    pub cni_cache: Vec<CacheRow>,
    /// Problems, most severe kinds first.
    #[serde(serialize_with = "findings_doc")]
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

/// The first 12 characters of a container id (as `crictl` shows them); never splits a
/// character, whatever the file held.
pub(super) fn short_id(id: &str) -> String {
    id.chars().take(12).collect()
}
