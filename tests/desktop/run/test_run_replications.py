"""Run Replications from the Run menu: the dialog, progress, Cancel, the mean ± CI table, and
failures shown as a dialog, all without touching the document or the live run."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu, QPushButton

from desktop.run.replications import ReplicationDialog
from engine.replications import aggregate, replicate


def _run_menu(window) -> QMenu:  # type: ignore[no-untyped-def]
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    assert isinstance(menu, QMenu)
    return menu


def _answer_dialog(qtbot, count: int, workers: int, accept: bool = True) -> list[ReplicationDialog]:  # type: ignore[no-untyped-def]
    """Fill in the Run Replications dialog once it is open, as a person would."""
    seen: list[ReplicationDialog] = []

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ReplicationDialog):
            QTimer.singleShot(10, fill)
            return
        seen.append(dialog)
        dialog.count_box.setValue(count)
        dialog.workers_box.setValue(workers)
        box = dialog.findChild(QDialogButtonBox)
        which = QDialogButtonBox.StandardButton.Ok if accept else QDialogButtonBox.StandardButton.Cancel
        box.button(which).click()

    QTimer.singleShot(0, fill)
    return seen


def _short(window, end_time: float = 400.0) -> None:  # type: ignore[no-untyped-def]
    sim = window.document.model.simulation
    sim.end_time, sim.warmup, sim.seed = end_time, 20.0, 7


def test_the_run_menu_runs_replications_and_shows_mean_and_ci(qtbot, window) -> None:
    _short(window)
    model = window.document.model.copy()
    menu = _run_menu(window)
    action = next(a for a in menu.actions() if a.text() == "Run Replications…")
    assert action.shortcut().toString() == "Ctrl+Shift+R"
    seen = _answer_dialog(qtbot, count=4, workers=1)
    action.trigger()
    assert seen, "the dialog did not open"
    panel = window.live_run.results_panel
    qtbot.waitUntil(lambda: "4 replications" in panel.caption.text(), timeout=30_000)
    expected = aggregate(replicate(model, 4))
    assert panel.results["cpu"]["mean_wait"] == expected["cpu"]["mean_wait"]
    assert panel.results["cpu"]["ci95"]["mean_wait"] == expected["cpu"]["ci95"]["mean_wait"]
    cell = panel.value("cpu", "mean_wait")
    assert " ± " in cell
    assert "seed 7" in panel.caption.text() and "mean ± 95 %" in panel.caption.text()
    assert window.findChild(QDialogButtonBox) is None or not seen[0].isVisible()
    qtbot.waitUntil(lambda: action.isEnabled())
    assert not window.document.undo_stack.canUndo()  # nothing was edited


def test_processes_give_the_same_answer_as_one_thread(qtbot, window) -> None:
    _short(window)
    runner = window.live_run.replications
    runner.quiet = True
    with qtbot.waitSignal(runner.finished, timeout=60_000):
        runner.start(3, workers=1)
    one = dict(window.live_run.results_panel.results["cpu"])
    with qtbot.waitSignal(runner.finished, timeout=60_000):
        runner.start(3, workers=2)
    assert window.live_run.results_panel.results["cpu"] == one


def test_cancelling_the_dialog_runs_nothing(qtbot, window) -> None:
    _answer_dialog(qtbot, count=5, workers=1, accept=False)
    window.live_run.controls.replications_action.trigger()
    assert not window.live_run.replications.busy
    assert window.live_run.results_panel.results == {}


def test_cancel_in_the_progress_dialog_stops_them_and_keeps_the_table(qtbot, window) -> None:
    _short(window, end_time=2_000_000.0)
    runner = window.live_run.replications
    action = window.live_run.controls.replications_action
    runner.start(50, workers=1)
    assert runner.busy and not action.isEnabled()
    qtbot.waitUntil(lambda: runner._progress is not None and runner._progress.isVisible(), timeout=5000)
    messages: list[str] = []
    window.live_run.message_posted.connect(messages.append)
    cancel = runner._progress.findChild(QPushButton)
    assert cancel.text() == "Cancel"
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert action.isEnabled()
    assert messages == ["Replications cancelled"]
    assert window.live_run.results_panel.results == {}


def test_a_model_that_cannot_be_built_shows_the_error(qtbot, window, dialogs) -> None:
    cpu = next(n for n in window.document.model.nodes if n.id == "cpu")
    cpu.params["service_time"] = {"dist": "exponential", "mean": -1.0}
    runner = window.live_run.replications
    runner.start(3)
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    (kind, title, text) = dialogs.of("critical")[0]
    assert title == "The replications failed" and "service_time.mean must be > 0" in text


def test_closing_the_window_during_replications_leaves_no_thread(qtbot, window) -> None:
    _short(window, end_time=2_000_000.0)
    runner = window.live_run.replications
    runner.quiet = True
    runner.start(20, workers=2)
    thread = runner._thread
    assert thread is not None and thread.isRunning()
    window.close()
    assert not thread.isRunning()
    assert not runner.busy
