//! Prints the raw message trace of one client of each technique for 20 simulated seconds.
use rtsim::scenario::{Scenario, Technique};
use rtsim::sim::simulate_traced;

fn main() {
    for t in Technique::ALL {
        let mut sc = Scenario::reference();
        sc.technique = t;
        sc.workload.clients = 1;
        sc.workload.rate = 0.2;
        sc.warmup = 0;
        sc.duration = 20_000_000_000;
        let (_, trace) = simulate_traced(&sc, &std::sync::atomic::AtomicBool::new(false))
            .expect("a demo scenario ends");
        println!("== {t}");
        for m in trace.messages {
            println!(
                "{:>10.3} → {:>10.3} {:?} {:?} {}",
                m.sent as f64 / 1e9,
                m.arrives as f64 / 1e9,
                m.direction,
                m.lane,
                m.label
            );
        }
    }
}
