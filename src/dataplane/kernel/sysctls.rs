//! How the kernel reads the forwarding sysctls: `ip_forward` and the device's
//! `forwarding`, `rp_filter` as the larger of `all` and the device, `proxy_arp` on `all`
//! or the device.

use super::super::Sysctls;

/// The reverse-path filter's mode (`net.ipv4.conf.*.rp_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpFilter {
    /// 0: no check.
    Off,
    /// 1: the route back to the source must leave through the device the packet came in on.
    Strict,
    /// 2 (and above): any unicast route back to the source will do.
    Loose,
}

impl RpFilter {
    /// From the sysctl's value.
    pub fn from_value(v: u8) -> RpFilter {
        match v {
            0 => RpFilter::Off,
            1 => RpFilter::Strict,
            _ => RpFilter::Loose,
        }
    }
}

impl Sysctls {
    /// True when the family's global switch is known to be off (`net.ipv4.ip_forward=0`,
    /// `net.ipv6.conf.all.forwarding=0`).
    pub fn forwarding_off(&self, v4: bool) -> bool {
        if v4 {
            self.ip_forward == Some(false)
        } else {
            self.ipv6_forwarding == Some(false)
        }
    }

    /// `net.ipv4.conf.<dev>.forwarding`, when known.
    pub fn dev_forwarding(&self, dev: &str) -> Option<bool> {
        self.forwarding.get(dev).copied()
    }

    /// Whether IPv4 packets arriving on `dev` are forwarded: `ip_forward` and the device's
    /// `forwarding` (unknown counts as on).
    pub fn forwards(&self, dev: &str) -> bool {
        self.ip_forward != Some(false) && self.dev_forwarding(dev) != Some(false)
    }

    /// The rp_filter value the kernel applies on `dev`: the larger of `conf.all` and
    /// `conf.<dev>`; `None` when neither is known.
    pub fn effective_rp_filter(&self, dev: &str) -> Option<u8> {
        let all = self.rp_filter.get("all").copied();
        let this = self.rp_filter.get(dev).copied();
        match (all, this) {
            (None, None) => None,
            (a, t) => Some(a.unwrap_or(0).max(t.unwrap_or(0))),
        }
    }

    /// The reverse-path filter on `dev` (off when nothing is known: a plan does not set it).
    pub fn rp_filter_mode(&self, dev: &str) -> RpFilter {
        RpFilter::from_value(self.effective_rp_filter(dev).unwrap_or(0))
    }

    /// Whether proxy ARP is on for `dev` (`conf.<dev>.proxy_arp` or `conf.all.proxy_arp`).
    pub fn proxy_arp_on(&self, dev: &str) -> bool {
        self.proxy_arp.get(dev) == Some(&true) || self.proxy_arp.get("all") == Some(&true)
    }
}
