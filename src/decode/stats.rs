//! Counters over a stream of decoded packets: per encapsulation, per VNI, per outer node
//! pair, per inner flow; bad checksums, truncations, packets over the inner MTU, fragments.
//!
//! Hash maps grow with distinct keys, not with packets: adding a packet allocates only
//! the first time a key is seen (the flow table is capped at [`MAX_FLOWS`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use super::layer::Header;
use super::tunnel::Encap;
use super::{Packet, StopReason};
use crate::wire::LinkType;

/// The most distinct inner flows tracked; later new flows are only counted.
pub const MAX_FLOWS: usize = 1 << 20;
/// The most tunnels of one packet remembered in its encapsulation chain.
pub const MAX_CHAIN: usize = 4;

/// A small fast hasher (the Fx hash of rustc): keys here are addresses and ports, and
/// the input is a local file, so DoS resistance is not needed.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The chain of encapsulations of a packet, outer to inner, VNIs left out (they are
/// counted separately): `[]` is plain traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Chain {
    kinds: [Option<Encap>; MAX_CHAIN],
    n: u8,
}

impl Chain {
    /// The encapsulations, outer to inner.
    pub fn encaps(&self) -> impl Iterator<Item = Encap> + '_ {
        self.kinds[..usize::from(self.n)].iter().flatten().copied()
    }

    /// Whether the packet was not tunnelled.
    pub fn is_plain(&self) -> bool {
        self.n == 0
    }

    /// `VXLAN 8472`, `IPIP`, `VXLAN 4789 > VXLAN 4789`, or `plain`.
    pub fn label(&self) -> String {
        if self.is_plain() {
            return "plain".to_string();
        }
        let parts: Vec<String> = self
            .encaps()
            .map(|e| match e {
                Encap::Vxlan { port, .. } => format!("VXLAN {port}"),
                e => e.name().to_string(),
            })
            .collect();
        parts.join(" > ")
    }
}

/// Packets and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire (original length).
    pub bytes: u64,
}

impl Count {
    #[inline]
    fn add(&mut self, bytes: u32) {
        self.packets += 1;
        self.bytes += u64::from(bytes);
    }

    #[inline]
    fn merge(&mut self, other: Count) {
        self.packets += other.packets;
        self.bytes += other.bytes;
    }
}

/// What one packet contributes to the per-VNI, per-node-pair and per-flow counters: its
/// first tunnel (with its VNI) and outer addresses, and its inner flow. Counted in one
/// map, one lookup per packet, and spread into those three maps by [`Stats::settle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Conversation {
    tunnel: Option<(Encap, Option<(IpAddr, IpAddr)>)>,
    flow: Option<Flow>,
}

/// An inner flow: the innermost IP addresses, protocol and ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flow {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol.
    pub proto: u8,
    /// Source port (0 when the protocol has none).
    pub src_port: u16,
    /// Destination port (0 when the protocol has none).
    pub dst_port: u16,
}

/// Bad checksums by header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BadChecksums {
    /// IPv4 header checksums.
    pub ipv4: u64,
    /// UDP checksums.
    pub udp: u64,
    /// TCP checksums.
    pub tcp: u64,
    /// ICMP and ICMPv6 checksums.
    pub icmp: u64,
}

impl BadChecksums {
    /// The sum over all headers.
    pub fn total(&self) -> u64 {
        self.ipv4 + self.udp + self.tcp + self.icmp
    }
}

/// Counters over a capture.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// The link MTU assumed for the inner-MTU check (default 1500).
    pub mtu: u16,
    /// All packets.
    pub total: Count,
    /// Packets per link type (a handful: a list).
    pub by_link: Vec<(LinkType, u64)>,
    /// Packets per encapsulation chain (a handful: a list).
    pub by_encap: Vec<(Chain, Count)>,
    /// Packets per VXLAN (port, VNI), every VXLAN header of a packet counted. Complete after [`Stats::settle`].
    pub by_vni: FxMap<(u16, u32), Count>,
    /// Tunnelled packets per outer (source, destination) node pair and encapsulation. Complete after [`Stats::settle`].
    pub by_node_pair: FxMap<(IpAddr, IpAddr, Encap), Count>,
    /// Packets per innermost flow. Complete after [`Stats::settle`].
    pub by_flow: FxMap<Flow, Count>,
    /// Packets of flows not tracked because [`MAX_FLOWS`] was reached.
    pub untracked_flows: u64,
    /// Bad checksums.
    pub bad_checksums: BadChecksums,
    /// Checksums left to the NIC by the sender (not errors).
    pub offloaded_checksums: u64,
    /// Packets cut short by the snaplen (or a capture ending inside a header).
    pub truncated: u64,
    /// Packets with a malformed header.
    pub malformed: u64,
    /// Packets with a part netpath does not decode (unknown EtherType, protocol, link type).
    pub undecoded: u64,
    /// Tunnelled packets whose inner IP packet exceeds the inner MTU of their mode
    /// (`mtu` minus the encapsulation overhead: VXLAN 50, IPIP 20).
    pub over_mtu: u64,
    /// The largest inner IP packet seen in a tunnel, and its inner MTU.
    pub largest_inner: Option<(u32, u16)>,
    /// Packets that are IP fragments (any header).
    pub fragments: u64,
    /// Counts not yet spread into `by_vni`, `by_node_pair` and `by_flow`.
    conversations: FxMap<Conversation, Count>,
}

impl Stats {
    /// Empty counters, checking inner packets against a link MTU of `mtu`.
    pub fn new(mtu: u16) -> Stats {
        Stats {
            mtu,
            ..Stats::default()
        }
    }

    /// Count one packet.
    pub fn add(&mut self, p: &Packet<'_>) {
        let wire = p.orig_len.max(p.caplen());
        self.total.add(wire);
        match self.by_link.iter_mut().find(|(l, _)| *l == p.link) {
            Some((_, n)) => *n += 1,
            None => self.by_link.push((p.link, 1)),
        }

        let mut chain = Chain::default();
        let mut conv = Conversation {
            tunnel: None,
            flow: None,
        };
        let mut overhead: u32 = 0;
        for t in p.tunnels() {
            let outer_v6 = matches!(p.layers()[t.outer_ip].header, Header::Ipv6(_));
            overhead += u32::from(t.encap.overhead(outer_v6));
            if chain.n == 0 {
                // Counted with the flow, below.
                conv.tunnel = Some((t.encap, p.layers()[t.outer_ip].header.ip_addrs()));
            } else if let Encap::Vxlan { port, vni } = t.encap {
                self.by_vni.entry((port, vni)).or_default().add(wire);
            }
            if usize::from(chain.n) < MAX_CHAIN {
                chain.kinds[usize::from(chain.n)] = Some(match t.encap {
                    Encap::Vxlan { port, .. } => Encap::Vxlan { port, vni: 0 },
                    e => e,
                });
                chain.n += 1;
            }
        }
        match self.by_encap.iter_mut().find(|(c, _)| *c == chain) {
            Some((_, n)) => n.add(wire),
            None => {
                let mut n = Count::default();
                n.add(wire);
                self.by_encap.push((chain, n));
            }
        }

        if let Some(i) = p.inner_ip() {
            let layers = p.layers();
            let (ip_len, proto, src, dst) = match layers[i].header {
                Header::Ipv4(ip) => (
                    u32::from(ip.total_len),
                    ip.proto,
                    IpAddr::V4(ip.src),
                    IpAddr::V4(ip.dst),
                ),
                Header::Ipv6(ip) => (
                    u32::from(ip.payload_len) + 40,
                    ip.proto,
                    IpAddr::V6(ip.src),
                    IpAddr::V6(ip.dst),
                ),
                _ => (0, 0, IpAddr::from([0u8; 4]), IpAddr::from([0u8; 4])),
            };
            if overhead > 0 {
                let inner_mtu = u32::from(self.mtu).saturating_sub(overhead);
                // A length field of 0 (BIG TCP / GSO) counts as the bytes actually there.
                let size = if ip_len == 0 {
                    p.caplen().saturating_sub(layers[i].offset)
                } else {
                    ip_len
                };
                if size > inner_mtu {
                    self.over_mtu += 1;
                }
                if self.largest_inner.is_none_or(|(s, _)| size > s) {
                    self.largest_inner = Some((size, inner_mtu as u16));
                }
            }
            let (src_port, dst_port) = match layers.get(i + 1).map(|l| l.header) {
                Some(Header::Tcp(t)) => (t.src_port, t.dst_port),
                Some(Header::Udp(u)) => (u.src_port, u.dst_port),
                _ => (0, 0),
            };
            let flow = Flow {
                src,
                dst,
                proto,
                src_port,
                dst_port,
            };
            conv.flow = Some(flow);
        }
        let one = Count {
            packets: 1,
            bytes: u64::from(wire),
        };
        if let Some(c) = self.conversations.get_mut(&conv) {
            c.merge(one);
        } else if self.conversations.len() < MAX_FLOWS {
            self.conversations.insert(conv, one);
        } else {
            self.spread(conv, one);
        }

        let mut fragment = false;
        for l in p.layers() {
            match l.header {
                Header::Ipv4(ip) => {
                    fragment |= ip.is_fragment();
                    if ip.checksum.is_bad() {
                        self.bad_checksums.ipv4 += 1;
                    }
                }
                Header::Ipv6(ip) => fragment |= ip.fragment.is_some(),
                Header::Udp(u) => self.checksum(u.checksum, |b| &mut b.udp),
                Header::Tcp(t) => self.checksum(t.checksum, |b| &mut b.tcp),
                Header::Icmpv4(i) | Header::Icmpv6(i) => self.checksum(i.checksum, |b| &mut b.icmp),
                _ => {}
            }
        }
        if fragment {
            self.fragments += 1;
        }
        if p.truncation().is_some() {
            self.truncated += 1;
        }
        match p.stop.map(|s| s.reason) {
            Some(StopReason::Malformed { .. }) | Some(StopReason::TooDeep) => self.malformed += 1,
            Some(StopReason::Unsupported { .. }) => self.undecoded += 1,
            _ => {
                if p.layers().iter().any(|l| match l.header {
                    Header::Ipv4(ip) => {
                        ip.length != super::IpLength::Ok
                            && ip.length != super::IpLength::ZeroFromFrame
                    }
                    Header::Ipv6(ip) => matches!(ip.length, super::IpLength::Exceeds { .. }),
                    _ => false,
                }) {
                    self.malformed += 1;
                }
            }
        }
    }

    /// Spread the per-packet counts gathered by [`Stats::add`] into `by_vni`,
    /// `by_node_pair` and `by_flow`. Call it before reading those maps (the renderers'
    /// callers do). Idempotent; counting may go on afterwards.
    pub fn settle(&mut self) {
        let pending = std::mem::take(&mut self.conversations);
        let mut v: Vec<(Conversation, Count)> = pending.into_iter().collect();
        // Largest first, so that past MAX_FLOWS the busiest flows are the ones kept.
        v.sort_unstable_by_key(|(_, n)| std::cmp::Reverse(n.packets));
        for (conv, n) in v {
            self.spread(conv, n);
        }
    }

    fn spread(&mut self, conv: Conversation, n: Count) {
        if let Some((encap, addrs)) = conv.tunnel {
            if let Encap::Vxlan { port, vni } = encap {
                self.by_vni.entry((port, vni)).or_default().merge(n);
            }
            if let Some((src, dst)) = addrs {
                let key = match encap {
                    Encap::Vxlan { port, .. } => Encap::Vxlan { port, vni: 0 },
                    e => e,
                };
                self.by_node_pair
                    .entry((src, dst, key))
                    .or_default()
                    .merge(n);
            }
        }
        if let Some(flow) = conv.flow {
            if let Some(c) = self.by_flow.get_mut(&flow) {
                c.merge(n);
            } else if self.by_flow.len() < MAX_FLOWS {
                self.by_flow.insert(flow, n);
            } else {
                self.untracked_flows += n.packets;
            }
        }
    }

    #[inline]
    fn checksum(&mut self, c: super::Checksum, field: fn(&mut BadChecksums) -> &mut u64) {
        match c {
            super::Checksum::Bad { .. } => *field(&mut self.bad_checksums) += 1,
            super::Checksum::Offloaded => self.offloaded_checksums += 1,
            _ => {}
        }
    }

    /// Entries of a map sorted by packets, largest first, at most `n`.
    pub fn top<K: Clone + Ord>(map: &FxMap<K, Count>, n: usize) -> Vec<(K, Count)> {
        let mut v: Vec<(K, Count)> = map.iter().map(|(k, c)| (k.clone(), *c)).collect();
        v.sort_by(|a, b| b.1.packets.cmp(&a.1.packets).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}
