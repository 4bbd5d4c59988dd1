"""Independent replications of a model, and their means with 95 % confidence half-widths.

:func:`replicate` runs ``count`` copies of a model with independent seeds (derived from one
seed by :func:`~engine.model.replication_seeds`, so the same seed gives the same results)
in this process or in a pool of processes, reporting progress and honouring cancellation;
:func:`aggregate` combines their metrics into the shape the CLI and the desktop show.
Used by ``queuestudio run --replications`` and by the desktop's Run Replications.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

from engine.metrics import SeriesBatch
from engine.model import Model, build, replication_seeds
from engine.model.build import slice_times
from engine.stats import mean_ci95

Results = dict[str, dict[str, Any]]
#: Slices each in-process replication is cut into: the granularity of progress and of Cancel.
SLICES = 200
#: Seconds between two looks at ``cancelled()`` while a pool of processes works.
POLL = 0.05


class Cancelled(Exception):
    """Raised by :func:`replicate` when ``cancelled()`` turned true; no results are kept."""


def run_once(
    model: Model,
    seed: Any,
    end_time: float | None = None,
    *,
    progress: Callable[[float], None] | None = None,
    series: Callable[[SeriesBatch], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Results:
    """Run one replication and return ``{node id: metrics}``.

    ``progress(fraction)`` and ``cancelled()`` are called between slices (raising
    :class:`Cancelled` when it returns true); ``series`` receives the sampled time series as
    it is drained, if given.
    """
    run = build(model, seed=seed, end_time=end_time, series=series is not None)
    for k, t in enumerate(slice_times(run.now, run.end_time, SLICES), start=1):
        if cancelled is not None and cancelled():
            raise Cancelled
        run.run_until(t)
        if series is not None:
            batch = run.drain_series()
            if batch is not None and len(batch):
                series(batch)
        if progress is not None:
            progress(k / SLICES)
    return run.results()


def _run_job(job: tuple[Model, Any, float | None]) -> Results:
    model, seed, end_time = job
    return run_once(model, seed, end_time)


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
) -> list[Results]:
    """Run ``count`` independent replications of ``model`` and return their results in order.

    ``seed`` defaults to the model's; one replication uses it as is (the same numbers as a
    single run), several use seeds derived from it. With ``workers`` > 1 the replications
    run in a pool of that many processes, started by ``start_method`` ("spawn" is the safe
    choice in a process with threads, such as a GUI); the first one runs in this process
    when ``series`` wants its time series. ``progress(fraction)`` is called as work
    completes; when ``cancelled()`` turns true, the pool is terminated and
    :class:`Cancelled` raised.
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    base = model.simulation.seed if seed is None else seed
    seeds: list[Any] = [base] if count == 1 else list(replication_seeds(base, count))
    runs: list[Results] = []

    def report(fraction_of_current: float = 0.0) -> None:
        if progress is not None:
            progress((len(runs) + fraction_of_current) / count)

    if workers == 1 or count == 1 or series is not None:
        runs.append(run_once(model, seeds[0], end_time, progress=report, series=series, cancelled=cancelled))
    if workers == 1 or count == 1:
        for s in seeds[len(runs) :]:
            runs.append(run_once(model, s, end_time, progress=report, cancelled=cancelled))
        return runs
    jobs = [(model, s, end_time) for s in seeds[len(runs) :]]
    context = multiprocessing.get_context(start_method)
    pool = context.Pool(min(workers, len(jobs)))
    try:
        pending = [pool.apply_async(_run_job, (job,)) for job in jobs]
        pool.close()
        for result in pending:
            while not result.ready():
                if cancelled is not None and cancelled():
                    raise Cancelled
                result.wait(POLL)
            runs.append(result.get())
            report()
    finally:
        pool.terminate()
        pool.join()
    return runs


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
