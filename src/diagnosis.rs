//! What a row's numbers cannot say by themselves: whether the system that produced them
//! was overloaded or left tabs stalled in their browsers, and why a metric has no sample — in words, for the trade-off table,
//! the warnings of `rtsim run` and `rtsim explain`.
//!
//! A latency measured over the few pairs an overloaded server still delivered, or a
//! "light" connection cost of a server that refused most clients, is a wrong number
//! unless it carries its caveat. [`Overload`] reads the caveat from the row alone (so the
//! table can word it from `results.csv`); [`why_no_sample`] adds what the scenario says:
//! the connection storm at start-up, estimated as handshakes × CPU per handshake / cores.

use crate::engine::time::secs;
use crate::results::{Row, RunMetrics};
use crate::scenario::{Scenario, Tls};
use crate::units::human;

/// From this CPU utilization on, a row's server is saturated: queues grow for as long
/// as the run lasts, and every time measured through it is a transient.
pub const SATURATED_CPU: f64 = 0.95;

/// What in a row says the system was overloaded or lost data. Mean over replications.
#[derive(Clone, Debug, PartialEq)]
pub struct Overload {
    /// Connection attempts refused (no slot or no memory).
    pub refused: f64,
    /// CPU utilization, when saturated (≥ [`SATURATED_CPU`]).
    pub saturated_cpu: Option<f64>,
    /// Mean wait of CPU work for a core (NaN without any CPU work).
    pub queue_wait_s: f64,
    /// The busiest backplane node's utilization, when saturated (≥ [`SATURATED_CPU`]).
    pub saturated_backplane: Option<f64>,
    /// Mean wait of an update in a backplane node's queue (NaN without a backplane).
    pub backplane_wait_s: f64,
    /// (update, recipient) pairs lost (retention, a WebSocket away without `resume`).
    pub lost: f64,
    /// Pairs still on their way when the window closed.
    pub in_flight: f64,
    /// Requests waiting in the browser per user, time-averaged (`stalled_per_user`).
    pub stalled_per_user: f64,
    /// Pairs held at the end for tabs stalled in their browser: never sent.
    pub stalled_pairs: f64,
    /// Pairs delivered.
    pub delivered: f64,
}

impl Overload {
    /// The caveat of `row`, if it has one: refused connections, a saturated CPU, lost
    /// updates or tabs stalled in their browsers (a latency over the served tabs only).
    pub fn of(row: &Row) -> Option<Overload> {
        let m = &row.mean;
        let o = Overload {
            refused: m.rejected_connections,
            saturated_cpu: (m.cpu_utilization >= SATURATED_CPU).then_some(m.cpu_utilization),
            queue_wait_s: m.queue_wait_mean_s,
            saturated_backplane: (m.backplane_utilization >= SATURATED_CPU)
                .then_some(m.backplane_utilization),
            backplane_wait_s: m.backplane_wait_mean_s,
            lost: m.lost,
            in_flight: m.in_flight,
            stalled_per_user: m.stalled_per_user,
            stalled_pairs: m.stalled_pairs,
            delivered: m.deliveries,
        };
        (o.refused > 0.0
            || o.saturated_cpu.is_some()
            || o.saturated_backplane.is_some()
            || o.lost > 0.0
            || o.has_stalled_tabs())
        .then_some(o)
    }

    /// Refused connections or a saturated CPU: the server could not serve its load. (Lost
    /// updates alone come from retention or reconnections without resume, not from load.)
    pub fn is_overloaded(&self) -> bool {
        self.refused > 0.0 || self.saturated_cpu.is_some() || self.saturated_backplane.is_some()
    }

    /// Tabs waited in their browser for a connection or stream (NaN-safe: a row read
    /// from an older `results.csv` has no `stalled_pairs`).
    pub fn has_stalled_tabs(&self) -> bool {
        self.stalled_per_user > 0.0 || self.stalled_pairs > 0.0
    }

    /// The word a table cell starts with: `overloaded`, `updates lost` or `tabs stalled`.
    pub fn heading(&self) -> &'static str {
        if self.is_overloaded() {
            "overloaded"
        } else if self.lost > 0.0 {
            "updates lost"
        } else {
            "tabs stalled"
        }
    }

    /// The facts, most severe first: `702,651 refused, CPU 100%, 1,234 lost`.
    pub fn facts(&self) -> String {
        let mut parts = Vec::new();
        if self.refused > 0.0 {
            parts.push(format!("{} refused", human::thousands(self.refused)));
        }
        if let Some(rho) = self.saturated_cpu {
            parts.push(format!("CPU {}", human::percent(rho)));
        }
        if let Some(rho) = self.saturated_backplane {
            parts.push(format!("backplane {}", human::percent(rho)));
        }
        if self.lost > 0.0 {
            parts.push(format!("{} lost", human::thousands(self.lost)));
        }
        if self.has_stalled_tabs() {
            let mut s = format!(
                "{} stalled tabs/user",
                human::sig(self.stalled_per_user, 2, false)
            );
            if self.stalled_pairs > 0.0 {
                s.push_str(&format!(
                    " ({} updates never sent)",
                    human::thousands(self.stalled_pairs)
                ));
            }
            parts.push(s);
        }
        parts.join(", ")
    }

    /// Share of the window's (update, recipient) pairs that were delivered (NaN when
    /// none were created).
    pub fn delivered_share(&self) -> f64 {
        let stalled = if self.stalled_pairs.is_finite() {
            self.stalled_pairs
        } else {
            0.0
        };
        let published = self.delivered + self.lost + self.in_flight + stalled;
        if published > 0.0 {
            self.delivered / published
        } else {
            f64::NAN
        }
    }

    /// One line for the list at the end of `rtsim run`: the facts, and what they did
    /// to delivery.
    pub fn summary(&self) -> String {
        let mut s = format!("{}: {}", self.heading(), self.facts());
        if self.saturated_cpu.is_some() && self.queue_wait_s.is_finite() {
            s.push_str(&format!(
                " (mean queue wait {})",
                human::duration(self.queue_wait_s, false)
            ));
        }
        if self.saturated_backplane.is_some() && self.backplane_wait_s.is_finite() {
            s.push_str(&format!(
                " (mean backplane queue wait {})",
                human::duration(self.backplane_wait_s, false)
            ));
        }
        let share = self.delivered_share();
        if share.is_finite() {
            s.push_str(&format!("; {} of updates delivered", human::percent(share)));
        }
        s
    }
}

/// The connection storm at start-up: every client opens its connection within the
/// start window, and each handshake costs CPU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Storm {
    /// Handshakes: one connection per client.
    pub handshakes: f64,
    /// CPU of one (TCP accept + TLS handshake + first request), core-seconds.
    pub cpu_per_handshake_s: f64,
    /// Cores of all instances together.
    pub cores: f64,
    /// How long the storm keeps every core busy: handshakes × CPU per handshake / cores,
    /// and at least the start window over which the clients arrive.
    pub seconds: f64,
}

/// The connection storm of `sc` (a lower bound on its length: the steady load of the
/// clients already connected competes for the same cores).
pub fn connection_storm(sc: &Scenario) -> Storm {
    let server = &sc.server;
    let tls = if sc.network.tls == Tls::None {
        0
    } else {
        server.tls_handshake_cpu
    };
    let cpu_per_handshake_s = secs(server.tcp_accept_cpu + tls + server.request_cpu);
    let handshakes = f64::from(sc.workload.clients);
    let cores = f64::from(server.cores) * f64::from(server.instances);
    let busy = handshakes * cpu_per_handshake_s / cores.max(1.0);
    Storm {
        handshakes,
        cpu_per_handshake_s,
        cores,
        seconds: busy.max(secs(sc.workload.start_window)),
    }
}

/// The causes, in words, of a row without a latency sample, or with its latency taken
/// over part of its updates only: a saturated CPU (with ρ and the queue wait), refused
/// connections, a connection storm longer than the warm-up, no update created at all.
/// Empty when none applies.
pub fn why_no_sample(m: &RunMetrics, sc: &Scenario) -> Vec<String> {
    let mut causes = Vec::new();
    if m.cpu_utilization >= SATURATED_CPU {
        let wait = if m.queue_wait_mean_s.is_finite() {
            format!(
                ", mean queue wait {}",
                human::duration(m.queue_wait_mean_s, false)
            )
        } else {
            String::new()
        };
        causes.push(format!(
            "the CPU is saturated (ρ = {:.2}{wait})",
            m.cpu_utilization
        ));
    }
    if m.rejected_connections > 0.0 {
        causes.push(format!(
            "{} connection attempts were refused (no free slot or no memory)",
            human::thousands(m.rejected_connections)
        ));
    }
    let storm = connection_storm(sc);
    let warmup = secs(sc.warmup);
    if storm.seconds > warmup {
        causes.push(format!(
            "the connection storm outlasts the warm-up: {} handshakes × {} of CPU / {} core{} \
             ≈ {} of every core, against a warm-up of {}",
            human::thousands(storm.handshakes),
            human::duration(storm.cpu_per_handshake_s, false),
            human::thousands(storm.cores),
            if storm.cores == 1.0 { "" } else { "s" },
            human::duration(storm.seconds, false),
            human::duration(warmup, false)
        ));
    }
    let stalled = if m.stalled_pairs.is_finite() {
        m.stalled_pairs
    } else {
        0.0
    };
    let published = m.deliveries + m.lost + m.in_flight + stalled;
    if published == 0.0 {
        causes.push(
            "no update was created for these clients in the measured window \
             (workload.rate × duration too small)"
                .to_string(),
        );
    } else if m.deliveries == 0.0 {
        if m.in_flight > 0.0 {
            causes.push(format!(
                "{} (update, recipient) pairs were still on their way when the window closed",
                human::thousands(m.in_flight)
            ));
        }
        if stalled > 0.0 {
            causes.push(format!(
                "{} (update, recipient) pairs were never sent: their tabs waited in the \
                 browser for a connection or stream (stalled_per_user {})",
                human::thousands(stalled),
                human::sig(m.stalled_per_user, 2, false)
            ));
        }
    }
    causes
}

/// The warnings of one row, for stderr after a run: a latency without a sample (nothing
/// delivered) with its causes, and metrics that had no sample in only some replications.
/// `label` names the row (technique and sweep point).
pub fn warnings(row: &Row, sc: &Scenario, label: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Nothing delivered in any replication (a mean count is 0 only if every one is).
    if row.mean.deliveries == 0.0 {
        let causes = why_no_sample(&row.mean, sc);
        let because = if causes.is_empty() {
            String::new()
        } else {
            format!(": {}", causes.join("; "))
        };
        out.push(format!(
            "warning: {label}: nothing delivered in the measured window, so its latency \
             cells are empty (n/a), not 0{because}"
        ));
    }
    for (metric, missing) in &row.unsampled {
        if *missing < row.replications {
            out.push(format!(
                "warning: {label}: `{metric}` had no sample in {missing} of {} replications; \
                 its mean is left empty rather than averaged over the others",
                row.replications
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata;
    use crate::scenario::Technique;

    #[test]
    fn a_healthy_row_has_no_caveat() {
        let row = testdata::row(Technique::Sse, 100_000, None);
        assert_eq!(Overload::of(&row), None);
    }

    #[test]
    fn refusals_and_a_saturated_cpu_are_overload_lost_updates_alone_are_not() {
        let mut row = testdata::row(Technique::Sse, 100_000, None);
        row.mean.rejected_connections = 702_651.0;
        row.mean.cpu_utilization = 0.999;
        row.mean.lost = 12.0;
        let o = Overload::of(&row).unwrap();
        assert!(o.is_overloaded());
        assert_eq!(o.heading(), "overloaded");
        assert_eq!(o.facts(), "702,651 refused, CPU 99.9%, 12 lost");
        row.mean.rejected_connections = 0.0;
        row.mean.cpu_utilization = 0.949;
        let o = Overload::of(&row).unwrap();
        assert!(!o.is_overloaded());
        assert_eq!(o.heading(), "updates lost");
        assert_eq!(o.facts(), "12 lost");
    }

    #[test]
    fn a_saturated_backplane_is_overload_and_named() {
        let mut row = testdata::row(Technique::Websocket, 100_000, None);
        row.mean.backplane_utilization = 0.999;
        row.mean.backplane_wait_mean_s = 2.5;
        let o = Overload::of(&row).unwrap();
        assert!(o.is_overloaded());
        assert_eq!(o.facts(), "backplane 99.9%");
        assert!(
            o.summary().contains("mean backplane queue wait"),
            "{}",
            o.summary()
        );
        // No backplane (one instance): no sample, no caveat.
        row.mean.backplane_utilization = f64::NAN;
        assert_eq!(Overload::of(&row), None);
    }

    /// Seven SSE tabs over HTTP/1.1: the seventh never gets a connection. Its updates are
    /// neither lost nor in flight, and the served tabs' latency needs the caveat.
    #[test]
    fn stalled_tabs_are_a_caveat_and_their_updates_count_as_undelivered() {
        let mut row = testdata::row(Technique::Sse, 2_520, None);
        row.mean.lost = 0.0;
        row.mean.in_flight = 34.0;
        row.mean.deliveries = 39_500.0;
        row.mean.stalled_per_user = 1.0;
        row.mean.stalled_pairs = 6_466.0;
        let o = Overload::of(&row).expect("stalled tabs are a caveat");
        assert!(!o.is_overloaded());
        assert_eq!(o.heading(), "tabs stalled");
        assert_eq!(
            o.facts(),
            "1.0 stalled tabs/user (6,466 updates never sent)"
        );
        // 39,500 of 46,000 pairs.
        assert!((o.delivered_share() - 39_500.0 / 46_000.0).abs() < 1e-12);
        assert!(
            o.summary().ends_with("; 85.9% of updates delivered"),
            "{}",
            o.summary()
        );
        // Lost updates come first in the heading, the stalled tabs stay in the facts.
        row.mean.lost = 12.0;
        let o = Overload::of(&row).unwrap();
        assert_eq!(o.heading(), "updates lost");
        assert!(
            o.facts().starts_with("12 lost, 1.0 stalled"),
            "{}",
            o.facts()
        );
    }

    #[test]
    fn nothing_delivered_to_stalled_tabs_is_not_called_on_its_way() {
        let mut m = testdata::row(Technique::Sse, 7, None).mean;
        m.deliveries = 0.0;
        m.lost = 0.0;
        m.in_flight = 0.0;
        m.stalled_pairs = 10.0;
        m.stalled_per_user = 1.0;
        let causes = why_no_sample(&m, &Scenario::reference());
        assert!(
            causes
                .iter()
                .any(|c| c.starts_with("10 (update, recipient) pairs were never sent")),
            "{causes:?}"
        );
        assert!(
            !causes.iter().any(|c| c.contains("on their way")),
            "{causes:?}"
        );
    }

    #[test]
    fn the_storm_is_handshakes_times_cpu_over_cores() {
        let mut sc = Scenario::reference();
        sc.workload.clients = 1_000_000;
        sc.server.cores = 8;
        sc.server.instances = 1;
        sc.network.tls = Tls::V1_3;
        sc.server.tcp_accept_cpu = 50_000;
        sc.server.tls_handshake_cpu = 900_000;
        sc.server.request_cpu = 50_000;
        let s = connection_storm(&sc);
        // 10^6 × 1 ms / 8 = 125 s.
        assert!((s.seconds - 125.0).abs() < 1e-9, "{s:?}");
        sc.network.tls = Tls::None;
        assert!((connection_storm(&sc).seconds - 12.5).abs() < 1e-9);
        // Never shorter than the window the clients arrive in.
        sc.workload.clients = 1;
        assert_eq!(
            connection_storm(&sc).seconds,
            secs(sc.workload.start_window)
        );
    }
}
