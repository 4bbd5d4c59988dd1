"""Fixtures of the live-run tests: example models and a window with the live run installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QGraphicsView, QMainWindow

from desktop.canvas.scene import CanvasScene
from desktop.document import ModelDocument
from desktop.run.controller import LiveRunController
from desktop.run.integration import install_live_run
from engine.model import Model, load_model

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


def load_example(name: str, end_time: float | None = None, sample_interval: float | None = None) -> Model:
    """A bundled example, optionally with a longer end time (so that it keeps running)."""
    model = load_model(EXAMPLES / f"{name}.json")
    if end_time is not None:
        model.simulation.end_time = end_time
    if sample_interval is not None:
        model.simulation.sample_interval = sample_interval
    return model


@pytest.fixture
def example():  # type: ignore[no-untyped-def]
    """``example(name, end_time=None, sample_interval=None)`` loads a bundled example."""
    return load_example


class Host(QMainWindow):
    """A minimal main window: a document, its canvas, and the live run installed."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.document = ModelDocument(model, parent=self)
        self.scene = CanvasScene(self.document)
        self.setCentralWidget(QGraphicsView(self.scene))
        self.live: LiveRunController = install_live_run(self, self.document, self.scene)


@pytest.fixture
def make_host(qtbot) -> Iterator:  # type: ignore[no-untyped-def]
    """``make_host(model)`` builds a shown :class:`Host`; its worker is shut down afterwards."""
    hosts: list[Host] = []

    def make(model: Model) -> Host:
        host = Host(model)
        qtbot.addWidget(host)
        host.resize(1200, 800)
        host.show()
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.live.shutdown()
