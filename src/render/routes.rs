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
// Small writers that do not allocate.

fn scope_word(s: Scope, out: &mut String) {
    match s {
        Scope::Universe => out.push_str("global"),
        Scope::Site => out.push_str("site"),
        Scope::Link => out.push_str("link"),
        Scope::Host => out.push_str("host"),
        Scope::Nowhere => out.push_str("nowhere"),
        Scope::Other(n) => {
            let _ = write!(out, "{n}");
        }
    }
}

fn table_word(t: Table, out: &mut String) {
    match t.0 {
        254 => out.push_str("main"),
        255 => out.push_str("local"),
        253 => out.push_str("default"),
        n => {
            let _ = write!(out, "{n}");
        }
    }
}

fn proto_word(p: Protocol, out: &mut String) {
    match p.name() {
        Some(n) => out.push_str(n),
        None => {
            let _ = write!(out, "{}", p.0);
        }
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
fn push_ip(out: &mut String, a: IpAddr) {
    match a {
        IpAddr::V4(v4) => push_v4(out, v4),
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

fn push_v4(out: &mut String, a: Ipv4Addr) {
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
    // Only ASCII digits and dots were written.
    out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
}

fn push_u32(out: &mut String, mut n: u32) {
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
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

fn display_width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
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

const SPACES: &str = "                                                                ";

/// Where cells go: the first pass measures column widths, the second writes padded lines.
/// Every row is formatted twice into one scratch string, so the view costs no memory per
/// route and no allocation per cell.
trait Sink {
    fn cell(&mut self, text: &str, paint: Paint) -> io::Result<()>;
    /// Whether the text of the last column matters (not for measuring widths).
    fn wants_last(&self) -> bool {
        true
    }
}

struct Widths {
    widths: [usize; NCOLS],
    col: usize,
}

impl Sink for Widths {
    fn cell(&mut self, text: &str, _: Paint) -> io::Result<()> {
        // The last column is never padded: its width does not matter.
        if self.col + 1 < NCOLS {
            let w = display_width(text);
            if w > self.widths[self.col] {
                self.widths[self.col] = w;
            }
        }
        self.col = (self.col + 1) % NCOLS;
        Ok(())
    }

    fn wants_last(&self) -> bool {
        false
    }
}

struct Lines<'w, W: Write> {
    widths: [usize; NCOLS],
    col: usize,
    /// Spaces owed before the next non-empty cell (never written at the end of a line).
    pad: usize,
    color: bool,
    line: String,
    out: &'w mut W,
}

impl<W: Write> Sink for Lines<'_, W> {
    fn cell(&mut self, text: &str, paint: Paint) -> io::Result<()> {
        if !text.is_empty() {
            while self.pad > 0 {
                let n = self.pad.min(SPACES.len());
                self.line.push_str(&SPACES[..n]);
                self.pad -= n;
            }
            if self.color && paint != Paint::Plain {
                self.line.push_str(paint.code());
                self.line.push_str(text);
                self.line.push_str("\x1b[0m");
            } else {
                self.line.push_str(text);
            }
        }
        self.pad += (self.widths[self.col] + 2).saturating_sub(display_width(text));
        self.col += 1;
        if self.col == NCOLS {
            self.line.push('\n');
            self.out.write_all(self.line.as_bytes())?;
            self.line.clear();
            self.col = 0;
            self.pad = 0;
        }
        Ok(())
    }
}

/// Formats cells into one reused string and hands them to a sink.
struct Cells<'s, S: Sink> {
    buf: String,
    sink: &'s mut S,
}

impl<S: Sink> Cells<'_, S> {
    fn put(&mut self, paint: Paint) -> io::Result<()> {
        let r = self.sink.cell(&self.buf, paint);
        self.buf.clear();
        r
    }

    fn str(&mut self, s: &str, paint: Paint) -> io::Result<()> {
        self.buf.push_str(s);
        self.put(paint)
    }

    fn ip(&mut self, a: IpAddr) -> io::Result<()> {
        push_ip(&mut self.buf, a);
        self.put(Paint::Plain)
    }

    fn empty(&mut self, n: usize) -> io::Result<()> {
        for _ in 0..n {
            self.sink.cell("", Paint::Plain)?;
        }
        Ok(())
    }
}

fn hop_words(hop: &Nexthop, out: &mut String) {
    for w in hop.flags.words() {
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(w);
    }
}

fn sep(out: &mut String) {
    if !out.is_empty() {
        out.push(' ');
    }
}

fn emit_row<S: Sink>(c: &mut Cells<'_, S>, row: &Row<'_>) -> io::Result<()> {
    let r = row.route;
    let fam = r.family();
    let v4 = fam == Family::Inet;
    let reject_v4 = row.flags.reject && v4;
    let hop = r.first_hop();

    c.ip(r.dst.network())?;
    if reject_v4 {
        c.str("-", Paint::Plain)?;
    } else {
        c.ip(hop
            .and_then(|h| h.gateway)
            .unwrap_or_else(|| unspecified(fam)))?;
    }
    if v4 {
        c.ip(IpAddr::V4(v4_mask(r.dst.prefix())))?;
    } else {
        c.buf.push('/');
        push_u32(&mut c.buf, u32::from(r.dst.prefix()));
        c.put(Paint::Plain)?;
    }
    let f = row.flags;
    if f.reject {
        c.buf.push('!');
    } else {
        if f.up {
            c.buf.push('U');
        }
        if f.gateway {
            c.buf.push('G');
        }
    }
    if f.host {
        c.buf.push('H');
    }
    c.put(Paint::Plain)?;
    push_u32(&mut c.buf, r.metric.unwrap_or(0));
    c.put(Paint::Plain)?;
    c.str(if reject_v4 { "-" } else { "0" }, Paint::Plain)?;
    c.str("0", Paint::Plain)?;
    if reject_v4 {
        c.str("-", Paint::Plain)?;
    } else {
        c.str(
            hop.and_then(|h| h.dev.as_deref()).unwrap_or("*"),
            Paint::Plain,
        )?;
    }
    proto_word(r.proto, &mut c.buf);
    c.put(Paint::Plain)?;
    scope_word(r.scope, &mut c.buf);
    c.put(Paint::Plain)?;
    table_word(r.table, &mut c.buf);
    c.put(Paint::Plain)?;
    match r.prefsrc {
        Some(s) => c.ip(s)?,
        None => c.empty(1)?,
    }
    // Notes.
    let mut paint = Paint::Plain;
    if let Some(t) = type_word(r.kind) {
        c.buf.push_str(t);
        if r.kind.drops() {
            paint = Paint::Red;
        }
    }
    if let Some(h) = hop {
        if h.flags != Default::default() {
            sep(&mut c.buf);
            hop_words(h, &mut c.buf);
            if paint == Paint::Plain && (h.flags.linkdown || h.flags.dead) {
                paint = Paint::Yellow;
            }
        }
    }
    if let Some(mtu) = r.mtu {
        sep(&mut c.buf);
        let _ = write!(c.buf, "mtu {mtu}");
    }
    if r.tos != 0 {
        sep(&mut c.buf);
        let _ = write!(c.buf, "tos 0x{:02x}", r.tos);
    }
    if r.is_multipath() {
        sep(&mut c.buf);
        let w = hop.map(|h| h.weight).unwrap_or(1);
        let _ = write!(c.buf, "multipath {} weight {w}", r.nexthops.len());
    }
    c.put(paint)?;
    match &row.explanation {
        Some(e) if c.sink.wants_last() => {
            let _ = write!(c.buf, "{e}");
            c.put(Paint::Cyan)?;
        }
        _ => c.empty(1)?,
    }

    for h in r.nexthops.iter().skip(1) {
        c.empty(1)?;
        c.ip(h.gateway.unwrap_or_else(|| unspecified(fam)))?;
        c.empty(5)?;
        c.str(h.dev.as_deref().unwrap_or("*"), Paint::Plain)?;
        c.empty(4)?;
        let _ = write!(c.buf, "nexthop weight {}", h.weight);
        if h.flags != Default::default() {
            c.buf.push(' ');
            hop_words(h, &mut c.buf);
        }
        let paint = if h.flags.linkdown || h.flags.dead {
            Paint::Yellow
        } else {
            Paint::Plain
        };
        c.put(paint)?;
        c.empty(1)?;
    }
    Ok(())
}

fn emit_all<S: Sink>(v: &RoutesView<'_>, sink: &mut S) -> io::Result<()> {
    let mut c = Cells {
        buf: String::with_capacity(256),
        sink,
    };
    for h in HEADER {
        c.str(h, Paint::Bold)?;
    }
    for row in &v.rows {
        emit_row(&mut c, row)?;
    }
    Ok(())
}

fn digits(mut n: u32) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// The printed width of an address, without printing an IPv4 one.
fn ip_width(a: IpAddr, scratch: &mut String) -> usize {
    match a {
        IpAddr::V4(v4) => {
            3 + v4
                .octets()
                .iter()
                .map(|&o| digits(u32::from(o)))
                .sum::<usize>()
        }
        IpAddr::V6(_) => {
            scratch.clear();
            push_ip(scratch, a);
            scratch.len()
        }
    }
}

fn word_width(write: impl FnOnce(&mut String), scratch: &mut String) -> usize {
    scratch.clear();
    write(scratch);
    scratch.len()
}

fn has_notes(r: &Route) -> bool {
    r.kind != RouteType::Unicast
        || r.first_hop().is_some_and(|h| h.flags != Default::default())
        || r.mtu.is_some()
        || r.tos != 0
        || r.is_multipath()
}

/// Column widths of every row but the last column, computed without formatting the cells
/// (what [`emit_row`] would print; a test holds the two together).
fn measure(v: &RoutesView<'_>) -> [usize; NCOLS] {
    let mut w = [0usize; NCOLS];
    for (i, h) in HEADER.iter().enumerate() {
        w[i] = h.len();
    }
    let mut scratch = String::new();
    let mut notes = Widths {
        widths: [0; NCOLS],
        col: 0,
    };
    let mut m = |i: usize, n: usize| {
        if n > w[i] {
            w[i] = n;
        }
    };
    for row in &v.rows {
        let r = row.route;
        let fam = r.family();
        let v4 = fam == Family::Inet;
        let reject_v4 = row.flags.reject && v4;
        let hop = r.first_hop();
        m(0, ip_width(r.dst.network(), &mut scratch));
        m(
            1,
            if reject_v4 {
                1
            } else {
                ip_width(
                    hop.and_then(|h| h.gateway)
                        .unwrap_or_else(|| unspecified(fam)),
                    &mut scratch,
                )
            },
        );
        m(
            2,
            if v4 {
                ip_width(IpAddr::V4(v4_mask(r.dst.prefix())), &mut scratch)
            } else {
                1 + digits(u32::from(r.dst.prefix()))
            },
        );
        let f = row.flags;
        let letters = if f.reject {
            1
        } else {
            usize::from(f.up) + usize::from(f.gateway)
        } + usize::from(f.host);
        m(3, letters);
        m(4, digits(r.metric.unwrap_or(0)));
        if !reject_v4 {
            m(
                7,
                display_width(hop.and_then(|h| h.dev.as_deref()).unwrap_or("*")),
            );
        }
        m(8, word_width(|s| proto_word(r.proto, s), &mut scratch));
        m(9, word_width(|s| scope_word(r.scope, s), &mut scratch));
        m(10, word_width(|s| table_word(r.table, s), &mut scratch));
        if let Some(src) = r.prefsrc {
            m(11, ip_width(src, &mut scratch));
        }
        if has_notes(r) {
            // Rare enough to format: the same code as the printed view.
            let mut c = Cells {
                buf: String::new(),
                sink: &mut notes,
            };
            let _ = emit_row(&mut c, row);
        }
        for h in r.nexthops.iter().skip(1) {
            m(
                1,
                ip_width(h.gateway.unwrap_or_else(|| unspecified(fam)), &mut scratch),
            );
            m(7, display_width(h.dev.as_deref().unwrap_or("*")));
        }
    }
    for (i, n) in notes.widths.iter().enumerate() {
        if *n > w[i] {
            w[i] = *n;
        }
    }
    w[NCOLS - 1] = 0;
    w
}

/// The default view: route -n's columns, then Proto, Scope, Table, Src, Notes and the CNI
/// explanation; multipath nexthops on their own rows.
pub fn write_table(v: &RoutesView<'_>, style: &Style, out: &mut impl Write) -> io::Result<()> {
    let mut lines = Lines {
        widths: measure(v),
        col: 0,
        pad: 0,
        color: style.color,
        line: String::with_capacity(512),
        out,
    };
    emit_all(v, &mut lines)
}

// ---------------------------------------------------------------------------------------
// route -n, exactly.

/// What `route -n` prints for these routes (net-tools 2.10 `rprint_fib`, reading
/// `/proc/net/route`): IPv4 main-table routes in the kernel's order, broadcast and
/// multicast left out, the first nexthop only.
pub fn write_compat(v: &RoutesView<'_>, out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"Kernel IP routing table\n")?;
    out.write_all(
        b"Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n",
    )?;
    let mut flags = String::with_capacity(4);
    for row in &v.rows {
        let r = row.route;
        if r.family() != Family::Inet
            || r.table != Table::MAIN
            || matches!(r.kind, RouteType::Broadcast | RouteType::Multicast)
        {
            continue;
        }
        let dst = r.dst.network();
        let mask = v4_mask(r.dst.prefix());
        let f = r.flags();
        flags.clear();
        flags.push_str(&f.letters());
        // /proc/net/route prints the metric with %d, and net-tools reads it back with %d.
        let metric = r.metric.unwrap_or(0) as i32;
        if f.reject {
            writeln!(
                out,
                "{dst:<15} -               {mask:<15} {flags:<5} {metric:<6} -  {use_:>7} -",
                use_ = 0
            )?;
        } else {
            let gw = match r.gateway() {
                Some(IpAddr::V4(a)) => a,
                _ => Ipv4Addr::UNSPECIFIED,
            };
            let iface = r.dev().unwrap_or("*");
            writeln!(
                out,
                "{dst:<15} {gw:<15} {mask:<15} {flags:<5} {metric:<6} {ref_:<2} {use_:>7} {iface}",
                ref_ = 0,
                use_ = 0
            )?;
        }
    }
    Ok(())
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

/// Everything `routes get` shows.
#[derive(Debug)]
pub struct GetReport<'a> {
    /// The netns label.
    pub netns: &'a str,
    /// The question.
    pub query: &'a RouteQuery,
    /// The policy rules that matched, in order, with their lookups.
    pub steps: &'a [Step<'a>],
    /// The kernel's own answers.
    pub kernel: &'a RouteLookup,
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
    writeln!(out)?;
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
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint(
            Paint::Bold,
            "why (policy rules in order, then longest prefix, then lowest metric):"
        )
    )?;
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
    if let Some(e) = &r.explanation {
        writeln!(out)?;
        writeln!(out, "{} {e}", paint(Paint::Bold, "explanation:"))?;
    }
    let predicted = r.steps.last().and_then(|s| match &s.end {
        StepEnd::Route { covering, .. } => covering.first().copied(),
        _ => None,
    });
    if let (KernelAnswer::Route(fib), Some(p)) = (&r.kernel.fib_entry, predicted) {
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
    match &r.verdict {
        Verdict::Routed => writeln!(out, "{} routable", paint(Paint::Bold, "verdict:"))?,
        Verdict::NotRoutable {
            reason,
            kernel_said,
            ..
        } => writeln!(
            out,
            "{} {} (the kernel said: {kernel_said})",
            paint(Paint::Bold, "verdict:"),
            paint(Paint::Red, &format!("not routable: {reason}"))
        )?,
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
        "kernel": json_answer(&r.kernel.resolved, r.kernel.route_error),
        "fib_entry": json_answer(&r.kernel.fib_entry, None),
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

    #[test]
    fn measured_widths_are_printed_widths() {
        let rs = routes();
        let v = view(&rs);
        let mut printed = Widths {
            widths: [0; NCOLS],
            col: 0,
        };
        emit_all(&v, &mut printed).unwrap();
        assert_eq!(measure(&v), printed.widths);
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
            let mut s = String::new();
            push_ip(&mut s, ip);
            assert_eq!(s, ip.to_string());
        }
        for n in [0u32, 7, 10, 1024, u32::MAX] {
            let mut s = String::new();
            push_u32(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        assert_eq!(display_width("calico pod route → cali1"), 24);
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
