//! Where the agent's plan comes from when it is computed from a cluster description, re-read
//! when the cluster file changes. Plan files are [`crate::snapshot::document::PlanFile`].

use std::path::Path;
use std::time::SystemTime;

use crate::dataplane::NodeState;
use crate::diff::pod_networks;
use crate::snapshot::document::sane_plan;

/// A node's plan computed from a cluster description, re-computed when the cluster file
/// changes (`demo:NAME` clusters never change).
pub struct ClusterPlan {
    load: Box<dyn Fn() -> anyhow::Result<crate::model::Cluster>>,
    path: Option<std::path::PathBuf>,
    label: String,
    node: String,
    stamp: Option<(SystemTime, u64)>,
}

impl ClusterPlan {
    /// Plan `node` of the cluster that `load` reads (from `spec`: a path or `demo:NAME`).
    pub fn new(
        spec: &str,
        node: &str,
        load: Box<dyn Fn() -> anyhow::Result<crate::model::Cluster>>,
    ) -> ClusterPlan {
        let path = Path::new(spec);
        ClusterPlan {
            load,
            path: path.exists().then(|| path.to_path_buf()),
            label: format!("cluster {spec} node {node}"),
            node: node.to_string(),
            stamp: None,
        }
    }

    fn current_stamp(&self) -> Option<(SystemTime, u64)> {
        let meta = std::fs::metadata(self.path.as_ref()?).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    }

    /// What it is, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// True when the cluster file changed since the last load.
    pub fn changed(&self) -> bool {
        self.path.is_some() && self.current_stamp() != self.stamp
    }

    /// Load the cluster and plan the node; also return the cluster's pod networks.
    pub fn load_with_networks(&mut self) -> anyhow::Result<(NodeState, Vec<ipnetwork::IpNetwork>)> {
        self.stamp = self.current_stamp();
        let cluster = (self.load)()?;
        let plan = crate::plan::node(&cluster, &self.node)?;
        let mut state = plan.state;
        if state.node.is_empty() {
            state.node = self.node.clone();
        }
        sane_plan(&state, &self.label)?;
        Ok((state, pod_networks(&cluster)))
    }
}
