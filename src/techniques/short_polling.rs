//! Short polling: "anything new since X?" every `interval`.
//!
//! ```text
//! client                         server
//!   |-- GET /messages?since=41 ---->|   nothing new
//!   |<----------- 200 [] -----------|
//!   |        … interval …           |
//!   |-- GET /messages?since=41 ---->|   one update waiting
//!   |<------ 200 [update 41] -------|
//! ```
//!
//! The server answers at once with everything pending, or empty. The next poll goes
//! `interval` after the response arrives (`after-response`, as `setTimeout` code does)
//! or on a fixed clock (`fixed-rate`, as `setInterval` does — a tick that finds the
//! previous poll still outstanding is skipped). Connections are reused while HTTP
//! keep-alive (and any proxy) keeps them open; otherwise every poll pays a handshake.

use crate::engine::Nanos;
use crate::scenario::{PollSchedule, Scenario};
use crate::world::{ConnState, MAIN, Protocol, World, response};

const POLL: u8 = 0;
const GET: u8 = 0;

pub struct ShortPolling {
    interval: Nanos,
    jitter: Nanos,
    schedule: PollSchedule,
    request_cpu: Nanos,
    push_cpu: Nanos,
    request_bytes: u64,
}

impl ShortPolling {
    pub fn new(sc: &Scenario) -> Self {
        ShortPolling {
            interval: sc.short_polling.interval,
            jitter: sc.short_polling.jitter,
            schedule: sc.short_polling.schedule,
            request_cpu: sc.server.request_cpu,
            push_cpu: sc.server.push_cpu,
            request_bytes: sc.network.request_header_bytes,
        }
    }

    /// The gap to the next poll: the interval plus uniform jitter in [0, jitter].
    fn gap(&self, w: &mut World) -> Nanos {
        if self.jitter == 0 {
            self.interval
        } else {
            self.interval + w.rng_jitter.below(self.jitter + 1)
        }
    }

    /// `GET /messages?since=<cursor>`, on the kept-alive connection or a new one.
    fn poll(&mut self, w: &mut World, c: u32) {
        w.get_since_cursor_or_connect(c, GET, self.request_bytes);
    }

    /// The next poll, `gap` after `from`. After a response on a kept-alive connection
    /// the world may schedule the request itself (no timer event is needed when nothing
    /// can happen to the client in between).
    fn schedule_next(&mut self, w: &mut World, c: u32, from: Nanos) {
        let at = from + self.gap(w);
        let after_response = self.schedule == PollSchedule::AfterResponse;
        if !(after_response && w.get_since_cursor_at(c, at, GET, self.request_bytes)) {
            w.client_timer(c, at, POLL, 0);
        }
    }
}

impl Protocol for ShortPolling {
    fn start(&mut self, w: &mut World, c: u32) {
        if self.schedule == PollSchedule::FixedRate {
            self.schedule_next(w, c, w.now());
        }
        self.poll(w, c);
    }

    fn on_client_timer(&mut self, w: &mut World, c: u32, _timer: u8, _arg: u64) {
        match self.schedule {
            PollSchedule::AfterResponse => self.poll(w, c),
            PollSchedule::FixedRate => {
                self.schedule_next(w, c, w.now());
                let conn = w.clients[c as usize].conns[MAIN as usize];
                let setting_up = matches!(conn.state, ConnState::Connecting | ConnState::Handshake);
                if !conn.in_use && !setting_up {
                    self.poll(w, c);
                }
            }
        }
    }

    fn on_connected(&mut self, w: &mut World, c: u32) {
        self.poll(w, c);
    }

    /// Server: answer at once with everything pending since the client's cursor.
    fn on_request(&mut self, w: &mut World, c: u32, _req: u8, _since: u64) {
        let (head, waiting) = w.pending(c);
        let cpu = self.request_cpu + if waiting > 0 { self.push_cpu } else { 0 };
        w.respond(c, MAIN, cpu, response::UPDATES, head);
    }

    fn on_response(&mut self, w: &mut World, c: u32, resp: u8) {
        if resp == response::GATEWAY_TIMEOUT {
            self.poll(w, c);
        } else if self.schedule == PollSchedule::AfterResponse {
            self.schedule_next(w, c, w.now());
        }
    }

    /// After a normal answer the client only sets up its next poll (after-response).
    /// Not with jitter: the gap is then a draw from a stream all clients share, and
    /// drawing it early would hand it to a different poll.
    fn response_is_local(&self, resp: u8) -> bool {
        resp == response::UPDATES
            && self.schedule == PollSchedule::AfterResponse
            && self.jitter == 0
    }

    fn on_update(&mut self, _w: &mut World, _c: u32) {
        // Short polling never listens: updates wait for the next poll.
    }

    /// The connection broke under a poll: poll again (after-response); a fixed-rate
    /// client just waits for its next tick.
    fn on_broken(&mut self, w: &mut World, c: u32, _silent: bool, _broke_at: Nanos) {
        if self.schedule == PollSchedule::AfterResponse {
            self.poll(w, c);
        }
    }

    fn on_refused(&mut self, w: &mut World, c: u32) {
        // No slot: try again at the next poll.
        if self.schedule == PollSchedule::AfterResponse {
            self.schedule_next(w, c, w.now());
        }
    }
}
