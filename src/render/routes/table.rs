//! The default view: route -n's columns, then Proto, Scope, Table, Src, Notes and the CNI
//! explanation; multipath nexthops on their own rows.
//!
//! The table is written straight into one text arena and then padded, so that 100,000
//! routes cost no allocation per route (comfy-table would cost several per cell).

use std::io::{self, Write};
use std::net::IpAddr;

use super::bytes::{
    display_width, proto_word, push_ip, push_u32, scope_word, table_word, type_word, unspecified,
    v4_mask,
};
use super::{Paint, RoutesView, Row};
use crate::dataplane::{Family, Nexthop};
use crate::render::Style;

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
pub(super) const NCOLS: usize = HEADER.len();

const SPACES: &[u8; 64] = b"                                                                ";

/// A cell's entry in [`TableBuilder::cells`]: its length in the low 13 bits (or
/// [`LONG`], and the length in [`TableBuilder::long`]), its paint in the top 3.
const LEN_BITS: u16 = 0x1fff;
const LONG: u16 = LEN_BITS;
const PAINT_SHIFT: u16 = 13;

/// Where flushed output is collected before one write.
pub(super) const OUT_CHUNK: usize = 64 * 1024;

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
    pub(super) text: Vec<u8>,
    /// One entry per cell, row after row (see [`LEN_BITS`]).
    pub(super) cells: Vec<u16>,
    /// The lengths of cells too long for 13 bits, in order.
    pub(super) long: Vec<u32>,
    /// The widest cell of each column but the last (never padded).
    pub(super) widths: [usize; NCOLS],
    /// Where the cell being written starts in `text`.
    pub(super) start: usize,
    /// The column of the cell being written.
    pub(super) col: usize,
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
    pub(super) fn put(&mut self, paint: Paint) {
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

    pub(super) fn str(&mut self, s: &str, paint: Paint) {
        self.text.extend_from_slice(s.as_bytes());
        self.put(paint);
    }

    pub(super) fn ip(&mut self, a: IpAddr) {
        push_ip(&mut self.text, a);
        self.put(Paint::Plain);
    }

    pub(super) fn empty(&mut self, n: usize) {
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
