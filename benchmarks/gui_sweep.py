"""GUI responsiveness while a sweep fills its plot (issue 12).

Run: ``python benchmarks/gui_sweep.py [--workers N] [--points 20] [--replications 5]
[--end-time T]`` (offscreen by default; set QT_QPA_PLATFORM to use a display). Reports,
never asserts:

- GUI event-loop latency while a sweep of the bundled M/M/1's arrival rate (``--points``
  values from 0.04 up, ``--replications`` each) runs from the Experiment dock of the full
  main window (1280×800) and its plot fills in point by point: a 10 ms QTimer records how
  late each shot fires; the goal is p99 < 50 ms;
- how many point updates reached the plot, and the sweep's wall time.

``--workers 1`` runs the replications in the sweep's own thread, in this process (the GIL is
shared with the GUI: the harder case); more run them in a pool of spawned processes.
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
os.environ.setdefault("QUEUESTUDIO_HISTORY_DIR", tempfile.mkdtemp(prefix="qs-bench-history-"))

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TICK_MS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--end-time", type=float, default=20000.0)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of idle baseline measured first")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    QCoreApplication.setOrganizationName("QueueStudioBenchmarks")
    from desktop.main_window import MainWindow

    window = MainWindow(recovery_dir=Path(tempfile.mkdtemp(prefix="qs-bench-recovery-")))
    window.open_initial(None)
    window.resize(1280, 800)
    window.show()
    window.document.set_setting("end_time", args.end_time)
    window.document.set_setting("warmup", args.end_time / 20)
    experiments = window.experiments
    assert experiments.sweep("arrivals", "rate")
    panel = experiments.panel
    panel.from_edit.setText("0.04")
    panel.to_edit.setText(f"{0.04 * args.points:.10g}")
    panel.step_edit.setText("0.04")
    panel.reps_box.setValue(args.replications)
    panel.workers_box.setMaximum(max(args.workers, panel.workers_box.maximum()))
    panel.workers_box.setValue(args.workers)
    panel.set_metrics(["mean_response", "p99_response", "utilization"])
    settle = QEventLoop()
    QTimer.singleShot(300, settle.quit)
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
    # Baseline: the same window, idle, for a few seconds (what this machine's load alone costs).
    idle = QEventLoop()
    QTimer.singleShot(round(args.idle * 1000), idle.quit)
    clock.start()
    expected[0] = TICK_MS
    timer.start(TICK_MS)
    idle.exec()
    timer.stop()
    baseline = np.asarray(lateness)
    lateness.clear()
    updates = [0]
    loop = QEventLoop()
    panel.busy_changed.connect(lambda busy: None if busy else loop.quit())
    clock.start()
    expected[0] = TICK_MS
    timer.start(TICK_MS)
    start = time.perf_counter()
    panel.run()
    panel.thread.point_ready.connect(lambda *_: updates.__setitem__(0, updates[0] + 1))
    loop.exec()
    wall = time.perf_counter() - start
    timer.stop()
    late = np.asarray(lateness)
    points = len(panel.plot.points)
    print(
        f"sweep of arrivals.rate: {points} points × {args.replications} replications of {args.end_time:g} s, "
        f"{args.workers} worker(s): {wall:.1f} s wall, {updates[0]} point updates drawn"
    )
    print(
        f"GUI latency over {late.size} timer shots: p50 {np.percentile(late, 50):.1f} ms, "
        f"p99 {np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms (target p99 < 50 ms)"
    )
    print(
        f"idle baseline over {baseline.size} shots: p50 {np.percentile(baseline, 50):.1f} ms, "
        f"p99 {np.percentile(baseline, 99):.1f} ms, max {baseline.max():.1f} ms; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(panel.status_label.text() or panel.error_label.text())
    window.close()
    app.processEvents()


if __name__ == "__main__":
    main()
