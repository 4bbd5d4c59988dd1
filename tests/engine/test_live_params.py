"""Live edits apply fully (issue 13): every parameter a running model takes
(the ``live`` mapping of its kind's entry in ``engine.model.schema.KINDS``) takes effect from the instant of the change exactly as
it would from the start of a run.

Each case builds a model with the old value, runs a while, changes the parameter with
``Run.set_param`` and runs on; a second run starts with the new value. Right after the
change the component must be configured as the fresh one is, and over a long window after
the change it must behave as the fresh one does over the same window (throughput, mean
response and utilisation of the station, from exact running totals).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from engine.model import build, model_from_dict
from engine.model.schema import KINDS

CHANGE_AT = 1000.0
END = 7000.0
SETTLE = 300.0  # let the transient after the change pass before comparing

EXP = {"dist": "exponential", "mean": 1.0}


def _doc(node: dict[str, Any], rate: float = 1.0, via_router: bool = False) -> dict[str, Any]:
    """source -> NODE -> sink, or source -> router -> (NODE, twin) -> sink."""
    nodes = [{"id": "arrivals", "kind": "source", "params": {"rate": rate}}, node, {"id": "done", "kind": "sink"}]
    links = [{"from": "arrivals", "to": node["id"]}, {"from": node["id"], "to": "done"}]
    if via_router:
        nodes = [
            nodes[0],
            node,
            {
                "id": "twin",
                "kind": "server",
                "params": {"concurrency": 1, "service_time": {"dist": "constant", "value": 0.2}},
            },
            {
                "id": "fast",
                "kind": "server",
                "params": {"concurrency": 1, "service_time": {"dist": "constant", "value": 0.5}},
            },
            nodes[2],
        ]
        links = [
            {"from": "arrivals", "to": node["id"]},
            {"from": node["id"], "to": "twin"},
            {"from": node["id"], "to": "fast"},
            {"from": "twin", "to": "done"},
            {"from": "fast", "to": "done"},
        ]
    return {
        "format": "queuestudio-model",
        "version": 1,
        "simulation": {"end_time": END, "warmup": 0, "seed": 7, "sample_interval": 10.0},
        "nodes": nodes,
        "links": links,
    }


def _server(**params: Any) -> dict[str, Any]:
    return {"id": "st", "kind": "server", "params": {"concurrency": 1, "service_time": EXP, **params}}


def _pool(**params: Any) -> dict[str, Any]:
    return {"id": "st", "kind": "thread_pool", "params": {"num_workers": 1, "processing_time": EXP, **params}}


def _async(**params: Any) -> dict[str, Any]:
    base = {"max_connections": 3, "cpu_work_distribution": {"dist": "exponential", "mean": 0.3}, "io_time": EXP}
    return {"id": "st", "kind": "async_server", "params": {**base, **params}}


AUTOSCALED = {
    "kind": "dynamic",
    "initial": 1,
    "min": 1,
    "max": 3,
    "autoscale": {"target_utilization": 0.6, "interval": 5.0, "band": 0.15, "step": 1},
}

#: (kind, parameter, the model with the old value, the new value, station to compare, arrival rate).
#: The old configuration is stable, so that little backlog is left from before the change.
CASES: list[tuple[str, str, dict[str, Any], Any, str, float]] = [
    ("source", "rate", _server(concurrency=2), 1.6, "st", 0.6),
    ("source", "interarrival", _server(concurrency=2), {"dist": "constant", "value": 0.6}, "st", 1.0),
    ("source", "priority", _server(queue_policy="priority"), 3, "st", 0.7),
    ("server", "concurrency", _server(), AUTOSCALED, "st", 0.95),
    ("server", "concurrency", _server(concurrency=copy.deepcopy(AUTOSCALED)), 2, "st", 1.5),
    (
        "server",
        "concurrency",
        _server(concurrency={"kind": "dynamic", "initial": 2, "min": 1, "max": 2}),
        {"kind": "dynamic", "initial": 3, "min": 3, "max": 5},
        "st",
        1.9,
    ),
    (
        "server",
        "concurrency",
        _server(concurrency={"kind": "weighted", "total_capacity": 2, "weight": {"dist": "constant", "value": 2}}),
        {"kind": "weighted", "total_capacity": 6, "weight": {"dist": "uniform", "low": 1, "high": 3}},
        "st",
        1.2,
    ),
    ("server", "service_time", _server(), {"dist": "uniform", "low": 0.2, "high": 1.0}, "st", 0.9),
    ("server", "queue_capacity", _server(), 2, "st", 0.9),
    ("thread_pool", "num_workers", _pool(), 3, "st", 0.95),
    ("thread_pool", "processing_time", _pool(num_workers=2), {"dist": "constant", "value": 0.5}, "st", 1.5),
    ("thread_pool", "queue_capacity", _pool(queue_capacity=0), None, "st", 0.8),
    ("async_server", "max_connections", _async(), 8, "st", 2.0),
    ("async_server", "cpu_work_distribution", _async(), None, "st", 2.0),
    ("async_server", "io_time", _async(), {"dist": "constant", "value": 0.2}, "st", 2.0),
    (
        "delay",
        "delay",
        {"id": "st", "kind": "delay", "params": {"delay": EXP}},
        {"dist": "constant", "value": 2.0},
        "st",
        1.0,
    ),
    (
        "router",
        "policy",
        {"id": "st", "kind": "router", "params": {"policy": "round_robin"}},
        "shortest_queue",
        "fast",
        2.2,
    ),
]


def _ids(case: tuple[Any, ...]) -> str:
    return f"{case[0]}.{case[1]}={case[3]!r}"[:60]


#: Live parameters tested where their kind's model shape is (a closed loop has no source).
ELSEWHERE = {("clients", "population"), ("clients", "think_time")}  # tests/engine/test_closed_models.py


def test_every_live_parameter_of_every_kind_is_covered():
    covered = {(kind, name) for kind, name, *_ in CASES} | ELSEWHERE
    assert covered == {(kind.name, name) for kind in KINDS.values() for name in kind.live}


def _with(doc: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    new = copy.deepcopy(doc)
    node = next(n for n in new["nodes"] if n["kind"] != "source" or name in ("rate", "interarrival", "priority"))
    if node["kind"] == "source" and name in ("rate", "interarrival"):
        node["params"].pop("rate", None)
    node["params"][name] = copy.deepcopy(value)
    return new


def _config(run: Any, kind: str, node_id: str) -> dict[str, Any]:
    """What a component is configured with now (independent of what has happened)."""
    e = run.nodes[node_id]
    if kind == "source":
        factory = e.context_factory
        return {
            "rate": e.rate,
            "interarrival": None if e.interarrival is None else e.interarrival.to_spec(),
            "context": None if factory is None else factory(0.0),
        }
    if kind in ("server", "thread_pool"):
        model = e.concurrency_model if kind == "server" else e._model
        scaler = run.contexts[node_id].state.get("autoscaler")
        return {
            "model": type(model).__name__ if kind == "server" else "slots",
            "limit": model.limit,
            "min": getattr(model, "min_limit", 1),
            "max": getattr(model, "max_limit", None),
            "autoscale": None if scaler is None else (scaler.target, scaler.band, scaler.interval, scaler.step),
            "weights": e._weight_sampler is not None,
            "time": (e.service_time if kind == "server" else e.processing_time).to_spec(),
            "queue_capacity": e.queue_capacity,
        }
    if kind == "async_server":
        return {
            "max": e.max_connections,
            "cpu": e.cpu_work_distribution.to_spec(),
            "io": None if e.io_time is None else e.io_time.to_spec(),
        }
    if kind == "delay":
        return {"delay": e.delay.to_spec()}
    return {"policy": e.policy}


def _window(run: Any, station: str, since: tuple[float, ...]) -> dict[str, float]:
    """Throughput, mean response and utilisation of ``station`` since the ``since`` marks."""
    now = run.now
    st = run.stations[station]
    completed, resp, *_ = st.window_totals()
    _, _, busy, cap = st.areas(now)
    t0, c0, r0, b0, k0, rej0 = since
    done = completed - c0
    util = (busy - b0) / (cap - k0) if cap > k0 and not math.isinf(cap) else math.nan
    return {
        "throughput": done / (now - t0),
        "response": (resp - r0) / done,
        "utilization": util,
        "rejected": (st._rejected - rej0) / (now - t0),
    }


def _marks(run: Any, station: str) -> tuple[float, ...]:
    st = run.stations[station]
    completed, resp, *_ = st.window_totals()
    _, _, busy, cap = st.areas(run.now)
    return (run.now, completed, resp, busy, cap, st._rejected)


@pytest.mark.parametrize(("kind", "name", "node", "value", "station", "rate"), CASES, ids=[_ids(c) for c in CASES])
def test_a_live_change_takes_effect_as_it_would_at_start(kind, name, node, value, station, rate):
    old = _doc(node, rate, via_router=kind == "router")
    node_id = "arrivals" if kind == "source" else node["id"]
    live = build(model_from_dict(old))
    fresh = build(model_from_dict(_with(old, name, value)))
    before = _config(live, kind, node_id)
    live.run_until(CHANGE_AT)
    live.set_param(node_id, name, copy.deepcopy(value))
    assert _config(live, kind, node_id) == _config(fresh, kind, node_id) != before
    fresh.run_until(CHANGE_AT + SETTLE)
    live.run_until(CHANGE_AT + SETTLE)
    marks = _marks(live, station), _marks(fresh, station)
    live.run_until(END)
    fresh.run_until(END)
    got, want = _window(live, station, marks[0]), _window(fresh, station, marks[1])
    assert got["throughput"] == pytest.approx(want["throughput"], rel=0.04)
    assert got["response"] == pytest.approx(want["response"], rel=0.12)
    if not math.isnan(want["utilization"]):
        assert got["utilization"] == pytest.approx(want["utilization"], rel=0.06, abs=0.01)
    assert got["rejected"] == pytest.approx(want["rejected"], rel=0.15, abs=0.002)


# ------------------------------------------------------------- concurrency in detail
def _load(doc: dict[str, Any]) -> Any:
    return build(model_from_dict(doc))


def test_a_live_dynamic_concurrency_applies_its_bounds_and_its_autoscale_rule():
    run = _load(_doc(_server(), rate=1.5))  # c = 1 at ρ = 1.5: the queue grows
    run.run_until(500)
    assert run.stations["st"].depth > 100
    run.set_param("st", "concurrency", copy.deepcopy(AUTOSCALED))
    server = run.stations["st"]
    model = server.concurrency_model
    assert (model.current_limit, model.min_limit, model.max_limit) == (1, 1, 3)
    scaler = run.contexts["st"].state["autoscaler"]
    seen = set()
    while run.now < 1500:
        run.run_until(run.now + 5.0)
        seen.add(model.current_limit)
    assert scaler.evaluations == pytest.approx(1000 / 5.0, abs=1)  # every interval from the change on
    assert max(seen) == 3 and 3 in seen  # the rule scaled it up, and max held it there
    assert min(seen) >= 1
    assert server.depth < 50  # at c = 3 (ρ = 0.5) the backlog drains


def test_replacing_an_autoscaled_concurrency_stops_its_rule():
    run = _load(_doc(_server(concurrency=copy.deepcopy(AUTOSCALED)), rate=1.5))
    run.run_until(300)
    first = run.contexts["st"].state["autoscaler"]
    run.set_param("st", "concurrency", 1)
    assert "autoscaler" not in run.contexts["st"].state and not first.active
    count = first.evaluations
    run.run_until(600)
    assert first.evaluations == count
    assert run.stations["st"].concurrency == 1  # nothing scales it any more
    model = run.stations["st"].concurrency_model
    assert (model.min_limit, model.max_limit) == (1, None)


def test_a_second_autoscale_rule_replaces_the_first():
    run = _load(_doc(_server(concurrency=copy.deepcopy(AUTOSCALED)), rate=1.5))
    run.run_until(300)
    slower = copy.deepcopy(AUTOSCALED)
    slower["autoscale"]["interval"] = 50.0
    run.set_param("st", "concurrency", slower)
    run.run_until(800)
    assert run.contexts["st"].state["autoscaler"].evaluations == 10  # only the new rule, every 50 s


def test_switching_slot_and_weighted_concurrency_mid_run_is_refused_and_changes_nothing():
    run = _load(_doc(_server(concurrency=2), rate=1.0))
    run.run_until(100)
    with pytest.raises(ValueError, match="node 'st': concurrency.*weighted"):
        run.set_param("st", "concurrency", {"kind": "weighted", "total_capacity": 4})
    assert run.stations["st"].concurrency == 2
    run.run()


def test_a_source_switched_to_interarrival_clears_its_rate_as_the_editor_does():
    run = _load(_doc(_server(concurrency=2), rate=1.0))
    run.run_until(50)
    run.set_param("arrivals", "interarrival", {"dist": "constant", "value": 0.5})
    assert run.sources["arrivals"].rate is None
    # a rate of None afterwards leaves the arrivals to the interarrival distribution
    run.set_param("arrivals", "rate", None)
    assert run.sources["arrivals"].interarrival.to_spec() == {"dist": "constant", "value": 0.5}
    with pytest.raises(ValueError, match="node 'arrivals': interarrival: give one of"):
        run.set_param("arrivals", "interarrival", None)  # then nothing would make arrivals


@pytest.mark.parametrize("name", ["queue_policy", "limit", "profile"])
def test_parameters_that_cannot_change_mid_run_are_refused_by_name(name):
    run = _load(_doc(_server(), rate=0.5))
    node = "arrivals" if name in ("limit", "profile") else "st"
    value = {"queue_policy": "lifo", "limit": 10, "profile": [[0, 1.0]]}[name]
    with pytest.raises(ValueError, match=f"node '{node}': {name} cannot change during a run"):
        run.set_param(node, name, value)
