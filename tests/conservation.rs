//! Every (update, recipient) pair created in the measured window is accounted for
//! exactly once — delivered, lost, still in flight or held for a stalled tab — for every
//! technique, pattern and fault, and runs are deterministic.

use rtsim::engine::NS_PER_S;
use rtsim::scenario::{Arrivals, Fault, FaultKind, Pattern, Scenario, Technique};
use rtsim::sim::simulate;

fn small(technique: Technique, pattern: Pattern) -> Scenario {
    let mut sc = Scenario::reference();
    sc.technique = technique;
    sc.workload.clients = 60;
    sc.workload.pattern = pattern;
    sc.workload.rate = match pattern {
        Pattern::Broadcast => 2.0,
        _ => 0.5,
    };
    sc.workload.room_size = 6;
    sc.duration = 40 * NS_PER_S;
    sc.warmup = 5 * NS_PER_S;
    sc
}

fn assert_conserved(sc: &Scenario, label: &str) {
    let m = simulate(sc).metrics;
    assert!(m.published_pairs > 0.0, "{label}: nothing published");
    assert_eq!(
        m.deliveries + m.lost + m.in_flight + m.stalled_pairs,
        m.published_pairs,
        "{label}: delivered {} + lost {} + in flight {} + stalled {} != published {}",
        m.deliveries,
        m.lost,
        m.in_flight,
        m.stalled_pairs,
        m.published_pairs
    );
}

#[test]
fn conservation_without_faults() {
    for t in Technique::ALL {
        for p in [Pattern::Broadcast, Pattern::PerClient, Pattern::Chat] {
            for arrivals in [Arrivals::Poisson, Arrivals::Periodic] {
                let mut sc = small(t, p);
                sc.workload.arrivals = arrivals;
                let m = simulate(&sc).metrics;
                assert_conserved(&sc, &format!("{t} {p:?} {arrivals:?}"));
                // Nothing is lost when nothing goes wrong.
                assert_eq!(m.lost, 0.0, "{t} {p:?} {arrivals:?} lost updates");
            }
        }
    }
}

#[test]
fn conservation_with_drops_crashes_and_proxy_timeouts() {
    for t in Technique::ALL {
        for p in [Pattern::Broadcast, Pattern::PerClient, Pattern::Chat] {
            let mut sc = small(t, p);
            sc.network.disconnect_every = Some(10 * NS_PER_S);
            sc.network.outage = 2 * NS_PER_S;
            sc.network.proxy_idle_timeout = Some(7 * NS_PER_S);
            sc.server.instances = 2;
            sc.faults = vec![Fault::crash(20 * NS_PER_S, 0, 5 * NS_PER_S)];
            assert_conserved(&sc, &format!("{t} {p:?} with faults"));
        }
    }
}

#[test]
fn conservation_through_a_rolling_deploy() {
    for t in Technique::ALL {
        for p in [Pattern::Broadcast, Pattern::PerClient, Pattern::Chat] {
            for (drain, jitter) in [(0, false), (4, false), (4, true)] {
                let mut sc = small(t, p);
                sc.server.instances = 3;
                sc.faults = vec![Fault {
                    kind: FaultKind::Deploy,
                    drain: drain * NS_PER_S,
                    jitter,
                    ..Fault::crash(15 * NS_PER_S, 0, 2 * NS_PER_S)
                }];
                assert_conserved(&sc, &format!("{t} {p:?} deploy drain {drain} s {jitter}"));
            }
        }
    }
}

#[test]
fn conservation_with_tight_retention_and_refusals() {
    for t in Technique::ALL {
        let mut sc = small(t, Pattern::PerClient);
        sc.server.retention = rtsim::scenario::Retention::Count(1);
        sc.server.max_connections = 40;
        let m = simulate(&sc).metrics;
        assert_conserved(&sc, &format!("{t} retention 1, 40 slots"));
        assert!(
            m.rejected_connections > 0.0,
            "{t}: no refusals with 40 slots for 60 clients"
        );
        assert!(m.lost > 0.0, "{t}: retention of 1 update lost nothing");
        sc.network.disconnect_every = Some(5 * NS_PER_S);
        assert_conserved(&sc, &format!("{t} retention 1, 40 slots, drops"));
    }
}

#[test]
fn same_scenario_same_bits() {
    for t in Technique::ALL {
        let mut sc = small(t, Pattern::Chat);
        sc.network.disconnect_every = Some(10 * NS_PER_S);
        let a = simulate(&sc);
        let b = simulate(&sc);
        assert_eq!(a, b, "{t}");
        sc.replication = 1;
        assert_ne!(
            simulate(&sc).metrics,
            a.metrics,
            "{t}: replications must differ"
        );
    }
}
