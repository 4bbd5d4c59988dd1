"""Issue 17 items 3, 6 and 7 and issue 13's visible warm-up, driven through the widgets:
the warm-up shaded and draggable on every chart (an undoable edit), slow runs drawing from
t = 0, the Results table's names, units, theory column and figures, and the smaller things."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from desktop.commands import SetParams
from desktop.run.dashboard import PERCENTILE_STYLES
from desktop.run.results import number_text


def _finish(qtbot, live) -> None:  # type: ignore[no-untyped-def]
    live.run()
    qtbot.waitUntil(lambda: live.state == "finished", timeout=60000)


def test_the_warm_up_is_shaded_on_every_chart_and_dragging_it_is_an_undoable_edit(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=2000))
    live, doc = host.live, host.document
    dash = live.dashboard
    regions = dash.warmup_regions
    assert set(regions) == {"queue", "utilization", "throughput", "response", "capacity"}
    assert all(r.getRegion() == (0.0, 1000.0) and r.isVisible() for r in regions.values())
    assert not regions["queue"].lines[0].movable and regions["queue"].lines[1].movable
    # Drag the cut's edge (as a mouse drag ends: the line moves, then the change finishes).
    line = regions["throughput"].lines[1]
    line.setValue(503.0)
    assert regions["queue"].getRegion()[1] == 503.0  # every chart follows the drag
    line.sigPositionChangeFinished.emit(line)
    assert doc.model.simulation.warmup == 500.0  # rounded to the 10 s sample interval
    assert all(r.getRegion()[1] == 500.0 for r in regions.values())
    assert live.controls.warmup_box.value() == 500.0
    doc.undo_stack.undo()
    assert doc.model.simulation.warmup == 1000.0 and regions["response"].getRegion()[1] == 1000.0
    # Typed in the toolbar: the charts follow too.
    live.change_setting("warmup", 200.0)
    assert all(r.getRegion()[1] == 200.0 for r in regions.values())
    assert "warm-up" in dash.note_label.text()


def test_after_a_run_a_new_warm_up_is_applied_without_re_running(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=1500))
    live = host.live
    _finish(qtbot, live)
    assert "re-run" not in live.results_panel.caption.text()
    region = live.theory_panel.warmup_region  # the convergence chart shades the run's warm-up too
    assert region.isVisible() and region.getRegion() == (0.0, 1000.0)
    live.change_setting("warmup", 300.0)
    assert region.getRegion() == (0.0, 300.0)
    for text in (live.results_panel.caption.text(), live.dashboard.note_label.text()):
        assert "without re-running" in text and "re-run to apply" not in text
    assert "300" in live.results_panel.caption.text()
    live.theory_panel.refresh(live.last_batch)
    assert "without re-running" in live.theory_panel.caption.text()
    live.change_setting("warmup", 1000.0)  # back to the run's: its own numbers
    assert "without re-running" not in live.results_panel.caption.text()


def test_a_slow_run_draws_from_t0_during_the_warm_up_and_says_why_statistics_wait(qtbot, make_host, example) -> None:
    host = make_host(example("mm1"))  # warm-up 1,000 s, samples every 10 s
    live = host.live
    live.set_speed(1.0)  # ten wall seconds per sample: no sample in this test
    live.run()
    trail = live.dashboard._instant[("cpu", "queue")]
    qtbot.waitUntil(lambda: live.last_batch is not None and live.last_batch.now > 0.5, timeout=20000)
    live.dashboard.update_data(live.last_batch.now)
    x, y = trail.getData()
    assert x is not None and len(x) >= 2 and x[0] < 1.0 and np.all(np.isfinite(y))
    note = live.dashboard.note_label.text()
    assert "Warm-up until t = 1,000 s" in note and "more at 1×" in note and "statistics" in note
    assert live.dashboard.plots["queue"].getViewBox().viewRange()[0][0] >= 0.0
    assert live.dashboard.warmup_regions["queue"].lines[1].movable  # a new cut applies to a run going too
    live.stop()
    qtbot.waitUntil(lambda: live.state == "stopped", timeout=10000)
    live.dashboard.update_data(live.last_batch.now)
    assert live.dashboard.warmup_regions["queue"].lines[1].movable


def test_zoom_stops_at_time_zero_and_an_empty_chart_reads_seconds(qtbot, make_host, example) -> None:
    host = make_host(example("mm1"))
    dash = host.live.dashboard
    for plot in dash.plots.values():
        axis = plot.getAxis("bottom")
        assert axis.labelUnitPrefix == "" and axis.labelUnits in ("s", "")
    view = dash.plots["queue"].getViewBox()
    view.setXRange(-500.0, 100.0, padding=0)
    assert view.viewRange()[0][0] >= 0.0
    view.scaleBy((4, 1))
    assert view.viewRange()[0][0] >= 0.0


def test_percentiles_differ_by_line_style_and_the_key_is_not_over_the_data(qtbot, make_host, example) -> None:
    host = make_host(example("tandem", end_time=1300))
    live = host.live
    _finish(qtbot, live)
    dash = live.dashboard
    styles = {
        f: dash.curve("s1" if "s1" in live.store.stations else live.store.stations[0], "response", f)
        for f in PERCENTILE_STYLES
    }
    assert len({c.opts["pen"].style() for c in styles.values()}) == 3
    assert all(p.legend is None for p in dash.plots.values())
    for sid in live.store.stations:
        assert sid in dash.key_label.text()


def test_clicking_a_node_sets_the_station_selector(qtbot, make_host, example) -> None:
    host = make_host(example("tandem", end_time=1300))
    live = host.live
    _finish(qtbot, live)
    first, second = live.store.stations[:2]
    host.scene.select([first])
    assert live.dashboard.station_box.currentText() == first
    assert live.dashboard.curve(first, "queue").isVisible() and not live.dashboard.curve(second, "queue").isVisible()
    host.scene.select([first, second])
    assert live.dashboard.station_box.currentText().startswith("2 selected")
    host.scene.clearSelection()
    assert live.dashboard.station_box.currentText() == "All stations"
    assert live.dashboard.curve(second, "queue").isVisible()


def test_results_table_has_names_units_theory_and_significant_figures(qtbot, make_host, example) -> None:
    host = make_host(example("md1", end_time=3000))
    live = host.live
    _finish(qtbot, live)
    table = live.results_panel.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["Node", "Quantity", "Simulated", "Theory"]
    quantities = [table.item(r, 1).text() for r in range(table.rowCount())]
    assert "Mean response time W (s)" in quantities and "Throughput X (1/s)" in quantities
    assert not any("_" in q for q in quantities)
    assert live.results_panel.theory_value("machine", "mean_response") == "3"
    assert live.results_panel.theory_value("machine", "utilization") == "0.8"
    assert "“M/D/1”" in live.results_panel.caption.text() and "seed 1" in live.results_panel.caption.text()
    assert "1,000–3,000 s" in live.results_panel.caption.text()


def test_number_text_uses_significant_figures() -> None:
    assert number_text(15194.3, 240.0) == "15,190 ± 240"
    assert number_text(3.12671, 0.0512) == "3.127 ± 0.051"
    assert number_text(7.2027e-05, 7.2e-05) == "(7.2 ± 7.2) × 10⁻⁵"
    assert number_text(15194) == "15,194"
    assert number_text(3.126712) == "3.1267"
    assert number_text(math.nan) == "—"


def test_events_tab_says_what_it_will_show(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=1100))
    _finish(qtbot, host.live)
    log = host.live.event_log
    assert log.toPlainText() == "" and "Step" in log.placeholderText() and "change" in log.placeholderText()


def test_run_is_off_with_a_reason_while_the_model_has_errors(qtbot, window, dialogs) -> None:
    live = window.live_run
    run, step = live.controls.run_action, live.controls.step_action
    assert run.isEnabled()
    doc = window.document
    doc.undo_stack.push(SetParams(doc, "cpu", {"concurrency": 0}))
    qtbot.waitUntil(lambda: not run.isEnabled())
    assert not step.isEnabled() and "concurrency must be >= 1" in run.toolTip()
    qtbot.waitUntil(lambda: "Run is off" in window.problems_label.text())
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert live.state == "idle" and not dialogs.of("critical")
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: run.isEnabled())
    assert step.isEnabled() and run.toolTip() == "Run (F5)"


def test_regions_are_linear_region_items(make_host, example) -> None:
    host = make_host(example("mm1"))
    assert all(isinstance(r, pg.LinearRegionItem) for r in host.live.dashboard.warmup_regions.values())
