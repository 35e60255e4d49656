//! What a run produces: the measured metrics of one simulation ([`RunMetrics`]), its
//! time series, and the aggregated result row ([`Row`]) that the reports write.
//!
//! The names under which these are written, and in which order, are the column list's
//! (`crate::columns`); this module only holds the numbers.

use serde::{Deserialize, Deserializer, Serialize};

use crate::scenario::Technique;

/// The value of a metric that had no sample in the measured window: a latency when no
/// (update, recipient) pair was delivered, a queue wait when no CPU work was done, an
/// empty share when no response was sent, an overhead share when no byte crossed. It is
/// not 0 — nothing delivered is not zero latency — and the reports write it as an empty
/// CSV cell, `null` in JSON and `n/a` in words. Test with `f64::is_nan`.
pub const NO_SAMPLE: f64 = f64::NAN;

/// The metrics of [`RunMetrics`] that are an average or a share over samples, and so have
/// no value ([`NO_SAMPLE`]) when the window holds none. Every other metric is a count,
/// a rate or a gauge, which is 0 when nothing happened.
pub const SAMPLED: [&str; 9] = [
    "empty_response_fraction",
    "latency_mean_s",
    "latency_p50_s",
    "latency_p99_s",
    "latency_max_s",
    "queue_wait_mean_s",
    "overhead_fraction",
    "backplane_utilization",
    "backplane_wait_mean_s",
];

/// Everything one simulation run measured, over the measured window only. A metric of
/// [`SAMPLED`] is [`NO_SAMPLE`] when the window held no sample of it. Two runs' metrics are
/// equal when every metric is, "no sample" equal to "no sample".
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunMetrics {
    pub requests_per_s: f64,
    #[serde(deserialize_with = "no_sample_if_null")]
    pub empty_response_fraction: f64,
    #[serde(deserialize_with = "no_sample_if_null")]
    pub latency_mean_s: f64,
    #[serde(deserialize_with = "no_sample_if_null")]
    pub latency_p50_s: f64,
    #[serde(deserialize_with = "no_sample_if_null")]
    pub latency_p99_s: f64,
    #[serde(deserialize_with = "no_sample_if_null")]
    pub latency_max_s: f64,
    pub connections_mean: f64,
    pub connections_peak: f64,
    pub server_memory_mean_bytes: f64,
    pub server_memory_peak_bytes: f64,
    pub cpu_utilization: f64,
    #[serde(deserialize_with = "no_sample_if_null")]
    pub queue_wait_mean_s: f64,
    pub bytes_down_per_s: f64,
    pub bytes_up_per_s: f64,
    #[serde(deserialize_with = "no_sample_if_null")]
    pub overhead_fraction: f64,
    pub handshakes_per_s: f64,
    pub deliveries: f64,
    pub lost: f64,
    pub in_flight: f64,
    /// Pairs pending at the end for a tab whose request waits in its browser for a
    /// connection or stream: never sent (a stalled SSE tab's never will be), so not
    /// counted in flight.
    pub stalled_pairs: f64,
    pub rejected_connections: f64,
    pub proxy_timeouts: f64,
    pub reconnects: f64,
    /// EventSources failed for good in the window (a non-200 answer to an SSE request).
    pub streams_failed: f64,
    /// Connections held at the server per user (a user's tabs share its browser's),
    /// time-averaged: `connections_mean` ÷ (clients ÷ tabs).
    pub connections_per_user: f64,
    /// Server memory per user above the instances' base, time-averaged.
    pub memory_per_user_bytes: f64,
    /// Requests per user waiting in the browser for a connection (HTTP/1.1, 6 per
    /// origin) or a stream (HTTP/2, `max_concurrent_streams`), time-averaged: a stalled
    /// tab receives nothing.
    pub stalled_per_user: f64,
    pub instances_needed: f64,
    /// Share of the window the busiest backplane node spent serving; no sample with one
    /// instance (no backplane).
    #[serde(deserialize_with = "no_sample_if_null")]
    pub backplane_utilization: f64,
    /// Mean wait of an update in its backplane node's queue; no sample with one instance.
    #[serde(deserialize_with = "no_sample_if_null")]
    pub backplane_wait_mean_s: f64,
    /// (update, recipient) pairs created in the window: deliveries + lost + in_flight +
    /// stalled_pairs.
    pub published_pairs: f64,
    /// Simulated events processed (whole run, warm-up included): a cost figure.
    pub events: f64,
}

/// A metric of [`SAMPLED`] read back (shard files): JSON writes [`NO_SAMPLE`] as `null`.
fn no_sample_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(NO_SAMPLE))
}

impl PartialEq for RunMetrics {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
        crate::columns::METRICS
            .iter()
            .chain(crate::columns::UNWRITTEN)
            .all(|c| same(c.get(self), c.get(other)))
    }
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
    /// Metrics of [`SAMPLED`] that had no sample in some replications: (metric, how many
    /// replications lacked one). Their mean is then [`NO_SAMPLE`] — a mean over the
    /// replications that had one would hide the others (the overloaded ones) — and the
    /// run warns. Empty for rows read back from `results.csv`.
    #[serde(default)]
    pub unsampled: Vec<(String, u32)>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_metrics_are_metrics_and_no_sample_survives_json() {
        for name in SAMPLED {
            assert!(crate::columns::metric(name).is_some(), "{name}");
        }
        let m = RunMetrics {
            latency_mean_s: NO_SAMPLE,
            requests_per_s: 3.0,
            ..Default::default()
        };
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains("\"latency_mean_s\":null"), "{text}");
        let back: RunMetrics = serde_json::from_str(&text).unwrap();
        assert!(back.latency_mean_s.is_nan());
        assert_eq!(back, m);
    }
}
