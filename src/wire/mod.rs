//! Wire formats: one module per protocol, each a view over borrowed bytes plus a small
//! parsed form (or, where the decoder still parses with etherparse, the field offsets and
//! numbers), in the style of smoltcp's `wire` modules. The decoder reads and the packet
//! builder writes through the same declarations.
//!
//! - [`ethernet`], [`vlan`], [`ipv4`], [`ipv6`], [`udp`], [`tcp`], [`icmp`]: the field
//!   offsets, numbers and (for the fixed-size ones) views that the decoder reads and the
//!   packet builder writes;
//! - [`vxlan`]: the 8-byte VXLAN header (RFC 7348) with the Group Based Policy bits;
//! - [`sll`] and [`sll2`]: Linux cooked capture headers v1 (16 bytes) and v2 (20 bytes);
//! - [`null`]: BSD loopback / `DLT_NULL` / `DLT_LOOP` 4-byte family header;
//! - [`flannel`]: Flannel's old UDP backend (port 8285, raw IP inside);
//! - [`ipip`]: IPv4-in-IPv4 (protocol 4) and IPv6-in-IPv4 (protocol 41) as Linux numbers them;
//! - [`build`]: a packet builder for tests, test data and the benchmark generator;
//! - [`checksum`]: the Internet checksum (RFC 1071), fast over whole segments;
//! - [`LinkType`]: the pcap `LINKTYPE_*` values netpath decodes.

pub mod build;
pub mod checksum;
pub mod ethernet;
pub mod flannel;
pub mod geneve;
pub mod icmp;
pub mod ipip;
pub mod ipv4;
pub mod ipv6;
pub mod null;
pub mod sll;
pub mod sll2;
pub mod tcp;
pub mod udp;
pub mod vlan;
pub mod vxlan;

use std::fmt;

/// A pcap link type (`LINKTYPE_*` / `DLT_*` value) as stored in a capture file header or a
/// pcapng interface block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// `DLT_NULL`: BSD loopback, 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// `LINKTYPE_ETHERNET` (DLT_EN10MB).
    pub const ETHERNET: LinkType = LinkType(1);
    /// `DLT_RAW` as BSD numbers it (12 on most systems).
    pub const RAW_12: LinkType = LinkType(12);
    /// `DLT_RAW` as OpenBSD numbers it (14).
    pub const RAW_14: LinkType = LinkType(14);
    /// `LINKTYPE_RAW` (101): a bare IPv4 or IPv6 packet, what `tcpdump -i tunl0` writes.
    pub const RAW: LinkType = LinkType(101);
    /// `DLT_LOOP` (108): OpenBSD loopback, family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// `LINKTYPE_LINUX_SLL` (113): Linux cooked capture v1 (`tcpdump -i any`, older).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// `LINKTYPE_IPV4` (228): bare IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// `LINKTYPE_IPV6` (229): bare IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// `LINKTYPE_LINUX_SLL2` (276): Linux cooked capture v2 (`tcpdump -i any` since 4.99).
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// Whether netpath decodes frames of this link type.
    pub fn is_supported(self) -> bool {
        matches!(self.0, 0 | 1 | 12 | 14 | 101 | 108 | 113 | 228 | 229 | 276)
    }

    /// A short name (`ethernet`, `linux-sll2`, `raw`, …), or `None` for a type netpath does
    /// not know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "null",
            1 => "ethernet",
            12 | 14 | 101 => "raw",
            108 => "loop",
            113 => "linux-sll",
            228 => "ipv4",
            229 => "ipv6",
            276 => "linux-sll2",
            _ => return None,
        })
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({})", self.0),
            None => write!(f, "unknown link type {}", self.0),
        }
    }
}

/// Read a big-endian u16 at `off`; the caller has checked the length.
#[inline]
pub(crate) fn be16(b: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([b[off], b[off + 1]])
}

/// Read a big-endian u32 at `off`; the caller has checked the length.
#[inline]
pub(crate) fn be32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// A header was shorter than its fixed length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated {
    /// Bytes the header needs.
    pub needed: usize,
    /// Bytes that were there.
    pub got: usize,
}

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "needs {} bytes, {} captured", self.needed, self.got)
    }
}

impl std::error::Error for Truncated {}

/// Check that `b` holds at least `needed` bytes.
#[inline]
pub(crate) fn need(b: &[u8], needed: usize) -> Result<(), Truncated> {
    if b.len() < needed {
        Err(Truncated {
            needed,
            got: b.len(),
        })
    } else {
        Ok(())
    }
}
