"""The Experiment panel's form: what to sweep, over which values, what to plot, how many
runs, where, and the target; and reading it back (each problem said in place).

:class:`SweepForm` is a mixin of :class:`desktop.experiment.sweep_panel.SweepPanel`: it builds
the widgets onto the panel and reads them; the panel runs, shows and keeps sweeps.
"""

from __future__ import annotations

import math
import os
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.experiment.params import SweepTarget, values_outside
from desktop.experiment.plot import METRICS, SweepPlot
from desktop.theme import color_label
from engine import experiments as ex

SCHEDULER_KEY = "experiment/scheduler"
#: Metrics ticked when the panel first opens.
DEFAULT_METRICS = ("mean_response",)


class SweepForm:
    """The form's widgets and readers (mixed into the panel, a QWidget)."""

    target: SweepTarget | None

    def _build(self) -> None:
        self.param_label = QLabel("Right-click a number in the Inspector and choose “Sweep this parameter…”.")
        self.param_label.setWordWrap(True)
        self.mode_box = QComboBox()
        self.mode_box.addItems(["from / to / step", "list of values"])
        self.from_edit, self.to_edit, self.step_edit = QLineEdit(), QLineEdit(), QLineEdit()
        self.list_edit = QLineEdit()
        self.list_edit.setPlaceholderText("e.g. 1, 2, 4, 8")
        for edit, name in ((self.from_edit, "from"), (self.to_edit, "to"), (self.step_edit, "step")):
            edit.setAccessibleName(name)
            edit.setPlaceholderText(name)
        range_row = QHBoxLayout()
        range_row.setContentsMargins(0, 0, 0, 0)
        for edit in (self.from_edit, self.to_edit, self.step_edit):
            range_row.addWidget(edit)
        self.range_widget = QWidget()
        self.range_widget.setLayout(range_row)
        self.mode_box.currentIndexChanged.connect(self._mode_changed)
        self.node_box = QComboBox()
        self.node_box.setToolTip("The station whose metrics are plotted")
        self.metric_list = QListWidget()
        self.metric_list.setMaximumHeight(130)
        for metric, (label, unit, _) in METRICS.items():
            item = QListWidgetItem(f"{label} ({unit})" if unit else label)
            item.setData(Qt.ItemDataRole.UserRole, metric)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if metric in DEFAULT_METRICS else Qt.CheckState.Unchecked)
            self.metric_list.addItem(item)
        self.reps_mode = QComboBox()
        self.reps_mode.addItems(["replications", "precision (±% of mean response)"])
        self.reps_box = QSpinBox()
        self.reps_box.setRange(1, ex.REPLICATIONS_LIMIT)
        self.reps_box.setValue(5)
        self.precision_box = QDoubleSpinBox()
        self.precision_box.setRange(0.1, 50.0)
        self.precision_box.setValue(5.0)
        self.precision_box.setSuffix(" %")
        self.precision_box.hide()
        self.reps_mode.currentIndexChanged.connect(self._reps_mode_changed)
        reps_row = QHBoxLayout()
        reps_row.setContentsMargins(0, 0, 0, 0)
        for w in (self.reps_mode, self.reps_box, self.precision_box):
            reps_row.addWidget(w)
        reps_widget = QWidget()
        reps_widget.setLayout(reps_row)
        cores = os.cpu_count() or 1
        self.where_box = QComboBox()
        self.where_box.addItems(["this computer", "Dask scheduler"])
        self.workers_box = QSpinBox()
        self.workers_box.setRange(1, max(1, cores))
        self.workers_box.setValue(max(1, cores))
        self.workers_box.setSuffix(" processes")
        self.scheduler_edit = QLineEdit(str(QSettings().value(SCHEDULER_KEY, "tcp://127.0.0.1:8786")))
        self.scheduler_edit.setAccessibleName("Dask scheduler address")
        self.scheduler_edit.hide()
        self.where_box.currentIndexChanged.connect(self._where_changed)
        where_row = QHBoxLayout()
        where_row.setContentsMargins(0, 0, 0, 0)
        for w in (self.where_box, self.workers_box, self.scheduler_edit):
            where_row.addWidget(w)
        where_widget = QWidget()
        where_widget.setLayout(where_row)
        self.target_metric = QComboBox()
        self.target_metric.addItem("no target", None)
        for metric, (label, _unit, _) in METRICS.items():
            self.target_metric.addItem(label, metric)
        self.target_op = QComboBox()
        self.target_op.addItem("≤", "<=")
        self.target_op.addItem("≥", ">=")
        self.target_value = QLineEdit()
        self.target_value.setPlaceholderText("e.g. 0.2")
        self.target_value.setAccessibleName("target value")
        for w in (self.target_metric, self.target_op):
            w.currentIndexChanged.connect(self._target_changed)
        self.target_value.textChanged.connect(self._target_changed)
        target_row = QHBoxLayout()
        target_row.setContentsMargins(0, 0, 0, 0)
        for w in (self.target_metric, self.target_op, self.target_value):
            target_row.addWidget(w)
        target_widget = QWidget()
        target_widget.setLayout(target_row)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.param_label)
        form.addRow("&Values:", self.mode_box)
        form.addRow("", self.range_widget)
        form.addRow("", self.list_edit)
        self.list_edit.hide()
        form.addRow("&Station:", self.node_box)
        form.addRow("&Metrics:", self.metric_list)
        form.addRow("&Runs:", reps_widget)
        form.addRow("&Where:", where_widget)
        form.addRow("&Target:", target_widget)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        color_label(self.error_label, "error")
        self.error_label.hide()
        form.addRow(self.error_label)

        self.run_button = QPushButton("&Run Sweep")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.keep_button = QPushButton("&Keep with Model")
        self.keep_button.setToolTip("Save this sweep in the model file (undoable)")
        self.keep_button.clicked.connect(self.keep)
        self.keep_button.setEnabled(False)
        self.export_button = QToolButton()
        self.export_button.setText("E&xport")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Plot as PNG…", lambda: self._export_dialog("png"))
        menu.addAction("Plot as SVG…", lambda: self._export_dialog("svg"))
        menu.addAction("Points as CSV…", lambda: self._export_dialog("csv"))
        self.export_button.setMenu(menu)
        self.export_button.setEnabled(False)
        buttons = QHBoxLayout()
        for b in (self.run_button, self.cancel_button, self.keep_button, self.export_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.answer_label = QLabel()
        self.answer_label.setWordWrap(True)
        color_label(self.answer_label, "ok", "font-weight: bold;")
        self.answer_label.setAccessibleName("target answer")
        # Text that changes as a sweep runs must not change the panel's size hint: that would
        # lay the whole window out again and repaint the other docks' charts at every point.
        lines = self.fontMetrics().lineSpacing()
        for label, rows in ((self.status_label, 1), (self.answer_label, 2)):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            label.setFixedHeight(rows * lines + 4)
        self.kept_box = QComboBox()
        self.kept_box.setToolTip("Sweeps kept with the model: choose one to show it")
        self.kept_box.activated.connect(self._kept_chosen)

        settings = QWidget()
        top = QVBoxLayout(settings)
        top.setContentsMargins(6, 6, 6, 6)
        top.addLayout(form)
        top.addLayout(buttons)
        kept_row = QHBoxLayout()
        kept_row.addWidget(QLabel("Kept:"))
        kept_row.addWidget(self.kept_box, 1)
        top.addLayout(kept_row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(settings)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.plot = SweepPlot()
        split = self.splitter = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(scroll)
        below = QWidget()
        under = QVBoxLayout(below)
        under.setContentsMargins(6, 0, 6, 4)
        under.addWidget(self.progress)
        under.addWidget(self.answer_label)
        under.addWidget(self.plot, 1)
        under.addWidget(self.status_label)
        split.addWidget(below)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def _mode_changed(self, index: int) -> None:
        self.range_widget.setVisible(index == 0)
        self.list_edit.setVisible(index == 1)

    def _reps_mode_changed(self, index: int) -> None:
        self.reps_box.setVisible(index == 0)
        self.precision_box.setVisible(index == 1)

    def _where_changed(self, index: int) -> None:
        self.workers_box.setVisible(index == 0)
        self.scheduler_edit.setVisible(index == 1)

    @staticmethod
    def _bounds_text(target: SweepTarget) -> str:
        parts = []
        if target.minimum is not None:
            parts.append(f"{'>' if target.exclusive_minimum else '≥'} {target.minimum:g}")
        if target.maximum is not None:
            parts.append(f"≤ {target.maximum:g}")
        if target.integer:
            parts.append("whole numbers")
        return f"; valid: {', '.join(parts)}" if parts else ""

    # ------------------------------------------------------------ reading the form
    def values(self) -> list[float]:
        """The values the form asks for (ExperimentError saying what is wrong)."""
        if self.mode_box.currentIndex() == 0:
            spec = f"{self.from_edit.text().strip()}:{self.to_edit.text().strip()}:{self.step_edit.text().strip()}"
        else:
            spec = self.list_edit.text()
        values = ex.parse_values(spec)
        if self.target is not None:
            bad = values_outside(self.target, values)
            if bad:
                raise ex.ExperimentError(
                    f"{', '.join(f'{v:g}' for v in bad[:5])} "
                    f"{'is' if len(bad) == 1 else 'are'} outside what {self.target.label} takes"
                    f"{self._bounds_text(self.target).replace('; valid:', ' (valid:')})"
                )
        return values

    def metrics(self) -> list[str]:
        """The ticked metrics, in the list's order (the target's metric added when it is not)."""
        out = []
        for i in range(self.metric_list.count()):
            item = self.metric_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        target = self.target_spec()
        if target is not None and target["metric"] not in out:
            out.append(target["metric"])
        return out or ["mean_response"]

    def target_spec(self) -> dict[str, Any] | None:
        """``{"metric", "op", "value"}`` of the target line, or None."""
        metric = self.target_metric.currentData()
        try:
            value = float(self.target_value.text())
        except ValueError:
            return None
        if metric is None or not math.isfinite(value):
            return None
        return {"metric": metric, "op": self.target_op.currentData(), "value": value}

    def set_metrics(self, metrics: list[str]) -> None:
        """Tick exactly ``metrics``."""
        for i in range(self.metric_list.count()):
            item = self.metric_list.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in metrics
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def set_target(self, metric: str | None, op: str = "<=", value: float | None = None) -> None:
        """Set the target line's fields."""
        self.target_metric.setCurrentIndex(max(0, self.target_metric.findData(metric)))
        self.target_op.setCurrentIndex(max(0, self.target_op.findData(op)))
        self.target_value.setText("" if value is None else f"{value:g}")

    def _set_error(self, message: str | None) -> None:
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))
