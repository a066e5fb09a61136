//! What is wrong with a set of leases, in flannel's terms.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Listing, NetConfig};
use crate::findings::Severity;

/// One problem with the leases: its kind (`duplicate-public-ip`, `overlap`,
/// `outside-network`, `wrong-length`, `backend-mismatch`, `unreadable`, `no-public-ip`,
/// `no-vtep-mac`), the etcd key concerned (`object`, the others in `also`), and what it
/// means for the nodes (`actual`). Every one is an error.
pub type Finding = crate::findings::Finding<&'static str>;

/// A problem as `netpath leases --json` writes it.
#[derive(Debug, Serialize)]
pub struct FindingDoc<'a> {
    /// Its kind.
    pub kind: &'static str,
    /// The etcd keys concerned.
    pub keys: Vec<&'a str>,
    /// What it means for the nodes.
    pub message: &'a str,
}

impl<'a> From<&'a Finding> for FindingDoc<'a> {
    fn from(f: &'a Finding) -> FindingDoc<'a> {
        FindingDoc {
            kind: f.kind,
            keys: std::iter::once(&f.object)
                .chain(&f.also)
                .map(String::as_str)
                .collect(),
            message: f.actual.as_deref().unwrap_or_default(),
        }
    }
}

/// A problem with the leases at `keys` (at least one).
fn problem(kind: &'static str, keys: Vec<String>, message: String) -> Finding {
    let mut keys = keys.into_iter();
    let first = keys.next().unwrap_or_default();
    Finding::new(Severity::Error, kind, first)
        .also(keys.collect())
        .actual(message)
}

/// Check the leases against each other and against the config.
pub fn check(config: &NetConfig, listing: &Listing) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut by_ip: BTreeMap<_, Vec<&super::Lease>> = BTreeMap::new();
    for l in &listing.leases {
        by_ip.entry(l.attrs.public_ip).or_default().push(l);
    }
    for (ip, ls) in &by_ip {
        if ls.len() > 1 {
            out.push(problem(
                "duplicate-public-ip",
                ls.iter().map(|l| l.key.clone()).collect(),
                format!(
                    "{} leases name PublicIP {ip}: peers route all of them to one node, and flanneld on {ip} reuses only the first it finds",
                    ls.len()
                ),
            ));
        }
    }
    for (i, a) in listing.leases.iter().enumerate() {
        for b in &listing.leases[i + 1..] {
            if a.subnet.contains(b.subnet.network()) || b.subnet.contains(a.subnet.network()) {
                out.push(problem(
                    "overlap",
                    vec![a.key.clone(), b.key.clone()],
                    format!(
                        "subnets {} ({}) and {} ({}) overlap: pods on one are unreachable from the other's peers",
                        a.subnet, a.attrs.public_ip, b.subnet, b.attrs.public_ip
                    ),
                ));
            }
        }
    }
    for l in &listing.leases {
        if !config.network.contains(l.subnet.network()) {
            out.push(problem(
                "outside-network",
                vec![l.key.clone()],
                format!(
                    "{} is outside Network {}: pods there are not routed as cluster traffic",
                    l.subnet, config.network
                ),
            ));
        } else if !config.compatible(&l.subnet) {
            out.push(problem(
                "wrong-length",
                vec![l.key.clone()],
                format!(
                    "{} does not fit the config (SubnetLen {}, {}..{}): flanneld on {} deletes it and takes another subnet at its next start",
                    l.subnet, config.subnet_len, config.subnet_min, config.subnet_max, l.attrs.public_ip
                ),
            ));
        }
        if l.attrs.backend_type != config.backend_type {
            out.push(problem(
                "backend-mismatch",
                vec![l.key.clone()],
                format!(
                    "{} ({}) has BackendType {:?} but the config says {:?}: the other nodes ignore it, so nothing routes to its pods",
                    l.subnet, l.attrs.public_ip, l.attrs.backend_type, config.backend_type
                ),
            ));
        } else if config.backend_type == "vxlan" && l.attrs.vtep_mac().is_none() {
            out.push(problem(
                "no-vtep-mac",
                vec![l.key.clone()],
                format!(
                    "{} ({}) is a vxlan lease without BackendData.VtepMAC: peers cannot program its neighbour and FDB entries",
                    l.subnet, l.attrs.public_ip
                ),
            ));
        }
        if l.attrs.public_ip.is_unspecified() {
            out.push(problem(
                "no-public-ip",
                vec![l.key.clone()],
                format!("{} has no PublicIP: peers cannot reach it", l.subnet),
            ));
        }
    }
    for b in &listing.bad {
        out.push(problem(
            "unreadable",
            vec![b.key.clone()],
            format!(
                "not a lease flanneld can read ({}): ignored by every node",
                b.reason
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::{BadLease, Lease, LeaseAttrs};
    use std::net::Ipv4Addr;

    fn lease(subnet: &str, ip: [u8; 4], ty: &str) -> Lease {
        Lease {
            subnet: subnet.parse().unwrap(),
            subnet_v6: None,
            attrs: LeaseAttrs::new(
                Ipv4Addr::from(ip),
                ty,
                (ty == "vxlan").then(|| (1, "02:00:00:00:00:01".parse().unwrap())),
            ),
            key: format!("/k/{subnet}"),
            etcd_lease: 1,
            expires: None,
            create_revision: 1,
            mod_revision: 1,
        }
    }

    #[test]
    fn finds_what_breaks_nodes() {
        let cfg = NetConfig::parse(
            r#"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#,
            "c",
        )
        .unwrap();
        let clean = Listing {
            leases: vec![
                lease("10.244.1.0/24", [10, 0, 0, 1], "vxlan"),
                lease("10.244.2.0/24", [10, 0, 0, 2], "vxlan"),
            ],
            bad: vec![],
            revision: 9,
        };
        assert!(check(&cfg, &clean).is_empty());
        let mut bad = clean.clone();
        bad.leases
            .push(lease("10.244.2.0/25", [10, 0, 0, 1], "vxlan"));
        bad.leases
            .push(lease("10.245.0.0/24", [10, 0, 0, 4], "vxlan"));
        bad.leases
            .push(lease("10.244.9.0/24", [10, 0, 0, 5], "host-gw"));
        bad.bad.push(BadLease {
            key: "/k/x".into(),
            reason: "not JSON".into(),
        });
        let kinds: Vec<&str> = check(&cfg, &bad).iter().map(|f| f.kind).collect();
        for k in [
            "duplicate-public-ip",
            "overlap",
            "outside-network",
            "wrong-length",
            "backend-mismatch",
            "unreadable",
        ] {
            assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
        }
    }
}
