"""engine.theory against textbook values, independent closed forms and Little's law."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import theory
from engine.theory import StationResult, UnstableError

ROOT = Path(__file__).resolve().parents[2]
SIM_METRICS = {
    "utilization",
    "mean_queue_length",
    "mean_in_system",
    "mean_wait",
    "mean_response",
    "throughput",
}


def approx(x: float) -> object:
    return pytest.approx(x, rel=1e-9, abs=1e-12)


def assert_little(r: StationResult) -> None:
    assert r.mean_in_system == pytest.approx(r.throughput * r.mean_response, rel=1e-9, abs=1e-12)
    assert r.mean_queue_length == pytest.approx(r.throughput * r.mean_wait, rel=1e-9, abs=1e-12)
    assert r.mean_response >= r.mean_wait >= 0.0
    assert r.mean_in_system >= r.mean_queue_length >= 0.0
    assert 0.0 <= r.utilization <= 1.0
    assert 0.0 <= r.blocking_probability <= 1.0
    assert r.p_wait is None or 0.0 <= r.p_wait <= 1.0 + 1e-12


def erlang_c_direct(c: int, a: float) -> float:
    """Erlang C from its defining sums (fine for small c)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def birth_death(lam: float, mu: float, c: int, cap: int) -> list[float]:
    """Stationary distribution of M/M/c/cap by the plain product formula."""
    weights = [1.0]
    for n in range(1, cap + 1):
        weights.append(weights[-1] * lam / (mu * min(n, c)))
    total = sum(weights)
    return [w / total for w in weights]


# ---------------------------------------------------------------------- M/M/1
def test_mm1_textbook_values() -> None:
    r = theory.mm1(0.8, 1.0)
    assert r.utilization == approx(0.8)
    assert r.mean_in_system == approx(4.0)
    assert r.mean_response == approx(5.0)
    assert r.mean_queue_length == approx(3.2)
    assert r.mean_wait == approx(4.0)
    assert r.throughput == approx(0.8)
    assert r.p_wait == approx(0.8)
    assert r.blocking_probability == 0.0


def test_mm1_with_no_arrivals_is_idle() -> None:
    r = theory.mm1(0.0, 2.0)
    assert (r.utilization, r.mean_in_system, r.mean_wait) == (0.0, 0.0, 0.0)
    assert r.mean_response == approx(0.5)


def test_mm1_response_percentiles_are_exponential() -> None:
    assert theory.mm1_response_percentile(0.8, 1.0, 0.5) == approx(math.log(2) / 0.2)
    assert theory.mm1_response_percentile(0.8, 1.0, 0.99) == approx(math.log(100) / 0.2)
    assert theory.mm1_response_percentile(0.8, 1.0, 0.0) == 0.0


# ---------------------------------------------------------------------- M/M/c
@pytest.mark.parametrize(
    ("c", "a", "table"),
    [(1, 0.5, 0.5), (2, 1.0, 1 / 3), (3, 2.0, 4 / 9), (5, 4.0, 0.5541), (10, 8.0, 0.4092)],
)
def test_erlang_c_table(c: int, a: float, table: float) -> None:
    assert theory.erlang_c(c, a) == pytest.approx(table, abs=5e-5)
    assert theory.erlang_c(c, a) == approx(erlang_c_direct(c, a))


def test_mmc_textbook_values() -> None:
    # M/M/2 with lambda = mu = 1: C = 1/3, Lq = 1/3, L = 4/3
    r = theory.mmc(1.0, 1.0, 2)
    assert r.p_wait == approx(1 / 3)
    assert r.mean_queue_length == approx(1 / 3)
    assert r.mean_in_system == approx(4 / 3)
    assert r.mean_response == approx(4 / 3)
    assert r.utilization == approx(0.5)
    # M/M/3 with A = 2: C = 4/9, Lq = C·rho/(1 - rho) = 8/9
    r = theory.mmc(2.0, 1.0, 3)
    assert r.mean_queue_length == approx(8 / 9)
    assert r.mean_wait == approx(4 / 9)
    assert r.mean_in_system == approx(8 / 9 + 2)


def test_mmc_with_one_server_is_mm1() -> None:
    assert theory.mmc(0.7, 1.3, 1).as_dict() == pytest.approx(theory.mm1(0.7, 1.3).as_dict(), rel=1e-12)


# ---------------------------------------------------------------- Erlang B, M/M/c/K
def test_erlang_b_textbook_value() -> None:
    assert theory.erlang_b(5, 3.0) == pytest.approx(0.1101, abs=5e-5)
    assert theory.erlang_b(1, 2.0) == approx(2 / 3)


def test_erlang_b_recursion_is_stable_for_many_servers() -> None:
    # log-space direct sum: B = (A^c/c!) / sum_k A^k/k!
    c, a = 2000, 1900.0
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(c + 1)]
    top = max(logs)
    direct = math.exp(logs[-1] - top) / sum(math.exp(x - top) for x in logs)
    assert theory.erlang_b(c, a) == pytest.approx(direct, rel=1e-9)


def test_mm1k_blocking_probability_of_the_semantics_example() -> None:
    # c = 1, queue_capacity = 4 (K = 5), lambda = 0.8, mu = 1
    r = theory.mmck(0.8, 1.0, 1, 5)
    rho = 0.8
    assert r.blocking_probability == approx((1 - rho) * rho**5 / (1 - rho**6))
    assert r.blocking_probability == pytest.approx(0.0888, abs=5e-5)
    assert r.throughput == approx(0.8 * (1 - r.blocking_probability))
    assert r.utilization == approx(r.throughput / 1.0)


def test_mmck_matches_the_birth_death_chain() -> None:
    lam, mu, c, cap = 4.5, 1.0, 3, 8
    p = birth_death(lam, mu, c, cap)
    r = theory.mmck(lam, mu, c, cap)
    assert r.blocking_probability == approx(p[cap])
    assert r.mean_in_system == approx(sum(n * pn for n, pn in enumerate(p)))
    assert r.mean_queue_length == approx(sum(max(n - c, 0) * pn for n, pn in enumerate(p)))
    assert r.p_wait == approx(sum(p[c:cap]) / (1 - p[cap]))


def test_mmck_with_no_waiting_room_is_erlang_b() -> None:
    r = theory.mmck(3.0, 1.0, 5, 5)
    assert r.blocking_probability == approx(theory.erlang_b(5, 3.0))
    assert r.mean_queue_length == 0.0
    assert r.mean_response == approx(1.0)


def test_mmck_at_rho_one_is_uniform() -> None:
    r = theory.mmck(1.0, 1.0, 1, 4)
    assert r.blocking_probability == approx(1 / 5)
    assert r.mean_in_system == approx(2.0)


def test_mmck_with_a_large_room_approaches_mmc() -> None:
    finite, infinite = theory.mmck(2.4, 1.0, 3, 2000), theory.mmc(2.4, 1.0, 3)
    assert finite.blocking_probability < 1e-100
    for name, value in infinite.as_dict().items():
        assert getattr(finite, name) == pytest.approx(value, rel=1e-9)


def test_mmck_accepts_overload_and_large_rooms() -> None:
    r = theory.mmck(50.0, 1.0, 2, 10_000)
    assert r.blocking_probability == pytest.approx(1 - 2 / 50, rel=1e-9)
    assert r.utilization == pytest.approx(1.0)
    assert math.isfinite(r.mean_in_system)


# ------------------------------------------------------------------- M/G/1
def test_md1_queue_length_is_half_of_mm1() -> None:
    rho = 0.7
    r = theory.md1(rho, 1.0)
    assert r.mean_queue_length == approx(rho**2 / (2 * (1 - rho)))
    assert r.mean_queue_length == approx(theory.mm1(rho, 1.0).mean_queue_length / 2)
    assert r.mean_response == approx(r.mean_wait + 1.0)


def test_mg1_with_exponential_service_is_mm1() -> None:
    lam, mean = 0.6, 1.25
    for name, value in theory.mm1(lam, 1 / mean).as_dict().items():
        assert getattr(theory.mg1(lam, mean, mean**2), name) == approx(value)


def test_mg1_pollaczek_khinchine() -> None:
    # Erlang-2 service, mean 1 (variance 1/2), lambda = 0.5: Wq = 0.5·1.5/(2·0.5) = 0.75
    r = theory.mg1(0.5, 1.0, 0.5)
    assert r.mean_wait == approx(0.75)
    assert r.mean_queue_length == approx(0.375)


def test_mminf_never_waits() -> None:
    r = theory.mminf(5.0, 2.0)
    assert r.mean_in_system == approx(2.5)
    assert r.mean_response == approx(0.5)
    assert (r.mean_wait, r.mean_queue_length, r.p_wait) == (0.0, 0.0, 0.0)


# ---------------------------------------------------------------- priority
def test_cobham_two_classes() -> None:
    # exponential service, mean 1 (E[S^2] = 2); loads 0.3 and 0.4; W0 = 0.7
    high, low = theory.priority_nonpreemptive_mg1([0.3, 0.4], [1.0, 1.0], [2.0, 2.0])
    assert high.mean_wait == approx(0.7 / (1 * 0.7))
    assert low.mean_wait == approx(0.7 / (0.7 * 0.3))
    assert high.mean_response == approx(2.0)
    assert (high.throughput, low.throughput) == (0.3, 0.4)


def test_cobham_obeys_kleinrocks_conservation_law() -> None:
    lams, means, m2 = [0.2, 0.1, 0.3], [0.5, 1.0, 1.5], [0.5, 1.5, 3.0]
    classes = theory.priority_nonpreemptive_mg1(lams, means, m2)
    work = sum(lam * m * r.mean_wait for lam, m, r in zip(lams, means, classes, strict=True))
    rho = sum(lam * m for lam, m in zip(lams, means, strict=True))
    w0 = sum(lam * s for lam, s in zip(lams, m2, strict=True)) / 2
    assert work == approx(rho * w0 / (1 - rho))


def test_cobham_with_one_class_is_mg1() -> None:
    (only,) = theory.priority_nonpreemptive_mg1([0.5], [1.0], [1.5])
    assert only.mean_wait == approx(theory.mg1(0.5, 1.0, 0.5).mean_wait)


# ------------------------------------------------------------------ Jackson
def test_jackson_tandem_is_two_mm1() -> None:
    net = theory.jackson([0.5, 0.0], [[0.0, 1.0], [0.0, 0.0]], [1.0, 2.0], names=["a", "b"])
    a, b = theory.mm1(0.5, 1.0), theory.mm1(0.5, 2.0)
    assert net.stations["a"].as_dict() == pytest.approx(a.as_dict())
    assert net.stations["b"].as_dict() == pytest.approx(b.as_dict())
    assert net.mean_in_system == approx(a.mean_in_system + b.mean_in_system)
    assert net.mean_response == approx(a.mean_response + b.mean_response)
    assert net.throughput == approx(0.5)


def test_jackson_feedback_doubles_the_arrival_rate() -> None:
    net = theory.jackson([0.3], [[0.5]], [1.0])
    assert net.arrival_rates["0"] == approx(0.6)
    assert net.visits["0"] == approx(2.0)
    assert net.stations["0"].as_dict() == pytest.approx(theory.mm1(0.6, 1.0).as_dict())
    assert net.mean_response == approx(2 * theory.mm1(0.6, 1.0).mean_response)


def test_jackson_with_multi_server_and_delay_stations() -> None:
    routing = [[0.0, 0.6, 0.4], [0.2, 0.0, 0.0], [0.0, 0.0, 0.0]]
    net = theory.jackson([1.0, 0.5, 0.0], routing, [0.5, 2.0, 1.0], [3, 1, math.inf], names=["web", "db", "think"])
    lam_web = (1.0 + 0.2 * 0.5) / (1 - 0.6 * 0.2)
    assert net.arrival_rates["web"] == approx(lam_web)
    assert net.arrival_rates["db"] == approx(0.5 + 0.6 * lam_web)
    assert net.arrival_rates["think"] == approx(0.4 * lam_web)
    assert net.stations["web"].as_dict() == pytest.approx(theory.mmc(lam_web, 0.5, 3).as_dict())
    assert net.stations["think"].as_dict() == pytest.approx(theory.mminf(0.4 * lam_web, 1.0).as_dict())
    assert net.as_dict()["stations"]["db"]["throughput"] == approx(0.5 + 0.6 * lam_web)


def test_jackson_names_the_unstable_station() -> None:
    with pytest.raises(UnstableError, match=r"station 'db' has offered load rho = 1\.05 >= 1: no steady state") as err:
        theory.jackson([0.5, 0.0], [[0.0, 1.0], [0.0, 0.0]], [1.0, 0.5 / 1.05], names=["web", "db"])
    assert err.value.station == "db"
    assert err.value.rho == pytest.approx(1.05)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([1.0], [[0.5]], [1.0, 2.0]), {}, "mus"),
        (([1.0], [[0.5, 0.5]], [1.0]), {}, "matrix"),
        (([1.0, 0.0], [[0.5, 0.0], [0.0, 1.0]], [3.0, 3.0]), {}, "not open"),
        (([1.0, 0.0], [[0.0, 1.0], [1.0, 0.0]], [3.0, 3.0]), {}, "not open"),
        (([1.0, 0.0], [[0.6, 0.6], [0.0, 0.0]], [3.0, 3.0]), {}, "sums to 1.2"),
        (([1.0], [[1.5]], [3.0]), {}, "probability"),
        (([-1.0], [[0.0]], [3.0]), {}, "external rate"),
        (([1.0], [[0.0]], [0.0]), {}, "mu of station"),
        (([1.0], [[0.0]], [3.0], [0]), {}, "servers of station"),
        (([1.0, 1.0], [[0.0, 0.0], [0.0, 0.0]], [3.0, 3.0]), {"names": ["a", "a"]}, "unique"),
        (([], [], []), {}, "at least one"),
    ],
)
def test_jackson_refuses_bad_networks(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        theory.jackson(*args, **kwargs)


def test_jackson_is_open_with_partial_loops() -> None:
    net = theory.jackson([1.0, 0.0], [[0.0, 0.9], [0.9, 0.0]], [10.0, 10.0])
    assert net.arrival_rates["0"] == approx(1 / (1 - 0.81))


# --------------------------------------------------------------- errors, API
@pytest.mark.parametrize(
    "call",
    [
        lambda: theory.mm1(1.05, 1.0),
        lambda: theory.mm1(1.0, 1.0),
        lambda: theory.mmc(3.0, 1.0, 3),
        lambda: theory.erlang_c(3, 3.5),
        lambda: theory.md1(1.0, 1.5),
        lambda: theory.mg1(2.0, 0.5, 0.1),
        lambda: theory.priority_nonpreemptive_mg1([0.5, 0.6], [1.0, 1.0], [2.0, 2.0]),
        lambda: theory.mm1_response_percentile(2.0, 1.0, 0.5),
    ],
)
def test_unstable_stations_raise(call: object) -> None:
    with pytest.raises(UnstableError, match=r">= 1.*no steady state"):
        call()  # type: ignore[operator]


def test_unstable_error_is_a_value_error_with_the_station_name() -> None:
    assert issubclass(UnstableError, ValueError)
    with pytest.raises(ValueError, match=r"^station 'x' has offered load rho = 1\.05 >= 1: no steady state$"):
        theory.mmc(3.15, 1.0, 3, name="x")


@pytest.mark.parametrize(
    "call",
    [
        lambda: theory.mm1(-0.1, 1.0),
        lambda: theory.mm1(0.5, 0.0),
        lambda: theory.mm1(0.5, -1.0),
        lambda: theory.mm1(math.nan, 1.0),
        lambda: theory.mm1(0.5, math.inf),
        lambda: theory.mmc(0.5, 1.0, 0),
        lambda: theory.mmck(0.5, 1.0, 3, 2),
        lambda: theory.mmck(0.5, 1.0, 0, 2),
        lambda: theory.erlang_b(0, 1.0),
        lambda: theory.erlang_b(3, -1.0),
        lambda: theory.erlang_c(0, 0.5),
        lambda: theory.md1(0.5, 0.0),
        lambda: theory.mg1(0.5, 1.0, -0.1),
        lambda: theory.mminf(-1.0, 1.0),
        lambda: theory.priority_nonpreemptive_mg1([0.1, 0.2], [1.0], [2.0]),
        lambda: theory.priority_nonpreemptive_mg1([], [], []),
        lambda: theory.priority_nonpreemptive_mg1([0.1, 0.2], [1.0, 1.0], [2.0, 0.5]),
        lambda: theory.mm1_response_percentile(0.5, 1.0, 99),
        lambda: theory.mm1_response_percentile(0.5, 1.0, 1.0),
        lambda: theory.mm1_response_percentile(0.5, 1.0, -0.1),
    ],
)
def test_bad_parameters_raise_value_error(call: object) -> None:
    with pytest.raises(ValueError) as err:
        call()  # type: ignore[operator]
    assert not isinstance(err.value, UnstableError)


@pytest.mark.parametrize(
    "call",
    [
        lambda: theory.mm1("0.5", 1.0),
        lambda: theory.mm1(True, 1.0),
        lambda: theory.mmc(0.5, 1.0, 2.0),
        lambda: theory.mmck(0.5, 1.0, 1, None),
    ],
)
def test_non_numbers_raise_type_error(call: object) -> None:
    with pytest.raises(TypeError):
        call()  # type: ignore[operator]


def test_station_result_is_frozen_and_named_like_the_simulation() -> None:
    r = theory.mmck(0.8, 1.0, 1, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.utilization = 0.5  # type: ignore[misc]
    d = r.as_dict()
    assert set(d) >= SIM_METRICS
    assert set(d) - SIM_METRICS == {"blocking_probability", "p_wait"}
    assert "p_wait" not in StationResult(0.5, 0.5, 1.0, 1.0, 2.0, 0.5).as_dict()


def test_theory_imports_neither_scipy_nor_qt() -> None:
    code = (
        "import sys, engine.theory\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('scipy', 'PySide6', 'pyqtgraph', 'desktop')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ------------------------------------------------------------- Little's law
rates = st.floats(min_value=0.01, max_value=100.0, allow_nan=False)
loads = st.floats(min_value=0.0, max_value=0.99, allow_nan=False)
servers = st.integers(min_value=1, max_value=60)


@settings(max_examples=60, deadline=None)
@given(mu=rates, rho=loads, c=servers)
def test_little_holds_for_mmc(mu: float, rho: float, c: int) -> None:
    r = theory.mmc(rho * c * mu, mu, c)
    assert_little(r)
    assert r.utilization == pytest.approx(rho)
    assert r.mean_in_system - r.mean_queue_length == pytest.approx(rho * c)


@settings(max_examples=60, deadline=None)
@given(mu=rates, a=st.floats(min_value=0.0, max_value=200.0), c=servers, extra=st.integers(0, 200))
def test_little_holds_for_mmck(mu: float, a: float, c: int, extra: int) -> None:
    r = theory.mmck(a * mu, mu, c, c + extra)
    assert_little(r)
    assert r.mean_in_system - r.mean_queue_length == pytest.approx(r.utilization * c, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(lam=rates, rho=st.floats(min_value=0.001, max_value=0.99), cv2=st.floats(min_value=0.0, max_value=10.0))
def test_little_holds_for_mg1_and_mminf(lam: float, rho: float, cv2: float) -> None:
    mean = rho / lam
    assert_little(theory.mg1(lam, mean, cv2 * mean**2))
    assert_little(theory.mminf(lam, 1 / mean))


@settings(max_examples=60, deadline=None)
@given(
    shares=st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=2, max_size=5),
    rho=st.floats(min_value=0.01, max_value=0.95),
    cv2=st.floats(min_value=0.0, max_value=4.0),
)
def test_little_holds_for_each_priority_class(shares: list[float], rho: float, cv2: float) -> None:
    total = sum(shares)
    lams = [rho * s / total for s in shares]  # mean service 1
    for r in theory.priority_nonpreemptive_mg1(lams, [1.0] * len(lams), [1.0 + cv2] * len(lams)):
        assert_little(r)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=5),
    data=st.data(),
)
def test_little_holds_for_jackson_networks(n: int, data: st.DataObject) -> None:
    gamma = data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    routing = []
    for _ in range(n):
        row = data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
        scale = data.draw(st.floats(0.0, 0.95)) / max(sum(row), 1e-9)
        routing.append([x * scale for x in row])
    probe = theory.jackson(gamma, routing, [1e9] * n)  # only to learn the arrival rates
    mus = [max(lam, 1e-3) * data.draw(st.floats(1.1, 5.0)) for lam in probe.arrival_rates.values()]
    net = theory.jackson(gamma, routing, mus)
    for r in net.stations.values():
        assert_little(r)
    assert net.mean_in_system == pytest.approx(net.throughput * net.mean_response, rel=1e-9, abs=1e-12)
