"""Requests in motion: one overlay item that draws, during a slow live run, each request
travelling along a link and the requests waiting in each station's queue.

It is fed from the GUI thread with what the worker reported (movements ``(time, source,
target)``, queue lengths and the simulated clock of each batch) and never sees the
simulation. A QTimer redraws it at about 30 frames a second while there is something to
show; the simulated clock between two batches is extrapolated from the speed factor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from desktop.canvas.node_item import WIDTH

if TYPE_CHECKING:
    from desktop.canvas.link_item import LinkItem
    from desktop.canvas.node_item import NodeItem

#: Wall seconds a request takes to travel along a link.
TRAVEL_WALL = 0.6
#: Most extrapolation of the simulated clock past the last batch, in wall seconds.
AHEAD_WALL = 0.15
FRAME_MS = 33
MAX_DOTS = 400
#: Waiting requests drawn per station; more are summarised as "+k".
MAX_QUEUED = 12
DOT_RADIUS = 4.5
SQUARE, GAP = 7.0, 2.0
#: Room above a node card for its queue markers.
QUEUE_ROOM = SQUARE + 6.0
DOT_COLOR = QColor("#f29900")
QUEUE_COLOR = QColor("#f29900")
_OUTLINE = QPen(QColor("#7a4400"), 1.0)


class Canvas(Protocol):
    """What the overlay needs of the scene: its node and link items by id."""

    nodes: Mapping[str, NodeItem]
    links: Mapping[tuple[str, str], LinkItem]


class RequestAnimation(QGraphicsObject):
    """Draws moving dots along the links and queued squares above the stations."""

    def __init__(self, canvas: Canvas) -> None:
        super().__init__()
        self._canvas = canvas
        self._dots: list[tuple[float, tuple[str, str]]] = []
        self._positions: list[QPointF] = []
        self._queues: dict[str, int] = {}
        self._anchor = (0.0, 0.0)  # (simulated time, perf_counter) of the last batch
        self._speed = 1.0
        self._running = False
        self._clock = 0.0
        self._drawn: object = None
        self._rect = QRectF()
        self._font = QFont()
        self._font.setPixelSize(10)
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.tick)
        self.setZValue(3)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    # ------------------------------------------------------------ feeding
    def feed(
        self,
        now: float,
        emitted_at: float,
        speed: float,
        running: bool,
        movements: Iterable[tuple[float, str, str]],
        queues: Mapping[str, int],
    ) -> None:
        """Take one batch: the simulated time ``now`` it was made at (``emitted_at``, a
        ``time.perf_counter()``), the speed factor, whether the run goes on, its link
        crossings and the queue length of each station to draw."""
        self._anchor, self._speed, self._running = (now, emitted_at), speed, running
        room = MAX_DOTS - len(self._dots)
        fresh = [(t, (source, target)) for t, source, target in movements]
        if len(fresh) > room:
            del self._dots[: len(fresh) - room]
        self._dots.extend(fresh[-MAX_DOTS:])
        self._queues = {sid: n for sid, n in queues.items() if n > 0}
        if (self._dots or self._queues) and not self._timer.isActive():
            self._timer.start()
        self.tick()

    def clear(self) -> None:
        """Forget every dot and queue marker (the run stopped)."""
        self._timer.stop()
        self._dots.clear()
        self._queues.clear()
        self._running = False
        self._anchor = (0.0, 0.0)
        self._clock = 0.0
        self.tick()

    # ------------------------------------------------------------ queries
    @property
    def dot_positions(self) -> list[QPointF]:
        """Scene positions of the dots drawn in the last frame."""
        return list(self._positions)

    @property
    def queued(self) -> dict[str, int]:
        """Waiting requests shown per station."""
        return dict(self._queues)

    def clock(self) -> float:
        """The simulated time shown: the last batch's, extrapolated while running."""
        now, wall = self._anchor
        if not self._running or not math.isfinite(self._speed):
            return now
        ahead = min(max(time.perf_counter() - wall, 0.0), AHEAD_WALL)
        return max(self._clock, now + self._speed * ahead)

    # ------------------------------------------------------------ animation
    def tick(self) -> None:
        """Advance the dots to the current clock and repaint if anything moved."""
        self._clock = clock = self.clock()
        travel = self._speed * TRAVEL_WALL
        if not math.isfinite(travel):
            self._dots.clear()  # as fast as possible: nothing can be followed
        links = self._canvas.links
        kept: list[tuple[float, tuple[str, str]]] = []
        positions: list[QPointF] = []
        for start, key in self._dots:
            link = links.get(key)
            progress = (clock - start) / travel if travel > 0 else 1.0
            if link is None or progress >= 1.0:
                continue
            kept.append((start, key))
            if progress >= 0.0:
                positions.append(link.point_at(progress))
        self._dots = kept
        self._positions = positions
        if not kept and not self._queues:
            self._timer.stop()
        nodes = self._canvas.nodes
        drawn = (
            [(p.x(), p.y()) for p in positions],
            [(sid, n, nodes[sid].pos().x(), nodes[sid].pos().y()) for sid, n in self._queues.items() if sid in nodes],
        )
        if drawn != self._drawn:  # paused and nothing moved: no repaint
            self._drawn = drawn
            self._update_rect()
            self.update()

    def _update_rect(self) -> None:
        rect = QRectF()
        for point in self._positions:
            rect = rect.united(QRectF(point.x() - 1, point.y() - 1, 2, 2))
        for sid in self._queues:
            node = self._canvas.nodes.get(sid)
            if node is not None:
                rect = rect.united(QRectF(node.pos().x(), node.pos().y() - QUEUE_ROOM, WIDTH, QUEUE_ROOM))
        if rect.isValid():
            rect = rect.adjusted(-DOT_RADIUS - 2, -DOT_RADIUS - 2, DOT_RADIUS + 2, DOT_RADIUS + 2)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect

    # ------------------------------------------------------------ Qt
    def boundingRect(self) -> QRectF:
        return self._rect

    def shape(self) -> QPainterPath:
        return QPainterPath()  # never in the way of clicks on the nodes and links below

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(_OUTLINE)
        painter.setBrush(DOT_COLOR)
        for point in self._positions:
            painter.drawEllipse(point, DOT_RADIUS, DOT_RADIUS)
        if not self._queues:
            return
        painter.setFont(self._font)
        for sid, count in self._queues.items():
            node = self._canvas.nodes.get(sid)
            if node is None:
                continue
            x, y = node.pos().x() + 8, node.pos().y() - QUEUE_ROOM + 2
            painter.setPen(_OUTLINE)
            painter.setBrush(QUEUE_COLOR)
            for i in range(min(count, MAX_QUEUED)):
                painter.drawRect(QRectF(x + i * (SQUARE + GAP), y, SQUARE, SQUARE))
            if count > MAX_QUEUED:
                painter.setPen(QUEUE_COLOR.darker(140))
                left = x + MAX_QUEUED * (SQUARE + GAP)
                text_rect = QRectF(left, y - 3, WIDTH - 8 - (left - node.pos().x()), SQUARE + 6)
                align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                painter.drawText(text_rect, align, f"+{count - MAX_QUEUED}")
