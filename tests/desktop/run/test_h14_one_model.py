"""Issue 14, the live run: one model, held by the worker, which applies edits to it and
reports what it applied; the theory panel follows that; the window wires the live run
explicitly; the worker is two modules, one per job."""

from __future__ import annotations

import inspect
import math

import pytest
from PySide6.QtWidgets import QMainWindow, QToolBar

from desktop.canvas.scene import CanvasScene
from desktop.document import ModelDocument
from desktop.run import batch, controller, integration, thread, worker
from desktop.run.integration import install_live_run
from desktop.run.worker import SimulationWorker, launch


def test_the_worker_owns_its_model_and_applies_only_what_differs(qtbot, example) -> None:
    model = example("mm1", end_time=1e9)
    w = SimulationWorker(model, paused=True)
    assert w.model is model  # no second copy: the one the caller handed over
    changes: list[batch.AppliedChange] = []
    rejected: list[str] = []
    w.batch_produced.connect(lambda b: changes.extend(b.changes))
    w.param_rejected.connect(rejected.append)
    thread = launch(w)
    try:
        params = dict(model.node("cpu").params)
        w.edit_node("cpu", {**params, "queue_policy": "lifo"})  # not live-editable: refused
        w.edit_node("arrivals", {"rate": 0.5})
        w.step()  # a batch after the commands
        qtbot.waitUntil(lambda: bool(changes) and bool(rejected), timeout=5000)
    finally:
        w.stop()
        assert thread.wait(2000)
    assert [(c.node_id, c.name, c.value) for c in changes] == [("arrivals", "rate", 0.5)]
    assert "cpu" in rejected[0] and "queue_policy" in rejected[0]
    assert model.node("arrivals").params["rate"] == 0.5  # the run's model, changed in place
    assert model.node("cpu").params.get("queue_policy", "fifo") == "fifo"  # the refusal is not in it
    # The change carries the model as it stood after it: a copy the GUI may keep.
    after = changes[0].model
    assert after is not None and after is not model and after.node("arrivals").params["rate"] == 0.5


def test_switching_a_source_to_an_interarrival_distribution_mid_run_leaves_one_arrival_parameter(
    qtbot, make_host, example
) -> None:
    host = make_host(example("mm1", end_time=1e8))
    live, doc = host.live, host.document
    live.run()
    qtbot.waitUntil(lambda: live.last_batch is not None and live.last_batch.now > 100, timeout=10000)
    from desktop.commands import SetParams
    from desktop.document import MISSING

    spec = {"dist": "constant", "value": 2.0}
    doc.undo_stack.push(SetParams(doc, "arrivals", {"interarrival": spec, "rate": MISSING}))
    qtbot.waitUntil(lambda: any(c.name == "interarrival" for c in live.applied_changes), timeout=10000)
    applied = [c for c in live.applied_changes if c.name == "interarrival"][-1]
    assert applied.model is not None and applied.model.node("arrivals").params == {"interarrival": spec}
    # Theory follows the applied model: a D/M/1 queue is not a closed form the panel gives,
    # or, if it is, at λ = 0.5 — never the document's old λ = 0.8.
    values = live.theory_panel.theory.get("cpu")
    if isinstance(values, dict):
        assert values["utilization"] == pytest.approx(0.5)


def test_theory_follows_what_the_worker_applied_not_the_document(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=1e8))
    live, doc = host.live, host.document
    live.run()
    qtbot.waitUntil(lambda: live.last_batch is not None and live.last_batch.now > 100, timeout=10000)
    live.change_param("arrivals", "rate", 0.4)
    qtbot.waitUntil(lambda: bool(live.applied_changes), timeout=10000)
    assert live.theory_panel.theory["cpu"]["utilization"] == pytest.approx(0.4)
    # An edit the run refuses stays in the document (it applies to the next run) but not in
    # the theory of this run.
    live.change_param("cpu", "queue_policy", "lifo")
    qtbot.waitUntil(lambda: "not applied" in live.event_log.toPlainText(), timeout=10000)
    assert doc.node("cpu").params["queue_policy"] == "lifo"
    assert live.theory_panel.theory["cpu"]["utilization"] == pytest.approx(0.4)
    assert not hasattr(live, "_params")  # no diff copy of the model in the controller


def test_install_live_run_takes_every_part_it_wires_explicitly(qtbot, example) -> None:
    params = list(inspect.signature(install_live_run).parameters)
    assert params == ["main_window", "document", "scene", "toolbar"]
    source = inspect.getsource(integration)
    assert "getattr(" not in source and "hasattr(" not in source
    window = QMainWindow()  # no ``document``, ``scene`` or ``node_item`` attribute to guess from
    qtbot.addWidget(window)
    document = ModelDocument(example("mm1"), parent=window)
    scene = CanvasScene(document)
    toolbar = QToolBar("mine", window)
    window.addToolBar(toolbar)
    live = install_live_run(window, document, scene, toolbar)
    assert live.controls.run_action in toolbar.actions()
    assert live.node_item is not None and live.node_item("cpu") is scene.nodes["cpu"]
    live.shutdown()


def test_the_worker_is_split_by_job() -> None:
    # Driving the run (commands, slices, pacing) in one module; what a batch holds (records,
    # checkpoints, Step's descriptions) in the other; the thread's life beside them.
    assert batch.RunBatch is worker.RunBatch and batch.Checkpoint is worker.Checkpoint
    assert not hasattr(batch, "SimulationWorker") and not hasattr(batch, "launch")
    assert "def describe_step" not in inspect.getsource(worker)
    assert "def launch" not in inspect.getsource(worker) and worker.launch is thread.launch
    assert "_params" not in inspect.getsource(controller.LiveRunController)
    for module in (batch, worker, thread):
        assert len(inspect.getsource(module).splitlines()) < 550
    assert math.isinf(worker.FAST)
