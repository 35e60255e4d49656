//! `rtsim calibrate`: measure a server running on this machine and write a server preset
//! (`models/servers/NAME.toml`) with its figures.
//!
//! Method, figure by figure (each written into the preset beside the figure):
//! - **memory per idle keep-alive connection, held long poll, SSE stream, WebSocket**: the
//!   server's resident set (`VmRSS` in `/proc/PID/status`) before and after opening `K`
//!   such connections and letting them settle, divided by `K`; with `--command`, a fresh
//!   server process for each kind (what one kind leaves in the allocator does not count for
//!   the next); with `--pid`, the same process, one kind after another (said in the
//!   preset). Kernel socket buffers are not in the resident set and not in these figures;
//! - **CPU per request**: the process's CPU time (`utime + stime` in `/proc/PID/stat`)
//!   over `R` short polls on 8 kept-alive connections, divided by `R`;
//! - **CPU per handshake**: CPU time over `K` connections each opened, asked once and
//!   closed, divided by `K`, less the CPU of the request;
//! - **CPU per push**: with a publish path, CPU time over `P` publishes to clients with an
//!   open event stream, less that of `P` publishes to clients without one, divided by `P`;
//! - **header sizes**: the bytes of an empty poll answer's head.
//!
//! Everything connects to 127.0.0.1 only, every wait has a timeout, a server started here
//! is killed at the end, and the preset is written only when every measurement succeeded
//! (`preset.rs`; the `/proc` readers are in `procfs.rs`).
//!
//! About 700 lines: a measurement per figure, each with its own steps, timeouts and error
//! messages, sharing one server process and one progress bar; split further they would
//! only hand that state around.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

pub use crate::preset::{destination, preset_text, write_preset};
use crate::procfs::{USER_HZ, check_pid, cpu_s, rss};

/// Every network step gives up after this long.
const STEP: Duration = Duration::from_secs(10);
/// Time for the server to settle (free, allocate) before its memory is read.
const SETTLE: Duration = Duration::from_millis(500);
/// Smallest K the method allows: fewer connections drown in the allocator's noise.
pub const MIN_K: u32 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error(
        "{0} is not on this machine: calibrate measures a server on 127.0.0.1 or localhost only"
    )]
    NotLoopback(String),
    #[error(
        "nothing listens on {0} (connection refused): start the server, or give --command to start it"
    )]
    NothingListening(SocketAddr),
    #[error(
        "{path} answered {status}: the server does not speak {what} there; give the right --{option}"
    )]
    WrongAnswer {
        path: String,
        status: String,
        what: &'static str,
        option: &'static str,
    },
    #[error("no process {0} on this machine")]
    NoProcess(u32),
    #[error(
        "process {pid} ({name}) does not hold the socket listening on port {port}: give the server's own PID"
    )]
    NotTheServer { pid: u32, name: String, port: u16 },
    #[error(
        "K = {k} connections need {need} file descriptors, beyond this process's hard limit (`ulimit -Hn` = {limit}; the soft limit is raised to it): raise the hard limit or lower --k"
    )]
    TooManyForFds { k: u32, need: u64, limit: u64 },
    #[error(
        "process {pid} may open {limit} files (its `Max open files` in /proc/{pid}/limits): too few to hold K = {k} connections; raise its limit (ulimit -n before starting it) or lower --k"
    )]
    ServerFds { pid: u32, k: u32, limit: u64 },
    #[error("K = {0} is too few: the method needs at least {MIN_K} connections per figure")]
    TooFew(u32),
    #[error("could not start `{command}`: {why}")]
    Start { command: String, why: String },
    #[error("the server started by `{0}` did not listen within 10 s")]
    NeverListened(String),
    #[error("the server (process {0}) died during the measurement")]
    Died(u32),
    #[error("preset name {0:?}: use letters, digits, '-' and '_' only")]
    BadName(String),
    #[error("{0} exists; give --force to replace it")]
    Exists(PathBuf),
    #[error("{what}: {why}")]
    Step { what: String, why: String },
    #[error("writing {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, CalibrateError>;

fn step(what: impl Into<String>, why: impl std::fmt::Display) -> CalibrateError {
    CalibrateError::Step {
        what: what.into(),
        why: why.to_string(),
    }
}

/// How to reach the server's process.
#[derive(Clone, Debug)]
pub enum Server {
    /// Already running: its PID.
    Pid(u32),
    /// Started here, once per measurement, without a shell (split on spaces).
    Command(String),
}

/// Request paths; `{i}` is replaced by the connection's index.
#[derive(Clone, Debug)]
pub struct Paths {
    pub poll: String,
    pub hold: String,
    pub sse: String,
    pub ws: String,
    pub publish: Option<String>,
}

impl Paths {
    /// The reference server's (`rtsim-live serve`).
    pub fn reference() -> Self {
        Paths {
            poll: "/poll/{i}?since=0".into(),
            hold: "/hold/{i}?since=0".into(),
            sse: "/events/{i}".into(),
            ws: "/ws/{i}".into(),
            publish: Some("/publish/{i}".into()),
        }
    }
}

fn path(template: &str, i: u32) -> String {
    template.replace("{i}", &i.to_string())
}

#[derive(Clone, Debug)]
pub struct Options {
    pub name: String,
    pub url: String,
    pub server: Server,
    pub k: u32,
    pub requests: u32,
    pub paths: Paths,
    pub models: PathBuf,
    pub force: bool,
    pub quiet: bool,
}

/// One measured figure: its preset key, value, unit and how it was measured.
#[derive(Clone, Debug)]
pub struct Figure {
    pub key: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub method: String,
}

/// `http://127.0.0.1:PORT` or `http://localhost:PORT` → the socket address.
pub fn loopback_addr(url: &str) -> Result<SocketAddr> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let hostport = rest.split('/').next().unwrap_or("");
    let (host, port) = hostport
        .rsplit_once(':')
        .ok_or_else(|| CalibrateError::NotLoopback(url.to_string()))?;
    let port: u16 = port
        .parse()
        .map_err(|_| CalibrateError::NotLoopback(url.to_string()))?;
    match host {
        "127.0.0.1" | "localhost" => Ok(SocketAddr::from(([127, 0, 0, 1], port))),
        _ => Err(CalibrateError::NotLoopback(url.to_string())),
    }
}

/// A server process for one measurement: started here (and killed on drop), or the
/// user's.
struct Process {
    pid: u32,
    child: Option<Child>,
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Refuses a server whose own limit on open files cannot hold `k` connections: it would
/// refuse some mid-measurement, and the figure would be wrong.
fn check_server_fds(pid: u32, k: u32) -> Result<()> {
    match crate::fd_limit_of(&pid.to_string()) {
        Some(limit) if limit < u64::from(k) + 16 => {
            Err(CalibrateError::ServerFds { pid, k, limit })
        }
        _ => Ok(()),
    }
}

async fn launch(server: &Server, addr: SocketAddr, k: u32) -> Result<Process> {
    match server {
        Server::Pid(pid) => {
            ensure_listening(addr).await?;
            check_pid(*pid, addr.port())?;
            check_server_fds(*pid, k)?;
            Ok(Process {
                pid: *pid,
                child: None,
            })
        }
        Server::Command(command) => {
            let mut words = command.split_whitespace();
            let program = words.next().ok_or_else(|| CalibrateError::Start {
                command: command.clone(),
                why: "empty command".into(),
            })?;
            let child = std::process::Command::new(program)
                .args(words)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| CalibrateError::Start {
                    command: command.clone(),
                    why: e.to_string(),
                })?;
            let process = Process {
                pid: child.id(),
                child: Some(child),
            };
            for _ in 0..100 {
                if TcpStream::connect(addr).await.is_ok() {
                    check_pid(process.pid, addr.port())?;
                    check_server_fds(process.pid, k)?;
                    return Ok(process);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(CalibrateError::NeverListened(command.clone()))
        }
    }
}

async fn ensure_listening(addr: SocketAddr) -> Result<()> {
    match timeout(STEP, TcpStream::connect(addr)).await {
        Ok(Ok(_)) => Ok(()),
        _ => Err(CalibrateError::NothingListening(addr)),
    }
}

async fn http(addr: SocketAddr) -> Result<SendRequest<Empty<Bytes>>> {
    let stream = timeout(STEP, TcpStream::connect(addr))
        .await
        .map_err(|_| step("connecting", "timed out"))?
        .map_err(|_| CalibrateError::NothingListening(addr))?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| step("HTTP handshake", e))?;
    tokio::spawn(async move {
        let _ = timeout(Duration::from_secs(600), conn).await;
    });
    Ok(sender)
}

fn get(path: &str, accept: Option<&str>) -> hyper::Request<Empty<Bytes>> {
    let mut req = hyper::Request::get(path).header("host", "127.0.0.1");
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    req.body(Empty::new()).expect("valid request")
}

/// One short poll on `sender`, its answer read whole.
async fn poll(sender: &mut SendRequest<Empty<Bytes>>, paths: &Paths, i: u32) -> Result<()> {
    exchange(
        sender,
        &path(&paths.poll, i),
        None,
        true,
        "short polling",
        "poll-path",
    )
    .await?;
    Ok(())
}

/// A new keep-alive connection that has carried one short poll.
async fn polled_connection(
    addr: SocketAddr,
    paths: &Paths,
    i: u32,
) -> Result<SendRequest<Empty<Bytes>>> {
    let mut s = http(addr).await?;
    poll(&mut s, paths, i).await?;
    Ok(s)
}

/// Sends one GET and returns the response once its head has arrived (and, when `read`,
/// its whole body).
async fn exchange(
    sender: &mut SendRequest<Empty<Bytes>>,
    path: &str,
    accept: Option<&str>,
    read: bool,
    what: &'static str,
    option: &'static str,
) -> Result<Option<hyper::Response<hyper::body::Incoming>>> {
    let fail = |e: &dyn std::fmt::Display| step(format!("GET {path}"), e);
    timeout(STEP, sender.ready())
        .await
        .map_err(|_| fail(&"timed out"))?
        .map_err(|e| fail(&e))?;
    let resp = timeout(STEP, sender.send_request(get(path, accept)))
        .await
        .map_err(|_| fail(&"no answer within 10 s"))?
        .map_err(|e| fail(&e))?;
    if !resp.status().is_success() {
        return Err(CalibrateError::WrongAnswer {
            path: path.to_string(),
            status: resp.status().to_string(),
            what,
            option,
        });
    }
    if read {
        timeout(STEP, resp.into_body().collect())
            .await
            .map_err(|_| fail(&"body timed out"))?
            .map_err(|e| fail(&e))?;
        Ok(None)
    } else {
        Ok(Some(resp))
    }
}

/// What a connection of each kind holds open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    KeepAlive,
    LongPoll,
    Sse,
    WebSocket,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::KeepAlive, Kind::LongPoll, Kind::Sse, Kind::WebSocket];

    fn label(self) -> &'static str {
        match self {
            Kind::KeepAlive => "idle keep-alive connection",
            Kind::LongPoll => "held long poll",
            Kind::Sse => "idle SSE stream",
            Kind::WebSocket => "idle WebSocket",
        }
    }
}

/// Anything a connection keeps alive while it is measured: held, never read (dropping it
/// closes the connection).
#[allow(dead_code)]
enum Held {
    Http(
        SendRequest<Empty<Bytes>>,
        Option<hyper::Response<hyper::body::Incoming>>,
    ),
    Ws(Box<tokio_tungstenite::WebSocketStream<TcpStream>>),
    Pending(AbortOnDrop),
}

/// A task that holds a request open, ended when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn open(kind: Kind, addr: SocketAddr, paths: &Paths, i: u32) -> Result<Held> {
    match kind {
        Kind::KeepAlive => {
            let s = polled_connection(addr, paths, i).await?;
            Ok(Held::Http(s, None))
        }
        Kind::Sse => {
            let mut s = http(addr).await?;
            let p = path(&paths.sse, i);
            let resp = exchange(
                &mut s,
                &p,
                Some("text/event-stream"),
                false,
                "SSE",
                "sse-path",
            )
            .await?;
            let is_stream = resp.as_ref().is_some_and(|r| {
                r.headers()
                    .get("content-type")
                    .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
            });
            if !is_stream {
                return Err(CalibrateError::WrongAnswer {
                    path: p,
                    status: "no text/event-stream".into(),
                    what: "SSE",
                    option: "sse-path",
                });
            }
            Ok(Held::Http(s, resp))
        }
        Kind::LongPoll => {
            let mut s = http(addr).await?;
            let p = path(&paths.hold, i);
            // The request is held: it is sent, and its answer is not awaited.
            let task = tokio::spawn(async move {
                let _ = timeout(Duration::from_secs(600), s.send_request(get(&p, None))).await;
            });
            Ok(Held::Pending(AbortOnDrop(task)))
        }
        Kind::WebSocket => {
            let stream = timeout(STEP, TcpStream::connect(addr))
                .await
                .map_err(|_| step("connecting", "timed out"))?
                .map_err(|_| CalibrateError::NothingListening(addr))?;
            let p = path(&paths.ws, i);
            let url = format!("ws://127.0.0.1:{}{}", addr.port(), p);
            let (ws, _) = timeout(STEP, tokio_tungstenite::client_async(url, stream))
                .await
                .map_err(|_| step(format!("WebSocket upgrade {p}"), "timed out"))?
                .map_err(|e| CalibrateError::WrongAnswer {
                    path: p.clone(),
                    status: e.to_string(),
                    what: "WebSocket",
                    option: "ws-path",
                })?;
            Ok(Held::Ws(Box::new(ws)))
        }
    }
}

fn bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Memory per connection of `kind`, and the baseline resident set.
async fn memory(
    o: &Options,
    addr: SocketAddr,
    kind: Kind,
    bar: &ProgressBar,
) -> Result<(f64, u64)> {
    let process = launch(&o.server, addr, o.k).await?;
    bar.set_message(format!("memory per {}", kind.label()));
    // Warm the server up (first requests allocate buffers every later one reuses).
    for i in 0..8 {
        polled_connection(addr, &o.paths, i).await?;
    }
    tokio::time::sleep(SETTLE).await;
    let before = rss(process.pid)?;
    let mut held = Vec::with_capacity(o.k as usize);
    for i in 0..o.k {
        held.push(open(kind, addr, &o.paths, i).await?);
        bar.inc(1);
    }
    tokio::time::sleep(SETTLE).await;
    let after = rss(process.pid)?;
    drop(held);
    drop(process);
    Ok((after.saturating_sub(before) as f64 / f64::from(o.k), before))
}

/// The bytes of the head of an empty poll answer.
async fn response_head_bytes(addr: SocketAddr, poll: &str) -> Result<u64> {
    let mut stream = timeout(STEP, TcpStream::connect(addr))
        .await
        .map_err(|_| step("connecting", "timed out"))?
        .map_err(|_| CalibrateError::NothingListening(addr))?;
    let req = format!("GET {poll} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    stream
        .write_all(req.as_bytes())
        .await
        .map_err(|e| step("sending a poll", e))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65_536 {
        let n = timeout(STEP, stream.read(&mut chunk))
            .await
            .map_err(|_| step("reading a poll's answer", "timed out"))?
            .map_err(|e| step("reading a poll's answer", e))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| step("reading a poll's answer", "no complete HTTP head"))?;
    Ok(end as u64 + 4)
}

/// Runs every measurement; returns the figures (nothing is written here).
pub async fn measure(o: &Options) -> Result<Vec<Figure>> {
    let addr = loopback_addr(&o.url)?;
    if o.k < MIN_K {
        return Err(CalibrateError::TooFew(o.k));
    }
    // The server holds K connections, and so do we (in this process): raise our soft
    // limit to the hard one (a server started here inherits it).
    let need = u64::from(o.k) + 64;
    let limit = crate::raise_fd_limit().unwrap_or(1024);
    if need > limit {
        return Err(CalibrateError::TooManyForFds {
            k: o.k,
            need,
            limit,
        });
    }
    if let Server::Pid(pid) = o.server {
        ensure_listening(addr).await?;
        check_pid(pid, addr.port())?;
        check_server_fds(pid, o.k)?;
    }
    let fresh = matches!(o.server, Server::Command(_));
    let pushes = o.paths.publish.as_ref().map_or(0, |_| 2 * o.requests);
    let total = 4 * u64::from(o.k) + u64::from(o.requests) + u64::from(o.k) + u64::from(pushes);
    let bar = bar(total, o.quiet);
    let mut memory_of = Vec::new();
    let mut baseline = 0;
    for kind in Kind::ALL {
        let (per, base) = memory(o, addr, kind, &bar).await?;
        baseline = baseline.max(base);
        memory_of.push((kind, per));
    }
    let process = launch(&o.server, addr, o.k).await?;
    let head = response_head_bytes(addr, &path(&o.paths.poll, 0)).await?;

    bar.set_message("CPU per request");
    let mut senders = Vec::new();
    for i in 0..8 {
        senders.push(http(addr).await?);
        let _ = i;
    }
    let cpu0 = cpu_s(process.pid)?;
    let per_conn = o.requests.div_ceil(8);
    for (i, s) in senders.iter_mut().enumerate() {
        for _ in 0..per_conn {
            poll(s, &o.paths, i as u32).await?;
        }
        bar.inc(u64::from(per_conn));
    }
    let requests = per_conn * 8;
    let request_cpu_total = cpu_s(process.pid)? - cpu0;
    let request_cpu = request_cpu_total / f64::from(requests);
    drop(senders);

    bar.set_message("CPU per handshake");
    let cpu0 = cpu_s(process.pid)?;
    for i in 0..o.k {
        polled_connection(addr, &o.paths, i).await?;
        bar.inc(1);
    }
    let handshake_cpu = ((cpu_s(process.pid)? - cpu0) / f64::from(o.k) - request_cpu).max(0.0);

    let push_cpu = match &o.paths.publish {
        None => None,
        Some(publish) => {
            bar.set_message("CPU per push");
            let listeners = o.k.min(1_000);
            let mut streams = Vec::new();
            for i in 0..listeners {
                streams.push(open(Kind::Sse, addr, &o.paths, i).await?);
            }
            let mut poster = http(addr).await?;
            let mut post = |p: String| {
                let req = hyper::Request::post(p.as_str())
                    .header("host", "127.0.0.1")
                    .body(Empty::<Bytes>::new())
                    .expect("valid request");
                let fut = poster.send_request(req);
                async move {
                    let resp = timeout(STEP, fut)
                        .await
                        .map_err(|_| step(format!("POST {p}"), "timed out"))?
                        .map_err(|e| step(format!("POST {p}"), e))?;
                    if !resp.status().is_success() {
                        return Err(CalibrateError::WrongAnswer {
                            path: p,
                            status: resp.status().to_string(),
                            what: "publishing",
                            option: "publish-path",
                        });
                    }
                    Ok(())
                }
            };
            // Publishes nobody listens to: the cost of the POST alone.
            let cpu0 = cpu_s(process.pid)?;
            for n in 0..o.requests {
                post(path(publish, listeners + n % listeners)).await?;
                bar.inc(1);
            }
            let alone = cpu_s(process.pid)? - cpu0;
            let cpu0 = cpu_s(process.pid)?;
            for n in 0..o.requests {
                post(path(publish, n % listeners)).await?;
                bar.inc(1);
            }
            let with_push = cpu_s(process.pid)? - cpu0;
            drop(streams);
            Some(((with_push - alone) / f64::from(o.requests)).max(0.0))
        }
    };
    drop(process);
    bar.finish_and_clear();

    let per = |kind: Kind| {
        memory_of
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0.0, |(_, v)| *v)
    };
    let process_note = if fresh {
        "a fresh server process for each kind"
    } else {
        "the same server process, one kind after another"
    };
    let k = o.k;
    let keepalive = per(Kind::KeepAlive);
    let mut figures = vec![
        Figure {
            key: "base_memory",
            value: baseline as f64,
            unit: "B",
            method: "VmRSS of the server after 8 requests, before any measured connection".into(),
        },
        Figure {
            key: "memory_per_connection",
            value: keepalive.round(),
            unit: "B",
            method: format!(
                "VmRSS delta over K = {k} idle keep-alive connections ÷ K ({process_note}); user space only, kernel socket buffers not included"
            ),
        },
        Figure {
            key: "memory_per_request",
            value: (per(Kind::LongPoll) - keepalive).max(0.0).round(),
            unit: "B",
            method: format!(
                "VmRSS delta over K = {k} held long polls ÷ K ({:.0} B), less memory_per_connection",
                per(Kind::LongPoll)
            ),
        },
        Figure {
            key: "memory_per_stream",
            value: (per(Kind::Sse) - keepalive).max(0.0).round(),
            unit: "B",
            method: format!(
                "VmRSS delta over K = {k} idle SSE streams ÷ K ({:.0} B), less memory_per_connection; a WebSocket measured {:.0} B ({:.0} B above a connection)",
                per(Kind::Sse),
                per(Kind::WebSocket),
                (per(Kind::WebSocket) - keepalive).max(0.0)
            ),
        },
        Figure {
            key: "request_cpu",
            value: request_cpu,
            unit: "s",
            method: format!(
                "process CPU time (utime + stime, in 10 ms ticks: {:.0} here) over {requests} short polls on 8 kept-alive connections ÷ {requests}",
                request_cpu_total * USER_HZ
            ),
        },
        Figure {
            key: "tcp_accept_cpu",
            value: handshake_cpu,
            unit: "s",
            method: format!(
                "process CPU time over K = {k} connections, each opened, asked once and closed, ÷ K, less request_cpu"
            ),
        },
        Figure {
            key: "response_header_bytes",
            value: head as f64,
            unit: "B",
            method: "the head of an empty poll answer, as read from the socket".into(),
        },
    ];
    if let Some(push) = push_cpu {
        figures.push(Figure {
            key: "push_cpu",
            value: push,
            unit: "s",
            method: format!("process CPU time over {} publishes to clients with an open SSE stream, less that of as many to clients without one, ÷ {}", o.requests, o.requests),
        });
    }
    Ok(figures)
}
