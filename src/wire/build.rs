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

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::checksum;

/// How a layer's checksum field is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Checksum {
    /// The correct checksum.
    #[default]
    Correct,
    /// A wrong, non-zero value (the correct one with bits flipped).
    Bad,
    /// Zero: for UDP over IPv4 "no checksum" (what Linux VXLAN sends by default).
    Zero,
    /// What a capture on the sending host sees with checksum offload (CHECKSUM_PARTIAL):
    /// only the pseudo-header sum, not complemented. For IPv4 and ICMP headers, which
    /// Linux does not offload, this writes zero.
    Offloaded,
    /// Exactly this value.
    Value(u16),
}

/// TCP flag bits, to OR together for [`Tcp::flags`].
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
    /// ECE.
    pub const ECE: u8 = 0x40;
    /// CWR.
    pub const CWR: u8 = 0x80;
}

/// Ethertypes the builder writes.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (the outer tag of QinQ).
    pub const QINQ: u16 = 0x88a8;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// Local experimental ethertype, used before a [`super::Layer::Raw`] payload.
    pub const EXPERIMENTAL: u16 = 0x88b5;
}

/// pcap link-layer header types (LINKTYPE_* values from tcpdump.org) for what the builder makes.
pub mod linktype {
    /// BSD loopback (`LINKTYPE_NULL`): a 4-byte host-order address family.
    pub const NULL: u32 = 0;
    /// Ethernet.
    pub const ETHERNET: u32 = 1;
    /// Raw IP, no link header (`tunl0`, `wg0`).
    pub const RAW: u32 = 101;
    /// Linux cooked capture v1 (16-byte header).
    pub const LINUX_SLL: u32 = 113;
    /// Linux cooked capture v2 (20-byte header; `tcpdump -i any` writes it).
    pub const LINUX_SLL2: u32 = 276;
}

/// Linux `sll_pkttype` values for the cooked headers.
pub mod packet_type {
    /// To us.
    pub const HOST: u8 = 0;
    /// Broadcast.
    pub const BROADCAST: u8 = 1;
    /// Multicast.
    pub const MULTICAST: u8 = 2;
    /// To someone else (promiscuous).
    pub const OTHERHOST: u8 = 3;
    /// Sent by us.
    pub const OUTGOING: u8 = 4;
}

/// An Ethernet II header. The ethertype follows from the next layer unless set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ethernet {
    /// Source MAC.
    pub src: [u8; 6],
    /// Destination MAC.
    pub dst: [u8; 6],
    /// Ethertype override (otherwise taken from the next layer).
    pub ethertype: Option<u16>,
}

/// An 802.1Q (or 802.1ad) VLAN tag. The previous layer's ethertype becomes `tpid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vlan {
    /// Tag protocol identifier: 0x8100 (802.1Q) or 0x88a8 (802.1ad, QinQ outer tag).
    pub tpid: u16,
    /// VLAN id (12 bits).
    pub vid: u16,
    /// Priority code point (3 bits).
    pub pcp: u8,
    /// Ethertype override for what follows the tag.
    pub ethertype: Option<u16>,
}

impl Vlan {
    /// An 802.1Q tag with this VLAN id, priority 0.
    pub fn new(vid: u16) -> Vlan {
        Vlan {
            tpid: ethertype::VLAN,
            vid,
            pcp: 0,
            ethertype: None,
        }
    }

    /// An 802.1ad service tag (the outer tag of QinQ).
    pub fn service(vid: u16) -> Vlan {
        Vlan {
            tpid: ethertype::QINQ,
            ..Vlan::new(vid)
        }
    }
}

/// A Linux cooked capture v1 header (LINKTYPE_LINUX_SLL, 16 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sll {
    /// `sll_pkttype` (see [`packet_type`]).
    pub packet_type: u8,
    /// ARPHRD_ type of the device (1 = Ethernet, 768 = IPIP tunnel).
    pub hatype: u16,
    /// Link-layer source address (up to 8 bytes; Ethernet: 6).
    pub addr: Vec<u8>,
    /// Protocol override (otherwise the next layer's ethertype).
    pub protocol: Option<u16>,
}

/// A Linux cooked capture v2 header (LINKTYPE_LINUX_SLL2, 20 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sll2 {
    /// Interface index the packet was seen on.
    pub ifindex: u32,
    /// `sll_pkttype` (see [`packet_type`]).
    pub packet_type: u8,
    /// ARPHRD_ type of the device (1 = Ethernet, 768 = IPIP tunnel).
    pub hatype: u16,
    /// Link-layer source address (up to 8 bytes; Ethernet: 6).
    pub addr: Vec<u8>,
    /// Protocol override (otherwise the next layer's ethertype).
    pub protocol: Option<u16>,
}

/// BSD loopback header (LINKTYPE_NULL): the address family in host byte order
/// (written little-endian, as on x86): 2 for IPv4, 24 for IPv6.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Null {
    /// Family override (otherwise from the next layer).
    pub family: Option<u32>,
}

/// An ARP packet for IPv4 over Ethernet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arp {
    /// 1 request, 2 reply.
    pub op: u16,
    /// Sender MAC.
    pub sender_mac: [u8; 6],
    /// Sender IPv4 address.
    pub sender_ip: Ipv4Addr,
    /// Target MAC.
    pub target_mac: [u8; 6],
    /// Target IPv4 address.
    pub target_ip: Ipv4Addr,
}

/// An IPv4 header (20 bytes, no options). Protocol, total length and header checksum
/// follow from the stack unless overridden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4 {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live (default 64).
    pub ttl: u8,
    /// Identification (default 0).
    pub id: u16,
    /// Don't Fragment (default set, as Linux sets it on TCP and path-MTU-probing UDP).
    pub df: bool,
    /// More Fragments.
    pub mf: bool,
    /// Fragment offset in 8-byte units.
    pub frag_offset: u16,
    /// DSCP and ECN byte.
    pub tos: u8,
    /// Protocol override (otherwise from the next layer: 4 IPIP, 41 IPv6, 6 TCP, 17 UDP, 1 ICMP).
    pub protocol: Option<u8>,
    /// Header checksum.
    pub checksum: Checksum,
}

impl Ipv4 {
    /// A header from `src` to `dst`: TTL 64, id 0, DF set.
    pub fn new(src: impl Into<Ipv4Addr>, dst: impl Into<Ipv4Addr>) -> Ipv4 {
        Ipv4 {
            src: src.into(),
            dst: dst.into(),
            ttl: 64,
            id: 0,
            df: true,
            mf: false,
            frag_offset: 0,
            tos: 0,
            protocol: None,
            checksum: Checksum::Correct,
        }
    }

    /// Set the TTL.
    pub fn ttl(mut self, ttl: u8) -> Ipv4 {
        self.ttl = ttl;
        self
    }

    /// Set the identification field.
    pub fn id(mut self, id: u16) -> Ipv4 {
        self.id = id;
        self
    }

    /// Set or clear Don't Fragment.
    pub fn df(mut self, df: bool) -> Ipv4 {
        self.df = df;
        self
    }

    /// Make this a fragment: offset in 8-byte units and the More Fragments bit (clears DF).
    pub fn fragment(mut self, frag_offset: u16, more: bool) -> Ipv4 {
        self.frag_offset = frag_offset;
        self.mf = more;
        self.df = false;
        self
    }

    /// Set the header checksum mode.
    pub fn checksum(mut self, checksum: Checksum) -> Ipv4 {
        self.checksum = checksum;
        self
    }

    /// Override the protocol number.
    pub fn protocol(mut self, protocol: u8) -> Ipv4 {
        self.protocol = Some(protocol);
        self
    }
}

/// An IPv6 extension header the builder can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Ext {
    /// Hop-by-hop options holding one PadN option (8 bytes).
    HopByHop,
    /// A fragment header (8 bytes).
    Fragment {
        /// Offset in 8-byte units.
        offset: u16,
        /// More Fragments.
        more: bool,
        /// Identification.
        id: u32,
    },
}

impl Ipv6Ext {
    fn number(self) -> u8 {
        match self {
            Ipv6Ext::HopByHop => 0,
            Ipv6Ext::Fragment { .. } => 44,
        }
    }
}

/// An IPv6 header with optional extension headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6 {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Hop limit (default 64).
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// Extension headers, in order.
    pub ext: Vec<Ipv6Ext>,
    /// Next-header override for the last header of the chain.
    pub next_header: Option<u8>,
}

impl Ipv6 {
    /// A header from `src` to `dst`, hop limit 64, no extension headers.
    pub fn new(src: impl Into<Ipv6Addr>, dst: impl Into<Ipv6Addr>) -> Ipv6 {
        Ipv6 {
            src: src.into(),
            dst: dst.into(),
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
            ext: Vec::new(),
            next_header: None,
        }
    }

    /// Set the hop limit.
    pub fn hop_limit(mut self, hop_limit: u8) -> Ipv6 {
        self.hop_limit = hop_limit;
        self
    }

    /// Append an extension header.
    pub fn ext(mut self, ext: Ipv6Ext) -> Ipv6 {
        self.ext.push(ext);
        self
    }
}

/// A UDP header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Udp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Checksum mode.
    pub checksum: Checksum,
    /// Length override (otherwise header plus payload).
    pub length: Option<u16>,
}

impl Udp {
    /// A header with a correct checksum.
    pub fn new(src_port: u16, dst_port: u16) -> Udp {
        Udp {
            src_port,
            dst_port,
            checksum: Checksum::Correct,
            length: None,
        }
    }

    /// Set the checksum mode.
    pub fn checksum(mut self, checksum: Checksum) -> Udp {
        self.checksum = checksum;
        self
    }
}

/// A TCP header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tcp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flags (see [`tcp_flags`]).
    pub flags: u8,
    /// Receive window.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Raw options, padded with zeros (end of list) to a multiple of 4.
    pub options: Vec<u8>,
    /// Checksum mode.
    pub checksum: Checksum,
}

impl Tcp {
    /// A header with seq 0, ack 0, no flags, window 64240.
    pub fn new(src_port: u16, dst_port: u16) -> Tcp {
        Tcp {
            src_port,
            dst_port,
            seq: 0,
            ack: 0,
            flags: 0,
            window: 64240,
            urgent: 0,
            options: Vec::new(),
            checksum: Checksum::Correct,
        }
    }

    /// Set the flags.
    pub fn flags(mut self, flags: u8) -> Tcp {
        self.flags = flags;
        self
    }

    /// Set the sequence and acknowledgement numbers.
    pub fn seq_ack(mut self, seq: u32, ack: u32) -> Tcp {
        self.seq = seq;
        self.ack = ack;
        self
    }

    /// Set the window.
    pub fn window(mut self, window: u16) -> Tcp {
        self.window = window;
        self
    }

    /// Add an MSS option.
    pub fn mss(mut self, mss: u16) -> Tcp {
        self.options.extend_from_slice(&[2, 4]);
        self.options.extend_from_slice(&mss.to_be_bytes());
        self
    }

    /// Set the checksum mode.
    pub fn checksum(mut self, checksum: Checksum) -> Tcp {
        self.checksum = checksum;
        self
    }

    fn header_len(&self) -> usize {
        20 + self.options.len().div_ceil(4) * 4
    }
}

/// An ICMP (v4) header: type, code, checksum and the 4 bytes after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmp {
    /// Type (8 echo request, 0 echo reply, 3 unreachable, 11 time exceeded).
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// The 4 bytes after the checksum (echo: id and sequence; frag needed: unused and MTU).
    pub rest: [u8; 4],
    /// Checksum mode.
    pub checksum: Checksum,
}

impl Icmp {
    /// An echo request.
    pub fn echo_request(id: u16, seq: u16) -> Icmp {
        Icmp::echo(8, id, seq)
    }

    /// An echo reply.
    pub fn echo_reply(id: u16, seq: u16) -> Icmp {
        Icmp::echo(0, id, seq)
    }

    fn echo(icmp_type: u8, id: u16, seq: u16) -> Icmp {
        let mut rest = [0; 4];
        rest[..2].copy_from_slice(&id.to_be_bytes());
        rest[2..].copy_from_slice(&seq.to_be_bytes());
        Icmp {
            icmp_type,
            code: 0,
            rest,
            checksum: Checksum::Correct,
        }
    }

    /// Destination unreachable, fragmentation needed, with the next-hop MTU (follow it
    /// with the offending IP header).
    pub fn frag_needed(mtu: u16) -> Icmp {
        let mut rest = [0; 4];
        rest[2..].copy_from_slice(&mtu.to_be_bytes());
        Icmp {
            icmp_type: 3,
            code: 4,
            rest,
            checksum: Checksum::Correct,
        }
    }

    /// Set the checksum mode.
    pub fn checksum(mut self, checksum: Checksum) -> Icmp {
        self.checksum = checksum;
        self
    }
}

/// An ICMPv6 header; the checksum covers the IPv6 pseudo-header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv6 {
    /// Type (128 echo request, 129 echo reply).
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// The 4 bytes after the checksum.
    pub rest: [u8; 4],
    /// Checksum mode.
    pub checksum: Checksum,
}

impl Icmpv6 {
    /// An echo request.
    pub fn echo_request(id: u16, seq: u16) -> Icmpv6 {
        let mut rest = [0; 4];
        rest[..2].copy_from_slice(&id.to_be_bytes());
        rest[2..].copy_from_slice(&seq.to_be_bytes());
        Icmpv6 {
            icmp_type: 128,
            code: 0,
            rest,
            checksum: Checksum::Correct,
        }
    }
}

/// A VXLAN header (RFC 7348), optionally with the Group Based Policy extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vxlan {
    /// VXLAN network identifier (24 bits).
    pub vni: u32,
    /// First flags byte (0x08: the I bit, "VNI valid"; GBP adds 0x80).
    pub flags: u8,
    /// Group Based Policy: group id, with the Don't Learn and Applied bits.
    pub gbp: Option<Gbp>,
}

/// VXLAN Group Based Policy extension fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gbp {
    /// Group policy id.
    pub group: u16,
    /// Don't Learn bit.
    pub dont_learn: bool,
    /// Policy Applied bit.
    pub applied: bool,
}

impl Vxlan {
    /// A plain VXLAN header with the I flag and this VNI.
    pub fn new(vni: u32) -> Vxlan {
        Vxlan {
            vni,
            flags: 0x08,
            gbp: None,
        }
    }

    /// Add the Group Based Policy extension (sets the G flag).
    pub fn gbp(mut self, gbp: Gbp) -> Vxlan {
        self.flags |= 0x80;
        self.gbp = Some(gbp);
        self
    }
}

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
            buf.extend_from_slice(&h.dst);
            buf.extend_from_slice(&h.src);
            be16(buf, next_ethertype(h.ethertype, next));
        }
        Layer::Vlan(h) => {
            be16(buf, (u16::from(h.pcp & 7) << 13) | (h.vid & 0x0fff));
            be16(buf, next_ethertype(h.ethertype, next));
        }
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
        Layer::Udp(h) => {
            be16(buf, h.src_port);
            be16(buf, h.dst_port);
            be16(buf, 0);
            be16(buf, 0);
        }
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
            put16(buf, off + 2, len16(end - off));
            let correct = internet_checksum(&buf[off..off + 20], 0);
            put16(buf, off + 10, apply(h.checksum, correct, 0, false));
        }
        Layer::Ipv6(_) => put16(buf, off + 4, len16(end - off - 40)),
        Layer::Udp(h) => {
            let len = h.length.unwrap_or(len16(end - off));
            put16(buf, off + 4, len);
            let pseudo = pseudo_sum(enclosing_ip, buf, 17, end - off);
            let correct = internet_checksum(&buf[off..end], pseudo);
            put16(buf, off + 6, apply(h.checksum, correct, pseudo, true));
        }
        Layer::Tcp(h) => {
            let pseudo = pseudo_sum(enclosing_ip, buf, 6, end - off);
            let correct = internet_checksum(&buf[off..end], pseudo);
            put16(buf, off + 16, apply(h.checksum, correct, pseudo, false));
        }
        Layer::Icmp(h) => {
            let correct = internet_checksum(&buf[off..end], 0);
            put16(buf, off + 2, apply(h.checksum, correct, 0, false));
        }
        Layer::Icmpv6(h) => {
            let pseudo = pseudo_sum(enclosing_ip, buf, 58, end - off);
            let correct = internet_checksum(&buf[off..end], pseudo);
            put16(buf, off + 2, apply(h.checksum, correct, pseudo, false));
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
            addr4(off + 12),
            addr4(off + 16),
            protocol,
            len as u32 & 0xffff,
        ),
        Some((Layer::Ipv6(_), off)) => {
            let len = len as u32;
            checksum::sum(&buf[off + 8..off + 40], 0)
                + u64::from(protocol)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_ok(data: &[u8], pseudo: u64) -> bool {
        checksum::fold(checksum::sum(data, pseudo)) == 0xffff
    }

    #[test]
    fn ipv4_udp_lengths_and_checksums() {
        let f = Packet::new()
            .ethernet([2; 6], [4; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
            .udp(1234, 53)
            .payload(b"hello")
            .build();
        let d = &f.data;
        assert_eq!(d.len(), 14 + 20 + 8 + 5);
        assert_eq!(&d[12..14], &[0x08, 0x00]);
        assert_eq!(u16::from_be_bytes([d[16], d[17]]), 33);
        assert_eq!(d[23], 17);
        assert!(sum_ok(&d[14..34], 0), "IPv4 header checksum");
        assert_eq!(u16::from_be_bytes([d[38], d[39]]), 13);
        let pseudo = checksum::sum(&d[26..34], 0) + 17 + 13;
        assert!(sum_ok(&d[34..], pseudo), "UDP checksum");
        // DF set, id 0.
        assert_eq!(&d[18..22], &[0, 0, 0x40, 0]);
    }

    #[test]
    fn vxlan_stack_and_zero_outer_checksum() {
        let f = Packet::new()
            .ethernet([2; 6], [4; 6])
            .ipv4([192, 168, 1, 11], [192, 168, 1, 12])
            .layer(Udp::new(40000, 8472).checksum(Checksum::Zero))
            .vxlan(1)
            .ethernet([6; 6], [8; 6])
            .ipv4([10, 244, 1, 5], [10, 244, 2, 7])
            .layer(Tcp::new(40624, 80).flags(tcp_flags::SYN).mss(1410))
            .build();
        let d = &f.data;
        assert_eq!(&d[40..42], &[0, 0], "outer UDP checksum zero");
        assert_eq!(&d[42..50], &[0x08, 0, 0, 0, 0, 0, 1, 0], "VXLAN VNI 1");
        let inner_ip = 50 + 14;
        assert_eq!(d[inner_ip + 9], 6);
        assert_eq!(
            u16::from_be_bytes([d[inner_ip + 2], d[inner_ip + 3]]),
            20 + 24
        );
        let tcp = inner_ip + 20;
        assert_eq!(d[tcp + 12] >> 4, 6, "TCP data offset with MSS option");
        let pseudo = checksum::sum(&d[inner_ip + 12..inner_ip + 20], 0) + 6 + 24;
        assert!(sum_ok(&d[tcp..], pseudo));
    }

    #[test]
    fn ipip_and_6in4_protocol_numbers() {
        let f = Packet::new()
            .ipv4([192, 168, 1, 1], [192, 168, 1, 2])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
            .build();
        assert_eq!(f.data[9], 4);
        assert_eq!(u16::from_be_bytes([f.data[2], f.data[3]]), 40);
        let f = Packet::new()
            .ipv4([192, 168, 1, 1], [192, 168, 1, 2])
            .ipv6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST)
            .build();
        assert_eq!(f.data[9], 41);
    }

    #[test]
    fn checksum_modes() {
        let build = |c: Checksum| {
            Packet::new()
                .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
                .layer(Tcp::new(1, 2).checksum(c))
                .build()
                .data
        };
        let good = build(Checksum::Correct);
        let bad = build(Checksum::Bad);
        let off = build(Checksum::Offloaded);
        let pseudo = checksum::sum(&good[12..20], 0) + 6 + 20;
        assert!(sum_ok(&good[20..], pseudo));
        assert!(!sum_ok(&bad[20..], pseudo));
        assert_ne!(&bad[36..38], &[0, 0]);
        assert_eq!(
            u16::from_be_bytes([off[36], off[37]]),
            checksum::fold(pseudo)
        );
        let v = build(Checksum::Value(0x1234));
        assert_eq!(&v[36..38], &[0x12, 0x34]);
    }

    #[test]
    fn ipv6_ext_chain_and_icmpv6() {
        let f = Packet::new()
            .layer(
                Ipv6::new(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST)
                    .ext(Ipv6Ext::HopByHop)
                    .ext(Ipv6Ext::Fragment {
                        offset: 0,
                        more: true,
                        id: 7,
                    }),
            )
            .layer(Icmpv6::echo_request(1, 2))
            .build();
        let d = &f.data;
        assert_eq!(d[6], 0, "first next-header: hop-by-hop");
        assert_eq!(d[40], 44, "hop-by-hop → fragment");
        assert_eq!(d[48], 58, "fragment → ICMPv6");
        assert_eq!(&d[50..52], &[0, 1], "M bit");
        assert_eq!(u16::from_be_bytes([d[4], d[5]]), 24);
        let pseudo = checksum::sum(&d[8..40], 0) + 8 + 58;
        assert!(sum_ok(&d[56..], pseudo));
    }

    #[test]
    fn cooked_headers_and_padding() {
        let f = Packet::new()
            .sll2(3, packet_type::OUTGOING, [1, 2, 3, 4, 5, 6])
            .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
            .build();
        assert_eq!(&f.data[0..2], &[0x08, 0x00]);
        assert_eq!(&f.data[4..8], &[0, 0, 0, 3]);
        assert_eq!(&f.data[8..12], &[0, 1, 4, 6]);
        let f = Packet::new()
            .sll(packet_type::HOST, [1, 2, 3, 4, 5, 6])
            .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
            .build();
        assert_eq!(&f.data[0..6], &[0, 0, 0, 1, 0, 6]);
        assert_eq!(&f.data[14..16], &[0x08, 0x00]);
        let f = Packet::new()
            .ethernet([2; 6], [4; 6])
            .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
            .layer(Icmp::echo_request(1, 1))
            .pad_to(60)
            .build();
        assert_eq!(f.data.len(), 60);
        assert_eq!(u16::from_be_bytes([f.data[16], f.data[17]]), 28);
        assert!(sum_ok(&f.data[34..42], 0), "ICMP checksum excludes padding");
    }

    #[test]
    fn qinq_tags() {
        let f = Packet::new()
            .ethernet([2; 6], [4; 6])
            .layer(Vlan::service(100))
            .vlan(200)
            .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
            .build();
        assert_eq!(&f.data[12..14], &[0x88, 0xa8]);
        assert_eq!(&f.data[14..18], &[0, 100, 0x81, 0x00]);
        assert_eq!(&f.data[18..22], &[0, 200, 0x08, 0x00]);
    }

    #[test]
    fn truncate_keeps_orig_len() {
        let f = Packet::new()
            .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
            .payload_len(100)
            .build()
            .truncate(30);
        assert_eq!(f.data.len(), 30);
        assert_eq!(f.orig_len, 120);
    }
}
