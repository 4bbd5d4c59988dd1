"""Sources: where requests come from."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from engine.distributions import ConstantLatency, ExponentialLatency, LatencyDistribution
from engine.entity import Entity
from engine.event import Event
from engine.simulation import DIRECT_HANDLERS
from engine.time import seconds

if TYPE_CHECKING:
    from engine.simulation import Simulation

ContextFactory = Callable[[float], dict[str, Any]]


def _rate(value: Any, what: str = "rate") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of arrivals per second, got {value!r}")
    r = float(value)
    if not math.isfinite(r) or r < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return r


def _profile(profile: Any) -> tuple[list[float], list[float]]:
    try:
        points = [(float(t), r) for t, r in profile]
    except (TypeError, ValueError):
        raise TypeError(f"profile must be a list of [time, rate] pairs, got {profile!r}") from None
    if not points:
        raise ValueError("profile must have at least one [time, rate] pair")
    times = [t for t, _ in points]
    rates = [_rate(r, f"profile[{i}] rate") for i, (_, r) in enumerate(points)]
    for i, t in enumerate(times):
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"profile[{i}] time must be a finite number >= 0, got {t!r}")
        if i and t <= times[i - 1]:
            raise ValueError(f"profile times must increase; profile[{i}] is {t!r} after {times[i - 1]!r}")
    if times[0] > 0:  # no arrivals before the first breakpoint
        times.insert(0, 0.0)
        rates.insert(0, 0.0)
    return times, rates


class _PriorityContext:
    """A context factory giving each request the same priority in its metadata."""

    __slots__ = ("priority",)

    def __init__(self, priority: float) -> None:
        self.priority = priority

    def __call__(self, now: float) -> dict[str, Any]:
        return {"metadata": {"priority": self.priority}}


class Source(Entity):
    """Generates requests for ``target``.

    Give exactly one of ``interarrival`` (a renewal process), ``rate`` (Poisson arrivals
    per second) or ``profile`` (``[[t, rate], …]``: a Poisson process whose rate is
    piecewise constant). The first arrival comes one inter-arrival time after the start.
    ``stop_after`` (seconds) ends arrivals at that time, ``limit`` after that many.
    ``context_factory(now)`` may supply each request's context (e.g. its metadata).
    A source with neither bound schedules daemon arrivals, so it never keeps a run
    without end time alive.
    """

    def __init__(
        self,
        name: str,
        target: Entity,
        interarrival: LatencyDistribution | None = None,
        *,
        rate: float | None = None,
        profile: Sequence[Sequence[float]] | None = None,
        event_type: str = "Request",
        stop_after: float | None = None,
        limit: int | None = None,
        context_factory: ContextFactory | None = None,
    ) -> None:
        super().__init__(name)
        if not isinstance(target, Entity):
            raise TypeError(f"target must be an Entity, got {target!r}")
        given = [x is not None for x in (interarrival, rate, profile)]
        if sum(given) != 1:
            raise ValueError("give exactly one of interarrival, rate or profile")
        if interarrival is not None and not isinstance(interarrival, LatencyDistribution):
            raise TypeError(f"interarrival must be a LatencyDistribution, got {interarrival!r}")
        if context_factory is not None and not callable(context_factory):
            raise TypeError(f"context_factory must be callable, got {context_factory!r}")
        self.target = target
        self.event_type = event_type
        self._limit: int | None = None
        self._stop_after: float | None = None
        self.limit = limit
        self.stop_after = stop_after
        self.context_factory = context_factory
        self._priority: float | None = None
        self._interarrival = interarrival
        self._rate: float | None = None
        self._profile: tuple[list[float], list[float]] | None = None
        if rate is not None:
            self._rate = _rate(rate)
        if profile is not None:
            self._profile = _profile(profile)
        self.generated = 0
        self._token = 0
        self._draw: Callable[[], float] = lambda: math.inf
        self._unit: Callable[[], float] = lambda: math.inf
        # The kernel's bound schedulers (see Simulation.scheduler), set on joining one.
        self._at: Callable[[float, Callable[[Any], Any], Any], None]
        self._at_daemon: Callable[[float, Any], None]

    # ------------------------------------------------------------ constructors
    @classmethod
    def constant(cls, rate: float, target: Entity, *, name: str = "source", **kwargs: Any) -> Source:
        """Arrivals exactly every ``1/rate`` seconds."""
        r = _rate(rate)
        if r <= 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        return cls(name, target, ConstantLatency(1.0 / r), **kwargs)

    @classmethod
    def poisson(cls, rate: float, target: Entity, *, name: str = "source", **kwargs: Any) -> Source:
        """Poisson arrivals at ``rate`` per second (exponential inter-arrival times)."""
        return cls(name, target, rate=rate, **kwargs)

    @classmethod
    def with_profile(
        cls, profile: Sequence[Sequence[float]], target: Entity, *, name: str = "source", **kwargs: Any
    ) -> Source:
        """Poisson arrivals whose rate follows ``profile`` (``[[t, rate], …]``, piecewise constant)."""
        return cls(name, target, profile=profile, **kwargs)

    # ------------------------------------------------------------- properties
    @property
    def target(self) -> Entity:
        """The entity that receives the requests; assignable."""
        return self._target

    @target.setter
    def target(self, value: Entity) -> None:
        if not isinstance(value, Entity):
            raise TypeError(f"target must be an Entity, got {value!r}")
        self._target = value
        # Requests for a built-in component stay private (see Event._relay); user code may
        # keep what it receives, so the engine must never change those afterwards.
        self._private = type(value).handle_event in DIRECT_HANDLERS
        if self._sim is not None:
            self._sim.add(value)

    @property
    def rate(self) -> float | None:
        """Poisson rate per second (None for other kinds); assigning applies at once."""
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        self._rate = _rate(value)
        self._interarrival = None
        self._profile = None
        self._rebind()

    @property
    def interarrival(self) -> LatencyDistribution | None:
        """Inter-arrival distribution (None for a rate or profile source); assignable."""
        return self._interarrival

    @interarrival.setter
    def interarrival(self, value: LatencyDistribution) -> None:
        if not isinstance(value, LatencyDistribution):
            raise TypeError(f"interarrival must be a LatencyDistribution, got {value!r}")
        self._interarrival = value
        self._rate = None
        self._profile = None
        self._rebind()

    def set_rate(self, rate: float) -> None:
        """Poisson arrivals at ``rate`` per second from now on: the pending arrival is
        forgotten and the next drawn from now, exactly as a run started now with that rate
        (the exponential has no memory). Clears an inter-arrival distribution or profile."""
        self.rate = rate

    def set_interarrival(self, dist: LatencyDistribution) -> None:
        """Renewal arrivals with inter-arrival times from ``dist`` from now on: the next
        arrival comes one drawn time after now, as at the start of a run. Clears a rate or
        profile."""
        self.interarrival = dist

    @property
    def priority(self) -> float | None:
        """The priority every request gets in its metadata (None = none; see :meth:`set_priority`)."""
        return self._priority

    def set_priority(self, priority: float | None) -> None:
        """Give every request generated from now on ``{"metadata": {"priority": priority}}``
        as its context (a priority queue serves low keys first); None gives requests no
        context. Replaces the ``context_factory``."""
        if priority is not None and (isinstance(priority, bool) or not isinstance(priority, (int, float))):
            raise TypeError(f"priority must be a number or None, got {priority!r}")
        self._priority = priority
        self.context_factory = None if priority is None else _PriorityContext(priority)

    @property
    def profile(self) -> list[tuple[float, float]] | None:
        """The rate profile as ``[(t, rate), …]``, or None."""
        if self._profile is None:
            return None
        return list(zip(*self._profile))

    def rate_at(self, t: float) -> float:
        """The arrival rate in effect at time ``t`` (1/mean for a renewal source)."""
        if self._profile is not None:
            times, rates = self._profile
            return rates[bisect.bisect_right(times, t) - 1]
        if self._rate is not None:
            return self._rate
        mean = self._interarrival.mean if self._interarrival is not None else 0.0
        return 1.0 / mean if mean > 0 else math.inf

    # ------------------------------------------------------------- simulation
    def _on_attach(self, sim: Simulation) -> None:
        sim.add(self.target)
        self._at = sim.scheduler()
        self._at_daemon = sim.daemon_scheduler(self._emit)
        self._bind(sim)

    def _bind(self, sim: Simulation) -> None:
        if self._interarrival is not None:
            self._draw = self._interarrival.sampler(sim, self.name)
        elif self._rate is not None:
            r = self._rate
            self._draw = ExponentialLatency(1.0 / r).sampler(sim, self.name) if r > 0 else (lambda: math.inf)
        else:
            self._unit = ExponentialLatency(1.0).sampler(sim, self.name)
            self._draw = self._profile_gap

    def _start(self) -> None:
        self._schedule_next(self._sim.now)  # type: ignore[union-attr]

    def _rebind(self) -> None:
        """Forget the pending arrival and draw a new one from now (exact for Poisson)."""
        sim = self._sim
        if sim is None:
            return
        self._bind(sim)
        self._token += 1
        if sim.started:
            self._schedule_next(sim.now)

    def _profile_gap(self) -> float:
        # Invert the integrated rate: walk the segments spending one unit-exponential draw.
        times, rates = self._profile  # type: ignore[misc]
        t = start = self._sim.now  # type: ignore[union-attr]
        k = bisect.bisect_right(times, t) - 1
        need = self._unit()
        while True:
            r = rates[k]
            end = times[k + 1] if k + 1 < len(times) else math.inf
            if r > 0:
                if t + need / r < end:
                    return t + need / r - start
                need -= (end - t) * r
            if end == math.inf:
                return math.inf
            t = end
            k += 1

    def _schedule_next(self, now: float) -> None:
        if self._limit is not None and self.generated >= self._limit:
            return
        t = now + self._draw()
        if t == math.inf or (self._stop_after is not None and t > self._stop_after):
            return
        if self._unbounded:  # without a bound, arrivals never keep a run alive on their own
            self._at_daemon(t, self._token)
        else:
            self._at(t, self._emit, self._token)

    def _emit(self, token: int) -> None:
        sim = self._sim
        now = sim.now  # type: ignore[union-attr]
        if token != self._token:
            return  # superseded by a rate change
        if self._unbounded:
            # _schedule_next inlined for speed (an unbounded source has nothing to check).
            t = now + self._draw()
            if t != math.inf:
                self._at_daemon(t, token)
        self.generated += 1
        target = self._target
        if self.context_factory is None:
            event = Event._request(now, self.event_type, target)
            if not self._private:
                event._private = False
        else:
            event = Event(now, self.event_type, target, context=self.context_factory(now))
            event._private = self._private
        if not self._unbounded:
            self._schedule_next(now)
        # A fresh request has no hooks and cannot be cancelled yet, so the target's handler
        # is called directly rather than through the generic dispatch.
        result = target.handle_event(event)
        if result is not None:
            sim.take_result(result, event)  # type: ignore[union-attr]

    @property
    def limit(self) -> int | None:
        """Arrivals after which the source stops (None = no limit)."""
        return self._limit

    @limit.setter
    def limit(self, value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"limit must be an int >= 0, got {value!r}")
        self._limit = value
        self._unbounded = value is None and getattr(self, "_stop_after", None) is None

    @property
    def stop_after(self) -> float | None:
        """Time (seconds) after which the source stops (None = never)."""
        return self._stop_after

    @stop_after.setter
    def stop_after(self, value: float | None) -> None:
        self._stop_after = None if value is None else seconds(value, "stop_after")
        self._unbounded = self._stop_after is None and getattr(self, "_limit", None) is None

    def handle_event(self, event: Event) -> None:
        """Sources receive no events."""
        raise TypeError(f"Source {self.name!r} does not accept events (got {event!r})")
