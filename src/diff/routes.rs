//! Routes: by kernel identity (table, destination, TOS, metric), attribute by attribute,
//! with what a missing route's traffic matches instead.

use std::collections::{HashMap, HashSet};

use ipnetwork::IpNetwork;

use super::links::is_link_local;
use super::{
    Change, Diff, Finding, FindingKind, Ownership, RouteKeys, Severity, change, effective_metric,
};
use crate::dataplane::{
    Family, LinkKind, NodeState, Protocol, Route, RouteTable, RouteType, Table,
};

/// A route's identity in the kernel: table, destination, TOS and metric. A second route
/// with the same identity replaces the first (NLM_F_REPLACE) or is refused.
pub(super) type RouteKey = (Table, IpNetwork, u8, u32);

pub(super) fn route_key(r: &Route) -> RouteKey {
    let dst = IpNetwork::new(r.dst.network(), r.dst.prefix()).unwrap_or(r.dst);
    (r.table, dst, r.tos, effective_metric(r))
}

pub(super) fn route_object(r: &Route) -> String {
    use std::fmt::Write as _;
    // One buffer, no intermediate strings: this runs once per missing route.
    let mut s = String::with_capacity(48);
    s.push_str("route ");
    let full = if r.family() == Family::Inet { 32 } else { 128 };
    let _ = match r.dst.prefix() {
        0 => write!(s, "default"),
        p if p == full => {
            change::push_ip(&mut s, r.dst.ip());
            Ok(())
        }
        p => {
            change::push_ip(&mut s, r.dst.network());
            write!(s, "/{p}")
        }
    };
    if r.table != Table::MAIN {
        let _ = write!(s, " table {}", r.table.name());
    }
    if let Some(m) = r.metric {
        let _ = write!(s, " metric {m}");
    }
    s
}

/// The routes the kernel derives by itself (from addresses, for local delivery), which
/// are never "unexpected".
pub(super) fn kernel_derived(r: &Route) -> bool {
    r.table == Table::LOCAL
        || r.proto == Protocol::KERNEL
        || matches!(
            r.kind,
            RouteType::Local | RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast
        )
        || (r.family() == Family::Inet6
            && (is_link_local(&r.dst.network()) || r.dst.network().is_multicast()))
}

/// The attributes in which two routes with the same identity differ, most important first.
fn route_differences(e: &Route, a: &Route) -> Vec<(&'static str, FindingKind, Severity)> {
    let mut out = Vec::new();
    if e.kind != a.kind {
        out.push(("type", FindingKind::WrongType, Severity::Error));
    }
    if e.nexthops.len() > 1 || a.nexthops.len() > 1 {
        let key = |h: &crate::dataplane::Nexthop| {
            (h.gateway, h.dev.clone(), h.flags.onlink, h.weight.max(1))
        };
        let mut eh: Vec<_> = e.nexthops.iter().map(key).collect();
        let mut ah: Vec<_> = a.nexthops.iter().map(key).collect();
        eh.sort();
        ah.sort();
        if eh != ah {
            out.push(("next hops", FindingKind::WrongNextHop, Severity::Error));
        }
    } else if !e.kind.drops() {
        let (eh, ah) = (e.first_hop(), a.first_hop());
        let gw = |h: Option<&crate::dataplane::Nexthop>| h.and_then(|h| h.gateway);
        if gw(eh) != gw(ah) {
            out.push(("next hop", FindingKind::WrongNextHop, Severity::Error));
        }
        let edev = eh.and_then(|h| h.dev.as_deref());
        if edev.is_some() && edev != ah.and_then(|h| h.dev.as_deref()) {
            out.push(("device", FindingKind::WrongDevice, Severity::Error));
        }
        let onlink = |h: Option<&crate::dataplane::Nexthop>| h.is_some_and(|h| h.flags.onlink);
        if onlink(eh) != onlink(ah) {
            out.push(("onlink", FindingKind::WrongOnlink, Severity::Error));
        }
    }
    if e.mtu != a.mtu {
        out.push(("MTU", FindingKind::WrongMtu, Severity::Warning));
    }
    if e.scope != a.scope {
        out.push(("scope", FindingKind::WrongScope, Severity::Warning));
    }
    if e.prefsrc.is_some() && e.prefsrc != a.prefsrc {
        out.push(("source", FindingKind::WrongSource, Severity::Warning));
    }
    out
}

/// What a destination matches in the node's tables now, for a missing route's finding.
pub(super) fn now_matches(table: &RouteTable, r: &Route) -> String {
    match table.lookup(r.dst.network()) {
        Some(m) => format!("missing; {} now matches {m}", r.dst.network()),
        None => format!("missing; {} matches no route", r.dst.network()),
    }
}

pub(super) fn diff_routes(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    recreated: &HashSet<String>,
    scope: Option<&RouteKeys>,
    d: &mut Diff,
) {
    let adopt = own.acting();
    let in_scope = |r: &Route| {
        scope.is_none_or(|s| {
            let k = route_key(r);
            s.contains(&(k.0, k.1))
        })
    };
    let on_recreated = |r: &Route| {
        !in_scope(r)
            || r.nexthops
                .iter()
                .any(|h| h.dev.as_ref().is_some_and(|n| recreated.contains(n)))
    };
    // The address changes already planned: the kernel adds their connected routes.
    let addr_changes: HashSet<(String, IpNetwork)> = d
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::AddAddr(a) => IpNetwork::new(a.addr.network(), a.addr.prefix())
                .ok()
                .map(|n| (a.dev.clone(), n)),
            _ => None,
        })
        .collect();
    // The node's routes by identity: the first index per key, and a chain through `next`
    // for the rare routes sharing one (no allocation per route: this runs over 100,000).
    const END: u32 = u32::MAX;
    let considered: Vec<bool> = actual.routes.iter().map(|r| !on_recreated(r)).collect();
    let mut have: HashMap<RouteKey, u32, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(actual.routes.len(), Default::default());
    let mut next: Vec<u32> = vec![END; actual.routes.len()];
    for (i, r) in actual.routes.iter().enumerate().rev() {
        if !considered[i] {
            continue;
        }
        let idx = u32::try_from(i).unwrap_or(END);
        if let Some(prev) = have.insert(route_key(r), idx) {
            next[i] = prev;
        }
    }
    let next = &next;
    let chain = |first: Option<&u32>| {
        let mut at = first.copied().unwrap_or(END);
        std::iter::from_fn(move || {
            let i = at;
            let r = actual.routes.get(i as usize)?;
            at = next[i as usize];
            Some((i as usize, r))
        })
    };
    let mut lookup_table: Option<RouteTable> = None;
    let mut shapes: Option<ShapeIndex> = None;
    // With the CNI's version unknown, the shapes versions disagree on are notes too.
    let loose = (own.shape_unknown && adopt.is_none()).then(|| Tunnels::of(expected));
    let loose = loose.as_ref();
    // A fresh node misses every planned route: room for all of them up front, rather than
    // copying 100,000 findings and changes as the vectors grow (unused room is never
    // touched, so it costs nothing when the node already matches).
    if scope.is_none() {
        d.findings.reserve(expected.routes.len());
        d.changes.reserve(expected.routes.len());
        d.route_keys.reserve(expected.routes.len());
    }
    let mut matched: Vec<bool> = vec![false; actual.routes.len()];
    // The planned prefixes, for the overlap findings of `check` (the agent lists none).
    let mut planned = RouteKeys::default();
    if adopt.is_none() {
        planned.reserve(expected.routes.len());
    }
    for plan_route in &expected.routes {
        let key = route_key(plan_route);
        if scope.is_some_and(|s| !s.contains(&(key.0, key.1))) {
            continue;
        }
        if adopt.is_none() {
            planned.insert((key.0, key.1));
        }
        if adopt.is_some() && !own.cni_route(plan_route) {
            // The machine's own routes (default gateway, its subnets) are not the agent's.
            continue;
        }
        // The agent marks its routes with its own protocol; kernel routes stay kernel.
        let want_proto = if adopt.is_some() && plan_route.proto != Protocol::KERNEL {
            own.agent_proto
        } else {
            plan_route.proto
        };
        let first = have.get(&key);
        let exact = chain(first).find(|(_, a)| route_differences(plan_route, a).is_empty());
        // The common case, cheap: the node has the route as planned.
        if let Some((ai, a)) = exact {
            let proto_ok = a.proto == want_proto
                || a.proto == own.agent_proto
                || (adopt.is_none() && plan_route.proto == a.proto);
            if proto_ok {
                matched[ai] = true;
                continue;
            }
        }
        let mut e = plan_route.clone();
        e.proto = want_proto;
        let object = route_object(&e);
        d.route_keys.insert((key.0, key.1));
        if exact.is_none() && first.is_none() && adopt.is_none() {
            // The same route in another shape (BIRD's metric 1024 or 32, its `src`; Felix's
            // workload metric): one note, not a missing route plus an unexpected one, and no
            // fix, which BIRD or Felix would undo.
            let index = shapes.get_or_insert_with(|| shape_index(actual, &considered));
            let twin = index
                .get(&(key.0, key.1, key.2))
                .into_iter()
                .flatten()
                .map(|&i| (i, &actual.routes[i]))
                .find(|&(i, a)| !matched[i] && same_but_shape(&e, a, loose));
            if let Some((ai, a)) = twin {
                matched[ai] = true;
                d.push(shape_note(&e, a, object), Vec::new());
                continue;
            }
        }
        let Some((ai, a)) = exact.or_else(|| chain(first).next()) else {
            let derived = e.proto == Protocol::KERNEL
                && e.nexthops.iter().any(|h| {
                    h.dev
                        .as_ref()
                        .is_some_and(|dv| addr_changes.contains(&(dv.clone(), key.1)))
                });
            let mut f = Finding::new(Severity::Error, FindingKind::Missing, object);
            if adopt.is_none() {
                // For people: what the traffic hits instead, and the fix. (The agent
                // just adds the route: no need to spend a lookup per route on it.)
                let table = lookup_table.get_or_insert_with(|| {
                    RouteTable::all(actual.routes.iter().filter(|r| !on_recreated(r)).cloned())
                });
                f = f.expected(&e).actual(now_matches(table, &e));
            }
            let change = Change::ReplaceRoute(e);
            if adopt.is_none() {
                f = f.fix(change.commands());
            }
            if derived {
                // The kernel adds it with the address the agent adds.
                d.findings.push(f);
                continue;
            }
            d.push_one(f, adopt.is_some().then_some(change));
            continue;
        };
        matched[ai] = true;
        let diffs = route_differences(&e, a);
        let proto_ok = a.proto == e.proto
            || a.proto == own.agent_proto
            || (adopt.is_none() && plan_route.proto == a.proto);
        let owned = match adopt {
            Some(_) => a.proto == own.agent_proto || a.proto == e.proto,
            // The planned protocol on the planned key: the CNI's route, gone wrong.
            None => own.owns_route(a) || a.proto == plan_route.proto,
        };
        if loose.is_some() && !(diffs.is_empty() && proto_ok) && same_but_shape(&e, a, loose) {
            // Felix's IPIP route (proto 80, mtu) where BIRD's was planned, for one: a fix
            // would be undone by the daemon of whichever version the node runs.
            d.push(shape_note(&e, a, object), Vec::new());
            continue;
        }
        let change = Change::ReplaceRoute(e.clone());
        if diffs.is_empty() {
            if proto_ok {
                continue;
            }
            // Same forwarding, another program's protocol.
            let f = Finding::new(Severity::Info, FindingKind::WrongProtocol, object)
                .expected(&e)
                .actual(a)
                .fix(change.commands());
            let act = adopt == Some(true);
            d.push(f, if act { vec![change] } else { Vec::new() });
            continue;
        }
        let (kind, severity) = if owned {
            (
                diffs[0].1,
                diffs.iter().map(|x| x.2).min().unwrap_or(Severity::Error),
            )
        } else {
            (FindingKind::Conflict, Severity::Error)
        };
        let mut f = Finding::new(severity, kind, object)
            .expected(&e)
            .actual(a)
            .fix(change.commands());
        f.attributes = diffs.iter().map(|x| x.0).collect();
        let act = adopt.is_some() && (owned || adopt == Some(true));
        d.push(f, if act { vec![change] } else { Vec::new() });
    }
    // What the node has beyond the plan.
    for (i, a) in actual.routes.iter().enumerate() {
        if !considered[i] || matched[i] || kernel_derived(a) {
            continue;
        }
        if adopt.is_some() && !own.owns_route(a) {
            // The agent does not list what is not its business.
            continue;
        }
        let k = route_key(a);
        d.route_keys.insert((k.0, k.1));
        let object = route_object(a);
        if own.owns_route(a) {
            let change = Change::DeleteRoute(a.clone());
            let f = Finding::new(Severity::Warning, FindingKind::Unexpected, object)
                .actual(a)
                .fix(change.commands());
            let act = adopt.is_some() && a.proto == own.agent_proto;
            d.push(f, if act { vec![change] } else { Vec::new() });
            continue;
        }
        if adopt.is_some() {
            // The agent does not list what is not its business.
            continue;
        }
        // The most specific planned prefix around it (a default route covers everything:
        // not an overlap).
        let covering = (1..a.dst.prefix()).rev().find_map(|len| {
            let net = IpNetwork::new(a.dst.network(), len).ok()?;
            let net = IpNetwork::new(net.network(), len).ok()?;
            planned.contains(&(a.table, net)).then_some(net)
        });
        let f = match covering {
            Some(net) => Finding::new(Severity::Warning, FindingKind::Overlap, object)
                .expected(format!("{net} as planned, nothing more specific"))
                .actual(a)
                .fix(change::Change::DeleteRoute(a.clone()).commands()),
            None => Finding::new(Severity::Info, FindingKind::Foreign, object).actual(a),
        };
        d.push(f, Vec::new());
    }
}

/// The node's routes by table, destination and TOS, whatever their metric: built only when
/// a planned route is missing.
type ShapeIndex = HashMap<(Table, IpNetwork, u8), Vec<usize>>;

fn shape_index(actual: &NodeState, considered: &[bool]) -> ShapeIndex {
    let mut out: ShapeIndex = HashMap::new();
    for (i, r) in actual.routes.iter().enumerate() {
        if considered[i] {
            let k = route_key(r);
            out.entry((k.0, k.1, k.2)).or_default().push(i);
        }
    }
    out
}

/// The plan's tunnel devices (VXLAN, IPIP): the MTU of a route through one is the
/// daemon's per-version choice (Felix's `mtu` from v3.31 for VXLAN, v3.34 for IPIP).
struct Tunnels(HashSet<String>);

impl Tunnels {
    fn of(plan: &NodeState) -> Tunnels {
        Tunnels(
            plan.links
                .iter()
                .filter(|l| matches!(l.kind, LinkKind::Vxlan(_) | LinkKind::Ipip { .. }))
                .map(|l| l.name.clone())
                .collect(),
        )
    }

    /// True when the route leaves through one of the tunnels.
    fn carries(&self, r: &Route) -> bool {
        r.nexthops
            .iter()
            .any(|h| h.dev.as_ref().is_some_and(|d| self.0.contains(d)))
    }
}

/// True for the two protocols a Calico route has by version: BIRD's and Felix's.
fn calico_proto(p: Protocol) -> bool {
    p == Protocol::BIRD || p == Protocol::FELIX
}

/// True when `a` is the planned route `e` in another shape: same type, next hops and
/// scope; the metric and the preferred source may differ. With `loose` (the CNI's version
/// unknown), also proto bird against Felix's 80 and the MTU of a route into a tunnel;
/// otherwise the protocol and MTU must be the planned ones.
fn same_but_shape(e: &Route, a: &Route, loose: Option<&Tunnels>) -> bool {
    let mut b = a.clone();
    b.prefsrc = e.prefsrc;
    if let Some(t) = loose {
        if calico_proto(e.proto) && calico_proto(a.proto) {
            b.proto = e.proto;
        }
        if t.carries(e) {
            b.mtu = e.mtu;
        }
    }
    b.proto == e.proto && route_differences(e, &b).is_empty()
}

/// The note for the CNI's route `a` in another shape than the planned `e`: no fix.
fn shape_note(e: &Route, a: &Route, object: String) -> Finding {
    let mut f = Finding::new(Severity::Info, FindingKind::ShapeDiffers, object)
        .expected(e)
        .actual(a);
    f.attributes = shape_attributes(e, a);
    f
}

/// The attributes in which a route's shape differs: `metric`, `source`, `protocol`, `MTU`.
fn shape_attributes(e: &Route, a: &Route) -> Vec<&'static str> {
    let mut out = Vec::new();
    if effective_metric(e) != effective_metric(a) {
        out.push("metric");
    }
    if e.prefsrc != a.prefsrc {
        out.push("source");
    }
    if e.proto != a.proto {
        out.push("protocol");
    }
    if e.mtu != a.mtu {
        out.push("MTU");
    }
    out
}
