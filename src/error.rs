//! Error kinds and the exit codes they map to.
//!
//! Exit codes, the same for every command (documented in README):
//! - 0: all good;
//! - 1: the diagnosis found a problem (a dropped packet, a drift, a leaked veth);
//! - 2: bad usage or bad input (a file that cannot be parsed, an unknown pod);
//! - 3: the environment refused (no permission, no such netns, kernel lacks a feature).
//!
//! Commands return `anyhow::Result<Outcome>`. Errors that should exit 3 are wrapped in
//! [`Refused`]; everything else exits 2.

use std::fmt;

/// What a command found, when it ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing wrong: exit 0.
    Clean,
    /// The diagnosis found a problem: exit 1.
    Problem,
}

impl Outcome {
    /// `Problem` when `found` is true, else `Clean`.
    pub fn from_findings(found: bool) -> Self {
        if found {
            Outcome::Problem
        } else {
            Outcome::Clean
        }
    }

    /// The process exit code for this outcome.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Problem => 1,
        }
    }
}

/// The environment refused: no permission, no such netns, a kernel without a feature.
/// Exits 3. Wrap a message a user can act on.
#[derive(Debug)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Build an `anyhow::Error` that exits 3.
pub fn refused(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Refused(msg.into()))
}

/// Exit code for an error: 3 when anything in its chain is [`Refused`], an OS permission
/// error or an unreachable etcd; 2 otherwise (a failed write to standard output included).
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<Refused>().is_some() {
            return 3;
        }
        // An etcd nobody answers for is the environment, like an unreachable API server.
        if cause
            .downcast_ref::<crate::etcd::Error>()
            .is_some_and(|e| e.is_unreachable())
        {
            return 3;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::PermissionDenied {
                return 3;
            }
        }
    }
    2
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn refused_anywhere_in_chain_exits_3() {
        let e = Err::<(), _>(refused("no such netns"))
            .context("reading routes")
            .unwrap_err();
        assert_eq!(exit_code(&e), 3);
        assert_eq!(exit_code(&anyhow::anyhow!("bad line 3")), 2);
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(exit_code(&anyhow::Error::new(denied)), 3);
    }

    #[test]
    fn outcome_codes() {
        assert_eq!(Outcome::from_findings(false).code(), 0);
        assert_eq!(Outcome::from_findings(true).code(), 1);
    }
}
