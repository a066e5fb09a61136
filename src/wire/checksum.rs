//! The Internet checksum (RFC 1071): a one's-complement sum of 16-bit big-endian words.
//!
//! Summed 8 bytes at a time into a u64 (carries folded at the end), which is fast enough
//! to verify every TCP and UDP checksum of a capture at memory speed.

/// Add `data` to a running one's-complement sum (`acc`), as big-endian 16-bit words.
/// `data` of odd length is padded with a zero byte. Only the final [`fold`] is meaningful.
///
/// The data is summed as little-endian 32-bit words in four independent accumulators
/// (which the compiler vectorises), folded, and byte-swapped at the end: the Internet
/// checksum does not depend on byte order (RFC 1071 section 2).
#[inline]
pub fn sum(data: &[u8], acc: u64) -> u64 {
    let mut a = [0u64; 4];
    let mut chunks = data.chunks_exact(32);
    for c in &mut chunks {
        for (i, w) in c.chunks_exact(4).enumerate() {
            a[i & 3] += u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        }
    }
    let mut le = a[0] + a[1] + a[2] + a[3];
    let mut rest = chunks.remainder();
    while rest.len() >= 4 {
        le += u64::from(u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]));
        rest = &rest[4..];
    }
    if rest.len() >= 2 {
        le += u64::from(u16::from_le_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
    }
    if let Some(&b) = rest.first() {
        le += u64::from(b);
    }
    acc.wrapping_add(u64::from(fold(le).swap_bytes()))
}

/// Fold a running sum to 16 bits (without the final complement).
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field value for `data` (the complement of the folded sum).
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(data, 0))
}

/// The IPv4 pseudo header sum for TCP/UDP: source, destination, protocol, length.
#[inline]
pub fn pseudo_v4(src: [u8; 4], dst: [u8; 4], proto: u8, len: u32) -> u64 {
    u16::from_be_bytes([src[0], src[1]]) as u64
        + u16::from_be_bytes([src[2], src[3]]) as u64
        + u16::from_be_bytes([dst[0], dst[1]]) as u64
        + u16::from_be_bytes([dst[2], dst[3]]) as u64
        + proto as u64
        + (len >> 16) as u64
        + (len & 0xffff) as u64
}

/// The IPv6 pseudo header sum for TCP/UDP/ICMPv6.
#[inline]
pub fn pseudo_v6(src: &[u8; 16], dst: &[u8; 16], proto: u8, len: u32) -> u64 {
    sum(src, 0) + sum(dst, 0) + proto as u64 + (len >> 16) as u64 + (len & 0xffff) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the sum of these words is 0xddf2.
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&d, 0)), 0xddf2);
        assert_eq!(checksum(&d), !0xddf2);
    }

    #[test]
    fn ipv4_header_verifies_to_zero() {
        // A real IPv4 header (checksum 0xb861).
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0);
        let mut z = h;
        z[10] = 0;
        z[11] = 0;
        assert_eq!(checksum(&z), 0xb861);
    }

    #[test]
    fn odd_lengths_and_chunk_boundaries_agree() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
        for n in 0..data.len() {
            let mut slow: u64 = 0;
            for w in data[..n].chunks(2) {
                slow += u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]) as u64;
            }
            assert_eq!(fold(sum(&data[..n], 0)), fold(slow), "n={n}");
        }
    }
}
