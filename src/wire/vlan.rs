//! An 802.1Q (or 802.1ad) VLAN tag, as it follows the TPID that introduced it.
//!
//! ```text
//! | PCP (3) | DEI (1) | VLAN id (12) | EtherType (2) | payload …
//! ```

use super::{Truncated, be16, need};

/// Length of a tag after its TPID.
pub const HEADER_LEN: usize = 4;

/// Where each field sits in the tag.
pub mod field {
    /// Tag control information: PCP, DEI, VLAN id.
    pub const TCI: usize = 0;
    /// EtherType of what follows.
    pub const ETHERTYPE: usize = 2;
}

/// A view over the bytes of a VLAN tag (and what follows).
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// A view over `buf`, which must hold at least the 4-byte tag.
    #[inline]
    pub fn new_checked(buf: &'a [u8]) -> Result<Packet<'a>, Truncated> {
        need(buf, HEADER_LEN)?;
        Ok(Packet { buf })
    }

    /// Priority code point (3 bits).
    #[inline]
    pub fn pcp(&self) -> u8 {
        self.buf[field::TCI] >> 5
    }

    /// Drop eligible indicator.
    #[inline]
    pub fn dei(&self) -> bool {
        self.buf[field::TCI] & 0x10 != 0
    }

    /// VLAN id (12 bits).
    #[inline]
    pub fn vid(&self) -> u16 {
        be16(self.buf, field::TCI) & 0x0fff
    }

    /// EtherType of what follows.
    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(self.buf, field::ETHERTYPE)
    }
}

/// Write a tag (without its TPID) to the end of `buf`.
pub fn emit(buf: &mut Vec<u8>, pcp: u8, vid: u16, ethertype: u16) {
    let tci = (u16::from(pcp & 7) << 13) | (vid & 0x0fff);
    buf.extend_from_slice(&tci.to_be_bytes());
    buf.extend_from_slice(&ethertype.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_then_view_round_trips() {
        let mut b = Vec::new();
        emit(&mut b, 5, 0x123, 0x0800);
        let p = Packet::new_checked(&b).unwrap();
        assert_eq!(
            (p.pcp(), p.dei(), p.vid(), p.ethertype()),
            (5, false, 0x123, 0x0800)
        );
    }
}
