"""The welcome page, shown in the window when Queue Studio starts without a model file: New
and Open, the lessons, the recent files, and the bundled examples as a gallery of
thumbnails drawn from the models themselves.

The page opens nothing itself: it emits :attr:`WelcomePage.openRequested` (a model file),
:attr:`WelcomePage.lessonRequested` (a model file with a lesson), :attr:`~WelcomePage.newRequested`
and :attr:`~WelcomePage.openDialogRequested`, and the window acts on them. Everything on it is
reached with Tab and opened with Enter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.canvas.scene import CanvasScene
from desktop.document import ModelDocument
from engine.model import ModelError, open_model

#: Size of an example's thumbnail in the gallery (logical pixels).
THUMBNAIL = QSize(220, 120)
PATH_ROLE = Qt.ItemDataRole.UserRole


def thumbnail(path: str | Path, size: QSize = THUMBNAIL, ratio: float = 1.0) -> QPixmap | None:
    """The model in ``path`` drawn as on the canvas (in the current palette's colours), scaled
    to fit ``size``; None when the file is not a model that can be shown."""
    try:
        model, _report = open_model(path)
    except (ModelError, OSError):
        return None
    document = ModelDocument(model)
    scene = CanvasScene(document)
    try:
        pixmap = QPixmap(size * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(scene.colors.canvas)
        if scene.nodes:
            source = QRectF()
            for item in [*scene.nodes.values(), *scene.links.values()]:
                source = source.united(item.sceneBoundingRect())
            source.adjust(-20, -20, 20, 20)
            painter = QPainter(pixmap)
            painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
            room = QRectF(4, 4, size.width() - 8, size.height() - 8)
            scale = min(room.width() / source.width(), room.height() / source.height())
            target = QRectF(0, 0, source.width() * scale, source.height() * scale)
            target.moveCenter(room.center())
            scene.render(painter, target, source, Qt.AspectRatioMode.IgnoreAspectRatio)
            painter.end()
        return pixmap
    finally:
        # At once, with its timers: a marker refresh still pending must not run later.
        shiboken6.delete(scene)
        document.deleteLater()


def read_entry(path: Path) -> tuple[str, str, str | None]:
    """(name, description, lesson title or None) of a model file, from its JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return path.stem, "", None
    if not isinstance(data, dict):
        return path.stem, "", None
    lesson = data.get("lesson")
    title = None
    if isinstance(lesson, dict):
        title = str(lesson.get("title") or data.get("name") or path.stem)
    return str(data.get("name") or path.stem), str(data.get("description") or ""), title


class WelcomePage(QWidget):
    """New, Open, lessons, recent files and the example gallery; see the module docstring."""

    #: A model file to open (an example, or a recent file).
    openRequested = Signal(str)
    #: A model file whose lesson to start.
    lessonRequested = Signal(str)
    #: Start an empty model.
    newRequested = Signal()
    #: Ask for a file to open.
    openDialogRequested = Signal()

    def __init__(
        self, examples: Callable[[], list[Path]], recent: Callable[[], list[str]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._examples = examples
        self._recent = recent
        self.setAccessibleName("Welcome")
        self.setAutoFillBackground(True)
        title = QLabel("<h1>Queue Studio</h1>")
        title.setTextFormat(Qt.TextFormat.RichText)
        tagline = QLabel("Draw a queueing model, run it live, and compare it with theory.")
        self.new_button = QPushButton("&New Model")
        self.new_button.setToolTip("Start an empty model (Ctrl+N)")
        self.new_button.clicked.connect(self.newRequested)
        self.open_button = QPushButton("&Open…")
        self.open_button.setToolTip("Open a model file (Ctrl+O)")
        self.open_button.clicked.connect(self.openDialogRequested)
        for button in (self.new_button, self.open_button):
            button.setAutoDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)

        self.lessons = self._list("Lessons", "Guided lessons: a few steps, predict, then run")
        self.recent_list = self._list("Recent files", "Models opened or saved lately")
        self.gallery = self._list("Examples", "The bundled examples: Enter opens one as an untitled copy")
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(THUMBNAIL)
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setWordWrap(True)
        self.gallery.setSpacing(8)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setGridSize(QSize(THUMBNAIL.width() + 24, THUMBNAIL.height() + 48))
        self.lessons.itemActivated.connect(lambda item: self.lessonRequested.emit(item.data(PATH_ROLE)))
        self.recent_list.itemActivated.connect(lambda item: self.openRequested.emit(item.data(PATH_ROLE)))
        self.gallery.itemActivated.connect(lambda item: self.openRequested.emit(item.data(PATH_ROLE)))

        side = QVBoxLayout()
        for heading, widget in (("Lessons", self.lessons), ("Recent files", self.recent_list)):
            side.addWidget(self._heading(heading, widget))
            side.addWidget(widget, 1)
        grid = QGridLayout()
        grid.addLayout(side, 0, 0)
        main = QVBoxLayout()
        main.addWidget(self._heading("Examples", self.gallery))
        main.addWidget(self.gallery, 1)
        grid.addLayout(main, 0, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(title)
        layout.addWidget(tagline)
        layout.addLayout(buttons)
        layout.addLayout(grid, 1)
        self.setTabOrder(self.new_button, self.open_button)
        self.setTabOrder(self.open_button, self.lessons)
        self.setTabOrder(self.lessons, self.recent_list)
        self.setTabOrder(self.recent_list, self.gallery)
        self.setFocusProxy(self.new_button)
        self.refresh()

    @staticmethod
    def _list(name: str, description: str) -> QListWidget:
        widget = QListWidget()
        widget.setAccessibleName(name)
        widget.setAccessibleDescription(description)
        widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return widget

    @staticmethod
    def _heading(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(f"<b>{text}</b>")
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setBuddy(buddy)
        return label

    def refresh(self) -> None:
        """Fill the lists again (recent files change; thumbnails follow the palette)."""
        self.lessons.clear()
        self.recent_list.clear()
        self.gallery.clear()
        ratio = self.devicePixelRatioF()
        for path in self._examples():
            name, about, lesson = read_entry(path)
            if lesson is not None:
                item = QListWidgetItem(lesson, self.lessons)
                item.setData(PATH_ROLE, str(path))
                item.setToolTip(f"Lesson on {name} ({path.name})")
            picture = thumbnail(path, THUMBNAIL, ratio)
            item = QListWidgetItem(name, self.gallery)
            if picture is not None:
                item.setIcon(picture)
            item.setData(PATH_ROLE, str(path))
            item.setToolTip(about or name)
            item.setStatusTip(about)
        for path in self._recent():
            item = QListWidgetItem(Path(path).name, self.recent_list)
            item.setData(PATH_ROLE, path)
            item.setToolTip(path)
        if not self.recent_list.count():
            empty = QListWidgetItem("(none yet)", self.recent_list)
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
        for widget in (self.lessons, self.recent_list, self.gallery):
            if widget.count() and widget.item(0).flags() & Qt.ItemFlag.ItemIsEnabled:
                widget.setCurrentRow(0)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.gallery.count():
            self.refresh()  # the thumbnails are drawn in the palette's colours
