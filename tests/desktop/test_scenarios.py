"""Scenario B through the widgets: fork, edit B in the inspector, switch on the canvas,
undo across scenarios, save A and B apart, never lose B on close, and Run A vs B."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.main_window import MainWindow
from desktop.scenarios import differences
from engine import cli
from engine.metrics import json_safe
from engine.model import load_model


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


def test_fork_b_edits_go_to_b_and_are_marked(window: MainWindow, qtbot: Any) -> None:
    s = window.compare.scenarios
    assert not window.compare.switch.isVisible()
    fork(window, qtbot)
    assert s.active == "B" and window.compare.switch.isVisible()
    assert window.compare.switch.buttons["B"].isChecked()
    set_rate(window, qtbot, "0.5")
    assert s.model_b is not None and s.model_b.node("arrivals").params["rate"] == 0.5
    assert s.model_a.node("arrivals").params["rate"] == 0.8
    qtbot.waitUntil(lambda: "arrivals" in window.compare.marks.marks, timeout=2000)
    assert "rate: 0.8 → 0.5" in window.compare.marks.marks["arrivals"].toolTip()
    assert set(window.compare.marks.marks) == {"arrivals"}
    window.scene.select(["arrivals"])
    assert "rate: 0.8 → 0.5" in window.compare.banner.text()
    assert window.compare.field_marks.marked == ["rate"]
    rate_field = window.inspector.fields["rate"]
    assert "Scenario A: 0.8" in rate_field.toolTip() and "Scenario B: 0.5" in rate_field.toolTip()
    assert rate_field.styleSheet() and not window.inspector.fields["id"].styleSheet()
    assert "1 node differs" in window.compare.switch.note.text()
    # The switch on the canvas shows A; the mark stays on the node that differs.
    qtbot.mouseClick(window.compare.switch.buttons["A"], Qt.MouseButton.LeftButton)
    assert s.active == "A" and window.document.node("arrivals").params["rate"] == 0.8
    qtbot.waitUntil(lambda: "arrivals" in window.compare.marks.marks, timeout=2000)
    assert "Editing scenario A" in window.compare.banner.text()


def test_one_undo_stack_undoes_edits_in_the_scenario_they_were_made_in(window: MainWindow, qtbot: Any) -> None:
    s, doc = window.compare.scenarios, window.document
    fork(window, qtbot)
    set_rate(window, qtbot, "0.5")
    window.compare.actions["switch"].trigger()  # to A
    set_rate(window, qtbot, "0.6")  # an edit of A
    assert (s.model_a.node("arrivals").params["rate"], s.model_b.node("arrivals").params["rate"]) == (0.6, 0.5)
    doc.undo_stack.undo()  # A's edit
    assert s.active == "A" and s.model_a.node("arrivals").params["rate"] == 0.8
    doc.undo_stack.undo()  # the switch
    assert s.active == "B"
    doc.undo_stack.undo()  # B's edit
    assert s.model_b.node("arrivals").params["rate"] == 0.8
    doc.undo_stack.undo()  # the fork
    assert not s.has_b and s.active == "A" and not window.compare.switch.isVisible()
    for _ in range(4):
        doc.undo_stack.redo()
    assert (s.model_a.node("arrivals").params["rate"], s.model_b.node("arrivals").params["rate"]) == (0.6, 0.5)


def test_save_writes_a_and_save_b_as_writes_b(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    s = window.compare.scenarios
    fork(window, qtbot)
    set_rate(window, qtbot, "0.5")
    assert window._write(str(tmp_path / "a.json"))  # File ▸ Save while B is shown
    assert load_model(tmp_path / "a.json").node("arrivals").params["rate"] == 0.8
    assert s.b_unsaved
    assert s.save_b_as(window, str(tmp_path / "b.json"))
    assert load_model(tmp_path / "b.json").node("arrivals").params["rate"] == 0.5
    assert not s.b_unsaved


def test_closing_with_an_unsaved_b_asks_and_cancel_keeps_it(window: MainWindow, qtbot: Any, dialogs: Any) -> None:
    fork(window, qtbot)
    set_rate(window, qtbot, "0.5")
    dialogs.answer = QMessageBox.StandardButton.Cancel
    window.close()
    assert window.isVisible() and window.compare.scenarios.has_b
    assert any(title == "Scenario B Not Saved" for _k, title, _t in dialogs.of("question"))
    dialogs.answer = QMessageBox.StandardButton.Discard
    window.close()
    assert not window.isVisible()


def test_opening_another_model_drops_b_after_asking(window: MainWindow, qtbot: Any, dialogs: Any) -> None:
    fork(window, qtbot)
    set_rate(window, qtbot, "0.5")
    window.new_document()  # Discard is the scripted answer
    assert any(title == "Scenario B Not Saved" for _k, title, _t in dialogs.of("question"))
    assert not window.compare.scenarios.has_b and window.compare.scenarios.active == "A"


def test_differences_name_params_links_and_settings(window: MainWindow) -> None:
    a = window.document.model.copy()
    b = a.copy()
    b.node("cpu").params["service_time"] = {"dist": "exponential", "mean": 0.5}
    b.simulation.end_time = 500.0
    diffs = differences(a, b)
    assert diffs["cpu"] == ["service_time mean: 1 → 0.5"]
    b.node("cpu").params["service_time"] = {"dist": "constant", "value": 1.0}
    assert differences(a, b)["cpu"] == [
        'service_time: {"dist": "exponential", "mean": 1.0} → {"dist": "constant", "value": 1.0}'
    ]
    assert diffs[""] == ["simulation end_time: 20000 → 500"]
    assert differences(a, a.copy()) == {}


def _short_run(window: MainWindow, qtbot: Any) -> None:
    """Shorter runs for the comparison tests (set on A before forking, so B has them too)."""
    window.document.set_setting("end_time", 300.0)
    window.document.set_setting("warmup", 30.0)


def test_run_a_vs_b_gives_a_verdict_that_agrees_with_the_cli(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    _short_run(window, qtbot)
    fork(window, qtbot)
    set_rate(window, qtbot, "0.5")
    panel = window.compare.panel
    panel.replications_box.setValue(4)
    panel.workers_box.setValue(1)
    window.canvas.setFocus()
    with qtbot.waitSignal(panel.finished, timeout=120_000) as done:
        qtbot.keyClick(
            window.canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        )
        assert panel.busy and not window.compare.actions["run"].isEnabled()
        assert window.compare.dock.isVisible()
    comparison = done.args[0]
    assert panel.progress.value() == 1000 and not panel.busy
    text = panel.verdict_of("cpu", "mean_response")
    assert text.startswith("B cuts mean response by ") and " s (−" in text
    assert "cpu: B cuts mean response" in panel.headline.text()
    # It went into the Runs history: B − A with its half-width, what B changes, the verdicts.
    entry = window.run_history.entries[0]
    row = comparison.differences()["cpu"]["mean_response"]
    assert entry.kind == "comparison"
    assert entry.results["cpu"]["mean_response"] == row["diff"]
    assert entry.results["cpu"]["ci95"]["mean_response"] == row["ci95"]
    assert any(line.startswith("arrivals: ") for line in entry.changes)
    assert "B cuts mean response" in entry.summary
    # The same comparison from the command line, on the same seed.
    s = window.compare.scenarios
    window._write(str(tmp_path / "a.json"))
    s.save_b_as(window, str(tmp_path / "b.json"))
    out = tmp_path / "out.json"
    argv = ["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--replications", "4"]
    assert cli.main([*argv, "--workers", "1", "--quiet", "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads(json.dumps(json_safe(comparison.to_json())))


def test_a_model_compared_with_itself_shows_no_difference(window: MainWindow, qtbot: Any) -> None:
    _short_run(window, qtbot)
    fork(window, qtbot)
    panel = window.compare.panel
    panel.workers_box.setValue(1)
    panel.replications_box.setValue(3)
    window.compare.run_comparison()
    qtbot.waitUntil(lambda: not panel.busy, timeout=120_000)
    assert panel.verdict_of("cpu", "mean_response") == "no significant difference"


def test_run_a_vs_b_needs_b(window: MainWindow) -> None:
    assert not window.compare.actions["run"].isEnabled()
    assert not window.compare.run_comparison()
    assert "Fork scenario B first" in window.statusBar().currentMessage()


def test_closing_mid_comparison_cancels_it_and_leaves_no_thread_or_process(
    window: MainWindow, qtbot: Any, dialogs: Any
) -> None:
    window.document.set_setting("end_time", 200_000.0)  # far longer than the test waits
    fork(window, qtbot)
    panel = window.compare.panel
    panel.workers_box.setMaximum(2)
    panel.workers_box.setValue(2)
    panel.replications_box.setValue(4)
    before = threading.active_count()
    window.compare.run_comparison()
    qtbot.waitUntil(lambda: bool(multiprocessing.active_children()), timeout=60_000)
    dialogs.answer = QMessageBox.StandardButton.Discard
    window.close()
    assert not window.isVisible() and not panel.busy
    assert multiprocessing.active_children() == []
    assert threading.active_count() <= before
    assert panel.comparison is None


def test_the_recovery_file_holds_scenario_a_while_b_is_shown(window: MainWindow, qtbot: Any) -> None:
    fork(window, qtbot)
    set_rate(window, qtbot, "0.5")
    assert window.recovery.save_now()
    record = json.loads(window.recovery.path.read_text(encoding="utf-8"))
    rates = [n["params"]["rate"] for n in record["model"]["nodes"] if n["id"] == "arrivals"]
    assert rates == [0.8]


def test_ctrl_b_switches_and_discarding_b_is_undoable(window: MainWindow, qtbot: Any, dialogs: Any) -> None:
    s, doc = window.compare.scenarios, window.document
    fork(window, qtbot)
    set_rate(window, qtbot, "0.5")
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert s.active == "A"
    assert s.discard_b(window)  # B unsaved: asked, and Discard is the scripted answer
    assert any(title == "Scenario B Not Saved" for _k, title, _t in dialogs.of("question"))
    assert not s.has_b and not window.compare.actions["switch"].isEnabled()
    doc.undo_stack.undo()
    assert s.has_b and s.model_b is not None and s.model_b.node("arrivals").params["rate"] == 0.5
