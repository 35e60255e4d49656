//! The warm-up a scenario needs, predicted before running (`rtsim check`): when the
//! clients have joined and connected, and when the synchronized waves of deterministic
//! timers (long-poll timeouts, a proxy's idle timeout, a gateway's age limit) have died
//! down. Derivations in `docs/model.md` ("How long to warm up"); the measured
//! answer is the MSER-5 detector's (`crate::steady`) after the run.

use crate::engine::time::secs;
use crate::scenario::{Join, Scenario, Technique};
use crate::steady;

use super::inputs::Inputs;

/// The long-poll waves count as gone once the synchronized share of clients is below this.
pub const WAVE_SHARE: f64 = 0.01;

/// A wave that keeps more than this share each round never visibly dies.
const NEVER_MIXES: f64 = 0.999;

/// What the scenario needs before its measured window starts.
#[derive(Clone, Debug, PartialEq)]
pub struct WarmupNeed {
    /// Seconds from the start of the run, rounded up to the detector's resolution (5
    /// time-series buckets).
    pub seconds: f64,
    /// What sets it, in words.
    pub why: String,
}

/// When the last client has joined (s): the join spread.
fn joins_end(sc: &Scenario) -> (f64, String) {
    let w = &sc.workload;
    let n = w.clients as f64;
    match w.join {
        Join::AllAtOnce => (0.0, "every client joins at 0 s".into()),
        Join::Uniform => {
            let s = secs(w.start_window);
            (s, format!("clients join over start_window = {s} s"))
        }
        Join::Poisson => {
            // The last of N Poisson joins: mean N/rate, standard deviation √N/rate.
            let t = (n + 3.0 * n.sqrt()) / w.join_rate;
            (
                t,
                format!(
                    "{n} Poisson joins at {} per second end by ~{t:.1} s (N/rate + 3σ)",
                    w.join_rate
                ),
            )
        }
    }
}

/// Predicts the warm-up `sc` needs.
pub fn needed_warmup(sc: &Scenario) -> WarmupNeed {
    let inp = Inputs::new(sc);
    let (joined, join_why) = joins_end(sc);
    // Connection storm: every client's handshake CPU on all cores of all instances.
    let storm = inp.n * inp.s_h / (inp.cores as f64 * inp.instances);
    let connect = (2.0 + inp.tls_rt) * inp.r_max.unwrap_or(4.0 * inp.r);
    let mut need = joined.max(storm) + connect;
    let mut why = if storm > joined {
        format!(
            "connection storm: N·s_h/(c·I) = {}·{:.6}/({}·{}) = {storm:.1} s of handshakes, \
             longer than the joins ({join_why}), plus {connect:.2} s to connect",
            inp.n, inp.s_h, inp.cores, inp.instances
        )
    } else {
        format!("{join_why}, plus {connect:.2} s to connect and ask")
    };
    // Deterministic timers that started together keep a synchronized share: long-poll
    // timeouts (kept with probability e^{−λ·T} per round) and gateway age limits (kept
    // unless the session ends first); sessions ending re-draw a client's phase.
    let churn_keep = |period: f64| {
        sc.workload
            .session
            .map_or(1.0, |s| (-period / secs(s)).exp())
    };
    let mut waves = vec![];
    // Updates per second one client receives: any of them ends a hold or resets an idle
    // timer, and so shifts that client out of step.
    let lambda = match sc.workload.pattern {
        crate::scenario::Pattern::Chat => {
            sc.workload.rate * (sc.workload.room_size.max(2) - 1) as f64
        }
        _ => sc.workload.rate,
    };
    let proxy = sc.network.proxy_idle_timeout.map(secs);
    if sc.technique == Technique::LongPolling {
        // A hold ends at its timeout, or at the proxy's idle timeout if that comes first
        // (a 504, and the client polls again at once).
        let timeout = secs(sc.long_polling.timeout);
        let (t, what) = match proxy {
            Some(p) if p < timeout => (
                p,
                format!(
                    "long-poll waves at the proxy's idle timeout ({p} s, before the {timeout} s \
                     hold ends; λ·{p} s = {:.2})",
                    lambda * p
                ),
            ),
            _ => (
                timeout,
                format!(
                    "long-poll timeout waves (λ·timeout = {:.2})",
                    lambda * timeout
                ),
            ),
        };
        waves.push((t + inp.r, (-lambda * t).exp() * churn_keep(t), what));
    }
    if sc.technique == Technique::Sse {
        // Without heartbeats inside the proxy's idle window, a stream dies after P quiet
        // seconds and comes back after `retry`: the same waves, kept by e^{−λP}.
        if let Some(p) = proxy.filter(|&p| sc.sse.heartbeat.is_none_or(|h| secs(h) >= p)) {
            let retry = secs(crate::techniques::Sse::first_retry(sc));
            let period = p + retry + (2.0 + inp.tls_rt) * inp.r;
            waves.push((
                period,
                (-lambda * p).exp() * churn_keep(period),
                format!("SSE idle-timeout waves (no heartbeat within the proxy's {p} s)"),
            ));
        }
    }
    if let Some(m) = sc.workload.max_connection_duration.map(secs) {
        waves.push((m, churn_keep(m), "gateway age-limit waves".to_string()));
    }
    for (period, keep, what) in waves {
        let synchronized = (1.0 - joined / period).max(0.0);
        if synchronized <= WAVE_SHARE {
            continue;
        }
        if keep >= NEVER_MIXES {
            why = format!(
                "{why}; {what}: the clients' phases never mix (each round keeps {:.1} % in \
                 step) — spread the joins over at least {period:.0} s",
                100.0 * keep
            );
            continue;
        }
        // Wave k (at k rounds) carries synchronized·keep^k of the clients: the last one
        // worth waiting for is the last at or above WAVE_SHARE.
        let last = ((WAVE_SHARE / synchronized).ln() / keep.ln())
            .floor()
            .max(0.0);
        let end = joined + last * period + connect;
        if last >= 1.0 && end > need {
            need = end;
            why = format!(
                "{what}: {:.0} % of clients start in step and each {period:.1} s round keeps \
                 {:.1} % of them; the last wave above {} % comes after {last} rounds",
                100.0 * synchronized,
                100.0 * keep,
                100.0 * WAVE_SHARE
            );
        }
    }
    let resolution = steady::BATCH as f64 * secs(sc.timeseries_bucket.max(1));
    WarmupNeed {
        seconds: (need / resolution).ceil() * resolution,
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NS_PER_S;

    #[test]
    fn a_storm_longer_than_the_joins_sets_the_warm_up() {
        let mut sc = Scenario::reference();
        sc.technique = Technique::Sse;
        sc.workload.clients = 1_000_000;
        let inp = Inputs::new(&sc);
        let storm = 1e6 * inp.s_h / inp.cores as f64;
        assert!(
            storm > 3.0,
            "the reference handshake CPU makes a storm: {storm}"
        );
        let need = needed_warmup(&sc);
        assert!(
            need.seconds >= storm && need.seconds < storm + 6.0,
            "{need:?}"
        );
        assert!(need.why.contains("connection storm"));
    }

    #[test]
    fn long_poll_waves_take_rounds_of_the_timeout() {
        // λ·T = 0.3: each round keeps e^{−0.3} = 74 %; 3 s of joins in a 30 s cycle leave
        // 90 % in step: ⌊ln(0.01/0.9)/ln(0.741)⌋ = 14 rounds → 3 + 14 × 30.05 + 0.15 s,
        // rounded up to 5 s.
        let mut sc = Scenario::reference();
        sc.technique = Technique::LongPolling;
        sc.workload.rate = 0.01;
        sc.long_polling.timeout = 30 * NS_PER_S;
        let need = needed_warmup(&sc);
        assert_eq!(need.seconds, 425.0, "{need:?}");
        // λ·T = 3: 5 % kept per round, so one wave of 4.5 % at 30 s, none after.
        sc.workload.rate = 0.1;
        assert_eq!(needed_warmup(&sc).seconds, 35.0);
        // λ·T = 6: 0.2 % kept, 0.22 % < 1 %: no wave, only the joins.
        sc.workload.rate = 0.2;
        assert_eq!(needed_warmup(&sc).seconds, 5.0);
        sc.workload.rate = 0.01;
        // Joins spread over a whole timeout: no waves, only the joins.
        sc.workload.start_window = 30 * NS_PER_S;
        assert!(needed_warmup(&sc).seconds <= 35.0);
    }

    #[test]
    fn a_proxy_idle_timeout_sets_the_wave_period_when_it_cuts_holds_or_streams() {
        // A 90 s hold behind a 55 s proxy ends at 55 s: λ·55 = 0.55 keeps 57.7 % a round,
        // 3 s of joins leave 1 − 3/(55 + r) in step: the same wave count as for a 55 s
        // timeout, and nothing like the 90 s one.
        let mut sc = Scenario::reference();
        sc.technique = Technique::LongPolling;
        sc.workload.rate = 0.01;
        sc.network.proxy_idle_timeout = Some(55 * NS_PER_S);
        sc.long_polling.timeout = 90 * NS_PER_S;
        let cut = needed_warmup(&sc);
        assert!(cut.why.contains("proxy's idle timeout (55 s"), "{cut:?}");
        sc.network.proxy_idle_timeout = None;
        sc.long_polling.timeout = 55 * NS_PER_S;
        assert_eq!(needed_warmup(&sc).seconds, cut.seconds);
        // SSE without a heartbeat inside the proxy's window dies in waves every
        // 55 s + retry; a 15 s heartbeat keeps the streams alive, and only the joins count.
        sc.technique = Technique::Sse;
        sc.network.proxy_idle_timeout = Some(55 * NS_PER_S);
        sc.sse.heartbeat = None;
        let idle = needed_warmup(&sc);
        assert!(idle.why.contains("SSE idle-timeout waves"), "{idle:?}");
        assert!(idle.seconds > 300.0, "{idle:?}");
        sc.sse.heartbeat = Some(15 * NS_PER_S);
        assert!(needed_warmup(&sc).seconds <= 5.0);
        // Joins spread over a whole period mix the phases from the start.
        sc.sse.heartbeat = None;
        sc.workload.start_window = 60 * NS_PER_S;
        assert!(needed_warmup(&sc).seconds <= 65.0);
    }
}
