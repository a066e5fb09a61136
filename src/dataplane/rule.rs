//! Policy routing rules (`ip rule`): which table a lookup uses.

use std::fmt;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use super::route::{Family, Table};

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    /// Look the packet up in a table.
    Lookup,
    /// Jump to another rule (by priority).
    Goto,
    /// Do nothing.
    Nop,
    /// Drop silently.
    Blackhole,
    /// Drop with host unreachable.
    Unreachable,
    /// Drop with administratively prohibited.
    Prohibit,
    /// Any other action number.
    Other(u8),
}

/// A policy routing rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rule {
    /// IPv4 or IPv6.
    pub family: Family,
    /// Priority (lower runs first): 0 local, 32766 main, 32767 default.
    pub priority: u32,
    /// Source prefix (`from`), when not all.
    #[serde(default)]
    pub src: Option<IpNetwork>,
    /// Destination prefix (`to`).
    #[serde(default)]
    pub dst: Option<IpNetwork>,
    /// Input interface (`iif`).
    #[serde(default)]
    pub iif: Option<String>,
    /// The input interface does not exist (`[detached]`).
    #[serde(default)]
    pub iif_detached: bool,
    /// Output interface (`oif`).
    #[serde(default)]
    pub oif: Option<String>,
    /// The output interface does not exist (`[detached]`).
    #[serde(default)]
    pub oif_detached: bool,
    /// Firewall mark and mask (`fwmark 0x1/0xff`).
    #[serde(default)]
    pub fwmark: Option<(u32, u32)>,
    /// `not`: the match is inverted.
    #[serde(default)]
    pub invert: bool,
    /// The action.
    pub action: RuleAction,
    /// The table looked up, for `lookup` rules.
    #[serde(default)]
    pub table: Option<Table>,
    /// `suppress_prefixlength N`.
    #[serde(default)]
    pub suppress_prefixlen: Option<u32>,
    /// The priority a `goto` rule jumps to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goto: Option<u32>,
    /// The TOS the packet must carry (`tos N`); 0 matches any.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tos: u8,
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}

/// Prints like `ip rule show`: `32766:\tfrom all lookup main`.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:\t", self.priority)?;
        if self.invert {
            f.write_str("not ")?;
        }
        match self.src {
            Some(s) => write!(f, "from {s}")?,
            None => f.write_str("from all")?,
        }
        if let Some(d) = self.dst {
            write!(f, " to {d}")?;
        }
        if self.tos != 0 {
            write!(f, " tos {:#04x}", self.tos)?;
        }
        if let Some((mark, mask)) = self.fwmark {
            if mask == u32::MAX {
                write!(f, " fwmark {mark:#x}")?;
            } else {
                write!(f, " fwmark {mark:#x}/{mask:#x}")?;
            }
        }
        if let Some(i) = &self.iif {
            write!(f, " iif {i}")?;
            if self.iif_detached {
                f.write_str(" [detached]")?;
            }
        }
        if let Some(o) = &self.oif {
            write!(f, " oif {o}")?;
            if self.oif_detached {
                f.write_str(" [detached]")?;
            }
        }
        match (self.action, self.table) {
            (RuleAction::Lookup, Some(t)) => write!(f, " lookup {}", t.name())?,
            (RuleAction::Lookup, None) => f.write_str(" lookup unspec")?,
            (RuleAction::Goto, _) => match self.goto {
                Some(t) => write!(f, " goto {t}")?,
                None => f.write_str(" goto")?,
            },
            (RuleAction::Nop, _) => f.write_str(" nop")?,
            (RuleAction::Blackhole, _) => f.write_str(" blackhole")?,
            (RuleAction::Unreachable, _) => f.write_str(" unreachable")?,
            (RuleAction::Prohibit, _) => f.write_str(" prohibit")?,
            (RuleAction::Other(n), _) => write!(f, " action {n}")?,
        }
        if let Some(n) = self.suppress_prefixlen {
            write!(f, " suppress_prefixlength {n}")?;
        }
        Ok(())
    }
}

impl Rule {
    /// The three rules every Linux netns starts with, for one family.
    pub fn defaults(family: Family) -> Vec<Rule> {
        let base = Rule {
            family,
            priority: 0,
            src: None,
            dst: None,
            iif: None,
            iif_detached: false,
            oif: None,
            oif_detached: false,
            fwmark: None,
            invert: false,
            action: RuleAction::Lookup,
            table: Some(Table::LOCAL),
            suppress_prefixlen: None,
            goto: None,
            tos: 0,
        };
        vec![
            base.clone(),
            Rule {
                priority: 32766,
                table: Some(Table::MAIN),
                ..base.clone()
            },
            Rule {
                priority: 32767,
                table: Some(Table::DEFAULT),
                ..base
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_ip_rule() {
        let r = Rule::defaults(Family::Inet);
        assert_eq!(r[0].to_string(), "0:\tfrom all lookup local");
        assert_eq!(r[1].to_string(), "32766:\tfrom all lookup main");
        let wg = Rule {
            priority: 99,
            invert: true,
            fwmark: Some((0x100000, 0x100000)),
            table: Some(Table(1)),
            ..r[1].clone()
        };
        assert_eq!(
            wg.to_string(),
            "99:\tnot from all fwmark 0x100000/0x100000 lookup 1"
        );
    }
}
