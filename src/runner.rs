//! The parallel runner: a plan's rows × replications become independent single-threaded
//! simulations, run on a rayon pool, then aggregated into rows.
//!
//! Determinism: every run's randomness is keyed by (seed, point, replication, purpose),
//! results are collected in plan order whatever order they finish in, and aggregation
//! is serial. So the rows are bit-identical for any `--jobs`.
//!
//! Runs are identified by a hash of their row's parameter values and the replication
//! number, not by position: adding sweep points or replications later does not renumber
//! earlier runs, and `--shard K/N` picks the same runs every time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::experiment::Plan;
use crate::results::{Row, RunOutput};
use crate::scenario::{Scenario, Technique};
use crate::sim::simulate;
use crate::stats::aggregate;

/// Run only the runs whose id falls in shard `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let err = || format!("expected K/N with 0 ≤ K < N (e.g. 0/4), found {s:?}");
        let (k, n) = s.split_once('/').ok_or_else(err)?;
        let index: u32 = k.trim().parse().map_err(|_| err())?;
        let count: u32 = n.trim().parse().map_err(|_| err())?;
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }
}

pub struct RunOptions {
    /// Worker threads (0 = all cores).
    pub jobs: usize,
    pub progress: bool,
    pub shard: Option<Shard>,
}

/// One (row, replication) to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunKey {
    pub row: usize,
    pub replication: u32,
    pub id: u64,
}

/// A finished run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Completed {
    pub row: usize,
    pub replication: u32,
    pub id: u64,
    pub output: RunOutput,
}

/// The run stopped early (Ctrl-C): what finished, for the message.
#[derive(Debug)]
pub struct Interrupted {
    pub completed: Vec<Completed>,
    pub total_runs: usize,
}

/// A run's stable id: hash of its row id and replication.
pub fn run_id(row_id: u64, replication: u32) -> u64 {
    let h = Sha256::new()
        .chain_update(b"rtsim-run-v1")
        .chain_update(row_id.to_le_bytes())
        .chain_update(replication.to_le_bytes())
        .finalize();
    u64::from_le_bytes(h[..8].try_into().expect("8 bytes"))
}

/// Every run of the plan, in plan order (row-major, then replication), filtered to the
/// shard if one is given.
pub fn runs(plan: &Plan, shard: Option<Shard>) -> Vec<RunKey> {
    let mut out = Vec::new();
    for (row, planned) in plan.rows.iter().enumerate() {
        for replication in 0..plan.replications {
            let id = run_id(planned.row_id, replication);
            if shard.is_none_or(|s| id % s.count as u64 == s.index as u64) {
                out.push(RunKey {
                    row,
                    replication,
                    id,
                });
            }
        }
    }
    out
}

/// Simulates the runs, in parallel, and returns them in plan order. Stops starting new
/// runs once `interrupt` is set.
pub fn execute(
    plan: &Plan,
    options: &RunOptions,
    interrupt: &AtomicBool,
) -> Result<Vec<Completed>, Interrupted> {
    let keys = runs(plan, options.shard);
    let bar = if options.progress {
        let bar = ProgressBar::new(keys.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} runs  {msg}  ETA {eta}",
            )
            .expect("valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let events = AtomicU64::new(0);
    let simulate_one = |key: &RunKey| -> Option<Completed> {
        if interrupt.load(Ordering::Relaxed) {
            return None;
        }
        let mut scenario = plan.rows[key.row].scenario.clone();
        scenario.replication = key.replication;
        let output = simulate(&scenario);
        let total = events.fetch_add(output.metrics.events as u64, Ordering::Relaxed)
            + output.metrics.events as u64;
        let rate = total as f64 / started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{:.1} M events/s", rate / 1e6));
        bar.inc(1);
        Some(Completed {
            row: key.row,
            replication: key.replication,
            id: key.id,
            output,
        })
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build()
        .expect("thread pool");
    let results: Vec<Option<Completed>> =
        pool.install(|| keys.par_iter().map(simulate_one).collect());
    bar.finish_and_clear();
    let total_runs = results.len();
    if results.iter().any(Option::is_none) {
        return Err(Interrupted {
            completed: results.into_iter().flatten().collect(),
            total_runs,
        });
    }
    Ok(results.into_iter().flatten().collect())
}

/// Simulates independent scenarios on a rayon pool of `jobs` threads (0 = all cores) and
/// returns their outputs in input order, whatever order they finish in. `on_done(i, wall)`
/// is called from the worker thread as scenario `i` finishes, for progress lines: the wall
/// time never enters a result. `rtsim size` runs each round of its searches through this.
pub fn run_scenarios(
    scenarios: &[Scenario],
    jobs: usize,
    on_done: &(dyn Fn(usize, Duration) + Sync),
) -> Result<Vec<RunOutput>, rayon::ThreadPoolBuildError> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
    Ok(pool.install(|| {
        scenarios
            .par_iter()
            .enumerate()
            .map(|(i, scenario)| {
                let started = Instant::now();
                let output = simulate(scenario);
                on_done(i, started.elapsed());
                output
            })
            .collect()
    }))
}

/// Aggregates completed runs (every replication of every row, any order) into rows, in
/// plan order. Rows with missing replications are an error naming the first one.
pub fn rows(plan: &Plan, completed: &[Completed]) -> Result<Vec<Row>, String> {
    let mut by_row: Vec<Vec<Option<&RunOutput>>> =
        vec![vec![None; plan.replications as usize]; plan.rows.len()];
    for c in completed {
        if let Some(slot) = by_row
            .get_mut(c.row)
            .and_then(|r| r.get_mut(c.replication as usize))
        {
            *slot = Some(&c.output);
        }
    }
    plan.rows
        .iter()
        .zip(by_row)
        .map(|(planned, outputs)| {
            let outputs: Option<Vec<&RunOutput>> = outputs.into_iter().collect();
            let outputs = outputs.ok_or_else(|| {
                format!(
                    "missing replications for {} {}",
                    planned.technique,
                    describe_point(&planned.sweep)
                )
            })?;
            let metrics: Vec<_> = outputs.iter().map(|o| &o.metrics).collect();
            let (mean, ci95) = aggregate(&metrics);
            let sc = &planned.scenario;
            Ok(Row {
                technique: planned.technique,
                clients: sc.workload.clients,
                poll_interval_s: (planned.technique == Technique::ShortPolling)
                    .then(|| crate::engine::time::secs(sc.short_polling.interval)),
                sweep: planned.sweep.clone(),
                replications: plan.replications,
                mean,
                ci95,
                timeseries: outputs[0].timeseries.clone(),
                theory: crate::theory::theory_columns(sc)
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect(),
            })
        })
        .collect()
}

/// "workload.clients=1000, short-polling.interval=3s" (or "the base point").
pub fn describe_point(sweep: &[(String, String)]) -> String {
    let parts: Vec<String> = sweep
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if parts.is_empty() {
        "(base point)".to_string()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        assert!("4/4".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
    }

    #[test]
    fn run_ids_are_stable_and_distinct() {
        assert_eq!(run_id(42, 0), run_id(42, 0));
        assert_ne!(run_id(42, 0), run_id(42, 1));
        assert_ne!(run_id(42, 0), run_id(43, 0));
    }
}
