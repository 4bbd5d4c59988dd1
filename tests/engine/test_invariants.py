"""Invariants of random small systems, checked with Hypothesis.

- conservation: arrivals = completed + rejected + in system, at any stopping time;
- Little's law, exactly: the area under N(t) equals the summed time in system, which the
  window metrics express as mean_in_system * span (checked on a drained system, and mid-run
  on a lossless one where every arrival not yet departed is still inside);
- no waiting when there are at least as many slots as requests.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Server, Simulation, Source
from engine.components.server import DynamicConcurrency, WeightedConcurrency
from engine.distributions import ConstantLatency, ExponentialLatency

SETTINGS = settings(max_examples=25, deadline=None)

concurrency = st.integers(min_value=1, max_value=4)
queue_capacity = st.one_of(st.none(), st.integers(min_value=0, max_value=5))
service = st.one_of(
    st.builds(ConstantLatency, st.sampled_from([0.25, 0.5, 1.0, 1.5, 3.0])),
    st.builds(ExponentialLatency, st.floats(min_value=0.1, max_value=3.0)),
)
arrival_times = st.lists(st.floats(min_value=0.0, max_value=20.0, allow_nan=False), min_size=0, max_size=30)
stop_time = st.floats(min_value=0.0, max_value=30.0, allow_nan=False)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _system(c, k, dist, times, seed, Recorder, inject, end_time=None):
    done = Recorder("done")
    server = Server("s", c, dist, queue_capacity=k, downstream=done)
    sim = Simulation(entities=[server], end_time=end_time, seed=seed)
    names = [f"r{i}" for i in range(len(times))]
    inject(sim, server, times, names=names)
    return sim, server, done


@SETTINGS
@given(concurrency, queue_capacity, service, arrival_times, stop_time, seeds)
def test_arrivals_equal_completed_plus_rejected_plus_in_system(Recorder, inject, c, k, dist, times, stop, seed):
    sim, server, done = _system(c, k, dist, times, seed, Recorder, inject)
    sim.run_until(stop)
    m = server.window_metrics(sim.now)
    in_system = server.depth + server.active_requests
    assert m["arrivals"] == sum(1 for t in times if t <= stop)
    assert m["arrivals"] == m["completed"] + m["rejected"] + in_system
    assert server.stats.requests_completed == m["completed"] == len(done.log)
    assert server.stats.requests_rejected == m["rejected"] == server.stats_dropped
    assert server.stats_accepted == m["completed"] + in_system
    assert server.active_requests <= c
    if server.depth:  # work-conserving: nobody waits while a slot is free
        assert server.active_requests == c
    if k is not None:
        assert server.depth <= k


@SETTINGS
@given(concurrency, queue_capacity, service, arrival_times, seeds)
def test_a_drained_system_keeps_nothing_and_loses_nothing(Recorder, inject, c, k, dist, times, seed):
    sim, server, done = _system(c, k, dist, times, seed, Recorder, inject)
    sim.run()
    s = server.stats
    assert s.requests_completed + s.requests_rejected == len(times)
    assert server.depth == server.active_requests == 0
    assert server.concurrency_model.active == 0
    if k is None:
        assert s.requests_rejected == 0


@SETTINGS
@given(concurrency, queue_capacity, service, arrival_times.filter(lambda ts: any(t > 0 for t in ts)), seeds)
def test_littles_law_holds_exactly_on_a_drained_system(Recorder, inject, c, k, dist, times, seed):
    sim, server, done = _system(c, k, dist, times, seed, Recorder, inject)
    sim.run()
    m = server.window_metrics(sim.now)
    span = sim.now
    created = {e.event_type: e.created_at for e in done.events}
    total_response = sum(t - created[name] for t, name in done.log)
    # L * T = sum of times in system = lambda_eff * W * T
    assert m["mean_in_system"] * span == pytest.approx(total_response, rel=1e-9, abs=1e-9)
    assert m["mean_in_system"] * span == pytest.approx(m["mean_response"] * m["completed"], rel=1e-9, abs=1e-9)
    assert m["mean_queue_length"] * span == pytest.approx(m["mean_wait"] * m["completed"], rel=1e-9, abs=1e-9)


@SETTINGS
@given(concurrency, service, arrival_times, stop_time.filter(lambda t: t > 0), seeds)
def test_littles_law_holds_exactly_mid_run_without_losses(Recorder, inject, c, dist, times, stop, seed):
    sim, server, done = _system(c, None, dist, times, seed, Recorder, inject)
    sim.run_until(stop)
    m = server.window_metrics(sim.now)
    departed = {name: t for t, name in done.log}
    area = 0.0
    for i, a in enumerate(times):
        if a <= stop:
            area += min(departed.get(f"r{i}", stop), stop) - a
    assert m["mean_in_system"] * stop == pytest.approx(area, rel=1e-9, abs=1e-9)


@SETTINGS
@given(
    st.integers(min_value=1, max_value=8).flatmap(
        lambda n: st.tuples(
            st.integers(min_value=n, max_value=n + 3),
            st.lists(st.floats(min_value=0.0, max_value=5.0, allow_nan=False), min_size=n, max_size=n),
        )
    ),
    st.sampled_from([0.25, 1.0, 2.5]),
    queue_capacity,
)
def test_no_waiting_when_there_are_at_least_as_many_slots_as_requests(Recorder, inject, c_and_times, s, k):
    c, times = c_and_times
    sim, server, done = _system(c, k, ConstantLatency(s), times, 0, Recorder, inject)
    sim.run()
    m = server.window_metrics(sim.now)
    assert m["rejected"] == 0
    assert m["mean_wait"] == 0.0
    assert sorted(done.times) == sorted(t + s for t in times)
    for t, name in done.log:
        assert t == times[int(name[1:])] + s


@SETTINGS
@given(st.integers(min_value=1, max_value=6), st.floats(min_value=0.1, max_value=2.0), seeds)
def test_no_waiting_with_random_service_when_slots_suffice(Recorder, inject, n, mean, seed):
    sim, server, done = _system(n, None, ExponentialLatency(mean), [0.0] * n, seed, Recorder, inject)
    sim.run()
    m = server.window_metrics(sim.now)
    assert m["mean_wait"] == 0.0
    assert m["mean_queue_length"] == 0.0 or sim.now == 0.0
    assert m["completed"] == n


@SETTINGS
@given(
    st.integers(min_value=1, max_value=6),
    queue_capacity,
    service,
    st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=20.0, allow_nan=False), st.integers(min_value=1, max_value=7)),
        max_size=25,
    ),
    stop_time,
    seeds,
)
def test_weighted_requests_are_all_accounted_for(Recorder, inject, total, k, dist, arrivals, stop, seed):
    done = Recorder("done")
    server = Server("s", WeightedConcurrency(total), dist, queue_capacity=k, downstream=done)
    sim = Simulation(entities=[server], seed=seed)
    inject(sim, server, [t for t, _ in arrivals], metadata=[{"weight": w} for _, w in arrivals])
    sim.run_until(stop)
    m = server.window_metrics(sim.now)
    assert m["arrivals"] == m["completed"] + m["rejected"] + server.depth + server.active_requests
    assert server.concurrency_model.active <= total
    sim.run()
    s = server.stats
    assert s.requests_completed + s.requests_rejected == len(arrivals)
    assert s.requests_rejected >= sum(1 for _, w in arrivals if w > total)
    assert server.depth == server.active_requests == server.concurrency_model.active == 0


@SETTINGS
@given(
    st.integers(min_value=1, max_value=4),
    service,
    arrival_times,
    st.lists(st.tuples(st.floats(min_value=0.0, max_value=25.0, allow_nan=False), st.integers(1, 5)), max_size=6),
    seeds,
)
def test_dynamic_limit_changes_lose_nothing_and_strand_nothing(
    Recorder, inject, call_at, initial, dist, times, changes, seed
):
    model = DynamicConcurrency(initial, min_limit=1, max_limit=5)
    done = Recorder("done")
    server = Server("s", model, dist, downstream=done)
    sim = Simulation(entities=[server], seed=seed)
    inject(sim, server, times)

    def change(limit):
        model.set_limit(limit)
        # raising the limit starts waiting work at once; lowering pre-empts nothing
        assert server.depth == 0 or server.active_requests >= model.limit

    for t, limit in changes:
        call_at(sim, t, lambda limit=limit: change(limit))
    sim.run()
    assert server.stats.requests_completed == len(times) == len(done.log)
    assert server.depth == server.active_requests == 0


def test_littles_law_within_tolerance_on_a_long_random_run():
    server = Server("s", 2, ExponentialLatency(1.0))
    sim = Simulation(sources=[Source.poisson(1.5, server)], entities=[server], end_time=3000, seed=17)
    sim.run()
    m = server.window_metrics(sim.now)
    assert m["completed"] > 3000
    # L = lambda * W, up to the requests still inside at the end
    assert m["mean_in_system"] == pytest.approx(m["throughput"] * m["mean_response"], rel=0.02)
    assert m["mean_queue_length"] == pytest.approx(m["throughput"] * m["mean_wait"], rel=0.05)
    assert 0.0 < m["utilization"] <= 1.0
