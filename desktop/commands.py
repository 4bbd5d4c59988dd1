"""Undoable edits of a :class:`desktop.document.ModelDocument`.

Each command works only through the document's edit API and keeps just what it needs to
undo itself. Field edits made while typing carry a ``session`` number: consecutive edits of
the same field in the same session merge into one undo step, and a merged edit that ends
where it started drops out of the history.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from desktop.document import MISSING, LinkKey, ModelDocument
from engine.model import Link, Node

_SET_PARAMS, _SET_LINK_FIELD, _SET_SETTING, _SET_LABEL = 1001, 1002, 1003, 1004


class AddItems(QUndoCommand):
    """Add nodes and links (a palette drop, quick add, paste or duplicate)."""

    def __init__(self, document: ModelDocument, nodes: list[Node], links: list[Link], text: str = "Add") -> None:
        super().__init__(text)
        self._doc = document
        self._nodes = copy.deepcopy(nodes)
        self._links = copy.deepcopy(links)

    def redo(self) -> None:
        for node in self._nodes:
            self._doc.add_node(node)
        for link in self._links:
            self._doc.add_link(link)

    def undo(self) -> None:
        for link in reversed(self._links):
            self._doc.remove_link(link.source, link.target)
        for node in reversed(self._nodes):
            self._doc.remove_node(node.id)


class RemoveItems(QUndoCommand):
    """Delete nodes (with every link touching them) and links, restoring their order on undo."""

    def __init__(
        self, document: ModelDocument, node_ids: list[str], links: list[LinkKey], text: str = "Delete"
    ) -> None:
        super().__init__(text)
        self._doc = document
        doomed = set(node_ids)
        model = document.model
        self._node_ids = [n.id for n in model.nodes if n.id in doomed]
        keys = set(links)
        self._link_keys = [
            (lk.source, lk.target)
            for lk in model.links
            if (lk.source, lk.target) in keys or lk.source in doomed or lk.target in doomed
        ]
        self._removed_nodes: list[tuple[Node, int]] = []
        self._removed_links: list[tuple[Link, int]] = []

    def redo(self) -> None:
        self._removed_links = [self._doc.remove_link(*key) for key in reversed(self._link_keys)]
        self._removed_nodes = [self._doc.remove_node(node_id) for node_id in reversed(self._node_ids)]

    def undo(self) -> None:
        for node, index in reversed(self._removed_nodes):
            self._doc.add_node(node, index)
        for link, index in reversed(self._removed_links):
            self._doc.add_link(link, index)


class MoveNodes(QUndoCommand):
    """Move nodes: one mouse drag, or an "Arrange", is one command."""

    def __init__(
        self,
        document: ModelDocument,
        moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
        text: str = "Move",
    ) -> None:
        super().__init__(text)
        self._doc = document
        self._moves = dict(moves)

    def redo(self) -> None:
        for node_id, (_old, new) in self._moves.items():
            self._doc.move_node(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _new) in self._moves.items():
            self._doc.move_node(node_id, old)


class NudgeNodes(MoveNodes):
    """Move nodes with the arrow keys: presses in a row on the same nodes are one undo step."""

    def id(self) -> int:
        return 0x6E75

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, NudgeNodes) or set(other._moves) != set(self._moves):
            return False
        for node_id, (_old, new) in other._moves.items():
            self._moves[node_id] = (self._moves[node_id][0], new)
        return True


class _MergingEdit(QUndoCommand):
    """Base of field edits that merge while the user keeps typing in the same field."""

    merge_id = -1

    def __init__(self, text: str, key: tuple[Any, ...], old: Any, new: Any, session: int | None) -> None:
        super().__init__(text)
        self._key = key
        self._old = copy.deepcopy(old)
        self._new = copy.deepcopy(new)
        self._session = session

    def id(self) -> int:
        return self.merge_id if self._session is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, type(self)) or other._session != self._session or other._key != self._key:
            return False
        self._new = copy.deepcopy(other._new)
        self.setObsolete(self._new == self._old)
        return True


class SetParams(_MergingEdit):
    """Set several parameters of one node at once (``MISSING`` removes one)."""

    merge_id = _SET_PARAMS

    def __init__(
        self, document: ModelDocument, node_id: str, changes: dict[str, Any], session: int | None = None
    ) -> None:
        params = document.node(node_id).params
        old = {name: params.get(name, MISSING) for name in changes}
        names = ", ".join(changes)
        super().__init__(f"Change {names} of {node_id}", (node_id, tuple(sorted(changes))), old, changes, session)
        self._doc = document

    def redo(self) -> None:
        self._apply(self._new)

    def undo(self) -> None:
        self._apply(self._old)

    def _apply(self, values: dict[str, Any]) -> None:
        node_id = self._key[0]
        for name, value in values.items():
            self._doc.set_param(node_id, name, value)


class SetLinkField(_MergingEdit):
    """Set a link's ``probability`` or ``latency``."""

    merge_id = _SET_LINK_FIELD

    def __init__(
        self, document: ModelDocument, key: LinkKey, name: str, value: Any, session: int | None = None
    ) -> None:
        old = getattr(document.link(*key), name)
        super().__init__(f"Change link {name}", (key, name), old, value, session)
        self._doc = document

    def redo(self) -> None:
        (source, target), name = self._key
        self._doc.set_link_field(source, target, name, self._new)

    def undo(self) -> None:
        (source, target), name = self._key
        self._doc.set_link_field(source, target, name, self._old)


class SetSetting(_MergingEdit):
    """Change a simulation setting, or the model's name or description."""

    merge_id = _SET_SETTING

    def __init__(self, document: ModelDocument, name: str, value: Any, session: int | None = None) -> None:
        super().__init__(f"Change {name}", (name,), document.setting(name), value, session)
        self._doc = document

    def redo(self) -> None:
        self._doc.set_setting(self._key[0], self._new)

    def undo(self) -> None:
        self._doc.set_setting(self._key[0], self._old)


class SetLabel(_MergingEdit):
    """Change the label a node shows on the canvas."""

    merge_id = _SET_LABEL

    def __init__(self, document: ModelDocument, node_id: str, label: str | None, session: int | None = None) -> None:
        super().__init__(f"Label {node_id}", (node_id,), document.node(node_id).label, label or None, session)
        self._doc = document

    def redo(self) -> None:
        self._doc.set_label(self._key[0], self._new)

    def undo(self) -> None:
        self._doc.set_label(self._key[0], self._old)


class RenameNode(QUndoCommand):
    """Give a node a new id (its links follow)."""

    def __init__(self, document: ModelDocument, old_id: str, new_id: str) -> None:
        super().__init__(f"Rename {old_id} to {new_id}")
        self._doc = document
        self._old, self._new = old_id, new_id

    def redo(self) -> None:
        self._doc.rename_node(self._old, self._new)

    def undo(self) -> None:
        self._doc.rename_node(self._new, self._old)


class RerouteLink(QUndoCommand):
    """Move one end of a link to another node, keeping its probability, latency and place."""

    def __init__(self, document: ModelDocument, old: LinkKey, new: LinkKey) -> None:
        super().__init__("Re-route link")
        self._doc = document
        self._old, self._new = old, new

    def redo(self) -> None:
        self._move(self._old, self._new)

    def undo(self) -> None:
        self._move(self._new, self._old)

    def _move(self, frm: LinkKey, to: LinkKey) -> None:
        link, index = self._doc.remove_link(*frm)
        self._doc.add_link(Link(to[0], to[1], link.probability, link.latency), index)


class SetExperiments(QUndoCommand):
    """Replace the model's ``experiments`` block: keep a sweep with the model, or forget one."""

    def __init__(self, document: ModelDocument, block: dict[str, Any] | None, text: str = "Keep Sweep") -> None:
        super().__init__(text)
        self._doc = document
        self._old = copy.deepcopy(document.model.experiments)
        self._new = copy.deepcopy(block)

    def redo(self) -> None:
        self._doc.set_experiments(copy.deepcopy(self._new))

    def undo(self) -> None:
        self._doc.set_experiments(copy.deepcopy(self._old))
