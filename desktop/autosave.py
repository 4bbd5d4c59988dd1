"""Crash recovery: the unsaved document is written to a recovery file every few seconds.

Each running window owns one recovery file and holds a :class:`QLockFile` next to it. A
recovery file whose lock can be taken belongs to a process that is gone (it crashed, or
was killed): the next start offers to restore it. A clean save or a normal exit deletes
the file.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer

from desktop.document import ModelDocument
from engine.model import Model, ModelError, model_from_dict

AUTOSAVE_MS = 5000
ENV_DIR = "QUEUESTUDIO_RECOVERY_DIR"


def default_directory() -> Path:
    """Where recovery files go: ``$QUEUESTUDIO_RECOVERY_DIR``, else the app's data folder."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or tempfile.gettempdir()) / "recovery"


@dataclass
class Orphan:
    """A recovery file left behind by a process that did not exit normally."""

    path: Path
    original_path: str | None
    saved_at: str
    data: dict[str, Any]
    lock: QLockFile

    def load(self) -> Model:
        """The model it holds (ModelError if it is damaged)."""
        return model_from_dict(self.data, source=str(self.path), check_graph=False)

    def remove(self) -> None:
        """Delete the file (after restoring it, or when the user declines)."""
        self.path.unlink(missing_ok=True)
        self.lock.unlock()


def orphans(directory: Path) -> list[Orphan]:
    """Recovery files in ``directory`` whose owner is gone, newest first; each is claimed."""
    found = []
    for path in sorted(directory.glob("recovery-*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        lock = QLockFile(f"{path}.lock")
        lock.setStaleLockTime(0)
        if not lock.tryLock(0):
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            found.append(Orphan(path, record.get("path"), record.get("saved_at", ""), record["model"], lock))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            path.unlink(missing_ok=True)
            lock.unlock()
    return found


class Recovery(QObject):
    """Autosaves ``document`` to its recovery file while it has unsaved changes."""

    def __init__(
        self, document: ModelDocument, directory: Path, interval_ms: int = AUTOSAVE_MS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.directory = directory
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


def restore(orphan: Orphan) -> Model | None:
    """The orphan's model, or None when it cannot be read (the file is removed either way)."""
    try:
        return orphan.load()
    except ModelError:
        return None
    finally:
        orphan.remove()
