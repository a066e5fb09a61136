//! A node's real dataplane as one document (`netpath.snapshot/v1`): read live through the
//! netlink readers, or assembled from a directory of text dumps, and loaded back. The one
//! loader of node state from disk ([`load_states`]: snapshots, text dumps, directories of
//! either, plan documents) lives here.
//!
//! The document holds the node's [`NodeState`] (devices, addresses, routes of every table,
//! rules, neighbours, FDB, forwarding sysctls), the veth-to-pod map of `netpath pods` when it
//! could be read, and what could not be read. `crate::trace` walks snapshots in place of
//! the plan for the nodes that have one.

pub mod document;
pub mod live;
pub mod load;
pub mod text_dump;
pub(crate) mod time;

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use crate::dataplane::{Addr, FdbEntry, Link, Neighbour, NodeState, Route, Rule, Sysctls};

pub use document::PlanFile;
pub use live::{LiveOptions, read_live, read_state};
pub use load::{Accept, Loaded, load, load_file, load_states};
pub use text_dump::{from_dir, node_from_dir};

/// The schema string of a snapshot document.
pub const SCHEMA: &str = "netpath.snapshot/v1";

/// Where a snapshot was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// Read through netlink and /proc/sys in a network namespace.
    Live {
        /// The netns as named (`current`, a name under /run/netns, or a path).
        netns: String,
    },
    /// Assembled from a directory of `ip`/`bridge`/`sysctl` outputs.
    TextDump {
        /// The directory.
        dir: String,
    },
    /// A document that holds a node state without being a snapshot (a NodeState, a plan).
    Document {
        /// The file.
        path: String,
    },
}

impl Source {
    /// A short description for people (`live netns current`, `text dump node-1/`).
    pub fn describe(&self) -> String {
        match self {
            Source::Live { netns } => format!("live, netns {netns}"),
            Source::TextDump { dir } => format!("text dump {dir}"),
            Source::Document { path } => format!("document {path}"),
        }
    }
}

/// One pod behind a host veth (from `netpath pods`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodEntry {
    /// The host end of the veth (`cali…`, `veth…`).
    pub host_veth: String,
    /// Its ifindex on the node.
    pub host_ifindex: u32,
    /// The pod's Kubernetes namespace, when known (CNI cache or `--pods`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The pod's name, when known.
    #[serde(default)]
    pub name: Option<String>,
    /// The pod's network namespace, as found (`cni-…`, `pid 4242 (pause)`).
    #[serde(default)]
    pub netns: Option<String>,
    /// The pod's end of the veth (`eth0`), when read.
    #[serde(default)]
    pub ifname: Option<String>,
    /// The pod's addresses (global scope).
    #[serde(default)]
    pub ips: Vec<IpNetwork>,
    /// The pod's network namespace (devices, addresses, main-table routes), when read.
    #[serde(default)]
    pub state: Option<NodeState>,
}

impl PodEntry {
    /// `namespace/name` when both are known.
    pub fn key(&self) -> Option<String> {
        match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => Some(format!("{ns}/{n}")),
            _ => None,
        }
    }

    /// True when the pod has address `ip`.
    pub fn has_ip(&self, ip: IpAddr) -> bool {
        self.ips.iter().any(|n| n.ip() == ip)
    }
}

/// Something that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {
    /// What (`rules`, `sysctls`, `pods: /proc/42/ns/net` …).
    pub what: String,
    /// Why, with the fix when there is one.
    pub reason: String,
}

/// A node's dataplane at one moment, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// When it was taken (RFC 3339, UTC); for text dumps, when they were converted.
    pub taken_at: String,
    /// Where it was read from.
    pub source: Source,
    /// The kernel release (`uname -r`), when known.
    pub kernel: Option<String>,
    /// The node's state (`state.node` is the node's name).
    pub state: NodeState,
    /// The veth-to-pod map; `None` when it was not read (text dumps, `--no-pods`, or it
    /// could not be read: see `unread`).
    pub pods: Option<Vec<PodEntry>>,
    /// What could not be read.
    pub unread: Vec<Unread>,
    /// Remarks on the input (text dumps: missing files, skipped lines).
    pub warnings: Vec<String>,
}

impl Snapshot {
    /// The node's name.
    pub fn node(&self) -> &str {
        &self.state.node
    }

    /// The pod behind host veth `name`.
    pub fn pod_by_veth(&self, name: &str) -> Option<&PodEntry> {
        self.pods.as_ref()?.iter().find(|p| p.host_veth == name)
    }

    /// The pod named `namespace/name`, else the pod with address `ip`.
    pub fn find_pod(&self, key: &str, ip: Option<IpAddr>) -> Option<&PodEntry> {
        let pods = self.pods.as_ref()?;
        pods.iter()
            .find(|p| p.key().as_deref() == Some(key))
            .or_else(|| ip.and_then(|ip| pods.iter().find(|p| p.has_ip(ip))))
    }

    /// True when something could not be read.
    pub fn is_partial(&self) -> bool {
        !self.unread.is_empty()
    }
}

/// The document as written: field order fixed (schema, node, taken_at, source, kernel, the
/// state's fields, pods, unread, warnings).
#[derive(Serialize)]
struct DocOut<'a> {
    schema: &'a str,
    node: &'a str,
    taken_at: &'a str,
    source: &'a Source,
    kernel: Option<&'a str>,
    links: &'a [Link],
    addrs: &'a [Addr],
    routes: &'a [Route],
    rules: &'a [Rule],
    neighbours: &'a [Neighbour],
    fdb: &'a [FdbEntry],
    sysctls: &'a Sysctls,
    pods: Option<&'a [PodEntry]>,
    unread: &'a [Unread],
    warnings: &'a [String],
}

/// The document as read: everything but the schema and the node may be missing.
#[derive(Deserialize)]
struct DocIn {
    schema: String,
    node: String,
    #[serde(default)]
    taken_at: String,
    source: Source,
    #[serde(default)]
    kernel: Option<String>,
    #[serde(default)]
    links: Vec<Link>,
    #[serde(default)]
    addrs: Vec<Addr>,
    #[serde(default)]
    routes: Vec<Route>,
    #[serde(default)]
    rules: Vec<Rule>,
    #[serde(default)]
    neighbours: Vec<Neighbour>,
    #[serde(default)]
    fdb: Vec<FdbEntry>,
    #[serde(default)]
    sysctls: Sysctls,
    #[serde(default)]
    pods: Option<Vec<PodEntry>>,
    #[serde(default)]
    unread: Vec<Unread>,
    #[serde(default)]
    warnings: Vec<String>,
}

impl Serialize for Snapshot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Destructured so that a new NodeState field cannot be left out of the document.
        let NodeState {
            node,
            links,
            addrs,
            routes,
            rules,
            neighbours,
            fdb,
            sysctls,
        } = &self.state;
        DocOut {
            schema: SCHEMA,
            node,
            taken_at: &self.taken_at,
            source: &self.source,
            kernel: self.kernel.as_deref(),
            links,
            addrs,
            routes,
            rules,
            neighbours,
            fdb,
            sysctls,
            pods: self.pods.as_deref(),
            unread: &self.unread,
            warnings: &self.warnings,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Snapshot {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Snapshot, D::Error> {
        let doc = DocIn::deserialize(d)?;
        if doc.schema != SCHEMA {
            return Err(serde::de::Error::custom(format!(
                "schema {:?} is not {SCHEMA:?}",
                doc.schema
            )));
        }
        Ok(Snapshot {
            taken_at: doc.taken_at,
            source: doc.source,
            kernel: doc.kernel,
            state: NodeState {
                node: doc.node,
                links: doc.links,
                addrs: doc.addrs,
                routes: doc.routes,
                rules: doc.rules,
                neighbours: doc.neighbours,
                fdb: doc.fdb,
                sysctls: doc.sysctls,
            },
            pods: doc.pods,
            unread: doc.unread,
            warnings: doc.warnings,
        })
    }
}

/// The current time as RFC 3339 UTC (`2025-03-01T12:00:00Z`).
pub fn now_rfc3339() -> String {
    time::rfc3339(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::{LinkKind, MacAddr, Nexthop, NudState, Vxlan};

    fn sample() -> Snapshot {
        let mut st = NodeState {
            node: "node-1".into(),
            ..Default::default()
        };
        st.links.push(Link {
            ifindex: 4,
            name: "flannel.1".into(),
            kind: LinkKind::Vxlan(Vxlan {
                vni: 1,
                port: 8472,
                local: Some("10.0.0.1".parse().unwrap()),
                dev: Some("eth0".into()),
                learning: false,
            }),
            mtu: 1450,
            mac: Some(MacAddr([2, 0, 0, 0, 0, 1])),
            up: true,
            oper_state: Some("unknown".into()),
            master: None,
            hairpin: None,
        });
        st.routes.push(Route::unicast(
            "10.244.2.0/24".parse().unwrap(),
            Nexthop::via("10.244.2.0".parse().unwrap(), "flannel.1").onlink(),
        ));
        st.neighbours.push(Neighbour {
            dst: "10.244.2.0".parse().unwrap(),
            lladdr: Some(MacAddr([2, 0, 0, 0, 0, 2])),
            dev: "flannel.1".into(),
            state: NudState::Permanent,
        });
        st.sysctls.ip_forward = Some(true);
        Snapshot {
            taken_at: "2025-01-01T00:00:00Z".into(),
            source: Source::Live {
                netns: "current".into(),
            },
            kernel: Some("6.1.0".into()),
            state: st,
            pods: Some(vec![PodEntry {
                host_veth: "veth1".into(),
                host_ifindex: 7,
                namespace: Some("default".into()),
                name: Some("web-0".into()),
                netns: Some("cni-1".into()),
                ifname: Some("eth0".into()),
                ips: vec!["10.244.1.2/24".parse().unwrap()],
                state: None,
            }]),
            unread: vec![Unread {
                what: "rules".into(),
                reason: "permission denied".into(),
            }],
            warnings: vec![],
        }
    }

    #[test]
    fn round_trips_with_schema_and_node_first() {
        let s = sample();
        let text = serde_json::to_string(&s).unwrap();
        assert!(
            text.starts_with(r#"{"schema":"netpath.snapshot/v1","node":"node-1","taken_at""#),
            "{text}"
        );
        let back: Snapshot = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            back.find_pod("default/web-0", None).unwrap().host_veth,
            "veth1"
        );
        assert_eq!(
            back.find_pod("x/y", Some("10.244.1.2".parse().unwrap()))
                .unwrap()
                .host_veth,
            "veth1"
        );
        assert!(back.pod_by_veth("veth2").is_none());
    }

    #[test]
    fn other_schemas_are_refused() {
        let text =
            r#"{"schema":"netpath.plan/v1","node":"n","source":{"kind":"live","netns":"current"}}"#;
        let err = serde_json::from_str::<Snapshot>(text).unwrap_err();
        assert!(err.to_string().contains("netpath.snapshot/v1"), "{err}");
        let minimal = r#"{"schema":"netpath.snapshot/v1","node":"n","source":{"kind":"text-dump","dir":"d"}}"#;
        let s: Snapshot = serde_json::from_str(minimal).unwrap();
        assert!(s.pods.is_none() && s.state.routes.is_empty());
    }
}
