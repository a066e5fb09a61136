//! The `--stats` tables and their JSON document.

use super::*;

fn named(ip: IpAddr, names: &Names) -> String {
    match names.get(&ip) {
        Some(n) => format!("{} ({ip})", crate::render::out::escape_line(&n.label)),
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
