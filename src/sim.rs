//! One simulation run: a [`Scenario`] in, a [`RunOutput`] out.
//!
//! Builds the world, lets the technique's clients loose on it until the end of the
//! measured window, then closes the books: every (update, recipient) pair created in the
//! window is counted once — delivered, lost, or still in flight.

use crate::engine::NS_PER_S;
use crate::results::{RunMetrics, RunOutput};
use crate::scenario::{Scenario, Technique};
use crate::techniques::{LongPolling, ShortPolling, Sse, WebSocket};
use crate::world::World;
use crate::world::trace::Trace;

/// Simulates one run.
pub fn simulate(sc: &Scenario) -> RunOutput {
    finish(run(sc, |_| {}))
}

/// Simulates one run and records every message (for `rtsim trace`: keep it tiny).
pub fn simulate_traced(sc: &Scenario) -> (RunOutput, Trace) {
    let mut w = run(sc, World::record_trace);
    let trace = w.trace.take().unwrap_or_default();
    (finish(w), trace)
}

/// Simulates one run with every step scheduled as an event, none taken early (see
/// [`World::schedule_every_step`]): the reference that those shortcuts are tested against.
pub fn simulate_every_step(sc: &Scenario) -> RunOutput {
    finish(run(sc, World::schedule_every_step))
}

/// Builds the world, lets `setup` adjust it, and runs the scenario's technique to the
/// end of the window.
fn run(sc: &Scenario, setup: impl FnOnce(&mut World)) -> World {
    let mut w = World::new(sc);
    setup(&mut w);
    match sc.technique {
        Technique::ShortPolling => w.run(&mut ShortPolling::new(sc)),
        Technique::LongPolling => w.run(&mut LongPolling::new(sc)),
        Technique::Sse => w.run(&mut Sse::new(sc)),
        Technique::Websocket => w.run(&mut WebSocket::new(sc)),
    }
    w
}

/// Pairs still pending at the end: at the origin or on the wire. Retention is applied
/// first, so what had already fallen out of it counts as lost, not in flight.
fn count_in_flight(w: &mut World) -> u64 {
    let end = w.end;
    let window = w.rec.window;
    let mut in_flight = 0;
    for c in 0..w.sc.workload.clients {
        w.expire_at(c, end);
        let cursor = w.clients[c as usize].cursor;
        let head = w.head(c);
        in_flight += w
            .origin
            .for_client(c, cursor, head)
            .filter(|r| window.contains(r.created) && r.created < end)
            .count() as u64;
    }
    in_flight + w.pairs_in_transit()
}

fn finish(mut w: World) -> RunOutput {
    let window = w.rec.window;
    // Close the clock on the world at exactly the end of the window.
    let in_flight = count_in_flight(&mut w);
    let server = &w.sc.server;
    let total_cores = server.cores as u64 * server.instances as u64;
    let r = &w.rec;
    let d = r.duration_s();
    let window_ns = (window.end - window.start) as f64;
    let pct = |q: f64| {
        if r.deliveries == 0 {
            0.0
        } else {
            r.latency.value_at_quantile(q) as f64 / NS_PER_S as f64
        }
    };
    let total_bytes = (r.bytes_down + r.bytes_up) as f64;
    let connections_peak = w.connections.peak(&window) as f64;
    let memory_peak = w.memory.peak(&window) as f64;

    // Instances a deployment needs: enough slots, memory and CPU (at the target
    // utilization) for what the clients asked of it at the peak — what was held plus what
    // refused clients would have held (without refusals the two are the same).
    let slots = w.connection_demand.peak(&window) as f64 / server.max_connections as f64;
    let memory_peak_demand = w.memory_demand.peak(&window) as f64;
    let base = (server.base_memory * server.instances as u64) as f64;
    let per_instance_room = server.memory_limit.saturating_sub(server.base_memory) as f64;
    let memory = if per_instance_room > 0.0 {
        (memory_peak_demand - base).max(0.0) / per_instance_room
    } else {
        f64::INFINITY
    };
    let cpu = r.busy / (window_ns * server.cores as f64 * w.sc.target_utilization);
    let instances_needed = slots.max(memory).max(cpu).ceil().max(1.0);

    let metrics = RunMetrics {
        requests_per_s: r.requests as f64 / d,
        empty_response_fraction: if r.responses == 0 {
            0.0
        } else {
            r.empty_responses as f64 / r.responses as f64
        },
        latency_mean_s: r.latency_mean_ns() / NS_PER_S as f64,
        latency_p50_s: pct(0.5),
        latency_p99_s: pct(0.99),
        latency_max_s: if r.deliveries == 0 {
            0.0
        } else {
            r.latency.max() as f64 / NS_PER_S as f64
        },
        connections_mean: w.connections.mean(&window),
        connections_peak,
        server_memory_mean_bytes: w.memory.mean(&window),
        server_memory_peak_bytes: memory_peak,
        cpu_utilization: r.busy / (window_ns * total_cores as f64),
        queue_wait_mean_s: if r.queue_jobs == 0 {
            0.0
        } else {
            r.queue_wait_sum / r.queue_jobs as f64 / NS_PER_S as f64
        },
        bytes_down_per_s: r.bytes_down as f64 / d,
        bytes_up_per_s: r.bytes_up as f64 / d,
        overhead_fraction: if total_bytes == 0.0 {
            0.0
        } else {
            1.0 - r.payload_bytes as f64 / total_bytes
        },
        handshakes_per_s: r.handshakes as f64 / d,
        deliveries: r.deliveries as f64,
        lost: r.lost as f64,
        in_flight: in_flight as f64,
        rejected_connections: r.rejected as f64,
        proxy_timeouts: r.proxy_timeouts as f64,
        reconnects: r.reconnects as f64,
        instances_needed,
        published_pairs: w.published_pairs as f64,
        events: w.q.popped() as f64,
    };
    let timeseries = r.timeseries(&w.connections, &w.memory, total_cores);
    RunOutput {
        metrics,
        timeseries,
    }
}
