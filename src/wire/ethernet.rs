//! Ethernet II (IEEE 802.3 with an EtherType): destination, source, EtherType.
//!
//! ```text
//! | destination MAC (6) | source MAC (6) | EtherType (2) | payload …
//! ```

use super::{Truncated, be16, need};

/// Length of the Ethernet II header.
pub const HEADER_LEN: usize = 14;

/// Where each field sits in the header.
pub mod field {
    use std::ops::Range;
    /// Destination MAC.
    pub const DST: Range<usize> = 0..6;
    /// Source MAC.
    pub const SRC: Range<usize> = 6..12;
    /// EtherType (or, below 0x0600, an 802.3 length).
    pub const ETHERTYPE: usize = 12;
}

/// EtherTypes netpath decodes and builds.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// RARP (ARP's format).
    pub const RARP: u16 = 0x8035;
    /// 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (the outer tag of QinQ).
    pub const QINQ: u16 = 0x88a8;
    /// The pre-standard QinQ outer tag some switches still send.
    pub const QINQ_OLD: u16 = 0x9100;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// Local experimental EtherType (the builder's raw payloads).
    pub const EXPERIMENTAL: u16 = 0x88b5;
    /// Values below this are 802.3 lengths, not EtherTypes.
    pub const MIN_ETHERTYPE: u16 = 0x0600;
}

/// A view over the bytes of an Ethernet II header (and what follows).
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// A view over `buf`, which must hold at least the 14-byte header.
    #[inline]
    pub fn new_checked(buf: &'a [u8]) -> Result<Packet<'a>, Truncated> {
        need(buf, HEADER_LEN)?;
        Ok(Packet { buf })
    }

    /// The destination MAC.
    #[inline]
    pub fn dst(&self) -> [u8; 6] {
        let b = self.buf;
        [b[0], b[1], b[2], b[3], b[4], b[5]]
    }

    /// The source MAC.
    #[inline]
    pub fn src(&self) -> [u8; 6] {
        let b = self.buf;
        [b[6], b[7], b[8], b[9], b[10], b[11]]
    }

    /// The EtherType.
    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(self.buf, field::ETHERTYPE)
    }
}

/// Write an Ethernet II header to the end of `buf`.
pub fn emit(buf: &mut Vec<u8>, dst: [u8; 6], src: [u8; 6], ethertype: u16) {
    buf.extend_from_slice(&dst);
    buf.extend_from_slice(&src);
    buf.extend_from_slice(&ethertype.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_then_view_round_trips() {
        let mut b = Vec::new();
        emit(
            &mut b,
            [1, 2, 3, 4, 5, 6],
            [7, 8, 9, 10, 11, 12],
            ethertype::IPV6,
        );
        let p = Packet::new_checked(&b).unwrap();
        assert_eq!(p.dst(), [1, 2, 3, 4, 5, 6]);
        assert_eq!(p.src(), [7, 8, 9, 10, 11, 12]);
        assert_eq!(p.ethertype(), ethertype::IPV6);
        assert!(Packet::new_checked(&b[..13]).is_err());
    }
}
