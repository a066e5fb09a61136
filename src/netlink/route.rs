//! Routes over rtnetlink: a dump of every table (`RTM_GETROUTE` + `NLM_F_DUMP`, what
//! `ip route show table all` asks), and single lookups (`RTM_GETROUTE` for one address, what
//! `ip route get` asks), in any netns.
//!
//! This goes through the raw-bytes layer of [`RtSocket`] rather than parsed messages: a
//! dump of 100,000 routes is then one `recv` per 32 KiB and one decode per message, into
//! one reused [`Route`], with nothing in between.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags as NlRouteFlags, RouteMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::Netns;
use super::socket::{RtSocket, errno_error, u32_at};
use crate::dataplane::kernel::{KernelAnswer, RouteLookup, RouteQuery};
use crate::dataplane::{
    Family, Link, Nexthop, NexthopFlags, Protocol, Route, RouteType, Scope, Table,
};

/// Every route of every table the kernel has, in the kernel's dump order (per table, the
/// order of its prefix trie: the order `ip route` and `/proc/net/route` print), plus the
/// devices they point at.
#[derive(Debug, Clone, Default)]
pub struct RouteDump {
    /// The routes (no cached clones), IPv4 before IPv6 when both were asked for.
    pub routes: Vec<Route>,
    /// The devices of the netns (the same dump as [`super::link::links`]: kind, VXLAN id
    /// and port, which the route explanation needs).
    pub links: Vec<Link>,
}

/// Dump the routes of `table` (every table when `None`) in `netns`; `family` `None` means
/// IPv4 and IPv6.
///
/// A single table is filtered by the kernel (NETLINK_GET_STRICT_CHK and `rtm_table`, as
/// `ip route show` asks): without a policy rule the kernel keeps the main and local
/// tables in one trie, and a dump of every table walks it once per table.
pub fn dump_routes(
    netns: &Netns,
    family: Option<Family>,
    table: Option<Table>,
) -> anyhow::Result<RouteDump> {
    let mut routes = Vec::with_capacity(1024);
    let links = for_each_route(netns, family, table, |route, _| {
        routes.push(route.clone());
        Ok(())
    })?;
    Ok(RouteDump { routes, links })
}

/// Like [`dump_routes`], without keeping the routes: each one is decoded into one reused
/// [`Route`] and handed to `each` with the devices of the netns, in the kernel's dump
/// order, while the dump is read. Returns the devices. Memory does not grow with the
/// number of routes (`netpath routes` streams 100,000 routes this way).
pub fn for_each_route(
    netns: &Netns,
    family: Option<Family>,
    table: Option<Table>,
    mut each: impl FnMut(&Route, &[Link]) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<Link>> {
    // A netlink socket belongs to the netns it was created in: create it there, then talk
    // to it from this thread (a worker thread's malloc arena would grow page by page
    // under 100,000 routes).
    let mut sock = RtSocket::open_in(netns)?;
    let links = sock.links()?;
    sock.for_each_route(&links, family, table, |r| each(r, &links))?;
    Ok(links)
}

fn families(family: Option<Family>) -> &'static [Family] {
    match family {
        Some(Family::Inet) => &[Family::Inet],
        Some(Family::Inet6) => &[Family::Inet6],
        None => &[Family::Inet, Family::Inet6],
    }
}

/// Ask the kernel which route it would use for `query` (RTM_GETROUTE), and which FIB entry
/// matched (RTM_F_FIB_MATCH), inside `netns`.
pub fn lookup(netns: &Netns, query: &RouteQuery) -> anyhow::Result<RouteLookup> {
    netns.run(|| {
        let mut sock = RtSocket::open()?;
        let links = sock.links()?;
        let names = Names::new(&links);
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
        if let (Some(src), true) = (query.src, query.dst.is_ipv4() != src_is_v4(query)) {
            anyhow::bail!(
                "the source {src} and the destination {} are not the same address family",
                query.dst
            );
        }
        let (resolved, route_error) = sock.get_route(query, iif, false, &names)?;
        // The matched entry is asked as an output lookup, with the same mark and TOS.
        let plain = RouteQuery {
            src: None,
            iif: None,
            ..query.clone()
        };
        let (fib_entry, _) = sock.get_route(&plain, None, true, &names)?;
        let sysctls = super::sysctl::read_from(std::path::Path::new("/proc/sys/net"))?;
        Ok(RouteLookup {
            resolved,
            fib_entry,
            route_error,
            sysctls,
        })
    })
}

fn src_is_v4(query: &RouteQuery) -> bool {
    query.src.is_none_or(|s| s.is_ipv4())
}

impl RtSocket {
    /// Every route of `table` (every table when `None`; `family` `None`: IPv4 then IPv6),
    /// naming devices from `links` (a dump of the same netns), cached clones left out.
    pub fn routes(
        &mut self,
        links: &[Link],
        family: Option<Family>,
        table: Option<Table>,
    ) -> anyhow::Result<Vec<Route>> {
        let mut routes = Vec::with_capacity(1024);
        self.for_each_route(links, family, table, |r| {
            routes.push(r.clone());
            Ok(())
        })?;
        Ok(routes)
    }

    /// Like [`RtSocket::routes`] without keeping them: each route is decoded into one
    /// reused [`Route`] and handed to `each` while the dump is read, in the kernel's order.
    pub fn for_each_route(
        &mut self,
        links: &[Link],
        family: Option<Family>,
        table: Option<Table>,
        mut each: impl FnMut(&Route) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let names = Names::new(links);
        let mut scratch = blank_route();
        for fam in families(family) {
            self.dump_routes(*fam, table, &names, &mut scratch, &mut each)?;
        }
        Ok(())
    }

    fn dump_routes(
        &mut self,
        family: Family,
        table: Option<Table>,
        names: &Names<'_>,
        scratch: &mut Route,
        mut each: impl FnMut(&Route) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut req = RouteMessage::default();
        req.header.address_family = af(family);
        // Kernels before 4.20 have no strict checking and ignore the filter: the caller
        // filters again, so the answer is the same, only slower.
        let strict = table.is_some() && self.is_strict();
        if let (Some(t), true) = (table, strict) {
            match u8::try_from(t.0) {
                Ok(small) => req.header.table = small,
                Err(_) => {
                    req.header.table = 252; // RT_TABLE_COMPAT: the id is in RTA_TABLE
                    req.attributes.push(RouteAttribute::Table(t.0));
                }
            }
        }
        let err = self.dump_raw(
            RouteNetlinkMessage::GetRoute(req),
            "listing routes",
            |kind, payload| {
                if kind == RTM_NEWROUTE {
                    if let Some(meta) = decode_route(payload, names, scratch)? {
                        if !meta.cloned {
                            each(scratch)?;
                        }
                    }
                }
                Ok(())
            },
        )?;
        match err {
            None => Ok(()),
            // The table does not exist (yet): it has no routes.
            Some(libc::ENOENT) if strict => Ok(()),
            // A kernel without IPv6 answers the IPv6 dump with EAFNOSUPPORT: no IPv6 routes.
            Some(libc::EAFNOSUPPORT) if family == Family::Inet6 => Ok(()),
            Some(errno) => Err(errno_error("listing routes", errno)),
        }
    }

    /// One RTM_GETROUTE for `query` (its destination, source, mark and TOS; `iif` the
    /// input device's ifindex). Returns the answer and, for IPv6, the error the
    /// returned route carries in its cache info.
    fn get_route(
        &mut self,
        query: &RouteQuery,
        iif: Option<u32>,
        fibmatch: bool,
        names: &Names<'_>,
    ) -> anyhow::Result<(KernelAnswer, Option<i32>)> {
        let (dst, src) = (query.dst, query.src);
        let mut req = RouteMessage::default();
        req.header.tos = query.tos;
        if query.mark != 0 {
            req.attributes.push(RouteAttribute::Mark(query.mark));
        }
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
        // RTM_F_LOOKUP_TABLE: an IPv4 answer names the table the route was found in (as
        // `ip route get` asks); without it the kernel says main whatever the table. IPv6
        // names it anyway, and refuses the flag under strict checking.
        if dst.is_ipv4() {
            req.header.flags = NlRouteFlags::LookupTable;
        }
        if fibmatch {
            req.header.flags |= NlRouteFlags::FibMatch;
        }
        let what = "asking the kernel for a route";
        let seq = self.send(RouteNetlinkMessage::GetRoute(req), 0, what)?;
        let mut found: Option<(Route, Option<i32>)> = None;
        let err = self.receive(seq, false, what, |kind, payload| {
            if kind == RTM_NEWROUTE {
                if let Some((route, meta)) = parse_route(payload, names)? {
                    found = Some((route, meta.cache_error));
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

/// Device names by ifindex, for naming the devices routes point at.
struct Names<'a> {
    /// (ifindex, name), sorted by ifindex.
    by_index: Vec<(u32, &'a str)>,
}

impl<'a> Names<'a> {
    fn new(links: &'a [Link]) -> Names<'a> {
        let mut by_index: Vec<(u32, &str)> =
            links.iter().map(|l| (l.ifindex, l.name.as_str())).collect();
        by_index.sort_unstable_by_key(|(i, _)| *i);
        Names { by_index }
    }

    /// Write the name of `ifindex` into `out` (reusing its allocation); a device that
    /// vanished between the two dumps is named the way ip names it (`if7`).
    fn write(&self, ifindex: u32, out: &mut String) {
        out.clear();
        match self.by_index.binary_search_by_key(&ifindex, |(i, _)| *i) {
            Ok(at) => out.push_str(self.by_index[at].1),
            Err(_) => {
                use std::fmt::Write as _;
                let _ = write!(out, "if{ifindex}");
            }
        }
    }
}

pub(super) const RTM_NEWROUTE: u16 = 24;

pub(super) const RTA_DST: u16 = 1;
pub(super) const RTA_OIF: u16 = 4;
pub(super) const RTA_GATEWAY: u16 = 5;
pub(super) const RTA_PRIORITY: u16 = 6;
pub(super) const RTA_PREFSRC: u16 = 7;
pub(super) const RTA_METRICS: u16 = 8;
const RTA_MULTIPATH: u16 = 9;
const RTA_CACHEINFO: u16 = 12;
pub(super) const RTA_TABLE: u16 = 15;
const RTA_VIA: u16 = 18;
pub(super) const RTAX_MTU: u16 = 2;
const RTM_F_CLONED: u32 = 0x200;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Iterate the attributes (`struct rtattr`) in `b`: (type, value). Stops at the first
/// malformed one, which the caller reports.
struct Attrs<'a> {
    b: &'a [u8],
    bad: bool,
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (u16, &'a [u8]);
    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        if self.b.len() < 4 {
            return None;
        }
        let len = usize::from(u16::from_ne_bytes([self.b[0], self.b[1]]));
        // NLA_F_NESTED and NLA_F_NET_BYTEORDER live in the two top bits.
        let kind = u16::from_ne_bytes([self.b[2], self.b[3]]) & 0x3fff;
        if len < 4 || len > self.b.len() {
            self.bad = true;
            return None;
        }
        let value = &self.b[4..len];
        let next = ((len + 3) & !3).min(self.b.len());
        self.b = &self.b[next..];
        Some((kind, value))
    }
}

fn attrs(b: &[u8]) -> Attrs<'_> {
    Attrs { b, bad: false }
}

fn addr_from(family: u8, v: &[u8]) -> Option<IpAddr> {
    match (family, v.len()) {
        (AF_INET, 4) => Some(IpAddr::V4(Ipv4Addr::new(v[0], v[1], v[2], v[3]))),
        (AF_INET6, 16) => {
            let mut o = [0u8; 16];
            o.copy_from_slice(v);
            Some(IpAddr::V6(Ipv6Addr::from(o)))
        }
        _ => None,
    }
}

/// `RTA_VIA`: a `struct rtvia` (family u16, then the address).
fn via_from(v: &[u8]) -> Option<IpAddr> {
    if v.len() < 2 {
        return None;
    }
    let fam = u16::from_ne_bytes([v[0], v[1]]);
    addr_from(u8::try_from(fam).ok()?, &v[2..])
}

/// What a route message says beside the route itself.
struct Meta {
    /// RTM_F_CLONED: a cache entry, not a FIB route.
    cloned: bool,
    /// The error in RTA_CACHEINFO (IPv6 lookups report drops this way), positive.
    cache_error: Option<i32>,
}

/// An empty route to decode messages into.
fn blank_route() -> Route {
    Route {
        dst: IpNetwork::V4(ipnetwork::Ipv4Network::from(Ipv4Addr::UNSPECIFIED)),
        kind: RouteType::Unicast,
        table: Table::MAIN,
        proto: Protocol(0),
        scope: Scope::Universe,
        metric: None,
        prefsrc: None,
        tos: 0,
        mtu: None,
        nexthops: Vec::new(),
    }
}

/// Decode one RTM_NEWROUTE payload into a new [`Route`] (see [`decode_route`]).
fn parse_route(p: &[u8], names: &Names<'_>) -> anyhow::Result<Option<(Route, Meta)>> {
    let mut route = blank_route();
    Ok(decode_route(p, names, &mut route)?.map(|meta| (route, meta)))
}

/// Decode one RTM_NEWROUTE payload with no device names known (the fuzz entry,
/// `crate::fuzzing::netlink_route`).
#[doc(hidden)]
pub fn decode_route_payload(p: &[u8]) -> anyhow::Result<Option<Route>> {
    Ok(parse_route(p, &Names::new(&[]))?.map(|(route, _)| route))
}

/// Set nexthop `i` of `hops`, reusing the one already there (and its device name's
/// allocation) when there is one.
fn set_hop(
    hops: &mut Vec<Nexthop>,
    i: usize,
    gateway: Option<IpAddr>,
    ifindex: Option<u32>,
    weight: u16,
    flags: NexthopFlags,
    names: &Names<'_>,
) {
    if i == hops.len() {
        hops.push(Nexthop::default());
    }
    let hop = &mut hops[i];
    hop.gateway = gateway;
    hop.ifindex = ifindex;
    hop.weight = weight;
    hop.flags = flags;
    match ifindex {
        Some(index) => names.write(index, hop.dev.get_or_insert_with(String::new)),
        None => hop.dev = None,
    }
}

/// Decode one RTM_NEWROUTE payload (`struct rtmsg` and its attributes) into `route`,
/// overwriting every field and reusing its allocations. `None` (and `route` unspecified)
/// for families netpath does not model (MPLS …); an error for a malformed message.
fn decode_route(p: &[u8], names: &Names<'_>, route: &mut Route) -> anyhow::Result<Option<Meta>> {
    if p.len() < 12 {
        anyhow::bail!(
            "the kernel sent a truncated route message ({} bytes)",
            p.len()
        );
    }
    let (family, dst_len, tos, table_u8, proto, scope, kind) =
        (p[0], p[1], p[3], p[4], p[5], p[6], p[7]);
    let rtm_flags = u32_at(p, 8);
    let fam = match family {
        AF_INET => Family::Inet,
        AF_INET6 => Family::Inet6,
        _ => return Ok(None),
    };
    let mut dst = None;
    let mut gateway = None;
    let mut oif = None;
    let mut table = u32::from(table_u8);
    let mut metric = None;
    let mut prefsrc = None;
    let mut mtu = None;
    let mut multipath: Option<&[u8]> = None;
    let mut cache_error = None;
    let mut it = attrs(&p[12..]);
    for (t, v) in &mut it {
        match t {
            RTA_DST => dst = addr_from(family, v),
            RTA_GATEWAY => gateway = addr_from(family, v),
            RTA_VIA => gateway = via_from(v),
            RTA_OIF if v.len() >= 4 => oif = Some(u32_at(v, 0)),
            RTA_TABLE if v.len() >= 4 => table = u32_at(v, 0),
            RTA_PRIORITY if v.len() >= 4 => metric = Some(u32_at(v, 0)),
            RTA_PREFSRC => prefsrc = addr_from(family, v),
            RTA_METRICS => {
                for (mt, mv) in attrs(v) {
                    if mt == RTAX_MTU && mv.len() >= 4 {
                        mtu = Some(u32_at(mv, 0));
                    }
                }
            }
            RTA_MULTIPATH => multipath = Some(v),
            RTA_CACHEINFO if v.len() >= 16 => {
                let e = u32_at(v, 12) as i32;
                if e != 0 {
                    cache_error = Some(e.saturating_abs());
                }
            }
            _ => {}
        }
    }
    if it.bad {
        anyhow::bail!("the kernel sent a route message with a malformed attribute");
    }
    let unspecified = match fam {
        Family::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let Ok(dst) = IpNetwork::new(dst.unwrap_or(unspecified), dst_len) else {
        anyhow::bail!("the kernel sent a route with prefix length {dst_len}");
    };
    let hops = &mut route.nexthops;
    let count = match multipath {
        Some(mut b) => {
            // A sequence of `struct rtnexthop` (len u16, flags u8, hops u8, ifindex i32),
            // each followed by its own attributes.
            let mut n = 0;
            while b.len() >= 8 {
                let len = usize::from(u16::from_ne_bytes([b[0], b[1]]));
                if len < 8 || len > b.len() {
                    anyhow::bail!("the kernel sent a malformed multipath nexthop");
                }
                let (flags, weight, ifindex) = (b[2], b[3], u32_at(b, 4));
                let mut gw = None;
                for (t, v) in attrs(&b[8..len]) {
                    match t {
                        RTA_GATEWAY => gw = addr_from(family, v),
                        RTA_VIA => gw = via_from(v),
                        _ => {}
                    }
                }
                let ifindex = (ifindex != 0).then_some(ifindex);
                set_hop(
                    hops,
                    n,
                    gw,
                    ifindex,
                    u16::from(weight) + 1,
                    NexthopFlags::from_bits(u32::from(flags)),
                    names,
                );
                n += 1;
                b = &b[((len + 3) & !3).min(b.len())..];
            }
            n
        }
        None if gateway.is_none() && oif.is_none() => 0,
        None => {
            set_hop(
                hops,
                0,
                gateway,
                oif,
                1,
                NexthopFlags::from_bits(rtm_flags & 0xff),
                names,
            );
            1
        }
    };
    hops.truncate(count);
    route.dst = dst;
    route.kind = RouteType::from_number(kind);
    route.table = Table(table);
    route.proto = Protocol(proto);
    route.scope = Scope::from_number(scope);
    route.metric = metric;
    route.prefsrc = prefsrc;
    route.tos = tos;
    route.mtu = mtu;
    Ok(Some(Meta {
        cloned: rtm_flags & RTM_F_CLONED != 0,
        cache_error,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::route::{RouteNextHop, RouteNextHopFlags, RouteProtocol};

    fn links() -> Vec<Link> {
        let link = |ifindex: u32, name: &str| Link {
            ifindex,
            ..Link::up(name, crate::dataplane::LinkKind::Device, 1500)
        };
        vec![link(3, "flannel.1"), link(2, "eth0")]
    }

    /// Encode with netlink-packet-route, decode with netpath's parser: the two agree.
    fn roundtrip(m: &RouteMessage) -> Route {
        use netlink_packet_core::Emitable;
        let mut bytes = vec![0u8; m.buffer_len()];
        m.emit(&mut bytes);
        let links = links();
        let (route, _) = parse_route(&bytes, &Names::new(&links)).unwrap().unwrap();
        // Decoding into a reused route that had more nexthops gives the same route.
        let mut reused = route.clone();
        reused.nexthops.push(Nexthop::default());
        reused.nexthops.push(Nexthop::default());
        decode_route(&bytes, &Names::new(&links), &mut reused)
            .unwrap()
            .unwrap();
        assert_eq!(reused, route);
        route
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
        let r = roundtrip(&m);
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
        let r = roundtrip(&m);
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
        let r = roundtrip(&m);
        assert!(r.nexthops.is_empty());
        assert_eq!(r.dst_label(), "default");
        assert_eq!(r.kind, RouteType::Blackhole);
    }

    #[test]
    fn metrics_table_and_ipv6_via_are_read() {
        use netlink_packet_route::route::RouteMetric;
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.destination_prefix_length = 16;
        m.header.table = 252;
        m.header.protocol = RouteProtocol::Other(80);
        m.header.kind = netlink_packet_route::route::RouteType::Unicast;
        m.attributes = vec![
            RouteAttribute::Destination(RouteAddress::Inet("10.60.0.0".parse().unwrap())),
            RouteAttribute::Via(netlink_packet_route::route::RouteVia::Inet6(
                "fe80::1".parse().unwrap(),
            )),
            RouteAttribute::Oif(2),
            RouteAttribute::Table(1000),
            RouteAttribute::Priority(100),
            RouteAttribute::Metrics(vec![RouteMetric::Mtu(1450)]),
        ];
        let r = roundtrip(&m);
        assert_eq!(r.table, Table(1000));
        assert_eq!(r.metric, Some(100));
        assert_eq!(r.mtu, Some(1450));
        assert_eq!(r.proto, Protocol::FELIX);
        assert_eq!(r.gateway(), Some("fe80::1".parse().unwrap()));
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        let links = links();
        let names = Names::new(&links);
        assert!(parse_route(&[2, 24], &names).is_err());
        let mut b = vec![2u8, 24, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0];
        b.extend_from_slice(&[40, 0, 1, 0, 10, 0]); // attribute longer than the message
        assert!(parse_route(&b, &names).is_err());
        let mut b = vec![2u8, 40, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0];
        b.extend_from_slice(&[8, 0, 1, 0, 10, 0, 0, 0]); // prefix length 40 on IPv4
        assert!(parse_route(&b, &names).is_err());
        let mpls = vec![28u8, 20, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0];
        assert!(parse_route(&mpls, &names).unwrap().is_none());
    }
}
