//! The JSON stream (`netpath.decode/v1`): one object per packet, written by hand.

use super::*;

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
