"""Closed forms of queueing theory: the stations and networks :mod:`engine.theory` publishes.

Rates are per second, times are seconds, counts are requests. Every station function returns
a :class:`StationResult` whose fields carry the names of the simulated metrics
(a station's ``window_metrics``), so the app can put theory and simulation side by side.

A station with an unlimited queue whose offered load per server is 1 or more has no steady
state: its function raises :class:`UnstableError` (a ValueError). Bad parameters (a negative
rate, fewer than one server, a capacity below the server count, …) raise ValueError; values
that are not numbers at all raise TypeError.

Nothing here can overflow: Erlang B/C and M/M/c/K are computed in log space by
:mod:`engine.erlang` (any server count, any queue length, in milliseconds), and a result
too large for a float is ``inf``, never an OverflowError.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from engine import erlang
from engine.erlang import as_float
from engine.routing import solve_traffic

__all__ = [
    "UnstableError",
    "StationResult",
    "NetworkResult",
    "mm1",
    "mmc",
    "mmck",
    "erlang_b",
    "erlang_c",
    "md1",
    "mg1",
    "mminf",
    "priority_nonpreemptive_mg1",
    "mm1_response_percentile",
    "jackson",
]


class UnstableError(ValueError):
    """A station's offered load per server is >= 1, so its queue grows without bound.

    ``station`` is the station's name (None if it has none) and ``rho`` its offered load
    per server.
    """

    def __init__(self, message: str, station: str | None = None, rho: float = math.nan) -> None:
        super().__init__(message)
        self.station = station
        self.rho = rho


@dataclass(frozen=True)
class StationResult:
    """Steady-state metrics of one station, named like the simulated ones.

    - ``utilization``: busy servers / servers (per-server carried load, 0..1)
    - ``mean_queue_length``: time-average number waiting, not in service (Lq)
    - ``mean_in_system``: time-average number waiting or in service (L)
    - ``mean_wait``: mean time from arrival to start of service, seconds (Wq)
    - ``mean_response``: mean time from arrival to departure, seconds (W)
    - ``throughput``: completions per second (the admitted arrival rate)
    - ``blocking_probability``: fraction of arrivals rejected (0 for unlimited queues)
    - ``p_wait``: probability that an admitted arrival has to wait (None when unknown)

    Little's law holds: ``mean_in_system == throughput * mean_response`` and
    ``mean_queue_length == throughput * mean_wait``.
    """

    utilization: float
    mean_queue_length: float
    mean_in_system: float
    mean_wait: float
    mean_response: float
    throughput: float
    blocking_probability: float = 0.0
    p_wait: float | None = None

    def as_dict(self) -> dict[str, float]:
        """The fields as a plain dict (``p_wait`` left out when it is None)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class NetworkResult:
    """Steady state of an open Jackson network.

    ``stations`` maps each station's name to its :class:`StationResult`; ``arrival_rates``
    to its total arrival rate per second (external plus routed back); ``visits`` to the mean
    number of visits a request pays it. ``throughput`` is the external arrival rate per
    second (all of it leaves), ``mean_in_system`` the mean number of requests in the
    network and ``mean_response`` the mean time in seconds from entering to leaving it
    (0.0 when nothing arrives).
    """

    stations: dict[str, StationResult]
    arrival_rates: dict[str, float]
    visits: dict[str, float]
    throughput: float
    mean_in_system: float
    mean_response: float

    def as_dict(self) -> dict[str, Any]:
        """Totals, plus ``stations`` (name → ``StationResult.as_dict()``), ``arrival_rates`` and ``visits``."""
        return {
            "throughput": self.throughput,
            "mean_in_system": self.mean_in_system,
            "mean_response": self.mean_response,
            "stations": {name: r.as_dict() for name, r in self.stations.items()},
            "arrival_rates": dict(self.arrival_rates),
            "visits": dict(self.visits),
        }


# ------------------------------------------------------------------- validation
def _number(value: Any, what: str, *, positive: bool = False) -> float:
    """A finite float >= 0 (> 0 if ``positive``); TypeError/ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a number, got {value!r}")
    x = as_float(value)
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        raise ValueError(f"{what} must be a finite number {'>' if positive else '>='} 0, got {value!r}")
    return x


def _count(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value!r}")
    return int(value)


def _count_text(n: int) -> str:
    """An int for a message: in full up to 10^15, else its order of magnitude (Python
    refuses to print ints of more than 4300 digits)."""
    return str(n) if n < 10**15 else f"~10^{int(n.bit_length() * math.log10(2))}"


def _check_stable(rho: float, kind: str, name: str | None) -> None:
    if rho >= 1.0:
        who = f"station {name!r}" if name is not None else f"{kind} station"
        raise UnstableError(f"{who} has offered load rho = {rho:.3g} >= 1: no steady state", name, rho)


# ------------------------------------------------------------ Erlang functions
def erlang_b(c: int, offered_load: float) -> float:
    """Erlang B: the probability that an arrival finds all ``c`` servers busy in M/M/c/c.

    ``offered_load`` is λ/μ in Erlangs. Computed in log space (:mod:`engine.erlang`), so
    any ``c`` (10^9 takes milliseconds) and any load give a result in [0, 1]. Raises
    ValueError if c < 1 or the load is negative, TypeError for non-numbers.
    """
    servers = _count(c, "c", 1)
    a = _number(offered_load, "offered_load")
    if servers <= _RECURSION_SERVERS and a < 1e150:
        return _erlang_b_recursion(servers, a)
    return math.exp(erlang.log_erlang_b(servers, a))


#: Up to this many servers (and a load that cannot overflow a product) Erlang B uses the
#: classic recursion, exact and quickest for the small server counts of most models.
_RECURSION_SERVERS = 64


def _erlang_b_recursion(servers: int, a: float) -> float:
    """B(k) = A·B(k−1) / (k + A·B(k−1)), B(0) = 1."""
    b = 1.0
    for k in range(1, servers + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, offered_load: float) -> float:
    """Erlang C: the probability that an arrival has to wait in M/M/c (``offered_load`` = λ/μ).

    Computed in log space for any ``c``. Raises UnstableError if offered_load >= c (no
    steady state), ValueError if c < 1 or the load is negative, TypeError for non-numbers.
    """
    servers = _count(c, "c", 1)
    a = _number(offered_load, "offered_load")
    size = as_float(servers)
    if a >= size:
        raise UnstableError(
            f"offered load A = {a:.3g} Erlangs >= c = {_count_text(servers)} servers "
            f"(rho = {a / size:.3g} >= 1): no steady state",
            None,
            a / size,
        )
    if servers <= _RECURSION_SERVERS:
        b = _erlang_b_recursion(servers, a)
        return b / ((size - a) / size + (a / size) * b)  # 1 − ρ(1 − B), written without cancelling
    return math.exp(erlang.log_erlang_c(servers, a))


# ---------------------------------------------------------- Markovian stations
def mm1(lam: float, mu: float, *, name: str | None = None) -> StationResult:
    """M/M/1: Poisson arrivals at ``lam`` per second, one server, exponential service at ``mu`` per second.

    ``name`` only labels error messages. Raises UnstableError if lam/mu >= 1, ValueError for
    a negative ``lam`` or a ``mu`` that is not > 0.
    """
    lam = _number(lam, "lam")
    mu = _number(mu, "mu", positive=True)
    rho = lam / mu
    _check_stable(rho, "M/M/1", name)
    w = 1.0 / (mu - lam)
    return StationResult(
        utilization=rho,
        mean_queue_length=rho * rho / (1.0 - rho),
        mean_in_system=rho / (1.0 - rho),
        mean_wait=rho * w,
        mean_response=w,
        throughput=lam,
        p_wait=rho,
    )


def mmc(lam: float, mu: float, c: int, *, name: str | None = None) -> StationResult:
    """M/M/c (Erlang C): ``c`` servers, each serving at ``mu`` per second, unlimited FIFO queue.

    Raises UnstableError if lam/(c·mu) >= 1, ValueError for a negative ``lam``, a ``mu``
    that is not > 0, or c < 1.
    """
    lam = _number(lam, "lam")
    mu = _number(mu, "mu", positive=True)
    servers = _count(c, "c", 1)
    size = as_float(servers)
    a = lam / mu
    rho = a / size
    if size == math.inf:  # more servers than a float can count: nobody ever waits
        return mminf(lam, mu)
    _check_stable(rho, f"M/M/{_count_text(servers)}", name)
    p_wait = erlang_c(servers, a)
    wq = p_wait / (size * mu - lam) if p_wait > 0 else 0.0
    return StationResult(
        utilization=rho,
        mean_queue_length=lam * wq,
        mean_in_system=lam * wq + a,
        mean_wait=wq,
        mean_response=wq + 1.0 / mu,
        throughput=lam,
        p_wait=p_wait,
    )


def mmck(lam: float, mu: float, c: int, K: int) -> StationResult:
    """M/M/c/K: ``c`` servers at ``mu`` per second and room for ``K`` requests in all.

    ``K`` counts the ``c`` in service plus ``K − c`` waiting (a Server with
    ``queue_capacity = K − c``); arrivals that find K present are rejected, so any load is
    stable. Times are those of admitted requests; ``throughput`` is lam·(1 − blocking).
    K == c is the Erlang loss system. Raises ValueError for a negative ``lam``, a ``mu``
    that is not > 0, c < 1 or K < c.
    """
    lam = _number(lam, "lam")
    mu = _number(mu, "mu", positive=True)
    servers = _count(c, "c", 1)
    cap = _count(K, "K", 1)
    if cap < servers:
        raise ValueError(
            f"K (room in the station, in service + waiting) must be >= c = {_count_text(servers)}, "
            f"got {_count_text(cap)}"
        )
    a = lam / mu
    if a == 0.0:
        return StationResult(0.0, 0.0, 0.0, 0.0, 1.0 / mu, 0.0, 0.0, 0.0)
    size = as_float(servers)
    room = cap - servers
    if size == math.inf:  # more servers than a float can count: nobody ever waits
        return mminf(lam, mu)
    if a == math.inf:  # λ/μ overflows: every server busy and the queue always full
        lq, busy = as_float(room), size
        full = size * mu
        return StationResult(1.0, lq, lq + busy, lq / full, (lq + busy) / full, full, 1.0, 1.0 if room else 0.0)
    blocking, admitted_share, p_wait, lq = erlang.loss_queue(servers, a, room)
    admitted = lam * admitted_share
    busy = a * admitted_share  # mean busy servers (Little's law on the servers)
    big_l = lq + busy
    if admitted > 0:
        wait, response = lq / admitted, big_l / admitted
    else:  # the admitted rate underflows: nobody waits
        wait, response = 0.0, 1.0 / mu
    return StationResult(
        utilization=min(1.0, busy / size),  # rounding must not push it past 1
        mean_queue_length=lq,
        mean_in_system=big_l,
        mean_wait=wait,
        mean_response=response,
        throughput=admitted,
        blocking_probability=blocking,
        p_wait=p_wait,
    )


def mminf(lam: float, mu: float) -> StationResult:
    """M/M/∞ (a delay station): every request is served at once, for a mean 1/``mu`` seconds.

    Nobody waits; the mean number in service is lam/mu. ``utilization`` is 0 (each of the
    infinitely many servers is almost surely idle). The mean results hold for any service
    distribution with that mean. Raises ValueError for a negative ``lam`` or a ``mu`` that
    is not > 0.
    """
    lam = _number(lam, "lam")
    mu = _number(mu, "mu", positive=True)
    return StationResult(0.0, 0.0, lam / mu, 0.0, 1.0 / mu, lam, 0.0, 0.0)


# -------------------------------------------------------------- M/G/1 stations
def mg1(lam: float, mean_service: float, variance_service: float, *, name: str | None = None) -> StationResult:
    """M/G/1 (Pollaczek–Khinchine): one FIFO server, service with the given mean (s) and variance (s²).

    Wq = lam·E[S²] / (2(1 − rho)) with E[S²] = variance + mean². Raises UnstableError if
    rho = lam·mean >= 1, ValueError for a negative rate or variance or a mean that is not > 0.
    """
    lam = _number(lam, "lam")
    m = _number(mean_service, "mean_service", positive=True)
    var = _number(variance_service, "variance_service")
    rho = lam * m
    _check_stable(rho, "M/G/1", name)
    wq = lam * (var + m * m) / (2.0 * (1.0 - rho))
    return StationResult(
        utilization=rho,
        mean_queue_length=lam * wq,
        mean_in_system=lam * (wq + m),
        mean_wait=wq,
        mean_response=wq + m,
        throughput=lam,
        p_wait=rho,
    )


def md1(lam: float, service_time: float, *, name: str | None = None) -> StationResult:
    """M/D/1: one FIFO server with a constant ``service_time`` (seconds): Lq = rho² / (2(1 − rho)).

    Raises UnstableError if lam·service_time >= 1, ValueError for a negative rate or a
    service time that is not > 0.
    """
    return mg1(lam, service_time, 0.0, name=name)


def priority_nonpreemptive_mg1(
    lams: Sequence[float],
    means: Sequence[float],
    second_moments: Sequence[float],
    *,
    name: str | None = None,
) -> tuple[StationResult, ...]:
    """Non-preemptive priority M/G/1 (Cobham): one result per class, class 0 served first.

    Class k arrives at ``lams[k]`` per second with service mean ``means[k]`` (s) and second
    moment ``second_moments[k]`` (s²). Its mean wait is W0 / ((1 − σ_{k−1})(1 − σ_k)), where
    W0 = Σ lam_i·E[S_i²] / 2 is the mean residual work found in service and σ_k the load of
    classes 0..k. Each result's ``utilization`` is that class's share of the server and
    ``p_wait`` the probability that the server is busy. Raises UnstableError if the total
    load is >= 1; ValueError if the sequences are empty or differ in length, a rate is
    negative, a mean is not > 0, or a second moment is below mean².
    """
    n = len(lams)
    if n == 0 or len(means) != n or len(second_moments) != n:
        raise ValueError(
            f"lams, means and second_moments must be non-empty and equally long, "
            f"got {len(lams)}, {len(means)} and {len(second_moments)}"
        )
    rates = [_number(x, f"lams[{k}]") for k, x in enumerate(lams)]
    ms = [_number(x, f"means[{k}]", positive=True) for k, x in enumerate(means)]
    s2 = [_number(x, f"second_moments[{k}]") for k, x in enumerate(second_moments)]
    for k in range(n):
        if s2[k] < ms[k] ** 2 * (1.0 - 1e-12):
            raise ValueError(f"second_moments[{k}] = {s2[k]:g} is below means[{k}]² = {ms[k] ** 2:g}: impossible")
    loads = [r * m for r, m in zip(rates, ms, strict=True)]
    total = sum(loads)
    _check_stable(total, "priority M/G/1", name)
    w0 = sum(r * x for r, x in zip(rates, s2, strict=True)) / 2.0
    results = []
    sigma = 0.0
    for k in range(n):
        before, sigma = sigma, sigma + loads[k]
        wq = w0 / ((1.0 - before) * (1.0 - sigma))
        results.append(
            StationResult(
                utilization=loads[k],
                mean_queue_length=rates[k] * wq,
                mean_in_system=rates[k] * (wq + ms[k]),
                mean_wait=wq,
                mean_response=wq + ms[k],
                throughput=rates[k],
                p_wait=total,
            )
        )
    return tuple(results)


def mm1_response_percentile(lam: float, mu: float, p: float, *, name: str | None = None) -> float:
    """The p-quantile (0 <= p < 1) of the response time of a FIFO M/M/1, in seconds.

    The response time is exponential with rate mu − lam, so this is −ln(1 − p) / (mu − lam).
    Raises UnstableError if lam/mu >= 1; ValueError if p is outside [0, 1) (99 for 0.99 is
    a common mistake), for a negative ``lam`` or a ``mu`` that is not > 0.
    """
    lam = _number(lam, "lam")
    mu = _number(mu, "mu", positive=True)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0.0 <= p < 1.0:
        raise ValueError(f"p must be in [0, 1) (e.g. 0.99 for p99), got {p!r}")
    _check_stable(lam / mu, "M/M/1", name)
    return -math.log1p(-float(p)) / (mu - lam)


# -------------------------------------------------------------- Jackson networks
def jackson(
    external_rates: Sequence[float],
    routing: Sequence[Sequence[float]],
    mus: Sequence[float],
    servers: Sequence[int | float] | None = None,
    *,
    names: Sequence[str] | None = None,
) -> NetworkResult:
    """An open Jackson network: each station an M/M/c (or M/M/∞ when its server count is ``math.inf``).

    ``external_rates[i]`` is the Poisson rate per second arriving from outside at station i;
    ``routing[i][j]`` the probability that a request leaving i goes to j (the rest of row i
    leaves the network); ``mus[i]`` each server's rate per second at i; ``servers[i]`` the
    number of servers (default 1). The traffic equations λ = γ + Pᵀλ are solved on the
    sparse routing (:func:`engine.routing.solve_traffic`) and each station is then solved alone (Jackson's theorem). ``names`` label the stations
    (default "0", "1", …).

    Raises UnstableError naming the first station whose load per server is >= 1; ValueError
    for mismatched lengths, negative rates, routing probabilities outside [0, 1] or rows
    summing to more than 1, routing from which requests can never leave, non-positive
    service rates, fewer than one server, or duplicate names.
    """
    n = len(external_rates)
    if n == 0:
        raise ValueError("a network needs at least one station")
    if len(mus) != n:
        raise ValueError(f"mus has {len(mus)} entries for {n} stations")
    counts: Sequence[int | float] = [1] * n if servers is None else servers
    if len(counts) != n:
        raise ValueError(f"servers has {len(counts)} entries for {n} stations")
    labels = [str(i) for i in range(n)] if names is None else [str(x) for x in names]
    if len(labels) != n:
        raise ValueError(f"names has {len(labels)} entries for {n} stations")
    if len(set(labels)) != n:
        raise ValueError(f"station names must be unique, got {labels!r}")
    gamma = np.array([_number(x, f"external rate of station {labels[i]!r}") for i, x in enumerate(external_rates)])
    rates = [_number(x, f"mu of station {labels[i]!r}", positive=True) for i, x in enumerate(mus)]
    sizes: list[int | float] = []
    for i, c in enumerate(counts):
        if isinstance(c, float) and c == math.inf:
            sizes.append(math.inf)
        else:
            sizes.append(_count(c, f"servers of station {labels[i]!r}", 1))
    p = _routing_matrix(routing, labels)
    edges = [{j: float(x) for j, x in enumerate(row) if x > 0} for row in p]
    traffic = solve_traffic([float(g) for g in gamma], edges)
    # The network is open iff every request eventually leaves: no station is trapped.
    if traffic.trapped:
        raise ValueError(
            "routing is not open: some requests can never leave the network "
            "(a set of stations routes all of its traffic among itself)"
        )
    lam = np.maximum(np.array(traffic.rates), 0.0)
    total_in = float(gamma.sum())
    results: dict[str, StationResult] = {}
    for i, label in enumerate(labels):
        li = float(lam[i])
        c = sizes[i]
        if c == math.inf:
            results[label] = mminf(li, rates[i])
        else:
            results[label] = mmc(li, rates[i], int(c), name=label)
    in_system = sum(r.mean_in_system for r in results.values())
    return NetworkResult(
        stations=results,
        arrival_rates={label: float(lam[i]) for i, label in enumerate(labels)},
        visits={label: (float(lam[i]) / total_in if total_in > 0 else 0.0) for i, label in enumerate(labels)},
        throughput=total_in,
        mean_in_system=in_system,
        mean_response=in_system / total_in if total_in > 0 else 0.0,
    )


def _routing_matrix(routing: Sequence[Sequence[float]], labels: list[str]) -> np.ndarray:
    n = len(labels)
    if len(routing) != n or any(len(row) != n for row in routing):
        raise ValueError(f"routing must be a {n}×{n} matrix of probabilities")
    p = np.empty((n, n))
    for i, row in enumerate(routing):
        for j, x in enumerate(row):
            v = _number(x, f"routing[{i}][{j}]")
            if v > 1.0:
                raise ValueError(f"routing[{i}][{j}] is a probability and must be <= 1, got {x!r}")
            p[i, j] = v
        total = float(p[i].sum())
        if total > 1.0 + 1e-9:
            raise ValueError(f"routing from station {labels[i]!r} sums to {total:g} > 1")
    return p
