//! IP-in-IP as Linux numbers it. etherparse's `IpNumber::IPIP` is 94 (the old KA9Q
//! protocol); Linux `tunl0` (Calico IPIP, Flannel `ipip`) uses `IPPROTO_IPIP` = 4, and
//! `sit` devices (6in4) use `IPPROTO_IPV6` = 41. The inner IP header follows the outer one
//! directly, with no Ethernet header in between.

/// `IPPROTO_IPIP`: IPv4 in IPv4 (Calico `tunl0`, Flannel `flannel.ipip`).
pub const PROTO_IPIP: u8 = super::ipv4::protocol::IPIP;
/// `IPPROTO_IPV6`: IPv6 in IPv4 (6in4, `sit`).
pub const PROTO_IPV6_IN_IPV4: u8 = super::ipv4::protocol::IPV6;
/// Bytes IPIP adds: one IPv4 header (= 20): a `tunl0` MTU is the underlay's minus this.
pub const OVERHEAD_V4: u16 = super::ipv4::HEADER_LEN as u16;
/// [`OVERHEAD_V4`] as a u32, for MTU and packet-size arithmetic in u32.
pub const OVERHEAD_V4_U32: u32 = OVERHEAD_V4 as u32;
