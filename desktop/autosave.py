"""Crash recovery: the unsaved document is written to a recovery file every few seconds.

Each running window owns one recovery file and holds a :class:`QLockFile` next to it. A
recovery file whose lock can be taken belongs to a process that is gone (it crashed, or
was killed): the next start offers it, with every other such file, to be restored.

Nothing is deleted without the user asking for it:

- a recovery file is deleted when its document is saved, or when the user discards the
  changes (answers "Discard" when closing, opening another file or starting a new one);
- a restored file is *adopted* by the window it is restored into (:meth:`Recovery.adopt`):
  that window keeps autosaving into it, so it survives until the restored document is
  saved or discarded, and a second crash offers it again;
- a file the user does not restore now is kept (its lock released) and offered next time,
  unless the user chooses to discard it;
- a damaged file (not JSON, not a recovery record, or a model the editor cannot show) is
  moved aside as ``damaged-….json`` in the same folder and reported, never deleted.

Whatever was autosaved is restored, valid or not: the model is read with
:func:`engine.model.opens_model`, which refuses only documents the editor cannot show;
bad probabilities, unreachable nodes and the like come back as problems to fix.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer

from desktop.document import ModelDocument
from engine.model import Model, ModelError, Report, opens_model

AUTOSAVE_MS = 5000
ENV_DIR = "QUEUESTUDIO_RECOVERY_DIR"
PATTERN = "recovery-*.json"


def default_directory() -> Path:
    """Where recovery files go: ``$QUEUESTUDIO_RECOVERY_DIR``, else the app's state folder
    (``~/.local/state/queuestudio/recovery`` on Linux)."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.StateLocation)
    return Path(base or tempfile.gettempdir()) / "recovery"


@dataclass(eq=False)
class Orphan:
    """A recovery file left behind by a process that did not exit normally; its lock is held
    (claimed) until :meth:`release`, :meth:`remove` or :meth:`Recovery.adopt`.

    A restorable orphan has ``model`` and ``report``; a damaged one has ``damage`` (why it
    cannot be restored) and ``path`` is where it was moved aside.
    """

    path: Path
    lock: QLockFile
    original_path: str | None = None
    saved_at: str = ""
    name: str = "Untitled"
    model: Model | None = None
    report: Report | None = None
    damage: str | None = None

    @property
    def damaged(self) -> bool:
        """True when the file cannot be restored."""
        return self.damage is not None

    @property
    def title(self) -> str:
        """The document's file name, or its model name when it was never saved."""
        return Path(self.original_path).name if self.original_path else self.name or "Untitled"

    @property
    def when(self) -> str:
        """When it was last autosaved, for people ("2026-11-30 16:13:56")."""
        try:
            return datetime.fromisoformat(self.saved_at).strftime("%Y-%m-%d %H:%M:%S")
        except (TypeError, ValueError):
            return self.saved_at or "an unknown time"

    @property
    def problems(self) -> list[str]:
        """The restored model's problems that stop a run (empty when it is valid)."""
        return list(self.report.errors) if self.report is not None else []

    def release(self) -> None:
        """Keep the file for next time and let go of it."""
        self.lock.unlock()

    def remove(self) -> None:
        """Delete the file (the user chose to discard it) and release it."""
        self.path.unlink(missing_ok=True)
        self.lock.unlock()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def orphans(directory: Path) -> list[Orphan]:
    """Recovery files in ``directory`` whose owner is gone, newest first; each is claimed.

    Damaged files are moved aside (``damaged-….json``) and returned with ``damage`` set
    and their lock already released.
    """
    found = []
    for path in sorted(directory.glob(PATTERN), key=_mtime, reverse=True):
        lock = QLockFile(f"{path}.lock")
        lock.setStaleLockTime(0)
        if not lock.tryLock(0):
            continue
        if not path.exists():  # saved or discarded by its owner while we looked
            lock.unlock()
            continue
        found.append(_read(path, lock))
    return found


def _read(path: Path, lock: QLockFile) -> Orphan:
    orphan = Orphan(path, lock)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or not isinstance(record.get("model"), dict):
            raise ModelError(["it is not a Queue Studio recovery record"])
        original = record.get("path")
        orphan.original_path = original if isinstance(original, str) and original else None
        orphan.saved_at = str(record.get("saved_at", ""))
        name = record["model"].get("name")
        orphan.name = name if isinstance(name, str) and name else "Untitled"
        orphan.model, orphan.report = opens_model(json.dumps(record["model"]), source=str(path))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:  # ModelError is a ValueError
        orphan.damage = _reason(exc)
        if not orphan.saved_at:
            orphan.saved_at = datetime.fromtimestamp(_mtime(path)).isoformat(timespec="seconds")
        orphan.path = _move_aside(path)
        orphan.model = orphan.report = None
        lock.unlock()
    return orphan


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ModelError):
        return "; ".join(exc.problems[:3]) + ("; …" if len(exc.problems) > 3 else "")
    if isinstance(exc, json.JSONDecodeError):
        return f"it is not valid JSON ({exc.msg} at line {exc.lineno})"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    return str(exc) or type(exc).__name__


def _move_aside(path: Path) -> Path:
    """Rename a damaged recovery file so it is no longer offered; where it now is (its old
    place if it cannot be moved)."""
    stem = path.stem.removeprefix("recovery-")
    target = path.with_name(f"damaged-{stem}.json")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"damaged-{stem}-{number}.json")
    try:
        os.replace(path, target)
    except OSError:
        return path
    return target


class Recovery(QObject):
    """Autosaves ``document`` to its recovery file while it has unsaved changes."""

    def __init__(
        self, document: ModelDocument, directory: Path, interval_ms: int = AUTOSAVE_MS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.directory = directory
        self.interval_ms = interval_ms
        self.path = directory / f"recovery-{uuid.uuid4().hex}.json"
        self._lock: QLockFile | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()
        document.modified_changed.connect(lambda modified: None if modified else self.discard())

    def save_now(self) -> bool:
        """Write the recovery file if the document has unsaved changes; True if written."""
        if not self.document.modified:
            return False
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if self._lock is None:
                self._lock = QLockFile(f"{self.path}.lock")
                self._lock.setStaleLockTime(0)
                self._lock.tryLock(0)
            record = {
                "path": self.document.path,
                "saved_at": datetime.now().isoformat(timespec="seconds"),
                "model": self.document.model.to_dict(),
            }
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(tmp, self.path)
        except (OSError, ValueError):
            return False
        return True

    def adopt(self, orphan: Orphan) -> None:
        """Take over ``orphan``'s file and lock: from now on this document autosaves into it,
        and it is deleted only when the document is saved or its changes discarded."""
        self.discard()
        if self._lock is not None:
            self._lock.unlock()
        self.path = orphan.path
        self._lock = orphan.lock

    def discard(self) -> None:
        """Delete the recovery file (the document is saved, or was closed on purpose)."""
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop autosaving, delete the file and release its lock (a normal exit)."""
        self.timer.stop()
        self.discard()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
