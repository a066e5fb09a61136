//! Fuzz target `pcap`: arbitrary bytes through `netpath::fuzzing::pcap` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::pcap(data);
});
