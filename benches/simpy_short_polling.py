"""An equivalent SimPy model of short polling, to compare rtsim's speed against.

The same model as the engine benchmark's short-polling run (`benches/engine.rs`,
`Scenario::reference()` with 20 instances), written the way a SimPy user would write it,
and measuring the same things:

- N clients with log-normal RTT (median 50 ms, sigma 0.5), each starting at a uniform
  phase in the first poll interval; per-client Poisson updates (0.01/s each).
- Connect: the SYN travels one way, the least-loaded of 20 instances accepts it on one of
  its 8 workers (20 us accept + 1 ms TLS CPU), one more round trip for TLS 1.3.
- Poll (after-response, every 3 s): the request travels one way, waits for a worker
  (FIFO), is served in 50 us (+10 us when it carries updates), the response travels
  back. The connection is kept alive; a poll that would find it past the keep-alive
  (75 s) or proxy (60 s) idle timeout reconnects first.
- Measured after a 10 s warm-up: requests/s, empty fraction, update latency (mean, p99),
  bytes per direction, queue wait, CPU utilization.

    python3 benches/simpy_short_polling.py [clients] [measured seconds]

Compare with `cargo bench --bench engine -- short --clients N --until S` (both run a 10 s
warm-up plus S measured seconds), or run `benches/compare_simpy.sh`, which alternates the
two and prints the ratio.
"""
import math
import random
import sys
import time

import simpy

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
MEASURED_S = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
WARMUP_S = 10.0
END_S = WARMUP_S + MEASURED_S

INTERVAL, RATE = 3.0, 0.01
INSTANCES, CORES = 20, 8
ACCEPT_CPU, TLS_CPU, REQUEST_CPU, PUSH_CPU = 20e-6, 1e-3, 50e-6, 10e-6
IDLE_LIMIT = min(75.0, 60.0)  # keep-alive, proxy idle timeout
REQUEST_BYTES, RESPONSE_HEADER_BYTES, PAYLOAD = 700, 171, 200
TCP_HANDSHAKE_BYTES, TLS_HANDSHAKE_BYTES = 172, 4096
# Every application write is one TLS 1.3 record (5 B header + 1 B content type + 16 B
# AEAD tag, RFC 8446 §5.2); an empty answer's body is `[]` (docs/wire.md).
TLS_RECORD_BYTES, EMPTY_BODY_BYTES = 22, 2

rng = random.Random(1)
env = simpy.Environment()
workers = [simpy.Resource(env, capacity=CORES) for _ in range(INSTANCES)]
connections = [0] * INSTANCES
pending = [[] for _ in range(N)]  # creation times of updates waiting for each client
stats = {"requests": 0, "empty": 0, "bytes_up": 0, "bytes_down": 0, "wait": 0.0,
         "jobs": 0, "busy": 0.0, "handshakes": 0}
latencies = []


def measured(t):
    return WARMUP_S <= t < END_S


def updates():
    while True:
        yield env.timeout(rng.expovariate(RATE * N))
        pending[rng.randrange(N)].append(env.now)


def cpu(instance, service):
    """Runs a job on the instance's workers (FIFO); records wait and busy time."""
    arrived = env.now
    with workers[instance].request() as req:
        yield req
        if measured(arrived):
            stats["wait"] += env.now - arrived
            stats["jobs"] += 1
        if measured(env.now):
            stats["busy"] += service
        yield env.timeout(service)


def connect(one_way, rtt):
    """TCP + TLS 1.3: returns the instance that accepted the connection."""
    if measured(env.now):
        stats["bytes_up"] += TCP_HANDSHAKE_BYTES - 60 + TLS_HANDSHAKE_BYTES // 4
        stats["bytes_down"] += 60 + TLS_HANDSHAKE_BYTES - TLS_HANDSHAKE_BYTES // 4
    yield env.timeout(one_way)  # SYN
    instance = min(range(INSTANCES), key=connections.__getitem__)
    connections[instance] += 1
    if measured(env.now):
        stats["handshakes"] += 1
    yield env.process(cpu(instance, ACCEPT_CPU + TLS_CPU))
    yield env.timeout(one_way + rtt)  # SYN-ACK, then one TLS round trip
    return instance


def client(i, rtt):
    one_way = rtt / 2
    yield env.timeout(rng.random() * INTERVAL)
    instance = yield env.process(connect(one_way, rtt))
    last_activity = env.now
    while True:
        if env.now + one_way >= last_activity + IDLE_LIMIT:
            connections[instance] -= 1  # closed while idle: start afresh
            instance = yield env.process(connect(one_way, rtt))
        if measured(env.now):
            stats["bytes_up"] += REQUEST_BYTES + TLS_RECORD_BYTES
        yield env.timeout(one_way)  # request on the wire
        if measured(env.now):
            stats["requests"] += 1
        waiting = pending[i]
        pending[i] = []
        service = REQUEST_CPU + (PUSH_CPU if waiting else 0.0)
        yield env.process(cpu(instance, service))
        sent = env.now
        if measured(sent):
            stats["empty"] += not waiting
            body = PAYLOAD * len(waiting) if waiting else EMPTY_BODY_BYTES
            stats["bytes_down"] += RESPONSE_HEADER_BYTES + body + TLS_RECORD_BYTES
        yield env.timeout(one_way)  # response on the wire
        last_activity = sent
        for created in waiting:
            if measured(created):
                latencies.append(env.now - created)
        yield env.timeout(INTERVAL)


env.process(updates())
for i in range(N):
    env.process(client(i, 0.05 * math.exp(0.5 * rng.gauss(0, 1))))
start = time.perf_counter()
env.run(until=END_S)
wall = time.perf_counter() - start

latencies.sort()
mean = sum(latencies) / len(latencies) if latencies else 0.0
p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0
print(f"simpy short polling: {N} clients, {MEASURED_S:.0f} s measured + {WARMUP_S:.0f} s warm-up")
print(f"wall {wall:.2f} s")
print(f"requests/s {stats['requests'] / MEASURED_S:,.0f}, "
      f"empty {stats['empty'] / max(stats['requests'], 1):.3f}, "
      f"latency mean {mean:.3f} s p99 {p99:.3f} s, "
      f"down {stats['bytes_down'] / MEASURED_S:,.0f} B/s, up {stats['bytes_up'] / MEASURED_S:,.0f} B/s, "
      f"cpu {stats['busy'] / (MEASURED_S * INSTANCES * CORES):.5f}")
