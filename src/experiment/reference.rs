//! `Scenario::reference()`: the scenario of tests, benchmarks and examples.
//!
//! It is loaded, not written out: an experiment file that pins a few figures, over the
//! built-in defaults and the `event-loop` server preset, exactly as `rtsim run` would
//! resolve it. So it cannot drift from the defaults a user gets.

use std::sync::LazyLock;

use crate::scenario::Scenario;

use super::load_str;

/// What the reference pins; everything else is the default of an empty experiment file.
const PINNED: &str = r#"
seed = 1
duration = "60s"
warmup = "10s"

[workload]
clients = 100
pattern = "per-client"
rate = 0.1

[network]
rtt = "50ms"
"#;

/// Loaded once per process; `reference()` hands out copies.
static REFERENCE: LazyLock<Scenario> = LazyLock::new(|| match load_str("reference", PINNED, &[]) {
    Ok(experiment) => experiment.base,
    // A constant text that the test below loads: failing here is a bug in this file.
    Err(e) => panic!("the reference scenario does not load:\n{e}"),
});

impl Scenario {
    /// A fixed reference scenario for tests, benchmarks and examples — what an empty
    /// experiment file resolves to (the key reference's defaults and the event-loop
    /// preset's figures), with 100 clients, per-client updates at 0.1/s, a constant 50 ms
    /// RTT, seed 1 and 60 s measured after a 10 s warm-up pinned. Short polling, replication
    /// 0, `random_point` 0. Experiments never use it.
    pub fn reference() -> Scenario {
        REFERENCE.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Pattern, Rtt, Technique};

    #[test]
    fn reference_is_an_empty_experiment_with_its_pins() {
        let loaded = load_str("empty.toml", "", &[]).unwrap().base;
        let mut reference = Scenario::reference();
        assert_eq!(reference.technique, Technique::ShortPolling);
        assert_eq!(reference.workload.clients, 100);
        assert_eq!(reference.workload.pattern, Pattern::PerClient);
        assert_eq!(reference.workload.rate, 0.1);
        assert_eq!(reference.network.rtt, Rtt::Constant(50_000_000));
        assert_eq!(reference.server.memory_per_connection, 3250);
        // Only the client count differs from today's defaults.
        reference.workload.clients = loaded.workload.clients;
        assert_eq!(reference, loaded);
    }
}
