"""Accessible names (issue 15): toolbar controls are named, the canvas describes its painted
items to assistive technology, and status is never told by colour alone."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyleOptionGraphicsItem, QWidget

from desktop.accessibility import accessible_name
from desktop.main_window import MainWindow


def test_every_toolbar_control_has_an_accessible_name(window: MainWindow) -> None:
    toolbar = window.run_toolbar
    named = {}
    for action in toolbar.actions():
        widget = toolbar.widgetForAction(action)
        if widget is None or type(widget) is QWidget or widget.metaObject().className() == "QLabel":
            continue
        named[widget.metaObject().className() + ":" + accessible_name(widget)] = widget
        assert accessible_name(widget), (widget, widget.toolTip())
    names = {key.split(":", 1)[1] for key in named}
    assert {"Run", "Pause", "Stop", "Seed", "End", "Warm-up", "Speed", "Run progress"} <= names
    assert accessible_name(window.canvas) == "Model canvas"
    assert accessible_name(window.canvas.minimap)


def test_the_canvas_describes_the_selected_node_in_words(window: MainWindow) -> None:
    view = window.canvas
    window.scene.select(["cpu"])
    QApplication.processEvents()
    text = view.accessibleDescription()
    assert text.startswith("Selected: Server cpu: 1 server, exp 1 s")
    window.node_item("cpu").set_live(2.0, 0.97, mean=True)
    assert "saturated" in view.describe_for_accessibility()
    window.scene.select([])
    QApplication.processEvents()
    assert view.accessibleDescription().startswith("3 nodes and 2 links")


def test_problems_are_told_by_shape_and_words_not_colour_alone(window: MainWindow, qtbot: Any) -> None:
    item = window.node_item("cpu")
    item.badge.set_messages(["service time is missing"], True)
    error_image = item.badge.toolTip(), item.badge.describe()
    assert error_image == ("service time is missing", "error: service time is missing")
    window.scene.select(["cpu"])
    QApplication.processEvents()
    assert "error: service time is missing" in window.canvas.describe_for_accessibility()
    item.badge.set_messages(["unusual value"], False)
    assert item.badge.describe() == "warning: unusual value"
    # An error and a warning differ in shape, not only in colour: their outlines differ.
    assert shape_of(item.badge, error=True) != shape_of(item.badge, error=False)


def shape_of(badge: Any, error: bool) -> list[bool]:
    """Which pixels the badge covers (its silhouette, colour ignored)."""
    badge.error = error
    rect = badge.boundingRect()
    image = QImage(int(rect.width()) * 2, int(rect.height()) * 2, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.scale(2, 2)
    painter.translate(-rect.topLeft())
    badge.paint(painter, QStyleOptionGraphicsItem(), None)
    painter.end()
    return [image.pixelColor(x, y).alpha() > 128 for y in range(image.height()) for x in range(image.width())]
