"""Sources (arrival timing, bounds, profiles, live rate changes) and Sink latency stats."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import Entity, Event, Server, Simulation, Sink, Source
from engine.distributions import ConstantLatency

Z = 4.5


def _within_poisson_ci(count: int, expected: float) -> bool:
    return abs(count - expected) < Z * math.sqrt(expected)


# --------------------------------------------------------------------------- timing


def test_first_arrival_is_one_interarrival_after_the_start(recorder):
    sim = Simulation(sources=[Source.constant(2.0, recorder)], end_time=2.0)
    sim.run()
    assert recorder.times == [0.5, 1.0, 1.5, 2.0]


def test_first_arrival_is_one_interarrival_after_a_later_start_time(recorder):
    sim = Simulation(sources=[Source.constant(1.0, recorder)], start_time=10.0, end_time=12.0)
    sim.run()
    assert recorder.times == [11.0, 12.0]


def test_source_with_an_interarrival_distribution(recorder):
    source = Source("src", recorder, ConstantLatency(0.25), limit=3)
    sim = Simulation(sources=[source])
    sim.run()
    assert recorder.times == [0.25, 0.5, 0.75]


def test_arrivals_carry_the_sources_event_type(recorder):
    source = Source("src", recorder, ConstantLatency(1.0), event_type="Job", limit=1)
    Simulation(sources=[source]).run()
    assert recorder.log == [(1.0, "Job")]


def test_arrivals_are_created_at_their_arrival_time(recorder):
    sim = Simulation(sources=[Source.constant(4.0, recorder, limit=3)])
    sim.run()
    assert [e.created_at for e in recorder.events] == [0.25, 0.5, 0.75]


def test_context_factory_supplies_each_requests_context(recorder):
    source = Source.constant(1.0, recorder, limit=2, context_factory=lambda now: {"metadata": {"born": now}})
    Simulation(sources=[source]).run()
    assert [e.context["metadata"]["born"] for e in recorder.events] == [1.0, 2.0]
    assert [e.context["created_at"] for e in recorder.events] == [1.0, 2.0]


def test_poisson_source_first_arrival_is_not_at_time_zero(recorder):
    sim = Simulation(sources=[Source.poisson(5.0, recorder, limit=1)], seed=3)
    sim.run()
    assert len(recorder.times) == 1
    assert recorder.times[0] > 0.0


# --------------------------------------------------------------------------- bounds


def test_stop_after_ends_arrivals(recorder):
    sim = Simulation(sources=[Source.constant(2.0, recorder, stop_after=1.2)], end_time=5.0)
    sim.run()
    assert recorder.times == [0.5, 1.0]


def test_stop_after_includes_an_arrival_exactly_at_it(recorder):
    sim = Simulation(sources=[Source.constant(2.0, recorder, stop_after=1.0)])
    sim.run()
    assert recorder.times == [0.5, 1.0]


def test_limit_ends_arrivals_after_that_many(recorder):
    source = Source.constant(2.0, recorder, limit=3)
    sim = Simulation(sources=[source], end_time=10.0)
    sim.run()
    assert recorder.times == [0.5, 1.0, 1.5]
    assert source.generated == 3


def test_a_bounded_source_keeps_a_run_without_end_time_going_until_it_stops(recorder):
    sim = Simulation(sources=[Source.constant(1.0, recorder, limit=4)])
    sim.run()
    assert recorder.times == [1.0, 2.0, 3.0, 4.0]
    assert sim.now == 4.0


def test_an_unbounded_source_does_not_keep_a_run_without_end_time_alive(recorder):
    sim = Simulation(sources=[Source.constant(1.0, recorder)])
    sim.run()
    assert recorder.times == []


def test_a_stopped_source_schedules_nothing(recorder):
    sim = Simulation(sources=[Source.constant(1.0, recorder, limit=2)], end_time=100)
    sim.run_until(3.0)
    assert sim.pending == 0
    sim.run()
    assert recorder.times == [1.0, 2.0]


def test_sources_start_wherever_they_are_listed(Recorder):
    a, b = Recorder("a"), Recorder("b")
    sim = Simulation(
        entities=[a, Source.constant(1.0, a, name="sa", limit=1)], sources=[Source.constant(2.0, b, name="sb", limit=1)]
    )
    sim.run()
    assert a.times == [1.0]
    assert b.times == [0.5]


# ------------------------------------------------------------------------ profiles


def test_profile_rates_apply_per_segment(recorder):
    source = Source.with_profile([[0.0, 50.0], [10.0, 200.0], [20.0, 0.0]], recorder)
    sim = Simulation(sources=[source], end_time=30.0, seed=11)
    sim.run()
    t = recorder.times
    first = sum(1 for x in t if x < 10.0)
    second = sum(1 for x in t if 10.0 <= x < 20.0)
    third = sum(1 for x in t if x >= 20.0)
    assert _within_poisson_ci(first, 500)
    assert _within_poisson_ci(second, 2000)
    assert third == 0


def test_profile_starting_later_has_no_arrivals_before_it(recorder):
    source = Source.with_profile([[5.0, 100.0]], recorder)
    sim = Simulation(sources=[source], end_time=15.0, seed=4)
    sim.run()
    assert min(recorder.times) >= 5.0
    assert _within_poisson_ci(len(recorder.times), 1000)


def test_profile_rate_at_reports_the_rate_in_effect():
    source = Source.with_profile([[0.0, 1.0], [10.0, 3.0]], Sink())
    assert source.rate_at(0.0) == 1.0
    assert source.rate_at(9.99) == 1.0
    assert source.rate_at(10.0) == 3.0
    assert source.rate_at(1e6) == 3.0


def test_poisson_source_rate_over_a_window(recorder):
    sim = Simulation(sources=[Source.poisson(100.0, recorder)], end_time=10.0, seed=8)
    sim.run()
    assert _within_poisson_ci(len(recorder.times), 1000)


# -------------------------------------------------------------------- rate changes


def test_changing_rate_mid_run_takes_effect_at_once(recorder, call_at):
    source = Source.poisson(0.001, recorder)
    sim = Simulation(sources=[source], end_time=15.0, seed=21)
    call_at(sim, 5.0, lambda: setattr(source, "rate", 100.0))
    sim.run()
    before = [x for x in recorder.times if x < 5.0]
    after = [x for x in recorder.times if x >= 5.0]
    assert before == []
    assert _within_poisson_ci(len(after), 1000)
    assert after[0] < 5.0 + 0.1  # not waiting for the slow rate's pending arrival
    assert source.rate == 100.0


def test_setting_rate_to_zero_stops_arrivals(recorder, call_at):
    source = Source.poisson(50.0, recorder)
    sim = Simulation(sources=[source], end_time=10.0, seed=2)
    call_at(sim, 2.0, lambda: setattr(source, "rate", 0.0))
    sim.run()
    assert recorder.times
    assert max(recorder.times) <= 2.0


def test_negative_rate_is_a_value_error(recorder):
    with pytest.raises(ValueError):
        Source.poisson(-1.0, recorder)
    with pytest.raises(ValueError):
        Source.constant(0.0, recorder)


def test_exactly_one_kind_of_arrival_process_is_required(recorder):
    with pytest.raises(ValueError):
        Source("src", recorder)
    with pytest.raises(ValueError):
        Source("src", recorder, ConstantLatency(1.0), rate=2.0)


# ---------------------------------------------------------------------------- sink


def _two_server_chain():
    sink = Sink("sink")
    second = Server("second", 1, ConstantLatency(2.0), downstream=sink)
    first = Server("first", 1, ConstantLatency(0.5), downstream=second)
    source = Source.constant(1.0, first, limit=3)
    sim = Simulation(sources=[source], entities=[first, second, sink])
    sim.run()
    return sim, sink


def test_sink_measures_end_to_end_latency_through_two_servers():
    # arrivals 1, 2, 3; first done 1.5, 2.5, 3.5; second busy 1.5-3.5, 3.5-5.5, 5.5-7.5
    sim, sink = _two_server_chain()
    assert sim.now == 7.5
    assert sink.count == 3
    assert sink.average_latency() == pytest.approx(3.5)
    stats = sink.latency_stats()
    assert stats["count"] == 3
    assert stats["avg"] == pytest.approx(3.5)
    assert stats["min"] == 2.5
    assert stats["max"] == 4.5
    assert stats["p50"] == 3.5
    assert stats["p95"] == pytest.approx(3.5 + 0.9 * 1.0)
    assert stats["p99"] == pytest.approx(3.5 + 0.98 * 1.0)


def test_sink_latency_stats_keys():
    _, sink = _two_server_chain()
    assert set(sink.latency_stats()) == {"count", "avg", "min", "max", "p50", "p95", "p99"}


def test_empty_sink_reports_zeros():
    sink = Sink()
    assert sink.count == 0
    assert sink.average_latency() == 0.0
    assert sink.latency_stats() == {"count": 0, "avg": 0.0, "min": 0.0, "max": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0}


def test_sink_percentiles_stay_within_1_percent_with_bounded_memory():
    # Past its exact buffer the sink folds samples into a sketch (1 % relative error).
    n = 70_000  # more than the sketch keeps exactly (65,536)
    rng = np.random.default_rng(5)
    latencies = rng.uniform(1.0, 2.0, n)
    sink = Sink()
    sim = Simulation(entities=[sink])
    sim.schedule(
        [
            Event(10.0 + i * 1e-3, "Request", sink, context={"created_at": 10.0 + i * 1e-3 - lat})
            for i, lat in enumerate(latencies)
        ]
    )
    sim.run()
    stats = sink.latency_stats()
    assert stats["count"] == n
    assert stats["avg"] == pytest.approx(latencies.mean(), rel=1e-9)
    assert stats["min"] == pytest.approx(latencies.min(), rel=1e-9)
    assert stats["max"] == pytest.approx(latencies.max(), rel=1e-9)
    for key, p in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)]:
        assert stats[key] == pytest.approx(np.quantile(latencies, p), rel=0.011)
    assert len(sink._latencies.values) < sink._latencies.exact_limit


def test_source_feeding_a_user_entity_honours_a_returned_process(recorder):
    class Slow(Entity):
        def handle_event(self, event):
            yield 0.25
            return self.forward(event, recorder)

    sim = Simulation(sources=[Source.constant(1.0, Slow("slow"), limit=2)], entities=[recorder])
    sim.run()
    assert recorder.log == [(1.25, "Request"), (2.25, "Request")]
    assert [e.created_at for e in recorder.events] == [1.0, 2.0]


def test_source_feeding_a_user_entity_honours_returned_events(recorder):
    class Echo(Entity):
        def handle_event(self, event):
            return [Event(self.now, "echo", recorder), Event(self.now + 0.5, "late echo", recorder)]

    sim = Simulation(sources=[Source.constant(1.0, Echo("echo"), limit=1)], entities=[recorder])
    sim.run()
    assert recorder.log == [(1.0, "echo"), (1.5, "late echo")]
