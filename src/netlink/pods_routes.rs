//! A minimal route reader for `netpath pods` (main table, IPv4 and IPv6).
//!
//! Stand-in until the shared route reader lands: the lead replaces this file with it when
//! merging. It reads only what `pods` needs: destination, type, scope, protocol, metric,
//! source, and the next hops' gateways and devices.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteMessage};

use super::Netns;
use super::link::{RtSocket, names_by_index};
use crate::dataplane::{Nexthop, NexthopFlags, Protocol, Route, RouteType, Scope, Table};

/// The main-table routes of `netns`, IPv4 and IPv6.
pub fn routes_main_v4v6(netns: &Netns) -> anyhow::Result<Vec<Route>> {
    let mut sock = RtSocket::open_in(netns)?;
    let links = sock.links()?;
    routes_on(&mut sock, &names_by_index(&links))
}

/// The main-table routes of the socket's netns; `names` maps ifindex → device name.
pub fn routes_on(sock: &mut RtSocket, names: &HashMap<u32, String>) -> anyhow::Result<Vec<Route>> {
    // On a strict-check socket the kernel filters by table itself (no local-table routes,
    // which are most of a dump on a node with many veths); the filter below covers the rest.
    let mut req = RouteMessage::default();
    req.header.table = RouteHeader::RT_TABLE_MAIN;
    let msgs = sock.dump(RouteNetlinkMessage::GetRoute(req), "listing routes")?;
    Ok(msgs
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewRoute(r) => route_from_message(r, names),
            _ => None,
        })
        .filter(|r| r.table == Table::MAIN)
        .collect())
}

fn ip_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// Convert a kernel route message (IPv4/IPv6 only; `None` for other families).
pub fn route_from_message(msg: &RouteMessage, names: &HashMap<u32, String>) -> Option<Route> {
    let h = &msg.header;
    let mut dst = None;
    let mut table = u32::from(h.table);
    let mut metric = None;
    let mut prefsrc = None;
    let mut gateway = None;
    let mut oif = None;
    let mut multipath = Vec::new();
    for a in &msg.attributes {
        match a {
            RouteAttribute::Destination(d) => dst = ip_of(d),
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Priority(p) => metric = Some(*p),
            RouteAttribute::PrefSource(s) => prefsrc = ip_of(s),
            RouteAttribute::Gateway(g) => gateway = ip_of(g),
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::MultiPath(hops) => {
                for hop in hops {
                    let gw = hop.attributes.iter().find_map(|a| match a {
                        RouteAttribute::Gateway(g) => ip_of(g),
                        _ => None,
                    });
                    multipath.push(Nexthop {
                        gateway: gw,
                        dev: names.get(&hop.interface_index).cloned(),
                        ifindex: Some(hop.interface_index).filter(|i| *i != 0),
                        weight: u16::from(hop.hops) + 1,
                        flags: NexthopFlags::from_bits(u32::from(hop.flags.bits())),
                    });
                }
            }
            _ => {}
        }
    }
    let unspecified: IpAddr = match u8::from(h.address_family) as i32 {
        libc::AF_INET => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        libc::AF_INET6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        _ => return None,
    };
    let dst = IpNetwork::new(dst.unwrap_or(unspecified), h.destination_prefix_length).ok()?;
    let nexthops = if !multipath.is_empty() {
        multipath
    } else if gateway.is_some() || oif.is_some() {
        vec![Nexthop {
            gateway,
            dev: oif.and_then(|i| names.get(&i).cloned()),
            ifindex: oif,
            weight: 1,
            flags: NexthopFlags::from_bits(h.flags.bits()),
        }]
    } else {
        Vec::new()
    };
    Some(Route {
        dst,
        kind: RouteType::from_number(u8::from(h.kind)),
        table: Table(table),
        proto: Protocol(u8::from(h.protocol)),
        scope: Scope::from_number(u8::from(h.scope)),
        metric: metric.filter(|m| *m != 0),
        prefsrc,
        tos: h.tos,
        mtu: None,
        nexthops,
    })
}
