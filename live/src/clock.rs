//! The run's clock: nanoseconds since a shared epoch, as the simulator counts them.
//!
//! The server, the relay and the clients share one process, so one monotonic `Instant`
//! serves them all: a birth time written by the server is read by a client on the same
//! clock. Wall-clock time is used only here, in a measurement, never in a simulation.

use std::time::Duration;

use rtsim::engine::Nanos;
use tokio::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    /// A clock whose zero is `lead` from now (time to set everything up first).
    pub fn starting_in(lead: Duration) -> Self {
        Clock {
            epoch: Instant::now() + lead,
        }
    }

    /// Nanoseconds since the epoch (0 before it).
    pub fn now(&self) -> Nanos {
        Instant::now()
            .saturating_duration_since(self.epoch)
            .as_nanos()
            .min(u128::from(u64::MAX)) as Nanos
    }

    /// The instant `t` nanoseconds after the epoch.
    pub fn at(&self, t: Nanos) -> Instant {
        self.epoch + Duration::from_nanos(t)
    }
}

/// Half of tokio's timer tick. Its timer wheel fires a sleep at the first whole
/// millisecond at or after the deadline, half a millisecond late on average; every delay
/// of a run (one-way trips, poll intervals, update births) would carry that bias, and an
/// after-response poll cycle three of them. Aiming half a tick early centres the rounding
/// on the deadline instead (each sleep within ±0.5 ms of it, plus the wake-up).
const HALF_TICK: Duration = Duration::from_micros(500);

/// Sleeps until `at`, the timer's rounding centred on it (see [`HALF_TICK`]).
pub async fn sleep_until(at: Instant) {
    tokio::time::sleep_until(at.checked_sub(HALF_TICK).unwrap_or(at)).await;
}
