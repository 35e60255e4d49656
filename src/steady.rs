//! Is a row's measured window in steady state? The end of the initial transient is
//! *detected* from the row's time series with MSER-5, not assumed from the warm-up.
//!
//! MSER (Marginal Standard Error Rule; White 1997, "An effective truncation heuristic for
//! bias reduction in simulation output", Simulation 69(6); MSER-5 in White, Cobb & Spratt
//! 2000, see `docs/model.md`) truncates the first `d` observations of an output series
//! where the squared standard error of the remaining mean, Σ (Zⱼ − Z̄_d)² / (k − d)², is
//! smallest. MSER-5 applies it to means of batches of 5 observations. A transient raises
//! the spread of what it keeps; cutting too much leaves too few observations: the minimum
//! balances the two. The search covers the first half of the series only: a minimum at
//! that limit means the run is too short to show where the transient ends; a transient
//! longer than half the run is not cut at all (no cut within the search removes it).
//! So when the whole-run cut lies within the warm-up, [`detect`] also applies MSER-5 to
//! the measured window alone: a transient that goes on into it is found there.
//!
//! The time series covers the whole run, warm-up included (`timeseries.csv` starts at
//! time 0), one bucket per `timeseries_bucket`, so the detector sees the start-up.
//! [`detect`] runs MSER-5 on every whole-run series of a row (requests, handshakes,
//! connections, CPU) and reports a transient only when its end lies after the warm-up
//! *and* it moves the window's mean: by at least [`MIN_BIAS`] of it and by more than
//! twice the standard error of the difference (batch means). [`Transient::sentence`] is
//! the one wording of a finding, shared by `rtsim run`'s warning and `explain`.
//!
//! A fault injected in the measured window (`[[faults]]`, a crash at a set time) is not a
//! start-up transient: it is what a faults lesson measures. [`detect_row`] judges the
//! start-up on the series *before* the first such fault only (the window from the warm-up
//! to the fault); what the fault does after it is reported in the row's own metrics
//! (reconnects, lost, latency_max_s), not as a transient. A fault during the warm-up is
//! part of the start-up and is judged with it.

use crate::engine::time::secs;
use crate::results::TimePoint;
use crate::scenario::Scenario;

/// Observations per batch: MSER-5.
pub const BATCH: usize = 5;

/// Fewer batches than this and the series says nothing about its transient.
pub const MIN_BATCHES: usize = 8;

/// A transient that moves the window's mean by less than this fraction is not reported
/// for its mean: below the tightest tolerance theory holds the simulation to (1 %).
pub const MIN_BIAS: f64 = 0.01;

/// A transient is also reported when cutting it (from the warm-up to MSER's truncation)
/// shrinks the MSER statistic — the squared standard error of the mean — this many times:
/// waves that inflate the spread more than they move the mean (long-poll timeouts). On
/// stationary noise the ratio stayed below 2.7 in 99 % of 400 replications of series of
/// 100 to 640 observations (a Python sketch of the same rule).
pub const MIN_SPREAD_RATIO: f64 = 3.0;

/// Where MSER truncates a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Truncation {
    /// Batches to drop (d*).
    pub batches: usize,
    /// The same in observations: d* × batch.
    pub observations: usize,
    /// The minimum reached at the end of the search (the first half of the series): the
    /// transient may last longer than the series can show.
    pub at_limit: bool,
}

/// MSER-`batch` truncation of `series`: `None` when it has fewer than [`MIN_BATCHES`]
/// whole batches (a partial batch at the end is dropped, as White does). Ties keep the
/// smallest truncation; a constant series is not truncated.
pub fn mser(series: &[f64], batch: usize) -> Option<Truncation> {
    let curve = mser_curve(series, batch)?;
    let limit = curve.len() - 1;
    let mut best = (0, f64::INFINITY);
    for (d, &stat) in curve.iter().enumerate() {
        if stat < best.1 {
            best = (d, stat);
        }
    }
    Some(Truncation {
        batches: best.0,
        observations: best.0 * batch.max(1),
        at_limit: best.0 == limit && limit > 0,
    })
}

/// The MSER statistic Σ_{j>d} (Zⱼ − Z̄_d)² / (k − d)² of the batch means Zⱼ for every
/// truncation d from 0 to k/2 (the first half of the series).
fn mser_curve(series: &[f64], batch: usize) -> Option<Vec<f64>> {
    let batch = batch.max(1);
    let k = series.len() / batch;
    if k < MIN_BATCHES {
        return None;
    }
    let z: Vec<f64> = series
        .chunks_exact(batch)
        .map(|c| c.iter().sum::<f64>() / batch as f64)
        .collect();
    // Mean and sum of squared deviations of every suffix, accumulated from the end by
    // Welford's update: each d costs O(1), and a constant suffix gives exactly 0 (sums of
    // Z and Z² would leave rounding noise that a ratio of two statistics magnifies).
    let mut m2 = vec![0.0; k];
    let (mut mean, mut acc) = (0.0, 0.0);
    for j in (0..k).rev() {
        let n = (k - j) as f64;
        let delta = z[j] - mean;
        mean += delta / n;
        acc += delta * (z[j] - mean);
        m2[j] = acc.max(0.0);
    }
    Some(
        (0..=k / 2)
            .map(|d| {
                let m = (k - d) as f64;
                m2[d] / (m * m)
            })
            .collect(),
    )
}

/// Reads one series' value from a bucket.
pub type Reading = fn(&TimePoint) -> f64;

/// The whole-run series the detector looks at: its name (a `timeseries.csv` column)
/// and value.
pub const SERIES: [(&str, Reading); 4] = [
    ("requests_per_s", |p| p.requests_per_s),
    ("handshakes_per_s", |p| p.handshakes_per_s),
    ("connections", |p| p.connections),
    ("cpu_utilization", |p| p.cpu_utilization),
];

/// A start-up transient that reaches into the measured window.
#[derive(Clone, Debug, PartialEq)]
pub struct Transient {
    /// The series it shows in most (the largest relative bias).
    pub series: &'static str,
    /// Where MSER-5 says it ends, seconds since the start of the run: a warm-up this long
    /// would suffice.
    pub ends_at_s: f64,
    /// The series' mean over the measured window, as published.
    pub window_mean: f64,
    /// Its mean after the transient: the steady value.
    pub steady_mean: f64,
    /// (window mean − steady mean) ÷ |steady mean| (infinite when the steady mean is 0):
    /// how much the published figure of this series is off.
    pub bias: f64,
    /// MSER's statistic truncated at the warm-up ÷ at the transient's end (≥ 1): how much
    /// the transient inflates the squared standard error of the window's mean.
    pub spread_ratio: f64,
    /// The truncation hit the end of MSER's search: the transient may last longer than
    /// `ends_at_s`; lengthen warm-up and duration.
    pub at_limit: bool,
}

impl Transient {
    /// The finding in words, for a row measured after `warmup_s`.
    pub fn sentence(&self, warmup_s: f64) -> String {
        let ends = if self.at_limit {
            format!(
                "has not ended by {:.0} s (MSER-5 reached the end of its search: the run is too \
                 short to show where it ends; lengthen warm-up and duration)",
                self.ends_at_s
            )
        } else {
            format!(
                "ends at {:.0} s (MSER-5): a warm-up of {} s would suffice",
                self.ends_at_s,
                self.ends_at_s.ceil()
            )
        };
        let off = if self.steady_mean != 0.0 {
            format!(" ({:+.1} %)", 100.0 * self.bias)
        } else {
            String::new()
        };
        let spread = if self.spread_ratio >= MIN_SPREAD_RATIO {
            if self.spread_ratio.is_finite() {
                format!(
                    ", and its swings inflate the squared standard error of the mean {:.1}×",
                    self.spread_ratio
                )
            } else {
                ", and it varies where the steady state does not".to_string()
            }
        } else {
            String::new()
        };
        format!(
            "start-up transient in the measured window: {} averages {} there against {} after \
             the transient{off}{spread}; the warm-up is {} s and the transient {ends}",
            self.series,
            short(self.window_mean),
            short(self.steady_mean),
            warmup_s
        )
    }
}

/// A number in 4 significant digits, without exponent for everyday magnitudes.
fn short(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 {
        "0".into()
    } else if (1e-3..1e7).contains(&a) {
        let digits = (3 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    } else {
        format!("{x:.3e}")
    }
}

/// What the detector says of one row.
#[derive(Clone, Debug, PartialEq)]
pub enum Steadiness {
    /// No transient in the measured window (or none that moves its means).
    Steady,
    /// The window still contains the start-up transient.
    Transient(Transient),
    /// Too few buckets to tell (fewer than [`MIN_BATCHES`] × [`BATCH`]).
    TooFewBuckets {
        buckets: usize,
        /// The series was cut at a fault at this time (s): only the buckets before it count.
        before_fault_s: Option<f64>,
    },
}

/// The first fault injected at or after the end of the warm-up (s since the start of the
/// run): the detector judges the start-up on the series before it. Faults during the
/// warm-up belong to the start-up.
pub fn first_fault_in_window(sc: &Scenario) -> Option<f64> {
    sc.faults
        .iter()
        .filter(|f| f.at >= sc.warmup)
        .map(|f| secs(f.at))
        .min_by(f64::total_cmp)
}

/// [`detect`] for a row simulated from `sc`: the series up to the first fault in the
/// measured window ([`first_fault_in_window`]; a bucket holding it is left out), the
/// whole series without one.
pub fn detect_row(timeseries: &[TimePoint], sc: &Scenario) -> Steadiness {
    let warmup_s = secs(sc.warmup);
    let Some(fault_s) = first_fault_in_window(sc) else {
        return detect(timeseries, warmup_s);
    };
    let bucket_s = secs(sc.timeseries_bucket.max(1));
    let before = timeseries
        .iter()
        .take_while(|p| p.time_s + bucket_s <= fault_s + 1e-9)
        .count();
    let window = timeseries[..before]
        .iter()
        .filter(|p| p.time_s >= warmup_s - 1e-9)
        .count();
    if window == 0 {
        return Steadiness::TooFewBuckets {
            buckets: 0,
            before_fault_s: Some(fault_s),
        };
    }
    match detect(&timeseries[..before], warmup_s) {
        Steadiness::TooFewBuckets { buckets, .. } => Steadiness::TooFewBuckets {
            buckets,
            before_fault_s: Some(fault_s),
        },
        verdict => verdict,
    }
}

/// Runs MSER-5 on each whole-run series of a row's time series (`timeseries`, starting
/// at time 0) and compares its truncation with the warm-up (`warmup_s`).
pub fn detect(timeseries: &[TimePoint], warmup_s: f64) -> Steadiness {
    if timeseries.len() < MIN_BATCHES * BATCH {
        return Steadiness::TooFewBuckets {
            buckets: timeseries.len(),
            before_fault_s: None,
        };
    }
    let mut worst: Option<Transient> = None;
    let Some(first) = timeseries.iter().position(|p| p.time_s >= warmup_s - 1e-9) else {
        return Steadiness::Steady;
    };
    for (name, get) in SERIES {
        let values: Vec<f64> = timeseries.iter().map(get).collect();
        let (Some(t), Some(curve)) = (mser(&values, BATCH), mser_curve(&values, BATCH)) else {
            continue;
        };
        // (the cut, MSER's statistic from the warm-up and at the cut, the cut at the
        // end of its search)
        let in_window = t.observations <= first;
        let (cut, from_warmup, at_cut, at_limit) = if in_window {
            // The whole-run cut lies in the warm-up. Its search covers the run's first
            // half only, and a transient longer than that is not cut at all (truncating
            // part of it cannot lower the statistic): it may reach into the window, where
            // the whole-run search cannot look. MSER-5 on the window alone says.
            let window = &values[first..];
            let (Some(w), Some(wcurve)) = (mser(window, BATCH), mser_curve(window, BATCH)) else {
                continue;
            };
            (
                first + w.observations,
                wcurve[0],
                wcurve[w.batches],
                w.at_limit,
            )
        } else {
            (
                t.observations,
                curve[first.div_ceil(BATCH).min(curve.len() - 1)],
                curve[t.batches],
                t.at_limit,
            )
        };
        let Some(end) = timeseries.get(cut) else {
            continue;
        };
        if cut <= first || end.time_s <= warmup_s + 1e-9 {
            continue;
        }
        let spread_ratio = if at_cut > 0.0 {
            from_warmup / at_cut
        } else if from_warmup > 0.0 {
            f64::INFINITY
        } else {
            1.0
        };
        let (window_mean, steady_mean, bias, moved) = window_bias(&values, first, cut);
        // Swings count only if they are material: their root-mean-square distance from
        // the steady mean is at least MIN_BIAS of it (any, when the steady value is 0).
        let pre = &values[first..cut];
        let rms =
            (pre.iter().map(|x| (x - steady_mean).powi(2)).sum::<f64>() / pre.len() as f64).sqrt();
        // In the window alone only a moved mean counts: swings are the whole-run test's
        // (waves start with the run), and a second look at the window on swings alone
        // would double its chance of mistaking noise for them.
        let swings =
            !in_window && spread_ratio >= MIN_SPREAD_RATIO && rms > MIN_BIAS * steady_mean.abs();
        if !(moved || swings) {
            continue;
        }
        let found = Transient {
            series: name,
            ends_at_s: end.time_s,
            window_mean,
            steady_mean,
            bias,
            spread_ratio,
            at_limit,
        };
        // The latest end is the warm-up that suffices for every series.
        if worst.as_ref().is_none_or(|w| found.ends_at_s > w.ends_at_s) {
            worst = Some(found);
        }
    }
    match worst {
        Some(t) => Steadiness::Transient(t),
        None => Steadiness::Steady,
    }
}

/// The window's mean (observations from `first` on), the mean after observation `cut`,
/// the relative bias between them, and whether the transient before `cut` moves the
/// window's mean: by at least [`MIN_BIAS`] and by more than twice the standard error of
/// the difference (batch means of [`BATCH`] after the cut give the variance).
fn window_bias(values: &[f64], first: usize, cut: usize) -> (f64, f64, f64, bool) {
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let window = mean(&values[first..]);
    let before = mean(&values[first..cut]);
    let after_values = &values[cut..];
    let after = mean(after_values);
    let bias = if after != 0.0 {
        (window - after) / after.abs()
    } else if window != 0.0 {
        f64::INFINITY.copysign(window)
    } else {
        0.0
    };
    let batches: Vec<f64> = after_values.chunks_exact(BATCH).map(mean).collect();
    if batches.len() < 2 {
        return (window, after, bias, false);
    }
    let var = batches.iter().map(|b| (b - after).powi(2)).sum::<f64>() / (batches.len() - 1) as f64;
    // Variance of one observation's share, from batch means of BATCH.
    let per_obs = var * BATCH as f64;
    let se = (per_obs / (cut - first) as f64 + per_obs / after_values.len() as f64).sqrt();
    let moved = (before - after).abs() > 2.0 * se && bias.abs() >= MIN_BIAS;
    (window, after, bias, moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Purpose, RandomStream};

    /// Noise with mean 0 and standard deviation about 1 (a sum of 12 uniforms − 6).
    fn noise(rng: &mut RandomStream) -> f64 {
        (0..12).map(|_| rng.uniform()).sum::<f64>() - 6.0
    }

    fn rng(k: u32) -> RandomStream {
        RandomStream::new(7, 11, k, Purpose::Phase)
    }

    #[test]
    fn a_constant_series_is_not_truncated() {
        let t = mser(&[3.0; 100], BATCH).unwrap();
        assert_eq!(t.batches, 0);
        assert!(!t.at_limit);
    }

    #[test]
    fn too_short_a_series_says_nothing() {
        assert_eq!(mser(&[1.0; 39], BATCH), None);
        assert!(mser(&[1.0; 40], BATCH).is_some());
    }

    #[test]
    fn a_step_is_cut_at_its_edge() {
        // 60 observations at 10, then 440 at 0 ± 1. MSER never cuts before the step, and
        // usually cuts at it; it overshoots when the noise makes the first batches after
        // the step look like outliers (1.4 standard deviations of a batch mean suffice at
        // this length): in 200 replications (a Python sketch of the same rule), 64 % at
        // 60, 88 % within 3 batches, a tail to 165.
        let cuts: Vec<usize> = (0..20)
            .map(|k| {
                let mut r = rng(k);
                let series: Vec<f64> = (0..500)
                    .map(|i| if i < 60 { 10.0 } else { 0.0 } + noise(&mut r))
                    .collect();
                mser(&series, BATCH).unwrap().observations
            })
            .collect();
        assert!(cuts.iter().all(|&c| c >= 60), "{cuts:?}");
        let at_step = cuts.iter().filter(|&&c| c == 60).count();
        let close = cuts.iter().filter(|&&c| c <= 75).count();
        assert!(at_step >= 10 && close >= 15, "{cuts:?}");
    }

    #[test]
    fn an_exponential_decay_is_cut_where_it_sinks_into_the_noise() {
        // 20·e^(−i/20) + noise of sd 1: the bias falls below the noise near i = 20·ln 20
        // ≈ 60; MSER cuts between 30 and 120 in every replication.
        for k in 0..20 {
            let mut r = rng(100 + k);
            let series: Vec<f64> = (0..1000)
                .map(|i| 20.0 * (-(i as f64) / 20.0).exp() + noise(&mut r))
                .collect();
            let t = mser(&series, BATCH).unwrap();
            assert!(
                (30..=120).contains(&t.observations),
                "replication {k}: cut at {}",
                t.observations
            );
        }
    }

    #[test]
    fn stationary_noise_is_barely_truncated() {
        // No transient: the cut is small (chance alone), never near the limit.
        let mut cuts = vec![];
        for k in 0..40 {
            let mut r = rng(200 + k);
            let series: Vec<f64> = (0..500).map(|_| 5.0 + noise(&mut r)).collect();
            let t = mser(&series, BATCH).unwrap();
            assert!(!t.at_limit, "replication {k}");
            cuts.push(t.observations);
        }
        cuts.sort_unstable();
        assert!(cuts[20] <= 50, "median cut {} of 500", cuts[20]);
    }

    #[test]
    fn a_trend_to_the_end_hits_the_limit() {
        // A series still rising at its end has no steady part: the minimum sits at the
        // limit of the search (half the batches).
        let series: Vec<f64> = (0..200).map(|i| i as f64).collect();
        let t = mser(&series, BATCH).unwrap();
        assert!(t.at_limit);
        assert_eq!(t.batches, 20);
    }

    fn points(values: &[f64], bucket_s: f64) -> Vec<TimePoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| TimePoint {
                time_s: i as f64 * bucket_s,
                requests_per_s: v,
                connections: 100.0,
                ..TimePoint::default()
            })
            .collect()
    }

    #[test]
    fn a_transient_past_the_warm_up_is_reported_with_the_warm_up_that_suffices() {
        let mut r = rng(300);
        let values: Vec<f64> = (0..200)
            .map(|i| if i < 60 { 200.0 } else { 100.0 } + noise(&mut r))
            .collect();
        let ts = points(&values, 1.0);
        match detect(&ts, 20.0) {
            Steadiness::Transient(t) => {
                assert_eq!(t.series, "requests_per_s");
                assert_eq!(t.ends_at_s, 60.0);
                // Window [20, 200): 40 buckets at 200, 140 at 100 → mean 122.2, +22 %.
                assert!((t.bias - 0.2222).abs() < 0.01, "bias {}", t.bias);
                assert!(!t.at_limit);
            }
            other => panic!("expected a transient, got {other:?}"),
        }
        // A warm-up past the step: steady.
        assert_eq!(detect(&ts, 60.0), Steadiness::Steady);
        // Too few buckets to tell.
        assert_eq!(
            detect(&ts[..30], 0.0),
            Steadiness::TooFewBuckets {
                buckets: 30,
                before_fault_s: None
            }
        );
    }

    #[test]
    fn a_transient_past_the_end_of_the_whole_run_search_is_found_in_the_window() {
        // Saturated (200) until 130 s, then 100: the whole-run search covers [0, 100 s)
        // only, and no cut within it removes the step, so MSER-5 on the whole run cuts
        // nothing. The window alone shows the rest of the transient.
        let mut r = rng(700);
        let values: Vec<f64> = (0..200)
            .map(|i| if i < 130 { 200.0 } else { 100.0 } + noise(&mut r))
            .collect();
        let ts = points(&values, 1.0);
        let whole = mser(&values, BATCH).unwrap();
        assert!(whole.observations <= 100, "{whole:?}");
        match detect(&ts, 100.0) {
            Steadiness::Transient(t) => {
                // At the step or a batch after it (see a_step_is_cut_at_its_edge); the
                // window [100, 200) averages 30 % above the steady 100.
                assert!((130.0..=140.0).contains(&t.ends_at_s), "{t:?}");
                assert!((0.25..=0.31).contains(&t.bias), "{t:?}");
            }
            other => panic!("the transient in the window went unseen: {other:?}"),
        }
    }

    #[test]
    fn stationary_noise_is_steady() {
        // Neither rule fires on noise alone, but by rare chance (2 in 40 allowed).
        let steady = (0..40)
            .filter(|&k| {
                let mut r = rng(500 + k);
                let values: Vec<f64> = (0..300).map(|_| 50.0 + 5.0 * noise(&mut r)).collect();
                detect(&points(&values, 1.0), 10.0) == Steadiness::Steady
            })
            .count();
        assert!(steady >= 38, "{steady} of 40 steady");
    }

    fn with_fault_at(at_s: u64, warmup_s: u64) -> Scenario {
        let mut sc = Scenario::reference();
        sc.warmup = warmup_s * crate::engine::NS_PER_S;
        sc.timeseries_bucket = crate::engine::NS_PER_S;
        sc.faults = vec![crate::scenario::Fault::crash(
            at_s * crate::engine::NS_PER_S,
            0,
            5 * crate::engine::NS_PER_S,
        )];
        sc
    }

    #[test]
    fn a_fault_in_the_window_is_not_a_start_up_transient() {
        // Steady at 100 until a crash at 150 s halves the rate, which then recovers over
        // 50 s: the whole series shows a transient (the crash), the series before the
        // crash does not.
        let mut r = rng(600);
        let values: Vec<f64> = (0..300)
            .map(|i| {
                let dip = if (150..200).contains(&i) {
                    50.0 * (1.0 - (i - 150) as f64 / 50.0)
                } else {
                    0.0
                };
                100.0 - dip + noise(&mut r)
            })
            .collect();
        let ts = points(&values, 1.0);
        let sc = with_fault_at(150, 20);
        assert_eq!(detect_row(&ts, &sc), Steadiness::Steady);
        // The same series with a start-up step that outlasts the warm-up: still found,
        // before the fault.
        let mut r = rng(601);
        let stepped: Vec<f64> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if i < 60 {
                    v + 100.0 + noise(&mut r)
                } else {
                    *v
                }
            })
            .collect();
        match detect_row(&points(&stepped, 1.0), &sc) {
            Steadiness::Transient(t) => assert_eq!(t.ends_at_s, 60.0, "{t:?}"),
            other => panic!("the start-up went unseen: {other:?}"),
        }
        // A fault during the warm-up is part of the start-up: the whole series is judged.
        let early = with_fault_at(10, 20);
        assert_eq!(first_fault_in_window(&early), None);
        assert_eq!(
            detect_row(&points(&stepped, 1.0), &early),
            detect(&points(&stepped, 1.0), 20.0)
        );
        // A fault too soon after the warm-up leaves too little to judge, and says so.
        let soon = with_fault_at(30, 20);
        assert_eq!(
            detect_row(&ts, &soon),
            Steadiness::TooFewBuckets {
                buckets: 30,
                before_fault_s: Some(30.0)
            }
        );
    }

    #[test]
    fn a_transient_too_small_to_move_the_mean_is_not_reported() {
        // A 0.2 % step under noise of 1 %: the window's mean barely moves, the spread
        // neither; in none of 20 replications is it reported.
        for k in 0..20 {
            let mut r = rng(400 + k);
            let values: Vec<f64> = (0..200)
                .map(|i| if i < 60 { 100.2 } else { 100.0 } + noise(&mut r))
                .collect();
            assert_eq!(
                detect(&points(&values, 1.0), 10.0),
                Steadiness::Steady,
                "replication {k}"
            );
        }
    }
}
