//! Frame builders for tests (std only, so integration tests can include this file with
//! `#[path]`). Checksums are computed unless a test overrides them.

#![allow(dead_code)]

/// One's-complement sum of big-endian words.
pub fn csum_acc(data: &[u8], mut acc: u32) -> u32 {
    for w in data.chunks(2) {
        acc += u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
    }
    acc
}

/// Fold and complement.
pub fn csum_fin(mut acc: u32) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Ethernet II frame.
pub fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&dst);
    v.extend_from_slice(&src);
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// An 802.1Q tag + payload (to go after an Ethernet header with TPID 0x8100).
pub fn vlan(vid: u16, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&vid.to_be_bytes());
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// IPv4 header (no options, DF set, id 1) + payload, header checksum correct.
pub fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, ttl: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 1, 0x40, 0, ttl, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = csum_fin(csum_acc(&h, 0));
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// IPv6 header + payload.
pub fn ipv6(src: [u8; 16], dst: [u8; 16], next: u8, hlim: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.push(next);
    h.push(hlim);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

fn pseudo4(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> u32 {
    let mut p = Vec::new();
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[0, proto]);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    csum_acc(&p, 0)
}

/// UDP over IPv4 with a correct checksum.
pub fn udp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&(len as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let mut c = csum_fin(csum_acc(&u, pseudo4(src, dst, 17, len)));
    if c == 0 {
        c = 0xffff;
    }
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

/// TCP over IPv4 (20-byte header, flags byte as given) with a correct checksum.
pub fn tcp4(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    let c = csum_fin(csum_acc(&t, pseudo4(src, dst, 6, t.len())));
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

/// ICMP echo request with a correct checksum.
pub fn icmp_echo(id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut m = vec![8, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(payload);
    let c = csum_fin(csum_acc(&m, 0));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// VXLAN header (flags 0x08) + inner frame.
pub fn vxlan(vni: u32, inner: &[u8]) -> Vec<u8> {
    let v = vni.to_be_bytes();
    let mut h = vec![0x08, 0, 0, 0, v[1], v[2], v[3], 0];
    h.extend_from_slice(inner);
    h
}

/// Linux cooked v2 header + payload.
pub fn sll2(protocol: u16, ifindex: u32, pkttype: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&protocol.to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(&ifindex.to_be_bytes());
    h.extend_from_slice(&1u16.to_be_bytes());
    h.push(pkttype);
    h.push(6);
    h.extend_from_slice(&[0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0, 0]);
    h.extend_from_slice(payload);
    h
}

/// A Flannel VXLAN frame: node 192.168.1.11 → .12, 8472 VNI 1, pod 10.244.1.5 → 10.244.2.7 TCP SYN.
pub fn flannel_vxlan_syn() -> Vec<u8> {
    let (ps, pd) = ([10, 244, 1, 5], [10, 244, 2, 7]);
    let inner_ip = ipv4(ps, pd, 6, 63, &tcp4(ps, pd, 40624, 80, 1000, 0x02, &[]));
    let inner = eth(
        [0x5e, 0, 0, 0, 0, 2],
        [0x5e, 0, 0, 0, 0, 1],
        0x0800,
        &inner_ip,
    );
    let (ns, nd) = ([192, 168, 1, 11], [192, 168, 1, 12]);
    let outer_udp = udp4(ns, nd, 53820, 8472, &vxlan(1, &inner));
    eth(
        [2, 0, 0, 0, 0, 2],
        [2, 0, 0, 0, 0, 1],
        0x0800,
        &ipv4(ns, nd, 17, 64, &outer_udp),
    )
}

/// A Calico IPIP frame: node 192.168.1.11 → .12, pod 10.244.1.5 → 10.244.2.7 ICMP echo.
pub fn calico_ipip_ping() -> Vec<u8> {
    let (ps, pd) = ([10, 244, 1, 5], [10, 244, 2, 7]);
    let inner = ipv4(ps, pd, 1, 63, &icmp_echo(7, 1, b"netpath!"));
    eth(
        [2, 0, 0, 0, 0, 2],
        [2, 0, 0, 0, 0, 1],
        0x0800,
        &ipv4([192, 168, 1, 11], [192, 168, 1, 12], 4, 64, &inner),
    )
}

/// A classic little-endian microsecond pcap file of `frames` with link type `link`.
pub fn pcap_file(link: u32, snaplen: u32, frames: &[(Vec<u8>, u32)]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&0i32.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&snaplen.to_le_bytes());
    f.extend_from_slice(&link.to_le_bytes());
    for (i, (data, orig)) in frames.iter().enumerate() {
        f.extend_from_slice(&(1_704_067_200u32 + i as u32).to_le_bytes());
        f.extend_from_slice(&(i as u32 * 10).to_le_bytes());
        f.extend_from_slice(&(data.len() as u32).to_le_bytes());
        f.extend_from_slice(&orig.to_le_bytes());
        f.extend_from_slice(data);
    }
    f
}

/// UDP over IPv6 with a correct checksum.
pub fn udp6(src: [u8; 16], dst: [u8; 16], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&(len as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let mut p = Vec::new();
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&(len as u32).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 17]);
    let mut c = csum_fin(csum_acc(&u, csum_acc(&p, 0)));
    if c == 0 {
        c = 0xffff;
    }
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}
