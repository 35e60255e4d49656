//! Axis labels for people: a column or a swept key in words, with the unit of its numbers
//! when the tick labels do not already carry it (`250 ms`, `1 MiB`, `50%` do; `10k`
//! does not, so a count says what it counts and per what).
//!
//! A name this table does not know is shown as written (a `[[charts]]` table can always
//! give its own `x_label` / `y_label`).

/// The label of one column of `results.csv` or `timeseries.csv`, or of a swept key.
pub(super) fn label(name: &str) -> String {
    let known = match name {
        "clients" | "workload.clients" => "clients",
        "poll_interval_s" | "short-polling.interval" => "short-polling interval",
        "requests_per_s" => "HTTP requests per second (req/s)",
        "empty_response_fraction" => "responses without an update (share)",
        "latency_mean_s" => "mean latency, creation → arrival",
        "latency_p50_s" => "median latency, creation → arrival",
        "latency_p99_s" => "p99 latency, creation → arrival",
        "latency_max_s" => "worst latency, creation → arrival",
        "connections_mean" => "open TCP connections (mean)",
        "connections_peak" => "open TCP connections (peak)",
        "connections" => "open TCP connections",
        "server_memory_mean_bytes" => "server memory (mean)",
        "server_memory_peak_bytes" => "server memory (peak)",
        "server_memory_bytes" => "server memory",
        "cpu_utilization" => "CPU busy (share of all cores)",
        "queue_wait_mean_s" => "mean wait for a free core",
        "backplane_utilization" => "busiest backplane node busy (share)",
        "backplane_wait_mean_s" => "mean wait in a backplane node's queue",
        "bytes_down_per_s" => "bytes per second, server → client",
        "bytes_up_per_s" => "bytes per second, client → server",
        "bytes_down_per_s + bytes_up_per_s" => "bytes per second, both ways",
        "overhead_fraction" => "bytes that are not payload (share)",
        "handshakes_per_s" => "new connections per second (conn/s)",
        "deliveries_per_s" => "deliveries per second (msg/s)",
        "deliveries" => "updates delivered (count)",
        "lost" => "updates lost (count)",
        "in_flight" => "updates in flight at the end (count)",
        "stalled_pairs" => "updates held for stalled tabs at the end (count)",
        "rejected_connections" => "connections refused (count)",
        "proxy_timeouts" => "connections closed by the proxy (count)",
        "reconnects" => "reconnections (count)",
        "streams_failed" => "SSE streams failed for good (count)",
        "connections_per_user" => "connections per user (count)",
        "memory_per_user_bytes" => "server memory per user",
        "stalled_per_user" => "requests waiting in the browser per user (count)",
        "workload.tabs" => "tabs per user",
        "instances_needed" => "instances needed (count)",
        "time_s" => "simulated time since the start of the warm-up",
        "network.rtt" => "round-trip time",
        "workload.rate" => "updates per second per client (1/s)",
        "workload.payload" => "payload size",
        "workload.room_size" => "clients per chat room",
        "server.instances" => "server instances",
        "server.preset" => "server model",
        "server.cores" => "cores per instance",
        "server.keepalive_timeout" => "keep-alive timeout",
        "short-polling.schedule" => "polling schedule",
        "short-polling.jitter" => "poll jitter",
        "long-polling.timeout" => "long-poll hold (timeout)",
        "sse.heartbeat" => "SSE heartbeat interval",
        "websocket.heartbeat" => "WebSocket ping interval",
        "websocket.backoff" => "WebSocket reconnect backoff",
        "network.proxy_idle_timeout" => "proxy idle timeout",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    if let Some(metric) = name.strip_prefix("theory_") {
        let inner = label(metric);
        if inner != metric {
            return format!("{inner}, theory");
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::{METRICS, POINT_COLUMNS};

    #[test]
    fn every_written_column_has_words() {
        for m in METRICS {
            assert_ne!(label(m.name()), m.name(), "{}", m.name());
        }
        for c in POINT_COLUMNS {
            assert_ne!(label(c.name()), c.name(), "{}", c.name());
        }
        assert_eq!(
            label("theory_requests_per_s"),
            "HTTP requests per second (req/s), theory"
        );
        assert_eq!(label("my.own.key"), "my.own.key");
    }
}
