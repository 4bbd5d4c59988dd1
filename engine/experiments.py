"""Experiments: many replications of many variants of one model, on one executor.

One run is one sample. An experiment runs replications of several *variants* of a model
(the points of a parameter sweep, or the two scenarios of a comparison) and reports each
metric's mean with the half-width of its 95 % confidence interval, with theory's value
beside it where :mod:`engine.theory` has one.

- **Common random numbers.** Replication ``r`` of every variant uses the same seed, derived
  from the experiment's seed and ``r`` alone (:func:`replication_seed`), so the differences
  between variants are paired: most of the noise of one side is the noise of the other and
  cancels in the difference. The same seed gives the same numbers whatever the executor, the
  number of workers or the order in which tasks finish: results are kept by index.
- **Replications** are a fixed count, or run until a precision target is met (at least
  :data:`MIN_REPLICATIONS`): the 95 % half-width of every station's ``mean_response`` at most
  ``precision · |mean|``, or ``max_replications`` reached; the result says which.
- **Warm-up** may be cut automatically: the first replications of each variant run once as
  *probes* recording the number in system, MSER-5 (:func:`mser5_cut`) cuts the warm-up of
  their average (:func:`common_warmup_cut` says why the average), and every replication then
  measures from that cut, with the same seeds.
- **Executors** (:class:`InProcessExecutor`, :class:`ProcessExecutor`,
  :class:`DaskExecutor`) run tasks and hand back their results as they finish; only metric
  dictionaries travel back, never time series.

Used by ``queuestudio sweep``, ``queuestudio compare``, ``queuestudio run --replications /
--precision / --warmup auto / --scheduler`` and by the desktop.
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.model import Model, ModelError, build, check_document
from engine.model.build import replication_seed, slice_times
from engine.model.schema import KINDS, SIMULATION_FIELDS
from engine.replications import Pool, ReplicationFailed, aggregate
from engine.stats import mean_ci95
from engine.version import queuestudio_version

Results = dict[str, dict[str, Any]]
Progress = Callable[[float], None]
Cancelled_ = Callable[[], bool]

#: Fewest replications a precision target is judged on.
MIN_REPLICATIONS = 5
#: Default cap of replications per variant when running to a precision target.
MAX_REPLICATIONS = 200
#: Most replications (or sweep points) one experiment accepts: beyond this the results
#: alone (a few kB each) would crowd the memory of the process that collects them.
REPLICATIONS_LIMIT = 10_000
POINTS_LIMIT = 10_000
#: The metric a precision target is judged on.
PRECISION_METRIC = "mean_response"
#: Observations per batch in MSER-5.
MSER_BATCH = 5
#: Slices each replication is cut into in this process: the granularity of Cancel.
SLICES = 50
#: Seconds between two looks at ``cancelled()`` while other processes work.
POLL = 0.05


class ExperimentError(ValueError):
    """A parameter, a value or a setting of an experiment that cannot be run (nothing ran)."""


class Cancelled(Exception):
    """Raised when ``cancelled()`` turned true; no results are kept."""


class TaskFailed(RuntimeError):
    """A replication failed: its variant and replication, and why."""


# ------------------------------------------------------------------ parameters
def parse_values(spec: str) -> list[float]:
    """The values of ``V1,V2,…`` or ``START:STOP:STEP`` (STOP included when a step lands on it).

    Raises ExperimentError for text that is not numbers, a step that never reaches STOP, an
    empty list, or more than :data:`POINTS_LIMIT` values.
    """
    text = spec.strip()
    if not text:
        raise ExperimentError("--values is empty: give V1,V2,… or START:STOP:STEP")
    if ":" in text:
        parts = [p.strip() for p in text.split(":")]
        if len(parts) != 3:
            raise ExperimentError(f"--values {spec!r}: a range is START:STOP:STEP, three numbers")
        start, stop, step = (_number(p, spec) for p in parts)
        if step == 0 or (stop - start) * step < 0:
            raise ExperimentError(f"--values {spec!r}: the step {step:g} never goes from {start:g} to {stop:g}")
        count = math.floor((stop - start) / step * (1 + 1e-12) + 1e-9) + 1
        if count > POINTS_LIMIT:
            raise ExperimentError(f"--values {spec!r} gives {count:,} points; at most {POINTS_LIMIT:,}")
        # Computed from the start each time (no drift), rounded to the step's precision.
        digits = max(0, 12 - int(math.floor(math.log10(abs(step)))))
        return [round(start + k * step, digits) for k in range(count)]
    values = [_number(p.strip(), spec) for p in text.split(",") if p.strip()]
    if not values:
        raise ExperimentError(f"--values {spec!r} holds no numbers")
    if len(values) > POINTS_LIMIT:
        raise ExperimentError(f"--values gives {len(values):,} points; at most {POINTS_LIMIT:,}")
    return values


def _number(text: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ExperimentError(f"--values {spec!r}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ExperimentError(f"--values {spec!r}: {text!r} is not a finite number")
    return value


def with_param(model: Model, path: str, value: float) -> Model:
    """A copy of ``model`` with parameter ``path`` set to ``value``.

    ``path`` is ``NODE.PARAM`` (a key of the node's ``params``), ``NODE.PARAM.FIELD`` (a field
    of a distribution or concurrency object; ``mean`` of any distribution scales it to that
    mean) or ``simulation.KEY``. Raises ExperimentError naming what is wrong: an unknown node
    or parameter, a parameter that is not a number, or a value the model refuses.
    """
    variant = model.copy()
    head, _, rest = path.partition(".")
    if not rest:
        raise ExperimentError(f"parameter {path!r}: write NODE.PARAM (e.g. arrivals.rate) or simulation.KEY")
    if head == "simulation" and not any(n.id == "simulation" for n in model.nodes):
        if rest not in SIMULATION_FIELDS:
            raise ExperimentError(f"parameter {path!r}: the simulation block has {', '.join(SIMULATION_FIELDS)}")
        setattr(variant.simulation, rest, int(value) if rest == "seed" else float(value))
    else:
        node = next((n for n in variant.nodes if n.id == head), None)
        if node is None:
            ids = ", ".join(n.id for n in model.nodes)
            raise ExperimentError(f"parameter {path!r}: no node {head!r} in the model (nodes: {ids})")
        name, _, sub = rest.partition(".")
        kind = KINDS.get(node.kind)
        spec = kind.param(name) if kind is not None else None
        if spec is None:
            known = ", ".join(p.name for p in kind.params) if kind is not None else "none"
            raise ExperimentError(f"parameter {path!r}: a {node.kind} has no parameter {name!r} (known: {known})")
        current = node.params.get(name, spec.default)
        if not sub:
            if spec.type not in ("int", "number", "concurrency"):
                hint = f" (sweep {head}.{name}.mean)" if spec.type == "dist" else ""
                raise ExperimentError(f"parameter {path!r} is a {spec.type}, not a number{hint}")
            if spec.type == "concurrency" and isinstance(current, dict):
                raise ExperimentError(
                    f"parameter {path!r} is a {current.get('kind')} concurrency; sweep one of its fields"
                )
            node.params[name] = _typed(value, spec.type in ("int", "concurrency"), path)
        else:
            if not isinstance(current, dict):
                raise ExperimentError(f"parameter {path!r}: {head}.{name} is {current!r}, which has no field {sub!r}")
            node.params[name] = _with_field(current, sub, value, path)
    problems = check_document(variant).errors
    if problems:
        raise ExperimentError(f"{path} = {value:g}: {problems[0]}")
    return variant


def _typed(value: float, integer: bool, path: str) -> int | float:
    if not integer:
        return float(value)
    if not float(value).is_integer():
        raise ExperimentError(f"parameter {path!r} takes whole numbers, got {value:g}")
    return int(value)


def _with_field(spec: dict[str, Any], name: str, value: float, path: str) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    if "dist" in out and name == "mean" and "mean" not in out:
        from engine.distributions import from_spec

        old = from_spec(spec).mean
        if not (math.isfinite(old) and old > 0):
            raise ExperimentError(f"parameter {path!r}: the distribution has no finite mean to scale")
        factor = value / old
        for key in ("value", "low", "high"):
            if key in out:
                out[key] = out[key] * factor
        if "values" in out:
            out["values"] = [v * factor for v in out["values"]]
        return out
    if name not in out or name in ("dist", "kind"):
        fields = ", ".join(k for k in out if k not in ("dist", "kind"))
        raise ExperimentError(f"parameter {path!r}: no field {name!r} here (fields: {fields})")
    integer = isinstance(out[name], int) and not isinstance(out[name], bool)
    out[name] = _typed(value, integer, path)
    return out


# ------------------------------------------------------------------ one task
@dataclass(frozen=True)
class Task:
    """Replication ``replication`` of variant ``variant``: everything a worker needs. A
    ``probe`` runs from time 0 only to record the number in system for the warm-up cut."""

    variant: int
    replication: int
    model: Model
    seed: Any
    end_time: float | None = None
    probe: bool = False


@dataclass
class TaskResult:
    """What travels back from a worker: the metrics, or a probe's number-in-system series
    (at most :data:`PROBE_POINTS` points)."""

    results: Results
    times: np.ndarray | None = None
    in_system: np.ndarray | None = None


#: Most points of the number-in-system series a probe sends back (longer series are
#: averaged in blocks first).
PROBE_POINTS = 20_000


def run_task(task: Task, cancelled: Cancelled_ | None = None) -> TaskResult:
    """Run one task (in any process); ``cancelled()`` is looked at between slices."""
    if task.probe:
        probe = task.model.copy()
        probe.simulation.warmup = 0.0
        run = build(probe, seed=task.seed, end_time=task.end_time, series=True)
        times: list[np.ndarray] = []
        in_system: list[np.ndarray] = []
        for t in slice_times(run.now, run.end_time, SLICES):
            _check(cancelled)
            run.run_until(t)
            _collect(run.drain_series(), times, in_system)
        t_all = np.concatenate(times) if times else np.empty(0)
        n_all = np.concatenate(in_system) if times else np.empty(0)
        block = -(-t_all.size // PROBE_POINTS)
        if block > 1:  # block means; the block's end time stands for it
            size = t_all.size // block * block
            t_all, n_all = t_all[block - 1 : size : block], n_all[:size].reshape(-1, block).mean(axis=1)
        return TaskResult({}, t_all, n_all)
    run = build(task.model, seed=task.seed, end_time=task.end_time)
    for t in slice_times(run.now, run.end_time, SLICES):
        _check(cancelled)
        run.run_until(t)
    return TaskResult(run.results())


def _check(cancelled: Cancelled_ | None) -> None:
    if cancelled is not None and cancelled():
        raise Cancelled


def _collect(batch: Any, times: list[np.ndarray], in_system: list[np.ndarray]) -> None:
    if batch is None or not len(batch):
        return
    total = np.zeros(len(batch))
    for series in batch.values.values():
        total += np.nan_to_num(series["queue_length"]) + np.nan_to_num(series["in_service"])
    times.append(batch.times)
    in_system.append(total)


def mser5_cut(values: np.ndarray, batch: int = MSER_BATCH) -> int:
    """How many leading observations MSER-5 deletes (White's rule).

    The series is cut into batches of ``batch`` observations; for each candidate cut ``d``
    (in batches, over the first half) the marginal standard error is
    ``Σ_{j>d} (Z_j − Z̄_d)² / (m − d)²`` of the batch means ``Z`` that remain, and the cut
    minimising it is chosen (the first such cut on ties).
    """
    x = np.asarray(values, dtype=float)
    m = x.size // batch
    if m < 4:
        return 0
    z = x[: m * batch].reshape(m, batch).mean(axis=1)
    s1 = np.cumsum(z[::-1])[::-1]
    s2 = np.cumsum((z * z)[::-1])[::-1]
    d = np.arange(m // 2 + 1)
    k = (m - d).astype(float)
    sse = np.maximum(s2[d] - s1[d] ** 2 / k, 0.0)
    return int(np.argmin(sse / k**2)) * batch


def warmup_cut(times: np.ndarray, in_system: np.ndarray) -> float:
    """The warm-up (seconds) MSER-5 cuts from a sampled number in system; sample ``i``
    averages the interval that ends at ``times[i]``."""
    deleted = mser5_cut(in_system)
    return 0.0 if deleted == 0 else float(times[deleted - 1])


def common_warmup_cut(probes: Sequence[TaskResult]) -> float:
    """The MSER-5 cut of the number in system averaged over replications' probes.

    Why the average and not each replication's own series: one replication of a heavily
    loaded station wanders far from its mean for long stretches, and MSER-5 on it tends to
    cut such an excursion, not the start-up transient, biasing the estimate (M/M/1 at
    ρ = 0.9, 40 replications of 10,000 s: own cuts lowered the mean response by 0.42 ± 0.26 s
    against theory's 10). Averaged over replications the excursions cancel and the transient
    stands out (the procedure Hoad, Robinson and Davies recommend for MSER-5).
    """
    usable = [p for p in probes if p.times is not None and p.in_system is not None and p.times.size]
    if not usable:
        return 0.0
    size = min(p.times.size for p in usable)  # type: ignore[union-attr]
    mean = np.mean([p.in_system[:size] for p in usable], axis=0)  # type: ignore[index]
    return warmup_cut(usable[0].times[:size], mean)  # type: ignore[index]


# ------------------------------------------------------------------ executors
class Executor:
    """Runs tasks and yields ``(index, TaskResult)`` as each finishes, in any order.

    ``run`` raises :class:`Cancelled` soon after ``cancelled()`` turns true (dropping what is
    still queued) and :class:`TaskFailed` when a task fails or its worker dies.
    """

    #: How many tasks run at once.
    workers = 1

    def run(self, tasks: Sequence[Task], cancelled: Cancelled_ | None = None) -> Iterator[tuple[int, TaskResult]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessExecutor(Executor):
    """Runs every task here, one after another (Cancel is honoured between slices)."""

    def run(self, tasks: Sequence[Task], cancelled: Cancelled_ | None = None) -> Iterator[tuple[int, TaskResult]]:
        for index, task in enumerate(tasks):
            try:
                yield index, run_task(task, cancelled)
            except (Cancelled, ModelError):
                raise
            except Exception as exc:
                raise TaskFailed(f"{_what(task)} failed: {type(exc).__name__}: {exc}") from exc


class ProcessExecutor(Executor):
    """A pool of ``workers`` local processes (default: every core), the same pool as
    :func:`engine.replications.replicate`'s: one task at a time per worker, so a worker
    that dies (killed, out of memory) fails the experiment at once, naming its task.

    ``start_method`` "spawn" is the safe choice in a process with threads, such as a GUI.
    """

    def __init__(self, workers: int | None = None, start_method: str | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._context = multiprocessing.get_context(start_method)

    def run(self, tasks: Sequence[Task], cancelled: Cancelled_ | None = None) -> Iterator[tuple[int, TaskResult]]:
        finished: list[tuple[int, TaskResult]] = []
        pool = Pool(
            self._context,
            min(self.workers, len(tasks)) or 1,
            list(enumerate(tasks)),
            lambda index, result: finished.append((index, result)),
            runner=_pool_task,
        )
        try:
            pool.start()
            while not pool.finished or finished:
                if cancelled is not None and cancelled():
                    raise Cancelled
                try:
                    pool.pump(POLL)
                except ReplicationFailed as exc:  # WorkerDied too: numbered by task
                    task = tasks[exc.replication - 1]
                    raise TaskFailed(f"{_what(task)} failed: {exc.reason}") from None
                while finished:
                    yield finished.pop(0)
        finally:
            pool.close()


def _pool_task(task: Task, _progress: Progress, cancelled: Cancelled_) -> TaskResult:
    """What a :class:`ProcessExecutor` worker does with one task (failures name the task)."""
    try:
        return run_task(task, cancelled)
    except (Cancelled, ModelError):
        raise
    except Exception as exc:
        raise TaskFailed(f"{_what(task)} failed: {type(exc).__name__}: {exc}") from exc


def _what(task: Task) -> str:
    return f"replication {task.replication + 1} of variant {task.variant + 1}"


def _worker_version() -> str:
    """:func:`queuestudio_version` as a worker sees it (sent by reference, run over there)."""
    return queuestudio_version()


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: ``"local"`` starts a ``LocalCluster`` of ``workers`` processes
    here, ``tcp://HOST:PORT`` connects to a running scheduler (``dask scheduler`` and ``dask
    worker`` start one). Needs the optional extra: ``pip install "queuestudio[dask]"``.

    Raises ExperimentError when Dask is missing, the scheduler cannot be reached within
    ``timeout`` seconds, or a worker runs another Queue Studio version.
    """

    def __init__(self, address: str = "local", workers: int | None = None, timeout: float = 5.0) -> None:
        try:
            import distributed
        except ImportError:
            raise ExperimentError('running on a Dask cluster needs Dask: pip install "queuestudio[dask]"') from None
        self._distributed = distributed
        self._cluster = None
        try:
            if address == "local":
                self._cluster = distributed.LocalCluster(
                    n_workers=max(1, workers or os.cpu_count() or 1),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    worker_dashboard_address=None,
                    # No dashboard, and its HTTP server on a free port rather than 8787.
                    scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
                )
                self._client = distributed.Client(self._cluster, timeout=timeout)
            else:
                self._client = distributed.Client(address, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise ExperimentError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            self._check_versions()
        except BaseException:
            self.close()
            raise
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    def _check_versions(self) -> None:
        mine = queuestudio_version()
        try:
            theirs = self._client.run(_worker_version)
        except Exception as exc:
            raise ExperimentError(f"the Dask workers cannot run Queue Studio ({type(exc).__name__}: {exc})") from None
        if not theirs:
            raise ExperimentError("the Dask cluster has no workers")
        wrong = {worker: v for worker, v in theirs.items() if v != mine}
        if wrong:
            listed = ", ".join(f"{w} has {v}" for w, v in sorted(wrong.items()))
            raise ExperimentError(f"the Dask workers must run Queue Studio {mine}: {listed}")

    def run(self, tasks: Sequence[Task], cancelled: Cancelled_ | None = None) -> Iterator[tuple[int, TaskResult]]:
        distributed = self._distributed
        futures = self._client.map(run_task, list(tasks), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        pending = list(futures)
        try:
            while pending:
                if cancelled is not None and cancelled():
                    raise Cancelled
                try:
                    done, not_done = distributed.wait(pending, timeout=POLL, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    continue
                pending = list(not_done)
                for future in done:
                    i = index[future.key]
                    try:
                        result = future.result()
                    except ModelError:
                        raise
                    except Exception as exc:
                        raise TaskFailed(f"{_what(tasks[i])} failed: {type(exc).__name__}: {exc}") from exc
                    yield i, result
        except BaseException:
            self._client.cancel(pending)
            raise

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def make_executor(
    workers: int | None = None, scheduler: str | None = None, start_method: str | None = None
) -> Executor:
    """The executor for ``--workers`` / ``--scheduler``: Dask when a scheduler is named, else a
    process pool, or this process for one worker."""
    if scheduler:
        return DaskExecutor(scheduler, workers)
    if workers == 1:
        return InProcessExecutor()
    return ProcessExecutor(workers, start_method)


# ------------------------------------------------------------------ aggregation
def theory_values(model: Model) -> dict[str, dict[str, float]]:
    """Theory's metrics per node where :mod:`engine.theory` applies (nodes it cannot solve
    are left out)."""
    from engine import theory

    out: dict[str, dict[str, float]] = {}
    try:
        analysed = theory.analyze(model)
    except (ValueError, ArithmeticError):
        return out
    for node_id, value in analysed.items():
        if isinstance(value, str):
            continue
        values = value if isinstance(value, dict) else value.as_dict()
        out[node_id] = {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return out


# ------------------------------------------------------------------ experiments
@dataclass
class Variant:
    """One model of an experiment, with its label (a sweep value or a scenario name)."""

    label: Any
    model: Model


@dataclass
class VariantResult:
    """A variant's replications (by index), their aggregate and what theory says."""

    variant: Variant
    runs: list[Results]
    #: The automatic warm-up cut (seconds), or None when the warm-up was the model's.
    warmup: float | None = None
    target_met: bool | None = None

    @property
    def replications(self) -> int:
        return len(self.runs)

    @property
    def summary(self) -> Results:
        """Means with ``ci95`` half-widths per node."""
        return aggregate(self.runs)


class Experiment:
    """Replications of ``variants`` (see the module's docstring).

    Give ``replications`` (a fixed count) or ``precision`` (a relative half-width target,
    0 < precision < 1, with ``max_replications``). ``seed`` defaults to a fresh one, shared by
    every variant. ``paired`` keeps every variant at the same
    count (a comparison needs it; a sweep lets each point stop when it is precise).
    Raises ExperimentError for settings that cannot run, before anything runs.
    """

    def __init__(
        self,
        variants: Sequence[Variant],
        *,
        replications: int | None = None,
        precision: float | None = None,
        max_replications: int = MAX_REPLICATIONS,
        seed: int | None = None,
        end_time: float | None = None,
        auto_warmup: bool | None = None,
        paired: bool = False,
    ) -> None:
        if not variants:
            raise ExperimentError("an experiment needs at least one model")
        if replications is not None and precision is not None:
            raise ExperimentError("give a number of replications or a precision target, not both")
        if precision is not None and not (isinstance(precision, (int, float)) and 0 < precision < 1):
            raise ExperimentError(f"the precision target must be between 0 and 1 (e.g. 0.05), got {precision!r}")
        if replications is None and precision is None:
            replications = 1
        for name, count in (("replications", replications), ("max_replications", max_replications)):
            if count is not None and not (isinstance(count, int) and 1 <= count <= REPLICATIONS_LIMIT):
                raise ExperimentError(f"{name} must be a whole number from 1 to {REPLICATIONS_LIMIT:,}, got {count!r}")
        if precision is not None and max_replications < MIN_REPLICATIONS:
            raise ExperimentError(f"max_replications must be at least {MIN_REPLICATIONS} with a precision target")
        if end_time is not None and not (math.isfinite(end_time) and end_time > 0):
            raise ExperimentError(f"the end time must be a positive number of seconds, got {end_time!r}")
        for variant in variants:
            warmup = variant.model.simulation.warmup
            end = variant.model.simulation.end_time if end_time is None else end_time
            if not (auto_warmup or variant.model.simulation.auto_warmup) and end <= warmup:
                raise ExperimentError(f"the end time ({end:g}) must be greater than the warmup ({warmup:g})")
        self.variants = list(variants)
        self.replications = replications
        self.precision = precision
        self.max_replications = max_replications
        # One seed for every variant, even when none is given: that is what pairs them.
        self.seed: int = seed if seed is not None else int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
        self.end_time = end_time
        # None: as the models say (``"warmup": "auto"`` in any of them).
        self.auto_warmup = any(v.model.simulation.auto_warmup for v in variants) if auto_warmup is None else auto_warmup
        self.paired = paired

    def seed_of(self, replication: int) -> Any:
        """Replication ``replication``'s seed: the experiment's own when it is a single run
        (the same numbers as running the model once), else :func:`replication_seed`."""
        if self.replications == 1:
            return self.seed
        return replication_seed(self.seed, replication)

    def run(
        self, executor: Executor | None = None, *, progress: Progress | None = None, cancelled: Cancelled_ | None = None
    ) -> list[VariantResult]:
        """Run every replication and return one :class:`VariantResult` per variant, in order.

        ``progress(fraction)`` is called as tasks finish (with a precision target, the
        fraction of the work planned so far; it never goes back); Cancel raises
        :class:`Cancelled`, a failed task :class:`TaskFailed`.
        """
        executor = executor or InProcessExecutor()
        n = len(self.variants)
        first = self.replications if self.precision is None else MIN_REPLICATIONS
        assert first is not None
        tracker = _Tracker(progress, first * n * (2 if self.auto_warmup else 1))
        models = [v.model for v in self.variants]
        cuts: list[float | None] = [None] * n
        if self.auto_warmup:
            probes = [
                Task(v, r, models[v], self.seed_of(r), self.end_time, probe=True)
                for v in range(n)
                for r in range(first)
            ]
            found = self._execute(executor, probes, tracker, cancelled)
            for v in range(n):
                cuts[v] = cut = common_warmup_cut([found[i] for i, task in enumerate(probes) if task.variant == v])
                models[v] = models[v].copy()
                if self.end_time is not None:
                    models[v].simulation.end_time = self.end_time
                models[v].simulation.warmup = cut
        runs: list[list[Results]] = [[] for _ in range(n)]
        counts = {v: (0, first) for v in range(n)}
        while counts:
            tasks = [
                Task(v, r, models[v], self.seed_of(r), self.end_time)
                for v, (start, stop) in sorted(counts.items())
                for r in range(start, stop)
            ]
            for task, result in zip(tasks, self._execute(executor, tasks, tracker, cancelled)):
                runs[task.variant].append(result.results)  # tasks go by replication: in order
            counts = self._more(runs) if self.precision is not None else {}
            tracker.planned += sum(stop - start for start, stop in counts.values())
        out = [VariantResult(self.variants[v], runs[v], cuts[v]) for v in range(n)]
        if self.precision is not None:
            for point in out:
                point.target_met = self._needed(point.runs) <= point.replications
        return out

    @staticmethod
    def _execute(
        executor: Executor, tasks: list[Task], tracker: _Tracker, cancelled: Cancelled_ | None
    ) -> list[TaskResult]:
        """Every task's result, in the order of ``tasks`` whatever the order they finish in."""
        results: list[TaskResult | None] = [None] * len(tasks)
        for index, result in executor.run(tasks, cancelled):
            results[index] = result
            tracker.advance()
        return results  # type: ignore[return-value]

    def _needed(self, runs: list[Results]) -> int:
        """Replications the precision target needs, judged on the runs so far."""
        assert self.precision is not None
        needed = len(runs)
        for node_id, metrics in runs[0].items():
            if PRECISION_METRIC not in metrics:
                continue
            mean, half = mean_ci95([r[node_id][PRECISION_METRIC] for r in runs])
            if not math.isfinite(mean) or mean == 0:
                continue
            if not math.isfinite(half):
                return self.max_replications
            target = self.precision * abs(mean)
            if half > target:
                needed = max(needed, math.ceil(len(runs) * (half / target) ** 2))
        return needed

    def _more(self, runs: list[list[Results]]) -> dict[int, tuple[int, int]]:
        """Further replications per variant: enough to reach the target by the estimate so
        far, at least one more and at most doubling, never past the maximum."""
        wanted = {}
        for v, done in enumerate(runs):
            have = len(done)
            need = self._needed(done)
            if need > have and have < self.max_replications:
                wanted[v] = (have, min(self.max_replications, max(have + 1, min(need, 2 * have))))
        if self.paired and wanted:
            stop = max(stop for _, stop in wanted.values())
            return {v: (len(runs[v]), stop) for v in range(len(runs)) if len(runs[v]) < stop}
        return wanted


class _Tracker:
    """Progress as the share of planned tasks done, never going back."""

    def __init__(self, progress: Progress | None, planned: int) -> None:
        self.progress = progress
        self.planned = planned
        self.done = 0
        self.shown = 0.0

    def advance(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.shown = max(self.shown, self.done / self.planned)
            self.progress(self.shown)


# ------------------------------------------------------------------ sweeps and comparisons
@dataclass
class SweepResult:
    """A sweep of ``param`` over ``values``: one :class:`VariantResult` per value."""

    param: str
    points: list[VariantResult]

    def to_json(self) -> dict[str, Any]:
        """The ``sweep --json`` document (see DESIGN.md, Experiments)."""
        out = []
        for point in self.points:
            theory = theory_values(point.variant.model)
            nodes = {}
            for node_id, metrics in point.summary.items():
                nodes[node_id] = {**metrics, "ci95": metrics.get("ci95", {}), "theory": theory.get(node_id, {})}
            entry: dict[str, Any] = {"value": point.variant.label, "replications": point.replications, "nodes": nodes}
            if point.target_met is not None:
                entry["target_met"] = point.target_met
            if point.warmup is not None:
                entry["warmup"] = point.warmup
            out.append(entry)
        return {"param": self.param, "points": out}

    def csv_rows(self) -> Iterator[tuple[Any, ...]]:
        """Rows of ``value,node,metric,mean,ci95,theory`` (empty cells where there is none)."""
        for point in self.to_json()["points"]:
            for node_id, metrics in point["nodes"].items():
                for name, mean in metrics.items():
                    if name in ("ci95", "theory"):
                        continue
                    yield (
                        point["value"],
                        node_id,
                        name,
                        mean,
                        metrics["ci95"].get(name, ""),
                        metrics["theory"].get(name, ""),
                    )


def plan_sweep(model: Model, param: str, values: Sequence[float], **settings: Any) -> Experiment:
    """The experiment of a sweep of ``param`` over ``values``, every point checked before
    anything runs; ``settings`` are :class:`Experiment`'s keyword arguments. Run it with
    ``SweepResult(param, experiment.run(executor))``."""
    return Experiment([Variant(value, with_param(model, param, value)) for value in values], **settings)


@dataclass
class Comparison:
    """Paired replications of scenarios A and B."""

    a: VariantResult
    b: VariantResult

    @property
    def replications(self) -> int:
        return self.a.replications

    def differences(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Per node both have and metric: a, b, the mean of the paired difference b − a, its
        95 % half-width and whether the interval excludes 0."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for node_id, metrics in self.a.runs[0].items():
            if node_id not in self.b.runs[0]:
                continue
            rows = {}
            for name in metrics:
                if name not in self.b.runs[0][node_id]:
                    continue
                a_vals = [r[node_id][name] for r in self.a.runs]
                b_vals = [r[node_id][name] for r in self.b.runs]
                diffs = [y - x for x, y in zip(a_vals, b_vals) if _finite(x) and _finite(y)]
                diff, half = mean_ci95(diffs)
                rows[name] = {
                    "a": mean_ci95(a_vals)[0],
                    "b": mean_ci95(b_vals)[0],
                    "diff": diff,
                    "ci95": half,
                    "significant": bool(math.isfinite(half) and abs(diff) > half),
                }
            out[node_id] = rows
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``compare --json`` document (see DESIGN.md, Experiments)."""
        out: dict[str, Any] = {"replications": self.replications, "nodes": self.differences()}
        if self.a.target_met is not None:
            out["target_met"] = bool(self.a.target_met and self.b.target_met)
        return out


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def plan_comparison(a: Model, b: Model, **settings: Any) -> Experiment:
    """The experiment of scenarios ``a`` and ``b``, paired on common random numbers. Run it
    with ``Comparison(*experiment.run(executor))``."""
    return Experiment([Variant("a", a), Variant("b", b)], paired=True, **settings)


__all__ = [
    "MAX_REPLICATIONS",
    "MIN_REPLICATIONS",
    "Cancelled",
    "Comparison",
    "DaskExecutor",
    "Executor",
    "Experiment",
    "ExperimentError",
    "InProcessExecutor",
    "ProcessExecutor",
    "SweepResult",
    "Task",
    "TaskFailed",
    "TaskResult",
    "Variant",
    "VariantResult",
    "common_warmup_cut",
    "make_executor",
    "mser5_cut",
    "parse_values",
    "plan_comparison",
    "plan_sweep",
    "replication_seed",
    "run_task",
    "theory_values",
    "warmup_cut",
    "with_param",
]
