//! Offline input of `netpath routes`: a dump pasted from a ticket, or a node's snapshot.

use std::io::Read;
use std::path::Path;

use anyhow::Context;

use crate::dataplane::NodeState;
use crate::dataplane::parse::parse_routes_bytes;

/// What an offline file gave.
pub struct Dump {
    /// The routes (a snapshot's: also its devices, rules and sysctls).
    pub state: NodeState,
    /// The format's name (`ip route`, `route -n`, `netpath snapshot` …).
    pub format: &'static str,
    /// True for a snapshot: the node's policy rules, devices and sysctls are known.
    pub has_links: bool,
    /// What the parser skipped or guessed.
    pub warnings: Vec<String>,
}

/// The name of a `netpath.snapshot/v1` document as an input format.
pub const SNAPSHOT: &str = "netpath snapshot";

/// Read `path` (`-` is standard input): a route dump in any format the parsers know,
/// or a `netpath snapshot` document (its whole node state).
pub fn read(path: &Path) -> anyhow::Result<Dump> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading routes from standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    if path.as_os_str() != "-" && is_snapshot(&bytes) {
        let snap = crate::snapshot::load::load_file(path)?;
        return Ok(Dump {
            state: snap.state,
            format: SNAPSHOT,
            has_links: true,
            warnings: snap.warnings,
        });
    }
    let parsed = parse_routes_bytes(&bytes).with_context(|| {
        if path.as_os_str() == "-" {
            "in standard input".to_string()
        } else {
            format!("in {}", path.display())
        }
    })?;
    Ok(Dump {
        state: NodeState {
            routes: parsed.routes,
            ..NodeState::default()
        },
        format: parsed.format.name(),
        has_links: false,
        warnings: parsed.warnings,
    })
}

/// Whether `bytes` is a JSON document whose schema is a netpath snapshot's.
fn is_snapshot(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Head {
        schema: Option<String>,
    }
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && serde_json::from_slice::<Head>(bytes)
            .is_ok_and(|h| h.schema.is_some_and(|s| s.starts_with("netpath.snapshot/")))
}
