"""The experiment executors side by side: in-process, a local process pool, a Dask cluster.

Run: ``python benchmarks/experiments.py [--tasks 40] [--task-seconds 0.5] [--big 1000]``.

Prints, measured in one run on this machine:

- the wall time of the same sweep (``--tasks`` tasks of about ``--task-seconds`` each: an
  M/M/1 λ sweep with replications) in this process, on a pool of 1 and of 2 local
  processes, and on a 2-process Dask ``LocalCluster`` (cluster start-up not counted), with
  the speed-ups: 2 local workers against 1 (goal ≥ 1.7 on 2 cores) and Dask against the
  local pool (goal within 20 %);
- each executor's overhead per task, from a sweep of empty models (end time 1 s);
- the parent's peak memory after a ``--big``-task sweep on the local pool (goal < 200 MB:
  only metric dictionaries travel back, never time series).

Every executor must return the same numbers; the script checks it.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import experiments as ex  # noqa: E402
from engine.model import Model, load_model  # noqa: E402


def mm1(end_time: float) -> Model:
    model = load_model(ROOT / "resources" / "examples" / "mm1.json")
    model.simulation.end_time = end_time
    model.simulation.warmup = min(100.0, end_time / 10)
    return model


def calibrate(seconds: float) -> float:
    """An end time at which one M/M/1 replication takes about ``seconds`` here."""
    ex.run_task(ex.Task(0, 0, mm1(2000.0), 1))  # warm up (imports, first allocations)
    model = mm1(50_000.0)
    start = time.perf_counter()
    ex.run_task(ex.Task(0, 0, model, 1))
    took = time.perf_counter() - start
    return 50_000.0 * seconds / took


def sweep(end_time: float, tasks: int) -> ex.Experiment:
    points = max(1, tasks // 4)
    values = [round(0.1 + 0.8 * k / max(1, points - 1), 6) for k in range(points)]
    return ex.plan_sweep(mm1(end_time), "arrivals.rate", values, replications=tasks // points, seed=1)


def timed(experiment: ex.Experiment, executor: ex.Executor) -> tuple[float, list[list[dict]]]:
    start = time.perf_counter()
    runs = [p.runs for p in experiment.run(executor)]
    return time.perf_counter() - start, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--task-seconds", type=float, default=0.5)
    parser.add_argument("--big", type=int, default=1000)
    args = parser.parse_args()

    end_time = calibrate(args.task_seconds)
    experiment = sweep(end_time, args.tasks)
    print(f"sweep: {args.tasks} tasks of ~{args.task_seconds:g} s (M/M/1, end time {end_time:,.0f} s)")
    timings = {}
    reference = None
    empty = sweep(1.0, args.tasks)
    overhead = {}
    executors = [
        ("in-process", lambda: ex.InProcessExecutor()),
        ("local pool, 1 process", lambda: ex.ProcessExecutor(1)),
        ("local pool, 2 processes", lambda: ex.ProcessExecutor(2)),
    ]
    try:
        import distributed  # noqa: F401

        executors.append(("Dask LocalCluster, 2 processes", lambda: ex.DaskExecutor("local", 2)))
    except ImportError:
        print("(Dask is not installed: pip install 'queuestudio[dask]' to compare it)")
    for name, make in executors:
        with make() as executor:
            timed(empty, executor)  # warm the workers up (imports, first tasks)
            empty_time, _ = timed(empty, executor)
            overhead[name] = empty_time / args.tasks
            wall, runs = timed(experiment, executor)
        timings[name] = wall
        if reference is None:
            reference = runs
        same = "same numbers" if runs == reference else "DIFFERENT NUMBERS"
        print(f"  {name:<32} {wall:7.2f} s   overhead {overhead[name] * 1000:7.2f} ms/task   {same}")
    one, two = timings["local pool, 1 process"], timings["local pool, 2 processes"]
    print(f"2 local workers vs 1: {one / two:.2f}x faster (goal >= 1.7)")
    if "Dask LocalCluster, 2 processes" in timings:
        dask = timings["Dask LocalCluster, 2 processes"]
        print(f"Dask vs local pool (2 processes each): {dask / two:.2f}x the time (goal <= 1.2)")

    big = sweep(1.0, args.big)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with ex.ProcessExecutor(2) as pool:
        start = time.perf_counter()
        points = big.run(pool)
        wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    count = sum(p.replications for p in points)
    print(
        f"{count} tasks on the local pool in {wall:.1f} s: parent peak memory {peak:.0f} MB (before {before:.0f} MB; goal < 200 MB)"
    )


if __name__ == "__main__":
    main()
