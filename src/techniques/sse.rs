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
//! server replays what it still retains. Upstream messages (chat) cannot use the
//! stream: they are separate HTTP POSTs.

use crate::engine::Nanos;
use crate::scenario::Scenario;
use crate::techniques::{ClientLoad, heartbeat_events_per_s};
use crate::wire::{last_event_id_header_bytes, sse_event_bytes, sse_heartbeat_bytes};
use crate::world::{Break, ConnState, ConnUse, Never, Protocol, Push, Response, World};

crate::world::codes! {
    /// Client timer.
    pub enum Timer {
        /// Reconnect after `retry`.
        Reconnect,
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

pub struct Sse {
    heartbeat: Option<Nanos>,
    retry: Nanos,
    request_cpu: Nanos,
    push_cpu: Nanos,
    request_bytes: u64,
    response_header_bytes: u64,
    payload: u64,
}

impl Sse {
    pub fn new(sc: &Scenario) -> Self {
        Sse {
            heartbeat: sc.sse.heartbeat,
            retry: sc.sse.retry,
            request_cpu: sc.server.request_cpu,
            push_cpu: sc.server.push_cpu,
            request_bytes: sc.network.request_header_bytes,
            response_header_bytes: sc.network.response_header_bytes,
            payload: sc.workload.payload,
        }
    }

    /// Events one client costs per second: a push and its arrival per update, and the
    /// heartbeats.
    pub fn events_per_s(sc: &Scenario, load: &ClientLoad) -> f64 {
        1.5 * load.updates_per_s + heartbeat_events_per_s(sc.sse.heartbeat)
    }

    /// Bytes and payload of the events for stream positions [from, to).
    fn events(&self, w: &World<Self>, c: u32, from: u64, to: u64) -> (u64, u64) {
        let mut bytes = 0;
        let mut n = 0;
        for seq in w.positions_for(c, from, to) {
            bytes += sse_event_bytes(seq, self.payload);
            n += 1;
        }
        (bytes, n * self.payload)
    }

    fn reconnect_later(&mut self, w: &mut World<Self>, c: u32) {
        w.cancel_client_timers(c);
        w.client_timer(c, w.now() + self.retry, Timer::Reconnect, 0);
    }
}

impl Protocol for Sse {
    type Local = ();
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
        if w.subscribed(c) {
            bytes += last_event_id_header_bytes(w.cursor(c).saturating_sub(1));
        }
        w.send_request(c, Request::GetEvents, 0, bytes);
    }

    /// Server: open the stream; on a reconnection, replay from Last-Event-ID.
    fn on_request(&mut self, w: &mut World<Self>, c: u32, _req: Request, _arg: u64) {
        if !w.admit_stream(c) {
            return; // 503: no memory for another stream
        }
        if w.subscribed(c) {
            w.expire(c); // what fell out of retention is lost
        } else {
            w.skip_to_head(c); // a first subscription starts now
        }
        w.open_stream(c);
        let cursor = w.cursor(c);
        let head = w.head(c);
        let (event_bytes, payload) = self.events(w, c, cursor, head);
        let cpu = self.request_cpu + if payload > 0 { self.push_cpu } else { 0 };
        w.push(
            c,
            cpu,
            head,
            self.response_header_bytes + event_bytes,
            payload,
            Push::Open,
        );
        if let Some(every) = self.heartbeat {
            w.server_timer(c, w.now() + every, ServerTimer::Heartbeat, 0);
        }
    }

    fn on_update(&mut self, w: &mut World<Self>, c: u32) {
        let from = w.pushed(c);
        let head = w.head(c);
        let (bytes, payload) = self.events(w, c, from, head);
        if bytes > 0 {
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
                sse_heartbeat_bytes(),
                0,
                Push::Heartbeat,
            );
            w.server_timer(c, w.now() + every, ServerTimer::Heartbeat, 0);
        }
    }

    fn on_client_timer(&mut self, w: &mut World<Self>, c: u32, _timer: Timer, _arg: u64) {
        w.connect(c);
    }

    fn on_response(&mut self, w: &mut World<Self>, c: u32, _resp: Response) {
        // Only a proxy's 504 ends an SSE request with a response.
        self.reconnect_later(w, c);
    }

    fn on_refused(&mut self, w: &mut World<Self>, c: u32) {
        self.reconnect_later(w, c);
    }

    /// EventSource reconnects by itself after `retry`, with `Last-Event-ID`.
    fn on_broken(&mut self, w: &mut World<Self>, c: u32, _how: Break, _broke_at: Nanos) {
        self.reconnect_later(w, c);
    }

    fn request_label(w: &World<Self>, c: u32, _req: Request) -> String {
        let cursor = w.cursor(c);
        if w.subscribed(c) && cursor > 0 {
            format!(
                "GET /events  Accept: text/event-stream  Last-Event-ID: {}",
                cursor.saturating_sub(1)
            )
        } else {
            "GET /events  Accept: text/event-stream".to_string()
        }
    }

    fn push_label(what: Push, updates: &str) -> String {
        match what {
            Push::Open => "HTTP/1.1 200 OK  Content-Type: text/event-stream".to_string(),
            Push::Updates => format!("id: {updates}  data: {{…}}"),
            Push::Heartbeat => ": heartbeat (comment)".to_string(),
            Push::Pong => "pong".to_string(),
        }
    }
}
