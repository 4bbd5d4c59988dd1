"""One completion path for the statistics (issue 14): every station records starts and
completions through ``WindowStats._enter_service`` / ``_depart``, and each sampled quantity
is a ``Tally`` (count, sum and percentile sketch together)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.components.delay import Delay
from engine.components.server import AsyncServer, Server, ThreadPool
from engine.components.window import FOLD_EVERY, Tally, WindowStats
from engine.distributions import ConstantLatency, UniformLatency
from engine.entity import Entity
from engine.event import Event
from engine.simulation import Simulation

STATIONS = {
    "server": lambda: Server("st", 1, ConstantLatency(1.0)),
    "thread_pool": lambda: ThreadPool("st", 1, processing_time=ConstantLatency(1.0)),
    "async_server": lambda: AsyncServer("st", 10, ConstantLatency(1.0), io_time=None),
}


def test_tally_keeps_count_sum_and_percentiles_together():
    tally = Tally()
    assert tally.count == 0 and math.isnan(tally.mean)
    for x in (1.0, 2.0, 3.0, 4.0):
        tally.add(x)
    assert (tally.count, tally.total, tally.mean) == (4, 10.0, 2.5)
    assert tally.percentile(0.5) == 2.5
    tally.clear()
    assert (tally.count, tally.total) == (0, 0.0)


def test_tally_folds_past_its_exact_buffer_and_stays_within_one_percent():
    rng = np.random.default_rng(1)
    xs = rng.uniform(1.0, 2.0, 70_000)
    tally = Tally()
    for x in xs.tolist():
        tally.add(x)
    assert len(tally.values) < tally.exact_limit
    assert tally.count == xs.size
    assert tally.total == pytest.approx(xs.sum(), rel=1e-12)
    assert tally.percentile(0.95) == pytest.approx(np.quantile(xs, 0.95), rel=0.011)


@pytest.mark.parametrize("kind", sorted(STATIONS))
def test_single_server_stations_record_the_same_sums(kind, inject):
    # Arrivals at 0, 0, 0.5 with 1 s of service each at one server (the event loop's CPU
    # for the async server): starts 0, 1, 2; completions 1, 2, 3.
    station = STATIONS[kind]()
    sim = Simulation(entities=[station])
    inject(sim, station, [0.0, 0.0, 0.5])
    sim.run()
    completed, response_sum, started, wait_sum = station.window_totals()
    assert (completed, started) == (3, 3)
    assert response_sum == pytest.approx(1.0 + 2.0 + 2.5)
    assert wait_sum == pytest.approx(0.0 + 1.0 + 1.5)
    m = station.window_metrics(sim.now)
    assert m["mean_response"] == pytest.approx(5.5 / 3)
    assert m["p50_response"] == pytest.approx(2.0)
    assert m["mean_in_system"] == pytest.approx(5.5 / 3.0)  # area 5.5 over 3 s
    total = {"server": "total_service_time", "thread_pool": "total_processing_time", "async_server": "total_cpu_time"}
    assert getattr(station.stats, total[kind]) == pytest.approx(3.0)


def test_a_delay_records_response_and_held_times_through_the_same_path(inject):
    delay = Delay("d", ConstantLatency(2.0))
    sim = Simulation(entities=[delay])
    inject(sim, delay, [0.0, 0.5, 1.0])
    sim.run()
    assert delay.window_totals() == (3, pytest.approx(6.0), 3, 0.0)
    assert delay.window_metrics(sim.now)["mean_in_system"] == pytest.approx(6.0 / 3.0)


def test_window_reset_starts_the_response_tally_again_but_not_the_service_one(inject):
    server = Server("s", 1, ConstantLatency(1.0))
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0, 0.0])
    sim.run_until(1.5)
    server.reset_window()
    sim.run()
    assert server.window_totals()[:2] == (2, pytest.approx(2.0 + 3.0))
    assert server.stats.requests_completed == 3
    assert server.average_service_time == 1.0


def test_many_completions_fold_the_stations_sketches_and_keep_percentiles_close(inject):
    n = 2 * FOLD_EVERY + 65_536  # past the exact buffer, and past a fold check
    delay = Delay("d", UniformLatency(1.0, 2.0))
    sim = Simulation(entities=[delay], seed=4)
    inject(sim, delay, [0.0] * n)
    sim.run()
    responses = delay._responses
    assert responses.count == n and not responses.exact
    assert len(responses.values) < responses.exact_limit + FOLD_EVERY
    assert delay.window_metrics(sim.now)["p50_response"] == pytest.approx(1.5, rel=0.02)


class _RoundTrips(WindowStats, Entity):
    """A toy station whose requests have no service time of their own (like closed-loop
    clients): it records through the same path, with ``service=None``."""

    def __init__(self) -> None:
        Entity.__init__(self, "trips")
        self._waiting = self._in_service = self._completed = 0
        self._init_window()

    def send(self, now: float) -> None:
        self._arrivals += 1
        self._m_A += now
        self._enter_service(now, 0.0)

    def handle_event(self, event: Event) -> None:
        now = self.sim.now
        self._depart(now, now - event.context["created_at"], None)

    def _capacity_now(self) -> float:
        return math.inf


def test_a_station_without_service_times_records_responses_only():
    trips = _RoundTrips()
    sim = Simulation(entities=[trips])
    trips.send(0.0)
    trips.send(0.0)
    sim.schedule(
        [Event(1.0, "R", trips, context={"created_at": 0.0}), Event(3.0, "R", trips, context={"created_at": 0.0})]
    )
    sim.run()
    assert trips.window_totals() == (2, 4.0, 2, 0.0)
    assert trips._service.count == 0
    assert trips.window_metrics(sim.now)["mean_in_system"] == pytest.approx(4.0 / 3.0)


def test_power_of_two_reads_station_loads_directly_and_other_entities_by_default(inject, recorder):
    from engine.components.router import Router

    busy = Server("busy", 1, ConstantLatency(10.0))
    idle = Server("idle", 1, ConstantLatency(10.0))
    router = Router("lb", [busy, idle], "power_of_two")
    assert router._stations
    sim = Simulation(entities=[router])
    inject(sim, busy, [0.0, 0.0])  # busy: one in service, one waiting
    inject(sim, router, [1.0, 1.0, 1.0])  # idle gets 0 -> 1 -> 2 in system; then a tie goes first
    sim.run_until(2.0)
    assert router.routed == [1, 2]

    loaded = Server("loaded", 1, ConstantLatency(10.0))
    mixed = Router("mixed", [loaded, recorder], "power_of_two")  # a user entity counts as load 0
    assert not mixed._stations
    sim2 = Simulation(entities=[mixed])
    inject(sim2, loaded, [0.0])
    inject(sim2, mixed, [1.0])
    sim2.run()
    assert mixed.routed == [0, 1]


def test_only_the_window_keeps_the_completion_sums():
    """Every component (the closed population's clients included) records completions
    through ``WindowStats._depart``: no other file adds to the sums by hand."""
    from pathlib import Path

    import engine.components as components

    root = Path(components.__file__).parent
    hand_kept = ("_m_D +=", "_resp_append(", "_completed += 1", "_m_S +=")
    offenders = {
        str(path.relative_to(root)): [s for s in hand_kept if s in path.read_text(encoding="utf-8")]
        for path in root.rglob("*.py")
        if path.name != "window.py"
    }
    assert {k: v for k, v in offenders.items() if v} == {}
