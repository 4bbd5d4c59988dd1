""":func:`install_experiments` puts the Experiment and History docks into a main window, with
an Experiment menu, the inspector's "Sweep this parameter…" wired to the panel, finished live
runs and replication sets recorded in the history, and a clean shutdown of a running sweep
when the window closes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from desktop.background import stop_with_window
from desktop.experiment.history import RunHistory
from desktop.experiment.history_panel import HistoryPanel
from desktop.experiment.sweep_panel import SweepPanel


@dataclass
class Experiments:
    """What :func:`install_experiments` added to a window."""

    panel: SweepPanel
    history: RunHistory
    history_panel: HistoryPanel
    dock: QDockWidget
    history_dock: QDockWidget
    menu: QMenu

    def sweep(self, node_id: str | None, name: str) -> bool:
        """Open the Experiment dock on field ``name`` of node ``node_id`` (None: simulation)."""
        if not self.panel.sweep(node_id, name):
            return False
        self.dock.show()
        self.dock.raise_()
        return True


def install_experiments(window: QMainWindow, history: RunHistory | None = None) -> Experiments:
    """Add the Experiment and History docks (tabbed with the Results dock when there is one),
    the Experiment menu and the wiring described in the module's docstring."""
    document = window.document  # type: ignore[attr-defined]
    history = history if history is not None else RunHistory(parent=window)
    panel = SweepPanel(document, history)
    history_panel = HistoryPanel(history)
    docks = []
    # Named run_… so that the window treats them as the run's panels (View menu, layout).
    for title, name, widget in (("Experiment", "run_experiment", panel), ("History", "run_history", history_panel)):
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        docks.append(dock)
    results = window.findChild(QDockWidget, "run_results")
    if results is not None:
        window.tabifyDockWidget(results, docks[0])
        window.tabifyDockWidget(docks[0], docks[1])
        results.raise_()
    else:
        window.tabifyDockWidget(docks[0], docks[1])
    menu = window.menuBar().addMenu("E&xperiment")
    experiments = Experiments(panel, history, history_panel, docks[0], docks[1], menu)
    sweep_action = menu.addAction("&Sweep This Parameter…")
    sweep_action.setShortcut(QKeySequence("Ctrl+Shift+W"))
    sweep_action.setStatusTip("Sweep the Inspector field that has the keyboard focus")
    inspector = getattr(window, "inspector", None)

    def sweep_focused() -> None:
        if inspector is None or not inspector.request_sweep():
            docks[0].show()
            docks[0].raise_()
            window.statusBar().showMessage("Put the keyboard in a number of the Inspector to sweep it", 5000)

    sweep_action.triggered.connect(sweep_focused)
    menu.addAction("&Run Sweep", panel.run)
    menu.addAction("&Cancel Sweep", panel.cancel)
    menu.addSeparator()
    for dock in docks:
        menu.addAction(dock.toggleViewAction())
    if inspector is not None:

        def requested(node_id: str | None, name: str) -> None:
            if not experiments.sweep(node_id, name):
                window.statusBar().showMessage(f"{name} holds no number to sweep now (e.g. it is unlimited)", 5000)

        inspector.sweep_requested.connect(requested)
    panel.message_posted.connect(lambda text: window.statusBar().showMessage(text, 6000))
    if history.problem:
        window.statusBar().showMessage(history.problem, 10000)
    history.problem_found.connect(lambda text: window.statusBar().showMessage(text, 10000))
    _record_runs(window, history)
    stop_with_window(window, panel.shutdown)
    return experiments


def _record_runs(window: QMainWindow, history: RunHistory) -> None:
    """Finished live runs and replication sets go into the history."""
    live = getattr(window, "live_run", None)
    if live is None:
        return
    document = window.document  # type: ignore[attr-defined]

    recorded: list[object] = [None]  # the batch last recorded: a run is recorded once

    def record(batch: Any) -> None:
        if batch is None or not batch.results or batch is recorded[0]:
            return
        recorded[0] = batch
        model = document.model
        at = getattr(batch, "results_time", None)
        ended = "finished" if batch.state == "finished" else "stopped"
        title = f"Live run of {model.name}, {ended}" + (f" at t = {at:.6g} s" if isinstance(at, (int, float)) else "")
        store = getattr(live, "store", None)
        curves = _live_curves(store) if store is not None else {}
        history.add("live", title, batch.results, model=model, curves=curves)

    live.batch_received.connect(lambda batch: record(batch) if batch.state == "finished" else None)
    live.state_changed.connect(lambda state: record(live.last_batch) if state == "stopped" else None)

    def replications_finished(caption: str) -> None:
        results = getattr(live.results_panel, "results", None)
        if results:
            history.add("replications", caption.split(":")[0], results, model=document.model)

    live.replications.finished.connect(replications_finished)


def _live_curves(store: Any) -> dict[str, dict[str, list[float]]]:
    """Each station's queue length over the run (thinned by the history), from the live
    run's :class:`desktop.run.buffers.SeriesStore`."""
    out: dict[str, dict[str, list[float]]] = {}
    times = store.times()
    for station in store.stations:
        values = store.series(station, "queue_length")
        n = min(len(times), len(values))
        out[f"{station} queue length"] = {"x": times[:n].tolist(), "y": values[:n].tolist()}
    return out
