//! The discrete-event engine. It knows nothing of HTTP, sockets or servers: only
//! simulated time, an ordered queue of pending events, and random streams.
//!
//! - [`time`]: the integer-nanosecond clock and unit helpers;
//! - [`queue`]: the event queue, ordered by (time, insertion sequence), and its chunked
//!   storage (`chunks`) and the current bucket's late arrivals (`soon`);
//! - [`rng`]: portable random streams keyed by (seed, point, replication, purpose);
//! - [`prefetch`]: memory hints for what the next events will touch;
//! - [`hugepages`]: huge pages for the arrays a run touches at random.

mod chunks;
pub mod hugepages;
pub mod prefetch;
pub mod queue;
pub mod rng;
mod soon;
pub mod time;

pub use queue::EventQueue;
pub use rng::{Purpose, RandomStream};
pub use time::{NS_PER_MS, NS_PER_S, NS_PER_US, Nanos};
