//! `rtsim validate`: an experiment simulated and run for real at the same scale, side by
//! side.
//!
//! Every row of the experiment (replication 0, whose random draws the real run replays) is
//! planned first, so that a scale or a setting the reference server cannot honour is
//! refused before anything runs. The real runs then go concurrently, each on a thread of
//! its own, while the simulations run; the comparison follows the tolerance table
//! (`tolerances.toml`, or the user's), metric by metric.

use std::fmt::Write as _;
use std::path::Path;

use rtsim::experiment::Experiment;
use rtsim::results::RunMetrics;
use rtsim::scenario::Technique;
use serde::Deserialize;

use crate::books::Measured;
use crate::plan::{Limits, Plan, Refused};
use crate::run::{self, RunError};

/// The tolerance table shipped with rtsim.
pub const DEFAULT_TOLERANCES: &str = include_str!("../tolerances.toml");

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("{0}")]
    Tolerances(String),
    #[error("{technique}: the real run failed: {error}")]
    Run {
        technique: &'static str,
        error: RunError,
    },
    #[error("{technique}: the simulation failed: {message}")]
    Sim {
        technique: &'static str,
        message: String,
    },
    #[error(
        "the rows together drive {clients} clients, beyond the {limit} this machine drives honestly at once; validate fewer techniques or fewer clients"
    )]
    TooManyAtOnce { clients: u64, limit: u64 },
}

/// One line of the tolerance table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub technique: String,
    pub metrics: Vec<String>,
    pub relative: Option<f64>,
    pub absolute: Option<f64>,
    /// Widen the tolerance to this many standard errors of the difference when that is
    /// larger (metrics with a known standard error only: `latency_mean_s`).
    pub standard_errors: Option<f64>,
    pub why: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    check: Vec<Check>,
}

/// Metrics `validate` derives from the columns: bytes per update delivered, and bytes
/// per request (a poll: its head, its answer's head and body) each way.
pub const DERIVED: [&str; 3] = [
    "bytes_down_per_delivery",
    "bytes_up_per_request",
    "bytes_down_per_request",
];

/// Reads a tolerance table; `name` is for messages.
pub fn tolerances(text: &str, name: &str) -> Result<Vec<Check>, ValidateError> {
    let bad = |m: String| ValidateError::Tolerances(format!("{name}: {m}"));
    let table: TableFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
    for c in &table.check {
        if Technique::from_name(&c.technique).is_none() {
            return Err(bad(format!("unknown technique {:?}", c.technique)));
        }
        for m in &c.metrics {
            if rtsim::columns::metric(m).is_none() && !DERIVED.contains(&m.as_str()) {
                return Err(bad(format!(
                    "unknown metric {m:?} (a results.csv column or one of {DERIVED:?})"
                )));
            }
        }
        if c.standard_errors.is_some() && c.metrics.iter().any(|m| m != "latency_mean_s") {
            return Err(bad(format!(
                "{} {:?}: standard_errors applies to latency_mean_s only (the one metric whose standard error is measured)",
                c.technique, c.metrics
            )));
        }
        match (c.relative, c.absolute) {
            (Some(t), None) | (None, Some(t)) if t.is_finite() && t >= 0.0 => {}
            _ => {
                return Err(bad(format!(
                    "{} {:?}: give exactly one of `relative` or `absolute`, a number ≥ 0",
                    c.technique, c.metrics
                )));
            }
        }
    }
    Ok(table.check)
}

/// One row of the experiment, measured and simulated.
pub struct Compared {
    pub technique: Technique,
    pub real: Measured,
    pub simulated: RunMetrics,
    pub duration_s: f64,
}

/// One line of the side-by-side table.
#[derive(Clone, Debug)]
pub struct Line {
    pub technique: Technique,
    pub metric: String,
    pub real: f64,
    pub simulated: f64,
    /// `real − simulated`, relative to `simulated` for a relative check.
    pub difference: f64,
    pub relative: bool,
    /// The tolerance applied: the table's, or `standard_errors` × the standard error of
    /// the difference when larger.
    pub tolerance: f64,
    /// The tolerance was widened to this many standard errors.
    pub sampling: Option<f64>,
    /// Added to an absolute latency tolerance: how late the relay delivered (mean for a
    /// mean, p99 for a p99). The harness's own timing error is part of what it measured.
    pub relay_lateness: f64,
    pub pass: bool,
    pub why: String,
}

impl Compared {
    fn real(&self, metric: &str) -> f64 {
        let m = &self.real;
        match metric {
            "requests_per_s" => m.requests_per_s,
            "empty_response_fraction" => m.empty_response_fraction,
            "latency_mean_s" => m.latency_mean_s,
            "latency_p50_s" => m.latency_p50_s,
            "latency_p99_s" => m.latency_p99_s,
            "latency_max_s" => m.latency_max_s,
            "bytes_down_per_s" => m.bytes_down_per_s,
            "bytes_up_per_s" => m.bytes_up_per_s,
            "handshakes_per_s" => m.handshakes_per_s,
            "deliveries" => m.deliveries,
            "bytes_down_per_delivery" => per(m.bytes_down_per_s * self.duration_s, m.deliveries),
            "bytes_up_per_request" => per(m.bytes_up_per_s, m.requests_per_s),
            "bytes_down_per_request" => per(m.bytes_down_per_s, m.requests_per_s),
            _ => f64::NAN, // not measured: the line fails, visibly
        }
    }

    fn simulated(&self, metric: &str) -> f64 {
        let m = &self.simulated;
        match metric {
            "bytes_down_per_delivery" => per(m.bytes_down_per_s * self.duration_s, m.deliveries),
            "bytes_up_per_request" => per(m.bytes_up_per_s, m.requests_per_s),
            "bytes_down_per_request" => per(m.bytes_down_per_s, m.requests_per_s),
            _ => rtsim::columns::metric(metric).map_or(f64::NAN, |c| c.get(m)),
        }
    }
}

fn per(total: f64, n: f64) -> f64 {
    if n > 0.0 { total / n } else { f64::NAN }
}

/// Plans every row of `exp` (refusing what cannot run), then runs them for real and in
/// simulation. `say` hears progress.
pub fn run(
    exp: &Experiment,
    limits: &Limits,
    say: &dyn Fn(&str),
) -> Result<Vec<Compared>, ValidateError> {
    let rows = exp.plan().rows;
    let plans = rows
        .iter()
        .map(|row| Plan::new(&row.scenario, limits))
        .collect::<Result<Vec<_>, _>>()?;
    let clients: u64 = plans.iter().map(|p| u64::from(p.clients)).sum();
    let fd_room =
        limits.fd_limit.saturating_sub(crate::plan::FDS_RESERVED) / crate::plan::FDS_PER_CLIENT;
    let limit = u64::from(limits.max_clients).min(fd_room);
    if clients > limit {
        return Err(ValidateError::TooManyAtOnce { clients, limit });
    }
    let longest = plans.iter().map(Plan::end).max().unwrap_or(0);
    say(&format!(
        "running {} rows for real, together, for {:.0} s of wall-clock time (warm-up included), and simulating them",
        plans.len(),
        longest as f64 / 1e9
    ));
    let real: Vec<Result<Measured, RunError>> = std::thread::scope(|s| {
        let handles: Vec<_> = plans
            .into_iter()
            .map(|plan| s.spawn(move || run::measure(plan)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(RunError::Overran)))
            .collect()
    });
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut out = Vec::new();
    for (row, real) in rows.iter().zip(real) {
        let technique = row.technique.name();
        let real = real.map_err(|error| ValidateError::Run { technique, error })?;
        let simulated = rtsim::sim::try_simulate(&row.scenario, &stop)
            .map_err(|e| ValidateError::Sim {
                technique,
                message: e.to_string(),
            })?
            .metrics;
        out.push(Compared {
            technique: row.technique,
            real,
            simulated,
            duration_s: row.scenario.duration as f64 / 1e9,
        });
    }
    Ok(out)
}

/// The side-by-side lines of `rows` under `checks`.
pub fn compare(rows: &[Compared], checks: &[Check]) -> Vec<Line> {
    let mut lines = Vec::new();
    for row in rows {
        for check in checks
            .iter()
            .filter(|c| c.technique == row.technique.name())
        {
            for metric in &check.metrics {
                let real = row.real(metric);
                let simulated = row.simulated(metric);
                let (relative, tolerance) = match (check.relative, check.absolute) {
                    (Some(t), _) => (true, t),
                    (_, Some(t)) => (false, t),
                    _ => (true, 0.0),
                };
                let difference = if relative {
                    (real - simulated) / simulated.abs()
                } else {
                    real - simulated
                };
                // A mean of n latencies has a standard error sd/√n, in each run; the two
                // runs' errors add. The real sample's spread stands for both.
                let se = row.real.latency_sd_s
                    * (1.0 / row.real.deliveries + 1.0 / row.simulated.deliveries).sqrt();
                let se = if relative { se / simulated.abs() } else { se };
                let widened = check.standard_errors.map_or(0.0, |k| k * se);
                let (mut tolerance, sampling) = if widened > tolerance {
                    (widened, check.standard_errors)
                } else {
                    (tolerance, None)
                };
                let relay_lateness = match (relative, metric.as_str()) {
                    (false, "latency_mean_s") => row.real.relay_late_mean_s,
                    (false, "latency_p99_s") => row.real.relay_late_p99_s,
                    _ => 0.0,
                };
                tolerance += relay_lateness;
                // NaN fails: a metric nobody measured never passes.
                let pass = difference.abs() <= tolerance;
                lines.push(Line {
                    technique: row.technique,
                    metric: metric.clone(),
                    real,
                    simulated,
                    difference,
                    relative,
                    tolerance,
                    sampling,
                    relay_lateness,
                    pass,
                    why: check.why.clone(),
                });
            }
        }
    }
    lines
}

fn number(v: f64) -> String {
    if !v.is_finite() {
        "n/a".to_string()
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

fn difference(l: &Line) -> String {
    if l.relative {
        format!("{:+.2} %", l.difference * 100.0)
    } else {
        format!("{:+.4}", l.difference)
    }
}

fn tolerance(l: &Line) -> String {
    let mut t = if l.relative {
        format!("± {:.1} %", l.tolerance * 100.0)
    } else {
        format!("± {}", l.tolerance)
    };
    if l.relay_lateness > 0.0 {
        let own = l.tolerance - l.relay_lateness;
        t = format!("± {own:.3} + {:.1} ms relay", l.relay_lateness * 1e3);
    }
    if let Some(k) = l.sampling {
        t.push_str(&format!(" ({k} SE)"));
    }
    t
}

/// The table as Markdown.
pub fn table(lines: &[Line]) -> String {
    let mut out = String::from(
        "| technique | metric | real | simulated | difference | tolerance | verdict |\n|---|---|---:|---:|---:|---:|---|\n",
    );
    for l in lines {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            l.technique.name(),
            l.metric,
            number(l.real),
            number(l.simulated),
            difference(l),
            tolerance(l),
            if l.pass { "ok" } else { "FAIL" }
        );
    }
    out
}

/// Writes `validation.csv` into `dir` (created if missing), through a temporary name.
pub fn write_csv(dir: &Path, lines: &[Line]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(".validation.csv.tmp");
    {
        let mut w = csv::Writer::from_path(&tmp)?;
        w.write_record([
            "technique",
            "metric",
            "real",
            "simulated",
            "difference",
            "difference_kind",
            "tolerance",
            "tolerance_from_standard_errors",
            "tolerance_from_relay_lateness",
            "verdict",
        ])?;
        for l in lines {
            w.write_record([
                l.technique.name().to_string(),
                l.metric.clone(),
                l.real.to_string(),
                l.simulated.to_string(),
                l.difference.to_string(),
                if l.relative { "relative" } else { "absolute" }.to_string(),
                l.tolerance.to_string(),
                l.sampling.map_or(String::new(), |k| k.to_string()),
                l.relay_lateness.to_string(),
                if l.pass { "ok" } else { "fail" }.to_string(),
            ])?;
        }
        w.flush()?;
    }
    std::fs::rename(tmp, dir.join("validation.csv"))
}
