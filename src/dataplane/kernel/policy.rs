//! The policy-rule walk (`fib_rules_lookup`): each rule whose selectors match the packet
//! runs its action in priority order — look a table up, jump (`goto`), do nothing (`nop`),
//! or drop — until one ends the lookup. Within a table the longest prefix wins, then the
//! lowest metric, then the first added; a `throw` route, or a route too short for the
//! rule's `suppress_prefixlength`, sends the walk on to the next rule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::super::{Route, RouteType, Rule, RuleAction, Table};
use super::{Kernel, KernelAnswer, RouteLookup, RouteQuery};

/// How one policy rule's part of the lookup ended.
#[derive(Debug, Clone)]
pub enum StepEnd<'a> {
    /// A route won in this table.
    Route {
        /// The table.
        table: Table,
        /// Every route covering the address, best first.
        covering: Vec<&'a Route>,
    },
    /// No route in this table covers the address: the next rule is tried.
    NoRoute {
        /// The table.
        table: Table,
        /// Empty.
        covering: Vec<&'a Route>,
    },
    /// The best route was too short for `suppress_prefixlength`: the next rule is tried.
    Suppressed {
        /// The table.
        table: Table,
        /// Every route covering the address, best first.
        covering: Vec<&'a Route>,
    },
    /// The best route is a `throw`: the next rule is tried.
    Throw {
        /// The table.
        table: Table,
        /// Every route covering the address, best first.
        covering: Vec<&'a Route>,
    },
    /// The rule itself drops (blackhole, unreachable, prohibit).
    RuleDrops(RuleAction),
    /// A `goto` rule: the walk goes on at the first rule of this priority.
    Goto(u32),
    /// A `nop` rule, or a `goto` whose target no longer exists: the next rule is tried.
    Skipped,
}

impl<'a> StepEnd<'a> {
    /// The table looked up and the routes that covered the address, for lookup steps.
    pub fn table(&self) -> Option<(Table, &[&'a Route])> {
        match self {
            StepEnd::Route { table, covering }
            | StepEnd::NoRoute { table, covering }
            | StepEnd::Suppressed { table, covering }
            | StepEnd::Throw { table, covering } => Some((*table, covering)),
            _ => None,
        }
    }
}

/// One policy rule that matched the lookup, and how its part ended.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The rule.
    pub rule: Rule,
    /// What happened.
    pub end: StepEnd<'a>,
}

/// Where a lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    /// A route ended it (a unicast or local route, or one that drops: blackhole,
    /// unreachable, prohibit), found through the rule of this priority.
    Route {
        /// The route.
        route: &'a Route,
        /// The rule's priority.
        priority: u32,
    },
    /// A rule's action dropped the packet.
    RuleDrops {
        /// blackhole, unreachable or prohibit.
        action: RuleAction,
        /// The rule's priority.
        priority: u32,
    },
    /// No rule ended the lookup: the network is unreachable.
    NoRoute,
}

impl<'a> Decision<'a> {
    /// The route the lookup ended on, if any.
    pub fn route(&self) -> Option<&'a Route> {
        match self {
            Decision::Route { route, .. } => Some(route),
            _ => None,
        }
    }

    /// The errno the kernel returns for this end of the lookup, `None` for a usable route.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Decision::Route { route, .. } => route_errno(route.kind),
            Decision::RuleDrops { action, .. } => Some(rule_errno(*action)),
            Decision::NoRoute => Some(libc::ENETUNREACH),
        }
    }
}

/// The errno of a route type that ends a lookup with an error (`fib_props`).
pub(super) fn route_errno(kind: RouteType) -> Option<i32> {
    match kind {
        RouteType::Blackhole => Some(libc::EINVAL),
        RouteType::Unreachable => Some(libc::EHOSTUNREACH),
        RouteType::Prohibit => Some(libc::EACCES),
        _ => None,
    }
}

/// The errno of a rule action that drops (`fib4_rule_action`, `fib6_rule_action`).
pub(super) fn rule_errno(action: RuleAction) -> i32 {
    match action {
        RuleAction::Unreachable => libc::ENETUNREACH,
        RuleAction::Prohibit => libc::EACCES,
        _ => libc::EINVAL,
    }
}

/// A lookup with every step recorded (what `routes get` shows).
#[derive(Debug, Clone)]
pub struct Resolution<'a> {
    /// The rules that matched, in the order the walk met them, with what each did.
    pub steps: Vec<Step<'a>>,
    /// Where it ended.
    pub decision: Decision<'a>,
}

impl<'a> Resolution<'a> {
    /// The route the lookup ended on, if it ended on one.
    pub fn winner(&self) -> Option<&'a Route> {
        self.decision.route()
    }
}

/// Whether `rule`'s selectors match the lookup (`fib_rule_match` and the family's
/// `match`): `from` and `to` prefixes (an unset source is 0.0.0.0 or ::), `iif` (`lo` for
/// an output lookup; a detached device matches nothing), `fwmark`/mask, `tos`; `oif`
/// rules match only lookups bound to a device, which a query never is; `not` inverts.
pub fn rule_matches(rule: &Rule, q: &RouteQuery) -> bool {
    let m = selectors_match(rule, q);
    if rule.invert { !m } else { m }
}

fn selectors_match(rule: &Rule, q: &RouteQuery) -> bool {
    if let Some(s) = rule.src {
        let src = q.src.unwrap_or(match q.dst {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        });
        if !s.contains(src) {
            return false;
        }
    }
    if rule.dst.is_some_and(|d| !d.contains(q.dst)) {
        return false;
    }
    if let Some(i) = &rule.iif {
        if rule.iif_detached || q.rule_iif() != i {
            return false;
        }
    }
    if rule.oif.is_some() {
        return false;
    }
    if let Some((mark, mask)) = rule.fwmark {
        if (mark ^ q.mark) & mask != 0 {
            return false;
        }
    }
    if rule.tos != 0 && rule.tos != q.tos {
        return false;
    }
    true
}

/// Whether the kernel considers `r` for `q` at all: multicast routes and routes whose
/// every nexthop is dead are skipped, and a route with a TOS matches only that TOS.
fn usable(r: &Route, q: &RouteQuery) -> bool {
    let all_dead = !r.nexthops.is_empty() && r.nexthops.iter().all(|h| h.flags.dead);
    !matches!(r.kind, RouteType::Multicast) && !all_dead && (r.tos == 0 || r.tos == q.tos)
}

/// A table's part of the walk: how it ended and the route it ended on.
enum TableEnd {
    Route,
    NoRoute,
    Suppressed,
    Throw,
}

impl<'k> Kernel<'k> {
    /// Walk the policy rules for `q` and record every step: what `routes get` shows.
    pub fn resolve(&self, q: &RouteQuery) -> Resolution<'_> {
        let mut steps = Vec::new();
        let decision = self.walk(q, &|_| true, Some(&mut steps));
        Resolution { steps, decision }
    }

    /// Walk the policy rules for `q` among the routes `keep` accepts, without recording.
    pub fn decide(&self, q: &RouteQuery, keep: &dyn Fn(&Route) -> bool) -> Decision<'_> {
        self.walk(q, keep, None)
    }

    fn walk<'s>(
        &'s self,
        q: &RouteQuery,
        keep: &dyn Fn(&Route) -> bool,
        mut steps: Option<&mut Vec<Step<'s>>>,
    ) -> Decision<'s> {
        let rules = self.rules(super::Family::of(&q.dst));
        let mut i = 0;
        while i < rules.len() {
            let rule = &rules[i];
            i += 1;
            if !rule_matches(rule, q) {
                continue;
            }
            let (end, decision) = match rule.action {
                RuleAction::Lookup => {
                    let Some(table) = rule.table else { continue };
                    let (how, best, covering) = self.look_in(table, rule, q, keep, steps.is_some());
                    let decision = match (&how, best) {
                        (TableEnd::Route, Some(route)) => Some(Decision::Route {
                            route,
                            priority: rule.priority,
                        }),
                        _ => None,
                    };
                    let end = match how {
                        TableEnd::Route => StepEnd::Route { table, covering },
                        TableEnd::NoRoute => StepEnd::NoRoute { table, covering },
                        TableEnd::Suppressed => StepEnd::Suppressed { table, covering },
                        TableEnd::Throw => StepEnd::Throw { table, covering },
                    };
                    (end, decision)
                }
                RuleAction::Goto => {
                    // The kernel jumps to the first rule of the target priority, which must
                    // come later; a goto whose target is gone is skipped.
                    let target = rule.goto.and_then(|t| {
                        rules
                            .iter()
                            .position(|r| r.priority == t)
                            .filter(|&j| j >= i)
                            .map(|j| (t, j))
                    });
                    match target {
                        Some((t, j)) => {
                            i = j;
                            (StepEnd::Goto(t), None)
                        }
                        None => (StepEnd::Skipped, None),
                    }
                }
                RuleAction::Nop | RuleAction::Other(_) => (StepEnd::Skipped, None),
                action => (
                    StepEnd::RuleDrops(action),
                    Some(Decision::RuleDrops {
                        action,
                        priority: rule.priority,
                    }),
                ),
            };
            if let Some(s) = steps.as_deref_mut() {
                s.push(Step {
                    rule: rule.clone(),
                    end,
                });
            }
            if let Some(d) = decision {
                return d;
            }
        }
        Decision::NoRoute
    }

    /// One table's lookup for `rule`: how it ended, the route it ended on, and (when
    /// `record`) every usable route covering the address, best first.
    fn look_in<'s>(
        &'s self,
        table: Table,
        rule: &Rule,
        q: &RouteQuery,
        keep: &dyn Fn(&Route) -> bool,
        record: bool,
    ) -> (TableEnd, Option<&'s Route>, Vec<&'s Route>) {
        let ok = |r: &Route| usable(r, q) && keep(r);
        let mut covering: Vec<&'s Route> = Vec::new();
        let own = match self.table(table) {
            Some(t) if record => {
                covering = t.covering(q.dst).into_iter().filter(|r| ok(r)).collect();
                covering.first().copied()
            }
            Some(t) => t.covering(q.dst).into_iter().find(|r| ok(r)),
            None => None,
        };
        let extra = self
            .extra
            .as_ref()
            .and_then(|e| e.route(table, q.dst, &|r| ok(r)));
        let best = match (own, extra) {
            // The own state comes first in the order routes were added: an extra route
            // wins only with a longer prefix, or the same prefix and a lower metric.
            (Some(o), Some(p)) => {
                let better = p.dst.prefix() > o.dst.prefix()
                    || (p.dst.prefix() == o.dst.prefix()
                        && p.metric.unwrap_or(0) < o.metric.unwrap_or(0));
                if better {
                    if record {
                        covering.insert(0, p);
                    }
                    Some(p)
                } else {
                    Some(o)
                }
            }
            (None, Some(p)) => {
                if record {
                    covering.push(p);
                }
                Some(p)
            }
            (o, None) => o,
        };
        let how = match best {
            None => TableEnd::NoRoute,
            Some(r) if r.kind == RouteType::Throw => TableEnd::Throw,
            Some(r)
                if route_errno(r.kind).is_none()
                    && rule
                        .suppress_prefixlen
                        .is_some_and(|n| u32::from(r.dst.prefix()) <= n) =>
            {
                TableEnd::Suppressed
            }
            Some(_) => TableEnd::Route,
        };
        (how, best, covering)
    }

    /// What the kernel would answer `q` if its state were this one (offline `routes get`):
    /// the route the walk ends on, or the error of the rule or of no route; for a packet
    /// arriving on a device (`iif`), also the refusals of forwarding (EHOSTUNREACH) and of
    /// the reverse-path filter (EINVAL), where the sysctls are known.
    pub fn predict(&self, q: &RouteQuery, r: &Resolution<'_>) -> RouteLookup {
        let answer = match self.input_errno(q, &r.decision) {
            Some(e) => KernelAnswer::Error(e),
            None => match r.decision {
                Decision::Route { route, .. } => KernelAnswer::Route(route.clone()),
                d => KernelAnswer::Error(d.errno().unwrap_or(libc::ENETUNREACH)),
            },
        };
        RouteLookup {
            resolved: answer.clone(),
            fib_entry: answer,
            route_error: None,
            sysctls: self.state.sysctls.clone(),
        }
    }

    /// The errno of an input lookup (`ip_route_input_slow`) that the forwarding switches or
    /// the reverse-path filter add to the route lookup's end: a packet not for the node is
    /// refused with EHOSTUNREACH when forwarding is off on its device, whatever the routes
    /// say; a packet routed (locally or on) fails the reverse-path filter with EINVAL.
    fn input_errno(&self, q: &RouteQuery, d: &Decision<'_>) -> Option<i32> {
        let dev = q.iif.as_deref()?;
        let local = matches!(d, Decision::Route { route, .. } if route.kind == RouteType::Local);
        if !local && q.dst.is_ipv4() && !self.forwards(dev) {
            return Some(libc::EHOSTUNREACH);
        }
        let routed = matches!(d, Decision::Route { route, .. }
            if matches!(route.kind, RouteType::Local | RouteType::Unicast));
        match q.src {
            Some(src) if routed && q.dst.is_ipv4() => {
                self.rp_refuses(dev, src).map(|_| libc::EINVAL)
            }
            _ => None,
        }
    }
}
