//! What a plan will cost this machine before it runs: estimated wall time for the
//! workers it gets, and whether their estimated memory fits in the memory available —
//! `rtsim check` prints both, `run` refuses (before allocating) a plan whose workers
//! would not fit.
//!
//! The per-run estimates are `sim::estimate`'s (the run budget's, `sim::Budget`); this
//! module adds the machine: how fast one worker goes ([`crate::sim::EVENTS_PER_WORKER_S`],
//! measured) and how much memory the operating system says is available (Linux:
//! `MemAvailable` in `/proc/meminfo`; elsewhere unknown, and said so).

use crate::experiment::Plan;
use crate::sim::{EVENTS_PER_WORKER_S, estimate};
use crate::units::human;

/// The estimated cost of a plan run by `workers` threads.
#[derive(Clone, Debug, PartialEq)]
pub struct Cost {
    pub runs: usize,
    pub workers: usize,
    /// Estimated events of every run together.
    pub events: f64,
    /// Estimated wall time, seconds: the runs spread over the workers, and never less
    /// than the longest run alone.
    pub wall_s: f64,
    /// Estimated memory of the `workers` most expensive runs held at once.
    pub memory_bytes: f64,
}

impl Cost {
    pub fn of(plan: &Plan, workers: usize) -> Cost {
        let workers = workers.max(1);
        let estimates: Vec<_> = plan
            .rows
            .iter()
            .map(|row| estimate(&row.scenario))
            .collect();
        let reps = plan.replications as usize;
        let runs = estimates.len() * reps;
        let events: f64 = estimates.iter().map(|e| e.events).sum::<f64>() * reps as f64;
        let longest = estimates.iter().map(|e| e.events).fold(0.0, f64::max);
        let wall_s = (events / workers.min(runs.max(1)) as f64).max(longest) / EVENTS_PER_WORKER_S;
        // Every replication of a row costs the same: the largest `workers` runs.
        let memory_bytes = memory_at_once(
            estimates
                .iter()
                .flat_map(|e| std::iter::repeat_n(e.memory_bytes, reps)),
            workers,
        );
        Cost {
            runs,
            workers,
            events,
            wall_s,
            memory_bytes,
        }
    }

    /// The largest number of workers whose runs fit in `available` bytes (0 if not even
    /// one does).
    pub fn workers_that_fit(plan: &Plan, available: f64) -> usize {
        let runs = plan.rows.len() * plan.replications as usize;
        (1..=runs.max(1))
            .take_while(|&w| Cost::of(plan, w).memory_bytes <= available)
            .last()
            .unwrap_or(0)
    }

    /// `estimated wall time: ~2.5 min with 2 workers (…)`.
    pub fn wall_line(&self) -> String {
        format!(
            "estimated wall time: ~{} with {} worker{} (an estimate: ~{} estimated events/s \
             per worker, measured on a shared 2-core machine; good to a factor of about 3)",
            human::duration(self.wall_s, false),
            self.workers,
            if self.workers == 1 { "" } else { "s" },
            human::count(EVENTS_PER_WORKER_S)
        )
    }
}

/// Memory of runs (estimated bytes each) held at once by `workers` threads: the
/// `workers` largest.
pub fn memory_at_once(memory: impl IntoIterator<Item = f64>, workers: usize) -> f64 {
    let mut memory: Vec<f64> = memory.into_iter().collect();
    memory.sort_by(|a, b| b.total_cmp(a));
    memory.iter().take(workers).sum()
}

/// Memory the operating system says is available for new work, in bytes: Linux's
/// `MemAvailable` (free memory plus what the page cache would give back). `None` where
/// it is not known (another system, an unreadable file).
pub fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    mem_available(&text)
}

/// `MemAvailable:   23456789 kB` → bytes.
fn mem_available(meminfo: &str) -> Option<f64> {
    let line = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let mut parts = line.split_whitespace();
    let value: f64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") => Some(value * 1024.0),
        None => Some(value),
        Some(_) => None,
    }
}

/// Why a plan does not fit, or `None`: its workers' estimated memory against what is
/// available (`None` available: not known, nothing to refuse).
pub fn refusal(plan: &Plan, cost: &Cost, available: Option<f64>) -> Option<String> {
    let available = available?;
    if cost.memory_bytes <= available {
        return None;
    }
    let fit = Cost::workers_that_fit(plan, available);
    let advice = if fit == 0 {
        "not even one run fits: reduce workload.clients, duration or timeseries_bucket \
         (`rtsim check` names the key that drives the memory)"
            .to_string()
    } else {
        format!("--jobs {fit} fits")
    };
    Some(format!(
        "refusing: {} worker{} would need ~{} of memory (estimated), but only {} is \
         available (MemAvailable); {advice}, or pass --allow-large to run anyway",
        cost.workers,
        if cost.workers == 1 { "" } else { "s" },
        human::bytes(cost.memory_bytes, true),
        human::bytes(available, true),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_available_is_read_in_kib() {
        let text = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   23000000 kB\n";
        assert_eq!(mem_available(text), Some(23_000_000.0 * 1024.0));
        assert_eq!(mem_available("MemFree: 1 kB\n"), None);
        assert_eq!(mem_available("MemAvailable: lots\n"), None);
    }

    #[test]
    fn memory_grows_with_workers_and_wall_time_shrinks() {
        let exp = crate::experiment::load_str(
            "t.toml",
            "replications = 2\n[sweep]\n\"workload.clients\" = [1000, 100000]\n",
            &[],
        )
        .unwrap();
        let plan = exp.plan();
        let one = Cost::of(&plan, 1);
        let two = Cost::of(&plan, 2);
        assert!(two.memory_bytes > one.memory_bytes);
        assert!(two.wall_s < one.wall_s);
        assert_eq!(one.events, two.events);
        // Two workers hold the two largest runs: both replications of a 100,000-client row.
        let largest = plan
            .rows
            .iter()
            .map(|r| estimate(&r.scenario).memory_bytes)
            .fold(0.0, f64::max);
        assert_eq!(two.memory_bytes, 2.0 * largest);
        // Refused with too little memory, with the jobs that fit.
        let why = refusal(&plan, &two, Some(1.5 * largest)).unwrap();
        assert!(why.contains("--jobs 1 fits"), "{why}");
        assert_eq!(refusal(&plan, &two, Some(3.0 * largest)), None);
        assert_eq!(refusal(&plan, &two, None), None);
        let why = refusal(&plan, &one, Some(0.5 * largest)).unwrap();
        assert!(why.contains("not even one run fits"), "{why}");
    }
}
