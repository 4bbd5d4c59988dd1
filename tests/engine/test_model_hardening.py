"""Issue 16: no lost work, files as people really have them, limits, and validation at scale.

* ``open_model``/``opens_model`` (the editor's way in) refuse only *structure* errors and
  hand back every *model* problem in a Report, so a mid-edit model that was saved opens
  again; ``load_model``/``loads_model`` (the CLI's) stay strict with the same messages.
* Files: a UTF-8 byte-order mark is accepted; a wrong format or version is listed with the
  other problems; a file over the size cap is refused before it is read; saving follows
  symbolic links, removes its temporary file on every failure and flushes the folder.
* Limits: times below the engine's nanosecond resolution, times past its clock's range and
  rates above one per nanosecond are refused, each message saying the limit and why.
* Scale: validation is linear (links indexed once, no dense N×N matrix): 10^5 nodes are
  checked, in bounded memory.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine.model import (
    ModelError,
    Report,
    dumps_model,
    load_model,
    loads_model,
    open_model,
    opens_model,
    save_model,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))

MM1 = {
    "format": "queuestudio-model",
    "version": 1,
    "name": "M/M/1",
    "simulation": {"end_time": 1000, "warmup": 100, "seed": 1, "sample_interval": 1.0},
    "nodes": [
        {"id": "arrivals", "kind": "source", "position": [0, 0], "params": {"rate": 0.8}},
        {
            "id": "cpu",
            "kind": "server",
            "position": [200, 0],
            "params": {"concurrency": 1, "service_time": {"dist": "exponential", "mean": 1.0}},
        },
        {"id": "done", "kind": "sink", "position": [400, 0]},
    ],
    "links": [{"from": "arrivals", "to": "cpu"}, {"from": "cpu", "to": "done"}],
}


def mm1() -> dict:
    return copy.deepcopy(MM1)


def mid_edit() -> dict:
    """A station with a second out-link drawn and no probabilities set yet: a normal
    state while editing, which the strict loader refuses."""
    doc = mm1()
    doc["nodes"].append({"id": "spill", "kind": "sink", "position": [400, 100]})
    doc["links"].append({"from": "cpu", "to": "spill", "probability": 0.3})
    return doc


def structure_problems(text: str) -> list[str]:
    with pytest.raises(ModelError) as info:
        opens_model(text)
    return info.value.problems


# ------------------------------------------------------------------ open_model: never lose work
def test_mid_edit_model_saves_and_opens_again_with_its_problems_listed(tmp_path):
    path = tmp_path / "draft.json"
    with pytest.raises(ModelError, match="give every out-link a probability, or none"):
        loads_model(json.dumps(mid_edit()))
    model, _ = opens_model(json.dumps(mid_edit()))
    save_model(model, path)
    again, report = open_model(path)
    assert again == model
    assert not report.ok
    assert "node 'cpu': give every out-link a probability, or none" in report.errors
    assert report.by_node["cpu"] == ["node 'cpu': give every out-link a probability, or none"]
    # The strict loader still refuses it, with the same message.
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert info.value.problems == report.errors


def test_open_model_of_a_valid_file_is_the_strict_model_and_a_clean_report():
    for path in EXAMPLES:
        model, report = open_model(path)
        assert model == load_model(path)
        assert isinstance(report, Report)
        assert report.ok, (path.name, report.errors)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["nodes"][0]["params"].update(rate=-1), "node 'arrivals': rate must be >= 0, got -1"),
        (lambda d: d["nodes"][1]["params"].update(colour="red"), "unknown parameter 'colour'"),
        (lambda d: d["nodes"][1].update(kind="teleporter"), "unknown kind 'teleporter'"),
        (lambda d: d["links"].append({"from": "done", "to": "cpu"}), "cannot link out of sink 'done'"),
        (lambda d: d["links"].append({"from": "cpu", "to": "arrivals"}), "cannot link into source 'arrivals'"),
        (lambda d: d["links"][1].update(probability=1.5), "link 1: probability must be a number between 0 and 1"),
        (lambda d: d["simulation"].update(end_time=-5), "simulation: end_time must be > 0, got -5"),
        (lambda d: d["simulation"].update(warmup=5000), "simulation: warmup (5000) must be less than end_time"),
        (lambda d: d["simulation"].update(seed=-1), "simulation: seed must be an integer >= 0 or null, got -1"),
        (lambda d: d["nodes"].append({"id": "lost", "kind": "delay"}), "node 'lost' has no out-link"),
        (lambda d: d["simulation"].update(sample_interval=1e-300), "sample_interval must be at least 1e-09 s"),
    ],
    ids=[
        "bad-param",
        "unknown-param",
        "unknown-kind",
        "out-of-sink",
        "into-source",
        "probability",
        "end-time",
        "warmup",
        "seed",
        "dead-end",
        "sample-interval",
    ],
)
def test_model_problems_open_and_come_back_in_the_report(mutate, expected):
    doc = mm1()
    mutate(doc)
    text = json.dumps(doc)
    model, report = opens_model(text)
    assert any(expected in e for e in report.errors), report.errors
    with pytest.raises(ModelError) as info:
        loads_model(text)
    assert info.value.problems == report.errors
    # What opened saves back to the same document.
    assert json.loads(dumps_model(model)) == json.loads(dumps_model(opens_model(dumps_model(model))[0]))


def test_opened_model_keeps_bad_values_as_written():
    doc = mm1()
    doc["nodes"][0]["params"]["rate"] = "fast"
    doc["links"][1]["probability"] = 2
    doc["simulation"]["end_time"] = -5
    model, report = opens_model(json.dumps(doc))
    assert model.node("arrivals").params["rate"] == "fast"
    assert model.links[1].probability == 2
    assert model.simulation.end_time == -5
    assert len(report.errors) == 3


def test_unstable_station_is_a_warning_not_an_error():
    doc = mm1()
    doc["nodes"][0]["params"]["rate"] = 2.0
    model, report = opens_model(json.dumps(doc))
    assert report.ok
    assert any("'cpu'" in w and "ρ" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"format": "queuestudio-model", "version": 1, "nodes": [], "x": 1}', "unknown top-level field 'x'"),
        ('{"format": "other", "version": 1, "nodes": []}', "format must be 'queuestudio-model'"),
        ('{"format": "queuestudio-model", "version": 2, "nodes": []}', "version 2 is newer"),
        ('{"format": "queuestudio-model", "version": 1}', "nodes is missing"),
        ('{"format": "queuestudio-model", "version": 1, "nodes": {}}', "nodes must be a list"),
        ('{"format": "queuestudio-model", "version": 1, "nodes": [], "links": 3}', "links must be a list"),
        ('{"format": "queuestudio-model", "version": 1, "nodes": [{"kind": "sink"}]}', "node 0: id must be"),
        ('{"format": "queuestudio-model", "version": 1, "nodes": [{"id": "a"}]}', "node 'a': kind must be"),
        (
            '{"format": "queuestudio-model", "version": 1, "nodes": [{"id": "a", "kind": "sink", "position": 3}]}',
            "position",
        ),
        ('{"format": "queuestudio-model", "version": 1, "nodes": [], "simulation": {"end_time": "1"}}', "end_time"),
    ],
    ids=[
        "json",
        "array",
        "top-field",
        "format",
        "version",
        "no-nodes",
        "nodes-type",
        "links-type",
        "no-id",
        "no-kind",
        "position",
        "setting-type",
    ],
)
def test_structure_errors_refuse_the_file(text, expected):
    problems = structure_problems(text)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["nodes"].append({"id": "cpu", "kind": "sink"}), "node 'cpu': id used by 2 nodes"),
        (lambda d: d["links"].append({"from": "cpu", "to": "ghost"}), "link 2: unknown node 'ghost'"),
        (lambda d: d["links"].append({"from": "cpu", "to": "done"}), "link 2: a second link from 'cpu' to 'done'"),
        (lambda d: d["links"][0].update(colour="red"), "link 0: unknown field 'colour'"),
        (lambda d: d["links"][0].update(probability="half"), "link 0: probability must be a number"),
    ],
    ids=["duplicate-id", "dangling-link", "duplicate-link", "link-field", "probability-type"],
)
def test_what_the_editor_cannot_hold_refuses_the_file(mutate, expected):
    doc = mm1()
    mutate(doc)
    problems = structure_problems(json.dumps(doc))
    assert any(expected in p for p in problems), problems


def test_a_number_too_large_for_a_float_refuses_the_file_naming_the_node():
    text = json.dumps(mm1()).replace('"rate": 0.8', '"rate": 1e400')
    problems = structure_problems(text)
    assert any("node 'arrivals'" in p and "too large" in p for p in problems)
