//! Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`, 276): the 20-byte pseudo header that
//! `tcpdump -i any` writes since 4.99. etherparse does not parse it.
//!
//! ```text
//! protocol (2) | reserved (2) | interface index (4) | ARPHRD type (2) |
//! packet type (1) | address length (1) | address (8)
//! ```

use super::{Truncated, be16, be32, need};

/// Length of the v2 header.
pub const HEADER_LEN: usize = 20;

/// A view over the bytes of an SLL2 header (and what follows).
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// A view over `buf`, which must hold the 20-byte header.
    pub fn new_checked(buf: &'a [u8]) -> Result<Packet<'a>, Truncated> {
        need(buf, HEADER_LEN)?;
        Ok(Packet { buf })
    }

    /// The protocol (an EtherType).
    pub fn protocol(&self) -> u16 {
        be16(self.buf, 0)
    }

    /// The interface index the packet was seen on.
    pub fn ifindex(&self) -> u32 {
        be32(self.buf, 4)
    }

    /// The `ARPHRD_*` device type.
    pub fn arphrd(&self) -> u16 {
        be16(self.buf, 8)
    }

    /// The packet type (0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us).
    pub fn packet_type(&self) -> u8 {
        self.buf[10]
    }

    /// The link-layer source address (at most 8 bytes).
    pub fn address(&self) -> &'a [u8] {
        let n = usize::from(self.buf[11]).min(8);
        &self.buf[12..12 + n]
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
            protocol: self.protocol(),
            ifindex: self.ifindex(),
            arphrd: self.arphrd(),
            packet_type: self.packet_type(),
            address,
            address_len: a.len() as u8,
        }
    }
}

/// A parsed SLL2 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Protocol (EtherType).
    pub protocol: u16,
    /// Interface index.
    pub ifindex: u32,
    /// `ARPHRD_*` device type.
    pub arphrd: u16,
    /// Packet type (see [`super::sll::packet_type_name`]).
    pub packet_type: u8,
    /// Source link-layer address, padded with zeroes to 8 bytes.
    pub address: [u8; 8],
    /// How many bytes of `address` are meaningful.
    pub address_len: u8,
}

impl Repr {
    /// Write the 20-byte header (for builders and tests).
    pub fn emit(&self, out: &mut [u8; HEADER_LEN]) {
        out[0..2].copy_from_slice(&self.protocol.to_be_bytes());
        out[2..4].copy_from_slice(&[0, 0]);
        out[4..8].copy_from_slice(&self.ifindex.to_be_bytes());
        out[8..10].copy_from_slice(&self.arphrd.to_be_bytes());
        out[10] = self.packet_type;
        out[11] = self.address_len;
        out[12..20].copy_from_slice(&self.address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = Repr {
            protocol: 0x0800,
            ifindex: 2,
            arphrd: 1,
            packet_type: 0,
            address: [0xee; 8],
            address_len: 6,
        };
        let mut b = [0u8; HEADER_LEN];
        r.emit(&mut b);
        let p = Packet::new_checked(&b).unwrap();
        let mut want = r;
        want.address = [0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0, 0];
        assert_eq!(p.parse(), want);
        assert_eq!(p.ifindex(), 2);
        assert_eq!(p.address().len(), 6);
        assert!(Packet::new_checked(&b[..19]).is_err());
    }
}
