//! `ip addr` (also `ip -o addr`, `ip -br addr`, `ip -d addr`) and `ip -j addr`.
//!
//! In the text, each device block has `inet ADDR/LEN [brd B] scope S [flags…] LABEL` and
//! `inet6 ADDR/LEN scope S [flags…]` lines; a point-to-point address is
//! `inet LOCAL peer PEER/LEN`, and its prefix length is the peer's.

use std::net::IpAddr;

use anyhow::{Context, Result, anyhow, bail};
use ipnetwork::IpNetwork;
use serde_json::Value;

use super::Warnings;
use super::ip_link::{blocks, is_json};
use super::json;
use super::text::clean_lines;
use crate::dataplane::{Addr, Scope};

/// The scope an address without one has (`ip -br addr` prints none).
fn scope_guess(a: &IpAddr) -> Scope {
    match a {
        IpAddr::V4(v) if v.is_loopback() => Scope::Host,
        IpAddr::V6(v) if v.is_loopback() => Scope::Host,
        IpAddr::V6(v) if (v.segments()[0] & 0xffc0) == 0xfe80 => Scope::Link,
        _ => Scope::Universe,
    }
}

fn net_of(no: usize, local: &str, len: Option<&str>) -> Result<IpNetwork> {
    let (a, l) = match (local.split_once('/'), len) {
        (Some((a, l)), _) => (a, Some(l)),
        (None, l) => (local, l),
    };
    let addr: IpAddr = a
        .parse()
        .map_err(|_| anyhow!("line {no}: address {local:?} is not an IP address"))?;
    let len = match l {
        Some(l) => l
            .parse()
            .map_err(|_| anyhow!("line {no}: prefix length {l:?} is not a number"))?,
        None => match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        },
    };
    IpNetwork::new(addr, len).map_err(|e| anyhow!("line {no}: address {local:?}: {e}"))
}

/// Read `ip addr` text or `ip -j addr` JSON into addresses, with warnings.
pub fn parse_addrs(input: &str) -> Result<(Vec<Addr>, Vec<String>)> {
    let mut w = Warnings::default();
    let addrs = addrs_in(input, &mut w)?;
    Ok((addrs, w.finish()))
}

pub(crate) fn addrs_in(input: &str, w: &mut Warnings) -> Result<Vec<Addr>> {
    if is_json(input)? {
        let (text, _) = json::blank_non_json(input);
        let objs = json::objects(&text, "ip -j addr")?;
        let mut out = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            let dev = o
                .get("ifname")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("JSON device {}: no \"ifname\"", i + 1))?;
            let infos = match o.get("addr_info") {
                None | Some(Value::Null) => continue,
                Some(Value::Array(a)) => a,
                Some(v) => bail!("JSON device {dev:?}: addr_info is {}", json::kind_of(v)),
            };
            for a in infos {
                let local = a
                    .get("local")
                    .and_then(Value::as_str)
                    .ok_or_else(|| anyhow!("JSON device {dev:?}: address without \"local\""))?;
                let len = a
                    .get("prefixlen")
                    .and_then(Value::as_u64)
                    .map(|n| n.to_string());
                let net = net_of(0, local, len.as_deref())
                    .with_context(|| format!("JSON device {dev:?}"))?;
                let scope = match a.get("scope").and_then(json::text_of) {
                    Some(s) => Scope::parse(&s)
                        .ok_or_else(|| anyhow!("JSON device {dev:?}: unknown scope {s:?}"))?,
                    None => scope_guess(&net.ip()),
                };
                out.push(Addr {
                    dev: dev.to_string(),
                    addr: net,
                    scope,
                });
            }
        }
        return Ok(out);
    }
    let lines = clean_lines(input, false)?;
    // `ip -br addr`: "eth0@eth0p  UP  192.168.1.10/24 fe80::1/64".
    let brief = lines.iter().all(|l| {
        let t = l.tokens();
        t.len() >= 2
            && !t[0].ends_with(':')
            && t[2..].iter().all(|x| x.contains('/'))
            && t[1].chars().all(|c| c.is_ascii_uppercase())
    });
    if brief && !lines.is_empty() {
        let mut out = Vec::new();
        for l in &lines {
            let t = l.tokens();
            let dev = t[0].split('@').next().unwrap_or(t[0]);
            for a in &t[2..] {
                let net = net_of(l.no, a, None)?;
                out.push(Addr {
                    dev: dev.to_string(),
                    scope: scope_guess(&net.ip()),
                    addr: net,
                });
            }
        }
        return Ok(out);
    }
    let blocks = blocks(&lines, w);
    if blocks.is_empty() {
        bail!("no devices: expected the output of `ip addr` or `ip -j addr`");
    }
    let mut out = Vec::new();
    for b in &blocks {
        for (no, t) in &b.rest {
            let fam = t[0].as_str();
            if fam != "inet" && fam != "inet6" {
                continue;
            }
            let Some(local) = t.get(1) else {
                bail!("line {no}: {fam} without an address");
            };
            // Point-to-point: "inet 10.0.0.1 peer 10.0.0.2/32".
            let peer_len = t
                .iter()
                .position(|x| x == "peer")
                .and_then(|i| t.get(i + 1))
                .and_then(|p| p.split_once('/'))
                .map(|(_, l)| l.to_string());
            let net = if local.contains('/') {
                net_of(*no, local, None)?
            } else {
                net_of(*no, local, peer_len.as_deref())?
            };
            let scope = match t
                .iter()
                .position(|x| x == "scope")
                .and_then(|i| t.get(i + 1))
            {
                Some(s) => {
                    Scope::parse(s).ok_or_else(|| anyhow!("line {no}: unknown scope {s:?}"))?
                }
                None => scope_guess(&net.ip()),
            };
            out.push(Addr {
                dev: b.name.clone(),
                addr: net,
                scope,
            });
        }
    }
    Ok(out)
}
