//! `netpath trace` for people: one line per hop, grouped by host, the decisive route as
//! `ip route` prints it; and the `--all` summary.

use std::collections::HashMap;
use std::fmt::Write as _;

use colored::Colorize;
use serde::Serialize;

use super::Style;
use super::json::schema;
use crate::model::Cluster;
use crate::scene::Placed;
use crate::trace::all::Matrix;
use crate::trace::service::ServiceTrace;
use crate::trace::{Action, Encap, Hop, Path, Probe, Proto, Resolution, Trace, Verdict};
use crate::world::HostKind;

/// The readable trace: header, request, reply, notes.
pub fn trace(t: &Trace, cluster: &Cluster, probe: Probe, _style: &Style) -> String {
    let mut out = body(t, cluster, probe);
    if t.notes.is_empty() && (!cluster.assumptions.is_empty() || !cluster.warnings.is_empty()) {
        out.push('\n');
    }
    assumptions(&mut out, cluster);
    out
}

/// The cluster's assumptions and warnings, one line each.
fn assumptions(out: &mut String, cluster: &Cluster) {
    for a in &cluster.assumptions {
        let _ = writeln!(out, "{} {a}", "assumed:".yellow());
    }
    warnings(out, cluster);
}

/// A trace without the cluster's assumptions: header, request, reply, notes.
fn body(t: &Trace, cluster: &Cluster, probe: Probe) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {} → {}", "trace".bold(), t.src.label, t.dst.label);
    let _ = writeln!(
        out,
        "{}",
        format!("cluster {}: {}", cluster.source, cluster.mode).dimmed()
    );
    let ports = match probe.proto {
        Proto::Tcp | Proto::Udp => format!(" dport {}", probe.dport.unwrap_or(0)),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{}",
        format!(
            "probe {}{ports}, {} bytes, DF, TTL {}",
            probe.proto,
            probe.size,
            crate::trace::DEFAULT_TTL
        )
        .dimmed()
    );
    out.push('\n');
    path(&mut out, "request", &t.request);
    if let Some(r) = &t.reply {
        out.push('\n');
        let label = match t.symmetric {
            Some(true) => "reply (mirrors the request)",
            Some(false) => "reply (ASYMMETRIC: other hosts than the request)",
            None => "reply",
        };
        path(&mut out, label, r);
    }
    if !t.notes.is_empty() {
        out.push('\n');
    }
    for n in &t.notes {
        let _ = writeln!(out, "{} {n}", "note:".dimmed());
    }
    out
}

/// Where the cluster contradicts itself, one line each.
fn warnings(out: &mut String, cluster: &Cluster) {
    for w in &cluster.warnings {
        let _ = writeln!(out, "{} {w}", "warning:".red().bold());
    }
}

fn path(out: &mut String, label: &str, p: &Path) {
    let _ = writeln!(
        out,
        "{} {} → {}  {}",
        label.bold(),
        p.packet.src,
        p.packet.dst,
        verdict_word(&p.verdict)
    );
    let mut current: Option<&str> = None;
    for h in &p.hops {
        if matches!(h.action, Action::Send) {
            continue;
        }
        if current != Some(h.host.as_str()) {
            current = Some(&h.host);
            let kind = match h.host_kind {
                HostKind::Pod => "pod",
                HostKind::Node => "node",
                HostKind::Router => "router",
            };
            let tag = super::real::host_tag(h.source);
            let _ = writeln!(out, "  {} {}{tag}", kind.dimmed(), h.host.cyan().bold());
        }
        hop(out, h);
    }
    let _ = writeln!(out, "  {}", summary(p));
}

fn verdict_word(v: &Verdict) -> String {
    match v {
        Verdict::Delivered { .. } => "delivered".green().to_string(),
        Verdict::Exited { .. } => "leaves the cluster network".green().to_string(),
        Verdict::Dropped { .. } => "DROPPED".red().bold().to_string(),
    }
}

fn hop(out: &mut String, h: &Hop) {
    let outer = if h.depth > 0 {
        format!("[outer {} → {}] ", h.src, h.dst)
    } else {
        String::new()
    };
    let Some((word, text)) = hop_words(h) else {
        return;
    };
    let mut extra = Vec::new();
    if matches!(h.action, Action::Route) {
        extra.push(format!("ttl {}", h.ttl));
    }
    if let Some(m) = h.mtu.filter(|_| matches!(h.action, Action::Route)) {
        extra.push(format!("mtu {m}"));
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!("  {}", format!("[{}]", extra.join(", ")).dimmed())
    };
    let word = format!("{word:<8}");
    let word = match h.action {
        Action::Drop | Action::Refused { .. } => word.red().bold().to_string(),
        Action::Deliver | Action::Exit { .. } => word.green().to_string(),
        Action::Encap | Action::Decap => word.magenta().to_string(),
        _ => word,
    };
    let _ = writeln!(out, "    {word} {}{text}{extra}", outer.dimmed());
    super::real::hop_lines(out, h);
}

/// What happens at a hop in the text output's words: the word (`route`, `arp`, `encap` …)
/// and the rest of the line; none for the sender's own `send` hop.
pub(super) fn hop_words(h: &Hop) -> Option<(&'static str, String)> {
    let dev = h.device.as_deref().unwrap_or("-");
    Some(match &h.action {
        Action::Send => return None,
        Action::Receive { bridge } => (
            "in",
            match bridge {
                Some(b) => format!("{dev} (port of bridge {b})"),
                None => dev.to_string(),
            },
        ),
        Action::Route => (
            "route",
            h.route.as_ref().map(|r| r.to_string()).unwrap_or_default(),
        ),
        Action::Resolve { addr, mac, how } => {
            let mac = mac.map(|m| m.to_string()).unwrap_or_else(|| "?".into());
            match how {
                Resolution::Neighbour { state } => (
                    "neigh",
                    format!(
                        "{addr} dev {dev} lladdr {mac} {}",
                        format!("{state:?}").to_uppercase()
                    ),
                ),
                Resolution::Arp { owner, device } => {
                    ("arp", format!("{addr} is at {mac} ({owner} {device})"))
                }
                Resolution::ProxyArp { owner, device } => (
                    "arp",
                    format!("{addr} is at {mac} (proxy ARP by {owner} {device})"),
                ),
            }
        }
        Action::Fdb { mac, dst } => ("fdb", format!("{mac} dev {dev} dst {dst} self permanent")),
        Action::Encap | Action::Decap => {
            let word = if matches!(h.action, Action::Encap) {
                "encap"
            } else {
                "decap"
            };
            let text = match &h.encap {
                Some(Encap::Vxlan {
                    vni,
                    port,
                    outer_src,
                    outer_dst,
                    size,
                    ..
                }) => {
                    if word == "encap" {
                        format!(
                            "vxlan VNI {vni}: outer {outer_src} → {outer_dst} udp/{port}, {} → {size} bytes",
                            size - crate::cni::VXLAN_OVERHEAD
                        )
                    } else {
                        format!(
                            "vxlan VNI {vni} udp/{port} on {dev}, {size} → {} bytes",
                            size - crate::cni::VXLAN_OVERHEAD
                        )
                    }
                }
                Some(Encap::Ipip {
                    outer_src,
                    outer_dst,
                    size,
                }) => {
                    if word == "encap" {
                        format!(
                            "ipip: outer {outer_src} → {outer_dst} proto 4, {} → {size} bytes",
                            size - crate::cni::IPIP_OVERHEAD
                        )
                    } else {
                        format!(
                            "ipip (proto 4) on {dev}, {size} → {} bytes",
                            size - crate::cni::IPIP_OVERHEAD
                        )
                    }
                }
                None => String::new(),
            };
            (word, text)
        }
        Action::Bridge { port } => (
            "bridge",
            format!("{dev} forwards the frame out of port {port}"),
        ),
        Action::Transmit {
            to_host,
            to_device,
            next_hop,
        } => (
            "out",
            format!("{dev} → {to_host} {to_device} (next hop {next_hop})"),
        ),
        Action::Deliver => ("deliver", format!("{} on {dev}", h.dst)),
        Action::Exit { gateway } => (
            "exit",
            format!("{dev} → {gateway}, a gateway outside the model"),
        ),
        Action::Enter { gateway } => (
            "enter",
            format!("{dev} ← {gateway}, a gateway outside the model"),
        ),
        Action::Masquerade { from, to, by } => ("masq", format!("source {from} → {to} ({by})")),
        Action::Refused { gateway } => (
            "refused",
            format!(
                "{}: the kernel refuses this route (next hop {gateway} is not on-link on {dev}: Network is unreachable), so the lookup falls through",
                h.route.as_ref().map(|r| r.to_string()).unwrap_or_default()
            ),
        ),
        Action::Unmasquerade { from, to } => (
            "unmasq",
            format!("destination {from} → {to} (connection tracking of the masqueraded request)"),
        ),
        Action::Dnat {
            from,
            from_port,
            to,
            to_port,
            service,
        } => {
            let port = |p: &Option<u16>| p.map(|p| format!(":{p}")).unwrap_or_default();
            (
                "dnat",
                format!(
                    "destination {from}{} → {to}{} (kube-proxy, service {service})",
                    port(from_port),
                    port(to_port)
                ),
            )
        }
        Action::Undnat { from, to } => (
            "undnat",
            format!("source {from} → {to} (connection tracking of the DNATed request)"),
        ),
        Action::Drop => ("drop", dev.to_string()),
    })
}

fn summary(p: &Path) -> String {
    let routed = p
        .hops
        .iter()
        .filter(|h| {
            h.depth == 0 && matches!(h.action, Action::Route) && h.host_kind != HostKind::Pod
        })
        .count();
    let min_mtu = p
        .hops
        .iter()
        .filter(|h| h.depth == 0)
        .filter_map(|h| h.mtu)
        .min();
    let last_ttl = p
        .hops
        .iter()
        .filter(|h| h.depth == 0)
        .map(|h| h.ttl)
        .min()
        .unwrap_or(p.packet.ttl);
    let tunnels: Vec<String> = p
        .hops
        .iter()
        .filter(|h| matches!(h.action, Action::Encap))
        .map(|h| match &h.encap {
            Some(Encap::Vxlan { .. }) => format!("vxlan from {}", h.host),
            Some(Encap::Ipip { .. }) => format!("ipip from {}", h.host),
            None => String::new(),
        })
        .collect();
    let mut facts = vec![format!(
        "{routed} routing hop(s), TTL {} → {last_ttl}",
        p.packet.ttl
    )];
    if !tunnels.is_empty() {
        facts.push(format!("encapsulated: {}", tunnels.join(", ")));
    } else {
        facts.push("no encapsulation".into());
    }
    if let Some(m) = min_mtu {
        facts.push(format!("smallest MTU {m}"));
    }
    match &p.verdict {
        Verdict::Delivered { host } => {
            format!("{} delivered to {host}: {}", "✔".green(), facts.join("; "))
        }
        Verdict::Exited { host, gateway } => format!(
            "{} leaves the modelled network at {host} through {gateway}: {}",
            "✔".green(),
            facts.join("; ")
        ),
        Verdict::Dropped {
            host,
            device,
            reason,
            after,
        } => {
            let at = match device {
                Some(d) => format!("{host} ({d})"),
                None => host.clone(),
            };
            let after = after
                .as_ref()
                .map(|a| format!("\n    because {a}"))
                .unwrap_or_default();
            format!("{} dropped at {at}: {reason}{after}", "✘".red().bold())
        }
    }
}

/// The `--all` summary: counts, a matrix for small clusters, reasons, and the broken pairs.
pub fn matrix(m: &Matrix, cluster: &Cluster, _style: &Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} cluster {}: {}",
        "trace --all".bold(),
        cluster.source,
        cluster.mode
    );
    let reps: Vec<String> = m
        .representatives
        .iter()
        .take(6)
        .map(|(n, e)| {
            if n == e {
                n.clone()
            } else {
                format!("{n}: {e}")
            }
        })
        .collect();
    let more = if m.representatives.len() > 6 {
        format!(", … ({} nodes)", m.representatives.len())
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{}",
        format!("one endpoint per node ({}{more})", reps.join(", ")).dimmed()
    );
    let broken_pairs = m.pairs - m.ok;
    let _ = writeln!(
        out,
        "{} ordered pairs traced both ways: {} delivered both ways{}, {}",
        m.pairs,
        m.ok.to_string().green(),
        if m.asymmetric > 0 {
            format!(" ({} asymmetric)", m.asymmetric)
        } else {
            String::new()
        },
        if broken_pairs == 0 {
            "none broken".green().to_string()
        } else {
            format!("{broken_pairs} broken").red().bold().to_string()
        }
    );
    let n = m.representatives.len();
    if broken_pairs > 0 && n <= 24 {
        let mut cell: HashMap<(&str, &str), (bool, bool)> = HashMap::new();
        for b in &m.broken {
            let e = cell.entry((b.from.as_str(), b.to.as_str())).or_default();
            if b.direction == "request" {
                e.0 = true;
            } else {
                e.1 = true;
            }
        }
        let w = m
            .representatives
            .iter()
            .map(|(n, _)| n.len())
            .max()
            .unwrap_or(4)
            .max(4);
        out.push('\n');
        let _ = writeln!(
            out,
            "{}",
            "from \\ to   (✔ both ways, → request dropped, ← reply dropped, ✘ both)".dimmed()
        );
        let _ = write!(out, "{:w$}", "");
        for (to, _) in &m.representatives {
            let _ = write!(out, " {to:>w$}");
        }
        out.push('\n');
        for (from, _) in &m.representatives {
            let _ = write!(out, "{from:w$}");
            for (to, _) in &m.representatives {
                let mark = if from == to {
                    "·".dimmed().to_string()
                } else {
                    match cell.get(&(from.as_str(), to.as_str())) {
                        None => "✔".green().to_string(),
                        Some((true, true)) => "✘".red().to_string(),
                        Some((true, false)) => "→".red().to_string(),
                        Some((false, true)) => "←".red().to_string(),
                        Some((false, false)) => "?".to_string(),
                    }
                };
                let _ = write!(out, " {:>w$}", "");
                // Right-align the one-character mark in the column.
                out.truncate(out.len() - 1);
                out.push_str(&mark);
            }
            out.push('\n');
        }
    }
    if !m.by_reason.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", "broken, by reason:".bold());
        for g in &m.by_reason {
            let _ = writeln!(out, "  {:>6}  {}", g.count, g.code.red());
            let _ = writeln!(out, "          {}", format!("e.g. {}", g.example).dimmed());
        }
        out.push('\n');
        let _ = writeln!(out, "{}", "broken directions:".bold());
        let limit = 40;
        for b in m.broken.iter().take(limit) {
            let after = b
                .after
                .as_ref()
                .map(|a| {
                    format!(
                        " (after {}'s kernel refused its route: {})",
                        a.host,
                        a.code()
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} → {}  {:<7}  dropped at {}: {}{after}",
                b.from,
                b.to,
                b.direction,
                b.at,
                b.reason.code()
            );
        }
        if m.broken.len() > limit {
            let _ = writeln!(
                out,
                "  … and {} more (--json lists them all)",
                m.broken.len() - limit
            );
        }
    }
    for a in &cluster.assumptions {
        let _ = writeln!(out, "{} {a}", "assumed:".yellow());
    }
    warnings(&mut out, cluster);
    out
}

/// The JSON document of `netpath trace` (`netpath.trace/v1`).
#[derive(Serialize)]
pub struct TraceDoc<'a> {
    schema: String,
    cluster: &'a str,
    mode: String,
    assumptions: &'a [String],
    /// Where the cluster contradicts itself (absent when it does not).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    #[serde(flatten)]
    trace: &'a Trace,
    /// Hosts walked through real state (absent without --snapshot/--live).
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshots: Option<&'a [Placed]>,
    /// The plan's verdicts, for comparison with the real ones (with --snapshot/--live).
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<PlanVerdicts<'a>>,
}

#[derive(Serialize)]
struct PlanVerdicts<'a> {
    request: &'a Verdict,
    reply: Option<&'a Verdict>,
}

/// The trace of `cluster` as its JSON document; over real state, with the hosts placed and
/// the plan's own trace of the same packet.
pub fn document<'a>(
    t: &'a Trace,
    cluster: &'a Cluster,
    placed: Option<&'a [Placed]>,
    plan: Option<&'a Trace>,
) -> TraceDoc<'a> {
    TraceDoc {
        schema: schema("trace"),
        cluster: &cluster.source,
        mode: cluster.mode.to_string(),
        assumptions: &cluster.assumptions,
        warnings: &cluster.warnings,
        trace: t,
        snapshots: placed,
        plan: plan.map(|p| PlanVerdicts {
            request: &p.request.verdict,
            reply: p.reply.as_ref().map(|r| &r.verdict),
        }),
    }
}

/// The JSON document of `netpath trace --all` (`netpath.trace-all/v1`).
#[derive(Serialize)]
pub struct AllDoc<'a> {
    schema: String,
    cluster: &'a str,
    mode: String,
    assumptions: &'a [String],
    /// Where the cluster contradicts itself (absent when it does not).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    #[serde(flatten)]
    matrix: &'a Matrix,
}

/// The `--all` matrix of `cluster` as its JSON document.
pub fn matrix_document<'a>(m: &'a Matrix, cluster: &'a Cluster) -> AllDoc<'a> {
    AllDoc {
        schema: schema("trace-all"),
        cluster: &cluster.source,
        mode: cluster.mode.to_string(),
        assumptions: &cluster.assumptions,
        warnings: &cluster.warnings,
        matrix: m,
    }
}

/// A trace to a Service: each endpoint's trace in full, then the overall verdict.
pub fn service(st: &ServiceTrace, cluster: &Cluster, probe: Probe, _style: &Style) -> String {
    let mut out = String::new();
    let port = st.port.map(|p| format!(":{p}")).unwrap_or_default();
    let n = st.endpoints.len();
    for (i, t) in st.endpoints.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if st.code.is_none() || st.code == Some("endpoints-failing") {
            let _ = writeln!(
                out,
                "{}",
                format!(
                    "endpoint {}/{n} of service {} ({}{port})",
                    i + 1,
                    st.service,
                    st.cluster_ip
                )
                .bold()
            );
        }
        out.push_str(&body(t, cluster, probe));
    }
    out.push('\n');
    for n in &st.notes {
        let _ = writeln!(out, "{} {n}", "note:".dimmed());
    }
    let mark = if st.delivered {
        "✔".green().to_string()
    } else {
        "✘".red().bold().to_string()
    };
    let _ = writeln!(out, "{mark} {}", st.explanation);
    if !cluster.assumptions.is_empty() || !cluster.warnings.is_empty() {
        out.push('\n');
    }
    assumptions(&mut out, cluster);
    out
}

/// The JSON document of `netpath trace` to a Service (`netpath.trace/v1` with `service`).
#[derive(Serialize)]
pub struct ServiceDoc<'a> {
    schema: String,
    cluster: &'a str,
    mode: String,
    assumptions: &'a [String],
    /// Where the cluster contradicts itself (absent when it does not).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    service: &'a ServiceTrace,
}

/// The trace to a Service as its JSON document.
pub fn service_document<'a>(st: &'a ServiceTrace, cluster: &'a Cluster) -> ServiceDoc<'a> {
    ServiceDoc {
        schema: schema("trace"),
        cluster: &cluster.source,
        mode: cluster.mode.to_string(),
        assumptions: &cluster.assumptions,
        warnings: &cluster.warnings,
        service: st,
    }
}
