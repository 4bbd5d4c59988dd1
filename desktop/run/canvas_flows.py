"""Feeding the live run's flows and moving requests to the canvas (GUI thread only).

:class:`CanvasFlows` turns each :class:`~desktop.run.batch.RunBatch` into link widths and
labels (``LinkItem.set_flow``) and, while the run is slow, into dots travelling along the
links and queue markers above the stations (:class:`~desktop.canvas.animation.RequestAnimation`).
It also puts each station's window means on its card (``NodeItem.set_live``): the mean
queue and utilisation over the measurement window (the same numbers as the Theory and
Results tabs), with the instant queue in small type; after the run, the run's means, which
stay (with the links' run-mean flows) until the next run or another model.
It only reads batches; the simulation stays in the worker.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import shiboken6

from desktop.canvas.animation import RequestAnimation
from desktop.run.batch import RunBatch
from desktop.run.flows import SLOW_SPEED, LinkKey


class CanvasFlows:
    """Shows batches on the canvas: ``link_item(source, target)`` returns the link item (with
    ``set_flow``) or None; ``animation`` draws the requests in motion (None: not drawn)."""

    def __init__(
        self,
        link_item: Callable[[str, str], Any] | None = None,
        animation: RequestAnimation | None = None,
    ) -> None:
        self.link_item = link_item
        self.animation = animation
        self._shown: set[LinkKey] = set()
        self._final = False

    def animate(self, batch: RunBatch) -> None:
        """Hand the batch's movements and (at slow speed) queue lengths to the animation; cheap
        enough for every batch, so that no movement is lost."""
        animation = self.animation
        if animation is None or not shiboken6.isValid(animation):
            return
        slow = batch.speed <= SLOW_SPEED
        queues = {sid: live.queue_length for sid, live in batch.stations.items()} if slow else {}
        animation.feed(batch.now, batch.emitted_at, batch.speed, batch.state == "running", batch.movements, queues)

    def show_stations(
        self,
        batch: RunBatch,
        node_item: Callable[[str], Any] | None,
        results: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Put each station's window means on its card: mean queue (waiting) and utilisation
        (an async server's CPU utilisation too) from ``results`` (default ``batch.results``;
        the controller passes them recomputed for a warm-up moved since the run began), the
        queue now in small type. Before the first results, the instant values."""
        if node_item is None:
            return
        window = batch.results if results is None else results
        for sid, live in batch.stations.items():
            item = node_item(sid)
            if item is None or not shiboken6.isValid(item):
                continue
            metrics = window.get(sid, {})
            queue, rho = metrics.get("mean_queue_length"), metrics.get("utilization")
            cpu = metrics.get("cpu_utilization")
            if queue is None or rho is None or not (math.isfinite(queue) and (math.isfinite(rho) or cpu is not None)):
                item.set_live(live.queue_length, live.utilization)
                continue
            item.set_live(
                queue,
                rho if math.isfinite(rho) else 0.0,
                queue_now=None if batch.state == "finished" else live.queue_length,
                cpu=cpu,
                mean=True,
            )

    def show_flows(self, batch: RunBatch) -> None:
        """Set every link's flow from the batch, widths relative to the busiest link."""
        self._final = batch.state == "finished"
        if self.link_item is None or not batch.flows:
            return
        peak = max(batch.flows.values())
        for key, rate in batch.flows.items():
            item = self.link_item(*key)
            if item is not None and shiboken6.isValid(item):
                item.set_flow(rate, rate / peak if peak > 0 else 0.0)
                self._shown.add(key)

    def clear(self, everything: bool = False) -> None:
        """Remove every dot and queue marker and, unless a finished run's means are shown
        (kept once, until the next clear or ``everything``), every flow."""
        if self.animation is not None and shiboken6.isValid(self.animation):
            self.animation.clear()
        if self._final and not everything:
            self._final = False
            return
        self._final = False
        if self.link_item is not None:
            for key in self._shown:
                item = self.link_item(*key)
                if item is not None and shiboken6.isValid(item):
                    item.set_flow(None)
        self._shown.clear()
