"""The ``experiments`` block of a model document: sweeps kept with the model round-trip."""

from __future__ import annotations

import json

import pytest

from engine.model import ModelError, load_model, save_model
from engine.model.document import loads_model, opens_model
from engine.model.experiments_block import json_safe

BASE = {
    "format": "queuestudio-model",
    "version": 1,
    "name": "M/M/1",
    "simulation": {"end_time": 100, "warmup": 10, "seed": 1},
    "nodes": [
        {"id": "arrivals", "kind": "source", "position": [0, 0], "params": {"rate": 0.5}},
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
SWEEP = {
    "name": "rate",
    "param": "arrivals.rate",
    "metrics": ["mean_response"],
    "target": {"metric": "mean_response", "op": "<=", "value": 2.0},
    "points": [{"value": 0.5, "replications": 5, "nodes": {"cpu": {"mean_response": 2.1, "ci95": {}, "theory": {}}}}],
}


def test_experiments_round_trip_through_save_and_load(tmp_path):
    data = {**BASE, "experiments": {"version": 1, "sweeps": [SWEEP]}}
    model = loads_model(json.dumps(data))
    assert model.experiments == {"version": 1, "sweeps": [SWEEP]}
    path = tmp_path / "m.json"
    save_model(model, path)
    again = load_model(path)
    assert again.experiments == model.experiments
    assert json.loads(path.read_text())["experiments"] == data["experiments"]


def test_a_model_without_experiments_writes_no_key(tmp_path):
    model = loads_model(json.dumps(BASE))
    assert model.experiments is None
    assert "experiments" not in model.to_dict()


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ([], "experiments must be an object"),
        ({"version": 2, "sweeps": []}, "newer than this Queue Studio"),
        ({"version": 1, "sweeps": {}}, "sweeps must be a list"),
        ({"version": 1, "sweeps": [{"points": []}]}, "param must be a non-empty string"),
        ({"version": 1, "sweeps": [{"param": "a.b", "points": 3}]}, "points must be a list"),
        ({"version": 1, "other": 1}, "unknown field 'other'"),
    ],
)
def test_a_bad_experiments_block_is_refused_naming_it(block, words):
    text = json.dumps({**BASE, "experiments": block})
    with pytest.raises(ModelError, match=words):
        loads_model(text)
    with pytest.raises(ModelError, match=words):
        opens_model(text)


def test_json_safe_turns_nan_and_infinity_into_null():
    assert json_safe({"a": [1.0, float("nan")], "b": float("inf"), "c": "x"}) == {"a": [1.0, None], "b": None, "c": "x"}


def test_model_copy_keeps_experiments_apart():
    model = loads_model(json.dumps({**BASE, "experiments": {"version": 1, "sweeps": [SWEEP]}}))
    other = model.copy()
    other.experiments["sweeps"].clear()  # type: ignore[index]
    assert len(model.experiments["sweeps"]) == 1  # type: ignore[index]
