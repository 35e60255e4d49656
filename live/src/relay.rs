//! The delaying relay: the network of the model, in process.
//!
//! A client's connection is an in-memory pipe to the relay; the relay holds a real TCP
//! connection to the server on 127.0.0.1. Every byte read on one side is written to the
//! other `rtt / 2` later (order kept), and counted, when it is sent, in the direction it
//! goes. Opening a connection costs one round trip, as TCP's handshake does in the model
//! (the server accepts at once; the client may send only a round trip later).
//!
//! Every pump stops at the run's hard deadline, and when either side closes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};

use crate::books::{Books, Direction};
use crate::clock::{Clock, sleep_until};

/// Size of the in-memory pipe between a client and the relay.
const PIPE_BYTES: usize = 64 * 1024;
/// Largest read the relay forwards at once.
const READ_BYTES: usize = 16 * 1024;

#[derive(Clone)]
pub struct Relay {
    server: SocketAddr,
    rtt: Duration,
    clock: Clock,
    books: Arc<Books>,
    /// Nothing of the relay outlives this instant.
    deadline: Instant,
}

impl Relay {
    pub fn new(
        server: SocketAddr,
        rtt: Duration,
        clock: Clock,
        books: Arc<Books>,
        deadline: Instant,
    ) -> Self {
        Relay {
            server,
            rtt,
            clock,
            books,
            deadline,
        }
    }

    /// Opens a connection to the server through the relay; returns the client's end once
    /// the handshake's round trip has passed.
    pub async fn dial(&self) -> std::io::Result<DuplexStream> {
        let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "run deadline");
        let upstream = timeout_at(self.deadline, TcpStream::connect(self.server))
            .await
            .map_err(|_| timed_out())??;
        upstream.set_nodelay(true)?;
        self.books.handshake(self.clock.now());
        let (client_end, relay_end) = tokio::io::duplex(PIPE_BYTES);
        let (up_read, down_write) = tokio::io::split(relay_end);
        let (down_read, up_write) = upstream.into_split();
        let one_way = self.rtt / 2;
        tokio::spawn(pump(
            up_read,
            up_write,
            one_way,
            Direction::Up,
            self.clone(),
        ));
        tokio::spawn(pump(
            down_read,
            down_write,
            one_way,
            Direction::Down,
            self.clone(),
        ));
        timeout_at(self.deadline, tokio::time::sleep(self.rtt))
            .await
            .map_err(|_| timed_out())?;
        Ok(client_end)
    }
}

/// Copies `from` to `to`, each read `delay` later, counting bytes as they are read.
async fn pump<R, W>(mut from: R, mut to: W, delay: Duration, dir: Direction, relay: Relay)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // Unbounded within a run: what is queued is what the sender wrote in one one-way delay.
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Bytes)>();
    let reader = async {
        loop {
            let mut buf = BytesMut::with_capacity(READ_BYTES);
            match from.read_buf(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    relay.books.bytes(relay.clock.now(), dir, n as u64);
                    if tx.send((Instant::now() + delay, buf.freeze())).is_err() {
                        break;
                    }
                }
            }
        }
        drop(tx);
    };
    let books = relay.books.clone();
    let clock = relay.clock;
    let writer = async move {
        while let Some((at, data)) = rx.recv().await {
            sleep_until(at).await;
            let late = Instant::now().saturating_duration_since(at);
            books.relay_write(clock.now(), late.as_nanos() as u64);
            if to.write_all(&data).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    let _ = timeout_at(relay.deadline, async { tokio::join!(reader, writer) }).await;
}
