//! Live capture through libpcap: open an interface (in any network namespace), apply a BPF
//! filter, hand out packets with their timestamps, and stop cleanly on Ctrl-C, a count or a
//! duration ([`session`]), writing them to a pcap file on the way if asked.
//!
//! Files are read elsewhere (a zero-copy reader, faster than libpcap's per-packet read);
//! this module is the live source for `netpath capture`.

pub mod live;
pub mod session;
pub mod stop;

pub use live::{CaptureStats, LiveCapture, LiveOptions, LivePacket};
pub use session::{Limits, StopReason, parse_duration};
