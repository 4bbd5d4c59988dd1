"""Scenario B: a fork of the model that is edited beside the original (scenario A).

The window's :class:`~desktop.document.ModelDocument` always holds the scenario being
edited; :class:`Scenarios` keeps the other one parked and swaps them when the user
switches (:meth:`ModelDocument.swap_model`, which keeps the undo history). Forking,
switching and discarding B are commands on the document's one undo stack, so every edit,
to A or to B, is undone in the scenario it was made in: the stack is linear, and undoing a
switch brings back the scenario the edits before it were made to.

Saving: **File ▸ Save always writes scenario A** (the model), whichever is shown; **Compare
▸ Save Scenario B As…** writes B as a model file of its own (``queuestudio compare A.json
B.json`` compares the two). B is not kept inside A's file. Closing the window, opening
another model or discarding B asks first when B has changes not written to a file, so B is
never lost silently. The crash-recovery file holds scenario A (:class:`RecoveryView`).

The differences of B from A (:func:`differences`, :func:`differing_params`) are shown by
the views of :mod:`desktop.scenario_views`: the A/B switch on the canvas, a "B≠A" tag on
each node that differs, a banner and tinted fields in the inspector.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop.document import ModelDocument
from engine.model import Model, save_model

#: The colours of the two scenarios wherever they are told apart (switch, marks, charts).
COLOR_A, COLOR_B = "#1a73e8", "#e8710a"
#: Key of the differences that belong to no node (settings, removed nodes).
MODEL_WIDE = ""


# ------------------------------------------------------------------ differences
def show_value(value: Any) -> str:
    """A parameter value as the differences show it (numbers short, objects as JSON)."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


def differences(a: Model, b: Model) -> dict[str, list[str]]:
    """What B changes from A, as readable lines keyed by B's node id (:data:`MODEL_WIDE` for
    settings and nodes B no longer has). Positions and labels are not differences."""
    out: dict[str, list[str]] = {}
    a_nodes = {n.id: n for n in a.nodes}
    b_ids = {n.id for n in b.nodes}
    for node in b.nodes:
        old = a_nodes.get(node.id)
        if old is None:
            out[node.id] = ["only in B"]
            continue
        lines = [] if old.kind == node.kind else [f"kind: {old.kind} → {node.kind}"]
        for name in sorted(set(old.params) | set(node.params)):
            before, after = old.params.get(name), node.params.get(name)
            if before == after:
                continue
            if isinstance(before, dict) and isinstance(after, dict) and before.get("dist") == after.get("dist"):
                # The same distribution (or concurrency object) with other values: name those.
                for key in [k for k in {**before, **after} if before.get(k) != after.get(k)]:
                    lines.append(f"{name} {key}: {show_value(before.get(key))} → {show_value(after.get(key))}")
            else:
                lines.append(f"{name}: {show_value(before)} → {show_value(after)}")
        if lines:
            out[node.id] = lines
    a_links = {(lk.source, lk.target): lk for lk in a.links}
    b_links = {(lk.source, lk.target): lk for lk in b.links}
    for key in sorted(set(a_links) | set(b_links)):
        before, after = a_links.get(key), b_links.get(key)
        where = key[0] if key[0] in b_ids else MODEL_WIDE
        if before is None:
            out.setdefault(where, []).append(f"link to {key[1]}: only in B")
        elif after is None:
            out.setdefault(where, []).append(f"link to {key[1]}: removed in B")
        else:
            for name in ("probability", "latency"):
                if getattr(before, name) != getattr(after, name):
                    line = f"link to {key[1]} {name}: {show_value(getattr(before, name))} → {show_value(getattr(after, name))}"
                    out.setdefault(where, []).append(line)
    wide = [f"{n}: removed in B" for n in a_nodes if n not in b_ids]
    sa, sb = a.simulation.to_dict(), b.simulation.to_dict()
    wide += [f"simulation {k}: {show_value(sa[k])} → {show_value(sb[k])}" for k in sa if sa[k] != sb.get(k)]
    if wide:
        out.setdefault(MODEL_WIDE, []).extend(wide)
    return out


# ------------------------------------------------------------------ commands
class ForkScenario(QUndoCommand):
    """Copy the model into scenario B and show B (undo: back to A, B gone)."""

    def __init__(self, scenarios: Scenarios) -> None:
        super().__init__("Fork scenario B")
        self._scenarios = scenarios
        self._b: Model | None = None

    def redo(self) -> None:
        s = self._scenarios
        if self._b is None:
            self._b = s.document.model.copy()
            self._b.name = f"{s.document.model.name} (B)"
        s._install_b(self._b.copy(), show=True)

    def undo(self) -> None:
        self._scenarios._remove_b()


class SwitchScenario(QUndoCommand):
    """Show the other scenario in the canvas and inspector."""

    def __init__(self, scenarios: Scenarios, target: str) -> None:
        super().__init__(f"Show scenario {target}")
        self._scenarios = scenarios
        self._target = target

    def redo(self) -> None:
        self._scenarios._swap_to(self._target)

    def undo(self) -> None:
        self._scenarios._swap_to("B" if self._target == "A" else "A")


class DiscardScenario(QUndoCommand):
    """Drop scenario B (showing A); undo brings it back as it was."""

    def __init__(self, scenarios: Scenarios) -> None:
        super().__init__("Discard scenario B")
        self._scenarios = scenarios
        self._b: Model | None = None
        self._was_shown = False

    def redo(self) -> None:
        s = self._scenarios
        self._was_shown = s.active == "B"
        self._b = s.model_b.copy() if s.model_b is not None else None
        s._remove_b()

    def undo(self) -> None:
        if self._b is not None:
            self._scenarios._install_b(self._b.copy(), show=self._was_shown)


# ------------------------------------------------------------------ the pair
class Scenarios(QObject):
    """Scenarios A and B of one window's document (see the module's docstring).

    ``changed`` is emitted when B appears or goes, or the shown scenario changes;
    ``differences_changed`` when what B changes from A may have changed.
    """

    changed = Signal()
    differences_changed = Signal()

    def __init__(self, document: ModelDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.active = "A"
        self.b_path: str | None = None
        #: While True, the switch and the commands are refused (a live run is going).
        self.locked = False
        self._parked: Model | None = None  # the scenario not shown; None: there is no B
        self._b_saved: dict[str, Any] | None = None  # B as last written to b_path
        self._swapping = False
        self._diffs: dict[str, list[str]] | None = None
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._refresh)
        document.document_reset.connect(self._document_reset)
        document.contents_changed.connect(self._edited)
        document.settings_changed.connect(self._edited)

    # ---------------------------------------------------------- reading
    @property
    def has_b(self) -> bool:
        """Whether scenario B exists."""
        return self._parked is not None

    @property
    def model_a(self) -> Model:
        """Scenario A, the model (what File ▸ Save writes)."""
        return self.document.model if self.active == "A" or self._parked is None else self._parked

    @property
    def model_b(self) -> Model | None:
        """Scenario B, or None before a fork."""
        if self._parked is None:
            return None
        return self.document.model if self.active == "B" else self._parked

    @property
    def b_unsaved(self) -> bool:
        """Whether B holds changes written to no file (always, until it is first saved)."""
        b = self.model_b
        return b is not None and (self._b_saved is None or b.to_dict() != self._b_saved)

    def differences(self) -> dict[str, list[str]]:
        """:func:`differences` of B from A (empty without B), cached until the next edit."""
        if self._diffs is None:
            b = self.model_b
            self._diffs = {} if b is None else differences(self.model_a, b)
        return self._diffs

    # ---------------------------------------------------------- user actions
    def fork(self) -> bool:
        """Fork scenario B from the model and show it (undoable); False when B exists or locked."""
        if self.has_b or self.locked:
            return False
        self.document.undo_stack.push(ForkScenario(self))
        return True

    def show(self, name: str) -> bool:
        """Show scenario ``name`` ("A" or "B"), undoably; False when it is shown already, there
        is no B, or a run holds the document."""
        if name == self.active or not self.has_b or self.locked or name not in ("A", "B"):
            return False
        self.document.undo_stack.push(SwitchScenario(self, name))
        return True

    def toggle(self) -> bool:
        """Show the other scenario."""
        return self.show("B" if self.active == "A" else "A")

    def discard_b(self, parent: QWidget | None = None) -> bool:
        """Drop B (undoable), after asking to save it when it has unsaved changes."""
        if not self.has_b or self.locked or not self.maybe_keep_b(parent, "Discard scenario B"):
            return False
        self.document.undo_stack.push(DiscardScenario(self))
        return True

    def save_b_as(self, parent: QWidget | None = None, path: str | None = None) -> bool:
        """Write B to a model file (asked for when ``path`` is None); True when written."""
        b = self.model_b
        if b is None:
            return False
        if path is None:
            start = (
                self.b_path or str(Path(self.document.path or Path.home() / "model.json").with_suffix("")) + "-B.json"
            )
            path, _filter = QFileDialog.getSaveFileName(
                parent, "Save Scenario B As", start, "Queue Studio models (*.json);;All files (*)"
            )
            if not path:
                return False
            if not path.endswith(".json"):
                path += ".json"
        try:
            save_model(b, path)
        except (OSError, ValueError) as exc:
            QMessageBox.critical(parent, "Cannot Save Scenario B", f"{path} could not be written:\n\n{exc}")
            return False
        self.b_path = str(path)
        self._b_saved = b.to_dict()
        self.changed.emit()
        return True

    def maybe_keep_b(self, parent: QWidget | None = None, doing: str = "Close") -> bool:
        """Before B would go away: offer to save its unsaved changes; False when the user cancels."""
        if not self.b_unsaved:
            return True
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            parent,
            "Scenario B Not Saved",
            f"{doing}: scenario B has changes not saved to a file. Save scenario B first?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        if answer == buttons.Save:
            return self.save_b_as(parent)
        return answer == buttons.Discard

    # ---------------------------------------------------------- what the commands do
    def _install_b(self, b: Model, *, show: bool) -> None:
        if show:
            self._parked = self._swap(b)
            self.active = "B"
        else:
            self._parked = b
        self._changed()

    def _remove_b(self) -> None:
        if self.active == "B":
            self._swap(self._parked)  # type: ignore[arg-type]
            self.active = "A"
        self._parked = None
        self.b_path = self._b_saved = None
        self._changed()

    def _swap_to(self, target: str) -> None:
        if target != self.active and self._parked is not None:
            self._parked = self._swap(self._parked)
            self.active = target
            self._changed()

    def _swap(self, model: Model) -> Model:
        self._swapping = True
        try:
            return self.document.swap_model(model)
        finally:
            self._swapping = False

    def _changed(self) -> None:
        self._diffs = None
        self.changed.emit()
        self.differences_changed.emit()

    def _document_reset(self) -> None:
        if self._swapping:
            return
        # Another model was opened or created (the window asked about B first): B goes.
        self._parked = None
        self.active = "A"
        self.b_path = self._b_saved = None
        self._changed()

    def _edited(self) -> None:
        self._diffs = None
        if self.has_b:
            self._timer.start()  # the views redraw once after a burst of edits

    def _refresh(self) -> None:
        if self.has_b:
            self.differences_changed.emit()


class RecoveryView:
    """What the crash-recovery autosave reads instead of the document: the document's path
    and modified flag, and scenario A's model whichever scenario is shown."""

    def __init__(self, document: ModelDocument, scenarios: Scenarios) -> None:
        self._document = document
        self._scenarios = scenarios

    @property
    def model(self) -> Model:
        return self._scenarios.model_a

    @property
    def path(self) -> str | None:
        return self._document.path

    @property
    def modified(self) -> bool:
        return self._document.modified

    def __getattr__(self, name: str) -> Any:
        return getattr(self._document, name)


def differing_params(a: Model, b: Model, node_id: str) -> dict[str, tuple[Any, Any]]:
    """The parameters of ``node_id`` whose values differ between A and B, as (A's, B's)
    (empty when either scenario lacks the node)."""
    try:
        pa, pb = a.node(node_id).params, b.node(node_id).params
    except KeyError:
        return {}
    return {name: (pa.get(name), pb.get(name)) for name in {**pa, **pb} if pa.get(name) != pb.get(name)}


__all__ = [
    "COLOR_A",
    "COLOR_B",
    "MODEL_WIDE",
    "DiscardScenario",
    "ForkScenario",
    "RecoveryView",
    "Scenarios",
    "SwitchScenario",
    "differences",
    "differing_params",
    "show_value",
]
