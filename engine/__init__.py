"""Queue Studio's discrete-event simulation engine (pure Python + numpy, never Qt).

The public names are imported lazily so that ``import engine`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Duration",
    "Entity",
    "Event",
    "Instant",
    "Simulation",
    "SimulationStalled",
    "SimulationSummary",
    "Sink",
    "Source",
    "Server",
    "theory",
]

_WHERE = {
    "Duration": "engine.time",
    "Instant": "engine.time",
    "Entity": "engine.entity",
    "Event": "engine.event",
    "Simulation": "engine.simulation",
    "SimulationStalled": "engine.simulation",
    "SimulationSummary": "engine.simulation",
    "Sink": "engine.components.sink",
    "Source": "engine.components.source",
    "Server": "engine.components.server",
}

if TYPE_CHECKING:
    from engine import theory
    from engine.components.server import Server
    from engine.components.sink import Sink
    from engine.components.source import Source
    from engine.entity import Entity
    from engine.event import Event
    from engine.simulation import Simulation, SimulationStalled, SimulationSummary
    from engine.time import Duration, Instant


def __getattr__(name: str) -> Any:
    if name == "theory":
        return importlib.import_module("engine.theory")
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
