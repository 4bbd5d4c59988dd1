"""Latency distributions: moments within confidence intervals, shifting, validation, specs.

Mean checks use a z-bound of 4.5 standard errors (sigma / sqrt(n)). Variance checks use the
standard error of the sample variance, sqrt((mu4 - sigma^4) / n), with each distribution's
exact fourth central moment mu4 = (3 + excess kurtosis) * sigma^4, and the same 4.5 bound.
With fixed seeds the tests are deterministic; the bounds say why they are not fragile.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import Server, Simulation
from engine.distributions import (
    ConstantLatency,
    EmpiricalLatency,
    ErlangLatency,
    ExponentialLatency,
    LatencyDistribution,
    LogNormalLatency,
    ParetoLatency,
    UniformLatency,
    from_spec,
)
from engine.time import Duration

N = 200_000
Z = 4.5


def _draws(dist: LatencyDistribution, n: int = N, seed: int = 2024) -> np.ndarray:
    sim = Simulation(seed=seed)
    draw = dist.sampler(sim)
    return np.fromiter((draw() for _ in range(n)), dtype=float, count=n)


def _lognormal_excess(cv: float) -> float:
    s2 = math.log1p(cv**2)
    return math.exp(4 * s2) + 2 * math.exp(3 * s2) + 3 * math.exp(2 * s2) - 6


def _pareto_excess(a: float) -> float:
    return 6 * (a**3 + a**2 - 6 * a - 2) / (a * (a - 3) * (a - 4))


EMPIRICAL_VALUES = [0.1, 0.2, 0.2, 0.5, 1.3, 4.0]


def _empirical_excess(values: list[float]) -> float:
    v = np.asarray(values)
    c = v - v.mean()
    return float((c**4).mean() / (c**2).mean() ** 2 - 3)


# (id, distribution, expected mean, expected variance, excess kurtosis)
CASES = [
    ("exponential", ExponentialLatency(0.5), 0.5, 0.25, 6.0),
    ("uniform", UniformLatency(1.0, 3.0), 2.0, 4.0 / 12, -1.2),
    ("erlang", ErlangLatency(2.0, k=3), 2.0, 4.0 / 3, 6.0 / 3),
    ("lognormal", LogNormalLatency(1.5, cv=0.5), 1.5, (0.5 * 1.5) ** 2, _lognormal_excess(0.5)),
    ("pareto", ParetoLatency(1.0, alpha=6.0), 1.0, (5 / 6) ** 2 * 6 / (25 * 4), _pareto_excess(6.0)),
    (
        "empirical",
        EmpiricalLatency(EMPIRICAL_VALUES),
        float(np.mean(EMPIRICAL_VALUES)),
        float(np.var(EMPIRICAL_VALUES)),
        _empirical_excess(EMPIRICAL_VALUES),
    ),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("name", "dist", "mean", "variance", "excess"), CASES, ids=IDS)
def test_distribution_knows_its_mean_and_variance(name, dist, mean, variance, excess):
    assert dist.mean == pytest.approx(mean, rel=1e-12)
    assert dist.variance == pytest.approx(variance, rel=1e-12)


@pytest.mark.parametrize(("name", "dist", "mean", "variance", "excess"), CASES, ids=IDS)
def test_sample_mean_matches_the_distribution_mean(name, dist, mean, variance, excess):
    x = _draws(dist)
    se = math.sqrt(variance / N)
    assert abs(x.mean() - mean) < Z * se


@pytest.mark.parametrize(("name", "dist", "mean", "variance", "excess"), CASES, ids=IDS)
def test_sample_variance_matches_the_distribution_variance(name, dist, mean, variance, excess):
    x = _draws(dist)
    se = variance * math.sqrt((2 + excess) / N)  # sqrt((mu4 - sigma^4) / n)
    assert abs(x.var(ddof=1) - variance) < Z * se


@pytest.mark.parametrize(("name", "dist", "mean", "variance", "excess"), CASES, ids=IDS)
def test_draws_never_fall_below_the_minimum(name, dist, mean, variance, excess):
    x = _draws(dist, n=20_000)
    assert x.min() >= dist.minimum - 1e-12
    assert x.min() >= 0.0


def test_constant_always_gives_its_value():
    dist = ConstantLatency(0.25)
    x = _draws(dist, n=1000)
    assert set(x.tolist()) == {0.25}
    assert dist.mean == 0.25
    assert dist.variance == 0.0


def test_empirical_draws_only_its_values():
    x = _draws(EmpiricalLatency(EMPIRICAL_VALUES), n=5000)
    assert set(x.tolist()) == set(EMPIRICAL_VALUES)


def test_erlang_default_k_is_two():
    assert ErlangLatency(1.0).variance == pytest.approx(0.5)


@pytest.mark.parametrize(("name", "dist", "mean", "variance", "excess"), CASES, ids=IDS)
def test_get_latency_returns_a_duration(name, dist, mean, variance, excess):
    value = dist.get_latency(0.0)
    assert isinstance(value, Duration)
    assert value >= 0


# ------------------------------------------------------------------------- shifting


def test_adding_an_offset_shifts_the_mean_and_the_draws():
    base = ExponentialLatency(1.0)
    shifted = base + 2.0
    assert shifted.mean == pytest.approx(3.0)
    assert shifted.variance == pytest.approx(1.0)
    x = _draws(shifted, n=50_000)
    assert x.min() >= 2.0
    assert abs(x.mean() - 3.0) < Z * math.sqrt(1.0 / 50_000)


def test_adding_an_offset_returns_a_copy():
    base = ExponentialLatency(1.0)
    shifted = base + 2.0
    assert shifted is not base
    assert base.mean == 1.0


def test_subtracting_an_offset_shifts_the_mean_and_the_draws():
    shifted = ConstantLatency(5.0) - 2.0
    assert shifted.mean == pytest.approx(3.0)
    assert set(_draws(shifted, n=100).tolist()) == {3.0}


def test_shifting_a_shifted_distribution_adds_up():
    shifted = (UniformLatency(1.0, 3.0) + 1.0) - 0.5
    assert shifted.mean == pytest.approx(2.5)
    x = _draws(shifted, n=20_000)
    assert x.min() >= 1.5 and x.max() <= 3.5


@pytest.mark.parametrize(
    ("dist", "offset"),
    [(ConstantLatency(1.0), 2.0), (ExponentialLatency(1.0), 0.5), (UniformLatency(1.0, 2.0), 1.5)],
    ids=["constant", "exponential", "uniform"],
)
def test_shifting_below_zero_is_a_value_error(dist, offset):
    with pytest.raises(ValueError):
        dist - offset


def test_adding_a_negative_offset_below_zero_is_a_value_error():
    with pytest.raises(ValueError):
        ConstantLatency(1.0) + (-2.0)


def test_shifted_distribution_works_as_service_time(recorder, inject):
    server = Server("s", 1, ConstantLatency(1.0) + 0.5, downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0], names=["a", "b"])
    sim.run()
    assert recorder.log == [(1.5, "a"), (3.0, "b")]


# ---------------------------------------------------------------- user subclasses


class Alternating(LatencyDistribution):
    """A user distribution that overrides only get_latency: 1, 3, 1, 3, …"""

    def __init__(self) -> None:
        super().__init__(2.0)
        self.draws = 0

    def get_latency(self, now: float) -> Duration:
        self.draws += 1
        return Duration(1.0 if self.draws % 2 else 3.0)


def test_user_subclass_overriding_only_get_latency_is_a_servers_service_time(recorder, inject):
    dist = Alternating()
    server = Server("s", 1, dist, downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0, 0.0], names=["a", "b", "c"])
    sim.run()
    assert recorder.log == [(1.0, "a"), (4.0, "b"), (5.0, "c")]
    assert dist.draws == 3


def test_user_subclass_is_asked_with_the_current_time(SequenceLatency, inject):
    dist = SequenceLatency([2.0])
    server = Server("s", 1, dist)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.5, 0.5])
    sim.run()
    assert dist.calls == [0.5, 2.5]


def test_user_subclass_can_be_shifted(recorder, inject):
    server = Server("s", 1, Alternating() + 1.0, downstream=recorder)
    sim = Simulation(entities=[server])
    inject(sim, server, [0.0, 0.0], names=["a", "b"])
    sim.run()
    assert recorder.log == [(2.0, "a"), (6.0, "b")]


# ---------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("build", "exc", "name"),
    [
        (lambda: ConstantLatency(-1.0), ValueError, "value"),
        (lambda: ConstantLatency(math.nan), ValueError, "value"),
        (lambda: ConstantLatency("1"), TypeError, "value"),
        (lambda: ExponentialLatency(0.0), ValueError, "mean"),
        (lambda: ExponentialLatency(-2.0), ValueError, "mean"),
        (lambda: ExponentialLatency(math.inf), ValueError, "mean"),
        (lambda: ExponentialLatency(None), TypeError, "mean"),
        (lambda: UniformLatency(-1.0, 1.0), ValueError, "low"),
        (lambda: UniformLatency(2.0, 1.0), ValueError, "high"),
        (lambda: ErlangLatency(1.0, k=0), ValueError, "k"),
        (lambda: ErlangLatency(1.0, k=1.5), ValueError, "k"),
        (lambda: ErlangLatency(-1.0, k=2), ValueError, "mean"),
        (lambda: LogNormalLatency(0.0, cv=1.0), ValueError, "mean"),
        (lambda: LogNormalLatency(1.0, cv=-0.5), ValueError, "cv"),
        (lambda: ParetoLatency(1.0, alpha=1.0), ValueError, "alpha"),
        (lambda: ParetoLatency(1.0, alpha=0.5), ValueError, "alpha"),
        (lambda: ParetoLatency(-1.0, alpha=2.5), ValueError, "mean"),
        (lambda: EmpiricalLatency([]), ValueError, "values"),
        (lambda: EmpiricalLatency([1.0, -1.0]), ValueError, "values"),
        (lambda: EmpiricalLatency([1.0, "x"]), TypeError, "values"),
    ],
    ids=[
        "constant-negative",
        "constant-nan",
        "constant-str",
        "exponential-zero",
        "exponential-negative",
        "exponential-inf",
        "exponential-none",
        "uniform-negative-low",
        "uniform-high-below-low",
        "erlang-k-zero",
        "erlang-k-float",
        "erlang-negative-mean",
        "lognormal-zero-mean",
        "lognormal-negative-cv",
        "pareto-alpha-one",
        "pareto-alpha-below-one",
        "pareto-negative-mean",
        "empirical-empty",
        "empirical-negative",
        "empirical-str",
    ],
)
def test_bad_parameter_is_refused_naming_it(build, exc, name):
    with pytest.raises(exc, match=name):
        build()


def test_shifting_by_a_non_number_is_a_type_error():
    with pytest.raises(TypeError):
        ConstantLatency(1.0) + "1"  # type: ignore[operator]


# --------------------------------------------------------------------------- specs


SPEC_CASES = [
    ConstantLatency(0.25),
    ExponentialLatency(1.5),
    UniformLatency(0.5, 2.0),
    ErlangLatency(3.0, k=4),
    LogNormalLatency(2.0, cv=0.7),
    ParetoLatency(1.0, alpha=2.5),
    EmpiricalLatency([0.1, 0.3, 0.2]),
]


@pytest.mark.parametrize("dist", SPEC_CASES, ids=lambda d: type(d).__name__)
def test_from_spec_of_to_spec_round_trips(dist):
    again = from_spec(dist.to_spec())
    assert type(again) is type(dist)
    assert again == dist
    assert again.to_spec() == dist.to_spec()
    assert again.mean == pytest.approx(dist.mean)
    assert again.variance == pytest.approx(dist.variance)


def test_to_spec_uses_the_model_file_field_names():
    assert ConstantLatency(0.25).to_spec() == {"dist": "constant", "value": 0.25}
    assert ExponentialLatency(1.5).to_spec() == {"dist": "exponential", "mean": 1.5}
    assert UniformLatency(0.5, 2.0).to_spec() == {"dist": "uniform", "low": 0.5, "high": 2.0}
    assert ErlangLatency(3.0, k=4).to_spec() == {"dist": "erlang", "k": 4, "mean": 3.0}
    assert LogNormalLatency(2.0, cv=0.7).to_spec() == {"dist": "lognormal", "mean": 2.0, "cv": 0.7}
    assert ParetoLatency(1.0, alpha=2.5).to_spec() == {"dist": "pareto", "mean": 1.0, "alpha": 2.5}
    assert EmpiricalLatency([0.1, 0.3]).to_spec() == {"dist": "empirical", "values": [0.1, 0.3]}


@pytest.mark.parametrize(
    ("spec", "exc", "name"),
    [
        ({"dist": "gaussian", "mean": 1}, ValueError, "dist"),
        ({"dist": "exponential"}, ValueError, "mean"),
        ({"dist": "exponential", "mean": 1, "rate": 2}, ValueError, "rate"),
        ({"dist": "uniform", "low": 3, "high": 1}, ValueError, "high"),
        ("exponential", TypeError, "dist"),
    ],
    ids=["unknown-dist", "missing-field", "unknown-field", "bad-value", "not-an-object"],
)
def test_bad_spec_is_refused_naming_the_field(spec, exc, name):
    with pytest.raises(exc, match=name):
        from_spec(spec)
