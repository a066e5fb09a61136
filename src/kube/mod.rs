//! The Kubernetes API as a cluster source: what `--cluster` reads from a file, read live.
//!
//! Configuration is resolved as kubectl resolves it ([`config`]); the objects are fetched as
//! raw JSON pages ([`fetch`]) and assembled into exactly the kubectl-format List document a
//! dump file holds ([`list`]), which then goes through the same reader as a dump
//! ([`crate::model::kubectl::parse`]). So a live read and `--cluster dump.json` of the same
//! objects give the same cluster by construction, and `netpath dump -o FILE` writes that
//! document.

pub mod config;
pub mod fetch;
pub mod list;
pub mod names;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use crate::model::Cluster;

/// How to reach the API: kubectl's global flags.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--kubeconfig FILE`: this file only (else `$KUBECONFIG`, else `~/.kube/config`, else
    /// the in-cluster service account).
    pub kubeconfig: Option<PathBuf>,
    /// `--context NAME` (else the kubeconfig's current-context).
    pub context: Option<String>,
    /// `-n/--namespace`: where a bare pod name is looked up first (else the context's).
    pub namespace: Option<String>,
    /// `--request-timeout`: the longest one request may take (connect, send, read).
    pub request_timeout: Duration,
}

/// The default `--request-timeout`, as a sentence's number of seconds.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Parse kubectl's `--request-timeout`: `10s`, `1m30s`, `500ms`, `2h`, or a bare number of
/// seconds; `0` means no limit (kept as a year, so timers stay finite).
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration (10s, 1m, 500ms, or a number of seconds)");
    let t = text.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(no_limit_if_zero(Duration::from_secs(secs)));
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += Duration::try_from_secs_f64(value * scale).map_err(|_| bad())?;
    }
    if t.is_empty() {
        return Err(bad());
    }
    Ok(no_limit_if_zero(total))
}

fn no_limit_if_zero(d: Duration) -> Duration {
    if d.is_zero() {
        Duration::from_secs(365 * 24 * 3600)
    } else {
        d
    }
}

/// A cluster's objects read from the API, as one kubectl-format List.
#[derive(Debug)]
pub struct Fetched {
    /// The List document (`{"apiVersion":"v1","items":[…],"kind":"List",…}`).
    pub document: Vec<u8>,
    /// Where it came from, in the words of a kubeconfig: `context NAME` or `in-cluster`.
    pub origin: config::Origin,
    /// How many objects of each kind, in the order read.
    pub counts: Vec<(&'static str, usize)>,
}

static OPTIONS: OnceLock<Options> = OnceLock::new();
static CONTEXT_NAMESPACE: OnceLock<String> = OnceLock::new();

/// Set the process's API options once, from the command line (before any command runs).
pub fn configure(options: Options) {
    let _ = OPTIONS.set(options);
}

/// The process's API options (defaults when [`configure`] was not called).
pub fn options() -> Options {
    OPTIONS.get().cloned().unwrap_or_else(|| Options {
        request_timeout: DEFAULT_REQUEST_TIMEOUT,
        ..Options::default()
    })
}

/// The namespace a bare pod name is looked up in first: `-n/--namespace`, else the namespace
/// of the context the cluster was read through (none for a cluster read from a file).
pub fn lookup_namespace() -> Option<String> {
    options()
        .namespace
        .or_else(|| CONTEXT_NAMESPACE.get().cloned())
}

/// Read the cluster's objects from the API into one List document.
pub fn fetch(options: &Options) -> anyhow::Result<Fetched> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the Kubernetes API client: {e}"))?;
    runtime.block_on(async {
        let (config, origin) = config::resolve(options).await?;
        let _ = CONTEXT_NAMESPACE.set(origin.namespace.clone());
        let (document, counts) = fetch::read_all(config, &origin, options.request_timeout).await?;
        Ok(Fetched {
            document,
            origin,
            counts,
        })
    })
}

/// Read the cluster from the API and build it through the kubectl-dump reader.
pub fn load(options: &Options, reader: &crate::model::kubectl::Options) -> anyhow::Result<Cluster> {
    let fetched = fetch(options)?;
    crate::model::kubectl::parse(&fetched.document, &fetched.origin.source(), reader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeouts_as_kubectl_writes_them() {
        assert_eq!(parse_timeout("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_timeout("7"), Ok(Duration::from_secs(7)));
        assert_eq!(parse_timeout("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_timeout("0").is_ok_and(|d| d > Duration::from_secs(3600)));
        assert!(parse_timeout("soon").is_err());
        assert!(parse_timeout("10x").is_err());
        assert!(parse_timeout("").is_err());
    }
}
