//! A rough cost estimate of one run, for `rtsim check` and for refusing absurd sizes.
//!
//! Events ≈ per-client event rate × clients × simulated time; memory ≈ client state plus
//! pending events. Each technique says its own per-client event rate from its own keys;
//! this module supplies what they share (updates received, round trip, chat sends).
//! Calibrated on the reference runs (within a factor of ~2).

use crate::engine::time::secs;
use crate::scenario::{Pattern, Rtt, Scenario, Technique};
use crate::techniques::{ClientLoad, LongPolling, ShortPolling, Sse, WebSocket};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub events: f64,
    pub memory_bytes: f64,
}

pub fn estimate(sc: &Scenario) -> Estimate {
    let n = sc.workload.clients as f64;
    let t = secs(sc.warmup + sc.duration);
    let rtt = match &sc.network.rtt {
        Rtt::Constant(r) => secs(*r),
        Rtt::LogNormal { median, sigma, .. } => secs(*median) * (sigma * sigma / 2.0).exp(),
    };
    let w = &sc.workload;
    // Updates each client receives per second.
    let per_client = match w.pattern {
        Pattern::Broadcast => w.rate,
        Pattern::PerClient => w.rate,
        Pattern::Chat => w.rate * (w.room_size.saturating_sub(1)) as f64,
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
    let rate = match sc.technique {
        Technique::ShortPolling => ShortPolling::events_per_s(sc, &load),
        Technique::LongPolling => LongPolling::events_per_s(sc, &load),
        Technique::Sse => Sse::events_per_s(sc, &load),
        Technique::Websocket => WebSocket::events_per_s(sc, &load),
    } + sends;
    let origin = match w.pattern {
        Pattern::Broadcast => w.rate,
        _ => w.rate * n,
    };
    Estimate {
        events: n * t * rate + origin * t,
        memory_bytes: n * 300.0 + 64.0 * 1024.0 * 1024.0,
    }
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
