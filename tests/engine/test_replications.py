"""engine.replications: independent replications in-process or in a pool, progress, Cancel,
and their aggregation into means with 95 % half-widths."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from engine.model import build, load_model
from engine.replications import Cancelled, Summary, aggregate, replicate, run_once
from engine.stats import mean_ci95

MM1 = Path(__file__).resolve().parents[2] / "resources" / "examples" / "mm1.json"


@pytest.fixture
def model():
    m = load_model(MM1)
    m.simulation.end_time = 600.0
    m.simulation.warmup = 50.0
    return m


def test_one_replication_is_the_plain_run_with_the_models_seed(model):
    run = build(model)
    run.run_until(run.end_time)
    assert replicate(model, 1) == [run.results()]


def test_replications_differ_and_are_reproducible(model):
    first = replicate(model, 3, seed=11)
    again = replicate(model, 3, seed=11)
    assert first == again
    waits = [r["cpu"]["mean_wait"] for r in first]
    assert len(set(waits)) == 3


def test_a_pool_of_processes_gives_exactly_the_sequential_results(model):
    sequential = replicate(model, 3, seed=5)
    assert replicate(model, 3, seed=5, workers=2, start_method="spawn") == sequential


def test_the_series_callback_gets_the_first_replications_samples_also_with_a_pool(model):
    seen = []
    runs = replicate(model, 3, seed=5, workers=2, series=lambda batch: seen.append(len(batch)))
    assert runs == replicate(model, 3, seed=5)
    interval = model.simulation.sample_interval
    assert sum(seen) == pytest.approx(model.simulation.end_time / interval, abs=2)


def test_progress_rises_to_one(model):
    fractions: list[float] = []
    replicate(model, 2, progress=fractions.append)
    assert fractions == sorted(fractions)
    assert fractions[0] > 0 and fractions[-1] == pytest.approx(1.0)
    assert any(0.45 < f < 0.55 for f in fractions)  # half way: one of two replications done


@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_raises_and_stops_promptly(model, workers):
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        replicate(model, 4, workers=workers, start_method="spawn", cancelled=cancelled)


def test_run_once_checks_cancel_before_each_slice(model):
    with pytest.raises(Cancelled):
        run_once(model, 1, cancelled=lambda: True)


def test_bad_counts_are_refused(model):
    with pytest.raises(ValueError, match="count"):
        replicate(model, 0)
    with pytest.raises(ValueError, match="workers"):
        replicate(model, 2, workers=0)


def test_aggregate_gives_means_and_t_half_widths():
    runs = [{"s": {"mean_wait": w, "arrivals": a}} for w, a in ((1.0, 10), (2.0, 12), (4.0, 14))]
    out = aggregate(runs)
    mean, half = mean_ci95([1.0, 2.0, 4.0])
    assert out["s"]["mean_wait"] == pytest.approx(mean)
    assert out["s"]["ci95"]["mean_wait"] == pytest.approx(half)
    assert out["s"]["arrivals"] == pytest.approx(12.0)
    assert half == pytest.approx(4.303 * math.sqrt(7 / 3) / math.sqrt(3), rel=1e-3)
    assert aggregate(runs[:1]) == runs[0]


@pytest.mark.parametrize("workers", [1, 2])
def test_collect_gets_every_replication_in_order_and_the_summary_matches_aggregate(model, workers):
    runs = replicate(model, 4, seed=9)
    seen: list[int] = []
    summary = Summary()

    def collect(index, results):
        seen.append(index)
        summary.add(index, results)

    kept = replicate(model, 4, seed=9, workers=workers, start_method="spawn", collect=collect)
    assert kept == [] and seen == [0, 1, 2, 3] and len(summary) == 4
    assert summary.result() == aggregate(runs)
    assert list(summary.result()["cpu"])[-1] == "ci95"


def test_the_summary_of_one_replication_is_that_replication_and_none_is_an_error(model):
    [run] = replicate(model, 1)
    summary = Summary()
    summary.add(0, run)
    assert summary.result() == run
    with pytest.raises(ValueError):
        Summary().result()


def test_the_summary_skips_missing_values_as_aggregate_does():
    runs = [{"s": {"mean_wait": w, "arrivals": a}} for w, a in ((1.0, 10), (None, 12), (float("nan"), 14), (4.0, 0))]
    summary = Summary()
    for i, r in enumerate(runs):
        summary.add(i, r)
    assert summary.result() == aggregate(runs)


def test_the_summary_keeps_a_replication_in_a_few_bytes_a_value(model):
    """The CLI's memory for --replications 10,000 stays small: one float row each."""
    [run] = replicate(model, 1)
    summary = Summary()
    for i in range(10_000):
        summary.add(i, run)
    values = sum(len(m) for m in run.values())
    assert all(row.nbytes == 8 * values for row in summary.rows)
