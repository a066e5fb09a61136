//! Pod names as kubectl reads them: a bare name is first looked up in the namespace
//! (`-n/--namespace`, else the context's), then must be unique across namespaces (the trace
//! resolver's own rule, which lists the candidates when it is not).

use std::net::IpAddr;

use crate::model::Cluster;

/// `spec` as the trace resolver should read it: `namespace/name` when `spec` is a bare name
/// of a pod in `namespace` (and not the name of a node), else `spec` unchanged.
pub fn qualify(cluster: &Cluster, spec: &str, namespace: Option<&str>) -> String {
    let bare = spec.trim();
    let Some(ns) = namespace else {
        return spec.to_string();
    };
    if bare.contains('/') || bare.parse::<IpAddr>().is_ok() || cluster.node(bare).is_some() {
        return spec.to_string();
    }
    if cluster
        .pods
        .iter()
        .any(|p| p.name == bare && p.namespace == ns)
    {
        format!("{ns}/{bare}")
    } else {
        spec.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Cluster {
        let doc = br#"{"apiVersion":"v1","items":[
 {"kind":"Node","metadata":{"name":"n1","annotations":{"flannel.alpha.coreos.com/public-ip":"10.0.0.1","flannel.alpha.coreos.com/backend-type":"host-gw"}},"spec":{"podCIDR":"10.244.1.0/24"}},
 {"kind":"Pod","metadata":{"name":"web-0","namespace":"a"},"spec":{"nodeName":"n1"},"status":{"podIP":"10.244.1.2"}},
 {"kind":"Pod","metadata":{"name":"web-0","namespace":"b"},"spec":{"nodeName":"n1"},"status":{"podIP":"10.244.1.3"}},
 {"kind":"Pod","metadata":{"name":"n1","namespace":"a"},"spec":{"nodeName":"n1"},"status":{"podIP":"10.244.1.4"}}
],"kind":"List"}"#;
        crate::model::kubectl::parse(doc, "test", &Default::default()).expect("cluster")
    }

    #[test]
    fn bare_name_found_in_the_namespace() {
        let c = cluster();
        assert_eq!(qualify(&c, "web-0", Some("b")), "b/web-0");
        assert_eq!(qualify(&c, "web-0", Some("c")), "web-0");
        assert_eq!(qualify(&c, "web-0", None), "web-0");
    }

    #[test]
    fn qualified_names_addresses_and_nodes_unchanged() {
        let c = cluster();
        assert_eq!(qualify(&c, "a/web-0", Some("b")), "a/web-0");
        assert_eq!(qualify(&c, "10.244.1.2", Some("b")), "10.244.1.2");
        assert_eq!(qualify(&c, "n1", Some("a")), "n1");
    }
}
