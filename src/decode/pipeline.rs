//! Decoding and counting a whole capture fast: `--stats` on several threads
//! ([`StatsPool`]), the cache hints that keep the reader and the workers fed from a
//! memory-mapped file ([`Streamer`], [`prefetch_next`]), and the decode options the
//! command-line flags ask for.

use anyhow::anyhow;

use super::{DecodeOptions, Packet, Stats, StopReason, decode_into};
use crate::pcapfile::Frame;
use crate::wire::LinkType;

/// How far behind the reader the file's pages are released while workers count: far
/// more than the batches in flight can span (a few MB).
pub const RELEASE_LAG: u64 = 16 << 20;

/// Frames per batch handed to a worker.
const BATCH: usize = 1024;

/// What counting hands back: the counts, and the link types that could not be decoded with
/// the first packet number of each.
pub type CountResult = (Stats, Vec<(LinkType, u64)>);

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

    fn count(&mut self, batch: &[Frame<'a>], opts: &DecodeOptions) {
        for (i, f) in batch.iter().enumerate() {
            if let Some(next) = batch.get(i + 2) {
                prefetch_frame(next.data);
            }
            decode_into(&mut self.pkt, f.link, f.data, f.orig_len, opts);
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
    batch: Vec<Frame<'a>>,
    tx: std::sync::mpsc::SyncSender<Vec<Frame<'a>>>,
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
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Frame<'a>>>(workers);
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
    pub fn push(&mut self, frame: Frame<'a>) {
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
pub struct Streamer<'a> {
    file: &'a [u8],
    done: usize,
}

impl<'a> Streamer<'a> {
    /// How far ahead of the reader the file is requested.
    const AHEAD: usize = 32 << 10;

    pub fn new(file: &'a [u8]) -> Self {
        Streamer { file, done: 0 }
    }

    /// The reader is at byte `pos`: request every cache line up to `pos + AHEAD`.
    #[inline]
    pub fn advance(&mut self, pos: usize) {
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
pub fn prefetch_next(data: &[u8]) {
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

/// Decode options from the flags.
pub fn options_from_flags(vxlan_ports: &[u16], no_checksums: bool) -> DecodeOptions {
    let mut opts = DecodeOptions::default();
    for p in vxlan_ports {
        if !opts.vxlan_ports.contains(p) {
            opts.vxlan_ports.push(*p);
        }
    }
    opts.verify_checksums = !no_checksums;
    opts
}
