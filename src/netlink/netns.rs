//! Entering a network namespace, on a throwaway thread (setns is per thread), so the
//! main thread never leaves its own netns.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use anyhow::Context;

use crate::error::refused;

/// Where named network namespaces live (`ip netns add NAME` creates `/run/netns/NAME`).
pub const NETNS_DIR: &str = "/run/netns";

/// A network namespace to look into: the current one, or one named by `ip netns` or a path
/// such as `/proc/PID/ns/net`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Netns {
    /// The namespace the process runs in.
    #[default]
    Current,
    /// A namespace file (`/run/netns/NAME`, `/proc/PID/ns/net`).
    Path {
        /// What the user typed, for messages.
        label: String,
        /// The file to open.
        path: PathBuf,
    },
}

impl Netns {
    /// `NAME` (looked up under /run/netns) or a path (anything with a `/`).
    pub fn parse(s: &str) -> Netns {
        let path = if s.contains('/') {
            PathBuf::from(s)
        } else {
            PathBuf::from(NETNS_DIR).join(s)
        };
        Netns::Path {
            label: s.to_string(),
            path,
        }
    }

    /// From an optional `--netns` value.
    pub fn from_arg(arg: Option<&str>) -> Netns {
        arg.map(Netns::parse).unwrap_or_default()
    }

    /// A short name for messages and JSON (`current` or what the user typed).
    pub fn label(&self) -> &str {
        match self {
            Netns::Current => "current",
            Netns::Path { label, .. } => label,
        }
    }

    /// Open the namespace file, with an error a user can act on (exit 3).
    pub fn open(&self) -> anyhow::Result<Option<File>> {
        let Netns::Path { label, path } = self else {
            return Ok(None);
        };
        if label.is_empty() {
            anyhow::bail!(
                "--netns is empty: give a name from \"ip netns\" or a path such as /proc/PID/ns/net"
            );
        }
        match File::open(path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(refused(format!(
                "cannot open netns \"{label}\": no such file {}; list them with \"ip netns\"",
                path.display()
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(refused(format!(
                "cannot open netns \"{label}\" ({}): permission denied; {}",
                path.display(),
                denied_hint()
            ))),
            Err(e) => Err(refused(format!(
                "cannot open netns \"{label}\" ({}): {e}",
                path.display()
            ))),
        }
    }

    /// Run `f` with the calling thread inside this namespace. For [`Netns::Current`] it
    /// runs right here; otherwise on a new thread that enters the namespace first and
    /// ends afterwards.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> anyhow::Result<T> + Send) -> anyhow::Result<T> {
        let Some(file) = self.open()? else { return f() };
        let label = self.label().to_string();
        std::thread::scope(|s| {
            s.spawn(move || {
                // SAFETY: setns on a valid fd we own; affects only this thread.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                if rc != 0 {
                    let e = std::io::Error::last_os_error();
                    return Err(match e.raw_os_error() {
                        Some(libc::EPERM) => refused(format!(
                            "cannot enter netns \"{label}\": permission denied; {}",
                            denied_hint()
                        )),
                        Some(libc::EINVAL) => refused(format!(
                            "cannot enter netns \"{label}\": not a network namespace file"
                        )),
                        _ => refused(format!("cannot enter netns \"{label}\": {e}")),
                    });
                }
                f()
            })
            .join()
            .map_err(|_| anyhow::anyhow!("a netlink worker thread panicked"))?
        })
        .with_context(|| format!("in netns {}", self.label()))
    }
}

/// What to do about a permission error: run as root, or, when already root, what else
/// refuses it (reading another process's namespace needs CAP_SYS_PTRACE over it, entering
/// one CAP_SYS_ADMIN, and a container or an LSM may withhold both).
fn denied_hint() -> &'static str {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        "refused even to root: a container without CAP_SYS_ADMIN/CAP_SYS_PTRACE, a user namespace, or an LSM (AppArmor, SELinux) withholds it"
    } else {
        "run as root"
    }
}
