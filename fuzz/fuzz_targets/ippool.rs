//! Fuzz target `ippool`: arbitrary bytes through `netpath::fuzzing::ippool` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::ippool(data);
});
