"""The open model document: one :class:`engine.model.Model`, a small edit API and signals.

Every view (canvas, inspector, run controls) reads the model through :class:`ModelDocument`
and redraws when it emits a signal; every edit reaches it through a ``QUndoCommand`` from
:mod:`desktop.commands`, so undo and redo cover all of them. Links are identified by their
``(source, target)`` pair, which the editor keeps unique.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.model import Link, Model, Node, Report, arrival_rates, check_document
from engine.model.schema import KINDS

LinkKey = tuple[str, str]


class _Missing:
    """Marker for a parameter that is absent from ``params`` (unlike one set to null)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __copy__(self) -> _Missing:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self


#: Passed as a value to :meth:`ModelDocument.set_param` to remove the parameter.
MISSING: Any = _Missing()


class ModelDocument(QObject):
    """The model being edited, with its file path, modified flag and undo stack.

    The edit methods are the primitive steps the commands are made of; they raise
    ``KeyError`` for unknown node ids or links and ``ValueError`` for edits that would
    break the document's identity rules (duplicate ids, duplicate links).
    """

    node_added = Signal(str)
    node_removed = Signal(str)
    node_changed = Signal(str)
    node_renamed = Signal(str, str)
    link_added = Signal(str, str)
    link_removed = Signal(str, str)
    link_changed = Signal(str, str)
    settings_changed = Signal()
    #: The model's ``experiments`` block (kept sweeps) changed.
    experiments_changed = Signal()
    document_reset = Signal()
    #: After any node or link signal and document_reset: the model's nodes or links changed
    #: (or the whole model did); not after settings_changed.
    contents_changed = Signal()
    modified_changed = Signal(bool)
    path_changed = Signal(str)

    def __init__(self, model: Model | None = None, path: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model if model is not None else Model()
        self._path = path
        self._forced_modified = False
        self._stack_clean = True
        self._report: Report | None = None
        self._run_problems: list[str] | None = None
        self._rates: dict[str, float] | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        for signal in (
            self.node_added,
            self.node_removed,
            self.node_changed,
            self.node_renamed,
            self.link_added,
            self.link_removed,
            self.link_changed,
            self.document_reset,
        ):
            signal.connect(self._contents_changed)
        self.settings_changed.connect(self._invalidate)

    # ------------------------------------------------------------ reading
    @property
    def model(self) -> Model:
        """The model itself: read it freely, change it only through the edit methods."""
        return self._model

    @property
    def path(self) -> str | None:
        """The file the document was opened from or saved to, or None for a new one."""
        return self._path

    @property
    def modified(self) -> bool:
        """True when there are changes not yet saved."""
        return self._forced_modified or not self._stack_clean

    def node(self, node_id: str) -> Node:
        """The node with this id (KeyError if none)."""
        return self._model.node(node_id)

    def has_node(self, node_id: str) -> bool:
        """Whether a node has this id."""
        return any(n.id == node_id for n in self._model.nodes)

    def link(self, source: str, target: str) -> Link:
        """The link from ``source`` to ``target`` (KeyError if none)."""
        return self._model.links[self.link_index(source, target)]

    def link_index(self, source: str, target: str) -> int:
        """Position of a link in the document's list (KeyError if none)."""
        for i, link in enumerate(self._model.links):
            if link.source == source and link.target == target:
                return i
        raise KeyError((source, target))

    def has_link(self, source: str, target: str) -> bool:
        """Whether a link joins ``source`` to ``target``."""
        return any(lk.source == source and lk.target == target for lk in self._model.links)

    def report(self) -> Report:
        """Validation of the current model (graph problems as warnings), cached until the next edit."""
        if self._report is None:
            self._report = check_document(self._model, check_graph=False)
        return self._report

    def run_problems(self) -> list[str]:
        """The problems that stop the model from running (a run checks the whole graph too),
        cached until the next edit; empty when it can run. Saving and editing never need it
        to be empty."""
        if self._run_problems is None:
            self._run_problems = list(check_document(self._model).errors)
        return self._run_problems

    def arrival_rates(self) -> dict[str, float]:
        """Long-run arrival rate per node from the traffic equations, cached until the next edit."""
        if self._rates is None:
            try:
                self._rates = arrival_rates(self._model)
            except (TypeError, ValueError, KeyError):
                self._rates = {}
        return self._rates

    def fresh_id(self, base: str, reserved: set[str] | frozenset[str] = frozenset()) -> str:
        """An id used by no node nor in ``reserved``, built from ``base``.

        A kind name gets a number ("server" → "server1"); another id is kept when free,
        else numbered ("cpu" → "cpu2").
        """
        stem = re.sub(r"\d+$", "", base.strip()) or "node"
        used = {n.id for n in self._model.nodes} | set(reserved)
        if stem not in KINDS and base.strip() and base.strip() not in used:
            return base.strip()
        number = 1 if stem in KINDS else 2
        while f"{stem}{number}" in used:
            number += 1
        return f"{stem}{number}"

    # ------------------------------------------------------------ editing
    def add_node(self, node: Node, index: int | None = None) -> None:
        """Insert ``node`` (at ``index``, default last); ValueError if its id is taken."""
        if self.has_node(node.id):
            raise ValueError(f"a node already has id {node.id!r}")
        nodes = self._model.nodes
        nodes.insert(len(nodes) if index is None else index, copy.deepcopy(node))
        self.node_added.emit(node.id)

    def remove_node(self, node_id: str) -> tuple[Node, int]:
        """Remove a node that has no links; returns it and its former index."""
        if any(node_id in (lk.source, lk.target) for lk in self._model.links):
            raise ValueError(f"node {node_id!r} still has links")
        index = next((i for i, n in enumerate(self._model.nodes) if n.id == node_id), None)
        if index is None:
            raise KeyError(node_id)
        node = self._model.nodes.pop(index)
        self.node_removed.emit(node_id)
        return node, index

    def move_node(self, node_id: str, position: tuple[float, float]) -> None:
        """Place a node's top-left corner at ``position`` (scene units)."""
        node = self.node(node_id)
        node.position = (float(position[0]), float(position[1]))
        self.node_changed.emit(node_id)

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set one parameter (a deep copy of ``value``); :data:`MISSING` removes it."""
        node = self.node(node_id)
        if value is MISSING:
            node.params.pop(name, None)
        else:
            node.params[name] = copy.deepcopy(value)
        self.node_changed.emit(node_id)

    def set_label(self, node_id: str, label: str | None) -> None:
        """Set the label shown on the canvas (None or "" shows the id)."""
        self.node(node_id).label = label or None
        self.node_changed.emit(node_id)

    def rename_node(self, old_id: str, new_id: str) -> None:
        """Give a node a new id, updating its links; ValueError if ``new_id`` is empty or taken."""
        if not new_id.strip() or self.has_node(new_id):
            raise ValueError(f"cannot rename {old_id!r} to {new_id!r}")
        self.node(old_id).id = new_id
        for link in self._model.links:
            if link.source == old_id:
                link.source = new_id
            if link.target == old_id:
                link.target = new_id
        self.node_renamed.emit(old_id, new_id)

    def add_link(self, link: Link, index: int | None = None) -> None:
        """Insert ``link``; ValueError for an unknown end or a second link between the same nodes."""
        if not (self.has_node(link.source) and self.has_node(link.target)):
            raise ValueError(f"unknown node in link {link.source!r} → {link.target!r}")
        if self.has_link(link.source, link.target):
            raise ValueError(f"a link from {link.source!r} to {link.target!r} exists")
        links = self._model.links
        links.insert(len(links) if index is None else index, copy.deepcopy(link))
        self.link_added.emit(link.source, link.target)

    def remove_link(self, source: str, target: str) -> tuple[Link, int]:
        """Remove a link; returns it and its former index."""
        index = self.link_index(source, target)
        link = self._model.links.pop(index)
        self.link_removed.emit(source, target)
        return link, index

    def set_link_field(self, source: str, target: str, name: str, value: Any) -> None:
        """Set ``probability`` or ``latency`` of a link (None clears it)."""
        if name not in ("probability", "latency"):
            raise ValueError(f"links have no field {name!r}")
        setattr(self.link(source, target), name, copy.deepcopy(value))
        self.link_changed.emit(source, target)

    def set_setting(self, name: str, value: Any) -> None:
        """Set a field of the simulation block, or the model's ``name``/``description``."""
        if name in ("name", "description"):
            setattr(self._model, name, value)
        elif hasattr(self._model.simulation, name):
            setattr(self._model.simulation, name, value)
        else:
            raise ValueError(f"unknown setting {name!r}")
        self.settings_changed.emit()

    def set_experiments(self, block: dict[str, Any] | None) -> None:
        """Replace the model's ``experiments`` block (the sweeps kept with it)."""
        self._model.experiments = block
        self.experiments_changed.emit()

    def setting(self, name: str) -> Any:
        """Current value of a setting accepted by :meth:`set_setting`."""
        if name in ("name", "description"):
            return getattr(self._model, name)
        return getattr(self._model.simulation, name)

    # ------------------------------------------------------------ lifecycle
    def reset(self, model: Model, path: str | None = None, *, modified: bool = False) -> None:
        """Replace the whole model (New, Open, restore); clears the undo history."""
        self._model = model
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._forced_modified = modified
        self.document_reset.emit()
        self.set_path(path)
        self._emit_modified()

    def swap_model(self, model: Model) -> Model:
        """Show ``model`` in place of the current one, keeping the undo history and the
        file (switching between scenarios A and B, see :mod:`desktop.scenarios`); emits
        ``document_reset`` and returns the model it replaced."""
        old, self._model = self._model, model
        self.document_reset.emit()
        return old

    def set_path(self, path: str | None) -> None:
        """Remember the document's file."""
        self._path = str(Path(path)) if path else None
        self.path_changed.emit(self._path or "")

    def mark_saved(self, path: str) -> None:
        """Record that the document now matches the file at ``path``."""
        self._forced_modified = False
        self.set_path(path)
        self.undo_stack.setClean()
        self._emit_modified()

    def _clean_changed(self, clean: bool) -> None:
        self._stack_clean = clean
        self._emit_modified()

    def _emit_modified(self) -> None:
        self.modified_changed.emit(self.modified)

    def _invalidate(self, *_args: object) -> None:
        self._report = None
        self._run_problems = None
        self._rates = None

    def _contents_changed(self, *_args: object) -> None:
        self._invalidate()
        self.contents_changed.emit()
