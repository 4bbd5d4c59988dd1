"""The lessons in a main window: the Lesson dock (a tab beside the run's Theory dock) holding
a :class:`~desktop.lesson_panel.LessonPanel`, and the Help ▸ Lessons menu of the bundled
examples that carry a lesson. ``MainWindow.start_lesson(path)`` uses both."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QMenu, QScrollArea

from desktop.document import ModelDocument
from desktop.lesson_panel import LessonPanel
from engine.model.lesson import lesson_problems

if TYPE_CHECKING:
    from desktop.run.controller import LiveRunController


def lesson_examples(paths: list[Path]) -> list[tuple[Path, str]]:
    """``(path, lesson title)`` of the model files among ``paths`` that hold a valid lesson."""
    from engine.model import ModelError, open_model

    found = []
    for path in paths:
        try:
            model, _report = open_model(path)
        except ModelError:
            continue
        if model.lesson is not None and not lesson_problems(model.lesson):
            found.append((path, str(model.lesson["title"])))
    return found


def install_lessons(
    window: QMainWindow, document: ModelDocument, live_run: LiveRunController
) -> tuple[QDockWidget, LessonPanel]:
    """Add the Lesson dock (object name ``lesson``, hidden until a lesson starts; a tab beside
    the run's Theory dock when there is one) to ``window``: the :class:`LessonPanel` in a
    scroll area, so the dock can be made as small as the window needs without squeezing the
    step."""
    panel = LessonPanel(document, live_run)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(panel)
    dock = QDockWidget("Lesson", window)
    dock.setObjectName("lesson")
    dock.setWidget(scroll)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    def say_done(text: str) -> None:  # only to a student following the lesson, not to anyone opening the example
        if dock.isVisible():
            window.statusBar().showMessage(f"✓ {text}", 6000)

    panel.action_completed.connect(say_done)
    # A tab beside the run's Theory, Results and Events: a dock of its own under them would
    # push the window past 800 px high, and the panel shows theory and simulation itself.
    theory = window.findChild(QDockWidget, "run_theory")
    if theory is not None and window.dockWidgetArea(theory) == Qt.DockWidgetArea.RightDockWidgetArea:
        window.tabifyDockWidget(theory, dock)
        theory.raise_()
    dock.hide()
    return dock, panel


def fill_lessons_menu(menu: QMenu, paths: list[Path], start: Any) -> None:
    """One action per lesson among the model files ``paths``, calling ``start(path)``."""
    menu.clear()
    for path, title in lesson_examples(paths):
        action = menu.addAction(title)
        action.setStatusTip(f"Start the lesson in {path.name}")
        action.triggered.connect(lambda _=False, p=path: start(p))
    menu.setEnabled(not menu.isEmpty())


#: The shortcut of View ▸ Lesson panel.
LESSON_SHORTCUT = QKeySequence("Ctrl+Shift+E")
