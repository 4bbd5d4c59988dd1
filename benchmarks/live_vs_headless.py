"""Live run in the GUI against the headless engine, on the same model, as fast as possible.

Run: ``python benchmarks/live_vs_headless.py [MODEL.json] [--end-time T] [--rounds R]``
(offscreen by default; set QT_QPA_PLATFORM to use a display). Reports, never asserts:

- simulation throughput (events per wall second) headless — ``build(series=True)`` then one
  ``run_until(end)``, as the CLI with ``--csv`` does — and live in a window with the canvas,
  dashboard and theory panel installed; the goal is live >= 80 % of headless;
- GUI event-loop latency during the live run: a 10 ms QTimer records how late each shot
  fires; the goal is p99 < 50 ms;
- the worker's simulating share: the fraction of the live run's wall time the worker spent
  inside ``Run.run_until``. Unlike the ratio of two runs, it does not depend on this
  machine's speed drifting between them (±15 % here), so it is the steadier figure; the
  rest is the time the worker held off while the GUI drew, and building batches.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QGraphicsView, QMainWindow  # noqa: E402

from desktop.canvas.scene import CanvasScene  # noqa: E402
from desktop.document import ModelDocument  # noqa: E402
from desktop.run import worker as worker_module  # noqa: E402
from desktop.run.integration import install_live_run  # noqa: E402
from engine.model import Model, build, load_model  # noqa: E402

TICK_MS = 10


def headless(model: Model) -> float:
    """Events per wall second of one headless run."""
    run = build(model, series=True)
    start = time.perf_counter()
    run.run_until(run.end_time)
    return run.sim.events_processed / (time.perf_counter() - start)


class SliceClock:
    """Adds up the wall time the worker spends in its slices (``SimulationWorker._slice``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        original = worker_module.SimulationWorker._slice

        def timed(worker: worker_module.SimulationWorker, run: object) -> None:
            start = time.perf_counter()
            original(worker, run)  # type: ignore[arg-type]
            self.seconds += time.perf_counter() - start

        worker_module.SimulationWorker._slice = timed  # type: ignore[method-assign]


SLICES = SliceClock()


def live(model: Model) -> tuple[float, np.ndarray, int, float]:
    """(events per wall second, timer lateness in ms, batches received, simulating share) of one live run."""
    window = QMainWindow()
    window.document = ModelDocument(model.copy(), parent=window)  # type: ignore[attr-defined]
    scene = CanvasScene(window.document)  # type: ignore[attr-defined]
    window.setCentralWidget(QGraphicsView(scene))
    controller = install_live_run(window, window.document, scene)  # type: ignore[attr-defined]
    window.resize(1400, 900)
    window.show()
    settle = QEventLoop()
    QTimer.singleShot(300, settle.quit)  # first layout and paint of the window are not part of the run
    settle.exec()
    lateness: list[float] = []
    clock = QElapsedTimer()
    expected = [0.0]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        lateness.append(max(0.0, now - expected[0]))
        expected[0] = now + TICK_MS

    timer = QTimer()
    timer.setTimerType(timer.timerType().PreciseTimer)
    timer.timeout.connect(tick)
    batches = [0]
    controller.batch_received.connect(lambda _b: batches.__setitem__(0, batches[0] + 1))
    loop = QEventLoop()
    controller.state_changed.connect(lambda s: loop.quit() if s in ("finished", "failed", "stopped") else None)
    clock.start()
    expected[0] = TICK_MS
    timer.start(TICK_MS)
    SLICES.seconds = 0.0
    start = time.perf_counter()
    controller.run()
    loop.exec()
    wall = time.perf_counter() - start
    share = SLICES.seconds / wall
    timer.stop()
    events = controller.last_batch.events_processed if controller.last_batch else 0
    controller.shutdown()
    window.close()
    window.deleteLater()
    return events / wall, np.asarray(lateness), batches[0], share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(ROOT / "resources/examples/mm1.json"))
    parser.add_argument("--end-time", type=float, default=1_000_000.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    model = load_model(args.model)
    model.simulation.end_time = args.end_time
    print(
        f"model {model.name!r}, end time {args.end_time:g} s, platform {app.platformName()}, "
        f"{args.rounds} rounds, headless and live interleaved"
    )
    heads, lives, lates, shares = [], [], [], []
    for r in range(args.rounds):
        heads.append(headless(model))
        rate, late, batches, share = live(model)
        lives.append(rate)
        lates.append(late)
        shares.append(share)
        print(
            f"  round {r + 1}: headless {heads[-1]:,.0f} ev/s, live {rate:,.0f} ev/s "
            f"({rate / heads[-1]:.0%}), simulating {share:.0%} of the time, {batches} batches, "
            f"timer p99 late {np.percentile(late, 99):.1f} ms"
        )
    late = np.concatenate(lates)
    ratios = np.array(lives) / np.array(heads)
    print(
        f"throughput: headless median {np.median(heads):,.0f} ev/s, live median {np.median(lives):,.0f} ev/s, "
        f"ratio of medians {np.median(lives) / np.median(heads):.0%} (target >= 80%); per round: median "
        f"{np.median(ratios):.0%}, range {ratios.min():.0%}–{ratios.max():.0%} (this machine's speed drifts "
        "by ±15 % between runs, so read the medians)"
    )
    print(
        f"worker simulating share of the live wall time: median {np.median(shares):.0%}, "
        f"range {min(shares):.0%}–{max(shares):.0%}"
    )
    print(
        f"GUI latency over {late.size} timer shots: p50 {np.percentile(late, 50):.1f} ms, "
        f"p99 {np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms (target p99 < 50 ms)"
    )


if __name__ == "__main__":
    main()
