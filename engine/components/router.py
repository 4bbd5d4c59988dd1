"""Router: sends each request on along one of several links."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.components.window import WindowStats
from engine.distributions import LatencyDistribution
from engine.entity import Entity
from engine.event import Event
from engine.simulation import DIRECT_HANDLERS

if TYPE_CHECKING:
    from engine.simulation import Simulation

POLICIES = ("round_robin", "random", "least_connections", "shortest_queue", "power_of_two", "probability")


def _in_system(entity: Entity) -> int:
    return getattr(entity, "_waiting", 0) + getattr(entity, "_in_service", 0)


def _waiting(entity: Entity) -> int:
    return getattr(entity, "_waiting", 0)


class Router(Entity):
    """Forwards each request to one of ``targets`` at once (or after the link's latency).

    Policies: ``round_robin``; ``random`` (uniform); ``probability`` (by ``weights``,
    which must sum to 1); ``least_connections`` (fewest requests in system at the
    target); ``shortest_queue`` (fewest waiting); ``power_of_two`` (the less loaded of two
    targets picked at random). Ties go to the earliest target.
    """

    def __init__(
        self,
        name: str,
        targets: Sequence[Entity],
        policy: str = "round_robin",
        *,
        weights: Sequence[float] | None = None,
        latencies: Sequence[LatencyDistribution | None] | None = None,
    ) -> None:
        super().__init__(name)
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
        self.set_links(targets, latencies)
        if weights is not None:
            if len(weights) != len(self.targets):
                raise ValueError("weights must have one entry per target")
            total = float(sum(weights))
            if any(w < 0 for w in weights) or not math.isclose(total, 1.0, abs_tol=1e-6):
                raise ValueError(f"weights must be >= 0 and sum to 1, got {list(weights)!r}")
            self._cumulative = np.cumsum(np.asarray(weights, dtype=float) / total).tolist()
        elif policy == "probability":
            raise ValueError("the probability policy needs weights")
        self.policy = policy
        self._uniform: Callable[[], float] = lambda: 0.0
        self._handlers: list[Callable[[Event], Any]] = []
        self._at_once: list[bool] = []

    def set_links(
        self, targets: Sequence[Entity], latencies: Sequence[LatencyDistribution | None] | None = None
    ) -> None:
        """Route to ``targets`` from now on, each link with its optional latency; the
        per-target counts start again. Call before the router joins a simulation."""
        if not targets:
            raise ValueError(f"router {self.name!r} needs at least one target")
        for t in targets:
            if not isinstance(t, Entity):
                raise TypeError(f"targets must be Entities, got {t!r}")
        lat = list(latencies) if latencies is not None else [None] * len(targets)
        if len(lat) != len(targets):
            raise ValueError("latencies must have one entry per target")
        self.targets = list(targets)
        # Stations keep _waiting and _in_service: their load is read without getattr.
        self._stations = all(isinstance(t, WindowStats) for t in self.targets)
        self._latencies = lat
        self._latency_draws: list[Callable[[], float] | None] = [None] * len(lat)
        self._next = 0
        self.routed = [0] * len(self.targets)

    def _on_attach(self, sim: Simulation) -> None:
        for t in self.targets:
            sim.add(t)
        self._bind(sim)

    def _bind(self, sim: Simulation) -> None:
        rng = sim.stream(f"{self.name}/choice")

        def uniforms() -> Any:
            while True:
                yield from rng.random(1024).tolist()

        self._uniform = uniforms().__next__
        self._at = sim.scheduler()
        self._latency_draws = [
            None if d is None else d.sampler(sim, f"{self.name}/link{i}") for i, d in enumerate(self._latencies)
        ]
        # Routers hand requests to other routers through the heap, so chains never recurse.
        self._handlers = [sim.dispatch if isinstance(t, Router) else sim.handler_for(t)[0] for t in self.targets]
        self._at_once = [not isinstance(t, Router) and sim.handler_for(t)[1] for t in self.targets]

    def set_policy(self, policy: str) -> None:
        """Switch policy (takes effect with the next request)."""
        if policy not in POLICIES or (policy == "probability" and not hasattr(self, "_cumulative")):
            raise ValueError(f"policy must be one of {', '.join(POLICIES[:-1])}, got {policy!r}")
        self.policy = policy

    def choose(self) -> int:
        """Index of the target the next request goes to."""
        policy = self.policy
        n = len(self.targets)
        if n == 1:
            return 0
        if policy == "round_robin":
            i = self._next
            self._next = (i + 1) % n
            return i
        if policy == "probability":
            u = self._uniform()
            for i, c in enumerate(self._cumulative):
                if u < c:
                    return i
            return n - 1
        if policy == "random":
            return min(int(self._uniform() * n), n - 1)
        if policy == "power_of_two":
            a = min(int(self._uniform() * n), n - 1)
            b = min(int(self._uniform() * (n - 1)), n - 2)
            if b >= a:
                b += 1
            first, second = (a, b) if a < b else (b, a)
            if self._stations:  # _in_system inlined for speed
                x, y = self.targets[first], self.targets[second]
                return first if x._waiting + x._in_service <= y._waiting + y._in_service else second  # type: ignore[attr-defined]
            return first if _in_system(self.targets[first]) <= _in_system(self.targets[second]) else second
        load = _in_system if policy == "least_connections" else _waiting
        best, best_load = 0, load(self.targets[0])
        for i in range(1, n):
            v = load(self.targets[i])
            if v < best_load:
                best, best_load = i, v
        return best

    def handle_event(self, event: Event) -> None:
        """Send ``event`` on along the chosen link."""
        i = self.choose()
        self.routed[i] += 1
        target = self.targets[i]
        draw = self._latency_draws[i]
        sim = self._sim
        now = sim.now  # type: ignore[union-attr]
        if event._private:  # re-targeted in place: no user code holds it
            event.target = target
        else:  # user code may hold it: pass on a copy (see Event._relay)
            event = event._relay(target, now)
        if draw is None:
            event.time = now
            if self._at_once[i]:
                self._handlers[i](event)
            else:
                self._at(now, self._handlers[i], event)
        else:
            event.time = now + draw()
            self._at(event.time, self._handlers[i], event)
        return None


DIRECT_HANDLERS.add(Router.handle_event)
