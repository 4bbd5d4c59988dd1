"""Run Replications: independent replications of the document's model in the background,
with a progress dialog and Cancel, their means ± 95 % half-widths shown in the results table.

The replications run through :func:`engine.replications.replicate` in a :class:`QThread`
(one replication at a time, in this process) or in a pool of processes started with
``spawn`` (forking a process that runs Qt threads is unsafe). The document is copied when
they start, so editing it meanwhile changes nothing; the live run is not touched.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QSpinBox,
    QWidget,
)

from desktop.background import BackgroundJob
from engine.model import Model
from engine.replications import Cancelled, Results, aggregate, replicate

#: Replications proposed by the dialog, and the most it accepts.
DEFAULT_COUNT, MAX_COUNT = 10, 10_000


def describe(model: Model, count: int) -> str:
    """The caption of the results: ``10 replications of 20,000 s (warm-up 1,000 s, seed 1): mean ± 95 % CI``."""
    sim = model.simulation
    seed = "random seed" if sim.seed is None else f"seed {sim.seed}"
    return (
        f"{count} replications of {sim.end_time:,.6g} s (warm-up {sim.warmup:,.6g} s, {seed}): "
        "mean ± 95 % confidence half-width"
    )


class ReplicationDialog(QDialog):
    """Asks how many replications to run and in how many processes."""

    def __init__(self, model: Model, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run Replications")
        cores = os.cpu_count() or 1
        self.count_box = QSpinBox()
        self.count_box.setRange(2, MAX_COUNT)
        self.count_box.setValue(DEFAULT_COUNT)
        self.count_box.setToolTip("Independent runs, each with its own seed derived from the model's seed")
        self.workers_box = QSpinBox()
        self.workers_box.setRange(1, cores)
        self.workers_box.setValue(cores)
        self.workers_box.setToolTip(f"Replications run side by side in this many processes (this machine has {cores})")
        sim = model.simulation
        settings = QLabel(
            f"Each runs {sim.end_time:,.6g} simulated s; statistics start after the {sim.warmup:,.6g} s "
            "warm-up.\nThe end time, warm-up and seed are those of the Run toolbar."
        )
        settings.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(settings)
        form.addRow("&Replications:", self.count_box)
        form.addRow("&Processes:", self.workers_box)
        form.addRow(buttons)


class _ReplicationThread(BackgroundJob):
    """Runs :func:`replicate` and hands on the aggregate of its runs."""

    cancelled_errors = (Cancelled,)

    def __init__(self, model: Model, count: int, workers: int, parent: QObject) -> None:
        super().__init__("replications", parent)
        self._model = model
        self._count = count
        self._workers = workers

    def work(self) -> Any:
        runs = replicate(
            self._model,
            self._count,
            workers=self._workers,
            start_method="spawn",
            progress=self.report,
            cancelled=self.is_cancelled,
        )
        return aggregate(runs)


class ReplicationRunner(QObject):
    """Runs replications of ``model()`` on request and hands the aggregate to ``show(results, caption)``.

    ``busy_changed(bool)`` says when a batch of replications starts and ends, ``finished``
    carries the caption of a completed one, ``message_posted`` a line for the status bar.
    """

    busy_changed = Signal(bool)
    finished = Signal(str)
    message_posted = Signal(str)

    def __init__(
        self, model: Callable[[], Model], show: Callable[[Results, str], None], parent: QWidget, *, quiet: bool = False
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._show = show
        self._parent = parent
        self.quiet = quiet
        self._thread: _ReplicationThread | None = None
        self._progress: QProgressDialog | None = None
        self._caption = ""

    @property
    def busy(self) -> bool:
        """Whether replications are running."""
        return self._thread is not None

    @Slot()
    def ask_and_run(self) -> None:
        """Ask for the count and processes, then :meth:`start`."""
        if self.busy:
            return
        dialog = ReplicationDialog(self._model(), self._parent)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.start(dialog.count_box.value(), dialog.workers_box.value())

    def start(self, count: int, workers: int = 1) -> None:
        """Run ``count`` replications of a copy of the model in ``workers`` processes (1: in a thread)."""
        if self.busy:
            raise RuntimeError("replications are already running")
        model = self._model().copy()
        self._caption = describe(model, count)
        thread = _ReplicationThread(model, count, workers, self)
        thread.progressed.connect(self._progressed)
        thread.succeeded.connect(self._succeeded)
        thread.failed.connect(self._failed)
        thread.was_cancelled.connect(lambda: self.message_posted.emit("Replications cancelled"))
        thread.finished.connect(self._thread_finished)
        self._thread = thread
        if not self.quiet:
            progress = self._progress_dialog()
            progress.setLabelText(f"Running {count} replications…")
            progress.setValue(0)
        self.busy_changed.emit(True)
        thread.start()

    @Slot()
    def cancel(self) -> None:
        """Stop the running replications (within one slice of a replication); nothing is shown."""
        if self._thread is not None:
            self._thread.cancel()

    def shutdown(self) -> None:
        """Cancel and wait for the thread (the window is closing)."""
        thread = self._thread
        if thread is not None:
            thread.cancel()
            thread.wait()
            self._thread_finished()

    def _progress_dialog(self) -> QProgressDialog:
        """The progress dialog, made once. It is not modal: the document was copied, so
        editing goes on meanwhile (and a modal one would process events inside setValue)."""
        if self._progress is None:
            self._progress = QProgressDialog("", "Cancel", 0, 1000, self._parent)
            self._progress.setWindowTitle("Run Replications")
            self._progress.setMinimumDuration(300)
            self._progress.canceled.connect(self.cancel)
            self._progress.reset()
        return self._progress

    @Slot(float)
    def _progressed(self, fraction: float) -> None:
        if self._progress is not None:
            self._progress.setValue(round(fraction * 1000))

    @Slot(object)
    def _succeeded(self, results: Any) -> None:
        self._show(results, self._caption)
        self.finished.emit(self._caption)
        self.message_posted.emit(f"Finished: {self._caption}")

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.message_posted.emit(f"The replications failed: {message}")
        if not self.quiet:
            QMessageBox.critical(self._parent, "The replications failed", message)

    @Slot()
    def _thread_finished(self) -> None:
        if self._thread is None:
            return
        self._thread.deleteLater()
        self._thread = None
        if self._progress is not None:
            self._progress.reset()
        self.busy_changed.emit(False)
