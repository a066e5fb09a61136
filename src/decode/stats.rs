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

/// A [`Conversation`] whose addresses are all IPv4 (the usual case), packed into four
/// words: hashed with four multiplications and compared with four word compares, in a
/// 48-byte table entry that stays in cache between two packets of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
struct PackedConversation {
    /// Outer source and destination addresses.
    outer: u64,
    /// Inner source and destination addresses.
    inner: u64,
    /// VNI << 32 | VXLAN port << 16 | encapsulation tag << 8 | presence bits.
    tunnel: u64,
    /// Protocol << 32 | source port << 16 | destination port.
    ports: u64,
}

const HAS_TUNNEL: u64 = 1;
const HAS_OUTER: u64 = 2;
const HAS_FLOW: u64 = 4;

fn v4(a: IpAddr) -> Option<u32> {
    match a {
        IpAddr::V4(a) => Some(u32::from(a)),
        IpAddr::V6(_) => None,
    }
}

impl PackedConversation {
    /// The packed form, or `None` when an address is IPv6.
    #[inline]
    fn pack(c: &Conversation) -> Option<PackedConversation> {
        let mut k = PackedConversation {
            outer: 0,
            inner: 0,
            tunnel: 0,
            ports: 0,
        };
        if let Some((encap, addrs)) = c.tunnel {
            let (tag, port, vni) = match encap {
                Encap::Vxlan { port, vni } => (1u64, port, vni),
                Encap::Ipip => (2, 0, 0),
                Encap::SixInFour => (3, 0, 0),
                Encap::FourInSix => (4, 0, 0),
                Encap::SixInSix => (5, 0, 0),
                Encap::FlannelUdp => (6, 0, 0),
                Encap::Geneve { vni, extra } => (7, extra, vni),
            };
            k.tunnel = u64::from(vni) << 32 | u64::from(port) << 16 | tag << 8 | HAS_TUNNEL;
            if let Some((src, dst)) = addrs {
                k.outer = u64::from(v4(src)?) << 32 | u64::from(v4(dst)?);
                k.tunnel |= HAS_OUTER;
            }
        }
        if let Some(f) = c.flow {
            k.inner = u64::from(v4(f.src)?) << 32 | u64::from(v4(f.dst)?);
            k.ports =
                u64::from(f.proto) << 32 | u64::from(f.src_port) << 16 | u64::from(f.dst_port);
            k.tunnel |= HAS_FLOW;
        }
        Some(k)
    }

    /// The conversation this key was packed from.
    fn unpack(&self) -> Conversation {
        let addr = |w: u64| IpAddr::from(std::net::Ipv4Addr::from(w as u32));
        let tunnel = (self.tunnel & HAS_TUNNEL != 0).then(|| {
            let encap = match (self.tunnel >> 8) & 0xff {
                1 => Encap::Vxlan {
                    port: (self.tunnel >> 16) as u16,
                    vni: (self.tunnel >> 32) as u32,
                },
                2 => Encap::Ipip,
                3 => Encap::SixInFour,
                4 => Encap::FourInSix,
                5 => Encap::SixInSix,
                7 => Encap::Geneve {
                    vni: (self.tunnel >> 32) as u32,
                    extra: (self.tunnel >> 16) as u16,
                },
                _ => Encap::FlannelUdp,
            };
            let addrs =
                (self.tunnel & HAS_OUTER != 0).then(|| (addr(self.outer >> 32), addr(self.outer)));
            (encap, addrs)
        });
        let flow = (self.tunnel & HAS_FLOW != 0).then(|| Flow {
            src: addr(self.inner >> 32),
            dst: addr(self.inner),
            proto: (self.ports >> 32) as u8,
            src_port: (self.ports >> 16) as u16,
            dst_port: self.ports as u16,
        });
        Conversation { tunnel, flow }
    }
}

/// An open-addressing table of [`PackedConversation`] counts (linear probing, at most
/// half full), with a prefetch: [`Stats::add`] looks up the slot of one packet while the
/// next packet is decoded. The streamed capture evicts the table from the core's caches
/// between two packets of one conversation, and a lookup is otherwise a cache miss the
/// decoder waits for (a fifth of `--stats`'s time before this table).
#[derive(Debug, Clone, Default)]
struct ConvTable {
    slots: Vec<Slot>,
    len: usize,
    /// log2 of the slot count.
    bits: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    key: PackedConversation,
    n: Count,
    used: bool,
}

impl ConvTable {
    /// The home slot of a key (Fibonacci hashing of the mixed words: the top bits).
    #[inline]
    fn hash(k: &PackedConversation) -> u64 {
        (k.outer ^ k.inner.rotate_left(17) ^ k.tunnel.rotate_left(31) ^ k.ports.rotate_left(47))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        if self.bits == 0 {
            0
        } else {
            (hash >> (64 - self.bits)) as usize
        }
    }

    /// Ask the CPU to load the slot `hash` lands on.
    #[inline]
    fn prefetch(&self, hash: u64) {
        if self.slots.is_empty() {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let p = self
                .slots
                .as_ptr()
                .wrapping_add(self.home(hash))
                .cast::<i8>();
            // SAFETY: SSE is part of the x86_64 baseline; a prefetch never dereferences
            // the pointer (it is in bounds anyway: home() < slots.len()).
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(p);
                _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(std::mem::size_of::<Slot>() - 1));
            }
        }
    }

    /// Add `n` to the count of `key`; `false` when the key is new and the table already
    /// holds `limit` keys (nothing is added).
    #[inline]
    fn add(&mut self, key: PackedConversation, hash: u64, n: Count, limit: usize) -> bool {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            let slot = &mut self.slots[i];
            if !slot.used {
                if self.len >= limit {
                    return false;
                }
                *slot = Slot { key, n, used: true };
                self.len += 1;
                return true;
            }
            if slot.key == key {
                slot.n.merge(n);
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let bits = (self.bits + 1).max(10);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); 1 << bits]);
        self.bits = bits;
        self.len = 0;
        for s in old.into_iter().filter(|s| s.used) {
            self.add(s.key, Self::hash(&s.key), s.n, usize::MAX);
        }
    }

    fn drain(&mut self) -> impl Iterator<Item = (PackedConversation, Count)> + use<> {
        self.len = 0;
        std::mem::take(&mut self.slots)
            .into_iter()
            .filter(|s| s.used)
            .map(|s| (s.key, s.n))
    }
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
    /// Counts not yet spread into `by_vni`, `by_node_pair` and `by_flow`: IPv4
    /// conversations packed, the others as they are.
    packed: ConvTable,
    /// The packed conversation of the last packet and its hash, added to `packed` with
    /// the next packet (its slot prefetched meanwhile).
    pending: Option<(PackedConversation, u64, Count)>,
    /// Conversations with an IPv6 address, not yet spread.
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

    /// Count one packet: one pass over its layers (tunnels, checksums, fragments and
    /// lengths together), then one lookup in the conversation table.
    pub fn add(&mut self, p: &Packet<'_>) {
        let wire = p.orig_len.max(p.caplen());
        self.total.add(wire);
        match self.by_link.iter_mut().find(|(l, _)| *l == p.link) {
            Some((_, n)) => *n += 1,
            None => self.by_link.push((p.link, 1)),
        }

        let layers = p.layers();
        let mut chain = Chain::default();
        let mut conv = Conversation {
            tunnel: None,
            flow: None,
        };
        let mut overhead: u32 = 0;
        let mut last_ip: Option<usize> = None;
        let mut fragment = false;
        let mut bad_length = false;
        for (i, l) in layers.iter().enumerate() {
            let next_is = || match layers.get(i + 1).map(|n| &n.header) {
                Some(Header::Ipv4(_)) => Some(false),
                Some(Header::Ipv6(_)) => Some(true),
                _ => None,
            };
            let encap = match &l.header {
                Header::Ipv4(ip) => {
                    fragment |= ip.is_fragment();
                    if ip.checksum.is_bad() {
                        self.bad_checksums.ipv4 += 1;
                    }
                    bad_length |= ip.length != super::IpLength::Ok
                        && ip.length != super::IpLength::ZeroFromFrame;
                    last_ip = Some(i);
                    next_is().map(|v6| if v6 { Encap::SixInFour } else { Encap::Ipip })
                }
                Header::Ipv6(ip) => {
                    fragment |= ip.fragment.is_some();
                    bad_length |= matches!(ip.length, super::IpLength::Exceeds { .. });
                    last_ip = Some(i);
                    next_is().map(|v6| {
                        if v6 {
                            Encap::SixInSix
                        } else {
                            Encap::FourInSix
                        }
                    })
                }
                Header::Udp(u) => {
                    self.checksum(u.checksum, |b| &mut b.udp);
                    None
                }
                Header::Tcp(t) => {
                    self.checksum(t.checksum, |b| &mut b.tcp);
                    None
                }
                Header::Icmpv4(c) | Header::Icmpv6(c) => {
                    self.checksum(c.checksum, |b| &mut b.icmp);
                    None
                }
                Header::Vxlan(v) => last_ip.map(|_| Encap::Vxlan {
                    port: v.port,
                    vni: v.vni,
                }),
                Header::FlannelUdp => last_ip.map(|_| Encap::FlannelUdp),
                Header::Geneve(g) => last_ip.map(|_| Encap::geneve(g)),
                _ => None,
            };
            // A tunnel: its outer IP header is the last one seen (this one for IP in IP).
            let (Some(encap), Some(outer)) = (encap, last_ip) else {
                continue;
            };
            let outer = &layers[outer].header;
            overhead += u32::from(encap.overhead(matches!(outer, Header::Ipv6(_))));
            if chain.n == 0 {
                // Counted with the flow, below.
                conv.tunnel = Some((encap, outer.ip_addrs()));
            } else if let Encap::Vxlan { port, vni } = encap {
                self.by_vni.entry((port, vni)).or_default().add(wire);
            }
            if usize::from(chain.n) < MAX_CHAIN {
                chain.kinds[usize::from(chain.n)] = Some(match encap {
                    Encap::Vxlan { port, .. } => Encap::Vxlan { port, vni: 0 },
                    Encap::Geneve { .. } => Encap::Geneve { vni: 0, extra: 0 },
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

        if let Some(i) = last_ip {
            let (ip_len, proto, src, dst) = match &layers[i].header {
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
                // The largest, and on a tie the smallest inner MTU: the same answer
                // whatever the order packets are counted in (see [`Stats::merge`]).
                let candidate = (size, inner_mtu as u16);
                if self
                    .largest_inner
                    .is_none_or(|(s, m)| size > s || (size == s && candidate.1 < m))
                {
                    self.largest_inner = Some(candidate);
                }
            }
            let (src_port, dst_port) = match layers.get(i + 1).map(|l| &l.header) {
                Some(Header::Tcp(t)) => (t.src_port, t.dst_port),
                Some(Header::Udp(u)) => (u.src_port, u.dst_port),
                // A transport header cut after its ports still names its flow.
                None => match p.stop.map(|s| s.reason) {
                    Some(StopReason::Truncated {
                        ports: Some(ports), ..
                    }) if i + 1 == layers.len() => ports,
                    _ => (0, 0),
                },
                _ => (0, 0),
            };
            conv.flow = Some(Flow {
                src,
                dst,
                proto,
                src_port,
                dst_port,
            });
        }
        let one = Count {
            packets: 1,
            bytes: u64::from(wire),
        };
        if let Some(k) = PackedConversation::pack(&conv) {
            let hash = ConvTable::hash(&k);
            self.packed.prefetch(hash);
            if let Some(prev) = self.pending.replace((k, hash, one)) {
                self.add_packed(prev);
            }
        } else if let Some(c) = self.conversations.get_mut(&conv) {
            c.merge(one);
        } else if self.packed.len + self.conversations.len() < MAX_FLOWS {
            self.conversations.insert(conv, one);
        } else {
            self.spread(conv, one);
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
            _ if bad_length => self.malformed += 1,
            _ => {}
        }
    }

    fn add_packed(&mut self, (key, hash, n): (PackedConversation, u64, Count)) {
        let limit = MAX_FLOWS.saturating_sub(self.conversations.len());
        if !self.packed.add(key, hash, n, limit) {
            self.spread(key.unpack(), n);
        }
    }

    /// Spread the per-packet counts gathered by [`Stats::add`] into `by_vni`,
    /// `by_node_pair` and `by_flow`. Call it before reading those maps (the renderers'
    /// callers do). Idempotent; counting may go on afterwards.
    pub fn settle(&mut self) {
        if let Some(last) = self.pending.take() {
            self.add_packed(last);
        }
        let pending = std::mem::take(&mut self.conversations);
        let mut v: Vec<(Conversation, Count)> = pending.into_iter().collect();
        v.extend(self.packed.drain().map(|(k, n)| (k.unpack(), n)));
        // Largest first, so that past MAX_FLOWS the busiest flows are the ones kept.
        v.sort_unstable_by_key(|(_, n)| std::cmp::Reverse(n.packets));
        for (conv, n) in v {
            self.spread(conv, n);
        }
    }

    /// Add the counts of `other` (packets counted elsewhere, e.g. by another thread) to
    /// these. Both are settled first; the result is the same as counting all packets in
    /// one `Stats`, except that past [`MAX_FLOWS`] which flows are kept may differ.
    pub fn merge(&mut self, mut other: Stats) {
        self.settle();
        other.settle();
        self.total.merge(other.total);
        for (link, n) in other.by_link {
            match self.by_link.iter_mut().find(|(l, _)| *l == link) {
                Some((_, m)) => *m += n,
                None => self.by_link.push((link, n)),
            }
        }
        for (chain, n) in other.by_encap {
            match self.by_encap.iter_mut().find(|(c, _)| *c == chain) {
                Some((_, m)) => m.merge(n),
                None => self.by_encap.push((chain, n)),
            }
        }
        for (k, n) in other.by_vni {
            self.by_vni.entry(k).or_default().merge(n);
        }
        for (k, n) in other.by_node_pair {
            self.by_node_pair.entry(k).or_default().merge(n);
        }
        for (flow, n) in other.by_flow {
            self.add_flow(flow, n);
        }
        self.untracked_flows += other.untracked_flows;
        let (b, o) = (&mut self.bad_checksums, other.bad_checksums);
        b.ipv4 += o.ipv4;
        b.udp += o.udp;
        b.tcp += o.tcp;
        b.icmp += o.icmp;
        self.offloaded_checksums += other.offloaded_checksums;
        self.truncated += other.truncated;
        self.malformed += other.malformed;
        self.undecoded += other.undecoded;
        self.over_mtu += other.over_mtu;
        self.fragments += other.fragments;
        if let Some((size, mtu)) = other.largest_inner {
            if self
                .largest_inner
                .is_none_or(|(s, m)| size > s || (size == s && mtu < m))
            {
                self.largest_inner = Some((size, mtu));
            }
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
                    Encap::Geneve { .. } => Encap::Geneve { vni: 0, extra: 0 },
                    e => e,
                };
                self.by_node_pair
                    .entry((src, dst, key))
                    .or_default()
                    .merge(n);
            }
        }
        if let Some(flow) = conv.flow {
            self.add_flow(flow, n);
        }
    }

    /// Count `n` for `flow`; past [`MAX_FLOWS`] distinct flows, a new one is only counted
    /// as untracked.
    fn add_flow(&mut self, flow: Flow, n: Count) {
        if let Some(c) = self.by_flow.get_mut(&flow) {
            c.merge(n);
        } else if self.by_flow.len() < MAX_FLOWS {
            self.by_flow.insert(flow, n);
        } else {
            self.untracked_flows += n.packets;
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

#[cfg(test)]
mod packed_tests {
    use super::*;

    #[test]
    fn packed_conversations_unpack_to_themselves() {
        let a = |s: &str| s.parse::<IpAddr>().unwrap();
        let flow = Flow {
            src: a("10.244.1.5"),
            dst: a("10.244.2.7"),
            proto: 6,
            src_port: 40624,
            dst_port: 80,
        };
        let encaps = [
            Encap::Vxlan {
                port: 8472,
                vni: 0xff_ffff,
            },
            Encap::Ipip,
            Encap::SixInFour,
            Encap::FourInSix,
            Encap::SixInSix,
            Encap::FlannelUdp,
            Encap::Geneve {
                vni: 0xff_ffff,
                extra: 14 + 252,
            },
        ];
        let mut convs = vec![
            Conversation {
                tunnel: None,
                flow: None,
            },
            Conversation {
                tunnel: None,
                flow: Some(flow),
            },
        ];
        for e in encaps {
            for addrs in [None, Some((a("192.168.1.11"), a("255.255.255.255")))] {
                for flow in [None, Some(flow)] {
                    convs.push(Conversation {
                        tunnel: Some((e, addrs)),
                        flow,
                    });
                }
            }
        }
        let mut keys = std::collections::HashSet::new();
        for c in &convs {
            let k = PackedConversation::pack(c).expect("all IPv4");
            assert_eq!(k.unpack(), *c);
            assert!(keys.insert(k), "two conversations share a key: {c:?}");
        }
        // Any IPv6 address: not packed (counted in the general table).
        let v6 = Conversation {
            tunnel: Some((Encap::Ipip, Some((a("fd00::1"), a("192.168.1.1"))))),
            flow: None,
        };
        assert_eq!(PackedConversation::pack(&v6), None);
        let v6 = Conversation {
            tunnel: None,
            flow: Some(Flow {
                dst: a("fd00::2"),
                ..flow
            }),
        };
        assert_eq!(PackedConversation::pack(&v6), None);
    }
}
