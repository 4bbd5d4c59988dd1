"""Issue 13, convergence from exact totals: the Theory tab's running mean of L (or W) covers
the whole measurement window of a long run, however many samples it drew, from the worker's
exact checkpointed totals, in bounded memory, and ends on the table's value to the last bit;
a live change restarts the estimate, and the chart marks the restart."""

from __future__ import annotations

import math
import os
from types import MappingProxyType

import numpy as np
from PySide6.QtWidgets import QDockWidget

from desktop.run.batch import Checkpoint
from desktop.run.buffers import Convergence

SHOTS = "/work/wt/shots"


def _checkpoint(t: float, area: float, done: int, resp: float, start: float = 0.0) -> Checkpoint:
    return Checkpoint(t, MappingProxyType({"s": (done, resp, done, 0.0)}), MappingProxyType({"s": (area, start)}))


def test_the_record_merges_pairs_keeps_pinned_points_and_the_newest_and_stays_exact() -> None:
    record = Convergence(["s"], cap=64)
    record.pin(500.0)
    for i in range(1, 1001):
        record.add(_checkpoint(float(i), 2.0 * i, i, 3.0 * i))
    assert len(record) <= 64 and record.merges > 0
    times = record.times()
    assert times[-1] == 1000.0 and 500.0 in times and times[0] == 1.0
    t, mean, half = record.curve("s", since=0.0)
    assert t[0] == 1.0 and t[-1] == 1000.0
    assert np.all(mean == 2.0)  # area / (t − start)
    t, w, _ = record.curve("s", since=0.0, quantity="mean_response")
    assert np.all(w == 3.0)
    # restarted at the pinned point: differences since it
    t, mean, _ = record.curve("s", since=500.0)
    assert t[0] > 500.0 and np.allclose(mean, 2.0)
    # until: the curve stops at the table's time
    t, _, _ = record.curve("s", since=0.0, until=700.0)
    assert t[-1] <= 700.0


def test_the_band_narrows_as_the_estimate_converges() -> None:
    rng = np.random.default_rng(3)
    record = Convergence(["s"], cap=256)
    area = 0.0
    for i in range(1, 4001):
        area += 5.0 + rng.normal()
        record.add(_checkpoint(float(i), area, i, float(i)))
    t, mean, half = record.curve("s", since=0.0)
    assert np.isnan(half[:7]).all() and np.isfinite(half[7:]).all()
    assert abs(mean[-1] - 5.0) < 3 * half[-1] + 0.05
    mid = np.nanmedian(half[40:80])
    assert half[-1] < mid  # more data, narrower band


def _l_value(panel, sid: str) -> str:  # type: ignore[no-untyped-def]
    return panel.row(sid, "L ")[2].split()[0]


def test_a_long_run_draws_one_continuous_convergence_from_the_warm_up_to_the_tables_value(
    qtbot, make_host, example
) -> None:
    model = example("mm1", end_time=150_000.0, sample_interval=1.0)  # 149,000 samples
    model.simulation.warmup = 10_000.0
    host = make_host(model)
    live = host.live
    host.resize(1280, 800)
    live.run()
    qtbot.waitUntil(lambda: live.state == "finished", timeout=120_000)
    batch = live.last_batch
    panel = live.theory_panel
    panel.refresh(batch)
    t, mean, half = panel.curve
    assert len(live.store.times()) == live.store.times().size  # the series ring wrapped...
    assert live.store.times()[0] > 100_000.0  # ...and holds only the last 32,768 samples
    assert 0 < t.size <= live.store.totals.cap  # bounded, however long the run
    assert t[0] < 10_000.0 + 0.05 * (150_000.0 - 10_000.0)  # starts near the warm-up's end
    assert t[-1] == batch.results_time == 150_000.0
    assert np.all(np.isfinite(mean)) and np.all(np.diff(t) > 0)  # one continuous curve
    exact = batch.results["cpu"]["mean_in_system"]
    assert mean[-1] == exact  # to the last bit
    assert _l_value(panel, "cpu") == f"{exact:.4g}"
    assert panel.row("cpu", "L ")[2] == f"{exact:.4g} ± {half[-1]:.2g}"  # the band's end is the table's
    assert math.isfinite(half[-1]) and abs(mean[-1] - 4.0) < 4 * half[-1] + 0.5  # theory L = 4
    # W: same chart, selectable, ends on the table's W
    panel.quantity_box.setCurrentIndex(1)
    t, w, _ = panel.curve
    assert w[-1] == batch.results["cpu"]["mean_response"] and t[0] < 20_000.0
    assert "W" in panel.plot.getPlotItem().titleLabel.text
    panel.quantity_box.setCurrentIndex(0)
    assert panel.warmup_region.isVisible() and panel.warmup_region.getRegion() == (0.0, 10_000.0)

    for other in host.findChildren(QDockWidget):  # the Theory tab alone fills the window
        if other.objectName() != "run_theory":
            other.hide()
    host.centralWidget().hide()
    host.resize(1280, 800)
    qtbot.wait(50)
    panel.refresh(batch)
    os.makedirs(SHOTS, exist_ok=True)
    shot = host.grab()
    assert shot.width() == 1280 and shot.save(f"{SHOTS}/h13live-convergence.png")


def test_a_live_change_restarts_the_estimate_with_a_marked_restart(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=1e8, sample_interval=1.0))
    live = host.live
    panel = live.theory_panel
    live.run()
    qtbot.waitUntil(lambda: live.last_batch is not None and live.last_batch.now > 20_000, timeout=20_000)
    live.change_param("arrivals", "rate", 0.5)
    qtbot.waitUntil(lambda: bool(panel.restart_markers()), timeout=10_000)
    at, label = panel.restart_markers()[0]
    assert "restart" in label and at > 20_000
    qtbot.waitUntil(lambda: live.last_batch.now > at + 20_000 and panel.curve[0].size > 40, timeout=20_000)
    live.controls.pause_action.trigger()
    qtbot.waitUntil(lambda: live.state == "paused" and live.last_batch.state == "paused", timeout=5000)
    panel.refresh(live.last_batch)
    t, mean, _ = panel.curve
    assert t[0] > at  # the estimate starts after the change, not at the warm-up
    x, y = panel._earlier.getData()  # the window before the change stays drawn, in grey
    assert x is not None and np.nanmin(x) < at and np.nanmax(x) <= at
    assert _l_value(panel, "cpu") == f"{mean[-1]:.4g}"  # the table's L since the change is the chart's
    assert abs(mean[-1] - 1.0) < 0.5  # λ 0.5, μ 1: L = 1
    live.controls.stop_action.trigger()
    qtbot.waitUntil(lambda: live.state == "stopped", timeout=5000)
