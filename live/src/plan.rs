//! What one real run does, derived from the simulator's own `Scenario`.
//!
//! The real run replays the simulation's random draws (common random numbers between the
//! model and the measurement): every client starts at the phase the simulator draws for it
//! (`Purpose::Phase`) and every update is born at the instant, for the client, that the
//! simulator's update source draws (`Purpose::Updates`, merged Poisson process or periodic
//! sources, in the world's order). What differs between the two runs is then what the
//! validation is about: real sockets, real framing, real timers.
//!
//! A plan is refused, with the key to change, when the scenario asks for something the
//! reference server or its clients do not do (several instances, faults, a lognormal RTT,
//! tabs, sessions, `204` answers…: [`unimplemented_key`]) or for more than this machine
//! can drive honestly (see [`Limits`]). A key the real run would silently ignore would
//! make its numbers answer another question than the simulation's.

use rtsim::engine::{NS_PER_MS, NS_PER_S, Nanos, Purpose, RandomStream};
use rtsim::scenario::{
    Arrivals, EmptyAnswer, HeartbeatBy, Http, Http2Stack, Join, Pattern, PollSchedule, Rtt,
    Scenario, Technique, Tls,
};

/// Why a scenario cannot be run for real.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refused {
    #[error("{technique}: {key} = {found}: the reference server {why}")]
    Unsupported {
        technique: &'static str,
        key: &'static str,
        found: String,
        why: &'static str,
    },
    #[error(
        "{technique}: {what} is {found}, beyond what this machine drives honestly ({limit}); {hint}"
    )]
    TooLarge {
        technique: &'static str,
        what: &'static str,
        found: String,
        limit: String,
        hint: &'static str,
    },
}

/// How much a real run may ask of this machine. The load generator, the relay and the
/// server share the machine's cores with whatever else runs: past these limits the
/// measurement would show the machine, not the technique.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_clients: u32,
    /// HTTP requests + pushes per second, all clients together.
    pub max_messages_per_s: f64,
    /// Warm-up + window, wall-clock.
    pub max_wall: Nanos,
    /// Open file descriptors the process may hold (`ulimit -n`).
    pub fd_limit: u64,
}

impl Limits {
    /// Two shared cores: a few thousand messages per second through a user-space relay.
    pub fn for_this_machine() -> Self {
        Limits {
            max_clients: 2_000,
            max_messages_per_s: 3_000.0,
            max_wall: 600 * NS_PER_S,
            fd_limit: crate::fd_limit().unwrap_or(1024),
        }
    }
}

/// File descriptors one client costs: its relay's socket to the server and the server's
/// accepted socket (the client side of the relay is an in-memory pipe), with one spare
/// for a connection being replaced.
pub const FDS_PER_CLIENT: u64 = 3;
/// Descriptors kept aside for the runtime, the listener and the output files.
pub const FDS_RESERVED: u64 = 64;

/// Smallest update body the reference server can write: it carries the update's stream
/// position and birth time as JSON, padded to `payload` bytes.
pub const MIN_PAYLOAD: u64 = 48;

/// One real run, every figure in integer nanoseconds and bytes.
#[derive(Clone, Debug)]
pub struct Plan {
    pub technique: Technique,
    pub clients: u32,
    pub rtt: Nanos,
    pub warmup: Nanos,
    pub duration: Nanos,
    /// Per client, its start time since the run's epoch.
    pub start: Vec<Nanos>,
    /// Every update born before the window's end: (birth since the epoch, client), in time
    /// order.
    pub updates: Vec<(Nanos, u32)>,
    pub payload: u64,
    pub request_header_bytes: u64,
    pub response_header_bytes: u64,
    pub poll_interval: Nanos,
    pub poll_schedule: PollSchedule,
    pub long_poll_timeout: Nanos,
    pub long_poll_reconnect_delay: Nanos,
    pub sse_heartbeat: Option<Nanos>,
    pub ws_heartbeat: Option<Nanos>,
    /// The body of a poll's answer with nothing new (`[server] empty_body`).
    pub empty_body: u64,
    /// TLS on every connection (`tls.rs`), or none.
    pub tls: Tls,
    /// Polls and event streams over HTTP/2 (hyper's `h2`), else HTTP/1.1.
    pub http2: bool,
}

impl Plan {
    pub fn end(&self) -> Nanos {
        self.warmup + self.duration
    }

    /// Is `t` (since the epoch) inside the measured window?
    pub fn in_window(&self, t: Nanos) -> bool {
        t >= self.warmup && t < self.end()
    }

    /// The plan of `sc`, or why it cannot be run for real here.
    pub fn new(sc: &Scenario, limits: &Limits) -> Result<Plan, Refused> {
        let technique = sc.technique.name();
        let unsupported = |key, found: String, why| Refused::Unsupported {
            technique,
            key,
            found,
            why,
        };
        let rtt = match sc.network.rtt {
            Rtt::Constant(r) => r,
            _ => {
                return Err(unsupported(
                    "network.rtt",
                    "a distribution".into(),
                    "delays every client by the same constant RTT; write rtt = \"100ms\"",
                ));
            }
        };
        // HTTP/2 reaches polls and event streams; a WebSocket stays on HTTP/1.1's Upgrade
        // (as the model has it without `[websocket] over_http2`).
        let http2 = sc.network.http == Http::V2 && sc.technique != Technique::Websocket;
        if http2 && sc.network.http2_stack != Http2Stack::Hyper {
            return Err(unsupported(
                "network.http2_stack",
                "\"chromium-nginx\"".into(),
                "and load generator speak HTTP/2 with hyper's h2 crate, whose HPACK indexing \
                 and SETTINGS differ from a browser's: write http2_stack = \"hyper\" so the \
                 model encodes as they do",
            ));
        }
        if sc.technique == Technique::Websocket && sc.websocket.over_http2 {
            return Err(unsupported(
                "websocket.over_http2",
                "true".into(),
                "opens WebSockets with HTTP/1.1's Upgrade only (RFC 8441 is not served); \
                 write over_http2 = false",
            ));
        }
        if sc.server.instances != 1 {
            return Err(unsupported(
                "server.instances",
                sc.server.instances.to_string(),
                "is one process; write instances = 1",
            ));
        }
        if sc.workload.pattern != Pattern::PerClient {
            return Err(unsupported(
                "workload.pattern",
                format!("{:?}", sc.workload.pattern),
                "serves one stream per client only; write pattern = \"per-client\"",
            ));
        }
        if let Some((key, found, why)) = unimplemented_key(sc) {
            return Err(unsupported(key, found, why));
        }
        if !sc.faults.is_empty() || sc.network.disconnect_every.is_some() {
            return Err(unsupported(
                "[[faults]] / network.disconnect_every",
                "set".into(),
                "does not inject faults; remove them",
            ));
        }
        if sc.short_polling.jitter != 0 {
            return Err(unsupported(
                "short-polling.jitter",
                format!("{} ns", sc.short_polling.jitter),
                "replays the simulator's polls without jitter; write jitter = \"0s\"",
            ));
        }
        if sc.workload.payload < MIN_PAYLOAD {
            return Err(unsupported(
                "workload.payload",
                format!("{} B", sc.workload.payload),
                "writes each update's position and birth time in its body: at least 48 B",
            ));
        }
        // A connection silent for longer than the proxy or keep-alive allows would be
        // closed in the model; the reference server and relay close nothing, so such runs
        // are refused. Keep-alive closes idle connections between requests (short polls);
        // the proxy closes any connection silent that long.
        let (silence, keepalive_applies) = match sc.technique {
            Technique::ShortPolling => (Some(sc.short_polling.interval + rtt), true),
            Technique::LongPolling => (Some(sc.long_polling.timeout), false),
            Technique::Sse => (sc.sse.heartbeat, false),
            Technique::Websocket => (sc.websocket.heartbeat, false),
        };
        let mut closers = vec![("network.proxy_idle_timeout", sc.network.proxy_idle_timeout)];
        if keepalive_applies {
            closers.push((
                "server.keepalive_timeout",
                Some(sc.server.keepalive_timeout),
            ));
        }
        for (key, limit) in closers {
            let Some(limit) = limit else { continue };
            if silence.is_none_or(|s| s >= limit) {
                return Err(unsupported(
                    key,
                    format!("{} ms", limit / NS_PER_MS),
                    "and its relay never close an idle connection: make the timeout longer \
                     than the longest silence (poll interval + RTT, hold or heartbeat) or \
                     \"off\"",
                ));
            }
        }
        let wall = sc.warmup + sc.duration;
        if wall > limits.max_wall {
            return Err(Refused::TooLarge {
                technique,
                what: "warm-up + duration",
                found: format!("{} s", wall / NS_PER_S),
                limit: format!("{} s of wall-clock time", limits.max_wall / NS_PER_S),
                hint: "a real run takes real time: shorten warmup or duration",
            });
        }
        let clients = sc.workload.clients;
        let fd_room = limits.fd_limit.saturating_sub(FDS_RESERVED) / FDS_PER_CLIENT;
        if clients > limits.max_clients || u64::from(clients) > fd_room {
            let (limit, hint) = if u64::from(limits.max_clients) > fd_room {
                (
                    format!(
                        "{fd_room} clients for `ulimit -n` = {} ({FDS_PER_CLIENT} descriptors each)",
                        limits.fd_limit
                    ),
                    "raise `ulimit -n` or lower workload.clients",
                )
            } else {
                (
                    format!("{} clients", limits.max_clients),
                    "lower workload.clients; simulate larger scales",
                )
            };
            return Err(Refused::TooLarge {
                technique,
                what: "workload.clients",
                found: clients.to_string(),
                limit,
                hint,
            });
        }
        let rate = messages_per_s(sc, rtt);
        if rate > limits.max_messages_per_s {
            return Err(Refused::TooLarge {
                technique,
                what: "the message rate",
                found: format!("{rate:.0}/s"),
                limit: format!("{:.0}/s", limits.max_messages_per_s),
                hint: "lower workload.clients or workload.rate, or poll less often",
            });
        }
        Ok(Plan {
            technique: sc.technique,
            clients,
            rtt,
            warmup: sc.warmup,
            duration: sc.duration,
            start: start_phases(sc),
            updates: update_times(sc, sc.warmup + sc.duration),
            payload: sc.workload.payload,
            request_header_bytes: sc.network.request_header_bytes,
            response_header_bytes: sc.network.response_header_bytes,
            poll_interval: sc.short_polling.interval,
            poll_schedule: sc.short_polling.schedule,
            long_poll_timeout: sc.long_polling.timeout,
            long_poll_reconnect_delay: sc.long_polling.reconnect_delay,
            sse_heartbeat: sc.sse.heartbeat,
            ws_heartbeat: sc.websocket.heartbeat,
            empty_body: sc.server.empty_body,
            tls: sc.network.tls,
            http2,
        })
    }
}

/// The first key of `sc` (in the order of the parameter table) that asks for behaviour
/// the reference server or its clients do not have: (key, value found, what they do
/// instead and what to write). Keys that change nothing in a run without faults or
/// several instances (`browser`, the backoffs, `resume`, the backplane) are not checked.
pub fn unimplemented_key(sc: &Scenario) -> Option<(&'static str, String, &'static str)> {
    let w = &sc.workload;
    if w.tabs > 1 {
        return Some((
            "workload.tabs",
            w.tabs.to_string(),
            "opens one connection per client, with no browser sharing them; write tabs = 1",
        ));
    }
    if w.join != Join::Uniform {
        return Some((
            "workload.join",
            match w.join {
                Join::AllAtOnce => "\"all-at-once\"".into(),
                _ => "\"poisson\"".into(),
            },
            "starts every client at the simulator's uniform phase in start_window; write \
             join = \"uniform\"",
        ));
    }
    if let Some(s) = w.session {
        return Some((
            "workload.session",
            format!("{} ms", s / NS_PER_MS),
            "keeps every client for the whole run (no churn); remove session",
        ));
    }
    if let Some(d) = w.max_connection_duration {
        return Some((
            "workload.max_connection_duration",
            format!("{} ms", d / NS_PER_MS),
            "never closes a connection for its age; remove max_connection_duration",
        ));
    }
    if matches!(
        sc.technique,
        Technique::ShortPolling | Technique::LongPolling
    ) {
        if sc.server.empty_answer == EmptyAnswer::NoContent {
            return Some((
                "server.empty_answer",
                "204".into(),
                "answers a poll with nothing new with `200` and `empty_body`; write \
                 empty_answer = 200",
            ));
        }
        if sc.server.empty_body == 1 {
            return Some((
                "server.empty_body",
                "1 B".into(),
                "writes an empty answer as `[]` (padded with spaces to empty_body): write \
                 \"0B\" or at least \"2B\"",
            ));
        }
    }
    if sc.technique == Technique::Sse && sc.sse.server_retry.is_some() {
        return Some((
            "sse.server_retry",
            "set".into(),
            "sends no `retry:` field; write server_retry = \"off\"",
        ));
    }
    if sc.technique == Technique::Websocket
        && sc.websocket.heartbeat.is_some()
        && sc.websocket.heartbeat_by == HeartbeatBy::ClientMessage
    {
        return Some((
            "websocket.heartbeat_by",
            "\"client-message\"".into(),
            "keeps a socket alive with RFC 6455 pings (the client pings, the server pongs: \
             the same frames each way as a server ping and its pong); write heartbeat_by = \
             \"server-ping\"",
        ));
    }
    None
}

/// Requests and pushes per second the run will make (an upper estimate).
fn messages_per_s(sc: &Scenario, rtt: Nanos) -> f64 {
    let n = f64::from(sc.workload.clients);
    let updates = sc.workload.rate * n;
    let secs = |t: Nanos| t as f64 / NS_PER_S as f64;
    match sc.technique {
        Technique::ShortPolling => n / secs(sc.short_polling.interval.max(1)) + updates,
        Technique::LongPolling => n / secs(rtt.max(NS_PER_MS)).min(1e9) + updates,
        Technique::Sse | Technique::Websocket => {
            let beat = sc.sse.heartbeat.min(sc.websocket.heartbeat);
            updates + beat.map_or(0.0, |b| n / secs(b.max(1)))
        }
    }
    .min(f64::MAX)
}

/// Every client's start, drawn exactly as the world draws it (`world/run.rs`).
fn start_phases(sc: &Scenario) -> Vec<Nanos> {
    let mut rng = RandomStream::new(sc.seed, sc.random_point, sc.replication, Purpose::Phase);
    let window = sc.workload.start_window.max(1);
    (0..sc.workload.clients)
        .map(|_| (rng.uniform() * window as f64) as Nanos)
        .collect()
}

/// Every update born before `end`, drawn exactly as the world's update source draws them
/// (`world/updates.rs`): a merged Poisson process whose every tick names its client, or one
/// periodic source per client with a uniform phase.
fn update_times(sc: &Scenario, end: Nanos) -> Vec<(Nanos, u32)> {
    let mut rng = RandomStream::new(sc.seed, sc.random_point, sc.replication, Purpose::Updates);
    let clients = sc.workload.clients;
    let mut out = Vec::new();
    match sc.workload.arrivals {
        Arrivals::Poisson => {
            let mean_ns = 1e9 / (sc.workload.rate * f64::from(clients));
            let gap = |rng: &mut RandomStream| (rng.exponential(mean_ns).round() as Nanos).max(1);
            let mut t = gap(&mut rng);
            while t < end {
                let client = rng.below(u64::from(clients)) as u32;
                out.push((t, client));
                t += gap(&mut rng);
            }
        }
        Arrivals::Periodic => {
            let period = ((1e9 / sc.workload.rate).round() as Nanos).max(1);
            for client in 0..clients {
                let phase = (rng.uniform() * period as f64) as Nanos;
                let mut t = phase;
                while t < end {
                    out.push((t, client));
                    t += period;
                }
            }
            out.sort_unstable();
        }
    }
    out
}
