"""Each example shows its point (worker count, CPU utilisation, blocking, end-to-end latency),
the canvas shows averages rather than instants, and a run belongs to its model."""

from __future__ import annotations

import math

import numpy as np

from desktop.run.flows import MIN_CROSSINGS, FlowTracker
from engine.model import build


def _finish(qtbot, host) -> None:  # type: ignore[no-untyped-def]
    host.live.run()
    qtbot.waitUntil(lambda: host.live.state == "finished", timeout=60000)
    host.live.theory_panel.refresh(host.live.last_batch)


def test_the_worker_count_of_autoscaling_is_charted_and_the_law_uses_its_average(qtbot, make_host, example) -> None:
    host = make_host(example("autoscaling_web", end_time=2000))
    _finish(qtbot, host)
    dash, store = host.live.dashboard, host.live.store
    assert dash.capacity_shown  # the capacity moved, so its chart is in the layout
    x, y = dash.curve("web", "capacity").getData()
    assert x is not None and len(x) > 10
    assert np.nanmin(y) < np.nanmax(y) <= 16  # scaled, within its bounds
    assert np.nanmin(y) >= 2
    panel = host.live.theory_panel
    mean_c = float(np.mean(store.series("web", "capacity")))
    shown_c = float(panel.row("web", "c_avg")[2].split()[0])
    assert math.isclose(shown_c, mean_c, rel_tol=0.02)
    law = panel.row("web", "Utilisation law")
    assert law and law[1].startswith("X·S/c_avg")
    res = host.live.last_batch.results["web"]
    assert abs(float(law[1].split("=")[-1]) - res["utilization"]) < 0.02  # the law holds with c_avg
    low = panel.row("web", "L ")[2]  # a band never goes below 0
    assert "-" not in low.replace("–", "")


def test_async_cpu_utilisation_is_shown_beside_connection_utilisation(qtbot, make_host, example) -> None:
    host = make_host(example("async_db", end_time=300))
    _finish(qtbot, host)
    results = host.live.last_batch.results["api"]
    panel = host.live.theory_panel
    cpu = panel.row("api", "ρ_cpu")
    assert cpu[1] == "0.5" and cpu[2].split()[0] == f"{results['cpu_utilization']:.4g}"
    assert cpu[3] == "✓ covers"
    assert panel.row("api", "ρ ")[0].startswith("ρ  connections")
    assert host.live.results_panel.value("api", "cpu_utilization").startswith(f"{results['cpu_utilization']:.5g}")
    x, y = host.live.dashboard.curve("api", "utilization", "cpu_utilization").getData()
    assert x is not None and 0.3 < float(np.nanmean(y)) < 0.7
    card = host.scene.nodes["api"]
    assert card.live_text().startswith("avg queue") and f"ρ_cpu {results['cpu_utilization']:.2f}" in card.live_text()


def test_blocking_probability_end_to_end_latency_and_network_totals(qtbot, make_host, example) -> None:
    host = make_host(example("mm1k", end_time=6000))
    _finish(qtbot, host)
    block = host.live.theory_panel.row("desk", "P(block)")
    assert block[1] == "0.08882"
    assert block[2].split()[0] == f"{host.live.last_batch.results['desk']['blocking_probability']:.4g}"
    assert block[3] in ("✓ covers",) or block[3].startswith("✗")

    host = make_host(example("jackson_feedback", end_time=6000))
    _finish(qtbot, host)
    panel, results = host.live.theory_panel, host.live.last_batch.results
    latency = panel.row("done", "end-to-end latency")
    assert latency[1] == "13.75" and latency[2] == f"{results['done']['mean_latency']:.4g}"
    assert panel.row("cpu", "X ")[1] == "0.8" and panel.row("disk", "X ")[1] == "0.4"
    network = panel.row("\x00network", "L ")
    assert network[1] == "5.5"
    total = results["cpu"]["mean_in_system"] + results["disk"]["mean_in_system"]
    assert network[2].split()[0] == f"{total:.4g}"
    assert network[3] == "✓ covers" or network[3].startswith("✗ outside")


def test_badges_show_the_window_means_and_keep_the_run_means(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=5000))
    _finish(qtbot, host)
    res = host.live.last_batch.results["cpu"]
    card = host.scene.nodes["cpu"]
    assert card.live == (res["mean_queue_length"], res["utilization"])
    assert card.live_text() == f"avg queue {res['mean_queue_length']:.2g} · ρ {res['utilization']:.2f}"
    link = host.scene.links[("arrivals", "cpu")]
    qtbot.waitUntil(lambda: host.live.worker_thread is None, timeout=5000)
    assert link.flow is not None and math.isclose(link.flow, host.live.last_batch.flows[("arrivals", "cpu")])
    assert 0.7 < link.flow < 0.9  # the run's mean arrival rate, kept after the run


def test_a_link_rate_reaches_back_for_enough_crossings(example) -> None:
    run = build(example("mm1", end_time=1e6))
    tracker = FlowTracker(run)
    t = 0.0
    tracker.rates(t)
    for _ in range(200):  # 200 batches of 0.05 s: a very slow run
        t += 0.05
        run.run_until(t)
        rates = tracker.rates(t)
    crossed = run.sources["arrivals"].generated
    assert crossed < MIN_CROSSINGS  # never enough: the whole history is used
    assert rates[("arrivals", "cpu")] == crossed / t
    run.run_until(1e6)
    assert tracker.rates(1e6)[("arrivals", "cpu")] == run.sources["arrivals"].generated / 1e6  # run's mean


def test_opening_another_model_clears_every_run_view(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=3000))
    _finish(qtbot, host)
    live = host.live
    assert live.results_panel.results and live.dashboard.curve("cpu", "queue").getData()[0] is not None
    host.document.reset(example("md1"))
    assert live.results_panel.results == {} and live.results_panel.table.rowCount() == 0
    assert live.dashboard.station_box.count() == 1
    assert live.event_log.toPlainText() == ""
    assert live.store is None and live.badge("cpu") is None
    qtbot.waitUntil(lambda: live.theory_panel.station_box.currentText() == "machine", timeout=2000)
    assert live.theory_panel._upper.getData()[0] is None or len(live.theory_panel._upper.getData()[0]) == 0
    assert all(item.flow is None for item in host.scene.links.values())
    assert all(item.live is None for item in host.scene.nodes.values())


def test_the_new_series_average_to_the_window_metrics(example) -> None:
    """Sample intervals tiling the window (warm-up a multiple of the interval) average to the
    engine's exact window values: CPU utilisation, blocking and capacity."""
    run = build(example("async_db", end_time=300), series=True)
    run.run()
    rows, res = run.drain_series(), run.results()["api"]
    after = rows.times > run.warmup
    assert math.isclose(float(np.mean(rows.values["api"]["cpu_utilization"][after])), res["cpu_utilization"])
    assert np.isnan(rows.values["database"]["cpu_utilization"]).all()  # no event loop there

    run = build(example("mm1k", end_time=5000), series=True)
    run.run()
    rows, res = run.drain_series(), run.results()["desk"]
    after = rows.times > run.warmup
    rejected, arrived = rows.values["desk"]["rejection_rate"][after], rows.values["desk"]["arrival_rate"][after]
    assert math.isclose(rejected.sum() / arrived.sum(), res["blocking_probability"])

    run = build(example("autoscaling_web", end_time=1200), series=True)
    run.run()
    rows = run.drain_series()
    _, _, busy, cap = run.stations["web"].areas(run.now)
    assert math.isclose(float(np.mean(rows.values["web"]["capacity"])), cap / run.now)
