"""Exact MVA, bounds and N* for closed networks (engine.closed), against textbook values
and against closed forms computed independently here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import theory
from engine.closed import MAX_MULTISERVER, ClosedStation, closed_bounds, mva, mva_curve, saturation_population

# R. Jain, *The Art of Computer Systems Performance Analysis* (Wiley, 1991), Example 34.2
# and Table 34.1: a timesharing system, CPU S = 0.125 s with 16 visits, disk A S = 0.3 s
# with 10 visits, disk B S = 0.2 s with 5 visits, think time Z = 4 s.
JAIN = [
    ClosedStation("cpu", 0.125, 16),
    ClosedStation("disk_a", 0.3, 10),
    ClosedStation("disk_b", 0.2, 5),
]
#: N: (R_cpu, R_A, R_B per visit, system R, X, Q_cpu, Q_A, Q_B), Table 34.1 (3 decimals).
JAIN_TABLE = {
    1: (0.125, 0.300, 0.200, 6.000, 0.100, 0.200, 0.300, 0.100),
    2: (0.150, 0.390, 0.220, 7.400, 0.175, 0.421, 0.684, 0.193),
    3: (0.178, 0.505, 0.239, 9.088, 0.229, 0.651, 1.158, 0.273),
    4: (0.206, 0.647, 0.255, 11.051, 0.266, 0.878, 1.721, 0.338),
    5: (0.235, 0.816, 0.268, 13.256, 0.290, 1.088, 2.365, 0.388),
    17: (0.370, 3.962, 0.300, 47.045, 0.333, 1.974, 13.195, 0.499),
    18: (0.372, 4.259, 0.300, 50.032, 0.333, 1.981, 14.187, 0.499),
    19: (0.373, 4.556, 0.300, 53.022, 0.333, 1.987, 15.181, 0.500),
    20: (0.373, 4.854, 0.300, 56.016, 0.333, 1.991, 16.177, 0.500),
}


@pytest.mark.parametrize("n", sorted(JAIN_TABLE))
def test_mva_reproduces_jain_table_34_1(n):
    r_cpu, r_a, r_b, r, x, q_cpu, q_a, q_b = JAIN_TABLE[n]
    res = mva(JAIN, n, 4.0)
    assert res.response_time == pytest.approx(r, abs=6e-4)
    assert res.throughput == pytest.approx(x, abs=6e-4)
    got = res.stations
    for name, rv, qv in (("cpu", r_cpu, q_cpu), ("disk_a", r_a, q_a), ("disk_b", r_b, q_b)):
        assert got[name].mean_response == pytest.approx(rv, abs=6e-4)
        assert got[name].mean_in_system == pytest.approx(qv, abs=6e-4)


def test_mva_reproduces_jain_example_35_5():
    # Jain, Example 35.5 (the convolution algorithm on the same system, demands 0.78, 2.34
    # and 1.56, Z = 4.68, N = 3): X = 0.264, R = 6.694, U = 0.206, 0.618, 0.412.
    net = [ClosedStation("cpu", 0.78), ClosedStation("a", 2.34), ClosedStation("b", 1.56)]
    res = mva(net, 3, 4.68)
    assert res.throughput == pytest.approx(0.264, abs=6e-4)
    assert res.response_time == pytest.approx(6.694, abs=6e-4)
    # The book multiplies the rounded X = 0.264 by D (0.264 × 2.34 = 0.618); exact X is
    # 0.26376, so U_A = 0.6172: the tolerance is that rounding (0.0006·D ≤ 0.0015).
    for name, u in (("cpu", 0.206), ("a", 0.618), ("b", 0.412)):
        assert res.stations[name].utilization == pytest.approx(u, abs=1.5e-3)


def test_asymptotic_bounds_and_saturation_of_jain():
    # D = 2 + 3 + 1 = 6 s, D_max = 3 s (disk A), Z = 4: N* = 10/3, X <= min(N/10, 1/3).
    assert saturation_population(JAIN, 4.0) == pytest.approx(10 / 3)
    b = closed_bounds(JAIN, 20, 4.0)
    assert b.throughput_upper == pytest.approx(1 / 3)
    assert b.response_lower == pytest.approx(56.0)
    assert closed_bounds(JAIN, 2, 4.0).throughput_upper == pytest.approx(0.2)
    assert closed_bounds(JAIN, 2, 4.0).response_lower == pytest.approx(6.0)


def _repairman_throughput(n: int, service: float, think: float, c: int) -> float:
    """X of N clients thinking Z in front of one c-server exponential station, from the
    finite-source (machine repairman, M/M/c//N) distribution p(k) ∝ Z^(N−k)/(N−k)! ·
    S^k / Π_{j≤k} min(j, c), summed in log space: X = G(N−1)/G(N)."""

    def log_g(m: int) -> float:
        k = np.arange(m + 1)
        log_beta = np.concatenate([[0.0], np.cumsum(np.log(np.minimum(np.arange(1, m + 1), c)))])
        terms = (
            (m - k) * math.log(think) - np.array([math.lgamma(m - i + 1) for i in k]) + k * math.log(service) - log_beta
        )
        top = terms.max()
        return float(top + math.log(np.exp(terms - top).sum()))

    return math.exp(log_g(n - 1) - log_g(n))


@pytest.mark.parametrize(
    "n,c,z",
    [(5, 2, 10.0), (30, 4, 10.0), (200, 8, 10.0), (10_000, 100, 100.0), (10_000, 50, 200.0), (10_000, 9000, 1.0)],
)
def test_multiserver_matches_the_repairman_model_up_to_ten_thousand_clients(n, c, z):
    # (10^4, 9000, 1) is the case where the textbook recursion, closing p(0|n) by
    # subtraction or letting it underflow, is off by 78 %.
    x = mva([ClosedStation("s", 1.0, 1, c)], n, z).throughput
    assert x == pytest.approx(_repairman_throughput(n, 1.0, z, c), rel=1e-9)


def test_a_station_with_as_many_servers_as_clients_is_a_delay():
    a = mva([ClosedStation("s", 2.0, 1, 10), ClosedStation("d", 1.0)], 10, 3.0)
    b = mva([ClosedStation("s", 2.0, 1, None), ClosedStation("d", 1.0)], 10, 3.0)
    assert a.throughput == pytest.approx(b.throughput, rel=1e-12)
    assert a.stations["s"].mean_wait == 0.0
    assert a.stations["s"].utilization == pytest.approx(a.throughput * 2.0 / 10)


def test_two_multiserver_stations_in_series_match_brute_force():
    # Enumerate every state (n1, n2, thinking) of N = 12 clients directly.
    n, z, s1, c1, s2, c2 = 12, 2.0, 0.5, 3, 0.3, 2

    def f(k: int, s: float, c: int) -> float:
        return s**k / math.prod(min(j, c) for j in range(1, k + 1))

    def g(m: int) -> float:
        return sum(
            z ** (m - a - b) / math.factorial(m - a - b) * f(a, s1, c1) * f(b, s2, c2)
            for a in range(m + 1)
            for b in range(m + 1 - a)
        )

    res = mva([ClosedStation("a", s1, 1, c1), ClosedStation("b", s2, 1, c2)], n, z)
    assert res.throughput == pytest.approx(g(n - 1) / g(n), rel=1e-12)
    q1 = sum(
        a * z ** (n - a - b) / math.factorial(n - a - b) * f(a, s1, c1) * f(b, s2, c2)
        for a in range(n + 1)
        for b in range(n + 1 - a)
    ) / g(n)
    assert res.stations["a"].mean_in_system == pytest.approx(q1, rel=1e-10)


def test_ten_thousand_clients_stay_finite_and_consistent():
    net = [
        ClosedStation("web", 0.05, 1, 4),
        ClosedStation("db", 0.02, 2),
        ClosedStation("pool", 0.3, 1, 16),
        ClosedStation("wire", 0.01, 1, None),
    ]
    res = mva(net, 10_000, 1.0)
    # D/c: web 0.0125, db 0.04 (two visits of 0.02 s), pool 0.01875: the db is the
    # bottleneck, so far past N* the throughput is 1/0.04 = 25/s.
    assert res.throughput == pytest.approx(25.0, rel=1e-9)
    total = sum(s.mean_in_system for s in res.stations.values()) + res.mean_thinking
    assert total == pytest.approx(10_000, rel=1e-9)
    assert res.response_time == pytest.approx(theory.interactive_response_time(10_000, res.throughput, 1.0), rel=1e-9)
    assert all(math.isfinite(v) for s in res.stations.values() for v in s.as_dict().values())


def test_curve_is_monotone_and_ends_at_the_result():
    curve = mva_curve(JAIN, 50, 4.0)
    assert [n for n, _, _ in curve] == list(range(1, 51))
    xs = [x for _, x, _ in curve]
    rs = [r for _, _, r in curve]
    assert all(b >= a for a, b in zip(xs, xs[1:], strict=False))
    assert all(b >= a for a, b in zip(rs, rs[1:], strict=False))
    last = mva(JAIN, 50, 4.0)
    assert curve[-1][1:] == (last.throughput, last.response_time)


def test_little_and_the_response_time_law_hold_at_every_station():
    res = mva(JAIN, 7, 4.0)
    for name, s in res.stations.items():
        assert s.mean_in_system == pytest.approx(s.throughput * s.mean_response), name
        assert s.mean_queue_length == pytest.approx(s.throughput * s.mean_wait), name
    assert res.response_time == pytest.approx(7 / res.throughput - 4.0)


@settings(max_examples=60, deadline=None)
@given(
    demands=st.lists(st.floats(0.01, 5.0), min_size=1, max_size=5),
    delay=st.floats(0.0, 3.0),
    z=st.floats(0.0, 20.0),
    n=st.integers(1, 60),
)
def test_exact_mva_lies_within_asymptotic_and_balanced_bounds(demands, delay, z, n):
    net = [ClosedStation(f"q{i}", d) for i, d in enumerate(demands)] + [ClosedStation("wire", delay, 1, None)]
    res = mva(net, n, z)
    b = closed_bounds(net, n, z)
    tol = 1e-9
    assert res.throughput <= b.throughput_upper * (1 + tol)
    assert res.response_time >= b.response_lower * (1 - tol)
    assert b.balanced_throughput is not None and b.balanced_response is not None
    lo, hi = b.balanced_throughput
    assert lo * (1 - tol) <= res.throughput <= hi * (1 + tol)
    lo, hi = b.balanced_response
    assert lo * (1 - tol) <= res.response_time <= hi * (1 + tol)


def test_balanced_bounds_are_not_claimed_for_multiserver_networks():
    b = closed_bounds([ClosedStation("s", 1.0, 1, 4)], 10, 1.0)
    assert b.balanced_throughput is None and b.balanced_response is None
    assert b.throughput_upper == pytest.approx(4.0)  # 1 / (D/c)


def test_population_zero_and_bad_parameters():
    assert mva(JAIN, 0, 4.0).throughput == 0.0
    with pytest.raises(ValueError):
        mva(JAIN, -1, 4.0)
    with pytest.raises(ValueError):
        mva(JAIN, 3, -1.0)
    with pytest.raises(ValueError):
        mva([ClosedStation("s", 0.0)], 3, 1.0)  # a queueing station needs a service time
    with pytest.raises(ValueError):
        mva([ClosedStation("d", 0.0, 1, None)], 3, 0.0)  # no time anywhere: X infinite
    with pytest.raises(ValueError):
        mva([ClosedStation("s", 1.0), ClosedStation("s", 2.0)], 3)
    with pytest.raises(TypeError):
        mva(JAIN, 2.5, 4.0)  # type: ignore[arg-type]
    many = [ClosedStation(f"s{i}", 1.0, 1, 2) for i in range(MAX_MULTISERVER + 1)]
    with pytest.raises(ValueError, match="multi-server"):
        mva(many, 10, 1.0)


def test_interactive_response_time_law():
    assert theory.interactive_response_time(10, 2.0, 3.0) == pytest.approx(2.0)
    assert math.isnan(theory.interactive_response_time(10, 0.0, 3.0))
