"""The exact totals of a live run over its whole length, in bounded memory: the record the
convergence chart draws, the Theory tab's exact values and intervals come from, and a warm-up
moved after the run (or cut automatically) is applied with, without re-running.

The worker's checkpoints (:class:`desktop.run.batch.Checkpoint`) carry each station's totals;
:class:`Convergence` keeps at most :data:`CONVERGENCE_POINTS` of them, merging pairs when full
(the totals are cumulative, so a merge loses resolution, never exactness).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from desktop.run.batch import CUMULATIVE_FIELDS
from engine.stats import t975

#: Most points the convergence record keeps (beyond, every other point is dropped).
CONVERGENCE_POINTS = 1_024
#: What each quantity :meth:`Convergence.curve` draws divides: (numerator, denominator) of
#: :data:`~desktop.run.batch.CUMULATIVE_FIELDS`, None for the window's duration.
_RATIOS: dict[str, tuple[str, str | None]] = {
    "mean_in_system": ("in_system_area", None),
    "mean_queue_length": ("queue_area", None),
    "mean_response": ("response_sum", "completed"),
    "mean_wait": ("wait_sum", "started"),
    "utilization": ("busy_area", "capacity_area"),
    "throughput": ("completed", None),
}
#: Quantities :meth:`Convergence.curve` draws: L, Lq, W, Wq, ρ and X.
CONVERGENCE_QUANTITIES = tuple(_RATIOS)
_NAN_CUMULATIVE = (math.nan,) * len(CUMULATIVE_FIELDS)
#: Fewest batches :meth:`Convergence.curve` draws a band from.
MIN_BATCHES = 4


class Convergence:
    """The stations' exact running totals over the whole run, at the worker's checkpoints
    (:class:`desktop.run.batch.Checkpoint`), in bounded memory: at most ``cap`` points; when
    full, every other point is dropped (the totals are cumulative, so dropping a point merges
    the two intervals around it and loses nothing but resolution). The oldest and the newest
    point and the points where an estimate restarts (live changes, the warm-up cut, see
    :meth:`pin`) are always kept.

    Per point and station it holds the time-integral of the number in system over the
    engine's measurement window, the window's start, the completions and the sum of their
    response times — what ``Run.results()`` divides, so :meth:`curve` ends on the engine's
    values to the last bit — and the station's totals since time 0
    (:data:`desktop.run.batch.CUMULATIVE_FIELDS`), from which any window that starts at a
    held point (or at 0, where every total is 0) is exact: a warm-up moved after the run, a
    live change.
    """

    def __init__(self, stations: Iterable[str], cap: int = CONVERGENCE_POINTS) -> None:
        if cap < 4:
            raise ValueError(f"cap must be >= 4, got {cap!r}")
        self.stations = tuple(stations)
        self.cap = cap
        self._t = np.empty(cap)
        # columns: area under the number in system, window start, completed, response-time sum
        self._v = {sid: np.full((cap, 4), np.nan) for sid in self.stations}
        # the totals since time 0, columns as CUMULATIVE_FIELDS
        self._c = {sid: np.full((cap, len(CUMULATIVE_FIELDS)), np.nan) for sid in self.stations}
        self._n = 0
        self._pinned: list[float] = []
        # Checkpoints per point kept (doubles at each merge), checkpoints seen, and whether
        # the newest point is only there as the newest (the next checkpoint replaces it).
        self._stride, self._count, self._tail = 1, 0, False
        #: How many times pairs were merged (the record's resolution halved).
        self.merges = 0

    def __len__(self) -> int:
        return self._n

    def pin(self, t: float) -> None:
        """Keep the point at simulated time ``t`` (an estimate restarts there) through merges."""
        self._pinned.append(float(t))

    def add(self, checkpoint: Any) -> None:
        """Record a checkpoint later than the newest point (others, and checkpoints without
        areas, are ignored)."""
        areas = getattr(checkpoint, "areas", None)
        if not areas or (self._n and not checkpoint.time > self._t[self._n - 1]):
            return
        if self._tail:  # the newest point was kept only as the newest: replace it
            i = self._n - 1
        else:
            if self._n == self.cap:
                self._merge()
            i = self._n
            self._n += 1
        self._t[i] = checkpoint.time
        nan4 = (math.nan,) * 4
        cumulative = getattr(checkpoint, "cumulative", None) or {}
        for sid, v in self._v.items():
            area, start = areas.get(sid, (math.nan, math.nan))
            totals = checkpoint.totals.get(sid, nan4)
            v[i] = (area, start, totals[0], totals[1])
            self._c[sid][i] = cumulative.get(sid, _NAN_CUMULATIVE)
        self._count += 1
        self._tail = self._count % self._stride != 0 and checkpoint.time not in self._pinned

    def _merge(self) -> None:
        n = self._n
        index = np.arange(n)
        pinned = np.isin(self._t[:n], self._pinned)
        keep = (index % 2 == 0) | (index == n - 1) | pinned
        if keep.sum() > self.cap - 1:  # more pinned points than room: keep the even ones only
            keep = (index % 2 == 0) | (index == n - 1)
        m = int(keep.sum())
        self._t[:m] = self._t[:n][keep]
        for v in (*self._v.values(), *self._c.values()):
            v[:m] = v[:n][keep]
        self._n = m
        self._stride *= 2
        self.merges += 1

    def times(self) -> np.ndarray:
        """Simulated times of the points held."""
        return self._t[: self._n].copy()

    def cumulative(self, station: str, name: str) -> np.ndarray:
        """One of ``station``'s totals since time 0 (a name of
        :data:`~desktop.run.batch.CUMULATIVE_FIELDS`) at each point held (NaN where unknown)."""
        return self._c[station][: self._n, CUMULATIVE_FIELDS.index(name)].copy()

    def start_point(self, since: float) -> float | None:
        """Where a window asked to start at ``since`` really starts, from the totals since
        time 0: the latest held point at or before ``since`` (0 before the first one, where
        every total is 0); None when the record holds no such totals there (no point yet, or
        checkpoints made without them)."""
        n = self._n
        if not n or not self.stations:
            return None
        lo = int(np.searchsorted(self._t[:n], since, side="right")) - 1
        held = self._c[self.stations[0]]
        if not np.isfinite(held[max(lo, 0)]).all() or not np.isfinite(held[n - 1]).all():
            return None
        if lo < 0:
            return 0.0 if since >= 0 else None
        return float(self._t[lo])

    def window(self, station: str, since: float, until: float = math.inf) -> dict[str, float]:
        """``station``'s metrics over the window from the held point :meth:`start_point`
        gives for ``since`` to the newest point at or before ``until``: the last points of
        :meth:`curve` (the same numbers the Theory tab shows) for every quantity of
        :data:`CONVERGENCE_QUANTITIES`, ``completed``, and ``start`` and ``end``, the window's
        ends (seconds). Empty when the record cannot give them."""
        start = self.start_point(since)
        if start is None:
            return {}
        out: dict[str, float] = {}
        for quantity in CONVERGENCE_QUANTITIES:
            t, mean, _ = self.curve(station, since, quantity, until, batches=0, last_only=True)
            if not t.size:
                return {}
            out[quantity] = float(mean[-1])
            out["end"] = float(t[-1])
        out["start"] = start
        out["completed"] = round(out["throughput"] * (out["end"] - start))
        return out

    def _columns(
        self, station: str, since: float, quantity: str, until: float
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | None:
        """(t0, times, numerator, denominator) of ``quantity`` for the points after ``since``
        up to ``until``, both cumulative since t0, or None."""
        if quantity not in CONVERGENCE_QUANTITIES:
            raise ValueError(f"unknown quantity {quantity!r}; expected one of {CONVERGENCE_QUANTITIES}")
        n = self._n
        t = self._t[:n]
        v = self._v[station][:n]
        after = (t > since) & (t <= until)
        if not after.any():
            return None
        first = int(np.argmax(after))
        last = int(np.nonzero(after)[0][-1]) + 1
        # The engine's measurement window itself (every point after ``since`` counts from
        # it): L and W as Run.results() divides them, to the last bit.
        if quantity in ("mean_in_system", "mean_response") and v[first, 1] == since == v[last - 1, 1]:
            ts = t[first:last]
            if quantity == "mean_in_system":
                return since, ts, v[first:last, 0].copy(), ts - since
            return since, ts, v[first:last, 3].copy(), v[first:last, 2].copy()
        # Any other window: differences of the totals since time 0 from the held point at or
        # before ``since`` (or from 0).
        lo = int(np.searchsorted(t, since, side="right")) - 1
        c = self._c[station][:n]
        if lo >= 0 and np.isfinite(c[lo]).all() and np.isfinite(c[first:last]).all():
            t0, base = float(t[lo]), c[lo]
        elif lo < 0 and np.isfinite(c[first:last]).all():
            t0, base = 0.0, np.zeros(len(CUMULATIVE_FIELDS))
        elif quantity in ("mean_in_system", "mean_response") and lo >= 0 and since >= v[first, 1]:
            # checkpoints without totals since 0: the window's own totals, from a point in it
            ts = t[lo + 1 : last]
            col = (0, 0) if quantity == "mean_in_system" else (3, 2)
            num = v[lo + 1 : last, col[0]] - v[lo, col[0]]
            if quantity == "mean_in_system":
                return float(t[lo]), ts, num, ts - t[lo]
            return float(t[lo]), ts, num, v[lo + 1 : last, col[1]] - v[lo, col[1]]
        else:
            return None
        start = lo + 1 if lo >= 0 else 0
        ts = t[start:last]
        d = c[start:last] - base
        fields = {name: i for i, name in enumerate(CUMULATIVE_FIELDS)}
        num_field, den_field = _RATIOS[quantity]
        num = d[:, fields[num_field]]
        den = ts - t0 if den_field is None else d[:, fields[den_field]]
        return t0, ts, num, den

    def curve(
        self,
        station: str,
        since: float,
        quantity: str = "mean_in_system",
        until: float = math.inf,
        batches: int = 16,
        last_only: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, running mean, 95 % half-width) of ``quantity`` (one of
        :data:`CONVERGENCE_QUANTITIES`) of ``station`` at every point after ``since`` and up to
        ``until``, each over the window from ``since`` to that point.

        When ``since`` is the start of the engine's measurement window (the warm-up) and every
        point counts from it, L = area / (t − start) and W = response sum / completions, as
        ``Run.results()`` computes them. Any other ``since`` (a live change, a warm-up moved
        after the run) restarts the estimate from the held point at or before it (or from 0):
        differences of the totals since time 0. The half-width is by batch means over groups
        of equal duration, from the cumulative totals interpolated between points:
        ``min(batches, points // 2)`` groups for a point with ``points`` points in its window
        (wider t quantiles with fewer); NaN below :data:`MIN_BATCHES` groups, or while a group
        holds no completion (and, with ``last_only``, everywhere but at the newest point)."""
        empty = (np.empty(0), np.empty(0), np.empty(0))
        columns = self._columns(station, since, quantity, until)
        if columns is None:
            return empty
        t0, ts, num, den = columns
        if not ts.size:
            return empty
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(den > 0, num / den, np.nan)
            # batch means: k groups of equal duration within [t0, t_i] for every point i, with
            # k = min(batches, points // 2) (at least MIN_BATCHES), so that each group spans at
            # least two recorded intervals
            ct = np.concatenate(([t0], ts))
            cnum = np.concatenate(([0.0], num))
            cden = np.concatenate(([0.0], den))
            points = np.arange(1, ts.size + 1)
            kk = np.minimum(max(batches, 0), points // 2)
            if last_only:  # only the newest point's band (what a precision check needs)
                kk[:-1] = 0
            half = np.full(ts.size, np.nan)
            for k in np.unique(kk[kk >= MIN_BATCHES]):
                rows = np.nonzero(kk == k)[0]
                edges = t0 + (ts[rows] - t0)[:, None] * np.linspace(0.0, 1.0, int(k) + 1)[None, :]
                gnum = np.diff(np.interp(edges, ct, cnum), axis=1)
                gden = np.diff(np.interp(edges, ct, cden), axis=1)
                full = (gden > 0).all(axis=1)
                if not full.any():
                    continue
                groups = gnum[full] / gden[full]
                std = np.std(groups, axis=1, ddof=1)
                half[rows[full]] = t975(int(k) - 1) * std / math.sqrt(int(k))
        return ts.copy(), mean, half
