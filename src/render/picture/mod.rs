//! Pictures of a trace for runbooks and tickets: Graphviz DOT and Mermaid of one trace
//! (`trace --format dot|mermaid`), and a self-contained HTML page of the `--all` matrix
//! (`trace --all --html FILE`). Drawn from the trace's result types only.
//!
//! Both graph formats draw the same [`Picture`]: each direction is a lane; each host the
//! packet visits is a box holding one node per device it is seen on (with what happens
//! there, in the words of the text output); tunnelled stretches are dashed; the drop is red
//! and the verdict ends the lane.

mod dot;
mod html;
mod mermaid;

pub use dot::dot;
pub use html::matrix_page;
pub use mermaid::mermaid;

use crate::trace::{Action, Path, Trace, Verdict};
use crate::world::HostKind;

/// How `trace` prints one trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Hop by hop, for people (the default).
    #[default]
    Text,
    /// A Graphviz digraph (`netpath trace … --format dot | dot -Tsvg > path.svg`).
    Dot,
    /// A Mermaid flowchart (for Markdown that renders Mermaid: GitLab, GitHub, wikis).
    Mermaid,
}

/// One device on one host, as the packet meets it.
#[derive(Debug, Clone)]
struct Stop {
    /// The device (`-` when the hop names none).
    device: String,
    /// What happens there, one line each (`route 10.244.0.0/16 via …`).
    lines: Vec<String>,
    /// The packet is dropped here.
    drop: bool,
}

/// One visit of the packet to a host.
#[derive(Debug, Clone)]
struct Visit {
    host: String,
    kind: &'static str,
    /// Indexes into [`Lane::stops`].
    stops: Vec<usize>,
}

/// A move of the packet from one stop to the next.
#[derive(Debug, Clone)]
struct Move {
    from: usize,
    to: usize,
    /// `next hop 10.244.0.1`, `vxlan VNI 1` …
    label: String,
    /// Inside a tunnel (the outer packet travels).
    tunnel: bool,
}

/// One direction of the trace.
#[derive(Debug, Clone)]
struct Lane {
    /// `request 10.244.0.2 → 10.244.2.2`.
    title: String,
    stops: Vec<Stop>,
    visits: Vec<Visit>,
    moves: Vec<Move>,
    /// Delivered (or left the cluster network).
    ok: bool,
    /// The verdict sentence.
    verdict: String,
}

/// What both graph formats draw.
#[derive(Debug, Clone)]
struct Picture {
    /// `trace pod default/web-0 (…) → pod default/db-0 (…)`.
    title: String,
    lanes: Vec<Lane>,
}

impl Picture {
    fn of(t: &Trace) -> Picture {
        let mut lanes = vec![lane("request", &t.request)];
        if let Some(r) = &t.reply {
            lanes.push(lane("reply", r));
        }
        Picture {
            title: format!("trace {} → {}", t.src.label, t.dst.label),
            lanes,
        }
    }
}

fn kind_word(kind: HostKind) -> &'static str {
    match kind {
        HostKind::Pod => "pod",
        HostKind::Node => "node",
        HostKind::Router => "router",
    }
}

/// Lay one direction out as visits, stops and moves.
fn lane(label: &str, p: &Path) -> Lane {
    let mut l = Lane {
        title: format!("{label} {} → {}", p.packet.src, p.packet.dst),
        stops: Vec::new(),
        visits: Vec::new(),
        moves: Vec::new(),
        ok: p.verdict.ok(),
        verdict: verdict_line(&p.verdict),
    };
    // The label of the move into the next stop, set by the hop that sends the packet on.
    let mut pending: Option<(String, bool)> = None;
    for h in &p.hops {
        let Some((word, text)) = super::trace::hop_words(h) else {
            continue;
        };
        let new_visit = l.visits.last().is_none_or(|v| v.host != h.host);
        if new_visit {
            l.visits.push(Visit {
                host: h.host.clone(),
                kind: kind_word(h.host_kind),
                stops: Vec::new(),
            });
        }
        let current = l.stops.len().checked_sub(1);
        let device = h.device.as_deref();
        let new_stop = new_visit
            || current.is_none()
            || device.is_some_and(|d| current.is_some_and(|c| l.stops[c].device != d));
        if new_stop {
            l.stops.push(Stop {
                device: device.unwrap_or("-").to_string(),
                lines: Vec::new(),
                drop: false,
            });
            let to = l.stops.len() - 1;
            if let Some(visit) = l.visits.last_mut() {
                visit.stops.push(to);
            }
            if let Some(from) = current {
                let (label, tunnel) = pending.take().unwrap_or((String::new(), h.depth > 0));
                l.moves.push(Move {
                    from,
                    to,
                    label,
                    tunnel,
                });
            }
        }
        let at = l.stops.len() - 1;
        l.stops[at].lines.push(format!("{word} {text}"));
        match &h.action {
            Action::Drop => l.stops[at].drop = true,
            Action::Transmit { next_hop, .. } => {
                pending = Some((format!("next hop {next_hop}"), h.depth > 0));
            }
            Action::Encap => {
                let what = match &h.encap {
                    Some(crate::trace::Encap::Vxlan { vni, .. }) => format!("vxlan VNI {vni}"),
                    Some(crate::trace::Encap::Ipip { .. }) => "ipip".to_string(),
                    None => "tunnel".to_string(),
                };
                pending = Some((what, true));
            }
            _ => {}
        }
    }
    l
}

/// The verdict as one line: `✔ delivered to node-3`, `✘ dropped at router: no route …`.
fn verdict_line(v: &Verdict) -> String {
    let mark = if v.ok() { "✔" } else { "✘" };
    match v.code() {
        Some(code) => format!("{mark} {} [{code}]", v.explanation()),
        None => format!("{mark} {}", v.explanation()),
    }
}
