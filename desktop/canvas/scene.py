"""The canvas scene: keeps one item per document node and link, and turns mouse gestures
(moving nodes, drawing and re-routing links) into commands."""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPalette, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSceneMouseEvent

from desktop.canvas.link_item import DraftLink, HintItem, LinkItem
from desktop.canvas.node_item import NodeItem
from desktop.commands import AddItems, MoveNodes, RerouteLink
from desktop.document import LinkKey, ModelDocument
from desktop.theme import Colors, colors
from engine.model import Link
from engine.model.schema import KINDS

GRID = 20.0
SCENE_MARGIN = 1500.0
HINT_MS = 2500


class CanvasScene(QGraphicsScene):
    """The items of one :class:`ModelDocument`, rebuilt from its signals."""

    link_refused = Signal(str)
    problems_changed = Signal(list, list)
    selection_changed = Signal()

    def __init__(self, document: ModelDocument) -> None:
        super().__init__()
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.links: dict[LinkKey, LinkItem] = {}
        self.snap_enabled = True
        #: The colours of the cards, links and canvas, from the palette (see :meth:`set_palette`).
        self.colors: Colors = colors()
        self._drag: dict[str, object] | None = None
        self._draft: DraftLink | None = None
        self.hint = HintItem()
        self.addItem(self.hint)
        self._hint_timer = self._timer(HINT_MS, self.hint.hide)
        self._refresh_timer = self._timer(0, self.refresh_markers)
        self.selectionChanged.connect(self._selection_changed)
        document.node_added.connect(self._on_node_added)
        document.node_removed.connect(self._on_node_removed)
        document.node_changed.connect(self._on_node_changed)
        document.node_renamed.connect(self._on_node_renamed)
        document.link_added.connect(self._on_link_added)
        document.link_removed.connect(self._on_link_removed)
        document.link_changed.connect(lambda s, t: self._link_changed((s, t)))
        document.settings_changed.connect(self._refresh_timer.start)
        document.document_reset.connect(self.rebuild)
        self.rebuild()

    def set_palette(self, palette: QPalette) -> None:
        """Repaint everything in the colours of ``palette`` (light or dark)."""
        self.colors = colors(palette)
        for item in self.items():
            item.update()
        self.update()

    def _timer(self, interval: int, slot: Callable[[], object]) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval)
        timer.timeout.connect(slot)
        return timer

    # ------------------------------------------------------------ sync
    def rebuild(self) -> None:
        """Drop every item and create them again from the document."""
        self._cancel_drag()
        for item in [*self.links.values(), *self.nodes.values()]:
            self.removeItem(item)
        self.nodes.clear()
        self.links.clear()
        for node in self.document.model.nodes:
            self._on_node_added(node.id)
        for link in self.document.model.links:
            self._on_link_added(link.source, link.target)
        self.refresh_markers()

    def _on_node_added(self, node_id: str) -> None:
        item = NodeItem(self.document, node_id)
        self.nodes[node_id] = item
        self.addItem(item)
        self._refresh_timer.start()

    def _on_node_removed(self, node_id: str) -> None:
        self.removeItem(self.nodes.pop(node_id))
        self._refresh_timer.start()

    def _on_node_changed(self, node_id: str) -> None:
        self.nodes[node_id].sync()
        self._refresh_timer.start()

    def _on_node_renamed(self, old: str, new: str) -> None:
        item = self.nodes.pop(old)
        item.node_id = new
        self.nodes[new] = item
        for key in [k for k in self.links if old in k]:
            link = self.links.pop(key)
            self.links[link.key] = link
        item.sync()
        self._refresh_timer.start()

    def _on_link_added(self, source: str, target: str) -> None:
        item = LinkItem(self.document, self.nodes[source], self.nodes[target])
        self.links[(source, target)] = item
        for end in {item.source_item, item.target_item}:
            end.links.append(item)
        self.addItem(item)
        self._refresh_timer.start()

    def _on_link_removed(self, source: str, target: str) -> None:
        item = self.links.pop((source, target))
        for end in {item.source_item, item.target_item}:
            end.links.remove(item)
        self.removeItem(item)
        self._refresh_timer.start()

    def _link_changed(self, key: LinkKey) -> None:
        self.links[key].sync()
        self._refresh_timer.start()

    def _selection_changed(self) -> None:
        # A scene being destroyed still announces that its items left the selection; by
        # then its Python wrapper is gone, so nobody may be told.
        if shiboken6.isValid(self):
            self.selection_changed.emit()

    def node_item_moved(self, item: NodeItem) -> None:
        """Called by a node item whenever it moves: its links follow."""
        for link in item.links:
            link.follow_ends()

    def refresh_markers(self) -> None:
        """Put the validator's messages on the nodes and links, and grow the scene rect."""
        report = self.document.report()
        errors = set(report.errors)
        for node_id, item in self.nodes.items():
            messages = report.by_node.get(node_id, [])
            item.badge.set_messages(messages, any(m in errors for m in messages))
        for index, link in enumerate(self.document.model.links):
            messages = report.by_node.get(f"link {index}", [])
            link_item = self.links.get((link.source, link.target))
            if link_item is not None:
                link_item.set_messages(messages, any(m in errors for m in messages))
        bounds = self.itemsBoundingRect() if self.nodes else QRectF(-400, -300, 800, 600)
        self.setSceneRect(
            bounds.adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN).united(
                self.sceneRect() if self.nodes else QRectF()
            )
        )
        self.problems_changed.emit(list(report.errors), list(report.warnings))

    def snapped(self, pos: QPointF) -> QPointF:
        """``pos`` on the grid when snapping is on."""
        if not self.snap_enabled:
            return pos
        return QPointF(round(pos.x() / GRID) * GRID, round(pos.y() / GRID) * GRID)

    # ------------------------------------------------------------ queries
    def selected_node_ids(self) -> list[str]:
        """Ids of the selected nodes, in document order."""
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n.id for n in self.document.model.nodes if n.id in chosen]

    def selected_link_keys(self) -> list[LinkKey]:
        """Keys of the selected links."""
        return [i.key for i in self.selectedItems() if isinstance(i, LinkItem)]

    def select(self, node_ids: list[str], links: list[LinkKey] | None = None) -> None:
        """Make exactly these nodes and links the selection."""
        self.clearSelection()
        for node_id in node_ids:
            self.nodes[node_id].setSelected(True)
        for key in links or []:
            self.links[key].setSelected(True)

    def node_at(self, scene_pos: QPointF) -> NodeItem | None:
        """The topmost node item under ``scene_pos``."""
        for item in self.items(
            scene_pos, Qt.ItemSelectionMode.IntersectsItemShape, Qt.SortOrder.DescendingOrder, QTransform()
        ):
            while item is not None and not isinstance(item, NodeItem):
                item = item.parentItem()
            if isinstance(item, NodeItem):
                return item
        return None

    def link_problem(self, source: str, target: str, ignore: LinkKey | None = None) -> str | None:
        """Why a link ``source`` → ``target`` makes no sense, or None if it may be drawn."""
        model = self.document.model
        src_kind, dst_kind = model.node(source).kind, model.node(target).kind
        if src_kind in KINDS and not KINDS[src_kind].has_output:
            return f"Nothing leaves a {KINDS[src_kind].label.lower()}: {source!r} has no output"
        if dst_kind in KINDS and not KINDS[dst_kind].has_input:
            return f"Cannot link into a {KINDS[dst_kind].label.lower()}: {target!r} has no input"
        if (source, target) != ignore and self.document.has_link(source, target):
            return f"There is already a link from {source!r} to {target!r}"
        return None

    # ------------------------------------------------------------ gestures
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._start_drag(event.scenePos()):
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is not None:
            self._follow(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is not None and event.button() == Qt.MouseButton.LeftButton:
            self._finish(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self.commit_moves()

    def commit_moves(self) -> None:
        """Push one command for every node item dragged away from its document position."""
        moves = {}
        for node_id, item in self.nodes.items():
            old = self.document.node(node_id).position
            new = (item.pos().x(), item.pos().y())
            if new != old:
                moves[node_id] = (old, new)
        if moves:
            self.document.undo_stack.push(MoveNodes(self.document, moves))

    def _start_drag(self, pos: QPointF) -> bool:
        """Start drawing a link from a port, or re-routing one grabbed by an end."""
        link = next((i for i in self.items(pos) if isinstance(i, LinkItem) and i.end_near(pos)), None)
        node = self.node_at(pos)
        port = node.port_at(pos) if node is not None else None
        if link is not None:
            forward = link.end_near(pos) == "target"
            fixed = link.source_item if forward else link.target_item
            self._drag = {"anchor": fixed.node_id, "forward": forward, "reroute": link.key}
            link.hide()
        elif node is not None and port is not None:
            fixed, forward = node, port == "out"
            self._drag = {"anchor": node.node_id, "forward": forward, "reroute": None}
        else:
            return False
        anchor = fixed.output_port() if forward else fixed.input_port()
        self._draft = DraftLink(anchor, forward)
        self.addItem(self._draft)
        self._follow(pos)
        return True

    def _candidate(self, pos: QPointF) -> tuple[LinkKey | None, str | None]:
        assert self._drag is not None
        node = self.node_at(pos)
        if node is None:
            return None, None
        anchor = str(self._drag["anchor"])
        key = (anchor, node.node_id) if self._drag["forward"] else (node.node_id, anchor)
        reroute = self._drag["reroute"]
        return key, self.link_problem(*key, ignore=reroute if isinstance(reroute, tuple) else None)

    def _follow(self, pos: QPointF) -> None:
        key, problem = self._candidate(pos)
        if self._draft is not None:
            self._draft.set_end(pos, problem is None)
        if problem:
            self._hint_timer.stop()
            self.hint.show_at(pos, problem)
        else:
            self.hint.hide()

    def _finish(self, pos: QPointF) -> None:
        key, problem = self._candidate(pos)
        reroute = self._drag["reroute"] if self._drag else None
        self._cancel_drag()
        if key is None:
            return
        if problem:
            self.hint.show_at(pos, problem)
            self._hint_timer.start()
            self.link_refused.emit(problem)
            return
        self.hint.hide()
        if isinstance(reroute, tuple):
            if key != reroute:
                self.document.undo_stack.push(RerouteLink(self.document, reroute, key))
        else:
            self.document.undo_stack.push(AddItems(self.document, [], [Link(*key)], "Add link"))

    def _cancel_drag(self) -> None:
        if self._draft is not None:
            self.removeItem(self._draft)
            self._draft = None
        if self._drag is not None and isinstance(self._drag["reroute"], tuple):
            item = self.links.get(self._drag["reroute"])
            if item is not None:
                item.show()
        self._drag = None

    def items_for(self, node_ids: list[str]) -> list[QGraphicsItem]:
        """The node items of these ids (for selection and fitting)."""
        return [self.nodes[i] for i in node_ids if i in self.nodes]
