//! Tunnels found in a packet's layers: where each encapsulation starts and what it is.

use std::fmt;

use super::layer::{Header, Layer};
use crate::wire::{flannel, ipip, vxlan};

/// An encapsulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encap {
    /// VXLAN on UDP `port` with `vni`.
    Vxlan {
        /// UDP destination port.
        port: u16,
        /// VXLAN Network Identifier.
        vni: u32,
    },
    /// IPv4 in IPv4 (protocol 4): Calico IPIP, Flannel ipip.
    Ipip,
    /// IPv6 in IPv4 (protocol 41).
    SixInFour,
    /// IPv4 in IPv6.
    FourInSix,
    /// IPv6 in IPv6.
    SixInSix,
    /// Flannel's UDP backend (port 8285).
    FlannelUdp,
    /// GENEVE with `vni`; `extra` is the options' length plus 14 when the payload is an
    /// Ethernet frame (the part of the overhead that varies).
    Geneve {
        /// Virtual Network Identifier.
        vni: u32,
        /// Options bytes, plus 14 for an inner Ethernet header.
        extra: u16,
    },
}

impl Encap {
    /// The short name: `VXLAN`, `IPIP`, `6in4`, `4in6`, `6in6`, `FLANNEL-UDP`.
    pub fn name(&self) -> &'static str {
        match self {
            Encap::Vxlan { .. } => "VXLAN",
            Encap::Ipip => "IPIP",
            Encap::SixInFour => "6in4",
            Encap::FourInSix => "4in6",
            Encap::SixInSix => "6in6",
            Encap::FlannelUdp => "FLANNEL-UDP",
            Encap::Geneve { .. } => "GENEVE",
        }
    }

    /// Bytes the encapsulation adds to the inner IP packet when the outer header is
    /// IPv4 (`outer_v6 == false`) or IPv6: VXLAN 50 / 70, IPIP 20, Flannel UDP 28 / 48.
    pub fn overhead(&self, outer_v6: bool) -> u16 {
        let ip = if outer_v6 { 40 } else { 20 };
        match self {
            Encap::Vxlan { .. } => vxlan::OVERHEAD_V4 - 20 + ip,
            Encap::Ipip | Encap::SixInFour | Encap::FourInSix | Encap::SixInSix => {
                debug_assert_eq!(ipip::OVERHEAD_V4, 20);
                ip
            }
            Encap::FlannelUdp => flannel::OVERHEAD_V4 - 20 + ip,
            // UDP 8 + GENEVE 8, its options, and the inner Ethernet header if any.
            Encap::Geneve { extra, .. } => ip + 16 + extra,
        }
    }
}

impl Encap {
    /// The encapsulation of a GENEVE header.
    pub fn geneve(g: &crate::wire::geneve::Repr) -> Encap {
        let ethernet = if g.protocol == crate::wire::geneve::PROTO_ETHERNET {
            14
        } else {
            0
        };
        Encap::Geneve {
            vni: g.vni,
            extra: g.options_len + ethernet,
        }
    }
}

impl fmt::Display for Encap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Encap::Vxlan { port, vni } => write!(f, "VXLAN {port} vni {vni}"),
            Encap::Geneve { vni, .. } => write!(f, "GENEVE vni {vni}"),
            e => f.write_str(e.name()),
        }
    }
}

/// One tunnel in a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunnel {
    /// What it is.
    pub encap: Encap,
    /// Index of the outer IP layer (the node-to-node header).
    pub outer_ip: usize,
    /// Index of the first layer inside the tunnel.
    pub inner: usize,
}

/// Iterator over a packet's tunnels, outer to inner.
#[derive(Debug, Clone)]
pub struct Tunnels<'p> {
    layers: &'p [Layer],
    i: usize,
    last_ip: Option<usize>,
}

impl<'p> Tunnels<'p> {
    pub(super) fn new(layers: &'p [Layer]) -> Tunnels<'p> {
        Tunnels {
            layers,
            i: 0,
            last_ip: None,
        }
    }
}

impl Iterator for Tunnels<'_> {
    type Item = Tunnel;

    fn next(&mut self) -> Option<Tunnel> {
        while self.i < self.layers.len() {
            let i = self.i;
            self.i += 1;
            let h = &self.layers[i].header;
            match h {
                Header::Ipv4(_) | Header::Ipv6(_) => {
                    self.last_ip = Some(i);
                    let Some(next) = self.layers.get(i + 1) else {
                        continue;
                    };
                    let encap = match (h, &next.header) {
                        (Header::Ipv4(_), Header::Ipv4(_)) => Encap::Ipip,
                        (Header::Ipv4(_), Header::Ipv6(_)) => Encap::SixInFour,
                        (Header::Ipv6(_), Header::Ipv4(_)) => Encap::FourInSix,
                        (Header::Ipv6(_), Header::Ipv6(_)) => Encap::SixInSix,
                        _ => continue,
                    };
                    return Some(Tunnel {
                        encap,
                        outer_ip: i,
                        inner: i + 1,
                    });
                }
                Header::Vxlan(v) => {
                    if let Some(outer_ip) = self.last_ip {
                        return Some(Tunnel {
                            encap: Encap::Vxlan {
                                port: v.port,
                                vni: v.vni,
                            },
                            outer_ip,
                            inner: i + 1,
                        });
                    }
                }
                Header::Geneve(g) => {
                    if let Some(outer_ip) = self.last_ip {
                        return Some(Tunnel {
                            encap: Encap::geneve(g),
                            outer_ip,
                            inner: i + 1,
                        });
                    }
                }
                Header::FlannelUdp => {
                    if let Some(outer_ip) = self.last_ip {
                        return Some(Tunnel {
                            encap: Encap::FlannelUdp,
                            outer_ip,
                            inner: i + 1,
                        });
                    }
                }
                _ => {}
            }
        }
        None
    }
}
