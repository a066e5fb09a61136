//! Tests of the packet builder: lengths, checksums, protocol numbers, truncation.

use super::*;

fn sum_ok(data: &[u8], pseudo: u64) -> bool {
    checksum::fold(checksum::sum(data, pseudo)) == 0xffff
}

#[test]
fn ipv4_udp_lengths_and_checksums() {
    let f = Packet::new()
        .ethernet([2; 6], [4; 6])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
        .udp(1234, 53)
        .payload(b"hello")
        .build();
    let d = &f.data;
    assert_eq!(d.len(), 14 + 20 + 8 + 5);
    assert_eq!(&d[12..14], &[0x08, 0x00]);
    assert_eq!(u16::from_be_bytes([d[16], d[17]]), 33);
    assert_eq!(d[23], 17);
    assert!(sum_ok(&d[14..34], 0), "IPv4 header checksum");
    assert_eq!(u16::from_be_bytes([d[38], d[39]]), 13);
    let pseudo = checksum::sum(&d[26..34], 0) + 17 + 13;
    assert!(sum_ok(&d[34..], pseudo), "UDP checksum");
    // DF set, id 0.
    assert_eq!(&d[18..22], &[0, 0, 0x40, 0]);
}

#[test]
fn vxlan_stack_and_zero_outer_checksum() {
    let f = Packet::new()
        .ethernet([2; 6], [4; 6])
        .ipv4([192, 168, 1, 11], [192, 168, 1, 12])
        .layer(Udp::new(40000, 8472).checksum(Checksum::Zero))
        .vxlan(1)
        .ethernet([6; 6], [8; 6])
        .ipv4([10, 244, 1, 5], [10, 244, 2, 7])
        .layer(Tcp::new(40624, 80).flags(tcp_flags::SYN).mss(1410))
        .build();
    let d = &f.data;
    assert_eq!(&d[40..42], &[0, 0], "outer UDP checksum zero");
    assert_eq!(&d[42..50], &[0x08, 0, 0, 0, 0, 0, 1, 0], "VXLAN VNI 1");
    let inner_ip = 50 + 14;
    assert_eq!(d[inner_ip + 9], 6);
    assert_eq!(
        u16::from_be_bytes([d[inner_ip + 2], d[inner_ip + 3]]),
        20 + 24
    );
    let tcp = inner_ip + 20;
    assert_eq!(d[tcp + 12] >> 4, 6, "TCP data offset with MSS option");
    let pseudo = checksum::sum(&d[inner_ip + 12..inner_ip + 20], 0) + 6 + 24;
    assert!(sum_ok(&d[tcp..], pseudo));
}

#[test]
fn ipip_and_6in4_protocol_numbers() {
    let f = Packet::new()
        .ipv4([192, 168, 1, 1], [192, 168, 1, 2])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
        .build();
    assert_eq!(f.data[9], 4);
    assert_eq!(u16::from_be_bytes([f.data[2], f.data[3]]), 40);
    let f = Packet::new()
        .ipv4([192, 168, 1, 1], [192, 168, 1, 2])
        .ipv6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST)
        .build();
    assert_eq!(f.data[9], 41);
}

#[test]
fn checksum_modes() {
    let build = |c: Checksum| {
        Packet::new()
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
            .layer(Tcp::new(1, 2).checksum(c))
            .build()
            .data
    };
    let good = build(Checksum::Correct);
    let bad = build(Checksum::Bad);
    let off = build(Checksum::Offloaded);
    let pseudo = checksum::sum(&good[12..20], 0) + 6 + 20;
    assert!(sum_ok(&good[20..], pseudo));
    assert!(!sum_ok(&bad[20..], pseudo));
    assert_ne!(&bad[36..38], &[0, 0]);
    assert_eq!(
        u16::from_be_bytes([off[36], off[37]]),
        checksum::fold(pseudo)
    );
    let v = build(Checksum::Value(0x1234));
    assert_eq!(&v[36..38], &[0x12, 0x34]);
}

#[test]
fn ipv6_ext_chain_and_icmpv6() {
    let f = Packet::new()
        .layer(
            Ipv6::new(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST)
                .ext(Ipv6Ext::HopByHop)
                .ext(Ipv6Ext::Fragment {
                    offset: 0,
                    more: true,
                    id: 7,
                }),
        )
        .layer(Icmpv6::echo_request(1, 2))
        .build();
    let d = &f.data;
    assert_eq!(d[6], 0, "first next-header: hop-by-hop");
    assert_eq!(d[40], 44, "hop-by-hop → fragment");
    assert_eq!(d[48], 58, "fragment → ICMPv6");
    assert_eq!(&d[50..52], &[0, 1], "M bit");
    assert_eq!(u16::from_be_bytes([d[4], d[5]]), 24);
    let pseudo = checksum::sum(&d[8..40], 0) + 8 + 58;
    assert!(sum_ok(&d[56..], pseudo));
}

#[test]
fn cooked_headers_and_padding() {
    let f = Packet::new()
        .sll2(3, packet_type::OUTGOING, [1, 2, 3, 4, 5, 6])
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
        .build();
    assert_eq!(&f.data[0..2], &[0x08, 0x00]);
    assert_eq!(&f.data[4..8], &[0, 0, 0, 3]);
    assert_eq!(&f.data[8..12], &[0, 1, 4, 6]);
    let f = Packet::new()
        .sll(packet_type::HOST, [1, 2, 3, 4, 5, 6])
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
        .build();
    assert_eq!(&f.data[0..6], &[0, 0, 0, 1, 0, 6]);
    assert_eq!(&f.data[14..16], &[0x08, 0x00]);
    let f = Packet::new()
        .ethernet([2; 6], [4; 6])
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
        .layer(Icmp::echo_request(1, 1))
        .pad_to(60)
        .build();
    assert_eq!(f.data.len(), 60);
    assert_eq!(u16::from_be_bytes([f.data[16], f.data[17]]), 28);
    assert!(sum_ok(&f.data[34..42], 0), "ICMP checksum excludes padding");
}

#[test]
fn qinq_tags() {
    let f = Packet::new()
        .ethernet([2; 6], [4; 6])
        .layer(Vlan::service(100))
        .vlan(200)
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
        .build();
    assert_eq!(&f.data[12..14], &[0x88, 0xa8]);
    assert_eq!(&f.data[14..18], &[0, 100, 0x81, 0x00]);
    assert_eq!(&f.data[18..22], &[0, 200, 0x08, 0x00]);
}

#[test]
fn truncate_keeps_orig_len() {
    let f = Packet::new()
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
        .payload_len(100)
        .build()
        .truncate(30);
    assert_eq!(f.data.len(), 30);
    assert_eq!(f.orig_len, 120);
}
