//! Views of decoded packets: one line per packet, a tree, a JSON stream
//! (`netpath.decode/v1`), and the statistics tables.
//!
//! Every per-packet writer appends to a caller-owned `Vec<u8>` that the caller reuses
//! (clear, write, flush to a `BufWriter`): no allocation per packet once the buffer has
//! grown, numbers and addresses are formatted by hand.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Value, json};

use crate::dataplane::MacAddr;
pub use crate::decode::Stats;
use crate::decode::stats::{Chain, Count, Flow};
use crate::decode::{
    Checksum, Encap, Header, Icmp, IpLength, Layer, Names, Packet, Stop, StopReason, tcp_flags,
};
use crate::pcapfile::Timestamp;
use crate::render::Style;
use crate::wire::sll::packet_type_name;

/// What the views show about a packet besides its bytes: its number and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameInfo {
    /// 1-based packet number.
    pub number: u64,
    /// Capture time.
    pub ts: Timestamp,
    /// The zone the line and tree views show times in (UTC unless `--local-time`);
    /// JSON times are always UTC.
    pub zone: crate::render::clock::Zone,
}

/// The JSON schema of `netpath decode --json`.
pub const SCHEMA: &str = "netpath.decode/v1";

// ---------------------------------------------------------------------------------------
// one line per packet

/// One line: time, the tunnels (`VXLAN vni 1 (Flannel)  node → node  |  `) and the inner
/// flow, then notes (bad checksums, truncation), newline-terminated.
pub fn write_line(out: &mut Vec<u8>, f: &FrameInfo, p: &Packet<'_>, names: &Names) {
    push_time_of_day(out, f.zone.shift(f.ts));
    out.extend_from_slice(b"  ");
    let layers = p.layers();
    let mut start = 0;
    for t in p.tunnels() {
        push_vlans(out, &layers[start..t.outer_ip]);
        match t.encap {
            Encap::Vxlan { port, vni } => {
                out.extend_from_slice(b"VXLAN ");
                if port != crate::wire::vxlan::PORT_IANA && port != crate::wire::vxlan::PORT_LINUX {
                    out.extend_from_slice(b"port ");
                    push_u64(out, u64::from(port));
                    out.push(b' ');
                }
                out.extend_from_slice(b"vni ");
                push_u64(out, u64::from(vni));
                match crate::cni::cni_hint(port, vni) {
                    Some("flannel") => out.extend_from_slice(b" (Flannel)"),
                    Some("calico") => out.extend_from_slice(b" (Calico)"),
                    _ => {}
                }
            }
            Encap::Geneve { vni, .. } => {
                out.extend_from_slice(b"GENEVE vni ");
                push_u64(out, u64::from(vni));
            }
            e => put(out, e.name().as_bytes()),
        }
        out.extend_from_slice(b"  ");
        if let Some((s, d)) = layers[t.outer_ip].header.ip_addrs() {
            push_named_ip(out, s, names);
            out.extend_from_slice(" → ".as_bytes());
            push_named_ip(out, d, names);
        }
        out.extend_from_slice(b"  |  ");
        start = t.inner;
    }
    push_inner(out, &layers[start..], p, names);
    push_notes(out, p);
    out.push(b'\n');
}

fn push_vlans(out: &mut Vec<u8>, layers: &[Layer]) {
    for l in layers {
        if let Header::Vlan(v) = l.header {
            out.extend_from_slice(b"vlan ");
            push_u64(out, u64::from(v.vid));
            out.extend_from_slice(b"  ");
        }
    }
}

/// The ports of a TCP or UDP header the capture cuts after them.
fn cut_ports(p: &Packet<'_>) -> Option<(u16, u16)> {
    match p.stop?.reason {
        StopReason::Truncated { ports, .. } => ports,
        _ => None,
    }
}

/// The innermost part: addresses and transport.
fn push_inner(out: &mut Vec<u8>, layers: &[Layer], p: &Packet<'_>, names: &Names) {
    push_vlans(out, layers);
    let ip = layers.iter().position(|l| l.header.is_ip());
    let Some(i) = ip else {
        // No IP: ARP, or a frame netpath does not decode further.
        if let Some(arp) = layers.iter().find_map(|l| match l.header {
            Header::Arp(a) => Some(a),
            _ => None,
        }) {
            out.extend_from_slice(b"ARP ");
            if !arp.eth_ipv4 {
                out.extend_from_slice(b"op ");
                push_u64(out, u64::from(arp.op));
                return;
            }
            match arp.op {
                1 => {
                    out.extend_from_slice(b"who-has ");
                    push_named_ip(out, IpAddr::V4(arp.target_ip), names);
                    out.extend_from_slice(b" tell ");
                    push_named_ip(out, IpAddr::V4(arp.sender_ip), names);
                }
                2 => {
                    push_named_ip(out, IpAddr::V4(arp.sender_ip), names);
                    out.extend_from_slice(b" is-at ");
                    push_mac(out, arp.sender_mac);
                }
                op => {
                    out.extend_from_slice(b"op ");
                    push_u64(out, u64::from(op));
                }
            }
            return;
        }
        if let Some(e) = layers.iter().rev().find_map(|l| match l.header {
            Header::Ethernet(e) => Some(e),
            _ => None,
        }) {
            push_mac(out, e.src);
            out.extend_from_slice(" → ".as_bytes());
            push_mac(out, e.dst);
            out.extend_from_slice(b"  ethertype 0x");
            push_hex16(out, e.ethertype);
        } else if layers.is_empty() && p.layers().is_empty() {
            out.extend_from_slice(b"(");
            push_u64(out, u64::from(p.caplen()));
            out.extend_from_slice(b" bytes)");
        }
        return;
    };
    let ipl = &layers[i];
    if let Some((s, d)) = ipl.header.ip_addrs() {
        push_named_ip(out, s, names);
        out.extend_from_slice(" → ".as_bytes());
        push_named_ip(out, d, names);
    }
    match layers.get(i + 1).map(|l| l.header) {
        Some(Header::Tcp(t)) => {
            out.extend_from_slice(b"  TCP ");
            push_u64(out, u64::from(t.src_port));
            out.extend_from_slice(" → ".as_bytes());
            push_u64(out, u64::from(t.dst_port));
            out.extend_from_slice(b" [");
            push_tcp_flags(out, t.flags);
            out.extend_from_slice(b"] seq ");
            push_u64(out, u64::from(t.seq));
            if t.flags & tcp_flags::ACK != 0 {
                out.extend_from_slice(b" ack ");
                push_u64(out, u64::from(t.ack));
            }
            out.extend_from_slice(b" win ");
            push_u64(out, u64::from(t.window));
            out.extend_from_slice(b" len ");
            push_u64(out, u64::from(t.payload_len));
        }
        Some(Header::Udp(u)) => {
            out.extend_from_slice(b"  UDP ");
            push_u64(out, u64::from(u.src_port));
            out.extend_from_slice(" → ".as_bytes());
            push_u64(out, u64::from(u.dst_port));
            out.extend_from_slice(b" len ");
            push_u64(out, u64::from(u.length.saturating_sub(8)));
        }
        Some(Header::Icmpv4(m)) => {
            out.extend_from_slice(b"  ICMP ");
            push_icmp(out, &m, false, names);
        }
        Some(Header::Icmpv6(m)) => {
            out.extend_from_slice(b"  ICMPv6 ");
            push_icmp(out, &m, true, names);
        }
        _ => {
            let proto = match ipl.header {
                Header::Ipv4(ip) => ip.proto,
                Header::Ipv6(ip) => ip.proto,
                _ => 0,
            };
            match (proto, cut_ports(p)) {
                // A transport header cut after its ports: they are shown (the note says
                // where the capture stops).
                (6 | 17, Some((src, dst))) => {
                    out.extend_from_slice(if proto == 6 { b"  TCP " } else { b"  UDP " });
                    push_u64(out, u64::from(src));
                    out.extend_from_slice(" → ".as_bytes());
                    push_u64(out, u64::from(dst));
                }
                _ => {
                    out.extend_from_slice(b"  proto ");
                    push_u64(out, u64::from(proto));
                }
            }
        }
    }
    match ipl.header {
        Header::Ipv4(ip) if ip.is_fragment() => {
            out.extend_from_slice(b"  frag id ");
            push_u64(out, u64::from(ip.id));
            out.extend_from_slice(b" off ");
            push_u64(out, u64::from(ip.frag_offset));
            if ip.mf {
                out.push(b'+');
            }
        }
        Header::Ipv6(ip) => {
            if let Some(fr) = ip.fragment {
                out.extend_from_slice(b"  frag id ");
                push_u64(out, u64::from(fr.id));
                out.extend_from_slice(b" off ");
                push_u64(out, u64::from(fr.offset));
                if fr.more {
                    out.push(b'+');
                }
            }
        }
        _ => {}
    }
}

fn icmp_name(t: u8, v6: bool) -> Option<&'static str> {
    Some(if v6 {
        match t {
            1 => "unreachable",
            2 => "packet-too-big",
            3 => "time-exceeded",
            4 => "parameter-problem",
            128 => "echo request",
            129 => "echo reply",
            133 => "router solicitation",
            134 => "router advertisement",
            135 => "neighbor solicitation",
            136 => "neighbor advertisement",
            _ => return None,
        }
    } else {
        match t {
            0 => "echo reply",
            3 => "unreachable",
            4 => "source-quench",
            5 => "redirect",
            8 => "echo request",
            11 => "time-exceeded",
            12 => "parameter-problem",
            13 => "timestamp request",
            14 => "timestamp reply",
            _ => return None,
        }
    })
}

fn push_icmp(out: &mut Vec<u8>, m: &Icmp, v6: bool, names: &Names) {
    match icmp_name(m.icmp_type, v6) {
        Some(n) => put(out, n.as_bytes()),
        None => {
            out.extend_from_slice(b"type ");
            push_u64(out, u64::from(m.icmp_type));
        }
    }
    if m.code != 0 {
        out.extend_from_slice(b" code ");
        push_u64(out, u64::from(m.code));
    }
    if let Some((id, seq)) = m.echo {
        out.extend_from_slice(b" id ");
        push_u64(out, u64::from(id));
        out.extend_from_slice(b" seq ");
        push_u64(out, u64::from(seq));
    }
    if let Some(q) = m.quote {
        out.extend_from_slice(b" (for ");
        put(out, proto_name(q.proto).as_bytes());
        out.push(b' ');
        push_named_ip(out, q.src, names);
        if let Some((sp, _)) = q.ports {
            out.push(b':');
            push_u64(out, u64::from(sp));
        }
        out.extend_from_slice(" → ".as_bytes());
        push_named_ip(out, q.dst, names);
        if let Some((_, dp)) = q.ports {
            out.push(b':');
            push_u64(out, u64::from(dp));
        }
        out.push(b')');
    }
}

fn proto_name(p: u8) -> &'static str {
    match p {
        1 => "icmp",
        4 => "ipip",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        58 => "icmpv6",
        132 => "sctp",
        _ => "proto",
    }
}

fn push_notes(out: &mut Vec<u8>, p: &Packet<'_>) {
    for l in p.layers() {
        if let Some(Checksum::Bad { found, expected }) = l.header.checksum() {
            out.extend_from_slice(b"  [bad ");
            put(out, l.header.proto().as_bytes());
            out.extend_from_slice(b" cksum 0x");
            push_hex16(out, found);
            out.extend_from_slice(b", want 0x");
            push_hex16(out, expected);
            out.push(b']');
        }
        let length = match l.header {
            Header::Ipv4(ip) => ip.length,
            Header::Ipv6(ip) => ip.length,
            _ => IpLength::Ok,
        };
        match length {
            IpLength::Exceeds { available } => {
                out.extend_from_slice(b"  [");
                put(out, l.header.proto().as_bytes());
                out.extend_from_slice(b" length exceeds the ");
                push_u64(out, u64::from(available));
                out.extend_from_slice(b" bytes there]");
            }
            IpLength::ZeroFromFrame => {
                out.extend_from_slice(b"  [");
                put(out, l.header.proto().as_bytes());
                out.extend_from_slice(b" length 0: GSO/BIG TCP]");
            }
            _ => {}
        }
    }
    match p.stop {
        Some(
            s @ Stop {
                reason: StopReason::Truncated { .. },
                ..
            },
        ) => {
            out.extend_from_slice(b"  [");
            let _ = write!(out, "{s}");
            out.push(b']');
        }
        Some(s) => {
            out.extend_from_slice(b"  [");
            let _ = write!(out, "{s}");
            out.push(b']');
        }
        None => {
            if let Some((layer, at)) = p.truncation() {
                out.extend_from_slice(b"  [capture ends in ");
                put(out, layer.as_bytes());
                out.extend_from_slice(b" at byte ");
                push_u64(out, u64::from(at));
                out.extend_from_slice(b" of ");
                push_u64(out, u64::from(p.orig_len));
                out.push(b']');
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// tree

/// Every layer on its own line, indented one step deeper inside each tunnel, with all its
/// fields; a header line per packet and a blank line after.
pub fn write_tree(out: &mut Vec<u8>, f: &FrameInfo, p: &Packet<'_>, names: &Names) {
    out.extend_from_slice(b"#");
    push_u64(out, f.number);
    out.extend_from_slice(b"  ");
    push_datetime_in(out, f.ts, f.zone);
    out.extend_from_slice(b"  ");
    push_u64(out, u64::from(p.caplen()));
    out.extend_from_slice(b" of ");
    push_u64(out, u64::from(p.orig_len));
    out.extend_from_slice(b" bytes  link ");
    let _ = write!(out, "{}", p.link);
    out.push(b'\n');
    let mut depth = 1usize;
    let tunnels: Vec<usize> = p.tunnels().map(|t| t.inner).collect();
    for (i, l) in p.layers().iter().enumerate() {
        if tunnels.contains(&i) {
            depth += 1;
        }
        for _ in 0..depth {
            out.extend_from_slice(b"  ");
        }
        let name = l.header.proto();
        put(out, name.as_bytes());
        for _ in name.len()..12 {
            out.push(b' ');
        }
        push_tree_fields(out, l, names);
        out.push(b'\n');
    }
    if p.payload_offset < p.caplen() || p.is_cut() {
        for _ in 0..depth {
            out.extend_from_slice(b"  ");
        }
        out.extend_from_slice(b"payload     ");
        push_u64(
            out,
            u64::from(p.caplen() - p.payload_offset.min(p.caplen())),
        );
        out.extend_from_slice(b" bytes captured at byte ");
        push_u64(out, u64::from(p.payload_offset));
        out.push(b'\n');
    }
    if let Some(s) = p.stop {
        out.extend_from_slice(b"  stop: ");
        let _ = write!(out, "{s}");
        out.push(b'\n');
        if let Some((src, dst)) = cut_ports(p) {
            out.extend_from_slice(b"  ports before the cut: ");
            push_u64(out, u64::from(src));
            out.extend_from_slice(" → ".as_bytes());
            push_u64(out, u64::from(dst));
            out.push(b'\n');
        }
    } else if let Some((layer, at)) = p.truncation() {
        out.extend_from_slice(b"  truncated: capture ends in ");
        put(out, layer.as_bytes());
        out.extend_from_slice(b" at byte ");
        push_u64(out, u64::from(at));
        out.push(b'\n');
    }
    out.push(b'\n');
}

fn push_checksum(out: &mut Vec<u8>, c: Checksum) {
    out.extend_from_slice(b"  cksum ");
    put(out, c.word().as_bytes());
    if let Checksum::Bad { found, expected } = c {
        out.extend_from_slice(b" (0x");
        push_hex16(out, found);
        out.extend_from_slice(b", want 0x");
        push_hex16(out, expected);
        out.push(b')');
    }
}

fn push_tree_fields(out: &mut Vec<u8>, l: &Layer, names: &Names) {
    macro_rules! field {
        ($k:expr, $v:expr) => {{
            out.extend_from_slice(b"  ");
            put(out, $k.as_bytes());
            out.push(b' ');
            push_u64(out, u64::from($v));
        }};
    }
    out.extend_from_slice(b"@");
    push_u64(out, u64::from(l.offset));
    match l.header {
        Header::Sll(s) => {
            out.extend_from_slice(b"  ");
            put(out, packet_type_name(s.packet_type).as_bytes());
            field!("arphrd", s.arphrd);
            out.extend_from_slice(b"  src ");
            push_hex_bytes(out, &s.address[..usize::from(s.address_len.min(8))]);
            out.extend_from_slice(b"  proto 0x");
            push_hex16(out, s.protocol);
        }
        Header::Sll2(s) => {
            out.extend_from_slice(b"  ");
            put(out, packet_type_name(u16::from(s.packet_type)).as_bytes());
            field!("ifindex", s.ifindex);
            field!("arphrd", s.arphrd);
            out.extend_from_slice(b"  src ");
            push_hex_bytes(out, &s.address[..usize::from(s.address_len.min(8))]);
            out.extend_from_slice(b"  proto 0x");
            push_hex16(out, s.protocol);
        }
        Header::Null { family } => field!("family", family),
        Header::Ethernet(e) => {
            out.extend_from_slice(b"  ");
            push_mac(out, e.src);
            out.extend_from_slice(" → ".as_bytes());
            push_mac(out, e.dst);
            out.extend_from_slice(b"  type 0x");
            push_hex16(out, e.ethertype);
        }
        Header::Vlan(v) => {
            field!("vid", v.vid);
            field!("pcp", v.pcp);
            if v.dei {
                out.extend_from_slice(b"  DEI");
            }
            out.extend_from_slice(b"  tpid 0x");
            push_hex16(out, v.tpid);
            out.extend_from_slice(b"  type 0x");
            push_hex16(out, v.ethertype);
        }
        Header::Arp(a) => {
            field!("op", a.op);
            if a.eth_ipv4 {
                out.extend_from_slice(b"  sender ");
                push_mac(out, a.sender_mac);
                out.push(b' ');
                push_named_ip(out, IpAddr::V4(a.sender_ip), names);
                out.extend_from_slice(b"  target ");
                push_mac(out, a.target_mac);
                out.push(b' ');
                push_named_ip(out, IpAddr::V4(a.target_ip), names);
            } else {
                field!("hw", a.hw_type);
                out.extend_from_slice(b"  proto 0x");
                push_hex16(out, a.proto_type);
            }
        }
        Header::Ipv4(ip) => {
            out.extend_from_slice(b"  ");
            push_named_ip(out, IpAddr::V4(ip.src), names);
            out.extend_from_slice(" → ".as_bytes());
            push_named_ip(out, IpAddr::V4(ip.dst), names);
            field!("ttl", ip.ttl);
            out.extend_from_slice(b"  id 0x");
            push_hex16(out, ip.id);
            if ip.df {
                out.extend_from_slice(b"  DF");
            }
            if ip.mf {
                out.extend_from_slice(b"  MF");
            }
            if ip.frag_offset != 0 {
                field!("frag", ip.frag_offset);
            }
            field!("len", ip.total_len);
            field!("hl", ip.header_len);
            field!("tos", ip.tos);
            out.extend_from_slice(b"  proto ");
            push_u64(out, u64::from(ip.proto));
            out.extend_from_slice(b" (");
            put(out, proto_name(ip.proto).as_bytes());
            out.push(b')');
            push_checksum(out, ip.checksum);
            push_length(out, ip.length);
        }
        Header::Ipv6(ip) => {
            out.extend_from_slice(b"  ");
            push_named_ip(out, IpAddr::V6(ip.src), names);
            out.extend_from_slice(" → ".as_bytes());
            push_named_ip(out, IpAddr::V6(ip.dst), names);
            field!("hlim", ip.hop_limit);
            field!("plen", ip.payload_len);
            field!("tc", ip.traffic_class);
            field!("flow", ip.flow_label);
            out.extend_from_slice(b"  next ");
            push_u64(out, u64::from(ip.proto));
            out.extend_from_slice(b" (");
            put(out, proto_name(ip.proto).as_bytes());
            out.push(b')');
            if ip.ext_headers > 0 {
                field!("ext", ip.ext_headers);
            }
            if let Some(fr) = ip.fragment {
                field!("frag-id", fr.id);
                field!("frag-off", fr.offset);
                if fr.more {
                    out.extend_from_slice(b"  MF");
                }
            }
            push_length(out, ip.length);
        }
        Header::Udp(u) => {
            out.extend_from_slice(b"  ");
            push_u64(out, u64::from(u.src_port));
            out.extend_from_slice(" → ".as_bytes());
            push_u64(out, u64::from(u.dst_port));
            field!("len", u.length);
            push_checksum(out, u.checksum);
        }
        Header::Tcp(t) => {
            out.extend_from_slice(b"  ");
            push_u64(out, u64::from(t.src_port));
            out.extend_from_slice(" → ".as_bytes());
            push_u64(out, u64::from(t.dst_port));
            out.extend_from_slice(b"  [");
            push_tcp_flags(out, t.flags);
            out.push(b']');
            field!("seq", t.seq);
            field!("ack", t.ack);
            field!("win", t.window);
            field!("hl", t.header_len);
            field!("len", t.payload_len);
            push_checksum(out, t.checksum);
        }
        Header::Icmpv4(m) | Header::Icmpv6(m) => {
            let v6 = matches!(l.header, Header::Icmpv6(_));
            field!("type", m.icmp_type);
            field!("code", m.code);
            if let Some(n) = icmp_name(m.icmp_type, v6) {
                out.extend_from_slice(b" (");
                put(out, n.as_bytes());
                out.push(b')');
            }
            if let Some((id, seq)) = m.echo {
                field!("id", id);
                field!("seq", seq);
            }
            if let Some(q) = m.quote {
                out.extend_from_slice(b"  quotes ");
                put(out, proto_name(q.proto).as_bytes());
                out.push(b' ');
                push_named_ip(out, q.src, names);
                out.extend_from_slice(" → ".as_bytes());
                push_named_ip(out, q.dst, names);
                if let Some((s, d)) = q.ports {
                    field!("sport", s);
                    field!("dport", d);
                }
            }
            push_checksum(out, m.checksum);
        }
        Header::Vxlan(v) => {
            out.extend_from_slice(b"  flags 0x");
            push_hex8(out, v.flags);
            put(
                out,
                if v.flags & crate::wire::vxlan::FLAG_I != 0 {
                    b" [I]"
                } else {
                    b" [-]"
                },
            );
            field!("vni", v.vni);
            field!("port", v.port);
            if let Some(g) = v.gbp {
                field!("gbp-id", g.group_policy_id);
                if g.dont_learn {
                    out.extend_from_slice(b"  D");
                }
                if g.policy_applied {
                    out.extend_from_slice(b"  A");
                }
            }
            match v.cni_hint() {
                Some("flannel") => out.extend_from_slice(b"  (Flannel)"),
                Some("calico") => out.extend_from_slice(b"  (Calico)"),
                _ => {}
            }
        }
        Header::FlannelUdp => out.extend_from_slice(b"  raw IP inside UDP 8285"),
        Header::Geneve(g) => {
            field!("vni", g.vni);
            out.extend_from_slice(b"  protocol 0x");
            push_hex16(out, g.protocol);
            field!("options", g.options_len);
            if g.oam {
                out.extend_from_slice(b"  O");
            }
            if g.critical {
                out.extend_from_slice(b"  C");
            }
        }
    }
}

fn push_length(out: &mut Vec<u8>, l: IpLength) {
    match l {
        IpLength::Ok => {}
        IpLength::ZeroFromFrame => {
            out.extend_from_slice(b"  length 0 (GSO/BIG TCP: taken from the frame)")
        }
        IpLength::Exceeds { available } => {
            out.extend_from_slice(b"  length exceeds the ");
            push_u64(out, u64::from(available));
            out.extend_from_slice(b" bytes there (malformed)");
        }
        IpLength::ShorterThanHeader => {
            out.extend_from_slice(b"  length shorter than the header (malformed)")
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON

/// One JSON object (one line) for the packet: `schema`, `n`, `time`, `link`, `caplen`,
/// `len`, `encap` (outer to inner), `layers` (ordered, each with `proto`), `payload_len`,
/// `truncated` and `stop`.
pub fn write_json(out: &mut Vec<u8>, f: &FrameInfo, p: &Packet<'_>, names: &Names) {
    out.extend_from_slice(b"{\"schema\":\"netpath.decode/v1\",\"n\":");
    push_u64(out, f.number);
    out.extend_from_slice(b",\"time\":\"");
    push_datetime_rfc3339(out, f.ts);
    out.extend_from_slice(b"\",\"link\":");
    match p.link.name() {
        Some(n) => push_str(out, n),
        None => push_u64(out, u64::from(p.link.0)),
    }
    out.extend_from_slice(b",\"caplen\":");
    push_u64(out, u64::from(p.caplen()));
    out.extend_from_slice(b",\"len\":");
    push_u64(out, u64::from(p.orig_len));
    out.extend_from_slice(b",\"encap\":[");
    for (i, t) in p.tunnels().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let name = match t.encap {
            Encap::Vxlan { .. } => "vxlan",
            Encap::Ipip => "ipip",
            Encap::SixInFour => "6in4",
            Encap::FourInSix => "4in6",
            Encap::SixInSix => "6in6",
            Encap::FlannelUdp => "flannel-udp",
            Encap::Geneve { .. } => "geneve",
        };
        push_str(out, name);
    }
    out.extend_from_slice(b"],\"layers\":[");
    for (i, l) in p.layers().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_layer(out, l, names);
    }
    out.extend_from_slice(b"],\"payload_len\":");
    push_u64(out, u64::from(p.caplen().saturating_sub(p.payload_offset)));
    out.extend_from_slice(b",\"truncated\":");
    match p.truncation() {
        Some((layer, at)) => {
            out.extend_from_slice(b"{\"layer\":");
            push_str(out, layer);
            out.extend_from_slice(b",\"offset\":");
            push_u64(out, u64::from(at));
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"stop\":");
    match p.stop {
        None => out.extend_from_slice(b"null"),
        Some(s) => {
            out.extend_from_slice(b"{\"offset\":");
            push_u64(out, u64::from(s.offset));
            match s.reason {
                StopReason::Truncated {
                    layer,
                    needed,
                    ports,
                } => {
                    out.extend_from_slice(b",\"reason\":\"truncated\",\"layer\":");
                    push_str(out, layer);
                    out.extend_from_slice(b",\"needed\":");
                    push_u64(out, u64::from(needed));
                    if let Some((src, dst)) = ports {
                        out.extend_from_slice(b",\"src_port\":");
                        push_u64(out, u64::from(src));
                        out.extend_from_slice(b",\"dst_port\":");
                        push_u64(out, u64::from(dst));
                    }
                }
                StopReason::Malformed { layer, what } => {
                    out.extend_from_slice(b",\"reason\":\"malformed\",\"layer\":");
                    push_str(out, layer);
                    out.extend_from_slice(b",\"what\":");
                    push_str(out, what);
                }
                StopReason::Unsupported { kind, value } => {
                    out.extend_from_slice(b",\"reason\":\"not-decoded\",\"kind\":");
                    push_str(out, kind);
                    out.extend_from_slice(b",\"value\":");
                    push_u64(out, u64::from(value));
                }
                StopReason::TooDeep => out.extend_from_slice(b",\"reason\":\"too-deep\""),
            }
            out.push(b'}');
        }
    }
    out.extend_from_slice(b"}\n");
}

fn push_json_layer(out: &mut Vec<u8>, l: &Layer, names: &Names) {
    macro_rules! num {
        ($k:literal, $v:expr) => {{
            out.extend_from_slice(concat!(",\"", $k, "\":").as_bytes());
            push_u64(out, u64::from($v));
        }};
    }
    macro_rules! boolean {
        ($k:literal, $v:expr) => {{
            out.extend_from_slice(concat!(",\"", $k, "\":").as_bytes());
            put(out, if $v { b"true" } else { b"false" });
        }};
    }
    out.extend_from_slice(b"{\"proto\":\"");
    put(out, l.header.proto().as_bytes());
    out.extend_from_slice(b"\",\"offset\":");
    push_u64(out, u64::from(l.offset));
    match l.header {
        Header::Sll(s) => {
            num!("pkttype", s.packet_type);
            num!("arphrd", s.arphrd);
            out.extend_from_slice(b",\"src\":\"");
            push_hex_bytes(out, &s.address[..usize::from(s.address_len.min(8))]);
            out.push(b'"');
            num!("type", s.protocol);
        }
        Header::Sll2(s) => {
            num!("pkttype", s.packet_type);
            num!("ifindex", s.ifindex);
            num!("arphrd", s.arphrd);
            out.extend_from_slice(b",\"src\":\"");
            push_hex_bytes(out, &s.address[..usize::from(s.address_len.min(8))]);
            out.push(b'"');
            num!("type", s.protocol);
        }
        Header::Null { family } => num!("family", family),
        Header::Ethernet(e) => {
            out.extend_from_slice(b",\"src\":\"");
            push_mac(out, e.src);
            out.extend_from_slice(b"\",\"dst\":\"");
            push_mac(out, e.dst);
            out.push(b'"');
            num!("type", e.ethertype);
        }
        Header::Vlan(v) => {
            num!("tpid", v.tpid);
            num!("pcp", v.pcp);
            boolean!("dei", v.dei);
            num!("vid", v.vid);
            num!("type", v.ethertype);
        }
        Header::Arp(a) => {
            num!("op", a.op);
            num!("hw_type", a.hw_type);
            num!("proto_type", a.proto_type);
            if a.eth_ipv4 {
                out.extend_from_slice(b",\"sender_mac\":\"");
                push_mac(out, a.sender_mac);
                out.extend_from_slice(b"\",\"sender_ip\":\"");
                push_ipv4(out, a.sender_ip);
                out.extend_from_slice(b"\",\"target_mac\":\"");
                push_mac(out, a.target_mac);
                out.extend_from_slice(b"\",\"target_ip\":\"");
                push_ipv4(out, a.target_ip);
                out.push(b'"');
            }
        }
        Header::Ipv4(ip) => {
            push_json_addrs(out, IpAddr::V4(ip.src), IpAddr::V4(ip.dst), names);
            num!("ttl", ip.ttl);
            num!("id", ip.id);
            boolean!("df", ip.df);
            boolean!("mf", ip.mf);
            num!("frag_offset", ip.frag_offset);
            num!("len", ip.total_len);
            num!("hdr_len", ip.header_len);
            num!("tos", ip.tos);
            num!("ip_proto", ip.proto);
            push_json_checksum(out, ip.checksum);
            push_json_length(out, ip.length);
        }
        Header::Ipv6(ip) => {
            push_json_addrs(out, IpAddr::V6(ip.src), IpAddr::V6(ip.dst), names);
            num!("hop_limit", ip.hop_limit);
            num!("payload_len", ip.payload_len);
            num!("next_header", ip.next_header);
            num!("ip_proto", ip.proto);
            num!("traffic_class", ip.traffic_class);
            num!("flow_label", ip.flow_label);
            num!("ext_headers", ip.ext_headers);
            if let Some(fr) = ip.fragment {
                out.extend_from_slice(b",\"fragment\":{\"id\":");
                push_u64(out, u64::from(fr.id));
                out.extend_from_slice(b",\"offset\":");
                push_u64(out, u64::from(fr.offset));
                boolean!("more", fr.more);
                out.push(b'}');
            }
            push_json_length(out, ip.length);
        }
        Header::Udp(u) => {
            num!("src_port", u.src_port);
            num!("dst_port", u.dst_port);
            num!("len", u.length);
            push_json_checksum(out, u.checksum);
        }
        Header::Tcp(t) => {
            num!("src_port", t.src_port);
            num!("dst_port", t.dst_port);
            num!("seq", t.seq);
            num!("ack", t.ack);
            out.extend_from_slice(b",\"flags\":\"");
            push_tcp_flags(out, t.flags);
            out.push(b'"');
            num!("flags_value", t.flags);
            num!("window", t.window);
            num!("hdr_len", t.header_len);
            num!("payload_len", t.payload_len);
            push_json_checksum(out, t.checksum);
        }
        Header::Icmpv4(m) | Header::Icmpv6(m) => {
            num!("type", m.icmp_type);
            num!("code", m.code);
            if let Some((id, seq)) = m.echo {
                num!("id", id);
                num!("seq", seq);
            }
            if let Some(q) = m.quote {
                out.extend_from_slice(b",\"quote\":{\"src\":\"");
                push_ip(out, q.src);
                out.extend_from_slice(b"\",\"dst\":\"");
                push_ip(out, q.dst);
                out.extend_from_slice(b"\",\"ip_proto\":");
                push_u64(out, u64::from(q.proto));
                if let Some((s, d)) = q.ports {
                    num!("src_port", s);
                    num!("dst_port", d);
                }
                out.push(b'}');
            }
            push_json_checksum(out, m.checksum);
        }
        Header::Vxlan(v) => {
            num!("port", v.port);
            num!("flags", v.flags);
            num!("vni", v.vni);
            if let Some(g) = v.gbp {
                out.extend_from_slice(b",\"gbp\":{\"group_policy_id\":");
                push_u64(out, u64::from(g.group_policy_id));
                boolean!("dont_learn", g.dont_learn);
                boolean!("policy_applied", g.policy_applied);
                out.push(b'}');
            }
            out.extend_from_slice(b",\"cni_hint\":");
            match v.cni_hint() {
                Some(h) => push_str(out, h),
                None => out.extend_from_slice(b"null"),
            }
        }
        Header::FlannelUdp => {}
        Header::Geneve(g) => {
            num!("vni", g.vni);
            num!("protocol", g.protocol);
            num!("options_len", g.options_len);
            boolean!("oam", g.oam);
            boolean!("critical", g.critical);
        }
    }
    out.push(b'}');
}

fn push_json_addrs(out: &mut Vec<u8>, src: IpAddr, dst: IpAddr, names: &Names) {
    out.extend_from_slice(b",\"src\":\"");
    push_ip(out, src);
    out.extend_from_slice(b"\",\"dst\":\"");
    push_ip(out, dst);
    out.push(b'"');
    if !names.is_empty() {
        if let Some(n) = names.get(&src) {
            out.extend_from_slice(b",\"src_name\":");
            push_str(out, &n.label);
        }
        if let Some(n) = names.get(&dst) {
            out.extend_from_slice(b",\"dst_name\":");
            push_str(out, &n.label);
        }
    }
}

fn push_json_checksum(out: &mut Vec<u8>, c: Checksum) {
    out.extend_from_slice(b",\"checksum\":\"");
    put(out, c.word().as_bytes());
    out.push(b'"');
    if let Checksum::Bad { found, expected } = c {
        out.extend_from_slice(b",\"checksum_found\":");
        push_u64(out, u64::from(found));
        out.extend_from_slice(b",\"checksum_expected\":");
        push_u64(out, u64::from(expected));
    }
}

fn push_json_length(out: &mut Vec<u8>, l: IpLength) {
    match l {
        IpLength::Ok => {}
        IpLength::ZeroFromFrame => out.extend_from_slice(b",\"length_note\":\"zero-from-frame\""),
        IpLength::Exceeds { available } => {
            out.extend_from_slice(b",\"length_note\":\"exceeds-frame\",\"available\":");
            push_u64(out, u64::from(available));
        }
        IpLength::ShorterThanHeader => {
            out.extend_from_slice(b",\"length_note\":\"shorter-than-header\"")
        }
    }
}

// ---------------------------------------------------------------------------------------
// stats

fn named(ip: IpAddr, names: &Names) -> String {
    match names.get(&ip) {
        Some(n) => format!("{} ({ip})", n.label),
        None => ip.to_string(),
    }
}

fn flow_label(f: &Flow, names: &Names) -> String {
    let p = proto_name(f.proto);
    if matches!(f.proto, 6 | 17) {
        format!(
            "{}:{} → {}:{} {}",
            named(f.src, names),
            f.src_port,
            named(f.dst, names),
            f.dst_port,
            p
        )
    } else if p == "proto" {
        format!(
            "{} → {} proto {}",
            named(f.src, names),
            named(f.dst, names),
            f.proto
        )
    } else {
        format!("{} → {} {p}", named(f.src, names), named(f.dst, names))
    }
}

fn vni_label(port: u16, vni: u32) -> String {
    match crate::cni::cni_hint(port, vni) {
        Some("flannel") => format!("{vni} (Flannel)"),
        Some("calico") => format!("{vni} (Calico)"),
        _ => vni.to_string(),
    }
}

/// How many rows the per-flow and per-node-pair tables show.
pub const TOP: usize = 20;

/// The `--stats` tables for people.
pub fn stats_text(s: &Stats, names: &Names, style: &Style) -> String {
    use crate::render::table::{new_table, to_string};
    let mut out = String::new();
    let t = &s.total;
    out.push_str(&format!("{} packets, {} bytes\n\n", t.packets, t.bytes));

    let mut tb = new_table(style, &["ENCAPSULATION", "PACKETS", "BYTES"]);
    let mut rows: Vec<(&Chain, &Count)> = s.by_encap.iter().map(|(c, n)| (c, n)).collect();
    rows.sort_by(|a, b| b.1.packets.cmp(&a.1.packets).then(a.0.cmp(b.0)));
    for (c, n) in rows {
        tb.add_row(vec![c.label(), n.packets.to_string(), n.bytes.to_string()]);
    }
    out.push_str(&to_string(&tb));

    if !s.by_vni.is_empty() {
        out.push('\n');
        let mut tb = new_table(style, &["VXLAN PORT", "VNI", "PACKETS", "BYTES"]);
        for ((port, vni), n) in Stats::top(&s.by_vni, usize::MAX) {
            tb.add_row(vec![
                port.to_string(),
                vni_label(port, vni),
                n.packets.to_string(),
                n.bytes.to_string(),
            ]);
        }
        out.push_str(&to_string(&tb));
    }

    if !s.by_node_pair.is_empty() {
        out.push('\n');
        let mut tb = new_table(
            style,
            &[
                "OUTER SOURCE",
                "OUTER DESTINATION",
                "ENCAP",
                "PACKETS",
                "BYTES",
            ],
        );
        for ((src, dst, e), n) in Stats::top(&s.by_node_pair, TOP) {
            let encap = match e {
                Encap::Vxlan { port, .. } => format!("VXLAN {port}"),
                e => e.name().to_string(),
            };
            tb.add_row(vec![
                named(src, names),
                named(dst, names),
                encap,
                n.packets.to_string(),
                n.bytes.to_string(),
            ]);
        }
        out.push_str(&to_string(&tb));
        if s.by_node_pair.len() > TOP {
            out.push_str(&format!(
                "({} more node pairs)\n",
                s.by_node_pair.len() - TOP
            ));
        }
    }

    if !s.by_flow.is_empty() {
        out.push('\n');
        let mut tb = new_table(style, &["INNER FLOW", "PACKETS", "BYTES"]);
        for (f, n) in Stats::top(&s.by_flow, TOP) {
            tb.add_row(vec![
                flow_label(&f, names),
                n.packets.to_string(),
                n.bytes.to_string(),
            ]);
        }
        out.push_str(&to_string(&tb));
        if s.by_flow.len() > TOP {
            out.push_str(&format!("({} more flows)\n", s.by_flow.len() - TOP));
        }
        if s.untracked_flows > 0 {
            out.push_str(&format!(
                "({} packets of flows beyond the {} tracked)\n",
                s.untracked_flows,
                crate::decode::stats::MAX_FLOWS
            ));
        }
    }

    out.push('\n');
    let b = &s.bad_checksums;
    let mut tb = new_table(style, &["PROBLEM", "PACKETS"]);
    tb.add_row(vec![
        format!(
            "bad checksums (ipv4 {}, tcp {}, udp {}, icmp {})",
            b.ipv4, b.tcp, b.udp, b.icmp
        ),
        b.total().to_string(),
    ]);
    tb.add_row(vec![
        "checksums offloaded by the sender (not errors)".to_string(),
        s.offloaded_checksums.to_string(),
    ]);
    tb.add_row(vec![
        "truncated (snaplen)".to_string(),
        s.truncated.to_string(),
    ]);
    tb.add_row(vec!["malformed".to_string(), s.malformed.to_string()]);
    tb.add_row(vec![
        "not decoded further".to_string(),
        s.undecoded.to_string(),
    ]);
    let mtu_note = match s.largest_inner {
        Some((size, mtu)) => format!(
            "over the inner MTU of their mode (link MTU {}; largest inner packet {size} vs {mtu})",
            s.mtu
        ),
        None => format!("over the inner MTU of their mode (link MTU {})", s.mtu),
    };
    tb.add_row(vec![mtu_note, s.over_mtu.to_string()]);
    tb.add_row(vec!["IP fragments".to_string(), s.fragments.to_string()]);
    out.push_str(&to_string(&tb));
    out
}

/// The statistics as JSON (the `summary` of the JSON stream).
pub fn stats_json(s: &Stats, names: &Names) -> Value {
    let count = |c: &Count| json!({"packets": c.packets, "bytes": c.bytes});
    let mut encap: Vec<(&Chain, &Count)> = s.by_encap.iter().map(|(c, n)| (c, n)).collect();
    encap.sort_by(|a, b| b.1.packets.cmp(&a.1.packets).then(a.0.cmp(b.0)));
    let name_of = |ip: IpAddr| names.get(&ip).map(|n| n.label.clone());
    let mut links: Vec<_> = s.by_link.iter().collect();
    links.sort();
    json!({
        "packets": s.total.packets,
        "bytes": s.total.bytes,
        "link_types": links.iter().map(|(l, n)| json!({"link": l.0, "name": l.name(), "packets": n})).collect::<Vec<_>>(),
        "encapsulations": encap.iter().map(|(c, n)| {
            let mut v = count(n);
            v["encap"] = json!(c.encaps().map(|e| match e {
                Encap::Vxlan { port, .. } => json!({"type": "vxlan", "port": port}),
                e => json!({"type": e.name().to_lowercase()}),
            }).collect::<Vec<_>>());
            v
        }).collect::<Vec<_>>(),
        "vnis": Stats::top(&s.by_vni, usize::MAX).iter().map(|((port, vni), n)| {
            let mut v = count(n);
            v["port"] = json!(port);
            v["vni"] = json!(vni);
            v["cni_hint"] = json!(crate::cni::cni_hint(*port, *vni));
            v
        }).collect::<Vec<_>>(),
        "node_pairs": Stats::top(&s.by_node_pair, usize::MAX).iter().map(|((src, dst, e), n)| {
            let mut v = count(n);
            v["src"] = json!(src.to_string());
            v["dst"] = json!(dst.to_string());
            v["src_name"] = json!(name_of(*src));
            v["dst_name"] = json!(name_of(*dst));
            v["encap"] = json!(match e { Encap::Vxlan { port, .. } => format!("vxlan/{port}"), e => e.name().to_lowercase() });
            v
        }).collect::<Vec<_>>(),
        "flows": Stats::top(&s.by_flow, TOP).iter().map(|(f, n)| {
            let mut v = count(n);
            v["src"] = json!(f.src.to_string());
            v["dst"] = json!(f.dst.to_string());
            v["src_name"] = json!(name_of(f.src));
            v["dst_name"] = json!(name_of(f.dst));
            v["ip_proto"] = json!(f.proto);
            v["src_port"] = json!(f.src_port);
            v["dst_port"] = json!(f.dst_port);
            v
        }).collect::<Vec<_>>(),
        "flows_total": s.by_flow.len(),
        "untracked_flow_packets": s.untracked_flows,
        "bad_checksums": {
            "ipv4": s.bad_checksums.ipv4, "tcp": s.bad_checksums.tcp,
            "udp": s.bad_checksums.udp, "icmp": s.bad_checksums.icmp,
            "total": s.bad_checksums.total(),
        },
        "offloaded_checksums": s.offloaded_checksums,
        "truncated": s.truncated,
        "malformed": s.malformed,
        "undecoded": s.undecoded,
        "mtu": s.mtu,
        "over_inner_mtu": s.over_mtu,
        "largest_inner": s.largest_inner.map(|(size, mtu)| json!({"size": size, "inner_mtu": mtu})),
        "fragments": s.fragments,
    })
}

// ---------------------------------------------------------------------------------------
// formatting primitives (no allocation)

/// Append the decimal digits of `v`.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    const PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    if v < 10 {
        out.push(b'0' + v as u8);
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i] = PAIRS[d];
        buf[i + 1] = PAIRS[d + 1];
    }
    if v >= 10 {
        let d = v as usize * 2;
        i -= 2;
        buf[i] = PAIRS[d];
        buf[i + 1] = PAIRS[d + 1];
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    put(out, &buf[i..]);
}

/// Append a short byte string: a loop of pushes, cheaper than a `memmove` call for the
/// few bytes of a field name or value.
#[inline(always)]
fn put(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 24 {
        out.reserve(s.len());
        for &b in s {
            out.push(b);
        }
    } else {
        out.extend_from_slice(s);
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex8(out: &mut Vec<u8>, v: u8) {
    out.push(HEX[usize::from(v >> 4)]);
    out.push(HEX[usize::from(v & 0xf)]);
}

fn push_hex16(out: &mut Vec<u8>, v: u16) {
    push_hex8(out, (v >> 8) as u8);
    push_hex8(out, v as u8);
}

fn push_hex_bytes(out: &mut Vec<u8>, b: &[u8]) {
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        push_hex8(out, *x);
    }
}

fn push_mac(out: &mut Vec<u8>, m: MacAddr) {
    push_hex_bytes(out, &m.0);
}

#[inline]
fn push_ipv4(out: &mut Vec<u8>, ip: Ipv4Addr) {
    let o = ip.octets();
    for (i, b) in o.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_u64(out, u64::from(*b));
    }
}

fn push_ipv6(out: &mut Vec<u8>, ip: Ipv6Addr) {
    let _ = write!(out, "{ip}");
}

#[inline]
fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => push_ipv4(out, v4),
        IpAddr::V6(v6) => push_ipv6(out, v6),
    }
}

#[inline]
fn push_named_ip(out: &mut Vec<u8>, ip: IpAddr, names: &Names) {
    match names.get(&ip) {
        Some(n) => {
            out.extend_from_slice(n.label.as_bytes());
            out.extend_from_slice(b" (");
            push_ip(out, ip);
            out.push(b')');
        }
        None => push_ip(out, ip),
    }
}

/// tcpdump's flag letters: S F P R U E W, `.` for ACK, `e` for AE/NS.
fn push_tcp_flags(out: &mut Vec<u8>, f: u16) {
    let start = out.len();
    for (bit, c) in [
        (tcp_flags::SYN, b'S'),
        (tcp_flags::FIN, b'F'),
        (tcp_flags::PSH, b'P'),
        (tcp_flags::RST, b'R'),
        (tcp_flags::URG, b'U'),
        (tcp_flags::ECE, b'E'),
        (tcp_flags::CWR, b'W'),
        (tcp_flags::NS, b'e'),
        (tcp_flags::ACK, b'.'),
    ] {
        if f & bit != 0 {
            out.push(c);
        }
    }
    if out.len() == start {
        out.extend_from_slice(b"none");
    }
}

/// A JSON string literal; escapes what JSON requires.
fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                push_hex8(out, b);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

fn push_2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

fn push_frac(out: &mut Vec<u8>, v: u32, digits: u32) {
    let mut div = 10u32.pow(digits - 1);
    for _ in 0..digits {
        out.push(b'0' + (v / div % 10) as u8);
        div /= 10;
    }
}

/// `HH:MM:SS.uuuuuu` (UTC).
fn push_time_of_day(out: &mut Vec<u8>, ts: Timestamp) {
    let secs = ts.sec.rem_euclid(86_400) as u32;
    push_2(out, secs / 3600);
    out.push(b':');
    push_2(out, secs / 60 % 60);
    out.push(b':');
    push_2(out, secs % 60);
    out.push(b'.');
    push_frac(out, ts.nsec / 1000, 6);
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn push_date(out: &mut Vec<u8>, ts: Timestamp) {
    let (y, m, d) = civil(ts.sec.div_euclid(86_400));
    push_u64(out, y.max(0) as u64);
    out.push(b'-');
    push_2(out, m);
    out.push(b'-');
    push_2(out, d);
}

/// `YYYY-MM-DD HH:MM:SS.uuuuuu ZONE`, on the wall clock of `zone`.
fn push_datetime_in(out: &mut Vec<u8>, ts: Timestamp, zone: crate::render::clock::Zone) {
    let local = zone.shift(ts);
    push_date(out, local);
    out.push(b' ');
    push_time_of_day(out, local);
    out.push(b' ');
    out.extend_from_slice(zone.name());
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
fn push_datetime_rfc3339(out: &mut Vec<u8>, ts: Timestamp) {
    push_date(out, ts);
    out.push(b'T');
    let secs = ts.sec.rem_euclid(86_400) as u32;
    push_2(out, secs / 3600);
    out.push(b':');
    push_2(out, secs / 60 % 60);
    out.push(b':');
    push_2(out, secs % 60);
    out.push(b'.');
    push_frac(out, ts.nsec, 9);
    out.push(b'Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times() {
        let mut o = Vec::new();
        push_u64(&mut o, 0);
        o.push(b' ');
        push_u64(&mut o, 18_446_744_073_709_551_615);
        assert_eq!(String::from_utf8(o).unwrap(), "0 18446744073709551615");
        let mut o = Vec::new();
        push_datetime_rfc3339(
            &mut o,
            Timestamp {
                sec: 1_704_067_200 + 3_723,
                nsec: 5_000,
            },
        );
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "2024-01-01T01:02:03.000005000Z"
        );
        let mut o = Vec::new();
        push_datetime_in(
            &mut o,
            Timestamp {
                sec: 951_782_400,
                nsec: 0,
            },
            crate::render::clock::Zone::default(),
        );
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "2000-02-29 00:00:00.000000 UTC"
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut o = Vec::new();
        push_str(&mut o, "a\"b\\c\n\u{1}");
        assert_eq!(String::from_utf8(o).unwrap(), r#""a\"b\\c\n\u0001""#);
    }

    #[test]
    fn tcp_flag_letters() {
        let mut o = Vec::new();
        push_tcp_flags(&mut o, tcp_flags::SYN | tcp_flags::ACK);
        o.push(b' ');
        push_tcp_flags(&mut o, 0);
        assert_eq!(String::from_utf8(o).unwrap(), "S. none");
    }
}
