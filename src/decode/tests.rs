//! Decoder tests on frames built by `testutil`.

use std::net::Ipv4Addr;

use super::testutil::*;
use super::*;
use crate::wire::LinkType;

fn dec(link: LinkType, f: &[u8]) -> Packet<'_> {
    decode(link, f, f.len() as u32, &DecodeOptions::default())
}

fn protos(p: &Packet<'_>) -> Vec<&'static str> {
    p.layers().iter().map(|l| l.header.proto()).collect()
}

#[test]
fn flannel_vxlan_layers_fields_and_checksums() {
    let f = flannel_vxlan_syn();
    let p = dec(LinkType::ETHERNET, &f);
    assert_eq!(
        protos(&p),
        ["eth", "ipv4", "udp", "vxlan", "eth", "ipv4", "tcp"]
    );
    assert_eq!(p.stop, None);
    assert_eq!(p.truncation(), None);
    let Header::Vxlan(v) = p.layers()[3].header else {
        panic!()
    };
    assert_eq!((v.port, v.vni, v.cni_hint()), (8472, 1, Some("flannel")));
    let Header::Ipv4(outer) = p.layers()[1].header else {
        panic!()
    };
    assert_eq!(outer.src, Ipv4Addr::new(192, 168, 1, 11));
    assert_eq!(
        (outer.ttl, outer.df, outer.id, outer.proto),
        (64, true, 1, 17)
    );
    let Header::Tcp(t) = p.layers()[6].header else {
        panic!()
    };
    assert_eq!((t.src_port, t.dst_port, t.seq), (40624, 80, 1000));
    assert_eq!(t.flags, tcp_flags::SYN);
    for l in p.layers() {
        if let Some(c) = l.header.checksum() {
            assert_eq!(c, Checksum::Good, "{}", l.header.proto());
        }
    }
    let t: Vec<Tunnel> = p.tunnels().collect();
    assert_eq!(
        t,
        [Tunnel {
            encap: Encap::Vxlan { port: 8472, vni: 1 },
            outer_ip: 1,
            inner: 4
        }]
    );
    assert_eq!(p.inner_ip(), Some(5));
}

#[test]
fn calico_ipip_is_proto_4_not_94() {
    let f = calico_ipip_ping();
    let p = dec(LinkType::ETHERNET, &f);
    assert_eq!(protos(&p), ["eth", "ipv4", "ipv4", "icmp"]);
    let Header::Icmpv4(m) = p.layers()[3].header else {
        panic!()
    };
    assert_eq!(m.echo, Some((7, 1)));
    assert_eq!(m.checksum, Checksum::Good);
    assert_eq!(p.tunnels().next().map(|t| t.encap), Some(Encap::Ipip));
}

#[test]
fn bad_and_offloaded_tcp_checksums() {
    let mut f = flannel_vxlan_syn();
    // The outer UDP checksum covers the inner bytes: turn it off for this test.
    f[40..42].copy_from_slice(&[0, 0]);
    let csum_at = 84 + 16;
    let good = u16::from_be_bytes([f[csum_at], f[csum_at + 1]]);
    f[csum_at..csum_at + 2].copy_from_slice(&0xdeadu16.to_be_bytes());
    let p = dec(LinkType::ETHERNET, &f);
    let Header::Tcp(t) = p.layers()[6].header else {
        panic!()
    };
    assert_eq!(
        t.checksum,
        Checksum::Bad {
            found: 0xdead,
            expected: good
        }
    );
    assert!(p.has_bad_checksum());

    // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum.
    let pseudo = crate::wire::checksum::pseudo_v4([10, 244, 1, 5], [10, 244, 2, 7], 6, 20);
    let partial = crate::wire::checksum::fold(pseudo);
    f[csum_at..csum_at + 2].copy_from_slice(&partial.to_be_bytes());
    let p = dec(LinkType::ETHERNET, &f);
    let Header::Tcp(t) = p.layers()[6].header else {
        panic!()
    };
    assert_eq!(t.checksum, Checksum::Offloaded);
    assert!(!p.has_bad_checksum());
}

fn udp_checksum(p: &Packet<'_>, i: usize) -> Checksum {
    match p.layers()[i].header {
        Header::Udp(u) => u.checksum,
        h => panic!("layer {i} is {}", h.proto()),
    }
}

#[test]
fn outer_checksum_made_by_local_checksum_offload_is_offloaded_lco() {
    // The frame is built with every checksum correct; then the inner TCP checksum is
    // replaced by the pseudo-header sum (CHECKSUM_PARTIAL), as the sending host's capture
    // shows it. The outer UDP checksum still covers the inner packet as it will be once
    // the NIC fills the inner checksum in: Linux's local checksum offload.
    let mut f = flannel_vxlan_syn();
    let csum_at = 84 + 16;
    let pseudo = crate::wire::checksum::pseudo_v4([10, 244, 1, 5], [10, 244, 2, 7], 6, 20);
    let partial = crate::wire::checksum::fold(pseudo);
    f[csum_at..csum_at + 2].copy_from_slice(&partial.to_be_bytes());
    let p = dec(LinkType::ETHERNET, &f);
    assert_eq!(udp_checksum(&p, 2), Checksum::OffloadedLco);
    let Header::Tcp(t) = p.layers()[6].header else {
        panic!()
    };
    assert_eq!(t.checksum, Checksum::Offloaded);
    assert!(!p.has_bad_checksum());

    // A byte the inner checksum does not cover (a VXLAN reserved byte) changed: the outer
    // checksum is wrong whatever the NIC writes into the inner one.
    let mut g = f.clone();
    g[43] ^= 0x10;
    assert!(udp_checksum(&dec(LinkType::ETHERNET, &g), 2).is_bad());
    // The outer checksum field itself changed.
    let mut g = f.clone();
    g[41] ^= 0x01;
    assert!(udp_checksum(&dec(LinkType::ETHERNET, &g), 2).is_bad());
    // The inner checksum is bad (not the partial sum): the outer is bad too, not LCO.
    let mut g = f.clone();
    g[csum_at + 1] ^= 0x01;
    let p = dec(LinkType::ETHERNET, &g);
    assert!(udp_checksum(&p, 2).is_bad());
    let Header::Tcp(t) = p.layers()[6].header else {
        panic!()
    };
    assert!(t.checksum.is_bad());
}

#[test]
fn outer_checksum_reusing_the_inner_sum_handles_odd_lengths_and_padding() {
    // Inner UDP with a 5-byte payload (odd length), the inner frame followed by 3 bytes of
    // non-zero padding: the outer sum is assembled from the inner segment's sum and the
    // bytes around it at an odd offset.
    let (ps, pd) = ([10, 244, 1, 5], [10, 244, 2, 7]);
    let inner_ip = ipv4(ps, pd, 17, 63, &udp4(ps, pd, 40000, 5000, b"hello"));
    let mut inner = eth(
        [0x5e, 0, 0, 0, 0, 2],
        [0x5e, 0, 0, 0, 0, 1],
        0x0800,
        &inner_ip,
    );
    inner.extend_from_slice(&[0xab, 0xcd, 0xef]);
    let (ns, nd) = ([192, 168, 1, 11], [192, 168, 1, 12]);
    let outer_udp = udp4(ns, nd, 53820, 8472, &vxlan(1, &inner));
    let f = eth(
        [2, 0, 0, 0, 0, 2],
        [2, 0, 0, 0, 0, 1],
        0x0800,
        &ipv4(ns, nd, 17, 64, &outer_udp),
    );
    let p = dec(LinkType::ETHERNET, &f);
    assert_eq!(
        protos(&p),
        ["eth", "ipv4", "udp", "vxlan", "eth", "ipv4", "udp"]
    );
    assert_eq!(udp_checksum(&p, 2), Checksum::Good);
    assert_eq!(udp_checksum(&p, 6), Checksum::Good);
    // Each padding byte is covered by the outer checksum only.
    for k in 1..=3 {
        let mut g = f.clone();
        let at = g.len() - k;
        g[at] ^= 0x40;
        let p = dec(LinkType::ETHERNET, &g);
        assert!(udp_checksum(&p, 2).is_bad(), "padding byte -{k}");
        assert_eq!(udp_checksum(&p, 6), Checksum::Good);
    }
    // The inner payload's last byte: both are bad.
    let mut g = f.clone();
    let at = g.len() - 4;
    g[at] ^= 0x40;
    let p = dec(LinkType::ETHERNET, &g);
    assert!(udp_checksum(&p, 2).is_bad());
    assert!(udp_checksum(&p, 6).is_bad());
}

#[test]
fn outer_udp_checksum_zero_is_absent_and_bad_ip_header_is_reported() {
    let mut f = flannel_vxlan_syn();
    f[40..42].copy_from_slice(&[0, 0]);
    f[24] ^= 0xff; // corrupt the outer IPv4 header checksum
    let p = dec(LinkType::ETHERNET, &f);
    let Header::Udp(u) = p.layers()[2].header else {
        panic!()
    };
    assert_eq!(u.checksum, Checksum::Absent);
    let Header::Ipv4(ip) = p.layers()[1].header else {
        panic!()
    };
    assert!(ip.checksum.is_bad());
}

#[test]
fn snaplen_cut_says_where_it_stops() {
    let f = flannel_vxlan_syn();
    let orig = f.len() as u32;
    let cut = &f[..90];
    let p = decode(LinkType::ETHERNET, cut, orig, &DecodeOptions::default());
    assert_eq!(protos(&p), ["eth", "ipv4", "udp", "vxlan", "eth", "ipv4"]);
    assert_eq!(
        p.stop,
        Some(Stop {
            offset: 84,
            reason: StopReason::Truncated {
                layer: "tcp",
                needed: 20,
                ports: Some((40624, 80)),
            }
        })
    );
    assert_eq!(p.truncation(), Some(("tcp", 90)));
    // The outer UDP checksum cannot be checked on a cut frame, and IP lengths are not
    // "malformed" when the snaplen explains them.
    let Header::Udp(u) = p.layers()[2].header else {
        panic!()
    };
    assert_eq!(u.checksum, Checksum::Truncated);
    let Header::Ipv4(ip) = p.layers()[1].header else {
        panic!()
    };
    assert_eq!(ip.length, IpLength::Ok);
}

#[test]
fn length_beyond_an_uncut_frame_is_malformed() {
    let mut f = calico_ipip_ping();
    f[16..18].copy_from_slice(&200u16.to_be_bytes());
    let p = dec(LinkType::ETHERNET, &f);
    let Header::Ipv4(ip) = p.layers()[1].header else {
        panic!()
    };
    assert!(matches!(ip.length, IpLength::Exceeds { .. }));
    assert_eq!(p.truncation(), None);
}

#[test]
fn sll2_raw_null_and_unknown_links() {
    let inner = calico_ipip_ping()[14..].to_vec();
    let f = sll2(0x0800, 7, 4, &inner);
    let p = dec(LinkType::LINUX_SLL2, &f);
    assert_eq!(protos(&p), ["sll2", "ipv4", "ipv4", "icmp"]);
    let Header::Sll2(s) = p.layers()[0].header else {
        panic!()
    };
    assert_eq!((s.ifindex, s.packet_type), (7, 4));

    let p = dec(LinkType::RAW, &inner);
    assert_eq!(protos(&p), ["ipv4", "ipv4", "icmp"]);
    let p = dec(LinkType::IPV4, &inner);
    assert_eq!(protos(&p), ["ipv4", "ipv4", "icmp"]);

    let mut null = vec![2, 0, 0, 0];
    null.extend_from_slice(&inner);
    assert_eq!(
        protos(&dec(LinkType::NULL, &null)),
        ["null", "ipv4", "ipv4", "icmp"]
    );

    let p = dec(LinkType(147), &inner);
    assert!(p.layers().is_empty());
    assert!(matches!(
        p.stop.unwrap().reason,
        StopReason::Unsupported {
            kind: "link-type",
            value: 147
        }
    ));
}

#[test]
fn qinq_tags() {
    let ip = ipv4(
        [1, 1, 1, 1],
        [2, 2, 2, 2],
        17,
        5,
        &udp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, b"x"),
    );
    let inner_tag = vlan(20, 0x0800, &ip);
    let outer_tag = vlan(0x2000 | 10, 0x8100, &inner_tag);
    let f = eth([0xff; 6], [2; 6], 0x88a8, &outer_tag);
    let p = dec(LinkType::ETHERNET, &f);
    assert_eq!(protos(&p), ["eth", "vlan", "vlan", "ipv4", "udp"]);
    let Header::Vlan(o) = p.layers()[1].header else {
        panic!()
    };
    assert_eq!((o.tpid, o.vid, o.pcp), (0x88a8, 10, 1));
}

#[test]
fn ipv6_extension_headers_and_6in4() {
    let (s, d) = (
        [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
    );
    let udp = udp6(s, d, 5000, 53, b"query");
    let mut hbh = vec![17, 0, 1, 4, 0, 0, 0, 0]; // next UDP, len 0 (8 bytes), PadN
    hbh.extend_from_slice(&udp);
    let v6 = ipv6(s, d, 0, 64, &hbh);
    let f = eth(
        [1; 6],
        [2; 6],
        0x0800,
        &ipv4([192, 0, 2, 1], [192, 0, 2, 2], 41, 64, &v6),
    );
    let p = dec(LinkType::ETHERNET, &f);
    assert_eq!(protos(&p), ["eth", "ipv4", "ipv6", "udp"]);
    let Header::Ipv6(ip) = p.layers()[2].header else {
        panic!()
    };
    assert_eq!(
        (ip.ext_headers, ip.proto, ip.next_header, ip.hop_limit),
        (1, 17, 0, 64)
    );
    let Header::Udp(u) = p.layers()[3].header else {
        panic!()
    };
    assert_eq!(u.checksum, Checksum::Good);
    assert_eq!(p.tunnels().next().map(|t| t.encap), Some(Encap::SixInFour));
}

#[test]
fn fragments() {
    let payload = tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 3, 0x10, &[0; 40]);
    let mut first = ipv4([1, 1, 1, 1], [2, 2, 2, 2], 6, 64, &payload);
    first[6] = 0x20; // MF, offset 0
    let p = dec(LinkType::RAW, &first);
    assert!(p.is_fragment());
    let Header::Tcp(t) = p.layers()[1].header else {
        panic!()
    };
    assert_eq!(t.checksum, Checksum::Fragment);
    let mut later = first.clone();
    later[6] = 0x00;
    later[7] = 0x05; // offset 40 bytes
    let p = dec(LinkType::RAW, &later);
    assert_eq!(protos(&p), ["ipv4"]);
    assert!(p.is_fragment());
}

#[test]
fn icmp_error_quotes_the_packet() {
    let quoted = ipv4(
        [10, 0, 0, 1],
        [10, 0, 0, 2],
        17,
        64,
        &udp4([10, 0, 0, 1], [10, 0, 0, 2], 5353, 53, b""),
    );
    let mut m = vec![3, 3, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&quoted);
    let c = csum_fin(csum_acc(&m, 0));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    let f = ipv4([10, 0, 0, 2], [10, 0, 0, 1], 1, 64, &m);
    let p = dec(LinkType::RAW, &f);
    assert_eq!(protos(&p), ["ipv4", "icmp"]);
    let Header::Icmpv4(i) = p.layers()[1].header else {
        panic!()
    };
    let q = i.quote.unwrap();
    assert_eq!((q.proto, q.ports), (17, Some((5353, 53))));
    assert_eq!(i.checksum, Checksum::Good);
}

#[test]
fn flannel_udp_backend_and_extra_vxlan_ports() {
    let inner = ipv4(
        [10, 244, 1, 5],
        [10, 244, 2, 7],
        1,
        63,
        &icmp_echo(1, 1, b""),
    );
    let (s, d) = ([192, 168, 1, 11], [192, 168, 1, 12]);
    let f = ipv4(s, d, 17, 64, &udp4(s, d, 8285, 8285, &inner));
    let p = dec(LinkType::RAW, &f);
    assert_eq!(protos(&p), ["ipv4", "udp", "flannel-udp", "ipv4", "icmp"]);
    assert_eq!(p.tunnels().next().map(|t| t.encap), Some(Encap::FlannelUdp));

    let inner_frame = eth([1; 6], [2; 6], 0x0800, &inner);
    let f = ipv4(s, d, 17, 64, &udp4(s, d, 1, 9999, &vxlan(7, &inner_frame)));
    assert_eq!(protos(&dec(LinkType::RAW, &f)), ["ipv4", "udp"]);
    let mut opts = DecodeOptions::default();
    opts.vxlan_ports.push(9999);
    let p = decode(LinkType::RAW, &f, f.len() as u32, &opts);
    assert_eq!(protos(&p), ["ipv4", "udp", "vxlan", "eth", "ipv4", "icmp"]);
}

#[test]
fn stats_count_encaps_vnis_pairs_flows_and_mtu() {
    let mut s = Stats::new(1500);
    let f = flannel_vxlan_syn();
    s.add(&dec(LinkType::ETHERNET, &f));
    s.add(&dec(LinkType::ETHERNET, &calico_ipip_ping()));
    // An inner packet of 1460 bytes in VXLAN: over the 1450 inner MTU.
    let (ps, pd) = ([10, 244, 1, 5], [10, 244, 2, 7]);
    let big_inner = ipv4(ps, pd, 17, 63, &udp4(ps, pd, 1, 2, &[0; 1432]));
    assert_eq!(big_inner.len(), 1460);
    let (ns, nd) = ([192, 168, 1, 11], [192, 168, 1, 12]);
    let frame = eth([1; 6], [2; 6], 0x0800, &big_inner);
    let big = ipv4(ns, nd, 17, 64, &udp4(ns, nd, 1, 8472, &vxlan(1, &frame)));
    s.add(&dec(LinkType::RAW, &big));
    s.settle();
    assert_eq!(s.total.packets, 3);
    assert_eq!(s.by_encap.len(), 2);
    assert_eq!(s.by_vni.get(&(8472, 1)).map(|c| c.packets), Some(2));
    assert_eq!(s.by_node_pair.len(), 2);
    assert_eq!(s.by_flow.len(), 3);
    assert_eq!(s.over_mtu, 1);
    assert_eq!(s.largest_inner, Some((1460, 1450)));
    assert_eq!(s.bad_checksums.total(), 0);
}

#[test]
fn stats_merged_from_parts_equal_stats_counted_in_one() {
    let (ps, pd) = ([10, 244, 1, 5], [10, 244, 2, 7]);
    let (ns, nd) = ([192, 168, 1, 11], [192, 168, 1, 12]);
    let vxlan_of = |inner: &[u8]| {
        let frame = eth([1; 6], [2; 6], 0x0800, inner);
        ipv4(ns, nd, 17, 64, &udp4(ns, nd, 1, 8472, &vxlan(1, &frame)))
    };
    let big_udp = vxlan_of(&ipv4(ps, pd, 17, 63, &udp4(ps, pd, 1, 2, &[0; 1432])));
    let mut bad_tcp = flannel_vxlan_syn();
    let last = bad_tcp.len() - 1;
    bad_tcp[last] ^= 0xff;
    let frames: Vec<(LinkType, Vec<u8>)> = vec![
        (LinkType::ETHERNET, flannel_vxlan_syn()),
        (LinkType::ETHERNET, calico_ipip_ping()),
        (LinkType::RAW, big_udp),
        (LinkType::ETHERNET, bad_tcp),
        (LinkType::ETHERNET, flannel_vxlan_syn()),
        (LinkType::ETHERNET, calico_ipip_ping()[..40].to_vec()),
        (LinkType(147), vec![0; 20]),
    ];
    let mut one = Stats::new(1500);
    for (link, f) in &frames {
        one.add(&dec(*link, f));
    }
    one.settle();
    let names = Names::new();
    let want = crate::render::decode::stats_json(&one, &names);
    for split in 0..=frames.len() {
        let (mut a, mut b) = (Stats::new(1500), Stats::new(1500));
        for (i, (link, f)) in frames.iter().enumerate() {
            let s = if i < split { &mut a } else { &mut b };
            s.add(&dec(*link, f));
        }
        // Merged either way round: the same counts.
        let mut ab = a.clone();
        ab.merge(b.clone());
        b.merge(a);
        assert_eq!(
            crate::render::decode::stats_json(&ab, &names),
            want,
            "split at {split}"
        );
        assert_eq!(
            crate::render::decode::stats_json(&b, &names),
            want,
            "split at {split}, b+a"
        );
    }
    assert_eq!(one.total.packets, 7);
    // The flipped byte breaks the inner TCP checksum and the outer UDP one around it.
    assert_eq!(one.bad_checksums.total(), 2);
    assert!(one.truncated >= 1);
}

#[test]
fn geneve_with_options_carries_ethernet_or_ip() {
    let (ns, nd) = ([192, 168, 1, 11], [192, 168, 1, 12]);
    let (ps, pd) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let inner = ipv4(ps, pd, 17, 63, &udp4(ps, pd, 5, 6, &[0; 1422]));
    assert_eq!(inner.len(), 1450);
    // VNI 0x00abcd, one 4-byte option, then an Ethernet frame (0x6558) or bare IPv4.
    let geneve = |proto: u16, payload: &[u8]| {
        let mut g = vec![0x01, 0x00];
        g.extend_from_slice(&proto.to_be_bytes());
        g.extend_from_slice(&[0x00, 0xab, 0xcd, 0x00, 1, 2, 3, 4]);
        g.extend_from_slice(payload);
        ipv4(ns, nd, 17, 64, &udp4(ns, nd, 1, 6081, &g))
    };
    let with_eth = geneve(0x6558, &eth([1; 6], [2; 6], 0x0800, &inner));
    let p = dec(LinkType::RAW, &with_eth);
    assert_eq!(protos(&p), ["ipv4", "udp", "geneve", "eth", "ipv4", "udp"]);
    assert_eq!(
        p.tunnels().next().map(|t| t.encap),
        Some(Encap::Geneve {
            vni: 0xabcd,
            extra: 4 + 14
        })
    );
    let Header::Udp(outer) = p.layers()[1].header else {
        panic!("outer udp");
    };
    assert_eq!(outer.checksum, Checksum::Good);
    let bare = geneve(0x0800, &inner);
    let q = dec(LinkType::RAW, &bare);
    assert_eq!(protos(&q), ["ipv4", "udp", "geneve", "ipv4", "udp"]);
    // Inner MTU: 1500 - (20 + 8 + 8 + 4 options + 14) = 1446 with Ethernet inside (the
    // 1450-byte inner packet is over it), 1460 without.
    let mut s = Stats::new(1500);
    s.add(&p);
    assert_eq!((s.over_mtu, s.largest_inner), (1, Some((1450, 1446))));
    let mut s = Stats::new(1500);
    s.add(&q);
    assert_eq!((s.over_mtu, s.largest_inner), (0, Some((1450, 1460))));
    // Cut inside the options: truncated in geneve.
    let cut = &with_eth[..20 + 8 + 10];
    let c = decode(
        LinkType::RAW,
        cut,
        with_eth.len() as u32,
        &DecodeOptions::default(),
    );
    assert!(matches!(
        c.stop.map(|s| s.reason),
        Some(StopReason::Truncated {
            layer: "geneve",
            needed: 12,
            ..
        })
    ));
}

mod random {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Random bytes on every link type: no panic, sane offsets.
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256), link in prop_oneof![Just(0u32), Just(1), Just(101), Just(113), Just(276), Just(228), Just(229), any::<u32>()]) {
            let p = decode(LinkType(link), &data, data.len() as u32, &DecodeOptions::default());
            prop_assert!(p.layers().len() <= MAX_LAYERS);
            prop_assert!(p.payload_offset as usize <= data.len());
            let _ = p.truncation();
            let _ = p.tunnels().count();
        }

        /// Valid tunnel frames cut anywhere, with bytes flipped: no panic.
        #[test]
        fn cut_and_flipped_frames_never_panic(cut in 0usize..200, flip in 0usize..200, x in any::<u8>()) {
            for mut f in [flannel_vxlan_syn(), calico_ipip_ping()] {
                let orig = f.len() as u32;
                if flip < f.len() { f[flip] ^= x; }
                let n = cut.min(f.len());
                let p = decode(LinkType::ETHERNET, &f[..n], orig, &DecodeOptions::default());
                prop_assert!(p.payload_offset as usize <= n);
                let mut s = Stats::new(1500);
                s.add(&p);
            }
        }
    }
}
