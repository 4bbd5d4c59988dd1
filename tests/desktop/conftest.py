"""Fixtures of the desktop tests: isolated settings and recovery files, scripted dialogs,
and a main window on the bundled M/M/1 example.

Qt warnings fail every desktop test, except the offscreen platform's notice that it cannot
propagate size hints (it says so for every window it shows).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.app import release_clipboard
from desktop.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Make Qt warnings fail the desktop tests."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore("does not support propagateSizeHints"))


@pytest.fixture(autouse=True)
def isolated(qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """QSettings in an INI file under tmp_path, recovery files in tmp_path/recovery, the run
    history in tmp_path/history."""
    QCoreApplication.setOrganizationName("QueueStudioTests")
    QCoreApplication.setApplicationName("Queue Studio Tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setenv("QUEUESTUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setenv("QUEUESTUDIO_HISTORY_DIR", str(tmp_path / "history"))
    yield
    # What the app does when it quits (see desktop.app.release_clipboard): PySide6 6.11
    # crashes at interpreter exit if a clipboard it filled was read back and never cleared.
    release_clipboard()


class Dialogs:
    """Stands in for QMessageBox's static dialogs: records each call, returns ``answer``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.answer = QMessageBox.StandardButton.Discard

    def _record(self, kind: str) -> Any:
        def dialog(_parent: Any, title: str, text: str, *args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
            self.calls.append((kind, title, text))
            return self.answer if kind == "question" else QMessageBox.StandardButton.Ok

        return dialog

    def of(self, kind: str) -> list[tuple[str, str, str]]:
        """The calls of one kind ("question", "warning", "critical", "information")."""
        return [c for c in self.calls if c[0] == kind]


@pytest.fixture(autouse=True)
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    """No test ever blocks on a message box: every one is recorded and answered."""
    recorder = Dialogs()
    for kind in ("question", "warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(recorder._record(kind)))
    return recorder


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> MainWindow:
    """A shown main window on the bundled M/M/1 example (arrivals → cpu → done)."""
    win = MainWindow(recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(win)
    assert win.open_initial(None)
    win.resize(1100, 700)
    win.show()
    qtbot.waitExposed(win)
    return win
