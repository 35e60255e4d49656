//! `rtsim size`: how many instances a deployment needs, per technique, found by
//! simulation — and which resource runs out first.
//!
//! For every technique, at the experiment's base point:
//!
//! 1. **Max clients per instance** (the hashrocket "max clients at an SLO" method): one
//!    instance is simulated with `n` clients and its limits *lifted*, so the run measures
//!    demand, not refusals. `n` is feasible when the instance's peak connections fit its
//!    `max_connections`, its peak memory fits `memory_limit`, its CPU utilization stays
//!    at or under `[target] utilization` and the p99 latency meets `[target]
//!    latency_p99` ([`limits`]). A small pilot run predicts the boundary; the search
//!    brackets it by simulation and bisects to [`Options::tolerance`] ([`search`]). The
//!    largest feasible `n` is `max_clients_per_instance`; the resource that fails first
//!    just above it is the `limiting_resource`.
//! 2. **Instances needed**: start at ⌈N / max_clients⌉ and simulate the deployment; add
//!    an instance until every limit holds ([`search`] too).
//! 3. **Cost**: instance-hours and egress at the `[target]` prices ([`cost`]).
//!
//! **Representative instances.** Simulating 10^6 clients on 10 instances is ten times
//! one instance's work although the instances are identical and independent: clients
//! are statistically identical (i.i.d. RTTs, phases and update streams), the balancer
//! spreads new connections evenly (least-connections keeps the open counts within one
//! of each other, round-robin deals them in turn), every update reaches every instance
//! through the origin and the backplane — a constant delay — whatever the pattern
//! (per-client streams, broadcast fan-out, chat rooms whose members sit on different
//! instances), and nothing else crosses instances. Each instance of a `k`-instance
//! deployment of `N` clients is then the same stochastic system as each instance of a
//! 2-instance deployment of 2⌈N/k⌉ clients, so for `k > 2` we simulate that and scale
//! totals by `k/2`. Two instances rather than one keep the backplane in the picture (the
//! simulator only routes through it when there are several instances). Scheduled
//! `[[faults]]` (crashes) break the symmetry — the crashed instance's clients herd onto
//! the others — so sizing refuses them, with the reason.
//!
//! **Start-up storm.** Every client connects within `[workload] start_window`, so
//! an instance of a million clients starts with minutes of TLS handshakes queued. That is
//! a thundering herd, not the steady state being sized; each sizing run starts its
//! clients over a longer window or warms up longer until that backlog has drained
//! ([`warmup`]), and the answer says by how much.
//!
//! **Who simulates.** Each technique's [`Searcher`] hands out the next scenario its
//! search needs; [`size`] runs every technique's next one together through the runner's
//! rayon pool ([`crate::runner::run_scenarios`]), round after round, until every search
//! is over. The searches are sequential by nature (each run decides the next), so the
//! parallelism is across techniques; results do not depend on `jobs`.
//!
//! Everything here is numbers: which limit binds is a [`Resource`], what the answer
//! should say beside its numbers is a [`Note`]. The words, `sizing.csv` and the Markdown
//! table are `report::sizing`'s.

pub mod backplane;
pub mod churn;
pub mod cost;
pub mod deploy;
pub mod error;
pub mod failover;
pub mod limits;
pub mod pricing;
pub mod progress;
pub mod search;
pub mod searcher;
pub mod warmup;

use crate::engine::Nanos;
use crate::experiment::{Experiment, Redundancy, Target};
use crate::runner::{RunCost, run_scenarios};
use crate::scenario::{Scenario, Technique};
use crate::sim::estimate;

pub use self::cost::{BYTES_PER_GB, HOURS_PER_MONTH, monthly_cost};
pub use self::deploy::{Deploy, DeployCheck};
pub use self::error::{SearchError, SizingError};
pub use self::failover::{Failure, Storm};
pub use self::limits::{Cause, Limits, Load, Resource};
pub use self::search::{Capacity, MAX_CLIENTS, Method};
pub use self::searcher::{NextRun, Searcher};

/// Knobs of the search.
#[derive(Clone, Debug)]
pub struct Options {
    /// Worker threads of the runner's pool, which simulates the techniques' runs side by
    /// side (0 = all cores).
    pub jobs: usize,
    /// Relative precision of `max_clients_per_instance`: the search stops when the
    /// feasible and infeasible bounds are within this fraction of each other.
    pub tolerance: f64,
    /// Clients of the pilot run that predicts the boundary.
    pub pilot_clients: u64,
    /// Refuse a single run estimated above this many events (see `sim::estimate`).
    pub max_events_per_run: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            jobs: 0,
            tolerance: 0.02,
            pilot_clients: 1000,
            max_events_per_run: 2e9,
        }
    }
}

/// What the answer says beside its numbers, as data (the report words it).
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    /// No instance count meets the target: p99 is `p99_s` (target `target_p99_s`) even
    /// with `clients` clients per instance, a floor set by the technique, not by load.
    LatencyFloor {
        p99_s: f64,
        target_p99_s: Option<f64>,
        clients: u64,
    },
    /// No instance count meets the target: updates go undelivered for `cause` even with
    /// `clients` clients per instance and every limit held (the delivered ones' p99 is
    /// `p99_s`); more instances cannot help.
    Unserved {
        cause: Cause,
        p99_s: f64,
        clients: u64,
    },
    /// `instances` rather than ⌈N/max⌉ = `first`: the backplane and the balancer's
    /// spread cost headroom.
    MoreThanFirst { instances: u32, first: u32 },
    /// Clients started over `start_window_s` (stretched from the file's) and the
    /// warm-up was `warmup_s`.
    StartWindowStretched { start_window_s: f64, warmup_s: f64 },
    /// The warm-up was extended to `warmup_s` so the start-up storm drained.
    WarmupExtended { warmup_s: f64 },
    /// The deployment needs `handshakes_per_s` new connections per second in the
    /// steady state (or `storm_peak` at a failover storm's peak), above the
    /// deployment-wide cap `cap`: more instances cannot help.
    OverConnectionCap {
        handshakes_per_s: f64,
        cap: f64,
        storm: bool,
    },
    /// The deployment on `instances` instances of `clients_per_instance` clients each
    /// held every limit, and its own linear prediction — `limiting` runs out at
    /// `predicted` clients per instance — leaves `instances − 1` instances short of the
    /// deployment's `clients` even 10 % above it: the count was settled without a
    /// one-instance run near the boundary (see `search::Search::deployment_first`).
    SettledByDeployment {
        instances: u32,
        clients_per_instance: u64,
        limiting: Resource,
        predicted: f64,
        clients: u64,
    },
    /// One instance holds all `clients` clients (the deployment's N), so the search
    /// stopped there: nothing runs out yet, a run of `held` clients on one instance
    /// (N, or the pilot when larger) kept every limit, `closest` is the closest to its
    /// limit, and the pilot run predicts `predicted` clients per instance by slots,
    /// memory and CPU.
    AtCap {
        clients: u64,
        held: u64,
        closest: Resource,
        predicted: f64,
    },
}

/// The redundancy check of a plan (see [`failover`]).
#[derive(Clone, Debug, PartialEq)]
pub enum FailoverCheck {
    /// Simulated: `plan` is what the redundancy asked for; `storm` the last failure
    /// run (more instances than `plan` when the survivors of `plan` failed), `tried`
    /// every failure run before it, in order.
    Checked {
        plan: Failure,
        storm: Storm,
        tried: Vec<Storm>,
    },
    /// The failure run of `failure` would take `events` events, beyond
    /// [`Options::max_events_per_run`]: not checked.
    TooLarge { failure: Failure, events: f64 },
}

impl FailoverCheck {
    /// Instances of the plan with its redundancy, as far as checked: the ones whose
    /// survivors held the target (or the last tried).
    pub fn instances(&self) -> u32 {
        match self {
            FailoverCheck::Checked { storm, .. } => storm.failure.instances,
            FailoverCheck::TooLarge { failure, .. } => failure.instances,
        }
    }

    /// `Some(true)` when the survivors held the target, `None` when not checked.
    pub fn survived(&self) -> Option<bool> {
        match self {
            FailoverCheck::Checked { storm, .. } => Some(storm.survived()),
            FailoverCheck::TooLarge { .. } => None,
        }
    }
}

/// One line of `sizing.csv`: one technique's answer. `NaN` where a figure does not
/// exist (no instance count meets the target).
#[derive(Clone, Debug)]
pub struct Sizing {
    pub technique: Technique,
    /// N, the deployment's clients.
    pub clients: u64,
    /// `None` when no instance count meets the target (see `notes`).
    pub instances_needed: Option<u32>,
    /// What runs out first; when nothing runs out at N (`at_cap`), the resource closest
    /// to its limit.
    pub limiting_resource: Resource,
    /// Demand ÷ limit of `limiting_resource` in the deployment (NaN when none meets).
    pub limiting_use: f64,
    /// 0 when no count meets the target.
    pub max_clients_per_instance: u64,
    /// One instance held all N clients, so the search stopped there:
    /// `max_clients_per_instance` is a lower bound and nothing ran out.
    pub at_cap: bool,
    /// The smallest clients per instance seen to break a limit: the capacity lies
    /// between `max_clients_per_instance` and this (`None` at the cap or when none
    /// meets the target).
    pub max_clients_below: Option<u64>,
    /// When no failing count was simulated because the largest feasible run's own
    /// linear prediction settled the answer: where `limiting_resource` is predicted to
    /// run out (`None` otherwise).
    pub max_clients_predicted: Option<f64>,
    /// What `[target]` asked for.
    pub redundancy: Redundancy,
    pub survive_loss: Option<f64>,
    /// The redundancy check (`None` when `[target]` asks for none, or when no count
    /// meets the target).
    pub failover: Option<FailoverCheck>,
    /// The rolling-deploy check (`None` when `[target]` asks for none, or when no count
    /// meets the target).
    pub deploy: Option<DeployCheck>,
    pub connections_per_instance: f64,
    pub memory_per_instance_bytes: f64,
    /// Peak memory of all instances together.
    pub memory_bytes: f64,
    pub cpu_utilization: f64,
    pub bytes_down_per_s: f64,
    pub bytes_up_per_s: f64,
    pub requests_per_s: f64,
    /// New connections per second the deployment needs in the steady state
    /// ([`churn::steady_handshakes_per_s`]).
    pub handshakes_per_s: f64,
    /// `handshakes_per_s` ÷ `[target] max_new_connections_per_s` (NaN without a cap).
    pub new_connections_cap_use: f64,
    pub latency_p99_s: f64,
    /// Server → client bytes per month (egress, what clouds bill), GB.
    pub egress_gb_per_month: f64,
    /// Instances planned (the steady state's plus the redundancy check's spares) ×
    /// 730 h × `instance_hour_cost` + egress × `bandwidth_cost_per_gb` (+ the
    /// backplane's `backplane_cost`); `None` without prices.
    pub monthly_cost: Option<f64>,
    /// The two parts of `monthly_cost`: instances planned × 730 h × price, and egress ×
    /// price (`None` without that price).
    pub instance_cost: Option<f64>,
    pub egress_cost: Option<f64>,
    /// `[target] backplane_node_hour_cost × 730 h ×` the backplane's nodes needed
    /// (`None` without the price, or without a finite backplane); part of
    /// `monthly_cost`.
    pub backplane_cost: Option<f64>,
    /// The backplane as a resource of the plan (`None` with one instance or an
    /// unlimited `[server] backplane_capacity`).
    pub backplane: Option<backplane::BackplanePlan>,
    /// The same deployment bought from `[target] managed` instead (`None` when not
    /// asked, or the service does not speak the technique).
    pub managed: Option<pricing::ManagedCost>,
    pub method: Method,
    /// Simulations the search ran.
    pub simulations: u32,
    /// Warm-up of the deployment run, seconds (longer than the file's when the
    /// start-up storm needed it).
    pub warmup_s: f64,
    pub notes: Vec<Note>,
}

/// One sizing simulation finished: what it was, and what it cost (for progress lines
/// and benchmarks only).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Simulated {
    pub technique: Technique,
    pub clients: u64,
    pub instances: u32,
    pub warmup: Nanos,
    /// Its cost estimated before it ran (`sim::estimate`), for the ETA.
    pub estimated_events: f64,
    /// What it cost: wall and CPU time, events.
    pub cost: RunCost,
}

/// What `rtsim size` is doing, for progress lines (never part of the answer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Progress {
    /// A round of `runs` simulations starts, estimated at `events` events in all
    /// (`sim::estimate`); `round` counts from 1. `planned_events` is the whole sizing's
    /// estimate as known now: the runs done, this round's, and the runs the searches
    /// will most likely ask for later ([`Searcher::forecast_events`]).
    Round {
        round: u32,
        runs: usize,
        events: f64,
        planned_events: f64,
    },
    /// One simulation of the round finished.
    Ran(Simulated),
}

/// Sizes every technique of the experiment at its base point. `on_progress` hears of
/// each round as it starts and of each simulation as it finishes (from a worker
/// thread).
pub fn size(
    exp: &Experiment,
    options: &Options,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Result<Vec<Sizing>, SizingError> {
    refuse_faults(&exp.base)?;
    let searchers = exp
        .techniques
        .iter()
        .map(|&t| {
            let mut sc = exp.base.clone();
            sc.technique = t;
            sc.replication = 0;
            sc.target_utilization = exp.target.utilization;
            Searcher::new(&sc, &exp.target, options)
        })
        .collect();
    drive(searchers, options.jobs, on_progress)
}

/// Sizes one technique: `base` holds the deployment (clients, server figures); its
/// `instances` is ignored (that is what is being found).
pub fn size_technique(
    base: &Scenario,
    target: &Target,
    options: &Options,
) -> Result<Sizing, SizingError> {
    refuse_faults(base)?;
    let searcher = Searcher::new(base, target, options);
    let mut answers = drive(vec![searcher], options.jobs, &|_| {})?;
    Ok(answers.pop().expect("one answer per searcher"))
}

/// Scheduled crashes make the instances unequal: neither a representative instance nor
/// per-instance limits from totals would be exact.
fn refuse_faults(base: &Scenario) -> Result<(), SizingError> {
    if base.faults.is_empty() {
        Ok(())
    } else {
        Err(SizingError::ScheduledFaults {
            count: base.faults.len(),
        })
    }
}

/// Runs the searches to their end: each round, every unfinished search names its next
/// run, and the runner simulates them together. With more than one worker, each search
/// may add one run it will most likely need later ([`Searcher::speculative_run`]), so a
/// search that needs several runs in a row does not hold the last rounds alone; the
/// answers do not depend on it. Answers in the searchers' order; the first technique (in
/// that order) whose search fails is the error.
fn drive(
    mut searchers: Vec<Searcher>,
    jobs: usize,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Result<Vec<Sizing>, SizingError> {
    let mut round = 0;
    let failed = |s: &Searcher| {
        let technique = s.technique();
        move |problem| SizingError::Technique { technique, problem }
    };
    let workers = if jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        jobs
    };
    let mut answers: Vec<Option<Sizing>> = vec![None; searchers.len()];
    // Estimated events of the rounds run so far, for `Progress::Round`.
    let mut done_events = 0.0;
    loop {
        // (searcher, speculative?) of each scenario.
        let mut owners = Vec::new();
        let mut scenarios = Vec::new();
        for (i, searcher) in searchers.iter_mut().enumerate() {
            if answers[i].is_some() {
                continue;
            }
            match searcher.next_run().map_err(failed(searcher))? {
                NextRun::Simulate(sc) => {
                    owners.push((i, false));
                    scenarios.push(*sc);
                }
                NextRun::Answer(sizing) => answers[i] = Some(*sizing),
            }
        }
        if scenarios.is_empty() {
            break;
        }
        if workers > 1 {
            for (i, searcher) in searchers.iter_mut().enumerate() {
                if let Some(sc) = searcher.speculative_run() {
                    owners.push((i, true));
                    scenarios.push(sc);
                }
            }
        }
        round += 1;
        let events: f64 = scenarios.iter().map(|sc| estimate(sc).events).sum();
        let later: f64 = searchers
            .iter()
            .zip(&answers)
            .filter(|(_, answer)| answer.is_none())
            .map(|(s, _)| s.forecast_events())
            .sum();
        on_progress(&Progress::Round {
            round,
            runs: scenarios.len(),
            events,
            planned_events: done_events + events + later,
        });
        done_events += events;
        let outputs = run_scenarios(&scenarios, jobs, &|j, cost| {
            let sc = &scenarios[j];
            on_progress(&Progress::Ran(Simulated {
                technique: sc.technique,
                clients: sc.workload.clients as u64,
                instances: sc.server.instances,
                warmup: sc.warmup,
                estimated_events: estimate(sc).events,
                cost,
            }))
        })?;
        for ((&(i, speculative), sc), output) in owners.iter().zip(&scenarios).zip(outputs) {
            let searcher = &mut searchers[i];
            if speculative {
                searcher.ran_speculative(sc, output);
            } else {
                searcher.ran(sc, output).map_err(failed(searcher))?;
            }
        }
    }
    // Every search answered (the last round handed out no run).
    Ok(answers.into_iter().flatten().collect())
}
