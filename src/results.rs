//! What a run produces: the measured metrics of one simulation ([`RunMetrics`]), its
//! time series, and the aggregated result row ([`Row`]) that the reports write.
//!
//! Column names are a public contract (the README lists them): scripts and notebooks read them.
//! [`METRICS`] lists every metric column in output order, with whether it carries a
//! `_ci95` companion column.

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
    pub instances_needed: f64,
    /// (update, recipient) pairs created in the window: deliveries + lost + in_flight.
    pub published_pairs: f64,
    /// Simulated events processed (whole run, warm-up included): a cost figure.
    pub events: f64,
}

/// How a metric column is aggregated and reported.
pub struct MetricColumn {
    pub name: &'static str,
    /// Carries a `<name>_ci95` column (every `_s`, `_per_s`, `_bytes`, `_fraction`).
    pub has_ci: bool,
    pub get: fn(&RunMetrics) -> f64,
    pub set: fn(&mut RunMetrics, f64),
}

macro_rules! metric_columns {
    ($($field:ident : $ci:expr),* $(,)?) => {
        /// Every metric column, in output order.
        pub const METRICS: &[MetricColumn] = &[
            $(MetricColumn {
                name: stringify!($field),
                has_ci: $ci,
                get: |m| m.$field,
                set: |m, v| m.$field = v,
            }),*
        ];
    };
}

metric_columns! {
    requests_per_s: true,
    empty_response_fraction: true,
    latency_mean_s: true,
    latency_p50_s: true,
    latency_p99_s: true,
    latency_max_s: true,
    connections_mean: false,
    connections_peak: false,
    server_memory_mean_bytes: true,
    server_memory_peak_bytes: true,
    cpu_utilization: false,
    queue_wait_mean_s: true,
    bytes_down_per_s: true,
    bytes_up_per_s: true,
    overhead_fraction: true,
    handshakes_per_s: true,
    deliveries: false,
    lost: false,
    in_flight: false,
    rejected_connections: false,
    proxy_timeouts: false,
    reconnects: false,
    instances_needed: false,
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
    /// Closed-form predictions, aligned with `theory::PREDICTED` (`theory_<metric>`
    /// columns); `None` where no closed form applies. Empty when not computed.
    pub theory: Vec<Option<f64>>,
}
