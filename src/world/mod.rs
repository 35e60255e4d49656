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
//! The world is made of parts, each owning its state behind verbs of its own:
//!
//! | part | state |
//! |---|---|
//! | `clock.rs` | the event queue, and the quiet-world shortcut (the client clock) |
//! | `connections.rs` | each connection's state; instances, balancer, CPU; slots, memory and refused demand |
//! | `releases.rs` | memory that answers taken early give back, in time order |
//! | `keepalive.rs` | when keep-alive or the proxy closes an idle connection |
//! | `streams.rs` | each client's stream position; the origin; listeners and fan-out; retention |
//! | `updates.rs` | update sources, pairs created and in transit |
//! | `backplane.rs` | the pub/sub backplane: nodes, their FIFO queues, utilization and wait |
//! | `faults.rs` | network drops and instance crashes |
//! | `upstream.rs` | chat outboxes and their POSTs |
//! | `draws.rs` | the random draws techniques ask for (jitter, backoff) |
//! | `population.rs` | when clients join and leave (churn), how long a gateway lets a connection live |
//! | `metrics.rs` | counters, gauges and histograms of the measured window |
//!
//! A client's share of each part sits in its records (`client.rs`) so that most events
//! touch one cache line, not one per part. [`World`] holds the parts and runs the
//! verbs that span several of them: this file has what techniques call, `run.rs` the
//! run loop and what happens at each event.

pub mod backplane;
mod balancer;
mod browser;
mod client;
mod clock;
mod connections;
mod draws;
mod event;
mod faults;
mod keepalive;
pub mod metrics;
mod network;
mod origin;
mod pool;
mod population;
mod protocol;
mod releases;
mod run;
mod server;
mod streams;
pub mod trace;
mod updates;
mod upstream;

use crate::engine::{Nanos, Purpose, RandomStream};
use crate::scenario::EmptyAnswer;
use crate::scenario::{Backoff, Pattern, Scenario, Tls};
use crate::wire::{
    Framing, NGINX_503_BODY, error_answer_bytes, no_content_head_bytes, tls_write_bytes,
};
use client::Clients;
use clock::Clock;
use connections::Connections;
use draws::Draws;
use event::{ClientEvent, Event, Step};
use faults::Faults;
use keepalive::IdleTimers;
use metrics::{Recorder, Window};
use network::Link;
use origin::Origin;
use pool::Pools;
use population::Population;
use streams::{Feed, Streams};
use trace::{Lane, Trace};
use updates::Updates;
use upstream::Upstream;

pub use connections::{Conn, ConnState, ConnectionBooks};
pub(crate) use event::codes;
pub use event::{Break, Code, Never, Refusal, Response, Slot};
pub use protocol::{Protocol, Push};
pub use run::{Halt, STUCK_EVENTS, STUCK_EVENTS_PER_CLIENT};
pub use server::ConnUse;

pub struct World<P: Protocol> {
    clock: Clock,
    clients: Clients<P::Local>,
    conns: Connections,
    /// Each user's browser: the connections (or HTTP/2 streams) its tabs share.
    pools: Pools,
    idle: IdleTimers,
    streams: Streams,
    updates: Updates,
    faults: Faults,
    upstream: Upstream,
    draws: Draws,
    rec: Recorder,
    /// Message trace, when recording (see [`World::record_trace`]).
    trace: Option<Trace>,
    /// When clients join and leave; how long a connection may live.
    population: Population,
    response_header_bytes: u64,
    /// Head and body of an answer with nothing new (`[server] empty_answer`).
    empty_answer_bytes: u64,
    /// Answers with nothing new are `204 No Content`.
    empty_is_204: bool,
    /// The body of an answer with nothing new (0 for a 204).
    empty_body: u64,
    /// HTTP/1.1 or HTTP/2: how requests and answers become bytes (`wire/framing.rs`).
    framing: Framing,
    payload: u64,
    /// Every application write is wrapped in TLS records of this version (`wire/mod.rs`).
    tls: Tls,
}

/// What a run leaves when it is over: the measurements, for the run layer to report.
pub struct Books {
    pub window: Window,
    pub recorder: Recorder,
    pub connections: ConnectionBooks,
    /// Requests waiting in the browsers for a connection or a stream.
    pub stalled: metrics::Gauge,
    /// (update, recipient) pairs created in the window.
    pub published_pairs: u64,
    /// Window pairs neither delivered nor lost at the end: pending at the origin, on the
    /// wire, upstream or on the backplane, for a client not stalled in its browser.
    pub in_flight: u64,
    /// Window pairs pending at the end for a client whose request waits in its browser
    /// for a connection or stream (a stalled tab): not on their way.
    pub stalled_pairs: u64,
    /// Events the run took.
    pub events: u64,
    /// Events at the same nanosecond as the one before them, counted in a run with
    /// every step an event (`World::schedule_every_step`; 0 otherwise).
    pub simultaneous: u64,
    /// The backplane's utilization and queue wait (none with one instance).
    pub backplane: backplane::BackplaneBooks,
    pub trace: Option<Trace>,
}

impl<P: Protocol> World<P> {
    pub fn new(sc: &Scenario) -> Self {
        let window = Window {
            start: sc.warmup,
            end: sc.warmup + sc.duration,
            bucket: sc.timeseries_bucket.max(1),
        };
        let stream = |p| RandomStream::new(sc.seed, sc.random_point, sc.replication, p);
        let mut rng_rtt = stream(Purpose::Rtt);
        let n = sc.workload.clients;
        // Touched at random by nearly every event: on huge pages (`engine/hugepages.rs`).
        // The tabs of one user share its network: one round trip drawn per user.
        let tabs = sc.workload.tabs.max(1);
        let mut rtt = 0;
        let links = (0..n).map(|c| {
            if c % tabs == 0 {
                rtt = network::draw_rtt(&sc.network.rtt, &mut rng_rtt);
            }
            Link::new(rtt)
        });
        let workload = &sc.workload;
        // Only chat sends on UPSTREAM (`World::create_update`).
        let clients = Clients::new(links, workload.pattern == Pattern::Chat);
        let origin = Origin::new(
            workload.pattern,
            n,
            workload.room_size.max(1),
            sc.server.retention,
        );
        let faults = Faults::new(sc);
        let population = Population::new(sc);
        let framing =
            Framing::new(&sc.network, P::HTTP2_CAPABLE).with_tunnel(P::tunnels_over_http2(sc));
        let pools = Pools::new(sc, window, P::browser_pool(sc), framing.speaks_h2());
        let mut clock = Clock::new(window.end, faults.none() && population.quiet());
        // A client has two to three events pending at a time (its next poll or timer,
        // its connection's idle check; 2.05–2.49 per client measured in the four
        // techniques' queues at 10^6 clients): room for three from the run before, if it
        // left any. Whatever else it left is freed now (`engine/hugepages.rs`).
        clock.take_spare_storage(3 * n as usize);
        crate::engine::hugepages::release_spares();
        World {
            clock,
            clients,
            conns: Connections::new(sc, window, P::MAIN_HOLDS, pools.shared()),
            pools,
            idle: IdleTimers::new(sc.server.keepalive_timeout, sc.network.proxy_idle_timeout),
            streams: Streams::new(origin, workload.pattern),
            updates: Updates::new(sc, window),
            faults,
            upstream: Upstream::new(sc),
            draws: Draws::new(sc),
            rec: Recorder::new(window),
            trace: None,
            population,
            response_header_bytes: sc.network.response_header_bytes,
            empty_answer_bytes: match sc.server.empty_answer {
                EmptyAnswer::Ok => sc.network.response_header_bytes + sc.server.empty_body,
                EmptyAnswer::NoContent => no_content_head_bytes(sc.network.response_header_bytes),
            },
            empty_is_204: sc.server.empty_answer == EmptyAnswer::NoContent,
            empty_body: match sc.server.empty_answer {
                EmptyAnswer::Ok => sc.server.empty_body,
                EmptyAnswer::NoContent => 0,
            },
            framing,
            payload: workload.payload,
            tls: sc.network.tls,
        }
    }

    /// Schedules every step as an event, even those a quiet world could take early
    /// (for tests that check such shortcuts change nothing), and counts the events
    /// that come at the same nanosecond as the one before ([`Books::simultaneous`]).
    pub fn schedule_every_step(&mut self) {
        self.clock.schedule_every_step();
    }

    /// Records every message from now on (for `rtsim trace`; costs time and memory).
    pub fn record_trace(&mut self) {
        self.trace = Some(Trace::default());
    }

    /// Closes the books at exactly the end of the window: retention is applied to what
    /// every client has pending, and what remains is in flight.
    pub fn close(mut self) -> Books {
        let end = self.clock.end();
        let window = self.rec.window;
        let (mut in_flight, mut stalled_pairs) = (0, 0);
        for c in 0..self.clients.len() as u32 {
            let (feed, listening) = self.clients.feed_mut(c);
            let pending =
                self.streams
                    .in_flight_at_end(c, feed, listening, end, &window, &mut self.rec);
            if self.pools.is_waiting(c) {
                stalled_pairs += pending;
            } else {
                in_flight += pending;
            }
        }
        Books {
            window,
            recorder: self.rec,
            connections: self.conns.into_books(),
            stalled: self.pools.into_stalled(),
            published_pairs: self.updates.published_pairs(),
            in_flight: in_flight + self.updates.pairs_in_transit(),
            stalled_pairs,
            events: self.clock.events(),
            simultaneous: self.clock.simultaneous(),
            backplane: self.updates.backplane_books(),
            trace: self.trace,
        }
    }

    // ------------------------------------------------------------ what a client is

    /// The current time (during a client step taken early, that step's: see `clock.rs`).
    #[inline]
    pub fn now(&self) -> Nanos {
        self.clock.now()
    }

    /// How long a message takes between the client and the server.
    #[inline]
    pub fn one_way(&self, c: u32) -> Nanos {
        self.clients.hot[c as usize].link.one_way()
    }

    /// The client's MAIN connection.
    #[inline]
    pub fn main_conn(&self, c: u32) -> &Conn {
        self.conn(c, Slot::Main)
    }

    /// Has a head gone up (`down`: come down) on client `c`'s MAIN connection — or, for
    /// a stream of its user's HTTP/2 connection, on that connection — since it opened?
    /// HPACK's dynamic table then holds its fields (for a technique that sizes its own
    /// heads: RFC 8441's extended CONNECT).
    pub fn heads_warm(&self, c: u32, down: bool) -> bool {
        let conn = self.main_conn(c);
        if down {
            conn.answered_headers_before()
        } else {
            conn.headers_sent_before()
        }
    }

    /// Does the technique's MAIN connection carry its own framing inside HTTP/2 streams
    /// (RFC 8441)?
    pub fn tunnels_over_http2(&self) -> bool {
        self.framing.tunnels()
    }

    /// The technique's own state for client `c`.
    #[inline]
    pub fn local(&self, c: u32) -> &P::Local {
        &self.clients.hot[c as usize].local
    }

    #[inline]
    pub fn local_mut(&mut self, c: u32) -> &mut P::Local {
        &mut self.clients.hot[c as usize].local
    }

    /// First stream position the client has not received.
    #[inline]
    pub fn cursor(&self, c: u32) -> u64 {
        self.feed(c).cursor()
    }

    /// First stream position the server has not yet sent on the open stream.
    pub fn pushed(&self, c: u32) -> u64 {
        self.clients.cold[c as usize].listening.pushed()
    }

    /// The client has had a stream open before (this is a reconnection).
    pub fn subscribed(&self, c: u32) -> bool {
        self.clients.cold[c as usize].listening.subscribed()
    }

    /// Head of the client's stream (one past the newest update).
    #[inline]
    pub fn head(&self, c: u32) -> u64 {
        self.streams.head(c, self.feed(c))
    }

    /// Updates in stream positions [from, to) meant for the client.
    pub fn count_for(&self, c: u32, from: u64, to: u64) -> u64 {
        self.streams.count_for(c, from, to)
    }

    /// Stream positions in [from, to) holding updates meant for the client.
    pub fn positions_for(&self, c: u32, from: u64, to: u64) -> impl Iterator<Item = u64> + '_ {
        self.streams.positions_for(c, from, to)
    }

    #[inline]
    fn feed(&self, c: u32) -> &Feed {
        &self.clients.hot[c as usize].feed
    }

    #[inline]
    fn conn(&self, c: u32, slot: Slot) -> &Conn {
        self.clients.conn(c, slot)
    }

    #[inline]
    fn conn_mut(&mut self, c: u32, slot: Slot) -> &mut Conn {
        self.clients.conn_mut(c, slot)
    }

    /// Bytes on the wire of one application write of `plain` bytes: its TLS records'
    /// overhead included (none without TLS).
    #[inline]
    fn on_the_wire(&self, plain: u64) -> u64 {
        tls_write_bytes(self.tls, plain)
    }

    /// Is the client's network down now?
    fn offline(&self, c: u32) -> bool {
        // Without drops no client is ever offline: its cold record (a miss to memory at
        // 10^6+ clients, on every connect) need not be read to know it.
        self.faults.drops() && self.clients.cold[c as usize].outage.is_down(self.now())
    }

    // ------------------------------------------------------------ connections

    /// The client opens a new MAIN connection: the SYN leaves now.
    pub fn connect(&mut self, c: u32) {
        self.open_connection(c, Slot::Main);
    }

    /// Sends `GET …?since=<cursor>` on the MAIN connection if it can still carry it; else
    /// lets the stale one go and opens a new connection (the technique's `on_connected`
    /// then asks again). Returns whether the request left now.
    pub fn get_since_cursor_or_connect(&mut self, c: u32, req: P::Request, bytes: u64) -> bool {
        if self.conn_usable(c, Slot::Main) {
            let since = self.cursor(c);
            self.send_request(c, req, since, bytes);
            return true;
        }
        if self.main_conn(c).is_open() {
            // Keep-alive (or the proxy) is about to close it: start afresh.
            self.close_connection(c, Slot::Main);
        }
        self.open_connection(c, Slot::Main);
        false
    }

    /// Runs a job on the instance holding the client's MAIN connection; returns when it
    /// finishes.
    pub fn cpu_on_main(&mut self, c: u32, service: Nanos) -> Nanos {
        let instance = self.main_conn(c).instance();
        self.cpu(instance, service)
    }

    // ------------------------------------------------------------ requests

    /// The client sends a request on its open, free MAIN connection.
    pub fn send_request(&mut self, c: u32, req: P::Request, arg: u64, bytes: u64) {
        let step = Step::Request(req.code());
        self.send_request_leaving_at(self.now(), c, Slot::Main, step, arg, bytes, 0);
    }

    /// Server side: applies retention, then returns the head of the client's stream and
    /// how many updates are waiting for it before that head.
    #[inline]
    pub fn pending(&mut self, c: u32) -> (u64, u64) {
        self.expire(c);
        let cursor = self.cursor(c);
        let head = self.head(c);
        (head, self.count_for(c, cursor, head))
    }

    /// The server answers the MAIN request with everything from the client's cursor up
    /// to `upto`, after `service` of CPU (0 = no CPU work, e.g. a timeout reply). The
    /// answer may leave at once, on the client's clock (`World::answer_leaves`): `p`
    /// is the technique, for what its departure sets off.
    #[inline]
    pub fn respond(&mut self, p: &mut P, c: u32, service: Nanos, upto: u64) {
        let conn = *self.main_conn(c);
        let ready = if service > 0 {
            self.cpu(conn.instance(), service)
        } else {
            self.now()
        };
        let at = self.conn_mut(c, Slot::Main).depart(ready);
        let step = Step::Depart(Response::Updates);
        let ev = ClientEvent::new(c, Slot::Main, step, conn.generation(), upto);
        self.answer_leaves(p, ev, at);
    }

    // ------------------------------------------------------------ streams

    /// The server starts treating the MAIN connection as a held long poll.
    pub fn hold(&mut self, c: u32) {
        self.set_state(c, Slot::Main, ConnState::Held);
        self.streams.listen(&mut self.clients, c);
    }

    /// The client no longer waits for updates at the server.
    pub fn unlisten(&mut self, c: u32) {
        self.streams.unlisten(&mut self.clients, c);
    }

    /// Can the server afford to keep this request open (a held long poll, a stream)?
    /// The memory check at connect time only covered an idle connection; a stream holds
    /// more. If it would exceed `memory_limit`, the server answers 503 (head as
    /// configured, nginx's page as body) and closes: the client is refused
    /// ([`Refusal::Unavailable`]) and its technique decides what to do.
    pub fn admit_stream(&mut self, c: u32) -> bool {
        let now = self.now();
        if self
            .conns
            .stream_fits(self.clients.conn(c, Slot::Main), now)
        {
            return true;
        }
        self.rec.rejected(now);
        let h1 = error_answer_bytes(self.response_header_bytes, NGINX_503_BODY);
        let body = NGINX_503_BODY.len() as u64;
        let warm = self.conn_mut(c, Slot::Main).answer_headers_sent();
        let bytes = self.on_the_wire(self.framing.answer(h1, body, false, warm));
        self.rec.bytes(now, true, bytes, 0);
        self.trace_msg(c, false, now, |w| {
            format!(
                "{} 503 Service Unavailable (out of memory)",
                w.framing.version()
            )
        });
        self.close_connection(c, Slot::Main);
        self.set_unserved(c, Slot::Main, true);
        let generation = self.main_conn(c).generation();
        let at = now + self.one_way(c);
        let arg = Refusal::Unavailable.arg();
        let ev = Event::client(c, Slot::Main, Step::Refused, generation, arg);
        self.clock.schedule(at, ev);
        false
    }

    /// The MAIN connection becomes an open SSE stream or WebSocket.
    pub fn open_stream(&mut self, c: u32) {
        self.set_state(c, Slot::Main, ConnState::Stream);
        self.streams.listen(&mut self.clients, c);
        self.clients.cold[c as usize].listening.subscribe();
    }

    /// The server writes to the open stream after `service` of CPU: `bytes` down (one
    /// write: TLS records are added here), of which `payload` application data, covering the stream up to `upto`. Heartbeats
    /// and pongs schedule nothing at the client. Returns when the write leaves the server.
    pub fn push(
        &mut self,
        c: u32,
        service: Nanos,
        upto: u64,
        bytes: u64,
        payload: u64,
        what: Push,
    ) -> Nanos {
        let deliver = matches!(what, Push::Open | Push::Updates);
        let now = self.now();
        let bytes = self.on_the_wire(bytes);
        self.rec.bytes(now, true, bytes, payload);
        let conn = *self.main_conn(c);
        let finish = self.cpu(conn.instance(), service);
        let depart = self.conn_mut(c, Slot::Main).push_departs(finish);
        if self.trace.is_some() {
            let from = self.pushed(c).max(self.cursor(c));
            let updates = trace::ids(from, upto);
            let mut label = P::push_label(self, what, &updates);
            if self.framing.speaks_h2() && label.starts_with("HTTP/1.1 ") {
                label = label.replacen("HTTP/1.1", "HTTP/2", 1);
            }
            let label = if what == Push::Open && !updates.is_empty() {
                format!("{label} + replay {updates}")
            } else {
                label
            };
            self.trace_msg(c, false, depart, |_| label);
        }
        self.streams
            .pushed(&mut self.clients.cold[c as usize].listening, upto);
        if deliver {
            let at = depart + self.one_way(c);
            let ev = ClientEvent::new(c, Slot::Main, Step::Push, conn.generation(), upto);
            self.push_arrives(ev, conn.last_departure(), at);
        }
        depart
    }

    /// A frame from the client on the open socket: `bytes` up (one write: TLS records are
    /// added here), arriving one way later.
    pub fn send_frame(&mut self, c: u32, frame: P::Frame, arg: u64, bytes: u64, payload: u64) {
        let now = self.now();
        let bytes = self.on_the_wire(bytes);
        self.rec.bytes(now, false, bytes, payload);
        let generation = self.main_conn(c).generation();
        let ev = Event::client(c, Slot::Main, Step::Frame(frame.code()), generation, arg);
        self.clock.schedule(now + self.one_way(c), ev);
        self.trace_msg(c, true, now, |_| P::frame_label(frame));
    }

    /// Applies retention to what the client has pending; lost records are counted.
    pub fn expire(&mut self, c: u32) {
        let now = self.now();
        let (feed, listening) = self.clients.feed_mut(c);
        self.streams.expire(c, feed, listening, now, &mut self.rec);
    }

    /// Everything pending for the client is given up (a WebSocket without resume
    /// reconnects; a first subscription starts from now): counted as lost.
    pub fn skip_to_head(&mut self, c: u32) {
        let (feed, listening) = self.clients.feed_mut(c);
        self.streams.skip_to_head(c, feed, listening, &mut self.rec);
    }

    /// A client's stream failed for good (EventSource after a non-200 answer): counted
    /// in `streams_failed`.
    pub fn count_stream_failure(&mut self) {
        let now = self.now();
        self.rec.stream_failed(now);
    }

    // ------------------------------------------------------------ timers and draws

    /// A client timer at absolute time `at`. Cancel all of a client's timers with
    /// [`World::cancel_client_timers`].
    pub fn client_timer(&mut self, c: u32, at: Nanos, timer: P::Timer, arg: u64) {
        let generation = self.clients.hot[c as usize].timers;
        let step = Step::ClientTimer(timer.code());
        self.clock
            .schedule(at, Event::client(c, Slot::Main, step, generation, arg));
    }

    pub fn cancel_client_timers(&mut self, c: u32) {
        let timers = &mut self.clients.hot[c as usize].timers;
        *timers = timers.wrapping_add(1);
    }

    /// A server timer on the client's MAIN connection (void if the connection closes).
    pub fn server_timer(&mut self, c: u32, at: Nanos, timer: P::ServerTimer, arg: u64) {
        let generation = self.main_conn(c).generation();
        let step = Step::ServerTimer(timer.code());
        self.clock
            .schedule(at, Event::client(c, Slot::Main, step, generation, arg));
    }

    /// Exponential backoff with jitter for the n-th consecutive failure (n ≥ 1):
    /// min(max, initial·2^(n−1)) × (1 − jitter·U). The caller says whose policy it is.
    pub fn backoff(&mut self, b: &Backoff, attempt: u32) -> Nanos {
        self.draws.backoff(b, attempt)
    }

    /// A uniform draw in [0, n) from the jitter stream all clients share.
    pub fn jitter_below(&mut self, n: u64) -> u64 {
        self.draws.jitter_below(n)
    }

    // ------------------------------------------------------------ chat

    /// A chat message leaves as an HTTP POST on the UPSTREAM connection (queued while
    /// a previous POST is outstanding).
    pub fn post_chat_message(&mut self, c: u32) {
        let now = self.now();
        self.upstream.queue(c, now);
        self.upstream_ready(c);
    }

    /// A chat message created now could not be sent: its pairs are lost.
    pub fn lose_chat_message(&mut self, c: u32, created: Nanos) {
        let origin = self.streams.origin();
        let pairs = || origin.recipients(origin.stream_of(c), c);
        if self.rec.window.contains(created) {
            let pairs = pairs();
            self.updates.arrived(created, || pairs);
            self.rec.lost(created, pairs);
        }
    }

    /// A chat message from `sender` is handed to the origin at `at` (plus the backplane
    /// when there are several instances). A backplane with queues is entered at `at`
    /// itself (an event), so its nodes see arrivals in time order.
    pub fn schedule_publish(&mut self, sender: u32, at: Nanos, created: Nanos) {
        let stream = self.streams.origin().stream_of(sender);
        if self.updates.backplane_queues() {
            let enter = Event::BackplaneEnter {
                stream,
                sender,
                created,
            };
            self.clock.schedule(at, enter);
            return;
        }
        self.updates.crossed_unqueued(at);
        let publish = Event::Publish {
            stream,
            sender,
            created,
        };
        self.clock
            .schedule(at + self.updates.backplane_latency(), publish);
    }

    // ------------------------------------------------------------ tracing

    /// Records a message of client `c` leaving at `sent` and arriving one way later.
    /// Only the test for a trace is inlined: twice per poll, a call that found none
    /// cost ~3 % of a short-polling run's instructions (2 × 10^4 clients, with the
    /// answer's departure no longer inlined into the run loop).
    #[inline(always)]
    fn trace_msg(&mut self, c: u32, up: bool, sent: Nanos, label: impl FnOnce(&Self) -> String) {
        if self.trace.is_some() {
            self.record_msg(c, up, sent, label);
        }
    }

    #[cold]
    #[inline(never)]
    fn record_msg(&mut self, c: u32, up: bool, sent: Nanos, label: impl FnOnce(&Self) -> String) {
        let text = label(self);
        let arrives = sent + self.one_way(c);
        if let Some(t) = self.trace.as_mut() {
            t.message(c, up, sent, arrives, text);
        }
    }

    /// A note on the client's or server's lane in the trace (no-op unless recording).
    #[inline]
    pub fn trace_note(&mut self, c: u32, lane: Lane, label: impl FnOnce(&Self) -> String) {
        if self.trace.is_some() {
            let text = label(self);
            let now = self.now();
            if let Some(t) = self.trace.as_mut() {
                t.note(c, lane, now, text);
            }
        }
    }
}
