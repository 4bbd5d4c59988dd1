"""Theory beside the simulation: analytic ρ, L, Lq, W, Wq (and X, P(block), an async
server's CPU utilisation, end-to-end latency) next to the run's values, Little's law, the
utilisation law and flow balance with their residuals, and the node badge.

One estimate, everywhere: over the engine's measurement window (warm-up to now) the
simulated values are the engine's own (``Run.results()``: what the Results tab, the exports
and the headless CLI show), and only their 95 % half-widths come from batch means over the
live series (:mod:`desktop.run.buffers`). After a live parameter change the old steady state
is no longer the one theory describes, so the window restarts at the change and the values
are batch-means estimates over the data since then.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.run.buffers import Estimate, SeriesStore
from desktop.theme import PALETTE_EVENTS, status_color
from engine import theory
from engine.closed_analysis import closed_members
from engine.model import Model
from engine.model.schema import KINDS, Kind, ServiceDescription, is_station

#: (metric name, label, physical range) of the quantities compared with theory, in display
#: order. ``cpu_utilization`` and ``capacity`` appear only where they mean something (an
#: async server's event loop; a capacity that can move), ``blocking_probability`` only where
#: requests can be turned away and ``p_wait`` where theory gives it.
QUANTITIES = (
    ("utilization", "ρ  utilisation", (0.0, 1.0)),
    ("cpu_utilization", "ρ_cpu  event-loop CPU", (0.0, 1.0)),
    ("capacity", "c_avg  capacity, time average", (0.0, math.inf)),
    ("mean_in_system", "L  in system", (0.0, math.inf)),
    ("mean_queue_length", "Lq  waiting", (0.0, math.inf)),
    ("mean_response", "W  response (s)", (0.0, math.inf)),
    ("mean_wait", "Wq  wait (s)", (0.0, math.inf)),
    ("throughput", "X  throughput (1/s)", (0.0, math.inf)),
    ("blocking_probability", "P(block)  arrivals turned away", (0.0, 1.0)),
    ("p_wait", "P(wait)  arrivals that wait", (0.0, 1.0)),
)
#: Labels that differ for an async server, whose seed-defined utilisation is connections / max.
ASYNC_LABELS = {"utilization": "ρ  connections / max"}
#: Sink rows: (metric, label).
SINK_QUANTITIES = (("mean_latency", "end-to-end latency (s)"), ("throughput", "X  throughput (1/s)"))
#: Widest the Station/quantity, Theory and Simulated columns get (pixels).
MAX_COLUMN = (250, 140, 170)
#: Key of the network totals' row in the tree.
NETWORK = "\x00network"
#: The convergence chart's choices: (label in the box, quantity, symbol, unit).
CHART_QUANTITIES = (
    ("L  number in system", "mean_in_system", "L", ""),
    ("W  response time", "mean_response", "W", "s"),
)
#: Badge colours by coverage state.
COLOURS = {"covers": "#2e9e44", "outside": "#e0a100", "collecting": "#9a9a9a", "none": "#d0d0d0"}
#: The item data role that keeps a cell's hue, so a palette change can recompute its colour.
HUE_ROLE = Qt.ItemDataRole.UserRole + 7
#: The hue of the chart's restart markers (live changes), made readable on the chart.
RESTART_COLOR = "#7a3db8"


def analytic(model: Model) -> dict[str, dict[str, float] | str]:
    """Per station and sink, the analytic metrics (``StationResult.as_dict()``; for a sink
    ``mean_latency`` and ``throughput``) or the reason why theory does not apply, from
    ``engine.theory.analyze``. An async server also gets ``cpu_utilization`` = X·E[CPU work]
    (the utilisation law on its event loop, which is one server)."""
    nodes = [n.id for n in model.nodes if is_station(n.kind) or n.kind == "sink"]
    analyze: Callable[[Model], dict[str, Any]] | None = getattr(theory, "analyze", None)
    if analyze is None:
        try:
            from engine.analysis import analyze_model
        except ImportError:
            return {sid: "this build of engine.theory has no analyze()" for sid in nodes}
        analyze = analyze_model
    try:
        raw = analyze(model)
    except Exception as exc:  # a theory bug must not stop the run
        return {sid: f"theory failed: {exc}" for sid in nodes}
    out: dict[str, dict[str, float] | str] = {}
    for sid, r in raw.items():
        if sid not in nodes:
            continue
        values = r if isinstance(r, str) else dict(r if isinstance(r, dict) else r.as_dict())
        service = service_of(model, sid) if is_station(model.node(sid).kind) else None
        cpu = service.mean_service if service is not None and service.event_loop else None
        if isinstance(values, dict) and cpu is not None:
            values["cpu_utilization"] = values.get("throughput", math.nan) * cpu
        out[sid] = values
    return out


def service_of(model: Model, station: str) -> ServiceDescription | None:
    """The station's service description from its kind entry (None if it has none).

    Asked for every station on every refresh, so descriptions are remembered by the
    kind entry and the parameters' JSON text (a dict lookup instead of building
    distributions each time)."""
    node = model.node(station)
    kind = KINDS.get(node.kind)
    if kind is None:
        return None
    try:
        key = json.dumps(node.params, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return _describe(kind, node.params)
    return _described(node.kind, id(kind), key)


@functools.lru_cache(maxsize=4096)
def _described(kind: str, entry: int, params_json: str) -> ServiceDescription | None:
    """``entry`` (the id of the kind's entry) keeps a replaced entry's answers apart."""
    return _describe(KINDS[kind], json.loads(params_json))


def _describe(kind: Kind, params: dict[str, Any]) -> ServiceDescription | None:
    try:
        return kind.service(kind.resolve(params))
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return None


def service_time(model: Model, station: str) -> float | None:
    """E[S] in seconds of a station that holds one unit of capacity per request (a server's
    service, a pool's processing, an async server's CPU time), or None (a delay; weighted
    concurrency, whose busy capacity counts weights, so the law is not X·S/c)."""
    service = service_of(model, station)
    if service is None or service.infinite or service.weighted:
        return None
    return service.mean_service


def think_time(model: Model, node_id: str) -> float | None:
    """Z in seconds of a closed population (a kind that closes a loop: clients), else None."""
    kind = KINDS.get(model.node(node_id).kind)
    service = service_of(model, node_id) if kind is not None and kind.closes_loop else None
    return None if service is None else service.mean_service


def has_moving_capacity(model: Model, station: str) -> bool:
    """Whether a station's capacity can change by itself during a run (an autoscaling rule)."""
    service = service_of(model, station)
    return service is not None and service.moving


def can_block(model: Model, station: str) -> bool:
    """Whether arrivals can be turned away (a finite queue, or a connection limit)."""
    service = service_of(model, station)
    return service is not None and service.blocking


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
    est: Mapping[str, Estimate],
    results: Mapping[str, Any],
    in_system: int,
    service: float | None,
    kind: str = "",
    think: float | None = None,
) -> list[LawCheck]:
    """Little's law for the system and the queue, the utilisation law (against the time-average
    capacity c_avg the run had, or, for an async server, on its single CPU), for a closed
    population with think time ``think`` the interactive response time law R = N/X − Z, and
    flow balance (when ``results`` has the window's counts)."""
    lam = est["throughput"].mean
    checks = [
        LawCheck("Little's law", "L", est["mean_in_system"].mean, "λW", lam * est["mean_response"].mean),
        LawCheck("Little's law (queue)", "Lq", est["mean_queue_length"].mean, "λWq", lam * est["mean_wait"].mean),
    ]
    if service is not None and kind == "async_server" and "cpu_utilization" in est:
        checks.append(LawCheck("Utilisation law (CPU)", "ρ_cpu", est["cpu_utilization"].mean, "X·S", lam * service))
    elif service is not None and kind in ("server", "thread_pool"):
        c = est["capacity"].mean
        checks.append(LawCheck("Utilisation law", "ρ", est["utilization"].mean, "X·S/c_avg", lam * service / c))
    if think is not None:
        n = float(results.get("population", math.nan))
        law = theory.interactive_response_time(n, lam, think)
        checks.append(LawCheck("Response time law", "R", est["mean_response"].mean, "N/X−Z", law))
    if "arrivals" in results:  # counts the engine keeps for its own window only
        arrivals = float(results["arrivals"])
        out = float(results.get("completed", math.nan)) + float(results.get("rejected", 0)) + in_system
        checks.append(LawCheck("Flow balance", "in", arrivals, "out+here", out))
    return checks


def same_window(since: float, batch: Any) -> bool:
    """Whether the window from ``since`` is the run's own measurement window (from the
    warm-up the engine cut at), whose values are the engine's (``batch.results``)."""
    return batch is not None and since == batch.warmup and batch.results_time > since


#: The quantities whose values and half-widths come from the exact checkpointed totals: L,
#: W (as the convergence chart), Lq and Wq; outside the run's own window also ρ and X.
EXACT_QUANTITIES = ("mean_in_system", "mean_response", "mean_queue_length", "mean_wait")
RECUT_QUANTITIES = EXACT_QUANTITIES + ("utilization", "throughput")


def window_estimates(store: SeriesStore, station: str, since: float, batch: Any) -> dict[str, Estimate]:
    """The simulated value of every quantity of ``station`` over the window from ``since``,
    with its 95 % half-width.

    In the run's own measurement window (:func:`same_window`), each value is the engine's
    own (``batch.results``, from ``Run.results()``: the numbers the Results tab, the exports
    and the headless CLI show). Any other window — after a live change, or a warm-up moved
    after the run — starts at the held checkpoint at or before ``since`` and takes L, Lq, W,
    Wq, ρ and X from the differences of the exact totals since time 0 (see
    :class:`desktop.run.buffers.Convergence`), the other quantities from the sampled series.
    The half-widths of L, Lq, W and Wq are by batch means over the exact totals (those of L
    and W are the convergence chart's) once they rest on :data:`VERDICT_BATCHES` batches;
    the others, and those until then, by batch means over the sampled series."""
    est = store.estimates(station, since)
    results = batch.results.get(station, {}) if batch is not None else {}
    own = same_window(since, batch)
    if own:
        for key, value in results.items():
            if isinstance(value, (int, float)):
                old = est.get(key)
                est[key] = Estimate(float(value), old.half_width if old else math.nan, old.batches if old else 0)
    if batch is None:
        return est
    until = batch.results_time if own else math.inf
    for key in EXACT_QUANTITIES if own else RECUT_QUANTITIES:
        t, mean, half = store.totals.curve(station, since, key, until, last_only=True)
        old = est.get(key)
        if not t.size or old is None or not math.isfinite(mean[-1]):
            continue
        value = old.mean if own else float(mean[-1])
        batches = min(16, t.size // 2)
        # A short run leaves few checkpoints: then the sampled series' interval (many
        # batches) serves until the exact totals have enough for a verdict.
        exact_band = key in EXACT_QUANTITIES and math.isfinite(half[-1]) and batches >= VERDICT_BATCHES
        if exact_band and (not own or t[-1] == batch.results_time):
            est[key] = Estimate(value, float(half[-1]), batches)
        else:
            est[key] = Estimate(value, old.half_width, old.batches)
    return est


def clipped(e: Estimate, bounds: tuple[float, float]) -> tuple[float, float]:
    """The 95 % interval of ``e`` kept inside the quantity's physical range."""
    lo, hi = bounds
    return max(e.mean - e.half_width, lo), min(e.mean + e.half_width, hi)


#: Batches an interval must rest on before it gives a verdict against theory.
VERDICT_BATCHES = 8


def coverage(theory_values: dict[str, float] | str | None, est: Mapping[str, Estimate]) -> str:
    """``covers`` when the intervals of ρ and L both contain theory, ``outside`` when one does
    not, ``collecting`` while an interval rests on fewer than :data:`VERDICT_BATCHES`
    batches, ``none`` without theory."""
    if not isinstance(theory_values, dict):
        return "none"
    keys = [k for k in ("utilization", "mean_in_system") if k in theory_values and k in est]
    if any(not math.isfinite(est[k].half_width) or est[k].batches < VERDICT_BATCHES for k in keys):
        return "collecting"
    return "covers" if all(est[k].covers(theory_values[k]) for k in keys) else "outside"


def _residual(residual: float, rhs: float) -> str:
    if not math.isfinite(residual):
        return "—"
    text = f"residual {residual:+.3g}"
    if abs(rhs) >= 1e-3 and math.isfinite(rhs):  # a percentage of a tiny quantity means nothing
        text += f" ({abs(residual) / abs(rhs):.1%})"
    return text


def _kind(model: Model | None, node_id: str) -> str:
    """The node's kind ("" without a model or if it was deleted)."""
    if model is None:
        return ""
    return next((n.kind for n in model.nodes if n.id == node_id), "")


def _fmt(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:.4g}"


def simulated_text(e: Estimate, bounds: tuple[float, float] = (-math.inf, math.inf)) -> str:
    """``mean ± half-width``, or ``mean (lo–hi)`` when the interval is clipped to the range."""
    text = _fmt(e.mean)
    if not math.isfinite(e.half_width) or not math.isfinite(e.mean):
        return text
    lo, hi = clipped(e, bounds)
    if lo > e.mean - e.half_width or hi < e.mean + e.half_width:
        return f"{text} (95%: {lo:.3g}–{hi:.3g})"
    return f"{text} ± {e.half_width:.2g}"


def verdict(e: Estimate, value: float, finished: bool) -> str:
    """The check column: whether the interval covers the analytic ``value``."""
    if not math.isfinite(e.mean):
        return "no data" if finished else "…"
    if not math.isfinite(e.half_width):
        return "no interval: too few samples" if finished else "…"
    if e.covers(value):
        return "✓ covers"
    return f"✗ outside ({(e.mean - value) / value:+.1%})" if value else "✗ outside"


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
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setContentsMargins(4, 2, 4, 2)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Station / quantity", "Theory", "Simulated ± 95%", "Check"])
        self.tree.setUniformRowHeights(True)
        self.tree.header().setStretchLastSection(True)
        self.station_box = QComboBox()
        self.station_box.currentTextChanged.connect(self._replot)
        self.quantity_box = QComboBox()
        self.quantity_box.addItems([c[0] for c in CHART_QUANTITIES])
        self.quantity_box.setToolTip("Which running mean the chart shows")
        self.quantity_box.currentIndexChanged.connect(self._replot)
        self.plot = pg.PlotWidget(title="Running mean of L with 95% band (dashed: theory)", background="w")
        self.plot.setMinimumHeight(120)
        self.plot.setLabel("bottom", "simulated time", "s")
        edge = pg.mkPen(70, 130, 220, 110, width=1)
        self._upper = self.plot.plot(pen=edge)
        self._lower = self.plot.plot(pen=edge)
        self.plot.addItem(pg.FillBetweenItem(self._upper, self._lower, brush=pg.mkBrush(70, 130, 220, 70)))
        self._mean = self.plot.plot(pen=pg.mkPen("#3060c0", width=1))
        # Running means of the windows before the last restart (grey, no band).
        self._earlier = self.plot.plot(pen=pg.mkPen("#a0a0a0", width=1), connect="finite")
        self._restarts: list[pg.InfiniteLine] = []
        #: (times, running mean, half-width) last drawn: what a test reads.
        self.curve: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.empty(0), np.empty(0), np.empty(0))
        self._theory_line = self.plot.plot(pen=pg.mkPen("#c03030", width=1, style=Qt.PenStyle.DashLine))
        # The run's warm-up, shaded as on the dashboard: the estimate starts where it ends.
        self.warmup_region = pg.LinearRegionItem(
            (0.0, 0.0), brush=pg.mkBrush(120, 120, 120, 40), pen=pg.mkPen("#888888"), movable=False
        )
        self.warmup_region.setZValue(-10)
        self.warmup_region.setVisible(False)
        self.plot.addItem(self.warmup_region)
        self._cut_text = pg.InfLineLabel(
            self.warmup_region.lines[1],
            text="",
            position=0.95,
            anchors=[(0, 0), (0, 0)],
            color=status_color("note", self._table_bg()),
        )
        self.plot.getViewBox().setLimits(xMin=0.0)
        bottom = QWidget()
        box = QVBoxLayout(bottom)
        box.setContentsMargins(0, 0, 0, 0)
        pickers = QHBoxLayout()
        pickers.addWidget(self.station_box, 1)
        pickers.addWidget(self.quantity_box)
        box.addLayout(pickers)
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
        layout.addWidget(self.caption)
        layout.addWidget(split)
        self.theory: dict[str, dict[str, float] | str] = {}
        self.states: dict[str, str] = {}
        self._steps: dict[str, list[tuple[float, dict[str, float]]]] = {}
        self._windows: list[float] = []
        self._items: dict[str, QTreeWidgetItem] = {}
        self._model: Model | None = None
        self._store: SeriesStore | None = None
        self._since = 0.0
        self._shown: Any = None
        self._sinks: list[str] = []
        self._target: float | None = None
        self._cut = 0.0  # where the statistics start: the warm-up asked for (seconds)
        self._auto = False  # whether that cut is the automatic (MSER-5) one
        self._changes: list[float] = []  # simulated times of the run's live changes

    @property
    def cut(self) -> float:
        """The simulated time the statistics start from (the warm-up cut in force)."""
        return self._cut

    def set_cut(self, cut: float, auto: bool = False) -> None:
        """Start the statistics at ``cut`` (seconds; ``auto``: the MSER-5 cut of an "auto"
        warm-up): the window's values, the theory comparison and the law checks are
        recomputed from the run's exact totals without re-running, where this run's data
        still reach (the caption says where they start, and when they cannot)."""
        cut = max(0.0, float(cut))
        if cut == self._cut and auto == self._auto:
            return
        self._cut, self._auto = cut, auto
        self._window()
        self.warmup_region.setRegion((0.0, cut))
        self.warmup_region.setVisible(cut > 0 and self._model is not None)
        self.warmup_region.setToolTip(self._cut_label())
        self._cut_text.setFormat(f" {self._cut_label()}" if self._auto else "")
        if self._shown is not None and self._model is not None and self._shown.state != "running":
            self.refresh(self._shown)  # while running, the next refresh draws it

    def _cut_label(self) -> str:
        return f"auto: MSER-5 cut at t = {self._cut:,.6g} s" if self._auto else f"warm-up: 0–{self._cut:,.6g} s"

    def _window(self) -> None:
        """The window the statistics cover: from the cut, restarting at each later live change
        (the windows before the last one are drawn in grey)."""
        self._windows = [self._cut] + [t for t in self._changes if t > self._cut]
        self._since = self._windows[-1]

    def _held(self, batch: Any) -> bool:
        """Whether the run's exact totals reach back to the window asked for (a window
        after what the run reached is held: it is empty)."""
        if self._store is None or batch is None or self._since == batch.warmup or self._since >= batch.now:
            return True
        return self._store.totals.start_point(self._since) is not None

    def _start(self, batch: Any) -> float:
        """The start of the window the table describes: the one asked for, or the run's own
        (after its last live change) when its totals do not reach back to it."""
        if batch is None or self._held(batch):
            return self._since
        return max([batch.warmup] + [t for t in self._changes if t > batch.warmup])

    def start(self, model: Model, store: SeriesStore) -> None:
        """Begin a run of ``model`` whose live data accumulate in ``store``."""
        self._model, self._store = model, store
        self._cut, self._auto, self._changes = model.simulation.warmup, False, []
        self._window()
        self._shown = None
        self.warmup_region.setRegion((0.0, self._cut))
        self.warmup_region.setVisible(self._cut > 0)
        self.warmup_region.setToolTip(self._cut_label())
        self._cut_text.setFormat("")
        self.theory = analytic(model)
        self.states = {sid: "none" for sid in store.stations}
        self._steps = {sid: [] for sid in store.stations}
        self._step_theory(model.simulation.warmup)
        self.tree.clear()
        self._items = {}
        self._sinks = [n.id for n in model.nodes if n.kind == "sink"]
        for sid in store.stations:
            top = QTreeWidgetItem([sid, "", "", ""])
            self.tree.addTopLevelItem(top)
            self._items[sid] = top
        for sid in self._sinks:
            top = QTreeWidgetItem([f"{sid}  (sink: the whole path)", "", "", ""])
            self.tree.addTopLevelItem(top)
            self._items[sid] = top
        if store.stations and self._sinks:
            top = QTreeWidgetItem(["network  (all stations)", "", "", ""])
            self.tree.addTopLevelItem(top)
            self._items[NETWORK] = top
        self.station_box.blockSignals(True)
        self.station_box.clear()
        self.station_box.addItems(list(store.stations))
        self.station_box.blockSignals(False)
        self._replot()

    def clear(self) -> None:
        """Forget the run and its model (another model was opened): an empty tab."""
        self._model = self._store = self._shown = None
        self.theory, self.states, self._steps, self._items, self._sinks = {}, {}, {}, {}, []
        self._windows = []
        self.warmup_region.setVisible(False)
        self.tree.clear()
        self.station_box.clear()
        self.caption.setText("")
        self._replot()

    def preview(self, model: Model) -> None:
        """Show ``model``'s analytic values (or why there are none) before it runs; the
        simulated column waits for Run."""
        stations = [n.id for n in model.nodes if is_station(n.kind)]
        store = SeriesStore(stations, capacity=1, checkpoint_capacity=1)
        self.start(model, store)
        self.caption.setText(f"Theory for “{model.name}”; press Run to compare it with a simulation.")
        for sid in stations:
            top = self._items[sid]
            self._fill(top, sid, self.theory.get(sid), store.estimates(sid, self._since), [], False)
        for sid in self._sinks:
            self._fill_sink(self._items[sid], self.theory.get(sid), {}, False)
        if NETWORK in self._items:
            self._fill_network(None, False)
        for top in self._items.values():
            top.setText(3, "press Run to simulate")
            self._paint(top, 3, "note")
        self._fit_columns()

    def model_changed(self, model: Model, at_time: float) -> None:
        """A live change at simulated ``at_time``: theory is recomputed and the window restarts."""
        self._model = model
        if not self._changes or at_time > self._changes[-1]:
            self._changes.append(at_time)
        self._window()
        self.theory = analytic(model)
        self._step_theory(at_time)

    def showEvent(self, event: Any) -> None:
        """A tab raised after the run (or while it goes on) shows the latest batch at once."""
        super().showEvent(event)
        if self._store is not None and self._store.last is not None and self._store.last is not self._shown:
            self.refresh(self._store.last)

    def refresh(self, batch: Any) -> None:
        """Recompute the estimates and checks from the store, with ``batch``'s running results."""
        if self._store is None or self._model is None:
            return
        self._shown = batch
        finished = batch.state != "running"
        self.caption.setText(self._caption(batch))
        since = self._start(batch)
        own = same_window(since, batch)
        for sid in self._store.stations:
            top = self._items[sid]
            est = window_estimates(self._store, sid, since, batch)
            live = batch.stations.get(sid)
            present = live.queue_length + live.in_service if live is not None else 0
            kind = _kind(self._model, sid)
            service = service_time(self._model, sid) if kind else None
            think = think_time(self._model, sid) if kind else None
            checks = law_checks(est, batch.results.get(sid, {}) if own else {}, present, service, kind, think)
            self._fill(top, sid, self.theory.get(sid), est, checks, finished)
            state = coverage(self.theory.get(sid), est)
            label = {
                "covers": "● covers theory",
                "outside": "● outside interval",
                "collecting": "● collecting…",
                "none": "no theory",
            }[state]
            if state == "collecting" and batch.now <= since:
                label = f"● statistics start at t = {since:g} s"
            elif state == "collecting" and finished:
                label = "● too few samples for an interval"
            self._label(top, label, COLOURS[state] if state != "none" else "note")
            if state != self.states.get(sid):
                self.states[sid] = state
                self.coverage_changed.emit(sid, state)
        for sid in self._sinks:
            self._fill_sink(self._items[sid], self.theory.get(sid), batch.results.get(sid, {}) if own else {}, finished)
            if not own and since > 0 and batch.now > since:
                self._label(
                    self._items[sid], "end-to-end values: not kept for a window other than the run's own", "note"
                )
        if NETWORK in self._items:
            self._fill_network(batch, finished)
        self._gauge()
        self._fit_columns()
        self._replot()

    def precision(self, station: str) -> dict[str, float]:
        """The relative 95 % half-widths of L and W of ``station`` now (half-width / value,
        NaN while unknown), over the window the table describes, from the exact totals."""
        out = {}
        for _, quantity, symbol, _ in CHART_QUANTITIES:
            rel = math.nan
            if self._store is not None and station in self._store.stations:
                since = self._start(self._shown)
                t, mean, half = self._store.totals.curve(station, since, quantity, last_only=True)
                if t.size and mean[-1] > 0:
                    rel = float(half[-1] / mean[-1])
            out[symbol] = rel
        return out

    def show_precision(self, target: float | None) -> None:
        """Show (a relative ``target`` such as 0.02) or hide (None) each station's precision
        gauge: the relative half-widths of L and W reached so far against the target, in
        the station's row."""
        self._target = target
        self._gauge()

    def _gauge(self) -> None:
        for sid in self._store.stations if self._store is not None else ():
            top = self._items.get(sid)
            if top is None:
                continue
            if self._target is None:
                top.setText(2, "")
                top.setToolTip(2, "")
                continue
            rel = self.precision(sid)
            done = all(math.isfinite(v) and v <= self._target for v in rel.values())
            parts = [f"{k} ±{100 * v:.1f}%" if math.isfinite(v) else f"{k} …" for k, v in rel.items()]
            text = ("✓ " if done else "") + "  ".join(parts) + f"  → {100 * self._target:.3g}%"
            top.setText(2, text)
            top.setToolTip(2, "Precision reached: relative 95 % half-widths of L and W, against the target")
            self._paint(top, 2, COLOURS["covers"] if done else "note")

    def _caption(self, batch: Any) -> str:
        """Which model, which run, and which window the simulated column covers: the run's
        own, one recomputed for a warm-up cut moved since (or an automatic one), or, when the
        run's totals do not reach back to the cut asked for, the run's own and why."""
        model = self._model
        name = model.name if model is not None else "?"
        seed = model.simulation.seed if model is not None else None
        state = {"finished": "finished", "paused": "paused", "stopped": "stopped"}.get(batch.state, "running")
        run = f"Run of “{name}” (seed {seed if seed is not None else 'random'}), {state} at t = {batch.now:,.6g} s"
        cut = "the automatic (MSER-5) warm-up cut" if self._auto else "the warm-up cut"
        since = self._start(batch)
        if not self._held(batch):
            return (
                f"{run}. The new warm-up cut at t = {self._cut:,.6g} s cannot be applied: this run's exact "
                f"totals are not held that far back. Simulated values over the run's own window from "
                f"t = {since:,.6g} s; re-run to apply the new cut."
            )
        if batch.now <= since:
            if batch.state in ("finished", "stopped", "failed"):
                return f"{run}. No data after {cut} at t = {since:,.6g} s: it is at or beyond the end of this run."
            return f"{run}. Statistics start at t = {since:,.6g} s (end of warm-up)."
        if same_window(since, batch):
            start = f"{batch.warmup:,.6g}" if batch.warmup > 0 else "0"
            return f"{run}. Simulated values over the measurement window {start}–{batch.results_time:,.6g} s, as in Results."
        if since > self._cut:
            return f"{run}. Simulated values since the live change at t = {since:,.6g} s."
        start = self._store.totals.start_point(since) if self._store is not None else None
        held = "" if start is None or start == since else f" (from the held checkpoint at t = {start:,.6g} s)"
        return (
            f"{run}. Simulated values since {cut} at t = {since:,.6g} s{held}, recomputed from the run's exact "
            f"totals without re-running (the run itself cut at {batch.warmup:,.6g} s)."
        )

    def _fit_columns(self) -> None:
        """Fit the first three columns to their contents (cheaper than a header resizing on
        every cell change), each at most :data:`MAX_COLUMN` pixels, so the Check column,
        with the verdicts, stays in view; tooltips hold any text cut short."""
        for column in range(3):
            self.tree.resizeColumnToContents(column)
            if self.tree.columnWidth(column) > MAX_COLUMN[column]:
                self.tree.setColumnWidth(column, MAX_COLUMN[column])

    def _label(self, top: QTreeWidgetItem, label: str, colour: str) -> None:
        if top.text(3) != label:
            top.setText(3, label)
            self._paint(top, 3, colour)

    def _paint(self, item: QTreeWidgetItem, column: int, hue: str) -> None:
        """Colour ``item``'s text in ``column`` with ``hue`` (a colour or a key of
        :data:`desktop.theme.STATUS`), readable on the table's background; the hue is kept
        on the item so that a palette change repaints it."""
        item.setData(column, HUE_ROLE, hue)
        item.setForeground(column, QBrush(status_color(hue, self._table_bg())))

    def _table_bg(self) -> QColor:
        """The table's and the chart's background (the Base role) in the panel's palette,
        which is already the new one when a palette change reaches the panel."""
        return self.palette().color(QPalette.ColorRole.Base)

    def _repaint_hues(self) -> None:
        """Recompute every coloured cell for the current palette (light/dark switch)."""
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            for column in range(self.tree.columnCount()):
                hue = item.data(column, HUE_ROLE)
                if isinstance(hue, str):
                    item.setForeground(column, QBrush(status_color(hue, self._table_bg())))
            stack.extend(item.child(i) for i in range(item.childCount()))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        """Table text and chart notes follow a live light/dark switch."""
        super().changeEvent(event)
        if event.type() in PALETTE_EVENTS:
            self._repaint_hues()
            self._cut_text.setColor(status_color("note", self._table_bg()))
            restart = status_color(RESTART_COLOR, self._table_bg())
            for line in self._restarts:
                line.setPen(pg.mkPen(restart, width=1, style=Qt.PenStyle.DashDotLine))
                line.label.setColor(restart)

    def _fill(
        self,
        top: QTreeWidgetItem,
        sid: str,
        values: dict[str, float] | str | None,
        est: Mapping[str, Estimate],
        checks: list[LawCheck],
        finished: bool,
    ) -> None:
        rows = []
        if isinstance(values, str) or values is None:
            rows.append([f"Theory does not apply: {values or 'no analytic result'}", "", "", ""])
        model = self._model
        kind = _kind(model, sid)
        for key, label, bounds in QUANTITIES:
            if not self._shows(key, sid, kind, values):
                continue
            if kind == "async_server":
                label = ASYNC_LABELS.get(key, label)
            e = est.get(key, Estimate(math.nan))
            sim = simulated_text(e, bounds) if key != "p_wait" else "not measured"
            if isinstance(values, dict) and key in values:
                check = verdict(e, values[key], finished) if key != "p_wait" else "theory only"
                rows.append([label, _fmt(values[key]), sim, check])
            else:
                rows.append([label, "", sim, ""])
        for c in checks:
            rows.append(
                [
                    c.name,
                    f"{c.rhs_label} = {_fmt(c.rhs)}",
                    f"{c.lhs_label} = {_fmt(c.lhs)}",
                    _residual(c.residual, c.rhs),
                ]
            )
        self._rows(top, rows)

    def _shows(self, key: str, sid: str, kind: str, values: Any) -> bool:
        model = self._model
        if key == "cpu_utilization":
            return kind == "async_server"
        if key == "capacity":
            return model is not None and kind in ("server", "thread_pool") and has_moving_capacity(model, sid)
        if key == "blocking_probability":
            return (
                model is not None
                and bool(kind)
                and (can_block(model, sid) or (isinstance(values, dict) and values.get(key, 0) > 0))
            )
        if key == "p_wait":
            return isinstance(values, dict) and key in values and kind != "delay"
        if key == "utilization":
            return kind != "delay"
        return True

    def _fill_sink(self, top: QTreeWidgetItem, values: Any, results: Mapping[str, Any], finished: bool) -> None:
        """End-to-end latency and throughput: the engine's window values beside theory. A sink
        has no sampled series, so no interval: one run's value and its difference from theory."""
        rows = []
        if isinstance(values, str) or values is None:
            rows.append([f"Theory does not apply: {values or 'no analytic result'}", "", "", ""])
        for key, label in SINK_QUANTITIES:
            sim = float(results.get(key, math.nan))
            theory_value = values.get(key) if isinstance(values, dict) else None
            check = ""
            if theory_value is not None and math.isfinite(sim) and theory_value:
                check = f"differs by {(sim - theory_value) / theory_value:+.1%} (no interval for one run)"
            rows.append([label, _fmt(theory_value) if theory_value is not None else "", _fmt(sim), check])
        self._rows(top, rows)
        if finished or results:
            self._label(top, f"{int(results.get('count', 0)):,} requests arrived" if results else "", "#808080")

    def _fill_network(self, batch: Any, finished: bool) -> None:
        """Totals over every station: requests in the network (the sum of the stations' L, theory
        and simulated) and Little's law for the whole path, L_net = X·W_end-to-end, when there
        is one sink."""
        top = self._items[NETWORK]
        # The open network only: a closed loop (its clients and stations) is no part of the path to a sink.
        closed = closed_members(self._model) if self._model is not None else set()
        stations = [sid for sid in (self._store.stations if self._store is not None else ()) if sid not in closed]
        theory_l = [self.theory.get(sid) for sid in stations]
        t_total = (
            sum(v.get("mean_in_system", math.nan) for v in theory_l if isinstance(v, dict))
            if all(isinstance(v, dict) for v in theory_l)
            else math.nan
        )
        since = self._start(batch)
        window = same_window(since, batch)
        results = batch.results if window else {}
        sims = [results.get(sid, {}).get("mean_in_system", math.nan) for sid in stations]
        s_total = float(sum(sims)) if sims else math.nan
        if self._store is not None and batch is not None:
            band = self._store.total_in_system(since, stations=stations)
            est = Estimate(s_total if window else band.mean, band.half_width, band.batches)
        else:
            est = Estimate(s_total)
        check = verdict(est, t_total, finished) if math.isfinite(t_total) else ""
        rows = [["L  requests in the network", _fmt(t_total), simulated_text(est, (0.0, math.inf)), check]]
        if len(self._sinks) == 1 and window:
            sink = results.get(self._sinks[0], {})
            lam = float(sink.get("throughput", math.nan))
            w = float(sink.get("mean_latency", math.nan))
            rows.append(
                [
                    "Little's law (network)",
                    f"X·W = {_fmt(lam * w)}",
                    f"L = {_fmt(s_total)}",
                    _residual(s_total - lam * w, lam * w),
                ]
            )
        self._rows(top, rows)

    def _rows(self, top: QTreeWidgetItem, rows: list[list[str]]) -> None:
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
                    child.setToolTip(col, text)  # the full text where a column is cut
        if not top.isExpanded() and top.childCount():
            top.setExpanded(True)

    def row(self, node: str, label_start: str) -> list[str]:
        """The four texts of the first row of ``node`` whose label starts with ``label_start``
        (empty if there is none): what a test or a screenshot reads."""
        top = self._items.get(node)
        if top is None:
            return []
        for i in range(top.childCount()):
            child = top.child(i)
            if child is not None and child.text(0).startswith(label_start):
                return [child.text(c) for c in range(4)]
        return []

    def _step_theory(self, at_time: float) -> None:
        for sid, steps in self._steps.items():
            values = self.theory.get(sid)
            steps.append(
                (
                    at_time,
                    {
                        q: values.get(q, math.nan) if isinstance(values, dict) else math.nan
                        for _, q, _, _ in CHART_QUANTITIES
                    },
                )
            )

    def _replot(self, *_: Any) -> None:
        """Draw the selected station's running mean of L or W and its 95 % band over the whole
        window, from the exact checkpointed totals (:class:`desktop.run.buffers.Convergence`),
        with the analytic value as a dashed step line. In the measurement window the curve
        ends where the table's values were taken, on the same value. Each live change
        restarts the estimate: a labelled vertical line marks it, and the windows before it
        stay drawn in grey without a band. The band is kept at or above 0."""
        sid = self.station_box.currentText()
        label, quantity, symbol, unit = CHART_QUANTITIES[max(self.quantity_box.currentIndex(), 0)]
        self.plot.setTitle(f"Running mean of {symbol} with 95% band (dashed: theory)")
        self.plot.setLabel("left", symbol, unit)
        for line in self._restarts:
            self.plot.removeItem(line)
        self._restarts = []
        store, batch = self._store, self._shown
        if store is None or sid not in self._steps:
            for curve in (self._upper, self._lower, self._mean, self._theory_line, self._earlier):
                curve.setData([], [])
            self.curve = (np.empty(0), np.empty(0), np.empty(0))
            return
        since = self._start(batch)
        windows = [w for w in self._windows if w < since] + [since]
        measuring = same_window(since, batch)
        until = batch.results_time if measuring and math.isfinite(batch.results_time) else math.inf
        t, mean, hw = store.totals.curve(sid, since, quantity, until)
        self.curve = (t, mean, hw)
        hw = np.where(np.isfinite(hw), hw, 0.0)
        self._upper.setData(t, mean + hw)
        self._lower.setData(t, np.maximum(mean - hw, 0.0))
        self._mean.setData(t, mean)
        xs_old: list[np.ndarray] = []
        ys_old: list[np.ndarray] = []
        for begin, end in zip(windows[:-1], windows[1:]):
            tt, mm, _ = store.totals.curve(sid, begin, quantity, end)
            xs_old += [tt, np.array([np.nan])]
            ys_old += [mm, np.array([np.nan])]
        if xs_old:
            self._earlier.setData(np.concatenate(xs_old), np.concatenate(ys_old), connect="finite")
        else:
            self._earlier.setData([], [])
        restart = status_color(RESTART_COLOR, self._table_bg())
        for at in windows[1:]:
            line = pg.InfiniteLine(
                at,
                angle=90,
                movable=False,
                pen=pg.mkPen(restart, width=1, style=Qt.PenStyle.DashDotLine),
                label=f" restart: live change at t = {at:,.6g} s",
                labelOpts={"position": 0.92, "color": restart, "anchors": [(0, 0.5), (0, 0.5)]},
            )
            self.plot.addItem(line)
            self._restarts.append(line)
        steps = self._steps[sid]
        end = max(t[-1] if t.size else steps[-1][0], steps[-1][0])
        xs = np.repeat([s[0] for s in steps] + [end], 2)[1:-1]
        self._theory_line.setData(xs, np.repeat([s[1][quantity] for s in steps], 2), connect="finite")

    def restart_markers(self) -> list[tuple[float, str]]:
        """(time, label) of each restart drawn on the chart."""
        return [(float(line.value()), line.label.toPlainText()) for line in self._restarts]
