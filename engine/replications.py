"""Independent replications of a model, and their means with 95 % confidence half-widths.

:func:`replicate` runs ``count`` copies of a model with independent seeds (derived from one
seed by :func:`~engine.model.replication_seeds`, so the same seed gives the same results)
in this process or in a pool of processes, reporting progress and honouring cancellation;
:func:`aggregate` combines their metrics into the shape the CLI and the desktop show.
Used by ``queuestudio run --replications`` and by the desktop's Run Replications.

A replication is driven in slices cut by wall-clock time (:class:`Slicer`), not by
simulated time: each slice takes about :data:`SLICE_SECONDS`, so progress and Cancel
answer within a fraction of a second whatever the end time (``1e15`` s included). The
slicing never changes the results. A pool worker that dies (killed, out of memory) is
reported at once as :class:`WorkerDied` naming its replication; the other workers are
stopped and nothing hangs.
"""

from __future__ import annotations

import math
import multiprocessing
import pickle
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from engine.metrics import SeriesBatch
from engine.model import Model, build, replication_seeds
from engine.simulation import SimulationStalled
from engine.stats import mean_ci95

Results = dict[str, dict[str, Any]]
#: Wall-clock seconds one slice of a replication aims at: the granularity of progress and Cancel.
SLICE_SECONDS = 0.05
#: Seconds between two looks at ``cancelled()`` and at the workers while a pool works.
POLL = 0.05
#: Most replications one call may run (the CLI refuses more): results stay small.
MAX_REPLICATIONS = 10_000
#: Most worker processes one call may start.
MAX_WORKERS = 256
#: Seconds between two progress messages from one pool worker.
_WORKER_PROGRESS = 0.1


class Cancelled(Exception):
    """Raised by :func:`replicate` when ``cancelled()`` turned true; no results are kept."""


class ReplicationFailed(RuntimeError):
    """A replication could not finish; ``replication`` is its number (from 1)."""

    def __init__(self, replication: int, reason: str) -> None:
        super().__init__(f"replication {replication} failed: {reason}")
        self.replication = replication
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.replication, self.reason))


class WorkerDied(ReplicationFailed):
    """The process running a replication ended without an answer (killed, out of memory…).

    ``exitcode`` is the process's exit code (negative: the signal that ended it).
    """

    def __init__(self, replication: int, exitcode: int | None) -> None:
        super().__init__(replication, _death(exitcode))
        self.exitcode = exitcode

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.replication, self.exitcode))


def _death(exitcode: int | None) -> str:
    if exitcode is None:
        return "worker process stopped answering"
    if exitcode < 0:
        try:
            name = f"signal {-exitcode} ({signal.Signals(-exitcode).name})"
        except ValueError:
            name = f"signal {-exitcode}"
        return f"worker process killed by {name}"
    return f"worker process exited with code {exitcode}"


# ------------------------------------------------------------------ slices
class Slicer:
    """Cuts a run from ``start`` to ``end`` (simulated seconds) into slices of about
    ``target`` wall seconds each.

    The first slice is tiny; each next one is the last one scaled by how far its wall time
    fell short of the target (at most ``growth`` times longer) or overshot it (at most 4
    times shorter). ``clock`` is injectable for tests. Usage: ``while not s.done:
    run_until(s.next_stop()); s.finished_slice()``.
    """

    def __init__(
        self,
        start: float,
        end: float,
        *,
        target: float = SLICE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        growth: float = 16.0,
    ) -> None:
        self.start = float(start)
        self.end = float(end)
        self.target = target
        self.clock = clock
        self.growth = growth
        self.now = self.start
        remaining = self.end - self.start
        self.span = min(remaining * 1e-12, 1e-6) if remaining > 0 else 0.0
        self._began = 0.0

    @property
    def done(self) -> bool:
        return self.now >= self.end

    @property
    def fraction(self) -> float:
        """The share of ``start``…``end`` reached."""
        if self.end <= self.start:
            return 1.0
        return min(1.0, (self.now - self.start) / (self.end - self.start))

    def next_stop(self) -> float:
        """Where the next slice ends (strictly after the last one, at most ``end``)."""
        stop = self.now + self.span
        if stop <= self.now:  # a span below the float spacing at this time
            stop = math.nextafter(self.now, math.inf)
        self.now = min(stop, self.end)
        self._began = self.clock()
        return self.now

    def finished_slice(self) -> None:
        """Adapt the next slice's length to the wall time this one took."""
        elapsed = self.clock() - self._began
        factor = self.growth if elapsed <= 0 else min(self.growth, max(1 / 4, self.target / elapsed))
        self.span = max(self.span * factor, 1e-12)


def run_once(
    model: Model,
    seed: Any,
    end_time: float | None = None,
    *,
    progress: Callable[[float], None] | None = None,
    series: Callable[[SeriesBatch], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
    slice_seconds: float = SLICE_SECONDS,
) -> Results:
    """Run one replication and return ``{node id: metrics}``.

    ``progress(fraction)`` and ``cancelled()`` are called between slices of about
    ``slice_seconds`` of wall time (raising :class:`Cancelled` when it returns true);
    ``series`` receives the sampled time series as it is drained, if given. Errors of the
    run (``SimulationStalled``) propagate.
    """
    run = build(model, seed=seed, end_time=end_time, series=series is not None)
    slicer = Slicer(run.now, run.end_time, target=slice_seconds, clock=clock)
    while True:
        if cancelled is not None and cancelled():
            raise Cancelled
        if slicer.done:
            break
        run.run_until(slicer.next_stop())
        slicer.finished_slice()
        if series is not None:
            batch = run.drain_series()
            if batch is not None and len(batch):
                series(batch)
        if progress is not None:
            progress(slicer.fraction)
    return run.results()


# ------------------------------------------------------------------ the pool
class _PortableStall:
    """A :class:`SimulationStalled` on its way from a worker (which pickles by its message only)."""

    def __init__(self, exc: SimulationStalled) -> None:
        self.fields = (exc.time, exc.nodes, exc.events, exc.advanced, exc.others)

    def rebuild(self) -> SimulationStalled:
        return SimulationStalled(*self.fields)


def _portable(exc: BaseException, replication: int) -> Any:
    """``exc`` if it survives pickling, a stall as its fields, anything else as a
    :class:`ReplicationFailed` saying what it was."""
    if isinstance(exc, SimulationStalled):
        return _PortableStall(exc)
    try:
        again = pickle.loads(pickle.dumps(exc))
        if type(again) is type(exc) and str(again) == str(exc):
            return exc
    except Exception:  # noqa: BLE001, S110 - anything that does not travel is described instead
        pass
    return ReplicationFailed(replication, f"{type(exc).__name__}: {exc}")


def _run_replication(
    job: tuple[Model, Any, float | None], progress: Callable[[float], None], cancelled: Callable[[], bool]
) -> Results:
    """A pool job of :func:`replicate`: one replication ``(model, seed, end_time)``."""
    model, seed, end_time = job
    return run_once(model, seed, end_time, progress=progress, cancelled=cancelled)


#: What a pool process does with one job: ``runner(job, progress, cancelled)``, a
#: module-level function (a spawned worker imports it by name).
Runner = Callable[[Any, Callable[[float], None], Callable[[], bool]], Any]


def _worker(conn: Connection, runner: Runner = _run_replication) -> None:
    """A pool process: runs ``(index, job)`` pairs through ``runner`` until told ``None``."""
    # Ctrl-C goes to the whole process group: the parent handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits its parent's handlers and blocked signals (see Pool.start);
    # SIGTERM (from close()) must just end it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    parent = multiprocessing.parent_process()
    last = 0.0

    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        index, payload = job

        def progress(fraction: float, index: int = index) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= _WORKER_PROGRESS:
                last = now
                conn.send(("progress", index, fraction))

        def orphaned() -> bool:
            return parent is not None and not parent.is_alive()

        try:
            results = runner(payload, progress, orphaned)
        except Cancelled:
            return
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
            message: tuple[Any, ...] = ("error", index, _portable(exc, index + 1))
        else:
            message = ("done", index, results)
        try:
            conn.send(message)
        except (BrokenPipeError, OSError):
            return


class Pool:
    """Worker processes fed one job at a time, so a dead one names its job: the process
    pool of :func:`replicate` and of :class:`engine.experiments.ProcessExecutor`.

    ``jobs`` are ``(index, job)`` pairs run by ``runner`` in the workers; each result goes
    to ``deliver(index, result)`` as :meth:`pump` takes it in. A worker that dies raises
    :class:`WorkerDied`, an error in a job is raised as it was (see :func:`_portable`).
    """

    def __init__(
        self,
        context: Any,
        size: int,
        jobs: list[tuple[int, Any]],
        deliver: Callable[[int, Any], None],
        runner: Runner = _run_replication,
    ) -> None:
        self.runner = runner
        self.jobs = list(reversed(jobs))
        self.deliver = deliver
        self.done = 0
        self.fractions: dict[int, float] = {}
        self.workers: list[tuple[Any, Connection]] = []
        self.running: dict[int, int] = {}  # worker slot -> job index
        self.context = context
        self.size = size

    def start(self) -> None:
        """Start the workers and hand each its first replication.

        Ctrl-C and SIGTERM are held back meanwhile: one that lands inside ``fork()`` is
        swallowed by an at-fork hook and the run would go on. They arrive right after."""
        held = {signal.SIGINT, getattr(signal, "SIGTERM", signal.SIGINT)}
        blocking = hasattr(signal, "pthread_sigmask")
        if blocking:
            signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            for _ in range(self.size):
                mine, theirs = self.context.Pipe()
                process = self.context.Process(
                    target=_worker, args=(theirs, self.runner), daemon=True, name="replication"
                )
                self.workers.append((process, mine))
                process.start()
                theirs.close()
        finally:
            if blocking:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, held)
        for slot in range(self.size):
            self._feed(slot)

    @property
    def finished(self) -> bool:
        return not self.jobs and not self.running

    def _feed(self, slot: int) -> None:
        process, conn = self.workers[slot]
        if self.jobs:
            job = self.jobs.pop()
            self.running[slot] = job[0]
            self.fractions[job[0]] = 0.0
            try:
                conn.send(job)
            except OSError:  # the worker is dead: pump() reports it through its sentinel
                pass
        else:
            try:
                conn.send(None)
            except OSError:
                pass

    def pump(self, timeout: float) -> None:
        """Take in what the workers sent within ``timeout`` seconds; raise if one died or failed."""
        live = [slot for slot in self.running]
        if not live:
            return
        waitables: list[Any] = []
        for slot in live:
            process, conn = self.workers[slot]
            waitables += [conn, process.sentinel]
        ready = wait(waitables, timeout)
        for slot in live:
            process, conn = self.workers[slot]
            while slot in self.running and conn.poll():
                try:
                    kind, index, payload = conn.recv()
                except (EOFError, OSError, pickle.UnpicklingError):
                    break
                if kind == "progress":
                    self.fractions[index] = payload
                elif kind == "done":
                    self.done += 1
                    self.fractions.pop(index, None)
                    self.deliver(index, payload)
                    del self.running[slot]
                    self._feed(slot)
                else:
                    raise payload.rebuild() if isinstance(payload, _PortableStall) else payload
            if slot in self.running and process.sentinel in ready:
                process.join(1.0)
                raise WorkerDied(self.running[slot] + 1, process.exitcode)

    def progress(self) -> float:
        """Replications finished plus the fractions of those running."""
        return self.done + sum(self.fractions.values())

    def close(self) -> None:
        """Stop every worker at once (results not yet taken are dropped)."""
        for process, _conn in self.workers:
            if process.pid is not None and process.is_alive():
                process.terminate()
        for process, conn in self.workers:
            if process.pid is None:  # never started (interrupted while starting the pool)
                conn.close()
                continue
            process.join(2.0)
            if process.is_alive():  # pragma: no cover - a worker that ignores SIGTERM
                process.kill()
                process.join()
            conn.close()


class _InOrder:
    """Hands ``(index, results)`` on to ``sink`` in index order, holding early arrivals."""

    def __init__(self, sink: Callable[[int, Results], None]) -> None:
        self.sink = sink
        self.next = 0
        self.waiting: dict[int, Results] = {}

    def __call__(self, index: int, results: Results) -> None:
        self.waiting[index] = results
        while self.next in self.waiting:
            self.sink(self.next, self.waiting.pop(self.next))
            self.next += 1


def replicate(
    model: Model,
    count: int,
    *,
    seed: Any = None,
    end_time: float | None = None,
    workers: int = 1,
    start_method: str | None = None,
    progress: Callable[[float], None] | None = None,
    series: Callable[[SeriesBatch], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    collect: Callable[[int, Results], None] | None = None,
) -> list[Results]:
    """Run ``count`` independent replications of ``model`` and return their results in order.

    ``seed`` defaults to the model's; one replication uses it as is (the same numbers as a
    single run), several use seeds derived from it. With ``workers`` > 1 the replications
    run in that many processes, started by ``start_method`` ("spawn" is the safe choice in
    a process with threads, such as a GUI); when ``series`` wants the first replication's
    time series, that one runs in this process meanwhile (and the pool has one process
    fewer). ``progress(fraction)`` is called as work advances; when ``cancelled()`` turns
    true the workers are stopped and :class:`Cancelled` raised. A worker that dies raises
    :class:`WorkerDied` promptly (the replication is not retried), an error in a
    replication is raised as it was (or as :class:`ReplicationFailed` if it cannot travel
    between processes); the other workers are stopped either way.

    With ``collect``, each replication's results go to ``collect(index, results)`` in
    replication order as they are ready, and the list returned is empty: a
    :class:`Summary` then keeps many replications in little memory.

    ``count`` is at most :data:`MAX_REPLICATIONS` and ``workers`` at most
    :data:`MAX_WORKERS` (ValueError beyond). Only each replication's metric dicts are
    kept, never its series.
    """
    if not 1 <= count <= MAX_REPLICATIONS:
        raise ValueError(f"count must be from 1 to {MAX_REPLICATIONS:,}, got {count}")
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be from 1 to {MAX_WORKERS}, got {workers}")
    base = model.simulation.seed if seed is None else seed
    seeds: list[Any] = [base] if count == 1 else list(replication_seeds(base, count))
    runs: list[Results] = []
    feed = _InOrder(collect if collect is not None else lambda _index, results: runs.append(results))

    if workers == 1 or count == 1:

        def report(fraction_of_current: float = 0.0) -> None:
            if progress is not None:
                progress((feed.next + fraction_of_current) / count)

        for index, s in enumerate(seeds):
            feed(
                index,
                run_once(
                    model, s, end_time, progress=report, series=series if index == 0 else None, cancelled=cancelled
                ),
            )
        return runs

    local = 1 if series is not None else 0
    jobs: list[tuple[int, Any]] = [(i, (model, seeds[i], end_time)) for i in range(local, count)]
    size = min(workers - local if local else workers, len(jobs))
    context = multiprocessing.get_context(start_method)
    pool = Pool(context, max(size, 1), jobs, feed)
    first_done = False

    def overall(fraction_of_first: float = 0.0) -> None:
        pool.pump(0)
        if progress is not None:
            progress((pool.progress() + fraction_of_first + first_done) / count)

    try:
        pool.start()
        if local:
            feed(0, run_once(model, seeds[0], end_time, progress=overall, series=series, cancelled=cancelled))
            first_done = True
        while not pool.finished:
            if cancelled is not None and cancelled():
                raise Cancelled
            pool.pump(POLL)
            overall()
    finally:
        pool.close()
    return runs


class Summary:
    """Many replications' metrics in little memory: each replication becomes one row of
    floats (8 bytes a value, against some 250 for a value in a dict of dicts), and
    :meth:`result` gives exactly what :func:`aggregate` gives for the same replications.
    Use as ``replicate(..., collect=summary.add)``.
    """

    def __init__(self) -> None:
        self.first: Results | None = None
        self.layout: list[tuple[str, str]] = []
        self.rows: list[np.ndarray] = []

    def add(self, index: int, results: Results) -> None:
        if self.first is None:
            self.first = results
            self.layout = [(node_id, name) for node_id, metrics in results.items() for name in metrics]
        self.rows.append(np.array([_number(results[n][k]) for n, k in self.layout], dtype=float))

    def __len__(self) -> int:
        return len(self.rows)

    def result(self) -> Results:
        """Means with ``ci95`` half-widths (the one replication as it was, if only one)."""
        if self.first is None:
            raise ValueError("no replication was added")
        if len(self.rows) == 1:
            return self.first
        table = np.vstack(self.rows)
        out: Results = {}
        for column, (node_id, name) in enumerate(self.layout):
            mean, half = mean_ci95(table[:, column].tolist())
            metrics = out.setdefault(node_id, {"ci95": {}})
            metrics[name] = mean
            metrics["ci95"][name] = half
        for metrics in out.values():
            metrics["ci95"] = metrics.pop("ci95")  # last, as aggregate() has it
        return out


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def aggregate(runs: list[Results]) -> Results:
    """Mean of each metric over replications, with ``ci95`` half-widths when there are several."""
    if len(runs) == 1:
        return runs[0]
    out: Results = {}
    for node_id in runs[0]:
        metrics: dict[str, Any] = {}
        ci: dict[str, float] = {}
        for name in runs[0][node_id]:
            mean, half = mean_ci95([r[node_id][name] for r in runs])
            metrics[name] = mean
            ci[name] = half
        metrics["ci95"] = ci
        out[node_id] = metrics
    return out
