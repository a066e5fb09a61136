//! `ip -d link` (and `ip link`, `ip -o link`, the link part of `ip addr`), and `ip -j [-d] link`.
//!
//! A device is a block: the header line
//! `8: veth1a2b3c4d@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master cni0 state UP …`,
//! then indented lines: `link/ether MAC brd … [link-netnsid N | link-netns NAME] …`, with `-d`
//! one line starting with the kind (`veth`, `vxlan id 1 local … dev eth0 … dstport 8472
//! nolearning …`, `bridge …`, `ipip ipip remote any local any …`), a `bridge_slave …` line
//! for a bridge port, and in `ip addr` the `inet`/`inet6` lines.

use std::collections::HashMap;
use std::net::IpAddr;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};

use super::Warnings;
use super::json::{self, text_of};
use super::text::{Line, clean_lines};
use crate::dataplane::{Link, LinkKind, MacAddr, Veth, Vxlan};

/// One device block of `ip link` / `ip addr` text.
#[derive(Debug)]
pub(crate) struct Block {
    /// Line of the header.
    pub no: usize,
    /// Interface index.
    pub ifindex: u32,
    /// Name, without `@peer`.
    pub name: String,
    /// What followed `@` (`if2`, `eth0`, `NONE`).
    pub at: Option<String>,
    /// Header tokens after the name.
    pub header: Vec<String>,
    /// The indented lines (and `ip -o` segments), as (line, tokens).
    pub rest: Vec<(usize, Vec<String>)>,
}

/// If the tokens start a device block (`8: name@peer:` or `ip -o addr`'s `2: eth0`), its
/// index, name and peer.
fn header(tokens: &[&str]) -> Option<(u32, String, Option<String>)> {
    let idx = tokens.first()?.strip_suffix(':')?.parse().ok()?;
    let name = tokens.get(1)?.trim_end_matches(':');
    if name.is_empty() {
        return None;
    }
    let (name, at) = match name.split_once('@') {
        Some((n, a)) => (n.to_string(), Some(a.to_string())),
        None => (name.to_string(), None),
    };
    Some((idx, name, at))
}

/// Split cleaned lines into device blocks; lines outside any block are skipped with a warning.
pub(crate) fn blocks(lines: &[Line], w: &mut Warnings) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for line in lines {
        // `ip -o` puts a block on one line, with `\` where the line breaks were.
        let mut segments = line.text.split('\\');
        let first = segments.next().unwrap_or("");
        let toks: Vec<&str> = first.split_whitespace().collect();
        if let Some((ifindex, name, at)) = header(&toks) {
            let mut block = Block {
                no: line.no,
                ifindex,
                name,
                at,
                header: Vec::new(),
                rest: Vec::new(),
            };
            let after: Vec<String> = toks[2..].iter().map(|t| t.to_string()).collect();
            if after.first().is_some_and(|t| t == "inet" || t == "inet6") {
                // `ip -o addr`: "2: eth0    inet 10.0.0.1/24 … scope global eth0".
                block.rest.push((line.no, after));
            } else {
                block.header = after;
            }
            for seg in segments {
                let t: Vec<String> = seg.split_whitespace().map(str::to_string).collect();
                if !t.is_empty() {
                    block.rest.push((line.no, t));
                }
            }
            // `ip -o addr` repeats the device for each address: merge into one block.
            if let Some(prev) = out.last_mut()
                && prev.ifindex == block.ifindex
                && prev.name == block.name
            {
                prev.rest.extend(block.rest);
                if prev.header.is_empty() {
                    prev.header = block.header;
                }
                continue;
            }
            out.push(block);
        } else if line.indented()
            && let Some(b) = out.last_mut()
        {
            for seg in line.text.split('\\') {
                let t: Vec<String> = seg.split_whitespace().map(str::to_string).collect();
                if !t.is_empty() {
                    b.rest.push((line.no, t));
                }
            }
        } else {
            w.skipped(line.no, &line.text);
        }
    }
    out
}

/// Words that start an indented line but are not a device kind.
const NOT_KINDS: &[&str] = &[
    "addrgenmode",
    "numtxqueues",
    "altname",
    "alias",
    "vf",
    "prop",
    "inet",
    "inet6",
    "valid_lft",
    "bridge_slave",
    "bond_slave",
    "team_slave",
    "vrf_slave",
    "openvswitch_slave",
    "xdp",
    "prog/xdp",
    "RX:",
    "TX:",
];

fn value_after<'a>(toks: &'a [String], key: &str) -> Option<&'a str> {
    toks.iter()
        .position(|t| t == key)
        .and_then(|i| toks.get(i + 1))
        .map(String::as_str)
}

fn addr_or_any(no: usize, what: &str, v: Option<&str>) -> Result<Option<IpAddr>> {
    match v {
        None | Some("any") | Some("0.0.0.0") | Some("::") => Ok(None),
        Some(a) => a
            .parse()
            .map(Some)
            .map_err(|_| anyhow!("line {no}: {what} {a:?} is not an IP address")),
    }
}

/// The link a text block describes.
pub(crate) fn link_of(b: &Block, w: &mut Warnings) -> Result<Link> {
    let no = b.no;
    let h = &b.header;
    let flags = h
        .first()
        .filter(|f| f.starts_with('<'))
        .map(|f| f.trim_matches(|c| c == '<' || c == '>').to_string())
        .unwrap_or_default();
    let up = flags.split(',').any(|f| f == "UP");
    let mtu = match value_after(h, "mtu") {
        Some(m) => m
            .parse()
            .map_err(|_| anyhow!("line {no}: mtu {m:?} is not a number"))?,
        None => bail!("line {no}: device {} without mtu", b.name),
    };
    let master = value_after(h, "master").map(str::to_string);
    let oper_state = value_after(h, "state").map(str::to_ascii_lowercase);
    let mut mac = None;
    let mut link_type = None;
    let mut netnsid = None;
    let mut kind_line: Option<&(usize, Vec<String>)> = None;
    let mut hairpin = None;
    for entry in &b.rest {
        let (lno, t) = entry;
        let Some(first) = t.first() else { continue };
        if first == "bridge_slave" {
            hairpin = match value_after(t, "hairpin") {
                Some("on") => Some(true),
                Some("off") => Some(false),
                _ => None,
            };
        }
        if let Some(ty) = first.strip_prefix("link/") {
            link_type = Some(ty.to_string());
            if let Some(m) = t.get(1) {
                mac = m.parse::<MacAddr>().ok();
            }
            if let Some(id) = value_after(t, "link-netnsid") {
                netnsid = Some(
                    id.parse::<i32>()
                        .map_err(|_| anyhow!("line {lno}: link-netnsid {id:?} is not a number"))?,
                );
            }
        } else if kind_line.is_none() && !NOT_KINDS.contains(&first.as_str()) {
            kind_line = Some(entry);
        }
    }
    let kind = match kind_line {
        None if link_type.as_deref() == Some("loopback") => LinkKind::Loopback,
        None => LinkKind::Device,
        Some((lno, t)) => {
            let lno = *lno;
            match t[0].as_str() {
                "veth" => LinkKind::Veth(Veth {
                    peer_ifindex: b
                        .at
                        .as_deref()
                        .and_then(|a| a.strip_prefix("if"))
                        .and_then(|i| i.parse().ok()),
                    peer_netnsid: netnsid,
                }),
                "vxlan" => {
                    let vni = match value_after(t, "id") {
                        Some(v) => v
                            .parse()
                            .map_err(|_| anyhow!("line {lno}: vxlan id {v:?} is not a number"))?,
                        None => bail!("line {lno}: vxlan device {} without id", b.name),
                    };
                    let port = match value_after(t, "dstport") {
                        Some(p) => p.parse().map_err(|_| {
                            anyhow!("line {lno}: vxlan dstport {p:?} is not a port")
                        })?,
                        None => {
                            w.push(format!(
                                "line {lno}: vxlan device {} without dstport: read as the kernel default 8472",
                                b.name
                            ));
                            8472
                        }
                    };
                    LinkKind::Vxlan(Vxlan {
                        vni,
                        port,
                        local: addr_or_any(lno, "local", value_after(t, "local"))?,
                        dev: value_after(t, "dev").map(str::to_string),
                        // iproute2 ≥ 4.x prints learning/nolearning; older only nolearning.
                        learning: !t.iter().any(|x| x == "nolearning"),
                    })
                }
                "bridge" => LinkKind::Bridge,
                "ipip" => LinkKind::Ipip {
                    local: addr_or_any(lno, "local", value_after(t, "local"))?,
                    remote: addr_or_any(lno, "remote", value_after(t, "remote"))?,
                },
                other => LinkKind::Other {
                    name: other.to_string(),
                },
            }
        }
    };
    Ok(Link {
        ifindex: b.ifindex,
        name: b.name.clone(),
        kind,
        mtu,
        mac,
        up,
        oper_state,
        master,
        hairpin,
    })
}

/// Fill the peer ifindex of veths whose peer is in the same netns (`eth0p@eth0`: by name).
fn resolve_peers(links: &mut [Link], ats: &[Option<String>]) {
    let index: HashMap<String, u32> = links.iter().map(|l| (l.name.clone(), l.ifindex)).collect();
    for (l, at) in links.iter_mut().zip(ats) {
        if let LinkKind::Veth(v) = &mut l.kind
            && v.peer_ifindex.is_none()
            && let Some(peer) = at.as_deref().and_then(|a| index.get(a))
        {
            v.peer_ifindex = Some(*peer);
        }
    }
}

/// Read `ip -d link` text or `ip -j -d link` JSON (also plain `ip link` and `ip addr`, whose
/// blocks carry the same header; without `-d` the kinds are unknown and a warning says so).
///
/// Returns the links and the warnings (skipped lines, guesses).
pub fn parse_links(input: &str) -> Result<(Vec<Link>, Vec<String>)> {
    let mut w = Warnings::default();
    let links = links_in(input, &mut w)?;
    Ok((links, w.finish()))
}

pub(crate) fn links_in(input: &str, w: &mut Warnings) -> Result<Vec<Link>> {
    if is_json(input)? {
        let (text, _) = json::blank_non_json(input);
        let objs = json::objects(&text, "ip -j -d link")?;
        return links_from_json(&objs, w);
    }
    let lines = clean_lines(input, false)?;
    let blocks = blocks(&lines, w);
    if blocks.is_empty() {
        bail!("no devices: expected the output of `ip -d link` or `ip -j -d link`");
    }
    let mut links = Vec::with_capacity(blocks.len());
    let mut ats = Vec::with_capacity(blocks.len());
    let mut any_kind_line = false;
    for b in &blocks {
        let l = link_of(b, w)?;
        any_kind_line |= !matches!(l.kind, LinkKind::Device | LinkKind::Loopback);
        ats.push(b.at.clone());
        links.push(l);
    }
    if !any_kind_line && links.iter().any(|l| l.kind == LinkKind::Device) {
        w.once(
            "no-details",
            "no device kinds (the output of `ip link` without -d?): veth, vxlan and bridge \
             devices are read as plain devices; use `ip -d link`"
                .to_string(),
        );
    }
    resolve_peers(&mut links, &ats);
    Ok(links)
}

/// True when the input (after prompts and comments) starts with JSON. Fails on binary.
pub(crate) fn is_json(input: &str) -> Result<bool> {
    let lines = clean_lines(input, false)?;
    Ok(lines.first().is_some_and(|l| {
        let t = l.text.trim_start();
        t.starts_with('[') || t.starts_with('{')
    }))
}

struct Obj<'a> {
    o: &'a Map<String, Value>,
    name: String,
}

impl Obj<'_> {
    fn str(&self, key: &str) -> Option<String> {
        self.o.get(key).and_then(text_of)
    }

    fn u32(&self, key: &str) -> Result<Option<u32>> {
        match self.o.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .map(Some)
                .ok_or_else(|| anyhow!("device {:?}: {key} {v} is not a number", self.name)),
        }
    }
}

fn ip_or_any(name: &str, key: &str, v: Option<&Value>) -> Result<Option<IpAddr>> {
    match v.and_then(Value::as_str) {
        None | Some("any") | Some("0.0.0.0") | Some("::") => Ok(None),
        Some(a) => a
            .parse()
            .map(Some)
            .map_err(|_| anyhow!("device {name:?}: {key} {a:?} is not an IP address")),
    }
}

/// One link from an object of `ip -j -d link` (or `ip -j addr`).
pub(crate) fn link_from_json(o: &Map<String, Value>) -> Result<(Link, Option<String>)> {
    let name = o
        .get("ifname")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            anyhow!("JSON device without \"ifname\": is this the output of `ip -j link`?")
        })?
        .to_string();
    let ob = Obj {
        o,
        name: name.clone(),
    };
    let ifindex = ob
        .u32("ifindex")?
        .ok_or_else(|| anyhow!("device {name:?}: no ifindex"))?;
    let mtu = ob
        .u32("mtu")?
        .ok_or_else(|| anyhow!("device {name:?}: no mtu"))?;
    let flags: Vec<&str> = o
        .get("flags")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mac = match ob.str("address") {
        Some(a) => a.parse::<MacAddr>().ok(),
        None => None,
    };
    let info = o.get("linkinfo").and_then(Value::as_object);
    let kind_name = info
        .and_then(|i| i.get("info_kind"))
        .and_then(Value::as_str);
    let data = info
        .and_then(|i| i.get("info_data"))
        .and_then(Value::as_object);
    let dget = |k: &str| data.and_then(|d| d.get(k));
    let kind =
        match kind_name {
            None if ob.str("link_type").as_deref() == Some("loopback") => LinkKind::Loopback,
            None => LinkKind::Device,
            Some("veth") => LinkKind::Veth(Veth {
                peer_ifindex: ob.u32("link_index")?,
                peer_netnsid: match o.get("link_netnsid") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(v.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(
                        || anyhow!("device {name:?}: link_netnsid {v} is not a number"),
                    )?),
                },
            }),
            Some("vxlan") => {
                let num = |k: &str| -> Result<Option<u64>> {
                    match dget(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                            anyhow!("device {name:?}: vxlan {k} {v} is not a number")
                        }),
                    }
                };
                let vni = num("id")?.ok_or_else(|| anyhow!("device {name:?}: vxlan without id"))?;
                let port = num("port")?.unwrap_or(8472);
                LinkKind::Vxlan(Vxlan {
                    vni: u32::try_from(vni)
                        .map_err(|_| anyhow!("device {name:?}: vxlan id {vni}"))?,
                    port: u16::try_from(port)
                        .map_err(|_| anyhow!("device {name:?}: vxlan port {port}"))?,
                    local: ip_or_any(&name, "local", dget("local").or_else(|| dget("local6")))?,
                    dev: dget("link").and_then(Value::as_str).map(str::to_string),
                    learning: dget("learning").and_then(Value::as_bool).unwrap_or(true),
                })
            }
            Some("bridge") => LinkKind::Bridge,
            Some("ipip") => LinkKind::Ipip {
                local: ip_or_any(&name, "local", dget("local"))?,
                remote: ip_or_any(&name, "remote", dget("remote"))?,
            },
            Some(other) => LinkKind::Other {
                name: other.to_string(),
            },
        };
    let link = Link {
        ifindex,
        name,
        kind,
        mtu,
        mac,
        up: flags.contains(&"UP"),
        oper_state: ob.str("operstate").map(|s| s.to_ascii_lowercase()),
        master: ob.str("master"),
        hairpin: info
            .filter(|i| i.get("info_slave_kind").and_then(Value::as_str) == Some("bridge"))
            .and_then(|i| i.get("info_slave_data"))
            .and_then(|d| d.get("hairpin"))
            .and_then(Value::as_bool),
    };
    // A peer in the same netns is named in "link".
    Ok((link, ob.str("link")))
}

fn links_from_json(objs: &[Map<String, Value>], _w: &mut Warnings) -> Result<Vec<Link>> {
    let mut links = Vec::with_capacity(objs.len());
    let mut ats = Vec::with_capacity(objs.len());
    for (i, o) in objs.iter().enumerate() {
        let (l, at) = link_from_json(o).with_context(|| format!("JSON device {}", i + 1))?;
        links.push(l);
        ats.push(at);
    }
    resolve_peers(&mut links, &ats);
    Ok(links)
}
