//! Fuzz target `kubectl`: arbitrary bytes through `netpath::fuzzing::kubectl` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::kubectl(data);
});
