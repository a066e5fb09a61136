//! `netpath dump` for people and scripts: what was written, from which cluster.

use serde::Serialize;

use super::json::schema;

/// The JSON document of `netpath dump` (`netpath.dump/v1`).
#[derive(Serialize)]
pub struct DumpDoc<'a> {
    schema: String,
    cluster: String,
    server: &'a str,
    output: Option<String>,
    bytes: usize,
    objects: Vec<Count<'a>>,
}

#[derive(Serialize)]
struct Count<'a> {
    kind: &'a str,
    count: usize,
}

/// What a dump wrote: where, from which cluster and server, how many bytes, and how many
/// objects of each kind.
#[derive(Debug, Clone, Copy)]
pub struct Written<'a> {
    /// The file written.
    pub output: Option<&'a std::path::Path>,
    /// The cluster, as its origin names it.
    pub cluster: &'a str,
    /// The API server.
    pub server: &'a str,
    /// Size of the List.
    pub bytes: usize,
    /// Objects per kind.
    pub counts: &'a [(&'static str, usize)],
}

/// The dump as its JSON document.
pub fn document<'a>(w: &Written<'a>) -> DumpDoc<'a> {
    DumpDoc {
        schema: schema("dump"),
        cluster: w.cluster.to_string(),
        server: w.server,
        output: w.output.map(|p| p.display().to_string()),
        bytes: w.bytes,
        objects: w
            .counts
            .iter()
            .map(|(kind, count)| Count {
                kind,
                count: *count,
            })
            .collect(),
    }
}

/// The dump as one line: `FILE: 3 nodes, 12 pods from CLUSTER (SERVER), 1.2 MB`.
pub fn text(w: &Written<'_>) -> String {
    format!(
        "{}: {} from {} ({}), {:.1} MB",
        w.output
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        w.counts
            .iter()
            .map(|(kind, n)| format!("{n} {}", plural(kind, *n)))
            .collect::<Vec<_>>()
            .join(", "),
        w.cluster,
        w.server,
        w.bytes as f64 / 1e6
    )
}

fn plural(kind: &str, n: usize) -> String {
    let word = match kind {
        "Node" => "node",
        "Pod" => "pod",
        "IPPool" => "IPPool",
        "BlockAffinity" => "BlockAffinity",
        "ConfigMap" => "ConfigMap",
        other => other,
    };
    match (n, word) {
        (1, w) => w.to_string(),
        (_, "BlockAffinity") => "BlockAffinities".to_string(),
        (_, w) => format!("{w}s"),
    }
}
