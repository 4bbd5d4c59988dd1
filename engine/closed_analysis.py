"""What queueing theory says about the closed loops of a model document (``clients`` nodes).

Each clients node with its loop is a closed single-class network (loops do not share nodes:
the validator sees to it). It is solved exactly by mean value analysis
(:func:`engine.closed.mva`) when it has product form:

- every station on it is a delay (any distribution), an FCFS station with c fixed servers
  and exponential service, or an async server whose CPU work is exponential (its event
  loop is one such server, its I/O a delay after it);
- every split on it is random (link probabilities, or a ``random`` router); a link
  latency is a delay;
- the clients' think time may have any distribution (the clients are a delay station).

Visit ratios come from the traffic equations with the clients node as a unit source whose
requests end when they come back to it. Every other loop gets, for each of its nodes, the
reason it is not solved.
"""

from __future__ import annotations

import math
from typing import Any

from engine import distributions
from engine.closed import MAX_MULTISERVER, ClosedStation, mva
from engine.model.kinds.clients import NAME, closed_loops
from engine.model.schema import KINDS
from engine.model.validate import model_routing
from engine.queueing import StationResult
from engine.routing import solve_traffic

#: Separates a station's name from the part of it (an async server's CPU and I/O stages).
_PART = "\x00"
#: Work (see :func:`mva_work`) above which the analysis of a model does not run the MVA, so
#: that analysing any model the validator accepts takes a few seconds at most (about
#: 1.5 s at this budget on one core).
MAX_WORK = 2_000_000


def mva_work(stations: list[ClosedStation], population: int) -> float:
    """A measure of the MVA's time: population × (stations + servers/50 of the multi-server
    stations that queue) × 2^(their number); ``inf`` past :data:`MAX_MULTISERVER` of them."""
    multi = [st.servers for st in stations if st.servers is not None and 1 < st.servers < population]
    if len(multi) > MAX_MULTISERVER:
        return math.inf
    return population * (len(stations) + sum(multi) / 50) * 2 ** len(multi)  # type: ignore[arg-type]


def closed_members(model: Any) -> set[str]:
    """Ids of every clients node and of every node on a closed loop."""
    return {m for c, loop in closed_loops(model).items() for m in [c, *loop]}


def analyze_closed(model: Any) -> dict[str, StationResult | str]:
    """For every clients node and every station on its loop: a :class:`StationResult`
    (the clients: a :class:`engine.closed.ClientsResult` with ``throughput`` X and
    ``mean_response`` R) where MVA solves the loop, else the reason it does not.

    Meant for a model the validator accepts; time is linear in the model's size plus the
    MVA's (see :mod:`engine.closed`).
    """
    loops = closed_loops(model)
    if not loops:
        return {}
    nodes = {n.id: n for n in model.nodes}
    routing = model_routing(model)
    index = {node_id: i for i, node_id in enumerate(routing.ids)}
    out: dict[str, StationResult | str] = {}
    for c, loop in loops.items():
        members = [c, *loop]
        result = _solve_loop(model, nodes, routing, index, c, loop)
        for m in members:
            kind = KINDS.get(nodes[m].kind)
            if m == c or (kind is not None and kind.is_station):
                out[m] = result if isinstance(result, str) else result.get(m, "it is not visited")
    return out


def _visits(routing: Any, index: dict[str, int], c: str) -> list[float]:
    """Visits per interaction of every node: the traffic equations with one request per
    second leaving ``c`` and ending when it reaches ``c`` again."""
    i = index[c]
    gamma = [0.0] * len(routing.ids)
    for j, share in routing.edges[i].items():
        gamma[j] += share
    edges = list(routing.edges)
    edges[i] = {}
    return list(solve_traffic(gamma, edges).rates)


def _solve_loop(
    model: Any, nodes: dict[str, Any], routing: Any, index: dict[str, int], c: str, loop: list[str]
) -> dict[str, StationResult] | str:
    clients = KINDS[NAME].resolve(nodes[c].params)
    population = int(clients["population"])
    think = distributions.from_spec(clients["think_time"]).mean
    visits = _visits(routing, index, c)
    if not all(math.isfinite(visits[index[m]]) for m in loop):
        return "the routing of this closed loop has no solution"
    stations: list[ClosedStation] = []
    connections: dict[str, float] = {}  # an async server's connection limit
    loop_set = set(loop)
    for m in loop:
        node = nodes[m]
        kind = KINDS[node.kind]
        resolved = kind.resolve(node.params)
        v = visits[index[m]]
        if not kind.is_station:
            n_out = sum(1 for link in model.links if link.source == m)
            why = kind.departures(resolved, n_out) if kind.departures is not None else None
            if why:
                return f"{kind.name} {m!r} {why}: exact MVA needs random routing"
            continue
        service = kind.service(resolved)
        part = _stations(m, service, v)
        if isinstance(part, str):
            return f"{m!r}: {part}"
        if service is not None and service.event_loop and service.connections:
            connections[m] = float(service.connections)
        stations.extend(part)
    for link in model.links:
        if link.latency is not None and link.source in loop_set | {c} and link.target in loop_set | {c}:
            share = routing.edges[index[link.source]].get(index[link.target], 0.0)
            rate = 1.0 if link.source == c else visits[index[link.source]]
            latency = distributions.from_spec(link.latency).mean
            name = f"{link.source}→{link.target}{_PART}link"
            stations.append(ClosedStation(name, latency, rate * share, None))
    if population > 0 and think == 0 and all(st.demand == 0 for st in stations):
        return "every request and think time takes no time: the throughput has no bound"
    work = mva_work(stations, population)
    if work > MAX_WORK:
        return f"exact MVA would take ~{work:.2g} steps here (more than {MAX_WORK:.0g}); see engine.theory.mva"
    try:
        res = mva(stations, population, think)
    except ValueError as exc:
        return str(exc)
    return _combine(res, c, connections)


def _stations(m: str, service: Any, visits: float) -> list[ClosedStation] | str:
    """The MVA stations of one model station, or why it has no product form."""
    dist = service.service
    if service.infinite:
        return [ClosedStation(m, 0.0 if dist is None else dist.mean, visits, None)]
    if service.event_loop:
        if dist is None or dist.mean <= 0:
            io = 0.0 if service.io is None else service.io.mean
            return [ClosedStation(m + _PART + "io", io, visits, None)]
        if not isinstance(dist, distributions.ExponentialLatency):
            return f"CPU work is {_name(dist)}: exact MVA needs exponential service at FCFS stations"
        parts = [ClosedStation(m + _PART + "cpu", dist.mean, visits, 1)]
        if service.io is not None:
            parts.append(ClosedStation(m + _PART + "io", service.io.mean, visits, None))
        return parts
    if service.servers is None:
        return service.reason or "it has no fixed number of servers"
    if service.queue_capacity is not None:
        return "a finite queue has no product form"
    if dist is None or dist.mean <= 0:
        return "service time is zero"
    if not isinstance(dist, distributions.ExponentialLatency):
        return f"service is {_name(dist)}: exact MVA needs exponential service at FCFS stations"
    return [ClosedStation(m, dist.mean, visits, service.servers)]


def _name(dist: distributions.LatencyDistribution | None) -> str:
    return "none" if dist is None else str(dist.to_spec().get("dist"))


def _combine(res: Any, c: str, connections: dict[str, float]) -> dict[str, StationResult]:
    """Per node: the MVA result of its station, an async server's two stages added up (its
    utilisation, as simulated, is the share of its connections in use)."""
    out: dict[str, StationResult] = {c: res.clients()}
    parts: dict[str, list[tuple[str, StationResult]]] = {}
    for name, r in res.stations.items():
        node, _, part = name.partition(_PART)
        if part == "link":
            continue
        if not part:
            out[node] = r
        else:
            parts.setdefault(node, []).append((part, r))
    for node, stages in parts.items():
        got = dict(stages)
        cpu = got.get("cpu")
        io = got.get("io")
        lam = (cpu or io).throughput  # type: ignore[union-attr]
        in_system = sum(r.mean_in_system for r in got.values())
        out[node] = StationResult(
            utilization=in_system / connections[node] if node in connections else 0.0,
            mean_queue_length=cpu.mean_queue_length if cpu is not None else 0.0,
            mean_in_system=in_system,
            mean_wait=cpu.mean_wait if cpu is not None else 0.0,
            mean_response=sum(r.mean_response for r in got.values()),
            throughput=lam,
        )
    return out
