"""What a live run reports: the immutable :class:`RunBatch` the worker sends to the GUI, its
parts, and the :class:`Reporter` that assembles them from an engine :class:`~engine.model.Run`.

The worker (:mod:`desktop.run.worker`) decides *when* to advance the run and *when* to emit;
this module decides *what* a batch holds: the sampled series, each station's instantaneous
state, the running results (at a bounded cost), the events Step processed, the live changes
applied (each with the run's model as it stands after it), and the stations' exact running
totals at checkpoints.

Cumulative totals since time 0. The engine resets each station's window at the end of the
warm-up, so its totals count from there. A checkpoint also carries every station's totals
since time 0 (:data:`CUMULATIVE_FIELDS`): the reporter adds, to the window's totals, what
the stations had accumulated at the warm-up, taken at the warm-up instant exactly (the
worker stops just before it: :meth:`Reporter.take_cut`). The difference of two checkpoints'
cumulative totals is then exact over any span, which is how a warm-up moved after the run
(or during it) is applied without re-running.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from desktop.run.flows import FlowTracker, LinkKey, Movement
from engine.event import Event
from engine.model import Model, Run

#: Wall seconds between two refreshes of the running results while running is at least this
#: many times what computing them cost (the engine sorts every response time for percentiles).
RESULTS_COST_FACTOR = 25
#: Each station's totals since time 0 that a checkpoint carries, in this order: the
#: time-integrals of the number in system, of the number waiting, of the busy capacity and of
#: the capacity (request·seconds), the completions and their response-time sum (seconds), the
#: services started and their wait sum (seconds).
CUMULATIVE_FIELDS = (
    "in_system_area",
    "queue_area",
    "busy_area",
    "capacity_area",
    "completed",
    "response_sum",
    "started",
    "wait_sum",
)


@dataclass(frozen=True)
class StationLive:
    """A station's instantaneous state: requests waiting, in service, and busy fraction."""

    queue_length: int
    in_service: int
    utilization: float


@dataclass(frozen=True)
class AppliedChange:
    """A live parameter change the worker applied at simulated ``time`` (seconds).

    ``model`` is the run's model as it stands after the change (a copy the GUI may keep): what
    the theory panel recomputes its analytic values from, so that it follows what the run
    applied, not what the document says (an edit the engine refused is not in it)."""

    time: float
    node_id: str
    name: str
    value: Any
    model: Model | None = None


@dataclass(frozen=True)
class Checkpoint:
    """Every station's exact totals at simulated ``time``.

    ``totals[id]`` is (completed, response-time sum, started, wait sum) over the engine's
    measurement window — see ``Run.totals`` — and ``areas[id]`` is (time-integral of the
    number in system over the window, start of the window), so that ``area / (time - start)``
    is the engine's own ``mean_in_system`` at ``time``, to the last bit. ``cumulative[id]``
    holds the station's totals since time 0, in the order of :data:`CUMULATIVE_FIELDS`
    (empty on a checkpoint made without them)."""

    time: float
    totals: Mapping[str, tuple[int, float, int, float]]
    areas: Mapping[str, tuple[float, float]] = field(default_factory=lambda: MappingProxyType({}))
    cumulative: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class RunBatch:
    """An immutable snapshot sent from the worker to the GUI.

    ``times`` and ``series`` hold the time-series rows sampled since the previous batch
    (read-only arrays; see :class:`engine.metrics.SeriesBatch`), ``stations`` the
    instantaneous state, ``results`` the running window metrics of every station and sink,
    ``stepped`` a description of each event processed by Step since the previous batch and
    ``changes`` the parameter changes applied since then. ``flows`` maps each link
    ``(source, target)`` to the requests per simulated second that crossed it recently;
    ``movements`` lists the recent link crossings, only while ``speed`` (the worker's speed
    factor) is at most :data:`~desktop.run.flows.SLOW_SPEED` (see :mod:`desktop.run.flows`).
    ``checkpoints`` are the stations' running totals taken about every
    :data:`~desktop.run.worker.CHECKPOINT_INTERVAL` of wall time since the previous batch (and
    at this one), a steady cadence for the live estimates whatever the batch rate.
    ``emitted_at`` is the worker's ``time.perf_counter()`` at emission. ``results`` were
    computed at simulated time ``results_time``: computing them costs the engine up to tens of
    milliseconds (its exact percentiles sort every sample), so while running they are
    refreshed only when that keeps their cost under about 4 % of the worker's time; paused,
    stepped and final batches always carry fresh ones.
    """

    seq: int
    state: str
    now: float
    end_time: float
    warmup: float
    events_processed: int
    emitted_at: float
    times: np.ndarray
    series: Mapping[str, Mapping[str, np.ndarray]]
    stations: Mapping[str, StationLive]
    results: Mapping[str, Mapping[str, Any]]
    results_time: float
    stepped: tuple[str, ...] = ()
    changes: tuple[AppliedChange, ...] = ()
    flows: Mapping[LinkKey, float] = field(default_factory=lambda: MappingProxyType({}))
    movements: tuple[Movement, ...] = ()
    speed: float = math.inf
    checkpoints: tuple[Checkpoint, ...] = ()


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class Reporter:
    """Collects, between two batches, what the next one reports, and assembles it.

    Lives in the worker thread with the run. :meth:`checkpoint` records the stations'
    totals, :meth:`note_step` and :meth:`note_change` what Step and live edits did, and
    :meth:`batch` drains all of it into a :class:`RunBatch`.
    """

    def __init__(self, run: Run) -> None:
        self._run = run
        self._checkpoints: list[Checkpoint] = []
        self._stepped: list[str] = []
        self._changes: list[AppliedChange] = []
        self._results: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
        self._results_time = math.nan
        self._next_results = 0.0
        # What each station had accumulated since time 0 when its window was reset at the
        # warm-up (zeros until then: the window starts at 0).
        self._offsets = {sid: (0.0,) * len(CUMULATIVE_FIELDS) for sid in run.stations}
        self._cut_due = run.warmup if run.warmup > 0 else None

    # ------------------------------------------------------------ the warm-up cut
    @property
    def pending_cut(self) -> float | None:
        """The simulated time of the engine's warm-up cut while it is still ahead (None after
        it, or without a warm-up): the worker stops just before it and calls :meth:`take_cut`."""
        return self._cut_due

    def take_cut(self) -> None:
        """Record, at the warm-up instant, each station's totals since time 0 before the engine
        resets its window (call when no event before the cut is left: ``peek() >= cut``).

        The time-integrals are evaluated at the cut itself (nothing changes between the last
        event and it), and a checkpoint at the cut starts the measurement window: zero window
        totals, and the cumulative totals there."""
        cut = self._cut_due
        run = self._run
        if cut is None or run.sim.peek() < cut:
            return
        self._cut_due = None
        totals = run.totals()
        for sid, st in run.stations.items():
            self._offsets[sid] = _cumulative(st.areas(cut), totals[sid], (0.0,) * len(CUMULATIVE_FIELDS))
        zeros = MappingProxyType({sid: (0, 0.0, 0, 0.0) for sid in run.stations})
        areas = MappingProxyType({sid: (0.0, cut) for sid in run.stations})
        self._checkpoints.append(Checkpoint(cut, zeros, areas, MappingProxyType(dict(self._offsets))))

    # ------------------------------------------------------------ what happened
    def checkpoint(self) -> None:
        """Record every station's exact totals now (once per simulated instant)."""
        run = self._run
        now = run.now
        if self._checkpoints and not self._checkpoints[-1].time < now:
            return
        if self._cut_due is not None and now >= self._cut_due:
            # The engine reset its windows without the cut being taken (the worker always
            # takes it; this only guards the totals): no cumulative totals from here on.
            self._cut_due, self._offsets = None, {}
        totals = run.totals()
        areas = {}
        cumulative = {}
        start = run.warmup if 0 < run.warmup <= now else 0.0  # the engine resets its windows at the warm-up
        for sid, st in run.stations.items():
            window_areas = st.areas(now)
            areas[sid] = (window_areas[0] + window_areas[1], start)  # as WindowStats.window_metrics sums them
            if sid in self._offsets:
                cumulative[sid] = _cumulative(window_areas, totals[sid], self._offsets[sid])
        self._checkpoints.append(
            Checkpoint(now, MappingProxyType(totals), MappingProxyType(areas), MappingProxyType(cumulative))
        )

    def note_step(self, text: str) -> None:
        """Step processed an event, described by ``text``."""
        self._stepped.append(text)

    def note_change(self, change: AppliedChange) -> None:
        """A live change was applied; a checkpoint is taken at its instant (the exact
        baseline of the estimates that restart there)."""
        self._changes.append(change)
        self.checkpoint()

    # ------------------------------------------------------------ the batch
    def batch(self, seq: int, state: str, now: float, speed: float, flows: FlowTracker | None) -> RunBatch:
        """Everything since the previous batch, as of wall time ``now`` (``perf_counter``)."""
        run = self._run
        self.checkpoint()
        drained = run.drain_series()
        times = _frozen(drained.times) if drained is not None else _frozen(np.empty(0))
        series = MappingProxyType(
            {
                sid: MappingProxyType({name: _frozen(arr) for name, arr in values.items()})
                for sid, values in (drained.values.items() if drained is not None else ())
            }
        )
        stations = MappingProxyType(
            {
                sid: StationLive(int(st.depth), int(st.in_service), float(getattr(st, "utilization", math.nan)))  # type: ignore[attr-defined]
                for sid, st in run.stations.items()
            }
        )
        if state != "running" or now >= self._next_results:
            self._results = MappingProxyType({nid: MappingProxyType(m) for nid, m in run.results().items()})
            self._results_time = run.now
            cost = time.perf_counter() - now
            self._next_results = now + max(1.0 / 30.0, RESULTS_COST_FACTOR * cost)
        batch = RunBatch(
            seq,
            state,
            run.now,
            run.end_time,
            run.warmup,
            run.sim.events_processed,
            now,
            times,
            series,
            stations,
            self._results,
            self._results_time,
            tuple(self._stepped),
            tuple(self._changes),
            flows.rates(run.now) if flows is not None else MappingProxyType({}),
            flows.drain() if flows is not None else (),
            speed,
            tuple(self._checkpoints),
        )
        self._checkpoints.clear()
        self._stepped.clear()
        self._changes.clear()
        return batch


def _cumulative(
    areas: tuple[float, float, float, float], totals: tuple[int, float, int, float], offset: tuple[float, ...]
) -> tuple[float, ...]:
    """A station's totals since time 0 (:data:`CUMULATIVE_FIELDS`): its window's plus ``offset``."""
    q_area, srv_area, busy_area, cap_area = areas
    completed, response_sum, started, wait_sum = totals
    window = (q_area + srv_area, q_area, busy_area, cap_area, completed, response_sum, started, wait_sum)
    return tuple(float(o) + float(w) for o, w in zip(offset, window))


_State = tuple[dict[str, int], dict[str, tuple[int, int]], dict[str, int]]


def snapshot(run: Run) -> _State:
    """What Step compares before and after its event: generated, (waiting, in service), received."""
    entities: dict[str, Any] = dict(run.stations)
    return (
        {sid: src.generated for sid, src in run.sources.items()},
        {sid: (st.depth, st.in_service) for sid, st in entities.items()},
        {sid: sink.events_received for sid, sink in run.sinks.items()},
    )


def describe_step(run: Run, before: _State, outcome: tuple[float, Any]) -> str:
    """One line saying what the stepped event did, e.g. ``t = 2.76 s: cpu finished a request``."""
    when, what = outcome
    after = snapshot(run)
    parts = [f"{sid} generated a request" for sid, n in after[0].items() if n > before[0][sid]]
    for sid, (waiting, busy) in after[1].items():
        old_waiting, old_busy = before[1][sid]
        if busy > old_busy and waiting < old_waiting:
            parts.append(f"{sid} took a request from its queue into service ({old_waiting}→{waiting} waiting)")
        elif busy > old_busy:
            parts.append(f"{sid} started serving a request ({busy} in service)")
        elif waiting > old_waiting:
            parts.append(f"{sid} queued a request ({waiting} waiting)")
        elif busy < old_busy or waiting < old_waiting:
            parts.append(f"{sid} finished a request ({busy} in service, {waiting} waiting)")
    parts += [f"{sid} received a request" for sid, n in after[2].items() if n > before[2][sid]]
    if not parts:
        kind = (
            f"{what.event_type} for {getattr(what.target, 'name', '?')}" if isinstance(what, Event) else "bookkeeping"
        )
        parts.append(f"{kind} (no visible change)")
    return f"t = {when:.6g} s: " + "; ".join(parts)
