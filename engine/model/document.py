"""The model document: plain dataclasses, JSON load/save, and validation.

Loading never executes anything from the file: it is parsed with :mod:`json` and checked
field by field. Every problem found is reported at once, each naming the node or link and
the field.

Two ways in:

* :func:`load_model` / :func:`loads_model` are strict (the CLI): any problem at all raises
  :class:`ModelError` listing every one.
* :func:`open_model` / :func:`opens_model` are for the editor: they raise only for
  *structure* errors, what the editor cannot represent (see :func:`opens_model`), and hand
  back every *model* problem (bad probabilities or parameter values, unreachable nodes,
  unstable stations) in a :class:`~engine.model.validate.Report`, so half-finished work
  that was saved always opens again.

:func:`save_model` saves any model, valid or not.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.distributions import finite_float
from engine.model.experiments_block import experiments_problems
from engine.model.lesson import lesson_problems
from engine.model.schema import SIMULATION_FIELDS
from engine.model.validate import Report, check_document, identity_problems

FORMAT = "queuestudio-model"
VERSION = 1
MAX_NESTING = 32
#: Largest model file read, in bytes. A model of 10^5 stations is about 35 MB of JSON; past
#: this the parsed document alone would take gigabytes, so a bigger file is refused before
#: it is read.
MAX_FILE_BYTES = 50_000_000
#: A :class:`ModelError` lists at most this many problems, then says how many more there are.
MAX_PROBLEMS = 1000


class ModelError(ValueError):
    """A model document that cannot be used; ``problems`` lists every reason.

    At most :data:`MAX_PROBLEMS` are listed, followed by "… and N more problems";
    ``total`` is the number found.
    """

    def __init__(self, problems: list[str], source: str | None = None, *, total: int | None = None) -> None:
        problems = list(problems)
        self.total = max(total or 0, len(problems))
        if self.total > MAX_PROBLEMS or len(problems) > MAX_PROBLEMS:
            problems = problems[:MAX_PROBLEMS] + [f"… and {self.total - MAX_PROBLEMS} more problems"]
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = f"{where}{self.problems[0]}"
        else:
            message = f"{where}{self.total} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


#: The ``warmup`` value that asks for the MSER-5 cut (see :mod:`engine.experiments`).
AUTO_WARMUP = "auto"


@dataclass
class SimulationSettings:
    """Run settings stored in the document (seconds).

    ``warmup`` may be ``"auto"`` in the file: then ``auto_warmup`` is true and ``warmup``
    is 0, what a single run that cannot know the cut in advance measures from; experiments
    and ``queuestudio run`` cut each model's warm-up by MSER-5 instead. Setting a warm-up
    in seconds clears ``auto_warmup``.
    """

    # First, so that __init__ setting ``warmup`` (to "auto", or seconds) decides it last.
    auto_warmup: bool = field(default=False, init=False)
    end_time: float = 1000.0
    warmup: float = 0.0
    seed: int | None = 1
    sample_interval: float = 1.0

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "warmup" and value == AUTO_WARMUP:
            object.__setattr__(self, "auto_warmup", True)
            value = 0.0
        elif name == "warmup":
            object.__setattr__(self, "auto_warmup", False)
        object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "end_time": self.end_time,
            "warmup": AUTO_WARMUP if self.auto_warmup else self.warmup,
            "seed": self.seed,
            "sample_interval": self.sample_interval,
        }


@dataclass(slots=True)
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


@dataclass(slots=True)
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
    #: The ``experiments`` block as written (see :mod:`engine.model.experiments_block`), or None.
    experiments: dict[str, Any] | None = None
    #: The ``lesson`` block as written (see :mod:`engine.model.lesson`), or None.
    lesson: dict[str, Any] | None = None

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
        if self.experiments is not None:
            out["experiments"] = copy.deepcopy(self.experiments)
        if self.lesson is not None:
            out["lesson"] = copy.deepcopy(self.lesson)
        return out

    def copy(self) -> Model:
        """A deep copy."""
        return copy.deepcopy(self)


# ------------------------------------------------------------------- parsing
class _Problems(list[str]):
    """A list of problems that keeps the first :data:`MAX_PROBLEMS` and counts the rest,
    so a huge file of bad nodes costs memory for its first problems only."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def append(self, message: str) -> None:
        self.total += 1
        if len(self) < MAX_PROBLEMS:
            super().append(message)


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


def _saveable(value: Any) -> bool:
    """Whether ``value`` can be written back as strict JSON (no float overflowed to inf:
    ``json`` reads ``1e400`` as infinity, which :func:`dumps_model` refuses)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _parse(data: Any, problems: list[str]) -> Model | None:
    """Read the document's structure into a :class:`Model`, appending a message to
    ``problems`` for everything a :class:`Model` cannot hold as written (wrong types,
    unknown fields, wrong format or version). Values of the right type are kept as they
    are, valid or not: their checks are :func:`~engine.model.validate.check_document`'s.
    Returns None only when ``data`` is no JSON object at all."""
    if not isinstance(data, dict):
        problems.append(f"the file must hold a JSON object, got {type(data).__name__}")
        return None
    if _depth(data) > MAX_NESTING:
        problems.append(f"the document is nested deeper than {MAX_NESTING} levels")
        return None
    data = migrate(data, problems)
    known = {"format", "version", "name", "description", "simulation", "nodes", "links"}
    known.add("experiments")
    known.add("lesson")
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
    model.experiments = _experiments(data.get("experiments"), problems)
    model.lesson = _lesson(data.get("lesson"), problems)
    return model


def _experiments(raw: Any, problems: list[str]) -> dict[str, Any] | None:
    """The ``experiments`` block, kept as written once its structure is sound (see
    :func:`engine.model.experiments_block.experiments_problems`)."""
    if raw is None:
        return None
    found = experiments_problems(raw)
    if not found and not _saveable(raw):
        found = ["experiments hold a number too large for a float (it reads as infinity)"]
    for message in found:
        problems.append(message)
    return None if found else copy.deepcopy(raw)


def _lesson(raw: Any, problems: list[str]) -> dict[str, Any] | None:
    """The ``lesson`` block, kept as written whatever is inside it (its contents are checked by
    :func:`engine.model.lesson.lesson_problems`); only a block that is no object, or that
    could not be saved back, is a structure problem."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(f"lesson must be an object, got {type(raw).__name__}")
        return None
    if not _saveable(raw):
        problems.append("lesson holds a number too large for a float (it reads as infinity)")
        return None
    return copy.deepcopy(raw)


def model_from_dict(data: Any, *, source: str | None = None, check_graph: bool = True) -> Model:
    """Build a :class:`Model` from parsed JSON, validating everything (strict).

    Raises :class:`ModelError` listing every problem, structural or not. With
    ``check_graph=False`` graph problems (unreachable nodes and the like) are not errors.
    """
    problems = _Problems()
    model = _parse(data, problems)
    del data  # the Model holds what it needs; let a big parsed document go before checking
    if model is None:
        raise ModelError(problems, source)
    if model.lesson is not None:
        for message in lesson_problems(model.lesson, model):
            problems.append(message)
    report = check_document(model, check_graph=check_graph)
    kept = report.errors if report.error_count == len(report.errors) else report.errors[:-1]  # "… and N more"
    for message in kept:
        problems.append(message)
    problems.total += report.error_count - len(kept)
    if problems.total:
        raise ModelError(problems, source, total=problems.total)
    return model


def open_dict(data: Any, *, source: str | None = None) -> tuple[Model, Report]:
    """The editor's reading of parsed JSON: see :func:`opens_model`."""
    problems = _Problems()
    model = _parse(data, problems)
    del data  # the Model holds what it needs; let a big parsed document go before checking
    if model is None:
        raise ModelError(problems, source)
    for node in model.nodes:
        if not _saveable(node.params):
            problems.append(f"node {node.id!r}: params hold a number too large for a float (it reads as infinity)")
    for i, link in enumerate(model.links):
        if not _saveable(link.latency):
            problems.append(f"link {i}: latency holds a number too large for a float (it reads as infinity)")
    for _where, message in identity_problems(model):
        problems.append(message)
    if problems.total:
        raise ModelError(problems, source, total=problems.total)
    report = check_document(model)
    if model.lesson is not None:
        # A lesson with mistakes still opens (and saves back as written): its problems are warnings.
        for message in lesson_problems(model.lesson, model):
            report.warn("lesson", message)
    return model, report


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
    """Types only: the ranges (end_time > 0, warmup < end_time...) are checked by
    :func:`engine.model.validate.check_document`."""
    settings = SimulationSettings()
    if not isinstance(raw, dict):
        problems.append(f"simulation must be an object, got {raw!r}")
        return settings
    for key, value in raw.items():
        if key not in SIMULATION_FIELDS:
            problems.append(f"simulation: unknown field {key!r}")
            continue
        if key == "seed":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                problems.append(f"simulation: seed must be an integer >= 0 or null, got {value!r}")
                continue
            settings.seed = value
        elif key == "warmup" and value == AUTO_WARMUP:
            settings.auto_warmup = True
        elif not _is_number(value):
            problems.append(f"simulation: {key} must be a finite number, got {value!r}")
        else:
            setattr(settings, key, float(value))
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
    """Types only: a probability outside [0, 1] is kept for
    :func:`engine.model.validate.check_document` to report."""
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
        if prob is not None and not _is_number(prob):
            problems.append(f"{where}: probability must be a number between 0 and 1, got {prob!r}")
            prob = None
        latency = item.get("latency")
        links.append(Link(str(src), str(dst), None if prob is None else float(prob), latency))
    return links


# ------------------------------------------------------------------ file I/O
def _read_text(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The file's text (UTF-8, a byte-order mark allowed) and its name for messages.

    Refuses a file over :data:`MAX_FILE_BYTES` before reading it.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise ModelError([_too_big(size)], str(p))
            # A pipe or a growing file reports no honest size: read one byte past the cap.
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ModelError([f"no such file: {p}"]) from None
    except OSError as exc:
        raise ModelError([f"cannot read {p}: {exc}"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ModelError([_too_big(len(raw), more=True)], str(p))
    try:
        return raw.decode("utf-8-sig"), str(p)
    except UnicodeDecodeError as exc:
        raise ModelError([f"cannot read {p}: {exc}"]) from None


def _too_big(size: int, *, more: bool = False) -> str:
    return (
        f"the file is {'over ' if more else ''}{size / 1e6:.1f} MB; Queue Studio opens model files of up to "
        f"{MAX_FILE_BYTES / 1e6:g} MB (a model of 10^5 stations is about 35 MB)"
    )


def _parse_json(text: str, source: str | None) -> Any:
    def no_constants(name: str) -> float:
        raise ValueError(f"{name} is not allowed in a model file")

    if len(text) > MAX_FILE_BYTES:
        raise ModelError([_too_big(len(text))], source)
    try:
        return json.loads(text.removeprefix("\ufeff"), parse_constant=no_constants)
    except RecursionError:
        raise ModelError([f"the document is nested deeper than {MAX_NESTING} levels"], source) from None
    except ValueError as exc:
        raise ModelError([f"not valid JSON: {exc}"], source) from None


def load_model(path: str | os.PathLike[str], *, check_graph: bool = True) -> Model:
    """Read and validate a model file (strict: the CLI's way in).

    Raises :class:`ModelError` for a missing or unreadable file, one over
    :data:`MAX_FILE_BYTES`, bad JSON, or an invalid model (listing every problem).
    """
    text, source = _read_text(path)
    return loads_model(text, source=source, check_graph=check_graph)


def loads_model(text: str, *, source: str | None = None, check_graph: bool = True) -> Model:
    """Parse and validate a model from JSON text (see :func:`load_model`)."""
    return model_from_dict(_parse_json(text, source), source=source, check_graph=check_graph)


def open_model(path: str | os.PathLike[str]) -> tuple[Model, Report]:
    """Read a model file for editing: the model and its problems (see :func:`opens_model`).

    Raises :class:`ModelError` only for structure errors, including a missing or unreadable
    file and one over :data:`MAX_FILE_BYTES`.
    """
    text, source = _read_text(path)
    return opens_model(text, source=source)


def opens_model(text: str, *, source: str | None = None) -> tuple[Model, Report]:
    """Parse a model for editing: the model as written, and a report of its problems.

    Raises :class:`ModelError` only for *structure* errors, what the editor cannot hold or
    could not save back as it was written:

    * not JSON, nested deeper than :data:`MAX_NESTING`, not a JSON object, too big;
    * ``format`` not ``"queuestudio-model"``, ``version`` not an integer from 1 to
      :data:`VERSION`;
    * an unknown field anywhere outside ``params`` (it would be lost on saving); a field of
      the wrong type: ``name``/``description``/``label`` not strings, ``simulation`` or
      ``params`` not objects, a ``lesson`` that is not an object, ``nodes``/``links`` not lists, a simulation time or a
      position that is not a finite number, a seed that is not an integer, a probability
      that is not a number;
    * a node that is not an object or has no non-empty string ``id``, or whose ``kind`` is
      not a string; two nodes with one id; a link that is not an object, whose ends are not
      strings or name no node, or that repeats another link between the same two nodes;
    * a number in ``params`` or a latency too large for a float (``1e400``), which could
      not be saved back.

    Everything else is a *model* problem, listed in the returned
    :class:`~engine.model.validate.Report` exactly as :func:`loads_model` would list it:
    ``report.errors`` (each keyed in ``report.by_node`` by node id or ``"link N"``) must
    be fixed before a run; ``report.warnings`` need not. That covers out-link
    probabilities missing or not summing to 1, parameter values out of range or of the
    wrong type, unknown parameters, unknown node kinds, links into a source or out of a
    sink, simulation settings out of range, unreachable nodes and dead ends, and unstable
    stations (a warning). Problems inside a ``lesson`` block (see :mod:`engine.model.lesson`)
    are warnings keyed ``"lesson"``: the model opens, runs and saves its lesson back as
    written; :func:`loads_model` refuses them. When ``report.ok``, :func:`loads_model` accepts the same text.
    """
    return open_dict(_parse_json(text, source), source=source)


def dumps_model(model: Model) -> str:
    """The model as JSON text (2-space indented, stable key order)."""
    return json.dumps(model.to_dict(), indent=2, allow_nan=False) + "\n"


#: A temporary file of an interrupted save older than this (seconds) is removed by the next
#: save of the same file: a save takes far less, so it cannot be another save in progress.
STALE_TEMP_SECONDS = 120.0
_TEMP_SUFFIX = ".tmp"
_TEMP_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")  # what mkstemp puts between prefix and suffix


def _temp_prefix(target: Path) -> str:
    return f".{target.name}."


def save_model(model: Model, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` atomically; any model, valid or not.

    The text goes to a temporary file beside the target, is flushed to disk, and is renamed
    over the target; then the folder is flushed too, so the rename survives a power cut. A
    crash mid-save leaves the previous file intact. A symbolic link is followed: the file it
    points to is replaced and the link stays a link. The temporary file is removed on every
    failure (a full disk, a failed flush or rename, Ctrl-C); one left by a killed process is
    removed by the next save of the same file once it is :data:`STALE_TEMP_SECONDS` old.
    Raises ``ValueError`` (and touches nothing) if the model holds NaN or infinity, and
    ``OSError`` if the file cannot be written.
    """
    target = Path(os.path.realpath(path))
    text = dumps_model(model)
    folder = target.parent
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=_TEMP_SUFFIX, dir=folder)
    try:
        try:
            fh = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        except BaseException:
            os.close(fd)
            raise
        with fh:
            try:
                mode = stat.S_IMODE(os.stat(target).st_mode)
            except FileNotFoundError:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.chmod(tmp, mode)  # mkstemp creates 0600; keep the file's (or the usual) permissions
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_folder(folder)
    _remove_stale_temps(target)


def fsync_folder(folder: Path) -> None:
    """Flush the folder's entry for the renamed file (POSIX; Windows cannot open folders)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        # Some file systems cannot flush a folder (EINVAL); the file itself is already
        # flushed and in place, so the save has succeeded.
        pass
    finally:
        os.close(fd)


def _remove_stale_temps(target: Path) -> None:
    """Remove temporary files that killed saves of ``target`` left behind."""
    prefix = _temp_prefix(target)
    cutoff = time.time() - STALE_TEMP_SECONDS
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        middle = name[len(prefix) : -len(_TEMP_SUFFIX)]
        if not (
            name.startswith(prefix) and name.endswith(_TEMP_SUFFIX) and len(middle) == 8 and set(middle) <= _TEMP_CHARS
        ):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
