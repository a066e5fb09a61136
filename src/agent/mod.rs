//! The mini-agent: reconcile a node's kernel state to its plan, the way flanneld and
//! Felix do, touching only what it owns.
//!
//! One pass: read the node (devices, addresses, routes, neighbours, FDB, sysctls), diff it
//! against the plan with the agent's ownership ([`crate::diff::Ownership::agent`]), apply
//! the ordered changes ([`crate::netlink::write::apply`]), read again and diff again: the
//! node matches when nothing is left. Every change is idempotent and the diff is
//! recomputed from the kernel each pass, so a crash at any point followed by a restart
//! converges.

pub mod guard;
pub mod input;
pub mod lock;

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use crate::dataplane::{NodeState, Protocol};
use crate::diff::{self, Diff, Ownership};
use crate::netlink::Netns;
use crate::netlink::write::{self, ApplyReport};
use crate::snapshot::PlanFile;

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The netns it programs.
    pub netns: Netns,
    /// The route protocol number that marks its routes.
    pub proto: Protocol,
    /// Take over foreign entries that conflict with the plan.
    pub adopt: bool,
    /// The cluster's pod networks, when known: planned routes inside them are the CNI's
    /// (and the agent's) even on the machine's devices (Flannel host-gw).
    pub networks: Vec<ipnetwork::IpNetwork>,
    /// Told what `--adopt` is about to destroy, before it is (the command logs it).
    pub announce: Option<fn(&str)>,
}

/// Reads a node's actual state (the live kernel; tests may read something else).
pub type Reader = fn(&Netns) -> anyhow::Result<NodeState>;

/// One reconcile pass.
#[derive(Debug, Clone)]
pub struct Pass {
    /// The difference found before changing anything, with the changes it called for.
    pub before: Diff,
    /// What the kernel did with the changes (none for a dry run or nothing to do).
    pub applied: Option<ApplyReport>,
    /// The difference after applying, read back from the kernel.
    pub after: Option<Diff>,
    /// How long the pass took.
    pub elapsed: Duration,
    /// Where the time went.
    pub timings: Timings,
    /// What `--adopt` took over and lost doing it (a device recreated, with the routes
    /// through it), said before the change was made.
    pub warnings: Vec<String>,
}

/// Where a pass spent its time.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Timings {
    /// Reading the node before.
    pub read_ms: f64,
    /// Diffing.
    pub diff_ms: f64,
    /// Applying the changes.
    pub apply_ms: f64,
    /// Reading back and diffing again.
    pub verify_ms: f64,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

impl Pass {
    /// The difference that remains: after applying, or before when nothing was applied.
    pub fn remaining(&self) -> &Diff {
        self.after.as_ref().unwrap_or(&self.before)
    }

    /// True when the node matches the plan at the end of the pass.
    pub fn converged(&self) -> bool {
        !self.remaining().has_problems()
    }
}

/// The agent's diff of a plan against a node.
pub fn changes(plan: &NodeState, actual: &NodeState, settings: &Settings) -> Diff {
    let own = Ownership::agent(plan, settings.proto, settings.adopt)
        .with_networks(settings.networks.clone());
    diff::diff(plan, actual, &own)
}

/// Run one pass: read, diff, and unless `dry_run`, apply and verify.
pub fn reconcile(
    plan: &NodeState,
    settings: &Settings,
    read: Reader,
    dry_run: bool,
) -> anyhow::Result<Pass> {
    let start = Instant::now();
    // Checked before anything is read or changed: whose routes it would own, and whether
    // the plan makes sense as a whole.
    guard::check_proto(settings.proto, settings.adopt)?;
    guard::check_plan(plan)?;
    let mut timings = Timings::default();
    let t = Instant::now();
    let actual = read(&settings.netns)?;
    timings.read_ms = ms(t);
    let t = Instant::now();
    let before = changes(plan, &actual, settings);
    timings.diff_ms = ms(t);
    // What the changes build on, and what they would destroy, before making any.
    let warnings = guard::check_changes(plan, &actual, &before, settings.adopt)?;
    if dry_run || before.changes.is_empty() {
        return Ok(Pass {
            before,
            applied: None,
            after: None,
            elapsed: start.elapsed(),
            timings,
            warnings,
        });
    }
    if let Some(announce) = settings.announce {
        for w in &warnings {
            announce(w);
        }
    }
    let t = Instant::now();
    let applied = write::apply(&settings.netns, &before.changes)?;
    timings.apply_ms = ms(t);
    let t = Instant::now();
    let actual = read(&settings.netns)?;
    // Only what differed before is compared again: the routes that matched then were
    // not touched (a full diff of 100,000 matching routes would double the pass). When
    // most of the plan differed (a fresh node), the full diff is the cheaper one: it
    // compares the same routes without a set lookup per route, and is never less strict.
    let own = Ownership::agent(plan, settings.proto, settings.adopt)
        .with_networks(settings.networks.clone());
    let scope = (before.route_keys.len() * 2 < plan.routes.len()).then_some(&before.route_keys);
    let after = diff::diff_scoped(plan, &actual, &own, scope);
    timings.verify_ms = ms(t);
    Ok(Pass {
        before,
        applied: Some(applied),
        after: Some(after),
        elapsed: start.elapsed(),
        timings,
        warnings,
    })
}

/// Where a watching agent gets its plan, re-read when it changes.
pub trait PlanInput {
    /// What it is, for messages (`plan file p.json`, `cluster c.yaml node n1`).
    fn describe(&self) -> String;
    /// True when the input changed since it was last loaded.
    fn changed(&self) -> bool;
    /// Load (and check) the plan.
    fn load(&mut self) -> anyhow::Result<NodeState>;
}

impl PlanInput for PlanFile {
    fn describe(&self) -> String {
        format!("plan file {}", self.path().display())
    }
    fn changed(&self) -> bool {
        PlanFile::changed(self)
    }
    fn load(&mut self) -> anyhow::Result<NodeState> {
        PlanFile::load(self)
    }
}

impl PlanInput for crate::lease::source::LeasePlan {
    fn describe(&self) -> String {
        crate::lease::source::LeasePlan::describe(self)
    }
    fn changed(&self) -> bool {
        crate::lease::source::LeasePlan::changed(self)
    }
    fn load(&mut self) -> anyhow::Result<NodeState> {
        crate::lease::source::LeasePlan::load(self)
    }
}

impl PlanInput for input::ClusterPlan {
    fn describe(&self) -> String {
        self.label().to_string()
    }
    fn changed(&self) -> bool {
        input::ClusterPlan::changed(self)
    }
    fn load(&mut self) -> anyhow::Result<NodeState> {
        self.load_with_networks().map(|(s, _)| s)
    }
}

/// What happens while watching, for the caller to log.
#[derive(Debug)]
pub enum Event<'a> {
    /// A plan was loaded (at start, or because the input changed).
    PlanLoaded {
        /// The input.
        input: String,
    },
    /// The input changed but the new plan is unusable: the last good one stays.
    PlanRejected {
        /// Why.
        error: String,
    },
    /// A pass ran.
    Pass {
        /// Pass number, from 1.
        number: u64,
        /// Its result.
        pass: &'a Pass,
    },
    /// A pass could not run (the kernel refused a read or an apply); the next one retries.
    PassFailed {
        /// Pass number.
        number: u64,
        /// Why.
        error: String,
    },
}

/// Watch: load the plan, then pass every `interval` (and at once when the plan input
/// changes), repairing drift, until `on` breaks. A plan that becomes unusable keeps the
/// last good one. Errors that make passes pointless (the netns vanished) end the watch.
pub fn watch(
    input: &mut dyn PlanInput,
    settings: &Settings,
    interval: Duration,
    read: Reader,
    mut on: impl FnMut(Event<'_>) -> ControlFlow<()>,
) -> anyhow::Result<()> {
    let mut plan = input.load()?;
    guard::check_plan(&plan)?;
    if on(Event::PlanLoaded {
        input: input.describe(),
    })
    .is_break()
    {
        return Ok(());
    }
    let tick = interval.min(Duration::from_millis(200));
    let mut number = 0u64;
    let mut due = Instant::now();
    loop {
        if input.changed() {
            match input.load().and_then(|p| guard::check_plan(&p).map(|()| p)) {
                Ok(p) => {
                    plan = p;
                    due = Instant::now();
                    if on(Event::PlanLoaded {
                        input: input.describe(),
                    })
                    .is_break()
                    {
                        return Ok(());
                    }
                }
                Err(e) => {
                    if on(Event::PlanRejected {
                        error: format!("{e:#}"),
                    })
                    .is_break()
                    {
                        return Ok(());
                    }
                }
            }
        }
        if Instant::now() >= due {
            number += 1;
            due = Instant::now() + interval;
            let flow = match reconcile(&plan, settings, read, false) {
                Ok(pass) => on(Event::Pass {
                    number,
                    pass: &pass,
                }),
                Err(e) => {
                    // A netns that is gone will not come back: stop.
                    settings.netns.open()?;
                    on(Event::PassFailed {
                        number,
                        error: format!("{e:#}"),
                    })
                }
            };
            if flow.is_break() {
                return Ok(());
            }
        }
        std::thread::sleep(tick);
    }
}

/// Parse a duration: `500ms`, `10s`, `2m`, or a number of seconds.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (try 500ms, 10s, 1m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit in {s:?} (use ms, s or m)")),
    };
    if !(0.01..=86400.0).contains(&secs) {
        return Err(format!("{s:?} is out of range (10ms to 24h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_interval("3"), Ok(Duration::from_secs(3)));
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("5h").is_err());
        assert!(parse_interval("fast").is_err());
    }
}
