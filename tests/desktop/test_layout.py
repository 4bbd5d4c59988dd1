"""The default layout and the zoom a model opens at (issue 15, "Readable by default")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QTabBar

from desktop.main_window import MainWindow
from desktop.window_layout import RUN_DOCK_ORDER

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"


def shown(qtbot: Any, tmp_path: Path, width: int, height: int, model: str = "mm1") -> MainWindow:
    win = MainWindow(recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(win)
    assert win.open_initial(str(EXAMPLES / f"{model}.json"))
    win.resize(width, height)
    win.show()
    qtbot.waitExposed(win)
    QApplication.processEvents()
    return win


def canvas_share(win: MainWindow) -> float:
    view = win.canvas
    return view.width() * view.height() / (win.width() * win.height())


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080)])
def test_the_window_keeps_its_size_and_the_canvas_has_the_largest_share(
    qtbot: Any, tmp_path: Path, width: int, height: int
) -> None:
    win = shown(qtbot, tmp_path, width, height, "tandem")
    # The docks' wishes (the Theory panel's height at a narrow width…) must not grow the window.
    assert (win.width(), win.height()) == (width, height)
    assert win.minimumSizeHint().height() <= 800
    share = canvas_share(win)
    assert share >= 0.45
    docks = [d for d in win.findChildren(QDockWidget) if d.isVisible()]
    assert all(share > d.width() * d.height() / (width * height) for d in docks)


def test_the_run_panels_are_tabs_under_the_canvas(qtbot: Any, tmp_path: Path) -> None:
    win = shown(qtbot, tmp_path, 1280, 800)
    names = set(RUN_DOCK_ORDER)  # the four of a run, then Experiment, A vs B and History
    docks = [d for d in win.findChildren(QDockWidget) if d.objectName() in names]
    assert len(docks) == 7
    assert {win.dockWidgetArea(d).name for d in docks} == {"BottomDockWidgetArea"}
    dashboard = win.findChild(QDockWidget, "run_dashboard")
    assert {d.objectName() for d in win.tabifiedDockWidgets(dashboard)} == names - {"run_dashboard"}
    # The tab bar under the run panels (Qt keeps the bars of earlier arrangements, unused).
    bar = next(t for t in win.findChildren(QTabBar) if t.geometry().width() == dashboard.width())
    tabs = [bar.tabText(i) for i in range(bar.count())]
    assert tabs == ["Dashboard", "Theory", "Results", "Events", "Experiment", "A vs B", "History"]
    assert dashboard.geometry().top() >= win.canvas.geometry().bottom()


def test_the_inspector_shows_a_servers_main_parameters_without_scrolling(qtbot: Any, tmp_path: Path) -> None:
    win = shown(qtbot, tmp_path, 1280, 800)
    win.scene.select(["cpu"])
    QApplication.processEvents()
    inspector = win.inspector
    port = inspector.viewport().rect()
    for name in ("id", "label", "concurrency", "service_time"):
        field = inspector.fields[name]
        top_left = field.mapTo(inspector.viewport(), field.rect().topLeft())
        assert port.contains(QRect(top_left, field.size())), name
    assert inspector.verticalScrollBar().value() == 0


def test_reset_layout_brings_back_closed_and_moved_docks(qtbot: Any, tmp_path: Path) -> None:
    win = shown(qtbot, tmp_path, 1280, 800)
    before = canvas_share(win)
    win.inspector_dock.close()
    theory = win.findChild(QDockWidget, "run_theory")
    win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, theory)
    reset = next(a for a in win.view_menu.actions() if a.text() == "&Reset Layout")
    reset.trigger()
    QApplication.processEvents()
    assert win.inspector_dock.isVisible()
    assert win.dockWidgetArea(theory).name == "BottomDockWidgetArea"
    assert abs(canvas_share(win) - before) < 0.03
    assert (win.width(), win.height()) == (1280, 800)


def test_the_layout_is_remembered_with_its_version(qtbot: Any, tmp_path: Path) -> None:
    win = shown(qtbot, tmp_path, 1280, 800)
    win.resizeDocks([win.palette_dock], [320], Qt.Orientation.Horizontal)
    QApplication.processEvents()
    width = win.palette_dock.width()
    assert width > 280
    win.close()
    again = shown(qtbot, tmp_path, 1280, 800)
    assert abs(again.palette_dock.width() - width) <= 2
    again.close()
    # A state saved by another layout version is ignored: the default layout comes back.
    QSettings().setValue("window/state", again.saveState(1))
    third = shown(qtbot, tmp_path, 1280, 800)
    assert abs(third.palette_dock.width() - 250) <= 10


def test_a_small_model_opens_at_100_percent_centred(qtbot: Any, tmp_path: Path) -> None:
    win = shown(qtbot, tmp_path, 1280, 800)
    view = win.canvas
    assert view.zoom == pytest.approx(1.0)
    model = view.model_rect().center()
    centre = view.visible_scene_rect().center()
    assert abs(model.x() - centre.x()) < 2 and abs(model.y() - centre.y()) < 2
    # Fit to View after zooming keeps it at 100 %, not 125 %.
    view.set_zoom(0.4)
    view.fit_to_view()
    assert view.zoom == pytest.approx(1.0)


def test_a_model_too_big_for_100_percent_is_fitted_smaller(qtbot: Any, tmp_path: Path) -> None:
    win = shown(qtbot, tmp_path, 1280, 800, "tandem")
    view = win.canvas
    item = win.scene.nodes["done"]
    item.setPos(item.pos().x() + 1600, item.pos().y())
    view.fit_to_view()
    assert 0.3 < view.zoom < 1.0
    visible = view.visible_scene_rect()
    assert all(visible.contains(i.sceneBoundingRect()) for i in win.scene.nodes.values())
