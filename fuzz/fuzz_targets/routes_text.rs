//! Fuzz target `routes_text`: arbitrary bytes through `netpath::fuzzing::routes_text` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::routes_text(data);
});
