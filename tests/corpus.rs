//! Conformance against the external capture corpus (`NETPATH_CORPUS`, see
//! `shared/captures/README.md`): for every capture, per packet, netpath's layers agree
//! with tshark's JSON (`--no-duplicate-keys`) on protocols, addresses, ports, VNI, TTL and
//! lengths; the packet count agrees with tcpdump's output; and no view panics or fails on
//! any capture, malformed ones included.
//!
//! Where netpath disagrees on purpose, [`DIFFERENCES`] says so, per capture. A
//! disagreement without an entry fails the test, and so does an entry that no longer
//! matches any disagreement (the table cannot go stale).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use netpath::decode::{self, DecodeOptions, Header, IpLength, Layer, Packet, StopReason};
use netpath::pcapfile::Capture;
use serde_json::Value;

/// How netpath's protocol chain may differ from tshark's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Diff {
    /// tshark lists a header the capture cuts short (it marks it malformed); netpath
    /// reports "truncated in <layer>" instead of a layer it cannot fill.
    CutHeader,
    /// ICMP errors quote the offending packet: tshark shows the quote as more layers
    /// (`ip`, `udp` …); netpath keeps it as the `quote` field of the ICMP layer.
    IcmpQuoteIsAField,
    /// netpath decodes further than tshark 4.0 (which gives up on a length field).
    NetpathDecodesFurther,
    /// netpath reports the header as malformed and stops; tshark decodes on regardless.
    NetpathStopsOnMalformed,
}

/// Deliberate differences, per capture (file name without extension).
const DIFFERENCES: &[(&str, Diff, &str)] = &[
    (
        "zeek-trunc-ip4-trunc",
        Diff::CutHeader,
        "6 bytes of IPv4 header captured",
    ),
    (
        "zeek-trunc-trunc-hdr",
        Diff::CutHeader,
        "8-byte frame: Ethernet header cut",
    ),
    (
        "tcpdump-tcp_header_heapoverflow",
        Diff::CutHeader,
        "TCP header cut ([|tcp])",
    ),
    (
        "tcpdump-udp-length-heapoverflow",
        Diff::CutHeader,
        "UDP header cut ([|udp])",
    ),
    (
        "synth-eth-vxlan8472-snaplen96",
        Diff::CutHeader,
        "snaplen 96 cuts the inner TCP header",
    ),
    (
        "tcpdump-icmp-cksum-oobr-1",
        Diff::IcmpQuoteIsAField,
        "port unreachable quoting IPv4/UDP",
    ),
    (
        "tcpdump-bigtcp-ipv4-vxlan-ipv4",
        Diff::NetpathDecodesFurther,
        "IPv4 total length 0 (BIG TCP): netpath takes the length from the frame like tcpdump master; tshark 4.0 stops at UDP",
    ),
    (
        "tcpdump-kday1",
        Diff::NetpathStopsOnMalformed,
        "EtherType IPv4 carrying a version-6 header: netpath (like tcpdump) rejects it; tshark decodes IPv6",
    ),
];

/// Port 8472 is VXLAN for netpath (Linux/Flannel); tcpdump 4.99 prints it as OTV. This
/// is a difference with tcpdump's text, not with tshark run with `-d udp.port==8472,vxlan`,
/// so it needs no entry above: the VXLAN layers are compared to tshark's as usual.
const _OTV_NOTE: () = ();

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("NETPATH_CORPUS")?;
    Some(PathBuf::from(dir))
}

fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("NETPATH_CORPUS={}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    v.sort();
    v
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The tshark key of a netpath layer.
fn tshark_key(h: &Header) -> Option<&'static str> {
    Some(match h {
        Header::Sll(_) | Header::Sll2(_) => "sll",
        Header::Null { .. } => "null",
        Header::Ethernet(_) => "eth",
        Header::Vlan(v) if v.tpid == 0x88a8 => "ieee8021ad",
        Header::Vlan(_) => "vlan",
        Header::Arp(_) => "arp",
        Header::Ipv4(_) => "ip",
        Header::Ipv6(_) => "ipv6",
        Header::Udp(_) => "udp",
        Header::Tcp(_) => "tcp",
        Header::Icmpv4(_) => "icmp",
        Header::Icmpv6(_) => "icmpv6",
        Header::Vxlan(_) => "vxlan",
        Header::Geneve(_) => "geneve",
        Header::FlannelUdp => return None,
    })
}

/// The structural protocols of tshark's `frame.protocols`, in order.
const STRUCTURAL: &[&str] = &[
    "sll",
    "null",
    "eth",
    "ieee8021ad",
    "vlan",
    "arp",
    "ip",
    "ipv6",
    "udp",
    "tcp",
    "icmp",
    "icmpv6",
    "vxlan",
    "geneve",
];

fn tshark_chain(layers: &Value) -> Vec<String> {
    layers["frame"]["frame.protocols"]
        .as_str()
        .unwrap_or_default()
        .split(':')
        .filter(|p| STRUCTURAL.contains(p))
        .map(str::to_string)
        .collect()
}

/// The `k`-th occurrence of layer `key` in tshark's layers (arrays when repeated).
fn occurrence<'v>(layers: &'v Value, key: &str, k: usize) -> Option<&'v Value> {
    match layers.get(key)? {
        Value::Array(a) => a.get(k),
        v if k == 0 => Some(v),
        _ => None,
    }
}

fn field<'v>(layer: &'v Value, name: &str) -> Option<&'v str> {
    layer.get(name)?.as_str()
}

fn num(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Compare the fields of one layer; returns mismatches as text.
fn compare_layer(l: &Layer, caplen: u32, t: &Value, out: &mut Vec<String>) {
    let h = &l.header;
    let mut check = |name: &str, ours: String| {
        if let Some(theirs) = field(t, name) {
            let same = match (num(theirs), ours.parse::<u64>().ok()) {
                (Some(a), Some(b)) => a == b,
                _ => theirs.eq_ignore_ascii_case(&ours),
            };
            if !same {
                out.push(format!("{name}: tshark {theirs}, netpath {ours}"));
            }
        }
    };
    match h {
        Header::Ethernet(e) => {
            check("eth.src", e.src.to_string());
            check("eth.dst", e.dst.to_string());
        }
        Header::Vlan(v) if v.tpid == 0x88a8 => check("ieee8021ad.id", v.vid.to_string()),
        Header::Vlan(v) => check("vlan.id", v.vid.to_string()),
        Header::Arp(a) => check("arp.opcode", a.op.to_string()),
        Header::Ipv4(ip) => {
            check("ip.src", ip.src.to_string());
            check("ip.dst", ip.dst.to_string());
            check("ip.ttl", ip.ttl.to_string());
            // A length field of 0 (BIG TCP): both tools take the length from the frame.
            let len = if ip.length == IpLength::ZeroFromFrame {
                caplen - l.offset
            } else {
                u32::from(ip.total_len)
            };
            check("ip.len", len.to_string());
            check("ip.id", ip.id.to_string());
            check("ip.proto", ip.proto.to_string());
            check("ip.hdr_len", ip.header_len.to_string());
        }
        Header::Ipv6(ip) => {
            check("ipv6.src", ip.src.to_string());
            check("ipv6.dst", ip.dst.to_string());
            check("ipv6.hlim", ip.hop_limit.to_string());
            check("ipv6.plen", ip.payload_len.to_string());
        }
        Header::Udp(u) => {
            check("udp.srcport", u.src_port.to_string());
            check("udp.dstport", u.dst_port.to_string());
            check("udp.length", u.length.to_string());
        }
        Header::Tcp(tc) => {
            check("tcp.srcport", tc.src_port.to_string());
            check("tcp.dstport", tc.dst_port.to_string());
            check("tcp.seq_raw", tc.seq.to_string());
            check("tcp.ack_raw", tc.ack.to_string());
            check("tcp.hdr_len", tc.header_len.to_string());
            check("tcp.len", tc.payload_len.to_string());
        }
        Header::Icmpv4(m) => {
            check("icmp.type", m.icmp_type.to_string());
            check("icmp.code", m.code.to_string());
        }
        Header::Icmpv6(m) => {
            check("icmpv6.type", m.icmp_type.to_string());
            check("icmpv6.code", m.code.to_string());
        }
        Header::Vxlan(v) => check("vxlan.vni", v.vni.to_string()),
        Header::Geneve(g) => {
            check("geneve.vni", format!("0x{:06x}", g.vni));
            check("geneve.proto_type", format!("0x{:04x}", g.protocol));
            check("geneve.option.length", g.options_len.to_string());
        }
        Header::Sll(_) | Header::Sll2(_) | Header::Null { .. } | Header::FlannelUdp => {}
    }
}

/// Which deliberate difference (if any) explains `ours` vs `theirs`.
fn explain(p: &Packet<'_>, ours: &[String], theirs: &[String]) -> Option<Diff> {
    // tshark shows one extra, cut-short header where netpath says "truncated in X".
    if let Some(StopReason::Truncated { layer, .. }) = p.stop.map(|s| s.reason) {
        let mut extended = ours.to_vec();
        let key = match layer {
            "ipv4" => "ip",
            "sll2" => "sll",
            l => l,
        };
        extended.push(key.to_string());
        if extended == theirs {
            return Some(Diff::CutHeader);
        }
    }
    if let Some(i) = theirs.iter().position(|p| p == "icmp" || p == "icmpv6") {
        if ours == &theirs[..=i] && theirs.len() > i + 1 {
            return Some(Diff::IcmpQuoteIsAField);
        }
    }
    if ours.len() > theirs.len() && ours[..theirs.len()] == *theirs {
        return Some(Diff::NetpathDecodesFurther);
    }
    if matches!(p.stop.map(|s| s.reason), Some(StopReason::Malformed { .. }))
        && ours.len() < theirs.len()
        && theirs[..ours.len()] == *ours
    {
        return Some(Diff::NetpathStopsOnMalformed);
    }
    None
}

/// Packet count of tcpdump's `-#` output: one numbered line per packet.
fn tcpdump_count(text: &str) -> usize {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            let digits = t.chars().take_while(char::is_ascii_digit).count();
            digits > 0 && l.len() > t.len() && t[digits..].starts_with("  ")
        })
        .count()
}

#[test]
fn corpus_conformance() {
    let Some(dir) = corpus() else {
        println!("corpus conformance NOT RUN: NETPATH_CORPUS unset");
        return;
    };
    let files = captures(&dir);
    assert!(!files.is_empty(), "no captures in {}", dir.display());
    let opts = DecodeOptions::default();
    let mut failures: Vec<String> = Vec::new();
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    let mut compared_packets = 0usize;
    let mut compared_files = 0usize;

    for path in &files {
        let name = stem(path);
        let cap = Capture::open(path).unwrap();
        let mut packets = Vec::new();
        match cap.frames() {
            Ok(frames) => {
                for f in frames {
                    match f {
                        Ok(f) => packets.push(f),
                        Err(e) => {
                            failures.push(format!("{name}: read error {e}"));
                            break;
                        }
                    }
                }
            }
            Err(e) => failures.push(format!("{name}: cannot read: {e}")),
        }

        // tcpdump's packet count.
        let out = dir.join(format!("{name}.tcpdump-4.99.3.out"));
        if let Ok(text) = std::fs::read_to_string(&out) {
            let n = tcpdump_count(&text);
            if n != packets.len() {
                failures.push(format!(
                    "{name}: tcpdump shows {n} packets, netpath read {}",
                    packets.len()
                ));
            }
        }

        // tshark, per packet.
        let json = dir.join(format!("{name}.tshark.json"));
        let Ok(text) = std::fs::read_to_string(&json) else {
            continue;
        };
        let doc: Value = serde_json::from_str(&text).unwrap();
        let tpkts = doc.as_array().unwrap();
        if tpkts.len() != packets.len() {
            failures.push(format!(
                "{name}: tshark has {} packets, netpath {}",
                tpkts.len(),
                packets.len()
            ));
        }
        compared_files += 1;
        for (f, tp) in packets.iter().zip(tpkts) {
            let layers = &tp["_source"]["layers"];
            let p = decode::decode(f.link, f.data, f.orig_len, &opts);
            compared_packets += 1;
            let here = format!("{name} #{}", f.number);
            let frame = &layers["frame"];
            if field(frame, "frame.len").and_then(num) != Some(u64::from(p.orig_len)) {
                failures.push(format!("{here}: frame.len differs"));
            }
            if field(frame, "frame.cap_len").and_then(num) != Some(u64::from(p.caplen())) {
                failures.push(format!("{here}: frame.cap_len differs"));
            }
            let ours: Vec<String> = p
                .layers()
                .iter()
                .filter_map(|l| tshark_key(&l.header))
                .map(str::to_string)
                .collect();
            let theirs = tshark_chain(layers);
            if ours != theirs {
                match explain(&p, &ours, &theirs) {
                    Some(d) => {
                        if DIFFERENCES.iter().any(|(n, dd, _)| *n == name && *dd == d) {
                            used.insert((name.clone(), format!("{d:?}")));
                        } else {
                            failures.push(format!(
                                "{here}: layers {ours:?} vs tshark {theirs:?} ({d:?}) — not in DIFFERENCES for this capture"
                            ));
                        }
                    }
                    None => failures.push(format!(
                        "{here}: layers {ours:?} vs tshark {theirs:?}: unexplained"
                    )),
                }
            }
            // Fields, occurrence by occurrence, over the layers both have.
            let mut seen: Vec<(&str, usize)> = Vec::new();
            for l in p.layers() {
                let Some(key) = tshark_key(&l.header) else {
                    continue;
                };
                let k = match seen.iter_mut().find(|(kk, _)| *kk == key) {
                    Some((_, n)) => {
                        *n += 1;
                        *n - 1
                    }
                    None => {
                        seen.push((key, 1));
                        0
                    }
                };
                if let Some(t) = occurrence(layers, key, k) {
                    let mut bad = Vec::new();
                    compare_layer(l, p.caplen(), t, &mut bad);
                    for b in bad {
                        failures.push(format!("{here}: {key}[{k}] {b}"));
                    }
                }
            }
        }
    }

    for (name, d, why) in DIFFERENCES {
        if !used.contains(&(name.to_string(), format!("{d:?}"))) {
            failures.push(format!(
                "DIFFERENCES entry not needed any more: {name} {d:?} ({why})"
            ));
        }
    }
    println!(
        "corpus conformance: {} captures, {compared_files} with tshark oracles, {compared_packets} packets compared",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every view of every capture runs to the end without a panic, and the JSON stream is
/// well-formed: one object per packet with `schema` and an ordered `layers` array, then
/// one summary object.
#[test]
fn corpus_every_view_runs() {
    let Some(dir) = corpus() else {
        println!("corpus conformance NOT RUN: NETPATH_CORPUS unset");
        return;
    };
    for path in captures(&dir) {
        let name = stem(&path);
        for view in [&[][..], &["--tree"][..], &["--stats"][..], &["--json"][..]] {
            let out = Command::new(env!("CARGO_BIN_EXE_netpath"))
                .arg("decode")
                .args(view)
                .arg(&path)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stderr.contains("panicked"),
                "{name} {view:?} panicked: {stderr}"
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{name} {view:?} failed: {stderr}"
            );
            if view == ["--json"] {
                let text = String::from_utf8(out.stdout).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                assert!(!lines.is_empty());
                for (i, line) in lines.iter().enumerate() {
                    let v: Value = serde_json::from_str(line)
                        .unwrap_or_else(|e| panic!("{name} line {}: {e}: {line}", i + 1));
                    assert_eq!(v["schema"], "netpath.decode/v1");
                    if i + 1 == lines.len() {
                        assert!(v["summary"]["packets"].is_u64(), "{name}: no summary");
                    } else {
                        assert!(v["layers"].is_array(), "{name}: no layers");
                    }
                }
            }
        }
    }
}
