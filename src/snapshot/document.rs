//! Node-state documents: a `netpath.plan/v1` document (`netpath plan --json`), a raw
//! NodeState, a `netpath.snapshot/v1` document, or a document with several nodes; and a
//! plan file re-read when it changes.

use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::dataplane::NodeState;

/// Declares a struct holding every NodeState field as an optional value (`node` included),
/// after the given extra fields: the top-level document and a nested state share one list.
macro_rules! optional_state {
    ($(#[$meta:meta])* struct $name:ident { $($extra:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        struct $name {
            $(
                #[serde(default)]
                $extra: $ty,
            )*
            #[serde(default)]
            node: Option<String>,
            #[serde(default)]
            links: Option<Vec<crate::dataplane::Link>>,
            #[serde(default)]
            addrs: Option<Vec<crate::dataplane::Addr>>,
            #[serde(default)]
            routes: Option<Vec<crate::dataplane::Route>>,
            #[serde(default)]
            rules: Option<Vec<crate::dataplane::Rule>>,
            #[serde(default)]
            neighbours: Option<Vec<crate::dataplane::Neighbour>>,
            #[serde(default)]
            fdb: Option<Vec<crate::dataplane::FdbEntry>>,
            #[serde(default)]
            sysctls: Option<crate::dataplane::Sysctls>,
        }
    };
}

optional_state! {
    /// The shapes a node state comes in, parsed in one typed pass (plans can hold 100,000
    /// routes: no intermediate `serde_json::Value` for them, hence no `#[serde(flatten)]`).
    #[derive(serde::Deserialize)]
    struct Envelope {
        schema: Option<String>,
        plan: Option<PlanPart>,
        state: Option<RawState>,
        nodes: Option<Value>,
    }
}

#[derive(serde::Deserialize)]
struct PlanPart {
    state: RawState,
}

optional_state! {
    /// A NodeState whose fields may all be missing (`node` included).
    #[derive(serde::Deserialize, Default)]
    struct RawState {}
}

impl RawState {
    fn is_state(&self) -> bool {
        self.links.is_some()
            || self.addrs.is_some()
            || self.routes.is_some()
            || self.neighbours.is_some()
            || self.fdb.is_some()
    }

    fn into_state(self, node: Option<String>) -> NodeState {
        NodeState {
            node: self.node.or(node).unwrap_or_default(),
            links: self.links.unwrap_or_default(),
            addrs: self.addrs.unwrap_or_default(),
            routes: self.routes.unwrap_or_default(),
            rules: self.rules.unwrap_or_default(),
            neighbours: self.neighbours.unwrap_or_default(),
            fdb: self.fdb.unwrap_or_default(),
            sysctls: self.sysctls.unwrap_or_default(),
        }
    }
}

/// Read a node state out of a JSON document: a raw NodeState, a `netpath.plan/v1`
/// document (`plan.state`), a `netpath.snapshot/v1` document (`state` or top level), or a
/// document with several nodes (`nodes`: a list or a map) when `node` names one.
pub fn node_state_from_json(
    text: &str,
    node: Option<&str>,
    what: &str,
) -> anyhow::Result<NodeState> {
    if !text.trim_start().starts_with('{') {
        bail!("{what} is not a JSON object");
    }
    let env: Envelope = serde_json::from_str(text).map_err(|e| {
        let why = if e.is_syntax() || e.is_eof() {
            "is not valid JSON"
        } else {
            "is not a valid node state"
        };
        anyhow::Error::new(e).context(format!("{what} {why}"))
    })?;
    if let Some(schema) = &env.schema {
        if !schema.starts_with("netpath.") {
            bail!("{what} has schema {schema:?}, not a netpath plan or snapshot");
        }
    }
    let raw = if let Some(plan) = env.plan {
        plan.state
    } else if let Some(state) = env.state {
        state
    } else if let Some(nodes) = env.nodes {
        let v = pick_node(nodes, node, what)?;
        serde_json::from_value(v).with_context(|| format!("{what}: not a valid node state"))?
    } else {
        RawState {
            node: None,
            links: env.links,
            addrs: env.addrs,
            routes: env.routes,
            rules: env.rules,
            neighbours: env.neighbours,
            fdb: env.fdb,
            sysctls: env.sysctls,
        }
    };
    if !raw.is_state() {
        bail!(
            "{what} holds no node state (expected a NodeState with links/routes, a \
             netpath.plan/v1 document from `netpath plan --json`, or a snapshot)"
        );
    }
    let state = raw.into_state(env.node);
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
            crate::input::read_to_string(&self.path, "plan file", crate::input::MAX_DOCUMENT)?;
        let state = node_state_from_json(&text, self.node.as_deref(), &what)?;
        sane_plan(&state, &what)?;
        Ok(state)
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
