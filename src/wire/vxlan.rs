//! VXLAN (RFC 7348) with the Group Based Policy extension (draft-smith-vxlan-group-policy),
//! as the Linux vxlan driver writes it.
//!
//! ```text
//!  0                   1                   2                   3
//! |G|R|R|R|I|R|R|R|R|D|R|R|A|R|R|R|        Group Policy ID        |
//! |                VXLAN Network Identifier (VNI) |   Reserved    |
//! ```
//! Without GBP, bytes 1-3 are reserved. Flannel's default is UDP port 8472 with VNI 1,
//! Calico's is 4789 with VNI 4096.

use super::{Truncated, be16, need};

/// Length of the VXLAN header.
pub const HEADER_LEN: usize = 8;
/// IANA's VXLAN port, Calico's default.
pub const PORT_IANA: u16 = 4789;
/// The Linux kernel's default VXLAN port, Flannel's default.
pub const PORT_LINUX: u16 = 8472;
/// Flag `I`: the VNI is valid.
pub const FLAG_I: u8 = 0x08;
/// Flag `G`: the Group Based Policy extension is present.
pub const FLAG_G: u8 = 0x80;
/// GBP bit `D`: don't learn.
pub const GBP_DONT_LEARN: u8 = 0x40;
/// GBP bit `A`: policy already applied.
pub const GBP_POLICY_APPLIED: u8 = 0x08;
/// Bytes VXLAN adds over an IPv4 underlay: outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8.
pub const OVERHEAD_V4: u16 = 50;

/// A view over the bytes of a VXLAN header (and what follows).
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// A view over `buf`, which must hold at least the 8-byte header.
    pub fn new_checked(buf: &'a [u8]) -> Result<Packet<'a>, Truncated> {
        need(buf, HEADER_LEN)?;
        Ok(Packet { buf })
    }

    /// The flags byte (`0x08` = I; `0x88` with GBP).
    pub fn flags(&self) -> u8 {
        self.buf[0]
    }

    /// The 24-bit VXLAN Network Identifier.
    pub fn vni(&self) -> u32 {
        u32::from_be_bytes([0, self.buf[4], self.buf[5], self.buf[6]])
    }

    /// The GBP fields, when the G flag is set.
    pub fn gbp(&self) -> Option<Gbp> {
        if self.flags() & FLAG_G == 0 {
            return None;
        }
        Some(Gbp {
            dont_learn: self.buf[1] & GBP_DONT_LEARN != 0,
            policy_applied: self.buf[1] & GBP_POLICY_APPLIED != 0,
            group_policy_id: be16(self.buf, 2),
        })
    }

    /// Whether the reserved bits are all zero, as RFC 7348 requires (GBP bits excluded when G is set).
    pub fn reserved_clear(&self) -> bool {
        let b = self.buf;
        if self.flags() & FLAG_G != 0 {
            b[0] & 0x77 == 0 && b[1] & !(GBP_DONT_LEARN | GBP_POLICY_APPLIED) == 0 && b[7] == 0
        } else {
            b[0] & 0xf7 == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[7] == 0
        }
    }

    /// The encapsulated frame (an inner Ethernet frame).
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[HEADER_LEN..]
    }

    /// The parsed form.
    pub fn parse(&self) -> Repr {
        Repr {
            flags: self.flags(),
            vni: self.vni(),
            gbp: self.gbp(),
        }
    }
}

/// The Group Based Policy extension fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gbp {
    /// `D`: the receiving VTEP must not learn the inner source MAC.
    pub dont_learn: bool,
    /// `A`: the policy has already been applied.
    pub policy_applied: bool,
    /// The Group Policy ID (Linux: the low 16 bits of the skb mark).
    pub group_policy_id: u16,
}

/// A parsed VXLAN header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// The flags byte.
    pub flags: u8,
    /// The VXLAN Network Identifier.
    pub vni: u32,
    /// GBP fields, when the G flag is set.
    pub gbp: Option<Gbp>,
}

impl Repr {
    /// Whether the I flag (VNI valid) is set.
    pub fn vni_valid(&self) -> bool {
        self.flags & FLAG_I != 0
    }

    /// Write the 8-byte header into `out` (for builders and tests).
    pub fn emit(&self, out: &mut [u8; HEADER_LEN]) {
        *out = [0; HEADER_LEN];
        out[0] = self.flags;
        if let Some(g) = self.gbp {
            out[0] |= FLAG_G;
            out[1] = (if g.dont_learn { GBP_DONT_LEARN } else { 0 })
                | (if g.policy_applied {
                    GBP_POLICY_APPLIED
                } else {
                    0
                });
            out[2..4].copy_from_slice(&g.group_policy_id.to_be_bytes());
        }
        let v = self.vni.to_be_bytes();
        out[4..7].copy_from_slice(&v[1..4]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_header() {
        let b = [0x08, 0, 0, 0, 0, 0x10, 0x00, 0, 0xaa];
        let p = Packet::new_checked(&b).unwrap();
        let r = p.parse();
        assert_eq!(r.vni, 4096);
        assert!(r.vni_valid());
        assert_eq!(r.gbp, None);
        assert!(p.reserved_clear());
        assert_eq!(p.payload(), &[0xaa]);
    }

    #[test]
    fn gbp_round_trip() {
        let r = Repr {
            flags: FLAG_I,
            vni: 1,
            gbp: Some(Gbp {
                dont_learn: true,
                policy_applied: false,
                group_policy_id: 0x1234,
            }),
        };
        let mut b = [0u8; 8];
        r.emit(&mut b);
        assert_eq!(b, [0x88, 0x40, 0x12, 0x34, 0, 0, 1, 0]);
        let p = Packet::new_checked(&b).unwrap();
        assert_eq!(p.parse().gbp, r.gbp);
        assert_eq!(p.parse().vni, 1);
        assert!(p.reserved_clear());
    }

    #[test]
    fn short_is_truncated() {
        assert_eq!(
            Packet::new_checked(&[8, 0, 0]).unwrap_err(),
            Truncated { needed: 8, got: 3 }
        );
    }
}
