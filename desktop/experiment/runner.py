"""Runs a sweep off the GUI thread through :mod:`engine.experiments`, reporting each point as
its replications come in.

The sweep is the very :class:`engine.experiments.Experiment` that ``queuestudio sweep`` runs
(:func:`engine.experiments.plan_sweep` with the same settings), so its final points are the
CLI's, number for number, on the same seed. The only addition is a watching wrapper around
the executor: as every replication of a point (of the current round, with a precision
target) is in, the point's aggregate so far goes to the GUI through a queued signal, so the
plot fills in point by point. Cancel is honoured within one slice of a replication (in this
process) or one poll of the pool (:data:`engine.experiments.POLL`); the pool's processes are
terminated and joined before the thread ends.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from desktop.background import PROGRESS_INTERVAL
from engine import experiments as ex
from engine.model import Model, ModelError
from engine.replications import aggregate

#: Values at which the theory curve is computed (a smooth curve, not just the points).
THEORY_SAMPLES = 120
#: The interpreter's switch interval (seconds) while a sweep runs: see SweepThread.run.
SWITCH_INTERVAL = 0.0005
#: Longest wall time (seconds) the sweep holds off while the GUI draws a point.
HOLD_LIMIT = 0.5


@dataclass
class SweepRequest:
    """Everything a sweep needs, copied from the panel when Run is pressed."""

    model: Model
    param: str
    values: list[float]
    replications: int | None = 5
    precision: float | None = None
    max_replications: int = ex.MAX_REPLICATIONS
    seed: int | None = None
    end_time: float | None = None
    workers: int = 1
    scheduler: str | None = None
    theory_range: tuple[float, float] | None = None
    integer: bool = False

    def settings(self) -> dict[str, Any]:
        """:class:`engine.experiments.Experiment` keyword arguments, as ``queuestudio sweep``
        builds them from its options (seed: the model's unless one is given)."""
        out: dict[str, Any] = {
            "seed": self.model.simulation.seed if self.seed is None else self.seed,
            "end_time": self.end_time,
            "auto_warmup": self.model.simulation.auto_warmup,
        }
        if self.precision is not None:
            out.update(precision=self.precision, max_replications=self.max_replications)
        else:
            out["replications"] = self.replications or 5
        return out

    def plan(self) -> ex.Experiment:
        """The experiment (ExperimentError for a parameter or value the model refuses)."""
        return ex.plan_sweep(self.model, self.param, self.values, **self.settings())


def theory_curve(
    model: Model, param: str, low: float, high: float, integer: bool, samples: int = THEORY_SAMPLES
) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """Theory's metrics at many values of ``param`` from ``low`` to ``high`` (whole numbers
    only for an integer parameter): ``(xs, {node: {metric: ys}})``, NaN where theory does not
    apply or the model refuses the value."""
    if integer:
        xs = np.arange(np.ceil(low), np.floor(high) + 1)
    else:
        xs = np.linspace(low, high, samples)
    out: dict[str, dict[str, np.ndarray]] = {}
    for i, x in enumerate(xs):
        time.sleep(0)  # let the GUI thread take the GIL between two samples (see SweepThread)
        try:
            values = ex.theory_values(ex.with_param(model, param, float(x)))
        except ex.ExperimentError:
            continue
        for node_id, metrics in values.items():
            for name, value in metrics.items():
                out.setdefault(node_id, {}).setdefault(name, np.full(xs.size, np.nan))[i] = value
    return xs, out


class _Watching(ex.Executor):
    """Passes tasks to ``inner`` and calls ``done(task, result)`` as each comes back."""

    def __init__(self, inner: ex.Executor, done: Any) -> None:
        self.inner = inner
        self.workers = inner.workers
        self._done = done

    def run(
        self, tasks: Sequence[ex.Task], cancelled: ex.Cancelled_ | None = None
    ) -> Iterator[tuple[int, ex.TaskResult]]:
        for index, result in self.inner.run(tasks, cancelled):
            self._done(tasks, tasks[index], result)
            yield index, result

    def close(self) -> None:
        self.inner.close()


class SweepThread(QThread):
    """Runs one :class:`SweepRequest`; :meth:`cancel` from any thread.

    Signals (queued to the GUI): ``theory_ready(xs, curves)``, ``point_ready(index, summary,
    replications)`` each time a point's replications of a round are all in,
    ``progressed(fraction)``, then one of ``succeeded((SweepResult, its to_json()))``, ``failed(message)`` or
    ``was_cancelled()``.
    """

    theory_ready = Signal(object, object)
    point_ready = Signal(int, object, int)
    progressed = Signal(float)
    succeeded = Signal(object)
    failed = Signal(str)
    was_cancelled = Signal()

    def __init__(self, request: SweepRequest, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweep")
        self.request = request
        self._cancel = threading.Event()
        self._last_progress = 0.0
        self._runs: dict[int, dict[int, Any]] = {}
        self._waiting: Counter[int] = Counter()
        self._batch: Sequence[ex.Task] | None = None
        # Set while the GUI has drawn every point sent; cleared when one is sent.
        self._drawn = threading.Event()
        self._drawn.set()

    def cancel(self) -> None:
        """Ask the sweep to stop (it ends within a slice or a poll, keeping nothing)."""
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        """Whether Cancel was asked for."""
        return self._cancel.is_set()

    def mark_drawn(self) -> None:
        """The GUI has drawn the points sent so far (any thread)."""
        self._drawn.set()

    def _cancelled(self) -> bool:
        """Looked at between slices of a replication. Replications run in this thread share
        the GIL with the GUI, whose repaint makes many Python calls: while a point sent is
        not drawn yet, the thread holds off (up to :data:`HOLD_LIMIT`), as the live run's
        worker does; otherwise ``sleep(0)`` offers the GIL at every slice."""
        if not self._drawn.is_set():
            self._drawn.wait(HOLD_LIMIT)
        else:
            time.sleep(0)
        return self._cancel.is_set()

    def _progress(self, fraction: float) -> None:
        now = time.perf_counter()
        if fraction >= 1.0 or now - self._last_progress >= PROGRESS_INTERVAL:
            self._last_progress = now
            self.progressed.emit(fraction)

    def _task_done(self, tasks: Sequence[ex.Task], task: ex.Task, result: ex.TaskResult) -> None:
        if task.probe:
            return
        if tasks is not self._batch:  # a new round: count what each point waits for
            self._batch = tasks
            self._waiting = Counter(t.variant for t in tasks)
        self._runs.setdefault(task.variant, {})[task.replication] = result.results
        self._waiting[task.variant] -= 1
        if self._waiting[task.variant] == 0:
            runs = self._runs[task.variant]
            ordered = [runs[r] for r in sorted(runs)]
            self._drawn.clear()
            self.point_ready.emit(task.variant, aggregate(ordered), len(ordered))

    def run(self) -> None:
        # While this thread computes in Python (the plan, theory, replications in this process)
        # the GUI thread needs the GIL for each of the many Python calls of a repaint; a short
        # switch interval bounds each wait (the default, 5 ms, makes a repaint crawl).
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
        try:
            self._run()
        finally:
            sys.setswitchinterval(interval)

    def _run(self) -> None:
        request = self.request
        try:
            experiment = request.plan()
            if request.theory_range is not None:
                low, high = request.theory_range
                xs, curves = theory_curve(request.model, request.param, low, high, request.integer)
                self._drawn.clear()
                self.theory_ready.emit(xs, curves)
                self._drawn.wait(HOLD_LIMIT)
            if self._cancel.is_set():
                raise ex.Cancelled
            inner = ex.make_executor(request.workers, request.scheduler, start_method="spawn")
            with _Watching(inner, self._task_done) as executor:
                points = experiment.run(executor, progress=self._progress, cancelled=self._cancelled)
        except ex.Cancelled:
            self.was_cancelled.emit()
        except (ex.ExperimentError, ex.TaskFailed, ModelError) as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # an engine bug must reach the user as a message, not kill the app
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            result = ex.SweepResult(request.param, points)
            # The JSON document (with theory at each point) is made here, off the GUI thread.
            self.succeeded.emit((result, result.to_json()))
