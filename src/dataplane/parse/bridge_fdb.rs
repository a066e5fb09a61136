//! `bridge fdb` (also `bridge fdb show dev D`, `bridge fdb show br B`) and `bridge -j fdb`.
//!
//! `MAC dev DEV [dst IP] [vlan N] [master BR] [self] [permanent|static|stale] …`. The state
//! word is what iproute2 prints for NUD_PERMANENT, NUD_NOARP (`static`) and NUD_STALE; a
//! learned entry prints none (it is reachable).

use std::net::IpAddr;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use super::Warnings;
use super::ip_link::is_json;
use super::json;
use super::text::clean_lines;
use crate::dataplane::{FdbEntry, MacAddr, NudState};

fn state_of(word: &str) -> Option<NudState> {
    Some(match word {
        "permanent" => NudState::Permanent,
        "static" => NudState::Noarp,
        "stale" => NudState::Stale,
        "reachable" | "" => NudState::Reachable,
        _ => return None,
    })
}

/// Read `bridge fdb` text or `bridge -j fdb` JSON into FDB entries, with warnings.
pub fn parse_fdb(input: &str) -> Result<(Vec<FdbEntry>, Vec<String>)> {
    let mut w = Warnings::default();
    let f = fdb_in(input, &mut w)?;
    Ok((f, w.finish()))
}

pub(crate) fn fdb_in(input: &str, w: &mut Warnings) -> Result<Vec<FdbEntry>> {
    if is_json(input)? {
        let (text, prompt) = json::blank_non_json(input);
        let objs = json::objects(&text, "bridge -j fdb")?;
        let mut out = Vec::with_capacity(objs.len());
        for (i, o) in objs.iter().enumerate() {
            let cx = || format!("JSON fdb entry {}", i + 1);
            let mac: MacAddr = o
                .get("mac")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("no \"mac\""))
                .and_then(|m| m.parse::<MacAddr>().map_err(anyhow::Error::from))
                .with_context(cx)?;
            let found = o.get("ifname").or_else(|| o.get("dev"));
            let dev = json::dev_or_prompt(found.and_then(Value::as_str), &prompt, "ifname")
                .with_context(cx)?;
            let dst = match o.get("dst").and_then(Value::as_str) {
                Some(d) => Some(
                    d.parse::<IpAddr>()
                        .map_err(|_| anyhow!("dst {d:?} is not an IP address"))
                        .with_context(cx)?,
                ),
                None => None,
            };
            let flags: Vec<&str> = o
                .get("flags")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let state = o
                .get("state")
                .and_then(Value::as_str)
                .and_then(state_of)
                .unwrap_or(NudState::Reachable);
            out.push(FdbEntry {
                mac,
                dst,
                dev,
                master: o.get("master").and_then(Value::as_str).map(str::to_string),
                self_: flags.contains(&"self"),
                state,
            });
        }
        return Ok(out);
    }
    let lines = clean_lines(input, false)?;
    let mut out = Vec::new();
    for line in &lines {
        let t = line.tokens();
        let no = line.no;
        let Some(Ok(mac)) = t.first().map(|m| m.parse::<MacAddr>()) else {
            w.skipped(no, &line.text);
            continue;
        };
        let mut e = FdbEntry {
            mac,
            dst: None,
            dev: String::new(),
            master: None,
            self_: false,
            state: NudState::Reachable,
        };
        let mut dev = line.prompt.dev.clone();
        let mut i = 1;
        while i < t.len() {
            let next = t.get(i + 1).copied();
            match t[i] {
                "dev" => {
                    dev = Some(
                        next.ok_or_else(|| anyhow!("line {no}: dev without a name"))?
                            .to_string(),
                    );
                    i += 1;
                }
                "dst" => {
                    let d = next.ok_or_else(|| anyhow!("line {no}: dst without an address"))?;
                    e.dst = Some(
                        d.parse()
                            .map_err(|_| anyhow!("line {no}: dst {d:?} is not an IP address"))?,
                    );
                    i += 1;
                }
                "master" => {
                    e.master = Some(
                        next.ok_or_else(|| anyhow!("line {no}: master without a name"))?
                            .to_string(),
                    );
                    i += 1;
                }
                "self" => e.self_ = true,
                "vlan" | "port" | "vni" | "src_vni" | "via" | "nhid" | "used" | "updated" => i += 1,
                "router" | "extern_learn" | "offload" | "sticky" | "locked" | "use" => {}
                word => match state_of(word) {
                    Some(s) => e.state = s,
                    None => w.push(format!("line {no}: ignored unknown token {word:?}")),
                },
            }
            i += 1;
        }
        let Some(dev) = dev else {
            bail!("line {no}: fdb entry {mac} without dev (and no `dev` in the command above)");
        };
        e.dev = dev;
        out.push(e);
    }
    Ok(out)
}
