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
//!
//! The runner produces rows and nothing else: whoever watches a run (the command line's
//! progress bar) is told through [`Progress`], and closed-form predictions are added
//! beside the rows afterwards, by the caller (`theory::annotate`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::experiment::Plan;
use crate::results::{Row, RunOutput};
use crate::scenario::{Scenario, Technique};
use crate::sim::{SimError, try_simulate};
use crate::stats::aggregate;

/// Run only the runs whose id falls in shard `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// A `--shard` argument that is not `K/N` with 0 ≤ K < N.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected K/N with 0 ≤ K < N (e.g. 0/4), found {found:?}")]
pub struct BadShard {
    found: String,
}

impl std::str::FromStr for Shard {
    type Err = BadShard;
    fn from_str(s: &str) -> Result<Self, BadShard> {
        let err = || BadShard {
            found: s.to_string(),
        };
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
    pub shard: Option<Shard>,
}

/// Whoever watches a run: told when runs start and finish, from the worker threads.
/// Nothing it does can change a result (results never depend on timing).
pub trait Progress: Sync {
    /// `runs` runs are about to start.
    fn started(&self, _runs: usize) {}
    /// One run finished, having processed `events` simulated events.
    fn finished_run(&self, _events: u64) {}
    /// No run is going on any more: all finished, or the rest were not started.
    fn stopped(&self) {}
}

/// Watches nothing: for quiet runs and tests.
pub struct Silent;

impl Progress for Silent {}

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

/// Why [`execute`] returned without every run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("could not start the worker threads: {0}")]
    Threads(#[from] rayon::ThreadPoolBuildError),
    #[error("interrupted: {} of {} runs finished", .0.completed.len(), .0.total_runs)]
    Interrupted(Interrupted),
    /// A run could not finish (its world stopped moving in time): no result is made.
    #[error("{point}: {error}")]
    Stuck {
        /// The run's sweep point, as [`describe_point`] writes it.
        point: String,
        error: SimError,
    },
}

/// The run stopped early (Ctrl-C): what finished, for the message.
#[derive(Debug)]
pub struct Interrupted {
    pub completed: Vec<Completed>,
    pub total_runs: usize,
}

/// A plan's rows could not all be made: a replication is missing (shards that do not
/// cover the plan).
#[derive(Debug, thiserror::Error)]
#[error("missing replications for {technique} {point}")]
pub struct MissingReplications {
    pub technique: Technique,
    /// The sweep point, as [`describe_point`] writes it.
    pub point: String,
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

/// Simulates the runs, in parallel, and returns them in plan order, telling `progress`
/// as they finish. Stops starting new runs once `interrupt` is set.
pub fn execute(
    plan: &Plan,
    options: &RunOptions,
    interrupt: &AtomicBool,
    progress: &dyn Progress,
) -> Result<Vec<Completed>, RunError> {
    let keys = runs(plan, options.shard);
    progress.started(keys.len());
    // The first stuck run, if any: the others stop starting (its error is the answer).
    let stuck: std::sync::Mutex<Option<RunError>> = std::sync::Mutex::new(None);
    let stop_all = AtomicBool::new(false);
    let simulate_one = |key: &RunKey| -> Option<Completed> {
        if interrupt.load(Ordering::Relaxed) || stop_all.load(Ordering::Relaxed) {
            return None;
        }
        let mut scenario = plan.rows[key.row].scenario.clone();
        scenario.replication = key.replication;
        match try_simulate(&scenario, interrupt) {
            Ok(output) => {
                progress.finished_run(output.metrics.events as u64);
                Some(Completed {
                    row: key.row,
                    replication: key.replication,
                    id: key.id,
                    output,
                })
            }
            Err(SimError::Interrupted) => None,
            Err(error) => {
                stop_all.store(true, Ordering::Relaxed);
                let planned = &plan.rows[key.row];
                let mut first = stuck.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert(RunError::Stuck {
                    point: format!("{} {}", planned.technique, describe_point(&planned.sweep)),
                    error,
                });
                None
            }
        }
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build();
    let results: Vec<Option<Completed>> = match pool {
        Ok(pool) => pool.install(|| keys.par_iter().map(simulate_one).collect()),
        Err(e) => {
            progress.stopped();
            return Err(e.into());
        }
    };
    progress.stopped();
    if let Some(error) = stuck.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(error);
    }
    let total_runs = results.len();
    if results.iter().any(Option::is_none) {
        return Err(RunError::Interrupted(Interrupted {
            completed: results.into_iter().flatten().collect(),
            total_runs,
        }));
    }
    Ok(results.into_iter().flatten().collect())
}

/// What one run of [`run_scenarios`] cost, for progress lines and benchmarks: never part
/// of a result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunCost {
    /// Wall time of the run.
    pub wall: Duration,
    /// CPU time of the worker thread during the run ([`thread_cpu`]; `None` where the
    /// platform does not say). On a shared machine this, not the wall time, is what the
    /// run cost.
    pub cpu: Option<Duration>,
    /// Events the simulation processed.
    pub events: u64,
}

/// CPU time the calling thread has run so far, to the nanosecond and up to date at the
/// call (Linux's `CLOCK_THREAD_CPUTIME_ID`); `None` elsewhere. One of the crate's three
/// `unsafe`s (the others: `engine/prefetch.rs`, `engine/hugepages.rs`): a system call by
/// signature. (`/proc/thread-self/schedstat`, read before, is brought up to date for a
/// running thread only at scheduler ticks and switches: CI saw a 1 ms run cost more than
/// twice its wall time.)
#[allow(unsafe_code)]
pub fn thread_cpu() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a live, writable timespec of ours, the only memory the call
        // writes; the clock id is a constant every Linux has.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
        if rc != 0 {
            return None;
        }
        Some(Duration::new(
            u64::try_from(now.tv_sec).ok()?,
            u32::try_from(now.tv_nsec).ok()?,
        ))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Simulates independent scenarios on a rayon pool of `jobs` threads (0 = all cores) and
/// returns their outputs in input order, whatever order they finish in. `on_done(i, cost)`
/// is called from the worker thread as scenario `i` finishes, for progress lines: its
/// cost never enters a result. `rtsim size` runs each round of its searches through this.
/// A run that cannot finish is an error naming its technique.
///
/// Longest first: each worker takes the next scenario in order of estimated events
/// (`sim::estimate`, largest first), so a round of unequal runs ends as soon as the
/// longest can (the classic longest-processing-time rule); outputs stay in input order.
pub fn run_scenarios(
    scenarios: &[Scenario],
    jobs: usize,
    on_done: &(dyn Fn(usize, RunCost) + Sync),
) -> Result<Vec<RunOutput>, RunError> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
    let never = AtomicBool::new(false);
    let mut order: Vec<usize> = (0..scenarios.len()).collect();
    let events: Vec<f64> = scenarios
        .iter()
        .map(|sc| crate::sim::estimate(sc).events)
        .collect();
    order.sort_by(|&a, &b| events[b].total_cmp(&events[a]));
    let next = AtomicUsize::new(0);
    let outputs: Vec<Mutex<Option<Result<RunOutput, RunError>>>> =
        scenarios.iter().map(|_| Mutex::new(None)).collect();
    pool.broadcast(|_| {
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = order.get(k) else { break };
            let scenario = &scenarios[i];
            let started = Instant::now();
            let cpu_before = thread_cpu();
            let output = try_simulate(scenario, &never).map_err(|error| RunError::Stuck {
                point: format!("{} sizing run", scenario.technique),
                error,
            });
            if let Ok(out) = &output {
                let cpu = match (cpu_before, thread_cpu()) {
                    (Some(a), Some(b)) => Some(b.saturating_sub(a)),
                    _ => None,
                };
                on_done(
                    i,
                    RunCost {
                        wall: started.elapsed(),
                        cpu,
                        events: out.metrics.events as u64,
                    },
                );
            }
            *outputs[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(output);
        }
    });
    outputs
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every scenario was taken by a worker")
        })
        .collect()
}

/// Aggregates completed runs (every replication of every row, any order) into rows, in
/// plan order. Rows with missing replications are an error naming the first one.
pub fn rows(plan: &Plan, completed: &[Completed]) -> Result<Vec<Row>, MissingReplications> {
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
            let outputs = outputs.ok_or_else(|| MissingReplications {
                technique: planned.technique,
                point: describe_point(&planned.sweep),
            })?;
            let metrics: Vec<_> = outputs.iter().map(|o| &o.metrics).collect();
            let agg = aggregate(&metrics);
            let sc = &planned.scenario;
            Ok(Row {
                technique: planned.technique,
                clients: sc.workload.clients,
                poll_interval_s: (planned.technique == Technique::ShortPolling)
                    .then(|| crate::engine::time::secs(sc.short_polling.interval)),
                sweep: planned.sweep.clone(),
                replications: plan.replications,
                mean: agg.mean,
                ci95: agg.ci95,
                timeseries: outputs[0].timeseries.clone(),
                unsampled: agg.unsampled,
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
    fn thread_cpu_counts_this_threads_work_and_not_its_sleep() {
        // Up to date at the call: a spin reads as CPU time, never more than its wall
        // time (the figure schedstat gave could exceed it by a scheduler tick); a sleep
        // reads as next to none.
        let start = Instant::now();
        let Some(before) = thread_cpu() else {
            return; // not Linux: nothing to check
        };
        let mut spins = 0u64;
        while start.elapsed() < Duration::from_millis(30) {
            spins = std::hint::black_box(spins + 1);
        }
        let spun = thread_cpu().unwrap() - before;
        let wall = start.elapsed();
        assert!(
            spun > Duration::ZERO && spun <= wall,
            "{spun:?} of {wall:?}"
        );
        let before = thread_cpu().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let slept = thread_cpu().unwrap() - before;
        assert!(slept < Duration::from_millis(5), "{slept:?} while asleep");
    }

    #[test]
    fn shard_parsing() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        assert_eq!(
            "4/4".parse::<Shard>().unwrap_err().to_string(),
            "expected K/N with 0 ≤ K < N (e.g. 0/4), found \"4/4\""
        );
        assert!("x".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
    }

    /// Counts what the runner reports.
    #[derive(Default)]
    struct Counter {
        started: std::sync::atomic::AtomicUsize,
        finished: std::sync::atomic::AtomicUsize,
        stopped: std::sync::atomic::AtomicUsize,
    }

    impl Progress for Counter {
        fn started(&self, runs: usize) {
            self.started.store(runs, Ordering::Relaxed);
        }
        fn finished_run(&self, events: u64) {
            assert!(events > 0);
            self.finished.fetch_add(1, Ordering::Relaxed);
        }
        fn stopped(&self) {
            self.stopped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn tiny_plan() -> Plan {
        let text = "duration = \"2s\"\nwarmup = \"0s\"\nreplications = 2\n\
                    techniques = [\"sse\", \"websocket\"]\n[workload]\nclients = 5\n";
        crate::experiment::load_str("tiny.toml", text, &[])
            .unwrap()
            .plan()
    }

    #[test]
    fn progress_is_reported_and_rows_come_in_plan_order() {
        let plan = tiny_plan();
        let counter = Counter::default();
        let options = RunOptions {
            jobs: 2,
            shard: None,
        };
        let completed = execute(&plan, &options, &AtomicBool::new(false), &counter).unwrap();
        assert_eq!(counter.started.load(Ordering::Relaxed), 4);
        assert_eq!(counter.finished.load(Ordering::Relaxed), 4);
        assert_eq!(counter.stopped.load(Ordering::Relaxed), 1);
        let rows = rows(&plan, &completed).unwrap();
        let techniques: Vec<Technique> = rows.iter().map(|r| r.technique).collect();
        assert_eq!(techniques, [Technique::Sse, Technique::Websocket]);
        assert!(rows.iter().all(|r| r.replications == 2 && r.clients == 5));
        // A missing replication names its row.
        let err = super::rows(&plan, &completed[1..]).unwrap_err();
        assert_eq!(err.technique, Technique::Sse);
        assert_eq!(err.to_string(), "missing replications for sse (base point)");
        // Interrupted before anything started: nothing ran, the runner says so.
        let counter = Counter::default();
        match execute(&plan, &options, &AtomicBool::new(true), &counter) {
            Err(RunError::Interrupted(i)) => {
                assert!(i.completed.is_empty());
                assert_eq!(i.total_runs, 4);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(counter.finished.load(Ordering::Relaxed), 0);
        assert_eq!(counter.stopped.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn run_ids_are_stable_and_distinct() {
        assert_eq!(run_id(42, 0), run_id(42, 0));
        assert_ne!(run_id(42, 0), run_id(42, 1));
        assert_ne!(run_id(42, 0), run_id(43, 0));
    }
}
