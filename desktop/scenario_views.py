"""The views of scenario B (see :mod:`desktop.scenarios`): the A/B switch on the canvas
(:class:`ScenarioSwitch`), the "B≠A" tag on each node B changes (:class:`CanvasMarks`), the
banner above the inspector that lists what B changes in the selected node
(:class:`DifferenceBanner`) and the tint of the inspector's fields that differ
(:class:`InspectorMarks`). Each is a view over :class:`~desktop.scenarios.Scenarios` and
redraws when it says the scenarios or their differences changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QStyleOptionGraphicsItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.canvas.node_item import WIDTH
from desktop.scenarios import COLOR_A, COLOR_B, MODEL_WIDE, Scenarios, differing_params, show_value
from desktop.theme import follow_palette, outer_palette, palette_notifier, readable, tinted


class DifferenceMark(QGraphicsItem):
    """The "B≠A" tag on a node card's top edge; its tooltip lists what B changes."""

    def __init__(self, parent: QGraphicsItem, lines: list[str]) -> None:
        super().__init__(parent)
        self.lines = list(lines)
        self.setPos(WIDTH - 58, -9)
        self.setZValue(3)
        self.setToolTip("Scenario B differs from A:\n" + "\n".join(lines))

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, 36, 16)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("white"), 1.2))
        painter.setBrush(QColor(COLOR_B))
        painter.drawRoundedRect(self.boundingRect().adjusted(0.5, 0.5, -0.5, -0.5), 7, 7)
        font = QFont(painter.font())
        font.setPixelSize(10)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "B≠A")


class CanvasMarks(QObject):
    """Keeps a :class:`DifferenceMark` on every node B changes, in whichever scenario is shown."""

    def __init__(self, scenarios: Scenarios, node_item: Callable[[str], QGraphicsItem | None]) -> None:
        super().__init__(scenarios)
        self._scenarios = scenarios
        self._node_item = node_item
        self.marks: dict[str, DifferenceMark] = {}
        scenarios.differences_changed.connect(self.refresh)
        scenarios.document.document_reset.connect(self.refresh)

    def refresh(self) -> None:
        """Redo the marks from the current differences."""
        for mark in self.marks.values():
            if shiboken6.isValid(mark) and mark.scene() is not None:
                mark.scene().removeItem(mark)
        self.marks.clear()
        for node_id, lines in self._scenarios.differences().items():
            item = self._node_item(node_id) if node_id != MODEL_WIDE else None
            if item is not None:
                self.marks[node_id] = DifferenceMark(item, lines)


class ScenarioSwitch(QWidget):
    """The A/B switch floating at the canvas's top-left corner (hidden until B exists)."""

    def __init__(self, scenarios: Scenarios, canvas: QWidget) -> None:
        super().__init__(canvas)
        self._scenarios = scenarios
        self.setObjectName("scenario_switch")
        self.setAutoFillBackground(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        layout.setSpacing(2)
        self.caption = QLabel("Editing scenario")
        layout.addWidget(self.caption)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QToolButton] = {}
        for name, color in (("A", COLOR_A), ("B", COLOR_B)):
            button = QToolButton(self)
            button.setText(name)
            button.setCheckable(True)
            button.setMinimumWidth(30)
            button.setToolTip(f"Show and edit scenario {name} (Ctrl+B switches)")
            on_color = readable(QColor("white"), QColor(color), minimum=3.0).name()
            button.setStyleSheet(
                f"QToolButton {{ font-weight: bold; border: 1px solid {color}; border-radius: 3px; padding: 1px 6px; }}"
                f"QToolButton:checked {{ background: {color}; color: {on_color}; }}"
            )
            button.clicked.connect(lambda _=False, n=name: self._clicked(n))
            self.group.addButton(button)
            layout.addWidget(button)
            self.buttons[name] = button
        self.note = QLabel("")
        layout.addWidget(self.note)
        scenarios.changed.connect(self.sync)
        scenarios.differences_changed.connect(self.sync)
        canvas.installEventFilter(self)
        follow_palette(self, self.sync)  # the fill and text follow a live light/dark switch

    def _clicked(self, name: str) -> None:
        if not self._scenarios.show(name):
            self.sync()

    def sync(self) -> None:
        """Show the scenario on display and how many nodes differ."""
        s = self._scenarios
        self.setVisible(s.has_b)
        for name, button in self.buttons.items():
            button.setChecked(name == s.active)
            button.setEnabled(not s.locked)
        count = len([k for k in s.differences() if k != MODEL_WIDE])
        wide = bool(s.differences().get(MODEL_WIDE))
        what = f"{count} node{'s differ' if count != 1 else ' differs'}" if count else "no node differs"
        self.note.setText(f"  {what}{' (and settings)' if wide else ''}")
        color = COLOR_B if s.active == "B" else COLOR_A
        palette = outer_palette(self)
        fill = palette.color(QPalette.ColorRole.Base)
        text = readable(palette.color(QPalette.ColorRole.Text), fill)
        sheet = (
            f"#scenario_switch {{ background: {fill.name()}; border: 2px solid {color}; border-radius: 4px; }}"
            f"#scenario_switch QLabel {{ color: {text.name()}; }}"
        )
        if self.styleSheet() != sheet:
            self.setStyleSheet(sheet)
        self.adjustSize()
        self._place()

    def _place(self) -> None:
        self.move(10, 10)
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False


class DifferenceBanner(QLabel):
    """Above the inspector: which scenario is being edited and what B changes in the
    selected node (hidden without B)."""

    def __init__(self, scenarios: Scenarios, selected: Callable[[], list[str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scenarios = scenarios
        self._selected = selected
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setMargin(6)
        scenarios.changed.connect(self.sync)
        scenarios.differences_changed.connect(self.sync)
        follow_palette(self, self.sync)  # the tint and text follow a live light/dark switch

    def sync(self) -> None:
        """Redraw for the current scenario, selection and differences."""
        s = self._scenarios
        self.setVisible(s.has_b)
        if not s.has_b:
            return
        color = COLOR_B if s.active == "B" else COLOR_A
        fill, text = tinted(outer_palette(self), COLOR_B, 0.08)
        sheet = f"QLabel {{ border-left: 4px solid {color}; background: {fill.name()}; color: {text.name()}; }}"
        if self.styleSheet() != sheet:
            self.setStyleSheet(sheet)
        diffs = s.differences()
        lines = [f"Editing scenario {s.active}: edits go to {s.active} only."]
        selected = [n for n in self._selected() if n in diffs]
        for node_id in selected[:3]:
            lines.append(f"B differs from A in {node_id}:")
            lines += [f"  • {line}" for line in diffs[node_id]]
        if self._selected() and not selected:
            lines.append("The selection is the same in A and B.")
        if diffs.get(MODEL_WIDE):
            lines += [f"  • {line}" for line in diffs[MODEL_WIDE]]
        self.setText("\n".join(lines))


class InspectorMarks(QObject):
    """Tints the inspector's fields whose values differ between A and B (the selected node's),
    with both values in the field's tooltip.

    ``inspector`` is a :class:`desktop.inspector.Inspector` (its ``mode``, ``node_id`` and
    ``fields`` by parameter name); :meth:`refresh` runs after it rebuilds its form."""

    #: The dynamic property that marks a tinted field.
    MARK = "_scenario_tint"

    def __init__(self, scenarios: Scenarios, inspector: Any) -> None:
        super().__init__(scenarios)
        self._scenarios = scenarios
        self._inspector = inspector
        #: The names of the fields tinted now.
        self.marked: list[str] = []
        scenarios.differences_changed.connect(self.refresh)
        scenarios.changed.connect(self.refresh)
        palette_notifier().changed.connect(self.refresh)  # the tint follows a live light/dark switch

    @staticmethod
    def style(field: QWidget) -> str:
        """The style sheet of a field B changes: a faint scenario-B tint of the editors'
        background (in the current palette) and text readable on it."""
        fill, text = tinted(outer_palette(field), COLOR_B, 0.15, QPalette.ColorRole.Base)
        return (
            f"QLineEdit, QComboBox, QSpinBox {{ background: {fill.name()}; color: {text.name()};"
            f" border: 1px solid {COLOR_B}; }}"
        )

    def refresh(self) -> None:
        """Tint the fields that differ, untint the others."""
        s, inspector = self._scenarios, self._inspector
        b = s.model_b
        node_id = inspector.node_id if inspector.mode == "node" else None
        diffs = differing_params(s.model_a, b, node_id) if b is not None and node_id is not None else {}
        self.marked = []
        for name, field in inspector.fields.items():
            if not shiboken6.isValid(field):
                continue
            if name in diffs:
                a_value, b_value = diffs[name]
                sheet = self.style(field)
                if field.styleSheet() != sheet:
                    field.setStyleSheet(sheet)
                field.setProperty(self.MARK, True)
                base = field.property("help_text") or ""
                field.setToolTip(
                    f"{base}\nScenario A: {show_value(a_value)}\nScenario B: {show_value(b_value)}".strip()
                )
                self.marked.append(name)
            elif field.property(self.MARK):
                field.setProperty(self.MARK, False)
                field.setStyleSheet("")
                field.setToolTip(field.property("help_text") or "")


def with_banner(banner: QWidget, inspector: QWidget) -> QWidget:
    """A widget holding ``banner`` above ``inspector`` (the inspector dock's new content)."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(banner)
    layout.addWidget(inspector, 1)
    return box


__all__ = [
    "CanvasMarks",
    "DifferenceBanner",
    "DifferenceMark",
    "InspectorMarks",
    "ScenarioSwitch",
    "with_banner",
]
