//! Long polling: the server holds the request until there is something to say.
//!
//! ```text
//! client                           server
//!   |-- GET /messages?since=41 ------>|   nothing yet: hold
//!   |                                 |   … update 41 is published …
//!   |<------- 200 [update 41] --------|
//!   |-- GET /messages?since=42 ------>|   (at once, or after reconnect_delay)
//!   |                                 |   … `timeout` passes, nothing new …
//!   |<------------ 200 [] ------------|
//! ```
//!
//! Updates published while no request is held (the response and the next request are
//! on the wire) wait at the server and go out at once with the next request. A proxy
//! that closes silent connections sooner than `timeout` answers 504 instead, and the
//! client asks again on a new connection.

use crate::engine::Nanos;
use crate::scenario::{Backoff, Scenario};
use crate::world::{ConnState, MAIN, Protocol, World, response};

/// Client timer: send the next request.
const ASK: u8 = 0;
/// Server timer: the hold times out.
const HOLD_TIMEOUT: u8 = 0;
const GET: u8 = 0;

pub struct LongPolling {
    timeout: Nanos,
    reconnect_delay: Nanos,
    backoff: Backoff,
    request_cpu: Nanos,
    push_cpu: Nanos,
    request_bytes: u64,
}

impl LongPolling {
    pub fn new(sc: &Scenario) -> Self {
        LongPolling {
            timeout: sc.long_polling.timeout,
            reconnect_delay: sc.long_polling.reconnect_delay,
            backoff: sc.long_polling.backoff.clone(),
            request_cpu: sc.server.request_cpu,
            push_cpu: sc.server.push_cpu,
            request_bytes: sc.network.request_header_bytes,
        }
    }

    /// `GET /messages?since=<cursor>` on the open connection, or a new one.
    fn ask(&mut self, w: &mut World, c: u32) {
        if w.get_since_cursor_or_connect(c, GET, self.request_bytes) {
            w.clients[c as usize].attempts = 0;
        }
    }

    fn ask_after(&mut self, w: &mut World, c: u32, delay: Nanos) {
        if delay == 0 {
            self.ask(w, c);
        } else {
            w.client_timer(c, w.now() + delay, ASK, 0);
        }
    }

    /// Server: answer the held request with everything pending.
    fn answer(&mut self, w: &mut World, c: u32, cpu: Nanos) {
        w.unlisten(c);
        // This hold is over: its timeout, still pending, must not answer again.
        let client = &mut w.clients[c as usize];
        client.hold = client.hold.wrapping_add(1);
        let head = w.head(c);
        w.respond(c, MAIN, cpu, response::UPDATES, head);
    }
}

impl Protocol for LongPolling {
    fn start(&mut self, w: &mut World, c: u32) {
        self.ask(w, c);
    }

    fn on_connected(&mut self, w: &mut World, c: u32) {
        self.ask(w, c);
    }

    /// Server: something pending? Answer now. Otherwise hold until an update or the
    /// timeout.
    fn on_request(&mut self, w: &mut World, c: u32, _req: u8, _since: u64) {
        let (_, waiting) = w.pending(c);
        if waiting > 0 {
            self.answer(w, c, self.request_cpu + self.push_cpu);
            return;
        }
        if !w.admit_stream(c) {
            return; // no memory to hold it: 503, the client backs off
        }
        // Parsing and registering the request costs CPU even when nothing is sent.
        let instance = w.clients[c as usize].conns[MAIN as usize].instance;
        w.cpu(instance, self.request_cpu);
        w.hold(c);
        let client = &mut w.clients[c as usize];
        client.hold = client.hold.wrapping_add(1);
        let hold = client.hold as u64;
        w.server_timer(c, w.now() + self.timeout, HOLD_TIMEOUT, hold);
    }

    fn on_update(&mut self, w: &mut World, c: u32) {
        if w.clients[c as usize].conns[MAIN as usize].state == ConnState::Held {
            self.answer(w, c, self.push_cpu);
        }
    }

    fn on_server_timer(&mut self, w: &mut World, c: u32, _timer: u8, hold: u64) {
        let client = &w.clients[c as usize];
        if client.hold as u64 == hold && client.conns[MAIN as usize].state == ConnState::Held {
            // Nothing happened: an empty answer, no CPU beyond the request's.
            self.answer(w, c, 0);
        }
    }

    fn on_response(&mut self, w: &mut World, c: u32, resp: u8) {
        if resp == response::GATEWAY_TIMEOUT {
            // The proxy gave up on the held request: ask again on a new connection.
            self.ask(w, c);
        } else {
            self.ask_after(w, c, self.reconnect_delay);
        }
    }

    fn on_client_timer(&mut self, w: &mut World, c: u32, _timer: u8, _arg: u64) {
        self.ask(w, c);
    }

    /// The held request died with the connection: ask again on a new one.
    fn on_broken(&mut self, w: &mut World, c: u32, _silent: bool, _broke_at: Nanos) {
        self.ask(w, c);
    }

    fn on_refused(&mut self, w: &mut World, c: u32) {
        let client = &mut w.clients[c as usize];
        client.attempts += 1;
        let attempt = client.attempts;
        let delay = w.backoff(&self.backoff, attempt).max(self.reconnect_delay);
        w.client_timer(c, w.now() + delay, ASK, 0);
    }
}
