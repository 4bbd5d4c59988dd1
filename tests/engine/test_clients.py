"""The ``Clients`` component: a closed population with think time.

The statistical tests compare simulation with exact MVA (engine.closed) over independent
replications. Tolerance: R = 10 replications, each 4000 s after a 400 s warm-up (about
16 000 interactions at X ≈ 4/s; the warm-up is ~1000 response times, so the initial
transient is negligible). Each assertion checks that the MVA value lies in the two-sided
99.9 % Student-t interval of the replication means (t(0.9995, 9) = 4.78, the 95 % interval
widened by 4.78/2.26 ≈ 2.1). Measured 95 % half-widths: 0.3–0.5 % of X, 0.8 % of R, 0.25 %
of the number thinking, 0.5–0.7 % of the utilisations and about 1 % of the per-visit
responses (every MVA value fell within 0.9 half-widths of the simulated mean), so an engine
error of 2–3 % fails the test. With fifteen such assertions the chance of a failure by bad
luck is below 2 % and, the seeds being fixed, the outcome is the same on every run.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import stats

from engine import Server, Simulation
from engine.closed import ClosedStation, interactive_response_time, mva
from engine.components.clients import Clients
from engine.components.delay import Delay
from engine.distributions import ConstantLatency, ExponentialLatency, UniformLatency

LEVEL = 0.999
R = 10
WARMUP = 400.0
END = 4400.0
N, Z, S_WEB, S_DB = 8, 1.5, 0.1, 0.15


def _loop(n: int, think, *, seed: int, end: float, c_web: int = 1):
    web = Server("web", c_web, ExponentialLatency(S_WEB))
    db = Server("db", 1, ExponentialLatency(S_DB))
    users = Clients("users", n, think, web)
    web.downstream = db
    db.downstream = users
    sim = Simulation(entities=[users], end_time=end, seed=seed)
    return sim, users, web, db


@functools.cache
def _replications(c_web: int) -> list[dict[str, dict[str, float]]]:
    out = []
    for seed in np.random.SeedSequence(20261130 + c_web).spawn(R):
        sim, users, web, db = _loop(N, ExponentialLatency(Z), seed=seed, end=END, c_web=c_web)
        sim.run_until(WARMUP)
        for st in (users, web, db):
            st._reset_window(sim.now)
        sim.run()
        out.append({st.name: st.window_metrics(sim.now) for st in (users, web, db)})
    return out


def _interval(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values)
    half = stats.t.ppf(0.5 + LEVEL / 2, len(a) - 1) * a.std(ddof=1) / math.sqrt(len(a))
    return float(a.mean() - half), float(a.mean() + half)


def test_two_requests_at_one_server_take_turns():
    # Two clients, constant think 1 s, one constant 0.5 s server: both send at 1, return
    # at 1.5 and 2.0, send again at 2.5 and 3.0, return at 3.0 and 3.5, ...
    srv = Server("s", 1, ConstantLatency(0.5))
    users = Clients("u", 2, ConstantLatency(1.0), srv)
    srv.downstream = users
    sim = Simulation(entities=[users], end_time=3.5, seed=1)
    sim.run()
    m = users.window_metrics(sim.now)
    assert (m["arrivals"], m["completed"]) == (4, 4)
    assert m["mean_response"] == pytest.approx((0.5 + 1.0 + 0.5 + 0.5) / 4)
    assert users.thinking == 2 and users.outstanding == 0


def test_without_downstream_requests_come_back_at_once():
    users = Clients("u", 3, ConstantLatency(2.0))
    sim = Simulation(entities=[users], end_time=10.0, seed=1)
    sim.run()
    m = users.window_metrics(sim.now)
    assert m["completed"] == 15 and m["mean_response"] == 0.0
    assert m["mean_thinking"] == pytest.approx(3.0)


def test_clients_alone_do_not_keep_an_open_ended_run_alive():
    users = Clients("u", 3, ConstantLatency(2.0), Delay("d", ConstantLatency(1.0)))
    users.downstream.downstream = users  # type: ignore[union-attr]
    sim = Simulation(entities=[users], seed=1)
    sim.run()  # like an unbounded source's arrivals, think periods are daemon calls
    assert sim.now == 0.0 and sim.events_processed == 0


def test_population_is_conserved_and_littles_law_holds():
    sim, users, web, db = _loop(N, UniformLatency(0.5, 2.5), seed=7, end=3000.0)
    sim.run()
    m = users.window_metrics(sim.now)
    # Every client is thinking or has a request out: the two time averages add up to N.
    assert m["mean_thinking"] + m["mean_in_system"] == pytest.approx(N, rel=1e-9)
    # Utilisation: the share of the clients with a request out.
    assert m["utilization"] == pytest.approx(m["mean_in_system"] / N, rel=1e-9)
    assert m["mean_queue_length"] == 0.0 and m["mean_wait"] == 0.0
    assert m["mean_in_system"] == pytest.approx(m["throughput"] * m["mean_response"], rel=0.01)
    assert m["mean_thinking"] == pytest.approx(m["throughput"] * 1.5, rel=0.03)
    # The interactive response time law holds whatever the think-time distribution.
    assert m["mean_response"] == pytest.approx(interactive_response_time(N, m["throughput"], 1.5), rel=0.05)
    net = web.window_metrics(sim.now)["mean_in_system"] + db.window_metrics(sim.now)["mean_in_system"]
    assert net == pytest.approx(m["mean_in_system"], rel=1e-9)


@pytest.mark.parametrize("c_web", [1, 2])
@pytest.mark.parametrize("metric", ["throughput", "mean_response", "mean_thinking", "utilization"])
def test_simulation_agrees_with_mva_for_the_clients(c_web, metric):
    res = mva([ClosedStation("web", S_WEB, 1, c_web), ClosedStation("db", S_DB)], N, Z)
    expected = getattr(res.clients(), metric)
    lo, hi = _interval([rep["users"][metric] for rep in _replications(c_web)])
    assert lo <= expected <= hi, (metric, lo, expected, hi)


@pytest.mark.parametrize("station", ["web", "db"])
def test_simulation_agrees_with_mva_at_the_stations(station):
    res = mva([ClosedStation("web", S_WEB), ClosedStation("db", S_DB)], N, Z)
    for metric in ("utilization", "mean_response"):
        lo, hi = _interval([rep[station][metric] for rep in _replications(1)])
        expected = getattr(res.stations[station], metric)
        assert lo <= expected <= hi, (station, metric, lo, expected, hi)


def test_interactive_response_time_law_over_replications():
    reps = _replications(1)
    lo, hi = _interval([rep["users"]["mean_response"] for rep in reps])
    law = [interactive_response_time(N, rep["users"]["throughput"], Z) for rep in reps]
    assert lo <= float(np.mean(law)) <= hi


def test_raising_the_population_starts_new_clients_thinking_now():
    sim, users, _, _ = _loop(2, ConstantLatency(1000.0), seed=1, end=5000.0)
    sim.run_until(10.0)
    users.set_population(5)
    assert users.population == 5 and users.thinking == 5
    sim.run_until(1009.0)
    assert users.window_metrics(sim.now)["arrivals"] == 2  # the originals sent at 1000
    sim.run_until(1011.0)
    assert users.window_metrics(sim.now)["arrivals"] == 5  # the new ones at 1010


def test_lowering_the_population_stops_thinkers_then_retires_returning_clients():
    sim, users, _, _ = _loop(10, ExponentialLatency(0.2), seed=2, end=2000.0)
    sim.run_until(100.0)
    thinking, out = users.thinking, users.outstanding
    assert thinking + out == 10 and out > 0
    users.set_population(0)
    assert users.thinking == 0  # every thinker stopped at once
    sim.run_until(200.0)
    assert users.outstanding == 0 and users.thinking == 0
    sent = users.window_metrics(sim.now)["arrivals"]
    users.set_population(3)  # back up: three clients think again
    sim.run()
    assert users.thinking + users.outstanding == 3
    assert users.window_metrics(sim.now)["arrivals"] > sent


def test_raising_after_lowering_keeps_clients_that_were_to_retire():
    srv = Server("s", 1, ConstantLatency(10.0))
    users = Clients("u", 4, ConstantLatency(1.0), srv)
    srv.downstream = users
    sim = Simulation(entities=[users], end_time=100.0, seed=1)
    sim.run_until(2.0)  # all four sent at 1: one in service, three waiting
    assert users.outstanding == 4
    users.set_population(1)  # three to retire as they return
    users.set_population(3)  # two of those stay after all
    sim.run()
    assert users.population == 3
    assert users.thinking + users.outstanding == 3
    # Capacity was 4 clients until the one retiring came back (at 20), then 3.
    m = users.window_metrics(sim.now)
    assert 0 < m["utilization"] <= 1


def test_a_warmup_reset_starts_a_new_window():
    sim, users, _, _ = _loop(4, ExponentialLatency(1.0), seed=3, end=200.0)
    sim.run_until(100.0)
    users._reset_window(sim.now)
    m = users.window_metrics(sim.now)
    assert m["completed"] == 0 and math.isnan(m["mean_response"])
    sim.run()
    m = users.window_metrics(sim.now)
    assert m["completed"] > 0 and m["mean_thinking"] + m["mean_in_system"] == pytest.approx(4, rel=1e-9)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        Clients("u", -1, ConstantLatency(1.0))
    with pytest.raises(TypeError):
        Clients("u", 2.5, ConstantLatency(1.0))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Clients("u", 2, 1.0)  # type: ignore[arg-type]
    users = Clients("u", 2, ConstantLatency(1.0))
    with pytest.raises(ValueError):
        users.set_population(-3)
