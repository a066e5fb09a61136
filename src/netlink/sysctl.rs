//! The forwarding sysctls of a netns, read from /proc/sys/net on a thread inside it
//! (the kernel resolves /proc/sys/net against the reading thread's netns).

use std::fs;
use std::path::Path;

use super::Netns;
use crate::dataplane::Sysctls;

/// Read `ip_forward`, IPv6 forwarding, and per-device `forwarding`, `rp_filter` and
/// `proxy_arp` (including `all` and `default`) in `netns`. Values that cannot be read are
/// left out; a missing /proc/sys/net is an error.
pub fn sysctls(netns: &Netns) -> anyhow::Result<Sysctls> {
    netns.run(|| read_from(Path::new("/proc/sys/net")))
}

/// Read the sysctls under `root` (a /proc/sys/net directory, or a copy of one).
pub fn read_from(root: &Path) -> anyhow::Result<Sysctls> {
    let conf = root.join("ipv4/conf");
    let entries =
        fs::read_dir(&conf).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", conf.display()))?;
    let mut s = Sysctls {
        ip_forward: read_bool(&root.join("ipv4/ip_forward")),
        ipv6_forwarding: read_bool(&root.join("ipv6/conf/all/forwarding")),
        ..Default::default()
    };
    for entry in entries.flatten() {
        let dev = entry.file_name().to_string_lossy().into_owned();
        let dir = entry.path();
        if let Some(v) = read_bool(&dir.join("forwarding")) {
            s.forwarding.insert(dev.clone(), v);
        }
        if let Some(v) = read_u8(&dir.join("rp_filter")) {
            s.rp_filter.insert(dev.clone(), v);
        }
        if let Some(v) = read_bool(&dir.join("proxy_arp")) {
            s.proxy_arp.insert(dev, v);
        }
    }
    Ok(s)
}

fn read_u8(path: &Path) -> Option<u8> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn read_bool(path: &Path) -> Option<bool> {
    read_u8(path).map(|v| v != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_copied_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("ipv4/conf/all")).unwrap();
        fs::create_dir_all(root.join("ipv4/conf/cali123")).unwrap();
        fs::write(root.join("ipv4/ip_forward"), "1\n").unwrap();
        fs::write(root.join("ipv4/conf/all/rp_filter"), "2\n").unwrap();
        fs::write(root.join("ipv4/conf/cali123/proxy_arp"), "1\n").unwrap();
        fs::write(root.join("ipv4/conf/cali123/forwarding"), "0\n").unwrap();
        let s = read_from(root).unwrap();
        assert_eq!(s.ip_forward, Some(true));
        assert_eq!(s.ipv6_forwarding, None);
        assert_eq!(s.rp_filter.get("all"), Some(&2));
        assert_eq!(s.proxy_arp.get("cali123"), Some(&true));
        assert_eq!(s.forwarding.get("cali123"), Some(&false));
        assert!(read_from(&root.join("nope")).is_err());
    }
}
