"""Theory beside the simulation: analytic ρ, L, Lq, W, Wq next to the running estimates,
Little's law, the utilisation law and flow balance with their residuals, and the node badge.

The simulated values are batch-means estimates (:func:`desktop.run.buffers.batch_means`)
over the data since the measurement window opened: the end of warm-up, or the latest live
parameter change, whichever is later — after a change the old steady state is no longer the
one theory describes, so the estimates and the interval restart there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.run.buffers import Estimate, SeriesStore
from engine import distributions, theory
from engine.model import Model

#: Node kinds that are stations (they queue and serve).
STATION_KINDS = ("server", "thread_pool", "async_server", "delay")
#: (metric name, label) of the quantities compared with theory, in display order.
QUANTITIES = (
    ("utilization", "ρ  utilisation"),
    ("mean_in_system", "L  in system"),
    ("mean_queue_length", "Lq  waiting"),
    ("mean_response", "W  response (s)"),
    ("mean_wait", "Wq  wait (s)"),
)
#: Badge colours by coverage state.
COLOURS = {"covers": "#2e9e44", "outside": "#e0a100", "collecting": "#9a9a9a", "none": "#d0d0d0"}


def analytic(model: Model) -> dict[str, dict[str, float] | str]:
    """Per station, the analytic metrics (``StationResult.as_dict()``) or the reason why theory
    does not apply, from ``engine.theory.analyze`` (absent in older builds: then every station
    gets that as its reason)."""
    stations = [n.id for n in model.nodes if n.kind in STATION_KINDS]
    analyze: Callable[[Model], dict[str, Any]] | None = getattr(theory, "analyze", None)
    if analyze is None:
        try:
            from engine.analysis import analyze_model
        except ImportError:
            return {sid: "this build of engine.theory has no analyze()" for sid in stations}
        analyze = analyze_model
    try:
        raw = analyze(model)
    except Exception as exc:  # a theory bug must not stop the run
        return {sid: f"theory failed: {exc}" for sid in stations}
    return {sid: (r if isinstance(r, str) else dict(r.as_dict())) for sid, r in raw.items() if sid in stations}


def service_capacity(model: Model, station: str) -> tuple[float, float] | None:
    """(mean service time in seconds, capacity) for the utilisation law, or None if unknown."""
    node = model.node(station)
    p = node.params
    try:
        if node.kind == "server":
            conc = p.get("concurrency", 1)
            if isinstance(conc, dict):
                conc = conc.get("initial", conc.get("c", conc.get("total_capacity")))
            return distributions.from_spec(p["service_time"]).mean, float(conc)
        if node.kind == "thread_pool":
            return distributions.from_spec(p["processing_time"]).mean, float(p.get("num_workers", 4))
    except (KeyError, TypeError, ValueError):
        return None
    return None


@dataclass(frozen=True)
class LawCheck:
    """One operational law checked on the running data: ``lhs`` should equal ``rhs``."""

    name: str
    lhs_label: str
    lhs: float
    rhs_label: str
    rhs: float

    @property
    def residual(self) -> float:
        return self.lhs - self.rhs


def law_checks(
    est: Mapping[str, Estimate], results: Mapping[str, Any], in_system: int, sc: tuple[float, float] | None
) -> list[LawCheck]:
    """Little's law for the system and the queue, the utilisation law and flow balance."""
    lam = est["throughput"].mean
    checks = [
        LawCheck("Little's law", "L", est["mean_in_system"].mean, "λW", lam * est["mean_response"].mean),
        LawCheck("Little's law (queue)", "Lq", est["mean_queue_length"].mean, "λWq", lam * est["mean_wait"].mean),
    ]
    if sc is not None:
        s, c = sc
        checks.append(LawCheck("Utilisation law", "ρ", est["utilization"].mean, "X·S/c", lam * s / c))
    arrivals = float(results.get("arrivals", math.nan))
    out = float(results.get("completed", math.nan)) + float(results.get("rejected", 0)) + in_system
    checks.append(LawCheck("Flow balance", "in", arrivals, "out+here", out))
    return checks


def coverage(theory_values: dict[str, float] | str | None, est: Mapping[str, Estimate]) -> str:
    """``covers`` when the intervals of ρ and L (from the sampled series, so always available)
    both contain theory, ``outside`` when one does not, ``collecting`` while an interval rests
    on fewer than 8 batches, ``none`` without theory."""
    if not isinstance(theory_values, dict):
        return "none"
    keys = [k for k in ("utilization", "mean_in_system") if k in theory_values]
    if any(not math.isfinite(est[k].half_width) or est[k].batches < 8 for k in keys):
        return "collecting"
    return "covers" if all(est[k].covers(theory_values[k]) for k in keys) else "outside"


def _residual(residual: float, relative: float) -> str:
    if not math.isfinite(residual):
        return "—"
    return f"residual {residual:+.3g}" + (f" ({relative:.1%})" if math.isfinite(relative) else "")


def _fmt(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:.4g}"


class TheoryBadge(QGraphicsEllipseItem):
    """A small disc put on a node item: green when the station's intervals cover theory."""

    def __init__(self, parent: QGraphicsItem, x: float, y: float) -> None:
        super().__init__(QRectF(-6, -6, 12, 12), parent)
        self.setPos(x, y)
        self.setPen(QPen(QColor("#404040"), 1))
        self.setZValue(10)
        self.set_state("none")

    def set_state(self, state: str) -> None:
        """One of the keys of :data:`COLOURS`; the tooltip says what it means."""
        self.state = state
        self.setBrush(QBrush(QColor(COLOURS[state])))
        self.setVisible(state != "none")
        self.setToolTip(
            {
                "covers": "the 95% intervals of ρ and L cover theory",
                "outside": "an interval misses theory (not converged, or theory assumptions differ)",
                "collecting": "collecting data for the confidence intervals",
                "none": "",
            }[state]
        )


class TheoryPanel(QWidget):
    """A tree of stations with theory vs simulation and the law checks, above a chart of the
    running mean of L with its 95 % band converging (or not) onto the dashed analytic L."""

    coverage_changed = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Station / quantity", "Theory", "Simulated ± 95%", "Check"])
        self.tree.setUniformRowHeights(True)
        self.tree.header().setStretchLastSection(True)
        self.station_box = QComboBox()
        self.station_box.currentTextChanged.connect(self._replot)
        self.plot = pg.PlotWidget(title="Running mean of L with 95% band (dashed: theory)", background="w")
        self.plot.setMinimumHeight(120)
        self.plot.setLabel("bottom", "simulated time", "s")
        edge = pg.mkPen(70, 130, 220, 110, width=1)
        self._upper = self.plot.plot(pen=edge)
        self._lower = self.plot.plot(pen=edge)
        self.plot.addItem(pg.FillBetweenItem(self._upper, self._lower, brush=pg.mkBrush(70, 130, 220, 70)))
        self._mean = self.plot.plot(pen=pg.mkPen("#3060c0", width=1))
        self._theory_line = self.plot.plot(pen=pg.mkPen("#c03030", width=1, style=Qt.PenStyle.DashLine))
        bottom = QWidget()
        box = QVBoxLayout(bottom)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.station_box)
        box.addWidget(self.plot)
        self.tree.setMinimumHeight(140)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([300, 200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.theory: dict[str, dict[str, float] | str] = {}
        self.states: dict[str, str] = {}
        self._steps: dict[str, list[tuple[float, float]]] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._model: Model | None = None
        self._store: SeriesStore | None = None
        self._since = 0.0

    def start(self, model: Model, store: SeriesStore) -> None:
        """Begin a run of ``model`` whose live data accumulate in ``store``."""
        self._model, self._store = model, store
        self._since = model.simulation.warmup
        self.theory = analytic(model)
        self.states = {sid: "none" for sid in store.stations}
        self._steps = {sid: [] for sid in store.stations}
        self._step_theory(model.simulation.warmup)
        self.tree.clear()
        self._items = {}
        for sid in store.stations:
            top = QTreeWidgetItem([sid, "", "", ""])
            self.tree.addTopLevelItem(top)
            self._items[sid] = top
        self.station_box.blockSignals(True)
        self.station_box.clear()
        self.station_box.addItems(list(store.stations))
        self.station_box.blockSignals(False)
        self._replot()

    def preview(self, model: Model) -> None:
        """Show ``model``'s analytic values (or why there are none) before it runs; the
        simulated column waits for Run."""
        stations = [n.id for n in model.nodes if n.kind in STATION_KINDS]
        store = SeriesStore(stations, capacity=1, checkpoint_capacity=1)
        self.start(model, store)
        for sid, top in self._items.items():
            self._fill(top, self.theory.get(sid), store.estimates(sid, self._since), [])
            top.setText(3, "press Run to simulate")
            top.setForeground(3, QBrush(QColor("#808080")))
        for column in range(3):
            self.tree.resizeColumnToContents(column)

    def model_changed(self, model: Model, at_time: float) -> None:
        """A live change at simulated ``at_time``: theory is recomputed and the window restarts."""
        self._model = model
        self._since = max(self._since, at_time)
        self.theory = analytic(model)
        self._step_theory(at_time)

    def refresh(self, batch: Any) -> None:
        """Recompute the estimates and checks from the store, with ``batch``'s running results."""
        if self._store is None or self._model is None:
            return
        for sid, top in self._items.items():
            est = self._store.estimates(sid, self._since)
            live = batch.stations.get(sid)
            present = live.queue_length + live.in_service if live is not None else 0
            checks = law_checks(est, batch.results.get(sid, {}), present, service_capacity(self._model, sid))
            self._fill(top, self.theory.get(sid), est, checks)
            state = coverage(self.theory.get(sid), est)
            label = {
                "covers": "● covers theory",
                "outside": "● outside interval",
                "collecting": "● collecting…",
                "none": "no theory",
            }[state]
            if state == "collecting" and batch.now <= self._since:
                label = f"● statistics start at t = {self._since:g} s"
            if top.text(3) != label:
                top.setText(3, label)
                top.setForeground(3, QBrush(QColor(COLOURS[state] if state != "none" else "#808080")))
            if state != self.states.get(sid):
                self.states[sid] = state
                self.coverage_changed.emit(sid, state)
        for column in range(3):  # cheaper than a header resizing to contents on every cell change
            self.tree.resizeColumnToContents(column)
        self._replot()

    def _fill(
        self,
        top: QTreeWidgetItem,
        values: dict[str, float] | str | None,
        est: Mapping[str, Estimate],
        checks: list[LawCheck],
    ) -> None:
        rows = []
        if isinstance(values, str) or values is None:
            rows.append([f"Theory does not apply: {values or 'no analytic result'}", "", "", ""])
        for key, label in QUANTITIES:
            e = est[key]
            sim = _fmt(e.mean) + (f" ± {e.half_width:.2g}" if math.isfinite(e.half_width) else "")
            if isinstance(values, dict) and key in values:
                check = "✓ covers" if e.covers(values[key]) else ("…" if not math.isfinite(e.half_width) else "✗")
                rows.append([label, _fmt(values[key]), sim, check])
            else:
                rows.append([label, "", sim, ""])
        for c in checks:
            rel = abs(c.residual) / abs(c.rhs) if c.rhs else math.nan
            rows.append(
                [c.name, f"{c.rhs_label} = {_fmt(c.rhs)}", f"{c.lhs_label} = {_fmt(c.lhs)}", _residual(c.residual, rel)]
            )
        while top.childCount() > len(rows):
            top.takeChild(top.childCount() - 1)
        while top.childCount() < len(rows):
            QTreeWidgetItem(top)
        for i, row in enumerate(rows):
            child = top.child(i)
            assert child is not None
            child.setFirstColumnSpanned(row[0].startswith("Theory does not apply"))
            for col, text in enumerate(row):
                if child.text(col) != text:
                    child.setText(col, text)
                    if col == 3 and text:
                        child.setToolTip(col, text)
        if not top.isExpanded() and top.childCount():
            top.setExpanded(True)

    def _step_theory(self, at_time: float) -> None:
        for sid, steps in self._steps.items():
            values = self.theory.get(sid)
            steps.append((at_time, values.get("mean_in_system", math.nan) if isinstance(values, dict) else math.nan))

    def _replot(self, *_: Any) -> None:
        """Draw the selected station's running mean of L and its band since the window opened,
        recomputed from the stored series, with analytic L as a dashed step line."""
        sid = self.station_box.currentText()
        if self._store is None or sid not in self._steps:
            for curve in (self._upper, self._lower, self._mean, self._theory_line):
                curve.setData([], [])
            return
        t, mean, hw = self._store.convergence(sid, self._since)
        hw = np.where(np.isfinite(hw), hw, 0.0)
        self._upper.setData(t, mean + hw)
        self._lower.setData(t, mean - hw)
        self._mean.setData(t, mean)
        steps = self._steps[sid]
        end = max(t[-1] if t.size else steps[-1][0], steps[-1][0])
        xs = np.repeat([s[0] for s in steps] + [end], 2)[1:-1]
        self._theory_line.setData(xs, np.repeat([s[1] for s in steps], 2), connect="finite")
