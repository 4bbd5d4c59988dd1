"""A model built, wired, edited and run without the mouse: quick add, Alt+arrows to select,
Ctrl+L to connect, arrows to move, Enter to the inspector, then Run."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.canvas.scene import GRID
from desktop.main_window import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier


def quick_add(window: MainWindow, qtbot: Any, name: str) -> str:
    """Tab, type ``name``, Enter; returns the id of the node added (now selected)."""
    canvas = window.canvas
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    assert canvas.quick_add.isVisible()
    qtbot.keyClicks(canvas.quick_add.field, name)
    qtbot.keyClick(canvas.quick_add.field, Qt.Key.Key_Return)
    (added,) = window.scene.selected_node_ids()
    return added


def test_build_connect_edit_and_run_a_model_with_the_keyboard_only(window: MainWindow, qtbot: Any) -> None:
    window.new_document()
    doc = window.document
    source = quick_add(window, qtbot, "source")
    server = quick_add(window, qtbot, "server")
    sink = quick_add(window, qtbot, "sink")
    xs = [doc.node(n).position[0] for n in (source, server, sink)]
    assert xs == sorted(xs) and len(set(xs)) == 3  # each new node lands right of the last
    canvas = window.canvas
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_A, CTRL)  # select all
    qtbot.keyClick(canvas, Qt.Key.Key_L, CTRL)  # connect in flow order
    assert [(lk.source, lk.target) for lk in doc.model.links] == [(source, server), (server, sink)]

    window.scene.clearSelection()
    qtbot.keyClick(canvas, Qt.Key.Key_Right, ALT)  # nothing selected: the leftmost node
    assert window.scene.selected_node_ids() == [source]
    before = doc.node(source).position
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    qtbot.keyClick(canvas, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert doc.node(source).position == (before[0], before[1] + 6 * GRID)
    doc.undo_stack.undo()  # the two presses are one step
    assert doc.node(source).position == before
    doc.undo_stack.redo()

    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # into the inspector, on the first field
    rate = window.inspector.fields["rate"]
    assert QApplication.focusWidget() in (window.inspector.fields["id"].line, rate.line)
    rate.line.setFocus()
    rate.line.selectAll()
    qtbot.keyClicks(rate.line, "0.5")
    assert doc.node(source).params["rate"] == 0.5
    assert doc.report().ok, doc.report().errors

    # Run with F5, pressed where the keyboard is (the rate field), to the end of the run.
    window.activateWindow()
    qtbot.waitActive(window, timeout=20000)
    assert doc.model.simulation.end_time <= 1000  # a new model's short run
    with qtbot.waitSignal(window.live_run.state_changed, timeout=60000, check_params_cb=lambda s: s == "finished"):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F5)
    batch = window.live_run.last_batch
    assert batch is not None and batch.results[server]["completed"] > 0
    assert batch.results[sink]["count"] > 0


def test_alt_arrows_walk_the_canvas_and_alt_shift_extends_the_selection(window: MainWindow, qtbot: Any) -> None:
    canvas = window.canvas
    canvas.setFocus()
    window.scene.select(["arrivals"])
    qtbot.keyClick(canvas, Qt.Key.Key_Right, ALT)
    assert window.scene.selected_node_ids() == ["cpu"]
    qtbot.keyClick(canvas, Qt.Key.Key_Right, ALT | Qt.KeyboardModifier.ShiftModifier)
    assert set(window.scene.selected_node_ids()) == {"cpu", "done"}
    qtbot.keyClick(canvas, Qt.Key.Key_Left, ALT)
    assert window.scene.selected_node_ids() == ["arrivals"]


def test_connect_says_what_it_could_not_link(window: MainWindow, qtbot: Any) -> None:
    messages: list[str] = []
    window.canvas.editor.message_posted.connect(messages.append)
    window.scene.select(["arrivals", "cpu"])  # already linked
    assert window.canvas.editor.connect_selection() == []
    assert "already a link" in messages[-1]
    window.scene.select(["cpu"])
    assert not window.canvas.editor.actions["connect"].isEnabled()


def test_the_quick_add_popup_fits_inside_the_canvas(window: MainWindow, qtbot: Any) -> None:
    canvas = window.canvas
    canvas.open_quick_add(canvas.viewport().rect().bottomRight())
    popup = canvas.quick_add
    assert popup.height() > 100  # sized to the full list before it was placed
    assert popup.geometry().bottom() <= canvas.height() and popup.x() >= 0
    assert popup.geometry().right() <= max(canvas.width(), popup.width())
