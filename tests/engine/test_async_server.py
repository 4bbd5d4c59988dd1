"""AsyncServer: serialised CPU work, concurrent I/O, connections (SEMANTICS §2 AsyncServer)."""

from __future__ import annotations

import dataclasses

import pytest

from engine import Event, Simulation
from engine.components.server import AsyncServer, AsyncServerStats
from engine.distributions import ConstantLatency


def io_wait(seconds):
    """An I/O handler whose generator waits ``seconds`` and returns nothing."""

    def handler(event):
        yield seconds

    return handler


def _run(server, inject, times, names=None, end_time=None):
    sim = Simulation(entities=[server], end_time=end_time)
    inject(sim, server, times, names=names)
    sim.run()
    return sim


# ------------------------------------------------------------------------------ CPU


def test_cpu_work_is_serialised_in_arrival_order(recorder, inject):
    server = AsyncServer("a", cpu_work_distribution=ConstantLatency(1.0), downstream=recorder)
    _run(server, inject, [0.0, 0.0, 0.0], names=["a", "b", "c"])
    assert recorder.log == [(1.0, "a"), (2.0, "b"), (3.0, "c")]


def test_next_cpu_work_starts_at_the_same_instant_the_previous_ends(SequenceLatency, inject):
    cpu = SequenceLatency([1.0, 0.5, 2.0])
    server = AsyncServer("a", cpu_work_distribution=cpu)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.2, 0.4])
    sim.run_until(1.0)
    assert server.is_cpu_busy is True
    assert server.cpu_queue_depth == 1
    sim.run()
    assert cpu.calls == [0.0, 1.0, 1.5]


def test_cpu_time_defaults_to_zero(recorder, inject):
    server = AsyncServer("a", downstream=recorder)
    assert isinstance(server.cpu_work_distribution, ConstantLatency)
    assert server.cpu_work_distribution.value == 0.0  # "Default is 0"
    _run(server, inject, [0.5, 0.5], names=["a", "b"])
    assert recorder.log == [(0.5, "a"), (0.5, "b")]


def test_cpu_is_idle_between_bursts(inject):
    server = AsyncServer("a", cpu_work_distribution=ConstantLatency(1.0))
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 5.0])
    sim.run_until(2.0)
    assert server.is_cpu_busy is False
    assert server.cpu_queue_depth == 0
    sim.run_until(5.5)
    assert server.is_cpu_busy is True


# ------------------------------------------------------------------------------ I/O


def test_io_generators_run_concurrently_after_serialised_cpu(recorder, inject):
    server = AsyncServer("a", cpu_work_distribution=ConstantLatency(1.0), io_handler=io_wait(5.0), downstream=recorder)
    _run(server, inject, [0.0, 0.0, 0.0], names=["a", "b", "c"])
    assert recorder.log == [(6.0, "a"), (7.0, "b"), (8.0, "c")]


def test_pure_io_requests_all_overlap(recorder, inject):
    server = AsyncServer("a", io_handler=io_wait(5.0), downstream=recorder)
    _run(server, inject, [0.0, 0.0, 0.0], names=["a", "b", "c"])
    assert recorder.log == [(5.0, "a"), (5.0, "b"), (5.0, "c")]


def test_total_io_time_adds_each_generators_elapsed_time(inject):
    server = AsyncServer("a", cpu_work_distribution=ConstantLatency(1.0), io_handler=io_wait(5.0))
    _run(server, inject, [0.0, 0.0, 0.0])
    assert server.stats.total_io_time == 15.0
    assert server.stats.total_cpu_time == 3.0


def test_io_generator_with_several_yields(recorder, inject):
    def handler(event):
        yield 1.0
        yield (2.0, [])
        yield 0.5

    server = AsyncServer("a", io_handler=handler, downstream=recorder)
    _run(server, inject, [1.0])
    assert recorder.log == [(4.5, "Request")]
    assert server.stats.total_io_time == 3.5


def test_events_returned_by_an_io_generator_are_scheduled_and_not_forwarded(Recorder, inject):
    audit, done = Recorder("audit"), Recorder("done")

    def handler(event):
        yield 2.0
        return [Event(event.target.now, "reply", audit)]

    server = AsyncServer("a", cpu_work_distribution=ConstantLatency(1.0), io_handler=handler, downstream=done)
    sim = Simulation(entities=[server, audit])
    inject(sim, server, [0.0])
    sim.run()
    assert audit.log == [(3.0, "reply")]
    assert done.log == []
    assert server.stats.requests_completed == 1
    assert server.active_connections == 0


def test_events_returned_by_a_plain_io_handler_are_scheduled_and_not_forwarded(Recorder, inject):
    audit, done = Recorder("audit"), Recorder("done")
    server = AsyncServer(
        "a",
        cpu_work_distribution=ConstantLatency(1.0),
        io_handler=lambda event: Event(event.target.now + 0.5, "reply", audit),
        downstream=done,
    )
    sim = Simulation(entities=[server, audit])
    inject(sim, server, [0.0])
    sim.run()
    assert audit.log == [(1.5, "reply")]
    assert done.log == []
    assert server.stats.requests_completed == 1


def test_plain_io_handler_returning_none_completes_at_once_and_is_forwarded(recorder, inject):
    calls = []
    server = AsyncServer(
        "a",
        cpu_work_distribution=ConstantLatency(1.0),
        io_handler=lambda event: calls.append(event.event_type),
        downstream=recorder,
    )
    _run(server, inject, [0.0, 0.0], names=["a", "b"])
    assert calls == ["a", "b"]
    assert recorder.log == [(1.0, "a"), (2.0, "b")]


def test_forwarded_request_keeps_its_context(recorder):
    server = AsyncServer("a", cpu_work_distribution=ConstantLatency(1.0), io_handler=io_wait(1.0), downstream=recorder)
    sim = Simulation(entities=[server])
    ctx = {"metadata": {"user": "bob"}}
    sim.schedule(Event(0.5, "Request", server, context=ctx))
    sim.run()
    assert recorder.log == [(2.5, "Request")]
    assert recorder.events[0].context is ctx


def test_io_time_keyword_draws_a_concurrent_io_wait(recorder, inject):
    server = AsyncServer(
        "a", cpu_work_distribution=ConstantLatency(1.0), io_time=ConstantLatency(5.0), downstream=recorder
    )
    assert server.io_time.mean == 5.0
    _run(server, inject, [0.0, 0.0, 0.0], names=["a", "b", "c"])
    assert recorder.log == [(6.0, "a"), (7.0, "b"), (8.0, "c")]
    assert server.stats.total_io_time == 15.0
    assert server.active_connections == 0


# ---------------------------------------------------------------------- connections


def test_connection_is_released_after_io_without_leaking(inject):
    server = AsyncServer("a", cpu_work_distribution=ConstantLatency(1.0), io_handler=io_wait(5.0))
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0, 0.0])
    sim.run_until(4.0)
    assert server.active_connections == 3
    assert server.utilization == 3 / 10000
    sim.run_until(6.5)
    assert server.active_connections == 2
    sim.run()
    assert server.active_connections == 0
    assert server.utilization == 0.0
    assert server.peak_connections == 3


def test_connection_is_held_while_waiting_for_the_cpu(inject):
    server = AsyncServer("a", cpu_work_distribution=ConstantLatency(1.0))
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0, 0.0])
    sim.run_until(0.5)
    assert server.active_connections == 3
    assert server.cpu_queue_depth == 2


def test_peak_connections_tracks_the_maximum(inject):
    server = AsyncServer("a", io_handler=io_wait(1.0))
    _run(server, inject, [0.0, 0.5, 0.6, 3.0])
    assert server.peak_connections == 3
    assert server.active_connections == 0


def test_requests_beyond_max_connections_are_rejected_and_counted(recorder, inject):
    server = AsyncServer("a", max_connections=2, cpu_work_distribution=ConstantLatency(1.0), downstream=recorder)
    _run(server, inject, [0.0, 0.0, 0.0, 2.5], names=["a", "b", "rejected", "later"])
    assert recorder.log == [(1.0, "a"), (2.0, "b"), (3.5, "later")]
    assert server.stats.requests_rejected == 1
    assert server.stats_dropped == 1
    assert server.stats_accepted == 3
    assert server.has_capacity() is True


def test_has_capacity_is_false_at_max_connections(inject):
    server = AsyncServer("a", max_connections=1, io_handler=io_wait(2.0))
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0])
    sim.run_until(1.0)
    assert server.has_capacity() is False
    assert server.utilization == 1.0


@pytest.mark.parametrize("bad", [0, -5])
def test_max_connections_below_one_is_a_value_error(bad):
    with pytest.raises(ValueError, match="max_connections"):
        AsyncServer("a", max_connections=bad)


def test_max_connections_defaults_to_10000():
    assert AsyncServer("a").max_connections == 10000


# ------------------------------------------------------------------------ statistics


def test_stats_are_a_frozen_snapshot(inject):
    server = AsyncServer("a", max_connections=1, cpu_work_distribution=ConstantLatency(2.0), io_handler=io_wait(1.0))
    _run(server, inject, [0.0, 1.0])
    s = server.stats
    assert isinstance(s, AsyncServerStats)
    assert s == AsyncServerStats(requests_completed=1, requests_rejected=1, total_cpu_time=2.0, total_io_time=1.0)
    assert server.stats is not s
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.requests_completed = 3  # type: ignore[misc]


def test_average_cpu_time_and_percentiles(SequenceLatency, inject):
    server = AsyncServer("a", cpu_work_distribution=SequenceLatency([3.0, 1.0, 4.0, 2.0]))
    assert server.average_cpu_time == 0.0
    assert server.get_cpu_time_percentile(0.5) == 0.0
    _run(server, inject, [0.0] * 4)
    assert server.average_cpu_time == 2.5
    assert server.get_cpu_time_percentile(0.0) == 1.0
    assert server.get_cpu_time_percentile(0.5) == 2.5
    assert server.get_cpu_time_percentile(0.99) == pytest.approx(3.97, abs=1e-12)
    assert server.get_cpu_time_percentile(1.0) == 4.0
    with pytest.raises(ValueError):
        server.get_cpu_time_percentile(99)


def test_cpu_work_distribution_and_io_handler_are_read_only():
    dist = ConstantLatency(1.0)
    handler = io_wait(1.0)
    server = AsyncServer("a", cpu_work_distribution=dist, io_handler=handler)
    assert server.cpu_work_distribution is dist
    assert server.io_handler is handler
    with pytest.raises(AttributeError):
        server.cpu_work_distribution = ConstantLatency(2.0)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        server.io_handler = None  # type: ignore[misc]


def test_downstream_is_a_keyword_only_argument(recorder):
    with pytest.raises(TypeError):
        AsyncServer("a", 10, None, None, recorder)  # type: ignore[misc]
    assert AsyncServer("a", downstream=recorder).downstream is recorder
