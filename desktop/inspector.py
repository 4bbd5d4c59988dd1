"""The inspector: edits the selected node or link, or the model's settings when nothing is
selected. Its fields are built from :data:`engine.model.schema.KINDS`; every value is
checked by the engine's own validation before it becomes a command, so an invalid value
is shown in place and never reaches the document."""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.commands import RenameNode, SetLabel, SetLinkField, SetParams, SetSetting
from desktop.document import MISSING, LinkKey, ModelDocument
from desktop.icons import kind_pixmap
from desktop.inspector_fields import ChoiceField, Field, NumberField, ProfileField, TextField
from desktop.inspector_pickers import ConcurrencyField, DistributionField
from desktop.theme import color_label, follow_palette, status_color
from engine.model import Model, ModelError, Node, check_document, model_from_dict, offered_load
from engine.model.build import live_params
from engine.model.schema import KINDS, SIMULATION_FIELDS, Kind, Param

_UNSET = object()


def field_label(label: str, unit: str) -> str:
    """A form label with its unit: "service time (s)"."""
    return f"{label} ({unit})" if unit else label


def make_field(param: Param) -> Field:
    """The editor for one schema parameter."""
    if param.type in ("int", "number"):
        bound = "" if param.minimum is None else f"{'>' if param.exclusive_minimum else '≥'} {param.minimum:g}"
        empty = "unlimited" if "unlimited" in param.help else "none"
        hint = f"{empty}, or {bound}" if param.nullable and bound else empty if param.nullable else bound
        return NumberField(param.type == "int", param.nullable, hint)
    if param.type == "choice":
        return ChoiceField(param.choices, param.nullable)
    if param.type == "dist":
        return DistributionField(param.nullable or not param.required)
    if param.type == "concurrency":
        return ConcurrencyField()
    if param.type == "profile":
        return ProfileField()
    raise ValueError(f"no editor for parameter type {param.type!r}")


def _has_offered_load(kind: Kind) -> bool:
    """Whether a station of ``kind`` has an offered load ρ (an infinite-server station has none)."""
    service = kind.service(kind.resolve({}))
    return service is not None and not service.infinite


def node_problems(node: Node) -> list[str]:
    """The engine's errors about one node on its own (without the "node 'x':" prefix)."""
    report = check_document(Model(nodes=[node]), check_graph=False)
    prefix = f"node {node.id!r}: "
    return [e.removeprefix(prefix) for e in report.errors]


def document_problems(data: dict[str, Any], prefix: str) -> list[str]:
    """Errors the engine finds in a small model document, keeping those starting with ``prefix``."""
    try:
        model_from_dict({"format": "queuestudio-model", "version": 1, **data}, check_graph=False)
    except ModelError as exc:
        return [p.removeprefix(prefix).lstrip(": ") for p in exc.problems if p.startswith(prefix)]
    return []


#: Parameter types a sweep can vary (a distribution through its mean).
SWEEPABLE_TYPES = ("int", "number", "concurrency", "dist")
#: Simulation settings a sweep can vary.
SWEEPABLE_SETTINGS = ("end_time", "warmup", "sample_interval")
SWEEP_TEXT = "Sweep this parameter…"


class Inspector(QScrollArea):
    """Shows the fields of one node, one link, or the model; see :meth:`inspect`.

    ``sweep_requested(node_id_or_None, name)`` asks for a sweep of a numeric field (a node's
    parameter, or a simulation setting when the node is None): from the field's context menu
    or its small sweep button.
    """

    sweep_requested = Signal(object, str)

    def __init__(self, document: ModelDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._mode = "model"
        self._active: Field | None = None
        self._origins: dict[tuple[str, int], Any] = {}
        self._deferred = False
        self.node_id: str | None = None
        self.link_key: LinkKey | None = None
        self.fields: dict[str, Field] = {}
        self.rho_label: QLabel | None = None
        self.problems_label: QLabel | None = None
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Inspector")
        document.node_changed.connect(self._node_changed)
        document.node_renamed.connect(self._node_renamed)
        document.node_removed.connect(lambda node_id: self._gone(node_id == self.node_id))
        document.link_changed.connect(lambda s, t: self._refresh() if (s, t) == self.link_key else self._refresh_rho())
        document.link_removed.connect(lambda s, t: self._gone((s, t) == self.link_key))
        document.link_added.connect(lambda _s, _t: self._refresh_rho())
        document.settings_changed.connect(lambda: self._refresh() if self.mode == "model" else None)
        document.document_reset.connect(lambda: self.inspect([], []))
        self.inspect([], [])

    @property
    def mode(self) -> str:
        """``"node"``, ``"link"``, ``"model"`` or ``"many"``: what the inspector shows."""
        return self._mode

    def inspect(self, node_ids: list[str], link_keys: list[LinkKey]) -> None:
        """Show the one selected node or link, the model when nothing is selected, or a count."""
        self.fields = {}
        self.rho_label = self.problems_label = None
        self.node_id = node_ids[0] if len(node_ids) == 1 and not link_keys else None
        self.link_key = link_keys[0] if len(link_keys) == 1 and not node_ids else None
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 8)
        if self.node_id is not None:
            self._mode = "node"
            self._node_form(layout, self.document.node(self.node_id))
        elif self.link_key is not None:
            self._mode = "link"
            self._link_form(layout, self.link_key)
        elif node_ids or link_keys:
            self._mode = "many"
            layout.addWidget(QLabel(f"{len(node_ids)} nodes and {len(link_keys)} links selected"))
        else:
            self._mode = "model"
            self._model_form(layout)
        layout.addStretch(1)
        self.setWidget(body)
        self._refresh()

    def set_run_active(self, active: bool) -> None:
        """While a run goes (True), typed values are applied on Enter or focus out, one live
        change each, instead of on every keystroke (see :class:`Field`), and the fields the
        running model cannot take (not in the kind entry's ``live`` mapping) are disabled, saying
        why."""
        self._deferred = active
        for name, field in self.fields.items():
            field.set_deferred(active)
            self._lock(name, field)

    def _live(self, name: str) -> bool:
        """Whether field ``name`` of what is shown can change while a run goes."""
        if self._mode == "node" and self.node_id is not None:
            return name == "label" or name in live_params(self.document.node(self.node_id).kind)
        return self._mode == "model" and name in ("name", "description")

    def _lock(self, name: str, field: Field) -> None:
        locked = self._deferred and not self._live(name)
        field.setEnabled(not locked)
        help_text = field.property("help_text") or ""
        field.setToolTip(f"{help_text}\n(Cannot change during a run: stop it first.)".strip() if locked else help_text)

    def focus_field(self, name: str | None = None) -> None:
        """Put the keyboard focus in field ``name`` (default: the first)."""
        field = self.fields.get(name) if name else next(iter(self.fields.values()), None)
        if field is not None:
            field.focus_editor()

    # ------------------------------------------------------------ forms
    def _header(self, layout: QVBoxLayout, title: str, text: str, kind: str | None = None) -> None:
        row = QHBoxLayout()
        if kind is not None:
            icon = QLabel()
            icon.setPixmap(kind_pixmap(kind, 32, self.devicePixelRatioF()))
            row.addWidget(icon)
        heading = QLabel(f"<b>{title}</b>")
        heading.setTextFormat(Qt.TextFormat.RichText)
        row.addWidget(heading, 1)
        layout.addLayout(row)
        if text:
            about = QLabel(text.replace("`", ""))
            about.setWordWrap(True)
            about.setObjectName("inspector_about")
            color_label(about, "note")
            layout.addWidget(about)

    def _form(self, layout: QVBoxLayout) -> QFormLayout:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        layout.addLayout(form)
        return form

    def _add(self, form: QFormLayout, name: str, text: str, field: Field, help_text: str = "") -> None:
        label = QLabel(text)
        label.setToolTip(help_text)
        field.setToolTip(help_text)
        field.setProperty("help_text", help_text)
        if field._editors:
            label.setBuddy(field._editors[0])
            field._editors[0].setAccessibleName(text)
        if self._sweepable(name):
            form.addRow(label, self._with_sweep(name, text, field))
        else:
            form.addRow(label, field)
        field.edited.connect(lambda value, n=name, f=field: self._edited(n, f, value))
        field.rejected.connect(lambda n=name, f=field: self._revert(n, f))
        field.revert_requested.connect(self._refresh)
        field.set_deferred(self._deferred)
        self.fields[name] = field
        self._lock(name, field)

    # ------------------------------------------------------------ sweeps
    def _sweepable(self, name: str) -> bool:
        """Whether field ``name`` of what is shown is a number a sweep can vary."""
        if self.node_id is not None and self.link_key is None:
            kind = KINDS.get(self.document.node(self.node_id).kind)
            param = kind.param(name) if kind is not None else None
            return param is not None and param.type in SWEEPABLE_TYPES
        return self.node_id is None and self.link_key is None and name in SWEEPABLE_SETTINGS

    def _with_sweep(self, name: str, text: str, field: Field) -> QWidget:
        """``field`` with a small sweep button beside it and "Sweep this parameter…" in the
        context menu of its editors."""
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(field, 1)
        button = QToolButton(row)
        button.setText("∿")
        button.setAutoRaise(True)
        button.setObjectName(f"sweep_{name}")
        button.setToolTip(f"{SWEEP_TEXT} ({text}): plot a metric against a range of its values")
        button.setAccessibleName(f"Sweep {text}")
        button.clicked.connect(lambda _c=False, n=name: self.request_sweep(n))
        box.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        field.setProperty("sweep_button", button)
        for editor in [field, *field._editors]:
            editor.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            editor.customContextMenuRequested.connect(
                lambda pos, n=name, e=editor: self.sweep_menu(n, e).exec(e.mapToGlobal(pos))
            )
        return row

    def sweep_menu(self, name: str, editor: QWidget) -> QMenu:
        """The context menu of field ``name``'s ``editor``: the editor's own entries (a line
        editor's cut, copy, paste…), then "Sweep this parameter…"."""
        menu = editor.createStandardContextMenu() if isinstance(editor, QLineEdit) else QMenu(editor)
        menu.setParent(editor, menu.windowFlags())
        if not menu.isEmpty():
            menu.addSeparator()
        action = menu.addAction(SWEEP_TEXT)
        action.triggered.connect(lambda _c=False, n=name: self.request_sweep(n))
        menu.aboutToHide.connect(menu.deleteLater)
        return menu

    def request_sweep(self, name: str | None = None) -> bool:
        """Ask for a sweep of field ``name`` (default: the field with the keyboard focus);
        False when that field is not one a sweep can vary."""
        if name is None:
            name = self.focused_field()
        if name is None or not self._sweepable(name):
            return False
        self.sweep_requested.emit(self.node_id, name)
        return True

    def focused_field(self) -> str | None:
        """The name of the field whose editor has the keyboard focus, or None."""
        focus = self.focusWidget() or (self.window().focusWidget() if self.window() else None)
        for name, field in self.fields.items():
            if focus is not None and (focus is field or field.isAncestorOf(focus)):
                return name
        return None

    def sweep_button(self, name: str) -> QToolButton | None:
        """The small sweep button of field ``name`` (None if it has none)."""
        field = self.fields.get(name)
        button = field.property("sweep_button") if field is not None else None
        return button if isinstance(button, QToolButton) else None

    def _node_form(self, layout: QVBoxLayout, node: Node) -> None:
        kind = KINDS.get(node.kind)
        self._header(layout, kind.label if kind else node.kind, kind.description if kind else "", node.kind)
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        layout.addWidget(self.problems_label)
        form = self._form(layout)
        self._add(form, "id", "id", TextField(on_finish=True), "Unique name of the node")
        self._add(form, "label", "label", TextField(), "Text shown on the canvas (default: id)")
        for param in kind.params if kind else ():
            self._add(
                form, param.name, field_label(param.label, param.unit), make_field(param), param.help.replace("`", "")
            )
        if kind is not None and _has_offered_load(kind):
            self.rho_label = QLabel()
            follow_palette(self.rho_label, self._refresh_rho)
            self.rho_label.setToolTip("Offered load ρ = λ·E[S]/c from the traffic equations of the current model")
            form.addRow("offered load", self.rho_label)

    def _link_form(self, layout: QVBoxLayout, key: LinkKey) -> None:
        self._header(layout, f"Link {key[0]} → {key[1]}", "A request leaving the first node goes on to the second.")
        form = self._form(layout)
        self._add(
            form,
            "probability",
            "probability",
            NumberField(False, True, "none, or 0 to 1"),
            "Share of the source node's requests sent along this link (all its out-links need one)",
        )
        self._add(form, "latency", "latency (s)", DistributionField(True), "Network delay on the link")

    def _model_form(self, layout: QVBoxLayout) -> None:
        self._header(layout, "Model", "Select a node or link to edit it.")
        form = self._form(layout)
        self._add(form, "name", "name", TextField())
        self._add(form, "description", "description", TextField(multiline=True))
        for key, (_default, minimum, help_text) in SIMULATION_FIELDS.items():
            unit = "" if key == "seed" else "s"
            field = NumberField(key == "seed", key == "seed", f"≥ {minimum:g}" if key != "seed" else "random")
            self._add(form, key, field_label(key.replace("_", " "), unit), field, help_text)

    # ------------------------------------------------------------ edits
    def _edited(self, name: str, field: Field, value: Any) -> None:
        """Validate a typed value; commit it, or show why not and undo this visit's edits."""
        problem = self._problem(name, value)
        if problem:
            field.set_error(problem)
            self._revert(name, field)
            return
        field.set_error(None)
        if name != "id":
            self._origins.setdefault((name, field.session), self._current(name))
        if self._current(name) != value:
            self._commit(name, field, value)

    def _revert(self, name: str, field: Field) -> None:
        """While a field holds an invalid value, the document keeps the value it had when
        the field was entered (a valid prefix typed on the way is taken back)."""
        origin = self._origins.get((name, field.session), _UNSET)
        if origin is not _UNSET and self._current(name) != origin:
            self._commit(name, field, origin)

    def _current(self, name: str) -> Any:
        if self._mode == "node" and self.node_id is not None:
            node = self.document.node(self.node_id)
            return (
                node.id if name == "id" else (node.label or "") if name == "label" else node.params.get(name, MISSING)
            )
        if self._mode == "link" and self.link_key is not None:
            return getattr(self.document.link(*self.link_key), name)
        return self.document.setting(name)

    def _param_changes(self, node: Node, name: str, value: Any) -> dict[str, Any]:
        changes = {name: value}
        # A kind's exclusive parameters (a source's rate, interarrival, profile): setting one clears the others.
        exclusive = KINDS[node.kind].exclusive if node.kind in KINDS else ()
        if value is not None and value is not MISSING and name in exclusive:
            changes.update({other: MISSING for other in exclusive if other != name and other in node.params})
        return changes

    def _problem(self, name: str, value: Any) -> str | None:
        """The engine's objection to ``value`` for field ``name``, or None."""
        if self._mode == "node" and self.node_id is not None:
            node = self.document.node(self.node_id)
            if name == "id":
                new = str(value).strip()
                if not new:
                    return "a node needs an id"
                return f"another node is called {new!r}" if new != node.id and self.document.has_node(new) else None
            if name == "label":
                return None
            params = copy.deepcopy(node.params)
            for key, new_value in self._param_changes(node, name, value).items():
                if new_value is MISSING:
                    params.pop(key, None)
                else:
                    params[key] = new_value
            before = node_problems(node)
            fresh = [p for p in node_problems(Node(node.id, node.kind, node.position, params)) if p not in before]
            return fresh[0] if fresh else None
        if self._mode == "link" and self.link_key is not None:
            candidate = {**self.document.link(*self.link_key).to_dict(), name: value}
            ends = [self.document.node(n).to_dict() for n in dict.fromkeys(self.link_key)]
            links = [{k: v for k, v in candidate.items() if v is not None}]
            problems = document_problems({"nodes": ends, "links": links}, "link 0")
            return problems[0] if problems else None
        if name in SIMULATION_FIELDS:
            simulation = {**self.document.model.simulation.to_dict(), name: value}
            problems = document_problems({"nodes": [], "simulation": simulation}, "simulation")
            return problems[0] if problems else None
        return None

    def _commit(self, name: str, field: Field, value: Any) -> None:
        """Push the command that sets field ``name`` to a valid ``value``."""
        doc = self.document
        self._active = field
        try:
            if self._mode == "node" and self.node_id is not None:
                if name == "id":
                    doc.undo_stack.push(RenameNode(doc, self.node_id, str(value).strip()))
                elif name == "label":
                    doc.undo_stack.push(SetLabel(doc, self.node_id, value, field.session))
                else:
                    changes = self._param_changes(doc.node(self.node_id), name, value)
                    doc.undo_stack.push(SetParams(doc, self.node_id, changes, field.session))
            elif self._mode == "link" and self.link_key is not None:
                doc.undo_stack.push(SetLinkField(doc, self.link_key, name, value, field.session))
            else:
                doc.undo_stack.push(SetSetting(doc, name, value, field.session))
        finally:
            self._active = None

    # ------------------------------------------------------------ refresh
    def _refresh(self) -> None:
        if self._mode == "node" and self.node_id is not None:
            node = self.document.node(self.node_id)
            kind = KINDS.get(node.kind)
            values: dict[str, Any] = {"id": node.id, "label": node.label or ""}
            for param in kind.params if kind else ():
                values[param.name] = node.params.get(param.name, None if param.required else param.default)
            self._show(values)
            messages = self.document.report().by_node.get(node.id, [])
            if self.problems_label is not None:
                self.problems_label.setText("\n".join(re.sub(r"^node '[^']*':? ", "", m) for m in messages))
                color_label(self.problems_label, "warning")
                self.problems_label.setVisible(bool(messages))
        elif self._mode == "link" and self.link_key is not None:
            link = self.document.link(*self.link_key)
            self._show({"probability": link.probability, "latency": link.latency})
        elif self._mode == "model":
            self._show({name: self.document.setting(name) for name in self.fields})
        self._refresh_rho()

    def _show(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            field = self.fields.get(name)
            # Text the user is typing that is not valid, or not applied yet, stays on screen.
            if field is not None and not field.pending and not (field is self._active and field.error):
                field.set_value(value)

    def _refresh_rho(self) -> None:
        if self.rho_label is None or self.node_id is None:
            return
        node = self.document.node(self.node_id)
        rate = self.document.arrival_rates().get(node.id, 0.0)
        rho = offered_load(node, rate) if math.isfinite(rate) else math.inf
        if rho is None:
            self.rho_label.setText("—")
            return
        hue = "ok" if rho < 0.7 else "warning" if rho < 1 else "error"
        color = status_color(hue, self.rho_label).name()
        unstable = " — unstable, the queue grows without limit" if rho >= 1 else ""
        self.rho_label.setText(f"<span style='color:{color}'><b>ρ = {rho:.3g}</b></span> (λ = {rate:.3g}/s){unstable}")
        self.rho_label.setWordWrap(True)

    def _node_changed(self, node_id: str) -> None:
        if self._mode == "node" and node_id == self.node_id:
            self._refresh()
        else:
            self._refresh_rho()

    def _node_renamed(self, old: str, new: str) -> None:
        if self.node_id == old:
            self.node_id = new
            self._refresh()
        elif self.link_key is not None and old in self.link_key:
            source, target = (new if n == old else n for n in self.link_key)
            self.inspect([], [(source, target)])

    def _gone(self, shown: bool) -> None:
        if shown:
            self.inspect([], [])
        else:
            self._refresh_rho()
