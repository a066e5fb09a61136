//! Text dumps: a directory of command outputs (`ip-route.txt`, `ip-link.txt` …, or a
//! sosreport) read from disk and handed to the pure assembler
//! [`crate::dataplane::parse::node_from_dumps`].

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use super::{Snapshot, Source, now_rfc3339, time};
use crate::dataplane::NodeState;
use crate::dataplane::parse::{DumpFile, SnapshotFile, node_from_dumps};

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

/// The files to look at: the directory's own, and a sosreport's `sos_commands/networking`
/// and `sos_commands/kernel`. The flag says whether the file is at the top level.
fn candidates(dir: &Path) -> Result<Vec<(PathBuf, bool)>> {
    let mut out = Vec::new();
    let subdirs = [
        (dir.to_path_buf(), true),
        (dir.join("sos_commands").join("networking"), false),
        (dir.join("sos_commands").join("kernel"), false),
    ];
    for (d, top) in subdirs {
        if !top && !d.is_dir() {
            continue;
        }
        let rd = std::fs::read_dir(&d)
            .with_context(|| format!("cannot read snapshot directory {}", d.display()))?;
        let mut files = Vec::new();
        for e in rd {
            let e = e.with_context(|| format!("cannot read snapshot directory {}", d.display()))?;
            let p = e.path();
            // Regular files, and anything else under a name netpath reads (a symlink to a
            // device, a FIFO): those are refused by name when read, not taken as missing.
            let known = SnapshotFile::classify(&e.file_name().to_string_lossy()).is_some();
            if p.is_file() || (known && !p.is_dir()) {
                files.push(p);
            }
        }
        files.sort();
        out.extend(files.into_iter().map(|p| (p, top)));
    }
    Ok(out)
}

/// Assemble a node's state from a directory of command outputs, each under a name
/// [`SnapshotFile::classify`] knows (see [`node_from_dumps`] for what is read and the
/// warnings). Top-level files of other names are listed as ignored. The node is named
/// after a `hostname` file, or the directory.
///
/// Errors: the directory cannot be read, it holds none of these files, or a file cannot
/// be parsed (the message names the file and the line).
pub fn node_from_dir(dir: &Path) -> Result<(NodeState, Vec<String>)> {
    if !dir.is_dir() {
        bail!(
            "{} is not a directory: a text snapshot is a directory holding files like ip-route.txt, ip-link.txt, ip-addr.txt, ip-neigh.txt, bridge-fdb.txt, sysctl.txt",
            dir.display()
        );
    }
    let mut warnings = Vec::new();
    let mut files = Vec::new();
    for (path, top) in candidates(dir)? {
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        match SnapshotFile::classify(&name) {
            Some(kind) => {
                let bytes = crate::input::read(&path, "dump file", crate::input::MAX_DOCUMENT)?;
                files.push(DumpFile {
                    kind,
                    name,
                    path: path.display().to_string(),
                    bytes,
                });
            }
            None => {
                if top && name != "hostname" && !name.starts_with('.') {
                    warnings.push(format!(
                        "ignored {name}: not a name netpath knows (ip-route.txt, ip-link.txt, ip-addr.txt, ip-neigh.txt, bridge-fdb.txt, sysctl.txt …)"
                    ));
                }
            }
        }
    }
    node_from_dumps(node_name(dir), files, warnings, &dir.display().to_string())
}

/// The node a dump is of: the first line of its `hostname` file, else the directory's name.
fn node_name(dir: &Path) -> String {
    if let Ok(h) = crate::input::read_to_string(&dir.join("hostname"), "hostname file", 4096)
        && let Some(first) = h.lines().map(str::trim).find(|l| !l.is_empty())
    {
        return first.to_string();
    }
    let canon = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    canon
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Convert a directory of text dumps into a snapshot (warnings listed in it). The time is
/// the newest file's modification time (when the dumps were made), and the kernel release
/// comes from a `uname` file when there is one.
pub fn from_dir(dir: &Path) -> Result<Snapshot> {
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
            if let Ok(text) = crate::input::read_to_string(&e.path(), "uname file", 1 << 16) {
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
}
