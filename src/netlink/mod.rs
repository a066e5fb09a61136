//! The only code that talks rtnetlink. Everything here returns `crate::dataplane` types.
//!
//! Every reader and writer goes through one synchronous socket type, [`socket::RtSocket`]
//! (opened in a netns once, then used from the caller's thread); [`node::read_node`] reads
//! a node's whole dataplane over one socket in one visit to its netns.

pub mod link;
pub mod neigh;
pub mod netns;
pub mod node;
pub mod route;
pub mod rule;
pub mod socket;
pub mod sysctl;
pub mod write;

pub use netns::Netns;
