//! GENEVE (RFC 8926): the UDP tunnel of OVN, Antrea and cloud fabrics (GCP), met on nodes
//! beside Flannel and Calico. Not a Flannel or Calico encapsulation: decoded so that a
//! capture holding it is not a wall of undecoded UDP.
//!
//! ```text
//!  0                   1                   2                   3
//! |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
//! |        Virtual Network Identifier (VNI)       |    Reserved   |
//! |                    Variable-Length Options                    |
//! ```

use super::{Truncated, be16, need};

/// Length of the fixed GENEVE header (options follow).
pub const HEADER_LEN: usize = 8;
/// IANA's GENEVE port.
pub const PORT: u16 = 6081;
/// Protocol type of an inner Ethernet frame (Transparent Ethernet Bridging).
pub const PROTO_ETHERNET: u16 = 0x6558;

/// A view over the bytes of a GENEVE header (and what follows).
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// A view over `buf`, which must hold the fixed header and its options.
    pub fn new_checked(buf: &'a [u8]) -> Result<Packet<'a>, Truncated> {
        need(buf, HEADER_LEN)?;
        let p = Packet { buf };
        need(buf, p.header_len())?;
        Ok(p)
    }

    /// The version (0 today).
    pub fn version(&self) -> u8 {
        self.buf[0] >> 6
    }

    /// The length of the options, in bytes.
    pub fn options_len(&self) -> usize {
        usize::from(self.buf[0] & 0x3f) * 4
    }

    /// The whole header: fixed part and options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// `O`: a control (OAM) packet.
    pub fn oam(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// `C`: critical options are present.
    pub fn critical(&self) -> bool {
        self.buf[1] & 0x40 != 0
    }

    /// The EtherType of the payload (0x6558: an Ethernet frame).
    pub fn protocol(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// The 24-bit Virtual Network Identifier.
    pub fn vni(&self) -> u32 {
        u32::from_be_bytes([0, self.buf[4], self.buf[5], self.buf[6]])
    }

    /// What follows the header and its options.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len()..]
    }

    /// The parsed fields.
    pub fn parse(&self) -> Repr {
        Repr {
            version: self.version(),
            options_len: self.options_len() as u16,
            oam: self.oam(),
            critical: self.critical(),
            protocol: self.protocol(),
            vni: self.vni(),
        }
    }
}

/// The parsed GENEVE header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Version.
    pub version: u8,
    /// Options length in bytes.
    pub options_len: u16,
    /// `O` flag.
    pub oam: bool,
    /// `C` flag.
    pub critical: bool,
    /// Payload EtherType.
    pub protocol: u16,
    /// VNI.
    pub vni: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_with_options() {
        // Version 0, 2 words of options, C set, IPv4 payload, VNI 0x123456.
        let mut b = vec![0x02, 0x40, 0x08, 0x00, 0x12, 0x34, 0x56, 0x00];
        b.extend_from_slice(&[0xaa; 8]);
        b.extend_from_slice(&[0x45, 0x00]);
        let p = Packet::new_checked(&b).unwrap();
        assert_eq!(
            p.parse(),
            Repr {
                version: 0,
                options_len: 8,
                oam: false,
                critical: true,
                protocol: 0x0800,
                vni: 0x12_3456,
            }
        );
        assert_eq!(p.header_len(), 16);
        assert_eq!(p.payload(), &[0x45, 0x00]);
        // Options cut short: truncated.
        assert!(Packet::new_checked(&b[..12]).is_err());
        assert!(Packet::new_checked(&b[..7]).is_err());
    }
}
