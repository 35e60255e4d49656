//! Aggregation over replications: the mean of every metric and the half-width of its
//! 95 % confidence interval (Student t with n − 1 degrees of freedom).
//!
//! A metric with no sample in some replication ([`crate::results::NO_SAMPLE`], e.g. a
//! latency when nothing was delivered) has no mean: the row's cell is empty, and the
//! count of replications without a sample is kept for the warning. Averaging only the
//! replications that had a sample would report the healthy ones as the row.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::columns::{METRICS, UNWRITTEN};
use crate::results::RunMetrics;

/// The two-sided 95 % Student t quantile t(0.975, df). statrs is exact for small df but
/// is wrong at df = 10^7 and never returns at df ≥ 10^8 (statrs 0.19), where the normal
/// quantile is the limit anyway.
pub fn t975(df: u64) -> f64 {
    if df > 1000 {
        return 1.959_963_984_540_054;
    }
    StudentsT::new(0.0, 1.0, df as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// Mean and 95 % CI half-width of `xs` (half-width `None` with fewer than 2 values).
pub fn mean_ci(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, None);
    }
    // Sequential sums in a fixed order: the same bits whatever ran where.
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, None);
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    (mean, Some(t975(n as u64 - 1) * (var / n as f64).sqrt()))
}

/// Replications of one row, aggregated.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    pub mean: RunMetrics,
    /// Half-widths; `None` with fewer than 2 replications.
    pub ci95: Option<RunMetrics>,
    /// (metric, replications without a sample), for metrics some replication had no
    /// sample of; their mean and half-width are NaN (empty cells).
    pub unsampled: Vec<(String, u32)>,
}

/// Aggregates replications of one row, metric by metric.
pub fn aggregate(runs: &[&RunMetrics]) -> Aggregate {
    let mut mean = RunMetrics::default();
    let mut ci = RunMetrics::default();
    let mut have_ci = false;
    let mut unsampled = Vec::new();
    // Only metrics with a `_ci95` column get a half-width; the others stay 0.
    for col in METRICS.iter().chain(UNWRITTEN) {
        let xs: Vec<f64> = runs.iter().map(|m| col.get(m)).collect();
        let missing = xs.iter().filter(|x| x.is_nan()).count();
        let (m, h) = if missing > 0 {
            unsampled.push((col.name().to_string(), missing as u32));
            (f64::NAN, (xs.len() >= 2).then_some(f64::NAN))
        } else {
            mean_ci(&xs)
        };
        col.set(&mut mean, m);
        if let (Some(h), true) = (h, col.has_ci()) {
            col.set(&mut ci, h);
            have_ci = true;
        }
    }
    Aggregate {
        mean,
        ci95: have_ci.then_some(ci),
        unsampled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_quantiles() {
        assert!((t975(4) - 2.776_445).abs() < 1e-5);
        assert!((t975(9) - 2.262_157).abs() < 1e-5);
        assert_eq!(t975(10_000_000), 1.959_963_984_540_054);
    }

    #[test]
    fn mean_and_interval() {
        let (m, h) = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m, 3.0);
        // s = sqrt(2.5), h = 2.776445 * sqrt(2.5/5)
        assert!((h.unwrap() - 2.776_445 * 0.5f64.sqrt()).abs() < 1e-5);
        assert_eq!(mean_ci(&[7.0]), (7.0, None));
    }

    #[test]
    fn aggregate_covers_every_metric() {
        let a = RunMetrics {
            requests_per_s: 10.0,
            deliveries: 4.0,
            ..Default::default()
        };
        let b = RunMetrics {
            requests_per_s: 20.0,
            deliveries: 6.0,
            ..Default::default()
        };
        let Aggregate {
            mean,
            ci95,
            unsampled,
        } = aggregate(&[&a, &b]);
        assert_eq!(mean.requests_per_s, 15.0);
        assert_eq!(mean.deliveries, 5.0);
        assert!(ci95.unwrap().requests_per_s > 0.0);
        assert!(unsampled.is_empty());
    }

    #[test]
    fn a_metric_without_a_sample_in_one_replication_has_no_mean() {
        let healthy = RunMetrics {
            latency_mean_s: 0.03,
            queue_wait_mean_s: 0.001,
            ..Default::default()
        };
        let starved = RunMetrics {
            latency_mean_s: crate::results::NO_SAMPLE,
            queue_wait_mean_s: 0.002,
            ..Default::default()
        };
        let agg = aggregate(&[&healthy, &starved, &healthy]);
        assert!(agg.mean.latency_mean_s.is_nan());
        assert!(agg.ci95.as_ref().unwrap().latency_mean_s.is_nan());
        assert!((agg.mean.queue_wait_mean_s - 0.004 / 3.0).abs() < 1e-15);
        assert_eq!(agg.unsampled, vec![("latency_mean_s".to_string(), 1)]);
        // One replication without a sample: no mean, no interval.
        let one = aggregate(&[&starved]);
        assert!(one.mean.latency_mean_s.is_nan());
        assert!(one.ci95.is_none());
    }
}
