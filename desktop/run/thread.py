"""The life of the simulation thread: :func:`launch` a worker in its own QThread, and
:func:`finish` it without ever destroying a thread that is still running (Qt would abort the
process): one that outlives the wait is parked until it ends, and waited for at exit."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QThread, Slot

if TYPE_CHECKING:
    from desktop.run.worker import SimulationWorker

log = logging.getLogger(__name__)


def launch(worker: SimulationWorker) -> QThread:
    """Move ``worker`` to a new QThread, start it, and return the thread.

    The thread quits when the worker stops; the caller keeps both objects alive until
    ``QThread.finished`` (or :meth:`QThread.wait`) and must not delete them before.
    """
    thread = QThread()
    thread.setObjectName("simulation")
    worker.moveToThread(thread)
    thread.started.connect(worker.work)
    worker.worker_stopped.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread


def finish(worker: SimulationWorker, thread: QThread, timeout_ms: int = 2000) -> bool:
    """Stop ``worker`` and wait up to ``timeout_ms`` for ``thread`` to end; True if it did.

    Call from the GUI thread. A thread still running after the wait is never destroyed (Qt
    aborts the whole process when a running QThread is destroyed): it and its worker are
    kept (see :func:`parked`) until the thread ends, and at interpreter exit the process
    waits up to :data:`EXIT_WAIT` seconds more for it, then leaves with status 1 and a
    message rather than abort.
    """
    worker.stop()
    if thread.wait(max(0, timeout_ms)):
        return True
    log.warning("the simulation thread did not stop within %d ms; keeping it until it ends", timeout_ms)
    _Parking.instance().park(thread, worker)
    return False


def parked() -> list[QThread]:
    """The threads :func:`finish` could not wait for and that have not ended yet."""
    return [thread for thread, _ in _Parking.parked]


#: Seconds the process waits at exit for a simulation thread that is still running.
EXIT_WAIT = 5.0


class _Parking(QObject):
    """Holds threads (and their workers) that outlived :func:`finish`, until they end.

    It lives in the GUI thread, so ``QThread.finished`` reaches :meth:`_ended` queued, once
    the thread is done; only then is the reference dropped.
    """

    parked: list[tuple[QThread, SimulationWorker]] = []
    _instance: _Parking | None = None

    @classmethod
    def instance(cls) -> _Parking:
        if cls._instance is None:
            cls._instance = cls()
            atexit.register(_wait_at_exit)
        return cls._instance

    def park(self, thread: QThread, worker: SimulationWorker) -> None:
        self.parked.append((thread, worker))
        thread.finished.connect(self._ended)
        if thread.isFinished():
            self._ended()

    @Slot()
    def _ended(self) -> None:
        for thread, worker in list(self.parked):
            if thread.isFinished():
                thread.wait()
                self.parked.remove((thread, worker))


def _wait_at_exit() -> None:
    deadline = time.monotonic() + EXIT_WAIT
    for thread, _ in list(_Parking.parked):
        if not thread.wait(max(0, round((deadline - time.monotonic()) * 1000))):
            print(
                "queuestudio: the simulation did not stop when asked; leaving without waiting for it",
                file=sys.stderr,
                flush=True,
            )
            os._exit(1)
    _Parking.parked.clear()
