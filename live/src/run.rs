//! One real run: the reference server, the update source, the relay and every client of a
//! [`Plan`], on one thread of their own, from the epoch to the end of the window.
//!
//! The whole run is bounded: every task stops at the deadline (window end + a grace
//! period), and the runtime is shut down with a timeout, so a run ends even if a peer
//! misbehaves.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::timeout_at;

use crate::books::{Books, Measured};
use crate::client::{self, Ctx};
use crate::clock::{Clock, sleep_until};
use crate::plan::Plan;
use crate::relay::Relay;
use crate::server::{self, Origin};

/// Time to set up the server and spawn every client before the epoch.
const LEAD: Duration = Duration::from_millis(300);
/// How long after the window's end answers in flight may still finish.
const GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("could not start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("could not start the reference server on 127.0.0.1: {0}")]
    Server(std::io::Error),
    #[error("the run did not end by its deadline")]
    Overran,
}

/// Asks the scheduler to prefer this thread (nice −10) and says whether it did.
///
/// A real run uses a few percent of one core, but every delay it measures is a timer
/// wake-up: on a machine busy with other work (builds, tests) a wake-up at normal priority
/// waits for a time slice, and the tail of every real latency shows the machine, not the
/// technique. Only root may raise priority; without it the run goes on at normal priority
/// and the relay's lateness (`Measured::relay_late_p99_s`) shows what that costs.
fn prioritize_this_thread() -> bool {
    // SAFETY: gettid and setpriority take plain integers and touch no memory of ours.
    #[allow(unsafe_code)]
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, -10) == 0
    }
}

/// Runs `plan` for real and returns what was measured in its window.
pub fn measure(plan: Plan) -> Result<Measured, RunError> {
    let prioritized = prioritize_this_thread();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    let result = rt.block_on(measure_async(plan, prioritized));
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn measure_async(plan: Plan, prioritized: bool) -> Result<Measured, RunError> {
    let plan = Arc::new(plan);
    let clock = Clock::starting_in(LEAD);
    let end = clock.at(plan.end());
    let deadline = end + GRACE;
    let books = Arc::new(Books::new(plan.warmup, plan.end()));
    let origin = Arc::new(Origin::new(plan.clients));
    let tls = crate::tls::pair(plan.tls, plan.http2)
        .map_err(|e| RunError::Server(std::io::Error::other(e)))?;
    let config = server::Config {
        payload: plan.payload,
        response_header_bytes: Some(plan.response_header_bytes),
        long_poll_timeout: plan.long_poll_timeout,
        sse_heartbeat: plan.sse_heartbeat,
        empty_body: plan.empty_body,
        tls: tls.as_ref().map(|t| t.acceptor.clone()),
        http2: plan.http2,
    };
    let addr = server::start(0, config, origin.clone(), books.clone(), clock, deadline)
        .await
        .map_err(RunError::Server)?;

    // The update source: the simulator's own birth times and clients.
    let source = {
        let plan = plan.clone();
        tokio::spawn(async move {
            for &(born, c) in &plan.updates {
                sleep_until(clock.at(born)).await;
                origin.publish(c, clock.now());
            }
        })
    };

    let rtt = Duration::from_nanos(plan.rtt);
    let ctx = Arc::new(Ctx {
        plan: plan.clone(),
        relay: Relay::new(addr, rtt, clock, books.clone(), deadline),
        tls: tls.map(|t| t.connector),
        clock,
        books: books.clone(),
        deadline,
    });
    let clients: Vec<_> = (0..plan.clients)
        .map(|c| tokio::spawn(client::run(ctx.clone(), c)))
        .collect();
    let finished = timeout_at(deadline, async {
        for client in clients {
            let _ = client.await;
        }
    })
    .await;
    source.abort();
    if finished.is_err() {
        return Err(RunError::Overran);
    }
    Ok(books.measured(prioritized))
}

/// The longest `rtsim-live serve` runs: it always stops by itself.
pub const MAX_SERVE: Duration = Duration::from_secs(3_600);

/// `rtsim-live serve`: the reference server alone on 127.0.0.1:`port` for `clients`
/// streams, for `lifetime` (at most [`MAX_SERVE`]); `ready` hears its address.
pub fn serve(
    port: u16,
    config: server::Config,
    clients: u32,
    lifetime: Duration,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), RunError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    let lifetime = lifetime.min(MAX_SERVE);
    let result = rt.block_on(async {
        let clock = Clock::starting_in(Duration::ZERO);
        let deadline = tokio::time::Instant::now() + lifetime;
        // Nothing is measured: a window that never opens.
        let books = Arc::new(Books::new(u64::MAX, u64::MAX));
        let origin = Arc::new(Origin::new(clients));
        let addr = server::start(port, config, origin, books, clock, deadline)
            .await
            .map_err(RunError::Server)?;
        ready(addr);
        tokio::time::sleep_until(deadline).await;
        Ok(())
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}
