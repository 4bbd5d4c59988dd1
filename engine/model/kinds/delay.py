"""The ``delay`` kind: an infinite-server station holding every request for a drawn time."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from engine.components.delay import Delay
from engine.model.kinds.base import Kind, LiveContext, Param, ServiceDescription, describe_dist, dist
from engine.simulation import Simulation


def _build(node_id: str, r: dict[str, Any], sim: Simulation, context: LiveContext) -> Delay:
    return Delay(node_id, dist(r["delay"]))


def _set_delay(delay: Delay, r: dict[str, Any], context: LiveContext) -> None:
    delay.set_delay(dist(r["delay"]))


def _describe(r: dict[str, Any]) -> ServiceDescription:
    return ServiceDescription(dist(r["delay"]), None, "an infinite-server station has no c", infinite=True)


KIND = Kind(
    "delay",
    "Delay",
    "Holds every request for a time drawn from `delay`, all at once (an infinite-server station: think time, network).",
    (
        Param(
            "delay",
            "dist",
            "delay",
            "Time each request is held.",
            {"dist": "constant", "value": 1.0},
            "s",
            required=True,
        ),
    ),
    builder=_build,
    live=MappingProxyType({"delay": _set_delay}),
    describe=_describe,
    summarise=lambda r: describe_dist(r["delay"]),
)
