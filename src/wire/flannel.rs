//! Flannel's old `udp` backend: the `flanneld` process reads packets from `flannel0` (a TUN
//! device) and sends each raw IP packet as the payload of a UDP datagram to port 8285 on
//! the remote node. There is no header of its own: the UDP payload starts with the inner
//! IP header.

/// Flannel's UDP backend port.
pub const PORT: u16 = 8285;
/// Bytes the UDP backend adds over an IPv4 underlay (IPv4 20 + UDP 8; flannel0 is a TUN).
pub const OVERHEAD_V4: u16 = 28;

/// The IP version of the inner packet when `payload` plausibly starts with one (4 or 6).
pub fn inner_version(payload: &[u8]) -> Option<u8> {
    match payload.first()? >> 4 {
        4 => Some(4),
        6 => Some(6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version() {
        assert_eq!(inner_version(&[0x45, 0]), Some(4));
        assert_eq!(inner_version(&[0x60]), Some(6));
        assert_eq!(inner_version(&[0x10]), None);
        assert_eq!(inner_version(&[]), None);
    }
}
