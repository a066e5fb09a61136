//! Offline parsers: the text users paste into tickets or find in a sosreport, read into the
//! dataplane types.
//!
//! Routes: [`parse_routes`] detects and reads `ip route` text, `ip -j route` JSON,
//! `route -n` / `netstat -rn` output and `/proc/net/route`. Real dumps have odd spacing
//! (old iproute2 printed two spaces between fields), CRLF line endings, comments, shell
//! prompt lines (`[root@node ~]# ip r`), Markdown fences: the parsers skip what is not
//! output, read what is, and report a warning for every line they skipped. A line whose
//! meaning is not clear (a bad address, an unknown table name) is an error that names the
//! line and the token. Errors are plain `anyhow` errors (exit code 2), never panics.
//!
//! Node state (`netpath snapshot` offline): [`node_from_dumps`] assembles a
//! [`NodeState`](super::NodeState) from command outputs (`crate::snapshot` reads them), with the
//! per-command parsers [`parse_links`] (`ip -d link`), [`parse_addrs`] (`ip addr`),
//! [`parse_neighbours`] (`ip neigh`), [`parse_fdb`] (`bridge fdb`) and [`parse_sysctls`]
//! (`sysctl -a`), each reading the text or the `-j` JSON.

mod bridge_fdb;
mod ip_addr;
mod ip_link;
mod ip_neigh;
mod ip_route;
mod ip_route_json;
mod json;
mod proc_net_route;
mod route_n;
mod snapshot;
mod sysctl;
mod text;

use std::collections::HashSet;

use anyhow::{Result, bail};
use serde::Serialize;

use super::Route;

pub use bridge_fdb::parse_fdb;
pub use ip_addr::parse_addrs;
pub use ip_link::parse_links;
pub use ip_neigh::parse_neighbours;
pub use snapshot::{DumpFile, SnapshotFile, node_from_dumps};
pub use sysctl::parse_sysctls;

/// The route dump formats [`parse_routes`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteFormat {
    /// `ip route` text (any of `ip route`, `ip -4|-6 route show [table all]`, `ip -d route`,
    /// `ip -o route`, old iproute2).
    IpRoute,
    /// `ip -j route` JSON (also `-d`, pretty `-p`).
    IpRouteJson,
    /// `route -n` or `netstat -rn` (net-tools), IPv4 or IPv6.
    RouteN,
    /// `/proc/net/route`.
    ProcNetRoute,
}

impl RouteFormat {
    /// How a user would call the format: `ip route`, `ip -j route`, `route -n`, `/proc/net/route`.
    pub fn name(&self) -> &'static str {
        match self {
            RouteFormat::IpRoute => "ip route",
            RouteFormat::IpRouteJson => "ip -j route",
            RouteFormat::RouteN => "route -n",
            RouteFormat::ProcNetRoute => "/proc/net/route",
        }
    }
}

/// Routes read from a dump, with the format detected and what was skipped or guessed.
#[derive(Debug, Clone)]
pub struct ParsedRoutes {
    /// The format the input was read as.
    pub format: RouteFormat,
    /// The routes, in input order.
    pub routes: Vec<Route>,
    /// One message per skipped line or guessed field (`line 3: skipped, not understood: …`),
    /// and once per format for what it cannot show (route -n has no proto, table, onlink).
    pub warnings: Vec<String>,
}

/// At most this many warnings are kept; the rest are counted.
const MAX_WARNINGS: usize = 100;

/// Warnings collected while parsing, capped, with "say it once" keys.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    list: Vec<String>,
    keys: HashSet<&'static str>,
    dropped: usize,
}

impl Warnings {
    /// Add a warning.
    pub(crate) fn push(&mut self, msg: String) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(msg);
        } else {
            self.dropped += 1;
        }
    }

    /// Add a warning the first time `key` is seen.
    pub(crate) fn once(&mut self, key: &'static str, msg: String) {
        if self.keys.insert(key) {
            self.push(msg);
        }
    }

    /// A line that was skipped.
    pub(crate) fn skipped(&mut self, no: usize, text: &str) {
        let t = text.trim();
        let shown: String = if t.chars().count() > 80 {
            t.chars().take(77).chain("...".chars()).collect()
        } else {
            t.to_string()
        };
        self.push(format!("line {no}: skipped, not understood: {shown:?}"));
    }

    /// The warnings in line order (those about no line last), with a count of those left out.
    pub(crate) fn finish(mut self) -> Vec<String> {
        self.list.sort_by_key(|m| {
            m.strip_prefix("line ")
                .and_then(|r| r.split(':').next())
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(usize::MAX)
        });
        if self.dropped > 0 {
            self.list
                .push(format!("… and {} more warnings not shown", self.dropped));
        }
        self.list
    }
}

/// What the input accepts, for error messages.
const EXPECTED: &str = "expected the output of `ip route`, `ip -j route`, `route -n`, \
                        `netstat -rn` or `cat /proc/net/route`";

/// Read a route dump in any of the [`RouteFormat`]s, detected from its content.
///
/// Errors (exit code 2): empty input, binary data, truncated or malformed JSON, a route line
/// with a value that cannot be read (the message names the line and the token), or text in
/// none of the formats.
pub fn parse_routes(input: &str) -> Result<ParsedRoutes> {
    if input.trim().is_empty() {
        bail!("empty input: no routes to read ({EXPECTED})");
    }
    let lines = text::clean_lines(input, true)?;
    let Some(first) = lines.first() else {
        bail!("no routes: the input holds only comments, prompts and blank lines ({EXPECTED})");
    };
    let mut w = Warnings::default();
    let t = first.text.trim_start();
    if t.starts_with('[') || t.starts_with('{') {
        let (json, prompt) = json::blank_non_json(input);
        let routes = ip_route_json::parse(&json, &prompt, &mut w)?;
        return Ok(ParsedRoutes {
            format: RouteFormat::IpRouteJson,
            routes,
            warnings: w.finish(),
        });
    }
    let format = detect(&lines).ok_or_else(|| {
        anyhow::anyhow!(
            "line {}: {:?} is not a route, and no line is: {EXPECTED}",
            first.no,
            shorten(&first.text)
        )
    })?;
    let routes = match format {
        RouteFormat::IpRoute => ip_route::parse(&lines, &mut w)?,
        RouteFormat::RouteN => route_n::parse(&lines, &mut w)?,
        RouteFormat::ProcNetRoute => proc_net_route::parse(&lines, &mut w)?,
        RouteFormat::IpRouteJson => unreachable!("JSON is detected above"),
    };
    Ok(ParsedRoutes {
        format,
        routes,
        warnings: w.finish(),
    })
}

/// Like [`parse_routes`], for raw bytes read from a file: binary data (NUL bytes) is refused
/// with a clear message; text in a legacy encoding (a Latin-1 locale's header) is read with
/// the odd bytes replaced.
pub fn parse_routes_bytes(input: &[u8]) -> Result<ParsedRoutes> {
    parse_routes(&decode_text(input)?)
}

/// Text from bytes: refuse binary, accept legacy encodings lossily.
pub(crate) fn decode_text(input: &[u8]) -> Result<std::borrow::Cow<'_, str>> {
    if let Some(pos) = input.iter().position(|&b| b == 0) {
        bail!("binary data (a NUL byte at offset {pos}), not command output ({EXPECTED})");
    }
    Ok(String::from_utf8_lossy(input))
}

fn shorten(s: &str) -> String {
    let t = s.trim();
    if t.chars().count() > 60 {
        t.chars().take(57).chain("...".chars()).collect()
    } else {
        t.to_string()
    }
}

/// The format most lines look like (headers count a lot), or `None` when no line is a route.
fn detect(lines: &[text::Line]) -> Option<RouteFormat> {
    let (mut ip, mut rn, mut proc) = (0usize, 0usize, 0usize);
    for line in lines {
        let t = line.tokens();
        if proc_net_route::is_header(&t) {
            proc += 1000;
        } else if route_n::is_header(&t) {
            rn += 1000;
        } else if proc_net_route::looks_like_row(&t) {
            proc += 1;
        } else if route_n::looks_like_row(&t) {
            rn += 1;
        } else if ip_route::looks_like(&t) {
            ip += 1;
        }
    }
    if ip == 0 && rn == 0 && proc == 0 {
        return None;
    }
    Some(if ip >= rn && ip >= proc {
        RouteFormat::IpRoute
    } else if rn >= proc {
        RouteFormat::RouteN
    } else {
        RouteFormat::ProcNetRoute
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod node_tests;
