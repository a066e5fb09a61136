//! The edges `trace` must get right, shown by a real kernel: masquerade has the real rules'
//! scope (a pod's connection to another node's address across a router that knows no pod
//! routes works only because the node masquerades it, as Calico's natOutgoing and flannel's
//! `--ip-masq` rules do).

use std::net::SocketAddr;
use std::time::Duration;

use libtest_mimic::{Failed, Trial};

use crate::cluster_lab::ClusterLab;

pub fn tests() -> Vec<Trial> {
    vec![Trial::test(
        "edges::masquerade_reaches_a_node_across_a_router",
        masquerade_reaches_a_node_across_a_router,
    )]
}

/// demo:calico-bgp-routed: the router between the subnets does not peer BGP, so it has no
/// route back to a pod. A pod's TCP connection to node-3's own address fails without the
/// masquerade rule (the SYN-ACK dies at the router) and works with it, the rule written as
/// Felix's `cali-nat-outgoing` does (from the natOutgoing pool to outside every pool);
/// trace predicts the working case, masquerade and conntrack included.
fn masquerade_reaches_a_node_across_a_router() -> Result<(), Failed> {
    let e = |e: anyhow::Error| Failed::from(format!("{e:#}"));
    let lab = ClusterLab::build("demo:calico-bgp-routed", "emq").map_err(e)?;
    let doc = lab.trace("default/web-0", "node-3", 8080).map_err(e)?;
    let kinds = doc.to_string();
    if doc["request"]["verdict"]["verdict"] != "delivered"
        || doc["reply"]["verdict"]["verdict"] != "delivered"
        || !kinds.contains("\"masquerade\"")
        || !kinds.contains("\"unmasquerade\"")
        || doc["reply"]["packet"]["dst"] != "192.168.1.11"
    {
        return Err(format!("trace does not predict the masqueraded path: {doc}").into());
    }
    let server = ("node-3", SocketAddr::from(([192, 168, 2, 11], 8080)));
    const BYTES: usize = 64 * 1024;
    // Without the rule: the pod's own address cannot come back across the router.
    let before = lab.tcp_transfer("default/web-0", server, BYTES, Duration::from_secs(2));
    if matches!(before, Ok(n) if n == BYTES) {
        return Err(
            "without masquerade the transfer should fail (the router has no pod routes)".into(),
        );
    }
    lab.exec(
        "node-1",
        "iptables -t nat -A POSTROUTING -s 10.65.0.0/16 ! -d 10.65.0.0/16 -j MASQUERADE",
    )
    .map_err(e)?;
    let n = lab
        .tcp_transfer("default/web-0", server, BYTES, Duration::from_secs(5))
        .map_err(e)?;
    if n != BYTES {
        return Err(format!("with masquerade the transfer carried {n} of {BYTES} bytes").into());
    }
    Ok(())
}
