//! The fully resolved parameters of one simulation run.
//!
//! An experiment file (see `experiment`) is parsed, validated, merged with presets and
//! expanded into sweep points; each (technique, point, replication) becomes one
//! [`Scenario`]. The simulation core reads nothing else: no TOML, no units, no defaults
//! live below this line. All times are integer nanoseconds, all sizes integer bytes.

use serde::{Deserialize, Serialize};

use crate::engine::Nanos;

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

impl Scenario {
    /// A fixed reference scenario — the key reference's defaults with the event-loop preset's
    /// figures, 100 clients, per-client updates at 0.1/s, a constant 50 ms RTT — for
    /// tests, benchmarks and examples. Experiments never use it.
    pub fn reference() -> Scenario {
        Scenario {
            technique: Technique::ShortPolling,
            seed: 1,
            random_point: 0,
            replication: 0,
            duration: 60_000_000_000,
            warmup: 10_000_000_000,
            timeseries_bucket: 1_000_000_000,
            workload: Workload {
                clients: 100,
                pattern: Pattern::PerClient,
                rate: 0.1,
                arrivals: Arrivals::Poisson,
                payload: 200,
                room_size: 10,
                start_window: 3_000_000_000,
                post_retry: Backoff {
                    initial: 1_000_000_000,
                    max: 30_000_000_000,
                    jitter: 0.5,
                },
            },
            network: Network {
                rtt: Rtt::Constant(50_000_000),
                tls: Tls::V1_3,
                request_header_bytes: 700,
                response_header_bytes: 171,
                tls_handshake_bytes: 4096,
                tcp_handshake_bytes: 172,
                ws_handshake_request_bytes: 230,
                ws_handshake_response_bytes: 159,
                proxy_idle_timeout: Some(60_000_000_000),
                disconnect_every: None,
                outage: 2_000_000_000,
            },
            server: Server {
                instances: 1,
                balancer: Balancer::LeastConnections,
                cores: 8,
                service: ServiceTime::Deterministic,
                tcp_accept_cpu: 20_000,
                tls_handshake_cpu: 1_000_000,
                request_cpu: 50_000,
                push_cpu: 10_000,
                max_connections: 1_000_000,
                memory_limit: 16 << 30,
                base_memory: 256 << 20,
                memory_per_connection: 3000,
                memory_per_request: 16384,
                memory_per_stream: 8192,
                concurrency: Concurrency::EventLoop,
                thread_stack: 1 << 20,
                keepalive_timeout: 75_000_000_000,
                retention: Retention::Duration(300_000_000_000),
                backplane_latency: 1_000_000,
            },
            short_polling: ShortPolling {
                interval: 3_000_000_000,
                jitter: 0,
                schedule: PollSchedule::AfterResponse,
            },
            long_polling: LongPolling {
                timeout: 30_000_000_000,
                reconnect_delay: 0,
                backoff: Backoff {
                    initial: 1_000_000_000,
                    max: 30_000_000_000,
                    jitter: 0.5,
                },
            },
            sse: Sse {
                heartbeat: Some(15_000_000_000),
                retry: 3_000_000_000,
            },
            websocket: WebSocket {
                heartbeat: Some(25_000_000_000),
                heartbeat_timeout: 20_000_000_000,
                backoff: Backoff {
                    initial: 1_000_000_000,
                    max: 30_000_000_000,
                    jitter: 0.5,
                },
                resume: false,
            },
            faults: vec![],
            target_utilization: 0.7,
        }
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arrivals {
    Poisson,
    Periodic,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    pub clients: u32,
    pub pattern: Pattern,
    /// Updates (or chat messages) per second, see [`Pattern`].
    pub rate: f64,
    pub arrivals: Arrivals,
    /// Application bytes per update.
    pub payload: u64,
    pub room_size: u32,
    /// Every client starts at a uniform random time in [0, start_window): the same draws
    /// for every technique (common random numbers), whatever the technique's settings.
    pub start_window: Nanos,
    /// How a chat message's POST retries a refused connection (every technique that
    /// sends chat as HTTP POSTs: short polling, long polling, SSE).
    pub post_retry: Backoff,
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Network {
    pub rtt: Rtt,
    pub tls: Tls,
    pub request_header_bytes: u64,
    pub response_header_bytes: u64,
    /// All TLS handshake records, both directions together.
    pub tls_handshake_bytes: u64,
    /// SYN, SYN-ACK and ACK together (TCP/IP headers only).
    pub tcp_handshake_bytes: u64,
    pub ws_handshake_request_bytes: u64,
    pub ws_handshake_response_bytes: u64,
    /// An intermediary closes a connection silent for this long. `None` = off.
    pub proxy_idle_timeout: Option<Nanos>,
    /// Mean time between network drops per client. `None` = off.
    pub disconnect_every: Option<Nanos>,
    pub outage: Nanos,
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Server {
    pub instances: u32,
    pub balancer: Balancer,
    pub cores: u32,
    pub service: ServiceTime,
    pub tcp_accept_cpu: Nanos,
    pub tls_handshake_cpu: Nanos,
    pub request_cpu: Nanos,
    pub push_cpu: Nanos,
    pub max_connections: u64,
    pub memory_limit: u64,
    pub base_memory: u64,
    pub memory_per_connection: u64,
    pub memory_per_request: u64,
    pub memory_per_stream: u64,
    pub concurrency: Concurrency,
    pub thread_stack: u64,
    pub keepalive_timeout: Nanos,
    pub retention: Retention,
    pub backplane_latency: Nanos,
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
pub struct ShortPolling {
    pub interval: Nanos,
    /// Uniform extra delay in [0, jitter] added to every gap.
    pub jitter: Nanos,
    pub schedule: PollSchedule,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LongPolling {
    pub timeout: Nanos,
    pub reconnect_delay: Nanos,
    /// Backoff after a refused connection or a 503.
    pub backoff: Backoff,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sse {
    pub heartbeat: Option<Nanos>,
    pub retry: Nanos,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backoff {
    pub initial: Nanos,
    pub max: Nanos,
    /// Fraction of each delay that is randomised: delay × (1 − jitter × U[0,1)).
    pub jitter: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebSocket {
    pub heartbeat: Option<Nanos>,
    pub heartbeat_timeout: Nanos,
    pub backoff: Backoff,
    pub resume: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Simulated time from the start of the run (warm-up included).
    pub at: Nanos,
    /// Instance index, 0-based.
    pub instance: u32,
    pub downtime: Nanos,
}
