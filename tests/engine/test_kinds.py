"""A node kind is one entry (engine.model.kinds): everything about a kind lives there.

The proof is a kind that no other module has heard of: added to ``KINDS`` at run time, a
model using it validates, builds, runs, changes live, is solved by theory, is checked for
load, is summarised for the canvas and is documented, without touching any other module.
A default changed in its one place changes everything downstream. The rule for dynamic
concurrency (what c is) is one answer, asked everywhere. And the engine's model and
theory modules import one way only.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from engine import theory
from engine.components.server import Server
from engine.distributions import ConstantLatency
from engine.model import build, check_document, model_from_dict, offered_load
from engine.model import docs as model_docs
from engine.model.build import live_params
from engine.model.document import Node
from engine.model.schema import KINDS, Kind, LiveContext, Param, ServiceDescription, is_station
from engine.queueing import mg1, mmc

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ a toy kind
def _build_toy(node_id: str, r: dict[str, Any], sim: Any, context: LiveContext) -> Server:
    return Server(node_id, 1, ConstantLatency(r["hold"]))


def _set_hold(server: Server, r: dict[str, Any], context: LiveContext) -> None:
    server.service_time = ConstantLatency(r["hold"])


TOY = Kind(
    "toy",
    "Toy",
    "One server holding each request for exactly `hold` seconds.",
    (Param("hold", "number", "hold", "Seconds each request holds the server.", 0.5, "s", minimum=0),),
    builder=_build_toy,
    live=MappingProxyType({"hold": _set_hold}),
    describe=lambda r: ServiceDescription(ConstantLatency(r["hold"]), 1, capacity=1),
    summarise=lambda r: f"holds {r['hold']:g} s",
)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Kind:
    monkeypatch.setitem(KINDS, "toy", TOY)
    return TOY


def _doc(rate: float, params: dict[str, Any] | None = None, kind: str = "toy") -> dict[str, Any]:
    return {
        "format": "queuestudio-model",
        "version": 1,
        "simulation": {"end_time": 4000, "warmup": 0, "seed": 3},
        "nodes": [
            {"id": "in", "kind": "source", "position": [0, 0], "params": {"rate": rate}},
            {"id": "t", "kind": kind, "position": [1, 0], "params": params or {}},
            {"id": "out", "kind": "sink", "position": [2, 0]},
        ],
        "links": [{"from": "in", "to": "t"}, {"from": "t", "to": "out"}],
    }


def test_an_unknown_kind_is_refused_until_its_entry_is_added(toy: Kind) -> None:
    del KINDS["toy"]
    with pytest.raises(ValueError, match="unknown kind 'toy'"):
        model_from_dict(_doc(1.0))
    KINDS["toy"] = toy
    assert check_document(model_from_dict(_doc(1.0))).ok


def test_a_new_kind_validates_from_its_entry_alone(toy: Kind) -> None:
    with pytest.raises(ValueError, match=r"node 't': hold must be >= 0"):
        model_from_dict(_doc(1.0, {"hold": -1}))
    with pytest.raises(ValueError, match=r"unknown parameter 'speed' for a toy \(known: hold\)"):
        model_from_dict(_doc(1.0, {"speed": 2}))
    assert is_station("toy") and not is_station("source") and not is_station("no such kind")


def test_a_new_kind_builds_runs_and_uses_its_default(toy: Kind) -> None:
    run = build(model_from_dict(_doc(1.0)))
    server = run.nodes["t"]
    assert isinstance(server, Server) and server.service_time.mean == 0.5  # the entry's default
    assert "t" in run.stations
    run.run()
    result = run.results()["t"]
    assert result["completed"] > 3000
    assert run.results()["out"]["count"] == result["completed"]


def test_a_new_kind_is_solved_by_theory_and_load_checked_from_its_service(toy: Kind) -> None:
    model = model_from_dict(_doc(1.0))
    solved = theory.analyze(model)["t"]
    assert solved == mg1(1.0, 0.5, 0.0)  # M/D/1 from the entry's ServiceDescription
    assert offered_load(model.node("t"), 1.0) == pytest.approx(0.5)
    report = check_document(model_from_dict(_doc(3.0)))
    assert any("node 't': offered load ρ = 1.5 ≥ 1" in w for w in report.warnings)


def test_a_new_kind_changes_live_through_its_entry(toy: Kind) -> None:
    run = build(model_from_dict(_doc(1.0)))
    assert live_params("toy") == ("hold",)
    run.run_until(100)
    run.set_param("t", "hold", 0.25)
    assert run.nodes["t"].service_time.mean == 0.25
    with pytest.raises(ValueError, match="node 't': hold: hold must be >= 0, got -2"):
        run.set_param("t", "hold", -2)
    assert run.nodes["t"].service_time.mean == 0.25


def test_a_new_kind_is_summarised_and_documented_from_its_entry(toy: Kind) -> None:
    assert toy.summary(toy.resolve({})) == "holds 0.5 s"
    assert toy.summary(toy.resolve({"hold": "fast"})) == "Toy"  # half-edited values fall back to the label
    text = model_docs.render()
    assert "### `toy` — Toy" in text
    assert "| `hold` | number | s | ≥ 0 | 0.5 | yes | Seconds each request holds the server. |" in text


# ------------------------------------------------------------------ one home for a default
def test_a_default_changed_in_its_entry_changes_build_theory_load_and_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = KINDS["thread_pool"]
    params = tuple(dataclasses.replace(p, default=7) if p.name == "num_workers" else p for p in pool.params)
    monkeypatch.setitem(KINDS, "thread_pool", dataclasses.replace(pool, params=params))
    model = model_from_dict(_doc(3.5, {"processing_time": {"dist": "exponential", "mean": 1.0}}, "thread_pool"))
    run = build(model)
    assert run.nodes["t"].num_workers == 7
    assert theory.analyze(model)["t"] == mmc(3.5, 1.0, 7)
    assert offered_load(model.node("t"), 3.5) == pytest.approx(0.5)
    assert KINDS["thread_pool"].summary(KINDS["thread_pool"].resolve(model.node("t").params)).startswith("7 workers")


def test_every_kind_resolves_every_parameter_and_builds_with_none_given() -> None:
    for kind in KINDS.values():
        resolved = kind.resolve({})
        assert set(resolved) == {p.name for p in kind.params}, kind.name
        assert kind.summary(resolved), kind.name
        assert (kind.service(resolved) is not None) == kind.is_station, kind.name


# ------------------------------------------------------------------ dynamic concurrency, settled once
STEADY = {"kind": "dynamic", "initial": 2, "min": 1, "max": 6}
SCALED = {**STEADY, "autoscale": {"target_utilization": 0.6}}


def _server(conc: Any) -> Node:
    return Node("s", "server", (0, 0), {"concurrency": conc, "service_time": {"dist": "exponential", "mean": 1.0}})


def test_dynamic_concurrency_without_autoscale_is_c_equals_initial_everywhere() -> None:
    server = KINDS["server"]
    service = server.service(server.resolve(_server(STEADY).params))
    assert service is not None and (service.servers, service.capacity, service.moving) == (2, 2, False)
    assert offered_load(_server(STEADY), 1.5) == pytest.approx(0.75)  # λ·E[S]/initial, not /max
    model = model_from_dict(_doc(1.5, _server(STEADY).params, "server"))
    assert theory.analyze(model)["t"] == mmc(1.5, 1.0, 2)


def test_dynamic_concurrency_with_autoscale_has_no_c_and_is_load_checked_against_max() -> None:
    server = KINDS["server"]
    service = server.service(server.resolve(_server(SCALED).params))
    assert service is not None and service.servers is None and service.moving
    assert service.reason == "autoscaling changes c during the run"
    assert offered_load(_server(SCALED), 3.0) == pytest.approx(0.5)  # the most the rule can reach: max = 6
    unbounded = {**SCALED, "max": None}
    assert offered_load(_server(unbounded), 1e6) is None  # it can always grow: never overloaded


def test_the_resolved_autoscale_rule_carries_every_default_and_the_autoscaler_uses_it() -> None:
    resolved = KINDS["server"].resolve(_server(SCALED).params)["concurrency"]
    assert resolved["autoscale"] == {"target_utilization": 0.6, "interval": 10.0, "step": 1, "band": 0.1}
    doc = _doc(1.0, _server(SCALED).params, "server")
    run = build(model_from_dict(doc))
    scaler = run.contexts["t"].state["autoscaler"]
    assert (scaler.target, scaler.interval, scaler.step, scaler.band) == (0.6, 10.0, 1, 0.1)


# ------------------------------------------------------------------ imports point one way
def _imports(path: Path, module: str) -> set[str]:
    """Every engine module ``path`` imports, at the top, inside functions or for type checking."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m.startswith("engine.")}


def _engine_graph() -> dict[str, set[str]]:
    modules: dict[str, Path] = {}
    for path in (ROOT / "engine").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return {name: {m for m in _imports(path, name) if m in modules and m != name} for name, path in modules.items()}


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, stack = {start}, [start]
    while stack:
        for nxt in graph[stack.pop()]:
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


@pytest.mark.parametrize(
    "lower, upper",
    [
        ("engine.model.validate", "engine.model.document"),
        ("engine.analysis", "engine.theory"),
        ("engine.queueing", "engine.theory"),
        ("engine.routing", "engine.model.document"),
        ("engine.model.kinds.base", "engine.model.schema"),
    ],
)
def test_engine_modules_import_one_way(lower: str, upper: str) -> None:
    graph = _engine_graph()
    assert _reaches(graph, upper, lower), f"{upper} should use {lower}"
    assert not _reaches(graph, lower, upper), f"{lower} imports {upper} back (an import cycle)"
