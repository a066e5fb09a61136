//! `netpath capture`: live capture through libpcap, in any network namespace, shown with
//! the same views as `netpath decode`, optionally written to a pcap file as well.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::capture::{Limits, LiveCapture, LiveOptions, parse_duration, session, stop};
use crate::cmd::Ctx;
use crate::decode::pipeline::options_from_flags;
use crate::error::Outcome;
use crate::netlink::Netns;
use crate::pcapfile::Timestamp;
use crate::pcapwrite::DEFAULT_SNAPLEN;
use crate::render::decode::{Printer, View};
use crate::wire::LinkType;

/// Arguments of `netpath capture`.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Interface to capture on; `any` for every interface of the namespace (Linux cooked v2).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: String,
    /// Capture inside this network namespace (a name under /run/netns or a path such as
    /// /proc/PID/ns/net).
    #[arg(long, value_name = "NAME")]
    pub netns: Option<String>,
    /// Stop after this many packets.
    #[arg(short = 'c', long = "count", value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this long (`30s`, `500ms`, `2m`, `1h`; a bare number is seconds).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Only packets matching this BPF filter (libpcap syntax, as tcpdump: `udp port 8472`).
    #[arg(long, short = 'f', value_name = "BPF")]
    pub filter: Option<String>,
    /// Also write the raw packets to this pcap file (`-` for standard output, which then
    /// carries only the pcap).
    #[arg(short = 'w', long = "write", value_name = "FILE.pcap")]
    pub write: Option<PathBuf>,
    /// Bytes kept per packet.
    #[arg(short = 's', long, value_name = "BYTES", default_value_t = DEFAULT_SNAPLEN)]
    pub snaplen: u32,
    /// Do not put the interface into promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Show every layer and field, indented outer to inner, instead of one line per packet.
    #[arg(long, conflicts_with = "stats")]
    pub tree: bool,
    /// Show counts instead of packets, when the capture stops: per encapsulation, VNI,
    /// outer node pair and inner flow; bad checksums, truncations, packets over the inner
    /// MTU, fragments.
    #[arg(long)]
    pub stats: bool,
    /// Decode this UDP destination port as VXLAN too (besides 4789 and 8472); repeatable.
    #[arg(long = "vxlan-port", value_name = "PORT")]
    pub vxlan_ports: Vec<u16>,
    /// Name addresses from a `kubectl get nodes,pods -A -o json` dump: outer IPs as nodes,
    /// inner IPs as namespace/pod; `--cluster` alone reads them from the Kubernetes API.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    pub cluster: Option<PathBuf>,
    /// Link MTU for the "over the inner MTU" count (inner MTU = this minus the
    /// encapsulation overhead: VXLAN 50, IPIP 20).
    #[arg(long, default_value_t = 1500, value_name = "BYTES")]
    pub mtu: u16,
    /// Do not verify checksums (a capture on the sending host sees offloaded, partial ones).
    #[arg(long)]
    pub no_checksums: bool,
    /// Show times in the local time zone (`TZ`, else /etc/localtime), as tcpdump does,
    /// instead of UTC. JSON times stay UTC.
    #[arg(long)]
    pub local_time: bool,
}

/// Run `netpath capture`.
pub fn run(args: CaptureArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    let view = View::from_flags(args.tree, args.stats, ctx.json)?;
    let names = super::decode::names(args.cluster.as_deref())?;
    let opts = LiveOptions {
        interface: args.interface.clone(),
        netns: Netns::from_arg(args.netns.as_deref()),
        snaplen: args.snaplen,
        promisc: !args.no_promisc,
        filter: args.filter.clone(),
    };
    let mut cap = LiveCapture::open(&opts)?;
    stop::install().context("installing the Ctrl-C handler")?;
    let link = LinkType(cap.linktype());

    // `-w -`: standard output carries the pcap, nothing else.
    let to_stdout = args.write.as_deref() == Some(Path::new("-"));
    let mut writer = args
        .write
        .as_deref()
        .map(|p| session::pcap_writer(p, cap.linktype(), args.snaplen))
        .transpose()?;
    let mut printer = (!to_stdout).then(|| {
        let p = Printer::new(
            view,
            options_from_flags(&args.vxlan_ports, args.no_checksums),
            names,
            args.mtu,
            ctx.style,
            crate::render::out::Stdout::raw(),
        );
        if args.local_time { p.local_time() } else { p }
    });

    let interface = cap.interface().to_string();
    crate::diag!(
        "netpath: capturing on {interface} (netns {}), link-type {link}; Ctrl-C to stop",
        opts.netns.label(),
    );
    // On a terminal each packet shows at once; into a pipe, output goes out in chunks and
    // whenever the interface is idle.
    let flush_each = ctx.style.tty;
    let limits = Limits {
        count: args.count,
        duration: args.duration,
    };
    let (captured, reason) = session::run(&mut cap, limits, |number, packet| {
        let Some(packet) = packet else {
            // Idle: show what is buffered.
            if let Some(w) = writer.as_mut() {
                w.flush().context("writing the pcap file")?;
            }
            if let Some(p) = printer.as_mut() {
                p.flush()?;
            }
            return Ok(());
        };
        if let Some(w) = writer.as_mut() {
            w.write_packet(packet.ts, packet.data, packet.orig_len)
                .context("writing the pcap file")?;
        }
        if let Some(p) = printer.as_mut() {
            let ts = Timestamp {
                sec: i64::try_from(packet.ts.as_secs()).unwrap_or(i64::MAX),
                nsec: packet.ts.subsec_nanos(),
            };
            if let Some(w) = p.packet(number, ts, link, packet.data, packet.orig_len)? {
                p.flush()?;
                crate::diag!("netpath: {interface}: warning: {w}");
            }
            if flush_each {
                p.flush()?;
            }
        }
        Ok(())
    })?;
    if let Some(w) = writer {
        w.into_inner().context("writing the pcap file")?;
    }
    if let Some(mut p) = printer {
        p.finish()?;
    }
    let stats = cap.stats().unwrap_or_default();
    crate::diag!("netpath: {}", session::summary(captured, &stats, reason));
    Ok(Outcome::Clean)
}
