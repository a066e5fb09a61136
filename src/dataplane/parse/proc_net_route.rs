//! `/proc/net/route`: the kernel's IPv4 main table as `fib_route_seq_show` prints it, one
//! route per line, addresses and masks as little-endian hex, flags as hex `RTF_*` bits:
//!
//! ```text
//! Iface   Destination Gateway  Flags RefCnt Use Metric Mask     MTU Window IRTT
//! eth0    0001F40A    0C01A8C0 0003  0      0   0      00FFFFFF 0   0      0
//! ```
//!
//! Like `route -n` (which reads this file) it has only the main table and the first nexthop,
//! no proto, scope, src or onlink; a blackhole has Iface `*`, and unreachable and prohibit
//! both have the `RTF_REJECT` (0x0200) flag. The MTU column is the route's advmss + 40, not
//! its `mtu` metric, so it is not read.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Result, anyhow, bail};
use ipnetwork::IpNetwork;

use super::Warnings;
use super::text::{Line, normalize};
use crate::dataplane::{Nexthop, Protocol, Route, RouteType};

const RTF_UP: u32 = 0x0001;
const RTF_GATEWAY: u32 = 0x0002;
const RTF_REJECT: u32 = 0x0200;

/// True for the header line (`Iface Destination Gateway Flags …`).
pub(crate) fn is_header(t: &[&str]) -> bool {
    t.len() >= 3 && t[0] == "Iface" && t[1] == "Destination" && t[2] == "Gateway"
}

fn is_hex8(t: &str) -> bool {
    t.len() == 8 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// True when the tokens look like a data row.
pub(crate) fn looks_like_row(t: &[&str]) -> bool {
    t.len() >= 8 && is_hex8(t[1]) && is_hex8(t[2]) && is_hex8(t[7])
}

/// A little-endian hex IPv4 address, as the kernel prints `__be32` with `%08X` on x86 and arm64.
fn hex_addr(no: usize, what: &str, t: &str) -> Result<Ipv4Addr> {
    let v = u32::from_str_radix(t, 16)
        .map_err(|_| anyhow!("line {no}: {what} {t:?} is not 8 hex digits"))?;
    Ok(Ipv4Addr::from(v.to_le_bytes()))
}

/// Parse /proc/net/route lines.
pub(crate) fn parse(lines: &[Line], w: &mut Warnings) -> Result<Vec<Route>> {
    let mut routes = Vec::new();
    for line in lines {
        let t = line.tokens();
        if is_header(&t) {
            continue;
        }
        if !looks_like_row(&t) {
            w.skipped(line.no, &line.text);
            continue;
        }
        let no = line.no;
        let iface = t[0];
        let dst = hex_addr(no, "Destination", t[1])?;
        let gw = hex_addr(no, "Gateway", t[2])?;
        let flags = u32::from_str_radix(t[3], 16)
            .map_err(|_| anyhow!("line {no}: Flags {:?} is not hex", t[3]))?;
        let metric: u32 = t[6]
            .parse()
            .map_err(|_| anyhow!("line {no}: Metric {:?} is not a number", t[6]))?;
        let mask = hex_addr(no, "Mask", t[7])?;
        let bits = u32::from(mask);
        let len = bits.leading_ones();
        if bits.checked_shl(len).unwrap_or(0) != 0 {
            bail!(
                "line {no}: Mask {} ({mask}) is not a contiguous netmask",
                t[7]
            );
        }
        if flags & RTF_UP == 0 {
            w.push(format!(
                "line {no}: route without the U flag (not up): skipped, as route -n does"
            ));
            continue;
        }
        let net = IpNetwork::new(IpAddr::V4(dst), len as u8)
            .map_err(|e| anyhow!("line {no}: bad destination {dst}/{len}: {e}"))?;
        let (dst, _) = normalize(net);
        let mut route = if flags & RTF_REJECT != 0 {
            Route::drop(RouteType::Unreachable, dst, Protocol::BOOT)
        } else if iface == "*" {
            Route::drop(RouteType::Blackhole, dst, Protocol::BOOT)
        } else if flags & RTF_GATEWAY != 0 && !gw.is_unspecified() {
            Route::unicast(dst, Nexthop::via(IpAddr::V4(gw), iface))
        } else {
            Route::unicast(dst, Nexthop::dev(iface))
        };
        route.metric = (metric != 0).then_some(metric);
        routes.push(route);
    }
    if !routes.is_empty() {
        w.once(
            "proc-loses",
            "/proc/net/route holds only the main table and the first nexthop of each route, \
             and no proto, scope, src, onlink or linkdown: routes are read with proto boot, \
             scope link without gateway and global with one; Iface `*` is read as blackhole, \
             the reject flag (unreachable or prohibit) as unreachable"
                .to_string(),
        );
    }
    Ok(routes)
}
