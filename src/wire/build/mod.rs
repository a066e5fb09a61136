//! A packet builder: stack layers outer to inner, get bytes on the wire with every length
//! and checksum filled in.
//!
//! It writes what the project's test data, tests, fuzz seeds and benchmark generator need:
//! link headers (Ethernet, 802.1Q/QinQ, Linux cooked v1 and v2, BSD loopback, or none for raw
//! IP), ARP, IPv4 (id, DF, fragments, TTL), IPv6 (with hop-by-hop and fragment extension
//! headers), IP in IP (protocol 4) and IPv6 in IPv4 (41) simply by stacking IP layers, UDP,
//! TCP, ICMP, ICMPv6, VXLAN (VNI, GBP) with its inner Ethernet frame, and raw payload.
//! Ethertypes, IP protocol numbers and lengths follow from the stack; checksums are
//! correct unless a layer asks for a deliberately bad, zero or offloaded one, and a built
//! [`Frame`] can be cut to a snaplen to make truncated packets.
//!
//! ```
//! use netpath::wire::build::{Packet, Tcp, Vxlan, tcp_flags};
//! let frame = Packet::new()
//!     .ethernet([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
//!     .ipv4([192, 168, 1, 11], [192, 168, 1, 12])
//!     .udp(40000, 8472)
//!     .layer(Vxlan::new(1))
//!     .ethernet([0x4a, 0, 0, 0, 0, 1], [0x4a, 0, 0, 0, 0, 2])
//!     .ipv4([10, 244, 1, 5], [10, 244, 2, 7])
//!     .layer(Tcp::new(40624, 80).flags(tcp_flags::SYN))
//!     .build();
//! assert_eq!(frame.data.len(), 14 + 20 + 8 + 8 + 14 + 20 + 20);
//! ```

mod layers;
#[cfg(test)]
mod tests;

pub use layers::*;

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::{checksum, ethernet, icmp, ipv4, ipv6, tcp, udp, vlan};

/// One layer of a packet, outer to inner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    /// Ethernet II.
    Ethernet(Ethernet),
    /// 802.1Q / 802.1ad tag.
    Vlan(Vlan),
    /// Linux cooked v1.
    Sll(Sll),
    /// Linux cooked v2.
    Sll2(Sll2),
    /// BSD loopback.
    Null(Null),
    /// ARP.
    Arp(Arp),
    /// IPv4.
    Ipv4(Ipv4),
    /// IPv6.
    Ipv6(Ipv6),
    /// UDP.
    Udp(Udp),
    /// TCP.
    Tcp(Tcp),
    /// ICMP.
    Icmp(Icmp),
    /// ICMPv6.
    Icmpv6(Icmpv6),
    /// VXLAN.
    Vxlan(Vxlan),
    /// Bytes as they are.
    Raw(Vec<u8>),
}

macro_rules! layer_from {
    ($($t:ident),*) => {$(
        impl From<$t> for Layer {
            fn from(v: $t) -> Layer {
                Layer::$t(v)
            }
        }
    )*};
}
layer_from!(
    Ethernet, Vlan, Sll, Sll2, Null, Arp, Ipv4, Ipv6, Udp, Tcp, Icmp, Icmpv6, Vxlan
);

impl Layer {
    fn header_len(&self) -> usize {
        match self {
            Layer::Ethernet(_) => 14,
            Layer::Vlan(_) => 4,
            Layer::Sll(_) => 16,
            Layer::Sll2(_) => 20,
            Layer::Null(_) => 4,
            Layer::Arp(_) => 28,
            Layer::Ipv4(_) => 20,
            Layer::Ipv6(h) => 40 + 8 * h.ext.len(),
            Layer::Udp(_) => 8,
            Layer::Tcp(h) => h.header_len(),
            Layer::Icmp(_) | Layer::Icmpv6(_) => 8,
            Layer::Vxlan(_) => 8,
            Layer::Raw(b) => b.len(),
        }
    }

    /// The ethertype announcing this layer, if it is one that rides on an ethertype.
    fn ethertype(&self) -> Option<u16> {
        match self {
            Layer::Vlan(v) => Some(v.tpid),
            Layer::Ipv4(_) => Some(ethertype::IPV4),
            Layer::Ipv6(_) => Some(ethertype::IPV6),
            Layer::Arp(_) => Some(ethertype::ARP),
            _ => None,
        }
    }

    /// The IP protocol number announcing this layer.
    fn ip_protocol(&self) -> Option<u8> {
        match self {
            Layer::Ipv4(_) => Some(4),
            Layer::Ipv6(_) => Some(41),
            Layer::Tcp(_) => Some(6),
            Layer::Udp(_) => Some(17),
            Layer::Icmp(_) => Some(1),
            Layer::Icmpv6(_) => Some(58),
            _ => None,
        }
    }
}

/// A packet under construction: layers outer to inner, then a trailer that no length covers
/// (Ethernet padding).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Packet {
    /// The layers, outermost first.
    pub layers: Vec<Layer>,
    /// Bytes after the last layer that no length field counts.
    pub trailer: Vec<u8>,
    /// Pad the whole frame with zero trailer bytes up to this length (60 for Ethernet's minimum).
    pub min_len: usize,
}

/// A built packet: the captured bytes and the length it had on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The bytes (all of them, or the first `snaplen` after [`Frame::truncate`]).
    pub data: Vec<u8>,
    /// Length on the wire.
    pub orig_len: usize,
}

impl Frame {
    /// Keep only the first `snaplen` bytes, as a capture with that snaplen would.
    pub fn truncate(mut self, snaplen: usize) -> Frame {
        self.data.truncate(snaplen);
        self
    }
}

/// Protocol-agnostic number for "nothing announced" (RFC 3692 experimental).
const IP_PROTO_EXPERIMENTAL: u8 = 253;

impl Packet {
    /// An empty packet.
    pub fn new() -> Packet {
        Packet::default()
    }

    /// Push any layer.
    pub fn layer(mut self, layer: impl Into<Layer>) -> Packet {
        self.layers.push(layer.into());
        self
    }

    /// Push an Ethernet header.
    pub fn ethernet(self, src: [u8; 6], dst: [u8; 6]) -> Packet {
        self.layer(Ethernet {
            src,
            dst,
            ethertype: None,
        })
    }

    /// Push an 802.1Q tag.
    pub fn vlan(self, vid: u16) -> Packet {
        self.layer(Vlan::new(vid))
    }

    /// Push a Linux cooked v1 header for an Ethernet device.
    pub fn sll(self, packet_type: u8, src: [u8; 6]) -> Packet {
        self.layer(Sll {
            packet_type,
            hatype: 1,
            addr: src.to_vec(),
            protocol: None,
        })
    }

    /// Push a Linux cooked v2 header for an Ethernet device.
    pub fn sll2(self, ifindex: u32, packet_type: u8, src: [u8; 6]) -> Packet {
        self.layer(Sll2 {
            ifindex,
            packet_type,
            hatype: 1,
            addr: src.to_vec(),
            protocol: None,
        })
    }

    /// Push an IPv4 header with the defaults of [`Ipv4::new`].
    pub fn ipv4(self, src: impl Into<Ipv4Addr>, dst: impl Into<Ipv4Addr>) -> Packet {
        self.layer(Ipv4::new(src, dst))
    }

    /// Push an IPv6 header with the defaults of [`Ipv6::new`].
    pub fn ipv6(self, src: impl Into<Ipv6Addr>, dst: impl Into<Ipv6Addr>) -> Packet {
        self.layer(Ipv6::new(src, dst))
    }

    /// Push a UDP header with a correct checksum.
    pub fn udp(self, src_port: u16, dst_port: u16) -> Packet {
        self.layer(Udp::new(src_port, dst_port))
    }

    /// Push a VXLAN header with this VNI.
    pub fn vxlan(self, vni: u32) -> Packet {
        self.layer(Vxlan::new(vni))
    }

    /// Push payload bytes.
    pub fn payload(self, bytes: &[u8]) -> Packet {
        self.layer(Layer::Raw(bytes.to_vec()))
    }

    /// Push `len` payload bytes of a fixed pattern (0, 1, 2, … wrapping).
    pub fn payload_len(self, len: usize) -> Packet {
        self.layer(Layer::Raw((0..len).map(|i| i as u8).collect()))
    }

    /// Pad the frame with zeros to at least `len` bytes (60: the Ethernet minimum without FCS).
    pub fn pad_to(mut self, len: usize) -> Packet {
        self.min_len = len;
        self
    }

    /// Total length the built frame will have.
    pub fn len(&self) -> usize {
        let content: usize = self.layers.iter().map(Layer::header_len).sum();
        (content + self.trailer.len()).max(self.min_len)
    }

    /// True when there is nothing to build.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Build the frame.
    pub fn build(&self) -> Frame {
        let mut data = Vec::with_capacity(self.len());
        self.build_into(&mut data);
        let orig_len = data.len();
        Frame { data, orig_len }
    }

    /// Build the frame into `buf` (cleared first), reusing its allocation.
    pub fn build_into(&self, buf: &mut Vec<u8>) {
        buf.clear();
        let mut offsets = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            offsets.push(buf.len());
            write_header(buf, layer, self.layers.get(i + 1));
        }
        let end = buf.len();
        buf.extend_from_slice(&self.trailer);
        if buf.len() < self.min_len {
            buf.resize(self.min_len, 0);
        }
        // Lengths and checksums, innermost first: an outer checksum covers the inner bytes.
        for i in (0..self.layers.len()).rev() {
            let enclosing_ip = self.layers[..i]
                .iter()
                .zip(&offsets)
                .rev()
                .find(|(l, _)| matches!(l, Layer::Ipv4(_) | Layer::Ipv6(_)))
                .map(|(l, off)| (l, *off));
            fix_up(buf, offsets[i], end, &self.layers[i], enclosing_ip);
        }
    }
}

fn be16(buf: &mut Vec<u8>, v: u16) {
    buf.extend_from_slice(&v.to_be_bytes());
}

fn be32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_be_bytes());
}

fn next_ethertype(explicit: Option<u16>, next: Option<&Layer>) -> u16 {
    explicit
        .or_else(|| next.and_then(Layer::ethertype))
        .unwrap_or(ethertype::EXPERIMENTAL)
}

fn next_protocol(explicit: Option<u8>, next: Option<&Layer>) -> u8 {
    explicit
        .or_else(|| next.and_then(Layer::ip_protocol))
        .unwrap_or(IP_PROTO_EXPERIMENTAL)
}

fn cooked_addr(buf: &mut Vec<u8>, addr: &[u8]) {
    let mut a = [0u8; 8];
    let n = addr.len().min(8);
    a[..n].copy_from_slice(&addr[..n]);
    buf.extend_from_slice(&a);
}

/// Write one header with placeholder lengths and checksums.
fn write_header(buf: &mut Vec<u8>, layer: &Layer, next: Option<&Layer>) {
    match layer {
        Layer::Ethernet(h) => {
            ethernet::emit(buf, h.dst, h.src, next_ethertype(h.ethertype, next));
        }
        Layer::Vlan(h) => vlan::emit(buf, h.pcp, h.vid, next_ethertype(h.ethertype, next)),
        Layer::Sll(h) => {
            be16(buf, u16::from(h.packet_type));
            be16(buf, h.hatype);
            be16(buf, h.addr.len().min(8) as u16);
            cooked_addr(buf, &h.addr);
            be16(buf, next_ethertype(h.protocol, next));
        }
        Layer::Sll2(h) => {
            be16(buf, next_ethertype(h.protocol, next));
            be16(buf, 0);
            be32(buf, h.ifindex);
            be16(buf, h.hatype);
            buf.push(h.packet_type);
            buf.push(h.addr.len().min(8) as u8);
            cooked_addr(buf, &h.addr);
        }
        Layer::Null(h) => {
            let family = h.family.unwrap_or(match next {
                Some(Layer::Ipv6(_)) => 24,
                _ => 2,
            });
            buf.extend_from_slice(&family.to_le_bytes());
        }
        Layer::Arp(h) => {
            be16(buf, 1);
            be16(buf, ethertype::IPV4);
            buf.push(6);
            buf.push(4);
            be16(buf, h.op);
            buf.extend_from_slice(&h.sender_mac);
            buf.extend_from_slice(&h.sender_ip.octets());
            buf.extend_from_slice(&h.target_mac);
            buf.extend_from_slice(&h.target_ip.octets());
        }
        Layer::Ipv4(h) => {
            buf.push(0x45);
            buf.push(h.tos);
            be16(buf, 0); // total length
            be16(buf, h.id);
            let flags = (u16::from(h.df) << 14) | (u16::from(h.mf) << 13);
            be16(buf, flags | (h.frag_offset & 0x1fff));
            buf.push(h.ttl);
            buf.push(next_protocol(h.protocol, next));
            be16(buf, 0); // checksum
            buf.extend_from_slice(&h.src.octets());
            buf.extend_from_slice(&h.dst.octets());
        }
        Layer::Ipv6(h) => {
            let word = (6u32 << 28) | (u32::from(h.traffic_class) << 20) | (h.flow_label & 0xfffff);
            be32(buf, word);
            be16(buf, 0); // payload length
            let last = next_protocol(h.next_header, next);
            let first = h.ext.first().map_or(last, |e| e.number());
            buf.push(first);
            buf.push(h.hop_limit);
            buf.extend_from_slice(&h.src.octets());
            buf.extend_from_slice(&h.dst.octets());
            for (i, ext) in h.ext.iter().enumerate() {
                let nh = h.ext.get(i + 1).map_or(last, |e| e.number());
                match *ext {
                    Ipv6Ext::HopByHop => {
                        // Next header, length 0 (8 bytes), PadN with 4 bytes of padding.
                        buf.extend_from_slice(&[nh, 0, 1, 4, 0, 0, 0, 0]);
                    }
                    Ipv6Ext::Fragment { offset, more, id } => {
                        buf.extend_from_slice(&[nh, 0]);
                        be16(buf, ((offset & 0x1fff) << 3) | u16::from(more));
                        be32(buf, id);
                    }
                }
            }
        }
        Layer::Udp(h) => udp::emit(buf, h.src_port, h.dst_port),
        Layer::Tcp(h) => {
            be16(buf, h.src_port);
            be16(buf, h.dst_port);
            be32(buf, h.seq);
            be32(buf, h.ack);
            let words = (h.header_len() / 4) as u8;
            buf.push(words << 4);
            buf.push(h.flags);
            be16(buf, h.window);
            be16(buf, 0); // checksum
            be16(buf, h.urgent);
            buf.extend_from_slice(&h.options);
            let pad = h.header_len() - 20 - h.options.len();
            buf.extend(std::iter::repeat_n(0, pad));
        }
        Layer::Icmp(Icmp {
            icmp_type,
            code,
            rest,
            ..
        })
        | Layer::Icmpv6(Icmpv6 {
            icmp_type,
            code,
            rest,
            ..
        }) => {
            buf.push(*icmp_type);
            buf.push(*code);
            be16(buf, 0);
            buf.extend_from_slice(rest);
        }
        Layer::Vxlan(h) => {
            buf.push(h.flags);
            match h.gbp {
                Some(g) => {
                    buf.push((u8::from(g.dont_learn) << 6) | (u8::from(g.applied) << 3));
                    be16(buf, g.group);
                }
                None => buf.extend_from_slice(&[0, 0, 0]),
            }
            be32(buf, (h.vni & 0x00ff_ffff) << 8);
        }
        Layer::Raw(b) => buf.extend_from_slice(b),
    }
}

fn put16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

fn len16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Fill in the length and checksum fields of the layer at `off`, whose content ends at `end`.
fn fix_up(
    buf: &mut [u8],
    off: usize,
    end: usize,
    layer: &Layer,
    enclosing_ip: Option<(&Layer, usize)>,
) {
    match layer {
        Layer::Ipv4(h) => {
            let header = off + ipv4::HEADER_LEN;
            put16(buf, off + ipv4::field::TOTAL_LEN, len16(end - off));
            let correct = internet_checksum(&buf[off..header], 0);
            put16(
                buf,
                off + ipv4::field::CHECKSUM,
                apply(h.checksum, correct, 0, false),
            );
        }
        Layer::Ipv6(_) => put16(
            buf,
            off + ipv6::field::PAYLOAD_LEN,
            len16(end - off - ipv6::HEADER_LEN),
        ),
        Layer::Udp(h) => {
            let len = h.length.unwrap_or(len16(end - off));
            put16(buf, off + udp::field::LENGTH, len);
            let pseudo = pseudo_sum(enclosing_ip, buf, udp::PROTOCOL, end - off);
            let correct = internet_checksum(&buf[off..end], pseudo);
            put16(
                buf,
                off + udp::field::CHECKSUM,
                apply(h.checksum, correct, pseudo, true),
            );
        }
        Layer::Tcp(h) => {
            let pseudo = pseudo_sum(enclosing_ip, buf, tcp::PROTOCOL, end - off);
            let correct = internet_checksum(&buf[off..end], pseudo);
            put16(
                buf,
                off + tcp::field::CHECKSUM,
                apply(h.checksum, correct, pseudo, false),
            );
        }
        Layer::Icmp(h) => {
            let correct = internet_checksum(&buf[off..end], 0);
            put16(
                buf,
                off + icmp::field::CHECKSUM,
                apply(h.checksum, correct, 0, false),
            );
        }
        Layer::Icmpv6(h) => {
            let pseudo = pseudo_sum(enclosing_ip, buf, ipv4::protocol::ICMPV6, end - off);
            let correct = internet_checksum(&buf[off..end], pseudo);
            put16(
                buf,
                off + icmp::field::CHECKSUM,
                apply(h.checksum, correct, pseudo, false),
            );
        }
        _ => {}
    }
}

/// The value to store for a checksum mode. `pseudo` is the unfolded pseudo-header sum.
fn apply(mode: Checksum, correct: u16, pseudo: u64, udp: bool) -> u16 {
    // UDP transmits a computed 0 as 0xffff (0 means "no checksum").
    let correct = if udp && correct == 0 { 0xffff } else { correct };
    match mode {
        Checksum::Correct => correct,
        Checksum::Bad => match correct ^ 0x5a5a {
            0 => 0xa5a5,
            v => v,
        },
        Checksum::Zero => 0,
        Checksum::Offloaded => checksum::fold(pseudo),
        Checksum::Value(v) => v,
    }
}

/// Sum of the pseudo-header for a transport checksum (RFC 768/793 for IPv4, RFC 8200 §8.1
/// for IPv6), unfolded. Zero when there is no IP layer around.
fn pseudo_sum(ip: Option<(&Layer, usize)>, buf: &[u8], protocol: u8, len: usize) -> u64 {
    let addr4 = |at: usize| [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
    match ip {
        // An IPv4 length field holds 16 bits.
        Some((Layer::Ipv4(_), off)) => checksum::pseudo_v4(
            addr4(off + ipv4::field::SRC.start),
            addr4(off + ipv4::field::DST.start),
            protocol,
            len as u32 & 0xffff,
        ),
        Some((Layer::Ipv6(_), off)) => {
            let len = len as u32;
            checksum::sum(
                &buf[off + ipv6::field::SRC.start..off + ipv6::field::DST.end],
                0,
            ) + u64::from(protocol)
                + u64::from(len >> 16)
                + u64::from(len & 0xffff)
        }
        _ => 0,
    }
}

/// The Internet checksum (RFC 1071) of `data` with `initial` already summed in (a
/// pseudo-header), with the checksum field itself zero in `data`.
pub fn internet_checksum(data: &[u8], initial: u64) -> u16 {
    !checksum::fold(checksum::sum(data, initial))
}
