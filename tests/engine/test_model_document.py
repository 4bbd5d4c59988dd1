"""The model document as a file: load, save (atomically), reload, round trip.

DESIGN "The model document": a model is a JSON file, the single source of truth; a save
writes a temporary file and renames it over the old one, so a crash mid-save leaves the
previous file intact; loading never executes code from the file.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from engine.model import (
    Link,
    Model,
    ModelError,
    Node,
    SimulationSettings,
    dumps_model,
    load_model,
    loads_model,
    model_from_dict,
    save_model,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))

MM1 = {
    "format": "queuestudio-model",
    "version": 1,
    "name": "M/M/1",
    "simulation": {"end_time": 10000, "warmup": 1000, "seed": 1, "sample_interval": 1.0},
    "nodes": [
        {"id": "arrivals", "kind": "source", "position": [0, 0], "params": {"rate": 0.8}},
        {
            "id": "cpu",
            "kind": "server",
            "position": [200, 0],
            "params": {
                "concurrency": 1,
                "service_time": {"dist": "exponential", "mean": 1.0},
                "queue_policy": "fifo",
                "queue_capacity": None,
            },
        },
        {"id": "done", "kind": "sink", "position": [400, 0]},
    ],
    "links": [{"from": "arrivals", "to": "cpu"}, {"from": "cpu", "to": "done"}],
}


def _leftovers(directory: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


# ------------------------------------------------------------------ examples
def test_there_are_example_models():
    assert len(EXAMPLES) >= 5
    assert {"mm1.json", "mmc.json", "tandem.json"} <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_loads_saves_and_reloads_to_an_equal_model(path, tmp_path):
    model = load_model(path)
    assert isinstance(model, Model)
    assert model.nodes and model.links
    target = tmp_path / path.name
    save_model(model, target)
    again = load_model(target)
    assert again.to_dict() == model.to_dict()
    assert again == model
    # Saving the reloaded model gives the very same bytes: the format is stable.
    second = tmp_path / ("second-" + path.name)
    save_model(again, second)
    assert second.read_text(encoding="utf-8") == target.read_text(encoding="utf-8")
    assert _leftovers(tmp_path, {target.name, second.name}) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_file_and_saved_document_say_the_same_thing(path):
    """The saved form keeps every field of the file (no field dropped or invented)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    saved = json.loads(dumps_model(load_model(path)))
    assert saved["format"] == raw["format"] == "queuestudio-model"
    assert saved["version"] == raw["version"] == 1
    assert saved["name"] == raw["name"]
    assert saved.get("description", "") == raw.get("description", "")
    for key, value in raw["simulation"].items():
        assert saved["simulation"][key] == value
    assert [n["id"] for n in saved["nodes"]] == [n["id"] for n in raw["nodes"]]
    for a, b in zip(saved["nodes"], raw["nodes"]):
        assert a["kind"] == b["kind"]
        assert a["position"] == b["position"]
        assert a.get("params", {}) == b.get("params", {})
    assert saved["links"] == raw["links"]


def test_dumps_is_strict_indented_json_ending_in_newline():
    model = model_from_dict(MM1)
    text = dumps_model(model)
    assert text.endswith("\n")
    assert text.startswith('{\n  "format"')
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in saved JSON"))


def test_loads_and_model_from_dict_agree():
    assert loads_model(json.dumps(MM1)) == model_from_dict(MM1)


def test_defaults_fill_in_optional_fields():
    doc = {
        "format": "queuestudio-model",
        "version": 1,
        "nodes": [{"id": "s", "kind": "source"}, {"id": "d", "kind": "sink"}],
        "links": [{"from": "s", "to": "d"}],
    }
    model = model_from_dict(doc)
    assert model.name == "Untitled"
    assert model.simulation == SimulationSettings()
    assert model.node("s").position == (0.0, 0.0)
    assert model.links == [Link("s", "d")]


def test_model_helpers():
    model = model_from_dict(MM1)
    assert model.node("cpu").kind == "server"
    with pytest.raises(KeyError):
        model.node("nope")
    assert [link.target for link in model.out_links("arrivals")] == ["cpu"]
    assert [link.source for link in model.in_links("done")] == ["cpu"]
    clone = model.copy()
    clone.node("cpu").params["service_time"]["mean"] = 2.0
    assert model.node("cpu").params["service_time"]["mean"] == 1.0


def test_a_model_built_in_code_round_trips():
    model = Model(
        name="code",
        description="made in Python",
        simulation=SimulationSettings(end_time=50.0, warmup=5.0, seed=None, sample_interval=0.5),
        nodes=[
            Node("src", "source", (1.5, -2.0), {"rate": 2.0}),
            Node("d", "delay", (3.0, 4.0), {"delay": {"dist": "uniform", "low": 0.1, "high": 0.3}}, label="wire"),
            Node("out", "sink", (5.0, 6.0)),
        ],
        links=[Link("src", "d", latency={"dist": "constant", "value": 0.01}), Link("d", "out")],
    )
    again = loads_model(dumps_model(model))
    assert again == model
    assert again.to_dict() == model.to_dict()


# ------------------------------------------------------------------ loading errors
def test_missing_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="no such file"):
        load_model(tmp_path / "nothing.json")


def test_a_directory_is_a_model_error(tmp_path):
    with pytest.raises(ModelError):
        load_model(tmp_path)


def test_undecodable_bytes_are_a_model_error(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"name": "caf\xe9"}')
    with pytest.raises(ModelError, match="cannot read"):
        load_model(path)


def test_bad_json_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "queuestudio-model",', encoding="utf-8")
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert str(path) in str(info.value)
    assert "not valid JSON" in str(info.value)


def test_model_error_is_a_value_error_listing_problems():
    err = ModelError(["first", "second"], "x.json")
    assert isinstance(err, ValueError)
    assert err.problems == ["first", "second"]
    assert "x.json" in str(err) and "first" in str(err) and "second" in str(err)
    assert "2 problems" in str(err)


# ------------------------------------------------------------------ atomic save
@pytest.fixture
def saved(tmp_path):
    """A model already saved at ``model.json``; returns (path, original text, model)."""
    model = model_from_dict(MM1)
    path = tmp_path / "model.json"
    save_model(model, path)
    return path, path.read_text(encoding="utf-8"), model


def _changed(model: Model) -> Model:
    other = model.copy()
    other.name = "changed"
    other.node("arrivals").params["rate"] = 0.5
    return other


def test_save_replaces_the_previous_file(saved):
    path, original, model = saved
    save_model(_changed(model), path)
    assert load_model(path).name == "changed"
    assert _leftovers(path.parent, {path.name}) == []


def test_crash_at_rename_leaves_previous_file_intact_and_no_temp_file(saved, monkeypatch):
    path, original, model = saved

    def crash(src, dst):
        raise OSError("disk vanished")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk vanished"):
        save_model(_changed(model), path)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == original
    assert load_model(path) == model
    assert _leftovers(path.parent, {path.name}) == []


def test_crash_while_writing_leaves_previous_file_intact_and_no_temp_file(saved, monkeypatch):
    path, original, model = saved
    real_fdopen = os.fdopen

    class HalfWriter:
        """Writes half the text, then fails like a full disk."""

        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()
            return False

        def write(self, text):
            self.fh.write(text[: len(text) // 2])
            self.fh.flush()
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.fh, name)

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space left"):
        save_model(_changed(model), path)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == original
    assert _leftovers(path.parent, {path.name}) == []


def test_crash_at_fsync_leaves_previous_file_intact(saved, monkeypatch):
    path, original, model = saved

    def boom(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        save_model(_changed(model), path)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == original
    assert _leftovers(path.parent, {path.name}) == []


def test_interrupt_mid_save_also_cleans_up(saved, monkeypatch):
    path, original, model = saved

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(_changed(model), path)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == original
    assert _leftovers(path.parent, {path.name}) == []


def test_failed_first_save_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", lambda s, d: (_ for _ in ()).throw(OSError("nope")))
    with pytest.raises(OSError):
        save_model(model_from_dict(MM1), tmp_path / "new.json")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_unserialisable_model_does_not_touch_the_file(saved):
    path, original, model = saved
    bad = model.copy()
    bad.node("arrivals").params["rate"] = float("nan")  # strict JSON refuses NaN
    with pytest.raises(ValueError):
        save_model(bad, path)
    assert path.read_text(encoding="utf-8") == original
    assert _leftovers(path.parent, {path.name}) == []


def test_save_writes_through_a_temp_file_in_the_same_directory(saved, monkeypatch):
    """The rename is atomic only within one file system: the temp file must sit beside the target."""
    path, _, model = saved
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src), Path(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    save_model(_changed(model), path)
    assert len(seen) == 1
    src, dst = seen[0]
    assert dst == path
    assert src.parent == path.parent and src != path


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_save_keeps_the_permissions_of_the_file_it_replaces(saved):
    """Replacing model.json by a mkstemp file must not silently make it private (0600)."""
    path, _, model = saved
    path.chmod(0o644)
    save_model(_changed(model), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
