//! The tree view: every layer on its own line with all its fields.

use super::*;

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
