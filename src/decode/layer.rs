//! The layers a decoded packet is made of, with the fields a network engineer reads.
//! Every type here is `Copy` and owns its few bytes (addresses are copied out of the
//! frame), so a [`super::Packet`] holds them in a fixed array without allocating.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::dataplane::MacAddr;
use crate::wire::{sll, sll2, vxlan};

/// One decoded header and where it starts in the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// Byte offset of the header in the captured frame.
    pub offset: u32,
    /// The header's fields.
    pub header: Header,
}

/// A decoded header, outer to inner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// Linux cooked capture v1.
    Sll(sll::Repr),
    /// Linux cooked capture v2.
    Sll2(sll2::Repr),
    /// BSD loopback / null: the address family value.
    Null {
        /// The address family (2 = IPv4; 10, 24, 28, 30 = IPv6).
        family: u32,
    },
    /// Ethernet II.
    Ethernet(Ethernet),
    /// One 802.1Q or 802.1ad tag.
    Vlan(Vlan),
    /// ARP.
    Arp(Arp),
    /// IPv4.
    Ipv4(Ipv4),
    /// IPv6 (with its extension headers summarised).
    Ipv6(Ipv6),
    /// UDP.
    Udp(Udp),
    /// TCP.
    Tcp(Tcp),
    /// ICMP for IPv4.
    Icmpv4(Icmp),
    /// ICMPv6.
    Icmpv6(Icmp),
    /// VXLAN.
    Vxlan(Vxlan),
    /// Flannel's UDP backend marker: the UDP payload is a raw IP packet.
    FlannelUdp,
    /// GENEVE.
    Geneve(crate::wire::geneve::Repr),
}

impl Header {
    /// The short protocol name used in JSON (`"proto"`) and in the tree view.
    pub fn proto(&self) -> &'static str {
        match self {
            Header::Sll(_) => "sll",
            Header::Sll2(_) => "sll2",
            Header::Null { .. } => "null",
            Header::Ethernet(_) => "eth",
            Header::Vlan(_) => "vlan",
            Header::Arp(_) => "arp",
            Header::Ipv4(_) => "ipv4",
            Header::Ipv6(_) => "ipv6",
            Header::Udp(_) => "udp",
            Header::Tcp(_) => "tcp",
            Header::Icmpv4(_) => "icmp",
            Header::Icmpv6(_) => "icmpv6",
            Header::Vxlan(_) => "vxlan",
            Header::FlannelUdp => "flannel-udp",
            Header::Geneve(_) => "geneve",
        }
    }

    /// Source and destination IP addresses, for an IP header.
    pub fn ip_addrs(&self) -> Option<(IpAddr, IpAddr)> {
        match self {
            Header::Ipv4(ip) => Some((IpAddr::V4(ip.src), IpAddr::V4(ip.dst))),
            Header::Ipv6(ip) => Some((IpAddr::V6(ip.src), IpAddr::V6(ip.dst))),
            _ => None,
        }
    }

    /// Whether this is an IPv4 or IPv6 header.
    pub fn is_ip(&self) -> bool {
        matches!(self, Header::Ipv4(_) | Header::Ipv6(_))
    }

    /// The checksum verdict of this header, for the headers that carry one.
    pub fn checksum(&self) -> Option<Checksum> {
        match self {
            Header::Ipv4(h) => Some(h.checksum),
            Header::Udp(h) => Some(h.checksum),
            Header::Tcp(h) => Some(h.checksum),
            Header::Icmpv4(h) | Header::Icmpv6(h) => Some(h.checksum),
            _ => None,
        }
    }
}

/// The verdict on a checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Verified correct.
    Good,
    /// Wrong: the field holds `found`, the data sums to `expected`.
    Bad {
        /// The value in the header.
        found: u16,
        /// The value the data calls for.
        expected: u16,
    },
    /// Not checkable: the field holds only the pseudo-header sum, i.e. the sending host
    /// left the checksum to the NIC (`CHECKSUM_PARTIAL`, captured before offload).
    Offloaded,
    /// Correct once the inner checksum, left to the NIC, is filled in: the outer UDP
    /// checksum of a tunnel made by Linux's local checksum offload (LCO,
    /// Documentation/networking/checksum-offloads.rst), seen when capturing on the sending
    /// host. Not an error.
    OffloadedLco,
    /// UDP over IPv4 with checksum 0: the sender did not compute one (allowed by RFC 768).
    Absent,
    /// Not checkable: the capture does not hold the whole segment (snaplen, or a length
    /// field pointing past the data).
    Truncated,
    /// Not checkable: the segment is one fragment of a larger IP datagram.
    Fragment,
    /// Not verified (`DecodeOptions::verify_checksums` off).
    Unchecked,
}

impl Checksum {
    /// True for [`Checksum::Bad`].
    pub fn is_bad(&self) -> bool {
        matches!(self, Checksum::Bad { .. })
    }

    /// The word used in every view: `good`, `bad`, `offloaded`, `offloaded-lco`, `absent`,
    /// `truncated`, `fragment`, `unchecked`.
    pub fn word(&self) -> &'static str {
        match self {
            Checksum::Good => "good",
            Checksum::Bad { .. } => "bad",
            Checksum::Offloaded => "offloaded",
            Checksum::OffloadedLco => "offloaded-lco",
            Checksum::Absent => "absent",
            Checksum::Truncated => "truncated",
            Checksum::Fragment => "fragment",
            Checksum::Unchecked => "unchecked",
        }
    }
}

/// Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ethernet {
    /// Destination MAC.
    pub dst: MacAddr,
    /// Source MAC.
    pub src: MacAddr,
    /// EtherType (or, below 0x0600, an 802.3 length).
    pub ethertype: u16,
}

/// An 802.1Q (TPID 0x8100) or 802.1ad (0x88a8, QinQ outer) tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vlan {
    /// The TPID that introduced this tag (0x8100, 0x88a8 or 0x9100).
    pub tpid: u16,
    /// Priority code point.
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN id.
    pub vid: u16,
    /// EtherType of what follows.
    pub ethertype: u16,
}

/// ARP. Addresses are filled for Ethernet/IPv4 ARP (`eth_ipv4`), zero otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    /// Operation: 1 request, 2 reply.
    pub op: u16,
    /// Hardware type (1 Ethernet).
    pub hw_type: u16,
    /// Protocol type (0x0800 IPv4).
    pub proto_type: u16,
    /// Whether this is Ethernet/IPv4 ARP (the addresses below are meaningful).
    pub eth_ipv4: bool,
    /// Sender MAC.
    pub sender_mac: MacAddr,
    /// Sender IPv4 address.
    pub sender_ip: Ipv4Addr,
    /// Target MAC.
    pub target_mac: MacAddr,
    /// Target IPv4 address.
    pub target_ip: Ipv4Addr,
}

/// How an IP header's length field relates to the bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpLength {
    /// The length field fits the frame.
    Ok,
    /// The length field is 0 (BIG TCP / GSO super-frames): the length is taken from the frame.
    ZeroFromFrame,
    /// The length field claims more bytes than the frame holds although the frame was
    /// not cut by the snaplen: the header lies (malformed).
    Exceeds {
        /// Bytes actually there from the start of this header.
        available: u32,
    },
    /// The length field is shorter than the header itself (malformed).
    ShorterThanHeader,
}

/// IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4 {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub id: u16,
    /// Don't fragment.
    pub df: bool,
    /// More fragments.
    pub mf: bool,
    /// Fragment offset in bytes.
    pub frag_offset: u16,
    /// Total length field.
    pub total_len: u16,
    /// Header length in bytes.
    pub header_len: u8,
    /// Protocol of the payload (6 TCP, 17 UDP, 1 ICMP, 4 IPIP, 41 IPv6).
    pub proto: u8,
    /// Type of service byte (DSCP and ECN).
    pub tos: u8,
    /// Header checksum verdict.
    pub checksum: Checksum,
    /// Length field sanity.
    pub length: IpLength,
}

impl Ipv4 {
    /// Whether this packet is a fragment (MF set or a non-zero offset).
    pub fn is_fragment(&self) -> bool {
        self.mf || self.frag_offset != 0
    }
}

/// IPv6 header with its extension headers summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6 {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Hop limit.
    pub hop_limit: u8,
    /// Payload length field (extension headers included).
    pub payload_len: u16,
    /// The next header field of the fixed header.
    pub next_header: u8,
    /// The protocol after all extension headers (6, 17, 58 …).
    pub proto: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// Number of extension headers walked.
    pub ext_headers: u8,
    /// The fragment extension header, when present.
    pub fragment: Option<Fragment6>,
    /// Length field sanity.
    pub length: IpLength,
}

/// An IPv6 fragment extension header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment6 {
    /// Fragment offset in bytes.
    pub offset: u16,
    /// More fragments.
    pub more: bool,
    /// Identification.
    pub id: u32,
}

/// UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length field (header included).
    pub length: u16,
    /// Checksum verdict.
    pub checksum: Checksum,
}

/// TCP flag bits (as in the header's low 9 bits of the 13th-14th bytes).
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u16 = 0x001;
    /// SYN.
    pub const SYN: u16 = 0x002;
    /// RST.
    pub const RST: u16 = 0x004;
    /// PSH.
    pub const PSH: u16 = 0x008;
    /// ACK.
    pub const ACK: u16 = 0x010;
    /// URG.
    pub const URG: u16 = 0x020;
    /// ECE.
    pub const ECE: u16 = 0x040;
    /// CWR.
    pub const CWR: u16 = 0x080;
    /// NS / AE (accurate ECN).
    pub const NS: u16 = 0x100;
}

/// TCP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tcp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number (raw).
    pub seq: u32,
    /// Acknowledgment number (raw).
    pub ack: u32,
    /// Flags (see [`tcp_flags`]).
    pub flags: u16,
    /// Window.
    pub window: u16,
    /// Header length in bytes.
    pub header_len: u8,
    /// Payload length per the IP length fields.
    pub payload_len: u32,
    /// Checksum verdict.
    pub checksum: Checksum,
}

/// ICMP or ICMPv6 message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmp {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Echo identifier and sequence number, for echo request/reply.
    pub echo: Option<(u16, u16)>,
    /// For error messages (unreachable, time exceeded …): the start of the packet that
    /// caused it.
    pub quote: Option<Quote>,
    /// Checksum verdict.
    pub checksum: Checksum,
}

/// The IP header (and ports) quoted inside an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// Quoted source address.
    pub src: IpAddr,
    /// Quoted destination address.
    pub dst: IpAddr,
    /// Quoted protocol.
    pub proto: u8,
    /// Quoted ports (TCP/UDP), when captured.
    pub ports: Option<(u16, u16)>,
}

/// VXLAN header and the UDP port it arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vxlan {
    /// The UDP destination port (8472, 4789, or a `--vxlan-port`).
    pub port: u16,
    /// Flags byte.
    pub flags: u8,
    /// VNI.
    pub vni: u32,
    /// GBP extension, when the G flag is set.
    pub gbp: Option<vxlan::Gbp>,
}

impl Vxlan {
    /// `flannel` for VNI 1 on 8472, `calico` for 4096 on 4789.
    pub fn cni_hint(&self) -> Option<&'static str> {
        crate::cni::cni_hint(self.port, self.vni)
    }
}
