"""The main window's default arrangement of docks (View ▸ Reset Layout) and its sizes.

Palette over inspector on the left, the window's whole height; the run's panels (Dashboard,
Theory, Results, Events) tabbed under the canvas; a lesson on the right. At 1280×800 the
canvas keeps about 47 % of the window. The run panels sit in scroll areas, so their minimum
heights never push the window taller than the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractScrollArea, QDockWidget, QFrame, QMainWindow, QScrollArea

#: Version of the saved dock arrangement: a state saved by another version is not restored
#: (the default layout is used instead), so a changed layout reaches everyone once.
LAYOUT_VERSION = 2
#: Default sizes: the left column's width, the run panels' share of the window's height, and
#: a lesson's width on the right.
LEFT_WIDTH = 250
RUN_SHARE = 0.3
LESSON_WIDTH = 360
#: The run panels' tab order under the canvas.
RUN_DOCK_ORDER = (
    "run_dashboard",
    "run_theory",
    "run_results",
    "run_events",
    "run_experiment",
    "run_compare",
    "run_history",
)


def set_corners(window: QMainWindow) -> None:
    """The left column (palette, inspector) runs the window's whole height, and so does a
    right one; the bottom docks sit under the canvas only."""
    for corner, area in (
        (Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea),
        (Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea),
        (Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea),
        (Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea),
    ):
        window.setCorner(corner, area)


def run_docks(window: QMainWindow) -> list[QDockWidget]:
    """The run's docks (object names ``run_…``) in :data:`RUN_DOCK_ORDER`."""
    order = {name: i for i, name in enumerate(RUN_DOCK_ORDER)}
    docks = [d for d in window.findChildren(QDockWidget) if d.objectName().startswith("run_")]
    return sorted(docks, key=lambda d: order.get(d.objectName(), len(order)))


def place_docks(window: QMainWindow, left: list[QDockWidget]) -> None:
    """Put ``left`` (top to bottom) in the left area, the run docks tabbed at the bottom and
    the dock named ``lesson`` (if any) on the right, keeping its visibility; all docked."""
    lesson = window.findChild(QDockWidget, "lesson")
    lesson_shown = lesson is not None and lesson.isVisible()
    run = run_docks(window)
    # Out first, then in: moving a dock out of a tab group in place leaves the group's tab bar behind.
    for dock in (*left, *run, *([lesson] if lesson else [])):
        dock.setFloating(False)
        window.removeDockWidget(dock)
    for dock in left:
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock, Qt.Orientation.Vertical)
        dock.show()
    for dock in run:
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.show()
    for first, second in zip(run, run[1:], strict=False):
        window.tabifyDockWidget(first, second)
    if run:
        run[0].raise_()
    if lesson is not None:
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, lesson)
        lesson.setVisible(lesson_shown)


def size_docks(window: QMainWindow, top: QDockWidget, below: QDockWidget, top_height: int) -> None:
    """Default sizes for the window's current size: the left column :data:`LEFT_WIDTH` wide
    with ``top`` ``top_height`` high (plus its title) and ``below`` the rest; the run docks
    240 px high at 800, giving most of a taller window's extra height to the charts (about
    410 px at 1080); a lesson :data:`LESSON_WIDTH` wide."""
    window.resizeDocks([top], [LEFT_WIDTH], Qt.Orientation.Horizontal)
    top_height += 30
    window.resizeDocks([top, below], [top_height, max(window.height() - top_height, 200)], Qt.Orientation.Vertical)
    run = run_docks(window)
    if run:
        height = window.height() * RUN_SHARE + max(0, window.height() - 800) * RUN_SHARE
        window.resizeDocks([run[0]], [max(int(height), 200)], Qt.Orientation.Vertical)
    lesson = window.findChild(QDockWidget, "lesson")
    if lesson is not None:
        window.resizeDocks([lesson], [LESSON_WIDTH], Qt.Orientation.Horizontal)


def scroll_when_short(dock: QDockWidget) -> None:
    """Put a dock's panel in a scroll area (unless it scrolls by itself), so the dock can be
    made lower than the panel's minimum without squeezing it, and without the panel's
    minimum height pushing the window taller than the screen."""
    panel = dock.widget()
    if panel is None or isinstance(panel, QAbstractScrollArea):
        return
    scroll = FillScroll(dock)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(panel)
    dock.setWidget(scroll)


class FillScroll(QScrollArea):
    """A scroll area that gives its panel the whole viewport, or the panel's minimum height
    when the viewport is lower (QScrollArea's own resizing gives a panel with word-wrapped
    labels its preferred height, so charts were cut off in a dock that had room for them)."""

    def _fit(self) -> None:
        panel = self.widget()
        if panel is not None:
            port = self.viewport().size()
            panel.resize(port.width(), max(port.height(), panel.minimumSizeHint().height()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self._fit()
        return super().event(event)
