//! BPF filters on file packets, in libpcap's own language: the expression is compiled by
//! libpcap (`pcap_compile` on a dead handle of the packet's link type) and run with
//! `pcap_offline_filter`, once per link type seen.

use std::collections::HashMap;

use anyhow::anyhow;

use crate::wire::LinkType;

/// A compiled filter expression, one BPF program per link type.
pub struct Filter {
    expr: String,
    programs: HashMap<LinkType, Option<pcap::BpfProgram>>,
    /// Link types the expression could not be compiled for (reported once each).
    pub uncompilable: Vec<(LinkType, String)>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter").field("expr", &self.expr).finish()
    }
}

impl Filter {
    /// A filter for `expr`, checked right away against Ethernet so that a typo fails before
    /// any packet is read.
    pub fn new(expr: &str) -> anyhow::Result<Filter> {
        let mut f = Filter {
            expr: expr.to_string(),
            programs: HashMap::new(),
            uncompilable: Vec::new(),
        };
        f.compile(LinkType::ETHERNET)
            .map_err(|e| anyhow!("bad filter {expr:?}: {e}"))?;
        Ok(f)
    }

    /// The expression.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    fn compile(&mut self, link: LinkType) -> Result<(), String> {
        let dead = i32::try_from(link.0)
            .map_err(|_| format!("link type {} out of range", link.0))
            .and_then(|l| pcap::Capture::dead(pcap::Linktype(l)).map_err(|e| e.to_string()));
        let result = dead.and_then(|cap| cap.compile(&self.expr, true).map_err(|e| e.to_string()));
        match result {
            Ok(p) => {
                self.programs.insert(link, Some(p));
                Ok(())
            }
            Err(e) => {
                self.programs.insert(link, None);
                self.uncompilable.push((link, e.clone()));
                Err(e)
            }
        }
    }

    /// Whether the packet `data` of link type `link` passes. A link type the expression
    /// cannot be compiled for passes nothing (see [`Filter::uncompilable`]).
    ///
    /// Note: the `pcap` crate gives `pcap_offline_filter` the captured length as the wire
    /// length, so `len`/`greater`/`less` see the captured length.
    pub fn matches(&mut self, link: LinkType, data: &[u8]) -> bool {
        if !self.programs.contains_key(&link) {
            let _ = self.compile(link);
        }
        match self.programs.get(&link) {
            Some(Some(p)) => p.filter(data),
            _ => false,
        }
    }
}
