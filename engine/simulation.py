"""The simulation kernel: one loop over a heap of plain tuples.

Every heap entry is ``(time, seq, fn, arg)``: at ``time`` the loop calls ``fn(arg)``.
``seq`` comes from a per-simulation counter, so ties run in scheduling order and the heap
never compares the callables. User events go through :meth:`Simulation.dispatch`; the
built-in components schedule their own bound methods through the public seam
(:meth:`Simulation.call_at`, :meth:`Simulation.call_soon`, and the bound callables of
:meth:`Simulation.scheduler` and :meth:`Simulation.daemon_scheduler` for the hot path),
which keeps the loop free of per-event dispatch logic and the heap private to this module.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import numbers
import time as _time
import zlib
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import asdict, dataclass
from operator import length_hint
from types import GeneratorType
from typing import Any

import numpy as np

from engine.entity import Entity
from engine.event import Event
from engine.time import RESOLUTION, seconds

log = logging.getLogger(__name__)

#: A spawn-key element that keeps per-node streams apart from ``SeedSequence.spawn`` children.
_STREAMS = 0x5157

#: ``handle_event`` functions of built-in components that always return None and never
#: need the generic dispatch (components register themselves here).
DIRECT_HANDLERS: set[Callable[..., Any]] = set()

#: The run loop looks at stop requests and at whether the clock still advances once per
#: this many events, never per event.
CHECK_EVERY = 4096

#: A run "does not advance" when more than ``max(STALL_EVENTS, STALL_PER_PENDING *
#: (entities + 16) * pending)`` events happen while the clock moves by less than
#: :data:`RESOLUTION`, ``pending`` being the number of scheduled calls when that stretch of
#: time began. A legitimate burst moves what was pending at its instant (plus what those
#: moves create) through at most every entity a few times: 10^5 requests arriving at one
#: instant in front of a 3-node model are allowed ~7.6·10^6 events there, while a
#: zero-delay loop or a clock creeping by 1e-300 s is stopped after about 10^6 events.
STALL_EVENTS = 1_000_000
STALL_PER_PENDING = 4


class SimulationStalled(RuntimeError):
    """The run does not advance: too many events at one instant of simulated time (a
    zero-delay event storm), or the clock creeping forward by less than
    :data:`RESOLUTION` for too many events (see :data:`STALL_EVENTS`).

    ``time`` is the simulated time (seconds) where it stalled; ``nodes`` the names of the
    entities most involved, most involved first; ``others`` what else was (the time-series
    sampling, say); ``events`` how many events ran while the clock advanced by only
    ``advanced`` seconds.
    """

    def __init__(
        self,
        time: float,
        nodes: Iterable[str],
        events: int = 0,
        advanced: float = 0.0,
        others: Iterable[str] = (),
    ) -> None:
        self.time = float(time)
        self.nodes = list(nodes)
        self.others = list(others)
        self.events = events
        self.advanced = advanced
        who = [repr(n) for n in self.nodes] + self.others
        if advanced == 0.0:
            what = f"{events:,} events happened at the one instant t = {time:g} s"
            why = "a loop of zero-delay steps, such as routers sending requests round a circle"
        else:
            what = (
                f"the clock crept forward by only {advanced:.3g} s over {events:,} events (at t = {time:g} s), "
                f"less than the engine's resolution of {RESOLUTION:g} s"
            )
            why = "a time between arrivals, a service time or a sampling interval far below that resolution"
        super().__init__(
            f"The simulation does not advance: {what}. "
            f"Most involved: {', '.join(who) if who else 'no node in particular'}. Likely cause: {why}."
        )


@dataclass(frozen=True)
class SimulationSummary:
    """What a run did, as :meth:`Simulation.run` returns it (and :attr:`Simulation.summary`
    reads it at any time): the seed library's summary of a run.

    - ``duration_s``: simulated seconds run (from the start time to ``now``);
    - ``total_events_processed``: events (scheduled calls) the loop has run;
    - ``events_cancelled``: cancelled events it skipped (counted in the total too);
    - ``events_per_second``: events per simulated second (0.0 for a run of no length);
    - ``wall_clock_seconds``: wall-clock time spent in :meth:`Simulation.run` and
      :meth:`Simulation.run_until`, all calls together.

    The figures cover the whole simulation so far, however many calls drove it.
    """

    duration_s: float
    total_events_processed: int
    events_cancelled: int = 0
    events_per_second: float = 0.0
    wall_clock_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The summary as a plain dict (for JSON)."""
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"Simulation summary: {self.duration_s:g} s simulated in {self.wall_clock_seconds:.3f} s of wall time, "
            f"{self.total_events_processed:,} events ({self.events_cancelled:,} cancelled, "
            f"{self.events_per_second:,.1f} per simulated second)"
        )


class _Process:
    """A generator returned by a handler, resumed by the loop after each delay."""

    __slots__ = ("gen", "event")

    def __init__(self, gen: Generator[Any, Any, Any], event: Event | None) -> None:
        self.gen = gen
        self.event = event


class Simulation:
    """A discrete-event simulation.

    ``Simulation(sources=[...], entities=[...], end_time=60, seed=1).run()`` runs every
    event with time <= ``end_time`` (seconds) and leaves ``now == end_time``. Without an
    end time (nor ``duration``) it runs until only daemon events remain. The run can also
    be driven in slices: :meth:`run_until`, :meth:`step` and :meth:`peek` may be called
    again and again.

    Raises ValueError if both ``end_time`` and ``duration`` are given, or either is
    negative or NaN.
    """

    def __init__(
        self,
        sources: Iterable[Entity] | None = None,
        entities: Iterable[Entity] | None = None,
        end_time: float | None = None,
        duration: float | None = None,
        seed: int | np.random.SeedSequence | None = None,
        start_time: float = 0.0,
    ) -> None:
        start = seconds(start_time, "start_time")
        if end_time is not None and duration is not None:
            raise ValueError("give end_time or duration, not both")
        if duration is not None:
            d = seconds(duration, "duration")
            if d < 0:
                raise ValueError(f"duration must be >= 0, got {duration!r}")
            end_time = start + d
        if end_time is not None:
            end = seconds(end_time, "end_time")
            if end < start:
                raise ValueError(f"end_time must be >= start_time ({start}), got {end_time!r}")
            self.end_time: float | None = end
        else:
            self.end_time = None
        self.now: float = start
        self.start_time = start
        self._seed_sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self.rng = np.random.default_rng(self._seed_sequence)
        self._streams: dict[str, np.random.Generator] = {}
        self.events_processed = 0
        self.events_cancelled = 0
        self._wall = 0.0  # wall-clock seconds spent in run / run_until
        self._heap: list[tuple[float, int, Callable[[Any], Any], Any]] = []
        self._seq = itertools.count()
        self._daemon_pending = 0
        self._entities: list[Entity] = []
        self._entity_ids: set[int] = set()
        self._adding: list[Entity] | None = None
        self._started = False
        self._stop_requested = False
        # Where the clock stood when the current stretch of (almost) no advance began, the
        # event count then, and how many events that stretch may take (see STALL_EVENTS).
        self._still_since = start
        self._still_events = 0
        self._still_limit = STALL_EVENTS
        for entity in itertools.chain(sources or (), entities or ()):
            self.add(entity)

    # ----------------------------------------------------------------- building
    def add(self, entity: Entity) -> Entity:
        """Make ``entity`` part of this simulation (sources start when the run starts).

        The entities it feeds join with it. This walks the graph with an explicit stack, not
        by recursion, so a chain of any length can be added.
        """
        if not isinstance(entity, Entity):
            raise TypeError(f"expected an Entity, got {type(entity).__name__}")
        if self._adding is not None:  # called from an _on_attach hook: the walk below takes it
            self._adding.append(entity)
            return entity
        # Depth first, each entity listed after the ones it feeds (the order a recursive
        # walk gives, which fixes the order in which sources start and draw).
        stack: list[tuple[Entity, Iterator[Entity] | None]] = [(entity, None)]
        while stack:
            current, fed = stack[-1]
            if fed is None:
                found: list[Entity] = []
                if current._sim is not self:
                    self._adding = found
                    try:
                        current._attach(self)
                    finally:
                        self._adding = None
                fed = iter(found)
                stack[-1] = (current, fed)
            child = next(fed, None)
            if child is not None:
                stack.append((child, None))
                continue
            stack.pop()
            if id(current) not in self._entity_ids:
                self._entity_ids.add(id(current))
                self._entities.append(current)
                if self._started:
                    current._start()
        return entity

    def stream(self, key: str) -> np.random.Generator:
        """The random generator of ``key`` (a node id, or ``"id/part"``), spawned from the
        run's seed and that key alone: each source and station draws from its own stream,
        so changing one node does not shift the numbers any other node draws (common random
        numbers across the variants of an experiment). The same key gives the same
        generator for the whole run, so re-binding after a live change continues it."""
        rng = self._streams.get(key)
        if rng is None:
            seq = self._seed_sequence
            child = np.random.SeedSequence(
                seq.entropy, spawn_key=(*seq.spawn_key, _STREAMS, zlib.crc32(key.encode("utf-8", "surrogatepass")))
            )
            rng = self._streams[key] = np.random.default_rng(child)
        return rng

    @property
    def entities(self) -> list[Entity]:
        """Everything added to the simulation, in the order it was added."""
        return list(self._entities)

    # --------------------------------------------------------------- scheduling
    def schedule(self, event_or_events: Event | Iterable[Event]) -> None:
        """Schedule an Event or a list of Events.

        Raises ValueError for an event earlier than ``now``, TypeError for a non-Event.
        """
        if isinstance(event_or_events, Event):
            self._schedule_event(event_or_events)
            return
        try:
            events = list(event_or_events)
        except TypeError:
            raise TypeError(f"schedule() takes an Event or a list of Events, got {event_or_events!r}") from None
        for ev in events:
            if not isinstance(ev, Event):
                raise TypeError(f"schedule() takes Events, got {ev!r}")
            self._schedule_event(ev)

    def _schedule_event(self, event: Event) -> None:
        if event.time < self.now:
            raise ValueError(f"cannot schedule {event!r} at {event.time}: earlier than now ({self.now})")
        target = event.target
        if getattr(target, "_sim", self) is not self:
            self.add(target)
        if event.daemon:
            self.call_daemon_at(event.time, self.dispatch, event)
        else:
            heapq.heappush(self._heap, (event.time, next(self._seq), self.dispatch, event))

    def call_at(self, time: float, fn: Callable[[Any], Any], arg: Any = None) -> None:
        """Call ``fn(arg)`` at ``time`` (no checks: ``time`` must not be earlier than ``now``).

        Calls due at the same time run in the order they were scheduled. Components that
        schedule on every request take the same thing as one bound callable from
        :meth:`scheduler`.
        """
        heapq.heappush(self._heap, (time, next(self._seq), fn, arg))

    def call_soon(self, fn: Callable[[Any], Any], arg: Any = None) -> None:
        """Call ``fn(arg)`` at the current time, after every call already due now."""
        heapq.heappush(self._heap, (self.now, next(self._seq), fn, arg))

    def scheduler(self) -> Callable[[float, Callable[[Any], Any], Any], None]:
        """A callable ``at(time, fn, arg)`` that does what :meth:`call_at` does, bound to
        this simulation once: the components' hot path (one call per scheduled event, no
        attribute lookups). ``time`` must not be earlier than ``now``."""
        # Inlined for speed: the heap push itself stays inside the kernel module.
        heap = self._heap
        push = heapq.heappush
        seq = self._seq.__next__

        def at(time: float, fn: Callable[[Any], Any], arg: Any = None) -> None:
            push(heap, (time, seq(), fn, arg))

        return at

    def daemon_scheduler(self, fn: Callable[[Any], Any]) -> Callable[[float, Any], None]:
        """A callable ``at(time, arg)`` scheduling ``fn(arg)`` at ``time`` as a daemon call
        (see :meth:`call_daemon_at`: it does not keep a run without end time alive), bound
        once for a component that schedules ``fn`` again and again (a source's arrivals).

        Only a run without end time tells daemon calls apart (it stops when nothing else is
        left); with an end time every call up to it runs, so there the call is scheduled as
        a plain one, with no counting wrapper (set ``end_time`` when the Simulation is made,
        not later)."""
        heap = self._heap
        push = heapq.heappush
        seq = self._seq.__next__

        def run(arg: Any) -> None:
            self._daemon_pending -= 1
            fn(arg)

        run.__wrapped__ = fn  # type: ignore[attr-defined]  # stall reports name fn's owner

        def at(time: float, arg: Any = None) -> None:
            if self.end_time is None:
                self._daemon_pending += 1
                push(heap, (time, seq(), run, arg))
            else:
                push(heap, (time, seq(), fn, arg))

        return at

    @property
    def started(self) -> bool:
        """Whether the run has started (the sources have scheduled their first arrivals)."""
        return self._started

    def call_daemon_at(self, time: float, fn: Callable[[Any], Any], arg: Any = None) -> None:
        """Like :meth:`call_at`, but the call does not keep a run without end time alive."""
        self._daemon_pending += 1
        heapq.heappush(self._heap, (time, next(self._seq), self._run_daemon, (fn, arg)))

    def _run_daemon(self, call: tuple[Callable[[Any], Any], Any]) -> None:
        self._daemon_pending -= 1
        call[0](call[1])

    # ----------------------------------------------------------------- dispatch
    def dispatch(self, event: Event) -> None:
        """Hand ``event`` to its target now and take care of whatever the handler returns
        (what the loop does with every scheduled Event; a cancelled event is skipped)."""
        if event._cancelled:
            self.events_cancelled += 1
            return
        result = event.target.handle_event(event)
        if result is None:
            if event.on_complete:
                self.run_hooks(event)
        else:
            self.take_result(result, event)

    def take_result(self, result: Any, event: Event) -> None:
        """Take care of what ``event``'s handler returned when a component called it
        directly: a generator runs as a process; events are scheduled and then the event's
        completion hooks run."""
        if type(result) is GeneratorType:
            self._resume(_Process(result, event))
        else:
            self.schedule_result(result, event)
            if event.on_complete:
                self.run_hooks(event)

    def handler_for(self, entity: Entity) -> tuple[Callable[[Event], Any], bool]:
        """How a component delivers a request it has finished with to ``entity``.

        Returns ``(handler, at_once)``. Built-in components handle a request completely and
        return nothing, so their ``handle_event`` is called at once (``at_once`` True):
        stations only record and schedule, and routers pass requests on at once only to
        stations, so a chain of such calls is at most two deep. Anything else is scheduled
        at the current time through the generic dispatch, which handles results, hooks and
        cancellation, and marks the event as one user code holds (see ``Event._relay``).
        """
        if type(entity).handle_event in DIRECT_HANDLERS:
            return entity.handle_event, True
        return self._deliver, False

    def _deliver(self, event: Event) -> None:
        """:meth:`dispatch` for a request a built-in component hands to user code: from
        now on user code may hold the object, so the engine never changes it again."""
        event._private = False
        self.dispatch(event)

    def schedule_result(self, result: Any, source: Any) -> None:
        """Schedule what a handler or process returned: None, an Event or a list of Events
        (TypeError naming ``source`` for anything else)."""
        if result is None:
            return
        if isinstance(result, Event):
            self._schedule_event(result)
        elif isinstance(result, (list, tuple)):
            for ev in result:
                if not isinstance(ev, Event):
                    raise TypeError(f"{_who(source)} returned {ev!r} in its list; expected Events")
                self._schedule_event(ev)
        else:
            raise TypeError(
                f"{_who(source)} returned {result!r}; expected None, an Event, a list of Events or a generator"
            )

    def run_hooks(self, event: Event) -> None:
        """Run ``event``'s completion hooks now, once, scheduling what they return."""
        hooks = event.on_complete or ()
        event.on_complete = None  # a hook runs once, even if the event is scheduled again
        for hook in hooks:
            self.schedule_result(hook(self.now), hook)

    def _resume(self, proc: _Process) -> None:
        """Run a process until its next delay, or to its end."""
        try:
            step = next(proc.gen)
        except StopIteration as stop:
            self.schedule_result(stop.value, proc.event or proc.gen)
            if proc.event is not None and proc.event.on_complete:
                self.run_hooks(proc.event)
            return
        if type(step) is tuple:
            if len(step) != 2:
                raise TypeError(f"{_who(proc.event)} yielded {step!r}; expected a delay or (delay, events)")
            delay, side_events = step
            self.schedule_result(side_events, proc.event)
        else:
            delay = step
        if type(delay) is not float and (isinstance(delay, bool) or not isinstance(delay, numbers.Real)):
            raise TypeError(f"{_who(proc.event)} yielded {delay!r}; expected a delay in seconds")
        wait = float(delay)
        if not wait >= 0.0:  # also refuses NaN
            raise ValueError(f"{_who(proc.event)} yielded a delay of {delay!r}; delays must be >= 0")
        heapq.heappush(self._heap, (self.now + wait, next(self._seq), self._resume, proc))

    def start_process(self, gen: Generator[Any, Any, Any]) -> None:
        """Run generator ``gen`` as a process from now on (no completion hooks)."""
        if type(gen) is not GeneratorType:
            raise TypeError(f"start_process() takes a generator, got {gen!r}")
        self._resume(_Process(gen, None))

    # -------------------------------------------------------------------- loop
    def _ensure_started(self) -> None:
        if not self._started:
            self._started = True
            for entity in list(self._entities):
                entity._start()

    def peek(self) -> float:
        """The time of the next scheduled call, or ``inf`` if nothing is scheduled."""
        self._ensure_started()
        return self._heap[0][0] if self._heap else math.inf

    def step(self) -> tuple[float, Any] | None:
        """Process exactly one scheduled call, ignoring the end time.

        Returns ``(time, what)``, where ``what`` is the Event or the component's argument,
        or None if nothing is scheduled.
        """
        self._ensure_started()
        if not self._heap:
            return None
        time, _, fn, arg = heapq.heappop(self._heap)
        self.now = time
        fn(arg)
        self.events_processed += 1
        if fn == self._run_daemon:
            fn, arg = arg
        if isinstance(arg, Event):
            arg._private = False  # the caller holds it now
        return time, arg

    def run_until(self, t: float) -> None:
        """Process every call with time <= ``t`` and leave ``now == t``.

        May be called again and again with growing ``t`` (the worker thread and the CLI
        drive runs in slices this way). ``t`` is capped at ``end_time``.

        Returns early, with ``now`` at the last event processed, once :meth:`request_stop`
        has been called. Raises :class:`SimulationStalled` when the run does not advance
        (see :data:`STALL_EVENTS`).
        """
        self._ensure_started()
        limit = float(t)
        if self.end_time is not None and limit > self.end_time:
            limit = self.end_time
        if limit < self.now or self._stop_requested:
            return
        heap = self._heap
        pop = heapq.heappop
        count = 0  # events of the finished chunks
        chunk: Iterator[None] | None = None
        wall = _time.perf_counter()
        try:
            while True:
                # The hot loop, in chunks of CHECK_EVERY events so that stop requests and the
                # stall check cost nothing per event. Pop-then-check costs one push per slice
                # instead of a peek per event.
                chunk = itertools.repeat(None, CHECK_EVERY)
                for _ in chunk:
                    if not heap:
                        break
                    entry = pop(heap)
                    if entry[0] > limit:
                        heapq.heappush(heap, entry)
                        break
                    self.now = entry[0]
                    entry[2](entry[3])
                else:
                    count += CHECK_EVERY
                    chunk = None
                    if self._stop_requested:
                        return
                    self._check_advance(self.events_processed + count, limit)
                    continue
                break
        finally:
            if chunk is not None:  # left mid-chunk: count what ran before the break or the error
                count += CHECK_EVERY - length_hint(chunk) - 1
            self.events_processed += count
            self._wall += _time.perf_counter() - wall
        if limit != math.inf:
            self.now = limit

    def run(self) -> SimulationSummary:
        """Run to ``end_time`` or, without one, until only daemon events remain, and
        return the :class:`SimulationSummary` of the run (simulated seconds, events
        processed, wall-clock time).

        Stops early after :meth:`request_stop`; raises :class:`SimulationStalled` when the
        run does not advance.
        """
        if self.end_time is not None:
            self.run_until(self.end_time)
            return self.summary
        self._ensure_started()
        if self._stop_requested:
            return self.summary
        heap = self._heap
        pop = heapq.heappop
        count = 0
        chunk: Iterator[None] | None = None
        wall = _time.perf_counter()
        try:
            while True:
                chunk = itertools.repeat(None, CHECK_EVERY)
                for _ in chunk:
                    if len(heap) <= self._daemon_pending:
                        break
                    time, _, fn, arg = pop(heap)
                    self.now = time
                    fn(arg)
                else:
                    count += CHECK_EVERY
                    chunk = None
                    if self._stop_requested:
                        break
                    self._check_advance(self.events_processed + count, math.inf)
                    continue
                break
        finally:
            if chunk is not None:
                count += CHECK_EVERY - length_hint(chunk) - 1
            self.events_processed += count
            self._wall += _time.perf_counter() - wall
        return self.summary

    @property
    def summary(self) -> SimulationSummary:
        """The :class:`SimulationSummary` of the run so far (what :meth:`run` returns)."""
        duration = self.now - self.start_time
        return SimulationSummary(
            duration_s=duration,
            total_events_processed=self.events_processed,
            events_cancelled=self.events_cancelled,
            events_per_second=self.events_processed / duration if duration > 0 else 0.0,
            wall_clock_seconds=self._wall,
        )

    # ------------------------------------------------------------ stop & stall
    def request_stop(self) -> None:
        """Ask the running :meth:`run_until` / :meth:`run` to return (thread-safe).

        The loop looks at the request every :data:`CHECK_EVERY` events, so it returns
        within a few thousand events, between two events (a consistent state, ``now`` at
        the last one). Later calls return at once: the request stays.
        """
        self._stop_requested = True

    @property
    def stop_requested(self) -> bool:
        """Whether :meth:`request_stop` has been called."""
        return self._stop_requested

    def _check_advance(self, processed: int, limit: float) -> None:
        """Once per chunk: has the clock advanced by at least RESOLUTION lately?"""
        now = self.now
        if now - self._still_since >= RESOLUTION:
            self._still_since = now
            self._still_events = processed
            self._still_limit = max(STALL_EVENTS, STALL_PER_PENDING * (len(self._entities) + 16) * len(self._heap))
        elif processed - self._still_events > self._still_limit:
            self._diagnose_stall(processed, limit)

    def _diagnose_stall(self, processed: int, limit: float) -> None:
        """Run up to CHECK_EVERY more events noting who they belong to; raise
        SimulationStalled naming the most frequent, unless the clock moves on meanwhile."""
        heap = self._heap
        since = self._still_since
        tally: Counter[tuple[str, bool]] = Counter()
        ran = 0
        try:
            while heap and ran < CHECK_EVERY:
                entry = heap[0]
                if entry[0] > limit or entry[0] - since >= RESOLUTION:
                    break
                heapq.heappop(heap)
                self.now = entry[0]
                for who in _involved(self, entry[2], entry[3]):
                    tally[who] += 1
                entry[2](entry[3])
                ran += 1
        finally:
            self.events_processed += ran
        if ran < CHECK_EVERY:  # the clock moved on (or the slice ended): not stalled after all
            self._still_since = self.now
            self._still_events = processed + ran
            return
        top = tally.most_common()
        most = top[0][1] if top else 0
        involved = [who for who, n in top if n * 10 >= most][:6]
        raise SimulationStalled(
            self.now,
            [name for name, is_node in involved if is_node],
            processed + ran - self._still_events,
            self.now - since,
            [name for name, is_node in involved if not is_node],
        )

    @property
    def pending(self) -> int:
        """How many calls are scheduled (including daemon and cancelled ones)."""
        return len(self._heap)

    # The names these methods had before they became the public seam (issue 14).
    _dispatch = dispatch
    _absorb = take_result
    _schedule_result = schedule_result
    _complete = run_hooks


def _involved(sim: Simulation, fn: Callable[[Any], Any], arg: Any) -> list[tuple[str, bool]]:
    """What a scheduled call ``fn(arg)`` acts for, as ``(name, is an entity)`` pairs (for
    stall reports). Something that is not an entity may name itself by a ``stall_name``."""
    if fn == sim._run_daemon:
        fn, arg = arg
    fn = getattr(fn, "__wrapped__", fn)
    owner = getattr(fn, "__self__", None)
    found = []
    if isinstance(owner, Entity):
        found.append((owner.name, True))
    elif owner is not None and owner is not sim:
        found.append((getattr(owner, "stall_name", None) or type(owner).__name__, False))
    if isinstance(arg, _Process):
        arg = arg.event
    if isinstance(arg, Event) and arg.target is not owner and isinstance(arg.target, Entity):
        found.append((arg.target.name, True))
    return found


def _who(source: Any) -> str:
    if isinstance(source, Event):
        target = source.target
        return f"{type(target).__name__} {getattr(target, 'name', '')!r}".strip()
    return repr(source)
