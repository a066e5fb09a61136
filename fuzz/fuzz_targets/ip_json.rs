//! Fuzz target `ip_json`: arbitrary bytes through `netpath::fuzzing::ip_json` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::ip_json(data);
});
