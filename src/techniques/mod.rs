//! The four techniques, one file each. Each is a small state machine over the world:
//! read one to see its protocol, message by message.
//!
//! A technique reads its own keys (`[short-polling]`, `[long-polling]`, `[sse]`,
//! `[websocket]`) and no other's; each also says how many events one of its clients
//! costs per second (`events_per_s`, for `sim::estimate`).

pub mod long_polling;
pub mod short_polling;
pub mod sse;
pub mod websocket;

pub use long_polling::LongPolling;
pub use short_polling::ShortPolling;
pub use sse::Sse;
pub use websocket::WebSocket;

use crate::engine::Nanos;
use crate::engine::time::secs;

/// What a client's event rate depends on besides its technique's keys.
#[derive(Clone, Copy, Debug)]
pub struct ClientLoad {
    /// Updates one client receives per second.
    pub updates_per_s: f64,
    /// Mean round-trip time, seconds.
    pub rtt_s: f64,
}

/// Events per second heartbeats cost one client (a beat and its answer or delivery).
fn heartbeat_events_per_s(every: Option<Nanos>) -> f64 {
    every.map_or(0.0, |h| 2.0 / secs(h).max(1e-9))
}
