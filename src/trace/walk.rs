//! The walk: one packet from host to host through a [`World`], each step a route lookup,
//! a neighbour or FDB resolution, an encapsulation, a bridge or a veth, until it is
//! delivered, leaves, or is dropped.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::cni::{IPIP_OVERHEAD, VXLAN_OVERHEAD};
use crate::dataplane::kernel::{Decision, RouteQuery, RpFilter, rule_matches};
use crate::dataplane::{Family, LinkKind, MacAddr, Route, RouteType};
use crate::world::{Host, HostId, HostKind, World};

mod nat;
pub(super) use nat::{Dnat, DnatTo, Nat};

use super::{
    Action, DEFAULT_TTL, Encap, Hop, Packet, Path, Proto, Reason, Refusal, Resolution, Verdict,
};

/// The reverse-path filter's verdict on a packet from `src` arriving on `dev`, as the
/// kernel model gives it: `None` when it passes.
fn rp_filter_drop(host: &Host, dev: &str, src: IpAddr) -> Option<Reason> {
    let mode = host.rp_refuses(dev, src)?;
    Some(Reason::RpFilter {
        dev: dev.to_string(),
        src,
        strict: mode == RpFilter::Strict,
        back: host.lookup(src).map(|r| r.to_string()),
    })
}

/// True when the kernel refuses to install `r` on `host`: a gateway that no connected route
/// of its device covers, without onlink (`Network is unreachable`); tunnels excepted.
fn refused_by_kernel(host: &Host, r: &Route) -> bool {
    if r.kind != RouteType::Unicast {
        return false;
    }
    let Some(nh) = r.first_hop() else {
        return false;
    };
    let (Some(gw), Some(dev)) = (nh.gateway, nh.dev.as_deref()) else {
        return false;
    };
    if nh.flags.onlink
        || host
            .link(dev)
            .is_none_or(|l| matches!(l.kind, LinkKind::Ipip { .. }))
    {
        return false;
    }
    !host.lookup(gw).is_some_and(|c| {
        c.gateway().is_none() && c.dev() == Some(dev) && c.kind == RouteType::Unicast
    })
}

const MAX_STEPS: usize = 256;

/// A packet inside a tunnel, waiting for decapsulation.
struct Inner {
    pkt: Packet,
    encap: Encap,
}

struct Walker<'w, 'a> {
    world: &'w World<'a>,
    hops: Vec<Hop>,
    host: HostId,
    in_dev: Option<String>,
    pkt: Packet,
    stack: Vec<Inner>,
    nat: Nat,
    refused: Option<Refusal>,
}

enum Step {
    Continue,
    Done(Verdict),
}

/// Walk one packet (the first of a connection) from host `start` until it is delivered,
/// leaves, or is dropped.
pub fn walk(world: &World, start: HostId, packet: Packet) -> Path {
    // A new connection meets the nodes' masquerade rules wherever it leaves a node on the
    // underlay; their own scope decides (flannel: any destination outside the Network, node
    // IPs included; Calico natOutgoing: outside every pool).
    let nat = Nat {
        masquerade: true,
        ..Nat::default()
    };
    walk_with(world, start, None, packet, nat)
}

/// Walk a packet that starts on host `start`: sent by it, or, with `entry`, received on
/// device `.0` from the outside gateway `.1`.
pub(super) fn walk_with(
    world: &World,
    start: HostId,
    entry: Option<(String, IpAddr)>,
    packet: Packet,
    nat: Nat,
) -> Path {
    let mut w = Walker {
        world,
        hops: Vec::with_capacity(16),
        host: start,
        in_dev: None,
        pkt: packet,
        stack: Vec::new(),
        nat,
        refused: None,
    };
    let mut seen: HashMap<(HostId, usize, IpAddr, IpAddr), usize> = HashMap::new();
    let mut sent = false;
    let mut first_src_pending = packet.src.is_unspecified();
    let mut verdict = None;
    for _ in 0..MAX_STEPS {
        let key = (w.host, w.stack.len(), w.pkt.src, w.pkt.dst);
        if let Some(&at) = seen.get(&key) {
            let mut hosts: Vec<String> = w.hops[at..].iter().map(|h| h.host.clone()).collect();
            hosts.dedup();
            hosts.push(w.world.name(w.host).to_string());
            verdict = Some(w.drop(None, Reason::RoutingLoop { hosts }));
            break;
        }
        seen.insert(key, w.hops.len());
        if !sent {
            sent = true;
            match &entry {
                None => {
                    w.hop(None, Action::Send);
                }
                Some((dev, gateway)) => {
                    w.hop(Some(dev), Action::Enter { gateway: *gateway });
                    let bridge = world.host(start).link(dev).and_then(|l| l.master.clone());
                    w.in_dev = Some(bridge.clone().unwrap_or_else(|| dev.clone()));
                    w.hop(Some(dev), Action::Receive { bridge });
                }
            }
        }
        match w.step(&mut first_src_pending) {
            Step::Continue => {}
            Step::Done(v) => {
                verdict = Some(v);
                break;
            }
        }
    }
    let verdict = verdict.unwrap_or_else(|| w.drop(None, Reason::TtlExpired));
    let mut pkt = packet;
    if let Some(h) = w
        .hops
        .iter()
        .find(|h| h.depth == 0 && !h.src.is_unspecified())
    {
        pkt.src = h.src;
    }
    Path {
        from: world.name(start).to_string(),
        packet: pkt,
        hops: w.hops,
        verdict,
    }
}

impl Walker<'_, '_> {
    fn hop(&mut self, device: Option<&str>, action: Action) -> &mut Hop {
        self.hops.push(Hop {
            host: self.world.name(self.host).to_string(),
            host_kind: self.world.kind(self.host),
            device: device.map(str::to_string),
            action,
            route: None,
            encap: None,
            mtu: None,
            ttl: self.pkt.ttl,
            size: self.pkt.size,
            src: self.pkt.src,
            dst: self.pkt.dst,
            depth: self.stack.len(),
            source: self.world.source(self.host),
            expected: None,
            kernel: None,
        });
        let last = self.hops.len() - 1;
        &mut self.hops[last]
    }

    fn drop(&mut self, device: Option<&str>, reason: Reason) -> Verdict {
        self.hop(device, Action::Drop);
        Verdict::Dropped {
            host: self.world.name(self.host).to_string(),
            device: device.map(str::to_string),
            reason,
            after: self.refused.clone().map(Box::new),
        }
    }

    /// The drop of a route lookup that ended on no route: a policy rule's own action
    /// (blackhole, unreachable, prohibit), else no route at all.
    fn lookup_drop(&mut self, host: &Host, query: &RouteQuery, end: Decision) -> Verdict {
        let rule = match end {
            Decision::RuleDrops { action, priority } => host
                .rules(Family::of(&query.dst))
                .iter()
                .find(|r| r.priority == priority && r.action == action && rule_matches(r, query)),
            _ => None,
        };
        let reason = match rule {
            Some(rule) => Reason::PolicyRule {
                rule: rule.to_string().replace('\t', " "),
            },
            None => Reason::NoRoute { dst: query.dst },
        };
        self.drop(None, reason)
    }

    fn step(&mut self, first_src_pending: &mut bool) -> Step {
        let world = self.world;
        if let Some((at, to, from)) = self.nat.restore {
            if at == self.host && self.stack.is_empty() && self.pkt.dst == to {
                self.nat.restore = None;
                let dev = self.in_dev.clone();
                self.hop(dev.as_deref(), Action::Unmasquerade { from: to, to: from });
                self.pkt.dst = from;
            }
        }
        if let Some(end) = self.kube_proxy() {
            return end;
        }
        let host = world.host(self.host);
        // 0. The reverse-path filter of the receiving device (the kernel checks it in the
        // input route lookup, for local delivery and forwarding alike).
        if let Some(dev) = self.in_dev.clone() {
            if let Some(reason) = rp_filter_drop(host, &dev, self.pkt.src) {
                return Step::Done(self.drop(Some(&dev), reason));
            }
        }
        self.reverse_dnat();
        // 1. Is it for this host?
        if host.owns(self.pkt.dst).is_some() {
            return self.local_delivery();
        }
        // 2. Forwarding.
        if let Some(dev) = self.in_dev.clone() {
            if !host.forwards(&dev) {
                return Step::Done(
                    self.drop(Some(&dev), Reason::ForwardingDisabled { dev: dev.clone() }),
                );
            }
            if self.pkt.ttl <= 1 {
                return Step::Done(self.drop(Some(&dev), Reason::TtlExpired));
            }
            self.pkt.ttl -= 1;
        }
        // 3. Route lookup, through the host's policy rules: a forwarded packet is looked up
        // as arriving on its device from its source (`ip route get DST from SRC iif DEV`),
        // one the host sends as an output lookup. A planned route the kernel would have
        // refused does not exist: the lookup falls through to the next route (often the
        // default route).
        let query = RouteQuery {
            src: self.in_dev.as_ref().map(|_| self.pkt.src),
            iif: self.in_dev.clone(),
            ..RouteQuery::to(self.pkt.dst)
        };
        let mut route = match host.decide(&query, &|_| true) {
            Decision::Route { route, .. } => route,
            end => return Step::Done(self.lookup_drop(host, &query, end)),
        };
        if !world.source(self.host).is_real() && refused_by_kernel(host, route) {
            let gateway = route.gateway().unwrap_or(self.pkt.dst);
            let dev = route.dev().unwrap_or_default().to_string();
            let h = self.hop(Some(&dev), Action::Refused { gateway });
            h.route = Some(route.clone());
            let end = host.decide(&query, &|r| !refused_by_kernel(host, r));
            let next = end.route();
            if self.refused.is_none() {
                self.refused = Some(Refusal {
                    host: world.name(self.host).to_string(),
                    route: route.to_string(),
                    gateway,
                    dev: dev.clone(),
                    instead: next.map_or_else(|| "no route".into(), |r| r.to_string()),
                });
            }
            let Some(next) = next else {
                return Step::Done(self.lookup_drop(host, &query, end));
            };
            route = next;
        }
        let dev = route.dev().map(str::to_string);
        if *first_src_pending {
            *first_src_pending = false;
            self.pkt.src = route
                .prefsrc
                .or_else(|| {
                    dev.as_deref()
                        .and_then(|d| host.addrs_on(d).next())
                        .map(|a| a.addr.ip())
                })
                .or_else(|| world.primary_ip(self.host))
                .unwrap_or(self.pkt.src);
        }
        let h = self.hop(dev.as_deref(), Action::Route);
        h.route = Some(route.clone());
        match route.kind {
            RouteType::Unicast => {}
            RouteType::Blackhole => {
                let route = route.to_string();
                return Step::Done(self.drop(None, Reason::Blackhole { route }));
            }
            RouteType::Local => return self.local_delivery(),
            _ => {
                let route = route.to_string();
                return Step::Done(self.drop(None, Reason::Unreachable { route }));
            }
        }
        let Some(dev) = dev else {
            let dst = self.pkt.dst;
            return Step::Done(self.drop(None, Reason::NoRoute { dst }));
        };
        let Some(link) = host.link(&dev) else {
            return Step::Done(self.drop(Some(&dev), Reason::NoDevice { dev: dev.clone() }));
        };
        if !link.up {
            return Step::Done(self.drop(Some(&dev), Reason::DeviceDown { dev: dev.clone() }));
        }
        let nh = route.first_hop().cloned().unwrap_or_default();
        let gw = nh.gateway.unwrap_or(self.pkt.dst);
        let is_tunnel = matches!(link.kind, LinkKind::Ipip { .. });
        if nh.gateway.is_some() && !nh.flags.onlink && !is_tunnel {
            let connected = host.lookup(gw).is_some_and(|r| {
                r.gateway().is_none()
                    && r.dev() == Some(dev.as_str())
                    && r.kind == RouteType::Unicast
            });
            if !connected {
                return Step::Done(self.drop(
                    Some(&dev),
                    Reason::NextHopNotOnLink {
                        gateway: gw,
                        dev: dev.clone(),
                    },
                ));
            }
        }
        let mtu = route.mtu.map_or(link.mtu, |m| m.min(link.mtu));
        if let Some(last) = self.hops.last_mut() {
            last.mtu = Some(mtu);
            last.ttl = self.pkt.ttl;
            last.src = self.pkt.src;
        }
        if self.pkt.size > mtu && self.pkt.df {
            let size = self.pkt.size;
            return Step::Done(self.drop(
                Some(&dev),
                Reason::TooBig {
                    size,
                    mtu,
                    dev: dev.clone(),
                },
            ));
        }
        match &link.kind {
            LinkKind::Vxlan(v) => self.vxlan_out(&dev, gw, v.vni, v.port, v.local, link.mac),
            LinkKind::Ipip { local, remote } => self.ipip_out(&dev, nh.gateway, *local, *remote),
            // A veth wired to no modelled host (a real node's uplink, as in kind clusters)
            // leads to its segment like any Ethernet device.
            LinkKind::Veth(_) if world.veth_peer(self.host, &dev).is_none() => {
                self.segment_out(&dev, gw, mtu)
            }
            LinkKind::Veth(_) => self.veth_out(&dev, gw, mtu),
            LinkKind::Bridge => self.bridge_out(&dev, gw, mtu),
            _ => self.segment_out(&dev, gw, mtu),
        }
    }

    fn local_delivery(&mut self) -> Step {
        if let Some(inner) = self.stack.pop() {
            let host = self.world.host(self.host);
            let tunnel = match &inner.encap {
                Encap::Vxlan {
                    vni,
                    port,
                    inner_dst_mac,
                    ..
                } => {
                    let dev = host.state.links.iter().find(|l| {
                        matches!(&l.kind, LinkKind::Vxlan(v) if v.port == *port && v.vni == *vni)
                    });
                    match dev {
                        None => {
                            let any_port =
                                host.state.links.iter().any(
                                    |l| matches!(&l.kind, LinkKind::Vxlan(v) if v.port == *port),
                                );
                            let detail = if any_port {
                                format!("no VXLAN device with VNI {vni} on UDP port {port}")
                            } else {
                                format!("no VXLAN device listens on UDP port {port}")
                            };
                            self.stack.push(inner);
                            return Step::Done(
                                self.drop(None, Reason::NoTunnelEndpoint { detail }),
                            );
                        }
                        Some(l) => {
                            if let Some(actual) = l.mac.filter(|m| m != inner_dst_mac) {
                                let (sent, dev) = (*inner_dst_mac, l.name.clone());
                                self.stack.push(inner);
                                return Step::Done(self.drop(
                                    Some(&dev),
                                    Reason::VtepMacMismatch {
                                        sent,
                                        actual,
                                        dev: dev.clone(),
                                    },
                                ));
                            }
                            l.name.clone()
                        }
                    }
                }
                Encap::Ipip {
                    outer_src,
                    outer_dst,
                    ..
                } => {
                    let dev = host
                        .state
                        .links
                        .iter()
                        .filter(|l| matches!(&l.kind, LinkKind::Ipip { local, remote } if local.is_none_or(|a| a == *outer_dst) && remote.is_none_or(|a| a == *outer_src)))
                        .max_by_key(|l| matches!(&l.kind, LinkKind::Ipip { local: Some(_), .. }));
                    match dev {
                        Some(l) => l.name.clone(),
                        None => {
                            self.stack.push(inner);
                            return Step::Done(self.drop(
                                None,
                                Reason::NoTunnelEndpoint {
                                    detail: format!(
                                        "no IPIP device ({}, {}) to decapsulate protocol 4",
                                        crate::cni::calico::IPIP_DEV,
                                        crate::cni::flannel::IPIP_DEV
                                    ),
                                },
                            ));
                        }
                    }
                }
            };
            let h = self.hop(Some(&tunnel), Action::Decap);
            h.encap = Some(inner.encap.clone());
            self.pkt = inner.pkt;
            self.in_dev = Some(tunnel.clone());
            self.hop(Some(&tunnel), Action::Receive { bridge: None });
            return Step::Continue;
        }
        let dev = self
            .world
            .host(self.host)
            .owns(self.pkt.dst)
            .map(|a| a.dev.clone());
        self.hop(dev.as_deref(), Action::Deliver);
        Step::Done(Verdict::Delivered {
            host: self.world.name(self.host).to_string(),
        })
    }

    fn vxlan_out(
        &mut self,
        dev: &str,
        gw: IpAddr,
        vni: u32,
        port: u16,
        local: Option<IpAddr>,
        mac: Option<MacAddr>,
    ) -> Step {
        let host = self.world.host(self.host);
        let Some(n) = host
            .neighbour(dev, gw)
            .filter(|n| n.state.resolves() && n.lladdr.is_some())
        else {
            return Step::Done(self.drop(
                Some(dev),
                Reason::NoNeighbour {
                    addr: gw,
                    dev: dev.into(),
                    detail: "VXLAN devices with nolearning need a permanent neighbour entry for the remote VTEP (flannel/Felix program it)".into(),
                },
            ));
        };
        let (state, remote_mac) = (n.state, n.lladdr.unwrap_or_default());
        self.hop(
            Some(dev),
            Action::Resolve {
                addr: gw,
                mac: Some(remote_mac),
                how: Resolution::Neighbour { state },
            },
        );
        let Some(fdb_dst) = host.fdb(dev, remote_mac).and_then(|f| f.dst) else {
            return Step::Done(self.drop(
                Some(dev),
                Reason::NoFdb {
                    mac: remote_mac,
                    dev: dev.into(),
                },
            ));
        };
        self.hop(
            Some(dev),
            Action::Fdb {
                mac: remote_mac,
                dst: fdb_dst,
            },
        );
        let outer_src = local
            .or_else(|| host.lookup(fdb_dst).and_then(|r| r.prefsrc))
            .or_else(|| self.world.primary_ip(self.host))
            .unwrap_or(self.pkt.src);
        let size = self.pkt.size + VXLAN_OVERHEAD;
        let encap = Encap::Vxlan {
            vni,
            port,
            outer_src,
            outer_dst: fdb_dst,
            inner_src_mac: mac,
            inner_dst_mac: remote_mac,
            size,
        };
        let outer = Packet {
            src: outer_src,
            dst: fdb_dst,
            proto: Proto::Udp,
            sport: None,
            dport: Some(port),
            size,
            df: false,
            ttl: DEFAULT_TTL,
        };
        self.encapsulate(dev, encap, outer)
    }

    /// Record the encapsulation at `dev`, keep the inner packet for decapsulation, and
    /// walk on with the outer one.
    fn encapsulate(&mut self, dev: &str, encap: Encap, outer: Packet) -> Step {
        let h = self.hop(Some(dev), Action::Encap);
        h.encap = Some(encap.clone());
        self.stack.push(Inner {
            pkt: self.pkt,
            encap,
        });
        self.pkt = outer;
        self.in_dev = None;
        Step::Continue
    }

    fn ipip_out(
        &mut self,
        dev: &str,
        gateway: Option<IpAddr>,
        local: Option<IpAddr>,
        remote: Option<IpAddr>,
    ) -> Step {
        let Some(outer_dst) = remote.or(gateway) else {
            return Step::Done(self.drop(
                Some(dev),
                Reason::NoTunnelEndpoint {
                    detail: format!("{dev} has no remote and the route no gateway: no outer destination for IPIP"),
                },
            ));
        };
        let host = self.world.host(self.host);
        let outer_src = local
            .or_else(|| host.lookup(outer_dst).and_then(|r| r.prefsrc))
            .or_else(|| self.world.primary_ip(self.host))
            .unwrap_or(self.pkt.src);
        let size = self.pkt.size + IPIP_OVERHEAD;
        let encap = Encap::Ipip {
            outer_src,
            outer_dst,
            size,
        };
        let outer = Packet {
            src: outer_src,
            dst: outer_dst,
            proto: Proto::Ipip,
            sport: None,
            dport: None,
            size,
            df: false,
            ttl: self.pkt.ttl,
        };
        self.encapsulate(dev, encap, outer)
    }

    fn arrive(&mut self, to: HostId, to_dev: &str, next_hop: IpAddr, from_dev: &str, mtu: u32) {
        let to_name = self.world.name(to).to_string();
        let h = self.hop(
            Some(from_dev),
            Action::Transmit {
                to_host: to_name,
                to_device: to_dev.into(),
                next_hop,
            },
        );
        h.mtu = Some(mtu);
        self.host = to;
        let bridge = self
            .world
            .host(to)
            .link(to_dev)
            .and_then(|l| l.master.clone());
        self.in_dev = Some(bridge.clone().unwrap_or_else(|| to_dev.to_string()));
        self.hop(Some(to_dev), Action::Receive { bridge });
    }

    fn veth_out(&mut self, dev: &str, gw: IpAddr, mtu: u32) -> Step {
        let Some((peer, peer_dev)) = self.world.veth_peer(self.host, dev) else {
            return Step::Done(self.drop(Some(dev), Reason::NoPeer { dev: dev.into() }));
        };
        let peer_dev = peer_dev.to_string();
        let me = self.world.host(self.host);
        let ph = self.world.host(peer);
        // The other end down (a pod's host veth set down): no carrier, nothing crosses.
        if ph.link(&peer_dev).is_some_and(|l| !l.up) {
            return Step::Done(self.drop(Some(dev), Reason::DeviceDown { dev: peer_dev }));
        }
        let peer_name = self.world.name(peer).to_string();
        let master = ph.link(&peer_dev).and_then(|l| l.master.clone());
        let static_entry = me
            .neighbour(dev, gw)
            .filter(|n| n.state.resolves())
            .map(|n| (n.state, n.lladdr));
        let how = if let Some((state, mac)) = static_entry {
            Some((mac, Resolution::Neighbour { state }))
        } else if let Some(br) = &master {
            // The peer is a bridge port: whoever is on the bridge answers.
            if ph.owns(gw).is_some_and(|a| &a.dev == br) {
                Some((
                    ph.link(br).and_then(|l| l.mac),
                    Resolution::Arp {
                        owner: peer_name.clone(),
                        device: br.clone(),
                    },
                ))
            } else if let Some((port, pod)) = self.bridge_port_for(peer, br, gw) {
                // Another pod on the same bridge: switched, not routed.
                self.arrive(peer, &peer_dev, gw, dev, mtu);
                let br = br.clone();
                return self.switch(peer, &br, &port, pod, gw, mtu);
            } else {
                None
            }
        } else if ph.owns(gw).is_some() {
            Some((
                ph.link(&peer_dev).and_then(|l| l.mac),
                Resolution::Arp {
                    owner: peer_name.clone(),
                    device: peer_dev.clone(),
                },
            ))
        } else if ph.proxy_arp(&peer_dev) {
            match ph.proxy_arp_route(&peer_dev, gw) {
                Some(_) => Some((
                    ph.link(&peer_dev).and_then(|l| l.mac),
                    Resolution::ProxyArp {
                        owner: peer_name.clone(),
                        device: peer_dev.clone(),
                    },
                )),
                _ => {
                    return Step::Done(self.drop(
                        Some(dev),
                        Reason::NoNeighbour {
                            addr: gw,
                            dev: dev.into(),
                            detail: format!("proxy ARP on {peer_name} {peer_dev} only answers when the host has a route to {gw} (normally its default route; calico#3270)"),
                        },
                    ));
                }
            }
        } else {
            None
        };
        let Some((mac, how)) = how else {
            return Step::Done(self.drop(
                Some(dev),
                Reason::NoNeighbour {
                    addr: gw,
                    dev: dev.into(),
                    detail: format!("{peer_name} does not have {gw} on {peer_dev} and does not answer ARP for it"),
                },
            ));
        };
        self.hop(Some(dev), Action::Resolve { addr: gw, mac, how });
        self.arrive(peer, &peer_dev, gw, dev, mtu);
        Step::Continue
    }

    /// The port of bridge `br` on `host` behind which `ip` lives, and the host there.
    fn bridge_port_for(&self, host: HostId, br: &str, ip: IpAddr) -> Option<(String, HostId)> {
        let h = self.world.host(host);
        self.world.owners(ip).iter().find_map(|o| {
            let (peer, port) = self.world.veth_peer(o.host, &o.dev)?;
            (peer == host && h.link(port).and_then(|l| l.master.as_deref()) == Some(br))
                .then(|| (port.to_string(), o.host))
        })
    }

    fn switch(
        &mut self,
        bridge_host: HostId,
        bridge: &str,
        port: &str,
        to: HostId,
        ip: IpAddr,
        mtu: u32,
    ) -> Step {
        self.host = bridge_host;
        // A port that is down forwards nothing (a pod's host veth set down).
        if self
            .world
            .host(bridge_host)
            .link(port)
            .is_some_and(|l| !l.up)
        {
            return Step::Done(self.drop(Some(bridge), Reason::DeviceDown { dev: port.into() }));
        }
        self.hop(Some(bridge), Action::Bridge { port: port.into() });
        let to_dev = self
            .world
            .owners(ip)
            .iter()
            .find(|o| o.host == to)
            .map(|o| o.dev.clone())
            .unwrap_or_else(|| "eth0".into());
        self.arrive(to, &to_dev, ip, port, mtu);
        Step::Continue
    }

    fn bridge_out(&mut self, dev: &str, gw: IpAddr, mtu: u32) -> Step {
        match self.bridge_port_for(self.host, dev, gw) {
            Some((port, to)) => {
                let name = self.world.name(to).to_string();
                let mac = self.world.host(to).link("eth0").and_then(|l| l.mac);
                self.hop(
                    Some(dev),
                    Action::Resolve {
                        addr: gw,
                        mac,
                        how: Resolution::Arp {
                            owner: name,
                            device: "eth0".into(),
                        },
                    },
                );
                let here = self.host;
                self.switch(here, dev, &port, to, gw, mtu)
            }
            None => Step::Done(self.drop(
                Some(dev),
                Reason::NoNeighbour {
                    addr: gw,
                    dev: dev.into(),
                    detail: format!("no port of bridge {dev} leads to {gw}: no pod on it has that address, so ARP gets no answer"),
                },
            )),
        }
    }

    /// A host sends a packet for a pod of the cluster to a gateway outside it: its route for
    /// the pod network is missing (a real node without its CNI route, a plan where nothing
    /// programs one: BGP off, a refused route). An outside gateway may still carry
    /// node-to-node traffic.
    /// A reply that came in from outside and goes out again is misrouted whatever the
    /// host: it is addressed to a host of the cluster; so is a packet for a pod that a
    /// refused route sent the default way out.
    fn misrouted(&self) -> bool {
        let owners = self.world.owners(self.pkt.dst);
        (self.nat.entered && !owners.is_empty())
            || (self.stack.is_empty()
                && owners
                    .iter()
                    .any(|o| self.world.kind(o.host) == HostKind::Pod))
    }

    /// The pod network range and unit holding the packet's destination when no host has it:
    /// a stale or unallocated pod IP about to leave the cluster.
    fn unallocated(&self) -> Option<(IpAddr, String, String)> {
        let dst = self.pkt.dst;
        if !self.stack.is_empty() || self.nat.entered || !self.world.owners(dst).is_empty() {
            return None;
        }
        let net = self.world.pod_network(dst)?;
        Some((dst, net.name.clone(), net.unit.to_string()))
    }

    /// A node's masquerade rule on a packet leaving on `dev` towards `gw`: the source
    /// becomes the device's address (the one on `gw`'s subnet, else its first).
    fn masquerade(&mut self, dev: &str, gw: IpAddr) {
        if !self.nat.masquerade
            || !self.stack.is_empty()
            || self.world.kind(self.host) != HostKind::Node
        {
            return;
        }
        let Some(rule) = self
            .world
            .masquerade(self.host)
            .filter(|m| m.applies(self.pkt.src, self.pkt.dst))
        else {
            return;
        };
        let me = self.world.host(self.host);
        let Some(to) = me
            .addrs_on(dev)
            .find(|a| a.addr.contains(gw))
            .or_else(|| me.addrs_on(dev).next())
            .map(|a| a.addr.ip())
        else {
            return;
        };
        let (from, by) = (self.pkt.src, rule.by.clone());
        self.hop(Some(dev), Action::Masquerade { from, to, by });
        self.pkt.src = to;
    }

    fn segment_out(&mut self, dev: &str, gw: IpAddr, mtu: u32) -> Step {
        self.masquerade(dev, gw);
        let me = self.world.host(self.host);
        if let Some(n) = me.neighbour(dev, gw) {
            if !n.state.resolves() {
                let state = n.state;
                return Step::Done(self.drop(
                    Some(dev),
                    Reason::NoNeighbour {
                        addr: gw,
                        dev: dev.into(),
                        detail: format!("the neighbour entry is {state:?}"),
                    },
                ));
            }
        }
        match self.world.arp_on_segment(self.host, dev, gw) {
            Some(a) => {
                let (to, to_dev) = (a.host, a.dev.clone());
                let owner = self.world.name(to).to_string();
                let mac = self.world.host(to).link(&to_dev).and_then(|l| l.mac);
                let how = match me.neighbour(dev, gw) {
                    Some(n) => Resolution::Neighbour { state: n.state },
                    None => Resolution::Arp {
                        owner,
                        device: to_dev.clone(),
                    },
                };
                self.hop(Some(dev), Action::Resolve { addr: gw, mac, how });
                self.arrive(to, &to_dev, gw, dev, mtu);
                Step::Continue
            }
            None if self.world.is_exit(gw) => {
                if let Some((dst, network, unit)) = self.unallocated() {
                    let reason = Reason::Unallocated {
                        dst,
                        network,
                        unit,
                        gateway: gw,
                    };
                    return Step::Done(self.drop(Some(dev), reason));
                }
                if self.misrouted() {
                    let dst = self.pkt.dst;
                    return Step::Done(
                        self.drop(Some(dev), Reason::Misrouted { dst, gateway: gw }),
                    );
                }
                self.hop(Some(dev), Action::Exit { gateway: gw });
                Step::Done(Verdict::Exited {
                    host: self.world.name(self.host).to_string(),
                    gateway: gw,
                })
            }
            None => Step::Done(self.drop(
                Some(dev),
                Reason::NoNeighbour {
                    addr: gw,
                    dev: dev.into(),
                    detail: format!("nobody on {dev}'s segment has {gw} (ARP fails)"),
                },
            )),
        }
    }
}
