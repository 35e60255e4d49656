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

    fn bucket_of(&self, t: Nanos) -> usize {
        ((t / self.bucket) as usize).min(self.buckets().saturating_sub(1))
    }

    fn duration_s(&self) -> f64 {
        secs(self.end - self.start)
    }
}

/// A span of simulated time as `f64`, converted through `i64`: one instruction on
/// x86-64, where `u64` to `f64` takes several (a CPU job books three). The same value for
/// every span below 2^63 ns (292 years; validation caps a run at 100).
#[inline]
fn span_f64(span: Nanos) -> f64 {
    debug_assert!(span <= i64::MAX as Nanos);
    span as i64 as f64
}

/// The time-series bucket found last, so that finding it again needs no division:
/// nearly every lookup is for a time in the same bucket as the one before (a 64-bit
/// division costs more than the rest of a counter update).
#[derive(Clone, Copy, Debug)]
struct BucketCursor {
    index: usize,
    /// The bucket's span [start, end); the last bucket extends to the end of time.
    start: Nanos,
    end: Nanos,
}

impl BucketCursor {
    const UNSET: BucketCursor = BucketCursor {
        index: 0,
        start: Nanos::MAX,
        end: 0,
    };

    #[inline]
    fn locate(&mut self, window: &Window, t: Nanos) -> usize {
        if t >= self.start && t < self.end {
            return self.index;
        }
        self.seek(window, t)
    }

    #[cold]
    fn seek(&mut self, window: &Window, t: Nanos) -> usize {
        let i = window.bucket_of(t);
        let last = i + 1 >= window.buckets();
        *self = BucketCursor {
            index: i,
            start: i as Nanos * window.bucket,
            end: if last {
                Nanos::MAX
            } else {
                (i as Nanos + 1) * window.bucket
            },
        };
        i
    }
}

/// A level and the highest value it holds for some time inside the window — several
/// changes at one instant count by their net effect, so the peak does not depend on the
/// order in which simultaneous events run. Changes come in time order.
#[derive(Clone, Debug)]
pub struct HeldPeak {
    value: i64,
    /// When the level last changed.
    since: Nanos,
    /// Highest level held over a stretch of time inside the window, before `since`.
    peak: i64,
}

impl HeldPeak {
    pub fn new(initial: i64) -> Self {
        HeldPeak {
            value: initial,
            since: 0,
            peak: i64::MIN,
        }
    }

    #[inline]
    pub fn add(&mut self, window: &Window, now: Nanos, delta: i64) {
        if delta == 0 {
            return;
        }
        // The peak is the level's over time: a change booked out of order (a step taken
        // early that booked shared memory) would misplace it.
        debug_assert!(
            now >= self.since,
            "a level changed at {now} after {}",
            self.since
        );
        if now > self.since {
            // The level before this change was held over [since, now).
            if now > window.start && self.since < window.end {
                self.peak = self.peak.max(self.value);
            }
            self.since = now;
        }
        self.value += delta;
    }

    #[inline]
    pub fn value(&self) -> i64 {
        self.value
    }

    /// Highest level held in the window (including the one it closes with).
    pub fn peak(&self, window: &Window) -> i64 {
        if self.since < window.end {
            self.peak.max(self.value)
        } else {
            self.peak
        }
    }
}

/// A level that changes at instants: its time-weighted mean over the window, its peak in
/// the window, and its mean per time-series bucket.
///
/// A change of `delta` at `t` adds `delta × (end − max(t, start))` to the area under the
/// level over the window, so each change is booked once, in O(1) and in exact integer
/// arithmetic, with no need to visit the time between changes (a gauge changes on nearly
/// every event). The peak is a [`HeldPeak`]'s.
#[derive(Clone, Debug)]
pub struct Gauge {
    level: HeldPeak,
    /// Level before the run starts (bucket 0 starts at time 0, in the warm-up).
    initial: i64,
    /// Σ delta × (window end − max(t, window start)) over the changes before the end.
    window_area: i128,
    /// Per bucket: the net change in it, and Σ delta × (bucket end − t) of its changes.
    bucket_step: Vec<i64>,
    bucket_area: Vec<i128>,
    cursor: BucketCursor,
}

impl Gauge {
    pub fn new(window: &Window, initial: i64) -> Self {
        Gauge {
            level: HeldPeak::new(initial),
            initial,
            window_area: 0,
            bucket_step: vec![0; window.buckets()],
            bucket_area: vec![0; window.buckets()],
            cursor: BucketCursor::UNSET,
        }
    }

    #[inline]
    pub fn value(&self) -> i64 {
        self.level.value
    }

    /// The level and its peak so far.
    pub fn level(&self) -> &HeldPeak {
        &self.level
    }

    /// Adds `delta` to the level at time `now` (changes come in time order). Most
    /// callers' changes are often zero (a request starting on an open connection moves
    /// memory, not connections): that test is inlined into them, the booking is not.
    #[inline]
    pub fn add(&mut self, window: &Window, now: Nanos, delta: i64) {
        if delta != 0 {
            self.change(window, now, delta);
        }
    }

    fn change(&mut self, window: &Window, now: Nanos, delta: i64) {
        self.level.add(window, now, delta);
        if now >= window.end {
            return;
        }
        // Both factors as signed 64-bit: one widening multiply (a span of time is far
        // below 2^63 ns; as unsigned, the product would take three).
        let span = (window.end - now.max(window.start)) as i64;
        self.window_area += delta as i128 * span as i128;
        let i = self.cursor.locate(window, now);
        let edge = self.cursor.end.min(window.end);
        self.bucket_step[i] += delta;
        self.bucket_area[i] += delta as i128 * (edge - now) as i64 as i128;
    }

    /// Time-weighted mean level over the window.
    pub fn mean(&self, window: &Window) -> f64 {
        let width = (window.end - window.start) as i128;
        let area = self.initial as i128 * width + self.window_area;
        area as f64 / width as f64
    }

    /// Highest level held in the window (including the level it opens with, and the
    /// one it closes with).
    pub fn peak(&self, window: &Window) -> i64 {
        self.level.peak(window)
    }

    /// Mean level in each time-series bucket.
    pub(super) fn bucket_means(&self, window: &Window) -> Vec<f64> {
        let mut level = self.initial as i128;
        (0..window.buckets())
            .map(|i| {
                let start = i as Nanos * window.bucket;
                let width = ((i as Nanos + 1) * window.bucket).min(window.end) - start;
                let area = level * width as i128 + self.bucket_area[i];
                level += self.bucket_step[i] as i128;
                area as f64 / width as f64
            })
            .collect()
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
    /// EventSources failed for good (a non-200 answer).
    pub streams_failed: u64,
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
    cursor: BucketCursor,
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
            streams_failed: 0,
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
            cursor: BucketCursor::UNSET,
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
            let i = self.cursor.locate(&self.window, now);
            self.bucket_requests[i] += 1;
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
            let i = self.cursor.locate(&self.window, now);
            self.bucket_handshakes[i] += 1;
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

    #[inline]
    pub fn stream_failed(&mut self, now: Nanos) {
        if self.in_window(now) {
            self.streams_failed += 1;
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
        self.latency_sum += span_f64(latency);
        self.latency.saturating_record(latency.max(1));
        let b = self.cursor.locate(&self.window, now);
        self.bucket_deliveries[b] += 1;
        self.bucket_latency_sum[b] += span_f64(latency);
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
            self.queue_wait_sum += span_f64(wait);
            self.queue_jobs += 1;
        }
        let a = start.max(self.window.start);
        let b = end.min(self.window.end);
        if b > a {
            self.busy += span_f64(b - a);
        }
        // Bucketed busy time, split at bucket edges.
        let mut t = start;
        let end = end.min(self.window.end);
        while t < end {
            let i = self.cursor.locate(&self.window, t);
            let edge = self.cursor.end.min(end);
            self.bucket_busy[i] += span_f64(edge - t);
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

    /// The time series over the whole run, one entry per bucket (plain totals: the run
    /// layer turns them into rates).
    pub fn series(&self, connections: &Gauge, memory: &Gauge) -> Vec<Bucket> {
        let w = &self.window;
        let connections = connections.bucket_means(w);
        let memory = memory.bucket_means(w);
        (0..w.buckets())
            .map(|i| {
                let start = i as Nanos * w.bucket;
                Bucket {
                    start,
                    width: ((i as Nanos + 1) * w.bucket).min(w.end) - start,
                    connections: connections[i],
                    memory: memory[i],
                    requests: self.bucket_requests[i],
                    handshakes: self.bucket_handshakes[i],
                    deliveries: self.bucket_deliveries[i],
                    latency_sum_ns: self.bucket_latency_sum[i],
                    busy_core_ns: self.bucket_busy[i],
                }
            })
            .collect()
    }
}

/// One time-series bucket of a run: what happened in [start, start + width).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub start: Nanos,
    pub width: Nanos,
    /// Mean open connections and server memory over the bucket.
    pub connections: f64,
    pub memory: f64,
    pub requests: u64,
    pub handshakes: u64,
    pub deliveries: u64,
    /// Sum of the latencies of the bucket's deliveries.
    pub latency_sum_ns: f64,
    /// CPU core-nanoseconds busy in the bucket.
    pub busy_core_ns: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_converts_to_the_float_a_plain_cast_gives() {
        // Rounding included: above 2^53 not every integer is a float.
        for span in [
            0,
            1,
            999,
            (1 << 53) - 1,
            1 << 53,
            (1 << 53) + 1,
            (1 << 62) + 12_345,
            i64::MAX as Nanos,
        ] {
            assert_eq!(span_f64(span).to_bits(), (span as f64).to_bits(), "{span}");
        }
    }

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
        // Window [10,110): 10 for 50 ns, 40 for 50 ns → mean 25.
        assert_eq!(g.mean(&w), 25.0);
        assert_eq!(g.peak(&w), 40);
        let buckets = g.bucket_means(&w);
        // Bucket 0 [0,50): 100 for 5, 10 for 45 → (500+450)/50 = 19.
        assert_eq!(buckets[0], 19.0);
        // Bucket 1 [50,100): 10 for 10, 40 for 40 → 1700/50 = 34.
        assert_eq!(buckets[1], 34.0);
        // Bucket 2 [100,110): 40 throughout.
        assert_eq!(buckets[2], 40.0);
    }

    #[test]
    fn gauge_peak_includes_the_level_the_window_opens_with() {
        // Only decreases inside the window: the peak is the level at its start.
        let w = window();
        let mut g = Gauge::new(&w, 0);
        g.add(&w, 2, 50);
        g.add(&w, 30, -20);
        g.add(&w, 60, -20);
        assert_eq!(g.peak(&w), 50);
        // 50 for 20 ns, 30 for 30, 10 for 50 → 2400/100.
        assert_eq!(g.mean(&w), 24.0);
    }

    #[test]
    fn gauge_matches_a_step_by_step_integral() {
        // Random changes against a direct sum of level × duration over every nanosecond
        // span: the O(1) booking must agree exactly.
        let w = Window {
            start: 1_000,
            end: 9_000,
            bucket: 700,
        };
        let mut g = Gauge::new(&w, 5);
        let mut x: u64 = 99;
        let mut t = 0;
        let mut changes = vec![];
        while t < 10_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            t += (x >> 40) % 97;
            let delta = ((x >> 20) % 21) as i64 - 10;
            g.add(&w, t, delta);
            changes.push((t, delta));
        }
        let level_at = |u: u64| {
            5 + changes
                .iter()
                .filter(|c| c.0 <= u)
                .map(|c| c.1)
                .sum::<i64>()
        };
        let area = |a: u64, b: u64| (a..b).map(|u| level_at(u) as i128).sum::<i128>();
        let expected = area(w.start, w.end) as f64 / (w.end - w.start) as f64;
        assert_eq!(g.mean(&w), expected);
        let peak = (w.start..w.end).map(level_at).max().unwrap();
        assert_eq!(g.peak(&w), peak);
        for (i, mean) in g.bucket_means(&w).into_iter().enumerate() {
            let a = i as u64 * w.bucket;
            let b = (a + w.bucket).min(w.end);
            assert_eq!(mean, area(a, b) as f64 / (b - a) as f64, "bucket {i}");
        }
    }

    #[test]
    fn bucket_cursor_agrees_with_division_everywhere() {
        let w = Window {
            start: 10,
            end: 1_000,
            bucket: 70,
        };
        let mut cursor = BucketCursor::UNSET;
        let mut x: u64 = 7;
        for _ in 0..10_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            // Mostly nearby times, sometimes far past the end (the last bucket).
            let t = (x >> 33) % 1_500;
            assert_eq!(cursor.locate(&w, t), w.bucket_of(t), "t = {t}");
        }
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
