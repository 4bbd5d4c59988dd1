"""Passing finished requests on to a ``downstream`` entity (shared by every station)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.entity import Entity
from engine.event import Event

if TYPE_CHECKING:
    from engine.simulation import Simulation


def check_downstream(downstream: Any) -> Entity | None:
    """``downstream`` if it is an Entity or None; TypeError otherwise."""
    if downstream is not None and not isinstance(downstream, Entity):
        raise TypeError(f"downstream must be an Entity or None, got {downstream!r}")
    return downstream


class Forwarding:
    """Mixin: a ``downstream`` property and :meth:`_send_on`, which hands a finished
    request on at the current instant with its context preserved."""

    _sim: Simulation | None
    _downstream: Entity | None = None
    _forward: Callable[[Event], Any] | None = None
    _forward_now = False

    def _init_downstream(self, downstream: Entity | None) -> None:
        self._downstream = check_downstream(downstream)

    def _attach_downstream(self, sim: Simulation) -> None:
        if self._downstream is not None:
            sim.add(self._downstream)
            self._forward, self._forward_now = sim.handler_for(self._downstream)

    @property
    def downstream(self) -> Entity | None:
        """Entity that finished requests are forwarded to (context preserved), or None."""
        return self._downstream

    @downstream.setter
    def downstream(self, value: Entity | None) -> None:
        self._downstream = check_downstream(value)
        if self._sim is not None:
            self._attach_downstream(self._sim)

    def _send_on(self, event: Event, now: float) -> None:
        """Hand ``event`` to ``downstream`` at ``now``.

        A built-in downstream takes it at once (its handler only records and schedules, so
        this cannot recurse); anything else gets it through the event heap, as an event of
        its own (see :meth:`Event._relay`: user code never sees an event it holds change).
        """
        event = event._relay(self._downstream, now)  # type: ignore[arg-type]
        if self._forward_now:
            self._forward(event)  # type: ignore[misc]
        else:
            self._sim.call_soon(self._forward, event)  # type: ignore[union-attr,arg-type]
