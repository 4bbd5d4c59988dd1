"""Help ▸ Documentation, Keyboard Shortcuts and About."""

from __future__ import annotations

import platform
from typing import Any

from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.help import DocumentationWindow, ShortcutsDialog, shortcut_rows
from desktop.main_window import MainWindow
from engine.version import queuestudio_version


def _action(window: MainWindow, text: str) -> Any:
    return next(a for a in window.help_menu.actions() if a.text().replace("&", "") == text)


def test_documentation_shows_the_readme_and_every_docs_page(window: MainWindow, qtbot: Any) -> None:
    _action(window, "Documentation").trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, DocumentationWindow) and w.isVisible())
    titles = [dialog.pages.item(i).text() for i in range(dialog.pages.count())]
    assert titles[0] == "Queue Studio" and "Experiments: many runs, honestly compared" in titles
    assert "Two commands" in dialog.browser.toPlainText()
    dialog.pages.setCurrentRow(titles.index("Experiments: many runs, honestly compared"))
    assert "MSER-5" in dialog.browser.toPlainText()
    dialog.close()


def test_the_shortcuts_list_is_read_from_the_actions(window: MainWindow, qtbot: Any) -> None:
    rows = dict((what, keys) for keys, what in shortcut_rows(window))
    assert "Ctrl+L" in rows["Connect Selected Nodes"]
    assert "Ctrl+Y" in rows["Redo"]
    assert rows["Keyboard Shortcuts"] == "Ctrl+/"
    _action(window, "Keyboard Shortcuts").trigger()
    dialog = next(w for w in window.findChildren(ShortcutsDialog) if w.isVisible())
    assert dialog.table.rowCount() == len(shortcut_rows(window))
    dialog.close()


def test_about_names_the_version_the_licence_and_what_it_runs_on(window: MainWindow, qtbot: Any) -> None:
    _action(window, "About Queue Studio").trigger()
    box = next(w for w in window.findChildren(QMessageBox) if w.isVisible())
    text = box.text()
    for expected in (queuestudio_version(), "MIT", qVersion(), platform.python_version()):
        assert expected in text
    box.close()
