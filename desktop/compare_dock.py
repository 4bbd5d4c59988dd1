"""Compare ▸ Run A vs B: paired replications of scenarios A and B in the background, shown
per station and metric as A, B, B − A ± its 95 % half-width and a plain verdict.

The replications run through :func:`engine.experiments.plan_comparison` with the settings
``queuestudio compare A.json B.json --replications R`` uses (A's seed, each model's own end
time and warm-up), so the window and the command line give the same numbers for the same
seed. They run in a :class:`QThread` (one process) or in a pool of ``spawn``-ed processes;
both scenarios are copied when they start, so editing goes on meanwhile. Cancel (or closing
the window) stops them within one slice of a replication and leaves no thread or process.
"""

from __future__ import annotations

import math
import os
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.background import BackgroundJob
from engine import experiments as ex
from engine.metrics import SINK_METRICS, STATION_METRICS
from engine.model import Model, ModelError

#: Replications proposed, and the most the box accepts.
DEFAULT_REPLICATIONS, MAX_REPLICATIONS = 10, 10_000
#: Short names of the metrics for verdicts, with their unit.
SHORT: dict[str, tuple[str, str]] = {
    "arrivals": ("arrivals", ""),
    "completed": ("completions", ""),
    "rejected": ("rejections", ""),
    "blocking_probability": ("blocking probability", ""),
    "utilization": ("utilisation", ""),
    "cpu_utilization": ("CPU utilisation", ""),
    "mean_queue_length": ("mean queue", ""),
    "mean_in_system": ("mean number in system", ""),
    "mean_wait": ("mean wait", " s"),
    "mean_response": ("mean response", " s"),
    "p50_response": ("median response", " s"),
    "p95_response": ("p95 response", " s"),
    "p99_response": ("p99 response", " s"),
    "throughput": ("throughput", "/s"),
    "count": ("requests received", ""),
    "mean_latency": ("mean latency", " s"),
    "p50_latency": ("median latency", " s"),
    "p95_latency": ("p95 latency", " s"),
    "p99_latency": ("p99 latency", " s"),
}
#: The metric each node's headline verdict is about.
HEADLINE = {"sink": "mean_latency"}
HEADLINE_DEFAULT = "mean_response"
COLUMNS = ("Node", "Metric", "A", "B", "B − A", "± 95 %", "Verdict")


def settings_for(a: Model, replications: int) -> dict[str, Any]:
    """The :class:`~engine.experiments.Experiment` settings of ``queuestudio compare A B
    --replications R`` (see ``engine.cli._settings``): A's seed, the models' own end times."""
    return {
        "seed": a.simulation.seed,
        "end_time": None,
        "auto_warmup": a.simulation.auto_warmup,
        "replications": replications,
    }


def _decimals(half: float) -> int:
    """Decimals that show ``half`` to two significant figures."""
    if not (math.isfinite(half) and half > 0):
        return 3
    return max(0, 1 - math.floor(math.log10(half)))


def format_pair(value: float, half: float) -> tuple[str, str]:
    """``value`` and ``half`` rounded alike, to the half-width's two significant figures."""
    digits = _decimals(half)
    return f"{value:,.{digits}f}", f"{half:,.{digits}f}"


def verdict(metric: str, row: dict[str, Any]) -> str:
    """A plain sentence for one row of :meth:`Comparison.differences`: "B cuts mean response
    by 1.6 ± 0.12 s (−40 %)", "no significant difference", or why there is no verdict."""
    diff, half, a = row.get("diff"), row.get("ci95"), row.get("a")
    if not (isinstance(diff, (int, float)) and math.isfinite(diff)):
        return "—"
    if not (isinstance(half, (int, float)) and math.isfinite(half)):
        return "no interval (too few replications)"
    if not row.get("significant"):
        return "no significant difference"
    name, unit = SHORT.get(metric, (metric.replace("_", " "), ""))
    size, width = format_pair(abs(diff), half)
    share = ""
    if isinstance(a, (int, float)) and math.isfinite(a) and a != 0:
        share = f" ({'+' if diff > 0 else '−'}{abs(diff / a):.0%})".replace("%", " %")
    return f"B {'cuts' if diff < 0 else 'raises'} {name} by {size} ± {width}{unit}{share}"


class _ComparisonThread(BackgroundJob):
    """Runs the paired replications of A and B."""

    cancelled_errors = (ex.Cancelled,)
    expected_errors = (ModelError, ex.ExperimentError, ex.TaskFailed)

    def __init__(self, a: Model, b: Model, replications: int, workers: int, parent: QObject) -> None:
        super().__init__("comparison", parent)
        self._a, self._b = a, b
        self._replications = replications
        self._workers = workers

    def work(self) -> Any:
        experiment = ex.plan_comparison(self._a, self._b, **settings_for(self._a, self._replications))
        executor = ex.InProcessExecutor() if self._workers == 1 else ex.ProcessExecutor(self._workers, "spawn")
        with executor:
            results = experiment.run(executor, progress=self.report, cancelled=self.is_cancelled)
        return ex.Comparison(*results)


class CompareDock(QWidget):
    """The "A vs B" panel: replications and processes, Run and Cancel, progress, the
    headline verdicts and the table. ``finished(comparison)`` carries each completed
    :class:`~engine.experiments.Comparison`; ``busy_changed(bool)`` says when one runs."""

    finished = Signal(object)
    busy_changed = Signal(bool)
    message_posted = Signal(str)
    run_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        cores = os.cpu_count() or 1
        self.replications_box = QSpinBox(minimum=2, maximum=MAX_REPLICATIONS, value=DEFAULT_REPLICATIONS)
        self.replications_box.setToolTip("Paired replications: replication r of A and of B use the same seed")
        self.workers_box = QSpinBox(minimum=1, maximum=cores, value=min(cores, 2))
        self.workers_box.setToolTip(f"Replications run side by side in this many processes (this machine has {cores})")
        self.run_button = QPushButton("Run A vs B")
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar(minimum=0, maximum=1000)
        self.progress.setTextVisible(True)
        self.headline = QLabel("Fork scenario B (Compare menu), change it, then run A vs B.")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        top = QHBoxLayout()
        for text, box in (("&Replications:", self.replications_box), ("&Processes:", self.workers_box)):
            label = QLabel(text)
            label.setBuddy(box)
            top.addWidget(label)
            top.addWidget(box)
        top.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(self.headline)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)
        self.comparison: ex.Comparison | None = None
        self._thread: _ComparisonThread | None = None
        self._kinds: dict[str, str] = {}

    @property
    def busy(self) -> bool:
        """Whether a comparison is running."""
        return self._thread is not None

    def start(self, a: Model, b: Model, replications: int | None = None, workers: int | None = None) -> None:
        """Run paired replications of copies of ``a`` and ``b`` (the boxes' counts by default)."""
        if self.busy:
            raise RuntimeError("a comparison is already running")
        count = self.replications_box.value() if replications is None else replications
        procs = self.workers_box.value() if workers is None else workers
        self._kinds = {n.id: n.kind for n in a.nodes}
        thread = _ComparisonThread(a.copy(), b.copy(), count, procs, self)
        thread.progressed.connect(self._progressed)
        thread.succeeded.connect(self._succeeded)
        thread.failed.connect(self._failed)
        thread.was_cancelled.connect(self._cancelled)
        thread.finished.connect(self._thread_finished)
        self._thread = thread
        self.progress.setValue(0)
        self.progress.setFormat("%p %")
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        where = "in this process" if procs == 1 else f"in {procs} processes"
        self.headline.setText(f"Running {count} paired replications of A and B {where}…")
        self.busy_changed.emit(True)
        thread.start()

    @Slot()
    def cancel(self) -> None:
        """Stop the running comparison (within one slice of a replication); nothing is shown."""
        if self._thread is not None:
            self._thread.cancel()

    def shutdown(self) -> None:
        """Cancel and wait for the thread and its processes (the window is closing)."""
        thread = self._thread
        if thread is not None:
            thread.cancel()
            thread.wait()
            self._thread_finished()

    # ---------------------------------------------------------- results
    def show_comparison(self, comparison: ex.Comparison) -> None:
        """Fill the headline and table from ``comparison``."""
        self.comparison = comparison
        rows = comparison.differences()
        self.caption.setText(
            f"{comparison.replications} paired replications (common random numbers); "
            "B − A is the mean of the paired differences, ± its 95 % confidence half-width."
        )
        heads = []
        for node_id, metrics in rows.items():
            metric = HEADLINE.get(self._kinds.get(node_id, ""), HEADLINE_DEFAULT)
            if metric in metrics:
                heads.append(f"{node_id}: {verdict(metric, metrics[metric])}")
        self.headline.setText("\n".join(heads) or "No node to compare.")
        self.table.setRowCount(0)
        bold = QFont(self.table.font())
        bold.setBold(True)
        for node_id, metrics in rows.items():
            order = SINK_METRICS if self._kinds.get(node_id) == "sink" else STATION_METRICS
            names = [n for n in order if n in metrics] + [n for n in metrics if n not in order]
            for name in names:
                row = metrics[name]
                half = row["ci95"] if isinstance(row["ci95"], (int, float)) else math.nan
                diff, width = format_pair(row["diff"], half) if _finite(row["diff"]) else ("—", "—")
                cells = (node_id, SHORT.get(name, (name, ""))[0], _num(row["a"]), _num(row["b"]), diff, width)
                r = self.table.rowCount()
                self.table.insertRow(r)
                for c, text in enumerate((*cells, verdict(name, row))):
                    item = QTableWidgetItem(text)
                    if 2 <= c <= 5:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    if row["significant"] and c == 6:
                        item.setFont(bold)
                    self.table.setItem(r, c, item)

    def verdict_of(self, node_id: str, metric: str) -> str:
        """The verdict shown for ``metric`` of ``node_id`` ("" when none is shown)."""
        for r in range(self.table.rowCount()):
            node, name = self.table.item(r, 0).text(), self.table.item(r, 1).text()
            if node == node_id and name == SHORT.get(metric, (metric, ""))[0]:
                return self.table.item(r, 6).text()
        return ""

    @Slot(float)
    def _progressed(self, fraction: float) -> None:
        self.progress.setValue(round(fraction * 1000))

    @Slot(object)
    def _succeeded(self, comparison: ex.Comparison) -> None:
        self.progress.setValue(1000)
        self.show_comparison(comparison)
        self.finished.emit(comparison)
        self.message_posted.emit(f"A vs B finished: {comparison.replications} paired replications")

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.headline.setText(f"The comparison failed: {message}")
        self.message_posted.emit(f"The comparison failed: {message}")

    @Slot()
    def _cancelled(self) -> None:
        self.progress.setValue(0)
        self.headline.setText("Comparison cancelled.")
        self.message_posted.emit("A vs B cancelled")

    @Slot()
    def _thread_finished(self) -> None:
        if self._thread is None:
            return
        self._thread.deleteLater()
        self._thread = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.busy_changed.emit(False)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _num(x: Any) -> str:
    return f"{x:,.6g}" if _finite(x) else "—"
