"""The palette: one entry per node kind of the schema, dragged onto the canvas to add it.

Enter or a double-click adds the kind in the middle of the visible canvas, so the palette
works without a mouse too.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QItemSelectionModel, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QSizePolicy, QWidget

from desktop.canvas.view import KIND_MIME
from desktop.icons import icon_size, kind_icon, kind_pixmap
from engine.model.schema import KINDS

ICON = 28


def kind_mime(kind: str) -> QMimeData:
    """The drag payload that the canvas accepts to add a ``kind`` node."""
    mime = QMimeData()
    mime.setData(KIND_MIME, kind.encode("utf-8"))
    mime.setText(kind)
    return mime


class Palette(QListWidget):
    """The node kinds with their icons; drag one onto the canvas, or press Enter on it."""

    kind_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIconSize(icon_size(ICON))
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(True)
        self.setSpacing(1)
        self.setAccessibleName("Node palette")
        self.setToolTip("Drag a node onto the canvas, or press Enter to add it")
        for kind in KINDS.values():
            item = QListWidgetItem(kind_icon(kind.name), kind.label)
            item.setData(Qt.ItemDataRole.UserRole, kind.name)
            item.setToolTip(f"<b>{kind.label}</b><br>{kind.description.replace('`', '')}")
            item.setStatusTip(kind.description.replace("`", ""))
            self.addItem(item)
        self.setCurrentRow(0, QItemSelectionModel.SelectionFlag.NoUpdate)
        self.itemActivated.connect(lambda item: self.kind_activated.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def sizeHint(self) -> QSize:
        """Tall enough for every kind, so the palette never scrolls."""
        rows = sum(self.sizeHintForRow(i) + 2 * self.spacing() for i in range(self.count()))
        return QSize(220, rows + 2 * self.frameWidth())

    def kinds(self) -> list[str]:
        """The kind names listed, in order."""
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def mimeTypes(self) -> list[str]:
        return [KIND_MIME]

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        return kind_mime(items[0].data(Qt.ItemDataRole.UserRole)) if items else QMimeData()

    def startDrag(self, supported: Qt.DropAction) -> None:
        item = self.currentItem()
        if item is None:
            return
        kind = item.data(Qt.ItemDataRole.UserRole)
        drag = QDrag(self)
        drag.setMimeData(kind_mime(kind))
        drag.setPixmap(kind_pixmap(kind, 40, self.devicePixelRatioF()))
        drag.exec(Qt.DropAction.CopyAction)
