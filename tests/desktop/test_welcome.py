"""The welcome page (issue 15): shown when the app starts without a file, with the examples
as thumbnails drawn from the models, recent files, New and the lessons; keyboard reachable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QDockWidget, QListWidget

from desktop import app as app_module
from desktop.icons import examples
from desktop.main_window import MainWindow
from desktop.welcome import PATH_ROLE, THUMBNAIL, WelcomePage, thumbnail

ROOT = Path(__file__).resolve().parents[2]


def welcome_window(qtbot: Any, tmp_path: Path) -> tuple[MainWindow, WelcomePage]:
    win = MainWindow(recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(win)
    page = win.show_welcome()
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    return win, page


def test_started_without_a_file_the_window_shows_the_welcome_page(qtbot: Any, monkeypatch: Any) -> None:
    seen: list[tuple[bool, bool]] = []  # (welcome page shown, every dock hidden) when rendered

    def screenshot(window: MainWindow, out: str, run_for: float | None = None) -> int:
        seen.append((window.showing_welcome(), all(d.isHidden() for d in window.findChildren(QDockWidget))))
        window.recovery.close()
        return 0

    monkeypatch.setattr(app_module, "screenshot", screenshot)
    assert app_module.main(["--screenshot", "unused.png"]) == 0
    assert seen == [(True, True)]


def test_the_gallery_shows_every_example_with_a_thumbnail_of_its_model(qtbot: Any, tmp_path: Path) -> None:
    win, page = welcome_window(qtbot, tmp_path)
    paths = [page.gallery.item(i).data(PATH_ROLE) for i in range(page.gallery.count())]
    assert paths == [str(p) for p in examples()]
    for i in range(page.gallery.count()):
        assert not page.gallery.item(i).icon().isNull()
    # The thumbnail is the model drawn: its cards' accent colours are in it (not a blank).
    image = thumbnail(ROOT / "resources" / "examples" / "mm1.json").toImage()
    assert image.size() == THUMBNAIL
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
    assert len(colours) > 20
    background = image.pixelColor(1, 1)
    assert any(QColor(c) != background and QColor(c).saturation() > 100 for c in colours)


def test_enter_on_an_example_opens_it_and_brings_back_the_canvas(qtbot: Any, tmp_path: Path) -> None:
    win, page = welcome_window(qtbot, tmp_path)
    page.gallery.setFocus()
    page.gallery.setCurrentRow(4)
    wanted = page.gallery.currentItem().data(PATH_ROLE)
    with qtbot.waitSignal(page.openRequested) as signal:
        qtbot.keyClick(page.gallery, Qt.Key.Key_Return)
    assert signal.args == [wanted]
    QApplication.processEvents()
    assert not win.showing_welcome() and win.pages.currentWidget() is win.canvas
    assert win.document.path is None  # a bundled example opens as an untitled copy
    assert win.document.model.name == json.loads(Path(wanted).read_text())["name"]
    assert win.inspector_dock.isVisible() and win.findChild(QDockWidget, "run_dashboard").isVisible()
    # The panels come back in the default layout, without growing the window.
    assert (win.width(), win.height()) == (1280, 800)
    assert win.canvas.width() * win.canvas.height() >= 0.45 * 1280 * 800


def test_new_and_recent_files_from_the_keyboard(qtbot: Any, tmp_path: Path) -> None:
    model = tmp_path / "mine.json"
    model.write_text((ROOT / "resources" / "examples" / "tandem.json").read_text())
    win = MainWindow(recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(win)
    assert win.open_path(model)
    page = win.show_welcome()
    win.show()
    qtbot.waitExposed(win)
    assert win.showing_welcome()
    assert page.recent_list.item(0).data(PATH_ROLE) == str(model.resolve())
    with qtbot.waitSignal(page.openRequested) as signal:
        page.recent_list.setFocus()
        qtbot.keyClick(page.recent_list, Qt.Key.Key_Return)
    assert signal.args == [str(model.resolve())]
    assert win.document.path == str(model.resolve())
    win.show_welcome()
    page.new_button.setFocus()
    with qtbot.waitSignal(page.newRequested):
        qtbot.keyClick(page.new_button, Qt.Key.Key_Space)
    assert not win.showing_welcome() and win.document.model.nodes == []


def test_everything_on_the_page_is_reached_with_tab(qtbot: Any, tmp_path: Path) -> None:
    win, page = welcome_window(qtbot, tmp_path)
    page.setFocus()
    QApplication.processEvents()
    reached = []
    for _ in range(6):
        reached.append(QApplication.focusWidget())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    for widget in (page.new_button, page.open_button, page.lessons, page.recent_list, page.gallery):
        assert widget in reached
    for widget in page.findChildren(QListWidget):
        assert widget.accessibleName()


def test_lessons_are_the_examples_with_a_lesson_key(qtbot: Any, tmp_path: Path) -> None:
    data = json.loads((ROOT / "resources" / "examples" / "mm1.json").read_text())
    data["lesson"] = {"version": 1, "title": "Little's law by hand", "steps": []}
    lesson = tmp_path / "lesson.json"
    lesson.write_text(json.dumps(data))
    page = WelcomePage(lambda: [ROOT / "resources" / "examples" / "tandem.json", lesson], lambda: [])
    qtbot.addWidget(page)
    titles = [page.lessons.item(i).text() for i in range(page.lessons.count())]
    assert "Little's law by hand" in titles
    row = titles.index("Little's law by hand")
    page.show()
    page.lessons.setFocus()
    page.lessons.setCurrentRow(row)
    with qtbot.waitSignal(page.lessonRequested) as signal:
        qtbot.keyClick(page.lessons, Qt.Key.Key_Return)
    assert signal.args == [str(lesson)]
