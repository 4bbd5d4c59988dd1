"""Simulation against queueing theory, judged by confidence intervals over replications.

Every case runs ``R`` independent replications (seeds spawned from one SeedSequence per
case, never picked to pass), each with a warm-up that is discarded and a measurement window
of about ``CUSTOMERS`` arrivals at the station. The replication means are independent and,
being averages of tens of thousands of requests, close to normal, so a Student-t interval
over them is honest.

Tolerance. Each assertion checks that the analytic value lies inside the two-sided
``LEVEL`` = 99.99 % t-interval, which is the 95 % interval widened by
t(0.99995, 9) / t(0.975, 9) = 6.59 / 2.26 ≈ 2.9. With about 50 assertions in this file the
chance that any of them fails by bad luck is below 50 × 0.01 % = 0.5 % (resampling 400
M/M/1 replications confirmed that the t-interval keeps its nominal level here despite
the slight skew of the replication means). The run length sets the width: with 40 000
requests per replication the 95 % half-widths come out at 0.2–2 % of the value for
utilisation, blocking and loss-system averages, 1–5 % for mean waits, responses and
queue lengths at rho = 0.7, ~6 % for the small M/M/3 waiting time and ~10 % for the M/M/1
p99 (about 40 s of CPU for the whole file). An engine error of more than about three such half-widths (a few per cent for most
metrics, ~20 % for those two) fails the test. The warm-up
(1000 s, about 25 relaxation times of an M/M/1 at rho = 0.7) makes the initial-transient
bias negligible against those widths. Percentiles also get a 1 % relative allowance: the
engine's quantile sketch is exact up to 65 536 samples and within 1 % beyond.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from scipy import stats

from engine import Entity, Event, Server, Simulation, Sink, Source, theory
from engine.components.server import AsyncServer, ThreadPool
from engine.distributions import (
    ConstantLatency,
    ErlangLatency,
    ExponentialLatency,
    LatencyDistribution,
    UniformLatency,
)
from engine.queues import LIFOQueue, PriorityQueue

R = 10  # replications per case
LEVEL = 0.9999  # two-sided confidence level of each assertion
WARMUP = 1000.0  # seconds discarded at the start of every replication
CUSTOMERS = 40_000  # arrivals at the station per replication's measurement window
BASE_SEED = 20_241_127


# --------------------------------------------------------------------- helpers
class Splitter(Entity):
    """Sends each completed request to the sink of its priority class."""

    def __init__(self, name: str, sinks: list[Sink]) -> None:
        super().__init__(name)
        self.sinks = sinks

    def handle_event(self, event: Event) -> Event:
        return self.forward(event, self.sinks[event.metadata["priority"]])


class Feedback(Entity):
    """Bernoulli feedback: back to ``station`` with probability ``p``, else out to ``sink``."""

    def __init__(self, name: str, p: float, sink: Sink) -> None:
        super().__init__(name)
        self.p = p
        self.sink = sink
        self.station: Entity | None = None

    def handle_event(self, event: Event) -> Event:
        target = self.station if self.sim.rng.random() < self.p else self.sink
        assert target is not None, "set Feedback.station before the run"
        return self.forward(event, target)


Built = tuple[list[Entity], Any, list[Entity]]  # sources, the station under test, other entities


@dataclass(frozen=True)
class Case:
    """A station with a closed form: how to build it and what theory says about it."""

    build: Callable[[], Built]
    station_rate: float  # arrivals per second at the station (sets the run length)
    expected: dict[str, float]
    measure: Callable[[list[Entity], float], dict[str, float]] | None = None
    rel_slack: dict[str, float] = field(default_factory=dict)


def _server_case(lam: float, **server_kwargs: Any) -> Callable[[], Built]:
    def build() -> Built:
        sink = Sink("done")
        station = Server("station", downstream=sink, **server_kwargs)
        return [Source.poisson(lam, station)], station, [sink]

    return build


def _thread_pool(lam: float, workers: int, processing: LatencyDistribution) -> Callable[[], Built]:
    def build() -> Built:
        sink = Sink("done")
        station = ThreadPool("pool", num_workers=workers, processing_time=processing, downstream=sink)
        return [Source.poisson(lam, station)], station, [sink]

    return build


def _async_server(lam: float, max_connections: int, cpu: LatencyDistribution) -> Callable[[], Built]:
    def build() -> Built:
        sink = Sink("done")
        station = AsyncServer("loop", max_connections=max_connections, cpu_work_distribution=cpu, downstream=sink)
        return [Source.poisson(lam, station)], station, [sink]

    return build


def _priority(lams: list[float], service: LatencyDistribution) -> Callable[[], Built]:
    def build() -> Built:
        sinks = [Sink(f"class{k}") for k in range(len(lams))]
        splitter = Splitter("splitter", sinks)
        station = Server("station", service_time=service, queue_policy=PriorityQueue(), downstream=splitter)
        sources: list[Entity] = [
            Source.poisson(
                lam, station, name=f"source{k}", context_factory=lambda now, k=k: {"metadata": {"priority": k}}
            )
            for k, lam in enumerate(lams)
        ]
        return sources, station, [splitter, *sinks]

    return build


def _priority_waits(mean_service: float) -> Callable[[list[Entity], float], dict[str, float]]:
    # A class's sink sees its response time at the station (requests are created as they
    # arrive there). Service is drawn independently of the wait, so mean wait = mean
    # response - mean service exactly; the service noise is inside the replication CI.
    def measure(others: list[Entity], now: float) -> dict[str, float]:
        sinks = [e for e in others if isinstance(e, Sink)]
        return {f"class{k}_mean_wait": s.average_latency() - mean_service for k, s in enumerate(sinks)}

    return measure


def _feedback(lam: float, p: float, service: LatencyDistribution) -> Callable[[], Built]:
    def build() -> Built:
        sink = Sink("done")
        loop = Feedback("feedback", p, sink)
        station = Server("station", service_time=service, downstream=loop)
        loop.station = station
        return [Source.poisson(lam, station)], station, [loop, sink]

    return build


def _network_response(others: list[Entity], now: float) -> dict[str, float]:
    sink = next(e for e in others if isinstance(e, Sink))
    return {"network_mean_response": sink.average_latency()}


# ----------------------------------------------------------------------- cases
def _cases() -> dict[str, Case]:
    mm1 = theory.mm1(0.7, 1.0)
    mm1_p99 = theory.mm1_response_percentile(0.7, 1.0, 0.99)
    mm3 = theory.mmc(2.1, 1.0, 3)
    md1 = theory.md1(0.7, 1.0)
    erlang2 = theory.mg1(0.7, 1.0, 0.5)  # Erlang-2 with mean 1: variance 1/2
    uniform = theory.mg1(0.7, 1.0, 1.0 / 3.0)  # uniform on [0, 2]: variance 1/3
    mm1k = theory.mmck(0.8, 1.0, 1, 5)
    loss = theory.mmck(3.0, 1.0, 5, 5)
    prio = theory.priority_nonpreemptive_mg1([0.3, 0.4], [1.0, 1.0], [2.0, 2.0])
    net = theory.jackson([0.35], [[0.5]], [1.0], [1])
    delay = theory.mminf(5.0, 1.0)
    loop_station = net.stations["0"]
    erlang_b = theory.erlang_b(5, 3.0)
    exp1 = ExponentialLatency(1.0)
    queueing = ("mean_response", "mean_queue_length", "mean_wait", "utilization")
    return {
        "mm1_fifo": Case(
            _server_case(0.7, service_time=exp1),
            0.7,
            {
                "mean_response": mm1.mean_response,
                "mean_queue_length": mm1.mean_queue_length,
                "utilization": mm1.utilization,
                "p99_response": mm1_p99,
            },
            rel_slack={"p99_response": 0.01},
        ),
        "mm1_lifo": Case(
            _server_case(0.7, service_time=exp1, queue_policy=LIFOQueue()),
            0.7,
            {"mean_response": mm1.mean_response, "utilization": mm1.utilization},
        ),
        "mm3_server": Case(
            _server_case(2.1, concurrency=3, service_time=exp1),
            2.1,
            {k: getattr(mm3, k) for k in queueing},
        ),
        "mm3_thread_pool": Case(_thread_pool(2.1, 3, exp1), 2.1, {k: getattr(mm3, k) for k in queueing}),
        "md1": Case(
            _server_case(0.7, service_time=ConstantLatency(1.0)),
            0.7,
            {k: getattr(md1, k) for k in queueing},
        ),
        "mg1_erlang2": Case(
            _server_case(0.7, service_time=ErlangLatency(1.0, k=2)),
            0.7,
            {"mean_wait": erlang2.mean_wait, "mean_queue_length": erlang2.mean_queue_length},
        ),
        "mg1_uniform": Case(
            _server_case(0.7, service_time=UniformLatency(0.0, 2.0)),
            0.7,
            {"mean_wait": uniform.mean_wait, "mean_queue_length": uniform.mean_queue_length},
        ),
        "mm1k_server": Case(
            _server_case(0.8, service_time=exp1, queue_capacity=4),
            0.8,
            {
                "blocking": mm1k.blocking_probability,
                "mean_in_system": mm1k.mean_in_system,
                "mean_response": mm1k.mean_response,
                "utilization": mm1k.utilization,
            },
        ),
        "erlang_b_exponential": Case(
            _server_case(3.0, concurrency=5, service_time=exp1, queue_capacity=0),
            3.0,
            {"blocking": erlang_b, "mean_in_system": loss.mean_in_system, "utilization": loss.utilization},
        ),
        # Erlang B is insensitive to the service distribution beyond its mean.
        "erlang_b_uniform": Case(
            _server_case(3.0, concurrency=5, service_time=UniformLatency(0.0, 2.0), queue_capacity=0),
            3.0,
            {"blocking": erlang_b, "mean_in_system": loss.mean_in_system},
        ),
        # One event loop (the CPU) and max_connections = K held from accept to completion.
        "async_server_mm1k": Case(
            _async_server(0.8, 5, exp1),
            0.8,
            {
                "blocking": mm1k.blocking_probability,
                "mean_in_system": mm1k.mean_in_system,
                "mean_queue_length": mm1k.mean_queue_length,
                "mean_response": mm1k.mean_response,
                "cpu_utilization": mm1k.utilization,
                # the AsyncServer's own utilisation is open connections / max_connections
                "utilization": mm1k.mean_in_system / 5,
            },
        ),
        "priority_two_classes": Case(
            _priority([0.3, 0.4], exp1),
            0.7,
            {
                "class0_mean_wait": prio[0].mean_wait,
                "class1_mean_wait": prio[1].mean_wait,
                # Kleinrock's conservation law: equal service times, so the overall mean
                # wait is FIFO's.
                "mean_wait": mm1.mean_wait,
            },
            measure=_priority_waits(1.0),
        ),
        "jackson_feedback": Case(
            _feedback(0.35, 0.5, exp1),
            0.7,
            {
                "mean_in_system": loop_station.mean_in_system,
                "utilization": loop_station.utilization,
                "throughput": loop_station.throughput,
                "network_mean_response": net.mean_response,
            },
            measure=_network_response,
        ),
        "mminf_delay": Case(
            _server_case(5.0, concurrency=100_000, service_time=exp1),
            5.0,
            {"mean_in_system": delay.mean_in_system, "mean_response": delay.mean_response},
        ),
    }


CASES = _cases()


@functools.cache
def replications(name: str) -> dict[str, np.ndarray]:
    """Run case ``name`` R times; each metric as an array of its R replication values."""
    case = CASES[name]
    end = WARMUP + CUSTOMERS / case.station_rate
    seeds = np.random.SeedSequence([BASE_SEED, zlib.crc32(name.encode())]).spawn(R)
    rows = []
    for seed in seeds:
        sources, station, others = case.build()
        sim = Simulation(sources=sources, entities=[station, *others], end_time=end, seed=seed)
        sim.run_until(WARMUP)
        for entity in (station, *others):
            if hasattr(entity, "_reset_window"):
                entity._reset_window(sim.now)
        sim.run()
        row = dict(station.window_metrics(sim.now))
        row["blocking"] = row["rejected"] / row["arrivals"]
        if case.measure is not None:
            row.update(case.measure(others, sim.now))
        rows.append(row)
    return {key: np.array([row[key] for row in rows], dtype=float) for key in rows[0]}


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Mean and half-width of the two-sided t-interval at ``level`` over the replications."""
    n = len(values)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return float(values.mean()), float(half)


CHECKS = [(name, metric) for name, case in CASES.items() for metric in case.expected]


# ------------------------------------------------------------------------ tests
@pytest.mark.parametrize(("name", "metric"), CHECKS, ids=[f"{n}-{m}" for n, m in CHECKS])
def test_simulated_metric_matches_theory(name: str, metric: str) -> None:
    case = CASES[name]
    analytic = case.expected[metric]
    mean, half = interval(replications(name)[metric])
    allowed = half + case.rel_slack.get(metric, 0.0) * abs(analytic)
    assert abs(mean - analytic) <= allowed, (
        f"{name}: simulated {metric} = {mean:.5g} ± {half:.3g} ({LEVEL:.2%} t-interval over {R} replications) "
        f"does not contain the analytic value {analytic:.5g}"
    )


def test_lifo_has_the_mean_response_of_fifo_but_a_much_longer_tail() -> None:
    fifo, lifo = replications("mm1_fifo"), replications("mm1_lifo")
    # same mean: both are checked against the M/M/1 value above; here directly, two-sample
    diff = lifo["mean_response"] - fifo["mean_response"]
    d_mean, d_half = interval(diff)
    assert abs(d_mean) <= d_half, f"LIFO - FIFO mean response = {d_mean:.4g} ± {d_half:.3g}"
    fifo_p99, fifo_half = interval(fifo["p99_response"])
    lifo_p99, lifo_half = interval(lifo["p99_response"])
    assert lifo_p99 - lifo_half > fifo_p99 + fifo_half
    assert lifo_p99 > 1.5 * fifo_p99, f"LIFO p99 {lifo_p99:.3g} vs FIFO p99 {fifo_p99:.3g}"


def test_priority_classes_are_clearly_separated() -> None:
    waits = replications("priority_two_classes")
    high, high_half = interval(waits["class0_mean_wait"])
    low, low_half = interval(waits["class1_mean_wait"])
    assert high + high_half < low - low_half


def test_delay_station_never_queues() -> None:
    delay = replications("mminf_delay")
    assert np.all(delay["mean_wait"] == 0.0)
    assert np.all(delay["mean_queue_length"] == 0.0)
