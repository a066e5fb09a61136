//! Routes over rtnetlink: a dump of every table (`RTM_GETROUTE` + `NLM_F_DUMP`, what
//! `ip route show table all` asks), and single lookups (`RTM_GETROUTE` for one address, what
//! `ip route get` asks), in any netns.
//!
//! This talks to a plain synchronous netlink socket rather than going through the async
//! rtnetlink handle: a dump of 100,000 routes is then one `recv` per 32 KiB and one parse
//! per message, with nothing in between.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anyhow::Context;
use ipnetwork::IpNetwork;
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::link::{InfoData, InfoKind, InfoVxlan, LinkAttribute, LinkInfo};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags as NlRouteFlags, RouteHeader, RouteMessage,
    RouteMetric, RouteVia,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use super::Netns;
use crate::dataplane::{
    Family, Link, LinkKind, Nexthop, NexthopFlags, Protocol, Route, RouteType, Scope, Sysctls,
    Table, Veth, Vxlan,
};
use crate::error::refused;

/// Every route of every table the kernel has, in the kernel's dump order (per table, the
/// order of its prefix trie: the order `ip route` and `/proc/net/route` print), plus the
/// devices they point at.
#[derive(Debug, Clone, Default)]
pub struct RouteDump {
    /// The routes (no cached clones), IPv4 before IPv6 when both were asked for.
    pub routes: Vec<Route>,
    /// The devices of the netns, with what the route explanation needs (kind, VXLAN id and
    /// port). Only what a route dump needs: not the full `ip -d link` picture.
    pub links: Vec<Link>,
}

/// Dump the routes of every table in `netns`; `family` `None` means IPv4 and IPv6.
pub fn dump_routes(netns: &Netns, family: Option<Family>) -> anyhow::Result<RouteDump> {
    netns.run(|| {
        let mut sock = RtSocket::open()?;
        let links = sock.links()?;
        let names: HashMap<u32, &str> =
            links.iter().map(|l| (l.ifindex, l.name.as_str())).collect();
        let mut routes = Vec::new();
        let families: &[Family] = match family {
            Some(Family::Inet) => &[Family::Inet],
            Some(Family::Inet6) => &[Family::Inet6],
            None => &[Family::Inet, Family::Inet6],
        };
        for fam in families {
            sock.dump_routes(*fam, &names, &mut routes)?;
        }
        Ok(RouteDump { routes, links })
    })
}

/// What to ask the kernel in `netpath routes get` (`ip route get ADDR [from SRC] [iif DEV]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteQuery {
    /// The destination.
    pub dst: IpAddr,
    /// The source address (`from`), if any.
    pub src: Option<IpAddr>,
    /// The input device (`iif`): simulate a packet arriving there (a forwarding lookup).
    pub iif: Option<String>,
}

/// The kernel's answer to a lookup: a route, or the error it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelAnswer {
    /// The kernel returned a route.
    Route(Route),
    /// The kernel refused: the positive errno (ENETUNREACH, EINVAL, EHOSTUNREACH, EACCES,
    /// EXDEV …).
    Error(i32),
}

impl KernelAnswer {
    /// The route, if the kernel returned one.
    pub fn route(&self) -> Option<&Route> {
        match self {
            KernelAnswer::Route(r) => Some(r),
            KernelAnswer::Error(_) => None,
        }
    }
}

/// Everything `routes get` learns from the kernel in one visit to the netns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteLookup {
    /// The resolved route (`ip route get`): `dst` is the address itself, the device and
    /// gateway are the ones the packet would use, `prefsrc` the source it would get.
    pub resolved: KernelAnswer,
    /// The FIB entry that matched (`ip route get fibmatch`), asked without `iif`/`from`
    /// so that it answers even when the forwarding lookup was refused.
    pub fib_entry: KernelAnswer,
    /// For IPv6 the kernel reports drops as a route carrying an error (`error -113`):
    /// that errno, when there is one.
    pub route_error: Option<i32>,
    /// The forwarding sysctls (ip_forward, per-device forwarding and rp_filter), read
    /// inside the netns at the same moment.
    pub sysctls: Sysctls,
}

/// Ask the kernel which route it would use for `query` (RTM_GETROUTE), and which FIB entry
/// matched (RTM_F_FIB_MATCH), inside `netns`.
pub fn lookup(netns: &Netns, query: &RouteQuery) -> anyhow::Result<RouteLookup> {
    netns.run(|| {
        let mut sock = RtSocket::open()?;
        let links = sock.links()?;
        let names: HashMap<u32, &str> =
            links.iter().map(|l| (l.ifindex, l.name.as_str())).collect();
        let iif = match &query.iif {
            None => None,
            Some(name) => Some(
                links
                    .iter()
                    .find(|l| &l.name == name)
                    .map(|l| l.ifindex)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "no device \"{name}\" in netns {}; list them with \"ip link\"",
                            netns.label()
                        )
                    })?,
            ),
        };
        if let (Some(src), true) = (query.src, query.dst.is_ipv4() != query.src_is_v4()) {
            anyhow::bail!(
                "the source {src} and the destination {} are not the same address family",
                query.dst
            );
        }
        let (resolved, route_error) = sock.get_route(query.dst, query.src, iif, false, &names)?;
        let (fib_entry, _) = sock.get_route(query.dst, None, None, true, &names)?;
        let sysctls = super::sysctl::read_from(std::path::Path::new("/proc/sys/net"))?;
        Ok(RouteLookup {
            resolved,
            fib_entry,
            route_error,
            sysctls,
        })
    })
}

impl RouteQuery {
    fn src_is_v4(&self) -> bool {
        self.src.is_none_or(|s| s.is_ipv4())
    }
}

/// A synchronous NETLINK_ROUTE socket with a reusable receive buffer.
struct RtSocket {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

/// The largest datagram the kernel sends in a dump (it caps each skb at 32 KiB), with room.
const RECV_BUF: usize = 64 * 1024;

impl RtSocket {
    fn open() -> anyhow::Result<RtSocket> {
        let mut sock = Socket::new(NETLINK_ROUTE)
            .map_err(|e| refused(format!("cannot open a netlink socket: {e}")))?;
        sock.bind_auto()
            .map_err(|e| refused(format!("cannot bind a netlink socket: {e}")))?;
        sock.connect(&SocketAddr::new(0, 0))
            .context("connecting the netlink socket to the kernel")?;
        // A larger socket buffer keeps a big dump flowing; failure is harmless.
        let _ = sock.set_rx_buf_sz(1 << 20);
        Ok(RtSocket {
            sock,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUF),
        })
    }

    fn send(&mut self, payload: RouteNetlinkMessage, flags: u16) -> anyhow::Result<u32> {
        self.seq += 1;
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(payload));
        msg.finalize();
        let mut bytes = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut bytes);
        self.sock
            .send(&bytes, 0)
            .context("sending a netlink request")?;
        Ok(self.seq)
    }

    /// Receive the answers to request `seq`, handing each inner message to `each`, until
    /// the dump is done (or, for a non-dump request, after the first answer). Returns the
    /// errno when the kernel answered with an error.
    fn receive(
        &mut self,
        seq: u32,
        dump: bool,
        mut each: impl FnMut(RouteNetlinkMessage) -> anyhow::Result<()>,
    ) -> anyhow::Result<Option<i32>> {
        loop {
            self.buf.clear();
            let n = loop {
                match self.sock.recv(&mut self.buf, 0) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e).context("reading the kernel's netlink answer"),
                }
            };
            if n == 0 {
                anyhow::bail!("the kernel closed the netlink socket in the middle of an answer");
            }
            let mut off = 0;
            while off + 16 <= self.buf.len() {
                let len = u32::from_ne_bytes([
                    self.buf[off],
                    self.buf[off + 1],
                    self.buf[off + 2],
                    self.buf[off + 3],
                ]) as usize;
                if len < 16 || off + len > self.buf.len() {
                    anyhow::bail!("the kernel sent a malformed netlink message (length {len})");
                }
                let bytes = &self.buf[off..off + len];
                off += (len + 3) & !3;
                let msg =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes).map_err(|e| {
                        anyhow::anyhow!("cannot parse the kernel's netlink message: {e}")
                    })?;
                if msg.header.sequence_number != seq {
                    continue;
                }
                match msg.payload {
                    NetlinkPayload::Done(_) => return Ok(None),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(None), // an ACK
                            Some(code) => Ok(Some(-code.get())),
                        };
                    }
                    NetlinkPayload::InnerMessage(inner) => {
                        each(inner)?;
                        if !dump {
                            return Ok(None);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The devices of the netns (`RTM_GETLINK` dump).
    fn links(&mut self) -> anyhow::Result<Vec<Link>> {
        let mut req = netlink_packet_route::link::LinkMessage::default();
        req.header.interface_family = AddressFamily::Unspec;
        let seq = self.send(
            RouteNetlinkMessage::GetLink(req),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        let mut links = Vec::new();
        let err = self.receive(seq, true, |m| {
            if let RouteNetlinkMessage::NewLink(l) = m {
                links.push(link_of(l));
            }
            Ok(())
        })?;
        if let Some(errno) = err {
            return Err(errno_error("listing devices", errno));
        }
        Ok(links)
    }

    fn dump_routes(
        &mut self,
        family: Family,
        names: &HashMap<u32, &str>,
        out: &mut Vec<Route>,
    ) -> anyhow::Result<()> {
        let mut req = RouteMessage::default();
        req.header.address_family = af(family);
        let seq = self.send(
            RouteNetlinkMessage::GetRoute(req),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        let err = self.receive(seq, true, |m| {
            if let RouteNetlinkMessage::NewRoute(r) = m {
                if r.header.flags.contains(NlRouteFlags::Cloned) {
                    return Ok(());
                }
                if let Some(route) = route_of(&r, names) {
                    out.push(route);
                }
            }
            Ok(())
        })?;
        match err {
            None => Ok(()),
            // A kernel without IPv6 answers the IPv6 dump with EAFNOSUPPORT: no IPv6 routes.
            Some(libc::EAFNOSUPPORT) if family == Family::Inet6 => Ok(()),
            Some(errno) => Err(errno_error("listing routes", errno)),
        }
    }

    /// One RTM_GETROUTE for `dst`. Returns the answer and, for IPv6, the error the
    /// returned route carries in its cache info.
    fn get_route(
        &mut self,
        dst: IpAddr,
        src: Option<IpAddr>,
        iif: Option<u32>,
        fibmatch: bool,
        names: &HashMap<u32, &str>,
    ) -> anyhow::Result<(KernelAnswer, Option<i32>)> {
        let mut req = RouteMessage::default();
        let fam = Family::of(&dst);
        req.header.address_family = af(fam);
        req.header.destination_prefix_length = if dst.is_ipv4() { 32 } else { 128 };
        req.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(dst)));
        if let Some(src) = src {
            req.header.source_prefix_length = if src.is_ipv4() { 32 } else { 128 };
            req.attributes
                .push(RouteAttribute::Source(RouteAddress::from(src)));
        }
        if let Some(iif) = iif {
            req.attributes.push(RouteAttribute::Iif(iif));
        }
        if fibmatch {
            req.header.flags = NlRouteFlags::FibMatch;
        }
        let seq = self.send(RouteNetlinkMessage::GetRoute(req), NLM_F_REQUEST)?;
        let mut found: Option<(Route, Option<i32>)> = None;
        let err = self.receive(seq, false, |m| {
            if let RouteNetlinkMessage::NewRoute(r) = m {
                let cache_error = r.attributes.iter().find_map(|a| match a {
                    RouteAttribute::CacheInfo(ci) if ci.error != 0 => Some((ci.error as i32).abs()),
                    _ => None,
                });
                if let Some(route) = route_of(&r, names) {
                    found = Some((route, cache_error));
                }
            }
            Ok(())
        })?;
        if let Some(errno) = err {
            if errno == libc::EPERM {
                return Err(errno_error("asking the kernel for a route", errno));
            }
            return Ok((KernelAnswer::Error(errno), None));
        }
        match found {
            Some((route, e)) => Ok((KernelAnswer::Route(route), e)),
            None => anyhow::bail!("the kernel answered the route lookup for {dst} with no route"),
        }
    }
}

fn af(family: Family) -> AddressFamily {
    match family {
        Family::Inet => AddressFamily::Inet,
        Family::Inet6 => AddressFamily::Inet6,
    }
}

/// An error for a failed netlink request, exit 3 when the kernel refused permission.
fn errno_error(what: &str, errno: i32) -> anyhow::Error {
    let io = std::io::Error::from_raw_os_error(errno);
    if errno == libc::EPERM || errno == libc::EACCES {
        return refused(format!("{what}: the kernel said {io}; run as root"));
    }
    if errno == libc::EOPNOTSUPP || errno == libc::EAFNOSUPPORT {
        return refused(format!("{what}: the kernel does not support this: {io}"));
    }
    anyhow::anyhow!("{what}: the kernel said {io}")
}

fn addr_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn via_of(v: &RouteVia) -> Option<IpAddr> {
    match v {
        RouteVia::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteVia::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn dev_name(names: &HashMap<u32, &str>, ifindex: u32) -> String {
    match names.get(&ifindex) {
        Some(n) => (*n).to_string(),
        // A device that vanished between the two dumps: name it the way ip does.
        None => format!("if{ifindex}"),
    }
}

/// Convert one RTM_NEWROUTE message. `None` for families netpath does not model (MPLS …).
fn route_of(msg: &RouteMessage, names: &HashMap<u32, &str>) -> Option<Route> {
    let h: &RouteHeader = &msg.header;
    let family = match h.address_family {
        AddressFamily::Inet => Family::Inet,
        AddressFamily::Inet6 => Family::Inet6,
        _ => return None,
    };
    let mut dst: Option<IpAddr> = None;
    let mut gateway: Option<IpAddr> = None;
    let mut oif: Option<u32> = None;
    let mut table = u32::from(h.table);
    let mut metric = None;
    let mut prefsrc = None;
    let mut mtu = None;
    let mut multipath = None;
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Destination(a) => dst = addr_of(a),
            RouteAttribute::Gateway(a) => gateway = addr_of(a),
            RouteAttribute::Via(v) => gateway = via_of(v),
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Priority(p) => metric = Some(*p),
            RouteAttribute::PrefSource(a) => prefsrc = addr_of(a),
            RouteAttribute::Metrics(ms) => {
                for m in ms {
                    if let RouteMetric::Mtu(v) = m {
                        mtu = Some(*v);
                    }
                }
            }
            RouteAttribute::MultiPath(hops) => multipath = Some(hops),
            _ => {}
        }
    }
    let unspecified = match family {
        Family::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let dst = IpNetwork::new(dst.unwrap_or(unspecified), h.destination_prefix_length).ok()?;
    let nexthops = match multipath {
        Some(hops) => hops
            .iter()
            .map(|hop| {
                let mut gw = None;
                for a in &hop.attributes {
                    match a {
                        RouteAttribute::Gateway(a) => gw = addr_of(a),
                        RouteAttribute::Via(v) => gw = via_of(v),
                        _ => {}
                    }
                }
                let ifindex = (hop.interface_index != 0).then_some(hop.interface_index);
                Nexthop {
                    gateway: gw,
                    dev: ifindex.map(|i| dev_name(names, i)),
                    ifindex,
                    weight: u16::from(hop.hops) + 1,
                    flags: NexthopFlags::from_bits(u32::from(hop.flags.bits())),
                }
            })
            .collect(),
        None if gateway.is_none() && oif.is_none() => Vec::new(),
        None => vec![Nexthop {
            gateway,
            dev: oif.map(|i| dev_name(names, i)),
            ifindex: oif,
            weight: 1,
            flags: NexthopFlags::from_bits(h.flags.bits() & 0xff),
        }],
    };
    Some(Route {
        dst,
        kind: RouteType::from_number(u8::from(h.kind)),
        table: Table(table),
        proto: Protocol(u8::from(h.protocol)),
        scope: Scope::from_number(u8::from(h.scope)),
        metric,
        prefsrc,
        tos: h.tos,
        mtu,
        nexthops,
    })
}

/// Convert one RTM_NEWLINK message into the parts of a [`Link`] a route view needs.
fn link_of(msg: netlink_packet_route::link::LinkMessage) -> Link {
    use netlink_packet_route::link::LinkFlags;
    let mut name = String::new();
    let mut mtu = 0;
    let mut kind = if msg.header.flags.contains(LinkFlags::Loopback) {
        LinkKind::Loopback
    } else {
        LinkKind::Device
    };
    let mut oper = None;
    for attr in msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => name = n,
            LinkAttribute::Mtu(m) => mtu = m,
            LinkAttribute::OperState(s) => oper = Some(format!("{s:?}").to_lowercase()),
            LinkAttribute::LinkInfo(infos) => {
                let mut k = None;
                let mut vx = None;
                for info in infos {
                    match info {
                        LinkInfo::Kind(ik) => k = Some(ik),
                        LinkInfo::Data(InfoData::Vxlan(v)) => vx = Some(v),
                        _ => {}
                    }
                }
                kind = match k {
                    Some(InfoKind::Veth) => LinkKind::Veth(Veth::default()),
                    Some(InfoKind::Bridge) => LinkKind::Bridge,
                    Some(InfoKind::IpIp) => LinkKind::Ipip {
                        local: None,
                        remote: None,
                    },
                    Some(InfoKind::Vxlan) => {
                        let mut vxlan = Vxlan {
                            vni: 0,
                            port: 8472,
                            local: None,
                            dev: None,
                            learning: true,
                        };
                        for nla in vx.unwrap_or_default() {
                            match nla {
                                InfoVxlan::Id(id) => vxlan.vni = id,
                                InfoVxlan::Port(p) => vxlan.port = p,
                                InfoVxlan::Local(a) => vxlan.local = Some(IpAddr::V4(a)),
                                InfoVxlan::Local6(a) => vxlan.local = Some(IpAddr::V6(a)),
                                InfoVxlan::Learning(l) => vxlan.learning = l,
                                _ => {}
                            }
                        }
                        LinkKind::Vxlan(vxlan)
                    }
                    Some(other) => LinkKind::Other {
                        name: other.to_string(),
                    },
                    None => kind,
                };
            }
            _ => {}
        }
    }
    Link {
        ifindex: msg.header.index,
        name,
        kind,
        mtu,
        mac: None,
        up: msg.header.flags.contains(LinkFlags::Up),
        oper_state: oper,
        master: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::route::{RouteNextHop, RouteNextHopFlags, RouteProtocol};

    fn names() -> HashMap<u32, &'static str> {
        HashMap::from([(2, "eth0"), (3, "flannel.1")])
    }

    #[test]
    fn single_nexthop_with_onlink_from_rtm_flags() {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.destination_prefix_length = 24;
        m.header.table = 254;
        m.header.protocol = RouteProtocol::Boot;
        m.header.kind = netlink_packet_route::route::RouteType::Unicast;
        m.header.flags = NlRouteFlags::Onlink;
        m.attributes = vec![
            RouteAttribute::Destination(RouteAddress::Inet("10.244.1.0".parse().unwrap())),
            RouteAttribute::Gateway(RouteAddress::Inet("10.244.1.0".parse().unwrap())),
            RouteAttribute::Oif(3),
        ];
        let r = route_of(&m, &names()).unwrap();
        assert_eq!(
            r.to_string(),
            "10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink"
        );
        assert_eq!(r.metric, None);
    }

    #[test]
    fn multipath_weights_and_unknown_ifindex() {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.destination_prefix_length = 24;
        m.header.table = 254;
        m.header.protocol = RouteProtocol::Boot;
        m.header.kind = netlink_packet_route::route::RouteType::Unicast;
        let mut a = RouteNextHop::default();
        a.interface_index = 2;
        a.attributes = vec![RouteAttribute::Gateway(RouteAddress::Inet(
            "192.168.1.13".parse().unwrap(),
        ))];
        let mut b = RouteNextHop::default();
        b.interface_index = 9;
        b.hops = 1;
        b.flags = RouteNextHopFlags::Linkdown;
        b.attributes = vec![RouteAttribute::Gateway(RouteAddress::Inet(
            "192.168.1.14".parse().unwrap(),
        ))];
        m.attributes = vec![
            RouteAttribute::Destination(RouteAddress::Inet("10.244.3.0".parse().unwrap())),
            RouteAttribute::MultiPath(vec![a, b]),
        ];
        let r = route_of(&m, &names()).unwrap();
        assert_eq!(r.nexthops.len(), 2);
        assert_eq!(r.nexthops[1].weight, 2);
        assert_eq!(r.nexthops[1].dev.as_deref(), Some("if9"));
        assert!(r.nexthops[1].flags.linkdown);
        assert_eq!(r.gateway(), Some("192.168.1.13".parse().unwrap()));
    }

    #[test]
    fn blackhole_has_no_nexthop_and_default_dst() {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.destination_prefix_length = 0;
        m.header.table = 254;
        m.header.kind = netlink_packet_route::route::RouteType::BlackHole;
        let r = route_of(&m, &names()).unwrap();
        assert!(r.nexthops.is_empty());
        assert_eq!(r.dst_label(), "default");
        assert_eq!(r.kind, RouteType::Blackhole);
    }
}
