//! One simulation run: a [`Scenario`] in, a [`RunOutput`] out — the run layer, above
//! the world.
//!
//! Picks the scenario's technique, builds its world, lets the clients loose on it until
//! the end of the measured window, and turns the world's books into the public results
//! (`books.rs`): every (update, recipient) pair created in the window is counted once —
//! delivered, lost, or still in flight. [`estimate`] guesses the cost of a run before
//! it is made.

mod books;
mod error;
mod estimate;

pub use error::SimError;
pub use estimate::{Budget, EVENTS_PER_WORKER_S, Estimate, OverBudget, estimate};

use std::sync::atomic::AtomicBool;

use crate::results::RunOutput;
use crate::scenario::{Scenario, Technique};
use crate::techniques::{LongPolling, ShortPolling, Sse, WebSocket};
use crate::world::trace::Trace;
use crate::world::{Books, Protocol, World};

/// A stop flag nobody raises: for runs without Ctrl-C (tests, benchmarks).
static NEVER: AtomicBool = AtomicBool::new(false);

/// Simulates one run, stopping early if `stop` is raised (Ctrl-C) or if the world stops
/// moving in time (a zero-delay loop).
pub fn try_simulate(sc: &Scenario, stop: &AtomicBool) -> Result<RunOutput, SimError> {
    Ok(books::output(sc, &run(sc, Mode::Plain, stop)?))
}

/// Simulates one run of a scenario known to end (tests, benchmarks): a stuck run panics
/// here, so everything a user starts goes through [`try_simulate`].
pub fn simulate(sc: &Scenario) -> RunOutput {
    try_simulate(sc, &NEVER).unwrap_or_else(|e| panic!("{e}"))
}

/// Simulates one run and records every message (for `rtsim trace`: keep it tiny).
pub fn simulate_traced(sc: &Scenario, stop: &AtomicBool) -> Result<(RunOutput, Trace), SimError> {
    let mut books = run(sc, Mode::Traced, stop)?;
    let trace = books.trace.take().unwrap_or_default();
    Ok((books::output(sc, &books), trace))
}

/// Simulates one run with every step scheduled as an event, none taken early (see
/// [`World::schedule_every_step`]): the reference that the quiet-world shortcut is
/// tested against.
pub fn simulate_every_step(sc: &Scenario) -> EveryStep {
    let books = run(sc, Mode::EveryStep, &NEVER).unwrap_or_else(|e| panic!("{e}"));
    EveryStep {
        output: books::output(sc, &books),
        simultaneous: books.simultaneous,
    }
}

/// The event-by-event run of [`simulate_every_step`].
pub struct EveryStep {
    pub output: RunOutput,
    /// Events that came at the same nanosecond as the one before them. Simultaneous
    /// events run in the order they were scheduled, and a step taken early schedules
    /// what follows it sooner: where there are none, the shortcut's run must be this
    /// one exactly (`src/world/clock.rs`).
    pub simultaneous: u64,
}

#[derive(Clone, Copy)]
enum Mode {
    Plain,
    Traced,
    EveryStep,
}

/// Runs the scenario's technique to the end of the window.
fn run(sc: &Scenario, mode: Mode, stop: &AtomicBool) -> Result<Books, SimError> {
    match sc.technique {
        Technique::ShortPolling => run_with(sc, ShortPolling::new(sc), mode, stop),
        Technique::LongPolling => run_with(sc, LongPolling::new(sc), mode, stop),
        Technique::Sse => run_with(sc, Sse::new(sc), mode, stop),
        Technique::Websocket => run_with(sc, WebSocket::new(sc), mode, stop),
    }
}

fn run_with<P: Protocol>(
    sc: &Scenario,
    mut technique: P,
    mode: Mode,
    stop: &AtomicBool,
) -> Result<Books, SimError> {
    let mut w = World::<P>::new(sc);
    match mode {
        Mode::Plain => {}
        Mode::Traced => w.record_trace(),
        Mode::EveryStep => w.schedule_every_step(),
    }
    w.run(&mut technique, stop)
        .map_err(|halt| SimError::from_halt(sc, halt))?;
    Ok(w.close())
}
