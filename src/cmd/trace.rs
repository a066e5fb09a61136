//! `netpath trace SRC DST --cluster C`: the expected path of a packet and its reply, hop by
//! hop; `netpath trace --all --cluster C`: every node pair.

use std::path::PathBuf;

use super::Ctx;
use super::args::ClusterArgs;
use crate::error::Outcome;
use crate::plan;
use crate::render::{json, picture, trace as render};
use crate::scene::{self, LiveSource, RealSources};
use crate::trace::timing::Stopwatch;
use crate::trace::{self, Probe, Proto, all};
use anyhow::{Context, bail};

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

/// Run `netpath trace`.
pub fn run(args: &TraceArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let watch = Stopwatch::start();
    let cluster = args.cluster.load()?;
    let load = watch.spent();
    let watch = Stopwatch::start();
    let mut world = plan::world(&cluster);
    let real_state = scene::place_real(&mut world, &cluster, &args.real_sources())?;
    let built = watch.spent();
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
            let ((lw, lc), (ww, wc)) = (load.ms(), built.ms());
            crate::diag!(
                "timing: load {lw:.1} ms wall, {lc:.1} ms CPU ({mb:.1} MB, {:.0} MB/s of CPU; {} nodes, {} pods); world {ww:.1} ms wall, {wc:.1} ms CPU; {what}",
                mb / load.cpu.as_secs_f64().max(1e-9),
                cluster.nodes.len(),
                cluster.pods.len(),
            );
        }
    };
    if args.all {
        let watch = Stopwatch::start();
        let matrix = all::all(&world, probe);
        let spent = watch.spent();
        timing(&format!(
            "--all: {} nodes, {} ordered pairs in {:.2} s wall, {:.2} s CPU",
            matrix.representatives.len(),
            matrix.pairs,
            spent.wall.as_secs_f64(),
            spent.cpu.as_secs_f64()
        ));
        if let Some(path) = &args.html {
            std::fs::write(path, picture::matrix_page(&matrix, &cluster))
                .with_context(|| format!("cannot write the matrix page to {}", path.display()))?;
        }
        if ctx.json {
            json::print_document(&render::matrix_document(&matrix, &cluster))?;
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
    let watch = Stopwatch::start();
    let src = trace::resolve(&world, src_spec, true)?;
    if let Some(target) = trace::service::target(&world, &cluster.services, dst_spec, probe)? {
        let st = trace::service::trace(&world, &src, &target, probe);
        if ctx.json && args.format != picture::Format::Text {
            bail!("--json prints the trace as JSON and --format a picture of it: choose one");
        }
        let pictures = st.endpoints.iter();
        match args.format {
            picture::Format::Dot => {
                crate::render::out::print(&pictures.map(picture::dot).collect::<String>())?
            }
            picture::Format::Mermaid => {
                crate::render::out::print(&pictures.map(picture::mermaid).collect::<String>())?
            }
            _ if ctx.json => json::print_document(&render::service_document(&st, &cluster))?,
            _ => crate::render::out::print(&render::service(&st, &cluster, probe, &ctx.style))?,
        }
        return Ok(Outcome::from_findings(!st.ok()));
    }
    let dst = trace::resolve(&world, dst_spec, false)?;
    for (spec, end) in [(src_spec, &src), (dst_spec, &dst)] {
        if end.ip.is_some_and(|ip| ip.is_ipv6()) {
            bail!(
                "{spec} is IPv6: netpath plans and traces the IPv4 pod network only (in a dual-stack cluster, trace the IPv4 addresses)"
            );
        }
    }
    let mut result = trace::trace(&world, &src, &dst, probe);
    let first = watch.spent();
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
        let (watch, n) = (Stopwatch::start(), 1000);
        for _ in 0..n {
            std::hint::black_box(trace::trace(&world, &src, &dst, probe));
        }
        let ((fw, fc), (aw, ac)) = (first.ms(), watch.spent().per(n).ms());
        timing(&format!(
            "first trace {fw:.3} ms wall, {fc:.3} ms CPU (plans the hosts it crosses), then {aw:.3} ms wall, {ac:.3} ms CPU per trace"
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
        json::print_document(&render::document(
            &result,
            &cluster,
            real_state.as_ref().map(|r| r.placed.as_slice()),
            plan_trace.as_ref(),
        ))?;
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
