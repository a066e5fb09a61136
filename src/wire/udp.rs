//! UDP (RFC 768): ports, length, checksum.

use super::{Truncated, be16, need};

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;
/// IP protocol number.
pub const PROTOCOL: u8 = 17;

/// Where each field sits in the header.
pub mod field {
    /// Source port.
    pub const SRC_PORT: usize = 0;
    /// Destination port.
    pub const DST_PORT: usize = 2;
    /// Length (header included; 0 for a jumbogram or GSO super-frame).
    pub const LENGTH: usize = 4;
    /// Checksum (0 over IPv4: none computed).
    pub const CHECKSUM: usize = 6;
}

/// A view over the bytes of a UDP header (and what follows).
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// A view over `buf`, which must hold at least the 8-byte header.
    #[inline]
    pub fn new_checked(buf: &'a [u8]) -> Result<Packet<'a>, Truncated> {
        need(buf, HEADER_LEN)?;
        Ok(Packet { buf })
    }

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(self.buf, field::SRC_PORT)
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, field::DST_PORT)
    }

    /// Length field.
    #[inline]
    pub fn length(&self) -> u16 {
        be16(self.buf, field::LENGTH)
    }

    /// Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }
}

/// Write a UDP header with zero length and checksum (filled in once the payload is known)
/// to the end of `buf`.
pub fn emit(buf: &mut Vec<u8>, src_port: u16, dst_port: u16) {
    buf.extend_from_slice(&src_port.to_be_bytes());
    buf.extend_from_slice(&dst_port.to_be_bytes());
    buf.extend_from_slice(&[0; 4]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_then_view_round_trips() {
        let mut b = Vec::new();
        emit(&mut b, 53820, 8472);
        let p = Packet::new_checked(&b).unwrap();
        assert_eq!(
            (p.src_port(), p.dst_port(), p.length(), p.checksum()),
            (53820, 8472, 0, 0)
        );
        assert!(Packet::new_checked(&b[..7]).is_err());
    }
}
