//! `netpath trace SRC DST --cluster C`: the expected path of a packet and its reply, hop by
//! hop; `netpath trace --all --cluster C`: every node pair.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use super::Ctx;
use super::args::ClusterArgs;
use crate::error::Outcome;
use crate::plan;
use crate::render::{json, picture, trace as render};
use crate::scene::{self, LiveSource, Placed, RealSources};
use crate::trace::{self, Probe, Proto, Verdict, all};

/// Arguments of `netpath trace`.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// Source: namespace/pod, a unique pod name, a pod IP, or a node name or IP.
    #[arg(required_unless_present = "all")]
    pub src: Option<String>,
    /// Destination: as SRC, or an address outside the cluster.
    #[arg(required_unless_present = "all")]
    pub dst: Option<String>,
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Trace one representative pod per node to every other node, both ways, and summarise
    /// the broken pairs.
    #[arg(long, conflicts_with_all = ["src", "dst"])]
    pub all: bool,
    /// Protocol of the probe.
    #[arg(long, value_enum, default_value_t = Proto::Tcp)]
    pub proto: Proto,
    /// Destination port (TCP/UDP).
    #[arg(long, default_value_t = 80)]
    pub dport: u16,
    /// Total IP packet size in bytes; sent with DF, so a device with a smaller MTU drops it.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(20..=65535))]
    pub size: u32,
    /// Walk these nodes through their real state: snapshot files (`netpath snapshot -o`),
    /// text-dump directories, or directories holding one of either per node (matched by the
    /// snapshot's node name, else the file name). Other nodes use the plan.
    #[arg(long, value_delimiter = ',', value_name = "FILE_OR_DIR")]
    pub snapshot: Vec<PathBuf>,
    /// Walk the local node through the local kernel's state (snapshot it now), and show the
    /// kernel's own answer for each route lookup there (`ip route get … iif …`).
    #[arg(long)]
    pub live: bool,
    /// With --live: the local node's name in the cluster (default: the host name).
    #[arg(long, value_name = "NODE", requires = "live")]
    pub node: Option<String>,
    /// With --live: the local node's network namespace (default: the current one).
    #[arg(long, value_name = "NETNS", requires = "live")]
    pub netns: Option<String>,
    /// How to print the trace: text (hop by hop), or a picture of the path for runbooks and
    /// tickets: dot (Graphviz: `| dot -Tsvg > path.svg`) or mermaid (Markdown).
    #[arg(
        long,
        value_enum,
        default_value_t,
        value_name = "FORMAT",
        conflicts_with = "all"
    )]
    pub format: picture::Format,
    /// With --all: also write the node-pair matrix as a self-contained HTML page, each cell
    /// coloured by verdict with its reason code (the explanation on hover).
    #[arg(long, value_name = "FILE", requires = "all")]
    pub html: Option<PathBuf>,
    /// Print load and trace timings to standard error (for benchmarks).
    #[arg(long, hide = true)]
    pub timing: bool,
}

#[derive(Serialize)]
struct TraceDoc<'a> {
    schema: String,
    cluster: &'a str,
    mode: String,
    assumptions: &'a [String],
    /// Where the cluster contradicts itself (absent when it does not).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    #[serde(flatten)]
    trace: &'a trace::Trace,
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

#[derive(Serialize)]
struct AllDoc<'a> {
    schema: String,
    cluster: &'a str,
    mode: String,
    assumptions: &'a [String],
    /// Where the cluster contradicts itself (absent when it does not).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    #[serde(flatten)]
    matrix: &'a all::Matrix,
}

impl TraceArgs {
    /// The real state to walk instead of the plan (`--snapshot`, `--live`).
    fn real_sources(&self) -> RealSources {
        RealSources {
            snapshots: self.snapshot.clone(),
            live: self.live.then(|| LiveSource {
                node: self.node.clone(),
                netns: self.netns.clone(),
            }),
        }
    }
}

/// CPU time (user + system) of this process so far: on a shared machine, wall time
/// measures the neighbours too.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv =
        |t: libc::timeval| Duration::new(t.tv_sec.max(0) as u64, (t.tv_usec.max(0) as u32) * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Run `netpath trace`.
pub fn run(args: &TraceArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let (t0, c0) = (Instant::now(), cpu_time());
    let cluster = args.cluster.load()?;
    let (t_load, c_load) = (t0.elapsed(), cpu_time() - c0);
    let (t1, c1) = (Instant::now(), cpu_time());
    let mut world = plan::world(&cluster);
    let real_state = scene::place_real(&mut world, &cluster, &args.real_sources())?;
    let (t_world, c_world) = (t1.elapsed(), cpu_time() - c1);
    let probe = Probe {
        proto: args.proto,
        dport: Some(args.dport),
        size: args.size,
    };
    let timing = |what: &str| {
        if args.timing {
            let size = std::fs::metadata(&args.cluster.cluster)
                .map(|m| m.len())
                .unwrap_or(0);
            let mb = size as f64 / 1e6;
            eprintln!(
                "timing: load {:.1} ms wall, {:.1} ms CPU ({mb:.1} MB, {:.0} MB/s of CPU; {} nodes, {} pods); world {:.1} ms wall, {:.1} ms CPU; {what}",
                t_load.as_secs_f64() * 1e3,
                c_load.as_secs_f64() * 1e3,
                mb / c_load.as_secs_f64().max(1e-9),
                cluster.nodes.len(),
                cluster.pods.len(),
                t_world.as_secs_f64() * 1e3,
                c_world.as_secs_f64() * 1e3,
            );
        }
    };
    if args.all {
        let (t, c) = (Instant::now(), cpu_time());
        let matrix = all::all(&world, probe);
        timing(&format!(
            "--all: {} nodes, {} ordered pairs in {:.2} s wall, {:.2} s CPU",
            matrix.representatives.len(),
            matrix.pairs,
            t.elapsed().as_secs_f64(),
            (cpu_time() - c).as_secs_f64()
        ));
        if let Some(path) = &args.html {
            std::fs::write(path, picture::matrix_page(&matrix, &cluster))
                .with_context(|| format!("cannot write the matrix page to {}", path.display()))?;
        }
        if ctx.json {
            json::print_document(&AllDoc {
                schema: json::schema("trace-all"),
                cluster: &cluster.source,
                mode: cluster.mode.to_string(),
                assumptions: &cluster.assumptions,
                warnings: &cluster.warnings,
                matrix: &matrix,
            })?;
        } else {
            crate::render::out::print(&render::matrix(&matrix, &cluster, &ctx.style))?;
        }
        return Ok(Outcome::from_findings(!matrix.all_ok()));
    }
    let (Some(src), Some(dst)) = (&args.src, &args.dst) else {
        bail!("trace needs SRC and DST, or --all");
    };
    // Bare pod names are looked up in the namespace first (-n, or the context's), as kubectl.
    let namespace = crate::kube::lookup_namespace();
    let src = &crate::kube::names::qualify(&cluster, src, namespace.as_deref());
    let dst = &crate::kube::names::qualify(&cluster, dst, namespace.as_deref());
    let (src_spec, dst_spec) = (src, dst);
    // The first trace's time includes resolving the endpoints (which plans the pods' and
    // their nodes' own parts).
    let (t, c) = (Instant::now(), cpu_time());
    let src = trace::resolve(&world, src_spec, true)?;
    let dst = trace::resolve(&world, dst_spec, false)?;
    for (spec, end) in [(src_spec, &src), (dst_spec, &dst)] {
        if end.ip.is_some_and(|ip| ip.is_ipv6()) {
            bail!(
                "{spec} is IPv6: netpath plans and traces the IPv4 pod network only (in a dual-stack cluster, trace the IPv4 addresses)"
            );
        }
    }
    let mut result = trace::trace(&world, &src, &dst, probe);
    let (first, first_cpu) = (t.elapsed(), cpu_time() - c);
    // Over real state: what the plan has where the real state differs, the plan's own
    // verdicts, and the live kernel's answers.
    let plan_trace = real_state.as_ref().and_then(|r| {
        scene::finish(
            &mut result,
            &world,
            &cluster,
            r,
            (src_spec, dst_spec),
            probe,
        )
    });
    if args.timing {
        let (t, c) = (Instant::now(), cpu_time());
        let n = 1000;
        for _ in 0..n {
            std::hint::black_box(trace::trace(&world, &src, &dst, probe));
        }
        let (again, again_cpu) = (t.elapsed() / n, (cpu_time() - c) / n);
        timing(&format!(
            "first trace {:.3} ms wall, {:.3} ms CPU (plans the hosts it crosses), then {:.3} ms wall, {:.3} ms CPU per trace",
            first.as_secs_f64() * 1e3,
            first_cpu.as_secs_f64() * 1e3,
            again.as_secs_f64() * 1e3,
            again_cpu.as_secs_f64() * 1e3
        ));
    }
    if ctx.json && args.format != picture::Format::Text {
        bail!("--json prints the trace as JSON and --format a picture of it: choose one");
    }
    if args.format == picture::Format::Dot {
        crate::render::out::print(&picture::dot(&result))?;
    } else if args.format == picture::Format::Mermaid {
        crate::render::out::print(&picture::mermaid(&result))?;
    } else if ctx.json {
        json::print_document(&TraceDoc {
            schema: json::schema("trace"),
            cluster: &cluster.source,
            mode: cluster.mode.to_string(),
            assumptions: &cluster.assumptions,
            warnings: &cluster.warnings,
            trace: &result,
            snapshots: real_state.as_ref().map(|r| r.placed.as_slice()),
            plan: plan_trace.as_ref().map(|p| PlanVerdicts {
                request: &p.request.verdict,
                reply: p.reply.as_ref().map(|r| &r.verdict),
            }),
        })?;
    } else {
        crate::render::out::print(&render::trace(&result, &cluster, probe, &ctx.style))?;
        if let Some(r) = &real_state {
            crate::render::out::print(&crate::render::real::summary(
                &r.placed,
                &result,
                plan_trace.as_ref(),
            ))?;
        }
    }
    Ok(Outcome::from_findings(!result.ok()))
}
