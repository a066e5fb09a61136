//! Tests of the kernel model: the policy walk, the table lookup, the forwarding sysctls.

use super::*;
use crate::dataplane::{Nexthop, NexthopFlags, Protocol, RuleAction, Sysctls};

fn r(dst: &str, dev: &str) -> Route {
    Route::unicast(dst.parse().unwrap(), Nexthop::dev(dev))
}

fn in_table(mut route: Route, t: u32) -> Route {
    route.table = Table(t);
    route
}

fn q(dst: &str) -> RouteQuery {
    RouteQuery::to(dst.parse().unwrap())
}

fn node(routes: Vec<Route>, rules: Vec<Rule>) -> Kernel<'static> {
    Kernel::new(NodeState {
        routes,
        rules,
        ..NodeState::default()
    })
}

/// A rule of priority `prio` looking up table `t` (more selectors set by the caller).
fn lookup_rule(prio: u32, t: u32) -> Rule {
    Rule {
        priority: prio,
        table: Some(Table(t)),
        ..Rule::defaults(Family::Inet)[1].clone()
    }
}

/// The default rules plus `extra`.
fn with_defaults(extra: Vec<Rule>) -> Vec<Rule> {
    let mut rules = Rule::defaults(Family::Inet);
    rules.extend(extra);
    rules
}

fn lookup_result(resolved: KernelAnswer) -> RouteLookup {
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
    let k = node(vec![local, r("0.0.0.0/0", "eth0"), m5, m3], Vec::new());
    let res = k.resolve(&q("10.244.9.9"));
    assert_eq!(res.steps.len(), 2, "local table, then main");
    assert!(matches!(res.steps[0].end, StepEnd::NoRoute { .. }));
    assert_eq!(res.winner().unwrap().dev(), Some("b"));
    let res = k.resolve(&q("10.0.0.1"));
    assert_eq!(res.winner().unwrap().kind, RouteType::Local);
    assert_eq!(
        k.lookup("10.244.1.1".parse().unwrap()).unwrap().dev(),
        Some("b")
    );
}

#[test]
fn throw_goes_on_to_the_next_rule() {
    let throw = Route::drop(
        RouteType::Throw,
        "10.0.0.0/8".parse().unwrap(),
        Protocol::BOOT,
    );
    let k = node(
        vec![in_table(throw, 100), r("0.0.0.0/0", "eth0")],
        with_defaults(vec![lookup_rule(100, 100)]),
    );
    let res = k.resolve(&q("10.1.1.1"));
    assert!(matches!(res.steps[1].end, StepEnd::Throw { .. }));
    assert_eq!(res.winner().unwrap().dev(), Some("eth0"));
}

#[test]
fn dead_and_multicast_routes_are_skipped() {
    let mut dead = r("10.1.0.0/16", "down0");
    dead.nexthops[0].flags = NexthopFlags {
        dead: true,
        ..NexthopFlags::default()
    };
    let mut mc = r("10.1.1.0/24", "eth0");
    mc.kind = RouteType::Multicast;
    let k = node(vec![dead, mc, r("10.0.0.0/8", "eth1")], Vec::new());
    assert_eq!(
        k.lookup("10.1.1.1".parse().unwrap()).unwrap().dev(),
        Some("eth1")
    );
}

#[test]
fn from_iif_fwmark_and_tos_select_a_table() {
    let k = node(
        vec![
            r("0.0.0.0/0", "eth0"),
            in_table(r("0.0.0.0/0", "wg0"), 100),
            in_table(r("0.0.0.0/0", "vxlan0"), 200),
            in_table(r("0.0.0.0/0", "tun0"), 300),
        ],
        with_defaults(vec![
            Rule {
                src: Some("10.244.1.0/24".parse().unwrap()),
                ..lookup_rule(100, 100)
            },
            Rule {
                iif: Some("cni0".into()),
                ..lookup_rule(110, 200)
            },
            Rule {
                fwmark: Some((0x100, 0xf00)),
                ..lookup_rule(120, 300)
            },
            Rule {
                tos: 0x10,
                ..lookup_rule(130, 200)
            },
        ]),
    );
    let dev = |query: RouteQuery| k.route_for(&query).and_then(|r| r.dev()).map(String::from);
    let from = |s: &str| RouteQuery {
        src: Some(s.parse().unwrap()),
        ..q("1.1.1.1")
    };
    assert_eq!(dev(q("1.1.1.1")).as_deref(), Some("eth0"));
    assert_eq!(dev(from("10.244.1.7")).as_deref(), Some("wg0"));
    assert_eq!(dev(from("10.244.2.7")).as_deref(), Some("eth0"));
    let arriving = RouteQuery {
        iif: Some("cni0".into()),
        ..from("10.244.2.7")
    };
    assert_eq!(dev(arriving).as_deref(), Some("vxlan0"));
    // The mask keeps the bits it names: 0x1ff & 0xf00 is 0x100.
    for (mark, want) in [(0x1ff, "tun0"), (0x200, "eth0"), (0x0, "eth0")] {
        let marked = RouteQuery {
            mark,
            ..q("1.1.1.1")
        };
        assert_eq!(dev(marked).as_deref(), Some(want), "mark {mark:#x}");
    }
    let tos = RouteQuery {
        tos: 0x10,
        ..q("1.1.1.1")
    };
    assert_eq!(dev(tos).as_deref(), Some("vxlan0"));
}

#[test]
fn goto_jumps_over_rules_and_not_inverts() {
    let k = node(
        vec![
            r("0.0.0.0/0", "eth0"),
            in_table(r("0.0.0.0/0", "skipped"), 100),
            in_table(r("0.0.0.0/0", "target"), 200),
        ],
        with_defaults(vec![
            Rule {
                dst: Some("10.6.0.0/16".parse().unwrap()),
                action: RuleAction::Goto,
                table: None,
                goto: Some(200),
                ..lookup_rule(10, 0)
            },
            lookup_rule(100, 100),
            Rule {
                invert: true,
                dst: Some("10.7.0.0/16".parse().unwrap()),
                ..lookup_rule(200, 200)
            },
        ]),
    );
    let res = k.resolve(&q("10.6.1.1"));
    assert!(matches!(res.steps[1].end, StepEnd::Goto(200)));
    assert_eq!(res.winner().unwrap().dev(), Some("target"));
    // Without the goto, rule 100 wins.
    assert_eq!(k.route_for(&q("10.8.1.1")).unwrap().dev(), Some("skipped"));

    // Rule 200 is `not to 10.7.0.0/16`: a goto there for 10.7.x falls through to main.
    let k = node(
        vec![
            r("0.0.0.0/0", "eth0"),
            in_table(r("0.0.0.0/0", "target"), 200),
        ],
        with_defaults(vec![
            Rule {
                action: RuleAction::Goto,
                table: None,
                goto: Some(200),
                ..lookup_rule(10, 0)
            },
            Rule {
                invert: true,
                dst: Some("10.7.0.0/16".parse().unwrap()),
                ..lookup_rule(200, 200)
            },
        ]),
    );
    assert_eq!(k.route_for(&q("10.7.1.1")).unwrap().dev(), Some("eth0"));
    assert_eq!(k.route_for(&q("10.8.1.1")).unwrap().dev(), Some("target"));

    // A goto whose target is gone is skipped.
    let k = node(
        vec![r("0.0.0.0/0", "eth0")],
        with_defaults(vec![Rule {
            action: RuleAction::Goto,
            table: None,
            goto: Some(999),
            ..lookup_rule(10, 0)
        }]),
    );
    let res = k.resolve(&q("10.7.1.1"));
    assert!(matches!(res.steps[1].end, StepEnd::Skipped));
    assert_eq!(res.winner().unwrap().dev(), Some("eth0"));
}

#[test]
fn suppress_prefixlength_skips_the_default_route() {
    // wg-quick: `lookup main suppress_prefixlength 0` then the tunnel's table.
    let k = node(
        vec![
            r("0.0.0.0/0", "eth0"),
            r("192.168.1.0/24", "eth0"),
            in_table(r("0.0.0.0/0", "wg0"), 51820),
        ],
        vec![
            Rule::defaults(Family::Inet)[0].clone(),
            Rule {
                suppress_prefixlen: Some(0),
                ..lookup_rule(32764, 254)
            },
            lookup_rule(32765, 51820),
        ],
    );
    let res = k.resolve(&q("1.1.1.1"));
    assert!(matches!(res.steps[1].end, StepEnd::Suppressed { .. }));
    assert_eq!(res.winner().unwrap().dev(), Some("wg0"));
    assert_eq!(k.route_for(&q("192.168.1.5")).unwrap().dev(), Some("eth0"));
}

#[test]
fn rule_actions_drop_with_their_errno() {
    for (action, errno) in [
        (RuleAction::Unreachable, libc::ENETUNREACH),
        (RuleAction::Prohibit, libc::EACCES),
        (RuleAction::Blackhole, libc::EINVAL),
    ] {
        let k = node(
            vec![r("0.0.0.0/0", "eth0")],
            with_defaults(vec![Rule {
                dst: Some("10.5.0.0/16".parse().unwrap()),
                action,
                table: None,
                ..lookup_rule(10, 0)
            }]),
        );
        let query = q("10.5.0.5");
        let res = k.resolve(&query);
        assert_eq!(res.decision.errno(), Some(errno));
        let predicted = k.predict(&query, &res);
        assert_eq!(predicted.resolved, KernelAnswer::Error(errno));
        let Verdict::NotRoutable { reason, .. } = verdict(&query, &res, &predicted) else {
            panic!("a rule drops it");
        };
        assert!(reason.starts_with("policy rule 10 ("), "{reason}");
    }
}

#[test]
fn kernel_errors_in_words() {
    let bh = Route::drop(
        RouteType::Blackhole,
        "10.65.0.0/26".parse().unwrap(),
        Protocol::BIRD,
    );
    let k = node(vec![bh], Vec::new());
    let query = q("10.65.0.9");
    let res = k.resolve(&query);
    let Verdict::NotRoutable { reason, .. } = verdict(
        &query,
        &res,
        &lookup_result(KernelAnswer::Error(libc::EINVAL)),
    ) else {
        panic!("a blackhole is not routable");
    };
    assert!(
        reason.contains("blackhole route \"blackhole 10.65.0.0/26 proto bird\""),
        "{reason}"
    );

    let empty = node(Vec::new(), Vec::new());
    let res = empty.resolve(&query);
    let Verdict::NotRoutable { reason, .. } = verdict(
        &query,
        &res,
        &lookup_result(KernelAnswer::Error(libc::ENETUNREACH)),
    ) else {
        panic!()
    };
    assert!(reason.starts_with("no route"), "{reason}");

    let fwd = RouteQuery {
        iif: Some("cali1".into()),
        src: Some("10.65.0.2".parse().unwrap()),
        ..q("192.168.1.20")
    };
    let k = node(vec![r("192.168.1.0/24", "eth0")], Vec::new());
    let res = k.resolve(&fwd);
    let mut answer = lookup_result(KernelAnswer::Error(libc::EHOSTUNREACH));
    answer.sysctls.ip_forward = Some(false);
    let Verdict::NotRoutable { reason, .. } = verdict(&fwd, &res, &answer) else {
        panic!()
    };
    assert!(reason.starts_with("ip_forward is off"), "{reason}");

    let mut answer = lookup_result(KernelAnswer::Error(libc::EINVAL));
    answer.sysctls.rp_filter.insert("all".into(), 1);
    let Verdict::NotRoutable { reason, .. } = verdict(&fwd, &res, &answer) else {
        panic!()
    };
    assert!(
        reason.starts_with("rp_filter (strict) on cali1"),
        "{reason}"
    );

    let ok = verdict(
        &fwd,
        &res,
        &lookup_result(KernelAnswer::Route(r("192.168.1.0/24", "eth0"))),
    );
    assert!(matches!(ok, Verdict::Routed));
}

#[test]
fn forwarding_and_rp_filter_refusals_are_predicted() {
    let mut local = r("10.1.0.1/32", "cali1");
    local.kind = RouteType::Local;
    local.table = Table::LOCAL;
    let state = |sysctls: Sysctls| {
        Kernel::new(NodeState {
            routes: vec![
                local.clone(),
                r("10.1.0.0/24", "cali1"),
                r("10.2.0.0/24", "eth0"),
            ],
            sysctls,
            ..NodeState::default()
        })
    };
    let arriving = |dst: &str, src: &str| RouteQuery {
        src: Some(src.parse().unwrap()),
        iif: Some("cali1".into()),
        ..q(dst)
    };
    let answer = |k: &Kernel<'_>, query: &RouteQuery| k.predict(query, &k.resolve(query)).resolved;

    let off = state(Sysctls {
        ip_forward: Some(false),
        ..Sysctls::default()
    });
    let fwd = arriving("10.2.0.5", "10.1.0.9");
    assert_eq!(answer(&off, &fwd), KernelAnswer::Error(libc::EHOSTUNREACH));
    assert_eq!(
        answer(&off, &arriving("10.9.0.5", "10.1.0.9")),
        KernelAnswer::Error(libc::EHOSTUNREACH),
        "no route, and not forwarding: the kernel says no route to host"
    );
    assert!(matches!(
        answer(&off, &arriving("10.1.0.1", "10.1.0.9")),
        KernelAnswer::Route(_)
    ));

    let mut strict = Sysctls::default();
    strict.rp_filter.insert("all".into(), 1);
    let strict = state(strict);
    assert!(matches!(answer(&strict, &fwd), KernelAnswer::Route(_)));
    assert_eq!(
        answer(&strict, &arriving("10.2.0.5", "10.2.0.9")),
        KernelAnswer::Error(libc::EINVAL),
        "the way back to 10.2.0.9 is eth0, not cali1"
    );
    assert_eq!(
        strict.rp_refuses("cali1", "10.9.9.9".parse().unwrap()),
        Some(RpFilter::Strict)
    );

    let mut loose = Sysctls::default();
    loose.rp_filter.insert("cali1".into(), 2);
    let loose = state(loose);
    assert_eq!(loose.rp_refuses("cali1", "10.2.0.9".parse().unwrap()), None);
    assert_eq!(
        loose.rp_refuses("cali1", "10.9.9.9".parse().unwrap()),
        Some(RpFilter::Loose)
    );

    // Nothing known: nothing refused, as a route dump predicts.
    let unknown = state(Sysctls::default());
    assert!(matches!(
        answer(&unknown, &arriving("10.2.0.5", "10.2.0.9")),
        KernelAnswer::Route(_)
    ));
}

#[test]
fn rp_filter_is_the_larger_of_all_and_the_device() {
    let mut s = Sysctls::default();
    assert_eq!(s.effective_rp_filter("eth0"), None);
    assert_eq!(s.rp_filter_mode("eth0"), RpFilter::Off);
    s.rp_filter.insert("all".into(), 2);
    s.rp_filter.insert("eth0".into(), 1);
    assert_eq!(s.effective_rp_filter("eth0"), Some(2));
    assert_eq!(s.rp_filter_mode("eth0"), RpFilter::Loose);
    assert_eq!(s.rp_filter_mode("eth1"), RpFilter::Loose);
    assert!(s.forwards("eth0"));
    s.forwarding.insert("eth0".into(), false);
    assert!(!s.forwards("eth0"));
    assert!(s.forwards("eth1"));
}

#[test]
fn proxy_arp_answers_for_routes_out_of_another_device() {
    let mut sysctls = Sysctls::default();
    sysctls.proxy_arp.insert("cali1".into(), true);
    let k = Kernel::new(NodeState {
        routes: vec![r("10.65.0.7/32", "cali2"), r("10.65.0.9/32", "cali1")],
        sysctls,
        ..NodeState::default()
    });
    assert!(k.proxy_arp("cali1"));
    assert!(!k.proxy_arp("cali2"));
    assert!(
        k.proxy_arp_route("cali1", "10.65.0.7".parse().unwrap())
            .is_some()
    );
    assert!(
        k.proxy_arp_route("cali1", "10.65.0.9".parse().unwrap())
            .is_none()
    );
    assert!(
        k.proxy_arp_route("cali2", "10.65.0.9".parse().unwrap())
            .is_none()
    );
}

/// Extra routes (made on demand) compete with the own ones: a longer prefix, or the same
/// prefix with a lower metric, wins.
#[test]
fn extra_routes_rank_with_the_own_ones() {
    struct More(Vec<Route>);
    impl Extra for More {
        fn route(
            &self,
            table: Table,
            dst: IpAddr,
            keep: &dyn Fn(&Route) -> bool,
        ) -> Option<&Route> {
            self.0
                .iter()
                .find(|r| r.table == table && r.dst.contains(dst) && keep(r))
        }
        fn neighbour(&self, _: &str, _: IpAddr) -> Option<&Neighbour> {
            None
        }
        fn fdb(&self, _: &str, _: MacAddr) -> Option<&FdbEntry> {
            None
        }
    }
    let k = Kernel::new(NodeState {
        routes: vec![r("10.244.0.0/16", "own"), r("10.245.0.0/16", "own")],
        ..NodeState::default()
    })
    .with_extra(Box::new(More(vec![
        r("10.244.2.0/24", "peer"),
        r("10.245.0.0/16", "peer"),
    ])));
    assert_eq!(
        k.lookup("10.244.2.1".parse().unwrap()).unwrap().dev(),
        Some("peer")
    );
    assert_eq!(
        k.lookup("10.244.3.1".parse().unwrap()).unwrap().dev(),
        Some("own")
    );
    assert_eq!(
        k.lookup("10.245.3.1".parse().unwrap()).unwrap().dev(),
        Some("own")
    );
    let only_own = k.lookup_where("10.244.2.1".parse().unwrap(), &|r| r.dev() == Some("own"));
    assert_eq!(only_own.unwrap().dev(), Some("own"));
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
    let mut detached = rules[1].clone();
    detached.iif = Some("lo".into());
    detached.iif_detached = true;
    assert!(!rule_matches(&detached, &q("1.1.1.1")));
    let mut oif = rules[1].clone();
    oif.oif = Some("eth0".into());
    assert!(!rule_matches(&oif, &q("1.1.1.1")));
}
