//! Whether an address is routable, in words: the kernel's answer read against the walk
//! that explains it (to tell apart the causes the kernel gives one errno for).

use super::super::RouteType;
use super::{Decision, KernelAnswer, Resolution, RouteLookup, RouteQuery, errno_text};
use crate::dataplane::RuleAction;

/// Whether the address is routable, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The kernel returned a usable route.
    Routed,
    /// The kernel refused, or returned a route that drops.
    NotRoutable {
        /// The kernel's errno.
        errno: i32,
        /// The kernel's message for it.
        kernel_said: String,
        /// Why, in words.
        reason: String,
    },
}

/// Turn the kernel's answer `k` to `q` (and the walk `r` that predicts it, to tell
/// EINVAL's causes apart) into words.
pub fn verdict(q: &RouteQuery, r: &Resolution<'_>, k: &RouteLookup) -> Verdict {
    let predicted = r.winner();
    let predicted_kind = predicted.map(|r| r.kind);
    let errno = match (&k.resolved, k.route_error) {
        (KernelAnswer::Error(e), _) => *e,
        (KernelAnswer::Route(_), Some(e)) => e,
        (KernelAnswer::Route(r), None) if r.kind.drops() => match r.kind {
            RouteType::Blackhole => libc::EINVAL,
            RouteType::Prohibit => libc::EACCES,
            _ => libc::EHOSTUNREACH,
        },
        (KernelAnswer::Route(_), None) => return Verdict::Routed,
    };
    let said = errno_text(errno);
    let dst = q.dst;
    let drop_route = |what: &str| match predicted {
        Some(r) => format!("{what} route \"{r}\" covers {dst}"),
        None => format!("a {what} route covers {dst}"),
    };
    let rule_drop = match r.decision {
        Decision::RuleDrops { action, priority } => Some((action, priority)),
        _ => None,
    };
    let rule_drop_text = |(action, prio): (RuleAction, u32)| {
        format!(
            "policy rule {prio} ({}) drops it",
            match action {
                RuleAction::Blackhole => "blackhole",
                RuleAction::Unreachable => "unreachable",
                RuleAction::Prohibit => "prohibit",
                _ => "other",
            }
        )
    };
    let v4 = dst.is_ipv4();
    let iif = q.iif.as_deref();
    let forwarding_off = iif.is_some()
        && (k.sysctls.forwarding_off(v4)
            || iif.is_some_and(|d| k.sysctls.dev_forwarding(d) == Some(false)));
    let rp = iif.and_then(|d| k.sysctls.effective_rp_filter(d));
    let reason = match errno {
        // A rule that drops answers with its own errno (unreachable: ENETUNREACH).
        e if rule_drop.is_some_and(|(a, _)| super::policy::rule_errno(a) == e) => {
            rule_drop.map(rule_drop_text).unwrap_or_default()
        }
        libc::ENETUNREACH => format!("no route: no table has a route that covers {dst}"),
        libc::EINVAL if predicted_kind == Some(RouteType::Blackhole) => {
            format!("{}: it drops the packet silently", drop_route("blackhole"))
        }
        libc::EINVAL | libc::EXDEV if rp.is_some_and(|v| v > 0) => format!(
            "rp_filter ({}) on {} refused source {}: the route back to that source does not go out {}",
            if rp == Some(1) { "strict" } else { "loose" },
            iif.unwrap_or("?"),
            q.src
                .map(|s| s.to_string())
                .unwrap_or_else(|| "0.0.0.0".into()),
            iif.unwrap_or("?"),
        ),
        libc::EHOSTUNREACH if predicted_kind == Some(RouteType::Unreachable) => format!(
            "{}: it rejects with ICMP host unreachable",
            drop_route("unreachable")
        ),
        libc::EHOSTUNREACH if forwarding_off => format!(
            "ip_forward is off ({}): the kernel does not forward packets arriving on {}",
            if v4 {
                format!(
                    "net.ipv4.ip_forward={}, net.ipv4.conf.{}.forwarding={}",
                    bit(k.sysctls.ip_forward),
                    iif.unwrap_or("?"),
                    bit(iif.and_then(|d| k.sysctls.dev_forwarding(d)))
                )
            } else {
                format!(
                    "net.ipv6.conf.all.forwarding={}",
                    bit(k.sysctls.ipv6_forwarding)
                )
            },
            iif.unwrap_or("?")
        ),
        libc::EACCES if predicted_kind == Some(RouteType::Prohibit) => format!(
            "{}: it rejects with ICMP administratively prohibited",
            drop_route("prohibit")
        ),
        _ => match rule_drop {
            Some(d) => rule_drop_text(d),
            None => format!("the kernel refused the lookup ({said})"),
        },
    };
    Verdict::NotRoutable {
        errno,
        kernel_said: said,
        reason,
    }
}

fn bit(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "1",
        Some(false) => "0",
        None => "?",
    }
}
