"""Theory and statistics that cannot blow up (issue 16, items 3, 4 and 6).

Erlang B/C for any number of servers, M/M/c/K for any queue length, distributions with
huge but valid parameters, and the analysis of very long chains, long cycles and large
networks: every result is a number (finite or ``inf``) or a reason, never an exception,
and the work is bounded (counted here in terms summed, never in wall-clock time).
"""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import distributions, erlang, routing, theory
from engine.analysis import _cycle_nodes, analyze_model
from engine.model import load_model
from engine.model.document import Link, Model, Node
from engine.model.kinds.source import arrival_rate as source_rate
from engine.model.schema import KINDS
from engine.model.validate import arrival_rates
from engine.theory import StationResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))


def erlang_b_exact(c: int, a: Fraction) -> float:
    """Erlang B in exact rational arithmetic (c up to a few hundred)."""
    term, total = Fraction(1), Fraction(1)
    for k in range(1, c + 1):
        term = term * a / k
        total += term
    return float(term / total)


def erlang_b_recursion(c: int, a: float) -> float:
    """The formula engine.theory used before: B(k) = A·B(k−1) / (k + A·B(k−1))."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_pdf(x: float) -> float:
    return math.exp(-x * x / 2.0) / math.sqrt(2.0 * math.pi)


@pytest.fixture
def terms(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the terms engine.erlang evaluates (numpy elements plus single floats)."""
    counted = [0]
    inner = erlang._log_ratio

    def counting(i: np.ndarray, a: float) -> np.ndarray:
        counted[0] += int(np.size(i))
        return inner(i, a)

    monkeypatch.setattr(erlang, "_log_ratio", counting)
    real_small = erlang._small_side

    def small(peak: int, bound: int, a: float) -> tuple[float, float, bool]:
        counted[0] += min(abs(bound - peak), erlang._SMALL)
        return real_small(peak, bound, a)

    monkeypatch.setattr(erlang, "_small_side", small)
    return counted


# ------------------------------------------------------------------ Erlang B and C
@pytest.mark.parametrize("c", [1, 2, 7, 65, 100, 300])
@pytest.mark.parametrize("ratio", [Fraction(1, 1000), Fraction(1, 2), Fraction(99, 100), 1, Fraction(3, 2), 20])
def test_erlang_b_equals_the_exact_rational_value(c: int, ratio: Fraction) -> None:
    a = Fraction(c) * ratio
    assert theory.erlang_b(c, float(a)) == pytest.approx(erlang_b_exact(c, a), rel=1e-12)
    assert math.exp(erlang.log_erlang_b(c, float(a))) == pytest.approx(erlang_b_exact(c, a), rel=1e-12)


@pytest.mark.parametrize("c", [65, 500, 2000, 5000])
@pytest.mark.parametrize("ratio", [0.01, 0.5, 0.9, 1.0, 1.1, 4.0, 1000.0])
def test_erlang_b_agrees_with_the_old_recursion_where_it_works(c: int, ratio: float) -> None:
    old = erlang_b_recursion(c, c * ratio)
    assert theory.erlang_b(c, c * ratio) == pytest.approx(old, rel=1e-11, abs=1e-300)


def test_erlang_b_table_value_and_small_closed_forms() -> None:
    assert theory.erlang_b(10, 5.0) == pytest.approx(0.018385, abs=5e-7)  # traffic tables
    for a in (1e-300, 1e-5, 1.0, 1e5, 1e150, 1e300):
        assert theory.erlang_b(1, a) == pytest.approx(a / (1 + a), rel=1e-14)
        half = a / 2 * a if a < 1e150 else math.inf
        expected = 1.0 if half == math.inf else half / (1 + a + half)
        assert theory.erlang_b(2, a) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(("c", "tolerance"), [(10**4, 1e-10), (10**6, 1e-13), (10**8, 1e-13), (10**9, 1e-13)])
def test_erlang_b_at_full_load_follows_ramanujans_expansion(c: int, tolerance: float) -> None:
    # 1/B(n, n) = 1 + Q(n) = sqrt(πn/2) + 2/3 + sqrt(π/(2n))/12 − 4/(135n) + O(n^-3/2)
    expected = math.sqrt(math.pi * c / 2) + 2 / 3 + math.sqrt(math.pi / (2 * c)) / 12 - 4 / (135 * c)
    assert 1 / theory.erlang_b(c, float(c)) == pytest.approx(expected, rel=tolerance)


@pytest.mark.parametrize("beta", [-1.0, 0.0, 0.5, 1.0, 2.0])
def test_erlang_b_and_c_follow_the_halfin_whitt_limit_at_a_billion_servers(beta: float) -> None:
    # c = a + β·sqrt(a): sqrt(a)·B → φ(β)/Φ(β); C → 1 / (1 + β·Φ(β)/φ(β)) (error O(1/sqrt(c)))
    c = 10**9
    a = (math.sqrt(beta * beta + 4 * c) - beta) ** 2 / 4  # solves c = a + β·sqrt(a)
    b = theory.erlang_b(c, a)
    assert math.sqrt(a) * b == pytest.approx(normal_pdf(beta) / normal_cdf(beta), rel=1e-3)
    if beta > 0:
        assert theory.erlang_c(c, a) == pytest.approx(1 / (1 + beta * normal_cdf(beta) / normal_pdf(beta)), rel=1e-3)


@pytest.mark.parametrize("a", [10.0, 9.0e8, 0.999999e9, 1e9, 1.0000001e9, 2e9, 1e12, 1e300])
def test_erlang_b_obeys_its_recursion_between_c_and_c_plus_one_at_a_billion(a: float) -> None:
    c = 10**9
    log_b, log_next = erlang.log_erlang_b(c, a), erlang.log_erlang_b(c + 1, a)
    # B(c+1) = a·B(c) / (c + 1 + a·B(c)), in logs
    b = math.exp(log_b)
    if b > 0:
        assert math.exp(log_next) == pytest.approx(a * b / (c + 1 + a * b), rel=1e-9)
    else:
        assert log_next < log_b


def test_erlang_c_agrees_with_the_old_formula_for_many_servers() -> None:
    for c, a in [(100, 95.0), (2000, 1990.0), (5000, 4000.0)]:
        b = erlang_b_recursion(c, a)
        old = b / (1.0 - (a / c) * (1.0 - b))
        assert theory.erlang_c(c, a) == pytest.approx(old, rel=1e-10)


@pytest.mark.parametrize(("c", "a"), [(10**9, 9.99e8), (10**9, 1e9 - 1.0), (10**9, 1.0), (10**12, 10**12 - 10.0)])
def test_erlang_sums_need_a_bounded_number_of_terms(terms: list[int], c: int, a: float) -> None:
    theory.erlang_c(c, a)
    assert terms[0] < 3_000_000


def test_erlang_functions_take_astronomical_server_counts() -> None:
    assert theory.erlang_b(10**400, 5.0) == 0.0
    assert theory.erlang_c(10**400, 5.0) == 0.0
    assert theory.erlang_b(1, 1e308) == pytest.approx(1.0)
    assert theory.erlang_b(10**9, 1e308) == pytest.approx(1.0)
    assert theory.erlang_b(10**9, 1e-300) == 0.0
    r = theory.mmc(5.0, 1.0, 10**400)
    assert r.mean_wait == 0.0 and r.mean_in_system == pytest.approx(5.0)


# ------------------------------------------------------------------ M/M/c and M/M/c/K
@pytest.mark.parametrize(("lam", "c"), [(0.9e9, 10**9), (1e9 - 100.0, 10**9), (5.0, 10**9), (0.5, 1)])
def test_mmck_with_a_billion_places_equals_mmc(lam: float, c: int) -> None:
    # ρ^(10^9) is below 1e-40 for all of these, so the room makes no visible difference
    infinite, finite = theory.mmc(lam, 1.0, c), theory.mmck(lam, 1.0, c, c + 10**9)
    for name, value in infinite.as_dict().items():
        assert getattr(finite, name) == pytest.approx(value, rel=1e-12, abs=1e-40), name


def test_mmck_overloaded_with_a_billion_places_turns_the_excess_away() -> None:
    r = theory.mmck(3.0, 1.0, 2, 2 + 10**9)
    assert r.blocking_probability == pytest.approx(1 - 2 / 3, rel=1e-12)
    assert r.throughput == pytest.approx(2.0, rel=1e-12)
    assert r.mean_queue_length == pytest.approx(10**9 - 2.0, rel=1e-9)  # full but for ρ/(ρ−1) places
    assert r.mean_in_system == pytest.approx(r.throughput * r.mean_response, rel=1e-12)


def test_mmck_at_exactly_rho_one_with_a_billion_places_is_uniform() -> None:
    r = theory.mmck(1.0, 1.0, 1, 10**9)
    assert r.blocking_probability == pytest.approx(1 / (10**9 + 1), rel=1e-9)
    assert r.mean_in_system == pytest.approx(10**9 / 2, rel=1e-9)


def birth_death_exact(lam: Fraction, mu: Fraction, c: int, cap: int) -> list[Fraction]:
    weights = [Fraction(1)]
    for n in range(1, cap + 1):
        weights.append(weights[-1] * lam / (mu * min(n, c)))
    total = sum(weights)
    return [w / total for w in weights]


@settings(max_examples=60, deadline=None)
@given(
    c=st.integers(1, 80),
    room=st.integers(0, 120),
    load=st.sampled_from([Fraction(1, 10**6), Fraction(1, 3), Fraction(999_999, 10**6), 1, Fraction(10**9 + 1, 10**9)])
    | st.fractions(Fraction(1, 100), 5, max_denominator=1000),
)
def test_mmck_equals_the_exact_birth_death_chain(c: int, room: int, load: Fraction) -> None:
    lam, mu = Fraction(c) * load, Fraction(1)
    p = birth_death_exact(lam, mu, c, c + room)
    r = theory.mmck(float(lam), 1.0, c, c + room)
    assert r.blocking_probability == pytest.approx(float(p[-1]), rel=1e-10, abs=1e-300)
    lq = sum(max(n - c, 0) * pn for n, pn in enumerate(p))
    assert r.mean_queue_length == pytest.approx(float(lq), rel=1e-9, abs=1e-300)
    assert r.mean_in_system == pytest.approx(float(sum(n * pn for n, pn in enumerate(p))), rel=1e-10)
    if room:
        assert r.p_wait == pytest.approx(float(sum(p[c:-1]) / (1 - p[-1])), rel=1e-10, abs=1e-300)


def test_mmck_takes_a_bounded_number_of_terms_for_a_billion_servers_and_places(terms: list[int]) -> None:
    r = theory.mmck(1e9, 1.0, 10**9, 2 * 10**9)
    assert terms[0] < 3_000_000
    assert 0 < r.blocking_probability < 1e-3 and math.isfinite(r.mean_in_system)


def finite_or_inf(x: float | None) -> bool:
    return x is None or not math.isnan(x)


@settings(max_examples=150, deadline=None)
@given(
    lam=st.floats(0.0, 1e308, allow_subnormal=True),
    mu=st.floats(5e-324, 1e308, exclude_min=False),
    c=st.integers(1, 10**9) | st.just(10**400),
    room=st.integers(0, 10**9) | st.just(10**400),
)
def test_mmck_never_raises_for_extreme_but_valid_parameters(lam: float, mu: float, c: int, room: int) -> None:
    r = theory.mmck(lam, mu, c, c + room)
    for value in r.as_dict().values():
        assert finite_or_inf(value)
    assert 0.0 <= r.blocking_probability <= 1.0
    assert 0.0 <= r.utilization <= 1.0
    if all(math.isfinite(v) and 1e-250 < abs(v) < 1e250 for v in r.as_dict().values() if v):
        assert r.mean_in_system == pytest.approx(r.throughput * r.mean_response, rel=1e-9)


@settings(max_examples=150, deadline=None)
@given(
    lam=st.floats(0.0, 1e308),
    mu=st.floats(5e-324, 1e308),
    c=st.integers(1, 10**9) | st.just(10**400),
)
def test_mmc_and_erlang_never_raise_for_extreme_but_valid_parameters(lam: float, mu: float, c: int) -> None:
    assert 0.0 <= theory.erlang_b(c, lam) <= 1.0
    try:
        r = theory.mmc(lam, mu, c)
    except theory.UnstableError:
        return
    for value in r.as_dict().values():
        assert finite_or_inf(value)
    assert 0.0 <= r.p_wait <= 1.0  # type: ignore[operator]


@pytest.mark.parametrize("call", [lambda: theory.mm1(10**400, 1.0), lambda: theory.mmc(1.0, 10**400, 2)])
def test_numbers_too_large_for_a_float_are_value_errors(call: object) -> None:
    with pytest.raises(ValueError, match="finite"):
        call()  # type: ignore[operator]


# ------------------------------------------------------------------ distributions
EXTREME = [
    distributions.UniformLatency(0.0, 1e308),
    distributions.UniformLatency(1.7e308, 1.79e308),
    distributions.UniformLatency(5e-324, 5e-324),
    distributions.ExponentialLatency(1e300),
    distributions.ExponentialLatency(5e-324),
    distributions.ErlangLatency(1e300, 10**400),
    distributions.ErlangLatency(1e300, 2),
    distributions.ErlangLatency(5e-324, 10**18),
    distributions.LogNormalLatency(1e300, 1e6),
    distributions.LogNormalLatency(1e300, 0.0),
    distributions.ParetoLatency(1e300, 2.0000001),
    distributions.ParetoLatency(1e300, 1e308),
    distributions.ParetoLatency(1e300, 1.0 + 1e-15),
    distributions.EmpiricalLatency([1e308, 1.7e308]),
    distributions.EmpiricalLatency([0.0, 1.7e308, 5e-324]),
    distributions.ConstantLatency(1.7e308),
]


@pytest.mark.parametrize("dist", EXTREME, ids=repr)
def test_extreme_distributions_have_a_finite_or_infinite_mean_and_variance(
    dist: distributions.LatencyDistribution,
) -> None:
    assert math.isfinite(dist.mean) and dist.mean >= 0
    assert not math.isnan(dist.variance) and dist.variance >= 0
    assert not math.isnan(dist.cv)
    assert distributions.from_spec(dist.to_spec()).variance == dist.variance


def test_huge_variances_are_right_where_they_fit_a_float() -> None:
    assert distributions.ErlangLatency(1e300, 10**400).variance == pytest.approx(1e200, rel=1e-12)
    assert distributions.ParetoLatency(1e300, 1e308).variance == pytest.approx(1e-16, rel=1e-12)
    assert distributions.UniformLatency(0.0, 1e154).variance == pytest.approx(1e308 / 12, rel=1e-12)
    assert distributions.UniformLatency(0.0, 1e308).variance == math.inf
    assert distributions.EmpiricalLatency([1e308, 1.7e308]).mean == pytest.approx(1.35e308)


def test_an_erlang_with_astronomically_many_phases_draws_its_mean() -> None:
    from engine.simulation import Simulation

    draw = distributions.ErlangLatency(2.0, 10**400).sampler(Simulation(seed=1))
    assert [draw() for _ in range(3)] == [2.0, 2.0, 2.0]


positive = st.floats(5e-324, 1.7e308)


@settings(max_examples=200, deadline=None)
@given(
    spec=st.one_of(
        st.builds(lambda m: {"dist": "exponential", "mean": m}, positive),
        st.builds(
            lambda lo, w: {"dist": "uniform", "low": lo, "high": min(lo + w, 1.79e308)},
            st.floats(0, 1.7e308),
            st.floats(0, 1.7e308),
        ),
        st.builds(
            lambda m, k: {"dist": "erlang", "mean": m, "k": k}, positive, st.integers(1, 10**20) | st.just(10**400)
        ),
        st.builds(lambda m, cv: {"dist": "lognormal", "mean": m, "cv": cv}, positive, st.floats(0, 1e6)),
        st.builds(
            lambda m, a: {"dist": "pareto", "mean": m, "alpha": a}, positive, st.floats(1.0, 1.7e308, exclude_min=True)
        ),
        st.builds(
            lambda v: {"dist": "empirical", "values": v}, st.lists(st.floats(0, 1.7e308), min_size=1, max_size=5)
        ),
    )
)
def test_any_valid_distribution_reports_its_moments_without_raising(spec: dict) -> None:
    dist = distributions.from_spec(spec)
    assert math.isfinite(dist.mean)
    assert not math.isnan(dist.variance) and dist.variance >= 0
    assert not math.isnan(dist.cv)


# ------------------------------------------------------------------ sparse traffic equations
def dense_rates(model: Model) -> dict[str, float]:
    """The traffic equations as engine.model.validate solved them: a dense N×N matrix."""
    ids = [n.id for n in model.nodes]
    index = {node_id: i for i, node_id in enumerate(ids)}
    gamma, p = np.zeros(len(ids)), np.zeros((len(ids), len(ids)))
    for node in model.nodes:
        i = index[node.id]
        if node.kind == "source":
            gamma[i] = source_rate(KINDS["source"].resolve(node.params))
        outs = [link for link in model.links if link.source == node.id]
        for link in outs if node.kind != "sink" else []:
            share = link.probability if link.probability is not None and node.kind != "router" else 1 / len(outs)
            p[i, index[link.target]] += share
    lam = np.linalg.solve(np.eye(len(ids)) - p.T, gamma)
    return dict(zip(ids, lam.tolist(), strict=True))


#: Examples with a closed loop have no open traffic equations to compare (I − Pᵀ is singular
#: on a loop nothing leaves); their visit ratios are tested in test_closed_models.py.
OPEN_EXAMPLES = [p for p in EXAMPLES if '"clients"' not in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", OPEN_EXAMPLES, ids=lambda p: p.name)
def test_sparse_traffic_equations_agree_with_the_dense_solve_on_the_examples(path: Path) -> None:
    model = load_model(path)
    expected = dense_rates(model)
    got = arrival_rates(model)
    assert got.keys() == expected.keys()
    for node_id, value in expected.items():
        assert got[node_id] == pytest.approx(value, rel=1e-12, abs=1e-15), node_id


@st.composite
def networks(draw: st.DrawFn) -> tuple[list[float], list[dict[int, float]]]:
    n = draw(st.integers(1, 12))
    gamma = draw(st.lists(st.floats(0.0, 5.0), min_size=n, max_size=n))
    edges = []
    for _ in range(n):
        targets = draw(st.lists(st.integers(0, n - 1), max_size=4, unique=True))
        weights = [draw(st.floats(0.01, 1.0)) for _ in targets]
        keep = draw(st.floats(0.05, 0.95))  # the rest leaves the network
        total = sum(weights) or 1.0
        edges.append({j: keep * w / total for j, w in zip(targets, weights, strict=True)})
    return gamma, edges


@settings(max_examples=200, deadline=None)
@given(net=networks())
def test_sparse_traffic_equations_agree_with_the_dense_solve_on_random_networks(
    net: tuple[list[float], list[dict[int, float]]],
) -> None:
    gamma, edges = net
    n = len(gamma)
    p = np.zeros((n, n))
    for i, row in enumerate(edges):
        for j, share in row.items():
            p[i, j] = share
    expected = np.linalg.solve(np.eye(n) - p.T, np.array(gamma))
    got = routing.solve_traffic(gamma, edges)
    assert got.trapped == []
    assert got.rates == pytest.approx(expected.tolist(), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("dense_limit", [2000, 0])
def test_the_fallbacks_agree_with_elimination(monkeypatch: pytest.MonkeyPatch, dense_limit: int) -> None:
    rng = np.random.default_rng(5)
    n = 60
    edges = []
    for _ in range(n):  # every node linked to many others: elimination would fill in
        targets = rng.choice(n, size=20, replace=False)
        w = rng.random(20)
        edges.append({int(j): float(x) for j, x in zip(targets, 0.9 * w / w.sum(), strict=True)})
    gamma = rng.random(n).tolist()
    exact = routing.solve_traffic(gamma, edges)
    monkeypatch.setattr(routing, "FILL_BUDGET", -(10**9))
    iterated = routing.solve_traffic(gamma, edges)
    assert iterated.converged
    assert iterated.rates == pytest.approx(exact.rates, rel=1e-10)


def test_a_loop_without_exit_is_infinite_where_flow_enters_and_idle_elsewhere() -> None:
    # 0 → 1 ⇄ 2 (closed), 3 ⇄ 4 (closed, nothing enters), 5 → leaves
    edges = [{1: 1.0}, {2: 1.0}, {1: 1.0}, {4: 1.0}, {3: 1.0}, {}]
    traffic = routing.solve_traffic([1.0, 0.0, 0.0, 0.0, 0.0, 2.0], edges)
    assert traffic.rates == [1.0, math.inf, math.inf, 0.0, 0.0, 2.0]
    assert traffic.trapped == [1, 2, 3, 4]


def test_a_hundred_thousand_node_ring_is_solved_by_elimination(monkeypatch: pytest.MonkeyPatch) -> None:
    # a ring with one exit: the rate everywhere is 1 / exit probability
    n = 100_000
    edges = [{(i + 1) % n: 1.0} for i in range(n)]
    edges[n - 1] = {0: 0.75}
    monkeypatch.setattr(routing, "_iterate", None)  # elimination alone must do it
    traffic = routing.solve_traffic([1.0] + [0.0] * (n - 1), edges)
    assert traffic.rates[0] == pytest.approx(4.0, rel=1e-9)
    assert traffic.rates[n // 2] == pytest.approx(4.0, rel=1e-9)


def test_a_router_splits_evenly_and_probabilities_split_a_station() -> None:
    model = Model(
        nodes=[
            Node("in", "source", params={"rate": 6.0}),
            Node("lb", "router", params={"policy": "round_robin"}),
            server("a"),
            server("b"),
            server("c"),
            Node("out", "sink"),
        ],
        links=[
            Link("in", "lb"),
            Link("lb", "a", probability=0.9),  # a router ignores probabilities
            Link("lb", "b"),
            Link("lb", "c"),
            Link("a", "out", probability=0.25),
            Link("a", "b", probability=0.75),
            Link("b", "out"),
            Link("c", "out"),
        ],
    )
    assert arrival_rates(model) == pytest.approx({"in": 6.0, "lb": 6.0, "a": 2.0, "b": 3.5, "c": 2.0, "out": 6.0})
    assert arrival_rates(model) == pytest.approx(dense_rates(model))


# ------------------------------------------------------------------ statistics
def test_confidence_intervals_of_huge_values_do_not_overflow() -> None:
    from engine.stats import mean_ci95

    mean, half = mean_ci95([1e308, -1e308, 1.7e308])
    assert mean == pytest.approx(1.7e308 / 3) and half == math.inf
    mean, half = mean_ci95([1.5e308, 1.6e308, 1.7e308])
    assert mean == pytest.approx(1.6e308) and half == pytest.approx(4.303 * 1e307 / math.sqrt(3), rel=1e-6)
    assert mean_ci95([1.0, 2.0, 4.0]) == pytest.approx((7 / 3, 4.303 * math.sqrt((7 / 3) / 3)), rel=1e-6)


# ------------------------------------------------------------------ analysis at scale
def server(node_id: str, **params: object) -> Node:
    return Node(node_id, "server", params={"service_time": {"dist": "exponential", "mean": 0.5}, **params})


def chain(n: int) -> Model:
    nodes = [Node("in", "source", params={"rate": 1.0})] + [server(f"s{i}") for i in range(n)] + [Node("out", "sink")]
    ids = [node.id for node in nodes]
    return Model(nodes=nodes, links=[Link(a, b) for a, b in zip(ids, ids[1:], strict=False)])


def test_a_ten_thousand_station_chain_is_analysed() -> None:
    results = analyze_model(chain(10_000))
    assert isinstance(results["s9999"], StationResult)
    assert results["s9999"].mean_response == pytest.approx(1.0)
    assert results["out"] == {"mean_latency": pytest.approx(10_000.0), "throughput": 1.0}


def test_a_thousand_station_cycle_is_analysed() -> None:
    n = 1000
    nodes = [Node("in", "source", params={"rate": 1.0})] + [server(f"c{i}") for i in range(n)] + [Node("out", "sink")]
    nodes[1:-1] = [
        Node(node.id, "server", params={"service_time": {"dist": "exponential", "mean": 0.01}}) for node in nodes[1:-1]
    ]
    links = [Link("in", "c0")] + [Link(f"c{i}", f"c{i + 1}") for i in range(n - 1)]
    links += [Link(f"c{n - 1}", "c0", probability=0.5), Link(f"c{n - 1}", "out", probability=0.5)]
    results = analyze_model(Model(nodes=nodes, links=links))
    for i in (0, n // 2, n - 1):
        r = results[f"c{i}"]
        assert isinstance(r, StationResult)
        assert r.throughput == pytest.approx(2.0)  # every request goes round twice on average
    assert results["out"]["mean_latency"] == pytest.approx(2 * n * 0.01 / (1 - 0.02))  # type: ignore[index]


def test_the_cycle_search_needs_no_recursion() -> None:
    n = 100_000
    ring = Model(
        nodes=[Node(f"n{i}", "server") for i in range(n)] + [Node("tail", "sink")],
        links=[Link(f"n{i}", f"n{(i + 1) % n}") for i in range(n)] + [Link("n0", "tail")],
    )
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # the old recursive search needed one frame per node
    try:
        assert _cycle_nodes(ring) == {f"n{i}" for i in range(n)}
        assert _cycle_nodes(chain(n)) == set()
    finally:
        sys.setrecursionlimit(limit)


def test_a_billion_servers_and_a_billion_places_are_analysed() -> None:
    model = chain(2)
    model.nodes[1] = server("s0", concurrency=10**9)
    model.nodes[2] = server("s1", concurrency={"kind": "fixed", "c": 10**9}, queue_capacity=10**9)
    big = Model(nodes=model.nodes, links=model.links)
    results = analyze_model(big)
    for node_id in ("s0", "s1"):
        r = results[node_id]
        assert isinstance(r, StationResult), r
        assert r.mean_response == pytest.approx(0.5) and r.mean_wait == 0.0


def test_arrivals_through_a_non_poisson_station_are_explained_down_a_long_chain() -> None:
    model = chain(3000)
    model.nodes[1] = server("s0", service_time={"dist": "constant", "value": 0.5})
    results = analyze_model(model)
    assert isinstance(results["s0"], StationResult)  # M/D/1
    assert results["s2999"] == "arrivals come from 's0', whose departures are not Poisson"


HUGE_COUNTS = st.sampled_from([1, 2, 64, 65, 10**6, 10**9])
HUGE_TIMES = st.sampled_from([1e-9, 1e-3, 1.0, 1e6, 1e9, 1e300])


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from([p.name for p in EXAMPLES]),
    concurrency=HUGE_COUNTS,
    capacity=st.none() | HUGE_COUNTS,
    mean=HUGE_TIMES,
    rate=st.sampled_from([1e-6, 0.5, 1e9, 1e300]),
)
def test_examples_with_extreme_parameters_are_analysed_without_raising(
    name: str, concurrency: int, capacity: int | None, mean: float, rate: float
) -> None:
    model = load_model(ROOT / "resources" / "examples" / name)
    for node in model.nodes:
        if node.kind == "server":
            node.params["concurrency"] = concurrency
            node.params["queue_capacity"] = capacity
            node.params["service_time"] = {"dist": "exponential", "mean": mean}
        elif node.kind == "source" and node.params.get("rate") is not None:
            node.params["rate"] = rate
    for node_id, value in analyze_model(model).items():
        assert isinstance(value, (StationResult, dict, str)), node_id
        if isinstance(value, StationResult):
            assert all(finite_or_inf(v) for v in value.as_dict().values()), (node_id, value)


def test_theory_and_its_formulas_import_no_cycle() -> None:
    code = (
        "import sys, engine.analysis, engine.queueing, engine.routing, engine.erlang\n"
        "assert 'engine.theory' not in sys.modules, sorted(m for m in sys.modules if m.startswith('engine'))\n"
        "import engine.theory\n"
        "assert engine.theory.mmc is engine.queueing.mmc\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_erlang_c_of_a_denormal_load_is_zero_not_a_math_error() -> None:
    # a / c underflows to 0 for a denormal offered load (found by Hypothesis above).
    assert theory.erlang_c(146, 3.6e-322) == 0.0
    assert theory.mmc(9.20153098046688e-15, 2.533891978671461e307, 146).p_wait == 0.0
