"""Building a model document into a run: seeds, slices, live parameter changes, the recorder,
the warm-up window.

DESIGN "The model document", "Metrics": the worker builds the document and advances it in
slices; pause, step and live parameter changes are applied between slices; every station
reports over the window from ``warmup`` to the end; the engine samples queue length,
in-service count and utilisation of every station every ``sample_interval``.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.metrics import LIVE_SERIES, SERIES, SINK_METRICS, STATION_METRICS
from engine.model import ModelError, build, load_model, model_from_dict, replication_seeds
from engine.model.schema import KINDS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))


def doc(
    rate: float = 0.8, mean: float = 1.0, concurrency: Any = 1, warmup: float = 0.0, end: float = 1000.0, **server: Any
) -> dict[str, Any]:
    params = {"concurrency": concurrency, "service_time": {"dist": "exponential", "mean": mean}}
    params.update(server)
    return {
        "format": "queuestudio-model",
        "version": 1,
        "name": "test",
        "simulation": {"end_time": end, "warmup": warmup, "seed": 1, "sample_interval": 1.0},
        "nodes": [
            {"id": "arrivals", "kind": "source", "params": {"rate": rate}},
            {"id": "cpu", "kind": "server", "params": params},
            {"id": "done", "kind": "sink"},
        ],
        "links": [{"from": "arrivals", "to": "cpu"}, {"from": "cpu", "to": "done"}],
    }


def model(**kwargs: Any):
    return model_from_dict(doc(**kwargs))


# ------------------------------------------------------------------ building and running
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_builds_and_runs(path):
    m = load_model(path)
    end = m.simulation.warmup + min(200.0, m.simulation.end_time - m.simulation.warmup)
    run = build(m, end_time=end)
    run.run(slices=4)
    results = run.results()
    stations = {n.id for n in m.nodes if KINDS[n.kind].is_station}
    sinks = {n.id for n in m.nodes if n.kind == "sink"}
    assert set(results) == stations | sinks
    assert set(run.stations) == stations and set(run.sinks) == sinks
    assert set(run.sources) == {n.id for n in m.nodes if n.kind == "source"}
    for sid in stations:
        assert set(STATION_METRICS) <= set(results[sid])
        assert results[sid]["arrivals"] > 0, sid
    for sid in sinks:
        assert set(SINK_METRICS) <= set(results[sid])
        assert results[sid]["count"] > 0, sid


def test_same_seed_same_results_different_seed_different_results():
    m = model()
    a = build(m, seed=5, end_time=300)
    a.run()
    b = build(m, seed=5, end_time=300)
    b.run(slices=7)  # slicing differently must not change the sample path
    c = build(m, seed=6, end_time=300)
    c.run()
    assert a.results() == b.results()
    assert a.results() != c.results()


def test_document_seed_is_used_when_none_given():
    m = model()
    a = build(m, end_time=200)
    a.run()
    b = build(m, seed=m.simulation.seed, end_time=200)
    b.run()
    assert a.results() == b.results()


def test_replication_seeds_are_reproducible_and_independent():
    m = model()
    first = [_run_results(m, s) for s in replication_seeds(3, 3)]
    again = [_run_results(m, s) for s in replication_seeds(3, 3)]
    assert first == again
    assert first[0] != first[1] and first[1] != first[2] and first[0] != first[2]
    responses = [r["cpu"]["mean_response"] for r in first]
    assert len(set(responses)) == 3, responses
    assert len(replication_seeds(None, 4)) == 4


def _run_results(m, seed, end=200.0):
    run = build(m, seed=seed, end_time=end)
    run.run(slices=1)
    return run.results()


def test_end_time_override_and_cap():
    m = model(end=1000)
    run = build(m, end_time=50)
    assert run.end_time == 50
    run.run_until(80)
    assert run.now == 50
    assert run.finished
    run.run_until(10)  # going back is a no-op
    assert run.now == 50


def test_run_reaches_its_end_time_exactly():
    """Run.run's last slice is start + (end-start)*k/slices, which can land one ulp short of
    end_time; then Run.finished stays False forever (a worker waiting for it never stops)."""
    m = model(end=1000)
    end = 12.93290557003368
    run = build(m, seed=7, end_time=end)
    run.run(slices=5)
    assert run.now == end
    assert run.finished


def test_run_calls_progress_once_per_slice():
    run = build(model(), end_time=100)
    seen: list[float] = []
    run.run(progress=seen.append, slices=4)
    assert seen == [0.25, 0.5, 0.75, 1.0]


def test_step_processes_one_call_at_a_time():
    run = build(model(), end_time=100)
    times = [run.step()[0] for _ in range(20)]
    assert times == sorted(times)
    assert run.now == times[-1]


def test_build_refuses_an_invalid_model_listing_every_problem():
    m = model()
    m.node("cpu").params["concurrency"] = 0
    m.links.append(copy.copy(m.links[0]))
    m.links[-1].target = "ghost"
    with pytest.raises(ModelError) as info:
        build(m)
    assert "node 'cpu': concurrency must be >= 1, got 0" in info.value.problems
    assert "link 2: unknown node 'ghost'" in info.value.problems


def test_build_refuses_end_time_not_after_warmup():
    m = model(warmup=100)
    with pytest.raises(ModelError, match="warmup"):
        build(m, end_time=100)
    with pytest.raises(ModelError, match="warmup"):
        build(m, end_time=50)


def test_build_does_not_change_the_document():
    m = model()
    before = m.to_dict()
    run = build(m, end_time=50)
    run.run()
    run.set_param("cpu", "concurrency", 3)
    assert m.to_dict() == before


def test_link_latency_delays_requests():
    d = doc(rate=1.0, mean=0.1, concurrency=5)
    d["links"][1]["latency"] = {"dist": "constant", "value": 2.0}
    m = model_from_dict(d)
    run = build(m, end_time=500)
    run.run()
    res = run.results()
    assert res["done"]["mean_latency"] == pytest.approx(res["cpu"]["mean_response"] + 2.0, rel=1e-3)


def test_probability_routing_splits_traffic():
    d = doc(rate=5.0, mean=0.01, concurrency=10)
    d["nodes"].append({"id": "other", "kind": "sink"})
    d["links"] = [
        {"from": "arrivals", "to": "cpu"},
        {"from": "cpu", "to": "done", "probability": 0.25},
        {"from": "cpu", "to": "other", "probability": 0.75},
    ]
    run = build(model_from_dict(d), end_time=2000)
    run.run()
    res = run.results()
    share = res["done"]["count"] / (res["done"]["count"] + res["other"]["count"])
    assert share == pytest.approx(0.25, abs=0.02)


# ------------------------------------------------------------------ live changes
def test_raising_concurrency_mid_run_starts_waiting_work_at_once():
    run = build(model(rate=3.0, mean=1.0, concurrency=1), seed=2, end_time=1000)
    run.run_until(30)
    cpu = run.stations["cpu"]
    assert cpu.in_service == 1
    waiting = cpu.depth
    assert waiting >= 5
    now = run.now
    run.set_param("cpu", "concurrency", 4)
    assert run.now == now  # nothing advanced
    assert cpu.in_service == 4
    assert cpu.depth == waiting - 3
    assert cpu.concurrency == 4


def test_lowering_concurrency_preempts_nothing():
    run = build(model(rate=6.0, mean=1.0, concurrency=4), seed=2, end_time=1000)
    run.run_until(60)
    cpu = run.stations["cpu"]
    busy = cpu.in_service
    assert busy == 4
    run.set_param("cpu", "concurrency", 1)
    assert cpu.in_service == busy
    run.run_until(200)
    assert cpu.in_service <= 1


def test_concurrency_change_is_reflected_in_utilization_capacity():
    """After going from 1 to 2 servers at t=500 with load 0.8, utilisation over the run is a
    time-weighted mix: it must drop well below the M/M/1 value."""
    run = build(model(rate=0.8, mean=1.0, concurrency=1), seed=4, end_time=1000)
    run.run_until(500)
    before = run.results()["cpu"]["utilization"]
    run.set_param("cpu", "concurrency", {"kind": "dynamic", "initial": 2})
    run.run()
    after = run.results()["cpu"]["utilization"]
    assert 0.6 < before < 1.0
    assert after < before - 0.1


def test_raising_the_arrival_rate_raises_throughput_later():
    run = build(model(rate=0.5, mean=0.01, concurrency=4), seed=3, end_time=400)
    run.run_until(200)
    early = run.results()["cpu"]["completed"]
    run.set_param("arrivals", "rate", 5.0)
    run.run()
    late = run.results()["cpu"]["completed"] - early
    assert early == pytest.approx(100, rel=0.25)
    assert late == pytest.approx(1000, rel=0.1)
    assert run.sources["arrivals"].rate == 5.0


def test_switching_a_source_to_an_interarrival_distribution():
    run = build(model(rate=0.5, mean=0.01, concurrency=4), seed=3, end_time=300)
    run.run_until(100)
    early = run.results()["cpu"]["arrivals"]
    run.set_param("arrivals", "interarrival", {"dist": "constant", "value": 0.1})
    run.run()
    late = run.results()["cpu"]["arrivals"] - early
    assert late in (1999, 2000, 2001)


def test_changing_service_time_applies_to_the_next_starts():
    run = build(model(rate=3.0, mean=1.0, concurrency=1), seed=2, end_time=1000)
    run.run_until(40)
    cpu = run.stations["cpu"]
    backlog = cpu.depth
    assert backlog >= 20
    done = run.results()["cpu"]["completed"]
    run.set_param("cpu", "service_time", {"dist": "constant", "value": 0.01})
    run.run_until(run.now + 1.5)  # at most one 1-s-mean service in progress, then 0.01 s each
    finished = run.results()["cpu"]["completed"] - done
    assert finished >= min(backlog, 20)


def test_live_changes_to_other_kinds():
    d = {
        "format": "queuestudio-model",
        "version": 1,
        "simulation": {"end_time": 200, "warmup": 0, "seed": 1, "sample_interval": 1.0},
        "nodes": [
            {"id": "src", "kind": "source", "params": {"rate": 2.0}},
            {"id": "lb", "kind": "router", "params": {"policy": "round_robin"}},
            {
                "id": "pool",
                "kind": "thread_pool",
                "params": {"num_workers": 2, "processing_time": {"dist": "exponential", "mean": 0.5}},
            },
            {"id": "api", "kind": "async_server", "params": {}},
            {"id": "think", "kind": "delay", "params": {"delay": {"dist": "constant", "value": 1.0}}},
            {"id": "out", "kind": "sink"},
        ],
        "links": [
            {"from": "src", "to": "lb"},
            {"from": "lb", "to": "pool"},
            {"from": "lb", "to": "api"},
            {"from": "pool", "to": "think"},
            {"from": "api", "to": "think"},
            {"from": "think", "to": "out"},
        ],
    }
    run = build(model_from_dict(d), end_time=200)
    run.run_until(50)
    run.set_param("pool", "num_workers", 5)
    assert run.stations["pool"].num_workers == 5
    run.set_param("pool", "processing_time", {"dist": "constant", "value": 0.1})
    run.set_param("pool", "queue_capacity", 3)
    run.set_param("api", "io_time", {"dist": "constant", "value": 0.2})
    run.set_param("api", "cpu_work_distribution", None)
    run.set_param("api", "max_connections", 5)
    run.set_param("think", "delay", {"dist": "constant", "value": 3.0})
    run.set_param("lb", "policy", "shortest_queue")
    run.run()
    assert run.now == pytest.approx(run.end_time)
    assert run.stations["api"].max_connections == 5
    # after t≈53 every request spends exactly 3 s in the delay
    assert run.stations["think"].window_metrics(run.now)["p99_response"] == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("node", "name", "value"),
    [
        ("cpu", "concurrency", 0),
        ("cpu", "concurrency", -2),
        ("cpu", "concurrency", 2.5),
        ("cpu", "concurrency", "4"),
        ("cpu", "concurrency", True),
        ("cpu", "concurrency", {"kind": "weighted", "total_capacity": 3}),
        ("cpu", "service_time", {"dist": "exponential", "mean": -1}),
        ("cpu", "service_time", {"dist": "nope"}),
        ("cpu", "service_time", 1.0),
        ("cpu", "queue_capacity", -1),
        ("cpu", "queue_capacity", 1.5),
        ("cpu", "colour", "red"),
        ("arrivals", "rate", -1.0),
        ("arrivals", "rate", math.nan),
        ("arrivals", "rate", math.inf),
        ("arrivals", "rate", "fast"),
        ("arrivals", "interarrival", {"dist": "uniform", "low": 2, "high": 1}),
        ("arrivals", "limit", 10),
        ("done", "count", 0),
    ],
)
def test_bad_live_values_raise_value_error_naming_the_node(node, name, value):
    run = build(model(), end_time=100)
    run.run_until(10)
    with pytest.raises(ValueError) as info:
        run.set_param(node, name, value)
    assert f"node {node!r}" in str(info.value)
    assert name in str(info.value)
    run.run()  # the run goes on after a refused change


def test_live_change_to_an_unknown_node_names_it():
    run = build(model(), end_time=100)
    with pytest.raises(ValueError, match="'ghost'"):
        run.set_param("ghost", "rate", 1.0)


def test_refused_live_change_leaves_the_old_value():
    run = build(model(rate=3.0, concurrency=2), end_time=100)
    run.run_until(10)
    with pytest.raises(ValueError):
        run.set_param("cpu", "concurrency", 0)
    assert run.stations["cpu"].concurrency == 2
    with pytest.raises(ValueError):
        run.set_param("arrivals", "rate", -5)
    assert run.sources["arrivals"].rate == 3.0


# ------------------------------------------------------------------ recorder
def _drain_all(run, cut_points):
    batches = []
    for t in cut_points:
        run.run_until(t)
        batch = run.drain_series()
        assert run.recorder.pending == 0
        batches.append(batch)
    times = np.concatenate([b.times for b in batches])
    values = {
        sid: {name: np.concatenate([b.values[sid][name] for b in batches]) for name in SERIES}
        for sid in batches[0].values
    }
    return times, values, [len(b) for b in batches]


def test_series_drained_in_slices_equals_one_drain_at_the_end():
    m = load_model(ROOT / "resources" / "examples" / "tandem.json")
    end = 1500.0
    one = build(m, seed=11, end_time=end, series=True)
    one.run_until(end)
    whole = one.drain_series()
    sliced = build(m, seed=11, end_time=end, series=True)
    times, values, sizes = _drain_all(sliced, [3.3, 10, 10, 257.5, 999.99, 1000, 1234, end])
    assert sum(sizes) == len(whole) == len(times)
    assert 0 in sizes  # draining twice at one time gives an empty batch
    assert len(whole) == int(end / m.simulation.sample_interval)
    np.testing.assert_array_equal(times, whole.times)
    assert set(values) == set(whole.values) == {"cut", "polish"}
    for sid in values:
        for name in SERIES:
            np.testing.assert_array_equal(values[sid][name], whole.values[sid][name], err_msg=f"{sid}.{name}")
    assert one.results() == sliced.results()


def test_series_is_sampled_every_interval():
    m = model(end=50)
    m.simulation.sample_interval = 2.5
    run = build(m, series=True)
    run.run()
    batch = run.drain_series()
    np.testing.assert_allclose(batch.times, np.arange(1, 21) * 2.5)
    assert set(batch.values) == {"cpu"}
    assert set(batch.values["cpu"]) == set(LIVE_SERIES)


def test_no_series_without_a_recorder():
    run = build(model(), end_time=10)
    run.run()
    assert run.recorder is None
    assert run.drain_series() is None


def test_series_averages_agree_with_the_window_metrics():
    """Equal-length sample intervals that tile the window average to the window's exact
    time averages (queue length, utilisation, throughput)."""
    m = model(rate=0.8, end=2000)
    m.simulation.sample_interval = 5.0
    run = build(m, seed=9, series=True)
    run.run()
    batch = run.drain_series()
    res = run.results()["cpu"]
    assert np.mean(batch.values["cpu"]["queue_length"]) == pytest.approx(res["mean_queue_length"], rel=1e-9)
    assert np.mean(batch.values["cpu"]["in_service"]) + np.mean(batch.values["cpu"]["queue_length"]) == pytest.approx(
        res["mean_in_system"], rel=1e-9
    )
    assert np.mean(batch.values["cpu"]["utilization"]) == pytest.approx(res["utilization"], rel=1e-9)
    assert np.mean(batch.values["cpu"]["throughput"]) == pytest.approx(res["throughput"], rel=1e-9)


def test_series_has_no_hole_at_the_end_of_warmup():
    """With warmup a multiple of sample_interval (every example), the sample taken at the
    warm-up instant comes out NaN for queue_length, in_service and utilization: the reset
    runs first and the recorder then divides by a zero-length span."""
    m = load_model(ROOT / "resources" / "examples" / "mm1.json")
    run = build(m, end_time=m.simulation.warmup + 100, series=True)
    run.run()
    batch = run.drain_series()
    for name in SERIES:
        arr = batch.values["cpu"][name]
        assert not np.isnan(arr).any(), (name, batch.times[np.isnan(arr)])


def test_series_after_warmup_covers_only_the_window():
    """Rows after the warm-up average to the window metrics (the reset is honoured)."""
    m = model(rate=0.8, warmup=500.0, end=2000.0)
    m.simulation.sample_interval = 7.0  # 500 is not a multiple: one row straddles the reset
    run = build(m, seed=9, series=True)
    run.run()
    batch = run.drain_series()
    after = batch.times > 500 + 7.0
    res = run.results()["cpu"]
    assert np.all(np.isfinite(batch.values["cpu"]["queue_length"]))
    assert np.mean(batch.values["cpu"]["queue_length"][after]) == pytest.approx(res["mean_queue_length"], rel=0.05)


# ------------------------------------------------------------------ warm-up window
def test_warmup_resets_the_window_exactly():
    """Same seed with and without a warm-up: the warm-up run counts exactly what the plain run
    counted after the warm-up instant (the reset is a daemon call that draws nothing)."""
    warm, end = 300.0, 1000.0
    plain = build(model(rate=0.8, warmup=0.0, end=end), seed=21)
    plain.run_until(warm)
    before = plain.results()
    plain.run()
    total = plain.results()
    windowed = build(model(rate=0.8, warmup=warm, end=end), seed=21)
    windowed.run()
    win = windowed.results()
    for key in ("arrivals", "completed"):
        assert win["cpu"][key] == total["cpu"][key] - before["cpu"][key], key
    assert win["done"]["count"] == total["done"]["count"] - before["done"]["count"]
    assert win["cpu"]["throughput"] == pytest.approx(win["cpu"]["completed"] / (end - warm))
    assert win["done"]["throughput"] == pytest.approx(win["done"]["count"] / (end - warm))
    assert 0 < win["cpu"]["arrivals"] < total["cpu"]["arrivals"]
    # sources count every request they ever made
    assert windowed.sources["arrivals"].generated == plain.sources["arrivals"].generated


def test_results_before_the_end_of_warmup_cover_the_run_so_far():
    run = build(model(rate=0.8, warmup=300.0, end=1000.0), seed=21)
    run.run_until(299.0)
    assert run.results()["cpu"]["arrivals"] > 200
    run.run_until(301.0)
    assert run.results()["cpu"]["arrivals"] < 10


@pytest.mark.parametrize("name", ["mm1", "mmc", "async_db", "tandem"])
def test_run_totals_are_the_running_sums_behind_the_window_means(name: str) -> None:
    model = load_model(ROOT / "resources" / "examples" / f"{name}.json")
    run = build(model, end_time=model.simulation.warmup + 2000.0)
    run.run_until(run.end_time)
    results, totals = run.results(), run.totals()
    assert set(totals) == set(run.stations)
    for sid, (completed, response_sum, started, wait_sum) in totals.items():
        assert completed == results[sid]["completed"]
        assert response_sum / completed == pytest.approx(results[sid]["mean_response"])
        assert wait_sum / started == pytest.approx(results[sid]["mean_wait"])
