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
use ipnetwork::IpNetwork;
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
    /// One per skipped line or guessed field (`line 3: skipped, not understood: …`), and
    /// once per format for what it cannot show (route -n has no proto, table, onlink).
    pub warnings: Vec<ParseWarning>,
}

/// One thing a parser skipped or guessed, with the line it is about.
///
/// Its `Display` is the sentence shown on standard error (`line 5: skipped, via "x.y.72.193"
/// is not an IP address: "10.244.2.0/24 via x.y.72.193 dev eth0"`, control characters
/// escaped); its JSON is `{line, text, reason}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseWarning {
    /// The 1-based input line it is about, if it is about one.
    pub line: Option<usize>,
    /// That line as it was pasted (for `ip -j`: the route object), if it is about one.
    pub text: Option<String>,
    /// What was skipped or guessed, and why.
    pub reason: String,
    /// For a skipped line that may have been a route: what is known of its destination.
    #[serde(skip)]
    pub skipped: Option<SkippedRoute>,
}

/// What is known of a route line that was skipped: enough to tell whether it could have
/// changed a lookup's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkippedRoute {
    /// The destination was readable: only lookups it covers could differ.
    Prefix(IpNetwork),
    /// The destination could not be read: any lookup could differ.
    Unreadable,
}

impl ParseWarning {
    /// A warning about no line in particular (what a format cannot show).
    pub fn note(reason: String) -> ParseWarning {
        ParseWarning {
            line: None,
            text: None,
            reason,
            skipped: None,
        }
    }

    /// Whether this warning is about a skipped line.
    pub fn is_skipped_line(&self) -> bool {
        self.skipped.is_some() || self.reason == NOT_UNDERSTOOD
    }
}

/// The reason of a line none of the parsers understood.
const NOT_UNDERSTOOD: &str = "not understood";

impl std::fmt::Display for ParseWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(no) = self.line {
            write!(f, "line {no}: ")?;
        }
        match (&self.text, self.is_skipped_line()) {
            (Some(text), true) => write!(f, "skipped, {}: {:?}", self.reason, shown(text, 80)),
            _ => f.write_str(&self.reason),
        }
    }
}

/// At most this many warnings are kept; the rest are counted.
const MAX_WARNINGS: usize = 100;

/// Warnings collected while parsing, capped, with "say it once" keys.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    list: Vec<ParseWarning>,
    keys: HashSet<&'static str>,
    dropped: usize,
}

impl Warnings {
    /// Add a warning; a leading `line N: ` names the line it is about.
    pub(crate) fn push(&mut self, msg: String) {
        let parsed = msg.strip_prefix("line ").and_then(|r| {
            let (n, rest) = r.split_once(": ")?;
            Some((n.parse::<usize>().ok()?, rest.to_string()))
        });
        self.add(match parsed {
            Some((no, reason)) => ParseWarning {
                line: Some(no),
                text: None,
                reason,
                skipped: None,
            },
            None => ParseWarning::note(msg),
        });
    }

    pub(crate) fn add(&mut self, w: ParseWarning) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(w);
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

    /// A line that was skipped because no parser understood it. A line that starts like a
    /// route (an address, `default`, a route type) is kept as a route whose destination
    /// could not be read: a damaged copy of a route line.
    pub(crate) fn skipped(&mut self, no: usize, text: &str) {
        let first = text.split_whitespace().next().unwrap_or("");
        let route_like = first == "default"
            || crate::dataplane::RouteType::parse(first).is_some()
            || first.starts_with(|c: char| c.is_ascii_digit())
            || (first.contains(':')
                && first
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || ":./".contains(c)));
        self.add(ParseWarning {
            line: Some(no),
            text: Some(text.trim().to_string()),
            reason: NOT_UNDERSTOOD.to_string(),
            skipped: route_like.then_some(SkippedRoute::Unreadable),
        });
    }

    /// A route line that could not be read (`reason` says which token), skipped; `dst` is its
    /// destination when that part was readable.
    pub(crate) fn skipped_route(
        &mut self,
        no: usize,
        text: &str,
        reason: String,
        dst: Option<IpNetwork>,
    ) {
        self.add(ParseWarning {
            line: Some(no),
            text: Some(text.trim().to_string()),
            reason,
            skipped: Some(dst.map_or(SkippedRoute::Unreadable, SkippedRoute::Prefix)),
        });
    }

    /// The warnings in line order (those about no line last), with a count of those left out.
    /// With the `input`, each warning about a line gets that line's text.
    pub(crate) fn finish_with(mut self, input: Option<&str>) -> Vec<ParseWarning> {
        self.list.sort_by_key(|w| w.line.unwrap_or(usize::MAX));
        if let Some(input) = input {
            let lines: Vec<&str> = if !input.contains('\n') {
                input.split('\r').collect()
            } else {
                input.split('\n').collect()
            };
            for w in &mut self.list {
                if let (Some(no), None) = (w.line, &w.text) {
                    w.text = lines
                        .get(no.wrapping_sub(1))
                        .map(|l| l.trim_end_matches('\r').trim().to_string());
                }
            }
        }
        if self.dropped > 0 {
            self.list.push(ParseWarning::note(format!(
                "… and {} more warnings not shown",
                self.dropped
            )));
        }
        self.list
    }

    /// The warnings as the sentences shown on standard error.
    pub(crate) fn finish(self) -> Vec<String> {
        self.finish_with(None)
            .iter()
            .map(ToString::to_string)
            .collect()
    }
}

/// `s` trimmed, cut to `max` characters with `...`.
fn shown(s: &str, max: usize) -> String {
    let t = s.trim();
    if t.chars().count() > max {
        t.chars().take(max - 3).chain("...".chars()).collect()
    } else {
        t.to_string()
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
    let mut w = Warnings::default();
    let lines = text::clean_route_lines(input, &mut w)?;
    let Some(first) = lines.first() else {
        bail!("no routes: the input holds only comments, prompts and blank lines ({EXPECTED})");
    };
    let t = first.text.trim_start();
    if t.starts_with('[') || t.starts_with('{') {
        let (json, prompt) = json::blank_non_json(input);
        let routes = ip_route_json::parse(&json, &prompt, &mut w)?;
        return Ok(ParsedRoutes {
            format: RouteFormat::IpRouteJson,
            routes,
            warnings: w.finish_with(Some(input)),
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
        warnings: w.finish_with(Some(input)),
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
    shown(s, 60)
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
