"""An equivalent SimPy model of short polling, to compare rtsim's speed against.

Same model as rtsim's short polling on a warm keep-alive connection: N clients, each
polls `interval` after the previous response arrives; a request travels RTT/2, waits
for one of `cores` workers (FIFO), is served in `request_cpu` (+`push_cpu` when it
carries updates), and the response travels RTT/2 back. Per-client Poisson updates.
Log-normal RTT (median 50 ms, sigma 0.5).

    python3 benches/simpy_short_polling.py [clients] [simulated seconds]

Prints wall time, polls simulated and polls per wall-clock second. Compare with
`cargo bench --bench engine -- short --clients N --until S` (rtsim also counts
warm-up; use the same total simulated time).
"""
import math
import random
import sys
import time

import simpy

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
SIM_S = float(sys.argv[2]) if len(sys.argv) > 2 else 70.0
INTERVAL, RATE, CORES = 3.0, 0.01, 8
REQUEST_CPU, PUSH_CPU = 50e-6, 10e-6

rng = random.Random(1)
env = simpy.Environment()
workers = simpy.Resource(env, capacity=CORES)
pending = [0] * N
stats = {"polls": 0, "empty": 0}


def updates():
    while True:
        yield env.timeout(rng.expovariate(RATE * N))
        pending[rng.randrange(N)] += 1


def client(i, rtt):
    yield env.timeout(rng.random() * INTERVAL)
    while True:
        yield env.timeout(rtt / 2)  # request on the wire
        with workers.request() as req:
            yield req
            n = pending[i]
            pending[i] = 0
            yield env.timeout(REQUEST_CPU + (PUSH_CPU if n else 0.0))
        stats["polls"] += 1
        stats["empty"] += n == 0
        yield env.timeout(rtt / 2)  # response on the wire
        yield env.timeout(INTERVAL)


env.process(updates())
for i in range(N):
    env.process(client(i, 0.05 * math.exp(0.5 * rng.gauss(0, 1))))
start = time.perf_counter()
env.run(until=SIM_S)
wall = time.perf_counter() - start
print(f"simpy short polling: {N} clients, {SIM_S:.0f} simulated s")
print(f"wall {wall:.1f} s, {stats['polls']} polls, {stats['polls'] / wall:,.0f} polls/s, "
      f"{stats['polls'] / SIM_S:,.0f} requests per simulated s, "
      f"{stats['empty'] / max(stats['polls'], 1):.3f} empty")
