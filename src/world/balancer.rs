//! The load balancer: picks an instance for every *new* connection. Requests on an open
//! connection stay on its instance (HTTP/1.1 keep-alive and WebSockets are sticky).

use crate::scenario::Balancer;
use crate::world::server::Instance;

pub struct LoadBalancer {
    policy: Balancer,
    next: usize,
}

impl LoadBalancer {
    pub fn new(policy: Balancer) -> Self {
        LoadBalancer { policy, next: 0 }
    }

    /// The instance for a new connection, or `None` when every instance is down.
    pub fn pick(&mut self, instances: &[Instance]) -> Option<u32> {
        let n = instances.len();
        match self.policy {
            Balancer::RoundRobin => {
                for k in 0..n {
                    let i = (self.next + k) % n;
                    if instances[i].up {
                        self.next = (i + 1) % n;
                        return Some(i as u32);
                    }
                }
                None
            }
            // Fewest open connections; lowest index on ties.
            Balancer::LeastConnections => instances
                .iter()
                .enumerate()
                .filter(|(_, inst)| inst.up)
                .min_by_key(|(i, inst)| (inst.connections, *i))
                .map(|(i, _)| i as u32),
        }
    }
}
