"""Issue 13, the warm-up you can move: a new cut (dragged, typed, or "auto" by MSER-5)
recomputes the window's metrics, the theory comparison and the law checks from the run's
exact totals since time 0, without re-running; what cannot be recomputed says so; and the
Lq and Wq intervals come from the exact totals, as L's and W's do."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

from desktop.run.buffers import SeriesStore, auto_warmup_cut, in_system_history
from desktop.run.results import KEPT_MARK
from engine.experiments import warmup_cut
from engine.model import build

RECOMPUTED = ("mean_in_system", "mean_queue_length", "mean_response", "mean_wait", "utilization", "throughput")


def _finish(qtbot, live) -> None:  # type: ignore[no-untyped-def]
    live.run()
    qtbot.waitUntil(lambda: live.state == "finished", timeout=60_000)


def _headless(model, warmup: float) -> dict:  # type: ignore[no-untyped-def]
    """What a fresh run of ``model`` cut at ``warmup`` reports (same seed: same trajectory)."""
    other = model.copy()
    other.simulation.warmup = warmup
    run = build(other, series=True)
    run.run()
    return run.results()


def _number(text: str) -> float:
    return float(text.split()[0].replace(",", ""))


@pytest.mark.parametrize("cut", [0.0, 3000.0])
def test_a_new_cut_after_the_run_recomputes_results_and_theory_exactly_without_re_running(
    qtbot, make_host, example, cut
) -> None:
    model = example("mm1", end_time=20_000.0)  # warm-up 1,000 s
    host = make_host(model)
    live = host.live
    _finish(qtbot, live)
    batch = live.last_batch
    events = batch.events_processed
    before = live.results_panel.value("cpu", "mean_in_system")
    box = live.controls.warmup_box  # typed in the toolbar (a drag makes the same undoable edit)
    box.setValue(cut)
    box.editingFinished.emit()
    assert host.document.model.simulation.warmup == cut
    assert live.last_batch is batch and live.state == "finished"  # nothing ran again
    panel, results = live.theory_panel, live.results_panel
    caption = results.caption.text()
    assert "without re-running" in caption and f"{cut:,.6g}" in caption
    held = re.search(r"held checkpoint at t = ([\d,.]+) s", caption)
    start = float(held[1].replace(",", "")) if held else cut
    assert start <= cut and cut - start <= 100.0  # checkpoints by simulated time too: one lands near
    assert f"statistics over {start:,.6g}–20,000 s" in caption
    # A fresh run cut where the window starts gives the same numbers: the totals are exact.
    fresh = _headless(model, start)["cpu"]
    shown = results.results["cpu"]
    for name in RECOMPUTED:
        assert shown[name] == pytest.approx(fresh[name], rel=1e-9), name
    assert shown["completed"] == fresh["completed"]
    assert results.value("cpu", "mean_in_system") != before
    # Percentiles cannot be recomputed: the table says so next to them.
    assert results.value("cpu", "p95_response").endswith(KEPT_MARK)
    assert not results.value("cpu", "mean_response").endswith(KEPT_MARK)
    assert "Cannot be recomputed" in results.table.item(results._rows[("cpu", "p95_response")], 2).toolTip()
    # The Theory tab: the same window, the same values, the law checks on them.
    panel.refresh(batch)
    assert "recomputed from the run's exact totals without re-running" in panel.caption.text()
    assert _number(panel.row("cpu", "L ")[2]) == pytest.approx(fresh["mean_in_system"], rel=1e-3)
    assert _number(panel.row("cpu", "Wq")[2]) == pytest.approx(fresh["mean_wait"], rel=1e-3)
    little = panel.row("cpu", "Little's law")
    lhs, rhs = float(little[2].split("= ")[1]), float(little[1].split("= ")[1])
    assert lhs == pytest.approx(rhs, rel=0.02)  # L = λW over the new window
    assert not panel.row("cpu", "Flow balance")  # counts of the run's own window only: not mixed in
    assert live.last_batch.events_processed == events
    # Undo: back to the run's own window, its own numbers.
    host.document.undo_stack.undo()
    assert results.value("cpu", "mean_in_system") == before
    assert "without re-running" not in results.caption.text()


def test_a_cut_moved_during_a_paused_run_applies_at_once_and_the_edge_can_be_dragged(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=1e8))
    live = host.live
    live.run()
    qtbot.waitUntil(lambda: live.last_batch is not None and live.last_batch.now > 30_000, timeout=20_000)
    live.pause()
    qtbot.waitUntil(lambda: live.state == "paused" and live.last_batch.state == "paused", timeout=5000)
    line = live.dashboard.warmup_regions["queue"].lines[1]
    assert line.movable and live.controls.warmup_box.isEnabled()  # during a run too
    line.setValue(20_000.0)
    line.sigPositionChangeFinished.emit(line)
    assert host.document.model.simulation.warmup == 20_000.0
    panel = live.theory_panel
    panel.refresh(live.last_batch)
    assert panel.cut == 20_000.0 and "warm-up cut at t = 20,000 s" in panel.caption.text()
    t, _, _ = panel.curve
    assert t.size and t[0] > 19_000.0  # the convergence chart starts at the new cut
    assert "recomputed from the run's exact totals" in live.dashboard.note_label.text()
    live.stop()
    qtbot.waitUntil(lambda: live.state == "stopped", timeout=5000)


def test_a_cut_beyond_the_end_of_the_run_says_there_is_no_data_after_it(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=3000.0))
    live = host.live
    _finish(qtbot, live)
    live.change_setting("warmup", 5000.0)
    live.theory_panel.refresh(live.last_batch)
    assert "No data after the warm-up cut at t = 5,000 s" in live.theory_panel.caption.text()
    assert "without re-running" not in live.results_panel.caption.text()  # the run's own numbers


def test_the_lq_and_wq_intervals_come_from_the_exact_totals_over_the_whole_window(qtbot, make_host, example) -> None:
    model = example("mm1", end_time=60_000.0, sample_interval=1.0)  # the 32,768-sample ring wraps
    host = make_host(model)
    live = host.live
    _finish(qtbot, live)
    batch, panel, store = live.last_batch, live.theory_panel, live.store
    assert not store.holds_start and store.times()[0] > 20_000.0
    panel.refresh(batch)
    for label, key in (("Lq", "mean_queue_length"), ("Wq", "mean_wait")):
        t, mean, half = store.totals.curve("cpu", batch.warmup, key, batch.results_time, last_only=True)
        assert t[-1] == batch.results_time and math.isfinite(half[-1])
        exact = batch.results["cpu"][key]
        assert mean[-1] == pytest.approx(exact, rel=1e-9)
        assert panel.row("cpu", label)[2] == f"{exact:.4g} ± {half[-1]:.2g}"


def test_auto_warm_up_cuts_by_mser5_draws_the_cut_and_stays_auto_in_the_document(qtbot, make_host, example) -> None:
    model = example("mm1", end_time=4000.0, sample_interval=1.0)
    model.simulation.warmup = "auto"
    arrivals = model.node("arrivals").params  # overloaded for 400 s, then ρ = 0.6: a transient to cut
    arrivals.pop("rate")
    arrivals["profile"] = [[0, 1.6], [400, 0.6]]
    host = make_host(model)
    live, doc = host.live, host.document
    assert live.controls.auto_warmup_button.isChecked()
    _finish(qtbot, live)
    store = live.store
    times = store.times()
    in_system = store.series("cpu", "queue_length") + store.series("cpu", "in_service")
    expected = warmup_cut(times, in_system)  # what the experiments engine cuts
    cut, auto = live.warmup_cut()
    assert auto and cut == expected
    assert doc.model.simulation.auto_warmup  # the cut is not written over "auto"
    dash = live.dashboard
    assert dash.warmup == cut and all(r.getRegion()[1] == cut for r in dash.warmup_regions.values())
    assert dash.cut_text == f"◂ auto: MSER-5 cut at t = {cut:,.6g} s"
    assert live.theory_panel.cut == cut and f"{cut:,.6g}" in live.theory_panel.warmup_region.toolTip()
    assert live.theory_panel._cut_text.format == f" auto: MSER-5 cut at t = {cut:,.6g} s"
    assert 400.0 < cut < 2000.0
    assert "automatic (MSER-5) warm-up cut" in live.results_panel.caption.text()
    assert "automatic (MSER-5) warm-up cut" in live.theory_panel.caption.text()
    held = re.search(r"held checkpoint at t = ([\d,.]+) s", live.results_panel.caption.text())
    start = float(held[1].replace(",", "")) if held else cut
    assert cut - 20.0 <= start <= cut
    fresh = _headless(model, start)["cpu"]
    assert live.results_panel.results["cpu"]["mean_in_system"] == pytest.approx(fresh["mean_in_system"], rel=1e-9)
    # Turning Auto off is an undoable edit, and undo brings "auto" back.
    live.controls.auto_warmup_button.setChecked(False)
    assert not doc.model.simulation.auto_warmup
    doc.undo_stack.undo()
    assert doc.model.simulation.auto_warmup and live.controls.auto_warmup_button.isChecked()
    # A typed warm-up replaces "auto"; undo restores "auto", not 0 s.
    live.change_setting("warmup", 500.0)
    assert doc.model.simulation.warmup == 500.0 and not doc.model.simulation.auto_warmup
    doc.undo_stack.undo()
    assert doc.model.simulation.auto_warmup


def test_the_auto_cut_reads_the_exact_totals_once_the_series_no_longer_reach_back_to_the_start() -> None:
    from desktop.run.batch import Checkpoint

    rng = np.random.default_rng(5)
    n = 4000
    level = np.where(np.arange(n) < 600, 12.0, 2.0) + rng.normal(0.0, 0.3, n)  # a start-up transient
    big, small = SeriesStore(["s"], capacity=8192), SeriesStore(["s"], capacity=500)
    area = 0.0
    for i in range(0, n, 40):  # batches of 40 one-second samples, a checkpoint at each
        times = np.arange(i + 1, i + 41, dtype=float)
        values = level[i : i + 40]
        area += float(values.sum())
        zeros = np.zeros(40)
        series = {"s": {"queue_length": values, "in_service": zeros}}
        cumulative = {"s": (area, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)}
        checkpoint = Checkpoint(times[-1], {"s": (0, 0.0, 0, 0.0)}, {"s": (area, 0.0)}, cumulative)
        batch = SimpleNamespace(
            times=times, series=series, stations={}, now=times[-1], changes=(), checkpoints=(checkpoint,),
            results_time=math.nan, results={},
        )  # fmt: skip
        big.append(batch)
        small.append(batch)
    assert big.holds_start and not small.holds_start
    exact = auto_warmup_cut(big)
    assert exact == warmup_cut(*in_system_history(big)) and 550.0 <= exact <= 700.0
    t, v = in_system_history(small)  # from the totals: the ring holds the last 500 s only
    assert t[0] < 5.0 and t[-1] == n
    assert abs(auto_warmup_cut(small) - exact) < 100.0


def test_stepping_across_the_warm_up_records_the_totals_at_the_cut_itself(qtbot, example) -> None:
    from desktop.run.batch import CUMULATIVE_FIELDS
    from desktop.run.worker import SimulationWorker, launch

    model = example("mm1", end_time=1e6)
    model.simulation.warmup = 5.0
    fresh = _headless_until(model, 5.0)
    worker = SimulationWorker(model.copy(), paused=True)
    checkpoints = []
    worker.batch_produced.connect(lambda b: checkpoints.extend(b.checkpoints))
    thread = launch(worker)
    try:
        for _ in range(40):  # an M/M/1 at λ 0.8 has about 8 events in 5 s: 40 steps cross the cut
            worker.step()
        qtbot.waitUntil(lambda: any(c.time == 5.0 for c in checkpoints), timeout=10_000)
    finally:
        worker.stop()
        assert thread.wait(2000)
    at_cut = next(c for c in checkpoints if c.time == 5.0)
    assert at_cut.totals["cpu"] == (0, 0.0, 0, 0.0) and at_cut.areas["cpu"] == (0.0, 5.0)  # the window starts
    cumulative = dict(zip(CUMULATIVE_FIELDS, at_cut.cumulative["cpu"]))
    assert cumulative["in_system_area"] == pytest.approx(fresh["mean_in_system"] * 5.0, rel=1e-12)
    assert cumulative["completed"] == fresh["completed"]
    later = [c for c in checkpoints if c.time > 5.0]
    assert later and all(c.areas["cpu"][1] == 5.0 for c in later)


def _headless_until(model, t: float) -> dict:  # type: ignore[no-untyped-def]
    """The station's metrics from 0 to ``t`` of a fresh run without warm-up (same trajectory)."""
    other = model.copy()
    other.simulation.warmup = 0.0
    run = build(other, series=True)
    run.run_until(t)
    return run.results()["cpu"]


def test_a_cut_the_held_totals_do_not_reach_is_said_plainly_and_the_run_s_own_window_stays(qtbot, example) -> None:
    from desktop.run.batch import Checkpoint
    from desktop.run.theory_panel import TheoryPanel

    model = example("mm1")  # warm-up 1,000 s
    store = SeriesStore(["cpu"], capacity=100)
    panel = TheoryPanel()
    qtbot.addWidget(panel)
    panel.start(model, store)
    # Checkpoints without totals since time 0 (as a run recorded before they existed).
    for t in (1500.0, 2000.0, 2500.0, 3000.0):
        done = int(0.8 * (t - 1000.0))
        store.append(
            SimpleNamespace(
                times=np.empty(0), series={}, stations={}, now=t, changes=(), results_time=t, results={},
                checkpoints=(Checkpoint(t, {"cpu": (done, 5.0 * done, done, 4.0 * done)}, {"cpu": (4.0 * (t - 1000), 1000.0)}),),
            )
        )  # fmt: skip
    results = {"cpu": {"mean_in_system": 4.0, "mean_response": 5.0, "arrivals": 1600, "completed": 1600}}
    batch = SimpleNamespace(
        state="finished", now=3000.0, warmup=1000.0, results_time=3000.0, results=results, stations={}, end_time=3000.0
    )
    panel.refresh(batch)
    assert "measurement window 1,000–3,000 s" in panel.caption.text()
    panel.set_cut(500.0)
    text = panel.caption.text()
    assert "cannot be applied" in text and "not held" in text and "re-run" in text
    assert panel.row("cpu", "L ")[2].split()[0] == "4"  # the run's own window, unchanged
    assert panel.row("cpu", "W ")[2].split()[0] == "5"
    panel.set_cut(1000.0)  # back to the run's own cut: nothing to say
    assert "cannot be applied" not in panel.caption.text()
