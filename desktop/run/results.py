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

#: Row order of the table: station metrics (an async server's CPU utilisation beside its
#: connection utilisation), then the sink metrics not already listed.
_STATION_ROWS = tuple(
    name for m in STATION_METRICS for name in ((m, "cpu_utilization") if m == "utilization" else (m,))
)
METRICS = _STATION_ROWS + tuple(m for m in SINK_METRICS if m not in _STATION_ROWS)


def _fmt(value: Any, ci: Any = None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{value:d}" if isinstance(value, int) else f"{value:.5g}"
    if isinstance(ci, (int, float)) and math.isfinite(ci):
        text += f" ± {ci:.2g}"
    return text


class ResultsPanel(QWidget):
    """A metrics × nodes table of the final (or latest) results, with export buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel("Run a model to see its results here.")
        self.caption.setWordWrap(True)
        self.table = QTableWidget(0, 0)
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
        self._enable(False)

    def show_results(self, results: Mapping[str, Mapping[str, Any]], caption: str = "") -> None:
        """Fill the table from ``{node id: {metric: value, …, optional "ci95": {…}}}``."""
        self.results = {nid: dict(m) for nid, m in results.items()}
        nodes = list(self.results)
        rows = [m for m in METRICS if any(m in self.results[n] for n in nodes)]
        self.table.clear()
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(nodes))
        self.table.setHorizontalHeaderLabels(nodes)
        self.table.setVerticalHeaderLabels(rows)
        for c, nid in enumerate(nodes):
            metrics = self.results[nid]
            ci = metrics.get("ci95", {})
            for r, name in enumerate(rows):
                if name in metrics:
                    self.table.setItem(r, c, QTableWidgetItem(_fmt(metrics[name], ci.get(name))))
        self.table.resizeColumnsToContents()
        self.caption.setText(caption)
        self._enable(bool(nodes))

    def clear(self) -> None:
        """Forget the results (another model was opened)."""
        self.results = {}
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.caption.setText("Run a model to see its results here.")
        self._enable(False)

    def value(self, node: str, metric: str) -> str:
        """The text shown for ``metric`` of ``node`` ("" if there is no such cell)."""
        if node not in self.results:
            return ""
        col = list(self.results).index(node)
        for row in range(self.table.rowCount()):
            if self.table.verticalHeaderItem(row).text() == metric:
                item = self.table.item(row, col)
                return item.text() if item is not None else ""
        return ""

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
