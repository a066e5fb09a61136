//! A node's dataplane as plain data: routes, links, addresses, neighbours, FDB, sysctls.
//!
//! One model whatever the source: live netlink, a snapshot file, offline text
//! (`ip route`, `route -n` …), or the plan computed from a cluster description; and
//! [`kernel`], the Linux forwarding rules over it. No I/O in this module, and no imports
//! of the modules that fill it (netlink, snapshots): data flows from them to here.

pub mod change;
pub mod kernel;
pub mod link;
pub mod mac;
pub mod neigh;
pub mod parse;
pub mod predict;
pub mod route;
pub mod rule;
pub mod state;
pub mod trie;

pub use kernel::Kernel;
pub use link::{Addr, Link, LinkKind, Veth, Vxlan};
pub use mac::MacAddr;
pub use neigh::{FdbEntry, Neighbour, NudState};
pub use route::{
    Family, Nexthop, NexthopFlags, Protocol, Route, RouteFlags, RouteType, Scope, Table,
};
pub use rule::{Rule, RuleAction};
pub use state::{NodeState, Sysctls};
pub use trie::RouteTable;
