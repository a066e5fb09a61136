//! The layers a packet is built from: each a header's fields, with defaults for the rest.

use std::net::{Ipv4Addr, Ipv6Addr};

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

/// Ethertypes the builder writes (the decoder reads the same).
pub use crate::wire::ethernet::ethertype;

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
    pub(super) fn number(self) -> u8 {
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

    pub(super) fn header_len(&self) -> usize {
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
