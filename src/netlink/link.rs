//! Links, addresses and netns ids, read over the synchronous [`RtSocket`] (parsed
//! messages).
//!
//! [`for_each_netns`] reads many namespaces at once, on a few worker threads that enter
//! them one after the other and end when done.

use std::collections::HashMap;
use std::fs::File;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

use anyhow::Context;
use ipnetwork::IpNetwork;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoBridgePort, InfoData, InfoIpTunnel, InfoKind, InfoPortData, InfoVxlan, LinkAttribute,
    LinkExtentMask, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};

use super::Netns;
pub use super::socket::RtSocket;
use crate::dataplane::{Addr, Link, LinkKind, MacAddr, Scope, Veth, Vxlan};
use crate::error::refused;

impl RtSocket {
    /// Every link (`ip -d link`), with kind data and master names.
    pub fn links(&mut self) -> anyhow::Result<Vec<Link>> {
        // Statistics are most of a link message and `pods` never uses them (Linux 4.20+
        // honours this; older kernels send them anyway).
        let mut req = LinkMessage::default();
        req.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let msgs = self.dump(RouteNetlinkMessage::GetLink(req), "listing links")?;
        let links: Vec<LinkMessage> = msgs
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            .collect();
        let names: HashMap<u32, String> = links
            .iter()
            .filter_map(|l| link_name(l).map(|n| (l.header.index, n.to_string())))
            .collect();
        Ok(links.iter().map(|l| link_from_message(l, &names)).collect())
    }

    /// Every address (`ip addr`); device names come from a link dump.
    pub fn addrs(&mut self) -> anyhow::Result<Vec<Addr>> {
        let links = self.links()?;
        self.addrs_of(&links)
    }

    /// Every address, naming devices from `links` (a dump of the same netns).
    pub fn addrs_of(&mut self, links: &[Link]) -> anyhow::Result<Vec<Addr>> {
        let names = names_by_index(links);
        let msgs = self.dump(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            "listing addresses",
        )?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => addr_from_message(&a, &names),
                _ => None,
            })
            .collect())
    }

    /// The id this socket's netns gives the netns open as `fd` (`ip netns list-id`), or
    /// `None` when it has given it none. The kernel assigns ids lazily, e.g. when it reports
    /// a veth whose peer lives there, so ask after a link dump.
    pub fn nsid_of(&mut self, fd: BorrowedFd<'_>) -> anyhow::Result<Option<i32>> {
        let raw = u32::try_from(fd.as_raw_fd()).context("a negative file descriptor")?;
        let mut msg = NsidMessage::default();
        msg.attributes.push(NsidAttribute::Fd(raw));
        self.ask_nsid(msg)
    }

    /// The id this socket's netns gives the netns of process `pid`, or `None` when it has
    /// given it none. Unlike opening `/proc/<pid>/ns/net`, this needs no access to the
    /// process.
    pub fn nsid_of_pid(&mut self, pid: u32) -> anyhow::Result<Option<i32>> {
        let mut msg = NsidMessage::default();
        msg.attributes.push(NsidAttribute::Pid(pid));
        self.ask_nsid(msg)
    }

    fn ask_nsid(&mut self, msg: NsidMessage) -> anyhow::Result<Option<i32>> {
        let reply = self.request(RouteNetlinkMessage::GetNsId(msg), "asking the netns id")?;
        let RouteNetlinkMessage::NewNsId(reply) = reply else {
            anyhow::bail!("asking the netns id: the kernel answered with another message");
        };
        Ok(reply
            .attributes
            .iter()
            .find_map(|a| match a {
                NsidAttribute::Id(id) if *id >= 0 => Some(Some(*id)),
                NsidAttribute::Id(_) => Some(None),
                _ => None,
            })
            .flatten())
    }
}

/// Every link of `netns` (`ip -d link`).
pub fn links(netns: &Netns) -> anyhow::Result<Vec<Link>> {
    RtSocket::open_in(netns)?.links()
}

/// Every address of `netns` (`ip addr`).
pub fn addrs(netns: &Netns) -> anyhow::Result<Vec<Addr>> {
    RtSocket::open_in(netns)?.addrs()
}

/// The id `netns` gives the netns open as `fd`, or `None` when it has given it none.
pub fn nsid_of(netns: &Netns, fd: BorrowedFd<'_>) -> anyhow::Result<Option<i32>> {
    RtSocket::open_in(netns)?.nsid_of(fd)
}

/// Run `f` with a socket inside each namespace of `namespaces` (open netns files), on a few
/// worker threads that enter them one after the other and end afterwards; the calling
/// thread never leaves its netns. Results come back in the order of `namespaces`.
pub fn for_each_netns<T, F>(namespaces: &[&File], f: F) -> Vec<anyhow::Result<T>>
where
    T: Send,
    F: Fn(&mut RtSocket) -> anyhow::Result<T> + Sync,
{
    let n = namespaces.len();
    if n == 0 {
        return Vec::new();
    }
    let workers = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(2)
        .clamp(1, 4)
        .min(n);
    let f = &f;
    let mut slots: Vec<Option<anyhow::Result<T>>> = (0..n).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    for i in (w..n).step_by(workers) {
                        out.push((
                            i,
                            enter(namespaces[i]).and_then(|()| {
                                let mut sock = RtSocket::open()?;
                                f(&mut sock)
                            }),
                        ));
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            // A panicked worker leaves its slots empty: reported below.
            if let Ok(done) = h.join() {
                for (i, r) in done {
                    slots[i] = Some(r);
                }
            }
        }
    });
    slots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Err(anyhow::anyhow!("a netns worker thread panicked"))))
        .collect()
}

/// Move the calling (worker) thread into the netns open as `file`.
fn enter(file: &File) -> anyhow::Result<()> {
    // SAFETY: setns on a valid fd we borrow; affects only the calling thread, which is a
    // worker made for this and ends after its batch.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    Err(match e.raw_os_error() {
        Some(libc::EPERM) => refused("cannot enter the netns: permission denied; run as root"),
        Some(libc::EINVAL) => refused("cannot enter the netns: not a network namespace file"),
        _ => refused(format!("cannot enter the netns: {e}")),
    })
}

/// Map ifindex → name for a link list.
pub fn names_by_index(links: &[Link]) -> HashMap<u32, String> {
    links.iter().map(|l| (l.ifindex, l.name.clone())).collect()
}

pub(crate) fn link_name(msg: &LinkMessage) -> Option<&str> {
    msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

/// Convert a kernel link message; `names` (ifindex → name, of the same netns) names the
/// master and a vxlan's underlying device.
pub fn link_from_message(msg: &LinkMessage, names: &HashMap<u32, String>) -> Link {
    let mut name = String::new();
    let mut mtu = 0;
    let mut mac = None;
    let mut oper_state = None;
    let mut master = None;
    let mut iflink = None;
    let mut link_netnsid = None;
    let mut kind: Option<&InfoKind> = None;
    let mut data: Option<&InfoData> = None;
    let mut hairpin = None;
    for a in &msg.attributes {
        match a {
            LinkAttribute::IfName(n) => name = n.clone(),
            LinkAttribute::Mtu(m) => mtu = *m,
            LinkAttribute::Address(b) => mac = MacAddr::from_slice(b),
            LinkAttribute::OperState(s) => oper_state = Some(s.to_string().to_lowercase()),
            LinkAttribute::Controller(i) => master = Some(*i),
            LinkAttribute::Link(i) => iflink = Some(*i),
            LinkAttribute::LinkNetNsId(i) => link_netnsid = Some(*i),
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    match info {
                        LinkInfo::Kind(k) => kind = Some(k),
                        LinkInfo::Data(d) => data = Some(d),
                        LinkInfo::PortData(InfoPortData::BridgePort(port)) => {
                            hairpin = port.iter().find_map(|p| match p {
                                InfoBridgePort::HairpinMode(on) => Some(*on),
                                _ => None,
                            });
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let flags = msg.header.flags;
    let kind = match kind {
        Some(InfoKind::Veth) => LinkKind::Veth(Veth {
            peer_ifindex: iflink.filter(|i| *i != 0),
            peer_netnsid: link_netnsid.filter(|i| *i >= 0),
        }),
        Some(InfoKind::Bridge) => LinkKind::Bridge,
        Some(InfoKind::Vxlan) => LinkKind::Vxlan(vxlan_from(data, names)),
        Some(InfoKind::IpIp) => {
            let (local, remote) = tunnel_ends(data);
            LinkKind::Ipip { local, remote }
        }
        Some(k) => LinkKind::Other {
            name: k.to_string(),
        },
        None if flags.contains(LinkFlags::Loopback) => LinkKind::Loopback,
        None => LinkKind::Device,
    };
    Link {
        ifindex: msg.header.index,
        name,
        kind,
        mtu,
        mac,
        up: flags.contains(LinkFlags::Up),
        oper_state,
        master: master.and_then(|i| names.get(&i).cloned()),
        hairpin,
    }
}

fn vxlan_from(data: Option<&InfoData>, names: &HashMap<u32, String>) -> Vxlan {
    let mut v = Vxlan {
        vni: 0,
        port: 8472,
        local: None,
        dev: None,
        learning: true,
    };
    if let Some(InfoData::Vxlan(attrs)) = data {
        for a in attrs {
            match a {
                InfoVxlan::Id(id) => v.vni = *id,
                InfoVxlan::Port(p) => v.port = *p,
                InfoVxlan::Local(ip) => v.local = Some(IpAddr::V4(*ip)),
                InfoVxlan::Local6(ip) => v.local = Some(IpAddr::V6(*ip)),
                InfoVxlan::Link(i) => v.dev = names.get(i).cloned(),
                InfoVxlan::Learning(l) => v.learning = *l,
                _ => {}
            }
        }
    }
    v
}

fn tunnel_ends(data: Option<&InfoData>) -> (Option<IpAddr>, Option<IpAddr>) {
    let (mut local, mut remote) = (None, None);
    if let Some(InfoData::IpTunnel(attrs)) = data {
        for a in attrs {
            match a {
                InfoIpTunnel::Local(ip) if !ip.is_unspecified() => local = Some(*ip),
                InfoIpTunnel::Remote(ip) if !ip.is_unspecified() => remote = Some(*ip),
                _ => {}
            }
        }
    }
    (local, remote)
}

/// Convert a kernel address message; `None` for one without an address or on a device
/// not in `names`.
pub fn addr_from_message(msg: &AddressMessage, names: &HashMap<u32, String>) -> Option<Addr> {
    let mut local = None;
    let mut address = None;
    for a in &msg.attributes {
        match a {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            _ => {}
        }
    }
    // IPv4: IFA_LOCAL is the address (IFA_ADDRESS the peer on point-to-point links).
    let ip = local.or(address)?;
    let addr = IpNetwork::new(ip, msg.header.prefix_len).ok()?;
    Some(Addr {
        dev: names.get(&msg.header.index)?.clone(),
        addr,
        scope: Scope::from_number(u8::from(msg.header.scope)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::AddressFamily;
    use netlink_packet_route::address::AddressScope;

    fn veth_msg(index: u32, name: &str, peer: u32, nsid: i32, master: Option<u32>) -> LinkMessage {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.flags = LinkFlags::Up | LinkFlags::Broadcast;
        m.attributes.push(LinkAttribute::IfName(name.into()));
        m.attributes.push(LinkAttribute::Mtu(1450));
        m.attributes.push(LinkAttribute::Address(vec![
            0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
        ]));
        m.attributes.push(LinkAttribute::Link(peer));
        m.attributes.push(LinkAttribute::LinkNetNsId(nsid));
        if let Some(i) = master {
            m.attributes.push(LinkAttribute::Controller(i));
        }
        m.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Veth,
            )]));
        m
    }

    #[test]
    fn veth_peer_and_master() {
        let names: HashMap<u32, String> = [(3, "cni0".to_string())].into();
        let l = link_from_message(&veth_msg(7, "veth1a2b3c4d", 2, 4, Some(3)), &names);
        assert_eq!(l.name, "veth1a2b3c4d");
        assert_eq!(l.mtu, 1450);
        assert!(l.up);
        assert_eq!(l.master.as_deref(), Some("cni0"));
        assert_eq!(l.mac, Some(crate::cni::calico::HOST_VETH_MAC));
        assert_eq!(
            l.kind,
            LinkKind::Veth(Veth {
                peer_ifindex: Some(2),
                peer_netnsid: Some(4)
            })
        );
    }

    #[test]
    fn unknown_master_and_negative_nsid() {
        let l = link_from_message(&veth_msg(7, "cali0", 2, -1, Some(99)), &HashMap::new());
        assert_eq!(l.master, None);
        assert_eq!(
            l.kind,
            LinkKind::Veth(Veth {
                peer_ifindex: Some(2),
                peer_netnsid: None
            })
        );
    }

    #[test]
    fn vxlan_data() {
        let mut m = LinkMessage::default();
        m.header.index = 5;
        m.attributes.push(LinkAttribute::IfName("flannel.1".into()));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Vxlan),
            LinkInfo::Data(InfoData::Vxlan(vec![
                InfoVxlan::Id(1),
                InfoVxlan::Port(8472),
                InfoVxlan::Link(2),
                InfoVxlan::Learning(false),
                InfoVxlan::Local("192.0.2.10".parse().unwrap()),
            ])),
        ]));
        let names: HashMap<u32, String> = [(2, "eth0".to_string())].into();
        let l = link_from_message(&m, &names);
        let LinkKind::Vxlan(v) = l.kind else {
            panic!("not vxlan: {:?}", l.kind)
        };
        assert_eq!(
            (v.vni, v.port, v.dev.as_deref(), v.learning),
            (1, 8472, Some("eth0"), false)
        );
        assert_eq!(v.local, Some("192.0.2.10".parse().unwrap()));
        assert!(!l.up);
    }

    #[test]
    fn loopback_and_plain_device() {
        let mut m = LinkMessage::default();
        m.header.flags = LinkFlags::Loopback | LinkFlags::Up;
        m.attributes.push(LinkAttribute::IfName("lo".into()));
        assert_eq!(
            link_from_message(&m, &HashMap::new()).kind,
            LinkKind::Loopback
        );
        m.header.flags = LinkFlags::Up;
        assert_eq!(
            link_from_message(&m, &HashMap::new()).kind,
            LinkKind::Device
        );
    }

    #[test]
    fn ipv4_address_prefers_local() {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.prefix_len = 32;
        m.header.index = 2;
        m.header.scope = AddressScope::Universe;
        m.attributes
            .push(AddressAttribute::Address("10.65.0.9".parse().unwrap()));
        m.attributes
            .push(AddressAttribute::Local("10.65.0.2".parse().unwrap()));
        let names: HashMap<u32, String> = [(2, "eth0".to_string())].into();
        let a = addr_from_message(&m, &names).unwrap();
        assert_eq!(a.addr.to_string(), "10.65.0.2/32");
        assert_eq!(a.dev, "eth0");
        assert_eq!(a.scope, Scope::Universe);
        assert!(addr_from_message(&m, &HashMap::new()).is_none());
    }
}
