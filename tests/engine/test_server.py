"""Server: admission, queueing, dispatch, completion, statistics (SEMANTICS §2 and §3)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from engine import Entity, Event, Server, Simulation, Source
from engine.components.server import (
    ConcurrencyModel,
    DynamicConcurrency,
    FixedConcurrency,
    ServerStats,
    WeightedConcurrency,
)
from engine.distributions import ConstantLatency, ExponentialLatency
from engine.queues import FIFOQueue, LIFOQueue, PriorityQueue


def _run(server, inject, times, names=None, metadata=None, end_time=None):
    sim = Simulation(entities=[server], end_time=end_time)
    events = inject(sim, server, times, names=names, metadata=metadata)
    sim.run()
    return sim, events


# ---------------------------------------------------------------- worked examples


def test_two_slots_three_requests_complete_at_1_1_2(recorder, inject):
    server = Server("s", concurrency=2, service_time=ConstantLatency(1.0), downstream=recorder)
    _run(server, inject, [0.0, 0.0, 0.0], names=["a", "b", "c"])
    assert recorder.log == [(1.0, "a"), (1.0, "b"), (2.0, "c")]


def test_bounded_queue_completes_three_and_rejects_two(recorder, inject):
    server = Server("s", 1, ConstantLatency(1.0), queue_capacity=2, downstream=recorder)
    _run(server, inject, [0.0, 0.1, 0.2, 0.3, 0.4], names=["a", "b", "c", "d", "e"])
    assert recorder.log == [(1.0, "a"), (2.0, "b"), (3.0, "c")]
    assert server.stats.requests_completed == 3
    assert server.stats.requests_rejected == 2
    assert server.stats_dropped == 2
    assert server.stats_accepted == 3


def test_percentiles_of_draws_3_1_4_2(SequenceLatency, inject):
    server = Server("s", 1, SequenceLatency([3.0, 1.0, 4.0, 2.0]))
    _run(server, inject, [0.0, 0.0, 0.0, 0.0])
    assert server.get_service_time_percentile(0.0) == 1.0
    assert server.get_service_time_percentile(0.5) == 2.5
    assert server.get_service_time_percentile(0.99) == pytest.approx(3.97, abs=1e-12)
    assert server.get_service_time_percentile(1.0) == 4.0


def test_mm1k_blocking_probability_matches_theory():
    # M/M/1/K, c=1, queue_capacity=4 (K=5), lambda=0.8, mu=1: P_block = 0.0888.
    rho, k = 0.8, 5
    expected = (1 - rho) * rho**k / (1 - rho ** (k + 1))
    assert expected == pytest.approx(0.0888, abs=5e-5)
    fractions = []
    for seed in range(10):
        server = Server("s", 1, ExponentialLatency(1.0), queue_capacity=4)
        sim = Simulation(sources=[Source.poisson(0.8, server)], entities=[server], end_time=4000, seed=seed)
        sim.run()
        m = server.window_metrics(sim.now)
        fractions.append(m["rejected"] / m["arrivals"])
    x = np.asarray(fractions)
    half = scipy_stats.t.ppf(0.9995, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    assert abs(x.mean() - expected) < half


# ---------------------------------------------------------------------- construction


def test_int_concurrency_is_wrapped_in_fixed_concurrency():
    server = Server("s", concurrency=3)
    assert isinstance(server.concurrency_model, FixedConcurrency)
    assert server.concurrency_model.max_concurrent == 3
    assert server.concurrency == 3


@pytest.mark.parametrize(
    "model",
    [FixedConcurrency(2), DynamicConcurrency(2, max_limit=4), WeightedConcurrency(5)],
    ids=["fixed", "dynamic", "weighted"],
)
def test_a_concurrency_model_instance_is_used_by_identity(model):
    server = Server("s", concurrency=model)
    assert server.concurrency_model is model
    assert isinstance(server.concurrency_model, ConcurrencyModel)


@pytest.mark.parametrize("bad", [True, False, 2.0, "2", None], ids=["True", "False", "float", "str", "None"])
def test_concurrency_that_is_not_an_int_or_model_is_a_type_error(bad):
    with pytest.raises(TypeError):
        Server("s", concurrency=bad)


def test_concurrency_below_one_is_a_value_error():
    with pytest.raises(ValueError):
        Server("s", concurrency=0)


def test_defaults_are_one_slot_10ms_constant_and_fifo():
    server = Server("s")
    assert server.concurrency == 1
    assert isinstance(server.service_time, ConstantLatency)
    assert server.service_time.mean == 0.01
    assert isinstance(server.queue_policy, FIFOQueue)
    assert server.queue_capacity is None
    assert server.downstream is None


def test_default_service_time_is_10ms(recorder, inject):
    server = Server("s", downstream=recorder)
    _run(server, inject, [0.0])
    assert recorder.log == [(0.01, "Request")]


def test_queue_capacity_zero_makes_a_loss_system(recorder, inject):
    server = Server("s", 1, ConstantLatency(1.0), queue_capacity=0, downstream=recorder)
    _run(server, inject, [0.0, 0.5, 1.5], names=["a", "b", "c"])
    assert recorder.log == [(1.0, "a"), (2.5, "c")]
    assert server.stats.requests_rejected == 1


def test_negative_queue_capacity_is_a_value_error():
    with pytest.raises(ValueError):
        Server("s", queue_capacity=-1)


def test_smaller_policy_capacity_wins_over_queue_capacity(recorder, inject):
    server = Server("s", 1, ConstantLatency(1.0), FIFOQueue(capacity=1), queue_capacity=3, downstream=recorder)
    _run(server, inject, [0.0, 0.0, 0.0, 0.0], names=["a", "b", "c", "d"])
    assert recorder.log == [(1.0, "a"), (2.0, "b")]
    assert server.stats.requests_rejected == 2


def test_smaller_queue_capacity_wins_over_policy_capacity(recorder, inject):
    server = Server("s", 1, ConstantLatency(1.0), FIFOQueue(capacity=5), queue_capacity=1, downstream=recorder)
    _run(server, inject, [0.0, 0.0, 0.0, 0.0], names=["a", "b", "c", "d"])
    assert recorder.log == [(1.0, "a"), (2.0, "b")]
    assert server.stats.requests_rejected == 2
    assert server.queue_capacity == 1


def test_bad_queue_policy_is_a_type_error():
    with pytest.raises(TypeError):
        Server("s", queue_policy="fifo")


# ------------------------------------------------------------------ arrival & service


def test_request_arriving_at_an_idle_server_starts_at_once(recorder, inject):
    server = Server("s", 1, ConstantLatency(2.0), downstream=recorder)
    _run(server, inject, [3.0])
    assert recorder.log == [(5.0, "Request")]


def test_service_time_is_drawn_when_service_starts(SequenceLatency, inject):
    dist = SequenceLatency([1.0, 2.0, 0.5])
    server = Server("s", 1, dist)
    _run(server, inject, [0.0, 0.2, 0.4])
    assert dist.calls == [0.0, 1.0, 3.0]


def test_lifo_policy_serves_the_newest_waiting_request_first(recorder, inject):
    server = Server("s", 1, ConstantLatency(1.0), LIFOQueue(), downstream=recorder)
    _run(server, inject, [0.0, 0.1, 0.2, 0.3], names=["a", "b", "c", "d"])
    assert recorder.log == [(1.0, "a"), (2.0, "d"), (3.0, "c"), (4.0, "b")]


def test_priority_policy_serves_the_lowest_priority_value_first(recorder, inject):
    server = Server("s", 1, ConstantLatency(1.0), PriorityQueue(), downstream=recorder)
    _run(
        server,
        inject,
        [0.0, 0.1, 0.2, 0.3],
        names=["a", "b", "c", "d"],
        metadata=[{}, {"priority": 5}, {"priority": 1}, {"priority": 5}],
    )
    assert recorder.log == [(1.0, "a"), (2.0, "c"), (3.0, "b"), (4.0, "d")]


def test_burst_at_one_instant_fills_every_free_slot(recorder, inject):
    server = Server("s", 3, ConstantLatency(1.0), downstream=recorder)
    _run(server, inject, [0.0] * 5, names=["a", "b", "c", "d", "e"])
    assert recorder.log == [(1.0, "a"), (1.0, "b"), (1.0, "c"), (2.0, "d"), (2.0, "e")]


def test_freed_capacity_starts_every_waiting_request_that_fits_at_the_same_instant(recorder, inject):
    server = Server("s", WeightedConcurrency(3), ConstantLatency(1.0), downstream=recorder)
    _run(
        server,
        inject,
        [0.0, 0.1, 0.2, 0.3],
        names=["heavy", "x", "y", "z"],
        metadata=[{"weight": 3}, {}, {}, {}],
    )
    assert recorder.log == [(1.0, "heavy"), (2.0, "x"), (2.0, "y"), (2.0, "z")]


# ---------------------------------------------------------------- dynamic concurrency


def test_raising_a_dynamic_limit_starts_waiting_work_at_once(recorder, inject, call_at):
    model = DynamicConcurrency(1, max_limit=4)
    server = Server("s", model, ConstantLatency(10.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0] * 4, names=["a", "b", "c", "d"])
    call_at(sim, 1.0, lambda: model.set_limit(4))
    sim.run_until(1.0)
    assert server.active_requests == 4
    assert server.depth == 0
    assert server.concurrency == 4
    sim.run()
    assert recorder.log == [(10.0, "a"), (11.0, "b"), (11.0, "c"), (11.0, "d")]


def test_scale_up_by_one_starts_exactly_one_waiting_request(recorder, inject, call_at):
    model = DynamicConcurrency(1)
    server = Server("s", model, ConstantLatency(10.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0] * 3, names=["a", "b", "c"])
    call_at(sim, 2.0, model.scale_up)
    sim.run()
    assert recorder.log == [(10.0, "a"), (12.0, "b"), (20.0, "c")]


def test_lowering_a_dynamic_limit_pre_empts_nothing(recorder, inject, call_at):
    model = DynamicConcurrency(3)
    server = Server("s", model, ConstantLatency(2.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0] * 4, names=["a", "b", "c", "d"])
    call_at(sim, 1.0, lambda: model.set_limit(1))
    sim.run_until(1.5)
    assert server.active_requests == 3
    assert server.available_capacity == 0
    assert server.depth == 1
    assert server.concurrency == 1
    sim.run()
    # d waits until active < limit, i.e. until all three in flight have finished
    assert recorder.log == [(2.0, "a"), (2.0, "b"), (2.0, "c"), (4.0, "d")]


# --------------------------------------------------------------- weighted concurrency


def test_weighted_heavy_head_is_not_overtaken(recorder, inject):
    server = Server("s", WeightedConcurrency(4), ConstantLatency(1.0), downstream=recorder)
    _run(
        server,
        inject,
        [0.0, 0.1, 0.2],
        names=["A", "B", "C"],
        metadata=[{"weight": 3}, {"weight": 4}, {"weight": 1}],
    )
    # C would fit beside A at 0.2, but B (heavier, earlier) waits at the head
    assert recorder.log == [(1.0, "A"), (2.0, "B"), (3.0, "C")]


def test_weight_that_can_never_fit_is_rejected_on_arrival(recorder, inject):
    server = Server("s", WeightedConcurrency(4), ConstantLatency(1.0), downstream=recorder)
    _run(
        server,
        inject,
        [0.0, 0.0, 0.1],
        names=["fits", "too-heavy", "after"],
        metadata=[{"weight": 2}, {"weight": 5}, {"weight": 2}],
    )
    assert recorder.log == [(1.0, "fits"), (1.1, "after")]
    assert server.stats.requests_rejected == 1
    assert server.stats_dropped == 1
    assert server.depth == 0


def test_weight_below_one_is_a_value_error(inject):
    server = Server("s", WeightedConcurrency(4), ConstantLatency(1.0))
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0], metadata=[{"weight": 0.5}])
    with pytest.raises(ValueError, match="weight"):
        sim.run()


def test_weighted_requests_never_vanish(recorder, inject):
    server = Server("s", WeightedConcurrency(5), ConstantLatency(1.0), queue_capacity=3, downstream=recorder)
    weights = [3, 1, 4, 1, 5, 2, 6, 5, 3, 5, 2, 1]
    sim, _ = _run(server, inject, [0.25 * i for i in range(len(weights))], metadata=[{"weight": w} for w in weights])
    s = server.stats
    assert s.requests_completed == len(recorder.log)
    assert s.requests_completed + s.requests_rejected == len(weights)
    assert server.active_requests == server.depth == 0
    assert server.concurrency_model.active == 0


def test_weighted_available_capacity_and_utilization_count_units(inject):
    server = Server("s", WeightedConcurrency(4), ConstantLatency(1.0))
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0], metadata=[{"weight": 3}])
    sim.run_until(0.5)
    assert server.available_capacity == 1
    assert server.utilization == 0.75
    assert server.has_capacity(1) is True
    assert server.has_capacity(2) is False


# ------------------------------------------------------------------------ completion


def test_completion_forwards_the_same_context_downstream_at_completion_time(recorder):
    server = Server("s", 1, ConstantLatency(1.5), downstream=recorder)
    sim = Simulation(entities=[server])
    ctx = {"id": "req-1", "metadata": {"user": "alice"}}
    sim.schedule(Event(0.5, "Request", server, context=ctx))
    sim.run()
    assert recorder.log == [(2.0, "Request")]
    forwarded = recorder.events[0]
    assert forwarded.context is ctx
    assert forwarded.created_at == 0.5
    assert forwarded.time == 2.0


def test_downstream_can_be_set_after_construction(recorder, inject):
    server = Server("s", 1, ConstantLatency(1.0))
    server.downstream = recorder
    assert server.downstream is recorder
    _run(server, inject, [0.0])
    assert recorder.log == [(1.0, "Request")]


def test_without_downstream_a_completed_request_is_dropped_silently(inject):
    server = Server("s", 1, ConstantLatency(1.0))
    sim, _ = _run(server, inject, [0.0, 0.0])
    assert server.stats.requests_completed == 2
    assert sim.now == 2.0


def test_completion_hook_of_a_served_request_runs_at_completion(inject):
    seen = []
    server = Server("s", 1, ConstantLatency(1.0))
    sim = Simulation(entities=[server])
    sim.schedule(Event(0.0, "Request", server, on_complete=lambda t: seen.append(("a", t))))
    sim.schedule(Event(0.0, "Request", server, on_complete=lambda t: seen.append(("b", t))))
    sim.run()
    assert seen == [("a", 1.0), ("b", 2.0)]


# ------------------------------------------------------------------------- statistics


def test_stats_is_a_frozen_dataclass():
    server = Server("s")
    s = server.stats
    assert isinstance(s, ServerStats)
    assert dataclasses.is_dataclass(s)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.requests_completed = 5  # type: ignore[misc]


def test_stats_default_to_zero():
    assert Server("s").stats == ServerStats(0, 0, 0.0)
    assert ServerStats() == ServerStats(requests_completed=0, requests_rejected=0, total_service_time=0.0)


def test_stats_is_a_fresh_snapshot_each_time(inject):
    server = Server("s", 1, ConstantLatency(1.0))
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0])
    sim.run_until(1.0)
    before = server.stats
    assert server.stats is not before
    sim.run()
    assert before == ServerStats(1, 0, 1.0)
    assert server.stats == ServerStats(2, 0, 2.0)


def test_average_service_time_is_total_over_completed(SequenceLatency, inject):
    server = Server("s", 1, SequenceLatency([1.0, 3.0]))
    sim = Simulation(entities=[server], end_time=2.0)
    inject(sim, server, [0.0, 0.0])
    sim.run()
    # the second request (drawn 3 s at t=1) is still in service: counted at completion only
    assert server.stats == ServerStats(1, 0, 1.0)
    assert server.average_service_time == 1.0
    assert server.get_service_time_percentile(1.0) == 1.0


def test_average_service_time_after_several_completions(SequenceLatency, inject):
    server = Server("s", 2, SequenceLatency([1.0, 2.0, 4.0]))
    _run(server, inject, [0.0, 0.0, 0.0])
    s = server.stats
    assert s.total_service_time == 7.0
    assert server.average_service_time == s.total_service_time / s.requests_completed


def test_average_service_time_without_data_is_zero():
    assert Server("s").average_service_time == 0.0


def test_recorded_service_time_is_exactly_the_draw(inject):
    # 0.2 + 0.1 - 0.2 != 0.1 in floating point: the draw, not end - start, is recorded
    server = Server("s", 1, ConstantLatency(0.1))
    _run(server, inject, [0.2])
    assert server.stats.total_service_time == 0.1
    assert server.get_service_time_percentile(1.0) == 0.1
    assert server.average_service_time == 0.1


@pytest.mark.parametrize("p", [99, 1.01, -0.01, math.nan], ids=["99", "1.01", "-0.01", "nan"])
def test_percentile_outside_0_1_or_nan_is_a_value_error(SequenceLatency, inject, p):
    server = Server("s", 1, SequenceLatency([1.0, 2.0]))
    _run(server, inject, [0.0, 0.0])
    with pytest.raises(ValueError):
        server.get_service_time_percentile(p)


def test_percentile_without_data_is_zero():
    server = Server("s")
    assert server.get_service_time_percentile(0.0) == 0.0
    assert server.get_service_time_percentile(0.5) == 0.0
    assert server.get_service_time_percentile(1.0) == 0.0


def test_properties_during_a_run(inject):
    server = Server("s", 2, ConstantLatency(1.0), queue_capacity=2)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0] * 5)
    sim.run_until(0.5)
    assert server.concurrency == 2
    assert server.active_requests == 2
    assert server.available_capacity == 0
    assert server.utilization == 1.0
    assert server.depth == 2
    assert server.stats_accepted == 4
    assert server.stats_dropped == 1
    assert server.has_capacity() is False
    sim.run_until(1.5)
    assert (server.active_requests, server.depth, server.available_capacity) == (2, 0, 0)
    sim.run_until(2.5)
    assert server.active_requests == 0
    assert server.available_capacity == 2
    assert server.utilization == 0.0
    assert server.has_capacity() is True


def test_utilization_is_active_over_limit(inject):
    server = Server("s", 4, ConstantLatency(1.0))
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0])
    sim.run_until(0.5)
    assert server.utilization == 0.25


# ----------------------------------------------------------------------- subclassing


def test_subclass_overriding_handle_queued_event_is_served_for_its_yields(recorder, inject):
    class TwoPhase(Server):
        def handle_queued_event(self, event):
            yield 1.0
            yield 0.5

    server = TwoPhase("s", 1, downstream=recorder)
    _run(server, inject, [0.0, 0.0], names=["a", "b"])
    assert recorder.log == [(1.5, "a"), (3.0, "b")]
    assert server.stats == ServerStats(2, 0, 3.0)
    assert server.average_service_time == 1.5


def test_subclass_handle_queued_event_return_value_is_scheduled(Recorder, inject):
    audit = Recorder("audit")
    done = Recorder("done")

    class Auditing(Server):
        def handle_queued_event(self, event):
            yield 2.0
            return Event(self.now, "audit", audit)

    server = Auditing("s", 1, downstream=done)
    sim = Simulation(entities=[server, audit])
    inject(sim, server, [1.0])
    sim.run()
    assert audit.log == [(3.0, "audit")]
    assert done.log == [(3.0, "Request")]


def test_subclass_still_honours_concurrency(recorder, inject):
    class Custom(Server):
        def handle_queued_event(self, event):
            yield 1.0

    server = Custom("s", 2, downstream=recorder)
    _run(server, inject, [0.0, 0.0, 0.0], names=["a", "b", "c"])
    assert recorder.log == [(1.0, "a"), (1.0, "b"), (2.0, "c")]


# ---------------------------------------------------------------------------- misc


def test_custom_concurrency_model_is_honoured(recorder, inject):
    class TwoSlots:
        def __init__(self):
            self.used = 0

        @property
        def available(self):
            return 2 - self.used

        @property
        def active(self):
            return self.used

        @property
        def limit(self):
            return 2

        def acquire(self, weight=1):
            if self.used < 2:
                self.used += 1
                return True
            return False

        def release(self, weight=1):
            self.used = max(0, self.used - 1)

        def has_capacity(self, weight=1):
            return self.used < 2

    server = Server("s", TwoSlots(), ConstantLatency(1.0), downstream=recorder)
    _run(server, inject, [0.0] * 3, names=["a", "b", "c"])
    assert recorder.log == [(1.0, "a"), (1.0, "b"), (2.0, "c")]


def test_server_is_an_entity():
    assert isinstance(Server("s"), Entity)


def test_user_queue_policy_decides_the_order(recorder, inject):
    class ShortestNameFirst(FIFOQueue):
        def pop(self):
            if not self._items:
                return None
            best = min(self._items, key=lambda e: len(e.event_type))
            self._items.remove(best)
            return best

        def peek(self):
            return min(self._items, key=lambda e: len(e.event_type)) if self._items else None

    server = Server("s", 1, ConstantLatency(1.0), ShortestNameFirst(), downstream=recorder)
    _run(server, inject, [0.0, 0.1, 0.2, 0.3], names=["first", "long", "longest", "x"])
    assert recorder.log == [(1.0, "first"), (2.0, "x"), (3.0, "long"), (4.0, "longest")]


def test_user_queue_policy_refusing_a_push_rejects_the_request(recorder, inject):
    class NoMoreThanOne(FIFOQueue):
        def push(self, item):
            return False if len(self) >= 1 else super().push(item)

    server = Server("s", 1, ConstantLatency(1.0), NoMoreThanOne(), downstream=recorder)
    _run(server, inject, [0.0, 0.1, 0.2], names=["a", "b", "c"])
    assert recorder.log == [(1.0, "a"), (2.0, "b")]
    assert server.stats.requests_rejected == 1


def test_user_downstream_entity_results_are_honoured(Recorder, inject):
    final = Recorder("final")

    class Delay(Entity):
        def handle_event(self, event):
            yield 0.5
            return self.forward(event, final)

    server = Server("s", 1, ConstantLatency(1.0), downstream=Delay("delay"))
    sim = Simulation(entities=[server, final])
    inject(sim, server, [0.0, 0.0], names=["a", "b"])
    sim.run()
    assert final.log == [(1.5, "a"), (2.5, "b")]


def test_downstream_server_receives_at_the_completion_instant(recorder, inject):
    second = Server("second", 1, ConstantLatency(2.0), downstream=recorder)
    first = Server("first", 2, ConstantLatency(1.0), downstream=second)
    _run(first, inject, [0.0, 0.0], names=["a", "b"])
    assert recorder.log == [(3.0, "a"), (5.0, "b")]
    assert second.stats.requests_completed == 2


def test_assigning_service_time_applies_from_the_next_start(recorder, inject, call_at):
    server = Server("s", 1, ConstantLatency(1.0), downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0, 0.0], names=["a", "b", "c"])
    call_at(sim, 1.5, lambda: setattr(server, "service_time", ConstantLatency(5.0)))
    sim.run()
    # b started at 1 with the old time; c starts at 2 with the new one
    assert recorder.log == [(1.0, "a"), (2.0, "b"), (7.0, "c")]
