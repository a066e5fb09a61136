//! One agent per network namespace: an exclusive `flock` on a file named after the
//! netns inode, under /run/netpath/.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::refused;
use crate::netlink::Netns;

/// Where the lock files live.
pub const LOCK_DIR: &str = "/run/netpath";

/// A held lock; released when dropped (or when the process dies, even by `kill -9`).
#[derive(Debug)]
pub struct NetnsLock {
    _file: File,
    /// The lock file.
    pub path: PathBuf,
}

/// The inode of a netns: the identity of the namespace, whatever name or path reaches it.
pub fn netns_inode(netns: &Netns) -> anyhow::Result<u64> {
    let path = match netns {
        Netns::Current => PathBuf::from("/proc/self/ns/net"),
        Netns::Path { path, .. } => path.clone(),
    };
    let meta = fs::metadata(&path).map_err(|e| {
        refused(format!(
            "cannot stat netns {} ({}): {e}",
            netns.label(),
            path.display()
        ))
    })?;
    Ok(meta.ino())
}

impl NetnsLock {
    /// Take the lock for `netns` in [`LOCK_DIR`]; refused (exit 3) when another agent holds it.
    pub fn acquire(netns: &Netns) -> anyhow::Result<NetnsLock> {
        Self::acquire_in(Path::new(LOCK_DIR), netns)
    }

    /// Take the lock for `netns` in `dir`.
    pub fn acquire_in(dir: &Path, netns: &Netns) -> anyhow::Result<NetnsLock> {
        let inode = netns_inode(netns)?;
        fs::create_dir_all(dir)
            .map_err(|e| refused(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join(format!("agent-netns-{inode}.lock"));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| refused(format!("cannot open lock file {}: {e}", path.display())))?;
        // SAFETY: flock on a valid fd we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    "another netpath agent".to_string()
                } else {
                    format!("another netpath agent (pid {holder})")
                };
                return Err(refused(format!(
                    "{who} already runs in netns {} (lock {}); one agent per netns",
                    netns.label(),
                    path.display()
                )));
            }
            return Err(refused(format!("cannot lock {}: {e}", path.display())));
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        Ok(NetnsLock { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_the_same_netns_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = NetnsLock::acquire_in(dir.path(), &Netns::Current).unwrap();
        let err = NetnsLock::acquire_in(dir.path(), &Netns::Current).unwrap_err();
        assert_eq!(crate::error::exit_code(&err), 3);
        assert!(
            err.to_string().contains(&std::process::id().to_string()),
            "{err}"
        );
        drop(first);
        NetnsLock::acquire_in(dir.path(), &Netns::Current).unwrap();
    }
}
