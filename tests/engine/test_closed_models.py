"""Closed loops in model documents: the ``clients`` kind's validation rules, building and
live changes, and what ``analyze_model`` says about them (exact MVA)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest

from engine.analysis import analyze_model
from engine.closed import ClientsResult, ClosedStation, mva
from engine.model import ModelError, build, check_document, load_model, model_from_dict
from engine.model.schema import KINDS
from engine.queueing import StationResult

ROOT = Path(__file__).resolve().parents[2]
EXP = {"dist": "exponential", "mean": 1.0}


def _exp(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


def doc(nodes: list[dict[str, Any]], links: list[tuple[str, str]], **sim: Any) -> dict[str, Any]:
    return {
        "format": "queuestudio-model",
        "version": 1,
        "simulation": {"end_time": 1000, "warmup": 0, "seed": 3, "sample_interval": 10.0, **sim},
        "nodes": nodes,
        "links": [{"from": a, "to": b} for a, b in links],
    }


def loop(n: int = 5, z: float = 2.0, **extra: Any) -> dict[str, Any]:
    """users -> web -> db -> users."""
    return doc(
        [
            {"id": "users", "kind": "clients", "params": {"population": n, "think_time": _exp(z)}},
            {"id": "web", "kind": "server", "params": {"concurrency": 2, "service_time": _exp(0.3)}},
            {"id": "db", "kind": "server", "params": {"service_time": _exp(0.2)}},
            *extra.get("nodes", []),
        ],
        [("users", "web"), ("web", "db"), ("db", "users"), *extra.get("links", [])],
    )


def errors(d: dict[str, Any]) -> list[str]:
    """Every error of ``d`` (graph rules included: loading with them would raise)."""
    return check_document(model_from_dict(d, check_graph=False)).errors


# ------------------------------------------------------------------ validation
def test_a_closed_loop_without_a_source_is_a_valid_model():
    assert errors(loop()) == []


def test_clients_without_out_link_are_refused_by_name():
    d = doc([{"id": "users", "kind": "clients", "params": {"population": 3, "think_time": EXP}}], [])
    assert any("clients 'users' has no out-link" in e for e in errors(d))


def test_a_sink_on_the_loop_is_refused():
    d = loop(nodes=[{"id": "done", "kind": "sink"}])
    d["links"][-1] = {"from": "db", "to": "done"}
    found = errors(d)
    assert any("'done'" in e and "never come back" in e for e in found), found


def test_a_node_that_cannot_get_back_is_refused():
    d = loop(nodes=[{"id": "spin", "kind": "delay", "params": {"delay": EXP}}])
    d["links"].append({"from": "spin", "to": "spin"})
    d["links"][1] = {"from": "web", "to": "spin"}  # web -> spin, and spin only loops on itself
    found = errors(d)
    assert any("node 'spin' is on the closed loop of clients 'users'" in e for e in found), found


def test_a_source_feeding_a_closed_loop_is_refused():
    d = loop(nodes=[{"id": "arrivals", "kind": "source", "params": {"rate": 1.0}}], links=[("arrivals", "db")])
    found = errors(d)
    assert any("source 'arrivals' feeds node 'db' on the closed loop of clients 'users'" in e for e in found), found


def test_two_clients_nodes_may_not_share_a_loop():
    more = {"id": "more", "kind": "clients", "params": {"population": 2, "think_time": EXP}}
    d = loop(nodes=[more], links=[("more", "web")])
    found = errors(d)
    assert any("requests of clients 'more' reach clients 'users'" in e for e in found), found


def test_a_station_that_can_reject_is_refused_on_a_loop():
    d = loop()
    d["nodes"][2]["params"]["queue_capacity"] = 5
    assert any("node 'db' on the closed loop" in e and "finite queue" in e for e in errors(d))
    d = loop(n=50)
    d["nodes"][2] = {"id": "db", "kind": "async_server", "params": {"max_connections": 20}}
    assert any("node 'db' on the closed loop" in e and "20 connections" in e for e in errors(d))


def test_an_open_part_beside_a_closed_loop_is_valid():
    d = loop(
        nodes=[
            {"id": "arrivals", "kind": "source", "params": {"rate": 0.5}},
            {"id": "batch", "kind": "server", "params": {"service_time": _exp(1.0)}},
            {"id": "done", "kind": "sink"},
        ],
        links=[("arrivals", "batch"), ("batch", "done")],
    )
    assert errors(d) == []


# ------------------------------------------------------------------ the kind entry
def test_the_kind_entry_resolves_builds_and_describes():
    kind = KINDS["clients"]
    resolved = kind.resolve({"population": 4})
    assert resolved == {"population": 4, "think_time": {"dist": "exponential", "mean": 1.0}}
    service = kind.service(resolved)
    assert service is not None and service.infinite and service.mean_service == 1.0
    assert kind.summary(resolved) == "N = 4\nthink exp 1 s"
    assert set(kind.live) == {"population", "think_time"}


def test_the_example_builds_runs_and_reports_the_clients_metrics():
    run = build(load_model(ROOT / "resources" / "examples" / "closed_web.json"), end_time=600.0)
    run.run(slices=3)
    users = run.results()["users"]
    assert users["population"] == 20
    assert users["completed"] > 0 and users["mean_response"] > 0
    assert users["mean_thinking"] + users["mean_in_system"] == pytest.approx(20, rel=1e-9)


def test_population_changes_live_through_set_param():
    run = build(model_from_dict(loop(n=10)))
    run.run_until(200.0)
    run.set_param("users", "population", 3)
    run.run_until(400.0)
    clients = run.nodes["users"]
    assert clients.population == 3 and clients.thinking + clients.outstanding == 3
    run.set_param("users", "population", 12)
    assert clients.thinking + clients.outstanding == 12
    with pytest.raises(ValueError, match="population"):
        run.set_param("users", "population", -1)


def test_a_live_population_change_behaves_as_a_run_started_with_it():
    # Same shape as tests/engine/test_live_params.py: change at 1000 s, compare the window
    # after a settling time with a fresh run started with the new value.
    old, new = loop(n=4), loop(n=12)
    for d in (old, new):
        d["simulation"]["end_time"] = 8000
    live, fresh = build(model_from_dict(old)), build(model_from_dict(new))
    live.run_until(1000.0)
    live.set_param("users", "population", 12)
    for r in (live, fresh):
        r.run_until(1300.0)
    marks = [r.nodes["users"].window_totals() for r in (live, fresh)]
    for r in (live, fresh):
        r.run_until(8000.0)
    (lc, lr, *_), (fc, fr, *_) = [r.nodes["users"].window_totals() for r in (live, fresh)]
    live_x, fresh_x = (lc - marks[0][0]) / 6700, (fc - marks[1][0]) / 6700
    live_r, fresh_r = (lr - marks[0][1]) / (lc - marks[0][0]), (fr - marks[1][1]) / (fc - marks[1][0])
    assert live_x == pytest.approx(fresh_x, rel=0.04)
    assert live_r == pytest.approx(fresh_r, rel=0.12)


def test_a_live_think_time_change_applies_to_the_next_think_periods():
    run = build(model_from_dict(loop(n=10, z=2.0)))
    run.run_until(100.0)
    run.set_param("users", "think_time", {"dist": "constant", "value": 50.0})
    assert run.nodes["users"].think_time.mean == 50.0


# ------------------------------------------------------------------ analysis
def test_analysis_of_a_closed_loop_is_exact_mva():
    got = analyze_model(model_from_dict(loop(n=5, z=2.0)))
    want = mva([ClosedStation("web", 0.3, 1, 2), ClosedStation("db", 0.2)], 5, 2.0)
    users = got["users"]
    assert isinstance(users, ClientsResult)
    assert users.throughput == pytest.approx(want.throughput, rel=1e-12)
    assert users.mean_response == pytest.approx(want.response_time, rel=1e-12)
    assert users.mean_thinking == pytest.approx(want.throughput * 2.0)
    for sid in ("web", "db"):
        assert got[sid] == want.stations[sid]


def test_visit_ratios_and_link_latency_enter_the_mva():
    # users -> web -> db -> (0.75: web again, 0.25: users): web and db are visited 4 times
    # per interaction; the 0.1 s latency on users -> web is a delay visited once.
    d = loop(n=6, z=1.0)
    d["links"] = [
        {"from": "users", "to": "web", "latency": {"dist": "constant", "value": 0.1}},
        {"from": "web", "to": "db"},
        {"from": "db", "to": "web", "probability": 0.75},
        {"from": "db", "to": "users", "probability": 0.25},
    ]
    got = analyze_model(model_from_dict(d))
    want = mva(
        [ClosedStation("web", 0.3, 4, 2), ClosedStation("db", 0.2, 4), ClosedStation("wire", 0.1, 1, None)], 6, 1.0
    )
    assert got["users"].throughput == pytest.approx(want.throughput, rel=1e-9)
    assert got["users"].mean_response == pytest.approx(want.response_time, rel=1e-9)
    assert got["db"].throughput == pytest.approx(4 * want.throughput, rel=1e-9)


def test_a_loop_without_product_form_says_why_for_each_of_its_nodes():
    d = loop()
    d["nodes"][2]["params"]["service_time"] = {"dist": "constant", "value": 0.2}
    got = analyze_model(model_from_dict(d))
    for sid in ("users", "web", "db"):
        assert isinstance(got[sid], str) and "constant" in got[sid], got[sid]
    d = loop(nodes=[{"id": "lb", "kind": "router", "params": {"policy": "round_robin"}}])
    d["links"] = [
        {"from": "users", "to": "lb"},
        {"from": "lb", "to": "web"},
        {"from": "lb", "to": "db"},
        {"from": "web", "to": "users"},
        {"from": "db", "to": "users"},
    ]
    assert "round_robin" in analyze_model(model_from_dict(d))["users"]


def test_an_async_server_on_a_loop_is_its_cpu_then_its_io():
    d = loop(n=8, z=1.0)
    d["nodes"][2] = {
        "id": "db",
        "kind": "async_server",
        "params": {"max_connections": 100, "cpu_work_distribution": _exp(0.05), "io_time": _exp(0.4)},
    }
    got = analyze_model(model_from_dict(d))
    want = mva([ClosedStation("web", 0.3, 1, 2), ClosedStation("cpu", 0.05), ClosedStation("io", 0.4, 1, None)], 8, 1.0)
    db = got["db"]
    assert isinstance(db, StationResult)
    assert db.mean_response == pytest.approx(want.stations["cpu"].mean_response + 0.4, rel=1e-9)
    assert db.utilization == pytest.approx(db.mean_in_system / 100, rel=1e-9)
    assert got["users"].throughput == pytest.approx(want.throughput, rel=1e-9)


def test_open_and_closed_parts_are_solved_side_by_side():
    d = loop(
        nodes=[
            {"id": "arrivals", "kind": "source", "params": {"rate": 0.5}},
            {"id": "batch", "kind": "server", "params": {"service_time": _exp(1.0)}},
            {"id": "done", "kind": "sink"},
        ],
        links=[("arrivals", "batch"), ("batch", "done")],
    )
    got = analyze_model(model_from_dict(d))
    assert got["batch"].mean_response == pytest.approx(2.0)  # M/M/1 at rho = 0.5
    assert got["done"]["mean_latency"] == pytest.approx(2.0)  # the loop's stations do not count
    assert isinstance(got["users"], ClientsResult)


def test_zero_clients_give_zero_throughput():
    got = analyze_model(model_from_dict(loop(n=0)))
    assert got["users"].throughput == 0.0 and got["db"].utilization == 0.0


def test_analysis_stays_exact_for_ten_thousand_clients():
    got = analyze_model(model_from_dict(loop(n=10_000, z=2.0)))
    # Bottleneck: db, D = 0.2 s: X = 5/s, and R = N/X - Z.
    assert got["users"].throughput == pytest.approx(5.0, rel=1e-9)
    assert got["users"].mean_response == pytest.approx(10_000 / 5.0 - 2.0, rel=1e-9)
    assert all(math.isfinite(v) for v in got["db"].as_dict().values())


def test_the_model_document_round_trips_a_clients_node():
    d = loop()
    m = model_from_dict(copy.deepcopy(d))
    node = next(n for n in m.nodes if n.id == "users")
    assert node.kind == "clients" and node.params["population"] == 5


def test_a_population_beyond_the_limit_is_refused_with_why():
    with pytest.raises(ModelError, match="population must be <= 100000 .*memory"):
        model_from_dict(loop(n=100_001))


def test_analysis_declines_an_mva_too_large_to_run_quickly():
    d = loop(n=100_000)
    d["nodes"][1]["params"]["concurrency"] = 50_000
    got = analyze_model(model_from_dict(d))
    assert isinstance(got["users"], str) and "exact MVA would take" in got["users"]
