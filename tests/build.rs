//! The packet builder checked against independent parsers (etherparse, libpcap), and the
//! built test captures in testdata/: every file there that does not start with `kernel-`
//! is made here, byte for byte. Regenerate them with
//! `NETPATH_UPDATE_TESTDATA=1 cargo test --test build`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use netpath::pcapwrite::PcapWriter;
use netpath::wire::build::{
    Checksum, Frame, Gbp, Icmp, Icmpv6, Ipv4, Ipv6, Ipv6Ext, Layer, Packet, Sll2, Tcp, Udp, Vlan,
    Vxlan, linktype, packet_type, tcp_flags,
};

// ---------------------------------------------------------------------------------------
// The cluster the captures show: two nodes, Flannel pods in 10.244.0.0/16 and Calico pods
// in /26 blocks, as the reference material describes them.

const NODE1_IP: [u8; 4] = [192, 168, 1, 11];
const NODE2_IP: [u8; 4] = [192, 168, 1, 12];
const NODE1_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x01, 0x00, 0x0b];
const NODE2_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x01, 0x00, 0x0c];
/// flannel.1 MACs: random, locally administered.
const FLANNEL1_MAC: [u8; 6] = [0x7a, 0x3c, 0x11, 0x22, 0x33, 0x01];
const FLANNEL2_MAC: [u8; 6] = [0x7a, 0x3c, 0x11, 0x22, 0x33, 0x02];
/// vxlan.calico MACs: 0x66 then sha1(node name) bytes.
const CALICO1_MAC: [u8; 6] = [0x66, 0xf9, 0x37, 0xc3, 0x7e, 0x94];
const CALICO2_MAC: [u8; 6] = [0x66, 0x74, 0x9e, 0x10, 0x2a, 0x51];
const POD_A: [u8; 4] = [10, 244, 1, 5];
const POD_B: [u8; 4] = [10, 244, 2, 7];
const CALICO_POD_A: [u8; 4] = [10, 244, 0, 192];
const CALICO_POD_B: [u8; 4] = [10, 244, 5, 200];

/// One test capture: its file name, link type, file snaplen and packets.
struct Capture {
    name: &'static str,
    linktype: u32,
    snaplen: u32,
    frames: Vec<Frame>,
}

/// The outer headers Flannel's flannel.1 puts around a pod packet from node1 to node2
/// (or back with `reply`).
fn flannel(reply: bool, sport: u16) -> Packet {
    let (smac, dmac, sip, dip, sv, dv) = if reply {
        (
            NODE2_MAC,
            NODE1_MAC,
            NODE2_IP,
            NODE1_IP,
            FLANNEL2_MAC,
            FLANNEL1_MAC,
        )
    } else {
        (
            NODE1_MAC,
            NODE2_MAC,
            NODE1_IP,
            NODE2_IP,
            FLANNEL1_MAC,
            FLANNEL2_MAC,
        )
    };
    Packet::new()
        .ethernet(smac, dmac)
        .layer(Ipv4::new(sip, dip).df(false).id(sport ^ 0x5a5a))
        .udp(sport, 8472)
        .vxlan(1)
        .ethernet(sv, dv)
}

fn calico_vxlan(reply: bool, sport: u16) -> Packet {
    let (smac, dmac, sip, dip, sv, dv) = if reply {
        (
            NODE2_MAC,
            NODE1_MAC,
            NODE2_IP,
            NODE1_IP,
            CALICO2_MAC,
            CALICO1_MAC,
        )
    } else {
        (
            NODE1_MAC,
            NODE2_MAC,
            NODE1_IP,
            NODE2_IP,
            CALICO1_MAC,
            CALICO2_MAC,
        )
    };
    Packet::new()
        .ethernet(smac, dmac)
        .layer(Ipv4::new(sip, dip).df(false).id(sport ^ 0x1234))
        .udp(sport, 4789)
        .vxlan(4096)
        .ethernet(sv, dv)
}

/// Calico IPIP outer header: TTL inherited from the inner packet, DF not forced.
fn ipip_outer(reply: bool, inner_ttl: u8, id: u16) -> Ipv4 {
    let (s, d) = if reply {
        (NODE2_IP, NODE1_IP)
    } else {
        (NODE1_IP, NODE2_IP)
    };
    Ipv4::new(s, d).ttl(inner_ttl).df(false).id(id)
}

/// A TCP handshake plus one request and a FIN, from `a:sport` to `b:80`, inside `wrap`
/// (which gets `reply` true for packets from `b`). Inner TTL is 63: decremented once by
/// the sending node.
fn tcp_conversation(
    wrap: &dyn Fn(bool) -> Packet,
    a: [u8; 4],
    b: [u8; 4],
    sport: u16,
) -> Vec<Frame> {
    let seq_a = 3_810_778_318u32;
    let seq_b = 1_102_334_455u32;
    let req = b"GET / HTTP/1.1\r\nHost: web\r\n\r\n";
    // (from b, flags, seq, ack, payload, inner IP id)
    type Step<'a> = (bool, u8, u32, u32, &'a [u8], u16);
    let steps: [Step; 5] = [
        (false, tcp_flags::SYN, seq_a, 0, b"", 1),
        (
            true,
            tcp_flags::SYN | tcp_flags::ACK,
            seq_b,
            seq_a + 1,
            b"",
            0,
        ),
        (false, tcp_flags::ACK, seq_a + 1, seq_b + 1, b"", 2),
        (
            false,
            tcp_flags::PSH | tcp_flags::ACK,
            seq_a + 1,
            seq_b + 1,
            req,
            3,
        ),
        (
            true,
            tcp_flags::FIN | tcp_flags::ACK,
            seq_b + 1,
            seq_a + 1 + req.len() as u32,
            b"",
            1,
        ),
    ];
    steps
        .iter()
        .map(|&(reply, flags, seq, ack, data, id)| {
            let (s, d, sp, dp) = if reply {
                (b, a, 80, sport)
            } else {
                (a, b, sport, 80)
            };
            let mut tcp = Tcp::new(sp, dp)
                .flags(flags)
                .seq_ack(seq, ack)
                .window(64860);
            if flags & tcp_flags::SYN != 0 {
                tcp = tcp.mss(1410);
            }
            wrap(reply)
                .layer(Ipv4::new(s, d).ttl(63).id(id))
                .layer(tcp)
                .payload(data)
                .build()
        })
        .collect()
}

fn echo_pair(wrap: &dyn Fn(bool) -> Packet, a: [u8; 4], b: [u8; 4], id: u16) -> Vec<Frame> {
    vec![
        wrap(false)
            .layer(Ipv4::new(a, b).ttl(63).id(40000))
            .layer(Icmp::echo_request(id, 1))
            .payload_len(56)
            .build(),
        wrap(true)
            .layer(Ipv4::new(b, a).ttl(63).id(50000).df(false))
            .layer(Icmp::echo_reply(id, 1))
            .payload_len(56)
            .build(),
    ]
}

fn dns_query(wrap: &dyn Fn(bool) -> Packet, a: [u8; 4], b: [u8; 4]) -> Frame {
    // A query for kubernetes.default.svc.cluster.local, type A.
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["kubernetes", "default", "svc", "cluster", "local"] {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    wrap(false)
        .layer(Ipv4::new(a, b).ttl(63).id(777).df(false))
        .udp(53124, 53)
        .payload(&q)
        .build()
}

fn captures() -> Vec<Capture> {
    let mut out = Vec::new();

    // Flannel VXLAN (port 8472, VNI 1), as seen on node2's eth0.
    let f = |reply: bool| flannel(reply, if reply { 38211 } else { 47413 });
    let mut frames = tcp_conversation(&f, POD_A, POD_B, 40624);
    frames.extend(echo_pair(&f, POD_A, POD_B, 7));
    frames.push(dns_query(&f, POD_A, [10, 244, 2, 10]));
    // A full-size segment: inner IP of 1450 bytes, exactly flannel.1's MTU (1500 - 50).
    frames.push(
        f(true)
            .layer(Ipv4::new(POD_B, POD_A).ttl(63).id(4))
            .layer(
                Tcp::new(80, 40624)
                    .flags(tcp_flags::ACK)
                    .seq_ack(1_102_334_456, 3_810_778_348),
            )
            .payload_len(1410)
            .build(),
    );
    out.push(Capture {
        name: "flannel-vxlan-8472.pcap",
        linktype: linktype::ETHERNET,
        snaplen: 262_144,
        frames,
    });

    // Calico VXLAN (port 4789, VNI 4096).
    let c = |reply: bool| calico_vxlan(reply, if reply { 51327 } else { 34455 });
    let mut frames = tcp_conversation(&c, CALICO_POD_A, CALICO_POD_B, 40624);
    frames.extend(echo_pair(&c, CALICO_POD_A, CALICO_POD_B, 9));
    frames.push(dns_query(&c, CALICO_POD_A, [10, 244, 5, 201]));
    out.push(Capture {
        name: "calico-vxlan-4789.pcap",
        linktype: linktype::ETHERNET,
        snaplen: 262_144,
        frames,
    });

    // Calico IPIP on the underlay, Ethernet.
    let ipip_ids = std::cell::Cell::new(4660u16);
    let ipip_eth = |reply: bool| {
        let id = ipip_ids.get();
        ipip_ids.set(id + 1);
        let (s, d) = if reply {
            (NODE2_MAC, NODE1_MAC)
        } else {
            (NODE1_MAC, NODE2_MAC)
        };
        Packet::new()
            .ethernet(s, d)
            .layer(ipip_outer(reply, 63, id))
    };
    let mut frames = tcp_conversation(&ipip_eth, CALICO_POD_A, CALICO_POD_B, 40624);
    frames.extend(echo_pair(&ipip_eth, CALICO_POD_A, CALICO_POD_B, 7));
    out.push(Capture {
        name: "calico-ipip-eth.pcap",
        linktype: linktype::ETHERNET,
        snaplen: 262_144,
        frames,
    });

    // The same traffic as `tcpdump -i any` sees it on node1: each packet twice, once on
    // tunl0 (ARPHRD_TUNNEL, no link address: the inner packet) and once on eth0 (the
    // encapsulated one), in cooked v2.
    let tunl0 = |reply: bool| {
        Packet::new().layer(Sll2 {
            ifindex: 3,
            packet_type: if reply {
                packet_type::HOST
            } else {
                packet_type::OUTGOING
            },
            hatype: 768,
            addr: Vec::new(),
            protocol: None,
        })
    };
    let ipip_ids = std::cell::Cell::new(4660u16);
    let eth0 = |reply: bool| {
        let id = ipip_ids.get();
        ipip_ids.set(id + 1);
        let (pt, mac) = if reply {
            (packet_type::HOST, NODE2_MAC)
        } else {
            (packet_type::OUTGOING, NODE1_MAC)
        };
        Packet::new()
            .sll2(2, pt, mac)
            .layer(ipip_outer(reply, 63, id))
    };
    let inner = tcp_conversation(&tunl0, CALICO_POD_A, CALICO_POD_B, 40624);
    let outer = tcp_conversation(&eth0, CALICO_POD_A, CALICO_POD_B, 40624);
    let mut frames = Vec::new();
    for (i, o) in inner.into_iter().zip(outer) {
        // Sent: tunl0 first, then eth0; received: eth0 first, then tunl0.
        let received = i.data[10] == packet_type::HOST;
        if received {
            frames.extend([o, i]);
        } else {
            frames.extend([i, o]);
        }
    }
    out.push(Capture {
        name: "calico-ipip-sll2.pcap",
        linktype: linktype::LINUX_SLL2,
        snaplen: 262_144,
        frames,
    });

    // What a capture on tunl0 itself gives: raw IP, no link header.
    let raw = |_reply: bool| Packet::new();
    let mut frames = echo_pair(&raw, CALICO_POD_A, CALICO_POD_B, 7);
    frames.extend(
        tcp_conversation(&raw, CALICO_POD_A, CALICO_POD_B, 40624)
            .into_iter()
            .take(2),
    );
    out.push(Capture {
        name: "tunl0-raw.pcap",
        linktype: linktype::RAW,
        snaplen: 262_144,
        frames,
    });

    // Plain traffic: TCP, UDP, ICMP (padded to Ethernet's 60-byte minimum), ARP, IPv6
    // with extension headers, and IPv4 fragments.
    let plain = |reply: bool| {
        let (s, d) = if reply {
            (NODE2_MAC, NODE1_MAC)
        } else {
            (NODE1_MAC, NODE2_MAC)
        };
        Packet::new().ethernet(s, d)
    };
    let mut frames = Vec::new();
    frames.push(
        Packet::new()
            .ethernet(NODE1_MAC, [0xff; 6])
            .layer(netpath::wire::build::Arp {
                op: 1,
                sender_mac: NODE1_MAC,
                sender_ip: NODE1_IP.into(),
                target_mac: [0; 6],
                target_ip: NODE2_IP.into(),
            })
            .pad_to(60)
            .build(),
    );
    frames.push(
        plain(true)
            .layer(netpath::wire::build::Arp {
                op: 2,
                sender_mac: NODE2_MAC,
                sender_ip: NODE2_IP.into(),
                target_mac: NODE1_MAC,
                target_ip: NODE1_IP.into(),
            })
            .pad_to(60)
            .build(),
    );
    let node_tcp = |reply: bool| plain(reply);
    frames.extend(
        tcp_conversation(&node_tcp, NODE1_IP, NODE2_IP, 51000)
            .into_iter()
            .take(3),
    );
    frames.push(dns_query(&plain, NODE1_IP, [192, 168, 1, 2]));
    frames.push(
        plain(false)
            .layer(Ipv4::new(NODE1_IP, NODE2_IP).id(100))
            .layer(Icmp::echo_request(1, 1))
            .pad_to(60)
            .build(),
    );
    let v6a = std::net::Ipv6Addr::new(0xfd00, 0x10, 0x244, 1, 0, 0, 0, 5);
    let v6b = std::net::Ipv6Addr::new(0xfd00, 0x10, 0x244, 2, 0, 0, 0, 7);
    frames.push(
        plain(false)
            .layer(Ipv6::new(v6a, v6b).ext(Ipv6Ext::HopByHop))
            .layer(Icmpv6::echo_request(3, 1))
            .payload_len(16)
            .build(),
    );
    frames.push(
        plain(false)
            .ipv6(v6a, v6b)
            .layer(
                Tcp::new(40000, 443)
                    .flags(tcp_flags::SYN)
                    .seq_ack(1, 0)
                    .mss(1440),
            )
            .build(),
    );
    // A 2000-byte UDP datagram in two IPv4 fragments (1480 + 528 bytes of IP payload).
    let datagram = Packet::new()
        .ipv4(NODE1_IP, NODE2_IP)
        .udp(40000, 9000)
        .payload_len(2000)
        .build()
        .data;
    let udp_bytes = &datagram[20..];
    frames.push(
        plain(false)
            .layer(
                Ipv4::new(NODE1_IP, NODE2_IP)
                    .id(9)
                    .fragment(0, true)
                    .protocol(17),
            )
            .payload(&udp_bytes[..1480])
            .build(),
    );
    frames.push(
        plain(false)
            .layer(
                Ipv4::new(NODE1_IP, NODE2_IP)
                    .id(9)
                    .fragment(185, false)
                    .protocol(17),
            )
            .payload(&udp_bytes[1480..])
            .build(),
    );
    out.push(Capture {
        name: "plain-eth.pcap",
        linktype: linktype::ETHERNET,
        snaplen: 262_144,
        frames,
    });

    // 802.1Q and QinQ.
    let tagged = |reply: bool| plain(reply).vlan(100);
    let mut frames = tcp_conversation(&tagged, NODE1_IP, NODE2_IP, 51001)
        .into_iter()
        .take(2)
        .collect::<Vec<_>>();
    frames.push(
        plain(false)
            .layer(Vlan::service(300))
            .vlan(100)
            .layer(Ipv4::new(NODE1_IP, NODE2_IP).df(false).id(77))
            .udp(34455, 4789)
            .vxlan(4096)
            .ethernet(CALICO1_MAC, CALICO2_MAC)
            .layer(Ipv4::new(CALICO_POD_A, CALICO_POD_B).ttl(63))
            .layer(Icmp::echo_request(5, 2))
            .payload_len(32)
            .build(),
    );
    out.push(Capture {
        name: "vlan-8021q.pcap",
        linktype: linktype::ETHERNET,
        snaplen: 262_144,
        frames,
    });

    // Snaplen 96: VXLAN packets cut inside the inner TCP header or payload, and an IPIP
    // packet cut inside its payload.
    let mut frames: Vec<Frame> = tcp_conversation(&f, POD_A, POD_B, 40624)
        .into_iter()
        .map(|fr| fr.truncate(96))
        .collect();
    frames.extend(
        echo_pair(&ipip_eth, CALICO_POD_A, CALICO_POD_B, 11)
            .into_iter()
            .map(|fr| fr.truncate(96)),
    );
    out.push(Capture {
        name: "truncated-snaplen96.pcap",
        linktype: linktype::ETHERNET,
        snaplen: 96,
        frames,
    });

    // Checksums: bad everywhere one can be bad, a correct non-zero VXLAN outer UDP
    // checksum, and the partial checksums a capture on the sending host shows (offload).
    let frames = vec![
        plain(false)
            .layer(Ipv4::new(NODE1_IP, NODE2_IP).checksum(Checksum::Bad))
            .layer(Icmp::echo_request(1, 2))
            .pad_to(60)
            .build(),
        plain(false)
            .ipv4(NODE1_IP, NODE2_IP)
            .layer(
                Tcp::new(51000, 80)
                    .flags(tcp_flags::SYN)
                    .checksum(Checksum::Bad),
            )
            .build(),
        plain(false)
            .ipv4(NODE1_IP, NODE2_IP)
            .layer(Udp::new(53124, 53).checksum(Checksum::Bad))
            .payload_len(20)
            .build(),
        plain(false)
            .ipv4(NODE1_IP, NODE2_IP)
            .layer(Icmp::echo_request(1, 3).checksum(Checksum::Bad))
            .pad_to(60)
            .build(),
        // VXLAN: outer UDP checksum bad; outer correct with the inner TCP checksum bad;
        // outer zero (no checksum); inner TCP offloaded (sending host).
        Packet::new()
            .ethernet(NODE1_MAC, NODE2_MAC)
            .layer(Ipv4::new(NODE1_IP, NODE2_IP).df(false))
            .layer(Udp::new(47413, 8472).checksum(Checksum::Bad))
            .vxlan(1)
            .ethernet(FLANNEL1_MAC, FLANNEL2_MAC)
            .layer(Ipv4::new(POD_A, POD_B).ttl(63))
            .layer(Tcp::new(40624, 80).flags(tcp_flags::SYN))
            .build(),
        flannel(false, 47413)
            .layer(Ipv4::new(POD_A, POD_B).ttl(63))
            .layer(
                Tcp::new(40624, 80)
                    .flags(tcp_flags::SYN)
                    .checksum(Checksum::Bad),
            )
            .build(),
        Packet::new()
            .ethernet(NODE1_MAC, NODE2_MAC)
            .layer(Ipv4::new(NODE1_IP, NODE2_IP).df(false))
            .layer(Udp::new(47413, 8472).checksum(Checksum::Zero))
            .vxlan(1)
            .ethernet(FLANNEL1_MAC, FLANNEL2_MAC)
            .layer(Ipv4::new(POD_A, POD_B).ttl(63))
            .layer(Tcp::new(40624, 80).flags(tcp_flags::SYN))
            .build(),
        Packet::new()
            .ethernet(NODE1_MAC, NODE2_MAC)
            .layer(Ipv4::new(NODE1_IP, NODE2_IP).df(false))
            .layer(Udp::new(47413, 8472).checksum(Checksum::Offloaded))
            .vxlan(1)
            .ethernet(FLANNEL1_MAC, FLANNEL2_MAC)
            .layer(Ipv4::new(POD_A, POD_B).ttl(63))
            .layer(
                Tcp::new(40624, 80)
                    .flags(tcp_flags::SYN)
                    .checksum(Checksum::Offloaded),
            )
            .build(),
        // IPIP with a bad inner IP header checksum.
        Packet::new()
            .ethernet(NODE1_MAC, NODE2_MAC)
            .layer(ipip_outer(false, 63, 1))
            .layer(
                Ipv4::new(CALICO_POD_A, CALICO_POD_B)
                    .ttl(63)
                    .checksum(Checksum::Bad),
            )
            .layer(Icmp::echo_request(7, 1))
            .build(),
    ];
    out.push(Capture {
        name: "bad-checksums.pcap",
        linktype: linktype::ETHERNET,
        snaplen: 262_144,
        frames,
    });

    // Other tunnels and oddities: IPv6 in IPv4 (41), VXLAN with GBP, IPv6 inside VXLAN,
    // VXLAN on a non-default port (for --vxlan-port), Flannel's UDP backend (8285, raw IP
    // inside), and inner packets larger than the tunnel's MTU (VXLAN 1450, IPIP 1480).
    let frames = vec![
        plain(false)
            .layer(Ipv4::new(NODE1_IP, NODE2_IP).df(false))
            .ipv6(v6a, v6b)
            .layer(Icmpv6::echo_request(1, 1))
            .build(),
        plain(false)
            .layer(Ipv4::new(NODE1_IP, NODE2_IP).df(false))
            .udp(40001, 4789)
            .layer(Vxlan::new(4096).gbp(Gbp {
                group: 100,
                dont_learn: true,
                applied: false,
            }))
            .ethernet(CALICO1_MAC, CALICO2_MAC)
            .layer(Ipv4::new(CALICO_POD_A, CALICO_POD_B).ttl(63))
            .layer(Icmp::echo_request(2, 1))
            .build(),
        flannel(false, 47414)
            .ipv6(v6a, v6b)
            .layer(Tcp::new(40000, 443).flags(tcp_flags::SYN).mss(1390))
            .build(),
        plain(false)
            .layer(Ipv4::new(NODE1_IP, NODE2_IP).df(false))
            .udp(40002, 8999)
            .vxlan(42)
            .ethernet(FLANNEL1_MAC, FLANNEL2_MAC)
            .layer(Ipv4::new(POD_A, POD_B).ttl(63))
            .udp(5000, 5001)
            .payload(b"custom port")
            .build(),
        plain(false)
            .layer(Ipv4::new(NODE1_IP, NODE2_IP).df(false))
            .udp(8285, 8285)
            .layer(Ipv4::new(POD_A, POD_B).ttl(63))
            .layer(Icmp::echo_request(4, 1))
            .payload_len(56)
            .build(),
        flannel(false, 47415)
            .layer(Ipv4::new(POD_A, POD_B).ttl(63).id(5))
            .layer(Tcp::new(40624, 80).flags(tcp_flags::ACK).seq_ack(1, 1))
            .payload_len(1460)
            .build(),
        plain(false)
            .layer(ipip_outer(false, 63, 2))
            .layer(Ipv4::new(CALICO_POD_A, CALICO_POD_B).ttl(63).id(6))
            .layer(Tcp::new(40624, 80).flags(tcp_flags::ACK).seq_ack(1, 1))
            .payload_len(1460)
            .build(),
    ];
    out.push(Capture {
        name: "misc-tunnels.pcap",
        linktype: linktype::ETHERNET,
        snaplen: 262_144,
        frames,
    });

    // Linux cooked v1 (older `tcpdump -i any`) carrying Flannel VXLAN.
    let sll = |reply: bool| {
        let (sip, dip, smac) = if reply {
            (NODE2_IP, NODE1_IP, NODE2_MAC)
        } else {
            (NODE1_IP, NODE2_IP, NODE1_MAC)
        };
        Packet::new()
            .sll(
                if reply {
                    packet_type::HOST
                } else {
                    packet_type::OUTGOING
                },
                smac,
            )
            .layer(Ipv4::new(sip, dip).df(false))
            .udp(if reply { 38211 } else { 47413 }, 8472)
            .vxlan(1)
            .ethernet(
                if reply { FLANNEL2_MAC } else { FLANNEL1_MAC },
                if reply { FLANNEL1_MAC } else { FLANNEL2_MAC },
            )
    };
    out.push(Capture {
        name: "flannel-vxlan-sll.pcap",
        linktype: linktype::LINUX_SLL,
        snaplen: 262_144,
        frames: echo_pair(&sll, POD_A, POD_B, 12),
    });

    // BSD loopback (LINKTYPE_NULL): IPv4 and IPv6.
    let null = |_reply: bool| Packet::new().layer(netpath::wire::build::Null::default());
    let mut frames = echo_pair(&null, [127, 0, 0, 1], [127, 0, 0, 1], 1);
    frames.push(
        null(false)
            .ipv6(std::net::Ipv6Addr::LOCALHOST, std::net::Ipv6Addr::LOCALHOST)
            .layer(Icmpv6::echo_request(1, 1))
            .build(),
    );
    out.push(Capture {
        name: "null-loopback.pcap",
        linktype: linktype::NULL,
        snaplen: 262_144,
        frames,
    });

    out
}

/// The capture as pcap bytes, with timestamps 1 ms apart from a fixed start.
fn pcap_bytes(c: &Capture) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), c.linktype, c.snaplen).unwrap();
    for (i, f) in c.frames.iter().enumerate() {
        let ts = Duration::from_secs(1_717_000_000) + Duration::from_millis(i as u64);
        w.write_packet(ts, &f.data, f.orig_len as u32).unwrap();
    }
    w.into_inner().unwrap()
}

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

#[test]
fn testdata_is_what_the_builder_makes() {
    let update = std::env::var("NETPATH_UPDATE_TESTDATA").is_ok_and(|v| v == "1");
    let dir = testdata();
    let mut stale = Vec::new();
    for c in captures() {
        let bytes = pcap_bytes(&c);
        assert!(bytes.len() < 16 * 1024, "{} is too big", c.name);
        let path = dir.join(c.name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            stale.push(c.name);
        }
    }
    assert!(
        stale.is_empty(),
        "testdata out of date with the builder: {stale:?}; run NETPATH_UPDATE_TESTDATA=1 cargo test --test build"
    );
}

#[test]
fn libpcap_reads_every_built_capture() {
    for c in captures() {
        let path = testdata().join(c.name);
        let mut cap =
            pcap::Capture::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // libpcap hands LINKTYPE_RAW (101) back as its DLT_RAW, which is 12 on Linux.
        let dlt = match cap.get_datalink().0 {
            12 => linktype::RAW,
            n => n as u32,
        };
        assert_eq!(dlt, c.linktype, "{}", c.name);
        let mut n = 0;
        while let Ok(p) = cap.next_packet() {
            let f = &c.frames[n];
            assert_eq!(p.data, &f.data[..], "{} packet {}", c.name, n + 1);
            assert_eq!(p.header.len as usize, f.orig_len);
            n += 1;
        }
        assert_eq!(n, c.frames.len(), "{}", c.name);
    }
}

/// Walk a frame with etherparse from `link` down, through VXLAN (8472/4789/8999) into the
/// inner Ethernet frame and through IPIP, and collect (layer, checksum ok) for every
/// checksum etherparse lets us verify.
fn checksums(data: &[u8], link: u32) -> Vec<(&'static str, bool)> {
    let mut out = Vec::new();
    let sliced = match link {
        linktype::ETHERNET => SlicedPacket::from_ethernet(data),
        linktype::RAW => SlicedPacket::from_ip(data),
        linktype::LINUX_SLL2 => SlicedPacket::from_ether_type(
            etherparse::EtherType(u16::from_be_bytes([data[0], data[1]])),
            &data[20..],
        ),
        linktype::LINUX_SLL => SlicedPacket::from_ether_type(
            etherparse::EtherType(u16::from_be_bytes([data[14], data[15]])),
            &data[16..],
        ),
        linktype::NULL => SlicedPacket::from_ip(&data[4..]),
        _ => return out,
    };
    let Ok(sliced) = sliced else { return out };
    let Some(net) = &sliced.net else { return out };
    match net {
        NetSlice::Ipv4(ip) => {
            let h = ip.header().to_header();
            out.push(("ipv4", h.calc_header_checksum() == h.header_checksum));
            if ip.is_payload_fragmented() {
                return out;
            }
            let payload = ip.payload().payload;
            if ip.header().protocol() == etherparse::IpNumber(4) {
                out.extend(checksums(payload, linktype::RAW));
                return out;
            }
            match &sliced.transport {
                Some(TransportSlice::Udp(u)) => {
                    let hdr = u.to_header();
                    if hdr.checksum != 0 {
                        let calc = hdr
                            .calc_checksum_ipv4_raw(
                                ip.header().source(),
                                ip.header().destination(),
                                u.payload(),
                            )
                            .unwrap();
                        out.push(("udp", calc == hdr.checksum));
                    }
                    if [8472, 4789, 8999].contains(&hdr.destination_port) && u.payload().len() >= 8
                    {
                        out.extend(checksums(&u.payload()[8..], linktype::ETHERNET));
                    }
                }
                Some(TransportSlice::Tcp(t)) => {
                    let calc = t
                        .to_header()
                        .calc_checksum_ipv4_raw(
                            ip.header().source(),
                            ip.header().destination(),
                            t.payload(),
                        )
                        .unwrap();
                    out.push(("tcp", calc == t.checksum()));
                }
                Some(TransportSlice::Icmpv4(i)) => {
                    let calc = i.header().icmp_type.calc_checksum(i.payload());
                    out.push(("icmp", calc == i.checksum()));
                }
                _ => {}
            }
        }
        NetSlice::Ipv6(ip) => {
            let (s, d) = (ip.header().source(), ip.header().destination());
            match &sliced.transport {
                Some(TransportSlice::Tcp(t)) => {
                    let calc = t
                        .to_header()
                        .calc_checksum_ipv6_raw(s, d, t.payload())
                        .unwrap();
                    out.push(("tcp", calc == t.checksum()));
                }
                Some(TransportSlice::Icmpv6(i)) => {
                    let calc = i
                        .header()
                        .icmp_type
                        .calc_checksum(s, d, i.payload())
                        .unwrap();
                    out.push(("icmpv6", calc == i.checksum()));
                }
                _ => {}
            }
        }
        _ => {}
    }
    out
}

#[test]
fn etherparse_agrees_the_checksums_are_right() {
    for c in captures() {
        if c.name == "bad-checksums.pcap" || c.snaplen < 262_144 {
            continue;
        }
        for (i, f) in c.frames.iter().enumerate() {
            let sums = checksums(&f.data, c.linktype);
            let bad: Vec<_> = sums.iter().filter(|(_, ok)| !ok).collect();
            assert!(bad.is_empty(), "{} packet {}: {bad:?}", c.name, i + 1);
        }
    }
}

#[test]
fn etherparse_sees_each_deliberately_bad_checksum() {
    let c = captures()
        .into_iter()
        .find(|c| c.name == "bad-checksums.pcap")
        .unwrap();
    let seen: Vec<Vec<(&str, bool)>> = c
        .frames
        .iter()
        .map(|f| checksums(&f.data, c.linktype))
        .collect();
    let first_bad = |i: usize| seen[i].iter().find(|(_, ok)| !ok).map(|(l, _)| *l);
    assert_eq!(first_bad(0), Some("ipv4"));
    assert_eq!(first_bad(1), Some("tcp"));
    assert_eq!(first_bad(2), Some("udp"));
    assert_eq!(first_bad(3), Some("icmp"));
    assert_eq!(first_bad(4), Some("udp"), "VXLAN outer UDP");
    assert_eq!(
        seen[5],
        vec![
            ("ipv4", true),
            ("udp", true),
            ("ipv4", true),
            ("tcp", false)
        ]
    );
    assert_eq!(
        seen[6],
        vec![("ipv4", true), ("ipv4", true), ("tcp", true)],
        "zero = none"
    );
    // Offloaded: both partial sums read as wrong to a verifier.
    assert_eq!(
        seen[7],
        vec![
            ("ipv4", true),
            ("udp", false),
            ("ipv4", true),
            ("tcp", false)
        ]
    );
    assert_eq!(
        seen[8],
        vec![("ipv4", true), ("ipv4", false), ("icmp", true)]
    );
}

#[test]
fn vxlan_headers_carry_the_vni_and_port() {
    for (name, port, vni) in [
        ("flannel-vxlan-8472.pcap", 8472u16, 1u32),
        ("calico-vxlan-4789.pcap", 4789, 4096),
    ] {
        let c = captures().into_iter().find(|c| c.name == name).unwrap();
        for f in &c.frames {
            let p = SlicedPacket::from_ethernet(&f.data).unwrap();
            let Some(TransportSlice::Udp(u)) = p.transport else {
                panic!("{name}: no UDP")
            };
            assert_eq!(u.destination_port(), port);
            let v = u.payload();
            assert_eq!(v[0], 0x08);
            assert_eq!(u32::from_be_bytes([0, v[4], v[5], v[6]]), vni);
            let inner = SlicedPacket::from_ethernet(&v[8..]).unwrap();
            let Some(etherparse::LinkSlice::Ethernet2(e)) = inner.link else {
                panic!()
            };
            assert_eq!(
                e.source()[0] & 0x02,
                0x02,
                "VTEP MACs are locally administered"
            );
        }
    }
}

#[test]
fn truncated_frames_keep_their_wire_length() {
    let c = captures()
        .into_iter()
        .find(|c| c.name == "truncated-snaplen96.pcap")
        .unwrap();
    for f in &c.frames {
        assert!(f.data.len() <= 96);
        assert!(f.orig_len > 96);
    }
}

#[test]
fn layer_stack_round_trips_through_etherparse() {
    // IPv6 extension chain: etherparse walks it to ICMPv6.
    let f = Packet::new()
        .ethernet([2; 6], [4; 6])
        .layer(
            Ipv6::new(std::net::Ipv6Addr::LOCALHOST, std::net::Ipv6Addr::LOCALHOST)
                .ext(Ipv6Ext::HopByHop),
        )
        .layer(Icmpv6::echo_request(1, 1))
        .build();
    let p = SlicedPacket::from_ethernet(&f.data).unwrap();
    assert!(matches!(p.transport, Some(TransportSlice::Icmpv6(_))));
    // A raw layer is taken as is.
    let f = Packet::new().layer(Layer::Raw(vec![1, 2, 3])).build();
    assert_eq!(f.data, vec![1, 2, 3]);
}

// ---------------------------------------------------------------------------------------
// Property: random packets from the builder, whole or cut anywhere, decode without panic
// and render in every view; whole ones decode to exactly the layers that were built, with
// every checksum good except the one deliberately broken; cut ones to a prefix of them.

mod random {
    use super::*;
    use netpath::decode::{self, DecodeOptions, Header, Names, Stats};
    use netpath::pcapfile::Timestamp;
    use netpath::render::decode::{FrameInfo, write_json, write_line, write_tree};
    use netpath::wire::LinkType;
    use netpath::wire::build::{Null, Sll};
    use proptest::prelude::*;

    /// How one IP level leads to the next.
    #[derive(Debug, Clone, Copy)]
    enum Encap {
        /// VXLAN on this UDP port, inner Ethernet.
        Vxlan(u16),
        /// IP directly inside (protocol 4 or 41); only under IPv4.
        IpInIp,
        /// Flannel's UDP backend: UDP 8285, raw IP inside.
        FlannelUdp,
    }

    #[derive(Debug, Clone)]
    struct Spec {
        link: u8,
        vlans: u8,
        /// (IPv6?, hop-by-hop header?) per IP level, outer first.
        levels: Vec<(bool, bool)>,
        /// How level i leads to level i + 1.
        encaps: Vec<Encap>,
        /// 0 TCP, 1 UDP, 2 ICMP(v6), 3 nothing known.
        transport: u8,
        ports: (u16, u16),
        payload: usize,
        /// Which checksum-bearing layer to break (modulo their count), if any.
        break_checksum: Option<usize>,
        /// Where to cut, as a fraction of the frame (None: keep it whole).
        cut: Option<f64>,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (1usize..=3)
            .prop_flat_map(|n| {
                (
                    0u8..5,
                    0u8..3,
                    proptest::collection::vec((any::<bool>(), any::<bool>()), n),
                    proptest::collection::vec(0u8..4, n - 1),
                    any::<u16>(),
                    0u8..4,
                    (10000u16..20000, 10000u16..20000),
                    0usize..300,
                    proptest::option::of(0usize..16),
                    proptest::option::of(0.0f64..1.0),
                )
            })
            .prop_map(
                |(link, vlans, mut levels, kinds, port, transport, ports, payload, brk, cut)| {
                    let mut encaps = Vec::new();
                    for (i, k) in kinds.iter().enumerate() {
                        encaps.push(match k {
                            0 => Encap::Vxlan(8472),
                            1 => Encap::Vxlan(4789),
                            2 => Encap::Vxlan(20000 + port % 10000),
                            _ if !levels[i].0 => Encap::IpInIp,
                            _ => Encap::FlannelUdp,
                        });
                        // Keep IPv6-in-IPv4 inside IPv4 only (41 under IPv4).
                        if matches!(encaps[i], Encap::IpInIp) && levels[i].0 {
                            levels[i].0 = false;
                        }
                    }
                    Spec {
                        link,
                        vlans,
                        levels,
                        encaps,
                        transport,
                        ports,
                        payload,
                        break_checksum: brk,
                        cut,
                    }
                },
            )
    }

    /// The packet, the protocol names the decoder should report, the index (among the
    /// layers) of the broken checksum, and the VXLAN ports to configure.
    fn build(s: &Spec) -> (Packet, Vec<&'static str>, Option<usize>, Vec<u16>) {
        let mut p = Packet::new();
        let mut protos = Vec::new();
        let mut ports = Vec::new();
        let v6 = |i: u16| std::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, i);
        match s.link {
            0 => {
                p = p.ethernet([2; 6], [4; 6]);
                protos.push("eth");
                for v in 0..s.vlans {
                    p = p.vlan(10 + u16::from(v));
                    protos.push("vlan");
                }
            }
            1 => {
                p = p.layer(Sll {
                    packet_type: 0,
                    hatype: 1,
                    addr: vec![2; 6],
                    protocol: None,
                });
                protos.push("sll");
            }
            2 => {
                p = p.sll2(2, 4, [2; 6]);
                protos.push("sll2");
            }
            3 => {}
            _ => {
                p = p.layer(Null::default());
                protos.push("null");
            }
        }
        // Layers that carry a checksum, by position in `protos`.
        let mut sums = Vec::new();
        for (i, &(is_v6, hbh)) in s.levels.iter().enumerate() {
            if is_v6 {
                let mut h = Ipv6::new(v6(2 * i as u16 + 1), v6(2 * i as u16 + 2));
                if hbh {
                    h = h.ext(Ipv6Ext::HopByHop);
                }
                p = p.layer(h);
                protos.push("ipv6");
            } else {
                sums.push(protos.len());
                let c = Checksum::Correct;
                p = p.layer(
                    Ipv4::new([10, 0, i as u8, 1], [10, 0, i as u8, 2])
                        .id(i as u16)
                        .checksum(c),
                );
                protos.push("ipv4");
            }
            match s.encaps.get(i) {
                Some(Encap::Vxlan(port)) => {
                    sums.push(protos.len());
                    let c = Checksum::Correct;
                    p = p.layer(Udp::new(s.ports.0, *port).checksum(c));
                    p = p.vxlan(1000 + i as u32).ethernet([6; 6], [8; 6]);
                    protos.extend(["udp", "vxlan", "eth"]);
                    if ![8472, 4789].contains(port) {
                        ports.push(*port);
                    }
                }
                Some(Encap::FlannelUdp) => {
                    sums.push(protos.len());
                    let c = Checksum::Correct;
                    p = p.layer(Udp::new(s.ports.0, 8285).checksum(c));
                    protos.extend(["udp", "flannel-udp"]);
                }
                Some(Encap::IpInIp) | None => {}
            }
        }
        let last_v6 = s.levels.last().is_some_and(|l| l.0);
        match s.transport {
            0 => {
                sums.push(protos.len());
                let c = Checksum::Correct;
                p = p.layer(
                    Tcp::new(s.ports.0, s.ports.1)
                        .flags(tcp_flags::ACK)
                        .checksum(c),
                );
                protos.push("tcp");
            }
            1 => {
                sums.push(protos.len());
                let c = Checksum::Correct;
                p = p.layer(Udp::new(s.ports.0, s.ports.1).checksum(c));
                protos.push("udp");
            }
            2 if last_v6 => {
                sums.push(protos.len());
                let c = Checksum::Correct;
                let mut h = Icmpv6::echo_request(1, 2);
                h.checksum = c;
                p = p.layer(h);
                protos.push("icmpv6");
            }
            2 => {
                sums.push(protos.len());
                let c = Checksum::Correct;
                p = p.layer(Icmp::echo_request(1, 2).checksum(c));
                protos.push("icmp");
            }
            _ => {}
        }
        p = p.payload_len(s.payload);
        // Break one checksum: rebuild that layer with Checksum::Bad.
        let broken = s
            .break_checksum
            .and_then(|b| sums.get(b % sums.len().max(1)).copied());
        if let Some(at) = broken {
            // Map the protocol position back to the builder layer: they line up, except
            // that the builder has no layer for "flannel-udp" (it is a decoder marker).
            let mut layer_index = at;
            layer_index -= protos[..at].iter().filter(|p| **p == "flannel-udp").count();
            match &mut p.layers[layer_index] {
                Layer::Ipv4(h) => h.checksum = Checksum::Bad,
                Layer::Udp(h) => h.checksum = Checksum::Bad,
                Layer::Tcp(h) => h.checksum = Checksum::Bad,
                Layer::Icmp(h) => h.checksum = Checksum::Bad,
                Layer::Icmpv6(h) => h.checksum = Checksum::Bad,
                other => panic!("layer {layer_index} has no checksum: {other:?}"),
            }
        }
        (p, protos, broken, ports)
    }

    fn link_type(s: &Spec) -> LinkType {
        LinkType(match s.link {
            0 => linktype::ETHERNET,
            1 => linktype::LINUX_SLL,
            2 => linktype::LINUX_SLL2,
            3 => linktype::RAW,
            _ => linktype::NULL,
        })
    }

    fn checksum_of(h: &Header) -> Option<decode::Checksum> {
        match h {
            Header::Ipv4(x) => Some(x.checksum),
            Header::Udp(x) => Some(x.checksum),
            Header::Tcp(x) => Some(x.checksum),
            Header::Icmpv4(x) | Header::Icmpv6(x) => Some(x.checksum),
            _ => None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn built_packets_decode_to_what_was_built(s in spec()) {
            let (packet, protos, broken, ports) = build(&s);
            let mut frame = packet.build();
            let whole = s.cut.is_none();
            if let Some(f) = s.cut {
                let at = (frame.data.len() as f64 * f) as usize;
                frame = frame.truncate(at);
            }
            let mut opts = DecodeOptions::default();
            opts.vxlan_ports.extend(ports);
            let p = decode::decode(link_type(&s), &frame.data, frame.orig_len as u32, &opts);

            // Every view renders, and the stats count it.
            let names = Names::new();
            let info = FrameInfo { number: 1, ts: Timestamp { sec: 1, nsec: 0 }, zone: Default::default() };
            let mut out = Vec::new();
            write_line(&mut out, &info, &p, &names);
            write_tree(&mut out, &info, &p, &names);
            write_json(&mut out, &info, &p, &names);
            let mut stats = Stats::new(1500);
            stats.add(&p);

            let got: Vec<&str> = p.layers().iter().map(|l| l.header.proto()).collect();
            if whole {
                prop_assert_eq!(&got, &protos, "frame {:02x?}", frame.data);
                for (i, l) in p.layers().iter().enumerate() {
                    if let Some(c) = checksum_of(&l.header) {
                        if Some(i) == broken {
                            prop_assert!(c.is_bad() || c == decode::Checksum::Offloaded,
                                "layer {} ({}) should be bad: {:?}", i, got[i], c);
                        } else {
                            prop_assert_eq!(c, decode::Checksum::Good, "layer {} ({})", i, got[i]);
                        }
                    }
                }
            } else {
                prop_assert!(got.len() <= protos.len() && got[..] == protos[..got.len()],
                    "cut at {} of {}: {:?} is not a prefix of {:?}", frame.data.len(), frame.orig_len, got, protos);
            }
        }

        #[test]
        fn arbitrary_bytes_decode_without_panic(link in prop_oneof![Just(0u32), Just(1), Just(101), Just(113), Just(276), any::<u32>()],
                                                data in proptest::collection::vec(any::<u8>(), 0..600),
                                                extra in 0u32..2000) {
            let p = decode::decode(LinkType(link), &data, data.len() as u32 + extra, &DecodeOptions::default());
            let names = Names::new();
            let info = FrameInfo { number: 1, ts: Timestamp::default(), zone: Default::default() };
            let mut out = Vec::new();
            write_line(&mut out, &info, &p, &names);
            write_tree(&mut out, &info, &p, &names);
            write_json(&mut out, &info, &p, &names);
            prop_assert!(p.layers().len() <= decode::MAX_LAYERS);
        }
    }
}
