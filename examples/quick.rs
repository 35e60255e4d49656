//! Runs the reference scenario with each technique and prints the main metrics.
use rtsim::scenario::{Scenario, Technique};
use rtsim::sim::simulate;

fn main() {
    let clients: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    for t in Technique::ALL {
        let mut sc = Scenario::reference();
        sc.technique = t;
        sc.workload.clients = clients;
        let start = std::time::Instant::now();
        let out = simulate(&sc);
        let m = &out.metrics;
        println!(
            "{:14} req/s {:9.1} empty {:.4} lat mean {:.4} p50 {:.4} p99 {:.4} max {:.4} conns {:8.1} peak {} mem {:.3e} cpu {:.5} qwait {:.2e} down {:.0} up {:.0} ovh {:.3} hs/s {:.1} deliv {} lost {} infl {} pub {} ev {} ({:.2}s)",
            t.name(),
            m.requests_per_s,
            m.empty_response_fraction,
            m.latency_mean_s,
            m.latency_p50_s,
            m.latency_p99_s,
            m.latency_max_s,
            m.connections_mean,
            m.connections_peak,
            m.server_memory_mean_bytes,
            m.cpu_utilization,
            m.queue_wait_mean_s,
            m.bytes_down_per_s,
            m.bytes_up_per_s,
            m.overhead_fraction,
            m.handshakes_per_s,
            m.deliveries,
            m.lost,
            m.in_flight,
            m.published_pairs,
            m.events,
            start.elapsed().as_secs_f64()
        );
    }
}
