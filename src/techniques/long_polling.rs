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
use crate::engine::time::secs;
use crate::scenario::{Backoff, Scenario};
use crate::techniques::ClientLoad;
use crate::world::{Break, ConnState, ConnUse, Never, Protocol, Refusal, Response, World};

crate::world::codes! {
    /// Client timer.
    pub enum Timer {
        /// Send the next request.
        Ask,
    }
}

crate::world::codes! {
    /// Server timer.
    pub enum ServerTimer {
        /// The hold times out (`arg` = the hold it was set for).
        HoldTimeout,
    }
}

crate::world::codes! {
    pub enum Request {
        /// `GET /messages?since=<cursor>`.
        Get,
    }
}

/// What long polling keeps per client, in the 4 bytes the client's hot cache line has
/// for it: the number of the current hold at the server in the low 24 bits (a timeout
/// set for an earlier hold, already answered, is ignored; wrapping, as a stale timeout
/// lives one timeout, far less than 2^24 holds), consecutive refused connection
/// attempts in the high 8 (for backoff; saturating, as the backoff stops doubling
/// after 41).
#[derive(Clone, Copy, Debug, Default)]
pub struct Client(u32);

impl Client {
    const HOLD: u32 = (1 << 24) - 1;

    fn hold(self) -> u32 {
        self.0 & Client::HOLD
    }

    /// A new hold begins: its number.
    fn next_hold(&mut self) -> u32 {
        let hold = self.hold().wrapping_add(1) & Client::HOLD;
        self.0 = (self.0 & !Client::HOLD) | hold;
        hold
    }

    fn reset_attempts(&mut self) {
        self.0 &= Client::HOLD;
    }

    /// One more refused attempt: how many now.
    fn add_attempt(&mut self) -> u32 {
        let attempts = ((self.0 >> 24) + 1).min(u8::MAX.into());
        self.0 = (attempts << 24) | self.hold();
        attempts
    }
}

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

    /// Events one client costs per second: about four per answer, an answer per update
    /// received or per timeout.
    pub fn events_per_s(sc: &Scenario, load: &ClientLoad) -> f64 {
        // A poll is answered by the first update (or the timeout), and the next one is at
        // the server a round trip later: updates arriving meanwhile share one answer.
        let answers = load.updates_per_s + 1.0 / secs(sc.long_polling.timeout).max(1e-9);
        4.0 / (1.0 / answers + load.rtt_s)
    }

    /// `GET /messages?since=<cursor>` on the open connection, or a new one.
    fn ask(&mut self, w: &mut World<Self>, c: u32) {
        if w.get_since_cursor_or_connect(c, Request::Get, self.request_bytes) {
            w.local_mut(c).reset_attempts();
        }
    }

    fn ask_after(&mut self, w: &mut World<Self>, c: u32, delay: Nanos) {
        if delay == 0 {
            self.ask(w, c);
        } else {
            w.client_timer(c, w.now() + delay, Timer::Ask, 0);
        }
    }

    /// Server: answer the held request with everything pending.
    fn answer(&mut self, w: &mut World<Self>, c: u32, cpu: Nanos) {
        w.unlisten(c);
        // This hold is over: its timeout, still pending, must not answer again.
        w.local_mut(c).next_hold();
        let head = w.head(c);
        w.respond(self, c, cpu, head);
    }

    fn is_held(w: &World<Self>, c: u32) -> bool {
        w.main_conn(c).state() == ConnState::Held
    }
}

impl Protocol for LongPolling {
    type Local = Client;
    type Timer = Timer;
    type ServerTimer = ServerTimer;
    type Request = Request;
    type Frame = Never;

    /// Between answers the request is held: a stream's state.
    const MAIN_HOLDS: ConnUse = ConnUse::Stream;
    /// An answer stops listening before it is sent ([`LongPolling::answer`]), and the
    /// hold's timeout, still pending, knows the hold is over by its number alone.
    const DEPART_IS_LOCAL: bool = true;

    fn start(&mut self, w: &mut World<Self>, c: u32) {
        self.ask(w, c);
    }

    fn on_connected(&mut self, w: &mut World<Self>, c: u32) {
        self.ask(w, c);
    }

    /// Server: something pending? Answer now. Otherwise hold until an update or the
    /// timeout.
    fn on_request(&mut self, w: &mut World<Self>, c: u32, _req: Request, _since: u64) {
        let (_, waiting) = w.pending(c);
        if waiting > 0 {
            self.answer(w, c, self.request_cpu + self.push_cpu);
            return;
        }
        if !w.admit_stream(c) {
            return; // no memory to hold it: 503, the client backs off
        }
        // Parsing and registering the request costs CPU even when nothing is sent.
        w.cpu_on_main(c, self.request_cpu);
        w.hold(c);
        let hold = u64::from(w.local_mut(c).next_hold());
        w.server_timer(c, w.now() + self.timeout, ServerTimer::HoldTimeout, hold);
    }

    fn on_update(&mut self, w: &mut World<Self>, c: u32) {
        if Self::is_held(w, c) {
            self.answer(w, c, self.push_cpu);
        }
    }

    fn on_server_timer(&mut self, w: &mut World<Self>, c: u32, _timer: ServerTimer, hold: u64) {
        if u64::from(w.local(c).hold()) == hold && Self::is_held(w, c) {
            // Nothing happened: an empty answer, no CPU beyond the request's.
            self.answer(w, c, 0);
        }
    }

    fn on_response(&mut self, w: &mut World<Self>, c: u32, resp: Response) {
        if resp == Response::GatewayTimeout {
            // The proxy gave up on the held request: ask again on a new connection.
            self.ask(w, c);
        } else if self.reconnect_delay == 0 && w.taken_early() {
            // The arrival runs ahead of its time (`response_is_local`): the next request
            // goes on the kept-alive connection if it will carry it; if not, a new
            // connection is not the client's business alone, so a timer due at the
            // arrival opens it then.
            let now = w.now();
            if w.get_since_cursor_at(c, now, Request::Get, self.request_bytes) {
                w.local_mut(c).reset_attempts();
            } else {
                w.client_timer(c, now, Timer::Ask, 0);
            }
        } else {
            self.ask_after(w, c, self.reconnect_delay);
        }
    }

    /// After an answer the client only asks again: on its kept-alive connection, or by a
    /// timer (one set for the arrival, when that connection cannot carry the request).
    fn response_is_local(&self, resp: Response) -> bool {
        resp == Response::Updates
    }

    fn on_client_timer(&mut self, w: &mut World<Self>, c: u32, _timer: Timer, _arg: u64) {
        self.ask(w, c);
    }

    /// The held request died with the connection: ask again on a new one.
    fn on_broken(&mut self, w: &mut World<Self>, c: u32, _how: Break, _broke_at: Nanos) {
        self.ask(w, c);
    }

    fn on_refused(&mut self, w: &mut World<Self>, c: u32, _why: Refusal) {
        let attempt = w.local_mut(c).add_attempt();
        let delay = w.backoff(&self.backoff, attempt).max(self.reconnect_delay);
        w.client_timer(c, w.now() + delay, Timer::Ask, 0);
    }

    fn request_label(w: &World<Self>, c: u32, _req: Request) -> String {
        format!("GET /messages?since={}", w.cursor(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hold_number_wraps_and_attempts_saturate_without_touching_each_other() {
        let mut local = Client::default();
        for _ in 0..300 {
            local.add_attempt();
        }
        assert_eq!(local.add_attempt(), 255);
        assert_eq!(local.hold(), 0);
        let mut last = 0;
        for _ in 0..(1 << 24) {
            last = local.next_hold();
        }
        assert_eq!(last, 0, "2^24 holds wrap to 0");
        assert_eq!(local.next_hold(), 1);
        assert_eq!(local.add_attempt(), 255);
        local.reset_attempts();
        assert_eq!(local.hold(), 1);
        assert_eq!(local.add_attempt(), 1);
        assert_eq!(std::mem::size_of::<Client>(), 4);
    }
}
