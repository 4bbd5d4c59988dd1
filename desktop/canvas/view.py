"""The canvas view: zoom (wheel, pinch), pan (middle-drag, space-drag), rubber-band
selection, a dotted grid, a minimap, drops from the palette, Tab to add a node, the
keyboard (arrows move, Alt+arrows select, Enter inspects), and the context menus of nodes,
links and the canvas."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPen,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGestureEvent, QGraphicsView, QMenu, QPinchGesture, QWidget

from desktop.canvas.editing import CanvasEditor
from desktop.canvas.link_item import LinkItem
from desktop.canvas.minimap import Minimap
from desktop.canvas.quick_add import QuickAdd
from desktop.canvas.scene import GRID, SCENE_MARGIN, CanvasScene

KIND_MIME = "application/x-queuestudio-kind"
MIN_SCALE, MAX_SCALE = 0.1, 4.0
#: Fitting never enlarges past 100 %: the size at which the cards' text was designed to be read.
FIT_MAX_SCALE = 1.0
#: Room left around the model by Fit to View, in scene units.
FIT_MARGIN = 40.0
#: Arrow keys as unit directions on the canvas.
ARROWS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}


class CanvasView(QGraphicsView):
    """Shows a :class:`CanvasScene`; ``editor`` holds the selection actions."""

    zoom_changed = Signal(float)
    #: Enter pressed on a selection: the window puts the keyboard focus in the inspector.
    inspect_requested = Signal()

    def __init__(self, scene: CanvasScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.canvas_scene = scene
        self.editor = CanvasEditor(scene, self)
        self.grid_visible = True
        self._space_held = False
        self._pan_from: QPoint | None = None
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Model canvas")
        self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        self.minimap = Minimap(self)
        self.quick_add = QuickAdd(self)
        self.quick_add.kind_chosen.connect(self._quick_added)
        for action in self.editor.actions.values():
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        self.editor.arranged.connect(self.fit_to_view)
        #: Whether the view still shows what the last Fit to View chose (no zoom, pan or edit
        #: since): a resize (the window laid out, a dock resized) then fits again.
        self._keep_fitted = False
        scene.document.contents_changed.connect(self._release_fit)
        scene.selection_changed.connect(self.describe_for_accessibility)
        scene.problems_changed.connect(self.describe_for_accessibility)
        self.setAccessibleDescription("Empty model: press Tab to add a node")

    def describe_for_accessibility(self, *_: object) -> str:
        """Say in the canvas's accessible description what a screen reader cannot see on the
        painted items: the selected nodes and links (kind, name, main parameters, live
        values, problems), or the model in brief when nothing is selected. Returns it."""
        scene = self.canvas_scene
        nodes = [scene.nodes[n] for n in scene.selected_node_ids() if n in scene.nodes]
        links = [scene.links[k] for k in scene.selected_link_keys() if k in scene.links]
        parts = [f"Selected: {item.describe()}" for item in nodes]
        parts += [f"Selected link {s} to {t}" for s, t in (link.key for link in links)]
        if not parts:
            count = len(scene.nodes)
            problems = sum(1 for item in scene.nodes.values() if item.badge.messages)
            parts = [
                f"{count} node{'s' if count != 1 else ''} and {len(scene.links)} link{'s' if len(scene.links) != 1 else ''}"
                + (f", {problems} with problems" if problems else "")
                + ". Alt+arrow keys select a node, Tab adds one."
                if count
                else "Empty model: press Tab to add a node"
            ]
        text = "\n".join(parts)
        if text != self.accessibleDescription():
            self.setAccessibleDescription(text)
        return text

    def _release_fit(self, *_: object) -> None:
        self._keep_fitted = False

    # ------------------------------------------------------------ zoom and pan
    @property
    def zoom(self) -> float:
        """Current scale factor (1 = 100 %)."""
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        """Scale to ``factor`` (clamped to 10 %–400 %), keeping the anchor point."""
        factor = min(max(factor, MIN_SCALE), MAX_SCALE)
        self._keep_fitted = False
        ratio = factor / self.zoom
        if not math.isclose(ratio, 1.0):
            self.scale(ratio, ratio)
            self.zoom_changed.emit(self.zoom)

    def zoom_in(self) -> None:
        """Zoom in one step."""
        self.set_zoom(self.zoom * 1.25)

    def zoom_out(self) -> None:
        """Zoom out one step."""
        self.set_zoom(self.zoom / 1.25)

    def reset_zoom(self) -> None:
        """Back to 100 %."""
        self.set_zoom(1.0)

    def model_rect(self) -> QRectF:
        """The scene area of every node and link (null when there are none)."""
        rect = QRectF()
        for item in self.canvas_scene.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        for link in self.canvas_scene.links.values():
            rect = rect.united(link.sceneBoundingRect())
        return rect

    def fit_scale(self) -> float:
        """The zoom :meth:`fit_to_view` picks: 100 % when the whole model fits at 100 % (a
        small model is never blown up, nor shrunk), else the largest zoom showing all of it."""
        rect = self.model_rect()
        if rect.isNull():
            return 1.0
        rect = rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN)
        port = self.viewport().rect()
        fits = min(port.width() / max(rect.width(), 1.0), port.height() / max(rect.height(), 1.0))
        return min(max(fits, MIN_SCALE), FIT_MAX_SCALE)

    def fit_to_view(self) -> None:
        """Show every node, centred, at 100 % when it fits there (else smaller, to fit)."""
        rect = self.model_rect()
        if rect.isNull():
            return
        scale = self.fit_scale()
        grown = rect.adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN)
        if not self.canvas_scene.sceneRect().contains(grown):  # so that centring is not clamped
            self.canvas_scene.setSceneRect(self.canvas_scene.sceneRect().united(grown))
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(rect.center())
        self._keep_fitted = True
        self.zoom_changed.emit(self.zoom)

    def visible_scene_rect(self) -> QRectF:
        """The part of the scene on screen."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            super().wheelEvent(event)
            return
        self.set_zoom(self.zoom * 1.0015 ** event.angleDelta().y())
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Gesture and isinstance(event, QGestureEvent):
            pinch = event.gesture(Qt.GestureType.PinchGesture)
            if isinstance(pinch, QPinchGesture):
                self.set_zoom(self.zoom * pinch.scaleFactor())
                event.accept()
                return True
        if (
            event.type() == QEvent.Type.NativeGesture
            and isinstance(event, QNativeGestureEvent)
            and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture
        ):
            self.set_zoom(self.zoom * (1.0 + event.value()))
            return True
        return super().viewportEvent(event)

    def _panning(self, event: QMouseEvent) -> bool:
        return event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_held
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._panning(event):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta = event.position().toPoint() - self._pan_from
            self._keep_fitted = False
            self._pan_from = event.position().toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_held else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if self._keyboard_edit(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def _keyboard_edit(self, event: QKeyEvent) -> bool:
        """Arrow keys move the selected nodes (Shift: five grid steps); Alt+arrow selects the
        nearest node that way (Alt+Shift adds it); Enter opens the selection in the inspector."""
        mods = event.modifiers()
        alt = bool(mods & Qt.KeyboardModifier.AltModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        if mods & ~(
            Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
        ):
            return False
        direction = ARROWS.get(Qt.Key(event.key()))
        if direction is not None:
            if alt or not self.canvas_scene.selected_node_ids():
                self.editor.select_towards(*direction, extend=alt and shift)
                selected = self.canvas_scene.selected_node_ids()
                if selected:
                    self.ensureVisible(self.canvas_scene.nodes[selected[-1]], 40, 40)
            else:
                step = GRID * (5 if shift else 1)
                self.editor.nudge(direction[0] * step, direction[1] * step)
            return True
        selection = self.canvas_scene.selected_node_ids() or self.canvas_scene.selected_link_keys()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not alt and selection:
            self.inspect_requested.emit()
            return True
        return False

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # ------------------------------------------------------------ adding nodes
    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Tab
            and not event.modifiers()
        ):
            self.open_quick_add()
            return True
        return super().event(event)

    def open_quick_add(self, viewport_pos: QPoint | None = None) -> None:
        """Open the add-node popup at ``viewport_pos`` (the cursor, or the centre). Opened
        from the keyboard with one node selected, the new node goes to the right of it."""
        beside = None
        if viewport_pos is None:
            cursor = self.viewport().mapFromGlobal(self.cursor().pos())
            inside = self.viewport().rect().contains(cursor)
            viewport_pos = cursor if inside else self.viewport().rect().center()
            selected = self.canvas_scene.selected_node_ids()
            if not inside and len(selected) == 1:
                beside = self.canvas_scene.nodes[selected[0]].sceneBoundingRect()
        scene_pos = self.mapToScene(viewport_pos)
        if beside is not None:
            scene_pos = QPointF(beside.right() + beside.width() / 2 + 4 * GRID, beside.center().y())
            self.ensureVisible(QRectF(scene_pos, scene_pos).adjusted(-beside.width(), -40, beside.width(), 40))
            viewport_pos = self.mapFromScene(scene_pos)
        self.quick_add.open_at(self.viewport().mapTo(self, viewport_pos), scene_pos)

    def _quick_added(self, kind: str, scene_pos: QPointF) -> None:
        self.editor.add_node(kind, scene_pos)
        self.setFocus()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.itemAt(event.position().toPoint()) is None:
            self.open_quick_add(event.position().toPoint())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(KIND_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(KIND_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if not event.mimeData().hasFormat(KIND_MIME):
            super().dropEvent(event)
            return
        kind = bytes(event.mimeData().data(KIND_MIME).data()).decode("utf-8")
        self.editor.add_node(kind, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()
        self.setFocus()

    # ------------------------------------------------------------ menus
    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.context_menu(event.pos()).exec(event.globalPos())
        event.accept()

    def context_menu(self, viewport_pos: QPoint) -> QMenu:
        """The menu for whatever is at ``viewport_pos``: a node, a link, or the canvas."""
        scene_pos = self.mapToScene(viewport_pos)
        menu = QMenu(self)
        actions = self.editor.actions
        node = self.canvas_scene.node_at(scene_pos)
        link = next((i for i in self.items(viewport_pos) if isinstance(i, LinkItem)), None)
        if node is not None:
            if not node.isSelected():
                self.canvas_scene.select([node.node_id])
            menu.addActions([actions["rename"], actions["duplicate"], actions["copy"], actions["cut"]])
            disconnect = menu.addAction("Disconnect All Links")
            disconnect.triggered.connect(lambda: self.editor.disconnect_node(node.node_id))
            menu.addSeparator()
            menu.addAction(actions["delete"])
        elif link is not None:
            self.canvas_scene.select([], [link.key])
            menu.addAction(actions["delete"])
        else:
            add = menu.addMenu("Add Node")
            add.addActions(self.editor.add_node_actions(scene_pos, add))
            paste = QAction("Paste Here", menu)
            paste.triggered.connect(lambda: self.editor.paste(at=scene_pos))
            menu.addActions([paste, actions["select_all"]])
            menu.addSeparator()
            menu.addAction(actions["arrange"])
            fit = menu.addAction("Fit to View")
            fit.triggered.connect(self.fit_to_view)
        return menu

    # ------------------------------------------------------------ painting
    def drawBackground(self, painter: QPainter, exposed: QRectF | QRect) -> None:
        rect = QRectF(exposed)
        scheme = self.canvas_scene.colors
        painter.fillRect(rect, scheme.canvas)
        if not self.grid_visible or self.zoom < 0.3:
            return
        step = GRID if self.zoom >= 0.6 else GRID * 5
        left = math.floor(rect.left() / step) * step
        top = math.floor(rect.top() / step) * step
        minor, major = QPen(scheme.grid_minor, 0), QPen(scheme.grid_major, 0)
        x = left
        while x < rect.right():
            painter.setPen(major if round(x / step) % 5 == 0 else minor)
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            painter.setPen(major if round(y / step) % 5 == 0 else minor)
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            y += step

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_palette()

    def apply_palette(self) -> None:
        """Repaint the canvas, its items and the minimap in the colours of the view's palette
        (called when the palette changes: the system or View ▸ Theme switched light/dark)."""
        self.canvas_scene.set_palette(self.palette())
        self.resetCachedContent()
        self.viewport().update()
        self.minimap.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._keep_fitted:
            self.fit_to_view()
        self.minimap.move(self.width() - self.minimap.width() - 12, self.height() - self.minimap.height() - 12)
