"""The canvas driven with the mouse and keyboard; every test checks the document."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from desktop.canvas.layout import arrange
from desktop.canvas.node_item import HEIGHT, WIDTH
from desktop.main_window import MainWindow
from desktop.palette import kind_mime
from engine.model import Link, Model, Node

LEFT = Qt.MouseButton.LeftButton


def at(win: MainWindow, point: QPointF) -> QPoint:
    """Viewport coordinates of a scene point."""
    return win.canvas.mapFromScene(point)


def drag(qtbot: Any, win: MainWindow, start: QPointF, end: QPointF, steps: int = 4) -> None:
    """Press at ``start``, move in a few steps, release at ``end`` (scene coordinates)."""
    viewport = win.canvas.viewport()
    qtbot.mousePress(viewport, LEFT, pos=at(win, start))
    for i in range(1, steps + 1):
        qtbot.mouseMove(viewport, at(win, start + (end - start) * (i / steps)))
    qtbot.mouseRelease(viewport, LEFT, pos=at(win, end))


def drop_kind(win: MainWindow, kind: str, viewport_pos: QPoint) -> None:
    """Deliver the palette's drag payload to the canvas as Qt would."""
    mime: QMimeData = win.palette_list.mimeData([win.palette_list.item(win.palette_list.kinds().index(kind))])
    viewport = win.canvas.viewport()
    enter = QDragEnterEvent(viewport_pos, Qt.DropAction.CopyAction, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(viewport_pos), Qt.DropAction.CopyAction, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)


def test_dropping_a_palette_kind_adds_a_node_with_schema_defaults(window: MainWindow) -> None:
    drop_kind(window, "thread_pool", QPoint(300, 400))
    node = window.document.node("thread_pool1")
    assert node.params["num_workers"] == 4 and node.params["processing_time"]["dist"] == "exponential"
    centre = window.canvas.mapToScene(QPoint(300, 400))
    assert (
        abs(node.position[0] + WIDTH / 2 - centre.x()) <= 20 and abs(node.position[1] + HEIGHT / 2 - centre.y()) <= 20
    )
    assert window.node_item("thread_pool1").isSelected()
    assert window.inspector.node_id == "thread_pool1"
    window.document.undo_stack.undo()
    assert not window.document.has_node("thread_pool1")


def test_palette_mime_is_what_the_canvas_accepts() -> None:
    assert bytes(kind_mime("router").data("application/x-queuestudio-kind")) == b"router"


def test_connecting_an_output_port_to_an_input_port_adds_a_link(window: MainWindow, qtbot: Any) -> None:
    drop_kind(window, "sink", QPoint(500, 500))
    cpu, sink = window.node_item("cpu"), window.node_item("sink1")
    drag(qtbot, window, cpu.output_port(), sink.input_port())
    assert window.document.has_link("cpu", "sink1")
    assert ("cpu", "sink1") in window.scene.links
    window.document.undo_stack.undo()
    assert not window.document.has_link("cpu", "sink1")


def test_a_link_into_a_source_is_refused_with_a_message_at_the_cursor(window: MainWindow, qtbot: Any) -> None:
    before = window.document.model.to_dict()
    with qtbot.waitSignal(window.scene.link_refused) as refused:
        drag(qtbot, window, window.node_item("cpu").output_port(), window.node_item("arrivals").input_port())
    assert "into a source" in refused.args[0]
    assert window.scene.hint.isVisible() and "into a source" in window.scene.hint.text
    assert window.document.model.to_dict() == before
    assert window.document.undo_stack.count() == 0


def test_a_second_link_between_the_same_nodes_is_refused(window: MainWindow, qtbot: Any) -> None:
    with qtbot.waitSignal(window.scene.link_refused) as refused:
        drag(qtbot, window, window.node_item("arrivals").output_port(), window.node_item("cpu").input_port())
    assert "already a link" in refused.args[0]
    assert len(window.document.model.links) == 2


def test_dragging_back_from_an_input_port_onto_a_sink_is_refused(window: MainWindow, qtbot: Any) -> None:
    with qtbot.waitSignal(window.scene.link_refused) as refused:
        drag(qtbot, window, window.node_item("cpu").input_port(), window.node_item("done").mapToScene(QPointF(80, 20)))
    assert "Nothing leaves a sink" in refused.args[0]
    assert len(window.document.model.links) == 2


def test_dragging_back_from_an_input_port_links_into_it(window: MainWindow, qtbot: Any) -> None:
    drop_kind(window, "source", QPoint(150, 500))
    drag(qtbot, window, window.node_item("done").input_port(), window.node_item("source1").output_port())
    assert window.document.has_link("source1", "done")


def test_rerouting_a_link_by_its_arrowhead_moves_it_to_another_node(window: MainWindow, qtbot: Any) -> None:
    drop_kind(window, "sink", QPoint(500, 550))
    window.scene.clearSelection()
    grip = window.scene.links[("cpu", "done")].grip("target")
    drag(qtbot, window, grip, window.node_item("sink1").mapToScene(QPointF(60, 30)))
    assert [(lk.source, lk.target) for lk in window.document.model.links] == [("arrivals", "cpu"), ("cpu", "sink1")]
    assert ("cpu", "sink1") in window.scene.links and ("cpu", "done") not in window.scene.links
    window.document.undo_stack.undo()
    assert window.document.has_link("cpu", "done") and window.scene.links[("cpu", "done")].isVisible()


def test_a_reroute_dropped_on_empty_canvas_changes_nothing(window: MainWindow, qtbot: Any) -> None:
    grip = window.scene.links[("cpu", "done")].grip("source")
    drag(qtbot, window, grip, grip + QPointF(0, 300))
    assert window.document.has_link("cpu", "done") and window.document.undo_stack.count() == 0
    assert window.scene.links[("cpu", "done")].isVisible()


def test_moving_a_node_snaps_to_the_grid_and_is_one_undo_step(window: MainWindow, qtbot: Any) -> None:
    item = window.node_item("cpu")
    grip = item.mapToScene(QPointF(WIDTH / 2, 10))
    drag(qtbot, window, grip, grip + QPointF(47, 93), steps=6)
    x, y = window.document.node("cpu").position
    assert (x, y) != (220.0, 0.0)
    assert x % 20 == 0 and y % 20 == 0
    assert window.document.undo_stack.count() == 1
    window.document.undo_stack.undo()
    assert window.document.node("cpu").position == (220.0, 0.0)
    assert item.pos() == QPointF(220, 0)


def test_rubber_band_selects_and_delete_removes_nodes_with_their_links(window: MainWindow, qtbot: Any) -> None:
    window.scene.clearSelection()
    top_left = window.node_item("arrivals").mapToScene(QPointF(-30, -30))
    bottom_right = window.node_item("cpu").mapToScene(QPointF(WIDTH + 10, HEIGHT + 30))
    drag(qtbot, window, top_left, bottom_right)
    assert window.scene.selected_node_ids() == ["arrivals", "cpu"]
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert [n.id for n in window.document.model.nodes] == ["done"]
    assert window.document.model.links == []
    window.document.undo_stack.undo()
    assert len(window.document.model.nodes) == 3 and len(window.document.model.links) == 2


def test_copy_paste_gives_fresh_ids_and_keeps_inner_links(window: MainWindow) -> None:
    editor = window.canvas.editor
    window.scene.select(["cpu", "done"])
    editor.copy()
    pasted = editor.paste()
    assert pasted == ["cpu2", "done2"]
    doc = window.document
    assert doc.node("cpu2").params == doc.node("cpu").params
    assert doc.has_link("cpu2", "done2") and not doc.has_link("arrivals", "cpu2")
    assert doc.node("cpu2").position == (doc.node("cpu").position[0] + 40, doc.node("cpu").position[1] + 40)
    assert window.scene.selected_node_ids() == ["cpu2", "done2"]


def test_cut_then_paste_restores_the_nodes_under_fresh_names(window: MainWindow) -> None:
    editor = window.canvas.editor
    window.scene.select(["cpu"])
    editor.cut()
    assert not window.document.has_node("cpu")
    assert editor.paste() == ["cpu"]
    assert window.document.node("cpu").kind == "server"


def test_duplicate_with_keyboard_shortcut(window: MainWindow, qtbot: Any) -> None:
    window.scene.select(["arrivals"])
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert window.document.node("arrivals2").params == {"rate": 0.8}


def test_tab_adds_a_node_by_typing_its_name(window: MainWindow, qtbot: Any) -> None:
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Tab)
    popup = window.canvas.quick_add
    assert popup.isVisible()
    qtbot.keyClicks(popup.field, "async")
    assert popup.matches() == ["async_server"]
    qtbot.keyClick(popup.field, Qt.Key.Key_Return)
    assert window.document.node("async_server1").kind == "async_server"
    assert not popup.isVisible()


def test_double_click_on_empty_canvas_opens_the_add_popup(window: MainWindow, qtbot: Any) -> None:
    empty = at(window, window.node_item("cpu").mapToScene(QPointF(WIDTH / 2, 250)))
    qtbot.mouseDClick(window.canvas.viewport(), LEFT, pos=empty)
    assert window.canvas.quick_add.isVisible()
    qtbot.keyClicks(window.canvas.quick_add.field, "delay")
    qtbot.keyClick(window.canvas.quick_add.field, Qt.Key.Key_Enter)
    node = window.document.node("delay1")
    assert node.position[1] > 100


def test_context_menus_offer_what_fits_the_item(window: MainWindow) -> None:
    node_menu = window.canvas.context_menu(at(window, window.node_item("cpu").mapToScene(QPointF(60, 20))))
    middle = (window.node_item("cpu").output_port() + window.node_item("done").input_port()) / 2
    link_menu = window.canvas.context_menu(at(window, middle))
    canvas_menu = window.canvas.context_menu(at(window, QPointF(200, 400)))
    texts = [[a.text().replace("&", "") for a in m.actions()] for m in (node_menu, link_menu, canvas_menu)]
    assert "Rename…" in texts[0] and "Delete" in texts[0]
    assert texts[1] == ["Delete"]
    assert "Add Node" in texts[2] and "Arrange Left to Right" in texts[2]
    add_menu = canvas_menu.actions()[0].menu()
    add_menu.actions()[1].trigger()
    assert window.document.node("server1").kind == "server"


def test_arrange_lays_out_left_to_right_in_one_step(window: MainWindow) -> None:
    doc = window.document
    doc.move_node("done", (-500.0, 300.0))
    window.canvas.editor.arrange()
    xs = [doc.node(i).position[0] for i in ("arrivals", "cpu", "done")]
    assert xs == sorted(xs) and len(set(xs)) == 3
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Arrange"


def test_arrange_handles_cycles_and_puts_sinks_last() -> None:
    model = Model(
        nodes=[Node("s", "source"), Node("a", "server"), Node("b", "server"), Node("z", "sink"), Node("y", "sink")],
        links=[Link("s", "a"), Link("a", "b", 0.5), Link("a", "y", 0.5), Link("b", "a", 0.3), Link("b", "z", 0.7)],
    )
    pos = arrange(model)
    assert pos["s"][0] < pos["a"][0] < pos["b"][0] < pos["z"][0] == pos["y"][0]


def test_badges_show_the_validator_messages(window: MainWindow, qtbot: Any) -> None:
    badge = window.node_item("cpu").badge
    assert not badge.isVisible()
    window.scene.select([], [("cpu", "done")])
    window.canvas.editor.delete_selection()
    qtbot.waitUntil(badge.isVisible)
    assert "no out-link" in badge.toolTip()
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: not badge.isVisible())


def test_unstable_load_marks_the_station(window: MainWindow, qtbot: Any) -> None:
    window.document.set_param("arrivals", "rate", 1.5)
    badge = window.node_item("cpu").badge
    qtbot.waitUntil(badge.isVisible)
    assert "ρ = 1.5" in badge.toolTip() and not badge.error


def test_wheel_zooms_and_fit_shows_every_node(window: MainWindow) -> None:
    view = window.canvas
    before = view.zoom
    centre = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(
        centre,
        QPointF(view.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom > before * 1.3
    view.fit_to_view()
    visible = view.visible_scene_rect()
    assert all(visible.contains(item.sceneBoundingRect()) for item in window.scene.nodes.values())


def test_middle_drag_pans_the_view(window: MainWindow, qtbot: Any) -> None:
    view = window.canvas
    view.set_zoom(1.0)
    before = view.visible_scene_rect().center()
    qtbot.mousePress(view.viewport(), Qt.MouseButton.MiddleButton, pos=QPoint(400, 300))
    qtbot.mouseMove(view.viewport(), QPoint(300, 250))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.MiddleButton, pos=QPoint(300, 250))
    after = view.visible_scene_rect().center()
    assert round(after.x() - before.x()) == 100 and round(after.y() - before.y()) == 50
    assert window.document.undo_stack.count() == 0


def test_live_values_are_painted_only_once_set(window: MainWindow) -> None:
    item = window.node_item("cpu")
    assert item.live is None
    item.set_live(3.25, 0.8)
    assert item.live == (3.25, 0.8)
    assert not window.canvas.grab().isNull()
    item.set_live(None, None)
    assert item.live is None


def test_space_drag_pans_instead_of_selecting(window: MainWindow, qtbot: Any) -> None:
    view = window.canvas
    view.set_zoom(1.0)
    view.setFocus()
    before = view.visible_scene_rect().center()
    qtbot.keyPress(view, Qt.Key.Key_Space)
    qtbot.mousePress(view.viewport(), LEFT, pos=QPoint(300, 300))
    qtbot.mouseMove(view.viewport(), QPoint(360, 280))
    qtbot.mouseRelease(view.viewport(), LEFT, pos=QPoint(360, 280))
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    after = view.visible_scene_rect().center()
    assert round(before.x() - after.x()) == 60 and round(after.y() - before.y()) == 20
    assert window.scene.selected_node_ids() == [] and window.document.undo_stack.count() == 0


def test_pinch_zooms(window: MainWindow) -> None:
    from PySide6.QtGui import QNativeGestureEvent, QPointingDevice

    view = window.canvas
    view.set_zoom(1.0)
    centre = QPointF(view.viewport().rect().center())
    pinch = QNativeGestureEvent(
        Qt.NativeGestureType.ZoomNativeGesture,
        QPointingDevice.primaryPointingDevice(),
        2,
        centre,
        centre,
        QPointF(view.mapToGlobal(centre.toPoint())),
        0.5,
        QPointF(),
        0,
    )
    QApplication.sendEvent(view.viewport(), pinch)
    assert abs(view.zoom - 1.5) < 1e-6


def test_clicking_the_minimap_moves_the_view_there(window: MainWindow, qtbot: Any) -> None:
    view, minimap = window.canvas, window.canvas.minimap
    view.set_zoom(2.0)
    view.centerOn(window.node_item("arrivals"))
    assert minimap.isVisible()
    done = window.node_item("done").sceneBoundingRect().center()
    scale, offset = minimap._scale(minimap._world())
    qtbot.mouseClick(minimap, LEFT, pos=(done * scale + offset).toPoint())
    centre = view.visible_scene_rect().center()
    assert abs(centre.x() - done.x()) < 30 and abs(centre.y() - done.y()) < 30


def test_with_snap_off_a_drag_lands_where_dropped(window: MainWindow, qtbot: Any) -> None:
    window.snap_action.setChecked(False)
    item = window.node_item("done")
    grip = item.mapToScene(QPointF(WIDTH / 2, 10))
    window.canvas.set_zoom(1.0)
    drag(qtbot, window, grip, grip + QPointF(33, 47))
    x, y = window.document.node("done").position
    assert (x, y) == (473.0, 47.0)
