//! `netpath capture`: live capture through libpcap, in any network namespace, shown with
//! the same views as `netpath decode`, optionally written to a pcap file as well.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use crate::capture::{CaptureStats, LiveCapture, LiveOptions, stop};
use crate::cmd::Ctx;
use crate::decode::pipeline::options_from_flags;
use crate::error::Outcome;
use crate::netlink::Netns;
use crate::pcapfile::Timestamp;
use crate::pcapwrite::{DEFAULT_SNAPLEN, PcapWriter};
use crate::render::decode::{Printer, View};
use crate::wire::LinkType;

/// Arguments of `netpath capture`.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Interface to capture on; `any` for every interface of the namespace (Linux cooked v2).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: String,
    /// Capture inside this network namespace (a name under /run/netns or a path such as
    /// /proc/PID/ns/net).
    #[arg(long, value_name = "NAME")]
    pub netns: Option<String>,
    /// Stop after this many packets.
    #[arg(short = 'c', long = "count", value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this long (`30s`, `500ms`, `2m`, `1h`; a bare number is seconds).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Only packets matching this BPF filter (libpcap syntax, as tcpdump: `udp port 8472`).
    #[arg(long, short = 'f', value_name = "BPF")]
    pub filter: Option<String>,
    /// Also write the raw packets to this pcap file (`-` for standard output, which then
    /// carries only the pcap).
    #[arg(short = 'w', long = "write", value_name = "FILE.pcap")]
    pub write: Option<PathBuf>,
    /// Bytes kept per packet.
    #[arg(short = 's', long, value_name = "BYTES", default_value_t = DEFAULT_SNAPLEN)]
    pub snaplen: u32,
    /// Do not put the interface into promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Show every layer and field, indented outer to inner, instead of one line per packet.
    #[arg(long, conflicts_with = "stats")]
    pub tree: bool,
    /// Show counts instead of packets, when the capture stops: per encapsulation, VNI,
    /// outer node pair and inner flow; bad checksums, truncations, packets over the inner
    /// MTU, fragments.
    #[arg(long)]
    pub stats: bool,
    /// Decode this UDP destination port as VXLAN too (besides 4789 and 8472); repeatable.
    #[arg(long = "vxlan-port", value_name = "PORT")]
    pub vxlan_ports: Vec<u16>,
    /// Name addresses from a `kubectl get nodes,pods -A -o json` dump: outer IPs as nodes,
    /// inner IPs as namespace/pod; `--cluster` alone reads them from the Kubernetes API.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    pub cluster: Option<PathBuf>,
    /// Link MTU for the "over the inner MTU" count (inner MTU = this minus the
    /// encapsulation overhead: VXLAN 50, IPIP 20).
    #[arg(long, default_value_t = 1500, value_name = "BYTES")]
    pub mtu: u16,
    /// Do not verify checksums (a capture on the sending host sees offloaded, partial ones).
    #[arg(long)]
    pub no_checksums: bool,
    /// Show times in the local time zone (`TZ`, else /etc/localtime), as tcpdump does,
    /// instead of UTC. JSON times stay UTC.
    #[arg(long)]
    pub local_time: bool,
}

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

/// Run `netpath capture`.
pub fn run(args: CaptureArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let view = View::from_flags(args.tree, args.stats, ctx.json)?;
    let names = super::decode::names(args.cluster.as_deref())?;
    let opts = LiveOptions {
        interface: args.interface.clone(),
        netns: Netns::from_arg(args.netns.as_deref()),
        snaplen: args.snaplen,
        promisc: !args.no_promisc,
        filter: args.filter.clone(),
    };
    let mut cap = LiveCapture::open(&opts)?;
    stop::install().context("installing the Ctrl-C handler")?;
    let link = LinkType(cap.linktype());

    // `-w -`: standard output carries the pcap, nothing else.
    let to_stdout = args.write.as_deref() == Some(Path::new("-"));
    let mut writer = match &args.write {
        None => None,
        Some(_) if to_stdout => Some(PcapWriter::new(
            Box::new(BufWriter::new(crate::render::out::Stdout::raw())) as Box<dyn Write>,
            cap.linktype(),
            args.snaplen,
        )?),
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("creating {}", path.display()))?;
            Some(PcapWriter::new(
                Box::new(BufWriter::new(file)) as Box<dyn Write>,
                cap.linktype(),
                args.snaplen,
            )?)
        }
    };
    let mut printer = (!to_stdout).then(|| {
        let p = Printer::new(
            view,
            options_from_flags(&args.vxlan_ports, args.no_checksums),
            names,
            args.mtu,
            ctx.style,
            crate::render::out::Stdout::raw(),
        );
        if args.local_time { p.local_time() } else { p }
    });

    eprintln!(
        "netpath: capturing on {} (netns {}), link-type {}; Ctrl-C to stop",
        cap.interface(),
        opts.netns.label(),
        link
    );
    // On a terminal each packet shows at once; into a pipe, output goes out in chunks and
    // whenever the interface is idle.
    let flush_each = ctx.style.tty;
    let deadline = args.duration.map(|d| Instant::now() + d);
    let mut captured: u64 = 0;
    let reason = loop {
        if stop::requested() {
            break StopReason::Interrupted;
        }
        if args.count.is_some_and(|n| captured >= n) {
            break StopReason::Count;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break StopReason::Duration;
        }
        let Some(packet) = cap.next_packet()? else {
            if let Some(w) = writer.as_mut() {
                w.flush().context("writing the pcap file")?;
            }
            if let Some(p) = printer.as_mut() {
                p.flush()?;
            }
            continue;
        };
        captured += 1;
        if let Some(w) = writer.as_mut() {
            w.write_packet(packet.ts, packet.data, packet.orig_len)
                .context("writing the pcap file")?;
        }
        if let Some(p) = printer.as_mut() {
            let ts = Timestamp {
                sec: i64::try_from(packet.ts.as_secs()).unwrap_or(i64::MAX),
                nsec: packet.ts.subsec_nanos(),
            };
            let warning = p.packet(captured, ts, link, packet.data, packet.orig_len)?;
            if let Some(w) = warning {
                p.flush()?;
                eprintln!("netpath: {}: warning: {w}", cap.interface());
            }
            if flush_each {
                p.flush()?;
            }
        }
    };
    if let Some(w) = writer {
        w.into_inner().context("writing the pcap file")?;
    }
    if let Some(mut p) = printer {
        p.finish()?;
    }
    let stats = cap.stats().unwrap_or_default();
    eprintln!("netpath: {}", summary(captured, &stats, reason));
    Ok(Outcome::Clean)
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
