//! `ip -j route` JSON (also `ip -j -d route`, pretty `ip -j -p route`, several documents in a
//! row such as `ip -j -4 route; ip -j -6 route`).
//!
//! iproute2's schema: `type` only when not unicast (always with `-d`), `dst` is `"default"` or
//! a bare address for a host route, `protocol`/`table`/`scope` are names or numeric strings,
//! `flags` is an array of words, a multipath route has `nexthops` (`multipath` in some old
//! versions) and no top-level `gateway`/`dev`, `metrics` is an array of objects
//! (`[{"mtu":1400}]`). Fields it leaves out have the same defaults as in the text.

use std::net::IpAddr;

use anyhow::{Result, anyhow, bail};
use serde_json::{Map, Value};

use super::json::{self, kind_of, text_of};
use super::text::{Prompt, normalize, parse_dst};
use super::{ParseWarning, SkippedRoute, Warnings};
use crate::dataplane::{Family, Nexthop, NexthopFlags, Protocol, Route, RouteType, Scope, Table};

/// Parse the JSON documents in `text` (prompt and comment lines already blanked, so that
/// serde's line numbers are the input's).
pub(crate) fn parse(text: &str, prompt: &Prompt, w: &mut Warnings) -> Result<Vec<Route>> {
    let objs = json::objects(text, "ip -j route")?;
    let mut routes = Vec::with_capacity(objs.len());
    let mut last_family = None;
    let mut first_error = None;
    for (i, obj) in objs.iter().enumerate() {
        match route(obj, i + 1, prompt, last_family, w) {
            Ok(r) => {
                last_family = Some(r.family());
                routes.push(r);
            }
            Err(e) => {
                // A damaged object (a redacted address): skip it, say so, read the rest.
                let dst = match obj.get("dst") {
                    Some(Value::String(d)) if d != "default" => {
                        parse_dst(d, Family::Inet).map(|n| normalize(n).0)
                    }
                    _ => None,
                };
                w.add(ParseWarning {
                    line: None,
                    text: serde_json::to_string(obj).ok(),
                    reason: e.to_string(),
                    skipped: Some(dst.map_or(SkippedRoute::Unreadable, SkippedRoute::Prefix)),
                });
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if routes.is_empty() => Err(e),
        _ => Ok(routes),
    }
}

struct Ctx<'a> {
    index: usize,
    dst: &'a str,
}

impl Ctx<'_> {
    fn err(&self, msg: String) -> anyhow::Error {
        anyhow!("JSON route {} (dst {:?}): {msg}", self.index, self.dst)
    }

    fn string(&self, obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => text_of(v)
                .map(Some)
                .ok_or_else(|| self.err(format!("{key:?} is {}, not a string", kind_of(v)))),
        }
    }

    fn addr(&self, obj: &Map<String, Value>, key: &str) -> Result<Option<IpAddr>> {
        match self.string(obj, key)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| self.err(format!("{key} {s:?} is not an IP address"))),
        }
    }

    fn number(&self, obj: &Map<String, Value>, key: &str) -> Result<Option<u64>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.err(format!("{key} {n} is not a non-negative integer"))),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| self.err(format!("{key} {s:?} is not a number"))),
            Some(v) => Err(self.err(format!("{key:?} is {}, not a number", kind_of(v)))),
        }
    }

    /// `gateway`, or RTA_VIA as `"via": {"family": "inet6", "host": "fe80::1"}`.
    fn gateway(&self, obj: &Map<String, Value>) -> Result<Option<IpAddr>> {
        if let Some(g) = self.addr(obj, "gateway")? {
            return Ok(Some(g));
        }
        match obj.get("via") {
            Some(Value::Object(via)) => self.addr(via, "host"),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| self.err(format!("via {s:?} is not an IP address"))),
            _ => Ok(None),
        }
    }

    fn flags(&self, obj: &Map<String, Value>) -> Result<NexthopFlags> {
        let mut f = NexthopFlags::default();
        match obj.get("flags") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for v in a {
                    match v.as_str() {
                        Some("onlink") => f.onlink = true,
                        Some("linkdown") => f.linkdown = true,
                        Some("dead") => f.dead = true,
                        Some("pervasive") => f.pervasive = true,
                        Some("offload") => f.offload = true,
                        Some(_) => {}
                        None => return Err(self.err(format!("flags holds {}", kind_of(v)))),
                    }
                }
            }
            Some(v) => return Err(self.err(format!("flags is {}, not an array", kind_of(v)))),
        }
        Ok(f)
    }

    fn nexthop(&self, obj: &Map<String, Value>) -> Result<Nexthop> {
        let weight = match self.number(obj, "weight")? {
            None => 1,
            Some(n) => u16::try_from(n).map_err(|_| self.err(format!("weight {n} too large")))?,
        };
        Ok(Nexthop {
            gateway: self.gateway(obj)?,
            dev: self.string(obj, "dev")?,
            ifindex: None,
            weight,
            flags: self.flags(obj)?,
        })
    }
}

fn route(
    obj: &Map<String, Value>,
    index: usize,
    prompt: &Prompt,
    last_family: Option<Family>,
    w: &mut Warnings,
) -> Result<Route> {
    let dst_text = match obj.get("dst") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => bail!(
            "JSON route {index}: \"dst\" is {}, not a string",
            kind_of(v)
        ),
        None => bail!("JSON route {index}: no \"dst\" field; is this the output of `ip -j route`?"),
    };
    let cx = Ctx {
        index,
        dst: &dst_text,
    };
    let kind = match cx.string(obj, "type")? {
        None => prompt.kind.unwrap_or(RouteType::Unicast),
        Some(t) => match RouteType::parse(&t) {
            Some(k) => k,
            None => match t.parse::<u8>() {
                Ok(n) => RouteType::from_number(n),
                Err(_) => return Err(cx.err(format!("unknown route type {t:?}"))),
            },
        },
    };
    let single = cx.nexthop(obj)?;
    let mut hops: Vec<Nexthop> = Vec::new();
    for key in ["nexthops", "multipath"] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for h in a {
                    let Value::Object(h) = h else {
                        return Err(cx.err(format!("{key} holds {}", kind_of(h))));
                    };
                    hops.push(cx.nexthop(h)?);
                }
            }
            Some(v) => return Err(cx.err(format!("{key} is {}, not an array", kind_of(v)))),
        }
    }
    // The family of a "default" route: from its addresses, then "pref" (IPv6 only).
    let prefsrc = cx.addr(obj, "prefsrc")?;
    let via_family = match obj.get("via") {
        Some(Value::Object(v)) => v.get("family").and_then(Value::as_str),
        _ => None,
    };
    let family = if let Some(f) = via_family {
        // RTA_VIA carries a gateway of the other family.
        if f == "inet6" {
            Family::Inet
        } else {
            Family::Inet6
        }
    } else if let Some(a) = single
        .gateway
        .or(prefsrc)
        .or_else(|| hops.iter().find_map(|h| h.gateway))
    {
        Family::of(&a)
    } else if obj.contains_key("pref") {
        Family::Inet6
    } else {
        prompt.family.or(last_family).unwrap_or(Family::Inet)
    };
    let dst = parse_dst(&dst_text, family).ok_or_else(|| {
        cx.err("bad destination (expected default, an address or ADDR/LEN)".into())
    })?;
    let (dst, fixed) = normalize(dst);
    if fixed {
        w.push(format!(
            "JSON route {index}: destination {dst_text:?} has host bits set; read as {dst}"
        ));
    }
    let table = match cx.string(obj, "table")? {
        None => prompt.table.unwrap_or(Table::MAIN),
        Some(t) => Table::parse(&t).ok_or_else(|| {
            cx.err(format!(
                "unknown table name {t:?}: replace it by its number from /etc/iproute2/rt_tables"
            ))
        })?,
    };
    let proto = match cx.string(obj, "protocol")? {
        None => prompt.proto.unwrap_or(Protocol::BOOT),
        Some(p) => Protocol::parse(&p).ok_or_else(|| {
            cx.err(format!(
                "unknown protocol name {p:?}: replace it by its number from /etc/iproute2/rt_protos"
            ))
        })?,
    };
    let scope = match cx.string(obj, "scope")? {
        None => prompt.scope.unwrap_or(Scope::Universe),
        Some(s) => Scope::parse(&s).ok_or_else(|| cx.err(format!("unknown scope {s:?}")))?,
    };
    let metric = match cx.number(obj, "metric")? {
        None => None,
        Some(m) => Some(u32::try_from(m).map_err(|_| cx.err(format!("metric {m} too large")))?),
    };
    let tos = match obj.get("tos") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| cx.err(format!("tos {n} out of range")))?,
        Some(Value::String(s)) => {
            let h = s.strip_prefix("0x").unwrap_or(s);
            u8::from_str_radix(h, 16).map_err(|_| cx.err(format!("tos {s:?} is not hex")))?
        }
        Some(v) => return Err(cx.err(format!("tos is {}", kind_of(v)))),
    };
    let mtu = match obj.get("metrics") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_object)
            .find_map(|m| m.get("mtu"))
            .map(|v| {
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| cx.err(format!("metrics mtu {v} is not a number")))
            })
            .transpose()?,
        Some(Value::Object(m)) => m
            .get("mtu")
            .map(|v| {
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| cx.err(format!("metrics mtu {v} is not a number")))
            })
            .transpose()?,
        _ => None,
    };
    let mut single = single;
    if single.dev.is_none()
        && hops.is_empty()
        && let Some(d) = &prompt.dev
    {
        single.dev = Some(d.clone());
    }
    let single_used =
        single.gateway.is_some() || single.dev.is_some() || single.flags != NexthopFlags::default();
    let nexthops = if !hops.is_empty() {
        if single.gateway.is_some() || single.dev.is_some() {
            let mut v = vec![Nexthop {
                weight: 1,
                ..single
            }];
            v.extend(hops);
            v
        } else {
            hops
        }
    } else if single_used {
        vec![Nexthop {
            weight: 1,
            ..single
        }]
    } else {
        Vec::new()
    };
    Ok(Route {
        dst,
        kind,
        table,
        proto,
        scope,
        metric,
        prefsrc,
        tos,
        mtu,
        nexthops,
    })
}
