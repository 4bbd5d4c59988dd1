"""Windowed station statistics: exact time averages from running sums.

For a count N(t) that rises by one at each arrival a_i and falls at each departure d_i, the
area under N over the window [w, T] is ``sum(d_i) + N(T)·T − sum(max(a_i, w))``. Keeping
the two sums costs one addition per arrival and per departure and gives the exact time
average at any T, so nothing is sampled and nothing is approximated. Stations keep such
sums for "in system" (arrival to departure) and "in service" (start to departure); waiting
is their difference.
"""

from __future__ import annotations

import math
from typing import Any

from engine.sketch import QuantileSketch

#: Completions between two checks of whether the percentile buffers need folding.
FOLD_EVERY = 4096


class WindowStats:
    """Mixin holding a station's window accumulators (reset at the end of warm-up)."""

    _in_service: int
    _waiting: int
    _completed: int

    def _init_window(self) -> None:
        # All-time counters; the window's own counts are differences from a baseline taken
        # at the reset, which keeps one increment per event on the hot path.
        self._arrivals = 0
        self._rejected = 0
        self._responses = QuantileSketch()
        self._resp_append = self._responses.values.append
        self._reset_window(0.0)

    def _reset_window(self, now: float) -> None:
        """Start a new measurement window at ``now`` (requests present stay counted)."""
        self._m_start = now
        self._m_arrivals0 = self._arrivals
        self._m_rejected0 = self._rejected
        self._m_completed0 = self._completed
        self._m_started0 = self._completed + self._in_service
        self._m_A = (self._waiting + self._in_service) * now  # sum of arrival times
        self._m_S = self._in_service * now  # sum of service start times
        self._m_D = 0.0  # sum of departure times
        self._m_wait = 0.0
        self._m_resp = 0.0
        self._m_cap_area = 0.0
        self._m_cap_t = now
        self._m_busy_start = self._busy_units() * now
        self._m_busy_end = 0.0
        self._responses.clear()

    @property
    def completed(self) -> int:
        """Completions in the current measurement window (since the start, or since the end
        of the warm-up)."""
        return self._completed - self._m_completed0

    @property
    def total_completed(self) -> int:
        """Completions since the run started, never reset (a cumulative counter)."""
        return self._completed

    @property
    def window_start(self) -> float:
        """Simulated time (seconds) at which the current measurement window started."""
        return self._m_start

    def reset_window(self) -> None:
        """Start a new measurement window now (the end of a warm-up); requests present
        stay counted in the time averages from now on."""
        sim: Any = getattr(self, "_sim", None)
        self._reset_window(0.0 if sim is None else sim.now)

    def _fold(self) -> None:
        if len(self._responses.values) >= self._responses.exact_limit:
            self._responses.fold()

    def _busy_units(self) -> float:
        """Capacity in use now (requests in service unless a subclass weighs them)."""
        return self._in_service

    def _capacity_now(self) -> float:
        raise NotImplementedError

    def _capacity_changed(self, old: float, now: float) -> None:
        """Account for the capacity having been ``old`` until ``now``."""
        self._m_cap_area += old * (now - self._m_cap_t)
        self._m_cap_t = now

    def _busy_area(self, now: float, in_service_area: float) -> float:
        return in_service_area

    def areas(self, now: float) -> tuple[float, float, float, float]:
        """Areas under queue length, in-service count, busy capacity and capacity over
        the window up to ``now`` (request·seconds)."""
        n_srv = self._in_service
        srv_area = self._m_D + n_srv * now - self._m_S
        q_area = self._m_S + self._waiting * now - self._m_A
        cap_area = self._m_cap_area + self._capacity_now() * (now - self._m_cap_t)
        return q_area, srv_area, self._busy_area(now, srv_area), cap_area

    def window_totals(self) -> tuple[int, float, int, float]:
        """(completed, sum of response times, started, sum of waits) over the window so far:
        four exact running sums, cheap enough to read after every slice of a live run."""
        return (
            self._completed - self._m_completed0,
            self._m_resp,
            self._completed + self._in_service - self._m_started0,
            self._m_wait,
        )

    def window_metrics(self, now: float) -> dict[str, Any]:
        """The station's metrics over the window from its start (warm-up) to ``now``."""
        span = now - self._m_start
        q_area, srv_area, busy_area, cap_area = self.areas(now)
        done = self._completed - self._m_completed0
        started = self._completed + self._in_service - self._m_started0
        resp = self._responses
        nan = math.nan
        arrivals = self._arrivals - self._m_arrivals0
        rejected = self._rejected - self._m_rejected0
        return {
            "arrivals": arrivals,
            "completed": done,
            "rejected": rejected,
            "blocking_probability": rejected / arrivals if arrivals else nan,
            "utilization": busy_area / cap_area if 0 < cap_area < math.inf else nan,
            "mean_queue_length": q_area / span if span > 0 else nan,
            "mean_in_system": (q_area + srv_area) / span if span > 0 else nan,
            "mean_wait": self._m_wait / started if started else nan,
            "mean_response": self._m_resp / done if done else nan,
            "p50_response": resp.percentile(0.5) if done else nan,
            "p95_response": resp.percentile(0.95) if done else nan,
            "p99_response": resp.percentile(0.99) if done else nan,
            "throughput": done / span if span > 0 else nan,
        }
