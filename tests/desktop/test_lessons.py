"""A whole lesson driven through the widgets: start it from the Help menu's path, type a
guess, do the step's action, run, see the guess beside theory and simulation, Back and Next."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.icons import examples, examples_dir
from desktop.lesson_panel import LessonPanel
from desktop.lessons import lesson_examples
from desktop.main_window import MainWindow
from engine import theory

ALT = Qt.KeyboardModifier.AltModifier
#: Long enough past the example's 1000 s warm-up for a mean, short enough for a test.
END_TIME = 1600.0


def run_to_end(window: MainWindow, qtbot: Any) -> None:
    """Press F5 where the keyboard is and wait for the run to finish."""
    live = window.live_run
    window.activateWindow()
    qtbot.waitActive(window, timeout=20000)
    with qtbot.waitSignal(live.state_changed, timeout=60000, check_params_cb=lambda s: s == "finished"):
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_F5)


def guess(panel: LessonPanel, qtbot: Any, text: str) -> None:
    panel.guess_field.setFocus()
    panel.guess_field.clear()
    qtbot.keyClicks(panel.guess_field, text)
    qtbot.keyClick(panel.guess_field, Qt.Key.Key_Return)


def shorten(window: MainWindow) -> None:
    window.live_run.change_setting("end_time", END_TIME)


def test_the_bundled_lessons_are_listed_in_the_help_menu(window: MainWindow) -> None:
    titles = [a.text() for a in window.lessons_menu.actions()]
    found = lesson_examples(examples())
    assert titles == [title for _path, title in found]
    assert len(titles) >= 5
    stems = {path.stem for path, _title in found}
    assert {"littles_law", "mm1", "pooling", "md1", "tandem"} <= stems
    assert window.lessons_menu.menuAction() in window.help_menu.actions()


def test_a_whole_lesson_guess_act_run_compare_back_and_next(window: MainWindow, qtbot: Any) -> None:
    assert window.start_lesson(examples_dir() / "mm1.json")
    panel = window.lesson_panel
    assert window.lesson_dock.isVisible()
    assert window.focusWidget() is panel.guess_field  # the keyboard is in the lesson
    assert window.document.path is None  # the bundled file is never overwritten
    assert panel.title_label.text().startswith("The hockey stick")
    assert panel.progress_label.text() == "Step 1 of 4"
    assert panel.action_label.text().startswith("To do: Press Run")
    assert not panel.back_button.isEnabled() and panel.next_button.isEnabled()
    shorten(window)

    # Step 1: predict, then run.
    guess(panel, qtbot, "5")
    assert panel.answer() is not None and panel.answer().guess == 5.0
    assert "now press Run" in panel.result_label.text()
    run_to_end(window, qtbot)
    answer = panel.answer()
    assert answer is not None and answer.compared
    assert answer.theory == pytest.approx(theory.mm1(0.8, 1.0).mean_response)
    simulated = window.live_run.last_batch.results["cpu"]["mean_response"]
    assert answer.simulated == pytest.approx(simulated)
    text = panel.result_label.text()
    assert "Your guess: 5 s" in text and "Theory: 5 s" in text and f"Simulation: {simulated:.3g} s" in text
    assert panel.action_label.text().startswith("✓ Done: Press Run")

    # Step 2: Next with the keyboard; the action is done in the inspector, as a student would.
    qtbot.keyClick(panel.next_button, Qt.Key.Key_Space)
    assert panel.progress_label.text() == "Step 2 of 4"
    assert panel.action_label.text() == "To do: Set arrivals.rate to 0.9"
    assert panel.guess_field.text() == ""
    guess(panel, qtbot, "10")
    window.scene.select(["arrivals"])
    rate = window.inspector.fields["rate"]
    rate.line.setFocus()
    rate.line.selectAll()
    qtbot.keyClicks(rate.line, "0.9")
    qtbot.keyClick(rate.line, Qt.Key.Key_Return)
    assert window.document.node("arrivals").params["rate"] == 0.9
    assert panel.action_label.text() == "✓ Done: Set arrivals.rate to 0.9"
    assert window.statusBar().currentMessage() == "✓ Lesson step 2 done: Set arrivals.rate to 0.9"
    window.document.undo_stack.undo()  # undone, the step is not done any more
    assert panel.action_label.text().startswith("To do:")
    window.document.undo_stack.redo()
    assert panel.action_label.text().startswith("✓ Done:")
    run_to_end(window, qtbot)
    second = panel.answer()
    assert second is not None and second.theory == pytest.approx(theory.mm1(0.9, 1.0).mean_response)
    assert second.simulated == pytest.approx(window.live_run.last_batch.results["cpu"]["mean_response"])
    assert second.note == ""

    # Back: the first answer is still there; the table lists both.
    qtbot.keyClick(panel.back_button, Qt.Key.Key_Space)
    assert panel.progress_label.text() == "Step 1 of 4"
    assert panel.guess_field.text() == "5"
    assert "Theory: 5 s" in panel.result_label.text()
    table = panel.answers_table
    assert table.rowCount() == 2
    assert [table.item(r, 1).text() for r in range(2)] == ["5 s", "10 s"]
    assert table.item(1, 2).text() == "10 s"

    # Through to the last step: Next is off there.
    for _ in range(3):
        panel.next()
    assert panel.progress_label.text() == "Step 4 of 4" and not panel.next_button.isEnabled()


def test_a_guess_counts_only_for_runs_started_after_it(window: MainWindow, qtbot: Any) -> None:
    assert window.start_lesson(examples_dir() / "tandem.json")
    panel = window.lesson_panel
    shorten(window)
    run_to_end(window, qtbot)  # no guess yet: nothing to compare
    assert panel.answer() is None
    assert panel.action_label.text().startswith("✓ Done")
    guess(panel, qtbot, "4")
    assert not panel.answer().compared
    assert "now press Run" in panel.result_label.text()
    run_to_end(window, qtbot)
    assert panel.answer().compared and panel.answer().theory == pytest.approx(5.0)


def test_a_run_without_the_steps_change_says_so(window: MainWindow, qtbot: Any) -> None:
    assert window.start_lesson(examples_dir() / "md1.json")
    panel = window.lesson_panel
    shorten(window)
    panel.next()
    assert panel.action_label.text().startswith("To do: Set machine.service_time to exponential")
    guess(panel, qtbot, "4")
    run_to_end(window, qtbot)
    answer = panel.answer()
    assert answer.compared and "this run did not have machine.service_time" in answer.note
    assert answer.theory == pytest.approx(theory.md1(0.8, 1.0).mean_wait)  # the model as it ran


def test_an_add_action_is_done_when_a_node_of_that_kind_is_added(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    data = json.loads((examples_dir() / "mm1.json").read_text(encoding="utf-8"))
    data["lesson"] = {
        "version": 1,
        "title": "Add one",
        "steps": [{"text": "Add a server.", "action": {"add": "server"}}],
    }
    path = tmp_path / "add.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert window.start_lesson(path)
    assert window.document.path == str(path)
    panel = window.lesson_panel
    assert panel.action_label.text().startswith("To do: Add a")
    canvas = window.canvas
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    qtbot.keyClicks(canvas.quick_add.field, "server")
    qtbot.keyClick(canvas.quick_add.field, Qt.Key.Key_Return)
    assert panel.action_label.text().startswith("✓ Done: Add a")


def test_a_model_without_a_lesson_or_with_a_broken_one(window: MainWindow, tmp_path: Path) -> None:
    assert not window.start_lesson(examples_dir() / "mmc.json")
    assert "has no lesson" in window.statusBar().currentMessage()
    panel = window.lesson_panel
    assert panel.title_label.text() == "No lesson"
    data = json.loads((examples_dir() / "mm1.json").read_text(encoding="utf-8"))
    data["lesson"]["steps"][0]["predict"]["metric"] = "cpu.speed"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert window.open_path(path)  # the model opens; its lesson is not shown
    assert panel.lesson is None
    assert "'speed' is not a metric" in panel.text_label.text()


def test_answers_are_kept_when_the_lesson_is_started_again(window: MainWindow, qtbot: Any) -> None:
    assert window.start_lesson(examples_dir() / "pooling.json")
    panel = window.lesson_panel
    guess(panel, qtbot, "3.5")
    window.new_document()
    assert panel.lesson is None and panel.answers_table.rowCount() == 0
    assert window.start_lesson(examples_dir() / "pooling.json")
    assert panel.guess_field.text() == "3.5" and panel.answers_table.rowCount() == 1


def test_the_lesson_dock_toggles_from_the_keyboard(window: MainWindow, qtbot: Any) -> None:
    toggle = window.lesson_dock.toggleViewAction()
    assert toggle in window.view_menu.actions()
    assert not toggle.shortcut().isEmpty()
    assert not window.lesson_dock.isVisible()
    toggle.trigger()
    assert window.lesson_dock.isVisible()
    assert window.focusWidget() is window.lesson_panel.guess_field  # mm1.json carries a lesson
    toggle.trigger()
    assert not window.lesson_dock.isVisible()


def test_a_stopped_run_is_not_compared_and_says_why(window: MainWindow, qtbot: Any) -> None:
    assert window.start_lesson(examples_dir() / "mm1.json")
    panel = window.lesson_panel
    live = window.live_run
    live.change_setting("end_time", 1e7)  # far longer than the test waits
    guess(panel, qtbot, "5")
    live.run()
    qtbot.waitUntil(lambda: live.last_batch is not None, timeout=20000)
    with qtbot.waitSignal(live.state_changed, timeout=20000, check_params_cb=lambda s: s == "stopped"):
        live.stop()
    assert not panel.answer().compared
    assert "stopped before its end time" in panel.result_label.text()
    assert panel.action_label.text().startswith("To do: Press Run")
