"""One estimate, everywhere: for the same run, the Theory tab's simulated values are the
Results tab's, the exports' and the headless engine's (what the CLI prints), digit for digit,
and every quantity with an interval gets a verdict once the run is finished."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from desktop.run.buffers import Estimate
from desktop.run.theory_panel import QUANTITIES, simulated_text, verdict
from engine.model import build, load_model

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"

EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))
#: Quantities of a station that the Theory tab and the Results tab both show.
SHARED = ("utilization", "cpu_utilization", "mean_in_system", "mean_queue_length", "mean_response", "mean_wait")


def _short(name: str):  # type: ignore[no-untyped-def]
    """The example, shortened so that a test runs it to its end in a few seconds, with a
    warm-up > 0 (so the measurement window is reset mid-run, as in the examples)."""
    model = load_model(EXAMPLES / f"{name}.json")
    sim = model.simulation
    if sim.warmup <= 0:
        sim.warmup = 10 * sim.sample_interval
    sim.end_time = min(sim.end_time, sim.warmup + 300 * sim.sample_interval)
    return model


def _number(text: str) -> float:
    return float(text.split("=")[-1])


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_theory_tab_results_tab_exports_and_cli_agree(qtbot, make_host, tmp_path, name) -> None:
    model = _short(name)
    host = make_host(model)
    live = host.live
    live.run()
    qtbot.waitUntil(lambda: live.state == "finished", timeout=60000)
    final = live.last_batch.results
    panel, table = live.theory_panel, live.results_panel

    headless = build(model, seed=model.simulation.seed)  # what `queuestudio run` does, same seed
    headless.run()
    cli = headless.results()
    assert final.keys() == cli.keys()
    for node, metrics in final.items():
        for metric, value in metrics.items():
            other = cli[node][metric]
            assert value == other or (math.isnan(value) and math.isnan(other)), (node, metric, value, other)

    panel.refresh(live.last_batch)  # as when the Theory tab is raised
    for sid in live.store.stations:
        for key in SHARED:
            if key not in final[sid] or not math.isfinite(final[sid][key]):
                continue
            label = next(lab for k, lab, _ in QUANTITIES if k == key)
            row = panel.row(sid, label.split()[0] + " ")
            assert row, (sid, key)
            assert row[2].split()[0] == f"{final[sid][key]:.4g}", (sid, key, row)
            assert table.value(sid, key).split()[0] == f"{final[sid][key]:.5g}", (sid, key)
            if row[1]:  # theory has a value: a verdict, not "…"
                assert row[3] != "…" and row[3], (sid, key, row)
        little = panel.row(sid, "Little's law")
        if little and math.isfinite(final[sid]["mean_response"]):
            lhs, rhs = _number(little[2]), _number(little[1])
            assert lhs == float(f"{final[sid]['mean_in_system']:.4g}")
            assert abs(lhs - rhs) <= 0.02 * lhs + 1e-3, little  # Little's law holds over the window
    for sid in (n.id for n in model.nodes if n.kind == "sink"):
        row = panel.row(sid, "end-to-end latency")
        if math.isfinite(final[sid]["mean_latency"]):
            assert row[2] == f"{final[sid]['mean_latency']:.4g}"

    table.export_json(tmp_path / "r.json")
    exported = json.loads((tmp_path / "r.json").read_text())["nodes"]
    for node, metrics in final.items():
        for metric, value in metrics.items():
            assert exported[node][metric] == (value if math.isfinite(value) else None)


def test_md1_little_law_holds_in_the_theory_tab(qtbot, make_host) -> None:
    """The issue's case: M/D/1 to the end, W in the Theory tab is the Results tab's W."""
    model = load_model(EXAMPLES / "md1.json")
    host = make_host(model)
    host.live.run()
    qtbot.waitUntil(lambda: host.live.state == "finished", timeout=60000)
    results = host.live.last_batch.results["machine"]
    panel = host.live.theory_panel
    panel.refresh(host.live.last_batch)
    assert panel.row("machine", "W ")[2].startswith(f"{results['mean_response']:.4g} ±")
    assert panel.row("machine", "Wq ")[2].startswith(f"{results['mean_wait']:.4g} ±")
    assert panel.row("machine", "W ")[3] == "✓ covers"
    residual = panel.row("machine", "Little's law")[3]
    assert residual.endswith("(0.0%)"), residual
    assert panel.caption.text() == (
        "Run of “M/D/1” (seed 1), finished at t = 20,000 s. "
        "Simulated values over the measurement window 1,000–20,000 s, as in Results."
    )


def test_a_theory_tab_raised_after_the_run_shows_the_final_values(qtbot, make_host) -> None:
    host = make_host(_short("mm1"))
    live = host.live
    live.theory_panel.hide()  # another tab in front while running: the controller skips it
    live.run()
    qtbot.waitUntil(lambda: live.state == "finished", timeout=60000)
    assert live.theory_panel.row("cpu", "W ") == []  # it was never drawn
    live.theory_panel.show()
    final = live.last_batch.results["cpu"]
    assert live.theory_panel.row("cpu", "W ")[2].split()[0] == f"{final['mean_response']:.4g}"


def test_bands_stay_inside_the_physical_range() -> None:
    assert simulated_text(Estimate(0.2, 0.5), (0.0, math.inf)) == "0.2 (95%: 0–0.7)"
    assert simulated_text(Estimate(0.9, 0.2), (0.0, 1.0)) == "0.9 (95%: 0.7–1)"
    assert simulated_text(Estimate(2.0, 0.5), (0.0, math.inf)) == "2 ± 0.5"


def test_a_finished_run_gives_a_verdict_not_an_ellipsis() -> None:
    assert verdict(Estimate(1.0, math.nan, 1), 1.0, finished=False) == "…"
    assert verdict(Estimate(1.0, math.nan, 1), 1.0, finished=True) == "no interval: too few samples"
    assert verdict(Estimate(1.0, 0.1, 16), 1.05, finished=True) == "✓ covers"
    assert verdict(Estimate(1.0, 0.01, 16), 1.25, finished=True) == "✗ outside (-20.0%)"


def test_after_a_live_change_w_is_measured_from_the_change(qtbot, make_host) -> None:
    """The window restarts at the change; a checkpoint taken at that instant is its exact
    baseline, so W and Wq since the change cover exactly the completions since then."""
    model = load_model(EXAMPLES / "mm1.json")
    model.simulation.end_time = 1e8
    host = make_host(model)
    live = host.live
    live.run()
    qtbot.waitUntil(lambda: live.last_batch is not None and live.last_batch.now > 3000, timeout=10000)
    live.change_param("arrivals", "rate", 0.5)
    qtbot.waitUntil(lambda: len(live.dashboard.markers) == 1, timeout=5000)
    at = live.dashboard.markers[0]
    qtbot.waitUntil(lambda: live.last_batch.now > at + 5000, timeout=10000)
    live.pause()
    qtbot.waitUntil(lambda: live.last_batch.state == "paused", timeout=5000)
    assert at in live.store.checkpoint_times().tolist()
    panel = live.theory_panel
    panel.refresh(live.last_batch)
    times = live.store.checkpoint_times()
    base = times.tolist().index(at)
    done, resp = live.store.checkpoint("cpu", "completed"), live.store.checkpoint("cpu", "response_sum")
    exact = (resp[-1] - resp[base]) / (done[-1] - done[base])
    assert panel.row("cpu", "W ")[2].split()[0] == f"{exact:.4g}"
    assert panel.row("cpu", "W ")[1] == "2"  # theory for λ = 0.5: W = 1 / (1 − 0.5)
    assert panel.caption.text().endswith(f"since the live change at t = {at:,.6g} s.")
