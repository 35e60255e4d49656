//! From the world's books to the public results: the metrics of one run and its time
//! series, in the units and ratios `results` promises.

use crate::engine::NS_PER_S;
use crate::engine::time::secs;
use crate::results::{NO_SAMPLE, RunMetrics, RunOutput, TimePoint};
use crate::scenario::Scenario;
use crate::world::Books;

pub(super) fn output(sc: &Scenario, books: &Books) -> RunOutput {
    let window = books.window;
    let server = &sc.server;
    let total_cores = server.cores as u64 * server.instances as u64;
    let r = &books.recorder;
    let gauges = &books.connections;
    let d = r.duration_s();
    let window_ns = (window.end - window.start) as f64;
    // A metric with no sample in the window is NaN ("no sample"), never 0: nothing
    // delivered is not zero latency. The reports write it as an empty cell.
    let delivered = r.deliveries > 0;
    let pct = |q: f64| {
        if delivered {
            r.latency.value_at_quantile(q) as f64 / NS_PER_S as f64
        } else {
            NO_SAMPLE
        }
    };
    let total_bytes = (r.bytes_down + r.bytes_up) as f64;
    let connections_peak = gauges.connections.peak(&window) as f64;
    let memory_peak = gauges.memory.peak(&window) as f64;

    // Instances a deployment needs: enough slots, memory and CPU (at the target
    // utilization) for what the clients asked of it at the peak — what was held plus what
    // refused clients would have held (without refusals the two are the same).
    let slots = gauges.connection_demand.peak(&window) as f64 / server.max_connections as f64;
    let memory_peak_demand = gauges.memory_demand.peak(&window) as f64;
    let base = (server.base_memory * server.instances as u64) as f64;
    let per_instance_room = server.memory_limit.saturating_sub(server.base_memory) as f64;
    let memory = if per_instance_room > 0.0 {
        (memory_peak_demand - base).max(0.0) / per_instance_room
    } else {
        f64::INFINITY
    };
    let cpu = r.busy / (window_ns * server.cores as f64 * sc.target_utilization);
    let instances_needed = slots.max(memory).max(cpu).ceil().max(1.0);
    // A user's tabs are consecutive clients (`world/pool.rs`).
    let users = f64::from(sc.workload.clients.div_ceil(sc.workload.tabs.max(1)));

    let metrics = RunMetrics {
        requests_per_s: r.requests as f64 / d,
        empty_response_fraction: if r.responses == 0 {
            NO_SAMPLE
        } else {
            r.empty_responses as f64 / r.responses as f64
        },
        latency_mean_s: if delivered {
            r.latency_mean_ns() / NS_PER_S as f64
        } else {
            NO_SAMPLE
        },
        latency_p50_s: pct(0.5),
        latency_p99_s: pct(0.99),
        latency_max_s: if delivered {
            r.latency.max() as f64 / NS_PER_S as f64
        } else {
            NO_SAMPLE
        },
        connections_mean: gauges.connections.mean(&window),
        connections_peak,
        server_memory_mean_bytes: gauges.memory.mean(&window),
        server_memory_peak_bytes: memory_peak,
        cpu_utilization: r.busy / (window_ns * total_cores as f64),
        queue_wait_mean_s: if r.queue_jobs == 0 {
            NO_SAMPLE
        } else {
            r.queue_wait_sum / r.queue_jobs as f64 / NS_PER_S as f64
        },
        bytes_down_per_s: r.bytes_down as f64 / d,
        bytes_up_per_s: r.bytes_up as f64 / d,
        overhead_fraction: if total_bytes == 0.0 {
            NO_SAMPLE
        } else {
            1.0 - r.payload_bytes as f64 / total_bytes
        },
        handshakes_per_s: r.handshakes as f64 / d,
        deliveries: r.deliveries as f64,
        lost: r.lost as f64,
        in_flight: books.in_flight as f64,
        stalled_pairs: books.stalled_pairs as f64,
        rejected_connections: r.rejected as f64,
        proxy_timeouts: r.proxy_timeouts as f64,
        reconnects: r.reconnects as f64,
        streams_failed: r.streams_failed as f64,
        connections_per_user: gauges.connections.mean(&window) / users,
        memory_per_user_bytes: (gauges.memory.mean(&window) - base) / users,
        stalled_per_user: books.stalled.mean(&window) / users,
        instances_needed,
        backplane_utilization: books.backplane.utilization.unwrap_or(NO_SAMPLE),
        backplane_wait_mean_s: books
            .backplane
            .wait_mean_ns
            .map_or(NO_SAMPLE, |w| w / NS_PER_S as f64),
        published_pairs: books.published_pairs as f64,
        events: books.events as f64,
    };
    let timeseries = r
        .series(&gauges.connections, &gauges.memory)
        .into_iter()
        .map(|b| {
            let width_s = secs(b.width);
            let d = b.deliveries;
            TimePoint {
                time_s: secs(b.start),
                connections: b.connections,
                requests_per_s: b.requests as f64 / width_s,
                handshakes_per_s: b.handshakes as f64 / width_s,
                deliveries_per_s: d as f64 / width_s,
                server_memory_bytes: b.memory,
                cpu_utilization: b.busy_core_ns / (b.width as f64 * total_cores as f64),
                latency_mean_s: (d > 0).then(|| b.latency_sum_ns / d as f64 / NS_PER_S as f64),
            }
        })
        .collect();
    RunOutput {
        metrics,
        timeseries,
    }
}
