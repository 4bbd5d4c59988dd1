"""The history of runs: every finished live run, replication set, sweep and comparison, kept
in the app's data folder so the list survives a restart.

:class:`RunHistory` is the store. Anything that finishes a run calls :meth:`RunHistory.add`
with its kind, a title, its key results (``{node: {metric: value, …, "ci95": {…}}}``) and,
when it has them, curves (``{name: {"x": [...], "y": [...], "err": [...]}}``) and the model it
ran, from which "what was changed" is worked out against the previous run of a model of the
same name. Entries can be pinned, renamed, deleted and exported.

The store is one JSON file (``history.json``) written atomically after each change. It is
bounded: at most :data:`MAX_ENTRIES` entries and about :data:`MAX_BYTES` of text, the oldest
unpinned entries dropped first, and long curves thinned to :data:`MAX_CURVE_POINTS`. A file
that cannot be read (not JSON, not this shape, a newer version) is renamed aside to
``history.json.corrupt-<time>`` and the history starts empty; ``problem`` says so, and the
window shows it once, never a crash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, Signal

from engine.model import Model
from engine.model.experiments_block import json_safe

log = logging.getLogger(__name__)

#: Environment variable naming the folder of the history (tests, portable installs).
ENV_DIR = "QUEUESTUDIO_HISTORY_DIR"
FILE_NAME = "history.json"
VERSION = 1
#: Most entries kept; past it the oldest unpinned ones go.
MAX_ENTRIES = 200
#: About the most text the store holds (bytes of JSON); past it the oldest unpinned go.
MAX_BYTES = 4_000_000
#: Most points one curve keeps (a longer one is thinned evenly, ends kept).
MAX_CURVE_POINTS = 500
#: Kinds of entries.
KINDS = ("live", "replications", "sweep", "comparison")


def default_directory() -> Path:
    """``$QUEUESTUDIO_HISTORY_DIR``, else the app's data folder (``~/.local/share/…`` on Linux)."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or tempfile.gettempdir())


@dataclass
class RunEntry:
    """One finished run in the history."""

    id: str
    kind: str
    title: str
    created: str
    model_name: str = ""
    changes: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    pinned: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (NaN and infinity as null)."""
        return json_safe({name: getattr(self, name) for name in self.__dataclass_fields__})  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: Any) -> RunEntry:
        """An entry from stored data (ValueError when it is not one)."""
        if not isinstance(data, dict):
            raise ValueError("an entry must be an object")
        try:
            entry = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        if not isinstance(entry.id, str) or entry.kind not in KINDS or not isinstance(entry.title, str):
            raise ValueError(f"not an entry: id {entry.id!r}, kind {entry.kind!r}")
        if not isinstance(entry.results, dict) or not isinstance(entry.curves, dict):
            raise ValueError("results and curves must be objects")
        return entry


def flat_params(model: Model) -> dict[str, Any]:
    """Every setting and parameter of ``model`` by path (``cpu.concurrency``,
    ``cpu.service_time.mean``, ``simulation.end_time``), for telling two runs apart."""
    out: dict[str, Any] = {f"simulation.{k}": v for k, v in model.simulation.to_dict().items()}
    for node in model.nodes:
        out[f"{node.id}.kind"] = node.kind
        for name, value in node.params.items():
            if isinstance(value, dict):
                for sub, inner in value.items():
                    out[f"{node.id}.{name}.{sub}"] = inner
            else:
                out[f"{node.id}.{name}"] = value
    for link in model.links:
        key = f"link {link.source}→{link.target}"
        out[key] = link.probability if link.probability is not None else "on"
    return json_safe(out)  # type: ignore[no-any-return]


def describe_changes(before: dict[str, Any], after: dict[str, Any], limit: int = 6) -> list[str]:
    """``["cpu.concurrency 1 → 2", …]``: what differs from ``before`` to ``after``."""
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            lines.append(f"{key} {_short(old)} → {_short(new)}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"… and {len(lines) - limit} more"]
    return lines


def _short(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def thin(curve: dict[str, list[Any]], most: int = MAX_CURVE_POINTS) -> dict[str, list[Any]]:
    """``curve`` with at most ``most`` points, evenly chosen, the last one kept."""
    n = max((len(v) for v in curve.values()), default=0)
    if n <= most:
        return {k: list(v) for k, v in curve.items()}
    picks = sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})
    return {k: [v[i] for i in picks if i < len(v)] for k, v in curve.items()}


class RunHistory(QObject):
    """The list of finished runs, stored in ``directory`` (default :func:`default_directory`).

    ``changed`` is emitted after every change of the list; ``problem`` holds the message of a
    store that was set aside on loading (or that could not be written), else "".
    """

    changed = Signal()
    problem_found = Signal(str)

    def __init__(self, directory: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.directory = Path(directory) if directory is not None else default_directory()
        self.path = self.directory / FILE_NAME
        self.entries: list[RunEntry] = []
        self.problem = ""
        self._load()

    # ------------------------------------------------------------ adding
    def add(
        self,
        kind: str,
        title: str,
        results: dict[str, Any],
        *,
        model: Model | None = None,
        curves: dict[str, dict[str, list[Any]]] | None = None,
        changes: list[str] | None = None,
        summary: str = "",
    ) -> RunEntry:
        """Record a finished run and return its entry (newest first in :attr:`entries`).

        ``kind`` is one of ``live``, ``replications``, ``sweep``, ``comparison``; ``results``
        maps node ids to metrics (``ci95`` half-widths optional); ``curves`` maps a curve's name
        to its ``x``, ``y`` and optional ``err`` lists; ``changes`` says what differs from the
        model (default: worked out from ``model`` against the previous run of a model of the
        same name); ``summary`` is one line of key results (default: made from ``results``).
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        params = flat_params(model) if model is not None else {}
        name = model.name if model is not None else ""
        if changes is None:
            previous = next((e for e in self.entries if e.params and e.model_name == name), None)
            changes = describe_changes(previous.params, params) if previous is not None and params else []
        plain = json_safe(results)  # plain dicts: live results are read-only mappings
        entry = RunEntry(
            id=uuid.uuid4().hex,
            kind=kind,
            title=title,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            model_name=name,
            changes=list(changes),
            results=plain,
            curves={k: thin(json_safe(v)) for k, v in (curves or {}).items()},
            params=params,
            summary=summary or key_results(plain),
        )
        self.entries.insert(0, entry)
        self._save(self._bound())
        self.changed.emit()
        return entry

    # ------------------------------------------------------------ editing
    def entry(self, entry_id: str) -> RunEntry:
        """The entry with this id (KeyError if none)."""
        for e in self.entries:
            if e.id == entry_id:
                return e
        raise KeyError(entry_id)

    def pin(self, entry_id: str, pinned: bool = True) -> None:
        """Pin an entry (kept whatever the bound) or unpin it."""
        self.entry(entry_id).pinned = pinned
        self._save()
        self.changed.emit()

    def rename(self, entry_id: str, title: str) -> None:
        """Give an entry a new title."""
        self.entry(entry_id).title = title.strip() or self.entry(entry_id).title
        self._save()
        self.changed.emit()

    def remove(self, entry_ids: list[str]) -> None:
        """Delete entries."""
        doomed = set(entry_ids)
        self.entries = [e for e in self.entries if e.id not in doomed]
        self._save()
        self.changed.emit()

    def export(self, path: str | Path, entry_ids: list[str] | None = None) -> None:
        """Write entries (default: all) to ``path`` as JSON (``.csv``: one row per node and metric)."""
        chosen = [e for e in self.entries if entry_ids is None or e.id in entry_ids]
        path = Path(path)
        if path.suffix.lower() == ".csv":
            import csv

            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["run", "kind", "created", "node", "metric", "value", "ci95"])
                for e in chosen:
                    for node_id, metrics in e.results.items():
                        if not isinstance(metrics, dict):
                            continue
                        ci = metrics.get("ci95", {}) if isinstance(metrics.get("ci95"), dict) else {}
                        for name, value in metrics.items():
                            if name != "ci95" and not isinstance(value, (dict, list)):
                                writer.writerow([e.title, e.kind, e.created, node_id, name, value, ci.get(name, "")])
            return
        data = {"version": VERSION, "entries": [e.to_dict() for e in chosen]}
        path.write_text(json.dumps(data, indent=1, allow_nan=False), encoding="utf-8")

    # ------------------------------------------------------------ storage
    def _bound(self) -> str:
        """Drop the oldest unpinned entries past the bounds; the store's text."""

        def drop_oldest() -> bool:
            for i in range(len(self.entries) - 1, -1, -1):
                if not self.entries[i].pinned:
                    del self.entries[i]
                    return True
            return False

        while len(self.entries) > MAX_ENTRIES and drop_oldest():
            pass
        text = self._text()
        while len(text) > MAX_BYTES and drop_oldest():
            text = self._text()
        return text

    def _text(self) -> str:
        return json.dumps({"version": VERSION, "entries": [e.to_dict() for e in self.entries]}, allow_nan=False)

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            self._set_problem(f"The run history at {self.path} could not be read ({exc}); it starts empty.")
            return
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
                raise ValueError("not a run history")
            version = data.get("version")
            if not isinstance(version, int) or version > VERSION:
                raise ValueError(f"version {version!r} is not one this Queue Studio reads")
            self.entries = [RunEntry.from_dict(e) for e in data["entries"]]
        except (ValueError, TypeError, RecursionError) as exc:
            self.entries = []
            aside = self.path.with_name(f"{FILE_NAME}.corrupt-{dt.datetime.now():%Y%m%d-%H%M%S}")
            try:
                os.replace(self.path, aside)
                where = f"set aside as {aside.name}"
            except OSError:
                where = "left where it is"
            self._set_problem(
                f"The run history could not be read ({exc}); the file was {where} and the history starts empty."
            )
            log.warning("run history: %s", self.problem)

    def _save(self, text: str | None = None) -> None:
        try:
            text = self._text() if text is None else text
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".history.", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except (OSError, ValueError) as exc:
            self._set_problem(f"The run history could not be saved to {self.path}: {exc}")

    def _set_problem(self, message: str) -> None:
        self.problem = message
        self.problem_found.emit(message)


#: Metrics shown in an entry's one-line summary, in order, with their short names.
SUMMARY_METRICS = (("mean_response", "W"), ("p99_response", "p99"), ("utilization", "ρ"), ("mean_in_system", "L"))


def key_results(results: dict[str, Any], most: int = 2) -> str:
    """One line of key results: ``cpu: W 4.9 ± 0.3 s, ρ 0.80 · …`` for the first stations."""
    parts = []
    for node_id, metrics in results.items():
        if not isinstance(metrics, dict) or "utilization" not in metrics:
            continue
        ci = metrics.get("ci95") if isinstance(metrics.get("ci95"), dict) else {}
        shown = []
        for name, short in SUMMARY_METRICS:
            value = metrics.get(name)
            if isinstance(value, (int, float)) and math.isfinite(value):
                half = ci.get(name)
                pm = f" ± {half:.2g}" if isinstance(half, (int, float)) and math.isfinite(half) else ""
                shown.append(f"{short} {value:.3g}{pm}")
        parts.append(f"{node_id}: {', '.join(shown)}")
        if len(parts) >= most:
            break
    return " · ".join(parts)
