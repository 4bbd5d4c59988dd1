"""What queueing theory says about a model document, station by station.

A station is solved exactly when its arrivals are Poisson and it has a closed form:
arrivals are Poisson when every source feeding it is Poisson and every station upstream
preserves that (Burke: M/M/c with an unlimited queue; M/G/∞ delays; random splits). In
a network with feedback, Jackson's theorem still gives exact means when every station in
it is M/M/c with an unlimited queue. Everything else gets the reason it is not solved.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from engine import distributions
from engine.closed_analysis import analyze_closed, closed_members
from engine.model.document import Model, Node
from engine.model.schema import KINDS, ServiceDescription
from engine.model.validate import check_document, model_routing
from engine.queueing import StationResult, UnstableError, mg1, mmc, mmck, mminf
from engine.routing import Routing, components, solve_traffic


def _is_exponential(dist: distributions.LatencyDistribution | None) -> bool:
    return isinstance(dist, distributions.ExponentialLatency)


def _name(dist: distributions.LatencyDistribution | None) -> str:
    spec = dist.to_spec() if dist is not None else {"dist": "none"}
    return str(spec.get("dist"))


def _is_station(node: Node) -> bool:
    kind = KINDS.get(node.kind)
    return kind is not None and kind.is_station


def _is_sink(node: Node) -> bool:
    kind = KINDS.get(node.kind)
    return kind is not None and not kind.has_output


def analyze_model(model: Model) -> dict[str, StationResult | str]:
    """For every station and sink: a :class:`StationResult` (sinks: a dict with
    ``mean_latency`` and ``throughput``) where theory solves it, else the reason why not.

    Time and memory are linear in nodes plus links (no recursion, no N×N matrix), and
    each station's formula takes milliseconds whatever its server count or queue length.
    """
    if check_document(model).errors:
        return {n.id: "the model has errors" for n in model.nodes if _is_station(n) or _is_sink(n)}
    routing = model_routing(model)
    traffic = solve_traffic(routing.gamma, routing.edges)
    rates = dict(zip(routing.ids, traffic.rates, strict=True))
    nodes = {n.id: n for n in model.nodes}
    outs: dict[str, list[str]] = {}
    for link in model.links:
        outs.setdefault(link.source, []).append(link.target)
    closed = closed_members(model)  # closed loops are solved by MVA (engine.closed_analysis)
    in_cycle = _cycle_nodes(model) - closed
    resolved = {n.id: KINDS[n.kind].resolve(n.params) for n in model.nodes}
    services = {n.id: KINDS[n.kind].service(resolved[n.id]) for n in model.nodes if _is_station(n)}
    burke = {n.id: _burke(services.get(n.id)) for n in model.nodes}
    reasons = _arrival_reasons(model, nodes, resolved, outs, burke)
    # Inside a loop, Jackson's theorem needs every station to be M/M/c (or M/G/∞); the
    # nodes that are not stations pass requests on at random or not at all.
    cycle_is_jackson = all(burke[m] or not _is_station(nodes[m]) for m in in_cycle)
    results: dict[str, Any] = {}
    for node in model.nodes:
        service = services.get(node.id)
        if service is None or node.id in closed:
            continue
        lam = rates.get(node.id, 0.0)
        if not traffic.converged:
            results[node.id] = "the traffic equations of this network are too large to solve here"
            continue
        results[node.id] = _solve(service, lam, reasons.get(node.id), node.id in in_cycle, cycle_is_jackson)
    _sinks(model, routing, rates, results, closed)
    results.update(analyze_closed(model))
    return results


def _emitted(node: Node, resolved: dict[str, Any], outs: dict[str, list[str]], burke: bool) -> str | None:
    """Why the requests leaving ``node`` are not a Poisson stream whatever its arrivals
    (None if it passes on what it receives: a delay, an M/M/c, a random or single split)."""
    kind = KINDS[node.kind]
    if kind.departures is not None:
        why = kind.departures(resolved, len(outs.get(node.id, [])))
        if why is None or kind.has_input:
            return None if why is None else f"{kind.name} {node.id!r} {why}"
        return why
    if kind.is_station and not burke:
        return f"arrivals come from {node.id!r}, whose departures are not Poisson"
    return None


def _arrival_reasons(
    model: Model,
    nodes: dict[str, Node],
    resolved: dict[str, dict[str, Any]],
    outs: dict[str, list[str]],
    burke: dict[str, bool],
) -> dict[str, str]:
    """Why arrivals into each node are not Poisson (nodes whose arrivals are, are absent).

    A node's arrivals are not Poisson when some upstream path reaches a node that emits a
    non-Poisson stream, through nodes that only pass their arrivals on. One breadth-first
    pass from every such emitter, in document order; each node is labelled once.
    """
    emitted = {node.id: _emitted(node, resolved[node.id], outs, burke[node.id]) for node in model.nodes}
    reasons: dict[str, str] = {}
    for node in model.nodes:
        why = emitted[node.id]
        if why is None:
            continue
        queue = deque(outs.get(node.id, []))
        while queue:
            target = queue.popleft()
            if target in reasons or target not in nodes or target == node.id:
                continue
            reasons[target] = why
            if emitted[target] is None and not _is_sink(nodes[target]):
                queue.extend(outs.get(target, []))
    return reasons


def _burke(service: ServiceDescription | None) -> bool:
    """Whether a station's departures are Poisson when its arrivals are: an infinite-server
    station, or c exponential servers with an unlimited queue (Burke's theorem)."""
    if service is None:
        return False
    if service.infinite:
        return True
    return (
        not service.event_loop
        and service.servers is not None
        and _is_exponential(service.service)
        and service.queue_capacity is None
    )


def _solve(
    service: ServiceDescription,
    lam: float,
    arrivals_reason: str | None,
    in_cycle: bool,
    cycle_is_jackson: bool,
) -> StationResult | str:
    if not math.isfinite(lam):
        return "the flow into it has no steady state (a loop with no exit)"
    jackson_ok = in_cycle and cycle_is_jackson
    if arrivals_reason and not jackson_ok:
        return arrivals_reason
    if in_cycle and not cycle_is_jackson:
        return "it sits in a feedback loop with non-exponential or finite stations"
    dist = service.service
    try:
        if service.infinite:
            assert dist is not None
            if dist.mean <= 0:
                return StationResult(0.0, 0.0, 0.0, 0.0, 0.0, lam)
            return mminf(lam, 1.0 / dist.mean)
        if service.event_loop:
            return _event_loop(service, lam)
        c = service.servers
        if c is None:
            return service.reason
        assert dist is not None
        capacity = service.queue_capacity
        if dist.mean <= 0:
            return "service time is zero"
        mu = 1.0 / dist.mean
        if capacity is not None:
            if not _is_exponential(dist):
                return f"finite queue with {_name(dist)} service has no closed form here"
            return mmck(lam, mu, c, c + int(capacity))
        if _is_exponential(dist):
            return mmc(lam, mu, c)
        if c == 1:
            if not math.isfinite(dist.variance):
                return f"{_name(dist)} service has infinite variance: the mean wait is infinite"
            return mg1(lam, dist.mean, dist.variance)
        return f"service is {_name(dist)} and c > 1"
    except UnstableError as exc:
        return f"offered load ρ = {exc.rho:.3g} ≥ 1: no steady state"
    except ValueError as exc:
        return str(exc)
    except ArithmeticError:  # a safety net: the formulas are written not to overflow
        return "the numbers are too large for a closed form"


def _event_loop(service: ServiceDescription, lam: float) -> StationResult | str:
    """An async server: its CPU work is one FIFO server (M/G/1), its I/O an infinite-server
    stage after it; with a connection limit only the M/M/1/K without I/O is solved."""
    cpu = service.service
    io = 0.0 if service.io is None else service.io.mean
    if cpu is None or cpu.mean <= 0:
        return "no CPU work: the server is a pure delay"
    if service.blocking and service.connections is not None:
        if io > 0:
            return "a connection limit together with an I/O phase has no closed form here"
        if not _is_exponential(cpu):
            return f"a connection limit with {_name(cpu)} CPU work has no closed form here"
        return mmck(lam, 1.0 / cpu.mean, 1, service.connections)
    if not math.isfinite(cpu.variance):
        return f"{_name(cpu)} CPU work has infinite variance"
    base = mg1(lam, cpu.mean, cpu.variance)
    # The I/O wait is an infinite-server stage after the CPU: it adds its mean to the
    # response and lam·io to the number in system, and no waiting. The seed's utilisation
    # of an async server is connections in use / max_connections.
    response = base.mean_response + io
    return StationResult(
        utilization=lam * response / (service.connections or math.inf),
        mean_queue_length=base.mean_queue_length,
        mean_in_system=lam * response,
        mean_wait=base.mean_wait,
        mean_response=response,
        throughput=lam,
        p_wait=base.p_wait,
    )


def _sinks(model: Model, routing: Routing, rates: dict[str, float], results: dict[str, Any], closed: set[str]) -> None:
    """End-to-end latency by Little's law over the whole network, when there is one sink."""
    sinks = [n for n in model.nodes if _is_sink(n)]
    for sink in sinks:
        results[sink.id] = "several sinks: end-to-end latency per sink is not solved"
    if len(sinks) != 1:
        return
    sink = sinks[0]
    stations = [n for n in model.nodes if _is_station(n) and n.id not in closed]
    unsolved = [n.id for n in stations if not isinstance(results.get(n.id), StationResult)]
    if unsolved:
        results[sink.id] = f"station {unsolved[0]!r} is not solved"
        return
    if any(results[n.id].blocking_probability > 0 for n in stations):
        results[sink.id] = "requests are lost at a finite queue"
        return
    external = sum(rates[n.id] for n in model.nodes if KINDS[n.kind].arrivals is not None)
    if external <= 0:
        results[sink.id] = "nothing arrives"
        return
    in_network = sum(results[n.id].mean_in_system for n in stations)
    index = {node_id: i for i, node_id in enumerate(routing.ids)}
    for link in model.links:
        if link.latency is not None and link.source in index and link.target in index:
            # a valid model links a pair once, so the pair's share is this link's
            share = routing.edges[index[link.source]].get(index[link.target], 0.0)
            in_network += rates[link.source] * share * distributions.from_spec(link.latency).mean
    results[sink.id] = {"mean_latency": in_network / external, "throughput": external}


def _cycle_nodes(model: Model) -> set[str]:
    """Nodes on some directed cycle (strongly connected components, found without recursion)."""
    ids = list(dict.fromkeys(n.id for n in model.nodes))
    index = {node_id: i for i, node_id in enumerate(ids)}
    succ: list[list[int]] = [[] for _ in ids]
    for link in model.links:
        if link.source in index and link.target in index:
            succ[index[link.source]].append(index[link.target])
    out: set[str] = set()
    for component in components(len(ids), succ):
        if len(component) > 1 or component[0] in succ[component[0]]:
            out.update(ids[i] for i in component)
    return out
