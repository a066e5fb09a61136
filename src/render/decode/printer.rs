//! The per-packet driver of the decode views, shared by `netpath decode` and `netpath
//! capture`: each packet is decoded (live capture) or handed over decoded, written into
//! one reused buffer by its view, counted for the views that summarise, and the buffer
//! goes out in large writes.

use std::io::Write;

use anyhow::bail;

use super::{FrameInfo, stats_json, stats_text, write_json, write_line, write_tree};
use crate::decode::{self, DecodeOptions, Names, Packet, Stats, StopReason};
use crate::pcapfile::Timestamp;
use crate::render::clock::LocalClock;
use crate::render::{Style, json};
use crate::wire::LinkType;

/// Which view the printer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// One line per packet.
    Line,
    /// The tree of layers and fields.
    Tree,
    /// One JSON object per packet, then a summary object.
    Json,
    /// Only counters, printed at the end as tables.
    Stats,
    /// Only counters, printed at the end as one JSON document.
    StatsJson,
}

impl View {
    /// The view for the `--tree`, `--stats` and global `--json` flags.
    pub fn from_flags(tree: bool, stats: bool, json: bool) -> anyhow::Result<View> {
        Ok(match (tree, stats, json) {
            (true, _, true) => bail!("--tree and --json are two different views: pick one"),
            (true, _, false) => View::Tree,
            (false, true, true) => View::StatsJson,
            (false, true, false) => View::Stats,
            (false, false, true) => View::Json,
            (false, false, false) => View::Line,
        })
    }
}

/// Flush the output buffer when it grows past this.
const FLUSH_AT: usize = 256 * 1024;

/// Decode → count → render, into one reused buffer written out in large chunks.
pub struct Printer<W: Write> {
    view: View,
    opts: DecodeOptions,
    names: Names,
    stats: Stats,
    buf: Vec<u8>,
    out: W,
    style: Style,
    warned_links: Vec<LinkType>,
    clock: Option<LocalClock>,
}

impl<W: Write> Printer<W> {
    /// A printer writing `view` to `out`.
    pub fn new(
        view: View,
        opts: DecodeOptions,
        names: Names,
        mtu: u16,
        style: Style,
        out: W,
    ) -> Self {
        Printer {
            view,
            opts,
            names,
            stats: Stats::new(mtu),
            buf: Vec::with_capacity(FLUSH_AT + 64 * 1024),
            out,
            style,
            warned_links: Vec::new(),
            clock: None,
        }
    }

    /// Show times in the local time zone (line and tree views).
    pub fn local_time(mut self) -> Self {
        self.clock = Some(LocalClock::new());
        self
    }

    /// Decode and show one packet (for sources whose frames do not outlive the call, like
    /// live capture). Returns a warning the first time a link type netpath does not decode
    /// shows up.
    pub fn packet(
        &mut self,
        number: u64,
        ts: Timestamp,
        link: LinkType,
        data: &[u8],
        orig_len: u32,
    ) -> std::io::Result<Option<String>> {
        let p = decode::decode(link, data, orig_len, &self.opts);
        self.show(
            &FrameInfo {
                number,
                ts,
                zone: Default::default(),
            },
            &p,
        )
    }

    /// The decode options this printer was made with (for callers using
    /// [`decode::decode_into`] and [`Printer::show`]).
    pub fn options(&self) -> &DecodeOptions {
        &self.opts
    }

    /// Show one decoded packet. Returns a warning the first time a link type netpath does
    /// not decode shows up.
    pub fn show(&mut self, info: &FrameInfo, p: &Packet<'_>) -> std::io::Result<Option<String>> {
        let mut zoned;
        let mut info = info;
        if let Some(clock) = self.clock.as_mut() {
            if matches!(self.view, View::Line | View::Tree) {
                zoned = *info;
                zoned.zone = clock.at(info.ts.sec);
                info = &zoned;
            }
        }
        match self.view {
            View::Line => write_line(&mut self.buf, info, p, &self.names),
            View::Tree => write_tree(&mut self.buf, info, p, &self.names),
            View::Json => write_json(&mut self.buf, info, p, &self.names),
            View::Stats | View::StatsJson => {}
        }
        if matches!(self.view, View::Json | View::Stats | View::StatsJson) {
            self.stats.add(p);
        }
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        let mut warning = None;
        if let Some(StopReason::Unsupported {
            kind: "link-type", ..
        }) = p.stop.map(|s| s.reason)
        {
            if !self.warned_links.contains(&p.link) {
                self.warned_links.push(p.link);
                warning = Some(format!(
                    "packet {}: link type {} is not decoded (shown as raw bytes)",
                    info.number, p.link.0
                ));
            }
        }
        Ok(warning)
    }

    /// Write out what is buffered.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }

    /// Add packets counted elsewhere (by [`crate::decode::pipeline::StatsPool`]'s workers)
    /// to the counters.
    pub fn absorb(&mut self, stats: Stats) {
        self.stats.merge(stats);
    }

    /// The counters so far.
    pub fn stats(&mut self) -> &Stats {
        self.stats.settle();
        &self.stats
    }

    /// Write the closing part of the view (the JSON summary, or the stats tables) and flush.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        self.stats.settle();
        match self.view {
            View::Line | View::Tree => {}
            View::Json => {
                let v = serde_json::json!({
                    "schema": json::schema("decode"),
                    "summary": stats_json(&self.stats, &self.names),
                });
                serde_json::to_writer(&mut self.buf, &v)?;
                self.buf.push(b'\n');
            }
            View::StatsJson => {
                let v = serde_json::json!({
                    "schema": json::schema("decode"),
                    "summary": stats_json(&self.stats, &self.names),
                });
                serde_json::to_writer_pretty(&mut self.buf, &v)?;
                self.buf.push(b'\n');
            }
            View::Stats => {
                self.buf.extend_from_slice(
                    stats_text(&self.stats, &self.names, &self.style).as_bytes(),
                );
            }
        }
        self.flush()?;
        Ok(())
    }
}
