//! `check`'s engine: a node's findings against its plan, and every node of a cluster
//! against its own, with the findings that only show across nodes.

use ipnetwork::IpNetwork;
use serde::Serialize;

use super::cluster::{ClusterFacts, ClusterFinding, NodeView, cluster_findings};
use super::{Finding, Ownership, Severity, pod_networks};
use crate::dataplane::{NodeState, Protocol};
use crate::model::Cluster;
use crate::snapshot::Loaded;

/// The findings of a node against its plan, as `check` reports them: problems first
/// (errors, then warnings), then what is listed for information. With `shape_unknown`
/// (the CNI's version is not known), a route that differs from the plan only in what the
/// CNI's versions disagree on is one note without a fix (see [`Ownership::shape_unknown`]).
pub fn check(
    plan: &NodeState,
    actual: &NodeState,
    proto: Protocol,
    networks: Vec<IpNetwork>,
    shape_unknown: bool,
) -> Vec<Finding> {
    let mut own = Ownership::cni(plan, proto, networks);
    own.shape_unknown = shape_unknown;
    let mut findings = super::diff(plan, actual, &own).findings;
    findings.sort_by_key(|f| f.severity);
    findings
}

/// True when the cluster's route shapes depend on a CNI version it does not say: Calico
/// with no calico/node version (no image tag, no option). Flannel's shapes do not depend
/// on its version.
pub fn shape_unknown(cluster: &Cluster) -> bool {
    matches!(cluster.mode, crate::model::Mode::Calico(_)) && cluster.versions.calico.is_none()
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Listed for information.
    pub info: usize,
}

impl Summary {
    /// Count `findings` by severity.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.info += 1,
            }
        }
        s
    }

    /// True when there is an error or a warning (exit 1).
    pub fn has_problems(&self) -> bool {
        self.errors + self.warnings > 0
    }
}

/// One node's result in a many-node check.
#[derive(Debug, Serialize)]
pub struct NodeResult {
    /// The node.
    pub node: String,
    /// Where its state came from (null: no snapshot, not checked).
    pub actual: Option<String>,
    /// Its findings' counts, cluster-wide ones on this node included.
    pub summary: Summary,
    /// Its findings against its plan.
    pub findings: Vec<Finding>,
}

/// Check every node of a cluster against its snapshot, then the cluster as a whole.
/// Nodes of the cluster without a snapshot are listed and not checked; a snapshot of a
/// node the cluster does not have is an error. With `only`, one node's results (the
/// cluster findings still look at every node).
pub fn check_many(
    cluster: &Cluster,
    snaps: &[Loaded],
    proto: Protocol,
    only: Option<&str>,
) -> anyhow::Result<(Vec<NodeResult>, Vec<ClusterFinding>)> {
    let is_router = |n: &str| cluster.underlay.routers.iter().any(|r| r.name == n);
    for s in snaps {
        if cluster.node_index(s.node()).is_none() && !is_router(s.node()) {
            anyhow::bail!(
                "{} is of node {:?}, which cluster {} does not have (nodes: {})",
                s.label,
                s.node(),
                cluster.source,
                cluster
                    .nodes
                    .iter()
                    .take(20)
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let networks = pod_networks(cluster);
    let mut plans: Vec<NodeState> = Vec::new();
    let mut absent: Vec<Vec<Finding>> = Vec::new();
    for s in snaps {
        // The plan, with the node's facts where the plan could only guess (pods' host
        // veths, cni0's MAC, pods' MACs).
        let mut plan = crate::plan::node(cluster, s.node())?;
        let facts = super::facts::resolve(&mut plan, &s.snapshot.state, s.snapshot.pods.as_deref());
        absent.push(facts.findings());
        plans.push(plan.state);
    }
    let views: Vec<NodeView<'_>> = snaps
        .iter()
        .zip(&plans)
        .map(|(s, plan)| NodeView {
            name: s.node(),
            actual: &s.snapshot.state,
            plan: Some(plan),
            pod_cidrs: cluster
                .node_index(s.node())
                .map(|k| cluster.nodes[k].pod_cidrs.as_slice())
                .unwrap_or(&[]),
        })
        .collect();
    let facts = ClusterFacts {
        networks: networks.clone(),
        pods: cluster
            .pods
            .iter()
            .filter(|p| !p.host_network)
            .flat_map(|p| p.ips.iter().map(|ip| (p.node.clone(), *ip)))
            .collect(),
        agent_proto: proto,
    };
    let mut wide = cluster_findings(&views, &facts);
    if let Some(n) = only {
        wide.retain(|f| f.nodes.iter().any(|x| x == n));
    }
    let mut results = Vec::new();
    // Every node, then every router that has a snapshot (routers are checked like nodes).
    let names = cluster.nodes.iter().map(|n| n.name.as_str()).chain(
        cluster
            .underlay
            .routers
            .iter()
            .map(|r| r.name.as_str())
            .filter(|r| snaps.iter().any(|s| s.node() == *r)),
    );
    for name in names {
        if only.is_some_and(|n| n != name) {
            continue;
        }
        let found = snaps
            .iter()
            .zip(&plans)
            .zip(&absent)
            .find(|((s, _), _)| s.node() == name);
        let (actual, findings) = match found {
            Some(((s, plan), absent)) => {
                let mut findings = check(
                    plan,
                    &s.snapshot.state,
                    proto,
                    networks.clone(),
                    shape_unknown(cluster),
                );
                findings.extend(absent.iter().cloned());
                (Some(s.label.clone()), findings)
            }
            None => (None, Vec::new()),
        };
        let on_node = wide.iter().filter(|f| f.node == name).map(|f| &f.finding);
        let summary = Summary::of(findings.iter().chain(on_node));
        results.push(NodeResult {
            node: name.to_string(),
            actual,
            summary,
            findings,
        });
    }
    Ok((results, wide))
}
