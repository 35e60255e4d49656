//! From raw layers to one checked [`Scenario`].
//!
//! Layering, highest first: the row's sweep values, `--set`, the experiment file (all
//! already merged into the [`RawExperiment`] passed in); then the named preset;
//! then the `event-loop` server preset (so a user preset may leave figures out); then the
//! built-in defaults of the key tables (`scenario.rs`, `schema.rs`; the README key
//! reference). Every value keeps its [`Loc`], so a failed check points at the value that
//! broke it — in the file, a `--set`, a sweep element or a preset.
//!
//! Each key is checked on its own first (the rule its table names, `checks.rs`), then the
//! checks across keys below. Decisions worth knowing:
//! - `warmup` may equal `duration`; a warm-up *longer* than the measured run is an error
//!   ("a warm-up longer than the run").
//! - A long-poll `timeout` at or above `proxy_idle_timeout`, and SSE/WebSocket heartbeats
//!   that are off or not shorter than it, are warnings, not errors: that failure mode is a
//!   lesson the simulator shows.
//! - Memory: a run is refused when `clients × (200 B of client state + 2 pending events ×
//!   64 B)` exceeds 16 GiB; the message states the estimate (`checks::clients_fit`).

use std::collections::BTreeMap;

use crate::scenario::{Fault, FaultKind, Http, Pattern, Scenario, Technique, Tls};

use super::checks::positive;
use super::document::{RawExperiment, unknown_key};
use super::error::{BUILTIN, ExperimentError, Loc, Problem, SourceKind, Sources};
use super::node::Node;
use super::presets::{DEFAULT_SERVER_PRESET, PresetDirs, PresetKind};
use super::schema::{
    RawSection, Val, chart, claim, fault, long_polling, network, server, short_polling, sse,
    target, top, websocket, workload,
};
use super::values::FileValue;
use crate::units::text::{format_duration, format_size};

/// State shared by every resolution of one load: texts, presets, warnings.
pub(crate) struct Ctx {
    pub sources: Sources,
    pub presets: PresetDirs,
    /// The experiment's name when the file names none: the file's name without extension.
    pub default_name: Option<String>,
    servers: BTreeMap<String, server::Raw>,
    networks: BTreeMap<String, network::Raw>,
    pub warnings: Vec<String>,
}

/// All sections with every key filled in.
#[derive(Clone, Debug)]
pub(crate) struct Filled {
    pub top: top::Filled,
    pub workload: workload::Filled,
    /// `[network] preset`, when one is named.
    pub network_preset: Option<Val<String>>,
    pub network: network::Filled,
    /// `[server] preset`: the one named, else `event-loop`.
    pub server_preset: Val<String>,
    pub server: server::Filled,
    pub short_polling: short_polling::Filled,
    pub long_polling: long_polling::Filled,
    pub sse: sse::Filled,
    pub websocket: websocket::Filled,
    pub target: target::Filled,
    pub faults: Vec<(Loc, fault::Filled)>,
    pub charts: Vec<(Loc, chart::Filled)>,
    pub claims: Vec<(Loc, claim::Filled)>,
}

impl Filled {
    /// Checks every key on its own, section by section in key-reference order.
    fn check_each_key(&self) -> Result<(), Problem> {
        self.top.check()?;
        self.workload.check()?;
        self.network.check()?;
        self.server.check()?;
        self.short_polling.check()?;
        self.long_polling.check()?;
        self.sse.check()?;
        self.websocket.check()?;
        self.target.check()?;
        for (_, fault) in &self.faults {
            fault.check()?;
        }
        for (_, chart) in &self.charts {
            chart.check()?;
        }
        for (_, claim) in &self.claims {
            claim.check()?;
        }
        Ok(())
    }
}

impl Ctx {
    pub fn new(sources: Sources, presets: PresetDirs, default_name: Option<String>) -> Ctx {
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
            .map_err(|why| Problem::new(&name.loc, "a readable preset file", why.to_string()))?;
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

    fn server_preset(&mut self, name: &Val<String>) -> Result<server::Raw, Problem> {
        if let Some(s) = self.servers.get(&name.v) {
            return Ok(s.clone());
        }
        let doc = self.preset_doc(PresetKind::Server, name)?;
        let mut raw = server::Raw::default();
        for e in doc.as_table().unwrap_or(&[]) {
            if !raw.set(&e.key, &e.value)? {
                return Err(unknown_key(e, "server", server::Raw::KEYS)
                    .title(format!("unknown key `{}` in a server preset", e.key)));
            }
        }
        self.servers.insert(name.v.clone(), raw.clone());
        Ok(raw)
    }

    fn network_preset(&mut self, name: &Val<String>) -> Result<network::Raw, Problem> {
        if let Some(s) = self.networks.get(&name.v) {
            return Ok(s.clone());
        }
        let doc = self.preset_doc(PresetKind::Network, name)?;
        let mut raw = network::Raw::default();
        for e in doc.as_table().unwrap_or(&[]) {
            if !raw.set(&e.key, &e.value)? {
                return Err(unknown_key(e, "network", network::Raw::KEYS)
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
        if let Some(name) = &self.default_name {
            top.name.get_or_insert_with(|| Val::builtin(name.clone()));
        }

        let server_preset = raw
            .server
            .preset
            .clone()
            .unwrap_or_else(|| Val::builtin(DEFAULT_SERVER_PRESET.to_string()));
        let fallback = Val::builtin(DEFAULT_SERVER_PRESET.to_string());
        let mut server = raw.server.keys.clone();
        server.fill_from(&self.server_preset(&server_preset)?);
        if server_preset.v != fallback.v {
            server.fill_from(&self.server_preset(&fallback)?);
        }
        let server = server.resolve(|key| preset_lacks(&server_preset, key))?;

        let network_preset = raw.network.preset.clone();
        let mut network = raw.network.keys.clone();
        if let Some(name) = &network_preset {
            network.fill_from(&self.network_preset(name)?);
        }

        let faults = raw
            .faults
            .iter()
            .map(|(loc, f)| {
                let f = f.clone().resolve(|key| incomplete(loc, "faults", key))?;
                Ok((loc.clone(), f))
            })
            .collect::<Result<_, Problem>>()?;
        let charts = raw
            .charts
            .iter()
            .map(|(loc, c)| {
                let c = c.clone().resolve(|key| incomplete(loc, "charts", key))?;
                Ok((loc.clone(), c))
            })
            .collect::<Result<_, Problem>>()?;
        let claims = raw
            .claims
            .iter()
            .map(|(loc, c)| {
                let c = c.clone().resolve(|key| incomplete(loc, "claims", key))?;
                Ok((loc.clone(), c))
            })
            .collect::<Result<_, Problem>>()?;
        Ok(Filled {
            top: top.resolve(),
            workload: raw.workload.clone().resolve(),
            network_preset,
            network: network.resolve(),
            server_preset,
            server,
            short_polling: raw.short_polling.clone().resolve(),
            long_polling: raw.long_polling.clone().resolve(),
            sse: raw.sse.clone().resolve(),
            websocket: raw.websocket.clone().resolve(),
            target: raw.target.clone().resolve(),
            faults,
            charts,
            claims,
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
        Ok(build(f, technique, random_point))
    }

    /// Every key on its own (the rules the key tables name), then the checks across keys.
    fn check(&mut self, f: &Filled) -> Result<(), Problem> {
        f.check_each_key()?;
        let uses = |t: Technique| f.top.techniques.v.contains(&t);

        // Time.
        let (duration, warmup) = (&f.top.duration, &f.top.warmup);
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
        // Each is at most 100 years (the parser's cap); together too, so that the end of
        // the run plus any timer stays far inside the clock's ~584 years.
        let end = warmup.v.0.checked_add(duration.v.0);
        if end.is_none_or(|e| e > crate::units::text::MAX_DURATION) {
            let loc = blame(&duration.loc, &warmup.loc);
            return Err(Problem::new(
                loc,
                "duration + warmup of at most 100 years (the simulator's clock covers ~584 \
                 years)",
                format!(
                    "duration = \"{}\", warmup = \"{}\"",
                    format_duration(duration.v.0),
                    format_duration(warmup.v.0)
                ),
            )
            .title("the run is longer than the simulator's clock allows"));
        }

        // Workload.
        let w = &f.workload;
        if w.pattern.v == Pattern::Chat {
            if w.room_size.v < 2 {
                let loc = blame(&w.room_size.loc, &w.pattern.loc);
                return Err(Problem::new(
                    loc,
                    "a chat room of at least 2 clients",
                    format!("room_size = {}", w.room_size.v),
                )
                .for_key("workload.room_size"));
            }
            if w.session.v.0.is_some() {
                // A chat user who leaves would take an outbox of unsent messages along;
                // the model does not say what becomes of them yet.
                let loc = blame(&w.session.loc, &w.pattern.loc);
                return Err(Problem::new(
                    loc,
                    "session = \"off\" with pattern = \"chat\" (churn is modelled for \
                     notification streams only)",
                    "a session length",
                )
                .for_key("workload.session"));
            }
            if w.room_size.v > w.clients.v {
                let loc = blame(&w.room_size.loc, &w.clients.loc).clone();
                self.warn(
                    &loc,
                    format!(
                        "workload.room_size ({}) is larger than workload.clients ({}): there \
                         is only one, smaller room",
                        w.room_size.v, w.clients.v
                    ),
                );
            }
        }

        if w.tabs.v > 1 && w.session.v.0.is_some() {
            // Churn replaces one client; a user's tabs would leave one by one.
            let loc = blame(&w.session.loc, &w.tabs.loc);
            return Err(Problem::new(
                loc,
                "session = \"off\" with tabs above 1 (churn is modelled per client, \
                 not per user)",
                "a session length",
            )
            .for_key("workload.session"));
        }

        // Network.
        let n = &f.network;
        if n.disconnect_every.v.0.is_some() {
            positive(&n.outage, "network.outage")?;
        }
        let over_http2 = &f.websocket.over_http2;
        if over_http2.v && n.http.v != Http::V2 {
            let loc = blame(&over_http2.loc, &n.http.loc);
            return Err(Problem::new(
                loc,
                "websocket.over_http2 = true only with network.http = \"2\" (RFC 8441 \
                 tunnels a WebSocket in an HTTP/2 stream)",
                "over_http2 = true with http = \"1.1\"",
            )
            .title("WebSockets over HTTP/2 need HTTP/2"));
        }
        if n.http.v == Http::V2 {
            if uses(Technique::Websocket) && !over_http2.v {
                self.warn(
                    &n.http.loc.clone(),
                    "network.http = \"2\" does not reach websocket: its handshake stays HTTP/1.1's \
                     Upgrade unless [websocket] over_http2 = true (RFC 8441), so its bytes are \
                     unchanged"
                        .to_string(),
                );
            }
            if n.tls.v == Tls::None {
                let loc = blame(&n.tls.loc, &n.http.loc).clone();
                self.warn(
                    &loc,
                    "network.http = \"2\" with network.tls = \"none\": browsers speak HTTP/2 \
                     only over TLS (h2c is for servers and tools)"
                        .to_string(),
                );
            }
        }

        // Server.
        let (limit, base) = (&f.server.memory_limit, &f.server.base_memory);
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

        // The memory books are i64 bytes: the most the deployment could ever hold (or be
        // asked for: every client's two connections in their largest use, plus each
        // instance's base) must fit with room to spare, so no sum can wrap.
        let sv = &f.server;
        let per_conn = u128::from(sv.memory_per_connection.v.0)
            + u128::from(sv.thread_stack.v.0)
            + u128::from(sv.memory_per_request.v.0.max(sv.memory_per_stream.v.0));
        let most = u128::from(sv.instances.v) * u128::from(base.v.0)
            + 2 * u128::from(f.workload.clients.v) * per_conn;
        if most > MAX_MEMORY_BOOKS {
            let loc = blame(&sv.memory_per_connection.loc, &base.loc);
            return Err(Problem::new(
                loc,
                "server memory sizes whose total over every connection and instance stays \
                 below 4 EiB",
                format!("up to {most} B in all"),
            )
            .title("the server's memory sizes are too large to account for"));
        }

        // Techniques against the proxy.
        let proxy = &n.proxy_idle_timeout;
        if let Some(p) = proxy.v.0 {
            let pt = format_duration(p);
            let lp = &f.long_polling.timeout;
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
                (Technique::Sse, "sse.heartbeat", &f.sse.heartbeat),
                (
                    Technique::Websocket,
                    "websocket.heartbeat",
                    &f.websocket.heartbeat,
                ),
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
        let instances = &f.server.instances;
        let end = warmup.v.0.saturating_add(duration.v.0);
        for (_, fault) in &f.faults {
            let (at, instance) = (&fault.at, &fault.instance);
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
            match fault.kind.v {
                FaultKind::Deploy if instances.v == 1 => self.warn(
                    &fault.kind.loc,
                    "a deploy with one instance means downtime: while it drains and restarts \
                     no other instance takes its clients"
                        .to_string(),
                ),
                FaultKind::Crash if fault.drain.v.0 > 0 || fault.jitter.v => self.warn(
                    &fault.kind.loc,
                    "drain and jitter apply to kind = \"deploy\" only: a crash ignores them"
                        .to_string(),
                ),
                _ => {}
            }
        }
        Ok(())
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
/// Most bytes the memory books may ever hold (2^62: half of `i64`'s range).
const MAX_MEMORY_BOOKS: u128 = 1 << 62;

fn blame<'a>(first: &'a Loc, second: &'a Loc) -> &'a Loc {
    if (second.swept && !first.swept) || first.src == BUILTIN {
        second
    } else {
        first
    }
}

/// A `[[faults]]`/`[[charts]]` table without a key it must have.
fn incomplete(table: &Loc, section: &str, key: &str) -> Problem {
    Problem::new(
        table,
        format!("a `{key}` key"),
        format!("a [[{section}]] table without one"),
    )
    .title(format!("incomplete [[{section}]] table"))
}

/// A server key that neither the experiment, its preset, the `event-loop` preset nor the
/// built-in defaults give: only possible with a user's own preset files.
fn preset_lacks(preset: &Val<String>, key: &str) -> Problem {
    let mut presets = format!("\"{}\"", preset.v);
    if preset.v != DEFAULT_SERVER_PRESET {
        presets.push_str(&format!(" nor \"{DEFAULT_SERVER_PRESET}\""));
    }
    Problem::new(
        &preset.loc,
        format!("a value for `server.{key}`"),
        format!("none in [server] or the server preset {presets}"),
    )
    .title(format!("`server.{key}` has no value"))
    .help(format!(
        "write `{key}` in [server] or in the preset file models/servers/{}.toml",
        preset.v
    ))
}

/// The scenario of one row: the resolved sections as the simulation reads them.
fn build(f: &Filled, technique: Technique, random_point: u64) -> Scenario {
    Scenario {
        technique,
        seed: f.top.seed.v,
        random_point,
        replication: 0,
        duration: f.top.duration.v.field(),
        warmup: f.top.warmup.v.field(),
        timeseries_bucket: f.top.timeseries_bucket.v.field(),
        workload: f.workload.resolved(),
        network: f.network.resolved(),
        server: f.server.resolved(),
        short_polling: f.short_polling.resolved(),
        long_polling: f.long_polling.resolved(),
        sse: f.sse.resolved(),
        websocket: f.websocket.resolved(),
        faults: f
            .faults
            .iter()
            .map(|(_, fault)| Fault {
                at: fault.at.v.field(),
                instance: fault.instance.v,
                downtime: fault.downtime.v.field(),
                kind: fault.kind.v,
                drain: fault.drain.v.field(),
                jitter: fault.jitter.v,
            })
            .collect(),
        target_utilization: f.target.utilization.v,
    }
}
