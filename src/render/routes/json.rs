//! `netpath routes --json`: one document, schema `netpath.routes/v1`; the route objects
//! are shared with the `routes get` document.

use std::io::Write;
use std::net::IpAddr;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};

use super::{RoutesView, Row, Source};
use crate::dataplane::Scope;
use crate::render::json::schema;

#[derive(Serialize)]
struct Named<'a> {
    number: u32,
    name: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct JsonTable {
    pub(super) id: u32,
    pub(super) name: String,
}

#[derive(Serialize)]
struct JsonFlags {
    letters: String,
    words: Vec<&'static str>,
}

#[derive(Serialize)]
struct JsonHop<'a> {
    gateway: Option<IpAddr>,
    dev: Option<&'a str>,
    weight: u16,
    flags: Vec<&'static str>,
}

#[derive(Serialize)]
pub(super) struct JsonRoute<'a> {
    dst: String,
    #[serde(rename = "type")]
    kind: String,
    gateway: Option<IpAddr>,
    dev: Option<&'a str>,
    table: JsonTable,
    proto: Named<'a>,
    scope: Named<'a>,
    metric: u32,
    prefsrc: Option<IpAddr>,
    mtu: Option<u32>,
    tos: u8,
    flags: JsonFlags,
    onlink: bool,
    linkdown: bool,
    nexthops: Vec<JsonHop<'a>>,
    explanation: Option<String>,
    owner: Option<&'static str>,
}

fn scope_static(s: Scope) -> Option<&'static str> {
    Some(match s {
        Scope::Universe => "global",
        Scope::Site => "site",
        Scope::Link => "link",
        Scope::Host => "host",
        Scope::Nowhere => "nowhere",
        Scope::Other(_) => return None,
    })
}

pub(super) fn json_route<'a>(row: &Row<'a>) -> JsonRoute<'a> {
    let r = row.route;
    JsonRoute {
        dst: format!("{}/{}", r.dst.network(), r.dst.prefix()),
        kind: r.kind.name(),
        gateway: r.gateway(),
        dev: r.dev(),
        table: JsonTable {
            id: r.table.0,
            name: r.table.name(),
        },
        proto: Named {
            number: u32::from(r.proto.0),
            name: r.proto.name(),
        },
        scope: Named {
            number: u32::from(r.scope.number()),
            name: scope_static(r.scope),
        },
        metric: r.metric.unwrap_or(0),
        prefsrc: r.prefsrc,
        mtu: r.mtu,
        tos: r.tos,
        flags: JsonFlags {
            letters: row.flags.letters(),
            words: row.flags.words(),
        },
        onlink: r.nexthops.iter().any(|h| h.flags.onlink),
        linkdown: r.nexthops.iter().any(|h| h.flags.linkdown),
        nexthops: r
            .nexthops
            .iter()
            .map(|h| JsonHop {
                gateway: h.gateway,
                dev: h.dev.as_deref(),
                weight: h.weight,
                flags: h.flags.words(),
            })
            .collect(),
        explanation: row.explanation.map(|e| e.to_string()),
        owner: row.explanation.map(|e| e.owner().name()),
    }
}

struct JsonRows<'r, 'a>(&'r [Row<'a>]);

impl Serialize for JsonRows<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for row in self.0 {
            seq.serialize_element(&json_route(row))?;
        }
        seq.end()
    }
}

struct JsonDoc<'r, 'a>(&'r RoutesView<'a>);

impl Serialize for JsonDoc<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("schema", &schema("routes"))?;
        match v.source {
            Source::Kernel { netns } => {
                m.serialize_entry("netns", netns)?;
                m.serialize_entry("source", "kernel")?;
            }
            Source::File { path, format } => {
                m.serialize_entry("netns", &None::<&str>)?;
                m.serialize_entry("source", &path.display().to_string())?;
                m.serialize_entry("format", format)?;
            }
        }
        m.serialize_entry("table", &v.table)?;
        m.serialize_entry("warnings", v.warnings)?;
        m.serialize_entry("routes", &JsonRows(&v.rows))?;
        m.end()
    }
}

/// One JSON document, schema `netpath.routes/v1`.
pub fn write_json(v: &RoutesView<'_>, out: &mut impl Write) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &JsonDoc(v))?;
    out.write_all(b"\n")?;
    Ok(())
}
