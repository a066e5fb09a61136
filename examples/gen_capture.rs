//! The benchmark capture generator: a deterministic pcap of pod traffic as a node's
//! underlay sees it, built with netpath's own packet builder.
//!
//! ```text
//! cargo run --release --example gen_capture -- OUT.pcap [PACKETS] [SEED]
//! ```
//!
//! Defaults: 1,000,000 packets, seed 1. The mix: 40% Flannel VXLAN (UDP 8472, VNI 1),
//! 30% Calico IPIP (IPv4 protocol 4), 30% plain node-to-node traffic, each packet from one
//! of 1,000 conversations per kind among 50 nodes (flows of TCP 70%, UDP 20%, ICMP echo
//! 10%, both directions, TCP sequence numbers that advance); frame sizes uniform from 62 to
//! 1514 bytes (a tunnel packet cannot be shorter than its headers, so small draws become
//! the smallest frame of their kind). Every length and checksum is correct. The same seed
//! gives the same bytes.

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

/// Flows per kind of traffic: packets pick one at random, so the capture has the repeated
/// conversations of a real node (tcpdump tracks TCP sequence numbers per connection, and a
/// capture where every packet opened a new connection would measure that table instead).
const FLOWS_PER_KIND: usize = 1000;

/// One conversation between two pods (or two nodes, for plain traffic).
struct Flow {
    /// 0 Flannel VXLAN, 1 Calico IPIP, 2 plain.
    kind: u8,
    nodes: [u64; 2],
    /// Inner addresses (pods; the nodes for plain traffic).
    hosts: [[u8; 4]; 2],
    /// 0 TCP, 1 UDP, 2 ICMP echo.
    transport: u8,
    ports: [u16; 2],
    /// VXLAN source port per direction (Linux hashes the inner flow).
    vxlan_sport: [u16; 2],
    /// Next TCP sequence number (or ICMP echo sequence) per direction.
    seq: [u32; 2],
    /// Next IP id per direction.
    id: [u16; 2],
}

impl Flow {
    fn new(kind: u8, rng: &mut Rng) -> Flow {
        let a = rng.range(0, NODES - 1);
        let b = (a + rng.range(1, NODES - 1)) % NODES;
        let hosts = if kind == 2 {
            [node_ip(a), node_ip(b)]
        } else {
            [
                [10, 244, a as u8, rng.range(2, 250) as u8],
                [10, 244, b as u8, rng.range(2, 250) as u8],
            ]
        };
        let transport = match rng.range(0, 9) {
            0..=6 => 0,
            7 | 8 => 1,
            _ => 2,
        };
        let dport = match transport {
            0 => [80, 443, 8080, 5432][rng.range(0, 3) as usize],
            _ => [53, 5000, 8125][rng.range(0, 2) as usize],
        };
        Flow {
            kind,
            nodes: [a, b],
            hosts,
            transport,
            ports: [rng.range(32768, 60999) as u16, dport],
            vxlan_sport: [
                rng.range(32768, 60999) as u16,
                rng.range(32768, 60999) as u16,
            ],
            seq: [rng.next() as u32, rng.next() as u32],
            id: [rng.next() as u16, rng.next() as u16],
        }
    }

    /// The next packet of this flow in direction `d` (0 forward, 1 reply), about `target`
    /// bytes long.
    fn packet(&mut self, d: usize, target: usize, rng: &mut Rng) -> Packet {
        let e = 1 - d;
        let (na, nb) = (self.nodes[d], self.nodes[e]);
        let id = self.id[d];
        self.id[d] = id.wrapping_add(1);
        let p = Packet::new().ethernet(node_mac(na), node_mac(nb));
        let p = match self.kind {
            0 => p
                .layer(Ipv4::new(node_ip(na), node_ip(nb)).df(false).id(id))
                .layer(Udp::new(self.vxlan_sport[d], 8472))
                .vxlan(1)
                .ethernet(vtep_mac(na), vtep_mac(nb))
                .layer(Ipv4::new(self.hosts[d], self.hosts[e]).ttl(63).id(id)),
            1 => p
                .layer(Ipv4::new(node_ip(na), node_ip(nb)).ttl(63).df(false).id(id))
                .layer(Ipv4::new(self.hosts[d], self.hosts[e]).ttl(63).id(id)),
            _ => p.layer(Ipv4::new(self.hosts[d], self.hosts[e]).id(id)),
        };
        let (sport, dport) = (self.ports[d], self.ports[e]);
        let p = match self.transport {
            0 => {
                let flags = match rng.range(0, 49) {
                    0 => tcp_flags::SYN,
                    1 => tcp_flags::FIN | tcp_flags::ACK,
                    2..=19 => tcp_flags::ACK,
                    _ => tcp_flags::PSH | tcp_flags::ACK,
                };
                p.layer(
                    Tcp::new(sport, dport)
                        .flags(flags)
                        .seq_ack(self.seq[d], self.seq[e])
                        .window(64860),
                )
            }
            1 => p.layer(Udp::new(sport, dport)),
            _ => {
                let seq = self.seq[0] as u16;
                let icmp = if d == 0 {
                    Icmp::echo_request(self.ports[0], seq)
                } else {
                    Icmp::echo_reply(self.ports[0], seq)
                };
                p.layer(icmp)
            }
        };
        let payload = target.saturating_sub(p.len());
        if self.transport == 0 {
            self.seq[d] = self.seq[d].wrapping_add(payload as u32);
        } else if self.transport == 2 && d == 1 {
            self.seq[0] = self.seq[0].wrapping_add(1);
        }
        p.payload_len(payload)
    }
}

/// The generator: the flows and the random stream.
struct Generator {
    rng: Rng,
    flows: Vec<Vec<Flow>>,
}

impl Generator {
    fn new(seed: u64) -> Generator {
        let mut rng = Rng(seed);
        let flows = (0..3u8)
            .map(|kind| {
                (0..FLOWS_PER_KIND)
                    .map(|_| Flow::new(kind, &mut rng))
                    .collect()
            })
            .collect();
        Generator { rng, flows }
    }

    fn packet(&mut self) -> Packet {
        let rng = &mut self.rng;
        let target = rng.range(MIN_FRAME as u64, MAX_FRAME as u64) as usize;
        let kind = match rng.range(0, 9) {
            0..=3 => 0,
            4..=6 => 1,
            _ => 2,
        };
        let flow = rng.range(0, FLOWS_PER_KIND as u64 - 1) as usize;
        let d = rng.range(0, 1) as usize;
        self.flows[kind][flow].packet(d, target, rng)
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
    let mut generator = Generator::new(seed);
    let mut buf = Vec::with_capacity(MAX_FRAME);
    let mut bytes = 24u64;
    let start = Duration::from_secs(1_717_000_000);
    for i in 0..count {
        generator.packet().build_into(&mut buf);
        let ts = start + Duration::from_micros(i * 10);
        w.write_packet(ts, &buf, buf.len() as u32)?;
        bytes += 16 + buf.len() as u64;
    }
    w.into_inner()?;
    Ok(bytes)
}
