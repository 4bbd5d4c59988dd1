"""The simulation worker alone: pacing, commands, the emission cap, errors and Stop."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread, Slot

from desktop.run.batch import RunBatch
from desktop.run.worker import EMIT_INTERVAL, FAST, SimulationWorker, launch
from engine.model import Model, Run


class Harness(QObject):
    """Runs a worker in its thread, records what it reports and acknowledges each batch.

    A QObject living in the GUI thread, so the worker's signals reach it queued, as they
    reach the application's controller.
    """

    def __init__(self, model: Model, **kwargs: object) -> None:
        super().__init__()
        self.worker = SimulationWorker(model, **kwargs)  # type: ignore[arg-type]
        self.batches: list[RunBatch] = []
        self.states: list[str] = []
        self.errors: list[str] = []
        self.rejected: list[str] = []
        self.next_in = 0.0  # what the consumer asks: the next batch not before this many seconds
        self.worker.batch_produced.connect(self._batch)
        self.worker.state_changed.connect(self._state)
        self.worker.run_failed.connect(self._failed)
        self.worker.param_rejected.connect(self._rejected)
        self.thread = launch(self.worker)

    @Slot(object)
    def _batch(self, batch: RunBatch) -> None:
        assert QThread.currentThread() is self.thread_of_gui
        self.batches.append(batch)
        self.worker.batch_consumed(self.next_in)

    @Slot(str)
    def _state(self, state: str) -> None:
        self.states.append(state)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.errors.append(message)

    @Slot(str)
    def _rejected(self, message: str) -> None:
        self.rejected.append(message)

    @property
    def thread_of_gui(self) -> QThread:
        return QCoreApplication.instance().thread()

    @property
    def last(self) -> RunBatch:
        return self.batches[-1]


@pytest.fixture
def harness() -> Iterator:  # type: ignore[no-untyped-def]
    made: list[Harness] = []

    def make(model: Model, **kwargs: object) -> Harness:
        made.append(Harness(model, **kwargs))
        return made[-1]

    yield make
    for h in made:
        h.worker.stop()
        assert h.thread.wait(2000)


def test_batches_come_at_most_about_30_times_a_second_at_full_speed(qtbot, harness, example) -> None:
    h = harness(example("mm1", end_time=1e9, sample_interval=0.5))
    qtbot.waitUntil(lambda: len(h.batches) >= 12, timeout=5000)
    gaps = np.diff([b.emitted_at for b in h.batches])
    assert gaps.min() >= EMIT_INTERVAL * 0.999
    assert h.last.events_processed > 10_000


def test_the_consumer_paces_batches_but_a_command_is_answered_at_once(qtbot, harness, example) -> None:
    h = harness(example("mm1", end_time=1e9))
    h.next_in = 0.4
    qtbot.waitUntil(lambda: len(h.batches) >= 3, timeout=5000)
    gaps = np.diff([b.emitted_at for b in h.batches])
    assert gaps.min() >= 0.4
    asked = time.perf_counter()
    h.worker.pause()
    qtbot.waitUntil(lambda: h.last.state == "paused", timeout=5000)
    assert h.last.emitted_at - asked < 0.3


def test_checkpoints_come_between_batches_and_match_the_final_results(qtbot, harness, example) -> None:
    h = harness(example("mm1", end_time=400_000.0))
    h.next_in = 0.3  # few batches, as when the GUI draws seldom
    qtbot.waitUntil(lambda: bool(h.batches) and h.last.state == "finished", timeout=30_000)
    checkpoints = [c for b in h.batches for c in b.checkpoints]
    times = [c.time for c in checkpoints]
    assert times == sorted(set(times))
    assert len(checkpoints) > 2 * len(h.batches)
    final, results = checkpoints[-1], h.last.results["cpu"]
    assert final.time == h.last.now
    completed, response_sum, started, wait_sum = final.totals["cpu"]
    assert completed == results["completed"]
    assert response_sum / completed == pytest.approx(results["mean_response"])
    assert wait_sum / started == pytest.approx(results["mean_wait"])


def test_batches_are_immutable(qtbot, harness, example) -> None:
    h = harness(example("mm1", end_time=1e9))
    qtbot.waitUntil(lambda: any(b.times.size for b in h.batches), timeout=5000)
    batch = next(b for b in h.batches if b.times.size)
    with pytest.raises(ValueError):
        batch.series["cpu"]["queue_length"][0] = 1.0
    with pytest.raises(TypeError):
        batch.results["cpu"]["completed"] = 0  # type: ignore[index]
    with pytest.raises(AttributeError):
        batch.now = 0.0  # type: ignore[misc]


def test_stop_is_honoured_within_100_ms_at_full_speed(qtbot, harness, example) -> None:
    h = harness(example("mm1", end_time=1e9))
    qtbot.waitUntil(lambda: len(h.batches) >= 3, timeout=5000)
    start = time.perf_counter()
    h.worker.stop()
    assert h.thread.wait(100)
    assert time.perf_counter() - start < 0.1


def test_paced_run_keeps_the_speed_factor(qtbot, harness, example) -> None:
    h = harness(example("mm1", end_time=1e9), speed=50.0)
    qtbot.waitUntil(lambda: len(h.batches) >= 2, timeout=5000)
    first = h.batches[-1]
    qtbot.waitUntil(lambda: h.last.emitted_at - first.emitted_at > 0.4, timeout=5000)
    rate = (h.last.now - first.now) / (h.last.emitted_at - first.emitted_at)
    assert 35.0 < rate < 65.0


def test_step_processes_exactly_one_event_and_says_what_it_was(qtbot, harness, example) -> None:
    h = harness(example("mm1", end_time=1e9), paused=True)
    qtbot.waitUntil(lambda: bool(h.batches), timeout=5000)
    before = h.last.events_processed
    h.worker.step()
    qtbot.waitUntil(lambda: bool(h.last.stepped), timeout=5000)
    assert h.last.events_processed == before + 1
    assert len(h.last.stepped) == 1
    assert h.last.stepped[0].startswith("t = ") and "arrivals generated a request" in h.last.stepped[0]
    assert h.last.state == "paused"


def test_a_live_rate_change_is_applied_from_that_instant(qtbot, harness, example) -> None:
    h = harness(example("mm1", end_time=1e9), speed=FAST)
    qtbot.waitUntil(lambda: h.last.now > 2000 if h.batches else False, timeout=5000)
    h.worker.set_param("arrivals", "rate", 0.2)
    qtbot.waitUntil(lambda: any(b.changes for b in h.batches), timeout=5000)
    change = next(b for b in h.batches if b.changes).changes[0]
    assert (change.node_id, change.name, change.value) == ("arrivals", "rate", 0.2)
    qtbot.waitUntil(lambda: h.last.now > change.time + 20_000, timeout=5000)
    times = np.concatenate([b.times for b in h.batches])
    served = np.concatenate([b.series["cpu"]["throughput"] for b in h.batches])
    before = served[(times > 500) & (times <= change.time)]
    after = served[times > change.time + 500]
    assert before.mean() == pytest.approx(0.8, rel=0.1)
    assert after.mean() == pytest.approx(0.2, rel=0.1)


def test_a_change_the_engine_refuses_is_reported_and_the_run_goes_on(qtbot, harness, example) -> None:
    h = harness(example("mm1", end_time=1e9))
    h.worker.set_param("cpu", "queue_policy", "lifo")
    qtbot.waitUntil(lambda: bool(h.rejected), timeout=5000)
    assert "cpu" in h.rejected[0]
    assert not h.errors and h.thread.isRunning()


def test_a_model_that_fails_to_build_is_reported(qtbot, harness, example) -> None:
    model = example("mm1")
    model.simulation.warmup = model.simulation.end_time
    h = harness(model)
    qtbot.waitUntil(lambda: bool(h.errors), timeout=5000)
    assert "warmup" in h.errors[0]
    assert h.thread.wait(1000)


def test_an_exception_in_the_engine_is_reported(qtbot, harness, example, monkeypatch) -> None:
    def broken(self: Run, t: float) -> None:
        raise RuntimeError("engine broke")

    monkeypatch.setattr(Run, "run_until", broken)
    h = harness(example("mm1"))
    qtbot.waitUntil(lambda: bool(h.errors), timeout=5000)
    assert h.errors == ["RuntimeError: engine broke"]


def test_the_final_batch_has_the_results_at_the_end_time(qtbot, harness, example) -> None:
    h = harness(example("mm1", end_time=3000))
    qtbot.waitUntil(lambda: "finished" in h.states, timeout=5000)
    assert h.last.state == "finished" and h.last.now == 3000
    assert h.last.results_time == 3000 and h.last.results["done"]["count"] > 1000
    assert sum(b.times.size for b in h.batches) == 300  # every 10 s sample, none lost
