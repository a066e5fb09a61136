//! The live kernel's own answer to each route lookup the walk made on the local node
//! (`ip route get DST [from SRC] [iif DEV]`), recorded next to the walk's decision.

use std::net::IpAddr;

use crate::dataplane::{Protocol, Route};
use crate::trace::{Action, KernelView, Reason, Trace, Verdict};
use crate::world::{HostId, World};

/// A route lookup to ask the live kernel, for one hop of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelQuery {
    /// 0 for the request, 1 for the reply.
    pub path: usize,
    /// The hop the answer belongs to.
    pub hop: usize,
    /// The destination.
    pub dst: IpAddr,
    /// The source, for forwarded packets (with `iif`).
    pub src: Option<IpAddr>,
    /// The device the packet arrived on; `None` for packets the host sends itself.
    pub iif: Option<String>,
}

impl KernelQuery {
    /// The `ip` command that asks the same.
    pub fn command(&self) -> String {
        let mut s = format!("ip route get {}", self.dst);
        if let Some(src) = self.src {
            s.push_str(&format!(" from {src}"));
        }
        if let Some(dev) = &self.iif {
            s.push_str(&format!(" iif {dev}"));
        }
        s
    }
}

/// The lookups to ask the kernel of `host`: one per route decision the walk made there
/// (a `route` hop, or a drop before any route was looked up), with the input device of a
/// forwarded packet as the kernel needs it (`iif`, the bridge for a bridge port).
pub fn kernel_queries(trace: &Trace, world: &World, host: HostId) -> Vec<KernelQuery> {
    let name = world.name(host);
    let mut out = Vec::new();
    let paths = std::iter::once(&trace.request).chain(trace.reply.as_ref());
    for (pi, path) in paths.enumerate() {
        let mut iif: Option<String> = None;
        let mut routed = false;
        let mut prev_host: Option<&str> = None;
        for (i, h) in path.hops.iter().enumerate() {
            if prev_host != Some(h.host.as_str()) {
                iif = None;
                routed = false;
                prev_host = Some(&h.host);
            }
            match &h.action {
                Action::Receive { bridge } => {
                    iif = bridge.clone().or_else(|| h.device.clone());
                    routed = false;
                }
                Action::Encap => {
                    iif = None;
                    routed = false;
                }
                Action::Route | Action::Drop if h.host == name && !routed => {
                    routed = matches!(h.action, Action::Route);
                    // A drop before any route lookup: ask only when the kernel's lookup
                    // decides it too (forwarding off, no route), not for tunnel endpoints.
                    let decided_by_lookup = matches!(
                        &path.verdict,
                        Verdict::Dropped {
                            reason: Reason::ForwardingDisabled { .. }
                                | Reason::NoRoute { .. }
                                | Reason::PolicyRule { .. }
                                | Reason::RpFilter { .. }
                                | Reason::TtlExpired,
                            ..
                        }
                    );
                    if matches!(h.action, Action::Drop) && !decided_by_lookup {
                        continue;
                    }
                    out.push(KernelQuery {
                        path: pi,
                        hop: i,
                        dst: h.dst,
                        src: iif.as_ref().map(|_| h.src).filter(|s| !s.is_unspecified()),
                        iif: iif.clone(),
                    });
                }
                _ => {}
            }
        }
    }
    out
}

/// Record the kernel's answer (a route, or the errno it returned) on the hop it belongs to.
pub fn attach_kernel(trace: &mut Trace, q: &KernelQuery, answer: Result<&Route, i32>) {
    let path = if q.path == 0 {
        &mut trace.request
    } else {
        match &mut trace.reply {
            Some(r) => r,
            None => return,
        }
    };
    let Some(hop) = path.hops.get_mut(q.hop) else {
        return;
    };
    let walk_drops = match (&hop.action, &hop.route) {
        (Action::Drop, _) => true,
        (_, Some(r)) => r.kind.drops(),
        _ => false,
    };
    let (text, agrees) = match answer {
        Ok(r) => {
            let agrees = if r.kind.drops() {
                walk_drops
            } else {
                hop.route
                    .as_ref()
                    .is_some_and(|w| w.dev() == r.dev() && w.gateway() == r.gateway())
            };
            // `ip route get` prints no protocol (the answer carries none: 0, "unspec").
            let mut shown = r.clone();
            shown.proto = Protocol::BOOT;
            (shown.to_string(), agrees)
        }
        Err(errno) => (
            format!("error: {}", std::io::Error::from_raw_os_error(errno)),
            walk_drops,
        ),
    };
    hop.kernel = Some(KernelView {
        query: q.command(),
        answer: text,
        agrees,
    });
}
