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
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, NetlinkHeader,
    NetlinkMessage, NetlinkPayload,
};
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
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use rtnetlink::{LinkBridge, LinkIpIp, LinkMessageBuilder, LinkUnspec, LinkVxlan};

use super::Netns;
use crate::dataplane::{Addr, FdbEntry, Link, LinkKind, Neighbour, Route};
use crate::diff::{Change, vxlan_port};
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

/// Apply `changes` (in the order given: see [`crate::diff::Phase`]) in `netns`.
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
    // Everything else, pipelined.
    let mut batch: Vec<(usize, NetlinkMessage<RouteNetlinkMessage>)> = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        let built = match change {
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
            Change::DeleteNeighbour(n) => {
                neigh_message(n, &names).map(|m| (RouteNetlinkMessage::DelNeighbour(m), 0))
            }
            Change::ReplaceFdb(e) => fdb_message(e, &names).map(|m| {
                (
                    RouteNetlinkMessage::NewNeighbour(m),
                    NLM_F_CREATE | NLM_F_REPLACE,
                )
            }),
            Change::DeleteFdb(e) => {
                fdb_message(e, &names).map(|m| (RouteNetlinkMessage::DelNeighbour(m), 0))
            }
            Change::ReplaceRoute(r) => route_message(r, &names, false).map(|m| {
                (
                    RouteNetlinkMessage::NewRoute(m),
                    NLM_F_CREATE | NLM_F_REPLACE,
                )
            }),
            Change::DeleteRoute(r) => {
                route_message(r, &names, true).map(|m| (RouteNetlinkMessage::DelRoute(m), 0))
            }
            _ => continue,
        };
        match built {
            Ok((payload, flags)) => batch.push((i, sock.message(payload, flags))),
            Err(e) => report.failed.push((i, e)),
        }
    }
    let failures = sock.send_batch(&batch)?;
    let failed_at: HashMap<usize, i32> = failures.iter().copied().collect();
    for (i, _) in &batch {
        match failed_at.get(i) {
            None => report.done.push(*i),
            Some(&errno) => {
                if errno == libc::EPERM || errno == libc::EACCES {
                    return Err(refused(format!(
                        "{}: permission denied; run as root",
                        changes[*i].describe()
                    )));
                }
                report.failed.push((*i, errno_text(errno, &changes[*i])));
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

/// A synchronous rtnetlink socket that pipelines requests.
struct Batch {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Batch {
    /// Open a socket in the calling thread's netns.
    fn open() -> anyhow::Result<Batch> {
        let mut sock = Socket::new(NETLINK_ROUTE)
            .map_err(|e| refused(format!("cannot open a netlink socket: {e}")))?;
        sock.bind_auto().context("binding the netlink socket")?;
        sock.connect(&SocketAddr::new(0, 0))
            .context("connecting the netlink socket")?;
        // Small acknowledgements (no echo of the request), and room for many errors.
        let _ = sock.set_cap_ack(true);
        let _ = sock.set_rx_buf_sz(4 * 1024 * 1024);
        Ok(Batch {
            sock,
            seq: 0,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    fn message(
        &mut self,
        payload: RouteNetlinkMessage,
        flags: u16,
    ) -> NetlinkMessage<RouteNetlinkMessage> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.seq;
        let mut m = NetlinkMessage::new(header, NetlinkPayload::from(payload));
        m.finalize();
        m
    }

    fn send_one(&mut self, m: &NetlinkMessage<RouteNetlinkMessage>) -> io::Result<()> {
        let mut out = vec![0u8; m.buffer_len()];
        m.serialize(&mut out);
        self.sock.send(&out, 0)?;
        Ok(())
    }

    /// Receive one datagram and parse the messages in it.
    fn recv(&mut self, flags: libc::c_int) -> io::Result<Vec<NetlinkMessage<RouteNetlinkMessage>>> {
        self.buf.clear();
        self.buf.reserve(256 * 1024);
        self.sock.recv(&mut self.buf, flags)?;
        let mut out = Vec::new();
        let mut off = 0;
        while off + 16 <= self.buf.len() {
            let len = u32::from_ne_bytes([
                self.buf[off],
                self.buf[off + 1],
                self.buf[off + 2],
                self.buf[off + 3],
            ]) as usize;
            if len < 16 || off + len > self.buf.len() {
                break;
            }
            if let Ok(m) =
                NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.buf[off..off + len])
            {
                out.push(m);
            }
            off += (len + 3) & !3;
        }
        Ok(out)
    }

    /// Send one request with NLM_F_ACK and wait for its answer: `Err(errno)` on failure.
    fn request(&mut self, payload: RouteNetlinkMessage, flags: u16) -> Result<(), i32> {
        let m = self.message(payload, flags | NLM_F_ACK);
        let seq = m.header.sequence_number;
        self.send_one(&m)
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        loop {
            let msgs = self
                .recv(0)
                .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
            for m in msgs {
                if m.header.sequence_number != seq {
                    continue;
                }
                if let NetlinkPayload::Error(e) = m.payload {
                    return match e.code {
                        Some(code) => Err(-code.get()),
                        None => Ok(()),
                    };
                }
            }
        }
    }

    /// Device names and indexes in this netns.
    fn link_names(&mut self) -> anyhow::Result<HashMap<String, u32>> {
        let m = self.message(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        );
        let seq = m.header.sequence_number;
        self.send_one(&m)
            .context("asking the kernel for its devices")?;
        let mut names = HashMap::new();
        loop {
            for m in self.recv(0).context("reading the device list")? {
                if m.header.sequence_number != seq {
                    continue;
                }
                match m.payload {
                    NetlinkPayload::Done(_) => return Ok(names),
                    NetlinkPayload::Error(e) => {
                        if let Some(code) = e.code {
                            anyhow::bail!(
                                "listing devices: the kernel said {}",
                                io::Error::from_raw_os_error(-code.get())
                            );
                        }
                    }
                    NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => {
                        for attr in link.attributes {
                            if let LinkAttribute::IfName(name) = attr {
                                names.insert(name, link.header.index);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Send every message without waiting for acknowledgements, many per `sendmsg`; the
    /// kernel answers only the failures. Returns `(tag, errno)` for each failure.
    fn send_batch(
        &mut self,
        batch: &[(usize, NetlinkMessage<RouteNetlinkMessage>)],
    ) -> anyhow::Result<Vec<(usize, i32)>> {
        let by_seq: HashMap<u32, usize> = batch
            .iter()
            .map(|(tag, m)| (m.header.sequence_number, *tag))
            .collect();
        let mut failures = Vec::new();
        let mut out: Vec<u8> = Vec::with_capacity(CHUNK_BYTES + 4096);
        let mut i = 0;
        while i < batch.len() {
            out.clear();
            while i < batch.len() {
                let m = &batch[i].1;
                let len = m.buffer_len();
                if !out.is_empty() && out.len() + len > CHUNK_BYTES {
                    break;
                }
                let start = out.len();
                out.resize(start + len, 0);
                m.serialize(&mut out[start..]);
                i += 1;
            }
            self.sock
                .send(&out, 0)
                .context("sending a batch of netlink requests")?;
            self.drain_errors(&by_seq, &mut failures)?;
        }
        Ok(failures)
    }

    /// Collect the error answers already queued (the kernel processed the batch inside
    /// `sendmsg`, so they are all there).
    fn drain_errors(
        &mut self,
        by_seq: &HashMap<u32, usize>,
        failures: &mut Vec<(usize, i32)>,
    ) -> anyhow::Result<()> {
        loop {
            match self.recv(libc::MSG_DONTWAIT) {
                Ok(msgs) => {
                    for m in msgs {
                        if let NetlinkPayload::Error(e) = m.payload {
                            if let (Some(code), Some(tag)) =
                                (e.code, by_seq.get(&m.header.sequence_number))
                            {
                                failures.push((*tag, -code.get()));
                            }
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    anyhow::bail!(
                        "the kernel reported more failures than fit in the socket buffer; \
                         some changes failed (re-run to see which)"
                    )
                }
                Err(e) => return Err(e).context("reading netlink answers"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
