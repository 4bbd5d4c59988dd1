"""Canvas edits that act on the selection: delete, copy/cut/paste, duplicate, add, arrange,
connect, and moving or selecting nodes with the keyboard.

:class:`CanvasEditor` owns the ``QAction``s (with their standard shortcuts) so the menus,
the context menus and the keyboard all trigger the same thing. Every action ends in one
command on the document's undo stack.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QMimeData, QObject, QPointF, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence

from desktop.canvas.layout import arrange
from desktop.canvas.node_item import HEIGHT, WIDTH
from desktop.canvas.scene import CanvasScene
from desktop.commands import AddItems, MoveNodes, NudgeNodes, RemoveItems
from desktop.icons import kind_icon
from engine.model import Link, ModelError, Node, opens_model
from engine.model.schema import KINDS

FRAGMENT_MIME = "application/x-queuestudio-fragment"
PASTE_OFFSET = 40.0


class CanvasEditor(QObject):
    """Selection-based editing of a :class:`CanvasScene`; ``actions`` maps names to QActions."""

    arranged = Signal()
    rename_requested = Signal(str)
    message_posted = Signal(str)

    def __init__(self, scene: CanvasScene, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.document = scene.document
        self._pastes = 0
        keys = QKeySequence.StandardKey
        standard = QKeySequence.keyBindings
        self.actions: dict[str, QAction] = {}
        self._action("delete", "&Delete", self.delete_selection, [*standard(keys.Delete), QKeySequence("Backspace")])
        self._action("cut", "Cu&t", self.cut, standard(keys.Cut))
        self._action("copy", "&Copy", self.copy, standard(keys.Copy))
        self._action("paste", "&Paste", lambda: self.paste(), standard(keys.Paste))
        self._action("duplicate", "D&uplicate", self.duplicate, [QKeySequence("Ctrl+D")])
        self._action("select_all", "Select &All", self.select_all, standard(keys.SelectAll))
        self._action("rename", "&Rename…", self._rename, [QKeySequence("F2")])
        self._action("arrange", "A&rrange Left to Right", self.arrange, [QKeySequence("Ctrl+Shift+L")])
        self._action("connect", "Co&nnect Selected Nodes", self.connect_selection, [QKeySequence("Ctrl+L")])
        scene.selection_changed.connect(self._update_enabled)
        self._update_enabled()

    def _action(self, name: str, text: str, slot: Any, shortcuts: list[QKeySequence]) -> None:
        action = QAction(text, self)
        action.setShortcuts(shortcuts)
        action.triggered.connect(slot)
        self.actions[name] = action

    def _update_enabled(self) -> None:
        nodes, links = self.scene.selected_node_ids(), self.scene.selected_link_keys()
        for name in ("delete", "cut"):
            self.actions[name].setEnabled(bool(nodes or links))
        for name in ("copy", "duplicate"):
            self.actions[name].setEnabled(bool(nodes))
        self.actions["rename"].setEnabled(len(nodes) == 1)
        self.actions["connect"].setEnabled(len(nodes) >= 2)

    # ------------------------------------------------------------ edits
    def add_node(self, kind: str, centre: QPointF) -> str:
        """Add a new ``kind`` node centred on ``centre`` (scene units); returns its id."""
        node_id = self.document.fresh_id(kind)
        corner = self.scene.snapped(centre - QPointF(WIDTH / 2, HEIGHT / 2))
        node = Node(node_id, kind, (corner.x(), corner.y()), KINDS[kind].defaults())
        self.document.undo_stack.push(AddItems(self.document, [node], [], f"Add {KINDS[kind].label}"))
        self.scene.select([node_id])
        return node_id

    def delete_selection(self) -> None:
        """Delete the selected nodes (with their links) and links."""
        nodes, links = self.scene.selected_node_ids(), self.scene.selected_link_keys()
        if nodes or links:
            self.document.undo_stack.push(RemoveItems(self.document, nodes, links))

    def disconnect_node(self, node_id: str) -> None:
        """Delete every link of one node."""
        keys = [(lk.source, lk.target) for lk in self.document.model.links if node_id in (lk.source, lk.target)]
        if keys:
            self.document.undo_stack.push(RemoveItems(self.document, [], keys, f"Disconnect {node_id}"))

    def select_all(self) -> None:
        """Select every node and link."""
        self.scene.select(list(self.scene.nodes), list(self.scene.links))

    def fragment(self) -> dict[str, Any]:
        """The selected nodes and the links among them, as model-file data."""
        chosen = set(self.scene.selected_node_ids())
        model = self.document.model
        return {
            "nodes": [n.to_dict() for n in model.nodes if n.id in chosen],
            "links": [lk.to_dict() for lk in model.links if lk.source in chosen and lk.target in chosen],
        }

    def copy(self) -> None:
        """Put the selection on the clipboard (as a model fragment and as JSON text)."""
        data = self.fragment()
        if not data["nodes"]:
            return
        text = json.dumps(data, indent=2)
        mime = QMimeData()
        mime.setData(FRAGMENT_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self._pastes = 0
        self.message_posted.emit(f"Copied {len(data['nodes'])} node(s)")

    def cut(self) -> None:
        """Copy the selection, then delete it (one undo step for the deletion)."""
        self.copy()
        nodes, links = self.scene.selected_node_ids(), self.scene.selected_link_keys()
        if nodes or links:
            self.document.undo_stack.push(RemoveItems(self.document, nodes, links, "Cut"))

    def paste(self, at: QPointF | None = None) -> list[str]:
        """Paste the clipboard's fragment with fresh ids (at ``at``, or offset from the
        originals); returns the new ids, selected."""
        mime = QGuiApplication.clipboard().mimeData()
        raw = bytes(mime.data(FRAGMENT_MIME).data()).decode("utf-8") if mime and mime.hasFormat(FRAGMENT_MIME) else ""
        if not raw and mime is not None and mime.hasText():
            raw = mime.text()
        try:
            data = json.loads(raw)
        except ValueError:
            self.message_posted.emit("Nothing to paste: the clipboard holds no Queue Studio nodes")
            return []
        self._pastes += 1
        return self._insert(data, at, PASTE_OFFSET * self._pastes, "Paste")

    def duplicate(self) -> list[str]:
        """Copy the selection next to itself with fresh ids (the clipboard is left alone)."""
        return self._insert(self.fragment(), None, PASTE_OFFSET, "Duplicate")

    def _insert(self, data: Any, at: QPointF | None, offset: float, text: str) -> list[str]:
        try:
            # Half-finished work pastes as it is (its problems are badged like any other).
            fragment, _problems = opens_model(
                json.dumps({"format": "queuestudio-model", "version": 1, **_only_graph(data)})
            )
        except ModelError as exc:
            self.message_posted.emit(f"Cannot paste: {exc.problems[0]}")
            return []
        if not fragment.nodes:
            return []
        reserved: set[str] = set()
        names: dict[str, str] = {}
        for node in fragment.nodes:
            names[node.id] = self.document.fresh_id(node.id, reserved)
            reserved.add(names[node.id])
        left = min(n.position[0] for n in fragment.nodes)
        top = min(n.position[1] for n in fragment.nodes)
        shift = (at.x() - left, at.y() - top) if at is not None else (offset, offset)
        # Never exactly on top of a node already there (a paste at the originals' place, a
        # second window's paste, a "Paste Here" on a node's corner): step on until clear.
        taken = {n.position for n in self.document.model.nodes}
        for _ in range(100):
            if not any((n.position[0] + shift[0], n.position[1] + shift[1]) in taken for n in fragment.nodes):
                break
            shift = (shift[0] + PASTE_OFFSET, shift[1] + PASTE_OFFSET)
        nodes = [
            Node(names[n.id], n.kind, (n.position[0] + shift[0], n.position[1] + shift[1]), n.params, n.label)
            for n in fragment.nodes
        ]
        links = [Link(names[lk.source], names[lk.target], lk.probability, lk.latency) for lk in fragment.links]
        self.document.undo_stack.push(AddItems(self.document, nodes, links, text))
        self.scene.select([n.id for n in nodes])
        return [n.id for n in nodes]

    def arrange(self) -> None:
        """Lay the graph out left to right (one undo step)."""
        positions = arrange(self.document.model)
        moves = {
            node_id: (self.document.node(node_id).position, pos)
            for node_id, pos in positions.items()
            if self.document.node(node_id).position != pos
        }
        if moves:
            self.document.undo_stack.push(MoveNodes(self.document, moves, "Arrange"))
        self.arranged.emit()

    def connect_selection(self) -> list[tuple[str, str]]:
        """Link the selected nodes one after the other, in the order a request would flow:
        sources first, sinks last, left to right otherwise (one undo step). Pairs that
        cannot be linked (into a source, out of a sink, already linked) are skipped and
        said in the status bar. Returns the links made."""
        chosen = [self.document.node(n) for n in self.scene.selected_node_ids()]
        rank = {"source": 0, "clients": 0, "sink": 2}
        chain = sorted(chosen, key=lambda n: (rank.get(n.kind, 1), n.position[0], n.position[1], n.id))
        links, skipped = [], []
        for a, b in zip(chain, chain[1:]):
            problem = self.scene.link_problem(a.id, b.id)
            if problem:
                skipped.append(problem)
            else:
                links.append(Link(a.id, b.id))
        if links:
            text = f"Connect {' → '.join(n.id for n in chain)}"
            self.document.undo_stack.push(AddItems(self.document, [], links, text))
        if skipped:
            self.message_posted.emit("Not linked: " + "; ".join(skipped))
        elif links:
            self.message_posted.emit(f"Linked {len(links)} pair(s): {' → '.join(n.id for n in chain)}")
        return [(lk.source, lk.target) for lk in links]

    def nudge(self, dx: float, dy: float) -> None:
        """Move the selected nodes by ``(dx, dy)`` scene units (arrow keys; presses in a row
        are one undo step)."""
        ids = self.scene.selected_node_ids()
        if not ids:
            return
        moves = {}
        for node_id in ids:
            x, y = self.document.node(node_id).position
            moves[node_id] = ((x, y), (x + dx, y + dy))
        self.document.undo_stack.push(NudgeNodes(self.document, moves, "Move with keys"))

    def select_towards(self, dx: int, dy: int, extend: bool = False) -> str | None:
        """Select the nearest node in direction ``(dx, dy)`` from the current one (the first
        node when nothing is selected); ``extend`` adds it to the selection. Returns its id."""
        nodes = self.document.model.nodes
        if not nodes:
            return None
        selected = self.scene.selected_node_ids()
        if not selected:
            first = min(nodes, key=lambda n: (n.position[0], n.position[1]))
            self.scene.select([first.id])
            return first.id
        here = self.document.node(selected[-1]).position
        best, best_score = None, None
        for node in nodes:
            vx, vy = node.position[0] - here[0], node.position[1] - here[1]
            along = vx * dx + vy * dy
            if node.id in selected or along <= 0:
                continue
            across = abs(vx * dy - vy * dx)
            score = along + 2 * across  # prefer nodes straight ahead
            if best_score is None or score < best_score:
                best, best_score = node.id, score
        if best is None:
            return None
        self.scene.select([*selected, best] if extend else [best])
        return best

    def _rename(self) -> None:
        nodes = self.scene.selected_node_ids()
        if len(nodes) == 1:
            self.rename_requested.emit(nodes[0])

    def add_node_actions(self, centre: QPointF, parent: QObject) -> list[QAction]:
        """One action per kind that adds that kind at ``centre`` (for the canvas menu)."""
        actions = []
        for kind in KINDS.values():
            action = QAction(kind_icon(kind.name), kind.label, parent)
            action.setToolTip(kind.description.replace("`", ""))
            action.triggered.connect(lambda _=False, k=kind.name: self.add_node(k, centre))
            actions.append(action)
        return actions


def _only_graph(data: Any) -> dict[str, Any]:
    """The ``nodes`` and ``links`` of a pasted object (anything else is ignored)."""
    if not isinstance(data, dict):
        return {"nodes": "not an object"}
    return {"nodes": data.get("nodes", []), "links": data.get("links", [])}
