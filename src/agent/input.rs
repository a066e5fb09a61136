//! Where the expected state comes from: a plan file (`netpath plan --json` output, or a
//! raw NodeState document), or a snapshot file for the actual state.

use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::dataplane::NodeState;

/// Read a node state out of a JSON document: a raw NodeState, a `netpath.plan/v1`
/// document (`plan.state`), a `netpath.snapshot/v1` document (`state` or top level), or a
/// document with several nodes (`nodes`: a list or a map) when `node` names one.
pub fn node_state_from_json(
    text: &str,
    node: Option<&str>,
    what: &str,
) -> anyhow::Result<NodeState> {
    let doc: Value =
        serde_json::from_str(text).with_context(|| format!("{what} is not valid JSON"))?;
    let Value::Object(mut obj) = doc else {
        bail!("{what} is not a JSON object");
    };
    if let Some(schema) = obj.get("schema").and_then(Value::as_str) {
        if !schema.starts_with("netpath.") {
            bail!("{what} has schema {schema:?}, not a netpath plan or snapshot");
        }
    }
    let doc_node = obj.get("node").and_then(Value::as_str).map(str::to_string);
    // Move the state out of the document (no copy: plans can hold 100,000 routes).
    let candidate: Value = if let Some(mut plan) = obj.remove("plan") {
        match plan.get_mut("state").map(Value::take) {
            Some(state) => state,
            None => plan,
        }
    } else if let Some(state) = obj.remove("state") {
        state
    } else if let Some(nodes) = obj.remove("nodes") {
        pick_node(nodes, node, what)?
    } else {
        Value::Object(obj)
    };
    let Value::Object(mut fields) = candidate else {
        bail!("{what}: the node state is not a JSON object");
    };
    if !["links", "routes", "addrs", "neighbours", "fdb"]
        .iter()
        .any(|k| fields.contains_key(*k))
    {
        bail!(
            "{what} holds no node state (expected a NodeState with links/routes, a \
             netpath.plan/v1 document from `netpath plan --json`, or a snapshot)"
        );
    }
    if !fields.contains_key("node") {
        fields.insert("node".into(), Value::String(doc_node.unwrap_or_default()));
    }
    let state: NodeState = serde_json::from_value(Value::Object(fields))
        .with_context(|| format!("{what}: not a valid node state"))?;
    if let Some(want) = node {
        if !state.node.is_empty() && state.node != want {
            bail!("{what} is for node {:?}, not {want:?}", state.node);
        }
    }
    Ok(state)
}

fn pick_node(nodes: Value, node: Option<&str>, what: &str) -> anyhow::Result<Value> {
    let list: Vec<Value> = match nodes {
        Value::Array(a) => a,
        Value::Object(m) => m.into_iter().map(|(_, v)| v).collect(),
        _ => bail!("{what}: \"nodes\" is neither a list nor a map"),
    };
    let state_of = |mut v: Value| match v.get_mut("state").map(Value::take) {
        Some(s) => s,
        None => v,
    };
    let named = |v: &Value, want: &str| {
        v.get("node").and_then(Value::as_str) == Some(want)
            || v.get("name").and_then(Value::as_str) == Some(want)
            || v.get("state")
                .and_then(|s| s.get("node"))
                .and_then(Value::as_str)
                == Some(want)
    };
    let n = list.len();
    match node {
        Some(want) => list
            .into_iter()
            .find(|v| named(v, want))
            .map(state_of)
            .with_context(|| format!("{what} has no node {want:?}")),
        None if n == 1 => Ok(list.into_iter().map(state_of).next().unwrap_or_default()),
        None => bail!("{what} holds {n} nodes: say which with --node"),
    }
}

/// Refuse plans that would make the agent remove everything it owns: an empty document
/// is far more likely a truncated file than a real plan.
pub fn sane_plan(state: &NodeState, what: &str) -> anyhow::Result<()> {
    if state.links.is_empty() && state.routes.is_empty() && state.addrs.is_empty() {
        bail!("{what} has no devices, addresses or routes: refusing an empty plan");
    }
    Ok(())
}

/// A plan file, re-read when it changes.
#[derive(Debug, Clone)]
pub struct PlanFile {
    path: std::path::PathBuf,
    node: Option<String>,
    stamp: Option<(SystemTime, u64)>,
}

impl PlanFile {
    /// Watch `path`, for `node` when the document holds several.
    pub fn new(path: &Path, node: Option<&str>) -> PlanFile {
        PlanFile {
            path: path.to_path_buf(),
            node: node.map(str::to_string),
            stamp: None,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the file changed (mtime or size) since the last [`PlanFile::load`].
    pub fn changed(&self) -> bool {
        self.current_stamp() != self.stamp
    }

    fn current_stamp(&self) -> Option<(SystemTime, u64)> {
        let meta = std::fs::metadata(&self.path).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    }

    /// Read and check the plan.
    pub fn load(&mut self) -> anyhow::Result<NodeState> {
        self.stamp = self.current_stamp();
        let what = format!("plan file {}", self.path.display());
        let text =
            std::fs::read_to_string(&self.path).with_context(|| format!("cannot read {what}"))?;
        let state = node_state_from_json(&text, self.node.as_deref(), &what)?;
        sane_plan(&state, &what)?;
        Ok(state)
    }
}

/// The pod networks of a cluster (Flannel's `Network`, Calico's pools): routes with proto
/// boot inside them are the CNI's (Flannel host-gw programs exactly those).
pub fn pod_networks(cluster: &crate::model::Cluster) -> Vec<ipnetwork::IpNetwork> {
    match &cluster.mode {
        crate::model::Mode::Flannel(f) => vec![f.network],
        crate::model::Mode::Calico(c) => c.pools.iter().map(|p| p.cidr).collect(),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plan_documents_and_raw_states() {
        let raw = r#"{"node":"n1","links":[],"routes":[{"dst":"10.244.2.0/24","type":"blackhole","table":254,"proto":80,"scope":"universe","nexthops":[]}]}"#;
        let s = node_state_from_json(raw, None, "x").unwrap();
        assert_eq!(s.node, "n1");
        assert_eq!(s.routes.len(), 1);
        let doc = format!(
            r#"{{"schema":"netpath.plan/v1","node":"n1","plan":{{"state":{raw},"pods":[]}}}}"#
        );
        assert_eq!(node_state_from_json(&doc, Some("n1"), "x").unwrap(), s);
        assert!(node_state_from_json(&doc, Some("n2"), "x").is_err());
        let many = format!(r#"{{"nodes":[{raw}]}}"#);
        assert_eq!(node_state_from_json(&many, Some("n1"), "x").unwrap(), s);
        // Truncated, foreign, or empty documents are refused.
        assert!(node_state_from_json(&raw[..40], None, "x").is_err());
        assert!(node_state_from_json(r#"{"schema":"other/v1","links":[]}"#, None, "x").is_err());
        assert!(node_state_from_json(r#"{"a":1}"#, None, "x").is_err());
        let empty = node_state_from_json(r#"{"links":[]}"#, None, "x").unwrap();
        assert!(sane_plan(&empty, "x").is_err());
    }
}
