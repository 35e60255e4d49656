//! The [`Protocol`] trait: what a technique is to the world.
//!
//! A technique is a small state machine over one client and its server. The world calls
//! one method per protocol step (a connection is ready, a request arrived, a timer
//! fired…) and the technique acts through the world's verbs. Everything that differs
//! between techniques — its timers, requests and frames (its own enums), what it keeps
//! per client, what its connection holds at the server, how its messages look in a
//! trace — comes from here, so the world never needs to know which technique runs.

use crate::engine::Nanos;
use crate::world::World;
use crate::world::event::{Break, Code, Refusal, Response};
use crate::world::server::ConnUse;

/// What a server writes to an open stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// The response that opens the stream (SSE 200, WebSocket 101), with any replay.
    Open,
    /// New updates.
    Updates,
    /// A keep-alive signal the client's page does not act on (an SSE comment line, a
    /// WebSocket server ping).
    Heartbeat,
    /// The answer to a client's heartbeat message.
    Pong,
}

/// A technique: how one client and its server behave. Each method is one protocol step.
pub trait Protocol: Sized {
    /// What the technique keeps per client (at most 4 bytes: it lives in the client's
    /// hot cache line, see `world/client.rs`).
    type Local: Copy + Default + 'static;
    /// The client's timers.
    type Timer: Code;
    /// The server's timers on a client's MAIN connection.
    type ServerTimer: Code;
    /// The requests a client sends on MAIN.
    type Request: Code;
    /// The frames a client sends on an open socket.
    type Frame: Code;

    /// What a MAIN connection holds at the server while the client waits for updates —
    /// and so what a refused client's MAIN connection would have held (a stream's state
    /// for a held poll, an SSE stream or a socket; an idle connection's for a poll).
    const MAIN_HOLDS: ConnUse;

    /// Can the technique's requests travel over HTTP/2 when `[network] http = "2"`? A
    /// WebSocket's Upgrade cannot: it stays on HTTP/1.1, or becomes an RFC 8441 stream
    /// that the technique frames itself ([`Protocol::tunnels_over_http2`]).
    const HTTP2_CAPABLE: bool = true;

    /// Do the technique's connections come from the browser's HTTP connection pool, so
    /// that a user's tabs share it (`world/pool.rs`)? A WebSocket's do not: browsers
    /// keep separate, far larger limits for them (Chromium 255 per host, Firefox 200) —
    /// unless it rides HTTP/2 ([`Protocol::browser_pool`]).
    const BROWSER_POOL: bool = true;

    /// [`Protocol::BROWSER_POOL`] for this scenario: an RFC 8441 WebSocket is a stream of
    /// the user's multiplexed HTTP/2 connection, as browsers open it when the server's
    /// SETTINGS carry SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3). Asked once, when
    /// the world is built.
    fn browser_pool(_sc: &crate::scenario::Scenario) -> bool {
        Self::BROWSER_POOL
    }

    /// Does the technique frame its own messages inside HTTP/2 streams (RFC 8441's
    /// WebSockets)? The world then counts the connection's preface and SETTINGS, and
    /// multiplexes the streams like any other ([`Protocol::browser_pool`]).
    fn tunnels_over_http2(_sc: &crate::scenario::Scenario) -> bool {
        false
    }

    /// The client's start phase has come.
    fn start(&mut self, w: &mut World<Self>, c: u32);
    /// The MAIN connection's handshake completed.
    fn on_connected(&mut self, w: &mut World<Self>, c: u32);
    /// A request arrived at the server on MAIN (the world already counted it).
    fn on_request(&mut self, w: &mut World<Self>, c: u32, req: Self::Request, arg: u64);
    /// A response to a MAIN request arrived at the client (deliveries already recorded).
    fn on_response(&mut self, w: &mut World<Self>, c: u32, resp: Response);
    /// Does [`Protocol::on_response`] for this response only touch the client itself —
    /// schedule its own timers and requests, no connection opened or closed, no draw
    /// from a stream other clients share? Then, in a world where nothing else can reach
    /// the client while the response travels, the world runs the arrival when the
    /// response leaves the server, on the client's clock, and saves an event (see
    /// `world/clock.rs`).
    fn response_is_local(&self, _resp: Response) -> bool {
        false
    }
    /// Between a MAIN request's arrival and its answer's departure ([`World::respond`]),
    /// does nothing the technique does read the server's side of the connection, and
    /// can no update reach the client through it? Then, in a world where nothing else
    /// can reach the connection meanwhile, the world takes the departure when the
    /// request arrives, on the client's clock, and saves an event (see
    /// `world/clock.rs`).
    const DEPART_IS_LOCAL: bool = false;
    /// A new update for `c` is visible at the servers while `c` is listening.
    fn on_update(&mut self, w: &mut World<Self>, c: u32);
    /// A client timer fired.
    fn on_client_timer(&mut self, w: &mut World<Self>, c: u32, timer: Self::Timer, arg: u64);
    /// A server timer for the MAIN connection fired.
    fn on_server_timer(
        &mut self,
        _w: &mut World<Self>,
        _c: u32,
        _timer: Self::ServerTimer,
        _arg: u64,
    ) {
    }
    /// A frame from the client reached the server.
    fn on_frame(&mut self, _w: &mut World<Self>, _c: u32, _frame: Self::Frame, _arg: u64) {}
    /// The MAIN connection attempt was refused: reset (no slot or memory, or no
    /// network), or answered 503 (no memory for a held request or stream).
    fn on_refused(&mut self, w: &mut World<Self>, c: u32, why: Refusal);
    /// The MAIN connection broke while in use (a held poll, a stream, a request in
    /// flight, a handshake) and the client just learned it. Silent breaks (network
    /// drops) come with the time they happened.
    fn on_broken(&mut self, w: &mut World<Self>, c: u32, how: Break, broke_at: Nanos);
    /// The client sends a chat message created now. Default: an HTTP POST on UPSTREAM.
    fn chat_send(&mut self, w: &mut World<Self>, c: u32) {
        w.post_chat_message(c);
    }

    /// Trace: the request line (and telling headers) of a request as it looks on the
    /// wire.
    fn request_label(w: &World<Self>, c: u32, req: Self::Request) -> String;
    /// Trace: a write to an open stream, given the ids of the updates it carries ("41",
    /// "41–43" or empty).
    fn push_label(_w: &World<Self>, what: Push, updates: &str) -> String {
        format!("{what:?} {updates}")
    }
    /// Trace: a frame from the client.
    fn frame_label(_frame: Self::Frame) -> String {
        "frame".to_string()
    }
}
