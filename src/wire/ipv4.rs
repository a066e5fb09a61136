//! IPv4 (RFC 791): the fixed 20-byte header's field offsets and the protocol numbers
//! netpath follows. Header parsing (options, fragments, length checks) is the decoder's.

/// Length of the IPv4 header without options.
pub const HEADER_LEN: usize = 20;
/// IP version.
pub const VERSION: u8 = 4;

/// Where each field sits in the header.
pub mod field {
    use std::ops::Range;
    /// Version (high nibble) and header length in 32-bit words (low nibble).
    pub const VER_IHL: usize = 0;
    /// Type of service (DSCP and ECN).
    pub const TOS: usize = 1;
    /// Total length.
    pub const TOTAL_LEN: usize = 2;
    /// Identification.
    pub const ID: usize = 4;
    /// Flags (DF, MF) and fragment offset in 8-byte units.
    pub const FLAGS_FRAG: usize = 6;
    /// Time to live.
    pub const TTL: usize = 8;
    /// Protocol of the payload.
    pub const PROTOCOL: usize = 9;
    /// Header checksum.
    pub const CHECKSUM: usize = 10;
    /// Source address.
    pub const SRC: Range<usize> = 12..16;
    /// Destination address.
    pub const DST: Range<usize> = 16..20;
}

/// IP protocol numbers (`IPPROTO_*`).
pub mod protocol {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// IPv4 in IPv4 (Linux `IPPROTO_IPIP`).
    pub const IPIP: u8 = 4;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 in IPv4 (6in4).
    pub const IPV6: u8 = 41;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
}

/// The DF bit in the flags word.
pub const FLAG_DF: u16 = 0x4000;
/// The MF bit in the flags word.
pub const FLAG_MF: u16 = 0x2000;
