//! What a deployment costs per month: instance-hours plus egress, as clouds bill them.
//!
//! `monthly_cost = instances × 730 h × instance_hour_cost + egress GB/month ×
//! bandwidth_cost_per_gb`, where egress is the server → client bytes (clouds bill egress
//! and usually not ingress). Both prices come from `[target]` and are optional.

use crate::experiment::Target;

/// Hours in a month, as cloud price lists count them (8,760 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;
/// Bytes in a GB as bandwidth is billed (decimal).
pub const BYTES_PER_GB: f64 = 1e9;

/// Server → client bytes per month, GB, of a deployment sending `bytes_down_per_s`.
pub fn egress_gb_per_month(bytes_down_per_s: f64) -> f64 {
    bytes_down_per_s * HOURS_PER_MONTH * 3600.0 / BYTES_PER_GB
}

/// Monthly cost: `instances × 730 h × instance_hour_cost` plus egress at
/// `bandwidth_cost_per_gb`; `None` when neither price is given.
pub fn monthly_cost(instances: u32, egress_gb_per_month: f64, target: &Target) -> Option<f64> {
    if target.instance_hour_cost.is_none() && target.bandwidth_cost_per_gb.is_none() {
        return None;
    }
    let compute = target
        .instance_hour_cost
        .map_or(0.0, |p| instances as f64 * HOURS_PER_MONTH * p);
    let bandwidth = target
        .bandwidth_cost_per_gb
        .map_or(0.0, |p| egress_gb_per_month * p);
    Some(compute + bandwidth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(cost: Option<f64>) -> Target {
        Target {
            instance_hour_cost: cost,
            ..Target::only_utilization(0.7)
        }
    }

    #[test]
    fn cost_is_instances_times_hours_times_price() {
        assert_eq!(
            monthly_cost(3, 123.0, &target(Some(0.5))),
            Some(3.0 * 730.0 * 0.5)
        );
        assert_eq!(monthly_cost(3, 123.0, &target(None)), None);
        let mut t = target(Some(0.5));
        t.bandwidth_cost_per_gb = Some(0.09);
        let c = monthly_cost(2, 1000.0, &t).unwrap();
        assert!((c - (2.0 * 730.0 * 0.5 + 90.0)).abs() < 1e-9);
    }

    #[test]
    fn egress_alone_is_priced_without_an_instance_price() {
        let mut t = target(None);
        t.bandwidth_cost_per_gb = Some(0.09);
        assert_eq!(monthly_cost(5, 1000.0, &t), Some(1000.0 * 0.09));
    }

    #[test]
    fn egress_counts_a_month_of_seconds_in_decimal_gb() {
        // 1 MB/s for 730 h = 2,628,000 MB = 2,628 GB.
        assert!((egress_gb_per_month(1e6) - 2628.0).abs() < 1e-9);
        assert_eq!(egress_gb_per_month(0.0), 0.0);
    }
}
