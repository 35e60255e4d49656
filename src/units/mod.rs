//! Numbers with units, at the bottom of the crate: durations and sizes as written in files
//! (parsed and formatted back exactly), and numbers for people (`32,741 req/s`,
//! `1.30 GiB`). Every layer that reads or prints a unit uses these, so there is one
//! parser and one formatter for each.

pub mod human;
pub mod text;
