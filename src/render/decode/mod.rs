//! Views of decoded packets: one line per packet ([`line`]), a tree ([`tree`]), a JSON
//! stream (`netpath.decode/v1`, [`json`]), and the statistics tables ([`stats`]); the
//! [`printer`] drives them packet by packet for `decode` and `capture`.
//!
//! Every per-packet writer appends to a caller-owned `Vec<u8>` that the caller reuses
//! (clear, write, flush to a `BufWriter`): no allocation per packet once the buffer has
//! grown, numbers and addresses are formatted by hand.

mod json;
mod line;
pub mod printer;
mod stats;
mod tree;

pub use json::write_json;
pub use line::write_line;
pub use printer::{Printer, View};
pub use stats::{TOP, stats_json, stats_text};
pub use tree::write_tree;

use std::io::Write as _;
use std::net::IpAddr;

use serde_json::{Value, json};

pub use crate::decode::Stats;
use crate::decode::stats::{Chain, Count, Flow};
use crate::decode::{
    Checksum, Encap, Header, Icmp, IpLength, Layer, Names, Packet, Stop, StopReason, tcp_flags,
};
use crate::pcapfile::Timestamp;
use crate::render::Style;
use crate::render::fmt::*;
use crate::wire::sll::packet_type_name;

/// What the views show about a packet besides its bytes: its number and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameInfo {
    /// 1-based packet number.
    pub number: u64,
    /// Capture time.
    pub ts: Timestamp,
    /// The zone the line and tree views show times in (UTC unless `--local-time`);
    /// JSON times are always UTC.
    pub zone: crate::render::clock::Zone,
}

/// The JSON schema of `netpath decode --json`.
pub const SCHEMA: &str = "netpath.decode/v1";

#[inline]
pub(crate) fn push_named_ip(out: &mut Vec<u8>, ip: IpAddr, names: &Names) {
    match names.get(&ip) {
        Some(n) => {
            // Names come from a cluster file: control characters in them are escaped
            // (decode's text goes out raw, for speed).
            out.extend_from_slice(crate::render::out::escape_line(&n.label).as_bytes());
            out.extend_from_slice(b" (");
            push_ip(out, ip);
            out.push(b')');
        }
        None => push_ip(out, ip),
    }
}

/// tcpdump's flag letters: S F P R U E W, `.` for ACK, `e` for AE/NS.
#[inline]
fn push_tcp_flags(out: &mut Vec<u8>, f: u16) {
    let start = out.len();
    for (bit, c) in [
        (tcp_flags::SYN, b'S'),
        (tcp_flags::FIN, b'F'),
        (tcp_flags::PSH, b'P'),
        (tcp_flags::RST, b'R'),
        (tcp_flags::URG, b'U'),
        (tcp_flags::ECE, b'E'),
        (tcp_flags::CWR, b'W'),
        (tcp_flags::NS, b'e'),
        (tcp_flags::ACK, b'.'),
    ] {
        if f & bit != 0 {
            out.push(c);
        }
    }
    if out.len() == start {
        out.extend_from_slice(b"none");
    }
}

#[inline]
/// The ports of a TCP or UDP header the capture cuts after them.
pub(super) fn cut_ports(p: &Packet<'_>) -> Option<(u16, u16)> {
    match p.stop?.reason {
        StopReason::Truncated { ports, .. } => ports,
        _ => None,
    }
}

#[inline]
pub(super) fn icmp_name(t: u8, v6: bool) -> Option<&'static str> {
    Some(if v6 {
        match t {
            1 => "unreachable",
            2 => "packet-too-big",
            3 => "time-exceeded",
            4 => "parameter-problem",
            128 => "echo request",
            129 => "echo reply",
            133 => "router solicitation",
            134 => "router advertisement",
            135 => "neighbor solicitation",
            136 => "neighbor advertisement",
            _ => return None,
        }
    } else {
        match t {
            0 => "echo reply",
            3 => "unreachable",
            4 => "source-quench",
            5 => "redirect",
            8 => "echo request",
            11 => "time-exceeded",
            12 => "parameter-problem",
            13 => "timestamp request",
            14 => "timestamp reply",
            _ => return None,
        }
    })
}

#[inline]
pub(super) fn proto_name(p: u8) -> &'static str {
    match p {
        1 => "icmp",
        4 => "ipip",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        58 => "icmpv6",
        132 => "sctp",
        _ => "proto",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_flag_letters() {
        let mut o = Vec::new();
        push_tcp_flags(&mut o, tcp_flags::SYN | tcp_flags::ACK);
        o.push(b' ');
        push_tcp_flags(&mut o, 0);
        assert_eq!(String::from_utf8(o).unwrap(), "S. none");
    }
}
