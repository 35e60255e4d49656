//! The run loop, and what the world does at each event: the steps every technique
//! shares (handshakes, requests reaching the server, responses leaving and arriving,
//! idle checks, breaks), update sources, faults and chat upstream. A technique is called
//! where the protocol is its business. (Over 600 lines: it is one walk through a
//! connection's life, from SYN to close, and reads best in one place.)

use std::sync::atomic::{AtomicBool, Ordering};

use crate::engine::Nanos;
use crate::engine::prefetch::prefetch;
use crate::scenario::Tls;
use crate::wire::{NGINX_504_BODY, error_answer_bytes};
use crate::world::event::{Break, ClientEvent, Code, Event, Refusal, Response, Slot, Step};
use crate::world::keepalive::IdleVerdict;
use crate::world::origin::{ORIGIN, Record};
use crate::world::trace::Lane;
use crate::world::{ConnState, ConnUse, Protocol, World, trace};

/// [`World::run`] keeps this many upcoming events' clients on their way: it asks for
/// the client of the event `PREFETCH_AHEAD - 1` places on, far enough ahead for the
/// memory to answer before that event comes up.
const PREFETCH_AHEAD: usize = 3;

/// The run loop looks up from its events once every this many (a power of two, so the
/// test is a mask): to see whether Ctrl-C was pressed and whether time still moves. At
/// 10–50 M events/s that is every 1–7 ms of wall time, and costs one load and one
/// compare per 65,536 events.
const LOOK_UP_EVERY: u64 = 1 << 16;

/// Events at one simulated instant beyond which a run is declared stuck, before the
/// allowance per client ([`STUCK_EVENTS_PER_CLIENT`]). The largest legitimate bursts at
/// one instant are fan-outs (a broadcast reaching every client with the same round trip,
/// a start window squeezed to nothing): a few events per client. 10^7 plus 64 per client
/// is far above any of them, and still reached in well under a second of wall time.
pub const STUCK_EVENTS: u64 = 10_000_000;
/// See [`STUCK_EVENTS`].
pub const STUCK_EVENTS_PER_CLIENT: u64 = 64;

/// Why a run stopped before the end of its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// The stop flag was raised (Ctrl-C).
    Interrupted,
    /// At least `events` events happened at simulated time `at` without time moving:
    /// some delay is zero or too small for the world to make progress.
    Stuck { at: Nanos, events: u64 },
}

impl<P: Protocol> World<P> {
    /// Runs the simulation to the end of the measured window, unless `stop` is raised
    /// (checked every [`LOOK_UP_EVERY`] events) or time stops moving.
    pub fn run(&mut self, p: &mut P, stop: &AtomicBool) -> Result<(), Halt> {
        self.start();
        let stuck_limit = STUCK_EVENTS + STUCK_EVENTS_PER_CLIENT * self.clients.len() as u64;
        let mut seen: u64 = 0;
        // Time at the last look-up, and since when (in events) it has not moved: time
        // never goes back, so equal times at two look-ups mean every event between them
        // happened at that instant.
        let mut last_time = Nanos::MAX;
        let mut still_since = 0;
        while let Some(ev) = self.clock.next() {
            seen += 1;
            if seen & (LOOK_UP_EVERY - 1) == 0 {
                if stop.load(Ordering::Relaxed) {
                    return Err(Halt::Interrupted);
                }
                let now = self.now();
                if now != last_time {
                    last_time = now;
                    still_since = seen;
                } else if seen - still_since >= stuck_limit {
                    return Err(Halt::Stuck {
                        at: now,
                        events: seen - still_since,
                    });
                }
            }
            // At 10^4+ clients, an event's client is a cache miss: ask for the client of
            // the event PREFETCH_AHEAD - 1 places on now (the hot line), so memory works
            // while the events before it run. Each sorted event is asked for once, as
            // it enters that window (re-asking for the nearer ones at every event cost
            // ~20 instructions per event and fetched nothing new); the first few of a
            // bucket go unasked.
            if let Some(upcoming) = self.clock.upcoming(PREFETCH_AHEAD - 1) {
                self.prefetch_for(upcoming);
            }
            self.dispatch(p, ev);
        }
        Ok(())
    }

    /// Starts loading what an upcoming event will touch, so that memory works while the
    /// events before it run (a hint: it changes the time a run takes, nothing else).
    #[inline]
    fn prefetch_for(&self, ev: &Event) {
        // A technique that holds a stream (or a long poll) listens: most of its events
        // read the client's cold record and its stream too.
        let listens = P::MAIN_HOLDS == ConnUse::Stream;
        match *ev {
            Event::Client(ClientEvent { client, .. }) => {
                self.prefetch_client(client, listens);
                if listens {
                    self.streams.origin().prefetch_own_stream(client);
                }
            }
            // The stream it goes to; with per-client streams, its one subscriber.
            Event::Publish { stream, .. } => {
                self.streams.origin().prefetch_stream(stream);
                if let Some(c) = self.streams.origin().single_subscriber(stream) {
                    self.prefetch_client(c, true);
                }
            }
            _ => {}
        }
    }

    #[inline]
    fn prefetch_client(&self, c: u32, cold_too: bool) {
        if let Some(client) = self.clients.hot.get(c as usize) {
            prefetch(client);
        }
        if cold_too {
            if let Some(client) = self.clients.cold.get(c as usize) {
                prefetch(client);
            }
        }
    }

    /// Schedules every client's join (common random times), the fault processes and
    /// the update sources.
    fn start(&mut self) {
        for c in 0..self.clients.len() as u32 {
            let at = self.population.next_join();
            let start = Event::client(c, Slot::Main, Step::Start, 0, 0);
            self.clock.schedule(at, start);
        }
        self.faults.start(&mut self.clock);
        self.updates.start(&mut self.clock);
    }

    fn dispatch(&mut self, p: &mut P, ev: Event) {
        match ev {
            Event::UpdateTick => {
                let source = self.updates.tick(&mut self.clock);
                self.create_update(p, source);
            }
            Event::SourceTick { source } => {
                self.updates.source_tick(&mut self.clock, source);
                self.create_update(p, source);
            }
            Event::Publish {
                stream,
                sender,
                created,
            } => self.publish(p, stream, sender, created),
            Event::BackplaneEnter {
                stream,
                sender,
                created,
            } => {
                let at = self.updates.cross_backplane(stream, self.now());
                let publish = Event::Publish {
                    stream,
                    sender,
                    created,
                };
                self.clock.schedule(at, publish);
            }
            Event::Drop => self.on_drop(),
            Event::Crash { instance, downtime } => self.on_crash(instance, downtime),
            Event::Restart { instance } => self.conns.restart(instance),
            Event::Drain { instance, fault } => self.on_drain(instance, fault),
            Event::DrainEnd { instance, downtime } => self.on_crash(instance, downtime),
            Event::Client(ev) => self.client_step(p, ev),
        }
    }

    /// Is the connection the event was scheduled on still the one open? (A stale event
    /// was cancelled by a close.) Asked only by the steps that depend on it.
    #[inline]
    fn on_live_connection(&self, ev: &ClientEvent) -> bool {
        self.conn(ev.client, ev.slot).generation() == ev.generation
    }

    /// Inlined into the run loop: nearly every event is a client's step, and as a call it
    /// saved and restored the loop's registers each time (instructions per event at
    /// 2 × 10^4 clients: −3.3 % short polling, −5.5 % WebSockets).
    #[inline(always)]
    fn client_step(&mut self, p: &mut P, ev: ClientEvent) {
        let c = ev.client;
        let upstream = ev.slot == Slot::Upstream;
        match ev.step {
            Step::Start => {
                self.begin_session(c);
                p.start(self, c)
            }
            Step::Leave => {
                self.leave(c);
                self.begin_session(c);
                p.start(self, c)
            }
            Step::GatewayCloses if self.on_live_connection(&ev) => self.gateway_closes(c, ev.slot),
            Step::Syn if self.on_live_connection(&ev) => self.on_syn(ev),
            // Whoever refused (admission, an offline client, a 503) already closed it.
            Step::Refused if upstream && self.on_live_connection(&ev) => {
                // Try again after a backoff; the message waits in the outbox.
                let delay = self.draws.backoff(self.upstream.retry(), 1);
                let retry = Event::client(c, Slot::Upstream, Step::UpstreamRetry, 0, 0);
                self.clock.schedule(self.now() + delay, retry);
            }
            Step::Refused if self.on_live_connection(&ev) => {
                p.on_refused(self, c, Refusal::from_arg(ev.arg))
            }
            Step::Ready if self.on_live_connection(&ev) => {
                self.set_state(c, ev.slot, ConnState::Idle);
                let now = self.now();
                self.conn_mut(c, ev.slot).touch(now);
                if upstream {
                    self.upstream_ready(c);
                } else {
                    p.on_connected(self, c);
                }
            }
            Step::Request(_) | Step::ChatPost if self.on_live_connection(&ev) => {
                self.on_request_arrival(p, ev)
            }
            Step::Depart(resp) if self.on_live_connection(&ev) => self.on_depart(p, ev, resp),
            Step::Response(resp) if self.on_live_connection(&ev) => {
                self.on_response_arrival(p, ev, resp)
            }
            Step::Push if self.on_live_connection(&ev) => self.deliver(c, ev.arg),
            Step::Frame(frame) if self.on_live_connection(&ev) => {
                let now = self.now();
                self.conn_mut(c, Slot::Main).touch(now);
                p.on_frame(self, c, P::Frame::from_code(frame), ev.arg);
            }
            Step::ClientTimer(timer) if ev.generation == self.clients.hot[c as usize].timers => {
                p.on_client_timer(self, c, P::Timer::from_code(timer), ev.arg);
            }
            Step::UpstreamRetry => self.upstream_ready(c),
            Step::ServerTimer(timer) if self.on_live_connection(&ev) => {
                p.on_server_timer(self, c, P::ServerTimer::from_code(timer), ev.arg);
            }
            Step::IdleCheck => self.on_idle_check(ev),
            Step::Drained if self.on_live_connection(&ev) => {
                self.trace_note(c, Lane::Server, |_| "draining: server closes".to_string());
                let notice = self.now() + self.one_way(c);
                self.break_connection(c, ev.slot, Break::Clean, notice);
            }
            Step::Broken(how) if self.on_live_connection(&ev) => {
                self.rec.reconnect(self.now());
                self.trace_note(c, Lane::Client, |_| "connection lost".to_string());
                if upstream {
                    self.upstream_ready(c);
                } else {
                    p.on_broken(self, c, how, ev.arg);
                }
            }
            _ => {} // a cancelled (stale) event
        }
    }

    // ------------------------------------------------------------ sessions

    /// A user's session starts on client `c`: its end is scheduled (with churn).
    fn begin_session(&mut self, c: u32) {
        if let Some(length) = self.population.session_length() {
            let leave = Event::client(c, Slot::Main, Step::Leave, 0, 0);
            self.clock.schedule(self.now() + length, leave);
        }
    }

    /// The user on client `c` leaves; a new one takes the place at once (the caller
    /// starts it). The server closes what the old user held, quietly (a closed tab sends
    /// no notice the model waits for); everything the old user had pending is given up
    /// (counted as lost); the technique's state, timers and stream subscription start
    /// afresh.
    fn leave(&mut self, c: u32) {
        self.trace_note(c, Lane::Client, |_| {
            "the user leaves; a new one joins".to_string()
        });
        for &slot in self.clients.slots() {
            // Closing voids every event still in flight on the connection, even one
            // already closed (a refusal on its way back).
            self.close_connection(c, slot);
            self.set_unserved(c, slot, false);
        }
        self.cancel_client_timers(c);
        self.clients.hot[c as usize].local = P::Local::default();
        let (feed, listening) = self.clients.feed_mut(c);
        self.streams.new_user(c, feed, listening, &mut self.rec);
    }

    /// A gateway closes the connection on `slot` for its age: the client sees it break
    /// and reconnects by its protocol's rules (an idle keep-alive connection just goes).
    fn gateway_closes(&mut self, c: u32, slot: Slot) {
        let now = self.now();
        self.trace_note(c, Lane::Proxy, |_| {
            "gateway: maximum connection duration".to_string()
        });
        let notice = now + self.one_way(c);
        self.break_connection(c, slot, Break::Clean, notice);
    }

    // ------------------------------------------------------------ connections

    /// Moves a connection to a new state (slot and memory accounting follow).
    pub(super) fn set_state(&mut self, c: u32, slot: Slot, new: ConnState) {
        let now = self.now();
        let conn = self.clients.conn_mut(c, slot);
        self.conns.set_state(conn, new, now);
    }

    /// The server refused the client's connection on `slot`, or admitted one.
    pub(super) fn set_unserved(&mut self, c: u32, slot: Slot, unserved: bool) {
        let now = self.now();
        let flags = &mut self.clients.cold[c as usize].unserved;
        self.conns.set_unserved(flags, slot, unserved, now);
    }

    /// Can the client send a request on this connection now? It must be open, free, and
    /// the request must reach the server before keep-alive or the proxy closes it.
    pub(super) fn conn_usable(&self, c: u32, slot: Slot) -> bool {
        self.conn_usable_at(c, slot, self.now())
    }

    /// [`World::conn_usable`] for a request sent at `sent` (now or later), if nothing but
    /// the passing of time happens to the connection meanwhile.
    pub(super) fn conn_usable_at(&self, c: u32, slot: Slot, sent: Nanos) -> bool {
        self.idle
            .usable_at(self.conn(c, slot), self.one_way(c), sent)
    }

    /// The client opens a new TCP (+TLS) connection on `slot`: the SYN leaves now.
    pub(super) fn open_connection(&mut self, c: u32, slot: Slot) {
        let now = self.now();
        if self.offline(c) {
            // No network: the attempt fails at once (not a server rejection).
            let conn = self.conn_mut(c, slot);
            conn.fail_offline();
            let ev = Event::client(c, slot, Step::Refused, conn.generation(), 0);
            self.clock.schedule(now, ev);
            self.trace_note(c, Lane::Client, |_| "offline: connect fails".to_string());
            self.give_back_place(c, slot);
            return;
        }
        if !self.browser_lets_connect(c, slot) {
            return;
        }
        self.trace_msg(c, true, now, |_| "SYN (TCP connect)".to_string());
        let tcp = self.conns.setup().tcp_bytes;
        // SYN and the final ACK go up; SYN-ACK comes down (60 of the 172 default bytes).
        let syn_ack = tcp.min(60);
        self.rec.bytes(now, false, tcp - syn_ack, 0);
        self.rec.bytes(now, true, syn_ack, 0);
        let conn = self.conn_mut(c, slot);
        conn.connect();
        let ev = Event::client(c, slot, Step::Syn, conn.generation(), 0);
        self.clock.schedule(now + self.one_way(c), ev);
    }

    /// A SYN reaches the load balancer: pick an instance, admit or refuse.
    fn on_syn(&mut self, ev: ClientEvent) {
        let now = self.now();
        let (c, slot) = (ev.client, ev.slot);
        let one_way = self.one_way(c);
        let conn = self.clients.conn_mut(c, slot);
        let Some(instance) = self.conns.admit(conn, now) else {
            self.rec.rejected(now);
            self.set_unserved(c, slot, true);
            self.trace_msg(c, false, now, |_| {
                "RST (no connection slot or memory)".to_string()
            });
            self.conn_mut(c, slot).refused();
            let refused = Event::client(c, slot, Step::Refused, ev.generation, 0);
            self.clock.schedule(now + one_way, refused);
            self.browser_refused(c, slot);
            return;
        };
        self.rec.handshake(now);
        self.set_unserved(c, slot, false);
        self.set_state(c, slot, ConnState::Handshake);
        let setup = self.conns.setup();
        let tls = setup.tls;
        if tls.round_trips() > 0 {
            // Certificates dominate: about a quarter up (hellos, key share, Finished),
            // three quarters down.
            let bytes = setup.tls_bytes;
            self.rec.bytes(now, false, bytes / 4, 0);
            self.rec.bytes(now, true, bytes - bytes / 4, 0);
        }
        let (preface_up, preface_down) = self.framing.connection_preface();
        if preface_up + preface_down > 0 {
            // HTTP/2: the client's preface and SETTINGS, the server's SETTINGS, the ACKs.
            let up = self.on_the_wire(preface_up);
            let down = self.on_the_wire(preface_down);
            self.rec.bytes(now, false, up, 0);
            self.rec.bytes(now, true, down, 0);
        }
        let done = self.cpu(instance, setup.cpu);
        let rtt = self.clients.hot[c as usize].link.rtt();
        let ready = done + one_way + tls.round_trips() * rtt;
        if self.trace.is_some() {
            self.trace_msg(c, false, done, |_| "SYN-ACK".to_string());
            let version = match tls {
                Tls::V1_2 => "1.2",
                _ => "1.3",
            };
            for k in 0..tls.round_trips() {
                let hello = done + one_way + k * rtt;
                self.trace_msg(c, true, hello, |_| format!("TLS {version} ClientHello…"));
                self.trace_msg(c, false, hello + one_way, |_| {
                    format!("TLS {version} ServerHello…Finished")
                });
            }
            if preface_up > 0 {
                // Sent with the first request, no round trip of its own (RFC 9113 §3.4).
                self.trace_msg(c, true, ready, |_| {
                    format!("HTTP/2 preface + SETTINGS ({preface_up} B; {preface_down} B back)")
                });
            }
        }
        let ready_ev = Event::client(c, slot, Step::Ready, ev.generation, 0);
        self.clock.schedule(ready, ready_ev);
        self.browser_connected(c, instance, ready);
        if let Some(age) = self.population.max_connection_duration() {
            let close = Event::client(c, slot, Step::GatewayCloses, ev.generation, 0);
            self.clock.schedule(now + age, close);
        }
        self.schedule_idle_check(c, slot);
    }

    /// Closes a connection at the server; events still in flight on it are void.
    pub(super) fn close_connection(&mut self, c: u32, slot: Slot) {
        if slot == Slot::Main {
            self.unlisten(c);
        }
        let now = self.now();
        let conn = self.clients.conn_mut(c, slot);
        let was = *conn;
        self.conns.close(conn, now);
        self.browser_closed(c, slot, &was);
    }

    /// Breaks a client's connection: closed at the server now, the client told at
    /// `notice` if it was using it (an idle keep-alive connection just disappears).
    fn break_connection(&mut self, c: u32, slot: Slot, how: Break, notice: Nanos) {
        let now = self.now();
        let conn = *self.conn(c, slot);
        if conn.state() == ConnState::Closed {
            return;
        }
        let in_use = conn.in_use() || conn.state() != ConnState::Idle;
        if slot == Slot::Upstream && conn.in_use() {
            self.upstream.broke_outstanding(c);
        }
        self.close_connection(c, slot);
        if in_use {
            let generation = self.conn(c, slot).generation();
            let ev = Event::client(c, slot, Step::Broken(how), generation, now);
            self.clock.schedule(notice, ev);
        }
    }

    pub(super) fn schedule_idle_check(&mut self, c: u32, slot: Slot) {
        let conn = self.conn(c, slot);
        let due = self.idle.due(conn);
        if due == Nanos::MAX {
            return;
        }
        if conn.check_at() == 0 || due < conn.check_at() {
            self.idle_check_at(c, slot, due);
        }
    }

    /// Schedules the connection's idle check at `at`, superseding any pending one.
    fn idle_check_at(&mut self, c: u32, slot: Slot, at: Nanos) {
        let conn = self.conn_mut(c, slot);
        conn.set_check_at(at);
        let ev = Event::client(c, slot, Step::IdleCheck, conn.generation(), at);
        self.clock.schedule(at, ev);
    }

    fn on_idle_check(&mut self, ev: ClientEvent) {
        let (c, slot) = (ev.client, ev.slot);
        let conn = *self.conn(c, slot);
        if conn.generation() != ev.generation || conn.check_at() != ev.arg {
            return; // superseded
        }
        self.conn_mut(c, slot).set_check_at(0);
        let now = self.now();
        let one_way = self.one_way(c);
        match self.idle.verdict(&conn, now, one_way) {
            IdleVerdict::NotYet => self.schedule_idle_check(c, slot),
            IdleVerdict::AfterDelivery { at } => {
                // The answer still travels: a delivery already past would mean a request
                // in flight on a connection the server is closing (see
                // `browser_hands_over`), and a check that comes back at once, forever.
                debug_assert!(at > now, "idle check at {now} deferred to the past ({at})");
                self.idle_check_at(c, slot, at)
            }
            IdleVerdict::KeepAliveCloses => {
                self.trace_msg(c, false, now, |_| "FIN (keep-alive timeout)".to_string());
                self.close_connection(c, slot);
            }
            IdleVerdict::ProxyCloses => self.proxy_closes(c, slot, conn.state()),
        }
    }

    /// The intermediary gives up on a silent connection in `state`.
    fn proxy_closes(&mut self, c: u32, slot: Slot, state: ConnState) {
        let now = self.now();
        self.rec.proxy_timeout(now);
        self.trace_note(c, Lane::Proxy, |_| "proxy: idle timeout".to_string());
        let one_way = self.one_way(c);
        // The proxy ends its upstream connection too: drawn from its lane to the
        // server's (one way later, as every arrow; the model frees the slot at once).
        if let Some(t) = self.trace.as_mut() {
            t.message_from(
                c,
                Lane::Proxy,
                true,
                now,
                now + one_way,
                "FIN (the proxy closes its connection to the server)".to_string(),
            );
        }
        self.close_connection(c, slot);
        let generation = self.conn(c, slot).generation();
        match state {
            ConnState::Held | ConnState::Busy => {
                // A held long poll (or a slow request) gets a response after all — a 504
                // from the proxy, carrying no update (nginx's page as body).
                self.rec.response(now, true);
                let h1 = error_answer_bytes(self.response_header_bytes, NGINX_504_BODY);
                let body = NGINX_504_BODY.len() as u64;
                let warm = self.conn_mut(c, slot).answer_headers_sent();
                let bytes = self.on_the_wire(self.framing.answer(h1, body, false, warm));
                self.rec.bytes(now, true, bytes, 0);
                // The proxy answers, not the server: drawn from the proxy's lane.
                let version = self.framing.version();
                if let Some(t) = self.trace.as_mut() {
                    t.message_from(
                        c,
                        Lane::Proxy,
                        false,
                        now,
                        now + one_way,
                        format!("{version} 504 Gateway Timeout [no update] (from the proxy)"),
                    );
                }
                self.conn_mut(c, slot).sent();
                let step = Step::Response(Response::GatewayTimeout);
                let ev = Event::client(c, slot, step, generation, 0);
                self.clock.schedule(now + one_way, ev);
            }
            // An open stream, or a handshake stuck in the server's CPU queue: the client
            // sees the connection close and starts over by its protocol's rules.
            ConnState::Stream | ConnState::Handshake => {
                if let Some(t) = self.trace.as_mut() {
                    t.message_from(
                        c,
                        Lane::Proxy,
                        false,
                        now,
                        now + one_way,
                        "FIN (the proxy closes the idle connection)".to_string(),
                    );
                }
                let step = Step::Broken(Break::Clean);
                let ev = Event::client(c, slot, step, generation, now);
                self.clock.schedule(now + one_way, ev);
            }
            _ => {}
        }
    }

    /// Runs a job on the instance's workers; returns when it finishes.
    #[inline]
    pub(super) fn cpu(&mut self, instance: u32, mean_service: Nanos) -> Nanos {
        let now = self.now();
        self.conns.cpu(instance, mean_service, now, &mut self.rec)
    }

    // ------------------------------------------------------------ requests and responses

    /// A request leaves the client at `sent` (now, or later when the world knows nothing
    /// can happen to the connection meanwhile: see `clock.rs`). Inlined into its few
    /// callers, once per poll (short polling at 2 × 10^4 clients: −1.2 % instructions).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn send_request_leaving_at(
        &mut self,
        sent: Nanos,
        c: u32,
        slot: Slot,
        step: Step,
        arg: u64,
        bytes_up: u64,
        payload_up: u64,
    ) {
        let warm = self.conn(c, slot).headers_sent_before();
        let bytes_up = self.on_the_wire(self.framing.request(bytes_up, payload_up, warm));
        self.rec.bytes(sent, false, bytes_up, payload_up);
        let conn = self.conn_mut(c, slot);
        debug_assert!(conn.is_open());
        conn.sent();
        let ev = Event::client(c, slot, step, conn.generation(), arg);
        self.clock.schedule(sent + self.one_way(c), ev);
        self.trace_msg(c, true, sent, |w| match step {
            Step::Request(req) => P::request_label(w, c, P::Request::from_code(req)),
            _ => "POST /messages (a chat message)".to_string(),
        });
    }

    fn on_request_arrival(&mut self, p: &mut P, ev: ClientEvent) {
        let now = self.now();
        self.rec.request(now);
        let (c, slot) = (ev.client, ev.slot);
        self.conn_mut(c, slot).touch(now);
        self.set_state(c, slot, ConnState::Busy);
        match ev.step {
            Step::Request(req) => p.on_request(self, c, P::Request::from_code(req), ev.arg),
            _ => {
                self.upstream.accepted(c);
                self.accept_chat_post(c, slot, ev.arg);
            }
        }
    }

    pub(super) fn on_depart(&mut self, p: &mut P, ev: ClientEvent, resp: Response) {
        let now = self.now();
        let (c, slot) = (ev.client, ev.slot);
        let headers = self.response_header_bytes;
        let warm = self.conn_mut(c, slot).answer_headers_sent();
        if resp == Response::Updates {
            let cursor = self.cursor(c);
            let n = self.count_for(c, cursor, ev.arg);
            let payload = n * self.payload;
            let plain = if n == 0 {
                let (h1, body) = (self.empty_answer_bytes, self.empty_body);
                self.framing.answer(h1, body, self.empty_is_204, warm)
            } else {
                self.framing.answer(headers + payload, payload, false, warm)
            };
            let bytes = self.on_the_wire(plain);
            self.rec.bytes(now, true, bytes, payload);
            self.rec.response(now, n == 0);
            self.trace_msg(c, false, now, |w| {
                let v = w.framing.version();
                match n {
                    0 if w.empty_is_204 => format!("{v} 204 No Content"),
                    0 => format!("{v} 200 OK  [no update]"),
                    _ => format!("{v} 200 OK  [{}]", trace::updates(cursor, ev.arg)),
                }
            });
        } else {
            let bytes = self.on_the_wire(self.framing.answer(headers, 0, false, warm));
            self.rec.bytes(now, true, bytes, 0);
            self.trace_msg(c, false, now, |w| {
                format!("{} 201 Created", w.framing.version())
            });
        }
        if slot == Slot::Main {
            self.unlisten(c);
        }
        self.conn_mut(c, slot).touch(now);
        self.answer_left(c, slot);
        self.schedule_idle_check(c, slot);
        let arrival = now + self.one_way(c);
        let ev = ClientEvent {
            step: Step::Response(resp),
            ..ev
        };
        self.response_leaves(p, ev, resp, arrival);
    }

    /// Inlined where a response arrives (an event, or an early step): it runs once per
    /// poll, and as a call it cost a save and restore of the caller's registers
    /// (instructions per event at 2 × 10^4 clients, short polling: −3.5 %).
    #[inline(always)]
    pub(super) fn on_response_arrival(&mut self, p: &mut P, ev: ClientEvent, resp: Response) {
        let c = ev.client;
        self.conn_mut(c, ev.slot).answered();
        if resp == Response::Updates {
            self.deliver(c, ev.arg);
        }
        // Another tab's request waiting for a connection gets this one, now idle.
        self.browser_hands_over(c, ev.slot);
        if resp == Response::GatewayTimeout {
            self.rec.reconnect(self.now());
        }
        if ev.slot == Slot::Upstream {
            if resp == Response::Posted {
                self.upstream.answered(c);
            }
            self.upstream_ready(c);
        } else {
            p.on_response(self, c, resp);
        }
    }

    /// Everything on the client's stream before `upto` has arrived: record deliveries.
    pub(super) fn deliver(&mut self, c: u32, upto: u64) {
        let now = self.now();
        let feed = &mut self.clients.hot[c as usize].feed;
        self.streams.deliver(c, feed, upto, now, &mut self.rec);
    }

    // ------------------------------------------------------------ updates

    /// An update is born: at the origin, or (chat) at a client that sends a message.
    fn create_update(&mut self, p: &mut P, source: u32) {
        let now = self.now();
        let origin = self.streams.origin();
        if self.updates.sent_by_clients() {
            let stream = origin.stream_of(source);
            self.updates
                .created(now, || origin.recipients(stream, source));
            p.chat_send(self, source);
        } else {
            // The source is the broadcast stream (0) or a client's own stream.
            let stream = source;
            self.updates
                .created(now, || origin.recipients(stream, ORIGIN));
            if self.trace.is_some() {
                // Drawn on the server lane, beside the first subscriber's messages.
                let c = origin.subscribers(stream).start;
                let label = if self.updates.has_backplane() {
                    let delay = crate::engine::time::secs(self.updates.backplane_latency());
                    let queue = if self.updates.backplane_queues() {
                        " + its node's queue"
                    } else {
                        ""
                    };
                    format!(
                        "update created (crosses the backplane: {}{queue})",
                        crate::units::human::duration(delay, true)
                    )
                } else {
                    format!("update id {} created", origin.head(stream))
                };
                self.trace_note(c, Lane::Server, |_| label);
            }
            if self.updates.has_backplane() {
                let at = self.updates.cross_backplane(stream, now);
                let publish = Event::Publish {
                    stream,
                    sender: ORIGIN,
                    created: now,
                };
                self.clock.schedule(at, publish);
            } else {
                self.publish(p, stream, ORIGIN, now);
            }
        }
    }

    /// An update becomes visible at the servers: listening recipients are told.
    fn publish(&mut self, p: &mut P, stream: u32, sender: u32, created: Nanos) {
        let origin = self.streams.origin();
        // Published: from now on the origin's log accounts for these pairs.
        self.updates
            .arrived(created, || origin.recipients(stream, sender));
        let record = Record { created, sender };
        let recipients = self.streams.publish(&mut self.clients, stream, record);
        for c in recipients {
            if self.clients.cold[c as usize].listening.is_listening() {
                p.on_update(self, c);
            }
        }
    }

    // ------------------------------------------------------------ faults

    fn on_drop(&mut self) {
        let (c, outage) = self.faults.drop(&mut self.clock);
        let now = self.now();
        let outage_end = now + outage;
        if !self.clients.cold[c as usize]
            .outage
            .drop_until(now, outage_end)
        {
            self.trace_note(c, Lane::Client, |_| {
                "network drops again: outage extended".into()
            });
            return;
        }
        self.trace_note(c, Lane::Client, |_| {
            format!("network down for {:.1} s", outage as f64 / 1e9)
        });
        // Open connections break. The server side is freed at once (its RST/timeout is
        // not modelled); the client learns when its network is back.
        for slot in Slot::BOTH {
            self.break_connection(c, slot, Break::Silent, outage_end);
        }
    }

    /// An instance crashes: every connection it held breaks (the kernel resets them, so
    /// clients learn at once); its queued work is gone.
    fn on_crash(&mut self, instance: u32, downtime: Nanos) {
        let now = self.now();
        self.conns.crash(instance, now);
        self.browser_instance_crashed(instance);
        let clients = self.clients.len() as u32;
        if self.trace.is_some() {
            for c in 0..clients {
                if self.main_conn(c).instance() == instance {
                    self.trace_note(c, Lane::Server, |_| format!("instance {instance} crashes"));
                }
            }
        }
        for c in 0..clients {
            for slot in Slot::BOTH {
                let conn = self.conn(c, slot);
                if conn.instance() == instance && conn.state() != ConnState::Closed {
                    let notice = now + self.one_way(c);
                    self.break_connection(c, slot, Break::Clean, notice);
                }
            }
        }
        self.clock
            .schedule(now + downtime, Event::Restart { instance });
    }

    /// A deploy drains an instance: the balancer sends it no new connection; its open
    /// ones stay until closed — with jitter each at its own uniform time within the
    /// drain period (a close the client hears after one way, like a WebSocket 1001/1012
    /// or the end of an SSE response), else all at the period's end, when the instance
    /// stops like a clean crash (`Event::DrainEnd`: what it still holds is closed, its
    /// queued work is gone) and is back after the downtime.
    fn on_drain(&mut self, instance: u32, fault: u32) {
        let now = self.now();
        let (drain, jitter, downtime) = self.faults.deploy(fault);
        self.conns.drain(instance);
        if jitter && drain > 0 {
            for c in 0..self.clients.len() as u32 {
                for slot in Slot::BOTH {
                    let conn = *self.conn(c, slot);
                    if conn.instance() == instance && conn.state() != ConnState::Closed {
                        let at = now + self.faults.drain_offset(drain);
                        let ev = Event::client(c, slot, Step::Drained, conn.generation(), 0);
                        self.clock.schedule(at, ev);
                    }
                }
            }
        }
        self.clock
            .schedule(now + drain, Event::DrainEnd { instance, downtime });
    }

    // ------------------------------------------------------------ chat upstream

    /// Sends the next queued POST if the UPSTREAM connection allows it.
    pub(super) fn upstream_ready(&mut self, c: u32) {
        let Some(created) = self.upstream.next(c) else {
            return;
        };
        let conn = *self.conn(c, Slot::Upstream);
        if self.conn_usable(c, Slot::Upstream) {
            // The message stays queued until its POST is answered (resent if lost).
            self.upstream.sending(c);
            let (bytes, payload) = self.upstream.post_bytes();
            let now = self.now();
            self.send_request_leaving_at(
                now,
                c,
                Slot::Upstream,
                Step::ChatPost,
                created,
                bytes,
                payload,
            );
        } else if conn.state() == ConnState::Idle && !conn.in_use() {
            // About to expire: let it go and open a fresh one.
            self.close_connection(c, Slot::Upstream);
            self.open_connection(c, Slot::Upstream);
        } else if conn.state() == ConnState::Closed {
            self.open_connection(c, Slot::Upstream);
        }
        // Otherwise: connecting or busy; we are called again when it is free.
    }

    /// The server receives a chat message: CPU, then publish and answer.
    fn accept_chat_post(&mut self, c: u32, slot: Slot, created: Nanos) {
        let conn = *self.conn(c, slot);
        let finish = self.cpu(conn.instance(), self.upstream.request_cpu());
        self.schedule_publish(c, finish, created);
        let at = self.conn_mut(c, slot).depart(finish);
        let step = Step::Depart(Response::Posted);
        self.clock
            .schedule(at, Event::client(c, slot, step, conn.generation(), 0));
    }
}
