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
import math
import os
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from engine.model import (
    Link,
    Model,
    ModelError,
    Node,
    Report,
    check_document,
    dumps_model,
    load_model,
    loads_model,
    open_model,
    opens_model,
    save_model,
)
from engine.model import document as document_module
from engine.model import validate as validate_module
from engine.model.schema import MAX_RATE, MAX_TIME, TIME_RESOLUTION

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


def test_a_second_out_link_without_probabilities_saves_and_opens_again(tmp_path):
    """The state of issue 16 item 1: a second out-link just drawn from a station."""
    doc = mm1()
    doc["nodes"].append({"id": "spill", "kind": "sink", "position": [400, 100]})
    doc["links"].append({"from": "cpu", "to": "spill"})
    model, report = opens_model(json.dumps(doc))
    path = tmp_path / "draft.json"
    save_model(model, path)
    again, again_report = open_model(path)
    assert again == model
    assert (
        again_report.errors
        == report.errors
        == ["node 'cpu': 2 out-links need probabilities (or put a router after it)"]
    )


def test_open_model_of_a_missing_or_unreadable_file_is_a_structure_error(tmp_path):
    with pytest.raises(ModelError, match="no such file"):
        open_model(tmp_path / "nothing.json")
    with pytest.raises(ModelError, match="cannot read"):
        open_model(tmp_path)
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"name": "caf\xe9"}')
    with pytest.raises(ModelError, match="cannot read"):
        open_model(bad)


def test_a_node_id_with_a_lone_surrogate_saves_and_opens_again(tmp_path):
    doc = mm1()
    doc["nodes"][2]["id"] = "done\ud800"
    doc["links"][1]["to"] = "done\ud800"
    model, report = opens_model(json.dumps(doc))
    assert report.ok
    path = tmp_path / "odd.json"
    save_model(model, path)
    assert open_model(path)[0] == model


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


# ------------------------------------------------------------------ files as people have them
def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(mm1()).encode("utf-8"))
    assert load_model(path) == loads_model(json.dumps(mm1()))
    assert open_model(path)[0] == load_model(path)
    assert loads_model("\ufeff" + json.dumps(mm1())) == load_model(path)


def test_a_bad_version_does_not_hide_the_other_problems():
    doc = mm1()
    doc["version"] = 7
    doc["format"] = "something-else"
    doc["nodes"][1]["params"]["concurrency"] = 0
    doc["nodes"][2]["label"] = 5
    with pytest.raises(ModelError) as info:
        loads_model(json.dumps(doc))
    found = info.value.problems
    assert any("version 7 is newer" in p for p in found)
    assert any("format must be" in p for p in found)
    assert "node 'cpu': concurrency must be >= 1, got 0" in found
    assert any("node 'done': label must be a string" in p for p in found)
    # The editor's loader refuses it too (a version it does not know), listing the same.
    with pytest.raises(ModelError) as opened:
        opens_model(json.dumps(doc))
    assert any("version 7 is newer" in p for p in opened.value.problems)
    assert any("label must be a string" in p for p in opened.value.problems)


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(document_module, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(mm1()) + " " * 2000, encoding="utf-8")
    reads = []
    real_open = open

    class Spy:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def fileno(self):
            return self.fh.fileno()

        def read(self, n=-1):
            reads.append(n)
            return self.fh.read(n)

    monkeypatch.setattr("builtins.open", lambda *a, **k: Spy(real_open(*a, **k)))
    for loader in (load_model, open_model):
        with pytest.raises(ModelError) as info:
            loader(path)
        message = str(info.value)
        assert "MB" in message and "up to 0.001 MB" in message and str(path) in message
    assert reads == []  # refused from the file's size alone


def test_the_size_cap_also_holds_for_a_file_that_lies_about_its_size(tmp_path, monkeypatch):
    """A pipe or a growing file reports no honest size: at most cap + 1 bytes are read."""
    monkeypatch.setattr(document_module, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(mm1()) + " " * 5000, encoding="utf-8")
    real_fstat = os.fstat

    class Small:
        def __init__(self, st):
            self.st = st

        st_size = 10

    monkeypatch.setattr(os, "fstat", lambda fd: Small(real_fstat(fd)))
    with pytest.raises(ModelError, match="over 0.0 MB"):
        load_model(path)


def test_the_size_cap_is_documented_and_generous():
    assert document_module.MAX_FILE_BYTES == 50_000_000
    assert "50 MB" in (ROOT / "docs" / "model-format.md").read_text(encoding="utf-8")


def test_a_model_error_lists_the_first_problems_and_counts_the_rest():
    doc = mm1()
    doc["nodes"] += [{"id": f"n{i}", "kind": "bogus"} for i in range(3000)]
    with pytest.raises(ModelError) as info:
        loads_model(json.dumps(doc))
    err = info.value
    assert len(err.problems) == document_module.MAX_PROBLEMS + 1
    assert err.total >= 6000  # an unknown kind, and unreachable, for each
    assert err.problems[-1] == f"… and {err.total - document_module.MAX_PROBLEMS} more problems"
    assert f"{err.total} problems" in str(err)


def test_a_report_keeps_a_bounded_number_of_problems_and_counts_the_rest(monkeypatch):
    monkeypatch.setattr(validate_module, "MAX_REPORTED", 50)
    model = Model(nodes=[Node(f"n{i}", "bogus") for i in range(100)])
    report = check_document(model)
    assert report.error_count > 100
    assert len(report.errors) == 51
    assert report.errors[-1] == f"… and {report.error_count - 50} more errors"
    assert sum(len(v) for v in report.by_node.values()) <= 50
    assert not report.ok


# ------------------------------------------------------------------ saving
def test_saving_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "model.json"
    model, _ = opens_model(json.dumps(mm1()))
    save_model(model, target)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    changed = model.copy()
    changed.name = "through the link"
    save_model(changed, link)
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert load_model(target).name == "through the link"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real"]
    assert [p.name for p in real_dir.iterdir()] == ["model.json"]


def test_saving_through_a_dangling_symlink_creates_its_target(tmp_path):
    target = tmp_path / "new.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    save_model(opens_model(json.dumps(mm1()))[0], link)
    assert link.is_symlink() and target.is_file()


def test_save_flushes_the_file_then_the_folder(tmp_path, monkeypatch):
    flushed = []
    real_fsync = os.fsync

    def spy(fd):
        flushed.append(os.path.realpath(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else fd)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    path = tmp_path / "model.json"
    save_model(opens_model(json.dumps(mm1()))[0], path)
    assert len(flushed) == 2
    if os.path.exists("/proc/self/fd"):
        assert Path(flushed[0]).parent == tmp_path and Path(flushed[0]).name.endswith(".tmp")
        assert Path(flushed[1]) == tmp_path


@pytest.mark.parametrize("failing", ["fsync", "replace", "write", "interrupt"])
def test_a_failed_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch, failing):
    path = tmp_path / "model.json"
    model = opens_model(json.dumps(mm1()))[0]
    save_model(model, path)
    before = path.read_bytes()
    changed = model.copy()
    changed.name = "changed"

    def fail(*args, **kwargs):
        raise KeyboardInterrupt if failing == "interrupt" else OSError(5, "I/O error")

    if failing == "write":
        monkeypatch.setattr(document_module, "dumps_model", lambda m: "x" * 10)
        real_fdopen = os.fdopen

        def broken_fdopen(*a, **k):
            fh = real_fdopen(*a, **k)
            fh.write = fail
            return fh

        monkeypatch.setattr(os, "fdopen", broken_fdopen)
    else:
        monkeypatch.setattr(os, "replace" if failing in ("replace", "interrupt") else "fsync", fail)
    with pytest.raises((OSError, KeyboardInterrupt)):
        save_model(changed, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_a_folder_that_cannot_be_flushed_does_not_fail_a_save(tmp_path, monkeypatch):
    real_fsync = os.fsync
    calls = []

    def no_folder_fsync(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(22, "Invalid argument")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", no_folder_fsync)
    path = tmp_path / "model.json"
    save_model(opens_model(json.dumps(mm1()))[0], path)
    assert len(calls) == 2
    assert load_model(path).name == "M/M/1"


def test_the_next_save_removes_temp_files_a_killed_save_left(tmp_path):
    path = tmp_path / "model.json"
    model = opens_model(json.dumps(mm1()))[0]
    old = tmp_path / ".model.json.abcd_123.tmp"  # what mkstemp names a save's temp file
    fresh = tmp_path / ".model.json.zzzz9999.tmp"  # maybe another save, right now
    other = tmp_path / ".other.json.abcd1234.tmp"  # another file's
    mine = tmp_path / ".model.json.notes.tmp"  # not a temp file name
    for p in (old, fresh, other, mine):
        p.write_text("half a model", encoding="utf-8")
    long_ago = time.time() - document_module.STALE_TEMP_SECONDS - 60
    for p in (old, other, mine):
        os.utime(p, (long_ago, long_ago))
    save_model(model, path)
    assert not old.exists()
    assert fresh.exists() and other.exists() and mine.exists()
    assert load_model(path) == model


def test_save_writes_an_invalid_model_that_opens_again(tmp_path):
    model = Model(
        nodes=[Node("a", "source", params={"rate": -3}), Node("b", "teleporter")],
        links=[Link("a", "b", probability=0.5)],
    )
    model.simulation.end_time = -1.0
    path = tmp_path / "draft.json"
    save_model(model, path)
    again, report = open_model(path)
    assert again == model
    assert len(report.errors) >= 3


# ------------------------------------------------------------------ limits
@pytest.mark.parametrize(
    ("mutate", "who", "limit"),
    [
        (lambda d: d["nodes"][0]["params"].update(rate=1e308), "node 'arrivals': rate", "1e+09"),
        (
            lambda d: d["nodes"][0].update(params={"interarrival": {"dist": "constant", "value": 1e-300}}),
            "node 'arrivals': interarrival mean",
            "1e-09",
        ),
        (
            lambda d: d["nodes"][1]["params"].update(service_time={"dist": "exponential", "mean": 1e-12}),
            "node 'cpu': service_time mean",
            "1e-09",
        ),
        (
            lambda d: d["nodes"][1]["params"].update(service_time={"dist": "uniform", "low": 0, "high": 1e308}),
            "node 'cpu': service_time mean",
            "9.2e+09",
        ),
        (lambda d: d["links"][1].update(latency={"dist": "constant", "value": 1e-15}), "link 1: latency mean", "1e-09"),
        (lambda d: d["simulation"].update(sample_interval=1e-300), "simulation: sample_interval", "1e-09"),
        (lambda d: d["simulation"].update(end_time=1e15), "simulation: end_time", "9.2e+09"),
        (lambda d: d["simulation"].update(warmup=1e-12), "simulation: warmup", "1e-09"),
        (
            lambda d: d["nodes"][0].update(params={"profile": [[0, 1], [5, 1e12]]}),
            "node 'arrivals': profile[1]: rate",
            "1e+09",
        ),
        (
            lambda d: d["nodes"][1]["params"].update(
                concurrency={"kind": "dynamic", "initial": 1, "autoscale": {"interval": 1e-300}}
            ),
            "node 'cpu': concurrency.autoscale.interval",
            "1e-09",
        ),
    ],
    ids=[
        "rate",
        "interarrival",
        "service-tiny",
        "service-huge",
        "latency",
        "sample-interval",
        "end-time",
        "warmup",
        "profile-rate",
        "autoscale-interval",
    ],
)
def test_values_that_cannot_be_simulated_are_refused_saying_the_limit_and_why(mutate, who, limit):
    doc = mm1()
    mutate(doc)
    model, report = opens_model(json.dumps(doc))  # a model problem: it opens for fixing
    found = [e for e in report.errors if e.startswith(who)]
    assert found, report.errors
    assert limit in found[0]
    assert "nanosecond" in found[0]  # the why: the engine's clock
    with pytest.raises(ModelError):
        loads_model(json.dumps(doc))


@pytest.mark.parametrize(
    ("mutate"),
    [
        lambda d: d["nodes"][0]["params"].update(rate=MAX_RATE),
        lambda d: d["nodes"][1]["params"].update(service_time={"dist": "constant", "value": 0}),
        lambda d: d["nodes"][1]["params"].update(service_time={"dist": "exponential", "mean": TIME_RESOLUTION}),
        lambda d: d["simulation"].update(end_time=MAX_TIME, sample_interval=TIME_RESOLUTION, warmup=0),
    ],
    ids=["max-rate", "zero-service", "resolution", "longest-run"],
)
def test_values_at_the_limits_are_accepted(mutate):
    doc = mm1()
    mutate(doc)
    loads_model(json.dumps(doc))


def test_a_very_fine_sample_interval_is_a_warning():
    doc = mm1()
    doc["simulation"].update(end_time=1e6, sample_interval=1e-3)
    model, report = opens_model(json.dumps(doc))
    assert report.ok
    assert any("sample_interval" in w and "1e+09 points" in w for w in report.warnings)
    doc["simulation"].update(sample_interval=1.0)
    assert not opens_model(json.dumps(doc))[1].warnings


def test_the_limits_are_documented():
    text = (ROOT / "docs" / "model-format.md").read_text(encoding="utf-8")
    assert "## Limits" in text
    for number in (f"{TIME_RESOLUTION:g}", f"{MAX_TIME:g}", f"{MAX_RATE:g}"):
        assert number in text


def test_every_example_is_within_the_limits():
    for path in EXAMPLES:
        assert check_document(load_model(path)).ok, path.name


# ------------------------------------------------------------------ scale
def _fan(n: int) -> Model:
    """A source, a router, n stations and one sink."""
    service = {"dist": "exponential", "mean": 0.5}
    nodes = [Node("src", "source", params={"rate": 1.0}), Node("r", "router"), Node("done", "sink")]
    links = [Link("src", "r")]
    for i in range(n):
        nodes.append(Node(f"n{i}", "server", params={"service_time": dict(service)}))
        links += [Link("r", f"n{i}"), Link(f"n{i}", "done")]
    return Model(nodes=nodes, links=links)


def test_validation_never_asks_for_out_links_node_by_node(monkeypatch):
    """Model.out_links scans every link: called per node it made validation quadratic."""
    calls = []
    monkeypatch.setattr(Model, "out_links", lambda self, node_id: calls.append(node_id) or [])
    monkeypatch.setattr(Model, "in_links", lambda self, node_id: calls.append(node_id) or [])
    report = check_document(_fan(50))
    assert report.ok
    assert calls == []


def test_validation_memory_is_linear_in_the_nodes():
    """10,000 stations: the old dense N×N routing matrix alone was 800 MB. Memory here is
    linear in the nodes: about 0.7 KB per node is measured; 2 KB is allowed."""
    model = _fan(10_000)
    tracemalloc.start()
    try:
        report = check_document(model)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok, report.errors[:3]
    assert peak < 10_000 * 2048


def test_ten_thousand_sinks_validate_with_their_rates():
    nodes = [Node("src", "source", params={"rate": 2.0}), Node("r", "router")]
    links = [Link("src", "r")]
    for i in range(10_000):
        nodes.append(Node(f"s{i}", "sink"))
        links.append(Link("r", f"s{i}"))
    model = Model(nodes=nodes, links=links)
    assert check_document(model).ok
    rates = validate_module.arrival_rates(model)
    assert rates["r"] == pytest.approx(2.0)
    assert rates["s9999"] == pytest.approx(2.0 / 10_000)


def test_a_chain_of_a_hundred_thousand_stations_validates_without_recursion():
    nodes = [Node("src", "source", params={"rate": 0.5})]
    links = []
    for i in range(100_000):
        nodes.append(Node(f"n{i}", "delay", params={"delay": {"dist": "constant", "value": 1.0}}))
        links.append(Link(nodes[-2].id, nodes[-1].id))
    nodes.append(Node("done", "sink"))
    links.append(Link(nodes[-2].id, "done"))
    model = Model(nodes=nodes, links=links)
    assert check_document(model).ok
    assert validate_module.arrival_rates(model)["done"] == pytest.approx(0.5)


def _dense_rates(model: Model) -> dict[str, float]:
    """The traffic equations solved the old way, densely: the reference for small models."""
    ids = [n.id for n in model.nodes]
    index = {node_id: i for i, node_id in enumerate(ids)}
    gamma = np.zeros(len(ids))
    p = np.zeros((len(ids), len(ids)))
    for node in model.nodes:
        i = index[node.id]
        if node.kind == "source":
            gamma[i] = node.params["rate"]
        outs = [link for link in model.links if link.source == node.id]
        for link in outs:
            share = link.probability if link.probability is not None and node.kind != "router" else 1 / len(outs)
            p[i, index[link.target]] += share
    lam = np.linalg.solve(np.eye(len(ids)) - p.T, gamma)
    return dict(zip(ids, lam.tolist()))


@pytest.mark.parametrize("seed", range(40))
def test_sparse_arrival_rates_agree_with_the_dense_solve(seed):
    """Random open networks with feedback loops, self-loops and routers."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    nodes = [Node("src", "source", params={"rate": float(rng.uniform(0.1, 3))}), Node("out", "sink")]
    nodes += [Node(f"n{i}", "router" if rng.random() < 0.2 else "delay") for i in range(n)]
    stations = [f"n{i}" for i in range(n)]
    links = [Link("src", "n0")]
    for node_id in stations:
        targets = sorted(set(rng.choice(stations, size=int(rng.integers(1, 4))).tolist()) | {"out"})
        weights = rng.uniform(0.1, 1, len(targets))
        weights /= weights.sum()
        for target, w in zip(targets, weights):
            links.append(Link(node_id, target, probability=float(w)))
    model = Model(nodes=nodes, links=links)
    sparse = validate_module.arrival_rates(model)
    dense = _dense_rates(model)
    for node_id, rate in dense.items():
        assert sparse[node_id] == pytest.approx(rate, rel=1e-9, abs=1e-12), node_id


def test_a_loop_without_exit_gets_an_infinite_rate_and_the_rest_stays_finite():
    model = Model(
        nodes=[
            Node("src", "source", params={"rate": 1.0}),
            Node("r", "router"),
            Node("a", "delay"),
            Node("b", "delay"),
            Node("ok", "delay"),
            Node("out", "sink"),
        ],
        links=[Link("src", "r"), Link("r", "a"), Link("r", "ok"), Link("a", "b"), Link("b", "a"), Link("ok", "out")],
    )
    rates = validate_module.arrival_rates(model)
    assert rates["a"] == rates["b"] == math.inf
    assert rates["ok"] == pytest.approx(0.5)
    assert rates["out"] == pytest.approx(0.5)


def test_rates_the_solver_cannot_find_skip_the_load_check_with_a_warning(monkeypatch):
    """engine.routing gives up (nan rates) past its work budget; validation says so."""
    from engine import routing

    monkeypatch.setattr(
        routing, "solve_traffic", lambda gamma, edges: routing.Traffic([math.nan] * len(gamma), [], converged=False)
    )
    model = _fan(3)
    assert all(math.isnan(r) for r in validate_module.arrival_rates(model).values())
    report = check_document(model)
    assert report.ok
    assert any("skips 6 nodes" in w and "unknown" in w for w in report.warnings)


def test_bad_settings_do_not_hide_an_overloaded_station():
    doc = mm1()
    doc["nodes"][0]["params"]["rate"] = 3.0
    doc["simulation"]["end_time"] = -1
    _, report = opens_model(json.dumps(doc))
    assert any("end_time" in e for e in report.errors)
    assert any("'cpu'" in w and "ρ" in w for w in report.warnings)
