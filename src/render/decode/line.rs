//! One line per packet: time, tunnels, the inner flow, notes.

use super::*;

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
