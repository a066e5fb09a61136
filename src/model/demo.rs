//! The built-in demo clusters (`--cluster demo:NAME`), embedded in the binary.
//!
//! Each is an ordinary cluster file under `src/model/demos/`: textbook setups of each
//! mode, and the classic broken ones (host-gw or plain BGP across a router).

use anyhow::bail;

use super::Cluster;
use super::file;

/// Name and cluster-file text of every demo, in the order `netpath demo` lists them.
pub const DEMOS: &[(&str, &str)] = &[
    (
        "flannel-host-gw",
        include_str!("demos/flannel-host-gw.yaml"),
    ),
    ("flannel-vxlan", include_str!("demos/flannel-vxlan.yaml")),
    (
        "flannel-directrouting",
        include_str!("demos/flannel-directrouting.yaml"),
    ),
    (
        "flannel-host-gw-routed",
        include_str!("demos/flannel-host-gw-routed.yaml"),
    ),
    ("calico-bgp", include_str!("demos/calico-bgp.yaml")),
    ("calico-ipip", include_str!("demos/calico-ipip.yaml")),
    (
        "calico-vxlan-crosssubnet",
        include_str!("demos/calico-vxlan-crosssubnet.yaml"),
    ),
    (
        "calico-bgp-routers",
        include_str!("demos/calico-bgp-routers.yaml"),
    ),
    (
        "calico-bgp-routed",
        include_str!("demos/calico-bgp-routed.yaml"),
    ),
];

/// The cluster file text of demo `name`.
pub fn text(name: &str) -> Option<&'static str> {
    DEMOS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Load demo `name`.
pub fn load(name: &str) -> anyhow::Result<Cluster> {
    match text(name) {
        Some(t) => file::parse(t, &format!("demo:{name}")),
        None => bail!(
            "no demo cluster named {name:?} (demos: {}; `netpath demo` lists them)",
            DEMOS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Every demo, loaded.
pub fn all() -> anyhow::Result<Vec<Cluster>> {
    DEMOS.iter().map(|(n, _)| load(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_loads() {
        let all = all().unwrap();
        assert_eq!(all.len(), DEMOS.len());
        for c in &all {
            assert!(c.description.is_some(), "{} has a description", c.name);
            assert!(
                c.pods.iter().any(|p| p.name == "web-0"),
                "{} has web-0",
                c.name
            );
            assert!(
                c.pods.iter().any(|p| p.name == "db-0"),
                "{} has db-0",
                c.name
            );
        }
        assert!(load("nope").is_err());
    }
}
