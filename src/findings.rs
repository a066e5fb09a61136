//! Findings: what a command found wrong with a node, its pods or its leases, or lists for
//! information. One shape for `check`, `pods` and `leases` (each with its own kinds), one
//! severity scale, and one renderer (`crate::render::findings`).

use std::fmt;

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Pod traffic is dropped or misrouted, or resources leak.
    Error,
    /// Drift or something suspicious that does not (yet) drop traffic.
    Warning,
    /// Listed for context, never wrong: foreign routes, another program's protocol.
    Info,
}

impl Severity {
    /// The word shown.
    pub fn word(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// True for errors and warnings: something is wrong.
    pub fn is_problem(&self) -> bool {
        !matches!(self, Severity::Info)
    }
}

/// The kinds of findings of one command (`check`'s differences, `pods`' leaks …).
pub trait Kind: Copy {
    /// The words shown for it.
    fn word(&self) -> &'static str;
}

/// Kinds that are their own words (the leases' `duplicate-public-ip` …).
impl Kind for &'static str {
    fn word(&self) -> &'static str {
        self
    }
}

/// One thing found: what, how bad, what should be, what is, and how to fix it. Serialized
/// as `check` prints it; `pods` and `leases` keep their own JSON shapes (see their
/// projections).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding<K> {
    /// How bad it is.
    pub severity: Severity,
    /// What kind of finding.
    pub kind: K,
    /// The object, in the field's words: `route 10.244.2.0/24`, a veth, a cache file, an
    /// etcd key.
    pub object: String,
    /// Every attribute that differs (`next hop`, `onlink` …); the kind is the first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<&'static str>,
    /// Other objects concerned (the other lease of an overlap).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// What should be, if anything.
    pub expected: Option<String>,
    /// What is, if anything.
    pub actual: Option<String>,
    /// What fixes it (commands, or advice); empty when nothing here can.
    pub fix: Vec<String>,
}

impl<K: Kind> Finding<K> {
    /// A finding with nothing expected, nothing actual and no fix yet.
    pub fn new(severity: Severity, kind: K, object: impl Into<String>) -> Finding<K> {
        Finding {
            severity,
            kind,
            object: object.into(),
            attributes: Vec::new(),
            also: Vec::new(),
            expected: None,
            actual: None,
            fix: Vec::new(),
        }
    }

    /// Set what should be.
    pub fn expected(mut self, s: impl fmt::Display) -> Finding<K> {
        self.expected = Some(s.to_string());
        self
    }

    /// Set what is.
    pub fn actual(mut self, s: impl fmt::Display) -> Finding<K> {
        self.actual = Some(s.to_string());
        self
    }

    /// Set what fixes it.
    pub fn fix(mut self, fix: Vec<String>) -> Finding<K> {
        self.fix = fix;
        self
    }

    /// Set one fix (a command or advice).
    pub fn fix_one(self, fix: impl fmt::Display) -> Finding<K> {
        self.fix(vec![fix.to_string()])
    }

    /// Add other objects concerned.
    pub fn also(mut self, objects: Vec<String>) -> Finding<K> {
        self.also = objects;
        self
    }
}
