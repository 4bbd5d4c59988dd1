"""Bounded storage for the live series, and batch-means estimates over it.

Memory bound: a :class:`SeriesStore` preallocates everything when a run starts and never
grows. Each :class:`RingBuffer` of capacity ``n`` holds ``2·n`` float64 (16·n bytes), so a
store for ``S`` stations takes

    16 · (capacity · (1 + 8·S) + checkpoint_capacity · (2 + 7·S) + 4,096 · (1 + 2·S)) bytes

— with the defaults (32,768 samples, 4,096 checkpoints and rows of results, 4,096 rows of
instantaneous state) 0.7 MiB + 4.5 MiB per station, e.g. 46 MiB for ten stations, however
long the run. Older rows are
overwritten. The record of exact totals (:class:`desktop.run.totals.Convergence`) adds
8 · (1 + 12·S) · :data:`~desktop.run.totals.CONVERGENCE_POINTS` bytes (0.1 MiB per station):
it covers the whole run at any length by merging pairs of points.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop.run.totals import CONVERGENCE_POINTS, CONVERGENCE_QUANTITIES, Convergence
from engine.experiments import warmup_cut
from engine.metrics import LIVE_SERIES
from engine.stats import t975

__all__ = [
    "CONVERGENCE_POINTS",
    "CONVERGENCE_QUANTITIES",
    "Convergence",
    "Estimate",
    "RingBuffer",
    "SeriesStore",
    "auto_warmup_cut",
    "batch_means",
    "in_system_history",
    "little_batch_means",
    "ratio_batch_means",
]

#: Running totals of a station at each checkpoint (see :class:`desktop.run.batch.Checkpoint`).
CHECKPOINT_FIELDS = ("completed", "response_sum", "started", "wait_sum")
#: Instantaneous state (:class:`desktop.run.batch.StationLive` attributes) kept between samples.
INSTANT_FIELDS = ("queue_length", "utilization")
INSTANT_CAPACITY = 4_096
#: Running response-time percentiles of a station, recorded whenever a batch brings new results.
PERCENTILE_FIELDS = ("p50_response", "p95_response", "p99_response")


class RingBuffer:
    """A fixed-capacity float64 ring whose contents are always one contiguous array.

    Every value is written twice, at ``i`` and ``i + capacity`` of a ``2·capacity`` array,
    so :meth:`view` is a slice — no copy and no concatenation when a chart reads it.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity!r}")
        self.capacity = capacity
        self._data = np.full(2 * capacity, np.nan)
        self._head = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def extend(self, values: Iterable[float] | np.ndarray) -> None:
        """Append values, overwriting the oldest once full."""
        v = np.asarray(values, dtype=float).ravel()
        cap = self.capacity
        if v.size > cap:
            v = v[-cap:]
        n = v.size
        first = min(n, cap - self._head)
        data, head = self._data, self._head
        data[head : head + first] = v[:first]
        data[head + cap : head + cap + first] = v[:first]
        rest = n - first
        data[:rest] = v[first:]
        data[cap : cap + rest] = v[first:]
        self._head = (head + n) % cap
        self._size = min(self._size + n, cap)

    def view(self) -> np.ndarray:
        """The contents, oldest first, as a read-only view (valid until the next extend)."""
        start = (self._head - self._size) % self.capacity
        out = self._data[start : start + self._size]
        out.flags.writeable = False
        return out

    def clear(self) -> None:
        """Forget the contents (the memory stays allocated)."""
        self._head = self._size = 0


@dataclass(frozen=True)
class Estimate:
    """A running mean with the half-width of its 95 % confidence interval (NaN if unknown)."""

    mean: float
    half_width: float = math.nan
    batches: int = 0

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (False while the interval is unknown)."""
        return math.isfinite(self.half_width) and abs(self.mean - value) <= self.half_width


def _from_batches(means: np.ndarray, grand: float) -> Estimate:
    k = means.size
    if k < 2:
        return Estimate(grand, math.nan, int(k))
    half = t975(k - 1) * float(np.std(means, ddof=1)) / math.sqrt(k)
    return Estimate(grand, half, int(k))


def batch_means(values: np.ndarray, weights: np.ndarray | None = None, batches: int = 16) -> Estimate:
    """The (weighted) mean of ``values`` with a 95 % interval from the method of batch means.

    Successive samples of a queue are strongly correlated, so their sample variance says
    little about the error of their mean. Cutting the series into ``batches`` contiguous
    groups of equal size makes the group means nearly independent once each group spans
    several relaxation times; the t-interval over the group means is then a fair 95 %
    interval for the mean. Fewer samples than ``2·batches`` use ``n // 2`` groups; NaN
    samples are skipped. ``weights`` are the sample interval lengths (they differ only
    after the engine's recorder merged rows).
    """
    v = np.asarray(values, dtype=float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    ok = np.isfinite(v) & np.isfinite(w) & (w > 0)
    v, w = v[ok], w[ok]
    if v.size == 0:
        return Estimate(math.nan)
    grand = float(np.dot(v, w) / w.sum())
    k = min(batches, v.size // 2)
    if k < 2:
        return Estimate(grand, math.nan, k)
    edges = np.linspace(0, v.size, k + 1).astype(int)
    sums = np.add.reduceat(v * w, edges[:-1])
    totals = np.add.reduceat(w, edges[:-1])
    return _from_batches(sums / totals, grand)


def little_batch_means(
    number: np.ndarray, throughput: np.ndarray, weights: np.ndarray | None = None, batches: int = 16
) -> Estimate:
    """Mean time in a station by Little's law, W = L / X, with a batch-means interval: each
    of ``batches`` contiguous groups of samples gives one estimate ``ΣL·w / ΣX·w`` (its
    area under the number present over its completions), and the t-interval over the group
    estimates is the 95 % interval. Groups that span many sojourn times make the edge terms
    of Little's law negligible; the series' sample interval sets the resolution, so the
    interval does not depend on how often the GUI happened to look at the run."""
    v = np.asarray(number, dtype=float)
    x = np.asarray(throughput, dtype=float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    ok = np.isfinite(v) & np.isfinite(x) & np.isfinite(w) & (w > 0)
    v, x, w = v[ok], x[ok], w[ok]
    if v.size == 0 or not np.dot(x, w) > 0:
        return Estimate(math.nan)
    grand = float(np.dot(v, w) / np.dot(x, w))
    k = min(batches, v.size // 2)
    if k < 2:
        return Estimate(grand, math.nan, k)
    edges = np.linspace(0, v.size, k + 1).astype(int)[:-1]
    areas, done = np.add.reduceat(v * w, edges), np.add.reduceat(x * w, edges)
    keep = done > 0
    return _from_batches(areas[keep] / done[keep], grand)


def ratio_batch_means(numerator: np.ndarray, denominator: np.ndarray, batches: int = 16) -> Estimate:
    """Mean of a ratio of cumulative sums (e.g. response-time sum / completions) with a
    batch-means interval: the checkpoints are cut into ``batches`` groups and each group's
    ratio of increments is one batch mean. The first checkpoint is the baseline."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    if num.size < 2 or not den[-1] > den[0]:
        return Estimate(math.nan)
    grand = float((num[-1] - num[0]) / (den[-1] - den[0]))
    k = min(batches, num.size - 1)
    edges = np.unique(np.linspace(0, num.size - 1, k + 1).astype(int))
    dn, dd = np.diff(num[edges]), np.diff(den[edges])
    keep = dd > 0
    return _from_batches(dn[keep] / dd[keep], grand)


class SeriesStore:
    """The live data of one run, per station: the sampled series, the checkpoints of running
    totals, and the running response-time percentiles.

    ``append`` takes a :class:`desktop.run.batch.RunBatch`; views read arrays with
    :meth:`series` and :meth:`times`, :meth:`checkpoint` and :meth:`checkpoint_times`,
    :meth:`percentile` and :meth:`percentile_times`.
    """

    def __init__(self, stations: Iterable[str], capacity: int = 32_768, checkpoint_capacity: int = 4_096) -> None:
        self.stations = tuple(stations)
        self._times = RingBuffer(capacity)
        self._sampled = 0  # rows appended since the start of the run
        self._series = {sid: {name: RingBuffer(capacity) for name in LIVE_SERIES} for sid in self.stations}
        self._cp_times = RingBuffer(checkpoint_capacity)
        self._cp = {sid: {name: RingBuffer(checkpoint_capacity) for name in CHECKPOINT_FIELDS} for sid in self.stations}
        self._pct_times = RingBuffer(checkpoint_capacity)
        self._pct = {
            sid: {name: RingBuffer(checkpoint_capacity) for name in PERCENTILE_FIELDS} for sid in self.stations
        }
        #: The exact running totals of the whole run, for the convergence chart.
        self.totals = Convergence(self.stations)
        self.last: Any = None
        # Each batch's instantaneous state since the last sample: what a slow run draws
        # between its samples (see Dashboard). Cleared whenever a sample arrives.
        self._instant_times = RingBuffer(INSTANT_CAPACITY)
        self._instant = {sid: {name: RingBuffer(INSTANT_CAPACITY) for name in INSTANT_FIELDS} for sid in self.stations}

    def append(self, batch: Any) -> None:
        """Add a batch's new series rows, its checkpoints and, if its results are new, a row of
        :data:`PERCENTILE_FIELDS`. The batch is kept as :attr:`last` (a view shown later, e.g. a tab
        raised after the run, draws from it)."""
        self.last = batch
        if batch.times.size:
            self._sampled += batch.times.size
            self._times.extend(batch.times)
            for sid, rings in self._series.items():
                values = batch.series.get(sid, {})
                for name, ring in rings.items():
                    ring.extend(values.get(name, np.full(batch.times.size, np.nan)))
            self._instant_times.clear()
            for rings in self._instant.values():
                for ring in rings.values():
                    ring.clear()
        stations = getattr(batch, "stations", None) or {}
        newest = self._times.view()
        if stations and (not newest.size or batch.now > newest[-1]) and _is_new(self._instant_times, batch.now):
            self._instant_times.extend((batch.now,))
            for sid, rings in self._instant.items():
                live = stations.get(sid)
                for name, ring in rings.items():
                    ring.extend((float(getattr(live, name, math.nan)) if live is not None else math.nan,))
        for change in getattr(batch, "changes", ()):
            self.totals.pin(change.time)
        for checkpoint in batch.checkpoints:
            self.totals.add(checkpoint)
            if _is_new(self._cp_times, checkpoint.time):
                self._cp_times.extend((checkpoint.time,))
                for sid, rings in self._cp.items():
                    totals = checkpoint.totals.get(sid, (math.nan,) * len(CHECKPOINT_FIELDS))
                    for ring, value in zip(rings.values(), totals):
                        ring.extend((float(value),))
        if _is_new(self._pct_times, batch.results_time):
            self._pct_times.extend((batch.results_time,))
            for sid, rings in self._pct.items():
                metrics = batch.results.get(sid, {})
                for name, ring in rings.items():
                    ring.extend((float(metrics.get(name, math.nan)),))

    @property
    def holds_start(self) -> bool:
        """Whether the sampled series still hold the run's first sample (the ring has not
        wrapped)."""
        return self._sampled <= self._times.capacity

    def instant(self, station: str, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Times and values of ``name`` (one of :data:`INSTANT_FIELDS`) of ``station``'s
        instantaneous state, from each batch since the newest sample."""
        return self._instant_times.view(), self._instant[station][name].view()

    def times(self) -> np.ndarray:
        """End times of the sampled intervals (seconds)."""
        return self._times.view()

    def series(self, station: str, name: str) -> np.ndarray:
        """One sampled series (a name of :data:`engine.metrics.LIVE_SERIES`) of a station."""
        return self._series[station][name].view()

    def checkpoint_times(self) -> np.ndarray:
        """Simulated times of the checkpoints."""
        return self._cp_times.view()

    def checkpoint(self, station: str, name: str) -> np.ndarray:
        """One running total (a name of :data:`CHECKPOINT_FIELDS`) of a station, per checkpoint."""
        return self._cp[station][name].view()

    def percentile_times(self) -> np.ndarray:
        """Simulated times of the rows of percentiles."""
        return self._pct_times.view()

    def percentile(self, station: str, name: str) -> np.ndarray:
        """One running window metric (a name of :data:`PERCENTILE_FIELDS`) of a station, per row."""
        return self._pct[station][name].view()

    def estimates(self, station: str, since: float, batches: int = 16) -> dict[str, Estimate]:
        """Batch-means estimates over the data after simulated time ``since``: ρ, L, Lq, X, the
        time-average capacity, an async server's CPU utilisation and the fraction of arrivals
        turned away (as a ratio of sums per batch) from the series; W and Wq from the checkpoints' exact sums
        (completions and response times since the first checkpoint at or after ``since``),
        with the intervals of Little's law over the series (:func:`little_batch_means`),
        whose resolution is the sample interval, however few checkpoints a fast run left."""
        t = self.times()
        keep = slice(int(np.searchsorted(t, since, side="right")) + 1, None)  # skip the straddling interval
        weights = (np.diff(t, prepend=2 * t[0] - t[1]) if t.size > 1 else np.ones(t.size))[keep]
        q = self.series(station, "queue_length")[keep]
        out = {
            "utilization": batch_means(self.series(station, "utilization")[keep], weights, batches),
            "mean_queue_length": batch_means(q, weights, batches),
            "mean_in_system": batch_means(q + self.series(station, "in_service")[keep], weights, batches),
            "throughput": batch_means(self.series(station, "throughput")[keep], weights, batches),
            "capacity": batch_means(self.series(station, "capacity")[keep], weights, batches),
            "cpu_utilization": batch_means(self.series(station, "cpu_utilization")[keep], weights, batches),
        }
        x = self.series(station, "throughput")[keep]
        little_w = little_batch_means(q + self.series(station, "in_service")[keep], x, weights, batches)
        little_wq = little_batch_means(q, x, weights, batches)
        ct = self.checkpoint_times()
        base = max(int(np.searchsorted(ct, since, side="left")), 0)
        done = self.checkpoint(station, "completed")[base:]
        exact_w = ratio_batch_means(self.checkpoint(station, "response_sum")[base:], done, batches)
        exact_wq = ratio_batch_means(
            self.checkpoint(station, "wait_sum")[base:], self.checkpoint(station, "started")[base:], batches
        )
        for key, exact, little in (("mean_response", exact_w, little_w), ("mean_wait", exact_wq, little_wq)):
            mean = exact.mean if math.isfinite(exact.mean) else little.mean
            out[key] = Estimate(mean, little.half_width, little.batches)
        rejected, arrived = self.series(station, "rejection_rate")[keep], self.series(station, "arrival_rate")[keep]
        out["blocking_probability"] = little_batch_means(rejected, arrived, weights, batches)
        return out

    def total_in_system(self, since: float, batches: int = 16) -> Estimate:
        """Batch-means estimate of the number of requests in all the stations together (the
        sum of their L series) after simulated time ``since``."""
        t = self.times()
        keep = slice(int(np.searchsorted(t, since, side="right")) + 1, None)
        weights = (np.diff(t, prepend=2 * t[0] - t[1]) if t.size > 1 else np.ones(t.size))[keep]
        total = np.zeros(weights.size)
        for sid in self.stations:
            total = total + self.series(sid, "queue_length")[keep] + self.series(sid, "in_service")[keep]
        return batch_means(total, weights, batches)

    def convergence(
        self, station: str, since: float, points: int = 80, batches: int = 16
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, running mean of L, 95 % half-width) at up to ``points`` moments after
        ``since``, each over the samples from ``since`` to that moment — how the estimate
        converged. Batch means as in :func:`batch_means` (equal weights, ``batches`` groups;
        no interval before ``2·batches`` samples), from cumulative sums: O(points·batches)."""
        t = self.times()
        first = int(np.searchsorted(t, since, side="right")) + 1
        values = (self.series(station, "queue_length") + self.series(station, "in_service"))[first:]
        if values.size < 1:
            return np.empty(0), np.empty(0), np.empty(0)
        ok = np.isfinite(values)
        sums = np.concatenate(([0.0], np.cumsum(np.where(ok, values, 0.0))))
        counts = np.concatenate(([0], np.cumsum(ok)))
        ends = np.unique(np.linspace(1, values.size, min(points, values.size)).astype(int))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sums[ends] / counts[ends]
            edges = (ends[:, None] * np.linspace(0, 1, batches + 1)[None, :]).astype(int)
            group = (sums[edges[:, 1:]] - sums[edges[:, :-1]]) / (counts[edges[:, 1:]] - counts[edges[:, :-1]])
            half = t975(batches - 1) * np.std(group, axis=1, ddof=1) / math.sqrt(batches)
        half[ends < 2 * batches] = np.nan
        return t[first:][ends - 1], mean, half


#: Intervals of the regular grid the automatic warm-up cut reads the exact totals on, once the
#: sampled series no longer reach back to the start of the run.
AUTO_CUT_GRID = 2_048


def in_system_history(store: SeriesStore) -> tuple[np.ndarray, np.ndarray]:
    """(end times, mean number in all the stations over each interval) from the start of the
    run: the sampled series while their ring still holds the first sample, else the exact
    totals since time 0 on a regular grid of :data:`AUTO_CUT_GRID` intervals (each value the
    exact mean over its interval, the totals being interpolated only between checkpoints)."""
    t = store.times()
    if t.size and store.holds_start:
        total = np.zeros(t.size)
        for sid in store.stations:
            total = total + store.series(sid, "queue_length") + store.series(sid, "in_service")
        return t, total
    record = store.totals
    times = record.times()
    if not times.size or not store.stations:
        return np.empty(0), np.empty(0)
    area = np.zeros(times.size)
    for sid in store.stations:
        area = area + record.cumulative(sid, "in_system_area")
    if not np.isfinite(area).all():
        return np.empty(0), np.empty(0)
    grid = np.linspace(0.0, float(times[-1]), AUTO_CUT_GRID + 1)
    cumulative = np.interp(grid, np.concatenate(([0.0], times)), np.concatenate(([0.0], area)))
    return grid[1:], np.diff(cumulative) / np.diff(grid)


def auto_warmup_cut(store: SeriesStore) -> float:
    """The warm-up an "auto" setting cuts for the run in ``store``: MSER-5
    (:func:`engine.experiments.warmup_cut`, what experiments and ``queuestudio run`` use) on
    the number in system summed over the stations, from the start of the run (see
    :func:`in_system_history`); 0 while there are too few samples."""
    times, values = in_system_history(store)
    ok = np.isfinite(values)
    if not ok.all():
        times, values = times[ok], values[ok]
    return warmup_cut(times, values) if times.size else 0.0


def _is_new(times: RingBuffer, t: float) -> bool:
    """Whether ``t`` is later than the newest time in ``times`` (NaN never is)."""
    seen = times.view()
    return bool(t > (seen[-1] if seen.size else -math.inf))
