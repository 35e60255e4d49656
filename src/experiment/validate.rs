//! From raw layers to one checked [`Scenario`].
//!
//! Layering, highest first: the row's sweep values, `--set`, the experiment file (all
//! already merged into the [`RawExperiment`] passed in); then the named preset;
//! then the `event-loop` server preset (so a user preset may leave figures out); then the
//! built-in defaults (the README key reference). Every value keeps its [`Loc`], so a failed check
//! points at the value that broke it — in the file, a `--set`, a sweep element or a preset.
//!
//! Decisions worth knowing:
//! - `warmup` may equal `duration`; a warm-up *longer* than the measured run is an error
//!   ("a warm-up longer than the run").
//! - A long-poll `timeout` at or above `proxy_idle_timeout`, and SSE/WebSocket heartbeats
//!   that are off or not shorter than it, are warnings, not errors: that failure mode is a
//!   lesson the simulator shows.
//! - Memory: a run is refused when `clients × (200 B of client state + 2 pending events ×
//!   64 B)` exceeds 16 GiB; the message states the estimate.

use std::collections::BTreeMap;

use crate::engine::Nanos;
use crate::scenario::{
    Arrivals, Backoff, Balancer, Concurrency, Fault, LongPolling, Network, Pattern, PollSchedule,
    Retention, Rtt, Scenario, Server, ServiceTime, ShortPolling, Sse, Technique, Tls, WebSocket,
    Workload,
};

use super::error::{BUILTIN, ExperimentError, Loc, Problem, SourceKind, Sources};
use super::node::Node;
use super::presets::{DEFAULT_SERVER_PRESET, PresetDirs, PresetKind};
use super::schema::{
    RawChart, RawExperiment, RawFault, RawLongPolling, RawNetwork, RawServer, RawShortPolling,
    RawSse, RawTarget, RawTop, RawWebSocket, RawWorkload, Val, dflt, unknown_key,
};
use super::values::{BACKOFF_DEFAULT, Dur, OffDur, Size};
use crate::units::text::{format_duration, format_size};

/// Most clients one run may have.
pub(crate) const MAX_CLIENTS: u64 = 100_000_000;
/// Most replications.
pub(crate) const MAX_REPLICATIONS: u32 = 1000;
/// Estimated bytes of simulator state per client.
pub(crate) const CLIENT_STATE_BYTES: u64 = 200;
/// Estimated pending events per client, and bytes per pending event.
pub(crate) const EVENTS_PER_CLIENT: u64 = 2;
pub(crate) const EVENT_BYTES: u64 = 64;
/// Largest estimated memory of one run.
pub(crate) const MEMORY_CAP: u64 = 16 << 30;

/// State shared by every resolution of one load: texts, presets, warnings.
pub(crate) struct Ctx {
    pub sources: Sources,
    pub presets: PresetDirs,
    /// Default experiment name (the file stem).
    pub default_name: String,
    servers: BTreeMap<String, RawServer>,
    networks: BTreeMap<String, RawNetwork>,
    pub warnings: Vec<String>,
}

/// All sections with every key filled in.
#[derive(Clone, Debug)]
pub(crate) struct Filled {
    pub top: RawTop,
    pub workload: RawWorkload,
    pub network: RawNetwork,
    pub server: RawServer,
    pub short_polling: RawShortPolling,
    pub long_polling: RawLongPolling,
    pub sse: RawSse,
    pub websocket: RawWebSocket,
    pub target: RawTarget,
    pub faults: Vec<(Loc, RawFault)>,
    pub charts: Vec<(Loc, RawChart)>,
}

impl Ctx {
    pub fn new(sources: Sources, presets: PresetDirs, default_name: String) -> Ctx {
        Ctx {
            sources,
            presets,
            default_name,
            servers: BTreeMap::new(),
            networks: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    pub fn err(&self, p: Problem) -> ExperimentError {
        self.sources.error(p)
    }

    fn warn(&mut self, loc: &Loc, msg: String) {
        let line = format!("{}: warning: {msg}", self.sources.position(loc));
        if !self.warnings.contains(&line) {
            self.warnings.push(line);
        }
    }

    /// Parses a preset's text into its section; both kinds share this.
    fn preset_doc(&mut self, kind: PresetKind, name: &Val<String>) -> Result<Node, Problem> {
        let found = self
            .presets
            .find(kind, &name.v)
            .map_err(|why| Problem::new(&name.loc, "a readable preset file", why))?;
        let Some(preset) = found else {
            let available = self.presets.available(kind);
            let section = match kind {
                PresetKind::Server => "server",
                PresetKind::Network => "network",
            };
            return Err(Problem::new(
                &name.loc,
                format!("one of the {section} presets {}", quoted(&available)),
                format!("\"{}\"", name.v),
            )
            .title(format!("unknown {section} preset `{}`", name.v))
            .help(format!(
                "presets are files models/{}/NAME.toml; add one in a models/ folder next to \
                 the experiment",
                kind.folder()
            )));
        };
        let src = self
            .sources
            .add(&preset.display, &preset.text, SourceKind::Preset);
        Node::parse_document(&preset.text, src)
    }

    fn server_preset(&mut self, name: &Val<String>) -> Result<RawServer, Problem> {
        if let Some(s) = self.servers.get(&name.v) {
            return Ok(s.clone());
        }
        let doc = self.preset_doc(PresetKind::Server, name)?;
        let mut raw = RawServer::default();
        for e in doc.as_table().unwrap_or(&[]) {
            if e.key == "preset" || !raw.set(&e.key, &e.value)? {
                return Err(unknown_key(e, "server", &RawServer::KEYS[1..])
                    .title(format!("unknown key `{}` in a server preset", e.key)));
            }
        }
        self.servers.insert(name.v.clone(), raw.clone());
        Ok(raw)
    }

    fn network_preset(&mut self, name: &Val<String>) -> Result<RawNetwork, Problem> {
        if let Some(s) = self.networks.get(&name.v) {
            return Ok(s.clone());
        }
        let doc = self.preset_doc(PresetKind::Network, name)?;
        let mut raw = RawNetwork::default();
        for e in doc.as_table().unwrap_or(&[]) {
            if e.key == "preset" || !raw.set(&e.key, &e.value)? {
                return Err(unknown_key(e, "network", &RawNetwork::KEYS[1..])
                    .title(format!("unknown key `{}` in a network preset", e.key)));
            }
        }
        self.networks.insert(name.v.clone(), raw.clone());
        Ok(raw)
    }

    /// Fills every key of `raw` (layering described in the module doc).
    pub fn fill(&mut self, raw: &RawExperiment) -> Result<Filled, ExperimentError> {
        self.fill_inner(raw).map_err(|p| self.err(p))
    }

    fn fill_inner(&mut self, raw: &RawExperiment) -> Result<Filled, Problem> {
        let mut top = raw.top.clone();
        top.fill_from(&RawTop {
            name: dflt(self.default_name.clone()),
            description: dflt(String::new()),
            seed: dflt(1),
            duration: dflt(Dur(60 * S)),
            warmup: dflt(Dur(10 * S)),
            replications: dflt(1),
            techniques: dflt(Technique::ALL.to_vec()),
            timeseries_bucket: dflt(Dur(S)),
        });

        let mut server = raw.server.clone();
        let name = server.preset.clone().unwrap_or_else(|| Val {
            v: DEFAULT_SERVER_PRESET.to_string(),
            loc: Loc::builtin(),
        });
        let preset = self.server_preset(&name)?;
        server.fill_from(&preset);
        if name.v != DEFAULT_SERVER_PRESET {
            let fallback = self.server_preset(&Val {
                v: DEFAULT_SERVER_PRESET.to_string(),
                loc: Loc::builtin(),
            })?;
            server.fill_from(&fallback);
        }
        server.preset = Some(name);
        server.fill_from(&server_defaults());

        let mut network = raw.network.clone();
        if let Some(name) = network.preset.clone() {
            let preset = self.network_preset(&name)?;
            network.fill_from(&preset);
        }
        network.fill_from(&network_defaults());

        let mut workload = raw.workload.clone();
        workload.fill_from(&RawWorkload {
            clients: dflt(1000),
            pattern: dflt(Pattern::PerClient),
            rate: dflt(0.1),
            arrivals: dflt(Arrivals::Poisson),
            payload: dflt(Size(200)),
            room_size: dflt(10),
            start_window: dflt(Dur(3 * S)),
            post_retry: dflt(BACKOFF_DEFAULT),
        });
        let mut short_polling = raw.short_polling.clone();
        short_polling.fill_from(&RawShortPolling {
            interval: dflt(Dur(3 * S)),
            jitter: dflt(Dur(0)),
            schedule: dflt(PollSchedule::AfterResponse),
        });
        let mut long_polling = raw.long_polling.clone();
        long_polling.fill_from(&RawLongPolling {
            timeout: dflt(Dur(30 * S)),
            reconnect_delay: dflt(Dur(0)),
            backoff: dflt(BACKOFF_DEFAULT),
        });
        let mut sse = raw.sse.clone();
        sse.fill_from(&RawSse {
            heartbeat: dflt(OffDur(Some(15 * S))),
            retry: dflt(Dur(3 * S)),
        });
        let mut websocket = raw.websocket.clone();
        websocket.fill_from(&RawWebSocket {
            heartbeat: dflt(OffDur(Some(25 * S))),
            heartbeat_timeout: dflt(Dur(20 * S)),
            backoff: dflt(BACKOFF_DEFAULT),
            resume: dflt(false),
        });
        let mut target = raw.target.clone();
        target.fill_from(&RawTarget {
            utilization: dflt(0.7),
            ..RawTarget::default()
        });
        let faults = raw
            .faults
            .iter()
            .map(|(loc, f)| {
                let mut f = f.clone();
                f.fill_from(&RawFault {
                    kind: dflt(super::values::FaultKind::Crash),
                    ..RawFault::default()
                });
                (loc.clone(), f)
            })
            .collect();
        let charts = raw
            .charts
            .iter()
            .map(|(loc, c)| {
                let mut c = c.clone();
                c.fill_from(&RawChart {
                    log_x: dflt(false),
                    log_y: dflt(false),
                    ..RawChart::default()
                });
                (loc.clone(), c)
            })
            .collect();
        Ok(Filled {
            top,
            workload,
            network,
            server,
            short_polling,
            long_polling,
            sse,
            websocket,
            target,
            faults,
            charts,
        })
    }

    /// Checks a filled experiment and builds the scenario of one row.
    pub fn scenario(
        &mut self,
        f: &Filled,
        technique: Technique,
        random_point: u64,
    ) -> Result<Scenario, ExperimentError> {
        self.check(f).map_err(|p| self.err(p))?;
        build(f, technique, random_point).map_err(|p| self.err(p))
    }

    fn check(&mut self, f: &Filled) -> Result<(), Problem> {
        let techniques = &get(&f.top.techniques, "techniques")?.v;
        let uses = |t: Technique| techniques.contains(&t);

        // Time.
        let duration = get(&f.top.duration, "duration")?;
        positive(duration, "duration")?;
        let warmup = get(&f.top.warmup, "warmup")?;
        if warmup.v.0 > duration.v.0 {
            let loc = blame(&warmup.loc, &duration.loc);
            return Err(Problem::new(
                loc,
                format!(
                    "a warm-up no longer than the measured run ({})",
                    format_duration(duration.v.0)
                ),
                format!("warmup = \"{}\"", format_duration(warmup.v.0)),
            )
            .title("the warm-up is longer than the run"));
        }
        positive(
            get(&f.top.timeseries_bucket, "timeseries_bucket")?,
            "timeseries_bucket",
        )?;
        let reps = get(&f.top.replications, "replications")?;
        if reps.v == 0 || reps.v > MAX_REPLICATIONS {
            return Err(Problem::new(
                &reps.loc,
                format!("from 1 to {MAX_REPLICATIONS} replications"),
                reps.v.to_string(),
            )
            .for_key("replications"));
        }

        // Workload.
        let clients = get(&f.workload.clients, "workload.clients")?;
        let n = u64::from(clients.v);
        if n == 0 || n > MAX_CLIENTS {
            return Err(Problem::new(
                &clients.loc,
                "from 1 to 100,000,000 clients",
                clients.v.to_string(),
            )
            .for_key("workload.clients"));
        }
        let estimate = n * (CLIENT_STATE_BYTES + EVENTS_PER_CLIENT * EVENT_BYTES);
        if estimate > MEMORY_CAP {
            return Err(Problem::new(
                &clients.loc,
                format!(
                    "a run that fits in about {} of simulator memory",
                    format_size(MEMORY_CAP)
                ),
                format!(
                    "{n} clients, an estimated {:.1} GiB ({n} × ({CLIENT_STATE_BYTES} B of \
                     client state + {EVENTS_PER_CLIENT} pending events × {EVENT_BYTES} B))",
                    estimate as f64 / f64::from(1u32 << 30)
                ),
            )
            .title("this run would need too much memory")
            .help("use fewer clients; results per client scale, see `rtsim size`"));
        }
        let rate = get(&f.workload.rate, "workload.rate")?;
        if rate.v <= 0.0 {
            return Err(
                Problem::new(&rate.loc, "a rate above 0 per second", rate.v.to_string())
                    .for_key("workload.rate"),
            );
        }
        let pattern = get(&f.workload.pattern, "workload.pattern")?;
        let room = get(&f.workload.room_size, "workload.room_size")?;
        if pattern.v == Pattern::Chat {
            if room.v < 2 {
                let loc = blame(&room.loc, &pattern.loc);
                return Err(Problem::new(
                    loc,
                    "a chat room of at least 2 clients",
                    format!("room_size = {}", room.v),
                )
                .for_key("workload.room_size"));
            }
            if room.v > clients.v {
                let loc = blame(&room.loc, &clients.loc).clone();
                self.warn(
                    &loc,
                    format!(
                        "workload.room_size ({}) is larger than workload.clients ({}): there \
                         is only one, smaller room",
                        room.v, clients.v
                    ),
                );
            }
        }

        // Network.
        let rtt = get(&f.network.rtt, "network.rtt")?;
        check_rtt(rtt)?;
        let proxy = get(&f.network.proxy_idle_timeout, "network.proxy_idle_timeout")?;
        not_zero_off(proxy, "network.proxy_idle_timeout")?;
        let every = get(&f.network.disconnect_every, "network.disconnect_every")?;
        not_zero_off(every, "network.disconnect_every")?;
        if every.v.0.is_some() {
            positive(get(&f.network.outage, "network.outage")?, "network.outage")?;
        }

        // Server.
        let instances = get(&f.server.instances, "server.instances")?;
        at_least_one(
            instances.v.into(),
            &instances.loc,
            "server.instances",
            "instance",
        )?;
        let cores = get(&f.server.cores, "server.cores")?;
        at_least_one(cores.v.into(), &cores.loc, "server.cores", "core")?;
        let slots = get(&f.server.max_connections, "server.max_connections")?;
        at_least_one(slots.v, &slots.loc, "server.max_connections", "connection")?;
        let limit = get(&f.server.memory_limit, "server.memory_limit")?;
        let base = get(&f.server.base_memory, "server.base_memory")?;
        if limit.v.0 <= base.v.0 {
            let loc = blame(&limit.loc, &base.loc);
            return Err(Problem::new(
                loc,
                format!(
                    "a memory_limit above base_memory ({})",
                    format_size(base.v.0)
                ),
                format!("memory_limit = \"{}\"", format_size(limit.v.0)),
            )
            .title("no memory is left for connections"));
        }
        let retention = get(&f.server.retention, "server.retention")?;
        if matches!(retention.v, Retention::Duration(0) | Retention::Count(0)) {
            return Err(
                Problem::new(&retention.loc, "a positive duration or count", "0")
                    .for_key("server.retention"),
            );
        }

        // Techniques.
        positive(
            get(&f.short_polling.interval, "short-polling.interval")?,
            "short-polling.interval",
        )?;
        let lp = get(&f.long_polling.timeout, "long-polling.timeout")?;
        positive(lp, "long-polling.timeout")?;
        let sse_hb = get(&f.sse.heartbeat, "sse.heartbeat")?;
        not_zero_off(sse_hb, "sse.heartbeat")?;
        let ws_hb = get(&f.websocket.heartbeat, "websocket.heartbeat")?;
        not_zero_off(ws_hb, "websocket.heartbeat")?;
        positive(
            get(
                &f.websocket.heartbeat_timeout,
                "websocket.heartbeat_timeout",
            )?,
            "websocket.heartbeat_timeout",
        )?;
        for (b, key) in [
            (&f.websocket.backoff, "websocket.backoff"),
            (&f.long_polling.backoff, "long-polling.backoff"),
            (&f.workload.post_retry, "workload.post_retry"),
        ] {
            check_backoff(get(b, key)?, key)?;
        }
        positive(
            get(&f.workload.start_window, "workload.start_window")?,
            "workload.start_window",
        )?;
        if let Some(p) = proxy.v.0 {
            let pt = format_duration(p);
            if uses(Technique::LongPolling) && lp.v.0 >= p {
                let loc = blame(&lp.loc, &proxy.loc).clone();
                self.warn(
                    &loc,
                    format!(
                        "long-polling.timeout ({}) is not shorter than \
                         network.proxy_idle_timeout ({pt}): held polls will die with a 504",
                        format_duration(lp.v.0)
                    ),
                );
            }
            for (t, key, hb) in [
                (Technique::Sse, "sse.heartbeat", sse_hb),
                (Technique::Websocket, "websocket.heartbeat", ws_hb),
            ] {
                let silent = hb.v.0.is_none_or(|h| h >= p);
                if uses(t) && silent {
                    let loc = blame(&hb.loc, &proxy.loc).clone();
                    let what = hb.v.0.map_or("off".to_string(), format_duration);
                    self.warn(
                        &loc,
                        format!(
                            "{key} ({what}) does not keep connections busier than \
                             network.proxy_idle_timeout ({pt}): quiet {t} connections will be \
                             closed by the proxy"
                        ),
                    );
                }
            }
        }

        // Faults.
        let end = warmup.v.0.saturating_add(duration.v.0);
        for (loc, fault) in &f.faults {
            let at = need(&fault.at, loc, "faults", "at")?;
            let instance = need(&fault.instance, loc, "faults", "instance")?;
            let downtime = need(&fault.downtime, loc, "faults", "downtime")?;
            positive(downtime, "faults.downtime")?;
            if instance.v >= instances.v {
                let l = blame(&instance.loc, &instances.loc);
                return Err(Problem::new(
                    l,
                    format!(
                        "an instance index from 0 to {} (server.instances = {})",
                        instances.v - 1,
                        instances.v
                    ),
                    instance.v.to_string(),
                )
                .for_key("faults.instance"));
            }
            if at.v.0 >= end {
                self.warn(
                    &at.loc,
                    format!(
                        "this fault at {} is after the end of the run ({}): it never happens",
                        format_duration(at.v.0),
                        format_duration(end)
                    ),
                );
            }
        }

        // Charts and target.
        for (loc, chart) in &f.charts {
            for (key, v) in [("x", &chart.x), ("y", &chart.y)] {
                let v = need(v, loc, "charts", key)?;
                if v.v.trim().is_empty() {
                    return Err(Problem::new(&v.loc, "a column name", "an empty string")
                        .for_key(&format!("charts.{key}")));
                }
            }
        }
        let u = get(&f.target.utilization, "target.utilization")?;
        if !(u.v > 0.0 && u.v <= 1.0) {
            return Err(
                Problem::new(&u.loc, "a fraction above 0 and at most 1", u.v.to_string())
                    .for_key("target.utilization"),
            );
        }
        if let Some(p99) = &f.target.latency_p99 {
            positive(p99, "target.latency_p99")?;
        }
        for (key, cost) in [
            ("target.instance_hour_cost", &f.target.instance_hour_cost),
            (
                "target.bandwidth_cost_per_gb",
                &f.target.bandwidth_cost_per_gb,
            ),
        ] {
            if let Some(c) = cost {
                if c.v < 0.0 {
                    return Err(
                        Problem::new(&c.loc, "a cost of 0 or more", c.v.to_string()).for_key(key)
                    );
                }
            }
        }
        Ok(())
    }
}

const S: Nanos = 1_000_000_000;
const MS: Nanos = 1_000_000;

fn server_defaults() -> RawServer {
    RawServer {
        instances: dflt(1),
        balancer: dflt(Balancer::LeastConnections),
        cores: dflt(8),
        service: dflt(ServiceTime::Deterministic),
        concurrency: dflt(Concurrency::EventLoop),
        keepalive_timeout: dflt(Dur(75 * S)),
        retention: dflt(Retention::Duration(300 * S)),
        backplane_latency: dflt(Dur(MS)),
        ..RawServer::default()
    }
}

fn network_defaults() -> RawNetwork {
    RawNetwork {
        preset: None,
        rtt: dflt(Rtt::Constant(50 * MS)),
        tls: dflt(Tls::V1_3),
        request_header_bytes: dflt(Size(700)),
        response_header_bytes: dflt(Size(171)),
        tls_handshake_bytes: dflt(Size(4096)),
        tcp_handshake_bytes: dflt(Size(172)),
        ws_handshake_request_bytes: dflt(Size(230)),
        ws_handshake_response_bytes: dflt(Size(159)),
        proxy_idle_timeout: dflt(OffDur(Some(60 * S))),
        disconnect_every: dflt(OffDur(None)),
        outage: dflt(Dur(2 * S)),
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The location to point at for a two-value conflict: a sweep element if one is involved,
/// else the first value unless it is a default.
fn blame<'a>(first: &'a Loc, second: &'a Loc) -> &'a Loc {
    if (second.swept && !first.swept) || first.src == BUILTIN {
        second
    } else {
        first
    }
}

fn get<'a, T>(v: &'a Option<Val<T>>, key: &str) -> Result<&'a Val<T>, Problem> {
    v.as_ref().ok_or_else(|| {
        Problem::new(
            &Loc::builtin(),
            format!("a value for `{key}`"),
            "none (internal error)",
        )
    })
}

/// A key a `[[faults]]`/`[[charts]]` table must have.
fn need<'a, T>(
    v: &'a Option<Val<T>>,
    table: &Loc,
    section: &str,
    key: &str,
) -> Result<&'a Val<T>, Problem> {
    v.as_ref().ok_or_else(|| {
        Problem::new(
            table,
            format!("a `{key}` key"),
            format!("a [[{section}]] table without one"),
        )
        .title(format!("incomplete [[{section}]] table"))
    })
}

fn positive(v: &Val<Dur>, key: &str) -> Result<(), Problem> {
    if v.v.0 == 0 {
        Err(Problem::new(&v.loc, "a duration above zero", "\"0s\"").for_key(key))
    } else {
        Ok(())
    }
}

fn not_zero_off(v: &Val<OffDur>, key: &str) -> Result<(), Problem> {
    if v.v.0 == Some(0) {
        Err(
            Problem::new(&v.loc, "a duration above zero, or \"off\"", "\"0s\"")
                .for_key(key)
                .help("write \"off\" to turn it off"),
        )
    } else {
        Ok(())
    }
}

fn at_least_one(n: u64, loc: &Loc, key: &str, what: &str) -> Result<(), Problem> {
    if n == 0 {
        Err(Problem::new(loc, format!("at least 1 {what}"), "0").for_key(key))
    } else {
        Ok(())
    }
}

fn check_rtt(rtt: &Val<Rtt>) -> Result<(), Problem> {
    let bad = |expected: &str, found: String| {
        Err(Problem::new(&rtt.loc, expected, found).for_key("network.rtt"))
    };
    match rtt.v {
        Rtt::Constant(0) => bad("a round-trip time above zero", "\"0s\"".into()),
        Rtt::Constant(_) => Ok(()),
        Rtt::LogNormal {
            median,
            sigma,
            min,
            max,
        } => {
            if median == 0 {
                return bad("a median above zero", "median = \"0s\"".into());
            }
            if sigma < 0.0 {
                return bad("sigma of 0 or more", format!("sigma = {sigma}"));
            }
            if let (Some(lo), Some(hi)) = (min, max) {
                if lo > hi {
                    return bad(
                        "min no larger than max",
                        format!(
                            "min = \"{}\", max = \"{}\"",
                            format_duration(lo),
                            format_duration(hi)
                        ),
                    );
                }
            }
            if max.is_some_and(|m| m == 0) {
                return bad("a max above zero", "max = \"0s\"".into());
            }
            Ok(())
        }
    }
}

fn check_backoff(b: &Val<Backoff>, key: &str) -> Result<(), Problem> {
    let v = &b.v;
    if v.initial == 0 {
        return Err(
            Problem::new(&b.loc, "an initial delay above zero", "initial = \"0s\"").for_key(key),
        );
    }
    if v.max < v.initial {
        return Err(Problem::new(
            &b.loc,
            "max at least as long as initial",
            format!(
                "initial = \"{}\", max = \"{}\"",
                format_duration(v.initial),
                format_duration(v.max)
            ),
        )
        .for_key(key));
    }
    if !(0.0..=1.0).contains(&v.jitter) {
        return Err(
            Problem::new(&b.loc, "a jitter from 0 to 1", v.jitter.to_string()).for_key(key),
        );
    }
    Ok(())
}

fn build(f: &Filled, technique: Technique, random_point: u64) -> Result<Scenario, Problem> {
    let w = &f.workload;
    let n = &f.network;
    let s = &f.server;
    let mut faults = Vec::new();
    for (loc, fault) in &f.faults {
        faults.push(Fault {
            at: need(&fault.at, loc, "faults", "at")?.v.0,
            instance: need(&fault.instance, loc, "faults", "instance")?.v,
            downtime: need(&fault.downtime, loc, "faults", "downtime")?.v.0,
        });
    }
    Ok(Scenario {
        technique,
        seed: get(&f.top.seed, "seed")?.v,
        random_point,
        replication: 0,
        duration: get(&f.top.duration, "duration")?.v.0,
        warmup: get(&f.top.warmup, "warmup")?.v.0,
        timeseries_bucket: get(&f.top.timeseries_bucket, "timeseries_bucket")?.v.0,
        workload: Workload {
            clients: get(&w.clients, "workload.clients")?.v,
            pattern: get(&w.pattern, "workload.pattern")?.v,
            rate: get(&w.rate, "workload.rate")?.v,
            arrivals: get(&w.arrivals, "workload.arrivals")?.v,
            payload: get(&w.payload, "workload.payload")?.v.0,
            room_size: get(&w.room_size, "workload.room_size")?.v,
            start_window: get(&w.start_window, "workload.start_window")?.v.0,
            post_retry: get(&w.post_retry, "workload.post_retry")?.v.clone(),
        },
        network: Network {
            rtt: get(&n.rtt, "network.rtt")?.v.clone(),
            tls: get(&n.tls, "network.tls")?.v,
            request_header_bytes: get(&n.request_header_bytes, "request_header_bytes")?.v.0,
            response_header_bytes: get(&n.response_header_bytes, "response_header_bytes")?.v.0,
            tls_handshake_bytes: get(&n.tls_handshake_bytes, "tls_handshake_bytes")?.v.0,
            tcp_handshake_bytes: get(&n.tcp_handshake_bytes, "tcp_handshake_bytes")?.v.0,
            ws_handshake_request_bytes: get(&n.ws_handshake_request_bytes, "ws_request")?.v.0,
            ws_handshake_response_bytes: get(&n.ws_handshake_response_bytes, "ws_response")?.v.0,
            proxy_idle_timeout: get(&n.proxy_idle_timeout, "proxy_idle_timeout")?.v.0,
            disconnect_every: get(&n.disconnect_every, "disconnect_every")?.v.0,
            outage: get(&n.outage, "outage")?.v.0,
        },
        server: Server {
            instances: get(&s.instances, "server.instances")?.v,
            balancer: get(&s.balancer, "server.balancer")?.v,
            cores: get(&s.cores, "server.cores")?.v,
            service: get(&s.service, "server.service")?.v,
            tcp_accept_cpu: get(&s.tcp_accept_cpu, "server.tcp_accept_cpu")?.v.0,
            tls_handshake_cpu: get(&s.tls_handshake_cpu, "server.tls_handshake_cpu")?.v.0,
            request_cpu: get(&s.request_cpu, "server.request_cpu")?.v.0,
            push_cpu: get(&s.push_cpu, "server.push_cpu")?.v.0,
            max_connections: get(&s.max_connections, "server.max_connections")?.v,
            memory_limit: get(&s.memory_limit, "server.memory_limit")?.v.0,
            base_memory: get(&s.base_memory, "server.base_memory")?.v.0,
            memory_per_connection: get(&s.memory_per_connection, "memory_per_connection")?.v.0,
            memory_per_request: get(&s.memory_per_request, "memory_per_request")?.v.0,
            memory_per_stream: get(&s.memory_per_stream, "memory_per_stream")?.v.0,
            concurrency: get(&s.concurrency, "server.concurrency")?.v,
            thread_stack: get(&s.thread_stack, "server.thread_stack")?.v.0,
            keepalive_timeout: get(&s.keepalive_timeout, "server.keepalive_timeout")?.v.0,
            retention: get(&s.retention, "server.retention")?.v,
            backplane_latency: get(&s.backplane_latency, "server.backplane_latency")?.v.0,
        },
        short_polling: ShortPolling {
            interval: get(&f.short_polling.interval, "short-polling.interval")?
                .v
                .0,
            jitter: get(&f.short_polling.jitter, "short-polling.jitter")?.v.0,
            schedule: get(&f.short_polling.schedule, "short-polling.schedule")?.v,
        },
        long_polling: LongPolling {
            timeout: get(&f.long_polling.timeout, "long-polling.timeout")?.v.0,
            reconnect_delay: get(&f.long_polling.reconnect_delay, "reconnect_delay")?.v.0,
            backoff: get(&f.long_polling.backoff, "long-polling.backoff")?
                .v
                .clone(),
        },
        sse: Sse {
            heartbeat: get(&f.sse.heartbeat, "sse.heartbeat")?.v.0,
            retry: get(&f.sse.retry, "sse.retry")?.v.0,
        },
        websocket: WebSocket {
            heartbeat: get(&f.websocket.heartbeat, "websocket.heartbeat")?.v.0,
            heartbeat_timeout: get(&f.websocket.heartbeat_timeout, "heartbeat_timeout")?
                .v
                .0,
            backoff: get(&f.websocket.backoff, "websocket.backoff")?.v.clone(),
            resume: get(&f.websocket.resume, "websocket.resume")?.v,
        },
        faults,
        target_utilization: get(&f.target.utilization, "target.utilization")?.v,
    })
}
