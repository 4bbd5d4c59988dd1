"""Experiments on a real Dask cluster: an in-process-started LocalCluster, a scheduler and a
worker started as separate processes with the standard ``dask`` commands, and the errors
a user meets (unreachable scheduler, another Queue Studio version on the workers)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import experiments as ex
from engine.model import Model, load_model

distributed = pytest.importorskip("distributed")

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def mm1(end_time: float = 1500.0) -> Model:
    model = load_model(EXAMPLES / "mm1.json")
    model.simulation.end_time = end_time
    model.simulation.warmup = 100.0
    return model


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """Two worker processes on this machine, one thread each."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
    ) as local:
        yield local


def test_a_sweep_on_a_cluster_gives_the_numbers_of_a_sweep_here(cluster) -> None:  # type: ignore[no-untyped-def]
    experiment = ex.plan_sweep(mm1(), "arrivals.rate", [0.4, 0.6, 0.8], replications=3, seed=21)
    with ex.DaskExecutor(cluster.scheduler_address) as dask:
        assert dask.workers == 2
        seen: list[float] = []
        there = [p.runs for p in experiment.run(dask, progress=seen.append)]
    assert there == [p.runs for p in experiment.run(ex.InProcessExecutor())]
    assert seen[-1] == 1.0 and len(seen) == 9


def test_cancel_on_a_cluster_drops_the_queued_tasks(cluster) -> None:  # type: ignore[no-untyped-def]
    experiment = ex.plan_sweep(mm1(end_time=1e6), "arrivals.rate", [0.5] * 3, replications=4, seed=1)
    calls = {"n": 0}

    def soon() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    with ex.DaskExecutor(cluster.scheduler_address) as dask:
        with pytest.raises(ex.Cancelled):
            experiment.run(dask, cancelled=soon)
        client = dask._client
        deadline = time.monotonic() + 30
        while client.processing() and any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(client.processing().values())  # nothing left running or queued


def test_workers_with_another_queue_studio_version_are_refused(cluster, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # This process pretends to be another release; the workers report the real one.
    monkeypatch.setattr(ex, "queuestudio_version", lambda: "0.0.0-elsewhere")
    with pytest.raises(ex.ExperimentError, match="must run Queue Studio 0.0.0-elsewhere"):
        ex.DaskExecutor(cluster.scheduler_address)


def test_an_unreachable_scheduler_is_a_clear_error_within_seconds() -> None:
    start = time.monotonic()
    with pytest.raises(ex.ExperimentError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        ex.DaskExecutor("tcp://127.0.0.1:9", timeout=2)
    assert time.monotonic() - start < 60  # only catches a hang


def test_local_starts_and_stops_its_own_cluster() -> None:
    experiment = ex.plan_sweep(mm1(end_time=800.0), "arrivals.rate", [0.5], replications=2, seed=4)
    with ex.DaskExecutor("local", workers=1) as dask:
        cluster = dask._cluster
        runs = experiment.run(dask)[0].runs
    assert cluster is not None and cluster.status.name == "closed"
    assert runs == experiment.run()[0].runs


def _dask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]]


def test_a_scheduler_and_a_worker_started_as_separate_processes(tmp_path: Path) -> None:
    """What the README tells a user to run on a cluster, on localhost: ``dask scheduler`` and
    ``dask worker`` as their own processes, then the experiment connects by address."""
    address_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    scheduler = subprocess.Popen(
        _dask_command("scheduler", "--scheduler-file", str(address_file), "--port", "0", "--no-dashboard"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        worker = subprocess.Popen(
            _dask_command(
                "worker", "--scheduler-file", str(address_file), "--nworkers", "1", "--nthreads", "1", "--no-dashboard"
            ),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import json

        address = json.loads(address_file.read_text())["address"]
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(1, timeout=60)
        experiment = ex.plan_sweep(mm1(end_time=800.0), "arrivals.rate", [0.3, 0.7], replications=2, seed=6)
        with ex.DaskExecutor(address) as dask:
            runs = [p.runs for p in experiment.run(dask)]
        assert runs == [p.runs for p in experiment.run()]
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
