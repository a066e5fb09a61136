//! A capture read as it arrives: standard input, a pipe (`tcpdump -w - | netpath decode -`,
//! `decode <(…)`), a FIFO or a character device. Records are parsed by the same [`Frames`]
//! as a mapped file, from a buffer refilled from the reader only when the next record is
//! not whole in it, so each packet is shown as soon as it has arrived, and memory stays
//! bounded by the largest record.

use std::io::Read;

use super::reader::Frames;
use super::{Frame, ReadError};

/// The most a pcapng block may claim and still be waited for; a larger length is left to
/// the parser to call corrupt.
const MAX_BLOCK: usize = 16 << 20;

/// Bytes asked of the reader at a time.
const CHUNK: usize = 64 << 10;

const PCAPNG_SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// A capture stream: frames borrow its buffer until the next call.
pub struct Stream {
    src: Box<dyn Read + Send>,
    name: String,
    buf: Vec<u8>,
    /// Offset in the stream of `buf[0]`.
    base: u64,
    eof: bool,
    /// The parser's state between calls (its slice is empty while parked).
    frames: Option<Frames<'static>>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").field("name", &self.name).finish()
    }
}

impl Stream {
    /// A stream over `src`, named `name` in messages.
    pub fn new(src: Box<dyn Read + Send>, name: &str) -> Stream {
        Stream {
            src,
            name: name.to_string(),
            buf: Vec::with_capacity(CHUNK),
            base: 0,
            eof: false,
            frames: None,
        }
    }

    /// The name given (`<stdin>`, a path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Read until `buf` holds `n` bytes, or the stream ends.
    fn fill(&mut self, n: usize) -> Result<(), ReadError> {
        while self.buf.len() < n && !self.eof {
            let old = self.buf.len();
            let want = (n - old).max(CHUNK);
            self.buf.resize(old + want, 0);
            let got = loop {
                match self.src.read(&mut self.buf[old..]) {
                    Ok(k) => break k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(old);
                        return Err(ReadError {
                            packet: self.frames.as_ref().map_or(0, |f| f.number() + 1),
                            offset: self.base + old as u64,
                            message: format!("cannot read {}: {e}", self.name),
                        });
                    }
                }
            };
            self.buf.truncate(old + got);
            if got == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// Whether the next record is already whole in the buffer (reading it will not block).
    pub fn next_is_buffered(&self) -> bool {
        match &self.frames {
            None => false,
            Some(f) => {
                let need = self.record_len(f);
                need.is_some_and(|n| self.buf.len() >= f.pos() + n)
            }
        }
    }

    /// How many bytes the record at the parser's position needs, when its header is in
    /// the buffer (`None`: not even the header is).
    fn record_len(&self, f: &Frames<'_>) -> Option<usize> {
        let rest = &self.buf[f.pos().min(self.buf.len())..];
        match f.format() {
            super::Format::Pcap {
                big_endian,
                modified,
                ..
            } => {
                let hdr = if modified { 24 } else { 16 };
                if rest.len() < hdr {
                    return None;
                }
                let b = [rest[8], rest[9], rest[10], rest[11]];
                let caplen = if big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                } as usize;
                Some(hdr + caplen.min(super::MAX_CAPLEN as usize + 1))
            }
            super::Format::PcapNg => {
                if rest.len() < 12 {
                    return None;
                }
                let b = [rest[4], rest[5], rest[6], rest[7]];
                let big = if rest[..4] == PCAPNG_SHB {
                    rest[8..12] == [0x1a, 0x2b, 0x3c, 0x4d]
                } else {
                    f.big_endian()
                };
                let len = if big {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                } as usize;
                Some(len.clamp(12, MAX_BLOCK))
            }
        }
    }

    /// Start: read the file header (pcap: 24 bytes; pcapng: the whole section header).
    fn start(&mut self) -> Result<(), ReadError> {
        self.fill(24)?;
        if self.buf.len() >= 12 && self.buf[..4] == PCAPNG_SHB {
            let b = [self.buf[4], self.buf[5], self.buf[6], self.buf[7]];
            let len = if self.buf[8..12] == [0x1a, 0x2b, 0x3c, 0x4d] {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            } as usize;
            self.fill(len.clamp(12, MAX_BLOCK))?;
        }
        let frames = Frames::new(&self.buf)?;
        self.frames = Some(frames.with_file(&[]));
        Ok(())
    }

    /// The next frame, waiting for it to arrive; `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, ReadError>> {
        if self.frames.is_none()
            && let Err(e) = self.start()
        {
            self.eof = true;
            self.buf.clear();
            self.frames = Some(Frames::ended());
            return Some(Err(e));
        }
        // Drop what was read before (keeping the buffer small), then make sure the next
        // record is whole in it.
        let pos = self.frames.as_ref().map_or(0, |f| f.pos());
        if pos >= CHUNK {
            self.buf.drain(..pos);
            self.base += pos as u64;
            if let Some(f) = self.frames.as_mut() {
                f.set_pos(0);
            }
        }
        loop {
            let f = self.frames.as_ref()?;
            let pos = f.pos();
            let need = match self.record_len(f) {
                Some(n) => pos + n,
                None => pos + 24,
            };
            if self.buf.len() >= need || self.eof {
                break;
            }
            if let Err(e) = self.fill(need) {
                self.eof = true;
                return Some(Err(e));
            }
            if self.eof {
                break;
            }
        }
        let parked = self.frames.take()?;
        let mut frames = parked.with_file(&self.buf);
        let item = frames.next();
        self.frames = Some(frames.with_file(&[]));
        let base = self.base;
        item.map(|r| {
            r.map(|mut f| {
                f.offset += base;
                f
            })
            .map_err(|mut e| {
                e.offset += base;
                e
            })
        })
    }

    /// Warnings the parser collected so far, emptied.
    pub fn take_warnings(&mut self) -> Vec<String> {
        self.frames
            .as_mut()
            .map(|f| f.take_warnings())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its bytes a few at a time, as a pipe does.
    struct Trickle(Vec<u8>, usize, usize);

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.2.min(out.len()).min(self.0.len() - self.1);
            out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    /// (number, offset, bytes) of each frame read.
    type Frames = Vec<(u64, u64, Vec<u8>)>;

    fn all(bytes: &[u8], step: usize) -> (Frames, Option<String>) {
        let mut s = Stream::new(Box::new(Trickle(bytes.to_vec(), 0, step)), "t");
        let mut out = Vec::new();
        let mut err = None;
        while let Some(item) = s.next_frame() {
            match item {
                Ok(f) => out.push((f.number, f.offset, f.data.to_vec())),
                Err(e) => {
                    err = Some(e.to_string());
                    break;
                }
            }
        }
        (out, err)
    }

    #[test]
    fn a_stream_reads_the_same_frames_as_the_file_in_any_pieces() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        for name in [
            "flannel-vxlan-8472.pcap",
            "misc-tunnels.pcap",
            "truncated-snaplen96.pcap",
        ] {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            let cap = super::super::Capture::from_bytes(bytes.clone(), name);
            let want: Vec<_> = cap
                .frames()
                .unwrap()
                .map(|f| {
                    f.map(|f| (f.number, f.offset, f.data.to_vec()))
                        .map_err(|e| e.to_string())
                })
                .collect();
            for step in [1, 7, 100, 1 << 20] {
                let (got, err) = all(&bytes, step);
                let ok: Vec<_> = want
                    .iter()
                    .filter_map(|r| r.as_ref().ok().cloned())
                    .collect();
                assert_eq!(got, ok, "{name} in pieces of {step}");
                assert_eq!(
                    err,
                    want.iter().find_map(|r| r.as_ref().err().cloned()),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn a_stream_that_is_not_a_capture_fails_at_once() {
        let (frames, err) = all(&[0u8; 100], 10);
        assert!(frames.is_empty());
        assert!(err.unwrap().contains("not a pcap"));
        let (_, err) = all(&[], 10);
        assert!(err.unwrap().contains("0 bytes"));
    }
}
