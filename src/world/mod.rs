//! The world a technique runs in: clients with their round-trip times and connections,
//! server instances behind a load balancer, the origin that creates updates, and the
//! recorders that measure it all.
//!
//! A technique (see `techniques`) is a small state machine that reacts to what happens
//! to one client — a connection is ready, a response arrived, an update is waiting — and
//! acts through this module's verbs: open a connection, send a request, respond, hold,
//! push. The world takes care of the plumbing every technique shares: handshakes, slots,
//! memory, CPU queues, keep-alive and proxy idle timers, bytes and deliveries.
//!
//! Each client has two connection *slots*: [`MAIN`] carries polls, the long poll, the SSE
//! stream or the WebSocket; [`UPSTREAM`] carries chat POSTs for the techniques that need
//! a separate request to send (a browser would open a second connection for them too).

pub mod balancer;
pub mod metrics;
pub mod network;
pub mod origin;
pub mod server;
pub mod trace;

use std::collections::VecDeque;

use crate::engine::prefetch::prefetch;
use crate::engine::{EventQueue, Nanos, Purpose, RandomStream};
use crate::scenario::Technique;
use crate::scenario::{Arrivals, Backoff, Pattern, Scenario, ServiceTime};
use balancer::LoadBalancer;
use metrics::{Gauge, HeldPeak, Recorder, Window};
use origin::{ORIGIN, Origin, Record};
use server::{ConnUse, Instance, connection_memory};
use trace::{Lane, Trace};

/// Connection slot for polls, long polls, SSE streams and WebSockets.
pub const MAIN: u8 = 0;
/// Connection slot for upstream chat POSTs.
pub const UPSTREAM: u8 = 1;

const NO_INSTANCE: u32 = u32::MAX;
const NOT_LISTENING: u32 = u32::MAX;

/// What happens next in the simulation. Kept small (24 bytes) and allocation-free: at 10^6
/// clients there are millions of them pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    /// Connection slot ([`MAIN`] or [`UPSTREAM`]).
    pub slot: u8,
    /// Kind-specific sub-type (request type, timer type…), defined by the technique.
    pub sub: u8,
    pub client: u32,
    /// Generation of the connection (or of the client's timers) when scheduled: an event
    /// whose generation is stale was cancelled.
    pub generation: u32,
    pub arg: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The merged Poisson update (or chat message) process fires.
    UpdateTick,
    /// A periodic per-stream (or per-sender) update fires; `client` is the stream/sender.
    StreamTick,
    /// An update becomes visible at the servers: `client` = stream, `generation` = sender,
    /// `arg` = creation time.
    Publish,
    /// A client starts (its random start phase has come).
    Start,
    /// A SYN reaches the load balancer.
    Syn,
    /// The client learns its connection attempt was refused.
    Refused,
    /// The handshake is done at the client: it may send its first request.
    Ready,
    /// An HTTP request reaches the server (`sub` = request type, `arg` = its argument).
    Request,
    /// The server finished a response and it leaves (`arg` = stream position it covers).
    Depart,
    /// A response reaches the client.
    Response,
    /// Pushed events (SSE/WebSocket) reach the client (`arg` = stream position covered).
    Push,
    /// A WebSocket frame from the client reaches the server.
    Frame,
    ClientTimer,
    ServerTimer,
    /// An idle connection's keep-alive or the proxy's idle timer may have run out.
    IdleCheck,
    /// The client learns its connection broke (`sub` = [`SILENT`] or [`CLEAN`], `arg` =
    /// when it broke).
    Broken,
    /// The merged per-client network-drop process fires.
    Drop,
    /// Instance `client` crashes (a scheduled fault).
    Crash,
    /// Instance `client` is back.
    Restart,
    /// Retry a refused UPSTREAM connection (not cancelled with the client's timers).
    UpstreamRetry,
}

/// A break the client learns of from a reset or close (crash, proxy): at once.
pub const CLEAN: u8 = 0;
/// A break nothing announces (the network dropped): found by heartbeats or errors.
pub const SILENT: u8 = 1;

/// Where a connection is in its life, as the server sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ConnState {
    Closed,
    /// SYN on its way; nothing held at the server yet.
    Connecting,
    /// Accepted; TCP/TLS handshake in progress.
    Handshake,
    /// Open, no request in progress (HTTP keep-alive).
    Idle,
    /// A request is being served.
    Busy,
    /// A long poll is held.
    Held,
    /// An SSE stream or a WebSocket is open.
    Stream,
}

impl ConnState {
    const ALL: [ConnState; 7] = [
        ConnState::Closed,
        ConnState::Connecting,
        ConnState::Handshake,
        ConnState::Idle,
        ConnState::Busy,
        ConnState::Held,
        ConnState::Stream,
    ];

    fn usage(self) -> Option<ConnUse> {
        match self {
            ConnState::Closed | ConnState::Connecting => None,
            ConnState::Handshake | ConnState::Idle => Some(ConnUse::Idle),
            ConnState::Busy => Some(ConnUse::Request),
            ConnState::Held | ConnState::Stream => Some(ConnUse::Stream),
        }
    }
}

/// 32 bytes: two of them fill the client's first cache line.
#[derive(Clone, Copy, Debug)]
pub struct Conn {
    pub state: ConnState,
    /// The client has a request outstanding on it (sent, response not yet arrived).
    pub in_use: bool,
    /// Bumped at every open and close; events carry it. 16 bits suffice: a stale event
    /// lives at most a few timeouts, far less than 65,536 reconnections.
    pub generation: u16,
    pub instance: u32,
    /// Last time bytes passed (either direction).
    pub last_activity: Nanos,
    /// Due time of the pending idle check (0 = none pending).
    check_at: Nanos,
    /// Departure time of the last bytes the server sent (TCP delivers in order); 0 =
    /// nothing sent on it yet.
    last_departure: Nanos,
}

impl Conn {
    const CLOSED: Conn = Conn {
        state: ConnState::Closed,
        instance: NO_INSTANCE,
        generation: 0,
        last_activity: 0,
        check_at: 0,
        last_departure: 0,
        in_use: false,
    };

    pub fn is_open(&self) -> bool {
        self.state.usage().is_some()
    }
}

/// One client's state, laid out in two cache lines: its connections first, then the
/// fields most events touch. At 10^6 clients every event is a cache miss; fewer lines per
/// client means fewer misses.
#[repr(C, align(64))]
pub struct Client {
    pub conns: [Conn; 2],
    pub rtt: Nanos,
    /// First stream position the client has not received.
    pub cursor: u64,
    /// First stream position the server has not yet sent on the open stream/response.
    pub pushed: u64,
    /// With per-client streams: the head of this client's own stream, mirrored here so
    /// that "anything new?" — asked by ~97 % empty polls — needs no look at the origin
    /// (one cache miss fewer per poll at 10^6 clients).
    own_head: u64,
    /// The client's network is down until then (0 = up).
    pub down_until: Nanos,
    listener: u32,
    pub timer_gen: u32,
    /// Consecutive failed connection attempts (for backoff).
    pub attempts: u32,
    /// Identifies the current long-poll hold (its timeout is ignored after an answer).
    pub hold: u32,
    /// Has had a stream open before (a reconnection, not a first connection).
    pub subscribed: bool,
    /// The outstanding chat POST reached the server (it must not be sent again).
    post_accepted: bool,
    /// Per slot (bit 1 << slot): the server refused this client's connection and has not
    /// admitted one since — demand the deployment did not serve.
    unserved: u8,
}

/// What a server writes to an open stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// The response that opens the stream (SSE 200, WebSocket 101), with any replay.
    Open,
    /// New updates.
    Updates,
    /// An SSE comment line.
    Heartbeat,
    /// A WebSocket pong.
    Pong,
}

/// `sub` of a [`Kind::Refused`] that failed because the client was offline.
const OFFLINE: u8 = 1;

// Two cache lines, no more (see the layout note on `Client`).
const _: () = assert!(std::mem::size_of::<Client>() == 128);

/// [`World::run`] prefetches the clients of this many upcoming events: far enough ahead
/// for the memory to answer before each event comes up.
const PREFETCH_AHEAD: usize = 3;

impl Client {
    /// Half the round trip: how long a message takes one way.
    #[inline]
    pub fn one_way(&self) -> Nanos {
        self.rtt / 2
    }
}

/// Response types the world itself interprets.
pub mod response {
    /// Answer to a poll or long poll: `arg` = stream position it covers.
    pub const UPDATES: u8 = 0;
    /// Answer to a chat POST.
    pub const POSTED: u8 = 1;
    /// A proxy's 504 Gateway Timeout.
    pub const GATEWAY_TIMEOUT: u8 = 2;
}

/// Request types the world itself interprets.
pub mod request {
    /// A chat message POST: `arg` = creation time.
    pub const POST: u8 = 200;
}

/// A technique: how one client and its server behave. Each method is one protocol step.
pub trait Protocol {
    /// The client's start phase has come.
    fn start(&mut self, w: &mut World, c: u32);
    /// The MAIN connection's handshake completed.
    fn on_connected(&mut self, w: &mut World, c: u32);
    /// A request arrived at the server on MAIN (the world already counted it).
    fn on_request(&mut self, w: &mut World, c: u32, req: u8, arg: u64);
    /// A response to a MAIN request arrived at the client (deliveries already recorded).
    fn on_response(&mut self, w: &mut World, c: u32, resp: u8);
    /// Does [`Protocol::on_response`] for this response type only touch the client
    /// itself — schedule its own timers and requests, no connection opened or closed?
    /// Then, when nothing else can reach the client while the response is on the wire
    /// (no fault process, the connection outlives the trip), the world runs the arrival
    /// when the response leaves the server, on the client's clock, and saves an event.
    fn response_is_local(&self, _resp: u8) -> bool {
        false
    }
    /// A new update for `c` is visible at the servers while `c` is listening.
    fn on_update(&mut self, w: &mut World, c: u32);
    /// A client timer fired.
    fn on_client_timer(&mut self, w: &mut World, c: u32, timer: u8, arg: u64);
    /// A server timer for the MAIN connection fired.
    fn on_server_timer(&mut self, _w: &mut World, _c: u32, _timer: u8, _arg: u64) {}
    /// A WebSocket frame from the client reached the server.
    fn on_frame(&mut self, _w: &mut World, _c: u32, _frame: u8, _arg: u64) {}
    /// The MAIN connection attempt was refused (no slot or no memory).
    fn on_refused(&mut self, w: &mut World, c: u32);
    /// The MAIN connection broke while in use (a held poll, a stream, a request in
    /// flight, a handshake) and the client just learned it. `silent` breaks (network
    /// drops) come with the time they happened.
    fn on_broken(&mut self, w: &mut World, c: u32, silent: bool, broke_at: Nanos);
    /// The client sends a chat message created now. Default: an HTTP POST on UPSTREAM.
    fn chat_send(&mut self, w: &mut World, c: u32) {
        w.post_chat_message(c);
    }
}

pub struct World {
    pub sc: Scenario,
    pub q: EventQueue<Event>,
    pub clients: Vec<Client>,
    pub instances: Vec<Instance>,
    balancer: LoadBalancer,
    pub origin: Origin,
    /// Clients with an open stream or a held long poll (fan-out order).
    listeners: Vec<u32>,
    pub rec: Recorder,
    pub connections: Gauge,
    pub memory: Gauge,
    /// Connections and memory the clients asked for: what was held plus, for every
    /// refused client still without a connection, what it would hold (only peaks are
    /// needed: they size the deployment in `instances_needed`).
    pub connection_demand: HeldPeak,
    pub memory_demand: HeldPeak,
    rng_updates: RandomStream,
    rng_service: RandomStream,
    pub rng_jitter: RandomStream,
    pub rng_backoff: RandomStream,
    rng_drops: RandomStream,
    /// (update, recipient) pairs created in the window.
    pub published_pairs: u64,
    /// Window pairs created but not yet published: chat messages on their way up, and
    /// updates crossing the backplane.
    pairs_in_transit: u64,
    /// Chat messages waiting to be POSTed, per client (creation times).
    outbox: Vec<VecDeque<Nanos>>,
    pub end: Nanos,
    /// Message trace, when recording (see [`World::record_trace`]).
    pub trace: Option<Trace>,
    /// Per [`ConnState`]: server memory a connection holds, and whether it takes a slot
    /// (looked up on every state change, so computed once).
    state_memory: [i64; 7],
    state_open: [i64; 7],
    /// No fault process (network drops, instance crashes) can act on a client: between
    /// its own events, only its keep-alive and proxy deadlines — known in advance — can
    /// change its connections. Steps nothing else can observe may then be taken early.
    quiet: bool,
    /// The time a client step taken early runs at (see [`World::now`]).
    client_clock: Option<Nanos>,
}

impl World {
    pub fn new(sc: &Scenario) -> Self {
        let sc = sc.clone();
        let window = Window {
            start: sc.warmup,
            end: sc.warmup + sc.duration,
            bucket: sc.timeseries_bucket.max(1),
        };
        let stream = |p| RandomStream::new(sc.seed, sc.random_point, sc.replication, p);
        let mut rng_rtt = stream(Purpose::Rtt);
        let n = sc.workload.clients;
        let clients = (0..n)
            .map(|_| {
                let rtt = network::draw_rtt(&sc.network.rtt, &mut rng_rtt);
                Client {
                    rtt,
                    conns: [Conn::CLOSED; 2],
                    cursor: 0,
                    pushed: 0,
                    listener: NOT_LISTENING,
                    timer_gen: 0,
                    attempts: 0,
                    hold: 0,
                    subscribed: false,
                    down_until: 0,
                    own_head: 0,
                    post_accepted: false,
                    unserved: 0,
                }
            })
            .collect();
        let instances: Vec<Instance> = (0..sc.server.instances)
            .map(|_| Instance::new(&sc.server))
            .collect();
        let base_memory = (sc.server.base_memory * sc.server.instances as u64) as i64;
        let outbox = if sc.workload.pattern == Pattern::Chat {
            (0..n).map(|_| VecDeque::new()).collect()
        } else {
            Vec::new()
        };
        World {
            q: EventQueue::new(),
            clients,
            instances,
            balancer: LoadBalancer::new(sc.server.balancer),
            origin: Origin::new(
                sc.workload.pattern,
                n,
                sc.workload.room_size.max(1),
                sc.server.retention,
            ),
            listeners: Vec::new(),
            rec: Recorder::new(window),
            connections: Gauge::new(&window, 0),
            memory: Gauge::new(&window, base_memory),
            connection_demand: HeldPeak::new(0),
            memory_demand: HeldPeak::new(base_memory),
            rng_updates: stream(Purpose::Updates),
            rng_service: stream(Purpose::Service),
            rng_jitter: stream(Purpose::Jitter),
            rng_backoff: stream(Purpose::Backoff),
            rng_drops: stream(Purpose::Drops),
            published_pairs: 0,
            pairs_in_transit: 0,
            outbox,
            end: window.end,
            trace: None,
            state_memory: ConnState::ALL.map(|s| {
                s.usage()
                    .map_or(0, |u| connection_memory(&sc.server, u) as i64)
            }),
            state_open: ConnState::ALL.map(|s| s.usage().is_some() as i64),
            quiet: sc.network.disconnect_every.is_none() && sc.faults.is_empty(),
            client_clock: None,
            sc,
        }
    }

    /// The current time. While a client's step runs ahead of the queue (see
    /// [`Protocol::response_is_local`]), the time of that step.
    #[inline]
    pub fn now(&self) -> Nanos {
        self.client_clock.unwrap_or(self.q.now())
    }

    #[inline]
    fn event(
        kind: Kind,
        client: u32,
        slot: u8,
        sub: u8,
        generation: impl Into<u32>,
        arg: u64,
    ) -> Event {
        let generation = generation.into();
        Event {
            kind,
            slot,
            sub,
            client,
            generation,
            arg,
        }
    }

    /// Schedules every step as an event, even those a quiet world could take early or
    /// skip (for tests that check such shortcuts change nothing).
    pub fn schedule_every_step(&mut self) {
        self.quiet = false;
    }

    // ---------------------------------------------------------------- tracing

    /// Records every message from now on (for `rtsim trace`; costs time and memory).
    pub fn record_trace(&mut self) {
        self.trace = Some(Trace::default());
    }

    /// Records a message of client `c` leaving now and arriving one way later.
    #[inline]
    fn trace_msg(&mut self, c: u32, up: bool, sent: Nanos, label: impl FnOnce(&World) -> String) {
        if self.trace.is_some() {
            let text = label(self);
            let arrives = sent + self.clients[c as usize].one_way();
            if let Some(t) = self.trace.as_mut() {
                t.message(c, up, sent, arrives, text);
            }
        }
    }

    /// A note on the client's or server's lane in the trace (no-op unless recording).
    #[inline]
    pub fn trace_note(&mut self, c: u32, lane: Lane, label: impl FnOnce(&World) -> String) {
        if self.trace.is_some() {
            let text = label(self);
            let now = self.now();
            if let Some(t) = self.trace.as_mut() {
                t.note(c, lane, now, text);
            }
        }
    }

    /// The request line (and telling headers) a request looks like on the wire.
    fn request_label(&self, c: u32, slot: u8, req: u8, arg: u64) -> String {
        if slot == UPSTREAM || req == request::POST {
            return "POST /messages (a chat message)".to_string();
        }
        let client = &self.clients[c as usize];
        match self.sc.technique {
            Technique::ShortPolling | Technique::LongPolling => {
                format!("GET /messages?since={}", client.cursor)
            }
            Technique::Sse if client.subscribed && client.cursor > 0 => format!(
                "GET /events  Accept: text/event-stream  Last-Event-ID: {}",
                client.cursor.saturating_sub(1)
            ),
            Technique::Sse => "GET /events  Accept: text/event-stream".to_string(),
            Technique::Websocket => {
                let _ = arg;
                "GET /ws  Upgrade: websocket".to_string()
            }
        }
    }

    /// Stream positions [from, to) as ids for a label: "41", "41–43" or "none".
    fn ids(from: u64, to: u64) -> String {
        match to.saturating_sub(from) {
            0 => String::new(),
            1 => format!("{from}"),
            _ => format!("{from}–{}", to - 1),
        }
    }

    // ---------------------------------------------------------------- start-up

    /// Schedules every client's start (common random phases) and the update process.
    fn schedule_start(&mut self) {
        let sc = &self.sc;
        let mut rng_phase =
            RandomStream::new(sc.seed, sc.random_point, sc.replication, Purpose::Phase);
        let window = sc.workload.start_window.max(1);
        for c in 0..sc.workload.clients {
            let phase = (rng_phase.uniform() * window as f64) as Nanos;
            self.q
                .schedule(phase, Self::event(Kind::Start, c, MAIN, 0, 0u32, 0));
        }
        if self.sc.network.disconnect_every.is_some() && self.sc.workload.clients > 0 {
            let gap = self.drop_gap();
            self.q
                .schedule(gap, Self::event(Kind::Drop, 0, 0, 0, 0u32, 0));
        }
        for fault in self.sc.faults.clone() {
            if fault.instance < self.sc.server.instances {
                let ev = Self::event(Kind::Crash, fault.instance, 0, 0, 0u32, fault.downtime);
                self.q.schedule(fault.at, ev);
            }
        }
        let w = &self.sc.workload;
        match (w.arrivals, w.pattern) {
            (Arrivals::Poisson, _) => {
                let gap = self.poisson_gap();
                self.q
                    .schedule(gap, Self::event(Kind::UpdateTick, 0, 0, 0, 0u32, 0));
            }
            (Arrivals::Periodic, pattern) => {
                let period = self.period();
                let sources = match pattern {
                    Pattern::Broadcast => 1,
                    Pattern::PerClient | Pattern::Chat => w.clients,
                };
                for s in 0..sources {
                    let phase = (self.rng_updates.uniform() * period as f64) as Nanos;
                    self.q
                        .schedule(phase, Self::event(Kind::StreamTick, s, 0, 0, 0u32, 0));
                }
            }
        }
    }

    /// Total rate of the merged update process, per second.
    fn total_rate(&self) -> f64 {
        let w = &self.sc.workload;
        match w.pattern {
            Pattern::Broadcast => w.rate,
            Pattern::PerClient | Pattern::Chat => w.rate * w.clients as f64,
        }
    }

    fn poisson_gap(&mut self) -> Nanos {
        let mean_ns = 1e9 / self.total_rate();
        (self.rng_updates.exponential(mean_ns).round() as Nanos).max(1)
    }

    /// Gap between periodic updates of one source.
    fn period(&self) -> Nanos {
        ((1e9 / self.sc.workload.rate).round() as Nanos).max(1)
    }

    // ---------------------------------------------------------------- faults

    /// Gap of the merged drop process: each client drops as a Poisson process with mean
    /// `disconnect_every`, so all N together at N times the rate.
    fn drop_gap(&mut self) -> Nanos {
        let every = self.sc.network.disconnect_every.unwrap_or(Nanos::MAX) as f64;
        let mean = every / self.sc.workload.clients as f64;
        (self.rng_drops.exponential(mean).round() as Nanos).max(1)
    }

    fn on_drop(&mut self) {
        let c = self.rng_drops.below(self.sc.workload.clients as u64) as u32;
        let gap = self.drop_gap();
        self.q
            .schedule_in(gap, Self::event(Kind::Drop, 0, 0, 0, 0u32, 0));
        let now = self.now();
        let outage_end = now + self.sc.network.outage;
        let client = &mut self.clients[c as usize];
        if client.down_until > now {
            client.down_until = client.down_until.max(outage_end);
            self.trace_note(c, Lane::Client, |_| {
                "network drops again: outage extended".into()
            });
            return; // already down: the outage just lasts longer
        }
        client.down_until = outage_end;
        let outage = self.sc.network.outage;
        self.trace_note(c, Lane::Client, |_| {
            format!("network down for {:.1} s", outage as f64 / 1e9)
        });
        // Open connections break. The server side is freed at once (its RST/timeout is
        // not modelled); the client learns when its network is back.
        for slot in [MAIN, UPSTREAM] {
            self.break_connection(c, slot, SILENT, outage_end);
        }
    }

    /// Breaks a client's connection: closed at the server now, the client told at
    /// `notice` if it was using it (an idle keep-alive connection just disappears).
    fn break_connection(&mut self, c: u32, slot: u8, how: u8, notice: Nanos) {
        let now = self.now();
        let conn = self.clients[c as usize].conns[slot as usize];
        if conn.state == ConnState::Closed {
            return;
        }
        let in_use = conn.in_use || conn.state != ConnState::Idle;
        if slot == UPSTREAM && conn.in_use && self.clients[c as usize].post_accepted {
            // The POST got through; only its answer is lost. Do not send it twice.
            self.outbox[c as usize].pop_front();
            self.clients[c as usize].post_accepted = false;
        }
        self.close_connection(c, slot);
        if in_use {
            let generation = self.clients[c as usize].conns[slot as usize].generation;
            let ev = Self::event(Kind::Broken, c, slot, how, generation, now);
            self.q.schedule(notice, ev);
        }
    }

    /// An instance crashes: every connection it held breaks (the kernel resets them, so
    /// clients learn at once); its queued work is gone.
    fn on_crash(&mut self, instance: u32, downtime: Nanos) {
        let now = self.now();
        self.instances[instance as usize].up = false;
        self.instances[instance as usize].reset_workers(now);
        if self.trace.is_some() {
            for c in 0..self.sc.workload.clients {
                if self.clients[c as usize].conns[MAIN as usize].instance == instance {
                    self.trace_note(c, Lane::Server, |_| format!("instance {instance} crashes"));
                }
            }
        }
        for c in 0..self.sc.workload.clients {
            for slot in [MAIN, UPSTREAM] {
                let conn = self.clients[c as usize].conns[slot as usize];
                if conn.instance == instance && conn.state != ConnState::Closed {
                    let notice = now + self.clients[c as usize].one_way();
                    self.break_connection(c, slot, CLEAN, notice);
                }
            }
        }
        let ev = Self::event(Kind::Restart, instance, 0, 0, 0u32, 0);
        self.q.schedule(now + downtime, ev);
    }

    /// Is the client's network down now?
    pub fn offline(&self, c: u32) -> bool {
        self.clients[c as usize].down_until > self.now()
    }

    // ---------------------------------------------------------------- updates

    fn on_update_tick<P: Protocol>(&mut self, p: &mut P) {
        let source = match self.sc.workload.pattern {
            Pattern::Broadcast => 0,
            _ => self.rng_updates.below(self.sc.workload.clients as u64) as u32,
        };
        let gap = self.poisson_gap();
        self.q
            .schedule_in(gap, Self::event(Kind::UpdateTick, 0, 0, 0, 0u32, 0));
        self.create_update(p, source);
    }

    fn on_stream_tick<P: Protocol>(&mut self, p: &mut P, source: u32) {
        let period = self.period();
        self.q
            .schedule_in(period, Self::event(Kind::StreamTick, source, 0, 0, 0u32, 0));
        self.create_update(p, source);
    }

    /// An update is born: at the origin, or (chat) at a client that sends a message.
    fn create_update<P: Protocol>(&mut self, p: &mut P, source: u32) {
        let now = self.now();
        match self.sc.workload.pattern {
            Pattern::Chat => {
                let stream = self.origin.stream_of(source);
                let pairs = self.origin.recipients(stream, source);
                if self.rec.window.contains(now) {
                    self.published_pairs += pairs;
                    self.pairs_in_transit += pairs;
                }
                p.chat_send(self, source);
            }
            pattern => {
                let stream = if pattern == Pattern::Broadcast {
                    0
                } else {
                    source
                };
                if self.rec.window.contains(now) {
                    let pairs = self.origin.recipients(stream, ORIGIN);
                    self.published_pairs += pairs;
                    self.pairs_in_transit += pairs;
                }
                self.publish_after_backplane(p, stream, ORIGIN, now);
            }
        }
    }

    /// With several instances an update reaches them through the pub/sub backplane.
    fn publish_after_backplane<P: Protocol>(
        &mut self,
        p: &mut P,
        stream: u32,
        sender: u32,
        created: Nanos,
    ) {
        if self.sc.server.instances > 1 {
            let at = self.now() + self.sc.server.backplane_latency;
            self.q.schedule(
                at,
                Self::event(Kind::Publish, stream, 0, 0, sender, created),
            );
        } else {
            self.publish(p, stream, sender, created);
        }
    }

    /// An update becomes visible at the servers: listening recipients are told.
    fn publish<P: Protocol>(&mut self, p: &mut P, stream: u32, sender: u32, created: Nanos) {
        if self.rec.window.contains(created) {
            // Published: from now on the origin's log accounts for these pairs.
            self.pairs_in_transit -= self.origin.recipients(stream, sender);
        }
        self.origin.append(stream, Record { created, sender });
        if self.sc.workload.pattern == Pattern::PerClient {
            self.clients[stream as usize].own_head += 1;
        }
        match self.sc.workload.pattern {
            Pattern::Broadcast => {
                // Fan out in listener order; a technique may stop listening meanwhile
                // (a long poll is answered), so walk a snapshot.
                let snapshot = self.listeners.clone();
                for c in snapshot {
                    if self.clients[c as usize].listener != NOT_LISTENING {
                        p.on_update(self, c);
                    }
                }
            }
            _ => {
                for c in self.origin.subscribers(stream) {
                    if c != sender && self.clients[c as usize].listener != NOT_LISTENING {
                        p.on_update(self, c);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- listeners

    /// The client now waits for updates at the server (held long poll, open stream).
    pub fn listen(&mut self, c: u32) {
        let client = &mut self.clients[c as usize];
        if client.listener == NOT_LISTENING {
            client.listener = self.listeners.len() as u32;
            self.listeners.push(c);
        }
    }

    pub fn unlisten(&mut self, c: u32) {
        let i = self.clients[c as usize].listener;
        if i == NOT_LISTENING {
            return;
        }
        self.clients[c as usize].listener = NOT_LISTENING;
        self.listeners.swap_remove(i as usize);
        if let Some(&moved) = self.listeners.get(i as usize) {
            self.clients[moved as usize].listener = i;
        }
    }

    // ---------------------------------------------------------------- connections

    /// Can the client send a request on this connection now? It must be open, free, and
    /// the request must reach the server before keep-alive or the proxy closes it.
    pub fn conn_usable(&self, c: u32, slot: u8) -> bool {
        self.conn_usable_at(c, slot, self.now())
    }

    /// [`World::conn_usable`] for a request sent at `sent` (now or later), if nothing but
    /// the passing of time happens to the connection meanwhile.
    fn conn_usable_at(&self, c: u32, slot: u8, sent: Nanos) -> bool {
        let client = &self.clients[c as usize];
        let conn = &client.conns[slot as usize];
        conn.state == ConnState::Idle
            && !conn.in_use
            && sent + client.one_way() < self.idle_due(conn)
    }

    /// When an idle connection will be closed (keep-alive or proxy), if nothing passes.
    fn idle_due(&self, conn: &Conn) -> Nanos {
        let mut due = Nanos::MAX;
        if let Some(proxy) = self.sc.network.proxy_idle_timeout {
            due = conn.last_activity.saturating_add(proxy);
        }
        // Keep-alive runs between requests: from a response's departure. Before its first
        // request a new connection waits under the server's header timeout instead (not
        // modelled), so a keep-alive shorter than a round trip cannot starve it.
        if conn.state == ConnState::Idle && conn.last_departure > 0 {
            due = due.min(
                conn.last_activity
                    .saturating_add(self.sc.server.keepalive_timeout),
            );
        }
        due
    }

    /// The client opens a new TCP (+TLS) connection on `slot`: the SYN leaves now.
    pub fn open_connection(&mut self, c: u32, slot: u8) {
        let now = self.now();
        if self.offline(c) {
            // No network: the attempt fails at once (not a server rejection).
            let conn = &mut self.clients[c as usize].conns[slot as usize];
            conn.generation = conn.generation.wrapping_add(1);
            conn.state = ConnState::Closed;
            let ev = Self::event(Kind::Refused, c, slot, OFFLINE, conn.generation, 0);
            self.q.schedule(now, ev);
            self.trace_note(c, Lane::Client, |_| "offline: connect fails".to_string());
            return;
        }
        self.trace_msg(c, true, now, |_| "SYN (TCP connect)".to_string());
        let tcp = self.sc.network.tcp_handshake_bytes;
        // SYN and the final ACK go up; SYN-ACK comes down (60 of the 172 default bytes).
        let syn_ack = tcp.min(60);
        self.rec.bytes(now, false, tcp - syn_ack, 0);
        self.rec.bytes(now, true, syn_ack, 0);
        let client = &mut self.clients[c as usize];
        let conn = &mut client.conns[slot as usize];
        debug_assert!(!conn.is_open());
        conn.state = ConnState::Connecting;
        conn.generation = conn.generation.wrapping_add(1);
        conn.in_use = false;
        let ev = Self::event(Kind::Syn, c, slot, 0, conn.generation, 0);
        let at = now + client.one_way();
        self.q.schedule(at, ev);
    }

    /// A SYN reaches the load balancer: pick an instance, admit or refuse.
    fn on_syn(&mut self, ev: Event) {
        let now = self.now();
        let c = ev.client;
        let conn_memory = connection_memory(&self.sc.server, ConnUse::Idle);
        let picked = self.balancer.pick(&self.instances);
        let admitted = picked.filter(|&i| {
            let inst = &self.instances[i as usize];
            inst.connections < self.sc.server.max_connections
                && inst.memory + conn_memory <= self.sc.server.memory_limit
        });
        let one_way = self.clients[c as usize].one_way();
        let Some(i) = admitted else {
            self.rec.rejected(now);
            self.set_unserved(c, ev.slot, true);
            self.trace_msg(c, false, now, |_| {
                "RST (no connection slot or memory)".to_string()
            });
            self.clients[c as usize].conns[ev.slot as usize].state = ConnState::Closed;
            self.q.schedule(
                now + one_way,
                Self::event(Kind::Refused, c, ev.slot, 0, ev.generation, 0),
            );
            return;
        };
        self.rec.handshake(now);
        self.set_unserved(c, ev.slot, false);
        {
            let conn = &mut self.clients[c as usize].conns[ev.slot as usize];
            conn.instance = i;
            conn.last_activity = now;
            // Nothing sent on it yet (see `idle_due`).
            conn.last_departure = 0;
        }
        self.set_state(c, ev.slot, ConnState::Handshake);
        let tls = self.sc.network.tls;
        let mut cpu = self.sc.server.tcp_accept_cpu;
        if tls.round_trips() > 0 {
            cpu += self.sc.server.tls_handshake_cpu;
            let bytes = self.sc.network.tls_handshake_bytes;
            // Certificates dominate: about a quarter up (hellos, key share, Finished),
            // three quarters down.
            self.rec.bytes(now, false, bytes / 4, 0);
            self.rec.bytes(now, true, bytes - bytes / 4, 0);
        }
        let done = self.cpu(i, cpu);
        let rtt = self.clients[c as usize].rtt;
        let ready = done + one_way + tls.round_trips() * rtt;
        if self.trace.is_some() {
            self.trace_msg(c, false, done, |_| "SYN-ACK".to_string());
            let version = match tls {
                crate::scenario::Tls::V1_2 => "1.2",
                _ => "1.3",
            };
            for k in 0..tls.round_trips() {
                let hello = done + one_way + k * rtt;
                self.trace_msg(c, true, hello, |_| format!("TLS {version} ClientHello…"));
                self.trace_msg(c, false, hello + one_way, |_| {
                    format!("TLS {version} ServerHello…Finished")
                });
            }
        }
        self.q.schedule(
            ready,
            Self::event(Kind::Ready, c, ev.slot, 0, ev.generation, 0),
        );
        self.schedule_idle_check(c, ev.slot);
    }

    /// Moves a connection to a new state, keeping slot and memory accounting right.
    fn set_state(&mut self, c: u32, slot: u8, new: ConnState) {
        let now = self.now();
        let conn = &mut self.clients[c as usize].conns[slot as usize];
        let old = conn.state;
        if old == new {
            return;
        }
        conn.state = new;
        let instance = conn.instance;
        let delta_mem = self.state_memory[new as usize] - self.state_memory[old as usize];
        let delta_conn = self.state_open[new as usize] - self.state_open[old as usize];
        if instance != NO_INSTANCE {
            let inst = &mut self.instances[instance as usize];
            inst.memory = (inst.memory as i64 + delta_mem) as u64;
            inst.connections = (inst.connections as i64 + delta_conn) as u64;
        }
        let window = &self.rec.window;
        self.memory.add(window, now, delta_mem);
        self.connections.add(window, now, delta_conn);
        self.memory_demand.add(window, now, delta_mem);
        self.connection_demand.add(window, now, delta_conn);
    }

    /// The server refused the client's connection on `slot` (`unserved`), or admitted
    /// one. While refused, the client counts as demand not served, with the memory its
    /// connection would hold (a stream's for a push technique's MAIN, an idle
    /// connection's otherwise).
    fn set_unserved(&mut self, c: u32, slot: u8, unserved: bool) {
        let bit = 1 << slot;
        let flags = &mut self.clients[c as usize].unserved;
        if (*flags & bit != 0) == unserved {
            return;
        }
        *flags ^= bit;
        let sign = if unserved { 1 } else { -1 };
        let memory = self.wanted_memory(slot);
        let (window, now) = (&self.rec.window, self.now());
        self.connection_demand.add(window, now, sign);
        self.memory_demand.add(window, now, sign * memory);
    }

    fn wanted_memory(&self, slot: u8) -> i64 {
        let streams = slot == MAIN && self.sc.technique != Technique::ShortPolling;
        let state = if streams {
            ConnState::Stream
        } else {
            ConnState::Idle
        };
        self.state_memory[state as usize]
    }

    /// Closes a connection at the server; events still in flight on it are void.
    pub fn close_connection(&mut self, c: u32, slot: u8) {
        if slot == MAIN {
            self.unlisten(c);
        }
        self.set_state(c, slot, ConnState::Closed);
        let conn = &mut self.clients[c as usize].conns[slot as usize];
        conn.instance = NO_INSTANCE;
        conn.generation = conn.generation.wrapping_add(1);
        conn.in_use = false;
        conn.check_at = 0;
    }

    fn schedule_idle_check(&mut self, c: u32, slot: u8) {
        let conn = self.clients[c as usize].conns[slot as usize];
        let due = self.idle_due(&conn);
        if due == Nanos::MAX {
            return;
        }
        if conn.check_at == 0 || due < conn.check_at {
            self.idle_check_at(c, slot, due);
        }
    }

    /// Schedules the connection's idle check at `at`, superseding any pending one.
    fn idle_check_at(&mut self, c: u32, slot: u8, at: Nanos) {
        let conn = &mut self.clients[c as usize].conns[slot as usize];
        conn.check_at = at;
        let ev = Self::event(Kind::IdleCheck, c, slot, 0, conn.generation, at);
        self.q.schedule(at, ev);
    }

    fn on_idle_check(&mut self, ev: Event) {
        let c = ev.client;
        let slot = ev.slot;
        let conn = self.clients[c as usize].conns[slot as usize];
        if u32::from(conn.generation) != ev.generation || conn.check_at != ev.arg {
            return; // superseded
        }
        self.clients[c as usize].conns[slot as usize].check_at = 0;
        let now = self.now();
        let due = self.idle_due(&conn);
        if now < due {
            self.schedule_idle_check(c, slot);
            return;
        }
        let keepalive_due = conn
            .last_activity
            .saturating_add(self.sc.server.keepalive_timeout);
        if conn.state == ConnState::Idle && keepalive_due <= due {
            if conn.in_use {
                // Its last response is still on the wire: TCP delivers the data before
                // the FIN, so the close takes effect once the client has it.
                let delivered = conn.last_departure + self.clients[c as usize].one_way();
                self.idle_check_at(c, slot, delivered);
                return;
            }
            // The server's keep-alive timer: an orderly close.
            self.trace_msg(c, false, now, |_| "FIN (keep-alive timeout)".to_string());
            self.close_connection(c, slot);
            return;
        }
        // The intermediary gives up on a silent connection.
        self.rec.proxy_timeout(now);
        self.trace_note(c, Lane::Proxy, |_| "proxy: idle timeout".to_string());
        if matches!(conn.state, ConnState::Held | ConnState::Busy) {
            // The client gets a response after all — a 504 carrying no update.
            self.rec.response(now, true);
            self.trace_msg(c, false, now, |_| {
                "HTTP/1.1 504 Gateway Timeout (from the proxy)".to_string()
            });
            if let Some(m) = self.trace.as_mut().and_then(|t| t.messages.last_mut()) {
                m.lane = Lane::Proxy; // the proxy answers, not the server
            }
        }
        let one_way = self.clients[c as usize].one_way();
        match conn.state {
            ConnState::Held | ConnState::Busy => {
                // A held long poll (or a slow request) gets a 504 from the proxy.
                self.close_connection(c, slot);
                let generation = self.clients[c as usize].conns[slot as usize].generation;
                self.clients[c as usize].conns[slot as usize].in_use = true;
                let ev = Self::event(
                    Kind::Response,
                    c,
                    slot,
                    response::GATEWAY_TIMEOUT,
                    generation,
                    0,
                );
                self.q.schedule(now + one_way, ev);
            }
            // An open stream, or a handshake stuck in the server's CPU queue: the client
            // sees the connection close and starts over by its protocol's rules.
            ConnState::Stream | ConnState::Handshake => {
                self.close_connection(c, slot);
                let generation = self.clients[c as usize].conns[slot as usize].generation;
                let ev = Self::event(Kind::Broken, c, slot, CLEAN, generation, now);
                self.q.schedule(now + one_way, ev);
            }
            _ => self.close_connection(c, slot),
        }
    }

    // ---------------------------------------------------------------- CPU

    /// Runs a job on the instance's workers; returns when it finishes.
    pub fn cpu(&mut self, instance: u32, mean_service: Nanos) -> Nanos {
        let now = self.now();
        let service = match self.sc.server.service {
            ServiceTime::Deterministic => mean_service,
            ServiceTime::Exponential => {
                self.rng_service.exponential(mean_service as f64).round() as Nanos
            }
        };
        let slot = self.instances[instance as usize].run_job(now, service);
        self.rec
            .cpu_job(now, slot.start - now, slot.start, slot.finish);
        slot.finish
    }

    // ---------------------------------------------------------------- requests

    /// The client sends an HTTP request on an open, free connection.
    pub fn send_request(
        &mut self,
        c: u32,
        slot: u8,
        req: u8,
        arg: u64,
        bytes_up: u64,
        payload_up: u64,
    ) {
        self.send_request_leaving_at(self.now(), c, slot, req, arg, bytes_up, payload_up);
    }

    /// [`World::send_request`] for a request that leaves the client at `sent` (now, or
    /// later when the world knows nothing can happen to the connection meanwhile).
    #[allow(clippy::too_many_arguments)]
    fn send_request_leaving_at(
        &mut self,
        sent: Nanos,
        c: u32,
        slot: u8,
        req: u8,
        arg: u64,
        bytes_up: u64,
        payload_up: u64,
    ) {
        self.rec.bytes(sent, false, bytes_up, payload_up);
        let client = &mut self.clients[c as usize];
        let conn = &mut client.conns[slot as usize];
        debug_assert!(conn.is_open());
        conn.in_use = true;
        let ev = Self::event(Kind::Request, c, slot, req, conn.generation, arg);
        self.q.schedule(sent + client.one_way(), ev);
        self.trace_msg(c, true, sent, |w| w.request_label(c, slot, req, arg));
    }

    /// The client will send `GET …?since=<cursor>` on MAIN at `at`, which is later than
    /// now — what a timer that then calls [`World::get_since_cursor_or_connect`] would
    /// do. When nothing but the client can touch its connection until then (the scenario
    /// has no fault processes: no drops, no crashes) and the connection will still be
    /// usable at `at` (its keep-alive and proxy deadlines are known now), the request is
    /// scheduled straight to its arrival at the server: one event per poll instead of
    /// two. Returns false when that cannot be promised; the caller then sets a timer.
    ///
    /// The client's cursor cannot change before `at` either: it has no other request
    /// outstanding on MAIN.
    pub fn get_since_cursor_at(&mut self, c: u32, at: Nanos, req: u8, bytes: u64) -> bool {
        if !self.quiet || at < self.now() || at >= self.end || !self.conn_usable_at(c, MAIN, at) {
            return false;
        }
        let since = self.clients[c as usize].cursor;
        self.send_request_leaving_at(at, c, MAIN, req, since, bytes, 0);
        true
    }

    fn on_request_arrival<P: Protocol>(&mut self, p: &mut P, ev: Event) {
        let now = self.now();
        self.rec.request(now);
        let c = ev.client;
        self.clients[c as usize].conns[ev.slot as usize].last_activity = now;
        self.set_state(c, ev.slot, ConnState::Busy);
        if ev.sub == request::POST {
            self.clients[c as usize].post_accepted = true;
            self.accept_chat_post(c, ev.slot, ev.arg);
        } else {
            p.on_request(self, c, ev.sub, ev.arg);
        }
    }

    /// The server answers the request on `slot` with everything from the client's cursor
    /// up to `upto`, after `service` of CPU (0 = no CPU work, e.g. a timeout reply).
    pub fn respond(&mut self, c: u32, slot: u8, service: Nanos, resp: u8, upto: u64) {
        let conn = self.clients[c as usize].conns[slot as usize];
        let at = if service > 0 {
            self.cpu(conn.instance, service)
        } else {
            self.now()
        };
        let at = at.max(conn.last_departure);
        self.clients[c as usize].conns[slot as usize].last_departure = at;
        let ev = Self::event(Kind::Depart, c, slot, resp, conn.generation, upto);
        self.q.schedule(at, ev);
    }

    fn on_depart<P: Protocol>(&mut self, p: &mut P, ev: Event) {
        let now = self.now();
        let c = ev.client;
        let headers = self.sc.network.response_header_bytes;
        if ev.sub == response::UPDATES {
            let cursor = self.clients[c as usize].cursor;
            let n = self.origin.count_for_client(c, cursor, ev.arg);
            let payload = n * self.sc.workload.payload;
            self.rec.bytes(now, true, headers + payload, payload);
            self.rec.response(now, n == 0);
            self.trace_msg(c, false, now, |_| match n {
                0 => "HTTP/1.1 200 OK  [] (empty)".to_string(),
                _ => format!("HTTP/1.1 200 OK  [updates {}]", Self::ids(cursor, ev.arg)),
            });
        } else {
            self.rec.bytes(now, true, headers, 0);
            self.trace_msg(c, false, now, |_| "HTTP/1.1 201 Created".to_string());
        }
        if ev.slot == MAIN {
            self.unlisten(c);
        }
        self.clients[c as usize].conns[ev.slot as usize].last_activity = now;
        self.set_state(c, ev.slot, ConnState::Idle);
        self.schedule_idle_check(c, ev.slot);
        let arrival = now + self.clients[c as usize].one_way();
        let ev = Self::event(Kind::Response, c, ev.slot, ev.sub, ev.generation, ev.arg);
        if self.can_arrive_early(c, ev.slot, arrival) && p.response_is_local(ev.sub) {
            // Nothing can reach this client while the response travels, and what it does
            // on arrival touches only itself: take the arrival now, on its clock.
            let clock = self.client_clock.replace(arrival);
            self.on_response_arrival(p, ev);
            self.client_clock = clock;
        } else {
            self.q.schedule(arrival, ev);
        }
    }

    /// May a response arriving at `arrival` on `slot` be handled when it leaves? Only in
    /// a quiet world (no fault can break the connection on the way), on MAIN, inside the
    /// run, and on a connection no idle timer closes first.
    fn can_arrive_early(&self, c: u32, slot: u8, arrival: Nanos) -> bool {
        self.quiet
            && slot == MAIN
            && arrival < self.end
            && arrival < self.idle_due(&self.clients[c as usize].conns[slot as usize])
    }

    fn on_response_arrival<P: Protocol>(&mut self, p: &mut P, ev: Event) {
        let c = ev.client;
        self.clients[c as usize].conns[ev.slot as usize].in_use = false;
        if ev.sub == response::UPDATES {
            self.deliver(c, ev.arg);
        }
        if ev.sub == response::GATEWAY_TIMEOUT {
            self.rec.reconnect(self.now());
        }
        if ev.slot == UPSTREAM {
            if ev.sub == response::POSTED {
                self.outbox[c as usize].pop_front();
                self.clients[c as usize].post_accepted = false;
            }
            self.upstream_ready(c);
        } else {
            p.on_response(self, c, ev.sub);
        }
    }

    // ---------------------------------------------------------------- streams

    /// The server starts treating the MAIN connection as a held long poll.
    pub fn hold(&mut self, c: u32) {
        self.set_state(c, MAIN, ConnState::Held);
        self.listen(c);
    }

    /// Can the server afford to keep this request open (a held long poll, a stream)?
    /// The memory check at connect time only covered an idle connection; a stream holds
    /// more. If it would exceed `memory_limit`, the server answers 503 and closes: the
    /// client is refused and backs off like any other refusal.
    pub fn admit_stream(&mut self, c: u32) -> bool {
        let conn = self.clients[c as usize].conns[MAIN as usize];
        let server = &self.sc.server;
        // Held memory replaces the request's (which may be larger).
        let current = conn
            .state
            .usage()
            .map_or(0, |u| connection_memory(server, u));
        let extra = connection_memory(server, ConnUse::Stream).saturating_sub(current);
        if self.instances[conn.instance as usize].memory + extra <= server.memory_limit {
            return true;
        }
        let now = self.now();
        self.rec.rejected(now);
        self.trace_msg(c, false, now, |_| {
            "HTTP/1.1 503 Service Unavailable (out of memory)".to_string()
        });
        self.close_connection(c, MAIN);
        self.set_unserved(c, MAIN, true);
        let generation = self.clients[c as usize].conns[MAIN as usize].generation;
        let at = now + self.clients[c as usize].one_way();
        self.q
            .schedule(at, Self::event(Kind::Refused, c, MAIN, 0, generation, 0));
        false
    }

    /// The MAIN connection becomes an open SSE stream or WebSocket.
    pub fn open_stream(&mut self, c: u32) {
        self.set_state(c, MAIN, ConnState::Stream);
        self.listen(c);
        self.clients[c as usize].subscribed = true;
    }

    /// The server writes to the open stream after `service` of CPU: `bytes` down, of
    /// which `payload` application data, covering the stream up to `upto`. With
    /// `deliver` false (heartbeats, pongs) nothing is scheduled at the client.
    pub fn push(
        &mut self,
        c: u32,
        service: Nanos,
        upto: u64,
        bytes: u64,
        payload: u64,
        what: Push,
    ) {
        let deliver = matches!(what, Push::Open | Push::Updates);
        let now = self.now();
        self.rec.bytes(now, true, bytes, payload);
        let conn = self.clients[c as usize].conns[MAIN as usize];
        let finish = self.cpu(conn.instance, service);
        let depart = finish.max(conn.last_departure);
        {
            let conn = &mut self.clients[c as usize].conns[MAIN as usize];
            conn.last_departure = depart;
            conn.last_activity = conn.last_activity.max(depart);
        }
        if self.trace.is_some() {
            let from = self.clients[c as usize]
                .pushed
                .max(self.clients[c as usize].cursor);
            let sse = self.sc.technique == Technique::Sse;
            let updates = Self::ids(from, upto);
            let label = match (what, sse) {
                (Push::Open, true) => {
                    "HTTP/1.1 200 OK  Content-Type: text/event-stream".to_string()
                }
                (Push::Open, false) => "HTTP/1.1 101 Switching Protocols".to_string(),
                (Push::Updates, true) => format!("id: {updates}  data: {{…}}"),
                (Push::Updates, false) => format!("frame: update {updates}"),
                (Push::Heartbeat, _) => ": heartbeat (comment)".to_string(),
                (Push::Pong, _) => "pong".to_string(),
            };
            let label = if what == Push::Open && !updates.is_empty() {
                format!("{label} + replay {updates}")
            } else {
                label
            };
            self.trace_msg(c, false, depart, |_| label);
        }
        self.clients[c as usize].pushed = upto;
        if deliver {
            let at = depart + self.clients[c as usize].one_way();
            self.q.schedule(
                at,
                Self::event(Kind::Push, c, MAIN, 0, conn.generation, upto),
            );
        }
    }

    /// Sends `GET …?since=<cursor>` on the MAIN connection if it can still carry it; else
    /// lets the stale one go and opens a new connection (the technique's
    /// `on_connected` then asks again). Returns whether the request left now.
    pub fn get_since_cursor_or_connect(&mut self, c: u32, req: u8, bytes: u64) -> bool {
        if self.conn_usable(c, MAIN) {
            let since = self.clients[c as usize].cursor;
            self.send_request(c, MAIN, req, since, bytes, 0);
            return true;
        }
        if self.clients[c as usize].conns[MAIN as usize].is_open() {
            // Keep-alive (or the proxy) is about to close it: start afresh.
            self.close_connection(c, MAIN);
        }
        self.open_connection(c, MAIN);
        false
    }

    /// Server side: applies retention, then returns the head of the client's stream and
    /// how many updates are waiting for it before that head.
    pub fn pending(&mut self, c: u32) -> (u64, u64) {
        self.expire(c);
        let cursor = self.clients[c as usize].cursor;
        let head = self.head(c);
        (head, self.origin.count_for_client(c, cursor, head))
    }

    /// A frame from the client on the open WebSocket: `bytes` up, arriving one way later.
    pub fn send_frame(&mut self, c: u32, frame: u8, arg: u64, bytes: u64, payload: u64) {
        let now = self.now();
        self.rec.bytes(now, false, bytes, payload);
        let client = &self.clients[c as usize];
        let conn = client.conns[MAIN as usize];
        let ev = Self::event(Kind::Frame, c, MAIN, frame, conn.generation, arg);
        self.q.schedule(now + client.one_way(), ev);
        self.trace_msg(c, true, now, |_| {
            if payload == 0 {
                "ping".to_string()
            } else {
                "frame: chat message (masked)".to_string()
            }
        });
    }

    /// Everything on the client's stream before `upto` has arrived: record deliveries.
    pub fn deliver(&mut self, c: u32, upto: u64) {
        let now = self.now();
        let cursor = self.clients[c as usize].cursor;
        if upto <= cursor {
            return;
        }
        for r in self.origin.for_client(c, cursor, upto) {
            self.rec.delivery(now, r.created);
        }
        self.clients[c as usize].cursor = upto;
        self.origin.received(c, upto);
    }

    /// Applies retention to what the client has pending; lost records are counted.
    pub fn expire(&mut self, c: u32) {
        self.expire_at(c, self.now());
    }

    /// [`World::expire`] as of time `now` (the end of the run, when closing the books).
    pub fn expire_at(&mut self, c: u32, now: Nanos) {
        let client = &self.clients[c as usize];
        if self.sc.workload.pattern == Pattern::PerClient && client.cursor == client.own_head {
            return; // nothing pending, nothing to expire
        }
        let rec = &mut self.rec;
        let new = self
            .origin
            .expire(c, client.cursor, now, |r| rec.lost(r.created, 1));
        let client = &mut self.clients[c as usize];
        client.cursor = new;
        client.pushed = client.pushed.max(new);
    }

    /// Everything pending for the client is given up (a WebSocket without resume
    /// reconnects; a first subscription starts from now): counted as lost.
    pub fn skip_to_head(&mut self, c: u32) {
        let stream = self.origin.stream_of(c);
        let head = self.origin.head(stream);
        let client = &self.clients[c as usize];
        for r in self.origin.for_client(c, client.cursor, head) {
            self.rec.lost(r.created, 1);
        }
        let client = &mut self.clients[c as usize];
        client.cursor = head;
        client.pushed = head;
        self.origin.received(c, head);
    }

    /// Head of the client's stream (one past the newest update).
    pub fn head(&self, c: u32) -> u64 {
        if self.sc.workload.pattern == Pattern::PerClient {
            debug_assert_eq!(self.clients[c as usize].own_head, self.origin.head(c));
            return self.clients[c as usize].own_head;
        }
        self.origin.head(self.origin.stream_of(c))
    }

    // ---------------------------------------------------------------- timers

    /// A client timer at absolute time `at`. Cancel all of a client's timers with
    /// [`World::cancel_client_timers`].
    pub fn client_timer(&mut self, c: u32, at: Nanos, timer: u8, arg: u64) {
        let generation = self.clients[c as usize].timer_gen;
        self.q.schedule(
            at,
            Self::event(Kind::ClientTimer, c, MAIN, timer, generation, arg),
        );
    }

    pub fn cancel_client_timers(&mut self, c: u32) {
        let client = &mut self.clients[c as usize];
        client.timer_gen = client.timer_gen.wrapping_add(1);
    }

    /// A server timer on the client's MAIN connection (void if the connection closes).
    pub fn server_timer(&mut self, c: u32, at: Nanos, timer: u8, arg: u64) {
        let generation = self.clients[c as usize].conns[MAIN as usize].generation;
        self.q.schedule(
            at,
            Self::event(Kind::ServerTimer, c, MAIN, timer, generation, arg),
        );
    }

    /// Exponential backoff with jitter for the n-th consecutive failure (n ≥ 1):
    /// min(max, initial·2^(n−1)) × (1 − jitter·U). The caller says whose policy it is.
    pub fn backoff(&mut self, b: &Backoff, attempt: u32) -> Nanos {
        let exp = b
            .initial
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(40));
        let delay = exp.min(b.max) as f64;
        let u = self.rng_backoff.uniform();
        (delay * (1.0 - b.jitter * u)).round() as Nanos
    }

    // ---------------------------------------------------------------- chat upstream

    /// A chat message leaves as an HTTP POST on the UPSTREAM connection (queued while
    /// a previous POST is outstanding).
    pub fn post_chat_message(&mut self, c: u32) {
        let now = self.now();
        self.outbox[c as usize].push_back(now);
        self.upstream_ready(c);
    }

    /// Sends the next queued POST if the UPSTREAM connection allows it.
    fn upstream_ready(&mut self, c: u32) {
        if self.outbox.is_empty() || self.outbox[c as usize].is_empty() {
            return;
        }
        let conn = self.clients[c as usize].conns[UPSTREAM as usize];
        if self.conn_usable(c, UPSTREAM) {
            // The message stays queued until its POST is answered (resent if lost).
            let created = *self.outbox[c as usize].front().expect("non-empty");
            self.clients[c as usize].post_accepted = false;
            let payload = self.sc.workload.payload;
            let bytes = self.sc.network.request_header_bytes + payload;
            self.send_request(c, UPSTREAM, request::POST, created, bytes, payload);
        } else if conn.state == ConnState::Idle && !conn.in_use {
            // About to expire: let it go and open a fresh one.
            self.close_connection(c, UPSTREAM);
            self.open_connection(c, UPSTREAM);
        } else if conn.state == ConnState::Closed {
            self.open_connection(c, UPSTREAM);
        }
        // Otherwise: connecting or busy; we are called again when it is free.
    }

    /// A chat message created now could not be sent: its pairs are lost.
    pub fn lose_chat_message(&mut self, c: u32, created: Nanos) {
        if self.rec.window.contains(created) {
            let stream = self.origin.stream_of(c);
            let pairs = self.origin.recipients(stream, c);
            self.pairs_in_transit -= pairs;
            self.rec.lost += pairs;
        }
    }

    /// The server receives a chat message: CPU, then publish and answer.
    fn accept_chat_post(&mut self, c: u32, slot: u8, created: Nanos) {
        let instance = self.clients[c as usize].conns[slot as usize].instance;
        let finish = self.cpu(instance, self.sc.server.request_cpu);
        self.schedule_publish(c, finish, created);
        let conn = self.clients[c as usize].conns[slot as usize];
        let at = finish.max(conn.last_departure);
        self.clients[c as usize].conns[slot as usize].last_departure = at;
        let ev = Self::event(Kind::Depart, c, slot, response::POSTED, conn.generation, 0);
        self.q.schedule(at, ev);
    }

    /// A chat message from `sender` is handed to the origin at `at` (plus the backplane
    /// when there are several instances).
    pub fn schedule_publish(&mut self, sender: u32, at: Nanos, created: Nanos) {
        let stream = self.origin.stream_of(sender);
        let delay = if self.sc.server.instances > 1 {
            self.sc.server.backplane_latency
        } else {
            0
        };
        self.q.schedule(
            at + delay,
            Self::event(Kind::Publish, stream, 0, 0, sender, created),
        );
    }

    /// Window pairs created but not yet published (upstream or on the backplane).
    pub fn pairs_in_transit(&self) -> u64 {
        self.pairs_in_transit
    }

    // ---------------------------------------------------------------- the run

    /// Runs the simulation to the end of the measured window.
    pub fn run<P: Protocol>(&mut self, p: &mut P) {
        self.schedule_start();
        while let Some((t, ev)) = self.q.pop() {
            if t >= self.end {
                break;
            }
            // At 10^4+ clients, an event's client is a cache miss on each of its two
            // lines: ask for the next events' clients now, so memory works meanwhile.
            for k in 0..PREFETCH_AHEAD {
                if let Some(next) = self.q.peek_sorted(k) {
                    if let Some(client) = self.clients.get(next.client as usize) {
                        prefetch(client);
                    }
                }
            }
            self.dispatch(p, ev);
        }
    }

    fn valid(&self, ev: &Event) -> bool {
        u32::from(self.clients[ev.client as usize].conns[ev.slot as usize].generation)
            == ev.generation
    }

    fn dispatch<P: Protocol>(&mut self, p: &mut P, ev: Event) {
        match ev.kind {
            Kind::UpdateTick => self.on_update_tick(p),
            Kind::StreamTick => self.on_stream_tick(p, ev.client),
            Kind::Publish => self.publish(p, ev.client, ev.generation, ev.arg),
            Kind::Start => p.start(self, ev.client),
            Kind::Syn if self.valid(&ev) => self.on_syn(ev),
            // Whoever refused (admission, an offline client, a 503) already closed it.
            Kind::Refused if self.valid(&ev) => {
                if ev.slot == UPSTREAM {
                    // Try again after a backoff; the message waits in the outbox.
                    let retry = self.sc.workload.post_retry.clone();
                    let delay = self.backoff(&retry, 1);
                    let retry = Self::event(Kind::UpstreamRetry, ev.client, UPSTREAM, 0, 0u32, 0);
                    self.q.schedule(self.now() + delay, retry);
                } else {
                    p.on_refused(self, ev.client);
                }
            }
            Kind::Ready if self.valid(&ev) => {
                let c = ev.client;
                self.set_state(c, ev.slot, ConnState::Idle);
                self.clients[c as usize].conns[ev.slot as usize].last_activity = self.now();
                if ev.slot == UPSTREAM {
                    self.upstream_ready(c);
                } else {
                    p.on_connected(self, c);
                }
            }
            Kind::Request if self.valid(&ev) => self.on_request_arrival(p, ev),
            Kind::Depart if self.valid(&ev) => self.on_depart(p, ev),
            Kind::Response if self.valid(&ev) => self.on_response_arrival(p, ev),
            Kind::Push if self.valid(&ev) => self.deliver(ev.client, ev.arg),
            Kind::Frame if self.valid(&ev) => {
                self.clients[ev.client as usize].conns[MAIN as usize].last_activity = self.now();
                p.on_frame(self, ev.client, ev.sub, ev.arg)
            }
            Kind::ClientTimer if ev.generation == self.clients[ev.client as usize].timer_gen => {
                p.on_client_timer(self, ev.client, ev.sub, ev.arg);
            }
            Kind::UpstreamRetry => self.upstream_ready(ev.client),
            Kind::ServerTimer if self.valid(&ev) => {
                p.on_server_timer(self, ev.client, ev.sub, ev.arg)
            }
            Kind::IdleCheck => self.on_idle_check(ev),
            Kind::Broken if self.valid(&ev) => {
                self.rec.reconnect(self.now());
                self.trace_note(ev.client, Lane::Client, |_| "connection lost".to_string());
                if ev.slot == UPSTREAM {
                    self.upstream_ready(ev.client);
                } else {
                    p.on_broken(self, ev.client, ev.sub == SILENT, ev.arg);
                }
            }
            Kind::Drop => self.on_drop(),
            Kind::Crash => self.on_crash(ev.client, ev.arg),
            Kind::Restart => self.instances[ev.client as usize].up = true,
            _ => {} // a cancelled (stale) event
        }
    }
}
