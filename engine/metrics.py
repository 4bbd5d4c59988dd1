"""Metrics: the names the CLI, the desktop and the theory share, and the sampled time series.

Station metrics over the measurement window come from each station's
``window_metrics(now)`` (exact time averages; see :mod:`engine.components.window`). This
module adds the :class:`Recorder`, which samples every station each ``sample_interval`` of
simulated time into rows a consumer drains incrementally while the run advances in slices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from engine.components.window import WindowStats
    from engine.simulation import Simulation

#: Per-station metrics, in table order.
STATION_METRICS = (
    "arrivals",
    "completed",
    "rejected",
    "blocking_probability",
    "utilization",
    "mean_queue_length",
    "mean_in_system",
    "mean_wait",
    "mean_response",
    "p50_response",
    "p95_response",
    "p99_response",
    "throughput",
)
#: Per-sink metrics, in table order.
SINK_METRICS = ("count", "mean_latency", "p50_latency", "p95_latency", "p99_latency", "throughput")
#: Time series sampled per station: averages over each sample interval. ``capacity`` is the
#: time-average capacity (servers, workers, connections; infinite for a delay): it moves
#: when a dynamic concurrency scales or a live edit changes it.
SERIES = ("queue_length", "in_service", "utilization", "throughput", "capacity")
#: Further series the live views use (not written by ``--csv``): arrivals and rejections per
#: second, and the busy fraction of an async server's event-loop CPU (NaN for other stations).
LIVE_SERIES = (*SERIES, "arrival_rate", "rejection_rate", "cpu_utilization")


@dataclass(frozen=True)
class SeriesBatch:
    """Rows sampled since the previous drain: ``times`` (end of each interval, seconds) and,
    per station id, one array per name in :data:`LIVE_SERIES`."""

    times: np.ndarray
    values: dict[str, dict[str, np.ndarray]]

    def __len__(self) -> int:
        return int(self.times.size)


class Recorder:
    """Samples every station's queue length, in-service count, utilisation, throughput and
    capacity, averaged over each ``interval`` of simulated time.

    Memory is bounded: when more than ``max_rows`` rows wait undrained, pairs of rows are
    merged and the interval doubles (a consumer that drains regularly never sees this).
    """

    #: How a stalled run names the sampling (see ``engine.simulation.SimulationStalled``).
    stall_name = "the time-series sampling (sample_interval)"

    def __init__(
        self, sim: Simulation, stations: dict[str, WindowStats], interval: float, *, max_rows: int = 200_000
    ) -> None:
        if not interval > 0 or not math.isfinite(interval):
            raise ValueError(f"sample interval must be > 0 seconds, got {interval!r}")
        self.sim = sim
        self.stations = stations
        self.interval = float(interval)
        self.max_rows = max_rows
        self._times: list[float] = []
        self._rows: dict[str, list[list[float]]] = {sid: [[] for _ in LIVE_SERIES] for sid in stations}
        self._last_t = sim.now
        self._last: dict[str, tuple[float, ...]] = {}
        for sid in stations:
            self._last[sid] = self._state(sid, sim.now)
        sim.call_daemon_at(sim.now + self.interval, self._sample)

    def _state(self, sid: str, now: float) -> tuple[float, ...]:
        st = self.stations[sid]
        q, s, busy, cap = st.areas(now)
        cpu = math.nan
        if hasattr(st, "_cpu_busy"):  # an async server: its event-loop busy time over the window
            a: Any = st  # (the sum AsyncServer.window_metrics uses for cpu_utilization)
            cpu = a._m_cpu_end - a._m_cpu_start + (now if a._cpu_busy else 0.0)
        return q, s, busy, cap, st.total_completed, st.window_start, st._arrivals, st._rejected, cpu

    def _sample(self, _: Any = None) -> None:
        now = self.sim.now
        last_t = self._last_t
        for sid, rows in self._rows.items():
            q, s, busy, cap, done, start, arrived, rejected, cpu = state = self._state(sid, now)
            pq, ps, pbusy, pcap, pdone, pstart, parrived, prejected, pcpu = self._last[sid]
            if start != pstart:  # the window was reset (end of warm-up) since the last sample
                pq = ps = pbusy = pcap = pcpu = 0.0
                span = now - max(last_t, start)
            else:
                span = now - last_t
            if span > 0:
                rows[0].append((q - pq) / span)
                rows[1].append((s - ps) / span)
                dcap = cap - pcap
                rows[2].append((busy - pbusy) / dcap if 0 < dcap < math.inf else math.nan)
                rows[4].append(dcap / span)
                rows[7].append((cpu - pcpu) / span)
            else:  # reset at this very instant: no interval to average over, show the state now
                st = self.stations[sid]
                rows[0].append(float(st._waiting))
                rows[1].append(float(st._in_service))
                capacity = st._capacity_now()
                rows[2].append(st._busy_units() / capacity if 0 < capacity < math.inf else math.nan)
                rows[4].append(float(capacity))
                rows[7].append((1.0 if st._cpu_busy else 0.0) if hasattr(st, "_cpu_busy") else math.nan)
            elapsed = now - last_t
            rows[3].append((done - pdone) / elapsed if elapsed > 0 else math.nan)
            rows[5].append((arrived - parrived) / elapsed if elapsed > 0 else math.nan)
            rows[6].append((rejected - prejected) / elapsed if elapsed > 0 else math.nan)
            self._last[sid] = state
        self._times.append(now)
        self._last_t = now
        if len(self._times) > self.max_rows:
            self._decimate()
        self.sim.call_daemon_at(now + self.interval, self._sample)

    def _decimate(self) -> None:
        def halve(values: list[float]) -> list[float]:
            arr = np.asarray(values[: len(values) // 2 * 2], dtype=float).reshape(-1, 2).mean(axis=1)
            return arr.tolist() + values[len(values) // 2 * 2 :]  # type: ignore[no-any-return]

        self._times = self._times[1::2] + self._times[len(self._times) // 2 * 2 :]
        for rows in self._rows.values():
            for i, values in enumerate(rows):
                rows[i] = halve(values)
        self.interval *= 2

    @property
    def pending(self) -> int:
        """Rows sampled and not yet drained."""
        return len(self._times)

    def drain(self) -> SeriesBatch:
        """Everything sampled since the previous call, as arrays (then forgotten here)."""
        times = np.asarray(self._times, dtype=float)
        values = {
            sid: {name: np.asarray(rows[i], dtype=float) for i, name in enumerate(LIVE_SERIES)}
            for sid, rows in self._rows.items()
        }
        self._times = []
        for rows in self._rows.values():
            for values_list in rows:
                values_list.clear()
        return SeriesBatch(times, values)


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None, ready for strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
