//! `ip route` text: `ip route`, `ip -4|-6 route show [table all]`, `ip -d route`, `ip -o route`,
//! `ip route get`, old iproute2 with two spaces between fields.
//!
//! The field order is iproute2's `print_route`:
//! `[TYPE] DST [tos T] [via [FAMILY] GW] [dev DEV] [table T] [proto P] [scope S] [src SRC]
//! [metric M] [FLAGS…] [mark] [realms] [uid] [METRICS: mtu [lock] N …] [iif] [pref P]`,
//! then for a multipath route one `\tnexthop via … dev … weight N [FLAGS]` line per nexthop.
//! What a line leaves out has iproute2's default: unicast, table main, proto boot, scope
//! global (iproute2 prints scope only when it is not global, proto only when it is not boot,
//! table only when it is not main), and whatever the prompt's command filtered on
//! (`ip route show table 100` prints no `table`).

use std::net::IpAddr;

use anyhow::{Result, anyhow, bail};

use super::Warnings;
use super::text::{Line, Prompt, looks_like_dst, normalize, parse_dst, readable_dst};
use crate::dataplane::{Family, Nexthop, Protocol, Route, RouteType, Scope, Table};

/// Route metrics `ip route` prints after the flags (`mtu lock 1400 rtt 10ms advmss 1360`).
const METRICS: &[&str] = &[
    "mtu",
    "advmss",
    "rtt",
    "rttvar",
    "reordering",
    "window",
    "cwnd",
    "ssthresh",
    "rto_min",
    "initcwnd",
    "initrwnd",
    "quickack",
    "congctl",
    "hoplimit",
    "features",
    "fastopen_no_cookie",
];

/// Keywords with one value that netpath does not keep.
const IGNORED_WITH_VALUE: &[&str] = &[
    "from",
    "mark",
    "realm",
    "realms",
    "uid",
    "iif",
    "pref",
    "expires",
    "error",
    "nhid",
    "used",
    "age",
    "users",
    "ipid",
    "ts",
    "tsage",
    "ttl-propagate",
];

/// Flags netpath keeps nowhere (offload state of switch ASICs, `ip route get` results).
const IGNORED_FLAGS: &[&str] = &[
    "trap",
    "notify",
    "unresolved",
    "rt_offload",
    "rt_trap",
    "rt_offload_failed",
    "cache",
    "\\",
];

/// Everything that is a field name in a route line.
fn is_keyword(t: &str) -> bool {
    matches!(
        t,
        "tos"
            | "dsfield"
            | "via"
            | "dev"
            | "oif"
            | "table"
            | "proto"
            | "scope"
            | "src"
            | "metric"
            | "priority"
            | "nexthop"
            | "weight"
            | "encap"
            | "as"
            | "dead"
            | "onlink"
            | "pervasive"
            | "offload"
            | "linkdown"
    ) || METRICS.contains(&t)
        || IGNORED_WITH_VALUE.contains(&t)
        || IGNORED_FLAGS.contains(&t)
}

/// True when the tokens start like a line of `ip route` output.
pub(crate) fn looks_like(tokens: &[&str]) -> bool {
    let mut t = tokens;
    if t.first() == Some(&"Deleted") {
        t = &t[1..];
    }
    let Some(first) = t.first() else {
        return false;
    };
    let dst_at = if RouteType::parse(first).is_some() {
        1
    } else {
        0
    };
    match t.get(dst_at) {
        Some(d) if looks_like_dst(d) => {}
        _ => return false,
    }
    // A destination alone is a multipath head line; otherwise a keyword follows.
    match t.get(dst_at + 1) {
        None => true,
        Some(k) => is_keyword(k),
    }
}

fn starts_route(tokens: &[&str]) -> bool {
    let first = tokens.first().copied().unwrap_or("");
    first == "Deleted" || RouteType::parse(first).is_some() || looks_like_dst(first)
}

/// Parse `ip route` text lines into routes.
pub(crate) fn parse(lines: &[Line], w: &mut Warnings) -> Result<Vec<Route>> {
    // Group each route's head line with its continuation lines (nexthop, cache).
    let mut groups: Vec<(Vec<(usize, &str)>, &Prompt)> = Vec::new();
    for line in lines {
        let toks = line.tokens();
        let Some(&first) = toks.first() else {
            continue;
        };
        if line.prompt.not_listing {
            w.push(format!(
                "line {}: skipped, the output of `{}` is not a route of the table",
                line.no,
                line.prompt.command.as_deref().unwrap_or("ip route get")
            ));
            continue;
        }
        let continuation = !groups.is_empty()
            && ((line.indented() && !starts_route(&toks))
                || first == "nexthop"
                || first == "cache");
        if continuation {
            if let Some((g, _)) = groups.last_mut() {
                g.extend(toks.iter().map(|t| (line.no, *t)));
            }
        } else if looks_like(&toks) {
            groups.push((toks.iter().map(|t| (line.no, *t)).collect(), &line.prompt));
        } else if super::route_n::looks_like_row(&toks) {
            w.skipped_route(
                line.no,
                &line.text,
                "a line of `route -n`, not of `ip route`".to_string(),
                super::route_n::row_dst(&toks),
            );
        } else {
            w.skipped(line.no, &line.text);
        }
    }
    let mut routes = Vec::with_capacity(groups.len());
    let mut last_family = None;
    let mut first_error = None;
    for (toks, prompt) in &groups {
        match parse_route(toks, prompt, last_family, w) {
            Ok(Some(r)) => {
                last_family = Some(r.family());
                routes.push(r);
            }
            Ok(None) => {}
            Err(e) => {
                // A damaged line (cut off, a redacted address): skip it, say so, read the rest.
                let no = toks.first().map_or(0, |t| t.0);
                let text = lines
                    .iter()
                    .find(|l| l.no == no)
                    .map_or(String::new(), |l| l.text.clone());
                let msg = e.to_string();
                let mut reason = msg
                    .strip_prefix("line ")
                    .and_then(|r| r.split_once(": "))
                    .map_or(msg.as_str(), |(_, r)| r)
                    .to_string();
                if cut_off(&text, &reason) {
                    reason.push_str(" (the line looks cut off)");
                }
                w.skipped_route(no, &text, reason, readable_dst(&text));
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        // Nothing readable at all: the input is not a damaged dump but a wrong one.
        Some(e) if routes.is_empty() => Err(e),
        _ => Ok(routes),
    }
}

/// Whether the error is about the line's last token, or a keyword at its end without its
/// value: what a line cut off in a paste looks like (`… proto bi`).
fn cut_off(text: &str, reason: &str) -> bool {
    let last = text.split_whitespace().last().unwrap_or("");
    reason.contains("without its value")
        || (!last.is_empty() && reason.contains(&format!("{last:?}")))
        || last.ends_with('…')
}

/// The family a `default` destination belongs to: from the addresses on the line, then
/// `pref` (only IPv6 routes print it), the prompt's `-4`/`-6`, the previous route.
fn family_hint(toks: &[(usize, &str)], prompt: &Prompt, last: Option<Family>) -> Family {
    for (j, (_, t)) in toks.iter().enumerate() {
        let next = toks.get(j + 1).map(|x| x.1);
        match *t {
            "via" => match next {
                // RTA_VIA: the gateway is of the other family (RFC 5549).
                Some("inet6") => return Family::Inet,
                Some("inet") => return Family::Inet6,
                Some(a) => {
                    if let Ok(a) = a.parse::<IpAddr>() {
                        return Family::of(&a);
                    }
                }
                None => {}
            },
            "src" => {
                if let Some(Ok(a)) = next.map(str::parse::<IpAddr>) {
                    return Family::of(&a);
                }
            }
            "pref" => return Family::Inet6,
            _ => {}
        }
    }
    prompt.family.or(last).unwrap_or(Family::Inet)
}

fn tos_value(s: &str) -> Option<u8> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u8::from_str_radix(h, 16).ok();
    }
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    // iproute2's rt_dsfield names.
    Some(match s {
        "default" | "CS0" => 0x00,
        "lowdelay" => 0x10,
        "throughput" => 0x08,
        "reliability" => 0x04,
        "flash-override" => 0x80,
        "critical" => 0xa0,
        "internet" => 0xc0,
        "network" => 0xe0,
        "CS1" => 0x20,
        "CS2" => 0x40,
        "CS3" => 0x60,
        "CS4" => 0x80,
        "CS5" => 0xa0,
        "CS6" => 0xc0,
        "CS7" => 0xe0,
        "AF11" => 0x28,
        "AF12" => 0x30,
        "AF13" => 0x38,
        "AF21" => 0x48,
        "AF22" => 0x50,
        "AF23" => 0x58,
        "AF31" => 0x68,
        "AF32" => 0x70,
        "AF33" => 0x78,
        "AF41" => 0x88,
        "AF42" => 0x90,
        "AF43" => 0x98,
        "EF" => 0xb8,
        _ => return None,
    })
}

/// Parse a table name or number, with an error a user can act on.
pub(crate) fn table_value(line: usize, t: &str) -> Result<Table> {
    Table::parse(t).ok_or_else(|| {
        anyhow!(
            "line {line}: unknown table name {t:?}: only main, local and default are known \
             offline; replace it by its number from /etc/iproute2/rt_tables"
        )
    })
}

/// Parse a protocol name or number, with an error a user can act on.
pub(crate) fn proto_value(line: usize, t: &str) -> Result<Protocol> {
    // The names on every CNI node first (Protocol::parse scans the whole table).
    let common = match t {
        "kernel" => Some(Protocol::KERNEL),
        "boot" => Some(Protocol::BOOT),
        "static" => Some(Protocol::STATIC),
        "bird" => Some(Protocol::BIRD),
        "dhcp" => Some(Protocol(16)),
        "ra" => Some(Protocol(9)),
        _ => None,
    };
    common.or_else(|| Protocol::parse(t)).ok_or_else(|| {
        anyhow!(
            "line {line}: unknown protocol name {t:?}: replace it by its number from \
             /etc/iproute2/rt_protos"
        )
    })
}

/// Parse a scope name or number.
pub(crate) fn scope_value(line: usize, t: &str) -> Result<Scope> {
    Scope::parse(t).ok_or_else(|| {
        anyhow!("line {line}: unknown scope {t:?} (expected global, site, link, host, nowhere or a number)")
    })
}

fn addr_value(line: usize, kw: &str, t: &str) -> Result<IpAddr> {
    t.parse()
        .map_err(|_| anyhow!("line {line}: {kw} {t:?} is not an IP address"))
}

/// One route from its tokens (head line and continuation lines). `None` when the route is
/// to be dropped (an `ip monitor` "Deleted" line).
fn parse_route(
    toks: &[(usize, &str)],
    prompt: &Prompt,
    last_family: Option<Family>,
    w: &mut Warnings,
) -> Result<Option<Route>> {
    let mut i = 0;
    let head_line = toks.first().map(|t| t.0).unwrap_or(0);
    if toks.first().map(|t| t.1) == Some("Deleted") {
        w.push(format!(
            "line {head_line}: skipped a \"Deleted\" route (from ip monitor): it no longer exists"
        ));
        return Ok(None);
    }
    let mut kind = prompt.kind.unwrap_or(RouteType::Unicast);
    if let Some(k) = toks.get(i).and_then(|t| RouteType::parse(t.1)) {
        kind = k;
        i += 1;
    }
    let Some(&(dst_line, dst_tok)) = toks.get(i) else {
        bail!(
            "line {head_line}: route of type {} without a destination",
            kind.name()
        );
    };
    i += 1;
    let family = match dst_tok {
        "default" | "any" | "all" => family_hint(&toks[i..], prompt, last_family),
        t if t.starts_with("0/") => family_hint(&toks[i..], prompt, last_family),
        _ => Family::Inet,
    };
    let dst = parse_dst(dst_tok, family).ok_or_else(|| {
        anyhow!("line {dst_line}: bad destination {dst_tok:?} (expected default, an address or ADDR/LEN)")
    })?;
    let (dst, fixed) = normalize(dst);
    if fixed {
        w.push(format!(
            "line {dst_line}: destination {dst_tok:?} has host bits set; read as {dst}"
        ));
    }

    let mut table = None;
    let mut proto = None;
    let mut scope = None;
    let mut metric = None;
    let mut prefsrc = None;
    let mut tos = 0u8;
    let mut mtu = None;
    let mut head = Nexthop {
        weight: 1,
        ..Default::default()
    };
    let mut head_used = false;
    let mut multi: Vec<Nexthop> = Vec::new();
    let mut ignored: Vec<&str> = Vec::new();

    while i < toks.len() {
        let (line, kw) = toks[i];
        i += 1;
        // The value after a keyword.
        macro_rules! value {
            ($what:expr) => {{
                let v = toks.get(i).map(|t| t.1).ok_or_else(|| {
                    anyhow!(
                        "line {line}: {:?} at the end of the route, without its value",
                        $what
                    )
                })?;
                i += 1;
                v
            }};
        }
        macro_rules! hop {
            () => {
                match multi.last_mut() {
                    Some(h) => h,
                    None => &mut head,
                }
            };
        }
        match kw {
            "nexthop" => multi.push(Nexthop {
                weight: 1,
                ..Default::default()
            }),
            "via" => {
                let mut v = value!("via");
                if v == "inet" || v == "inet6" {
                    v = value!("via");
                }
                hop!().gateway = Some(addr_value(line, "via", v)?);
                head_used |= multi.is_empty();
            }
            "dev" | "oif" => {
                hop!().dev = Some(value!("dev").to_string());
                head_used |= multi.is_empty();
            }
            "weight" => {
                let v = value!("weight");
                hop!().weight = v.parse().map_err(|_| {
                    anyhow!("line {line}: weight {v:?} is not a number from 1 to 256")
                })?;
            }
            "dead" | "onlink" | "pervasive" | "offload" | "linkdown" => {
                match kw {
                    "dead" => hop!().flags.dead = true,
                    "onlink" => hop!().flags.onlink = true,
                    "pervasive" => hop!().flags.pervasive = true,
                    "offload" => hop!().flags.offload = true,
                    _ => hop!().flags.linkdown = true,
                }
                head_used |= multi.is_empty();
            }
            "tos" | "dsfield" => {
                let v = value!("tos");
                tos = tos_value(v)
                    .ok_or_else(|| anyhow!("line {line}: tos {v:?} is not a TOS value"))?;
            }
            "table" => table = Some(table_value(line, value!("table"))?),
            "proto" => proto = Some(proto_value(line, value!("proto"))?),
            "scope" => scope = Some(scope_value(line, value!("scope"))?),
            "src" => prefsrc = Some(addr_value(line, "src", value!("src"))?),
            "metric" | "priority" => {
                let v = value!("metric");
                metric = Some(
                    v.parse::<u32>()
                        .map_err(|_| anyhow!("line {line}: metric {v:?} is not a number"))?,
                );
            }
            "as" => {
                let mut v = value!("as");
                if v == "to" {
                    v = value!("as to");
                }
                let _ = v;
            }
            "encap" => {
                // Lightweight tunnel encapsulation: variable length; skip to the next field.
                let _ = value!("encap");
                while i < toks.len() && !is_keyword(toks[i].1) {
                    i += 1;
                }
                w.once(
                    "encap",
                    format!("line {line}: route encapsulation (encap …) is not kept"),
                );
            }
            k if METRICS.contains(&k) => {
                let mut v = value!(k);
                if v == "lock" {
                    v = value!(k);
                }
                if k == "mtu" {
                    mtu = Some(
                        v.parse::<u32>()
                            .map_err(|_| anyhow!("line {line}: mtu {v:?} is not a number"))?,
                    );
                }
            }
            k if IGNORED_WITH_VALUE.contains(&k) => {
                let _ = value!(k);
            }
            k if IGNORED_FLAGS.contains(&k) => {}
            other => ignored.push(other),
        }
    }
    if !ignored.is_empty() {
        w.push(format!(
            "line {head_line}: ignored unknown token(s) {:?}",
            ignored.join(" ")
        ));
    }
    if head.dev.is_none()
        && multi.is_empty()
        && let Some(d) = &prompt.dev
    {
        head.dev = Some(d.clone());
        head_used = true;
    }
    let nexthops = if !multi.is_empty() {
        if head_used {
            let mut v = vec![head];
            v.extend(multi);
            v
        } else {
            multi
        }
    } else if head_used {
        vec![head]
    } else {
        Vec::new()
    };
    Ok(Some(Route {
        dst,
        kind,
        table: table.or(prompt.table).unwrap_or(Table::MAIN),
        proto: proto.or(prompt.proto).unwrap_or(Protocol::BOOT),
        scope: scope.or(prompt.scope).unwrap_or(Scope::Universe),
        metric,
        prefsrc,
        tos,
        mtu,
        nexthops,
    }))
}
