"""The dialog that offers the documents a crashed Queue Studio left unsaved.

It lists every orphaned recovery file (see :mod:`desktop.autosave`), one line per crashed
window, with the document's name, where it was saved (or "never saved"), when it was last
autosaved and how many problems the model has. Each restorable one has a check box,
ticked by default. The buttons:

- **Restore Checked** restores the ticked documents; the others are kept for next time;
- **Not Now** (also Escape or closing the dialog) restores nothing and keeps every file;
- **Discard Checked…** deletes the ticked files after asking once more; the others are kept.

Damaged files are listed without a check box, with the reason and where they were moved.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.autosave import Orphan


class Choice(Enum):
    """What the user decided for the ticked documents."""

    LATER = "later"
    RESTORE = "restore"
    DISCARD = "discard"


def describe(orphan: Orphan) -> str:
    """The two lines shown for ``orphan``."""
    where = orphan.original_path or "never saved"
    if orphan.damaged:
        return f"A damaged recovery file from {orphan.when}: it cannot be restored.\nKept as {orphan.path} ({orphan.damage})"
    count = len(orphan.problems)
    state = f"{count} problem{'s' if count != 1 else ''} to fix before it can run" if count else "no problems"
    return f"{orphan.title} — autosaved {orphan.when}\n{where} · {state}"


class RecoveryDialog(QDialog):
    """Lists ``found`` orphans; after it closes, :attr:`choice` and :meth:`checked` say what to do."""

    def __init__(self, found: list[Orphan], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Restore Unsaved Changes")
        self.setModal(True)
        # Restorable documents first (newest first, as found), then the damaged files.
        self.orphans = [o for o in found if not o.damaged] + [o for o in found if o.damaged]
        self.choice = Choice.LATER
        restorable = [o for o in found if not o.damaged]
        count = len(restorable)
        intro = "Queue Studio did not close normally."
        if count:
            intro += (
                f" {'This document has' if count == 1 else f'These {count} documents have'} unsaved changes."
                " Tick the ones to restore; the others are kept and offered again next time."
            )
        else:
            intro += " Its recovery files are damaged and cannot be restored; they were kept for you to inspect."
        self.intro = QLabel(intro, self)
        self.intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("recovery_list")
        self._items: list[QListWidgetItem] = []
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for orphan in self.orphans:
            item = QListWidgetItem(describe(orphan), self.list)
            item.setToolTip("\n".join(orphan.problems[:20]) if not orphan.damaged else str(orphan.path))
            if orphan.damaged:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            else:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked)
            self._items.append(item)
        self.list.itemChanged.connect(lambda _item: self._update_buttons())
        buttons = QDialogButtonBox(self)
        self.restore_button = QPushButton("&Restore Checked", self)
        self.later_button = QPushButton("&Not Now", self)
        self.discard_button = QPushButton("&Discard Checked…", self)
        self.restore_button.setToolTip("Open each ticked document in its own window; keep the others for next time")
        self.later_button.setToolTip("Restore nothing now; every document is offered again next time")
        self.discard_button.setToolTip("Delete the unsaved changes of the ticked documents (asks once more)")
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.later_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.restore_button.clicked.connect(self._restore)
        self.later_button.clicked.connect(self.reject)
        self.discard_button.clicked.connect(self._discard)
        for button in (self.restore_button, self.later_button, self.discard_button):
            button.setAutoDefault(False)
        self.restore_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(640, 160 + 48 * min(len(found), 8))
        if not count:
            self.restore_button.hide()
            self.discard_button.hide()
            self.later_button.setText("&OK")
        self._update_buttons()

    def set_checked(self, index: int, on: bool) -> None:
        """Tick or untick the ``index``-th listed document (as a click on its box does)."""
        self._items[index].setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def checked(self) -> list[Orphan]:
        """The ticked (restorable) documents, in the listed order."""
        return [
            orphan
            for orphan, item in zip(self.orphans, self._items, strict=True)
            if not orphan.damaged and item.checkState() == Qt.CheckState.Checked
        ]

    def _update_buttons(self) -> None:
        any_checked = bool(self.checked())
        self.restore_button.setEnabled(any_checked)
        self.discard_button.setEnabled(any_checked)

    def _restore(self) -> None:
        self.choice = Choice.RESTORE
        self.accept()

    def _discard(self) -> None:
        chosen = self.checked()
        names = ", ".join(f"“{o.title}”" for o in chosen)
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "Discard Unsaved Changes",
            f"Delete the unsaved changes to {names}? This cannot be undone.",
            buttons.Discard | buttons.Cancel,
            buttons.Cancel,
        )
        if answer == buttons.Discard:
            self.choice = Choice.DISCARD
            self.accept()

    def reject(self) -> None:
        self.choice = Choice.LATER
        super().reject()
