//! Neighbours and FDB entries: the VTEP entries Flannel and Calico program, stale or
//! missing or not permanent.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::{Change, Diff, Finding, FindingKind, Ownership, Severity};
use crate::dataplane::{FdbEntry, LinkKind, Neighbour, NodeState, NudState};

pub(super) fn neigh_object(dst: &IpAddr, dev: &str) -> String {
    format!("neighbour {dst} dev {dev}")
}

fn neigh_text(n: &Neighbour) -> String {
    let mac = n
        .lladdr
        .map(|m| m.to_string())
        .unwrap_or_else(|| "(none)".into());
    format!("{} lladdr {mac} {:?}", n.dst, n.state).to_lowercase()
}

/// A planned neighbour or FDB entry the node lacks: an error, applied whenever the agent acts.
pub(super) fn push_missing(
    d: &mut Diff,
    object: String,
    expected: String,
    change: Change,
    acting: bool,
) {
    let f = Finding::new(Severity::Error, FindingKind::Missing, object)
        .expected(expected)
        .fix(change.commands());
    d.push(f, if acting { vec![change] } else { Vec::new() });
}

/// How a neighbour or FDB entry the node has differs from the plan's: stale (it points
/// elsewhere) or not permanent where the plan is; `None` when it matches.
pub(super) fn entry_drift(
    stale: bool,
    actual: NudState,
    expected: NudState,
) -> Option<(FindingKind, Severity)> {
    if stale {
        Some((FindingKind::Stale, Severity::Error))
    } else if actual != NudState::Permanent && expected == NudState::Permanent {
        Some((FindingKind::NotPermanent, Severity::Warning))
    } else {
        None
    }
}

/// A neighbour or FDB entry that differs from the plan (its expected and actual text), its
/// change applied when `act`.
pub(super) fn push_drift(
    d: &mut Diff,
    (kind, severity): (FindingKind, Severity),
    object: String,
    (expected, actual): (String, String),
    change: Change,
    act: bool,
) {
    let f = Finding::new(severity, kind, object)
        .expected(expected)
        .actual(actual)
        .fix(change.commands());
    d.push(f, if act { vec![change] } else { Vec::new() });
}

pub(super) fn diff_neighbours(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    recreated: &HashSet<String>,
    d: &mut Diff,
) {
    let adopt = own.acting();
    let have: HashMap<(&str, IpAddr), &Neighbour> = actual
        .neighbours
        .iter()
        .filter(|n| !recreated.contains(&n.dev))
        .map(|n| ((n.dev.as_str(), n.dst), n))
        .collect();
    let mut want = HashSet::new();
    for e in &expected.neighbours {
        want.insert((e.dev.as_str(), e.dst));
        let change = Change::ReplaceNeighbour(e.clone());
        let object = neigh_object(&e.dst, &e.dev);
        match have.get(&(e.dev.as_str(), e.dst)) {
            None => push_missing(d, object, neigh_text(e), change, adopt.is_some()),
            Some(a) => {
                let Some(drift) = entry_drift(a.lladdr != e.lladdr, a.state, e.state) else {
                    continue;
                };
                let owned = own.owns_device(&e.dev) || adopt == Some(true);
                let act = adopt.is_some() && (owned || a.state != NudState::Permanent);
                let texts = (neigh_text(e), neigh_text(a));
                push_drift(d, drift, object, texts, change, act);
            }
        }
    }
    // Permanent entries on owned devices that the plan no longer has: left behind for a
    // node that is gone (or a VTEP that moved).
    for a in &actual.neighbours {
        if a.state != NudState::Permanent
            || recreated.contains(&a.dev)
            || want.contains(&(a.dev.as_str(), a.dst))
            || !own.owns_device(&a.dev)
        {
            continue;
        }
        let change = Change::DeleteNeighbour(a.clone());
        let f = Finding::new(
            Severity::Warning,
            FindingKind::Unexpected,
            neigh_object(&a.dst, &a.dev),
        )
        .actual(neigh_text(a))
        .fix(change.commands());
        d.push(
            f,
            if adopt.is_some() {
                vec![change]
            } else {
                Vec::new()
            },
        );
    }
}

pub(super) fn fdb_object(e: &FdbEntry) -> String {
    format!("fdb {} dev {}", e.mac, e.dev)
}

fn fdb_text(e: &FdbEntry) -> String {
    let dst = e
        .dst
        .map(|d| d.to_string())
        .unwrap_or_else(|| "(none)".into());
    format!("{} dst {dst} {:?}", e.mac, e.state).to_lowercase()
}

/// FDB identity: the MAC on its device (several remotes only for the all-zero MAC).
fn fdb_key(e: &FdbEntry) -> (String, [u8; 6], Option<IpAddr>) {
    let dst = if e.mac.is_zero() { e.dst } else { None };
    (e.dev.clone(), e.mac.0, dst)
}

pub(super) fn diff_fdb(
    expected: &NodeState,
    actual: &NodeState,
    own: &Ownership,
    recreated: &HashSet<String>,
    d: &mut Diff,
) {
    let adopt = own.acting();
    let vxlan_devs: HashSet<&str> = actual
        .links
        .iter()
        .filter(|l| matches!(l.kind, LinkKind::Vxlan(_)))
        .map(|l| l.name.as_str())
        .collect();
    let relevant = |e: &FdbEntry| e.self_ && e.master.is_none() && !recreated.contains(&e.dev);
    let have: HashMap<_, &FdbEntry> = actual
        .fdb
        .iter()
        .filter(|e| relevant(e))
        .map(|e| (fdb_key(e), e))
        .collect();
    let want: HashSet<_> = expected.fdb.iter().map(fdb_key).collect();
    for e in &expected.fdb {
        let change = Change::ReplaceFdb(e.clone());
        match have.get(&fdb_key(e)) {
            None => push_missing(d, fdb_object(e), fdb_text(e), change, adopt.is_some()),
            Some(a) => {
                let Some(drift) = entry_drift(a.dst != e.dst, a.state, e.state) else {
                    continue;
                };
                let owned = own.owns_device(&e.dev) || adopt == Some(true);
                let act = adopt.is_some() && owned;
                let texts = (fdb_text(e), fdb_text(a));
                push_drift(d, drift, fdb_object(e), texts, change, act);
            }
        }
    }
    for a in &actual.fdb {
        if !relevant(a)
            || want.contains(&fdb_key(a))
            || !vxlan_devs.contains(a.dev.as_str())
            || !own.owns_device(&a.dev)
        {
            continue;
        }
        let change = Change::DeleteFdb(a.clone());
        let f = Finding::new(Severity::Warning, FindingKind::Unexpected, fdb_object(a))
            .actual(fdb_text(a))
            .fix(change.commands());
        d.push(
            f,
            if adopt.is_some() {
                vec![change]
            } else {
                Vec::new()
            },
        );
    }
}
