//! Fuzz target `etcd_wire`: arbitrary bytes through `netpath::fuzzing::etcd_wire` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::etcd_wire(data);
});
