"""ThreadPool: a fixed number of workers taking tasks from a queue."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from engine.components.server.concurrency import FixedConcurrency
from engine.components.server.queued import QueuedResource
from engine.components.server.server import check_distribution
from engine.components.server.stats import ThreadPoolStats
from engine.distributions import LatencyDistribution
from engine.entity import Entity
from engine.event import Event
from engine.queues import QueuePolicy
from engine.simulation import DIRECT_HANDLERS

if TYPE_CHECKING:
    from engine.simulation import Simulation


class ThreadPool(QueuedResource):
    """A pool of ``num_workers`` worker threads processing tasks from a queue.

    A task's processing time is ``processing_time_extractor(task)`` if given, else
    ``task.context["metadata"]["processing_time"]`` if present, else a draw from
    ``processing_time`` (keyword-only extension; model files use it), else
    ``default_processing_time``. Admission, rejection and dispatch are as for Server.

    Raises ValueError if ``num_workers`` < 1 or the default time is negative; a task whose
    processing time is unparseable or negative raises ValueError naming the task.
    """

    def __init__(
        self,
        name: str,
        num_workers: int,
        queue_policy: QueuePolicy | None = None,
        queue_capacity: int | None = None,
        processing_time_extractor: Callable[[Event], float] | None = None,
        default_processing_time: float = 0.01,
        *,
        downstream: Entity | None = None,
        processing_time: LatencyDistribution | None = None,
    ) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, int):
            raise TypeError(f"num_workers must be an int, got {num_workers!r}")
        if num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {num_workers!r}")
        if processing_time_extractor is not None and not callable(processing_time_extractor):
            raise TypeError(f"processing_time_extractor must be callable, got {processing_time_extractor!r}")
        default = _time(default_processing_time, "default_processing_time")
        self._extractor = processing_time_extractor
        self._default = default
        self._distribution = None if processing_time is None else check_distribution(processing_time, "processing_time")
        self._draw_time: Callable[[], float] | None = None
        super().__init__(name, FixedConcurrency(num_workers), queue_policy, queue_capacity, downstream)

    def _bind_samplers(self, sim: Simulation) -> None:
        self._draw_time = None if self._distribution is None else self._distribution.sampler(sim, self.name)
        self._draw = None  # the time depends on the task: stations call _service_of(event)

    def _service_of(self, event: Event) -> float:
        if self._extractor is not None:
            event._private = False  # user code sees it
            return _time(self._extractor(event), f"processing time of task {_task(event)}")
        ctx = event._context
        if ctx is not None:
            value = ctx["metadata"].get("processing_time")
            if value is not None:
                return _time(value, f"processing_time of task {_task(event)}")
        if self._draw_time is not None:
            return self._draw_time()
        return self._default

    def handle_queued_event(self, event: Event) -> Generator[float, None, list[Event] | Event | None]:
        """Process a task from the queue: yield its processing time, return nothing."""
        yield self._service_of(event)
        return None

    def submit(self, task: Event) -> Event | None:
        """Target ``task`` at this pool and return it, ready for scheduling."""
        if not isinstance(task, Event):
            raise TypeError(f"submit() takes an Event, got {task!r}")
        task.target = self
        return task

    @property
    def num_workers(self) -> int:
        """Total number of worker threads."""
        return self._model.limit

    @property
    def active_workers(self) -> int:
        """Workers processing a task now."""
        return self._in_service

    @property
    def idle_workers(self) -> int:
        """Workers free now."""
        return self._model.limit - self._in_service

    @property
    def queued_tasks(self) -> int:
        """Tasks waiting in the queue."""
        return self._waiting

    @property
    def worker_utilization(self) -> float:
        """Busy workers / workers now."""
        return self._in_service / self._model.limit

    @property
    def utilization(self) -> float:
        """Same as :attr:`worker_utilization`."""
        return self.worker_utilization

    @property
    def processing_time(self) -> LatencyDistribution | None:
        """Distribution used for tasks that carry no processing time (None = the default)."""
        return self._distribution

    @processing_time.setter
    def processing_time(self, value: LatencyDistribution | None) -> None:
        self._distribution = None if value is None else check_distribution(value, "processing_time")
        if self._sim is not None:
            self._bind_samplers(self._sim)

    def set_processing_time(self, dist: LatencyDistribution | None) -> None:
        """Draw the processing times of tasks starting from now on (that carry none of
        their own) from ``dist``; None falls back to the default time. The node's random
        stream continues."""
        self.processing_time = dist

    @property
    def average_processing_time(self) -> float:
        """Average observed processing time in seconds (0.0 before any completion)."""
        return self._average()

    @property
    def stats(self) -> ThreadPoolStats:
        """Frozen snapshot of the statistics."""
        return ThreadPoolStats(self._completed, self._rejected, self._service.total)

    def has_capacity(self) -> bool:  # type: ignore[override]
        """Whether at least one worker is idle."""
        return self._in_service < self._model.limit

    def get_processing_time_percentile(self, percentile: float) -> float:
        """The p-quantile (0 <= p <= 1) of observed processing times; 0.0 without data."""
        return self._percentile(percentile)


ThreadPool._native_handler = ThreadPool.handle_queued_event


def _task(event: Event) -> str:
    ctx = event._context
    return repr(ctx.get("id")) if ctx is not None else repr(event)


def _time(value: Any, what: str) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or math.isnan(t) or t < 0:
        raise ValueError(f"{what} must be a number of seconds >= 0, got {value!r}")
    return t


DIRECT_HANDLERS.add(ThreadPool.handle_event)
