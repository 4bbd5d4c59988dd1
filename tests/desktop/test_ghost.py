"""The ghost run through the window: A live with B in lockstep on the same random numbers,
B's curves faint on the dashboard and B's queue beside A's on the canvas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt

from desktop.main_window import MainWindow
from desktop.run.ghost import GhostStrip


def retype(qtbot: Any, line: Any, text: str) -> None:
    """Replace the text of ``line`` by typing ``text`` key by key (as the inspector tests do)."""
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)


def fork(window: MainWindow, qtbot: Any) -> None:
    """Fork B with its shortcut, as a person would (Ctrl+Shift+B)."""
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.compare.scenarios.has_b, timeout=2000)


def set_rate(window: MainWindow, qtbot: Any, rate: str) -> None:
    """Type the source's rate into the inspector, then clear the selection."""
    window.scene.select(["arrivals"])
    assert window.inspector.mode == "node" and window.inspector.node_id == "arrivals"
    retype(qtbot, window.inspector.fields["rate"].line, rate)
    window.scene.select([])


def ghost_to_the_end(window: MainWindow, qtbot: Any, end_time: float = 400.0) -> None:
    """A short ghost run at max speed, started with its shortcut, waited for to its end."""
    window.document.set_setting("end_time", end_time)
    window.document.set_setting("warmup", 40.0)
    window.live_run.set_speed(float("inf"))
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.compare.ghost_views.active
    qtbot.waitUntil(lambda: window.live_run.state == "finished", timeout=60_000)


def test_a_ghost_of_the_same_model_runs_on_the_same_random_numbers(window: MainWindow, qtbot: Any) -> None:
    fork(window, qtbot)  # B is A, unchanged
    window.compare.actions["switch"].trigger()
    ghost_to_the_end(window, qtbot)
    a, b = window.live_run.store, window.compare.ghost_views.store
    assert a is not None and b is not None and a.times().size >= 30
    assert np.array_equal(a.times(), b.times())
    assert np.array_equal(a.series("cpu", "queue_length"), b.series("cpu", "queue_length"))
    assert window.live_run.last_batch.results["cpu"] == window.compare.ghost_views.last.results["cpu"]


def test_ghost_run_shows_b_faint_on_the_charts_and_beside_a_on_the_nodes(window: MainWindow, qtbot: Any) -> None:
    fork(window, qtbot)
    set_rate(window, qtbot, "0.5")  # B: lighter load
    ghost_to_the_end(window, qtbot)
    s = window.compare.scenarios
    assert s.active == "A"  # the ghost run is A's live run
    views = window.compare.ghost_views
    assert views.last is not None and views.last.state == "finished"
    curve = views.curves[("cpu", "queue", "queue_length")]
    assert curve.isVisible() and curve.xData is not None and len(curve.xData) > 10
    assert curve.opts["pen"].color().alpha() < 255
    a_mean = window.live_run.last_batch.results["cpu"]["mean_queue_length"]
    b_mean = views.last.results["cpu"]["mean_queue_length"]
    assert b_mean < a_mean  # λ 0.5 against 0.8 on the same service times
    strip = views.strips["cpu"]
    assert isinstance(strip, GhostStrip) and strip.parentItem() is window.node_item("cpu")
    assert strip.text.startswith("B avg queue ")
    assert "scenario B" in window.live_run.dashboard.key_label.text()


def test_switching_is_off_during_a_ghost_run_and_a_plain_run_clears_the_ghost(window: MainWindow, qtbot: Any) -> None:
    fork(window, qtbot)
    window.document.set_setting("end_time", 1e9)
    window.live_run.set_speed(float("inf"))
    assert window.compare.ghost_run()
    qtbot.waitUntil(lambda: window.compare.ghost_views.last is not None, timeout=30_000)
    assert not window.compare.actions["switch"].isEnabled() and not window.compare.scenarios.show("B")
    window.live_run.stop()
    qtbot.waitUntil(lambda: not window.live_run.running, timeout=10_000)
    assert window.compare.actions["switch"].isEnabled()
    window.document.set_setting("end_time", 200.0)
    window.document.set_setting("warmup", 20.0)
    window.live_run.run()  # a plain run: no ghost
    assert not window.compare.ghost_views.active and not window.compare.ghost_views.strips
    qtbot.waitUntil(lambda: window.live_run.state == "finished", timeout=60_000)


def test_ghost_run_screenshot_at_1280x800(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    fork(window, qtbot)
    set_rate(window, qtbot, "0.6")
    window.resize(1280, 800)
    ghost_to_the_end(window, qtbot, end_time=3000.0)
    image = window.grab().toImage()
    assert (image.width(), image.height()) == (1280, 800)
    assert image.save(str(tmp_path / "ghost.png"))


def test_closing_the_window_mid_ghost_run_leaves_no_thread(window: MainWindow, qtbot: Any, dialogs: Any) -> None:
    fork(window, qtbot)
    window.document.set_setting("end_time", 1e9)
    window.live_run.set_speed(float("inf"))
    assert window.compare.ghost_run()
    qtbot.waitUntil(lambda: window.compare.ghost_views.last is not None, timeout=30_000)
    thread = window.live_run.worker_thread
    assert thread is not None and thread.isRunning()
    window.close()  # Discard is the scripted answer to both questions
    assert not window.isVisible()
    assert not window.live_run.running and thread.isFinished()
