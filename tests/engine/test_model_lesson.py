"""The ``lesson`` block of a model file: it round-trips unchanged, its problems are named
step by step (strict loading refuses them, the editor's opening keeps the file), and the
questions a lesson asks of a model (a parameter's value, theory's answer, the run's)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine import theory
from engine.model import ModelError, dumps_model, load_model, loads_model, opens_model, save_model
from engine.model.lesson import (
    ABSENT,
    describe_action,
    lesson_problems,
    read_lesson,
    read_value,
    same_value,
    set_done,
    simulated_value,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
MM1 = EXAMPLES / "mm1.json"
#: The lessons the issue asks for, by example file.
LESSONS = {
    "littles_law": "Little's law",
    "mm1": "hockey stick",
    "pooling": "Pooling",
    "md1": "Variability",
    "tandem": "Burke",
}


def mm1_data() -> dict:
    return json.loads(MM1.read_text(encoding="utf-8"))


def with_lesson(lesson: object) -> str:
    data = mm1_data()
    data["lesson"] = lesson
    return json.dumps(data)


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_each_bundled_lesson_is_valid_and_asks_theory_a_question_it_answers(name: str) -> None:
    model = load_model(EXAMPLES / f"{name}.json")
    assert model.lesson is not None and lesson_problems(model.lesson, model) == []
    lesson = read_lesson(model.lesson)
    assert LESSONS[name] in lesson.title
    assert len(lesson.steps) >= 3
    assert all(s.predicts for s in lesson.steps)  # every step is predict-then-run
    # The first question is answered by theory for the model as shipped.
    first = lesson.steps[0]
    assert isinstance(theory.metric_value(model, first.metric), float)


def test_the_lesson_round_trips_through_load_and_save_unchanged(tmp_path: Path) -> None:
    model = load_model(EXAMPLES / "tandem.json")
    original = copy.deepcopy(model.lesson)
    path = tmp_path / "copy.json"
    save_model(model, path)
    again = load_model(path)
    assert again.lesson == original
    assert json.loads(dumps_model(again))["lesson"] == json.loads((EXAMPLES / "tandem.json").read_text())["lesson"]
    assert "lesson" not in json.loads(dumps_model(load_model(EXAMPLES / "mmc.json")))


def test_a_broken_lesson_is_refused_strictly_and_kept_by_the_editor() -> None:
    lesson = {
        "version": 1,
        "title": "",
        "extra": 1,
        "steps": [
            {"text": "ok", "action": {"set": "nobody.rate", "value": 1}},
            {"text": "x", "action": {"run": True, "add": "server"}},
            {"text": "y", "predict": {"question": "?", "metric": "cpu.speed"}},
            {"text": "z", "action": {"add": "spaceship"}, "predict": {"question": "?", "metric": "cpu"}},
            "not a step",
        ],
    }
    with pytest.raises(ModelError) as caught:
        loads_model(with_lesson(lesson))
    problems = caught.value.problems
    for expected in (
        "lesson: unknown field 'extra'",
        "lesson: title must be a non-empty string, got ''",
        "lesson: step 1: action: set 'nobody.rate': no node 'nobody' in the model",
        "lesson: step 2: action: must have exactly one of set, run, add",
        "lesson: step 3: predict: metric 'cpu.speed': 'speed' is not a metric",
        "lesson: step 4: action: add must be a node kind",
        "lesson: step 4: predict: metric must be NODE.METRIC",
        "lesson: step 5: must be an object, got str",
    ):
        assert any(p.startswith(expected) for p in problems), (expected, problems)
    model, report = opens_model(with_lesson(lesson))
    assert model.lesson == lesson  # kept as written, so saving loses nothing
    assert json.loads(dumps_model(model))["lesson"] == lesson
    assert report.ok  # a broken lesson does not stop a run
    assert set(report.by_node["lesson"]) == {p for p in problems if p.startswith("lesson:")}


@pytest.mark.parametrize("bad", [[1, 2], "a lesson", 3])
def test_a_lesson_that_is_no_object_is_a_structure_error(bad: object) -> None:
    with pytest.raises(ModelError, match="lesson must be an object"):
        opens_model(with_lesson(bad))


def test_a_lesson_holding_an_infinite_number_cannot_be_opened() -> None:
    text = with_lesson({"version": 1, "title": "t", "steps": []}).replace('"steps": []', '"steps": [1e400]')
    with pytest.raises(ModelError, match="lesson holds a number too large"):
        opens_model(text)


def test_version_and_steps_are_required() -> None:
    assert lesson_problems({"title": "t", "steps": []}) == [
        "lesson: version must be 1, got None",
        "lesson: steps must be a non-empty list, got []",
    ]
    assert lesson_problems({"version": True, "title": "t", "steps": [{"text": "a"}]}) == [
        "lesson: version must be 1, got True"
    ]


def test_read_value_follows_the_experiment_parameter_names() -> None:
    model = load_model(MM1)
    assert read_value(model, "arrivals.rate") == 0.8
    assert read_value(model, "cpu.service_time") == {"dist": "exponential", "mean": 1.0}
    assert read_value(model, "cpu.service_time.mean") == 1.0
    assert read_value(model, "simulation.end_time") == 20000
    assert read_value(model, "cpu.nothing") is ABSENT
    assert read_value(model, "ghost.rate") is ABSENT
    tandem = load_model(EXAMPLES / "tandem.json")
    assert read_value(tandem, "cut.concurrency") == 1  # left out: the kind's default
    constant = {"dist": "constant", "value": 2.0}
    tandem.node("cut").params["service_time"] = constant
    assert read_value(tandem, "cut.service_time.mean") == 2.0  # any distribution's mean


def test_set_actions_match_numbers_within_rounding_and_objects_field_by_field() -> None:
    model = load_model(MM1)
    assert not set_done(model, {"set": "arrivals.rate", "value": 0.95})
    model.node("arrivals").params["rate"] = 0.95000000000001
    assert set_done(model, {"set": "arrivals.rate", "value": 0.95})
    assert set_done(model, {"set": "cpu.concurrency", "value": 1.0})
    assert not set_done(model, {"set": "cpu.service_time", "value": {"dist": "constant", "value": 1.0}})
    assert same_value({"dist": "exponential", "mean": 1}, {"mean": 1.0, "dist": "exponential"})
    assert not same_value(True, 1)
    assert not set_done(model, {"set": "ghost.rate", "value": 1})


def test_actions_read_as_instructions() -> None:
    assert describe_action({"set": "arrivals.rate", "value": 0.95}) == "Set arrivals.rate to 0.95"
    assert (
        describe_action({"set": "cpu.service_time", "value": {"dist": "lognormal", "mean": 1.0, "cv": 2.0}})
        == "Set cpu.service_time to lognormal (mean 1, cv 2)"
    )
    assert describe_action({"run": True}).startswith("Press Run")
    assert describe_action({"add": "server"}) == "Add a server node (server)"


def test_theory_and_simulation_answers() -> None:
    model = load_model(EXAMPLES / "tandem.json")
    assert theory.metric_value(model, "cut.mean_response") == pytest.approx(theory.mm1(0.8, 1.0).mean_response)
    assert theory.metric_value(model, "done.mean_latency") == pytest.approx(5.0 + 0.8 / (1 - 0.64))
    model.node("cut").params["service_time"] = {"dist": "constant", "value": 1.0}
    reason = theory.metric_value(model, "polish.mean_response")
    assert isinstance(reason, str) and "Poisson" in reason
    assert isinstance(theory.metric_value(model, "ghost.mean_response"), str)
    results = {"cut": {"mean_response": 4.5, "completed": 10}, "done": {"mean_latency": float("nan")}}
    assert simulated_value(results, "cut.mean_response") == 4.5
    assert simulated_value(results, "done.mean_latency") is None
    assert simulated_value(results, "polish.mean_response") is None
