"""Accessible names for what assistive technology cannot name by itself: the controls of a
toolbar (a spin box or slider beside its label) — the canvas's items are described by the
view, see :meth:`desktop.canvas.view.CanvasView.describe_for_accessibility`."""

from __future__ import annotations

import re

from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QLabel, QProgressBar, QToolBar, QWidget


def accessible_name(widget: QWidget) -> str:
    """The name a screen reader announces for ``widget`` ("" when it has none)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name).strip() if interface is not None else ""


def name_toolbar_controls(toolbar: QToolBar) -> None:
    """Give every control of ``toolbar`` without an accessible name one: the text of the label
    just before it ("Seed"), else the first clause of its tooltip; a progress bar is "Run
    progress". Its tooltip becomes its accessible description. Spacers are left alone."""
    previous: QWidget | None = None
    for action in toolbar.actions():
        widget = toolbar.widgetForAction(action)
        if widget is None or type(widget) is QWidget or isinstance(widget, QLabel):
            previous = widget
            continue
        if not accessible_name(widget):
            if isinstance(widget, QProgressBar):
                name = "Run progress"
            elif isinstance(previous, QLabel) and previous.text().strip():
                name = previous.text().strip()
            else:
                name = re.split(r"[:(.—]", widget.toolTip() or action.text() or "")[0].strip()
            if name:
                widget.setAccessibleName(name)
        if widget.toolTip() and not widget.accessibleDescription():
            widget.setAccessibleDescription(widget.toolTip())
        previous = widget
