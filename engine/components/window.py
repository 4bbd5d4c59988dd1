"""Windowed station statistics: exact time averages from running sums.

For a count N(t) that rises by one at each arrival a_i and falls at each departure d_i, the
area under N over the window [w, T] is ``sum(d_i) + N(T)·T − sum(max(a_i, w))``. Keeping
the two sums costs one addition per arrival and per departure and gives the exact time
average at any T, so nothing is sampled and nothing is approximated. Stations keep such
sums for "in system" (arrival to departure) and "in service" (start to departure); waiting
is their difference.

Every station records through the one path here: :meth:`WindowStats._enter_service` when a
request starts service and :meth:`WindowStats._depart` when it completes (counts, response
time, service time). Each sampled quantity (response times over the window, service times
since the start, a sink's latencies) is a :class:`Tally`, which keeps its count, its sum and
its percentile sketch together.
"""

from __future__ import annotations

import math
from typing import Any

from engine.sketch import QuantileSketch

#: Completions between two checks of whether the percentile buffers need folding.
FOLD_EVERY = 4096


class Tally(QuantileSketch):
    """Samples of one measured quantity: their count, their sum (:attr:`total`) and their
    percentiles (a :class:`QuantileSketch`: exact, then within 1 % with bounded memory)."""

    __slots__ = ("total",)

    def __init__(self) -> None:
        super().__init__()
        self.total = 0.0

    def add(self, value: float) -> None:
        """Record one sample (the hot path: a sum, an append, a length check)."""
        self.total += value
        values = self.values
        values.append(value)
        if len(values) >= self.exact_limit:
            self.fold()

    def fold_if_full(self) -> None:
        """Fold the exact buffer into the sketch once it holds ``exact_limit`` samples
        (for hot paths that append to :attr:`values` and check only now and then)."""
        if len(self.values) >= self.exact_limit:
            self.fold()

    def clear(self) -> None:
        """Forget every sample (a new measurement window)."""
        super().clear()
        self.total = 0.0

    @property
    def mean(self) -> float:
        """The mean sample (NaN when empty)."""
        n = self.count
        return self.total / n if n else math.nan


class WindowStats:
    """Mixin holding a station's window accumulators (reset at the end of warm-up).

    A station calls :meth:`_init_window` at the end of its constructor, counts arrivals in
    ``_arrivals`` (adding the arrival time of each accepted one to ``_m_A``), rejections in
    ``_rejected``, and records starts and completions only through :meth:`_enter_service`
    and :meth:`_depart`.
    """

    _in_service: int
    _waiting: int
    _completed: int

    def _init_window(self) -> None:
        # All-time counters; the window's own counts are differences from a baseline taken
        # at the reset, which keeps one increment per event on the hot path.
        self._arrivals = 0
        self._rejected = 0
        self._responses = Tally()  # response times over the window
        self._resp_append = self._responses.values.append
        self._service = Tally()  # service times since the start (never reset)
        self._svc_append = self._service.values.append
        self._reset_window(0.0)

    def _enter_service(self, now: float, wait: float) -> None:
        """A request starts service at ``now`` after waiting ``wait`` seconds."""
        self._in_service += 1
        self._m_S += now
        self._m_wait += wait

    def _depart(self, now: float, response: float, service: float | None) -> None:
        """A request completes at ``now``: the one completion path of every station. It
        counts the completion, adds ``now`` to the departure times and records the
        ``response`` time (arrival to departure) and the ``service`` time (None for a
        station whose requests have none of their own)."""
        self._in_service -= 1
        n = self._completed = self._completed + 1
        self._m_D += now
        # Tally.add inlined for speed (this runs at every completion of every station): the
        # sums and appends here, the fold check once every FOLD_EVERY completions.
        self._responses.total += response
        self._resp_append(response)
        if service is not None:
            self._service.total += service
            self._svc_append(service)
        if not n % FOLD_EVERY:
            self._responses.fold_if_full()
            self._service.fold_if_full()

    def _reset_window(self, now: float) -> None:
        """Start a new measurement window at ``now`` (requests present stay counted)."""
        self._m_start = now
        self._m_arrivals0 = self._arrivals
        self._m_rejected0 = self._rejected
        self._m_started0 = self._completed + self._in_service
        self._m_A = (self._waiting + self._in_service) * now  # sum of arrival times
        self._m_S = self._in_service * now  # sum of service start times
        self._m_D = 0.0  # sum of departure times
        self._m_wait = 0.0
        self._m_cap_area = 0.0
        self._m_cap_t = now
        self._m_busy_start = self._busy_units() * now
        self._m_busy_end = 0.0
        self._responses.clear()

    @property
    def completed(self) -> int:
        """Completions in the current measurement window (since the start, or since the end
        of the warm-up)."""
        return self._responses.count

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
        responses = self._responses
        return (
            responses.count,
            responses.total,
            self._completed + self._in_service - self._m_started0,
            self._m_wait,
        )

    def window_metrics(self, now: float) -> dict[str, Any]:
        """The station's metrics over the window from its start (warm-up) to ``now``."""
        span = now - self._m_start
        q_area, srv_area, busy_area, cap_area = self.areas(now)
        resp = self._responses
        done = resp.count
        started = self._completed + self._in_service - self._m_started0
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
            "mean_response": resp.total / done if done else nan,
            "p50_response": resp.percentile(0.5) if done else nan,
            "p95_response": resp.percentile(0.95) if done else nan,
            "p99_response": resp.percentile(0.99) if done else nan,
            "throughput": done / span if span > 0 else nan,
        }
