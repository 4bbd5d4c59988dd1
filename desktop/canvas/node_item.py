"""A node on the canvas: a painted card with icon, name, summary, ports and a badge.

The item is a thin view: it keeps its node id and a reference to the document, and draws
whatever the document says. Its position is the node's ``position`` (top-left corner).
Dragging moves only the item; the scene turns the finished drag into one command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from desktop.icons import kind_color, kind_pixmap
from engine.model.kinds.base import describe_dist as describe_dist  # the link labels' too
from engine.model.schema import KINDS

if TYPE_CHECKING:
    from desktop.canvas.link_item import LinkItem
    from desktop.canvas.scene import CanvasScene
    from desktop.document import ModelDocument

WIDTH, HEIGHT = 168.0, 62.0
PORT_RADIUS = 6.0
PORT_HIT = 13.0
ICON = 26
LIVE_HEIGHT = 18.0
BADGE_RADIUS = 9.0


def summary(kind: str, params: dict[str, Any]) -> list[str]:
    """The lines under a node's name: its kind entry's summary of its parameters."""
    entry = KINDS.get(kind)
    if entry is None:
        return [f"unknown kind {kind!r}"]
    return entry.summary(entry.resolve(params)).splitlines()


class BadgeItem(QGraphicsItem):
    """The validation marker at a node's top-right corner; its tooltip is the message."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.error = False
        self.setPos(WIDTH - 2, 2)
        self.setZValue(2)
        self.setAcceptHoverEvents(True)
        self.hide()

    def set_messages(self, messages: list[str], error: bool) -> None:
        """Show ``messages`` (hide the badge when there are none)."""
        self.error = error
        self.setToolTip("\n".join(messages))
        self.setVisible(bool(messages))
        self.update()

    def boundingRect(self) -> QRectF:
        r = BADGE_RADIUS + 1
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.setBrush(QColor("#d93025") if self.error else QColor("#f2a100"))
        painter.drawEllipse(QPointF(0, 0), BADGE_RADIUS, BADGE_RADIUS)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(13)
        painter.setFont(font)
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "!")


class NodeItem(QGraphicsObject):
    """The painted card of one node; ``node_id`` names the node in the document."""

    def __init__(self, document: ModelDocument, node_id: str) -> None:
        super().__init__()
        self.document = document
        self.node_id = node_id
        self.badge = BadgeItem(self)
        #: Link items drawn to or from this node (kept by the scene so moves redraw them).
        self.links: list[LinkItem] = []
        self._live: tuple[float, float] | None = None
        self._live_now: float | None = None
        self._live_cpu: float | None = None
        self._live_mean = False
        self._syncing = False
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
            | QGraphicsItem.GraphicsItemFlag.ItemIsFocusable
        )
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.sync()

    # ------------------------------------------------------------ document
    @property
    def kind(self) -> str:
        """The node's kind, read from the document."""
        return self.document.node(self.node_id).kind

    def sync(self) -> None:
        """Redraw from the document (position, name, parameters)."""
        node = self.document.node(self.node_id)
        self._syncing = True
        self.setPos(QPointF(*node.position))
        self._syncing = False
        self.setToolTip(KINDS[node.kind].description.replace("`", "") if node.kind in KINDS else "")
        self.update()

    def set_live(
        self,
        queue_len: float | None,
        utilization: float | None,
        *,
        queue_now: float | None = None,
        cpu: float | None = None,
        mean: bool = False,
    ) -> None:
        """Show the queue length and utilisation under the card; ``None`` clears them.

        With ``mean=True`` they are means over the measurement window (the run's means once
        it has finished), labelled "avg", with ``queue_now``, the queue at this instant,
        in smaller type; ``cpu`` is an async server's event-loop utilisation, shown (and
        filling the bar) instead of its connection utilisation. The bar turns red when the
        mean utilisation reaches 95 % of capacity, not when one instant does.
        """
        self._live = None if queue_len is None or utilization is None else (float(queue_len), float(utilization))
        self._live_now = None if queue_now is None else float(queue_now)
        self._live_cpu = None if cpu is None else float(cpu)
        self._live_mean = mean
        self.update()

    def live_text(self) -> str:
        """The text of the live strip under the card ("" when none is shown)."""
        if self._live is None:
            return ""
        queue_len, utilization = self._live
        rho = f"ρ_cpu {self._live_cpu:.2f}" if self._live_cpu is not None else f"ρ {utilization:.2f}"
        if not self._live_mean:
            return f"queue {queue_len:.1f} · {rho}"
        return f"avg queue {queue_len:.2g} · {rho}"

    @property
    def live(self) -> tuple[float, float] | None:
        """The live values shown, or None."""
        return self._live

    # ------------------------------------------------------------ ports
    def has_input(self) -> bool:
        """Whether links may enter this node."""
        return KINDS[self.kind].has_input if self.kind in KINDS else True

    def has_output(self) -> bool:
        """Whether links may leave this node."""
        return KINDS[self.kind].has_output if self.kind in KINDS else True

    def input_port(self) -> QPointF:
        """Scene position of the input port."""
        return self.mapToScene(QPointF(0, HEIGHT / 2))

    def output_port(self) -> QPointF:
        """Scene position of the output port."""
        return self.mapToScene(QPointF(WIDTH, HEIGHT / 2))

    def port_at(self, scene_pos: QPointF) -> str | None:
        """``"out"``/``"in"`` when ``scene_pos`` is on a port the kind has, else None."""
        for name, port, present in (
            ("out", self.output_port(), self.has_output()),
            ("in", self.input_port(), self.has_input()),
        ):
            delta = scene_pos - port
            if present and delta.x() ** 2 + delta.y() ** 2 <= PORT_HIT**2:
                return name
        return None

    # ------------------------------------------------------------ Qt
    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        scene = cast("CanvasScene | None", self.scene())
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and not self._syncing and scene is not None:
            return scene.snapped(value)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged and scene is not None:
            scene.node_item_moved(self)
        return super().itemChange(change, value)

    def boundingRect(self) -> QRectF:
        pad = PORT_RADIUS + 2
        return QRectF(-pad, -pad, WIDTH + 2 * pad, HEIGHT + LIVE_HEIGHT + 2 * pad)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.WindingFill)
        path.addRoundedRect(QRectF(0, 0, WIDTH, HEIGHT), 8, 8)
        for present, x in ((self.has_input(), 0.0), (self.has_output(), WIDTH)):
            if present:
                path.addEllipse(QPointF(x, HEIGHT / 2), PORT_HIT, PORT_HIT)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        node = self.document.node(self.node_id)
        accent = kind_color(node.kind)
        selected = self.isSelected()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        body = QRectF(0, 0, WIDTH, HEIGHT)
        painter.setPen(QPen(QColor("#1a73e8") if selected else accent.darker(115), 2.5 if selected else 1.2))
        painter.setBrush(QColor("#ffffff"))
        painter.drawRoundedRect(body, 8, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        painter.drawRoundedRect(QRectF(1.5, 1.5, 5, HEIGHT - 3), 2.5, 2.5)
        ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        painter.drawPixmap(QPointF(14, (HEIGHT - ICON) / 2), kind_pixmap(node.kind, ICON, max(1.0, ratio)))
        self._paint_text(painter, node.label or node.id, summary(node.kind, node.params))
        self._paint_ports(painter, accent)
        if self._live is not None:
            self._paint_live(painter, accent)

    def _paint_text(self, painter: QPainter, title: str, lines: list[str]) -> None:
        left = 14 + ICON + 10
        width = WIDTH - left - 8
        font = QFont(painter.font())
        font.setPixelSize(13)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#202124"))
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        title = QFontMetricsF(font).elidedText(title, Qt.TextElideMode.ElideRight, width)
        top = 6.0 if len(lines) > 1 else 11.0
        painter.drawText(QRectF(left, top, width, 18), align, title)
        font.setBold(False)
        font.setPixelSize(11)
        painter.setFont(font)
        painter.setPen(QColor("#5f6368"))
        metrics = QFontMetricsF(font)
        for row, line in enumerate(lines[:2]):
            text = metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)
            painter.drawText(QRectF(left, top + 19 + row * 15, width, 15), align, text)

    def _paint_ports(self, painter: QPainter, accent: QColor) -> None:
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.setBrush(accent)
        if self.has_input():
            painter.drawEllipse(QPointF(0, HEIGHT / 2), PORT_RADIUS, PORT_RADIUS)
        if self.has_output():
            painter.drawEllipse(QPointF(WIDTH, HEIGHT / 2), PORT_RADIUS, PORT_RADIUS)

    def _paint_live(self, painter: QPainter, accent: QColor) -> None:
        _, utilization = self._live  # type: ignore[misc]
        busy = self._live_cpu if self._live_cpu is not None else utilization
        area = QRectF(8, HEIGHT + 3, WIDTH - 16, LIVE_HEIGHT - 5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#e8eaed"))
        painter.drawRoundedRect(area, 3, 3)
        fill = QRectF(area.left(), area.top(), area.width() * min(max(busy, 0.0), 1.0), area.height())
        painter.setBrush(QBrush(QColor("#d93025") if busy >= 0.95 else accent.lighter(140)))
        painter.drawRoundedRect(fill, 3, 3)
        font = QFont(painter.font())
        font.setPixelSize(10)
        font.setBold(False)
        painter.setFont(font)
        painter.setPen(QColor("#202124"))
        text = self.live_text()
        if self._live_now is not None:
            small = QFont(font)
            small.setPixelSize(8)
            now = f"now {self._live_now:.0f}"
            width = QFontMetricsF(small).horizontalAdvance(now) + 4
            painter.drawText(area.adjusted(2, 0, -width, 0), Qt.AlignmentFlag.AlignCenter, text)
            painter.setFont(small)
            painter.setPen(QColor("#5f6368"))
            painter.drawText(
                area.adjusted(0, 0, -2, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, now
            )
        else:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, text)
