//! Fuzz target `net_conf`: arbitrary bytes through `netpath::fuzzing::net_conf` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::net_conf(data);
});
