//! `netpath routes`: the kernel's routes with route -n's flags and what route -n hides, and
//! `netpath routes get ADDR`: which route wins for an address and why, beside the kernel's
//! own answer.

use std::net::IpAddr;

use crate::dataplane::{Family, Route, RouteTable, RouteType, Rule, RuleAction, Table};
use crate::error::Outcome;
use crate::explain::explain;
use crate::netlink::Netns;
use crate::netlink::route::{self as nlroute, KernelAnswer, RouteLookup, RouteQuery};
use crate::render::routes::{self as view, GetReport, RoutesView, Row, Step, StepEnd, Verdict};

use super::Ctx;

/// What the columns and markers of the default view mean (shown by `--help`).
const MARKERS: &str = "\
Columns (the first eight are route -n's, computed the way the kernel computes them):
  Destination  network address (IPv6: the prefix's address)
  Gateway      gateway of the first nexthop; 0.0.0.0 or :: for none; - for a reject route
  Genmask      netmask (IPv6: /length)
  Flags        U up, G gateway, H host (/32; the kernel never sets H on IPv6), ! reject
               (IPv4: unreachable and prohibit; IPv6: also blackhole and throw). A reject
               route prints ! instead of U and G, like route -n. R, D, M, A, C never appear:
               modern kernels do not set them on FIB routes
  Metric       the route's priority (0 when none was given, as route -n)
  Ref, Use     always 0 on Linux (kept for route -n's layout); - for a reject route
  Iface        device of the first nexthop; * for none (a blackhole), - for a reject route
  Proto        who installed the route: kernel, boot (ip route add, Flannel, Calico CNI),
               static, bird (Calico's BGP daemon), 80 (Calico Felix) …
  Scope        global, link (directly attached), host …
  Table        main, local, default or the number
  Src          preferred source address (src)
  Notes        what route -n does not show:
                 blackhole    drops silently (route -n shows a plain U and Iface *)
                 unreachable  drops with ICMP host unreachable
                 prohibit     drops with ICMP administratively prohibited
                 throw        ends the lookup in this table
                 local, broadcast, multicast, anycast   the route's type
                 onlink       the gateway is used without a connected route to it
                              (Flannel vxlan, Calico IPIP/VXLAN)
                 linkdown     the device's carrier is down (route -n still says U)
                 dead         the nexthop is dead and not used
                 mtu N        route MTU (Calico sets it on tunnel routes)
                 multipath N  N nexthops; the first is on this row (the only one route -n
                              shows), the others on the rows below, marked nexthop
  Explanation  what makes a route of this shape (Flannel, Calico or the kernel)

--compat prints exactly what `route -n` prints: the IPv4 main table only, first nexthop
only, broadcast and multicast routes left out.";

/// `netpath routes`.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = MARKERS,
    subcommand_negates_reqs = true
)]
pub struct RoutesArgs {
    /// Show one lookup instead of the table.
    #[command(subcommand)]
    pub command: Option<RoutesCommand>,

    /// Which table: a number, main, local, default, or all [default: main].
    #[arg(long, value_name = "N|main|local|all", value_parser = parse_table_filter)]
    pub table: Option<TableFilter>,

    /// IPv4 routes only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// IPv6 routes only.
    #[arg(short = '6')]
    pub ipv6: bool,

    /// The network namespace: a name from `ip netns` or a path such as /proc/PID/ns/net.
    #[arg(long, value_name = "NAME|PATH", global = true)]
    pub netns: Option<String>,

    /// Print exactly what `route -n` prints for the same routes (IPv4 main table).
    #[arg(long, conflicts_with_all = ["ipv6", "table"])]
    pub compat: bool,

    /// Read the routes from a file (`-` for standard input) instead of the kernel:
    /// `ip route` text, `ip -j route` JSON, `route -n`/`netstat -rn` text or
    /// /proc/net/route, detected automatically.
    #[arg(long = "from", value_name = "FILE|-", conflicts_with = "netns")]
    pub input: Option<std::path::PathBuf>,
}

/// Subcommands of `netpath routes`.
#[derive(Debug, clap::Subcommand)]
pub enum RoutesCommand {
    /// Which route wins for an address and why, beside the kernel's own answer
    /// (like `ip route get`); with `routes --from FILE get ADDR`, predicted from a dump.
    /// Exits 1 when the address is not routable.
    Get(GetArgs),
}

/// `netpath routes get ADDR [--from SRC] [--iif DEV]`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The destination address.
    #[arg(value_name = "ADDR")]
    pub addr: IpAddr,

    /// The source address of the packet (like `ip route get ADDR from SRC`).
    #[arg(long = "from", value_name = "SRC")]
    pub src: Option<IpAddr>,

    /// Look up as if the packet arrived on this device (a forwarding lookup, like
    /// `ip route get ADDR iif DEV`): shows ip_forward and rp_filter refusals.
    #[arg(long, value_name = "DEV")]
    pub iif: Option<String>,
}

/// `--table`: one table or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFilter {
    /// One table.
    One(Table),
    /// Every table.
    All,
}

impl TableFilter {
    /// Whether `route` is shown.
    pub fn admits(&self, route: &Route) -> bool {
        match self {
            TableFilter::All => true,
            TableFilter::One(t) => route.table == *t,
        }
    }

    /// `all`, or the table's name.
    pub fn name(&self) -> String {
        match self {
            TableFilter::All => "all".into(),
            TableFilter::One(t) => t.name(),
        }
    }
}

fn parse_table_filter(s: &str) -> Result<TableFilter, String> {
    if s == "all" {
        return Ok(TableFilter::All);
    }
    Table::parse(s)
        .map(TableFilter::One)
        .ok_or_else(|| format!("\"{s}\" is not a table: use a number, main, local, default or all"))
}

/// Run `netpath routes`.
pub fn run(args: RoutesArgs, ctx: Ctx) -> anyhow::Result<Outcome> {
    if let Some(RoutesCommand::Get(get)) = args.command {
        if args.table.is_some() || args.ipv4 || args.ipv6 || args.compat {
            anyhow::bail!(
                "--table, -4, -6 and --compat apply to the route list, not to `routes get` \
                 (the address decides the family; the policy rules decide the table)"
            );
        }
        if let Some(path) = &args.input {
            if args.netns.is_some() {
                anyhow::bail!(
                    "--netns asks a live kernel; with `routes --from FILE get ADDR` the dump is read instead"
                );
            }
            return run_get_offline(get, path, ctx);
        }
        return run_get(get, args.netns.as_deref(), ctx);
    }
    let family = if args.ipv4 || args.compat {
        Some(Family::Inet)
    } else if args.ipv6 {
        Some(Family::Inet6)
    } else {
        None
    };
    let table = args.table.unwrap_or(TableFilter::One(Table::MAIN));
    let netns = Netns::from_arg(args.netns.as_deref());

    if args.input.is_none() && !ctx.json {
        return stream(&netns, family, table, args.compat, &ctx);
    }
    let (routes, links, source, warnings) = match &args.input {
        Some(path) => {
            let (parsed, format) = offline::read(path)?;
            // A dump made without `table all` has no table column: its routes are main's.
            (
                parsed.routes,
                None,
                view::Source::File { path, format },
                parsed.warnings,
            )
        }
        None => {
            let only = match table {
                TableFilter::One(t) => Some(t),
                TableFilter::All => None,
            };
            let dump = nlroute::dump_routes(&netns, family, only)?;
            (
                dump.routes,
                Some(dump.links),
                view::Source::Kernel {
                    netns: netns.label(),
                },
                Vec::new(),
            )
        }
    };
    let links = links.as_deref();
    let rows: Vec<Row<'_>> = routes
        .iter()
        .filter(|r| table.admits(r) && family.is_none_or(|f| r.family() == f))
        .map(|r| Row {
            route: r,
            flags: r.flags(),
            explanation: explain(r, links),
        })
        .collect();
    let shown = RoutesView {
        source,
        table: table.name(),
        rows,
        warnings: &warnings,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    if ctx.json {
        view::write_json(&shown, &mut out)?;
    } else if args.compat {
        view::write_compat(&shown, &mut out)?;
    } else {
        view::write_table(&shown, &ctx.style, &mut out)?;
    }
    std::io::Write::flush(&mut out)?;
    for w in &warnings {
        eprintln!("netpath: warning: {w}");
    }
    Ok(Outcome::Clean)
}

/// The table (or `--compat`) view of the kernel's routes, written as the dump is read:
/// each route is decoded into one reused value and formatted once, so 100,000 routes cost
/// no memory per route beyond their formatted text (none at all for `--compat`).
fn stream(
    netns: &Netns,
    family: Option<Family>,
    table: TableFilter,
    compat: bool,
    ctx: &Ctx,
) -> anyhow::Result<Outcome> {
    let only = match table {
        TableFilter::One(t) => Some(t),
        TableFilter::All => None,
    };
    let admits = |r: &Route| table.admits(r) && family.is_none_or(|f| r.family() == f);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if compat {
        let mut buf = Vec::with_capacity(72 * 1024);
        buf.extend_from_slice(view::COMPAT_HEADER);
        nlroute::for_each_route(netns, family, only, |r, _| {
            if admits(r) {
                view::compat_line(r, &mut buf);
                if buf.len() >= 64 * 1024 {
                    std::io::Write::write_all(&mut out, &buf)?;
                    buf.clear();
                }
            }
            Ok(())
        })?;
        std::io::Write::write_all(&mut out, &buf)?;
    } else {
        let mut shown = view::TableBuilder::new();
        nlroute::for_each_route(netns, family, only, |r, links| {
            if admits(r) {
                shown.push(&Row {
                    route: r,
                    flags: r.flags(),
                    explanation: explain(r, Some(links)),
                });
            }
            Ok(())
        })?;
        shown.write(ctx.style.color, &mut out)?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(Outcome::Clean)
}

/// Offline input: a dump pasted from a ticket.
mod offline {
    use std::io::Read;
    use std::path::Path;

    use anyhow::Context;

    use crate::dataplane::parse::{ParsedRoutes, parse_routes_bytes};

    /// Read `path` (`-` is standard input) and parse the routes in it; the format's name.
    pub fn read(path: &Path) -> anyhow::Result<(ParsedRoutes, &'static str)> {
        let mut bytes = Vec::new();
        if path.as_os_str() == "-" {
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading routes from standard input")?;
        } else {
            bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        }
        let parsed = parse_routes_bytes(&bytes).with_context(|| {
            if path.as_os_str() == "-" {
                "in standard input".to_string()
            } else {
                format!("in {}", path.display())
            }
        })?;
        let format = parsed.format.name();
        Ok((parsed, format))
    }
}

/// Run `netpath routes get`.
fn run_get(args: GetArgs, netns: Option<&str>, ctx: Ctx) -> anyhow::Result<Outcome> {
    let netns = Netns::from_arg(netns);
    let family = Family::of(&args.addr);
    let query = RouteQuery {
        dst: args.addr,
        src: args.src,
        iif: args.iif.clone(),
    };
    let kernel = nlroute::lookup(&netns, &query)?;
    let dump = nlroute::dump_routes(&netns, Some(family), None)?;
    let mut rules: Vec<Rule> = crate::netlink::rule::rules(&netns)?
        .into_iter()
        .filter(|r| r.family == family)
        .collect();
    if rules.is_empty() {
        rules = Rule::defaults(family);
    }
    let steps = predict(&dump.routes, &rules, &query);
    let verdict = verdict(&query, &steps, &kernel);
    let routable = matches!(verdict, Verdict::Routed);
    let report = GetReport {
        netns: netns.label(),
        query: &query,
        steps: &steps,
        kernel: &kernel,
        offline: None,
        verdict,
        explanation: match &kernel.fib_entry {
            KernelAnswer::Route(r) => explain(r, Some(&dump.links)),
            KernelAnswer::Error(_) => winner(&steps).and_then(|r| explain(r, Some(&dump.links))),
        },
    };
    print_get(&report, &ctx)?;
    Ok(Outcome::from_findings(!routable))
}

/// `netpath routes --from FILE get ADDR`: the lookup predicted from a dump, with the
/// default policy rules (a route dump carries none); what the kernel would answer is the
/// prediction itself, said as such.
fn run_get_offline(args: GetArgs, path: &std::path::Path, ctx: Ctx) -> anyhow::Result<Outcome> {
    let family = Family::of(&args.addr);
    let query = RouteQuery {
        dst: args.addr,
        src: args.src,
        iif: args.iif.clone(),
    };
    let (parsed, format) = offline::read(path)?;
    for w in &parsed.warnings {
        eprintln!("netpath: warning: {w}");
    }
    let routes: Vec<Route> = parsed
        .routes
        .into_iter()
        .filter(|r| r.family() == family)
        .collect();
    let rules = Rule::defaults(family);
    let steps = predict(&routes, &rules, &query);
    let kernel = predicted_answer(&steps);
    let verdict = verdict(&query, &steps, &kernel);
    let routable = matches!(verdict, Verdict::Routed);
    let mut notes = vec![format!(
        "predicted from {} ({format}): no kernel was asked; the default policy rules are assumed (a route dump carries none)",
        if path.as_os_str() == "-" {
            "standard input".to_string()
        } else {
            path.display().to_string()
        }
    )];
    if !routes.iter().any(|r| r.table == Table::LOCAL) {
        notes.push(
            "the dump has no local table (`ip route show table all` has it): the node's own addresses are not recognised as local"
                .to_string(),
        );
    }
    if query.iif.is_some() {
        notes.push(
            "--iif: ip_forward and rp_filter are not in a route dump, so their refusals cannot be predicted"
                .to_string(),
        );
    }
    let report = GetReport {
        netns: "current",
        query: &query,
        steps: &steps,
        kernel: &kernel,
        offline: Some(view::Offline {
            path,
            format,
            notes: &notes,
        }),
        verdict,
        explanation: winner(&steps).and_then(|r| explain(r, None)),
    };
    print_get(&report, &ctx)?;
    Ok(Outcome::from_findings(!routable))
}

/// What the kernel would answer if its tables were `steps`' (offline `routes get`): the
/// winning route, the rule's drop, or "network unreachable".
fn predicted_answer(steps: &[Step<'_>]) -> RouteLookup {
    let answer = match (winner(steps), steps.last().map(|s| &s.end)) {
        (Some(r), _) => KernelAnswer::Route(r.clone()),
        (None, Some(StepEnd::RuleDrops(a))) => KernelAnswer::Error(match a {
            RuleAction::Blackhole => libc::EINVAL,
            RuleAction::Prohibit => libc::EACCES,
            _ => libc::EHOSTUNREACH,
        }),
        _ => KernelAnswer::Error(libc::ENETUNREACH),
    };
    RouteLookup {
        resolved: answer.clone(),
        fib_entry: answer,
        route_error: None,
        sysctls: Default::default(),
    }
}

/// Write the `routes get` report (table or JSON) to standard output.
fn print_get(report: &GetReport<'_>, ctx: &Ctx) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if ctx.json {
        view::write_get_json(report, &mut out)?;
    } else {
        view::write_get(report, &ctx.style, &mut out)?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(())
}

/// Whether `rule` applies to the lookup (an output lookup from this host when there is no
/// `iif`: the kernel matches `iif lo` then, and a source of 0.0.0.0 without `--from`).
fn rule_matches(rule: &Rule, q: &RouteQuery) -> bool {
    let mut m = true;
    if let Some(s) = rule.src {
        m &= match q.src {
            Some(a) => s.contains(a),
            None => s.prefix() == 0,
        };
    }
    if let Some(d) = rule.dst {
        m &= d.contains(q.dst);
    }
    if let Some(i) = &rule.iif {
        m &= q.iif.as_deref().unwrap_or("lo") == i;
    }
    if rule.oif.is_some() {
        // Only lookups bound to a device (sockets with SO_BINDTODEVICE) match oif rules.
        m = false;
    }
    if let Some((mark, mask)) = rule.fwmark {
        m &= mark == 0 && mask != 0;
    }
    if rule.invert { !m } else { m }
}

/// Walk the policy rules the way the kernel does (ignoring TOS and marks), and within each
/// table pick the longest prefix, then the lowest metric.
pub fn predict<'a>(routes: &'a [Route], rules: &[Rule], q: &RouteQuery) -> Vec<Step<'a>> {
    let mut steps = Vec::new();
    for rule in rules {
        if !rule_matches(rule, q) {
            continue;
        }
        let end = match rule.action {
            RuleAction::Lookup => {
                let Some(table) = rule.table else { continue };
                let trie = RouteTable::new(
                    table,
                    routes.iter().filter(|r| {
                        let all_dead =
                            !r.nexthops.is_empty() && r.nexthops.iter().all(|h| h.flags.dead);
                        !matches!(r.kind, RouteType::Multicast) && !all_dead
                    }),
                );
                let covering: Vec<&Route> = trie.covering(q.dst);
                // RouteTable owns clones; find the originals so the report can borrow them.
                let covering: Vec<&'a Route> = covering
                    .into_iter()
                    .filter_map(|c| routes.iter().find(|r| *r == c))
                    .collect();
                match covering.first() {
                    None => StepEnd::NoRoute { table, covering },
                    Some(first)
                        if rule
                            .suppress_prefixlen
                            .is_some_and(|n| u32::from(first.dst.prefix()) <= n) =>
                    {
                        StepEnd::Suppressed { table, covering }
                    }
                    Some(first) if first.kind == RouteType::Throw => {
                        StepEnd::Throw { table, covering }
                    }
                    Some(_) => StepEnd::Route { table, covering },
                }
            }
            RuleAction::Nop | RuleAction::Goto | RuleAction::Other(_) => StepEnd::Skipped,
            action => StepEnd::RuleDrops(action),
        };
        let done = matches!(end, StepEnd::Route { .. } | StepEnd::RuleDrops(_));
        steps.push(Step {
            rule: rule.clone(),
            end,
        });
        if done {
            break;
        }
    }
    steps
}

/// The route the prediction ends on, if it ends on one.
pub fn winner<'a>(steps: &[Step<'a>]) -> Option<&'a Route> {
    steps.last().and_then(|s| match &s.end {
        StepEnd::Route { covering, .. } => covering.first().copied(),
        _ => None,
    })
}

/// Turn the kernel's answer (and the prediction, to tell EINVAL's two causes apart) into
/// words.
pub fn verdict(q: &RouteQuery, steps: &[Step<'_>], k: &RouteLookup) -> Verdict {
    let predicted = winner(steps);
    let predicted_kind = predicted.map(|r| r.kind);
    let errno = match (&k.resolved, k.route_error) {
        (KernelAnswer::Error(e), _) => *e,
        (KernelAnswer::Route(_), Some(e)) => e,
        (KernelAnswer::Route(r), None) if r.kind.drops() => match r.kind {
            RouteType::Blackhole => libc::EINVAL,
            RouteType::Prohibit => libc::EACCES,
            _ => libc::EHOSTUNREACH,
        },
        (KernelAnswer::Route(_), None) => return Verdict::Routed,
    };
    let said = view::errno_text(errno);
    let dst = q.dst;
    let drop_route = |what: &str| match predicted {
        Some(r) => format!("{what} route \"{r}\" covers {dst}"),
        None => format!("a {what} route covers {dst}"),
    };
    let rule_drop = steps.last().and_then(|s| match s.end {
        StepEnd::RuleDrops(a) => Some((a, s.rule.priority)),
        _ => None,
    });
    let v4 = dst.is_ipv4();
    let iif = q.iif.as_deref();
    let forwarding_off = iif.is_some()
        && (k.sysctls.forwarding_off(v4)
            || iif.is_some_and(|d| k.sysctls.dev_forwarding(d) == Some(false)));
    let rp = iif.and_then(|d| k.sysctls.effective_rp_filter(d));
    let reason = match errno {
        libc::ENETUNREACH => format!("no route: no table has a route that covers {dst}"),
        libc::EINVAL if predicted_kind == Some(RouteType::Blackhole) => {
            format!("{}: it drops the packet silently", drop_route("blackhole"))
        }
        libc::EINVAL | libc::EXDEV if rp.is_some_and(|v| v > 0) => format!(
            "rp_filter ({}) on {} refused source {}: the route back to that source does not go out {}",
            if rp == Some(1) { "strict" } else { "loose" },
            iif.unwrap_or("?"),
            q.src
                .map(|s| s.to_string())
                .unwrap_or_else(|| "0.0.0.0".into()),
            iif.unwrap_or("?"),
        ),
        libc::EHOSTUNREACH if predicted_kind == Some(RouteType::Unreachable) => format!(
            "{}: it rejects with ICMP host unreachable",
            drop_route("unreachable")
        ),
        libc::EHOSTUNREACH if forwarding_off => format!(
            "ip_forward is off ({}): the kernel does not forward packets arriving on {}",
            if v4 {
                format!(
                    "net.ipv4.ip_forward={}, net.ipv4.conf.{}.forwarding={}",
                    bit(k.sysctls.ip_forward),
                    iif.unwrap_or("?"),
                    bit(iif.and_then(|d| k.sysctls.dev_forwarding(d)))
                )
            } else {
                format!(
                    "net.ipv6.conf.all.forwarding={}",
                    bit(k.sysctls.ipv6_forwarding)
                )
            },
            iif.unwrap_or("?")
        ),
        libc::EACCES if predicted_kind == Some(RouteType::Prohibit) => format!(
            "{}: it rejects with ICMP administratively prohibited",
            drop_route("prohibit")
        ),
        _ => match rule_drop {
            Some((action, prio)) => format!(
                "policy rule {prio} ({}) drops it",
                match action {
                    RuleAction::Blackhole => "blackhole",
                    RuleAction::Unreachable => "unreachable",
                    RuleAction::Prohibit => "prohibit",
                    _ => "other",
                }
            ),
            None => format!("the kernel refused the lookup ({said})"),
        },
    };
    Verdict::NotRoutable {
        errno,
        kernel_said: said,
        reason,
    }
}

fn bit(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "1",
        Some(false) => "0",
        None => "?",
    }
}

/// Small helpers over the shared sysctl snapshot.
trait SysctlsExt {
    fn forwarding_off(&self, v4: bool) -> bool;
    fn dev_forwarding(&self, dev: &str) -> Option<bool>;
    fn effective_rp_filter(&self, dev: &str) -> Option<u8>;
}

impl SysctlsExt for crate::dataplane::Sysctls {
    fn forwarding_off(&self, v4: bool) -> bool {
        if v4 {
            self.ip_forward == Some(false)
        } else {
            self.ipv6_forwarding == Some(false)
        }
    }

    fn dev_forwarding(&self, dev: &str) -> Option<bool> {
        self.forwarding.get(dev).copied()
    }

    /// The kernel uses the larger of `all` and the device's value.
    fn effective_rp_filter(&self, dev: &str) -> Option<u8> {
        let all = self.rp_filter.get("all").copied();
        let this = self.rp_filter.get(dev).copied();
        match (all, this) {
            (None, None) => None,
            (a, t) => Some(a.unwrap_or(0).max(t.unwrap_or(0))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::{Nexthop, Protocol, Sysctls};

    fn r(dst: &str, dev: &str) -> Route {
        Route::unicast(dst.parse().unwrap(), Nexthop::dev(dev))
    }

    fn q(dst: &str) -> RouteQuery {
        RouteQuery {
            dst: dst.parse().unwrap(),
            src: None,
            iif: None,
        }
    }

    fn lookup(resolved: KernelAnswer) -> RouteLookup {
        RouteLookup {
            resolved,
            fib_entry: KernelAnswer::Error(libc::EINVAL),
            route_error: None,
            sysctls: Sysctls::default(),
        }
    }

    #[test]
    fn longest_prefix_then_metric_across_rules() {
        let mut local = r("10.0.0.1/32", "eth0");
        local.kind = RouteType::Local;
        local.table = Table::LOCAL;
        let mut m5 = r("10.244.0.0/16", "a");
        m5.metric = Some(5);
        let mut m3 = r("10.244.0.0/16", "b");
        m3.metric = Some(3);
        let routes = vec![local, r("0.0.0.0/0", "eth0"), m5, m3];
        let rules = Rule::defaults(Family::Inet);
        let steps = predict(&routes, &rules, &q("10.244.9.9"));
        assert_eq!(steps.len(), 2, "local table, then main");
        assert!(matches!(steps[0].end, StepEnd::NoRoute { .. }));
        assert_eq!(winner(&steps).unwrap().dev(), Some("b"));
        let steps = predict(&routes, &rules, &q("10.0.0.1"));
        assert_eq!(winner(&steps).unwrap().kind, RouteType::Local);
    }

    #[test]
    fn throw_goes_on_to_the_next_rule() {
        let mut throw = Route::drop(
            RouteType::Throw,
            "10.0.0.0/8".parse().unwrap(),
            Protocol::BOOT,
        );
        throw.table = Table(100);
        let mut dflt = r("0.0.0.0/0", "eth0");
        dflt.table = Table::MAIN;
        let routes = vec![throw, dflt];
        let mut rules = Rule::defaults(Family::Inet);
        let mut custom = rules[1].clone();
        custom.priority = 100;
        custom.table = Some(Table(100));
        rules.insert(1, custom);
        let steps = predict(&routes, &rules, &q("10.1.1.1"));
        assert!(matches!(steps[1].end, StepEnd::Throw { .. }));
        assert_eq!(winner(&steps).unwrap().dev(), Some("eth0"));
    }

    #[test]
    fn kernel_errors_in_words() {
        let bh = Route::drop(
            RouteType::Blackhole,
            "10.65.0.0/26".parse().unwrap(),
            Protocol::BIRD,
        );
        let routes = vec![bh];
        let rules = Rule::defaults(Family::Inet);
        let query = q("10.65.0.9");
        let steps = predict(&routes, &rules, &query);
        let Verdict::NotRoutable { reason, .. } =
            verdict(&query, &steps, &lookup(KernelAnswer::Error(libc::EINVAL)))
        else {
            panic!("a blackhole is not routable");
        };
        assert!(
            reason.contains("blackhole route \"blackhole 10.65.0.0/26 proto bird\""),
            "{reason}"
        );

        let none: Vec<Route> = Vec::new();
        let steps = predict(&none, &rules, &query);
        let Verdict::NotRoutable { reason, .. } = verdict(
            &query,
            &steps,
            &lookup(KernelAnswer::Error(libc::ENETUNREACH)),
        ) else {
            panic!()
        };
        assert!(reason.starts_with("no route"), "{reason}");

        let fwd = RouteQuery {
            iif: Some("cali1".into()),
            src: Some("10.65.0.2".parse().unwrap()),
            ..q("192.168.1.20")
        };
        let routes = vec![r("192.168.1.0/24", "eth0")];
        let steps = predict(&routes, &rules, &fwd);
        let mut k = lookup(KernelAnswer::Error(libc::EHOSTUNREACH));
        k.sysctls.ip_forward = Some(false);
        let Verdict::NotRoutable { reason, .. } = verdict(&fwd, &steps, &k) else {
            panic!()
        };
        assert!(reason.starts_with("ip_forward is off"), "{reason}");

        let mut k = lookup(KernelAnswer::Error(libc::EINVAL));
        k.sysctls.rp_filter.insert("all".into(), 1);
        let Verdict::NotRoutable { reason, .. } = verdict(&fwd, &steps, &k) else {
            panic!()
        };
        assert!(
            reason.starts_with("rp_filter (strict) on cali1"),
            "{reason}"
        );

        let ok = verdict(
            &fwd,
            &steps,
            &lookup(KernelAnswer::Route(routes[0].clone())),
        );
        assert!(matches!(ok, Verdict::Routed));
    }

    #[test]
    fn rule_matching() {
        let rules = Rule::defaults(Family::Inet);
        let mut from = rules[1].clone();
        from.src = Some("10.65.0.0/16".parse().unwrap());
        assert!(!rule_matches(&from, &q("1.1.1.1")));
        let with_src = RouteQuery {
            src: Some("10.65.0.2".parse().unwrap()),
            ..q("1.1.1.1")
        };
        assert!(rule_matches(&from, &with_src));
        let mut iif = rules[1].clone();
        iif.iif = Some("lo".into());
        assert!(rule_matches(&iif, &q("1.1.1.1")));
        iif.invert = true;
        assert!(!rule_matches(&iif, &q("1.1.1.1")));
    }
}
