"""The live dashboard: pyqtgraph charts of queue length, utilisation, throughput and
response-time percentiles per station, fed from a :class:`~desktop.run.buffers.SeriesStore`.

Cost model (pyqtgraph 0.14, offscreen): a 1-px opaque line costs ~5 ms per 100k points, a
2-px one ~8x that and antialiasing ~70x; so every curve is created once per run, fed with
``setData`` from the ring buffers, drawn 1 px wide without antialiasing, and the plots clip
to the view and peak-downsample. Analytic values are dashed lines that step at live changes;
each change also puts a vertical marker on every chart.

The warm-up is a shaded region from 0 on every time chart; dragging its right edge reports
the new warm-up (``warmup_edited``, rounded to the sample interval), which the controller
makes an undoable document edit and applies to the run shown from its exact totals, during
the run or after it. An "auto" warm-up shades the MSER-5 cut the run gave, labelled so. Between samples (a slow run samples every 10 s of simulated
time, ~50 s of wall time at 0.2×) each station's queue and utilisation are drawn from the
instantaneous state every batch brings, so the charts move from t = 0.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Iterable
from functools import partial
from typing import Any

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from desktop.run.buffers import SeriesStore

#: (chart key, title, unit, series or percentile fields, theory metric) in layout order.
#: The utilisation chart also draws an async server's event-loop CPU utilisation (dotted).
CHARTS = (
    ("queue", "Queue length (waiting)", "", ("queue_length",), "mean_queue_length"),
    ("utilization", "Utilisation (dotted: async CPU)", "", ("utilization", "cpu_utilization"), "utilization"),
    ("throughput", "Throughput", "1/s", ("throughput",), "throughput"),
    (
        "response",
        "Response time p50 (dotted) · p95 (dash-dot) · p99 (solid)",
        "s",
        ("p50_response", "p95_response", "p99_response"),
        "mean_response",
    ),
)
#: The chart on which each theory metric is drawn as a dashed line.
CHART_OF_THEORY = {**{metric: key for key, *_, metric in CHARTS}, "cpu_utilization": "utilization"}
#: The capacity chart (servers, workers: solid; busy: dotted), shown as a third column once
#: some station's capacity moves during the run (a dynamic concurrency scaling, a live edit).
#: It follows the time range of the others (not x-linked: pyqtgraph aligns linked views by
#: pixel, and this one is taller).
CAPACITY_CHART = ("capacity", "Servers / workers (dotted: busy)", "", ("capacity", "in_service"))
#: Series drawn dotted.
DOTTED = ("cpu_utilization", "in_service")
#: Line styles of the percentiles, told apart by style as well as shade.
PERCENTILE_STYLES = {
    "p50_response": Qt.PenStyle.DotLine,
    "p95_response": Qt.PenStyle.DashDotLine,
    "p99_response": Qt.PenStyle.SolidLine,
}
#: Charts drawing each station's instantaneous state between samples: (chart, field, StationLive attribute).
INSTANT = (("queue", "queue_length"), ("utilization", "utilization"))
WARMUP_BRUSH = (120, 120, 120, 40)
WARMUP_PEN = "#888888"
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
#: Follow mode shows this many sample intervals back from the newest data.
FOLLOW_SAMPLES = 500
MAX_MARKERS = 200


def _pen(color: str | QColor, dashed: bool = False, dotted: bool = False, style: Any = None) -> Any:
    if style is None:
        style = Qt.PenStyle.DashLine if dashed else (Qt.PenStyle.DotLine if dotted else Qt.PenStyle.SolidLine)
    return pg.mkPen(color, width=1, style=style)


def _time_text(seconds: float) -> str:
    """Wall time in plain words: ``45 s``, ``83 min``, ``2.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.2g} h"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is >= ``value`` (1 for nothing positive)."""
    if not (math.isfinite(value) and value > 0):
        return 1.0
    scale = 10.0 ** math.floor(math.log10(value))
    return next(f * scale for f in (1.0, 2.0, 2.5, 5.0, 10.0) if f * scale >= value * (1 - 1e-6))


class _TimedLayout(pg.GraphicsLayoutWidget):
    """A GraphicsLayoutWidget that remembers how long its last paint took (wall seconds)."""

    paint_seconds = 0.0

    def paintEvent(self, event: Any) -> None:
        start = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds = time.perf_counter() - start


class Dashboard(QWidget):
    """Four x-linked charts with a station filter, a Follow toggle and PNG export.

    ``follow_changed`` reports the Follow state (it turns off when the user pans or zooms);
    ``warmup_edited`` the warm-up (seconds) the user dragged the shaded region's edge to.
    """

    follow_changed = Signal(bool)
    warmup_edited = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station_box = QComboBox()
        self.station_box.addItem("All stations")
        self.station_box.currentIndexChanged.connect(self._station_picked)
        self.follow_button = QToolButton()
        self.follow_button.setText("Follow")
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(True)
        self.follow_button.setToolTip("Keep the newest data in view (turns off when you pan or zoom)")
        self.follow_button.toggled.connect(self.set_follow)
        export = QToolButton()
        export.setText("Export PNG")
        export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(export)
        menu.addAction("All charts…", partial(self._export_dialog, None))
        for key, title, *_ in CHARTS:
            menu.addAction(f"{title}…", partial(self._export_dialog, key))
        export.setMenu(menu)
        bar = QHBoxLayout()
        bar.addWidget(self.station_box, 1)
        bar.addWidget(self.follow_button)
        bar.addWidget(export)
        # The key (which colour is which station) sits above the charts, not over their data.
        self.key_label = QLabel()
        self.key_label.setTextFormat(Qt.TextFormat.RichText)
        self.key_label.setWordWrap(True)
        self.key_label.hide()  # until a run has stations
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.view = _TimedLayout()
        self.view.setBackground("w")
        self.view.setMinimumHeight(240)
        self.plots: dict[str, pg.PlotItem] = {}
        for i, (key, title, unit, *_) in enumerate(CHARTS):
            plot = self.view.addPlot(row=i // 2, col=i % 2, title=title)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            if i >= 2:
                plot.setLabel("bottom", "simulated time", "s")
            else:
                plot.hideAxis("bottom")  # the chart below, x-linked, labels the time
            if unit:
                plot.setLabel("left", units=unit)
            self._prepare_time_axis(plot)
            plot.getViewBox().sigRangeChangedManually.connect(self._user_moved)
            if self.plots:
                plot.setXLink(self.plots["queue"])
            self.plots[key] = plot
        capacity = pg.PlotItem(title=CAPACITY_CHART[1])
        capacity.setClipToView(True)
        capacity.setDownsampling(auto=True, mode="peak")
        capacity.setLabel("bottom", "simulated time", "s")
        self._prepare_time_axis(capacity)
        capacity.getViewBox().sigRangeChangedManually.connect(self._user_moved)
        self.capacity_plot = capacity
        self.capacity_shown = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.key_label)
        layout.addWidget(self.note_label)
        layout.addWidget(self.view, 1)
        self.warmup = 0.0
        self._run_active = False
        self._auto = False  # the shaded cut is the automatic (MSER-5) one
        self._cut_label: pg.InfLineLabel | None = None
        self._sample_interval = 1.0
        self._regions: dict[str, pg.LinearRegionItem] = {}
        self._instant: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._add_regions()
        self.follow = True
        self._store: SeriesStore | None = None
        self._curves: dict[tuple[str, str, str], pg.PlotDataItem] = {}
        self._theory: dict[tuple[str, str], tuple[pg.PlotDataItem, list[tuple[float, float]]]] = {}
        self._markers: list[tuple[pg.InfiniteLine, ...]] = []
        self._visible: set[str] = set()
        self._span = math.inf
        self._start = 0.0
        self._now = 0.0
        self._show_empty_range()

    # ----------------------------------------------------------------- a run
    def start(self, store: SeriesStore, sample_interval: float, start_time: float = 0.0) -> None:
        """Prepare curves for the stations of ``store`` (a new run)."""
        for plot in [*self.plots.values(), self.capacity_plot]:
            plot.clear()
        self._show_capacity(False)
        self._store = store
        self._curves.clear()
        self._theory.clear()
        self._markers.clear()
        self._instant.clear()
        self._span = FOLLOW_SAMPLES * sample_interval
        self._sample_interval = sample_interval
        self._start = self._now = start_time
        self._add_regions()
        keys = []
        for n, sid in enumerate(store.stations):
            base = QColor(PALETTE[n % len(PALETTE)])
            keys.append(f'<span style="color:{base.name()}">■</span>&nbsp;{html.escape(sid)}')
            for key, _, _, fields, metric in (*CHARTS, (*CAPACITY_CHART, None)):
                shades = (base.lighter(140), base, base.darker(150)) if len(fields) == 3 else (base,) * len(fields)
                plot = self.plots.get(key, self.capacity_plot)
                for field, shade in zip(fields, shades):
                    pen = _pen(shade, dotted=field in DOTTED, style=PERCENTILE_STYLES.get(field))
                    curve = pg.PlotDataItem(pen=pen, antialias=False)
                    plot.addItem(curve)
                    self._curves[(sid, key, field)] = curve
                if key in dict(INSTANT):
                    trail = pg.PlotDataItem(pen=_pen(base), antialias=False)
                    plot.addItem(trail)
                    self._instant[(sid, key)] = trail
                for m in (metric, "cpu_utilization") if key == "utilization" else (metric,) if metric else ():
                    line = pg.PlotDataItem(pen=_pen(base, dashed=True), antialias=False)
                    plot.addItem(line)
                    self._theory[(sid, m)] = (line, [])
        self.station_box.blockSignals(True)
        while self.station_box.count() > 1:
            self.station_box.removeItem(1)
        self.station_box.addItems(list(store.stations))
        self.station_box.setCurrentIndex(0)
        self.station_box.blockSignals(False)
        self.key_label.show()
        self.key_label.setText(
            "&nbsp;&nbsp;&nbsp;".join(keys) + "&nbsp;&nbsp;&nbsp;<span>dashed: theory · shaded: warm-up</span>"
        )
        self._visible = set(store.stations)
        self._show_empty_range()
        self.set_follow(True)

    def clear(self) -> None:
        """Forget the run (another model was opened): empty charts, no stations to pick."""
        for plot in [*self.plots.values(), self.capacity_plot]:
            plot.clear()
        self._show_capacity(False)
        self._store = None
        self._curves.clear()
        self._theory.clear()
        self._markers.clear()
        self._instant.clear()
        self._visible = set()
        self._now = self._start = 0.0
        self._add_regions()
        self.key_label.clear()
        self.key_label.hide()
        self.note_label.clear()
        self._show_empty_range()
        self.station_box.blockSignals(True)
        while self.station_box.count() > 1:
            self.station_box.removeItem(1)
        self.station_box.setCurrentIndex(0)
        self.station_box.blockSignals(False)

    def set_theory(self, at_time: float, theory: dict[str, Any]) -> None:
        """Step the dashed analytic lines to ``theory`` (per station, values or a reason) from ``at_time``."""
        for (sid, metric), (line, steps) in self._theory.items():
            values = theory.get(sid)
            value = values.get(metric, math.nan) if isinstance(values, dict) else math.nan
            steps.append((at_time, float(value)))
            self._draw_theory(line, steps)

    def add_marker(self, at_time: float, text: str) -> None:
        """A vertical line at ``at_time`` on every chart, labelled with ``text`` on the first."""
        lines = []
        for key, plot in self.plots.items():
            line = pg.InfiniteLine(
                pos=at_time,
                angle=90,
                pen=_pen("#aa22aa"),
                label=text if key == "queue" else None,
                labelOpts={"position": 0.92, "color": "#aa22aa"},
            )
            plot.addItem(line, ignoreBounds=True)
            lines.append(line)
        self._markers.append(tuple(lines))
        if len(self._markers) > MAX_MARKERS:
            for plot, line in zip(self.plots.values(), self._markers.pop(0)):
                plot.removeItem(line)

    def update_data(self, now: float) -> None:
        """Feed every visible curve from the store and, when following, scroll to ``now``.

        While following, the curves get only the samples in view (and a few before), not the
        whole store: setting and bounding 500 points instead of 32,768 per curve is what keeps
        a redraw cheap at full speed. Leaving Follow feeds the whole history for panning.
        """
        store = self._store
        if store is None:
            return
        self._now = now
        t, pct_t = store.times(), store.percentile_times()
        first = pct_first = 0
        if self.follow:
            lo = self._view_start() - 0.1 * self._span
            first = max(int(np.searchsorted(t, lo)) - 1, 0)
            pct_first = max(int(np.searchsorted(pct_t, lo)) - 1, 0)
        highest = dict.fromkeys([*self.plots, "capacity"], 0.0)
        if not self.capacity_shown and self._capacity_moves():
            self._show_capacity(True)
        for (sid, key, field), curve in self._curves.items():
            if sid not in self._visible or (key == "capacity" and not self.capacity_shown):
                continue
            if key == "response":
                x, y = pct_t[pct_first:], store.percentile(sid, field)[pct_first:]
            else:
                x, y = t[first:], store.series(sid, field)[first:]
            curve.setData(x, y)
            if y.size and self.follow:
                finite = y[np.isfinite(y)]  # a delay's capacity is infinite: no scale to show
                highest[key] = max(highest[key], float(finite.max()) if finite.size else 0.0)
        for (sid, key), trail in self._instant.items():
            if sid not in self._visible:
                continue
            tx, ty = store.instant(sid, dict(INSTANT)[key])
            if t.size and tx.size:  # join the trail to the last sample
                tx = np.concatenate(([t[-1]], tx))
                ty = np.concatenate(([store.series(sid, dict(INSTANT)[key])[-1]], ty))
            # Each state holds until the next batch's: a step, not a slope nobody measured.
            trail.setData(np.repeat(tx, 2)[1:], np.repeat(ty, 2)[:-1])
            if ty.size and self.follow:
                finite = ty[np.isfinite(ty)]
                highest[key] = max(highest[key], float(finite.max()) if finite.size else 0.0)
        for (sid, metric), (line, steps) in self._theory.items():
            if sid in self._visible:
                self._draw_theory(line, steps)
                if steps and math.isfinite(steps[-1][1]):
                    key = CHART_OF_THEORY[metric]
                    highest[key] = max(highest[key], steps[-1][1])
        if self.follow:
            self._scroll(highest)
        self._update_note()

    def curve(self, station: str, chart: str, field: str | None = None) -> pg.PlotDataItem:
        """The curve of ``station`` on ``chart`` (``field``: which percentile on "response",
        ``cpu_utilization`` on "utilization", ``in_service`` on "capacity")."""
        fields = next(c[3] for c in (*CHARTS, CAPACITY_CHART) if c[0] == chart)
        return self._curves[(station, chart, field or fields[0])]

    def _capacity_moves(self) -> bool:
        """Whether some station's sampled capacity has taken more than one finite value."""
        store = self._store
        if store is None:
            return False
        for sid in store.stations:
            cap = store.series(sid, "capacity")
            finite = cap[np.isfinite(cap)]
            if finite.size and finite.min() != finite.max():
                return True
        return False

    def _show_capacity(self, on: bool) -> None:
        """Put the capacity chart into the layout (below the others) or take it out."""
        if on == self.capacity_shown:
            return
        layout = self.view.ci
        if on:
            layout.addItem(self.capacity_plot, row=0, col=2, rowspan=2)
        else:
            layout.removeItem(self.capacity_plot)
        self.capacity_shown = on

    @property
    def markers(self) -> list[float]:
        """Simulated times of the change markers shown."""
        return [lines[0].value() for lines in self._markers]

    @property
    def paint_seconds(self) -> float:
        """Wall seconds the charts' last repaint took."""
        return self.view.paint_seconds

    # ------------------------------------------------------------ the views
    def set_visible_stations(self, stations: Iterable[str] | None) -> None:
        """Show only these stations (None or empty: all of them)."""
        wanted = set(stations or ()) & set(self._store.stations if self._store else ())
        self._visible = wanted or set(self._store.stations if self._store else ())
        items = [*self._curves.items(), *self._instant.items(), *((k, v[0]) for k, v in self._theory.items())]
        for (sid, *_), curve in items:
            curve.setVisible(sid in self._visible)
        # The selector says what is shown: one station by name, several as one extra entry.
        box = self.station_box
        box.blockSignals(True)
        for i in range(box.count() - 1, 0, -1):
            if box.itemData(i) is not None:  # a previous "N selected" entry
                box.removeItem(i)
        if not wanted:
            box.setCurrentIndex(0)
        elif len(wanted) == 1:
            box.setCurrentIndex(box.findText(next(iter(wanted))))
        else:
            names = sorted(wanted)
            box.addItem(f"{len(names)} selected: {', '.join(names)}", names)
            box.setCurrentIndex(box.count() - 1)
        box.blockSignals(False)
        self.update_data(self._now)

    def set_follow(self, on: bool) -> None:
        """Follow the newest data (True) or leave the view where the user put it."""
        if on == self.follow and self.follow_button.isChecked() == on:
            return
        self.follow = on
        self.follow_button.blockSignals(True)
        self.follow_button.setChecked(on)
        self.follow_button.blockSignals(False)
        self.update_data(self._now)  # following: the samples in view, and scroll; else the whole history
        self.follow_changed.emit(on)

    def export_png(self, path: str, chart: str | None = None) -> None:
        """Write one chart (a key of :data:`CHARTS`) or, with None, all of them to a PNG file."""
        if chart is None:
            self.view.grab().save(path, "PNG")
        else:
            pyqtgraph.exporters.ImageExporter(self.plots[chart]).export(path)

    def _export_dialog(self, chart: str | None) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export chart", f"{chart or 'dashboard'}.png", "PNG (*.png)")
        if path:
            self.export_png(path, chart)

    def _station_picked(self, index: int) -> None:
        data = self.station_box.itemData(index)
        self.set_visible_stations(None if index <= 0 else (data or [self.station_box.itemText(index)]))

    # ------------------------------------------------------------- warm-up
    def set_warmup(self, warmup: float, sample_interval: float | None = None, auto: bool = False) -> None:
        """Shade ``[0, warmup]`` on every time chart (the warm-up cut in force; ``auto``: the
        MSER-5 cut of an "auto" warm-up, labelled "auto: MSER-5 cut at t = …"); a drag of its
        edge is rounded to ``sample_interval`` (seconds) when given."""
        self.warmup = max(0.0, float(warmup))
        self._auto = auto
        if self._cut_label is not None:
            self._cut_label.setFormat(self.cut_text)
        if sample_interval is not None and sample_interval > 0:
            self._sample_interval = float(sample_interval)
        for region in self._regions.values():
            region.blockSignals(True)
            region.setRegion((0.0, self.warmup))
            region.blockSignals(False)
        if self._store is None:
            self._show_empty_range()
        self._update_note()

    @property
    def cut_text(self) -> str:
        """The label on the shaded region's edge."""
        return f"◂ auto: MSER-5 cut at t = {self.warmup:,.6g} s" if self._auto else "◂ warm-up"

    def set_run_active(self, active: bool) -> None:
        """A run is going (or paused): the notes say what the shading means meanwhile."""
        self._run_active = active
        self._update_note()

    @property
    def warmup_regions(self) -> dict[str, pg.LinearRegionItem]:
        """The shaded warm-up region of each chart (keys of :data:`CHARTS` and "capacity")."""
        return dict(self._regions)

    def _add_regions(self) -> None:
        """One shaded warm-up region per chart; only its right edge (the cut) can be dragged."""
        self._regions.clear()
        for key, plot in [*self.plots.items(), ("capacity", self.capacity_plot)]:
            region = pg.LinearRegionItem(
                values=(0.0, self.warmup), brush=pg.mkBrush(*WARMUP_BRUSH), pen=pg.mkPen(WARMUP_PEN), movable=True
            )
            region.setMovable(False)
            region.lines[1].setMovable(True)
            region.lines[1].setHoverPen(pg.mkPen("#303030", width=3))
            region.lines[1].setToolTip("End of the warm-up: drag to change it (an undoable edit)")
            region.setZValue(-10)
            region.setVisible(self.warmup > 0)
            plot.addItem(region, ignoreBounds=True)
            if key == "queue":
                self._cut_label = pg.InfLineLabel(
                    region.lines[1], text=self.cut_text, position=0.95, anchors=[(1, 0), (1, 0)], color="#606060"
                )
            region.sigRegionChanged.connect(partial(self._region_moved, key))
            region.sigRegionChangeFinished.connect(partial(self._region_done, key))
            self._regions[key] = region

    def _region_moved(self, key: str, region: pg.LinearRegionItem) -> None:
        _, right = region.getRegion()
        for other, item in self._regions.items():
            if other != key:
                item.blockSignals(True)
                item.setRegion((0.0, right))
                item.blockSignals(False)

    def _region_done(self, key: str, region: pg.LinearRegionItem) -> None:
        _, right = region.getRegion()
        step = self._sample_interval if self._sample_interval > 0 else 1.0
        value = max(0.0, round(right / step) * step)
        value = float(f"{value:.10g}")
        if value != self.warmup:
            self.warmup_edited.emit(value)
        self.set_warmup(self.warmup, auto=self._auto)  # the document's setting decides; it comes back

    def _update_note(self) -> None:
        """Say what the shading means, and why a slow run's statistics have not started."""
        last = self._store.last if self._store is not None else None
        for region in self._regions.values():
            region.setVisible(self.warmup > 0)
        if self.warmup <= 0:
            text = ""
        elif self._auto:
            text = (
                f"Shaded: the automatic warm-up, where MSER-5 cuts the number in system "
                f"(t = {self.warmup:,.6g} s); the statistics (Theory, Results) start after it. Drag its edge "
                "to fix a warm-up of your own."
            )
        elif last is not None and last.now > last.warmup and not math.isclose(last.warmup, self.warmup):
            text = (
                f"The warm-up is now {self.warmup:,.6g} s (this run cut at {last.warmup:,.6g} s): the Theory and "
                "Results tabs are recomputed from the run's exact totals, without re-running; percentiles keep "
                "the run's cut."
            )
        elif last is not None and last.now < last.warmup:
            speed = getattr(last, "speed", math.inf)
            wait = f" (about {_time_text((last.warmup - last.now) / speed)} more at {speed:g}×)" if speed < 1e6 else ""
            text = (
                f"Warm-up until t = {last.warmup:,.6g} s{wait}: shaded on the charts, which show it as it "
                "happens; the statistics (Theory, Results) start after it."
            )
        else:
            text = (
                f"Shaded: the warm-up (0–{self.warmup:,.6g} s), left out of the statistics; drag its edge to change it."
            )
        if self.note_label.text() != text:
            self.note_label.setText(text)

    def _user_moved(self, *_: Any) -> None:
        self.set_follow(False)

    def _prepare_time_axis(self, plot: pg.PlotItem) -> None:
        """No time before 0 (zoom and pan stop there), and seconds as seconds: an SI prefix
        on an empty chart's 0–1 range would read "simulated time (ns)"."""
        plot.getViewBox().setLimits(xMin=0.0)
        plot.getAxis("bottom").enableAutoSIPrefix(False)

    def _show_empty_range(self) -> None:
        """Before any data: 0 up to the follow span (or the warm-up), in seconds."""
        span = self._span if math.isfinite(self._span) else 100.0
        self.plots["queue"].setXRange(0.0, max(span, self.warmup * 1.2, 1.0), padding=0.02)
        for plot in self.plots.values():
            plot.setYRange(0.0, 1.0, padding=0.03)

    def _view_start(self) -> float:
        return max(self._start, self._now - self._span)

    def _scroll(self, highest: dict[str, float] | None = None) -> None:
        """Show the newest span of time and, on each chart, 0 up to a round number above
        ``highest`` of its values in view. Round tops change seldom, so the value axes keep
        their cached drawing, and nothing scans the data for bounds as autorange would."""
        lo = self._view_start()
        hi = max(self._now, lo + 1e-9)
        self.plots["queue"].setXRange(lo, hi, padding=0.02)
        if highest is not None:
            for key, plot in self.plots.items():
                top = nice_ceiling(highest[key])
                if key == "utilization":  # 1 is full; above it only while a shrinking capacity drains
                    top = 1.0 if highest[key] <= 1.0 else (1.25 if highest[key] <= 1.25 else top)
                plot.setYRange(0.0, top, padding=0.03)
            if self.capacity_shown:
                self.capacity_plot.setYRange(0.0, nice_ceiling(highest["capacity"]), padding=0.03)
        if self.capacity_shown:
            self.capacity_plot.setXRange(lo, hi, padding=0.02)

    def _draw_theory(self, line: pg.PlotDataItem, steps: list[tuple[float, float]]) -> None:
        if not steps:
            return
        starts = np.array([s[0] for s in steps] + [max(self._now, steps[-1][0])])
        values = np.array([s[1] for s in steps])
        line.setData(np.repeat(starts, 2)[1:-1], np.repeat(values, 2), connect="finite")
