//! WebSockets: one HTTP Upgrade, then frames in both directions.
//!
//! ```text
//! client                                        server
//!   |-- GET /ws  Upgrade: websocket ------------->|
//!   |<-- HTTP/1.1 101 Switching Protocols --------|
//!   |<== frame: update 41 ========================|   2-byte header ≤ 125 B
//!   |== frame: chat message (masked) ===========>|   6-byte header, 4 of mask
//!   |<== ping ====================================|   every `heartbeat`
//!   |== pong (masked, sent by the browser) ======>|
//!   |        … the connection breaks …            |
//!   |   (exponential backoff with jitter)         |
//!   |-- GET /ws  Upgrade: websocket ------------->|   what was sent meanwhile is
//! ```                                                 lost unless `resume`
//!
//! Frame headers follow RFC 6455 §5.2; client→server frames carry a 4-byte mask.
//! Browser JavaScript cannot send a ping (the WebSocket API has no method for it), so
//! heartbeats are either the server's RFC 6455 pings, answered by the browser with a
//! pong on its own (`heartbeat_by = "server-ping"`, the default; the page never sees
//! them, so only the server learns of a dead peer from them), or an application message
//! from the page answered by the server (`"client-message"`, `heartbeat_message` bytes
//! each way; the page notices a silent break when an answer is overdue).
//! Reconnection and catching up are the application's job: with `resume = false` the
//! server starts from "now", with `resume = true` it replays from the client's cursor.
//!
//! With `over_http2` (and `[network] http = "2"`), RFC 8441: the socket is a stream of
//! the user's one multiplexed HTTP/2 connection (`world/pool.rs`), as browsers open it
//! when the server's SETTINGS carry SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3): the
//! first tab's socket opens the connection (TCP, TLS, preface), every other tab's is one
//! more stream on it, counted against `max_concurrent_streams` (beyond it, it waits in
//! the browser). It opens with an extended CONNECT (HEADERS with `:protocol websocket`,
//! answered by a `200` HEADERS; HPACK-warm once the connection has carried one), and
//! every frame above, pings and pongs included, rides in a DATA frame (+9 B): sizes in
//! `wire/rfc8441.rs`.

use crate::engine::Nanos;
use crate::scenario::{Backoff, HeartbeatBy, Http, Scenario};
use crate::techniques::{ClientLoad, heartbeat_events_per_s};
use crate::wire::rfc8441::Tunnel;
use crate::wire::ws_frame_header;
use crate::world::trace::Lane;
use crate::world::{Break, ConnState, ConnUse, Protocol, Push, Refusal, Response, World};

crate::world::codes! {
    /// Client timers.
    pub enum Timer {
        /// Reconnect after a backoff.
        Reconnect,
        /// Send a heartbeat message (`client-message`).
        Ping,
        /// The server's ping has arrived: the browser answers with a pong.
        Pong,
        /// A silent break is noticed: a ping went unanswered for `heartbeat_timeout`.
        Dead,
    }
}

crate::world::codes! {
    /// Server timer.
    pub enum ServerTimer {
        /// Send an RFC 6455 ping (`server-ping`).
        Ping,
    }
}

crate::world::codes! {
    pub enum Request {
        /// `GET /ws  Upgrade: websocket`.
        Upgrade,
    }
}

crate::world::codes! {
    /// Frames from the client.
    pub enum Frame {
        /// The page's heartbeat message (`client-message`).
        Heartbeat,
        /// The browser's automatic pong to a server ping.
        Pong,
        /// A chat message (`arg` = its creation time).
        Message,
    }
}

/// What a WebSocket client keeps.
#[derive(Clone, Copy, Debug, Default)]
pub struct Client {
    /// Consecutive failed connections (for backoff).
    attempts: u32,
}

pub struct WebSocket {
    heartbeat: Option<Nanos>,
    heartbeat_timeout: Nanos,
    heartbeat_by: HeartbeatBy,
    heartbeat_message: u64,
    resume: bool,
    backoff: Backoff,
    request_cpu: Nanos,
    push_cpu: Nanos,
    upgrade_request_bytes: u64,
    upgrade_response_bytes: u64,
    payload: u64,
    /// RFC 8441: the handshake's HEADERS, and frames ride in HTTP/2 DATA frames.
    over_http2: Option<Tunnel>,
}

impl WebSocket {
    pub fn new(sc: &Scenario) -> Self {
        WebSocket {
            heartbeat: sc.websocket.heartbeat,
            heartbeat_timeout: sc.websocket.heartbeat_timeout,
            heartbeat_by: sc.websocket.heartbeat_by,
            heartbeat_message: sc.websocket.heartbeat_message,
            resume: sc.websocket.resume,
            backoff: sc.websocket.backoff.clone(),
            request_cpu: sc.server.request_cpu,
            push_cpu: sc.server.push_cpu,
            upgrade_request_bytes: sc.network.ws_handshake_request_bytes,
            upgrade_response_bytes: sc.network.ws_handshake_response_bytes,
            payload: sc.workload.payload,
            over_http2: Self::tunnels(sc).then(|| Tunnel::new(&sc.network)),
        }
    }

    /// RFC 8441 is on: `over_http2` under `[network] http = "2"`.
    fn tunnels(sc: &Scenario) -> bool {
        sc.websocket.over_http2 && sc.network.http == Http::V2
    }

    /// A WebSocket frame of `payload` bytes on the wire before TLS: its RFC 6455 header
    /// (masked from the client), in a DATA frame over HTTP/2.
    fn frame(&self, payload: u64, masked: bool) -> u64 {
        let frame = ws_frame_header(payload, masked) + payload;
        if self.over_http2.is_some() {
            Tunnel::data(frame)
        } else {
            frame
        }
    }

    /// The opening handshake on client `c`'s stream, (request, answer): the HTTP/1.1
    /// Upgrade and `101`, or RFC 8441's CONNECT and `200`, warm on a connection that has
    /// carried a handshake before.
    fn handshake(&self, w: &World<Self>, c: u32) -> (u64, u64) {
        match &self.over_http2 {
            None => (self.upgrade_request_bytes, self.upgrade_response_bytes),
            Some(t) => t.handshake(w.heads_warm(c, false), w.heads_warm(c, true)),
        }
    }

    /// Events one client costs per second: a push and its arrival per update, and the
    /// heartbeats with their answers (a server ping takes three: the server's timer,
    /// the pong's timer at the client, the pong's arrival).
    pub fn events_per_s(sc: &Scenario, load: &ClientLoad) -> f64 {
        let beats = heartbeat_events_per_s(sc.websocket.heartbeat);
        let beats = match sc.websocket.heartbeat_by {
            HeartbeatBy::ServerPing => 1.5 * beats,
            HeartbeatBy::ClientMessage => beats,
        };
        1.5 * load.updates_per_s + beats
    }

    /// Bytes and payload of server→client frames for stream positions [from, to).
    fn frames(&self, w: &World<Self>, c: u32, from: u64, to: u64) -> (u64, u64) {
        let n = w.count_for(c, from, to);
        (n * self.frame(self.payload, false), n * self.payload)
    }

    fn reconnect_with_backoff(&mut self, w: &mut World<Self>, c: u32) {
        w.cancel_client_timers(c);
        let local = w.local_mut(c);
        local.attempts += 1;
        let attempt = local.attempts;
        let delay = w.backoff(&self.backoff, attempt);
        w.client_timer(c, w.now() + delay, Timer::Reconnect, 0);
    }

    fn is_open(w: &World<Self>, c: u32) -> bool {
        w.main_conn(c).state() == ConnState::Stream
    }
}

impl Protocol for WebSocket {
    type Local = Client;
    type Timer = Timer;
    type ServerTimer = ServerTimer;
    type Request = Request;
    type Frame = Frame;

    const MAIN_HOLDS: ConnUse = ConnUse::Stream;
    /// The handshake is HTTP/1.1's Upgrade (RFC 6455 §4), or an RFC 8441 stream that
    /// this technique frames itself.
    const HTTP2_CAPABLE: bool = false;
    // Not counted in the browser's 6 HTTP/1.1 connections (see `world/pool.rs`).
    const BROWSER_POOL: bool = false;

    /// Over RFC 8441 the socket is a stream of the user's HTTP/2 connection.
    fn browser_pool(sc: &Scenario) -> bool {
        Self::tunnels(sc)
    }

    fn tunnels_over_http2(sc: &Scenario) -> bool {
        Self::tunnels(sc)
    }

    fn start(&mut self, w: &mut World<Self>, c: u32) {
        w.connect(c);
    }

    /// `new WebSocket(url)`: the HTTP Upgrade request (RFC 8441: the extended CONNECT).
    fn on_connected(&mut self, w: &mut World<Self>, c: u32) {
        let (request, _) = self.handshake(w, c);
        w.send_request(c, Request::Upgrade, 0, request);
    }

    /// Server: 101 Switching Protocols; the socket is open.
    fn on_request(&mut self, w: &mut World<Self>, c: u32, _req: Request, _arg: u64) {
        if !w.admit_stream(c) {
            return; // 503 instead of 101: no memory for another socket
        }
        if self.resume && w.subscribed(c) {
            w.expire(c);
        } else {
            w.skip_to_head(c);
        }
        w.open_stream(c);
        w.local_mut(c).attempts = 0;
        let cursor = w.cursor(c);
        let head = w.head(c);
        let (frame_bytes, payload) = self.frames(w, c, cursor, head);
        let cpu = self.request_cpu + if payload > 0 { self.push_cpu } else { 0 };
        let (_, answer) = self.handshake(w, c);
        w.push(c, cpu, head, answer + frame_bytes, payload, Push::Open);
        match (self.heartbeat, self.heartbeat_by) {
            (Some(every), HeartbeatBy::ServerPing) => {
                w.server_timer(c, w.now() + every, ServerTimer::Ping, 0);
            }
            (Some(every), HeartbeatBy::ClientMessage) => {
                // The page's heartbeat timer starts when the 101 reaches it.
                let at = w.now() + w.one_way(c) + every;
                w.client_timer(c, at, Timer::Ping, 0);
            }
            (None, _) => {}
        }
    }

    fn on_update(&mut self, w: &mut World<Self>, c: u32) {
        let from = w.pushed(c);
        let head = w.head(c);
        let (bytes, payload) = self.frames(w, c, from, head);
        if bytes > 0 {
            w.push(c, self.push_cpu, head, bytes, payload, Push::Updates);
        }
    }

    fn on_client_timer(&mut self, w: &mut World<Self>, c: u32, timer: Timer, _arg: u64) {
        match timer {
            Timer::Ping if Self::is_open(w, c) => {
                let m = self.heartbeat_message;
                w.send_frame(c, Frame::Heartbeat, 0, self.frame(m, true), 0);
                if let Some(every) = self.heartbeat {
                    w.client_timer(c, w.now() + every, Timer::Ping, 0);
                }
            }
            Timer::Pong if Self::is_open(w, c) => {
                w.send_frame(c, Frame::Pong, 0, self.frame(0, true), 0);
            }
            Timer::Ping | Timer::Pong => {}
            Timer::Reconnect => w.connect(c),
            Timer::Dead => {
                w.trace_note(c, Lane::Client, |_| {
                    "heartbeat answer overdue: the socket is dead".into()
                });
                self.reconnect_with_backoff(w, c)
            }
        }
    }

    /// Server: an RFC 6455 ping (empty, unmasked); the browser's pong leaves when the
    /// ping arrives.
    fn on_server_timer(&mut self, w: &mut World<Self>, c: u32, _timer: ServerTimer, _arg: u64) {
        let Some(every) = self.heartbeat else { return };
        if Self::is_open(w, c) {
            let pushed = w.pushed(c);
            let bytes = self.frame(0, false);
            let departs = w.push(c, self.push_cpu, pushed, bytes, 0, Push::Heartbeat);
            let pong_at = departs + w.one_way(c);
            let pong = self.frame(0, true);
            if !w.send_frame_at(c, pong_at, Frame::Pong, 0, pong, 0) {
                w.client_timer(c, pong_at, Timer::Pong, 0);
            }
            w.server_timer(c, w.now() + every, ServerTimer::Ping, 0);
        }
    }

    /// Server: a frame from the client.
    fn on_frame(&mut self, w: &mut World<Self>, c: u32, frame: Frame, created: u64) {
        match frame {
            Frame::Heartbeat => {
                let pushed = w.pushed(c);
                let m = self.heartbeat_message;
                let bytes = self.frame(m, false);
                w.push(c, self.push_cpu, pushed, bytes, 0, Push::Pong);
            }
            // The pong only shows the connection is alive (the world marks it active).
            Frame::Pong => {}
            Frame::Message => {
                let done = w.cpu_on_main(c, self.request_cpu);
                w.schedule_publish(c, done, created);
            }
        }
    }

    /// A chat message goes up the open socket as a masked frame.
    fn chat_send(&mut self, w: &mut World<Self>, c: u32) {
        let now = w.now();
        if Self::is_open(w, c) {
            let bytes = self.frame(self.payload, true);
            w.send_frame(c, Frame::Message, now, bytes, self.payload);
        } else {
            // No socket, no send: the application would have to queue it.
            w.lose_chat_message(c, now);
        }
    }

    fn on_response(&mut self, w: &mut World<Self>, c: u32, _resp: Response) {
        self.reconnect_with_backoff(w, c);
    }

    fn on_refused(&mut self, w: &mut World<Self>, c: u32, _why: Refusal) {
        self.reconnect_with_backoff(w, c);
    }

    /// A clean close is seen at once. A silent break is only found by the page's own
    /// heartbeat: the next message (at most `heartbeat` later) goes unanswered for
    /// `heartbeat_timeout`. Server pings are invisible to the page, and without
    /// heartbeats the browser's error when the network returns is all there is.
    fn on_broken(&mut self, w: &mut World<Self>, c: u32, how: Break, broke_at: Nanos) {
        w.cancel_client_timers(c);
        let page_beats = self
            .heartbeat
            .filter(|_| self.heartbeat_by == HeartbeatBy::ClientMessage);
        if let (Break::Silent, Some(every)) = (how, page_beats) {
            let detected = broke_at + every + self.heartbeat_timeout;
            if detected > w.now() {
                w.client_timer(c, detected, Timer::Dead, 0);
                return;
            }
        }
        self.reconnect_with_backoff(w, c);
    }

    fn request_label(w: &World<Self>, _c: u32, _req: Request) -> String {
        if w.tunnels_over_http2() {
            "CONNECT :protocol=websocket  :path=/ws".to_string()
        } else {
            "GET /ws  Upgrade: websocket".to_string()
        }
    }

    fn push_label(w: &World<Self>, what: Push, updates: &str) -> String {
        match what {
            Push::Open if w.tunnels_over_http2() => "HTTP/2 200 (extended CONNECT)".to_string(),
            Push::Open => "HTTP/1.1 101 Switching Protocols".to_string(),
            Push::Updates => format!("frame: update {updates}"),
            Push::Heartbeat => "ping".to_string(),
            Push::Pong => "frame: heartbeat answer".to_string(),
        }
    }

    fn frame_label(frame: Frame) -> String {
        match frame {
            Frame::Heartbeat => "frame: heartbeat (masked)".to_string(),
            Frame::Pong => "pong (masked, from the browser)".to_string(),
            Frame::Message => "frame: chat message (masked)".to_string(),
        }
    }
}
