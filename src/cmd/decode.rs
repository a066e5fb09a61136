//! `netpath decode FILE|-`: a capture into layered views, tunnels understood.
//!
//! [`Printer`] is the shared per-packet driver (decode, count, render into one reused
//! buffer, flush in large writes); `netpath capture` feeds it live packets.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, anyhow, bail};

use crate::cmd::Ctx;
use crate::decode::{self, DecodeOptions, Names, Packet, Stats, StopReason};
use crate::error::Outcome;
use crate::pcapfile::{Capture, Filter, Timestamp};
use crate::render::decode::{
    FrameInfo, stats_json, stats_text, write_json, write_line, write_tree,
};
use crate::render::{Style, json};
use crate::wire::LinkType;

/// Arguments of `netpath decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// The capture file (pcap or pcapng), or `-` to read standard input.
    pub file: PathBuf,

    /// Show every layer and field, indented outer to inner, instead of one line per packet.
    #[arg(long, conflicts_with = "stats")]
    pub tree: bool,

    /// Show counts instead of packets: per encapsulation, VNI, outer node pair and inner
    /// flow; bad checksums, truncations, packets over the inner MTU, fragments.
    #[arg(long)]
    pub stats: bool,

    /// Only packets matching this libpcap filter (`udp port 8472`, `host 10.244.1.5`).
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
    clock: Option<crate::render::clock::LocalClock>,
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
        self.clock = Some(crate::render::clock::LocalClock::new());
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

    /// Add packets counted elsewhere (by [`StatsPool`]'s workers) to the counters.
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

/// How far behind the reader the file's pages are released while workers count: far
/// more than the batches in flight can span (a few MB).
const RELEASE_LAG: u64 = 16 << 20;

/// Frames per batch handed to a worker.
const BATCH: usize = 1024;

/// What counting hands back: the counts, and the link types that could not be decoded with
/// the first packet number of each.
type CountResult = (Stats, Vec<(LinkType, u64)>);

/// Decodes and counts batches of frames (on a worker, or on the reading thread).
struct Counter<'a> {
    pkt: Packet<'a>,
    stats: Stats,
    undecoded: Vec<(LinkType, u64)>,
}

impl<'a> Counter<'a> {
    fn new(mtu: u16) -> Self {
        Counter {
            pkt: Packet::new(LinkType::ETHERNET, &[], 0),
            stats: Stats::new(mtu),
            undecoded: Vec::new(),
        }
    }

    fn count(&mut self, batch: &[crate::pcapfile::Frame<'a>], opts: &DecodeOptions) {
        for (i, f) in batch.iter().enumerate() {
            if let Some(next) = batch.get(i + 2) {
                prefetch_frame(next.data);
            }
            decode::decode_into(&mut self.pkt, f.link, f.data, f.orig_len, opts);
            self.stats.add(&self.pkt);
            if let Some(StopReason::Unsupported {
                kind: "link-type", ..
            }) = self.pkt.stop.map(|s| s.reason)
            {
                note_undecoded(&mut self.undecoded, f.link, f.number);
            }
        }
    }

    fn finish(mut self) -> CountResult {
        self.stats.settle();
        (self.stats, self.undecoded)
    }
}

/// Ask the CPU to load every cache line of `data` (a frame decoded two frames later).
#[inline]
fn prefetch_frame(data: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let mut off = 0;
        while off < data.len() {
            // SAFETY: SSE is part of the x86_64 baseline; a prefetch never dereferences
            // the pointer (in bounds here anyway).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(data.as_ptr().wrapping_add(off).cast::<i8>()) };
            off += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

/// Remember the first packet of an undecoded link type.
fn note_undecoded(list: &mut Vec<(LinkType, u64)>, link: LinkType, number: u64) {
    match list.iter_mut().find(|(l, _)| *l == link) {
        Some((_, n)) => *n = (*n).min(number),
        None => list.push((link, number)),
    }
}

/// `--stats` on several threads: the reading thread walks the records (and applies the
/// filter) and hands batches of frames, borrowed from the file, to workers that decode and
/// count into their own [`Stats`]; when every worker is busy it counts the batch itself
/// instead of waiting (so `--threads N` runs N threads, the reader one of them). The counts
/// are merged at the end. Counting does not depend on packet order, so the result is the
/// same as on one thread.
pub struct StatsPool<'scope, 'a> {
    batch: Vec<crate::pcapfile::Frame<'a>>,
    tx: std::sync::mpsc::SyncSender<Vec<crate::pcapfile::Frame<'a>>>,
    workers: Vec<std::thread::ScopedJoinHandle<'scope, CountResult>>,
    own: Counter<'a>,
    opts: &'scope DecodeOptions,
}

impl<'scope, 'a: 'scope> StatsPool<'scope, 'a> {
    /// Start `threads - 1` workers decoding with `opts`, checking inner packets against
    /// `mtu` (the reading thread is the last one).
    pub fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        threads: usize,
        opts: &'scope DecodeOptions,
        mtu: u16,
    ) -> Self {
        let workers = threads.saturating_sub(1).max(1);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<crate::pcapfile::Frame<'a>>>(workers);
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let workers = (0..workers)
            .map(|_| {
                let rx = std::sync::Arc::clone(&rx);
                scope.spawn(move || {
                    let mut counter = Counter::new(mtu);
                    loop {
                        // A poisoned lock means another worker panicked: stop, the join reports it.
                        let batch = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok(batch) = batch else { break };
                        counter.count(&batch, opts);
                    }
                    counter.finish()
                })
            })
            .collect();
        StatsPool {
            batch: Vec::with_capacity(BATCH),
            tx,
            workers,
            own: Counter::new(mtu),
            opts,
        }
    }

    /// Queue one frame (a full batch goes to an idle worker, or is counted here).
    pub fn push(&mut self, frame: crate::pcapfile::Frame<'a>) {
        self.batch.push(frame);
        if self.batch.len() == BATCH {
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            match self.tx.try_send(full) {
                Ok(()) => {}
                // Every worker busy (or gone: finish() reports a panic): count it here.
                Err(
                    std::sync::mpsc::TrySendError::Full(b)
                    | std::sync::mpsc::TrySendError::Disconnected(b),
                ) => self.own.count(&b, self.opts),
            }
        }
    }

    /// Count what is left, wait for the workers and merge their counts. The link types
    /// nobody could decode come back with their first packet number, in file order.
    pub fn finish(self) -> anyhow::Result<CountResult> {
        let StatsPool {
            batch,
            tx,
            workers,
            mut own,
            opts,
        } = self;
        own.count(&batch, opts);
        drop(tx);
        let (mut total, mut undecoded) = own.finish();
        for w in workers {
            let (stats, links) = w
                .join()
                .map_err(|_| anyhow!("a decoding thread panicked (a bug: please report it)"))?;
            total.merge(stats);
            for (link, n) in links {
                note_undecoded(&mut undecoded, link, n);
            }
        }
        undecoded.sort_by_key(|(_, n)| *n);
        Ok((total, undecoded))
    }
}

/// Streams the file through the shared cache ahead of the reading thread when workers
/// decode: the reader only touches record headers, which are a dependent chain of cache
/// misses (the next header's place is known only once this one is read), and the workers
/// then find the packets in the shared cache instead of memory.
struct Streamer<'a> {
    file: &'a [u8],
    done: usize,
}

impl<'a> Streamer<'a> {
    /// How far ahead of the reader the file is requested.
    const AHEAD: usize = 32 << 10;

    fn new(file: &'a [u8]) -> Self {
        Streamer { file, done: 0 }
    }

    /// The reader is at byte `pos`: request every cache line up to `pos + AHEAD`.
    #[inline]
    fn advance(&mut self, pos: usize) {
        let until = (pos + Self::AHEAD).min(self.file.len());
        while self.done < until {
            #[cfg(target_arch = "x86_64")]
            {
                use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
                // SAFETY: SSE is part of the x86_64 baseline, and a prefetch only hints the
                // cache: it never dereferences the pointer (in bounds here anyway).
                unsafe {
                    _mm_prefetch::<_MM_HINT_T1>(
                        self.file.as_ptr().wrapping_add(self.done).cast::<i8>(),
                    )
                };
            }
            self.done += 64;
        }
    }
}

/// Ask the CPU to start loading the next record of a memory-mapped file (its header and
/// the first headers of its packet, which follow `data` in the file) while this packet is
/// decoded: each record is otherwise a cache miss the decoder waits for. A hint only:
/// prefetching never faults, past the end of the map included.
#[inline]
fn prefetch_next(data: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let next = data.as_ptr().wrapping_add(data.len());
        for line in [0, 64, 128] {
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch only hints the
            // cache: it does not dereference the pointer (no fault, whatever it points at).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(next.wrapping_add(line).cast::<i8>()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

/// Load names from `--cluster FILE`, or from the Kubernetes API for `--cluster` alone.
pub fn load_names(path: Option<&PathBuf>) -> anyhow::Result<Names> {
    let Some(path) = path else {
        return Ok(Names::new());
    };
    if path.as_os_str().is_empty() {
        let fetched = crate::kube::fetch(&crate::kube::options())?;
        let text = String::from_utf8_lossy(&fetched.document);
        return Names::from_kubectl_json(&text).with_context(|| fetched.origin.source());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the cluster file {}", path.display()))?;
    Names::from_kubectl_json(&text).with_context(|| format!("{}", path.display()))
}

/// Decode options from the flags.
pub fn options(vxlan_ports: &[u16], no_checksums: bool) -> DecodeOptions {
    let mut opts = DecodeOptions::default();
    for p in vxlan_ports {
        if !opts.vxlan_ports.contains(p) {
            opts.vxlan_ports.push(*p);
        }
    }
    opts.verify_checksums = !no_checksums;
    opts
}

/// Run `netpath decode`.
pub fn run(args: DecodeArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let view = View::from_flags(args.tree, args.stats, ctx.json)?;
    let names = load_names(args.cluster.as_ref())?;
    let mut filter = args.filter.as_deref().map(Filter::new).transpose()?;
    let cap = Capture::open(&args.file)?;
    let name = cap.name().to_string();
    let mut frames = cap.frames().map_err(|e| anyhow!("{name}: {e}"))?;
    let stdout = std::io::stdout();
    let mut printer = Printer::new(
        view,
        options(&args.vxlan_ports, args.no_checksums),
        names,
        args.mtu,
        ctx.style,
        stdout.lock(),
    );
    if args.local_time {
        printer = printer.local_time();
    }
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
                eprintln!("netpath: {name}: warning: {w}");
            }
        }
        let frame = match item {
            Ok(f) => f,
            Err(e) => {
                broken = Some(e);
                break;
            }
        };
        if let Some(f) = filter.as_deref_mut() {
            let pass = f.matches(frame.link, frame.data);
            if f.uncompilable.len() > reported_filter {
                printer.flush()?;
                for (link, e) in &f.uncompilable[reported_filter..] {
                    eprintln!(
                        "netpath: {name}: warning: the filter does not apply to link type {} ({e}); those packets are skipped",
                        link.0
                    );
                }
                reported_filter = f.uncompilable.len();
            }
            if !pass {
                continue;
            }
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
            eprintln!("netpath: {name}: warning: {w}");
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
            eprintln!(
                "netpath: {name}: warning: packet {number}: link type {} is not decoded (counted as undecoded)",
                link.0
            );
        }
    }
    for w in frames.take_warnings() {
        eprintln!("netpath: {name}: warning: {w}");
    }
    printer.finish()?;
    match broken {
        Some(e) => Err(anyhow!(
            "{name}: {e} ({} packets before it were shown)",
            e.packet.saturating_sub(1)
        )),
        None => Ok(Outcome::Clean),
    }
}
