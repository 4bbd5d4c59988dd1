"""Issue 12, sweep from the inspector, driven through the widgets: right-click a number,
choose "Sweep this parameter…", press Run, watch points and error bars appear; the points
are those of ``queuestudio sweep`` on the same seed; closing the window mid-sweep leaves no
thread or process behind; a kept sweep is an undoable edit that is saved and reopened."""

from __future__ import annotations

import csv
import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLineEdit

from desktop.experiment.plot import METRICS
from engine.model import load_model, save_model
from engine.model.experiments_block import json_safe


def _select(window, node_id: str) -> None:  # type: ignore[no-untyped-def]
    window.scene.clearSelection()
    window.scene.nodes[node_id].setSelected(True)
    assert window.inspector.node_id == node_id


def _short_model(window, end_time: float = 400.0, warmup: float = 40.0) -> None:  # type: ignore[no-untyped-def]
    window.document.set_setting("end_time", end_time)
    window.document.set_setting("warmup", warmup)


def _choose_from_context_menu(window, name: str, editor, text: str) -> None:  # type: ignore[no-untyped-def]
    """Right-click ``editor`` of field ``name`` and pick ``text``: the menu a right click
    opens (the editor asks for a custom context menu; popping one up for real only warns on
    the offscreen platform), with its action triggered as a click on it would."""
    assert editor.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
    menu = window.inspector.sweep_menu(name, editor)
    texts = [a.text() for a in menu.actions()]
    assert "&Copy\tCtrl+C" in texts or any("Copy" in t for t in texts)  # the editor's own entries stay
    next(a for a in menu.actions() if a.text() == text).trigger()
    menu.deleteLater()


def _run_to_end(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert panel.busy, panel.error_label.text()
    qtbot.waitUntil(lambda: not panel.busy, timeout=120_000)
    assert not panel.error_label.text(), panel.error_label.text()


def test_right_click_sweep_run_shows_points_bars_theory_and_an_answer(qtbot, window) -> None:
    _short_model(window)
    _select(window, "cpu")
    line = next(e for e in window.inspector.fields["concurrency"]._editors if isinstance(e, QLineEdit))
    _choose_from_context_menu(window, "concurrency", line, "Sweep this parameter…")
    panel = window.experiments.panel
    assert window.experiments.dock.isVisible()
    assert panel.target.path == "cpu.concurrency"
    # Prefilled around the current value (1 server) and inside the valid range (≥ 1, whole).
    assert (panel.from_edit.text(), panel.to_edit.text(), panel.step_edit.text()) == ("1", "8", "1")
    panel.from_edit.setText("1")
    panel.to_edit.setText("4")
    panel.reps_box.setValue(3)
    panel.workers_box.setValue(1)
    panel.set_metrics(["mean_response", "p99_response"])
    panel.set_target("p99_response", "<=", 10.0)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert panel.busy and panel.cancel_button.isEnabled()
    seen: list[tuple[bool, int]] = []  # (still running, points on the plot) at each point's arrival
    panel.thread.point_ready.connect(lambda *_: seen.append((panel.busy, len(panel.plot.points))))
    qtbot.waitUntil(lambda: not panel.busy, timeout=120_000)
    # The plot filled in point by point while the sweep ran.
    assert seen == [(True, 1), (True, 2), (True, 3), (True, 4)]
    chart = panel.plot.charts["mean_response"]
    xs, ys = chart.points.getData()
    assert list(xs) == [1.0, 2.0, 3.0, 4.0] and all(y > 0 for y in ys)
    bars = chart.bars.opts
    assert len(bars["x"]) == 4 and all(h > 0 for h in bars["height"])  # 95 % error bars
    theory_x, theory_y = chart.theory.getData()
    assert len(theory_x) == 4 and abs(theory_y[0] - 5.0) < 1e-9  # M/M/1 at λ 0.8, μ 1: W = 5 s
    assert chart.current.isVisible() and chart.current.value() == 1.0
    assert panel.plot.charts["p99_response"].target.isVisible()
    assert "concurrency that meets it is" in panel.answer_label.text()
    # Resting the pointer on the point at 2 servers shows its numbers.
    window.experiments.dock.raise_()
    qtbot.waitUntil(lambda: panel.plot.isVisible())
    at = chart.plot.vb.mapViewToScene(QPointF(2.0, float(ys[1])))
    panel.plot.scene().sigMouseMoved.emit(at)
    assert "concurrency = 2" in panel.plot.hover_text and "theory" in panel.plot.hover_text
    assert "± " in panel.plot.hover_text and "3 replications" in panel.plot.hover_text
    panel.plot.scene().sigMouseMoved.emit(at + QPointF(400, 400))
    assert panel.plot.hover_text == ""
    assert window.run_history.entries[0].kind == "sweep"


def test_the_theory_curve_is_smooth_for_a_continuous_parameter(qtbot, window) -> None:
    _short_model(window)
    _select(window, "arrivals")
    qtbot.mouseClick(window.inspector.sweep_button("rate"), Qt.MouseButton.LeftButton)
    panel = window.experiments.panel
    assert panel.target.path == "arrivals.rate"
    low, high = float(panel.from_edit.text()), float(panel.to_edit.text())
    assert 0 < low < 0.8 < high
    panel.mode_box.setCurrentIndex(1)
    panel.list_edit.setText("0.3, 0.6")
    panel.reps_box.setValue(2)
    panel.workers_box.setValue(1)
    _run_to_end(qtbot, panel)
    xs, ys = panel.plot.charts["mean_response"].theory.getData()
    assert len(xs) > 50  # computed at many values, not just at the 2 points
    assert abs(ys[0] - 1 / (1 - 0.3)) < 1e-9 and abs(ys[-1] - 1 / (1 - 0.6)) < 1e-9


def test_values_outside_the_valid_range_are_refused_in_place(qtbot, window) -> None:
    _select(window, "cpu")
    assert window.experiments.sweep("cpu", "concurrency")
    panel = window.experiments.panel
    panel.from_edit.setText("0")
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert not panel.busy
    assert "0 is outside what cpu concurrency takes" in panel.error_label.text()
    panel.mode_box.setCurrentIndex(1)
    panel.list_edit.setText("1, 2.5")
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert not panel.busy and "2.5" in panel.error_label.text()


@pytest.mark.parametrize("processes", [1, 2])
def test_the_points_agree_with_queuestudio_sweep_on_the_same_seed(qtbot, window, tmp_path: Path, processes) -> None:
    """1: the replications run in the sweep's thread; 2: in spawned processes (the CLI forks
    one per core): the numbers are the same whatever runs them."""
    _short_model(window, 300.0, 30.0)
    model_path = tmp_path / "m.json"
    save_model(window.document.model, model_path)
    assert window.experiments.sweep("cpu", "service_time")
    panel = window.experiments.panel
    assert panel.target.path == "cpu.service_time.mean"
    panel.mode_box.setCurrentIndex(1)
    panel.list_edit.setText("0.5, 0.9")
    panel.reps_box.setValue(3)
    panel.workers_box.setMaximum(2)
    panel.workers_box.setValue(processes)
    _run_to_end(qtbot, panel)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "sweep",
            str(model_path),
            "--param",
            "cpu.service_time.mean",
            "--values",
            "0.5,0.9",
            "--replications",
            "3",
            "--json",
            "-",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    cli = json.loads(out.stdout)
    assert cli["param"] == panel.record["param"]
    assert json_safe(cli["points"]) == panel.record["points"]  # every number, exactly


def test_closing_the_window_mid_sweep_leaves_no_thread_or_process(qtbot, window, dialogs) -> None:
    window.document.set_setting("end_time", 1e7)
    window.document.set_setting("warmup", 10.0)
    assert window.experiments.sweep("cpu", "concurrency")
    panel = window.experiments.panel
    panel.reps_box.setValue(2)
    panel.workers_box.setValue(2)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    thread = panel.thread
    assert thread is not None
    qtbot.waitUntil(lambda: len(multiprocessing.active_children()) >= 1, timeout=60_000)
    window.close()
    assert not window.isVisible()
    assert panel.thread is None and thread.isFinished()
    assert multiprocessing.active_children() == []
    assert not panel.plot.points or len(panel.plot.points) < 8  # cancelled before it ended


def test_a_running_sweep_keeps_its_parameter(qtbot, window) -> None:
    window.document.set_setting("end_time", 1e7)
    assert window.experiments.sweep("cpu", "concurrency")
    panel = window.experiments.panel
    panel.workers_box.setValue(1)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert window.experiments.sweep("arrivals", "rate")
    assert panel.target.path == "cpu.concurrency" and "A sweep is running" in panel.status_label.text()
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.busy, timeout=30_000)


def test_cancel_stops_the_sweep_and_keeps_nothing(qtbot, window) -> None:
    window.document.set_setting("end_time", 1e7)
    assert window.experiments.sweep("cpu", "concurrency")
    panel = window.experiments.panel
    panel.workers_box.setValue(1)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy, timeout=30_000)
    assert panel.record is None and not panel.keep_button.isEnabled()
    assert panel.status_label.text() == "Sweep cancelled."
    assert not window.run_history.entries


def test_keyboard_only_sweep_of_the_focused_field(qtbot, window) -> None:
    _short_model(window)
    _select(window, "cpu")
    window.inspector.focus_field("concurrency")
    assert window.inspector.focused_field() == "concurrency"
    qtbot.keySequence(window, QKeySequence("Ctrl+Shift+W"))
    panel = window.experiments.panel
    assert panel.target is not None and panel.target.path == "cpu.concurrency"
    assert panel.from_edit.hasFocus()
    button = window.inspector.sweep_button("concurrency")
    assert button.focusPolicy() != Qt.FocusPolicy.NoFocus  # Tab reaches the small button too
    panel.to_edit.setText("2")
    panel.reps_box.setValue(2)
    panel.workers_box.setValue(1)
    panel.run_button.setFocus()
    qtbot.keyClick(panel.run_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not panel.busy and panel.record is not None, timeout=60_000)
    assert len(panel.plot.points) == 2


def test_the_simulation_block_offers_sweeps_of_its_times(qtbot, window) -> None:
    window.scene.clearSelection()
    assert window.inspector.mode == "model"
    assert window.inspector.sweep_button("end_time") is not None
    assert window.inspector.sweep_button("seed") is None and window.inspector.sweep_button("name") is None
    qtbot.mouseClick(window.inspector.sweep_button("end_time"), Qt.MouseButton.LeftButton)
    assert window.experiments.panel.target.path == "simulation.end_time"


def test_keep_with_model_is_undoable_saved_and_reopened(qtbot, window, tmp_path: Path) -> None:
    _short_model(window, 300.0, 30.0)
    assert window.experiments.sweep("cpu", "concurrency")
    panel = window.experiments.panel
    panel.to_edit.setText("3")
    panel.reps_box.setValue(2)
    panel.workers_box.setValue(1)
    panel.set_target("mean_response", "<=", 2.0)
    _run_to_end(qtbot, panel)
    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)
    doc = window.document
    assert doc.model.experiments["version"] == 1 and len(doc.model.experiments["sweeps"]) == 1
    assert doc.modified and doc.undo_stack.undoText().startswith("Keep Sweep")
    doc.undo_stack.undo()
    assert doc.model.experiments is None and not panel.kept_box.isEnabled()
    doc.undo_stack.redo()
    kept = doc.model.experiments["sweeps"][0]
    assert kept["param"] == "cpu.concurrency" and kept["values"] == [1, 2, 3]
    assert kept["target"] == {"metric": "mean_response", "op": "<=", "value": 2.0}
    path = tmp_path / "kept.json"
    assert window._write(str(path))
    assert load_model(path).experiments == doc.model.experiments
    # Reopened in a fresh window, the kept sweep shows in the dock.
    window.open_path(path)
    panel = window.experiments.panel
    assert panel.kept_box.isEnabled() and panel.kept_box.count() == 2
    panel.kept_box.setCurrentIndex(1)
    panel.kept_box.activated.emit(1)
    assert sorted(panel.plot.points) == [1.0, 2.0, 3.0]
    assert panel.plot.charts["mean_response"].target.isVisible()
    assert "meets it" in panel.answer_label.text()


def test_export_png_svg_and_csv(qtbot, window, tmp_path: Path) -> None:
    _short_model(window, 300.0, 30.0)
    assert window.experiments.sweep("cpu", "concurrency")
    panel = window.experiments.panel
    panel.to_edit.setText("2")
    panel.reps_box.setValue(2)
    panel.workers_box.setValue(1)
    _run_to_end(qtbot, panel)
    for suffix in ("png", "svg", "csv"):
        panel.export(str(tmp_path / f"sweep.{suffix}"))
        assert (tmp_path / f"sweep.{suffix}").stat().st_size > 100
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (tmp_path / "sweep.svg").read_text(encoding="utf-8")
    with (tmp_path / "sweep.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["value", "node", "metric", "mean", "ci95", "theory"]
    assert {float(r[0]) for r in rows[1:]} == {1.0, 2.0} and any(r[2] == "mean_response" and r[5] for r in rows[1:])


def test_every_metric_listed_can_be_plotted() -> None:
    assert set(METRICS) == {
        "mean_response",
        "p95_response",
        "p99_response",
        "utilization",
        "mean_in_system",
        "throughput",
        "blocking_probability",
    }


def test_a_precision_target_runs_until_each_point_is_precise(qtbot, window) -> None:
    _short_model(window, 300.0, 30.0)
    assert window.experiments.sweep("cpu", "concurrency")
    panel = window.experiments.panel
    panel.mode_box.setCurrentIndex(1)
    panel.list_edit.setText("2, 3")
    panel.reps_mode.setCurrentIndex(1)
    panel.precision_box.setValue(20.0)
    panel.workers_box.setValue(1)
    _run_to_end(qtbot, panel)
    points = panel.record["points"]
    assert panel.record["precision"] == 0.2 and all(p["replications"] >= 5 for p in points)
    assert all("target_met" in p for p in points)


def test_a_dask_scheduler_address_is_remembered_and_a_failure_is_said_in_place(qtbot, window) -> None:
    from PySide6.QtCore import QSettings

    _short_model(window, 300.0, 30.0)
    assert window.experiments.sweep("cpu", "concurrency")
    panel = window.experiments.panel
    panel.where_box.setCurrentIndex(1)
    assert panel.scheduler_edit.isVisibleTo(panel) and not panel.workers_box.isVisibleTo(panel)
    panel.scheduler_edit.setText("tcp://127.0.0.1:9")  # nothing listens on the discard port
    panel.to_edit.setText("2")
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    assert QSettings().value("experiment/scheduler") == "tcp://127.0.0.1:9"
    assert "The sweep failed" in panel.error_label.text()
    assert "Dask" in panel.error_label.text() or "scheduler" in panel.error_label.text()
