//! Calico's host-side veth names.
//!
//! Calico names a pod's host veth `<prefix>` + the first 11 hex digits of
//! sha1("<namespace>.<pod>"), 15 characters in all (IFNAMSIZ - 1) with the default prefix
//! `cali` (`FELIX_INTERFACEPREFIX`, its first comma-separated element).

/// Calico's default interface prefix.
pub const DEFAULT_PREFIX: &str = "cali";

/// The host veth name Calico gives pod `namespace/pod` with `prefix`.
pub fn veth_name(prefix: &str, namespace: &str, pod: &str) -> String {
    let digest = sha1_smol::Sha1::from(format!("{namespace}.{pod}"))
        .digest()
        .to_string();
    format!("{prefix}{}", &digest[..11])
}

/// The first element of a `FELIX_INTERFACEPREFIX`-style list (`cali,tap` → `cali`).
pub fn first_prefix(list: &str) -> &str {
    list.split(',').next().unwrap_or(list).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names() {
        // Values from the reference (computed with sha1sum).
        assert_eq!(
            veth_name("cali", "default", "nginx-7f456874f4-5xc59"),
            "cali7a673551ccb"
        );
        assert_eq!(veth_name("cali", "default", "nginx"), "calic440f455693");
        assert_eq!(
            veth_name("cali", "kube-system", "coredns-5d78c9869d-abcde"),
            "cali4d5f75c480c"
        );
        assert_eq!(veth_name("tap", "default", "nginx").len(), 14);
        assert_eq!(first_prefix("cali,tap"), "cali");
        assert_eq!(first_prefix("cali"), "cali");
    }
}
