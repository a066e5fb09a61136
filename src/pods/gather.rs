//! Reading everything `pods` needs into a [`Snapshot`]. The only I/O of the feature.

use std::collections::HashSet;
use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::discover::{self, OpenError};
use super::{NetnsRef, NetnsView, PodNetns, Snapshot, Unread, cni, kube};
use crate::dataplane::{LinkKind, Table};
use crate::netlink::Netns;
use crate::netlink::link::{RtSocket, for_each_netns};

/// Where to look.
#[derive(Debug, Clone)]
pub struct Options {
    /// The node's netns (where the host ends of the veths are).
    pub node: Netns,
    /// Directories of named namespaces.
    pub netns_dirs: Vec<PathBuf>,
    /// True when `netns_dirs` are the defaults (a missing one is then not worth a line).
    pub netns_dirs_default: bool,
    /// The proc filesystem to scan for `<pid>/ns/net`.
    pub proc_dir: PathBuf,
    /// The CNI result cache directory, if any.
    pub cni_cache: Option<PathBuf>,
    /// True when `cni_cache` is the default (a missing one is then normal: not a libcni node).
    pub cni_cache_default: bool,
    /// `--pods FILE`.
    pub pods_file: Option<PathBuf>,
    /// Calico's interface prefix.
    pub calico_prefix: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            node: Netns::Current,
            netns_dirs: vec!["/run/netns".into(), "/var/run/netns".into()],
            netns_dirs_default: true,
            proc_dir: "/proc".into(),
            cni_cache: Some(cni::DEFAULT_DIR.into()),
            cni_cache_default: true,
            pods_file: None,
            calico_prefix: crate::cni::calico::DEFAULT_PREFIX.into(),
        }
    }
}

/// A found namespace while gathering: its open file and what is known of it.
struct Held {
    file: File,
    ns: PodNetns,
}

/// Read the node, its namespaces, the CNI cache and the pod list.
///
/// Fails only when the node's own netns cannot be read (exit 3 for permission) or when an
/// explicitly given input is unusable (`--pods` that does not parse: exit 2). Everything
/// else that cannot be read is listed in [`Snapshot::unread`].
pub fn gather(opts: &Options) -> anyhow::Result<Snapshot> {
    raise_fd_limit();
    let kube = match &opts.pods_file {
        Some(p) => kube::read(p)?,
        None => Vec::new(),
    };
    let mut snap = Snapshot {
        node: opts.node.label().to_string(),
        calico_prefix: opts.calico_prefix.clone(),
        kube,
        ..Default::default()
    };

    let node_inode = node_inode(&opts.node)?;
    let mut sock = RtSocket::open_in(&opts.node)?;

    // Find namespaces before listing the node's links: the open files keep them alive, so a
    // pod deleted meanwhile still pairs with a veth that is still listed.
    let mut skip: HashSet<u64> = [node_inode].into();
    let first = discover::scan(
        &opts.netns_dirs,
        &opts.proc_dir,
        &skip,
        !opts.netns_dirs_default,
    );
    snap.discovery_complete = first.complete;
    snap.unread.extend(first.unread);
    let mut denied = first.denied;
    let mut held: Vec<Held> = first.found.into_iter().map(held_from).collect();

    let links = sock
        .links()
        .with_context(|| format!("reading the links of netns {}", opts.node.label()))?;
    let addrs = sock
        .addrs_of(&links)
        .with_context(|| format!("reading the addresses of netns {}", opts.node.label()))?;
    let routes = sock
        .routes(&links, None, Some(Table::MAIN))
        .with_context(|| format!("reading the routes of netns {}", opts.node.label()))?;
    snap.node_view = NetnsView {
        links,
        addrs,
        routes,
    };

    for h in &mut held {
        ask_nsid(&mut sock, h);
    }
    let wanted: HashSet<i32> = snap
        .node_view
        .links
        .iter()
        .filter_map(|l| match &l.kind {
            LinkKind::Veth(v) => v.peer_netnsid,
            _ => None,
        })
        .collect();
    let known = |held: &[Held]| -> HashSet<i32> { held.iter().filter_map(|h| h.ns.nsid).collect() };
    if !wanted.is_subset(&known(&held)) {
        // A pod created after the first scan: look once more before calling a veth leaked.
        skip.extend(held.iter().filter_map(|h| h.ns.inode));
        let again = discover::scan(&opts.netns_dirs, &opts.proc_dir, &skip, false);
        snap.discovery_complete &= again.complete;
        snap.unread.extend(again.unread);
        denied.extend(again.denied);
        for f in again.found {
            let mut h = held_from(f);
            ask_nsid(&mut sock, &mut h);
            held.push(h);
        }
    }

    // Processes whose netns file could not be opened: ask their netns id by pid instead. An
    // id that no veth points at means the process holds no pod of this node.
    let mut by_pid: Vec<PodNetns> = Vec::new();
    denied.sort();
    denied.dedup();
    for (pid, label) in denied {
        match sock.nsid_of_pid(pid) {
            Ok(Some(id)) if wanted.contains(&id) => {
                if let Some(h) = held.iter_mut().find(|h| h.ns.nsid == Some(id)) {
                    if h.ns.names.len() < 4 {
                        h.ns.names.push(label);
                    }
                } else if let Some(n) = by_pid.iter_mut().find(|n| n.nsid == Some(id)) {
                    if n.names.len() < 4 {
                        n.names.push(label);
                    }
                } else {
                    let path = opts.proc_dir.join(pid.to_string()).join("ns").join("net");
                    by_pid.push(PodNetns {
                        inode: None,
                        names: vec![label],
                        view: Some(Err(format!(
                            "cannot open {}: permission denied; run as root",
                            path.display()
                        ))),
                        paths: vec![path],
                        nsid: Some(id),
                        nsid_error: None,
                    });
                }
            }
            Ok(_) => {}
            Err(e) if e.root_cause().to_string().contains("No such process") => {}
            Err(e) => {
                snap.discovery_complete = false;
                snap.unread.push(Unread::new(
                    format!("the netns of {label}"),
                    format!("cannot open it, nor ask its id: {e:#}"),
                ));
            }
        }
    }

    // A veth still unpaired may belong to a pod deleted since the link dump (its netns
    // unmounted, the kernel tearing it down): list the links again and drop veths gone since.
    let paired: HashSet<i32> = held
        .iter()
        .map(|h| &h.ns)
        .chain(&by_pid)
        .filter_map(|n| n.nsid)
        .collect();
    if !wanted.is_subset(&paired) {
        if let Ok(now) = sock.links() {
            let alive: HashSet<(u32, &str)> =
                now.iter().map(|l| (l.ifindex, l.name.as_str())).collect();
            let mut gone = Vec::new();
            snap.node_view.links.retain(|l| {
                let unpaired = matches!(&l.kind, LinkKind::Veth(v)
                    if v.peer_netnsid.is_some_and(|id| !paired.contains(&id)));
                let keep = !unpaired || alive.contains(&(l.ifindex, l.name.as_str()));
                if !keep {
                    gone.push(l.name.clone());
                }
                keep
            });
            for name in gone {
                snap.unread.push(Unread::new(
                    name,
                    "vanished during the scan (its pod was being deleted)",
                ));
            }
        }
    }

    // The CNI cache, and where each entry's netns leads.
    if let Some(dir) = opts
        .cni_cache
        .as_ref()
        .filter(|d| !opts.cni_cache_default || d.exists())
    {
        // A --cni-cache that exists but is not a directory (a file given by mistake) is
        // an error, not an empty cache.
        if !opts.cni_cache_default && dir.exists() && !dir.is_dir() {
            anyhow::bail!(
                "--cni-cache {} is not a directory: give libcni's results directory (default {})",
                dir.display(),
                cni::DEFAULT_DIR
            );
        }
        let dir = results_dir(dir);
        let read = cni::read_dir(&dir);
        for (path, reason) in read.unread {
            snap.unread
                .push(Unread::new(path.display().to_string(), reason));
        }
        for file in read.files {
            let r = match &file.entry {
                Ok(e) => match &e.netns {
                    Some(p) => resolve(p, &opts.proc_dir, node_inode, &mut held, &mut sock),
                    None => NetnsRef::Unset,
                },
                Err(_) => NetnsRef::Unset,
            };
            snap.cache.push((file, r));
        }
        snap.cache_dir = Some(dir);
    }

    // Read inside the namespaces that matter: those holding a veth peer of the node, those a
    // cache entry points at, and those whose id could not be asked (paired by ifindex).
    let cache_inodes: HashSet<u64> = snap
        .cache
        .iter()
        .filter_map(|(_, r)| match r {
            NetnsRef::Found(i) => Some(*i),
            _ => None,
        })
        .collect();
    let to_read: Vec<usize> = held
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            h.ns.nsid.is_some_and(|id| wanted.contains(&id))
                || h.ns.inode.is_some_and(|i| cache_inodes.contains(&i))
                || h.ns.nsid_error.is_some()
        })
        .map(|(i, _)| i)
        .collect();
    let files: Vec<&File> = to_read.iter().map(|&i| &held[i].file).collect();
    let views = for_each_netns(&files, |s| {
        let links = s.links()?;
        let addrs = s.addrs_of(&links)?;
        let routes = s.routes(&links, None, Some(Table::MAIN))?;
        Ok((
            NetnsView {
                links,
                addrs,
                routes,
            },
            s.take_undecodable(),
        ))
    });
    for (i, v) in to_read.into_iter().zip(views) {
        held[i].ns.view = Some(match v {
            Ok((view, skipped)) => {
                for s in skipped {
                    snap.unread.push(Unread::new(held[i].ns.label(), s));
                }
                Ok(view)
            }
            Err(e) => Err(format!("{e:#}")),
        });
    }
    for s in sock.take_undecodable() {
        snap.unread
            .push(Unread::new(format!("netns {}", snap.node), s));
    }
    snap.namespaces = held.into_iter().map(|h| h.ns).collect();
    snap.namespaces.extend(by_pid);
    Ok(snap)
}

fn held_from(f: discover::Found) -> Held {
    Held {
        file: f.file,
        ns: PodNetns {
            inode: Some(f.inode),
            names: f.names,
            paths: f.paths,
            nsid: None,
            nsid_error: None,
            view: None,
        },
    }
}

fn ask_nsid(sock: &mut RtSocket, h: &mut Held) {
    match sock.nsid_of(h.file.as_fd()) {
        Ok(id) => h.ns.nsid = id,
        Err(e) => h.ns.nsid_error = Some(format!("{e:#}")),
    }
}

/// The inode of the node's netns.
fn node_inode(node: &Netns) -> anyhow::Result<u64> {
    let file = match node.open()? {
        Some(f) => f,
        None => File::open("/proc/self/ns/net").context("reading /proc/self/ns/net")?,
    };
    Ok(file
        .metadata()
        .with_context(|| format!("reading netns {}", node.label()))?
        .ino())
}

/// libcni keeps results in `<cache dir>/results`: accept either directory.
fn results_dir(dir: &Path) -> PathBuf {
    let nested = dir.join("results");
    if dir.file_name().is_some_and(|n| n != "results") && nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    }
}

/// Where a cache entry's netns path leads: a known namespace (by name under the netns
/// directories, by pid under `--proc`, or by opening the path), or gone.
fn resolve(
    path: &str,
    proc_dir: &Path,
    node_inode: u64,
    held: &mut Vec<Held>,
    sock: &mut RtSocket,
) -> NetnsRef {
    let p = Path::new(path);
    // /proc/<pid>/ns/net: look under --proc (the runtime's /proc may be mounted elsewhere).
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let candidate = match parts.as_slice() {
        ["proc", pid, "ns", "net"] if pid.parse::<u32>().is_ok() => {
            proc_dir.join(pid).join("ns").join("net")
        }
        _ => {
            if let Some(name) = p.file_name().map(|n| n.to_string_lossy().into_owned()) {
                if let Some(i) = held
                    .iter()
                    .find(|h| h.ns.names.contains(&name))
                    .and_then(|h| h.ns.inode)
                {
                    return NetnsRef::Found(i);
                }
            }
            p.to_path_buf()
        }
    };
    match discover::open_netns(&candidate) {
        Ok((file, inode)) => {
            if inode == node_inode {
                return NetnsRef::Unknown(format!("{path} is the node's own netns"));
            }
            if !held.iter().any(|h| h.ns.inode == Some(inode)) {
                let mut h = held_from(discover::Found {
                    inode,
                    names: vec![path.to_string()],
                    paths: vec![candidate],
                    file,
                });
                ask_nsid(sock, &mut h);
                held.push(h);
            }
            NetnsRef::Found(inode)
        }
        Err(OpenError::Vanished) => NetnsRef::Gone(if candidate.starts_with(proc_dir) {
            format!("netns {path} is gone (the process ended)")
        } else {
            format!("netns {path} is gone")
        }),
        Err(OpenError::NotNetns) => NetnsRef::Gone(format!("{path} is not a netns any more")),
        Err(OpenError::Other(reason)) => NetnsRef::Unknown(format!("{path}: {reason}")),
    }
}

/// Hold one file per namespace: raise the soft open-file limit to the hard one, as a
/// dense node can have more namespaces than the usual soft limit of 1024.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: get/setrlimit on a struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
