//! Fuzz target `netlink_route`: arbitrary bytes through `netpath::fuzzing::netlink_route` (see that module).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netpath::fuzzing::netlink_route(data);
});
