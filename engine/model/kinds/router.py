"""The ``router`` kind: sends each request on along one of its out-links, chosen by a policy."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from engine.components.router import Router
from engine.entity import Entity
from engine.model.kinds.base import Kind, LiveContext, Param, Unwired
from engine.simulation import Simulation

ROUTER_POLICIES = ("round_robin", "random", "least_connections", "shortest_queue", "power_of_two")


def _build(node_id: str, r: dict[str, Any], sim: Simulation, context: LiveContext) -> Router:
    return Router(node_id, [Unwired(f"{node_id}:out")], r["policy"])


def _wire(router: Router, targets: list[Entity], latencies: list[Any], probabilities: list[float | None]) -> None:
    router.set_links(targets, latencies)


def _set_policy(router: Router, r: dict[str, Any], context: LiveContext) -> None:
    router.set_policy(r["policy"])


def _departures(r: dict[str, Any], outs: int) -> str | None:
    if r["policy"] != "random" and outs > 1:
        return f"splits by {r['policy']}, which does not keep arrivals Poisson"
    return None


KIND = Kind(
    "router",
    "Router",
    "Sends each request on to one of its out-links, chosen by `policy`.",
    (
        Param(
            "policy",
            "choice",
            "policy",
            "round_robin, random, least_connections (fewest in "
            "system downstream), shortest_queue (fewest waiting), power_of_two (the shorter of two "
            "picked at random).",
            "round_robin",
            choices=ROUTER_POLICIES,
        ),
    ),
    is_station=False,
    chooses_link=True,
    builder=_build,
    wire=_wire,
    live=MappingProxyType({"policy": _set_policy}),
    departures=_departures,
    summarise=lambda r: str(r["policy"]).replace("_", " "),
)
