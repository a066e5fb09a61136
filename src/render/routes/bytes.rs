//! Small writers that do not allocate: bytes straight into the output buffer (four `u8`
//! formats per address add up over 100,000 routes).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::dataplane::{Family, Protocol, RouteType, Scope, Table};

pub(super) fn scope_word(s: Scope, out: &mut Vec<u8>) {
    match s {
        Scope::Universe => out.extend_from_slice(b"global"),
        Scope::Site => out.extend_from_slice(b"site"),
        Scope::Link => out.extend_from_slice(b"link"),
        Scope::Host => out.extend_from_slice(b"host"),
        Scope::Nowhere => out.extend_from_slice(b"nowhere"),
        Scope::Other(n) => push_u32(out, u32::from(n)),
    }
}

pub(super) fn table_word(t: Table, out: &mut Vec<u8>) {
    match t.0 {
        254 => out.extend_from_slice(b"main"),
        255 => out.extend_from_slice(b"local"),
        253 => out.extend_from_slice(b"default"),
        n => push_u32(out, n),
    }
}

pub(super) fn proto_word(p: Protocol, out: &mut Vec<u8>) {
    match p.name() {
        Some(n) => out.extend_from_slice(n.as_bytes()),
        None => push_u32(out, u32::from(p.0)),
    }
}

pub(super) fn type_word(k: RouteType) -> Option<&'static str> {
    Some(match k {
        RouteType::Unicast => return None,
        RouteType::Local => "local",
        RouteType::Broadcast => "broadcast",
        RouteType::Anycast => "anycast",
        RouteType::Multicast => "multicast",
        RouteType::Blackhole => "blackhole",
        RouteType::Unreachable => "unreachable",
        RouteType::Prohibit => "prohibit",
        RouteType::Throw => "throw",
        RouteType::Nat => "nat",
        RouteType::Other(_) => "type?",
    })
}

pub(super) fn v4_mask(prefix: u8) -> Ipv4Addr {
    if prefix == 0 {
        Ipv4Addr::UNSPECIFIED
    } else {
        Ipv4Addr::from(u32::MAX << (32 - u32::from(prefix.min(32))))
    }
}

/// Append an address the way its Display does, without going through `fmt` for IPv4 (four
/// `u8` formats per address add up over 100,000 routes).
pub(super) fn push_ip(out: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(v4) => push_v4(out, v4),
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

pub(super) fn push_v4(out: &mut Vec<u8>, a: Ipv4Addr) {
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + (o / 10) % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    out.extend_from_slice(&buf[..n]);
}

pub(super) fn push_u32(out: &mut Vec<u8>, mut n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Spaces up to `width` bytes after what was written since `start` (left-aligned, like
/// `{:<width}` on ASCII text).
pub(super) fn pad_from(out: &mut Vec<u8>, start: usize, width: usize) {
    let written = out.len() - start;
    if written < width {
        out.resize(out.len() + (width - written), b' ');
    }
}

pub(super) fn display_width(s: &[u8]) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        std::str::from_utf8(s).map_or(s.len(), |t| t.chars().count())
    }
}

pub(super) fn unspecified(f: Family) -> IpAddr {
    match f {
        Family::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}
