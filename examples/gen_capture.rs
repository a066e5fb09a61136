//! The benchmark capture generator: a deterministic pcap of pod traffic as a node's
//! underlay sees it, built with netpath's own packet builder.
//!
//! ```text
//! cargo run --release --example gen_capture -- OUT.pcap [PACKETS] [SEED]
//! ```
//!
//! Defaults: 1,000,000 packets, seed 1. The mix: 40% Flannel VXLAN (UDP 8472, VNI 1),
//! 30% Calico IPIP (IPv4 protocol 4), 30% plain node-to-node traffic; inner TCP (70%), UDP
//! (20%) or ICMP echo (10%); frame sizes uniform from 62 to 1514 bytes (a tunnel packet
//! cannot be shorter than its headers, so small draws become the smallest frame of their
//! kind). Every length and checksum is correct. The same seed gives the same bytes.

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;
use std::time::Duration;

use netpath::pcapwrite::{DEFAULT_SNAPLEN, PcapWriter};
use netpath::wire::build::{Icmp, Ipv4, Packet, Tcp, Udp, linktype, tcp_flags};

/// splitmix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

const MIN_FRAME: usize = 62;
const MAX_FRAME: usize = 1514;
const NODES: u64 = 50;

fn node_ip(n: u64) -> [u8; 4] {
    [192, 168, 1, 10 + n as u8]
}

fn node_mac(n: u64) -> [u8; 6] {
    [0x52, 0x54, 0x00, 0x01, 0x00, 10 + n as u8]
}

fn vtep_mac(n: u64) -> [u8; 6] {
    [0x7a, 0x3c, 0x11, 0x22, 0x33, n as u8]
}

fn pod_ip(node: u64, rng: &mut Rng) -> [u8; 4] {
    [10, 244, node as u8, rng.range(2, 250) as u8]
}

/// Append the inner transport layer and enough payload to reach `target` bytes.
fn transport(p: Packet, rng: &mut Rng, target: usize) -> Packet {
    let kind = rng.range(0, 9);
    let p = match kind {
        0..=6 => {
            let flags = match rng.range(0, 9) {
                0 => tcp_flags::SYN,
                1 => tcp_flags::SYN | tcp_flags::ACK,
                2 => tcp_flags::FIN | tcp_flags::ACK,
                _ => tcp_flags::PSH | tcp_flags::ACK,
            };
            let tcp = Tcp::new(
                rng.range(32768, 60999) as u16,
                [80, 443, 8080, 5432][rng.range(0, 3) as usize],
            )
            .flags(flags)
            .seq_ack(rng.next() as u32, rng.next() as u32)
            .window(64860);
            p.layer(tcp)
        }
        7 | 8 => p.layer(Udp::new(
            rng.range(32768, 60999) as u16,
            [53, 5000, 8125][rng.range(0, 2) as usize],
        )),
        _ => p.layer(Icmp::echo_request(
            rng.range(1, 65535) as u16,
            rng.range(1, 1000) as u16,
        )),
    };
    let used = p.len();
    p.payload_len(target.saturating_sub(used))
}

fn packet(rng: &mut Rng) -> Packet {
    let target = rng.range(MIN_FRAME as u64, MAX_FRAME as u64) as usize;
    let a = rng.range(0, NODES - 1);
    let b = (a + rng.range(1, NODES - 1)) % NODES;
    let outer = Packet::new().ethernet(node_mac(a), node_mac(b));
    match rng.range(0, 9) {
        // Flannel VXLAN.
        0..=3 => {
            let p = outer
                .layer(
                    Ipv4::new(node_ip(a), node_ip(b))
                        .df(false)
                        .id(rng.next() as u16),
                )
                .layer(Udp::new(rng.range(32768, 60999) as u16, 8472))
                .vxlan(1)
                .ethernet(vtep_mac(a), vtep_mac(b))
                .layer(
                    Ipv4::new(pod_ip(a, rng), pod_ip(b, rng))
                        .ttl(63)
                        .id(rng.next() as u16),
                );
            transport(p, rng, target)
        }
        // Calico IPIP.
        4..=6 => {
            let p = outer
                .layer(
                    Ipv4::new(node_ip(a), node_ip(b))
                        .ttl(63)
                        .df(false)
                        .id(rng.next() as u16),
                )
                .layer(
                    Ipv4::new(pod_ip(a, rng), pod_ip(b, rng))
                        .ttl(63)
                        .id(rng.next() as u16),
                );
            transport(p, rng, target)
        }
        // Plain node to node.
        _ => {
            let p = outer.layer(Ipv4::new(node_ip(a), node_ip(b)).id(rng.next() as u16));
            transport(p, rng, target)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: gen_capture OUT.pcap [PACKETS] [SEED]");
        return ExitCode::from(2);
    };
    let parse = |i: usize, default: u64| -> Result<u64, String> {
        args.get(i).map_or(Ok(default), |s| {
            s.parse().map_err(|_| format!("not a number: {s}"))
        })
    };
    let (count, seed) = match (parse(1, 1_000_000), parse(2, 1)) {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("gen_capture: {e}");
            return ExitCode::from(2);
        }
    };
    match generate(out, count, seed) {
        Ok(bytes) => {
            eprintln!("gen_capture: wrote {count} packets ({bytes} bytes) to {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_capture: {out}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(out: &str, count: u64, seed: u64) -> std::io::Result<u64> {
    let file = File::create(out)?;
    let mut w = PcapWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        linktype::ETHERNET,
        DEFAULT_SNAPLEN,
    )?;
    let mut rng = Rng(seed);
    let mut buf = Vec::with_capacity(MAX_FRAME);
    let mut bytes = 24u64;
    let start = Duration::from_secs(1_717_000_000);
    for i in 0..count {
        packet(&mut rng).build_into(&mut buf);
        let ts = start + Duration::from_micros(i * 10);
        w.write_packet(ts, &buf, buf.len() as u32)?;
        bytes += 16 + buf.len() as u64;
    }
    w.into_inner()?;
    Ok(bytes)
}
