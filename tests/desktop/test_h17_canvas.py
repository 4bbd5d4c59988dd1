"""Issue 17, item 7 on the canvas: Arrange never hides a link behind a node, a paste never
lands exactly on a node already there, node tooltips show no Markdown backticks, and the
status bar's problems label lists the problems and selects the first node with one."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from desktop.canvas.layout import arrange, blocked_links
from desktop.commands import AddItems, SetParams
from desktop.main_window import MainWindow
from engine.model import Link


def _links(window: MainWindow) -> list[tuple[str, str]]:
    return [(lk.source, lk.target) for lk in window.document.model.links]


def test_arrange_moves_a_node_off_a_link_that_skips_it(window: MainWindow) -> None:
    doc = window.document
    # arrivals → cpu → done, and arrivals → done straight across cpu's column.
    doc.undo_stack.push(AddItems(doc, [], [Link("arrivals", "done")], "Link"))
    before = {n.id: (0.0 if n.id != "done" else 440.0, 0.0) for n in doc.model.nodes}
    before["cpu"] = (220.0, 0.0)
    assert blocked_links(before, _links(window)) == [("arrivals", "done", "cpu")]  # what Arrange did
    window.canvas.editor.actions["arrange"].trigger()
    positions = {n.id: n.position for n in doc.model.nodes}
    assert positions == arrange(doc.model)
    assert blocked_links(positions, _links(window)) == []
    assert positions["cpu"][1] != positions["arrivals"][1]  # moved out of the straight path


def test_arrange_leaves_every_example_with_no_hidden_link(window: MainWindow) -> None:
    from engine.model import load_model
    from tests.desktop.conftest import EXAMPLES

    for path in EXAMPLES:
        model = load_model(path)
        links = [(lk.source, lk.target) for lk in model.links if lk.source != lk.target]
        assert blocked_links(arrange(model), links) == [], path.name


def test_paste_here_on_the_original_does_not_land_on_it(window: MainWindow) -> None:
    editor = window.canvas.editor
    window.scene.select(["cpu"])
    editor.actions["copy"].trigger()
    original = window.document.node("cpu").position
    (pasted,) = editor.paste(at=QPointF(*original))  # what "Paste Here" does at that spot
    taken = [n.position for n in window.document.model.nodes if n.id != pasted]
    assert window.document.node(pasted).position not in taken
    again = editor.paste(at=QPointF(*original))  # and again: not on either
    taken = [n.position for n in window.document.model.nodes if n.id not in again]
    assert window.document.node(again[0]).position not in taken


def test_node_tooltips_have_no_backticks(window: MainWindow) -> None:
    for item in window.scene.nodes.values():
        assert item.toolTip() and "`" not in item.toolTip()
    for action in window.canvas.editor.add_node_actions(QPointF(0, 0), window):
        assert "`" not in action.toolTip()


def test_clicking_the_problems_label_selects_the_node_and_lists_them(qtbot, window: MainWindow, dialogs) -> None:
    doc = window.document
    doc.undo_stack.push(SetParams(doc, "cpu", {"concurrency": 0}))
    label = window.problems_label
    qtbot.waitUntil(lambda: "1 error" in label.text())
    window.scene.clearSelection()
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton)
    assert window.scene.selected_node_ids() == ["cpu"]
    [(_kind, title, listed)] = dialogs.of("information")
    assert title == "Problems" and "concurrency must be >= 1" in listed
