//! Server instances: a pool of CPU workers serving one FIFO queue, connection slots and
//! memory.
//!
//! The CPU queue needs no events of its own. With first-come-first-served service on `c`
//! identical workers, a job that arrives at `t` starts when the earliest worker frees up
//! (or at `t` if one is idle) — and since the simulation submits jobs in time order and
//! draws the service time on arrival, the start and finish of every job are known the
//! moment it arrives. This is exact for an M/G/c FIFO queue and costs an update of the
//! pool below instead of two events per job.
//!
//! Which idle worker takes a job does not matter: time only moves forward, so a worker
//! free at or before `t` stays free until it is given a job, and every idle worker
//! looks the same to every later arrival. So the pool is the times the workers are next
//! free, kept in rising order, and a job takes the earliest. Its worker's new free time
//! goes back in its place in the order: at the end, with one comparison, when jobs take
//! alike times (each finishes after all the jobs before it) — the usual case, where the
//! min-heap this replaced sifted through log2 c levels on branches no CPU can predict.
//! (A linear scan for the first idle worker took 10 % of a run at 10^7 clients, whose
//! start-up keeps all workers busy.)

use crate::engine::Nanos;
#[cfg(test)]
use crate::scenario::Scenario;
use crate::scenario::{Concurrency, Server};

/// When a job ran on a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuSlot {
    pub start: Nanos,
    pub finish: Nanos,
}

pub struct Instance {
    /// When each worker is next free, in rising order: the `cores` entries from
    /// `first` on. They slide up a buffer twice that size, one place per job, and are
    /// moved back to its start when they reach its end (one copy every `cores` jobs).
    free_at: Box<[Nanos]>,
    first: usize,
    cores: usize,
    pub connections: u64,
    pub memory: u64,
    /// False while crashed.
    pub up: bool,
}

impl Instance {
    pub fn new(server: &Server) -> Self {
        Instance {
            free_at: vec![0; 2 * server.cores as usize].into(),
            first: 0,
            cores: server.cores as usize,
            connections: 0,
            memory: server.base_memory,
            up: true,
        }
    }

    /// Queues a job of `service` arriving at `now`; returns when it runs.
    #[inline]
    pub fn run_job(&mut self, now: Nanos, service: Nanos) -> CpuSlot {
        let cores = self.cores;
        if self.first + cores == self.free_at.len() {
            self.free_at.copy_within(self.first.., 0);
            self.first = 0;
        }
        let start = self.free_at[self.first].max(now);
        let finish = start + service;
        self.first += 1;
        // The worker's place: the end of the others, or before those that finish later.
        let end = self.first + cores - 1;
        let others = &self.free_at[self.first..end];
        if others.last().is_none_or(|&last| last <= finish) {
            self.free_at[end] = finish;
        } else {
            let at = self.first + others.partition_point(|&f| f <= finish);
            self.free_at.copy_within(at..end, at + 1);
            self.free_at[at] = finish;
        }
        CpuSlot { start, finish }
    }

    /// Forgets queued work (a crash).
    pub fn reset_workers(&mut self, now: Nanos) {
        self.free_at.fill(now);
        self.first = 0;
    }
}

/// Memory an open connection holds beyond the instance's base, by what it is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnUse {
    /// Open, no request in progress (keep-alive, or a handshake under way).
    Idle,
    /// A request is being served.
    Request,
    /// A held long poll, an SSE stream or a WebSocket.
    Stream,
}

/// Bytes of memory for one open connection in the given use.
pub fn connection_memory(server: &Server, usage: ConnUse) -> u64 {
    let thread = match server.concurrency {
        Concurrency::EventLoop => 0,
        Concurrency::ThreadPerConnection => server.thread_stack,
    };
    let state = match usage {
        ConnUse::Idle => 0,
        ConnUse::Request => server.memory_per_request,
        ConnUse::Stream => server.memory_per_stream,
    };
    server.memory_per_connection + thread + state
}

/// Bytes of memory for one HTTP/2 stream in the given use: its protocol state
/// (`memory_per_h2_stream`) and its request's or stream's; the connection's own memory
/// is held once, by the connection. Between requests (a poller's wait) no stream is open:
/// nothing is held.
pub fn h2_stream_memory(server: &Server, usage: ConnUse) -> u64 {
    let state = match usage {
        ConnUse::Idle => return 0,
        ConnUse::Request => server.memory_per_request,
        ConnUse::Stream => server.memory_per_stream,
    };
    server.memory_per_h2_stream + state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(cores: u32) -> Server {
        Scenario::reference().server.clone_with_cores(cores)
    }

    trait WithCores {
        fn clone_with_cores(&self, cores: u32) -> Server;
    }
    impl WithCores for Server {
        fn clone_with_cores(&self, cores: u32) -> Server {
            Server {
                cores,
                ..self.clone()
            }
        }
    }

    #[test]
    fn fifo_on_two_workers() {
        let mut i = Instance::new(&server(2));
        assert_eq!(
            i.run_job(0, 10),
            CpuSlot {
                start: 0,
                finish: 10
            }
        );
        assert_eq!(
            i.run_job(0, 10),
            CpuSlot {
                start: 0,
                finish: 10
            }
        );
        // Both busy: waits for the first free worker.
        assert_eq!(
            i.run_job(1, 10),
            CpuSlot {
                start: 10,
                finish: 20
            }
        );
        assert_eq!(
            i.run_job(2, 5),
            CpuSlot {
                start: 10,
                finish: 15
            }
        );
        assert_eq!(
            i.run_job(30, 5),
            CpuSlot {
                start: 30,
                finish: 35
            }
        );
    }

    #[test]
    fn the_pool_schedules_as_a_scan_for_the_first_idle_worker_does() {
        // The reference: each worker's free time in an array; a job takes the first
        // idle worker by index, or else the earliest to free up (lowest index on ties).
        fn scan(free_at: &mut [Nanos], now: Nanos, service: Nanos) -> CpuSlot {
            let best = free_at
                .iter()
                .position(|&f| f <= now)
                .unwrap_or_else(|| (0..free_at.len()).min_by_key(|&i| free_at[i]).unwrap());
            let start = free_at[best].max(now);
            free_at[best] = start + service;
            CpuSlot {
                start,
                finish: start + service,
            }
        }
        let mut x: u64 = 42;
        for cores in [1u32, 2, 3, 8, 32] {
            let mut pool = Instance::new(&server(cores));
            let mut reference = vec![0; cores as usize];
            let mut now = 0;
            for job in 0..20_000 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Bursts (many jobs at one instant), light and heavy load; a crash now
                // and then.
                now += match x % 4 {
                    0 => 0,
                    1 => (x >> 40) % 3,
                    _ => (x >> 40) % 40,
                };
                let service = 1 + (x >> 20) % (10 * u64::from(cores));
                if job % 5_000 == 4_999 {
                    pool.reset_workers(now);
                    reference.iter_mut().for_each(|f| *f = now);
                }
                assert_eq!(
                    pool.run_job(now, service),
                    scan(&mut reference, now, service),
                    "{cores} cores, job {job}"
                );
            }
        }
    }

    #[test]
    fn thread_per_connection_adds_a_stack() {
        let mut s = server(1);
        s.concurrency = Concurrency::ThreadPerConnection;
        s.thread_stack = 1 << 20;
        assert_eq!(
            connection_memory(&s, ConnUse::Stream),
            s.memory_per_connection + (1 << 20) + s.memory_per_stream
        );
    }
}
