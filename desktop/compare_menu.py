""":func:`install_compare` puts scenario B into a main window: the Compare menu, the A/B
switch on the canvas, the "B≠A" marks on the nodes, the difference banner above the
inspector, the "A vs B" dock (Run A vs B) and the ghost run, and the comparison's clean
shutdown when the window closes.

Keyboard: Ctrl+Shift+B forks B, Ctrl+B switches between A and B, Ctrl+Shift+C runs A vs B,
Ctrl+Shift+G starts a ghost run.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow

from desktop.background import stop_with_window
from desktop.compare_dock import CompareDock
from desktop.experiment.history import RunHistory
from desktop.run.ghost import GhostViews, GhostWorker
from desktop.run.worker import SimulationWorker
from desktop.scenario_views import CanvasMarks, DifferenceBanner, InspectorMarks, ScenarioSwitch, with_banner
from desktop.scenarios import RecoveryView, Scenarios
from engine.experiments import Comparison
from engine.model import Model, check_document
from engine.model.schema import is_station

#: Largest share of the GUI's time B's views may take while a ghost run streams.
GHOST_DUTY = 0.03


class CompareFeature(QObject):
    """Scenario B of one window: :attr:`scenarios`, the :attr:`panel` in :attr:`dock`, and the
    Compare menu's :attr:`actions` (by name)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.scenarios = Scenarios(window.document, self)
        self.marks = CanvasMarks(self.scenarios, window.node_item)
        self.switch = ScenarioSwitch(self.scenarios, window.canvas)
        self.banner = DifferenceBanner(self.scenarios, window.scene.selected_node_ids)
        window.scene.selection_changed.connect(self.banner.sync)
        self.field_marks = InspectorMarks(self.scenarios, window.inspector)
        window.scene.selection_changed.connect(self.field_marks.refresh)  # after the inspector's rebuild
        window.document.document_reset.connect(self.field_marks.refresh)
        window.inspector_dock.setWidget(with_banner(self.banner, window.inspector))
        # The crash-recovery file holds scenario A, whichever scenario is shown.
        window.recovery.document = RecoveryView(window.document, self.scenarios)
        self.panel = CompareDock()
        self.panel.run_requested.connect(self.run_comparison)
        self.panel.message_posted.connect(lambda text: window.statusBar().showMessage(text, 8000))
        self.dock = QDockWidget("A vs B", window)
        self.dock.setObjectName("run_compare")  # a run panel: tabbed under the canvas
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        results = window.findChild(QDockWidget, "run_results")
        if results is not None:
            window.tabifyDockWidget(results, self.dock)
            theory = window.findChild(QDockWidget, "run_theory")
            (theory or results).raise_()
        self.menu = window.menuBar().addMenu("&Compare")
        self.actions: dict[str, QAction] = {}
        self._add("fork", "&Fork Scenario B", self._fork, "Ctrl+Shift+B", "Copy the model into scenario B and edit B")
        self._add("switch", "&Switch A ⇄ B", self.scenarios.toggle, "Ctrl+B", "Show and edit the other scenario")
        self._add("show_a", "Show Scenario &A", lambda: self.scenarios.show("A"), None, "Show and edit scenario A")
        self._add("show_b", "Show Scenario &B", lambda: self.scenarios.show("B"), None, "Show and edit scenario B")
        self.menu.addSeparator()
        self._add("run", "&Run A vs B", self.run_comparison, "Ctrl+Shift+C", "Paired replications of A and B")
        self._add("cancel", "&Cancel A vs B", self.panel.cancel, None, "Stop the running comparison")
        self._add(
            "ghost",
            "&Ghost Run (A live, B beside it)",
            self.ghost_run,
            "Ctrl+Shift+G",
            "Run A live with B in lockstep on the same random numbers, B drawn faint",
        )
        self.menu.addSeparator()
        self._add("save_b", "Save Scenario B &As…", lambda: self.scenarios.save_b_as(window), None, "Write B to a file")
        self._add("discard", "&Discard Scenario B", lambda: self.scenarios.discard_b(window), None, "Drop scenario B")
        self.menu.addSeparator()
        self.menu.addAction(self.dock.toggleViewAction())
        window.view_menu.addAction(self.dock.toggleViewAction())
        self.scenarios.changed.connect(self._sync_actions)
        self.panel.busy_changed.connect(lambda _busy: self._sync_actions())
        window.live_run.state_changed.connect(self._run_state)
        # The ghost run: the live run's worker is made here (see _make_worker).
        live = window.live_run
        self.ghost_views = GhostViews(live.dashboard, window.node_item, self)
        self._ghost_next: Model | None = None
        self._next_ghost_draw = 0.0
        live.worker_factory = self._make_worker
        live.batch_received.connect(self._a_batch)
        window.document.document_reset.connect(self.ghost_views.clear)
        stop_with_window(window, self.shutdown)
        self._sync_actions()

    def _add(self, name: str, text: str, slot: Any, shortcut: str | None, tip: str) -> QAction:
        action = self.menu.addAction(text)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        self.actions[name] = action
        return action

    def _sync_actions(self) -> None:
        s = self.scenarios
        free = not s.locked
        self.actions["fork"].setEnabled(free and not s.has_b)
        for name in ("switch", "show_a", "show_b", "discard"):
            self.actions[name].setEnabled(free and s.has_b)
        self.actions["save_b"].setEnabled(s.has_b)
        self.actions["ghost"].setEnabled(free and s.has_b)
        self.actions["run"].setEnabled(s.has_b and not self.panel.busy)
        self.actions["cancel"].setEnabled(self.panel.busy)
        self.switch.sync()

    def _run_state(self, state: str) -> None:
        # A switch replaces the document's model, which ends a live run: not while one goes.
        self.scenarios.locked = state in ("running", "paused")
        self._sync_actions()

    def _fork(self) -> None:
        if self.scenarios.fork():
            self.window.statusBar().showMessage(
                "Scenario B forked: edits now go to B (Ctrl+B switches back to A). File ▸ Save writes A; "
                "Compare ▸ Save Scenario B As… writes B.",
                10000,
            )

    def record_in(self, history: RunHistory) -> None:
        """Put every finished A vs B into the Runs ``history``: the paired differences (B − A)
        with their half-widths, what B changes, and the headline verdicts."""

        def record(comparison: Comparison) -> None:
            results = {
                node: {name: row["diff"] for name, row in rows.items()}
                | {"ci95": {name: row["ci95"] for name, row in rows.items()}}
                for node, rows in comparison.differences().items()
            }
            changes = [f"{node}: {line}" for node, lines in self.scenarios.differences().items() for line in lines]
            history.add(
                "comparison",
                f"A vs B: {comparison.replications} paired replications (B − A)",
                results,
                model=self.scenarios.model_b,
                changes=changes,
                summary=self.panel.headline.text().replace("\n", " · "),
            )

        self.panel.finished.connect(record)

    def run_comparison(self) -> bool:
        """Start paired replications of A and B in the dock; False (with a message) when it
        cannot start."""
        s = self.scenarios
        bar = self.window.statusBar()
        if s.model_b is None:
            bar.showMessage("Fork scenario B first (Compare ▸ Fork Scenario B)", 8000)
            return False
        if self.panel.busy:
            return False
        for name, model in (("A", s.model_a), ("B", s.model_b)):
            problems = check_document(model).errors
            if problems:
                bar.showMessage(f"Scenario {name} cannot run: {problems[0]}", 10000)
                return False
        self.dock.show()
        self.dock.raise_()
        self.panel.start(s.model_a, s.model_b)
        return True

    # ---------------------------------------------------------- ghost run
    def ghost_run(self) -> bool:
        """Start a live run of A with B in lockstep beside it (see :mod:`desktop.run.ghost`);
        False (with a message) when it cannot start."""
        s, live = self.scenarios, self.window.live_run
        bar = self.window.statusBar()
        if s.model_b is None:
            bar.showMessage("Fork scenario B first (Compare ▸ Fork Scenario B)", 8000)
            return False
        if live.running:
            bar.showMessage("Stop the current run first: a ghost run starts from t = 0", 8000)
            return False
        problems = check_document(s.model_b).errors
        if problems:
            bar.showMessage(f"Scenario B cannot run: {problems[0]}", 10000)
            return False
        if s.active == "B":
            s.show("A")  # the live run is A's: its edits go to A, B runs as it is
        self._ghost_next = s.model_b.copy()
        live.run()
        if self._ghost_next is not None:  # the run did not start (A has problems)
            self._ghost_next = None
            return False
        bar.showMessage("Ghost run: A live, B in lockstep on the same random numbers (faint lines)", 8000)
        return True

    def _make_worker(self, model: Model, **kwargs: Any) -> SimulationWorker:
        ghost, self._ghost_next = self._ghost_next, None
        self.ghost_views.clear()
        if ghost is None:
            return SimulationWorker(model, **kwargs)
        worker = GhostWorker(model, ghost, **kwargs)
        worker.ghost_produced.connect(self.ghost_views.add)
        self.ghost_views.start([n.id for n in model.nodes if is_station(n.kind)])
        return worker

    def _a_batch(self, batch: Any) -> None:
        views = self.ghost_views
        if not views.active:
            return
        now = time.perf_counter()
        if batch.state == "running" and now < self._next_ghost_draw:
            return
        views.draw()
        # At most GHOST_DUTY of the GUI's time, as the live views keep to theirs.
        self._next_ghost_draw = now + (time.perf_counter() - now) * (1 / GHOST_DUTY - 1)

    def shutdown(self) -> None:
        """Cancel a running comparison and wait until its thread and processes are gone."""
        self.panel.shutdown()


def install_compare(window: QMainWindow) -> CompareFeature:
    """Add scenario B and the comparison to ``window`` (a :class:`desktop.main_window.MainWindow`
    after its live run is installed)."""
    return CompareFeature(window)


__all__ = ["CompareFeature", "install_compare"]
