//! Keep-alive and the proxy: when an idle connection gets closed, and by whom.
//!
//! Two timers can close a connection nobody uses: the server's keep-alive (between
//! requests, from a response's departure) and an intermediary's idle timeout (any
//! connection silent for that long, a held long poll or a quiet stream included). Both
//! deadlines are known in advance from the connection's last activity, so one check per
//! connection is scheduled at the earlier of them and moved when activity moves it.

use crate::engine::Nanos;
use crate::world::connections::{Conn, ConnState};

/// The idle deadlines of a run.
#[derive(Clone, Copy, Debug)]
pub(super) struct IdleTimers {
    keepalive: Nanos,
    proxy: Option<Nanos>,
}

/// What an idle check that came due finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IdleVerdict {
    /// Activity moved the deadline: check again then.
    NotYet,
    /// Keep-alive ran out, but the last response is still on the wire: TCP delivers the
    /// data before the FIN, so the close takes effect once the client has it (at `at`).
    AfterDelivery { at: Nanos },
    /// The server's keep-alive timer: an orderly close.
    KeepAliveCloses,
    /// The intermediary gives up on a silent connection.
    ProxyCloses,
}

impl IdleTimers {
    pub fn new(keepalive: Nanos, proxy: Option<Nanos>) -> Self {
        IdleTimers { keepalive, proxy }
    }

    /// When an idle connection will be closed (keep-alive or proxy), if nothing passes.
    pub fn due(&self, conn: &Conn) -> Nanos {
        let mut due = Nanos::MAX;
        if let Some(proxy) = self.proxy {
            due = conn.last_activity().saturating_add(proxy);
        }
        // Keep-alive runs between requests: from a response's departure. Before its first
        // request a new connection waits under the server's header timeout instead (not
        // modelled), so a keep-alive shorter than a round trip cannot starve it.
        if conn.state() == ConnState::Idle && conn.last_departure() > 0 {
            due = due.min(conn.last_activity().saturating_add(self.keepalive));
        }
        due
    }

    /// How long an open stream may stay silent before the proxy closes it (for ever
    /// without a proxy): a check due before `now` plus this finds it active again if
    /// anything passed on it at or after `now`.
    pub fn stream_silence(&self) -> Nanos {
        self.proxy.unwrap_or(Nanos::MAX)
    }

    /// Can a request sent at `sent` on this connection use it — open, free, and reaching
    /// the server (`one_way` later) before keep-alive or the proxy closes it — if nothing
    /// but the passing of time happens to it meanwhile?
    #[inline]
    pub fn usable_at(&self, conn: &Conn, one_way: Nanos, sent: Nanos) -> bool {
        conn.state() == ConnState::Idle && !conn.in_use() && sent + one_way < self.due(conn)
    }

    /// The check scheduled for `conn` came due at `now`.
    pub fn verdict(&self, conn: &Conn, now: Nanos, one_way: Nanos) -> IdleVerdict {
        let due = self.due(conn);
        if now < due {
            return IdleVerdict::NotYet;
        }
        let keepalive_due = conn.last_activity().saturating_add(self.keepalive);
        if conn.state() == ConnState::Idle && keepalive_due <= due {
            if conn.in_use() {
                return IdleVerdict::AfterDelivery {
                    at: conn.last_departure() + one_way,
                };
            }
            return IdleVerdict::KeepAliveCloses;
        }
        IdleVerdict::ProxyCloses
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use crate::world::connections::Connections;
    use crate::world::metrics::Window;
    use crate::world::server::ConnUse;

    /// An idle connection that last sent a response at `at`.
    fn idle_after_response(at: Nanos) -> Conn {
        let sc = Scenario::reference();
        let window = Window {
            start: 0,
            end: 100,
            bucket: 100,
        };
        let mut cs = Connections::new(&sc, window, ConnUse::Idle, false);
        let mut conn = Conn::CLOSED;
        conn.connect();
        cs.admit(&mut conn, 0).expect("a slot");
        cs.set_state(&mut conn, ConnState::Idle, 0);
        conn.depart(at);
        conn.touch(at);
        conn
    }

    #[test]
    fn keepalive_runs_from_the_last_response_and_the_proxy_from_any_activity() {
        let conn = idle_after_response(100);
        assert_eq!(IdleTimers::new(50, None).due(&conn), 150);
        assert_eq!(IdleTimers::new(50, Some(20)).due(&conn), 120);
        assert_eq!(IdleTimers::new(50, Some(80)).due(&conn), 150);
    }

    #[test]
    fn a_new_connection_waits_for_its_first_request_without_keepalive() {
        let mut conn = idle_after_response(0);
        conn.touch(10);
        assert_eq!(IdleTimers::new(5, None).due(&conn), Nanos::MAX);
        assert_eq!(IdleTimers::new(5, Some(30)).due(&conn), 40);
    }

    #[test]
    fn a_request_must_arrive_before_the_deadline() {
        let conn = idle_after_response(100);
        let timers = IdleTimers::new(50, None);
        assert!(timers.usable_at(&conn, 10, 139));
        assert!(!timers.usable_at(&conn, 10, 140));
        let mut busy = conn;
        busy.sent();
        assert!(!timers.usable_at(&busy, 10, 100));
    }

    #[test]
    fn verdicts() {
        let conn = idle_after_response(100);
        let timers = IdleTimers::new(50, Some(80));
        assert_eq!(timers.verdict(&conn, 149, 5), IdleVerdict::NotYet);
        assert_eq!(timers.verdict(&conn, 150, 5), IdleVerdict::KeepAliveCloses);
        let mut on_the_wire = conn;
        on_the_wire.sent();
        assert_eq!(
            timers.verdict(&on_the_wire, 150, 5),
            IdleVerdict::AfterDelivery { at: 105 }
        );
        let proxy_first = IdleTimers::new(50, Some(20));
        assert_eq!(proxy_first.verdict(&conn, 120, 5), IdleVerdict::ProxyCloses);
    }
}
