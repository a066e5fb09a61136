//! Rendering: colour decision, tables for people, JSON for scripts.
//!
//! Computation never prints; commands hand their results to these helpers.

pub mod decode;
pub mod json;
pub mod style;
pub mod table;

pub use style::{ColorChoice, Style};
