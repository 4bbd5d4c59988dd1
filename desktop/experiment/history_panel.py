"""The History dock: the runs list, with two selected runs overlaid or diffed.

Each row is one finished run (newest first): pinned mark, time, kind, title, what was
changed from the model, key results. Select two to overlay their curves (the first solid,
the second dashed) and diff their tables (B − A); pin, rename (F2), delete (Delete) and
export the selection.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.experiment.history import RunEntry, RunHistory
from desktop.experiment.plot import number
from desktop.theme import color_label

COLUMNS = ("", "time", "kind", "run", "changed", "key results")
#: One colour per curve name (the same in both runs); run A is solid, run B dashed.
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def local_time(iso: str) -> str:
    """An entry's UTC time as local ``HH:MM`` (with the date when it is not today)."""
    try:
        when = dt.datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    today = dt.datetime.now().astimezone().date()
    return when.strftime("%H:%M" if when.date() == today else "%Y-%m-%d %H:%M")


def diff_rows(a: RunEntry, b: RunEntry) -> list[tuple[str, str, Any, Any, float]]:
    """``(node, metric, a, b, b − a)`` for every numeric metric both runs have."""
    rows = []
    for node, metrics in a.results.items():
        other = b.results.get(node)
        if not isinstance(metrics, dict) or not isinstance(other, dict):
            continue
        for name, value in metrics.items():
            theirs = other.get(name)
            if name == "ci95" or not _finite(value) or not _finite(theirs):
                continue
            rows.append((node, name, value, theirs, theirs - value))
    return rows


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class HistoryPanel(QWidget):
    """The runs list of a :class:`RunHistory` (see the module's docstring)."""

    def __init__(self, history: RunHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        color_label(self.problem_label, "warning")
        self.problem_label.hide()
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setAccessibleName("Runs")
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.compare_button = QPushButton("&Compare")
        self.compare_button.setToolTip("Overlay the curves and diff the tables of the two selected runs")
        self.pin_button = QPushButton("&Pin")
        self.rename_button = QPushButton("Re&name…")
        self.delete_button = QPushButton("&Delete")
        self.export_button = QPushButton("E&xport…")
        self.compare_button.clicked.connect(self.compare_selected)
        self.pin_button.clicked.connect(self.toggle_pin)
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button.clicked.connect(self._export_dialog)
        self.tree.installEventFilter(self)
        buttons = QHBoxLayout()
        for b in (self.compare_button, self.pin_button, self.rename_button, self.delete_button, self.export_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.plot = pg.PlotWidget(background="w")
        self.plot.addLegend(offset=(10, 10))
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.diff_table = QTableWidget(0, 5)
        self.diff_table.setHorizontalHeaderLabels(["node", "metric", "A", "B", "B − A"])
        self.diff_table.verticalHeader().hide()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plot, "Curves")
        self.tabs.addTab(self.diff_table, "Table diff")
        self.compare_label = QLabel("Select two runs and press Compare.")
        self.compare_label.setWordWrap(True)
        bottom = QWidget()
        low = QVBoxLayout(bottom)
        low.setContentsMargins(0, 0, 0, 0)
        low.addWidget(self.compare_label)
        low.addWidget(self.tabs)
        top = QWidget()
        high = QVBoxLayout(top)
        high.setContentsMargins(0, 0, 0, 0)
        high.addWidget(self.problem_label)
        high.addWidget(self.tree)
        high.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        history.changed.connect(self.refresh)
        history.problem_found.connect(self._show_problem)
        if history.problem:
            self._show_problem(history.problem)
        self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Delete deletes the selected runs, F2 renames the selected one."""
        if watched is self.tree and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.delete_selected()
                return True
            if event.key() == Qt.Key.Key_F2:
                self.rename_selected()
                return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------ list
    @Slot()
    def refresh(self) -> None:
        """Fill the list from the history, keeping the selection."""
        chosen = set(self.selected_ids())
        self.tree.blockSignals(True)
        self.tree.clear()
        for entry in self.history.entries:
            item = QTreeWidgetItem(
                [
                    "★" if entry.pinned else "",
                    local_time(entry.created),
                    entry.kind,
                    entry.title,
                    "; ".join(entry.changes) or "—",
                    entry.summary,
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, entry.id)
            item.setToolTip(4, "\n".join(entry.changes))
            item.setToolTip(5, entry.summary)
            self.tree.addTopLevelItem(item)
            item.setSelected(entry.id in chosen)
        for c in range(len(COLUMNS) - 1):
            self.tree.resizeColumnToContents(c)
        self.tree.blockSignals(False)
        self._selection_changed()

    def selected_ids(self) -> list[str]:
        """Ids of the selected runs, in list order (newest first)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.isSelected():
                out.append(item.data(0, Qt.ItemDataRole.UserRole))
        return out

    def select(self, entry_ids: list[str]) -> None:
        """Select exactly these runs."""
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) in entry_ids)

    def _selection_changed(self) -> None:
        n = len(self.selected_ids())
        self.compare_button.setEnabled(n == 2)
        for b in (self.pin_button, self.delete_button, self.export_button):
            b.setEnabled(n >= 1)
        self.rename_button.setEnabled(n == 1)

    def _show_problem(self, message: str) -> None:
        self.problem_label.setText(message)
        self.problem_label.setVisible(bool(message))

    # ------------------------------------------------------------ actions
    @Slot()
    def compare_selected(self) -> None:
        """Overlay the two selected runs' curves and diff their tables (B − A: the older is A)."""
        ids = self.selected_ids()
        if len(ids) != 2:
            return
        b, a = (self.history.entry(i) for i in ids)  # newest first: the older run is A
        self.compare(a, b)

    def compare(self, a: RunEntry, b: RunEntry) -> None:
        """Show runs ``a`` and ``b`` overlaid and diffed."""
        self.plot.clear()
        drawn = 0
        names = list(dict.fromkeys([*a.curves, *b.curves]))
        for entry, style in ((a, Qt.PenStyle.SolidLine), (b, Qt.PenStyle.DashLine)):
            for name, curve in entry.curves.items():
                color = COLORS[names.index(name) % len(COLORS)]
                xs, ys = curve.get("x", []), curve.get("y", [])
                pts = [(x, y) for x, y in zip(xs, ys) if _finite(x) and _finite(y)]
                if not pts:
                    continue
                self.plot.plot(
                    [p[0] for p in pts],
                    [p[1] for p in pts],
                    pen=pg.mkPen(color, width=1.5, style=style),
                    symbol="o",
                    symbolSize=5,
                    symbolBrush=color,
                    name=f"{'A' if entry is a else 'B'}: {name}",
                )
                drawn += 1
        rows = diff_rows(a, b)
        self.diff_table.setRowCount(len(rows))
        for r, (node, metric, x, y, d) in enumerate(rows):
            for c, text in enumerate((node, metric, number(x, 5), number(y, 5), f"{d:+.4g}")):
                cell = QTableWidgetItem(text)
                if c >= 2:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.diff_table.setItem(r, c, cell)
        self.diff_table.resizeColumnsToContents()
        self.compare_label.setText(f"A: {a.title} ({local_time(a.created)})  ·  B: {b.title} ({local_time(b.created)})")
        self.tabs.setCurrentWidget(self.plot if drawn else self.diff_table)
        self.curves_drawn = drawn

    @Slot()
    def toggle_pin(self) -> None:
        """Pin the selected runs (unpin them if all are pinned)."""
        ids = self.selected_ids()
        pin = not all(self.history.entry(i).pinned for i in ids)
        for i in ids:
            self.history.pin(i, pin)

    @Slot()
    def rename_selected(self) -> None:
        """Ask for a new title of the selected run."""
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        entry = self.history.entry(ids[0])
        title, ok = QInputDialog.getText(self, "Rename run", "Title:", text=entry.title)
        if ok and title.strip():
            self.history.rename(entry.id, title)

    @Slot()
    def delete_selected(self) -> None:
        """Delete the selected runs."""
        ids = self.selected_ids()
        if ids:
            self.history.remove(ids)

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export runs", "runs.json", "JSON (*.json);;CSV (*.csv)")
        if path:
            self.history.export(path, self.selected_ids() or None)
