//! A user's browser: the connections its tabs share, and the requests that wait for one.
//!
//! With `[workload] tabs = T`, clients come in users of T consecutive tabs (client `c`
//! belongs to user `c / T`); each tab is a client of its own (its own poller or stream,
//! its own latency and bytes), but the tabs of one user open their connections from one
//! browser, which limits what it holds to one origin:
//!
//! - over HTTP/1.1, at most `Browser::connections_per_origin` (6) connections at once;
//!   a tab that wants a seventh waits in the browser until one of the user's connections
//!   closes or, idle after an answer, is handed to it (the browser reuses an idle
//!   kept-alive connection for the next queued request: no new handshake);
//! - over HTTP/2, one connection carries all of the user's requests (every tab's polls
//!   or streams and its chat POSTs) as streams, at most `max_concurrent_streams` at
//!   once; a request beyond it waits in the browser until a stream ends. The first tab
//!   to connect opens the connection (the only handshake); others that ask meanwhile
//!   wait for it (`riders`); the connection closes when its last stream is gone.
//!
//! A place is held by a [`Conn`](crate::world::Conn) from the moment it starts to open
//! to its close (a stream's place under HTTP/2 the same way: from the request's
//! connection "opening" to its close), so a poller between two polls keeps its place
//! until keep-alive closes it or it is handed to a waiting request. Waiting requests are
//! served first come, first served, and counted (`tabs_stalled`: the mean number
//! waiting over the window).
//!
//! Inactive (no per-user state at all, today's behaviour exactly) when no limit can bind:
//! HTTP/1.1 with one tab (2 connections at most), and WebSockets on connections of their
//! own, which browsers do not count against the 6 (Chromium allows 255 per host, Firefox
//! 200 in all: above 2 × `MAX_TABS`). A WebSocket over HTTP/2 (RFC 8441) is a stream of
//! the user's connection like any other.

use std::collections::{BTreeMap, VecDeque};

use crate::engine::Nanos;
use crate::scenario::Scenario;
use crate::world::event::Slot;
use crate::world::metrics::{Gauge, Window};

/// Where a user's HTTP/2 connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Carrier {
    /// No connection: the next request opens one.
    None,
    /// Its SYN is on the way; requests wait for it.
    Connecting,
    /// Accepted by `instance`; its handshake is done at `ready_at`.
    Open { instance: u32, ready_at: Nanos },
}

/// One user's share of the browser: 16 bytes.
#[derive(Clone, Copy, Debug)]
struct User {
    ready_at: Nanos,
    instance: u32,
    /// Places taken: connections (HTTP/1.1) or streams (HTTP/2) open or opening.
    places: u8,
    /// HTTP/2: streams attached to the open connection.
    attached: u8,
    /// HTTP/2: 0 no connection, 1 connecting, 2 open.
    carrier: u8,
}

const NO_CARRIER: u8 = 0;
const CONNECTING: u8 = 1;
const OPEN: u8 = 2;

/// The browsers of every user.
pub(super) struct Pools {
    tabs: u32,
    /// Places per user: connections (HTTP/1.1) or concurrent streams (HTTP/2).
    places: u32,
    /// HTTP/2: a user's requests are streams of one connection.
    shared: bool,
    /// Can a request ever wait for a place? Not when every tab's connections (one per
    /// slot, MAIN and UPSTREAM, at most) fit in a user's places.
    may_queue: bool,
    /// Empty when inactive.
    users: Vec<User>,
    /// Per user with any: requests waiting for a place, first come first served.
    queued: BTreeMap<u32, VecDeque<(u32, Slot)>>,
    /// Per user with any: requests (with a place) waiting for the connection's handshake.
    riders: BTreeMap<u32, Vec<(u32, Slot)>>,
    window: Window,
    /// Requests waiting for a place (`tabs_stalled`).
    stalled: Gauge,
}

impl Pools {
    /// `pooled`: the technique's connections come from the browser's HTTP pool;
    /// `h2`: its requests travel over HTTP/2.
    pub fn new(sc: &Scenario, window: Window, pooled: bool, h2: bool) -> Self {
        let tabs = sc.workload.tabs.max(1);
        let shared = pooled && h2;
        let active = shared || (pooled && tabs > 1);
        let places = if h2 {
            sc.server.max_concurrent_streams
        } else {
            sc.workload.browser.connections_per_origin()
        };
        let users = if active {
            let n = sc.workload.clients.div_ceil(tabs) as usize;
            vec![
                User {
                    ready_at: 0,
                    instance: 0,
                    places: 0,
                    attached: 0,
                    carrier: NO_CARRIER,
                };
                n
            ]
        } else {
            Vec::new()
        };
        Pools {
            tabs,
            places,
            shared,
            may_queue: active && tabs * Slot::BOTH.len() as u32 > places,
            users,
            queued: BTreeMap::new(),
            riders: BTreeMap::new(),
            stalled: Gauge::new(&window, 0),
            window,
        }
    }

    /// Does the browser limit anything in this run?
    #[inline]
    pub fn active(&self) -> bool {
        !self.users.is_empty()
    }

    /// Can a request ever wait for a place (and so be handed a connection another tab
    /// frees)?
    #[inline]
    pub fn may_queue(&self) -> bool {
        self.may_queue
    }

    /// Are a user's requests streams of one HTTP/2 connection?
    #[inline]
    pub fn shared(&self) -> bool {
        self.shared
    }

    fn user(&self, c: u32) -> u32 {
        c / self.tabs
    }

    fn at(&mut self, c: u32) -> &mut User {
        let u = self.user(c) as usize;
        &mut self.users[u]
    }

    /// Takes a place for client `c`'s new connection, if its user has one free.
    pub fn take_place(&mut self, c: u32) -> bool {
        let places = self.places;
        let user = self.at(c);
        if u32::from(user.places) >= places {
            return false;
        }
        user.places += 1;
        true
    }

    /// Gives a place back.
    pub fn release_place(&mut self, c: u32) {
        let user = self.at(c);
        debug_assert!(user.places > 0);
        user.places -= 1;
    }

    /// A request of client `c` on `slot` waits for a place.
    pub fn queue(&mut self, c: u32, slot: Slot, now: Nanos) {
        let u = self.user(c);
        self.queued.entry(u).or_default().push_back((c, slot));
        self.stalled.add(&self.window, now, 1);
    }

    /// Does anyone of client `c`'s user wait for a place?
    pub fn has_queued(&self, c: u32) -> bool {
        self.queued.contains_key(&self.user(c))
    }

    /// Does a request of client `c` itself wait for a place (a stalled tab)?
    pub fn is_waiting(&self, c: u32) -> bool {
        self.queued
            .get(&self.user(c))
            .is_some_and(|queue| queue.iter().any(|&(w, _)| w == c))
    }

    /// The first request of client `c`'s user waiting for a place, no longer waiting.
    pub fn next_queued(&mut self, c: u32, now: Nanos) -> Option<(u32, Slot)> {
        let u = self.user(c);
        let queue = self.queued.get_mut(&u)?;
        let next = queue.pop_front();
        if queue.is_empty() {
            self.queued.remove(&u);
        }
        if next.is_some() {
            self.stalled.add(&self.window, now, -1);
        }
        next
    }

    /// Client `c`'s request on `slot` no longer waits (its user left).
    pub fn unqueue(&mut self, c: u32, slot: Slot, now: Nanos) {
        let u = self.user(c);
        if let Some(queue) = self.queued.get_mut(&u) {
            let before = queue.len();
            queue.retain(|&w| w != (c, slot));
            if queue.len() < before {
                self.stalled.add(&self.window, now, -1);
            }
            if queue.is_empty() {
                self.queued.remove(&u);
            }
        }
    }

    /// Where client `c`'s user's HTTP/2 connection is.
    pub fn carrier(&self, c: u32) -> Carrier {
        let user = &self.users[self.user(c) as usize];
        match user.carrier {
            NO_CARRIER => Carrier::None,
            CONNECTING => Carrier::Connecting,
            _ => Carrier::Open {
                instance: user.instance,
                ready_at: user.ready_at,
            },
        }
    }

    /// Client `c` opens its user's HTTP/2 connection.
    pub fn connecting(&mut self, c: u32) {
        self.at(c).carrier = CONNECTING;
    }

    /// A request waits for the user's connection to be accepted.
    pub fn ride(&mut self, c: u32, slot: Slot) {
        let u = self.user(c);
        self.riders.entry(u).or_default().push((c, slot));
    }

    /// Client `c`'s request on `slot` no longer waits for the connection.
    pub fn unride(&mut self, c: u32, slot: Slot) {
        let u = self.user(c);
        if let Some(riders) = self.riders.get_mut(&u) {
            riders.retain(|&w| w != (c, slot));
            if riders.is_empty() {
                self.riders.remove(&u);
            }
        }
    }

    /// The user's connection is accepted by `instance` (its first stream attached):
    /// returns the requests that waited for it.
    pub fn opened(&mut self, c: u32, instance: u32, ready_at: Nanos) -> Vec<(u32, Slot)> {
        let user = self.at(c);
        user.carrier = OPEN;
        user.instance = instance;
        user.ready_at = ready_at;
        user.attached = 1;
        let u = self.user(c);
        self.riders.remove(&u).unwrap_or_default()
    }

    /// The user's connection failed before it was accepted (refused, or its opener
    /// gave up): returns the requests that waited for it, to try again.
    pub fn failed(&mut self, c: u32) -> Vec<(u32, Slot)> {
        self.at(c).carrier = NO_CARRIER;
        let u = self.user(c);
        self.riders.remove(&u).unwrap_or_default()
    }

    /// A stream attaches to the user's open connection.
    pub fn attach(&mut self, c: u32) {
        self.at(c).attached += 1;
    }

    /// A stream on `instance` closes: true if it was the connection's last (the
    /// connection then closes).
    pub fn detach(&mut self, c: u32, instance: u32) -> bool {
        let user = self.at(c);
        if user.carrier != OPEN || user.instance != instance {
            // The connection is already gone (its instance crashed).
            return false;
        }
        debug_assert!(user.attached > 0);
        user.attached -= 1;
        if user.attached == 0 {
            user.carrier = NO_CARRIER;
            return true;
        }
        false
    }

    /// `instance` crashed: every user connection it held is gone. Returns how many (the
    /// caller frees their slots and memory); their streams break one by one after.
    pub fn crashed(&mut self, instance: u32) -> u32 {
        let mut gone = 0;
        for user in &mut self.users {
            if user.carrier == OPEN && user.instance == instance {
                user.carrier = NO_CARRIER;
                user.attached = 0;
                gone += 1;
            }
        }
        gone
    }

    /// The gauge of waiting requests, when the run is over.
    pub fn into_stalled(self) -> Gauge {
        self.stalled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pools(tabs: u32, h2: bool, streams: u32) -> Pools {
        let mut sc = Scenario::reference();
        sc.workload.clients = 4 * tabs;
        sc.workload.tabs = tabs;
        sc.server.max_concurrent_streams = streams;
        let window = Window {
            start: 0,
            end: 100,
            bucket: 100,
        };
        Pools::new(&sc, window, true, h2)
    }

    #[test]
    fn a_user_costs_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<User>(), 16);
    }

    #[test]
    fn one_tab_over_http1_keeps_no_state() {
        assert!(!pools(1, false, 100).active());
        assert!(pools(2, false, 100).active());
        assert!(pools(1, true, 100).shared());
    }

    #[test]
    fn the_seventh_connection_of_a_user_waits_first_come_first_served() {
        let mut p = pools(8, false, 100);
        // User 1 is clients 8..16.
        for c in 8..14 {
            assert!(p.take_place(c), "tab {c}");
        }
        assert!(!p.take_place(14));
        p.queue(14, Slot::Main, 1);
        p.queue(15, Slot::Main, 2);
        // Another user is not affected.
        assert!(p.take_place(0));
        assert!(p.has_queued(9) && !p.has_queued(0));
        p.release_place(8);
        assert_eq!(p.next_queued(8, 3), Some((14, Slot::Main)));
        assert!(p.take_place(14));
        p.unqueue(15, Slot::Main, 4);
        assert!(!p.has_queued(8));
        assert_eq!(p.stalled.value(), 0);
    }

    #[test]
    fn an_http2_connection_closes_with_its_last_stream() {
        let mut p = pools(3, true, 2);
        assert_eq!(p.carrier(0), Carrier::None);
        p.connecting(0);
        p.ride(1, Slot::Main);
        assert_eq!(p.opened(0, 7, 50), vec![(1, Slot::Main)]);
        p.attach(1);
        assert!(!p.detach(0, 7));
        assert!(p.detach(1, 7));
        assert_eq!(p.carrier(2), Carrier::None);
        // Two streams at most: the third waits.
        assert!(p.take_place(0) && p.take_place(1) && !p.take_place(2));
    }
}
