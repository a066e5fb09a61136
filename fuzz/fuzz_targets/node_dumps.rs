//! Fuzz target `node_dumps`: arbitrary bytes through `netpath::fuzzing::node_dumps` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::node_dumps(data);
});
