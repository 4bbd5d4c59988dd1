"""Shared helpers for the engine tests: tiny deterministic scenarios.

A :class:`Recorder` logs ``(time, event_type)`` for every event it receives; requests are
injected with :func:`inject`, one event type per request when a test needs to tell them
apart (servers forward the very event they served, so its type survives the trip).

The helpers reach tests as fixtures (``recorder``, ``Recorder``, ``inject``, ``call_at``,
``SequenceLatency``) rather than by ``import conftest``, which breaks as soon as another
test directory has a conftest of its own. The class and function fixtures are
session-scoped so Hypothesis tests may use them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

from engine.distributions import LatencyDistribution
from engine.entity import Entity
from engine.event import Event
from engine.simulation import Simulation
from engine.time import Duration


class Recorder(Entity):
    """Logs ``(time, event_type)`` of each event it receives, and keeps the events."""

    def __init__(self, name: str = "recorder") -> None:
        super().__init__(name)
        self.log: list[tuple[float, str]] = []
        self.events: list[Event] = []

    def handle_event(self, event: Event) -> None:
        self.log.append((self.now, event.event_type))
        self.events.append(event)
        return None

    @property
    def times(self) -> list[float]:
        return [t for t, _ in self.log]


class Caller(Entity):
    """Calls ``fn()`` whenever it receives an event (e.g. to change a limit mid-run)."""

    def __init__(self, fn: Callable[[], Any], name: str = "caller") -> None:
        super().__init__(name)
        self.fn = fn

    def handle_event(self, event: Event) -> None:
        self.fn()
        return None


class SequenceLatency(LatencyDistribution):
    """A user distribution overriding only ``get_latency``: returns ``values`` in order."""

    def __init__(self, values: Sequence[float]) -> None:
        super().__init__(sum(values) / len(values))
        self._values = list(values)
        self._next = 0
        self.calls: list[float] = []  # the ``now`` of each draw

    def get_latency(self, now: float) -> Duration:
        value = self._values[self._next % len(self._values)]
        self._next += 1
        self.calls.append(now)
        return Duration(value)


def inject(
    sim: Simulation,
    target: Entity,
    times: Iterable[float],
    names: Iterable[str] | None = None,
    metadata: Iterable[dict[str, Any]] | None = None,
) -> list[Event]:
    """Schedule one ``Event(t, name, target)`` per time; return the events."""
    times = list(times)
    names = list(names) if names is not None else ["Request"] * len(times)
    metas = list(metadata) if metadata is not None else [None] * len(times)
    events = []
    for t, name, meta in zip(times, names, metas, strict=True):
        context = None if meta is None else {"metadata": dict(meta)}
        events.append(Event(t, name, target, context=context))
    sim.schedule(events)
    return events


def call_at(sim: Simulation, t: float, fn: Callable[[], Any]) -> None:
    """Run ``fn()`` at simulated time ``t``."""
    sim.schedule(Event(t, "Call", Caller(fn)))


@pytest.fixture
def recorder() -> Recorder:
    """A fresh Recorder named "recorder"."""
    return Recorder()


@pytest.fixture(scope="session", name="Recorder")
def recorder_class() -> type[Recorder]:
    return Recorder


@pytest.fixture(scope="session", name="SequenceLatency")
def sequence_latency_class() -> type[SequenceLatency]:
    return SequenceLatency


@pytest.fixture(scope="session", name="inject")
def inject_fixture() -> Callable[..., list[Event]]:
    return inject


@pytest.fixture(scope="session", name="call_at")
def call_at_fixture() -> Callable[[Simulation, float, Callable[[], Any]], None]:
    return call_at
