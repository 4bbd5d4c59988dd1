"""Work that runs off the GUI thread and reports back through queued signals: replications,
a comparison of A and B (a sweep has its own thread, which paces itself to the plot); and
:func:`stop_with_window`, which ends such work before its window goes away."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QThread, Signal
from PySide6.QtWidgets import QApplication, QWidget

from engine.model import ModelError

#: Seconds between two progress reports (the last, at 100 %, always goes out).
PROGRESS_INTERVAL = 0.1


class BackgroundJob(QThread):
    """Runs :meth:`work` in its thread: ``succeeded(result)``, ``failed(message)`` or
    ``was_cancelled()`` when it ends, and ``progressed(fraction)`` at most every
    :data:`PROGRESS_INTERVAL` seconds on the way. :meth:`cancel` may be called from any thread;
    :meth:`work` passes :meth:`report` and :meth:`is_cancelled` to the engine."""

    progressed = Signal(float)
    succeeded = Signal(object)
    failed = Signal(str)
    was_cancelled = Signal()

    #: Exceptions that mean "cancelled" (the engine's own ``Cancelled``).
    cancelled_errors: tuple[type[BaseException], ...] = ()
    #: Exceptions whose message is shown as it is (anything else is an engine bug, shown with its type).
    expected_errors: tuple[type[BaseException], ...] = (ModelError,)

    def __init__(self, name: str, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._cancel = threading.Event()
        self._last_progress = 0.0

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, fraction: float) -> None:
        now = time.perf_counter()
        if fraction >= 1.0 or now - self._last_progress >= PROGRESS_INTERVAL:
            self._last_progress = now
            self.progressed.emit(fraction)

    def work(self) -> Any:  # pragma: no cover - every job defines it
        raise NotImplementedError

    def run(self) -> None:
        try:
            result = self.work()
        except self.cancelled_errors:
            self.was_cancelled.emit()
        except self.expected_errors as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # an engine bug must reach the user as a message, not kill the app
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit(result)


class _WhenHidden(QObject):
    """Calls ``stop`` when the window is hidden by the program: a close the window accepted
    hides it. Not the Close event itself, which the window may still refuse (unsaved changes,
    Cancel); a minimised window is hidden spontaneously and its work goes on."""

    def __init__(self, window: QWidget, stop: Callable[[], None]) -> None:
        super().__init__(window)
        self._stop = stop

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Hide and not event.spontaneous():
            self._stop()
        return False


def stop_with_window(window: QWidget, stop: Callable[[], None]) -> None:
    """Call ``stop`` (which ends a feature's threads and processes and waits for them) when
    ``window`` closes or the application quits, so nothing outlives the window."""
    window.installEventFilter(_WhenHidden(window, stop))
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop)
