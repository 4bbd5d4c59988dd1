"""Validation of model documents: every problem at once, each naming the node or link and the field.

DESIGN "The model document": a bad document is refused with ``ModelError`` naming the node
or link and the field, for every problem found, not just the first; unknown fields are
errors; an unknown (newer) version is refused; loading never executes code. A model that
is valid but suspicious (offered load >= 1 with an unbounded queue) gets a warning.
"""

from __future__ import annotations

import builtins
import copy
import json
import os
from typing import Any

import pytest

from engine.model import ModelError, check_document, loads_model, model_from_dict


def mm1(**server_params: Any) -> dict[str, Any]:
    params = {"concurrency": 1, "service_time": {"dist": "exponential", "mean": 1.0}}
    params.update(server_params)
    return {
        "format": "queuestudio-model",
        "version": 1,
        "name": "M/M/1",
        "simulation": {"end_time": 1000, "warmup": 100, "seed": 1, "sample_interval": 1.0},
        "nodes": [
            {"id": "arrivals", "kind": "source", "position": [0, 0], "params": {"rate": 0.8}},
            {"id": "cpu", "kind": "server", "position": [200, 0], "params": params},
            {"id": "done", "kind": "sink", "position": [400, 0]},
        ],
        "links": [{"from": "arrivals", "to": "cpu"}, {"from": "cpu", "to": "done"}],
    }


def problems_of(doc: Any) -> list[str]:
    with pytest.raises(ModelError) as info:
        model_from_dict(doc)
    assert info.value.problems, "a ModelError must list its problems"
    return info.value.problems


def one_problem(doc: Any) -> str:
    found = problems_of(doc)
    assert len(found) == 1, found
    return found[0]


def with_node(doc: dict[str, Any], node_id: str, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for node in out["nodes"]:
        if node["id"] == node_id:
            node.update(changes)
    return out


def with_param(doc: dict[str, Any], node_id: str, name: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for node in out["nodes"]:
        if node["id"] == node_id:
            node.setdefault("params", {})[name] = value
    return out


# ------------------------------------------------------------------ the broken document the lead quotes
#: One document with four independent problems: a bad parameter, a dangling link, probabilities
#: that do not sum to 1, and a sink no request can reach.
BROKEN = {
    "format": "queuestudio-model",
    "version": 1,
    "name": "broken",
    "nodes": [
        {"id": "users", "kind": "source", "params": {"rate": 1.0}},
        {"id": "lb", "kind": "server", "params": {"service_time": {"dist": "exponential", "mean": 0.1}}},
        {"id": "cpu", "kind": "server", "params": {"service_time": {"dist": "exponential", "mean": -1}}},
        {"id": "web", "kind": "server", "params": {"service_time": {"dist": "exponential", "mean": 0.2}}},
        {"id": "done", "kind": "sink"},
        {"id": "sink2", "kind": "sink"},
    ],
    "links": [
        {"from": "users", "to": "lb"},
        {"from": "lb", "to": "cpu", "probability": 0.5},
        {"from": "lb", "to": "web", "probability": 0.4},
        {"from": "cpu", "to": "db"},
        {"from": "web", "to": "done"},
    ],
}

BROKEN_MESSAGES = [
    "node 'cpu': service_time.mean must be > 0, got -1",
    "link 3: unknown node 'db'",
    "node 'lb': out-link probabilities sum to 0.9, not 1",
    "node 'sink2' is unreachable from any source",
]


def test_broken_document_parameter_link_and_probability_problems_are_all_listed():
    found = problems_of(BROKEN)
    for message in BROKEN_MESSAGES[:3]:
        assert message in found, (message, found)


def test_broken_document_lists_every_problem_at_once_including_the_unreachable_sink():
    """ "every problem found, not just the first": the unreachable sink must be reported
    together with the parameter and link problems, not only after they are fixed."""
    found = problems_of(BROKEN)
    assert found == BROKEN_MESSAGES or sorted(found) == sorted(BROKEN_MESSAGES), found


def test_each_broken_part_alone_gives_exactly_its_message():
    fixed = copy.deepcopy(BROKEN)
    fixed["nodes"][2]["params"]["service_time"]["mean"] = 1.0
    fixed["links"][3]["to"] = "done"
    fixed["links"][2]["probability"] = 0.5
    assert one_problem(fixed) == "node 'sink2' is unreachable from any source"
    fixed["nodes"] = [n for n in fixed["nodes"] if n["id"] != "sink2"]
    model_from_dict(fixed)  # valid once all four are fixed

    only_param = with_param(fixed, "cpu", "service_time", {"dist": "exponential", "mean": -1})
    assert one_problem(only_param) == "node 'cpu': service_time.mean must be > 0, got -1"
    only_link = copy.deepcopy(fixed)
    only_link["links"][3]["to"] = "db"
    assert "link 3: unknown node 'db'" in problems_of(only_link)
    only_prob = copy.deepcopy(fixed)
    only_prob["links"][2]["probability"] = 0.4
    assert one_problem(only_prob) == "node 'lb': out-link probabilities sum to 0.9, not 1"


def test_model_error_text_lists_every_problem_on_its_own_line():
    with pytest.raises(ModelError) as info:
        loads_model(json.dumps(BROKEN), source="broken.json")
    text = str(info.value)
    assert text.startswith("broken.json: ")
    for problem in info.value.problems:
        assert f"  - {problem}" in text


def test_many_independent_node_problems_are_all_reported():
    doc = mm1()
    doc["nodes"][0]["params"]["rate"] = -1
    doc["nodes"][1]["params"].update(concurrency=0, queue_policy="random", queue_capacity=-2, color="red")
    doc["nodes"][2]["position"] = [1]
    doc["simulation"]["end_time"] = -5
    found = problems_of(doc)
    expected_parts = [
        ("arrivals", "rate"),
        ("cpu", "concurrency"),
        ("cpu", "queue_policy"),
        ("cpu", "queue_capacity"),
        ("cpu", "color"),
        ("done", "position"),
        ("simulation", "end_time"),
    ]
    for who, what in expected_parts:
        assert any(who in p and what in p for p in found), (who, what, found)


# ------------------------------------------------------------------ message format per field
@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            with_param(mm1(), "cpu", "service_time", {"dist": "exponential", "mean": -1}),
            "node 'cpu': service_time.mean must be > 0, got -1",
        ),
        (
            with_param(mm1(), "cpu", "service_time", {"dist": "exponential", "mean": 0}),
            "node 'cpu': service_time.mean must be > 0, got 0",
        ),
        (with_param(mm1(), "cpu", "concurrency", 0), "node 'cpu': concurrency must be >= 1, got 0"),
        (with_param(mm1(), "cpu", "queue_capacity", -1), "node 'cpu': queue_capacity must be >= 0, got -1"),
        (with_param(mm1(), "cpu", "queue_capacity", 2.5), "node 'cpu': queue_capacity must be an integer, got 2.5"),
        (
            with_param(mm1(), "cpu", "queue_policy", "random"),
            "node 'cpu': queue_policy must be one of fifo, lifo, priority, got 'random'",
        ),
        (
            with_param(mm1(), "arrivals", "rate", -0.5),
            "node 'arrivals': rate must be >= 1.09e-10 (one arrival in the 9.2e9 s the engine's clock spans; to send nothing for a while, use a profile with a rate of 0), got -0.5",
        ),
        (with_param(mm1(), "arrivals", "limit", 1.5), "node 'arrivals': limit must be an integer, got 1.5"),
        (
            with_param(mm1(), "cpu", "service_time", {"dist": "uniform", "low": 2, "high": 1}),
            "node 'cpu': service_time.high must be >= low (2), got 1",
        ),
        (
            with_param(mm1(), "cpu", "service_time", {"dist": "exponential"}),
            "node 'cpu': service_time: exponential distribution needs mean",
        ),
    ],
    ids=[
        "mean-negative",
        "mean-zero",
        "concurrency",
        "capacity",
        "capacity-float",
        "policy",
        "rate",
        "limit",
        "uniform",
        "missing-field",
    ],
)
def test_message_names_node_field_and_value(doc, expected):
    assert one_problem(doc) == expected


def test_link_problems_name_the_link_by_index():
    doc = mm1()
    doc["links"].append({"from": "cpu", "to": "ghost", "probability": 2})
    found = problems_of(doc)
    assert "link 2: unknown node 'ghost'" in found
    assert any(p.startswith("link 2: probability must be a number between 0 and 1") for p in found)


def test_link_into_a_source_and_out_of_a_sink():
    doc = mm1()
    doc["links"].append({"from": "done", "to": "arrivals"})
    found = problems_of(doc)
    assert "link 2: cannot link into source 'arrivals'" in found
    assert "link 2: cannot link out of sink 'done'" in found


def test_duplicate_ids_are_refused():
    doc = mm1()
    doc["nodes"].append({"id": "cpu", "kind": "delay", "params": {"delay": {"dist": "constant", "value": 1}}})
    assert "node 'cpu': id used by 2 nodes" in problems_of(doc)


def test_duplicate_links_are_refused():
    doc = mm1()
    doc["links"].append({"from": "cpu", "to": "done"})
    assert any(p == "link 2: a second link from 'cpu' to 'done'" for p in problems_of(doc))


def test_cycle_without_exit_is_refused():
    doc = mm1()
    doc["nodes"].append({"id": "loop", "kind": "delay", "params": {"delay": {"dist": "constant", "value": 1}}})
    doc["links"] = [{"from": "arrivals", "to": "cpu"}, {"from": "cpu", "to": "loop"}, {"from": "loop", "to": "cpu"}]
    found = problems_of(doc)
    assert any("'cpu'" in p and "never leave" in p for p in found), found
    assert any("'loop'" in p and "never leave" in p for p in found), found
    assert "node 'done' is unreachable from any source" in found


def test_dead_end_and_missing_source():
    doc = mm1()
    doc["links"] = [{"from": "arrivals", "to": "cpu"}]
    found = problems_of(doc)
    assert any(p.startswith("node 'cpu' has no out-link") for p in found)
    doc = mm1()
    doc["nodes"] = doc["nodes"][1:]
    doc["links"] = doc["links"][1:]
    found = problems_of(doc)
    assert "the model has no source: nothing will arrive" in found


def test_several_out_links_need_probabilities_or_a_router():
    doc = mm1()
    doc["nodes"].append({"id": "other", "kind": "sink"})
    doc["links"].append({"from": "cpu", "to": "other"})
    assert one_problem(doc) == "node 'cpu': 2 out-links need probabilities (or put a router after it)"
    doc["links"][1]["probability"] = 1.0
    assert one_problem(doc) == "node 'cpu': give every out-link a probability, or none"
    doc["links"][2]["probability"] = 0.0
    model_from_dict(doc)


def test_probabilities_summing_to_one_within_rounding_are_fine():
    doc = mm1()
    doc["nodes"] += [{"id": "a", "kind": "sink"}, {"id": "b", "kind": "sink"}]
    doc["links"] = [
        {"from": "arrivals", "to": "cpu"},
        {"from": "cpu", "to": "done", "probability": 0.1},
        {"from": "cpu", "to": "a", "probability": 0.2},
        {"from": "cpu", "to": "b", "probability": 0.7},
    ]
    model_from_dict(doc)  # 0.1 + 0.2 + 0.7 != 1.0 exactly in binary
    doc["links"][3]["probability"] = 0.69
    assert one_problem(doc) == "node 'cpu': out-link probabilities sum to 0.99, not 1"


def test_router_with_probabilities_is_a_warning_not_an_error():
    doc = mm1()
    doc["nodes"].insert(1, {"id": "lb", "kind": "router", "params": {"policy": "random"}})
    doc["links"] = [
        {"from": "arrivals", "to": "lb"},
        {"from": "lb", "to": "cpu", "probability": 0.3},
        {"from": "cpu", "to": "done"},
    ]
    model = model_from_dict(doc)
    report = check_document(model)
    assert report.ok
    assert any("'lb'" in w and "ignored" in w for w in report.warnings)


# ------------------------------------------------------------------ unknown fields, kinds, versions, format
@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d.__setitem__("author", "me"), "unknown top-level field 'author'"),
        (lambda d: d["simulation"].__setitem__("speed", 2), "simulation: unknown field 'speed'"),
        (lambda d: d["nodes"][1].__setitem__("colour", "red"), "node 'cpu': unknown field 'colour'"),
        (lambda d: d["nodes"][1]["params"].__setitem__("workers", 2), "node 'cpu': unknown parameter 'workers'"),
        (lambda d: d["links"][0].__setitem__("weight", 2), "link 0: unknown field 'weight'"),
        (
            lambda d: d["nodes"][1]["params"]["service_time"].__setitem__("sd", 2),
            "node 'cpu': service_time: unknown field 'sd' for a exponential distribution",
        ),
        (
            lambda d: d["nodes"][1]["params"].__setitem__("concurrency", {"kind": "fixed", "c": 2, "x": 1}),
            "node 'cpu': concurrency: unknown field 'x' for fixed concurrency",
        ),
        (
            lambda d: d["nodes"][1]["params"].__setitem__(
                "concurrency", {"kind": "dynamic", "initial": 2, "autoscale": {"every": 3}}
            ),
            "node 'cpu': concurrency.autoscale: unknown field 'every'",
        ),
        (lambda d: d["nodes"][2].__setitem__("params", {"capacity": 3}), "node 'done': unknown parameter 'capacity'"),
        (
            lambda d: d["links"][0].__setitem__("latency", {"dist": "constant", "value": 1, "jitter": 2}),
            "link 0: latency: unknown field 'jitter' for a constant distribution",
        ),
    ],
    ids=["top", "simulation", "node", "param", "link", "dist", "concurrency", "autoscale", "sink-param", "latency"],
)
def test_unknown_fields_are_errors(mutate, needle):
    doc = mm1()
    mutate(doc)
    found = problems_of(doc)
    assert any(p.startswith(needle) for p in found), (needle, found)


def test_unknown_kind_names_the_node_and_lists_known_kinds():
    doc = with_node(mm1(), "cpu", kind="mainframe")
    found = problems_of(doc)
    assert any(p.startswith("node 'cpu': unknown kind 'mainframe'") and "server" in p for p in found), found


def test_unknown_distribution_names_the_field():
    doc = with_param(mm1(), "cpu", "service_time", {"dist": "weibull", "mean": 1})
    found = one_problem(doc)
    assert found.startswith("node 'cpu': service_time") and "weibull" in found


def test_newer_version_is_refused_with_an_upgrade_hint():
    doc = mm1()
    doc["version"] = 2
    found = one_problem(doc)
    assert "version 2" in found and "newer" in found and "upgrade" in found


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, None, True])
def test_bad_versions_are_refused(version):
    doc = mm1()
    doc["version"] = version
    assert any("version" in p for p in problems_of(doc))


def test_missing_version_is_refused():
    doc = mm1()
    del doc["version"]
    assert any("version" in p for p in problems_of(doc))


@pytest.mark.parametrize("fmt", ["queuestudio", "QUEUESTUDIO-MODEL", None, 1])
def test_wrong_format_is_refused(fmt):
    doc = mm1()
    doc["format"] = fmt
    assert any(p.startswith("format must be 'queuestudio-model'") for p in problems_of(doc))


def test_missing_format_is_refused():
    doc = mm1()
    del doc["format"]
    assert any("format" in p for p in problems_of(doc))


@pytest.mark.parametrize("top", [[], "model", 3, None, True, [mm1()]])
def test_non_object_top_level_is_refused(top):
    found = one_problem(top)
    assert "JSON object" in found


def test_missing_nodes_is_refused():
    doc = mm1()
    del doc["nodes"]
    assert "nodes is missing" in problems_of(doc)


# ------------------------------------------------------------------ type errors name the field
@pytest.mark.parametrize(
    ("mutate", "who", "what"),
    [
        (lambda d: d.__setitem__("name", 3), "name", "string"),
        (lambda d: d.__setitem__("nodes", {"a": 1}), "nodes", "list"),
        (lambda d: d.__setitem__("links", "a->b"), "links", "list"),
        (lambda d: d.__setitem__("simulation", [1]), "simulation", "object"),
        (lambda d: d["simulation"].__setitem__("seed", -1), "simulation", "seed"),
        (lambda d: d["simulation"].__setitem__("seed", 1.5), "simulation", "seed"),
        (lambda d: d["simulation"].__setitem__("warmup", 5000), "simulation", "warmup"),
        (lambda d: d["simulation"].__setitem__("sample_interval", 0), "simulation", "sample_interval"),
        (lambda d: d["simulation"].__setitem__("end_time", "10"), "simulation", "end_time"),
        (lambda d: d["nodes"][0].__setitem__("id", ""), "node 0", "id"),
        (lambda d: d["nodes"][0].__setitem__("id", 7), "node 0", "id"),
        (lambda d: d["nodes"].append("cpu"), "node 3", "object"),
        (lambda d: d["nodes"][1].__setitem__("kind", None), "node 'cpu'", "kind"),
        (lambda d: d["nodes"][1].__setitem__("position", "0,0"), "node 'cpu'", "position"),
        (lambda d: d["nodes"][1].__setitem__("position", [0, True]), "node 'cpu'", "position"),
        (lambda d: d["nodes"][1].__setitem__("params", [1]), "node 'cpu'", "params"),
        (lambda d: d["nodes"][1].__setitem__("label", 5), "node 'cpu'", "label"),
        (lambda d: d["links"].append(["cpu", "done"]), "link 2", "object"),
        (lambda d: d["links"][0].__setitem__("from", None), "link 0", "from"),
        (lambda d: d["links"][0].__setitem__("to", 1), "link 0", "to"),
        (lambda d: d["links"][0].__setitem__("probability", "half"), "link 0", "probability"),
        (lambda d: d["links"][0].__setitem__("latency", 0.1), "link 0", "latency"),
        (lambda d: d["nodes"][0]["params"].__setitem__("rate", "fast"), "node 'arrivals'", "rate"),
        (lambda d: d["nodes"][0]["params"].__setitem__("rate", True), "node 'arrivals'", "rate"),
        (lambda d: d["nodes"][0]["params"].__setitem__("profile", [[0, 1], [0, 2]]), "node 'arrivals'", "profile"),
        (lambda d: d["nodes"][1]["params"].__setitem__("concurrency", 2.0), "node 'cpu'", "concurrency"),
        (lambda d: d["nodes"][1]["params"].__setitem__("concurrency", True), "node 'cpu'", "concurrency"),
        (
            lambda d: d["nodes"][1]["params"].__setitem__("concurrency", {"kind": "elastic"}),
            "node 'cpu'",
            "concurrency.kind",
        ),
        (
            lambda d: d["nodes"][1]["params"].__setitem__("concurrency", {"kind": "dynamic", "initial": 9, "max": 4}),
            "node 'cpu'",
            "concurrency.initial",
        ),
        (lambda d: d["nodes"][1]["params"].__setitem__("service_time", None), "node 'cpu'", "service_time"),
        (lambda d: d["nodes"][1]["params"].__setitem__("service_time", [1, 2]), "node 'cpu'", "service_time"),
    ],
)
def test_type_errors_name_the_place_and_field(mutate, who, what):
    doc = mm1()
    mutate(doc)
    found = problems_of(doc)
    assert any(who in p and what in p for p in found), (who, what, found)


def test_source_with_two_arrival_specs_is_refused():
    doc = with_param(mm1(), "arrivals", "interarrival", {"dist": "constant", "value": 1})
    assert one_problem(doc) == (
        "node 'arrivals': give only one of rate, interarrival or profile (got rate, interarrival)"
    )


def test_a_source_with_no_arrival_process_at_all_is_refused():
    """{"rate": null} and nothing else passes as valid today, but build() then fails with a
    bare ValueError ("give exactly one of interarrival, rate or profile")."""
    doc = with_param(mm1(), "arrivals", "rate", None)
    found = problems_of(doc)
    assert any("arrivals" in p and "rate" in p for p in found), found


@pytest.mark.parametrize(
    "interarrival",
    [{"dist": "constant", "value": 0}, {"dist": "uniform", "low": 0, "high": 0}, {"dist": "empirical", "values": [0]}],
    ids=["constant", "uniform", "empirical"],
)
def test_zero_interarrival_time_is_refused(interarrival):
    """A source whose every gap is 0 s creates infinitely many requests at one instant: the
    run can never advance (it hangs). Today this is only a warning (ρ = inf)."""
    doc = copy.deepcopy(mm1())
    doc["nodes"][0]["params"] = {"interarrival": interarrival}
    found = problems_of(doc)
    assert any("arrivals" in p and "interarrival" in p for p in found), found


def test_non_distribution_value_message_reads_naturally():
    """check_distribution glues the field to the engine's message; for a non-object value
    that gives "service_time.a distribution must be …" instead of "service_time: …"."""
    doc = with_param(mm1(), "cpu", "service_time", 5)
    found = one_problem(doc)
    assert found.startswith("node 'cpu': service_time: "), found


# ------------------------------------------------------------------ warnings
def test_overload_with_unbounded_queue_is_a_warning_not_an_error():
    doc = with_param(mm1(), "arrivals", "rate", 1.2)
    model = model_from_dict(doc)  # loads fine
    report = check_document(model)
    assert report.errors == []
    assert len(report.warnings) == 1
    warning = report.warnings[0]
    assert "'cpu'" in warning and "1.2" in warning and "unbounded" in warning
    assert report.by_node["cpu"] == [warning]


def test_load_exactly_one_is_also_warned():
    model = model_from_dict(with_param(mm1(), "arrivals", "rate", 1.0))
    assert any("'cpu'" in w for w in check_document(model).warnings)


def test_overload_with_a_bounded_queue_is_not_warned():
    doc = with_param(with_param(mm1(), "arrivals", "rate", 3.0), "cpu", "queue_capacity", 10)
    assert check_document(model_from_dict(doc)).warnings == []


def test_stable_model_has_no_warnings():
    assert check_document(model_from_dict(mm1())).warnings == []


def test_overload_through_routing_and_feedback_is_warned():
    """λ_cpu = 0.6 / (1 − 0.5) = 1.2 > μ = 1: the traffic equations, not the source rate alone."""
    doc = mm1()
    doc["nodes"][0]["params"]["rate"] = 0.6
    doc["links"] = [
        {"from": "arrivals", "to": "cpu"},
        {"from": "cpu", "to": "done", "probability": 0.5},
        {"from": "cpu", "to": "cpu", "probability": 0.5},
    ]
    report = check_document(model_from_dict(doc))
    assert report.ok
    assert any("'cpu'" in w and "1.2" in w for w in report.warnings), report.warnings


def test_check_graph_false_lets_an_editor_open_a_half_drawn_model():
    doc = mm1()
    doc["links"] = [{"from": "arrivals", "to": "cpu"}]
    model = model_from_dict(doc, check_graph=False)
    report = check_document(model, check_graph=False)
    assert report.ok
    assert any("no out-link" in w for w in report.warnings)
    assert not check_document(model).ok


def test_check_graph_false_still_refuses_bad_parameters():
    with pytest.raises(ModelError):
        model_from_dict(with_param(mm1(), "cpu", "concurrency", -3), check_graph=False)


# ------------------------------------------------------------------ no code is ever evaluated
CODE = "__import__('os').system('touch /tmp/queuestudio-pwned')"


def test_code_in_string_parameters_is_just_an_invalid_value(monkeypatch, tmp_path):
    calls: list[Any] = []

    def forbidden(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        raise AssertionError("the loader evaluated code")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(os, "system", forbidden)
    doc = mm1()
    doc["nodes"][0]["params"]["rate"] = CODE
    doc["nodes"][1]["params"]["service_time"] = {"dist": "exponential", "mean": CODE}
    doc["nodes"][1]["params"]["concurrency"] = CODE
    doc["nodes"][1]["params"]["queue_capacity"] = CODE
    doc["nodes"][1]["params"]["queue_policy"] = CODE
    doc["links"][0]["latency"] = {"dist": CODE}
    doc["links"][1]["probability"] = CODE
    doc["simulation"]["end_time"] = CODE
    text = json.dumps(doc)
    with pytest.raises(ModelError) as info:
        loads_model(text)
    monkeypatch.undo()
    assert calls == []
    found = info.value.problems
    for who, what in [
        ("arrivals", "rate"),
        ("cpu", "service_time"),
        ("cpu", "concurrency"),
        ("cpu", "queue_capacity"),
        ("cpu", "queue_policy"),
        ("link 0", "latency"),
        ("link 1", "probability"),
        ("simulation", "end_time"),
    ]:
        assert any(who in p and what in p for p in found), (who, what, found)
    assert not os.path.exists("/tmp/queuestudio-pwned")


def test_code_as_a_distribution_name_or_kind_is_not_looked_up():
    doc = mm1()
    doc["nodes"][1]["kind"] = "__class__"
    doc["nodes"][1]["params"] = {"service_time": {"dist": "__init__", "mean": 1}}
    found = problems_of(doc)
    assert any("unknown kind '__class__'" in p for p in found)


def test_code_as_node_id_is_only_a_name():
    doc = mm1()
    doc["nodes"][1]["id"] = CODE
    doc["links"][0]["to"] = CODE
    doc["links"][1]["from"] = CODE
    model = model_from_dict(doc)
    assert model.node(CODE).kind == "server"
    assert not os.path.exists("/tmp/queuestudio-pwned")
