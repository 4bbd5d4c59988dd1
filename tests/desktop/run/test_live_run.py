"""The live run in a window: toolbar, charts, canvas, theory, results, errors and shutdown."""

from __future__ import annotations

import json
import math

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from engine import theory
from engine.model import Run


def _curve_points(host, station="cpu", chart="queue") -> int:  # type: ignore[no-untyped-def]
    x, _ = host.live.dashboard.curve(station, chart).getData()
    return 0 if x is None else len(x)


def test_run_pause_step_stop_and_read_the_results(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=1e8, sample_interval=1.0))
    live, controls = host.live, host.live.controls
    received: list[float] = []
    live.batch_received.connect(lambda b: received.append(b.emitted_at))
    controls.run_action.trigger()
    qtbot.waitUntil(lambda: _curve_points(host) > 200 and _curve_points(host, chart="response") > 0, timeout=5000)
    assert _curve_points(host, chart="utilization") > 200
    qtbot.waitUntil(lambda: host.scene.nodes["cpu"].live is not None, timeout=5000)  # queue and ρ on the canvas
    first = len(received) - 1
    qtbot.waitUntil(lambda: received[-1] - received[first] > 0.5, timeout=5000)
    assert (len(received) - 1 - first) / (received[-1] - received[first]) <= 31  # the ~30 Hz cap

    controls.pause_action.trigger()
    qtbot.waitUntil(lambda: live.state == "paused" and live.last_batch.state == "paused", timeout=5000)
    events = live.last_batch.events_processed
    controls.step_action.trigger()
    qtbot.waitUntil(lambda: bool(live.last_batch.stepped), timeout=5000)
    assert live.last_batch.events_processed == events + 1
    assert live.last_batch.stepped[0] in live.event_log.toPlainText()

    controls.stop_action.trigger()
    qtbot.waitUntil(lambda: live.state == "stopped", timeout=5000)
    assert live.worker_thread is None
    completed = live.results_panel.value("cpu", "completed")
    assert int(completed.replace(",", "")) == live.last_batch.results["cpu"]["completed"] > 0
    assert live.results_panel.value("done", "p99_latency") != ""


def test_a_live_rate_change_is_an_undoable_edit_applied_to_the_run(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=1e8))
    live = host.live
    live.run()
    qtbot.waitUntil(lambda: live.last_batch is not None and live.last_batch.now > 1000, timeout=5000)
    live.change_param("arrivals", "rate", 0.3)
    assert host.document.node("arrivals").params["rate"] == 0.3
    qtbot.waitUntil(lambda: len(live.dashboard.markers) == 1, timeout=5000)
    host.document.undo_stack.undo()
    assert host.document.node("arrivals").params["rate"] == 0.8
    qtbot.waitUntil(lambda: len(live.dashboard.markers) == 2, timeout=5000)
    assert "arrivals.rate ← 0.8" in live.event_log.toPlainText()
    assert live.dashboard.markers[0] <= live.dashboard.markers[1]


def test_run_settings_are_undoable_document_edits(qtbot, make_host, example) -> None:
    host = make_host(example("mm1"))
    box = host.live.controls.end_box
    box.setValue(5000.0)
    box.editingFinished.emit()
    assert host.document.model.simulation.end_time == 5000.0
    host.document.undo_stack.undo()
    assert host.document.model.simulation.end_time == 20000.0
    assert box.value() == 20000.0
    seed = host.live.controls.seed_box
    seed.setValue(seed.minimum())
    seed.editingFinished.emit()
    assert host.document.model.simulation.seed is None


def test_a_model_that_fails_to_build_shows_the_error_and_the_app_goes_on(
    qtbot, make_host, example, monkeypatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: shown.append(text))
    model = example("mm1")
    model.simulation.warmup = 30000.0
    host = make_host(model)
    before = host.document.model.to_dict()
    host.live.controls.run_action.trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "warmup" in shown[0] and host.live.state == "failed"
    qtbot.waitUntil(lambda: host.live.worker_thread is None, timeout=5000)
    assert host.document.model.to_dict() == before
    host.live.change_setting("warmup", 100.0)
    host.live.change_setting("end_time", 500.0)
    host.live.run()
    qtbot.waitUntil(lambda: host.live.state == "finished", timeout=5000)


def test_an_exception_in_the_engine_shows_a_dialog(qtbot, make_host, example, monkeypatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: shown.append(text))
    monkeypatch.setattr(Run, "run_until", lambda self, t: 1 / 0)
    host = make_host(example("mm1"))
    host.live.run()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown[0].startswith("ZeroDivisionError")


def test_closing_the_window_mid_run_leaves_no_thread_running(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=1e9))
    host.live.run()
    qtbot.waitUntil(lambda: host.live.last_batch is not None, timeout=5000)
    thread = host.live.worker_thread
    assert thread is not None and thread.isRunning()
    host.close()
    assert thread.isFinished() and host.live.worker_thread is None


def test_theory_beside_the_simulation_and_the_green_badge(qtbot, make_host, example, monkeypatch) -> None:
    def fake_analyze(model):  # type: ignore[no-untyped-def]
        rate = model.node("arrivals").params["rate"]
        return {"cpu": theory.mm1(rate, 1.0)}

    monkeypatch.setattr(theory, "analyze", fake_analyze, raising=False)
    host = make_host(example("mm1"))
    host.live.run()
    qtbot.waitUntil(lambda: host.live.state == "finished", timeout=10000)
    panel = host.live.theory_panel
    top = panel.tree.topLevelItem(0)
    rows = {top.child(i).text(0): top.child(i) for i in range(top.childCount())}
    assert rows["L  in system"].text(1) == "4"
    assert rows["ρ  utilisation"].text(3) == "✓ covers"
    assert rows["Little's law"].text(3).startswith("residual")
    assert panel.states["cpu"] == "covers"
    assert host.live.badge("cpu").state == "covers" and host.live.badge("cpu").isVisible()


def test_a_station_theory_cannot_solve_says_why(qtbot, make_host, example, monkeypatch) -> None:
    monkeypatch.setattr(theory, "analyze", lambda model: {"cpu": "service is lognormal and c > 1"}, raising=False)
    host = make_host(example("mm1", end_time=2000))
    host.live.run()
    qtbot.waitUntil(lambda: host.live.state == "finished", timeout=5000)
    top = host.live.theory_panel.tree.topLevelItem(0)
    assert top.child(0).text(0) == "Theory does not apply: service is lognormal and c > 1"
    assert host.live.theory_panel.states["cpu"] == "none"


def test_export_results_and_charts(qtbot, make_host, example, tmp_path) -> None:
    host = make_host(example("mm1", end_time=2000))
    host.live.run()
    qtbot.waitUntil(lambda: host.live.state == "finished", timeout=5000)
    panel = host.live.results_panel
    panel.export_json(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["nodes"]["cpu"]["completed"] == host.live.last_batch.results["cpu"]["completed"]
    panel.export_csv(tmp_path / "r.csv")
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines[0] == "node,metric,value,ci95" and any(line.startswith("done,p99_latency,") for line in lines)
    host.live.dashboard.export_png(str(tmp_path / "all.png"))
    host.live.dashboard.export_png(str(tmp_path / "queue.png"), "queue")
    for name in ("all.png", "queue.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_zooming_a_chart_stops_following_and_the_toggle_resumes(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=1e8))
    dash = host.live.dashboard
    host.live.run()
    qtbot.waitUntil(lambda: _curve_points(host) > 100, timeout=5000)
    view = dash.view
    centre = view.mapFromScene(dash.plots["queue"].getViewBox().sceneBoundingRect().center())
    wheel = QWheelEvent(
        QPointF(centre),
        QPointF(view.mapToGlobal(centre)),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert not dash.follow and not dash.follow_button.isChecked()
    frozen = dash.plots["queue"].viewRange()[0]
    qtbot.waitUntil(lambda: host.live.last_batch.now > frozen[1] + 1000, timeout=5000)
    assert dash.plots["queue"].viewRange()[0] == frozen
    dash.follow_button.click()
    assert dash.follow
    qtbot.waitUntil(lambda: dash.plots["queue"].viewRange()[0][1] >= host.live.last_batch.now - 1, timeout=5000)
    assert math.isclose(
        dash.plots["queue"].viewRange()[0][1] - dash.plots["queue"].viewRange()[0][0], dash._span * 1.04, rel_tol=0.05
    )


def test_selecting_stations_on_the_canvas_filters_the_charts(qtbot, make_host, example) -> None:
    host = make_host(example("load_balanced_pools", end_time=600))
    host.live.run()
    qtbot.waitUntil(lambda: host.live.state == "finished", timeout=10000)
    dash = host.live.dashboard
    host.scene.select(["pool_b", "lb"])
    assert dash.curve("pool_b", "queue").isVisible() and not dash.curve("pool_a", "utilization").isVisible()
    host.scene.select([])
    assert all(dash.curve(s, "throughput").isVisible() for s in ("pool_a", "pool_b", "pool_c"))


def test_the_theory_tab_previews_the_model_before_a_run_and_follows_edits(qtbot, make_host, example) -> None:
    host = make_host(example("mm1"))
    panel = host.live.theory_panel

    def rows() -> dict[str, str]:
        top = panel.tree.topLevelItem(0)
        return {top.child(i).text(0): top.child(i).text(1) for i in range(top.childCount())} if top else {}

    qtbot.waitUntil(lambda: rows().get("L  in system") == "4", timeout=3000)  # λ = 0.8, μ = 1
    assert panel.tree.topLevelItem(0).text(3) == "press Run to simulate"
    host.document.set_param("arrivals", "rate", 0.5)
    qtbot.waitUntil(lambda: rows().get("L  in system") == "1", timeout=3000)
