"""Closed queueing networks: exact mean value analysis (MVA), bounds and the saturation point.

A closed network holds a fixed population of N clients. Each client thinks for a mean
``think_time`` Z seconds, then sends one request that visits the stations (station k
``visits`` V_k times, ``service_time`` S_k seconds a visit, so its *demand* is D_k = V_k·S_k)
and comes back; then it thinks again. Results are per interaction: ``throughput`` X is
interactions (returns to the clients) per second and ``response_time`` R the mean time
from send to return, so the interactive response time law ``R = N/X − Z`` holds exactly.

Stations are FCFS with exponential service and ``servers`` c identical servers (1 for a
single server), or delay stations (``servers=None``: infinite servers, any service
distribution with that mean). Such networks have a product-form solution (BCMP), which MVA
(Reiser and Lavenberg, 1980) computes exactly, population by population:

- a delay station: residence R_k(n) = D_k;
- a single server: R_k(n) = D_k·(1 + Q_k(n−1)) (the arrival theorem);
- c > 1 servers (load-dependent MVA in the form of Bolch et al., *Queueing Networks and
  Markov Chains*, 2nd ed., §8.2.1): R_k(n) = D_k/c·(1 + Q_k(n−1) + Σ_{j=0}^{c−2} (c−1−j)·p_k(j|n−1)),
  with the marginal probabilities p_k(j|n) = X(n)·D_k/j·p_k(j−1|n−1) for 1 ≤ j < c;
- then X(n) = n / (Z + Σ R_k(n)) and Q_k(n) = X(n)·R_k(n) (Little's law).

The textbook closes the recursion with p_k(0|n) = 1 − (…) by subtraction, which loses all
precision once the station saturates (the error grows like c^j/j! along the recursion). Here
p_k(0|n) = G_{−k}(n)/G(n) is computed as the product p_k(0|n−1)·X(n)/X_{−k}(n), X_{−k} being
the throughput of the network without station k: every step multiplies or adds positive
numbers, so results stay exact to rounding for N = 10^4 and beyond. The price is one
extra MVA per subset of the multi-server stations (2^L for L of them; at most
:data:`MAX_MULTISERVER`). A multi-server station with c ≥ N never queues and is solved as
a delay.

Cost: O(N·(K + Σc)·2^L) arithmetic, vectorised over the servers; N = 10^4 with a few stations
takes well under a second. Nothing overflows: every quantity is a mean or a probability.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.queueing import StationResult, _count, _number

__all__ = [
    "ClosedStation",
    "ClosedResult",
    "ClosedBounds",
    "ClientsResult",
    "MAX_MULTISERVER",
    "mva",
    "mva_curve",
    "closed_bounds",
    "saturation_population",
    "interactive_response_time",
]

#: Multi-server stations (with fewer servers than clients) one network may hold: each adds
#: a factor of 2 to the work of the stable marginal probabilities (see the module docstring).
MAX_MULTISERVER = 8


@dataclass(frozen=True)
class ClosedStation:
    """One station of a closed network.

    ``service_time``: mean seconds per visit (> 0 for a queueing station, ≥ 0 for a delay);
    ``visits``: mean visits per interaction (≥ 0); ``servers``: c ≥ 1 identical FCFS
    exponential servers, or None for a delay (infinite-server) station.
    """

    name: str
    service_time: float
    visits: float = 1.0
    servers: int | None = 1

    @property
    def demand(self) -> float:
        """Service demand per interaction, seconds: D = visits × service_time."""
        return self.visits * self.service_time

    @property
    def is_delay(self) -> bool:
        """Whether the station is a delay (infinite servers: nobody waits)."""
        return self.servers is None


@dataclass(frozen=True)
class ClientsResult(StationResult):
    """The clients of a closed network, named like their simulated metrics: ``throughput``
    X (requests returned per second), ``mean_response`` R (send → return),
    ``mean_in_system`` X·R (requests out in the network), ``mean_thinking`` X·Z,
    ``population`` N and ``think_time`` Z; ``utilization`` X·R/N is the share of the
    clients with a request out. Nobody queues at the clients: ``mean_queue_length`` and
    ``mean_wait`` are 0."""

    mean_thinking: float = 0.0
    population: int = 0
    think_time: float = 0.0


@dataclass(frozen=True)
class ClosedResult:
    """Exact steady state of a closed network with ``population`` clients.

    ``throughput``: interactions per second (X); ``response_time``: seconds from send to
    return (R, think time excluded); ``think_time``: Z. ``stations`` maps each station's
    name to its :class:`StationResult`, *per visit*, named like the simulated metrics:
    its ``throughput`` is X·V_k, its ``mean_response`` the time of one visit,
    ``mean_in_system`` the mean number there (Q_k), ``utilization`` the busy fraction per
    server (0 for a delay). ``curve`` holds (n, X(n), R(n)) for n = 1..N when asked for.
    """

    population: int
    think_time: float
    throughput: float
    response_time: float
    stations: dict[str, StationResult]
    curve: tuple[tuple[int, float, float], ...] = field(default=(), repr=False)

    @property
    def mean_thinking(self) -> float:
        """Mean number of clients thinking: X·Z."""
        return self.throughput * self.think_time

    @property
    def cycle_time(self) -> float:
        """Mean seconds from one send to the next of a client: R + Z (= N/X)."""
        return self.response_time + self.think_time

    def clients(self) -> ClientsResult:
        """The clients' side of the result (see :class:`ClientsResult`)."""
        x, r = self.throughput, self.response_time
        return ClientsResult(
            utilization=x * r / self.population if self.population else 0.0,
            mean_queue_length=0.0,
            mean_in_system=x * r,
            mean_wait=0.0,
            mean_response=r,
            throughput=x,
            mean_thinking=self.mean_thinking,
            population=self.population,
            think_time=self.think_time,
        )

    def as_dict(self) -> dict[str, Any]:
        """Totals and ``stations`` (name → ``StationResult.as_dict()``) as plain values."""
        return {
            "population": self.population,
            "think_time": self.think_time,
            "throughput": self.throughput,
            "response_time": self.response_time,
            "mean_thinking": self.mean_thinking,
            "stations": {name: r.as_dict() for name, r in self.stations.items()},
        }


@dataclass(frozen=True)
class ClosedBounds:
    """Bounds on X(N) and R(N) that need no MVA.

    Asymptotic bounds (Lazowska et al., *Quantitative System Performance*, 1984, ch. 5;
    Denning and Buzen, 1978): X(N) ≤ min(N/(D+Z), 1/D_max) and R(N) ≥ max(D, N·D_max − Z),
    where D = Σ D_k and D_max = max D_k/c_k over queueing stations (the bottleneck).
    Balanced job bounds (Zahorjan, Sevcik, Eager and Galler, 1982; QSP §5.4) bracket X
    and R from both sides; they hold for single-server queueing stations, with delay
    stations counted as think time, and are None when a station has c > 1.
    ``saturation`` is N* = (D + Z)/D_max, where the two asymptotes cross.
    """

    population: int
    throughput_upper: float
    response_lower: float
    saturation: float
    balanced_throughput: tuple[float, float] | None
    balanced_response: tuple[float, float] | None


# --------------------------------------------------------------- validation
def _stations(stations: Sequence[ClosedStation]) -> list[ClosedStation]:
    out: list[ClosedStation] = []
    names: set[str] = set()
    for st in stations:
        if not isinstance(st, ClosedStation):
            raise TypeError(f"stations must be ClosedStation objects, got {st!r}")
        if st.name in names:
            raise ValueError(f"two stations are called {st.name!r}")
        names.add(st.name)
        _number(st.visits, f"visits of {st.name!r}")
        if st.servers is None:
            _number(st.service_time, f"service_time of {st.name!r}")
        else:
            _number(st.service_time, f"service_time of {st.name!r}", positive=True)
            _count(st.servers, f"servers of {st.name!r}", 1)
        out.append(st)
    return out


def _think(think_time: float) -> float:
    return _number(think_time, "think_time")


# ------------------------------------------------------------------- MVA
class _Network:
    """The numbers of one network for the recursion (stations with a positive demand)."""

    def __init__(self, stations: list[ClosedStation], population: int, think_time: float) -> None:
        self.n = population
        self.z = think_time
        self.demand = [st.demand for st in stations]
        # c == 1: single server; c == 0: delay (also c >= N, which never queues); c > 1: multi.
        self.c = [
            0 if st.servers is None or st.servers >= population or st.demand == 0 else st.servers for st in stations
        ]
        self.multi = [k for k, c in enumerate(self.c) if c > 1]
        if len(self.multi) > MAX_MULTISERVER:
            raise ValueError(
                f"{len(self.multi)} multi-server stations with fewer servers than clients: "
                f"at most {MAX_MULTISERVER} are solved exactly"
            )
        self._memo: dict[frozenset[int], list[float]] = {}

    def solve(self, without: frozenset[int] = frozenset(), curve: bool = False) -> _State:
        """MVA over n = 1..N for the network without the stations in ``without``."""
        n_max, z = self.n, self.z
        ks = [k for k in range(len(self.demand)) if k not in without]
        multi = [k for k in self.multi if k not in without]
        # The complement throughputs X_{-k}(n) the marginal p_k(0|n) needs.
        comp = {k: self.throughputs(without | {k}) for k in multi}
        d = self.demand
        c = self.c
        q = dict.fromkeys(ks, 0.0)
        p: dict[int, np.ndarray] = {}
        weights: dict[int, np.ndarray] = {}
        log_j: dict[int, np.ndarray] = {}
        for k in multi:
            # log p_k(j|n) for j = 0..c-2: kept as logarithms because p_k(0|n) falls like
            # a geometric series once the station is busy and would underflow, losing the
            # p_k(j|n) for large j that the recursion builds from it.
            p[k] = np.full(c[k] - 1, -math.inf)
            p[k][0] = 0.0
            weights[k] = np.arange(c[k] - 1, 0, -1, dtype=float)  # c-1-j
            log_j[k] = np.log(np.arange(1, c[k] - 1, dtype=float))  # log j for j = 1..c-2
        xs = [0.0]
        rs: list[float] = [0.0]
        resid = dict.fromkeys(ks, 0.0)
        x = 0.0
        for n in range(1, n_max + 1):
            total = z
            for k in ks:
                ck = c[k]
                if ck == 0:
                    r = d[k]
                elif ck == 1:
                    r = d[k] * (1.0 + q[k])
                else:
                    r = d[k] / ck * (1.0 + q[k] + float(weights[k] @ np.exp(p[k])))
                resid[k] = r
                total += r
            x = n / total if total > 0 else math.inf
            for k in ks:
                q[k] = x * resid[k]
            for k in multi:
                pk = p[k]
                xc = comp[k][n]
                # p_k(0|n) = p_k(0|n-1)·X(n)/X_{-k}(n); an empty complement holds nobody.
                p0 = pk[0] + math.log(x / xc) if 0 < xc < math.inf else -math.inf
                if pk.size > 1:
                    pk[1:] = math.log(x * d[k]) - log_j[k] + pk[:-1]
                pk[0] = p0
            xs.append(x)
            if curve:
                rs.append(total - z)
        return _State(xs, rs, resid, q, x)

    def throughputs(self, without: frozenset[int]) -> list[float]:
        """X(n) for n = 0..N of the network without ``without`` (memoised)."""
        got = self._memo.get(without)
        if got is None:
            if all(k in without for k in range(len(self.demand))) and self.z == 0:
                got = [0.0] + [math.inf] * self.n  # an empty network turns clients over at once
            else:
                got = self.solve(without).xs
            self._memo[without] = got
        return got


@dataclass
class _State:
    xs: list[float]
    rs: list[float]
    resid: dict[int, float]
    q: dict[int, float]
    x: float


def mva(
    stations: Sequence[ClosedStation], population: int, think_time: float = 0.0, *, curve: bool = False
) -> ClosedResult:
    """Exact MVA of a closed single-class product-form network (see the module docstring).

    ``population``: N ≥ 0 clients; ``think_time``: Z ≥ 0 seconds. With ``curve=True`` the
    result also holds (n, X(n), R(n)) for every n = 1..N. Raises ValueError for bad
    parameters, a network where an interaction takes no time at all (every demand and Z
    zero: X would be infinite), or more than :data:`MAX_MULTISERVER` multi-server stations
    with c < N; TypeError for values that are not numbers.
    """
    sts = _stations(stations)
    n_max = _count(population, "population", 0)
    z = _think(think_time)
    if n_max > 0 and z == 0 and all(st.demand == 0 for st in sts):
        raise ValueError("every demand and the think time are zero: the throughput would be infinite")
    if n_max == 0:
        idle = {st.name: StationResult(0.0, 0.0, 0.0, 0.0, st.service_time, 0.0) for st in sts}
        return ClosedResult(0, z, 0.0, sum(st.demand for st in sts), idle)
    net = _Network(sts, n_max, z)
    state = net.solve(curve=curve)
    x = state.x
    out: dict[str, StationResult] = {}
    for k, st in enumerate(sts):
        r_k = state.resid[k]
        q_k = state.q[k]
        busy = x * st.demand  # mean servers busy (Little's law on service)
        if st.servers is None:
            util = 0.0
        else:
            util = min(busy / st.servers, 1.0)
        # A delay station, or one with c >= N, never makes anyone wait.
        waiting = 0.0 if net.c[k] == 0 else max(q_k - busy, 0.0)
        lam = x * st.visits
        per_visit = r_k / st.visits if st.visits > 0 else st.service_time
        out[st.name] = StationResult(
            utilization=util,
            mean_queue_length=waiting,
            mean_in_system=q_k,
            mean_wait=waiting / lam if lam > 0 else 0.0,
            mean_response=per_visit,
            throughput=lam,
        )
    response = sum(state.resid.values())
    pts = tuple((n, state.xs[n], state.rs[n]) for n in range(1, n_max + 1)) if curve else ()
    return ClosedResult(n_max, z, x, response, out, pts)


def mva_curve(
    stations: Sequence[ClosedStation], population: int, think_time: float = 0.0
) -> list[tuple[int, float, float]]:
    """(n, X(n), R(n)) for n = 1..``population``: one MVA gives every smaller population too."""
    return list(mva(stations, population, think_time, curve=True).curve)


# ------------------------------------------------------------------ bounds
def _demands(stations: Sequence[ClosedStation]) -> tuple[float, float, float, bool]:
    """(D, D_max, delay demand, all queueing stations single-server)."""
    total = sum(st.demand for st in stations)
    queueing = [st for st in stations if not st.is_delay]
    d_max = max((st.demand / st.servers for st in queueing if st.servers), default=0.0)  # type: ignore[operator]
    delay = sum(st.demand for st in stations if st.is_delay)
    single = all(st.servers == 1 for st in queueing)
    return total, d_max, delay, single


def saturation_population(stations: Sequence[ClosedStation], think_time: float = 0.0) -> float:
    """N* = (D + Z)/D_max: the population where the asymptotic bounds cross. Below it
    clients mostly add throughput; past it they mostly add waiting. ``inf`` when no
    station can saturate (only delays)."""
    sts = _stations(stations)
    z = _think(think_time)
    total, d_max, _, _ = _demands(sts)
    return (total + z) / d_max if d_max > 0 else math.inf


def closed_bounds(stations: Sequence[ClosedStation], population: int, think_time: float = 0.0) -> ClosedBounds:
    """Asymptotic and balanced job bounds on X(N) and R(N) (see :class:`ClosedBounds`)."""
    sts = _stations(stations)
    n = _count(population, "population", 1)
    z = _think(think_time)
    total, d_max, delay, single = _demands(sts)
    x_up = min(n / (total + z) if total + z > 0 else math.inf, 1.0 / d_max if d_max > 0 else math.inf)
    r_low = max(total, n * d_max - z)
    n_star = (total + z) / d_max if d_max > 0 else math.inf
    bjb_x: tuple[float, float] | None = None
    bjb_r: tuple[float, float] | None = None
    queueing = [st for st in sts if not st.is_delay and st.demand > 0]
    if single and queueing:
        # Delay stations act as extra think time: the network is the same for X(N).
        zz = z + delay
        d = total - delay
        d_avg = d / len(queueing)
        r_lo = max(n * d_max - zz, d + (n - 1) * d_avg / (1.0 + zz / d))
        r_hi = d + (n - 1) * d_max / (1.0 + zz / (n * d))
        x_lo = n / (zz + r_hi)
        x_hi = min(1.0 / d_max, n / (zz + d + (n - 1) * d_avg / (1.0 + zz / d)))
        bjb_x = (x_lo, x_hi)
        bjb_r = (r_lo + delay, r_hi + delay)
    return ClosedBounds(n, x_up, r_low, n_star, bjb_x, bjb_r)


def interactive_response_time(population: float, throughput: float, think_time: float) -> float:
    """The interactive response time law: R = N/X − Z (seconds), for any closed system in
    steady state whatever its service distributions. NaN when X is not positive."""
    if not throughput > 0:
        return math.nan
    return population / throughput - think_time
