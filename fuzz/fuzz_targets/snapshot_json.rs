//! Fuzz target `snapshot_json`: arbitrary bytes through `netpath::fuzzing::snapshot_json` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::snapshot_json(data);
});
