"""The live run installed in the editor's MainWindow, and the ``--screenshot --run-for`` path."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDockWidget, QToolBar

from desktop import app
from desktop.run.integration import install_live_run


def test_install_fills_the_run_toolbar_and_adds_the_docks(qtbot, window) -> None:
    live = install_live_run(window, window.document, window.scene, window.run_toolbar)
    toolbar = window.findChild(QToolBar, "run")
    assert live.controls.run_action in toolbar.actions() and toolbar.isVisible()
    docks = {d.objectName() for d in window.findChildren(QDockWidget)}
    assert {"run_dashboard", "run_theory", "run_results", "run_events"} <= docks
    assert live.controls.end_box.value() == window.document.model.simulation.end_time


def test_run_for_feeds_the_canvas_and_closing_stops_the_worker(qtbot, window, dialogs) -> None:
    live = install_live_run(window, window.document, window.scene, window.run_toolbar)
    live.change_setting("end_time", 1e8)
    live.set_speed(1000.0)
    live.run_for(0.6)
    assert live.state == "paused" and live.last_batch.now > 100
    assert window.node_item("cpu").live is not None
    live.run()
    qtbot.waitUntil(lambda: live.state == "running", timeout=5000)
    thread = live.worker_thread
    window.close()  # the document was edited: the window asks, the test answers Discard
    assert dialogs.of("question") and not window.isVisible()
    assert thread.isFinished() and live.worker_thread is None


def test_a_cancelled_close_keeps_the_run_going(qtbot, window, dialogs) -> None:
    live = install_live_run(window, window.document, window.scene, window.run_toolbar)
    live.change_setting("end_time", 1e8)
    live.run()
    qtbot.waitUntil(lambda: live.last_batch is not None, timeout=5000)
    dialogs.answer = dialogs.answer.Cancel
    window.close()
    assert window.isVisible() and live.worker_thread is not None and live.worker_thread.isRunning()


def test_screenshot_after_running_shows_the_charts(qtbot, window, tmp_path: Path) -> None:
    live = install_live_run(window, window.document, window.scene, window.run_toolbar)
    window.run_for = live.run_for  # what MainWindow.run_for forwards to
    out = tmp_path / "shot.png"
    assert app.screenshot(window, str(out), 0.5) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    x, _ = live.dashboard.curve("cpu", "queue").getData()
    assert x is not None and len(x) > 10
    assert live.worker_thread is None  # the screenshot hides the window, which ends the run
