//! Pods from a `kubectl get pods -A -o json` dump (a `List` of `Pod`s, or one `Pod`).

use std::net::IpAddr;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// A pod as the API server describes it (only what `pods` needs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KubePod {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`.
    pub uid: Option<String>,
    /// `spec.nodeName`.
    pub node: Option<String>,
    /// `spec.hostNetwork`: such pods use the node's addresses and have no veth.
    pub host_network: bool,
    /// `status.podIPs` (or `status.podIP`).
    pub ips: Vec<IpAddr>,
}

#[derive(Deserialize)]
struct RawPod {
    metadata: RawMeta,
    #[serde(default)]
    spec: RawSpec,
    #[serde(default)]
    status: RawStatus,
}

#[derive(Deserialize)]
struct RawMeta {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    uid: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawSpec {
    node_name: Option<String>,
    #[serde(default)]
    host_network: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawStatus {
    #[serde(rename = "podIP")]
    pod_ip: Option<String>,
    #[serde(default, rename = "podIPs")]
    pod_ips: Vec<RawPodIp>,
}

#[derive(Deserialize)]
struct RawPodIp {
    ip: String,
}

fn convert(p: RawPod) -> anyhow::Result<KubePod> {
    let name = p.metadata.name;
    let namespace = p.metadata.namespace.unwrap_or_else(|| "default".into());
    let mut ips = Vec::new();
    let texts = p
        .status
        .pod_ips
        .into_iter()
        .map(|i| i.ip)
        .chain(p.status.pod_ip);
    for t in texts {
        let ip: IpAddr = t
            .parse()
            .with_context(|| format!("pod {namespace}/{name}: {t:?} is not an IP address"))?;
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    Ok(KubePod {
        namespace,
        name,
        uid: p.metadata.uid,
        node: p.spec.node_name,
        host_network: p.spec.host_network,
        ips,
    })
}

/// Parse a `kubectl get pods -o json` document.
pub fn parse(text: &str) -> anyhow::Result<Vec<KubePod>> {
    let mut doc: serde_json::Value = serde_json::from_str(text)
        .context("not JSON (expected the output of `kubectl get pods -A -o json`)")?;
    let kind = doc.get("kind").and_then(|k| k.as_str()).map(str::to_string);
    let raw: Vec<RawPod> = match kind.as_deref() {
        Some("Pod") => vec![serde_json::from_value(doc).context("not a valid Pod")?],
        Some("List" | "PodList") | None => {
            let items = doc.get_mut("items").map(serde_json::Value::take);
            match items {
                Some(items) => serde_json::from_value(items).context("not a valid list of Pods")?,
                None => anyhow::bail!("no \"items\": expected `kubectl get pods -A -o json`"),
            }
        }
        Some(other) => anyhow::bail!(
            "expected a List of Pods (`kubectl get pods -A -o json`), got kind {other:?}"
        ),
    };
    raw.into_iter().map(convert).collect()
}

/// Read and parse `--pods FILE`.
pub fn read(path: &Path) -> anyhow::Result<Vec<KubePod>> {
    let text = crate::input::read_to_string(path, "--pods file", crate::input::MAX_DOCUMENT)?;
    parse(&text).with_context(|| format!("in --pods {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_of_pods() {
        let text = r#"{"apiVersion":"v1","kind":"List","items":[
          {"metadata":{"name":"web-0","namespace":"shop","uid":"u1"},"spec":{"nodeName":"n1"},
           "status":{"podIP":"10.244.1.5","podIPs":[{"ip":"10.244.1.5"},{"ip":"fd00::5"}]}},
          {"metadata":{"name":"kube-proxy-x","namespace":"kube-system"},"spec":{"hostNetwork":true},
           "status":{"podIP":"192.0.2.10"}},
          {"metadata":{"name":"pending","namespace":"shop"},"status":{}}]}"#;
        let pods = parse(text).unwrap();
        assert_eq!(pods.len(), 3);
        assert_eq!(pods[0].ips.len(), 2);
        assert_eq!(pods[0].node.as_deref(), Some("n1"));
        assert!(pods[1].host_network);
        assert!(pods[2].ips.is_empty());
    }

    #[test]
    fn single_pod_and_errors() {
        let one = r#"{"kind":"Pod","metadata":{"name":"a"},"status":{"podIP":"10.0.0.1"}}"#;
        let pods = parse(one).unwrap();
        assert_eq!(
            (pods[0].namespace.as_str(), pods[0].name.as_str()),
            ("default", "a")
        );
        assert!(parse(r#"{"kind":"Service","items":[]}"#).is_err());
        assert!(parse("{").is_err());
        let bad_ip = r#"{"items":[{"metadata":{"name":"a"},"status":{"podIP":"10.0.0.300"}}]}"#;
        let err = format!("{:#}", parse(bad_ip).unwrap_err());
        assert!(err.contains("10.0.0.300"), "{err}");
    }
}
