//! Kubernetes Services and their EndpointSlices, as far as kube-proxy's ClusterIP DNAT goes
//! (iptables mode, cni-semantics §18): a ClusterIP and its ports, and the endpoints a
//! connection to it can be sent to.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// The range kube-apiserver hands ClusterIPs out of when nothing in the input says
/// (`--service-cluster-ip-range`'s default in kubeadm).
pub const DEFAULT_SERVICE_RANGE: &str = "10.96.0.0/12";

/// The Services of a cluster, when the input has them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Services {
    /// Whether the input lists Services at all (a dump without `svc` says nothing about them).
    pub listed: bool,
    /// The Services.
    pub list: Vec<Service>,
    /// The service range and where it was read (`kube-apiserver --service-cluster-ip-range`),
    /// when the input says it.
    pub range: Option<(IpNetwork, String)>,
}

/// One Service.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its ClusterIP; `None` for a headless Service (`clusterIP: None`), which kube-proxy
    /// does not program.
    pub cluster_ip: Option<IpAddr>,
    /// Its ports.
    pub ports: Vec<ServicePort>,
    /// The endpoints its EndpointSlices list, ready or not.
    pub endpoints: Vec<ServiceEndpoint>,
}

/// A port of a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    /// Its name (matches the EndpointSlice port of the same name; empty when unnamed).
    pub name: String,
    /// The ClusterIP's port.
    pub port: u16,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
}

/// An endpoint address of a Service's EndpointSlice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEndpoint {
    /// The address.
    pub ip: IpAddr,
    /// `conditions.ready` (absent counts as ready, as kube-proxy reads it).
    pub ready: bool,
    /// The pod behind it (`namespace/name`), when the slice names it.
    pub pod: Option<String>,
    /// The slice's ports: name, port, protocol.
    pub ports: Vec<(String, u16, String)>,
}

impl Service {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The endpoints kube-proxy sends new connections to (ready ones).
    pub fn ready(&self) -> impl Iterator<Item = &ServiceEndpoint> {
        self.endpoints.iter().filter(|e| e.ready)
    }

    /// The service port a probe to `dport` with `protocol` meets: the one with that port,
    /// else, when no port is asked for, the first.
    pub fn port(&self, dport: Option<u16>, protocol: &str) -> Option<&ServicePort> {
        let same = |p: &&ServicePort| p.protocol.eq_ignore_ascii_case(protocol);
        match dport {
            Some(d) => self.ports.iter().filter(same).find(|p| p.port == d),
            None => self.ports.iter().find(same),
        }
    }
}

impl ServiceEndpoint {
    /// The endpoint's port for a service port: the slice port of the same name.
    pub fn target(&self, port: &ServicePort) -> Option<u16> {
        self.ports
            .iter()
            .find(|(name, _, proto)| {
                *name == port.name && proto.eq_ignore_ascii_case(&port.protocol)
            })
            .map(|(_, p, _)| *p)
    }
}

/// 10.96.0.0/12 ([`DEFAULT_SERVICE_RANGE`]).
fn default_range() -> IpNetwork {
    let base = std::net::Ipv4Addr::new(10, 96, 0, 0);
    IpNetwork::V4(
        ipnetwork::Ipv4Network::new(base, 12)
            .unwrap_or_else(|_| ipnetwork::Ipv4Network::from(base)),
    )
}

impl Services {
    /// The Service named `namespace/name`.
    pub fn by_key(&self, key: &str) -> Option<&Service> {
        self.list.iter().find(|s| s.key() == key)
    }

    /// The Services whose ClusterIP is `ip`.
    pub fn by_ip(&self, ip: IpAddr) -> Option<&Service> {
        self.list.iter().find(|s| s.cluster_ip == Some(ip))
    }

    /// The service range: the input's, or the default with `assumed` true.
    pub fn range(&self) -> (IpNetwork, String, bool) {
        match &self.range {
            Some((net, from)) => (*net, from.clone(), false),
            None => (
                default_range(),
                "kube-apiserver's default --service-cluster-ip-range".into(),
                true,
            ),
        }
    }
}

/// Reading Services and EndpointSlices out of a `kubectl get … -o json` List.
pub(crate) mod parse {
    use std::borrow::Cow;
    use std::collections::HashMap;
    use std::net::IpAddr;

    use anyhow::anyhow;
    use serde::Deserialize;

    use super::{Service, ServiceEndpoint, ServicePort, Services};

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct ServiceSpec<'a> {
        #[serde(borrow, rename = "clusterIP")]
        cluster_ip: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        ports: Vec<Port<'a>>,
    }

    #[derive(Deserialize)]
    struct Port<'a> {
        #[serde(borrow, default)]
        name: Option<Cow<'a, str>>,
        #[serde(default)]
        port: Option<u16>,
        #[serde(borrow, default)]
        protocol: Option<Cow<'a, str>>,
    }

    #[derive(Deserialize)]
    struct SliceEndpoint<'a> {
        #[serde(borrow, default)]
        addresses: Vec<Cow<'a, str>>,
        #[serde(default)]
        conditions: Conditions,
        #[serde(borrow, default, rename = "targetRef")]
        target_ref: Option<TargetRef<'a>>,
    }

    #[derive(Deserialize, Default)]
    struct Conditions {
        ready: Option<bool>,
    }

    #[derive(Deserialize)]
    struct TargetRef<'a> {
        #[serde(borrow, default)]
        kind: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        namespace: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        name: Option<Cow<'a, str>>,
    }

    /// Services and slices as they come, joined once the whole List is read.
    #[derive(Default)]
    pub(crate) struct Collector {
        services: Vec<Service>,
        slices: Vec<(String, Vec<ServiceEndpoint>)>,
        range: Option<(ipnetwork::IpNetwork, String)>,
    }

    fn proto(p: &Option<Cow<'_, str>>) -> String {
        p.as_deref().unwrap_or("TCP").to_ascii_uppercase()
    }

    impl Collector {
        /// A `Service` item: `spec` as raw JSON.
        pub(crate) fn service(
            &mut self,
            namespace: &str,
            name: &str,
            spec: Option<&str>,
            what: &str,
        ) -> anyhow::Result<()> {
            let spec: ServiceSpec = match spec {
                Some(s) => serde_json::from_str(s).map_err(|e| anyhow!("{what}.spec: {e}"))?,
                None => ServiceSpec::default(),
            };
            let cluster_ip =
                match spec.cluster_ip.as_deref() {
                    None | Some("" | "None") => None,
                    Some(ip) => Some(ip.parse::<IpAddr>().map_err(|_| {
                        anyhow!("{what}.spec.clusterIP: {ip:?} is not an IP address")
                    })?),
                };
            let ports = spec
                .ports
                .iter()
                .filter_map(|p| {
                    Some(ServicePort {
                        name: p.name.as_deref().unwrap_or("").to_string(),
                        port: p.port?,
                        protocol: proto(&p.protocol),
                    })
                })
                .collect();
            self.services.push(Service {
                namespace: namespace.to_string(),
                name: name.to_string(),
                cluster_ip,
                ports,
                endpoints: Vec::new(),
            });
            Ok(())
        }

        /// An `EndpointSlice` item: the Service it belongs to (its
        /// `kubernetes.io/service-name` label), and its `endpoints` and `ports` as raw JSON.
        pub(crate) fn slice(
            &mut self,
            namespace: &str,
            service: Option<&str>,
            endpoints: Option<&str>,
            ports: Option<&str>,
            what: &str,
        ) -> anyhow::Result<()> {
            let Some(service) = service else {
                return Ok(());
            };
            let eps: Vec<SliceEndpoint> = match endpoints {
                Some(s) if s != "null" => {
                    serde_json::from_str(s).map_err(|e| anyhow!("{what}.endpoints: {e}"))?
                }
                _ => Vec::new(),
            };
            let ports: Vec<Port> = match ports {
                Some(s) if s != "null" => {
                    serde_json::from_str(s).map_err(|e| anyhow!("{what}.ports: {e}"))?
                }
                _ => Vec::new(),
            };
            let ports: Vec<(String, u16, String)> = ports
                .iter()
                .filter_map(|p| {
                    Some((
                        p.name.as_deref().unwrap_or("").to_string(),
                        p.port?,
                        proto(&p.protocol),
                    ))
                })
                .collect();
            let mut out = Vec::new();
            for e in &eps {
                let pod = e.target_ref.as_ref().and_then(|t| {
                    (t.kind.as_deref() == Some("Pod")).then(|| {
                        format!(
                            "{}/{}",
                            t.namespace.as_deref().unwrap_or(namespace),
                            t.name.as_deref().unwrap_or("")
                        )
                    })
                });
                for a in &e.addresses {
                    let ip = a.parse::<IpAddr>().map_err(|_| {
                        anyhow!("{what}.endpoints[].addresses: {a:?} is not an IP address")
                    })?;
                    out.push(ServiceEndpoint {
                        ip,
                        ready: e.conditions.ready.unwrap_or(true),
                        pod: pod.clone(),
                        ports: ports.clone(),
                    });
                }
            }
            self.slices.push((format!("{namespace}/{service}"), out));
            Ok(())
        }

        /// A container's command line: kube-apiserver's `--service-cluster-ip-range`
        /// (its IPv4 part) says the service range.
        pub(crate) fn command_line<'s>(&mut self, args: impl Iterator<Item = &'s str>, pod: &str) {
            let mut args = args.peekable();
            while let Some(a) = args.next() {
                let value = match a.strip_prefix("--service-cluster-ip-range") {
                    Some(rest) => match rest.strip_prefix('=') {
                        Some(v) => v,
                        None if rest.is_empty() => args.peek().copied().unwrap_or(""),
                        None => continue,
                    },
                    None => continue,
                };
                let net = value
                    .split(',')
                    .filter_map(|v| v.trim().parse::<ipnetwork::IpNetwork>().ok())
                    .find(|n| n.is_ipv4());
                if let (Some(net), None) = (net, &self.range) {
                    self.range = Some((net, format!("--service-cluster-ip-range of pod {pod}")));
                }
            }
        }

        /// Join the slices to their Services.
        pub(crate) fn finish(self) -> Services {
            let listed = !self.services.is_empty() || !self.slices.is_empty();
            let mut by_key: HashMap<String, Vec<ServiceEndpoint>> = HashMap::new();
            for (k, eps) in self.slices {
                by_key.entry(k).or_default().extend(eps);
            }
            let mut list = self.services;
            for s in &mut list {
                if let Some(eps) = by_key.remove(&s.key()) {
                    s.endpoints = eps;
                }
            }
            Services {
                listed,
                list,
                range: self.range,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::kubectl::{Options, parse};

    #[test]
    fn services_and_slices_are_joined_and_the_range_read() {
        let dump = br#"{"kind": "List", "items": [
          {"kind": "Node", "metadata": {"name": "n1", "annotations": {"flannel.alpha.coreos.com/public-ip": "10.0.0.1", "flannel.alpha.coreos.com/backend-type": "host-gw"}}, "spec": {"podCIDR": "10.244.1.0/24"}},
          {"kind": "Pod", "metadata": {"name": "kube-apiserver-n1", "namespace": "kube-system"}, "spec": {"nodeName": "n1", "hostNetwork": true, "containers": [{"name": "a", "command": ["kube-apiserver", "--service-cluster-ip-range", "10.32.0.0/16,fd00::/108"]}]}, "status": {"podIP": "10.0.0.1"}},
          {"kind": "Service", "metadata": {"name": "web", "namespace": "app"}, "spec": {"clusterIP": "10.32.0.5", "ports": [{"name": "http", "port": 80}]}},
          {"kind": "Service", "metadata": {"name": "h", "namespace": "app"}, "spec": {"clusterIP": "None"}},
          {"kind": "EndpointSlice", "metadata": {"name": "web-1", "namespace": "app", "labels": {"kubernetes.io/service-name": "web"}},
           "endpoints": [{"addresses": ["10.244.1.2"], "conditions": {"ready": true}, "targetRef": {"kind": "Pod", "name": "web-0"}},
                         {"addresses": ["10.244.1.3"], "conditions": {"ready": false}}],
           "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
          {"kind": "EndpointSlice", "metadata": {"name": "web-2", "namespace": "app", "labels": {"kubernetes.io/service-name": "web"}},
           "endpoints": [{"addresses": ["10.244.1.4"]}], "ports": [{"name": "http", "port": 8080}]}
        ]}"#;
        let c = parse(dump, "t", &Options::default()).unwrap();
        let s = &c.services;
        assert!(s.listed);
        assert_eq!(s.range.as_ref().unwrap().0.to_string(), "10.32.0.0/16");
        let web = s.by_key("app/web").unwrap();
        assert_eq!(web.cluster_ip, Some("10.32.0.5".parse().unwrap()));
        let ready: Vec<String> = web.ready().map(|e| e.ip.to_string()).collect();
        assert_eq!(ready, ["10.244.1.2", "10.244.1.4"]);
        let port = web.port(Some(80), "TCP").unwrap();
        assert_eq!(web.endpoints[0].target(port), Some(8080));
        assert_eq!(web.endpoints[0].pod.as_deref(), Some("app/web-0"));
        assert_eq!(s.by_key("app/h").unwrap().cluster_ip, None);
        // A dump without Services says nothing about them.
        let bare = br#"{"kind": "List", "items": [
          {"kind": "Node", "metadata": {"name": "n1", "annotations": {"flannel.alpha.coreos.com/public-ip": "10.0.0.1", "flannel.alpha.coreos.com/backend-type": "host-gw"}}, "spec": {"podCIDR": "10.244.1.0/24"}}
        ]}"#;
        let c = parse(bare, "t", &Options::default()).unwrap();
        assert!(!c.services.listed);
        assert_eq!(c.services.range().0.to_string(), "10.96.0.0/12");
    }
}
