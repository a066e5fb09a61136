//! Address translation along a walk: the nodes' masquerade (applied in the walk itself),
//! the connection tracking that reverses it on the reply, and kube-proxy's ClusterIP DNAT
//! (iptables mode: `KUBE-SERVICES` → `KUBE-SVC-…` → one `KUBE-SEP-…`, cni-semantics §18)
//! with its reversal on the reply.

use std::net::IpAddr;

use super::{Step, Walker};
use crate::trace::{Action, Reason};
use crate::world::{HostId, HostKind};

/// Address translation along a walk.
#[derive(Debug, Clone, Default)]
pub(in crate::trace) struct Nat {
    /// Apply the nodes' masquerade rules (a request to an outside destination).
    pub(in crate::trace) masquerade: bool,
    /// Connection tracking on host `.0` turns destination `.1` back into `.2` (the reply to
    /// a masqueraded request).
    pub(in crate::trace) restore: Option<(HostId, IpAddr, IpAddr)>,
    /// The packet came in from outside the modelled network.
    pub(in crate::trace) entered: bool,
    /// kube-proxy's rules for a Service address, met on the first node the packet enters
    /// (nat PREROUTING for a pod's packet, OUTPUT for the node's own).
    pub(in crate::trace) dnat: Option<Dnat>,
    /// Connection tracking on host `.0` turns the reply's source `.1` (the endpoint) back
    /// into the Service's address and port `.2` (the reply to a DNATed request).
    pub(in crate::trace) undnat: Option<(HostId, IpAddr, IpAddr, Option<u16>)>,
}

/// What kube-proxy does with a packet to a Service address.
#[derive(Debug, Clone)]
pub(in crate::trace) struct Dnat {
    /// The Service address (ClusterIP).
    pub(in crate::trace) vip: IpAddr,
    /// The Service (`namespace/name`), or the service range when Services are not known.
    pub(in crate::trace) service: String,
    /// Its outcome.
    pub(in crate::trace) to: DnatTo,
}

/// The outcome of kube-proxy's rules for one Service address.
#[derive(Debug, Clone, Copy)]
pub(in crate::trace) enum DnatTo {
    /// `KUBE-SEP-…`: DNAT to the endpoint's address and port.
    Endpoint(IpAddr, Option<u16>),
    /// No ready endpoint: the filter table REJECTs (`… has no endpoints`).
    Reject,
    /// The input lists no Services: what the node does with the address is unknown.
    Unknown,
    /// The input lists Services and none has the address: kube-proxy has no rule for it.
    NoService,
}

impl Walker<'_, '_> {
    /// kube-proxy's DNAT on the first node a packet for a Service address meets (at top
    /// level: an outer tunnel header is not a Service's). Ends the walk when the Service has
    /// no ready endpoint or is not in the input.
    pub(super) fn kube_proxy(&mut self) -> Option<Step> {
        let dnat = self.nat.dnat.as_ref()?;
        if self.world.kind(self.host) != HostKind::Node
            || !self.stack.is_empty()
            || self.pkt.dst != dnat.vip
        {
            return None;
        }
        let Dnat { vip, service, to } = self.nat.dnat.take()?;
        let dev = self.in_dev.clone();
        match to {
            DnatTo::Endpoint(ip, port) => {
                let from_port = self.pkt.dport;
                self.hop(
                    dev.as_deref(),
                    Action::Dnat {
                        from: vip,
                        from_port,
                        to: ip,
                        to_port: port.or(from_port),
                        service,
                    },
                );
                self.pkt.dst = ip;
                if port.is_some() {
                    self.pkt.dport = port;
                }
                self.hairpin(ip);
                None
            }
            DnatTo::Reject => {
                let port = self.pkt.dport;
                Some(Step::Done(self.drop(
                    dev.as_deref(),
                    Reason::NoEndpoints {
                        service,
                        dst: vip,
                        port,
                    },
                )))
            }
            DnatTo::NoService => Some(Step::Done(self.drop(
                dev.as_deref(),
                Reason::NoService {
                    dst: vip,
                    range: service,
                },
            ))),
            DnatTo::Unknown => Some(Step::Done(self.drop(
                dev.as_deref(),
                Reason::ServicesNotInInput {
                    dst: vip,
                    range: service,
                },
            ))),
        }
    }

    /// A pod sent to a Service and got itself as the endpoint: its reply would never leave
    /// it, so kube-proxy marks such packets for masquerade (`KUBE-SEP-… -s EP -j
    /// KUBE-MARK-MASQ`) and the source becomes the node's address on the device the packet
    /// came in by (the bridge's).
    fn hairpin(&mut self, endpoint: IpAddr) {
        if self.pkt.src != endpoint {
            return;
        }
        let Some(dev) = self.in_dev.clone() else {
            return;
        };
        let host = self.world.host(self.host);
        let Some(to) = host
            .addrs_on(&dev)
            .map(|a| a.addr.ip())
            .find(|a| a.is_ipv4() == endpoint.is_ipv4())
        else {
            return;
        };
        self.hop(
            Some(&dev),
            Action::Masquerade {
                from: endpoint,
                to,
                by: "kube-proxy, hairpin: KUBE-MARK-MASQ".into(),
            },
        );
        self.pkt.src = to;
    }

    /// Connection tracking reverses the request's DNAT on the reply, on the node that
    /// translated it: the endpoint's source becomes the Service address again.
    pub(super) fn reverse_dnat(&mut self) {
        let Some((at, endpoint, vip, port)) = self.nat.undnat else {
            return;
        };
        if at != self.host || !self.stack.is_empty() || self.pkt.src != endpoint {
            return;
        }
        self.nat.undnat = None;
        let dev = self.in_dev.clone();
        self.hop(
            dev.as_deref(),
            Action::Undnat {
                from: endpoint,
                to: vip,
            },
        );
        self.pkt.src = vip;
        if port.is_some() {
            self.pkt.sport = port;
        }
    }
}
