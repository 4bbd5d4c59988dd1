"""The "add a node by typing its name" popup (Tab or double-click on the canvas)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.icons import kind_icon
from engine.model.schema import KINDS


class QuickAdd(QFrame):
    """A search field over the node kinds; Enter adds the highlighted kind, Escape closes."""

    kind_chosen = Signal(str, QPointF)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.host = parent
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.scene_pos = QPointF()
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("Add node: type a name…")
        self.field.setAccessibleName("Node kind to add")
        self.list = QListWidget(self)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for kind in KINDS.values():
            item = QListWidgetItem(kind_icon(kind.name), kind.label)
            item.setData(Qt.ItemDataRole.UserRole, kind.name)
            item.setToolTip(kind.description.replace("`", ""))
            self.list.addItem(item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.field)
        layout.addWidget(self.list)
        self.setFixedWidth(220)
        self.field.textChanged.connect(self._filter)
        self.field.installEventFilter(self)
        self.list.itemClicked.connect(lambda _item: self._choose())
        self.hide()

    def open_at(self, widget_pos: QPoint, scene_pos: QPointF) -> None:
        """Show the popup at ``widget_pos`` (in the parent) to add at ``scene_pos``."""
        self.scene_pos = QPointF(scene_pos)
        self.field.clear()
        self._filter("")  # sizes the popup to the full list first, so that it fits below
        x = min(max(widget_pos.x(), 0), max(self.host.width() - self.width(), 0))
        y = min(max(widget_pos.y(), 0), max(self.host.height() - self.height(), 0))
        self.move(x, y)
        self.show()
        self.raise_()
        self.field.setFocus(Qt.FocusReason.PopupFocusReason)

    def matches(self) -> list[str]:
        """Kind names currently listed."""
        return [
            self.list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.list.count())
            if not self.list.item(i).isHidden()
        ]

    def _filter(self, text: str) -> None:
        needle = text.strip().lower().replace(" ", "")
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            name = str(item.data(Qt.ItemDataRole.UserRole)).replace("_", "")
            hit = needle in name or needle in item.text().lower().replace(" ", "")
            item.setHidden(not hit)
            if hit and first is None:
                first = item
        shown = len(self.matches())
        self.list.setFixedHeight(max(shown, 1) * self.list.sizeHintForRow(0) + 2 * self.list.frameWidth())
        self.adjustSize()
        if first is not None:
            self.list.setCurrentItem(first)

    def _choose(self) -> None:
        item = self.list.currentItem()
        if item is None or item.isHidden():
            return
        self.hide()
        self.kind_chosen.emit(str(item.data(Qt.ItemDataRole.UserRole)), self.scene_pos)

    def _step(self, delta: int) -> None:
        rows = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
        if not rows:
            return
        current = self.list.currentRow()
        index = rows.index(current) if current in rows else 0
        self.list.setCurrentRow(rows[(index + delta) % len(rows)])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.field and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose()
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                self.host.setFocus()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._step(1 if key == Qt.Key.Key_Down else -1)
                return True
        if watched is self.field and event.type() == QEvent.Type.FocusOut and not self.list.underMouse():
            self.hide()
        return super().eventFilter(watched, event)
