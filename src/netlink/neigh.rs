//! Neighbour (ARP/NDP) and FDB entries over rtnetlink, as `ip neigh` and `bridge fdb` show them.

use std::net::IpAddr;

use std::collections::HashMap;

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::Netns;
use super::link::names_by_index;
use super::socket::RtSocket;
use crate::dataplane::{FdbEntry, Link, MacAddr, Neighbour, NudState};

/// The IPv4 and IPv6 neighbour entries of `netns` (`ip neigh show`), proxy entries excluded.
pub fn neighbours(netns: &Netns) -> anyhow::Result<Vec<Neighbour>> {
    let mut sock = RtSocket::open_in(netns)?;
    let links = sock.links()?;
    sock.neighbours(&links)
}

/// The bridge forwarding database of `netns` (`bridge fdb show`): VXLAN entries (`self`,
/// with the remote VTEP in `dst`) and bridge-port entries (`master`).
pub fn fdb(netns: &Netns) -> anyhow::Result<Vec<FdbEntry>> {
    let mut sock = RtSocket::open_in(netns)?;
    let links = sock.links()?;
    sock.fdb(&links)
}

impl RtSocket {
    /// The IPv4 and IPv6 neighbour entries (`ip neigh show`), proxy entries excluded;
    /// devices named from `links` (a dump of the same netns).
    pub fn neighbours(&mut self, links: &[Link]) -> anyhow::Result<Vec<Neighbour>> {
        let names = names_by_index(links);
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            for msg in self.neighbour_dump(family, "listing neighbours")? {
                if let Some(n) = neighbour(&msg, &names) {
                    out.push(n);
                }
            }
        }
        Ok(out)
    }

    /// The bridge forwarding database (`bridge fdb show`): VXLAN entries (`self`, with the
    /// remote VTEP in `dst`) and bridge-port entries (`master`); devices named from
    /// `links` (a dump of the same netns).
    pub fn fdb(&mut self, links: &[Link]) -> anyhow::Result<Vec<FdbEntry>> {
        let names = names_by_index(links);
        Ok(self
            .neighbour_dump(AddressFamily::Bridge, "listing the FDB")?
            .iter()
            .filter_map(|msg| fdb_entry(msg, &names))
            .collect())
    }

    fn neighbour_dump(
        &mut self,
        family: AddressFamily,
        what: &str,
    ) -> anyhow::Result<Vec<NeighbourMessage>> {
        let mut req = NeighbourMessage::default();
        req.header.family = family;
        Ok(self
            .dump(RouteNetlinkMessage::GetNeighbour(req), what)?
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewNeighbour(n) => Some(n),
                _ => None,
            })
            .collect())
    }
}

fn ip_of(a: &NeighbourAddress) -> Option<IpAddr> {
    match a {
        NeighbourAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        NeighbourAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        // AF_BRIDGE messages carry the VTEP address raw: 4 or 16 bytes.
        NeighbourAddress::Other(b) => match b.len() {
            4 => <[u8; 4]>::try_from(b.as_slice()).ok().map(IpAddr::from),
            16 => <[u8; 16]>::try_from(b.as_slice()).ok().map(IpAddr::from),
            _ => None,
        },
        _ => None,
    }
}

fn name_of(names: &HashMap<u32, String>, ifindex: u32) -> String {
    names
        .get(&ifindex)
        .cloned()
        .unwrap_or_else(|| format!("if{ifindex}"))
}

fn neighbour(msg: &NeighbourMessage, names: &HashMap<u32, String>) -> Option<Neighbour> {
    if msg.header.flags.contains(NeighbourFlags::Proxy) {
        return None;
    }
    let mut dst = None;
    let mut lladdr = None;
    for attr in &msg.attributes {
        match attr {
            NeighbourAttribute::Destination(a) => dst = ip_of(a),
            NeighbourAttribute::LinkLayerAddress(b) => lladdr = MacAddr::from_slice(b),
            _ => {}
        }
    }
    Some(Neighbour {
        dst: dst?,
        lladdr,
        dev: name_of(names, msg.header.ifindex),
        state: NudState::from_bits(u16::from(msg.header.state)),
    })
}

fn fdb_entry(msg: &NeighbourMessage, names: &HashMap<u32, String>) -> Option<FdbEntry> {
    let mut mac = None;
    let mut dst = None;
    let mut master = None;
    for attr in &msg.attributes {
        match attr {
            NeighbourAttribute::LinkLayerAddress(b) => mac = MacAddr::from_slice(b),
            NeighbourAttribute::Destination(a) => dst = ip_of(a),
            NeighbourAttribute::Controller(idx) => master = Some(name_of(names, *idx)),
            _ => {}
        }
    }
    Some(FdbEntry {
        mac: mac?,
        dst,
        dev: name_of(names, msg.header.ifindex),
        master,
        self_: msg.header.flags.contains(NeighbourFlags::Own),
        state: NudState::from_bits(u16::from(msg.header.state)),
    })
}
