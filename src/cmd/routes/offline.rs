//! Offline input of `netpath routes`: a dump pasted from a ticket, or a node's snapshot.

use std::path::Path;

use anyhow::Context;

use crate::dataplane::predict::{Dump, is_snapshot};

/// Read `path` (`-` is standard input): a route dump in any format the parsers know,
/// or a `netpath snapshot` document (its whole node state).
pub fn read(path: &Path) -> anyhow::Result<Dump> {
    let bytes = crate::input::read_path_or_stdin(path, "route dump", crate::input::MAX_DUMP)?;
    if path.as_os_str() != "-" && is_snapshot(&bytes) {
        let snap = crate::snapshot::load::load_file(path)?;
        return Ok(Dump::from_snapshot(snap.state, snap.warnings));
    }
    Dump::from_route_bytes(&bytes).with_context(|| format!("in {}", shown(path)))
}

/// How messages name `path`.
pub fn shown(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}
