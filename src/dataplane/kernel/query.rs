//! The question a route lookup asks (`ip route get ADDR from SRC iif DEV mark M tos T`) and
//! the kernel's answer, whether the live kernel gave it or [`super::Kernel`] predicted it.

use std::net::IpAddr;

use super::super::{Route, Sysctls};

/// What to look up (`ip route get ADDR [from SRC] [iif DEV] [mark M] [tos T]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteQuery {
    /// The destination.
    pub dst: IpAddr,
    /// The source address (`from`), if any: 0.0.0.0 (or ::) to the policy rules otherwise.
    pub src: Option<IpAddr>,
    /// The input device (`iif`): a packet arriving there (a forwarding lookup). Without
    /// it the lookup is an output lookup from the node itself, which rules see as `iif lo`.
    pub iif: Option<String>,
    /// The packet's firewall mark (`mark`), matched by `fwmark` rules; 0 when unmarked.
    pub mark: u32,
    /// The packet's TOS (`tos`), matched by `tos` rules and routes; 0 when none.
    pub tos: u8,
}

impl RouteQuery {
    /// An output lookup for `dst` from the node itself: no source, no mark, no TOS.
    pub fn to(dst: IpAddr) -> RouteQuery {
        RouteQuery {
            dst,
            src: None,
            iif: None,
            mark: 0,
            tos: 0,
        }
    }

    /// The input device as policy rules see it: `lo` for an output lookup.
    pub fn rule_iif(&self) -> &str {
        self.iif.as_deref().unwrap_or("lo")
    }
}

/// The kernel's answer to a lookup: a route, or the error it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelAnswer {
    /// The kernel returned a route.
    Route(Route),
    /// The kernel refused: the positive errno (ENETUNREACH, EINVAL, EHOSTUNREACH, EACCES,
    /// EXDEV …).
    Error(i32),
}

impl KernelAnswer {
    /// The route, if the kernel returned one.
    pub fn route(&self) -> Option<&Route> {
        match self {
            KernelAnswer::Route(r) => Some(r),
            KernelAnswer::Error(_) => None,
        }
    }
}

/// Everything `routes get` learns from the kernel in one visit to the netns (or what the
/// model predicts the kernel would answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteLookup {
    /// The resolved route (`ip route get`): `dst` is the address itself, the device and
    /// gateway are the ones the packet would use, `prefsrc` the source it would get.
    pub resolved: KernelAnswer,
    /// The FIB entry that matched (`ip route get fibmatch`), asked without `iif`/`from`
    /// so that it answers even when the forwarding lookup was refused.
    pub fib_entry: KernelAnswer,
    /// For IPv6 the kernel reports drops as a route carrying an error (`error -113`):
    /// that errno, when there is one.
    pub route_error: Option<i32>,
    /// The forwarding sysctls (ip_forward, per-device forwarding and rp_filter), read
    /// inside the netns at the same moment.
    pub sysctls: Sysctls,
}

/// The kernel's message for an errno with its symbolic name: `Invalid argument (EINVAL)`.
pub fn errno_text(errno: i32) -> String {
    let msg = std::io::Error::from_raw_os_error(errno).to_string();
    let msg = match msg.find(" (os error") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
    let name = match errno {
        libc::ENETUNREACH => "ENETUNREACH",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::EINVAL => "EINVAL",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::EAGAIN => "EAGAIN",
        _ => return format!("{msg} (errno {errno})"),
    };
    format!("{msg} ({name})")
}
