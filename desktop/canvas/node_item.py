"""A node on the canvas: a painted card with icon, name, summary, ports and a badge.

The item is a thin view: it keeps its node id and a reference to the document, and draws
whatever the document says. Its position is the node's ``position`` (top-left corner).
Dragging moves only the item; the scene turns the finished drag into one command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from desktop.icons import kind_color, kind_pixmap
from desktop.theme import Colors, colors, readable
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
LIVE_HEIGHT = 20.0
BADGE_RADIUS = 9.0


def scheme_of(item: QGraphicsItem) -> Colors:
    """The colours an item paints with: its scene's (which follow the palette)."""
    scene = item.scene()
    found = getattr(scene, "colors", None)
    return found if isinstance(found, Colors) else colors()


def summary(kind: str, params: dict[str, Any]) -> list[str]:
    """The lines under a node's name: its kind entry's summary of its parameters."""
    entry = KINDS.get(kind)
    if entry is None:
        return [f"unknown kind {kind!r}"]
    return entry.summary(entry.resolve(params)).splitlines()


class BadgeItem(QGraphicsItem):
    """The validation marker at a node's top-right corner; its tooltip is the message.

    Not by colour alone: an error is a round badge with "!", a warning a triangle with "!",
    and :meth:`describe` says which in words (the canvas's accessible description)."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.error = False
        self.messages: list[str] = []
        self.setPos(WIDTH - 2, 2)
        self.setZValue(2)
        self.setAcceptHoverEvents(True)
        self.hide()

    def set_messages(self, messages: list[str], error: bool) -> None:
        """Show ``messages`` (hide the badge when there are none)."""
        self.error = error
        self.setToolTip("\n".join(messages))
        self.messages = list(messages)
        self.setVisible(bool(messages))
        self.update()

    def describe(self) -> str:
        """The badge in words ("" when hidden): "error: …" or "warning: …"."""
        if not self.messages:
            return ""
        return f"{'error' if self.error else 'warning'}: {'; '.join(self.messages)}"

    def boundingRect(self) -> QRectF:
        r = BADGE_RADIUS + 1
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scheme = scheme_of(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(scheme.card, 1.5))
        r = BADGE_RADIUS
        if self.error:
            painter.setBrush(scheme.error)
            painter.drawEllipse(QPointF(0, 0), r, r)
        else:
            painter.setBrush(scheme.warning)
            painter.drawPolygon(QPolygonF([QPointF(0, -r), QPointF(r, r * 0.8), QPointF(-r, r * 0.8)]))
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(13 if self.error else 11)
        painter.setFont(font)
        painter.setPen(scheme.on_badge)
        text_rect = self.boundingRect() if self.error else self.boundingRect().adjusted(0, 3, 0, 0)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, "!")


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
        scheme = scheme_of(self)
        accent = scheme.card_accent(kind_color(node.kind))
        selected = self.isSelected()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        body = QRectF(0, 0, WIDTH, HEIGHT)
        edge = accent if scheme.dark else accent.darker(115)
        painter.setPen(QPen(scheme.selection if selected else edge, 2.5 if selected else 1.2))
        painter.setBrush(scheme.card)
        painter.drawRoundedRect(body, 8, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        painter.drawRoundedRect(QRectF(1.5, 1.5, 5, HEIGHT - 3), 2.5, 2.5)
        ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        painter.drawPixmap(QPointF(14, (HEIGHT - ICON) / 2), kind_pixmap(node.kind, ICON, max(1.0, ratio)))
        self._paint_text(painter, node.label or node.id, summary(node.kind, node.params), scheme)
        self._paint_ports(painter, accent, scheme)
        if self._live is not None:
            self._paint_live(painter, accent, scheme)

    def describe(self) -> str:
        """The card in words, for the canvas's accessible description: kind, name, main
        parameters, live values and problems ("Server cpu: 1 server, exp 1 s")."""
        node = self.document.node(self.node_id)
        kind = KINDS[node.kind].label if node.kind in KINDS else node.kind
        name = node.label or node.id
        parts = [f"{kind} {name}: {', '.join(summary(node.kind, node.params))}"]
        if self._live is not None:
            parts.append(self.live_text())
            if self._busy() >= 0.95:
                parts.append("saturated")
        if self.badge.describe():
            parts.append(self.badge.describe())
        return "; ".join(parts)

    def _busy(self) -> float:
        if self._live is None:
            return 0.0
        return self._live_cpu if self._live_cpu is not None else self._live[1]

    def _paint_text(self, painter: QPainter, title: str, lines: list[str], scheme: Colors) -> None:
        left = 14 + ICON + 10
        width = WIDTH - left - 8
        font = QFont(painter.font())
        font.setPixelSize(13)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(scheme.text)
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        title = QFontMetricsF(font).elidedText(title, Qt.TextElideMode.ElideRight, width)
        top = 6.0 if len(lines) > 1 else 11.0
        painter.drawText(QRectF(left, top, width, 18), align, title)
        font.setBold(False)
        font.setPixelSize(11)
        painter.setFont(font)
        painter.setPen(scheme.subtext)
        metrics = QFontMetricsF(font)
        for row, line in enumerate(lines[:2]):
            text = metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)
            painter.drawText(QRectF(left, top + 19 + row * 15, width, 15), align, text)

    def _paint_ports(self, painter: QPainter, accent: QColor, scheme: Colors) -> None:
        painter.setPen(QPen(scheme.card, 1.5))
        painter.setBrush(accent)
        if self.has_input():
            painter.drawEllipse(QPointF(0, HEIGHT / 2), PORT_RADIUS, PORT_RADIUS)
        if self.has_output():
            painter.drawEllipse(QPointF(WIDTH, HEIGHT / 2), PORT_RADIUS, PORT_RADIUS)

    def live_colors(self) -> tuple[QColor, QColor, QColor]:
        """The live strip's (track, fill, text) colours: the text readable on both."""
        scheme = scheme_of(self)
        accent = kind_color(self.kind)
        fill = scheme.live_fill(accent, self._busy() >= 0.95)
        return scheme.track, fill, readable(scheme.live_text, scheme.track, fill)

    def _paint_live(self, painter: QPainter, accent: QColor, scheme: Colors) -> None:
        busy = self._busy()
        track, fill_color, text_color = self.live_colors()
        area = QRectF(8, HEIGHT + 3, WIDTH - 16, LIVE_HEIGHT - 5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(area, 3, 3)
        fill = QRectF(area.left(), area.top(), area.width() * min(max(busy, 0.0), 1.0), area.height())
        painter.setBrush(QBrush(fill_color))
        painter.drawRoundedRect(fill, 3, 3)
        font = QFont(painter.font())
        font.setPixelSize(11)
        font.setBold(False)
        painter.setFont(font)
        painter.setPen(text_color)
        # Saturation is said with a sign, not only by the bar's colour.
        text = ("⚠ " if busy >= 0.95 else "") + self.live_text()
        if self._live_now is not None:
            small = QFont(font)
            small.setPixelSize(9)
            now = f"now {self._live_now:.0f}"
            width = QFontMetricsF(small).horizontalAdvance(now) + 4
            painter.drawText(area.adjusted(2, 0, -width, 0), Qt.AlignmentFlag.AlignCenter, text)
            painter.setFont(small)
            painter.drawText(
                area.adjusted(0, 0, -2, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, now
            )
        else:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, text)
