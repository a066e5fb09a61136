//! Loading snapshots: a `netpath.snapshot/v1` file, a directory of text dumps (converted
//! through `crate::dataplane::parse::node_from_dir`), or a directory holding one of either
//! per node.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, bail};

use super::{SCHEMA, Snapshot, Source, now_rfc3339, time};
use crate::dataplane::parse::{SnapshotFile, node_from_dir};

/// A snapshot and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// The file or directory it came from.
    pub path: PathBuf,
}

impl Loaded {
    /// The file's name without extension (`node-2` for `snaps/node-2.json`), or the
    /// directory's name: the node a snapshot belongs to when its own node name is not one
    /// of the cluster's.
    pub fn file_stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Load every snapshot `path` holds: a snapshot file, a text-dump directory (one node), or a
/// directory of snapshot files (`*.json`) and text-dump subdirectories (one per node).
pub fn load(path: &Path) -> anyhow::Result<Vec<Loaded>> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read snapshot {}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![Loaded {
            snapshot: load_file(path)?,
            path: path.to_path_buf(),
        }]);
    }
    if is_text_dump(path) {
        return Ok(vec![Loaded {
            snapshot: from_dir(path)?,
            path: path.to_path_buf(),
        }]);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("cannot read directory {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut out = Vec::new();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            if is_text_dump(&p) {
                out.push(Loaded {
                    snapshot: from_dir(&p)?,
                    path: p,
                });
            }
        } else if name.to_ascii_lowercase().ends_with(".json") {
            out.push(Loaded {
                snapshot: load_file(&p)?,
                path: p,
            });
        }
    }
    if out.is_empty() {
        bail!(
            "{} holds no snapshots: expected a netpath.snapshot/v1 file, a directory of text dumps (ip-route.txt, ip-link.txt, ip-addr.txt, ip-neigh.txt, bridge-fdb.txt, sysctl.txt), or a directory of those, one per node",
            path.display()
        );
    }
    Ok(out)
}

/// Load one `netpath.snapshot/v1` file.
pub fn load_file(path: &Path) -> anyhow::Result<Snapshot> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read snapshot {}", path.display()))?;
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

/// Convert a directory of text dumps into a snapshot (warnings listed in it). The time is
/// the newest file's modification time (when the dumps were made), and the kernel release
/// comes from a `uname` file when there is one.
pub fn from_dir(dir: &Path) -> anyhow::Result<Snapshot> {
    let (state, warnings) = node_from_dir(dir)?;
    let (newest, kernel) = dir_facts(dir);
    Ok(Snapshot {
        taken_at: newest.map(time::rfc3339).unwrap_or_else(now_rfc3339),
        source: Source::TextDump {
            dir: dir.display().to_string(),
        },
        kernel,
        state,
        pods: None,
        unread: Vec::new(),
        warnings,
    })
}

/// True when `dir` holds command outputs netpath recognises (or a sosreport).
pub fn is_text_dump(dir: &Path) -> bool {
    if dir.join("sos_commands").is_dir() {
        return true;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.filter_map(Result::ok).any(|e| {
        e.path().is_file() && SnapshotFile::classify(&e.file_name().to_string_lossy()).is_some()
    })
}

/// The newest modification time of the directory's files, and the kernel release from a
/// `uname` (`uname -a` or `uname -r` output) file.
fn dir_facts(dir: &Path) -> (Option<SystemTime>, Option<String>) {
    let mut newest = None;
    let mut kernel = None;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return (None, None);
    };
    for e in rd.filter_map(Result::ok) {
        let Ok(meta) = e.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        if let Ok(m) = meta.modified() {
            if newest.is_none_or(|n| m > n) {
                newest = Some(m);
            }
        }
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        if name.starts_with("uname") {
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                kernel = release_of(&text).or(kernel);
            }
        }
    }
    (newest, kernel)
}

/// The release in `uname -a` (`Linux host 6.1.0-18-amd64 #1 …`) or `uname -r` output.
fn release_of(text: &str) -> Option<String> {
    let line = text.lines().find(|l| !l.trim().is_empty())?;
    let t: Vec<&str> = line.split_whitespace().collect();
    match t.as_slice() {
        ["Linux", _, release, ..] => Some(release.to_string()),
        [release] if release.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
            Some(release.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uname_forms() {
        assert_eq!(
            release_of("Linux node-1 6.1.0-18-amd64 #1 SMP x86_64 GNU/Linux\n").as_deref(),
            Some("6.1.0-18-amd64")
        );
        assert_eq!(
            release_of("5.14.0-362.el9.x86_64\n").as_deref(),
            Some("5.14.0-362.el9.x86_64")
        );
        assert_eq!(release_of("hello world"), None);
    }

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
