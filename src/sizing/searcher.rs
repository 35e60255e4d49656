//! One technique's sizing: its [`Search`]'s questions turned into scenarios to simulate,
//! their answers remembered, and the outcome turned into a [`Sizing`].
//!
//! A question ("the load of `n` clients on `k` instances") is answered from memory when
//! it was asked before; otherwise [`Searcher::next_run`] hands out the scenario to
//! simulate — the technique's base with every limit lifted, no faults, and the start
//! window and warm-up of [`StartUp`] — and [`Searcher::ran`] takes its output back. Who
//! simulates is the caller's business (`rtsim size` batches every technique's next run
//! through the runner).

use std::collections::{BTreeMap, BTreeSet};

use super::cost::{HOURS_PER_MONTH, egress_gb_per_month, monthly_cost};
use super::deploy::{self, Deploy, DeployCheck};
use super::error::{SearchError, SizingError};
use super::failover::{self, Failure, Storm};
use super::limits::{Limits, Load, Resource};
use super::pricing::{self, Counts, managed_cost};
use super::search::{Method, Outcome, Probe, Search, deployment_run, granule};
use super::warmup::{StartUp, adjustment};
use super::{FailoverCheck, Note, Options, Sizing, backplane, churn};
use crate::experiment::Target;
use crate::results::RunOutput;
use crate::runner::run_scenarios;
use crate::scenario::{Scenario, Technique};
use crate::sim::estimate;

/// What a technique's sizing needs next.
#[derive(Clone, Debug)]
pub enum NextRun {
    /// This scenario simulated; hand its output to [`Searcher::ran`].
    Simulate(Box<Scenario>),
    /// The search is over.
    Answer(Box<Sizing>),
}

/// Runs and remembers the sizing simulations of one technique.
#[derive(Clone, Debug)]
pub struct Searcher {
    base: Scenario,
    target: Target,
    options: Options,
    limits: Limits,
    search: Search,
    /// What the search waits for.
    probe: Probe,
    /// (clients, instances) → load.
    cache: BTreeMap<(u64, u32), Load>,
    /// The run handed out and not yet back.
    pending: Option<(u64, u32)>,
    /// Runs simulated ahead of the search's question ([`Searcher::speculative_run`])
    /// and not yet asked for: they count as simulations once the search uses them.
    speculated: BTreeSet<(u64, u32)>,
    /// A speculative run was handed out (one per search at most).
    speculated_once: bool,
    simulations: u32,
    /// The redundancy check, once the search has sized the steady state.
    check: Check,
    /// The deploy check, after the redundancy check.
    deploy: DeployStage,
}

/// Where the deploy check is.
#[derive(Clone, Debug)]
enum DeployStage {
    NotStarted,
    Running(Deploy),
    Done(Option<DeployCheck>),
}

/// Where the redundancy check is.
#[derive(Clone, Debug)]
enum Check {
    /// Not started (or not asked for: see [`failover::plan`]).
    NotStarted,
    /// The failure run of `failure` is out; the plan was `plan`, `tried` the failure
    /// runs before.
    Running {
        plan: Failure,
        failure: Failure,
        tried: Vec<Storm>,
    },
    /// Over.
    Done(Option<FailoverCheck>),
}

impl Searcher {
    /// Sizes `base`'s technique for its clients: `base` holds the deployment (clients,
    /// server figures); its `instances` is ignored (that is what is being found).
    pub fn new(base: &Scenario, target: &Target, options: &Options) -> Searcher {
        let limits = Limits::new(base, target);
        let search = Search::new(base, limits.clone(), options);
        Searcher {
            probe: search.start(),
            base: base.clone(),
            target: target.clone(),
            options: options.clone(),
            limits,
            search,
            cache: BTreeMap::new(),
            pending: None,
            speculated: BTreeSet::new(),
            speculated_once: false,
            simulations: 0,
            check: Check::NotStarted,
            deploy: DeployStage::NotStarted,
        }
    }

    pub fn technique(&self) -> Technique {
        self.base.technique
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Simulations run so far (answers from memory do not count).
    pub fn simulations(&self) -> u32 {
        self.simulations
    }

    /// The scenario of `clients` clients on `instances` instances with every limit
    /// lifted, so the run measures demand rather than refusals; refused when its
    /// estimated cost exceeds [`Options::max_events_per_run`].
    pub fn scenario(&self, clients: u64, instances: u32) -> Result<Scenario, SearchError> {
        let per_instance = clients.div_ceil(instances as u64);
        let startup = StartUp::new(
            &self.base,
            self.limits.utilization,
            self.search.cpu_per_client(),
        );
        let mut sc = self.base.clone();
        sc.workload.clients =
            u32::try_from(clients).map_err(|_| SearchError::TooManyClients { clients })?;
        sc.server.instances = instances;
        sc.server.max_connections = u64::MAX / 4;
        sc.server.memory_limit = u64::MAX / 4;
        sc.faults.clear();
        sc.warmup = startup.warmup(per_instance);
        sc.workload.start_window = startup.start_window(per_instance);
        let events = estimate(&sc).events;
        if events > self.options.max_events_per_run {
            return Err(SearchError::RunTooLarge {
                clients,
                instances,
                events,
                limit: self.options.max_events_per_run,
            });
        }
        Ok(sc)
    }

    /// Remembers the output of a run of `sc` (from [`Self::scenario`]).
    fn remember(&mut self, sc: &Scenario, output: RunOutput) -> Load {
        let key = (sc.workload.clients as u64, sc.server.instances);
        let load = Load::from_run(key.0, key.1, sc, output.metrics);
        self.simulations += 1;
        self.cache.insert(key, load.clone());
        load
    }

    /// The next scenario the search needs simulated, or the answer. Questions asked
    /// before are answered from memory on the way.
    pub fn next_run(&mut self) -> Result<NextRun, SearchError> {
        loop {
            match &self.probe {
                Probe::Done(outcome) => {
                    let outcome = outcome.clone();
                    if let Some(sc) = self.next_failure_run(&outcome) {
                        return Ok(NextRun::Simulate(Box::new(sc)));
                    }
                    if let Some(sc) = self.next_deploy_run(&outcome) {
                        return Ok(NextRun::Simulate(Box::new(sc)));
                    }
                    return Ok(NextRun::Answer(Box::new(self.answer(outcome))));
                }
                &Probe::Measure { clients, instances } => {
                    if let Some(load) = self.cache.get(&(clients, instances)) {
                        if self.speculated.remove(&(clients, instances)) {
                            self.simulations += 1;
                        }
                        self.probe = self.search.feed(load.clone())?;
                        continue;
                    }
                    let sc = self.scenario(clients, instances)?;
                    self.pending = Some((clients, instances));
                    return Ok(NextRun::Simulate(Box::new(sc)));
                }
            }
        }
    }

    /// A run the search will most likely ask for after the one it waits for, to simulate
    /// beside it on an otherwise idle worker: while a one-instance run of `n` clients is
    /// out (after the pilot), the deployment at ⌈N / n⌉ instances — `n` is the search's
    /// best guess of the capacity. At most one per search; its output goes to
    /// [`Searcher::ran_speculative`] and is used only if asked for, so the answer is the
    /// same with or without it (only the wall time differs).
    pub fn speculative_run(&mut self) -> Option<Scenario> {
        if self.speculated_once || self.pending.is_none() || self.search.cpu_per_client().is_none()
        {
            return None;
        }
        let Probe::Measure {
            clients: n,
            instances: 1,
        } = self.probe
        else {
            return None;
        };
        let clients = self.base.workload.clients as u64;
        let k = u32::try_from(clients.div_ceil(n.max(1))).ok()?;
        let (c, i, _) = deployment_run(clients, k, granule(&self.base));
        if (c, i) == (n, 1) || self.cache.contains_key(&(c, i)) {
            return None;
        }
        let sc = self.scenario(c, i).ok()?;
        self.speculated_once = true;
        Some(sc)
    }

    /// Estimated events (`sim::estimate`) of the runs this search will most likely still
    /// ask for after the ones out now — for the overall progress and its ETA only, never
    /// part of the answer. While a one-instance run of `n` clients is out: the
    /// deployment at ⌈N / n⌉ instances (unless already simulated or handed out ahead);
    /// then the redundancy check's first failure run and the deploy run, if `[target]`
    /// asks for them. A bisection step or an added instance the search may still need
    /// is not foreseen (nor a run it turns out not to need); before the pilot nothing is
    /// known (0).
    pub fn forecast_events(&self) -> f64 {
        let clients = self.base.workload.clients as u64;
        let events_of = |c: u64, i: u32| self.scenario(c, i).map_or(0.0, |sc| estimate(&sc).events);
        let mut events = 0.0;
        let instances = match &self.probe {
            Probe::Done(Outcome::Sized { instances, .. }) => *instances,
            Probe::Done(_) => return 0.0,
            _ if self.search.cpu_per_client().is_none() => return 0.0,
            &Probe::Measure {
                clients: n,
                instances: 1,
            } => {
                let Ok(k) = u32::try_from(clients.div_ceil(n.max(1))) else {
                    return 0.0;
                };
                let (c, i, _) = deployment_run(clients, k, granule(&self.base));
                if (c, i) != (n, 1) && !self.cache.contains_key(&(c, i)) && !self.speculated_once {
                    events += events_of(c, i);
                }
                k
            }
            &Probe::Measure { instances, .. } => instances,
        };
        let mut k = instances;
        if matches!(self.check, Check::NotStarted)
            && let Some(plan) = failover::plan(instances, &self.target)
        {
            events += events_of(clients, plan.instances);
            k = plan.instances;
        }
        if matches!(self.deploy, DeployStage::NotStarted) && self.target.deploy_drain.is_some() {
            events += events_of(clients, k);
        }
        events
    }

    /// The output of a run from [`Self::speculative_run`]: remembered, not yet counted.
    pub fn ran_speculative(&mut self, sc: &Scenario, output: RunOutput) {
        let key = (sc.workload.clients as u64, sc.server.instances);
        let load = Load::from_run(key.0, key.1, sc, output.metrics);
        self.cache.insert(key, load);
        self.speculated.insert(key);
    }

    /// The failure run the redundancy check needs next, if any: the first once the
    /// steady state is sized, then one more instance each time the survivors fail (up
    /// to [`failover::MAX_ADDED`]). A failure run too large to simulate ends the check
    /// as not checked.
    fn next_failure_run(&mut self, outcome: &Outcome) -> Option<Scenario> {
        let failure = match &self.check {
            Check::Done(_) => return None,
            Check::Running { failure, .. } => *failure,
            Check::NotStarted => {
                let Outcome::Sized { instances, .. } = outcome else {
                    self.check = Check::Done(None);
                    return None;
                };
                let Some(plan) = failover::plan(*instances, &self.target) else {
                    self.check = Check::Done(None);
                    return None;
                };
                self.check = Check::Running {
                    plan,
                    failure: plan,
                    tried: Vec::new(),
                };
                plan
            }
        };
        let clients = self.base.workload.clients as u64;
        match self.scenario(clients, failure.instances) {
            Ok(sc) => Some(failover::failure_scenario(sc, failure)),
            Err(SearchError::RunTooLarge { events, .. }) => {
                self.check = Check::Done(Some(FailoverCheck::TooLarge { failure, events }));
                None
            }
            Err(_) => {
                self.check = Check::Done(Some(FailoverCheck::TooLarge {
                    failure,
                    events: f64::INFINITY,
                }));
                None
            }
        }
    }

    /// The deploy run, once the steady state (and the redundancy check) are done, when
    /// `[target] deploy_drain` asks for it: on the redundancy check's instances if any,
    /// else the steady state's.
    fn next_deploy_run(&mut self, outcome: &Outcome) -> Option<Scenario> {
        if !matches!(self.deploy, DeployStage::NotStarted) {
            return None;
        }
        let (Outcome::Sized { instances, .. }, Some(drain)) = (outcome, self.target.deploy_drain)
        else {
            self.deploy = DeployStage::Done(None);
            return None;
        };
        let deploy = Deploy {
            drain,
            jitter: self.target.deploy_jitter,
        };
        let k = match &self.check {
            Check::Done(Some(check)) => check.instances(),
            _ => *instances,
        };
        let clients = self.base.workload.clients as u64;
        match self.scenario(clients, k) {
            Ok(sc) => {
                let sc = deploy::deploy_scenario(sc, deploy);
                let events = estimate(&sc).events;
                if events > self.options.max_events_per_run {
                    self.deploy = DeployStage::Done(Some(DeployCheck::TooLarge {
                        deploy,
                        instances: k,
                        events,
                    }));
                    return None;
                }
                self.deploy = DeployStage::Running(deploy);
                Some(sc)
            }
            Err(e) => {
                let events = match e {
                    SearchError::RunTooLarge { events, .. } => events,
                    _ => f64::INFINITY,
                };
                self.deploy = DeployStage::Done(Some(DeployCheck::TooLarge {
                    deploy,
                    instances: k,
                    events,
                }));
                None
            }
        }
    }

    /// The output of the scenario [`Self::next_run`] handed out.
    pub fn ran(&mut self, sc: &Scenario, output: RunOutput) -> Result<(), SearchError> {
        if let DeployStage::Running(deploy) = self.deploy {
            self.simulations += 1;
            let storm = deploy::storm(sc, &output, &self.limits);
            self.deploy = DeployStage::Done(Some(DeployCheck::Checked { deploy, storm }));
            return Ok(());
        }
        if let Check::Running {
            plan,
            failure,
            tried,
        } = &mut self.check
        {
            let (plan, failure, mut tried) = (*plan, *failure, std::mem::take(tried));
            self.simulations += 1;
            let storm = failover::storm(failure, sc, &output, &self.limits);
            let added = failure.instances - plan.instances;
            // A cause more instances cannot fix ends the check too.
            let hopeless =
                storm.late_without_load || storm.failed_on.is_some_and(|r| !r.instances_help());
            self.check = if storm.survived() || hopeless || added >= failover::MAX_ADDED {
                Check::Done(Some(FailoverCheck::Checked { plan, storm, tried }))
            } else {
                tried.push(storm);
                Check::Running {
                    plan,
                    failure: failover::with_one_more(failure, &self.target),
                    tried,
                }
            };
            return Ok(());
        }
        let load = self.remember(sc, output);
        if self.pending.take().is_some() {
            self.probe = self.search.feed(load)?;
        }
        Ok(())
    }

    /// Simulates `clients` clients on `instances` instances with every limit lifted
    /// (memoized), here and now on one thread.
    pub fn measure(&mut self, clients: u64, instances: u32) -> Result<Load, SizingError> {
        if let Some(load) = self.cache.get(&(clients, instances)) {
            return Ok(load.clone());
        }
        let sc = self
            .scenario(clients, instances)
            .map_err(|problem| SizingError::Technique {
                technique: self.technique(),
                problem,
            })?;
        let output = run_scenarios(std::slice::from_ref(&sc), 1, &|_, _| {})?
            .pop()
            .expect("one output per scenario");
        Ok(self.remember(&sc, output))
    }

    /// The deployment of `n_total` clients on `k` instances: simulated in full for
    /// `k ≤ 2`, else as two representative instances of ⌈N/k⌉ clients each.
    pub fn deployment(&mut self, n_total: u64, k: u32) -> Result<(Load, Method), SizingError> {
        let (clients, instances, method) = deployment_run(n_total, k, granule(&self.base));
        Ok((self.measure(clients, instances)?, method))
    }

    /// The search's outcome as a row of the answer.
    fn answer(&self, outcome: Outcome) -> Sizing {
        let clients = self.base.workload.clients as u64;
        match outcome {
            Outcome::NoneMeets {
                limiting,
                floor_p99_s,
                floor_clients,
            } => Sizing {
                technique: self.base.technique,
                clients,
                instances_needed: None,
                limiting_resource: limiting,
                limiting_use: f64::NAN,
                max_clients_per_instance: 0,
                at_cap: false,
                max_clients_below: None,
                max_clients_predicted: None,
                redundancy: self.target.redundancy,
                survive_loss: self.target.survive_loss,
                failover: None,
                deploy: None,
                connections_per_instance: f64::NAN,
                memory_per_instance_bytes: f64::NAN,
                memory_bytes: f64::NAN,
                cpu_utilization: f64::NAN,
                bytes_down_per_s: f64::NAN,
                bytes_up_per_s: f64::NAN,
                requests_per_s: f64::NAN,
                handshakes_per_s: f64::NAN,
                new_connections_cap_use: f64::NAN,
                latency_p99_s: floor_p99_s,
                egress_gb_per_month: f64::NAN,
                monthly_cost: None,
                instance_cost: None,
                egress_cost: None,
                backplane_cost: None,
                backplane: None,
                managed: None,
                method: Method::Full,
                simulations: self.simulations,
                warmup_s: f64::NAN,
                notes: vec![match limiting {
                    Resource::Unserved(cause) => Note::Unserved {
                        cause,
                        p99_s: floor_p99_s,
                        clients: floor_clients,
                    },
                    _ => Note::LatencyFloor {
                        p99_s: floor_p99_s,
                        target_p99_s: self.limits.latency_p99_s,
                        clients: floor_clients,
                    },
                }],
            },
            Outcome::Sized {
                capacity,
                instances: k,
                first,
                deployment: load,
                method,
            } => {
                let scale = k as f64 / load.instances as f64;
                let t = &load.totals;
                let egress_gb_per_month = egress_gb_per_month(t.bytes_down_per_s * scale);
                let mut notes = Vec::new();
                if k > first {
                    notes.push(Note::MoreThanFirst {
                        instances: k,
                        first,
                    });
                }
                notes.extend(adjustment(&self.base, &load));
                let handshakes_per_s = churn::steady_handshakes_per_s(t.handshakes_per_s, scale)
                    + churn::unseen_age_closes_per_s(&self.base, &load);
                let cap = self.target.max_new_connections_per_s;
                let failover = match &self.check {
                    Check::Done(check) => check.clone(),
                    _ => None,
                };
                if let Some(cap) = cap {
                    let storm_peak = match &failover {
                        Some(FailoverCheck::Checked { storm, .. }) => storm.handshakes_per_s_peak,
                        _ => 0.0,
                    };
                    if handshakes_per_s > cap {
                        notes.push(Note::OverConnectionCap {
                            handshakes_per_s,
                            cap,
                            storm: false,
                        });
                    } else if storm_peak > cap {
                        notes.push(Note::OverConnectionCap {
                            handshakes_per_s: storm_peak,
                            cap,
                            storm: true,
                        });
                    }
                }
                if capacity.from_deployment
                    && let Some(predicted) = capacity.limit_predicted
                {
                    notes.push(Note::SettledByDeployment {
                        instances: k,
                        clients_per_instance: capacity.max_clients,
                        limiting: capacity.limiting,
                        predicted,
                        clients,
                    });
                }
                if capacity.at_cap {
                    notes.push(Note::AtCap {
                        clients,
                        held: capacity.max_clients,
                        closest: capacity.limiting,
                        predicted: capacity.predicted,
                    });
                }
                // What is bought is the plan: the steady state's `k` plus the spares its
                // redundancy check settled on.
                let planned = failover.as_ref().map_or(k, FailoverCheck::instances);
                let backplane_plan = backplane::plan(&self.base, clients, planned, &self.target);
                let backplane_cost = backplane_plan.as_ref().and_then(|b| b.monthly_cost);
                Sizing {
                    technique: self.base.technique,
                    clients,
                    instances_needed: Some(k),
                    limiting_resource: capacity.limiting,
                    limiting_use: self.limits.ratio(&load, capacity.limiting),
                    max_clients_per_instance: capacity.max_clients,
                    at_cap: capacity.at_cap,
                    max_clients_below: capacity.infeasible,
                    max_clients_predicted: capacity.limit_predicted,
                    redundancy: self.target.redundancy,
                    survive_loss: self.target.survive_loss,
                    failover,
                    deploy: match &self.deploy {
                        DeployStage::Done(check) => check.clone(),
                        _ => None,
                    },
                    connections_per_instance: load.connections_peak,
                    memory_per_instance_bytes: load.memory_peak_bytes,
                    memory_bytes: load.memory_peak_bytes * k as f64,
                    cpu_utilization: load.cpu_utilization,
                    bytes_down_per_s: t.bytes_down_per_s * scale,
                    bytes_up_per_s: t.bytes_up_per_s * scale,
                    requests_per_s: t.requests_per_s * scale,
                    handshakes_per_s,
                    new_connections_cap_use: churn::cap_use(handshakes_per_s, cap),
                    latency_p99_s: load.latency_p99_s,
                    egress_gb_per_month,
                    monthly_cost: match (
                        monthly_cost(planned, egress_gb_per_month, &self.target),
                        backplane_cost,
                    ) {
                        (None, None) => None,
                        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
                    },
                    backplane_cost,
                    backplane: backplane_plan,
                    instance_cost: self
                        .target
                        .instance_hour_cost
                        .map(|p| planned as f64 * HOURS_PER_MONTH * p),
                    egress_cost: self
                        .target
                        .bandwidth_cost_per_gb
                        .map(|p| egress_gb_per_month * p),
                    managed: self
                        .target
                        .managed
                        .as_deref()
                        .and_then(pricing::table)
                        .and_then(|table| {
                            let counts = Counts {
                                deliveries_per_s: t.deliveries / load.duration_s.max(1e-9) * scale,
                                connections_mean: t.connections_mean * scale,
                                egress_gb_per_month,
                            };
                            managed_cost(
                                &table,
                                &self.base,
                                counts,
                                self.target.bandwidth_cost_per_gb,
                            )
                        }),
                    method,
                    simulations: self.simulations,
                    warmup_s: load.warmup_s,
                    notes,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NS_PER_S;
    use crate::sizing::Resource;

    fn target() -> Target {
        Target::only_utilization(0.7)
    }

    /// A cheap SSE deployment of 300 clients.
    fn base() -> Scenario {
        let mut sc = Scenario::reference();
        sc.technique = Technique::Sse;
        sc.workload.clients = 300;
        sc.duration = 2 * NS_PER_S;
        sc.warmup = NS_PER_S;
        sc
    }

    #[test]
    fn a_sizing_run_lifts_the_limits_and_covers_its_start() {
        let opts = Options::default();
        let s = Searcher::new(&base(), &target(), &opts);
        let sc = s.scenario(2_000, 2).unwrap();
        assert_eq!(sc.workload.clients, 2_000);
        assert_eq!(sc.server.instances, 2);
        assert_eq!(sc.server.max_connections, u64::MAX / 4);
        assert_eq!(sc.server.memory_limit, u64::MAX / 4);
        assert!(sc.faults.is_empty());
        assert!(sc.warmup >= sc.workload.start_window + 2 * NS_PER_S);
        // The limits are the file's, not the lifted ones.
        assert_eq!(
            s.limits().max_connections,
            base().server.max_connections as f64
        );
    }

    #[test]
    fn a_run_too_large_to_simulate_is_refused_before_it_starts() {
        let opts = Options {
            max_events_per_run: 1e3,
            ..Options::default()
        };
        let s = Searcher::new(&base(), &target(), &opts);
        assert!(matches!(
            s.scenario(1_000_000, 1),
            Err(SearchError::RunTooLarge {
                clients: 1_000_000,
                instances: 1,
                ..
            })
        ));
        assert!(matches!(
            s.scenario(u32::MAX as u64 + 1, 1),
            Err(SearchError::TooManyClients { .. })
        ));
    }

    #[test]
    fn questions_asked_before_are_answered_from_memory() {
        let opts = Options {
            pilot_clients: 300,
            ..Options::default()
        };
        let mut s = Searcher::new(&base(), &target(), &opts);
        // The pilot holds all 300 clients, so the deployment (300 on 1) is the pilot
        // again: one simulation in all.
        let NextRun::Simulate(pilot) = s.next_run().unwrap() else {
            panic!("the pilot comes first")
        };
        assert_eq!((pilot.workload.clients, pilot.server.instances), (300, 1));
        let mut outputs = run_scenarios(std::slice::from_ref(&*pilot), 1, &|_, _| {}).unwrap();
        s.ran(&pilot, outputs.pop().unwrap()).unwrap();
        let NextRun::Answer(answer) = s.next_run().unwrap() else {
            panic!("nothing left to simulate")
        };
        assert_eq!(s.simulations(), 1);
        assert_eq!(answer.simulations, 1);
        assert_eq!(answer.instances_needed, Some(1));
        assert_eq!(answer.max_clients_per_instance, 300);
        assert!(Resource::ALL.contains(&answer.limiting_resource));
        assert!(matches!(
            answer.notes.last(),
            Some(Note::AtCap { clients: 300, .. })
        ));
    }
}
