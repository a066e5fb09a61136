//! Views of `netpath routes`: the table (route -n's columns plus what route -n hides), the
//! exact `route -n` text (`--compat`), JSON, and the `routes get` report.
//!
//! The table is written straight into one text arena and then padded, so that 100,000
//! routes cost no allocation per route (comfy-table would cost several per cell).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};

use super::Style;
use super::json::schema;
use crate::dataplane::{
    Family, Nexthop, Protocol, Route, RouteFlags, RouteType, Rule, RuleAction, Scope, Table,
};
use crate::explain::Explanation;
use crate::netlink::route::{KernelAnswer, RouteLookup, RouteQuery};

/// Where the routes came from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// Read from the kernel over netlink in this netns (`current` or what the user typed).
    Kernel {
        /// The netns label.
        netns: &'a str,
    },
    /// Parsed from a file (`-` is standard input).
    File {
        /// The path given.
        path: &'a Path,
        /// The format detected (`ip route`, `route -n` …).
        format: &'static str,
    },
}

/// One route to show, with what was computed about it.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The route.
    pub route: &'a Route,
    /// Its route -n flags.
    pub flags: RouteFlags,
    /// The CNI explanation, when one applies.
    pub explanation: Option<Explanation<'a>>,
}

/// Everything `netpath routes` shows.
#[derive(Debug)]
pub struct RoutesView<'a> {
    /// Where the routes came from.
    pub source: Source<'a>,
    /// The `--table` filter, by name (`main`, `all`, `100` …).
    pub table: String,
    /// The routes, in the kernel's (or the file's) order.
    pub rows: Vec<Row<'a>>,
    /// Parser warnings (offline input).
    pub warnings: &'a [String],
}

// ---------------------------------------------------------------------------------------
// Small writers that do not allocate: bytes straight into the output buffer.

fn scope_word(s: Scope, out: &mut Vec<u8>) {
    match s {
        Scope::Universe => out.extend_from_slice(b"global"),
        Scope::Site => out.extend_from_slice(b"site"),
        Scope::Link => out.extend_from_slice(b"link"),
        Scope::Host => out.extend_from_slice(b"host"),
        Scope::Nowhere => out.extend_from_slice(b"nowhere"),
        Scope::Other(n) => push_u32(out, u32::from(n)),
    }
}

fn table_word(t: Table, out: &mut Vec<u8>) {
    match t.0 {
        254 => out.extend_from_slice(b"main"),
        255 => out.extend_from_slice(b"local"),
        253 => out.extend_from_slice(b"default"),
        n => push_u32(out, n),
    }
}

fn proto_word(p: Protocol, out: &mut Vec<u8>) {
    match p.name() {
        Some(n) => out.extend_from_slice(n.as_bytes()),
        None => push_u32(out, u32::from(p.0)),
    }
}

fn type_word(k: RouteType) -> Option<&'static str> {
    Some(match k {
        RouteType::Unicast => return None,
        RouteType::Local => "local",
        RouteType::Broadcast => "broadcast",
        RouteType::Anycast => "anycast",
        RouteType::Multicast => "multicast",
        RouteType::Blackhole => "blackhole",
        RouteType::Unreachable => "unreachable",
        RouteType::Prohibit => "prohibit",
        RouteType::Throw => "throw",
        RouteType::Nat => "nat",
        RouteType::Other(_) => "type?",
    })
}

fn v4_mask(prefix: u8) -> Ipv4Addr {
    if prefix == 0 {
        Ipv4Addr::UNSPECIFIED
    } else {
        Ipv4Addr::from(u32::MAX << (32 - u32::from(prefix.min(32))))
    }
}

/// Append an address the way its Display does, without going through `fmt` for IPv4 (four
/// `u8` formats per address add up over 100,000 routes).
fn push_ip(out: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(v4) => push_v4(out, v4),
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

fn push_v4(out: &mut Vec<u8>, a: Ipv4Addr) {
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + (o / 10) % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    out.extend_from_slice(&buf[..n]);
}

fn push_u32(out: &mut Vec<u8>, mut n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Spaces up to `width` bytes after what was written since `start` (left-aligned, like
/// `{:<width}` on ASCII text).
fn pad_from(out: &mut Vec<u8>, start: usize, width: usize) {
    let written = out.len() - start;
    if written < width {
        out.resize(out.len() + (width - written), b' ');
    }
}

fn display_width(s: &[u8]) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        std::str::from_utf8(s).map_or(s.len(), |t| t.chars().count())
    }
}

fn unspecified(f: Family) -> IpAddr {
    match f {
        Family::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

// ---------------------------------------------------------------------------------------
// The table view.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paint {
    Plain,
    Bold,
    Red,
    Yellow,
    Cyan,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Plain => "",
            Paint::Bold => "\x1b[1m",
            Paint::Red => "\x1b[31m",
            Paint::Yellow => "\x1b[33m",
            Paint::Cyan => "\x1b[36m",
        }
    }

    fn bits(self) -> u16 {
        match self {
            Paint::Plain => 0,
            Paint::Bold => 1,
            Paint::Red => 2,
            Paint::Yellow => 3,
            Paint::Cyan => 4,
        }
    }

    fn from_bits(b: u16) -> Paint {
        match b {
            1 => Paint::Bold,
            2 => Paint::Red,
            3 => Paint::Yellow,
            4 => Paint::Cyan,
            _ => Paint::Plain,
        }
    }
}

const HEADER: [&str; 14] = [
    "Destination",
    "Gateway",
    "Genmask",
    "Flags",
    "Metric",
    "Ref",
    "Use",
    "Iface",
    "Proto",
    "Scope",
    "Table",
    "Src",
    "Notes",
    "Explanation",
];
const NCOLS: usize = HEADER.len();

const SPACES: &[u8; 64] = b"                                                                ";

/// A cell's entry in [`TableBuilder::cells`]: its length in the low 13 bits (or
/// [`LONG`], and the length in [`TableBuilder::long`]), its paint in the top 3.
const LEN_BITS: u16 = 0x1fff;
const LONG: u16 = LEN_BITS;
const PAINT_SHIFT: u16 = 13;

/// Where flushed output is collected before one write.
const OUT_CHUNK: usize = 64 * 1024;

/// The default table view, built one route at a time and padded at the end.
///
/// Each row is formatted once, as it arrives (from a slice of routes, or straight from
/// the kernel's dump without keeping the routes): every cell's text goes into one arena,
/// its length and paint beside it (2 bytes), and each column's widest cell is kept. Then
/// [`TableBuilder::write`] pads the cells to the column widths into one output buffer.
/// About 100 bytes per route and no allocation per route or per cell.
#[derive(Debug)]
pub struct TableBuilder {
    /// The text of every cell, one after the other.
    text: Vec<u8>,
    /// One entry per cell, row after row (see [`LEN_BITS`]).
    cells: Vec<u16>,
    /// The lengths of cells too long for 13 bits, in order.
    long: Vec<u32>,
    /// The widest cell of each column but the last (never padded).
    widths: [usize; NCOLS],
    /// Where the cell being written starts in `text`.
    start: usize,
    /// The column of the cell being written.
    col: usize,
}

impl Default for TableBuilder {
    fn default() -> Self {
        TableBuilder::new()
    }
}

impl TableBuilder {
    /// A table with its header row and no routes yet.
    pub fn new() -> TableBuilder {
        let mut t = TableBuilder {
            text: Vec::with_capacity(64 * 1024),
            cells: Vec::with_capacity(16 * 1024),
            long: Vec::new(),
            widths: [0; NCOLS],
            start: 0,
            col: 0,
        };
        for h in HEADER {
            t.str(h, Paint::Bold);
        }
        t
    }

    /// End the cell whose text was appended to `self.text` since the last one.
    fn put(&mut self, paint: Paint) {
        let len = self.text.len() - self.start;
        if self.col + 1 < NCOLS {
            let w = display_width(&self.text[self.start..]);
            if w > self.widths[self.col] {
                self.widths[self.col] = w;
            }
        }
        let entry = match u16::try_from(len) {
            Ok(l) if l < LONG => l,
            _ => {
                self.long.push(u32::try_from(len).unwrap_or(u32::MAX));
                LONG
            }
        };
        self.cells.push(entry | (paint.bits() << PAINT_SHIFT));
        self.start = self.text.len();
        self.col = (self.col + 1) % NCOLS;
    }

    fn str(&mut self, s: &str, paint: Paint) {
        self.text.extend_from_slice(s.as_bytes());
        self.put(paint);
    }

    fn ip(&mut self, a: IpAddr) {
        push_ip(&mut self.text, a);
        self.put(Paint::Plain);
    }

    fn empty(&mut self, n: usize) {
        for _ in 0..n {
            self.put(Paint::Plain);
        }
    }

    /// Add one route's row (and one row per further nexthop of a multipath route).
    pub fn push(&mut self, row: &Row<'_>) {
        let r = row.route;
        let fam = r.family();
        let v4 = fam == Family::Inet;
        let reject_v4 = row.flags.reject && v4;
        let hop = r.first_hop();

        self.ip(r.dst.network());
        if reject_v4 {
            self.str("-", Paint::Plain);
        } else {
            self.ip(hop
                .and_then(|h| h.gateway)
                .unwrap_or_else(|| unspecified(fam)));
        }
        if v4 {
            self.ip(IpAddr::V4(v4_mask(r.dst.prefix())));
        } else {
            self.text.push(b'/');
            push_u32(&mut self.text, u32::from(r.dst.prefix()));
            self.put(Paint::Plain);
        }
        let f = row.flags;
        if f.reject {
            self.text.push(b'!');
        } else {
            if f.up {
                self.text.push(b'U');
            }
            if f.gateway {
                self.text.push(b'G');
            }
        }
        if f.host {
            self.text.push(b'H');
        }
        self.put(Paint::Plain);
        push_u32(&mut self.text, r.metric.unwrap_or(0));
        self.put(Paint::Plain);
        self.str(if reject_v4 { "-" } else { "0" }, Paint::Plain);
        self.str("0", Paint::Plain);
        if reject_v4 {
            self.str("-", Paint::Plain);
        } else {
            self.str(
                hop.and_then(|h| h.dev.as_deref()).unwrap_or("*"),
                Paint::Plain,
            );
        }
        proto_word(r.proto, &mut self.text);
        self.put(Paint::Plain);
        scope_word(r.scope, &mut self.text);
        self.put(Paint::Plain);
        table_word(r.table, &mut self.text);
        self.put(Paint::Plain);
        match r.prefsrc {
            Some(s) => self.ip(s),
            None => self.empty(1),
        }
        // Notes.
        let notes = self.text.len();
        let sep = |t: &mut Vec<u8>| {
            if t.len() > notes {
                t.push(b' ');
            }
        };
        let mut paint = Paint::Plain;
        if let Some(t) = type_word(r.kind) {
            self.text.extend_from_slice(t.as_bytes());
            if r.kind.drops() {
                paint = Paint::Red;
            }
        }
        if let Some(h) = hop {
            if h.flags != Default::default() {
                sep(&mut self.text);
                hop_words(h, notes, &mut self.text);
                if paint == Paint::Plain && (h.flags.linkdown || h.flags.dead) {
                    paint = Paint::Yellow;
                }
            }
        }
        if let Some(mtu) = r.mtu {
            sep(&mut self.text);
            let _ = write!(self.text, "mtu {mtu}");
        }
        if r.tos != 0 {
            sep(&mut self.text);
            let _ = write!(self.text, "tos 0x{:02x}", r.tos);
        }
        if r.is_multipath() {
            sep(&mut self.text);
            let w = hop.map(|h| h.weight).unwrap_or(1);
            let _ = write!(self.text, "multipath {} weight {w}", r.nexthops.len());
        }
        self.put(paint);
        match &row.explanation {
            Some(e) => {
                let _ = write!(self.text, "{e}");
                self.put(Paint::Cyan);
            }
            None => self.empty(1),
        }

        for h in r.nexthops.iter().skip(1) {
            self.empty(1);
            self.ip(h.gateway.unwrap_or_else(|| unspecified(fam)));
            self.empty(5);
            self.str(h.dev.as_deref().unwrap_or("*"), Paint::Plain);
            self.empty(4);
            let words = self.text.len();
            let _ = write!(self.text, "nexthop weight {}", h.weight);
            if h.flags != Default::default() {
                self.text.push(b' ');
                hop_words(h, words, &mut self.text);
            }
            let paint = if h.flags.linkdown || h.flags.dead {
                Paint::Yellow
            } else {
                Paint::Plain
            };
            self.put(paint);
            self.empty(1);
        }
    }

    /// Write the table, every column but the last padded to its widest cell plus two
    /// spaces (no trailing spaces), colour codes when `color`.
    pub fn write(&self, color: bool, out: &mut impl Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(OUT_CHUNK + 4096);
        let mut long = self.long.iter();
        let mut at = 0;
        let mut col = 0;
        // Spaces owed before the next non-empty cell (never written at the end of a line).
        let mut pad = 0;
        for &entry in &self.cells {
            let mut len = usize::from(entry & LEN_BITS);
            if entry & LEN_BITS == LONG {
                len = long.next().map_or(0, |&l| l as usize);
            }
            let text = self.text.get(at..at + len).unwrap_or_default();
            at += len;
            if !text.is_empty() {
                while pad > 0 {
                    let n = pad.min(SPACES.len());
                    buf.extend_from_slice(&SPACES[..n]);
                    pad -= n;
                }
                let paint = Paint::from_bits(entry >> PAINT_SHIFT);
                if color && paint != Paint::Plain {
                    buf.extend_from_slice(paint.code().as_bytes());
                    buf.extend_from_slice(text);
                    buf.extend_from_slice(b"\x1b[0m");
                } else {
                    buf.extend_from_slice(text);
                }
            }
            pad += (self.widths[col] + 2).saturating_sub(display_width(text));
            col += 1;
            if col == NCOLS {
                buf.push(b'\n');
                col = 0;
                pad = 0;
                if buf.len() >= OUT_CHUNK {
                    out.write_all(&buf)?;
                    buf.clear();
                }
            }
        }
        out.write_all(&buf)
    }
}

/// Append the nexthop's flag words, separated by spaces, to a cell that started at
/// `cell` in `out`.
fn hop_words(hop: &Nexthop, cell: usize, out: &mut Vec<u8>) {
    for w in hop.flags.words() {
        if out.len() > cell && out.last() != Some(&b' ') {
            out.push(b' ');
        }
        out.extend_from_slice(w.as_bytes());
    }
}

/// The default view: route -n's columns, then Proto, Scope, Table, Src, Notes and the CNI
/// explanation; multipath nexthops on their own rows.
pub fn write_table(v: &RoutesView<'_>, style: &Style, out: &mut impl Write) -> io::Result<()> {
    let mut t = TableBuilder::new();
    for row in &v.rows {
        t.push(row);
    }
    t.write(style.color, out)
}

// ---------------------------------------------------------------------------------------
// route -n, exactly.

/// The two header lines of `route -n`.
pub const COMPAT_HEADER: &[u8] = b"Kernel IP routing table\n\
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n";

/// Append `route -n`'s line for `r` to `out`, if route -n shows it (net-tools 2.10
/// `rprint_fib`, reading `/proc/net/route`: IPv4 main-table routes, broadcast and
/// multicast left out, the first nexthop only).
pub fn compat_line(r: &Route, out: &mut Vec<u8>) {
    if r.family() != Family::Inet
        || r.table != Table::MAIN
        || matches!(r.kind, RouteType::Broadcast | RouteType::Multicast)
    {
        return;
    }
    let f = r.flags();
    let mut at = out.len();
    push_ip(out, r.dst.network());
    pad_from(out, at, 15);
    out.push(b' ');
    at = out.len();
    if f.reject {
        out.push(b'-');
    } else {
        match r.gateway() {
            Some(IpAddr::V4(a)) => push_v4(out, a),
            _ => out.extend_from_slice(b"0.0.0.0"),
        }
    }
    pad_from(out, at, 15);
    out.push(b' ');
    at = out.len();
    push_v4(out, v4_mask(r.dst.prefix()));
    pad_from(out, at, 15);
    out.push(b' ');
    at = out.len();
    out.extend_from_slice(f.letters().as_bytes());
    pad_from(out, at, 5);
    out.push(b' ');
    at = out.len();
    // /proc/net/route prints the metric with %d, and net-tools reads it back with %d.
    let metric = r.metric.unwrap_or(0) as i32;
    if metric < 0 {
        out.push(b'-');
    }
    push_u32(out, metric.unsigned_abs());
    pad_from(out, at, 6);
    if f.reject {
        out.extend_from_slice(b" -        0 -\n");
    } else {
        out.extend_from_slice(b" 0        0 ");
        out.extend_from_slice(r.dev().unwrap_or("*").as_bytes());
        out.push(b'\n');
    }
}

/// What `route -n` prints for these routes (see [`compat_line`]).
pub fn write_compat(v: &RoutesView<'_>, out: &mut impl Write) -> io::Result<()> {
    let mut buf = Vec::with_capacity(OUT_CHUNK + 4096);
    buf.extend_from_slice(COMPAT_HEADER);
    for row in &v.rows {
        compat_line(row.route, &mut buf);
        if buf.len() >= OUT_CHUNK {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
}

// ---------------------------------------------------------------------------------------
// JSON.

#[derive(Serialize)]
struct Named<'a> {
    number: u32,
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonTable {
    id: u32,
    name: String,
}

#[derive(Serialize)]
struct JsonFlags {
    letters: String,
    words: Vec<&'static str>,
}

#[derive(Serialize)]
struct JsonHop<'a> {
    gateway: Option<IpAddr>,
    dev: Option<&'a str>,
    weight: u16,
    flags: Vec<&'static str>,
}

#[derive(Serialize)]
struct JsonRoute<'a> {
    dst: String,
    #[serde(rename = "type")]
    kind: String,
    gateway: Option<IpAddr>,
    dev: Option<&'a str>,
    table: JsonTable,
    proto: Named<'a>,
    scope: Named<'a>,
    metric: u32,
    prefsrc: Option<IpAddr>,
    mtu: Option<u32>,
    tos: u8,
    flags: JsonFlags,
    onlink: bool,
    linkdown: bool,
    nexthops: Vec<JsonHop<'a>>,
    explanation: Option<String>,
    owner: Option<&'static str>,
}

fn scope_static(s: Scope) -> Option<&'static str> {
    Some(match s {
        Scope::Universe => "global",
        Scope::Site => "site",
        Scope::Link => "link",
        Scope::Host => "host",
        Scope::Nowhere => "nowhere",
        Scope::Other(_) => return None,
    })
}

fn json_route<'a>(row: &Row<'a>) -> JsonRoute<'a> {
    let r = row.route;
    JsonRoute {
        dst: format!("{}/{}", r.dst.network(), r.dst.prefix()),
        kind: r.kind.name(),
        gateway: r.gateway(),
        dev: r.dev(),
        table: JsonTable {
            id: r.table.0,
            name: r.table.name(),
        },
        proto: Named {
            number: u32::from(r.proto.0),
            name: r.proto.name(),
        },
        scope: Named {
            number: u32::from(r.scope.number()),
            name: scope_static(r.scope),
        },
        metric: r.metric.unwrap_or(0),
        prefsrc: r.prefsrc,
        mtu: r.mtu,
        tos: r.tos,
        flags: JsonFlags {
            letters: row.flags.letters(),
            words: row.flags.words(),
        },
        onlink: r.nexthops.iter().any(|h| h.flags.onlink),
        linkdown: r.nexthops.iter().any(|h| h.flags.linkdown),
        nexthops: r
            .nexthops
            .iter()
            .map(|h| JsonHop {
                gateway: h.gateway,
                dev: h.dev.as_deref(),
                weight: h.weight,
                flags: h.flags.words(),
            })
            .collect(),
        explanation: row.explanation.map(|e| e.to_string()),
        owner: row.explanation.map(|e| e.owner().name()),
    }
}

struct JsonRows<'r, 'a>(&'r [Row<'a>]);

impl Serialize for JsonRows<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for row in self.0 {
            seq.serialize_element(&json_route(row))?;
        }
        seq.end()
    }
}

struct JsonDoc<'r, 'a>(&'r RoutesView<'a>);

impl Serialize for JsonDoc<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("schema", &schema("routes"))?;
        match v.source {
            Source::Kernel { netns } => {
                m.serialize_entry("netns", netns)?;
                m.serialize_entry("source", "kernel")?;
            }
            Source::File { path, format } => {
                m.serialize_entry("netns", &None::<&str>)?;
                m.serialize_entry("source", &path.display().to_string())?;
                m.serialize_entry("format", format)?;
            }
        }
        m.serialize_entry("table", &v.table)?;
        m.serialize_entry("warnings", v.warnings)?;
        m.serialize_entry("routes", &JsonRows(&v.rows))?;
        m.end()
    }
}

/// One JSON document, schema `netpath.routes/v1`.
pub fn write_json(v: &RoutesView<'_>, out: &mut impl Write) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &JsonDoc(v))?;
    out.write_all(b"\n")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// routes get.

/// How one policy rule's lookup ended.
#[derive(Debug, Clone)]
pub enum StepEnd<'a> {
    /// A route won in this table.
    Route {
        /// The table.
        table: Table,
        /// Every route covering the address, best first.
        covering: Vec<&'a Route>,
    },
    /// No route in this table covers the address: the next rule is tried.
    NoRoute {
        /// The table.
        table: Table,
        /// Empty.
        covering: Vec<&'a Route>,
    },
    /// The best route was too short for `suppress_prefixlength`: the next rule is tried.
    Suppressed {
        /// The table.
        table: Table,
        /// Every route covering the address, best first.
        covering: Vec<&'a Route>,
    },
    /// The best route is a `throw`: the next rule is tried.
    Throw {
        /// The table.
        table: Table,
        /// Every route covering the address, best first.
        covering: Vec<&'a Route>,
    },
    /// The rule itself drops (blackhole, unreachable, prohibit).
    RuleDrops(RuleAction),
    /// A `nop` or `goto` rule (not followed).
    Skipped,
}

/// One policy rule that matched the lookup, and how its lookup ended.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The rule.
    pub rule: Rule,
    /// What happened.
    pub end: StepEnd<'a>,
}

/// Whether the address is routable, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The kernel returned a usable route.
    Routed,
    /// The kernel refused, or returned a route that drops.
    NotRoutable {
        /// The kernel's errno.
        errno: i32,
        /// The kernel's message for it.
        kernel_said: String,
        /// Why, in words.
        reason: String,
    },
}

/// Where an offline `routes get` read its routes, and what it assumed.
#[derive(Debug, Clone, Copy)]
pub struct Offline<'a> {
    /// The dump (`-` for standard input).
    pub path: &'a Path,
    /// Its format's name.
    pub format: &'static str,
    /// What was assumed, in words.
    pub notes: &'a [String],
}

/// Everything `routes get` shows.
#[derive(Debug)]
pub struct GetReport<'a> {
    /// The netns label.
    pub netns: &'a str,
    /// The question.
    pub query: &'a RouteQuery,
    /// The policy rules that matched, in order, with their lookups.
    pub steps: &'a [Step<'a>],
    /// The kernel's own answers (offline: the prediction, as the kernel would answer).
    pub kernel: &'a RouteLookup,
    /// Set when the routes come from a dump and no kernel was asked.
    pub offline: Option<Offline<'a>>,
    /// Routable or not, and why.
    pub verdict: Verdict,
    /// The CNI explanation of the matched route.
    pub explanation: Option<Explanation<'a>>,
}

fn why_not(winner: &Route, other: &Route) -> String {
    if other.dst.prefix() < winner.dst.prefix() {
        format!(
            "/{} is shorter than /{}",
            other.dst.prefix(),
            winner.dst.prefix()
        )
    } else if other.metric.unwrap_or(0) > winner.metric.unwrap_or(0) {
        format!(
            "metric {} is higher than {}",
            other.metric.unwrap_or(0),
            winner.metric.unwrap_or(0)
        )
    } else {
        "same prefix and metric: the kernel uses the first one".to_string()
    }
}

fn step_table<'s, 'a>(end: &'s StepEnd<'a>) -> Option<(Table, &'s [&'a Route])> {
    match end {
        StepEnd::Route { table, covering }
        | StepEnd::NoRoute { table, covering }
        | StepEnd::Suppressed { table, covering }
        | StepEnd::Throw { table, covering } => Some((*table, covering)),
        _ => None,
    }
}

/// The `routes get` report for people.
pub fn write_get(r: &GetReport<'_>, style: &Style, out: &mut impl Write) -> io::Result<()> {
    let paint = |p: Paint, s: &str| -> String {
        if style.color {
            format!("{}{s}\x1b[0m", p.code())
        } else {
            s.to_string()
        }
    };
    let q = r.query;
    write!(out, "route to {}", q.dst)?;
    if let Some(s) = q.src {
        write!(out, " from {s}")?;
    }
    if let Some(i) = &q.iif {
        write!(out, " arriving on {i}")?;
    }
    if r.netns != "current" {
        write!(out, " in netns {}", r.netns)?;
    }
    writeln!(out)?;
    if let Some(off) = &r.offline {
        for n in off.notes {
            writeln!(out, "{}", paint(Paint::Yellow, &format!("note: {n}")))?;
        }
    } else {
        writeln!(out)?;
        write_kernel_answer(r, &paint, out)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint(
            Paint::Bold,
            "why (policy rules in order, then longest prefix, then lowest metric):"
        )
    )?;
    write_steps(r, &paint, out)?;
    if let Some(e) = &r.explanation {
        writeln!(out)?;
        writeln!(out, "{} {e}", paint(Paint::Bold, "explanation:"))?;
    }
    let predicted = r.steps.last().and_then(|s| match &s.end {
        StepEnd::Route { covering, .. } => covering.first().copied(),
        _ => None,
    });
    if let (KernelAnswer::Route(fib), Some(p), None) = (&r.kernel.fib_entry, predicted, &r.offline)
    {
        if !same_entry(fib, p) {
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                paint(
                    Paint::Yellow,
                    "note: the kernel matched another entry than netpath predicts (TOS, marks or \
                     rules netpath does not model)"
                )
            )?;
        }
    }
    writeln!(out)?;
    let said = if r.offline.is_some() {
        "the kernel would say"
    } else {
        "the kernel said"
    };
    match &r.verdict {
        Verdict::Routed => writeln!(out, "{} routable", paint(Paint::Bold, "verdict:"))?,
        Verdict::NotRoutable {
            reason,
            kernel_said,
            ..
        } => writeln!(
            out,
            "{} {} ({said}: {kernel_said})",
            paint(Paint::Bold, "verdict:"),
            paint(Paint::Red, &format!("not routable: {reason}"))
        )?,
    }
    Ok(())
}

/// The kernel's answers (`ip route get` and the matched FIB entry).
fn write_kernel_answer(
    r: &GetReport<'_>,
    paint: &impl Fn(Paint, &str) -> String,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out, "{}", paint(Paint::Bold, "kernel (ip route get):"))?;
    match &r.kernel.resolved {
        KernelAnswer::Route(route) => {
            write!(out, "  {}", resolved_text(route))?;
            if let Some(e) = r.kernel.route_error {
                write!(out, " error: {}", errno_text(e))?;
            }
            writeln!(out)?;
        }
        KernelAnswer::Error(e) => writeln!(
            out,
            "  {}",
            paint(Paint::Red, &format!("refused: {}", errno_text(*e)))
        )?,
    }
    match &r.kernel.fib_entry {
        KernelAnswer::Route(route) => {
            writeln!(out, "  matched FIB entry: {route}")?;
        }
        KernelAnswer::Error(_) => {}
    }
    Ok(())
}

/// The policy rules that matched, and the routes each lookup saw.
fn write_steps(
    r: &GetReport<'_>,
    paint: &impl Fn(Paint, &str) -> String,
    out: &mut impl Write,
) -> io::Result<()> {
    let q = r.query;
    if r.steps.is_empty() {
        writeln!(out, "  no policy rule matches")?;
    }
    for step in r.steps {
        let rule = step.rule.to_string();
        writeln!(out, "  rule {}", rule.replace(":\t", ": "))?;
        match &step.end {
            StepEnd::RuleDrops(a) => {
                writeln!(out, "    the rule itself drops the packet ({a:?})")?;
            }
            StepEnd::Skipped => writeln!(out, "    not followed (nop/goto)")?,
            end => {
                let Some((table, covering)) = step_table(end) else {
                    continue;
                };
                if covering.is_empty() {
                    writeln!(
                        out,
                        "    table {}: no route covers {}, next rule",
                        table.name(),
                        q.dst
                    )?;
                    continue;
                }
                writeln!(
                    out,
                    "    table {}: {} route{} cover{} {}",
                    table.name(),
                    covering.len(),
                    if covering.len() == 1 { "" } else { "s" },
                    if covering.len() == 1 { "s" } else { "" },
                    q.dst
                )?;
                let best = covering[0];
                for (i, c) in covering.iter().enumerate() {
                    if i == 0 {
                        let note = match end {
                            StepEnd::Throw { .. } => " (throw: next rule)",
                            StepEnd::Suppressed { .. } => {
                                " (suppressed by suppress_prefixlength: next rule)"
                            }
                            _ => " (wins)",
                        };
                        writeln!(
                            out,
                            "    {} {c}{}",
                            paint(Paint::Cyan, "->"),
                            paint(Paint::Cyan, note)
                        )?;
                    } else if i < 8 {
                        writeln!(out, "       {c}  ({})", why_not(best, c))?;
                    } else {
                        writeln!(
                            out,
                            "       … and {} more shorter prefixes",
                            covering.len() - 8
                        )?;
                        break;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The kernel's message for an errno with its symbolic name: `Invalid argument (EINVAL)`.
pub fn errno_text(errno: i32) -> String {
    let msg = std::io::Error::from_raw_os_error(errno).to_string();
    let msg = match msg.find(" (os error") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
    let name = match errno {
        libc::ENETUNREACH => "ENETUNREACH",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::EINVAL => "EINVAL",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::EAGAIN => "EAGAIN",
        _ => return format!("{msg} (errno {errno})"),
    };
    format!("{msg} ({name})")
}

/// The resolved route the way `ip route get` prints it: `DST [via GW] dev DEV [table T]
/// [src SRC]`.
fn resolved_text(r: &Route) -> String {
    let mut s = String::new();
    if let Some(t) = type_word(r.kind) {
        s.push_str(t);
        s.push(' ');
    }
    let _ = write!(s, "{}", r.dst.network());
    if let Some(gw) = r.gateway() {
        let _ = write!(s, " via {gw}");
    }
    if let Some(dev) = r.dev() {
        let _ = write!(s, " dev {dev}");
    }
    if r.table != Table::MAIN {
        let _ = write!(s, " table {}", r.table.name());
    }
    if let Some(src) = r.prefsrc {
        let _ = write!(s, " src {src}");
    }
    s
}

/// Whether the kernel's FIB match and netpath's prediction are the same route.
pub fn same_entry(a: &Route, b: &Route) -> bool {
    a.dst == b.dst
        && a.table == b.table
        && a.kind == b.kind
        && a.metric.unwrap_or(0) == b.metric.unwrap_or(0)
        && a.gateway() == b.gateway()
        && a.dev() == b.dev()
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    route: Option<JsonRoute<'a>>,
    error: Option<JsonErr>,
}

#[derive(Serialize)]
struct JsonErr {
    errno: i32,
    message: String,
}

fn json_answer<'a>(a: &'a KernelAnswer, extra: Option<i32>) -> JsonAnswer<'a> {
    match a {
        KernelAnswer::Route(r) => JsonAnswer {
            route: Some(json_route(&Row {
                route: r,
                flags: r.flags(),
                explanation: None,
            })),
            error: extra.map(|e| JsonErr {
                errno: e,
                message: errno_text(e),
            }),
        },
        KernelAnswer::Error(e) => JsonAnswer {
            route: None,
            error: Some(JsonErr {
                errno: *e,
                message: errno_text(*e),
            }),
        },
    }
}

#[derive(Serialize)]
struct JsonStep<'a> {
    rule: String,
    priority: u32,
    table: Option<JsonTable>,
    outcome: &'static str,
    covering: Vec<JsonRoute<'a>>,
}

/// The `routes get` report as one JSON document, schema `netpath.routes.get/v1`.
pub fn write_get_json(r: &GetReport<'_>, out: &mut impl Write) -> anyhow::Result<()> {
    let steps: Vec<JsonStep<'_>> = r
        .steps
        .iter()
        .map(|s| {
            let (table, covering) = match step_table(&s.end) {
                Some((t, c)) => (
                    Some(JsonTable {
                        id: t.0,
                        name: t.name(),
                    }),
                    c.iter()
                        .map(|route| {
                            json_route(&Row {
                                route,
                                flags: route.flags(),
                                explanation: None,
                            })
                        })
                        .collect(),
                ),
                None => (None, Vec::new()),
            };
            JsonStep {
                rule: s.rule.to_string().replace(":\t", ": "),
                priority: s.rule.priority,
                table,
                outcome: match s.end {
                    StepEnd::Route { .. } => "route",
                    StepEnd::NoRoute { .. } => "no-route",
                    StepEnd::Suppressed { .. } => "suppressed",
                    StepEnd::Throw { .. } => "throw",
                    StepEnd::RuleDrops(_) => "rule-drops",
                    StepEnd::Skipped => "skipped",
                },
                covering,
            }
        })
        .collect();
    let (routable, errno, kernel_said, reason) = match &r.verdict {
        Verdict::Routed => (true, None, None, None),
        Verdict::NotRoutable {
            errno,
            kernel_said,
            reason,
        } => (
            false,
            Some(*errno),
            Some(kernel_said.as_str()),
            Some(reason.as_str()),
        ),
    };
    let doc = serde_json::json!({
        "schema": schema("routes.get"),
        "netns": r.netns,
        "dst": r.query.dst,
        "from": r.query.src,
        "iif": r.query.iif,
        // Offline there is no kernel answer: `source` names the dump instead.
        "kernel": r.offline.is_none().then(|| json_answer(&r.kernel.resolved, r.kernel.route_error)),
        "fib_entry": r.offline.is_none().then(|| json_answer(&r.kernel.fib_entry, None)),
        "source": match &r.offline {
            Some(o) => serde_json::json!({"file": o.path.display().to_string(), "format": o.format, "notes": o.notes}),
            None => serde_json::json!("kernel"),
        },
        "steps": steps,
        "explanation": r.explanation.map(|e| e.to_string()),
        "routable": routable,
        "errno": errno,
        "kernel_said": kernel_said,
        "reason": reason,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::{Nexthop, Protocol};
    use crate::explain::explain;

    fn routes() -> Vec<Route> {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let mut v = vec![
            Route::unicast(
                "0.0.0.0/0".parse().unwrap(),
                Nexthop::via(ip("192.168.1.1"), "eth0"),
            ),
            Route::drop(
                RouteType::Prohibit,
                "10.98.0.0/16".parse().unwrap(),
                Protocol::BOOT,
            ),
            Route::drop(
                RouteType::Unreachable,
                "10.99.1.1/32".parse().unwrap(),
                Protocol::BOOT,
            ),
            Route::drop(
                RouteType::Blackhole,
                "10.244.0.0/26".parse().unwrap(),
                Protocol::BIRD,
            ),
            Route::unicast(
                "10.244.0.5/32".parse().unwrap(),
                Nexthop::dev("cali1a2b3c4d5e6"),
            ),
            Route::unicast(
                "10.244.1.0/24".parse().unwrap(),
                Nexthop::via(ip("10.244.1.0"), "flannel.1").onlink(),
            ),
        ];
        let mut mp = Route::unicast(
            "10.244.3.0/24".parse().unwrap(),
            Nexthop::via(ip("192.168.1.13"), "eth0"),
        );
        let mut second = Nexthop::via(ip("192.168.1.14"), "eth0");
        second.weight = 2;
        mp.nexthops.push(second);
        v.push(mp);
        let mut kernel = Route::unicast("192.168.1.0/24".parse().unwrap(), Nexthop::dev("eth0"));
        kernel.proto = Protocol::KERNEL;
        kernel.prefsrc = Some(ip("192.168.1.10"));
        v.push(kernel);
        let mut v6 = Route::unicast("2001:db8:4::5/128".parse().unwrap(), Nexthop::dev("eth0"));
        v6.metric = Some(1024);
        v.push(v6);
        v
    }

    fn view<'a>(routes: &'a [Route]) -> RoutesView<'a> {
        RoutesView {
            source: Source::Kernel { netns: "current" },
            table: "main".into(),
            rows: routes
                .iter()
                .map(|r| Row {
                    route: r,
                    flags: r.flags(),
                    explanation: explain(r, None),
                })
                .collect(),
            warnings: &[],
        }
    }

    /// The `routes get` report's layout, live (the kernel's answer first) and offline (the
    /// notes instead, "would say" in the verdict).
    #[test]
    fn get_report_layout_live_and_offline() {
        let rs = routes();
        let connected = rs
            .iter()
            .find(|r| r.proto == Protocol::KERNEL)
            .unwrap()
            .clone();
        let query = RouteQuery {
            dst: "192.168.1.20".parse().unwrap(),
            src: None,
            iif: None,
        };
        let steps = vec![Step {
            rule: Rule::defaults(crate::dataplane::Family::Inet)[1].clone(),
            end: StepEnd::Route {
                table: crate::dataplane::Table::MAIN,
                covering: vec![&connected],
            },
        }];
        let kernel = RouteLookup {
            resolved: KernelAnswer::Route(connected.clone()),
            fib_entry: KernelAnswer::Route(connected.clone()),
            route_error: None,
            sysctls: Default::default(),
        };
        let style = Style {
            color: false,
            tty: false,
        };
        let mut report = GetReport {
            netns: "current",
            query: &query,
            steps: &steps,
            kernel: &kernel,
            offline: None,
            verdict: Verdict::Routed,
            explanation: None,
        };
        let mut out = Vec::new();
        write_get(&report, &style, &mut out).unwrap();
        let live = String::from_utf8(out).unwrap();
        assert!(
            live.starts_with("route to 192.168.1.20\n\nkernel (ip route get):\n  "),
            "{live}"
        );
        assert!(live.contains("\n\nwhy (policy rules in order"), "{live}");

        let notes = vec!["predicted from dump.txt (ip route)".to_string()];
        report.offline = Some(Offline {
            path: Path::new("dump.txt"),
            format: "ip route",
            notes: &notes,
        });
        report.verdict = Verdict::NotRoutable {
            errno: libc::EINVAL,
            kernel_said: "Invalid argument (EINVAL)".into(),
            reason: "r".into(),
        };
        let mut out = Vec::new();
        write_get(&report, &style, &mut out).unwrap();
        let offline = String::from_utf8(out).unwrap();
        assert!(
            offline.starts_with(
                "route to 192.168.1.20\nnote: predicted from dump.txt (ip route)\n\nwhy"
            ),
            "{offline}"
        );
        assert!(!offline.contains("kernel (ip route get)"), "{offline}");
        assert!(
            offline.contains("(the kernel would say: Invalid argument (EINVAL))"),
            "{offline}"
        );
    }

    #[test]
    fn widths_are_the_widest_cells() {
        let rs = routes();
        let v = view(&rs);
        let mut t = TableBuilder::new();
        for row in &v.rows {
            t.push(row);
        }
        assert_eq!(t.cells.len() % NCOLS, 0, "whole rows");
        // Destination: "2001:db8:4::5"; Iface: "cali1a2b3c4d5e6"; the last column unpadded.
        assert_eq!(t.widths[0], 13);
        assert_eq!(t.widths[7], 15);
        assert_eq!(t.widths[NCOLS - 1], 0);
        // A cell longer than 13 bits of length survives the round trip.
        let mut long = TableBuilder::new();
        long.text.extend(std::iter::repeat_n(b'x', 9000));
        long.put(Paint::Plain);
        long.empty(NCOLS - 1);
        let mut out = Vec::new();
        long.write(false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().nth(1).unwrap().trim_end().len(), 9000);
    }

    #[test]
    fn fast_writers_match_display() {
        for a in [
            "0.0.0.0",
            "10.244.1.0",
            "255.255.255.255",
            "192.168.100.9",
            "fd00::1",
        ] {
            let ip: IpAddr = a.parse().unwrap();
            let mut s = Vec::new();
            push_ip(&mut s, ip);
            assert_eq!(s, ip.to_string().as_bytes());
        }
        for n in [0u32, 7, 10, 1024, u32::MAX] {
            let mut s = Vec::new();
            push_u32(&mut s, n);
            assert_eq!(s, n.to_string().as_bytes());
        }
        assert_eq!(display_width("calico pod route → cali1".as_bytes()), 24);
    }

    #[test]
    fn compat_is_route_n() {
        let rs = routes();
        let mut out = Vec::new();
        write_compat(&view(&rs), &mut out).unwrap();
        let expected = "\
Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
0.0.0.0         192.168.1.1     0.0.0.0         UG    0      0        0 eth0
10.98.0.0       -               255.255.0.0     !     0      -        0 -
10.99.1.1       -               255.255.255.255 !H    0      -        0 -
10.244.0.0      0.0.0.0         255.255.255.192 U     0      0        0 *
10.244.0.5      0.0.0.0         255.255.255.255 UH    0      0        0 cali1a2b3c4d5e6
10.244.1.0      10.244.1.0      255.255.255.0   UG    0      0        0 flannel.1
10.244.3.0      192.168.1.13    255.255.255.0   UG    0      0        0 eth0
192.168.1.0     0.0.0.0         255.255.255.0   U     0      0        0 eth0
";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        // A metric above i32::MAX comes back negative through /proc/net/route's %d.
        let mut big = rs[0].clone();
        big.metric = Some(u32::MAX);
        let mut line = Vec::new();
        compat_line(&big, &mut line);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "0.0.0.0         192.168.1.1     0.0.0.0         UG    -1     0        0 eth0\n"
        );
    }

    #[test]
    fn table_snapshot() {
        let rs = routes();
        let mut out = Vec::new();
        write_table(&view(&rs), &Style::plain(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, include_str!("../../testdata/routes/table.txt"));
        assert!(text.lines().all(|l| l == l.trim_end()));
    }

    #[test]
    fn json_has_numbers_and_cidrs() {
        let rs = routes();
        let mut out = Vec::new();
        write_json(&view(&rs), &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["schema"], "netpath.routes/v1");
        let r = &v["routes"][4];
        assert_eq!(r["dst"], "10.244.0.5/32");
        assert_eq!(r["table"]["id"], 254);
        assert_eq!(r["proto"]["number"], 3);
        assert_eq!(r["flags"]["letters"], "UH");
        assert_eq!(r["owner"], "calico");
        assert_eq!(v["routes"][3]["type"], "blackhole");
        assert_eq!(v["routes"][6]["nexthops"][1]["weight"], 2);
    }
}
