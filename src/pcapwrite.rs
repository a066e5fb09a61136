//! A pcap file writer: the classic libpcap format (magic `a1b2c3d4`, microsecond
//! timestamps, little-endian), any link type. Used by `netpath capture -w`, the test-data
//! and benchmark generators, and tests.

use std::io::{self, Write};
use std::time::Duration;

/// The pcap magic number for microsecond timestamps.
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;

/// The default snaplen written in the file header (what tcpdump uses).
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// Writes a pcap file: the global header on creation, then one record per packet.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
    packets: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Write the global header (version 2.4, `linktype`, `snaplen`) and return the writer.
    pub fn new(mut out: W, linktype: u32, snaplen: u32) -> io::Result<PcapWriter<W>> {
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&MAGIC_MICROS.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0.
        header[16..20].copy_from_slice(&snaplen.to_le_bytes());
        header[20..24].copy_from_slice(&linktype.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter {
            out,
            snaplen,
            packets: 0,
        })
    }

    /// Append one packet captured at `ts` (since the Unix epoch, kept to the microsecond):
    /// `data` as captured (cut to the file's snaplen if longer) and `orig_len`, its length on
    /// the wire.
    pub fn write_packet(&mut self, ts: Duration, data: &[u8], orig_len: u32) -> io::Result<()> {
        let keep = data.len().min(self.snaplen as usize);
        let secs = u32::try_from(ts.as_secs()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "timestamp after 2106 does not fit a pcap record",
            )
        })?;
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&secs.to_le_bytes());
        rec[4..8].copy_from_slice(&ts.subsec_micros().to_le_bytes());
        rec[8..12].copy_from_slice(&(keep as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&orig_len.max(keep as u32).to_le_bytes());
        self.out.write_all(&rec)?;
        self.out.write_all(&data[..keep])?;
        self.packets += 1;
        Ok(())
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Flush the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flush and give back the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout() {
        let mut w = PcapWriter::new(Vec::new(), 276, 65535).unwrap();
        w.write_packet(Duration::new(1_700_000_000, 123_456_789), &[1, 2, 3], 10)
            .unwrap();
        assert_eq!(w.packets(), 1);
        let b = w.into_inner().unwrap();
        assert_eq!(&b[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&b[4..8], &[2, 0, 4, 0]);
        assert_eq!(u32::from_le_bytes(b[16..20].try_into().unwrap()), 65535);
        assert_eq!(u32::from_le_bytes(b[20..24].try_into().unwrap()), 276);
        let rec = &b[24..];
        assert_eq!(
            u32::from_le_bytes(rec[0..4].try_into().unwrap()),
            1_700_000_000
        );
        assert_eq!(u32::from_le_bytes(rec[4..8].try_into().unwrap()), 123_456);
        assert_eq!(u32::from_le_bytes(rec[8..12].try_into().unwrap()), 3);
        assert_eq!(u32::from_le_bytes(rec[12..16].try_into().unwrap()), 10);
        assert_eq!(&rec[16..], &[1, 2, 3]);
    }

    #[test]
    fn longer_than_snaplen_is_cut() {
        let mut w = PcapWriter::new(Vec::new(), 1, 4).unwrap();
        w.write_packet(Duration::ZERO, &[9; 10], 10).unwrap();
        let b = w.into_inner().unwrap();
        assert_eq!(u32::from_le_bytes(b[32..36].try_into().unwrap()), 4);
        assert_eq!(u32::from_le_bytes(b[36..40].try_into().unwrap()), 10);
        assert_eq!(b.len(), 24 + 16 + 4);
    }

    #[test]
    fn libpcap_reads_what_we_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.pcap");
        let file = std::fs::File::create(&path).unwrap();
        let mut w = PcapWriter::new(io::BufWriter::new(file), 1, DEFAULT_SNAPLEN).unwrap();
        w.write_packet(Duration::new(5, 6000), &[0xab; 60], 60)
            .unwrap();
        w.write_packet(Duration::new(7, 0), &[0xcd; 20], 1500)
            .unwrap();
        w.into_inner().unwrap();
        let mut cap = pcap::Capture::from_file(&path).unwrap();
        assert_eq!(cap.get_datalink(), pcap::Linktype(1));
        let p = cap.next_packet().unwrap();
        assert_eq!(p.header.ts.tv_sec, 5);
        assert_eq!(p.header.ts.tv_usec, 6);
        assert_eq!(p.data, &[0xab; 60][..]);
        let p = cap.next_packet().unwrap();
        assert_eq!((p.header.caplen, p.header.len), (20, 1500));
        assert!(cap.next_packet().is_err());
    }
}
