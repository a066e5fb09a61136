//! `ip neigh` (also `ip -4|-6 neigh`, `ip neigh show dev D`) and `ip -j neigh`.
//!
//! `DST dev DEV [lladdr MAC] [router] [proxy] [extern_learn] STATE`, with STATE one of
//! iproute2's NUD words (PERMANENT, REACHABLE, STALE, DELAY, PROBE, FAILED, INCOMPLETE,
//! NOARP, NONE). Under `ip neigh show dev D` iproute2 leaves `dev` out: the prompt line says it.

use std::net::IpAddr;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use super::Warnings;
use super::ip_link::is_json;
use super::json;
use super::text::clean_lines;
use crate::dataplane::{MacAddr, Neighbour, NudState};

fn nud(word: &str) -> Option<NudState> {
    Some(match word.to_ascii_uppercase().as_str() {
        "PERMANENT" => NudState::Permanent,
        "REACHABLE" => NudState::Reachable,
        "STALE" => NudState::Stale,
        "DELAY" => NudState::Delay,
        "PROBE" => NudState::Probe,
        "FAILED" => NudState::Failed,
        "INCOMPLETE" => NudState::Incomplete,
        "NOARP" => NudState::Noarp,
        "NONE" => NudState::None,
        _ => return None,
    })
}

/// Read `ip neigh` text or `ip -j neigh` JSON into neighbour entries, with warnings.
pub fn parse_neighbours(input: &str) -> Result<(Vec<Neighbour>, Vec<String>)> {
    let mut w = Warnings::default();
    let n = neighbours_in(input, &mut w)?;
    Ok((n, w.finish()))
}

pub(crate) fn neighbours_in(input: &str, w: &mut Warnings) -> Result<Vec<Neighbour>> {
    if is_json(input)? {
        let (text, prompt) = json::blank_non_json(input);
        let objs = json::objects(&text, "ip -j neigh")?;
        let mut out = Vec::with_capacity(objs.len());
        for (i, o) in objs.iter().enumerate() {
            let cx = || format!("JSON neighbour {}", i + 1);
            let dst: IpAddr = o
                .get("dst")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("no \"dst\""))
                .and_then(|d| {
                    d.parse()
                        .map_err(|_| anyhow!("dst {d:?} is not an IP address"))
                })
                .with_context(cx)?;
            let found = o.get("dev").and_then(Value::as_str);
            let dev = json::dev_or_prompt(found, &prompt, "dev").with_context(cx)?;
            let lladdr = match o.get("lladdr").and_then(Value::as_str) {
                Some(m) => Some(m.parse::<MacAddr>().with_context(cx)?),
                None => None,
            };
            let state = o
                .get("state")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().filter_map(Value::as_str).find_map(nud))
                .unwrap_or(NudState::None);
            out.push(Neighbour {
                dst,
                lladdr,
                dev,
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
        let Some(Ok(dst)) = t.first().map(|d| d.parse::<IpAddr>()) else {
            w.skipped(no, &line.text);
            continue;
        };
        let mut dev = line.prompt.dev.clone();
        let mut lladdr = None;
        let mut state = None;
        let mut i = 1;
        while i < t.len() {
            match t[i] {
                "dev" => {
                    dev = Some(
                        t.get(i + 1)
                            .ok_or_else(|| anyhow!("line {no}: dev without a name"))?
                            .to_string(),
                    );
                    i += 1;
                }
                "lladdr" => {
                    let m = t
                        .get(i + 1)
                        .ok_or_else(|| anyhow!("line {no}: lladdr without a MAC"))?;
                    lladdr = Some(
                        m.parse::<MacAddr>()
                            .map_err(|e| anyhow!("line {no}: {e}"))?,
                    );
                    i += 1;
                }
                "router" | "proxy" | "extern_learn" | "offload" | "managed" | "use" => {}
                "used" | "probes" | "protocol" | "vrf" => i += 1,
                word => {
                    if let Some(s) = nud(word) {
                        state.get_or_insert(s);
                    } else {
                        w.push(format!("line {no}: ignored unknown token {word:?}"));
                    }
                }
            }
            i += 1;
        }
        let Some(dev) = dev else {
            bail!("line {no}: neighbour {dst} without dev (and no `dev` in the command above)");
        };
        out.push(Neighbour {
            dst,
            lladdr,
            dev,
            state: state.unwrap_or(NudState::None),
        });
    }
    Ok(out)
}
