"""AsyncServer: an event loop that serialises CPU work and overlaps I/O waits."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Generator
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from engine.components.forwarding import Forwarding
from engine.components.server.server import check_distribution
from engine.components.server.stats import AsyncServerStats
from engine.components.window import WindowStats
from engine.distributions import ConstantLatency, LatencyDistribution
from engine.entity import Entity
from engine.event import Event
from engine.simulation import DIRECT_HANDLERS

if TYPE_CHECKING:
    from engine.simulation import Simulation

log = logging.getLogger(__name__)

IOHandler = Callable[[Event], Any]


class AsyncServer(WindowStats, Forwarding, Entity):
    """Non-blocking server that multiplexes many connections on a single thread.

    1. Accept: at ``max_connections`` a request is rejected (counted, dropped); otherwise
       its connection is held through the CPU wait, the CPU work and the I/O.
    2. CPU: one FIFO server (the event loop); CPU time is drawn from
       ``cpu_work_distribution`` when the work starts (default 0: ``ConstantLatency(0)``,
       no CPU work, pure I/O).
    3. When CPU work ends the next waiting request starts at the same instant, then the
       I/O phase runs: ``io_handler(event)`` may return None or events (complete now) or a
       generator (runs concurrently with other requests' I/O; complete when it returns).
       Without a handler, ``io_time`` (keyword-only extension) draws an I/O wait.
    4. Complete: release the connection, count, forward to ``downstream`` if set and the
       handler returned nothing.

    Raises ValueError if ``max_connections`` < 1.
    """

    def __init__(
        self,
        name: str,
        max_connections: int = 10000,
        cpu_work_distribution: LatencyDistribution | None = None,
        io_handler: IOHandler | None = None,
        *,
        downstream: Entity | None = None,
        io_time: LatencyDistribution | None = None,
    ) -> None:
        Entity.__init__(self, name)
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise TypeError(f"max_connections must be an int, got {max_connections!r}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections!r}")
        if cpu_work_distribution is None:
            cpu_work_distribution = ConstantLatency(0.0)
        check_distribution(cpu_work_distribution, "cpu_work_distribution")
        if io_handler is not None and not callable(io_handler):
            raise TypeError(f"io_handler must be callable, got {io_handler!r}")
        self._max = max_connections
        self._cpu_dist = cpu_work_distribution
        self._io_handler = io_handler
        self._io_time = None if io_time is None else check_distribution(io_time, "io_time")
        self._init_downstream(downstream)
        self._connections = 0
        self._peak = 0
        self._cpu_queue: deque[Event] = deque()
        self._cpu_busy = False
        self._completed = 0
        self._rejected = 0
        self._total_io = 0.0
        self._held_hooks: dict[int, list[Any]] = {}
        self._waiting = 0
        self._in_service = 0
        self._draw_cpu: Callable[[], float] = lambda: 0.0
        self._draw_io: Callable[[], float] | None = None
        self._init_window()

    def _on_attach(self, sim: Simulation) -> None:
        self._at = sim.scheduler()
        self._attach_downstream(sim)
        self._bind_samplers(sim)

    def _bind_samplers(self, sim: Simulation) -> None:
        self._bind_cpu(sim)
        self._bind_io(sim)

    def _bind_cpu(self, sim: Simulation) -> None:
        self._draw_cpu = self._cpu_dist.sampler(sim, f"{self.name}/cpu")

    def _bind_io(self, sim: Simulation) -> None:
        self._draw_io = None if self._io_time is None else self._io_time.sampler(sim, f"{self.name}/io")

    # ------------------------------------------------------------ live setters
    def set_max_connections(self, n: int) -> None:
        """Allow ``n`` connections open at once from now on, as a run started with it:
        connections arriving while ``n`` or more are open are rejected; lowering it closes
        none of those open now.

        Raises TypeError for a non-int, ValueError for ``n`` < 1.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"max_connections must be an int, got {n!r}")
        if n < 1:
            raise ValueError(f"max_connections must be >= 1, got {n!r}")
        if n != self._max and self._sim is not None:
            self._capacity_changed(self._max, self._sim.now)
        self._max = n

    def set_cpu_work(self, dist: LatencyDistribution | None) -> None:
        """Draw the CPU work of requests whose CPU work starts from now on from ``dist``
        (None = ``ConstantLatency(0)``: no CPU work); the ``"<name>/cpu"`` stream continues."""
        self._cpu_dist = ConstantLatency(0.0) if dist is None else check_distribution(dist, "cpu_work_distribution")
        if self._sim is not None:
            self._bind_cpu(self._sim)

    def set_io_time(self, dist: LatencyDistribution | None) -> None:
        """Draw the I/O wait of requests whose I/O starts from now on from ``dist`` (None =
        no I/O; an ``io_handler``, if any, still takes precedence); the ``"<name>/io"``
        stream continues."""
        self._io_time = None if dist is None else check_distribution(dist, "io_time")
        if self._sim is not None:
            self._bind_io(self._sim)

    def _reset_window(self, now: float) -> None:
        super()._reset_window(now)
        self._m_cpu_start = now if self._cpu_busy else 0.0
        self._m_cpu_end = 0.0

    # ------------------------------------------------------------------ phases
    def handle_event(self, event: Event) -> None:
        """Accept a connection (or reject it at max_connections) and queue its CPU work."""
        now = self._sim.now  # type: ignore[union-attr]
        self._arrivals += 1
        if event.on_complete:
            self._held_hooks[id(event)] = event.on_complete
            event.on_complete = None
        if self._connections >= self._max:
            self._rejected += 1
            log.debug("%s rejected %r: %d connections open", self.name, event, self._connections)
            self._release_hooks(event)
            return None
        self._connections += 1
        if self._connections > self._peak:
            self._peak = self._connections
        event._t_arrive = now
        self._m_A += now
        if self._cpu_busy:
            self._cpu_queue.append(event)
            self._waiting += 1
        else:
            self._start_cpu(event, now)
        return None

    def _start_cpu(self, event: Event, now: float) -> None:
        self._cpu_busy = True
        self._enter_service(now, now - event._t_arrive)
        self._m_cpu_start += now
        cpu = self._draw_cpu()
        event._t_service = cpu
        self._at(now + cpu, self._cpu_done, event)

    def _cpu_done(self, event: Event) -> None:
        now = self._sim.now  # type: ignore[union-attr]
        self._m_cpu_end += now
        self._cpu_busy = False
        if self._waiting:
            self._waiting -= 1
            self._start_cpu(self._cpu_queue.popleft(), now)
        handler = self._io_handler
        if handler is not None:
            event._private = False  # user code sees it
            result = handler(event)
            if type(result) is GeneratorType:
                self._sim.start_process(self._run_io(result, event, now))  # type: ignore[union-attr]
                return
            self._sim.schedule_result(result, event)  # type: ignore[union-attr]
            self._complete(event, result is not None)
        elif self._draw_io is not None:
            io = self._draw_io()
            self._total_io += io
            self._at(now + io, self._io_done, event)
        else:
            self._complete(event, False)

    def _run_io(self, gen: Generator[Any, None, Any], event: Event, start: float) -> Generator[Any, None, None]:
        result = yield from gen
        sim = self._sim
        sim.schedule_result(result, event)  # type: ignore[union-attr]
        self._total_io += sim.now - start  # type: ignore[union-attr]
        self._complete(event, result is not None)

    def _io_done(self, event: Event) -> None:
        self._complete(event, False)

    def _complete(self, event: Event, handler_returned: bool) -> None:
        now = self._sim.now  # type: ignore[union-attr]
        self._connections -= 1
        self._depart(now, now - event._t_arrive, event._t_service)
        if self._held_hooks:
            self._release_hooks(event)
        if self._downstream is not None and not handler_returned:
            self._send_on(event, now)

    def _release_hooks(self, event: Event) -> None:
        hooks = self._held_hooks.pop(id(event), None)
        if hooks:
            event.on_complete = hooks
            self._sim.run_hooks(event)  # type: ignore[union-attr]

    # ------------------------------------------------------------ window stats
    def _capacity_now(self) -> float:
        return self._max

    def _busy_units(self) -> float:
        return self._connections

    def _busy_area(self, now: float, in_service_area: float) -> float:
        # Busy capacity is open connections: waiting for the CPU counts too.
        return self._m_D + self._connections * now - self._m_A

    def window_metrics(self, now: float) -> dict[str, Any]:
        metrics = super().window_metrics(now)
        span = now - self._m_start
        cpu_area = self._m_cpu_end - self._m_cpu_start + (now if self._cpu_busy else 0.0)
        metrics["cpu_utilization"] = cpu_area / span if span > 0 else float("nan")
        return metrics

    # --------------------------------------------------------------- properties
    @property
    def max_connections(self) -> int:
        """Maximum allowed concurrent connections."""
        return self._max

    @property
    def active_connections(self) -> int:
        """Connections open now."""
        return self._connections

    @property
    def peak_connections(self) -> int:
        """Most connections open at once so far."""
        return self._peak

    @property
    def cpu_queue_depth(self) -> int:
        """Requests waiting for CPU time."""
        return self._waiting

    @property
    def depth(self) -> int:
        """Same as :attr:`cpu_queue_depth`."""
        return self._waiting

    @property
    def in_service(self) -> int:
        """Connections past their CPU wait (in CPU work or I/O)."""
        return self._in_service

    @property
    def is_cpu_busy(self) -> bool:
        """Whether the event loop is doing CPU work now."""
        return self._cpu_busy

    @property
    def cpu_work_distribution(self) -> LatencyDistribution:
        """Distribution of CPU time per request (``ConstantLatency(0)`` when none was given:
        no CPU work)."""
        return self._cpu_dist

    @property
    def io_handler(self) -> IOHandler | None:
        """The I/O-phase handler, if any."""
        return self._io_handler

    @property
    def io_time(self) -> LatencyDistribution | None:
        """I/O wait drawn per request when there is no handler (None = no I/O)."""
        return self._io_time

    @property
    def stats(self) -> AsyncServerStats:
        """Frozen snapshot of the statistics (``total_cpu_time`` sums the CPU work of the
        completed requests, recorded with their completion like every station's service time)."""
        return AsyncServerStats(self._completed, self._rejected, self._service.total, self._total_io)

    @property
    def stats_accepted(self) -> int:
        """Connections accepted."""
        return self._arrivals - self._rejected

    @property
    def stats_dropped(self) -> int:
        """Connections rejected."""
        return self._rejected

    @property
    def utilization(self) -> float:
        """Open connections / max_connections."""
        return self._connections / self._max

    @property
    def average_cpu_time(self) -> float:
        """Average CPU time of the completed requests (0.0 before any)."""
        cpu = self._service  # a request's service at the event loop is its CPU work
        return cpu.total / cpu.count if cpu.count else 0.0

    def has_capacity(self) -> bool:
        """Whether another connection can be accepted."""
        return self._connections < self._max

    def get_cpu_time_percentile(self, percentile: float) -> float:
        """The p-quantile (0 <= p <= 1) of the completed requests' CPU times; 0.0 without data."""
        return self._service.percentile(percentile)


DIRECT_HANDLERS.add(AsyncServer.handle_event)
