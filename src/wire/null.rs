//! BSD loopback (`DLT_NULL` 0 and `DLT_LOOP` 108): a 4-byte address family before the IP
//! packet. `DLT_NULL` stores it in the byte order of the capturing host (so it is guessed
//! here the way libpcap does: a value above 0xffff is the other order), `DLT_LOOP` in
//! network order.

use super::{Truncated, need};

/// Length of the family header.
pub const HEADER_LEN: usize = 4;

/// What the family says the payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `AF_INET` (2).
    Ipv4,
    /// `AF_INET6`: 10 on Linux, 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS.
    Ipv6,
    /// Any other value.
    Other(u32),
}

/// Parse the family of a `DLT_NULL` (`network_order == false`) or `DLT_LOOP` header.
pub fn parse(buf: &[u8], network_order: bool) -> Result<(u32, Family), Truncated> {
    need(buf, HEADER_LEN)?;
    let raw = [buf[0], buf[1], buf[2], buf[3]];
    let value = if network_order {
        u32::from_be_bytes(raw)
    } else {
        let le = u32::from_le_bytes(raw);
        if le > 0xffff {
            u32::from_be_bytes(raw)
        } else {
            le
        }
    };
    let family = match value {
        2 => Family::Ipv4,
        10 | 24 | 28 | 30 => Family::Ipv6,
        v => Family::Other(v),
    };
    Ok((value, family))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_orders() {
        assert_eq!(parse(&[2, 0, 0, 0], false).unwrap().1, Family::Ipv4);
        assert_eq!(parse(&[0, 0, 0, 2], false).unwrap().1, Family::Ipv4);
        assert_eq!(parse(&[0, 0, 0, 30], true).unwrap().1, Family::Ipv6);
        assert_eq!(parse(&[7, 0, 0, 0], false).unwrap().1, Family::Other(7));
        assert!(parse(&[2, 0], false).is_err());
    }
}
