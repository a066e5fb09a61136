//! The arguments of `netpath routes` and `netpath routes get`.

use std::net::IpAddr;

use crate::dataplane::kernel::RouteQuery;
use crate::dataplane::{Route, Table};

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

    /// The packet's firewall mark, for `fwmark` policy rules (like `ip route get ADDR mark
    /// MARK`): a number, or hex with 0x.
    #[arg(long, value_name = "MARK", value_parser = parse_u32)]
    pub mark: Option<u32>,

    /// The packet's TOS, for `tos` policy rules and routes (like `ip route get ADDR tos
    /// TOS`): a number, or hex with 0x.
    #[arg(long, value_name = "TOS", value_parser = parse_u8)]
    pub tos: Option<u8>,
}

impl GetArgs {
    /// The question these arguments ask.
    pub(super) fn query(&self) -> RouteQuery {
        RouteQuery {
            src: self.src,
            iif: self.iif.clone(),
            mark: self.mark.unwrap_or(0),
            tos: self.tos.unwrap_or(0),
            ..RouteQuery::to(self.addr)
        }
    }
}

fn parse_u32(s: &str) -> Result<u32, String> {
    let n = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    n.map_err(|_| format!("\"{s}\" is not a number (decimal, or hex with 0x)"))
}

fn parse_u8(s: &str) -> Result<u8, String> {
    let n = parse_u32(s)?;
    u8::try_from(n).map_err(|_| format!("{s} does not fit in 8 bits (0 to 255, 0x0 to 0xff)"))
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

pub(super) fn parse_table_filter(s: &str) -> Result<TableFilter, String> {
    if s == "all" {
        return Ok(TableFilter::All);
    }
    Table::parse(s)
        .map(TableFilter::One)
        .ok_or_else(|| format!("\"{s}\" is not a table: use a number, main, local, default or all"))
}
