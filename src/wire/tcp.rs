//! TCP (RFC 9293): the fixed 20-byte header's field offsets and flag bits. Header
//! parsing is the decoder's.

/// Length of the TCP header without options.
pub const HEADER_LEN: usize = 20;
/// IP protocol number.
pub const PROTOCOL: u8 = 6;

/// Where each field sits in the header.
pub mod field {
    /// Source port.
    pub const SRC_PORT: usize = 0;
    /// Destination port.
    pub const DST_PORT: usize = 2;
    /// Sequence number.
    pub const SEQ: usize = 4;
    /// Acknowledgment number.
    pub const ACK: usize = 8;
    /// Data offset (high nibble) and the NS/AE flag (low bit).
    pub const DATA_OFFSET: usize = 12;
    /// The flags byte (CWR … FIN).
    pub const FLAGS: usize = 13;
    /// Window.
    pub const WINDOW: usize = 14;
    /// Checksum.
    pub const CHECKSUM: usize = 16;
    /// Urgent pointer.
    pub const URGENT: usize = 18;
}
