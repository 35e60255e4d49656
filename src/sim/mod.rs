//! One simulation run: a [`Scenario`] in, a [`RunOutput`] out — the run layer, above
//! the world.
//!
//! Picks the scenario's technique, builds its world, lets the clients loose on it until
//! the end of the measured window, and turns the world's books into the public results
//! (`books.rs`): every (update, recipient) pair created in the window is counted once —
//! delivered, lost, or still in flight. [`estimate`] guesses the cost of a run before
//! it is made.

mod books;
mod estimate;

pub use estimate::{Estimate, estimate};

use crate::results::RunOutput;
use crate::scenario::{Scenario, Technique};
use crate::techniques::{LongPolling, ShortPolling, Sse, WebSocket};
use crate::world::trace::Trace;
use crate::world::{Books, Protocol, World};

/// Simulates one run.
pub fn simulate(sc: &Scenario) -> RunOutput {
    books::output(sc, &run(sc, Mode::Plain))
}

/// Simulates one run and records every message (for `rtsim trace`: keep it tiny).
pub fn simulate_traced(sc: &Scenario) -> (RunOutput, Trace) {
    let mut books = run(sc, Mode::Traced);
    let trace = books.trace.take().unwrap_or_default();
    (books::output(sc, &books), trace)
}

/// Simulates one run with every step scheduled as an event, none taken early (see
/// [`World::schedule_every_step`]): the reference that the quiet-world shortcut is
/// tested against.
pub fn simulate_every_step(sc: &Scenario) -> RunOutput {
    books::output(sc, &run(sc, Mode::EveryStep))
}

#[derive(Clone, Copy)]
enum Mode {
    Plain,
    Traced,
    EveryStep,
}

/// Runs the scenario's technique to the end of the window.
fn run(sc: &Scenario, mode: Mode) -> Books {
    match sc.technique {
        Technique::ShortPolling => run_with(sc, ShortPolling::new(sc), mode),
        Technique::LongPolling => run_with(sc, LongPolling::new(sc), mode),
        Technique::Sse => run_with(sc, Sse::new(sc), mode),
        Technique::Websocket => run_with(sc, WebSocket::new(sc), mode),
    }
}

fn run_with<P: Protocol>(sc: &Scenario, mut technique: P, mode: Mode) -> Books {
    let mut w = World::<P>::new(sc);
    match mode {
        Mode::Plain => {}
        Mode::Traced => w.record_trace(),
        Mode::EveryStep => w.schedule_every_step(),
    }
    w.run(&mut technique);
    w.close()
}
