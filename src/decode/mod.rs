//! Packet → ordered layers, outer to inner, with checksums verified and truncation located.
//!
//! [`decode`] borrows the frame and fills a [`Packet`] that holds its layers in a fixed
//! array: no allocation per packet. etherparse parses Ethernet, VLAN, ARP, IPv4, IPv6
//! (and its extension headers), UDP and TCP; the tunnel and cooked-capture headers come
//! from [`crate::wire`].
//!
//! ```
//! use netpath::decode::{self, DecodeOptions, Header};
//! use netpath::wire::LinkType;
//! // A raw IPv4 packet (what `tcpdump -i tunl0` writes): 10.0.0.1 → 10.0.0.2, UDP 53.
//! let frame = [
//!     0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 17, 0x26, 0xcc, 10, 0, 0, 1, 10, 0, 0, 2,
//!     0x30, 0x39, 0, 53, 0, 8, 0, 0,
//! ];
//! let pkt = decode::decode(LinkType::RAW, &frame, frame.len() as u32, &DecodeOptions::default());
//! assert_eq!(pkt.layers().len(), 2);
//! assert!(matches!(pkt.layers()[1].header, Header::Udp(u) if u.dst_port == 53));
//! ```

mod engine;
pub mod layer;
pub mod names;
pub mod pipeline;
pub mod stats;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
mod tunnel;

use std::fmt;

pub use engine::{decode, decode_into};
pub use layer::{
    Arp, Checksum, Ethernet, Fragment6, Header, Icmp, IpLength, Ipv4, Ipv6, Layer, Quote, Tcp, Udp,
    Vlan, Vxlan, tcp_flags,
};
pub use names::{Name, NameKind, Names};
pub use stats::Stats;
pub use tunnel::{Encap, Tunnel};

use crate::wire::LinkType;

/// The most layers one packet may have (triple-nested VXLAN with VLAN tags fits easily).
pub const MAX_LAYERS: usize = 24;

/// What the decoder needs to know beyond the bytes.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// UDP destination ports decoded as VXLAN (default 4789 and 8472).
    pub vxlan_ports: Vec<u16>,
    /// UDP destination port of Flannel's UDP backend (default 8285), or `None` to not
    /// decode it.
    pub flannel_udp_port: Option<u16>,
    /// UDP destination port decoded as GENEVE (default 6081), or `None` to not decode it.
    pub geneve_port: Option<u16>,
    /// Verify IPv4, TCP, UDP and ICMP checksums (default true).
    pub verify_checksums: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            vxlan_ports: vec![
                crate::wire::vxlan::PORT_IANA,
                crate::wire::vxlan::PORT_LINUX,
            ],
            flannel_udp_port: Some(crate::wire::flannel::PORT),
            geneve_port: Some(crate::wire::geneve::PORT),
            verify_checksums: true,
        }
    }
}

/// Why decoding stopped before the end of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The capture ends inside this header (`needed` bytes from `offset` were required).
    Truncated {
        /// The header being read.
        layer: &'static str,
        /// Bytes the header needs.
        needed: u32,
        /// A TCP or UDP header cut after its first four bytes: its source and
        /// destination ports, which are there.
        ports: Option<(u16, u16)>,
    },
    /// The header is invalid.
    Malformed {
        /// The header being read.
        layer: &'static str,
        /// What is wrong.
        what: &'static str,
    },
    /// netpath does not decode what follows (an EtherType, IP protocol or link type it
    /// does not know). Not an error.
    Unsupported {
        /// What it is (`ethertype`, `ip-proto`, `link-type`).
        kind: &'static str,
        /// Its number.
        value: u32,
    },
    /// More than [`MAX_LAYERS`] layers, or tunnels nested too deep.
    TooDeep,
}

/// Where and why decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop {
    /// Byte offset in the frame.
    pub offset: u32,
    /// Why.
    pub reason: StopReason,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            StopReason::Truncated { layer, needed, .. } => write!(
                f,
                "truncated in {layer} at byte {} ({needed} bytes needed)",
                self.offset
            ),
            StopReason::Malformed { layer, what } => {
                write!(f, "malformed {layer} at byte {}: {what}", self.offset)
            }
            StopReason::Unsupported { kind, value } => {
                write!(f, "{kind} 0x{value:04x} not decoded (byte {})", self.offset)
            }
            StopReason::TooDeep => write!(f, "too many layers at byte {}", self.offset),
        }
    }
}

/// A decoded packet: its layers outer to inner, borrowed from the frame.
#[derive(Debug, Clone)]
pub struct Packet<'a> {
    /// The link type the frame was decoded as.
    pub link: LinkType,
    /// The captured bytes.
    pub frame: &'a [u8],
    /// The length on the wire (may exceed `frame.len()` when the snaplen cut it).
    pub orig_len: u32,
    /// Offset where undecoded payload (application data, unknown protocol) starts.
    pub payload_offset: u32,
    /// Why decoding stopped early, if it did.
    pub stop: Option<Stop>,
    layers: [Layer; MAX_LAYERS],
    n: u8,
}

impl<'a> Packet<'a> {
    /// An empty packet, to be filled by [`decode_into`].
    pub fn new(link: LinkType, frame: &'a [u8], orig_len: u32) -> Packet<'a> {
        const EMPTY: Layer = Layer {
            offset: 0,
            header: Header::FlannelUdp,
        };
        Packet {
            link,
            frame,
            orig_len,
            payload_offset: frame.len() as u32,
            stop: None,
            layers: [EMPTY; MAX_LAYERS],
            n: 0,
        }
    }

    fn reset(&mut self, link: LinkType, frame: &'a [u8], orig_len: u32) {
        self.link = link;
        self.frame = frame;
        self.orig_len = orig_len;
        self.payload_offset = frame.len() as u32;
        self.stop = None;
        self.n = 0;
    }

    /// The decoded layers, outer to inner.
    pub fn layers(&self) -> &[Layer] {
        &self.layers[..usize::from(self.n)]
    }

    /// Captured length.
    pub fn caplen(&self) -> u32 {
        self.frame.len() as u32
    }

    /// Whether the capture holds fewer bytes than were on the wire (snaplen).
    pub fn is_cut(&self) -> bool {
        (self.frame.len() as u64) < u64::from(self.orig_len)
    }

    /// Where the capture stops short, if it does: the innermost layer whose bytes are
    /// cut and the byte offset where the capture ends. `None` for a whole packet.
    pub fn truncation(&self) -> Option<(&'static str, u32)> {
        if let Some(Stop {
            offset,
            reason: StopReason::Truncated { layer, .. },
        }) = self.stop
        {
            return Some((layer, offset.max(self.caplen())));
        }
        if self.is_cut() {
            let layer = self
                .layers()
                .last()
                .map(|l| l.header.proto())
                .unwrap_or("frame");
            return Some((layer, self.caplen()));
        }
        None
    }

    /// The undecoded payload after the last layer.
    pub fn payload(&self) -> &'a [u8] {
        self.frame
            .get(self.payload_offset as usize..)
            .unwrap_or_default()
    }

    /// Whether any checksum in the packet is bad.
    pub fn has_bad_checksum(&self) -> bool {
        self.layers()
            .iter()
            .any(|l| l.header.checksum().is_some_and(|c| c.is_bad()))
    }

    /// Whether any IP header in the packet is a fragment.
    pub fn is_fragment(&self) -> bool {
        self.layers().iter().any(|l| match l.header {
            Header::Ipv4(ip) => ip.is_fragment(),
            Header::Ipv6(ip) => ip.fragment.is_some(),
            _ => false,
        })
    }

    /// Index of the innermost IP layer.
    pub fn inner_ip(&self) -> Option<usize> {
        self.layers().iter().rposition(|l| l.header.is_ip())
    }

    /// The tunnels, outer to inner (see [`Tunnel`]).
    pub fn tunnels(&self) -> tunnel::Tunnels<'_> {
        tunnel::Tunnels::new(self.layers())
    }

    /// Set the checksum verdict of the UDP layer at `index` (a tunnel's, known only once
    /// its inner packet is decoded).
    fn set_udp_checksum(&mut self, index: usize, checksum: Checksum) {
        if let Some(Layer {
            header: Header::Udp(u),
            ..
        }) = self.layers.get_mut(index)
        {
            u.checksum = checksum;
        }
    }

    fn push(&mut self, offset: usize, header: Header) -> bool {
        let n = usize::from(self.n);
        if n >= MAX_LAYERS {
            self.stop = Some(Stop {
                offset: offset as u32,
                reason: StopReason::TooDeep,
            });
            return false;
        }
        self.layers[n] = Layer {
            offset: offset as u32,
            header,
        };
        self.n += 1;
        true
    }
}
