//! The only code that talks rtnetlink. Everything here returns `crate::dataplane` types.
//!
//! Every reader and writer goes through one synchronous socket type, [`socket::RtSocket`]
//! (opened in a netns once, then used from the caller's thread); [`node::read_node`] reads
//! a node's whole dataplane over one socket in one visit to its netns. [`with_handle`]
//! remains for async rtnetlink conversations: it builds a small current-thread runtime on
//! a thread that runs in the target netns, so callers stay synchronous.

pub mod link;
pub mod neigh;
pub mod netns;
pub mod node;
pub mod route;
pub mod rule;
pub mod socket;
pub mod sysctl;
pub mod write;

use std::future::Future;

use anyhow::Context;

pub use netns::Netns;

use crate::error::refused;

/// Run an async netlink conversation in `netns`: opens a rtnetlink socket there (a socket
/// belongs to the netns it was created in) and hands `f` its handle.
pub fn with_handle<T, F, Fut>(netns: &Netns, f: F) -> anyhow::Result<T>
where
    T: Send,
    F: FnOnce(rtnetlink::Handle) -> Fut + Send,
    Fut: Future<Output = anyhow::Result<T>>,
{
    netns.run(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the netlink runtime")?;
        rt.block_on(async {
            let (conn, handle, _) = rtnetlink::new_connection()
                .map_err(|e| refused(format!("cannot open a netlink socket: {e}")))?;
            let task = tokio::spawn(conn);
            let out = f(handle).await;
            task.abort();
            out
        })
    })
}

/// Turn a rtnetlink error into one a user can act on: permission problems exit 3.
pub fn kernel_error(what: &str, e: rtnetlink::Error) -> anyhow::Error {
    if let rtnetlink::Error::NetlinkError(msg) = &e {
        if let Some(code) = msg.code {
            let errno = -code.get();
            let io = std::io::Error::from_raw_os_error(errno);
            if errno == libc::EPERM || errno == libc::EACCES {
                return refused(format!("{what}: the kernel said {io}; run as root"));
            }
            if errno == libc::EOPNOTSUPP || errno == libc::EAFNOSUPPORT {
                return refused(format!("{what}: the kernel does not support this: {io}"));
            }
            return anyhow::anyhow!("{what}: the kernel said {io}");
        }
    }
    anyhow::anyhow!("{what}: {e}")
}
