"""A ghost run's live speed against a plain live run, at max speed, in the main window.

Run: ``python benchmarks/ghost_speed.py [MODEL.json] [--seconds S] [--rounds R]``
(offscreen by default; set QT_QPA_PLATFORM to use a display). Reports, never asserts.

Each round runs scenario A live for ``S`` wall seconds (after a settling second) as fast as
possible, then a ghost run of A with B (A with its first source's rate × 0.9) for as long,
in the same window with every view installed, and compares the simulated seconds each
advanced per wall second. The goal is ghost >= 40 % of plain: a ghost run simulates two
models in one worker, so about 50 % is what doubling the work allows. Rounds interleave the
two, since this machine's speed drifts between runs; read the median. Then the worker alone
(no window, every batch acknowledged at once) runs A over the same simulated span with and
without the ghost, the steadier figure of what the ghost itself costs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.commands import SetParams  # noqa: E402
from desktop.main_window import MainWindow  # noqa: E402
from desktop.run.ghost import GhostWorker  # noqa: E402
from desktop.run.worker import SimulationWorker  # noqa: E402
from engine.model import Model  # noqa: E402


def wait(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def pace(window: MainWindow, start: object, seconds: float) -> float:
    """Start a run with ``start()``, let it settle for a second, then measure the simulated
    seconds per wall second over ``seconds``; the run is stopped after."""
    live = window.live_run
    start()  # type: ignore[operator]
    wait(1.0)
    t0, s0 = time.perf_counter(), live.simulated_time or 0.0
    wait(seconds)
    t1, s1 = time.perf_counter(), live.simulated_time or 0.0
    live.stop()
    live.shutdown()
    return (s1 - s0) / (t1 - t0)


def worker_only(a: Model, b: Model | None, span: float) -> float:
    """Wall seconds the worker alone (no window; each batch acknowledged at once) takes to
    run ``a`` over ``span`` simulated seconds as fast as possible, with ``b`` as its ghost."""
    model = a.copy()
    model.simulation.end_time = span
    worker = SimulationWorker(model) if b is None else GhostWorker(model, b)
    worker.batch_produced.connect(lambda _batch: worker.batch_consumed(), Qt.ConnectionType.DirectConnection)
    start = time.perf_counter()
    worker.work()  # in this thread, until the end time
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(ROOT / "resources/examples/mm1.json"))
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    window = MainWindow(recovery_dir=Path(tempfile.mkdtemp()))
    window.open_path(args.model, as_example=True)
    doc = window.document
    doc.set_setting("end_time", 1e9)  # never reached: each run is stopped after the measure
    window.resize(1280, 800)
    window.show()
    wait(0.3)
    window.compare.scenarios.fork()
    source = next(n for n in doc.model.nodes if n.kind == "source")
    rate = float(source.params.get("rate", 1.0))
    doc.undo_stack.push(SetParams(doc, source.id, {"rate": rate * 0.9}))
    window.compare.scenarios.show("A")
    window.live_run.set_speed(float("inf"))
    print(f"model {args.model}, {args.seconds:g} s per run, platform {app.platformName()}, B: {source.id}.rate × 0.9")
    ratios = []
    for r in range(args.rounds):
        plain = pace(window, window.live_run.run, args.seconds)
        ghost = pace(window, window.compare.ghost_run, args.seconds)
        ratios.append(ghost / plain)
        print(f"  round {r + 1}: plain {plain:,.0f} sim s/s, ghost {ghost:,.0f} sim s/s, ratio {ghost / plain:.0%}")
    print(
        f"ghost / plain live speed: median {np.median(ratios):.0%}, range {min(ratios):.0%}–{max(ratios):.0%} "
        "(target >= 40 %)"
    )
    a, b = window.compare.scenarios.model_a, window.compare.scenarios.model_b
    assert b is not None
    span = 200 * float(a.simulation.sample_interval) * 100
    worker_ratios = []
    for _ in range(args.rounds):
        plain_s, ghost_s = worker_only(a, None, span), worker_only(a, b, span)
        worker_ratios.append(plain_s / ghost_s)
    print(
        f"the worker alone over {span:g} simulated s ({args.rounds} rounds): ghost / plain speed median "
        f"{np.median(worker_ratios):.0%}, range {min(worker_ratios):.0%}–{max(worker_ratios):.0%}"
    )
    window.compare.scenarios.save_b_as(window, str(Path(tempfile.mkdtemp()) / "b.json"))
    doc.undo_stack.setClean()  # nothing to ask about on close
    window.close()


if __name__ == "__main__":
    main()
