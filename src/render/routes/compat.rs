//! `route -n`, exactly (`--compat`).

use std::io::{self, Write};
use std::net::IpAddr;

use super::RoutesView;
use super::bytes::{pad_from, push_ip, push_u32, push_v4, v4_mask};
use super::table::OUT_CHUNK;
use crate::dataplane::{Family, Route, RouteType, Table};

/// The two header lines of `route -n`.
pub const COMPAT_HEADER: &[u8] = b"Kernel IP routing table\n\
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n";

/// Append `route -n`'s line for `r` to `out`, if route -n shows it (net-tools 2.10
/// `rprint_fib`, reading `/proc/net/route`: IPv4 main-table routes, broadcast and
/// multicast left out, the first nexthop only).
pub fn compat_line(r: &Route, out: &mut Vec<u8>) {
    if r.family() != Family::Inet
        || r.table != Table::MAIN
        || matches!(r.kind, RouteType::Broadcast | RouteType::Multicast)
    {
        return;
    }
    let f = r.flags();
    let mut at = out.len();
    push_ip(out, r.dst.network());
    pad_from(out, at, 15);
    out.push(b' ');
    at = out.len();
    if f.reject {
        out.push(b'-');
    } else {
        match r.gateway() {
            Some(IpAddr::V4(a)) => push_v4(out, a),
            _ => out.extend_from_slice(b"0.0.0.0"),
        }
    }
    pad_from(out, at, 15);
    out.push(b' ');
    at = out.len();
    push_v4(out, v4_mask(r.dst.prefix()));
    pad_from(out, at, 15);
    out.push(b' ');
    at = out.len();
    out.extend_from_slice(f.letters().as_bytes());
    pad_from(out, at, 5);
    out.push(b' ');
    at = out.len();
    // /proc/net/route prints the metric with %d, and net-tools reads it back with %d.
    let metric = r.metric.unwrap_or(0) as i32;
    if metric < 0 {
        out.push(b'-');
    }
    push_u32(out, metric.unsigned_abs());
    pad_from(out, at, 6);
    if f.reject {
        out.extend_from_slice(b" -        0 -\n");
    } else {
        out.extend_from_slice(b" 0        0 ");
        out.extend_from_slice(r.dev().unwrap_or("*").as_bytes());
        out.push(b'\n');
    }
}

/// What `route -n` prints for these routes (see [`compat_line`]).
pub fn write_compat(v: &RoutesView<'_>, out: &mut impl Write) -> io::Result<()> {
    let mut buf = Vec::with_capacity(OUT_CHUNK + 4096);
    buf.extend_from_slice(COMPAT_HEADER);
    for row in &v.rows {
        compat_line(row.route, &mut buf);
        if buf.len() >= OUT_CHUNK {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
}
