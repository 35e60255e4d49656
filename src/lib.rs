//! rtsim: a deterministic discrete-event simulator of how servers get fresh data to
//! clients — short polling, long polling, Server-Sent Events and WebSockets.
//!
//! Data flows one way: experiment → plan → runs → rows → reports.

// The two exceptions, documented where they are: the prefetch hint in
// `engine/prefetch.rs` and the huge-page advice in `engine/hugepages.rs`.
#![deny(unsafe_code)]

pub mod cli;
pub mod columns;
pub mod diagnosis;
pub mod engine;
pub mod experiment;
pub mod report;
pub mod results;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod sizing;
pub mod stats;
pub mod steady;
pub mod techniques;
pub mod theory;
pub mod units;
pub mod wire;
pub mod world;
