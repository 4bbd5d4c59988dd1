"""engine.experiments: parameters and values, common random numbers, precision, MSER-5,
executors, and sweeps judged against theory.

Tolerance of the theory checks: as in test_theory_validation.py, an analytic value must lie
inside the two-sided 99.99 % t-interval of the replication means (the 95 % half-width
widened by t(0.99995, df) / t(0.975, df)); with the dozen such assertions here the chance of
a failure by bad luck is below 0.2 %. Seeds are fixed so that a failure can be replayed,
never picked to pass.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from engine import experiments as ex
from engine import theory
from engine.model import Model, load_model
from engine.stats import mean_ci95

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
LEVEL = 0.9999


def mm1(end_time: float = 5000.0, warmup: float = 500.0, rate: float = 0.8) -> Model:
    model = load_model(EXAMPLES / "mm1.json")
    model.simulation.end_time = end_time
    model.simulation.warmup = warmup
    model.node("arrivals").params["rate"] = rate
    return model


def widened(half: float, n: int) -> float:
    """The 95 % half-width of ``n`` replications widened to the LEVEL interval."""
    return half * stats.t.ppf(0.5 + LEVEL / 2, n - 1) / stats.t.ppf(0.975, n - 1)


# ------------------------------------------------------------------ values and parameters
def test_values_are_lists_or_ranges_that_include_a_stop_the_step_lands_on() -> None:
    assert ex.parse_values("1,2, 5") == [1.0, 2.0, 5.0]
    assert ex.parse_values("0.1:0.9:0.1") == pytest.approx([0.1 * k for k in range(1, 10)])
    assert ex.parse_values("0.1:0.9:0.1")[-1] == 0.9
    assert ex.parse_values("1:10:4") == [1.0, 5.0, 9.0]
    assert ex.parse_values("5:1:-2") == [5.0, 3.0, 1.0]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("", "empty"),
        ("a,b", "'a' is not a number"),
        ("1:2", "three numbers"),
        ("1:2:0", "never goes"),
        ("2:1:0.5", "never goes"),
        ("0:1e9:1", "at most"),
        ("1,inf", "finite"),
    ],
)
def test_bad_values_are_refused_with_what_is_wrong(spec: str, words: str) -> None:
    with pytest.raises(ex.ExperimentError, match=words):
        ex.parse_values(spec)


def test_a_parameter_path_sets_a_number_a_distribution_mean_or_a_setting() -> None:
    model = mm1()
    assert ex.with_param(model, "arrivals.rate", 0.5).node("arrivals").params["rate"] == 0.5
    assert model.node("arrivals").params["rate"] == 0.8  # the base model is untouched
    assert ex.with_param(model, "cpu.concurrency", 3).node("cpu").params["concurrency"] == 3
    assert ex.with_param(model, "cpu.service_time.mean", 0.5).node("cpu").params["service_time"]["mean"] == 0.5
    assert ex.with_param(model, "simulation.end_time", 900).simulation.end_time == 900.0
    constant = ex.with_param(model, "cpu.service_time.mean", 1.0)
    constant.node("cpu").params["service_time"] = {"dist": "uniform", "low": 0.5, "high": 1.5}
    scaled = ex.with_param(constant, "cpu.service_time.mean", 2.0).node("cpu").params["service_time"]
    assert scaled == {"dist": "uniform", "low": 1.0, "high": 3.0}


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("nobody.rate", 1, "no node 'nobody'"),
        ("arrivals.speed", 1, "no parameter 'speed'"),
        ("cpu.service_time", 1, "sweep cpu.service_time.mean"),
        ("cpu.queue_policy", 1, "is a choice, not a number"),
        ("arrivals.rate", -1, "arrivals.rate = -1"),
        ("cpu.concurrency", 2.5, "whole numbers"),
        ("cpu.service_time.shape", 1, "no field 'shape'"),
        ("simulation.speed", 1, "simulation block has"),
        ("rate", 1, "NODE.PARAM"),
    ],
)
def test_a_bad_parameter_or_value_is_refused_before_anything_runs(path: str, value: float, words: str) -> None:
    with pytest.raises(ex.ExperimentError, match=words):
        ex.plan_sweep(mm1(), path, [0.5, value])


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"replications": 0}, "from 1 to"),
        ({"replications": 10**6}, "from 1 to"),
        ({"precision": 1.5}, "between 0 and 1"),
        ({"precision": 0}, "between 0 and 1"),
        ({"replications": 5, "precision": 0.1}, "not both"),
        ({"end_time": 100.0}, "greater than the warmup"),
    ],
)
def test_bad_settings_are_refused(settings: dict, words: str) -> None:
    with pytest.raises(ex.ExperimentError, match=words):
        ex.plan_sweep(mm1(), "arrivals.rate", [0.5], **settings)


# ------------------------------------------------------------------ seeds and executors
def test_replication_seeds_are_the_children_of_the_seed() -> None:
    children = np.random.SeedSequence(7).spawn(4)
    for r, child in enumerate(children):
        assert ex.replication_seed(7, r).generate_state(4).tolist() == child.generate_state(4).tolist()


def test_one_replication_is_the_single_run_of_the_model() -> None:
    from engine.model import build

    model = mm1(end_time=2000.0)
    run = build(model, seed=5)
    run.run_until(math.inf)
    (point,) = ex.plan_sweep(model, "arrivals.rate", [0.8], seed=5).run()
    assert point.runs[0]["cpu"] == run.results()["cpu"]


def test_results_are_the_same_whatever_the_executor_and_the_order_of_completion() -> None:
    experiment = ex.plan_sweep(mm1(end_time=1500.0), "arrivals.rate", [0.3, 0.6, 0.9], replications=3, seed=11)
    here = [p.runs for p in experiment.run(ex.InProcessExecutor())]
    with ex.ProcessExecutor(2) as pool:
        there = [p.runs for p in experiment.run(pool)]
    assert here == there


def test_progress_rises_to_one_and_cancel_stops_the_experiment() -> None:
    experiment = ex.plan_sweep(mm1(end_time=1000.0), "arrivals.rate", [0.5, 0.7], replications=2, seed=1)
    seen: list[float] = []
    experiment.run(progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == 4
    with pytest.raises(ex.Cancelled):
        experiment.run(cancelled=lambda: True)
    calls = {"n": 0}

    def after_a_while() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    with ex.ProcessExecutor(2) as pool, pytest.raises(ex.Cancelled):
        ex.plan_sweep(mm1(end_time=1e7), "arrivals.rate", [0.5] * 4, replications=2, seed=1).run(
            pool, cancelled=after_a_while
        )


# ------------------------------------------------------------------ common random numbers
def test_common_random_numbers_make_a_paired_difference_far_tighter_than_either_side() -> None:
    """λ = 0.8 against λ = 0.78 on M/M/1: the source and the station draw from their own
    streams, so both sides see the same service times and the same unit inter-arrival draws
    (only scaled by 1/λ), and the difference's half-width is a fraction of either side's.
    With independent numbers it would be about √2 ≈ 1.4 times a side's; with common random
    numbers three seeds gave 0.19, 0.31 and 0.37. The difference also agrees with theory's
    W(0.8) − W(0.78) = −0.455 s."""
    base = mm1(end_time=10_000.0, warmup=1000.0)
    experiment = ex.plan_comparison(base, ex.with_param(base, "arrivals.rate", 0.78), replications=12, seed=3)
    comparison = ex.Comparison(*experiment.run())
    row = comparison.differences()["cpu"]["mean_response"]
    a, b = (side.summary["cpu"]["ci95"]["mean_response"] for side in (comparison.a, comparison.b))
    ratio = row["ci95"] / min(a, b)
    assert ratio < 0.5, ratio
    assert row["significant"] and row["diff"] < 0  # less load, less waiting
    assert row["diff"] == pytest.approx(row["b"] - row["a"])
    expected = theory.mm1(0.78, 1.0).mean_response - theory.mm1(0.8, 1.0).mean_response
    assert abs(row["diff"] - expected) <= widened(row["ci95"], 12)


def test_each_node_draws_from_its_own_stream() -> None:
    """Changing the arrival rate leaves the station's service times exactly as they were."""
    from engine.model import build

    runs = []
    for rate in (0.5, 0.7):
        run = build(ex.with_param(mm1(end_time=50.0, warmup=0.0), "arrivals.rate", rate), seed=9)
        runs.append(run.sim.stream("cpu").random(3).tolist())
    assert runs[0] == runs[1]
    run = build(mm1(end_time=50.0, warmup=0.0), seed=9)
    assert run.sim.stream("cpu") is run.sim.stream("cpu")  # one generator per key for the run
    assert run.sim.stream("cpu").random() != run.sim.stream("arrivals").random()


def test_a_model_compared_with_itself_differs_by_exactly_zero() -> None:
    model = mm1(end_time=2000.0)
    comparison = ex.Comparison(*ex.plan_comparison(model, model.copy(), replications=4).run())
    for node in comparison.differences().values():
        for row in node.values():
            assert row["diff"] == 0 or math.isnan(row["diff"])
            assert not row["significant"]
    assert comparison.to_json()["replications"] == 4


# ------------------------------------------------------------------ precision
def test_precision_runs_until_every_station_is_precise_enough() -> None:
    experiment = ex.plan_sweep(mm1(end_time=3000.0), "arrivals.rate", [0.3, 0.85], precision=0.05, seed=3)
    low, high = experiment.run()
    for point in (low, high):
        assert point.target_met and point.replications >= ex.MIN_REPLICATIONS
        cpu = point.summary["cpu"]
        assert cpu["ci95"]["mean_response"] <= 0.05 * cpu["mean_response"]
    assert high.replications > low.replications  # heavier load, noisier: more replications


def test_precision_stops_at_the_maximum_and_says_the_target_was_missed() -> None:
    experiment = ex.plan_sweep(
        mm1(end_time=600.0, warmup=0.0), "arrivals.rate", [0.95], precision=0.001, max_replications=7
    )
    (point,) = experiment.run()
    assert point.replications == 7 and point.target_met is False


def test_compared_scenarios_always_have_the_same_number_of_replications() -> None:
    base = mm1(end_time=2000.0)
    experiment = ex.plan_comparison(base, ex.with_param(base, "arrivals.rate", 0.3), precision=0.05, seed=9)
    a, b = experiment.run()
    assert a.replications == b.replications > ex.MIN_REPLICATIONS


# ------------------------------------------------------------------ MSER-5
def test_mser5_cuts_a_transient_and_leaves_a_stationary_series_alone() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1, 5000)
    assert ex.mser5_cut(noise) <= 250  # at most a few per cent of pure noise
    transient = 40 * np.exp(-np.arange(5000) / 300) + noise
    cut = ex.mser5_cut(transient)
    assert 600 <= cut <= 2500  # the decay is below the noise after ~1100 observations
    assert ex.mser5_cut(np.ones(12)) == 0 and ex.mser5_cut(np.array([])) == 0
    assert ex.warmup_cut(np.arange(1.0, 5001.0), transient) == float(cut)


def test_automatic_warmup_removes_the_bias_of_a_tandem_started_with_a_backlog() -> None:
    """A burst of about 300 requests in the first 10 s, then λ = 0.5 into two μ = 1
    stations: measured from 0, the mean response is far above M/M/1's 2 s per station; cut
    by MSER-5 it is not."""
    model = load_model(EXAMPLES / "tandem.json")
    model.simulation.end_time = 4000.0
    model.simulation.warmup = 0.0
    arrivals = next(n for n in model.nodes if n.kind == "source")
    arrivals.params.pop("rate", None)
    arrivals.params["profile"] = [[0, 30.0], [10, 0.5]]
    stations = [n for n in model.nodes if n.kind == "server"]
    for station in stations:
        station.params["service_time"] = {"dist": "exponential", "mean": 1.0}
        station.params["concurrency"] = 1
    expected = theory.mm1(0.5, 1.0).mean_response
    naive, auto = (
        ex.plan_sweep(model, "simulation.seed", [1], replications=12, seed=77, auto_warmup=flag).run()[0]
        for flag in (False, True)
    )
    for station in stations:
        biased = naive.summary[station.id]
        assert biased["mean_response"] - expected > 2 * biased["ci95"]["mean_response"]
        fixed = auto.summary[station.id]
        assert abs(fixed["mean_response"] - expected) <= widened(fixed["ci95"]["mean_response"], 12)
    assert auto.warmup is not None and 200 < auto.warmup < 2000
    assert naive.warmup is None


def test_automatic_warmup_removes_the_bias_of_an_mm1_at_09_started_empty() -> None:
    """Started empty, an M/M/1 at ρ = 0.9 (relaxation time ~400 s) under-reports L over a
    2,000 s run. That bias is smaller than the noise of one side, so it is measured where it
    can be: paired on the same seeds, cutting the warm-up raises L significantly (measured
    +0.39 ± 0.13), towards theory's 9, which the cut estimate's interval covers."""
    model = mm1(end_time=2000.0, warmup=0.0, rate=0.9)
    expected = theory.mm1(0.9, 1.0).mean_in_system
    naive, auto = (
        ex.plan_sweep(model, "arrivals.rate", [0.9], replications=100, seed=5, auto_warmup=flag).run()[0]
        for flag in (False, True)
    )
    shift, half = mean_ci95(
        [b["cpu"]["mean_in_system"] - a["cpu"]["mean_in_system"] for a, b in zip(naive.runs, auto.runs)]
    )
    assert naive.summary["cpu"]["mean_in_system"] < expected
    assert shift > half > 0
    fixed = auto.summary["cpu"]
    assert abs(fixed["mean_in_system"] - expected) <= widened(fixed["ci95"]["mean_in_system"], 100)
    assert auto.warmup is not None and 50 < auto.warmup < 1000


# ------------------------------------------------------------------ sweeps against theory
def test_an_mm1_sweep_covers_theory_at_every_point() -> None:
    experiment = ex.plan_sweep(
        mm1(end_time=20_000.0, warmup=2000.0), "arrivals.rate", ex.parse_values("0.1:0.9:0.2"), replications=10, seed=42
    )
    result = ex.SweepResult("arrivals.rate", experiment.run())
    document = result.to_json()
    assert document["param"] == "arrivals.rate" and [p["value"] for p in document["points"]] == [
        0.1,
        0.3,
        0.5,
        0.7,
        0.9,
    ]
    for point in document["points"]:
        cpu = point["nodes"]["cpu"]
        for metric in ("mean_response", "utilization", "mean_in_system"):
            assert abs(cpu[metric] - cpu["theory"][metric]) <= widened(cpu["ci95"][metric], 10), (
                point["value"],
                metric,
            )
    rows = list(result.csv_rows())
    assert rows[0][:3] == (0.1, "cpu", "arrivals") and len(rows[0]) == 6


def test_an_mmc_sweep_of_servers_answers_like_erlang_c() -> None:
    """The smallest c with mean wait under 0.1 s at λ = 4, μ = 1 is 7 by Erlang C
    (Wq = 0.55 s at c = 5, 0.14 s at c = 6, 0.04 s at c = 7); the sweep finds the same."""
    model = load_model(EXAMPLES / "mmc.json")
    model.simulation.end_time = 3000.0
    model.simulation.warmup = 500.0
    source = next(n for n in model.nodes if n.kind == "source")
    station = next(n for n in model.nodes if n.kind == "server")
    source.params = {"rate": 4.0}
    station.params["service_time"] = {"dist": "exponential", "mean": 1.0}
    waits = {c: theory.mmc(4.0, 1.0, c).mean_wait for c in range(5, 9)}
    first = min(c for c, w in waits.items() if w < 0.1)
    points = ex.plan_sweep(model, f"{station.id}.concurrency", [5, 6, 7, 8], replications=6, seed=8).run()
    found = min(int(p.variant.label) for p in points if p.summary[station.id]["mean_wait"] < 0.1)
    assert found == first == 7
