//! `rtsim check FILE`: the plan without simulating it — rows, runs, the estimated cost in
//! events, memory and wall time (`cost.rs`), the warm-up each row needs (`steady.rs`).

use super::*;

// ------------------------------------------------------------------- check

pub(super) fn check(a: args::CheckArgs) -> Result<(), Failure> {
    let exp = load(&a.file, &a.set)?;
    let plan = exp.plan();
    say!("{}: {}", exp.name, a.file.display());
    if !exp.description.is_empty() {
        say!("  {}", exp.description.trim());
    }
    say!(
        "{} rows × {} replications = {} runs (seed {})",
        plan.rows.len(),
        plan.replications,
        plan.rows.len() * plan.replications as usize,
        exp.seed
    );
    let mut total_events = 0.0;
    let mut peak_memory: f64 = 0.0;
    let mut over_budget = false;
    for row in &plan.rows {
        let est = crate::sim::estimate(&row.scenario);
        if let Err(over) = crate::sim::Budget::DEFAULT.admit(&row.scenario) {
            say!("  note: {over}");
            over_budget = true;
        }
        total_events += est.events * plan.replications as f64;
        peak_memory = peak_memory.max(est.memory_bytes);
        say!(
            "  {:14} {:40} ~{:>8} events/run, ~{} memory",
            row.technique.name(),
            runner::describe_point(&row.sweep),
            crate::units::human::count(est.events),
            crate::units::human::bytes(est.memory_bytes, true)
        );
    }
    for w in steady::predicted_warmups(&plan) {
        say!("  {w}");
    }
    say!(
        "estimated work: ~{} simulated events in all; ~{} of memory per worker thread",
        crate::units::human::count(total_events),
        crate::units::human::bytes(peak_memory, true)
    );
    // The machine: time for the workers the run would get, their memory against what
    // is available.
    let workers = jobs(a.jobs, run_count(&plan, None));
    let cost = cost::Cost::of(&plan, workers);
    say!("{}", cost.wall_line());
    let available = cost::available_memory();
    match available {
        Some(bytes) => say!(
            "estimated memory: ~{} for {} worker{}; {} available (MemAvailable)",
            crate::units::human::bytes(cost.memory_bytes, true),
            workers,
            if workers == 1 { "" } else { "s" },
            crate::units::human::bytes(bytes, true)
        ),
        None => say!(
            "estimated memory: ~{} for {} worker{}; memory available unknown on this \
             system (not checked)",
            crate::units::human::bytes(cost.memory_bytes, true),
            workers,
            if workers == 1 { "" } else { "s" }
        ),
    }
    if let Some(why) = cost::refusal(&plan, &cost, available) {
        return Err(usage(anyhow!(why)));
    }
    if over_budget {
        say!("not ok: `run` refuses the runs noted above unless given --allow-large");
    } else {
        say!("ok");
    }
    Ok(())
}
