//! Fuzz target `cluster_file`: arbitrary bytes through `netpath::fuzzing::cluster_file` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::cluster_file(data);
});
