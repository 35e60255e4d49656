//! `cargo bench --bench engine [-- FILTER] [--clients N] [--until S]`: simulated events per
//! second and wall time, single thread.
//!
//! The benchmark: 1,000,000 clients of each technique for 60 simulated seconds
//! (per-client updates at 0.01/s, log-normal RTT with a 50 ms median, TLS 1.3), plus a
//! hold benchmark of the event queue against a radix heap and `BinaryHeap` at
//! 10^3–10^6 pending events.
//! Each run also prints what it measured (requests/s, empty fraction, latency, bytes), so
//! that an equivalent model in another simulator can be checked against it before its
//! speed is compared: `benches/simpy_short_polling.py` is one, and
//! `benches/compare_simpy.sh` runs the two alternately.
//! Targets (2-core machine): all four at 10^6 clients in under 60 s together, peak RSS
//! under 2 GB, and 100× the SimPy model — see the README's performance section for the
//! figures measured.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use rtsim::engine::{EventQueue, NS_PER_MS, NS_PER_S};
use rtsim::scenario::{Rtt, Scenario, Technique};
use rtsim::sim::simulate;

fn scenario(technique: Technique, clients: u32, seconds: u64) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = technique;
    sc.workload.clients = clients;
    sc.workload.rate = 0.01;
    sc.network.rtt = Rtt::LogNormal {
        median: 50 * NS_PER_MS,
        sigma: 0.5,
        min: None,
        max: None,
    };
    // A deployment that can take a million TLS handshakes in the first seconds:
    // 20 instances × 8 cores.
    sc.server.instances = 20;
    sc.server.max_connections = 100_000;
    sc.warmup = 10 * NS_PER_S;
    sc.duration = seconds * NS_PER_S;
    sc
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Pop one, push one at a random later time: ns per pair at a steady queue size.
fn hold_benchmark() {
    println!("\nevent queue hold benchmark (ns per pop+push)");
    println!(
        "{:>10} {:>14} {:>12} {:>12}",
        "pending", "calendar (ours)", "radix heap", "BinaryHeap"
    );
    for pending in [1_000usize, 100_000, 1_000_000] {
        let ops = 5_000_000usize;
        let mut x: u64 = 88172645463325252;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % 10_000_000_000
        };
        let mut q = EventQueue::new();
        for _ in 0..pending {
            q.schedule(next(), 0u64);
        }
        let t = Instant::now();
        for _ in 0..ops {
            let (now, v) = q.pop().expect("non-empty");
            q.schedule(now + next(), v);
        }
        let calendar = t.elapsed().as_nanos() as f64 / ops as f64;

        let mut r = radix_heap::RadixHeapMap::new();
        let mut seq = 0u64;
        for _ in 0..pending {
            r.push(Reverse(((next() as u128) << 64) | seq as u128), 0u64);
            seq += 1;
        }
        let t = Instant::now();
        for _ in 0..ops {
            let (Reverse(key), v) = r.pop().expect("non-empty");
            let now = (key >> 64) as u64;
            r.push(Reverse((((now + next()) as u128) << 64) | seq as u128), v);
            seq += 1;
        }
        let radix = t.elapsed().as_nanos() as f64 / ops as f64;

        let mut h = BinaryHeap::new();
        let mut seq = 0u64;
        for _ in 0..pending {
            h.push(Reverse((next(), seq, 0u64)));
            seq += 1;
        }
        let t = Instant::now();
        for _ in 0..ops {
            let Reverse((now, _, v)) = h.pop().expect("non-empty");
            h.push(Reverse((now + next(), seq, v)));
            seq += 1;
        }
        let binary = t.elapsed().as_nanos() as f64 / ops as f64;
        println!("{pending:>10} {calendar:>14.0} {radix:>12.0} {binary:>12.0}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let clients = value("--clients").unwrap_or(1_000_000) as u32;
    let seconds = value("--until").unwrap_or(60);
    let filter = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<u64>().is_err() && *a != "--bench");
    println!(
        "rtsim engine benchmark: {clients} clients, {seconds} s measured + 10 s warm-up, one thread"
    );
    println!(
        "{:14} {:>10} {:>14} {:>12} {:>12} {:>7} {:>9} {:>9} {:>11} {:>11}",
        "technique",
        "wall s",
        "events",
        "M events/s",
        "req/s",
        "empty",
        "mean s",
        "p99 s",
        "down B/s",
        "up B/s"
    );
    let mut total = 0.0;
    for t in Technique::ALL {
        if filter.is_some_and(|f| !t.name().contains(f.as_str())) {
            continue;
        }
        let sc = scenario(t, clients, seconds);
        let start = Instant::now();
        let out = simulate(&sc);
        let wall = start.elapsed().as_secs_f64();
        total += wall;
        let m = &out.metrics;
        // The measured numbers too: an equivalent model (benches/simpy_short_polling.py)
        // must agree with them before its speed means anything.
        println!(
            "{:14} {:>10.3} {:>14.0} {:>12.2} {:>12.0} {:>7.3} {:>9.3} {:>9.3} {:>11.0} {:>11.0}",
            t.name(),
            wall,
            m.events,
            m.events / wall / 1e6,
            m.requests_per_s,
            m.empty_response_fraction,
            m.latency_mean_s,
            m.latency_p99_s,
            m.bytes_down_per_s,
            m.bytes_up_per_s
        );
    }
    println!("total wall time {total:.1} s");
    if let Some(kib) = peak_rss_kib() {
        // Everything a run holds grows with clients (records, connections, queue, the
        // latency histogram does not): bytes per client is how a memory target scales.
        println!(
            "peak RSS {:.0} MiB = {:.0} B per simulated client (one run at a time)",
            kib as f64 / 1024.0,
            kib as f64 * 1024.0 / f64::from(clients)
        );
    }
    if filter.is_none() || filter.is_some_and(|f| f == "queue") {
        hold_benchmark();
    }
}
