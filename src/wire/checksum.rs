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
    #[cfg(target_arch = "x86_64")]
    if data.len() >= 256 && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above, cached by the standard library).
        return acc.wrapping_add(u64::from(fold(unsafe { sum_le_avx2(data) }).swap_bytes()));
    }
    acc.wrapping_add(u64::from(fold(sum_le(data)).swap_bytes()))
}

/// The sum of `data` as little-endian 32-bit words (odd tails zero-padded), not folded.
#[inline]
fn sum_le(data: &[u8]) -> u64 {
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
    le
}

/// [`sum_le`] with AVX2: 64 bytes per step, the 32-bit words widened into eight 64-bit
/// lanes (payloads of full-size packets; half the instructions of the SSE2 loop).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sum_le_avx2(data: &[u8]) -> u64 {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi64, _mm256_loadu_si256, _mm256_setzero_si256, _mm256_storeu_si256,
        _mm256_unpackhi_epi32, _mm256_unpacklo_epi32,
    };
    let zero = _mm256_setzero_si256();
    let (mut a, mut b) = (zero, zero);
    let mut chunks = data.chunks_exact(64);
    for c in &mut chunks {
        // SAFETY: each load reads 32 bytes inside the 64-byte chunk (unaligned loads).
        let (x, y) = unsafe {
            (
                _mm256_loadu_si256(c.as_ptr().cast::<__m256i>()),
                _mm256_loadu_si256(c.as_ptr().add(32).cast::<__m256i>()),
            )
        };
        a = _mm256_add_epi64(a, _mm256_unpacklo_epi32(x, zero));
        b = _mm256_add_epi64(b, _mm256_unpackhi_epi32(x, zero));
        a = _mm256_add_epi64(a, _mm256_unpacklo_epi32(y, zero));
        b = _mm256_add_epi64(b, _mm256_unpackhi_epi32(y, zero));
    }
    let mut lanes = [0u64; 4];
    // SAFETY: `lanes` is 32 bytes, written unaligned.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast::<__m256i>(), _mm256_add_epi64(a, b)) };
    // Each lane holds at most len/4 words of < 2^32: no overflow below 2^32 words (16 GiB).
    lanes.iter().sum::<u64>() + sum_le(chunks.remainder())
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

    /// The AVX2 path (long inputs) and the portable one give the same sums.
    #[test]
    fn wide_and_portable_sums_agree() {
        let data: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for n in (0..data.len())
            .step_by(37)
            .chain([255, 256, 257, 1500, 4096])
        {
            let d = &data[..n];
            assert_eq!(fold(sum(d, 0)), fold(sum_le(d)).swap_bytes(), "n={n}");
            let all_ones = vec![0xffu8; n];
            assert_eq!(
                fold(sum(&all_ones, 0)),
                fold(sum_le(&all_ones)).swap_bytes(),
                "ones n={n}"
            );
        }
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
