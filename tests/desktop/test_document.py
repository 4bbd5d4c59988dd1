"""The document's edit API and the undo commands built on it (no widgets involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.commands import AddItems, MoveNodes, RemoveItems, RenameNode, RerouteLink, SetLinkField, SetParams
from desktop.document import MISSING, ModelDocument
from engine.model import Link, Node, load_model

MM1 = Path(__file__).resolve().parents[2] / "resources" / "examples" / "mm1.json"


@pytest.fixture
def doc() -> ModelDocument:
    return ModelDocument(load_model(MM1))


def test_add_node_emits_and_undo_removes_it(doc: ModelDocument, qtbot) -> None:
    node = Node("pool", "thread_pool", (0.0, 200.0), {"num_workers": 4})
    with qtbot.waitSignal(doc.node_added) as added:
        doc.undo_stack.push(AddItems(doc, [node], [], "Add"))
    assert added.args == ["pool"]
    assert doc.node("pool").params == {"num_workers": 4}
    doc.undo_stack.undo()
    assert not doc.has_node("pool")


def test_removing_a_node_takes_its_links_and_undo_restores_order(doc: ModelDocument) -> None:
    before = doc.model.to_dict()
    doc.undo_stack.push(RemoveItems(doc, ["cpu"], []))
    assert [n.id for n in doc.model.nodes] == ["arrivals", "done"]
    assert doc.model.links == []
    doc.undo_stack.undo()
    assert doc.model.to_dict() == before


def test_document_refuses_duplicate_ids_and_links(doc: ModelDocument) -> None:
    with pytest.raises(ValueError):
        doc.add_node(Node("cpu", "server"))
    with pytest.raises(ValueError):
        doc.add_link(Link("arrivals", "cpu"))
    with pytest.raises(ValueError):
        doc.remove_node("cpu")


def test_param_edits_in_one_session_merge_into_one_step(doc: ModelDocument) -> None:
    for mean in (2.0, 2.5, 3.0):
        doc.undo_stack.push(SetParams(doc, "cpu", {"service_time": {"dist": "exponential", "mean": mean}}, session=7))
    assert doc.undo_stack.count() == 1
    assert doc.node("cpu").params["service_time"]["mean"] == 3.0
    doc.undo_stack.undo()
    assert doc.node("cpu").params["service_time"]["mean"] == 1.0


def test_edits_in_different_sessions_stay_separate(doc: ModelDocument) -> None:
    doc.undo_stack.push(SetParams(doc, "cpu", {"concurrency": 2}, session=1))
    doc.undo_stack.push(SetParams(doc, "cpu", {"concurrency": 3}, session=2))
    assert doc.undo_stack.count() == 2


def test_a_merged_edit_back_to_the_start_leaves_no_step(doc: ModelDocument) -> None:
    doc.undo_stack.push(SetParams(doc, "cpu", {"concurrency": 2}, session=4))
    doc.undo_stack.push(SetParams(doc, "cpu", {"concurrency": 1}, session=4))
    assert doc.undo_stack.count() == 0
    assert not doc.modified


def test_missing_removes_a_parameter_and_undo_brings_it_back(doc: ModelDocument) -> None:
    doc.undo_stack.push(SetParams(doc, "arrivals", {"rate": MISSING, "interarrival": {"dist": "constant", "value": 2}}))
    assert "rate" not in doc.node("arrivals").params
    doc.undo_stack.undo()
    assert doc.node("arrivals").params == {"rate": 0.8}


def test_move_is_one_step(doc: ModelDocument) -> None:
    doc.undo_stack.push(MoveNodes(doc, {"cpu": ((220.0, 0.0), (240.0, 60.0)), "done": ((440.0, 0.0), (460.0, 60.0))}))
    assert doc.node("cpu").position == (240.0, 60.0)
    doc.undo_stack.undo()
    assert doc.node("done").position == (440.0, 0.0)


def test_rename_updates_links_and_undoes(doc: ModelDocument, qtbot) -> None:
    with qtbot.waitSignal(doc.node_renamed):
        doc.undo_stack.push(RenameNode(doc, "cpu", "web"))
    assert [(lk.source, lk.target) for lk in doc.model.links] == [("arrivals", "web"), ("web", "done")]
    doc.undo_stack.undo()
    assert doc.has_link("cpu", "done")


def test_reroute_keeps_fields_and_position(doc: ModelDocument) -> None:
    doc.undo_stack.push(SetLinkField(doc, ("arrivals", "cpu"), "latency", {"dist": "constant", "value": 0.1}))
    doc.undo_stack.push(RerouteLink(doc, ("arrivals", "cpu"), ("arrivals", "done")))
    assert doc.model.links[0].target == "done"
    assert doc.model.links[0].latency == {"dist": "constant", "value": 0.1}
    doc.undo_stack.undo()
    assert doc.model.links[0].target == "cpu"


def test_modified_follows_the_undo_stack(doc: ModelDocument, qtbot, tmp_path: Path) -> None:
    assert not doc.modified
    with qtbot.waitSignal(doc.modified_changed) as changed:
        doc.undo_stack.push(SetParams(doc, "cpu", {"concurrency": 2}))
    assert changed.args == [True]
    doc.mark_saved(str(tmp_path / "m.json"))
    assert not doc.modified
    doc.undo_stack.undo()
    assert doc.modified


def test_fresh_ids(doc: ModelDocument) -> None:
    assert doc.fresh_id("server") == "server1"
    assert doc.fresh_id("cpu") == "cpu2"
    assert doc.fresh_id("cpu", {"cpu2"}) == "cpu3"
    assert doc.fresh_id("queue") == "queue"


def test_report_is_recomputed_after_an_edit(doc: ModelDocument) -> None:
    assert doc.report().by_node.get("cpu", []) == []
    doc.undo_stack.push(RemoveItems(doc, [], [("cpu", "done")]))
    assert any("no out-link" in m for m in doc.report().by_node["cpu"])
