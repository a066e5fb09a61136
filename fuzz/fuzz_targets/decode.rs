//! Fuzz the decoder: arbitrary bytes as a frame of every link type netpath decodes (the
//! first input byte picks it), through `decode`, the three per-packet views and the stats.
//! Any panic, or growth without bound, is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpath::decode::{self, DecodeOptions, Names, Stats};
use netpath::pcapfile::Timestamp;
use netpath::render::decode::{FrameInfo, write_json, write_line, write_tree};
use netpath::wire::LinkType;

/// Link types netpath decodes, plus one it does not (reported, never fatal).
const LINKS: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let link = LinkType(LINKS[usize::from(selector) % LINKS.len()]);
    // The high bit claims a longer wire length than captured (a snaplen cut).
    let orig_len = if selector & 0x80 != 0 {
        frame.len() as u32 + 100
    } else {
        frame.len() as u32
    };
    let mut opts = DecodeOptions::default();
    if selector & 0x40 != 0 {
        // Any UDP port may be configured as VXLAN: try a common one.
        opts.vxlan_ports.push(53);
    }
    let p = decode::decode(link, frame, orig_len, &opts);
    let names = Names::new();
    let info = FrameInfo {
        number: 1,
        ts: Timestamp { sec: 0, nsec: 0 },
        zone: Default::default(),
    };
    let mut out = Vec::new();
    write_line(&mut out, &info, &p, &names);
    write_tree(&mut out, &info, &p, &names);
    write_json(&mut out, &info, &p, &names);
    let mut stats = Stats::new(1500);
    stats.add(&p);
    stats.settle();
});
