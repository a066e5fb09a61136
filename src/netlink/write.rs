//! Applying the agent's changes to a netns through rtnetlink.
//!
//! Devices go one request at a time (each acknowledged: later changes need their
//! ifindex). Everything else (addresses, neighbours, FDB, routes, deletions) is
//! pipelined: many requests are serialized into one buffer and sent with one `sendmsg`,
//! without NLM_F_ACK. The kernel processes the messages of a buffer in order, inside
//! that `sendmsg`, and answers only the ones that fail; those errors name their request
//! by sequence number. That is what makes 10,000 routes cheaper than `ip -batch`, which
//! sends one request and waits for one acknowledgement per route.
//!
//! Before anything is changed, every kind of device the changes create is probed in a
//! throwaway netns: a kernel that cannot make one (no ipip module) refuses the whole
//! apply (exit 3) with nothing changed.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;

use anyhow::Context;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, NetlinkMessage};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkMessage};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteMetric, RouteNextHop,
    RouteNextHopFlags, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::{LinkBridge, LinkIpIp, LinkMessageBuilder, LinkUnspec, LinkVxlan};

use super::Netns;
use super::socket::RtSocket;
use crate::dataplane::change::{Change, vxlan_port};
use crate::dataplane::{Addr, FdbEntry, Link, LinkKind, Neighbour, Route};
use crate::error::refused;

/// How many bytes of requests go into one `sendmsg` (well under the default socket
/// send buffer, so the kernel takes it in one piece).
const CHUNK_BYTES: usize = 64 * 1024;

/// What happened to each change of an apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Indexes (into the change list) of the changes the kernel accepted.
    pub done: Vec<usize>,
    /// Indexes of the changes that failed, with why.
    pub failed: Vec<(usize, String)>,
}

/// Apply `changes` (in the order given: see [`crate::dataplane::change::Phase`]) in `netns`.
///
/// Every device kind the changes create is probed first; a kernel that cannot create
/// one refuses the whole apply (exit 3) with nothing changed. Otherwise each change is
/// applied on its own: a failed one is reported and the others still go.
pub fn apply(netns: &Netns, changes: &[Change]) -> anyhow::Result<ApplyReport> {
    probe_kinds(changes)?;
    netns.run(|| apply_here(changes))
}

/// Check that the kernel can create every kind of device `changes` creates, in a
/// throwaway netns (nothing in the target netns changes). Refused (exit 3) when it cannot.
pub fn probe_kinds(changes: &[Change]) -> anyhow::Result<()> {
    let mut seen = Vec::new();
    for change in changes {
        let Change::CreateLink(link) = change else {
            continue;
        };
        let kind = link.kind.name().to_string();
        if seen.contains(&kind) {
            continue;
        }
        seen.push(kind.clone());
        let probe = probe_link(&link.kind);
        let result = std::thread::scope(|s| {
            s.spawn(|| -> anyhow::Result<Option<i32>> {
                // SAFETY: unshare affects only this thread, which ends right after.
                if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                    let e = io::Error::last_os_error();
                    return Err(refused(format!(
                        "cannot make a scratch netns to check that the kernel can create {kind} devices: {e}; run as root"
                    )));
                }
                let mut sock = Batch::open()?;
                Ok(sock
                    .request(RouteNetlinkMessage::NewLink(probe), NLM_F_CREATE | NLM_F_EXCL)
                    .err())
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the device probe thread panicked"))?
        })?;
        if let Some(errno) = result {
            if errno == libc::EOPNOTSUPP || errno == libc::ENODEV || errno == libc::ENOENT {
                return Err(refused(format!(
                    "cannot create device {} of kind {kind}: this kernel cannot make {kind} \
                     devices (it said: {}; is the {kind} module available?). Nothing was changed",
                    link.name,
                    io::Error::from_raw_os_error(errno)
                )));
            }
        }
    }
    Ok(())
}

/// A minimal device of the same kind, to probe with.
fn probe_link(kind: &LinkKind) -> LinkMessage {
    let name = "np-probe0";
    match kind {
        LinkKind::Vxlan(v) => LinkVxlan::new(name, v.vni.max(1)).build(),
        LinkKind::Bridge => LinkBridge::new(name).build(),
        LinkKind::Ipip { .. } => LinkIpIp::new(name).build(),
        other => LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(InfoKind::from(other.name()))
            .name(name)
            .build(),
    }
}

fn apply_here(changes: &[Change]) -> anyhow::Result<ApplyReport> {
    let mut report = ApplyReport::default();
    let mut sock = Batch::open()?;
    let mut names = sock.link_names()?;
    // Sysctls and devices, one at a time.
    let mut links_changed = false;
    for (i, change) in changes.iter().enumerate() {
        let result = match change {
            Change::SetSysctl { key, value } => write_sysctl(key, value),
            Change::DeleteLink { name } => match names.get(name) {
                Some(&index) => {
                    let mut m = LinkMessage::default();
                    m.header.index = index;
                    links_changed = true;
                    sock.request(RouteNetlinkMessage::DelLink(m), 0)
                        .map_err(|e| errno_text(e, change))
                }
                None => Ok(()),
            },
            Change::CreateLink(link) => match create_link_message(link, &names) {
                Ok(m) => {
                    links_changed = true;
                    sock.request(RouteNetlinkMessage::NewLink(m), NLM_F_CREATE | NLM_F_EXCL)
                        .map_err(|e| errno_text(e, change))
                }
                Err(e) => Err(e),
            },
            Change::SetLink {
                name,
                mtu,
                mac,
                master,
                up,
            } => (|| {
                let index = index_of(&names, name)?;
                let mut b = LinkUnspec::new_with_index(index);
                if let Some(m) = mtu {
                    b = b.mtu(*m);
                }
                if let Some(m) = mac {
                    b = b.address(m.0.to_vec());
                }
                if let Some(m) = master {
                    b = b.controller(index_of(&names, m)?);
                }
                if *up {
                    b = b.up();
                }
                sock.request(RouteNetlinkMessage::SetLink(b.build()), 0)
                    .map_err(|e| errno_text(e, change))
            })(),
            _ => continue,
        };
        match result {
            Ok(()) => report.done.push(i),
            Err(e) => {
                if e.starts_with("permission denied") {
                    return Err(refused(format!("{}: {e}; run as root", change.describe())));
                }
                report.failed.push((i, e));
            }
        }
    }
    if links_changed {
        names = sock.link_names()?;
    }
    // Everything else, pipelined: serialized back to back into one buffer (routes by
    // hand, without building a message object per route), sent in chunks.
    let mut wire = Wire::default();
    for (i, change) in changes.iter().enumerate() {
        let built = match change {
            Change::ReplaceRoute(r) if r.nexthops.len() <= 1 => {
                let seq = sock.next_seq();
                put_route(&mut wire.bytes, seq, r, &names, false).map(|()| seq)
            }
            Change::DeleteRoute(r) if r.nexthops.len() <= 1 => {
                let seq = sock.next_seq();
                put_route(&mut wire.bytes, seq, r, &names, true).map(|()| seq)
            }
            _ => {
                let built =
                    match change {
                        Change::AddAddr(a) => addr_message(a, &names).map(|m| {
                            (
                                RouteNetlinkMessage::NewAddress(m),
                                NLM_F_CREATE | NLM_F_REPLACE,
                            )
                        }),
                        Change::DeleteAddr(a) => {
                            addr_message(a, &names).map(|m| (RouteNetlinkMessage::DelAddress(m), 0))
                        }
                        Change::ReplaceNeighbour(n) => neigh_message(n, &names).map(|m| {
                            (
                                RouteNetlinkMessage::NewNeighbour(m),
                                NLM_F_CREATE | NLM_F_REPLACE,
                            )
                        }),
                        Change::DeleteNeighbour(n) => neigh_message(n, &names)
                            .map(|m| (RouteNetlinkMessage::DelNeighbour(m), 0)),
                        Change::ReplaceFdb(e) => fdb_message(e, &names).map(|m| {
                            (
                                RouteNetlinkMessage::NewNeighbour(m),
                                NLM_F_CREATE | NLM_F_REPLACE,
                            )
                        }),
                        Change::DeleteFdb(e) => fdb_message(e, &names)
                            .map(|m| (RouteNetlinkMessage::DelNeighbour(m), 0)),
                        Change::ReplaceRoute(r) => route_message(r, &names, false).map(|m| {
                            (
                                RouteNetlinkMessage::NewRoute(m),
                                NLM_F_CREATE | NLM_F_REPLACE,
                            )
                        }),
                        Change::DeleteRoute(r) => route_message(r, &names, true)
                            .map(|m| (RouteNetlinkMessage::DelRoute(m), 0)),
                        _ => continue,
                    };
                built.map(|(payload, flags)| {
                    let m = sock.message(payload, flags);
                    let start = wire.bytes.len();
                    wire.bytes.resize(start + m.buffer_len(), 0);
                    m.serialize(&mut wire.bytes[start..]);
                    m.header.sequence_number
                })
            }
        };
        match built {
            Ok(seq) => wire.push(i, seq),
            Err(e) => report.failed.push((i, e)),
        }
    }
    let failures = sock.send_batch(&wire)?;
    let failed_at: HashMap<usize, i32> = failures.iter().copied().collect();
    for &(i, _, _) in &wire.messages {
        match failed_at.get(&i) {
            None => report.done.push(i),
            Some(&errno) => {
                if errno == libc::EPERM || errno == libc::EACCES {
                    return Err(refused(format!(
                        "{}: permission denied; run as root",
                        changes[i].describe()
                    )));
                }
                report.failed.push((i, errno_text(errno, &changes[i])));
            }
        }
    }
    report.done.sort_unstable();
    report.failed.sort_by_key(|(i, _)| *i);
    Ok(report)
}

fn errno_text(errno: i32, change: &Change) -> String {
    let io = io::Error::from_raw_os_error(errno);
    let hint = match (errno, change) {
        (libc::ENETUNREACH, Change::ReplaceRoute(_)) => {
            "; the gateway is not on a connected subnet of the device (the route needs onlink)"
        }
        (libc::ENODEV, _) => "; the device does not exist",
        (libc::EEXIST, Change::CreateLink(_)) => "; a device with that name exists",
        (libc::ESRCH, Change::DeleteRoute(_)) => "; the route is already gone",
        _ => "",
    };
    if errno == libc::EPERM || errno == libc::EACCES {
        return format!("permission denied ({io})");
    }
    format!("the kernel said: {io}{hint}")
}

fn index_of(names: &HashMap<String, u32>, name: &str) -> Result<u32, String> {
    names
        .get(name)
        .copied()
        .ok_or_else(|| format!("device {name} does not exist"))
}

fn create_link_message(link: &Link, names: &HashMap<String, u32>) -> Result<LinkMessage, String> {
    let mut msg = match &link.kind {
        LinkKind::Vxlan(v) => {
            let mut b = LinkVxlan::new(&link.name, v.vni)
                .port(vxlan_port(v.port))
                .learning(v.learning);
            match v.local {
                Some(IpAddr::V4(a)) => b = b.local(a),
                Some(IpAddr::V6(a)) => b = b.local6(a),
                None => {}
            }
            if let Some(dev) = &v.dev {
                b = b.dev(index_of(names, dev)?);
            }
            common(b, link, names)?.build()
        }
        LinkKind::Bridge => common(LinkBridge::new(&link.name), link, names)?.build(),
        LinkKind::Ipip { local, remote } => {
            let mut b = LinkIpIp::new(&link.name);
            if let Some(IpAddr::V4(a)) = local {
                b = b.local(*a);
            }
            if let Some(IpAddr::V4(a)) = remote {
                b = b.remote(*a);
            }
            common(b, link, names)?.build()
        }
        other => common(
            LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(InfoKind::from(other.name()))
                .name(link.name.clone()),
            link,
            names,
        )?
        .build(),
    };
    msg.attributes
        .retain(|a| !matches!(a, LinkAttribute::IfName(n) if n.is_empty()));
    Ok(msg)
}

/// MTU, MAC, master and up, common to every kind.
fn common<T>(
    mut b: LinkMessageBuilder<T>,
    link: &Link,
    names: &HashMap<String, u32>,
) -> Result<LinkMessageBuilder<T>, String> {
    if link.mtu != 0 {
        b = b.mtu(link.mtu);
    }
    if let Some(m) = link.mac {
        b = b.address(m.0.to_vec());
    }
    if let Some(m) = &link.master {
        b = b.controller(index_of(names, m)?);
    }
    if link.up {
        b = b.up();
    }
    Ok(b)
}

fn family_of(ip: &IpAddr) -> AddressFamily {
    if ip.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

fn addr_message(a: &Addr, names: &HashMap<String, u32>) -> Result<AddressMessage, String> {
    let mut m = AddressMessage::default();
    let ip = a.addr.ip();
    m.header.family = family_of(&ip);
    m.header.prefix_len = a.addr.prefix();
    m.header.scope = AddressScope::from(a.scope.number());
    m.header.index = index_of(names, &a.dev)?;
    if ip.is_ipv4() {
        m.attributes.push(AddressAttribute::Local(ip));
    }
    m.attributes.push(AddressAttribute::Address(ip));
    Ok(m)
}

fn neigh_message(n: &Neighbour, names: &HashMap<String, u32>) -> Result<NeighbourMessage, String> {
    let mut m = NeighbourMessage::default();
    m.header.family = family_of(&n.dst);
    m.header.ifindex = index_of(names, &n.dev)?;
    m.header.state = NeighbourState::Permanent;
    m.attributes
        .push(NeighbourAttribute::Destination(NeighbourAddress::from(
            n.dst,
        )));
    if let Some(mac) = n.lladdr {
        m.attributes
            .push(NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()));
    }
    Ok(m)
}

fn fdb_message(e: &FdbEntry, names: &HashMap<String, u32>) -> Result<NeighbourMessage, String> {
    let mut m = NeighbourMessage::default();
    m.header.family = AddressFamily::Bridge;
    m.header.ifindex = index_of(names, &e.dev)?;
    m.header.state = NeighbourState::Permanent;
    if e.self_ {
        m.header.flags = NeighbourFlags::Own;
    }
    m.attributes
        .push(NeighbourAttribute::LinkLayerAddress(e.mac.0.to_vec()));
    if let Some(dst) = e.dst {
        m.attributes
            .push(NeighbourAttribute::Destination(NeighbourAddress::from(dst)));
    }
    if let Some(master) = &e.master {
        m.attributes
            .push(NeighbourAttribute::Controller(index_of(names, master)?));
    }
    Ok(m)
}

/// A route message: everything the agent sets to add it, or what identifies exactly
/// this route (with its protocol) to delete it.
fn route_message(
    r: &Route,
    names: &HashMap<String, u32>,
    delete: bool,
) -> Result<RouteMessage, String> {
    let mut m = RouteMessage::default();
    let dst = r.dst.network();
    m.header.address_family = family_of(&dst);
    m.header.destination_prefix_length = r.dst.prefix();
    m.header.tos = r.tos;
    m.header.table = u8::try_from(r.table.0).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
    m.header.protocol = RouteProtocol::from(r.proto.0);
    m.header.scope = if delete {
        RouteScope::NoWhere
    } else {
        RouteScope::from(r.scope.number())
    };
    m.header.kind = RouteType::from(r.kind.number());
    if r.dst.prefix() > 0 {
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(dst)));
    }
    m.attributes.push(RouteAttribute::Table(r.table.0));
    if let Some(metric) = r.metric {
        m.attributes.push(RouteAttribute::Priority(metric));
    }
    if !delete {
        if let Some(src) = r.prefsrc {
            m.attributes
                .push(RouteAttribute::PrefSource(RouteAddress::from(src)));
        }
        if let Some(mtu) = r.mtu {
            m.attributes
                .push(RouteAttribute::Metrics(vec![RouteMetric::Mtu(mtu)]));
        }
    }
    if r.kind.drops() {
        return Ok(m);
    }
    match r.nexthops.as_slice() {
        [] => {}
        [hop] => {
            if let Some(gw) = hop.gateway {
                m.attributes
                    .push(RouteAttribute::Gateway(RouteAddress::from(gw)));
            }
            if let Some(dev) = &hop.dev {
                m.attributes
                    .push(RouteAttribute::Oif(index_of(names, dev)?));
            }
            if hop.flags.onlink && !delete {
                m.header.flags.insert(RouteFlags::Onlink);
            }
        }
        hops => {
            let mut out = Vec::with_capacity(hops.len());
            for hop in hops {
                let mut nh = RouteNextHop::default();
                nh.hops = u8::try_from(hop.weight.clamp(1, 256) - 1).unwrap_or(0);
                if let Some(dev) = &hop.dev {
                    nh.interface_index = index_of(names, dev)?;
                }
                if let Some(gw) = hop.gateway {
                    nh.attributes
                        .push(RouteAttribute::Gateway(RouteAddress::from(gw)));
                }
                if hop.flags.onlink {
                    nh.flags.insert(RouteNextHopFlags::Onlink);
                }
                out.push(nh);
            }
            m.attributes.push(RouteAttribute::MultiPath(out));
        }
    }
    Ok(m)
}

/// Requests serialized back to back, and where each one ends.
#[derive(Default)]
struct Wire {
    bytes: Vec<u8>,
    /// (change index, sequence number, end offset in `bytes`), in order.
    messages: Vec<(usize, u32, usize)>,
}

impl Wire {
    /// Record the message just written for change `tag`.
    fn push(&mut self, tag: usize, seq: u32) {
        self.messages.push((tag, seq, self.bytes.len()));
    }

    /// The change a sequence number belongs to.
    fn tag_of(&self, seq: u32) -> Option<usize> {
        let first = self.messages.first()?.1;
        let at = seq.wrapping_sub(first) as usize;
        self.messages
            .get(at)
            .filter(|m| m.1 == seq)
            .or_else(|| self.messages.iter().find(|m| m.1 == seq))
            .map(|m| m.0)
    }
}

use super::route::{
    RTA_DST, RTA_GATEWAY, RTA_METRICS, RTA_OIF, RTA_PREFSRC, RTA_PRIORITY, RTA_TABLE, RTAX_MTU,
    RTM_NEWROUTE,
};
const RTM_DELROUTE: u16 = 25;
const RTNH_F_ONLINK: u32 = 4;

/// Append one netlink attribute (header, value, padding to 4 bytes).
fn put_attr(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let len = 4 + value.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize(out.len() + ((4 - len % 4) % 4), 0);
}

fn put_ip(out: &mut Vec<u8>, kind: u16, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => put_attr(out, kind, &a.octets()),
        IpAddr::V6(a) => put_attr(out, kind, &a.octets()),
    }
}

/// Append the request for a route with at most one next hop, byte for byte what
/// [`route_message`] serializes to (RTM_NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE, or
/// RTM_DELROUTE), without building the message: one per route, 100,000 of them.
fn put_route(
    out: &mut Vec<u8>,
    seq: u32,
    r: &Route,
    names: &HashMap<String, u32>,
    delete: bool,
) -> Result<(), String> {
    let start = out.len();
    let (kind, flags) = if delete {
        (RTM_DELROUTE, NLM_F_REQUEST)
    } else {
        (RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE)
    };
    // nlmsghdr; the length is filled in at the end.
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    let dst = r.dst.network();
    let hop = if r.kind.drops() {
        None
    } else {
        r.nexthops.first()
    };
    let onlink = hop.is_some_and(|h| h.flags.onlink) && !delete;
    // rtmsg.
    out.extend_from_slice(&[
        u8::from(family_of(&dst)),
        r.dst.prefix(),
        0,
        r.tos,
        u8::try_from(r.table.0).unwrap_or(RouteHeader::RT_TABLE_UNSPEC),
        r.proto.0,
        if delete {
            u8::from(RouteScope::NoWhere)
        } else {
            r.scope.number()
        },
        r.kind.number(),
    ]);
    out.extend_from_slice(&(if onlink { RTNH_F_ONLINK } else { 0 }).to_ne_bytes());
    if r.dst.prefix() > 0 {
        put_ip(out, RTA_DST, dst);
    }
    put_attr(out, RTA_TABLE, &r.table.0.to_ne_bytes());
    if let Some(metric) = r.metric {
        put_attr(out, RTA_PRIORITY, &metric.to_ne_bytes());
    }
    if !delete {
        if let Some(src) = r.prefsrc {
            put_ip(out, RTA_PREFSRC, src);
        }
        if let Some(mtu) = r.mtu {
            let mut nested = [0u8; 8];
            nested[..2].copy_from_slice(&8u16.to_ne_bytes());
            nested[2..4].copy_from_slice(&RTAX_MTU.to_ne_bytes());
            nested[4..].copy_from_slice(&mtu.to_ne_bytes());
            put_attr(out, RTA_METRICS, &nested);
        }
    }
    if let Some(hop) = hop {
        if let Some(gw) = hop.gateway {
            put_ip(out, RTA_GATEWAY, gw);
        }
        if let Some(dev) = &hop.dev {
            match index_of(names, dev) {
                Ok(index) => put_attr(out, RTA_OIF, &index.to_ne_bytes()),
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            }
        }
    }
    let len = (out.len() - start) as u32;
    out[start..start + 4].copy_from_slice(&len.to_ne_bytes());
    Ok(())
}

/// The /proc/sys path of a dotted key; device names may contain dots
/// (`net.ipv4.conf.flannel.1.forwarding`).
pub fn sysctl_path(key: &str) -> std::path::PathBuf {
    let parts: Vec<&str> = key.split('.').collect();
    let mut path = std::path::PathBuf::from("/proc/sys");
    if parts.len() > 5 && parts[0] == "net" && parts[2] == "conf" {
        for p in &parts[..3] {
            path.push(p);
        }
        path.push(parts[3..parts.len() - 1].join("."));
        path.push(parts[parts.len() - 1]);
    } else {
        for p in parts {
            path.push(p);
        }
    }
    path
}

fn write_sysctl(key: &str, value: &str) -> Result<(), String> {
    let path = sysctl_path(key);
    std::fs::write(&path, value).map_err(|e| {
        if e.kind() == io::ErrorKind::PermissionDenied {
            format!("permission denied writing {}", path.display())
        } else {
            format!("cannot write {}: {e}", path.display())
        }
    })
}

/// The agent's socket: one [`RtSocket`] used for acknowledged requests (devices) and for
/// pipelined batches (everything else).
struct Batch {
    sock: RtSocket,
}

impl Batch {
    /// Open a socket in the calling thread's netns.
    fn open() -> anyhow::Result<Batch> {
        let mut sock = RtSocket::open()?;
        // Room for many error answers of a batch.
        sock.set_rx_buf(4 * 1024 * 1024);
        Ok(Batch { sock })
    }

    fn message(
        &mut self,
        payload: RouteNetlinkMessage,
        flags: u16,
    ) -> NetlinkMessage<RouteNetlinkMessage> {
        self.sock.message(payload, flags)
    }

    /// Send one request with NLM_F_ACK and wait for its answer: `Err(errno)` on failure.
    fn request(&mut self, payload: RouteNetlinkMessage, flags: u16) -> Result<(), i32> {
        match self.sock.ack(payload, flags, "sending a netlink request") {
            Ok(None) => Ok(()),
            Ok(Some(errno)) => Err(errno),
            Err(e) => Err(e
                .chain()
                .find_map(|c| c.downcast_ref::<io::Error>())
                .and_then(io::Error::raw_os_error)
                .unwrap_or(libc::EIO)),
        }
    }

    /// Device names and indexes in this netns.
    fn link_names(&mut self) -> anyhow::Result<HashMap<String, u32>> {
        Ok(self
            .sock
            .links()?
            .into_iter()
            .map(|l| (l.name, l.ifindex))
            .collect())
    }

    /// The next sequence number.
    fn next_seq(&mut self) -> u32 {
        self.sock.next_seq()
    }

    /// Send every message without waiting for acknowledgements, many per `sendmsg`; the
    /// kernel answers only the failures. Returns `(tag, errno)` for each failure.
    fn send_batch(&mut self, wire: &Wire) -> anyhow::Result<Vec<(usize, i32)>> {
        let mut failures = Vec::new();
        let (mut from, mut i) = (0, 0);
        while i < wire.messages.len() {
            // Whole messages, up to CHUNK_BYTES (at least one).
            let mut to = wire.messages[i].2;
            i += 1;
            while i < wire.messages.len() && wire.messages[i].2 - from <= CHUNK_BYTES {
                to = wire.messages[i].2;
                i += 1;
            }
            self.sock
                .send_bytes(&wire.bytes[from..to], "sending a batch of netlink requests")?;
            from = to;
            self.drain_errors(wire, &mut failures)?;
        }
        Ok(failures)
    }

    /// Collect the error answers already queued (the kernel processed the batch inside
    /// `sendmsg`, so they are all there).
    fn drain_errors(
        &mut self,
        wire: &Wire,
        failures: &mut Vec<(usize, i32)>,
    ) -> anyhow::Result<()> {
        let drained = self.sock.drain_errors(|seq, errno| {
            if let Some(tag) = wire.tag_of(seq) {
                failures.push((tag, errno));
            }
        });
        match drained {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                anyhow::bail!(
                    "the kernel reported more failures than fit in the socket buffer; \
                     some changes failed (re-run to see which)"
                )
            }
            Err(e) => Err(e).context("reading netlink answers"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{NetlinkHeader, NetlinkPayload};

    use crate::dataplane::{Nexthop, Protocol, RouteType, Scope, Table};

    /// What the library serializes for the same request.
    fn library_bytes(r: &Route, names: &HashMap<String, u32>, delete: bool, seq: u32) -> Vec<u8> {
        let m = route_message(r, names, delete).unwrap();
        let (payload, flags) = if delete {
            (RouteNetlinkMessage::DelRoute(m), 0)
        } else {
            (
                RouteNetlinkMessage::NewRoute(m),
                NLM_F_CREATE | NLM_F_REPLACE,
            )
        };
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = seq;
        let mut m = NetlinkMessage::new(header, NetlinkPayload::from(payload));
        m.finalize();
        let mut out = vec![0u8; m.buffer_len()];
        m.serialize(&mut out);
        out
    }

    #[test]
    fn hand_serialized_routes_match_the_library() {
        let names: HashMap<String, u32> = [("eth0", 2), ("flannel.1", 7), ("vxlan.calico", 300)]
            .into_iter()
            .map(|(n, i)| (n.to_string(), i))
            .collect();
        let via = |dst: &str, gw: &str, dev: &str| {
            let mut r =
                Route::unicast(dst.parse().unwrap(), Nexthop::via(gw.parse().unwrap(), dev));
            r.proto = Protocol(158);
            r
        };
        let mut routes = vec![
            via("10.244.2.0/24", "192.168.77.2", "eth0"),
            via("10.244.3.0/24", "10.244.3.0", "flannel.1"),
            Route::unicast("10.65.0.2/32".parse().unwrap(), Nexthop::dev("eth0")),
            Route::drop(
                RouteType::Blackhole,
                "10.65.0.0/26".parse().unwrap(),
                Protocol::FELIX,
            ),
            via("0.0.0.0/0", "192.168.77.1", "eth0"),
            via("fd00:1::/64", "fe80::1", "eth0"),
            via("2001:db8::5/128", "2001:db8::1", "vxlan.calico"),
        ];
        routes[1].nexthops[0].flags.onlink = true;
        let mut calico = via("10.65.1.0/26", "10.65.1.0", "vxlan.calico");
        calico.nexthops[0].flags.onlink = true;
        calico.mtu = Some(1410);
        calico.metric = Some(20);
        calico.prefsrc = Some("10.65.0.1".parse().unwrap());
        calico.table = Table(1000);
        calico.tos = 0x10;
        calico.scope = Scope::Link;
        routes.push(calico);
        let mut small_table = via("10.9.0.0/16", "192.168.77.9", "eth0");
        small_table.table = Table(100);
        routes.push(small_table);
        for (n, r) in routes.iter().enumerate() {
            for delete in [false, true] {
                let seq = 1000 + n as u32;
                let mut mine = vec![0xaa; 3];
                put_route(&mut mine, seq, r, &names, delete).unwrap();
                assert_eq!(
                    &mine[3..],
                    library_bytes(r, &names, delete, seq).as_slice(),
                    "{r} (delete: {delete})"
                );
            }
        }
        // An unknown device: an error, and nothing left half-written.
        let mut out = vec![1, 2, 3];
        let r = via("10.1.0.0/16", "192.168.77.2", "nosuch0");
        assert!(put_route(&mut out, 1, &r, &names, false).is_err());
        assert_eq!(out, vec![1, 2, 3]);
    }

    #[test]
    fn failures_find_their_change_by_sequence_number() {
        let mut wire = Wire::default();
        for (tag, seq) in [(3, 10), (4, 11), (7, 12), (9, u32::MAX), (10, 0)] {
            wire.bytes.extend_from_slice(&[0; 4]);
            wire.push(tag, seq);
        }
        assert_eq!(wire.tag_of(11), Some(4));
        assert_eq!(wire.tag_of(12), Some(7));
        assert_eq!(wire.tag_of(0), Some(10));
        assert_eq!(wire.tag_of(13), None);
    }

    #[test]
    fn sysctl_paths_keep_dotted_device_names() {
        assert_eq!(
            sysctl_path("net.ipv4.ip_forward"),
            std::path::PathBuf::from("/proc/sys/net/ipv4/ip_forward")
        );
        assert_eq!(
            sysctl_path("net.ipv4.conf.flannel.1.forwarding"),
            std::path::PathBuf::from("/proc/sys/net/ipv4/conf/flannel.1/forwarding")
        );
        assert_eq!(
            sysctl_path("net.ipv4.conf.eth0.rp_filter"),
            std::path::PathBuf::from("/proc/sys/net/ipv4/conf/eth0/rp_filter")
        );
    }
}
