//! ICMP (RFC 792) and ICMPv6 (RFC 4443): the 8-byte message header both share.

/// Length of the ICMP message header (type, code, checksum, four bytes of rest).
pub const HEADER_LEN: usize = 8;

/// Where each field sits in the header.
pub mod field {
    /// Type.
    pub const TYPE: usize = 0;
    /// Code.
    pub const CODE: usize = 1;
    /// Checksum.
    pub const CHECKSUM: usize = 2;
    /// Echo identifier (echo request and reply).
    pub const ECHO_ID: usize = 4;
    /// Echo sequence number (echo request and reply).
    pub const ECHO_SEQ: usize = 6;
    /// Where the quoted packet of an error message starts.
    pub const QUOTE: usize = 8;
}

/// ICMP (v4) echo request type.
pub const ECHO_REQUEST: u8 = 8;
/// ICMP (v4) echo reply type.
pub const ECHO_REPLY: u8 = 0;
/// ICMPv6 echo request type.
pub const V6_ECHO_REQUEST: u8 = 128;
/// ICMPv6 echo reply type.
pub const V6_ECHO_REPLY: u8 = 129;
