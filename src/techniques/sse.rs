//! Server-Sent Events: one long-lived response, events written to it as they happen.
//!
//! ```text
//! client                                   server
//!   |-- GET /events                           |
//!   |   Accept: text/event-stream ----------->|
//!   |<-- 200 Content-Type: text/event-stream -|
//!   |<-- id: 41 / data: {...} ----------------|   update 41
//!   |<-- : (heartbeat comment) ---------------|   every `heartbeat`
//!   |        … the connection breaks …        |
//!   |   (wait `retry`)                        |
//!   |-- GET /events  Last-Event-ID: 41 ------>|   replay what is retained after 41
//! ```
//!
//! Every event carries an id, so a reconnecting client says where it stopped and the
//! server replays what it still retains. Events that go out together (a replay, or a
//! burst that was waiting) are one write: one chunk. Upstream messages (chat) cannot use
//! the stream: they are separate HTTP POSTs.
//!
//! The client is the browser's `EventSource` (WHATWG HTML §9.2): a network error (a
//! reset, a broken connection) makes it reconnect after its reconnection delay — the
//! browser's default (`[workload] browser`), `[sse] retry` if set, or the `retry:`
//! field the server sends (`[sse] server_retry`). A non-200 answer (a 503, a proxy's
//! 504) fails the EventSource for good: the page then stops (`on_failure = "stop"`) or
//! opens a new EventSource after a backoff (`"reopen"`), which has no `Last-Event-ID`
//! and so starts from "now". Each failure is counted (`streams_failed`).

use crate::engine::Nanos;
use crate::scenario::{Backoff, Scenario, SseFailure};
use crate::techniques::{ClientLoad, heartbeat_events_per_s};
use crate::wire::{
    Framing, SSE_HEARTBEAT_TEXT, last_event_id_header_bytes, sse_chunk_bytes, sse_event_text,
    sse_retry_field_text,
};
use crate::world::trace::Lane;
use crate::world::{Break, ConnState, ConnUse, Never, Protocol, Push, Refusal, Response, World};

crate::world::codes! {
    /// Client timer.
    pub enum Timer {
        /// Reconnect after `retry`.
        Reconnect,
        /// The page opens a new EventSource after the last one failed.
        Reopen,
    }
}

crate::world::codes! {
    /// Server timer.
    pub enum ServerTimer {
        /// Write a heartbeat comment.
        Heartbeat,
    }
}

crate::world::codes! {
    pub enum Request {
        /// `GET /events`.
        GetEvents,
    }
}

/// What an SSE client keeps.
#[derive(Clone, Copy, Debug, Default)]
pub struct Client {
    /// The server's `retry:` field has set the reconnection delay.
    server_set_retry: bool,
    /// The next stream is a new EventSource (after a failure): no `Last-Event-ID`.
    fresh: bool,
    /// Consecutive failures (for the page's reopen backoff; saturating, as the backoff
    /// stops doubling after 41: 16 bits keep the client's state in 4 bytes).
    failures: u16,
}

pub struct Sse {
    heartbeat: Option<Nanos>,
    /// The reconnection delay until the server sets one.
    retry: Nanos,
    server_retry: Option<Nanos>,
    on_failure: SseFailure,
    reopen_backoff: Backoff,
    request_cpu: Nanos,
    push_cpu: Nanos,
    request_bytes: u64,
    response_header_bytes: u64,
    payload: u64,
    /// HTTP/1.1 chunks or HTTP/2 DATA frames (`[network] http`).
    framing: Framing,
}

impl Sse {
    pub fn new(sc: &Scenario) -> Self {
        Sse {
            heartbeat: sc.sse.heartbeat,
            retry: Self::first_retry(sc),
            server_retry: sc.sse.server_retry,
            on_failure: sc.sse.on_failure,
            reopen_backoff: sc.sse.reopen_backoff.clone(),
            request_cpu: sc.server.request_cpu,
            push_cpu: sc.server.push_cpu,
            request_bytes: sc.network.request_header_bytes,
            response_header_bytes: sc.network.response_header_bytes,
            payload: sc.workload.payload,
            framing: Framing::new(&sc.network, <Self as Protocol>::HTTP2_CAPABLE),
        }
    }

    /// Events one client costs per second: a push and its arrival per update, and the
    /// heartbeats.
    pub fn events_per_s(sc: &Scenario, load: &ClientLoad) -> f64 {
        1.5 * load.updates_per_s + heartbeat_events_per_s(sc.sse.heartbeat)
    }

    /// EventSource's reconnection delay before the server sets one: `[sse] retry`, or
    /// the browser's default.
    pub fn first_retry(sc: &Scenario) -> Nanos {
        sc.sse
            .retry
            .unwrap_or_else(|| sc.workload.browser.eventsource_retry())
    }

    /// Text and payload of the events for stream positions [from, to), before chunk
    /// framing (they go out as one chunk).
    fn events(&self, w: &World<Self>, c: u32, from: u64, to: u64) -> (u64, u64) {
        let mut text = 0;
        let mut n = 0;
        for seq in w.positions_for(c, from, to) {
            text += sse_event_text(seq, self.payload);
            n += 1;
        }
        (text, n * self.payload)
    }

    /// A network error: EventSource reconnects by itself after its reconnection delay.
    fn reconnect_later(&mut self, w: &mut World<Self>, c: u32) {
        w.cancel_client_timers(c);
        let retry = match self.server_retry {
            Some(r) if w.local(c).server_set_retry => r,
            _ => self.retry,
        };
        w.client_timer(c, w.now() + retry, Timer::Reconnect, 0);
    }

    /// A non-200 answer: the EventSource fails for good. The page stops, or opens a
    /// new one (no `Last-Event-ID`, the browser's default delay again) after a backoff.
    fn fail(&mut self, w: &mut World<Self>, c: u32, why: &'static str) {
        w.cancel_client_timers(c);
        w.count_stream_failure();
        w.trace_note(c, Lane::Client, |_| format!("EventSource fails: {why}"));
        let local = w.local_mut(c);
        local.failures = local.failures.saturating_add(1);
        local.fresh = true;
        local.server_set_retry = false;
        let failures = u32::from(local.failures);
        if self.on_failure == SseFailure::Reopen {
            let delay = w.backoff(&self.reopen_backoff, failures);
            w.client_timer(c, w.now() + delay, Timer::Reopen, 0);
        }
    }

    /// The client's next request resumes its stream (`Last-Event-ID`).
    fn resumes(w: &World<Self>, c: u32) -> bool {
        w.subscribed(c) && !w.local(c).fresh
    }
}

impl Protocol for Sse {
    type Local = Client;
    type Timer = Timer;
    type ServerTimer = ServerTimer;
    type Request = Request;
    type Frame = Never;

    const MAIN_HOLDS: ConnUse = ConnUse::Stream;

    fn start(&mut self, w: &mut World<Self>, c: u32) {
        w.connect(c);
    }

    /// `new EventSource(url)`: GET with `Accept: text/event-stream`, and `Last-Event-ID`
    /// when reconnecting.
    fn on_connected(&mut self, w: &mut World<Self>, c: u32) {
        let mut bytes = self.request_bytes;
        if Self::resumes(w, c) {
            bytes += last_event_id_header_bytes(w.cursor(c).saturating_sub(1));
        }
        w.send_request(c, Request::GetEvents, 0, bytes);
    }

    /// Server: open the stream; on a reconnection, replay from Last-Event-ID.
    fn on_request(&mut self, w: &mut World<Self>, c: u32, _req: Request, _arg: u64) {
        if !w.admit_stream(c) {
            return; // 503: no memory for another stream
        }
        if Self::resumes(w, c) {
            w.expire(c); // what fell out of retention is lost
        } else {
            w.skip_to_head(c); // a first subscription (or a new EventSource) starts now
        }
        w.open_stream(c);
        let local = w.local_mut(c);
        local.fresh = false;
        local.failures = 0;
        // The `retry:` field goes with the opening write; the client uses it from then
        // on (set here, at the server: a break before the answer arrives is rare).
        let retry_text = self.server_retry.map_or(0, |r| {
            local.server_set_retry = true;
            sse_retry_field_text(r / 1_000_000)
        });
        let cursor = w.cursor(c);
        let head = w.head(c);
        let (event_text, payload) = self.events(w, c, cursor, head);
        let cpu = self.request_cpu + if payload > 0 { self.push_cpu } else { 0 };
        // The stream's answer is the first on its connection: its head is sent whole.
        let text = retry_text + event_text;
        let h1 = self.response_header_bytes + sse_chunk_bytes(text);
        let bytes = self.framing.answer(h1, text, false, false);
        w.push(c, cpu, head, bytes, payload, Push::Open);
        if let Some(every) = self.heartbeat {
            w.server_timer(c, w.now() + every, ServerTimer::Heartbeat, 0);
        }
    }

    fn on_update(&mut self, w: &mut World<Self>, c: u32) {
        let from = w.pushed(c);
        let head = w.head(c);
        let (text, payload) = self.events(w, c, from, head);
        if text > 0 {
            let bytes = self.framing.stream_chunk(text);
            w.push(c, self.push_cpu, head, bytes, payload, Push::Updates);
        }
    }

    fn on_server_timer(&mut self, w: &mut World<Self>, c: u32, _timer: ServerTimer, _arg: u64) {
        let Some(every) = self.heartbeat else { return };
        if w.main_conn(c).state() == ConnState::Stream {
            let pushed = w.pushed(c);
            w.push(
                c,
                self.push_cpu,
                pushed,
                self.framing.stream_chunk(SSE_HEARTBEAT_TEXT),
                0,
                Push::Heartbeat,
            );
            w.server_timer(c, w.now() + every, ServerTimer::Heartbeat, 0);
        }
    }

    fn on_client_timer(&mut self, w: &mut World<Self>, c: u32, _timer: Timer, _arg: u64) {
        // Reconnect (same EventSource) and Reopen (a new one) both connect; `fresh`
        // says which.
        w.connect(c);
    }

    fn on_response(&mut self, w: &mut World<Self>, c: u32, _resp: Response) {
        // Only a proxy's 504 ends an SSE request with a response: not a 200.
        self.fail(w, c, "504 from the proxy");
    }

    fn on_refused(&mut self, w: &mut World<Self>, c: u32, why: Refusal) {
        match why {
            Refusal::Reset => self.reconnect_later(w, c),
            Refusal::Unavailable => self.fail(w, c, "503"),
        }
    }

    /// EventSource reconnects by itself after `retry`, with `Last-Event-ID`.
    fn on_broken(&mut self, w: &mut World<Self>, c: u32, _how: Break, _broke_at: Nanos) {
        self.reconnect_later(w, c);
    }

    fn request_label(w: &World<Self>, c: u32, _req: Request) -> String {
        let cursor = w.cursor(c);
        if Self::resumes(w, c) && cursor > 0 {
            format!(
                "GET /events  Accept: text/event-stream  Last-Event-ID: {}",
                cursor.saturating_sub(1)
            )
        } else {
            "GET /events  Accept: text/event-stream".to_string()
        }
    }

    fn push_label(_w: &World<Self>, what: Push, updates: &str) -> String {
        match what {
            Push::Open => "HTTP/1.1 200 OK  Content-Type: text/event-stream".to_string(),
            Push::Updates => format!("id: {updates}  data: {{…}}"),
            Push::Heartbeat => ": heartbeat (comment)".to_string(),
            Push::Pong => "pong".to_string(),
        }
    }
}
