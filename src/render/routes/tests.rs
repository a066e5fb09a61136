//! Tests of the `netpath routes` views.

use std::net::IpAddr;

use super::bytes::{display_width, push_ip, push_u32};
use super::table::NCOLS;
use super::*;
use crate::dataplane::kernel::{KernelAnswer, RouteLookup, RouteQuery, Step, StepEnd, Verdict};
use crate::dataplane::{Nexthop, Protocol, RouteType, Rule};
use crate::explain::explain;
use crate::render::Style;

fn routes() -> Vec<Route> {
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let mut v = vec![
        Route::unicast(
            "0.0.0.0/0".parse().unwrap(),
            Nexthop::via(ip("192.168.1.1"), "eth0"),
        ),
        Route::drop(
            RouteType::Prohibit,
            "10.98.0.0/16".parse().unwrap(),
            Protocol::BOOT,
        ),
        Route::drop(
            RouteType::Unreachable,
            "10.99.1.1/32".parse().unwrap(),
            Protocol::BOOT,
        ),
        Route::drop(
            RouteType::Blackhole,
            "10.244.0.0/26".parse().unwrap(),
            Protocol::BIRD,
        ),
        Route::unicast(
            "10.244.0.5/32".parse().unwrap(),
            Nexthop::dev("cali1a2b3c4d5e6"),
        ),
        Route::unicast(
            "10.244.1.0/24".parse().unwrap(),
            Nexthop::via(ip("10.244.1.0"), "flannel.1").onlink(),
        ),
    ];
    let mut mp = Route::unicast(
        "10.244.3.0/24".parse().unwrap(),
        Nexthop::via(ip("192.168.1.13"), "eth0"),
    );
    let mut second = Nexthop::via(ip("192.168.1.14"), "eth0");
    second.weight = 2;
    mp.nexthops.push(second);
    v.push(mp);
    let mut kernel = Route::unicast("192.168.1.0/24".parse().unwrap(), Nexthop::dev("eth0"));
    kernel.proto = Protocol::KERNEL;
    kernel.prefsrc = Some(ip("192.168.1.10"));
    v.push(kernel);
    let mut v6 = Route::unicast("2001:db8:4::5/128".parse().unwrap(), Nexthop::dev("eth0"));
    v6.metric = Some(1024);
    v.push(v6);
    v
}

fn view<'a>(routes: &'a [Route]) -> RoutesView<'a> {
    RoutesView {
        source: Source::Kernel { netns: "current" },
        table: "main".into(),
        rows: routes
            .iter()
            .map(|r| Row {
                route: r,
                flags: r.flags(),
                explanation: explain(r, None),
            })
            .collect(),
        warnings: &[],
    }
}

/// The `routes get` report's layout, live (the kernel's answer first) and offline (the
/// notes instead, "would say" in the verdict).
#[test]
fn get_report_layout_live_and_offline() {
    let rs = routes();
    let connected = rs
        .iter()
        .find(|r| r.proto == Protocol::KERNEL)
        .unwrap()
        .clone();
    let query = RouteQuery::to("192.168.1.20".parse().unwrap());
    let steps = vec![Step {
        rule: Rule::defaults(crate::dataplane::Family::Inet)[1].clone(),
        end: StepEnd::Route {
            table: crate::dataplane::Table::MAIN,
            covering: vec![&connected],
        },
    }];
    let kernel = RouteLookup {
        resolved: KernelAnswer::Route(connected.clone()),
        fib_entry: KernelAnswer::Route(connected.clone()),
        route_error: None,
        sysctls: Default::default(),
    };
    let style = Style {
        color: false,
        tty: false,
    };
    let mut report = GetReport {
        netns: "current",
        query: &query,
        steps: &steps,
        kernel: &kernel,
        offline: None,
        verdict: Verdict::Routed,
        explanation: None,
    };
    let mut out = Vec::new();
    write_get(&report, &style, &mut out).unwrap();
    let live = String::from_utf8(out).unwrap();
    assert!(
        live.starts_with("route to 192.168.1.20\n\nkernel (ip route get):\n  "),
        "{live}"
    );
    assert!(live.contains("\n\nwhy (policy rules in order"), "{live}");

    let notes = vec!["predicted from dump.txt (ip route)".to_string()];
    report.offline = Some(Offline {
        path: Path::new("dump.txt"),
        format: "ip route",
        notes: &notes,
        caveats: &[],
    });
    report.verdict = Verdict::NotRoutable {
        errno: libc::EINVAL,
        kernel_said: "Invalid argument (EINVAL)".into(),
        reason: "r".into(),
    };
    let mut out = Vec::new();
    write_get(&report, &style, &mut out).unwrap();
    let offline = String::from_utf8(out).unwrap();
    assert!(
        offline
            .starts_with("route to 192.168.1.20\nnote: predicted from dump.txt (ip route)\n\nwhy"),
        "{offline}"
    );
    assert!(!offline.contains("kernel (ip route get)"), "{offline}");
    assert!(
        offline.contains("(the kernel would say: Invalid argument (EINVAL))"),
        "{offline}"
    );
}

#[test]
fn widths_are_the_widest_cells() {
    let rs = routes();
    let v = view(&rs);
    let mut t = TableBuilder::new();
    for row in &v.rows {
        t.push(row);
    }
    assert_eq!(t.cells.len() % NCOLS, 0, "whole rows");
    // Destination: "2001:db8:4::5"; Iface: "cali1a2b3c4d5e6"; the last column unpadded.
    assert_eq!(t.widths[0], 13);
    assert_eq!(t.widths[7], 15);
    assert_eq!(t.widths[NCOLS - 1], 0);
    // A cell longer than 13 bits of length survives the round trip.
    let mut long = TableBuilder::new();
    long.text.extend(std::iter::repeat_n(b'x', 9000));
    long.put(Paint::Plain);
    long.empty(NCOLS - 1);
    let mut out = Vec::new();
    long.write(false, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().nth(1).unwrap().trim_end().len(), 9000);
}

#[test]
fn fast_writers_match_display() {
    for a in [
        "0.0.0.0",
        "10.244.1.0",
        "255.255.255.255",
        "192.168.100.9",
        "fd00::1",
    ] {
        let ip: IpAddr = a.parse().unwrap();
        let mut s = Vec::new();
        push_ip(&mut s, ip);
        assert_eq!(s, ip.to_string().as_bytes());
    }
    for n in [0u32, 7, 10, 1024, u32::MAX] {
        let mut s = Vec::new();
        push_u32(&mut s, n);
        assert_eq!(s, n.to_string().as_bytes());
    }
    assert_eq!(display_width("calico pod route → cali1".as_bytes()), 24);
}

#[test]
fn compat_is_route_n() {
    let rs = routes();
    let mut out = Vec::new();
    write_compat(&view(&rs), &mut out).unwrap();
    let expected = "\
Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
0.0.0.0         192.168.1.1     0.0.0.0         UG    0      0        0 eth0
10.98.0.0       -               255.255.0.0     !     0      -        0 -
10.99.1.1       -               255.255.255.255 !H    0      -        0 -
10.244.0.0      0.0.0.0         255.255.255.192 U     0      0        0 *
10.244.0.5      0.0.0.0         255.255.255.255 UH    0      0        0 cali1a2b3c4d5e6
10.244.1.0      10.244.1.0      255.255.255.0   UG    0      0        0 flannel.1
10.244.3.0      192.168.1.13    255.255.255.0   UG    0      0        0 eth0
192.168.1.0     0.0.0.0         255.255.255.0   U     0      0        0 eth0
";
    assert_eq!(String::from_utf8(out).unwrap(), expected);
    // A metric above i32::MAX comes back negative through /proc/net/route's %d.
    let mut big = rs[0].clone();
    big.metric = Some(u32::MAX);
    let mut line = Vec::new();
    compat_line(&big, &mut line);
    assert_eq!(
        String::from_utf8(line).unwrap(),
        "0.0.0.0         192.168.1.1     0.0.0.0         UG    -1     0        0 eth0\n"
    );
}

#[test]
fn table_snapshot() {
    let rs = routes();
    let mut out = Vec::new();
    write_table(&view(&rs), &Style::plain(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text, include_str!("../../../testdata/routes/table.txt"));
    assert!(text.lines().all(|l| l == l.trim_end()));
}

#[test]
fn json_has_numbers_and_cidrs() {
    let rs = routes();
    let mut out = Vec::new();
    write_json(&view(&rs), &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["schema"], "netpath.routes/v1");
    let r = &v["routes"][4];
    assert_eq!(r["dst"], "10.244.0.5/32");
    assert_eq!(r["table"]["id"], 254);
    assert_eq!(r["proto"]["number"], 3);
    assert_eq!(r["flags"]["letters"], "UH");
    assert_eq!(r["owner"], "calico");
    assert_eq!(v["routes"][3]["type"], "blackhole");
    assert_eq!(v["routes"][6]["nexthops"][1]["weight"], 2);
}
