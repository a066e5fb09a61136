//! `netpath plan` for people: the `ip`/`bridge`/`sysctl` commands that would create a
//! node's planned dataplane, in an order that works (devices, pods, neighbours and FDB
//! before the routes that use them).

use std::fmt::Write as _;

use colored::Colorize;

use crate::dataplane::{Link, LinkKind, NodeState, Protocol, Route, Scope};
use crate::plan::NodePlan;

/// The commands, with `#` comment headings. `uplink` is the node's underlay device, whose
/// address and routes exist before the CNI runs. `title` is the first comment line.
pub fn commands(plan: &NodePlan, uplink: &str, title: &str) -> String {
    let mut out = String::new();
    let st = &plan.state;
    heading(&mut out, title);
    heading(
        &mut out,
        "underlay (present before the CNI; shown for completeness)",
    );
    // The uplink, and every plain device (a router's legs): the machine's, not the CNI's.
    let underlay = |l: &Link| l.name == uplink || matches!(l.kind, LinkKind::Device);
    for l in st.links.iter().filter(|l| underlay(l)) {
        line(&mut out, format!("ip link set {} mtu {} up", l.name, l.mtu));
        addrs(&mut out, st, "", |d| d == l.name);
    }
    for r in st.routes.iter().filter(|r| r.dst.prefix() == 0) {
        line(&mut out, format!("ip route add {r}"));
    }
    if st.sysctls.ip_forward == Some(true) {
        line(&mut out, "sysctl -w net.ipv4.ip_forward=1".into());
    }
    let devices: Vec<&Link> = st
        .links
        .iter()
        .filter(|l| !underlay(l) && !matches!(l.kind, LinkKind::Loopback | LinkKind::Veth(_)))
        .collect();
    if !devices.is_empty() {
        heading(&mut out, "devices");
        for l in &devices {
            link(&mut out, l);
            addrs(&mut out, st, "", |d| d == l.name);
        }
    }
    for p in &plan.pods {
        let ns = format!("{}_{}", p.namespace, p.name);
        heading(
            &mut out,
            &format!(
                "pod {}/{} (netns {ns}, host end {})",
                p.namespace, p.name, p.host_veth
            ),
        );
        let host_end = st.link(&p.host_veth);
        let eth0 = p.state.link("eth0");
        line(&mut out, format!("ip netns add {ns}"));
        line(
            &mut out,
            format!(
                "ip link add {} mtu {} type veth peer name eth0 netns {ns}",
                p.host_veth,
                host_end.map(|l| l.mtu).unwrap_or(1500)
            ),
        );
        if let Some(h) = host_end {
            let mut cmd = format!("ip link set {}", h.name);
            if let Some(m) = h.mac {
                let _ = write!(cmd, " address {m}");
            }
            if let Some(br) = &h.master {
                let _ = write!(cmd, " master {br}");
            }
            cmd.push_str(" up");
            line(&mut out, cmd);
            if st.sysctls.proxy_arp.get(&h.name) == Some(&true) {
                line(
                    &mut out,
                    format!("sysctl -w net.ipv4.conf.{}.proxy_arp=1", h.name),
                );
                line(
                    &mut out,
                    format!("sysctl -w net.ipv4.neigh.{}.proxy_delay=0", h.name),
                );
            }
            if st.sysctls.forwarding.get(&h.name) == Some(&true) {
                line(
                    &mut out,
                    format!("sysctl -w net.ipv4.conf.{}.forwarding=1", h.name),
                );
            }
        }
        let pfx = format!("ip -n {ns} ");
        line(&mut out, format!("{pfx}link set lo up"));
        if let Some(e) = eth0 {
            let mac = e.mac.map(|m| format!(" address {m}")).unwrap_or_default();
            line(
                &mut out,
                format!("{pfx}link set eth0{mac} mtu {} up", e.mtu),
            );
        }
        addrs(&mut out, &p.state, &pfx, |d| d == "eth0");
        for r in p
            .state
            .routes
            .iter()
            .filter(|r| r.proto != Protocol::KERNEL)
        {
            line(&mut out, format!("{pfx}route add {r}"));
        }
    }
    if !st.neighbours.is_empty() || !st.fdb.is_empty() {
        heading(
            &mut out,
            "neighbours and FDB (before the routes that need them)",
        );
        for n in &st.neighbours {
            let mac = n.lladdr.map(|m| format!(" lladdr {m}")).unwrap_or_default();
            line(
                &mut out,
                format!(
                    "ip neigh replace {} dev {}{mac} nud permanent",
                    n.dst, n.dev
                ),
            );
        }
        for f in &st.fdb {
            let dst = f.dst.map(|d| format!(" dst {d}")).unwrap_or_default();
            line(
                &mut out,
                format!(
                    "bridge fdb append {} dev {}{dst} self permanent",
                    f.mac, f.dev
                ),
            );
        }
    }
    let routes: Vec<&Route> = st
        .routes
        .iter()
        .filter(|r| r.dst.prefix() != 0 && r.proto != Protocol::KERNEL)
        .collect();
    if !routes.is_empty() {
        heading(&mut out, "routes");
        for r in routes {
            line(&mut out, format!("ip route add {r}"));
        }
    }
    if !plan.notes.is_empty() {
        heading(&mut out, "notes");
        for n in &plan.notes {
            heading(&mut out, &format!("  {n}"));
        }
    }
    if !plan.warnings.is_empty() {
        for w in &plan.warnings {
            let text = format!("# WARNING: {w}");
            let _ = writeln!(out, "{}", text.yellow());
        }
    }
    out
}

fn heading(out: &mut String, text: &str) {
    let _ = writeln!(out, "{}", format!("# {text}").dimmed());
}

fn line(out: &mut String, cmd: String) {
    out.push_str(&cmd);
    out.push('\n');
}

fn link(out: &mut String, l: &Link) {
    let pfx = "";
    match &l.kind {
        LinkKind::Vxlan(v) => {
            let mut cmd = format!("{pfx}ip link add {} type vxlan id {}", l.name, v.vni);
            if let Some(local) = v.local {
                let _ = write!(cmd, " local {local}");
            }
            if let Some(dev) = &v.dev {
                let _ = write!(cmd, " dev {dev}");
            }
            let _ = write!(cmd, " dstport {}", v.port);
            if !v.learning {
                cmd.push_str(" nolearning");
            }
            line(out, cmd);
        }
        LinkKind::Bridge => line(out, format!("{pfx}ip link add {} type bridge", l.name)),
        LinkKind::Ipip { local, remote } => {
            let mut cmd = format!("{pfx}ip link add {} type ipip", l.name);
            match local {
                Some(a) => {
                    let _ = write!(cmd, " local {a}");
                }
                None => cmd.push_str(" local any"),
            }
            match remote {
                Some(a) => {
                    let _ = write!(cmd, " remote {a}");
                }
                None => cmd.push_str(" remote any"),
            }
            line(out, cmd);
        }
        other => line(
            out,
            format!("{pfx}ip link add {} type {}", l.name, other.name()),
        ),
    }
    let mac = l.mac.map(|m| format!(" address {m}")).unwrap_or_default();
    line(
        out,
        format!("{pfx}ip link set {}{mac} mtu {} up", l.name, l.mtu),
    );
}

fn addrs(out: &mut String, st: &NodeState, pfx: &str, dev: impl Fn(&str) -> bool) {
    for a in st.addrs.iter().filter(|a| dev(&a.dev)) {
        let scope = if a.scope == Scope::Universe {
            String::new()
        } else {
            format!(" scope {}", a.scope.name())
        };
        let ip = if pfx.is_empty() { "ip " } else { pfx };
        line(out, format!("{ip}addr add {} dev {}{scope}", a.addr, a.dev));
        for r in st.routes.iter().filter(|r| {
            r.proto == Protocol::KERNEL
                && r.dev() == Some(a.dev.as_str())
                && r.prefsrc == Some(a.addr.ip())
        }) {
            heading(out, &format!("  the kernel adds: {r}"));
        }
    }
}
