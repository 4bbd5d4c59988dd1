"""Delay: an infinite-server station that holds every request for a drawn time."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from engine.components.forwarding import Forwarding
from engine.components.window import WindowStats
from engine.distributions import LatencyDistribution
from engine.entity import Entity
from engine.event import Event
from engine.simulation import DIRECT_HANDLERS

if TYPE_CHECKING:
    from engine.simulation import Simulation


class Delay(WindowStats, Forwarding, Entity):
    """Holds each request for a time drawn from ``delay`` — all at once, nobody waits (M/G/∞).

    Think time, network transit, a sleep. Completed requests go to ``downstream``.
    """

    def __init__(self, name: str, delay: LatencyDistribution, downstream: Entity | None = None) -> None:
        Entity.__init__(self, name)
        if not isinstance(delay, LatencyDistribution):
            raise TypeError(f"delay must be a LatencyDistribution, got {delay!r}")
        self._delay = delay
        self._init_downstream(downstream)
        self._waiting = 0
        self._in_service = 0
        self._completed = 0
        self._init_window()

    def _on_attach(self, sim: Simulation) -> None:
        self._attach_downstream(sim)
        self._at = sim.scheduler()
        self._draw = self._delay.sampler(sim, self.name)

    @property
    def delay(self) -> LatencyDistribution:
        """The delay distribution; assigning one applies to requests arriving from now on."""
        return self._delay

    @delay.setter
    def delay(self, value: LatencyDistribution) -> None:
        if not isinstance(value, LatencyDistribution):
            raise TypeError(f"delay must be a LatencyDistribution, got {value!r}")
        self._delay = value
        if self._sim is not None:
            self._draw = value.sampler(self._sim, self.name)

    def set_delay(self, delay: LatencyDistribution) -> None:
        """Hold requests arriving from now on for times drawn from ``delay`` (requests held
        now keep the time they drew); the node's random stream continues."""
        self.delay = delay

    @property
    def in_service(self) -> int:
        """Requests being held now."""
        return self._in_service

    @property
    def depth(self) -> int:
        """Always 0: nobody waits at a delay."""
        return 0

    def handle_event(self, event: Event) -> None:
        """Hold the request for a drawn time."""
        sim = self._sim
        now = sim.now  # type: ignore[union-attr]
        self._arrivals += 1
        event._t_arrive = now
        self._m_A += now
        self._enter_service(now, 0.0)
        held = event._t_service = self._draw()
        self._at(now + held, self._release, event)
        return None

    def _release(self, event: Event) -> None:
        sim = self._sim
        now = sim.now  # type: ignore[union-attr]
        self._depart(now, now - event._t_arrive, event._t_service)
        if self._downstream is not None:
            self._send_on(event, now)

    def _capacity_now(self) -> float:
        return math.inf

    def window_metrics(self, now: float) -> dict[str, Any]:
        metrics = super().window_metrics(now)
        metrics["utilization"] = math.nan  # an infinite-server station has no utilisation
        return metrics


DIRECT_HANDLERS.add(Delay.handle_event)
