"""The inspector edits the document through typed, validated fields."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QLineEdit

from desktop.inspector_fields import NumberField, TextField
from desktop.inspector_pickers import ConcurrencyField, DistributionField
from desktop.main_window import MainWindow


def retype(qtbot: Any, line: QLineEdit, text: str) -> None:
    """Replace the text of ``line`` by typing ``text`` key by key."""
    line.setFocus()
    line.selectAll()
    if not text:
        qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)


def inspect_node(window: MainWindow, node_id: str) -> dict[str, Any]:
    window.scene.select([node_id])
    assert window.inspector.mode == "node" and window.inspector.node_id == node_id
    return window.inspector.fields


def test_fields_come_from_the_schema_with_units(window: MainWindow) -> None:
    fields = inspect_node(window, "cpu")
    assert list(fields) == ["id", "label", "concurrency", "service_time", "queue_policy", "queue_capacity"]
    labels = [w.text() for w in window.inspector.widget().findChildren(QLabel)]
    assert "service time (s)" in labels and "queue capacity (requests)" in labels
    assert isinstance(fields["service_time"], DistributionField)
    assert fields["service_time"].stats.text() == "mean 1 s · CV 1"


def test_typing_a_mean_edits_the_document_in_one_undo_step(window: MainWindow, qtbot: Any) -> None:
    mean = inspect_node(window, "cpu")["service_time"].lines["mean"]
    retype(qtbot, mean, "0.25")
    doc = window.document
    assert doc.node("cpu").params["service_time"] == {"dist": "exponential", "mean": 0.25}
    assert doc.undo_stack.count() == 1
    assert window.isWindowModified()
    doc.undo_stack.undo()
    assert doc.node("cpu").params["service_time"]["mean"] == 1.0
    assert mean.text() == "1.0"
    doc.undo_stack.redo()
    assert mean.text() == "0.25"


def test_an_invalid_value_is_shown_in_place_and_never_reaches_the_document(window: MainWindow, qtbot: Any) -> None:
    field = inspect_node(window, "cpu")["service_time"]
    retype(qtbot, field.lines["mean"], "-1")
    assert "mean" in field.error and "> 0" in field.error.replace(">=", ">")
    assert window.document.node("cpu").params["service_time"]["mean"] == 1.0
    retype(qtbot, field.lines["mean"], "abc")
    assert "not a number" in field.error
    assert window.document.undo_stack.count() == 0
    retype(qtbot, field.lines["mean"], "2")
    assert field.error is None and window.document.node("cpu").params["service_time"]["mean"] == 2.0


def test_integer_fields_refuse_fractions_and_negative_counts(window: MainWindow, qtbot: Any) -> None:
    capacity = inspect_node(window, "cpu")["queue_capacity"]
    assert isinstance(capacity, NumberField)
    retype(qtbot, capacity.line, "2.5")
    assert "whole number" in capacity.error
    retype(qtbot, capacity.line, "-3")
    assert ">= 0" in capacity.error
    assert window.document.node("cpu").params["queue_capacity"] is None
    retype(qtbot, capacity.line, "10")
    assert window.document.node("cpu").params["queue_capacity"] == 10
    retype(qtbot, capacity.line, "")
    assert window.document.node("cpu").params["queue_capacity"] is None


def test_the_distribution_picker_switches_kind_by_keyboard(window: MainWindow, qtbot: Any) -> None:
    field = inspect_node(window, "cpu")["service_time"]
    field.combo.setFocus()
    while field.combo.currentData() != "uniform":
        qtbot.keyClick(field.combo, Qt.Key.Key_Down)
    assert window.document.node("cpu").params["service_time"] == {"dist": "uniform", "low": 0.0, "high": 2.0}
    assert field.stats.text() == "mean 1 s · CV 0.577"
    assert set(field.lines) == {"low", "high"}


def test_offered_load_follows_the_rates_live(window: MainWindow, qtbot: Any) -> None:
    inspect_node(window, "cpu")
    assert "ρ = 0.8" in window.inspector.rho_label.text()
    window.document.set_param("arrivals", "rate", 1.2)
    assert "ρ = 1.2" in window.inspector.rho_label.text() and "unstable" in window.inspector.rho_label.text()


def test_choosing_an_interarrival_distribution_replaces_the_rate(window: MainWindow, qtbot: Any) -> None:
    field = inspect_node(window, "arrivals")["interarrival"]
    field.combo.setFocus()
    while field.combo.currentData() != "constant":
        qtbot.keyClick(field.combo, Qt.Key.Key_Down)
    assert window.document.node("arrivals").params == {"interarrival": {"dist": "constant", "value": 1.0}}


def test_renaming_through_the_id_field(window: MainWindow, qtbot: Any) -> None:
    id_field = inspect_node(window, "cpu")["id"]
    assert isinstance(id_field, TextField)
    retype(qtbot, id_field.editor, "done")
    qtbot.keyClick(id_field.editor, Qt.Key.Key_Return)
    assert "another node" in id_field.error and window.document.has_node("cpu")
    retype(qtbot, id_field.editor, "web")
    qtbot.keyClick(id_field.editor, Qt.Key.Key_Return)
    assert window.document.has_link("arrivals", "web") and window.inspector.node_id == "web"
    assert window.node_item("web") is not None


def test_concurrency_can_become_a_dynamic_pool(window: MainWindow, qtbot: Any) -> None:
    field = inspect_node(window, "cpu")["concurrency"]
    assert isinstance(field, ConcurrencyField)
    field.combo.setCurrentIndex(field.combo.findData("dynamic"))
    field.combo.activated.emit(field.combo.currentIndex())
    assert window.document.node("cpu").params["concurrency"] == {"kind": "dynamic", "initial": 1, "min": 1, "max": 4}
    retype(qtbot, field.maximum.line, "0")
    assert field.error and window.document.node("cpu").params["concurrency"]["max"] == 4
    retype(qtbot, field.maximum.line, "8")
    assert window.document.node("cpu").params["concurrency"]["max"] == 8


def test_link_probability_is_checked_by_the_engine(window: MainWindow, qtbot: Any) -> None:
    window.scene.select([], [("cpu", "done")])
    assert window.inspector.mode == "link"
    field = window.inspector.fields["probability"]
    retype(qtbot, field.line, "1.5")
    assert "between 0 and 1" in field.error and window.document.link("cpu", "done").probability is None
    retype(qtbot, field.line, "1")
    assert window.document.link("cpu", "done").probability == 1.0


def test_simulation_settings_are_edited_with_nothing_selected(window: MainWindow, qtbot: Any) -> None:
    window.scene.clearSelection()
    fields = window.inspector.fields
    assert window.inspector.mode == "model"
    retype(qtbot, fields["end_time"].line, "500")
    assert window.document.model.simulation.end_time == 20000.0
    assert "warmup" in fields["end_time"].error
    retype(qtbot, fields["end_time"].line, "5000")
    assert window.document.model.simulation.end_time == 5000.0 and fields["end_time"].error is None
    retype(qtbot, fields["name"].editor, "My queue")
    assert window.document.model.name == "My queue" and window.document.undo_stack.count() == 2
    assert window.windowTitle().startswith("mm1.json") or "My queue" in window.windowTitle()


def test_the_inspector_is_operable_by_keyboard_alone(window: MainWindow, qtbot: Any) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.scene.select(["cpu"])
    window.canvas.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    fields = window.inspector.fields
    assert QApplication.focusWidget() is fields["id"].editor
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is fields["label"].editor
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    combo = QApplication.focusWidget()
    assert isinstance(combo, QComboBox) and fields["concurrency"].isAncestorOf(combo)
    for _ in range(6):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        if QApplication.focusWidget() is fields["service_time"].lines["mean"]:
            break
    mean = QApplication.focusWidget()
    assert mean is fields["service_time"].lines["mean"]
    mean.selectAll()
    qtbot.keyClicks(mean, "0.5")
    assert window.document.node("cpu").params["service_time"]["mean"] == 0.5


def _run_slowly(window: MainWindow, qtbot: Any) -> None:
    """Start a long run of the M/M/1 example at a low speed and wait until it is going."""
    live = window.live_run
    window.document.set_setting("end_time", 1e8)
    live.set_speed(50.0)
    live.run()
    qtbot.waitUntil(lambda: live.last_batch is not None and live.last_batch.now > 0, timeout=5000)


def test_during_a_run_a_typed_value_is_applied_on_enter_as_one_change(window: MainWindow, qtbot: Any) -> None:
    _run_slowly(window, qtbot)
    doc, live = window.document, window.live_run
    before = doc.undo_stack.count()
    field = inspect_node(window, "arrivals")["rate"]
    assert field.deferred
    retype(qtbot, field.line, "0.95")  # 0, 0.9, 0.95 would each have been a live change
    assert doc.node("arrivals").params["rate"] == 0.8
    assert field.pending and field.pending_label.isVisibleTo(field)
    assert field.line.text() == "0.95"  # the run's refreshes leave the typed text alone
    qtbot.keyClick(field.line, Qt.Key.Key_Return)
    assert doc.node("arrivals").params["rate"] == 0.95
    assert not field.pending and not field.pending_label.isVisibleTo(field)
    assert doc.undo_stack.count() == before + 1
    qtbot.waitUntil(lambda: len(live.dashboard.markers) == 1, timeout=5000)
    assert live.event_log.toPlainText().count("arrivals.rate ←") == 1
    live.stop()
    qtbot.waitUntil(lambda: live.worker_thread is None, timeout=5000)


def test_during_a_run_escape_takes_back_what_was_typed(window: MainWindow, qtbot: Any) -> None:
    _run_slowly(window, qtbot)
    field = inspect_node(window, "cpu")["service_time"]
    mean = field.lines["mean"]
    retype(qtbot, mean, "0.5")
    assert field.pending
    qtbot.keyClick(mean, Qt.Key.Key_Escape)
    assert not field.pending and mean.text() == "1.0"
    assert window.document.node("cpu").params["service_time"]["mean"] == 1.0
    qtbot.keyClick(mean, Qt.Key.Key_Return)  # nothing pending: Enter changes nothing
    assert window.document.undo_stack.count() == 0
    window.live_run.stop()
    qtbot.waitUntil(lambda: window.live_run.worker_thread is None, timeout=5000)


def test_focus_out_applies_and_after_the_run_keystrokes_apply_again(window: MainWindow, qtbot: Any) -> None:
    _run_slowly(window, qtbot)
    fields = inspect_node(window, "cpu")
    count = fields["concurrency"].count
    retype(qtbot, count.line, "2")
    assert window.document.node("cpu").params["concurrency"] == 1
    fields["queue_capacity"].line.setFocus()  # leaving the field applies it
    qtbot.waitUntil(lambda: window.document.node("cpu").params["concurrency"] == 2, timeout=2000)
    window.live_run.stop()
    qtbot.waitUntil(lambda: window.live_run.state == "stopped", timeout=5000)
    rate = inspect_node(window, "arrivals")["rate"]
    assert not rate.deferred
    retype(qtbot, rate.line, "0.5")
    assert window.document.node("arrivals").params["rate"] == 0.5 and not rate.pending


def test_ctrl_y_redoes(window: MainWindow, qtbot: Any) -> None:
    rate = inspect_node(window, "arrivals")["rate"]
    retype(qtbot, rate.line, "0.5")
    window.document.undo_stack.undo()
    assert window.document.node("arrivals").params["rate"] == 0.8
    redo = next(a for a in window.findChildren(QAction) if a.text().replace("&", "").startswith("Redo"))
    assert QKeySequence("Ctrl+Y") in redo.shortcuts()
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.document.node("arrivals").params["rate"] == 0.5


def test_during_a_run_only_what_the_running_model_can_take_is_editable(window: MainWindow, qtbot: Any) -> None:
    _run_slowly(window, qtbot)
    fields = inspect_node(window, "arrivals")
    assert fields["rate"].isEnabled() and fields["label"].isEnabled()
    for name in ("limit", "profile", "id"):
        assert not fields[name].isEnabled(), name
        assert "Cannot change during a run" in fields[name].toolTip()
    assert not inspect_node(window, "cpu")["queue_policy"].isEnabled()
    window.live_run.stop()
    qtbot.waitUntil(lambda: window.live_run.state == "stopped", timeout=5000)
    fields = inspect_node(window, "arrivals")
    assert fields["limit"].isEnabled() and "Cannot change" not in fields["limit"].toolTip()
