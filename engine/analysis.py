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
from engine.model.document import Model, Node
from engine.model.validate import check_document
from engine.queueing import StationResult, UnstableError, mg1, mmc, mmck, mminf
from engine.routing import Routing, components, model_routing, solve_traffic

STATION_KINDS = ("server", "thread_pool", "async_server", "delay")
#: max_connections at or above which an async server is treated as unlimited.
UNLIMITED_CONNECTIONS = 10000


def _service(node: Node) -> distributions.LatencyDistribution | None:
    p = node.params
    spec = {"server": p.get("service_time"), "thread_pool": p.get("processing_time"), "delay": p.get("delay")}.get(
        node.kind
    )
    if node.kind == "async_server":
        spec = p.get("cpu_work_distribution", {"dist": "exponential", "mean": 0.01})
    return None if spec is None else distributions.from_spec(spec)


def _servers(node: Node) -> int | str:
    """Server count, or the reason there is no fixed one."""
    if node.kind == "thread_pool":
        return int(node.params.get("num_workers", 4))
    conc = node.params.get("concurrency", 1)
    if isinstance(conc, int):
        return conc
    kind = conc.get("kind")
    if kind == "fixed":
        return int(conc["c"])
    if kind == "dynamic":
        return "autoscaling changes c during the run" if conc.get("autoscale") else int(conc["initial"])
    return "weighted concurrency has no closed form"


def _is_exponential(dist: distributions.LatencyDistribution | None) -> bool:
    return isinstance(dist, distributions.ExponentialLatency)


def _source_reason(node: Node) -> str | None:
    p = node.params
    if p.get("profile") is not None:
        return "the arrival rate follows a profile (no steady state)"
    if p.get("limit") is not None:
        return "a source stops after a limit (no steady state)"
    if p.get("interarrival") is not None and not _is_exponential(distributions.from_spec(p["interarrival"])):
        return f"arrivals are not Poisson ({p['interarrival'].get('dist')} inter-arrival times)"
    return None


def _name(dist: distributions.LatencyDistribution | None) -> str:
    spec = dist.to_spec() if dist is not None else {"dist": "none"}
    return str(spec.get("dist"))


def analyze_model(model: Model) -> dict[str, StationResult | str]:
    """For every station and sink: a :class:`StationResult` (sinks: a dict with
    ``mean_latency`` and ``throughput``) where theory solves it, else the reason why not.

    Time and memory are linear in nodes plus links (no recursion, no N×N matrix), and
    each station's formula takes milliseconds whatever its server count or queue length.
    """
    if check_document(model).errors:
        return {n.id: "the model has errors" for n in model.nodes if n.kind in STATION_KINDS + ("sink",)}
    routing = model_routing(model)
    traffic = solve_traffic(routing.gamma, routing.edges)
    rates = dict(zip(routing.ids, traffic.rates, strict=True))
    nodes = {n.id: n for n in model.nodes}
    outs: dict[str, list[str]] = {}
    for link in model.links:
        outs.setdefault(link.source, []).append(link.target)
    in_cycle = _cycle_nodes(model)
    services = {n.id: _service(n) for n in model.nodes if n.kind in STATION_KINDS}
    burke = {n.id: _burke(n, services.get(n.id)) for n in model.nodes}
    reasons = _arrival_reasons(model, nodes, outs, burke)
    cycle_is_jackson = all(burke[m] or nodes[m].kind in ("router", "delay", "source") for m in in_cycle)
    results: dict[str, Any] = {}
    for node in model.nodes:
        if node.kind not in STATION_KINDS:
            continue
        lam = rates.get(node.id, 0.0)
        if not traffic.converged:
            results[node.id] = "the traffic equations of this network are too large to solve here"
            continue
        results[node.id] = _solve(
            node, services[node.id], lam, reasons.get(node.id), node.id in in_cycle, cycle_is_jackson
        )
    _sinks(model, routing, rates, results)
    return results


def _emitted(node: Node, outs: dict[str, list[str]], burke: bool) -> str | None:
    """Why the requests leaving ``node`` are not a Poisson stream whatever its arrivals
    (None if it passes on what it receives: a delay, an M/M/c, a random or single split)."""
    if node.kind == "source":
        return _source_reason(node)
    if node.kind == "router":
        policy = node.params.get("policy", "round_robin")
        if policy != "random" and len(outs.get(node.id, [])) > 1:
            return f"router {node.id!r} splits by {policy}, which does not keep arrivals Poisson"
        return None
    if node.kind in STATION_KINDS and not burke:
        return f"arrivals come from {node.id!r}, whose departures are not Poisson"
    return None


def _arrival_reasons(
    model: Model, nodes: dict[str, Node], outs: dict[str, list[str]], burke: dict[str, bool]
) -> dict[str, str]:
    """Why arrivals into each node are not Poisson (nodes whose arrivals are, are absent).

    A node's arrivals are not Poisson when some upstream path reaches a node that emits a
    non-Poisson stream, through nodes that only pass their arrivals on. One breadth-first
    pass from every such emitter, in document order; each node is labelled once.
    """
    emitted = {node.id: _emitted(node, outs, burke[node.id]) for node in model.nodes}
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
            if emitted[target] is None and nodes[target].kind != "sink":
                queue.extend(outs.get(target, []))
    return reasons


def _burke(node: Node, service: distributions.LatencyDistribution | None) -> bool:
    """Whether the station's departures are Poisson when its arrivals are (M/M/c, unlimited queue)."""
    if node.kind == "delay":
        return True
    if node.kind not in ("server", "thread_pool"):
        return False
    c = _servers(node)
    return isinstance(c, int) and _is_exponential(service) and node.params.get("queue_capacity") is None


def _solve(
    node: Node,
    service: distributions.LatencyDistribution | None,
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
    try:
        if node.kind == "delay":
            assert service is not None
            if service.mean <= 0:
                return StationResult(0.0, 0.0, 0.0, 0.0, 0.0, lam)
            return mminf(lam, 1.0 / service.mean)
        if node.kind == "async_server":
            return _async(node, lam, service)
        c = _servers(node)
        if isinstance(c, str):
            return c
        assert service is not None
        capacity = node.params.get("queue_capacity")
        if service.mean <= 0:
            return "service time is zero"
        mu = 1.0 / service.mean
        if capacity is not None:
            if not _is_exponential(service):
                return f"finite queue with {_name(service)} service has no closed form here"
            return mmck(lam, mu, c, c + int(capacity))
        if _is_exponential(service):
            return mmc(lam, mu, c)
        if c == 1:
            if not math.isfinite(service.variance):
                return f"{_name(service)} service has infinite variance: the mean wait is infinite"
            return mg1(lam, service.mean, service.variance)
        return f"service is {_name(service)} and c > 1"
    except UnstableError as exc:
        return f"offered load ρ = {exc.rho:.3g} ≥ 1: no steady state"
    except ValueError as exc:
        return str(exc)
    except ArithmeticError:  # a safety net: the formulas are written not to overflow
        return "the numbers are too large for a closed form"


def _async(node: Node, lam: float, cpu: distributions.LatencyDistribution | None) -> StationResult | str:
    limit = int(node.params.get("max_connections", UNLIMITED_CONNECTIONS))
    io_spec = node.params.get("io_time", {"dist": "exponential", "mean": 0.1})
    io = 0.0 if io_spec is None else distributions.from_spec(io_spec).mean
    if cpu is None or cpu.mean <= 0:
        return "no CPU work: the server is a pure delay"
    if limit < UNLIMITED_CONNECTIONS:
        if io > 0:
            return "a connection limit together with an I/O phase has no closed form here"
        if not _is_exponential(cpu):
            return f"a connection limit with {_name(cpu)} CPU work has no closed form here"
        return mmck(lam, 1.0 / cpu.mean, 1, limit)
    if not math.isfinite(cpu.variance):
        return f"{_name(cpu)} CPU work has infinite variance"
    base = mg1(lam, cpu.mean, cpu.variance)
    # The I/O wait is an infinite-server stage after the CPU: it adds its mean to the
    # response and lam·io to the number in system, and no waiting.
    response = base.mean_response + io
    return StationResult(
        utilization=lam * response / limit,
        mean_queue_length=base.mean_queue_length,
        mean_in_system=lam * response,
        mean_wait=base.mean_wait,
        mean_response=response,
        throughput=lam,
        p_wait=base.p_wait,
    )


def _sinks(model: Model, routing: Routing, rates: dict[str, float], results: dict[str, Any]) -> None:
    """End-to-end latency by Little's law over the whole network, when there is one sink."""
    sinks = [n for n in model.nodes if n.kind == "sink"]
    for sink in sinks:
        results[sink.id] = "several sinks: end-to-end latency per sink is not solved"
    if len(sinks) != 1:
        return
    sink = sinks[0]
    stations = [n for n in model.nodes if n.kind in STATION_KINDS]
    unsolved = [n.id for n in stations if not isinstance(results.get(n.id), StationResult)]
    if unsolved:
        results[sink.id] = f"station {unsolved[0]!r} is not solved"
        return
    if any(results[n.id].blocking_probability > 0 for n in stations):
        results[sink.id] = "requests are lost at a finite queue"
        return
    external = sum(rates[n.id] for n in model.nodes if n.kind == "source")
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
