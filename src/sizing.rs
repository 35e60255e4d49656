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
//!    latency_p99`. A small pilot run predicts the boundary (slots, memory and CPU grow
//!    linearly with clients); the search then brackets it by simulation (doubling the
//!    step until one side is feasible and the other is not) and bisects to
//!    [`Options::tolerance`]. The largest feasible `n` is `max_clients_per_instance`; the
//!    resource that fails first just above it is the `limiting_resource`.
//! 2. **Instances needed**: start at ⌈N / max_clients⌉ and simulate the deployment; add
//!    an instance until every limit holds (with several instances updates also cross the
//!    pub/sub backplane, which the one-instance search did not see).
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
//! a thundering herd, not the steady state being sized; the warm-up of each sizing run is
//! extended until that backlog has drained (see [`Searcher::warmup_for`]), and the
//! output says by how much.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::engine::{NS_PER_S, Nanos};
use crate::experiment::{Experiment, Target};
use crate::report::machine_number;
use crate::results::RunMetrics;
use crate::scenario::{Pattern, Scenario, Technique, Tls};
use crate::sim::estimate;
use crate::sim::simulate;
use crate::units::human;

/// Hours in a month, as cloud price lists count them (8,760 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;
/// Bytes in a GB as bandwidth is billed (decimal).
pub const BYTES_PER_GB: f64 = 1e9;

/// The limits an instance can run out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// Connection slots, `max_connections` per instance.
    Slots,
    /// `memory_limit` per instance.
    Memory,
    /// CPU at the target utilization.
    Cpu,
    /// The `[target] latency_p99`.
    Latency,
}

impl Resource {
    pub const ALL: [Resource; 4] = [
        Resource::Slots,
        Resource::Memory,
        Resource::Cpu,
        Resource::Latency,
    ];

    /// The CSV spelling.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Slots => "slots",
            Resource::Memory => "memory",
            Resource::Cpu => "cpu",
            Resource::Latency => "latency",
        }
    }
}

/// How the deployment's numbers were obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Every client and every instance simulated.
    Full,
    /// Two representative instances simulated, totals scaled (see the module doc).
    ScaledRepresentative,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Full => "full",
            Method::ScaledRepresentative => "scaled-representative",
        }
    }
}

/// Knobs of the search.
#[derive(Clone, Debug)]
pub struct Options {
    /// Worker threads for the techniques (0 = all cores).
    pub jobs: usize,
    /// Relative precision of `max_clients_per_instance`: the search stops when the
    /// feasible and infeasible bounds are within this fraction of each other.
    pub tolerance: f64,
    /// Clients of the pilot run that predicts the boundary.
    pub pilot_clients: u64,
    /// Refuse a single run estimated above this many events (see `sim::estimate`).
    pub max_events_per_run: f64,
    /// One line on stderr per simulation.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            jobs: 0,
            tolerance: 0.02,
            pilot_clients: 1000,
            max_events_per_run: 2e9,
            progress: false,
        }
    }
}

/// What one sizing simulation measured, per instance.
#[derive(Clone, Debug)]
pub struct Load {
    /// Clients per instance (the busiest instance's share when it does not divide).
    pub clients_per_instance: u64,
    /// Instances simulated.
    pub instances: u32,
    pub connections_peak: f64,
    pub memory_peak_bytes: f64,
    pub cpu_utilization: f64,
    pub latency_p99_s: f64,
    /// Warm-up the run used, seconds.
    pub warmup_s: f64,
    /// Window over which its clients started, seconds.
    pub start_window_s: f64,
    /// Measured simulated seconds.
    pub duration_s: f64,
    /// The run's own totals (all simulated instances together).
    pub totals: RunMetrics,
}

impl Load {
    /// Pairs created in the window but never delivered, beyond what a healthy system
    /// leaves in flight at the end (those created within its slowest delivery, plus
    /// 1 % and three Poisson standard deviations): clients stuck disconnected, a queue growing without bound, retention
    /// losses. The p99 over *all* pairs then exceeds any target.
    pub fn unserved(&self) -> bool {
        let m = &self.totals;
        if m.published_pairs <= 0.0 {
            return false;
        }
        let tail = m.published_pairs * (m.latency_max_s / self.duration_s.max(1e-9)).min(1.0);
        // Three standard deviations of a Poisson count: small runs are noisy.
        let slack = 0.01 * m.published_pairs + 3.0 * (tail + 1.0).sqrt();
        m.lost + m.in_flight > tail + slack
    }
}

/// The limits of one instance and the target, as numbers.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: f64,
    pub memory_limit_bytes: f64,
    pub utilization: f64,
    pub latency_p99_s: Option<f64>,
}

impl Limits {
    pub fn new(sc: &Scenario, target: &Target) -> Limits {
        Limits {
            max_connections: sc.server.max_connections as f64,
            memory_limit_bytes: sc.server.memory_limit as f64,
            utilization: target.utilization,
            latency_p99_s: target.latency_p99.map(|l| l as f64 / NS_PER_S as f64),
        }
    }

    /// Demand over limit, per resource (≤ 1 is within the limit).
    pub fn ratios(&self, load: &Load) -> [(Resource, f64); 4] {
        let ratio = |demand: f64, limit: f64| {
            if limit > 0.0 {
                demand / limit
            } else if demand > 0.0 {
                f64::INFINITY
            } else {
                0.0
            }
        };
        [
            (
                Resource::Slots,
                ratio(load.connections_peak, self.max_connections),
            ),
            (
                Resource::Memory,
                ratio(load.memory_peak_bytes, self.memory_limit_bytes),
            ),
            (Resource::Cpu, ratio(load.cpu_utilization, self.utilization)),
            (
                Resource::Latency,
                self.latency_p99_s
                    .map_or(0.0, |t| ratio(load.latency_p99_s, t)),
            ),
        ]
    }

    /// `None` when every limit holds; otherwise the most exceeded resource. A run that
    /// left clients unserved (see [`Load::unserved`]) misses the latency target even if
    /// its delivered pairs were quick.
    pub fn exceeded(&self, load: &Load) -> Option<Resource> {
        let mut worst: Option<(Resource, f64)> = None;
        for (r, x) in self.ratios(load) {
            if x > 1.0 && worst.is_none_or(|(_, w)| x > w) {
                worst = Some((r, x));
            }
        }
        worst
            .map(|(r, _)| r)
            .or(load.unserved().then_some(Resource::Latency))
    }
}

/// One line of `sizing.csv`: one technique's answer.
#[derive(Clone, Debug)]
pub struct Sizing {
    pub technique: Technique,
    /// N, the deployment's clients.
    pub clients: u64,
    /// `None` when no instance count meets the target (see `note`).
    pub instances_needed: Option<u32>,
    pub limiting_resource: Resource,
    pub max_clients_per_instance: u64,
    pub connections_per_instance: f64,
    pub memory_per_instance_bytes: f64,
    /// Peak memory of all instances together.
    pub memory_bytes: f64,
    pub cpu_utilization: f64,
    pub bytes_down_per_s: f64,
    pub bytes_up_per_s: f64,
    pub requests_per_s: f64,
    pub latency_p99_s: f64,
    /// Server → client bytes per month (egress, what clouds bill), GB.
    pub egress_gb_per_month: f64,
    /// Instances × 730 h × `instance_hour_cost` + egress × `bandwidth_cost_per_gb`;
    /// `None` without prices.
    pub monthly_cost: Option<f64>,
    pub method: Method,
    /// Simulations the search ran.
    pub simulations: u32,
    /// Warm-up of the deployment run, seconds (longer than the file's when the
    /// start-up storm needed it).
    pub warmup_s: f64,
    pub note: String,
}

/// Monthly cost: `instances × 730 h × instance_hour_cost` plus egress at
/// `bandwidth_cost_per_gb`; `None` when neither price is given.
pub fn monthly_cost(instances: u32, egress_gb_per_month: f64, target: &Target) -> Option<f64> {
    if target.instance_hour_cost.is_none() && target.bandwidth_cost_per_gb.is_none() {
        return None;
    }
    let compute = target
        .instance_hour_cost
        .map_or(0.0, |p| instances as f64 * HOURS_PER_MONTH * p);
    let bandwidth = target
        .bandwidth_cost_per_gb
        .map_or(0.0, |p| egress_gb_per_month * p);
    Some(compute + bandwidth)
}

/// Sizes every technique of the experiment at its base point.
pub fn size(exp: &Experiment, options: &Options) -> Result<Vec<Sizing>, String> {
    if !exp.base.faults.is_empty() {
        return Err(format!(
            "`rtsim size` sizes the steady state of identical instances, but this experiment \
             has {} scheduled [[faults]]: a crash makes the instances unequal (its clients \
             herd onto the others), so neither a representative instance nor per-instance \
             limits from totals would be exact. Remove [[faults]] to size it, and use \
             `rtsim run` to study the crash.",
            exp.base.faults.len()
        ));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build()
        .map_err(|e| e.to_string())?;
    pool.install(|| {
        exp.techniques
            .par_iter()
            .map(|&t| {
                let mut sc = exp.base.clone();
                sc.technique = t;
                sc.replication = 0;
                sc.target_utilization = exp.target.utilization;
                size_technique(&sc, &exp.target, options)
                    .map_err(|e| format!("sizing {}: {e}", t.name()))
            })
            .collect()
    })
}

/// Sizes one technique: `base` holds the deployment (clients, server figures); its
/// `instances` is ignored (that is what is being found).
pub fn size_technique(
    base: &Scenario,
    target: &Target,
    options: &Options,
) -> Result<Sizing, String> {
    if !base.faults.is_empty() {
        return Err("scheduled [[faults]] cannot be sized (see `rtsim size`)".into());
    }
    let mut s = Searcher::new(base, target, options);
    let n_total = base.workload.clients as u64;
    let search = s.max_clients()?;
    let limits = s.limits.clone();

    let Some(max) = search.max_clients.filter(|&m| m > 0) else {
        let floor = search.floor_p99_s;
        return Ok(Sizing {
            technique: base.technique,
            clients: n_total,
            instances_needed: None,
            limiting_resource: search.limiting,
            max_clients_per_instance: 0,
            connections_per_instance: f64::NAN,
            memory_per_instance_bytes: f64::NAN,
            memory_bytes: f64::NAN,
            cpu_utilization: f64::NAN,
            bytes_down_per_s: f64::NAN,
            bytes_up_per_s: f64::NAN,
            requests_per_s: f64::NAN,
            latency_p99_s: floor,
            egress_gb_per_month: f64::NAN,
            monthly_cost: None,
            method: Method::Full,
            simulations: s.simulations,
            warmup_s: f64::NAN,
            note: format!(
                "no instance count meets the target: p99 is {} (target {}) even with {} clients \
                 per instance, a floor set by the technique rather than by load",
                human::duration(floor, false),
                human::duration(limits.latency_p99_s.unwrap_or(f64::NAN), false),
                human::thousands(search.floor_clients as f64)
            ),
        });
    };

    let first = n_total.div_ceil(max).max(1) as u32;
    let mut k = first;
    let (load, method) = loop {
        let (load, method) = s.deployment(n_total, k)?;
        if limits.exceeded(&load).is_none() {
            break (load, method);
        }
        if k >= first.saturating_mul(2).max(first + 8) {
            return Err(format!(
                "no deployment of {first}..{k} instances keeps every limit although one instance \
                 holds {max} clients; the search is not monotone here (noisy p99?)"
            ));
        }
        k += 1;
    };
    let scale = k as f64 / load.instances as f64;
    let t = &load.totals;
    let egress_gb_per_month = t.bytes_down_per_s * scale * HOURS_PER_MONTH * 3600.0 / BYTES_PER_GB;
    let mut notes = Vec::new();
    if k > first {
        notes.push(format!(
            "{k} instances rather than ⌈N/max⌉ = {first}: the backplane and the balancer's \
             spread cost headroom"
        ));
    }
    if load.start_window_s > secs(base.workload.start_window) + 0.5 {
        notes.push(format!(
            "clients start over {} (not all at once) and the warm-up is {}, so the \
             start-up connection storm is not what is measured",
            human::duration(load.start_window_s, true),
            human::duration(load.warmup_s, true)
        ));
    } else if load.warmup_s > secs(base.warmup) + 0.5 {
        notes.push(format!(
            "warm-up extended to {} so the start-up connection storm drains before measuring",
            human::duration(load.warmup_s, true)
        ));
    }
    if search.at_cap {
        notes.push(format!(
            "one instance holds all {} clients, so the search stopped there: nothing runs \
             out yet, {} is the closest to its limit, and max_clients_per_instance is at \
             least {} (the pilot run predicts ~{} by slots, memory and CPU)",
            human::thousands(max as f64),
            search.limiting.name(),
            human::thousands(max as f64),
            human::thousands(search.predicted.floor())
        ));
    }
    Ok(Sizing {
        technique: base.technique,
        clients: n_total,
        instances_needed: Some(k),
        limiting_resource: search.limiting,
        max_clients_per_instance: max,
        connections_per_instance: load.connections_peak,
        memory_per_instance_bytes: load.memory_peak_bytes,
        memory_bytes: load.memory_peak_bytes * k as f64,
        cpu_utilization: load.cpu_utilization,
        bytes_down_per_s: t.bytes_down_per_s * scale,
        bytes_up_per_s: t.bytes_up_per_s * scale,
        requests_per_s: t.requests_per_s * scale,
        latency_p99_s: load.latency_p99_s,
        egress_gb_per_month,
        monthly_cost: monthly_cost(k, egress_gb_per_month, target),
        method,
        simulations: s.simulations,
        warmup_s: load.warmup_s,
        note: notes.join("; "),
    })
}

fn secs(ns: Nanos) -> f64 {
    ns as f64 / NS_PER_S as f64
}

/// Result of the max-clients search.
#[derive(Clone, Debug)]
pub struct Search {
    /// Largest feasible clients per instance; `None` (or 0) when not even one fits.
    pub max_clients: Option<u64>,
    /// The resource exceeded first just above `max_clients`.
    pub limiting: Resource,
    /// p99 of the smallest run, the technique's latency floor.
    pub floor_p99_s: f64,
    /// Clients per instance of that run.
    pub floor_clients: u64,
    /// The search hit its cap (the deployment's clients) while still feasible.
    pub at_cap: bool,
    /// The pilot run's linear prediction of the boundary (slots, memory, CPU only).
    pub predicted: f64,
}

/// Runs and remembers the sizing simulations of one technique.
pub struct Searcher<'a> {
    base: &'a Scenario,
    options: &'a Options,
    pub limits: Limits,
    /// (clients, instances) → load.
    cache: BTreeMap<(u64, u32), Load>,
    /// Steady CPU core-seconds per second per client, from the pilot.
    cpu_per_client: Option<f64>,
    pub simulations: u32,
}

/// Clients per room for chat (runs keep rooms whole), else 1.
fn granule(sc: &Scenario) -> u64 {
    match sc.workload.pattern {
        Pattern::Chat => sc.workload.room_size.max(1) as u64,
        _ => 1,
    }
}

fn round_up(n: u64, g: u64) -> u64 {
    n.div_ceil(g) * g
}

/// Upper bound of any search: the largest client count an experiment accepts.
const MAX_CLIENTS: u64 = 100_000_000;

impl<'a> Searcher<'a> {
    pub fn new(base: &'a Scenario, target: &Target, options: &'a Options) -> Self {
        Searcher {
            base,
            options,
            limits: Limits::new(base, target),
            cache: BTreeMap::new(),
            cpu_per_client: None,
            simulations: 0,
        }
    }

    /// Connection cost of one client (TCP accept, TLS handshake, first request), in
    /// core-seconds.
    fn connect_cpu(&self) -> f64 {
        let server = &self.base.server;
        let tls = if self.base.network.tls == Tls::None {
            0
        } else {
            server.tls_handshake_cpu
        };
        (server.tcp_accept_cpu + tls + server.request_cpu) as f64 / 1e9
    }

    /// Steady CPU utilization of `n` clients on one instance, from the pilot run.
    fn steady_utilization(&self, n: u64) -> f64 {
        let cores = self.base.server.cores.max(1) as f64;
        self.cpu_per_client
            .map_or(0.0, |c| c * n as f64 / cores)
            .min(self.limits.utilization.min(0.95))
    }

    /// The window over which `n` clients per instance start (`[workload] start_window`);
    /// a million TLS handshakes in 3 s would queue for minutes, and connections queued
    /// longer than the proxy idle timeout are cut. That cold-start herd is not the steady
    /// state being sized, so for the techniques that do not poll, the start window is
    /// stretched until the handshakes take at most 80 % of the CPU the steady load leaves
    /// free. Short polling keeps the file's window: its clients keep the phases they
    /// start with (after-response polls never mix), so a stretched window would change
    /// the steady state itself; its storm is drained by the warm-up instead.
    pub fn start_window(&self, n: u64) -> Nanos {
        let sc = self.base;
        if sc.technique == Technique::ShortPolling {
            return sc.workload.start_window;
        }
        let cores = self.base.server.cores.max(1) as f64;
        let spare = 0.8 * (1.0 - self.steady_utilization(n));
        let ramp = n as f64 * self.connect_cpu() / (cores * spare);
        sc.workload
            .start_window
            .max((ramp.ceil() as Nanos) * NS_PER_S)
    }

    /// Warm-up for a run with `n` clients per instance: the file's, or longer when the
    /// start-up transients need it.
    ///
    /// - The connection storm: every client connects within the start window
    ///   ([`Self::start_window`]), each connection costing `tcp_accept_cpu +
    ///   tls_handshake_cpu + request_cpu` of one core. The backlog `B` of `n` of them is
    ///   served while the connected clients' steady load (utilization `u`, from the pilot
    ///   run) ramps up with them; the work-conservation (fluid) estimate of the drain time
    ///   is `B / (1 − u/2)`. We wait for the start window plus 1.25 × that plus 2 s, or
    ///   for a stretched start window plus 2 s.
    /// - Chat upstream over HTTP: a client's first POST opens a second connection (and
    ///   pays a handshake); the first message comes after an exponential gap of mean
    ///   `1/rate`, so we wait `4/rate` (all but e⁻⁴ ≈ 2 % have opened it).
    ///
    /// Whole seconds.
    pub fn warmup_for(&self, n: u64) -> Nanos {
        let sc = self.base;
        let cores = sc.server.cores.max(1) as f64;
        let start = secs(self.start_window(n));
        let mut needed = if sc.technique == Technique::ShortPolling {
            let backlog = n as f64 * self.connect_cpu() / cores;
            let drain = backlog / (1.0 - self.steady_utilization(n) / 2.0);
            start + 1.25 * drain + 2.0
        } else {
            start + 2.0
        };
        if sc.workload.pattern == Pattern::Chat
            && sc.technique != Technique::Websocket
            && sc.workload.rate > 0.0
        {
            needed = needed.max(start + 4.0 / sc.workload.rate);
        }
        let needed = (needed.ceil() as Nanos) * NS_PER_S;
        sc.warmup.max(needed)
    }

    /// Simulates `clients` clients on `instances` instances with every limit lifted
    /// (memoized).
    pub fn measure(&mut self, clients: u64, instances: u32) -> Result<Load, String> {
        if let Some(l) = self.cache.get(&(clients, instances)) {
            return Ok(l.clone());
        }
        let per_instance = clients.div_ceil(instances as u64);
        let mut sc = self.base.clone();
        sc.workload.clients = u32::try_from(clients)
            .map_err(|_| format!("{clients} clients do not fit one simulation"))?;
        sc.server.instances = instances;
        sc.server.max_connections = u64::MAX / 4;
        sc.server.memory_limit = u64::MAX / 4;
        sc.faults.clear();
        sc.warmup = self.warmup_for(per_instance);
        sc.workload.start_window = self.start_window(per_instance);
        let est = estimate(&sc).events;
        if est > self.options.max_events_per_run {
            return Err(format!(
                "a sizing run of {clients} clients on {instances} instance(s) would take \
                 ~{} events (limit {}); shorten duration/warm-up or raise the per-instance \
                 limits' realism",
                human::count(est),
                human::count(self.options.max_events_per_run)
            ));
        }
        let started = std::time::Instant::now();
        let out = simulate(&sc);
        self.simulations += 1;
        if self.options.progress {
            eprintln!(
                "  {:13} {:>11} clients on {} instance(s), warm-up {:>5}: {:.1} s",
                sc.technique.name(),
                human::thousands(clients as f64),
                instances,
                human::duration(secs(sc.warmup), true),
                started.elapsed().as_secs_f64()
            );
        }
        let m = out.metrics;
        let k = instances as f64;
        let load = Load {
            clients_per_instance: per_instance,
            instances,
            connections_peak: m.connections_peak / k,
            memory_peak_bytes: m.server_memory_peak_bytes / k,
            cpu_utilization: m.cpu_utilization,
            latency_p99_s: m.latency_p99_s,
            warmup_s: secs(sc.warmup),
            start_window_s: secs(sc.workload.start_window),
            duration_s: secs(sc.duration),
            totals: m,
        };
        self.cache.insert((clients, instances), load.clone());
        Ok(load)
    }

    /// The deployment of `n_total` clients on `k` instances: simulated in full for
    /// `k ≤ 2`, else as two representative instances of ⌈N/k⌉ clients each.
    pub fn deployment(&mut self, n_total: u64, k: u32) -> Result<(Load, Method), String> {
        if k <= 2 {
            return Ok((self.measure(n_total, k)?, Method::Full));
        }
        let per = round_up(n_total.div_ceil(k as u64), granule(self.base));
        // Two instances of `per` clients; with chat, rooms stay whole.
        let clients = round_up(2 * per, granule(self.base));
        Ok((self.measure(clients, 2)?, Method::ScaledRepresentative))
    }

    /// Linear prediction of the boundary from one run of `n` clients: slots, memory above
    /// the base and CPU grow in proportion to clients. `None` when nothing grows.
    fn predict(&self, n: u64, load: &Load) -> Option<f64> {
        let base_mem = self.base.server.base_memory as f64;
        let per = |demand: f64, limit: f64| {
            if demand > 0.0 {
                limit / demand * n as f64
            } else {
                f64::INFINITY
            }
        };
        let p = [
            per(load.connections_peak, self.limits.max_connections),
            per(
                load.memory_peak_bytes - base_mem,
                self.limits.memory_limit_bytes - base_mem,
            ),
            per(load.cpu_utilization, self.limits.utilization),
        ]
        .into_iter()
        .fold(f64::INFINITY, f64::min);
        p.is_finite().then_some(p.clamp(1.0, MAX_CLIENTS as f64))
    }

    /// The largest client count one instance holds within every limit, up to the
    /// deployment's own client count.
    ///
    /// Bracketing guided by prediction, then bisection: each run's linear prediction
    /// (see [`Self::predict`]) proposes the next client count (a secant step — exact in
    /// one step when demand is linear); when it would not move the bracket by at least
    /// the tolerance, the step is forced, doubling each time (classic bracketing); once
    /// both a feasible and an infeasible count are known, predictions inside them are
    /// used and anything else falls back to the midpoint. Latency is not linear, so a run
    /// that fails on latency proposes no prediction: the search steps down or bisects.
    pub fn max_clients(&mut self) -> Result<Search, String> {
        let g = granule(self.base);
        let pilot_n = round_up(self.options.pilot_clients.max(1), g);
        let pilot = self.measure(pilot_n, 1)?;
        self.cpu_per_client =
            Some(pilot.cpu_utilization * self.base.server.cores as f64 / pilot_n as f64);
        let predicted = self.predict(pilot_n, &pilot).unwrap_or(MAX_CLIENTS as f64);
        // Capacity beyond the deployment's own clients is not needed for sizing and
        // would cost the largest runs of all: the search stops at N.
        let cap = round_up(self.base.workload.clients as u64, g)
            .clamp(g, MAX_CLIENTS)
            .max(pilot_n);
        let tol = self.options.tolerance.max(1e-6);

        // lo: largest known feasible (0 = vacuously); hi: smallest known infeasible.
        let mut lo: u64 = 0;
        let mut hi: Option<(u64, Resource)> = None;
        match self.limits.exceeded(&pilot) {
            None => lo = pilot_n,
            // Latency missed while the CPU is nearly idle: queueing is not the cause,
            // so fewer clients cannot fix it (and tiny runs would only add noise).
            Some(Resource::Latency) if pilot.cpu_utilization <= 0.5 * self.limits.utilization => {
                return Ok(Search {
                    max_clients: None,
                    limiting: Resource::Latency,
                    floor_p99_s: pilot.latency_p99_s,
                    floor_clients: pilot_n,
                    at_cap: false,
                    predicted,
                });
            }
            Some(r) => hi = Some((pilot_n, r)),
        }
        let mut next = if hi.is_none() {
            predicted
        } else {
            pilot_n as f64 / 2.0
        };
        let (mut up, mut down) = (tol, tol);
        let mut at_cap = false;
        loop {
            let upper = match hi {
                Some((h, _)) => {
                    let width = h - lo;
                    if width <= g || (lo > 0 && (width as f64) <= tol * lo as f64) {
                        break;
                    }
                    h - g
                }
                None if lo >= cap => {
                    at_cap = true;
                    break;
                }
                None => cap,
            };
            let lower = lo + g;
            let mut n = round_up(next.max(0.0).floor() as u64, g);
            if hi.is_some() && lo > 0 && (n < lower || n > upper) {
                n = round_up(lo + (upper + g - lo) / 2, g);
            }
            let n = n.clamp(lower, upper);
            let load = self.measure(n, 1)?;
            let verdict = self.limits.exceeded(&load);
            let prediction = match verdict {
                Some(Resource::Latency) => None,
                _ => self.predict(n, &load),
            };
            match verdict {
                None => {
                    lo = n;
                    // Move up by at least the tolerance.
                    let floor = n as f64 * (1.0 + up);
                    next = match prediction {
                        Some(p) if p >= floor => p,
                        _ => {
                            up *= 2.0;
                            floor
                        }
                    };
                }
                Some(r) => {
                    hi = Some((n, r));
                    // Move down by at least the tolerance.
                    let ceiling = if down >= 0.5 {
                        n as f64 / 2.0
                    } else {
                        n as f64 * (1.0 - down)
                    };
                    next = match prediction {
                        Some(p) if p <= ceiling => p,
                        _ => {
                            down *= 2.0;
                            ceiling
                        }
                    };
                }
            }
        }
        let smallest = self
            .cache
            .iter()
            .filter(|((_, i), _)| *i == 1)
            .map(|(_, l)| l)
            .min_by_key(|l| l.clients_per_instance)
            .map_or((f64::NAN, 0), |l| (l.latency_p99_s, l.clients_per_instance));
        let limiting = match hi {
            Some((_, r)) => r,
            // Feasible up to the cap: name the resource closest to its limit there.
            None => {
                let load = self.measure(lo, 1)?;
                self.limits
                    .ratios(&load)
                    .into_iter()
                    .fold((Resource::Slots, f64::NEG_INFINITY), |a, b| {
                        if b.1 > a.1 { b } else { a }
                    })
                    .0
            }
        };
        Ok(Search {
            max_clients: (lo > 0).then_some(lo),
            limiting,
            floor_p99_s: smallest.0,
            floor_clients: smallest.1,
            at_cap,
            predicted,
        })
    }
}

// ------------------------------------------------------------------ reports

/// `sizing.csv` columns, in order.
pub const CSV_COLUMNS: &[&str] = &[
    "technique",
    "clients",
    "instances_needed",
    "limiting_resource",
    "max_clients_per_instance",
    "connections_per_instance",
    "memory_per_instance_bytes",
    "memory_bytes",
    "cpu_utilization",
    "bytes_down_per_s",
    "bytes_up_per_s",
    "requests_per_s",
    "latency_p99_s",
    "egress_gb_per_month",
    "monthly_cost",
    "method",
    "simulations",
    "warmup_s",
    "note",
];

/// The text of `sizing.csv`.
pub fn csv(rows: &[Sizing]) -> Result<Vec<u8>, String> {
    let num = |v: f64| {
        if v.is_finite() {
            machine_number(v)
        } else {
            String::new()
        }
    };
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record([
            r.technique.name().to_string(),
            r.clients.to_string(),
            r.instances_needed.map_or(String::new(), |k| k.to_string()),
            r.limiting_resource.name().to_string(),
            r.max_clients_per_instance.to_string(),
            num(r.connections_per_instance),
            num(r.memory_per_instance_bytes),
            num(r.memory_bytes),
            num(r.cpu_utilization),
            num(r.bytes_down_per_s),
            num(r.bytes_up_per_s),
            num(r.requests_per_s),
            num(r.latency_p99_s),
            num(r.egress_gb_per_month),
            r.monthly_cost.map_or(String::new(), num),
            r.method.name().to_string(),
            r.simulations.to_string(),
            num(r.warmup_s),
            r.note.clone(),
        ])
        .map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

fn money(v: f64) -> String {
    if v >= 100.0 {
        format!("${}", human::thousands(v))
    } else {
        format!("${v:.2}")
    }
}

/// The Markdown sizing table, with a caption stating the target and the method.
pub fn markdown(rows: &[Sizing], target: &Target) -> String {
    let mut s = String::new();
    let n = rows.first().map_or(0, |r| r.clients);
    s.push_str(&format!(
        "Sizing for {} clients: p99 ≤ {}, CPU ≤ {}",
        human::thousands(n as f64),
        target
            .latency_p99
            .map_or("(no target)".to_string(), |l| human::duration(
                secs(l),
                true
            )),
        human::percent(target.utilization),
    ));
    if let Some(p) = target.instance_hour_cost {
        s.push_str(&format!(", ${p}/instance-hour"));
    }
    if let Some(p) = target.bandwidth_cost_per_gb {
        s.push_str(&format!(", ${p}/GB egress"));
    }
    s.push_str("\n\n");
    s.push_str(
        "| Technique | Instances | Runs out first | Max clients/instance | Memory (all) | Down | Up | Requests/s | p99 | Monthly cost | Method |\n",
    );
    s.push_str("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    let rate = |v: f64| format!("{}/s", human::bytes(v, false));
    for r in rows {
        let dash = || "—".to_string();
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.technique.title(),
            r.instances_needed
                .map_or("none meets it".to_string(), |k| k.to_string()),
            r.limiting_resource.name(),
            human::thousands(r.max_clients_per_instance as f64),
            if r.memory_bytes.is_finite() {
                human::bytes(r.memory_bytes, false)
            } else {
                dash()
            },
            if r.bytes_down_per_s.is_finite() {
                rate(r.bytes_down_per_s)
            } else {
                dash()
            },
            if r.bytes_up_per_s.is_finite() {
                rate(r.bytes_up_per_s)
            } else {
                dash()
            },
            if r.requests_per_s.is_finite() {
                human::count(r.requests_per_s)
            } else {
                dash()
            },
            human::duration(r.latency_p99_s, false),
            r.monthly_cost.map_or_else(dash, money),
            r.method.name(),
        ));
    }
    s.push('\n');
    for r in rows {
        let what = match r.limiting_resource {
            Resource::Slots => "connection slots (max_connections)",
            Resource::Memory => "memory (memory_limit)",
            Resource::Cpu => "CPU at the target utilization",
            Resource::Latency => "the p99 latency target",
        };
        s.push_str(&format!("- {}: {what} runs out first", r.technique.title()));
        if !r.note.is_empty() {
            s.push_str(&format!("; {}", r.note));
        }
        s.push_str(".\n");
    }
    if rows
        .iter()
        .any(|r| r.method == Method::ScaledRepresentative)
    {
        s.push_str(
            "\nscaled-representative: two identical instances (with the backplane) were \
             simulated and totals scaled; exact because instances are identical and \
             independent (docs/sizing.md).\n",
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(cost: Option<f64>) -> Target {
        Target {
            latency_p99: None,
            utilization: 0.7,
            instance_hour_cost: cost,
            bandwidth_cost_per_gb: None,
        }
    }

    #[test]
    fn cost_is_instances_times_hours_times_price() {
        assert_eq!(
            monthly_cost(3, 123.0, &target(Some(0.5))),
            Some(3.0 * 730.0 * 0.5)
        );
        assert_eq!(monthly_cost(3, 123.0, &target(None)), None);
        let mut t = target(Some(0.5));
        t.bandwidth_cost_per_gb = Some(0.09);
        let c = monthly_cost(2, 1000.0, &t).unwrap();
        assert!((c - (2.0 * 730.0 * 0.5 + 90.0)).abs() < 1e-9);
    }

    #[test]
    fn the_most_exceeded_limit_is_named() {
        let limits = Limits {
            max_connections: 100.0,
            memory_limit_bytes: 1000.0,
            utilization: 0.5,
            latency_p99_s: Some(1.0),
        };
        let mut load = Load {
            clients_per_instance: 1,
            instances: 1,
            connections_peak: 90.0,
            memory_peak_bytes: 900.0,
            cpu_utilization: 0.4,
            latency_p99_s: 0.5,
            warmup_s: 0.0,
            start_window_s: 0.0,
            duration_s: 10.0,
            totals: RunMetrics::default(),
        };
        assert_eq!(limits.exceeded(&load), None);
        load.connections_peak = 150.0;
        load.cpu_utilization = 0.9;
        assert_eq!(limits.exceeded(&load), Some(Resource::Cpu));
        load.latency_p99_s = 3.0;
        assert_eq!(limits.exceeded(&load), Some(Resource::Latency));
    }

    #[test]
    fn warm_up_covers_the_start_up_storm() {
        let sc = Scenario::reference(); // short polling
        let opts = Options::default();
        let s = Searcher::new(&sc, &target(None), &opts);
        // 100 clients: the file's warm-up is plenty.
        assert_eq!(s.warmup_for(100), sc.warmup);
        // 1M clients × 1.07 ms of handshake CPU on 8 cores ≈ 134 s of backlog.
        let w = secs(s.warmup_for(1_000_000));
        assert!(w > 134.0 && w < 200.0, "{w}");
    }

    #[test]
    fn csv_has_the_contract_columns() {
        let text = String::from_utf8(csv(&[]).unwrap()).unwrap();
        for c in [
            "technique",
            "instances_needed",
            "limiting_resource",
            "max_clients_per_instance",
            "memory_bytes",
            "bytes_down_per_s",
            "bytes_up_per_s",
            "requests_per_s",
            "latency_p99_s",
            "monthly_cost",
            "method",
        ] {
            assert!(
                text.lines().next().unwrap().split(',').any(|h| h == c),
                "{c}"
            );
        }
    }
}
