"""The model document: plain dataclasses, JSON load/save, and validation.

Loading never executes anything from the file: it is parsed with :mod:`json` and checked
field by field. Every problem found is reported at once, each naming the node or link and
the field.
"""

from __future__ import annotations

import copy
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.distributions import finite_float
from engine.model.schema import SIMULATION_FIELDS

FORMAT = "queuestudio-model"
VERSION = 1
MAX_NESTING = 32


class ModelError(ValueError):
    """A model document that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = f"{where}{self.problems[0]}"
        else:
            message = f"{where}{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


@dataclass
class SimulationSettings:
    """Run settings stored in the document (seconds)."""

    end_time: float = 1000.0
    warmup: float = 0.0
    seed: int | None = 1
    sample_interval: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "end_time": self.end_time,
            "warmup": self.warmup,
            "seed": self.seed,
            "sample_interval": self.sample_interval,
        }


@dataclass
class Node:
    """A node of the model: ``kind`` is one of the kinds in :mod:`engine.model.schema`."""

    id: str
    kind: str
    position: tuple[float, float] = (0.0, 0.0)
    params: dict[str, Any] = field(default_factory=dict)
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "position": [self.position[0], self.position[1]]}
        if self.label:
            out["label"] = self.label
        if self.params:
            out["params"] = copy.deepcopy(self.params)
        return out


@dataclass
class Link:
    """A directed link; ``probability`` for random routing, ``latency`` a distribution object."""

    source: str
    target: str
    probability: float | None = None
    latency: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"from": self.source, "to": self.target}
        if self.probability is not None:
            out["probability"] = self.probability
        if self.latency is not None:
            out["latency"] = copy.deepcopy(self.latency)
        return out


@dataclass
class Model:
    """A whole queueing model: the single source of truth for the canvas, worker and CLI."""

    name: str = "Untitled"
    description: str = ""
    simulation: SimulationSettings = field(default_factory=SimulationSettings)
    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def node(self, node_id: str) -> Node:
        """The node with this id (KeyError if none)."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def out_links(self, node_id: str) -> list[Link]:
        """Links leaving ``node_id``, in document order."""
        return [link for link in self.links if link.source == node_id]

    def in_links(self, node_id: str) -> list[Link]:
        """Links entering ``node_id``, in document order."""
        return [link for link in self.links if link.target == node_id]

    def to_dict(self) -> dict[str, Any]:
        """The document as JSON-ready data."""
        out: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": self.name}
        if self.description:
            out["description"] = self.description
        out["simulation"] = self.simulation.to_dict()
        out["nodes"] = [n.to_dict() for n in self.nodes]
        out["links"] = [link.to_dict() for link in self.links]
        return out

    def copy(self) -> Model:
        """A deep copy."""
        return copy.deepcopy(self)


# ------------------------------------------------------------------- parsing
def _depth(value: Any, limit: int = MAX_NESTING) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, d = stack.pop()
        deepest = max(deepest, d)
        if d > limit:
            return d
        if isinstance(item, dict):
            stack.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, d + 1) for v in item)
    return deepest


def _is_number(x: Any) -> bool:
    """A finite number that fits a float (JSON integers can be as large as 10**400)."""
    return finite_float(x) is not None


def model_from_dict(data: Any, *, source: str | None = None, check_graph: bool = True) -> Model:
    """Build a :class:`Model` from parsed JSON, validating everything.

    Raises :class:`ModelError` listing every problem. With ``check_graph=False`` only the
    document's structure is checked (unreachable nodes and the like are left for
    :func:`engine.model.validate.check`), which lets an editor open half-drawn models.
    """
    from engine.model.validate import check_document

    problems: list[str] = []
    if not isinstance(data, dict):
        raise ModelError([f"the file must hold a JSON object, got {type(data).__name__}"], source)
    if _depth(data) > MAX_NESTING:
        raise ModelError([f"the document is nested deeper than {MAX_NESTING} levels"], source)
    data = migrate(data, problems)
    if problems:
        raise ModelError(problems, source)
    known = {"format", "version", "name", "description", "simulation", "nodes", "links"}
    for key in data:
        if key not in known:
            problems.append(f"unknown top-level field {key!r}")
    name = data.get("name", "Untitled")
    if not isinstance(name, str):
        problems.append(f"name must be a string, got {name!r}")
        name = "Untitled"
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(f"description must be a string, got {description!r}")
        description = ""
    settings = _simulation(data.get("simulation", {}), problems)
    nodes = _nodes(data.get("nodes"), problems)
    links = _links(data.get("links", []), problems)
    model = Model(name, description, settings, nodes, links)
    problems.extend(check_document(model, check_graph=check_graph).errors)
    if problems:
        raise ModelError(problems, source)
    return model


def migrate(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """Check format and version; bring older versions up to date (there are none yet)."""
    fmt = data.get("format")
    if fmt != FORMAT:
        problems.append(f"format must be {FORMAT!r}, got {fmt!r}")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        problems.append(f"version must be an integer, got {version!r}")
    elif version > VERSION:
        problems.append(f"version {version} is newer than this Queue Studio understands ({VERSION}); please upgrade")
    elif version < 1:
        problems.append(f"version must be >= 1, got {version}")
    return data


def _simulation(raw: Any, problems: list[str]) -> SimulationSettings:
    settings = SimulationSettings()
    if not isinstance(raw, dict):
        problems.append(f"simulation must be an object, got {raw!r}")
        return settings
    for key, value in raw.items():
        if key not in SIMULATION_FIELDS:
            problems.append(f"simulation: unknown field {key!r}")
            continue
        _, minimum, _ = SIMULATION_FIELDS[key]
        if key == "seed":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                problems.append(f"simulation: seed must be an integer >= 0 or null, got {value!r}")
                continue
        elif not _is_number(value):
            problems.append(f"simulation: {key} must be a finite number, got {value!r}")
            continue
        elif value < minimum or (key in ("end_time", "sample_interval") and value <= 0):
            problems.append(
                f"simulation: {key} must be > 0, got {value!r}"
                if key in ("end_time", "sample_interval")
                else f"simulation: {key} must be >= {minimum:g}, got {value!r}"
            )
            continue
        setattr(settings, key, value if key == "seed" else float(value))
    if settings.warmup >= settings.end_time:
        problems.append(f"simulation: warmup ({settings.warmup:g}) must be less than end_time ({settings.end_time:g})")
    return settings


def _nodes(raw: Any, problems: list[str]) -> list[Node]:
    if raw is None:
        problems.append("nodes is missing")
        return []
    if not isinstance(raw, list):
        problems.append(f"nodes must be a list, got {type(raw).__name__}")
        return []
    nodes: list[Node] = []
    for i, item in enumerate(raw):
        where = f"node {i}"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object, got {item!r}")
            continue
        node_id = item.get("id")
        if not isinstance(node_id, str) or not node_id.strip():
            problems.append(f"{where}: id must be a non-empty string, got {node_id!r}")
            continue
        where = f"node {node_id!r}"
        for key in item:
            if key not in ("id", "kind", "position", "params", "label"):
                problems.append(f"{where}: unknown field {key!r}")
        kind = item.get("kind")
        if not isinstance(kind, str):
            problems.append(f"{where}: kind must be a string, got {kind!r}")
            continue
        pos = item.get("position", [0, 0])
        if not isinstance(pos, list) or len(pos) != 2 or not all(_is_number(v) for v in pos):
            problems.append(f"{where}: position must be [x, y] numbers, got {pos!r}")
            pos = [0, 0]
        params = item.get("params", {})
        if not isinstance(params, dict):
            problems.append(f"{where}: params must be an object, got {params!r}")
            params = {}
        label = item.get("label")
        if label is not None and not isinstance(label, str):
            problems.append(f"{where}: label must be a string, got {label!r}")
            label = None
        nodes.append(Node(node_id, kind, (float(pos[0]), float(pos[1])), params, label))
    return nodes


def _links(raw: Any, problems: list[str]) -> list[Link]:
    if not isinstance(raw, list):
        problems.append(f"links must be a list, got {type(raw).__name__}")
        return []
    links: list[Link] = []
    for i, item in enumerate(raw):
        where = f"link {i}"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object, got {item!r}")
            continue
        for key in item:
            if key not in ("from", "to", "probability", "latency"):
                problems.append(f"{where}: unknown field {key!r}")
        src, dst = item.get("from"), item.get("to")
        bad = False
        for field_name, value in (("from", src), ("to", dst)):
            if not isinstance(value, str):
                problems.append(f"{where}: {field_name} must be a node id, got {value!r}")
                bad = True
        if bad:
            continue
        prob = item.get("probability")
        if prob is not None and (not _is_number(prob) or not 0 <= prob <= 1):
            problems.append(f"{where}: probability must be a number between 0 and 1, got {prob!r}")
            prob = None
        latency = item.get("latency")
        links.append(Link(str(src), str(dst), None if prob is None else float(prob), latency))
    return links


# ------------------------------------------------------------------ file I/O
def load_model(path: str | os.PathLike[str], *, check_graph: bool = True) -> Model:
    """Read and validate a model file.

    Raises :class:`ModelError` for a missing or unreadable file, bad JSON, or an invalid
    model (listing every problem).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError([f"no such file: {p}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError([f"cannot read {p}: {exc}"]) from None
    return loads_model(text, source=str(p), check_graph=check_graph)


def loads_model(text: str, *, source: str | None = None, check_graph: bool = True) -> Model:
    """Parse and validate a model from JSON text (see :func:`load_model`)."""

    def no_constants(name: str) -> float:
        raise ValueError(f"{name} is not allowed in a model file")

    try:
        data = json.loads(text, parse_constant=no_constants)
    except RecursionError:
        raise ModelError([f"the document is nested deeper than {MAX_NESTING} levels"], source) from None
    except ValueError as exc:
        raise ModelError([f"not valid JSON: {exc}"], source) from None
    return model_from_dict(data, source=source, check_graph=check_graph)


def dumps_model(model: Model) -> str:
    """The model as JSON text (2-space indented, stable key order)."""
    return json.dumps(model.to_dict(), indent=2, allow_nan=False) + "\n"


def save_model(model: Model, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` atomically (temporary file, then rename).

    A crash mid-save leaves the previous file intact.
    """
    p = Path(path)
    text = dumps_model(model)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
    try:
        try:
            mode = stat.S_IMODE(os.stat(p).st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)  # mkstemp creates 0600; keep the file's (or the usual) permissions
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
