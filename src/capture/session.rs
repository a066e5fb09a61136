//! One capture session: packets read until `-c N`, `--duration` or Ctrl-C, each handed to
//! the caller, and the `-w` pcap file they may also go to. The closing line says why it
//! stopped, like tcpdump's. What is shown of each packet is the caller's business.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::{CaptureStats, LiveCapture, LivePacket, stop};
use crate::pcapwrite::PcapWriter;

/// Why a capture ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `-c N` packets were captured.
    Count,
    /// `--duration` elapsed.
    Duration,
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

/// When to stop, besides Ctrl-C.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// After this many packets.
    pub count: Option<u64>,
    /// After this long.
    pub duration: Option<Duration>,
}

/// Parse `500ms`, `30s`, `2m`, `1h`, or a bare number of seconds (fractions allowed).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (try 30s, 500ms, 2m, 1h)"))?;
    let scale = match unit.trim() {
        "" | "s" | "sec" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {s:?} (use ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(value * scale).map_err(|e| format!("bad duration {s:?}: {e}"))
}

/// The `-w` pcap writer: to `path`, or to standard output for `-`.
pub fn pcap_writer(
    path: &Path,
    linktype: u32,
    snaplen: u32,
) -> anyhow::Result<PcapWriter<Box<dyn Write>>> {
    let out: Box<dyn Write> = if path == Path::new("-") {
        Box::new(BufWriter::new(crate::render::out::Stdout::raw()))
    } else {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Box::new(BufWriter::new(file))
    };
    Ok(PcapWriter::new(out, linktype, snaplen)?)
}

/// Read packets from `cap` until a limit is reached or the user asks to stop: each goes to
/// `each` with its number (from 1), and `each` gets `None` whenever the interface has
/// nothing (to flush output). Returns how many were captured and why it stopped.
pub fn run(
    cap: &mut LiveCapture,
    limits: Limits,
    mut each: impl FnMut(u64, Option<&LivePacket<'_>>) -> anyhow::Result<()>,
) -> anyhow::Result<(u64, StopReason)> {
    let deadline = limits.duration.map(|d| Instant::now() + d);
    let mut captured: u64 = 0;
    loop {
        if stop::requested() {
            return Ok((captured, StopReason::Interrupted));
        }
        if limits.count.is_some_and(|n| captured >= n) {
            return Ok((captured, StopReason::Count));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok((captured, StopReason::Duration));
        }
        match cap.next_packet()? {
            Some(packet) => {
                captured += 1;
                each(captured, Some(&packet))?;
            }
            None => each(captured, None)?,
        }
    }
}

/// The closing line, like tcpdump's: packets captured, received by the filter, dropped by
/// the kernel, and why the capture stopped.
pub fn summary(captured: u64, stats: &CaptureStats, reason: StopReason) -> String {
    format!(
        "{captured} packets captured, {} received by filter, {} dropped by kernel ({})",
        stats.received,
        stats.dropped,
        match reason {
            StopReason::Count => "count reached",
            StopReason::Duration => "duration elapsed",
            StopReason::Interrupted => "interrupted",
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn summary_line() {
        let stats = CaptureStats {
            received: 12,
            dropped: 1,
            if_dropped: 0,
        };
        assert_eq!(
            summary(10, &stats, StopReason::Interrupted),
            "10 packets captured, 12 received by filter, 1 dropped by kernel (interrupted)"
        );
    }
}
