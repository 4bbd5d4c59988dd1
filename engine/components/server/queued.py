"""QueuedResource: admission, waiting queue, dispatch and completion shared by Server and ThreadPool."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Generator
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from engine.components.forwarding import Forwarding
from engine.components.server.concurrency import ConcurrencyModel, DynamicConcurrency, FixedConcurrency
from engine.components.window import WindowStats
from engine.entity import Entity
from engine.event import Event
from engine.queues import FIFOQueue, LIFOQueue, QueuePolicy

if TYPE_CHECKING:
    from engine.simulation import Simulation

log = logging.getLogger(__name__)


class QueuedResource(WindowStats, Forwarding, Entity):
    """A station with a concurrency model in front of which requests wait in a queue.

    1. Arrival: if nothing waits and the request's weight fits, it starts at once;
       otherwise it waits if there is room, else it is rejected (counted, dropped).
    2. Service time is drawn when service starts.
    3. Completion: release, count, record, forward to ``downstream`` at that instant,
       then dispatch.
    4. Dispatch: while the head of the queue fits, start it now (a burst fills every free
       slot at the same instant; a heavy head is not overtaken).

    Subclasses provide :meth:`_service_of` and :meth:`handle_queued_event`; a subclass of
    theirs that overrides ``handle_queued_event`` is run as a generator process.
    """

    _native_handler: Any = None  # the class's own handle_queued_event, set by subclasses

    def __init__(
        self,
        name: str,
        model: ConcurrencyModel,
        queue_policy: QueuePolicy | None,
        queue_capacity: int | None,
        downstream: Entity | None,
    ) -> None:
        Entity.__init__(self, name)
        if queue_policy is None:
            queue_policy = FIFOQueue()
        elif not isinstance(queue_policy, QueuePolicy):
            raise TypeError(
                f"queue_policy must be a QueuePolicy (FIFOQueue, LIFOQueue, PriorityQueue), got {queue_policy!r}"
            )
        self._queue = queue_policy
        self._queue_limit: int | None = None
        self.set_queue_capacity(queue_capacity)
        self._model = model
        # Built-in slot models take weight 1 and expose _active/_limit: the fast path.
        self._slots = type(model) in (FixedConcurrency, DynamicConcurrency)
        if isinstance(model, DynamicConcurrency):
            model.add_listener(self._on_limit_change)
        self._init_downstream(downstream)
        self._waiting = 0
        self._in_service = 0
        self._completed = 0
        self._rejected = 0
        self._held_hooks: dict[int, list[Any]] = {}
        #: Draws a service time for any request; None when it depends on the request.
        self._draw: Callable[[], float] | None = None
        #: Draws a weight for requests that carry none (model files' weighted concurrency).
        self._weight_sampler: Callable[[], float] | None = None
        self._generic = type(self).handle_queued_event is not type(self)._native_handler
        # The built-in queues' deques are used directly on the hot path.
        # (_queue_limit already includes the policy's own capacity.)
        if type(queue_policy) in (FIFOQueue, LIFOQueue):
            items = queue_policy._items  # type: ignore[attr-defined]
            self._pop: Callable[[], Any] = items.popleft if type(queue_policy) is FIFOQueue else items.pop
            self._push: Callable[[Any], Any] = items.append
        else:
            self._pop = queue_policy.pop
            self._push = queue_policy.push
        if self._slots and not self._generic:
            self._finish = self._finish_slots  # type: ignore[method-assign]
        self._init_window()

    # ------------------------------------------------------------- simulation
    def _on_attach(self, sim: Simulation) -> None:
        self._at = sim.scheduler()
        self._attach_downstream(sim)
        self._bind_samplers(sim)

    def _bind_samplers(self, sim: Simulation) -> None:
        """Subclasses bind their distributions to ``sim``'s generator."""

    def _service_of(self, event: Event) -> float:
        raise NotImplementedError

    def handle_queued_event(self, event: Event) -> Generator[float, None, Any]:
        """Process a request taken from the queue: yield its service time."""
        yield self._service_of(event)
        return None

    # ------------------------------------------------------------------ arrival
    def handle_event(self, event: Event) -> None:
        """Accept a request: start it, queue it, or reject it."""
        now = self._sim.now  # type: ignore[union-attr]
        self._arrivals += 1
        if event.on_complete:
            self._held_hooks[id(event)] = event.on_complete
            event.on_complete = None
        model = self._model
        if self._slots:
            if not self._waiting and model._active < model._limit:  # type: ignore[attr-defined]
                model._active += 1  # type: ignore[attr-defined]
                event._t_arrive = now
                self._m_A += now
                if self._generic:
                    self._begin(event, now)
                    return None
                # _begin inlined for speed: most arrivals at a lightly loaded station start at once.
                self._enter_service(now, 0.0)
                draw = self._draw
                service = draw() if draw is not None else self._service_of(event)
                event._t_service = service
                self._at(now + service, self._finish, event)
                return None
        else:
            weight = self._weight_of(event)
            if weight > model.limit:
                self._reject(event, f"weight {weight} exceeds capacity {model.limit}")
                return None
            event._weight = weight
            if not self._waiting and model.acquire(weight):
                event._t_arrive = now
                self._m_A += now
                self._begin(event, now)
                return None
        limit = self._queue_limit
        if (limit is None or self._waiting < limit) and self._push(event) is not False:
            self._waiting += 1
            event._t_arrive = now
            self._m_A += now
        else:
            self._reject(event, "queue full")
        return None

    def _weight_of(self, event: Event) -> Any:
        ctx = event._context
        weight = None if ctx is None else ctx["metadata"].get("weight")
        if weight is None:
            if self._weight_sampler is None:
                return 1
            weight = max(1, math.ceil(self._weight_sampler()))
            event.metadata["weight"] = weight
            return weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 1:
            raise ValueError(
                f"{self.name}: request {event.context.get('id')} has weight {weight!r}; weights must be numbers >= 1"
            )
        return weight

    def _reject(self, event: Event, why: str) -> None:
        self._rejected += 1
        log.debug("%s rejected %r: %s", self.name, event, why)
        self._release_hooks(event)

    def _release_hooks(self, event: Event) -> None:
        if self._held_hooks:
            hooks = self._held_hooks.pop(id(event), None)
            if hooks:
                event.on_complete = hooks
                self._sim.run_hooks(event)  # type: ignore[union-attr]

    # ------------------------------------------------------------------ service
    def _begin(self, event: Event, now: float) -> None:
        self._enter_service(now, now - event._t_arrive)
        if not self._slots:
            self._m_busy_start += event._weight * now
        if self._generic:
            self._begin_process(event, now)
            return
        draw = self._draw
        service = draw() if draw is not None else self._service_of(event)
        event._t_service = service
        self._at(now + service, self._finish, event)

    def _begin_process(self, event: Event, now: float) -> None:
        # Both the finish of an instant (non-generator) service and the start of a process
        # go through the event heap at ``now``: called directly, a chain of such stations
        # would recurse one level per station.
        sim = self._sim
        event._private = False  # a user subclass's handle_queued_event sees it
        gen = self.handle_queued_event(event)
        if type(gen) is not GeneratorType:
            sim.schedule_result(gen, event)  # type: ignore[union-attr]
            event._t_service = 0.0
            sim.call_soon(self._finish, event)  # type: ignore[union-attr]
            return
        sim.call_soon(sim.start_process, self._serve(gen, event, now))  # type: ignore[union-attr]

    def _serve(self, gen: Generator[Any, None, Any], event: Event, start: float) -> Generator[Any, None, None]:
        result = yield from gen
        sim = self._sim
        sim.schedule_result(result, event)  # type: ignore[union-attr]
        event._t_service = sim.now - start  # type: ignore[union-attr]
        self._finish(event)

    def _finish(self, event: Event) -> None:
        now = self._sim.now  # type: ignore[union-attr]
        model = self._model
        if self._slots:
            if model._active > 0:  # type: ignore[attr-defined]
                model._active -= 1  # type: ignore[attr-defined]
        else:
            model.release(event._weight)
            self._m_busy_end += event._weight * now
        self._depart(now, now - event._t_arrive, event._t_service)
        if self._held_hooks:
            self._release_hooks(event)
        if self._downstream is not None:
            self._send_on(event, now)
        if self._waiting:
            self._dispatch_waiting(now)

    def _finish_slots(self, event: Event) -> None:
        """:meth:`_finish` for the built-in slot models, with the next start inlined.

        This is the path almost every completion takes, so it avoids two calls per request;
        the kernel tests hold it to the same behaviour as ``_finish``.
        """
        now = self._sim.now  # type: ignore[union-attr]
        model = self._model
        if model._active > 0:  # type: ignore[attr-defined]
            model._active -= 1  # type: ignore[attr-defined]
        self._depart(now, now - event._t_arrive, event._t_service)
        if self._held_hooks:
            self._release_hooks(event)
        downstream = self._downstream
        if downstream is not None:  # _send_on inlined for speed
            if event._private:
                event.target = downstream
                event.time = now
            else:
                event = event._relay(downstream, now)
            if self._forward_now:
                self._forward(event)  # type: ignore[misc]
            else:
                self._at(now, self._forward, event)  # type: ignore[arg-type]
        if self._waiting and model._active < model._limit:  # type: ignore[attr-defined]
            nxt = self._pop()
            model._active += 1  # type: ignore[attr-defined]
            self._waiting -= 1
            self._enter_service(now, now - nxt._t_arrive)
            draw = self._draw
            service = draw() if draw is not None else self._service_of(nxt)
            nxt._t_service = service
            self._at(now + service, self._finish, nxt)
            if self._waiting and model._active < model._limit:  # type: ignore[attr-defined]
                self._dispatch_waiting(now)  # a raised limit left more than one slot free

    def _dispatch_waiting(self, now: float) -> None:
        queue = self._queue
        model = self._model
        if self._slots and not self._generic:
            # _begin inlined for speed: at a busy station every completion starts the next.
            pop = self._pop
            at = self._at
            draw = self._draw
            while self._waiting and model._active < model._limit:  # type: ignore[attr-defined]
                event = pop()
                model._active += 1  # type: ignore[attr-defined]
                self._waiting -= 1
                self._enter_service(now, now - event._t_arrive)
                service = draw() if draw is not None else self._service_of(event)
                event._t_service = service
                at(now + service, self._finish, event)
            return
        while self._waiting:
            if self._slots:
                if model._active >= model._limit:  # type: ignore[attr-defined]
                    return
                event = queue.pop()
                model._active += 1  # type: ignore[attr-defined]
            else:
                if not model.acquire(queue.peek()._weight):
                    return
                event = queue.pop()
            self._waiting -= 1
            self._begin(event, now)

    def set_queue_capacity(self, capacity: int | None) -> None:
        """Let at most ``capacity`` requests wait from now on (None = unlimited; 0 makes a
        loss system), as a run started with it would: arrivals finding that many waiting
        are rejected. Lowering it below the number waiting now turns nobody away; the queue
        drains to the new bound. The queue policy's own capacity, if any, still applies.

        Raises TypeError for a non-int, ValueError for a negative capacity.
        """
        if capacity is not None:
            if isinstance(capacity, bool) or not isinstance(capacity, int):
                raise TypeError(f"queue_capacity must be an int or None, got {capacity!r}")
            if capacity < 0:
                raise ValueError(f"queue_capacity must be >= 0, got {capacity!r}")
        limits = [c for c in (capacity, self._queue.capacity) if c is not None]
        self._queue_limit = min(limits) if limits else None

    def set_capacity(self, limit: int) -> None:
        """Change the number of slots during a run (a live what-if).

        A fixed model becomes a DynamicConcurrency with the same active count; raising the
        limit starts waiting work at once, lowering it pre-empts nothing.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"capacity must be an integer >= 1, got {limit!r}")
        model = self._dynamic()
        high = model.max_limit
        model.set_bounds(min(limit, model.min_limit), None if high is None else max(limit, high))
        model.set_limit(limit)

    def _dynamic(self) -> DynamicConcurrency:
        """The slot model as a DynamicConcurrency (a fixed one is replaced by a dynamic one
        with the same limit and active count); TypeError for any other model."""
        model = self._model
        if type(model) is FixedConcurrency:
            dynamic = DynamicConcurrency(model.limit, 1, None)
            dynamic._active = model.active
            dynamic.add_listener(self._on_limit_change)
            self._model = model = dynamic
        if not isinstance(model, DynamicConcurrency):
            raise TypeError(f"{self.name}: a {type(model).__name__} cannot change its slot count")
        return model

    def _on_limit_change(self, old: int, new: int) -> None:
        sim = self._sim
        if sim is None:
            return
        self._capacity_changed(old, sim.now)
        if new > old and self._waiting:
            self._dispatch_waiting(sim.now)

    # ------------------------------------------------------------ window stats
    def _capacity_now(self) -> float:
        return self._model.limit

    def _busy_units(self) -> float:
        return self._in_service if self._slots else self._model.active

    def _busy_area(self, now: float, in_service_area: float) -> float:
        if self._slots:
            return in_service_area
        return self._m_busy_end + self._model.active * now - self._m_busy_start

    # --------------------------------------------------------------- properties
    @property
    def queue_policy(self) -> QueuePolicy:
        """The waiting queue."""
        return self._queue

    @property
    def queue_capacity(self) -> int | None:
        """How many requests may wait (None = unlimited)."""
        return self._queue_limit

    @property
    def depth(self) -> int:
        """Requests waiting (not in service)."""
        return self._waiting

    @property
    def in_service(self) -> int:
        """Requests in service now."""
        return self._in_service

    @property
    def stats_accepted(self) -> int:
        """Requests accepted (started or queued)."""
        return self._arrivals - self._rejected

    @property
    def stats_dropped(self) -> int:
        """Requests rejected."""
        return self._rejected

    def _percentile(self, percentile: float) -> float:
        return self._service.percentile(percentile)

    def _average(self) -> float:
        service = self._service
        return service.total / service.count if service.count else 0.0
