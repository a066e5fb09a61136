//! Policy routing rules over rtnetlink (`ip rule show`).

use netlink_packet_route::rule::{RuleAction as NlAction, RuleAttribute, RuleFlags, RuleMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::Netns;
use super::socket::RtSocket;
use crate::dataplane::route::Family;
use crate::dataplane::{Rule, RuleAction, Table};

/// The IPv4 and IPv6 rules of `netns`, by family then priority.
pub fn rules(netns: &Netns) -> anyhow::Result<Vec<Rule>> {
    RtSocket::open_in(netns)?.rules()
}

impl RtSocket {
    /// The IPv4 and IPv6 policy routing rules (`ip rule show`), by family then priority.
    pub fn rules(&mut self) -> anyhow::Result<Vec<Rule>> {
        let mut out = Vec::new();
        for (af, family) in [
            (AddressFamily::Inet, Family::Inet),
            (AddressFamily::Inet6, Family::Inet6),
        ] {
            let mut req = RuleMessage::default();
            req.header.family = af;
            for m in self.dump(RouteNetlinkMessage::GetRule(req), "listing rules")? {
                if let RouteNetlinkMessage::NewRule(msg) = m {
                    out.push(rule(&msg, family));
                }
            }
        }
        out.sort_by_key(|r| (r.family, r.priority));
        Ok(out)
    }
}

fn rule(msg: &RuleMessage, family: Family) -> Rule {
    let h = &msg.header;
    let mut r = Rule {
        family,
        priority: 0,
        src: None,
        dst: None,
        iif: None,
        iif_detached: h.flags.contains(RuleFlags::IifDetached),
        oif: None,
        oif_detached: h.flags.contains(RuleFlags::OifDetached),
        fwmark: None,
        invert: h.flags.contains(RuleFlags::Invert),
        action: match h.action {
            NlAction::ToTable => RuleAction::Lookup,
            NlAction::Goto => RuleAction::Goto,
            NlAction::Nop => RuleAction::Nop,
            NlAction::Blackhole => RuleAction::Blackhole,
            NlAction::Unreachable => RuleAction::Unreachable,
            NlAction::Prohibit => RuleAction::Prohibit,
            other => RuleAction::Other(u8::from(other)),
        },
        table: (h.table != 0).then_some(Table(u32::from(h.table))),
        suppress_prefixlen: None,
        goto: None,
        tos: h.tos,
    };
    let mut mark = None;
    let mut mask = None;
    for attr in &msg.attributes {
        match attr {
            RuleAttribute::Priority(p) => r.priority = *p,
            RuleAttribute::Table(t) => r.table = Some(Table(*t)),
            RuleAttribute::Source(a) => r.src = ipnetwork::IpNetwork::new(*a, h.src_len).ok(),
            RuleAttribute::Destination(a) => r.dst = ipnetwork::IpNetwork::new(*a, h.dst_len).ok(),
            RuleAttribute::Iifname(n) => r.iif = Some(n.clone()),
            RuleAttribute::Oifname(n) => r.oif = Some(n.clone()),
            RuleAttribute::FwMark(m) => mark = Some(*m),
            RuleAttribute::FwMask(m) => mask = Some(*m),
            RuleAttribute::Goto(t) => r.goto = Some(*t),
            // The kernel reports "no suppression" as u32::MAX.
            RuleAttribute::SuppressPrefixLen(n) if *n != u32::MAX => {
                r.suppress_prefixlen = Some(*n)
            }
            _ => {}
        }
    }
    if let Some(m) = mark {
        r.fwmark = Some((m, mask.unwrap_or(u32::MAX)));
    }
    if r.action != RuleAction::Lookup {
        r.table = None;
    }
    r
}
