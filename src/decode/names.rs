//! Names for addresses: outer IPs as nodes, inner IPs as `namespace/pod`.
//!
//! [`Names`] is a plain map from IP to label that any cluster source can fill
//! ([`Names::insert`]); [`Names::from_kubectl_json`] reads a
//! `kubectl get nodes,pods -A -o json` dump.

use std::collections::HashMap;
use std::net::IpAddr;

use anyhow::{Context, bail};
use serde_json::Value;

/// What a name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A node address (InternalIP, flannel public-ip, Calico IPv4Address).
    Node,
    /// A node's tunnel device address (Calico tunl0 / vxlan.calico address).
    Tunnel,
    /// A pod IP.
    Pod,
}

/// A label for an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The label: `node-a`, `node-a/tunl0`, `kube-system/coredns-5d78c`.
    pub label: String,
    /// What it names.
    pub kind: NameKind,
}

/// IP → label.
#[derive(Debug, Clone, Default)]
pub struct Names {
    map: HashMap<IpAddr, Name>,
}

impl Names {
    /// No names (every address prints as itself).
    pub fn new() -> Names {
        Names::default()
    }

    /// Whether there are no names at all.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// How many addresses are named.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Name `ip`. A node name wins over a pod name for the same address (host-network pods
    /// share the node's IP).
    pub fn insert(&mut self, ip: IpAddr, label: impl Into<String>, kind: NameKind) {
        let name = Name {
            label: label.into(),
            kind,
        };
        match self.map.get(&ip) {
            Some(old) if old.kind != NameKind::Pod && kind == NameKind::Pod => {}
            _ => {
                self.map.insert(ip, name);
            }
        }
    }

    /// The name of `ip`, if it has one.
    #[inline]
    pub fn get(&self, ip: &IpAddr) -> Option<&Name> {
        if self.map.is_empty() {
            return None;
        }
        self.map.get(ip)
    }

    /// Names from `--cluster FILE` (a `kubectl get nodes,pods -A -o json` dump), or none
    /// without a file.
    pub fn load(path: Option<&std::path::Path>) -> anyhow::Result<Names> {
        let Some(path) = path else {
            return Ok(Names::new());
        };
        let text = crate::input::read_to_string(path, "cluster file", crate::input::MAX_DOCUMENT)?;
        Names::from_kubectl_json(&text).with_context(|| format!("{}", path.display()))
    }

    /// Read a `kubectl get nodes,pods -A -o json` dump (a `List`, or a single `Node` or
    /// `Pod` object). Nodes are named by their InternalIP/ExternalIP addresses and the
    /// `flannel.alpha.coreos.com/public-ip`, `projectcalico.org/IPv4Address` annotations;
    /// Calico's `IPv4IPIPTunnelAddr`/`IPv4VXLANTunnelAddr` annotations name the tunnel
    /// addresses `node/tunl0` and `node/vxlan.calico`; pods (not host-network) are named
    /// `namespace/name` by `status.podIPs`.
    pub fn from_kubectl_json(text: &str) -> anyhow::Result<Names> {
        let doc: Value = serde_json::from_str(text)
            .context("not JSON: expected the output of `kubectl get nodes,pods -A -o json`")?;
        let items: Vec<&Value> = match doc.get("items").and_then(Value::as_array) {
            Some(items) => items.iter().collect(),
            None if doc.get("kind").is_some() => vec![&doc],
            None => bail!(
                "no \"items\" list: expected the output of `kubectl get nodes,pods -A -o json`"
            ),
        };
        let mut names = Names::new();
        let mut seen_kind = false;
        for item in items {
            match item.get("kind").and_then(Value::as_str) {
                Some("Node") => {
                    seen_kind = true;
                    names.add_node(item);
                }
                Some("Pod") => {
                    seen_kind = true;
                    names.add_pod(item);
                }
                _ => {}
            }
        }
        if !seen_kind {
            bail!("no Node or Pod objects in the file (run `kubectl get nodes,pods -A -o json`)");
        }
        Ok(names)
    }

    fn add_node(&mut self, node: &Value) {
        let Some(name) = node.pointer("/metadata/name").and_then(Value::as_str) else {
            return;
        };
        if let Some(addrs) = node.pointer("/status/addresses").and_then(Value::as_array) {
            for a in addrs {
                let t = a.get("type").and_then(Value::as_str);
                if matches!(t, Some("InternalIP" | "ExternalIP")) {
                    if let Some(ip) = a.get("address").and_then(Value::as_str).and_then(parse_ip) {
                        self.insert(ip, name, NameKind::Node);
                    }
                }
            }
        }
        let ann = node.pointer("/metadata/annotations");
        let get = |k: &str| ann.and_then(|a| a.get(k)).and_then(Value::as_str);
        for key in [
            "flannel.alpha.coreos.com/public-ip",
            "flannel.alpha.coreos.com/public-ipv6",
            "projectcalico.org/IPv4Address",
            "projectcalico.org/IPv6Address",
        ] {
            if let Some(ip) = get(key).and_then(parse_ip) {
                self.insert(ip, name, NameKind::Node);
            }
        }
        for (key, dev) in [
            (
                "projectcalico.org/IPv4IPIPTunnelAddr",
                crate::cni::calico::IPIP_DEV,
            ),
            (
                "projectcalico.org/IPv4VXLANTunnelAddr",
                crate::cni::calico::VXLAN_DEV,
            ),
        ] {
            if let Some(ip) = get(key).and_then(parse_ip) {
                self.insert(ip, format!("{name}/{dev}"), NameKind::Tunnel);
            }
        }
    }

    fn add_pod(&mut self, pod: &Value) {
        if pod.pointer("/spec/hostNetwork").and_then(Value::as_bool) == Some(true) {
            return;
        }
        let ns = pod
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let Some(name) = pod.pointer("/metadata/name").and_then(Value::as_str) else {
            return;
        };
        let label = format!("{ns}/{name}");
        let mut any = false;
        if let Some(ips) = pod.pointer("/status/podIPs").and_then(Value::as_array) {
            for ip in ips {
                if let Some(ip) = ip.get("ip").and_then(Value::as_str).and_then(parse_ip) {
                    self.insert(ip, label.clone(), NameKind::Pod);
                    any = true;
                }
            }
        }
        if !any {
            if let Some(ip) = pod
                .pointer("/status/podIP")
                .and_then(Value::as_str)
                .and_then(parse_ip)
            {
                self.insert(ip, label, NameKind::Pod);
            }
        }
    }
}

/// Parse `10.0.0.1` or `10.0.0.1/24` (Calico annotations carry the prefix length).
fn parse_ip(s: &str) -> Option<IpAddr> {
    s.split('/').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = r#"{"apiVersion":"v1","kind":"List","items":[
      {"kind":"Node","metadata":{"name":"node-a","annotations":{
         "flannel.alpha.coreos.com/public-ip":"192.168.1.11",
         "projectcalico.org/IPv4Address":"192.168.1.11/24",
         "projectcalico.org/IPv4IPIPTunnelAddr":"10.244.1.0"}},
       "status":{"addresses":[{"type":"InternalIP","address":"192.168.1.11"},{"type":"Hostname","address":"node-a"}]}},
      {"kind":"Node","metadata":{"name":"node-b","annotations":{"projectcalico.org/IPv4Address":"192.168.1.12/24"}},
       "status":{"addresses":[]}},
      {"kind":"Pod","metadata":{"name":"web-1","namespace":"shop"},"spec":{},
       "status":{"podIP":"10.244.1.5","podIPs":[{"ip":"10.244.1.5"},{"ip":"fd00::5"}]}},
      {"kind":"Pod","metadata":{"name":"kube-proxy-x","namespace":"kube-system"},"spec":{"hostNetwork":true},
       "status":{"podIP":"192.168.1.11","podIPs":[{"ip":"192.168.1.11"}]}}
    ]}"#;

    #[test]
    fn reads_kubectl_dump() {
        let n = Names::from_kubectl_json(DUMP).unwrap();
        let get = |s: &str| n.get(&s.parse().unwrap()).map(|n| n.label.clone());
        assert_eq!(get("192.168.1.11").as_deref(), Some("node-a"));
        assert_eq!(get("192.168.1.12").as_deref(), Some("node-b"));
        assert_eq!(get("10.244.1.0").as_deref(), Some("node-a/tunl0"));
        assert_eq!(get("10.244.1.5").as_deref(), Some("shop/web-1"));
        assert_eq!(get("fd00::5").as_deref(), Some("shop/web-1"));
        assert_eq!(get("10.9.9.9"), None);
        assert_eq!(n.len(), 5);
    }

    #[test]
    fn rejects_other_json() {
        assert!(Names::from_kubectl_json("[1,2]").is_err());
        assert!(Names::from_kubectl_json("{\"items\":[]}").is_err());
        assert!(Names::from_kubectl_json("nope").is_err());
    }

    #[test]
    fn node_wins_over_host_network_pod() {
        let mut n = Names::new();
        n.insert("1.1.1.1".parse().unwrap(), "node", NameKind::Node);
        n.insert("1.1.1.1".parse().unwrap(), "ns/pod", NameKind::Pod);
        assert_eq!(n.get(&"1.1.1.1".parse().unwrap()).unwrap().label, "node");
    }
}
