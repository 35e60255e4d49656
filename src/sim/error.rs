//! Why a run did not reach the end of its window: Ctrl-C, or a world that stopped moving
//! in time — and, for the latter, which of the scenario's keys most likely did it.
//!
//! The experiment's key checks give every timer a physical minimum, so a stuck run means
//! a combination the checks could not foresee; the message names every short delay the
//! run's technique reads, shortest first, for the user to lengthen.

use crate::engine::Nanos;
use crate::engine::time::NS_PER_MS;
use crate::scenario::{Rtt, Scenario, Technique};
use crate::units::text::format_duration;
use crate::world::Halt;

/// A run that stopped before the end of its window.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("interrupted")]
    Interrupted,
    #[error(
        "{technique} run stuck at simulated time {:.6} s: {events} events without time \
         moving (a delay too short for the world to make progress); likely keys: {}",
        crate::engine::time::secs(*at),
        if suspects.is_empty() { "none below 1ms — please report this scenario".to_string() }
        else { suspects.join(", ") }
    )]
    Stuck {
        technique: Technique,
        at: Nanos,
        events: u64,
        /// `key = value` of every delay of 1 ms or less the technique reads, shortest first.
        suspects: Vec<String>,
    },
}

impl SimError {
    pub(crate) fn from_halt(sc: &Scenario, halt: Halt) -> SimError {
        match halt {
            Halt::Interrupted => SimError::Interrupted,
            Halt::Stuck { at, events } => SimError::Stuck {
                technique: sc.technique,
                at,
                events,
                suspects: short_delays(sc),
            },
        }
    }
}

/// Every delay of the scenario (that its technique reads) of 1 ms or less, shortest first.
fn short_delays(sc: &Scenario) -> Vec<String> {
    let mut delays: Vec<(&str, Nanos)> = vec![
        ("timeseries_bucket", sc.timeseries_bucket),
        ("workload.start_window", sc.workload.start_window),
        (
            "workload.post_retry.initial",
            sc.workload.post_retry.initial,
        ),
        ("network.outage", sc.network.outage),
        ("server.keepalive_timeout", sc.server.keepalive_timeout),
    ];
    // Read only where there is a backplane.
    if crate::world::backplane::exists(sc) {
        delays.push(("server.backplane_latency", sc.server.backplane_latency));
    }
    let (Rtt::Constant(rtt) | Rtt::LogNormal { median: rtt, .. }) = sc.network.rtt;
    delays.push(("network.rtt", rtt));
    let mut optional = vec![
        ("network.disconnect_every", sc.network.disconnect_every),
        ("network.proxy_idle_timeout", sc.network.proxy_idle_timeout),
    ];
    match sc.technique {
        Technique::ShortPolling => {
            delays.push(("short-polling.interval", sc.short_polling.interval));
            delays.push(("short-polling.jitter", sc.short_polling.jitter));
        }
        Technique::LongPolling => {
            delays.push(("long-polling.timeout", sc.long_polling.timeout));
            delays.push((
                "long-polling.reconnect_delay",
                sc.long_polling.reconnect_delay,
            ));
            delays.push((
                "long-polling.backoff.initial",
                sc.long_polling.backoff.initial,
            ));
        }
        Technique::Sse => {
            delays.push(("sse.retry", crate::techniques::Sse::first_retry(sc)));
            delays.push(("sse.reopen_backoff.initial", sc.sse.reopen_backoff.initial));
            optional.push(("sse.heartbeat", sc.sse.heartbeat));
            optional.push(("sse.server_retry", sc.sse.server_retry));
        }
        Technique::Websocket => {
            delays.push((
                "websocket.heartbeat_timeout",
                sc.websocket.heartbeat_timeout,
            ));
            delays.push(("websocket.backoff.initial", sc.websocket.backoff.initial));
            optional.push(("websocket.heartbeat", sc.websocket.heartbeat));
        }
    }
    delays.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
    delays.retain(|&(_, d)| d <= NS_PER_MS);
    delays.sort_by_key(|&(k, d)| (d, k));
    delays
        .into_iter()
        .map(|(k, d)| format!("{k} = \"{}\"", format_duration(d)))
        .collect()
}
