"""Every bundled example that queueing theory solves agrees with ``analyze_model`` within
its confidence interval.

Each example runs R = 8 independent replications (``replication_seeds`` children of the
document's seed); per station the t-based confidence interval of the replication means of
``mean_response``, ``mean_in_system`` and ``utilization`` (and ``mean_wait``, ``throughput``,
and a solved sink's ``mean_latency``) must contain the analytic value.

Why a 99.9 % interval rather than 95 %: about 70 intervals are checked here. Even with a
perfect engine a 95 % interval misses its true value one time in twenty, so a handful of
them would fail by chance; at 99.9 % the chance that any of them misses is a few per cent,
and because the seeds are fixed the outcome is the same on every run. The interval is
still tight enough to catch real errors (for M/M/1 at ρ = 0.8 its half-width on W is
about 10 % of W; a wrong formula or a biased window is far outside it), and a second test
checks that the plain 95 % intervals cover the theory in the large majority of cases.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from engine.analysis import analyze_model
from engine.model import build, load_model, replication_seeds
from engine.stats import mean_ci95
from engine.theory import StationResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = ROOT / "resources" / "examples"
REPLICATIONS = 8
#: Shorter runs where the document's are needlessly long for this check (seconds); pooling's
#: two M/M/1 queues at ρ = 0.8 need longer: at the document's 20000 s the means of these 8
#: seeds at 'left' sit 0.44 s below W = 5, more than the 99.9 % interval allows (the mean of
#: a run this short is skewed), while at 60000 s they agree.
END_TIME = {"async_db.json": 300.0, "mmc.json": 10000.0, "pooling.json": 60000.0}
METRICS = ("mean_response", "mean_in_system", "utilization", "mean_wait", "throughput")
#: Delay stations (infinite servers): the engine reports no utilization (NaN) where theory
#: says 0, so theirs is not compared.
NO_UTILIZATION = {("littles_law.json", "browse")}


def _metrics(name: str, node_id: str) -> tuple[str, ...]:
    return tuple(m for m in METRICS if not (m == "utilization" and (name, node_id) in NO_UTILIZATION))


#: What theory is expected to solve in each example (station or sink ids).
SOLVED = {
    "async_db.json": {"api"},
    "autoscaling_web.json": set(),
    "closed_web.json": {"users", "web", "db"},
    "jackson_feedback.json": {"cpu", "disk", "done"},
    "littles_law.json": {"browse", "checkout", "done"},
    "load_balanced_pools.json": set(),
    "md1.json": {"machine", "done"},
    "mm1.json": {"cpu", "done"},
    "mm1k.json": {"desk"},
    "mmc.json": {"pool", "done"},
    "pooling.json": {"shared", "left", "right"},
    "tandem.json": {"cut", "polish", "done"},
}


def _solved(theory: dict) -> set[str]:
    return {k for k, v in theory.items() if isinstance(v, (StationResult, dict))}


def test_the_solved_stations_are_the_expected_ones():
    names = {p.name for p in EXAMPLE_DIR.glob("*.json")}
    assert names == set(SOLVED), "update SOLVED when an example is added"
    for name, expected in SOLVED.items():
        theory = analyze_model(load_model(EXAMPLE_DIR / name))
        assert _solved(theory) == expected, (name, theory)
        for node_id, value in theory.items():
            if node_id not in expected:
                assert isinstance(value, str) and value, (name, node_id, value)


@functools.cache
def replications(name: str) -> tuple[dict, list[dict]]:
    model = load_model(EXAMPLE_DIR / name)
    runs = []
    for seed in replication_seeds(model.simulation.seed, REPLICATIONS):
        run = build(model, seed=seed, end_time=END_TIME.get(name))
        run.run(slices=1)
        runs.append(run.results())
    return analyze_model(model), runs


CASES = [(name, node_id) for name, solved in sorted(SOLVED.items()) for node_id in sorted(solved)]


def _interval(values: list[float], confidence: float) -> tuple[float, float]:
    xs = np.asarray(values, dtype=float)
    assert np.all(np.isfinite(xs)), values
    mean = float(xs.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, len(xs) - 1) * xs.std(ddof=1) / math.sqrt(len(xs)))
    return mean, half


@pytest.mark.parametrize(("name", "node_id"), CASES, ids=[f"{n}:{i}" for n, i in CASES])
def test_simulation_agrees_with_theory_within_its_confidence_interval(name, node_id):
    theory, runs = replications(name)
    expected = theory[node_id]
    if isinstance(expected, dict):  # a sink: end-to-end latency by Little's law
        checks = {"mean_latency": expected["mean_latency"], "throughput": expected["throughput"]}
    else:
        checks = {metric: getattr(expected, metric) for metric in _metrics(name, node_id)}
    misses = []
    for metric, value in checks.items():
        mean, half = _interval([r[node_id][metric] for r in runs], 0.999)
        if not abs(mean - value) <= half + 1e-12:
            misses.append(f"{metric}: simulated {mean:.5g} ± {half:.3g} (99.9 %), theory {value:.5g}")
    assert not misses, f"{name} {node_id}: " + "; ".join(misses)


def test_most_95_percent_intervals_cover_the_theory():
    """If the engine is right, about 95 % of the plain 95 % intervals cover the theory; a
    small bias that the wide intervals above would hide shows up as low coverage here."""
    covered = total = 0
    for name, node_id in CASES:
        theory, runs = replications(name)
        expected = theory[node_id]
        checks = (
            {"mean_latency": expected["mean_latency"]}
            if isinstance(expected, dict)
            else {m: getattr(expected, m) for m in _metrics(name, node_id)}
        )
        for metric, value in checks.items():
            mean, half = mean_ci95([r[node_id][metric] for r in runs])
            total += 1
            covered += abs(mean - value) <= half
    assert total >= 40
    assert covered / total >= 0.8, f"{covered}/{total} intervals cover the theory"


def test_engine_stats_ci_matches_scipy():
    values = [4.1, 5.3, 4.8, 5.9, 4.4, 5.0, 5.6, 4.7]
    mean, half = mean_ci95(values)
    ref_mean, ref_half = _interval(values, 0.95)
    assert mean == pytest.approx(ref_mean)
    assert half == pytest.approx(ref_half, rel=1e-3)


@pytest.mark.parametrize(
    ("name", "node_id"), [c for c in CASES if c[1] != "done"], ids=[f"{n}:{i}" for n, i in CASES if i != "done"]
)
def test_littles_law_holds_in_the_simulation(name, node_id):
    _, runs = replications(name)
    for r in runs:
        m = r[node_id]
        assert m["mean_in_system"] == pytest.approx(m["throughput"] * m["mean_response"], rel=0.05)
        assert m["mean_queue_length"] == pytest.approx(m["throughput"] * m["mean_wait"], rel=0.05, abs=1e-6)


def test_mm1k_rejects_the_blocking_share():
    theory, runs = replications("mm1k.json")
    expected = theory["desk"].blocking_probability
    shares = [r["desk"]["rejected"] / r["desk"]["arrivals"] for r in runs]
    mean, half = _interval(shares, 0.999)
    assert abs(mean - expected) <= half, (mean, half, expected)
