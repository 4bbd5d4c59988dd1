"""The main window: files, examples, undo shortcuts, title, settings, autosave and recovery."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox, QToolBar

from desktop.autosave import orphans
from desktop.commands import SetParams
from desktop.main_window import MainWindow
from engine.model import load_model

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "examples").glob("*.json"))


def save_as(window: MainWindow, monkeypatch: pytest.MonkeyPatch, path: Path) -> bool:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    return window.save_as()


def test_title_shows_unsaved_changes(window: MainWindow) -> None:
    assert window.windowTitle() == "M/M/1[*] — Queue Studio" and not window.isWindowModified()
    window.document.undo_stack.push(SetParams(window.document, "cpu", {"concurrency": 2}))
    assert window.isWindowModified()
    window.document.undo_stack.undo()
    assert not window.isWindowModified()


def test_undo_and_redo_shortcuts(window: MainWindow, qtbot: Any) -> None:
    window.scene.select(["cpu"])
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert not window.document.has_node("cpu")
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.has_node("cpu") and len(window.document.model.links) == 2
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not window.document.has_node("cpu")


def test_save_reopen_gives_the_same_document(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch, qtbot: Any, tmp_path: Path
) -> None:
    window.canvas.editor.add_node("router", window.canvas.visible_scene_rect().center())
    window.document.set_setting("name", "Edited")
    target = tmp_path / "edited.json"
    assert save_as(window, monkeypatch, target)
    assert not window.isWindowModified() and window.windowTitle() == "edited.json[*] — Queue Studio"
    assert load_model(target, check_graph=False).to_dict() == window.document.model.to_dict()
    other = MainWindow(recovery_dir=tmp_path / "recovery2")
    qtbot.addWidget(other)
    assert other.open_path(target)
    assert other.document.model.to_dict() == window.document.model.to_dict()
    assert other.document.path == str(target)
    assert QSettings().value("recent_files")[0] == str(target.resolve())
    assert other.recent_menu.actions()[0].text() == "edited.json"


def test_save_writes_to_the_same_file_without_asking(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "m.json"
    assert save_as(window, monkeypatch, target)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: pytest.fail("asked")))
    window.document.set_param("cpu", "concurrency", 3)
    window.document.undo_stack.push(SetParams(window.document, "cpu", {"queue_capacity": 5}))
    assert window.save()
    assert json.loads(target.read_text())["nodes"][1]["params"]["queue_capacity"] == 5


def test_a_file_that_is_no_model_shows_every_reason_and_keeps_the_document(
    window: MainWindow, dialogs: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "format": "queuestudio-model",
                "version": 1,
                "nodes": [{"id": "a", "kind": "server", "colour": "red"}, {"kind": "sink"}],
            }
        )
    )
    before = window.document.model.to_dict()
    assert not window.open_path(bad)
    [(kind, title, text)] = dialogs.calls
    assert kind == "warning" and "unknown field 'colour'" in text and "node 1: id must be" in text
    assert window.document.model.to_dict() == before and window.document.path is None


def test_a_model_with_problems_opens_with_each_one_badged(window: MainWindow, dialogs: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "format": "queuestudio-model",
                "version": 1,
                "nodes": [
                    {"id": "a", "kind": "server", "params": {"service_time": {"dist": "exponential", "mean": -1}}},
                    {"id": "b", "kind": "teleporter"},
                ],
            }
        )
    )
    assert window.open_path(bad) and not dialogs.calls
    assert window.document.path == str(bad) and set(window.scene.nodes) == {"a", "b"}
    assert "with 5 problems to fix before it can run" in window.statusBar().currentMessage()
    window.scene.refresh_markers()
    assert "service_time.mean" in window.node_item("a").badge.toolTip()
    assert "teleporter" in window.node_item("b").badge.toolTip() and window.node_item("b").badge.error
    tip = window.problems_label.toolTip()
    assert "service_time.mean" in tip and "teleporter" in tip and "no source" in tip
    window.scene.select(["b"])  # the inspector shows a node of a kind it does not know
    window.scene.select(["a"])
    assert window.grab().width() > 0


def test_every_example_is_listed_with_its_description(window: MainWindow) -> None:
    names = {a.text(): a.toolTip() for a in window.examples_menu.actions()}
    assert len(names) == len(EXAMPLES)
    for path in EXAMPLES:
        data = json.loads(path.read_text())
        assert names[data["name"]] == data["description"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_opens_and_renders(window: MainWindow, example: Path, tmp_path: Path, dialogs: Any) -> None:
    action = next(
        a for a in window.examples_menu.actions() if a.statusTip() == json.loads(example.read_text())["description"]
    )
    action.trigger()
    assert not dialogs.calls
    assert window.document.model.to_dict() == load_model(example, check_graph=False).to_dict()
    assert window.document.path is None and set(window.scene.nodes) == {n.id for n in window.document.model.nodes}
    window.canvas.fit_to_view()
    out = tmp_path / f"{example.stem}.png"
    assert window.grab().save(str(out))
    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 500


def test_closing_with_unsaved_changes_asks_first(window: MainWindow, dialogs: Any) -> None:
    window.document.undo_stack.push(SetParams(window.document, "cpu", {"concurrency": 2}))
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not window.close()
    assert window.isVisible() and dialogs.of("question")
    dialogs.answer = QMessageBox.StandardButton.Discard
    assert window.close()


def test_new_after_discarding_gives_an_empty_model(window: MainWindow, dialogs: Any) -> None:
    window.document.undo_stack.push(SetParams(window.document, "cpu", {"concurrency": 2}))
    window.new_document()
    assert window.document.model.nodes == [] and not window.scene.nodes and not window.isWindowModified()
    assert window.document.undo_stack.count() == 0


def test_geometry_and_view_options_persist(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    window.resize(700, 520)
    window.snap_action.setChecked(False)
    window.close()
    again = MainWindow(recovery_dir=tmp_path / "r")
    qtbot.addWidget(again)
    assert again.size().width() == 700 and not again.snap_action.isChecked() and not again.scene.snap_enabled


def test_autosave_writes_a_recovery_file_while_modified(qtbot: Any, tmp_path: Path) -> None:
    win = MainWindow(recovery_dir=tmp_path / "rec", autosave_ms=20)
    qtbot.addWidget(win)
    win.open_initial(None)
    assert not win.recovery.path.exists()
    win.document.undo_stack.push(SetParams(win.document, "cpu", {"concurrency": 5}))
    qtbot.waitUntil(win.recovery.path.exists, timeout=3000)
    saved = json.loads(win.recovery.path.read_text())
    assert saved["model"]["nodes"][1]["params"]["concurrency"] == 5
    assert orphans(tmp_path / "rec") == []  # its own process still holds the lock
    win.document.undo_stack.undo()
    assert not win.recovery.path.exists()


def test_the_run_features_fill_the_run_toolbar(window: MainWindow) -> None:
    toolbar = window.findChild(QToolBar, "run")
    assert toolbar is window.run_toolbar and toolbar.isVisible()
    labels = [a.text().replace("&", "") for a in toolbar.actions()]
    assert any(label.startswith("Run") for label in labels), labels
    assert window.node_item("cpu") is window.scene.nodes["cpu"] and window.node_item("nope") is None
    assert window.canvas.canvas_scene is window.scene and window.document is window.scene.document
    assert window.dockWidgetArea(window.inspector_dock) == Qt.DockWidgetArea.LeftDockWidgetArea


def test_examples_are_listed_in_teaching_order(window: MainWindow) -> None:
    names = [a.text() for a in window.examples_menu.actions()]
    assert len(names) == len(EXAMPLES)
    assert names[:7] == ["M/M/1", "Little's law", "M/M/3", "Pooling", "M/D/1", "M/M/1/K", "Tandem line"]
    assert names[-1] == "Closed loop: users, web tier, database"
