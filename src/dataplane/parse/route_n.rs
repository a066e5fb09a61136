//! `route -n` and `netstat -rn` (net-tools), with or without the "Kernel IP routing table"
//! title and the column header, in any of their layouts:
//!
//! | command | columns after Flags |
//! |---|---|
//! | `route -n`, `netstat -rne` | Metric Ref Use Iface |
//! | `route -ne`, `netstat -rn` | MSS Window irtt Iface |
//! | `route -nee`, `netstat -rnee` | Metric Ref Use Iface MSS Window irtt (Iface cut to 6 characters) |
//! | `route -6 -n`, `netstat -rn -A inet6` | Destination Next-Hop Flag Met Ref Use If |
//!
//! What `route -n` cannot show (net-tools reads /proc/net/route): proto, table (main only),
//! scope, src, onlink/linkdown, and any nexthop but the first. A blackhole is `U` with Iface
//! `*`; unreachable and prohibit are both `!`. Routes get what is known; the rest keeps
//! iproute2's defaults (proto boot, table main), scope is link for a route without gateway
//! (what `ip route add … dev …` and the kernel's connected routes have) and global
//! otherwise; a warning says so once.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Result, anyhow, bail};
use ipnetwork::IpNetwork;

use super::Warnings;
use super::text::{Line, normalize};
use crate::dataplane::{Nexthop, Protocol, Route, RouteType, Scope, Table};

/// Column layout of the IPv4 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `route -n`: Metric Ref Use Iface.
    Metric,
    /// `netstat -rn`, `route -ne`: MSS Window irtt Iface.
    Mss,
    /// `route -nee`: Metric Ref Use Iface MSS Window irtt.
    Wide,
}

/// True for the title (`Kernel IP routing table`, in English) or a column header line.
pub(crate) fn is_header(tokens: &[&str]) -> bool {
    is_title(tokens) || is_columns(tokens) || is_columns6(tokens)
}

fn is_title(tokens: &[&str]) -> bool {
    tokens.first() == Some(&"Kernel") && tokens.iter().any(|t| t.eq_ignore_ascii_case("routing"))
}

fn is_columns(tokens: &[&str]) -> bool {
    tokens.contains(&"Genmask")
}

fn is_columns6(tokens: &[&str]) -> bool {
    tokens.first() == Some(&"Destination") && tokens.contains(&"Next") && tokens.contains(&"If")
}

fn is_v4(t: &str) -> bool {
    t.parse::<Ipv4Addr>().is_ok()
}

/// The Flags column: net-tools' letters, with U (up) or ! (reject) always there.
fn is_flags(t: &str) -> bool {
    !t.is_empty()
        && t.chars().all(|c| "UGHRDMAC!dacoefpluwin".contains(c))
        && (t.contains('U') || t.contains('!'))
}

/// True when the tokens look like a data row of `route -n` / `netstat -rn` (IPv4 or IPv6).
pub(crate) fn looks_like_row(t: &[&str]) -> bool {
    // Destination and Gateway may be names (`route` without -n): parse() says so.
    if t.len() >= 5 && !t[0].contains('/') && is_v4(t[2]) && is_flags(t[3]) {
        return true;
    }
    t.len() == 7
        && t[0].contains(':')
        && t[0].parse::<IpNetwork>().is_ok()
        && t[1].parse::<IpAddr>().is_ok()
        && is_flags(t[2])
}

/// The destination of a `route -n` row found among lines of another format (IPv4 rows:
/// Destination and Genmask), when readable.
pub(crate) fn row_dst(t: &[&str]) -> Option<IpNetwork> {
    let addr: Ipv4Addr = t.first()?.parse().ok()?;
    let len = mask_prefix(0, t.get(2)?).ok()?;
    IpNetwork::new(IpAddr::V4(addr), len).ok()
}

fn mask_prefix(line: usize, m: &str) -> Result<u8> {
    let mask: Ipv4Addr = m
        .parse()
        .map_err(|_| anyhow!("line {line}: Genmask {m:?} is not a dotted netmask"))?;
    let bits = u32::from(mask);
    let len = bits.leading_ones();
    if bits.checked_shl(len).unwrap_or(0) != 0 {
        bail!("line {line}: Genmask {m} is not a contiguous netmask");
    }
    Ok(len as u8)
}

fn v4_or_name(line: usize, what: &str, t: &str) -> Result<Ipv4Addr> {
    if t == "default" || t == "*" || t == "-" {
        return Ok(Ipv4Addr::UNSPECIFIED);
    }
    t.parse().map_err(|_| {
        anyhow!(
            "line {line}: {what} {t:?} is a host name, not an address: paste the output of \
             `route -n` (numeric), not `route`"
        )
    })
}

/// Parse `route -n` / `netstat -rn` lines.
pub(crate) fn parse(lines: &[Line], w: &mut Warnings) -> Result<Vec<Route>> {
    let mut layout = None;
    let mut routes: Vec<Route> = Vec::new();
    let mut saw_header = false;
    let mut v4_rows = 0usize;
    let mut v6_rows = 0usize;
    for (idx, line) in lines.iter().enumerate() {
        let t = line.tokens();
        // The title in any locale ("Table de routage IP du noyau"): the line above the header.
        let above_header = lines
            .get(idx + 1)
            .is_some_and(|n| is_columns(&n.tokens()) || is_columns6(&n.tokens()));
        if is_title(&t) || is_columns6(&t) || (above_header && !looks_like_row(&t)) {
            saw_header = true;
            continue;
        }
        if is_columns(&t) {
            saw_header = true;
            let iface = t.iter().position(|x| *x == "Iface");
            let mss = t.iter().position(|x| *x == "MSS");
            layout = Some(match (mss, iface) {
                (Some(m), Some(i)) if m > i => Layout::Wide,
                (Some(_), _) => Layout::Mss,
                _ if t.len() >= 11 => Layout::Wide,
                _ => Layout::Metric,
            });
            continue;
        }
        if !looks_like_row(&t) {
            w.skipped(line.no, &line.text);
            continue;
        }
        if t[0].contains(':') {
            v6_rows += 1;
            let r = parse_row6(line.no, &t)?;
            // route -6 lists each nexthop of an ECMP route as its own row: merge them.
            if let Some(prev) = routes.last_mut()
                && prev.dst == r.dst
                && prev.metric == r.metric
                && prev.kind == RouteType::Unicast
                && r.kind == RouteType::Unicast
                && prev.gateway().is_some()
                && r.gateway().is_some()
            {
                prev.nexthops.extend(r.nexthops);
                continue;
            }
            routes.push(r);
            continue;
        }
        v4_rows += 1;
        let lay = match layout {
            Some(l) => l,
            None => {
                let l = if t.len() >= 11 {
                    Layout::Wide
                } else {
                    Layout::Metric
                };
                if !saw_header {
                    w.once(
                        "route-n-no-header",
                        format!(
                            "line {}: no column header: read the columns as `route -n` prints them \
                             (Destination Gateway Genmask Flags Metric Ref Use Iface)",
                            line.no
                        ),
                    );
                }
                layout = Some(l);
                l
            }
        };
        routes.push(parse_row4(line.no, &t, lay, w)?);
    }
    if v4_rows > 0 {
        w.once(
            "route-n-loses",
            "route -n shows only the main table and the first nexthop of each route, and no \
             proto, scope, src, onlink or linkdown: routes are read with proto boot, table main, \
             scope link without gateway and global with one; a blackhole is read from Iface `*`, \
             and `!` (unreachable or prohibit, route -n cannot tell) as unreachable"
                .to_string(),
        );
        if layout == Some(Layout::Mss) {
            w.once(
                "route-n-mss",
                "this layout (netstat -rn, route -ne) has no Metric column: metrics are unknown"
                    .to_string(),
            );
        }
        if layout == Some(Layout::Wide) {
            w.once(
                "route-n-wide",
                "route -nee cuts interface names to 6 characters".to_string(),
            );
        }
    }
    if v6_rows > 0 {
        w.once(
            "route-6-loses",
            "route -6 shows no table, type or proto: local-table entries (local addresses, \
             multicast) are read as main-table routes, and `!` rows (blackhole, unreachable, \
             prohibit) as unreachable"
                .to_string(),
        );
    }
    Ok(routes)
}

fn parse_row4(no: usize, t: &[&str], layout: Layout, w: &mut Warnings) -> Result<Route> {
    let (metric_at, iface_at, width) = match layout {
        Layout::Metric => (Some(4), 7, 8),
        Layout::Mss => (None, 7, 8),
        Layout::Wide => (Some(4), 7, 11),
    };
    if t.len() < iface_at + 1 {
        // A reject row of an old net-tools may end early; the Iface is what matters.
        bail!(
            "line {no}: {} columns where `route -n` has {width} (Destination Gateway Genmask \
             Flags Metric Ref Use Iface)",
            t.len()
        );
    }
    if t.len() > width {
        w.push(format!(
            "line {no}: ignored {:?} after the last column",
            t[width..].join(" ")
        ));
    }
    let dst = v4_or_name(no, "Destination", t[0])?;
    let gw = v4_or_name(no, "Gateway", t[1])?;
    let len = mask_prefix(no, t[2])?;
    let flags = t[3];
    let metric = match metric_at.map(|i| t[i]) {
        None | Some("-") => None,
        Some(m) => match m.parse::<u32>() {
            Ok(0) => None,
            Ok(n) => Some(n),
            Err(_) => bail!("line {no}: Metric {m:?} is not a number"),
        },
    };
    let iface = t[iface_at];
    let net = IpNetwork::new(IpAddr::V4(dst), len)
        .map_err(|e| anyhow!("line {no}: bad destination {}/{len}: {e}", t[0]))?;
    let (dst, fixed) = normalize(net);
    if fixed {
        w.push(format!(
            "line {no}: destination {} has host bits outside Genmask {}; read as {dst}",
            t[0], t[2]
        ));
    }
    if !flags.contains('U') && !flags.contains('!') {
        w.push(format!(
            "line {no}: flags {flags:?} without U (up); kept anyway"
        ));
    }
    let mut route = if flags.contains('!') {
        Route::drop(RouteType::Unreachable, dst, Protocol::BOOT)
    } else if iface == "*" {
        Route::drop(RouteType::Blackhole, dst, Protocol::BOOT)
    } else {
        let hop = if gw.is_unspecified() {
            Nexthop::dev(iface)
        } else {
            Nexthop::via(IpAddr::V4(gw), iface)
        };
        Route::unicast(dst, hop)
    };
    if flags.contains('G') && gw.is_unspecified() {
        w.push(format!(
            "line {no}: flag G without a gateway address; read without gateway"
        ));
    }
    route.metric = metric;
    route.table = Table::MAIN;
    Ok(route)
}

fn parse_row6(no: usize, t: &[&str]) -> Result<Route> {
    let net: IpNetwork = t[0]
        .parse()
        .map_err(|_| anyhow!("line {no}: bad destination {:?}", t[0]))?;
    let (dst, _) = normalize(net);
    let gw: IpAddr = t[1]
        .parse()
        .map_err(|_| anyhow!("line {no}: Next Hop {:?} is not an address", t[1]))?;
    let flags = t[2];
    let metric = match t[3] {
        "-1" => u32::MAX,
        m => m
            .parse()
            .map_err(|_| anyhow!("line {no}: Met {m:?} is not a number"))?,
    };
    let iface = t[6];
    let mut route = if flags.contains('!') {
        let mut r = Route::drop(RouteType::Unreachable, dst, Protocol::BOOT);
        r.nexthops.push(Nexthop::dev(iface));
        r
    } else if gw.is_unspecified() {
        let mut r = Route::unicast(dst, Nexthop::dev(iface));
        r.scope = Scope::Universe;
        r
    } else {
        Route::unicast(dst, Nexthop::via(gw, iface))
    };
    route.metric = Some(metric);
    Ok(route)
}
