"""Feeding the live run's flows and moving requests to the canvas (GUI thread only).

:class:`CanvasFlows` turns each :class:`~desktop.run.worker.RunBatch` into link widths and
labels (``LinkItem.set_flow``) and, while the run is slow, into dots travelling along the
links and queue markers above the stations (:class:`~desktop.canvas.animation.RequestAnimation`).
It only reads batches; the simulation stays in the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6

from desktop.canvas.animation import RequestAnimation
from desktop.run.flows import SLOW_SPEED, LinkKey
from desktop.run.worker import RunBatch


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

    def animate(self, batch: RunBatch) -> None:
        """Hand the batch's movements and (at slow speed) queue lengths to the animation; cheap
        enough for every batch, so that no movement is lost."""
        animation = self.animation
        if animation is None or not shiboken6.isValid(animation):
            return
        slow = batch.speed <= SLOW_SPEED
        queues = {sid: live.queue_length for sid, live in batch.stations.items()} if slow else {}
        animation.feed(batch.now, batch.emitted_at, batch.speed, batch.state == "running", batch.movements, queues)

    def show_flows(self, batch: RunBatch) -> None:
        """Set every link's flow from the batch, widths relative to the busiest link."""
        if self.link_item is None or not batch.flows:
            return
        peak = max(batch.flows.values())
        for key, rate in batch.flows.items():
            item = self.link_item(*key)
            if item is not None and shiboken6.isValid(item):
                item.set_flow(rate, rate / peak if peak > 0 else 0.0)
                self._shown.add(key)

    def clear(self) -> None:
        """Remove every flow, dot and queue marker (the run stopped or a new one starts)."""
        if self.link_item is not None:
            for key in self._shown:
                item = self.link_item(*key)
                if item is not None and shiboken6.isValid(item):
                    item.set_flow(None)
        self._shown.clear()
        if self.animation is not None and shiboken6.isValid(self.animation):
            self.animation.clear()
