//! Metric recorders: what a run measures, restricted to the measured window.
//!
//! - [`Gauge`]: a time-weighted level (open connections, memory) with its peak, its
//!   time integral over the window, and per-bucket means for `timeseries.csv`;
//! - [`Recorder`]: counters (requests, bytes, handshakes, …), the CPU busy time, queue
//!   waits and the latency histogram.
//!
//! Every counter checks the window itself: the simulation code just reports what happened
//! and when, and the recorder decides whether it counts.

use hdrhistogram::Histogram;

use crate::engine::time::secs;
use crate::engine::{NS_PER_S, Nanos};
use crate::results::TimePoint;

/// The measured window [start, end) and the time-series buckets over the whole run.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub start: Nanos,
    pub end: Nanos,
    pub bucket: Nanos,
}

impl Window {
    #[inline]
    pub fn contains(&self, t: Nanos) -> bool {
        t >= self.start && t < self.end
    }

    pub fn buckets(&self) -> usize {
        self.end.div_ceil(self.bucket) as usize
    }

    #[inline]
    fn bucket_of(&self, t: Nanos) -> usize {
        ((t / self.bucket) as usize).min(self.buckets().saturating_sub(1))
    }

    fn duration_s(&self) -> f64 {
        secs(self.end - self.start)
    }
}

/// A level that changes at instants: its time-weighted mean over the window, its peak in
/// the window, and its mean per time-series bucket.
#[derive(Clone, Debug)]
pub struct Gauge {
    value: i64,
    since: Nanos,
    window_integral: f64,
    peak: i64,
    bucket_integral: Vec<f64>,
}

impl Gauge {
    pub fn new(window: &Window, initial: i64) -> Self {
        Gauge {
            value: initial,
            since: 0,
            window_integral: 0.0,
            peak: if window.start == 0 { initial } else { i64::MIN },
            bucket_integral: vec![0.0; window.buckets()],
        }
    }

    #[inline]
    pub fn value(&self) -> i64 {
        self.value
    }

    /// Adds `delta` to the level at time `now` (non-decreasing across calls).
    #[inline]
    pub fn add(&mut self, window: &Window, now: Nanos, delta: i64) {
        if delta == 0 {
            return;
        }
        self.advance(window, now);
        self.value += delta;
        if window.contains(now) && self.value > self.peak {
            self.peak = self.value;
        }
    }

    fn advance(&mut self, window: &Window, now: Nanos) {
        if now <= self.since {
            return;
        }
        let v = self.value as f64;
        // Window integral.
        let a = self.since.max(window.start);
        let b = now.min(window.end);
        if b > a {
            self.window_integral += v * (b - a) as f64;
        }
        // Bucket integrals (split at bucket edges).
        if v != 0.0 {
            let mut t = self.since;
            let end = now.min(window.end);
            while t < end {
                let i = window.bucket_of(t);
                let edge = ((i as Nanos + 1) * window.bucket).min(end);
                self.bucket_integral[i] += v * (edge - t) as f64;
                t = edge;
            }
        }
        self.since = now;
    }

    /// Closes the books at the end of the window.
    pub fn finish(&mut self, window: &Window) {
        self.advance(window, window.end);
        if self.peak == i64::MIN {
            self.peak = self.value;
        }
    }

    pub fn mean(&self, window: &Window) -> f64 {
        self.window_integral / (window.end - window.start) as f64
    }

    pub fn peak(&self) -> i64 {
        self.peak
    }

    fn bucket_mean(&self, window: &Window, i: usize) -> f64 {
        let start = i as Nanos * window.bucket;
        let width = ((i as Nanos + 1) * window.bucket).min(window.end) - start;
        self.bucket_integral[i] / width as f64
    }
}

/// Counters and distributions of one run.
pub struct Recorder {
    pub window: Window,
    pub requests: u64,
    pub responses: u64,
    pub empty_responses: u64,
    pub handshakes: u64,
    pub rejected: u64,
    pub proxy_timeouts: u64,
    pub reconnects: u64,
    pub bytes_down: u64,
    pub bytes_up: u64,
    pub payload_bytes: u64,
    pub deliveries: u64,
    pub lost: u64,
    /// CPU core-nanoseconds busy inside the window.
    pub busy: f64,
    pub queue_wait_sum: f64,
    pub queue_jobs: u64,
    pub latency: Histogram<u64>,
    latency_sum: f64,
    /// Per bucket: requests, handshakes, deliveries, latency sum (ns), busy core-ns.
    bucket_requests: Vec<u64>,
    bucket_handshakes: Vec<u64>,
    bucket_deliveries: Vec<u64>,
    bucket_latency_sum: Vec<f64>,
    bucket_busy: Vec<f64>,
}

/// Latencies are recorded in nanoseconds from 1 ns to 1 hour with 3 significant digits:
/// a relative error of at most 0.1 % for every percentile.
const LATENCY_MAX: u64 = 3_600 * NS_PER_S;

impl Recorder {
    pub fn new(window: Window) -> Self {
        let n = window.buckets();
        Recorder {
            window,
            requests: 0,
            responses: 0,
            empty_responses: 0,
            handshakes: 0,
            rejected: 0,
            proxy_timeouts: 0,
            reconnects: 0,
            bytes_down: 0,
            bytes_up: 0,
            payload_bytes: 0,
            deliveries: 0,
            lost: 0,
            busy: 0.0,
            queue_wait_sum: 0.0,
            queue_jobs: 0,
            latency: Histogram::new_with_bounds(1, LATENCY_MAX, 3).expect("valid bounds"),
            latency_sum: 0.0,
            bucket_requests: vec![0; n],
            bucket_handshakes: vec![0; n],
            bucket_deliveries: vec![0; n],
            bucket_latency_sum: vec![0.0; n],
            bucket_busy: vec![0.0; n],
        }
    }

    #[inline]
    fn in_window(&self, now: Nanos) -> bool {
        self.window.contains(now)
    }

    /// An HTTP request reached a server.
    #[inline]
    pub fn request(&mut self, now: Nanos) {
        if now < self.window.end {
            self.bucket_requests[self.window.bucket_of(now)] += 1;
        }
        if self.in_window(now) {
            self.requests += 1;
        }
    }

    /// A response that could carry updates left a server; `empty` if it carried none.
    #[inline]
    pub fn response(&mut self, now: Nanos, empty: bool) {
        if self.in_window(now) {
            self.responses += 1;
            self.empty_responses += empty as u64;
        }
    }

    /// A new TCP connection was established.
    #[inline]
    pub fn handshake(&mut self, now: Nanos) {
        if now < self.window.end {
            self.bucket_handshakes[self.window.bucket_of(now)] += 1;
        }
        if self.in_window(now) {
            self.handshakes += 1;
        }
    }

    #[inline]
    pub fn rejected(&mut self, now: Nanos) {
        if self.in_window(now) {
            self.rejected += 1;
        }
    }

    #[inline]
    pub fn proxy_timeout(&mut self, now: Nanos) {
        if self.in_window(now) {
            self.proxy_timeouts += 1;
        }
    }

    #[inline]
    pub fn reconnect(&mut self, now: Nanos) {
        if self.in_window(now) {
            self.reconnects += 1;
        }
    }

    /// Bytes on the wire, counted when they are sent. `payload` is the application-data
    /// part of `bytes` (the rest is headers, framing and handshakes).
    #[inline]
    pub fn bytes(&mut self, now: Nanos, down: bool, bytes: u64, payload: u64) {
        if self.in_window(now) {
            if down {
                self.bytes_down += bytes;
            } else {
                self.bytes_up += bytes;
            }
            self.payload_bytes += payload;
        }
    }

    /// One (update, recipient) pair arrived; `created` is the update's creation time.
    /// Only pairs whose update was created in the window count.
    #[inline]
    pub fn delivery(&mut self, now: Nanos, created: Nanos) {
        if !self.in_window(created) {
            return;
        }
        let latency = now - created;
        self.deliveries += 1;
        self.latency_sum += latency as f64;
        self.latency.saturating_record(latency.max(1));
        let b = self.window.bucket_of(now);
        self.bucket_deliveries[b] += 1;
        self.bucket_latency_sum[b] += latency as f64;
    }

    /// `n` pairs of an update created at `created` were lost.
    #[inline]
    pub fn lost(&mut self, created: Nanos, n: u64) {
        if self.in_window(created) {
            self.lost += n;
        }
    }

    /// A CPU job waited `wait` and then kept a core busy over [start, end).
    #[inline]
    pub fn cpu_job(&mut self, arrival: Nanos, wait: Nanos, start: Nanos, end: Nanos) {
        if self.in_window(arrival) {
            self.queue_wait_sum += wait as f64;
            self.queue_jobs += 1;
        }
        let a = start.max(self.window.start);
        let b = end.min(self.window.end);
        if b > a {
            self.busy += (b - a) as f64;
        }
        // Bucketed busy time, split at bucket edges.
        let mut t = start;
        let end = end.min(self.window.end);
        while t < end {
            let i = self.window.bucket_of(t);
            let edge = ((i as Nanos + 1) * self.window.bucket).min(end);
            self.bucket_busy[i] += (edge - t) as f64;
            t = edge;
        }
    }

    pub fn latency_mean_ns(&self) -> f64 {
        if self.deliveries == 0 {
            0.0
        } else {
            self.latency_sum / self.deliveries as f64
        }
    }

    pub fn duration_s(&self) -> f64 {
        self.window.duration_s()
    }

    /// The time series over the whole run, one point per bucket.
    pub fn timeseries(
        &self,
        connections: &Gauge,
        memory: &Gauge,
        total_cores: u64,
    ) -> Vec<TimePoint> {
        let w = &self.window;
        (0..w.buckets())
            .map(|i| {
                let start = i as Nanos * w.bucket;
                let width = ((i as Nanos + 1) * w.bucket).min(w.end) - start;
                let width_s = secs(width);
                let d = self.bucket_deliveries[i];
                TimePoint {
                    time_s: secs(start),
                    connections: connections.bucket_mean(w, i),
                    requests_per_s: self.bucket_requests[i] as f64 / width_s,
                    handshakes_per_s: self.bucket_handshakes[i] as f64 / width_s,
                    deliveries_per_s: d as f64 / width_s,
                    server_memory_bytes: memory.bucket_mean(w, i),
                    cpu_utilization: self.bucket_busy[i] / (width as f64 * total_cores as f64),
                    latency_mean_s: (d > 0)
                        .then(|| self.bucket_latency_sum[i] / d as f64 / NS_PER_S as f64),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> Window {
        Window {
            start: 10,
            end: 110,
            bucket: 50,
        }
    }

    #[test]
    fn gauge_time_weighted_mean_and_peak_cover_the_window_only() {
        let w = window();
        let mut g = Gauge::new(&w, 0);
        g.add(&w, 0, 100); // before the window: no peak yet
        g.add(&w, 5, -90); // level 10 from t=5
        g.add(&w, 60, 30); // level 40 from t=60
        g.add(&w, 200, 1000); // after the window: ignored
        g.finish(&w);
        // Window [10,110): 10 for 50 ns, 40 for 50 ns → mean 25.
        assert_eq!(g.mean(&w), 25.0);
        assert_eq!(g.peak(), 40);
        // Bucket 0 [0,50): 100 for 5, 10 for 45 → (500+450)/50 = 19.
        assert_eq!(g.bucket_mean(&w, 0), 19.0);
        // Bucket 1 [50,100): 10 for 10, 40 for 40 → 1700/50 = 34.
        assert_eq!(g.bucket_mean(&w, 1), 34.0);
    }

    #[test]
    fn cpu_busy_time_is_clipped_to_the_window() {
        let mut r = Recorder::new(window());
        r.cpu_job(0, 0, 0, 20); // 10 ns inside
        r.cpu_job(50, 5, 55, 65); // 10 ns inside
        r.cpu_job(100, 0, 105, 120); // 5 ns inside
        assert_eq!(r.busy, 25.0);
        assert_eq!(r.queue_jobs, 2);
        assert_eq!(r.queue_wait_sum, 5.0);
    }

    #[test]
    fn deliveries_count_only_updates_created_in_the_window() {
        let mut r = Recorder::new(window());
        r.delivery(20, 5); // created in warm-up
        r.delivery(30, 15);
        r.delivery(60, 20);
        assert_eq!(r.deliveries, 2);
        assert_eq!(r.latency_mean_ns(), 27.5);
    }
}
