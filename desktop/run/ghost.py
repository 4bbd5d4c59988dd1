"""The ghost run: a live run of scenario A with scenario B running in lockstep beside it, on
the same random numbers, in the same worker thread.

:class:`GhostWorker` is a :class:`~desktop.run.worker.SimulationWorker` that also builds
an engine run from B, with A's simulation settings (seed, end time, warm-up, sample
interval), so each node draws from the same random streams in both (the engine keys its
streams by the model's seed and the node). After every step of A's run it advances B's to
the same simulated instant; with every batch of A it emits B's batch
(``ghost_produced``, just before A's ``batch_produced``). Live edits go to A only: B runs
as it was when the run started.

:class:`GhostViews` shows B beside A in the window: B's curves drawn faint over A's on the
dashboard's charts, and B's queue and utilisation under A's on each station of the canvas
(:class:`GhostStrip`). It is fed from B's own :class:`~desktop.run.buffers.SeriesStore`.

The ghost doubles the simulation's work, little else: B's batch costs what A's does (its
results are refreshed at the same bounded cost), and the views draw B only when they draw
A. ``benchmarks/ghost_speed.py`` measures the speed against a plain live run.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from desktop.canvas.node_item import HEIGHT, LIVE_HEIGHT, WIDTH
from desktop.run.batch import Reporter, RunBatch
from desktop.run.buffers import SeriesStore
from desktop.run.dashboard import CHARTS, PALETTE, Dashboard
from desktop.run.worker import SimulationWorker
from engine.model import Model, Run, build

#: Opacity (0-255) of B's curves over A's.
GHOST_ALPHA = 90
#: The colour of scenario B on the canvas (as in :mod:`desktop.scenarios`).
GHOST_COLOR = "#e8710a"


def ghost_model(a: Model, b: Model) -> Model:
    """A copy of ``b`` run with ``a``'s simulation settings (seed, end time, warm-up, sample
    interval): the same random streams, the same window, the same sampling."""
    out = b.copy()
    out.simulation = copy.deepcopy(a.simulation)
    return out


class GhostWorker(SimulationWorker):
    """Runs ``model`` (scenario A) live and ``ghost`` (scenario B) in lockstep beside it.

    ``ghost_produced(RunBatch)`` carries B's batch, emitted just before each of A's."""

    ghost_produced = Signal(object)

    def __init__(self, model: Model, ghost: Model, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self._ghost_model = ghost_model(model, ghost)
        self._ghost: Run | None = None
        self._ghost_reporter: Reporter | None = None

    def stop(self) -> None:
        super().stop()
        ghost = self._ghost
        if ghost is not None:
            ghost.sim.request_stop()

    # ---------------------------------------------------------- worker thread
    def _drive(self, run: Run) -> None:
        self._ghost = build(self._ghost_model, series=True)
        self._ghost_reporter = Reporter(self._ghost)
        if self._stop_flag:
            self._ghost.sim.request_stop()
        super()._drive(run)

    def _advance(self, run: Run, limit: float) -> None:
        super()._advance(run, limit)
        self._follow(run.now)

    def _step(self, run: Run) -> None:
        super()._step(run)
        self._follow(run.now)

    def _follow(self, until: float) -> None:
        """Bring B to simulated time ``until``, stopping at its warm-up cut on the way as the
        worker does for A (so B's totals since time 0 are exact too)."""
        ghost, reporter = self._ghost, self._ghost_reporter
        if ghost is None or reporter is None or self._stop_flag:
            return
        until = min(until, ghost.end_time)
        cut = reporter.pending_cut
        if cut is not None and until >= cut:
            ghost.run_until(math.nextafter(cut, -math.inf))
            if ghost.sim.stop_requested:
                return
            reporter.take_cut()
        if ghost.now < until:
            ghost.run_until(until)

    def _batch(self, run: Run, state: str, now: float) -> RunBatch:
        if self._ghost_reporter is not None:
            self.ghost_produced.emit(self._ghost_reporter.batch(self._seq, state, now, self._speed, None))
        return super()._batch(run, state, now)


class GhostStrip(QGraphicsItem):
    """Under a station's live strip on the canvas: scenario B's queue and utilisation."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.text = ""
        self.setPos(8, HEIGHT + LIVE_HEIGHT - 1)
        self.setZValue(2)
        self.setToolTip("Scenario B, running in lockstep on the same random numbers (ghost run)")

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.text = text
            self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, WIDTH - 16, 13)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if not self.text:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 240, 225))
        painter.drawRoundedRect(self.boundingRect(), 3, 3)
        font = QFont(painter.font())
        font.setPixelSize(10)
        painter.setFont(font)
        painter.setPen(QColor(GHOST_COLOR).darker(130))
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, self.text)


def strip_text(results: Any, live: Any) -> str:
    """ "B avg queue 2.3 · ρ 0.71" from B's running results (its instant state before any)."""
    if results:
        q, rho = results.get("mean_queue_length"), results.get("utilization")
        if isinstance(q, (int, float)) and isinstance(rho, (int, float)) and math.isfinite(q) and math.isfinite(rho):
            return f"B avg queue {q:.2g} · ρ {rho:.2f}"
    if live is not None:
        return f"B queue {live.queue_length} · ρ {live.utilization:.2f}"
    return ""


class GhostViews(QObject):
    """B's side of a ghost run in the window: faint curves on ``dashboard`` and a
    :class:`GhostStrip` on each station's canvas item (``node_item(id)``)."""

    updated = Signal()

    def __init__(self, dashboard: Dashboard, node_item: Callable[[str], Any] | None, parent: QObject) -> None:
        super().__init__(parent)
        self.dashboard = dashboard
        self.node_item = node_item
        self.store: SeriesStore | None = None
        self.last: RunBatch | None = None
        self.curves: dict[tuple[str, str, str], pg.PlotDataItem] = {}
        self.strips: dict[str, GhostStrip] = {}

    @property
    def active(self) -> bool:
        """Whether a ghost run's B is shown."""
        return self.store is not None

    def start(self, stations: list[str]) -> None:
        """A ghost run starts (after the dashboard's own ``start``): B's curves and strips."""
        self.clear()
        self.store = SeriesStore(stations)
        for n, sid in enumerate(stations):
            color = QColor(PALETTE[n % len(PALETTE)])
            color.setAlpha(GHOST_ALPHA)
            for key, _title, _unit, fields, _metric in CHARTS:
                for field in fields[-1:] if key == "response" else fields[:1]:
                    curve = pg.PlotDataItem(pen=pg.mkPen(color, width=3), antialias=False)
                    curve.setZValue(-1)  # under A's
                    self.dashboard.plots[key].addItem(curve)
                    self.curves[(sid, key, field)] = curve
            item = self.node_item(sid) if self.node_item is not None else None
            if item is not None:
                self.strips[sid] = GhostStrip(item)
        key = self.dashboard.key_label
        if "scenario B" not in key.text():
            key.setText(key.text() + "&nbsp;&nbsp;· wide faint lines: scenario B (ghost)")

    def clear(self) -> None:
        """Remove B's curves and strips (a new run, or another document)."""
        for (_sid, key, _field), curve in self.curves.items():
            plot = self.dashboard.plots.get(key)
            if plot is not None and curve.scene() is not None:
                plot.removeItem(curve)
        self.curves.clear()
        for strip in self.strips.values():
            if shiboken6.isValid(strip) and strip.scene() is not None:
                strip.scene().removeItem(strip)
        self.strips.clear()
        self.store = self.last = None

    @Slot(object)
    def add(self, batch: RunBatch) -> None:
        """B's batch: into its store; redrawn with A's next draw (:meth:`draw`)."""
        if self.store is None:
            return
        self.store.append(batch)
        self.last = batch

    def draw(self) -> None:
        """Feed B's curves and strips from its store (call when A's views are redrawn)."""
        store, batch = self.store, self.last
        if store is None or batch is None:
            return
        t, pct_t = store.times(), store.percentile_times()
        for (sid, key, field), curve in self.curves.items():
            mate = self.dashboard.curve(sid, key, field)
            curve.setVisible(mate.isVisible())
            if not mate.isVisible():
                continue
            x, y = (pct_t, store.percentile(sid, field)) if key == "response" else (t, store.series(sid, field))
            if self.dashboard.follow and x.size:
                lo = float(mate.xData[0]) if mate.xData is not None and len(mate.xData) else -np.inf
                first = max(int(np.searchsorted(x, lo)) - 1, 0)
                x, y = x[first:], y[first:]
            curve.setData(x, y)
        for sid, strip in self.strips.items():
            if shiboken6.isValid(strip):
                strip.set_text(strip_text(batch.results.get(sid), batch.stations.get(sid)))
        self.updated.emit()
