//! `netpath demo` for people and scripts: the list of built-in demo clusters.

use serde::Serialize;

use super::Style;
use super::json::schema;
use super::table;
use crate::model::Cluster;

/// The JSON document of `netpath demo` (`netpath.demo/v1`).
#[derive(Serialize)]
pub struct DemoList {
    schema: String,
    demos: Vec<DemoEntry>,
}

#[derive(Serialize)]
struct DemoEntry {
    name: String,
    cluster: String,
    mode: String,
    nodes: usize,
    pods: usize,
    description: String,
}

fn entries(demos: Vec<Cluster>) -> Vec<DemoEntry> {
    demos
        .into_iter()
        .map(|c| DemoEntry {
            cluster: format!("demo:{}", c.name),
            mode: c.mode.to_string(),
            nodes: c.nodes.len(),
            pods: c.pods.len(),
            description: c.description.clone().unwrap_or_default(),
            name: c.name,
        })
        .collect()
}

/// The demos as the JSON document of `netpath demo`.
pub fn document(demos: Vec<Cluster>) -> DemoList {
    DemoList {
        schema: schema("demo"),
        demos: entries(demos),
    }
}

/// The demos as a table, with how to use one.
pub fn text(demos: Vec<Cluster>, style: &Style) -> String {
    let mut t = table::new_table(style, &["CLUSTER", "NODES", "PODS", "WHAT IT SHOWS"]);
    for d in entries(demos) {
        t.add_row(vec![
            d.cluster,
            d.nodes.to_string(),
            d.pods.to_string(),
            d.description,
        ]);
    }
    format!(
        "{}\nUse one with --cluster, e.g. `netpath trace --cluster demo:flannel-vxlan default/web-0 default/db-0`;\n`netpath demo NAME` prints its cluster file.\n",
        table::to_string(&t)
    )
}
