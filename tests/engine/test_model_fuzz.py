"""Property-based tests of the model document.

* Valid models generated at random (chains and trees of stations between a source and one
  or two sinks, random valid parameters, probabilities that sum to 1, optional link
  latencies) round-trip through JSON and through a file, build, and run a short time.
* Invalid documents (wrong types, missing and unknown fields, unknown kinds, dangling links,
  links into a source or out of a sink, duplicate ids, cycles without exit, NaN/Infinity
  literals, huge numbers, 1000-deep nesting, non-object top level, newer version, wrong
  format) always raise ``ModelError`` listing at least one problem, never another exception.

Every Hypothesis test here is derandomized (and keeps no example database) so that a
failure is reproducible run after run.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.metrics import SINK_METRICS, STATION_METRICS
from engine.model import (
    ModelError,
    build,
    check_document,
    dumps_model,
    load_model,
    loads_model,
    model_from_dict,
    opens_model,
    save_model,
)
from engine.model.schema import KINDS

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RUNS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ------------------------------------------------------------------ strategies: valid models
pos = st.floats(0.05, 3.0, allow_nan=False, allow_infinity=False)
# Zero, or a time the engine can resolve: validation refuses a positive time below 1 ns
# (engine.model.schema.TIME_RESOLUTION), such as the 5e-324 Hypothesis likes to draw.
small = st.one_of(st.just(0.0), st.floats(1e-6, 2.0, allow_nan=False, allow_infinity=False))


@st.composite
def distributions(draw: Any, positive: bool = True) -> dict[str, Any]:
    """A valid distribution object; ``positive`` keeps its mean > 0 (inter-arrival times)."""
    kind = draw(st.sampled_from(["constant", "exponential", "uniform", "erlang", "lognormal", "pareto", "empirical"]))
    if kind == "constant":
        return {"dist": "constant", "value": draw(pos if positive else small)}
    if kind == "exponential":
        return {"dist": "exponential", "mean": draw(pos)}
    if kind == "uniform":
        low = draw(small)
        return {"dist": "uniform", "low": low, "high": low + draw(pos if positive else small)}
    if kind == "erlang":
        return {"dist": "erlang", "k": draw(st.integers(1, 5)), "mean": draw(pos)}
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": draw(pos), "cv": draw(st.floats(0.0, 3.0))}
    if kind == "pareto":
        return {"dist": "pareto", "mean": draw(pos), "alpha": draw(st.floats(1.1, 5.0))}
    values = draw(st.lists(pos if positive else small, min_size=1, max_size=5))
    return {"dist": "empirical", "values": values}


@st.composite
def concurrency(draw: Any) -> Any:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(st.integers(1, 6))
    if choice == 1:
        return {"kind": "fixed", "c": draw(st.integers(1, 6))}
    if choice == 2:
        lo = draw(st.integers(1, 3))
        hi = lo + draw(st.integers(0, 5))
        out: dict[str, Any] = {"kind": "dynamic", "initial": draw(st.integers(lo, hi)), "min": lo, "max": hi}
        if draw(st.booleans()):
            out["autoscale"] = {
                "target_utilization": draw(st.floats(0.2, 0.9)),
                "interval": draw(st.floats(0.5, 5.0)),
                "step": draw(st.integers(1, 2)),
                "band": draw(st.floats(0.0, 0.15)),
            }
        return out
    out = {"kind": "weighted", "total_capacity": draw(st.integers(1, 8))}
    if draw(st.booleans()):
        out["weight"] = draw(distributions())
    return out


def _queue(draw: Any, params: dict[str, Any]) -> None:
    if draw(st.booleans()):
        params["queue_policy"] = draw(st.sampled_from(["fifo", "lifo", "priority"]))
    if draw(st.booleans()):
        params["queue_capacity"] = draw(st.one_of(st.none(), st.integers(0, 6)))


@st.composite
def station(draw: Any) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["server", "server", "thread_pool", "async_server", "delay", "router"]))
    params: dict[str, Any] = {}
    if kind == "server":
        params["service_time"] = draw(distributions(positive=False))
        if draw(st.booleans()):
            params["concurrency"] = draw(concurrency())
        _queue(draw, params)
    elif kind == "thread_pool":
        params["processing_time"] = draw(distributions(positive=False))
        if draw(st.booleans()):
            params["num_workers"] = draw(st.integers(1, 6))
        _queue(draw, params)
    elif kind == "async_server":
        if draw(st.booleans()):
            params["max_connections"] = draw(st.integers(1, 20))
        if draw(st.booleans()):
            params["cpu_work_distribution"] = draw(st.one_of(st.none(), distributions(positive=False)))
        if draw(st.booleans()):
            params["io_time"] = draw(st.one_of(st.none(), distributions(positive=False)))
    elif kind == "delay":
        params["delay"] = draw(distributions(positive=False))
    else:
        params["policy"] = draw(
            st.sampled_from(["round_robin", "random", "least_connections", "shortest_queue", "power_of_two"])
        )
    return kind, params


@st.composite
def source_params(draw: Any) -> dict[str, Any]:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        params: dict[str, Any] = {"rate": draw(st.floats(0.1, 5.0))}
    elif choice == 1:
        params = {"interarrival": draw(distributions(positive=True))}
    else:
        times = sorted(set(draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 20.0)), min_size=1, max_size=4))))
        params = {"profile": [[t, draw(st.floats(0.0, 5.0))] for t in times]}
    if draw(st.booleans()):
        params["limit"] = draw(st.integers(0, 50))
    if draw(st.booleans()):
        params["priority"] = draw(st.integers(0, 5))
    return params


@st.composite
def valid_documents(draw: Any) -> dict[str, Any]:
    """A tree of 1..6 stations fed by one source; every leaf goes to one of one or two sinks."""
    count = draw(st.integers(1, 6))
    nodes: list[dict[str, Any]] = [{"id": "src", "kind": "source", "position": [0, 0], "params": draw(source_params())}]
    children: dict[str, list[str]] = {"src": []}
    for i in range(count):
        kind, params = draw(station())
        node_id = f"{kind}{i}"
        nodes.append(
            {
                "id": node_id,
                "kind": kind,
                "position": [float(100 * (i + 1)), draw(st.floats(-300, 300))],
                "params": params,
            }
        )
        if draw(st.booleans()) and draw(st.booleans()):
            nodes[-1]["label"] = draw(st.text(min_size=1, max_size=12))
        parent = "src" if i == 0 else draw(st.sampled_from([n["id"] for n in nodes[1:-1]] + ["src"]))
        if parent == "src" and children["src"]:  # a source has one out-link in these trees
            parent = nodes[1]["id"]
        children.setdefault(parent, []).append(node_id)
        children[node_id] = []
    sinks = ["sink_a", "sink_b"][: draw(st.integers(1, 2))]
    used: set[str] = set()
    for node in nodes[1:]:
        if not children[node["id"]] or draw(st.integers(0, 3)) == 0:
            target = draw(st.sampled_from(sinks))
            children[node["id"]].append(target)
            used.add(target)
    sinks = [s for s in sinks if s in used]
    nodes += [{"id": s, "kind": "sink", "position": [800.0, 100.0 * k]} for k, s in enumerate(sinks)]
    kinds = {n["id"]: n["kind"] for n in nodes}
    links: list[dict[str, Any]] = []
    for parent, kids in children.items():
        weights = [draw(st.integers(1, 9)) for _ in kids]
        for kid, w in zip(kids, weights):
            link: dict[str, Any] = {"from": parent, "to": kid}
            if len(kids) > 1 and kinds[parent] != "router":
                link["probability"] = w / sum(weights)
            if draw(st.integers(0, 3)) == 0:
                link["latency"] = draw(distributions(positive=False))
            links.append(link)
    end = draw(st.floats(2.0, 30.0))
    warmup = draw(st.one_of(st.just(0.0), st.floats(1e-3, end / 2)))
    doc: dict[str, Any] = {
        "format": "queuestudio-model",
        "version": 1,
        "name": draw(st.text(max_size=20)),
        "simulation": {
            "end_time": end,
            "warmup": warmup,
            "seed": draw(st.one_of(st.none(), st.integers(0, 2**63))),
            "sample_interval": draw(st.floats(0.25, 5.0)),
        },
        "nodes": nodes,
        "links": draw(st.permutations(links)),
    }
    if draw(st.booleans()):
        doc["description"] = draw(st.text(max_size=40))
    return doc


# ------------------------------------------------------------------ valid models: round trip, build, run
@FUZZ
@given(valid_documents())
def test_generated_models_are_valid_and_round_trip(doc):
    model = model_from_dict(doc)
    text = dumps_model(model)
    again = loads_model(text)
    assert again.to_dict() == model.to_dict()
    assert again == model
    assert dumps_model(again) == text
    # and through a file, with the atomic save
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.json"
        save_model(model, path)
        assert load_model(path).to_dict() == model.to_dict()
        assert [p.name for p in Path(tmp).iterdir()] == ["m.json"]


@RUNS
@given(valid_documents())
def test_generated_models_build_and_run_a_short_time(doc):
    model = model_from_dict(doc)
    assert check_document(model).ok
    run = build(model, seed=7, end_time=min(model.simulation.end_time, 20.0), series=True)
    run.run(slices=5)
    assert run.now == pytest.approx(run.end_time)  # exact arrival: see test_model_build (Run.finished)
    results = run.results()
    stations = {n.id for n in model.nodes if n.kind in ("server", "thread_pool", "async_server", "delay")}
    sinks = {n.id for n in model.nodes if n.kind == "sink"}
    assert set(results) == stations | sinks
    for node_id, metrics in results.items():
        names = SINK_METRICS if node_id in sinks else STATION_METRICS
        assert set(names) <= set(metrics), node_id
        for name in names:
            value = metrics[name]
            assert not (isinstance(value, float) and math.isinf(value)), (node_id, name, value)
            if isinstance(value, (int, float)) and not math.isnan(value):
                assert value >= 0, (node_id, name, value)
        if node_id in stations:
            u = metrics["utilization"]
            assert math.isnan(u) or u <= 1 + 1e-9, (node_id, u)
    batch = run.drain_series()
    assert batch is not None and set(batch.values) == stations
    assert all(b > a for a, b in zip(batch.times, batch.times[1:]))


# ------------------------------------------------------------------ invalid documents
def _assert_model_error(text_or_doc: Any) -> list[str]:
    try:
        if isinstance(text_or_doc, str):
            loads_model(text_or_doc)
        else:
            model_from_dict(text_or_doc)
    except ModelError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return exc.problems
    raise AssertionError("no ModelError for an invalid document")


def _stations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in doc["nodes"] if n["kind"] not in ("source", "sink")]


non_dist_junk = st.one_of(
    st.text(max_size=10),
    st.integers(-5, 5),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.just({}),
    st.just({"dist": None}),
)
unknown_keys = st.text(min_size=1, max_size=12).filter(
    lambda k: (
        k
        not in {
            "format",
            "version",
            "name",
            "description",
            "simulation",
            "nodes",
            "links",
            "id",
            "kind",
            "position",
            "params",
            "label",
            "from",
            "to",
            "probability",
            "latency",
            "end_time",
            "warmup",
            "seed",
            "sample_interval",
            "dist",
            "mean",
            "value",
            "low",
            "high",
            "k",
            "cv",
            "alpha",
            "values",
        }
    )
)


@st.composite
def invalid_documents(draw: Any) -> tuple[str, Any, str | None]:
    """(what was broken, a document or JSON text, a substring every report must contain)."""
    doc = draw(valid_documents())
    what = draw(
        st.sampled_from(
            [
                "wrong-type",
                "missing-field",
                "unknown-field",
                "unknown-kind",
                "dangling-link",
                "into-source",
                "out-of-sink",
                "duplicate-id",
                "cycle-without-exit",
                "nan-literal",
                "huge-probability",
                "deep-nesting",
                "top-level",
                "newer-version",
                "wrong-format",
                "bad-number",
            ]
        )
    )
    nodes = doc["nodes"]
    node = draw(st.sampled_from(nodes))
    expect: str | None = None
    if what == "wrong-type":
        target = draw(st.sampled_from(_stations(doc)))
        kind = target["kind"]
        field = {
            "server": "service_time",
            "thread_pool": "processing_time",
            "delay": "delay",
            "async_server": "cpu_work_distribution",
            "router": "policy",
        }[kind]
        junk = draw(non_dist_junk)
        if kind == "router":
            junk = draw(st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2), st.just("fastest")))
        elif kind == "async_server" and junk is None:
            junk = 3
        target["params"][field] = junk
        expect = f"node {target['id']!r}: {field}"
    elif what == "missing-field":
        spot = draw(st.sampled_from(["format", "version", "nodes", "id", "kind", "from", "to", "required"]))
        if spot in ("format", "version", "nodes"):
            del doc[spot]
            expect = spot
        elif spot in ("id", "kind"):
            del node[spot]
            expect = spot
        elif spot in ("from", "to"):
            i = draw(st.integers(0, len(doc["links"]) - 1))
            del doc["links"][i][spot]
            expect = f"link {i}: {spot}"
        else:
            target = draw(st.sampled_from(_stations(doc)))
            required = {"server": "service_time", "thread_pool": "processing_time", "delay": "delay"}.get(
                target["kind"]
            )
            if required is None:
                del doc["format"]
                expect = "format"
            else:
                del target["params"][required]
                expect = f"node {target['id']!r}: {required} is required"
    elif what == "unknown-field":
        key = draw(unknown_keys)
        where = draw(st.sampled_from(["top", "node", "link", "params", "simulation", "dist"]))
        if where == "top":
            doc[key] = 1
        elif where == "node":
            node[key] = 1
        elif where == "link":
            draw(st.sampled_from(doc["links"]))[key] = 1
        elif where == "simulation":
            doc["simulation"][key] = 1
        elif where == "params":
            node.setdefault("params", {})[key] = 1
        else:
            doc["links"][0]["latency"] = {"dist": "constant", "value": 1, key: 1}
        expect = repr(key)
    elif what == "unknown-kind":
        kind = draw(st.text(max_size=12).filter(lambda k: k not in KINDS))
        node["kind"] = kind
        expect = f"node {node['id']!r}: unknown kind"
    elif what == "dangling-link":
        ghost = draw(st.text(min_size=1, max_size=8).filter(lambda t: t not in {n["id"] for n in nodes}))
        i = draw(st.integers(0, len(doc["links"]) - 1))
        doc["links"][i][draw(st.sampled_from(["from", "to"]))] = ghost
        expect = f"link {i}: unknown node {ghost!r}"
    elif what == "into-source":
        doc["links"].append({"from": draw(st.sampled_from(_stations(doc)))["id"], "to": "src"})
        expect = "cannot link into source 'src'"
    elif what == "out-of-sink":
        sink = [n for n in nodes if n["kind"] == "sink"][0]["id"]
        doc["links"].append({"from": sink, "to": draw(st.sampled_from(_stations(doc)))["id"]})
        expect = f"cannot link out of sink {sink!r}"
    elif what == "duplicate-id":
        a, b = draw(st.permutations(nodes))[:2]
        b["id"] = a["id"]
        expect = None  # either "id used by 2 nodes" or a kind clash, always an error
    elif what == "cycle-without-exit":
        target = draw(st.sampled_from(_stations(doc)))
        doc["links"] = [link for link in doc["links"] if link["from"] != target["id"]]
        doc["links"].append({"from": target["id"], "to": target["id"]})
        expect = f"node {target['id']!r}"
    elif what == "nan-literal":
        literal = draw(st.sampled_from(["NaN", "Infinity", "-Infinity"]))
        target = draw(st.sampled_from(["rate", "end", "position", "prob"]))
        marker = '"__MARK__"'
        if target == "rate":
            nodes[0]["params"] = {"rate": "__MARK__"}
        elif target == "end":
            doc["simulation"]["end_time"] = "__MARK__"
        elif target == "position":
            node["position"] = [0, "__MARK__"]
        else:
            doc["links"][0]["probability"] = "__MARK__"
        return what, json.dumps(doc).replace(marker, literal), "not valid JSON"
    elif what == "huge-probability":
        doc["links"][0]["probability"] = draw(st.sampled_from([1e308, -1e308, 1.0000001, 2]))
        expect = "link 0: probability"
    elif what == "deep-nesting":
        depth = draw(st.sampled_from([33, 100, 1000, 5000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        node.setdefault("params", {})["deep"] = "__MARK__"
        inner = opener * depth + "1" + closer * depth
        return what, json.dumps(doc).replace('"__MARK__"', inner), "nested deeper"
    elif what == "top-level":
        value = draw(
            st.one_of(
                st.lists(st.integers(), max_size=3),
                st.text(max_size=5),
                st.integers(),
                st.floats(allow_nan=False, allow_infinity=False),
                st.none(),
                st.booleans(),
            )
        )
        return what, json.dumps(value), "JSON object"
    elif what == "newer-version":
        doc["version"] = draw(st.integers(2, 10**6))
        expect = "newer"
    elif what == "wrong-format":
        doc["format"] = draw(
            st.one_of(st.text(max_size=20).filter(lambda f: f != "queuestudio-model"), st.integers(), st.none())
        )
        expect = "format must be"
    else:  # bad-number: a negative or non-finite number where a positive one is needed
        value = draw(st.sampled_from([-1, -1e308, 0.0, 1e400]))  # 1e400 parses as inf
        spot = draw(st.sampled_from(["end_time", "sample_interval"]))
        doc["simulation"][spot] = "__MARK__"
        text = json.dumps(doc).replace('"__MARK__"', repr(value) if value != 1e400 else "1e400")
        return what, text, f"simulation: {spot}"
    return what, doc, expect


@FUZZ
@given(invalid_documents())
def test_invalid_documents_always_raise_model_error(case):
    what, doc, expect = case
    problems = _assert_model_error(doc)
    if expect is not None:
        assert any(expect in p for p in problems), (what, expect, problems)


# ------------------------------------------------------------------ junk anywhere: ModelError or a model, nothing else
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=8),
    st.integers(-(10**6), 10**6),
    st.sampled_from([10**400, -(10**400), 2**64, 2**1024]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 1.7976931348623157e308]),
)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(doc)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


@FUZZ
@given(st.data())
def test_any_value_anywhere_gives_a_model_or_a_model_error(data):
    doc = data.draw(valid_documents())
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        doc = _replace(doc, path, data.draw(json_values))
    text = json.dumps(doc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy overflow warning leaking out counts as a failure too
        try:
            model = loads_model(text)
        except ModelError:
            return
        try:
            build(model, end_time=model.simulation.end_time)
        except ModelError:
            pass


@FUZZ
@given(st.data())
def test_whatever_the_editor_opens_saves_and_opens_again_with_the_strict_loaders_problems(data):
    """Issue 16, "never lose work": opens_model refuses a document (ModelError) or opens it
    with a report; what it opens saves and reopens unchanged, and its report's errors are
    exactly what the strict loader refuses it for (none when the strict loader accepts it)."""
    doc = data.draw(valid_documents())
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        doc = _replace(doc, path, data.draw(json_values))
    text = json.dumps(doc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            model, report = opens_model(text)
        except ModelError as exc:
            with pytest.raises(ModelError) as strict:
                loads_model(text)
            assert exc.problems and strict.value.problems
            return
        again, report_again = opens_model(dumps_model(model))
        assert again == model
        assert report_again.errors == report.errors
        if report.ok:
            assert loads_model(text) == model
        else:
            with pytest.raises(ModelError) as strict:
                loads_model(text)
            assert strict.value.problems[: len(report.errors)] == report.errors[: len(strict.value.problems)]


# ------------------------------------------------------------------ explicit cases found by the fuzzers
BASE = {
    "format": "queuestudio-model",
    "version": 1,
    "name": "M/M/1",
    "simulation": {"end_time": 100, "warmup": 0, "seed": 1, "sample_interval": 1.0},
    "nodes": [
        {"id": "arrivals", "kind": "source", "params": {"rate": 0.8}},
        {"id": "cpu", "kind": "server", "params": {"service_time": {"dist": "exponential", "mean": 1.0}}},
        {"id": "done", "kind": "sink"},
    ],
    "links": [{"from": "arrivals", "to": "cpu"}, {"from": "cpu", "to": "done"}],
}


def _doc(node: int, name: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    doc["nodes"][node]["params"][name] = value
    return doc


def _refused_naming(doc_or_text: Any, *parts: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        problems = _assert_model_error(doc_or_text)
    assert any(all(part in p for part in parts) for p in problems), (parts, problems)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused(literal):
    text = json.dumps(_doc(0, "rate", "__X__")).replace('"__X__"', literal)
    problems = _assert_model_error(text)
    assert problems == [f"not valid JSON: {literal} is not allowed in a model file"]


@pytest.mark.parametrize("text", ["", "{", "{'a': 1}", "[1, 2", "\x00", '{"a": 1} trailing'])
def test_malformed_json_is_refused(text):
    assert any("not valid JSON" in p for p in _assert_model_error(text))


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_deep_nesting_is_refused(depth, opener, closer):
    text = json.dumps(_doc(1, "extra", "__X__")).replace('"__X__"', opener * depth + "0" + closer * depth)
    assert any("nested deeper" in p for p in _assert_model_error(text))
    top = opener * depth + "0" + closer * depth
    _assert_model_error(top)


def test_exponent_overflow_literal_is_refused_as_not_finite():
    text = json.dumps(_doc(0, "rate", "__X__")).replace('"__X__"', "1e400")
    _refused_naming(text, "arrivals", "rate")


def test_huge_but_finite_floats_load_or_are_refused_cleanly():
    """1e308 is a legal number but no rate the engine can simulate (issue 16: it never left
    one time slice): it is refused naming the limit; a rate at the limit loads (with an
    overload warning); a huge probability is a named error."""
    _refused_naming(_doc(0, "rate", 1e308), "arrivals", "rate", "1e+09")
    model = model_from_dict(_doc(0, "rate", 1e9))
    assert any("'cpu'" in w for w in check_document(model).warnings)
    doc = copy.deepcopy(BASE)
    doc["links"][0]["probability"] = 1e308
    _refused_naming(doc, "link 0", "probability")


@pytest.mark.parametrize(
    ("node", "name", "value", "field"),
    [
        (1, "concurrency", {"kind": []}, "concurrency"),
        (1, "concurrency", {"kind": {"x": 1}}, "concurrency"),
        (1, "concurrency", {"kind": "dynamic", "initial": 2, "min": None}, "concurrency"),
        (1, "concurrency", {"kind": "dynamic", "initial": 2, "min": None, "max": 4}, "concurrency"),
    ],
    ids=["kind-list", "kind-object", "dynamic-min-null", "dynamic-min-null-max"],
)
def test_malformed_concurrency_objects_are_model_errors(node, name, value, field):
    _refused_naming(_doc(node, name, value), "cpu", field)


@pytest.mark.parametrize(
    ("node", "name", "value", "field"),
    [
        (0, "rate", 10**400, "rate"),
        (0, "limit", 10**400, "limit"),
        (0, "priority", 10**400, "priority"),
        (0, "profile", [[10**400, 1]], "profile"),
        (0, "profile", [[0, 10**400]], "profile"),
        (1, "concurrency", 10**400, "concurrency"),
        (1, "concurrency", {"kind": "fixed", "c": 10**400}, "concurrency"),
        (1, "queue_capacity", 10**400, "queue_capacity"),
        (1, "service_time", {"dist": "constant", "value": 10**400}, "service_time"),
    ],
    ids=["rate", "limit", "priority", "profile-time", "profile-rate", "concurrency", "fixed-c", "capacity", "constant"],
)
def test_integers_too_large_for_a_float_are_model_errors(node, name, value, field):
    """JSON allows integer literals of any length; 10**400 must not escape as OverflowError."""
    _refused_naming(json.dumps(_doc(node, name, value)), field)


@pytest.mark.parametrize("where", ["end_time", "warmup", "sample_interval"])
def test_huge_integer_simulation_settings_are_model_errors(where):
    doc = copy.deepcopy(BASE)
    doc["simulation"][where] = 10**400
    _refused_naming(json.dumps(doc), "simulation", where)


def test_huge_integer_position_and_probability_are_model_errors():
    doc = copy.deepcopy(BASE)
    doc["nodes"][1]["position"] = [10**400, 0]
    doc["links"][0]["probability"] = 10**400
    doc["links"][1]["latency"] = {"dist": "exponential", "mean": 10**400}
    problems = _assert_model_error(json.dumps(doc))
    assert any("'cpu'" in p and "position" in p for p in problems), problems
    assert any("link 0" in p and "probability" in p for p in problems), problems
    assert any("link 1" in p and "latency" in p for p in problems), problems


@pytest.mark.parametrize(
    "dist",
    [{"dist": "lognormal", "mean": 1, "cv": 1e308}, {"dist": "lognormal", "mean": 1e300, "cv": 1e200}],
    ids=["cv", "mean-and-cv"],
)
def test_lognormal_with_huge_cv_is_a_model_error_not_overflow(dist):
    _refused_naming(_doc(1, "service_time", dist), "cpu", "service_time")


def test_empirical_values_whose_mean_overflows_are_refused_without_a_numpy_warning():
    _refused_naming(_doc(1, "service_time", {"dist": "empirical", "values": [1e308, 1e308]}), "cpu", "service_time")


def test_huge_seed_is_fine():
    doc = copy.deepcopy(BASE)
    doc["simulation"]["seed"] = 10**400
    model = model_from_dict(json.loads(json.dumps(doc)))
    run = build(model, end_time=5)
    run.run(slices=1)
