//! The world's clock — the event queue — and the quiet-world shortcut, the one place
//! that may run a client's step ahead of it.
//!
//! In a world without fault processes (no network drops, no crashes) nothing but the
//! client itself and its connections' idle deadlines, known in advance, can touch a
//! client between its own events. Five steps are then taken without an event of their
//! own, on the client's clock ([`Clock::now`] during such a step):
//!
//! - a short poll sent later, by a timer, is scheduled straight to its arrival at the
//!   server ([`World::get_since_cursor_at`]): one event per poll instead of two;
//! - an answer leaves the server when its request arrives (or, for a long poll, when
//!   the server decides to answer), if the technique does not look at the connection
//!   meanwhile ([`Protocol::DEPART_IS_LOCAL`]) and no idle check falls due first
//!   ([`World::answer_leaves`]). Its request's memory is shared with every other
//!   client — an instance's level, the deployment's peak — so it is not freed then but
//!   given back at the departure's time, before anything later is booked
//!   (`releases.rs`);
//! - a response whose arrival the technique handles locally
//!   ([`Protocol::response_is_local`]: short polling's next poll, long polling's next
//!   request; a connection to open instead, which touches the instance's books, is
//!   left to a timer due at the arrival, [`World::taken_early`]) is handled when it
//!   leaves the server — unless
//!   the client is a tab whose browser can run out of connections (or HTTP/2 streams)
//!   for its tabs
//!   (`[workload] tabs`): the arrival may hand the connection to another tab waiting
//!   for one, a client of its own;
//! - events pushed on an open SSE stream or WebSocket reach the client when they leave
//!   the server ([`World::push_arrives`]), unless an earlier push is still on its way
//!   as an event or the stream could be closed for silence first; and a frame the
//!   client will send on its open socket, a WebSocket's pong, is scheduled straight to
//!   its arrival at the server ([`World::send_frame_at`]).
//!
//! Nothing else can reach the client meanwhile, so the results are those of the
//! event-by-event run: `steps_taken_early_change_nothing_but_the_event_count` in
//! `tests/properties.rs` compares the two (`sim::simulate_every_step`). Only the number
//! of events differs — and, where two events fall on the same nanosecond, their order:
//! a step taken early schedules what follows it earlier, and simultaneous events run in
//! the order they were scheduled. Constant round trips under a saturated CPU (and the
//! tabs of one user, which share its round trip) make such ties; counts stay identical,
//! waits and latencies move in their last digits
//! (`with_simultaneous_events_only_their_order_differs`). A world made of ties — every
//! client joining at one instant with one round trip, behind a connection limit — can
//! move by several per cent: the order decides who is refused first. (So can a memory
//! limit met at the very nanosecond an answer leaves: its request's memory, given back
//! ahead of the books, goes before anything else booked at that instant.) Continuous
//! round trips meet such ties too, now and then: a few thousand events over some 10^10
//! nanoseconds put two on one nanosecond in about one small world in 30,000. So the
//! event-by-event run counts its simultaneous events ([`Clock::simultaneous`]), and the
//! property tests ask for identical results where there are none. No other module
//! reads or sets the client clock.

use crate::engine::{EventQueue, Nanos};
use crate::world::event::{ClientEvent, Code, Event, Response, Slot, Step};
use crate::world::{ConnState, Protocol, World};

pub(super) struct Clock {
    queue: EventQueue<Event>,
    /// End of the run (the measured window's end).
    end: Nanos,
    /// No fault process can act on a client: steps nothing else can observe may be
    /// taken early (see the module note).
    quiet: bool,
    /// The current time: the queue's (the event popped last), or during a client step
    /// taken early, that step's. Kept here rather than chosen at every call (the run
    /// asks for the time several times per event).
    now: Nanos,
    /// Whether an event due at or after the end was scheduled (and not kept: see
    /// [`Clock::schedule`]).
    scheduled_past_end: bool,
    /// Whether the run has looked for an event past the end and found none left.
    ran_out: bool,
    /// Every step is an event (the reference run the shortcut is tested against): the
    /// events that share their nanosecond with the one before are counted.
    every_step: bool,
    /// The last event's time (`Nanos::MAX` before the first), and how many events came
    /// at the same nanosecond as the one before them (when `every_step`).
    last_popped: Nanos,
    simultaneous: u64,
}

impl Clock {
    pub fn new(end: Nanos, quiet: bool) -> Self {
        Clock {
            queue: EventQueue::new(),
            end,
            quiet,
            now: 0,
            scheduled_past_end: false,
            ran_out: false,
            every_step: false,
            last_popped: Nanos::MAX,
            simultaneous: 0,
        }
    }

    /// Takes queue storage for `events` pending events from what a finished run on this
    /// thread left (see `engine/hugepages.rs`).
    pub fn take_spare_storage(&mut self, events: usize) {
        self.queue.take_spare_storage(events);
    }

    /// The current time: the queue's, or during a step taken early, that step's.
    #[inline]
    pub fn now(&self) -> Nanos {
        self.now
    }

    pub fn end(&self) -> Nanos {
        self.end
    }

    /// Schedules `event` at `at`. An event due at or after the end of the run would
    /// never run, so it is not kept. Nearly every client schedules two of them in a
    /// run's last minute — its connection's idle check, pushed a minute on, and its
    /// last poll — and keeping them cost a write to the queue each (short polling at
    /// 2 × 10^4 clients: 0.9 % of its instructions; long polling: 3.2 %).
    #[inline]
    pub fn schedule(&mut self, at: Nanos, event: Event) {
        if at >= self.end {
            self.scheduled_past_end = true;
            return;
        }
        self.queue.schedule(at, event);
    }

    /// Schedules `event` `delay` after the queue's time (for the world's own processes,
    /// never run early).
    #[inline]
    pub fn schedule_in(&mut self, delay: Nanos, event: Event) {
        self.schedule(self.queue.now().saturating_add(delay), event);
    }

    /// The next event before the end of the run. Inlined in the run loop, as the
    /// queue's `pop` is (a call here cost ~20 instructions per event). The reference
    /// run's count of simultaneous events costs other runs a test of a flag (2
    /// instructions per event: +0.35 % for short polling at 2 × 10^4 clients; a second
    /// copy of the run loop without it cost +2 %, as the compiler then inlined less).
    #[inline(always)]
    pub fn next(&mut self) -> Option<Event> {
        match self.queue.pop() {
            Some((at, event)) => {
                if self.every_step {
                    self.count_simultaneous(at);
                }
                self.now = at;
                Some(event)
            }
            None => {
                self.ran_out = true;
                None
            }
        }
    }

    /// The event [`Clock::next`] returns `k` calls from now, if already known cheaply.
    #[inline]
    pub fn upcoming(&self, k: usize) -> Option<&Event> {
        self.queue.peek_sorted(k)
    }

    /// Events popped so far.
    pub fn events(&self) -> u64 {
        // Counted as if the events past the end had been kept: the run then took the
        // first of them from the queue to see that the end had come. (The count is
        // reported with each run — the benchmark, the progress line — and how the queue
        // is kept should not move it.)
        let past_end_taken = u64::from(self.ran_out && self.scheduled_past_end);
        self.queue.popped() + past_end_taken
    }

    /// Schedules every step as an event (for tests that check the shortcut), and
    /// counts the events that share their nanosecond with the one before.
    pub fn schedule_every_step(&mut self) {
        self.quiet = false;
        self.every_step = true;
    }

    #[cold]
    fn count_simultaneous(&mut self, at: Nanos) {
        self.simultaneous += u64::from(at == self.last_popped);
        self.last_popped = at;
    }

    /// Events that came at the same nanosecond as the one before them, in a run with
    /// every step an event (0 otherwise). They run in the order they were scheduled,
    /// which a step taken early may change (see the module note).
    pub fn simultaneous(&self) -> u64 {
        self.simultaneous
    }

    /// May a client step due at `at` (now or later, inside the run) be taken now,
    /// provided nothing the client owns can change before then?
    #[inline]
    fn may_take_early(&self, at: Nanos) -> bool {
        self.quiet && at >= self.now() && at < self.end
    }

    /// Is a step being taken early, ahead of the queue's time?
    #[inline]
    fn ahead(&self) -> bool {
        self.now > self.queue.now()
    }
}

impl<P: Protocol> World<P> {
    /// What every step taken early below asks first: a quiet world, `at` inside the
    /// run, no trace recording (its messages are kept in the order they are sent), and
    /// no browser that may hand a connection from one tab to another.
    #[inline]
    fn may_run_early(&self, at: Nanos) -> bool {
        self.clock.may_take_early(at) && self.trace.is_none() && !self.pools.may_queue()
    }

    /// Runs `step` on the client's clock, at `at`, then returns to the queue's time.
    #[inline(always)]
    fn on_client_clock(&mut self, at: Nanos, step: impl FnOnce(&mut Self)) {
        let saved = std::mem::replace(&mut self.clock.now, at);
        step(self);
        self.clock.now = saved;
    }

    /// Is the step running now taken early, ahead of the queue's time (see the module
    /// note)? A technique whose response is local asks, to leave what is not its
    /// business alone (opening a connection) to a timer due at the step's time.
    #[inline]
    pub fn taken_early(&self) -> bool {
        self.clock.ahead()
    }

    /// The client will send `GET …?since=<cursor>` on MAIN at `at`, which is later than
    /// now — what a timer that then calls [`World::get_since_cursor_or_connect`] would
    /// do. In a quiet world (see the module note), if the connection will still be usable
    /// at `at` (its keep-alive and proxy deadlines are known now), the request is
    /// scheduled straight to its arrival at the server. Returns false when that cannot
    /// be promised; the caller then sets a timer.
    ///
    /// The client's cursor cannot change before `at` either: it has no other request
    /// outstanding on MAIN.
    #[inline]
    pub fn get_since_cursor_at(&mut self, c: u32, at: Nanos, req: P::Request, bytes: u64) -> bool {
        if !self.clock.may_take_early(at) || !self.conn_usable_at(c, Slot::Main, at) {
            return false;
        }
        let since = self.feed(c).cursor();
        self.send_request_leaving_at(
            at,
            c,
            Slot::Main,
            Step::Request(req.code()),
            since,
            bytes,
            0,
        );
        true
    }

    /// The client will send `frame` on its open socket at `at`, later than now — what a
    /// timer that then finds the socket open would do. In a quiet world (see the module
    /// note), when the socket cannot close before then — nothing but the proxy's idle
    /// timeout closes an open stream there, and it cannot run out first: the stream is
    /// not due to go silent before `at`, and whatever passes on it from now on keeps it
    /// open for `stream_silence` more (see [`World::push_arrives`]) — the frame leaves
    /// now, on the client's clock, scheduled straight to its arrival at the server.
    /// Returns false when that cannot be promised; the caller then sets a timer.
    pub fn send_frame_at(
        &mut self,
        c: u32,
        at: Nanos,
        frame: P::Frame,
        arg: u64,
        bytes: u64,
        payload: u64,
    ) -> bool {
        let now = self.now();
        let main = &self.clients.hot[c as usize].main;
        let early = self.may_run_early(at)
            && main.state() == ConnState::Stream
            && at < self.idle.due(main)
            && at - now < self.idle.stream_silence();
        if early {
            self.on_client_clock(at, |w| w.send_frame(c, frame, arg, bytes, payload));
        }
        early
    }

    /// The answer to a MAIN request will leave the server at `at` (its CPU done). When
    /// nothing can reach the connection before then — a quiet world, inside the run,
    /// no idle check due first, a technique that does not look
    /// ([`Protocol::DEPART_IS_LOCAL`]) — the departure runs now, on the client's clock;
    /// the memory the request holds is given back at `at` all the same
    /// ([`World::answer_left`]), unless it would leave far out of order (`releases.rs`).
    /// Not while a trace records (its messages are kept in the order they are sent),
    /// nor for a tab whose browser can run out of connections for its tabs: the
    /// browser's steps for its other tabs handle this one's connections too. (A property
    /// run found it: 8 chatting tabs of long polling, whose queue waits moved when their
    /// answers were taken early; `tests/properties.proptest-regressions` keeps it.)
    #[inline]
    pub(super) fn answer_leaves(&mut self, p: &mut P, ev: ClientEvent, at: Nanos) {
        let early =
            P::DEPART_IS_LOCAL && self.may_run_early(at) && self.conns.releases_ahead_at(at) && {
                let check = self.conn(ev.client, ev.slot).check_at();
                check == 0 || check > at
            };
        if early {
            let Step::Depart(resp) = ev.step else {
                unreachable!("an answer departs")
            };
            self.on_client_clock(at, |w| w.on_depart(p, ev, resp));
        } else {
            self.clock.schedule(at, Event::Client(ev));
        }
    }

    /// The answer on `slot` has left: the connection is idle again. Taken early, the
    /// memory its request held is released at the departure's time, not the queue's.
    #[inline]
    pub(super) fn answer_left(&mut self, c: u32, slot: Slot) {
        if self.clock.ahead() {
            let at = self.now();
            let conn = self.clients.conn_mut(c, slot);
            self.conns.set_state_ahead(conn, ConnState::Idle, at);
        } else {
            self.set_state(c, slot, ConnState::Idle);
        }
    }

    /// Events pushed on an open stream reach the client at `arrival`; the bytes before
    /// them on the connection left the server at `earlier_left` (0 if none). Where
    /// nothing can reach the client or the stream while they travel, the arrival — the
    /// deliveries, the client's cursor — runs now, on the client's clock:
    ///
    /// - a quiet world, inside the run, no trace recording, no browser that may hand a
    ///   connection between tabs;
    /// - no idle check can close the stream first: whatever passes on it from now on
    ///   keeps it open for `stream_silence` more, and the arrival comes sooner (a
    ///   frame from the client marks the stream active when it arrives, which may be
    ///   before this push leaves a busy server: so the arrival is measured from now,
    ///   not from the departure);
    /// - no earlier push on the connection is still on its way as an event (TCP
    ///   delivers in order; taken early, this one would be delivered before it).
    ///
    /// The client reads nothing of its stream meanwhile: an open SSE stream or WebSocket
    /// only receives, and its position is read again only when it reconnects, which a
    /// quiet world's open stream does not.
    pub(super) fn push_arrives(&mut self, ev: ClientEvent, earlier_left: Nanos, arrival: Nanos) {
        let now = self.now();
        let c = ev.client;
        let early = self.may_run_early(arrival)
            && arrival - now < self.idle.stream_silence()
            && earlier_left + self.one_way(c) < now;
        if early {
            self.on_client_clock(arrival, |w| w.deliver(c, ev.arg));
        } else {
            self.clock.schedule(arrival, Event::Client(ev));
        }
    }

    /// A response leaves the server for the client, arriving at `arrival`. When nothing
    /// can reach the client while it travels (a quiet world, MAIN, inside the run, no
    /// idle timer closing the connection first) and what the technique does on arrival
    /// touches only the client, the arrival runs now, on the client's clock. Not when
    /// the client is a tab whose browser can run out of connections (or HTTP/2 streams)
    /// for its tabs: on arrival the browser may hand the connection, now idle, to another
    /// tab waiting for one — a step of another client, which must not run early.
    pub(super) fn response_leaves(
        &mut self,
        p: &mut P,
        ev: ClientEvent,
        resp: Response,
        arrival: Nanos,
    ) {
        let early = self.clock.may_take_early(arrival)
            && !self.pools.may_queue()
            && ev.slot == Slot::Main
            && arrival < self.idle.due(&self.clients.hot[ev.client as usize].main)
            && p.response_is_local(resp);
        if early {
            self.on_client_clock(arrival, |w| w.on_response_arrival(p, ev, resp));
        } else {
            self.clock.schedule(arrival, Event::Client(ev));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_at_or_after_the_end_are_not_returned() {
        let mut clock = Clock::new(100, true);
        clock.schedule(50, Event::Drop);
        clock.schedule(100, Event::UpdateTick);
        assert_eq!(clock.next(), Some(Event::Drop));
        assert_eq!(clock.now(), 50);
        assert_eq!(clock.next(), None);
        assert_eq!(clock.events(), 2);
    }

    #[test]
    fn events_past_the_end_are_not_kept_but_counted_as_before() {
        // Kept, the first of them was taken from the queue to find the end: counted.
        let mut clock = Clock::new(100, true);
        clock.schedule(150, Event::UpdateTick);
        clock.schedule_in(100, Event::Drop);
        assert_eq!(clock.queue.len(), 0);
        assert_eq!(clock.events(), 0);
        assert_eq!(clock.next(), None);
        assert_eq!(clock.events(), 1);
        // A run whose queue empties before the end took nothing more.
        let mut clock = Clock::new(100, true);
        clock.schedule(99, Event::Drop);
        assert_eq!(clock.next(), Some(Event::Drop));
        assert_eq!(clock.next(), None);
        assert_eq!(clock.events(), 1);
    }

    #[test]
    fn the_reference_run_counts_events_that_share_a_nanosecond_with_the_one_before() {
        let mut clock = Clock::new(100, true);
        clock.schedule_every_step();
        for at in [0, 5, 5, 7, 7, 7, 9] {
            clock.schedule(at, Event::Drop);
        }
        while clock.next().is_some() {}
        assert_eq!(
            clock.simultaneous(),
            3,
            "the second 5 and the second and third 7"
        );
        // The first event shares its nanosecond with nothing, even at time 0.
        let mut clock = Clock::new(100, true);
        clock.schedule_every_step();
        clock.schedule(0, Event::Drop);
        assert!(clock.next().is_some());
        assert_eq!(clock.simultaneous(), 0);
    }

    #[test]
    fn only_a_quiet_world_takes_steps_early_and_only_inside_the_run() {
        let mut clock = Clock::new(100, true);
        assert!(clock.may_take_early(0));
        assert!(clock.may_take_early(99));
        assert!(!clock.may_take_early(100));
        clock.schedule_every_step();
        assert!(!clock.may_take_early(10));
    }
}
