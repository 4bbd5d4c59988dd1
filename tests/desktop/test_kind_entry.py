"""The palette, the canvas card and the inspector read a node kind's entry: a kind added to
``KINDS`` at run time shows up in all three without touching the desktop code."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from desktop.canvas.node_item import summary
from desktop.inspector_fields import NumberField
from desktop.main_window import MainWindow
from engine.components.server import Server
from engine.distributions import ConstantLatency
from engine.model import Link, Node
from engine.model.schema import KINDS, Kind, Param, ServiceDescription

TOY = Kind(
    "toy",
    "Toy",
    "One server holding each request for exactly `hold` seconds.",
    (Param("hold", "number", "hold", "Seconds each request holds the server.", 0.5, "s", minimum=0),),
    builder=lambda node_id, r, sim, context: Server(node_id, 1, ConstantLatency(r["hold"])),
    live=MappingProxyType({"hold": lambda server, r, context: server.set_service_time(ConstantLatency(r["hold"]))}),
    describe=lambda r: ServiceDescription(ConstantLatency(r["hold"]), 1, capacity=1),
    summarise=lambda r: f"holds {r['hold']:g} s",
)


@pytest.fixture
def toy_window(qtbot: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    monkeypatch.setitem(KINDS, "toy", TOY)
    win = MainWindow(recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(win)
    assert win.open_initial(None)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_a_new_kind_is_in_the_palette_on_the_canvas_and_in_the_inspector(toy_window: MainWindow) -> None:
    win = toy_window
    assert "toy" in win.palette_list.kinds()
    doc = win.document
    doc.add_node(Node("t", "toy", (300, 200), {}))
    doc.add_node(Node("more", "source", (100, 200), {}))
    doc.add_link(Link("more", "t"))
    assert summary("toy", doc.node("t").params) == ["holds 0.5 s"]  # the entry's default
    assert win.node_item("t") is not None
    win.scene.select(["t"])
    fields = win.inspector.fields
    assert list(fields) == ["id", "label", "hold"] and isinstance(fields["hold"], NumberField)
    labels = [w.text() for w in win.inspector.widget().findChildren(QLabel)]
    assert "hold (s)" in labels and "offered load" in labels
    rho = win.inspector.rho_label
    assert rho is not None and "ρ = 0.5" in rho.text()  # λ 1/s (the source's default) × 0.5 s / 1 server
