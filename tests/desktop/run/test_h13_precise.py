"""Issue 13, Run Until Precise: from the toolbar (or the Run menu) the run goes on until every
station's L and W are known within the chosen relative precision, shows the precision reached
so far per station in the Theory tab, and stops by itself."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QMenu

from desktop.run.controls import DEFAULT_PRECISION


def test_run_until_precise_stops_by_itself_once_l_and_w_are_precise(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=5_000.0, sample_interval=1.0))  # far too short for ±10 %
    live, controls, panel = host.live, host.live.controls, host.live.theory_panel
    menus = [m for m in host.findChildren(QMenu) if controls.precise_action in m.actions()]
    assert menus  # in the Run menu as well as on the toolbar
    assert controls.precision_box.value() == DEFAULT_PRECISION == 2.0
    controls.precision_box.setValue(0.5)  # first a target it cannot reach soon: the gauge shows progress
    controls.precise_action.trigger()
    qtbot.waitUntil(lambda: live.state == "running", timeout=5000)
    assert not controls.precise_action.isEnabled() and not controls.precision_box.isEnabled()
    qtbot.waitUntil(lambda: live.last_batch is not None and live.last_batch.now > 50_000, timeout=60_000)
    controls.pause_action.trigger()
    qtbot.waitUntil(lambda: live.state == "paused" and live.last_batch.state == "paused", timeout=5000)
    panel.refresh(live.last_batch)
    gauge = panel.tree.topLevelItem(0).text(2)
    assert gauge.startswith("L ±") and "W ±" in gauge and gauge.endswith("→ 0.5%"), gauge
    controls.stop_action.trigger()
    qtbot.waitUntil(lambda: live.state == "stopped", timeout=5000)

    controls.precision_box.setValue(10.0)
    controls.precise_action.trigger()
    qtbot.waitUntil(lambda: live.state == "running", timeout=5000)
    qtbot.waitUntil(lambda: live.state == "stopped", timeout=120_000)
    batch = live.last_batch
    assert batch.state != "finished" and 5_000 < batch.now < 5_000 * 1000  # stopped by itself, past the end time
    reached = panel.precision("cpu")
    assert set(reached) == {"L", "W"} and all(math.isfinite(v) and v <= 0.10 for v in reached.values())
    assert "within ±10 %" in live.event_log.toPlainText()
    panel.refresh(batch)
    gauge = panel.tree.topLevelItem(0).text(2)
    assert gauge.startswith("✓ L ±") and "W ±" in gauge and "→ 10%" in gauge
    # the estimate the run stopped on is the table's: L's half-width over the value is within 10 %
    value, half = panel.row("cpu", "L ")[2].split(" ± ")
    assert float(half) / float(value) <= 0.105
    assert controls.precise_action.isEnabled()


def test_a_plain_run_shows_no_precision_gauge(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=5_000.0))
    live, panel = host.live, host.live.theory_panel
    live.controls.run_action.trigger()
    qtbot.waitUntil(lambda: live.state == "finished", timeout=30_000)
    panel.refresh(live.last_batch)
    assert panel.tree.topLevelItem(0).text(2) == ""
    assert live.last_batch.now == 5_000.0
