"""Clients: a closed population that thinks, sends one request, waits for it and thinks again."""

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


def _population(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"population must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"population must be >= 0, got {value!r}")
    return value


class _Thinker:
    """One client's pending think period; ``alive`` False when a lower population stopped it."""

    __slots__ = ("alive",)

    def __init__(self) -> None:
        self.alive = True


class Clients(WindowStats, Forwarding, Entity):
    """``population`` clients in a closed loop (a load generator's virtual users).

    Each client thinks for a time drawn from ``think_time``, sends one request to
    ``downstream`` and waits; a request that comes back (any request this entity receives)
    ends here, and its client thinks again. All clients start thinking when the run starts.
    Without a downstream a request comes back at once.

    Window metrics, like a station's (reset at the end of a warm-up): ``arrivals`` requests
    sent, ``completed`` requests returned, ``throughput`` returns per second,
    ``mean_response`` and ``p50/p95/p99_response`` from send to return,
    ``mean_in_system`` the time-average number of requests out in the network,
    ``mean_thinking`` the time-average number of clients thinking, ``population``, and
    ``utilization`` the time-average share of the clients that have a request out (not
    thinking). Nobody queues at the clients: ``mean_queue_length`` and ``mean_wait`` are 0.

    Raises TypeError/ValueError for a population that is not an int >= 0 or a think time
    that is not a LatencyDistribution.
    """

    def __init__(
        self,
        name: str,
        population: int,
        think_time: LatencyDistribution,
        downstream: Entity | None = None,
        *,
        event_type: str = "Request",
    ) -> None:
        Entity.__init__(self, name)
        if not isinstance(think_time, LatencyDistribution):
            raise TypeError(f"think_time must be a LatencyDistribution, got {think_time!r}")
        self._population = _population(population)
        self._think = think_time
        self.event_type = event_type
        self._init_downstream(downstream)
        self._waiting = 0
        self._in_service = 0  # requests out in the network
        self._completed = 0
        self._thinking: dict[_Thinker, None] = {}  # in order of starting to think
        self._retiring = 0  # clients to retire as their requests come back
        self._think_area = 0.0
        self._think_t = 0.0
        self._running = False  # the run has started and the clients with it
        self._init_window()

    # ------------------------------------------------------------- properties
    @property
    def population(self) -> int:
        """Clients in the loop now (those still to retire when they come back excluded)."""
        return self._population

    @property
    def think_time(self) -> LatencyDistribution:
        """The think-time distribution."""
        return self._think

    @property
    def thinking(self) -> int:
        """Clients thinking now."""
        return len(self._thinking)

    @property
    def outstanding(self) -> int:
        """Requests sent and not yet back."""
        return self._in_service

    @property
    def in_service(self) -> int:
        """Same as :attr:`outstanding` (the clients' "busy" ones wait for an answer)."""
        return self._in_service

    @property
    def depth(self) -> int:
        """Always 0: nobody queues at the clients."""
        return 0

    @property
    def utilization(self) -> float:
        """Share of the clients with a request out now (0.0 without clients)."""
        capacity = self._capacity_now()
        return self._in_service / capacity if capacity else 0.0

    # ------------------------------------------------------------- live changes
    def set_population(self, population: int) -> None:
        """Change the number of clients from now on.

        Raising it first keeps clients that were to retire, then starts new clients
        thinking now. Lowering it first stops clients that are thinking (they never send),
        then retires the rest as their requests come back (their requests are measured).
        """
        n = _population(population)
        delta = n - self._population
        if not self._running:
            self._population = n
            return  # the run's start sets every client thinking
        now = self.sim.now
        self._capacity_changed(self._capacity_now(), now)
        self._population = n
        if delta > 0:
            keep = min(delta, self._retiring)
            self._retiring -= keep
            for _ in range(delta - keep):
                self._start_thinking(now)
        elif delta < 0:
            self._account_thinking(now)
            stop = min(-delta, len(self._thinking))
            for _ in range(stop):
                self._thinking.popitem()[0].alive = False  # the latest to start thinking
            self._retiring += -delta - stop

    def set_think_time(self, think_time: LatencyDistribution) -> None:
        """Draw think times from ``think_time`` for every think period that starts from now."""
        if not isinstance(think_time, LatencyDistribution):
            raise TypeError(f"think_time must be a LatencyDistribution, got {think_time!r}")
        self._think = think_time
        if self._sim is not None:
            self._draw = think_time.sampler(self._sim, self.name)

    # ------------------------------------------------------------- simulation
    def _on_attach(self, sim: Simulation) -> None:
        self._attach_downstream(sim)
        self._draw = self._think.sampler(sim, self.name)
        self._think_t = sim.now

    def _start(self) -> None:
        now = self.sim.now
        self._running = True
        self._think_t = now
        for _ in range(self._population):
            self._start_thinking(now)

    def _account_thinking(self, now: float) -> None:
        self._think_area += len(self._thinking) * (now - self._think_t)
        self._think_t = now

    def _start_thinking(self, now: float) -> None:
        self._account_thinking(now)
        thinker = _Thinker()
        self._thinking[thinker] = None
        # Daemon calls, like an unbounded source's arrivals: clients alone never keep a
        # run without end time alive.
        self.sim.call_daemon_at(now + self._draw(), self._send, thinker)

    def _send(self, thinker: _Thinker) -> None:
        if not thinker.alive:
            return
        sim = self.sim
        now = sim.now
        self._account_thinking(now)
        del self._thinking[thinker]
        self._arrivals += 1
        self._m_A += now
        self._enter_service(now, 0.0)  # a request out is "in service" from its send
        request = Event._request(now, self.event_type, self)
        if self._downstream is None:
            self.handle_event(request)
        else:
            self._send_on(request, now)

    def handle_event(self, event: Event) -> None:
        """A request came back: record its response time; its client thinks again (or
        retires, after a lower population)."""
        if not self._in_service:
            return None  # nobody waits for it (it did not come from these clients): it ends here
        sim = self._sim
        now = sim.now  # type: ignore[union-attr]
        ctx = event._context
        sent = event._created_at if ctx is None else float(ctx["created_at"])
        self._depart(now, now - sent, None)
        if self._retiring:
            self._capacity_changed(self._capacity_now(), now)
            self._retiring -= 1
        else:
            self._start_thinking(now)
        return None

    # ------------------------------------------------------------- statistics
    def _reset_window(self, now: float) -> None:
        super()._reset_window(now)
        self._think_area = 0.0
        self._think_t = now

    def _capacity_now(self) -> float:
        # Clients in the loop: those still to retire count until their request is back.
        return float(self._population + self._retiring)

    def window_metrics(self, now: float) -> dict[str, Any]:
        """The metrics over the window from its start to ``now`` (see the class docstring)."""
        metrics = super().window_metrics(now)
        span = now - self._m_start
        area = self._think_area + len(self._thinking) * (now - self._think_t)
        nan = math.nan
        metrics.update(
            blocking_probability=nan,
            mean_thinking=area / span if span > 0 else nan,
            population=self._population,
        )
        return metrics


DIRECT_HANDLERS.add(Clients.handle_event)
