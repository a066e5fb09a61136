//! `routes --from FILE get ADDR` without a kernel: the node a dump describes, the lookup the
//! kernel model predicts for it, what was assumed to get there, and which of the dump's
//! skipped (damaged) lines could have changed the answer.
//!
//! Pure: the command reads the file; this module turns its bytes (or a loaded snapshot) into
//! a [`Dump`], and a [`Dump`] and a question into a [`Prediction`].

use std::net::IpAddr;

use anyhow::Result;
use ipnetwork::IpNetwork;
use serde::Serialize;

use super::kernel::{Kernel, Resolution, RouteLookup, RouteQuery, Verdict, verdict};
use super::parse::{ParseWarning, SkippedRoute, parse_routes_bytes};
use super::{Family, Link, NodeState, Table};

/// The name of a `netpath.snapshot/v1` document as an input format.
pub const SNAPSHOT: &str = "netpath snapshot";

/// What an offline file gave.
#[derive(Debug, Clone)]
pub struct Dump {
    /// The routes (a snapshot's: also its devices, rules and sysctls).
    pub state: NodeState,
    /// The format's name (`ip route`, `route -n`, `netpath snapshot` …).
    pub format: &'static str,
    /// True for a snapshot: the node's policy rules, devices and sysctls are known.
    pub has_links: bool,
    /// What the parser skipped or guessed.
    pub warnings: Vec<ParseWarning>,
}

impl Dump {
    /// A route dump in any format the parsers know, from the file's bytes.
    pub fn from_route_bytes(bytes: &[u8]) -> Result<Dump> {
        let parsed = parse_routes_bytes(bytes)?;
        Ok(Dump {
            state: NodeState {
                routes: parsed.routes,
                ..NodeState::default()
            },
            format: parsed.format.name(),
            has_links: false,
            warnings: parsed.warnings,
        })
    }

    /// A node's snapshot (its whole state), with the loader's warnings.
    pub fn from_snapshot(state: NodeState, warnings: Vec<String>) -> Dump {
        Dump {
            state,
            format: SNAPSHOT,
            has_links: true,
            warnings: warnings.into_iter().map(ParseWarning::note).collect(),
        }
    }

    /// True for a snapshot: its policy rules and sysctls are the node's.
    pub fn is_snapshot(&self) -> bool {
        self.format == SNAPSHOT
    }
}

/// Whether `bytes` is a JSON document whose schema is a netpath snapshot's.
pub fn is_snapshot(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Head {
        schema: Option<String>,
    }
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && serde_json::from_slice::<Head>(bytes)
            .is_ok_and(|h| h.schema.is_some_and(|s| s.starts_with("netpath.snapshot/")))
}

/// A dump indexed for one family's lookups, with what was assumed about it.
pub struct Offline {
    /// The node as the dump describes it.
    pub kernel: Kernel<'static>,
    /// Its devices, when the dump has them (a snapshot).
    pub links: Option<Vec<Link>>,
    /// What was assumed, in words (`predicted from F (ip route): …`).
    pub notes: Vec<String>,
    /// The dump's skipped lines that may have been routes.
    skipped: Vec<ParseWarning>,
}

/// A skipped line of the dump that could change the predicted answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedCaveat {
    /// Its line number.
    pub line: Option<usize>,
    /// The line as pasted.
    pub text: Option<String>,
    /// Why it was skipped.
    pub reason: String,
    /// Its destination, when readable (it covers the address).
    pub prefix: Option<IpNetwork>,
}

impl std::fmt::Display for SkippedCaveat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = self
            .line
            .map_or_else(|| "a route".to_string(), |n| format!("line {n}"));
        match self.prefix {
            Some(p) => write!(
                f,
                "{line} was skipped ({}), and its route to {p} covers the address: with it the answer could differ",
                self.reason
            ),
            None => write!(
                f,
                "{line} was skipped ({}) and its destination could not be read: with it the answer could differ",
                self.reason
            ),
        }
    }
}

/// The lookup predicted from a dump.
pub struct Prediction<'k> {
    /// The policy rules walked and the tables' answers.
    pub resolution: Resolution<'k>,
    /// What the kernel would answer.
    pub kernel: RouteLookup,
    /// Routable or not, and why.
    pub verdict: Verdict,
    /// The skipped lines that could change the answer.
    pub caveats: Vec<SkippedCaveat>,
}

impl Offline {
    /// Index `dump` for lookups in `family`; `shown` names the file in the notes.
    pub fn new(dump: Dump, family: Family, shown: &str, has_iif: bool) -> Offline {
        let snapshot = dump.is_snapshot();
        let format = dump.format;
        let mut state = dump.state;
        state.routes.retain(|r| r.family() == family);
        let has_local = state.routes.iter().any(|r| r.table == Table::LOCAL);
        let links = dump.has_links.then(|| state.links.clone());
        if !snapshot {
            // A route dump carries no rules: the kernel's defaults.
            state.rules.clear();
        }
        let mut notes = vec![if snapshot {
            format!(
                "predicted from {shown} ({format}): no kernel was asked; the node's policy rules and sysctls are the snapshot's"
            )
        } else {
            format!(
                "predicted from {shown} ({format}): no kernel was asked; the default policy rules are assumed (a route dump carries none)"
            )
        }];
        if !has_local {
            notes.push(
                "the dump has no local table (`ip route show table all` has it): the node's own addresses are not recognised as local"
                    .to_string(),
            );
        }
        if has_iif && !snapshot {
            notes.push(
                "--iif: ip_forward and rp_filter are not in a route dump, so their refusals cannot be predicted"
                    .to_string(),
            );
        }
        Offline {
            kernel: Kernel::new(state),
            links,
            notes,
            skipped: dump
                .warnings
                .into_iter()
                .filter(|w| w.skipped.is_some())
                .collect(),
        }
    }

    /// The lookup for `query`, as the kernel would answer it with the dump's routes.
    pub fn predict(&self, query: &RouteQuery) -> Prediction<'_> {
        let resolution = self.kernel.resolve(query);
        let kernel = self.kernel.predict(query, &resolution);
        let verdict = verdict(query, &resolution, &kernel);
        let winner_len = resolution.winner().map(|r| r.dst.prefix());
        let caveats = self
            .skipped
            .iter()
            .filter_map(|w| could_change(w, query.dst, winner_len))
            .collect();
        Prediction {
            resolution,
            kernel,
            verdict,
            caveats,
        }
    }
}

/// The caveat for a skipped line, when its route could change the answer for `dst`: its
/// destination covers `dst` and is at least as specific as the route that won, or its
/// destination could not be read.
fn could_change(w: &ParseWarning, dst: IpAddr, winner_len: Option<u8>) -> Option<SkippedCaveat> {
    let prefix = match w.skipped? {
        SkippedRoute::Unreadable => None,
        SkippedRoute::Prefix(p) => {
            if !p.contains(dst) || winner_len.is_some_and(|l| p.prefix() < l) {
                return None;
            }
            Some(p)
        }
    };
    Some(SkippedCaveat {
        line: w.line,
        text: w.text.clone(),
        reason: w.reason.clone(),
        prefix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(dump: &str, addr: &str) -> Vec<SkippedCaveat> {
        let dump = Dump::from_route_bytes(dump.as_bytes()).unwrap();
        let dst: IpAddr = addr.parse().unwrap();
        let off = Offline::new(dump, Family::of(&dst), "dump.txt", false);
        off.predict(&RouteQuery::to(dst)).caveats
    }

    const DAMAGED: &str = "default via 10.0.0.1 dev eth0\n\
        10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.2\n\
        10.244.2.0/24 via x.y.72.193 dev eth0 proto bird\n\
        10.244.3.0/24 via 10.0.0.3 dev eth0 proto bi\n";

    #[test]
    fn skipped_route_covering_the_address_is_a_caveat() {
        let c = get(DAMAGED, "10.244.2.7");
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].line, Some(3));
        assert_eq!(c[0].prefix, Some("10.244.2.0/24".parse().unwrap()));
        assert!(c[0].to_string().contains("line 3 was skipped"), "{}", c[0]);
    }

    #[test]
    fn skipped_route_elsewhere_or_less_specific_is_no_caveat() {
        assert!(get(DAMAGED, "10.0.0.9").is_empty());
        assert!(get(DAMAGED, "192.168.1.1").is_empty());
    }

    #[test]
    fn unreadable_destination_is_a_caveat_for_every_address() {
        let dump = "default via 10.0.0.1 dev eth0\n10.244.\u{7}3.0/24 via 10.0.0.3 dev eth0\n";
        let c = get(dump, "10.0.0.9");
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].prefix, None);
    }
}
