"""What each node kind is: the single description behind validation, building, live runs,
theory, the canvas, the inspector, the palette and the docs.

Each kind is one entry of :data:`KINDS` (a :class:`Kind`, written in its own module of
:mod:`engine.model.kinds`); this module is where the rest of Queue Studio looks them up,
with the limits every kind shares and the fields of the ``simulation`` block.
"""

from __future__ import annotations

from typing import Any

from engine.model.kinds import KINDS
from engine.model.kinds.base import (
    DEFAULT_SERVICE,
    MAX_COUNT,
    MAX_RATE,
    MAX_TIME,
    MIN_RATE,
    TIME_RESOLUTION,
    Kind,
    LiveContext,
    Param,
    ServiceDescription,
)
from engine.model.kinds.queued import QUEUE_POLICIES
from engine.model.kinds.router import ROUTER_POLICIES
from engine.model.kinds.server import AUTOSCALE_DEFAULTS, AUTOSCALE_FIELDS, CONCURRENCY_FIELDS

__all__ = [
    "AUTOSCALE_DEFAULTS",
    "AUTOSCALE_FIELDS",
    "CONCURRENCY_FIELDS",
    "DEFAULT_SERVICE",
    "KINDS",
    "MAX_COUNT",
    "MAX_RATE",
    "MAX_TIME",
    "MIN_RATE",
    "QUEUE_POLICIES",
    "ROUTER_POLICIES",
    "SIMULATION_FIELDS",
    "TIME_RESOLUTION",
    "Kind",
    "LiveContext",
    "Param",
    "ServiceDescription",
    "is_station",
    "kind_of",
]


def kind_of(name: str) -> Kind | None:
    """The entry of kind ``name``, or None for a kind Queue Studio does not know."""
    return KINDS.get(name)


def is_station(kind: str) -> bool:
    """Whether nodes of kind ``kind`` are stations (they queue and serve, and report the
    station metrics): :attr:`Kind.is_station` of its entry, False for an unknown kind."""
    entry = KINDS.get(kind)
    return entry is not None and entry.is_station


#: Fields of the "simulation" block: (default, minimum, help).
SIMULATION_FIELDS: dict[str, tuple[Any, float, str]] = {
    "end_time": (1000.0, 0.0, "Simulated seconds to run (> 0, at most 9.2e9: see Limits)."),
    "warmup": (
        0.0,
        0.0,
        'Simulated seconds discarded before statistics start (≥ 0, less than `end_time`), or `"auto"`: '
        "experiments and `queuestudio run` cut it by MSER-5 (docs/experiments.md); a single live run measures from 0.",
    ),
    "seed": (1, 0, "Seed of the random generator (an integer ≥ 0; null = a fresh one each run)."),
    "sample_interval": (
        1.0,
        0.0,
        "Simulated seconds between two points of the time series (at least 1e-9: see Limits).",
    ),
}
