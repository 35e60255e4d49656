//! Aggregation over replications: the mean of every metric and the half-width of its
//! 95 % confidence interval (Student t with n − 1 degrees of freedom).

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

/// Aggregates replications of one row, metric by metric.
pub fn aggregate(runs: &[&RunMetrics]) -> (RunMetrics, Option<RunMetrics>) {
    let mut mean = RunMetrics::default();
    let mut ci = RunMetrics::default();
    let mut have_ci = false;
    // Only metrics with a `_ci95` column get a half-width; the others stay 0.
    for col in METRICS.iter().chain(UNWRITTEN) {
        let xs: Vec<f64> = runs.iter().map(|m| col.get(m)).collect();
        let (m, h) = mean_ci(&xs);
        col.set(&mut mean, m);
        if let (Some(h), true) = (h, col.has_ci()) {
            col.set(&mut ci, h);
            have_ci = true;
        }
    }
    (mean, have_ci.then_some(ci))
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
        let (mean, ci) = aggregate(&[&a, &b]);
        assert_eq!(mean.requests_per_s, 15.0);
        assert_eq!(mean.deliveries, 5.0);
        assert!(ci.unwrap().requests_per_s > 0.0);
    }
}
