//! Connections and admission: every connection's state, and what the servers hold for
//! them.
//!
//! A [`Conn`] is one client connection as the server sees it. Its state changes only
//! through [`Connections`], which keeps the books in step with it: each instance's slots
//! and memory, the deployment-wide gauges (open connections, memory), and the demand the
//! clients put on the deployment — what was held plus, for every refused client still
//! without a connection, what it would hold ([`Unserved`]). It also owns the instances
//! themselves (their CPU queues, up or crashed) and the load balancer that admits new
//! connections to them.
//!
//! Over 600 lines with its unit tests (the code is under 600): a `Conn`'s state and the
//! books it moves are kept in one file so that no state change can skip the books.

use crate::engine::{Nanos, Purpose, RandomStream};
use crate::scenario::{Scenario, ServiceTime, Tls};
use crate::world::balancer::LoadBalancer;
use crate::world::event::Slot;
use crate::world::metrics::{Gauge, HeldPeak, Recorder, Window};
use crate::world::releases::{Release, Releases};
use crate::world::server::{ConnUse, Instance, connection_memory, h2_stream_memory};

const NO_INSTANCE: u32 = u32::MAX;

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

    /// What an open connection in this state holds at the server (`None`: not open).
    fn usage(self) -> Option<ConnUse> {
        match self {
            ConnState::Closed | ConnState::Connecting => None,
            ConnState::Handshake | ConnState::Idle => Some(ConnUse::Idle),
            ConnState::Busy => Some(ConnUse::Request),
            ConnState::Held | ConnState::Stream => Some(ConnUse::Stream),
        }
    }
}

/// One connection of a client. 32 bytes: a client's two of them fill its first cache
/// line.
#[derive(Clone, Copy, Debug)]
pub struct Conn {
    state: ConnState,
    /// [`Conn::IN_USE`]: the client has a request outstanding on it (sent, response not
    /// yet arrived); [`Conn::SENT_HEADERS`], [`Conn::ANSWERED_HEADERS`]: a head has gone
    /// up, or down, on it since it opened (HTTP/2's header compression is warm).
    flags: u8,
    /// Bumped at every open and close; events carry it. 16 bits suffice: a stale event
    /// lives at most a few timeouts, far less than 65,536 reconnections.
    generation: u16,
    instance: u32,
    /// Last time bytes passed (either direction).
    last_activity: Nanos,
    /// Due time of the pending idle check (0 = none pending).
    check_at: Nanos,
    /// Departure time of the last bytes the server sent (TCP delivers in order); 0 =
    /// nothing sent on it yet.
    last_departure: Nanos,
}

impl Conn {
    pub(super) const CLOSED: Conn = Conn {
        state: ConnState::Closed,
        instance: NO_INSTANCE,
        generation: 0,
        last_activity: 0,
        check_at: 0,
        last_departure: 0,
        flags: 0,
    };

    const IN_USE: u8 = 1;
    const SENT_HEADERS: u8 = 2;
    const ANSWERED_HEADERS: u8 = 4;
    /// It holds one of its user's places in the browser (`world/pool.rs`).
    const PLACE: u8 = 8;
    /// It waits in the browser for a place (a connection, or an HTTP/2 stream).
    const QUEUED: u8 = 16;
    /// It waits for the user's HTTP/2 connection to finish its handshake.
    const RIDING: u8 = 32;
    /// What the browser knows of it, kept across opens and closes.
    const POOL_BITS: u8 = Conn::PLACE | Conn::QUEUED | Conn::RIDING;

    /// It holds one of its user's places in the browser.
    #[inline]
    pub(super) fn holds_place(&self) -> bool {
        self.flags & Conn::PLACE != 0
    }

    /// It waits in the browser for a place.
    #[inline]
    pub(super) fn queued(&self) -> bool {
        self.flags & Conn::QUEUED != 0
    }

    /// It waits for the user's HTTP/2 connection.
    #[inline]
    pub(super) fn riding(&self) -> bool {
        self.flags & Conn::RIDING != 0
    }

    pub(super) fn set_place(&mut self, on: bool) {
        self.set_flag(Conn::PLACE, on);
    }

    pub(super) fn set_queued(&mut self, on: bool) {
        self.set_flag(Conn::QUEUED, on);
    }

    pub(super) fn set_riding(&mut self, on: bool) {
        self.set_flag(Conn::RIDING, on);
    }

    fn set_flag(&mut self, bit: u8, on: bool) {
        if on {
            self.flags |= bit;
        } else {
            self.flags &= !bit;
        }
    }

    /// A stream opened on an HTTP/2 connection that has carried heads before: HPACK's
    /// dynamic tables (one per connection, both directions) already hold them.
    pub(super) fn warm_headers(&mut self) {
        self.flags |= Conn::SENT_HEADERS | Conn::ANSWERED_HEADERS;
    }

    /// The browser hands this open, idle connection (with its place) to `to`, a request
    /// of another tab (or slot) that waited for one: the server sees the same
    /// connection; events in flight on either are void.
    pub(super) fn hand_over(&mut self, to: &mut Conn) {
        debug_assert!(self.is_open() && !self.in_use() && !to.is_open());
        let generation = to.generation.wrapping_add(1);
        *to = *self;
        to.generation = generation;
        to.check_at = 0;
        to.flags &= !(Conn::QUEUED | Conn::RIDING);
        self.state = ConnState::Closed;
        self.instance = NO_INSTANCE;
        self.generation = self.generation.wrapping_add(1);
        self.check_at = 0;
        self.flags &= !(Conn::PLACE | Conn::IN_USE);
    }

    pub fn state(&self) -> ConnState {
        self.state
    }

    /// Open at the server (a handshake, idle, busy, held or streaming).
    pub fn is_open(&self) -> bool {
        self.state.usage().is_some()
    }

    /// The client has a request outstanding on it.
    pub fn in_use(&self) -> bool {
        self.flags & Conn::IN_USE != 0
    }

    /// A request head has gone up on it before (HPACK's dynamic table holds its fields).
    #[inline]
    pub(super) fn headers_sent_before(&self) -> bool {
        self.flags & Conn::SENT_HEADERS != 0
    }

    /// An answer's head has come down on it before.
    #[inline]
    pub(super) fn answered_headers_before(&self) -> bool {
        self.flags & Conn::ANSWERED_HEADERS != 0
    }

    /// An answer's head has come down on it before; marks that one has now.
    #[inline]
    pub(super) fn answer_headers_sent(&mut self) -> bool {
        let before = self.flags & Conn::ANSWERED_HEADERS != 0;
        self.flags |= Conn::ANSWERED_HEADERS;
        before
    }

    /// The generation events on this connection carry.
    #[inline]
    pub(super) fn generation(&self) -> u32 {
        u32::from(self.generation)
    }

    /// The instance holding it (meaningful while it is open).
    #[inline]
    pub(super) fn instance(&self) -> u32 {
        self.instance
    }

    pub(super) fn last_activity(&self) -> Nanos {
        self.last_activity
    }

    /// Departure of the last bytes the server sent on it (0 = none yet).
    pub(super) fn last_departure(&self) -> Nanos {
        self.last_departure
    }

    /// Due time of the pending idle check, 0 if none.
    pub(super) fn check_at(&self) -> Nanos {
        self.check_at
    }

    pub(super) fn set_check_at(&mut self, at: Nanos) {
        self.check_at = at;
    }

    /// Bytes passed now.
    #[inline]
    pub(super) fn touch(&mut self, now: Nanos) {
        self.last_activity = now;
    }

    /// The client sent a request on it.
    #[inline]
    pub(super) fn sent(&mut self) {
        self.flags |= Conn::IN_USE | Conn::SENT_HEADERS;
    }

    /// The client has the answer to its request.
    #[inline]
    pub(super) fn answered(&mut self) {
        self.flags &= !Conn::IN_USE;
    }

    /// The SYN of a new connection leaves.
    pub(super) fn connect(&mut self) {
        debug_assert!(!self.is_open());
        self.state = ConnState::Connecting;
        self.generation = self.generation.wrapping_add(1);
        // A new connection: nothing outstanding, and fresh header compression (what the
        // browser knows of it stays).
        self.flags &= Conn::POOL_BITS;
    }

    /// No network: the attempt fails before it starts.
    pub(super) fn fail_offline(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.state = ConnState::Closed;
    }

    /// The server refused the SYN (it never held anything for it).
    pub(super) fn refused(&mut self) {
        self.state = ConnState::Closed;
    }

    /// A response leaves the server at `ready` or, behind bytes already sent, later
    /// (TCP delivers in order): returns when it leaves.
    #[inline]
    pub(super) fn depart(&mut self, ready: Nanos) -> Nanos {
        let at = ready.max(self.last_departure);
        self.last_departure = at;
        at
    }

    /// Bytes pushed on an open stream leave at `ready` or later (see [`Conn::depart`]);
    /// the connection is active until then.
    #[inline]
    pub(super) fn push_departs(&mut self, ready: Nanos) -> Nanos {
        let at = self.depart(ready);
        self.last_activity = self.last_activity.max(at);
        at
    }
}

/// Per slot (bit 1 << slot): the server refused this client's connection and has not
/// admitted one since — demand the deployment did not serve.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Unserved(u8);

/// What setting up a connection costs: CPU at the server, bytes on the wire, round trips.
#[derive(Clone, Copy, Debug)]
pub(super) struct Setup {
    pub tls: Tls,
    /// CPU of the accept (and the TLS handshake, if any).
    pub cpu: Nanos,
    pub tcp_bytes: u64,
    pub tls_bytes: u64,
}

/// The servers and the books of every connection they hold.
pub(super) struct Connections {
    instances: Vec<Instance>,
    balancer: LoadBalancer,
    rng_service: RandomStream,
    service: ServiceTime,
    max_connections: u64,
    memory_limit: u64,
    setup: Setup,
    /// Per [`ConnState`]: server memory a connection holds, and whether it takes a slot
    /// (looked up on every state change, so computed once).
    state_memory: [i64; 7],
    state_open: [i64; 7],
    /// HTTP/2 (a user's requests are streams of one connection, `world/pool.rs`): what
    /// the connection itself holds, once for all its streams (the per-state figures
    /// above are then a stream's). `None` under HTTP/1.1.
    shared_memory: Option<i64>,
    /// Per [`Slot`]: the memory a refused connection would hold (the technique's memory
    /// class on MAIN, an idle connection's on UPSTREAM).
    wanted_memory: [i64; 2],
    window: Window,
    connections: Gauge,
    memory: Gauge,
    /// Connections and memory the clients asked for: what was held plus what refused
    /// clients would hold (only peaks are needed: they size the deployment). `None`
    /// until a client is first refused: until then the demand is what is held, change
    /// for change, and the held gauges' levels stand for it (one update less per change
    /// of state, two per request).
    demand: Option<Demand>,
    /// Requests' memory to give back at their answers' departures, taken early
    /// ([`Connections::set_state_ahead`]).
    releases: Releases,
}

/// The levels of connections and memory asked for, once they differ from those held.
struct Demand {
    connections: HeldPeak,
    memory: HeldPeak,
}

/// The gauges the connections part kept, handed over when the run ends.
pub struct ConnectionBooks {
    pub connections: Gauge,
    pub memory: Gauge,
    pub connection_demand: HeldPeak,
    pub memory_demand: HeldPeak,
}

impl Connections {
    /// `main_holds`: what a MAIN connection of the technique holds while it waits;
    /// `shared`: a [`Conn`] is a stream of its user's HTTP/2 connection, which holds the
    /// slot and the connection's memory ([`Connections::open_shared`]).
    pub fn new(sc: &Scenario, window: Window, main_holds: ConnUse, shared: bool) -> Self {
        let server = &sc.server;
        let network = &sc.network;
        let base_memory = (server.base_memory * server.instances as u64) as i64;
        let mut cpu = server.tcp_accept_cpu;
        if network.tls.round_trips() > 0 {
            cpu += server.tls_handshake_cpu;
        }
        let memory_of = |u| connection_memory(server, u) as i64;
        Connections {
            instances: (0..server.instances)
                .map(|_| Instance::new(server))
                .collect(),
            balancer: LoadBalancer::new(server.balancer),
            rng_service: RandomStream::new(
                sc.seed,
                sc.random_point,
                sc.replication,
                Purpose::Service,
            ),
            service: server.service,
            max_connections: server.max_connections,
            memory_limit: server.memory_limit,
            setup: Setup {
                tls: network.tls,
                cpu,
                tcp_bytes: network.tcp_handshake_bytes,
                tls_bytes: network.tls_handshake_bytes,
            },
            state_memory: ConnState::ALL.map(|s| {
                s.usage().map_or(0, |u| {
                    if shared {
                        h2_stream_memory(server, u) as i64
                    } else {
                        memory_of(u)
                    }
                })
            }),
            state_open: ConnState::ALL.map(|s| (s.usage().is_some() && !shared) as i64),
            shared_memory: shared.then(|| connection_memory(server, ConnUse::Idle) as i64),
            wanted_memory: [memory_of(main_holds), memory_of(ConnUse::Idle)],
            window,
            connections: Gauge::new(&window, 0),
            memory: Gauge::new(&window, base_memory),
            demand: None,
            releases: Releases::default(),
        }
    }

    pub fn setup(&self) -> Setup {
        self.setup
    }

    /// A SYN reaches the load balancer: the instance that admits it, if one has a slot
    /// and memory for an idle connection. The connection is then accepted there.
    pub fn admit(&mut self, conn: &mut Conn, now: Nanos) -> Option<u32> {
        self.settle(now);
        let conn_memory =
            (self.state_memory[ConnState::Idle as usize] + self.shared_memory.unwrap_or(0)) as u64;
        let picked = self.balancer.pick(&self.instances);
        let admitted = picked.filter(|&i| {
            let inst = &self.instances[i as usize];
            inst.connections < self.max_connections
                && inst.memory + conn_memory <= self.memory_limit
        })?;
        conn.instance = admitted;
        conn.last_activity = now;
        // Nothing sent on it yet (see `IdleTimers::due`).
        conn.last_departure = 0;
        Some(admitted)
    }

    /// A stream opens on its user's HTTP/2 connection, held by `instance`: no SYN, no
    /// handshake, no slot of its own.
    pub fn attach(&mut self, conn: &mut Conn, instance: u32, now: Nanos) {
        conn.instance = instance;
        conn.last_activity = now;
        conn.last_departure = 0;
    }

    /// A user's HTTP/2 connection is accepted on `instance`: it takes a slot and the
    /// connection's memory, once for all its streams.
    pub fn open_shared(&mut self, instance: u32, now: Nanos) {
        self.shared_books(instance, 1, now);
    }

    /// A user's HTTP/2 connection closes (its last stream is gone, or its instance
    /// crashed).
    pub fn close_shared(&mut self, instance: u32, now: Nanos) {
        self.shared_books(instance, -1, now);
    }

    fn shared_books(&mut self, instance: u32, sign: i64, now: Nanos) {
        let memory = sign * self.shared_memory.expect("HTTP/2 connections are shared");
        self.book(instance, memory, sign, now);
    }

    /// Adds `delta_mem` bytes and `delta_conn` open connections to `instance` (none for
    /// [`NO_INSTANCE`]) and to the window's gauges: the one place both move together.
    fn book(&mut self, instance: u32, delta_mem: i64, delta_conn: i64, now: Nanos) {
        self.book_memory(instance, delta_mem, now);
        if instance != NO_INSTANCE {
            let inst = &mut self.instances[instance as usize];
            inst.connections = (inst.connections as i64 + delta_conn) as u64;
        }
        let window = &self.window;
        self.connections.add(window, now, delta_conn);
        if let Some(demand) = &mut self.demand {
            demand.memory.add(window, now, delta_mem);
            demand.connections.add(window, now, delta_conn);
        }
    }

    /// The memory part of [`Connections::book`]: `instance`'s and the window's gauge.
    #[inline]
    fn book_memory(&mut self, instance: u32, delta_mem: i64, now: Nanos) {
        self.settle(now);
        self.book_memory_at(instance, delta_mem, now);
    }

    /// [`Connections::book_memory`] once the releases due are booked.
    #[inline]
    fn book_memory_at(&mut self, instance: u32, delta_mem: i64, now: Nanos) {
        if instance != NO_INSTANCE {
            let inst = &mut self.instances[instance as usize];
            inst.memory = (inst.memory as i64 + delta_mem) as u64;
        }
        self.memory.add(&self.window, now, delta_mem);
    }

    /// What a connection going from `old` to `new` moves: bytes of memory, and slots.
    #[inline]
    fn moves(&self, old: ConnState, new: ConnState) -> (i64, i64) {
        (
            self.state_memory[new as usize] - self.state_memory[old as usize],
            self.state_open[new as usize] - self.state_open[old as usize],
        )
    }

    /// Moves a connection to a new state, keeping slot and memory accounting right.
    pub fn set_state(&mut self, conn: &mut Conn, new: ConnState, now: Nanos) {
        let old = conn.state;
        if old == new {
            return;
        }
        conn.state = new;
        let (delta_mem, delta_conn) = self.moves(old, new);
        if delta_conn == 0 && self.demand.is_none() {
            // A request starting or ending on an open connection, twice per poll, while
            // nobody is refused (no demand books): only memory moves, booked here rather
            // than in a call to `book`.
            self.book_memory(conn.instance, delta_mem, now);
            return;
        }
        self.book(conn.instance, delta_mem, delta_conn, now);
    }

    /// [`Connections::set_state`] for a request's answer taken early, leaving at `at`,
    /// later than anything booked so far: the connection changes now, the memory the
    /// request held is given back at `at` (see `releases.rs`), which
    /// [`Connections::releases_ahead_at`]. Only memory may move: the connection stays
    /// open.
    #[inline]
    pub fn set_state_ahead(&mut self, conn: &mut Conn, new: ConnState, at: Nanos) {
        let old = conn.state;
        conn.state = new;
        let (delta_mem, delta_conn) = self.moves(old, new);
        debug_assert_eq!(delta_conn, 0, "{old:?} -> {new:?} ahead of the books");
        if delta_mem != 0 {
            self.releases.push(Release {
                at,
                instance: conn.instance,
                from: old,
                to: new,
            });
        }
    }

    /// Can an answer leaving at `at` give its request's memory back ahead of the books
    /// ([`Connections::set_state_ahead`])? Not when it would leave far out of order
    /// (see `releases.rs`).
    #[inline]
    pub fn releases_ahead_at(&self, at: Nanos) -> bool {
        self.releases.takes(at)
    }

    /// Books the releases due at or before `now`, each at its own time, before
    /// anything else is booked at `now` or read from the books. (The test for none due,
    /// true at nearly every call, is inlined; the booking is not.)
    #[inline]
    fn settle(&mut self, now: Nanos) {
        if self.releases.any_due(now) {
            self.settle_due(now);
        }
    }

    #[inline(never)]
    fn settle_due(&mut self, now: Nanos) {
        while let Some(r) = self.releases.take_due(now) {
            let (memory, _) = self.moves(r.from, r.to);
            self.book_memory_at(r.instance, memory, r.at);
            if let Some(demand) = &mut self.demand {
                demand.memory.add(&self.window, r.at, memory);
            }
        }
    }

    /// Closes a connection at the server; events still in flight on it are void.
    pub fn close(&mut self, conn: &mut Conn, now: Nanos) {
        self.set_state(conn, ConnState::Closed, now);
        conn.instance = NO_INSTANCE;
        conn.generation = conn.generation.wrapping_add(1);
        conn.flags &= !Conn::IN_USE;
        conn.check_at = 0;
    }

    /// The server refused the client's connection on `slot` (`unserved`), or admitted
    /// one. While refused, the client counts as demand not served, with the memory its
    /// connection would hold.
    pub fn set_unserved(&mut self, flags: &mut Unserved, slot: Slot, unserved: bool, now: Nanos) {
        if !unserved && self.refused() == 0 {
            // Nobody is refused, so this client is not: its flags (in its cold record, a
            // miss to memory at 10^6+ clients, on every admission) need not be read.
            return;
        }
        let bit = 1 << slot.index();
        if (flags.0 & bit != 0) == unserved {
            return;
        }
        flags.0 ^= bit;
        self.settle(now);
        let sign = if unserved { 1 } else { -1 };
        let memory = self.wanted_memory[slot.index()];
        let demand = self.demand.get_or_insert_with(|| Demand {
            connections: self.connections.level().clone(),
            memory: self.memory.level().clone(),
        });
        demand.connections.add(&self.window, now, sign);
        demand.memory.add(&self.window, now, sign * memory);
    }

    /// Connections (client and slot) refused and not yet served again — the flags set in
    /// the clients' [`Unserved`]: what the demand counts beyond what is held.
    fn refused(&self) -> i64 {
        self.demand
            .as_ref()
            .map_or(0, |d| d.connections.value() - self.connections.value())
    }

    /// Can the server afford to keep this connection's request open as a stream (a held
    /// long poll, an SSE stream, a socket)? Held memory replaces the request's.
    pub fn stream_fits(&mut self, conn: &Conn, now: Nanos) -> bool {
        self.settle(now);
        let current = self.state_memory[conn.state as usize] as u64;
        let stream = self.state_memory[ConnState::Stream as usize] as u64;
        let extra = stream.saturating_sub(current);
        self.instances[conn.instance as usize].memory + extra <= self.memory_limit
    }

    /// Runs a job on the instance's workers, arriving `now`; returns when it finishes.
    pub fn cpu(
        &mut self,
        instance: u32,
        mean_service: Nanos,
        now: Nanos,
        rec: &mut Recorder,
    ) -> Nanos {
        let service = match self.service {
            ServiceTime::Deterministic => mean_service,
            ServiceTime::Exponential => {
                self.rng_service.exponential(mean_service as f64).round() as Nanos
            }
        };
        let slot = self.instances[instance as usize].run_job(now, service);
        rec.cpu_job(now, slot.start - now, slot.start, slot.finish);
        slot.finish
    }

    /// The instance crashes: it admits nothing and its queued work is gone.
    pub fn crash(&mut self, instance: u32, now: Nanos) {
        let inst = &mut self.instances[instance as usize];
        inst.up = false;
        inst.reset_workers(now);
    }

    /// The instance is drained: it admits nothing new; what it holds keeps running.
    pub fn drain(&mut self, instance: u32) {
        self.instances[instance as usize].up = false;
    }

    pub fn restart(&mut self, instance: u32) {
        self.instances[instance as usize].up = true;
    }

    /// The gauges, when the run is over.
    pub fn into_books(mut self) -> ConnectionBooks {
        // Every release left is due before the end (a departure at or after it is not
        // taken early: it would never happen).
        self.settle(Nanos::MAX);
        let (connection_demand, memory_demand) = self.demand_levels();
        ConnectionBooks {
            connections: self.connections,
            memory: self.memory,
            connection_demand,
            memory_demand,
        }
    }

    /// The levels of connections and memory asked for (see `demand`).
    fn demand_levels(&self) -> (HeldPeak, HeldPeak) {
        match &self.demand {
            Some(d) => (d.connections.clone(), d.memory.clone()),
            None => (
                self.connections.level().clone(),
                self.memory.level().clone(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(max_connections: u64, instances: u32) -> (Scenario, Connections) {
        let mut sc = Scenario::reference();
        sc.server.max_connections = max_connections;
        sc.server.instances = instances;
        let window = Window {
            start: 0,
            end: 1_000,
            bucket: 1_000,
        };
        let c = Connections::new(&sc, window, ConnUse::Stream, false);
        (sc, c)
    }

    fn memory_of(sc: &Scenario, u: ConnUse) -> i64 {
        connection_memory(&sc.server, u) as i64
    }

    #[test]
    fn slots_and_memory_follow_every_state_change() {
        let (sc, mut cs) = setup(10, 1);
        let base = sc.server.base_memory as i64;
        let mut conn = Conn::CLOSED;
        conn.connect();
        assert_eq!(cs.admit(&mut conn, 1), Some(0));
        // Connecting holds nothing yet.
        assert_eq!(cs.connections.value(), 0);
        for (state, usage) in [
            (ConnState::Handshake, ConnUse::Idle),
            (ConnState::Idle, ConnUse::Idle),
            (ConnState::Busy, ConnUse::Request),
            (ConnState::Held, ConnUse::Stream),
            (ConnState::Stream, ConnUse::Stream),
        ] {
            cs.set_state(&mut conn, state, 2);
            assert_eq!(cs.connections.value(), 1, "{state:?}");
            assert_eq!(cs.memory.value(), base + memory_of(&sc, usage), "{state:?}");
            assert_eq!(cs.instances[0].connections, 1);
            assert_eq!(cs.instances[0].memory as i64, cs.memory.value());
        }
        let generation = conn.generation();
        cs.close(&mut conn, 3);
        assert_eq!(cs.connections.value(), 0);
        assert_eq!(cs.memory.value(), base);
        assert_eq!(cs.instances[0].connections, 0);
        assert_ne!(
            conn.generation(),
            generation,
            "a close voids events in flight"
        );
        assert_eq!(conn.instance(), NO_INSTANCE);
    }

    #[test]
    fn admission_refuses_beyond_the_slots() {
        let (_, mut cs) = setup(2, 1);
        let mut conns = [Conn::CLOSED; 3];
        for conn in &mut conns[..2] {
            conn.connect();
            assert!(cs.admit(conn, 0).is_some());
            cs.set_state(conn, ConnState::Handshake, 0);
        }
        conns[2].connect();
        assert_eq!(cs.admit(&mut conns[2], 0), None);
    }

    #[test]
    fn refused_demand_counts_once_per_slot_until_served() {
        let (sc, mut cs) = setup(10, 1);
        let mut flags = Unserved::default();
        cs.set_unserved(&mut flags, Slot::Main, true, 1);
        cs.set_unserved(&mut flags, Slot::Main, true, 2); // already counted
        cs.set_unserved(&mut flags, Slot::Upstream, true, 3);
        let base = sc.server.base_memory as i64;
        let wanted = memory_of(&sc, ConnUse::Stream) + memory_of(&sc, ConnUse::Idle);
        let (connection_demand, memory_demand) = cs.demand_levels();
        assert_eq!(connection_demand.peak(&cs.window), 2);
        assert_eq!(memory_demand.peak(&cs.window), base + wanted);
        assert_eq!(cs.refused(), 2);
        cs.set_unserved(&mut flags, Slot::Main, false, 4);
        cs.set_unserved(&mut flags, Slot::Upstream, false, 4);
        assert_eq!(flags.0, 0);
        assert_eq!(cs.refused(), 0);
        // Nothing held meanwhile: the gauges of what was held never moved.
        assert_eq!(cs.connections.value(), 0);
    }

    #[test]
    fn demand_is_what_is_held_until_a_refusal_and_then_adds_the_refused() {
        let (sc, mut cs) = setup(10, 1);
        let window = cs.window;
        let base = sc.server.base_memory as i64;
        // A connection serving a request holds this much; the refused client would hold
        // a stream's (the technique's class in `setup`).
        let request = memory_of(&sc, ConnUse::Request);
        let mut conn = Conn::CLOSED;
        conn.connect();
        cs.admit(&mut conn, 100);
        cs.set_state(&mut conn, ConnState::Idle, 100);
        cs.set_state(&mut conn, ConnState::Busy, 200);
        cs.set_state(&mut conn, ConnState::Idle, 300);
        // Nobody refused: the demand is what was held, peak for peak.
        let (connections, memory) = cs.demand_levels();
        assert_eq!(connections.peak(&window), 1);
        assert_eq!(memory.peak(&window), cs.memory.peak(&window));
        assert_eq!(memory.peak(&window), base + request);
        // A refusal adds what the refused client would hold; held changes keep counting.
        let mut flags = Unserved::default();
        cs.set_unserved(&mut flags, Slot::Main, true, 400);
        cs.set_state(&mut conn, ConnState::Busy, 500);
        cs.set_state(&mut conn, ConnState::Idle, 600);
        let (connections, memory) = cs.demand_levels();
        assert_eq!(connections.peak(&window), 2);
        let refused = memory_of(&sc, ConnUse::Stream);
        assert_eq!(memory.peak(&window), base + request + refused);
        assert_eq!(cs.memory.peak(&window), base + request);
    }

    /// Two requests whose service overlaps: A in [100, 500), B in [200, 300). Booked
    /// with A's departure taken ahead (at 100, for 500), the books are those of the
    /// changes booked in time order: the same peak (both held over [200, 300)), mean,
    /// per-bucket means and instance level — with a refusal at 400 in between, the
    /// demand's too.
    #[test]
    fn a_release_booked_ahead_keeps_the_books_of_one_booked_in_order() {
        let books = |ahead: bool| {
            let (_, mut cs) = setup(10, 1);
            let window = cs.window;
            let (mut a, mut b) = (Conn::CLOSED, Conn::CLOSED);
            for conn in [&mut a, &mut b] {
                conn.connect();
                cs.admit(conn, 0).expect("a slot");
                cs.set_state(conn, ConnState::Idle, 0);
            }
            cs.set_state(&mut a, ConnState::Busy, 100);
            if ahead {
                assert!(cs.releases_ahead_at(500));
                cs.set_state_ahead(&mut a, ConnState::Idle, 500);
            }
            cs.set_state(&mut b, ConnState::Busy, 200);
            cs.set_state(&mut b, ConnState::Idle, 300);
            let mut flags = Unserved::default();
            cs.set_unserved(&mut flags, Slot::Main, true, 400);
            if !ahead {
                cs.set_state(&mut a, ConnState::Idle, 500);
            }
            cs.set_unserved(&mut flags, Slot::Main, false, 600);
            let instance_memory = cs.instances[0].memory;
            let books = cs.into_books();
            (
                books.memory.peak(&window),
                books.memory.mean(&window),
                books.memory.bucket_means(&window),
                books.memory_demand.peak(&window),
                books.memory.value(),
                instance_memory,
            )
        };
        let (in_order, ahead) = (books(false), books(true));
        assert_eq!(ahead, in_order);
        let (sc, _) = setup(10, 1);
        let (base, request) = (
            sc.server.base_memory as i64,
            memory_of(&sc, ConnUse::Request) - memory_of(&sc, ConnUse::Idle),
        );
        let idle = 2 * memory_of(&sc, ConnUse::Idle);
        assert_eq!(in_order.0, base + idle + 2 * request);
        assert_eq!(in_order.4, base + idle);
    }

    #[test]
    fn a_stream_fits_only_within_the_memory_limit() {
        // A held request replaces the request's memory: only the difference must fit.
        let (mut sc, _) = setup(10, 1);
        sc.server.memory_per_request = 1_000;
        sc.server.memory_per_stream = 5_000;
        let window = Window {
            start: 0,
            end: 1_000,
            bucket: 1_000,
        };
        let mut cs = Connections::new(&sc, window, ConnUse::Stream, false);
        let mut conn = Conn::CLOSED;
        conn.connect();
        cs.admit(&mut conn, 0);
        cs.set_state(&mut conn, ConnState::Busy, 0);
        let held = sc.server.base_memory + connection_memory(&sc.server, ConnUse::Stream);
        cs.memory_limit = held;
        assert!(cs.stream_fits(&conn, 0));
        cs.memory_limit = held - 1;
        assert!(!cs.stream_fits(&conn, 0));
    }
}
