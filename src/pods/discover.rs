//! Finding network namespaces: named ones (files under `/run/netns`, where containerd and
//! CRI-O bind-mount `cni-<uuid>`), and every distinct `/proc/<pid>/ns/net`.
//!
//! Each namespace is opened once (the open file keeps it alive for the rest of the scan,
//! so a pod deleted meanwhile still pairs with its veth) and identified by inode.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::Unread;
use super::cni::io_reason;

/// `NSFS_MAGIC`: the filesystem of namespace files.
const NSFS_MAGIC: i64 = 0x6e73_6673;

/// A namespace found, with the open file that keeps it alive.
#[derive(Debug)]
pub struct Found {
    /// Inode of the namespace.
    pub inode: u64,
    /// Names for people (`cni-…`, `pid 42 (pause)`).
    pub names: Vec<String>,
    /// Files it was reached through.
    pub paths: Vec<PathBuf>,
    /// The open namespace file.
    pub file: File,
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Namespaces found, in the order found.
    pub found: Vec<Found>,
    /// What could not be read.
    pub unread: Vec<Unread>,
    /// False when some namespaces could not be read (permission): they may hold veth peers.
    pub complete: bool,
    /// Processes whose netns file could not be opened (permission), with their labels: the
    /// caller can still ask the kernel for their netns ids by pid.
    pub denied: Vec<(u32, String)>,
}

/// Why a namespace file could not be used.
#[derive(Debug)]
pub enum OpenError {
    /// It disappeared (a pod deleted, a process ended) during the scan.
    Vanished,
    /// It is not a namespace file.
    NotNetns,
    /// Any other error (permission …), as a reason.
    Other(String),
}

/// Open a namespace file and return it with its inode.
pub fn open_netns(path: &Path) -> Result<(File, u64), OpenError> {
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => OpenError::Vanished,
        _ => OpenError::Other(io_reason(&e)),
    })?;
    // SAFETY: fstatfs writes into the zeroed struct we own, on a valid fd.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatfs(file.as_raw_fd(), &mut fs) } != 0 || fs.f_type as i64 != NSFS_MAGIC {
        return Err(OpenError::NotNetns);
    }
    let meta = file
        .metadata()
        .map_err(|e| OpenError::Other(io_reason(&e)))?;
    Ok((file, meta.ino()))
}

/// The inode of a `/proc/<pid>/ns/net` link without opening it (`net:[4026532305]`).
fn inode_of_link(path: &Path) -> Result<Option<u64>, std::io::Error> {
    let target = std::fs::read_link(path)?;
    let t = target.to_string_lossy();
    Ok(t.strip_prefix("net:[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|n| n.parse().ok()))
}

fn add(
    d: &mut Discovery,
    index: &mut HashMap<u64, usize>,
    inode: u64,
    name: String,
    path: PathBuf,
    file: Option<File>,
) {
    if let Some(&i) = index.get(&inode) {
        let f = &mut d.found[i];
        if !f.names.contains(&name) {
            f.names.push(name);
            f.paths.push(path);
        }
    } else if let Some(file) = file {
        index.insert(inode, d.found.len());
        d.found.push(Found {
            inode,
            names: vec![name],
            paths: vec![path],
            file,
        });
    }
}

/// Scan `netns_dirs` and `proc_dir`, skipping namespaces whose inode is in `skip` (the
/// node's own, and those an earlier scan found). A missing directory is reported only when
/// `report_missing` is set (the defaults may legitimately be absent).
pub fn scan(
    netns_dirs: &[PathBuf],
    proc_dir: &Path,
    skip: &HashSet<u64>,
    report_missing: bool,
) -> Discovery {
    let mut d = Discovery {
        complete: true,
        ..Default::default()
    };
    let mut index: HashMap<u64, usize> = HashMap::new();
    for dir in netns_dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !report_missing => continue,
            Err(e) => {
                d.unread
                    .push(Unread::new(dir.display().to_string(), io_reason(&e)));
                if e.kind() != std::io::ErrorKind::NotFound {
                    d.complete = false;
                }
                continue;
            }
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match open_netns(&path) {
                Ok((file, inode)) => {
                    if !skip.contains(&inode) {
                        add(&mut d, &mut index, inode, name, path, Some(file));
                    }
                }
                Err(OpenError::Vanished) => d.unread.push(Unread::new(
                    path.display().to_string(),
                    "vanished during the scan (netns deleted)",
                )),
                Err(OpenError::NotNetns) => d.unread.push(Unread::new(
                    path.display().to_string(),
                    "not a network namespace file (ignored)",
                )),
                Err(OpenError::Other(reason)) => {
                    d.complete = false;
                    d.unread
                        .push(Unread::new(path.display().to_string(), reason));
                }
            }
        }
    }

    let entries = match std::fs::read_dir(proc_dir) {
        Ok(e) => e,
        Err(e) => {
            d.complete = false;
            d.unread
                .push(Unread::new(proc_dir.display().to_string(), io_reason(&e)));
            return d;
        }
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    for pid in pids {
        let path = proc_dir.join(pid.to_string()).join("ns").join("net");
        let label = |pid: u32| {
            let comm = std::fs::read_to_string(proc_dir.join(pid.to_string()).join("comm"))
                .map(|c| c.trim().to_string())
                .unwrap_or_default();
            if comm.is_empty() {
                format!("pid {pid}")
            } else {
                format!("pid {pid} ({comm})")
            }
        };
        match inode_of_link(&path) {
            Ok(Some(inode)) if skip.contains(&inode) => continue,
            Ok(Some(inode)) if index.contains_key(&inode) => {
                // Already known: remember a few pids, not thousands.
                if d.found[index[&inode]].names.len() < 4 {
                    add(&mut d, &mut index, inode, label(pid), path, None);
                }
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue, // process ended
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                d.denied.push((pid, label(pid)));
                continue;
            }
            _ => {}
        }
        match open_netns(&path) {
            Ok((file, inode)) => {
                if !skip.contains(&inode) {
                    add(&mut d, &mut index, inode, label(pid), path, Some(file));
                }
            }
            Err(OpenError::Vanished) => {}
            Err(OpenError::NotNetns) => d.unread.push(Unread::new(
                path.display().to_string(),
                "not a network namespace file (ignored)",
            )),
            Err(OpenError::Other(reason)) => {
                if reason.starts_with("permission denied") {
                    d.denied.push((pid, label(pid)));
                } else {
                    d.complete = false;
                    d.unread
                        .push(Unread::new(path.display().to_string(), reason));
                }
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_netns_is_found_and_skipped() {
        let me = inode_of_link(Path::new("/proc/self/ns/net"))
            .unwrap()
            .unwrap();
        let empty = tempfile::tempdir().unwrap();
        let d = scan(
            &[empty.path().to_path_buf()],
            Path::new("/proc"),
            &HashSet::new(),
            true,
        );
        assert!(d.found.iter().any(|f| f.inode == me), "{:?}", d.found);
        let skip: HashSet<u64> = [me].into();
        let d = scan(&[], Path::new("/proc"), &skip, true);
        assert!(d.found.iter().all(|f| f.inode != me));
    }

    #[test]
    fn odd_entries_are_reported_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let netns = dir.path().join("netns");
        std::fs::create_dir(&netns).unwrap();
        std::fs::write(netns.join("cni-not-a-netns"), "x").unwrap();
        std::os::unix::fs::symlink("/nonexistent/ns", netns.join("cni-dangling")).unwrap();
        let proc_dir = dir.path().join("proc");
        std::fs::create_dir_all(proc_dir.join("42/ns")).unwrap();
        std::fs::write(proc_dir.join("42/ns/net"), "x").unwrap();
        std::os::unix::fs::symlink("/nonexistent/ns", proc_dir.join("43")).unwrap();
        let d = scan(
            &[netns.clone(), dir.path().join("missing")],
            &proc_dir,
            &HashSet::new(),
            true,
        );
        assert!(d.found.is_empty());
        let text = format!("{:?}", d.unread);
        assert!(
            text.contains("cni-not-a-netns") && text.contains("not a network namespace"),
            "{text}"
        );
        assert!(
            text.contains("cni-dangling") && text.contains("vanished"),
            "{text}"
        );
        assert!(text.contains("missing"), "{text}");
        // A missing default directory is not worth a line.
        let d = scan(
            &[dir.path().join("missing")],
            &proc_dir,
            &HashSet::new(),
            false,
        );
        assert!(!format!("{:?}", d.unread).contains("missing"));
    }
}
