"""Lessons: a short guided path through one model, kept in the model file's ``lesson`` block.

A lesson is data, never code::

    {"version": 1, "title": "The hockey stick",
     "steps": [{"text": "…", "action": {"set": "arrivals.rate", "value": 0.95},
                "predict": {"question": "What will W be?", "metric": "cpu.mean_response", "unit": "s"}}]}

Each step has ``text`` (a sentence or two), and optionally an ``action`` the student does and
a ``predict`` question the student answers with a number before running. Actions:

* ``{"set": PATH, "value": V}``: the model's value at ``PATH`` equals ``V``. ``PATH`` is
  ``NODE.PARAM`` (``arrivals.rate``), ``NODE.PARAM.FIELD`` (``cpu.service_time.mean``; the
  mean of any distribution) or ``simulation.KEY``, the names :mod:`engine.experiments`
  uses. Numbers match within :data:`REL_TOLERANCE`.
* ``{"run": true}``: a run of the model finished while the step was shown.
* ``{"add": KIND}``: the student added a node of that kind while the step was shown.

A ``predict`` names a ``metric`` as ``NODE.METRIC`` (a station's or sink's metric from
:mod:`engine.metrics`); its answer is compared with :func:`theory_value` (what
:func:`engine.theory.metric_value` gives for the model) and the simulated value of the run.

This module checks a lesson block (:func:`lesson_problems`) and answers the questions the
lesson panel asks of a model; it never imports Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.metrics import SINK_METRICS, STATION_METRICS
from engine.model.schema import KINDS, SIMULATION_FIELDS

if TYPE_CHECKING:
    from engine.model.document import Model

LESSON_VERSION = 1
#: Two numbers match for a ``set`` action when they differ by at most this share of the larger.
REL_TOLERANCE = 1e-9
#: Metrics a ``predict`` may ask about.
METRICS = tuple(dict.fromkeys((*STATION_METRICS, *SINK_METRICS, "mean_thinking", "population")))
_LESSON_KEYS = ("version", "title", "description", "steps")
_STEP_KEYS = ("text", "action", "predict")
_PREDICT_KEYS = ("question", "metric", "unit")
ACTION_KINDS = ("set", "run", "add")


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


#: What :func:`read_value` returns for a path that names nothing in the model.
ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Step:
    """One step of a lesson, read from its block (see the module docstring)."""

    text: str
    action: dict[str, Any] | None = None
    question: str | None = None
    metric: str | None = None
    unit: str = ""

    @property
    def predicts(self) -> bool:
        """Whether the step asks the student to predict a value."""
        return self.metric is not None


@dataclass(frozen=True)
class Lesson:
    """A lesson block read into steps (only from a block :func:`lesson_problems` accepts)."""

    title: str
    steps: tuple[Step, ...]
    description: str = ""


def read_lesson(block: dict[str, Any]) -> Lesson:
    """The lesson in ``block``; ValueError with every problem if the block is not a valid lesson."""
    problems = lesson_problems(block)
    if problems:
        raise ValueError("; ".join(problems))
    steps = []
    for raw in block["steps"]:
        predict = raw.get("predict") or {}
        steps.append(
            Step(
                text=raw["text"],
                action=dict(raw["action"]) if raw.get("action") is not None else None,
                question=predict.get("question"),
                metric=predict.get("metric"),
                unit=predict.get("unit", ""),
            )
        )
    return Lesson(block["title"], tuple(steps), block.get("description", ""))


def lesson_problems(block: Any, model: Model | None = None) -> list[str]:
    """Every problem of a lesson block, each starting ``lesson:`` and naming the step and
    field; empty when it is a valid lesson. With ``model``, node ids in ``set`` paths and
    ``predict`` metrics must name nodes of the model (a node the lesson asks the student to
    ``add`` may be named before it exists)."""
    if not isinstance(block, dict):
        return [f"lesson: must be an object, got {type(block).__name__}"]
    out: list[str] = []
    for key in block:
        if key not in _LESSON_KEYS:
            out.append(f"lesson: unknown field {key!r}")
    version = block.get("version")
    if version != LESSON_VERSION or isinstance(version, bool):
        out.append(f"lesson: version must be {LESSON_VERSION}, got {version!r}")
    title = block.get("title")
    if not isinstance(title, str) or not title.strip():
        out.append(f"lesson: title must be a non-empty string, got {title!r}")
    if not isinstance(block.get("description", ""), str):
        out.append(f"lesson: description must be a string, got {block.get('description')!r}")
    steps = block.get("steps")
    if not isinstance(steps, list) or not steps:
        out.append(f"lesson: steps must be a non-empty list, got {steps!r}")
        return out
    adds = any(isinstance(s, dict) and isinstance(s.get("action"), dict) and "add" in s["action"] for s in steps)
    for i, step in enumerate(steps, 1):
        out.extend(f"lesson: step {i}: {p}" for p in _step_problems(step, model, adds))
    return out


def _step_problems(step: Any, model: Model | None, adds: bool) -> list[str]:
    if not isinstance(step, dict):
        return [f"must be an object, got {type(step).__name__}"]
    out = [f"unknown field {key!r}" for key in step if key not in _STEP_KEYS]
    text = step.get("text")
    if not isinstance(text, str) or not text.strip():
        out.append(f"text must be a non-empty string, got {text!r}")
    action = step.get("action")
    if action is not None:
        out.extend(f"action: {p}" for p in _action_problems(action, model))
    predict = step.get("predict")
    if predict is not None:
        out.extend(f"predict: {p}" for p in _predict_problems(predict, model, adds))
    return out


def _action_problems(action: Any, model: Model | None) -> list[str]:
    if not isinstance(action, dict):
        return [f"must be an object, got {action!r}"]
    kinds = [k for k in ACTION_KINDS if k in action]
    if len(kinds) != 1:
        return [f"must have exactly one of {', '.join(ACTION_KINDS)}, got {sorted(action)}"]
    kind = kinds[0]
    allowed = {"set": {"set", "value"}, "run": {"run"}, "add": {"add"}}[kind]
    out = [f"unknown field {key!r}" for key in action if key not in allowed]
    if kind == "run" and action["run"] is not True:
        out.append(f"run must be true, got {action['run']!r}")
    elif kind == "add" and action["add"] not in KINDS:
        out.append(f"add must be a node kind ({', '.join(KINDS)}), got {action['add']!r}")
    elif kind == "set":
        if "value" not in action:
            out.append("set needs a value")
        path = action["set"]
        if not isinstance(path, str) or "." not in path:
            out.append(f"set must be NODE.PARAM, NODE.PARAM.FIELD or simulation.KEY, got {path!r}")
        else:
            problem = _path_problem(path, model)
            if problem:
                out.append(problem)
    return out


def _path_problem(path: str, model: Model | None) -> str | None:
    head, _, rest = path.partition(".")
    name = rest.partition(".")[0]
    if head == "simulation" and (model is None or not any(n.id == "simulation" for n in model.nodes)):
        return (
            None
            if rest in SIMULATION_FIELDS
            else f"set {path!r}: the simulation block has {', '.join(SIMULATION_FIELDS)}"
        )
    if model is None:
        return None
    node = next((n for n in model.nodes if n.id == head), None)
    if node is None:
        return f"set {path!r}: no node {head!r} in the model"
    kind = KINDS.get(node.kind)
    if kind is not None and kind.param(name) is None:
        return f"set {path!r}: a {node.kind} has no parameter {name!r}"
    return None


def _predict_problems(predict: Any, model: Model | None, adds: bool) -> list[str]:
    if not isinstance(predict, dict):
        return [f"must be an object, got {predict!r}"]
    out = [f"unknown field {key!r}" for key in predict if key not in _PREDICT_KEYS]
    question = predict.get("question")
    if not isinstance(question, str) or not question.strip():
        out.append(f"question must be a non-empty string, got {question!r}")
    if not isinstance(predict.get("unit", ""), str):
        out.append(f"unit must be a string, got {predict.get('unit')!r}")
    metric = predict.get("metric")
    if not isinstance(metric, str) or "." not in metric:
        out.append(f"metric must be NODE.METRIC (e.g. cpu.mean_response), got {metric!r}")
        return out
    node_id, _, name = metric.rpartition(".")
    if name not in METRICS:
        out.append(f"metric {metric!r}: {name!r} is not a metric (known: {', '.join(METRICS)})")
    if model is not None and not adds and not any(n.id == node_id for n in model.nodes):
        out.append(f"metric {metric!r}: no node {node_id!r} in the model")
    return out


# ------------------------------------------------------------------ the model's side
def read_value(model: Model, path: str) -> Any:
    """The model's value at a ``set`` path (a parameter left out reads as its default), or
    :data:`ABSENT` when the path names nothing (no such node, parameter or field)."""
    head, _, rest = path.partition(".")
    if head == "simulation" and not any(n.id == "simulation" for n in model.nodes):
        return getattr(model.simulation, rest, ABSENT) if rest in SIMULATION_FIELDS else ABSENT
    node = next((n for n in model.nodes if n.id == head), None)
    if node is None:
        return ABSENT
    name, _, sub = rest.partition(".")
    kind = KINDS.get(node.kind)
    spec = kind.param(name) if kind is not None else None
    if name in node.params:
        value = node.params[name]
    elif spec is not None:
        value = spec.default
    else:
        return ABSENT
    if not sub:
        return value
    if not isinstance(value, dict):
        return ABSENT
    if sub in value:
        return value[sub]
    if sub == "mean" and "dist" in value:
        from engine.distributions import from_spec

        try:
            return from_spec(value).mean
        except (TypeError, ValueError):
            return ABSENT
    return ABSENT


def same_value(a: Any, b: Any) -> bool:
    """Whether two JSON values are equal, numbers within :data:`REL_TOLERANCE` (an int and a
    float of one value are the same)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=0.0)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return bool(a == b)


def set_done(model: Model, action: dict[str, Any]) -> bool:
    """Whether the model holds what a ``set`` action asks for."""
    value = read_value(model, action["set"])
    return value is not ABSENT and same_value(value, action["value"])


def describe_action(action: dict[str, Any]) -> str:
    """The action as an instruction: "Set arrivals.rate to 0.95", "Press Run (F5)", "Add a server"."""
    if "set" in action:
        return f"Set {action['set']} to {_show(action['value'])}"
    if "add" in action:
        kind = KINDS.get(action["add"])
        label = kind.label.lower() if kind is not None else str(action["add"])
        return f"Add a {label} node ({action['add']})"
    return "Press Run (F5) and let the run finish"


def _show(value: Any) -> str:
    if isinstance(value, dict) and "dist" in value:
        fields = ", ".join(f"{k} {_show(v)}" for k, v in value.items() if k != "dist")
        return f"{value['dist']} ({fields})" if fields else str(value["dist"])
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def simulated_value(results: Any, metric: str) -> float | None:
    """The value of ``NODE.METRIC`` in a run's results (``{node: {metric: value}}``), or None."""
    node_id, _, name = metric.rpartition(".")
    try:
        value = results[node_id][name]
    except (KeyError, TypeError):
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return None
    return float(value)


def lesson_docs() -> list[str]:
    """The ``lesson`` section of ``docs/model-format.md`` (see :mod:`engine.model.docs`), as lines."""
    return [
        "## lesson",
        "",
        "An optional `lesson` block turns a model into a short guided path for a student, shown by "
        "**Help ▸ Lessons** in the Lesson panel: a few steps, each with a sentence or two of "
        "explanation, an action for the student, and a *predict-then-run* question whose answer is "
        "shown beside theory and the simulation.",
        "",
        "```json",
        '"lesson": {"version": 1, "title": "The hockey stick", "description": "optional",',
        '  "steps": [{"text": "Set λ to 0.95.", "action": {"set": "arrivals.rate", "value": 0.95},',
        '             "predict": {"question": "What will W be?", "metric": "cpu.mean_response", "unit": "s"}}]}',
        "```",
        "",
        "| field | meaning |",
        "| --- | --- |",
        f"| `version` | {LESSON_VERSION} |",
        "| `title` | the lesson's name (non-empty) |",
        "| `description` | optional, a sentence about the lesson |",
        "| `steps` | a non-empty list of steps; each has `text` (non-empty) and optionally `action` and `predict` |",
        '| `action` | exactly one of: `{"set": PATH, "value": V}` — done when the model\'s value at PATH '
        "equals V (numbers within rounding; PATH is `NODE.PARAM`, `NODE.PARAM.FIELD` with `mean` for any "
        "distribution's mean, or `simulation.KEY`, the names `queuestudio sweep` takes); "
        '`{"run": true}` — done when a run finishes while the step is shown; `{"add": KIND}` — done when '
        "the student adds a node of that kind |",
        "| `predict` | `question` (non-empty), `metric` as `NODE.METRIC`, optional `unit`. The student "
        "types a number and locks it in; when the next run finishes the panel shows it beside theory "
        "(for the model as it was run; or why theory cannot solve it) and the run's value |",
        "",
        f"Metrics a question may name: {', '.join(f'`{m}`' for m in METRICS)}.",
        "",
        "The lesson block is kept exactly as written when the model is opened and saved. Problems inside "
        "it (a missing title, an unknown field, an action or metric naming no node of the model) are "
        "warnings in the editor, which opens the model and runs it as usual and shows the problems in the "
        "Lesson panel instead of the lesson; `queuestudio run` refuses them like any other problem. A "
        "`lesson` that is not an object is a structure error.",
        "",
    ]
