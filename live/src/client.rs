//! The load generator: one task per client, playing the technique as the model's client
//! does (docs/model.md §3–§5), through the delaying relay.
//!
//! - short polling: `GET /poll/<c>?since=<cursor>` at the client's start, then `interval`
//!   after each answer arrives (`after-response`) or on a fixed clock whose ticks skip while
//!   a poll is out (`fixed-rate`), on one kept-alive connection;
//! - long polling: `GET /hold/<c>?since=<cursor>` again as soon as an answer arrives (after
//!   `reconnect_delay`);
//! - SSE: one `GET /events/<c>` (`Accept: text/event-stream`), read until the window ends;
//! - WebSocket: one upgrade, then a ping every `heartbeat`, frames read until the end.
//!
//! Polls and streams go over HTTP/1.1 with heads padded to the configured size, or over
//! HTTP/2 (hyper's `h2`) carrying the model's own request fields
//! (`rtsim::wire::h2::request_fields`) on one connection per client.
//!
//! Each update delivered is booked with its latency from the birth time in its body. A
//! client stops at the end of the window; a failure is booked as an error, never ignored.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rtsim::engine::Nanos;
use rtsim::scenario::{PollSchedule, Technique};
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message;

use crate::books::Books;
use crate::clock::{Clock, sleep_until};
use crate::plan::Plan;
use crate::relay::Relay;
use crate::wire;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What every client of a run shares.
pub struct Ctx {
    pub plan: Arc<Plan>,
    pub relay: Relay,
    /// TLS over every connection through the relay (`tls.rs`); `None`: plain.
    pub tls: Option<tokio_rustls::TlsConnector>,
    pub clock: Clock,
    pub books: Arc<Books>,
    /// Nothing outlives this instant.
    pub deadline: Instant,
}

impl Ctx {
    fn end(&self) -> Instant {
        self.clock.at(self.plan.end())
    }

    fn over(&self) -> bool {
        self.clock.now() >= self.plan.end()
    }

    /// Books every update in a poll's body (updates of `payload` bytes one after the
    /// other); returns how many there were.
    fn deliver_body(&self, body: &[u8], now: Nanos) -> Result<u64, Error> {
        if wire::is_empty_answer(body) {
            return Ok(0);
        }
        let payload = self.plan.payload as usize;
        if body.len() % payload != 0 {
            return Err(format!("a body of {} B is not whole updates", body.len()).into());
        }
        for update in body.chunks(payload) {
            self.deliver(update, now)?;
        }
        Ok((body.len() / payload) as u64)
    }

    fn deliver(&self, update: &[u8], now: Nanos) -> Result<(), Error> {
        let born = wire::born_of(update).ok_or("an update without its birth time")?;
        self.books.delivery(now, born);
        Ok(())
    }
}

/// Runs client `c` from its start to the end of the window.
pub async fn run(ctx: Arc<Ctx>, c: u32) {
    sleep_until(ctx.clock.at(ctx.plan.start[c as usize])).await;
    let outcome = match ctx.plan.technique {
        Technique::ShortPolling | Technique::LongPolling => poll(&ctx, c).await,
        Technique::Sse => sse(&ctx, c).await,
        Technique::Websocket => websocket(&ctx, c).await,
    };
    if let Err(e) = outcome {
        ctx.books.error(format!("client {c}: {e}"));
    }
}

/// A byte stream to the server, plain or in TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// A connection through the relay, its TLS handshake done when the run has TLS (its round
/// trips pass through the relay, as on the network).
async fn connect(ctx: &Ctx) -> Result<Box<dyn Io>, Error> {
    let io = ctx.relay.dial().await?;
    Ok(match &ctx.tls {
        None => Box::new(io),
        Some(connector) => {
            let handshake = connector.connect(crate::tls::Pair::server_name(), io);
            Box::new(timeout_at(ctx.deadline, handshake).await??)
        }
    })
}

/// One HTTP connection's request side.
enum Sender {
    H1(http1::SendRequest<Empty<Bytes>>),
    H2(http2::SendRequest<Empty<Bytes>>),
}

impl Sender {
    async fn ready(&mut self) -> Result<(), hyper::Error> {
        match self {
            Sender::H1(s) => s.ready().await,
            Sender::H2(s) => s.ready().await,
        }
    }

    async fn send(&mut self, req: Request<Empty<Bytes>>) -> Result<Response<Incoming>, Error> {
        Ok(match self {
            Sender::H1(s) => s.send_request(req).await?,
            Sender::H2(s) => s.send_request(req).await?,
        })
    }
}

async fn http_connection(ctx: &Ctx) -> Result<Sender, Error> {
    let io = TokioIo::new(connect(ctx).await?);
    let deadline = ctx.deadline;
    if ctx.plan.http2 {
        let (sender, conn) = http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(async move {
            let _ = timeout_at(deadline, conn).await;
        });
        return Ok(Sender::H2(sender));
    }
    let (sender, conn) = http1::handshake(io).await?;
    tokio::spawn(async move {
        let _ = timeout_at(deadline, conn).await;
    });
    Ok(Sender::H1(sender))
}

/// `GET path`: over HTTP/1.1 with `host`, `headers` and a pad to the configured head;
/// over HTTP/2 with the model's request fields for that head (the pseudo-headers from
/// the URI, whose authority is the model's).
fn get(ctx: &Ctx, path: &str, headers: &[(&str, &str)]) -> Result<Request<Empty<Bytes>>, Error> {
    let plan = &ctx.plan;
    if plan.http2 {
        let scheme = if ctx.tls.is_some() { "https" } else { "http" };
        let authority = rtsim::wire::h2::AUTHORITY;
        let mut req = Request::get(format!("{scheme}://{authority}{path}"));
        for (name, value, _) in rtsim::wire::h2::request_fields(plan.request_header_bytes) {
            if !name.starts_with(':') {
                req = req.header(name, value);
            }
        }
        return Ok(req.body(Empty::new())?);
    }
    let extra = headers.iter().map(|(n, v)| wire::header_bytes(n, v)).sum();
    let pad = wire::request_pad(path, extra, plan.request_header_bytes)?;
    let mut req = Request::get(path).header("host", wire::HOST);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    Ok(req.header(wire::PAD, pad).body(Empty::new())?)
}

/// Short and long polling: one kept-alive connection, one request at a time.
async fn poll(ctx: &Ctx, c: u32) -> Result<(), Error> {
    let plan = &ctx.plan;
    let (route, long) = match plan.technique {
        Technique::LongPolling => ("hold", true),
        _ => ("poll", false),
    };
    let interval = Duration::from_nanos(plan.poll_interval);
    let mut sender = http_connection(ctx).await?;
    let mut tick = Instant::now();
    let mut cursor = 0;
    while !ctx.over() {
        let path = format!("/{route}/{c}?since={cursor}");
        let req = get(ctx, &path, &[])?;
        // An answer still out when the window ends no longer counts: stop waiting.
        let exchange = async {
            sender.ready().await?;
            let resp = sender.send(req).await?;
            if resp.status() != hyper::StatusCode::OK {
                return Err(format!("{path} answered {}", resp.status()).into());
            }
            Ok::<_, Error>(resp.into_body().collect().await?.to_bytes())
        };
        let Ok(body) = timeout_at(ctx.end(), exchange).await else {
            return Ok(());
        };
        cursor += ctx.deliver_body(&body?, ctx.clock.now())?;
        let next = if long {
            Instant::now() + Duration::from_nanos(plan.long_poll_reconnect_delay)
        } else {
            match plan.poll_schedule {
                PollSchedule::AfterResponse => Instant::now() + interval,
                PollSchedule::FixedRate => {
                    // Ticks that found this poll still out are skipped.
                    let now = Instant::now();
                    while tick <= now {
                        tick += interval;
                    }
                    tick
                }
            }
        };
        sleep_until(next.min(ctx.end())).await;
    }
    Ok(())
}

/// SSE: one stream, read until the window ends.
async fn sse(ctx: &Ctx, c: u32) -> Result<(), Error> {
    let mut sender = http_connection(ctx).await?;
    let path = format!("/events/{c}");
    let req = get(ctx, &path, &[("accept", "text/event-stream")])?;
    timeout_at(ctx.end(), sender.ready()).await??;
    let resp = timeout_at(ctx.end(), sender.send(req)).await??;
    if resp.status() != hyper::StatusCode::OK {
        return Err(format!("{path} answered {}", resp.status()).into());
    }
    let mut body = resp.into_body();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let frame = match timeout_at(ctx.end(), body.frame()).await {
            Err(_) => return Ok(()), // the window is over
            Ok(None) => return Err("the event stream closed".into()),
            Ok(Some(frame)) => frame?,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let now = ctx.clock.now();
        buf.extend_from_slice(&data);
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = buf.drain(..end + 2).collect();
            if event.starts_with(b":") {
                continue; // a heartbeat comment
            }
            let data_line = event
                .split(|&b| b == b'\n')
                .find_map(|line| line.strip_prefix(b"data: "))
                .ok_or("an event without data")?;
            ctx.deliver(data_line, now)?;
        }
    }
}

/// WebSocket: one upgrade, pings every `heartbeat`, frames read until the window ends.
async fn websocket(ctx: &Ctx, c: u32) -> Result<(), Error> {
    let io = connect(ctx).await?;
    let url = format!("ws://{}/ws/{c}", wire::HOST);
    let (mut ws, _) = timeout_at(ctx.end(), tokio_tungstenite::client_async(url, io)).await??;
    let beat = ctx.plan.ws_heartbeat.map(Duration::from_nanos);
    let mut next_ping = beat.map(|b| Instant::now() + b);
    loop {
        let ping_at = next_ping.unwrap_or(ctx.end()).min(ctx.end());
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Binary(update))) => ctx.deliver(&update, ctx.clock.now())?,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Err("the socket closed".into()),
            },
            _ = sleep_until(ping_at) => {
                if ctx.over() {
                    return Ok(());
                }
                timeout_at(ctx.deadline, ws.send(Message::Ping(Bytes::new()))).await??;
                next_ping = next_ping.zip(beat).map(|(at, b)| at + b);
            }
        }
    }
}
