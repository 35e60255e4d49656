//! WebSockets: one HTTP Upgrade, then frames in both directions.
//!
//! ```text
//! client                                        server
//!   |-- GET /ws  Upgrade: websocket ------------->|
//!   |<-- HTTP/1.1 101 Switching Protocols --------|
//!   |<== frame: update 41 ========================|   2-byte header ≤ 125 B
//!   |== frame: chat message (masked) ===========>|   6-byte header, 4 of mask
//!   |== ping ===================================>|   every `heartbeat`
//!   |<== pong ====================================|
//!   |        … the connection breaks …            |
//!   |   (exponential backoff with jitter)         |
//!   |-- GET /ws  Upgrade: websocket ------------->|   what was sent meanwhile is
//! ```                                                 lost unless `resume`
//!
//! Frame headers follow RFC 6455 §5.2; client→server frames carry a 4-byte mask.
//! Reconnection and catching up are the application's job: with `resume = false` the
//! server starts from "now", with `resume = true` it replays from the client's cursor.

use crate::engine::Nanos;
use crate::scenario::{Backoff, Scenario};
use crate::wire::ws_frame_header;
use crate::world::trace::Lane;
use crate::world::{ConnState, MAIN, Protocol, Push, World};

/// Client timers.
const RECONNECT: u8 = 0;
const PING: u8 = 1;
/// A silent break is noticed: a ping went unanswered for `heartbeat_timeout`.
const DEAD: u8 = 2;
/// Frames from the client.
const FRAME_PING: u8 = 0;
const FRAME_MESSAGE: u8 = 1;
const UPGRADE: u8 = 0;

pub struct WebSocket {
    heartbeat: Option<Nanos>,
    heartbeat_timeout: Nanos,
    resume: bool,
    backoff: Backoff,
    request_cpu: Nanos,
    push_cpu: Nanos,
    upgrade_request_bytes: u64,
    upgrade_response_bytes: u64,
    payload: u64,
}

impl WebSocket {
    pub fn new(sc: &Scenario) -> Self {
        WebSocket {
            heartbeat: sc.websocket.heartbeat,
            heartbeat_timeout: sc.websocket.heartbeat_timeout,
            resume: sc.websocket.resume,
            backoff: sc.websocket.backoff.clone(),
            request_cpu: sc.server.request_cpu,
            push_cpu: sc.server.push_cpu,
            upgrade_request_bytes: sc.network.ws_handshake_request_bytes,
            upgrade_response_bytes: sc.network.ws_handshake_response_bytes,
            payload: sc.workload.payload,
        }
    }

    /// Bytes and payload of server→client frames for stream positions [from, to).
    fn frames(&self, w: &World, c: u32, from: u64, to: u64) -> (u64, u64) {
        let n = w.origin.count_for_client(c, from, to);
        let frame = ws_frame_header(self.payload, false) + self.payload;
        (n * frame, n * self.payload)
    }

    fn reconnect_with_backoff(&mut self, w: &mut World, c: u32) {
        w.cancel_client_timers(c);
        let client = &mut w.clients[c as usize];
        client.attempts += 1;
        let attempt = client.attempts;
        let delay = w.backoff(&self.backoff, attempt);
        w.client_timer(c, w.now() + delay, RECONNECT, 0);
    }

    fn is_open(w: &World, c: u32) -> bool {
        w.clients[c as usize].conns[MAIN as usize].state == ConnState::Stream
    }
}

impl Protocol for WebSocket {
    fn start(&mut self, w: &mut World, c: u32) {
        w.open_connection(c, MAIN);
    }

    /// `new WebSocket(url)`: the HTTP Upgrade request.
    fn on_connected(&mut self, w: &mut World, c: u32) {
        w.send_request(c, MAIN, UPGRADE, 0, self.upgrade_request_bytes, 0);
    }

    /// Server: 101 Switching Protocols; the socket is open.
    fn on_request(&mut self, w: &mut World, c: u32, _req: u8, _arg: u64) {
        if !w.admit_stream(c) {
            return; // 503 instead of 101: no memory for another socket
        }
        if self.resume && w.clients[c as usize].subscribed {
            w.expire(c);
        } else {
            w.skip_to_head(c);
        }
        w.open_stream(c);
        w.clients[c as usize].attempts = 0;
        let cursor = w.clients[c as usize].cursor;
        let head = w.head(c);
        let (frame_bytes, payload) = self.frames(w, c, cursor, head);
        let cpu = self.request_cpu + if payload > 0 { self.push_cpu } else { 0 };
        w.push(
            c,
            cpu,
            head,
            self.upgrade_response_bytes + frame_bytes,
            payload,
            Push::Open,
        );
        if let Some(every) = self.heartbeat {
            // The client's ping timer starts when the 101 reaches it.
            let at = w.now() + w.clients[c as usize].one_way() + every;
            w.client_timer(c, at, PING, 0);
        }
    }

    fn on_update(&mut self, w: &mut World, c: u32) {
        let from = w.clients[c as usize].pushed;
        let head = w.head(c);
        let (bytes, payload) = self.frames(w, c, from, head);
        if bytes > 0 {
            w.push(c, self.push_cpu, head, bytes, payload, Push::Updates);
        }
    }

    fn on_client_timer(&mut self, w: &mut World, c: u32, timer: u8, _arg: u64) {
        match timer {
            PING if Self::is_open(w, c) => {
                w.send_frame(c, FRAME_PING, 0, ws_frame_header(0, true), 0);
                if let Some(every) = self.heartbeat {
                    w.client_timer(c, w.now() + every, PING, 0);
                }
            }
            RECONNECT => w.open_connection(c, MAIN),
            DEAD => {
                w.trace_note(c, Lane::Client, |_| {
                    "pong overdue: the socket is dead".into()
                });
                self.reconnect_with_backoff(w, c)
            }
            _ => {}
        }
    }

    /// Server: a frame from the client.
    fn on_frame(&mut self, w: &mut World, c: u32, frame: u8, created: u64) {
        match frame {
            FRAME_PING => {
                let pushed = w.clients[c as usize].pushed;
                w.push(
                    c,
                    self.push_cpu,
                    pushed,
                    ws_frame_header(0, false),
                    0,
                    Push::Pong,
                );
            }
            FRAME_MESSAGE => {
                let instance = w.clients[c as usize].conns[MAIN as usize].instance;
                let done = w.cpu(instance, self.request_cpu);
                w.schedule_publish(c, done, created);
            }
            _ => {}
        }
    }

    /// A chat message goes up the open socket as a masked frame.
    fn chat_send(&mut self, w: &mut World, c: u32) {
        let now = w.now();
        if Self::is_open(w, c) {
            let bytes = ws_frame_header(self.payload, true) + self.payload;
            w.send_frame(c, FRAME_MESSAGE, now, bytes, self.payload);
        } else {
            // No socket, no send: the application would have to queue it.
            w.lose_chat_message(c, now);
        }
    }

    fn on_response(&mut self, w: &mut World, c: u32, _resp: u8) {
        self.reconnect_with_backoff(w, c);
    }

    fn on_refused(&mut self, w: &mut World, c: u32) {
        self.reconnect_with_backoff(w, c);
    }

    /// A clean close is seen at once. A silent break is only found by the heartbeat: the
    /// next ping (at most `heartbeat` later) goes unanswered for `heartbeat_timeout`.
    /// Without heartbeats the browser's error when the network returns is all there is.
    fn on_broken(&mut self, w: &mut World, c: u32, silent: bool, broke_at: Nanos) {
        w.cancel_client_timers(c);
        if let (true, Some(every)) = (silent, self.heartbeat) {
            let detected = broke_at + every + self.heartbeat_timeout;
            if detected > w.now() {
                w.client_timer(c, detected, DEAD, 0);
                return;
            }
        }
        self.reconnect_with_backoff(w, c);
    }
}
