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
use crate::engine::time::secs;
use crate::scenario::{PollSchedule, Scenario};
use crate::techniques::ClientLoad;
use crate::world::{Break, ConnState, ConnUse, Never, Protocol, Refusal, Response, World};

crate::world::codes! {
    /// Client timer.
    pub enum Timer {
        /// Time for the next poll.
        Poll,
    }
}

crate::world::codes! {
    pub enum Request {
        /// `GET /messages?since=<cursor>`.
        Get,
    }
}

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

    /// Events one client costs per second: about four per poll (timer, request,
    /// response, and a share of handshakes and idle checks).
    pub fn events_per_s(sc: &Scenario, load: &ClientLoad) -> f64 {
        4.2 / (secs(sc.short_polling.interval) + load.rtt_s)
    }

    /// The gap to the next poll: the interval plus uniform jitter in [0, jitter].
    fn gap(&self, w: &mut World<Self>) -> Nanos {
        if self.jitter == 0 {
            self.interval
        } else {
            self.interval + w.jitter_below(self.jitter + 1)
        }
    }

    /// `GET /messages?since=<cursor>`, on the kept-alive connection or a new one.
    fn poll(&mut self, w: &mut World<Self>, c: u32) {
        w.get_since_cursor_or_connect(c, Request::Get, self.request_bytes);
    }

    /// The next poll, `gap` after `from`. After a response on a kept-alive connection
    /// the world may schedule the request itself (no timer event is needed when nothing
    /// can happen to the client in between).
    fn schedule_next(&mut self, w: &mut World<Self>, c: u32, from: Nanos) {
        let at = from + self.gap(w);
        let after_response = self.schedule == PollSchedule::AfterResponse;
        if !(after_response && w.get_since_cursor_at(c, at, Request::Get, self.request_bytes)) {
            w.client_timer(c, at, Timer::Poll, 0);
        }
    }
}

impl Protocol for ShortPolling {
    type Local = ();
    type Timer = Timer;
    type ServerTimer = Never;
    type Request = Request;
    type Frame = Never;

    /// Between polls the connection is an idle keep-alive one.
    const MAIN_HOLDS: ConnUse = ConnUse::Idle;
    /// The server answers at once and never listens; the client's timer (fixed-rate)
    /// reads only whether the connection is still being set up.
    const DEPART_IS_LOCAL: bool = true;

    fn start(&mut self, w: &mut World<Self>, c: u32) {
        if self.schedule == PollSchedule::FixedRate {
            self.schedule_next(w, c, w.now());
        }
        self.poll(w, c);
    }

    fn on_client_timer(&mut self, w: &mut World<Self>, c: u32, _timer: Timer, _arg: u64) {
        match self.schedule {
            PollSchedule::AfterResponse => self.poll(w, c),
            PollSchedule::FixedRate => {
                self.schedule_next(w, c, w.now());
                let conn = w.main_conn(c);
                let setting_up =
                    matches!(conn.state(), ConnState::Connecting | ConnState::Handshake);
                if !conn.in_use() && !setting_up {
                    self.poll(w, c);
                }
            }
        }
    }

    fn on_connected(&mut self, w: &mut World<Self>, c: u32) {
        self.poll(w, c);
    }

    /// Server: answer at once with everything pending since the client's cursor.
    fn on_request(&mut self, w: &mut World<Self>, c: u32, _req: Request, _since: u64) {
        let (head, waiting) = w.pending(c);
        let cpu = self.request_cpu + if waiting > 0 { self.push_cpu } else { 0 };
        w.respond(self, c, cpu, head);
    }

    fn on_response(&mut self, w: &mut World<Self>, c: u32, resp: Response) {
        if resp == Response::GatewayTimeout {
            self.poll(w, c);
        } else if self.schedule == PollSchedule::AfterResponse {
            self.schedule_next(w, c, w.now());
        }
    }

    /// After a normal answer the client only sets up its next poll (after-response).
    /// Not with jitter: the gap is then a draw from a stream all clients share, and
    /// drawing it early would hand it to a different poll.
    fn response_is_local(&self, resp: Response) -> bool {
        resp == Response::Updates
            && self.schedule == PollSchedule::AfterResponse
            && self.jitter == 0
    }

    fn on_update(&mut self, _w: &mut World<Self>, _c: u32) {
        // Short polling never listens: updates wait for the next poll.
    }

    /// The connection broke under a poll: poll again (after-response); a fixed-rate
    /// client just waits for its next tick.
    fn on_broken(&mut self, w: &mut World<Self>, c: u32, _how: Break, _broke_at: Nanos) {
        if self.schedule == PollSchedule::AfterResponse {
            self.poll(w, c);
        }
    }

    fn on_refused(&mut self, w: &mut World<Self>, c: u32, _why: Refusal) {
        // No slot: try again at the next poll.
        if self.schedule == PollSchedule::AfterResponse {
            self.schedule_next(w, c, w.now());
        }
    }

    fn request_label(w: &World<Self>, c: u32, _req: Request) -> String {
        format!("GET /messages?since={}", w.cursor(c))
    }
}
