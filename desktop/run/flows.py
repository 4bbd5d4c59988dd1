"""Per-link flows and request movements, derived in the worker thread from engine counters.

Every link of the model has a cumulative count of the requests that crossed it, read from
counters the engine keeps anyway (nothing is added to its hot path):

- a link out of a router node: ``Router.routed[i]`` (aligned with ``Router.targets``, which
  the build makes in the order of the node's out-links);
- a link out of a station or source whose ``downstream``/``target`` is a private router (the
  build inserts one for probabilities, ``"<id>:routing"``, or for a single link with a
  latency, ``"<id>→<target>"``): that router's ``routed[i]``;
- the single direct link out of a station: its completions; out of a source: ``generated``.

:class:`FlowTracker` turns these counts into rates (requests per simulated second) and,
while the run is slow, into :class:`Movement` records. A link's rate is its mean over the
recent past, reaching back at least :data:`HISTORY` batches (about one wall second) and
further, up to :data:`LONG_HISTORY` batches, until the window holds :data:`MIN_CROSSINGS`
crossings of that link: at slow speed one wall second is a fraction of a simulated second
and a handful of requests, whose rate is noise (λ = 0.8/s read "4.18/s"). When the run has
finished, each rate is the run's mean: crossings over the whole run, divided by its length.

Movements come from comparing the counts before and after each short slice the worker runs
at slow speed. Limits of this approach: a crossing is timed by spreading the slice's
crossings evenly over the slice (a slice lasts at most a tick, 1/60 wall second, unless
the GUI held the worker back), not at its exact simulated instant; the event order within
one slice is lost; and at most :data:`MAX_MOVEMENTS` (the most recent) are kept per batch.
A router's count rises when it sends a request, so on a link with a latency the movement
is reported when the request sets off, not when it arrives.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from engine.components.router import Router
from engine.components.source import Source
from engine.model import Run

#: Speed factors (simulated s per wall s) at or below which movements are reported.
SLOW_SPEED = 2.0
#: Batches the flow rates are averaged over at least (~1 wall second at 30 Hz).
HISTORY = 30
#: Batches kept to reach back for :data:`MIN_CROSSINGS` on a slow link (~30 wall seconds).
LONG_HISTORY = 900
#: Crossings a link's window holds, when the history reaches back that far.
MIN_CROSSINGS = 50
#: Most movements carried by one batch.
MAX_MOVEMENTS = 200

LinkKey = tuple[str, str]


class Movement(NamedTuple):
    """A request crossing the link ``source`` → ``target`` at simulated ``time``."""

    time: float
    source: str
    target: str


def _counter(run: Run, node_id: str, index: int) -> Callable[[], int] | None:
    """A reader of the cumulative count of the ``index``-th out-link of ``node_id``."""
    entity: Any = run.nodes.get(node_id)
    if entity is None:
        return None
    if isinstance(entity, Router):
        return lambda: entity.routed[index]
    downstream = entity.target if isinstance(entity, Source) else getattr(entity, "downstream", None)
    private = isinstance(downstream, Router) and all(downstream is not e for e in run.nodes.values())
    if private:
        return lambda: downstream.routed[index]
    if isinstance(entity, Source):
        return lambda: entity.generated
    if hasattr(entity, "total_completed"):
        return lambda: entity.total_completed
    return None


class FlowTracker:
    """Reads per-link counts of one :class:`Run` (in the worker thread only)."""

    def __init__(self, run: Run) -> None:
        keys: list[LinkKey] = []
        readers: list[Callable[[], int]] = []
        for node in run.model.nodes:
            for index, link in enumerate(run.model.out_links(node.id)):
                reader = _counter(run, node.id, index)
                if reader is not None:
                    keys.append((link.source, link.target))
                    readers.append(reader)
        self.keys: tuple[LinkKey, ...] = tuple(keys)
        self._readers = readers
        self._run = run
        self._start = run.now
        self._history: deque[tuple[float, list[int]]] = deque(maxlen=LONG_HISTORY)
        self._baseline: list[int] | None = None
        self._since = 0.0
        self._movements: deque[Movement] = deque(maxlen=MAX_MOVEMENTS)

    def counts(self) -> list[int]:
        """The cumulative count of every link in :attr:`keys`, now."""
        return [read() for read in self._readers]

    def rates(self, now: float) -> Mapping[LinkKey, float]:
        """Requests per simulated second on each link: over the recent batches, reaching back
        far enough for :data:`MIN_CROSSINGS` (see the module's docstring), or over the whole
        run once it has finished. Empty until two batches at different times were seen."""
        history = self._history
        if history and history[-1][0] == now:
            history.pop()
        last = self.counts()
        history.append((now, last))
        if self._run.finished and now > self._start:
            return MappingProxyType({key: last[i] / (now - self._start) for i, key in enumerate(self.keys)})
        if now - history[0][0] <= 0:
            return MappingProxyType({})
        times = np.fromiter((t for t, _ in history), float, len(history))
        counts = np.array([c for _, c in history], dtype=float).reshape(len(history), len(self.keys))
        recent = max(len(history) - HISTORY, 0)  # the window reaches back at least this far
        out = {}
        for i, key in enumerate(self.keys):
            crossed = last[i] - counts[:, i]  # crossings since each entry: non-increasing
            enough = np.nonzero(crossed >= MIN_CROSSINGS)[0]
            first = min(recent, int(enough[-1])) if enough.size else 0
            span = now - times[first]
            out[key] = crossed[first] / span if span > 0 else 0.0
        return MappingProxyType(out)

    def watch(self, now: float) -> None:
        """Start recording movements from ``now`` on (no-op when already recording)."""
        if self._baseline is None:
            self._baseline = self.counts()
            self._since = now

    def unwatch(self) -> None:
        """Stop recording movements and forget those not yet drained."""
        self._baseline = None
        self._movements.clear()

    def observe(self, now: float) -> None:
        """Record the crossings since the last call (or :meth:`watch`), spread over that span."""
        if self._baseline is None:
            return
        counts = self.counts()
        start, span = self._since, now - self._since
        for key, old, new in zip(self.keys, self._baseline, counts):
            crossed = new - old
            if crossed > 0:
                skip = max(0, crossed - MAX_MOVEMENTS)  # the deque would drop them anyway
                for k in range(skip, crossed):
                    self._movements.append(Movement(start + span * (k + 1) / (crossed + 1), *key))
        self._baseline = counts
        self._since = now

    def drain(self) -> tuple[Movement, ...]:
        """The movements recorded since the previous call, oldest first (at most
        :data:`MAX_MOVEMENTS`)."""
        out = tuple(sorted(self._movements))
        self._movements.clear()
        return out
