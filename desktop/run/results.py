"""The end-of-run results table: every metric per station and sink, with CSV and JSON export.

The JSON has the shape the headless CLI writes, ``{"nodes": {id: {metric: value, …}}}``,
with ``nodes[id]["ci95"]`` mapping metrics to 95 % half-widths when replications were run;
NaN becomes null. The CSV has one row per (node, metric): ``node,metric,value,ci95``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.metrics import SINK_METRICS, STATION_METRICS, json_safe

EMPTY_CAPTION = "Run a model to see its results here."
#: Station metrics a new warm-up cut recomputes from the run's exact totals (the others —
#: counts of arrivals and rejections, percentiles — stay over the run's own window).
RECOMPUTED = (
    "completed",
    "utilization",
    "mean_queue_length",
    "mean_in_system",
    "mean_wait",
    "mean_response",
    "throughput",
)
#: What a cell kept from the run's own window says next to its value.
KEPT_MARK = " (run's cut)"

#: Row order of the table: station metrics (an async server's CPU utilisation beside its
#: connection utilisation), then the sink metrics not already listed.
_STATION_ROWS = tuple(
    name for m in STATION_METRICS for name in ((m, "cpu_utilization") if m == "utilization" else (m,))
)
METRICS = _STATION_ROWS + tuple(m for m in SINK_METRICS if m not in _STATION_ROWS)
#: Readable name and unit of each metric of the table.
LABELS: dict[str, tuple[str, str]] = {
    "arrivals": ("Arrivals", "requests"),
    "completed": ("Completed", "requests"),
    "rejected": ("Rejected", "requests"),
    "blocking_probability": ("Blocking probability P(block)", ""),
    "utilization": ("Utilisation ρ", ""),
    "cpu_utilization": ("Event-loop CPU utilisation ρ_cpu", ""),
    "mean_queue_length": ("Mean number waiting Lq", "requests"),
    "mean_in_system": ("Mean number in system L", "requests"),
    "mean_wait": ("Mean wait Wq", "s"),
    "mean_response": ("Mean response time W", "s"),
    "p50_response": ("Response time, median (p50)", "s"),
    "p95_response": ("Response time, 95th percentile", "s"),
    "p99_response": ("Response time, 99th percentile", "s"),
    "throughput": ("Throughput X", "1/s"),
    "count": ("Requests received", "requests"),
    "mean_latency": ("Mean end-to-end latency", "s"),
    "p50_latency": ("End-to-end latency, median (p50)", "s"),
    "p95_latency": ("End-to-end latency, 95th percentile", "s"),
    "p99_latency": ("End-to-end latency, 99th percentile", "s"),
}
#: Columns of the table.
COLUMNS = ("Node", "Quantity", "Simulated", "Theory")
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def label(metric: str) -> str:
    """The readable name of ``metric`` with its unit: ``Mean response time W (s)``."""
    name, unit = LABELS.get(metric, (metric.replace("_", " ").capitalize(), ""))
    return f"{name} ({unit})" if unit else name


def number_text(value: Any, ci: Any = None, digits: int = 5) -> str:
    """``value`` to ``digits`` significant figures (integers in full, thousands grouped); with a
    95 % half-width ``ci``, the half-width to two significant figures and the value to the same
    decimal place: ``15,190 ± 240``, ``3.127 ± 0.051``, ``(7.2 ± 7.2) × 10⁻⁵``. "—" for nothing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) and not (isinstance(ci, (int, float)) and math.isfinite(ci) and ci > 0):
        return f"{value:,d}"
    x = float(value)
    if not (isinstance(ci, (int, float)) and math.isfinite(ci) and ci > 0):
        return f"{x:,.{digits}g}"
    place = math.floor(math.log10(ci)) - 1  # the decimal place of the half-width's second figure
    top = max(abs(x), ci)
    if top < 1e-3 or top >= 1e7:  # a common power of ten keeps both readable
        exp = math.floor(math.log10(top))
        decimals = max(exp - place, 0)
        return f"({x / 10**exp:.{decimals}f} ± {ci / 10**exp:.{decimals}f}) × 10{str(exp).translate(_SUPERSCRIPT)}"
    decimals = max(-place, 0)
    return f"{round(x, -place):,.{decimals}f} ± {round(ci, -place):,.{decimals}f}"


def recut_results(
    totals: Any, results: Mapping[str, Mapping[str, Any]], stations: Any, since: float
) -> tuple[dict[str, dict[str, Any]], float | None, float]:
    """``results`` (a run's, from ``Run.results()``) with every station's :data:`RECOMPUTED`
    metrics taken over the window from ``since`` instead, from the exact totals since time 0
    in ``totals`` (a :class:`desktop.run.buffers.Convergence`): the same numbers the Theory
    tab shows. Returns (results, the window's start — the held checkpoint at or before
    ``since`` — and its end), or (``results`` unchanged, None, NaN) when the totals do not
    reach back to ``since``."""
    out = {nid: dict(m) for nid, m in results.items()}
    start, end = totals.start_point(since), math.nan
    if start is None:
        return out, None, end
    for sid in stations:
        window = totals.window(sid, since)
        if not window:
            return {nid: dict(m) for nid, m in results.items()}, None, math.nan
        end = window["end"]
        for name in RECOMPUTED:
            out.setdefault(sid, {})[name] = int(window[name]) if name == "completed" else window[name]
    return out, start, end


def run_caption(model: Any, batch: Any, window: tuple[float, float] | None = None) -> str:
    """Which model and which run a table shows: ``Run of “M/M/1” (seed 1), finished at t = 20,000 s;
    statistics over 1,000–20,000 s (after the warm-up).`` — over ``window`` (start, end) when
    given, instead of the run's own."""
    seed = model.simulation.seed
    state = "finished" if batch.state == "finished" else "stopped"
    if window is not None:
        return (
            f"Run of “{model.name}” (seed {seed if seed is not None else 'random'}), {state} at t = {batch.now:,.6g} s; "
            f"statistics over {window[0]:,.6g}–{window[1]:,.6g} s."
        )
    start = f"{batch.warmup:,.6g}" if batch.warmup > 0 else "0"
    after = " (after the warm-up)" if batch.warmup > 0 else ""
    return (
        f"Run of “{model.name}” (seed {seed if seed is not None else 'random'}), {state} at t = {batch.now:,.6g} s; "
        f"statistics over {start}–{batch.results_time:,.6g} s{after}."
    )


class ResultsPanel(QWidget):
    """A table of the final (or latest) results, one row per node and quantity, with the
    analytic value beside the simulated one where theory gives it, and export buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel(EMPTY_CAPTION)
        self.caption.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.csv_button = QPushButton("Export CSV…")
        self.json_button = QPushButton("Export JSON…")
        self.csv_button.clicked.connect(lambda: self._export_dialog("csv"))
        self.json_button.clicked.connect(lambda: self._export_dialog("json"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.caption, 1)
        buttons.addWidget(self.csv_button)
        buttons.addWidget(self.json_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        self.results: dict[str, dict[str, Any]] = {}
        self._rows: dict[tuple[str, str], int] = {}
        self._caption = EMPTY_CAPTION
        self._run_warmup: float | None = None
        self._warmup_setting: float | None = None
        self._enable(False)

    def show_results(
        self,
        results: Mapping[str, Mapping[str, Any]],
        caption: str = "",
        warmup: float | None = None,
        theory: Mapping[str, Any] | None = None,
        kept: tuple[str, float] | None = None,
    ) -> None:
        """Fill the table from ``{node id: {metric: value, …, optional "ci95": {…}}}``;
        ``caption`` says which run it is, ``warmup`` the warm-up that run used (seconds) and
        ``theory`` maps node ids to analytic metrics (or a reason why there are none).

        ``kept`` = (why, cut) when the stations' :data:`RECOMPUTED` metrics were recomputed for
        the warm-up cut ``cut`` (seconds), another than the run's: every other cell of the
        table is marked as still over the run's own window, with ``why`` as its tooltip."""
        self.results = {nid: dict(m) for nid, m in results.items()}
        self._rows = {}
        self.table.setRowCount(0)
        rows: list[tuple[str, str]] = [
            (nid, m) for nid, metrics in self.results.items() for m in METRICS if m in metrics
        ]
        self.table.setRowCount(len(rows))
        previous = None
        for r, (nid, name) in enumerate(rows):
            metrics = self.results[nid]
            expected = (theory or {}).get(nid)
            value = expected.get(name) if isinstance(expected, Mapping) else None
            stale = kept is not None and not (name in RECOMPUTED and "count" not in metrics)
            cells = (
                nid if nid != previous else "",
                label(name),
                number_text(metrics[name], metrics.get("ci95", {}).get(name)) + (KEPT_MARK if stale else ""),
                number_text(value, digits=4) if isinstance(value, (int, float)) else "",
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
            self.table.item(r, 1).setToolTip(name)
            if stale and kept is not None:
                self.table.item(r, 2).setToolTip(kept[0])
            if isinstance(expected, str) and name == "mean_response":
                self.table.item(r, 3).setToolTip(expected)
            self._rows[(nid, name)] = r
            previous = nid
        self.table.resizeColumnsToContents()
        self._caption = caption
        self._run_warmup = warmup if kept is None else kept[1]
        self._show_caption()
        self._enable(bool(self.results))

    def note_warmup(self, warmup: float) -> None:
        """The warm-up cut in force is now ``warmup`` (seconds); results shown for another cut
        (that could not be recomputed for it) say that a re-run is needed to apply it."""
        self._warmup_setting = warmup
        self._show_caption()

    def clear(self) -> None:
        """Forget the results (another model was opened)."""
        self.results = {}
        self._rows = {}
        self.table.setRowCount(0)
        self._caption, self._run_warmup = EMPTY_CAPTION, None
        self._show_caption()
        self._enable(False)

    def value(self, node: str, metric: str) -> str:
        """The text shown for ``metric`` of ``node`` ("" if there is no such cell)."""
        row = self._rows.get((node, metric))
        item = self.table.item(row, 2) if row is not None else None
        return item.text() if item is not None else ""

    def theory_value(self, node: str, metric: str) -> str:
        """The theory column's text for ``metric`` of ``node`` ("" if none)."""
        row = self._rows.get((node, metric))
        item = self.table.item(row, 3) if row is not None else None
        return item.text() if item is not None else ""

    def _show_caption(self) -> None:
        text = self._caption
        run, wanted = self._run_warmup, self._warmup_setting
        if run is not None and wanted is not None and not math.isclose(run, wanted):
            text += (
                f" The warm-up is now {wanted:,.6g} s (these results used {run:,.6g} s) and they cannot be "
                "recomputed for it (no exact totals are held for them): re-run to apply the new warm-up."
            )
        self.caption.setText(text)

    def export_json(self, path: str | Path) -> None:
        """Write the results as strict JSON (NaN as null). Raises OSError."""
        Path(path).write_text(json.dumps({"nodes": json_safe(self.results)}, indent=2) + "\n", encoding="utf-8")

    def export_csv(self, path: str | Path) -> None:
        """Write ``node,metric,value,ci95`` rows. Raises OSError."""
        with open(path, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["node", "metric", "value", "ci95"])
            for nid, metrics in self.results.items():
                ci = metrics.get("ci95", {})
                for name in METRICS:
                    if name in metrics:
                        out.writerow([nid, name, _csv(metrics[name]), _csv(ci.get(name))])

    def _export_dialog(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export results", f"results.{kind}", f"{kind.upper()} (*.{kind})")
        if not path:
            return
        try:
            (self.export_csv if kind == "csv" else self.export_json)(path)
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", f"{path} could not be written:\n\n{exc}")

    def _enable(self, on: bool) -> None:
        self.csv_button.setEnabled(on)
        self.json_button.setEnabled(on)


def _csv(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(value) if isinstance(value, float) else str(value)
