"""The ``clients`` kind: a closed population that thinks, sends one request and waits for it.

The loop closes with a link back into the clients node: a request that reaches it has come
back, and its client thinks again. What a model may do with a closed loop (the rules
:func:`loop_problems` enforces, each refused with the node named):

- the clients node links out (its requests enter the loop there) and every node its
  requests can reach leads back to it;
- no sink is on the loop (a request would end there and its client wait for ever), and no
  other clients node (it would take the request as its own);
- no source feeds a node of the loop, nor the clients node (its requests would be counted
  as returning clients);
- no station on the loop can turn a request away: a finite ``queue_capacity``, or an async
  server whose ``max_connections`` is below the population (a rejected request never comes
  back, and the population would shrink).

Open parts (sources, stations, sinks) may sit beside closed loops in one model; they do not
share nodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any

from engine.components.clients import Clients
from engine.model.kinds.base import Kind, LiveContext, Param, ServiceDescription, describe_dist, dist
from engine.simulation import Simulation

NAME = "clients"
#: The largest population a model may hold: each client is an object and a scheduled call
#: of the simulation (about 250 bytes), and 10^5 users is far beyond what a lesson needs.
MAX_POPULATION = 100_000


def _build(node_id: str, r: dict[str, Any], sim: Simulation, context: LiveContext) -> Clients:
    return Clients(node_id, r["population"], dist(r["think_time"]))


def _set_population(clients: Clients, r: dict[str, Any], context: LiveContext) -> None:
    clients.set_population(r["population"])


def _set_think_time(clients: Clients, r: dict[str, Any], context: LiveContext) -> None:
    clients.set_think_time(dist(r["think_time"]))


def _describe(r: dict[str, Any]) -> ServiceDescription:
    # Every client thinks on its own: for theory the clients are an infinite-server stage
    # whose service is the think time (the "terminals" of a closed network).
    return ServiceDescription(dist(r["think_time"]), None, "clients think in parallel: no c", infinite=True)


def _summary(r: dict[str, Any]) -> str:
    return f"N = {r['population']}\nthink {describe_dist(r['think_time'])}"


KIND = Kind(
    NAME,
    "Clients",
    "A closed population: `population` clients each think for a time drawn from `think_time`, "
    "send one request along the out-links and wait until it comes back to this node, then "
    "think again. Close the loop with a link back into the clients node.",
    (
        Param(
            "population",
            "int",
            "population",
            "Number of clients N (each has at most one request out at a time).",
            10,
            "clients",
            minimum=0,
            maximum=MAX_POPULATION,
            why_maximum="each client is simulated as its own think period and request, so memory grows with N",
        ),
        Param(
            "think_time",
            "dist",
            "think time",
            "Time a client waits between getting an answer and sending its next request (Z).",
            {"dist": "exponential", "mean": 1.0},
            "s",
            required=True,
        ),
    ),
    builder=_build,
    live=MappingProxyType({"population": _set_population, "think_time": _set_think_time}),
    describe=_describe,
    summarise=_summary,
    closes_loop=True,
    graph_check=lambda model: loop_problems(model),
)


# ------------------------------------------------------------------ closed loops
def _index(model: Any) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, list[str]]]:
    nodes = {n.id: n for n in model.nodes}
    succ: dict[str, list[str]] = {i: [] for i in nodes}
    pred: dict[str, list[str]] = {i: [] for i in nodes}
    for link in model.links:
        if link.source in nodes and link.target in nodes:
            succ[link.source].append(link.target)
            pred[link.target].append(link.source)
    return nodes, succ, pred


def _reach(start: Iterable[str], edges: dict[str, list[str]], stop: set[str]) -> list[str]:
    """Nodes reachable from ``start`` (included), not walking on from nodes in ``stop``;
    in the order first found."""
    order: list[str] = []
    seen: set[str] = set()
    stack = list(start)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        if node not in stop:
            stack.extend(reversed(edges[node]))
    return order


def closed_loops(model: Any) -> dict[str, list[str]]:
    """For every clients node: the nodes its requests can reach before they come back to it
    (the clients node itself excluded), in the order first found."""
    nodes, succ, _ = _index(model)
    clients = [i for i, n in nodes.items() if n.kind == NAME]
    stop = set(clients)
    return {c: [m for m in _reach(succ[c], succ, stop) if m != c] for c in clients}


def loop_problems(model: Any) -> list[tuple[str, str]]:
    """``(node id, message)`` for every way the model's closed loops break the rules of the
    module docstring (empty for a model without clients nodes)."""
    from engine.model.schema import KINDS  # the registry imports this module

    loops = closed_loops(model)
    if not loops:
        return []
    nodes, succ, pred = _index(model)
    problems: list[tuple[str, str]] = []
    for c, loop in loops.items():
        if not succ[c]:
            problems.append((c, f"clients {c!r} has no out-link: link it to the first station its requests visit"))
            continue
        back = set(_reach([c], pred, set()))  # nodes from which c can be reached
        for m in loop:
            kind = nodes[m].kind
            entry = KINDS.get(kind)
            if kind == NAME:
                problems.append(
                    (
                        m,
                        f"node {m!r}: requests of clients {c!r} reach clients {m!r}; each closed loop must lead "
                        f"back to its own clients node (two loops may not share nodes)",
                    )
                )
            elif entry is not None and not entry.has_output:
                problems.append(
                    (
                        m,
                        f"node {m!r}: requests of clients {c!r} end at {kind} {m!r} and never come back; "
                        f"link the loop back into {c!r} instead",
                    )
                )
            elif m not in back:
                problems.append(
                    (
                        m,
                        f"node {m!r} is on the closed loop of clients {c!r}, but requests that reach it can "
                        f"never get back to {c!r}",
                    )
                )
            else:
                why = _rejects(entry, nodes[m].params, nodes[c].params, KINDS[NAME])
                if why:
                    problems.append((m, f"node {m!r} on the closed loop of clients {c!r} {why}"))
    members = {m: c for c, loop in loops.items() for m in [c, *loop]}
    for n in model.nodes:
        entry = KINDS.get(n.kind)
        if entry is None or entry.has_input:
            continue  # only nodes that create requests (sources) can feed a loop by mistake
        for m in _reach(succ[n.id], succ, set(members)):
            if m in members:
                problems.append(
                    (
                        n.id,
                        f"source {n.id!r} feeds node {m!r} on the closed loop of clients {members[m]!r}: a closed "
                        f"loop carries only its clients' requests (give the open traffic its own stations and a sink)",
                    )
                )
                break
    return problems


def _rejects(entry: Kind | None, params: dict[str, Any], clients_params: dict[str, Any], clients: Kind) -> str:
    """Why a station on a loop could turn requests away ("" if it cannot)."""
    if entry is None or not entry.is_station:
        return ""
    try:
        service = entry.service(entry.resolve(params))
        population = clients.resolve(clients_params)["population"]
    except (KeyError, TypeError, ValueError):
        return ""  # its own parameters are reported wrong elsewhere
    if service is None:
        return ""
    if service.queue_capacity is not None:
        return (
            f"has a finite queue (queue_capacity {service.queue_capacity}): a rejected request never returns to its "
            "client; a closed loop allows only unlimited queues"
        )
    if service.connections is not None and service.connections < population:
        return (
            f"admits {service.connections} connections, fewer than the {population} clients: a rejected request "
            "never returns to its client; raise max_connections to the population at least"
        )
    return ""
