"""The components' public setters (issue 14): each applies from the current instant exactly
as a run started with that value would, and the stations' read-only ``completed`` and
``window_start``. Tiny deterministic scenarios: constant times, exact logs."""

from __future__ import annotations

import pytest

from engine.components.delay import Delay
from engine.components.server import AsyncServer, DynamicConcurrency, Server, ThreadPool, WeightedConcurrency
from engine.components.sink import Sink
from engine.components.source import Source
from engine.distributions import ConstantLatency, ExponentialLatency
from engine.queues import PriorityQueue
from engine.simulation import Simulation


def test_source_set_rate_draws_the_next_arrival_from_now(recorder, call_at):
    source = Source("src", recorder, ConstantLatency(1.0))
    sim = Simulation(sources=[source], end_time=5.5)
    call_at(sim, 2.5, lambda: source.set_rate(0.0))  # rate 0: no more arrivals
    sim.run()
    assert recorder.times == [1.0, 2.0]
    assert source.rate == 0.0 and source.interarrival is None


def test_source_set_interarrival_starts_a_renewal_from_now(recorder, call_at):
    source = Source("src", recorder, ConstantLatency(1.0))
    sim = Simulation(sources=[source], end_time=8.0)
    call_at(sim, 2.5, lambda: source.set_interarrival(ConstantLatency(2.0)))
    sim.run()
    assert recorder.times == [1.0, 2.0, 4.5, 6.5]


def test_source_set_priority_stamps_requests_from_now_and_none_clears_it(recorder, call_at):
    source = Source("src", recorder, ConstantLatency(1.0))
    sim = Simulation(sources=[source], end_time=3.5)
    call_at(sim, 1.5, lambda: source.set_priority(3))
    call_at(sim, 2.5, lambda: source.set_priority(None))
    sim.run()
    got = [e.context.get("metadata", {}).get("priority") for e in recorder.events]
    assert got == [None, 3, None]
    assert source.priority is None
    with pytest.raises(TypeError):
        source.set_priority("high")  # type: ignore[arg-type]


def test_server_set_service_time_applies_from_the_next_start(recorder, inject):
    server = Server("s", 1, ConstantLatency(1.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0])
    sim.call_at(0.5, lambda _: server.set_service_time(ConstantLatency(3.0)))
    sim.run()
    assert recorder.times == [1.0, 4.0]


def test_thread_pool_set_processing_time_applies_from_the_next_start(recorder, inject):
    pool = ThreadPool("p", 1, processing_time=ConstantLatency(1.0), downstream=recorder)
    sim = Simulation(entities=[pool])
    inject(sim, pool, [0.0, 0.0])
    sim.call_at(0.5, lambda _: pool.set_processing_time(ConstantLatency(2.0)))
    sim.run()
    assert recorder.times == [1.0, 3.0]
    pool.set_processing_time(None)
    assert pool.processing_time is None


@pytest.mark.parametrize(
    "make",
    [
        lambda d: Server("q", 1, ConstantLatency(1.0), downstream=d),
        lambda d: ThreadPool("q", 1, processing_time=ConstantLatency(1.0), downstream=d),
    ],
)
def test_set_queue_capacity_rejects_arrivals_beyond_it_and_keeps_those_waiting(make, recorder, inject):
    station = make(recorder)
    sim = Simulation(entities=[station])
    inject(sim, station, [0.0, 0.0, 0.0, 0.1, 0.2])  # one starts, two wait by 0.0
    sim.call_at(0.05, lambda _: station.set_queue_capacity(1))  # two waiting > 1: nobody turned away
    sim.run()
    assert station.queue_capacity == 1
    assert station.stats_dropped == 2  # the arrivals at 0.1 and 0.2 find 2, then 2 waiting
    assert recorder.times == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError):
        station.set_queue_capacity(-1)
    with pytest.raises(TypeError):
        station.set_queue_capacity(1.5)  # type: ignore[arg-type]
    station.set_queue_capacity(None)
    assert station.queue_capacity is None


def test_set_queue_capacity_keeps_the_queue_policys_own_bound():
    server = Server("s", 1, ConstantLatency(1.0), queue_policy=PriorityQueue(capacity=2))
    server.set_queue_capacity(5)
    assert server.queue_capacity == 2
    server.set_queue_capacity(None)
    assert server.queue_capacity == 2


def test_set_slot_limits_raising_starts_waiting_work_at_once(recorder, inject):
    server = Server("s", 1, ConstantLatency(2.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0, 0.0])
    sim.call_at(0.5, lambda _: server.set_slot_limits(3, 2, 5))
    sim.run()
    assert recorder.times == [2.0, 2.5, 2.5]
    model = server.concurrency_model
    assert isinstance(model, DynamicConcurrency)
    assert (model.limit, model.min_limit, model.max_limit) == (3, 2, 5)


def test_set_slot_limits_lowering_pre_empts_nothing(recorder, inject):
    server = Server("s", DynamicConcurrency(2, 1, None), ConstantLatency(2.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0, 0.0])
    sim.call_at(1.0, lambda _: server.set_slot_limits(1, 1, 1))
    sim.run()
    assert recorder.times == [2.0, 2.0, 4.0]


def test_set_slot_limits_refuses_bad_bounds_and_weighted_servers():
    server = Server("s", 2, ConstantLatency(1.0))
    with pytest.raises(ValueError):
        server.set_slot_limits(1, 2, None)  # initial below the minimum
    with pytest.raises(ValueError):
        server.set_slot_limits(3, 1, 2)  # initial above the maximum
    assert server.concurrency == 2  # nothing changed
    weighted = Server("w", WeightedConcurrency(4), ConstantLatency(1.0))
    with pytest.raises(TypeError):
        weighted.set_slot_limits(2, 1, None)


def test_set_total_capacity_raising_starts_waiting_requests_that_fit(recorder, inject):
    server = Server("w", WeightedConcurrency(2), ConstantLatency(1.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0], metadata=[{"weight": 2}, {"weight": 2}])
    sim.call_at(0.5, lambda _: server.set_total_capacity(4))
    sim.run()
    assert recorder.times == [1.0, 1.5]
    assert server.concurrency == 4 and server.is_weighted
    assert not Server("s", 1).is_weighted
    with pytest.raises(TypeError):
        Server("s", 1).set_total_capacity(3)


def test_set_total_capacity_lowered_rejects_heavier_arrivals(recorder, inject):
    server = Server("w", WeightedConcurrency(4), ConstantLatency(1.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 2.0], metadata=[{"weight": 3}, {"weight": 3}])
    sim.call_at(1.5, lambda _: server.set_total_capacity(2))
    sim.run()
    assert recorder.times == [1.0]
    assert server.stats_dropped == 1


def test_set_weight_draws_weights_for_requests_without_one(recorder, inject):
    server = Server("w", WeightedConcurrency(3), ConstantLatency(1.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0, 2.0, 2.0])
    sim.call_at(1.5, lambda _: server.set_weight(ConstantLatency(2.0)))
    sim.run()
    # weight 1 each before the change: both at once; weight 2 after: one at a time
    assert recorder.times == [1.0, 1.0, 3.0, 4.0]
    assert server.weight == ConstantLatency(2.0)
    server.set_weight(None)
    assert server.weight is None


def test_set_weight_before_the_run_binds_on_joining(recorder, inject):
    server = Server("w", WeightedConcurrency(3), ConstantLatency(1.0), downstream=recorder)
    server.set_weight(ConstantLatency(1.5))  # ceil: weight 2
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0])
    sim.run()
    assert recorder.times == [1.0, 2.0]


def test_thread_pool_set_capacity_starts_waiting_work(recorder, inject):
    pool = ThreadPool("p", 1, processing_time=ConstantLatency(2.0), downstream=recorder)
    sim = Simulation(entities=[pool])
    inject(sim, pool, [0.0, 0.0])
    sim.call_at(0.5, lambda _: pool.set_capacity(2))
    sim.run()
    assert recorder.times == [2.0, 2.5]


def test_async_set_max_connections_affects_new_connections_only(recorder, inject):
    server = AsyncServer("a", 2, ConstantLatency(0.0), io_time=ConstantLatency(2.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0, 1.0, 3.0, 3.0])
    sim.call_at(0.5, lambda _: server.set_max_connections(1))
    sim.run()
    assert server.max_connections == 1
    assert server.stats_dropped == 2  # the one at 1.0 (two open) and the second at 3.0
    assert recorder.times == [2.0, 2.0, 5.0]
    with pytest.raises(ValueError):
        server.set_max_connections(0)


def test_async_set_cpu_work_and_io_time_apply_to_later_phases(recorder, inject):
    server = AsyncServer("a", 10, ConstantLatency(1.0), io_time=ConstantLatency(1.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 5.0, 10.0])
    sim.call_at(3.0, lambda _: server.set_cpu_work(None))  # no CPU work
    sim.call_at(7.0, lambda _: server.set_io_time(ConstantLatency(4.0)))
    sim.run()
    assert recorder.times == [2.0, 6.0, 14.0]
    assert server.cpu_work_distribution == ConstantLatency(0.0)
    server.set_io_time(None)
    assert server.io_time is None


def test_async_set_cpu_work_continues_the_cpu_stream_and_leaves_io_alone():
    """Rebinding the CPU sampler keeps the I/O sampler: its draws are those of a server
    whose CPU work never changed."""

    def io_times(change: bool) -> list[float]:
        done: list[float] = []
        server = AsyncServer("a", 100, ConstantLatency(0.0), io_time=ExponentialLatency(1.0))
        sim = Simulation(entities=[server], seed=3)
        sim.call_at(0.0, lambda _: None)
        original = server._draw_io
        assert original is not None
        if change:
            server.set_cpu_work(ConstantLatency(0.0))
        assert server._draw_io is original
        done.extend(original() for _ in range(3))
        return done

    assert io_times(True) == io_times(False)


def test_delay_set_delay_applies_to_later_arrivals(recorder, inject):
    delay = Delay("d", ConstantLatency(2.0), downstream=recorder)
    sim = Simulation(entities=[delay])
    inject(sim, delay, [0.0, 1.0])
    sim.call_at(0.5, lambda _: delay.set_delay(ConstantLatency(5.0)))
    sim.run()
    assert recorder.times == [2.0, 6.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda: Server("st", 1, ConstantLatency(1.0)),
        lambda: ThreadPool("st", 1, processing_time=ConstantLatency(1.0)),
        lambda: AsyncServer("st", 5, ConstantLatency(1.0), io_time=None),
        lambda: Delay("st", ConstantLatency(1.0)),
    ],
)
def test_stations_report_completed_in_the_window_and_its_start(make, inject):
    station = make()
    sim = Simulation(entities=[station])
    inject(sim, station, [0.0, 1.0, 2.0, 3.0])
    assert station.completed == 0 and station.window_start == 0.0
    sim.run_until(2.5)
    assert station.completed == 2
    station.reset_window()
    assert station.window_start == 2.5 and station.completed == 0
    assert station.total_completed == 2
    sim.run()
    assert station.completed == 2 and station.total_completed == 4
    assert station.window_metrics(sim.now)["completed"] == 2
    with pytest.raises(AttributeError):
        station.completed = 0  # type: ignore[misc]


def test_sink_reports_completed_in_the_window_and_its_start(inject):
    sink = Sink("done")
    sim = Simulation(entities=[sink])
    inject(sim, sink, [1.0, 2.0, 3.0])
    sim.run_until(2.5)
    assert sink.completed == 2 and sink.window_start == 0.0
    sink.reset_window()
    sim.run()
    assert sink.completed == 1 and sink.window_start == 2.5
