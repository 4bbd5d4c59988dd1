"""Server: a queued station with a concurrency model and a service-time distribution."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from engine.components.server.concurrency import (
    ConcurrencyModel,
    DynamicConcurrency,
    FixedConcurrency,
    WeightedConcurrency,
)
from engine.components.server.queued import QueuedResource
from engine.components.server.stats import ServerStats
from engine.distributions import ConstantLatency, LatencyDistribution
from engine.entity import Entity
from engine.event import Event
from engine.queues import QueuePolicy
from engine.simulation import DIRECT_HANDLERS

if TYPE_CHECKING:
    from engine.simulation import Simulation

DEFAULT_SERVICE_TIME = 0.01


def concurrency_model_of(concurrency: Any) -> ConcurrencyModel:
    """An int as FixedConcurrency, a ConcurrencyModel as given; TypeError otherwise."""
    if isinstance(concurrency, bool):
        raise TypeError(f"concurrency must be an int or a ConcurrencyModel, got {concurrency!r}")
    if isinstance(concurrency, int):
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency!r}")
        return FixedConcurrency(concurrency)
    if isinstance(concurrency, ConcurrencyModel):
        return concurrency
    raise TypeError(f"concurrency must be an int or a ConcurrencyModel, got {concurrency!r}")


def check_distribution(value: Any, what: str) -> LatencyDistribution:
    if not isinstance(value, LatencyDistribution):
        raise TypeError(f"{what} must be a LatencyDistribution, got {value!r}")
    return value


class Server(QueuedResource):
    """Server with configurable concurrency, service time distribution and queue policy.

    ``concurrency`` is an int (wrapped in FixedConcurrency) or a ConcurrencyModel used as
    given. ``service_time`` defaults to 10 ms constant, ``queue_policy`` to FIFO,
    ``queue_capacity`` to unlimited (0 makes a loss system). Completed requests go to
    ``downstream`` with their context.

    Raises TypeError for a concurrency that is neither, ValueError for a negative queue
    capacity or a concurrency < 1.
    """

    def __init__(
        self,
        name: str,
        concurrency: int | ConcurrencyModel = 1,
        service_time: LatencyDistribution | None = None,
        queue_policy: QueuePolicy | None = None,
        queue_capacity: int | None = None,
        downstream: Entity | None = None,
    ) -> None:
        model = concurrency_model_of(concurrency)
        if service_time is None:
            service_time = ConstantLatency(DEFAULT_SERVICE_TIME)
        self._service_time = check_distribution(service_time, "service_time")
        self._weight: LatencyDistribution | None = None
        super().__init__(name, model, queue_policy, queue_capacity, downstream)

    def _bind_samplers(self, sim: Simulation) -> None:
        self._sample = self._draw = self._service_time.sampler(sim, self.name)
        if self._weight is not None and self._weight_sampler is None:
            self._bind_weight(sim)

    def _bind_weight(self, sim: Simulation) -> None:
        w = self._weight
        self._weight_sampler = None if w is None else w.sampler(sim, f"{self.name}/weight")

    # ------------------------------------------------------------ live setters
    def set_service_time(self, dist: LatencyDistribution) -> None:
        """Draw the service times of requests starting from now on from ``dist`` (requests
        in service keep theirs); the node's random stream continues."""
        self.service_time = dist

    def set_slot_limits(self, initial: int, minimum: int = 1, maximum: int | None = None) -> None:
        """Give a slot server the limit ``initial`` within ``[minimum, maximum]`` (None =
        no upper bound) from now on, as a run started with them: raising the limit starts
        waiting work at once, lowering it pre-empts nothing. A fixed model becomes a
        DynamicConcurrency.

        Raises TypeError for a weighted or custom concurrency model, ValueError for bounds
        the DynamicConcurrency constructor refuses.
        """
        if not self._slots:
            raise TypeError(f"{self.name}: a {type(self._model).__name__} has no slot limits")
        DynamicConcurrency(initial, minimum, maximum)  # validates, as at the start of a run
        model = self._dynamic()
        model.set_bounds(minimum, maximum)
        model.set_limit(initial)

    def set_total_capacity(self, total: int) -> None:
        """Give a weighted server ``total`` capacity units from now on: raising it starts
        the waiting requests that now fit at once; lowering it pre-empts nothing (work in
        flight keeps its units) and requests heavier than the new total that arrive from
        now on are rejected. A request already waiting that is heavier than the new total
        waits (and holds those behind it) until the total rises again.

        Raises TypeError unless the server has a WeightedConcurrency.
        """
        model = self._model
        if not isinstance(model, WeightedConcurrency):
            raise TypeError(f"{self.name}: set_total_capacity needs a WeightedConcurrency, not {type(model).__name__}")
        before = model.limit
        model.set_total_capacity(total)
        sim = self._sim
        if total != before and sim is not None:
            self._capacity_changed(before, sim.now)
            if total > before and self._waiting:
                self._dispatch_waiting(sim.now)

    def set_weight(self, dist: LatencyDistribution | None) -> None:
        """Draw the weight of each arriving request that carries none from ``dist`` from
        now on (rounded up, at least 1), on the node's own ``"<name>/weight"`` stream; None
        gives such requests weight 1. Weights matter to a weighted server only."""
        self._weight = None if dist is None else check_distribution(dist, "weight")
        self._weight_sampler = None
        if self._sim is not None:
            self._bind_weight(self._sim)

    @property
    def weight(self) -> LatencyDistribution | None:
        """The distribution of the weights drawn for requests that carry none (None = 1)."""
        return self._weight

    @property
    def is_weighted(self) -> bool:
        """Whether requests take their weight in capacity units (a WeightedConcurrency)."""
        return isinstance(self._model, WeightedConcurrency)

    def _service_of(self, event: Event) -> float:
        return self._sample()

    def handle_queued_event(self, event: Event) -> Generator[float, None, list[Event] | Event | None]:
        """Process a request from the queue: yield its service time, return nothing."""
        yield self._sample()
        return None

    @property
    def concurrency_model(self) -> ConcurrencyModel:
        """The concurrency control model."""
        return self._model

    @property
    def concurrency(self) -> int:
        """Maximum concurrent requests (the current limit)."""
        return self._model.limit

    @property
    def service_time(self) -> LatencyDistribution:
        """The service time distribution; assigning one takes effect from the next start."""
        return self._service_time

    @service_time.setter
    def service_time(self, value: LatencyDistribution) -> None:
        self._service_time = check_distribution(value, "service_time")
        if self._sim is not None:
            self._bind_samplers(self._sim)

    @property
    def active_requests(self) -> int:
        """Requests being processed now."""
        return self._in_service

    @property
    def available_capacity(self) -> int:
        """Free processing slots (capacity units for a weighted model)."""
        return self._model.available

    @property
    def utilization(self) -> float:
        """Busy capacity / capacity now, between 0.0 and 1.0."""
        limit = self._model.limit
        return min(1.0, self._model.active / limit) if limit else 0.0

    @property
    def average_service_time(self) -> float:
        """Average observed service time in seconds (0.0 before any completion)."""
        return self._average()

    @property
    def stats(self) -> ServerStats:
        """Frozen snapshot of the statistics."""
        return ServerStats(self._completed, self._rejected, self._service.total)

    def has_capacity(self, weight: int = 1) -> bool:
        """Whether ``weight`` units of capacity are free now."""
        return self._model.has_capacity(weight)

    def get_service_time_percentile(self, percentile: float) -> float:
        """The p-quantile (0 <= p <= 1) of observed service times; 0.0 without data."""
        return self._percentile(percentile)


Server._native_handler = Server.handle_queued_event

DIRECT_HANDLERS.add(Server.handle_event)
