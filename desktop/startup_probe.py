"""A hook that tells when the main window is first on screen, for the start-up benchmark.

``benchmarks/startup.py`` starts the app with ``QUEUESTUDIO_STARTUP_PROBE=FILE`` in its
environment. :func:`watch` (called on the main window before it is shown) then waits for
the window's first paint, writes the wall-clock time (``time.time()``, seconds since the
epoch) to FILE once that paint has been handed to the window system, and ends the event
loop with status 0. Without the variable :func:`watch` does nothing and costs nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

#: The environment variable naming the file that receives the timestamp.
ENV = "QUEUESTUDIO_STARTUP_PROBE"

__all__ = ["ENV", "watch"]


class _FirstPaint(QObject):
    """Event filter: on the window's first paint, record the time once the paint is done."""

    def __init__(self, window: QWidget, out: Path) -> None:
        super().__init__(window)
        self._out = out
        self._seen = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if not self._seen and event.type() == QEvent.Type.Paint:
            self._seen = True
            # A zero timer fires after this paint event has been delivered and flushed.
            QTimer.singleShot(0, self._record)
        return False

    def _record(self) -> None:
        self._out.write_text(f"{time.time():.6f}\n", encoding="utf-8")
        QCoreApplication.exit(0)  # exit, not quit: no close events, no "save changes?" dialog


def watch(window: QWidget) -> None:
    """When ``QUEUESTUDIO_STARTUP_PROBE`` is set, report ``window``'s first paint (see module doc)."""
    target = os.environ.get(ENV)
    if not target or window.property("startup_probe_armed"):
        return
    window.setProperty("startup_probe_armed", True)
    window.installEventFilter(_FirstPaint(window, Path(target)))
