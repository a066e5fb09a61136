//! `netpath decode` from the command line: views, names, filters, input formats, bad input.

#[path = "../src/decode/testutil.rs"]
mod frames;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use frames::*;
use serde_json::Value;

fn netpath() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netpath"))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run(args: &[&str], file: &Path) -> Output {
    netpath()
        .arg("decode")
        .args(args)
        .arg(file)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Flannel VXLAN SYN, Calico IPIP ping, and a plain UDP packet.
fn sample() -> Vec<u8> {
    let plain = eth(
        [1; 6],
        [2; 6],
        0x0800,
        &ipv4(
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            17,
            64,
            &udp4([10, 0, 0, 1], [10, 0, 0, 2], 5353, 53, b"q"),
        ),
    );
    let a = flannel_vxlan_syn();
    let b = calico_ipip_ping();
    pcap_file(
        1,
        65535,
        &[
            (a.clone(), a.len() as u32),
            (b.clone(), b.len() as u32),
            (plain.clone(), plain.len() as u32),
        ],
    )
}

#[test]
fn one_line_per_packet() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.pcap", &sample());
    let o = run(&[], &f);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = "\
00:00:00.000000  VXLAN vni 1 (Flannel)  192.168.1.11 → 192.168.1.12  |  10.244.1.5 → 10.244.2.7  TCP 40624 → 80 [S] seq 1000 win 64240 len 0
00:00:01.000010  IPIP  192.168.1.11 → 192.168.1.12  |  10.244.1.5 → 10.244.2.7  ICMP echo request id 7 seq 1
00:00:02.000020  10.0.0.1 → 10.0.0.2  UDP 5353 → 53 len 1
";
    assert_eq!(stdout(&o), want);
}

#[test]
fn tree_shows_every_layer_indented_per_tunnel() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.pcap", &sample());
    let o = run(&["--tree", "-c", "1"], &f);
    assert!(o.status.success());
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("#1  2024-01-01 00:00:00.000000 UTC"),
        "{text}"
    );
    assert!(lines[1].starts_with("  eth "), "{text}");
    assert!(
        lines[4].starts_with("  vxlan ")
            && lines[4].contains("vni 1")
            && lines[4].contains("(Flannel)")
    );
    assert!(lines[5].starts_with("    eth "), "{text}");
    assert!(
        lines[7].starts_with("    tcp ") && lines[7].contains("cksum good"),
        "{text}"
    );
    assert!(
        lines[2].contains("ttl 64") && lines[2].contains("DF") && lines[2].contains("id 0x0001")
    );
}

#[test]
fn json_stream_then_summary() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.pcap", &sample());
    let o = netpath()
        .args(["--json", "decode"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = stdout(&o);
    let docs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 4);
    let first = &docs[0];
    assert_eq!(first["schema"], "netpath.decode/v1");
    assert_eq!(first["n"], 1);
    assert_eq!(first["encap"], serde_json::json!(["vxlan"]));
    let layers = first["layers"].as_array().unwrap();
    let protos: Vec<&str> = layers
        .iter()
        .map(|l| l["proto"].as_str().unwrap())
        .collect();
    assert_eq!(
        protos,
        ["eth", "ipv4", "udp", "vxlan", "eth", "ipv4", "tcp"]
    );
    assert_eq!(layers[1]["src"], "192.168.1.11");
    assert_eq!(layers[1]["ttl"], 64);
    assert_eq!(layers[3]["vni"], 1);
    assert_eq!(layers[3]["cni_hint"], "flannel");
    assert_eq!(layers[6]["dst_port"], 80);
    assert_eq!(layers[6]["checksum"], "good");
    assert_eq!(docs[1]["encap"], serde_json::json!(["ipip"]));
    let summary = &docs[3]["summary"];
    assert_eq!(docs[3]["schema"], "netpath.decode/v1");
    assert_eq!(summary["packets"], 3);
    assert_eq!(summary["vnis"][0]["vni"], 1);
    assert_eq!(summary["node_pairs"].as_array().unwrap().len(), 2);
}

#[test]
fn stats_tables_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.pcap", &sample());
    let o = run(&["--stats"], &f);
    assert!(o.status.success());
    let t = stdout(&o);
    assert!(t.starts_with("3 packets,"), "{t}");
    for want in [
        "VXLAN 8472",
        "IPIP",
        "plain",
        "1 (Flannel)",
        "10.244.1.5:40624 → 10.244.2.7:80 tcp",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    let o = netpath()
        .args(["decode", "--stats", "--json"])
        .arg(&f)
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["summary"]["packets"], 3);
    assert_eq!(v["summary"]["bad_checksums"]["total"], 0);
}

#[test]
fn cluster_names_label_nodes_and_pods() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.pcap", &sample());
    let cluster = write(
        dir.path(),
        "k.json",
        br#"{"kind":"List","items":[
          {"kind":"Node","metadata":{"name":"node-a"},"status":{"addresses":[{"type":"InternalIP","address":"192.168.1.11"}]}},
          {"kind":"Node","metadata":{"name":"node-b","annotations":{"flannel.alpha.coreos.com/public-ip":"192.168.1.12"}}},
          {"kind":"Pod","metadata":{"name":"web","namespace":"shop"},"spec":{},"status":{"podIPs":[{"ip":"10.244.1.5"}]}}]}"#,
    );
    let o = netpath()
        .args(["decode", "-c", "1", "--cluster"])
        .arg(&cluster)
        .arg(&f)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(
            "node-a (192.168.1.11) → node-b (192.168.1.12)  |  shop/web (10.244.1.5) → 10.244.2.7"
        ),
        "{}",
        stdout(&o)
    );
    let bad = write(dir.path(), "bad.json", b"[1]");
    let o = netpath()
        .args(["decode", "--cluster"])
        .arg(&bad)
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("kubectl get nodes,pods -A -o json"));
}

#[test]
fn bpf_filter_uses_libpcap_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.pcap", &sample());
    let o = run(&["--filter", "udp port 8472"], &f);
    assert!(o.status.success());
    assert_eq!(stdout(&o).lines().count(), 1);
    assert!(stdout(&o).contains("VXLAN"));
    let o = run(&["--filter", "ip proto 4"], &f);
    assert_eq!(stdout(&o).lines().count(), 1);
    assert!(stdout(&o).contains("IPIP"));
    let o = run(&["--filter", "udp prot 99"], &f);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad filter"), "{}", stderr(&o));
}

#[test]
fn reads_standard_input() {
    let mut child = netpath()
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&sample()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(stdout(&o).lines().count(), 3);
}

#[test]
fn sll2_ipip_and_unknown_link_types() {
    let dir = tempfile::tempdir().unwrap();
    let inner = calico_ipip_ping()[14..].to_vec();
    let frame = sll2(0x0800, 2, 0, &inner);
    let f = write(
        dir.path(),
        "sll2.pcap",
        &pcap_file(276, 262144, &[(frame.clone(), frame.len() as u32)]),
    );
    let o = run(&[], &f);
    assert!(
        stdout(&o).contains(
            "IPIP  192.168.1.11 → 192.168.1.12  |  10.244.1.5 → 10.244.2.7  ICMP echo request"
        ),
        "{}",
        stdout(&o)
    );

    let f = write(
        dir.path(),
        "weird.pcap",
        &pcap_file(147, 65535, &[(vec![1, 2, 3], 3)]),
    );
    let o = run(&[], &f);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("link type 147 is not decoded"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("link-type 0x0093 not decoded"),
        "{}",
        stdout(&o)
    );
}

/// A pcapng section with an Ethernet and a raw-IP interface, little endian.
fn pcapng_two_interfaces() -> Vec<u8> {
    fn block(t: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        while body.len() % 4 != 0 {
            body.push(0);
        }
        let len = (12 + body.len()) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&t.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&body);
        b.extend_from_slice(&len.to_le_bytes());
        b
    }
    fn epb(iface: u32, data: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&iface.to_le_bytes());
        // 1704067200.5 s in microseconds.
        let ts: u64 = 1_704_067_200_500_000;
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        block(6, &body)
    }
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut out = block(0x0a0d_0d0a, &shb);
    for link in [1u16, 101] {
        let mut idb = Vec::new();
        idb.extend_from_slice(&link.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&block(1, &idb));
    }
    let eth_frame = calico_ipip_ping();
    out.extend_from_slice(&epb(0, &eth_frame));
    out.extend_from_slice(&epb(1, &eth_frame[14..]));
    out
}

#[test]
fn pcapng_with_two_link_types() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "two.pcapng", &pcapng_two_interfaces());
    let o = run(&[], &f);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 2, "{t}");
    for l in &lines {
        assert!(l.starts_with("00:00:00.500000  IPIP  192.168.1.11"), "{t}");
    }
    let o = netpath()
        .args(["--json", "decode"])
        .arg(&f)
        .output()
        .unwrap();
    let links: Vec<String> = stdout(&o)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["link"].as_str().map(str::to_string))
        .collect();
    assert_eq!(links, ["ethernet", "raw"]);
}

#[test]
fn big_endian_and_nanosecond_pcap() {
    let frame = calico_ipip_ping();
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_3c4du32.to_be_bytes()); // nanosecond magic, big endian
    f.extend_from_slice(&2u16.to_be_bytes());
    f.extend_from_slice(&4u16.to_be_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_be_bytes());
    f.extend_from_slice(&1u32.to_be_bytes());
    f.extend_from_slice(&1_704_067_200u32.to_be_bytes());
    f.extend_from_slice(&123_456_789u32.to_be_bytes());
    f.extend_from_slice(&(frame.len() as u32).to_be_bytes());
    f.extend_from_slice(&(frame.len() as u32).to_be_bytes());
    f.extend_from_slice(&frame);
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "be.pcap", &f);
    let o = netpath()
        .args(["--json", "decode"])
        .arg(&p)
        .output()
        .unwrap();
    let first: Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(first["time"], "2024-01-01T00:00:00.123456789Z");
    assert_eq!(first["encap"], serde_json::json!(["ipip"]));
}

#[test]
fn bad_input_is_reported_with_packet_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    // Not a pcap at all: exit 2, nothing on stdout.
    let p = write(
        dir.path(),
        "text.pcap",
        b"hello, this is not a capture file\n",
    );
    let o = run(&[], &p);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a pcap or pcapng file"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());

    // Truncated file header.
    let good = sample();
    let p = write(dir.path(), "hdr.pcap", &good[..10]);
    let o = run(&[], &p);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("truncated pcap file header: 10 of 24 bytes"),
        "{}",
        stderr(&o)
    );

    // Missing file.
    let o = run(&[], &dir.path().join("nope.pcap"));
    assert_eq!(o.status.code(), Some(2));

    // Cut inside packet 3: packets 1 and 2 are shown, then exit 2 naming packet 3 and its offset.
    let p = write(dir.path(), "cut.pcap", &good[..good.len() - 5]);
    let o = run(&[], &p);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o).lines().count(), 2);
    let off3 = 24 + 16 + flannel_vxlan_syn().len() + 16 + calico_ipip_ping().len();
    assert!(
        stderr(&o).contains(&format!("packet 3 at byte {off3}: captured length")),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("runs past the end of the file"));

    // Garbage after the last packet.
    let mut g = good.clone();
    g.extend_from_slice(b"junk");
    let p = write(dir.path(), "junk.pcap", &g);
    let o = run(&[], &p);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o).lines().count(), 3);
    assert!(stderr(&o).contains("packet 4 at byte"), "{}", stderr(&o));
    assert!(stderr(&o).contains("4 bytes of garbage after the last packet"));

    // A record claiming 2^31 bytes: corrupt header, reported, earlier packets shown.
    let mut h = good.clone();
    let at = 24 + 16 + flannel_vxlan_syn().len();
    h[at + 8..at + 12].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    let p = write(dir.path(), "huge.pcap", &h);
    let o = run(&[], &p);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o).lines().count(), 1);
    assert!(
        stderr(&o).contains(&format!(
            "packet 2 at byte {at}: captured length 2147483648"
        )),
        "{}",
        stderr(&o)
    );

    // Snaplen 0 and 2^31 in the file header: warned about, packets still decoded.
    for snap in [0u32, 0x8000_0000] {
        let mut s = good.clone();
        s[16..20].copy_from_slice(&snap.to_le_bytes());
        let p = write(dir.path(), "snap.pcap", &s);
        let o = run(&[], &p);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(stdout(&o).lines().count(), 3);
        assert!(
            stderr(&o).contains(&format!("snaplen {snap} is invalid")),
            "{}",
            stderr(&o)
        );
    }

    // A packet longer than the snaplen: warned about, decoded (libpcap does the same).
    let mut s = good.clone();
    s[16..20].copy_from_slice(&64u32.to_le_bytes());
    let p = write(dir.path(), "small-snap.pcap", &s);
    let o = run(&[], &p);
    assert_eq!(o.status.code(), Some(0));
    let want = format!(
        "packet 1 at byte 24: captured length {} exceeds the file's snaplen 64",
        flannel_vxlan_syn().len()
    );
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
}

#[test]
fn tree_and_json_together_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.pcap", &sample());
    let o = netpath()
        .args(["--json", "decode", "--tree"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Captures of VXLAN encapsulated by Linux itself, taken on the sending host: the inner
/// checksum is offloaded (partial) and the outer UDP checksum was made by local checksum
/// offload, so it is `offloaded-lco`, never `bad`.
#[test]
fn kernel_vxlan_outer_checksum_is_offloaded_lco() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    for (file, port) in [
        ("kernel-vxlan-8472.pcap", 8472),
        ("kernel-vxlan-4789.pcap", 4789),
    ] {
        let path = root.join(file);
        let o = run(&["--tree"], &path);
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        let text = stdout(&o);
        let outer: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  udp ") && l.contains(&format!("→ {port} ")))
            .collect();
        assert_eq!(outer.len(), 2, "{file}:\n{text}");
        for l in &outer {
            assert!(l.ends_with("cksum offloaded-lco"), "{file}: {l}");
        }
        let inner = text
            .lines()
            .filter(|l| l.trim_start().starts_with("udp ") && l.starts_with("    "));
        assert!(
            inner.clone().count() == 2 && inner.into_iter().all(|l| l.ends_with("cksum offloaded")),
            "{file}:\n{text}"
        );
        assert!(!text.contains("bad"), "{file}:\n{text}");

        let o = run(&[], &path);
        assert!(!stdout(&o).contains("bad"), "{file}: {}", stdout(&o));
        let o = netpath()
            .args(["--json", "decode", "--stats"])
            .arg(&path)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["summary"]["bad_checksums"]["total"], 0, "{file}");
    }
}

/// `--stats` counted on several threads equals the count on one, for every capture in
/// testdata/ and for a file of many batches mixing link types netpath does and does not
/// decode; the undecoded link type is still reported once.
#[test]
fn stats_on_many_threads_equal_stats_on_one() {
    let stats = |file: &Path, threads: &str| {
        let o = netpath()
            .args(["--json", "decode", "--stats", "--threads", threads])
            .arg(file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        (stdout(&o), stderr(&o))
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .collect();
    assert!(files.len() >= 10, "{files:?}");
    // 3,000 packets (several batches per thread), the sample's three kinds repeated.
    let one = sample();
    let records = &one[24..];
    let mut many = one[..24].to_vec();
    for _ in 0..1000 {
        many.extend_from_slice(records);
    }
    files.push(write(dir.path(), "many.pcap", &many));
    for f in &files {
        let (want, _) = stats(f, "1");
        for t in ["2", "5"] {
            assert_eq!(stats(f, t).0, want, "{} with --threads {t}", f.display());
        }
    }
    let v: Value = serde_json::from_str(&stats(files.last().unwrap(), "3").0).unwrap();
    assert_eq!(v["summary"]["packets"], 3000);

    let weird = write(
        dir.path(),
        "weird.pcap",
        &pcap_file(147, 65535, &vec![(vec![1, 2, 3], 3); 2000]),
    );
    let (out, err) = stats(&weird, "4");
    assert_eq!(
        err.matches("link type 147 is not decoded").count(),
        1,
        "{err}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["undecoded"], 2000);
}

/// The "modified" (Kuznetzov) pcap format: 24-byte record headers (interface index,
/// protocol and packet type after the lengths), in either byte order.
#[test]
fn modified_pcap_format_in_both_byte_orders() {
    let frame = calico_ipip_ping();
    for big in [false, true] {
        let u32b = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let u16b = |v: u16| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut f = Vec::new();
        f.extend_from_slice(&u32b(0xa1b2_cd34));
        f.extend_from_slice(&u16b(2));
        f.extend_from_slice(&u16b(4));
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&u32b(65535));
        f.extend_from_slice(&u32b(1));
        for i in 0..2u32 {
            f.extend_from_slice(&u32b(1_704_067_200 + i));
            f.extend_from_slice(&u32b(250_000));
            f.extend_from_slice(&u32b(frame.len() as u32));
            f.extend_from_slice(&u32b(frame.len() as u32 + 10));
            f.extend_from_slice(&u32b(7)); // interface index
            f.extend_from_slice(&u16b(0x0800)); // protocol
            f.extend_from_slice(&[0, 0]); // packet type, padding
            f.extend_from_slice(&frame);
        }
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "modified.pcap", &f);
        let o = netpath()
            .args(["--json", "decode"])
            .arg(&p)
            .output()
            .unwrap();
        assert!(o.status.success(), "big endian {big}: {}", stderr(&o));
        let lines: Vec<Value> = stdout(&o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "two packets and the summary");
        assert_eq!(lines[1]["time"], "2024-01-01T00:00:01.250000000Z");
        assert_eq!(lines[1]["encap"], serde_json::json!(["ipip"]));
        assert_eq!(lines[1]["caplen"], frame.len());
        assert_eq!(lines[1]["len"], frame.len() + 10);
    }
}

/// A TCP header cut by the snaplen after its ports: the ports are shown in every view and
/// name the flow in `--stats`.
#[test]
fn truncated_transport_header_keeps_its_ports() {
    let f = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/truncated-snaplen96.pcap"
    ));
    let o = run(&["-c", "1"], f);
    assert!(
        stdout(&o).contains("10.244.1.5 → 10.244.2.7  TCP 40624 → 80  [truncated in tcp"),
        "{}",
        stdout(&o)
    );
    let o = run(&["--tree", "-c", "1"], f);
    assert!(
        stdout(&o).contains("ports before the cut: 40624 → 80"),
        "{}",
        stdout(&o)
    );
    let o = netpath()
        .args(["--json", "decode", "-c", "1"])
        .arg(f)
        .output()
        .unwrap();
    let first: Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(first["stop"]["src_port"], 40624);
    assert_eq!(first["stop"]["dst_port"], 80);
    let o = netpath()
        .args(["--json", "decode", "--stats"])
        .arg(f)
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let flows = v["summary"]["flows"].as_array().unwrap();
    assert!(
        flows
            .iter()
            .any(|fl| fl["src_port"] == 40624 && fl["dst_port"] == 80),
        "{flows:?}"
    );
}

/// `--local-time` shows the line and tree views on the local clock (POSIX TZ rules, so no
/// zone files are needed), daylight saving included; JSON and the default stay UTC.
#[test]
fn local_time_follows_tz_and_daylight_saving() {
    let dir = tempfile::tempdir().unwrap();
    let frame = calico_ipip_ping();
    // 2024-01-01 00:00:00 UTC (winter) and the summer capture in testdata/.
    let winter = write(
        dir.path(),
        "winter.pcap",
        &pcap_file(1, 65535, &[(frame.clone(), frame.len() as u32)]),
    );
    let summer = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/plain-eth.pcap"
    ));
    let out = |tz: &str, args: &[&str], file: &Path| {
        let o = netpath()
            .env("TZ", tz)
            .arg("decode")
            .args(args)
            .args(["-c", "1"])
            .arg(file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let cet = "CET-1CEST,M3.5.0,M10.5.0/3";
    assert!(out(cet, &["--local-time"], &winter).starts_with("01:00:00.000000  IPIP"));
    assert!(
        out(cet, &["--local-time", "--tree"], &winter)
            .starts_with("#1  2024-01-01 01:00:00.000000 CET  ")
    );
    assert!(out(cet, &["--local-time"], summer).starts_with("18:26:40.000000  "));
    assert!(
        out(cet, &["--local-time", "--tree"], summer)
            .starts_with("#1  2024-05-29 18:26:40.000000 CEST  ")
    );
    assert!(
        out("XST-5:30", &["--local-time", "--tree"], &winter)
            .starts_with("#1  2024-01-01 05:30:00.000000 XST  ")
    );
    // Without the flag, and in JSON, times are UTC whatever TZ says.
    assert!(out(cet, &[], &winter).starts_with("00:00:00.000000  IPIP"));
    let o = netpath()
        .env("TZ", cet)
        .args(["--json", "decode", "--local-time", "-c", "1"])
        .arg(&winter)
        .output()
        .unwrap();
    let first: Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(first["time"], "2024-01-01T00:00:00.000000000Z");
}
