"""Issue 12, the history of runs: every finished sweep, live run and replication set goes into
the Runs list, which survives a restart, is bounded, sets a corrupt store aside with a message,
and compares two runs (curves overlaid, tables diffed)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog

from desktop.experiment import history as history_module
from desktop.experiment.history import RunHistory, describe_changes, flat_params
from desktop.experiment.history_panel import HistoryPanel, diff_rows
from desktop.experiment.sweeps import answer
from desktop.main_window import MainWindow
from engine.model import Model

RESULTS_A = {"cpu": {"mean_response": 5.0, "utilization": 0.8, "ci95": {"mean_response": 0.5}}}
RESULTS_B = {"cpu": {"mean_response": 2.0, "utilization": 0.4, "ci95": {"mean_response": 0.2}}}


def _model(rate: float) -> Model:
    from engine.model import load_model

    model = load_model(Path(__file__).resolve().parents[2] / "resources" / "examples" / "mm1.json")
    model.node("arrivals").params["rate"] = rate
    return model


def test_entries_survive_a_restart_with_what_changed_and_key_results(qtbot, tmp_path: Path) -> None:
    store = RunHistory(tmp_path)
    store.add("live", "first", RESULTS_A, model=_model(0.8))
    second = store.add("replications", "second", RESULTS_B, model=_model(0.4), curves={"c": {"x": [1, 2], "y": [3, 4]}})
    assert second.changes == ["arrivals.rate 0.8 → 0.4"]
    assert second.summary.startswith("cpu: W 2 ± 0.2")
    store.pin(second.id)
    store.rename(second.id, "half the load")
    again = RunHistory(tmp_path)
    assert [e.title for e in again.entries] == ["half the load", "first"]
    assert again.entries[0].pinned and again.entries[0].curves == {"c": {"x": [1, 2], "y": [3, 4]}}
    assert again.problem == ""


def test_a_corrupt_store_is_set_aside_with_a_message(qtbot, tmp_path: Path) -> None:
    (tmp_path / "history.json").write_text("{not json", encoding="utf-8")
    store = RunHistory(tmp_path)
    assert store.entries == [] and "could not be read" in store.problem
    assert not (tmp_path / "history.json").exists()
    assert len(list(tmp_path.glob("history.json.corrupt-*"))) == 1
    store.add("live", "after", RESULTS_A)
    assert [e.title for e in RunHistory(tmp_path).entries] == ["after"]


def test_a_store_of_the_wrong_shape_or_version_is_set_aside_too(qtbot, tmp_path: Path) -> None:
    for text in ('{"version": 99, "entries": []}', '{"version": 1, "entries": [{"id": 3}]}', "[]"):
        (tmp_path / "history.json").write_text(text, encoding="utf-8")
        assert RunHistory(tmp_path).problem


def test_the_store_is_bounded_and_pinned_runs_stay(qtbot, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(history_module, "MAX_ENTRIES", 5)
    store = RunHistory(tmp_path)
    oldest = store.add("live", "run 0", RESULTS_A)
    store.pin(oldest.id)
    for i in range(1, 9):
        store.add("live", f"run {i}", RESULTS_A)
    titles = [e.title for e in store.entries]
    assert len(titles) == 5 and "run 0" in titles and titles[0] == "run 8"
    long_curve = {"x": list(range(10_000)), "y": list(range(10_000))}
    entry = store.add("live", "long", RESULTS_A, curves={"q": long_curve})
    assert len(entry.curves["q"]["x"]) == history_module.MAX_CURVE_POINTS and entry.curves["q"]["x"][-1] == 9999


def test_select_two_to_overlay_curves_and_diff_tables_then_pin_rename_delete_export(
    qtbot, tmp_path: Path, monkeypatch
) -> None:
    store = RunHistory(tmp_path)
    store.add("sweep", "A", RESULTS_A, curves={"cpu mean response": {"x": [1, 2], "y": [5, 1.2]}})
    store.add("sweep", "B", RESULTS_B, curves={"cpu mean response": {"x": [1, 2], "y": [2, 1.0]}})
    panel = HistoryPanel(store)
    qtbot.addWidget(panel)
    assert panel.tree.topLevelItemCount() == 2 and not panel.compare_button.isEnabled()
    panel.tree.selectAll()
    assert panel.compare_button.isEnabled()
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    assert panel.curves_drawn == 2 and len(panel.plot.getPlotItem().listDataItems()) == 2
    cells = {
        (panel.diff_table.item(r, 1).text(), panel.diff_table.item(r, 4).text())
        for r in range(panel.diff_table.rowCount())
    }
    assert ("mean_response", "-3") in cells and ("utilization", "-0.4") in cells
    qtbot.mouseClick(panel.pin_button, Qt.MouseButton.LeftButton)
    assert all(e.pinned for e in store.entries) and panel.tree.topLevelItem(0).text(0) == "★"
    panel.select([store.entries[0].id])
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("renamed", True)))
    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    assert store.entries[0].title == "renamed"
    out = tmp_path / "runs.json"
    store.export(out, panel.selected_ids())
    assert [e["title"] for e in json.loads(out.read_text())["entries"]] == ["renamed"]
    store.export(tmp_path / "runs.csv")
    assert "mean_response" in (tmp_path / "runs.csv").read_text()
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key.Key_Delete)
    assert [e.title for e in store.entries] == ["A"]


def test_a_finished_sweep_and_a_finished_live_run_enter_the_window_history(qtbot, window) -> None:
    window.document.set_setting("end_time", 300.0)
    window.document.set_setting("warmup", 30.0)
    live = window.live_run
    live.set_speed(math.inf)
    live.run()
    qtbot.waitUntil(lambda: live.state == "finished", timeout=60_000)
    qtbot.waitUntil(lambda: bool(window.run_history.entries), timeout=10_000)
    entry = window.run_history.entries[0]
    assert entry.kind == "live" and "cpu" in entry.results and entry.summary
    assert any(name.endswith("queue length") for name in entry.curves)
    window.experiments.history_dock.raise_()
    assert window.experiments.history_panel.tree.topLevelItemCount() == 1
    window.document.set_setting("end_time", 400.0)
    live.run()
    qtbot.waitUntil(lambda: len(window.run_history.entries) == 2, timeout=60_000)
    assert window.run_history.entries[0].changes == ["simulation.end_time 300 → 400"]


def test_the_window_says_when_its_history_was_set_aside(qtbot, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "corrupt"
    folder.mkdir()
    (folder / "history.json").write_text("\x00garbage", encoding="utf-8")
    monkeypatch.setenv("QUEUESTUDIO_HISTORY_DIR", str(folder))
    win = MainWindow(recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(win)
    assert "could not be read" in win.run_history.problem
    assert win.experiments.history_panel.problem_label.text() == win.run_history.problem


def test_changes_and_diffs_are_worked_out_from_the_models() -> None:
    before, after = flat_params(_model(0.8)), flat_params(_model(0.5))
    assert describe_changes(before, after) == ["arrivals.rate 0.8 → 0.5"]
    assert describe_changes(before, before) == []


def test_the_target_answer_in_words() -> None:
    values, p99, half = [1, 2, 3, 4, 5, 6], [9.0, 0.9, 0.4, 0.25, 0.18, 0.17], [1, 0.1, 0.05, 0.02, 0.01, 0.01]
    said = answer("concurrency", values, p99, half, metric="p99", op="<=", target=0.2, unit="s")
    assert said == "The smallest concurrency that meets it is 5 (p99 0.18 ± 0.01 s)."
    rising = answer("arrival rate", [0.2, 0.5, 0.9], [1.2, 2.0, 10.0], [0.1] * 3, metric="W", op="<=", target=3)
    assert rising.startswith("The largest arrival rate that meets it is 0.5")
    assert answer("x", [1, 2], [5.0, 6.0], [0, 0], metric="W", op="<=", target=1).startswith("No x in the sweep")
    assert answer("x", [1, 2], [0.5, 0.6], [0, 0], metric="W", op="<=", target=1).startswith("Every x")


def test_diff_rows_skip_what_only_one_run_has() -> None:
    from desktop.experiment.history import RunEntry

    a = RunEntry("a", "live", "A", "2026-01-01T00:00:00+00:00", results={"cpu": {"w": 1.0}, "x": {"w": 2.0}})
    b = RunEntry("b", "live", "B", "2026-01-01T00:00:00+00:00", results={"cpu": {"w": 1.5, "new": 3.0}})
    assert diff_rows(a, b) == [("cpu", "w", 1.0, 1.5, 0.5)]


def test_a_finished_replication_set_enters_the_history(qtbot, window) -> None:
    window.document.set_setting("end_time", 300.0)
    window.document.set_setting("warmup", 30.0)
    runner = window.live_run.replications
    runner.quiet = True
    runner.start(3, 1)
    qtbot.waitUntil(lambda: not runner.busy, timeout=60_000)
    entry = window.run_history.entries[0]
    assert entry.kind == "replications" and entry.title.startswith("3 replications")
    assert "ci95" in entry.results["cpu"] and "±" in entry.summary
