//! The backplane as a resource of a plan: how many nodes it needs at the target
//! utilization, whether it (not the instances) binds, and what it costs.
//!
//! The backplane's load does not depend on the technique or on how the clients are
//! spread: it is the update rate `λ` times the messages each update costs, `1 + k` (its
//! publish and one delivery per subscribed instance, `world/backplane.rs`), at the
//! plan's instance count. A node is a single server, so its utilization is the message
//! rate it receives ÷ its capacity (exact: `ρ = λ_j·D`); the nodes needed are the
//! fewest `S` whose busiest node stays at or under `[target] utilization`, streams
//! placed by `stream mod S`. One stream (a broadcast channel, a chat room, a client's
//! own stream) lives on one node: when that stream alone is above the target, no number
//! of nodes carries it, and the plan says so.

use crate::experiment::Target;
use crate::scenario::{Pattern, Scenario};
use crate::sizing::cost::HOURS_PER_MONTH;
use crate::world::backplane::{MAX_NODES, subscribers_per_update};

/// The backplane of one technique's plan.
#[derive(Clone, Debug, PartialEq)]
pub struct BackplanePlan {
    /// Instances each update is delivered to (`k`).
    pub subscribers: u32,
    /// Messages per second all updates cost: `λ·(1 + k)`.
    pub messages_per_s: f64,
    /// Messages per second of one node (`[server] backplane_capacity`).
    pub capacity_per_node: f64,
    /// Nodes configured (`[server] backplane_nodes`), and their busiest one's
    /// utilization at this plan.
    pub nodes: u32,
    pub utilization: f64,
    /// The busiest single stream's load ÷ one node's capacity.
    pub stream_utilization: f64,
    /// Fewest nodes at or under the target utilization; `None` when one stream alone
    /// is above it (no number of nodes helps).
    pub nodes_needed: Option<u32>,
    /// The backplane, not the instances, is what runs out: the configured nodes are
    /// above the target utilization.
    pub binds: bool,
    /// `nodes_needed × 730 h × backplane_node_hour_cost` (`None` without that price or
    /// without an answer).
    pub monthly_cost: Option<f64>,
}

/// Streams the origin keeps: one (broadcast), one per client, one per chat room.
fn streams(sc: &Scenario) -> u64 {
    let clients = u64::from(sc.workload.clients.max(1));
    match sc.workload.pattern {
        Pattern::Broadcast => 1,
        Pattern::PerClient => clients,
        Pattern::Chat => clients.div_ceil(u64::from(sc.workload.room_size.max(1))),
    }
}

/// Share of all updates that the busiest of `nodes` nodes receives (streams of equal
/// rate, placed by `stream mod nodes`).
fn busiest_share(streams: u64, nodes: u32) -> f64 {
    let per_node = streams.div_ceil(u64::from(nodes.max(1)));
    per_node as f64 / streams as f64
}

/// The backplane of `sc` (`clients` clients) on `instances` instances; `None` with one
/// instance (no backplane) or an unlimited capacity.
pub fn plan(sc: &Scenario, clients: u64, instances: u32, target: &Target) -> Option<BackplanePlan> {
    let capacity = sc.server.backplane_capacity.per_second()?;
    if instances <= 1 {
        return None;
    }
    let mut sc = sc.clone();
    sc.server.instances = instances;
    sc.workload.clients = clients.min(u64::from(u32::MAX)) as u32;
    let k = subscribers_per_update(&sc);
    let lambda = match sc.workload.pattern {
        Pattern::Broadcast => sc.workload.rate,
        Pattern::PerClient | Pattern::Chat => sc.workload.rate * clients as f64,
    };
    let messages_per_s = lambda * (1.0 + f64::from(k));
    let n = streams(&sc);
    let load_of = |share: f64| messages_per_s * share / capacity;
    let stream_utilization = load_of(1.0 / n as f64);
    let nodes = sc.server.backplane_nodes.max(1);
    let u = target.utilization;
    let nodes_needed = (stream_utilization <= u).then(|| {
        let first = ((messages_per_s / (capacity * u)).ceil() as u32).max(1);
        (first..=MAX_NODES)
            .find(|&s| load_of(busiest_share(n, s)) <= u)
            .unwrap_or(MAX_NODES)
    });
    let utilization = load_of(busiest_share(n, nodes));
    Some(BackplanePlan {
        subscribers: k,
        messages_per_s,
        capacity_per_node: capacity,
        nodes,
        utilization,
        binds: utilization > u,
        stream_utilization,
        nodes_needed,
        monthly_cost: target
            .backplane_node_hour_cost
            .zip(nodes_needed)
            .map(|(price, s)| f64::from(s) * HOURS_PER_MONTH * price),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::BackplaneCapacity;

    fn target() -> Target {
        Target {
            backplane_node_hour_cost: Some(0.1),
            ..Target::only_utilization(0.7)
        }
    }

    fn scenario(pattern: Pattern, rate: f64) -> Scenario {
        let mut sc = Scenario::reference();
        sc.workload.pattern = pattern;
        sc.workload.rate = rate;
        sc.server.backplane_capacity = BackplaneCapacity::PerSecond(100_000.0);
        sc
    }

    #[test]
    fn per_client_streams_shard_over_nodes() {
        // 10^6 clients × 0.1/s on 10 instances: 10^5 updates/s × 2 messages = 2·10^5/s;
        // at 70 % of 10^5 per node: ⌈2.86⌉ = 3 nodes.
        let sc = scenario(Pattern::PerClient, 0.1);
        let p = plan(&sc, 1_000_000, 10, &target()).unwrap();
        assert_eq!(p.messages_per_s, 200_000.0);
        assert_eq!(p.nodes_needed, Some(3));
        // One node configured: twice its capacity, so it binds.
        assert!((p.utilization - 2.0).abs() < 1e-12);
        assert!(p.binds);
        assert!((p.monthly_cost.unwrap() - 3.0 * 730.0 * 0.1).abs() < 1e-9);
    }

    #[test]
    fn a_fan_out_heavy_broadcast_cannot_be_sharded() {
        // 2,000 updates/s to 50 instances: 102,000 messages/s on one channel.
        let sc = scenario(Pattern::Broadcast, 2000.0);
        let p = plan(&sc, 1_000_000, 50, &target()).unwrap();
        assert_eq!(p.subscribers, 50);
        assert!((p.stream_utilization - 1.02).abs() < 1e-12);
        assert_eq!(p.nodes_needed, None);
        assert_eq!(p.monthly_cost, None);
        assert!(p.binds);
    }

    #[test]
    fn no_plan_without_a_backplane_or_with_unlimited_capacity() {
        let mut sc = scenario(Pattern::PerClient, 0.1);
        assert_eq!(plan(&sc, 1000, 1, &target()), None);
        sc.server.backplane_capacity = BackplaneCapacity::Unlimited;
        assert_eq!(plan(&sc, 1000, 4, &target()), None);
    }
}
