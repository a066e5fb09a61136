//! Byte-formatting primitives shared by the views: decimal numbers, hex, MAC and IP
//! addresses, JSON string escapes, dates and times. Each appends to a caller-owned
//! `Vec<u8>` without allocating, so a view can format millions of packets into one
//! reused buffer.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::dataplane::MacAddr;
use crate::pcapfile::Timestamp;
use crate::render::clock::Zone;
use crate::snapshot::time::civil_from_days;

/// Append the decimal digits of `v`.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    const PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    if v < 10 {
        out.push(b'0' + v as u8);
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i] = PAIRS[d];
        buf[i + 1] = PAIRS[d + 1];
    }
    if v >= 10 {
        let d = v as usize * 2;
        i -= 2;
        buf[i] = PAIRS[d];
        buf[i + 1] = PAIRS[d + 1];
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    put(out, &buf[i..]);
}

/// Append a short byte string: a loop of pushes, cheaper than a `memmove` call for the
/// few bytes of a field name or value.
#[inline(always)]
pub fn put(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 24 {
        out.reserve(s.len());
        for &b in s {
            out.push(b);
        }
    } else {
        out.extend_from_slice(s);
    }
}

pub const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append `v` as two lowercase hex digits.
#[inline]
pub fn push_hex8(out: &mut Vec<u8>, v: u8) {
    out.push(HEX[usize::from(v >> 4)]);
    out.push(HEX[usize::from(v & 0xf)]);
}

/// Append `v` as four lowercase hex digits.
#[inline]
pub fn push_hex16(out: &mut Vec<u8>, v: u16) {
    push_hex8(out, (v >> 8) as u8);
    push_hex8(out, v as u8);
}

/// Append bytes as colon-separated lowercase hex pairs (`0a:1b:…`).
#[inline]
pub fn push_hex_bytes(out: &mut Vec<u8>, b: &[u8]) {
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        push_hex8(out, *x);
    }
}

/// Append a MAC address as `aa:bb:cc:dd:ee:ff`.
#[inline]
pub fn push_mac(out: &mut Vec<u8>, m: MacAddr) {
    push_hex_bytes(out, &m.0);
}

#[inline]
pub fn push_ipv4(out: &mut Vec<u8>, ip: Ipv4Addr) {
    let o = ip.octets();
    for (i, b) in o.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_u64(out, u64::from(*b));
    }
}

/// Append an IPv6 address in its RFC 5952 form.
#[inline]
pub fn push_ipv6(out: &mut Vec<u8>, ip: Ipv6Addr) {
    let _ = write!(out, "{ip}");
}

#[inline]
pub fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => push_ipv4(out, v4),
        IpAddr::V6(v6) => push_ipv6(out, v6),
    }
}

/// A JSON string literal; escapes what JSON requires.
#[inline]
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                push_hex8(out, b);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Append the last two decimal digits of `v`, zero-padded.
#[inline]
pub fn push_2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// Append the last `digits` decimal digits of `v`, zero-padded (a fraction of a second).
#[inline]
pub fn push_frac(out: &mut Vec<u8>, v: u32, digits: u32) {
    let mut div = 10u32.pow(digits - 1);
    for _ in 0..digits {
        out.push(b'0' + (v / div % 10) as u8);
        div /= 10;
    }
}

/// `HH:MM:SS.uuuuuu` (UTC).
#[inline]
pub fn push_time_of_day(out: &mut Vec<u8>, ts: Timestamp) {
    let secs = ts.sec.rem_euclid(86_400) as u32;
    push_2(out, secs / 3600);
    out.push(b':');
    push_2(out, secs / 60 % 60);
    out.push(b':');
    push_2(out, secs % 60);
    out.push(b'.');
    push_frac(out, ts.nsec / 1000, 6);
}

/// Append the UTC date of `ts` as `YYYY-MM-DD`.
#[inline]
pub fn push_date(out: &mut Vec<u8>, ts: Timestamp) {
    let (y, m, d) = civil_from_days(ts.sec.div_euclid(86_400));
    push_u64(out, y.max(0) as u64);
    out.push(b'-');
    push_2(out, m);
    out.push(b'-');
    push_2(out, d);
}

/// `YYYY-MM-DD HH:MM:SS.uuuuuu ZONE`, on the wall clock of `zone`.
#[inline]
pub fn push_datetime_in(out: &mut Vec<u8>, ts: Timestamp, zone: Zone) {
    let local = zone.shift(ts);
    push_date(out, local);
    out.push(b' ');
    push_time_of_day(out, local);
    out.push(b' ');
    out.extend_from_slice(zone.name());
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
#[inline]
pub fn push_datetime_rfc3339(out: &mut Vec<u8>, ts: Timestamp) {
    push_date(out, ts);
    out.push(b'T');
    let secs = ts.sec.rem_euclid(86_400) as u32;
    push_2(out, secs / 3600);
    out.push(b':');
    push_2(out, secs / 60 % 60);
    out.push(b':');
    push_2(out, secs % 60);
    out.push(b'.');
    push_frac(out, ts.nsec, 9);
    out.push(b'Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times() {
        let mut o = Vec::new();
        push_u64(&mut o, 0);
        o.push(b' ');
        push_u64(&mut o, 18_446_744_073_709_551_615);
        assert_eq!(String::from_utf8(o).unwrap(), "0 18446744073709551615");
        let mut o = Vec::new();
        push_datetime_rfc3339(
            &mut o,
            Timestamp {
                sec: 1_704_067_200 + 3_723,
                nsec: 5_000,
            },
        );
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "2024-01-01T01:02:03.000005000Z"
        );
        let mut o = Vec::new();
        push_datetime_in(
            &mut o,
            Timestamp {
                sec: 951_782_400,
                nsec: 0,
            },
            Zone::default(),
        );
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "2000-02-29 00:00:00.000000 UTC"
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut o = Vec::new();
        push_str(&mut o, "a\"b\\c\n\u{1}");
        assert_eq!(String::from_utf8(o).unwrap(), r#""a\"b\\c\n\u0001""#);
    }
}
