"""The Help menu: the bundled documentation, the keyboard shortcuts, and About.

The documentation window renders the README and ``docs/*.md`` (bundled with the app) with
Qt's own Markdown support; the shortcuts list is read from the window's actions, so it
can never disagree with them.
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.resources import docs_root
from engine.version import queuestudio_version

#: Keys of the canvas that are not actions (so not in any menu).
CANVAS_KEYS = (
    ("Tab", "Add a node by typing its name"),
    ("Arrow keys", "Move the selected nodes (Shift: five grid steps)"),
    ("Alt+Arrow keys", "Select the nearest node that way (Alt+Shift: add it to the selection)"),
    ("Enter", "Edit the selection in the inspector"),
    ("Space+drag, middle-drag", "Pan the canvas"),
    ("Ctrl+wheel, pinch", "Zoom"),
    ("Enter / Esc in a field during a run", "Apply / take back the typed value"),
)


def documentation_pages() -> list[Path]:
    """The README, then the pages of ``docs/`` by name (whatever of them is bundled)."""
    root = docs_root()
    pages = [root.parent / "README.md"] if (root.parent / "README.md").is_file() else []
    return pages + sorted(root.glob("*.md"))


class DocumentationWindow(QDialog):
    """The bundled documentation: pages on the left, the page on the right; links between
    pages open in place, links elsewhere in the web browser."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Queue Studio Documentation")
        self.resize(980, 720)
        self.pages = QListWidget(self)
        self.pages.setAccessibleName("Documentation pages")
        self.pages.setMaximumWidth(220)
        self.browser = QTextBrowser(self)
        self.browser.setAccessibleName("Documentation page")
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._follow)
        layout = QHBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(self.browser, 1)
        for path in documentation_pages():
            item = QListWidgetItem(_title(path), self.pages)
            item.setData(Qt.ItemDataRole.UserRole, str(path))
        self.pages.currentItemChanged.connect(
            lambda item, _old: item and self.show_page(Path(item.data(Qt.ItemDataRole.UserRole)))
        )
        if self.pages.count():
            self.pages.setCurrentRow(0)
        else:
            self.browser.setMarkdown(
                "# Documentation\n\nThe documentation is not bundled with this installation. "
                "It is in the `docs/` folder and the README of Queue Studio's source."
            )

    def show_page(self, path: Path) -> None:
        """Show the Markdown page ``path``."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            text = f"# {path.name}\n\nCannot read this page: {exc}"
        self.browser.document().setBaseUrl(QUrl.fromLocalFile(str(path)))
        self.browser.setMarkdown(text)
        self.current = path

    def _follow(self, url: QUrl) -> None:
        target = self.browser.document().baseUrl().resolved(url) if url.isRelative() else url
        local = Path(target.toLocalFile()) if target.isLocalFile() else None
        if local is not None and local.suffix == ".md" and local.is_file():
            for row in range(self.pages.count()):
                if Path(self.pages.item(row).data(Qt.ItemDataRole.UserRole)) == local:
                    self.pages.setCurrentRow(row)
                    return
            self.show_page(local)
        else:
            QDesktopServices.openUrl(target)


def _title(path: Path) -> str:
    """A page's first heading, or its file name."""
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    except OSError:
        pass
    return path.stem


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str]]:
    """``(keys, what)`` for every action of the window that has a shortcut, then the canvas keys."""
    rows: dict[str, tuple[str, str]] = {}
    for action in window.findChildren(QAction):
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        text = action.text().replace("&", "").rstrip("…").strip()
        if keys and text:
            rows.setdefault(text, (", ".join(keys), text))
    return sorted(rows.values(), key=lambda row: row[1].lower()) + list(CANVAS_KEYS)


class ShortcutsDialog(QDialog):
    """Every keyboard shortcut of the window, in a table."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(560, 620)
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (keys, what) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(keys))
            self.table.setItem(r, 1, QTableWidgetItem(what))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)


def about_text() -> str:
    """What About says: version, licence, and the versions of what the app runs on."""
    return (
        f"<h3>Queue Studio {queuestudio_version()}</h3>"
        "<p>Draw queueing models, run them live, and compare with queueing theory.</p>"
        "<p>Licence: MIT (see the LICENSE file).</p>"
        f"<p>Python {platform.python_version()} · Qt {qVersion()} · PySide6 {PySide6.__version__} · "
        f"numpy {np.__version__}<br>{platform.system()} {platform.machine()}</p>"
    )


def install_help_menu(window: QMainWindow) -> QMenu:
    """Add Help ▸ Documentation (F1), Keyboard Shortcuts (Ctrl+/) and About to ``window``."""
    menu = window.menuBar().addMenu("&Help")

    def documentation() -> None:
        dialog = DocumentationWindow(window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def shortcuts() -> None:
        dialog = ShortcutsDialog(window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def about() -> None:
        box = QMessageBox(
            QMessageBox.Icon.NoIcon, "About Queue Studio", about_text(), QMessageBox.StandardButton.Ok, window
        )
        box.setIconPixmap(window.windowIcon().pixmap(64, 64))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    for text, slot, keys in (
        ("&Documentation", documentation, QKeySequence.StandardKey.HelpContents),
        ("&Keyboard Shortcuts", shortcuts, QKeySequence("Ctrl+/")),
        ("&About Queue Studio", about, None),
    ):
        action = menu.addAction(text)
        if isinstance(keys, QKeySequence.StandardKey):
            action.setShortcuts(keys)
        elif keys is not None:
            action.setShortcut(keys)
        action.triggered.connect(slot)
    return menu
