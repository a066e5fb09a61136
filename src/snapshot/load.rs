//! The one loader of node state from disk: a snapshot file, a directory of text dumps, or a
//! directory holding one of either per node. `check` also takes any document that holds a
//! node state (a NodeState, a plan); `trace` only snapshot documents, whose pods it walks.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::document::node_state_from_json;
use super::text_dump::{from_dir, is_text_dump};
use super::{SCHEMA, Snapshot, Source};

/// Which JSON documents the loader takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// Only `netpath.snapshot/v1` documents, whole (pods, kernel, time): for `trace`.
    Snapshots,
    /// Any document holding a node state (a snapshot, a NodeState, a plan), one node per
    /// file, named after the file when the document does not say: for `check`.
    NodeStates,
}

/// A node's state as loaded, and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The snapshot (`snapshot.state` is the node's state; a document that is not a
    /// snapshot comes with [`Source::Document`] and no pods).
    pub snapshot: Snapshot,
    /// The file or directory it came from.
    pub path: PathBuf,
    /// Where it comes from, for people (`snapshot snaps/node-1.json`, `text snapshot d`).
    pub label: String,
}

impl Loaded {
    /// The file's name without extension (`node-2` for `snaps/node-2.json`), or the
    /// directory's name: the node a snapshot belongs to when its own node name is not one
    /// of the cluster's.
    pub fn file_stem(&self) -> String {
        stem(&self.path)
    }

    /// The node's name.
    pub fn node(&self) -> &str {
        &self.snapshot.state.node
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Load every snapshot `path` holds: a snapshot file, a text-dump directory (one node), or a
/// directory of snapshot files (`*.json`) and text-dump subdirectories (one per node).
pub fn load(path: &Path) -> anyhow::Result<Vec<Loaded>> {
    load_states(path, Accept::Snapshots, None)
}

/// Load the node states at `path` (a file, one node's text dumps, or a directory with one
/// of those per node), taking the documents `accept` says. With `node`, only that node's
/// ([`Accept::NodeStates`] only: a file holding several nodes gives that one).
pub fn load_states(path: &Path, accept: Accept, node: Option<&str>) -> anyhow::Result<Vec<Loaded>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) if accept == Accept::NodeStates => {
            bail!("snapshot {} does not exist", path.display())
        }
        Err(e) => {
            return Err(
                anyhow::Error::new(e).context(format!("cannot read snapshot {}", path.display()))
            );
        }
    };
    if !meta.is_dir() {
        return Ok(vec![load_document(path, accept, node)?]);
    }
    if is_text_dump(path) {
        return Ok(vec![load_text(path)?]);
    }
    let mut out: Vec<Loaded> = Vec::new();
    for p in entries(path, accept)? {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let json = match accept {
            Accept::Snapshots => name.to_ascii_lowercase().ends_with(".json"),
            Accept::NodeStates => p.extension().is_some_and(|e| e == "json"),
        };
        let one = if name.starts_with('.') {
            continue;
        } else if p.is_dir() && is_text_dump(&p) {
            load_text(&p)?
        } else if json && p.is_file() {
            load_document(&p, accept, None)?
        } else {
            continue;
        };
        if accept == Accept::NodeStates
            && let Some(prev) = out.iter().find(|s| s.node() == one.node())
        {
            bail!(
                "{} and {} are both snapshots of node {:?}: keep one",
                prev.label,
                one.label,
                one.node()
            );
        }
        out.push(one);
    }
    if let Some(want) = node {
        out.retain(|s| s.node() == want);
        if out.is_empty() {
            bail!("{} holds no snapshot of node {want:?}", path.display());
        }
    }
    if out.is_empty() {
        match accept {
            Accept::Snapshots => bail!(
                "{} holds no snapshots: expected a netpath.snapshot/v1 file, a directory of text dumps (ip-route.txt, ip-link.txt, ip-addr.txt, ip-neigh.txt, bridge-fdb.txt, sysctl.txt), or a directory of those, one per node",
                path.display()
            ),
            Accept::NodeStates => bail!(
                "{} holds no snapshots (*.json from `netpath snapshot`, or one directory of text dumps per node)",
                path.display()
            ),
        }
    }
    Ok(out)
}

/// The directory's entries, sorted.
fn entries(dir: &Path, accept: Accept) -> anyhow::Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir);
    let mut entries: Vec<PathBuf> = match accept {
        Accept::Snapshots => rd
            .with_context(|| format!("cannot read directory {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect(),
        Accept::NodeStates => rd
            .with_context(|| format!("cannot read snapshot directory {}", dir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .with_context(|| format!("cannot read snapshot directory {}", dir.display()))?,
    };
    entries.sort();
    Ok(entries)
}

fn load_text(dir: &Path) -> anyhow::Result<Loaded> {
    Ok(Loaded {
        snapshot: from_dir(dir)?,
        path: dir.to_path_buf(),
        label: format!("text snapshot {}", dir.display()),
    })
}

fn load_document(path: &Path, accept: Accept, node: Option<&str>) -> anyhow::Result<Loaded> {
    let label = format!("snapshot {}", path.display());
    let snapshot = match accept {
        Accept::Snapshots => load_file(path)?,
        // A snapshot document is taken whole (its pod map tells which veth is whose pod).
        Accept::NodeStates
            if let Ok(s) = load_file(path)
                && node.is_none_or(|n| s.state.node == n) =>
        {
            s
        }
        Accept::NodeStates => {
            let text = crate::input::read_to_string(path, "snapshot", crate::input::MAX_DOCUMENT)
                .with_context(|| format!("cannot read {label}"))?;
            let mut state = node_state_from_json(&text, node, &label)?;
            if state.node.is_empty() {
                state.node = stem(path);
            }
            Snapshot {
                taken_at: String::new(),
                source: Source::Document {
                    path: path.display().to_string(),
                },
                kernel: None,
                state,
                pods: None,
                unread: Vec::new(),
                warnings: Vec::new(),
            }
        }
    };
    Ok(Loaded {
        snapshot,
        path: path.to_path_buf(),
        label,
    })
}

/// Load one `netpath.snapshot/v1` file.
pub fn load_file(path: &Path) -> anyhow::Result<Snapshot> {
    let bytes = crate::input::read(path, "snapshot", crate::input::MAX_DOCUMENT)?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        bail!(
            "{} is not a snapshot document (JSON with \"schema\": \"{SCHEMA}\"): make one with `netpath snapshot -o FILE`, or pass the directory of text dumps it came from",
            path.display()
        );
    }
    #[derive(serde::Deserialize)]
    struct Head {
        schema: Option<String>,
    }
    match serde_json::from_slice::<Head>(&bytes) {
        Ok(Head { schema: Some(s) }) if s != SCHEMA => bail!(
            "{} is a {s} document, not a snapshot ({SCHEMA})",
            path.display()
        ),
        Ok(Head { schema: None }) => bail!(
            "{} has no \"schema\" field: not a snapshot document ({SCHEMA})",
            path.display()
        ),
        _ => {}
    }
    serde_json::from_slice(&bytes).with_context(|| format!("reading snapshot {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("node-a");
        std::fs::create_dir(&text).unwrap();
        std::fs::write(
            text.join("ip-route.txt"),
            "10.244.1.0/24 via 10.0.0.2 dev eth0\n",
        )
        .unwrap();
        std::fs::write(text.join("uname"), "Linux node-a 6.1.0 #1 SMP\n").unwrap();
        let one = load(&text).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].snapshot.node(), "node-a");
        assert_eq!(one[0].snapshot.kernel.as_deref(), Some("6.1.0"));
        assert!(one[0].snapshot.pods.is_none());
        assert!(
            one[0]
                .snapshot
                .warnings
                .iter()
                .any(|w| w.contains("missing")),
            "{:?}",
            one[0].snapshot.warnings
        );
        // A directory of one JSON file and one text dump: two snapshots.
        let json = serde_json::to_string(&one[0].snapshot).unwrap();
        std::fs::write(dir.path().join("node-b.json"), json).unwrap();
        std::fs::write(dir.path().join("README"), "notes").unwrap();
        let two = load(dir.path()).unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[1].file_stem(), "node-b");
        // Node states: the same file is one of node-a's, named twice.
        let e = load_states(dir.path(), Accept::NodeStates, None).unwrap_err();
        assert!(e.to_string().contains("both snapshots of node"), "{e}");
        // Errors name the file and say what is wrong.
        let bad = dir.path().join("plan.json");
        std::fs::write(&bad, r#"{"schema":"netpath.plan/v1"}"#).unwrap();
        let e = load(&bad).unwrap_err().to_string();
        assert!(
            e.contains("netpath.plan/v1 document, not a snapshot"),
            "{e}"
        );
        std::fs::write(&bad, "10.0.0.0/8 dev eth0").unwrap();
        let e = load(&bad).unwrap_err().to_string();
        assert!(e.contains("not a snapshot document"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        let e = load(empty.path()).unwrap_err().to_string();
        assert!(e.contains("holds no snapshots"), "{e}");
    }
}
