//! Zero-copy reader of pcap and pcapng files: the file is memory-mapped and every [`Frame`]
//! borrows its bytes from it; standard input, pipes and FIFOs are read as they arrive
//! ([`Stream`]). pcap-parser
//! parses the records; this module checks them the way libpcap does and turns every
//! problem into a message with the packet number and the byte offset.
//!
//! ```no_run
//! use netpath::pcapfile::Capture;
//! let cap = Capture::open("trace.pcap".as_ref())?;
//! for frame in cap.frames()? {
//!     let frame = frame?;
//!     println!("{} {} bytes", frame.number, frame.data.len());
//! }
//! # Ok::<(), anyhow::Error>(())
//! ```

mod filter;
mod reader;
mod stream;

pub use filter::Filter;

pub use reader::{Format, Frames};
pub use stream::Stream;

use std::fmt;
use std::path::Path;

use crate::wire::LinkType;

/// libpcap's largest accepted captured length (`MAXIMUM_SNAPLEN`).
pub const MAX_CAPLEN: u32 = 262_144;

/// A capture file's bytes, memory-mapped; or a stream (standard input, a pipe, a FIFO)
/// read as it arrives.
pub struct Capture {
    bytes: Bytes,
    name: String,
    released: std::cell::Cell<usize>,
    stream: Option<Stream>,
}

enum Bytes {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture")
            .field("name", &self.name)
            .field("len", &self.bytes().len())
            .finish()
    }
}

impl Capture {
    /// Open `path`: a regular file is memory-mapped; `-` (standard input), a pipe
    /// (`/dev/stdin`, `<(…)`), a FIFO or a character device is a [`Stream`], read as it
    /// arrives (take it with [`Capture::take_stream`]). A directory is refused.
    pub fn open(path: &Path) -> anyhow::Result<Capture> {
        if path == Path::new("-") {
            return Ok(Capture::streaming(Stream::new(
                Box::new(std::io::stdin()),
                "<stdin>",
            )));
        }
        let name = path.display().to_string();
        let (file, meta) = crate::input::open_any(path, "capture")?;
        if meta.is_dir() {
            anyhow::bail!("{name} is a directory, not a capture file");
        }
        if !meta.is_file() {
            return Ok(Capture::streaming(Stream::new(Box::new(file), &name)));
        }
        if meta.len() == 0 {
            return Ok(Capture::from_bytes(Vec::new(), &name));
        }
        // Truncation while mapped (tcpdump -C/-W ring files) is caught: a message and exit
        // 2, not a silent death by SIGBUS (see crate::input::map_file).
        let map = crate::input::map_file(&file, &format!("capture {name}"))?;
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(Capture {
            bytes: Bytes::Map(map),
            name,
            released: std::cell::Cell::new(0),
            stream: None,
        })
    }

    fn streaming(stream: Stream) -> Capture {
        Capture {
            bytes: Bytes::Owned(Vec::new()),
            name: stream.name().to_string(),
            released: std::cell::Cell::new(0),
            stream: Some(stream),
        }
    }

    /// The stream, when the capture is one (read it with [`Stream::next_frame`]; `frames` then
    /// sees no bytes).
    pub fn take_stream(&mut self) -> Option<Stream> {
        self.stream.take()
    }

    /// A capture held in memory (tests, standard input).
    pub fn from_bytes(bytes: Vec<u8>, name: &str) -> Capture {
        Capture {
            bytes: Bytes::Owned(bytes),
            name: name.to_string(),
            released: std::cell::Cell::new(0),
            stream: None,
        }
    }

    /// The file name (or `<stdin>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Map(m) => m,
            Bytes::Owned(v) => v,
        }
    }

    /// Tell the kernel the bytes before `offset` are done with, so that the process's
    /// resident memory stays flat however large the file (the pages stay in the page
    /// cache). Cheap to call per packet: acts once per 64 MiB.
    pub fn release_before(&self, offset: u64) {
        const STEP: usize = 64 << 20;
        if let Bytes::Map(m) = &self.bytes {
            let end = (offset as usize).min(m.len()) & !(STEP - 1);
            let done = self.released.get();
            if end >= done + STEP {
                // SAFETY: the map is a read-only, shared, file-backed mapping: after
                // MADV_DONTNEED a later access re-reads the same bytes from the file (page
                // cache), so slices still borrowed from this range stay valid and unchanged.
                let _ = unsafe {
                    m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, done, end - done)
                };
                self.released.set(end);
            }
        }
    }

    /// Read the file header and iterate over the packets. Fails when the file cannot be
    /// read at all (not a pcap/pcapng, truncated file header).
    pub fn frames(&self) -> Result<Frames<'_>, ReadError> {
        Frames::new(self.bytes())
    }
}

/// A packet timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    pub sec: i64,
    /// Nanoseconds.
    pub nsec: u32,
}

/// One packet record, borrowing its bytes from the capture.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based packet number.
    pub number: u64,
    /// Byte offset of the record (its header) in the file.
    pub offset: u64,
    /// The link type of the interface the packet was captured on.
    pub link: LinkType,
    /// The pcapng interface index (0 for pcap).
    pub interface: u32,
    /// Capture time.
    pub ts: Timestamp,
    /// Length on the wire.
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// A problem reading the file, located by packet number and byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The packet number being read (1-based; 0 for the file header).
    pub packet: u64,
    /// The byte offset in the file.
    pub offset: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.packet == 0 {
            write!(f, "file header at byte {}: {}", self.offset, self.message)
        } else {
            write!(
                f,
                "packet {} at byte {}: {}",
                self.packet, self.offset, self.message
            )
        }
    }
}

impl std::error::Error for ReadError {}
