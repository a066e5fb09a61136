//! Rendering: colour decision, tables for people, JSON for scripts.
//!
//! Computation never prints; commands hand their results to these helpers.

pub mod agent;
pub mod clock;
pub mod decode;
pub mod demo;
pub mod dump;
pub mod findings;
pub mod fmt;
pub mod json;
pub mod leases;
pub mod man;
pub mod out;
pub mod picture;
pub mod plan;
pub mod pods;
pub mod real;
pub mod routes;
pub mod snapshot;
pub mod style;
pub mod table;
pub mod trace;

pub use style::{ColorChoice, Style};
