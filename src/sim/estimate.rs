//! A rough cost estimate of one run, for `rtsim check`, and the budget `run`, `trace` and
//! `size` hold a run to before allocating anything for it.
//!
//! Events ≈ per-client event rate × clients × simulated time, plus the update sources,
//! the network drops and the reconnection attempts during outages; memory ≈ client state
//! and pending events, the time-series buckets, and the updates the origin retains. Each
//! technique says its own per-client event rate from its own keys; this module supplies
//! what they share (updates received, round trip, chat sends, drops). Measured against
//! actual runs by `tests/estimate.rs`: actual events and memory stay within the factor
//! stated there.

use crate::engine::time::secs;
use crate::scenario::{Pattern, Retention, Rtt, Scenario, Technique};
use crate::techniques::{ClientLoad, LongPolling, ShortPolling, Sse, WebSocket};
/// What one run is expected to cost, and the key that drives most of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub events: f64,
    pub memory_bytes: f64,
    /// The key whose value drives most of the events (e.g. `workload.rate`).
    pub events_key: &'static str,
    /// The key whose value drives most of the memory (e.g. `timeseries_bucket`).
    pub memory_key: &'static str,
}

/// Estimated events (as [`estimate`] counts them) one worker thread gets through per
/// second of wall time, for `rtsim check`'s wall-time estimate. The one place this figure
/// lives.
///
/// Measured on 2026-12-05 with the release binary and `--jobs 1` on this project's
/// machine class (a shared 2-core VM, other jobs running): the eight lessons of
/// `experiments/` (sizing inputs aside), 93.9 M estimated events in 17.1 s of wall time,
/// 5.5 M/s. Single lessons ranged from 2.4 M/s (`scale`) to 10.3 M/s (`poll-interval`):
/// the estimate's events are within a factor of about 3 of the events a run takes
/// (`tests/estimate.rs`), so a wall time from it is good to a factor of about 3 — an
/// estimate, and `check` says so. Remeasure on a new machine class: `rtsim check FILE
/// --jobs 1` gives the estimated events, `timing.json` of `rtsim run FILE --jobs 1` the
/// wall time.
pub const EVENTS_PER_WORKER_S: f64 = 5.5e6;

/// Fixed memory of a run: code, the engine's first chunks, the allocator's slack.
const BASE_MEMORY: f64 = 64.0 * 1024.0 * 1024.0;
/// Simulator bytes per client: its records (88 B, 120 with chat), its stream (24 B with
/// per-client streams), its pending events (32 B each, two or three per client). Measured
/// at 10^7 clients (`benches/engine.rs`): 195–211 B; the estimate keeps a margin.
const CLIENT_BYTES: f64 = 300.0;
/// Bytes per time-series bucket: two gauges' step and area (24 B each), the per-bucket
/// totals of the recorder, the row written out (measured: ~270 B at 3×10^6 buckets).
const BUCKET_BYTES: f64 = 320.0;
/// Bytes per update the origin retains.
const RETAINED_UPDATE_BYTES: f64 = 16.0;
/// Events of one network drop besides reconnection attempts: the break on each side,
/// the restore, a new handshake and its first request.
const EVENTS_PER_DROP: f64 = 8.0;
/// Events of one failed reconnection attempt while the network is down.
const EVENTS_PER_ATTEMPT: f64 = 3.0;

pub fn estimate(sc: &Scenario) -> Estimate {
    let n = sc.workload.clients as f64;
    let t = secs(sc.warmup.saturating_add(sc.duration));
    let rtt = match &sc.network.rtt {
        Rtt::Constant(r) => secs(*r),
        Rtt::LogNormal { median, sigma, .. } => secs(*median) * (sigma * sigma / 2.0).exp(),
    };
    let w = &sc.workload;
    // A room is never larger than the clients there are.
    let room = f64::from(w.room_size.min(w.clients).max(1));
    // Updates each client receives per second.
    let per_client = match w.pattern {
        Pattern::Broadcast => w.rate,
        Pattern::PerClient => w.rate,
        Pattern::Chat => w.rate * (room - 1.0),
    };
    let sends = if w.pattern == Pattern::Chat {
        w.rate * 4.0
    } else {
        0.0
    };
    let load = ClientLoad {
        updates_per_s: per_client,
        rtt_s: rtt,
    };
    let technique = match sc.technique {
        Technique::ShortPolling => ShortPolling::events_per_s(sc, &load),
        Technique::LongPolling => LongPolling::events_per_s(sc, &load),
        Technique::Sse => Sse::events_per_s(sc, &load),
        Technique::Websocket => WebSocket::events_per_s(sc, &load),
    } + sends;
    // Network drops, and the attempts to reconnect while the network is down (each
    // technique retries at its own pace).
    let drops = match sc.network.disconnect_every {
        Some(every) => {
            let retry = match sc.technique {
                Technique::ShortPolling => sc.short_polling.interval,
                Technique::LongPolling => sc.long_polling.backoff.initial,
                Technique::Sse => crate::techniques::Sse::first_retry(sc),
                Technique::Websocket => sc.websocket.backoff.initial,
            };
            let attempts = secs(sc.network.outage) / secs(retry).max(1e-9);
            (EVENTS_PER_DROP + EVENTS_PER_ATTEMPT * attempts) / secs(every).max(1e-9)
        }
        None => 0.0,
    };
    // Churn and gateway age limits: each new session or closed connection costs about a
    // drop's worth of events (close, reconnect, handshake, first request).
    let renewals = w.session.map_or(0.0, |s| 1.0 / secs(s).max(1e-9))
        + w.max_connection_duration
            .map_or(0.0, |m| 1.0 / secs(m).max(1e-9));
    let origin = match w.pattern {
        Pattern::Broadcast => w.rate,
        _ => w.rate * n,
    };
    let events_parts = [
        (n * t * technique, technique_key(sc, per_client)),
        (n * t * drops, "network.disconnect_every"),
        (n * t * renewals * EVENTS_PER_DROP, "workload.session"),
        (origin * t, "workload.rate"),
    ];
    // Memory: clients, time-series buckets, retained updates.
    let buckets =
        (sc.warmup.saturating_add(sc.duration) as f64 / sc.timeseries_bucket.max(1) as f64).ceil();
    let kept_for = match sc.server.retention {
        Retention::Duration(d) => secs(d).min(t) * origin,
        Retention::Count(k) => {
            let streams = match w.pattern {
                Pattern::Broadcast => 1.0,
                Pattern::PerClient => n,
                Pattern::Chat => (n / room).ceil(),
            };
            (k as f64 * streams).min(origin * t)
        }
    };
    let memory_parts = [
        (n * CLIENT_BYTES, "workload.clients"),
        (buckets * BUCKET_BYTES, "timeseries_bucket"),
        (kept_for * RETAINED_UPDATE_BYTES, "server.retention"),
        (instances_bytes(&sc.server), "server.instances"),
    ];
    let largest = |parts: &[(f64, &'static str)]| {
        parts
            .iter()
            .copied()
            .fold((f64::MIN, ""), |a, b| if b.0 > a.0 { b } else { a })
            .1
    };
    Estimate {
        events: events_parts.iter().map(|p| p.0).sum(),
        memory_bytes: BASE_MEMORY + memory_parts.iter().map(|p| p.0).sum::<f64>(),
        events_key: largest(&events_parts),
        memory_key: largest(&memory_parts),
    }
}

/// What the instances hold whatever the load: one record each and, per core, two
/// free-at times (the pool slides up a buffer twice its size: see `world/server.rs`).
fn instances_bytes(server: &crate::scenario::Server) -> f64 {
    f64::from(server.instances) * (64.0 + 16.0 * f64::from(server.cores))
}

/// The key that drives a technique's own events: the update rate when updates dominate,
/// else its own timer.
fn technique_key(sc: &Scenario, updates_per_s: f64) -> &'static str {
    let timer = match sc.technique {
        Technique::ShortPolling => ("short-polling.interval", Some(sc.short_polling.interval)),
        Technique::LongPolling => ("long-polling.timeout", Some(sc.long_polling.timeout)),
        Technique::Sse => ("sse.heartbeat", sc.sse.heartbeat),
        Technique::Websocket => ("websocket.heartbeat", sc.websocket.heartbeat),
    };
    match timer {
        (key, Some(every)) if 1.0 / secs(every).max(1e-9) > updates_per_s => key,
        _ if sc.workload.pattern == Pattern::Chat => "workload.room_size",
        _ => "workload.rate",
    }
}

/// What one run may cost before `run`, `trace` and `size` refuse it (unless told
/// `--allow-large`). Far above every lesson (the largest lesson run is ~10^7 events and
/// ~350 MiB), far below what would take hours or exhaust a laptop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    pub events: f64,
    pub memory_bytes: f64,
}

impl Budget {
    /// 10^10 events (minutes to an hour of one core) and 8 GiB per run.
    pub const DEFAULT: Budget = Budget {
        events: 1e10,
        memory_bytes: 8.0 * 1024.0 * 1024.0 * 1024.0,
    };

    /// The scenario's estimate, or why it is over budget.
    pub fn admit(&self, sc: &Scenario) -> Result<Estimate, OverBudget> {
        let e = estimate(sc);
        // NaN (an infinite rate times zero) is over budget too.
        if e.memory_bytes.is_nan() || e.memory_bytes > self.memory_bytes {
            return Err(OverBudget::Memory {
                technique: sc.technique,
                estimate: e.memory_bytes,
                budget: self.memory_bytes,
                key: e.memory_key,
            });
        }
        if e.events.is_nan() || e.events > self.events {
            return Err(OverBudget::Events {
                technique: sc.technique,
                estimate: e.events,
                budget: self.events,
                key: e.events_key,
            });
        }
        Ok(e)
    }
}

/// A run whose estimate is beyond the [`Budget`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OverBudget {
    #[error(
        "a {technique} run would need ~{} of memory (budget {}), mostly because of `{key}`; \
         change it (or duration, clients), or pass --allow-large to run it anyway",
        crate::units::human::bytes(*estimate, true),
        crate::units::human::bytes(*budget, true)
    )]
    Memory {
        technique: Technique,
        estimate: f64,
        budget: f64,
        key: &'static str,
    },
    #[error(
        "a {technique} run would take ~{} simulated events (budget {}), mostly because of \
         `{key}`; change it (or duration, clients), or pass --allow-large to run it anyway",
        crate::units::human::count(*estimate),
        crate::units::human::count(*budget)
    )]
    Events {
        technique: Technique,
        estimate: f64,
        budget: f64,
        key: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_technique_costs_something_and_more_clients_cost_more() {
        for t in Technique::ALL {
            let mut sc = Scenario::reference();
            sc.technique = t;
            let small = estimate(&sc);
            sc.workload.clients *= 10;
            let large = estimate(&sc);
            assert!(small.events > 0.0, "{t}");
            assert!(large.events > small.events, "{t}");
            assert!(large.memory_bytes > small.memory_bytes, "{t}");
        }
    }
}
