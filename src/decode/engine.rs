//! The decoder proper: a cursor over one frame that pushes layers onto a [`Packet`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    ArpPacketSlice, IpAuthHeaderSlice, Ipv4HeaderSlice, Ipv6FragmentHeaderSlice, Ipv6HeaderSlice,
    Ipv6RawExtHeaderSlice, TcpHeaderSlice,
};

use super::layer::*;
use super::{DecodeOptions, Packet, Stop, StopReason};
use crate::dataplane::MacAddr;
use crate::wire::checksum::{fold, pseudo_v4, pseudo_v6, sum};
use crate::wire::ethernet::ethertype;
use crate::wire::ipv4::protocol;
use crate::wire::ipv6::ext;
use crate::wire::{
    LinkType, ethernet, geneve, icmp, ipip, ipv4, ipv6, null, sll, sll2, udp, vlan, vxlan,
};

/// How many tunnels deep the decoder follows (VXLAN in VXLAN in …).
const MAX_TUNNEL_DEPTH: u8 = 8;
/// How many IPv6 extension headers the decoder walks.
const MAX_IPV6_EXT: u8 = 8;

/// Decode one frame of link type `link`. `orig_len` is its length on the wire (from the
/// capture record), used to tell a snaplen cut from a malformed length field.
///
/// Never panics, never allocates: the result borrows `frame`.
pub fn decode<'a>(
    link: LinkType,
    frame: &'a [u8],
    orig_len: u32,
    opts: &DecodeOptions,
) -> Packet<'a> {
    let mut p = Packet::new(link, frame, orig_len);
    decode_into(&mut p, link, frame, orig_len, opts);
    p
}

/// Like [`decode`], into a packet the caller reuses (its layer array is not
/// re-initialised): the fastest way through a file whose frames share a lifetime.
pub fn decode_into<'a>(
    p: &mut Packet<'a>,
    link: LinkType,
    frame: &'a [u8],
    orig_len: u32,
    opts: &DecodeOptions,
) {
    p.reset(link, frame, orig_len);
    let mut cx = Cx {
        p,
        data: frame,
        opts,
        depth: 0,
        seg: None,
    };
    cx.link(link);
}

/// The addresses a transport checksum covers.
#[derive(Clone, Copy)]
enum Pseudo {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

impl Pseudo {
    fn sum(&self, proto: u8, len: u32) -> u64 {
        match self {
            Pseudo::V4(s, d) => pseudo_v4(*s, *d, proto, len),
            Pseudo::V6(s, d) => pseudo_v6(s, d, proto, len),
        }
    }
}

/// What a transport header needs from its IP header.
#[derive(Clone, Copy)]
struct IpCtx {
    pseudo: Pseudo,
    /// The datagram is a first fragment: its transport checksum cannot be checked.
    fragment: bool,
    /// Transport length per the IP header(s).
    wire_len: usize,
}

/// The one's-complement sum of the last transport segment whose checksum was verified
/// (pseudo header left out), so that the UDP checksum of an enclosing tunnel reuses it
/// instead of reading those bytes a second time.
#[derive(Clone, Copy)]
struct SegSum {
    /// Where the segment starts in the frame.
    off: usize,
    /// Its length.
    len: usize,
    /// The folded sum of its bytes as captured.
    data: u16,
    /// For a segment whose checksum the sender left to the NIC (`Offloaded`): the folded
    /// sum of its bytes once the correct checksum is filled in. Linux's local checksum
    /// offload (LCO) computes an enclosing tunnel's UDP checksum for those bytes.
    completed: Option<u16>,
}

struct Cx<'a, 'o, 'p> {
    p: &'p mut Packet<'a>,
    data: &'a [u8],
    opts: &'o DecodeOptions,
    depth: u8,
    seg: Option<SegSum>,
}

impl<'a> Cx<'a, '_, '_> {
    fn stop(&mut self, off: usize, reason: StopReason) {
        self.p.payload_offset = off.min(self.data.len()) as u32;
        self.p.stop = Some(Stop {
            offset: off as u32,
            reason,
        });
    }

    fn truncated(&mut self, off: usize, layer: &'static str, needed: usize) {
        self.stop(
            off,
            StopReason::Truncated {
                layer,
                needed: needed as u32,
                ports: None,
            },
        );
    }

    /// A TCP or UDP header cut short: the ports are kept when its first four bytes are there.
    fn truncated_transport(&mut self, off: usize, end: usize, layer: &'static str, needed: usize) {
        let b = self.bytes(off, end);
        let ports = (b.len() >= 4).then(|| {
            (
                u16::from_be_bytes([b[0], b[1]]),
                u16::from_be_bytes([b[2], b[3]]),
            )
        });
        self.stop(
            off,
            StopReason::Truncated {
                layer,
                needed: needed as u32,
                ports,
            },
        );
    }

    fn malformed(&mut self, off: usize, layer: &'static str, what: &'static str) {
        self.stop(off, StopReason::Malformed { layer, what });
    }

    fn unsupported(&mut self, off: usize, kind: &'static str, value: u32) {
        self.stop(off, StopReason::Unsupported { kind, value });
    }

    fn payload(&mut self, off: usize) {
        self.p.payload_offset = off.min(self.data.len()) as u32;
    }

    fn push(&mut self, off: usize, header: Header) -> bool {
        self.p.push(off, header)
    }

    /// Bytes `off..end`, empty when out of range.
    fn bytes(&self, off: usize, end: usize) -> &'a [u8] {
        self.data.get(off..end).unwrap_or_default()
    }

    /// Whether a header ending at `end` ends there because the snaplen cut the frame.
    fn cut_at(&self, end: usize) -> bool {
        end >= self.data.len() && self.p.is_cut()
    }

    fn enter_tunnel(&mut self, off: usize) -> bool {
        self.depth += 1;
        if self.depth > MAX_TUNNEL_DEPTH {
            self.stop(off, StopReason::TooDeep);
            return false;
        }
        true
    }

    fn checksum_on(&self) -> bool {
        self.opts.verify_checksums
    }

    fn link(&mut self, link: LinkType) {
        let end = self.data.len();
        match link {
            LinkType::ETHERNET => self.ethernet(0, end),
            LinkType::LINUX_SLL => match sll::Packet::new_checked(self.data) {
                Ok(h) => {
                    let r = h.parse();
                    if self.push(0, Header::Sll(r)) {
                        self.ethertype(sll::HEADER_LEN, end, r.protocol);
                    }
                }
                Err(_) => self.truncated(0, "sll", sll::HEADER_LEN),
            },
            LinkType::LINUX_SLL2 => match sll2::Packet::new_checked(self.data) {
                Ok(h) => {
                    let r = h.parse();
                    if self.push(0, Header::Sll2(r)) {
                        self.ethertype(sll2::HEADER_LEN, end, r.protocol);
                    }
                }
                Err(_) => self.truncated(0, "sll2", sll2::HEADER_LEN),
            },
            LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => self.raw_ip(0, end),
            LinkType::IPV4 => self.ipv4(0, end),
            LinkType::IPV6 => self.ipv6(0, end),
            LinkType::NULL | LinkType::LOOP => {
                match null::parse(self.data, link == LinkType::LOOP) {
                    Ok((family, f)) => {
                        if !self.push(0, Header::Null { family }) {
                            return;
                        }
                        match f {
                            null::Family::Ipv4 => self.ipv4(null::HEADER_LEN, end),
                            null::Family::Ipv6 => self.ipv6(null::HEADER_LEN, end),
                            null::Family::Other(v) => {
                                self.unsupported(null::HEADER_LEN, "address-family", v)
                            }
                        }
                    }
                    Err(_) => self.truncated(0, "null", null::HEADER_LEN),
                }
            }
            LinkType(v) => self.unsupported(0, "link-type", v),
        }
    }

    fn ethertype(&mut self, off: usize, end: usize, et: u16) {
        match et {
            ethertype::IPV4 => self.ipv4(off, end),
            ethertype::IPV6 => self.ipv6(off, end),
            // RARP has ARP's format.
            ethertype::ARP | ethertype::RARP => self.arp(off, end),
            ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD => self.vlan(off, end, et),
            _ if et < ethertype::MIN_ETHERTYPE => {
                self.unsupported(off, "802.3-length", u32::from(et))
            }
            _ => self.unsupported(off, "ethertype", u32::from(et)),
        }
    }

    fn ethernet(&mut self, off: usize, end: usize) {
        let Ok(h) = ethernet::Packet::new_checked(self.bytes(off, end)) else {
            return self.truncated(off, "eth", ethernet::HEADER_LEN);
        };
        let et = h.ethertype();
        let layer = Ethernet {
            dst: MacAddr(h.dst()),
            src: MacAddr(h.src()),
            ethertype: et,
        };
        if self.push(off, Header::Ethernet(layer)) {
            self.ethertype(off + ethernet::HEADER_LEN, end, et);
        }
    }

    fn vlan(&mut self, off: usize, end: usize, tpid: u16) {
        let Ok(h) = vlan::Packet::new_checked(self.bytes(off, end)) else {
            return self.truncated(off, "vlan", vlan::HEADER_LEN);
        };
        let et = h.ethertype();
        let layer = Vlan {
            tpid,
            pcp: h.pcp(),
            dei: h.dei(),
            vid: h.vid(),
            ethertype: et,
        };
        if self.push(off, Header::Vlan(layer)) {
            self.ethertype(off + vlan::HEADER_LEN, end, et);
        }
    }

    fn arp(&mut self, off: usize, end: usize) {
        let b = self.bytes(off, end);
        let h = match ArpPacketSlice::from_slice(b) {
            Ok(h) => h,
            Err(e) => return self.truncated(off, "arp", e.required_len),
        };
        let eth_ipv4 = h.hw_addr_size() == 6 && h.proto_addr_size() == 4;
        let mac = |s: &[u8]| MacAddr::from_slice(s).unwrap_or_default();
        let ip = |s: &[u8]| {
            <[u8; 4]>::try_from(s)
                .map(Ipv4Addr::from)
                .unwrap_or(Ipv4Addr::UNSPECIFIED)
        };
        let layer = Arp {
            op: h.operation().0,
            hw_type: h.hw_addr_type().0,
            proto_type: h.proto_addr_type().0,
            eth_ipv4,
            sender_mac: mac(h.sender_hw_addr()),
            sender_ip: ip(h.sender_protocol_addr()),
            target_mac: mac(h.target_hw_addr()),
            target_ip: ip(h.target_protocol_addr()),
        };
        let len = h.slice().len();
        if self.push(off, Header::Arp(layer)) {
            self.payload(off + len);
        }
    }

    fn raw_ip(&mut self, off: usize, end: usize) {
        match self.bytes(off, end).first().map(|b| b >> 4) {
            Some(4) => self.ipv4(off, end),
            Some(6) => self.ipv6(off, end),
            Some(_) => self.malformed(off, "ip", "version is neither 4 nor 6"),
            None => self.truncated(off, "ip", ipv4::HEADER_LEN),
        }
    }

    /// The end of an IP datagram and the verdict on its length field.
    fn ip_end(&self, off: usize, end: usize, hl: usize, claimed: usize) -> (usize, IpLength) {
        let available = end.saturating_sub(off);
        if claimed == 0 {
            (end, IpLength::ZeroFromFrame)
        } else if claimed < hl {
            (end, IpLength::ShorterThanHeader)
        } else if claimed > available {
            if self.cut_at(end) {
                (end, IpLength::Ok)
            } else {
                (
                    end,
                    IpLength::Exceeds {
                        available: available as u32,
                    },
                )
            }
        } else {
            (off + claimed, IpLength::Ok)
        }
    }

    fn ipv4(&mut self, off: usize, end: usize) {
        use etherparse::err::ipv4::{HeaderError, HeaderSliceError};
        let b = self.bytes(off, end);
        let h = match Ipv4HeaderSlice::from_slice(b) {
            Ok(h) => h,
            Err(HeaderSliceError::Len(e)) => return self.truncated(off, "ipv4", e.required_len),
            Err(HeaderSliceError::Content(HeaderError::UnexpectedVersion { version_number })) => {
                let what = if version_number == 6 {
                    "version 6 in an IPv4 header (wrong link-layer type)"
                } else {
                    "version is not 4"
                };
                return self.malformed(off, "ipv4", what);
            }
            Err(HeaderSliceError::Content(HeaderError::HeaderLengthSmallerThanHeader {
                ..
            })) => {
                return self.malformed(off, "ipv4", "header length below 20 bytes");
            }
        };
        let hl = h.slice().len();
        let tl = usize::from(h.total_len());
        let (ip_end, length) = self.ip_end(off, end, hl, tl);
        let checksum = if self.checksum_on() {
            verdict(sum(h.slice(), 0), h.header_checksum())
        } else {
            Checksum::Unchecked
        };
        let (src, dst) = (h.source(), h.destination());
        let layer = Ipv4 {
            src: Ipv4Addr::from(src),
            dst: Ipv4Addr::from(dst),
            ttl: h.ttl(),
            id: h.identification(),
            df: h.dont_fragment(),
            mf: h.more_fragments(),
            frag_offset: h.fragments_offset().byte_offset(),
            total_len: h.total_len(),
            header_len: hl as u8,
            proto: h.protocol().0,
            tos: b[1],
            checksum,
            length,
        };
        if !self.push(off, Header::Ipv4(layer)) {
            return;
        }
        if length == IpLength::ShorterThanHeader {
            return self.malformed(off, "ipv4", "total length shorter than the header");
        }
        if layer.frag_offset != 0 {
            // A later fragment: no transport header here.
            return self.payload(off + hl);
        }
        let wire_len = if tl == 0 { ip_end - off - hl } else { tl - hl };
        let ctx = IpCtx {
            pseudo: Pseudo::V4(src, dst),
            fragment: layer.mf,
            wire_len,
        };
        self.ip_payload(off + hl, ip_end, layer.proto, ctx);
    }

    fn ipv6(&mut self, off: usize, end: usize) {
        use etherparse::err::ipv6::HeaderSliceError;
        let h = match Ipv6HeaderSlice::from_slice(self.bytes(off, end)) {
            Ok(h) => h,
            Err(HeaderSliceError::Len(e)) => return self.truncated(off, "ipv6", e.required_len),
            Err(HeaderSliceError::Content(_)) => {
                return self.malformed(off, "ipv6", "version is not 6");
            }
        };
        let pl = usize::from(h.payload_length());
        let (ip_end, length) = if pl == 0 {
            (end, IpLength::ZeroFromFrame)
        } else {
            self.ip_end(off, end, ipv6::HEADER_LEN, pl + ipv6::HEADER_LEN)
        };
        let mut nh = h.next_header().0;
        let mut pos = off + ipv6::HEADER_LEN;
        let mut count = 0u8;
        let mut fragment = None;
        let mut ext_cut: Option<(usize, usize)> = None;
        while count < MAX_IPV6_EXT {
            let rest = self.bytes(pos, ip_end);
            let (next, len) = match nh {
                ext::HOP_BY_HOP
                | ext::ROUTING
                | ext::DEST_OPTS
                | ext::MOBILITY
                | ext::HIP
                | ext::SHIM6 => match Ipv6RawExtHeaderSlice::from_slice(rest) {
                    Ok(x) => (x.next_header().0, x.slice().len()),
                    Err(e) => {
                        ext_cut = Some((pos, e.required_len));
                        break;
                    }
                },
                ext::FRAGMENT => match Ipv6FragmentHeaderSlice::from_slice(rest) {
                    Ok(x) => {
                        fragment = Some(Fragment6 {
                            offset: x.fragment_offset().byte_offset(),
                            more: x.more_fragments(),
                            id: x.identification(),
                        });
                        (x.next_header().0, x.slice().len())
                    }
                    Err(e) => {
                        ext_cut = Some((pos, e.required_len));
                        break;
                    }
                },
                ext::AUTH => match IpAuthHeaderSlice::from_slice(rest) {
                    Ok(x) => (x.next_header().0, x.slice().len()),
                    Err(_) => {
                        ext_cut = Some((pos, 12));
                        break;
                    }
                },
                _ => break,
            };
            nh = next;
            pos += len;
            count += 1;
        }
        let (src, dst) = (h.source(), h.destination());
        let layer = Ipv6 {
            src: Ipv6Addr::from(src),
            dst: Ipv6Addr::from(dst),
            hop_limit: h.hop_limit(),
            payload_len: h.payload_length(),
            next_header: h.next_header().0,
            proto: nh,
            traffic_class: h.traffic_class(),
            flow_label: h.flow_label().value(),
            ext_headers: count,
            fragment,
            length,
        };
        if !self.push(off, Header::Ipv6(layer)) {
            return;
        }
        if let Some((at, needed)) = ext_cut {
            return if self.cut_at(ip_end) {
                self.truncated(at, "ipv6-ext", needed)
            } else {
                self.malformed(at, "ipv6-ext", "extension header runs past the packet")
            };
        }
        if fragment.is_some_and(|f| f.offset != 0) {
            return self.payload(pos);
        }
        let claimed_end = if pl == 0 {
            ip_end
        } else {
            off + ipv6::HEADER_LEN + pl
        };
        let ctx = IpCtx {
            pseudo: Pseudo::V6(src, dst),
            fragment: fragment.is_some_and(|f| f.more),
            wire_len: claimed_end.saturating_sub(pos),
        };
        self.ip_payload(pos, ip_end, nh, ctx);
    }

    fn ip_payload(&mut self, off: usize, end: usize, proto: u8, ip: IpCtx) {
        match proto {
            ipip::PROTO_IPIP => {
                if self.enter_tunnel(off) {
                    self.ipv4(off, end)
                }
            }
            ipip::PROTO_IPV6_IN_IPV4 => {
                if self.enter_tunnel(off) {
                    self.ipv6(off, end)
                }
            }
            protocol::UDP => self.udp(off, end, ip),
            protocol::TCP => self.tcp(off, end, ip),
            protocol::ICMP => self.icmp(off, end, ip, false),
            protocol::ICMPV6 => self.icmp(off, end, ip, true),
            _ => self.unsupported(off, "ip-proto", u32::from(proto)),
        }
    }

    /// Verify a transport checksum over `off .. off + len` (and remember the segment's sum
    /// for an enclosing tunnel).
    fn l4_checksum(
        &mut self,
        off: usize,
        end: usize,
        len: usize,
        proto: u8,
        ip: IpCtx,
        field: u16,
    ) -> Checksum {
        if !self.checksum_on() {
            return Checksum::Unchecked;
        }
        if ip.fragment {
            return Checksum::Fragment;
        }
        if end.saturating_sub(off) < len {
            return Checksum::Truncated;
        }
        let data = fold(sum(self.bytes(off, off + len), 0));
        self.l4_verdict(off, len, data, None, proto, ip, field)
    }

    /// The verdict on a transport checksum whose segment (`off`, `len`) sums to `data`
    /// (and to `completed` once an offloaded inner checksum is filled in); records the
    /// segment's sum in `self.seg`.
    #[allow(clippy::too_many_arguments)]
    fn l4_verdict(
        &mut self,
        off: usize,
        len: usize,
        data: u16,
        completed: Option<u16>,
        proto: u8,
        ip: IpCtx,
        field: u16,
    ) -> Checksum {
        let pseudo = if proto == protocol::ICMP {
            0
        } else {
            ip.pseudo.sum(proto, len as u32)
        };
        let s = u64::from(data) + pseudo;
        let v = match verdict(s, field) {
            Checksum::Bad { .. } if proto != protocol::ICMP && field == fold(pseudo) => {
                Checksum::Offloaded
            }
            Checksum::Bad { .. }
                if completed.is_some_and(|c| fold(u64::from(c) + pseudo) == 0xffff) =>
            {
                Checksum::OffloadedLco
            }
            v => v,
        };
        let completed = (v == Checksum::Offloaded).then(|| {
            // The value the NIC will write: the complement of the sum without the field.
            let without = u64::from(fold(s)) + u64::from(!field);
            let correct = !fold(without);
            fold(u64::from(data) + u64::from(!field) + u64::from(correct))
        });
        self.seg = Some(SegSum {
            off,
            len,
            data,
            completed,
        });
        v
    }

    /// The checksum of a tunnel's UDP datagram (`off .. off + len`), verified after its
    /// inner packet was decoded: the inner transport segment's sum is reused, not
    /// recomputed, and an outer checksum made by Linux's local checksum offload (correct
    /// once the inner offloaded checksum is filled in) is recognised.
    fn tunnel_checksum(
        &mut self,
        off: usize,
        end: usize,
        len: usize,
        ip: IpCtx,
        field: u16,
    ) -> Checksum {
        let inner = self.seg.take();
        if !self.checksum_on() {
            return Checksum::Unchecked;
        }
        if ip.fragment {
            return Checksum::Fragment;
        }
        if end.saturating_sub(off) < len {
            return Checksum::Truncated;
        }
        let inner = inner.filter(|s| s.off >= off && s.off + s.len <= off + len);
        let (data, completed) = match inner {
            None => (fold(sum(self.bytes(off, off + len), 0)), None),
            Some(s) => {
                // A piece starting at an odd offset contributes its sum byte-swapped
                // (RFC 1071 section 2).
                let at = |v: u16, pos: usize| {
                    if (pos - off) % 2 == 1 {
                        v.swap_bytes()
                    } else {
                        v
                    }
                };
                let head = fold(sum(self.bytes(off, s.off), 0));
                let tail_at = s.off + s.len;
                let tail = fold(sum(self.bytes(tail_at, off + len), 0));
                let around = u64::from(head) + u64::from(at(tail, tail_at));
                let data = fold(around + u64::from(at(s.data, s.off)));
                let completed = s.completed.map(|c| fold(around + u64::from(at(c, s.off))));
                (data, completed)
            }
        };
        self.l4_verdict(off, len, data, completed, protocol::UDP, ip, field)
    }

    fn udp(&mut self, off: usize, end: usize, ip: IpCtx) {
        let Ok(h) = udp::Packet::new_checked(self.bytes(off, end)) else {
            return self.truncated_transport(off, end, "udp", udp::HEADER_LEN);
        };
        let ul = usize::from(h.length());
        let field = h.checksum();
        let bad_len = ul != 0 && ul < udp::HEADER_LEN;
        // A length of 0 is a jumbogram / GSO super-frame: the IP length rules.
        let seg_len = if ul == 0 { ip.wire_len } else { ul };
        let dst = h.dst_port();
        let vxlan = self.opts.vxlan_ports.contains(&dst);
        let flannel = self.opts.flannel_udp_port == Some(dst);
        let geneve = self.opts.geneve_port == Some(dst);
        // A tunnel's checksum is verified once its inner packet is decoded (see
        // `tunnel_checksum`); until then the layer says `Unchecked`.
        let tunnel = (vxlan || flannel || geneve) && !ip.fragment && !bad_len;
        let absent = field == 0 && matches!(ip.pseudo, Pseudo::V4(..));
        let checksum = if absent {
            Checksum::Absent
        } else if bad_len || tunnel {
            Checksum::Unchecked
        } else {
            self.l4_checksum(off, end, seg_len, protocol::UDP, ip, field)
        };
        let layer = Udp {
            src_port: h.src_port(),
            dst_port: dst,
            length: h.length(),
            checksum,
        };
        if !self.push(off, Header::Udp(layer)) {
            return;
        }
        let index = self.p.layers().len() - 1;
        if bad_len {
            return self.malformed(off, "udp", "length below 8 bytes");
        }
        let seg_end = (off + seg_len).min(end);
        if ip.fragment {
            return self.payload(off + udp::HEADER_LEN);
        }
        if tunnel {
            self.seg = None;
        }
        if vxlan {
            self.vxlan(off + udp::HEADER_LEN, seg_end, dst);
        } else if geneve {
            self.geneve(off + udp::HEADER_LEN, seg_end);
        } else if flannel {
            if self.enter_tunnel(off + udp::HEADER_LEN)
                && self.push(off + udp::HEADER_LEN, Header::FlannelUdp)
            {
                self.raw_ip(off + udp::HEADER_LEN, seg_end);
            }
        } else {
            self.payload(off + udp::HEADER_LEN);
        }
        if tunnel && !absent {
            let checksum = self.tunnel_checksum(off, end, seg_len, ip, field);
            self.p.set_udp_checksum(index, checksum);
        }
    }

    fn vxlan(&mut self, off: usize, end: usize, port: u16) {
        if !self.enter_tunnel(off) {
            return;
        }
        let Ok(h) = vxlan::Packet::new_checked(self.bytes(off, end)) else {
            return self.truncated(off, "vxlan", vxlan::HEADER_LEN);
        };
        let r = h.parse();
        let layer = Vxlan {
            port,
            flags: r.flags,
            vni: r.vni,
            gbp: r.gbp,
        };
        if self.push(off, Header::Vxlan(layer)) {
            self.ethernet(off + vxlan::HEADER_LEN, end);
        }
    }

    fn geneve(&mut self, off: usize, end: usize) {
        if !self.enter_tunnel(off) {
            return;
        }
        let b = self.bytes(off, end);
        let h = match geneve::Packet::new_checked(b) {
            Ok(h) => h,
            Err(e) => return self.truncated(off, "geneve", e.needed),
        };
        let r = h.parse();
        if r.version != 0 {
            return self.malformed(off, "geneve", "version is not 0");
        }
        if self.push(off, Header::Geneve(r)) {
            let inner = off + h.header_len();
            if r.protocol == geneve::PROTO_ETHERNET {
                self.ethernet(inner, end);
            } else {
                self.ethertype(inner, end, r.protocol);
            }
        }
    }

    fn tcp(&mut self, off: usize, end: usize, ip: IpCtx) {
        use etherparse::err::tcp::HeaderSliceError;
        let h = match TcpHeaderSlice::from_slice(self.bytes(off, end)) {
            Ok(h) => h,
            Err(HeaderSliceError::Len(e)) => {
                return self.truncated_transport(off, end, "tcp", e.required_len);
            }
            Err(HeaderSliceError::Content(_)) => {
                return self.malformed(off, "tcp", "data offset below 20 bytes");
            }
        };
        let b = h.slice();
        let hl = b.len();
        let checksum = if ip.wire_len < hl {
            Checksum::Truncated
        } else {
            self.l4_checksum(off, end, ip.wire_len, protocol::TCP, ip, h.checksum())
        };
        let layer = Tcp {
            src_port: h.source_port(),
            dst_port: h.destination_port(),
            seq: h.sequence_number(),
            ack: h.acknowledgment_number(),
            flags: (u16::from(b[12] & 1) << 8) | u16::from(b[13]),
            window: h.window_size(),
            header_len: hl as u8,
            payload_len: ip.wire_len.saturating_sub(hl) as u32,
            checksum,
        };
        if self.push(off, Header::Tcp(layer)) {
            self.payload(off + hl);
        }
    }

    fn icmp(&mut self, off: usize, end: usize, ip: IpCtx, v6: bool) {
        let name = if v6 { "icmpv6" } else { "icmp" };
        let b = self.bytes(off, end);
        if b.len() < icmp::HEADER_LEN {
            return self.truncated(off, name, icmp::HEADER_LEN);
        }
        let (t, code) = (b[icmp::field::TYPE], b[icmp::field::CODE]);
        let be16 = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
        let field = be16(icmp::field::CHECKSUM);
        let proto = if v6 { protocol::ICMPV6 } else { protocol::ICMP };
        let checksum = self.l4_checksum(off, end, ip.wire_len, proto, ip, field);
        let echo_types: [u8; 2] = if v6 {
            [icmp::V6_ECHO_REQUEST, icmp::V6_ECHO_REPLY]
        } else {
            [icmp::ECHO_REQUEST, icmp::ECHO_REPLY]
        };
        let echo = echo_types
            .contains(&t)
            .then(|| (be16(icmp::field::ECHO_ID), be16(icmp::field::ECHO_SEQ)));
        let is_error = if v6 {
            matches!(t, 1..=4)
        } else {
            matches!(t, 3 | 4 | 5 | 11 | 12)
        };
        let quote = if is_error {
            quote(&b[icmp::field::QUOTE..])
        } else {
            None
        };
        let layer = Icmp {
            icmp_type: t,
            code,
            echo,
            quote,
            checksum,
        };
        let layer = if v6 {
            Header::Icmpv6(layer)
        } else {
            Header::Icmpv4(layer)
        };
        if self.push(off, layer) {
            self.payload(off + icmp::HEADER_LEN);
        }
    }
}

/// The verdict on a checksum whose covered data (field included) sums to `s`.
fn verdict(s: u64, field: u16) -> Checksum {
    let folded = fold(s);
    if folded == 0xffff {
        return Checksum::Good;
    }
    // Remove the field from the sum (one's-complement subtraction) to get what it should be.
    let without = fold(u64::from(folded) + u64::from(!field));
    Checksum::Bad {
        found: field,
        expected: !without,
    }
}

/// The IP header (and ports) quoted in an ICMP error, as far as it was captured.
fn quote(b: &[u8]) -> Option<Quote> {
    match b.first()? >> 4 {
        4 if b.len() >= 20 => {
            let hl = usize::from(b[0] & 0x0f) * 4;
            let proto = b[9];
            let src = Ipv4Addr::new(b[12], b[13], b[14], b[15]);
            let dst = Ipv4Addr::new(b[16], b[17], b[18], b[19]);
            Some(Quote {
                src: IpAddr::V4(src),
                dst: IpAddr::V4(dst),
                proto,
                ports: ports(proto, b.get(hl..)),
            })
        }
        6 if b.len() >= 40 => {
            let proto = b[6];
            let src: [u8; 16] = b[8..24].try_into().ok()?;
            let dst: [u8; 16] = b[24..40].try_into().ok()?;
            Some(Quote {
                src: IpAddr::V6(Ipv6Addr::from(src)),
                dst: IpAddr::V6(Ipv6Addr::from(dst)),
                proto,
                ports: ports(proto, b.get(40..)),
            })
        }
        _ => None,
    }
}

fn ports(proto: u8, b: Option<&[u8]>) -> Option<(u16, u16)> {
    let b = b?;
    if matches!(proto, protocol::TCP | protocol::UDP) && b.len() >= 4 {
        Some((
            u16::from_be_bytes([b[0], b[1]]),
            u16::from_be_bytes([b[2], b[3]]),
        ))
    } else {
        None
    }
}
