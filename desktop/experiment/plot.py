"""The sweep plot: one chart per metric, filled in point by point.

Each chart draws the sweep's means with their 95 % error bars, theory as a dashed smooth curve
(computed at many values by :func:`desktop.experiment.runner.theory_curve`), the model's
current value as a vertical dotted line, and an optional target as a horizontal line. Hovering
near a point shows its numbers. Curves and bars are created once and fed with ``setData``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor

from desktop.theme import PALETTE_EVENTS, colors, mix, readable

#: The metrics a sweep can plot: (label, unit, short name used in sentences).
METRICS: dict[str, tuple[str, str, str]] = {
    "mean_response": ("mean response", "s", "mean response"),
    "p95_response": ("p95 response", "s", "p95"),
    "p99_response": ("p99 response", "s", "p99"),
    "utilization": ("utilisation", "", "utilisation"),
    "mean_in_system": ("L (mean in system)", "", "L"),
    "throughput": ("throughput", "1/s", "throughput"),
    "blocking_probability": ("blocking probability", "", "blocking"),
}
#: Short axis titles, so that stacked charts stay readable in a small dock.
AXIS_TITLES = {
    "mean_response": "W",
    "p95_response": "p95",
    "p99_response": "p99",
    "utilization": "ρ",
    "mean_in_system": "L",
    "throughput": "X",
    "blocking_probability": "P(block)",
}
POINT_COLOR = "#1f77b4"
THEORY_COLOR = "#d62728"
TARGET_COLOR = "#188038"
#: The grey of the "model" marker (made readable on the chart's background).
NOTE_COLOR = "#5f6368"
#: How near (pixels) the pointer must be to a point for its numbers to show.
HOVER_PIXELS = 24


def number(value: Any, digits: int = 3) -> str:
    """A value in a few significant digits ("—" when there is none)."""
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}g}"


def with_unit(text: str, unit: str) -> str:
    """``0.18 s``; a unit-less value stays bare."""
    return f"{text} {unit}".rstrip() if unit and text != "—" else text


class _Chart:
    """One metric's chart and its items."""

    def __init__(self, plot: pg.PlotItem, metric: str) -> None:
        self.plot = plot
        self.metric = metric
        self.points = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(POINT_COLOR), pen=pg.mkPen("w"))
        self.line = pg.PlotDataItem(pen=pg.mkPen(POINT_COLOR, width=1))
        self.bars = pg.ErrorBarItem(x=np.empty(0), y=np.empty(0), height=np.empty(0), beam=0, pen=POINT_COLOR)
        self.theory = pg.PlotDataItem(pen=pg.mkPen(THEORY_COLOR, width=1.5, style=Qt.PenStyle.DashLine))
        self.current = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen(NOTE_COLOR, style=Qt.PenStyle.DotLine),
            label="model",
            labelOpts={"position": 0.08, "color": NOTE_COLOR},
        )
        self.target = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen(TARGET_COLOR, width=1.5),
            label="",
            labelOpts={"position": 0.55, "color": TARGET_COLOR, "anchors": [(0.5, 1), (0.5, 1)]},
        )
        for item in (self.theory, self.line, self.bars, self.points, self.current, self.target):
            plot.addItem(item)
        self.current.hide()
        self.target.hide()


class SweepPlot(pg.GraphicsLayoutWidget):
    """The charts of one sweep (see the module's docstring)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(220)
        self.charts: dict[str, _Chart] = {}
        self.node = ""
        self.label = ""
        self.unit = ""
        self.points: dict[float, dict[str, Any]] = {}
        self.replications: dict[float, int] = {}
        self._theory: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
        self._x_range: tuple[float, float] | None = None
        self.hover = pg.TextItem()
        self.hover.setZValue(100)
        self._restyle()
        self.hover_text = ""
        self._hover_chart: _Chart | None = None
        self.scene().sigMouseMoved.connect(self._mouse_moved)

    def _restyle(self) -> None:
        """The chart background, the hover box and the grey notes in the palette's colours
        (readable text on the box's own fill), again on a light/dark switch."""
        scheme = colors(self.palette())
        self.setBackground(scheme.chart_bg)
        fill = QColor(scheme.chart_bg)
        fill.setAlpha(235)
        self.hover.fill = pg.mkBrush(fill)
        self.hover.border = pg.mkPen(mix(scheme.chart_fg, scheme.chart_bg, 0.5))
        self.hover.setColor(readable(scheme.chart_fg, scheme.chart_bg))
        note = readable(QColor(NOTE_COLOR), scheme.chart_bg)
        for chart in self.charts.values():
            chart.current.setPen(pg.mkPen(note, style=Qt.PenStyle.DotLine))
            chart.current.label.setColor(note)
            target = readable(QColor(TARGET_COLOR), scheme.chart_bg)
            chart.target.label.setColor(target)
        self.hover.update()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in PALETTE_EVENTS and hasattr(self, "hover"):
            self._restyle()

    # ------------------------------------------------------------ setting up
    def configure(
        self,
        label: str,
        unit: str,
        node: str,
        metrics: list[str],
        current: float | None,
        x_range: tuple[float, float] | None = None,
    ) -> None:
        """Start a new plot: parameter ``label`` (with ``unit``) on x, one chart per metric of
        ``node``. The charts of the same metrics are kept and emptied (building a chart costs
        a few tenths of a second of the GUI thread). With ``x_range`` (the sweep's values) the
        ranges are set here and by :meth:`_redraw` rather than by pyqtgraph's auto-range,
        which costs a second repaint of every chart at each new point."""
        self._x_range = x_range
        self._hide_hover()
        self.points = {}
        self.replications = {}
        self._theory = None
        self.node, self.label, self.unit = node, label, unit
        if list(self.charts) != list(metrics):
            self._build(metrics)
        for chart in self.charts.values():
            chart.plot.setLabel("bottom", label, units=unit or None)
            for item in (chart.points, chart.line, chart.theory):
                item.setData([], [])
            chart.bars.setData(x=np.empty(0), y=np.empty(0), height=np.empty(0))
            chart.target.hide()
            if current is not None and math.isfinite(current):
                chart.current.setValue(current)
                chart.current.show()
            else:
                chart.current.hide()
            if x_range is not None and x_range[1] > x_range[0]:
                chart.plot.enableAutoRange(False)
                chart.plot.setXRange(*_span(x_range[0], x_range[1], current), padding=0.05)
            else:
                chart.plot.enableAutoRange()

    def _build(self, metrics: list[str]) -> None:
        """One chart per metric, side by side (up to three in a row: a dock is wider than
        tall), titled with the metric; no grid lines (they double the cost of a repaint)."""
        self.clear()
        self.charts = {}
        columns = len(metrics) if len(metrics) <= 3 else math.ceil(len(metrics) / 2)
        first: pg.PlotItem | None = None
        for i, metric in enumerate(metrics):
            name, metric_unit, _ = METRICS.get(metric, (metric, "", metric))
            plot = self.addPlot(row=i // columns, col=i % columns)
            plot.setTitle(name, size="8pt")
            plot.setLabel("left", AXIS_TITLES.get(metric, name), units=metric_unit or None)
            plot.getAxis("left").enableAutoSIPrefix(False)  # 0.8, not "800 (×0.001)"
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            self.charts[metric] = _Chart(plot, metric)
        self._restyle()

    def set_theory(self, xs: np.ndarray, curves: dict[str, dict[str, np.ndarray]]) -> None:
        """Theory's smooth curves (``{node: {metric: ys}}`` over ``xs``) for the plotted node."""
        mine = curves.get(self.node, {})
        self._theory = (np.asarray(xs, dtype=float), {k: np.asarray(v, dtype=float) for k, v in mine.items()})
        for metric, chart in self.charts.items():
            ys = self._theory[1].get(metric)
            if ys is None or not np.isfinite(ys).any():
                chart.theory.setData([], [])
            else:
                chart.theory.setData(self._theory[0], ys, connect="finite")
        if self.points:
            self._redraw()

    def set_point(self, value: float, summary: dict[str, Any], replications: int = 0) -> None:
        """Show (or update) the point at ``value`` from a summary ``{node: {metric, "ci95": {…}}}``."""
        self.points[float(value)] = summary.get(self.node, {})
        self.replications[float(value)] = replications
        self._redraw()

    def set_points(self, points: list[tuple[float, dict[str, Any], int]]) -> None:
        """Show many points at once: ``(value, summary, replications)`` each (one redraw)."""
        for value, summary, replications in points:
            self.points[float(value)] = summary.get(self.node, {})
            self.replications[float(value)] = replications
        self._redraw()

    def set_target(self, metric: str | None, op: str = "<=", value: float | None = None) -> None:
        """Draw ``metric op value`` as a horizontal line on that metric's chart (None: no target)."""
        for name, chart in self.charts.items():
            on = metric == name and value is not None and math.isfinite(value)
            chart.target.setVisible(on)
            if on:
                chart.target.setValue(value)
                chart.target.label.setFormat(f"target {'≤' if op == '<=' else '≥'} {number(value)}")
        if self.points:
            self._redraw()

    # ------------------------------------------------------------ reading
    def series(self, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(values, means, half-widths)`` of ``metric`` in the order of the values."""
        xs = np.array(sorted(self.points), dtype=float)
        means = np.array([_num(self.points[x].get(metric)) for x in xs], dtype=float)
        halves = np.array([_num(self.points[x].get("ci95", {}).get(metric)) for x in xs], dtype=float)
        return xs, means, halves

    def describe(self, metric: str, value: float) -> str:
        """The numbers of the point at ``value``: what hovering over it shows."""
        name, unit, _ = METRICS.get(metric, (metric, "", metric))
        metrics = self.points.get(float(value), {})
        mean, half = metrics.get(metric), metrics.get("ci95", {}).get(metric)
        text = f"{self.label} = {number(value, 6)}\n{name}: {with_unit(number(mean, 4), unit)}"
        if isinstance(half, (int, float)) and math.isfinite(half):
            text += f" ± {number(half, 2)}"
        theory = self.theory_at(metric, value)
        if theory is not None:
            text += f"\ntheory: {with_unit(number(theory, 4), unit)}"
        reps = self.replications.get(float(value))
        if reps:
            text += f"\n{reps} replication{'s' if reps != 1 else ''}"
        return text

    def theory_at(self, metric: str, value: float) -> float | None:
        """Theory's value of ``metric`` at ``value`` (interpolated on the smooth curve), or None."""
        if self._theory is None or metric not in self._theory[1]:
            return None
        xs, ys = self._theory[0], self._theory[1][metric]
        if not len(xs) or value < xs[0] or value > xs[-1]:
            return None
        y = float(np.interp(value, xs, ys))
        return y if math.isfinite(y) else None

    # ------------------------------------------------------------ export
    def export_png(self, path: str) -> None:
        """Write the charts to a PNG file."""
        pyqtgraph.exporters.ImageExporter(self.ci).export(path)

    def export_svg(self, path: str) -> None:
        """Write the charts to an SVG file (vector: the scene painted through QSvgGenerator;
        pyqtgraph's own SVG exporter fails on some of the paths the error bars draw)."""
        from PySide6.QtCore import QRect, QSize
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator

        size = self.size()
        generator = QSvgGenerator()
        generator.setFileName(path)
        generator.setSize(QSize(size.width(), size.height()))
        generator.setViewBox(QRect(0, 0, size.width(), size.height()))
        generator.setTitle(f"Sweep of {self.label}")
        painter = QPainter(generator)
        try:
            self.render(painter)
        finally:
            painter.end()

    # ------------------------------------------------------------ drawing
    def _redraw(self) -> None:
        for metric, chart in self.charts.items():
            xs, means, halves = self.series(metric)
            ok = np.isfinite(means)
            chart.points.setData(xs[ok], means[ok])
            chart.line.setData(xs[ok], means[ok])
            bars = ok & np.isfinite(halves)
            chart.bars.setData(x=xs[bars], y=means[bars], height=2 * halves[bars])
            if self._x_range is not None and ok.any():
                self._fit_y(chart, means[ok], np.where(bars, halves, 0.0)[ok])

    def _fit_y(self, chart: _Chart, means: np.ndarray, halves: np.ndarray) -> None:
        """The y range: the points with their bars, theory where it stays within three times
        the points' span (near saturation theory grows without bound), the target; changed
        only when it must grow or has become much too large."""
        low, high = float(np.min(means - halves)), float(np.max(means + halves))
        if self._theory is not None and chart.metric in self._theory[1]:
            ys = self._theory[1][chart.metric]
            ys = ys[np.isfinite(ys)]
            span = max(high - low, abs(high) * 0.1, 1e-12)
            ys = ys[(ys >= low - 3 * span) & (ys <= high + 3 * span)]
            if ys.size:
                low, high = min(low, float(ys.min())), max(high, float(ys.max()))
        if chart.target.isVisible():
            low, high = min(low, chart.target.value()), max(high, chart.target.value())
        low = min(low, 0.0) if low >= 0 and low < 0.25 * high else low
        if high <= low:
            high = low + max(abs(low) * 0.1, 1e-9)
        (shown_low, shown_high) = chart.plot.vb.viewRange()[1]
        size = high - low
        if low < shown_low or high > shown_high or (shown_high - shown_low) > 2.5 * size:
            # Grow with headroom on the side that grew: the next points then often fit, and
            # a chart whose range stays is repainted without recomputing its axis.
            if high > shown_high:
                high += 0.3 * size
            if low < shown_low and low < 0:
                low -= 0.3 * size
            chart.plot.setYRange(low, high, padding=0.04)

    def _mouse_moved(self, pos: QPointF) -> None:
        best: tuple[float, _Chart, float] | None = None
        for chart in self.charts.values():
            if not chart.plot.sceneBoundingRect().contains(pos):
                continue
            xs, means, _ = self.series(chart.metric)
            box = chart.plot.vb
            for x, y in zip(xs, means):
                if not math.isfinite(y):
                    continue
                at = box.mapViewToScene(QPointF(float(x), float(y)))
                d = math.hypot(at.x() - pos.x(), at.y() - pos.y())
                if d <= HOVER_PIXELS and (best is None or d < best[0]):
                    best = (d, chart, float(x))
        if best is None:
            self._hide_hover()
            return
        _, chart, x = best
        self.show_hover(chart.metric, x)

    def show_hover(self, metric: str, value: float) -> None:
        """Show the numbers of the point at ``value`` on ``metric``'s chart."""
        chart = self.charts[metric]
        if self._hover_chart is not chart:
            self._hide_hover()
            chart.plot.addItem(self.hover, ignoreBounds=True)
            self._hover_chart = chart
        self.hover_text = self.describe(metric, value)
        self.hover.setText(self.hover_text)
        mean = self.points.get(float(value), {}).get(metric)
        self.hover.setPos(value, _num(mean))
        self.hover.show()

    def _hide_hover(self) -> None:
        if self._hover_chart is not None:
            self._hover_chart.plot.removeItem(self.hover)
            self._hover_chart = None
        self.hover_text = ""


def _span(low: float, high: float, current: float | None) -> tuple[float, float]:
    """The x range: the sweep's values, and the model's current value if it lies near them."""
    if current is not None and math.isfinite(current) and low - (high - low) <= current <= high + (high - low):
        return min(low, current), max(high, current)
    return low, high


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
