"""Links on the canvas: the bezier arrow of a document link, the link being drawn, and the
refusal message shown at the cursor."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from desktop.canvas.node_item import PORT_RADIUS, describe_dist, scheme_of

if TYPE_CHECKING:
    from desktop.canvas.node_item import NodeItem
    from desktop.document import ModelDocument

ARROW = 10.0
HIT_WIDTH = 12.0
GRIP_RADIUS = 8.0
GRIP_FROM_SOURCE = 22.0
#: Pen width of a link carrying no flow and of the busiest link of a live run.
FLOW_MIN_WIDTH, FLOW_MAX_WIDTH = 1.8, 7.0


def bezier(start: QPointF, end: QPointF, loop: bool = False) -> QPainterPath:
    """A horizontal-tangent cubic from an output port to an input port (a loop above for
    a node linked to itself)."""
    path = QPainterPath(start)
    if loop:
        path.cubicTo(start + QPointF(70, -110), end + QPointF(-70, -110), end)
        return path
    dx = max(50.0, abs(end.x() - start.x()) * 0.5)
    path.cubicTo(start + QPointF(dx, 0), end - QPointF(dx, 0), end)
    return path


def arrow_head(path: QPainterPath, size: float = ARROW) -> QPolygonF:
    """A triangle of length ``size`` at the end of ``path``, pointing along its final direction."""
    tip = path.pointAtPercent(1.0)
    angle = math.radians(-path.angleAtPercent(0.999))
    back = QPointF(math.cos(angle), math.sin(angle)) * size
    side = QPointF(-back.y(), back.x()) * 0.5
    return QPolygonF([tip, tip - back + side, tip - back - side])


class LinkItem(QGraphicsItem):
    """The arrow of the document link ``source`` → ``target`` with its probability/latency label."""

    def __init__(self, document: ModelDocument, source: NodeItem, target: NodeItem) -> None:
        super().__init__()
        self.document = document
        self.source_item = source
        self.target_item = target
        self.messages: list[str] = []
        self.error = False
        self._path = QPainterPath()
        self._label = ""
        self._label_rect = QRectF()
        self._flow: float | None = None
        self._flow_width = FLOW_MIN_WIDTH
        self._flow_text = ""
        self._flow_rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.sync()

    @property
    def key(self) -> tuple[str, str]:
        """The ``(source, target)`` pair naming the link in the document."""
        return self.source_item.node_id, self.target_item.node_id

    def sync(self) -> None:
        """Redraw from the document: the label, then the path."""
        link = self.document.link(*self.key) if self.document.has_link(*self.key) else None
        parts = []
        if link is not None and link.probability is not None:
            parts.append(f"p {link.probability:g}")
        if link is not None and link.latency is not None:
            parts.append(f"+{describe_dist(link.latency)}")
        self._label = "  ".join(parts)
        self.follow_ends()

    def follow_ends(self) -> None:
        """Recompute the path between the end nodes' ports (they moved)."""
        self.prepareGeometryChange()
        start = self.source_item.output_port()
        end = self.target_item.input_port() - QPointF(PORT_RADIUS, 0)
        self._path = bezier(start, end, loop=self.source_item is self.target_item)
        if self._label:
            metrics = QFontMetricsF(self._font())
            width, height = metrics.horizontalAdvance(self._label) + 10, metrics.height() + 4
            mid = self._path.pointAtPercent(0.5)
            self._label_rect = QRectF(mid.x() - width / 2, mid.y() - height - 3, width, height)
        else:
            self._label_rect = QRectF()
        self._place_flow_label()
        self.update()

    def set_flow(self, rate: float | None, share: float = 1.0) -> None:
        """Show the live flow, ``rate`` requests per simulated second, as the pen width (by
        ``share``, the rate relative to the busiest link, 0…1) and a small label with a
        tooltip; ``None`` clears it (the run stopped)."""
        if rate is None:
            if self._flow is None:
                return
            self.prepareGeometryChange()
            self._flow, self._flow_text, self._flow_width = None, "", FLOW_MIN_WIDTH
            self._flow_rect = QRectF()
            self.setToolTip("\n".join(self.messages))
            self.update()
            return
        width = FLOW_MIN_WIDTH + (FLOW_MAX_WIDTH - FLOW_MIN_WIDTH) * min(max(share, 0.0), 1.0)
        text = f"{rate:.3g}/s"
        if rate == self._flow and width == self._flow_width:
            return
        self._flow, self._flow_width = float(rate), width
        self.setToolTip(
            "\n".join([f"Flow: {rate:.4g} requests per simulated second (over the last second or so)", *self.messages])
        )
        if text != self._flow_text:
            self.prepareGeometryChange()
            self._flow_text = text
            self._place_flow_label()
        self.update()

    @property
    def flow(self) -> float | None:
        """The live flow shown (requests per simulated second), or None."""
        return self._flow

    def point_at(self, fraction: float) -> QPointF:
        """The point ``fraction`` (0…1) of the way along the link, by length."""
        path = self._path
        return path.pointAtPercent(path.percentAtLength(min(max(fraction, 0.0), 1.0) * path.length()))

    def _place_flow_label(self) -> None:
        if not self._flow_text:
            self._flow_rect = QRectF()
            return
        metrics = QFontMetricsF(self._font())
        width, height = metrics.horizontalAdvance(self._flow_text) + 8, metrics.height() + 2
        mid = self._path.pointAtPercent(0.5)
        self._flow_rect = QRectF(mid.x() - width / 2, mid.y() + FLOW_MAX_WIDTH / 2 + 2, width, height)

    def set_messages(self, messages: list[str], error: bool) -> None:
        """Mark the link with validation ``messages`` (red and a tooltip when any)."""
        self.messages, self.error = messages, error and bool(messages)
        if self._flow is None:
            self.setToolTip("\n".join(messages))
        self.update()

    def grip(self, end: str) -> QPointF:
        """Where to grab an end to re-route it: the arrowhead (``"target"``) or the start
        of the line just past the output port (``"source"``)."""
        length = self._path.length()
        at = length - ARROW / 2 if end == "target" else min(GRIP_FROM_SOURCE, length / 2)
        return self._path.pointAtPercent(self._path.percentAtLength(at))

    def end_near(self, scene_pos: QPointF) -> str | None:
        """``"target"``/``"source"`` when ``scene_pos`` is on that end's grip."""
        for name in ("target", "source"):
            delta = scene_pos - self.grip(name)
            if delta.x() ** 2 + delta.y() ** 2 <= GRIP_RADIUS**2:
                return name
        return None

    @staticmethod
    def _font() -> QFont:
        font = QFont()
        font.setPixelSize(11)
        return font

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(HIT_WIDTH)
        shape = stroker.createStroke(self._path)
        shape.setFillRule(Qt.FillRule.WindingFill)
        shape.addPolygon(arrow_head(self._path))
        if not self._label_rect.isNull():
            shape.addRect(self._label_rect)
        return shape

    def boundingRect(self) -> QRectF:
        rect = self._path.boundingRect().adjusted(-HIT_WIDTH, -HIT_WIDTH, HIT_WIDTH, HIT_WIDTH)
        for extra in (self._label_rect, self._flow_rect):
            if not extra.isNull():
                rect = rect.united(extra)
        return rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scheme = scheme_of(self)
        color = scheme.link if self._flow is None else scheme.flow
        if self.isSelected() or self.error:
            color = scheme.selection if self.isSelected() else scheme.error
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = max(self._flow_width, 2.6) if self.isSelected() else self._flow_width
        # A link in error is dashed as well as red: not told by colour alone.
        line = Qt.PenStyle.DashLine if self.error else Qt.PenStyle.SolidLine
        painter.setPen(QPen(color, width, line, Qt.PenCapStyle.FlatCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPolygon(arrow_head(self._path, ARROW + 1.5 * (self._flow_width - FLOW_MIN_WIDTH)))
        if self._label:
            painter.setBrush(scheme.label_bg)
            painter.setPen(QPen(color, 1))
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setFont(self._font())
            painter.setPen(scheme.text)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self._label)
        if self._flow_text:
            painter.setFont(self._font())
            painter.setPen(scheme.flow_text)
            painter.drawText(self._flow_rect, Qt.AlignmentFlag.AlignCenter, self._flow_text)


class DraftLink(QGraphicsItem):
    """The link being drawn (or re-routed) with the mouse; red while the target refuses it."""

    def __init__(self, anchor: QPointF, forward: bool) -> None:
        super().__init__()
        self.anchor = anchor
        self.forward = forward
        self.valid = True
        self._path = QPainterPath()
        self.setZValue(5)
        self.set_end(anchor, True)

    def set_end(self, point: QPointF, valid: bool) -> None:
        """Follow the cursor at ``point``; ``valid`` chooses the colour."""
        self.prepareGeometryChange()
        self.valid = valid
        start, end = (self.anchor, point) if self.forward else (point, self.anchor)
        self._path = bezier(start, end)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-ARROW, -ARROW, ARROW, ARROW)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scheme = scheme_of(self)
        color = scheme.selection if self.valid else scheme.error
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 2, Qt.PenStyle.DashLine))
        painter.drawPath(self._path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPolygon(arrow_head(self._path))


class HintItem(QGraphicsItem):
    """A short message next to the cursor (why a link is refused); unscaled by zoom."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(10)
        self.hide()

    def show_at(self, scene_pos: QPointF, text: str) -> None:
        """Show ``text`` just below and right of ``scene_pos``."""
        self.prepareGeometryChange()
        self.text = text
        self.setPos(scene_pos)
        self.show()
        self.update()

    def _rect(self) -> QRectF:
        metrics = QFontMetricsF(LinkItem._font())
        return QRectF(14, 14, metrics.horizontalAdvance(self.text) + 16, metrics.height() + 8)

    def boundingRect(self) -> QRectF:
        return self._rect().adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scheme = scheme_of(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(scheme.error, 1))
        painter.setBrush(scheme.hint_bg)
        painter.drawRoundedRect(self._rect(), 4, 4)
        painter.setFont(LinkItem._font())
        painter.setPen(scheme.hint_text)
        painter.drawText(self._rect(), Qt.AlignmentFlag.AlignCenter, self.text)
