"""The ``sink`` kind: where requests leave; it measures their end-to-end latency."""

from __future__ import annotations

from typing import Any

from engine.components.sink import Sink
from engine.model.kinds.base import Kind, LiveContext
from engine.simulation import Simulation


def _build(node_id: str, r: dict[str, Any], sim: Simulation, context: LiveContext) -> Sink:
    return Sink(node_id)


KIND = Kind(
    "sink",
    "Sink",
    "Where requests leave; measures their end-to-end latency.",
    (),
    has_output=False,
    is_station=False,
    builder=_build,
)
