//! Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`, 113): the 16-byte pseudo header libpcap
//! writes for `-i any` (before tcpdump 4.99) and for devices without a link layer.
//!
//! ```text
//! packet type (2) | ARPHRD type (2) | address length (2) | address (8) | protocol (2)
//! ```

use super::{Truncated, be16, need};

/// Length of the v1 header.
pub const HEADER_LEN: usize = 16;

/// A view over the bytes of an SLL v1 header (and what follows).
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// A view over `buf`, which must hold the 16-byte header.
    pub fn new_checked(buf: &'a [u8]) -> Result<Packet<'a>, Truncated> {
        need(buf, HEADER_LEN)?;
        Ok(Packet { buf })
    }

    /// The packet type (0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us).
    pub fn packet_type(&self) -> u16 {
        be16(self.buf, 0)
    }

    /// The `ARPHRD_*` device type (1 Ethernet, 772 loopback, 768 IPIP tunnel, …).
    pub fn arphrd(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// The link-layer source address, as long as the header says (at most 8 bytes).
    pub fn address(&self) -> &'a [u8] {
        let n = usize::from(be16(self.buf, 4)).min(8);
        &self.buf[6..6 + n]
    }

    /// The protocol: an EtherType for most devices.
    pub fn protocol(&self) -> u16 {
        be16(self.buf, 14)
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[HEADER_LEN..]
    }

    /// The parsed form.
    pub fn parse(&self) -> Repr {
        let mut address = [0u8; 8];
        let a = self.address();
        address[..a.len()].copy_from_slice(a);
        Repr {
            packet_type: self.packet_type(),
            arphrd: self.arphrd(),
            address,
            address_len: a.len() as u8,
            protocol: self.protocol(),
        }
    }
}

/// A parsed SLL v1 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Packet type (see [`packet_type_name`]).
    pub packet_type: u16,
    /// `ARPHRD_*` device type.
    pub arphrd: u16,
    /// Source link-layer address, padded with zeroes to 8 bytes.
    pub address: [u8; 8],
    /// How many bytes of `address` are meaningful.
    pub address_len: u8,
    /// Protocol (EtherType).
    pub protocol: u16,
}

impl Repr {
    /// Write the 16-byte header (for builders and tests).
    pub fn emit(&self, out: &mut [u8; HEADER_LEN]) {
        out[0..2].copy_from_slice(&self.packet_type.to_be_bytes());
        out[2..4].copy_from_slice(&self.arphrd.to_be_bytes());
        out[4..6].copy_from_slice(&u16::from(self.address_len).to_be_bytes());
        out[6..14].copy_from_slice(&self.address);
        out[14..16].copy_from_slice(&self.protocol.to_be_bytes());
    }
}

/// tcpdump's word for a Linux packet type: `In`, `B`, `M`, `P` (to another host), `Out`.
pub fn packet_type_name(t: u16) -> &'static str {
    match t {
        0 => "In",
        1 => "B",
        2 => "M",
        3 => "P",
        4 => "Out",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = Repr {
            packet_type: 4,
            arphrd: 1,
            address: [2, 0x42, 0xac, 0x12, 0, 0x0b, 0, 0],
            address_len: 6,
            protocol: 0x0800,
        };
        let mut b = [0u8; HEADER_LEN];
        r.emit(&mut b);
        let p = Packet::new_checked(&b).unwrap();
        assert_eq!(p.parse(), r);
        assert_eq!(p.address().len(), 6);
        assert_eq!(packet_type_name(p.packet_type()), "Out");
        assert!(Packet::new_checked(&b[..15]).is_err());
    }
}
