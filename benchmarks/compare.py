"""Queue Studio's engine against SimPy on the same workloads, in one process.

Run: ``python benchmarks/compare.py [--customers N] [--rounds R]``. Prints customers per
second for each engine, the ratio ours/SimPy (the goal is >= 3.0 on W1–W3), and the mean
response time of each beside the analytic value, so speed is never bought with wrong
answers. Rounds alternate between the engines to share any drift of the machine.

W1 M/M/1 ρ=0.9 · W2 M/M/4 ρ=0.9 · W3 tandem of two M/M/1 at ρ=0.8 · W4 the example
"thread pools behind a load balancer" built from its model file.
Both sides keep full statistics: every response time is recorded (SimPy in a list, ours
in the station's window statistics and percentile sketch).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Simulation, Sink, Source  # noqa: E402
from engine.components.server import Server  # noqa: E402
from engine.distributions import ExponentialLatency  # noqa: E402
from engine.model import build, load_model  # noqa: E402
from engine.theory import mm1, mmc  # noqa: E402

WORKLOADS = {
    "W1 M/M/1 rho=0.9": {"lam": 0.9, "stations": [(1, 1.0)]},
    "W2 M/M/4 rho=0.9": {"lam": 3.6, "stations": [(4, 1.0)]},
    "W3 tandem rho=0.8": {"lam": 0.8, "stations": [(1, 1.0), (1, 1.0)]},
}


def analytic(spec: dict) -> float:
    lam = spec["lam"]
    return sum((mm1(lam, 1 / m) if c == 1 else mmc(lam, 1 / m, c)).mean_response for c, m in spec["stations"])


# ------------------------------------------------------------------ SimPy
def simpy_run(spec: dict, customers: int, seed: int) -> tuple[int, float, float]:
    """SimPy as its documentation recommends: a Resource per station, a process per customer."""
    rng = random.Random(seed)
    env = simpy.Environment()
    stations = [(simpy.Resource(env, capacity=c), m) for c, m in spec["stations"]]
    lam = spec["lam"]
    responses: list[float] = []
    waits: list[float] = []

    def customer(env: simpy.Environment) -> object:
        start = env.now
        for res, mean in stations:
            arrive = env.now
            with res.request() as req:
                yield req
                waits.append(env.now - arrive)
                yield env.timeout(rng.expovariate(1 / mean))
        responses.append(env.now - start)

    def source(env: simpy.Environment) -> object:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(lam))
            env.process(customer(env))

    env.process(source(env))
    t0 = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - t0
    return len(responses), elapsed, statistics.fmean(responses)


# ------------------------------------------------------------------ ours
def ours_run(spec: dict, customers: int, seed: int) -> tuple[int, float, float]:
    sink = Sink("done")
    downstream = sink
    stations = []
    for i, (c, m) in reversed(list(enumerate(spec["stations"]))):
        downstream = Server(f"s{i}", concurrency=c, service_time=ExponentialLatency(m), downstream=downstream)
        stations.append(downstream)
    src = Source.poisson(spec["lam"], downstream, limit=customers)
    sim = Simulation(sources=[src], entities=[*stations, sink], seed=seed)
    t0 = time.perf_counter()
    sim.run()
    elapsed = time.perf_counter() - t0
    return sink.count, elapsed, sink.average_latency()


def model_run(path: Path, seed: int, end_time: float) -> tuple[int, float, float]:
    run = build(load_model(path), seed=seed, end_time=end_time)
    t0 = time.perf_counter()
    run.run_until(end_time)
    elapsed = time.perf_counter() - t0
    sinks = run.sinks.values()
    return sum(s.count for s in sinks), elapsed, statistics.fmean(s.average_latency() for s in sinks)


def simpy_lb(customers: int, seed: int) -> tuple[int, float, float]:
    """W4's model written by hand in SimPy: power-of-two choices over three 4-worker pools."""
    rng = random.Random(seed)
    env = simpy.Environment()
    pools = [simpy.Resource(env, capacity=4) for _ in range(3)]
    responses: list[float] = []

    def load(r: simpy.Resource) -> int:
        return r.count + len(r.queue)

    def customer(env: simpy.Environment) -> object:
        start = env.now
        a, b = rng.sample(range(3), 2)
        pool = pools[a] if load(pools[a]) <= load(pools[b]) else pools[b]
        with pool.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1 / 0.3))
        responses.append(env.now - start)

    def source(env: simpy.Environment) -> object:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(30.0))
            env.process(customer(env))

    env.process(source(env))
    t0 = time.perf_counter()
    env.run()
    return len(responses), time.perf_counter() - t0, statistics.fmean(responses)


def memory_run(customers: int) -> tuple[float, float]:
    """Peak RSS (MB) and wall time of ``queuestudio run`` on an M/M/1 with ``customers`` arrivals."""
    model = {
        "format": "queuestudio-model",
        "version": 1,
        "name": f"M/M/1, {customers:,} customers",
        "simulation": {"end_time": customers / 0.9, "warmup": 0, "seed": 1, "sample_interval": 10.0},
        "nodes": [
            {"id": "arrivals", "kind": "source", "params": {"rate": 0.9}},
            {"id": "cpu", "kind": "server", "params": {"service_time": {"dist": "exponential", "mean": 1.0}}},
            {"id": "done", "kind": "sink"},
        ],
        "links": [{"from": "arrivals", "to": "cpu"}, {"from": "cpu", "to": "done"}],
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mm1.json"
        path.write_text(json.dumps(model))
        code = (
            "import resource, sys; from engine.cli import main; rc = main(['run', sys.argv[1], '--quiet']); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)"
        )
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT, check=True
        )
        elapsed = time.perf_counter() - t0
    return int(done.stderr.strip().splitlines()[-1]) / 1024, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--memory-customers", type=int, default=10_000_000, help="customers in the bounded-memory CLI run (0 skips it)"
    )
    args = parser.parse_args()
    rows = []
    for name, spec in WORKLOADS.items():
        ours, theirs = [], []
        ours_mean = simpy_mean = math.nan
        for r in range(args.rounds):
            gc.collect()
            n, el, simpy_mean = simpy_run(spec, args.customers, seed=r)
            theirs.append(n / el)
            gc.collect()
            n, el, ours_mean = ours_run(spec, args.customers, seed=r)
            ours.append(n / el)
        rows.append((name, max(ours), max(theirs), ours_mean, simpy_mean, analytic(spec)))
    lb_path = ROOT / "resources" / "examples" / "load_balanced_pools.json"
    ours, theirs = [], []
    end = args.customers / 30.0
    for r in range(args.rounds):
        gc.collect()
        n, el, simpy_mean = simpy_lb(args.customers, seed=r)
        theirs.append(n / el)
        gc.collect()
        n, el, ours_mean = model_run(lb_path, seed=r, end_time=end)
        ours.append(n / el)
    rows.append(("W4 model: pools behind LB", max(ours), max(theirs), ours_mean, simpy_mean, math.nan))

    print(f"{'workload':<28}{'ours c/s':>12}{'SimPy c/s':>12}{'ratio':>8}{'W ours':>10}{'W SimPy':>10}{'W theory':>10}")
    for name, o, t, wo, ws, wa in rows:
        print(f"{name:<28}{o:>12,.0f}{t:>12,.0f}{o / t:>8.2f}{wo:>10.3f}{ws:>10.3f}{wa:>10.3f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MB (pid {os.getpid()})")
    if args.memory_customers:
        peak, wall = memory_run(args.memory_customers)
        print(
            f"CLI run of an M/M/1 with {args.memory_customers:,} customers: peak RSS {peak:.0f} MB "
            f"(goal < 150 MB), {wall:.0f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
