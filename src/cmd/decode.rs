//! `netpath decode FILE|-`: a capture into layered views, tunnels understood.
//!
//! Gather (open the file, walk its records, apply the filter) → compute (decode, or count
//! on a [`StatsPool`]) → render (the [`Printer`] of the chosen view).

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;

use crate::cmd::Ctx;
use crate::decode::pipeline::{
    RELEASE_LAG, StatsPool, Streamer, options_from_flags, prefetch_next,
};
use crate::decode::{self, DecodeOptions, Names, Packet};
use crate::error::Outcome;
use crate::pcapfile::{Capture, Filter};
use crate::render::decode::{FrameInfo, Printer, View};
use crate::wire::LinkType;

/// Arguments of `netpath decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// The capture file (pcap or pcapng), or `-` to read standard input.
    #[arg(required_unless_present = "read", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// The capture file, as tcpdump's -r (the same as giving it without a flag).
    #[arg(
        short = 'r',
        long = "read",
        value_name = "FILE",
        conflicts_with = "file"
    )]
    pub read: Option<PathBuf>,

    /// Show every layer and field, indented outer to inner, instead of one line per packet.
    #[arg(long, conflicts_with = "stats")]
    pub tree: bool,

    /// Show counts instead of packets: per encapsulation, VNI, outer node pair and inner
    /// flow; bad checksums, truncations, packets over the inner MTU, fragments.
    #[arg(long)]
    pub stats: bool,

    /// Only packets matching this libpcap filter (`udp port 8472`, `host 10.244.1.5`). It
    /// sees the outer headers, as tcpdump: on VXLAN and IPIP, the node-to-node packet.
    #[arg(long, short = 'f', value_name = "EXPR")]
    pub filter: Option<String>,

    /// Decode this UDP destination port as VXLAN too (besides 4789 and 8472); repeatable.
    #[arg(long = "vxlan-port", value_name = "PORT")]
    pub vxlan_ports: Vec<u16>,

    /// Name addresses from a `kubectl get nodes,pods -A -o json` dump: outer IPs as nodes,
    /// inner IPs as namespace/pod; `--cluster` alone reads them from the Kubernetes API.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    pub cluster: Option<PathBuf>,

    /// Stop after this many packets (after the filter).
    #[arg(long, short = 'c', value_name = "N")]
    pub count: Option<u64>,

    /// Link MTU for the "over the inner MTU" count (inner MTU = this minus the
    /// encapsulation overhead: VXLAN 50, IPIP 20).
    #[arg(long, default_value_t = 1500, value_name = "BYTES")]
    pub mtu: u16,

    /// Do not verify checksums.
    #[arg(long)]
    pub no_checksums: bool,

    /// Show times in the local time zone (`TZ`, else /etc/localtime), as tcpdump does,
    /// instead of UTC. JSON times stay UTC.
    #[arg(long)]
    pub local_time: bool,

    /// Threads that decode and count for `--stats` (default: the CPUs available, at most
    /// 8; 1 counts on the reading thread). The other views print in file order on one thread.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

/// Run `netpath decode`.
pub fn run(args: DecodeArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let view = View::from_flags(args.tree, args.stats, ctx.json)?;
    let names = names(args.cluster.as_deref())?;
    let mut filter = args.filter.as_deref().map(Filter::new).transpose()?;
    let Some(file) = args.read.as_ref().or(args.file.as_ref()) else {
        anyhow::bail!("decode needs a capture file: FILE, -r FILE, or - for standard input");
    };
    let mut cap = Capture::open(file)?;
    let stream = cap.take_stream();
    let name = cap.name().to_string();
    let mut printer = Printer::new(
        view,
        options_from_flags(&args.vxlan_ports, args.no_checksums),
        names,
        args.mtu,
        ctx.style,
        crate::render::out::Stdout::raw(),
    );
    if args.local_time {
        printer = printer.local_time();
    }
    if let Some(stream) = stream {
        return read_stream(stream, filter.as_mut(), &mut printer, &args);
    }
    let mut frames = cap.frames().map_err(|e| anyhow!("{name}: {e}"))?;
    let opts = printer.options().clone();
    let threads = match view {
        View::Stats | View::StatsJson => args.threads.map_or_else(default_threads, usize::from),
        _ => 1,
    };
    std::thread::scope(|scope| {
        let pool = (threads > 1).then(|| StatsPool::start(scope, threads, &opts, args.mtu));
        read_frames(
            &cap,
            &mut frames,
            filter.as_mut(),
            &mut printer,
            pool,
            &args,
            &opts,
        )
    })
}

/// The reading loop for a stream (standard input, a pipe, a FIFO): each packet is shown as
/// soon as it has arrived; the output is flushed whenever the next one is not here yet.
fn read_stream<W: Write>(
    mut stream: crate::pcapfile::Stream,
    mut filter: Option<&mut Filter>,
    printer: &mut Printer<W>,
    args: &DecodeArgs,
) -> anyhow::Result<Outcome> {
    let name = stream.name().to_string();
    let mut shown = 0u64;
    let mut reported_filter = 0usize;
    let mut broken = None;
    loop {
        if !stream.next_is_buffered() {
            printer.flush()?;
        }
        let Some(item) = stream.next_frame() else {
            break;
        };
        let frame = match item {
            Ok(f) => f,
            Err(e) => {
                broken = Some(e);
                break;
            }
        };
        if !passes(
            filter.as_deref_mut(),
            &frame,
            printer,
            &name,
            &mut reported_filter,
        )? {
            continue;
        }
        let warning = printer.packet(
            frame.number,
            frame.ts,
            frame.link,
            frame.data,
            frame.orig_len,
        )?;
        if let Some(w) = warning {
            printer.flush()?;
            crate::diag!("netpath: {name}: warning: {w}");
        }
        let warnings = stream.take_warnings();
        if !warnings.is_empty() {
            printer.flush()?;
            for w in warnings {
                crate::diag!("netpath: {name}: warning: {w}");
            }
        }
        shown += 1;
        if args.count.is_some_and(|c| shown >= c) {
            break;
        }
    }
    for w in stream.take_warnings() {
        crate::diag!("netpath: {name}: warning: {w}");
    }
    printer.finish()?;
    report_no_match(filter.as_deref(), shown, &name);
    match broken {
        Some(e) if e.packet == 0 => Err(anyhow!("{name}: {e}")),
        Some(e) => Err(anyhow!(
            "{name}: {e} ({} packets before it were shown)",
            e.packet.saturating_sub(1)
        )),
        None => Ok(Outcome::Clean),
    }
}

/// Whether `frame` passes the filter (true without one). The first time the filter meets a
/// link type it cannot be compiled for, says so once: those packets are skipped.
fn passes<W: Write>(
    filter: Option<&mut Filter>,
    frame: &crate::pcapfile::Frame<'_>,
    printer: &mut Printer<W>,
    name: &str,
    reported: &mut usize,
) -> anyhow::Result<bool> {
    let Some(f) = filter else {
        return Ok(true);
    };
    let pass = f.matches(frame.link, frame.data);
    if f.uncompilable.len() > *reported {
        printer.flush()?;
        for (link, e) in &f.uncompilable[*reported..] {
            crate::diag!(
                "netpath: {name}: warning: the filter does not apply to link type {} ({e}); those packets are skipped",
                link.0
            );
        }
        *reported = f.uncompilable.len();
    }
    Ok(pass)
}

/// A filter that let nothing through is worth a word: it sees the outer headers only.
fn report_no_match(filter: Option<&Filter>, shown: u64, name: &str) {
    if let Some(f) = filter.filter(|_| shown == 0) {
        crate::diag!(
            "netpath: {name}: no packet matched --filter {:?}: it sees the outer headers, as tcpdump (of VXLAN and IPIP packets, the node-to-node packet, not the pod-to-pod one inside)",
            f.expr()
        );
    }
}

/// The CPUs this process may use, at most 8 (the default of `--threads`).
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// The reading loop of `netpath decode`: every frame of the file, filtered, decoded and
/// shown by `printer`, or handed to `pool` to be counted there.
fn read_frames<'s, 'a: 's, W: Write>(
    cap: &'a Capture,
    frames: &mut crate::pcapfile::Frames<'a>,
    mut filter: Option<&mut Filter>,
    printer: &mut Printer<W>,
    mut pool: Option<StatsPool<'s, 'a>>,
    args: &DecodeArgs,
    opts: &DecodeOptions,
) -> anyhow::Result<Outcome> {
    let name = cap.name();
    let mut pkt = Packet::new(LinkType::ETHERNET, &[], 0);
    let mut streamer = Streamer::new(cap.bytes());
    let mut shown = 0u64;
    let mut reported_filter = 0usize;
    let mut broken = None;
    while let Some(item) = frames.next() {
        if frames.has_warnings() {
            printer.flush()?;
            for w in frames.take_warnings() {
                crate::diag!("netpath: {name}: warning: {w}");
            }
        }
        let frame = match item {
            Ok(f) => f,
            Err(e) => {
                broken = Some(e);
                break;
            }
        };
        if !passes(
            filter.as_deref_mut(),
            &frame,
            printer,
            name,
            &mut reported_filter,
        )? {
            continue;
        }
        if let Some(pool) = pool.as_mut() {
            // The workers are at most a few batches behind the reader.
            cap.release_before(frame.offset.saturating_sub(RELEASE_LAG));
            streamer.advance(frame.offset as usize + frame.data.len());
            pool.push(frame);
            shown += 1;
            if args.count.is_some_and(|c| shown >= c) {
                break;
            }
            continue;
        }
        cap.release_before(frame.offset);
        prefetch_next(frame.data);
        decode::decode_into(&mut pkt, frame.link, frame.data, frame.orig_len, opts);
        let info = FrameInfo {
            number: frame.number,
            ts: frame.ts,
            zone: Default::default(),
        };
        if let Some(w) = printer.show(&info, &pkt)? {
            printer.flush()?;
            crate::diag!("netpath: {name}: warning: {w}");
        }
        shown += 1;
        if args.count.is_some_and(|c| shown >= c) {
            break;
        }
    }
    if let Some(pool) = pool {
        let (stats, undecoded_links) = pool.finish()?;
        printer.absorb(stats);
        for (link, number) in undecoded_links {
            crate::diag!(
                "netpath: {name}: warning: packet {number}: link type {} is not decoded (counted as undecoded)",
                link.0
            );
        }
    }
    for w in frames.take_warnings() {
        crate::diag!("netpath: {name}: warning: {w}");
    }
    printer.finish()?;
    report_no_match(filter.as_deref(), shown, name);
    match broken {
        Some(e) => Err(anyhow!(
            "{name}: {e} ({} packets before it were shown)",
            e.packet.saturating_sub(1)
        )),
        None => Ok(Outcome::Clean),
    }
}

/// The names for `--cluster FILE`; for `--cluster` alone, read from the Kubernetes API.
pub fn names(cluster: Option<&std::path::Path>) -> anyhow::Result<Names> {
    match cluster {
        Some(p) if p.as_os_str().is_empty() => {
            let fetched = crate::kube::fetch(&crate::kube::options())?;
            let text = String::from_utf8_lossy(&fetched.document);
            Names::from_kubectl_json(&text)
                .map_err(|e| anyhow!("{}: {e:#}", fetched.origin.source()))
        }
        other => Names::load(other),
    }
}
