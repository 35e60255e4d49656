//! Steady state is detected, not assumed; clients join and leave as the workload says.
//!
//! - the MSER-5 detector (`rtsim::steady`) finds long polling's timeout waves
//!   (λ·timeout = 0.3) after a short warm-up, and nothing once the warm-up covers them;
//! - churn: handshakes per second = N / mean session (within 3 %), for every technique;
//! - the join key (all at once, uniform, Poisson) changes nothing in a steady window
//!   where theory says it cannot: connections, request rate, handshakes;
//! - every lesson: `rtsim check`'s predicted warm-up fits its published warm-up, and a
//!   reduced copy of it (published warm-up, duration and buckets; at most 1,000 clients)
//!   is steady in its measured window (before its first fault, if it injects one), with
//!   enough buckets to tell. `tests/lessons.rs` checks the same of the published rows. The connection storm is the only
//!   transient whose length grows with the number of clients, and the prediction covers
//!   it at the published number; timeout waves, joins and phases do not depend on it.

use std::fs;
use std::path::Path;

use rtsim::engine::NS_PER_S;
use rtsim::engine::time::secs;
use rtsim::experiment::load_str;
use rtsim::scenario::{Join, PollSchedule, Scenario, Technique};
use rtsim::sim::simulate;
use rtsim::steady::{Steadiness, detect, detect_row};
use rtsim::theory::{needed_warmup, predict};

const S: u64 = NS_PER_S;

/// Long polling with λ·timeout = 0.3: 30 s timeouts, one update per client per 100 s,
/// clients joining within 3 s (the default), so their first timeouts come in waves.
fn waves(warmup_s: u64, duration_s: u64) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = Technique::LongPolling;
    sc.workload.clients = 2_000;
    sc.workload.rate = 0.01;
    sc.long_polling.timeout = 30 * S;
    sc.warmup = warmup_s * S;
    sc.duration = duration_s * S;
    sc
}

#[test]
fn long_poll_timeout_waves_are_a_transient_until_the_warm_up_covers_them() {
    let sc = waves(10, 300);
    let out = simulate(&sc);
    match detect(&out.timeseries, 10.0) {
        Steadiness::Transient(t) => {
            assert!(t.ends_at_s > 60.0, "{t:?}");
            let text = t.sentence(10.0);
            assert!(text.contains("requests_per_s"), "{text}");
            assert!(t.spread_ratio >= 3.0, "{t:?}");
        }
        other => panic!("the waves went unseen: {other:?}"),
    }
    // The prediction says how long they last, and a warm-up that long is steady.
    let need = needed_warmup(&sc).seconds;
    assert!((400.0..=480.0).contains(&need), "predicted {need} s");
    let steady = waves(need as u64, need as u64);
    let out = simulate(&steady);
    assert_eq!(detect(&out.timeseries, need), Steadiness::Steady);
}

#[test]
fn churn_makes_handshakes_n_over_the_mean_session() {
    for t in Technique::ALL {
        let mut sc = Scenario::reference();
        sc.technique = t;
        sc.workload.clients = 3_000;
        sc.workload.rate = 0.05;
        sc.workload.session = Some(30 * S);
        sc.warmup = 30 * S;
        sc.duration = 300 * S;
        let m = simulate(&sc).metrics;
        let want = 3_000.0 / 30.0;
        let rel = (m.handshakes_per_s - want).abs() / want;
        // 30,000 handshakes: a Poisson count's σ is 0.6 %.
        assert!(
            rel < 0.03,
            "{t}: {} handshakes/s, want {want}",
            m.handshakes_per_s
        );
        let theory = rtsim::theory::value_of(&predict(&sc), "handshakes_per_s")
            .expect("predicted under churn");
        assert!((theory - want).abs() < 1e-9, "{t}: theory {theory}");
        // Every pair is still accounted for when users leave with updates pending.
        let accounted = m.deliveries + m.lost + m.in_flight + m.stalled_pairs;
        assert_eq!(accounted, m.published_pairs, "{t}");
    }
}

#[test]
fn how_clients_join_changes_nothing_in_a_steady_window() {
    // Theory: once every client has joined and connected, connections = N for the push
    // techniques and for keep-alive polling, requests/s = N / E[cycle] whatever the
    // phases (fixed-rate polling: N / interval exactly), no handshakes, and a push's
    // latency is the wire's and the server's alone.
    let joins = [
        (Join::AllAtOnce, 100.0),
        (Join::Uniform, 100.0),
        (Join::Poisson, 400.0), // 2,000 clients join in ~5 s
    ];
    for t in Technique::ALL {
        let mut rows = vec![];
        for (join, rate) in joins {
            let mut sc = Scenario::reference();
            sc.technique = t;
            sc.workload.clients = 2_000;
            sc.workload.join = join;
            sc.workload.join_rate = rate;
            sc.short_polling.schedule = PollSchedule::FixedRate;
            sc.warmup = 40 * S;
            sc.duration = 60 * S;
            rows.push((join, simulate(&sc).metrics));
        }
        let (_, first) = &rows[0];
        for (join, m) in &rows {
            assert_eq!(m.connections_mean, 2_000.0, "{t} {join:?}");
            assert_eq!(m.handshakes_per_s, 0.0, "{t} {join:?}");
            if t == Technique::ShortPolling {
                // Fixed-rate: every client polls once per interval in any window.
                let want = 2_000.0 / secs(Scenario::reference().short_polling.interval);
                assert!((m.requests_per_s - want).abs() / want < 0.01, "{join:?}");
            } else {
                let rel = (m.requests_per_s - first.requests_per_s).abs()
                    / first.requests_per_s.max(1e-9);
                assert!(
                    rel < 0.03 || t != Technique::LongPolling,
                    "{t} {join:?}: {rel}"
                );
            }
            // A pushed update waits for nothing but the wire and the server: its latency
            // does not depend on when the client joined (2,000 × 0.1 × 60 s = 12,000
            // deliveries; RTT draws differ with the phases, so 3 %).
            if matches!(t, Technique::Sse | Technique::Websocket) {
                let rel = (m.latency_mean_s - first.latency_mean_s).abs() / first.latency_mean_s;
                assert!(rel < 0.03, "{t} {join:?}: latency {rel}");
            }
        }
    }
}

#[test]
fn every_lesson_is_measured_in_steady_state() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        // Lessons are numbered in course order (`08-faults`); the name is what follows.
        let name = stem
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start_matches('-')
            .to_string();
        // `rtsim size` inputs: sizing widens each run's warm-up itself (sizing/warmup.rs).
        if name.starts_with("sizing") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        let exp = load_str(&name, &text, &[]).unwrap_or_else(|e| panic!("{e}"));
        let plan = exp.plan();
        for row in &plan.rows {
            let sc = &row.scenario;
            let need = needed_warmup(sc);
            assert!(
                need.seconds <= secs(sc.warmup),
                "{name} {}: warm-up {} s < predicted {} s ({})",
                row.technique,
                secs(sc.warmup),
                need.seconds,
                need.why
            );
            let mut small = sc.clone();
            small.workload.clients = small.workload.clients.min(1_000);
            let out = simulate(&small);
            // Judged before the first fault in the window (08-faults' crash is its lesson,
            // not a transient: docs/model.md §11).
            let verdict = detect_row(&out.timeseries, sc);
            assert!(
                verdict == Steadiness::Steady,
                "{name} {} {:?}: {verdict:?}",
                row.technique,
                row.sweep
            );
        }
    }
}
