//! The search of one technique's sizing, as a state machine of numbers: it asks for the
//! [`Load`] of some clients on some instances ([`Probe::Measure`]), is fed the answer,
//! and asks again until it knows the answer ([`Probe::Done`]).
//!
//! It never simulates: whoever drives it runs the simulations (`rtsim size` runs every
//! technique's next one together, through the runner), so the search itself is tested
//! here against made-up loads.
//!
//! 1. **Max clients per instance.** A pilot run of [`Options::pilot_clients`] on one
//!    instance predicts the boundary (slots, memory above the base and CPU grow in
//!    proportion to clients). Each run's own linear prediction then proposes the next
//!    client count (a secant step — exact in one step when demand is linear); when it
//!    would not move the bracket by at least the tolerance, the step is forced, doubling
//!    each time (classic bracketing); once a feasible and an infeasible count are both
//!    known, predictions inside them are used and anything else falls back to the
//!    midpoint, until the two are within [`Options::tolerance`] — or, sooner, until
//!    every capacity between them gives the same instance count ⌈N / capacity⌉ (the
//!    answer's own precision; the bracket is then at most [`SETTLED_WIDTH`] wide and
//!    reported). Latency is not linear,
//!    so a run that fails on latency proposes no prediction. A pilot that misses the
//!    latency target while its CPU is nearly idle ends the search: queueing is not the
//!    cause, so fewer clients cannot fix it. Capacity beyond the deployment's own
//!    clients is not searched (those would be the largest runs of all). When the
//!    pilot's aim is far from the edge of its instance count, the deployment is asked
//!    for first and may settle the count by itself ([`Search::deployment_first`]), so
//!    the one-instance run near the boundary — as costly as the deployment — is skipped.
//! 2. **Instances needed.** Start at ⌈N / max⌉ and measure the deployment; add an
//!    instance until every limit holds (with several instances updates also cross the
//!    pub/sub backplane, which the one-instance search did not see). Deployments of more
//!    than two instances are measured as two representative instances
//!    ([`deployment_run`]; the module doc of `sizing` says why that is exact).
//!
//! Over 600 lines because half of it is the tests that drive the search against made-up
//! linear instances.

use super::Options;
use super::error::SearchError;
use super::limits::{Limits, Load, Resource};
use crate::scenario::{Pattern, Scenario};

/// Upper bound of any search: the largest client count an experiment accepts.
pub const MAX_CLIENTS: u64 = 100_000_000;

/// Widest relative bracket of max clients per instance the search accepts once the
/// instance count is settled (see `Search::instances_settled`).
pub const SETTLED_WIDTH: f64 = 0.1;

/// How the deployment's numbers were obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Every client and every instance simulated.
    Full,
    /// Two representative instances simulated, totals scaled (see the module doc of
    /// `sizing`).
    ScaledRepresentative,
}

/// What the search needs next.
#[derive(Clone, Debug)]
pub enum Probe {
    /// The load of `clients` clients on `instances` instances, with every limit lifted.
    Measure { clients: u64, instances: u32 },
    /// The search is over.
    Done(Outcome),
}

/// What the max-clients search found.
#[derive(Clone, Debug, PartialEq)]
pub struct Capacity {
    /// Largest feasible clients per instance (> 0).
    pub max_clients: u64,
    /// The resource exceeded first just above `max_clients`; at the cap, the one
    /// closest to its limit.
    pub limiting: Resource,
    /// The search reached its cap (the deployment's clients) still feasible.
    pub at_cap: bool,
    /// The smallest count seen to break a limit (`None` at the cap): the capacity lies
    /// in `max_clients..infeasible`. The search stops as soon as that range settles the
    /// instance count, so it can be wider than the tolerance.
    pub infeasible: Option<u64>,
    /// The pilot run's linear prediction of the boundary (slots, memory, CPU only).
    pub predicted: f64,
    /// When the search stopped on a feasible run close below its own linear
    /// prediction (see [`PREDICTED_STOP_LATENCY`]): that predicted boundary, where
    /// `limiting` is predicted to run out. Not simulated; `infeasible` is then `None`.
    pub limit_predicted: Option<f64>,
    /// The deployment run settled the instance count by itself (see
    /// [`Search::deployment_first`]): `max_clients` is its clients per instance and
    /// `limit_predicted` its own prediction; no one-instance run near the boundary was
    /// simulated.
    pub from_deployment: bool,
}

/// A feasible run whose latency uses at most this share of its target may end the
/// search on its own linear prediction of the boundary: latency is not linear, so a run
/// already near the latency target must be bracketed by simulation.
pub const PREDICTED_STOP_LATENCY: f64 = 0.8;

/// The answer of one technique's search.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Not even the smallest count of clients per instance meets the target.
    NoneMeets {
        limiting: Resource,
        /// p99 of the smallest run, the technique's latency floor.
        floor_p99_s: f64,
        /// Clients per instance of that run.
        floor_clients: u64,
    },
    /// `instances` instances hold the deployment within every limit.
    Sized {
        capacity: Capacity,
        instances: u32,
        /// ⌈N / max⌉, where the count started.
        first: u32,
        /// The deployment's measured load (boxed: it is most of the answer's size).
        deployment: Box<Load>,
        method: Method,
    },
}

/// Where the search is.
#[derive(Clone, Debug)]
enum Stage {
    /// Waiting for the pilot run.
    Pilot,
    /// Waiting for a one-instance run of `n` clients.
    Bracket { n: u64 },
    /// Waiting for the deployment on `k` instances, simulated before any one-instance
    /// run near the boundary (see [`Search::deployment_first`]).
    DeployFirst { k: u32, method: Method },
    /// Waiting for the deployment on `k` instances.
    Deploy {
        capacity: Capacity,
        first: u32,
        k: u32,
        method: Method,
    },
    /// Over; a finished search keeps its answer.
    Done(Outcome),
}

/// One technique's sizing search.
#[derive(Clone, Debug)]
pub struct Search {
    limits: Limits,
    /// Memory of an idle instance: it does not grow with clients.
    base_memory: f64,
    cores: f64,
    /// Clients per room for chat (runs keep rooms whole), else 1.
    granule: u64,
    /// N, the deployment's clients.
    clients: u64,
    pilot: u64,
    /// The largest count the search tries.
    cap: u64,
    tolerance: f64,
    stage: Stage,
    /// Largest known feasible count (0 = vacuously) and its load.
    lo: u64,
    lo_load: Option<Load>,
    /// Smallest known infeasible count and the resource it exceeded.
    hi: Option<(u64, Resource)>,
    /// The next count proposed, and the forced relative steps up and down.
    next: f64,
    up: f64,
    down: f64,
    predicted: f64,
    /// The smallest one-instance run: (clients, p99).
    smallest: Option<(u64, f64)>,
    cpu_per_client: Option<f64>,
    /// The linear prediction of the largest feasible run (`lo`), with the resource it
    /// says runs out, when latency there is far from its target.
    lo_prediction: Option<(f64, Resource)>,
}

impl Search {
    /// A search for the deployment of `base` (its clients and server figures) within
    /// `limits`.
    pub fn new(base: &Scenario, limits: Limits, options: &Options) -> Search {
        let granule = granule(base);
        let pilot = round_up(options.pilot_clients.max(1), granule);
        Search {
            limits,
            base_memory: base.server.base_memory as f64,
            cores: base.server.cores as f64,
            granule,
            clients: base.workload.clients as u64,
            pilot,
            // Capacity beyond the deployment's own clients is not needed for sizing and
            // would cost the largest runs of all: the search stops at N.
            cap: round_up(base.workload.clients as u64, granule)
                .clamp(granule, MAX_CLIENTS)
                .max(pilot),
            tolerance: options.tolerance.max(1e-6),
            stage: Stage::Pilot,
            lo: 0,
            lo_load: None,
            hi: None,
            next: 0.0,
            up: 0.0,
            down: 0.0,
            predicted: MAX_CLIENTS as f64,
            smallest: None,
            cpu_per_client: None,
            lo_prediction: None,
        }
    }

    /// The first run: the pilot.
    pub fn start(&self) -> Probe {
        Probe::Measure {
            clients: self.pilot,
            instances: 1,
        }
    }

    /// Steady CPU core-seconds per second per client, once the pilot has run: the
    /// start-up rules of the later runs depend on it.
    pub fn cpu_per_client(&self) -> Option<f64> {
        self.cpu_per_client
    }

    /// The load of the last [`Probe::Measure`]; returns the next probe.
    pub fn feed(&mut self, load: Load) -> Result<Probe, SearchError> {
        match self.stage.clone() {
            Stage::Pilot => Ok(self.pilot_measured(load)),
            Stage::Bracket { n } => {
                self.bracket_measured(n, load);
                Ok(self.bracket_next())
            }
            Stage::DeployFirst { k, method } => Ok(self.deployment_first_measured(k, method, load)),
            Stage::Deploy {
                capacity,
                first,
                k,
                method,
            } => self.deployment_measured(capacity, first, k, method, load),
            Stage::Done(outcome) => Ok(Probe::Done(outcome)),
        }
    }

    fn note_smallest(&mut self, n: u64, load: &Load) {
        if self.smallest.is_none_or(|(s, _)| n < s) {
            self.smallest = Some((n, load.latency_p99_s));
        }
    }

    fn pilot_measured(&mut self, pilot: Load) -> Probe {
        let n = self.pilot;
        self.note_smallest(n, &pilot);
        self.cpu_per_client = Some(pilot.cpu_utilization * self.cores / n as f64);
        self.predicted = self.predict(n, &pilot).unwrap_or(MAX_CLIENTS as f64);
        self.up = self.tolerance;
        self.down = self.tolerance;
        match self.limits.exceeded(&pilot) {
            None => {
                self.lo = n;
                self.lo_load = Some(pilot);
                // Aim just below the prediction (twice the tolerance): a run there is
                // most likely feasible, and its own prediction — from near the boundary,
                // so nearly exact — may settle the answer without a failing run.
                self.next = if self.predicted >= self.cap as f64 {
                    self.predicted
                } else {
                    self.predicted * (1.0 - 2.0 * self.tolerance)
                };
            }
            // Latency missed while the CPU is nearly idle: queueing is not the cause,
            // so fewer clients cannot fix it (and tiny runs would only add noise).
            Some(Resource::Latency) if pilot.cpu_utilization <= 0.5 * self.limits.utilization => {
                return self.none_meets(Resource::Latency);
            }
            // Updates lost or stalled while every limit held: not load either.
            Some(r) if !r.instances_help() => return self.none_meets(r),
            Some(r) => {
                self.hi = Some((n, r));
                self.next = n as f64 / 2.0;
            }
        }
        self.deployment_first()
            .unwrap_or_else(|| self.bracket_next())
    }

    /// After a feasible pilot that puts the boundary below N, the bracket's next run
    /// would be one instance of `n1` clients (twice the tolerance below the pilot's
    /// prediction), which means k = ⌈N / n1⌉ instances. When even a capacity
    /// [`SETTLED_WIDTH`] above `n1` would leave k − 1 instances short of N, the answer is
    /// most likely k whatever the bracket finds, so the deployment on k instances —
    /// needed in any case — is simulated first; if it settles the count by itself
    /// ([`Self::deployment_first_measured`]) the one-instance run near the boundary, as
    /// costly as the deployment, is never simulated.
    fn deployment_first(&mut self) -> Option<Probe> {
        if self.hi.is_some() || self.lo == 0 || self.predicted >= self.cap as f64 {
            return None;
        }
        let g = self.granule;
        let n1 = round_up(self.next.max(0.0).floor() as u64, g)
            .max(self.lo + g)
            .min(self.cap);
        if n1 >= self.clients {
            return None;
        }
        let k = u32::try_from(self.clients.div_ceil(n1)).ok()?;
        if k < 2 || !self.short_of(k - 1, n1 as f64) {
            return None;
        }
        let (clients, instances, method) = deployment_run(self.clients, k, g);
        self.stage = Stage::DeployFirst { k, method };
        Some(Probe::Measure { clients, instances })
    }

    /// `instances` instances of `capacity` clients each — even [`SETTLED_WIDTH`] more
    /// — hold fewer than the deployment's N.
    fn short_of(&self, instances: u32, capacity: f64) -> bool {
        instances as f64 * capacity * (1.0 + SETTLED_WIDTH) < self.clients as f64
    }

    /// The deployment asked for by [`Self::deployment_first`] settles the count k when
    /// it holds every limit with its p99 within [`PREDICTED_STOP_LATENCY`] of the target,
    /// and its own linear prediction (per instance, from a run far closer to the
    /// boundary than the pilot) leaves k − 1 instances short of N by more than
    /// [`SETTLED_WIDTH`]. Otherwise the one-instance search goes on as if it had not
    /// run (its output is remembered, so a later question for it costs nothing).
    fn deployment_first_measured(&mut self, k: u32, method: Method, load: Load) -> Probe {
        let n = load.clients_per_instance;
        let prediction = self.predict_limit(n, &load).filter(|&(p, _)| {
            self.limits.exceeded(&load).is_none()
                && self.limits.ratio(&load, Resource::Latency) <= PREDICTED_STOP_LATENCY
                && self.short_of(k - 1, p)
        });
        let Some((p, limiting)) = prediction else {
            return self.bracket_next();
        };
        self.done(Outcome::Sized {
            capacity: Capacity {
                max_clients: n,
                limiting,
                at_cap: false,
                infeasible: None,
                predicted: self.predicted,
                limit_predicted: Some(p),
                from_deployment: true,
            },
            instances: k,
            first: k,
            deployment: Box::new(load),
            method,
        })
    }

    /// Linear prediction of the boundary from one run of `n` clients: slots, memory above
    /// the base and CPU grow in proportion to clients. `None` when nothing grows.
    fn predict(&self, n: u64, load: &Load) -> Option<f64> {
        self.predict_limit(n, load).map(|(p, _)| p)
    }

    /// [`Self::predict`] with the resource predicted to run out there.
    fn predict_limit(&self, n: u64, load: &Load) -> Option<(f64, Resource)> {
        let per = |demand: f64, limit: f64| {
            if demand > 0.0 {
                limit / demand * n as f64
            } else {
                f64::INFINITY
            }
        };
        let (p, r) = [
            (
                per(load.connections_peak, self.limits.max_connections),
                Resource::Slots,
            ),
            (
                per(
                    load.memory_peak_bytes - self.base_memory,
                    self.limits.memory_limit_bytes - self.base_memory,
                ),
                Resource::Memory,
            ),
            (
                per(load.cpu_utilization, self.limits.utilization),
                Resource::Cpu,
            ),
        ]
        .into_iter()
        .fold((f64::INFINITY, Resource::Slots), |a, b| {
            if b.0 < a.0 { b } else { a }
        });
        p.is_finite()
            .then_some((p.clamp(1.0, MAX_CLIENTS as f64), r))
    }

    /// The next one-instance count to try, or the end of the max-clients search.
    fn bracket_next(&mut self) -> Probe {
        let g = self.granule;
        let lo = self.lo;
        let upper = match self.hi {
            Some((h, _)) => {
                let width = h - lo;
                if width <= g
                    || (lo > 0 && (width as f64) <= self.tolerance * lo as f64)
                    || self.instances_settled(lo, h)
                {
                    return self.capacity_found(false);
                }
                h - g
            }
            None if lo >= self.cap => return self.capacity_found(true),
            None if self.settled_by_prediction() => return self.capacity_found(false),
            None => self.cap,
        };
        let lower = lo + g;
        let mut n = round_up(self.next.max(0.0).floor() as u64, g);
        if self.hi.is_some() && lo > 0 && (n < lower || n > upper) {
            n = round_up(lo + (upper + g - lo) / 2, g);
        }
        // `max` then `min` rather than `clamp`: never a panic if a cap off the granule
        // leaves no room (the upper bound wins).
        let n = n.max(lower).min(upper);
        self.stage = Stage::Bracket { n };
        Probe::Measure {
            clients: n,
            instances: 1,
        }
    }

    /// The answer's precision is the instance count: once every capacity in
    /// `lo..hi` gives the same ⌈N / capacity⌉, more bisection would not change it, so
    /// the search stops (the range is reported). Only within [`SETTLED_WIDTH`] of `lo`,
    /// so the capacity itself stays a useful figure.
    fn instances_settled(&self, lo: u64, hi: u64) -> bool {
        lo > 0
            && ((hi - lo) as f64) <= SETTLED_WIDTH * lo as f64
            && self.clients.div_ceil(lo) == self.clients.div_ceil((hi - self.granule).max(lo))
    }

    /// The answer's precision reached on the feasible side alone: the largest feasible
    /// run `lo`, with latency well inside its target, predicts (linearly, from near the
    /// boundary) that slots, memory or CPU run out within [`SETTLED_WIDTH`] above it
    /// and below the cap, and every capacity in between gives the same instance count.
    /// The failing run that would confirm it is not simulated; the answer says the
    /// upper end is predicted.
    fn settled_by_prediction(&self) -> bool {
        let Some((p, _)) = self.lo_prediction else {
            return false;
        };
        let lo = self.lo;
        let upper = p.floor() as u64;
        lo > 0 && upper > lo && upper < self.cap && self.instances_settled(lo, upper + self.granule)
    }

    fn bracket_measured(&mut self, n: u64, load: Load) {
        self.note_smallest(n, &load);
        let verdict = self.limits.exceeded(&load);
        let prediction = match verdict {
            Some(Resource::Latency) => None,
            _ => self.predict(n, &load),
        };
        match verdict {
            None => {
                self.lo = n;
                self.lo_prediction = self.predict_limit(n, &load).filter(|_| {
                    self.limits.ratio(&load, Resource::Latency) <= PREDICTED_STOP_LATENCY
                });
                self.lo_load = Some(load);
                // Move up by at least the tolerance.
                let floor = n as f64 * (1.0 + self.up);
                self.next = match prediction {
                    Some(p) if p >= floor => p,
                    _ => {
                        self.up *= 2.0;
                        floor
                    }
                };
            }
            Some(r) => {
                self.hi = Some((n, r));
                // Move down by at least the tolerance.
                let ceiling = if self.down >= 0.5 {
                    n as f64 / 2.0
                } else {
                    n as f64 * (1.0 - self.down)
                };
                self.next = match prediction {
                    Some(p) if p <= ceiling => p,
                    _ => {
                        self.down *= 2.0;
                        ceiling
                    }
                };
            }
        }
    }

    fn none_meets(&mut self, limiting: Resource) -> Probe {
        let (floor_clients, floor_p99_s) = self.smallest.unwrap_or((0, f64::NAN));
        self.done(Outcome::NoneMeets {
            limiting,
            floor_p99_s,
            floor_clients,
        })
    }

    fn done(&mut self, outcome: Outcome) -> Probe {
        self.stage = Stage::Done(outcome.clone());
        Probe::Done(outcome)
    }

    /// The max-clients search is over: the deployment search starts at ⌈N / max⌉.
    fn capacity_found(&mut self, at_cap: bool) -> Probe {
        let by_prediction = !at_cap && self.hi.is_none();
        let limiting = match (self.hi, &self.lo_load) {
            (Some((_, r)), _) => r,
            (None, Some(_)) if by_prediction => {
                self.lo_prediction.map_or(Resource::Slots, |(_, r)| r)
            }
            // Feasible up to the cap: name the resource closest to its limit there.
            (None, Some(load)) => self.limits.closest(load),
            // Unreachable (the pilot is feasible or infeasible), but no reason to panic.
            (None, None) => Resource::Slots,
        };
        if self.lo == 0 {
            return self.none_meets(limiting);
        }
        let capacity = Capacity {
            max_clients: self.lo,
            limiting,
            at_cap,
            infeasible: self.hi.map(|(h, _)| h),
            predicted: self.predicted,
            limit_predicted: if by_prediction {
                self.lo_prediction.map(|(p, _)| p)
            } else {
                None
            },
            from_deployment: false,
        };
        let first = self.clients.div_ceil(self.lo).max(1) as u32;
        self.deploy(capacity, first, first)
    }

    fn deploy(&mut self, capacity: Capacity, first: u32, k: u32) -> Probe {
        let (clients, instances, method) = deployment_run(self.clients, k, self.granule);
        self.stage = Stage::Deploy {
            capacity,
            first,
            k,
            method,
        };
        Probe::Measure { clients, instances }
    }

    fn deployment_measured(
        &mut self,
        capacity: Capacity,
        first: u32,
        k: u32,
        method: Method,
        load: Load,
    ) -> Result<Probe, SearchError> {
        let exceeded = self.limits.exceeded(&load);
        if let Some(r) = exceeded.filter(|r| !r.instances_help()) {
            return Ok(self.none_meets(r));
        }
        if exceeded.is_none() {
            return Ok(self.done(Outcome::Sized {
                capacity,
                instances: k,
                first,
                deployment: Box::new(load),
                method,
            }));
        }
        if k >= first.saturating_mul(2).max(first.saturating_add(8)) {
            return Err(SearchError::NotMonotone {
                first,
                last: k,
                max_clients: capacity.max_clients,
            });
        }
        Ok(self.deploy(capacity, first, k + 1))
    }
}

/// Clients per room for chat (runs keep rooms whole), else 1.
pub fn granule(sc: &Scenario) -> u64 {
    match sc.workload.pattern {
        Pattern::Chat => sc.workload.room_size.max(1) as u64,
        _ => 1,
    }
}

/// `n` rounded up to a multiple of `g`.
pub fn round_up(n: u64, g: u64) -> u64 {
    n.div_ceil(g) * g
}

/// The run that measures a deployment of `clients` clients on `k` instances, as
/// (clients, instances, method): the deployment itself for `k ≤ 2`, else two
/// representative instances of ⌈N/k⌉ clients each (rooms kept whole).
pub fn deployment_run(clients: u64, k: u32, granule: u64) -> (u64, u32, Method) {
    if k <= 2 {
        return (clients, k, Method::Full);
    }
    let per = round_up(clients.div_ceil(k as u64), granule);
    (round_up(2 * per, granule), 2, Method::ScaledRepresentative)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::RunMetrics;

    /// An instance of 8 cores, 10,000 slots, 1 GB (100 MB idle), at 70 % CPU and p99
    /// ≤ 1 s.
    fn limits() -> Limits {
        Limits {
            max_connections: 10_000.0,
            memory_limit_bytes: 1e9,
            utilization: 0.7,
            latency_p99_s: Some(1.0),
            loss: super::super::limits::Cause::Retention,
        }
    }

    fn base(clients: u32) -> Scenario {
        let mut sc = Scenario::reference();
        sc.workload.clients = clients;
        sc.server.base_memory = 100_000_000;
        sc.server.cores = 8;
        sc
    }

    fn options() -> Options {
        Options {
            tolerance: 0.02,
            pilot_clients: 100,
            ..Options::default()
        }
    }

    /// A made-up instance whose demand is linear in its clients: one slot, 100 kB and
    /// `cpu` of utilization per client; p99 `p99_s`.
    fn linear(cpu: f64, p99_s: f64) -> impl Fn(u64, u32) -> Load {
        move |clients, instances| {
            let per = clients.div_ceil(instances as u64);
            Load {
                clients_per_instance: per,
                instances,
                connections_peak: per as f64,
                memory_peak_bytes: 1e8 + 1e5 * per as f64,
                cpu_utilization: cpu * per as f64,
                latency_p99_s: p99_s,
                warmup_s: 0.0,
                start_window_s: 0.0,
                duration_s: 10.0,
                totals: RunMetrics::default(),
            }
        }
    }

    /// Drives a search against `model`; returns its outcome and the runs it asked for.
    fn drive(
        mut search: Search,
        model: impl Fn(u64, u32) -> Load,
    ) -> Result<(Outcome, Vec<(u64, u32)>), SearchError> {
        let mut asked = Vec::new();
        let mut probe = search.start();
        loop {
            match probe {
                Probe::Done(outcome) => return Ok((outcome, asked)),
                Probe::Measure { clients, instances } => {
                    asked.push((clients, instances));
                    probe = search.feed(model(clients, instances))?;
                }
            }
        }
    }

    fn sized(outcome: Outcome) -> (Capacity, u32, u32, Method) {
        match outcome {
            Outcome::Sized {
                capacity,
                instances,
                first,
                method,
                ..
            } => (capacity, instances, first, method),
            other => panic!("not sized: {other:?}"),
        }
    }

    #[test]
    fn linear_demand_is_found_in_one_secant_step() {
        // Memory binds first: (1 GB − 100 MB) / 100 kB = 9,000 clients (slots at
        // 10,000, CPU at 70,000).
        let search = Search::new(&base(100_000), limits(), &options());
        let (outcome, asked) = drive(search, linear(1e-5, 0.1)).unwrap();
        let (capacity, k, first, method) = sized(outcome);
        assert_eq!(capacity.limiting, Resource::Memory);
        // The pilot predicts 9,000; the search aims twice the tolerance below (8,640),
        // which is feasible and predicts 9,000 again: every capacity in between means
        // 12 instances, so no failing run is simulated and the upper end is predicted.
        assert_eq!(capacity.max_clients, 8_640, "{capacity:?}");
        assert_eq!(capacity.infeasible, None);
        assert_eq!(capacity.limit_predicted, Some(9_000.0));
        assert!(!capacity.at_cap);
        assert_eq!(capacity.predicted, 9_000.0);
        assert_eq!(first, 100_000u64.div_ceil(capacity.max_clients) as u32);
        assert_eq!(k, first);
        assert_eq!(method, Method::ScaledRepresentative);
        // Pilot, just below the predicted boundary, then the deployment.
        assert_eq!(asked, [(100, 1), (8_640, 1), (16_668, 2)]);
    }

    #[test]
    fn a_prediction_that_leaves_the_count_open_is_bracketed_by_simulation() {
        // N = 17,500 of 9,000 memory-bound clients per instance: 8,640 feasible
        // predicts 9,000, but 8,640 means 3 instances and 9,000 means 2, so the
        // prediction does not settle the count and the search simulates a failing run.
        let search = Search::new(&base(17_500), limits(), &options());
        let (outcome, asked) = drive(search, linear(1e-5, 0.1)).unwrap();
        let (capacity, ..) = sized(outcome);
        assert_eq!(capacity.limit_predicted, None);
        assert!(asked.len() > 3, "{asked:?}");
    }

    #[test]
    fn a_run_near_its_latency_target_is_not_settled_by_prediction() {
        // p99 at 90 % of its target: latency is not linear, so the search needs a failing
        // run before it stops.
        let search = Search::new(&base(100_000), limits(), &options());
        let (outcome, _) = drive(search, linear(1e-5, 0.9)).unwrap();
        let (capacity, ..) = sized(outcome);
        assert_eq!(capacity.limit_predicted, None);
        assert!(capacity.infeasible.is_some());
    }

    #[test]
    fn the_search_stops_once_the_instance_count_is_settled() {
        // 1e-4 CPU per client with a made-up noisy knee: the secant overshoots. A 2 %
        // search needs many runs; for N = 10,000 any capacity in 5,000..10,000 means
        // two instances, so the search stops as soon as its bracket (≤ 10 % wide) lies
        // inside that. (Deployments run with p99 near the target, so the deployment
        // asked for first does not settle the count and the bracket is what is tested.)
        let model = |clients: u64, instances: u32| {
            let mut load = linear(1e-4, 0.1)(clients, instances);
            let per = load.clients_per_instance as f64;
            load.cpu_utilization = 1e-4 * per + if per > 6_000.0 { 0.05 } else { 0.0 };
            if instances > 1 {
                load.latency_p99_s = 0.9;
            }
            load
        };
        let tight = Options {
            tolerance: 0.001,
            ..options()
        };
        let (outcome, asked) = drive(Search::new(&base(10_000), limits(), &tight), model).unwrap();
        let (capacity, k, first, _) = sized(outcome);
        assert_eq!((k, first), (2, 2));
        let below = capacity.infeasible.expect("a failing count is known");
        assert!(capacity.max_clients < below);
        assert!(
            (below - capacity.max_clients) as f64 <= SETTLED_WIDTH * capacity.max_clients as f64
        );
        assert!(10_000u64.div_ceil(capacity.max_clients) == 10_000u64.div_ceil(below - 1));
        // Without the rule, a 0.1 % search would take about log2(10 % / 0.1 %) ≈ 7 more.
        // The deployment was asked for first (it did not settle the count) and again at
        // the end (a searcher answers that from memory).
        assert_eq!(asked[1], (10_000, 2));
        assert!(asked.len() <= 7, "{asked:?}");
        // Where the count is not settled (N = 13,000: 6,500 is the edge of two
        // instances), the bracket is bisected to the tolerance.
        let (outcome, _) = drive(Search::new(&base(13_000), limits(), &tight), model).unwrap();
        let (capacity, ..) = sized(outcome);
        let below = capacity.infeasible.unwrap();
        assert!((below - capacity.max_clients) as f64 <= 0.001 * capacity.max_clients as f64 + 1.0);
    }

    #[test]
    fn a_deployment_far_from_the_edge_of_its_count_settles_it_without_a_boundary_run() {
        // N = 15,000 of 9,000 memory-bound clients per instance: the pilot aims at 8,640,
        // which means 2 instances, and one instance even 10 % above that (9,504) is short
        // of 15,000. So the deployment (7,500 per instance) is simulated first; it holds
        // and predicts 9,000 per instance, 9,900 with the margin, still short: the count
        // is 2 without a one-instance run near the boundary.
        let search = Search::new(&base(15_000), limits(), &options());
        let (outcome, asked) = drive(search, linear(1e-5, 0.1)).unwrap();
        assert_eq!(asked, [(100, 1), (15_000, 2)]);
        let (capacity, k, first, method) = sized(outcome);
        assert_eq!((k, first, method), (2, 2, Method::Full));
        assert_eq!(capacity.limiting, Resource::Memory);
        assert_eq!(capacity.max_clients, 7_500);
        assert_eq!(capacity.limit_predicted, Some(9_000.0));
        assert!(capacity.from_deployment);
        assert_eq!(capacity.infeasible, None);
        // A deployment near its latency target does not settle it: the bracket goes on
        // and finds the same count.
        let model = |clients: u64, instances: u32| {
            let mut load = linear(1e-5, 0.1)(clients, instances);
            if instances > 1 {
                load.latency_p99_s = 0.9;
            }
            load
        };
        let (outcome, asked) =
            drive(Search::new(&base(15_000), limits(), &options()), model).unwrap();
        let (capacity, k, ..) = sized(outcome);
        assert_eq!(k, 2);
        assert!(!capacity.from_deployment);
        assert_eq!(capacity.max_clients, 8_640);
        assert_eq!(asked, [(100, 1), (15_000, 2), (8_640, 1), (15_000, 2)]);
        // Near the edge of a count the bracket comes first, as before: N = 17,500,
        // 8,640 per instance means 3 instances, but two of 9,504 would hold 19,008.
        let (_, asked) = drive(
            Search::new(&base(17_500), limits(), &options()),
            linear(1e-5, 0.1),
        )
        .unwrap();
        assert_eq!(asked[1], (8_640, 1));
    }

    #[test]
    fn cpu_binds_when_clients_are_expensive() {
        // 0.1 % CPU per client: 700 clients at 70 %.
        let search = Search::new(&base(5_000), limits(), &options());
        let (outcome, _) = drive(search, linear(1e-3, 0.1)).unwrap();
        let (capacity, k, _, _) = sized(outcome);
        assert_eq!(capacity.limiting, Resource::Cpu);
        assert_eq!(capacity.limit_predicted, Some(700.0), "{capacity:?}");
        assert!((630..700).contains(&capacity.max_clients), "{capacity:?}");
        assert_eq!(k, 5_000u64.div_ceil(capacity.max_clients) as u32);
        assert_eq!(k, 5_000u64.div_ceil(700) as u32);
    }

    #[test]
    fn a_latency_floor_at_an_idle_pilot_ends_the_search() {
        let search = Search::new(&base(5_000), limits(), &options());
        let (outcome, asked) = drive(search, linear(1e-5, 3.0)).unwrap();
        assert_eq!(asked, [(100, 1)]);
        match outcome {
            Outcome::NoneMeets {
                limiting,
                floor_p99_s,
                floor_clients,
            } => {
                assert_eq!(limiting, Resource::Latency);
                assert_eq!(floor_p99_s, 3.0);
                assert_eq!(floor_clients, 100);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_instance_holding_everyone_stops_at_the_cap() {
        let search = Search::new(&base(2_000), limits(), &options());
        let (outcome, asked) = drive(search, linear(1e-5, 0.1)).unwrap();
        let (capacity, k, _, method) = sized(outcome);
        assert!(capacity.at_cap);
        assert_eq!(capacity.max_clients, 2_000);
        // 2,000 of 9,000 memory-bound clients: memory is the closest to its limit.
        assert_eq!(capacity.limiting, Resource::Memory);
        assert_eq!((k, method), (1, Method::Full));
        // The deployment (2,000 on 1) is the last one-instance run again.
        assert_eq!(asked.last(), Some(&(2_000, 1)));
        assert_eq!(asked.iter().filter(|a| **a == (2_000, 1)).count(), 2);
    }

    #[test]
    fn instances_are_added_until_the_deployment_holds() {
        // One instance holds 7,000 (CPU), so the count starts at 2; but an instance of a
        // deployment pays twice the CPU of a lone one (a made-up backplane), so 2
        // instances of 4,000 run at 80 % and a third is needed.
        let search = Search::new(&base(8_000), limits(), &options());
        let one = linear(1e-4, 0.1);
        let model = |clients: u64, instances: u32| {
            let mut load = one(clients, instances);
            if instances > 1 {
                load.cpu_utilization *= 2.0;
            }
            load
        };
        let (outcome, _) = drive(search, model).unwrap();
        let (capacity, k, first, _) = sized(outcome);
        assert_eq!(capacity.limiting, Resource::Cpu);
        assert_eq!(first, 2);
        assert_eq!(k, 3);
    }

    #[test]
    fn a_deployment_that_never_holds_is_an_error() {
        let search = Search::new(&base(8_000), limits(), &options());
        let one = linear(1e-4, 0.1);
        let model = |clients: u64, instances: u32| {
            let mut load = one(clients, instances);
            if instances > 1 {
                load.latency_p99_s = 5.0;
            }
            load
        };
        let err = drive(search, model).unwrap_err();
        assert!(
            matches!(
                err,
                SearchError::NotMonotone {
                    first: 2,
                    last: 10,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_finished_search_keeps_its_answer() {
        let mut search = Search::new(&base(5_000), limits(), &options());
        let load = linear(1e-5, 3.0);
        let Ok(Probe::Done(first)) = search.feed(load(100, 1)) else {
            panic!("a latency floor ends the search at the pilot")
        };
        let Ok(Probe::Done(again)) = search.feed(load(5_000, 1)) else {
            panic!("still done")
        };
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
    }

    #[test]
    fn representatives_keep_rooms_whole() {
        assert_eq!(deployment_run(1000, 1, 1), (1000, 1, Method::Full));
        assert_eq!(deployment_run(1000, 2, 1), (1000, 2, Method::Full));
        assert_eq!(
            deployment_run(1_000_000, 10, 1),
            (200_000, 2, Method::ScaledRepresentative)
        );
        // 1,000 clients on 3 instances: 334 each, rounded up to rooms of 10 → 340.
        assert_eq!(
            deployment_run(1000, 3, 10),
            (680, 2, Method::ScaledRepresentative)
        );
    }
}
