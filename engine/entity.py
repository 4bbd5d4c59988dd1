"""Entities: the things events happen to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.event import Event

if TYPE_CHECKING:
    from engine.simulation import Simulation


class Entity:
    """Base class for everything that handles events.

    Subclasses override :meth:`handle_event`, which returns None, an Event, a list of
    Events, or a generator (a process that yields delays in seconds, or ``(delay,
    events)``, and returns the events to schedule when it finishes).
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty string, got {name!r}")
        self.name = name
        self._sim: Simulation | None = None

    @property
    def sim(self) -> Simulation:
        """The simulation this entity belongs to (RuntimeError before it joins one)."""
        if self._sim is None:
            raise RuntimeError(f"{type(self).__name__} {self.name!r} is not part of a Simulation yet")
        return self._sim

    @property
    def now(self) -> float:
        """The simulation clock in seconds (RuntimeError before the entity joins one)."""
        return self.sim.now

    def handle_event(self, event: Event) -> Any:
        """React to ``event``; see the class docstring for what may be returned."""
        raise NotImplementedError(f"{type(self).__name__} must implement handle_event()")

    def has_capacity(self) -> bool:
        """Whether the entity can take more work now (always True by default)."""
        return True

    def forward(self, event: Event, target: Entity, event_type: str | None = None) -> Event:
        """A new event at ``now`` for ``target`` carrying the same context as ``event``
        (the very same dict, so ``created_at`` and ``metadata`` travel with it).

        The event is built, not scheduled: return it from ``handle_event``. ``event`` itself
        is left as it was.
        """
        new = Event._request(self.now, event.event_type if event_type is None else event_type, target)
        new._share_context_with(event)
        new._weight = event._weight
        new._private = False  # the caller holds it
        return new

    def _attach(self, sim: Simulation) -> None:
        """Join ``sim``; entities this one feeds are attached with it."""
        if self._sim is sim:
            return
        if self._sim is not None:
            raise RuntimeError(f"{type(self).__name__} {self.name!r} already belongs to another Simulation")
        self._sim = sim
        self._on_attach(sim)

    def _on_attach(self, sim: Simulation) -> None:
        """Hook for subclasses: bind samplers, attach downstream entities."""

    def _start(self) -> None:
        """Hook for subclasses: schedule the first events (called once, at the start)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
