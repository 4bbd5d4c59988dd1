"""ThreadPool: per-task processing times, workers, queueing (SEMANTICS §2 ThreadPool)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from engine import Event, Simulation
from engine.components.server import ThreadPool, ThreadPoolStats
from engine.queues import FIFOQueue, PriorityQueue


def _tasks(sim, pool, spec):
    """Schedule tasks given as (time, name, metadata)."""
    events = [Event(t, name, pool, context={"metadata": dict(meta)}) for t, name, meta in spec]
    sim.schedule(events)
    return events


# ------------------------------------------------------------------ processing time


def test_processing_time_comes_from_task_metadata(recorder):
    pool = ThreadPool("pool", 1, downstream=recorder)
    sim = Simulation(entities=[pool])
    _tasks(sim, pool, [(0.0, "a", {"processing_time": 2.0}), (0.0, "b", {"processing_time": 0.5})])
    sim.run()
    assert recorder.log == [(2.0, "a"), (2.5, "b")]


def test_metadata_processing_time_given_as_a_string_is_parsed(recorder):
    pool = ThreadPool("pool", 1, downstream=recorder)
    sim = Simulation(entities=[pool])
    _tasks(sim, pool, [(0.0, "a", {"processing_time": "1.5"})])
    sim.run()
    assert recorder.log == [(1.5, "a")]


def test_processing_time_defaults_to_default_processing_time(recorder, inject):
    pool = ThreadPool("pool", 1, default_processing_time=0.25, downstream=recorder)
    sim = Simulation(entities=[pool])
    inject(sim, pool, [0.0, 0.0], names=["a", "b"])
    sim.run()
    assert recorder.log == [(0.25, "a"), (0.5, "b")]


def test_default_processing_time_is_10ms(recorder, inject):
    pool = ThreadPool("pool", 1, downstream=recorder)
    sim = Simulation(entities=[pool])
    inject(sim, pool, [0.0])
    sim.run()
    assert recorder.log == [(0.01, "Request")]


def test_extractor_takes_precedence_over_metadata(recorder):
    pool = ThreadPool(
        "pool",
        1,
        processing_time_extractor=lambda task: task.context["metadata"]["size"] * 0.5,
        downstream=recorder,
    )
    sim = Simulation(entities=[pool])
    _tasks(sim, pool, [(0.0, "a", {"size": 4, "processing_time": 100.0}), (0.0, "b", {"size": 1})])
    sim.run()
    assert recorder.log == [(2.0, "a"), (2.5, "b")]


@pytest.mark.parametrize(
    "bad", ["soon", -1.0, math.nan, None], ids=["unparseable", "negative", "nan", "None-is-default"]
)
def test_bad_metadata_processing_time_is_a_value_error_naming_the_task(bad):
    pool = ThreadPool("pool", 1, default_processing_time=0.5)
    sim = Simulation(entities=[pool])
    sim.schedule(Event(0.0, "Task", pool, context={"id": "task-42", "metadata": {"processing_time": bad}}))
    if bad is None:  # an explicit None means "not given": the default applies
        sim.run()
        assert pool.stats.total_processing_time == 0.5
        return
    with pytest.raises(ValueError, match="task-42"):
        sim.run()


def test_negative_extracted_processing_time_is_a_value_error_naming_the_task():
    pool = ThreadPool("pool", 1, processing_time_extractor=lambda task: -2.0)
    sim = Simulation(entities=[pool])
    sim.schedule(Event(0.0, "Task", pool, context={"id": "task-7"}))
    with pytest.raises(ValueError, match="task-7"):
        sim.run()


def test_negative_default_processing_time_is_a_value_error():
    with pytest.raises(ValueError):
        ThreadPool("pool", 1, default_processing_time=-0.1)


def test_recorded_processing_time_is_exactly_the_tasks_time():
    pool = ThreadPool("pool", 1)
    sim = Simulation(entities=[pool])
    _tasks(sim, pool, [(0.2, "a", {"processing_time": 0.1})])
    sim.run()
    assert pool.stats.total_processing_time == 0.1
    assert pool.get_processing_time_percentile(1.0) == 0.1


# -------------------------------------------------------------------------- workers


@pytest.mark.parametrize("bad", [0, -2])
def test_num_workers_below_one_is_a_value_error(bad):
    with pytest.raises(ValueError, match="num_workers"):
        ThreadPool("pool", bad)


def test_workers_process_tasks_concurrently_and_the_rest_wait(recorder):
    pool = ThreadPool("pool", 2, downstream=recorder)
    sim = Simulation(entities=[pool])
    _tasks(
        sim,
        pool,
        [
            (0.0, "a", {"processing_time": 1.0}),
            (0.0, "b", {"processing_time": 3.0}),
            (0.0, "c", {"processing_time": 1.0}),
        ],
    )
    sim.run()
    assert recorder.log == [(1.0, "a"), (2.0, "c"), (3.0, "b")]


def test_queue_capacity_rejects_tasks_beyond_it(recorder, inject):
    pool = ThreadPool("pool", 1, queue_capacity=1, default_processing_time=1.0, downstream=recorder)
    sim = Simulation(entities=[pool])
    inject(sim, pool, [0.0, 0.0, 0.0], names=["a", "b", "c"])
    sim.run()
    assert recorder.log == [(1.0, "a"), (2.0, "b")]
    assert pool.stats.tasks_rejected == 1
    assert pool.stats_dropped == 1


def test_smaller_of_queue_capacity_and_policy_capacity_wins(inject):
    pool = ThreadPool("pool", 1, FIFOQueue(capacity=1), queue_capacity=4, default_processing_time=1.0)
    sim = Simulation(entities=[pool])
    inject(sim, pool, [0.0] * 4)
    sim.run()
    assert pool.stats.tasks_rejected == 2


def test_priority_queue_orders_waiting_tasks(recorder):
    pool = ThreadPool("pool", 1, PriorityQueue(), default_processing_time=1.0, downstream=recorder)
    sim = Simulation(entities=[pool])
    _tasks(sim, pool, [(0.0, "first", {}), (0.1, "low", {"priority": 9}), (0.2, "high", {"priority": 1})])
    sim.run()
    assert recorder.log == [(1.0, "first"), (2.0, "high"), (3.0, "low")]


# --------------------------------------------------------------------------- submit


def test_submit_sets_the_target_and_returns_the_same_object(recorder):
    pool = ThreadPool("pool", 1)
    task = Event(0.0, "Task", recorder, context={"metadata": {"processing_time": 0.3}})
    returned = pool.submit(task)
    assert returned is task
    assert task.target is pool


def test_submitted_task_is_processed_when_scheduled(recorder):
    pool = ThreadPool("pool", 1, downstream=recorder)
    sim = Simulation(entities=[pool])
    sim.schedule(pool.submit(Event(1.0, "Task", recorder, context={"metadata": {"processing_time": 0.5}})))
    sim.run()
    assert recorder.log == [(1.5, "Task")]


# ----------------------------------------------------------------- properties, stats


def test_properties_during_a_run():
    pool = ThreadPool("pool", 3)
    sim = Simulation(entities=[pool])
    _tasks(sim, pool, [(0.0, n, {"processing_time": 2.0}) for n in "abcde"])
    sim.run_until(1.0)
    assert pool.num_workers == 3
    assert pool.active_workers == 3
    assert pool.idle_workers == 0
    assert pool.queued_tasks == 2
    assert pool.worker_utilization == 1.0
    assert pool.has_capacity() is False
    sim.run_until(3.0)
    assert (pool.active_workers, pool.idle_workers, pool.queued_tasks) == (2, 1, 0)
    assert pool.worker_utilization == pytest.approx(2 / 3)
    assert pool.has_capacity() is True


def test_stats_are_a_frozen_snapshot_with_task_fields():
    pool = ThreadPool("pool", 1, queue_capacity=0)
    sim = Simulation(entities=[pool])
    _tasks(sim, pool, [(0.0, "a", {"processing_time": 1.0}), (0.5, "b", {}), (1.5, "c", {"processing_time": 3.0})])
    sim.run()
    s = pool.stats
    assert isinstance(s, ThreadPoolStats)
    assert s == ThreadPoolStats(tasks_completed=2, tasks_rejected=1, total_processing_time=4.0)
    assert pool.stats is not s
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.tasks_completed = 0  # type: ignore[misc]


def test_average_processing_time_is_total_over_completed():
    pool = ThreadPool("pool", 2)
    sim = Simulation(entities=[pool])
    _tasks(sim, pool, [(0.0, "a", {"processing_time": 1.0}), (0.0, "b", {"processing_time": 4.0})])
    assert pool.average_processing_time == 0.0
    sim.run()
    assert pool.average_processing_time == 2.5


def test_processing_time_percentiles():
    pool = ThreadPool("pool", 4)
    sim = Simulation(entities=[pool])
    _tasks(sim, pool, [(0.0, n, {"processing_time": t}) for n, t in zip("abcd", [3.0, 1.0, 4.0, 2.0], strict=True)])
    assert pool.get_processing_time_percentile(0.5) == 0.0
    sim.run()
    assert pool.get_processing_time_percentile(0.0) == 1.0
    assert pool.get_processing_time_percentile(0.5) == 2.5
    assert pool.get_processing_time_percentile(1.0) == 4.0
    with pytest.raises(ValueError):
        pool.get_processing_time_percentile(50)


def test_downstream_is_a_keyword_only_argument(recorder):
    with pytest.raises(TypeError):
        ThreadPool("pool", 1, None, None, None, 0.01, recorder)  # type: ignore[misc]
    pool = ThreadPool("pool", 1, downstream=recorder)
    assert pool.downstream is recorder


def test_completed_task_is_forwarded_downstream_with_its_context(recorder):
    pool = ThreadPool("pool", 1, downstream=recorder)
    sim = Simulation(entities=[pool])
    ctx = {"metadata": {"processing_time": 0.75}}
    sim.schedule(Event(0.25, "Task", pool, context=ctx))
    sim.run()
    assert recorder.log == [(1.0, "Task")]
    assert recorder.events[0].context is ctx
