//! What a run produces: the measured metrics of one simulation ([`RunMetrics`]), its
//! time series, and the aggregated result row ([`Row`]) that the reports write.
//!
//! The names under which these are written, and in which order, are the column list's
//! (`crate::columns`); this module only holds the numbers.

use serde::{Deserialize, Serialize};

use crate::scenario::Technique;

/// Everything one simulation run measured, over the measured window only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    pub requests_per_s: f64,
    pub empty_response_fraction: f64,
    pub latency_mean_s: f64,
    pub latency_p50_s: f64,
    pub latency_p99_s: f64,
    pub latency_max_s: f64,
    pub connections_mean: f64,
    pub connections_peak: f64,
    pub server_memory_mean_bytes: f64,
    pub server_memory_peak_bytes: f64,
    pub cpu_utilization: f64,
    pub queue_wait_mean_s: f64,
    pub bytes_down_per_s: f64,
    pub bytes_up_per_s: f64,
    pub overhead_fraction: f64,
    pub handshakes_per_s: f64,
    pub deliveries: f64,
    pub lost: f64,
    pub in_flight: f64,
    pub rejected_connections: f64,
    pub proxy_timeouts: f64,
    pub reconnects: f64,
    /// EventSources failed for good in the window (a non-200 answer to an SSE request).
    pub streams_failed: f64,
    pub instances_needed: f64,
    /// (update, recipient) pairs created in the window: deliveries + lost + in_flight.
    pub published_pairs: f64,
    /// Simulated events processed (whole run, warm-up included): a cost figure.
    pub events: f64,
}

/// One line of `timeseries.csv` (one bucket of simulated time).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimePoint {
    /// Start of the bucket, seconds since the start of the run (warm-up included).
    pub time_s: f64,
    pub connections: f64,
    pub requests_per_s: f64,
    pub handshakes_per_s: f64,
    pub deliveries_per_s: f64,
    pub server_memory_bytes: f64,
    pub cpu_utilization: f64,
    /// Empty when nothing was delivered in the bucket.
    pub latency_mean_s: Option<f64>,
}

/// Output of one simulation run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    pub metrics: RunMetrics,
    pub timeseries: Vec<TimePoint>,
}

/// One result row: a technique at one sweep point, averaged over replications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub technique: Technique,
    pub clients: u32,
    /// Short-polling interval in seconds; `None` for the other techniques.
    pub poll_interval_s: Option<f64>,
    /// One (dotted path, value as written) per swept parameter, in sweep order. Values
    /// that do not apply to this technique are empty strings.
    pub sweep: Vec<(String, String)>,
    pub replications: u32,
    /// Mean over replications.
    pub mean: RunMetrics,
    /// Half-width of the 95 % Student-t interval; `None` with fewer than 2 replications.
    pub ci95: Option<RunMetrics>,
    /// The first replication's time series.
    pub timeseries: Vec<TimePoint>,
}

impl Row {
    /// The value of sweep key `key` as written (empty when the row does not carry it).
    pub fn sweep_value(&self, key: &str) -> &str {
        self.sweep
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
}
