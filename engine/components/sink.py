"""Sink: where requests end, and where end-to-end latency is measured."""

from __future__ import annotations

import math
from typing import Any

from engine.components.window import Tally
from engine.entity import Entity
from engine.event import Event
from engine.simulation import DIRECT_HANDLERS


class Sink(Entity):
    """Counts the requests that reach it and records their end-to-end latency
    (``now - created_at``) with bounded memory (see :class:`engine.sketch.QuantileSketch`).

    Statistics cover the measurement window: from the start, or from the end of the warm-up
    when a model sets one.
    """

    def __init__(self, name: str = "sink") -> None:
        super().__init__(name)
        self._latencies = Tally()  # end-to-end latencies over the window
        self._append = self._latencies.values.append
        self._reset_window(0.0)

    def _reset_window(self, now: float) -> None:
        self._m_start = now
        self._latencies.clear()

    def handle_event(self, event: Event) -> None:
        """Record the request's arrival and end-to-end latency."""
        ctx = event._context
        created = event._created_at if ctx is None else float(ctx["created_at"])
        latency = self._sim.now - created  # type: ignore[union-attr]
        # Tally.add inlined for speed (every request ends here).
        lat = self._latencies
        lat.total += latency
        self._append(latency)
        if len(lat.values) >= lat.exact_limit:
            lat.fold()
        return None

    @property
    def completed(self) -> int:
        """Requests received in the current measurement window (same as :attr:`count`)."""
        return self._latencies.count

    @property
    def window_start(self) -> float:
        """Simulated time (seconds) at which the current measurement window started."""
        return self._m_start

    def reset_window(self) -> None:
        """Start a new measurement window now (the end of a warm-up)."""
        self._reset_window(0.0 if self._sim is None else self._sim.now)

    @property
    def count(self) -> int:
        """Requests received (in the current measurement window)."""
        return self._latencies.count

    @property
    def events_received(self) -> int:
        """Same as :attr:`count`."""
        return self._latencies.count

    def average_latency(self) -> float:
        """Mean end-to-end latency in seconds (0.0 before any request)."""
        lat = self._latencies
        return lat.total / lat.count if lat.count else 0.0

    def latency_percentile(self, p: float) -> float:
        """The p-quantile (0 <= p <= 1) of end-to-end latency; 0.0 without data."""
        return self._latencies.percentile(p)

    def latency_stats(self) -> dict[str, float]:
        """``count``, ``avg``, ``min``, ``max``, ``p50``, ``p95``, ``p99`` of the latency."""
        lat = self._latencies
        if not lat.count:
            return {"count": 0, "avg": 0.0, "min": 0.0, "max": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0}
        return {
            "count": lat.count,
            "avg": self.average_latency(),
            "min": lat.min,
            "max": lat.max,
            "p50": lat.percentile(0.5),
            "p95": lat.percentile(0.95),
            "p99": lat.percentile(0.99),
        }

    def window_metrics(self, now: float) -> dict[str, Any]:
        """Sink metrics over the window (``count``, ``mean_latency``, percentiles, ``throughput``)."""
        span = now - self._m_start
        lat = self._latencies
        n = lat.count
        nan = math.nan
        return {
            "count": n,
            "mean_latency": lat.total / n if n else nan,
            "p50_latency": lat.percentile(0.5) if n else nan,
            "p95_latency": lat.percentile(0.95) if n else nan,
            "p99_latency": lat.percentile(0.99) if n else nan,
            "throughput": n / span if span > 0 else nan,
        }


DIRECT_HANDLERS.add(Sink.handle_event)
