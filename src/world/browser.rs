//! What the world does for a user's browser (`pool.rs`): a new connection waits for a
//! place, becomes a stream of the user's HTTP/2 connection or opens it; a close gives
//! the place to the next waiting request; an idle connection is handed to one.
//!
//! Every verb here is a no-op when the pool is inactive (HTTP/1.1 with one tab, or
//! WebSockets on connections of their own): the run is then exactly what it was without
//! it.

use crate::engine::Nanos;
use crate::world::event::{Event, Slot, Step};
use crate::world::pool::Carrier;
use crate::world::trace::Lane;
use crate::world::{ConnState, Protocol, World};

impl<P: Protocol> World<P> {
    /// Client `c` wants a new connection on `slot`: true if it goes ahead with a SYN of
    /// its own; false if it waits (for a place or for the user's HTTP/2 connection) or
    /// has become a stream of that connection.
    pub(super) fn browser_lets_connect(&mut self, c: u32, slot: Slot) -> bool {
        if !self.pools.active() {
            return true;
        }
        let now = self.now();
        let conn = *self.conn(c, slot);
        if conn.queued() || conn.riding() {
            return false; // already waiting
        }
        if !conn.holds_place() {
            if !self.pools.take_place(c) {
                self.pools.queue(c, slot, now);
                self.conn_mut(c, slot).set_queued(true);
                let shared = self.pools.shared();
                self.trace_note(c, Lane::Client, |_| {
                    if shared {
                        "waits: the HTTP/2 connection's streams are all in use".to_string()
                    } else {
                        "waits: the browser's 6 connections to this origin are in use".to_string()
                    }
                });
                return false;
            }
            self.conn_mut(c, slot).set_place(true);
        }
        if !self.pools.shared() {
            return true;
        }
        match self.pools.carrier(c) {
            Carrier::None => {
                self.pools.connecting(c);
                true
            }
            Carrier::Connecting => {
                self.pools.ride(c, slot);
                self.conn_mut(c, slot).set_riding(true);
                false
            }
            Carrier::Open { instance, ready_at } => {
                self.attach_stream(c, slot, instance, ready_at);
                false
            }
        }
    }

    /// A new stream on the user's HTTP/2 connection: no SYN, no handshake, no slot of
    /// its own; ready when the connection is.
    fn attach_stream(&mut self, c: u32, slot: Slot, instance: u32, ready_at: Nanos) {
        let now = self.now();
        let conn = self.clients.conn_mut(c, slot);
        conn.connect();
        self.conns.attach(conn, instance, now);
        if ready_at <= now {
            // The connection has carried heads: HPACK's tables hold the shared fields.
            conn.warm_headers();
        }
        let generation = conn.generation();
        self.pools.attach(c);
        self.set_unserved(c, slot, false);
        self.set_state(c, slot, ConnState::Handshake);
        self.trace_note(c, Lane::Client, |_| {
            "a new stream on the user's HTTP/2 connection".to_string()
        });
        let ev = Event::client(c, slot, Step::Ready, generation, 0);
        self.clock.schedule(ready_at.max(now), ev);
        self.schedule_idle_check(c, slot);
    }

    /// Client `c`'s SYN opened its user's HTTP/2 connection on `instance` (handshake
    /// done at `ready_at`): the connection takes its slot and memory, and the requests
    /// that waited for it become its streams.
    pub(super) fn browser_connected(&mut self, c: u32, instance: u32, ready_at: Nanos) {
        if !self.pools.shared() {
            return;
        }
        self.conns.open_shared(instance, self.now());
        for (w, slot) in self.pools.opened(c, instance, ready_at) {
            self.conn_mut(w, slot).set_riding(false);
            self.attach_stream(w, slot, instance, ready_at);
        }
    }

    /// Client `c`'s SYN on `slot` was refused: its place is free again and, under
    /// HTTP/2, the requests that waited for the connection try for themselves.
    pub(super) fn browser_refused(&mut self, c: u32, slot: Slot) {
        if !self.pools.active() {
            return;
        }
        if self.pools.shared() {
            self.retry_riders(c);
        }
        self.give_back_place(c, slot);
    }

    fn retry_riders(&mut self, c: u32) {
        for (w, slot) in self.pools.failed(c) {
            self.conn_mut(w, slot).set_riding(false);
            self.open_connection(w, slot);
        }
    }

    /// Client `c`'s connection on `slot` closes at the server (its state before:
    /// `was`): it stops waiting, leaves the HTTP/2 connection (the last stream closes
    /// it), and gives its place to the next waiting request.
    pub(super) fn browser_closed(&mut self, c: u32, slot: Slot, was: &crate::world::Conn) {
        if !self.pools.active() {
            return;
        }
        let now = self.now();
        if was.queued() {
            self.pools.unqueue(c, slot, now);
            self.conn_mut(c, slot).set_queued(false);
        }
        if was.riding() {
            self.pools.unride(c, slot);
            self.conn_mut(c, slot).set_riding(false);
        }
        if self.pools.shared() {
            if was.state() == ConnState::Connecting {
                // The connection's opener gave up before it was accepted.
                self.retry_riders(c);
            } else if was.is_open() && self.pools.detach(c, was.instance()) {
                self.conns.close_shared(was.instance(), now);
            }
        }
        self.give_back_place(c, slot);
    }

    pub(super) fn give_back_place(&mut self, c: u32, slot: Slot) {
        if !self.conn(c, slot).holds_place() {
            return;
        }
        self.conn_mut(c, slot).set_place(false);
        self.pools.release_place(c);
        let now = self.now();
        if let Some((w, ws)) = self.pools.next_queued(c, now) {
            self.conn_mut(w, ws).set_queued(false);
            self.open_connection(w, ws);
        }
    }

    /// An answer has arrived on client `c`'s connection on `slot`, now idle: if another
    /// request of the user waits for a place, the browser hands the connection to it
    /// (the same connection at the server: no new handshake). Returns whether it did.
    ///
    /// Only a connection a request could still use, as the client's own next request
    /// would ([`World::conn_usable`]): one whose keep-alive ran out while the answer
    /// travelled is being closed by the server, and the request handed it would reach
    /// the server after that.
    ///
    /// Asked at every response: the test for no browser pools (the usual run) is inlined
    /// into the caller, the rest is not.
    #[inline]
    pub(super) fn browser_hands_over(&mut self, c: u32, slot: Slot) -> bool {
        self.pools.active() && self.hand_over_to_a_waiting_tab(c, slot)
    }

    #[inline(never)]
    fn hand_over_to_a_waiting_tab(&mut self, c: u32, slot: Slot) -> bool {
        if !self.pools.has_queued(c) {
            return false;
        }
        if !self.conn_usable(c, slot) {
            return false;
        }
        let now = self.now();
        let Some((w, ws)) = self.pools.next_queued(c, now) else {
            return false;
        };
        let mut from = *self.clients.conn(c, slot);
        let mut to = *self.clients.conn(w, ws);
        from.hand_over(&mut to);
        *self.clients.conn_mut(c, slot) = from;
        *self.clients.conn_mut(w, ws) = to;
        self.trace_note(w, Lane::Client, |_| {
            "the browser hands it an idle connection".to_string()
        });
        let ev = Event::client(w, ws, Step::Ready, to.generation(), 0);
        self.clock.schedule(now, ev);
        self.schedule_idle_check(w, ws);
        true
    }

    /// `instance` crashed: the users' HTTP/2 connections it held are gone (their
    /// streams break one by one after).
    pub(super) fn browser_instance_crashed(&mut self, instance: u32) {
        if !self.pools.shared() {
            return;
        }
        let now = self.now();
        for _ in 0..self.pools.crashed(instance) {
            self.conns.close_shared(instance, now);
        }
    }
}
