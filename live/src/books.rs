//! What a real run counts, restricted to the measured window exactly as the simulator's
//! recorder is (`src/world/metrics.rs`): requests when they reach the server, responses
//! (and empty ones) when they leave it, bytes when they are sent, and a delivery only for
//! an update born inside the window and delivered before its end.

use std::sync::Mutex;

use hdrhistogram::Histogram;
use rtsim::engine::Nanos;

/// Latency resolution as the simulator's: 1 ns to 1 h, 3 significant digits.
const LATENCY_MAX: u64 = 3_600_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

pub struct Books {
    start: Nanos,
    end: Nanos,
    inner: Mutex<Counts>,
}

struct Counts {
    requests: u64,
    responses: u64,
    empty_responses: u64,
    deliveries: u64,
    latency_sum: f64,
    latency: Histogram<u64>,
    /// How late the relay wrote what it delayed (ns): the harness's own timing error.
    lateness: Histogram<u64>,
    bytes_up: u64,
    bytes_down: u64,
    handshakes: u64,
    /// Client-side failures (a refused connection, a malformed answer): each one is
    /// reported, never silently dropped.
    errors: u64,
    first_error: Option<String>,
}

/// The measured figures of one run, named as `results.csv`'s columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    pub requests_per_s: f64,
    pub empty_response_fraction: f64,
    pub latency_mean_s: f64,
    pub latency_p50_s: f64,
    pub latency_p99_s: f64,
    pub latency_max_s: f64,
    /// Standard deviation of the latencies (for the standard error of their mean).
    pub latency_sd_s: f64,
    pub bytes_down_per_s: f64,
    pub bytes_up_per_s: f64,
    pub handshakes_per_s: f64,
    pub deliveries: f64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// 99th percentile of how late the relay delivered what it delayed: when the machine
    /// is too busy to keep time, every real latency carries this much on top.
    pub relay_late_p99_s: f64,
    pub relay_late_mean_s: f64,
    /// The run's threads got a higher scheduling priority (see `run.rs`).
    pub prioritized: bool,
}

impl Books {
    /// Books for the window `[start, end)` (nanoseconds since the epoch).
    pub fn new(start: Nanos, end: Nanos) -> Self {
        Books {
            start,
            end,
            inner: Mutex::new(Counts {
                requests: 0,
                responses: 0,
                empty_responses: 0,
                deliveries: 0,
                latency_sum: 0.0,
                latency: Histogram::new_with_bounds(1, LATENCY_MAX, 3).expect("valid bounds"),
                lateness: Histogram::new_with_bounds(1, LATENCY_MAX, 3).expect("valid bounds"),
                bytes_up: 0,
                bytes_down: 0,
                handshakes: 0,
                errors: 0,
                first_error: None,
            }),
        }
    }

    fn in_window(&self, t: Nanos) -> bool {
        t >= self.start && t < self.end
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panicking task cannot leave the counters half-updated: each update is one
        // statement, so a poisoned lock still holds consistent numbers.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn request(&self, now: Nanos) {
        if self.in_window(now) {
            self.counts().requests += 1;
        }
    }

    pub fn response(&self, now: Nanos, empty: bool) {
        if self.in_window(now) {
            let mut c = self.counts();
            c.responses += 1;
            c.empty_responses += u64::from(empty);
        }
    }

    pub fn handshake(&self, now: Nanos) {
        if self.in_window(now) {
            self.counts().handshakes += 1;
        }
    }

    pub fn bytes(&self, now: Nanos, dir: Direction, n: u64) {
        if self.in_window(now) {
            let mut c = self.counts();
            match dir {
                Direction::Up => c.bytes_up += n,
                Direction::Down => c.bytes_down += n,
            }
        }
    }

    /// An update born at `born` reached its client at `now`.
    pub fn delivery(&self, now: Nanos, born: Nanos) {
        if self.in_window(born) && now < self.end {
            let latency = now.saturating_sub(born).max(1);
            let mut c = self.counts();
            c.deliveries += 1;
            c.latency_sum += latency as f64;
            c.latency.saturating_record(latency);
        }
    }

    /// The relay meant to write at `t` and wrote `late` ns after it.
    pub fn relay_write(&self, t: Nanos, late: u64) {
        if self.in_window(t) {
            self.counts().lateness.saturating_record(late.max(1));
        }
    }

    pub fn error(&self, what: String) {
        let mut c = self.counts();
        c.errors += 1;
        c.first_error.get_or_insert(what);
    }

    pub fn measured(&self, prioritized: bool) -> Measured {
        let c = self.counts();
        let secs = (self.end - self.start) as f64 / 1e9;
        let ns = |v: u64| v as f64 / 1e9;
        let empty = if c.responses == 0 {
            0.0
        } else {
            c.empty_responses as f64 / c.responses as f64
        };
        let (mean, p50, p99, max, sd) = if c.deliveries == 0 {
            (0.0, 0.0, 0.0, 0.0, 0.0)
        } else {
            (
                c.latency_sum / c.deliveries as f64 / 1e9,
                ns(c.latency.value_at_quantile(0.5)),
                ns(c.latency.value_at_quantile(0.99)),
                ns(c.latency.max()),
                c.latency.stdev() / 1e9,
            )
        };
        Measured {
            requests_per_s: c.requests as f64 / secs,
            empty_response_fraction: empty,
            latency_mean_s: mean,
            latency_p50_s: p50,
            latency_p99_s: p99,
            latency_max_s: max,
            latency_sd_s: sd,
            bytes_down_per_s: c.bytes_down as f64 / secs,
            bytes_up_per_s: c.bytes_up as f64 / secs,
            handshakes_per_s: c.handshakes as f64 / secs,
            deliveries: c.deliveries as f64,
            errors: c.errors,
            first_error: c.first_error.clone(),
            relay_late_p99_s: ns(c.lateness.value_at_quantile(0.99)),
            relay_late_mean_s: c.lateness.mean() / 1e9,
            prioritized,
        }
    }
}
