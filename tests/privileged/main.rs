//! Privileged tests: they build real kernel state in network namespaces of their own.
//!
//! As root every test runs. Without root they are all reported as ignored, with a loud
//! count on stderr; with `NETPATH_REQUIRE_ROOT=1` (set by `.ci/run`) a non-root run fails.

mod agent;
mod capture;
#[allow(dead_code)] // a reusable lab builder: not every scenario uses every part
mod cluster_lab;
mod damaged_dumps;
mod edges;
mod etcd;
mod hardening;
#[allow(dead_code)] // shared helpers; not every test module uses every one
mod lab;
mod lab_scenarios;
mod neigh;
mod netlink;
mod netns;
mod offline;
mod pods;
mod real_calico;
mod real_flannel;
#[allow(dead_code)] // shared by the real-component suites
mod real_lab;
mod routes;
mod snapshot;
mod trace_rules;

use libtest_mimic::{Arguments, Trial};

fn main() {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = Vec::new();
    trials.extend(netns::tests());
    trials.extend(agent::tests());
    trials.extend(routes::tests());
    trials.extend(damaged_dumps::tests());
    trials.extend(capture::tests());
    trials.extend(neigh::tests());
    trials.extend(neigh::rule_tests());
    trials.extend(offline::tests());
    trials.extend(pods::tests());
    trials.extend(etcd::tests());
    trials.extend(hardening::tests());
    trials.extend(snapshot::tests());
    trials.extend(trace_rules::tests());
    trials.extend(lab_scenarios::tests());
    trials.extend(netlink::tests());
    trials.extend(edges::tests());
    trials.extend(real_flannel::tests());
    trials.extend(real_calico::tests());

    if !lab::is_root() {
        let n = trials.len();
        eprintln!();
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        eprintln!(
            "!!! {n} PRIVILEGED TESTS NOT RUN: not root. Run `sudo -E cargo test` to run them."
        );
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        if std::env::var("NETPATH_REQUIRE_ROOT").is_ok_and(|v| v == "1") {
            eprintln!("NETPATH_REQUIRE_ROOT=1: failing, privileged tests must run here.");
            std::process::exit(1);
        }
        trials = trials
            .into_iter()
            .map(|t| t.with_ignored_flag(true))
            .collect();
    }
    libtest_mimic::run(&args, trials).exit();
}
