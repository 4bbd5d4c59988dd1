"""An overview of the whole model in a corner of the canvas; click or drag to move there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from desktop.canvas.node_item import HEIGHT, WIDTH
from desktop.icons import kind_color

if TYPE_CHECKING:
    from desktop.canvas.view import CanvasView

MARGIN = 60.0


class Minimap(QWidget):
    """Draws every node as a small block, the links as lines, and the visible area."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self.view = view
        self.setFixedSize(200, 130)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
        self.setAccessibleName("Overview of the model")
        self.setAccessibleDescription("A map of the whole model; click or drag to move the view there")
        scene = view.canvas_scene
        # Bound methods, not lambdas: Qt drops these connections when the minimap is deleted,
        # while the scene (which outlives it) goes on emitting ``changed``.
        scene.changed.connect(self._repaint)
        view.horizontalScrollBar().valueChanged.connect(self._repaint)
        view.verticalScrollBar().valueChanged.connect(self._repaint)

    def _repaint(self, *_: object) -> None:
        self.update()

    def _world(self) -> QRectF:
        """The scene area shown: all nodes plus the visible part of the canvas."""
        scene = self.view.canvas_scene
        world = QRectF()
        for item in scene.nodes.values():
            world = world.united(QRectF(item.pos(), item.pos() + QPointF(WIDTH, HEIGHT)))
        visible = self.view.visible_scene_rect()
        world = world.united(visible) if not world.isNull() else visible
        return world.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)

    def _scale(self, world: QRectF) -> tuple[float, QPointF]:
        inner = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        scale = min(inner.width() / max(world.width(), 1.0), inner.height() / max(world.height(), 1.0))
        offset = inner.center() - QPointF(world.center().x() * scale, world.center().y() * scale)
        return scale, offset

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        scheme = self.view.canvas_scene.colors
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(scheme.minimap_border, 1))
        background = QColor(scheme.minimap_bg)
        background.setAlpha(235)
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        world = self._world()
        scale, offset = self._scale(world)
        painter.translate(offset)
        painter.scale(scale, scale)
        scene = self.view.canvas_scene
        painter.setPen(QPen(scheme.link, 1.5 / scale))
        for link in scene.links.values():
            painter.drawLine(link.source_item.output_port(), link.target_item.input_port())
        painter.setPen(Qt.PenStyle.NoPen)
        for item in scene.nodes.values():
            painter.setBrush(scheme.card_accent(kind_color(item.kind)))
            painter.drawRoundedRect(QRectF(item.pos(), item.pos() + QPointF(WIDTH, HEIGHT)), 10, 10)
        window = QColor(scheme.selection)
        painter.setPen(QPen(window, 2 / scale))
        window.setAlpha(30)
        painter.setBrush(window)
        painter.drawRect(self.view.visible_scene_rect())
        painter.end()

    def _jump(self, event: QMouseEvent) -> None:
        scale, offset = self._scale(self._world())
        point = (event.position() - offset) / scale
        self.view.centerOn(point)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._jump(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._jump(event)
