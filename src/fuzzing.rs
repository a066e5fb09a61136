//! One entry per parser of untrusted input, for the fuzzers (`fuzz/`, cargo-fuzz) and for
//! the stable smoke test that feeds every seed and thousands of mutations through the same
//! functions on every CI run (`tests/fuzz_smoke.rs`). Each takes arbitrary bytes, parses
//! them as the command line would, and throws the result away: an error is fine, a panic,
//! a hang or memory without bound is a bug.

use crate::dataplane::parse;
use crate::model;

/// A fuzz entry: arbitrary bytes in, nothing out.
pub type Entry = fn(&[u8]);

/// The targets: name (the cargo-fuzz target and corpus directory) and entry.
pub const TARGETS: &[(&str, Entry)] = &[
    ("routes_text", routes_text),
    ("ip_json", ip_json),
    ("node_dumps", node_dumps),
    ("kubectl", kubectl),
    ("cluster_file", cluster_file),
    ("snapshot_json", snapshot_json),
    ("net_conf", net_conf),
    ("ippool", ippool),
    ("pcap", pcap),
    ("etcd_wire", etcd_wire),
    ("netlink_route", netlink_route),
];

fn text(data: &[u8]) -> &str {
    match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or(""),
    }
}

/// Route dumps in every text format `routes --from` reads (ip route, route -n, netstat,
/// /proc/net/route), through format detection.
pub fn routes_text(data: &[u8]) {
    let _ = parse::parse_routes_bytes(data);
}

/// `ip -j route` documents (the same entry: detection picks JSON from the first byte).
pub fn ip_json(data: &[u8]) {
    let _ = parse::parse_routes_bytes(data);
    let _ = parse::parse_routes(text(data));
}

/// The other text dumps of a sosreport: `ip -d link`, `ip addr`, `ip neigh`, `bridge
/// fdb`, `sysctl -a`.
pub fn node_dumps(data: &[u8]) {
    let t = text(data);
    let _ = parse::parse_links(t);
    let _ = parse::parse_addrs(t);
    let _ = parse::parse_neighbours(t);
    let _ = parse::parse_fdb(t);
    let _ = parse::parse_sysctls(t);
}

/// A kubectl List dump (`kubectl get nodes,pods -A -o json`) as `--cluster` reads it.
pub fn kubectl(data: &[u8]) {
    let _ = model::kubectl::parse(data, "fuzz", &model::kubectl::Options::default());
}

/// A netpath cluster file (YAML or JSON).
pub fn cluster_file(data: &[u8]) {
    let _ = model::file::parse(text(data), "fuzz");
}

/// A `netpath.snapshot/v1` document, and a plan or NodeState document as agent and check
/// read them.
pub fn snapshot_json(data: &[u8]) {
    let _ = serde_json::from_slice::<crate::snapshot::Snapshot>(data);
    let _ = crate::snapshot::document::node_state_from_json(text(data), None, "fuzz");
    let _ = crate::snapshot::document::node_state_from_json(text(data), Some("node-1"), "fuzz");
}

/// Flannel's net-conf.json.
pub fn net_conf(data: &[u8]) {
    let _ = model::flannel::parse_net_conf(text(data), "fuzz");
}

/// Calico IPPool YAML (one document or several).
pub fn ippool(data: &[u8]) {
    let _ = model::calico::parse_ippools(text(data), "fuzz");
}

/// The pcap/pcapng reader: every frame of the file, to the end or the first break.
pub fn pcap(data: &[u8]) {
    let cap = crate::pcapfile::Capture::from_bytes(data.to_vec(), "fuzz");
    if let Ok(mut frames) = cap.frames() {
        for (i, f) in frames.by_ref().enumerate() {
            if f.is_err() || i > 100_000 {
                break;
            }
        }
        let _ = frames.take_warnings();
    }
}

/// etcd's JSON gateway answers: unary answers and watch stream lines.
pub fn etcd_wire(data: &[u8]) {
    crate::etcd::decode_for_fuzzing(data);
}

/// One RTM_NEWROUTE payload from the kernel (`struct rtmsg` and attributes).
pub fn netlink_route(data: &[u8]) {
    let _ = crate::netlink::route::decode_route_payload(data);
}

/// Deterministic mutations of `seed` (no randomness source needed): bit flips, byte
/// replacements with boundary values, truncations, duplications and splices, driven by a
/// xorshift generator seeded with `n`.
pub fn mutate(seed: &[u8], n: u64, other: &[u8]) -> Vec<u8> {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut v = seed.to_vec();
    let rounds = 1 + next() % 4;
    for _ in 0..rounds {
        let len = v.len().max(1);
        let at = (next() as usize) % len;
        match next() % 8 {
            0 if !v.is_empty() => v[at] ^= 1 << (next() % 8),
            1 if !v.is_empty() => {
                const SPECIAL: [u8; 12] = [
                    0, 1, 0x7f, 0x80, 0xff, b'{', b'}', b'"', b':', b'\n', b'-', b'9',
                ];
                v[at] = SPECIAL[(next() as usize) % SPECIAL.len()];
            }
            2 => v.truncate(at),
            3 if !v.is_empty() => {
                let end = (at + 1 + (next() as usize) % 64).min(v.len());
                let chunk = v[at..end].to_vec();
                v.splice(at..at, chunk);
            }
            4 if !other.is_empty() => {
                let from = (next() as usize) % other.len();
                let end = (from + 1 + (next() as usize) % 128).min(other.len());
                v.splice(
                    at.min(v.len())..at.min(v.len()),
                    other[from..end].iter().copied(),
                );
            }
            5 if !v.is_empty() => {
                let end = (at + 1 + (next() as usize) % 16).min(v.len());
                v.drain(at..end);
            }
            6 if v.len() >= 4 => {
                // A length or count field set to an extreme.
                let at = at.min(v.len() - 4);
                let val: u32 = match next() % 4 {
                    0 => 0,
                    1 => u32::MAX,
                    2 => 0x8000_0000,
                    _ => 0xffff,
                };
                v[at..at + 4].copy_from_slice(&val.to_le_bytes());
            }
            _ => {
                let digits = b"999999999999999999999";
                let at = at.min(v.len());
                v.splice(at..at, digits.iter().copied());
            }
        }
        if v.len() > 1 << 20 {
            v.truncate(1 << 20);
        }
    }
    v
}
