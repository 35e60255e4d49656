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
use crate::wire::{last_event_id_header_bytes, sse_event_bytes, sse_heartbeat_bytes};
use crate::world::{ConnState, MAIN, Protocol, Push, World};

/// Client timer: reconnect after `retry`.
const RECONNECT: u8 = 0;
/// Server timer: write a heartbeat comment.
const HEARTBEAT: u8 = 0;
const GET_EVENTS: u8 = 0;

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

    /// Bytes and payload of the events for stream positions [from, to).
    fn events(&self, w: &World, c: u32, from: u64, to: u64) -> (u64, u64) {
        let stream = w.origin.stream_of(c);
        let mut bytes = 0;
        let mut n = 0;
        for seq in from..to {
            if w.origin.record(stream, seq).sender != c {
                bytes += sse_event_bytes(seq, self.payload);
                n += 1;
            }
        }
        (bytes, n * self.payload)
    }

    fn reconnect_later(&mut self, w: &mut World, c: u32) {
        w.cancel_client_timers(c);
        w.client_timer(c, w.now() + self.retry, RECONNECT, 0);
    }
}

impl Protocol for Sse {
    fn start(&mut self, w: &mut World, c: u32) {
        w.open_connection(c, MAIN);
    }

    /// `new EventSource(url)`: GET with `Accept: text/event-stream`, and `Last-Event-ID`
    /// when reconnecting.
    fn on_connected(&mut self, w: &mut World, c: u32) {
        let client = &w.clients[c as usize];
        let mut bytes = self.request_bytes;
        if client.subscribed {
            bytes += last_event_id_header_bytes(client.cursor.saturating_sub(1));
        }
        w.send_request(c, MAIN, GET_EVENTS, 0, bytes, 0);
    }

    /// Server: open the stream; on a reconnection, replay from Last-Event-ID.
    fn on_request(&mut self, w: &mut World, c: u32, _req: u8, _arg: u64) {
        if !w.admit_stream(c) {
            return; // 503: no memory for another stream
        }
        if w.clients[c as usize].subscribed {
            w.expire(c); // what fell out of retention is lost
        } else {
            w.skip_to_head(c); // a first subscription starts now
        }
        w.open_stream(c);
        let cursor = w.clients[c as usize].cursor;
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
            w.server_timer(c, w.now() + every, HEARTBEAT, 0);
        }
    }

    fn on_update(&mut self, w: &mut World, c: u32) {
        let from = w.clients[c as usize].pushed;
        let head = w.head(c);
        let (bytes, payload) = self.events(w, c, from, head);
        if bytes > 0 {
            w.push(c, self.push_cpu, head, bytes, payload, Push::Updates);
        }
    }

    fn on_server_timer(&mut self, w: &mut World, c: u32, _timer: u8, _arg: u64) {
        let Some(every) = self.heartbeat else { return };
        if w.clients[c as usize].conns[MAIN as usize].state == ConnState::Stream {
            let pushed = w.clients[c as usize].pushed;
            w.push(
                c,
                self.push_cpu,
                pushed,
                sse_heartbeat_bytes(),
                0,
                Push::Heartbeat,
            );
            w.server_timer(c, w.now() + every, HEARTBEAT, 0);
        }
    }

    fn on_client_timer(&mut self, w: &mut World, c: u32, _timer: u8, _arg: u64) {
        w.open_connection(c, MAIN);
    }

    fn on_response(&mut self, w: &mut World, c: u32, _resp: u8) {
        // Only a proxy's 504 ends an SSE request with a response.
        self.reconnect_later(w, c);
    }

    fn on_refused(&mut self, w: &mut World, c: u32) {
        self.reconnect_later(w, c);
    }

    /// EventSource reconnects by itself after `retry`, with `Last-Event-ID`.
    fn on_broken(&mut self, w: &mut World, c: u32, _silent: bool, _broke_at: Nanos) {
        self.reconnect_later(w, c);
    }
}
