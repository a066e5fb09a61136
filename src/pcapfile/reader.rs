//! The record iterator for pcap and pcapng.

use pcap_parser::nom;
use pcap_parser::pcapng::{Block, parse_block_be, parse_block_le, parse_sectionheaderblock};
use pcap_parser::{PcapError, build_ts_resolution};

use super::{Frame, MAX_CAPLEN, ReadError, Timestamp};
use crate::wire::LinkType;

/// The file format, from the file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap.
    Pcap {
        /// Big-endian headers.
        big_endian: bool,
        /// Nanosecond timestamps (magic a1b23c4d).
        nanosecond: bool,
        /// The "modified" (Kuznetzov) format with 24-byte record headers.
        modified: bool,
        /// Snapshot length from the file header.
        snaplen: u32,
        /// Link type of every packet.
        link: LinkType,
    },
    /// pcapng (any number of sections and interfaces).
    PcapNg,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second.
    resolution: u64,
    /// Seconds added to every timestamp.
    offset: i64,
}

/// Iterator over the packets of a capture, in file order. Yields `Err` once when the file
/// breaks partway, then ends. Non-fatal oddities (a header snaplen of 0, a packet longer
/// than the snaplen) are collected in [`Frames::take_warnings`].
#[derive(Debug)]
pub struct Frames<'a> {
    file: &'a [u8],
    pos: usize,
    number: u64,
    format: Format,
    big_endian: bool,
    interfaces: Vec<Interface>,
    warnings: Vec<String>,
    warned_snaplen: bool,
    done: bool,
}

const PCAPNG_SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

impl<'a> Frames<'a> {
    pub(super) fn new(file: &'a [u8]) -> Result<Frames<'a>, ReadError> {
        let header_err = |message: String| ReadError {
            packet: 0,
            offset: 0,
            message,
        };
        if file.len() < 4 {
            return Err(header_err(format!(
                "not a capture file: {} bytes, too short for a pcap or pcapng header",
                file.len()
            )));
        }
        let mut frames = Frames {
            file,
            pos: 0,
            number: 0,
            format: Format::PcapNg,
            big_endian: false,
            interfaces: Vec::new(),
            warnings: Vec::new(),
            warned_snaplen: false,
            done: false,
        };
        if file[..4] == PCAPNG_SHB {
            // Blocks are read in next(); check the first section header right away.
            match parse_sectionheaderblock(file) {
                Ok((_, shb)) => frames.big_endian = shb.big_endian(),
                Err(e) => {
                    return Err(header_err(format!(
                        "pcapng section header unreadable: {}",
                        nom_message(&e)
                    )));
                }
            }
            return Ok(frames);
        }
        let magic = u32::from_le_bytes([file[0], file[1], file[2], file[3]]);
        if !matches!(
            magic,
            0xa1b2_c3d4 | 0xa1b2_3c4d | 0xa1b2_cd34 | 0xd4c3_b2a1 | 0x4d3c_b2a1 | 0x34cd_b2a1
        ) {
            return Err(header_err(format!(
                "not a pcap or pcapng file (first bytes {:02x} {:02x} {:02x} {:02x})",
                file[0], file[1], file[2], file[3]
            )));
        }
        if file.len() < 24 {
            return Err(header_err(format!(
                "truncated pcap file header: {} of 24 bytes",
                file.len()
            )));
        }
        // The 24-byte file header, read in place: magic (its byte order gives the file's,
        // its value the precision and the "modified" format), version, zone, sigfigs,
        // snaplen, link type. Both byte orders of every magic are accepted, as by libpcap.
        let big_endian = matches!(magic, 0xd4c3_b2a1 | 0x4d3c_b2a1 | 0x34cd_b2a1);
        let rd = |o: usize| read_u32(file, o, big_endian);
        let native = rd(0);
        let header_snaplen = rd(16);
        let network = rd(20);
        let mut snaplen = header_snaplen;
        if snaplen == 0 || snaplen > MAX_CAPLEN {
            frames.warnings.push(format!(
                "file header: snaplen {header_snaplen} is invalid; reading packets up to {MAX_CAPLEN} bytes as libpcap does"
            ));
            snaplen = MAX_CAPLEN;
        }
        frames.big_endian = big_endian;
        frames.format = Format::Pcap {
            big_endian,
            nanosecond: native == 0xa1b2_3c4d,
            modified: native == 0xa1b2_cd34,
            snaplen,
            link: LinkType(network & 0x03ff_ffff),
        };
        frames.pos = 24;
        Ok(frames)
    }

    /// The file format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Packets read so far.
    pub(super) fn number(&self) -> u64 {
        self.number
    }

    /// Where the next record starts, in the slice being read.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Move the reading position (the stream dropped the bytes before it).
    pub(super) fn set_pos(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// The byte order of the current pcapng section (or pcap file).
    pub(super) fn big_endian(&self) -> bool {
        self.big_endian
    }

    /// The same reader (position, interfaces, counts, warnings) over another slice: a
    /// stream parks its reader on an empty slice between records and resumes it on its
    /// refilled buffer.
    pub(super) fn with_file<'b>(self, file: &'b [u8]) -> Frames<'b> {
        Frames {
            file,
            pos: self.pos,
            number: self.number,
            format: self.format,
            big_endian: self.big_endian,
            interfaces: self.interfaces,
            warnings: self.warnings,
            warned_snaplen: self.warned_snaplen,
            done: self.done,
        }
    }

    /// A reader that has ended (after a failed start).
    pub(super) fn ended() -> Frames<'static> {
        Frames {
            file: &[],
            pos: 0,
            number: 0,
            format: Format::PcapNg,
            big_endian: false,
            interfaces: Vec::new(),
            warnings: Vec::new(),
            warned_snaplen: false,
            done: true,
        }
    }

    /// Warnings collected so far (the caller prints them), emptied.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Whether there are warnings to take.
    pub fn has_warnings(&self) -> bool {
        !self.warnings.is_empty()
    }

    fn fail(&mut self, offset: usize, message: String) -> Option<Result<Frame<'a>, ReadError>> {
        self.done = true;
        Some(Err(ReadError {
            packet: self.number,
            offset: offset as u64,
            message,
        }))
    }

    fn check_caplen(&mut self, offset: usize, caplen: u32, snaplen: u32) -> Result<(), String> {
        if caplen > MAX_CAPLEN {
            return Err(format!(
                "captured length {caplen} exceeds the largest libpcap accepts ({MAX_CAPLEN}): the record header is corrupt"
            ));
        }
        if caplen > snaplen && !self.warned_snaplen {
            self.warned_snaplen = true;
            self.warnings.push(format!(
                "packet {} at byte {offset}: captured length {caplen} exceeds the file's snaplen {snaplen} (decoded anyway, as libpcap does)",
                self.number
            ));
        }
        Ok(())
    }

    fn next_pcap(
        &mut self,
        big_endian: bool,
        nanosecond: bool,
        modified: bool,
        snaplen: u32,
        link: LinkType,
    ) -> Option<Result<Frame<'a>, ReadError>> {
        let start = self.pos;
        let rest = &self.file[start..];
        if rest.is_empty() {
            return None;
        }
        self.number += 1;
        let hdr_len = if modified { 24 } else { 16 };
        if rest.len() < hdr_len {
            return self.fail(
                start,
                format!(
                    "{} bytes of garbage after the last packet (a record header needs {hdr_len})",
                    rest.len()
                ),
            );
        }
        let rd = |o: usize| read_u32(rest, o, big_endian);
        let caplen = rd(8);
        if let Err(m) = self.check_caplen(start, caplen, snaplen) {
            return self.fail(start, m);
        }
        if rest.len() - hdr_len < caplen as usize {
            return self.fail(
                start,
                format!(
                    "captured length {caplen} runs past the end of the file ({} bytes left): the file is cut or corrupt",
                    rest.len() - hdr_len
                ),
            );
        }
        // The record header read in place (the hot path of every file read): seconds,
        // fraction, captured and original lengths; the modified format's 8 more bytes
        // (interface index, protocol, packet type) are skipped.
        let (ts_sec, ts_frac, orig_len) = (rd(0), rd(4), rd(12));
        let data = &rest[hdr_len..hdr_len + caplen as usize];
        self.pos = start + hdr_len + caplen as usize;
        let nsec = if nanosecond {
            ts_frac.min(999_999_999)
        } else {
            ts_frac.min(999_999).saturating_mul(1000)
        };
        Some(Ok(Frame {
            number: self.number,
            offset: start as u64,
            link,
            interface: 0,
            ts: Timestamp {
                sec: i64::from(ts_sec),
                nsec,
            },
            orig_len,
            data,
        }))
    }

    fn next_pcapng(&mut self) -> Option<Result<Frame<'a>, ReadError>> {
        loop {
            let start = self.pos;
            let rest = &self.file[start..];
            if rest.is_empty() {
                return None;
            }
            if rest.len() < 12 {
                self.number += 1;
                return self.fail(
                    start,
                    format!(
                        "{} bytes of garbage after the last block (a block needs at least 12)",
                        rest.len()
                    ),
                );
            }
            if rest[..4] != PCAPNG_SHB {
                // pcap-parser subtracts the 12 bytes of type and both lengths from some
                // blocks' length unchecked (an overflow on a shorter one): refuse it here.
                let b = [rest[4], rest[5], rest[6], rest[7]];
                let len = if self.big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                };
                if len < 12 {
                    self.number += 1;
                    return self.fail(
                        start,
                        format!(
                            "block length {len} is below the minimum of 12: the file is corrupt"
                        ),
                    );
                }
            }
            let parsed = if rest[..4] == PCAPNG_SHB {
                parse_sectionheaderblock(rest).map(|(r, b)| (r, Block::SectionHeader(b)))
            } else if self.big_endian {
                parse_block_be(rest)
            } else {
                parse_block_le(rest)
            };
            let (remaining, block) = match parsed {
                Ok(v) => v,
                Err(e) => {
                    self.number += 1;
                    let m = match e {
                        nom::Err::Incomplete(_) => {
                            "block runs past the end of the file: the file is cut or corrupt"
                                .to_string()
                        }
                        e => format!("unreadable block: {}", nom_message(&e)),
                    };
                    return self.fail(start, m);
                }
            };
            let consumed = rest.len() - remaining.len();
            if consumed == 0 {
                self.number += 1;
                return self.fail(start, "empty block".to_string());
            }
            self.pos = start + consumed;
            match block {
                Block::SectionHeader(shb) => {
                    self.big_endian = shb.big_endian();
                    self.interfaces.clear();
                }
                Block::InterfaceDescription(idb) => {
                    let link = u32::try_from(idb.linktype.0).unwrap_or(u32::MAX);
                    self.interfaces.push(Interface {
                        link: LinkType(link),
                        snaplen: if idb.snaplen == 0 || idb.snaplen > MAX_CAPLEN {
                            MAX_CAPLEN
                        } else {
                            idb.snaplen
                        },
                        resolution: build_ts_resolution(idb.if_tsresol).unwrap_or(1_000_000),
                        offset: idb.if_tsoffset,
                    });
                }
                Block::EnhancedPacket(epb) => {
                    self.number += 1;
                    let Some(iface) = self.interfaces.get(epb.if_id as usize).copied() else {
                        return self.fail(
                            start,
                            format!(
                                "packet refers to interface {} but the section describes {}",
                                epb.if_id,
                                self.interfaces.len()
                            ),
                        );
                    };
                    if let Err(m) = self.check_caplen(start, epb.caplen, iface.snaplen) {
                        return self.fail(start, m);
                    }
                    let data = &epb.data[..(epb.caplen as usize).min(epb.data.len())];
                    let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                    let res = iface.resolution.max(1);
                    let sec = (units / res) as i64 + iface.offset;
                    let nsec = ((u128::from(units % res) * 1_000_000_000) / u128::from(res)) as u32;
                    return Some(Ok(Frame {
                        number: self.number,
                        offset: start as u64,
                        link: iface.link,
                        interface: epb.if_id,
                        ts: Timestamp { sec, nsec },
                        orig_len: epb.origlen,
                        data,
                    }));
                }
                Block::SimplePacket(spb) => {
                    self.number += 1;
                    let Some(iface) = self.interfaces.first().copied() else {
                        return self.fail(
                            start,
                            "simple packet block before any interface description".to_string(),
                        );
                    };
                    let caplen = (spb.origlen as usize)
                        .min(spb.data.len())
                        .min(iface.snaplen as usize);
                    return Some(Ok(Frame {
                        number: self.number,
                        offset: start as u64,
                        link: iface.link,
                        interface: 0,
                        ts: Timestamp::default(),
                        orig_len: spb.origlen,
                        data: &spb.data[..caplen],
                    }));
                }
                _ => {}
            }
        }
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.format {
            Format::Pcap {
                big_endian,
                nanosecond,
                modified,
                snaplen,
                link,
            } => self.next_pcap(big_endian, nanosecond, modified, snaplen, link),
            Format::PcapNg => self.next_pcapng(),
        }
    }
}

/// The u32 at `o` in the file's byte order (the caller checked the length).
#[inline]
fn read_u32(b: &[u8], o: usize, big_endian: bool) -> u32 {
    let w = [b[o], b[o + 1], b[o + 2], b[o + 3]];
    if big_endian {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    }
}

fn nom_message(e: &nom::Err<PcapError<&[u8]>>) -> String {
    match e {
        nom::Err::Incomplete(n) => format!("incomplete ({n:?})"),
        nom::Err::Error(p) | nom::Err::Failure(p) => match p {
            PcapError::HeaderNotRecognized => "header not recognized".to_string(),
            PcapError::NomError(_, kind) => format!("parse error ({kind:?})"),
            PcapError::OwnedNomError(_, kind) => format!("parse error ({kind:?})"),
            other => format!("{other:?}"),
        },
    }
}
