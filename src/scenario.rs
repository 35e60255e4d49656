//! The fully resolved parameters of one simulation run.
//!
//! An experiment file (see `experiment`) is parsed, validated, merged with presets and
//! expanded into sweep points; each (technique, point, replication) becomes one
//! [`Scenario`]. The simulation core reads nothing else: no TOML, no units, no defaults
//! live below this line. All times are integer nanoseconds, all sizes integer bytes.
//!
//! This file is the line itself, so it also holds the parameter table
//! (`with_parameter_table!`): every key of the sections a file fills key by key, declared
//! once with its type, how a file writes it, its default and its check. The section structs
//! below are generated from that table, and so is the experiment layer's file schema;
//! `Scenario::reference()` (in `experiment/`) is what an empty experiment file resolves to.

use serde::{Deserialize, Serialize};

use crate::engine::Nanos;
use crate::engine::time::NS_PER_S;

/// The four ways of getting fresh data to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    ShortPolling,
    LongPolling,
    Sse,
    Websocket,
}

impl Technique {
    pub const ALL: [Technique; 4] = [
        Technique::ShortPolling,
        Technique::LongPolling,
        Technique::Sse,
        Technique::Websocket,
    ];

    /// The public name used in files, columns and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Technique::ShortPolling => "short-polling",
            Technique::LongPolling => "long-polling",
            Technique::Sse => "sse",
            Technique::Websocket => "websocket",
        }
    }

    /// Name as written in prose and table headings.
    pub fn title(self) -> &'static str {
        match self {
            Technique::ShortPolling => "Short polling",
            Technique::LongPolling => "Long polling",
            Technique::Sse => "SSE",
            Technique::Websocket => "WebSockets",
        }
    }

    pub fn from_name(s: &str) -> Option<Technique> {
        Technique::ALL.into_iter().find(|t| t.name() == s)
    }
}

impl std::fmt::Display for Technique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One run: a technique at one sweep point, one replication.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub technique: Technique,
    /// Experiment seed.
    pub seed: u64,
    /// Identifies the *shared* sweep point (technique-specific keys excluded) so that
    /// every technique at this point draws the same random numbers (common random numbers).
    pub random_point: u64,
    pub replication: u32,
    /// Measured simulated time, after the warm-up.
    pub duration: Nanos,
    pub warmup: Nanos,
    /// Width of one `timeseries.csv` bucket.
    pub timeseries_bucket: Nanos,
    pub workload: Workload,
    pub network: Network,
    pub server: Server,
    pub short_polling: ShortPolling,
    pub long_polling: LongPolling,
    pub sse: Sse,
    pub websocket: WebSocket,
    pub faults: Vec<Fault>,
    /// CPU utilization a deployment may run at (`[target] utilization`), used for
    /// `instances_needed`.
    pub target_utilization: f64,
}

/// The parameter table: every section of a [`Scenario`] that an experiment file fills key
/// by key, and every key of it written once — its name (the field's and the file's), its
/// type, how a file writes it, its built-in default and the check it must pass on its own.
///
/// `with_parameter_table!(m)` hands the whole table to the macro `m`: `scenario_structs`
/// below turns it into the structs the simulation reads, and the experiment layer turns the
/// same table into its file schema, defaults, checks and resolution
/// (`experiment/schema.rs`), so a key cannot be added to one and missed by the other.
///
/// A section: `Struct module "file-section" [from_preset] { keys }`. A key:
/// `name: Type [as unit] [= default] [, check rule(args)];`
/// - `as duration`, `as duration_or_off`, `as bytes`: the file writes it with a unit
///   (`"3s"`, `"off"`, `"64KiB"`); without `as`, the value reads itself (a number, a name,
///   a table);
/// - `= default`, in the field's own terms; only a section marked `from_preset` may leave it
///   out, and the server preset (`models/servers/`) then gives it;
/// - `check rule`: a rule of `experiment/checks.rs` for the value alone; checks across keys
///   live in `experiment/validate.rs`.
///
/// `[network]` and `[server]` also take a `preset` key, which names a file and is no
/// field of the scenario (see `experiment/presets.rs`).
macro_rules! with_parameter_table {
    ($then:ident) => {
        $then! {
            /// `[workload]`: the clients and the updates they are sent.
            Workload workload "workload" {
                clients: u32 = 1000, check clients_fit;
                pattern: Pattern = Pattern::PerClient;
                /// Updates (or chat messages) per second, see [`Pattern`].
                rate: f64 = 0.1, check rate_above_zero;
                arrivals: Arrivals = Arrivals::Poisson;
                /// Application bytes per update.
                payload: u64 as bytes = 200, check at_most_bytes(MAX_PAYLOAD);
                room_size: u32 = 10;
                /// Every client starts at a uniform random time in [0, start_window): the
                /// same draws for every technique (common random numbers), whatever the
                /// technique's settings. Read when `join = "uniform"`.
                start_window: Nanos as duration = 3 * NS_PER_S, check positive;
                /// How the clients join: see [`Join`].
                join: Join = Join::Uniform;
                /// Clients joining per second when `join = "poisson"`.
                join_rate: f64 = 100.0, check join_rate;
                /// Mean session length (exponential): a client leaves after it and a new
                /// one takes its place, so the population stays `clients`. `None` = off.
                session: Option<Nanos> as duration_or_off = None, check at_least_1ms_or_off;
                /// A gateway closes every connection this long after the server accepted
                /// it, forcing a reconnection. `None` = off.
                max_connection_duration: Option<Nanos> as duration_or_off = None,
                    check at_least_1ms_or_off;
                /// How a chat message's POST retries a refused connection (every technique
                /// that sends chat as HTTP POSTs: short polling, long polling, SSE).
                post_retry: Backoff = Backoff::DEFAULT, check valid_backoff;
                /// The browser the clients run (`chromium`, `firefox`, `webkit`): its
                /// EventSource reconnection delay when `[sse] retry` is not set.
                browser: Browser = Browser::Chromium;
                /// Tabs each user keeps open on the site: every tab is a client of its
                /// own (its own poller or stream), the tabs of one user share its
                /// browser's connections (`clients` counts tabs; the last user has fewer when it
                /// is not a multiple).
                /// Over HTTP/1.1 the browser opens at most 6 per origin; over HTTP/2 all
                /// of a user's requests are streams of one connection.
                tabs: u32 = 1, check count_in("tab", MAX_TABS);
            }

            /// `[network]`: round trips and the bytes every message costs.
            Network network "network" {
                rtt: Rtt = Rtt::Constant(50 * NS_PER_MS), check valid_rtt;
                tls: Tls = Tls::V1_3;
                /// The HTTP version requests, answers and SSE streams travel in: `"1.1"`
                /// (text heads, chunked streams) or `"2"` (binary frames, HPACK-compressed
                /// heads; see `docs/wire.md`). WebSockets stay on HTTP/1.1's Upgrade.
                http: Http = Http::V1_1;
                /// Whose HTTP/2 the bytes are, when `http = "2"`: `chromium-nginx` (a
                /// browser's HPACK indexing and SETTINGS against nginx's) or `hyper` (the
                /// Rust `h2` crate on both ends, as `rtsim validate` runs it); see
                /// `docs/wire.md`.
                http2_stack: Http2Stack = Http2Stack::ChromiumNginx;
                request_header_bytes: u64 as bytes = 700, check at_most_bytes(MAX_HEAD);
                response_header_bytes: u64 as bytes = 171, check at_most_bytes(MAX_HEAD);
                /// All TLS handshake records, both directions together.
                tls_handshake_bytes: u64 as bytes = 4096, check at_most_bytes(MAX_HEAD);
                /// SYN, SYN-ACK and ACK together (TCP/IP headers only).
                tcp_handshake_bytes: u64 as bytes = 172, check at_most_bytes(MAX_HEAD);
                ws_handshake_request_bytes: u64 as bytes = 230, check at_most_bytes(MAX_HEAD);
                ws_handshake_response_bytes: u64 as bytes = 159, check at_most_bytes(MAX_HEAD);
                /// An intermediary closes a connection silent for this long. `None` = off.
                proxy_idle_timeout: Option<Nanos> as duration_or_off = Some(60 * NS_PER_S),
                    check positive_or_off;
                /// Mean time between network drops per client. `None` = off.
                disconnect_every: Option<Nanos> as duration_or_off = None,
                    check at_least_1ms_or_off;
                outage: Nanos as duration = 2 * NS_PER_S;
            }

            /// `[server]`: instances, their CPU, connection slots and memory. The costs of
            /// a server model (CPU per step, memory per connection…) have no default here:
            /// they come from the server preset, `event-loop` unless another is named.
            Server server "server" from_preset {
                instances: u32 = 1, check count_in("instance", MAX_INSTANCES);
                balancer: Balancer = Balancer::LeastConnections;
                cores: u32 = 8, check count_in("core", MAX_CORES);
                service: ServiceTime = ServiceTime::Deterministic;
                tcp_accept_cpu: Nanos as duration;
                tls_handshake_cpu: Nanos as duration;
                request_cpu: Nanos as duration;
                push_cpu: Nanos as duration;
                max_connections: u64, check at_least_one("connection");
                memory_limit: u64 as bytes;
                base_memory: u64 as bytes;
                memory_per_connection: u64 as bytes;
                memory_per_request: u64 as bytes;
                memory_per_stream: u64 as bytes;
                /// HTTP/2: streams one connection may carry at once (the server's
                /// SETTINGS_MAX_CONCURRENT_STREAMS); a browser queues its requests beyond it.
                max_concurrent_streams: u32, check count_in("stream", MAX_CONCURRENT_STREAMS);
                /// HTTP/2: protocol state per open stream, beyond `memory_per_request` or
                /// `memory_per_stream` (a connection's own memory is `memory_per_connection`,
                /// held once for all its streams).
                memory_per_h2_stream: u64 as bytes;
                concurrency: Concurrency = Concurrency::EventLoop;
                thread_stack: u64 as bytes;
                keepalive_timeout: Nanos as duration = 75 * NS_PER_S;
                retention: Retention = Retention::Duration(300 * NS_PER_S),
                    check retention_above_zero;
                /// Time an update takes through the backplane with no queue: the network to
                /// and from the broker and its own handling (see `docs/model.md`).
                backplane_latency: Nanos as duration = NS_PER_MS;
                /// Messages per second one backplane node handles, or `unlimited` (no
                /// queue: every update takes `backplane_latency`). A message is one
                /// publish or one delivery to one subscribed instance; a named preset
                /// (`"redis"`, `models/backplanes/`) gives its sourced figure.
                backplane_capacity: BackplaneCapacity = BackplaneCapacity::Unlimited,
                    check backplane_capacity;
                /// Backplane nodes (shards): a stream's updates go to node
                /// `stream mod backplane_nodes`, each a FIFO single server.
                backplane_nodes: u32 = 1, check count_in("backplane node", MAX_BACKPLANE_NODES);
                /// How a poll with nothing new is answered: `200` with `empty_body`
                /// bytes of body, or `204` No Content (no body, no Content-Length).
                empty_answer: EmptyAnswer = EmptyAnswer::Ok;
                /// The body of a `200` answer with nothing new: `[]` (2 B) by default,
                /// as a JSON API sends an empty list.
                empty_body: u64 as bytes = 2, check at_most_64kib;
            }

            /// `[short-polling]`.
            ShortPolling short_polling "short-polling" {
                interval: Nanos as duration = 3 * NS_PER_S, check at_least_1ms;
                /// Uniform extra delay in [0, jitter] added to every gap.
                jitter: Nanos as duration = 0;
                schedule: PollSchedule = PollSchedule::AfterResponse;
            }

            /// `[long-polling]`.
            LongPolling long_polling "long-polling" {
                timeout: Nanos as duration = 30 * NS_PER_S, check positive;
                reconnect_delay: Nanos as duration = 0;
                /// Backoff after a refused connection or a 503.
                backoff: Backoff = Backoff::DEFAULT, check valid_backoff;
            }

            /// `[sse]`.
            Sse sse "sse" {
                heartbeat: Option<Nanos> as duration_or_off = Some(15 * NS_PER_S),
                    check at_least_1ms_or_off;
                /// The EventSource reconnection delay before the server sets one; unset,
                /// the browser's default (`[workload] browser`).
                retry: Option<Nanos> as optional_duration = None, check at_least_1ms_if_set;
                /// A `retry:` field the server sends when a stream opens: the client
                /// waits this long before reconnecting from then on. `None` = off.
                server_retry: Option<Nanos> as duration_or_off = None,
                    check at_least_1ms_or_off;
                /// What the application does when EventSource fails for good (a non-200
                /// answer such as a 503 or 504): `stop` (the page gets no more updates)
                /// or `reopen` (it creates a new EventSource after `reopen_backoff`).
                on_failure: SseFailure = SseFailure::Reopen;
                reopen_backoff: Backoff = Backoff::DEFAULT, check valid_backoff;
            }

            /// `[websocket]`.
            WebSocket websocket "websocket" {
                heartbeat: Option<Nanos> as duration_or_off = Some(25 * NS_PER_S),
                    check at_least_1ms_or_off;
                heartbeat_timeout: Nanos as duration = 20 * NS_PER_S, check positive;
                /// Who keeps the socket alive: `server-ping` (RFC 6455 pings from the
                /// server, pongs sent by the browser itself) or `client-message` (an
                /// application message from the page, answered by the server; browser
                /// JavaScript cannot send RFC 6455 pings).
                heartbeat_by: HeartbeatBy = HeartbeatBy::ServerPing;
                /// Application bytes of one client heartbeat message and of its answer.
                heartbeat_message: u64 as bytes = 4, check at_most_64kib;
                backoff: Backoff = Backoff::DEFAULT, check valid_backoff;
                resume: bool = false;
                /// RFC 8441: the socket opens with an extended CONNECT on an HTTP/2
                /// stream and every frame travels in a DATA frame. Only with
                /// `[network] http = "2"`.
                over_http2: bool = false;
            }
        }
    };
}
pub(crate) use with_parameter_table;

/// Makes the section structs of the parameter table: each key a public field of its type.
macro_rules! scenario_structs {
    ($(
        $(#[$section_doc:meta])*
        $Section:ident $module:ident $title:literal $($partial:ident)? {
            $(
                $(#[$key_doc:meta])*
                $key:ident : $ty:ty $(as $unit:ident)? $(= $default:expr)?
                    $(, check $check:ident $(($($arg:expr),*))?)?;
            )*
        }
    )*) => {$(
        $(#[$section_doc])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $Section {
            $($(#[$key_doc])* pub $key: $ty,)*
        }
    )*};
}

with_parameter_table!(scenario_structs);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    /// One global stream; every update reaches every client. `rate` is the total.
    Broadcast,
    /// One stream per client. `rate` is per client.
    PerClient,
    /// Rooms of `room_size`; each client sends at `rate`; messages reach the others.
    Chat,
}

/// How clients join the run (`[workload] join`). Every technique draws the same join
/// times at a sweep point (common random numbers), whatever its own settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Join {
    /// Every client at time 0.
    AllAtOnce,
    /// Each client at an independent uniform time in [0, `start_window`).
    Uniform,
    /// A Poisson process of `join_rate` clients per second, until all have joined.
    Poisson,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arrivals {
    Poisson,
    Periodic,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Rtt {
    Constant(Nanos),
    /// Log-normal with the given median and shape, optionally truncated to [min, max].
    LogNormal {
        median: Nanos,
        sigma: f64,
        min: Option<Nanos>,
        max: Option<Nanos>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tls {
    None,
    V1_2,
    V1_3,
}

impl Tls {
    /// Round trips the TLS handshake adds before the first request.
    pub fn round_trips(self) -> u64 {
        match self {
            Tls::None => 0,
            Tls::V1_2 => 2,
            Tls::V1_3 => 1,
        }
    }
}

/// The HTTP version of requests and answers (`[network] http`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Http {
    /// HTTP/1.1 (RFC 9112): text heads, chunked streams, one request at a time per
    /// connection.
    V1_1,
    /// HTTP/2 (RFC 9113): frames, heads compressed by HPACK (RFC 7541).
    V2,
}

/// Whose HTTP/2 implementation the bytes follow (`[network] http2_stack`): what each end
/// indexes in HPACK and what it sends when a connection opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Http2Stack {
    /// Chromium's encoder and SETTINGS up, nginx's SETTINGS down (the default).
    ChromiumNginx,
    /// The `h2` crate under hyper, on both ends (the reference server and load generator).
    Hyper,
}

/// The browser a client runs: what it does by itself (EventSource reconnection delay).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Browser {
    Chromium,
    Firefox,
    Webkit,
}

impl Browser {
    /// HTTP/1.1 connections the browser opens at most to one origin (see `docs/wire.md`):
    /// 6 in Chromium (`client_socket_pool_manager.cc`), Firefox
    /// (`network.http.max-persistent-connections-per-server`) and WebKit on Apple
    /// platforms (URLSession's `httpMaximumConnectionsPerHost`). WebSockets are not
    /// counted in it.
    pub fn connections_per_origin(self) -> u32 {
        match self {
            Browser::Chromium | Browser::Firefox | Browser::Webkit => 6,
        }
    }

    /// EventSource's reconnection delay before a `retry:` field sets one (see
    /// `docs/wire.md`): 3 s in Chromium and WebKit, 5 s in Firefox.
    pub fn eventsource_retry(self) -> Nanos {
        match self {
            Browser::Chromium | Browser::Webkit => 3 * NS_PER_S,
            Browser::Firefox => 5 * NS_PER_S,
        }
    }
}

/// How a server answers a poll that finds nothing new.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmptyAnswer {
    /// `200 OK` with a body (`[server] empty_body`).
    Ok,
    /// `204 No Content`: no body, no `Content-Length`.
    NoContent,
}

/// What a page does when its EventSource fails for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SseFailure {
    /// Nothing: the stream stays closed.
    Stop,
    /// A new EventSource after a backoff.
    Reopen,
}

/// Who sends a WebSocket's heartbeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeartbeatBy {
    /// RFC 6455 pings from the server; the browser answers each with a pong.
    ServerPing,
    /// An application message from the page; the server answers with another.
    ClientMessage,
}

/// What one backplane node can do (`[server] backplane_capacity`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum BackplaneCapacity {
    /// No limit: no queue, every update crosses in `backplane_latency`.
    Unlimited,
    /// Messages per second of one node: one publish, or one delivery to one subscribed
    /// instance.
    PerSecond(f64),
}

impl BackplaneCapacity {
    /// Messages per second, `None` when unlimited.
    pub fn per_second(self) -> Option<f64> {
        match self {
            BackplaneCapacity::Unlimited => None,
            BackplaneCapacity::PerSecond(c) => Some(c),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Balancer {
    RoundRobin,
    LeastConnections,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceTime {
    Deterministic,
    Exponential,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Concurrency {
    EventLoop,
    ThreadPerConnection,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Retention {
    /// Keep undelivered updates for this long.
    Duration(Nanos),
    /// Keep at most this many undelivered updates per client.
    Count(u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PollSchedule {
    /// Next poll `interval` after the previous response arrives (`setTimeout` style).
    AfterResponse,
    /// Polls every `interval` on a fixed clock (`setInterval` style).
    FixedRate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backoff {
    pub initial: Nanos,
    pub max: Nanos,
    /// Fraction of each delay that is randomised: delay × (1 − jitter × U[0,1)).
    pub jitter: f64,
}

impl Backoff {
    /// The default of every backoff key, and of the fields a file leaves out of one.
    pub const DEFAULT: Backoff = Backoff {
        initial: 1_000_000_000,
        max: 30_000_000_000,
        jitter: 0.5,
    };
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Simulated time from the start of the run (warm-up included).
    pub at: Nanos,
    /// Instance index, 0-based: the one that crashes, or the first one a deploy drains.
    pub instance: u32,
    /// How long a crashed (or redeployed) instance stays down.
    pub downtime: Nanos,
    pub kind: FaultKind,
    /// Deploy: how long a drained instance keeps its connections (admitting no new ones)
    /// before it stops; 0 = cut at once.
    pub drain: Nanos,
    /// Deploy: each connection is closed at a uniform random time within the drain
    /// period rather than all at its end.
    pub jitter: bool,
}

impl Fault {
    /// A crash of `instance` at `at` for `downtime`.
    pub fn crash(at: Nanos, instance: u32, downtime: Nanos) -> Fault {
        Fault {
            at,
            instance,
            downtime,
            kind: FaultKind::Crash,
            drain: 0,
            jitter: false,
        }
    }
}

/// `[[faults]] kind`: what happens to the instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    /// One instance goes down at once: its connections break.
    Crash,
    /// A rolling deploy: from `instance` on, one instance at a time is drained (taken
    /// out of the balancer, its connections closed within or at the end of `drain`),
    /// stopped for `downtime`, and back before the next one drains.
    Deploy,
}
