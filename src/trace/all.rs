//! `trace --all`: one representative pod per node, every ordered node pair traced both
//! ways, and the broken pairs grouped by reason.

use std::collections::BTreeMap;

use serde::Serialize;

use super::endpoint::Endpoint;
use super::{Probe, Reason, Refusal, Verdict, trace};
use crate::world::{HostId, HostKind, World};

/// A pair that does not work in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broken {
    /// Source node.
    pub from: String,
    /// Destination node.
    pub to: String,
    /// `request` or `reply`.
    pub direction: &'static str,
    /// Where the packet was dropped.
    pub at: String,
    /// Why.
    pub reason: Reason,
    /// The root cause upstream: a planned route a host's kernel refused, which sent the
    /// packet elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Refusal>,
}

impl Broken {
    /// The code it is grouped by: the root cause's when there is one.
    pub fn code(&self) -> &'static str {
        self.after
            .as_ref()
            .map_or_else(|| self.reason.code(), Refusal::code)
    }
}

/// Broken pairs sharing one reason code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonGroup {
    /// The reason code (`next-hop-not-on-link` …), the root cause's when there is one.
    pub code: String,
    /// How many directions failed for it.
    pub count: usize,
    /// The first failure's full reason, as an example.
    pub example: String,
}

/// The result of `--all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    /// The representative of each node (`node`, endpoint label).
    pub representatives: Vec<(String, String)>,
    /// Ordered pairs traced.
    pub pairs: usize,
    /// Pairs delivered both ways.
    pub ok: usize,
    /// Pairs delivered both ways over different hosts.
    pub asymmetric: usize,
    /// Every failed direction.
    pub broken: Vec<Broken>,
    /// Failures grouped by reason, most frequent first.
    pub by_reason: Vec<ReasonGroup>,
}

impl Matrix {
    /// True when every pair got through both ways.
    pub fn all_ok(&self) -> bool {
        self.broken.is_empty()
    }
}

/// For each node, its first pod with its own network namespace, else the node itself.
pub fn representatives(world: &World) -> Vec<(HostId, HostId)> {
    let nodes: Vec<HostId> = world.ids(HostKind::Node).collect();
    let mut first: BTreeMap<HostId, HostId> = BTreeMap::new();
    for p in world.ids(HostKind::Pod) {
        if let Some(n) = world.parent(p) {
            first.entry(n).or_insert(p);
        }
    }
    nodes
        .into_iter()
        .map(|n| (n, first.get(&n).copied().unwrap_or(n)))
        .collect()
}

/// Trace every ordered pair of representatives.
pub fn all(world: &World, probe: Probe) -> Matrix {
    let reps = representatives(world);
    let endpoints: Vec<Endpoint> = reps
        .iter()
        .map(|&(_, h)| {
            let kind = world.kind(h);
            let ip = world.primary_ip(h);
            Endpoint {
                label: world.name(h).to_string(),
                kind: Some(kind),
                host: Some(h),
                ip: if kind == HostKind::Pod { ip } else { None },
                note: None,
            }
        })
        .collect();
    let dst_endpoints: Vec<Endpoint> = endpoints
        .iter()
        .map(|e| Endpoint {
            ip: e.host.and_then(|h| world.primary_ip(h)),
            ..e.clone()
        })
        .collect();
    let mut broken = Vec::new();
    let (mut pairs, mut ok, mut asymmetric) = (0, 0, 0);
    for (i, src) in endpoints.iter().enumerate() {
        for (j, dst) in dst_endpoints.iter().enumerate() {
            if i == j {
                continue;
            }
            pairs += 1;
            let t = trace(world, src, dst, probe);
            let from = world.name(reps[i].0);
            let to = world.name(reps[j].0);
            let mut good = true;
            for (direction, path) in [("request", Some(&t.request)), ("reply", t.reply.as_ref())] {
                if let Some(Verdict::Dropped {
                    host,
                    reason,
                    after,
                    ..
                }) = path.map(|p| &p.verdict)
                {
                    good = false;
                    broken.push(Broken {
                        from: from.to_string(),
                        to: to.to_string(),
                        direction,
                        at: host.clone(),
                        reason: reason.clone(),
                        after: after.as_deref().cloned(),
                    });
                }
            }
            if good {
                ok += 1;
                if t.symmetric == Some(false) {
                    asymmetric += 1;
                }
            }
        }
    }
    let mut groups: BTreeMap<&'static str, ReasonGroup> = BTreeMap::new();
    for b in &broken {
        let g = groups.entry(b.code()).or_insert_with(|| ReasonGroup {
            code: b.code().to_string(),
            count: 0,
            example: match &b.after {
                None => format!(
                    "{} → {} ({}), at {}: {}",
                    b.from, b.to, b.direction, b.at, b.reason
                ),
                Some(a) => format!(
                    "{} → {} ({}): {a}; dropped at {}: {}",
                    b.from, b.to, b.direction, b.at, b.reason
                ),
            },
        });
        g.count += 1;
    }
    let mut by_reason: Vec<ReasonGroup> = groups.into_values().collect();
    by_reason.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    Matrix {
        representatives: reps
            .iter()
            .zip(&endpoints)
            .map(|(&(n, _), e)| (world.name(n).to_string(), e.label.clone()))
            .collect(),
        pairs,
        ok,
        asymmetric,
        broken,
        by_reason,
    }
}
