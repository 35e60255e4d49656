//! What the deployment would cost bought as a managed service instead: the sourced
//! price tables of `models/pricing/` (built in), and their arithmetic on the simulated
//! counts.
//!
//! A table bills messages (per million, each metered in `message_unit_bytes` units
//! when that is not 0), connection-minutes (per million) and a monthly base; egress is
//! billed on top at `[target] bandwidth_cost_per_gb`, as the cloud does. Counts per
//! month come from the sizing deployment's run:
//!
//! - messages = deliveries (simulated, one per recipient: a fan-out service bills
//!   each subscriber, a gateway bills each message pushed to a client) + the messages
//!   clients send (chat: the workload's `rate` per client, offered) + with
//!   `count_publishes` the publishes themselves (per-client: one per update; broadcast:
//!   one per update; chat: the sends, already counted) — so per update: Ably counts
//!   1 + recipients, API Gateway the recipients (and a chat send once, received);
//! - connection-minutes = the deployment's mean open connections × 730 h × 60.
//!
//! Heartbeats (pings, comments) are not counted as messages: gateways answer
//! WebSocket pings themselves and a managed service runs its own.
//!
//! **How far to trust a total.** A table that leaves a billed item out
//! (`lower_bound_because`: Ably's connection-minutes) and egress without a
//! `bandwidth_cost_per_gb` make the total a lower bound; the first tier's price beyond
//! `first_tier_messages` an upper bound ([`Bound`]). A gateway's quotas
//! (`max_new_connections_per_s`, `max_connection_duration`: API Gateway's 500/s and
//! 2 h) apply to the deployment bought there: its new connections per second are the
//! deployment's plus N ÷ the gateway's maximum duration when the scenario's own is off
//! or longer (`ManagedCost::age_closes_per_s`). Numbers only.

use serde::Deserialize;

use super::cost::HOURS_PER_MONTH;
use crate::engine::time::secs;
use crate::scenario::{Pattern, Scenario, Technique};

/// A price table of `models/pricing/`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    pub name: String,
    pub title: String,
    /// The techniques the service speaks (file names of techniques).
    pub techniques: Vec<String>,
    pub per_million_messages: f64,
    /// Each message is billed in units of this many bytes (0: one unit per message).
    pub message_unit_bytes: u64,
    /// A publish is billed besides each delivery (fan-out services).
    pub count_publishes: bool,
    pub per_million_connection_minutes: f64,
    pub monthly_base: f64,
    /// Why the table's total is a lower bound (items the service bills that it leaves
    /// out), if it is.
    #[serde(default)]
    pub lower_bound_because: Option<String>,
    /// Messages a month billed at `per_million_messages`; beyond them the service
    /// charges less.
    #[serde(default)]
    pub first_tier_messages: Option<f64>,
    /// The price per million messages beyond `first_tier_messages` (the next volume
    /// tier). Without it the first tier's price is applied to every message and the
    /// total is an upper bound.
    #[serde(default)]
    pub beyond_first_tier_per_million_messages: Option<f64>,
    /// The service's cap on new connections per second (per account and region).
    #[serde(default)]
    pub max_new_connections_per_s: Option<f64>,
    /// The service closes every connection this long after it opened, seconds
    /// (written as a duration, e.g. "2h").
    #[serde(default, deserialize_with = "duration_s")]
    pub max_connection_duration: Option<f64>,
}

/// A duration written as text ("2h"), in seconds.
fn duration_s<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    crate::units::text::parse_duration(&text)
        .map(|ns| Some(secs(ns)))
        .map_err(serde::de::Error::custom)
}

/// How far a managed total can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// Every billed item is priced at its price.
    Exact,
    /// Items are left out (unpriced egress, a table's unverified items): at least this.
    Lower,
    /// The first tier's price beyond it: at most this.
    Upper,
    /// Both: neither bound holds.
    Neither,
}

/// The built-in tables, by name.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "aws-apigw-websocket",
        include_str!("../../models/pricing/aws-apigw-websocket.toml"),
    ),
    ("ably", include_str!("../../models/pricing/ably.toml")),
];

/// The names `[target] managed` accepts.
pub const NAMES: &[&str] = &["aws-apigw-websocket", "ably"];

/// The built-in table `name`.
pub fn table(name: &str) -> Option<PriceTable> {
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| toml::from_str(text).expect("built-in price tables parse"))
}

/// The managed service's bill for one month, split.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagedCost {
    pub service: String,
    pub messages_per_month: f64,
    pub connection_minutes_per_month: f64,
    pub messages_cost: f64,
    pub connections_cost: f64,
    /// Egress at `[target] bandwidth_cost_per_gb` (0 without a price: see
    /// `egress_priced`).
    pub egress_cost: f64,
    pub base_cost: f64,
    /// `[target] bandwidth_cost_per_gb` was set.
    pub egress_priced: bool,
    /// The table prices connection-minutes (Ably's does not: `lower_bound_because`).
    pub connections_priced: bool,
    /// The table's `lower_bound_because`.
    pub lower_bound_because: Option<String>,
    /// Messages a month beyond the table's first tier (0 within it).
    pub beyond_first_tier: f64,
    /// The price per million of the messages beyond the first tier, when the table
    /// gives it (then they are billed at it, not at the first tier's price).
    pub beyond_first_tier_per_million: Option<f64>,
    /// The service's cap on new connections per second.
    pub max_new_connections_per_s: Option<f64>,
    /// The service's maximum connection duration, seconds.
    pub max_connection_duration_s: Option<f64>,
    /// New connections per second the service's maximum duration adds to the
    /// deployment's (0 when the scenario's own closes connections as soon).
    pub age_closes_per_s: f64,
}

impl ManagedCost {
    pub fn total(&self) -> f64 {
        self.messages_cost + self.connections_cost + self.egress_cost + self.base_cost
    }

    /// How far [`Self::total`] can be trusted.
    pub fn bound(&self) -> Bound {
        let lower = !self.egress_priced || self.lower_bound_because.is_some();
        let upper = self.beyond_first_tier > 0.0 && self.beyond_first_tier_per_million.is_none();
        match (lower, upper) {
            (false, false) => Bound::Exact,
            (true, false) => Bound::Lower,
            (false, true) => Bound::Upper,
            (true, true) => Bound::Neither,
        }
    }

    /// New connections per second of the deployment bought from the service, given the
    /// self-hosted deployment's `handshakes_per_s`.
    pub fn handshakes_per_s(&self, handshakes_per_s: f64) -> f64 {
        handshakes_per_s + self.age_closes_per_s
    }
}

/// What the deployment of `sc` measured, per second over the whole deployment.
#[derive(Clone, Copy, Debug)]
pub struct Counts {
    pub deliveries_per_s: f64,
    pub connections_mean: f64,
    pub egress_gb_per_month: f64,
}

/// The bill of `table` for the deployment of `sc` with `counts`; `None` when the
/// service does not speak the technique.
pub fn managed_cost(
    table: &PriceTable,
    sc: &Scenario,
    counts: Counts,
    bandwidth_cost_per_gb: Option<f64>,
) -> Option<ManagedCost> {
    if !table.techniques.iter().any(|t| t == sc.technique.name()) {
        return None;
    }
    let seconds = HOURS_PER_MONTH * 3600.0;
    let w = &sc.workload;
    let clients = w.clients as f64;
    // Messages clients send over the socket (chat), and publishes.
    let sends_per_s = match w.pattern {
        Pattern::Chat => clients * w.rate,
        _ => 0.0,
    };
    let publishes_per_s = if table.count_publishes {
        match w.pattern {
            Pattern::Chat => 0.0, // the sends are the publishes
            Pattern::PerClient => clients * w.rate,
            Pattern::Broadcast => w.rate,
        }
    } else {
        0.0
    };
    let units = if table.message_unit_bytes == 0 {
        1.0
    } else {
        (w.payload.max(1)).div_ceil(table.message_unit_bytes) as f64
    };
    let messages_per_month =
        (counts.deliveries_per_s + sends_per_s + publishes_per_s) * seconds * units;
    let connection_minutes_per_month = counts.connections_mean * HOURS_PER_MONTH * 60.0;
    // The gateway's closes, unless the scenario closes as soon already (then the run
    // and `churn` counted them).
    let own = w.max_connection_duration.map(secs);
    let age_closes_per_s = match table.max_connection_duration {
        Some(m) if own.is_none_or(|o| o > m) => clients / m,
        _ => 0.0,
    };
    let beyond_first_tier = table
        .first_tier_messages
        .map_or(0.0, |t| (messages_per_month - t).max(0.0));
    let beyond_price = table
        .beyond_first_tier_per_million_messages
        .unwrap_or(table.per_million_messages);
    let messages_cost = (messages_per_month - beyond_first_tier) / 1e6 * table.per_million_messages
        + beyond_first_tier / 1e6 * beyond_price;
    Some(ManagedCost {
        service: table.name.clone(),
        messages_per_month,
        connection_minutes_per_month,
        messages_cost,
        connections_cost: connection_minutes_per_month / 1e6 * table.per_million_connection_minutes,
        egress_cost: bandwidth_cost_per_gb.map_or(0.0, |p| counts.egress_gb_per_month * p),
        base_cost: table.monthly_base,
        egress_priced: bandwidth_cost_per_gb.is_some(),
        connections_priced: table.per_million_connection_minutes > 0.0,
        lower_bound_because: table.lower_bound_because.clone(),
        beyond_first_tier,
        beyond_first_tier_per_million: table.beyond_first_tier_per_million_messages,
        max_new_connections_per_s: table.max_new_connections_per_s,
        max_connection_duration_s: table.max_connection_duration,
        age_closes_per_s,
    })
}

/// Techniques a table speaks, parsed (for tests and docs).
pub fn speaks(table: &PriceTable, t: Technique) -> bool {
    table.techniques.iter().any(|n| n == t.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_table_parses_and_is_listed() {
        for name in NAMES {
            let t = table(name).unwrap();
            assert_eq!(t.name, *name);
            assert!(t.per_million_messages > 0.0);
        }
        assert_eq!(NAMES.len(), BUILT_IN.len());
        assert!(table("nope").is_none());
        let aws = table("aws-apigw-websocket").unwrap();
        assert!(speaks(&aws, Technique::Websocket) && !speaks(&aws, Technique::Sse));
    }

    #[test]
    fn the_bill_is_the_price_tables_arithmetic() {
        let aws = table("aws-apigw-websocket").unwrap();
        let mut sc = Scenario::reference();
        sc.technique = Technique::Websocket;
        sc.workload.pattern = Pattern::Chat;
        sc.workload.clients = 1000;
        sc.workload.rate = 0.05;
        sc.workload.payload = 40_000; // two 32 KB units
        let counts = Counts {
            deliveries_per_s: 450.0,
            connections_mean: 1000.0,
            egress_gb_per_month: 100.0,
        };
        let c = managed_cost(&aws, &sc, counts, Some(0.09)).unwrap();
        let s = 730.0 * 3600.0;
        assert_eq!(c.messages_per_month, (450.0 + 50.0) * s * 2.0);
        // 2.628 billion: the first billion at $1.00 per million, the rest at $0.80.
        let m = (450.0 + 50.0) * s * 2.0;
        assert!((c.messages_cost - (1e9 / 1e6 * 1.00 + (m - 1e9) / 1e6 * 0.80)).abs() < 1e-6);
        assert_eq!(c.connection_minutes_per_month, 1000.0 * 730.0 * 60.0);
        assert!((c.connections_cost - 43.8 * 0.25).abs() < 1e-9);
        assert!((c.egress_cost - 9.0).abs() < 1e-9);
        sc.technique = Technique::Sse;
        assert!(managed_cost(&aws, &sc, counts, None).is_none());
        // Ably counts the publish besides each recipient: per-client streams bill 2.
        let ably = table("ably").unwrap();
        sc.workload.pattern = Pattern::PerClient;
        sc.workload.payload = 200;
        sc.workload.rate = 0.01;
        let c = managed_cost(
            &ably,
            &sc,
            Counts {
                deliveries_per_s: 10.0,
                ..counts
            },
            None,
        )
        .unwrap();
        assert_eq!(c.messages_per_month, (10.0 + 10.0) * s);
        assert_eq!(c.base_cost, 29.0);
        assert_eq!(c.egress_cost, 0.0);
        // Unpriced egress and connection-minutes: a lower bound, no gateway quota.
        assert!(!c.egress_priced && !c.connections_priced);
        assert_eq!(c.bound(), Bound::Lower);
        assert_eq!(c.age_closes_per_s, 0.0);
    }

    #[test]
    fn totals_say_how_far_they_hold_and_the_gateways_quotas_apply() {
        let aws = table("aws-apigw-websocket").unwrap();
        assert_eq!(aws.max_new_connections_per_s, Some(500.0));
        assert_eq!(aws.max_connection_duration, Some(7200.0));
        let mut sc = Scenario::reference();
        sc.technique = Technique::Websocket;
        sc.workload.clients = 100_000;
        sc.workload.payload = 200;
        let counts = |deliveries_per_s: f64| Counts {
            deliveries_per_s,
            connections_mean: 100_000.0,
            egress_gb_per_month: 10.0,
        };
        // 100 deliveries/s = 262.8 million a month: within the first billion.
        let c = managed_cost(&aws, &sc, counts(100.0), Some(0.09)).unwrap();
        assert_eq!(c.bound(), Bound::Exact);
        // 100,000 clients closed every 2 h: 13.9 new connections/s.
        assert!((c.age_closes_per_s - 100_000.0 / 7200.0).abs() < 1e-9);
        assert!((c.handshakes_per_s(1.0) - (1.0 + 100_000.0 / 7200.0)).abs() < 1e-9);
        // 1,000 deliveries/s = 2.628 billion a month: the first billion at $1.00 per
        // million, the other 1.628 billion at the next tier's $0.80.
        let c = managed_cost(&aws, &sc, counts(1000.0), Some(0.09)).unwrap();
        let beyond = 1000.0 * 730.0 * 3600.0 - 1e9;
        assert!((c.beyond_first_tier - beyond).abs() < 1.0);
        assert!((c.messages_cost - (1000.0 + beyond / 1e6 * 0.80)).abs() < 1e-6);
        assert_eq!(c.bound(), Bound::Exact);
        // Without the next tier's price the first tier's overstates: an upper bound.
        let mut untiered = aws.clone();
        untiered.beyond_first_tier_per_million_messages = None;
        let c = managed_cost(&untiered, &sc, counts(1000.0), Some(0.09)).unwrap();
        assert!((c.messages_cost - 2628.0).abs() < 1e-6);
        assert_eq!(c.bound(), Bound::Upper);
        let c = managed_cost(&untiered, &sc, counts(1000.0), None).unwrap();
        assert_eq!(c.bound(), Bound::Neither);
        // A scenario that closes sooner already counted its closes.
        sc.workload.max_connection_duration = Some(3600 * crate::engine::NS_PER_S);
        let c = managed_cost(&aws, &sc, counts(100.0), Some(0.09)).unwrap();
        assert_eq!(c.age_closes_per_s, 0.0);
    }
}
