//! The reference server: the four techniques over HTTP/1.1, and polls and event streams
//! over HTTP/2 when the run asks for it (hyper's `h2`; over TLS with ALPN `h2`, else h2c
//! with prior knowledge), in TLS when the run asks for it (`tls.rs`), with exactly the
//! model's semantics (docs/model.md §3–§5).
//!
//! - `GET /poll/<client>?since=<n>` — short polling: answer at once with every update of
//!   the client's stream from position `n` on (an answer with nothing new carries the
//!   model's `[server] empty_body`: `[]`, padded with spaces to its size, by default);
//! - `GET /hold/<client>?since=<n>` — long polling: the same, but with nothing pending the
//!   request is held until an update arrives or `timeout` passes (then answered empty);
//! - `GET /events/<client>` — Server-Sent Events: a `text/event-stream` response that
//!   stays open; one `id: <n>` + `data:` event per update, each in its own chunk; a `:`
//!   comment every `heartbeat`; a first subscription starts at the stream's head, a
//!   reconnection with `Last-Event-ID: <n>` replays from `n + 1`;
//! - `GET /ws/<client>` with `Upgrade: websocket` — 101, then one binary frame per update;
//!   client pings are answered with pongs;
//! - `POST /publish/<client>` — a new update for that client, now (`201 Created`): what
//!   `rtsim calibrate` uses to make the server push.
//!
//! Update bodies are `payload` bytes each (`wire.rs`); a poll's body is its updates one
//! after the other. HTTP/1.1 heads are padded to the experiment's sizes; HTTP/2 answers
//! carry the model's own answer fields (`rtsim::wire::h2::response_fields`) and hyper's
//! `date`. Every task ends at the run's deadline.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rtsim::engine::Nanos;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::books::Books;
use crate::clock::Clock;
use crate::wire;

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Read buffer of a server WebSocket: client frames here are pings and small messages.
const WS_READ_BUFFER: usize = 4 * 1024;

/// Where updates are born: one append-only stream per client.
pub struct Origin {
    feeds: Vec<Feed>,
}

struct Feed {
    /// Birth time of every update, by stream position.
    log: Mutex<Vec<Nanos>>,
    /// The stream's head (number of updates), for whoever waits on it.
    head: watch::Sender<u64>,
}

impl Origin {
    pub fn new(clients: u32) -> Self {
        Origin {
            feeds: (0..clients)
                .map(|_| Feed {
                    log: Mutex::new(Vec::new()),
                    head: watch::Sender::new(0),
                })
                .collect(),
        }
    }

    fn feed(&self, c: u32) -> Option<&Feed> {
        self.feeds.get(c as usize)
    }

    /// Appends an update born at `born` to client `c`'s stream and wakes its listeners.
    pub fn publish(&self, c: u32, born: Nanos) {
        let Some(feed) = self.feed(c) else { return };
        let head = {
            let mut log = feed.log.lock().unwrap_or_else(|p| p.into_inner());
            log.push(born);
            log.len() as u64
        };
        feed.head.send_replace(head);
    }

    /// (position, birth) of every update of `c` from position `from` on.
    fn since(&self, c: u32, from: u64) -> Vec<(u64, Nanos)> {
        let Some(feed) = self.feed(c) else {
            return Vec::new();
        };
        let log = feed.log.lock().unwrap_or_else(|p| p.into_inner());
        let from = (from as usize).min(log.len());
        (from..log.len()).map(|i| (i as u64, log[i])).collect()
    }
}

/// What the server needs of the run.
pub struct Config {
    pub payload: u64,
    /// Heads padded to this size; `None`: heads as they come (`rtsim-live serve`).
    pub response_header_bytes: Option<u64>,
    pub long_poll_timeout: Nanos,
    pub sse_heartbeat: Option<Nanos>,
    /// Bytes of the body of a poll's answer with nothing new (`wire::empty_answer_body`).
    pub empty_body: u64,
    /// TLS on every accepted connection (`tls.rs`); `None`: plain TCP.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Every connection speaks HTTP/2 (prior knowledge, or ALPN `h2` under TLS).
    pub http2: bool,
}

struct State {
    config: Config,
    origin: Arc<Origin>,
    books: Arc<Books>,
    clock: Clock,
    deadline: Instant,
}

/// Binds 127.0.0.1 on `port` (0: a free one) and serves until `deadline`; returns the
/// address.
pub async fn start(
    port: u16,
    config: Config,
    origin: Arc<Origin>,
    books: Arc<Books>,
    clock: Clock,
    deadline: Instant,
) -> std::io::Result<SocketAddr> {
    // Refuse now, before any client starts, if the heads cannot be as configured.
    if let Some(head) = config.response_header_bytes {
        wire::poll_response_pad(0, head).map_err(std::io::Error::other)?;
        wire::stream_response_pad(head).map_err(std::io::Error::other)?;
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(State {
        config,
        origin,
        books,
        clock,
        deadline,
    });
    tokio::spawn(async move {
        while let Ok(Ok((stream, _))) = timeout_at(deadline, listener.accept()).await {
            let _ = stream.set_nodelay(true);
            let state = state.clone();
            // Two spawns, not one task with a branch: a task is as large as its largest
            // state, and a plain connection must not carry room for a TLS handshake
            // (5 KB a connection, which `rtsim calibrate` saw).
            match state.config.tls.clone() {
                None => {
                    tokio::spawn(serve_io(state, stream));
                }
                Some(acceptor) => {
                    tokio::spawn(async move {
                        // A handshake that fails or never ends is the client's error to
                        // book; the server only lets go of the socket.
                        if let Ok(Ok(tls)) = timeout_at(deadline, acceptor.accept(stream)).await {
                            serve_io(state, tls).await;
                        }
                    });
                }
            }
        }
    });
    Ok(addr)
}

/// Serves one connection (plain or in TLS) until it closes or the deadline passes.
async fn serve_io<I>(state: Arc<State>, io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    if state.config.http2 {
        // A task of its own: an HTTP/1.1 connection's task must not carry room for an
        // HTTP/2 connection's state (`rtsim calibrate` measures the former).
        tokio::spawn(serve_h2(state, io));
    } else {
        serve_h1(state, io).await;
    }
}

/// One HTTP/2 connection with hyper's defaults (its SETTINGS are what
/// `rtsim::wire::h2::server_preface_bytes(Http2Stack::Hyper)` counts); no keep-alive
/// PINGs.
async fn serve_h2<I>(state: Arc<State>, io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let deadline = state.deadline;
    let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
    let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), service);
    let _ = timeout_at(deadline, conn).await;
}

async fn serve_h1<I>(state: Arc<State>, io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let deadline = state.deadline;
    let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
    let conn = hyper::server::conn::http1::Builder::new()
        .auto_date_header(false)
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let _ = timeout_at(deadline, conn).await;
}

enum Route {
    Publish,
    Poll,
    Hold,
    Events,
    Ws,
}

/// `/<route>/<client>[?since=<n>]`.
fn parse(uri: &hyper::Uri) -> Option<(Route, u32, u64)> {
    let mut parts = uri.path().trim_start_matches('/').split('/');
    let route = match parts.next()? {
        "publish" => Route::Publish,
        "poll" => Route::Poll,
        "hold" => Route::Hold,
        "events" => Route::Events,
        "ws" => Route::Ws,
        _ => return None,
    };
    let client = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let since = match uri.query() {
        Some(q) => q.strip_prefix("since=")?.parse().ok()?,
        None => 0,
    };
    Some((route, client, since))
}

fn status(code: StatusCode) -> Response<Body> {
    let mut r = Response::new(Empty::new().boxed_unsync());
    *r.status_mut() = code;
    r
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    state.books.request(state.clock.now());
    let Some((route, c, since)) = parse(req.uri()) else {
        return Ok(status(StatusCode::NOT_FOUND));
    };
    if state.origin.feed(c).is_none() {
        return Ok(status(StatusCode::NOT_FOUND));
    }
    Ok(match route {
        Route::Publish if req.method() == hyper::Method::POST => {
            state.origin.publish(c, state.clock.now());
            status(StatusCode::CREATED)
        }
        Route::Publish => status(StatusCode::METHOD_NOT_ALLOWED),
        Route::Poll => answer(&state, c, since),
        Route::Hold => {
            let mut head = state.origin.feed(c).expect("checked").head.subscribe();
            let until = state
                .clock
                .at(state.clock.now() + state.config.long_poll_timeout)
                .min(state.deadline);
            let _ = timeout_at(until, head.wait_for(|&h| h > since)).await;
            answer(&state, c, since)
        }
        Route::Events => events(&state, c, &req),
        Route::Ws => upgrade(&state, c, req),
    })
}

/// `200 OK` with every pending update of `c` from `since` on.
fn answer(state: &State, c: u32, since: u64) -> Response<Body> {
    let updates = state.origin.since(c, since);
    let mut body = Vec::with_capacity(updates.len() * state.config.payload as usize);
    for (seq, born) in &updates {
        body.extend(wire::update_body(*seq, *born, state.config.payload));
    }
    if updates.is_empty() {
        body = wire::empty_answer_body(state.config.empty_body);
    }
    let len = body.len() as u64;
    let mut response = Response::builder();
    if state.config.http2 {
        let head = state.config.response_header_bytes.unwrap_or(0);
        response = with_h2_fields(response, head, None, len);
    } else {
        response = response.header("content-length", len);
    }
    if let (Some(head), false) = (state.config.response_header_bytes, state.config.http2) {
        match wire::poll_response_pad(len, head) {
            Ok(pad) => response = response.header(wire::PAD, pad),
            Err(_) => return status(StatusCode::INTERNAL_SERVER_ERROR), // refused at start
        }
    }
    state.books.response(state.clock.now(), updates.is_empty());
    response
        .body(Full::new(Bytes::from(body)).boxed_unsync())
        .expect("valid response")
}

/// An HTTP/2 answer's fields: the model's (`rtsim::wire::h2::response_fields` for a head
/// of `head` HTTP/1.1 bytes) with the real `content-length` (none for a stream, whose
/// `content_type` replaces the JSON one); `date` is hyper's own, which changes every
/// second as the model's does.
fn with_h2_fields(
    mut response: hyper::http::response::Builder,
    head: u64,
    content_type: Option<&str>,
    len: u64,
) -> hyper::http::response::Builder {
    for (name, value, _) in rtsim::wire::h2::response_fields(head, false) {
        response = match name {
            ":status" | "date" => response,
            "content-length" if content_type.is_some() => response,
            "content-length" => response.header(name, len),
            "content-type" => response.header(name, content_type.unwrap_or(&value)),
            _ => response.header(name, value),
        };
    }
    response
}

/// Opens an event stream; a task writes its events until the deadline.
fn events(state: &Arc<State>, c: u32, req: &Request<Incoming>) -> Response<Body> {
    let head = *state.origin.feed(c).expect("checked").head.borrow();
    let resume = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let from = resume.map_or(head, |id| id + 1);
    let (tx, rx) = mpsc::channel::<Frame<Bytes>>(256);
    tokio::spawn(write_events(state.clone(), c, from, tx));
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|f| (Ok::<_, Infallible>(f), rx))
    });
    if state.config.http2 {
        let head = state.config.response_header_bytes.unwrap_or(0);
        return with_h2_fields(Response::builder(), head, Some("text/event-stream"), 0)
            .body(StreamBody::new(frames).boxed_unsync())
            .expect("valid response");
    }
    let mut response = Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache");
    if let Some(head) = state.config.response_header_bytes {
        let pad = wire::stream_response_pad(head).unwrap_or_default();
        response = response.header(wire::PAD, pad);
    }
    response
        .body(StreamBody::new(frames).boxed_unsync())
        .expect("valid response")
}

async fn write_events(state: Arc<State>, c: u32, mut from: u64, tx: mpsc::Sender<Frame<Bytes>>) {
    let mut head = state.origin.feed(c).expect("checked").head.subscribe();
    let beat = state.config.sse_heartbeat;
    let mut next_beat = beat.map(|b| state.clock.at(state.clock.now() + b));
    loop {
        head.borrow_and_update();
        for (seq, born) in state.origin.since(c, from) {
            let event = wire::sse_event(seq, &wire::update_body(seq, born, state.config.payload));
            if tx.send(Frame::data(Bytes::from(event))).await.is_err() {
                return;
            }
            from = seq + 1;
        }
        let beat_at = next_beat.unwrap_or(state.deadline).min(state.deadline);
        tokio::select! {
            changed = head.changed() => if changed.is_err() { return },
            _ = sleep_until(beat_at) => {
                if Instant::now() >= state.deadline {
                    return;
                }
                let heartbeat = Frame::data(Bytes::from_static(wire::SSE_HEARTBEAT));
                if tx.send(heartbeat).await.is_err() {
                    return;
                }
                next_beat = next_beat.zip(beat).map(|(at, b)| at + std::time::Duration::from_nanos(b));
            }
        }
    }
}

/// Answers a WebSocket upgrade with 101; a task serves the socket until the deadline.
fn upgrade(state: &Arc<State>, c: u32, mut req: Request<Incoming>) -> Response<Body> {
    let is_upgrade = req
        .headers()
        .get("upgrade")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
        return status(StatusCode::BAD_REQUEST);
    };
    if !is_upgrade {
        return status(StatusCode::BAD_REQUEST);
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    let state = state.clone();
    let deadline = state.deadline;
    tokio::spawn(async move {
        if let Ok(Ok(upgraded)) = timeout_at(deadline, on_upgrade).await {
            // tungstenite's default read buffer is 128 KiB per socket (rtsim calibrate
            // measured 135 KB per idle WebSocket with it); a server tunes it down.
            let config = WebSocketConfig::default().read_buffer_size(WS_READ_BUFFER);
            let io = TokioIo::new(upgraded);
            let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
            let _ = timeout_at(deadline, serve_socket(state, c, ws)).await;
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "upgrade")
        .header("sec-websocket-accept", derive_accept_key(key.as_bytes()))
        .body(Empty::new().boxed_unsync())
        .expect("valid response")
}

async fn serve_socket<S>(state: Arc<State>, c: u32, mut ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut head = state.origin.feed(c).expect("checked").head.subscribe();
    // Without `resume`, a (re)connected socket starts at the stream's head.
    let mut from = *head.borrow_and_update();
    loop {
        for (seq, born) in state.origin.since(c, from) {
            let body = wire::update_body(seq, born, state.config.payload);
            if ws.send(Message::Binary(Bytes::from(body))).await.is_err() {
                return;
            }
            from = seq + 1;
        }
        tokio::select! {
            changed = head.changed() => {
                if changed.is_err() {
                    return;
                }
                head.borrow_and_update();
            }
            msg = ws.next() => match msg {
                // tungstenite queues the pong when it reads the ping; send it now.
                Some(Ok(Message::Ping(_))) => {
                    if ws.flush().await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
